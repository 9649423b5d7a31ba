/*
 * The command line: argv -> VMOptions.
 *
 * Option names and value syntax follow qemu-system-x86_64 for the options
 * both share, so a QEMU user's command line mostly works unchanged:
 *
 *   -m 2G   -m size=2G   -smp cpus=1   -drive file=a.img,format=raw,if=ide
 *   -boot order=dc   -accel kvm -accel tcg   -serial file:out.txt   -d int
 *
 * Both -opt and --opt spellings are accepted.  A bare argument that is not
 * an option is the first hard disk (-hda), as in QEMU.
 *
 * Option values with several parameters ("key=value,key=value") are split by
 * kv_parse(); a doubled comma ",," stands for a literal comma inside a value
 * (QEMU's escaping, so file=a,,b.img names the file "a,b.img").  The first
 * parameter may omit its key where QEMU allows that (-m 2G = -m size=2G).
 *
 * This module never prints and never exits: every problem becomes one line
 * "OPTION: problem" in the caller's buffer, and main() decides what to do.
 * That keeps it unit-testable (tests/unit/test_options.c).  Files named on
 * the command line are opened here to check they exist and are readable, so
 * the user hears about a typo before any machine is built.
 */
#include "core/options.h"
#include "block/block.h"
#include "net/net.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/log.h"
#include "core/util.h"

#define MIB (1ULL << 20)
#define RAM_DEFAULT (128 * MIB)       /* QEMU's default too */
#define RAM_ALIGN 4096ULL             /* -m is rounded up to whole pages */
#define IDE_SLOTS 4
#define FLOPPY_SLOTS 2
#define VIRTIO_SLOTS 32
#define SCSI_SLOTS 7          /* QEMU's units per if=scsi bus */
#define KV_MAX 16

/* Parse state passed to every option handler. */
typedef struct Ctx {
    VMOptions *o;
    const char *opt;      /* canonical name of the option being parsed */
    char *err;
    size_t errlen;
    bool stop;            /* --help, --version, -d help: stop parsing */
} Ctx;

static int fail(Ctx *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static int fail_line(Ctx *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Replaces line breaks so the message stays one line, whatever a file
 * name contained. */
static void one_line(char *s)
{
    for (; *s; s++)
        if (*s == '\n' || *s == '\r')
            *s = ' ';
}

/* Formats a whole error line (for problems that involve two options). */
static int fail_line(Ctx *c, const char *fmt, ...)
{
    if (!c->err || !c->errlen)
        return -1;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(c->err, c->errlen, fmt, ap);
    va_end(ap);
    one_line(c->err);
    return -1;
}

/* Formats "OPTION: problem" into the caller's error buffer. */
static int fail(Ctx *c, const char *fmt, ...)
{
    if (!c->err || !c->errlen)
        return -1;
    int n = snprintf(c->err, c->errlen, "%s: ", c->opt);
    if (n < 0 || (size_t)n >= c->errlen)
        return -1;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(c->err + n, c->errlen - n, fmt, ap);
    va_end(ap);
    one_line(c->err);
    return -1;
}

/* ---- sizes and numbers ---- */

typedef enum SizeStatus { SIZE_OK, SIZE_MALFORMED, SIZE_ZERO, SIZE_TOO_LARGE } SizeStatus;

static uint64_t size_suffix_unit(char ch, uint64_t default_unit, bool *ok)
{
    *ok = true;
    switch (ch) {
    case '\0': return default_unit;
    case 'b': case 'B': return 1;
    case 'k': case 'K': return 1ULL << 10;
    case 'm': case 'M': return 1ULL << 20;
    case 'g': case 'G': return 1ULL << 30;
    case 't': case 'T': return 1ULL << 40;
    case 'p': case 'P': return 1ULL << 50;
    case 'e': case 'E': return 1ULL << 60;
    }
    *ok = false;
    return 0;
}

/* Digits, an optional fraction, an optional one-letter binary unit (K, M,
 * G, T, P, E, or B for bytes).  No sign, no spaces, no hex.  A fraction
 * is kept to whole bytes (1.5K = 1536). */
static SizeStatus size_parse(const char *s, uint64_t default_unit, uint64_t *out)
{
    const char *p = s;
    unsigned __int128 whole = 0, frac = 0, frac_div = 1;
    bool too_large = false;
    if (*p < '0' || *p > '9')
        return SIZE_MALFORMED;
    for (; *p >= '0' && *p <= '9'; p++) {
        whole = whole * 10 + (unsigned)(*p - '0');
        if (whole > UINT64_MAX)
            too_large = true, whole = (unsigned __int128)UINT64_MAX + 1;
    }
    if (*p == '.') {
        p++;
        if (*p < '0' || *p > '9')
            return SIZE_MALFORMED;
        for (; *p >= '0' && *p <= '9'; p++) {
            if (frac_div < 1000000000000000000ULL) {   /* finer digits cannot matter */
                frac = frac * 10 + (unsigned)(*p - '0');
                frac_div *= 10;
            }
        }
    }
    bool ok;
    uint64_t unit = size_suffix_unit(*p, default_unit, &ok);
    if (!ok || (*p && p[1]))
        return SIZE_MALFORMED;
    if (frac && unit == 1)
        return SIZE_MALFORMED;                        /* fractions of a byte */
    if (too_large)
        return SIZE_TOO_LARGE;
    unsigned __int128 bytes = whole * unit + frac * unit / frac_div;
    if (bytes > UINT64_MAX)
        return SIZE_TOO_LARGE;
    if (bytes == 0)
        return SIZE_ZERO;
    *out = (uint64_t)bytes;
    return SIZE_OK;
}

bool options_parse_size(const char *s, uint64_t default_unit, uint64_t *out)
{
    return s && size_parse(s, default_unit, out) == SIZE_OK;
}

/* Strict unsigned decimal in [min, max]. */
static bool parse_uint(const char *s, uint64_t min, uint64_t max, uint64_t *out)
{
    uint64_t v = 0;
    if (!*s)
        return false;
    for (const char *p = s; *p; p++) {
        if (*p < '0' || *p > '9')
            return false;
        if (v > (UINT64_MAX - 9) / 10)
            return false;
        v = v * 10 + (uint64_t)(*p - '0');
    }
    if (v < min || v > max)
        return false;
    *out = v;
    return true;
}

static bool parse_bool(const char *s, bool *out)
{
    /* A bare key ("readonly") means on, as in QEMU. */
    if (!s || !strcmp(s, "on") || !strcmp(s, "yes") || !strcmp(s, "true")) {
        *out = true;
        return true;
    }
    if (!strcmp(s, "off") || !strcmp(s, "no") || !strcmp(s, "false")) {
        *out = false;
        return true;
    }
    return false;
}

/* ---- key=value lists ---- */

typedef struct KV {
    char *key;
    char *val;            /* NULL for a bare key */
} KV;

typedef struct KVList {
    KV items[KV_MAX];
    int n;
    char *buf;            /* one copy of the text, split in place */
} KVList;

static void kv_free(KVList *l)
{
    free(l->buf);
    l->buf = NULL;
    l->n = 0;
}

/* Splits "a=1,b=x,,y,c" into (a,1) (b,"x,y") (c,NULL).  When implied is
 * set, a first item without '=' is the value of that key. */
static int kv_parse(Ctx *c, const char *s, const char *implied, KVList *l)
{
    l->n = 0;
    l->buf = xstrdup(s);
    char *r = l->buf, *w = l->buf;
    for (;;) {
        char *item = w;
        /* Copy one item, turning ",," into ',' and stopping at a lone ','. */
        while (*r && !(*r == ',' && r[1] != ',')) {
            if (*r == ',')
                r++;
            *w++ = *r++;
        }
        bool more = *r == ',';
        if (more)
            r++;
        *w++ = '\0';
        if (!*item) {
            kv_free(l);
            return fail(c, "empty parameter in '%s'", s);
        }
        if (l->n == KV_MAX) {
            kv_free(l);
            return fail(c, "too many parameters in '%s'", s);
        }
        KV *kv = &l->items[l->n];
        char *eq = strchr(item, '=');
        if (eq) {
            *eq = '\0';
            kv->key = item;
            kv->val = eq + 1;
            if (!*kv->key) {
                kv_free(l);
                return fail(c, "empty parameter name in '%s'", s);
            }
        } else if (l->n == 0 && implied) {
            kv->key = (char *)implied;
            kv->val = item;
        } else {
            kv->key = item;
            kv->val = NULL;
        }
        l->n++;
        if (!more)
            return 0;
    }
}

static int kv_unknown(Ctx *c, const KV *kv)
{
    return fail(c, "unknown parameter '%s'", kv->key);
}

static int kv_need_value(Ctx *c, const KV *kv)
{
    return fail(c, "parameter '%s' needs a value (%s=...)", kv->key, kv->key);
}

/* ---- files ---- */

/* The file must exist, be readable and not be a directory.  O_NONBLOCK so
 * a FIFO does not hang the parser. */
static int check_readable(Ctx *c, const char *path)
{
    if (!*path)
        return fail(c, "empty file name");
    int fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
    if (fd < 0)
        return fail(c, "%s: %s", path, strerror(errno));
    struct stat st;
    int rc = fstat(fd, &st);
    int e = errno;
    close(fd);
    if (rc < 0)
        return fail(c, "%s: %s", path, strerror(e));
    if (S_ISDIR(st.st_mode))
        return fail(c, "%s: %s", path, strerror(EISDIR));
    return 0;
}

static void set_string(char **field, const char *value)
{
    free(*field);
    *field = xstrdup(value);
}

static int set_file(Ctx *c, char **field, const char *path)
{
    if (check_readable(c, path) < 0)
        return -1;
    set_string(field, path);
    return 0;
}

/* ---- drives ---- */

static const char *drive_if_name(DriveIf i)
{
    switch (i) {
    case DRIVE_IF_IDE: return "IDE";
    case DRIVE_IF_VIRTIO: return "virtio";
    case DRIVE_IF_FLOPPY: return "floppy";
    case DRIVE_IF_SCSI: return "SCSI";
    default: return "none";
    }
}

/* if= spelling. */
static const char *drive_if_key(DriveIf i)
{
    return i == DRIVE_IF_IDE ? "ide" : i == DRIVE_IF_SCSI ? "scsi" : drive_if_name(i);
}

static int drive_slots(DriveIf i)
{
    return i == DRIVE_IF_IDE ? IDE_SLOTS : i == DRIVE_IF_FLOPPY ? FLOPPY_SLOTS
         : i == DRIVE_IF_SCSI ? SCSI_SLOTS : VIRTIO_SLOTS;
}

static void drive_describe(const DriveOpt *d, char *buf, size_t len)
{
    if (d->index_given && !strcmp(d->opt, "-drive"))
        snprintf(buf, len, "-drive index=%d", d->index);
    else
        snprintf(buf, len, "%s", d->opt);
}

/* Resolves d->index (next free slot when not given) against the drives
 * already added on the same interface; refuses double use of a slot. */
static int drive_place(Ctx *c, DriveOpt *d)
{
    VMOptions *o = c->o;
    if (d->iface == DRIVE_IF_NONE)
        return 0;
    int slots = drive_slots(d->iface);
    bool used[VIRTIO_SLOTS] = { false };
    const DriveOpt *owner[VIRTIO_SLOTS] = { NULL };
    for (int i = 0; i < o->ndrives; i++) {
        const DriveOpt *e = &o->drives[i];
        if (e->iface == d->iface && e->index >= 0 && e->index < slots) {
            used[e->index] = true;
            owner[e->index] = e;
        }
    }
    if (d->index < 0) {
        for (int i = 0; i < slots && d->index < 0; i++)
            if (!used[i])
                d->index = i;
        if (d->index < 0)
            return fail(c, "more than %d %s devices", slots, drive_if_name(d->iface));
        return 0;
    }
    if (d->index >= slots)
        return fail(c, "index %d is out of range for if=%s (0..%d)", d->index,
                    drive_if_key(d->iface), slots - 1);
    if (used[d->index]) {
        char a[32], b[32];
        drive_describe(owner[d->index], a, sizeof(a));
        drive_describe(d, b, sizeof(b));
        return fail_line(c, "%s and %s both use %s slot %d", a, b,
                         drive_if_name(d->iface), d->index);
    }
    return 0;
}

static int drive_add(Ctx *c, DriveOpt *d)
{
    VMOptions *o = c->o;
    if (o->ndrives == MAX_DRIVES)
        return fail(c, "too many drives (at most %d)", MAX_DRIVES);
    if (d->media == DRIVE_MEDIA_CDROM)
        d->readonly = true;               /* CD media cannot be written */
    if (d->file && check_readable(c, d->file) < 0)
        return -1;
    if (drive_place(c, d) < 0)
        return -1;
    DriveOpt *slot = &o->drives[o->ndrives++];
    *slot = *d;
    slot->file = d->file ? xstrdup(d->file) : NULL;
    slot->format = d->format ? xstrdup(d->format) : NULL;
    return 0;
}

static int drive_param(Ctx *c, DriveOpt *d, const KV *kv)
{
    const char *k = kv->key, *v = kv->val;
    if (!strcmp(k, "readonly") || !strcmp(k, "snapshot")) {
        bool b;
        if (!parse_bool(v, &b))
            return fail(c, "%s=%s: expected on or off", k, v);
        *(!strcmp(k, "readonly") ? &d->readonly : &d->snapshot) = b;
        return 0;
    }
    if (!v)
        return kv_need_value(c, kv);
    if (!strcmp(k, "file")) {
        d->file = (char *)v;              /* points into the KVList; copied on add */
    } else if (!strcmp(k, "format")) {
        if (!blk_format_known(v)) {
            char names[128];
            blk_format_list(names, sizeof names);
            return fail(c, "format '%s' not supported (%s)", v, names);
        }
        d->format = (char *)v;
    } else if (!strcmp(k, "if")) {
        if (!strcmp(v, "ide"))
            d->iface = DRIVE_IF_IDE;
        else if (!strcmp(v, "virtio"))
            d->iface = DRIVE_IF_VIRTIO;
        else if (!strcmp(v, "floppy"))
            d->iface = DRIVE_IF_FLOPPY;
        else if (!strcmp(v, "scsi"))
            d->iface = DRIVE_IF_SCSI;
        else if (!strcmp(v, "none"))
            d->iface = DRIVE_IF_NONE;
        else
            return fail(c, "interface if=%s not supported (ide, floppy, virtio, scsi, none)", v);
    } else if (!strcmp(k, "media")) {
        if (!strcmp(v, "disk"))
            d->media = DRIVE_MEDIA_DISK;
        else if (!strcmp(v, "cdrom"))
            d->media = DRIVE_MEDIA_CDROM;
        else
            return fail(c, "media=%s not supported (disk, cdrom)", v);
    } else if (!strcmp(k, "cache")) {
        static const char *const names[] = {
            [DRIVE_CACHE_WRITEBACK] = "writeback", [DRIVE_CACHE_NONE] = "none",
            [DRIVE_CACHE_UNSAFE] = "unsafe", [DRIVE_CACHE_DIRECTSYNC] = "directsync",
            [DRIVE_CACHE_WRITETHROUGH] = "writethrough",
        };
        size_t i = 0;
        while (i < ARRAY_SIZE(names) && strcmp(v, names[i]))
            i++;
        if (i == ARRAY_SIZE(names))
            return fail(c, "cache=%s not supported (writeback, none, writethrough, directsync, unsafe)", v);
        d->cache = (DriveCache)i;
    } else if (!strcmp(k, "aio")) {
        if (!strcmp(v, "threads"))
            d->aio = DRIVE_AIO_THREADS;
        else if (!strcmp(v, "native"))
            d->aio = DRIVE_AIO_NATIVE;
        else if (!strcmp(v, "io_uring"))
            d->aio = DRIVE_AIO_IO_URING;
        else
            return fail(c, "aio=%s not supported (threads, native, io_uring)", v);
    } else if (!strcmp(k, "id")) {
        if (!*v || strlen(v) >= sizeof d->id)
            return fail(c, "id=%s: expected 1..%zu characters", v, sizeof d->id - 1);
        snprintf(d->id, sizeof d->id, "%s", v);
    } else if (!strcmp(k, "index")) {
        uint64_t n;
        if (!parse_uint(v, 0, 1000, &n))
            return fail(c, "invalid index '%s'", v);
        d->index = (int)n;
        d->index_given = true;
    } else {
        return kv_unknown(c, kv);
    }
    return 0;
}

static int opt_drive(Ctx *c, const char *arg)
{
    KVList l;
    if (kv_parse(c, arg, NULL, &l) < 0)
        return -1;
    DriveOpt d = { .iface = DRIVE_IF_IDE, .media = DRIVE_MEDIA_DISK, .index = -1,
                   .opt = "-drive" };
    int rc = 0;
    for (int i = 0; i < l.n && rc == 0; i++) {
        if (l.items[i].val == NULL && strcmp(l.items[i].key, "readonly") &&
            strcmp(l.items[i].key, "snapshot"))
            rc = fail(c, "expected key=value, got '%s'", l.items[i].key);
        else
            rc = drive_param(c, &d, &l.items[i]);
    }
    if (rc == 0 && d.iface == DRIVE_IF_NONE && d.index_given)
        rc = fail(c, "index= has no meaning with if=none");
    if (rc == 0 && d.iface == DRIVE_IF_FLOPPY && d.media == DRIVE_MEDIA_CDROM)
        rc = fail(c, "media=cdrom is not possible with if=floppy");
    /* QEMU's rule: native AIO is O_DIRECT only. */
    if (rc == 0 && d.aio == DRIVE_AIO_NATIVE && d.cache != DRIVE_CACHE_NONE &&
        d.cache != DRIVE_CACHE_DIRECTSYNC)
        rc = fail(c, "aio=native needs cache=none or cache=directsync");
    if (rc == 0 && !d.file && d.media == DRIVE_MEDIA_DISK)
        rc = fail(c, "file= is required (only an empty media=cdrom drive may omit it)");
    if (rc == 0)
        rc = drive_add(c, &d);
    kv_free(&l);
    return rc;
}

/* -hda..-hdd and -cdrom: the file name is taken whole (no comma parsing). */
static int opt_disk_slot(Ctx *c, const char *arg, const char *opt, int index,
                         DriveMedia media)
{
    DriveOpt d = { .file = (char *)arg, .iface = DRIVE_IF_IDE, .media = media,
                   .index = index, .index_given = true, .opt = opt };
    return drive_add(c, &d);
}

static int opt_hda(Ctx *c, const char *a) { return opt_disk_slot(c, a, "-hda", 0, DRIVE_MEDIA_DISK); }
static int opt_hdb(Ctx *c, const char *a) { return opt_disk_slot(c, a, "-hdb", 1, DRIVE_MEDIA_DISK); }
static int opt_hdc(Ctx *c, const char *a) { return opt_disk_slot(c, a, "-hdc", 2, DRIVE_MEDIA_DISK); }
static int opt_hdd(Ctx *c, const char *a) { return opt_disk_slot(c, a, "-hdd", 3, DRIVE_MEDIA_DISK); }
/* QEMU puts -cdrom on the secondary master. */
static int opt_cdrom(Ctx *c, const char *a) { return opt_disk_slot(c, a, "-cdrom", 2, DRIVE_MEDIA_CDROM); }

static int opt_floppy_slot(Ctx *c, const char *arg, const char *opt, int index)
{
    DriveOpt d = { .file = (char *)arg, .iface = DRIVE_IF_FLOPPY, .media = DRIVE_MEDIA_DISK,
                   .index = index, .index_given = true, .opt = opt };
    return drive_add(c, &d);
}

static int opt_fda(Ctx *c, const char *a) { return opt_floppy_slot(c, a, "-fda", 0); }
static int opt_fdb(Ctx *c, const char *a) { return opt_floppy_slot(c, a, "-fdb", 1); }

/* ---- Multiboot module lists ---- */

/* Item n of a ",,"-escaped comma list, unescaped (malloc'ed), or NULL. */
static char *list_item(const char *s, int n)
{
    int i = 0;
    const char *p = s;
    while (i < n) {
        if (!*p)
            return NULL;
        if (*p == ',' && p[1] == ',')
            p += 2;
        else if (*p++ == ',')
            i++;
    }
    char *out = xmalloc(strlen(p) + 1), *w = out;
    while (*p && !(*p == ',' && p[1] != ',')) {
        if (*p == ',')
            p++;
        *w++ = *p++;
    }
    *w = '\0';
    return out;
}

int options_initrd_count(const char *initrd)
{
    int n = 1;
    for (const char *p = initrd; *p; p++) {
        if (*p == ',' && p[1] == ',')
            p++;
        else if (*p == ',')
            n++;
    }
    return n;
}

bool options_initrd_item(const char *initrd, int n, char **path, char **cmdline)
{
    char *item = list_item(initrd, n);
    if (!item || !*item || *item == ' ') {
        free(item);
        return false;
    }
    size_t plen = strcspn(item, " ");
    *path = xmalloc(plen + 1);
    memcpy(*path, item, plen);
    (*path)[plen] = '\0';
    *cmdline = item;
    return true;
}

/* ---- machine shape ---- */

static int ram_size_set(Ctx *c, const char *v)
{
    uint64_t bytes = 0;
    switch (size_parse(v, MIB, &bytes)) {
    case SIZE_MALFORMED:
        return fail(c, "invalid size '%s'", v);
    case SIZE_ZERO:
        return fail(c, "size must be at least 1 MiB");
    case SIZE_TOO_LARGE:
        return fail(c, "size '%s' is too large (at most 64 TiB)", v);
    case SIZE_OK:
        break;
    }
    if (bytes < MIB)
        return fail(c, "size must be at least 1 MiB");
    if (bytes > OPTIONS_MAX_RAM)
        return fail(c, "size '%s' is too large (at most 64 TiB)", v);
    c->o->ram_size = (bytes + RAM_ALIGN - 1) & ~(RAM_ALIGN - 1);
    return 0;
}

static int opt_m(Ctx *c, const char *arg)
{
    KVList l;
    if (kv_parse(c, arg, "size", &l) < 0)
        return -1;
    int rc = 0;
    for (int i = 0; i < l.n && rc == 0; i++) {
        if (strcmp(l.items[i].key, "size"))
            rc = kv_unknown(c, &l.items[i]);
        else if (!l.items[i].val)
            rc = kv_need_value(c, &l.items[i]);
        else
            rc = ram_size_set(c, l.items[i].val);
    }
    kv_free(&l);
    return rc;
}

/* -smp [cpus=]N[,maxcpus=M][,sockets=S][,dies=D][,cores=C][,threads=T],
 * with QEMU's rules (machine-smp, since 6.2): every given value is at
 * least 1; omitted topology members are computed from maxcpus (itself cpus
 * when omitted), preferring cores over sockets, threads last, missing ones
 * 1; with neither cpus nor maxcpus, both are the product of the topology.
 * The product must equal maxcpus, and maxcpus must be >= cpus. */
static int smp_compute(Ctx *c, uint64_t v[6])
{
    enum { CPUS, MAXCPUS, SOCKETS, DIES, CORES, THREADS };
    uint64_t cpus = v[CPUS], max = v[MAXCPUS], sockets = v[SOCKETS], cores = v[CORES],
             threads = v[THREADS], dies = v[DIES] ? v[DIES] : 1;
    if (!cpus && !max) {
        sockets = sockets ? sockets : 1;
        cores = cores ? cores : 1;
        threads = threads ? threads : 1;
    } else {
        max = max ? max : cpus;
        if (!cores) {
            sockets = sockets ? sockets : 1;
            threads = threads ? threads : 1;
            cores = max / (sockets * dies * threads);
        } else if (!sockets) {
            threads = threads ? threads : 1;
            sockets = max / (dies * cores * threads);
        }
        if (!threads)
            threads = max / (sockets * dies * cores);
    }
    uint64_t product = sockets * dies * cores * threads;
    max = max ? max : product;
    cpus = cpus ? cpus : max;
    char topo[160];
    snprintf(topo, sizeof topo, "sockets (%llu) * dies (%llu) * cores (%llu) * threads (%llu)",
             (unsigned long long)sockets, (unsigned long long)dies, (unsigned long long)cores,
             (unsigned long long)threads);
    if (product != max)
        return fail(c, "Invalid CPU topology: product of the hierarchy must match maxcpus: "
                    "%s != maxcpus (%llu)", topo, (unsigned long long)max);
    if (max < cpus)
        return fail(c, "Invalid CPU topology: maxcpus must be equal to or greater than smp: "
                    "%s == maxcpus (%llu) < smp_cpus (%llu)", topo, (unsigned long long)max,
                    (unsigned long long)cpus);
    if (max > OPTIONS_MAX_SMP)
        return fail(c, "Invalid SMP CPUs %llu. The max CPUs supported by this machine is %d",
                    (unsigned long long)max, OPTIONS_MAX_SMP);
    c->o->smp = (int)cpus;
    c->o->smp_maxcpus = (int)max;
    c->o->smp_sockets = (int)sockets;
    c->o->smp_dies = (int)dies;
    c->o->smp_cores = (int)cores;
    c->o->smp_threads = (int)threads;
    return 0;
}

static int opt_smp(Ctx *c, const char *arg)
{
    static const char *const keys[6] = { "cpus", "maxcpus", "sockets", "dies", "cores",
                                         "threads" };
    KVList l;
    if (kv_parse(c, arg, "cpus", &l) < 0)
        return -1;
    uint64_t v[6] = { 0 };
    int rc = 0;
    for (int i = 0; i < l.n && rc == 0; i++) {
        const KV *kv = &l.items[i];
        int k = 0;
        while (k < 6 && strcmp(kv->key, keys[k]))
            k++;
        uint64_t n;
        if (k == 6)
            rc = kv_unknown(c, kv);
        else if (!kv->val)
            rc = kv_need_value(c, kv);
        else if (!parse_uint(kv->val, 0, UINT32_MAX, &n))
            rc = fail(c, "invalid number '%s'", kv->val);
        else if (n < 1)
            rc = fail(c, "Invalid CPU topology: CPU topology parameters must be greater "
                      "than zero (%s=%s)", kv->key, kv->val);
        else if (n > OPTIONS_MAX_SMP && k <= 1)
            rc = fail(c, "CPU count %s is out of range (1..%d)", kv->val, OPTIONS_MAX_SMP);
        else if (n > OPTIONS_MAX_SMP)
            rc = fail(c, "%s=%s is out of range (1..%d)", kv->key, kv->val, OPTIONS_MAX_SMP);
        else
            v[k] = n;
    }
    kv_free(&l);
    return rc < 0 ? rc : smp_compute(c, v);
}

/* Boot devices as the PC BIOS numbers them: a floppy, c first disk,
 * d CD-ROM, n network. */
static int boot_order_set(Ctx *c, const char *v, char *out, size_t outlen)
{
    size_t n = strlen(v);
    if (n == 0)
        return fail(c, "empty boot order");
    if (n >= outlen)
        return fail(c, "boot order '%s' is too long", v);
    for (size_t i = 0; i < n; i++) {
        if (!strchr("acdn", v[i]))
            return fail(c, "unknown boot device '%c' (a=floppy, c=disk, d=cdrom, n=network)", v[i]);
        if (memchr(v, v[i], i))
            return fail(c, "boot device '%c' given twice", v[i]);
    }
    memcpy(out, v, n + 1);
    return 0;
}

static int opt_boot(Ctx *c, const char *arg)
{
    KVList l;
    if (kv_parse(c, arg, "order", &l) < 0)
        return -1;
    int rc = 0;
    for (int i = 0; i < l.n && rc == 0; i++) {
        const KV *kv = &l.items[i];
        bool order = !strcmp(kv->key, "order");
        if (!strcmp(kv->key, "menu")) {
            if (!parse_bool(kv->val, &c->o->boot_menu))
                rc = fail(c, "menu=%s: expected on or off", kv->val ? kv->val : "");
        } else if (!order && strcmp(kv->key, "once"))
            rc = kv_unknown(c, kv);
        else if (!kv->val)
            rc = kv_need_value(c, kv);
        else if (order)
            rc = boot_order_set(c, kv->val, c->o->boot_order, sizeof(c->o->boot_order));
        else
            rc = boot_order_set(c, kv->val, c->o->boot_once, sizeof(c->o->boot_once));
    }
    kv_free(&l);
    return rc;
}

/* ---- accelerators ---- */

static int opt_accel(Ctx *c, const char *arg)
{
    VMOptions *o = c->o;
    if (!strcmp(arg, "help")) {
        o->want_accel_help = true;
        c->stop = true;
        return 0;
    }
    KVList l;
    if (kv_parse(c, arg, "accel", &l) < 0)
        return -1;
    AccelOpt a = { .name = "" };
    bool interp_given = false, force_given = false, thread_given = false;
    int rc = 0;
    for (int i = 0; i < l.n && rc == 0; i++) {
        const KV *kv = &l.items[i];
        if (!strcmp(kv->key, "accel")) {
            if (!kv->val)
                rc = kv_need_value(c, kv);
            else if (strcmp(kv->val, "kvm") && strcmp(kv->val, "tcg"))
                rc = fail(c, "unknown accelerator '%s'", kv->val);
            else
                snprintf(a.name, sizeof(a.name), "%s", kv->val);
        } else if (!strcmp(kv->key, "interp")) {
            if (!parse_bool(kv->val, &a.interp))
                rc = fail(c, "interp=%s: expected on or off", kv->val);
            interp_given = true;
        } else if (!strcmp(kv->key, "force")) {
            if (!parse_bool(kv->val, &a.force))
                rc = fail(c, "force=%s: expected on or off", kv->val);
            force_given = true;
        } else if (!strcmp(kv->key, "thread")) {
            if (!kv->val)
                rc = kv_need_value(c, kv);
            else if (!strcmp(kv->val, "single"))
                a.thread = ACCEL_THREAD_SINGLE;
            else if (!strcmp(kv->val, "multi"))
                a.thread = ACCEL_THREAD_MULTI;
            else
                rc = fail(c, "thread=%s: expected single or multi", kv->val);
            thread_given = true;
        } else {
            rc = kv_unknown(c, kv);
        }
    }
    kv_free(&l);
    if (rc < 0)
        return rc;
    if (!a.name[0])
        return fail(c, "expected an accelerator name (kvm, tcg)");
    if (interp_given && strcmp(a.name, "tcg"))
        return fail(c, "interp= applies only to tcg");
    if (force_given && strcmp(a.name, "kvm"))
        return fail(c, "force= applies only to kvm");
    if (thread_given && strcmp(a.name, "tcg"))
        return fail(c, "thread= applies only to tcg");
    if (o->naccels == MAX_ACCELS)
        return fail(c, "at most %d accelerators may be given", MAX_ACCELS);
    o->accels[o->naccels++] = a;
    return 0;
}

/* -icount [shift=]N|auto[,sleep=on|off][,align=off][,rr=record|replay,rrfile=F]
 * (docs/record-replay.md). */
static int opt_icount(Ctx *c, const char *arg)
{
    VMOptions *o = c->o;
    KVList l;
    if (kv_parse(c, arg, "shift", &l) < 0)
        return -1;
    /* A later -icount replaces an earlier one. */
    o->rr = RR_NONE;
    free(o->rr_file);
    o->rr_file = NULL;
    o->icount_sleep = true;
    int rc = 0;
    bool shift_given = false;
    for (int i = 0; i < l.n && rc == 0; i++) {
        const KV *kv = &l.items[i];
        uint64_t v;
        if (!strcmp(kv->key, "shift")) {
            shift_given = true;
            if (!kv->val)
                rc = kv_need_value(c, kv);
            else if (!strcmp(kv->val, "auto"))
                o->icount_shift = ICOUNT_AUTO;
            else if (!parse_uint(kv->val, 0, ICOUNT_MAX_SHIFT, &v))
                rc = fail(c, "shift=%s: expected 0..%d or auto", kv->val, ICOUNT_MAX_SHIFT);
            else
                o->icount_shift = (int)v;
        } else if (!strcmp(kv->key, "sleep")) {
            if (!parse_bool(kv->val, &o->icount_sleep))
                rc = fail(c, "sleep=%s: expected on or off", kv->val);
        } else if (!strcmp(kv->key, "align")) {
            bool on = false;
            if (!parse_bool(kv->val, &on))
                rc = fail(c, "align=%s: expected on or off", kv->val);
            else if (on)
                rc = fail(c, "align=on is not supported");
        } else if (!strcmp(kv->key, "rr")) {
            if (kv->val && !strcmp(kv->val, "record"))
                o->rr = RR_RECORD;
            else if (kv->val && !strcmp(kv->val, "replay"))
                o->rr = RR_REPLAY;
            else
                rc = fail(c, "rr=%s: expected record or replay", kv->val ? kv->val : "");
        } else if (!strcmp(kv->key, "rrfile")) {
            if (!kv->val || !*kv->val)
                rc = fail(c, "rrfile= needs a file name");
            else
                set_string(&o->rr_file, kv->val);
        } else if (!strcmp(kv->key, "rrsnapshot")) {
            rc = fail(c, "rrsnapshot= is not supported (a recording starts at power-on)");
        } else {
            rc = kv_unknown(c, kv);
        }
    }
    kv_free(&l);
    if (rc < 0)
        return rc;
    if (!shift_given)
        return fail(c, "expected shift=N (0..%d) or auto", ICOUNT_MAX_SHIFT);
    if (o->rr != RR_NONE && !o->rr_file)
        return fail(c, "rr=%s needs rrfile=FILE", o->rr == RR_RECORD ? "record" : "replay");
    if (o->rr == RR_NONE && o->rr_file)
        return fail(c, "rrfile= needs rr=record or rr=replay");
    return 0;
}

/* Days from 1970-01-01 to y-m-d (proleptic Gregorian). */
static int64_t days_from_civil(int64_t y, unsigned m, unsigned d)
{
    y -= m <= 2;
    int64_t era = (y >= 0 ? y : y - 399) / 400;
    unsigned yoe = (unsigned)(y - era * 400);
    unsigned doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + (int64_t)doe - 719468;
}

/* "2006-06-17T16:01:21" or "2006-06-17" (UTC) -> seconds since 1970. */
static bool parse_rtc_datetime(const char *s, int64_t *out)
{
    unsigned y, mo, d, h = 0, mi = 0, se = 0;
    int n = 0;
    if (sscanf(s, "%4u-%2u-%2u%n", &y, &mo, &d, &n) != 3 || n != 10)
        return false;
    if (s[n]) {
        int n2 = 0;
        if (sscanf(s + n, "T%2u:%2u:%2u%n", &h, &mi, &se, &n2) != 3 || s[n + n2])
            return false;
    }
    static const unsigned mdays[12] = { 31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };
    if (y < 1970 || y > 2099 || mo < 1 || mo > 12 || d < 1 || d > mdays[mo - 1] || h > 23 ||
        mi > 59 || se > 59)
        return false;
    *out = days_from_civil(y, mo, d) * 86400 + h * 3600 + mi * 60 + se;
    return true;
}

/* -rtc [base=utc|localtime|DATETIME][,clock=vm][,driftfix=none]: the RTC
 * always follows the machine's virtual clock. */
static int opt_rtc(Ctx *c, const char *arg)
{
    VMOptions *o = c->o;
    KVList l;
    if (kv_parse(c, arg, "base", &l) < 0)
        return -1;
    int rc = 0;
    for (int i = 0; i < l.n && rc == 0; i++) {
        const KV *kv = &l.items[i];
        const char *v = kv->val ? kv->val : "";
        if (!strcmp(kv->key, "base")) {
            o->rtc_localtime = false;
            o->rtc_base = -1;
            if (!strcmp(v, "localtime"))
                o->rtc_localtime = true;
            else if (strcmp(v, "utc") && !parse_rtc_datetime(v, &o->rtc_base))
                rc = fail(c, "base=%s: expected utc, localtime or a date "
                             "(2006-06-17T16:01:21 or 2006-06-17, 1970..2099)", v);
        } else if (!strcmp(kv->key, "clock")) {
            if (strcmp(v, "vm"))
                rc = fail(c, "clock=%s: only clock=vm is supported (the RTC follows the "
                             "virtual clock)", v);
        } else if (!strcmp(kv->key, "driftfix")) {
            if (strcmp(v, "none"))
                rc = fail(c, "driftfix=%s: only driftfix=none is supported", v);
        } else {
            rc = kv_unknown(c, kv);
        }
    }
    kv_free(&l);
    return rc;
}

/* -machine [type=]pc[,accel=kvm:tcg] / -M: the one board vx86 has. */
static int opt_machine(Ctx *c, const char *arg)
{
    KVList l;
    if (kv_parse(c, arg, "type", &l) < 0)
        return -1;
    int rc = 0;
    for (int i = 0; i < l.n && rc == 0; i++) {
        const KV *kv = &l.items[i];
        if (!strcmp(kv->key, "type")) {
            if (!kv->val || (strcmp(kv->val, "pc") && strcmp(kv->val, "pc-i440fx")))
                rc = fail(c, "machine type '%s' not supported (pc)", kv->val ? kv->val : "");
        } else if (!strcmp(kv->key, "accel")) {
            /* QEMU's colon-separated fallback list. */
            char *list = kv->val ? xstrdup(kv->val) : xstrdup("");
            char *save = NULL;
            for (char *t = strtok_r(list, ":", &save); t && rc == 0; t = strtok_r(NULL, ":", &save))
                rc = opt_accel(c, t);
            if (rc == 0 && !kv->val)
                rc = kv_need_value(c, kv);
            free(list);
        } else {
            rc = kv_unknown(c, kv);
        }
    }
    kv_free(&l);
    return rc;
}

static int opt_enable_kvm(Ctx *c, const char *arg)
{
    return opt_accel(c, "kvm");
}

/* ---- kernel, firmware ---- */

static int opt_kernel(Ctx *c, const char *a) { return set_file(c, &c->o->kernel, a); }
/* -initrd FILE, or for a Multiboot kernel a module list "a args,b": a
 * name that is a readable file is taken whole; otherwise every item's
 * file (up to its first space) must be readable. */
static int opt_initrd(Ctx *c, const char *a)
{
    if (!*a)
        return fail(c, "empty file name");
    if (access(a, R_OK) == 0 || (!strchr(a, ',') && !strchr(a, ' ')))
        return set_file(c, &c->o->initrd, a);
    int n = options_initrd_count(a);
    for (int i = 0; i < n; i++) {
        char *path, *cmdline;
        if (!options_initrd_item(a, i, &path, &cmdline))
            return fail(c, "empty module in '%s'", a);
        int rc = check_readable(c, path);
        free(path);
        free(cmdline);
        if (rc < 0)
            return -1;
    }
    set_string(&c->o->initrd, a);
    return 0;
}
static int opt_bios(Ctx *c, const char *a) { return set_file(c, &c->o->bios, a); }
static int opt_append(Ctx *c, const char *a) { set_string(&c->o->append, a); return 0; }

/* ---- devices on the host side ---- */

static int opt_serial(Ctx *c, const char *arg)
{
    VMOptions *o = c->o;
    if (o->serial_given)
        return fail(c, "given twice (only one serial port is supported)");
    if (!strcmp(arg, "stdio")) {
        o->serial = SERIAL_STDIO;
    } else if (!strcmp(arg, "none")) {
        o->serial = SERIAL_NONE;
    } else if (!strncmp(arg, "file:", 5)) {
        if (!arg[5])
            return fail(c, "file: needs a path (file:PATH)");
        o->serial = SERIAL_FILE;
        set_string(&o->serial_path, arg + 5);
    } else if (!strncmp(arg, "chardev:", 8)) {
        if (!arg[8])
            return fail(c, "chardev: needs an id (chardev:ID)");
        o->serial = SERIAL_CHARDEV;
        set_string(&o->serial_path, arg + 8);
    } else {
        return fail(c, "unsupported backend '%s' (stdio, file:PATH, chardev:ID, none)", arg);
    }
    o->serial_given = true;
    return 0;
}

/* -debugcon stdio|file:PATH|chardev:ID|none: the 0xe9 debug console */
static int opt_debugcon(Ctx *c, const char *arg)
{
    VMOptions *o = c->o;
    if (!strncmp(arg, "chardev:", 8) && arg[8]) {
        o->debugcon = SERIAL_CHARDEV;
        set_string(&o->debugcon_path, arg + 8);
    } else if (!strcmp(arg, "stdio")) {
        o->debugcon = SERIAL_STDIO;
    } else if (!strcmp(arg, "none")) {
        o->debugcon = SERIAL_NONE;
    } else if (!strncmp(arg, "file:", 5) && arg[5]) {
        o->debugcon = SERIAL_FILE;
        set_string(&o->debugcon_path, arg + 5);
    } else {
        return fail(c, "unsupported backend '%s' (stdio, file:PATH, chardev:ID, none)", arg);
    }
    return 0;
}

/* A port number, decimal or 0x-hex, within [0, max]. */
static bool parse_port(const char *s, uint64_t max, uint64_t *out)
{
    char *end;
    if (!s || !*s || *s == '-')
        return false;
    errno = 0;
    unsigned long long v = strtoull(s, &end, 0);
    if (errno || *end || v > max)
        return false;
    *out = v;
    return true;
}

/* ---- -chardev ---- */

static const char *const chardev_backend_names[] = {
    [CHARDEV_FILE] = "file", [CHARDEV_STDIO] = "stdio", [CHARDEV_NULL] = "null",
    [CHARDEV_SOCKET] = "socket", [CHARDEV_PIPE] = "pipe",
};

const ChardevOpt *options_find_chardev(const VMOptions *o, const char *id)
{
    for (int i = 0; i < o->nchardevs; i++)
        if (!strcmp(o->chardevs[i].id, id))
            return &o->chardevs[i];
    return NULL;
}

/* An id as QEMU accepts them: a letter, then letters, digits, '-', '.', '_'. */
static bool valid_id(const char *s)
{
    if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z')))
        return false;
    for (; *s; s++)
        if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') ||
              (*s >= '0' && *s <= '9') || *s == '-' || *s == '.' || *s == '_'))
            return false;
    return true;
}

/* -chardev parameters, in the bit order of chardev_param's *seen. */
static const char *const chardev_keys[] = { "id", "path", "host", "port", "server", "wait",
                                            "append", "signal", "logfile", "mux", "nodelay",
                                            "telnet" };

/* One -chardev parameter; which ones a backend takes is checked after. */
static int chardev_param(Ctx *c, ChardevOpt *d, const KV *kv, unsigned *seen)
{
    size_t k = 0;
    while (k < ARRAY_SIZE(chardev_keys) && strcmp(kv->key, chardev_keys[k]))
        k++;
    if (k == ARRAY_SIZE(chardev_keys))
        return kv_unknown(c, kv);
    *seen |= 1u << k;
    const char *v = kv->val;
    bool b;
    switch (k) {
    case 0: case 1: case 2: case 3:
        if (!v || !*v)
            return kv_need_value(c, kv);
        break;
    default:
        if (!parse_bool(v, &b))
            return fail(c, "%s=%s: expected on or off", kv->key, v);
        break;
    }
    switch (k) {
    case 0: set_string(&d->id, v); break;
    case 1: set_string(&d->path, v); break;
    case 2: set_string(&d->host, v); break;
    case 3: {
        uint64_t port;
        if (!parse_uint(v, 1, 65535, &port))
            return fail(c, "port=%s: expected a TCP port 1..65535", v);
        d->port = (uint16_t)port;
        break;
    }
    case 4: d->server = b; break;
    case 5: d->wait = b; break;
    case 6: d->append = b; break;
    case 7: break;                        /* stdio signal=: Ctrl-A x is the way out anyway */
    case 8: return fail(c, "logfile= is not supported");
    case 9: if (b) return fail(c, "mux=on is not supported"); break;
    case 10: break;                       /* nodelay: vx86 writes unbuffered anyway */
    case 11: if (b) return fail(c, "telnet=on is not supported"); break;
    }
    return 0;
}

static void chardev_opt_free(ChardevOpt *d)
{
    free(d->id);
    free(d->path);
    free(d->host);
    memset(d, 0, sizeof(*d));
}

/* -chardev file|stdio|null|socket|pipe,id=ID,... */
static int opt_chardev(Ctx *c, const char *arg)
{
    VMOptions *o = c->o;
    KVList l;
    if (kv_parse(c, arg, "backend", &l) < 0)
        return -1;
    ChardevOpt d = { .wait = true };
    unsigned seen = 0;
    int rc = 0;
    enum { S_ID = 1, S_PATH = 2, S_HOST = 4, S_PORT = 8, S_SERVER = 16, S_WAIT = 32,
           S_APPEND = 64, S_SIGNAL = 128, S_MUX = 512, S_NODELAY = 1024, S_TELNET = 2048 };
    size_t b = ARRAY_SIZE(chardev_backend_names);
    if (strcmp(l.items[0].key, "backend") || !l.items[0].val)
        rc = fail(c, "expected a backend first (file, stdio, null, socket, pipe)");
    else
        for (b = 0; b < ARRAY_SIZE(chardev_backend_names); b++)
            if (!strcmp(l.items[0].val, chardev_backend_names[b]))
                break;
    if (rc == 0 && b == ARRAY_SIZE(chardev_backend_names))
        rc = fail(c, "backend '%s' not supported (file, stdio, null, socket, pipe)",
                  l.items[0].val);
    d.backend = (ChardevBackend)b;
    for (int i = 1; i < l.n && rc == 0; i++)
        rc = chardev_param(c, &d, &l.items[i], &seen);
    kv_free(&l);
    /* Which parameters each backend takes, and what it needs. */
    static const unsigned allowed[] = {
        [CHARDEV_FILE] = S_ID | S_PATH | S_APPEND | S_MUX,
        [CHARDEV_STDIO] = S_ID | S_SIGNAL | S_MUX,
        [CHARDEV_NULL] = S_ID | S_MUX,
        [CHARDEV_SOCKET] = S_ID | S_PATH | S_HOST | S_PORT | S_SERVER | S_WAIT | S_MUX |
                           S_NODELAY | S_TELNET,
        [CHARDEV_PIPE] = S_ID | S_PATH | S_MUX,
    };
    unsigned extra = rc == 0 && b < ARRAY_SIZE(chardev_backend_names) ? seen & ~allowed[b] : 0;
    if (extra)
        rc = fail(c, "%s: parameter '%s' does not apply", chardev_backend_names[b],
                  chardev_keys[__builtin_ctz(extra)]);
    if (rc == 0 && !d.id)
        rc = fail(c, "id= is required (-chardev %s,id=ID,...)", chardev_backend_names[d.backend]);
    if (rc == 0 && !valid_id(d.id))
        rc = fail(c, "invalid id '%s' (a letter, then letters, digits, '-', '.', '_')", d.id);
    if (rc == 0 && options_find_chardev(o, d.id))
        rc = fail(c, "duplicate id '%s'", d.id);
    if (rc == 0 && (d.backend == CHARDEV_FILE || d.backend == CHARDEV_PIPE) && !d.path)
        rc = fail(c, "%s needs path=PATH", chardev_backend_names[d.backend]);
    if (rc == 0 && d.backend == CHARDEV_SOCKET) {
        if (d.path && (seen & (S_HOST | S_PORT)))
            rc = fail(c, "socket: give path= (unix) or host=,port= (tcp), not both");
        else if (!d.path && !(seen & S_PORT))
            rc = fail(c, "socket needs path=PATH (unix) or port=N (tcp)");
        if (rc == 0 && !d.path && !d.host)
            d.host = xstrdup("");
        if (!d.server)
            d.wait = false;
    }
    if (rc == 0 && o->nchardevs == MAX_CHARDEVS)
        rc = fail(c, "too many character devices (at most %d)", MAX_CHARDEVS);
    if (rc < 0) {
        chardev_opt_free(&d);
        return -1;
    }
    o->chardevs[o->nchardevs++] = d;
    return 0;
}

/* ---- -device: one table of device types and their properties ---- */

/* Property kinds. */
typedef enum PropKind { PROP_PORT, PROP_IOSIZE, PROP_CHARDEV, PROP_PCI_ADDR, PROP_VGAMEM,
                       PROP_VGA_EDID, PROP_VGA_XRES, PROP_VGA_YRES,
                       PROP_DRIVE, PROP_NUM_QUEUES,
                       PROP_SCSI_BUS, PROP_SCSI_CHANNEL, PROP_SCSI_ID, PROP_SCSI_LUN, PROP_SERIAL,
                       PROP_FREE_PAGE_REPORTING, PROP_DEFLATE_ON_OOM,
                       PROP_MAX_PORTS, PROP_PORT_NAME, PROP_PORT_NR, PROP_BUS,
                       PROP_USB_P2, PROP_USB_P3,
                       PROP_NIC /* parsed by opt_device_nic */ } PropKind;

typedef struct DevPropDef {
    const char *name;
    PropKind kind;
    const char *help;
} DevPropDef;

typedef struct DeviceTypeDef {
    const char *name;
    DeviceType type;
    const char *bus;          /* "ISA", "PCI", "SCSI" or "usb-bus" */
    const char *desc;
    uint32_t iobase, iosize;  /* defaults (ISA); iobase ~0u: -global isa-debugcon.iobase */
    int max;                  /* how many may be given */
    DevPropDef props[DEVICE_MAX_PROPS];
} DeviceTypeDef;

#define DEBUGCON_GLOBAL_PORT 0xffffffffu

/* virtio-net-pci's on/off properties: QEMU's names and the feature bit
 * each turns off (hw/virtio-net.h). */
static const struct { const char *name; unsigned bit; } virtio_net_bools[] = {
    { "csum", 0 }, { "guest_csum", 1 }, { "host_tso4", 11 },
    { "host_tso6", 12 }, { "host_ecn", 13 }, { "mrg_rxbuf", 15 }, { "status", 16 },
    { "ctrl_vq", 17 }, { "ctrl_rx", 18 }, { "ctrl_vlan", 19 }, { "ctrl_rx_extra", 20 },
    { "ctrl_mac_addr", 23 }, { "indirect_desc", 28 }, { "event_idx", 29 },
};

static const DeviceTypeDef device_types[] = {
    { "isa-debug-exit", DEVICE_ISA_DEBUG_EXIT, "ISA",
      "writing V ends vx86 with status (V << 1) | 1 (present at 0xf4 unless given)", 0xf4, 4, 4,
      { { "iobase", PROP_PORT, "first port (default 0xf4)" },
        { "iosize", PROP_IOSIZE, "number of ports: 1, 2 or 4 (default 4)" } } },
    { "isa-debugcon", DEVICE_ISA_DEBUGCON, "ISA",
      "bytes written to its port go to a -chardev; reads return 0xe9", DEBUGCON_GLOBAL_PORT, 1, 8,
      { { "iobase", PROP_PORT, "port (default 0xe9, or -global isa-debugcon.iobase)" },
        { "chardev", PROP_CHARDEV, "the -chardev id its output goes to" } } },
    { "pc-testdev", DEVICE_PC_TESTDEV, "ISA",
      "QEMU's x86 test device: ports 0xe0-0xeb, IRQ lines at 0x2000, 64 KiB at 0xff000000",
      0xe0, 12, 1, { { NULL, 0, NULL } } },
    { "pci-testdev", DEVICE_PCI_TESTDEV, "PCI",
      "QEMU's PCI test device 1b36:0005 (BAR0 4 KiB memory, BAR1 256 IO ports)", 0, 0, 4,
      { { "addr", PROP_PCI_ADDR, "PCI slot[.function] (default: the next free slot)" } } },
    { "VGA", DEVICE_VGA, "PCI", "the standard VGA with Bochs VBE (same as -vga std)", 0, 0, 1,
      { { "vgamem_mb", PROP_VGAMEM, "video memory in MiB (power of two 1-256, default 16)" },
        { "edid", PROP_VGA_EDID, "on|off: report a monitor (EDID in BAR2; default on)" },
        { "xres", PROP_VGA_XRES, "the monitor's preferred width (default 1280)" },
        { "yres", PROP_VGA_YRES, "the monitor's preferred height (default 800)" },
        { "addr", PROP_PCI_ADDR, "PCI slot[.function] (only 2, where QEMU puts it)" } } },
    { "virtio-blk-pci", DEVICE_VIRTIO_BLK, "PCI", "virtio disk (docs/devices-virtio.md)", 0, 0, 8,
      { { "drive", PROP_DRIVE, "the -drive if=none,id=ID it uses" },
        { "num-queues", PROP_NUM_QUEUES, "request queues 1..16 (default 1)" },
        { "addr", PROP_PCI_ADDR, "PCI slot[.function] (default: the next free slot)" } } },
    { "virtio-rng-pci", DEVICE_VIRTIO_RNG, "PCI", "virtio entropy source fed by getrandom", 0, 0, 4,
      { { "addr", PROP_PCI_ADDR, "PCI slot[.function] (default: the next free slot)" } } },
    { "virtio-scsi-pci", DEVICE_VIRTIO_SCSI, "PCI",
      "virtio SCSI adapter; its bus is ID.0 (docs/devices-virtio.md)", 0, 0, 4,
      { { "num_queues", PROP_NUM_QUEUES, "request queues 1..14 (default 1)" },
        { "addr", PROP_PCI_ADDR, "PCI slot[.function] (default: the next free slot)" } } },
    { "scsi-hd", DEVICE_SCSI_HD, "SCSI", "SCSI disk on a virtio-scsi-pci bus", 0, 0, MAX_DEVICES,
      { { "drive", PROP_DRIVE, "the -drive if=none,id=ID it uses" },
        { "bus", PROP_SCSI_BUS, "the adapter's bus, ID.0 (default: the first adapter)" },
        { "channel", PROP_SCSI_CHANNEL, "channel (0)" },
        { "scsi-id", PROP_SCSI_ID, "target 0..255 (default: the first free one)" },
        { "lun", PROP_SCSI_LUN, "logical unit 0..16383 (default 0)" },
        { "serial", PROP_SERIAL, "unit serial number (VPD page 80h), up to 20 characters" } } },
    { "scsi-cd", DEVICE_SCSI_CD, "SCSI", "SCSI CD/DVD-ROM on a virtio-scsi-pci bus", 0, 0,
      MAX_DEVICES,
      { { "drive", PROP_DRIVE, "the -drive if=none,id=ID it reads (none: no disc)" },
        { "bus", PROP_SCSI_BUS, "the adapter's bus, ID.0 (default: the first adapter)" },
        { "channel", PROP_SCSI_CHANNEL, "channel (0)" },
        { "scsi-id", PROP_SCSI_ID, "target 0..255 (default: the first free one)" },
        { "lun", PROP_SCSI_LUN, "logical unit 0..16383 (default 0)" },
        { "serial", PROP_SERIAL, "unit serial number (VPD page 80h), up to 20 characters" } } },
    { "virtio-balloon-pci", DEVICE_VIRTIO_BALLOON, "PCI",
      "virtio memory balloon (balloon / info balloon in the monitor)", 0, 0, 1,
      { { "free-page-reporting", PROP_FREE_PAGE_REPORTING,
          "on: the guest hands back free pages (default off)" },
        { "deflate-on-oom", PROP_DEFLATE_ON_OOM,
          "on: the guest may deflate when out of memory (default off)" },
        { "addr", PROP_PCI_ADDR, "PCI slot[.function] (default: the next free slot)" } } },
    { "usb-tablet", DEVICE_USB_TABLET, "usb-bus",
      "USB tablet: absolute pointer, the guest cursor follows the host's (needs -usb or "
      "qemu-xhci)", 0, 0, 4,
      { { "bus", PROP_BUS, "ID.0 of a qemu-xhci, or usb-bus.0 (default: -usb's, else the first)" } } },
    { "usb-kbd", DEVICE_USB_KBD, "usb-bus", "USB keyboard (needs -usb or qemu-xhci)", 0, 0, 4,
      { { "bus", PROP_BUS, "ID.0 of a qemu-xhci, or usb-bus.0 (default: -usb's, else the first)" } } },
    { "usb-mouse", DEVICE_USB_MOUSE, "usb-bus", "USB mouse, relative (needs -usb or qemu-xhci)",
      0, 0, 4,
      { { "bus", PROP_BUS, "ID.0 of a qemu-xhci, or usb-bus.0 (default: -usb's, else the first)" } } },
    { "usb-hub", DEVICE_USB_HUB, "usb-bus",
      "USB 1.1 hub with 8 ports: later USB devices fill its ports once the bus's are taken", 0, 0,
      4, { { "bus", PROP_BUS, "ID.0 of a qemu-xhci, or usb-bus.0 (default: -usb's, else the first)" } } },
    { "qemu-xhci", DEVICE_QEMU_XHCI, "PCI",
      "USB 3 xHCI controller (1b36:000d); its bus is ID.0 (docs/usage.md)", 0, 0, 4,
      { { "p2", PROP_USB_P2, "USB 2 root ports 0..15 (default 4)" },
        { "p3", PROP_USB_P3, "USB 3 root ports 0..15 (default 4)" },
        { "addr", PROP_PCI_ADDR, "PCI slot[.function] (default: the next free slot)" } } },
    { "e1000", DEVICE_NIC, "PCI", "Intel 82540EM Ethernet (docs/devices-net.md)", 0, 0, MAX_NICS,
      { { "netdev", PROP_NIC, "the -netdev id it is cabled to" },
        { "mac", PROP_NIC, "MAC address (default 52:54:00:12:34:56 + index)" },
        { "addr", PROP_NIC, "PCI slot[.function] (default: the next free slot)" },
        { "romfile", PROP_NIC, "iPXE option ROM (default efi-e1000.rom with -boot n)" } } },
    { "virtio-net-pci", DEVICE_NIC, "PCI", "virtio Ethernet (docs/devices-net.md)", 0, 0, MAX_NICS,
      { { "netdev", PROP_NIC, "the -netdev id it is cabled to" },
        { "mac", PROP_NIC, "MAC address (default 52:54:00:12:34:56 + index)" },
        { "addr", PROP_NIC, "PCI slot[.function] (default: the next free slot)" },
        { "romfile", PROP_NIC, "iPXE option ROM (default efi-virtio.rom with -boot n)" },
        { "rx_queue_size", PROP_NIC, "receive queue size: 256, 512 or 1024 (default 256)" },
        { "tx_queue_size", PROP_NIC, "transmit queue size: 256, 512 or 1024 (default 256)" },
        { "mrg_rxbuf", PROP_NIC, "on|off: mergeable receive buffers (default on)" },
        { "csum", PROP_NIC, "on|off: checksum offload (default on; also guest_csum, "
          "host_tso4, host_tso6, host_ecn, status, ctrl_vq, ctrl_rx, ctrl_rx_extra, "
          "ctrl_vlan, ctrl_mac_addr, event_idx, indirect_desc)" } } },
    { "virtio-serial-pci", DEVICE_VIRTIO_SERIAL, "PCI",
      "virtio console/serial ports for virtconsole and virtserialport", 0, 0, 4,
      { { "max_ports", PROP_MAX_PORTS, "ports 1..31 (default 31)" },
        { "addr", PROP_PCI_ADDR, "PCI slot[.function] (default: the next free slot)" } } },
    { "virtconsole", DEVICE_VIRTCONSOLE, "virtio-serial",
      "a console port (/dev/hvcN in Linux) on a -chardev", 0, 0, VIRTIO_PORTS_MAX,
      { { "chardev", PROP_CHARDEV, "the -chardev id it is connected to" },
        { "name", PROP_PORT_NAME, "port name the guest sees" },
        { "nr", PROP_PORT_NR, "port number (default: 0 if free, else the next free)" },
        { "bus", PROP_BUS, "ID.0 of the virtio-serial-pci (default: the first)" } } },
    { "virtserialport", DEVICE_VIRTSERIALPORT, "virtio-serial",
      "a named port (/dev/vportNpM in Linux) on a -chardev", 0, 0, VIRTIO_PORTS_MAX,
      { { "chardev", PROP_CHARDEV, "the -chardev id it is connected to" },
        { "name", PROP_PORT_NAME, "port name, e.g. org.qemu.guest_agent.0" },
        { "nr", PROP_PORT_NR, "port number 1..max_ports-1 (default: the next free)" },
        { "bus", PROP_BUS, "ID.0 of the virtio-serial-pci (default: the first)" } } },
};

static const char *device_type_name(DeviceType type)
{
    for (size_t i = 0; i < ARRAY_SIZE(device_types); i++)
        if (device_types[i].type == type)
            return device_types[i].name;
    return "?";
}

static bool device_takes_drive(DeviceType type)
{
    return type == DEVICE_VIRTIO_BLK || type == DEVICE_SCSI_HD || type == DEVICE_SCSI_CD;
}

static const DeviceTypeDef *device_type_find(const char *name)
{
    for (size_t i = 0; i < ARRAY_SIZE(device_types); i++)
        if (!strcmp(device_types[i].name, name))
            return &device_types[i];
    return NULL;
}

void options_print_devices(FILE *f)
{
    fprintf(f, "Devices (-device NAME[,PROP=VALUE,...]):\n");
    for (size_t i = 0; i < ARRAY_SIZE(device_types); i++) {
        const DeviceTypeDef *t = &device_types[i];
        fprintf(f, "  %-15s %s bus: %s\n", t->name, t->bus, t->desc);
        for (const DevPropDef *p = t->props; p < t->props + ARRAY_SIZE(t->props) && p->name; p++)
            fprintf(f, "    %-13s %s\n", p->name, p->help);
    }
    fprintf(f, "All devices also accept id=ID.\n");
}

/* "SLOT" or "SLOT.FN", hex as QEMU reads it (addr=0x5.0 or addr=05). */
static bool parse_pci_addr(const char *s, int *devfn)
{
    char *end;
    if (!s || !*s)
        return false;
    unsigned long slot = strtoul(s, &end, 16), fn = 0;
    if (end == s || slot > 31)
        return false;
    if (*end == '.') {
        const char *f = end + 1;
        fn = strtoul(f, &end, 16);
        if (end == f || fn > 7)
            return false;
    }
    if (*end)
        return false;
    *devfn = (int)(slot << 3 | fn);
    return true;
}

static int device_prop(Ctx *c, const DeviceTypeDef *t, DeviceOpt *d, const KV *kv)
{
    const DevPropDef *p = NULL;
    for (int i = 0; i < (int)ARRAY_SIZE(t->props) && t->props[i].name; i++)
        if (!strcmp(t->props[i].name, kv->key))
            p = &t->props[i];
    if (!strcmp(kv->key, "id")) {
        if (!kv->val)
            return kv_need_value(c, kv);
        if (!*kv->val || strlen(kv->val) >= sizeof d->id)
            return fail(c, "%s: id=%s: expected 1..%zu characters", t->name, kv->val,
                        sizeof d->id - 1);
        snprintf(d->id, sizeof d->id, "%s", kv->val);
        return 0;
    }
    if (!p)
        return fail(c, "%s: unknown property '%s'", t->name, kv->key);
    const char *v = kv->val ? kv->val : "";
    uint64_t n;
    switch (p->kind) {
    case PROP_PORT:
        if (!parse_port(kv->val, 0xffff, &n))
            return fail(c, "%s: iobase=%s: expected a port 0..0xffff", t->name, v);
        d->iobase = (uint32_t)n;
        break;
    case PROP_IOSIZE:
        if (!parse_port(kv->val, 4, &n) || (n != 1 && n != 2 && n != 4))
            return fail(c, "%s: iosize=%s: expected 1, 2 or 4", t->name, v);
        d->iosize = (uint32_t)n;
        break;
    case PROP_CHARDEV:
        if (!*v)
            return kv_need_value(c, kv);
        set_string(&d->chardev, v);
        break;
    case PROP_PCI_ADDR:
        if (!parse_pci_addr(kv->val, &d->devfn))
            return fail(c, "%s: addr=%s: expected a PCI slot[.function] (0..1f[.0..7])",
                        t->name, v);
        break;
    case PROP_VGAMEM:
        if (!parse_uint(v, 1, 256, &n) || (n & (n - 1)))
            return fail(c, "%s: vgamem_mb=%s: expected a power of two from 1 to 256",
                        t->name, v);
        d->vgamem_mb = (unsigned)n;
        break;
    case PROP_VGA_EDID: {
        bool on;
        if (!parse_bool(kv->val, &on))
            return fail(c, "%s: edid=%s: expected on or off", t->name, v);
        d->vga_edid = on;
        break;
    }
    case PROP_VGA_XRES:
    case PROP_VGA_YRES:
        if (!parse_uint(v, 1, 4095, &n))
            return fail(c, "%s: %s=%s: expected 1..4095", t->name, p->name, v);
        *(p->kind == PROP_VGA_XRES ? &d->vga_xres : &d->vga_yres) = (unsigned)n;
        break;
    case PROP_DRIVE:
        if (!*v || strlen(v) >= sizeof d->drive)
            return fail(c, "%s: drive=%s: expected a drive id", t->name, v);
        snprintf(d->drive, sizeof d->drive, "%s", v);
        break;
    case PROP_NUM_QUEUES: {
        unsigned max = t->type == DEVICE_VIRTIO_SCSI ? 14 : 16;
        if (!parse_uint(v, 1, max, &n))
            return fail(c, "%s: %s=%s: expected 1..%u", t->name, p->name, v, max);
        d->num_queues = (int)n;
        break;
    }
    case PROP_SCSI_BUS:
        if (!*v || strlen(v) >= sizeof d->bus)
            return fail(c, "%s: bus=%s: expected a bus name (ID.0)", t->name, v);
        snprintf(d->bus, sizeof d->bus, "%s", v);
        break;
    case PROP_SCSI_CHANNEL:
        if (!parse_uint(v, 0, 0, &n))
            return fail(c, "%s: channel=%s: expected 0 (virtio-scsi has one channel)",
                        t->name, v);
        d->channel = (int)n;
        break;
    case PROP_SCSI_ID:
        if (!parse_uint(v, 0, 255, &n))
            return fail(c, "%s: scsi-id=%s: expected 0..255", t->name, v);
        d->scsi_id = (int)n;
        break;
    case PROP_SCSI_LUN:
        if (!parse_uint(v, 0, 16383, &n))
            return fail(c, "%s: lun=%s: expected 0..16383", t->name, v);
        d->lun = (int)n;
        break;
    case PROP_SERIAL:
        if (!*v || strlen(v) >= sizeof d->serial)
            return fail(c, "%s: serial=%s: expected 1..%zu characters", t->name, v,
                        sizeof d->serial - 1);
        snprintf(d->serial, sizeof d->serial, "%s", v);
        break;
    case PROP_FREE_PAGE_REPORTING:
    case PROP_DEFLATE_ON_OOM: {
        bool b;
        if (!parse_bool(kv->val, &b))
            return fail(c, "%s: %s=%s: expected on or off", t->name, p->name, v);
        *(p->kind == PROP_DEFLATE_ON_OOM ? &d->deflate_on_oom : &d->free_page_reporting) = b;
        break;
    }
    case PROP_MAX_PORTS:
        if (!parse_uint(v, 1, VIRTIO_PORTS_MAX, &n))
            return fail(c, "%s: max_ports=%s: expected 1..%d", t->name, v, VIRTIO_PORTS_MAX);
        d->max_ports = (unsigned)n;
        break;
    case PROP_PORT_NAME:
        if (!*v || strlen(v) > 255)
            return fail(c, "%s: name=%s: expected 1..255 characters", t->name, v);
        set_string(&d->port_name, v);
        break;
    case PROP_PORT_NR:
        if (!parse_uint(v, 0, VIRTIO_PORTS_MAX - 1, &n))
            return fail(c, "%s: nr=%s: expected 0..%d", t->name, v, VIRTIO_PORTS_MAX - 1);
        d->nr = (int)n;
        break;
    case PROP_BUS: {
        size_t k = strlen(v);
        if (k < 3 || k >= sizeof d->bus || strcmp(v + k - 2, ".0"))
            return fail(c, "%s: bus=%s: expected ID.0 (the controller's id)", t->name, v);
        snprintf(d->bus, sizeof d->bus, "%s", v);
        break;
    }
    case PROP_USB_P2:
    case PROP_USB_P3:
        if (!parse_uint(v, 0, 15, &n))
            return fail(c, "%s: %s=%s: expected 0..15", t->name, p->name, v);
        *(p->kind == PROP_USB_P2 ? &d->usb_p2 : &d->usb_p3) = (int)n;
        break;
    case PROP_NIC:
        break;                      /* never reached: opt_device_nic parses NICs */
    }
    return 0;
}


/* ---- networking ---- */

/* NIC model names as QEMU takes them, and the model each one is. */
static const struct { const char *name, *model; } nic_models[] = {
    { "e1000", "e1000" }, { "e1000-82540em", "e1000" },
    { "virtio-net-pci", "virtio-net-pci" }, { "virtio", "virtio-net-pci" },
    { "virtio-net", "virtio-net-pci" },
};

static int nic_add(Ctx *c, const char *model, const char *netdev, const char *mac)
{
    VMOptions *o = c->o;
    if (o->nnics == MAX_NICS)
        return fail(c, "too many NICs (at most %d)", MAX_NICS);
    NicOpt *n = &o->nics[o->nnics];
    memset(n, 0, sizeof *n);
    const char *canonical = NULL;
    for (size_t i = 0; i < ARRAY_SIZE(nic_models); i++)
        if (!strcmp(model, nic_models[i].name))
            canonical = nic_models[i].model;
    if (!canonical)
        return fail(c, "NIC model '%s' not supported (e1000, virtio-net-pci)", model);
    snprintf(n->model, sizeof n->model, "%s", canonical);
    if (netdev && strlen(netdev) >= sizeof n->netdev)
        return fail(c, "netdev=%s: name too long", netdev);
    snprintf(n->netdev, sizeof n->netdev, "%s", netdev ? netdev : "");
    if (mac) {
        if (!net_parse_mac(mac, n->mac) || (n->mac[0] & 1))
            return fail(c, "mac=%s: expected a unicast address like 52:54:00:12:34:56", mac);
        n->has_mac = true;
    }
    o->nnics++;
    return 0;
}

static int netdev_add(Ctx *c, const char *id, const char *spec)
{
    VMOptions *o = c->o;
    char err[256];
    if (o->nnetdevs == MAX_NETDEVS)
        return fail(c, "too many network backends (at most %d)", MAX_NETDEVS);
    if (!id || !*id || strlen(id) >= sizeof o->netdevs[0].id)
        return fail(c, "id=ID expected (1..%zu characters)", sizeof o->netdevs[0].id - 1);
    for (int i = 0; i < o->nnetdevs; i++)
        if (!strcmp(o->netdevs[i].id, id))
            return fail(c, "id=%s given twice", id);
    if (!netdev_check(spec, err, sizeof err))
        return fail(c, "%s", err);
    snprintf(o->netdevs[o->nnetdevs].id, sizeof o->netdevs[0].id, "%s", id);
    o->netdevs[o->nnetdevs].spec = xstrdup(spec);
    o->nnetdevs++;
    return 0;
}

/* Copies spec without the keys in drop ("model", "mac", ...). */
static char *spec_without(const char *spec, const char *const *drop)
{
    char *out = xmalloc(strlen(spec) + 1), *w = out;
    const char *p = spec;
    bool first = true;
    while (*p) {
        const char *comma = strchr(p, ',');
        size_t n = comma ? (size_t)(comma - p) : strlen(p);
        bool skip = false;
        for (int i = 0; drop[i] && !first; i++) {
            size_t k = strlen(drop[i]);
            skip |= n > k && !strncmp(p, drop[i], k) && p[k] == '=';
        }
        if (!skip) {
            if (w != out)
                *w++ = ',';
            memcpy(w, p, n);
            w += n;
        }
        first = false;
        p += n + (comma ? 1 : 0);
    }
    *w = '\0';
    return out;
}

/* The value of key in a comma-separated spec (not the first item), or NULL. */
static char *spec_get(const char *spec, const char *key)
{
    size_t k = strlen(key);
    const char *p = strchr(spec, ',');
    char *v = NULL;
    while (p) {
        p++;
        const char *comma = strchr(p, ',');
        size_t n = comma ? (size_t)(comma - p) : strlen(p);
        if (n > k && !strncmp(p, key, k) && p[k] == '=') {
            free(v);
            v = strndup(p + k + 1, n - k - 1);
        }
        p = comma;
    }
    return v;
}

/* -netdev TYPE,id=ID,... */
static int opt_netdev(Ctx *c, const char *arg)
{
    c->o->net_given = true;
    char *id = spec_get(arg, "id");
    int rc = netdev_add(c, id, arg);
    free(id);
    return rc;
}

/* -nic none | TYPE[,model=e1000][,mac=M][,backend options] */
static int opt_nic(Ctx *c, const char *arg)
{
    c->o->net_given = true;
    if (!strcmp(arg, "none"))
        return 0;
    static const char *const drop[] = { "model", "mac", "id", NULL };
    char *model = spec_get(arg, "model"), *mac = spec_get(arg, "mac");
    char *spec = spec_without(arg, drop);
    char id[32];
    snprintf(id, sizeof id, "__nic%d", c->o->nnics);
    int rc = netdev_add(c, id, spec);
    if (rc == 0)
        rc = nic_add(c, model ? model : "e1000", id, mac);
    free(model);
    free(mac);
    free(spec);
    return rc;
}

/* -net nic[,model=e1000][,macaddr=M][,netdev=ID] | -net TYPE[,...] | -net none:
 * the NICs without netdev= and the one backend share the id "__net". */
static int opt_net(Ctx *c, const char *arg)
{
    c->o->net_given = true;
    if (!strcmp(arg, "none"))
        return 0;
    if (!strncmp(arg, "nic", 3) && (arg[3] == '\0' || arg[3] == ',')) {
        static const char *const known[] = { "model", "macaddr", "netdev", "name", "id", "vlan", NULL };
        static const char *const none[] = { NULL };
        /* Every key must be known. */
        char *rest = spec_without(arg, known);
        bool ok = !strcmp(rest, "nic");
        free(rest);
        if (!ok)
            return fail(c, "'%s': -net nic takes model=, macaddr=, netdev=", arg);
        (void)none;
        char *model = spec_get(arg, "model"), *mac = spec_get(arg, "macaddr");
        char *netdev = spec_get(arg, "netdev");
        int rc = nic_add(c, model ? model : "e1000", netdev ? netdev : "__net", mac);
        free(model);
        free(mac);
        free(netdev);
        return rc;
    }
    static const char *const drop[] = { "vlan", "name", "id", NULL };
    char *spec = spec_without(arg, drop);
    int rc = netdev_add(c, "__net", spec);
    free(spec);
    return rc;
}

/* A virtio-net-pci property other than netdev/mac/addr/id: a queue size
 * or one of the on/off feature switches.  1 taken, 0 not one of them,
 * -1 refused. */
static int virtio_net_prop(Ctx *c, NicOpt *n, const KV *kv)
{
    const char *v = kv->val ? kv->val : "";
    if (!strcmp(kv->key, "rx_queue_size") || !strcmp(kv->key, "tx_queue_size")) {
        uint64_t q;
        if (!parse_uint(v, 256, 1024, &q) || (q & (q - 1)))
            return fail(c, "virtio-net-pci: %s=%s: expected 256, 512 or 1024", kv->key, v);
        *(kv->key[0] == 'r' ? &n->rx_queue_size : &n->tx_queue_size) = (uint16_t)q;
        return 1;
    }
    for (size_t i = 0; i < ARRAY_SIZE(virtio_net_bools); i++) {
        if (strcmp(kv->key, virtio_net_bools[i].name))
            continue;
        bool on;
        if (!parse_bool(kv->val, &on))
            return fail(c, "virtio-net-pci: %s=%s: expected on or off", kv->key, v);
        uint64_t bit = 1ULL << virtio_net_bools[i].bit;
        n->features_off = on ? n->features_off & ~bit : n->features_off | bit;
        return 1;
    }
    return 0;
}

/* -device e1000|virtio-net-pci[,netdev=ID][,mac=M][,addr=A][,id=NAME][,...] */
static int opt_device_nic(Ctx *c, const KVList *l)
{
    const char *netdev = NULL, *mac = NULL, *addr = NULL, *id = NULL, *romfile = NULL;
    bool virtio = !strcmp(l->items[0].val, "virtio-net-pci");
    for (int i = 1; i < l->n; i++) {
        const KV *kv = &l->items[i];
        if (!strcmp(kv->key, "netdev") && kv->val)
            netdev = kv->val;
        else if (!strcmp(kv->key, "id") && kv->val)
            id = kv->val;
        else if (!strcmp(kv->key, "romfile"))
            romfile = kv->val ? kv->val : "";
        else if (!strcmp(kv->key, "mac") && kv->val)
            mac = kv->val;
        else if (!strcmp(kv->key, "addr") && kv->val)
            addr = kv->val;
        else if ((strcmp(kv->key, "id") || !kv->val) && !virtio)
            return kv_unknown(c, kv);
    }
    if (nic_add(c, l->items[0].val, netdev, mac) < 0)
        return -1;
    NicOpt *n = &c->o->nics[c->o->nnics - 1];
    if (id && (!*id || strlen(id) >= sizeof n->id))
        return fail(c, "%s: id=%s: expected 1..%zu characters", l->items[0].val, id,
                    sizeof n->id - 1);
    if (id)
        snprintf(n->id, sizeof n->id, "%s", id);
    if (romfile && strlen(romfile) >= sizeof n->romfile)
        return fail(c, "%s: romfile=%s: name too long", l->items[0].val, romfile);
    if (romfile) {
        snprintf(n->romfile, sizeof n->romfile, "%s", romfile);
        n->has_romfile = true;
    }
    if (addr && !parse_pci_addr(addr, &n->devfn))
        return fail(c, "%s: addr=%s: expected a PCI slot[.function] (0..1f[.0..7])",
                    l->items[0].val, addr);
    n->has_addr = addr != NULL;
    for (int i = 1; i < l->n && virtio; i++) {
        const KV *kv = &l->items[i];
        static const char *const known[] = { "netdev", "mac", "addr", "id", "romfile", NULL };
        bool plain = !strcmp(kv->key, "romfile");
        for (int k = 0; known[k]; k++)
            plain |= !strcmp(kv->key, known[k]) && kv->val;
        if (plain)
            continue;
        int rc = virtio_net_prop(c, n, kv);
        if (rc <= 0)
            return rc < 0 ? -1 : kv_unknown(c, kv);
    }
    return 0;
}

/* -device: only the test device isa-debug-exit is known so far. */
static int opt_device(Ctx *c, const char *arg)
{
    VMOptions *o = c->o;
    if (!strcmp(arg, "help") || !strcmp(arg, "?")) {
        o->want_device_help = true;
        c->stop = true;
        return 0;
    }
    KVList l;
    if (kv_parse(c, arg, "driver", &l) < 0)
        return -1;
    const DeviceTypeDef *t = NULL;
    if (strcmp(l.items[0].key, "driver") || !l.items[0].val) {
        kv_free(&l);
        return fail(c, "expected a device name first (-device help lists them)");
    }
    t = device_type_find(l.items[0].val);
    if (!t) {
        int rc = fail(c, "device '%s' not supported (-device help lists the devices)",
                      l.items[0].val);
        kv_free(&l);
        return rc;
    }
    if (t->type == DEVICE_NIC) {              /* NICs have their own list */
        int rc = opt_device_nic(c, &l);
        kv_free(&l);
        return rc;
    }
    DeviceOpt d = { .type = t->type, .iobase = t->iobase, .iosize = t->iosize, .devfn = -1,
                    .nr = -1, .vga_edid = -1, .scsi_id = -1, .usb_p2 = -1, .usb_p3 = -1 };
    int rc = 0;
    for (int i = 1; i < l.n && rc == 0; i++)
        rc = device_prop(c, t, &d, &l.items[i]);
    kv_free(&l);
    int same = 0;
    for (int i = 0; i < o->ndevices; i++)
        same += o->devices[i].type == t->type;
    if (rc == 0 && t->iosize && d.iobase != DEBUGCON_GLOBAL_PORT &&
        d.iobase + d.iosize > 0x10000)
        rc = fail(c, "%s: ports 0x%x+%u run past 0xffff", t->name, d.iobase, d.iosize);
    if (rc == 0 && same >= t->max)
        rc = fail(c, "%s: at most %d may be given", t->name, t->max);
    if (rc == 0 && t->type == DEVICE_VGA && d.devfn >= 0 && d.devfn != 2 << 3)
        rc = fail(c, "VGA: addr= must be 2 (the slot QEMU's pc machine gives it)");
    if (rc == 0 && (t->type == DEVICE_VIRTIO_BLK || t->type == DEVICE_SCSI_HD) && !d.drive[0])
        rc = fail(c, "%s needs drive=ID (an -drive if=none,id=ID)", t->name);
    if (rc == 0 && o->ndevices == MAX_DEVICES)
        rc = fail(c, "too many devices (at most %d)", MAX_DEVICES);
    if (rc == 0 && t->type == DEVICE_VIRTSERIALPORT && d.nr == 0)
        rc = fail(c, "virtserialport: nr=0 is kept for a virtconsole");
    if (rc < 0) {
        free(d.chardev);
        free(d.port_name);
        return -1;
    }
    if (t->type == DEVICE_VGA) {          /* -device VGA replaces the default VGA */
        o->vga = VGA_STD;
        if (d.vgamem_mb)
            o->vgamem_mb = d.vgamem_mb;
        if (d.vga_edid >= 0)
            o->vga_no_edid = !d.vga_edid;
        if (d.vga_xres)
            o->vga_xres = d.vga_xres;
        if (d.vga_yres)
            o->vga_yres = d.vga_yres;
    }
    o->devices[o->ndevices++] = d;
    return 0;
}

/* ---- -vnc ---- */

static void vnc_opt_clear(VncOpt *v)
{
    free(v->spec);
    free(v->host);
    free(v->unix_path);
    free(v->ws_host);
    memset(v, 0, sizeof(*v));
}

/* [HOST]:PORT into host (NULL when empty; [v6] brackets dropped) and the
 * number after the last colon, within [0, max]. */
static bool split_host_number(const char *s, uint64_t max, char **host, uint64_t *num)
{
    const char *colon = strrchr(s, ':');
    if (!colon || !parse_uint(colon + 1, 0, max, num))
        return false;
    size_t n = (size_t)(colon - s);
    if (n >= 2 && s[0] == '[' && s[n - 1] == ']') {
        s++;
        n -= 2;
    } else if (memchr(s, '[', n) || memchr(s, ']', n)) {
        return false;
    }
    *host = n ? strndup(s, n) : NULL;
    return true;
}

static int vnc_address(Ctx *c, VncOpt *v, const char *addr)
{
    uint64_t n;
    set_string(&v->spec, addr);
    if (!strncmp(addr, "unix:", 5)) {
        if (!addr[5])
            return fail(c, "unix: needs a socket path");
        set_string(&v->unix_path, addr + 5);
        return 0;
    }
    if (!split_host_number(addr, 65535 - VNC_PORT_BASE, &v->host, &n))
        return fail(c, "'%s': expected [HOST]:DISPLAY (port 5900+DISPLAY), unix:PATH or none",
                    addr);
    v->display = v->display_to = (int)n;
    return 0;
}

static int vnc_websocket(Ctx *c, VncOpt *v, const char *val)
{
    bool on;
    uint64_t port;
    if (parse_bool(val, &on)) {
        v->ws_port = on ? -1 : 0;         /* -1: 5700 + display, once known */
        return 0;
    }
    free(v->ws_host);
    v->ws_host = NULL;
    if (parse_uint(val, 1, 65535, &port) ||
        (split_host_number(val, 65535, &v->ws_host, &port) && port)) {
        v->ws_port = (int)port;
        return 0;
    }
    return fail(c, "websocket=%s: expected on, off, PORT or HOST:PORT", val);
}

/* QEMU's -vnc [HOST]:N|unix:PATH|none[,websocket=on|PORT][,password=on][,to=L]
 * (also -display vnc=...). */
static int vnc_parse(Ctx *c, const char *arg)
{
    VncOpt *v = &c->o->vnc;
    vnc_opt_clear(v);
    if (!strcmp(arg, "none"))
        return 0;                         /* QEMU: the server is not started */
    KVList l;
    if (kv_parse(c, arg, "vnc", &l) < 0)
        return -1;
    int rc = 0;
    uint64_t to = 0;
    bool have_to = false;
    for (int i = 0; i < l.n && rc == 0; i++) {
        const KV *kv = &l.items[i];
        if (!strcmp(kv->key, "vnc")) {
            rc = kv->val ? vnc_address(c, v, kv->val) : kv_need_value(c, kv);
        } else if (!strcmp(kv->key, "websocket")) {
            rc = vnc_websocket(c, v, kv->val);
        } else if (!strcmp(kv->key, "password")) {
            if (!parse_bool(kv->val, &v->password))
                rc = fail(c, "password=%s: expected on or off", kv->val);
        } else if (!strcmp(kv->key, "to")) {
            have_to = true;
            if (!kv->val || !parse_uint(kv->val, 0, 65535 - VNC_PORT_BASE, &to))
                rc = fail(c, "to=%s: expected a display number", kv->val ? kv->val : "");
        } else {
            rc = fail(c, "unsupported parameter '%s' (vx86 has websocket, password, to)",
                      kv->key);
        }
    }
    kv_free(&l);
    if (rc == 0 && !v->spec)
        rc = fail(c, "needs an address: [HOST]:DISPLAY, unix:PATH or none");
    if (rc == 0 && have_to && (v->unix_path || (int)to < v->display))
        rc = fail(c, "to=%d: needs a TCP display number not above it", (int)to);
    if (rc == 0 && have_to)
        v->display_to = (int)to;
    if (rc == 0 && v->ws_port == -1 && v->unix_path)
        rc = fail(c, "websocket=on: needs a display number (use websocket=PORT with unix:)");
    if (rc == 0 && v->ws_port == -1 && VNC_WEBSOCKET_PORT_BASE + v->display > 65535)
        rc = fail(c, "websocket=on: port %d is out of range", VNC_WEBSOCKET_PORT_BASE + v->display);
    if (rc < 0) {
        vnc_opt_clear(v);
        return -1;
    }
    if (v->ws_port == -1)
        v->ws_port = VNC_WEBSOCKET_PORT_BASE + v->display;
    v->enabled = true;
    return 0;
}

static int opt_vnc(Ctx *c, const char *arg)
{
    return vnc_parse(c, arg);
}

static int opt_display(Ctx *c, const char *arg)
{
    /* -display vnc=ADDRESS[,...]: only the VNC server, no window. */
    if (!strncmp(arg, "vnc=", 4)) {
        c->o->display = DISPLAY_NONE;
        return vnc_parse(c, arg);
    }
    if (!strcmp(arg, "vnc"))
        return fail(c, "vnc: needs an address (-display vnc=:N)");

    KVList l;
    if (kv_parse(c, arg, "type", &l) < 0)
        return -1;
    int rc = 0;
    for (int i = 0; i < l.n && rc == 0; i++) {
        const KV *kv = &l.items[i];
        if (!strcmp(kv->key, "window-close")) {
            bool on;
            if (!parse_bool(kv->val, &on))
                rc = fail(c, "window-close=%s: expected on or off", kv->val ? kv->val : "");
            else
                c->o->no_quit = !on;
        } else if (strcmp(kv->key, "type"))
            rc = kv_unknown(c, kv);
        else if (!kv->val)
            rc = kv_need_value(c, kv);
        else if (!strcmp(kv->val, "sdl"))
            c->o->display = DISPLAY_SDL;
        else if (!strcmp(kv->val, "curses"))
            c->o->display = DISPLAY_CURSES;
        else if (!strcmp(kv->val, "none"))
            c->o->display = DISPLAY_NONE;
        else
            rc = fail(c, "unsupported display '%s' (sdl, curses, none, vnc=:N)", kv->val);
    }
    kv_free(&l);
    return rc;
}

static int opt_vga(Ctx *c, const char *arg)
{
    if (!strcmp(arg, "std"))
        c->o->vga = VGA_STD;
    else if (!strcmp(arg, "none"))
        c->o->vga = VGA_NONE;
    else
        return fail(c, "unsupported VGA card '%s' (std, none)", arg);
    return 0;
}

/* -global DRIVER.PROP=VALUE: one row per device property vx86 has. */
static int global_debugcon_iobase(Ctx *c, const char *val)
{
    uint64_t v;
    if (!parse_port(val, 0xffff, &v))
        return fail(c, "isa-debugcon.iobase=%s: expected a port 0..0xffff", val);
    c->o->debugcon_port = (uint16_t)v;
    return 0;
}

static int global_vga_edid(Ctx *c, const char *val)
{
    bool on;
    if (!parse_bool(val, &on))
        return fail(c, "VGA.edid=%s: expected on or off", val);
    c->o->vga_no_edid = !on;
    return 0;
}

static int global_vga_res(Ctx *c, const char *prop, const char *val, unsigned *out)
{
    uint64_t v;
    if (!parse_uint(val, 1, 4095, &v))
        return fail(c, "VGA.%s=%s: expected 1..4095", prop, val);
    *out = (unsigned)v;
    return 0;
}

static int global_vga_xres(Ctx *c, const char *val)
{
    return global_vga_res(c, "xres", val, &c->o->vga_xres);
}

static int global_vga_yres(Ctx *c, const char *val)
{
    return global_vga_res(c, "yres", val, &c->o->vga_yres);
}

static int global_vga_vgamem_mb(Ctx *c, const char *val)
{
    uint64_t v;
    if (!parse_uint(val, 1, 256, &v) || (v & (v - 1)))
        return fail(c, "VGA.vgamem_mb=%s: expected a power of two from 1 to 256", val);
    c->o->vgamem_mb = (unsigned)v;
    return 0;
}

static const struct {
    const char *name;
    int (*set)(Ctx *c, const char *val);
} global_props[] = {
    { "isa-debugcon.iobase", global_debugcon_iobase },   /* SeaBIOS logs to 0x402 */
    { "VGA.vgamem_mb", global_vga_vgamem_mb },
    { "VGA.edid", global_vga_edid },
    { "VGA.xres", global_vga_xres },
    { "VGA.yres", global_vga_yres },
};

static int opt_global(Ctx *c, const char *arg)
{
    const char *eq = strchr(arg, '=');
    if (!eq || !strchr(arg, '.') || strchr(arg, '.') > eq)
        return fail(c, "'%s': expected DRIVER.PROP=VALUE", arg);
    size_t n = (size_t)(eq - arg);
    for (size_t i = 0; i < sizeof(global_props) / sizeof(global_props[0]); i++)
        if (strlen(global_props[i].name) == n && !strncmp(arg, global_props[i].name, n))
            return global_props[i].set(c, eq + 1);
    return fail(c, "'%.*s': property not supported (isa-debugcon.iobase, VGA.vgamem_mb, VGA.edid, VGA.xres, VGA.yres)",
                (int)n, arg);
}

static int opt_nographic(Ctx *c, const char *arg)
{
    c->o->nographic = true;
    return 0;
}

static int opt_monitor(Ctx *c, const char *a)
{
    if (!*a)
        return fail(c, "empty monitor spec");
    set_string(&c->o->monitor, a);
    return 0;
}

/* -name NAME or -name guest=NAME: the window title. */
static int opt_name(Ctx *c, const char *a)
{
    const char *n = strncmp(a, "guest=", 6) ? a : a + 6;
    if (!*n)
        return fail(c, "empty name");
    if (strchr(n, ','))
        return fail(c, "only NAME or guest=NAME is supported");
    set_string(&c->o->name, n);
    return 0;
}

static int opt_qmp(Ctx *c, const char *a)
{
    if (!*a)
        return fail(c, "empty QMP spec");
    if (c->o->nqmp == (int)(sizeof(c->o->qmp) / sizeof(c->o->qmp[0])))
        return fail(c, "at most 4 QMP servers");
    c->o->qmp[c->o->nqmp++] = xstrdup(a);
    return 0;
}

/* -mon chardev=ID[,mode=readline|control][,pretty=on|off]: a monitor
 * (human, or QMP with mode=control) on a -chardev. */
static int opt_mon(Ctx *c, const char *arg)
{
    KVList l;
    if (kv_parse(c, arg, "chardev", &l) < 0)
        return -1;
    VMOptions *o = c->o;
    if (o->nmons == (int)(sizeof(o->mons) / sizeof(o->mons[0]))) {
        kv_free(&l);
        return fail(c, "at most 4 -mon options");
    }
    char *id = NULL;
    bool control = false;
    int rc = 0;
    for (int i = 0; i < l.n && rc == 0; i++) {
        const KV *kv = &l.items[i];
        if (!kv->val && strcmp(kv->key, "pretty"))
            rc = kv_need_value(c, kv);
        else if (!strcmp(kv->key, "chardev"))
            id = kv->val;
        else if (!strcmp(kv->key, "mode") && (!strcmp(kv->val, "control") || !strcmp(kv->val, "readline")))
            control = !strcmp(kv->val, "control");
        else if (!strcmp(kv->key, "mode"))
            rc = fail(c, "mode=%s: expected readline or control", kv->val);
        else if (!strcmp(kv->key, "pretty"))
            ;                       /* replies are one line either way */
        else
            rc = kv_unknown(c, kv);
    }
    if (rc == 0 && !id)
        rc = fail(c, "chardev=ID is required");
    if (rc == 0) {
        o->mons[o->nmons].chardev = xstrdup(id);
        o->mons[o->nmons++].control = control;
    }
    kv_free(&l);
    return rc;
}

static int opt_incoming(Ctx *c, const char *a)
{
    if (!*a)
        return fail(c, "empty URI (file:PATH, exec:CMD, tcp:HOST:PORT, unix:PATH, defer)");
    set_string(&c->o->incoming, a);
    return 0;
}

static int opt_loadvm(Ctx *c, const char *a)
{
    if (!*a)
        return fail(c, "empty snapshot name");
    set_string(&c->o->loadvm, a);
    return 0;
}

/* ---- debugging ---- */

static int opt_d(Ctx *c, const char *arg)
{
    if (!strcmp(arg, "help")) {
        c->o->want_log_help = true;
        c->stop = true;
        return 0;
    }
    char bad[64];
    unsigned mask;
    if (!log_parse_mask(arg, &mask, bad, sizeof(bad)))
        return fail(c, "unknown log item '%s' (see -d help)", bad);
    c->o->log_mask = mask;                /* the last -d wins, as in QEMU */
    return 0;
}

static int opt_dfilter(Ctx *c, const char *arg)
{
    char err[160];
    if (!log_parse_ranges(arg, c->o->log_ranges, &c->o->log_nranges, err, sizeof(err)))
        return fail(c, "%s", err);
    return 0;
}

static int opt_D(Ctx *c, const char *a)
{
    if (!*a)
        return fail(c, "empty file name");
    set_string(&c->o->log_file, a);
    return 0;
}

/* -gdb tcp:[HOST]:PORT | unix:PATH,server[,nowait] */
static int opt_gdb(Ctx *c, const char *arg)
{
    if (!strncmp(arg, "unix:", 5)) {
        const char *comma = strchr(arg + 5, ',');
        if (comma == arg + 5 || !comma || strncmp(comma, ",server", 7) ||
            (comma[7] && strcmp(comma + 7, ",nowait")))
            return fail(c, "expected unix:PATH,server in '%s'", arg);
        set_string(&c->o->gdb, arg);
        return 0;
    }
    if (strncmp(arg, "tcp:", 4))
        return fail(c, "unsupported device '%s' (tcp::PORT, unix:PATH,server)", arg);
    const char *colon = strrchr(arg + 4, ':');
    uint64_t port;
    if (!colon || !parse_uint(colon + 1, 1, 65535, &port))
        return fail(c, "invalid port in '%s' (tcp::PORT, 1..65535)", arg);
    set_string(&c->o->gdb, arg);
    return 0;
}

static int opt_s(Ctx *c, const char *arg)
{
    set_string(&c->o->gdb, "tcp::1234");
    return 0;
}

static int opt_S(Ctx *c, const char *a) { c->o->start_stopped = true; return 0; }
static int opt_no_reboot(Ctx *c, const char *a) { c->o->no_reboot = true; return 0; }
static int opt_no_shutdown(Ctx *c, const char *a) { c->o->no_shutdown = true; return 0; }
static int opt_nodefaults(Ctx *c, const char *a) { c->o->nodefaults = true; return 0; }
static int opt_usb(Ctx *c, const char *a) { c->o->usb = true; return 0; }
static int opt_snapshot(Ctx *c, const char *a) { c->o->snapshot = true; return 0; }
static int opt_full_screen(Ctx *c, const char *a) { c->o->full_screen = true; return 0; }
static int opt_no_quit(Ctx *c, const char *a) { c->o->no_quit = true; return 0; }

static int opt_cpu(Ctx *c, const char *a)
{
    if (!*a)
        return fail(c, "empty CPU model name");
    set_string(&c->o->cpu_model, a);
    return 0;
}

static int opt_help(Ctx *c, const char *a)
{
    c->o->want_help = true;
    c->stop = true;
    return 0;
}

static int opt_version(Ctx *c, const char *a)
{
    c->o->want_version = true;
    c->stop = true;
    return 0;
}

/* ---- the option table ---- */

typedef struct OptDef {
    const char *name;     /* without the leading dash(es) */
    bool has_arg;
    int (*handle)(Ctx *c, const char *arg);
    const char *argname;  /* for --help; NULL when no argument */
    const char *help;     /* NULL: an alias, not listed by --help */
} OptDef;

static const OptDef opt_defs[] = {
    { "m", true, opt_m, "SIZE", "guest RAM (512 = 512 MiB; 512M, 2G, 1T; size=2G)" },
    { "smp", true, opt_smp, "N[,maxcpus=M][,sockets=S][,dies=D][,cores=C][,threads=T]",
      "CPUs (1..64) and their topology" },
    { "cpu", true, opt_cpu, "MODEL", "CPU model" },
    { "accel", true, opt_accel, "kvm|tcg[,interp=on][,thread=single|multi]", "accelerator; repeat to give fallbacks in order" },
    { "enable-kvm", false, opt_enable_kvm, NULL, "same as -accel kvm" },
    { "kernel", true, opt_kernel, "FILE", "Linux kernel (bzImage) to boot directly" },
    { "initrd", true, opt_initrd, "FILE", "initial ramdisk (needs -kernel)" },
    { "append", true, opt_append, "CMDLINE", "kernel command line (needs -kernel)" },
    { "bios", true, opt_bios, "FILE", "firmware image" },
    { "drive", true, opt_drive, "file=F,format=raw|qcow2,if=ide|floppy|virtio|none,...", "add a drive (see docs/usage.md)" },
    { "fda", true, opt_fda, "FILE", "floppy disk A:" },
    { "fdb", true, opt_fdb, "FILE", "floppy disk B:" },
    { "hda", true, opt_hda, "FILE", "IDE primary master disk" },
    { "hdb", true, opt_hdb, "FILE", "IDE primary slave disk" },
    { "hdc", true, opt_hdc, "FILE", "IDE secondary master disk" },
    { "hdd", true, opt_hdd, "FILE", "IDE secondary slave disk" },
    { "cdrom", true, opt_cdrom, "FILE", "CD-ROM image (IDE secondary master)" },
    { "boot", true, opt_boot, "[order=]DEVS[,once=DEVS][,menu=on]", "boot order: c disk, d cdrom, n network, a floppy" },
    { "snapshot", false, opt_snapshot, NULL, "write disk changes to temporary files" },
    { "debugcon", true, opt_debugcon, "stdio|file:PATH|chardev:ID|none", "debug console (port 0xe9; see -global)" },
    { "device", true, opt_device, "NAME[,PROP=V,...]", "add a device (-device help lists them)" },
    { "chardev", true, opt_chardev, "file|stdio|null|socket|pipe,id=ID,...", "a named character backend" },
    { "serial", true, opt_serial, "stdio|file:PATH|chardev:ID|none", "where the first serial port goes" },
    { "netdev", true, opt_netdev, "user|socket|stream|dgram|tap,id=ID[,...]", "network backend (see docs/devices-net.md)" },
    { "nic", true, opt_nic, "none|TYPE[,model=e1000][,mac=M][,...]", "a NIC with its own backend" },
    { "net", true, opt_net, "nic[,model=,macaddr=]|user[,...]|none", "legacy NIC/backend pair" },
    { "nographic", false, opt_nographic, NULL, "no display; serial on stdio" },
    { "display", true, opt_display, "sdl|curses|none|vnc=:N", "display backend" },
    { "vnc", true, opt_vnc, "[HOST]:N|unix:PATH|none[,websocket=on|PORT][,password=on]",
      "VNC server on port 5900+N (see docs/usage.md)" },
    { "full-screen", false, opt_full_screen, NULL, "start the SDL window in full screen" },
    { "no-quit", false, opt_no_quit, NULL, "closing the window does not end vx86" },
    { "name", true, opt_name, "NAME", "the VM's name (window title, query-name)" },
    { "vga", true, opt_vga, "std|none", "VGA card (default std)" },
    { "global", true, opt_global, "DRIVER.PROP=VALUE", "device property (isa-debugcon.iobase, VGA.vgamem_mb, VGA.edid, VGA.xres, VGA.yres)" },
    { "monitor", true, opt_monitor, "stdio|unix:PATH,server,nowait|none", "human monitor" },
    { "qmp", true, opt_qmp, "unix:PATH,server,nowait|tcp:HOST:PORT,server,nowait|stdio",
      "QMP monitor (repeatable)" },
    { "mon", true, opt_mon, "chardev=ID[,mode=readline|control]",
      "a monitor (mode=control: QMP) on a -chardev" },
    { "incoming", true, opt_incoming, "file:PATH|exec:CMD|tcp:HOST:PORT|unix:PATH|defer",
      "start paused and load a migrated/saved VM" },
    { "loadvm", true, opt_loadvm, "tag", "start from the VM snapshot tag (savevm) in the qcow2 disks" },
    { "no-reboot", false, opt_no_reboot, NULL, "exit instead of rebooting" },
    { "no-shutdown", false, opt_no_shutdown, NULL, "stop, not exit, when the guest powers off" },
    { "nodefaults", false, opt_nodefaults, NULL, "no default devices (no COM1 unless -serial, no VGA unless -vga)" },
    { "usb", false, opt_usb, NULL, "the PIIX3 USB controller (UHCI, 00:01.2) for -device usb-tablet/usb-kbd/usb-mouse" },
    { "machine", true, opt_machine, "pc[,accel=kvm:tcg]", "board type (only pc) and accelerators" },
    { "M", true, opt_machine, NULL, NULL },
    { "S", false, opt_S, NULL, "do not start the CPU at startup" },
    { "icount", true, opt_icount, "[shift=]N|auto[,sleep=on|off][,rr=record|replay,rrfile=F]",
      "count instructions: virtual time from the count; record/replay (docs/record-replay.md)" },
    { "rtc", true, opt_rtc, "[base=utc|localtime|DATETIME][,clock=vm]", "the RTC's start time" },
    { "s", false, opt_s, NULL, "same as -gdb tcp::1234" },
    { "gdb", true, opt_gdb, "tcp::PORT|unix:PATH,server", "listen for a gdb connection" },
    { "d", true, opt_d, "ITEM,...", "debug log items (-d help lists them)" },
    { "D", true, opt_D, "FILE", "write the debug log to FILE" },
    { "dfilter", true, opt_dfilter, "RANGE,...", "limit per-block log items to guest addresses (0x1000+0x100, 0x1000..0x10ff)" },
    { "h", false, opt_help, NULL, "this help (also -help, --help)" },
    { "help", false, opt_help, NULL, NULL },
    { "version", false, opt_version, NULL, "print the version" },
};

static const OptDef *opt_find(const char *name)
{
    for (size_t i = 0; i < ARRAY_SIZE(opt_defs); i++)
        if (!strcmp(opt_defs[i].name, name))
            return &opt_defs[i];
    return NULL;
}

/* A frontend's chardev:ID must name a -chardev nobody else uses. */
static int chardev_claim(Ctx *c, const char *opt, const char *id, const char **users)
{
    const ChardevOpt *d = options_find_chardev(c->o, id);
    c->opt = opt;
    if (!d)
        return fail(c, "chardev '%s' not found (no -chardev ...,id=%s)", id, id);
    int i = (int)(d - c->o->chardevs);
    if (users[i])
        return fail_line(c, "%s: chardev '%s' is already used by %s", opt, id, users[i]);
    users[i] = opt;
    return 0;
}

static int check_chardev_users(Ctx *c)
{
    VMOptions *o = c->o;
    const char *users[MAX_CHARDEVS] = { NULL };
    if (o->serial == SERIAL_CHARDEV && chardev_claim(c, "-serial", o->serial_path, users) < 0)
        return -1;
    if (o->debugcon == SERIAL_CHARDEV &&
        chardev_claim(c, "-debugcon", o->debugcon_path, users) < 0)
        return -1;
    for (int i = 0; i < o->ndevices; i++) {
        DeviceOpt *d = &o->devices[i];
        if (d->type == DEVICE_ISA_DEBUGCON && d->iobase == DEBUGCON_GLOBAL_PORT)
            d->iobase = o->debugcon_port;
        const char *who = d->type == DEVICE_VIRTCONSOLE ? "-device virtconsole"
                        : d->type == DEVICE_VIRTSERIALPORT ? "-device virtserialport"
                        : "-device isa-debugcon";
        if (d->chardev && chardev_claim(c, who, d->chardev, users) < 0)
            return -1;
    }
    for (int i = 0; i < o->nmons; i++)
        if (chardev_claim(c, "-mon", o->mons[i].chardev, users) < 0)
            return -1;
    return 0;
}

/* Checks that need the whole command line. */
static int options_finish(Ctx *c)
{
    VMOptions *o = c->o;
    if (check_chardev_users(c) < 0)
        return -1;
    if (o->initrd && !o->kernel) {
        c->opt = "-initrd";
        return fail(c, "needs -kernel");
    }
    if (o->append && !o->kernel) {
        c->opt = "-append";
        return fail(c, "needs -kernel");
    }
    if (o->icount_shift != ICOUNT_OFF) {
        /* Only the translator counts instructions: tcg unless told. */
        c->opt = "-icount";
        for (int i = 0; i < o->naccels; i++)
            if (!strcmp(o->accels[i].name, "kvm"))
                return fail(c, "not supported with -accel kvm (only tcg counts instructions)");
        /* The count, the replay log and reverse debugging follow one CPU;
         * several would need a recorded schedule of their turns. */
        if (o->smp > 1)
            return fail(c, "not supported with -smp %d (instruction counting and "
                        "record/replay run one CPU)", o->smp);
        if (o->naccels == 0)
            o->accels[o->naccels++] = (AccelOpt){ .name = "tcg" };
    }
    if (o->nographic && (o->display == DISPLAY_SDL || o->display == DISPLAY_CURSES)) {
        c->opt = "-nographic";
        return fail(c, "cannot be combined with -display %s",
                    o->display == DISPLAY_SDL ? "sdl" : "curses");
    }
    if (o->nographic) {
        o->display = DISPLAY_NONE;
        if (!o->serial_given)
            o->serial = SERIAL_STDIO;
    }
    /* A virtio port goes on a virtio-serial-pci given before it (bus=ID.0
     * names one by its id). */
    for (int i = 0; i < o->ndevices; i++) {
        const DeviceOpt *p = &o->devices[i];
        if (p->type != DEVICE_VIRTCONSOLE && p->type != DEVICE_VIRTSERIALPORT)
            continue;
        bool found = false;
        for (int k = 0; k < i && !found; k++)
            found = o->devices[k].type == DEVICE_VIRTIO_SERIAL &&
                    (!p->bus[0] || (strlen(o->devices[k].id) == strlen(p->bus) - 2 &&
                                    !strncmp(o->devices[k].id, p->bus, strlen(p->bus) - 2)));
        if (!found) {
            c->opt = "-device";
            return fail(c, "%s: no virtio-serial-pci%s%.*s before it",
                        p->type == DEVICE_VIRTCONSOLE ? "virtconsole" : "virtserialport",
                        p->bus[0] ? " with id=" : "", p->bus[0] ? (int)strlen(p->bus) - 2 : 0,
                        p->bus);
        }
    }
    /* Each virtio-blk-pci, scsi-hd and scsi-cd names an if=none drive no
     * other device uses. */
    for (int i = 0; i < o->ndevices; i++) {
        const DeviceOpt *v = &o->devices[i];
        if (!device_takes_drive(v->type) || !v->drive[0])
            continue;
        const char *name = device_type_name(v->type);
        c->opt = "-device";
        int found = -1;
        for (int k = 0; k < o->ndrives; k++)
            if (!strcmp(o->drives[k].id, v->drive))
                found = k;
        if (found < 0)
            return fail(c, "%s: no -drive with id=%s", name, v->drive);
        if (o->drives[found].iface != DRIVE_IF_NONE)
            return fail(c, "%s: drive %s is already attached (use if=none)", name, v->drive);
        if (o->drives[found].media == DRIVE_MEDIA_CDROM && v->type != DEVICE_SCSI_CD)
            return fail(c, "%s: drive %s is a CD-ROM", name, v->drive);
        for (int k = 0; k < i; k++)
            if (device_takes_drive(o->devices[k].type) && !strcmp(o->devices[k].drive, v->drive))
                return fail(c, "%s: drive %s is used twice", name, v->drive);
    }
    for (int i = 0; i < o->ndrives; i++)
        for (int k = 0; k < i; k++)
            if (o->drives[i].id[0] && !strcmp(o->drives[i].id, o->drives[k].id)) {
                c->opt = "-drive";
                return fail(c, "id=%s given twice", o->drives[i].id);
            }
    /* QEMU's pc default: one e1000 on user networking, unless any of
     * -net/-nic/-netdev or -nodefaults was given. */
    if (!o->net_given && !o->nodefaults) {
        o->netdevs[o->nnetdevs].spec = xstrdup("user");
        snprintf(o->netdevs[o->nnetdevs].id, sizeof o->netdevs[0].id, "__net");
        o->nnetdevs++;
        snprintf(o->nics[o->nnics].model, sizeof o->nics[0].model, "e1000");
        snprintf(o->nics[o->nnics].netdev, sizeof o->nics[0].netdev, "__net");
        o->nics[o->nnics].has_mac = false;
        o->nnics++;
    }
    for (int i = 0; i < o->nnics; i++) {
        const NicOpt *n = &o->nics[i];
        bool found = !n->netdev[0];
        for (int k = 0; k < o->nnetdevs && !found; k++)
            found = !strcmp(o->netdevs[k].id, n->netdev);
        if (!found) {
            c->opt = "-device";
            return fail(c, "%s: no -netdev with id=%s", n->model,
                        strcmp(n->netdev, "__net") ? n->netdev : "(-net backend)");
        }
        for (int k = 0; k < i; k++)
            if (n->netdev[0] && !strcmp(o->nics[k].netdev, n->netdev) && strcmp(n->netdev, "__net")) {
                c->opt = "-device";
                return fail(c, "netdev %s is used by two NICs", n->netdev);
            }
    }
    /* A writable disk image must be writable, unless writes go to a
     * temporary overlay. */
    for (int i = 0; i < o->ndrives; i++) {
        DriveOpt *d = &o->drives[i];
        if (!d->file || d->readonly || d->snapshot || o->snapshot)
            continue;
        if (access(d->file, W_OK) < 0) {
            c->opt = d->opt;
            return fail(c, "%s: %s (use readonly=on or -snapshot)", d->file, strerror(errno));
        }
    }
    return 0;
}

void options_init(VMOptions *o)
{
    memset(o, 0, sizeof(*o));
    o->ram_size = RAM_DEFAULT;
    o->smp = o->smp_maxcpus = 1;
    o->smp_sockets = o->smp_dies = o->smp_cores = o->smp_threads = 1;
    o->serial = SERIAL_NONE;
    o->display = DISPLAY_DEFAULT;
    o->debugcon = SERIAL_NONE;
    o->debugcon_port = 0xe9;
    o->icount_shift = ICOUNT_OFF;
    o->icount_sleep = true;
    o->rtc_base = -1;
}

void options_free(VMOptions *o)
{
    for (int i = 0; i < o->ndrives; i++) {
        free(o->drives[i].file);
        free(o->drives[i].format);
    }
    free(o->kernel);
    free(o->initrd);
    free(o->append);
    free(o->bios);
    free(o->serial_path);
    free(o->debugcon_path);
    free(o->monitor);
    vnc_opt_clear(&o->vnc);
    for (int i = 0; i < o->nqmp; i++)
        free(o->qmp[i]);
    for (int i = 0; i < o->nmons; i++)
        free(o->mons[i].chardev);
    free(o->incoming);
    free(o->loadvm);
    free(o->name);
    free(o->log_file);
    free(o->cpu_model);
    free(o->gdb);
    free(o->rr_file);
    for (int i = 0; i < o->nchardevs; i++)
        chardev_opt_free(&o->chardevs[i]);
    for (int i = 0; i < o->ndevices; i++) {
        free(o->devices[i].chardev);
        free(o->devices[i].port_name);
    }
    for (int i = 0; i < o->nnetdevs; i++)
        free(o->netdevs[i].spec);
    memset(o, 0, sizeof(*o));
}

/* Options that change nothing the guest sees (debugging, logging, host
 * controls, and -icount itself, whose shift the replay log keeps apart):
 * left out of VMOptions.cmdline_hash, so a replay may add a debugger. */
static const char *const host_only_opts[] = {
    "icount", "accel", "s", "S", "gdb", "d", "D", "dfilter", "monitor", "qmp", "name", "no-quit",
    "full-screen",
};

/* Options whose argument only says where host-side bytes go (a file, a
 * socket): the option counts, its argument does not. */
static const char *const host_arg_opts[] = { "serial", "debugcon", "chardev" };

static bool in_list(const char *const *l, size_t n, const char *name)
{
    for (size_t i = 0; i < n; i++)
        if (!strcmp(l[i], name))
            return true;
    return false;
}

/* FNV-1a over s and its terminating NUL. */
static uint64_t hash_str(uint64_t h, const char *s)
{
    do {
        h = (h ^ (uint8_t)*s) * 0x100000001b3ULL;
    } while (*s++);
    return h;
}

int options_parse(VMOptions *o, int argc, char **argv, char *err, size_t errlen)
{
    Ctx c = { .o = o, .opt = "", .err = err, .errlen = errlen };
    char optname[64];
    if (err && errlen)
        err[0] = '\0';
    o->cmdline_hash = 0xcbf29ce484222325ULL;
    for (int i = 1; i < argc && !c.stop; i++) {
        const char *a = argv[i];
        if (a[0] != '-') {
            o->cmdline_hash = hash_str(o->cmdline_hash, a);
            /* QEMU takes a bare argument as the first disk image. */
            c.opt = "-hda";
            if (opt_hda(&c, a) < 0)
                return -1;
            continue;
        }
        const char *name = a + 1 + (a[1] == '-');
        const OptDef *def = opt_find(name);
        if (!def)
            return fail_line(&c, "unknown option '%s' (see --help)", a);
        snprintf(optname, sizeof(optname), "-%s", def->name);
        c.opt = optname;
        const char *arg = NULL;
        if (def->has_arg) {
            if (i + 1 >= argc)
                return fail(&c, "missing argument");
            arg = argv[++i];
        }
        if (!in_list(host_only_opts, ARRAY_SIZE(host_only_opts), def->name)) {
            o->cmdline_hash = hash_str(o->cmdline_hash, def->name);
            if (arg && !in_list(host_arg_opts, ARRAY_SIZE(host_arg_opts), def->name))
                o->cmdline_hash = hash_str(o->cmdline_hash, arg);
        }
        if (def->handle(&c, arg) < 0)
            return -1;
    }
    if (c.stop)
        return 0;
    return options_finish(&c);
}

void options_print_help(FILE *f)
{
    fprintf(f, "Usage: vx86 [options] [disk-image]\n"
               "A PC emulator.  Options follow qemu-system-x86_64; -opt and --opt are the same.\n\n");
    for (size_t i = 0; i < ARRAY_SIZE(opt_defs); i++) {
        const OptDef *d = &opt_defs[i];
        char left[80];
        if (!d->help)
            continue;                     /* an alias listed with its twin */
        snprintf(left, sizeof(left), "-%s%s%s", d->name, d->argname ? " " : "",
                 d->argname ? d->argname : "");
        if (strlen(left) > 24)
            fprintf(f, "  %s\n  %-24s %s\n", left, "", d->help);
        else
            fprintf(f, "  %-24s %s\n", left, d->help);
    }
    fprintf(f, "\nSee docs/usage.md for details.\n");
}
