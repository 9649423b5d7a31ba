/*
 * The qcow2 driver (block/qcow2*.c) through the block layer: every layout
 * vx86-img can create (cluster sizes, refcount widths, extended L2, v2)
 * takes hundreds of asynchronous writes against a model, reads back the
 * same after reopening, and checks clean; discard; snapshots; the dirty
 * bit with lazy refcounts; refusals.  The comparison with qemu-img is
 * tests/system/qcow2.sh.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "block/block-int.h"
#include "block/qcow2.h"
#include "core/util.h"
#include "tests/unit/unit.h"

#define DISK (8u << 20)

static char path[64];
static char err[1024];
static uint64_t rs = 88172645463325252ull;

static uint64_t rnd(void)
{
    rs ^= rs << 13;
    rs ^= rs >> 7;
    rs ^= rs << 17;
    return rs;
}

static void setup(void)
{
    snprintf(path, sizeof path, "/tmp/vx86-test-qcow2.%d", (int)getpid());
}

static void teardown(void)
{
    unlink(path);
}

static BlockBackend *open_rw(void)
{
    BlockOpenOptions o = { .filename = path, .cache = BLK_CACHE_WRITEBACK };
    BlockBackend *bb = blk_open(&o, err, sizeof err);
    ck_assert_msg(bb != NULL, "%s", err);
    ck_assert_str_eq(blk_format_name(bb), "qcow2");
    return bb;
}

static void check_clean(BlockBackend *bb)
{
    Qcow2CheckResult res;
    ck_assert_int_eq(qcow2_check(blk_get_driver_state(bb), 0, &res, stderr), 0);
    ck_assert_uint_eq(res.corruptions, 0);
    ck_assert_uint_eq(res.leaks, 0);
}

static void create(const Qcow2CreateOptions *o)
{
    ck_assert_msg(qcow2_create(path, o, err, sizeof err) == 0, "%s", err);
}

static int errors;
static void done(void *opaque, int ret)
{
    if (ret < 0)
        errors++;
}

static const Qcow2CreateOptions layouts[] = {
    { .size = DISK },
    { .size = DISK, .version = 2 },
    { .size = DISK, .cluster_size = 512 },
    { .size = DISK, .cluster_size = 2u << 20 },
    { .size = DISK, .extended_l2 = true },
    { .size = DISK, .cluster_size = 16384, .extended_l2 = true, .refcount_bits = 1 },
    { .size = DISK, .cluster_size = 4096, .refcount_bits = 64 },
    { .size = DISK, .lazy_refcounts = true },
    { .size = DISK, .prealloc_metadata = true },
};

START_TEST(test_random_io)
{
    create(&layouts[_i]);
    uint8_t *model = calloc(1, DISK);
    BlockBackend *bb = open_rw();
    ck_assert_uint_eq(blk_size(bb), DISK);
    uint8_t *bufs[16];
    for (int round = 0; round < 40; round++) {
        uint64_t offs[16], lens[16];
        int n = 0;
        for (int t = 0; t < 16; t++) {
            uint64_t len = 512 * (1 + rnd() % 160), off = (rnd() % (DISK / 512)) * 512;
            if (off + len > DISK)
                len = DISK - off;
            bool clash = false;
            for (int k = 0; k < n; k++)
                clash |= off < offs[k] + lens[k] && offs[k] < off + len;
            if (clash)
                continue;
            offs[n] = off;
            lens[n] = len;
            bufs[n] = malloc(len);
            for (uint64_t b = 0; b < len; b++)
                bufs[n][b] = (uint8_t)rnd();
            memcpy(model + off, bufs[n], len);
            ck_assert_int_eq(blk_aio_write(bb, off, bufs[n], len, done, NULL), 0);
            n++;
        }
        blk_drain(bb);
        for (int k = 0; k < n; k++)
            free(bufs[k]);
    }
    ck_assert_int_eq(errors, 0);
    ck_assert_int_eq(blk_flush(bb), 0);
    check_clean(bb);
    blk_close(bb);
    bb = open_rw();
    uint8_t *back = malloc(DISK);
    ck_assert_int_eq(blk_pread(bb, 0, back, DISK), 0);
    ck_assert(memcmp(back, model, DISK) == 0);
    check_clean(bb);
    blk_close(bb);
    free(back);
    free(model);
}
END_TEST

START_TEST(test_discard)
{
    Qcow2CreateOptions o = { .size = DISK };
    create(&o);
    BlockBackend *bb = open_rw();
    uint8_t *buf = malloc(1 << 20), *back = malloc(1 << 20);
    memset(buf, 0x77, 1 << 20);
    ck_assert_int_eq(blk_pwrite(bb, 0, buf, 1 << 20), 0);
    ck_assert_int_eq(blk_discard(bb, 65536, 3 * 65536), 0);
    ck_assert_int_eq(blk_flush(bb), 0);
    ck_assert_int_eq(blk_pread(bb, 0, back, 1 << 20), 0);
    memset(buf + 65536, 0, 3 * 65536);
    ck_assert(memcmp(buf, back, 1 << 20) == 0);
    Qcow2Mapping m;
    ck_assert_int_eq(qcow2_get_mapping(blk_get_driver_state(bb), 65536, &m), 0);
    ck_assert_int_eq(m.kind, QC_UNALLOCATED);
    check_clean(bb);
    /* freed clusters are reused */
    uint64_t before = blk_get_file(bb)->file_size;
    ck_assert_int_eq(blk_pwrite(bb, 4 << 20, buf, 3 * 65536), 0);
    ck_assert_uint_eq(blk_get_file(bb)->file_size, before);
    ck_assert_int_eq(blk_flush(bb), 0);
    check_clean(bb);
    blk_close(bb);
    free(buf);
    free(back);
}
END_TEST

START_TEST(test_snapshots)
{
    Qcow2CreateOptions o = { .size = DISK };
    create(&o);
    BlockBackend *bb = open_rw();
    Qcow2 *q = blk_get_driver_state(bb);
    uint8_t *a = malloc(DISK), *b = malloc(DISK);
    memset(a, 0x11, DISK);
    ck_assert_int_eq(blk_pwrite(bb, 0, a, DISK / 2), 0);
    memset(a + DISK / 2, 0, DISK / 2);
    ck_assert_int_eq(qcow2_snapshot_create(q, "one", err, sizeof err), 0);
    check_clean(bb);
    memset(b, 0x22, DISK);
    ck_assert_int_eq(blk_pwrite(bb, 4096, b, DISK - 8192), 0);
    ck_assert_int_eq(blk_flush(bb), 0);
    check_clean(bb);
    ck_assert_int_eq(qcow2_snapshot_apply(q, "one", err, sizeof err), 0);
    check_clean(bb);
    ck_assert_int_eq(blk_pread(bb, 0, b, DISK), 0);
    ck_assert(memcmp(a, b, DISK) == 0);
    ck_assert_int_eq(qcow2_snapshot_create(q, "one", err, sizeof err), -EEXIST);
    ck_assert_int_eq(qcow2_snapshot_delete(q, "1", err, sizeof err), 0);
    ck_assert_uint_eq(q->nb_snapshots, 0);
    check_clean(bb);
    blk_close(bb);
    free(a);
    free(b);
}
END_TEST

/* Whole-VM snapshots: a VM state written past the disk (the L1 table
 * grows to reach it), kept by the snapshot only (the running image drops
 * its references), read back through the snapshot's tree, also after the
 * disk went on and after a revert; the image stays clean throughout. */
static const Qcow2CreateOptions vm_layouts[] = {
    { .size = DISK },
    { .size = DISK, .cluster_size = 16384, .extended_l2 = true },
    { .size = DISK + 12345 * 512, .cluster_size = 4096, .version = 2 },
};

START_TEST(test_vmstate)
{
    create(&vm_layouts[_i]);
    BlockBackend *bb = open_rw();
    Qcow2 *q = blk_get_driver_state(bb);
    ck_assert(blk_can_snapshot(bb));
    size_t vlen = (1u << 20) + 777;
    uint8_t *vs = malloc(vlen), *back = malloc(vlen), *disk = malloc(DISK);
    for (size_t i = 0; i < vlen; i++)
        vs[i] = (uint8_t)rnd();
    memset(disk, 0x33, DISK);
    ck_assert_int_eq(blk_pwrite(bb, 0, disk, DISK), 0);
    uint32_t l1_before = q->l1_size;
    /* Written in pieces of odd sizes, as the stream writer does. */
    for (size_t off = 0; off < vlen;) {
        size_t n = MIN(vlen - off, (size_t)100000);
        ck_assert_int_eq(blk_vmstate_save(bb, off, vs + off, n), 0);
        off += n;
    }
    ck_assert_uint_gt(q->l1_size, l1_before);
    BlockSnapshotInfo sn = { .name = "vm1", .vm_state_size = vlen, .date_sec = 1234567890,
                             .vm_clock_nsec = 5123456789ull, .icount = UINT64_MAX };
    ck_assert_int_eq(blk_snapshot_create(bb, &sn, err, sizeof err), 0);
    ck_assert_int_eq(blk_vmstate_drop(bb), 0);
    check_clean(bb);
    /* The running image maps nothing past the disk any more. */
    uint64_t first = qcow2_vm_state_offset(q, q->size) >> (q->cluster_bits + q->l2_bits);
    for (uint32_t i = (uint32_t)first; i < q->l1_size; i++)
        ck_assert_uint_eq(q->l1[i], 0);
    BlockSnapshotInfo found;
    ck_assert(blk_snapshot_find(bb, "vm1", &found));
    ck_assert_uint_eq(found.vm_state_size, vlen);
    ck_assert_uint_eq(found.vm_clock_nsec, 5123456789ull);
    ck_assert(!blk_snapshot_find(bb, "1", NULL));      /* by name, not id */
    ck_assert_int_eq(blk_vmstate_load(bb, "vm1", 0, back, vlen), 0);
    ck_assert(memcmp(vs, back, vlen) == 0);
    ck_assert_int_eq(blk_vmstate_load(bb, "vm1", vlen - 10, back, 11), -EIO);
    /* The disk moves on; the snapshot's VM state does not. */
    memset(disk, 0x44, DISK);
    ck_assert_int_eq(blk_pwrite(bb, 4096, disk, DISK / 2), 0);
    ck_assert_int_eq(blk_vmstate_save(bb, 0, disk, 65536), 0);
    ck_assert_int_eq(blk_vmstate_drop(bb), 0);
    ck_assert_int_eq(blk_vmstate_load(bb, "vm1", 1000, back, vlen - 1000), 0);
    ck_assert(memcmp(vs + 1000, back, vlen - 1000) == 0);
    check_clean(bb);
    /* Reverting brings the disk back. */
    ck_assert_int_eq(blk_snapshot_goto(bb, "vm1", err, sizeof err), 0);
    check_clean(bb);
    ck_assert_int_eq(blk_pread(bb, 0, disk, DISK), 0);
    ck_assert(disk[0] == 0x33 && memcmp(disk, disk + 1, DISK - 1) == 0);
    ck_assert_int_eq(blk_vmstate_load(bb, "vm1", 0, back, vlen), 0);
    ck_assert(memcmp(vs, back, vlen) == 0);
    blk_close(bb);
    /* Reopened: the table has the VM state size (64-bit field). */
    bb = open_rw();
    ck_assert(blk_snapshot_find(bb, "vm1", &found));
    ck_assert_uint_eq(found.vm_state_size, vlen);
    ck_assert_int_eq(blk_snapshot_delete(bb, "vm1", err, sizeof err), 0);
    ck_assert_int_eq(blk_snapshot_delete(bb, "vm1", err, sizeof err), -ENOENT);
    check_clean(bb);
    blk_close(bb);
    free(vs);
    free(back);
    free(disk);
}
END_TEST

START_TEST(test_snapshot_row)
{
    char row[256], size[32];
    blk_snapshot_row(NULL, NULL, row, sizeof row);
    ck_assert_str_eq(row, "ID        TAG               VM SIZE                DATE     VM CLOCK     ICOUNT");
    const uint64_t sizes[] = { 0, 999, 1000, 72356429, 1ull << 30, 1536ull << 20 };
    const char *const want[] = { "0 B", "999 B", "0.977 KiB", "69 MiB", "1 GiB", "1.5 GiB" };
    for (int i = 0; i < 6; i++) {
        blk_size_str(sizes[i], size, sizeof size);
        ck_assert_str_eq(size, want[i]);
    }
    BlockSnapshotInfo sn = { .id = "2", .name = "vm-20261206180923", .vm_state_size = 72356429,
                             .vm_clock_nsec = 28166205544ull, .icount = UINT64_MAX };
    blk_snapshot_row(&sn, "--", row, sizeof row);
    /* the columns after the date, which depends on the time zone */
    ck_assert(strncmp(row, "--        vm-20261206180923   69 MiB ", 37) == 0);
    ck_assert_str_eq(row + strlen(row) - 24, " 00:00:28.166           ");
}
END_TEST

static uint64_t header_incompat(void)
{
    uint8_t h[8];
    int fd = open(path, O_RDONLY);
    ck_assert_int_eq(pread(fd, h, 8, 72), 8);
    close(fd);
    return qcow2_be64(h);
}

START_TEST(test_lazy_dirty)
{
    Qcow2CreateOptions o = { .size = DISK, .lazy_refcounts = true };
    create(&o);
    BlockBackend *bb = open_rw();
    uint8_t buf[4096] = { 1 };
    ck_assert_uint_eq(header_incompat() & QCOW2_INCOMPAT_DIRTY, 0);
    ck_assert_int_eq(blk_pwrite(bb, 0, buf, sizeof buf), 0);
    ck_assert_uint_eq(header_incompat() & QCOW2_INCOMPAT_DIRTY, QCOW2_INCOMPAT_DIRTY);
    blk_close(bb);
    ck_assert_uint_eq(header_incompat() & QCOW2_INCOMPAT_DIRTY, 0);

    /* A dirty image with a refcount left behind is repaired before the
     * first write. */
    int fd = open(path, O_RDWR);
    uint8_t d[8];
    qcow2_put_be64(d, QCOW2_INCOMPAT_DIRTY);
    ck_assert_int_eq(pwrite(fd, d, 8, 72), 8);
    close(fd);
    bb = open_rw();
    ck_assert_int_eq(blk_pwrite(bb, 1 << 20, buf, sizeof buf), 0);
    ck_assert_int_eq(blk_flush(bb), 0);
    check_clean(bb);
    blk_close(bb);
}
END_TEST

START_TEST(test_refusals)
{
    Qcow2CreateOptions o = { .size = DISK };
    create(&o);
    static const struct { unsigned off; uint8_t v[4]; const char *msg; } bad[] = {
        { 20, { 0, 0, 0, 30 }, "cluster_bits" },
        { 4, { 0, 0, 0, 1 }, "version" },
        { 32, { 0, 0, 0, 1 }, "encrypted" },
        { 96, { 0, 0, 0, 9 }, "refcount_order" },
    };
    for (unsigned i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        create(&o);
        int fd = open(path, O_RDWR);
        ck_assert_int_eq(pwrite(fd, bad[i].v, 4, bad[i].off), 4);
        close(fd);
        BlockOpenOptions bo = { .filename = path, .format = "qcow2" };
        ck_assert_ptr_null(blk_open(&bo, err, sizeof err));
        ck_assert_msg(strstr(err, bad[i].msg) && strstr(err, path), "%s", err);
    }
    /* v2 cannot have lazy refcounts or extended L2 */
    Qcow2CreateOptions v2 = { .size = DISK, .version = 2, .lazy_refcounts = true };
    ck_assert_int_lt(qcow2_create(path, &v2, err, sizeof err), 0);
}
END_TEST

static Suite *qcow2_suite(void)
{
    Suite *s = suite_create("qcow2");
    TCase *tc = tcase_create("qcow2");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_set_timeout(tc, 60);
    tcase_add_loop_test(tc, test_random_io, 0, sizeof layouts / sizeof layouts[0]);
    tcase_add_test(tc, test_discard);
    tcase_add_test(tc, test_snapshots);
    tcase_add_loop_test(tc, test_vmstate, 0, sizeof vm_layouts / sizeof vm_layouts[0]);
    tcase_add_test(tc, test_snapshot_row);
    tcase_add_test(tc, test_lazy_dirty);
    tcase_add_test(tc, test_refusals);
    suite_add_tcase(s, tc);
    return s;
}

UNIT_SUITE(qcow2_suite)
