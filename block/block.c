/*
 * The block layer's core: opening a backend (host file, lock, format
 * driver, -snapshot overlay) and the asynchronous request queue.
 *
 * Requests run on a pool of worker threads (glib's GThreadPool, at most
 * BLK_WORKERS per backend): each worker does one whole request with plain
 * pread/pwrite/fdatasync through the format driver, then appends it to the
 * backend's completion list, bumps the backend's eventfd and, when the
 * backend is attached to a machine, calls machine_notify() so a running
 * vCPU leaves translated code and the main loop polls the eventfd soon.
 * The main loop then runs the callbacks on the main thread
 * (blk_fd_readable); blk_drain waits for them on a condition variable
 * instead and runs them itself.
 *
 * Why a thread pool and not io_uring: glib is already linked and the pool
 * works wherever pread works (io_uring is often refused by container
 * seccomp profiles and is missing on older kernels), buffered io_uring
 * I/O falls back to kernel worker threads anyway, and the overlay, the
 * O_DIRECT bounce buffers and future qcow2 metadata stay plain sequential
 * code inside one request.  A request's cost is a queue push and a thread
 * wake-up, small next to the I/O.
 *
 * In-flight requests may complete in any order; two overlapping requests
 * in flight at once have no defined order (as on a real disk).  A flush
 * covers every write that completed before it was submitted.
 */
#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <time.h>
#include <unistd.h>

#include "block/block-int.h"
#include "core/machine.h"
#include "core/util.h"

#include <glib.h>

#define BLK_WORKERS 8
#define PROBE_BYTES 4096

/* glib's queue hands requests to workers through futexes a thread
 * sanitizer does not see: tell it about the hand-over. */
#ifdef __SANITIZE_THREAD__
void __tsan_acquire(void *addr);
void __tsan_release(void *addr);
#define TSAN_RELEASE(p) __tsan_release(p)
#define TSAN_ACQUIRE(p) __tsan_acquire(p)
#else
#define TSAN_RELEASE(p) ((void)(p))
#define TSAN_ACQUIRE(p) ((void)(p))
#endif

typedef enum BlkReqType { REQ_READ, REQ_WRITE, REQ_FLUSH, REQ_DISCARD } BlkReqType;

typedef struct BlkRequest {
    BlkReqType type;
    uint64_t offset;
    void *buf;
    size_t len;
    BlockCompletionFunc cb;
    void *opaque;
    int ret;
    int64_t start_ns;             /* submission (query-blockstats times) */
    struct BlkRequest *next;
} BlkRequest;

struct BlockBackend {
    BlockFile file;
    const BlockDriver *drv;
    void *drv_state;
    BlockOverlay *overlay;        /* -snapshot: every write goes here */
    uint64_t size;
    bool read_only;
    /* How the image is opened when active (blk_set_active re-opens it). */
    const BlockDriver *fixed_drv; /* format= given; NULL: probed */
    bool want_writable;
    bool take_lock;
    BlockCacheMode cache;
    /* Another process owns the image (an incoming migration that has not
     * finished, or the source after a completed one): the file is read
     * only and unlocked here, or at least nothing more is written. */
    bool inactive;

    GThreadPool *pool;
    int efd;                      /* completions waiting for the main thread */
    Machine *m;                   /* attached machine (read by workers) */

    pthread_mutex_t lock;         /* guards the completion list and finishing */
    pthread_cond_t done_cond;
    BlkRequest *done_head, **done_tail;
    /* Workers between publishing a completion and their last touch of
     * the backend (eventfd, notify): drain waits for them too, so a
     * backend can be closed, or its machine freed, right after. */
    int finishing;
    int in_flight;                /* submitted, callback not run yet (main thread) */
    /* -icount (Machine.icount): a request runs at once on the submitting
     * thread and its callback at the main loop's next deferred-work
     * round, so when the guest sees it depends on the instruction count
     * only (docs/record-replay.md). */
    bool sync;
    BlockStats stats;             /* main thread only: see account() */
    BlockErrorFn error_fn;        /* failed guest reads/writes */
    void *error_opaque;
};

/* ---- the request itself (worker threads, or the caller for blk_p*) ---- */

static int base_read(void *opaque, uint64_t offset, void *buf, size_t len)
{
    BlockBackend *bb = opaque;
    return bb->drv->pread(bb->drv_state, offset, buf, len);
}

static int do_request(BlockBackend *bb, BlkReqType type, uint64_t offset, void *buf, size_t len)
{
    switch (type) {
    case REQ_READ:
        return bb->overlay ? overlay_pread(bb->overlay, offset, buf, len)
                           : bb->drv->pread(bb->drv_state, offset, buf, len);
    case REQ_WRITE:
        return bb->overlay ? overlay_pwrite(bb->overlay, offset, buf, len)
                           : bb->drv->pwrite(bb->drv_state, offset, buf, len);
    case REQ_FLUSH:
        /* The overlay dies with the process: nothing to make stable. */
        return bb->overlay || bb->read_only || bb->inactive ? 0 : bb->drv->flush(bb->drv_state);
    case REQ_DISCARD:
        /* Advisory: formats without it (raw) and the overlay ignore it. */
        return bb->overlay || !bb->drv->discard ? 0
                                                 : bb->drv->discard(bb->drv_state, offset, len);
    }
    return -EINVAL;
}

static void worker(gpointer data, gpointer user_data)
{
    BlkRequest *r = data;
    BlockBackend *bb = user_data;
    TSAN_ACQUIRE(r);
    r->ret = do_request(bb, r->type, r->offset, r->buf, r->len);

    pthread_mutex_lock(&bb->lock);
    r->next = NULL;
    *bb->done_tail = r;
    bb->done_tail = &r->next;
    bb->finishing++;
    pthread_cond_broadcast(&bb->done_cond);
    pthread_mutex_unlock(&bb->lock);

    /* eventfd first, then the notification: the main loop clears its stop
     * flag before it polls, so either the poll sees the eventfd or the
     * stop flag survives into the next run of the CPU. */
    uint64_t one = 1;
    ssize_t n = write(bb->efd, &one, sizeof one);
    (void)n;                      /* EAGAIN: the counter is already non-zero */
    Machine *m = __atomic_load_n(&bb->m, __ATOMIC_ACQUIRE);
    if (m)
        machine_notify(m);

    pthread_mutex_lock(&bb->lock);
    if (--bb->finishing == 0)
        pthread_cond_broadcast(&bb->done_cond);
    pthread_mutex_unlock(&bb->lock);
}

/* ---- completions (main thread) ---- */

/* Counts one finished guest request (main thread, before its callback). */
static void account(BlockBackend *bb, const BlkRequest *r)
{
    BlockStats *s = &bb->stats;
    uint64_t ns = (uint64_t)(host_monotonic_ns() - r->start_ns);
    bool ok = r->ret >= 0;
    switch (r->type) {
    case REQ_READ:
        if (ok) { s->rd_ops++; s->rd_bytes += r->len; s->rd_ns += ns; } else s->failed_rd_ops++;
        break;
    case REQ_WRITE:
        if (ok) {
            s->wr_ops++;
            s->wr_bytes += r->len;
            s->wr_ns += ns;
            s->wr_highest_offset = MAX(s->wr_highest_offset, r->offset + r->len);
        } else {
            s->failed_wr_ops++;
        }
        break;
    case REQ_FLUSH:
        if (ok) { s->flush_ops++; s->flush_ns += ns; } else s->failed_flush_ops++;
        break;
    case REQ_DISCARD:
        if (ok) { s->unmap_ops++; s->unmap_bytes += r->len; s->unmap_ns += ns; }
        else s->failed_unmap_ops++;
        break;
    }
}

void blk_set_error_notify(BlockBackend *bb, BlockErrorFn fn, void *opaque)
{
    bb->error_fn = fn;
    bb->error_opaque = opaque;
}

void blk_get_stats(const BlockBackend *bb, BlockStats *out)
{
    *out = bb->stats;
}

/* Runs the callbacks of the requests finished so far; returns how many. */
static int run_completions(BlockBackend *bb)
{
    pthread_mutex_lock(&bb->lock);
    BlkRequest *r = bb->done_head;
    bb->done_head = NULL;
    bb->done_tail = &bb->done_head;
    pthread_mutex_unlock(&bb->lock);
    int n = 0;
    while (r) {
        BlkRequest *next = r->next;
        bb->in_flight--;
        account(bb, r);
        if (r->ret < 0 && bb->error_fn && (r->type == REQ_READ || r->type == REQ_WRITE))
            bb->error_fn(bb->error_opaque, r->type == REQ_WRITE, r->ret);
        if (r->cb)
            r->cb(r->opaque, r->ret);
        free(r);
        r = next;
        n++;
    }
    return n;
}

static void clear_eventfd(BlockBackend *bb)
{
    uint64_t v;
    ssize_t n = read(bb->efd, &v, sizeof v);
    (void)n;
}

static void blk_run_deferred(void *opaque)
{
    run_completions(opaque);
}

static int blk_get_fd(void *opaque)
{
    BlockBackend *bb = opaque;
    return bb->efd;
}

static void blk_fd_readable(void *opaque)
{
    BlockBackend *bb = opaque;
    clear_eventfd(bb);
    run_completions(bb);
}

int blk_poll(BlockBackend *bb)
{
    clear_eventfd(bb);
    return run_completions(bb);
}

void blk_drain(BlockBackend *bb)
{
    if (!bb)
        return;
    for (;;) {
        pthread_mutex_lock(&bb->lock);
        while (!bb->done_head && (bb->in_flight > 0 || bb->finishing > 0))
            pthread_cond_wait(&bb->done_cond, &bb->lock);
        bool more = bb->done_head != NULL;
        pthread_mutex_unlock(&bb->lock);
        if (!more)
            break;                /* nothing queued, running or finishing */
        run_completions(bb);      /* callbacks may queue more: loop */
    }
    clear_eventfd(bb);
}

int blk_in_flight(const BlockBackend *bb)
{
    return bb->in_flight;
}

void blk_attach(BlockBackend *bb, Machine *m)
{
    if (bb->m == m)
        return;
    blk_detach(bb);
    bb->sync = m->icount;
    if (!machine_watch_fd(m, blk_get_fd, blk_fd_readable, bb)) {
        fprintf(stderr, "vx86: %s: the main loop watches too many inputs\n",
                bb->file.filename);
        abort();
    }
    __atomic_store_n(&bb->m, m, __ATOMIC_RELEASE);
}

void blk_detach(BlockBackend *bb)
{
    if (!bb || !bb->m)
        return;
    blk_drain(bb);
    machine_unwatch_fd(bb->m, bb);
    __atomic_store_n(&bb->m, NULL, __ATOMIC_RELEASE);
    bb->sync = false;
}

/* ---- open / close ---- */

static const BlockDriver *probe_format(BlockFile *f)
{
    uint8_t *buf = xmalloc(PROBE_BYTES);
    size_t len = (size_t)MIN((uint64_t)PROBE_BYTES, f->file_size);
    const BlockDriver *best = &blk_driver_raw;
    if (bfile_pread(f, 0, buf, len) == 0) {
        int best_score = 0;
        for (int i = 0; blk_drivers[i]; i++) {
            int s = blk_drivers[i]->probe(buf, len);
            if (s > best_score) {
                best_score = s;
                best = blk_drivers[i];
            }
        }
    }
    free(buf);
    return best;
}

/* Opens the host file and the format driver.  Inactive: read-only and
 * without the image lock (the owner may be writing; QEMU's incoming
 * migration does the same), enough to learn the disk's size. */
static int open_image(BlockBackend *bb, const char *filename, char *err, size_t errlen)
{
    bool writable = bb->want_writable && !bb->inactive;
    if (bfile_open(&bb->file, filename, writable, bb->cache, err, errlen) < 0)
        return -1;
    if (bb->take_lock && !bb->inactive &&
        blk_lock_image(bb->file.fd, bb->file.filename, writable, err, errlen) < 0)
        goto fail;
    bb->drv = bb->fixed_drv ? bb->fixed_drv : probe_format(&bb->file);
    bb->drv_state = bb->drv->open(&bb->file, &bb->size, err, errlen);
    if (!bb->drv_state)
        goto fail;
    return 0;
fail:
    bb->drv = NULL;
    bfile_close(&bb->file);           /* drops the lock bytes with the fd */
    return -1;
}

static void close_image(BlockBackend *bb)
{
    if (bb->drv)
        bb->drv->close(bb->drv_state);
    bb->drv = NULL;
    bb->drv_state = NULL;
    bfile_close(&bb->file);
}

BlockBackend *blk_open(const BlockOpenOptions *o, char *err, size_t errlen)
{
    const BlockDriver *drv = NULL;
    if (o->format && !(drv = blk_driver_find(o->format))) {
        snprintf(err, errlen, "%s: unknown image format '%s'",
                 o->filename ? o->filename : "(no file)", o->format);
        return NULL;
    }
    BlockBackend *bb = xcalloc(1, sizeof(*bb));
    bb->efd = -1;
    bb->fixed_drv = drv;
    bb->want_writable = !o->read_only && !o->snapshot;
    bb->take_lock = !o->no_lock;
    bb->cache = o->cache;
    bb->inactive = o->inactive;
    if (open_image(bb, o->filename, err, errlen) < 0) {
        free(bb);
        return NULL;
    }
    bb->read_only = o->read_only;
    if (o->snapshot && !o->read_only) {
        char why[512];
        bb->overlay = overlay_new(bb->size, base_read, bb, why, sizeof why);
        if (!bb->overlay) {
            snprintf(err, errlen, "%s: %s", bb->file.filename, why);
            goto fail;
        }
    }
    bb->efd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    if (bb->efd < 0) {
        snprintf(err, errlen, "%s: eventfd: %s", bb->file.filename, strerror(errno));
        goto fail;
    }
    pthread_mutex_init(&bb->lock, NULL);
    pthread_cond_init(&bb->done_cond, NULL);
    bb->done_tail = &bb->done_head;
    GError *gerr = NULL;
    bb->pool = g_thread_pool_new(worker, bb, BLK_WORKERS, FALSE, &gerr);
    if (!bb->pool) {
        snprintf(err, errlen, "%s: cannot start I/O threads: %s", bb->file.filename,
                 gerr ? gerr->message : "unknown error");
        g_clear_error(&gerr);
        pthread_mutex_destroy(&bb->lock);
        pthread_cond_destroy(&bb->done_cond);
        goto fail;
    }
    return bb;

fail:
    if (bb->efd >= 0)
        close(bb->efd);
    overlay_free(bb->overlay);
    close_image(bb);
    free(bb);
    return NULL;
}

/* Hands the image to another process (inactive) or takes it back.
 * Giving it away writes out what is cached and drops the lock; taking it
 * (back) re-opens file and driver, so metadata the other process changed
 * is read afresh, and takes the lock again. */
int blk_set_active(BlockBackend *bb, bool active, char *err, size_t errlen)
{
    if (bb->inactive == !active)
        return 0;
    blk_drain(bb);
    if (!active) {
        int r = bb->drv && bb->want_writable ? bb->drv->flush(bb->drv_state) : 0;
        if (r < 0) {
            snprintf(err, errlen, "%s: flush: %s", bb->file.filename, strerror(-r));
            return r;
        }
        if (bb->take_lock)
            blk_unlock_image(bb->file.fd);
        bb->inactive = true;
        return 0;
    }
    char *filename = xstrdup(bb->file.filename);
    uint64_t size = bb->size;
    close_image(bb);
    bb->inactive = false;
    int r = open_image(bb, filename, err, errlen);
    if (r == 0 && bb->size != size) {
        snprintf(err, errlen, "%s: the image's size changed from %" PRIu64 " to %" PRIu64
                 " bytes meanwhile", filename, size, bb->size);
        close_image(bb);
        r = -1;
    }
    if (r < 0) {
        /* Keep a readable image for the device; the VM must not run on. */
        char ignored[256];
        bb->inactive = true;
        if (open_image(bb, filename, ignored, sizeof ignored) < 0)
            bb->size = size;
    }
    free(filename);
    return r < 0 ? -EIO : 0;
}

bool blk_is_inactive(const BlockBackend *bb)
{
    return bb->inactive;
}

void blk_close(BlockBackend *bb)
{
    if (!bb)
        return;
    blk_drain(bb);
    blk_detach(bb);
    g_thread_pool_free(bb->pool, FALSE, TRUE);
    close(bb->efd);
    overlay_free(bb->overlay);
    bb->drv->close(bb->drv_state);
    bfile_close(&bb->file);
    pthread_mutex_destroy(&bb->lock);
    pthread_cond_destroy(&bb->done_cond);
    free(bb);
}

uint64_t blk_size(const BlockBackend *bb)
{
    return bb->size;
}

bool blk_is_read_only(const BlockBackend *bb)
{
    return bb->read_only;
}

const char *blk_filename(const BlockBackend *bb)
{
    return bb->file.filename;
}

const char *blk_format_name(const BlockBackend *bb)
{
    return bb->drv->name;
}

bool blk_is_snapshot(const BlockBackend *bb)
{
    return bb->overlay != NULL;
}

void *blk_get_driver_state(const BlockBackend *bb)
{
    return bb->drv_state;
}

const BlockDriver *blk_get_driver(const BlockBackend *bb)
{
    return bb->drv;
}

const BlockFile *blk_get_file(const BlockBackend *bb)
{
    return &bb->file;
}

BlockOverlay *blk_get_overlay(const BlockBackend *bb)
{
    return bb->overlay;
}

/* ---- requests ---- */

/* 0, or the error a request is refused with at once. */
static int check_request(const BlockBackend *bb, BlkReqType type, uint64_t offset, size_t len)
{
    if ((type == REQ_WRITE || type == REQ_DISCARD) && bb->read_only)
        return -EROFS;
    if (!bb->drv || ((type == REQ_WRITE || type == REQ_DISCARD) && bb->inactive))
        return -EIO;              /* the image belongs to another process now */
    if (type != REQ_FLUSH && (offset > bb->size || len > bb->size - offset))
        return -EIO;              /* also catches offset + len wrapping around */
    return 0;
}

static int submit(BlockBackend *bb, BlkReqType type, uint64_t offset, void *buf, size_t len,
                  BlockCompletionFunc cb, void *opaque)
{
    int r = check_request(bb, type, offset, len);
    if (r < 0)
        return r;
    BlkRequest *req = xcalloc(1, sizeof(*req));
    *req = (BlkRequest){ .type = type, .offset = offset, .buf = buf, .len = len,
                         .cb = cb, .opaque = opaque, .start_ns = host_monotonic_ns() };
    bb->in_flight++;
    if (bb->sync) {
        req->ret = do_request(bb, type, offset, buf, len);
        pthread_mutex_lock(&bb->lock);
        *bb->done_tail = req;
        bb->done_tail = &req->next;
        pthread_mutex_unlock(&bb->lock);
        if (!machine_defer(bb->m, blk_run_deferred, bb)) {
            fprintf(stderr, "vx86: %s: too much deferred work\n", bb->file.filename);
            abort();
        }
        machine_request_stop(bb->m);   /* the CPU comes back after this instruction */
        return 0;
    }
    TSAN_RELEASE(req);
    g_thread_pool_push(bb->pool, req, NULL);
    return 0;
}

int blk_aio_read(BlockBackend *bb, uint64_t offset, void *buf, size_t len,
                 BlockCompletionFunc cb, void *opaque)
{
    return submit(bb, REQ_READ, offset, buf, len, cb, opaque);
}

int blk_aio_write(BlockBackend *bb, uint64_t offset, const void *buf, size_t len,
                  BlockCompletionFunc cb, void *opaque)
{
    return submit(bb, REQ_WRITE, offset, (void *)buf, len, cb, opaque);
}

int blk_aio_discard(BlockBackend *bb, uint64_t offset, size_t len,
                    BlockCompletionFunc cb, void *opaque)
{
    return submit(bb, REQ_DISCARD, offset, NULL, len, cb, opaque);
}

int blk_aio_flush(BlockBackend *bb, BlockCompletionFunc cb, void *opaque)
{
    return submit(bb, REQ_FLUSH, 0, NULL, 0, cb, opaque);
}

static int sync_request(BlockBackend *bb, BlkReqType type, uint64_t offset, void *buf, size_t len)
{
    int r = check_request(bb, type, offset, len);
    return r < 0 ? r : do_request(bb, type, offset, buf, len);
}

int blk_pread(BlockBackend *bb, uint64_t offset, void *buf, size_t len)
{
    return sync_request(bb, REQ_READ, offset, buf, len);
}

int blk_pwrite(BlockBackend *bb, uint64_t offset, const void *buf, size_t len)
{
    return sync_request(bb, REQ_WRITE, offset, (void *)buf, len);
}

int blk_discard(BlockBackend *bb, uint64_t offset, size_t len)
{
    return sync_request(bb, REQ_DISCARD, offset, NULL, len);
}

int blk_flush(BlockBackend *bb)
{
    return sync_request(bb, REQ_FLUSH, 0, NULL, 0);
}
