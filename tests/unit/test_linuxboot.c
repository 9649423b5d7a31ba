/*
 * Direct Linux boot (hw/linuxboot.c), the e820 map (hw/e820.c) and the MP
 * table (hw/mptable.c).  Kernels here are synthetic bzImages: a setup area
 * with a setup header at the offsets boot.rst gives, then a recognisable
 * byte pattern as the "protected-mode kernel".  The real Debian kernel is
 * checked by tests/guest/loadcheck.c (make check-linuxboot-real).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/machine.h"
#include "core/memory.h"
#include "hw/pc/e820.h"
#include "hw/pc/linuxboot.h"
#include "hw/pc/mptable.h"
#include "tests/unit/unit.h"

#define MiB (1ULL << 20)
#define GiB (1ULL << 30)

#define SETUP_SECTS 4
#define SETUP_BYTES ((SETUP_SECTS + 1) * 512)
#define PAYLOAD_BYTES (64 * 1024)
#define INIT_SIZE (16 * MiB)
#define PREF_ADDRESS (16 * MiB)

static void wr16(uint8_t *p, uint16_t v) { p[0] = (uint8_t)v; p[1] = (uint8_t)(v >> 8); }
static void wr32(uint8_t *p, uint32_t v) { wr16(p, (uint16_t)v); wr16(p + 2, (uint16_t)(v >> 16)); }
static void wr64(uint8_t *p, uint64_t v) { wr32(p, (uint32_t)v); wr32(p + 4, (uint32_t)(v >> 32)); }
static uint16_t rd16(const uint8_t *p) { return (uint16_t)(p[0] | p[1] << 8); }
static uint32_t rd32(const uint8_t *p) { return rd16(p) | (uint32_t)rd16(p + 2) << 16; }
static uint64_t rd64(const uint8_t *p) { return rd32(p) | (uint64_t)rd32(p + 4) << 32; }

static uint8_t payload_byte(size_t i)
{
    return (uint8_t)(i * 7 + 3);
}

/* A bzImage as `make bzImage` lays it out, protocol `version`. */
static uint8_t *fake_bzimage(size_t *len, uint16_t version, uint16_t xloadflags)
{
    *len = SETUP_BYTES + PAYLOAD_BYTES;
    uint8_t *d = calloc(1, *len);
    d[0x1f1] = SETUP_SECTS;
    wr32(d + 0x1f4, PAYLOAD_BYTES / 16);        /* syssize */
    wr16(d + 0x1fa, 0xfffd);                    /* vid_mode "ask", must be overridden */
    wr16(d + 0x1fe, 0xaa55);
    d[0x200] = 0xeb;                            /* jmp short */
    d[0x201] = 0x6a;                            /* header ends at 0x26c (2.15) */
    memcpy(d + 0x202, "HdrS", 4);
    wr16(d + 0x206, version);
    d[0x211] = 0x01;                            /* LOADED_HIGH */
    wr32(d + 0x214, 0x100000);
    wr32(d + 0x22c, 0x7fffffff);                /* initrd_addr_max */
    wr32(d + 0x230, 0x200000);                  /* kernel_alignment */
    d[0x234] = 1;                               /* relocatable */
    d[0x235] = 21;
    wr16(d + 0x236, xloadflags);
    wr32(d + 0x238, 2047);                      /* cmdline_size */
    wr32(d + 0x248, 0x100);                     /* payload_offset */
    wr32(d + 0x24c, PAYLOAD_BYTES - 0x200);     /* payload_length */
    wr64(d + 0x258, PREF_ADDRESS);
    wr32(d + 0x260, INIT_SIZE);
    for (size_t i = 0; i < PAYLOAD_BYTES; i++)
        d[SETUP_BYTES + i] = payload_byte(i);
    return d;
}

static uint8_t *fake_bzimage64(size_t *len)
{
    return fake_bzimage(len, 0x20f, 0x0003);    /* XLF_KERNEL_64 | CAN_BE_LOADED_ABOVE_4G */
}

/* A machine with RAM in its memory map the way the PC board lays it out. */
static Machine *test_machine(uint64_t ram)
{
    char err[256];
    Machine *m = machine_new(ram, CLOCK_MANUAL, err, sizeof(err));
    ck_assert_msg(m != NULL, "%s", err);
    uint64_t low = e820_pc_low_ram(ram), high = e820_pc_high_ram(ram);
    ck_assert_ptr_nonnull(memmap_add_ram(m->mem, "ram", 0, low, m->ram, NULL));
    if (high)
        ck_assert_ptr_nonnull(memmap_add_ram(m->mem, "ram-high", 4 * GiB, high,
                                             m->ram + low, NULL));
    return m;
}

static int load(Machine *m, const uint8_t *img, size_t len, const uint8_t *initrd,
                size_t initrd_len, const char *cmdline, LinuxBootEntry *e,
                char *err, size_t errlen)
{
    err[0] = 0;
    return linuxboot_load_image(m, img, len, "bzImage", initrd, initrd_len, "initrd.img",
                                cmdline, NULL, e, err, errlen);
}

static uint64_t guest64(Machine *m, uint64_t addr)
{
    return memmap_read(m->mem, addr, 8);
}

static uint8_t *boot_params(Machine *m)
{
    return memmap_host_ptr(m->mem, LINUXBOOT_BOOT_PARAMS, 4096, false);
}

/* Loads img and expects failure with `needle` in the message. */
static void expect_refused(const uint8_t *img, size_t len, const char *needle)
{
    Machine *m = test_machine(256 * MiB);
    LinuxBootEntry e;
    char err[512];
    ck_assert_int_eq(load(m, img, len, NULL, 0, "", &e, err, sizeof(err)), -1);
    ck_assert_msg(strstr(err, needle), "error \"%s\" lacks \"%s\"", err, needle);
    ck_assert_ptr_null(strchr(err, '\n'));
    /* Nothing may be written before the checks pass. */
    ck_assert_uint_eq(guest64(m, LINUXBOOT_KERNEL_ADDR), 0);
    machine_free(m);
}

/* ---- loading ---- */

START_TEST(kernel_bytes_at_1mib)
{
    size_t len;
    uint8_t *img = fake_bzimage64(&len);
    Machine *m = test_machine(256 * MiB);
    LinuxBootEntry e;
    char err[512];
    ck_assert_int_eq(load(m, img, len, NULL, 0, "console=ttyS0", &e, err, sizeof(err)), 0);
    const uint8_t *k = memmap_host_ptr(m->mem, 0x100000, PAYLOAD_BYTES, false);
    ck_assert_ptr_nonnull(k);
    for (size_t i = 0; i < PAYLOAD_BYTES; i++)
        ck_assert_uint_eq(k[i], payload_byte(i));
    ck_assert_uint_eq(e.kernel_addr, 0x100000);
    ck_assert_uint_eq(e.kernel_size, PAYLOAD_BYTES);
    /* The setup sectors are not loaded at 1 MiB: the byte after the
     * payload is still zero. */
    ck_assert_uint_eq(memmap_read(m->mem, 0x100000 + PAYLOAD_BYTES, 1), 0);
    machine_free(m);
    free(img);
}
END_TEST

START_TEST(zero_setup_sects_means_four)
{
    size_t len;
    uint8_t *img = fake_bzimage64(&len);
    img[0x1f1] = 0;          /* same 4 sectors, spelled the legacy way */
    Machine *m = test_machine(256 * MiB);
    LinuxBootEntry e;
    char err[512];
    ck_assert_int_eq(load(m, img, len, NULL, 0, "", &e, err, sizeof(err)), 0);
    ck_assert_uint_eq(memmap_read(m->mem, 0x100000, 1), payload_byte(0));
    ck_assert_uint_eq(memmap_read(m->mem, 0x100001, 1), payload_byte(1));
    machine_free(m);
    free(img);
}
END_TEST

START_TEST(boot_params_header_fields)
{
    size_t len;
    uint8_t *img = fake_bzimage64(&len);
    Machine *m = test_machine(256 * MiB);
    LinuxBootEntry e;
    char err[512];
    const char *cmd = "console=ttyS0 root=/dev/ram0 quiet";
    ck_assert_int_eq(load(m, img, len, NULL, 0, cmd, &e, err, sizeof(err)), 0);
    const uint8_t *bp = boot_params(m);
    ck_assert_ptr_nonnull(bp);
    ck_assert_mem_eq(bp + 0x202, "HdrS", 4);            /* header copied */
    ck_assert_uint_eq(rd16(bp + 0x206), 0x20f);
    ck_assert_uint_eq(rd32(bp + 0x238), 2047);          /* cmdline_size kept */
    ck_assert_uint_eq(bp[0x210], 0xff);                 /* type_of_loader */
    ck_assert_uint_eq(rd16(bp + 0x1fa), 0xffff);        /* vid_mode: normal */
    ck_assert_uint_eq(bp[0x211] & 0x81, 0x81);          /* LOADED_HIGH | CAN_USE_HEAP */
    ck_assert_uint_ne(rd16(bp + 0x224), 0);             /* heap_end_ptr */
    ck_assert_uint_eq(bp[0x1ef], 0);                    /* sentinel */
    ck_assert_uint_eq(rd32(bp + 0x218), 0);             /* no initrd */
    ck_assert_uint_eq(rd32(bp + 0x21c), 0);
    uint32_t cmd_ptr = rd32(bp + 0x228);
    const char *guest_cmd = (const char *)memmap_host_ptr(m->mem, cmd_ptr, strlen(cmd) + 1, false);
    ck_assert_ptr_nonnull(guest_cmd);
    ck_assert_str_eq(guest_cmd, cmd);
    ck_assert_uint_eq(bp[0x00f], 1);                    /* orig_video_isVGA */
    ck_assert_uint_eq(bp[0x007], 80);                   /* 80 columns */
    ck_assert_uint_eq(bp[0x00e], 25);                   /* 25 lines */
    ck_assert_uint_eq(rd64(bp + 0x070), 0);             /* acpi_rsdp_addr */
    machine_free(m);
    free(img);
}
END_TEST

START_TEST(boot_params_e820_table)
{
    size_t len;
    uint8_t *img = fake_bzimage64(&len);
    Machine *m = test_machine(256 * MiB);
    LinuxBootEntry e;
    char err[512];
    ck_assert_int_eq(load(m, img, len, NULL, 0, "", &e, err, sizeof(err)), 0);
    const uint8_t *bp = boot_params(m);
    E820Map map;
    e820_build_pc(&map, 256 * MiB);
    ck_assert_int_eq(bp[0x1e8], map.n);
    ck_assert_int_ge(bp[0x1e8], 4);
    const uint8_t *t = bp + 0x2d0;
    ck_assert_uint_eq(rd64(t), 0);                      /* first: conventional RAM */
    ck_assert_uint_eq(rd64(t + 8), 0x9fc00);
    ck_assert_uint_eq(rd32(t + 16), 1);
    /* Some entry is the RAM above 1 MiB up to the top of RAM. */
    bool found = false;
    for (int i = 0; i < bp[0x1e8]; i++) {
        const uint8_t *p = t + i * 20;
        if (rd64(p) == MiB && rd64(p + 8) == 255 * MiB && rd32(p + 16) == 1)
            found = true;
    }
    ck_assert(found);
    /* alt_mem_k: extended memory above 1 MiB in KiB. */
    ck_assert_uint_eq(rd32(bp + 0x1e0), 255 * 1024);
    machine_free(m);
    free(img);
}
END_TEST

START_TEST(initrd_placed_high_and_aligned)
{
    size_t len;
    uint8_t *img = fake_bzimage64(&len);
    size_t ilen = 3 * MiB + 123;
    uint8_t *initrd = malloc(ilen);
    for (size_t i = 0; i < ilen; i++)
        initrd[i] = (uint8_t)(i ^ (i >> 8));
    uint64_t ram = 256 * MiB;
    Machine *m = test_machine(ram);
    LinuxBootEntry e;
    char err[512];
    ck_assert_int_eq(load(m, img, len, initrd, ilen, "", &e, err, sizeof(err)), 0);
    const uint8_t *bp = boot_params(m);
    uint32_t addr = rd32(bp + 0x218), size = rd32(bp + 0x21c);
    ck_assert_uint_eq(size, ilen);
    ck_assert_uint_eq(addr, e.initrd_addr);
    ck_assert_uint_eq(addr % 4096, 0);
    ck_assert_uint_le(addr + size, ram);
    ck_assert_uint_gt(addr + size, ram - 4096);         /* as high as it goes */
    ck_assert_uint_ge(addr, PREF_ADDRESS + INIT_SIZE);  /* clear of the kernel */
    const uint8_t *g = memmap_host_ptr(m->mem, addr, ilen, false);
    ck_assert_mem_eq(g, initrd, ilen);
    machine_free(m);
    free(img);
    free(initrd);
}
END_TEST

START_TEST(initrd_respects_initrd_addr_max)
{
    size_t len;
    uint8_t *img = fake_bzimage64(&len);
    wr32(img + 0x22c, 0x3fffffff);                     /* initrd below 1 GiB */
    uint8_t initrd[8192] = { 1, 2, 3 };
    Machine *m = test_machine(2 * GiB);
    LinuxBootEntry e;
    char err[512];
    ck_assert_int_eq(load(m, img, len, initrd, sizeof(initrd), "", &e, err, sizeof(err)), 0);
    ck_assert_uint_le(e.initrd_addr + sizeof(initrd), 0x40000000);
    ck_assert_uint_gt(e.initrd_addr + sizeof(initrd), 0x40000000 - 4096);
    machine_free(m);
    free(img);
}
END_TEST

START_TEST(initrd_below_4g_with_big_ram)
{
    size_t len;
    uint8_t *img = fake_bzimage64(&len);
    wr32(img + 0x22c, 0xffffffff);
    uint8_t initrd[4096] = { 9 };
    Machine *m = test_machine(5 * GiB);     /* 3 GiB low, 2 GiB above 4 GiB */
    LinuxBootEntry e;
    char err[512];
    ck_assert_int_eq(load(m, img, len, initrd, sizeof(initrd), "", &e, err, sizeof(err)), 0);
    /* Highest RAM below 4 GiB ends at the 3 GiB PCI hole. */
    ck_assert_uint_eq(e.initrd_addr, 3 * GiB - 4096);
    ck_assert_uint_eq(memmap_read(m->mem, e.initrd_addr, 1), 9);
    machine_free(m);
    free(img);
}
END_TEST

/* Walks guest page tables from cr3 for a 64-bit linear address. */
static bool walk(Machine *m, uint64_t cr3, uint64_t va, uint64_t *pa)
{
    uint64_t pml4e = guest64(m, (cr3 & ~0xfffULL) + ((va >> 39) & 511) * 8);
    if (!(pml4e & 1))
        return false;
    uint64_t pdpte = guest64(m, (pml4e & 0xffffffffff000ULL) + ((va >> 30) & 511) * 8);
    if (!(pdpte & 1) || (pdpte & 0x80))
        return false;
    uint64_t pde = guest64(m, (pdpte & 0xffffffffff000ULL) + ((va >> 21) & 511) * 8);
    if (!(pde & 1) || !(pde & 0x80) || !(pde & 2))
        return false;
    *pa = (pde & 0xfffffffe00000ULL) | (va & 0x1fffff);
    return true;
}

START_TEST(page_tables_identity_map_4g)
{
    size_t len;
    uint8_t *img = fake_bzimage64(&len);
    Machine *m = test_machine(256 * MiB);
    LinuxBootEntry e;
    char err[512];
    ck_assert_int_eq(load(m, img, len, NULL, 0, "", &e, err, sizeof(err)), 0);
    ck_assert_int_eq(e.mode, LINUXBOOT_MODE_64);
    const uint64_t probes[] = { 0, 0x7000, 0x20000, 0x100200, 0x0ffff123,
                                0x40000000, 0xbfffffff, 0xfee00300, 0xffffffff };
    for (size_t i = 0; i < sizeof(probes) / sizeof(probes[0]); i++) {
        uint64_t pa = ~0ULL;
        ck_assert_msg(walk(m, e.cr3, probes[i], &pa), "0x%llx unmapped",
                      (unsigned long long)probes[i]);
        ck_assert_uint_eq(pa, probes[i]);
    }
    uint64_t pa;
    ck_assert(!walk(m, e.cr3, 4 * GiB, &pa));          /* only the low 4 GiB */
    machine_free(m);
    free(img);
}
END_TEST

START_TEST(entry_state_64bit)
{
    size_t len;
    uint8_t *img = fake_bzimage64(&len);
    Machine *m = test_machine(256 * MiB);
    LinuxBootEntry e;
    char err[512];
    ck_assert_int_eq(load(m, img, len, NULL, 0, "", &e, err, sizeof(err)), 0);
    ck_assert_uint_eq(e.rip, 0x100000 + 0x200);          /* startup_64 */
    ck_assert_uint_eq(e.rsi, LINUXBOOT_BOOT_PARAMS);
    ck_assert_uint_eq(e.rflags & 0x200, 0);              /* IF clear */
    ck_assert_uint_eq(e.cr0 & 0x80000001u, 0x80000001u); /* PG, PE */
    ck_assert_uint_eq(e.cr4 & 0x20, 0x20);               /* PAE */
    ck_assert_uint_eq(e.efer & 0x500, 0x500);            /* LME, LMA */
    ck_assert_uint_eq(e.cs, 0x10);
    ck_assert_uint_eq(e.ds, 0x18);
    ck_assert_uint_ge(e.gdt_limit, 0x1f);
    /* The GDT in guest RAM holds the same descriptors. */
    ck_assert_uint_eq(guest64(m, e.gdt_base + 0x10), e.cs_desc);
    ck_assert_uint_eq(guest64(m, e.gdt_base + 0x18), e.ds_desc);
    ck_assert_uint_eq((e.cs_desc >> 53) & 1, 1);         /* L: 64-bit code */
    ck_assert_uint_eq((e.cs_desc >> 54) & 1, 0);         /* D must be 0 with L */
    ck_assert_uint_eq((e.cs_desc >> 40) & 0x9a, 0x9a);   /* present code, readable */
    ck_assert_uint_eq((e.ds_desc >> 40) & 0x92, 0x92);   /* present data, writable */
    ck_assert_uint_eq((e.ds_desc >> 40) & 0x08, 0);      /* data, not code */
    machine_free(m);
    free(img);
}
END_TEST

START_TEST(entry_state_32bit_without_xlf64)
{
    size_t len;
    uint8_t *img = fake_bzimage(&len, 0x20a, 0);         /* 2.10: no xloadflags */
    Machine *m = test_machine(256 * MiB);
    LinuxBootEntry e;
    char err[512];
    ck_assert_int_eq(load(m, img, len, NULL, 0, "", &e, err, sizeof(err)), 0);
    ck_assert_int_eq(e.mode, LINUXBOOT_MODE_32);
    ck_assert_uint_eq(e.rip, 0x100000);
    ck_assert_uint_eq(e.rsi, LINUXBOOT_BOOT_PARAMS);
    ck_assert_uint_eq(e.cr0 & 0x80000001u, 1);           /* PE, no paging */
    ck_assert_uint_eq(e.efer, 0);
    ck_assert_uint_eq((e.cs_desc >> 54) & 1, 1);         /* D: 32-bit code */
    ck_assert_uint_eq((e.cs_desc >> 53) & 1, 0);
    ck_assert_uint_eq(guest64(m, e.gdt_base + 0x10), e.cs_desc);
    machine_free(m);
    free(img);
}
END_TEST

START_TEST(runtime_start_follows_alignment)
{
    size_t len;
    uint8_t *img = fake_bzimage64(&len);
    wr64(img + 0x258, 0x1100000);          /* unaligned pref_address */
    Machine *m = test_machine(256 * MiB);
    LinuxBootEntry e;
    char err[512];
    ck_assert_int_eq(load(m, img, len, NULL, 0, "", &e, err, sizeof(err)), 0);
    /* boot.rst: runtime start = align_up(max(load, pref), kernel_alignment). */
    ck_assert_uint_eq(e.runtime_end, 0x1200000 + INIT_SIZE);
    machine_free(m);
    free(img);
}
END_TEST

START_TEST(load_from_files)
{
    size_t len;
    uint8_t *img = fake_bzimage64(&len);
    char kpath[] = "/tmp/vx86-kernel-XXXXXX", ipath[] = "/tmp/vx86-initrd-XXXXXX";
    int kfd = mkstemp(kpath), ifd = mkstemp(ipath);
    ck_assert(kfd >= 0 && ifd >= 0);
    ck_assert_int_eq(write(kfd, img, len), (ssize_t)len);
    ck_assert_int_eq(write(ifd, "initrd!", 7), 7);
    close(kfd);
    close(ifd);
    Machine *m = test_machine(128 * MiB);
    LinuxBootEntry e;
    char err[512] = "";
    int r = linuxboot_load(m, kpath, ipath, "quiet", NULL, &e, err, sizeof(err));
    ck_assert_msg(r == 0, "%s", err);
    ck_assert_uint_eq(e.initrd_size, 7);
    ck_assert_uint_eq(memmap_read(m->mem, e.initrd_addr, 4), rd32((const uint8_t *)"init"));
    ck_assert_uint_eq(memmap_read(m->mem, 0x100000, 1), payload_byte(0));
    /* Unreadable files: one clear line naming the option and the file. */
    ck_assert_int_eq(linuxboot_load(m, "/nonexistent/bzImage", NULL, "", NULL, &e, err,
                                    sizeof(err)), -1);
    ck_assert_ptr_nonnull(strstr(err, "-kernel: /nonexistent/bzImage"));
    ck_assert_int_eq(linuxboot_load(m, kpath, "/nonexistent/initrd", "", NULL, &e, err,
                                    sizeof(err)), -1);
    ck_assert_ptr_nonnull(strstr(err, "-initrd: /nonexistent/initrd"));
    ck_assert_int_eq(linuxboot_load(m, "/tmp", NULL, "", NULL, &e, err, sizeof(err)), -1);
    ck_assert_ptr_nonnull(strstr(err, "-kernel:"));
    unlink(kpath);
    unlink(ipath);
    machine_free(m);
    free(img);
}
END_TEST

/* ---- refusals ---- */

START_TEST(refuses_random_bytes)
{
    uint8_t img[8192];
    unsigned s = 12345;
    for (size_t i = 0; i < sizeof(img); i++) {
        s = s * 1103515245 + 12345;
        img[i] = (uint8_t)(s >> 16);
    }
    expect_refused(img, sizeof(img), "not a Linux bzImage");
    expect_refused(img, 100, "not a Linux bzImage");    /* too short for a header */
}
END_TEST

START_TEST(refuses_elf)
{
    uint8_t elf[4096] = { 0x7f, 'E', 'L', 'F', 1 /* ELFCLASS32 */, 1, 1 };
    expect_refused(elf, sizeof(elf), "is an ELF image, not a bzImage (vmlinux); use the bzImage");
    elf[4] = 2;                                         /* ELFCLASS64 */
    expect_refused(elf, sizeof(elf), "ELF image");
}
END_TEST

START_TEST(refuses_truncated_setup)
{
    size_t len;
    uint8_t *img = fake_bzimage64(&len);
    expect_refused(img, 0x400, "truncated");            /* 4 setup sectors need 2560 */
    free(img);
}
END_TEST

START_TEST(refuses_truncated_payload)
{
    size_t len;
    uint8_t *img = fake_bzimage64(&len);
    expect_refused(img, len - 4096, "truncated");
    expect_refused(img, SETUP_BYTES, "truncated");      /* nothing after setup */
    free(img);
}
END_TEST

START_TEST(refuses_old_protocol)
{
    size_t len;
    uint8_t *img = fake_bzimage(&len, 0x202, 0);
    expect_refused(img, len, "boot protocol 2.02");
    wr16(img + 0x206, 0x205);
    expect_refused(img, len, "2.06 or later");
    free(img);
}
END_TEST

START_TEST(refuses_bad_boot_flag_and_zimage)
{
    size_t len;
    uint8_t *img = fake_bzimage64(&len);
    wr16(img + 0x1fe, 0x1234);
    expect_refused(img, len, "boot flag");
    wr16(img + 0x1fe, 0xaa55);
    img[0x211] = 0;                                     /* not LOADED_HIGH */
    expect_refused(img, len, "zImage");
    free(img);
}
END_TEST

START_TEST(refuses_initrd_larger_than_ram)
{
    size_t len;
    uint8_t *img = fake_bzimage64(&len);
    size_t ilen = 80 * MiB;
    uint8_t *initrd = calloc(1, ilen);
    Machine *m = test_machine(64 * MiB);
    LinuxBootEntry e;
    char err[512];
    ck_assert_int_eq(load(m, img, len, initrd, ilen, "", &e, err, sizeof(err)), -1);
    ck_assert_msg(strstr(err, "-initrd: initrd.img: initrd of 80 MiB does not fit below"),
                  "%s", err);
    /* Fits the RAM but not between the kernel's 32 MiB and the top. */
    ck_assert_int_eq(load(m, img, len, initrd, 40 * MiB, "", &e, err, sizeof(err)), -1);
    ck_assert_ptr_nonnull(strstr(err, "initrd of 40 MiB does not fit"));
    ck_assert_int_eq(load(m, img, len, initrd, 30 * MiB, "", &e, err, sizeof(err)), 0);
    machine_free(m);
    free(initrd);
    free(img);
}
END_TEST

START_TEST(refuses_kernel_larger_than_ram)
{
    size_t len;
    uint8_t *img = fake_bzimage64(&len);
    wr32(img + 0x260, 512 * MiB);                       /* init_size */
    Machine *m = test_machine(64 * MiB);
    LinuxBootEntry e;
    char err[512];
    ck_assert_int_eq(load(m, img, len, NULL, 0, "", &e, err, sizeof(err)), -1);
    /* Runtime start 16 MiB (pref_address) + 512 MiB. */
    ck_assert_str_eq(err, "-kernel: kernel needs 528 MiB, guest RAM is 64 MiB");
    machine_free(m);
    free(img);
}
END_TEST

START_TEST(refuses_long_command_line)
{
    size_t len;
    uint8_t *img = fake_bzimage64(&len);
    wr32(img + 0x238, 16);                              /* cmdline_size */
    Machine *m = test_machine(64 * MiB);
    LinuxBootEntry e;
    char err[512];
    ck_assert_int_eq(load(m, img, len, NULL, 0, "0123456789abcdef", &e, err, sizeof(err)), 0);
    ck_assert_int_eq(load(m, img, len, NULL, 0, "0123456789abcdefg", &e, err, sizeof(err)), -1);
    ck_assert_str_eq(err, "-append: command line is 17 bytes, the kernel accepts at most 16");
    machine_free(m);
    free(img);
}
END_TEST

START_TEST(malformed_headers_never_crash)
{
    /* Random values in every setup header byte: each load either succeeds
     * with an entry inside RAM or fails with a message. */
    size_t len;
    uint8_t *orig = fake_bzimage64(&len);
    uint8_t *img = malloc(len);
    Machine *m = test_machine(64 * MiB);
    unsigned s = 777;
    int ok = 0;
    for (int round = 0; round < 3000; round++) {
        memcpy(img, orig, len);
        int nmut = 1 + round % 6;
        for (int k = 0; k < nmut; k++) {
            s = s * 1103515245 + 12345;
            size_t off = 0x1f1 + (s >> 8) % (0x270 - 0x1f1);
            if (off >= 0x202 && off < 0x206)
                continue;                               /* keep "HdrS" mostly */
            s = s * 1103515245 + 12345;
            img[off] = (uint8_t)(s >> 16);
        }
        LinuxBootEntry e;
        char err[512];
        size_t cut = round % 7 == 0 ? (s >> 4) % len : len;
        if (load(m, img, cut, NULL, 0, "x", &e, err, sizeof(err)) == 0) {
            ok++;
            ck_assert_uint_lt(e.rip, 64 * MiB);
            ck_assert_uint_le(e.runtime_end, 64 * MiB);
        } else {
            ck_assert_uint_gt(strlen(err), 10);
        }
    }
    ck_assert_int_gt(ok, 0);
    machine_free(m);
    free(img);
    free(orig);
}
END_TEST

/* ---- e820 ---- */

static void assert_sorted_disjoint(const E820Map *map)
{
    for (int i = 0; i + 1 < map->n; i++)
        ck_assert_uint_le(map->e[i].addr + map->e[i].size, map->e[i + 1].addr);
}

static bool has_entry(const E820Map *map, uint64_t addr, uint64_t size, uint32_t type)
{
    for (int i = 0; i < map->n; i++)
        if (map->e[i].addr == addr && map->e[i].size == size && map->e[i].type == type)
            return true;
    return false;
}

/* Type of the entry covering addr, 0 for none. */
static uint32_t type_at(const E820Map *map, uint64_t addr)
{
    for (int i = 0; i < map->n; i++)
        if (map->e[i].addr <= addr && addr - map->e[i].addr < map->e[i].size)
            return map->e[i].type;
    return 0;
}

START_TEST(e820_512m)
{
    E820Map map;
    e820_build_pc(&map, 512 * MiB);
    assert_sorted_disjoint(&map);
    ck_assert(has_entry(&map, 0, 0x9fc00, E820_RAM));
    ck_assert(has_entry(&map, 0x9fc00, 0x400, E820_RESERVED));
    ck_assert(has_entry(&map, 0xf0000, 0x10000, E820_RESERVED));
    ck_assert(has_entry(&map, MiB, 511 * MiB, E820_RAM));
    ck_assert_uint_eq(type_at(&map, 0xb8000), 0);          /* VGA window: a hole */
    ck_assert_uint_eq(type_at(&map, 0xfec00000), E820_RESERVED);   /* IOAPIC */
    ck_assert_uint_eq(type_at(&map, 0xfed00000), E820_RESERVED);   /* HPET */
    ck_assert_uint_eq(type_at(&map, 0xfee00000), E820_RESERVED);   /* LAPIC */
    ck_assert_uint_eq(type_at(&map, 512 * MiB), 0);
    ck_assert_uint_eq(e820_ram_total(&map), 0x9fc00 + 511 * MiB);
    ck_assert_uint_eq(e820_ram_end_from(&map, MiB), 512 * MiB);
}
END_TEST

START_TEST(e820_4g_splits_around_pci_hole)
{
    E820Map map;
    e820_build_pc(&map, 4 * GiB);
    assert_sorted_disjoint(&map);
    ck_assert(has_entry(&map, MiB, 3 * GiB - MiB, E820_RAM));
    ck_assert(has_entry(&map, 4 * GiB, 1 * GiB, E820_RAM));
    ck_assert_uint_eq(type_at(&map, 3 * GiB), 0);           /* PCI hole */
    ck_assert_uint_eq(type_at(&map, 0xe0000000), 0);
    ck_assert_uint_eq(e820_ram_total(&map), 4 * GiB - (MiB - 0x9fc00));
    ck_assert_uint_eq(e820_pc_low_ram(4 * GiB), 3 * GiB);
    ck_assert_uint_eq(e820_pc_high_ram(4 * GiB), 1 * GiB);
    /* 2 GiB: no RAM above 4 GiB at all. */
    e820_build_pc(&map, 2 * GiB);
    ck_assert_uint_eq(type_at(&map, 4 * GiB), 0);
    ck_assert(has_entry(&map, MiB, 2 * GiB - MiB, E820_RAM));
}
END_TEST

START_TEST(e820_sanitize_resolves_overlaps)
{
    E820Map map;
    e820_init(&map);
    ck_assert(e820_add(&map, 0x200000, 0x100000, E820_RAM));  /* adjacent: merges */
    ck_assert(e820_add(&map, 0x100000, 0x100000, E820_RAM));
    ck_assert(e820_add(&map, 0x180000, 0x10000, E820_ACPI)); /* punched into RAM */
    ck_assert(e820_add(&map, 0x280000, 0x100000, E820_RESERVED)); /* straddles the end */
    ck_assert(!e820_add(&map, 0x1000, 0, E820_RAM));           /* empty refused */
    ck_assert(!e820_add(&map, ~0ULL - 10, 100, E820_RAM));      /* wraps: refused */
    ck_assert(e820_sanitize(&map));
    assert_sorted_disjoint(&map);
    ck_assert_int_eq(map.n, 4);
    ck_assert(has_entry(&map, 0x100000, 0x80000, E820_RAM));
    ck_assert(has_entry(&map, 0x180000, 0x10000, E820_ACPI));
    ck_assert(has_entry(&map, 0x190000, 0xf0000, E820_RAM));
    ck_assert(has_entry(&map, 0x280000, 0x100000, E820_RESERVED));
}
END_TEST

START_TEST(e820_capacity)
{
    E820Map map;
    e820_init(&map);
    for (int i = 0; i < E820_MAX_ENTRIES; i++)
        ck_assert(e820_add(&map, (uint64_t)i * 0x2000, 0x1000, E820_RAM));
    ck_assert(!e820_add(&map, 0x10000000, 0x1000, E820_RAM));
    ck_assert_int_eq(map.n, E820_MAX_ENTRIES);
    ck_assert(e820_sanitize(&map));                 /* gaps: nothing merges */
    ck_assert_int_eq(map.n, E820_MAX_ENTRIES);
}
END_TEST

/* ---- MP table ---- */

START_TEST(mptable_checksums_and_pointer)
{
    uint8_t buf[2048];
    size_t n = mptable_build(buf, sizeof(buf), 0xf0000, 4, NULL);
    ck_assert_uint_gt(n, 16 + 44);
    ck_assert_uint_eq(n, mptable_size(4, NULL));
    ck_assert_mem_eq(buf, "_MP_", 4);
    ck_assert_uint_eq(rd32(buf + 4), 0xf0000 + 16);     /* config table address */
    ck_assert_uint_eq(buf[8], 1);                       /* 16 bytes */
    ck_assert_uint_eq(buf[9], 4);                       /* spec 1.4 */
    ck_assert_uint_eq(buf[11], 0);                      /* table present */
    ck_assert_uint_eq(mptable_checksum(buf, 16), 0);
    const uint8_t *ct = buf + 16;
    ck_assert_mem_eq(ct, "PCMP", 4);
    uint16_t length = rd16(ct + 4);
    ck_assert_uint_eq(16 + length, n);
    ck_assert_uint_eq(ct[6], 4);
    ck_assert_uint_eq(mptable_checksum(ct, length), 0);
    ck_assert_uint_eq(rd32(ct + 36), 0xfee00000);       /* local APIC */
    /* Corrupting any byte breaks the checksum. */
    buf[16 + 50] ^= 1;
    ck_assert_uint_ne(mptable_checksum(ct, length), 0);
}
END_TEST

START_TEST(mptable_entries)
{
    uint8_t buf[4096];
    const int ncpus = 3;
    size_t n = mptable_build(buf, sizeof(buf), 0xf5a40, ncpus, NULL);
    ck_assert_uint_gt(n, 0);
    const uint8_t *ct = buf + 16;
    uint16_t length = rd16(ct + 4), count = rd16(ct + 34);
    int per_type[5] = { 0 }, walked = 0, last_type = 0, bsp = 0;
    int irq_pin[16], extint_pin = -1, isa_bus = -1, pci_bus = -1, lint[2] = { -1, -1 };
    uint8_t ioapic_id = 0xff;
    for (int i = 0; i < 16; i++)
        irq_pin[i] = -1;
    size_t off = 44;
    while (off < length) {
        uint8_t type = ct[off];
        ck_assert_uint_le(type, 4);
        ck_assert_int_ge(type, last_type);              /* entries grouped by type */
        last_type = type;
        per_type[type]++;
        walked++;
        const uint8_t *e = ct + off;
        if (type == 0) {
            ck_assert_uint_eq(e[1], per_type[0] - 1);   /* APIC ids 0.. */
            ck_assert_uint_eq(e[3] & 1, 1);             /* enabled */
            bsp += (e[3] & 2) != 0;
            off += 20;
            continue;
        }
        if (type == 1) {
            if (!memcmp(e + 2, "ISA   ", 6))
                isa_bus = e[1];
            if (!memcmp(e + 2, "PCI   ", 6))
                pci_bus = e[1];
        } else if (type == 2) {
            ioapic_id = e[1];
            ck_assert_uint_eq(rd32(e + 4), 0xfec00000);
            ck_assert_uint_eq(e[3] & 1, 1);
        } else if (type == 3) {
            ck_assert_int_eq(e[4], isa_bus);
            ck_assert_uint_eq(e[6], ioapic_id);
            if (e[1] == MP_EXTINT)
                extint_pin = e[7];
            else if (e[1] == MP_INT && e[5] < 16)
                irq_pin[e[5]] = e[7];
        } else {
            ck_assert_uint_eq(e[6], 0xff);              /* all local APICs */
            if (e[1] == MP_EXTINT)
                lint[0] = e[7];
            if (e[1] == MP_NMI)
                lint[1] = e[7];
        }
        off += 8;
    }
    ck_assert_uint_eq(off, length);
    ck_assert_int_eq(walked, count);
    ck_assert_int_eq(per_type[0], ncpus);
    ck_assert_int_eq(bsp, 1);
    ck_assert_int_eq(per_type[1], 2);
    ck_assert_int_eq(pci_bus, 0);
    ck_assert_int_eq(isa_bus, 1);
    ck_assert_int_eq(per_type[2], 1);
    ck_assert_uint_ge(ioapic_id, ncpus);                /* unique among APIC ids */
    ck_assert_int_eq(per_type[3], 15);                  /* ISA IRQs but the cascade */
    ck_assert_int_eq(extint_pin, -1);                   /* 8259 via LINT0 only */
    ck_assert_int_eq(irq_pin[0], 2);                    /* PIT on pin 2 */
    ck_assert_int_eq(irq_pin[1], 1);
    ck_assert_int_eq(irq_pin[2], -1);                   /* cascade: no pin */
    for (int irq = 3; irq < 16; irq++)
        ck_assert_int_eq(irq_pin[irq], irq);
    ck_assert_int_eq(per_type[4], 2);
    ck_assert_int_eq(lint[0], 0);                       /* ExtINT on LINT0 */
    ck_assert_int_eq(lint[1], 1);                       /* NMI on LINT1 */
}
END_TEST

START_TEST(mptable_refuses_bad_arguments)
{
    uint8_t buf[4096];
    ck_assert_uint_eq(mptable_build(buf, 64, 0xf0000, 2, NULL), 0);        /* too small */
    ck_assert_uint_eq(mptable_build(buf, sizeof(buf), 0xf0000, 0, NULL), 0);
    ck_assert_uint_eq(mptable_build(buf, sizeof(buf), 0xf0000, 255, NULL), 0);
    ck_assert_uint_eq(mptable_build(buf, sizeof(buf), 0xf0008, 2, NULL), 0);  /* unaligned */
    MPTableConfig cfg = { .ioapic_id = 1, .pci = true };                  /* clashes with CPU 1 */
    ck_assert_uint_eq(mptable_build(buf, sizeof(buf), 0xf0000, 2, &cfg), 0);
    /* PCI INTx entries: level, active low, on the PCI bus; the pin's ISA
     * entry (IRQ 11) makes way for it. */
    const MPTablePciIrq irqs[] = { { 3, 0, 11 } };
    MPTableConfig pci = { .ioapic_id = -1, .pci = true, .pci_irqs = irqs, .n_pci_irqs = 1 };
    size_t n = mptable_build(buf, sizeof(buf), 0xf0000, 1, &pci);
    ck_assert_uint_eq(n, mptable_size(1, NULL));
    ck_assert_uint_eq(n, mptable_size(1, &pci));
    ck_assert_uint_eq(mptable_checksum(buf + 16, rd16(buf + 20)), 0);
}
END_TEST

static Suite *linuxboot_suite(void)
{
    Suite *s = suite_create("linuxboot");
    TCase *load = tcase_create("load");
    tcase_set_timeout(load, 60);
    tcase_add_test(load, kernel_bytes_at_1mib);
    tcase_add_test(load, zero_setup_sects_means_four);
    tcase_add_test(load, boot_params_header_fields);
    tcase_add_test(load, boot_params_e820_table);
    tcase_add_test(load, initrd_placed_high_and_aligned);
    tcase_add_test(load, initrd_respects_initrd_addr_max);
    tcase_add_test(load, initrd_below_4g_with_big_ram);
    tcase_add_test(load, page_tables_identity_map_4g);
    tcase_add_test(load, entry_state_64bit);
    tcase_add_test(load, entry_state_32bit_without_xlf64);
    tcase_add_test(load, runtime_start_follows_alignment);
    tcase_add_test(load, load_from_files);
    suite_add_tcase(s, load);

    TCase *refuse = tcase_create("refuse");
    tcase_set_timeout(refuse, 60);
    tcase_add_test(refuse, refuses_random_bytes);
    tcase_add_test(refuse, refuses_elf);
    tcase_add_test(refuse, refuses_truncated_setup);
    tcase_add_test(refuse, refuses_truncated_payload);
    tcase_add_test(refuse, refuses_old_protocol);
    tcase_add_test(refuse, refuses_bad_boot_flag_and_zimage);
    tcase_add_test(refuse, refuses_initrd_larger_than_ram);
    tcase_add_test(refuse, refuses_kernel_larger_than_ram);
    tcase_add_test(refuse, refuses_long_command_line);
    tcase_add_test(refuse, malformed_headers_never_crash);
    suite_add_tcase(s, refuse);

    TCase *e820 = tcase_create("e820");
    tcase_add_test(e820, e820_512m);
    tcase_add_test(e820, e820_4g_splits_around_pci_hole);
    tcase_add_test(e820, e820_sanitize_resolves_overlaps);
    tcase_add_test(e820, e820_capacity);
    suite_add_tcase(s, e820);

    TCase *mp = tcase_create("mptable");
    tcase_add_test(mp, mptable_checksums_and_pointer);
    tcase_add_test(mp, mptable_entries);
    tcase_add_test(mp, mptable_refuses_bad_arguments);
    suite_add_tcase(s, mp);
    return s;
}

UNIT_SUITE(linuxboot_suite)
