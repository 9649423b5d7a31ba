/*
 * Cross-checks hw/linuxboot.c against a real kernel without vx86's CPU:
 * loads kernel + initrd into a vx86 Machine, then writes what landed in
 * guest RAM as raw pieces QEMU can load (-device loader), plus the test
 * firmware (tests/guest/stub64.S) with vx86's MP table patched in, and
 * prints the QEMU arguments.  If QEMU then boots the kernel to a shell,
 * boot_params, the e820 map, the page tables, the GDT and the MP table
 * are all good enough for Linux.
 *
 *   qemuboot KERNEL INITRD CMDLINE NCPUS RAM_MIB FIRMWARE OUTDIR
 *
 * Used by `make check-linuxboot-qemu` (tests/guest/guest.mk).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/machine.h"
#include "core/util.h"
#include "hw/pc/e820.h"
#include "hw/pc/linuxboot.h"
#include "hw/pc/mptable.h"

#define FW_SIZE 0x20000
#define FW_MPTABLE_OFFSET 0x10000   /* the firmware's copy at 0xe0000 + this */
#define MPTABLE_ADDR 0xf0000

static int write_piece(Machine *m, const char *dir, const char *name,
                       uint64_t addr, uint64_t len)
{
    char path[4096];
    snprintf(path, sizeof(path), "%s/%s", dir, name);
    const uint8_t *p = memmap_host_ptr(m->mem, addr, len, false);
    FILE *f = fopen(path, "wb");
    if (!p || !f || fwrite(p, 1, len, f) != len || fclose(f) != 0) {
        fprintf(stderr, "qemuboot: cannot write %s\n", path);
        return -1;
    }
    printf("-device loader,file=%s,addr=0x%llx,force-raw=on ", path,
           (unsigned long long)addr);
    return 0;
}

static int write_firmware(const char *stub, const char *dir, int ncpus)
{
    char err[512], path[4096];
    size_t len;
    uint8_t *fw = read_file(stub, &len, err, sizeof(err));
    if (!fw || len != FW_SIZE) {
        fprintf(stderr, "qemuboot: %s\n", fw ? "firmware is not 128 KiB" : err);
        return -1;
    }
    size_t n = mptable_build(fw + FW_MPTABLE_OFFSET, 0x1000, MPTABLE_ADDR, ncpus, NULL);
    snprintf(path, sizeof(path), "%s/firmware.bin", dir);
    FILE *f = fopen(path, "wb");
    if (!n || !f || fwrite(fw, 1, len, f) != len || fclose(f) != 0) {
        fprintf(stderr, "qemuboot: cannot build %s\n", path);
        return -1;
    }
    free(fw);
    printf("-bios %s ", path);
    return 0;
}

int main(int argc, char **argv)
{
    if (argc != 8) {
        fprintf(stderr, "usage: qemuboot KERNEL INITRD CMDLINE NCPUS RAM_MIB FIRMWARE OUTDIR\n");
        return 2;
    }
    int ncpus = atoi(argv[4]);
    uint64_t ram = strtoull(argv[5], NULL, 0) << 20;
    char err[512];
    Machine *m = machine_new(ram, CLOCK_MANUAL, err, sizeof(err));
    if (!m || ram > E820_PC_PCI_HOLE) {
        fprintf(stderr, "qemuboot: %s\n", m ? "use at most 3072 MiB" : err);
        return 1;
    }
    memmap_add_ram(m->mem, "ram", 0, ram, m->ram, NULL);
    E820Map map;
    e820_build_pc(&map, ram);
    LinuxBootEntry e;
    if (linuxboot_load(m, argv[1], argv[2], argv[3], &map, &e, err, sizeof(err)) < 0) {
        fprintf(stderr, "qemuboot: %s\n", err);
        return 1;
    }
    if (e.mode != LINUXBOOT_MODE_64) {
        fprintf(stderr, "qemuboot: the test firmware only does the 64-bit entry\n");
        return 1;
    }
    /* Conventional memory below the EBDA (BDA, GDT, boot_params, page
     * tables, command line), the kernel, the initrd. */
    if (write_piece(m, argv[7], "low.bin", 0, E820_PC_EBDA_START) < 0 ||
        write_piece(m, argv[7], "kernel.bin", e.kernel_addr, e.kernel_size) < 0 ||
        write_piece(m, argv[7], "initrd.bin", e.initrd_addr, e.initrd_size) < 0 ||
        write_firmware(argv[6], argv[7], ncpus) < 0)
        return 1;
    printf("-m %llu -smp %d\n", (unsigned long long)(ram >> 20), ncpus);
    machine_free(m);
    return 0;
}
