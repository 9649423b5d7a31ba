/*
 * Loads the real guest kernel (Debian's bzImage from tests/guest/mkguest.sh)
 * with hw/linuxboot.c and checks the result against the file itself:
 *
 *   build/<cc>/tests/guest/loadcheck [vmlinuz [initramfs]]
 *
 * `make check-linuxboot-real` fetches the guest first (make guest) and
 * passes the paths tests/guest/mkguest.sh prints.  A kernel or initramfs
 * that is not there is a FAIL (the check cannot reach its subject; a
 * SKIP would let a broken guest build pass).  Exits 1 on a failed check,
 * naming it.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/machine.h"
#include "core/util.h"
#include "hw/pc/e820.h"
#include "hw/pc/linuxboot.h"

#define MiB (1ULL << 20)

static int failures;

#define CHECK(cond, ...) do { \
        if (!(cond)) { \
            fprintf(stderr, "loadcheck: FAIL %s: ", #cond); \
            fprintf(stderr, __VA_ARGS__); \
            fputc('\n', stderr); \
            failures++; \
        } \
    } while (0)

static Machine *pc_machine(uint64_t ram)
{
    char err[256];
    Machine *m = machine_new(ram, CLOCK_MANUAL, err, sizeof(err));
    if (!m) {
        fprintf(stderr, "loadcheck: %s\n", err);
        exit(1);
    }
    memmap_add_ram(m->mem, "ram", 0, e820_pc_low_ram(ram), m->ram, NULL);
    return m;
}

static uint32_t le32(const uint8_t *p)
{
    return p[0] | p[1] << 8 | p[2] << 16 | (uint32_t)p[3] << 24;
}

int main(int argc, char **argv)
{
    const char *kernel = argc > 1 ? argv[1] : ".cache/guest/vmlinuz";
    const char *initrd = argc > 2 ? argv[2] : ".cache/guest/initramfs.cpio.gz";
    if (access(kernel, R_OK) != 0 || access(initrd, R_OK) != 0) {
        printf("loadcheck: FAIL: no %s or %s (make guest fetches them)\n", kernel, initrd);
        return 1;
    }
    char err[512];
    size_t klen, ilen;
    uint8_t *kdata = read_file(kernel, &klen, err, sizeof(err));
    uint8_t *idata = read_file(initrd, &ilen, err, sizeof(err));
    if (!kdata || !idata) {
        fprintf(stderr, "loadcheck: %s\n", err);
        return 1;
    }

    Machine *m = pc_machine(512 * MiB);
    LinuxBootEntry e;
    const char *cmd = "console=ttyS0";
    int r = linuxboot_load(m, kernel, initrd, cmd, NULL, &e, err, sizeof(err));
    CHECK(r == 0, "%s", err);
    if (r == 0) {
        size_t setup = ((size_t)(kdata[0x1f1] ? kdata[0x1f1] : 4) + 1) * 512;
        const uint8_t *k = memmap_host_ptr(m->mem, e.kernel_addr, e.kernel_size, false);
        CHECK(k && e.kernel_size <= klen - setup &&
              !memcmp(k, kdata + setup, e.kernel_size), "kernel bytes differ at 1 MiB");
        CHECK(e.mode == LINUXBOOT_MODE_64, "mode %d", e.mode);
        CHECK(e.rip == 0x100200, "rip 0x%llx", (unsigned long long)e.rip);
        CHECK(e.protocol >= 0x20c, "protocol 0x%x", e.protocol);
        const uint8_t *bp = memmap_host_ptr(m->mem, e.rsi, 4096, false);
        CHECK(bp && !memcmp(bp + 0x202, "HdrS", 4), "boot_params header");
        CHECK(bp && le32(bp + 0x218) == e.initrd_addr && le32(bp + 0x21c) == ilen,
              "ramdisk fields");
        const uint8_t *i = memmap_host_ptr(m->mem, e.initrd_addr, ilen, false);
        CHECK(i && !memcmp(i, idata, ilen), "initrd bytes");
        CHECK(e.initrd_addr % 4096 == 0 && e.initrd_addr >= e.runtime_end &&
              e.initrd_addr + ilen <= 512 * MiB, "initrd at 0x%llx",
              (unsigned long long)e.initrd_addr);
        printf("loadcheck: %s protocol %u.%02u, %zu KiB kernel at 0x%llx, entry 0x%llx "
               "(%d-bit), decompresses below 0x%llx, initrd %zu KiB at 0x%llx\n",
               kernel, e.protocol >> 8, e.protocol & 0xff, (size_t)(e.kernel_size >> 10),
               (unsigned long long)e.kernel_addr, (unsigned long long)e.rip, e.mode,
               (unsigned long long)e.runtime_end, ilen >> 10,
               (unsigned long long)e.initrd_addr);
    }
    machine_free(m);

    /* Too little RAM for this kernel: one clear line. */
    m = pc_machine(32 * MiB);
    r = linuxboot_load(m, kernel, NULL, cmd, NULL, &e, err, sizeof(err));
    CHECK(r == -1 && strstr(err, "-kernel: kernel needs ") && strstr(err, "guest RAM is 32 MiB"),
          "%s", r == 0 ? "loaded into 32 MiB" : err);
    if (r == -1)
        printf("loadcheck: with -m 32: %s\n", err);
    machine_free(m);

    free(kdata);
    free(idata);
    if (failures)
        return 1;
    printf("loadcheck: OK\n");
    return 0;
}
