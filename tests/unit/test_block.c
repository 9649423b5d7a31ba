/*
 * The block layer (block/): opening and its one-line refusals, range and
 * read-only checks, hundreds of asynchronous requests in flight against a
 * model of the disk, flush, the -snapshot overlay leaving the image
 * byte-identical, cache=none with unaligned requests (and its fallback when
 * the file system refuses O_DIRECT), completions through a machine's main
 * loop, and drive_open.  Locking is in test_block_lock.c.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "block/block-int.h"
#include "block/block.h"
#include "block/drive.h"
#include "core/machine.h"
#include "tests/unit/unit.h"

#include <glib.h>

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

static char dir[64];
static char img[128];
static char err[1024];

static uint64_t rng_state;

static uint64_t rnd(void)
{
    rng_state ^= rng_state << 13;
    rng_state ^= rng_state >> 7;
    rng_state ^= rng_state << 17;
    return rng_state;
}

static void fill_random(uint8_t *p, size_t n)
{
    for (size_t i = 0; i < n; i++)
        p[i] = (uint8_t)rnd();
}

/* Writes an image of len bytes of random data; returns the data. */
static uint8_t *make_image(const char *path, size_t len)
{
    uint8_t *d = malloc(len ? len : 1);
    fill_random(d, len);
    FILE *f = fopen(path, "w");
    ck_assert_ptr_nonnull(f);
    ck_assert_uint_eq(fwrite(d, 1, len, f), len);
    fclose(f);
    return d;
}

static uint8_t *read_whole(const char *path, size_t *len)
{
    gchar *data;
    gsize n;
    ck_assert(g_file_get_contents(path, &data, &n, NULL));
    *len = n;
    return (uint8_t *)data;
}

static char *sha256_of(const char *path)
{
    size_t n;
    uint8_t *d = read_whole(path, &n);
    char *s = g_compute_checksum_for_data(G_CHECKSUM_SHA256, d, n);
    g_free(d);
    return s;
}

static BlockBackend *open_img(const char *path, BlockCacheMode cache, bool ro, bool snap)
{
    BlockOpenOptions o = { .filename = path, .format = "raw", .cache = cache,
                           .read_only = ro, .snapshot = snap };
    BlockBackend *bb = blk_open(&o, err, sizeof err);
    ck_assert_msg(bb != NULL, "blk_open: %s", err);
    return bb;
}

static void setup(void)
{
    snprintf(dir, sizeof dir, "/tmp/vx86-block-XXXXXX");
    ck_assert_ptr_nonnull(mkdtemp(dir));
    snprintf(img, sizeof img, "%s/disk.img", dir);
    err[0] = '\0';
    rng_state = 0x9e3779b97f4a7c15ULL;
    bfile_refuse_direct_for_tests = false;
}

static void teardown(void)
{
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    ck_assert_int_eq(system(cmd), 0);
}

/* ---- completion bookkeeping ---- */

typedef struct Done {
    int calls;
    int ret;
} Done;

static void done_cb(void *opaque, int ret)
{
    Done *d = opaque;
    d->calls++;
    d->ret = ret;
}

/* ---- opening ---- */

START_TEST(open_refusals_are_one_line_naming_the_file)
{
    BlockOpenOptions o = { .filename = img, .format = "raw" };
    /* Missing. */
    ck_assert_ptr_null(blk_open(&o, err, sizeof err));
    char want[512];
    snprintf(want, sizeof want, "%s: No such file or directory", img);
    ck_assert_str_eq(err, want);
    /* A directory. */
    o.filename = dir;
    ck_assert_ptr_null(blk_open(&o, err, sizeof err));
    snprintf(want, sizeof want, "%s: is a directory, not a disk image", dir);
    ck_assert_str_eq(err, want);
    /* Zero length: refused, and still zero length afterwards. */
    close(open(img, O_CREAT | O_WRONLY, 0644));
    o.filename = img;
    ck_assert_ptr_null(blk_open(&o, err, sizeof err));
    snprintf(want, sizeof want, "%s: image is empty (0 bytes)", img);
    ck_assert_str_eq(err, want);
    struct stat st;
    ck_assert_int_eq(stat(img, &st), 0);
    ck_assert_int_eq(st.st_size, 0);
    /* An unknown format. */
    free(make_image(img, 4096));
    o.format = "vhdx";
    ck_assert_ptr_null(blk_open(&o, err, sizeof err));
    snprintf(want, sizeof want, "%s: unknown image format 'vhdx'", img);
    ck_assert_str_eq(err, want);
    /* Not a regular file. */
    o.format = NULL;
    o.filename = "/dev/null";
    ck_assert_ptr_null(blk_open(&o, err, sizeof err));
    ck_assert_str_eq(err, "/dev/null: not a regular file or block device");
    /* No name. */
    o.filename = NULL;
    ck_assert_ptr_null(blk_open(&o, err, sizeof err));
    ck_assert(strchr(err, '\n') == NULL);
}
END_TEST

START_TEST(open_unreadable_file)
{
    if (geteuid() == 0)
        return;                   /* root reads everything */
    free(make_image(img, 4096));
    chmod(img, 0);
    BlockOpenOptions o = { .filename = img, .format = "raw", .read_only = true };
    ck_assert_ptr_null(blk_open(&o, err, sizeof err));
    char want[512];
    snprintf(want, sizeof want, "%s: Permission denied", img);
    ck_assert_str_eq(err, want);
}
END_TEST

START_TEST(probe_size_and_tail)
{
    /* 1000 bytes: the guest sees 1024 (whole sectors), the tail reads 0. */
    uint8_t *d = make_image(img, 1000);
    BlockOpenOptions o = { .filename = img };           /* probe: raw */
    BlockBackend *bb = blk_open(&o, err, sizeof err);
    ck_assert_ptr_nonnull(bb);
    ck_assert_str_eq(blk_format_name(bb), "raw");
    ck_assert_uint_eq(blk_size(bb), 1024);
    ck_assert_str_eq(blk_filename(bb), img);
    ck_assert(!blk_is_read_only(bb));
    ck_assert(!blk_is_snapshot(bb));
    uint8_t buf[1024];
    ck_assert_int_eq(blk_pread(bb, 0, buf, sizeof buf), 0);
    ck_assert(!memcmp(buf, d, 1000));
    for (int i = 1000; i < 1024; i++)
        ck_assert_uint_eq(buf[i], 0);
    blk_close(bb);
    free(d);
}
END_TEST

/* ---- request checks ---- */

START_TEST(out_of_range_and_overflow_refused_at_once)
{
    uint8_t *d = make_image(img, 65536);
    BlockBackend *bb = open_img(img, BLK_CACHE_WRITEBACK, false, false);
    uint8_t buf[512];
    Done done = { 0 };
    ck_assert_int_eq(blk_aio_read(bb, 65536, buf, 1, done_cb, &done), -EIO);
    ck_assert_int_eq(blk_aio_read(bb, 65024, buf, 513, done_cb, &done), -EIO);
    ck_assert_int_eq(blk_aio_write(bb, UINT64_MAX - 10, buf, 512, done_cb, &done), -EIO);
    ck_assert_int_eq(blk_aio_read(bb, 512, buf, SIZE_MAX, done_cb, &done), -EIO);
    ck_assert_int_eq(blk_pwrite(bb, 1ULL << 63, buf, 512), -EIO);
    ck_assert_int_eq(blk_pread(bb, UINT64_MAX, buf, 2), -EIO);
    ck_assert_int_eq(blk_in_flight(bb), 0);
    blk_drain(bb);
    ck_assert_int_eq(done.calls, 0);          /* refused: no callback */
    /* The last byte and an empty request at the end are fine. */
    ck_assert_int_eq(blk_pread(bb, 65535, buf, 1), 0);
    ck_assert_uint_eq(buf[0], d[65535]);
    ck_assert_int_eq(blk_aio_read(bb, 65536, buf, 0, done_cb, &done), 0);
    blk_drain(bb);
    ck_assert_int_eq(done.calls, 1);
    ck_assert_int_eq(done.ret, 0);
    blk_close(bb);
    /* Nothing was written. */
    size_t n;
    uint8_t *now = read_whole(img, &n);
    ck_assert_uint_eq(n, 65536);
    ck_assert(!memcmp(now, d, n));
    g_free(now);
    free(d);
}
END_TEST

START_TEST(read_only_refuses_writes)
{
    uint8_t *d = make_image(img, 8192);
    char *before = sha256_of(img);
    BlockBackend *bb = open_img(img, BLK_CACHE_WRITEBACK, true, false);
    ck_assert(blk_is_read_only(bb));
    uint8_t buf[512] = { 1 };
    Done done = { 0 };
    ck_assert_int_eq(blk_aio_write(bb, 0, buf, 512, done_cb, &done), -EROFS);
    ck_assert_int_eq(blk_pwrite(bb, 0, buf, 512), -EROFS);
    ck_assert_int_eq(blk_aio_flush(bb, done_cb, &done), 0);     /* nothing to flush */
    blk_drain(bb);
    ck_assert_int_eq(done.calls, 1);
    ck_assert_int_eq(done.ret, 0);
    ck_assert_int_eq(blk_aio_read(bb, 512, buf, 512, done_cb, &done), 0);
    blk_drain(bb);
    ck_assert_int_eq(done.ret, 0);
    ck_assert(!memcmp(buf, d + 512, 512));
    blk_close(bb);
    char *after = sha256_of(img);
    ck_assert_str_eq(before, after);
    g_free(before);
    g_free(after);
    free(d);
}
END_TEST

/* ---- many requests in flight ---- */

#define SLOT 4096
#define NSLOTS 512                      /* a 2 MiB disk */

typedef struct Req {
    uint64_t off;
    size_t len;
    uint8_t *buf;
    int calls, ret;
} Req;

static void req_cb(void *opaque, int ret)
{
    Req *r = opaque;
    r->calls++;
    r->ret = ret;
}

/* Writes into distinct slots (overlapping requests in flight have no
 * defined order), reads of other slots at the same time, then reads of
 * everything; every byte is checked against the model. */
static void concurrent_round(BlockBackend *bb, uint8_t *model, bool unaligned)
{
    int perm[NSLOTS];
    for (int i = 0; i < NSLOTS; i++)
        perm[i] = i;
    for (int i = NSLOTS - 1; i > 0; i--) {
        int j = (int)(rnd() % (uint64_t)(i + 1)), t = perm[i];
        perm[i] = perm[j];
        perm[j] = t;
    }
    enum { NW = 300, NR = NSLOTS - NW };
    static Req w[NW], r[NR];
    for (int i = 0; i < NW; i++) {
        uint64_t base = (uint64_t)perm[i] * SLOT;
        size_t off = unaligned ? rnd() % SLOT : (rnd() % 8) * 512;
        size_t len = unaligned ? 1 + rnd() % (SLOT - off) : 512 * (1 + rnd() % (8 - off / 512));
        w[i] = (Req){ .off = base + off, .len = len, .buf = malloc(len + 1) };
        uint8_t *b = w[i].buf + (unaligned ? 1 : 0);      /* odd buffer addresses too */
        fill_random(b, len);
        memcpy(model + w[i].off, b, len);
        ck_assert_int_eq(blk_aio_write(bb, w[i].off, b, len, req_cb, &w[i]), 0);
    }
    for (int i = 0; i < NR; i++) {
        uint64_t base = (uint64_t)perm[NW + i] * SLOT;
        r[i] = (Req){ .off = base + (unaligned ? rnd() % 100 : 0), .len = SLOT - 100,
                      .buf = malloc(SLOT) };
        ck_assert_int_eq(blk_aio_read(bb, r[i].off, r[i].buf, r[i].len, req_cb, &r[i]), 0);
    }
    ck_assert_int_eq(blk_in_flight(bb), NSLOTS);
    blk_drain(bb);
    ck_assert_int_eq(blk_in_flight(bb), 0);
    for (int i = 0; i < NW; i++) {
        ck_assert_int_eq(w[i].calls, 1);
        ck_assert_int_eq(w[i].ret, 0);
        free(w[i].buf);
    }
    for (int i = 0; i < NR; i++) {
        ck_assert_int_eq(r[i].calls, 1);
        ck_assert_int_eq(r[i].ret, 0);
        ck_assert(!memcmp(r[i].buf, model + r[i].off, r[i].len));
        free(r[i].buf);
    }
    /* Everything back, in random pieces, all in flight at once. */
    static Req a[400];
    for (int i = 0; i < 400; i++) {
        uint64_t off = rnd() % (NSLOTS * SLOT);
        size_t len = 1 + rnd() % 20000;
        if (off + len > NSLOTS * SLOT)
            len = NSLOTS * SLOT - off;
        a[i] = (Req){ .off = off, .len = len, .buf = malloc(len) };
        ck_assert_int_eq(blk_aio_read(bb, off, a[i].buf, len, req_cb, &a[i]), 0);
    }
    blk_drain(bb);
    for (int i = 0; i < 400; i++) {
        ck_assert_int_eq(a[i].ret, 0);
        ck_assert_msg(!memcmp(a[i].buf, model + a[i].off, a[i].len),
                      "read %d at %llu+%zu differs", i, (unsigned long long)a[i].off, a[i].len);
        free(a[i].buf);
    }
}

static void check_file_is(const char *path, const uint8_t *model, size_t len)
{
    size_t n;
    uint8_t *now = read_whole(path, &n);
    ck_assert_uint_eq(n, len);
    ck_assert(!memcmp(now, model, len));
    g_free(now);
}

START_TEST(concurrent_requests_writeback)
{
    uint8_t *model = make_image(img, NSLOTS * SLOT);
    BlockBackend *bb = open_img(img, BLK_CACHE_WRITEBACK, false, false);
    concurrent_round(bb, model, false);
    concurrent_round(bb, model, true);
    Done done = { 0 };
    ck_assert_int_eq(blk_aio_flush(bb, done_cb, &done), 0);
    blk_drain(bb);
    ck_assert_int_eq(done.calls, 1);
    ck_assert_int_eq(done.ret, 0);
    ck_assert_int_eq(blk_flush(bb), 0);
    blk_close(bb);
    check_file_is(img, model, NSLOTS * SLOT);
    free(model);
}
END_TEST

START_TEST(concurrent_requests_cache_none_unaligned)
{
    uint8_t *model = make_image(img, NSLOTS * SLOT);
    BlockBackend *bb = open_img(img, BLK_CACHE_NONE, false, false);
    const BlockFile *f = blk_get_file(bb);
    /* /tmp is a disk file system on the test machines; tmpfs has O_DIRECT
     * since Linux 6.6.  Either way the data must be right. */
    if (f->direct)
        ck_assert_uint_ge(f->req_align, 512);
    concurrent_round(bb, model, true);
    concurrent_round(bb, model, false);
    ck_assert_int_eq(blk_flush(bb), 0);
    blk_close(bb);
    check_file_is(img, model, NSLOTS * SLOT);
    free(model);
}
END_TEST

/* Many tiny writes into one 4 KiB block at once: each is a read-modify-
 * write under O_DIRECT, and none may undo another. */
START_TEST(cache_none_neighbouring_writes_in_one_block)
{
    uint8_t *model = make_image(img, 16384);
    BlockBackend *bb = open_img(img, BLK_CACHE_DIRECTSYNC, false, false);
    static uint8_t bufs[64][64];
    static Req r[64];
    for (int i = 0; i < 64; i++) {
        fill_random(bufs[i], 64);
        memcpy(model + 4096 + i * 64, bufs[i], 64);
        r[i] = (Req){ 0 };
        ck_assert_int_eq(blk_aio_write(bb, 4096 + i * 64, bufs[i], 64, req_cb, &r[i]), 0);
    }
    blk_drain(bb);
    for (int i = 0; i < 64; i++)
        ck_assert_int_eq(r[i].ret, 0);
    /* Odd sizes at odd places, synchronous. */
    uint8_t b[3000];
    fill_random(b, sizeof b);
    ck_assert_int_eq(blk_pwrite(bb, 4095, b + 1, 2), 0);
    memcpy(model + 4095, b + 1, 2);
    ck_assert_int_eq(blk_pwrite(bb, 8191, b, 3000), 0);
    memcpy(model + 8191, b, 3000);
    ck_assert_int_eq(blk_pread(bb, 4001, b + 3, 2000), 0);
    ck_assert(!memcmp(b + 3, model + 4001, 2000));
    blk_close(bb);
    check_file_is(img, model, 16384);
    free(model);
}
END_TEST

/* A write into the last, partial sector of a file under O_DIRECT: the
 * file grows to what was written, not to the next 4 KiB. */
START_TEST(cache_none_tail_write_keeps_size)
{
    uint8_t *model = make_image(img, 5000);
    BlockBackend *bb = open_img(img, BLK_CACHE_NONE, false, false);
    ck_assert_uint_eq(blk_size(bb), 5120);
    uint8_t b[120];
    fill_random(b, sizeof b);
    ck_assert_int_eq(blk_pwrite(bb, 5000, b, 120), 0);
    blk_close(bb);
    uint8_t *want = malloc(5120);
    memcpy(want, model, 5000);
    memcpy(want + 5000, b, 120);
    check_file_is(img, want, 5120);
    free(want);
    free(model);
}
END_TEST

START_TEST(cache_none_falls_back_when_refused)
{
    uint8_t *model = make_image(img, NSLOTS * SLOT);
    bfile_refuse_direct_for_tests = true;
    BlockBackend *bb = open_img(img, BLK_CACHE_NONE, false, false);
    ck_assert(!blk_get_file(bb)->direct);
    concurrent_round(bb, model, true);
    blk_close(bb);
    check_file_is(img, model, NSLOTS * SLOT);
    free(model);
}
END_TEST

START_TEST(unsafe_and_writethrough_modes)
{
    uint8_t *model = make_image(img, NSLOTS * SLOT);
    BlockBackend *bb = open_img(img, BLK_CACHE_UNSAFE, false, false);
    concurrent_round(bb, model, false);
    ck_assert_int_eq(blk_flush(bb), 0);                  /* ignored */
    blk_close(bb);
    bb = open_img(img, BLK_CACHE_WRITETHROUGH, false, false);
    uint8_t b[512];
    fill_random(b, sizeof b);
    memcpy(model + 512, b, 512);
    ck_assert_int_eq(blk_pwrite(bb, 512, b, 512), 0);
    blk_close(bb);
    check_file_is(img, model, NSLOTS * SLOT);
    free(model);
}
END_TEST

/* ---- -snapshot ---- */

START_TEST(snapshot_leaves_image_byte_identical)
{
    size_t size = 3 * OVERLAY_CLUSTER_SIZE + 1000;       /* a partial last cluster */
    uint8_t *model = make_image(img, size);
    char *before = sha256_of(img);
    struct stat st0;
    ck_assert_int_eq(stat(img, &st0), 0);
    BlockBackend *bb = open_img(img, BLK_CACHE_WRITEBACK, false, true);
    ck_assert(blk_is_snapshot(bb));
    ck_assert(!blk_is_read_only(bb));
    uint64_t gsize = blk_size(bb);
    ck_assert_uint_eq(gsize, (size + 511) & ~511ULL);
    uint8_t *guest = calloc(1, gsize);
    memcpy(guest, model, size);
    /* Partial first cluster, one crossing clusters, a whole cluster, the
     * partial last cluster up to the end, then the concurrent rounds. */
    struct { uint64_t off; size_t len; } w[] = {
        { 100, 7 }, { OVERLAY_CLUSTER_SIZE - 5, 10 },
        { OVERLAY_CLUSTER_SIZE, OVERLAY_CLUSTER_SIZE }, { gsize - 600, 600 },
    };
    for (size_t i = 0; i < ARRAY_SIZE(w); i++) {
        uint8_t *b = malloc(w[i].len);
        fill_random(b, w[i].len);
        memcpy(guest + w[i].off, b, w[i].len);
        ck_assert_int_eq(blk_pwrite(bb, w[i].off, b, w[i].len), 0);
        free(b);
    }
    ck_assert_uint_eq(overlay_allocated_clusters(blk_get_overlay(bb)), 3);
    uint8_t *back = malloc(gsize);
    ck_assert_int_eq(blk_pread(bb, 0, back, gsize), 0);
    ck_assert(!memcmp(back, guest, gsize));
    free(back);
    ck_assert_int_eq(blk_flush(bb), 0);
    blk_close(bb);

    char *after = sha256_of(img);
    ck_assert_str_eq(before, after);
    struct stat st1;
    ck_assert_int_eq(stat(img, &st1), 0);
    ck_assert_int_eq(st1.st_size, st0.st_size);
    ck_assert(st1.st_mtim.tv_sec == st0.st_mtim.tv_sec && st1.st_mtim.tv_nsec == st0.st_mtim.tv_nsec);
    g_free(before);
    g_free(after);
    free(guest);
    free(model);
}
END_TEST

START_TEST(snapshot_concurrent_and_readonly_file)
{
    uint8_t *model = make_image(img, NSLOTS * SLOT);
    char *before = sha256_of(img);
    chmod(img, 0444);              /* -snapshot never needs write access */
    BlockBackend *bb = open_img(img, BLK_CACHE_NONE, false, true);
    concurrent_round(bb, model, true);
    concurrent_round(bb, model, false);
    blk_close(bb);
    char *after = sha256_of(img);
    ck_assert_str_eq(before, after);
    g_free(before);
    g_free(after);
    free(model);
}
END_TEST

/* ---- the main loop ---- */

static int kicks;

static void count_kick(void *opaque, int n, int level)
{
    __atomic_fetch_add(&kicks, 1, __ATOMIC_RELAXED);
}

START_TEST(attach_delivers_through_watched_fd_and_kicks)
{
    uint8_t *model = make_image(img, 65536);
    char main_err[128];
    Machine *m = machine_new(1 << 20, CLOCK_MANUAL, main_err, sizeof main_err);
    ck_assert_ptr_nonnull(m);
    kicks = 0;
    machine_set_kick(m, count_kick, NULL);
    BlockBackend *bb = open_img(img, BLK_CACHE_WRITEBACK, false, false);
    int nfds = m->nfds;
    blk_attach(bb, m);
    ck_assert_int_eq(m->nfds, nfds + 1);
    uint8_t buf[4096];
    Done done = { 0 };
    m->stop_requested = false;
    ck_assert_int_eq(blk_aio_read(bb, 8192, buf, sizeof buf, done_cb, &done), 0);
    /* What the main loop does: poll the watched fds, run the handler. */
    FdWatch *w = &m->fds[nfds];
    struct pollfd p = { .fd = w->get_fd(w->opaque), .events = POLLIN };
    ck_assert_int_eq(poll(&p, 1, 5000), 1);
    ck_assert_int_eq(done.calls, 0);             /* only on the main thread */
    w->on_readable(w->opaque);
    ck_assert_int_eq(done.calls, 1);
    ck_assert_int_eq(done.ret, 0);
    ck_assert(!memcmp(buf, model + 8192, sizeof buf));
    /* The worker notifies right after making the fd readable. */
    for (int i = 0; i < 5000 && !__atomic_load_n(&kicks, __ATOMIC_ACQUIRE); i++)
        usleep(1000);
    ck_assert_int_ge(__atomic_load_n(&kicks, __ATOMIC_ACQUIRE), 1);
    ck_assert(__atomic_load_n(&m->stop_requested, __ATOMIC_ACQUIRE));
    ck_assert_int_eq(blk_in_flight(bb), 0);
    /* blk_poll runs what is ready without waiting. */
    ck_assert_int_eq(blk_aio_read(bb, 0, buf, 512, done_cb, &done), 0);
    while (done.calls < 2)
        blk_poll(bb);
    blk_close(bb);                              /* unwatches */
    ck_assert_int_eq(m->nfds, nfds);
    machine_set_kick(m, NULL, NULL);
    machine_free(m);
    free(model);
}
END_TEST

/* Callbacks that queue more requests: drain waits for those too. */
typedef struct Chain {
    BlockBackend *bb;
    uint8_t buf[512];
    int left;
} Chain;

static void chain_cb(void *opaque, int ret)
{
    Chain *c = opaque;
    ck_assert_int_eq(ret, 0);
    if (--c->left > 0)
        ck_assert_int_eq(blk_aio_read(c->bb, (uint64_t)c->left * 512, c->buf, 512, chain_cb, c), 0);
}

START_TEST(drain_runs_requests_queued_by_callbacks)
{
    free(make_image(img, 65536));
    Chain c = { .bb = open_img(img, BLK_CACHE_WRITEBACK, false, false), .left = 50 };
    ck_assert_int_eq(blk_aio_read(c.bb, 0, c.buf, 512, chain_cb, &c), 0);
    blk_drain(c.bb);
    ck_assert_int_eq(c.left, 0);
    ck_assert_int_eq(blk_in_flight(c.bb), 0);
    blk_close(c.bb);
}
END_TEST

/* ---- drive_open ---- */

START_TEST(drive_open_modes_and_errors)
{
    free(make_image(img, 65536));
    char *before = sha256_of(img);
    DriveOpt d = { .file = img, .format = "raw", .iface = DRIVE_IF_IDE, .opt = "-hda" };
    BlockBackend *bb = drive_open(&d, false, false, err, sizeof err);
    ck_assert_ptr_nonnull(bb);
    ck_assert(!blk_is_read_only(bb) && !blk_is_snapshot(bb));
    blk_close(bb);
    /* -snapshot: an overlay. */
    bb = drive_open(&d, true, false, err, sizeof err);
    ck_assert(blk_is_snapshot(bb));
    uint8_t b[512] = { 0xaa };
    ck_assert_int_eq(blk_pwrite(bb, 0, b, 512), 0);
    blk_close(bb);
    /* A CD-ROM is read-only, -snapshot or not. */
    d.media = DRIVE_MEDIA_CDROM;
    d.opt = "-cdrom";
    bb = drive_open(&d, true, false, err, sizeof err);
    ck_assert(blk_is_read_only(bb) && !blk_is_snapshot(bb));
    blk_close(bb);
    /* Errors name the option and the file. */
    DriveOpt missing = { .file = "/nonexistent.img", .opt = "-hdb" };
    ck_assert_ptr_null(drive_open(&missing, false, false, err, sizeof err));
    ck_assert_str_eq(err, "-hdb: /nonexistent.img: No such file or directory");
    DriveOpt empty_cd = { .media = DRIVE_MEDIA_CDROM, .opt = "-drive" };
    ck_assert_ptr_null(drive_open(&empty_cd, false, false, err, sizeof err));
    ck_assert_str_eq(err, "-drive: no medium");
    ck_assert_int_eq(drive_cache_mode(DRIVE_CACHE_NONE), BLK_CACHE_NONE);
    ck_assert_int_eq(drive_cache_mode(DRIVE_CACHE_DIRECTSYNC), BLK_CACHE_DIRECTSYNC);
    ck_assert_int_eq(drive_cache_mode(DRIVE_CACHE_UNSAFE), BLK_CACHE_UNSAFE);
    char *after = sha256_of(img);
    ck_assert_str_eq(before, after);
    g_free(before);
    g_free(after);
}
END_TEST

/* ---- CD images: the light ISO 9660 / El Torito check of drive_open ---- */

#define ISO_SEC 2048

/* A minimal El Torito ISO: PVD at 16 (volume `blocks` sectors), boot
 * record at 17 pointing at the catalogue in sector 19, terminator at 18;
 * the file is `file_sectors` long. */
static void make_iso(const char *path, uint32_t blocks, uint32_t file_sectors)
{
    size_t len = (size_t)file_sectors * ISO_SEC;
    uint8_t *d = calloc(1, len);
    uint8_t *pvd = d + 16 * ISO_SEC, *br = d + 17 * ISO_SEC, *term = d + 18 * ISO_SEC;
    uint8_t *cat = d + 19 * ISO_SEC;
    pvd[0] = 1;
    memcpy(pvd + 1, "CD001", 5);
    pvd[6] = 1;
    for (int i = 0; i < 4; i++) {
        pvd[80 + i] = (uint8_t)(blocks >> (8 * i));     /* both-endian */
        pvd[87 - i] = (uint8_t)(blocks >> (8 * i));
    }
    pvd[128] = 0x00; pvd[129] = 0x08; pvd[130] = 0x08; pvd[131] = 0x00;
    br[0] = 0;
    memcpy(br + 1, "CD001", 5);
    br[6] = 1;
    memcpy(br + 7, "EL TORITO SPECIFICATION", 23);
    br[71] = 19;
    term[0] = 255;
    memcpy(term + 1, "CD001", 5);
    term[6] = 1;
    cat[0] = 1;                                         /* validation entry */
    cat[30] = 0x55;
    cat[31] = 0xaa;
    uint16_t sum = 0;
    for (int i = 0; i < 32; i += 2)
        sum = (uint16_t)(sum + (cat[i] | cat[i + 1] << 8));
    cat[28] = (uint8_t)-sum;
    cat[29] = (uint8_t)((uint16_t)-sum >> 8);
    cat[32] = 0x88;                                     /* default entry: bootable */
    FILE *f = fopen(path, "w");
    ck_assert_ptr_nonnull(f);
    ck_assert_uint_eq(fwrite(d, 1, len, f), len);
    fclose(f);
    free(d);
}

static void poke(const char *path, long off, uint8_t v)
{
    FILE *f = fopen(path, "r+");
    ck_assert_ptr_nonnull(f);
    fseek(f, off, SEEK_SET);
    fputc(v, f);
    fclose(f);
}

/* drive_open with media=cdrom: NULL and the one line, or the backend. */
static BlockBackend *open_cd(const char *path)
{
    DriveOpt d = { .file = (char *)path, .format = "raw", .media = DRIVE_MEDIA_CDROM,
                   .opt = "-cdrom" };
    return drive_open(&d, false, false, err, sizeof err);
}

START_TEST(cd_image_sound_iso_opens)
{
    make_iso(img, 24, 24);
    BlockBackend *bb = open_cd(img);
    ck_assert_msg(bb != NULL, "%s", err);
    blk_close(bb);
    make_iso(img, 24, 40);                      /* padding after the volume: fine */
    bb = open_cd(img);
    ck_assert_msg(bb != NULL, "%s", err);
    blk_close(bb);
    free(make_image(img, 64 * 1024));           /* not ISO 9660 at all: fine */
    bb = open_cd(img);
    ck_assert_msg(bb != NULL, "%s", err);
    blk_close(bb);
}
END_TEST

START_TEST(cd_image_truncated_iso_refused)
{
    make_iso(img, 100, 24);
    ck_assert_ptr_null(open_cd(img));
    char want[512];
    snprintf(want, sizeof want, "-cdrom: %s: truncated ISO image (volume %u bytes, file %u bytes)",
             img, 100 * ISO_SEC, 24 * ISO_SEC);
    ck_assert_str_eq(err, want);
    ck_assert_ptr_null(strchr(err, '\n'));
}
END_TEST

START_TEST(cd_image_broken_el_torito_refused)
{
    static const struct { long off; uint8_t v; const char *what; } cases[] = {
        { 19 * ISO_SEC + 0, 2, "header id 0x02" },
        { 19 * ISO_SEC + 30, 0x54, "key bytes 0x54 0xaa" },
        { 19 * ISO_SEC + 31, 0x00, "key bytes 0x55 0x00" },
        { 19 * ISO_SEC + 4, 'X', "checksum" },
        { 17 * ISO_SEC + 71, 200, "past the end" },
    };
    for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
        make_iso(img, 24, 24);
        poke(img, cases[i].off, cases[i].v);
        ck_assert_ptr_null(open_cd(img));
        ck_assert_msg(strstr(err, cases[i].what) && strstr(err, img) && !strchr(err, '\n'),
                      "case %zu: %s", i, err);
    }
    /* The same bytes on a hard disk are not looked at. */
    DriveOpt d = { .file = img, .format = "raw", .media = DRIVE_MEDIA_DISK, .opt = "-hda" };
    BlockBackend *bb = drive_open(&d, false, false, err, sizeof err);
    ck_assert_msg(bb != NULL, "%s", err);
    blk_close(bb);
}
END_TEST

static Suite *block_suite(void)
{
    Suite *s = suite_create("block");
    TCase *tc = tcase_create("core");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, open_refusals_are_one_line_naming_the_file);
    tcase_add_test(tc, open_unreadable_file);
    tcase_add_test(tc, cd_image_sound_iso_opens);
    tcase_add_test(tc, cd_image_truncated_iso_refused);
    tcase_add_test(tc, cd_image_broken_el_torito_refused);
    tcase_add_test(tc, probe_size_and_tail);
    tcase_add_test(tc, out_of_range_and_overflow_refused_at_once);
    tcase_add_test(tc, read_only_refuses_writes);
    tcase_add_test(tc, concurrent_requests_writeback);
    tcase_add_test(tc, concurrent_requests_cache_none_unaligned);
    tcase_add_test(tc, cache_none_neighbouring_writes_in_one_block);
    tcase_add_test(tc, cache_none_tail_write_keeps_size);
    tcase_add_test(tc, cache_none_falls_back_when_refused);
    tcase_add_test(tc, unsafe_and_writethrough_modes);
    tcase_add_test(tc, snapshot_leaves_image_byte_identical);
    tcase_add_test(tc, snapshot_concurrent_and_readonly_file);
    tcase_add_test(tc, attach_delivers_through_watched_fd_and_kicks);
    tcase_add_test(tc, drain_runs_requests_queued_by_callbacks);
    tcase_add_test(tc, drive_open_modes_and_errors);
    suite_add_tcase(s, tc);
    return s;
}

UNIT_SUITE(block_suite)
