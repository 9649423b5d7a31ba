/*
 * The Multiboot loader (hw/pc/multiboot.c) against the Multiboot 0.6.96
 * specification's layouts, and the fw_cfg kernel items the board fills
 * for -kernel (QEMU's numbers 0x07-0x18), read through the fw_cfg ports.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/machine.h"
#include "core/options.h"
#include "hw/fwcfg.h"
#include "hw/pc/multiboot.h"
#include "hw/pc/pc.h"
#include "tests/unit/unit.h"

static void put32(uint8_t *p, uint32_t v)
{
    for (int i = 0; i < 4; i++)
        p[i] = (uint8_t)(v >> (8 * i));
}

static uint32_t rd32(Machine *m, uint64_t a)
{
    return (uint32_t)memmap_read(m->mem, a, 4);
}

/* A 64-byte a.out-kludge kernel: header at 0 with address fields, loads
 * at 1 MiB, 8 KiB of bss, entry at +0x20. */
static void make_kernel(uint8_t img[64])
{
    memset(img, 0x90, 64);
    uint32_t flags = 0x10003;
    put32(img, MULTIBOOT_HEADER_MAGIC);
    put32(img + 4, flags);
    put32(img + 8, (uint32_t)-(MULTIBOOT_HEADER_MAGIC + flags));
    put32(img + 12, 0x100000);           /* header_addr */
    put32(img + 16, 0x100000);           /* load_addr */
    put32(img + 20, 0);                  /* load_end_addr: whole file */
    put32(img + 24, 0x102000);           /* bss_end_addr */
    put32(img + 28, 0x100020);           /* entry_addr */
}

static Machine *ram_machine(void)
{
    char err[128];
    Machine *m = machine_new(32 << 20, CLOCK_MANUAL, err, sizeof err);
    ck_assert_ptr_nonnull(m);
    ck_assert_ptr_nonnull(memmap_add_ram(m->mem, "ram", 0, m->ram_size, m->ram, NULL));
    return m;
}

START_TEST(info_structure)
{
    char err[256];
    Machine *m = ram_machine();
    uint8_t img[64];
    make_kernel(img);
    ck_assert(multiboot_probe(img, sizeof img, NULL));
    memset(m->ram + 0x101000, 0xaa, 16);                 /* bss must be cleared */
    static const uint8_t mod0[] = "first module", mod1[5000] = { 1, 2, 3 };
    MultibootModule mods[2] = {
        { mod0, sizeof mod0 - 1, "m0 --verbose" }, { mod1, sizeof mod1, "m1" },
    };
    MultibootEntry e;
    ck_assert_msg(multiboot_load_image(m, img, sizeof img, "k", mods, 2, "k console=x", NULL, &e,
                                       err, sizeof err) == 0, "%s", err);
    ck_assert_uint_eq(e.entry, 0x100020);
    ck_assert_uint_eq(e.info, MULTIBOOT_INFO_ADDR);
    ck_assert_uint_eq(m->ram[0x101000], 0);
    ck_assert(!memcmp(m->ram + 0x100000, img, sizeof img));
    uint64_t info = e.info;
    ck_assert_uint_eq(rd32(m, info), 0x24f);
    ck_assert_uint_eq(rd32(m, info + 4), 639);                    /* mem_lower */
    ck_assert_uint_eq(rd32(m, info + 8), (32 << 10) - 1024);      /* mem_upper */
    ck_assert_uint_eq(rd32(m, info + 12), 0x8000ffff);
    ck_assert_str_eq((char *)m->ram + rd32(m, info + 16), "k console=x");
    ck_assert_uint_eq(rd32(m, info + 20), 2);
    uint32_t mods_addr = rd32(m, info + 24);
    uint32_t s0 = rd32(m, mods_addr), e0 = rd32(m, mods_addr + 4);
    uint32_t s1 = rd32(m, mods_addr + 16), e1 = rd32(m, mods_addr + 20);
    ck_assert_uint_eq(s0, 0x102000);                   /* page after the bss */
    ck_assert_uint_eq(e0 - s0, sizeof mod0 - 1);
    ck_assert(!memcmp(m->ram + s0, mod0, sizeof mod0 - 1));
    ck_assert_uint_eq(s1 & 0xfff, 0);
    ck_assert_uint_ge(s1, e0);
    ck_assert_uint_eq(e1 - s1, sizeof mod1);
    ck_assert_str_eq((char *)m->ram + rd32(m, mods_addr + 8), "m0 --verbose");
    ck_assert_str_eq((char *)m->ram + rd32(m, mods_addr + 24), "m1");
    /* mmap: 24-byte entries (size 20), the first is conventional RAM. */
    uint32_t mlen = rd32(m, info + 44), maddr = rd32(m, info + 48);
    ck_assert_uint_eq(mlen % 24, 0);
    ck_assert_uint_eq(rd32(m, maddr), 20);
    ck_assert_uint_eq(rd32(m, maddr + 4), 0);
    ck_assert_uint_eq(rd32(m, maddr + 12), 0x9fc00);
    ck_assert_uint_eq(rd32(m, maddr + 20), 1);
    ck_assert_str_eq((char *)m->ram + rd32(m, info + 64), "vx86");

    X86ArchState s;
    memset(&s, 0xff, sizeof s);
    multiboot_entry_state(&e, &s);
    ck_assert_uint_eq(s.regs[R_EAX], 0x2badb002);
    ck_assert_uint_eq(s.regs[R_EBX], MULTIBOOT_INFO_ADDR);
    ck_assert_uint_eq(s.rip, 0x100020);
    ck_assert_uint_eq(s.cr0 & 0x80000001, 1);
    ck_assert_uint_eq(s.rflags & 0x20200, 0);
    ck_assert_uint_eq(s.seg[R_CS].limit, 0xffffffff);
    ck_assert(s.seg[R_CS].attr & SEG_B);
    ck_assert_uint_eq(s.seg[R_DS].base, 0);
    ck_assert(s.a20);
    machine_free(m);
}
END_TEST

START_TEST(malformed_headers_change_nothing)
{
    char err[256];
    Machine *m = ram_machine();
    uint8_t img[64];
    struct { int off; uint32_t v; const char *msg; } bad[] = {
        { 8, 0, "no Multiboot header" },                  /* checksum */
        { 12, 0xf0000, "do not fit" },                    /* header_addr < load_addr */
        { 16, 0x0ff000, "do not fit" },                   /* header_addr - load_addr > offset */
        { 20, 0xf0000, "below load_addr" },
        { 20, 0x200000, "truncated" },
        { 24, 0x100010, "bss_end_addr" },
        { 28, 0x300000, "entry point" },
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        make_kernel(img);
        put32(img + bad[i].off, bad[i].v);
        if (bad[i].off == 20 && bad[i].v == 0x200000)
            put32(img + 24, 0);
        MultibootEntry e;
        memset(m->ram, 0x5a, 0x110000);
        ck_assert_int_eq(multiboot_load_image(m, img, sizeof img, "k", NULL, 0, "", NULL, &e,
                                              err, sizeof err), -1);
        ck_assert_msg(strstr(err, bad[i].msg), "case %zu: %s", i, err);
        ck_assert(!strchr(err, '\n'));
        for (size_t a = 0; a < 0x110000; a += 0x800)
            ck_assert_uint_eq(m->ram[a], 0x5a);
    }
    /* A module past the end of RAM. */
    make_kernel(img);
    static uint8_t big[1];
    MultibootModule mod = { big, 40u << 20, "huge" };
    MultibootEntry e;
    ck_assert_int_eq(multiboot_load_image(m, img, sizeof img, "k", &mod, 1, "", NULL, &e, err,
                                          sizeof err), -1);
    ck_assert_msg(strstr(err, "-initrd: module 0 (huge"), "%s", err);
    machine_free(m);
}
END_TEST

/* fw_cfg item as the guest reads it: select, then bytes from 0x511. */
static uint32_t fw_read32(Machine *m, uint16_t key)
{
    iospace_write(m->io, FW_CFG_PORT_SEL, key, 2);
    uint32_t v = 0;
    for (int i = 0; i < 4; i++)
        v |= (uint32_t)iospace_read(m->io, FW_CFG_PORT_DATA, 1) << (8 * i);
    return v;
}

START_TEST(fwcfg_kernel_items)
{
    char err[512], path[] = "/tmp/vx86-mb-XXXXXX";
    int fd = mkstemp(path);
    uint8_t img[64];
    make_kernel(img);
    ck_assert_int_eq(write(fd, img, sizeof img), (ssize_t)sizeof img);
    close(fd);
    VMOptions o;
    options_init(&o);
    o.kernel = strdup(path);
    o.append = strdup("a b");
    Machine *m = machine_new(64 << 20, CLOCK_MANUAL, err, sizeof err);
    m->opts = &o;
    PCBoard *pc = pc_create(m, &o, err, sizeof err);
    ck_assert_msg(pc != NULL, "%s", err);
    PCBootEntry e;
    ck_assert_msg(pc_load_kernel(pc, &o, &e, err, sizeof err), "%s", err);
    ck_assert(e.multiboot);
    ck_assert_uint_eq(fw_read32(m, FW_CFG_KERNEL_ADDR), 0x100000);
    ck_assert_uint_eq(fw_read32(m, FW_CFG_KERNEL_SIZE), 0x2000);
    ck_assert_uint_eq(fw_read32(m, FW_CFG_KERNEL_ENTRY), 0x100020);
    ck_assert_uint_eq(fw_read32(m, FW_CFG_KERNEL_DATA), MULTIBOOT_HEADER_MAGIC);
    ck_assert_uint_eq(fw_read32(m, FW_CFG_INITRD_ADDR), MULTIBOOT_INFO_ADDR);
    ck_assert_uint_eq(fw_read32(m, FW_CFG_INITRD_SIZE), 88);
    ck_assert_uint_eq(fw_read32(m, FW_CFG_INITRD_DATA), 0x24f);     /* info.flags */
    ck_assert_uint_eq(fw_read32(m, FW_CFG_CMDLINE_SIZE), 4);
    ck_assert_uint_eq(fw_read32(m, FW_CFG_CMDLINE_DATA), 'a' | ' ' << 8 | 'b' << 16);
    m->board = NULL;
    machine_free(m);
    pc_free(pc);
    options_free(&o);
    unlink(path);
}
END_TEST

static Suite *multiboot_suite(void)
{
    Suite *s = suite_create("multiboot");
    TCase *tc = tcase_create("multiboot");
    tcase_add_test(tc, info_structure);
    tcase_add_test(tc, malformed_headers_change_nothing);
    tcase_add_test(tc, fwcfg_kernel_items);
    suite_add_tcase(s, tc);
    return s;
}
UNIT_SUITE(multiboot_suite)
