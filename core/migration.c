/*
 * Whole-VM save/load and migration (see migration.h for the stream).
 */
#include "core/migration.h"

#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <zlib.h>

#include "accel/accel.h"
#include "core/qmp.h"
#include "core/util.h"
#include "core/vmstate.h"

#define MIG_STATE_MAX (256u << 20)   /* a device stream larger than this is refused */
#define MIG_BUF (1u << 20)

struct Migration {
    VMControl *vc;
    const char *status;        /* "none", "setup", "active", "completed", "failed", "cancelled" */
    int64_t start_ms, total_ms, downtime_ms;
    uint64_t transferred, zero_pages, normal_pages, normal_bytes;
    int compress_level;        /* 0: raw pages */
    int64_t downtime_limit_ms;
    int64_t max_bandwidth;
    bool events;               /* capability "events": MIGRATION events (QEMU: off) */
    char error[512];
    /* live (pre-copy) sending: tcp:/unix: under the translator */
    bool live;
    struct Writer *lw;
    uint64_t *pending;         /* pages still to send, one bit each */
    uint64_t scan;             /* next page the scan looks at */
    int iterations;            /* dirty-log syncs */
    double allowance;          /* bytes the bandwidth limit lets us send now */
    int64_t last_tick_ms;
    int64_t send_ns;           /* time spent writing, for the rate estimate */
    uint64_t send_bytes;
    uint8_t *zbuf;
    uint64_t state_bytes;      /* size of the device state, for the downtime estimate */
    /* incoming */
    int in_fd, listen_fd;
    pid_t in_child;
    char listen_path[108];
};

static int64_t now_ms(void)
{
    return host_monotonic_ns() / 1000000;
}

static Migration *mig_get(VMControl *vc)
{
    if (!vc->mig) {
        vc->mig = xcalloc(1, sizeof(Migration));
        vc->mig->vc = vc;
        vc->mig->status = "none";
        vc->mig->in_fd = vc->mig->listen_fd = -1;
        vc->mig->downtime_limit_ms = 300;
        vc->mig->max_bandwidth = 128 << 20;
    }
    return vc->mig;
}

static void live_end(VMControl *vc, const char *status);

/* The disks follow the guest, as in QEMU: the source gives them away
 * (flushed, unlocked) once it stopped for the last time, the destination
 * takes them (re-read, locked) when the stream is in, and a source that
 * runs on after all takes them back. */
bool migration_drives_active(VMControl *vc, bool active, char *err, size_t errlen)
{
    return !vc->hooks.set_drives_active ||
           vc->hooks.set_drives_active(vc->hooks.opaque, active, err, errlen) == 0;
}

/* The source after a migration that did not complete: its disks are its
 * own again (false, said on stderr, when another process holds them). */
static bool take_disks_back(VMControl *vc)
{
    char err[512];
    if (migration_drives_active(vc, true, err, sizeof err))
        return true;
    fprintf(stderr, "vx86: cannot take the disks back: %s\n", err);
    return false;
}

/* A source that runs on after a failed or cancelled migration. */
static void resume_source(VMControl *vc)
{
    vc->run_reason = NULL;
    if (!take_disks_back(vc)) {
        vc->run_reason = "internal-error";
        return;
    }
    machine_resume(vc->m);
}

void migration_free(Migration *mig)
{
    if (!mig)
        return;
    if (mig->live)
        live_end(mig->vc, "cancelled");
    if (mig->in_fd >= 0)
        close(mig->in_fd);
    if (mig->listen_fd >= 0)
        close(mig->listen_fd);
    if (mig->listen_path[0])
        unlink(mig->listen_path);
    free(mig);
}

static void mig_event(VMControl *vc, const char *status)
{
    if (!vc->mig || !vc->mig->events)
        return;
    JsonValue *d = json_object();
    json_set_str(d, "status", status);
    vmcontrol_emit(vc, "MIGRATION", d);
}

/* ---- the writer ---- */

typedef struct Writer Writer;
struct Writer {
    int fd;
    MigSink sink;              /* instead of fd when set (a disk image) */
    void *sink_opaque;
    uint8_t *buf;
    size_t len;
    uLong crc;
    uint64_t total;
    int err;                   /* errno of the first failed write */
};

static void w_flush(Writer *w)
{
    if (w->sink && w->len && !w->err) {
        int r = w->sink(w->sink_opaque, w->buf, w->len);
        if (r < 0)
            w->err = -r;
    }
    if (w->sink) {
        w->len = 0;
        return;
    }
    size_t off = 0;
    while (off < w->len && !w->err) {
        ssize_t n = write(w->fd, w->buf + off, w->len - off);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            w->err = n < 0 ? errno : EPIPE;
        else
            off += (size_t)n;
    }
    w->len = 0;
}

static void w_put(Writer *w, const void *p, size_t n)
{
    w->crc = crc32(w->crc, p, (uInt)n);
    w->total += n;
    const uint8_t *s = p;
    while (n) {
        size_t k = MIN(n, MIG_BUF - w->len);
        memcpy(w->buf + w->len, s, k);
        w->len += k;
        s += k;
        n -= k;
        if (w->len == MIG_BUF)
            w_flush(w);
    }
}

static void w_u8(Writer *w, uint8_t v) { w_put(w, &v, 1); }

static void w_u32(Writer *w, uint32_t v)
{
    uint8_t b[4] = { (uint8_t)v, (uint8_t)(v >> 8), (uint8_t)(v >> 16), (uint8_t)(v >> 24) };
    w_put(w, b, 4);
}

static void w_u64(Writer *w, uint64_t v)
{
    w_u32(w, (uint32_t)v);
    w_u32(w, (uint32_t)(v >> 32));
}

static bool page_is_zero(const uint8_t *p)
{
    const uint64_t *q = (const uint64_t *)p;
    for (size_t i = 0; i < MIG_PAGE_SIZE / 8; i += 4)
        if (q[i] | q[i + 1] | q[i + 2] | q[i + 3])
            return false;
    return true;
}

/* Which RAM pages the host ever backed (mincore): a page the guest never
 * touched is zero, and reading it would cost a page fault for nothing.
 * NULL when the host cannot tell (then every page is read). */
static unsigned char *ram_resident(Machine *m)
{
    uint64_t npages = m->ram_size / MIG_PAGE_SIZE;
    long hps = sysconf(_SC_PAGESIZE);
    if (hps != MIG_PAGE_SIZE)
        return NULL;
    unsigned char *vec = xmalloc(npages ? npages : 1);
    if (mincore(m->ram, m->ram_size, vec) < 0) {
        free(vec);
        return NULL;
    }
    return vec;
}

#ifndef MADV_POPULATE_WRITE
#define MADV_POPULATE_WRITE 23
#endif
#define POPULATE_PAGES 64

/* Before the loader writes page pg the first time: back the next
 * POPULATE_PAGES pages in one call (a run of page faults costs much more,
 * most of all in a VM), and note them in res. */
static void populate(Machine *m, unsigned char *res, uint64_t pg)
{
    if (!res || (res[pg] & 1))
        return;
    uint64_t npages = m->ram_size / MIG_PAGE_SIZE;
    uint64_t n = MIN((uint64_t)POPULATE_PAGES, npages - pg);
    if (madvise(m->ram + pg * MIG_PAGE_SIZE, n * MIG_PAGE_SIZE, MADV_POPULATE_WRITE) == 0)
        for (uint64_t i = 0; i < n; i++)
            res[pg + i] |= 1;
}

static bool page_untouched(const unsigned char *res, uint64_t pg)
{
    return res && !(res[pg] & 1);
}

static int64_t save_stream(VMControl *vc, Writer w, int compress, char *err, size_t errlen)
{
    Machine *m = vc->m;
    Migration *mig = mig_get(vc);
    w.buf = xmalloc(MIG_BUF);
    w.crc = crc32(0, NULL, 0);
    uint64_t npages = m->ram_size / MIG_PAGE_SIZE;

    w_put(&w, MIG_MAGIC, 8);
    w_u32(&w, MIG_VERSION);
    w_u32(&w, MIG_PAGE_SIZE);
    w_u64(&w, m->ram_size);
    w_u32(&w, 0);

    uint8_t *zbuf = compress ? xmalloc(compressBound(MIG_PAGE_SIZE)) : NULL;
    unsigned char *res = ram_resident(m);
    mig->zero_pages = mig->normal_pages = mig->normal_bytes = 0;
    for (uint64_t pg = 0; pg < npages && !w.err;) {
        const uint8_t *p = m->ram + pg * MIG_PAGE_SIZE;
        if (page_untouched(res, pg) || page_is_zero(p)) {
            uint64_t first = pg;
            while (pg < npages && pg - first < UINT32_MAX &&
                   (page_untouched(res, pg) || page_is_zero(m->ram + pg * MIG_PAGE_SIZE)))
                pg++;
            w_u8(&w, MIG_ZERO);
            w_u64(&w, first);
            w_u32(&w, (uint32_t)(pg - first));
            mig->zero_pages += pg - first;
            continue;
        }
        uLongf clen = compressBound(MIG_PAGE_SIZE);
        if (compress && compress2(zbuf, &clen, p, MIG_PAGE_SIZE, compress) == Z_OK &&
            clen < MIG_PAGE_SIZE) {
            w_u8(&w, MIG_ZLIB);
            w_u64(&w, pg);
            w_u32(&w, (uint32_t)clen);
            w_put(&w, zbuf, clen);
            mig->normal_bytes += clen;
        } else {
            w_u8(&w, MIG_RAW);
            w_u64(&w, pg);
            w_put(&w, p, MIG_PAGE_SIZE);
            mig->normal_bytes += MIG_PAGE_SIZE;
        }
        mig->normal_pages++;
        pg++;
    }
    free(zbuf);
    free(res);
    /* The RAM size is a whole number of pages on a PC; a tail would be
     * refused by the loader, so the saver refuses it too. */
    if (m->ram_size % MIG_PAGE_SIZE && !w.err) {
        snprintf(err, errlen, "RAM size is not a multiple of %d bytes", MIG_PAGE_SIZE);
        free(w.buf);
        return -1;
    }

    VMBuf st;
    vmbuf_init(&st);
    machine_save_devices(m, &st);
    w_u8(&w, MIG_STATE);
    w_u32(&w, (uint32_t)st.len);
    w_put(&w, st.data, st.len);
    vmbuf_free(&st);

    w_u8(&w, MIG_END);
    w_u32(&w, (uint32_t)w.crc);
    w_flush(&w);
    free(w.buf);
    if (w.err) {
        snprintf(err, errlen, "writing the stream: %s", strerror(w.err));
        return -1;
    }
    return (int64_t)w.total;
}

int64_t migration_save_fd(VMControl *vc, int fd, int compress, char *err, size_t errlen)
{
    return save_stream(vc, (Writer){ .fd = fd }, compress, err, errlen);
}

int64_t migration_save_to(VMControl *vc, MigSink sink, void *opaque, int compress,
                          char *err, size_t errlen)
{
    return save_stream(vc, (Writer){ .fd = -1, .sink = sink, .sink_opaque = opaque },
                       compress, err, errlen);
}

/* ---- the reader ---- */

typedef struct Reader {
    int fd;                    /* -1: memory, or source */
    MigSource source;
    void *source_opaque;
    const uint8_t *mem;
    size_t mem_len, mem_pos;
    uint8_t *buf;
    size_t len, pos;
    uLong crc;
    uint64_t total;
} Reader;

/* Refills the buffer once it is used up; false at the end of the stream
 * or on an error. */
static bool r_fill(Reader *r)
{
    for (;;) {
        if (r->source) {
            ssize_t k = r->source(r->source_opaque, r->buf, MIG_BUF);
            if (k <= 0)
                return false;
            r->len = (size_t)k;
        } else if (r->fd < 0) {
            size_t k = MIN(r->mem_len - r->mem_pos, (size_t)MIG_BUF);
            if (!k)
                return false;
            r->buf = (uint8_t *)r->mem + r->mem_pos;
            r->mem_pos += k;
            r->len = k;
        } else {
            ssize_t k = read(r->fd, r->buf, MIG_BUF);
            if (k < 0 && errno == EINTR)
                continue;
            if (k <= 0)
                return false;
            r->len = (size_t)k;
        }
        r->pos = 0;
        return true;
    }
}

/* Reads exactly n bytes into dst, or (dst NULL) passes over them, in the
 * CRC all the same (checking a stream copies no page); false at the end
 * of the stream or on an error. */
static bool r_get(Reader *r, void *dst, size_t n)
{
    uint8_t *d = dst;
    while (n) {
        if (r->pos == r->len && !r_fill(r))
            return false;
        size_t k = MIN(n, r->len - r->pos);
        r->crc = crc32(r->crc, r->buf + r->pos, (uInt)k);
        if (d) {
            memcpy(d, r->buf + r->pos, k);
            d += k;
        }
        r->pos += k;
        r->total += k;
        n -= k;
    }
    return true;
}

static bool r_u32(Reader *r, uint32_t *v)
{
    uint8_t b[4];
    if (!r_get(r, b, 4))
        return false;
    *v = (uint32_t)b[0] | (uint32_t)b[1] << 8 | (uint32_t)b[2] << 16 | (uint32_t)b[3] << 24;
    return true;
}

static bool r_u64(Reader *r, uint64_t *v)
{
    uint32_t lo, hi;
    if (!r_u32(r, &lo) || !r_u32(r, &hi))
        return false;
    *v = (uint64_t)hi << 32 | lo;
    return true;
}

/* apply false: the whole stream is read and checked (bounds, pages that
 * inflate, the CRC, the device state's structure) and nothing changes. */
static int load_stream(Machine *m, Reader *r, bool apply, char *err, size_t errlen)
{
    uint8_t magic[8];
    uint32_t version, psize, flags;
    uint64_t ram_size;
    if (!r_get(r, magic, 8) || memcmp(magic, MIG_MAGIC, 8)) {
        snprintf(err, errlen, "not a vx86 migration stream (bad magic)");
        return -1;
    }
    if (!r_u32(r, &version) || !r_u32(r, &psize) || !r_u64(r, &ram_size) || !r_u32(r, &flags)) {
        snprintf(err, errlen, "stream truncated in its header");
        return -1;
    }
    if (version != MIG_VERSION) {
        snprintf(err, errlen, "stream format version %u not supported (this vx86 reads %d)",
                 version, MIG_VERSION);
        return -1;
    }
    if (psize != MIG_PAGE_SIZE || flags) {
        snprintf(err, errlen, "stream has page size %u, flags %#x (expected %d, 0)",
                 psize, flags, MIG_PAGE_SIZE);
        return -1;
    }
    if (ram_size != m->ram_size) {
        snprintf(err, errlen, "stream has %llu MiB of RAM, this VM %llu MiB (use the same -m)",
                 (unsigned long long)(ram_size >> 20), (unsigned long long)(m->ram_size >> 20));
        return -1;
    }
    uint64_t npages = m->ram_size / MIG_PAGE_SIZE;
    uint8_t *state = NULL, *zbuf = xmalloc(compressBound(MIG_PAGE_SIZE));
    unsigned char *res = apply ? ram_resident(m) : NULL;
    uint8_t *scratch = apply ? NULL : xmalloc(MIG_PAGE_SIZE);
    uint32_t state_len = 0;
    int rc = -1;
    for (;;) {
        uint8_t type;
        uint64_t pg;
        uint32_t n;
        if (!r_get(r, &type, 1)) {
            snprintf(err, errlen, "stream truncated after %llu bytes (no end marker)",
                     (unsigned long long)r->total);
            goto out;
        }
        switch (type) {
        case MIG_ZERO:
            if (!r_u64(r, &pg) || !r_u32(r, &n))
                goto truncated;
            if (pg >= npages || n > npages - pg) {
                snprintf(err, errlen, "zero pages %llu+%u are outside RAM",
                         (unsigned long long)pg, n);
                goto out;
            }
            for (uint64_t i = pg; apply && i < pg + n; i++)
                if (!page_untouched(res, i) && !page_is_zero(m->ram + i * MIG_PAGE_SIZE))
                    memset(m->ram + i * MIG_PAGE_SIZE, 0, MIG_PAGE_SIZE);
            break;
        case MIG_RAW:
            if (!r_u64(r, &pg))
                goto truncated;
            if (pg >= npages) {
                snprintf(err, errlen, "page %llu is outside RAM", (unsigned long long)pg);
                goto out;
            }
            if (apply)
                populate(m, res, pg);
            if (res)
                res[pg] = 1;            /* a later zero record must clear it */
            if (!r_get(r, apply ? m->ram + pg * MIG_PAGE_SIZE : NULL, MIG_PAGE_SIZE))
                goto truncated;
            break;
        case MIG_ZLIB: {
            if (!r_u64(r, &pg) || !r_u32(r, &n))
                goto truncated;
            if (pg >= npages || n > compressBound(MIG_PAGE_SIZE)) {
                snprintf(err, errlen, "compressed page %llu (%u bytes) is invalid",
                         (unsigned long long)pg, n);
                goto out;
            }
            if (!r_get(r, zbuf, n))
                goto truncated;
            if (apply)
                populate(m, res, pg);
            if (res)
                res[pg] = 1;
            uLongf out_len = MIG_PAGE_SIZE;
            if (uncompress(apply ? m->ram + pg * MIG_PAGE_SIZE : scratch, &out_len, zbuf, n) != Z_OK ||
                out_len != MIG_PAGE_SIZE) {
                snprintf(err, errlen, "compressed page %llu does not inflate to a page",
                         (unsigned long long)pg);
                goto out;
            }
            break;
        }
        case MIG_STATE:
            if (!r_u32(r, &n))
                goto truncated;
            if (state || n > MIG_STATE_MAX) {
                snprintf(err, errlen, state ? "two device-state records"
                                            : "device state of %u bytes is too large", n);
                goto out;
            }
            state = xmalloc(n ? n : 1);
            state_len = n;
            if (!r_get(r, state, n))
                goto truncated;
            break;
        case MIG_END: {
            uint32_t want = (uint32_t)r->crc, got;
            if (!r_u32(r, &got))
                goto truncated;
            if (got != want) {
                snprintf(err, errlen, "checksum mismatch: the stream is corrupted");
                goto out;
            }
            if (!state) {
                snprintf(err, errlen, "the stream has no device state");
                goto out;
            }
            char *e = NULL;
            if ((apply ? machine_load_devices : machine_check_devices)(m, state, state_len, &e) < 0) {
                snprintf(err, errlen, "%s", e ? e : "device state refused");
                free(e);
                goto out;
            }
            rc = 0;
            goto out;
        }
        default:
            snprintf(err, errlen, "unknown record type %u at byte %llu", type,
                     (unsigned long long)r->total - 1);
            goto out;
        }
    }
truncated:
    snprintf(err, errlen, "stream truncated after %llu bytes", (unsigned long long)r->total);
out:
    free(state);
    free(zbuf);
    free(res);
    free(scratch);
    return rc;
}

int migration_load_fd(Machine *m, int fd, char *err, size_t errlen)
{
    Reader r = { .fd = fd, .buf = xmalloc(MIG_BUF), .crc = crc32(0, NULL, 0) };
    int rc = load_stream(m, &r, true, err, errlen);
    free(r.buf);
    return rc;
}

int migration_load_buf(Machine *m, const uint8_t *data, size_t len, char *err, size_t errlen)
{
    Reader r = { .fd = -1, .mem = data, .mem_len = len, .crc = crc32(0, NULL, 0) };
    return load_stream(m, &r, true, err, errlen);
}

int migration_check_buf(Machine *m, const uint8_t *data, size_t len, char *err, size_t errlen)
{
    Reader r = { .fd = -1, .mem = data, .mem_len = len, .crc = crc32(0, NULL, 0) };
    return load_stream(m, &r, false, err, errlen);
}

int migration_load_from(Machine *m, MigSource src, void *opaque, bool apply,
                        char *err, size_t errlen)
{
    Reader r = { .fd = -1, .source = src, .source_opaque = opaque, .buf = xmalloc(MIG_BUF),
                 .crc = crc32(0, NULL, 0) };
    int rc = load_stream(m, &r, apply, err, errlen);
    free(r.buf);
    return rc;
}

bool migration_active(VMControl *vc)
{
    return vc->mig && (vc->mig->live || !strcmp(vc->mig->status, "setup") ||
                       (vc->run_reason && !strcmp(vc->run_reason, "inmigrate")));
}

/* ---- URIs ---- */

/* exec:CMD: runs sh -c CMD with the returned fd as its stdin (for_write)
 * or stdout. */
static int open_exec(const char *cmd, bool for_write, pid_t *child, char *err, size_t errlen)
{
    int p[2];
    if (pipe2(p, O_CLOEXEC) < 0) {
        snprintf(err, errlen, "exec: %s", strerror(errno));
        return -1;
    }
    pid_t pid = fork();
    if (pid < 0) {
        snprintf(err, errlen, "exec: %s", strerror(errno));
        close(p[0]);
        close(p[1]);
        return -1;
    }
    if (pid == 0) {
        dup2(for_write ? p[0] : p[1], for_write ? 0 : 1);
        signal(SIGPIPE, SIG_DFL);
        execl("/bin/sh", "sh", "-c", cmd, (char *)NULL);
        _exit(127);
    }
    *child = pid;
    if (for_write) {
        close(p[0]);
        return p[1];
    }
    close(p[1]);
    return p[0];
}

static int connect_uri(const char *uri, char *err, size_t errlen)
{
    if (!strncmp(uri, "unix:", 5)) {
        struct sockaddr_un sa = { .sun_family = AF_UNIX };
        snprintf(sa.sun_path, sizeof sa.sun_path, "%s", uri + 5);
        int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
        if (fd < 0 || connect(fd, (struct sockaddr *)&sa, sizeof sa) < 0) {
            snprintf(err, errlen, "%s: %s", uri, strerror(errno));
            if (fd >= 0)
                close(fd);
            return -1;
        }
        return fd;
    }
    const char *hp = uri + 4, *colon = strrchr(hp, ':');
    if (!colon) {
        snprintf(err, errlen, "%s: expected tcp:HOST:PORT", uri);
        return -1;
    }
    char *host = strndup(hp, (size_t)(colon - hp));
    struct addrinfo hints = { .ai_socktype = SOCK_STREAM }, *res = NULL;
    int rc = getaddrinfo(*host ? host : "localhost", colon + 1, &hints, &res);
    free(host);
    if (rc) {
        snprintf(err, errlen, "%s: %s", uri, gai_strerror(rc));
        return -1;
    }
    int fd = -1;
    for (struct addrinfo *ai = res; ai && fd < 0; ai = ai->ai_next) {
        fd = socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC, ai->ai_protocol);
        if (fd >= 0 && connect(fd, ai->ai_addr, ai->ai_addrlen) < 0) {
            close(fd);
            fd = -1;
        }
    }
    if (fd < 0)
        snprintf(err, errlen, "%s: %s", uri, strerror(errno));
    freeaddrinfo(res);
    return fd;
}


/* ---- live (pre-copy) migration ----
 *
 * The guest keeps running while RAM is sent from the main loop
 * (Machine.tick_fn), at most max-bandwidth bytes per second.  The dirty
 * log (the translator's TLB_NOTDIRTY and memmap writes) records what the
 * guest writes meanwhile; each time every pending page is sent, the log
 * is synced into the pending set (one iteration).  When what is pending
 * can be sent within downtime-limit at the measured rate (or after 30
 * iterations), the VM stops, the rest of RAM and the device state go
 * out, and the source stays paused (postmigrate).  migrate_cancel stops
 * it all and the source runs on; the destination sees a stream without
 * its end and refuses to run.
 */

#define LIVE_MAX_ITERATIONS 30

static uint64_t bitmap_count(const uint64_t *b, uint64_t npages)
{
    uint64_t n = 0;
    for (uint64_t i = 0; i < (npages + 63) / 64; i++)
        n += (uint64_t)__builtin_popcountll(b[i]);
    return n;
}

static void send_page(Migration *mig, Machine *m, uint64_t pg)
{
    Writer *w = mig->lw;
    const uint8_t *p = m->ram + pg * MIG_PAGE_SIZE;
    if (page_is_zero(p)) {
        w_u8(w, MIG_ZERO);
        w_u64(w, pg);
        w_u32(w, 1);
        mig->zero_pages++;
        return;
    }
    uLongf clen = compressBound(MIG_PAGE_SIZE);
    if (mig->compress_level && compress2(mig->zbuf, &clen, p, MIG_PAGE_SIZE, mig->compress_level) == Z_OK &&
        clen < MIG_PAGE_SIZE) {
        w_u8(w, MIG_ZLIB);
        w_u64(w, pg);
        w_u32(w, (uint32_t)clen);
        w_put(w, mig->zbuf, clen);
    } else {
        w_u8(w, MIG_RAW);
        w_u64(w, pg);
        w_put(w, p, MIG_PAGE_SIZE);
    }
    mig->normal_pages++;
}

/* Sends pending pages until budget bytes went out (or all of them);
 * true when nothing is pending any more. */
static bool send_pending(Migration *mig, Machine *m, double budget)
{
    uint64_t npages = m->ram_size / MIG_PAGE_SIZE;
    uint64_t start = mig->lw->total;
    int64_t t0 = host_monotonic_ns();
    while (mig->scan < npages && !mig->lw->err) {
        uint64_t word = mig->pending[mig->scan / 64] >> (mig->scan % 64);
        if (!word) {
            mig->scan = (mig->scan / 64 + 1) * 64;
            continue;
        }
        mig->scan += (uint64_t)__builtin_ctzll(word);
        if (mig->scan >= npages)
            break;
        mig->pending[mig->scan / 64] &= ~(1ULL << (mig->scan % 64));
        send_page(mig, m, mig->scan);
        mig->scan++;
        if ((double)(mig->lw->total - start) >= budget)
            break;
    }
    mig->send_ns += host_monotonic_ns() - t0;
    mig->send_bytes += mig->lw->total - start;
    for (uint64_t i = mig->scan; i < npages; i++)
        if (mig->pending[i / 64] >> (i % 64) & 1)
            return false;
    return true;
}

static void live_end(VMControl *vc, const char *status)
{
    Migration *mig = vc->mig;
    Machine *m = vc->m;
    machine_dirty_log_stop(m);
    m->tick_fn = NULL;
    w_flush(mig->lw);
    close(mig->lw->fd);
    free(mig->lw->buf);
    free(mig->lw);
    mig->lw = NULL;
    free(mig->pending);
    mig->pending = NULL;
    free(mig->zbuf);
    mig->zbuf = NULL;
    mig->live = false;
    mig->total_ms = now_ms() - mig->start_ms;
    mig->status = status;
    mig_event(vc, status);
}

static void live_fail(VMControl *vc, const char *why)
{
    Migration *mig = vc->mig;
    snprintf(mig->error, sizeof mig->error, "%s", why);
    bool paused_by_us = vc->run_reason && !strcmp(vc->run_reason, "finish-migrate");
    live_end(vc, "failed");
    if (paused_by_us)
        resume_source(vc);
}

static void live_tick(void *opaque)
{
    VMControl *vc = opaque;
    Migration *mig = vc->mig;
    Machine *m = vc->m;
    uint64_t npages = m->ram_size / MIG_PAGE_SIZE;
    if (m->state != RUN_RUNNING && m->state != RUN_PAUSED) {
        live_fail(vc, "the VM stopped running");
        return;
    }
    int64_t now = now_ms();
    double bw = (double)mig->max_bandwidth / 1000.0;          /* bytes per ms */
    mig->allowance += (double)(now - mig->last_tick_ms) * bw;
    if (mig->allowance > bw * 100)
        mig->allowance = bw * 100;                              /* 100 ms worth at most */
    mig->last_tick_ms = now;
    if (mig->allowance <= 0)
        return;
    uint64_t before = mig->lw->total;
    bool done = send_pending(mig, m, mig->allowance);
    mig->allowance -= (double)(mig->lw->total - before);
    if (mig->lw->err) {
        live_fail(vc, strerror(mig->lw->err));
        return;
    }
    if (!done)
        return;
    /* Every pending page went out: take what the guest dirtied meanwhile. */
    machine_dirty_log_sync(m, mig->pending);
    mig->iterations++;
    mig->scan = 0;
    /* What the stop would send: the dirty pages, the low MiB, the devices. */
    uint64_t left = (bitmap_count(mig->pending, npages) + 256) * MIG_PAGE_SIZE + mig->state_bytes;
    double rate = mig->send_ns > 0 ? (double)mig->send_bytes / ((double)mig->send_ns / 1e6) : bw;
    double need_ms = (double)left / (rate < bw ? rate : bw);
    if (need_ms > (double)mig->downtime_limit_ms && mig->iterations < LIVE_MAX_ITERATIONS)
        return;
    /* The last iteration: stop the guest, send the rest and the devices. */
    int64_t t_stop = now_ms();
    vc->run_reason = "finish-migrate";
    machine_pause(m);
    if (vc->hooks.drain_io)
        vc->hooks.drain_io(vc->hooks.opaque);     /* its DMA is logged */
    char err[512];
    if (!migration_drives_active(vc, false, err, sizeof err)) {
        live_fail(vc, err);
        return;
    }
    machine_dirty_log_sync(m, mig->pending);
    /* Firmware shadow RAM below 1 MiB may be written through chipset
     * windows that bypass the log: always resend it. */
    for (uint64_t pg = 0; pg < MIN(npages, 256u); pg++)
        mig->pending[pg / 64] |= 1ULL << (pg % 64);
    mig->scan = 0;
    send_pending(mig, m, 1e300);
    VMBuf st;
    vmbuf_init(&st);
    machine_save_devices(m, &st);
    w_u8(mig->lw, MIG_STATE);
    w_u32(mig->lw, (uint32_t)st.len);
    w_put(mig->lw, st.data, st.len);
    vmbuf_free(&st);
    w_u8(mig->lw, MIG_END);
    w_u32(mig->lw, (uint32_t)mig->lw->crc);
    w_flush(mig->lw);
    if (mig->lw->err) {
        live_fail(vc, strerror(mig->lw->err));
        return;
    }
    mig->transferred = mig->lw->total;
    mig->downtime_ms = now_ms() - t_stop;
    vc->run_reason = "postmigrate";
    live_end(vc, "completed");
}

/* Starts a live migration on the connected fd. */
static void live_start(VMControl *vc, int fd)
{
    Migration *mig = vc->mig;
    Machine *m = vc->m;
    uint64_t npages = m->ram_size / MIG_PAGE_SIZE;
    mig->lw = xcalloc(1, sizeof(Writer));
    mig->lw->fd = fd;
    mig->lw->buf = xmalloc(MIG_BUF);
    mig->lw->crc = crc32(0, NULL, 0);
    mig->zbuf = xmalloc(compressBound(MIG_PAGE_SIZE));
    mig->pending = xcalloc((npages + 63) / 64, sizeof(uint64_t));
    /* The first pass: every page the host ever backed (others are zero
     * on the destination already... except pages a later pass zeroes,
     * which the dirty log then reports). */
    unsigned char *res = ram_resident(m);
    for (uint64_t pg = 0; pg < npages; pg++)
        if (!page_untouched(res, pg))
            mig->pending[pg / 64] |= 1ULL << (pg % 64);
    free(res);
    mig->scan = 0;
    mig->iterations = 0;
    mig->allowance = 0;
    mig->send_ns = 0;
    mig->send_bytes = 0;
    mig->zero_pages = mig->normal_pages = mig->normal_bytes = 0;
    mig->last_tick_ms = now_ms();
    mig->live = true;
    VMBuf st;
    vmbuf_init(&st);
    machine_save_devices(m, &st);
    mig->state_bytes = st.len;
    vmbuf_free(&st);
    w_put(mig->lw, MIG_MAGIC, 8);
    w_u32(mig->lw, MIG_VERSION);
    w_u32(mig->lw, MIG_PAGE_SIZE);
    w_u64(mig->lw, m->ram_size);
    w_u32(mig->lw, 0);
    machine_dirty_log_start(m);
    m->tick_opaque = vc;
    m->tick_fn = live_tick;
}

/* ---- outgoing ---- */

JsonValue *qmp_migrate(VMControl *vc, const JsonValue *args, CmdError *e)
{
    const char *uri = json_get_string(args, "uri");
    Migration *mig = mig_get(vc);
    Machine *m = vc->m;
    char err[512];
    if (vc->sandbox) {
        cmd_error(e, "GenericError", "migrate: no host files in this sandbox");
        return NULL;
    }
    if (!strcmp(mig->status, "active") || !strcmp(mig->status, "setup")) {
        cmd_error(e, "GenericError", "There's a migration process in progress");
        return NULL;
    }
    if (m->state != RUN_RUNNING && m->state != RUN_PAUSED) {
        cmd_error(e, "GenericError", "the VM is not in a state to migrate (%s)",
                  vmcontrol_status(vc));
        return NULL;
    }
    if (vc->run_reason && !strcmp(vc->run_reason, "inmigrate")) {
        cmd_error(e, "GenericError", "Guest is waiting for an incoming migration");
        return NULL;
    }
    pid_t child = -1;
    int fd;
    if (!strncmp(uri, "file:", 5)) {
        fd = open(uri + 5, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
        if (fd < 0)
            snprintf(err, sizeof err, "%s: %s", uri + 5, strerror(errno));
    } else if (!strncmp(uri, "exec:", 5)) {
        fd = open_exec(uri + 5, true, &child, err, sizeof err);
    } else if (!strncmp(uri, "tcp:", 4) || !strncmp(uri, "unix:", 5)) {
        fd = connect_uri(uri, err, sizeof err);
    } else {
        cmd_error(e, "GenericError", "unknown migration protocol: '%s' "
                  "(file:PATH, exec:CMD, tcp:HOST:PORT, unix:PATH)", uri);
        return NULL;
    }
    if (fd < 0) {
        cmd_error(e, "GenericError", "%s", err);
        return NULL;
    }
    mig->start_ms = now_ms();
    mig->status = "active";
    mig->error[0] = '\0';
    mig->downtime_ms = 0;
    mig_event(vc, "setup");
    mig_event(vc, "active");
    bool was_running = m->state == RUN_RUNNING;
    bool kvm = vc->accel_ops && !strcmp(vc->accel_ops->name, "kvm");
    if (was_running && !kvm && (!strncmp(uri, "tcp:", 4) || !strncmp(uri, "unix:", 5))) {
        live_start(vc, fd);             /* returns at once; the main loop sends */
        return json_object();
    }
    /* Stop and copy: the whole transfer is downtime. */
    if (was_running) {
        vc->run_reason = "finish-migrate";
        machine_pause(m);
    }
    /* Disk requests in flight complete first: their DMA lands in RAM and
     * the devices' state no longer waits for them. */
    if (vc->hooks.drain_io)
        vc->hooks.drain_io(vc->hooks.opaque);
    int64_t n = migration_drives_active(vc, false, err, sizeof err)
                    ? migration_save_fd(vc, fd, mig->compress_level, err, sizeof err) : -1;
    close(fd);
    if (child > 0) {
        int st;
        while (waitpid(child, &st, 0) < 0 && errno == EINTR)
            ;
        if (n >= 0 && !(WIFEXITED(st) && WEXITSTATUS(st) == 0)) {
            snprintf(err, sizeof err, "the exec: command failed (status %d)",
                     WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st));
            n = -1;
        }
    }
    mig->total_ms = now_ms() - mig->start_ms;
    mig->downtime_ms = was_running ? mig->total_ms : 0;
    if (n < 0) {
        mig->status = "failed";
        snprintf(mig->error, sizeof mig->error, "%s", err);
        mig_event(vc, "failed");
        /* The source carries on as it was. */
        vc->run_reason = NULL;
        if (was_running)
            resume_source(vc);
        else
            take_disks_back(vc);
        cmd_error(e, "GenericError", "migration failed: %s", mig->error);
        return NULL;
    }
    mig->transferred = (uint64_t)n;
    mig->iterations = 0;
    mig->status = "completed";
    mig_event(vc, "completed");
    /* As QEMU: the source stays paused after a completed migration. */
    vc->run_reason = "postmigrate";
    return json_object();
}

JsonValue *qmp_migrate_cancel(VMControl *vc, const JsonValue *args, CmdError *e)
{
    /* Only a live migration is ever in flight between commands (file:
     * and exec: run to their end inside migrate). */
    if (vc->mig && vc->mig->live) {
        bool paused_by_us = vc->run_reason && !strcmp(vc->run_reason, "finish-migrate");
        live_end(vc, "cancelled");
        if (paused_by_us)
            resume_source(vc);
    }
    return json_object();
}

JsonValue *qmp_query_migrate(VMControl *vc, const JsonValue *args, CmdError *e)
{
    Migration *mig = vc->mig;
    JsonValue *r = json_object();
    if (!mig || !strcmp(mig->status, "none"))
        return r;
    json_set_str(r, "status", mig->status);
    if (mig->live) {
        uint64_t npages = vc->m->ram_size / MIG_PAGE_SIZE;
        JsonValue *ram = json_object();
        json_set_int(r, "total-time", now_ms() - mig->start_ms);
        json_set_int(r, "expected-downtime", mig->downtime_limit_ms);
        json_set_int(ram, "transferred", (int64_t)mig->lw->total);
        json_set_int(ram, "total", (int64_t)vc->m->ram_size);
        json_set_int(ram, "remaining", (int64_t)(bitmap_count(mig->pending, npages) * MIG_PAGE_SIZE));
        json_set_int(ram, "duplicate", (int64_t)mig->zero_pages);
        json_set_int(ram, "normal", (int64_t)mig->normal_pages);
        json_set_int(ram, "dirty-sync-count", mig->iterations);
        json_set(r, "ram", ram);
        return r;
    }
    if (!strcmp(mig->status, "completed") || !strcmp(mig->status, "failed") ||
        !strcmp(mig->status, "cancelled")) {
        json_set_int(r, "total-time", mig->total_ms);
        json_set_int(r, "downtime", mig->downtime_ms);
        json_set_int(r, "setup-time", 0);
    }
    if (mig->normal_pages || mig->zero_pages) {
        JsonValue *ram = json_object();
        json_set_int(ram, "transferred", (int64_t)mig->transferred);
        json_set_int(ram, "total", (int64_t)vc->m->ram_size);
        json_set_int(ram, "remaining", 0);
        json_set_int(ram, "duplicate", (int64_t)mig->zero_pages);
        json_set_int(ram, "normal", (int64_t)mig->normal_pages);
        json_set_int(ram, "normal-bytes", (int64_t)mig->normal_bytes);
        json_set_int(ram, "page-size", MIG_PAGE_SIZE);
        json_set_int(ram, "dirty-sync-count", mig->iterations ? mig->iterations : 1);
        double secs = mig->total_ms > 0 ? mig->total_ms / 1000.0 : 0.001;
        json_set(ram, "mbps", json_double(mig->transferred * 8.0 / 1e6 / secs));
        json_set(r, "ram", ram);
    }
    if (mig->error[0])
        json_set_str(r, "error-desc", mig->error);
    return r;
}

void hmp_info_migrate(VMControl *vc, const JsonValue *ret, Text *out)
{
    const char *st = json_get_string(ret, "status");
    if (!st)
        return;
    text_printf(out, "Migration status: %s\n", st);
    JsonValue *v;
    if ((v = json_get(ret, "total-time")))
        text_printf(out, "total time: %lld ms\n", (long long)v->i);
    if ((v = json_get(ret, "downtime")))
        text_printf(out, "downtime: %lld ms\n", (long long)v->i);
    JsonValue *ram = json_get(ret, "ram");
    if (ram) {
        text_printf(out, "transferred ram: %lld kbytes\n", (long long)json_get(ram, "transferred")->i / 1024);
        text_printf(out, "total ram: %lld kbytes\n", (long long)json_get(ram, "total")->i / 1024);
        text_printf(out, "duplicate: %lld pages\n", (long long)json_get(ram, "duplicate")->i);
        text_printf(out, "normal: %lld pages\n", (long long)json_get(ram, "normal")->i);
    }
    const char *err = json_get_string(ret, "error-desc");
    if (err)
        text_printf(out, "error: %s\n", err);
}

JsonValue *qmp_migrate_set_parameters(VMControl *vc, const JsonValue *args, CmdError *e)
{
    Migration *mig = mig_get(vc);
    JsonValue *v;
    if ((v = json_get(args, "compress-level"))) {
        if (v->i < 0 || v->i > 9) {
            cmd_error(e, "GenericError", "Parameter 'compress-level' expects a value between 0 and 9");
            return NULL;
        }
        mig->compress_level = (int)v->i;
    }
    if ((v = json_get(args, "downtime-limit"))) {
        if (v->i < 0 || v->i > 2000000) {
            cmd_error(e, "GenericError", "Parameter 'downtime-limit' expects a value between 0 and 2000000");
            return NULL;
        }
        mig->downtime_limit_ms = v->i;
    }
    if ((v = json_get(args, "max-bandwidth"))) {
        if (v->i < 0) {
            cmd_error(e, "GenericError", "Parameter 'max-bandwidth' expects a positive value");
            return NULL;
        }
        mig->max_bandwidth = v->i;
    }
    return json_object();
}

JsonValue *qmp_query_migrate_parameters(VMControl *vc, const JsonValue *args, CmdError *e)
{
    Migration *mig = mig_get(vc);
    JsonValue *r = json_object();
    json_set_int(r, "compress-level", mig->compress_level);
    json_set_int(r, "downtime-limit", mig->downtime_limit_ms);
    json_set_int(r, "max-bandwidth", mig->max_bandwidth);
    return r;
}

void hmp_migrate_set_parameter(VMControl *vc, int argc, char **argv, Text *out)
{
    if (argc != 3) {
        text_printf(out, "migrate_set_parameter: expected a parameter and a value\n");
        return;
    }
    char *end;
    long long v = strtoll(argv[2], &end, 0);
    if (*end) {
        text_printf(out, "migrate_set_parameter: '%s' is not a number\n", argv[2]);
        return;
    }
    JsonValue *a = json_object();
    json_set_int(a, argv[1], v);
    cmd_hmp_call(vc, "migrate-set-parameters", a, out);
}

/* The capabilities (QEMU's MigrationCapability names) that mean something
 * here.  "compress" is the zlib page compression that compress-level
 * sets: turning it on without a level gives QEMU's default level 1. */
static const char *const mig_caps[] = { "events", "compress" };

static bool mig_cap_get(const Migration *mig, int i)
{
    return i == 0 ? mig->events : mig->compress_level > 0;
}

static void mig_cap_set(Migration *mig, int i, bool on)
{
    if (i == 0)
        mig->events = on;
    else if (!on)
        mig->compress_level = 0;
    else if (!mig->compress_level)
        mig->compress_level = 1;
}

static int mig_cap_find(const char *name)
{
    for (int i = 0; i < (int)ARRAY_SIZE(mig_caps); i++)
        if (!strcmp(mig_caps[i], name))
            return i;
    return -1;
}

JsonValue *qmp_migrate_set_capabilities(VMControl *vc, const JsonValue *args, CmdError *e)
{
    const JsonValue *list = json_get(args, "capabilities");
    if (list->type != JSON_ARRAY) {
        cmd_error(e, "GenericError", "Invalid parameter type for 'capabilities', expected: array");
        return NULL;
    }
    if (migration_active(vc)) {
        cmd_error(e, "GenericError", "There's a migration process in progress");
        return NULL;
    }
    /* All checked before any is changed: a bad entry changes nothing. */
    for (size_t i = 0; i < list->n; i++) {
        const JsonValue *c = list->items[i], *st = NULL;
        const char *name = c->type == JSON_OBJECT ? json_get_string(c, "capability") : NULL;
        if (c->type == JSON_OBJECT)
            st = json_get(c, "state");
        if (!name || !st || st->type != JSON_BOOL || c->n != 2) {
            cmd_error(e, "GenericError", "Invalid parameter type for 'capabilities[%zu]', "
                      "expected: {\"capability\": str, \"state\": bool}", i);
            return NULL;
        }
        if (mig_cap_find(name) < 0) {
            cmd_error(e, "GenericError", "Parameter 'capability' does not accept value '%s'", name);
            return NULL;
        }
    }
    Migration *mig = mig_get(vc);
    for (size_t i = 0; i < list->n; i++)
        mig_cap_set(mig, mig_cap_find(json_get_string(list->items[i], "capability")),
                    json_get(list->items[i], "state")->b);
    return json_object();
}

JsonValue *qmp_query_migrate_capabilities(VMControl *vc, const JsonValue *args, CmdError *e)
{
    Migration *mig = mig_get(vc);
    JsonValue *r = json_array();
    for (int i = 0; i < (int)ARRAY_SIZE(mig_caps); i++) {
        JsonValue *c = json_object();
        json_set_str(c, "capability", mig_caps[i]);
        json_set_bool(c, "state", mig_cap_get(mig, i));
        json_append(r, c);
    }
    return r;
}

void hmp_migrate_capabilities(VMControl *vc, const JsonValue *ret, Text *out)
{
    for (size_t i = 0; i < ret->n; i++)
        text_printf(out, "%s: %s\n", json_get_string(ret->items[i], "capability"),
                    json_get(ret->items[i], "state")->b ? "on" : "off");
}

void hmp_migrate_set_capability(VMControl *vc, int argc, char **argv, Text *out)
{
    if (argc != 3 || (strcmp(argv[2], "on") && strcmp(argv[2], "off"))) {
        text_printf(out, "migrate_set_capability: expected a capability and on|off\n");
        return;
    }
    JsonValue *a = json_object(), *list = json_array(), *c = json_object();
    json_set_str(c, "capability", argv[1]);
    json_set_bool(c, "state", !strcmp(argv[2], "on"));
    json_append(list, c);
    json_set(a, "capabilities", list);
    cmd_hmp_call(vc, "migrate-set-capabilities", a, out);
}

/* ---- incoming ---- */

static void incoming_finish(VMControl *vc, int fd)
{
    Migration *mig = mig_get(vc);
    Machine *m = vc->m;
    char err[512];
    machine_unwatch_fd(m, mig);
    mig->start_ms = now_ms();
    mig->status = "active";
    mig_event(vc, "active");
    int rc = migration_load_fd(m, fd, err, sizeof err);
    char why[400];
    if (rc == 0 && !migration_drives_active(vc, true, why, sizeof why)) {
        snprintf(err, sizeof err, "cannot take over the disks: %s", why);
        rc = -1;
    }
    close(fd);
    if (fd == mig->in_fd)
        mig->in_fd = -1;
    if (mig->in_child > 0) {
        int st;
        while (waitpid(mig->in_child, &st, 0) < 0 && errno == EINTR)
            ;
        mig->in_child = -1;
    }
    mig->total_ms = now_ms() - mig->start_ms;
    if (rc < 0) {
        mig->status = "failed";
        snprintf(mig->error, sizeof mig->error, "%s", err);
        mig_event(vc, "failed");
        /* Refuse to run: the RAM may be half loaded. */
        fprintf(stderr, "vx86: incoming migration failed: %s\n", err);
        vc->run_reason = "internal-error";
        m->state = RUN_ERROR;
        m->exit_code = 1;
        machine_request_stop(m);
        return;
    }
    mig->status = "completed";
    mig_event(vc, "completed");
    vc->run_reason = NULL;
    if (m->opts && m->opts->start_stopped)
        return;                         /* -S: paused until cont */
    machine_resume(m);
}

static int incoming_fd(void *opaque)
{
    Migration *mig = opaque;
    return mig->listen_fd >= 0 ? mig->listen_fd : mig->in_fd;
}

static void incoming_readable(void *opaque)
{
    Migration *mig = opaque;
    VMControl *vc = mig->vc;
    if (mig->listen_fd >= 0) {
        int fd = accept(mig->listen_fd, NULL, NULL);
        if (fd < 0)
            return;
        close(mig->listen_fd);
        mig->listen_fd = -1;
        if (mig->listen_path[0]) {
            unlink(mig->listen_path);
            mig->listen_path[0] = '\0';
        }
        incoming_finish(vc, fd);
        return;
    }
    int fd = mig->in_fd;
    mig->in_fd = -1;
    incoming_finish(vc, fd);
}

static bool incoming_open(VMControl *vc, const char *uri, char *err, size_t errlen)
{
    Migration *mig = mig_get(vc);
    if (!strncmp(uri, "file:", 5)) {
        mig->in_fd = open(uri + 5, O_RDONLY | O_CLOEXEC);
        if (mig->in_fd < 0) {
            snprintf(err, errlen, "%s: %s", uri + 5, strerror(errno));
            return false;
        }
    } else if (!strncmp(uri, "exec:", 5)) {
        mig->in_fd = open_exec(uri + 5, false, &mig->in_child, err, errlen);
        if (mig->in_fd < 0)
            return false;
    } else if (!strncmp(uri, "tcp:", 4)) {
        mig->listen_fd = qmp_listen_tcp(uri + 4, err, errlen);
        if (mig->listen_fd < 0)
            return false;
    } else if (!strncmp(uri, "unix:", 5)) {
        mig->listen_fd = qmp_listen_unix(uri + 5, err, errlen);
        if (mig->listen_fd < 0)
            return false;
        snprintf(mig->listen_path, sizeof mig->listen_path, "%s", uri + 5);
    } else {
        snprintf(err, errlen, "unknown migration protocol: '%s' "
                 "(file:PATH, exec:CMD, tcp:HOST:PORT, unix:PATH, defer)", uri);
        return false;
    }
    mig->status = "setup";
    mig_event(vc, "setup");
    /* A file or pipe is readable at once: the main loop loads it before
     * the first guest instruction (the machine starts paused). */
    machine_watch_fd(vc->m, incoming_fd, incoming_readable, mig);
    return true;
}

bool migration_incoming_start(VMControl *vc, const char *uri, char *err, size_t errlen)
{
    vc->m->start_paused = true;
    vc->run_reason = "inmigrate";
    if (!strcmp(uri, "defer"))
        return true;
    return incoming_open(vc, uri, err, errlen);
}

JsonValue *qmp_migrate_incoming(VMControl *vc, const JsonValue *args, CmdError *e)
{
    const char *uri = json_get_string(args, "uri");
    Migration *mig = mig_get(vc);
    char err[512];
    if (vc->sandbox) {
        cmd_error(e, "GenericError", "migrate-incoming: no host files in this sandbox");
        return NULL;
    }
    if (!vc->run_reason || strcmp(vc->run_reason, "inmigrate")) {
        cmd_error(e, "GenericError", "'-incoming' was not specified on the command line");
        return NULL;
    }
    if (mig->in_fd >= 0 || mig->listen_fd >= 0) {
        cmd_error(e, "GenericError", "The incoming migration has already been started");
        return NULL;
    }
    if (!incoming_open(vc, uri, err, sizeof err)) {
        cmd_error(e, "GenericError", "%s", err);
        return NULL;
    }
    return json_object();
}
