/*
 * Record/replay: the log file and the two modes (see core/replay.h and
 * docs/record-replay.md).
 *
 * The file:
 *
 *   header   "VX86RR\r\n", u8 version (1), varint shift, zigzag varint
 *            RTC base, u64 command-line hash, string vx86 version,
 *            varint nfiles + per file (u8 kind, varint index, varint
 *            size, u32 CRC-32)
 *   events   varint (delta << 4 | kind), delta = instructions since the
 *            previous event, then the kind's fields:
 *              CHAR, NET   varint id, varint len, len bytes
 *              RANDOM      varint len, len bytes
 *              WARP        varint ns
 *              KEY         varint keycode, u8 down
 *              MOUSE       zigzag dx, dy, dz, varint buttons
 *              CHECKPOINT  varint rip, u32 register hash
 *              SHIFT       varint shift
 *              RESET, POWER, END  nothing
 *   trailer  "VX86RRND", u32 number of events (END included), u32 CRC-32
 *            of every byte before it
 *
 * Integers are little-endian; varints are LEB128 (at most 10 bytes);
 * zigzag maps signed n to (n << 1) ^ (n >> 63).  A boot's log is a few
 * kilobytes: checkpoints every 2^24 instructions and the idle CPU's warps
 * are most of it.
 */
#include "core/replay.h"
#include "core/replay-int.h"

#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#include "config.h"
#include "core/machine.h"
#include "core/util.h"
#include "host/chardev.h"
#include "net/net.h"

#define RR_MAGIC "VX86RR\r\n"
#define RR_END_MAGIC "VX86RRND"
#define RR_VERSION 1
#define RR_TRAILER 16
#define RR_FILE_CRC_MAX (64ULL << 20)

/* ---- varints ---- */

static size_t put_varint(uint8_t *p, uint64_t v)
{
    size_t n = 0;
    do {
        uint8_t b = v & 0x7f;
        v >>= 7;
        p[n++] = b | (v ? 0x80 : 0);
    } while (v);
    return n;
}

static uint64_t zigzag(int64_t v)
{
    return ((uint64_t)v << 1) ^ (uint64_t)(v >> 63);
}

static int64_t unzigzag(uint64_t v)
{
    return (int64_t)(v >> 1) ^ -(int64_t)(v & 1);
}

/* A bounded reader over the log's bytes; the first problem sticks. */
typedef struct Rd {
    const uint8_t *p;
    size_t len, off;
    const char *bad;
} Rd;

static uint64_t rd_varint(Rd *r)
{
    uint64_t v = 0;
    for (int shift = 0; shift < 64; shift += 7) {
        if (r->off >= r->len) {
            r->bad = r->bad ? r->bad : "a record runs past the end";
            return 0;
        }
        uint8_t b = r->p[r->off++];
        if (shift == 63 && b > 1) {
            r->bad = r->bad ? r->bad : "a number is too large";
            return 0;
        }
        v |= (uint64_t)(b & 0x7f) << shift;
        if (!(b & 0x80))
            return v;
    }
    r->bad = r->bad ? r->bad : "a number is too long";
    return 0;
}

static const uint8_t *rd_bytes(Rd *r, size_t n)
{
    if (r->bad)
        return NULL;
    if (n > r->len - r->off) {
        r->bad = "a record runs past the end";
        return NULL;
    }
    const uint8_t *p = r->p + r->off;
    r->off += n;
    return p;
}

static uint32_t rd_u32(Rd *r)
{
    const uint8_t *p = rd_bytes(r, 4);
    return p ? (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 |
                   (uint32_t)p[3] << 24
             : 0;
}

static uint64_t rd_u64(Rd *r)
{
    uint64_t lo = rd_u32(r);
    return lo | (uint64_t)rd_u32(r) << 32;
}

static uint32_t ld_u32(const uint8_t *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

/* ---- parsing a log ---- */

static bool parse_header(Rd *r, ReplayHeader *h)
{
    const uint8_t *magic = rd_bytes(r, 8);
    if (!magic || memcmp(magic, RR_MAGIC, 8)) {
        r->bad = "not a vx86 record/replay log";
        return false;
    }
    const uint8_t *ver = rd_bytes(r, 1);
    if (ver && ver[0] != RR_VERSION) {
        r->bad = "a log format version this vx86 does not read";
        return false;
    }
    uint64_t shift = rd_varint(r);
    h->shift = (uint32_t)shift;
    h->rtc_base = unzigzag(rd_varint(r));
    h->cmdline_hash = rd_u64(r);
    uint64_t vlen = rd_varint(r);
    if (!r->bad && vlen >= sizeof h->version)
        r->bad = "the version string is too long";
    const uint8_t *v = rd_bytes(r, (size_t)(r->bad ? 0 : vlen));
    if (v) {
        memcpy(h->version, v, (size_t)vlen);
        h->version[vlen] = 0;
    }
    uint64_t nfiles = rd_varint(r);
    if (!r->bad && nfiles > RR_MAX_FILES)
        r->bad = "too many files in the header";
    for (uint64_t i = 0; !r->bad && i < nfiles; i++) {
        const uint8_t *k = rd_bytes(r, 1);
        ReplayFile *f = &h->files[i];
        f->kind = k ? k[0] : 0;
        f->index = (uint32_t)rd_varint(r);
        f->size = rd_varint(r);
        f->crc = rd_u32(r);
        if (!r->bad && (f->kind < RR_FILE_KERNEL || f->kind > RR_FILE_DRIVE))
            r->bad = "an unknown file kind in the header";
    }
    h->nfiles = (uint32_t)nfiles;
    if (!r->bad && shift > ICOUNT_MAX_SHIFT)
        r->bad = "the shift is out of range";
    return !r->bad;
}

/* One event at r; false at a malformed one (r->bad says why). */
static bool parse_event(Rd *r, uint64_t *count, ReplayEvent *e)
{
    uint64_t head = rd_varint(r);
    uint64_t delta = head >> 4;
    if (r->bad)
        return false;
    if (delta > UINT64_MAX - *count) {
        r->bad = "the instruction count overflows";
        return false;
    }
    *count += delta;
    *e = (ReplayEvent){ .count = *count, .kind = head & 15 };
    switch (e->kind) {
    case RR_EV_CHAR:
    case RR_EV_NET:
    case RR_EV_RANDOM: {
        uint64_t id = e->kind == RR_EV_RANDOM ? 0 : rd_varint(r);
        uint64_t len = rd_varint(r);
        if (!r->bad && (id >= RR_MAX_SOURCES || len == 0 || len > RR_MAX_DATA)) {
            r->bad = "an input record is out of range";
            return false;
        }
        e->id = (uint32_t)id;
        e->len = (uint32_t)len;
        e->data = rd_bytes(r, (size_t)len);
        break;
    }
    case RR_EV_WARP:
        e->a = (int64_t)rd_varint(r);
        if (!r->bad && (e->a <= 0 || e->a > (int64_t)1 << 62))
            r->bad = "a warp is out of range";
        break;
    case RR_EV_KEY: {
        e->id = (uint32_t)rd_varint(r);
        const uint8_t *d = rd_bytes(r, 1);
        e->a = d ? d[0] : 0;
        if (!r->bad && (e->id > 0xffff || e->a > 1))
            r->bad = "a key record is out of range";
        break;
    }
    case RR_EV_MOUSE:
        e->a = unzigzag(rd_varint(r));
        e->b = unzigzag(rd_varint(r));
        e->c = unzigzag(rd_varint(r));
        e->id = (uint32_t)rd_varint(r);
        if (!r->bad && (llabs(e->a) > 65535 || llabs(e->b) > 65535 || llabs(e->c) > 65535 ||
                        e->id > 31))
            r->bad = "a mouse record is out of range";
        break;
    case RR_EV_CHECKPOINT:
        e->a = (int64_t)rd_varint(r);
        e->id = rd_u32(r);
        break;
    case RR_EV_SHIFT:
        e->a = (int64_t)rd_varint(r);
        if (!r->bad && (e->a < 0 || e->a > ICOUNT_MAX_SHIFT))
            r->bad = "a shift is out of range";
        break;
    case RR_EV_RESET:
    case RR_EV_POWER:
    case RR_EV_END:
        break;
    default:
        r->bad = "an unknown record kind";
        return false;
    }
    return !r->bad;
}

static bool parse_fail(char *err, size_t errlen, const char *why, size_t off)
{
    snprintf(err, errlen, "damaged log: %s (byte %zu); refusing to replay", why, off);
    return false;
}

bool replay_log_parse(const uint8_t *data, size_t len, ReplayLog *log, char *err, size_t errlen)
{
    memset(log, 0, sizeof *log);
    if (len < 9 + RR_TRAILER) {
        snprintf(err, errlen, "%s", len >= 8 && !memcmp(data, RR_MAGIC, 8)
                 ? "truncated log (it ends before its first record); refusing to replay"
                 : "not a vx86 record/replay log");
        return false;
    }
    if (memcmp(data, RR_MAGIC, 8)) {
        snprintf(err, errlen, "not a vx86 record/replay log");
        return false;
    }
    const uint8_t *tr = data + len - RR_TRAILER;
    if (memcmp(tr, RR_END_MAGIC, 8)) {
        snprintf(err, errlen, "truncated log (no end marker: the recording did not finish "
                              "or the file was cut); refusing to replay");
        return false;
    }
    uint32_t nev = ld_u32(tr + 8);
    uint32_t want = ld_u32(tr + 12);
    uint32_t crc = (uint32_t)crc32(crc32(0, NULL, 0), data, (uInt)(len - 4));
    if (crc != want) {
        snprintf(err, errlen, "damaged log (CRC-32 %08x, the trailer says %08x); refusing to "
                              "replay", crc, want);
        return false;
    }
    Rd r = { .p = data, .len = len - RR_TRAILER };
    if (!parse_header(&r, &log->h))
        return parse_fail(err, errlen, r.bad, r.off);
    /* Every event takes at least one byte: nev is bounded by the file. */
    if (nev == 0 || nev > r.len - r.off)
        return parse_fail(err, errlen, "the event count does not fit the file", len - 8);
    log->ev = xcalloc(nev, sizeof *log->ev);
    uint64_t count = 0;
    size_t n = 0;
    while (r.off < r.len) {
        if (n == nev) {
            r.bad = "more events than the trailer says";
            break;
        }
        size_t at = r.off;
        if (!parse_event(&r, &count, &log->ev[n])) {
            replay_log_free(log);
            return parse_fail(err, errlen, r.bad, at);
        }
        if (log->ev[n++].kind == RR_EV_END && r.off != r.len) {
            r.bad = "records after the end";
            break;
        }
    }
    if (!r.bad && (n != nev || log->ev[n - 1].kind != RR_EV_END))
        r.bad = n != nev ? "fewer events than the trailer says" : "no end record";
    if (r.bad) {
        replay_log_free(log);
        return parse_fail(err, errlen, r.bad, r.off);
    }
    log->nev = n;
    return true;
}

void replay_log_free(ReplayLog *log)
{
    free(log->ev);
    log->ev = NULL;
    log->nev = 0;
}

/* ---- the machine's side ---- */

uint64_t rr_now(const Replay *r)
{
    return clock_icount(r->m->clock);
}

RRMode replay_mode(const Replay *r)
{
    return r->mode;
}

/* ---- record: writing ---- */

static void out(Replay *r, const void *p, size_t n)
{
    if (r->write_failed || !n)
        return;
    r->crc = (uint32_t)crc32(r->crc, p, (uInt)n);
    r->bytes += n;
    if (fwrite(p, 1, n, r->f) != n) {
        r->write_failed = true;
        fprintf(stderr, "vx86: -icount rrfile=%s: %s (the recording is incomplete)\n", r->path,
                strerror(errno));
    }
}

static void out_varint(Replay *r, uint64_t v)
{
    uint8_t b[10];
    out(r, b, put_varint(b, v));
}

static void out_u32(Replay *r, uint32_t v)
{
    uint8_t b[4] = { (uint8_t)v, (uint8_t)(v >> 8), (uint8_t)(v >> 16), (uint8_t)(v >> 24) };
    out(r, b, 4);
}

static void write_header(Replay *r);

static void write_event(Replay *r, uint64_t count, const ReplayEvent *e, const uint8_t *data)
{
    if (r->bytes == 0)
        write_header(r);
    uint64_t delta = count - r->last_count;
    r->last_count = count;
    r->nevents++;
    out_varint(r, delta << 4 | e->kind);
    switch (e->kind) {
    case RR_EV_CHAR:
    case RR_EV_NET:
        out_varint(r, e->id);
        /* fall through */
    case RR_EV_RANDOM:
        out_varint(r, e->len);
        out(r, data, e->len);
        break;
    case RR_EV_WARP:
    case RR_EV_SHIFT:
        out_varint(r, (uint64_t)e->a);
        break;
    case RR_EV_KEY: {
        uint8_t d = (uint8_t)e->a;
        out_varint(r, e->id);
        out(r, &d, 1);
        break;
    }
    case RR_EV_MOUSE:
        out_varint(r, zigzag(e->a));
        out_varint(r, zigzag(e->b));
        out_varint(r, zigzag(e->c));
        out_varint(r, e->id);
        break;
    case RR_EV_CHECKPOINT:
        out_varint(r, (uint64_t)e->a);
        out_u32(r, e->id);
        break;
    default:
        break;
    }
}

static void write_header(Replay *r)
{
    const ReplayHeader *h = &r->h;
    uint8_t ver = RR_VERSION;
    out(r, RR_MAGIC, 8);
    out(r, &ver, 1);
    out_varint(r, h->shift);
    out_varint(r, zigzag(h->rtc_base));
    out_u32(r, (uint32_t)h->cmdline_hash);
    out_u32(r, (uint32_t)(h->cmdline_hash >> 32));
    size_t vl = strlen(h->version);
    out_varint(r, vl);
    out(r, h->version, vl);
    out_varint(r, h->nfiles);
    for (uint32_t i = 0; i < h->nfiles; i++) {
        out(r, &h->files[i].kind, 1);
        out_varint(r, h->files[i].index);
        out_varint(r, h->files[i].size);
        out_u32(r, h->files[i].crc);
    }
}

/* ---- the files the guest starts from ---- */

/* Size and CRC-32 of path (its first RR_FILE_CRC_MAX bytes). */
static bool file_sum(const char *path, uint64_t *size, uint32_t *crc, char *err, size_t errlen)
{
    FILE *f = fopen(path, "rb");
    if (!f) {
        snprintf(err, errlen, "%s: %s", path, strerror(errno));
        return false;
    }
    uint8_t *buf = xmalloc(1 << 20);
    uLong c = crc32(0, NULL, 0);
    uint64_t total = 0;
    size_t n;
    while (total < RR_FILE_CRC_MAX && (n = fread(buf, 1, 1 << 20, f)) > 0) {
        c = crc32(c, buf, (uInt)n);
        total += n;
    }
    free(buf);
    fseek(f, 0, SEEK_END);
    long end = ftell(f);
    fclose(f);
    *size = end > 0 ? (uint64_t)end : total;
    *crc = (uint32_t)c;
    return true;
}

static bool add_file(ReplayHeader *h, uint8_t kind, uint32_t index, const char *path, char *err,
                     size_t errlen)
{
    if (!path || h->nfiles == RR_MAX_FILES)
        return true;
    ReplayFile *f = &h->files[h->nfiles];
    f->kind = kind;
    f->index = index;
    if (!file_sum(path, &f->size, &f->crc, err, errlen))
        return false;
    h->nfiles++;
    return true;
}

static bool collect_files(ReplayHeader *h, const VMOptions *o, char *err, size_t errlen)
{
    if (!add_file(h, RR_FILE_KERNEL, 0, o->kernel, err, errlen) ||
        !add_file(h, RR_FILE_BIOS, 0, o->bios, err, errlen))
        return false;
    int n = o->initrd ? options_initrd_count(o->initrd) : 0;
    for (int i = 0; i < n; i++) {
        char *path = NULL, *cmd = NULL;
        bool ok = options_initrd_item(o->initrd, i, &path, &cmd) &&
                  add_file(h, RR_FILE_INITRD, (uint32_t)i, path, err, errlen);
        free(path);
        free(cmd);
        if (!ok)
            return false;
    }
    for (int i = 0; i < o->ndrives; i++)
        if (o->drives[i].file &&
            !add_file(h, RR_FILE_DRIVE, (uint32_t)i, o->drives[i].file, err, errlen))
            return false;
    return true;
}

static const char *const file_kind_name[] = {
    [RR_FILE_KERNEL] = "-kernel", [RR_FILE_INITRD] = "-initrd", [RR_FILE_BIOS] = "-bios",
    [RR_FILE_DRIVE] = "drive",
};

/* The replay's header against this machine's. */
static bool header_matches(const ReplayHeader *log, const ReplayHeader *now, char *err,
                           size_t errlen)
{
    if (strcmp(log->version, now->version)) {
        snprintf(err, errlen, "recorded by vx86 %s, this is %s; refusing to replay",
                 log->version, now->version);
        return false;
    }
    if (log->shift != now->shift) {
        snprintf(err, errlen, "recorded with shift=%u, replayed with shift=%u", log->shift,
                 now->shift);
        return false;
    }
    if (log->cmdline_hash != now->cmdline_hash) {
        snprintf(err, errlen, "recorded with other options (a replay takes the recording's "
                              "command line; only debugging options may differ)");
        return false;
    }
    if (log->nfiles != now->nfiles) {
        snprintf(err, errlen, "recorded with %u guest files (kernel, initrd, firmware, "
                              "drives), replayed with %u", log->nfiles, now->nfiles);
        return false;
    }
    for (uint32_t i = 0; i < log->nfiles; i++) {
        const ReplayFile *a = &log->files[i], *b = &now->files[i];
        if (a->kind != b->kind || a->index != b->index || a->size != b->size ||
            a->crc != b->crc) {
            snprintf(err, errlen, "%s %u is not the file recorded (size %" PRIu64 " CRC %08x, "
                     "recorded %" PRIu64 " %08x%s)", file_kind_name[b->kind], b->index, b->size,
                     b->crc, a->size, a->crc,
                     b->kind == RR_FILE_DRIVE ? "; record with -snapshot so the disk stays as "
                                                "it was" : "");
            return false;
        }
    }
    return true;
}

/* ---- opening and finishing ---- */

static uint8_t *read_whole(const char *path, size_t *len, char *err, size_t errlen)
{
    FILE *f = fopen(path, "rb");
    if (!f) {
        snprintf(err, errlen, "%s", strerror(errno));
        return NULL;
    }
    size_t cap = 1 << 16, n = 0;
    uint8_t *buf = xmalloc(cap);
    size_t got;
    while ((got = fread(buf + n, 1, cap - n, f)) > 0) {
        n += got;
        if (n == cap) {
            if (cap >= ((size_t)1 << 32)) {
                snprintf(err, errlen, "log larger than 4 GiB");
                free(buf);
                fclose(f);
                return NULL;
            }
            cap *= 2;
            buf = xrealloc(buf, cap);
        }
    }
    fclose(f);
    *len = n;
    return buf;
}

Replay *replay_new(Machine *m, const VMOptions *o, char *err, size_t errlen)
{
    Replay *r = xcalloc(1, sizeof *r);
    r->mode = o->rr;
    r->m = m;
    r->path = xstrdup(o->rr_file);
    ReplayHeader *h = &r->h;
    h->shift = (uint32_t)clock_icount_shift(m->clock);
    h->rtc_base = o->rtc_base;
    h->cmdline_hash = o->cmdline_hash;
    snprintf(h->version, sizeof h->version, "%s", VX86_VERSION);
    char why[512];
    if (!collect_files(h, o, why, sizeof why)) {
        snprintf(err, errlen, "%s", why);
        goto fail;
    }
    if (r->mode == RR_RECORD) {
        r->f = fopen(r->path, "wb");
        if (!r->f) {
            snprintf(err, errlen, "%s: %s", r->path, strerror(errno));
            goto fail;
        }
        r->crc = (uint32_t)crc32(0, NULL, 0);
        /* The header goes out once the RTC's start is known (replay_rtc_base). */
        return r;
    }
    size_t len = 0;
    r->data = read_whole(r->path, &len, why, sizeof why);
    if (!r->data) {
        snprintf(err, errlen, "%s: %s", r->path, why);
        goto fail;
    }
    if (!replay_log_parse(r->data, len, &r->log, why, sizeof why)) {
        snprintf(err, errlen, "%s: %s", r->path, why);
        goto fail;
    }
    ReplayHeader now = *h;
    now.rtc_base = r->log.h.rtc_base;
    if (!header_matches(&r->log.h, &now, why, sizeof why)) {
        snprintf(err, errlen, "%s: %s", r->path, why);
        goto fail;
    }
    m->icount_stop_at = r->log.ev[0].count;
    return r;

fail:
    if (r->f)
        fclose(r->f);
    replay_log_free(&r->log);
    free(r->data);
    free(r->path);
    free(r);
    return NULL;
}

int64_t replay_rtc_base(Replay *r, int64_t host_base)
{
    if (r->mode == RR_REPLAY)
        return r->log.h.rtc_base;
    r->h.rtc_base = host_base;
    if (r->bytes == 0)
        write_header(r);
    return host_base;
}

void replay_finish(Replay *r)
{
    if (!r)
        return;
    uint64_t count = rr_now(r);
    if (r->mode == RR_RECORD) {
        if (r->bytes == 0)
            write_header(r);
        ReplayEvent end = { .kind = RR_EV_END };
        write_event(r, count, &end, NULL);
        uint8_t tr[12];
        memcpy(tr, RR_END_MAGIC, 8);
        uint32_t n = (uint32_t)r->nevents;
        memcpy(tr + 8, (uint8_t[4]){ (uint8_t)n, (uint8_t)(n >> 8), (uint8_t)(n >> 16),
                                     (uint8_t)(n >> 24) }, 4);
        out(r, tr, sizeof tr);
        uint32_t crc = r->crc;
        out_u32(r, crc);
        if (fclose(r->f) != 0 && !r->write_failed)
            fprintf(stderr, "vx86: -icount rrfile=%s: %s\n", r->path, strerror(errno));
        int64_t ns = clock_now(r->m->clock);
        if (count)             /* not when the machine never ran (an error before) */
            fprintf(stderr, "vx86: rr: recorded %" PRIu64 " instructions, %" PRIu64
                            " events, %" PRIu64 " bytes (%.0f bytes per second of guest time)\n",
                    count, r->nevents, r->bytes,
                    ns > 0 ? (double)r->bytes * 1e9 / (double)ns : 0.0);
    } else if (count) {
        fprintf(stderr, "vx86: rr: replayed %" PRIu64 " instructions, %zu of %zu events\n",
                count, r->pos, r->log.nev);
    }
    for (size_t i = 0; i < r->npend; i++)
        free(r->pend[i].data);
    free(r->pend);
    rr_reverse_free(r);
    replay_log_free(&r->log);
    free(r->data);
    free(r->path);
    free(r);
}

/* ---- divergence ---- */

static void diverge(Replay *r, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void diverge(Replay *r, const char *fmt, ...)
{
    if (r->diverged)
        return;
    r->diverged = true;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(r->diverge_why, sizeof r->diverge_why, fmt, ap);
    va_end(ap);
    machine_request_stop(r->m);
}

static void stop_diverged(Replay *r)
{
    fprintf(stderr, "vx86: replay diverged at icount %" PRIu64 ": %s\n", rr_now(r),
            r->diverge_why);
    r->m->state = RUN_ERROR;
    r->m->exit_code = EXIT_EMULATION_ERROR;
}

/* ---- sources ---- */

static int source_index(void *const *tab, int n, const void *p)
{
    for (int i = 0; i < n; i++)
        if (tab[i] == p)
            return i;
    return -1;
}

static void add_pending(Replay *r, const ReplayEvent *e, const uint8_t *data)
{
    if (r->npend == r->cappend) {
        r->cappend = r->cappend ? r->cappend * 2 : 16;
        r->pend = xrealloc(r->pend, r->cappend * sizeof *r->pend);
    }
    Pending *p = &r->pend[r->npend++];
    p->e = *e;
    p->data = NULL;
    if (e->len) {
        p->data = xmalloc(e->len);
        memcpy(p->data, data, e->len);
    }
    p->e.data = p->data;
    /* Out of a halted wait or a running chain: the event point comes soon. */
    machine_request_stop(r->m);
}

static void chardev_input(void *opaque, CharDev *c, const uint8_t *buf, size_t len)
{
    Replay *r = opaque;
    int id = source_index((void *const *)r->chr, r->nchr, c);
    if (r->mode != RR_RECORD || id < 0)
        return;                   /* replay: the log's bytes come instead */
    while (len) {
        size_t n = len > RR_MAX_DATA ? RR_MAX_DATA : len;
        ReplayEvent e = { .kind = RR_EV_CHAR, .id = (uint32_t)id, .len = (uint32_t)n };
        add_pending(r, &e, buf);
        buf += n;
        len -= n;
    }
}

void replay_attach_chardev(Replay *r, CharDev *c)
{
    if (!c || r->nchr == RR_MAX_SOURCES)
        return;
    r->chr[r->nchr++] = c;
    chardev_set_input_hook(c, chardev_input, r);
    replay_attach_output(r, c);
}

void replay_attach_output(Replay *r, CharDev *c)
{
    if (c && r->nout < RR_MAX_SOURCES)
        r->out[r->nout++] = c;
}

static void netdev_send(void *opaque, NetClient *nc, const uint8_t *buf, size_t len)
{
    Replay *r = opaque;
    int id = source_index((void *const *)r->net, r->nnet, nc);
    if (r->mode != RR_RECORD || id < 0 || len == 0 || len > RR_MAX_DATA)
        return;
    ReplayEvent e = { .kind = RR_EV_NET, .id = (uint32_t)id, .len = (uint32_t)len };
    add_pending(r, &e, buf);
}

void replay_attach_netdev(Replay *r, NetClient *backend)
{
    if (!backend || r->nnet == RR_MAX_SOURCES)
        return;
    r->net[r->nnet++] = backend;
    backend->send_hook = netdev_send;
    backend->send_hook_opaque = r;
}

void replay_set_input(Replay *r, const ReplayInputOps *ops, void *opaque)
{
    r->input = *ops;
    r->input_opaque = opaque;
}

static void host_event(Replay *r, const ReplayEvent *e)
{
    if (r->mode == RR_RECORD)
        add_pending(r, e, NULL);
}

void replay_key(Replay *r, int keycode, bool down)
{
    if (keycode < 0 || keycode > 0xffff)
        return;
    host_event(r, &(ReplayEvent){ .kind = RR_EV_KEY, .id = (uint32_t)keycode, .a = down });
}

static int clamp16(int v)
{
    return v > 65535 ? 65535 : v < -65535 ? -65535 : v;
}

void replay_mouse(Replay *r, int dx, int dy, int dz, unsigned buttons)
{
    host_event(r, &(ReplayEvent){ .kind = RR_EV_MOUSE, .a = clamp16(dx), .b = clamp16(dy),
                                  .c = clamp16(dz), .id = buttons & 31 });
}

void replay_power(Replay *r)
{
    host_event(r, &(ReplayEvent){ .kind = RR_EV_POWER });
}

bool replay_host_reset(Replay *r)
{
    host_event(r, &(ReplayEvent){ .kind = RR_EV_RESET });
    return true;
}

size_t replay_random(Replay *r, uint8_t *buf, size_t len, size_t (*fill)(uint8_t *, size_t))
{
    if (len > RR_MAX_DATA)
        len = RR_MAX_DATA;
    if (r->mode == RR_RECORD) {
        size_t n = fill(buf, len);
        if (n) {
            ReplayEvent e = { .kind = RR_EV_RANDOM, .len = (uint32_t)n };
            write_event(r, rr_now(r), &e, buf);
        }
        return n;
    }
    const ReplayEvent *e = r->pos < r->log.nev ? &r->log.ev[r->pos] : NULL;
    if (!e || e->kind != RR_EV_RANDOM || e->count != rr_now(r) || e->len > len) {
        diverge(r, "a device asked for %zu random bytes the log does not have", len);
        memset(buf, 0, len);
        return len;
    }
    memcpy(buf, e->data, e->len);
    r->pos++;
    return e->len;
}

/* ---- event points ---- */

/* Delivers one event (both modes).  false: the machine did not take it
 * as the recording did. */
static bool apply(Replay *r, const ReplayEvent *e)
{
    switch (e->kind) {
    case RR_EV_CHAR:
        if (e->id >= (uint32_t)r->nchr)
            return false;
        return chardev_push_input(r->chr[e->id], e->data, e->len) == e->len;
    case RR_EV_NET:
        if (e->id >= (uint32_t)r->nnet)
            return false;
        net_deliver(r->net[e->id], e->data, e->len);
        return true;
    case RR_EV_WARP:
        clock_warp_to(r->m->clock, clock_now(r->m->clock) + e->a);
        return true;
    case RR_EV_KEY:
        if (r->input.key)
            r->input.key(r->input_opaque, (int)e->id, e->a != 0);
        return true;
    case RR_EV_MOUSE:
        if (r->input.mouse)
            r->input.mouse(r->input_opaque, (int)e->a, (int)e->b, (int)e->c, e->id);
        return true;
    case RR_EV_POWER:
        if (r->input.power)
            r->input.power(r->input_opaque);
        return true;
    case RR_EV_RESET:
        machine_host_reset_now(r->m);
        return true;
    case RR_EV_SHIFT:
        clock_set_icount_shift(r->m->clock, (int)e->a);
        return true;
    default:
        return true;
    }
}

static uint32_t fingerprint(Replay *r, uint64_t *rip)
{
    *rip = 0;
    Machine *m = r->m;
    return m->cpu_fingerprint ? (uint32_t)m->cpu_fingerprint(m->icount_cpu, rip) : 0;
}

static void record_point(Replay *r)
{
    uint64_t now = rr_now(r);
    /* Delivered in the order they came; a chardev's bytes are logged as
     * far as its queue took them. */
    for (size_t i = 0; i < r->npend; i++) {
        Pending *p = &r->pend[i];
        if (p->e.kind == RR_EV_CHAR) {
            p->e.len = (uint32_t)chardev_push_input(r->chr[p->e.id], p->data, p->e.len);
            if (p->e.len)
                write_event(r, now, &p->e, p->data);
        } else {
            apply(r, &p->e);
            write_event(r, now, &p->e, p->data);
        }
        free(p->data);
    }
    r->npend = 0;
    if (now - r->last_checkpoint >= RR_CHECKPOINT_INSNS) {
        r->last_checkpoint = now;
        uint64_t rip;
        ReplayEvent e = { .kind = RR_EV_CHECKPOINT };
        e.id = fingerprint(r, &rip);
        e.a = (int64_t)rip;
        write_event(r, now, &e, NULL);
    }
    if (r->f)
        fflush(r->f);
}

void rr_replay_point(Replay *r, bool halted)
{
    uint64_t now = rr_now(r);
    bool did = false;
    while (!r->diverged && r->pos < r->log.nev) {
        const ReplayEvent *e = &r->log.ev[r->pos];
        if (e->count > now)
            break;
        if (e->count < now) {
            diverge(r, "the log's %s event at icount %" PRIu64 " was passed",
                    e->kind == RR_EV_RANDOM ? "entropy" : "input", e->count);
            break;
        }
        if (e->kind == RR_EV_RANDOM)
            break;                /* a device takes it, inside an instruction */
        if (e->kind == RR_EV_END) {
            /* The guest powered off here when recording: the replay's
             * does too.  Otherwise the host ended the recording. */
            r->ended = true;
            r->pos++;
            if (r->m->state == RUN_RUNNING) {
                fprintf(stderr, "vx86: replay: the recording ends here\n");
                machine_request_shutdown(r->m, 0);
            }
            break;
        }
        if (e->kind == RR_EV_CHECKPOINT) {
            uint64_t rip;
            uint32_t fp = fingerprint(r, &rip);
            if (rip != (uint64_t)e->a || fp != e->id)
                diverge(r, "checkpoint: rip %" PRIx64 " registers %08x, recorded rip %" PRIx64
                        " registers %08x", rip, fp, (uint64_t)e->a, e->id);
        } else if (!apply(r, e)) {
            diverge(r, "the machine did not take a recorded input (kind %d)", e->kind);
        }
        r->pos++;
        did = true;
    }
    /* The recording's halted CPU either got input or skipped time, both
     * logged: a replay idle twice at one count with nothing to do is lost. */
    if (halted && !did && !r->diverged && !r->ended) {
        if (r->idle_count == now && ++r->idle_rounds >= 2) {
            const ReplayEvent *e = r->pos < r->log.nev ? &r->log.ev[r->pos] : NULL;
            diverge(r, "the guest is idle but the log's next event is at icount %" PRIu64,
                    e ? e->count : 0);
        } else if (r->idle_count != now) {
            r->idle_count = now;
            r->idle_rounds = 1;
        }
    }
    rr_replay_arm(r);
}

void rr_replay_arm(Replay *r)
{
    /* Output the user saw already (before a reverse step) is not shown
     * again: muted up to the furthest count replayed. */
    uint64_t now = rr_now(r);
    if (now > r->high_water)
        r->high_water = now;
    bool mute = now < r->high_water;
    for (int i = 0; i < r->nout; i++)
        chardev_set_muted(r->out[i], mute);
    uint64_t next = r->pos < r->log.nev ? r->log.ev[r->pos].count : UINT64_MAX;
    r->m->icount_stop_at = mute && r->high_water < next ? r->high_water : next;
}

void replay_event_point(Replay *r, bool halted)
{
    if (r->mode == RR_RECORD) {
        record_point(r);
    } else {
        rr_replay_point(r, halted);
        if (r->rev && !r->diverged)
            rr_reverse_point(r);     /* (runs the timers due first) */
    }
    if (r->diverged)
        stop_diverged(r);
}

void replay_shift(Replay *r, int shift)
{
    if (r->mode != RR_RECORD)
        return;
    ReplayEvent e = { .kind = RR_EV_SHIFT, .a = shift };
    write_event(r, rr_now(r), &e, NULL);
}

void replay_warp(Replay *r, int64_t ns)
{
    if (r->mode != RR_RECORD || ns <= 0)
        return;
    ReplayEvent e = { .kind = RR_EV_WARP, .a = ns };
    write_event(r, rr_now(r), &e, NULL);
}
