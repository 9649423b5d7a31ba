/* Memory map and IO-port dispatch. */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/log.h"
#include "core/memory.h"
#include "tests/unit/unit.h"

typedef struct TestDev {
    uint64_t last_off, last_val;
    unsigned last_size, reads, writes;
    uint8_t regs[16];
} TestDev;

static uint64_t tdev_read(void *opaque, uint64_t off, unsigned size)
{
    TestDev *d = opaque;
    d->reads++;
    d->last_off = off;
    d->last_size = size;
    uint64_t v = 0;
    memcpy(&v, d->regs + off, size);
    return v;
}

static void tdev_write(void *opaque, uint64_t off, uint64_t val, unsigned size)
{
    TestDev *d = opaque;
    d->writes++;
    d->last_off = off;
    d->last_val = val;
    d->last_size = size;
    memcpy(d->regs + off, &val, size);
}

static const MemOps tdev_ops = { tdev_read, tdev_write, 1, 4 };
static const MemOps tdev_ops_dword = { tdev_read, tdev_write, 4, 4 };

START_TEST(ram_read_write)
{
    MemMap *mm = memmap_new();
    uint8_t *ram = calloc(1, 4096);
    ck_assert_ptr_nonnull(memmap_add_ram(mm, "ram", 0x1000, 4096, ram, NULL));
    memmap_write(mm, 0x1010, 0x1122334455667788ULL, 8);
    ck_assert_uint_eq(memmap_read(mm, 0x1010, 8), 0x1122334455667788ULL);
    ck_assert_uint_eq(memmap_read(mm, 0x1012, 2), 0x5566);
    ck_assert_uint_eq(ram[0x10], 0x88);
    memmap_free(mm);
    free(ram);
}
END_TEST

START_TEST(unassigned_reads_ones_drops_writes)
{
    MemMap *mm = memmap_new();
    ck_assert_uint_eq(memmap_read(mm, 0x5000, 1), 0xff);
    ck_assert_uint_eq(memmap_read(mm, 0x5000, 4), 0xffffffffu);
    ck_assert_uint_eq(memmap_read(mm, 0x5000, 8), ~0ULL);
    memmap_write(mm, 0x5000, 0x1234, 2);   /* must not crash */
    memmap_free(mm);
}
END_TEST

START_TEST(access_straddling_ram_end)
{
    MemMap *mm = memmap_new();
    uint8_t ram[16] = { 0 };
    memmap_add_ram(mm, "ram", 0, 16, ram, NULL);
    memmap_write(mm, 14, 0xaabbccdd, 4);
    ck_assert_uint_eq(ram[14], 0xdd);
    ck_assert_uint_eq(ram[15], 0xcc);
    /* bytes 16, 17 are unassigned: read back as ones */
    ck_assert_uint_eq(memmap_read(mm, 14, 4), 0xffffccddu);
    memmap_free(mm);
}
END_TEST

START_TEST(equal_priority_overlap_refused)
{
    MemMap *mm = memmap_new();
    uint8_t ram[64];
    TestDev d = { 0 };
    char *err = NULL;
    ck_assert_ptr_nonnull(memmap_add_ram(mm, "ram", 0, 64, ram, NULL));
    ck_assert_ptr_null(memmap_add_mmio(mm, "dev", 32, 16, &tdev_ops, &d, 0, &err));
    ck_assert_ptr_nonnull(err);
    ck_assert_ptr_nonnull(strstr(err, "overlaps"));
    free(err);
    memmap_free(mm);
}
END_TEST

START_TEST(higher_priority_mmio_shadows_ram)
{
    MemMap *mm = memmap_new();
    uint8_t ram[64] = { 0 };
    TestDev d = { 0 };
    memmap_add_ram(mm, "ram", 0, 64, ram, NULL);
    ck_assert_ptr_nonnull(memmap_add_mmio(mm, "dev", 32, 16, &tdev_ops, &d, 1, NULL));
    memmap_write(mm, 36, 0x55, 1);
    ck_assert_uint_eq(d.writes, 1);
    ck_assert_uint_eq(d.last_off, 4);
    ck_assert_uint_eq(ram[36], 0);
    ck_assert_ptr_null(memmap_host_ptr(mm, 30, 8, true));   /* crosses into MMIO */
    ck_assert_ptr_nonnull(memmap_host_ptr(mm, 0, 32, true));
    memmap_write(mm, 48, 0x77, 1);                          /* back in RAM */
    ck_assert_uint_eq(ram[48], 0x77);
    memmap_free(mm);
}
END_TEST

/* Alternating accesses on both sides of a window and inside it, with
 * regions of three priorities: each must reach its own winner whatever
 * the previous lookup was (memmap_find caches the last winner's span). */
START_TEST(lookups_alternate_around_shadowing_regions)
{
    MemMap *mm = memmap_new();
    uint8_t ram[256] = { 0 }, rom[16];
    memset(rom, 0xab, sizeof(rom));
    TestDev d = { 0 };
    memmap_add_ram(mm, "ram", 0, 256, ram, NULL);
    memmap_add_rom(mm, "rom", 64, 16, rom, NULL);                   /* priority 1 */
    ck_assert_ptr_nonnull(memmap_add_mmio(mm, "dev", 128, 16, &tdev_ops, &d, 2, NULL));
    static const uint64_t addrs[] = { 10, 70, 100, 130, 200, 63, 64, 79, 80, 127, 128, 143, 144 };
    for (int round = 0; round < 3; round++) {
        for (size_t i = 0; i < sizeof(addrs) / sizeof(addrs[0]); i++) {
            uint64_t a = addrs[(i * (round + 1)) % (sizeof(addrs) / sizeof(addrs[0]))];
            const MemRegion *r = memmap_find(mm, a);
            const char *want = a >= 64 && a < 80 ? "rom" : a >= 128 && a < 144 ? "dev" : "ram";
            ck_assert_str_eq(r->name, want);
        }
    }
    /* The cache must not outlive a change of the map. */
    ck_assert_str_eq(memmap_find(mm, 100)->name, "ram");
    ck_assert_ptr_nonnull(memmap_add_mmio(mm, "dev2", 96, 8, &tdev_ops, &d, 3, NULL));
    ck_assert_str_eq(memmap_find(mm, 100)->name, "dev2");
    ck_assert_str_eq(memmap_find(mm, 95)->name, "ram");
    ck_assert_str_eq(memmap_find(mm, 104)->name, "ram");
    memmap_free(mm);
}
END_TEST

START_TEST(rom_ignores_guest_writes_but_loads)
{
    MemMap *mm = memmap_new();
    uint8_t rom[16] = { 1, 2, 3 };
    memmap_add_rom(mm, "rom", 0xf0000, 16, rom, NULL);
    memmap_write(mm, 0xf0000, 0xee, 1);
    ck_assert_uint_eq(rom[0], 1);
    ck_assert_ptr_null(memmap_host_ptr(mm, 0xf0000, 1, true));
    ck_assert_ptr_nonnull(memmap_host_ptr(mm, 0xf0000, 1, false));
    uint8_t data[2] = { 9, 8 };
    ck_assert(memmap_load_buf(mm, 0xf0001, data, 2));
    ck_assert_uint_eq(rom[1], 9);
    memmap_free(mm);
}
END_TEST

START_TEST(mmio_wide_access_split_for_narrow_device)
{
    MemMap *mm = memmap_new();
    TestDev d = { 0 };
    static const MemOps byte_ops = { tdev_read, tdev_write, 1, 1 };
    memmap_add_mmio(mm, "dev", 0x100, 16, &byte_ops, &d, 0, NULL);
    memmap_write(mm, 0x100, 0x04030201, 4);
    ck_assert_uint_eq(d.writes, 4);
    ck_assert_uint_eq(d.last_size, 1);
    ck_assert_uint_eq(memmap_read(mm, 0x100, 4), 0x04030201);
    memmap_free(mm);
}
END_TEST

START_TEST(mmio_narrow_access_widened_for_dword_device)
{
    MemMap *mm = memmap_new();
    TestDev d = { 0 };
    memmap_add_mmio(mm, "dev", 0x100, 16, &tdev_ops_dword, &d, 0, NULL);
    memmap_write(mm, 0x104, 0x11223344, 4);
    ck_assert_uint_eq(memmap_read(mm, 0x105, 1), 0x33);
    ck_assert_uint_eq(d.last_size, 4);
    ck_assert_uint_eq(d.last_off, 4);
    memmap_write(mm, 0x106, 0xaa, 1);   /* read-modify-write of the dword */
    ck_assert_uint_eq(memmap_read(mm, 0x104, 4), 0x11aa3344);
    memmap_free(mm);
}
END_TEST

START_TEST(buffer_copy_across_regions)
{
    MemMap *mm = memmap_new();
    uint8_t a[8] = { 0 }, b[8] = { 0 };
    memmap_add_ram(mm, "a", 0, 8, a, NULL);
    memmap_add_ram(mm, "b", 8, 8, b, NULL);
    uint8_t src[12] = { 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12 }, dst[12];
    ck_assert(memmap_write_buf(mm, 2, src, 12));
    ck_assert_uint_eq(b[5], 12);
    ck_assert(memmap_read_buf(mm, 2, dst, 12));
    ck_assert_mem_eq(src, dst, 12);
    ck_assert(!memmap_read_buf(mm, 10, dst, 12));   /* runs off the end */
    ck_assert_uint_eq(dst[11], 0xff);
    memmap_free(mm);
}
END_TEST

static uint64_t notified_addr;
static void note_write(void *opaque, uint64_t addr, size_t len)
{
    notified_addr = addr;
}

START_TEST(ram_write_notifies)
{
    MemMap *mm = memmap_new();
    uint8_t ram[64];
    memmap_add_ram(mm, "ram", 0, 64, ram, NULL);
    memmap_set_write_notify(mm, note_write, NULL);
    notified_addr = 0;
    memmap_write(mm, 40, 1, 1);
    ck_assert_uint_eq(notified_addr, 40);
    uint64_t gen = memmap_generation(mm);
    uint8_t r2[8];
    memmap_add_ram(mm, "r2", 64, 8, r2, NULL);
    ck_assert_uint_gt(memmap_generation(mm), gen);
    memmap_free(mm);
}
END_TEST

START_TEST(io_dispatch_and_unassigned)
{
    IOSpace *io = iospace_new();
    TestDev d = { 0 };
    ck_assert(iospace_add(io, "dev", 0x3f8, 8, &tdev_ops, &d, NULL));
    iospace_write(io, 0x3f9, 0x5a, 1);
    ck_assert_uint_eq(d.last_off, 1);
    ck_assert_uint_eq(iospace_read(io, 0x3f9, 1), 0x5a);
    ck_assert_uint_eq(iospace_read(io, 0x80, 1), 0xff);
    ck_assert_uint_eq(iospace_read(io, 0x80, 2), 0xffff);
    ck_assert_uint_eq(iospace_read(io, 0x80, 4), 0xffffffffu);
    iospace_write(io, 0x80, 1, 1);
    ck_assert_str_eq(iospace_owner(io, 0x3ff), "dev");
    ck_assert_ptr_null(iospace_owner(io, 0x400));
    iospace_free(io);
}
END_TEST

START_TEST(io_overlap_and_range_refused)
{
    IOSpace *io = iospace_new();
    TestDev d = { 0 };
    char *err = NULL;
    ck_assert(iospace_add(io, "a", 0x60, 1, &tdev_ops, &d, NULL));
    ck_assert(!iospace_add(io, "b", 0x5f, 4, &tdev_ops, &d, &err));
    ck_assert_ptr_nonnull(strstr(err, "overlap"));
    free(err);
    err = NULL;
    ck_assert(!iospace_add(io, "c", 0xfffe, 4, &tdev_ops, &d, &err));
    ck_assert_ptr_nonnull(strstr(err, "outside"));
    free(err);
    iospace_remove(io, 0x60, 1);
    ck_assert(iospace_add(io, "b", 0x5f, 4, &tdev_ops, &d, NULL));
    iospace_free(io);
}
END_TEST

START_TEST(io_wide_access_spanning_owners)
{
    IOSpace *io = iospace_new();
    TestDev a = { 0 }, b = { 0 };
    iospace_add(io, "a", 0x10, 1, &tdev_ops, &a, NULL);
    iospace_add(io, "b", 0x11, 1, &tdev_ops, &b, NULL);
    iospace_write(io, 0x10, 0xbbaa, 2);
    ck_assert_uint_eq(a.regs[0], 0xaa);
    ck_assert_uint_eq(b.regs[0], 0xbb);
    ck_assert_uint_eq(iospace_read(io, 0x11, 2), 0xffbb);  /* 0x12 unassigned */
    iospace_free(io);
}
END_TEST

START_TEST(unimp_accesses_are_logged)
{
    char path[] = "/tmp/vx86-unimp-XXXXXX";
    int fd = mkstemp(path);
    ck_assert_int_ge(fd, 0);
    FILE *f = fdopen(fd, "w+");
    FILE *old = log_file;
    unsigned old_mask = log_mask;
    log_file = f;
    log_mask = LOG_UNIMP;
    IOSpace *io = iospace_new();
    iospace_read(io, 0x1234, 1);
    log_mask = old_mask;
    log_file = old;
    fflush(f);
    rewind(f);
    char line[200] = "";
    ck_assert_ptr_nonnull(fgets(line, sizeof line, f));
    ck_assert_ptr_nonnull(strstr(line, "0x1234"));
    fclose(f);
    unlink(path);
    iospace_free(io);
}
END_TEST

/* -d ioport: one line per guest access as issued (a wide access split
 * over two owners stays one line), with the value and the owner. */
START_TEST(ioport_accesses_are_logged_with_owner)
{
    char path[] = "/tmp/vx86-ioport-XXXXXX";
    int fd = mkstemp(path);
    ck_assert_int_ge(fd, 0);
    FILE *f = fdopen(fd, "w+");
    FILE *old = log_file;
    unsigned old_mask = log_mask;
    log_file = f;
    log_mask = LOG_IOPORT;
    IOSpace *io = iospace_new();
    TestDev a = { 0 }, b = { 0 };
    iospace_add(io, "a", 0x10, 1, &tdev_ops, &a, NULL);
    iospace_add(io, "b", 0x11, 1, &tdev_ops, &b, NULL);
    iospace_write(io, 0x10, 0x1bbaa, 2);      /* bits above the size are not the guest's */
    iospace_read(io, 0x11, 1);
    iospace_read(io, 0x1234, 4);
    log_mask = old_mask;
    log_file = old;
    fflush(f);
    rewind(f);
    const char *want[] = {
        "ioport: out 0x0010 size 2 value 0xbbaa a\n",
        "ioport: in  0x0011 size 1 value 0xbb b\n",
        "ioport: in  0x1234 size 4 value 0xffffffff unassigned\n",
    };
    char line[200];
    for (unsigned i = 0; i < 3; i++) {
        ck_assert_ptr_nonnull(fgets(line, sizeof line, f));
        ck_assert_str_eq(line, want[i]);
    }
    ck_assert_ptr_null(fgets(line, sizeof line, f));
    fclose(f);
    unlink(path);
    iospace_free(io);
}
END_TEST

typedef struct FlatLog {
    const MemRegion *r[8];
    uint64_t start[8], len[8];
    int n;
} FlatLog;

static void flat_record(void *opaque, const MemRegion *r, uint64_t start, uint64_t len)
{
    FlatLog *l = opaque;
    if (l->n < 8) {
        l->r[l->n] = r;
        l->start[l->n] = start;
        l->len[l->n] = len;
        l->n++;
    }
}

START_TEST(flatten_splits_ram_around_shadowing_mmio)
{
    MemMap *mm = memmap_new();
    uint8_t ram[0x1000];
    TestDev d = { 0 };
    MemRegion *r = memmap_add_ram(mm, "ram", 0, 0x1000, ram, NULL);
    MemRegion *m = memmap_add_mmio(mm, "vga", 0x400, 0x100, &tdev_ops, &d, 1, NULL);
    MemRegion *hi = memmap_add_rom(mm, "rom", 0x2000, 0x100, ram, NULL);
    FlatLog l = { 0 };
    memmap_flatten(mm, flat_record, &l);
    ck_assert_int_eq(l.n, 4);
    ck_assert_ptr_eq(l.r[0], r);
    ck_assert_uint_eq(l.start[0], 0);
    ck_assert_uint_eq(l.len[0], 0x400);
    ck_assert_ptr_eq(l.r[1], m);
    ck_assert_uint_eq(l.len[1], 0x100);
    ck_assert_ptr_eq(l.r[2], r);
    ck_assert_uint_eq(l.start[2], 0x500);
    ck_assert_uint_eq(l.len[2], 0xb00);
    ck_assert_ptr_eq(l.r[3], hi);               /* the gap 0x1000-0x2000 is skipped */
    ck_assert_uint_eq(l.start[3], 0x2000);
    memmap_free(mm);
}
END_TEST

/* Logged RAM (the VGA framebuffer): plain RAM to readers, and every write
 * through the map or a host pointer taken for writing sets the page's bit
 * in the region's log, next to (not instead of) the machine's dirty log. */
START_TEST(logged_ram_logs_writes_apart_from_machine_log)
{
    MemMap *mm = memmap_new();
    static uint8_t ram[0x4000], vram[0x4000];
    uint64_t log = 0, mlog = 0;
    memmap_add_ram(mm, "ram", 0, sizeof ram, ram, NULL);
    MemRegion *r = memmap_add_ram_logged(mm, "lfb", 0x10000, sizeof vram, vram, &log, 1, NULL);
    ck_assert_ptr_nonnull(r);
    memmap_set_dirty_log(mm, &mlog, ram, sizeof ram);

    bool w, logged, clean;
    ck_assert_ptr_eq(memmap_host_ptr_log(mm, 0x11000, 0x1000, &w, &logged, &clean), vram + 0x1000);
    ck_assert(w && logged && clean);
    memmap_write(mm, 0x11008, 0xdeadbeef, 4);
    ck_assert_uint_eq(vram[0x1008], 0xef);
    ck_assert_uint_eq(log, 1u << 1);
    ck_assert_uint_eq(mlog, 0);                 /* not the machine's RAM */
    memmap_host_ptr_log(mm, 0x11000, 0x1000, &w, &logged, &clean);
    ck_assert(logged && !clean);

    uint8_t buf[0x1001];
    memset(buf, 5, sizeof buf);
    memmap_write_buf(mm, 0x12fff, buf, sizeof buf);     /* DMA over pages 2, 3 */
    ck_assert_uint_eq(log, (1u << 1) | (1u << 2) | (1u << 3));
    log = 0;
    ck_assert_ptr_nonnull(memmap_host_ptr(mm, 0x10010, 16, true));
    ck_assert_uint_eq(log, 1u);
    memmap_log_write(mm, 0x13000, 1);           /* the translator's first write */
    ck_assert_uint_eq(log, 1u | (1u << 3));

    memmap_write(mm, 0x2000, 1, 1);             /* RAM: the machine's log only */
    ck_assert_uint_eq(mlog, 1u << 2);
    ck_assert_uint_eq(log, 1u | (1u << 3));
    memmap_host_ptr_log(mm, 0x2000, 0x1000, &w, &logged, &clean);
    ck_assert(w && !logged && !clean);
    ck_assert_uint_eq(memmap_read(mm, 0x11008, 4), 0xdeadbeef);
    memmap_free(mm);
}
END_TEST

static Suite *memory_suite(void)
{
    Suite *s = suite_create("memory");
    TCase *tc = tcase_create("core");
    tcase_add_test(tc, ram_read_write);
    tcase_add_test(tc, unassigned_reads_ones_drops_writes);
    tcase_add_test(tc, access_straddling_ram_end);
    tcase_add_test(tc, equal_priority_overlap_refused);
    tcase_add_test(tc, higher_priority_mmio_shadows_ram);
    tcase_add_test(tc, lookups_alternate_around_shadowing_regions);
    tcase_add_test(tc, rom_ignores_guest_writes_but_loads);
    tcase_add_test(tc, mmio_wide_access_split_for_narrow_device);
    tcase_add_test(tc, mmio_narrow_access_widened_for_dword_device);
    tcase_add_test(tc, buffer_copy_across_regions);
    tcase_add_test(tc, ram_write_notifies);
    tcase_add_test(tc, io_dispatch_and_unassigned);
    tcase_add_test(tc, io_overlap_and_range_refused);
    tcase_add_test(tc, io_wide_access_spanning_owners);
    tcase_add_test(tc, unimp_accesses_are_logged);
    tcase_add_test(tc, ioport_accesses_are_logged_with_owner);
    tcase_add_test(tc, flatten_splits_ram_around_shadowing_mmio);
    tcase_add_test(tc, logged_ram_logs_writes_apart_from_machine_log);
    suite_add_tcase(s, tc);
    return s;
}
UNIT_SUITE(memory_suite)
