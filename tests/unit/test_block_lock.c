/*
 * Image locking (block/lock.c): the lock bytes QEMU uses, refusals between
 * two opens in this process (OFD locks conflict between open file
 * descriptions, not processes), and against real QEMU (qemu-io from
 * qemu-utils, in scripts/deps.sh's test list; those tests say so and pass
 * when it is not installed).
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "block/block-int.h"
#include "block/block.h"
#include "block/qcow2.h"
#include "tests/unit/unit.h"

#include <glib.h>

static char dir[64];
static char img[128];
static char err[1024];

static void setup(void)
{
    snprintf(dir, sizeof dir, "/tmp/vx86-lock-XXXXXX");
    ck_assert_ptr_nonnull(mkdtemp(dir));
    snprintf(img, sizeof img, "%s/disk.img", dir);
    FILE *f = fopen(img, "w");
    ck_assert_ptr_nonnull(f);
    static char zero[1 << 16];
    fwrite(zero, 1, sizeof zero, f);
    fclose(f);
    err[0] = '\0';
}

static void teardown(void)
{
    unlink(img);
    rmdir(dir);
}

static BlockBackend *try_open(bool ro, bool snap)
{
    BlockOpenOptions o = { .filename = img, .format = "raw", .read_only = ro, .snapshot = snap };
    return blk_open(&o, err, sizeof err);
}

static void expect_refusal(bool ro, bool snap, const char *what)
{
    err[0] = '\0';
    ck_assert_ptr_null(try_open(ro, snap));
    char want[512];
    snprintf(want, sizeof want, "%s: failed to get %s lock (is another process using the image?)",
             img, what);
    ck_assert_str_eq(err, want);
}

/* Which of bytes 100..299 another open file description holds. */
static bool byte_locked(int byte)
{
    int fd = open(img, O_RDONLY);
    ck_assert_int_ge(fd, 0);
    struct flock fl = { .l_type = F_WRLCK, .l_whence = SEEK_SET, .l_start = byte, .l_len = 1 };
    ck_assert_int_eq(fcntl(fd, F_OFD_GETLK, &fl), 0);
    close(fd);
    return fl.l_type != F_UNLCK;
}

START_TEST(lock_bytes_match_qemu)
{
    BlockBackend *w = try_open(false, false);
    ck_assert_ptr_nonnull(w);
    /* A writable IDE disk in qemu-system-x86_64: 100, 101, 201. */
    for (int b = 100; b < 300; b++)
        ck_assert_msg(byte_locked(b) == (b == 100 || b == 101 || b == 201), "byte %d", b);
    blk_close(w);
    for (int b = 100; b < 300; b++)
        ck_assert(!byte_locked(b));
    /* Read-only, -snapshot, CD-ROM: 100, 201, 203. */
    BlockBackend *r = try_open(false, true);
    ck_assert_ptr_nonnull(r);
    for (int b = 100; b < 300; b++)
        ck_assert_msg(byte_locked(b) == (b == 100 || b == 201 || b == 203), "byte %d", b);
    blk_close(r);
}
END_TEST

START_TEST(second_writer_and_readers_refused)
{
    BlockBackend *w = try_open(false, false);
    ck_assert_ptr_nonnull(w);
    expect_refusal(false, false, "\"write\"");
    expect_refusal(true, false, "shared \"write\"");
    expect_refusal(false, true, "shared \"write\"");
    /* no_lock (tools that only look) gets in. */
    BlockOpenOptions o = { .filename = img, .format = "raw", .read_only = true, .no_lock = true };
    BlockBackend *peek = blk_open(&o, err, sizeof err);
    ck_assert_ptr_nonnull(peek);
    blk_close(peek);
    /* A refused open leaves the holder's locks alone. */
    expect_refusal(false, false, "\"write\"");
    blk_close(w);
    w = try_open(false, false);
    ck_assert_ptr_nonnull(w);
    blk_close(w);
}
END_TEST

START_TEST(readers_share_writers_wait)
{
    BlockBackend *r1 = try_open(true, false);
    BlockBackend *r2 = try_open(false, true);            /* -snapshot reads the image */
    ck_assert_ptr_nonnull(r1);
    ck_assert_ptr_nonnull(r2);
    expect_refusal(false, false, "\"write\"");
    blk_close(r1);
    expect_refusal(false, false, "\"write\"");
    blk_close(r2);
    BlockBackend *w = try_open(false, false);
    ck_assert_ptr_nonnull(w);
    blk_close(w);
}
END_TEST

/* ---- against QEMU ---- */

static gchar *qemu_io;

static bool have_qemu_io(void)
{
    g_free(qemu_io);
    qemu_io = g_find_program_in_path("qemu-io");
    if (!qemu_io)
        fprintf(stderr, "test_block_lock: qemu-io not installed (scripts/deps.sh test): skipped\n");
    return qemu_io != NULL;
}

/* Starts `qemu-io [-r] -f raw -c 'sleep 60000' img` in the background. */
static pid_t qemu_io_hold(bool ro)
{
    pid_t pid = fork();
    ck_assert_int_ge(pid, 0);
    if (pid == 0) {
        int null = open("/dev/null", O_RDWR);
        dup2(null, 1);
        dup2(null, 2);
        if (ro)
            execl(qemu_io, "qemu-io", "-r", "-f", "raw", "-c", "sleep 60000", img, (char *)NULL);
        else
            execl(qemu_io, "qemu-io", "-f", "raw", "-c", "sleep 60000", img, (char *)NULL);
        _exit(127);
    }
    return pid;
}

static void stop(pid_t pid)
{
    kill(pid, SIGKILL);
    waitpid(pid, NULL, 0);
}

/* Runs qemu-io -c CMD on img; returns its exit status, output in out. */
static int qemu_io_run(const char *flags, const char *cmd, char *out, size_t len)
{
    char line[1024];
    snprintf(line, sizeof line, "'%s' %s -f raw -c '%s' '%s' 2>&1", qemu_io, flags, cmd, img);
    FILE *p = popen(line, "r");
    ck_assert_ptr_nonnull(p);
    size_t n = fread(out, 1, len - 1, p);
    out[n] = '\0';
    return pclose(p);
}

static void sleep_ms(int ms)
{
    struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };
    nanosleep(&ts, NULL);
}

START_TEST(qemu_holds_vx86_is_refused)
{
    if (!have_qemu_io())
        return;
    pid_t pid = qemu_io_hold(false);
    /* Wait for qemu-io to take its locks. */
    int waited = 0;
    while (!byte_locked(101) && waited < 10000) {
        sleep_ms(20);
        waited += 20;
    }
    ck_assert_msg(byte_locked(101), "qemu-io never locked the image");
    expect_refusal(false, false, "shared \"write\"");
    expect_refusal(true, false, "shared \"write\"");
    stop(pid);
    BlockBackend *w = try_open(false, false);
    ck_assert_msg(w != NULL, "%s", err);
    blk_close(w);

    /* qemu-io -r shares writing: vx86 may read next to it, not write
     * (qemu-io -r unshares nothing, so vx86's writer gets in too, as a
     * second QEMU would). */
    pid = qemu_io_hold(true);
    waited = 0;
    while (!byte_locked(100) && waited < 10000) {
        sleep_ms(20);
        waited += 20;
    }
    BlockBackend *r = try_open(true, false);
    ck_assert_msg(r != NULL, "%s", err);
    blk_close(r);
    stop(pid);
}
END_TEST

START_TEST(vx86_holds_qemu_is_refused)
{
    if (!have_qemu_io())
        return;
    char out[4096];
    BlockBackend *w = try_open(false, false);
    ck_assert_ptr_nonnull(w);
    int st = qemu_io_run("", "read 0 512", out, sizeof out);
    ck_assert_msg(st != 0, "qemu-io opened an image vx86 writes: %s", out);
    ck_assert_msg(strstr(out, "Failed to get \"write\" lock") != NULL, "%s", out);
    /* qemu-io -r tolerates writers (it takes byte 100 only), as it does
     * next to a running QEMU. */
    st = qemu_io_run("-r", "read 0 512", out, sizeof out);
    ck_assert_msg(st == 0, "%s", out);
    blk_close(w);
    /* A read-only vx86 (a CD-ROM, -snapshot) lets QEMU read, not write. */
    BlockBackend *r = try_open(true, false);
    ck_assert_ptr_nonnull(r);
    st = qemu_io_run("-r", "read 0 512", out, sizeof out);
    ck_assert_msg(st == 0, "%s", out);
    st = qemu_io_run("", "write 0 512", out, sizeof out);
    ck_assert_msg(st != 0 && strstr(out, "Failed to get \"write\" lock") != NULL, "%s", out);
    blk_close(r);
    st = qemu_io_run("", "write 0 512", out, sizeof out);
    ck_assert_msg(st == 0, "%s", out);
}
END_TEST

/* Migration's handover (blk_set_active): the destination opens the image
 * while the source still writes it, takes it only once the source gave it
 * away, and then sees what the source wrote last, also the qcow2
 * metadata the source allocated after the destination opened the image. */
static void handover(const char *format)
{
    BlockOpenOptions o = { .filename = img, .format = format };
    BlockBackend *src = blk_open(&o, err, sizeof err);
    ck_assert_msg(src != NULL, "%s", err);
    BlockOpenOptions in = { .filename = img, .format = format, .inactive = true };
    BlockBackend *dst = blk_open(&in, err, sizeof err);
    ck_assert_msg(dst != NULL, "inactive open beside a writer: %s", err);
    ck_assert(blk_is_inactive(dst));
    ck_assert_uint_eq(blk_size(dst), blk_size(src));

    /* The source writes a cluster the destination's metadata never saw. */
    char buf[4096], back[4096];
    memset(buf, 0x5a, sizeof buf);
    ck_assert_int_eq(blk_pwrite(src, 40960, buf, sizeof buf), 0);
    ck_assert_int_eq(blk_pwrite(dst, 0, buf, sizeof buf), -EIO);   /* not its image yet */

    err[0] = '\0';
    ck_assert_int_lt(blk_set_active(dst, true, err, sizeof err), 0);   /* source holds the lock */
    ck_assert_msg(strstr(err, "failed to get \"write\" lock") != NULL, "%s", err);
    ck_assert(blk_is_inactive(dst));

    ck_assert_int_eq(blk_set_active(src, false, err, sizeof err), 0);
    ck_assert_int_eq(blk_pwrite(src, 0, buf, sizeof buf), -EIO);   /* given away */
    ck_assert_int_eq(blk_set_active(dst, true, err, sizeof err), 0);
    ck_assert(!blk_is_inactive(dst));
    ck_assert_int_eq(blk_pread(dst, 40960, back, sizeof back), 0);
    ck_assert_int_eq(memcmp(back, buf, sizeof buf), 0);
    ck_assert_int_eq(blk_pwrite(dst, 0, buf, sizeof buf), 0);

    /* The source cannot take it back while the destination holds it. */
    ck_assert_int_lt(blk_set_active(src, true, err, sizeof err), 0);
    ck_assert(blk_is_inactive(src));
    blk_close(dst);
    ck_assert_int_eq(blk_set_active(src, true, err, sizeof err), 0);
    ck_assert_int_eq(blk_pread(src, 0, back, sizeof back), 0);
    ck_assert_int_eq(memcmp(back, buf, sizeof buf), 0);
    blk_close(src);
}

START_TEST(migration_handover_raw)
{
    handover("raw");
}
END_TEST

START_TEST(migration_handover_qcow2)
{
    Qcow2CreateOptions c = { .size = 1 << 20 };
    unlink(img);
    ck_assert_msg(qcow2_create(img, &c, err, sizeof err) == 0, "%s", err);
    handover("qcow2");
}
END_TEST

static Suite *block_lock_suite(void)
{
    Suite *s = suite_create("block_lock");
    TCase *tc = tcase_create("lock");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, lock_bytes_match_qemu);
    tcase_add_test(tc, second_writer_and_readers_refused);
    tcase_add_test(tc, readers_share_writers_wait);
    tcase_add_test(tc, qemu_holds_vx86_is_refused);
    tcase_add_test(tc, vx86_holds_qemu_is_refused);
    tcase_add_test(tc, migration_handover_raw);
    tcase_add_test(tc, migration_handover_qcow2);
    suite_add_tcase(s, tc);
    return s;
}

UNIT_SUITE(block_lock_suite)
