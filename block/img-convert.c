/*
 * vx86-img convert, compare, map, measure, commit and rebase.
 */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "block/img.h"
#include "core/util.h"

#define CHUNK (2u << 20)          /* a multiple of every cluster size */

static bool all_zero(const uint8_t *p, size_t n)
{
    /* zero first byte, and every byte equal to the one before it (memcmp
     * runs vectorised: an order of magnitude faster than a byte loop) */
    return !n || (!p[0] && !memcmp(p, p + 1, n - 1));
}

static void progress(bool on, uint64_t done, uint64_t total)
{
    if (!on)
        return;
    printf("    (%3.2f/100%%)\r", total ? 100.0 * (double)done / (double)total : 100.0);
    fflush(stdout);
}

/* ---- convert ---- */

/* Chunks are copied by CONVERT_THREADS threads at once (each reads a
 * chunk, then writes its runs of non-zero blocks), so reading one chunk
 * overlaps writing another, as qemu-img's parallel requests do; the
 * format drivers take concurrent requests (the block layer's own worker
 * threads issue them).  Compressed output is written by one thread. */
#define CONVERT_THREADS 4

typedef struct ConvertJob {
    BlockBackend *in, *out;
    Qcow2 *q;                     /* output, for -c */
    uint64_t size, bs;
    bool compress, prog;
    pthread_mutex_t lock;
    uint64_t next;                /* next chunk to copy */
    uint64_t done;                /* bytes copied (progress) */
    int err;                      /* first error */
} ConvertJob;

/* Copies one chunk: 0 or -errno. */
static int convert_chunk(ConvertJob *j, uint8_t *buf, uint64_t off, size_t n)
{
    int r = blk_pread(j->in, off, buf, n);
    for (size_t k = 0; k < n && r == 0;) {
        size_t m = (size_t)MIN(j->bs, n - k);
        if (all_zero(buf + k, m)) {
            k += m;
            continue;             /* sparse output */
        }
        if (j->compress) {
            r = qcow2_write_compressed(j->q, off + k, buf + k, m);
            k += m;
            continue;
        }
        /* one write for the whole run of blocks that are not zero */
        size_t run = m;
        while (k + run < n) {
            size_t next = (size_t)MIN(j->bs, n - k - run);
            if (all_zero(buf + k + run, next))
                break;
            run += next;
        }
        r = blk_pwrite(j->out, off + k, buf + k, run);
        k += run;
    }
    return r;
}

static void *convert_thread(void *opaque)
{
    ConvertJob *j = opaque;
    uint8_t *buf = xmalloc(CHUNK);
    for (;;) {
        pthread_mutex_lock(&j->lock);
        uint64_t off = j->next;
        bool stop = j->err || off >= j->size;
        j->next += CHUNK;
        pthread_mutex_unlock(&j->lock);
        if (stop)
            break;
        size_t n = (size_t)MIN((uint64_t)CHUNK, j->size - off);
        int r = convert_chunk(j, buf, off, n);
        pthread_mutex_lock(&j->lock);
        if (r < 0 && !j->err)
            j->err = r;
        j->done += n;
        progress(j->prog, j->done, j->size);
        pthread_mutex_unlock(&j->lock);
    }
    free(buf);
    return NULL;
}

int img_cmd_convert(int argc, char **argv)
{
    const char *fmt = NULL, *ofmt = "raw", *opts = NULL;
    bool compress = false, prog = false, quiet = false;
    /* qemu-img convert's defaults: the output is not flushed (a convert
     * cut short is redone anyway), the source is read through the cache */
    BlockCacheMode ocache = BLK_CACHE_UNSAFE, icache = BLK_CACHE_WRITEBACK;
    int c;
    optind = 1;
    while ((c = getopt(argc, argv, "f:O:o:cpqUS:nt:T:")) != -1) {
        switch (c) {
        case 't':
            if (!img_parse_cache(optarg, &ocache))
                return 1;
            break;
        case 'T':
            if (!img_parse_cache(optarg, &icache))
                return 1;
            break;
        case 'f': fmt = optarg; break;
        case 'O': ofmt = optarg; break;
        case 'o': opts = optarg; break;
        case 'c': compress = true; break;
        case 'p': prog = true; break;
        case 'q': quiet = true; break;
        case 'U': case 'S': case 'n': break;
        default: return 1;
        }
    }
    if (argc - optind != 2) {
        img_error("Expecting one source and one output file name");
        return 1;
    }
    if (quiet)
        prog = false;
    const char *src = argv[optind], *dst = argv[optind + 1];
    if (compress && strcmp(ofmt, "qcow2")) {
        img_error("Compression not supported for this file format");
        return 1;
    }
    BlockBackend *in = img_open_cache(src, fmt, false, false, icache);
    if (!in)
        return 1;
    ImgCreateOpts o = { 0 };
    if (!img_parse_create_opts(opts, &o)) {
        blk_close(in);
        return 1;
    }
    o.q.size = blk_size(in);
    if (img_create_image(dst, ofmt, &o, true)) {
        blk_close(in);
        return 1;
    }
    BlockBackend *out = img_open_cache(dst, ofmt, true, true, ocache);
    if (!out) {
        blk_close(in);
        return 1;
    }
    Qcow2 *q = img_qcow2(out);
    ConvertJob j = { .in = in, .out = out, .q = q, .size = blk_size(in),
                     .bs = q ? q->cluster_size : 4096, .compress = compress, .prog = prog };
    pthread_mutex_init(&j.lock, NULL);
    progress(prog, 0, j.size);
    int nt = compress ? 1 : CONVERT_THREADS;
    pthread_t t[CONVERT_THREADS];
    for (int i = 0; i < nt; i++)
        if (pthread_create(&t[i], NULL, convert_thread, &j)) {
            nt = i;
            break;
        }
    if (nt == 0)
        convert_thread(&j);       /* no thread to be had: do it here */
    for (int i = 0; i < nt; i++)
        pthread_join(t[i], NULL);
    pthread_mutex_destroy(&j.lock);
    int r = j.err;
    if (prog)
        printf("\n");
    if (r == 0)
        r = blk_flush(out);
    blk_close(out);
    blk_close(in);
    if (r < 0) {
        img_error("error while converting %s: %s", ofmt, strerror(-r));
        return 1;
    }
    return 0;
}

/* ---- compare ---- */

int img_cmd_compare(int argc, char **argv)
{
    const char *f1 = NULL, *f2 = NULL;
    bool strict = false, prog = false, quiet = false;
    int c;
    optind = 1;
    while ((c = getopt(argc, argv, "f:F:spqU")) != -1) {
        switch (c) {
        case 'f': f1 = optarg; break;
        case 'F': f2 = optarg; break;
        case 's': strict = true; break;
        case 'p': prog = true; break;
        case 'q': quiet = true; break;
        case 'U': break;
        default: return 2;
        }
    }
    if (argc - optind != 2) {
        img_error("Expecting two image file names");
        return 2;
    }
    BlockBackend *a = img_open(argv[optind], f1, false, false);
    if (!a)
        return 2;
    BlockBackend *b = img_open(argv[optind + 1], f2 ? f2 : f1, false, false);
    if (!b) {
        blk_close(a);
        return 2;
    }
    uint64_t sa = blk_size(a), sb = blk_size(b), common = MIN(sa, sb), big = MAX(sa, sb);
    if (sa != sb && strict) {
        if (!quiet)
            printf("Strict mode: Image size mismatch!\n");
        blk_close(a);
        blk_close(b);
        return 1;
    }
    uint8_t *x = xmalloc(CHUNK), *y = xmalloc(CHUNK);
    int rc = 0;
    for (uint64_t off = 0; off < big && rc == 0; off += CHUNK) {
        size_t n = (size_t)MIN((uint64_t)CHUNK, big - off);
        size_t na = off < sa ? (size_t)MIN((uint64_t)n, sa - off) : 0;
        size_t nb = off < sb ? (size_t)MIN((uint64_t)n, sb - off) : 0;
        memset(x, 0, n);
        memset(y, 0, n);
        if ((na && blk_pread(a, off, x, na) < 0) || (nb && blk_pread(b, off, y, nb) < 0)) {
            img_error("Error while reading offset %" PRIu64, off);
            rc = 2;
            break;
        }
        if (memcmp(x, y, n)) {
            size_t i = 0;
            while (x[i] == y[i])
                i++;
            uint64_t at = (off + i) & ~511ull;
            if (!quiet) {
                if (off + i >= common)
                    printf("Content mismatch at offset %" PRIu64 "!\n", at);
                else
                    printf("Content mismatch at offset %" PRIu64 "!\n", at);
            }
            rc = 1;
        }
        progress(prog, off + n, big);
    }
    free(x);
    free(y);
    if (rc == 0 && !quiet) {
        if (sa != sb)
            printf("Warning: Image size mismatch!\n");
        printf("Images are identical.\n");
    }
    blk_close(a);
    blk_close(b);
    return rc;
}

/* ---- map ---- */

typedef struct MapEnt {
    uint64_t start, length;
    int depth;
    bool present, zero, data;
    uint64_t offset;              /* ~0: none */
    const char *file;
} MapEnt;

/* The status of [off, off + *len) in bb (shrinking *len to a run of one kind). */
static int map_status(BlockBackend *bb, uint64_t off, uint64_t *len, MapEnt *e, int depth)
{
    Qcow2 *q = img_qcow2(bb);
    e->depth = depth;
    e->file = blk_filename(bb);
    if (!q) {
        e->present = e->data = true;
        e->zero = false;
        e->offset = off;
        return 0;
    }
    uint64_t cs = q->cluster_size, in = off & (cs - 1);
    *len = MIN(*len, cs - in);
    Qcow2Mapping m;
    int r = qcow2_get_mapping(q, off, &m);
    if (r < 0)
        return r;
    if (m.kind == QC_COMPRESSED) {
        e->present = e->data = true;
        e->zero = false;
        e->offset = ~0ull;
        return 0;
    }
    unsigned s = (unsigned)(in / q->sub_size);
    *len = MIN(*len, (s + 1) * q->sub_size - in);
    uint32_t bit = 1u << s;
    if (m.alloc & bit) {
        e->present = e->data = true;
        e->zero = false;
        e->offset = m.host + in;
        return 0;
    }
    if (m.zero & bit) {
        e->present = e->zero = true;
        e->data = false;
        e->offset = ~0ull;
        return 0;
    }
    if (q->backing && off < q->backing_size) {
        *len = MIN(*len, q->backing_size - off);
        return map_status(q->backing, off, len, e, depth + 1);
    }
    e->present = e->data = false;
    e->zero = true;
    e->offset = ~0ull;
    e->depth = depth;
    e->file = blk_filename(bb);
    return 0;
}

static void map_print(const MapEnt *e, bool json, bool *first)
{
    if (json) {
        printf("%s{ \"start\": %" PRIu64 ", \"length\": %" PRIu64 ", \"depth\": %d, "
               "\"present\": %s, \"zero\": %s, \"data\": %s", *first ? "[" : ",\n",
               e->start, e->length, e->depth, e->present ? "true" : "false",
               e->zero ? "true" : "false", e->data ? "true" : "false");
        if (e->offset != ~0ull)
            printf(", \"offset\": %" PRIu64, e->offset);
        printf("}");
    } else if (e->data && e->offset != ~0ull) {
        printf("%#-15" PRIx64 " %#-15" PRIx64 " %#-15" PRIx64 " %s\n", e->start, e->length,
               e->offset, e->file);
    }
    *first = false;
}

int img_cmd_map(int argc, char **argv)
{
    const char *fmt = NULL, *output = "human";
    static const struct option lo[] = {
        { "output", required_argument, NULL, 'O' },
        { "force-share", no_argument, NULL, 'U' },
        { NULL, 0, NULL, 0 },
    };
    int c;
    optind = 1;
    while ((c = getopt_long(argc, argv, "f:U", lo, NULL)) != -1) {
        switch (c) {
        case 'f': fmt = optarg; break;
        case 'O': output = optarg; break;
        case 'U': break;
        default: return 1;
        }
    }
    if (optind >= argc) {
        img_error("Expecting one image file name");
        return 1;
    }
    bool json = !strcmp(output, "json");
    BlockBackend *bb = img_open(argv[optind], fmt, false, false);
    if (!bb)
        return 1;
    uint64_t size = blk_size(bb);
    if (!json)
        printf("%-16s%-16s%-16s%s\n", "Offset", "Length", "Mapped to", "File");
    MapEnt cur = { 0 };
    bool have = false, first = true;
    int r = 0;
    for (uint64_t off = 0; off < size && r == 0;) {
        uint64_t len = size - off;
        MapEnt e = { .start = off };
        if ((r = map_status(bb, off, &len, &e, 0)) < 0)
            break;
        e.length = len;
        if (have && cur.depth == e.depth && cur.present == e.present && cur.zero == e.zero &&
            cur.data == e.data && cur.file == e.file &&
            ((cur.offset == ~0ull && e.offset == ~0ull) ||
             (cur.offset != ~0ull && e.offset == cur.offset + cur.length))) {
            cur.length += len;
        } else {
            if (have)
                map_print(&cur, json, &first);
            cur = e;
            have = true;
        }
        off += len;
    }
    if (have)
        map_print(&cur, json, &first);
    if (json)
        printf(first ? "[]\n" : "]\n");
    blk_close(bb);
    if (r < 0) {
        img_error("Could not read the image map: %s", strerror(-r));
        return 1;
    }
    return 0;
}

/* ---- measure ---- */

int img_cmd_measure(int argc, char **argv)
{
    const char *fmt = NULL, *ofmt = "raw", *opts = NULL, *output = "human", *sizestr = NULL;
    static const struct option lo[] = {
        { "output", required_argument, NULL, 'J' },
        { "size", required_argument, NULL, 'S' },
        { "force-share", no_argument, NULL, 'U' },
        { NULL, 0, NULL, 0 },
    };
    int c;
    optind = 1;
    while ((c = getopt_long(argc, argv, "f:O:o:U", lo, NULL)) != -1) {
        switch (c) {
        case 'f': fmt = optarg; break;
        case 'O': ofmt = optarg; break;
        case 'o': opts = optarg; break;
        case 'J': output = optarg; break;
        case 'S': sizestr = optarg; break;
        case 'U': break;
        default: return 1;
        }
    }
    if (!sizestr == (optind >= argc)) {
        img_error(sizestr ? "--size N cannot be used together with a filename."
                          : "Either --size N or one filename must be specified.");
        return 1;
    }
    ImgCreateOpts o = { 0 };
    if (!img_parse_create_opts(opts, &o))
        return 1;
    uint64_t size, data = 0;
    uint64_t cs = o.q.cluster_size ? o.q.cluster_size : 65536;
    if (sizestr) {
        if (!img_parse_size(sizestr, &size)) {
            img_error("Invalid image size specified.");
            return 1;
        }
    } else {
        BlockBackend *bb = img_open(argv[optind], fmt, false, false);
        if (!bb)
            return 1;
        size = blk_size(bb);
        uint8_t *buf = xmalloc(cs);
        for (uint64_t off = 0; off < size; off += cs) {
            size_t n = (size_t)MIN(cs, size - off);
            if (blk_pread(bb, off, buf, n) == 0 && !all_zero(buf, n))
                data += cs;
        }
        free(buf);
        blk_close(bb);
    }
    uint64_t required, full;
    if (!strcmp(ofmt, "qcow2")) {
        unsigned order = 0;
        while ((1u << order) < (o.q.refcount_bits ? o.q.refcount_bits : 16))
            order++;
        full = img_qcow2_prealloc_size(size, cs, order, o.q.extended_l2);
        required = o.q.prealloc_metadata ? full : full - (size + cs - 1) / cs * cs + data;
    } else if (!strcmp(ofmt, "raw")) {
        full = size;
        required = sizestr ? size : data;
    } else {
        img_error("Unknown file format '%s'", ofmt);
        return 1;
    }
    if (!strcmp(output, "json"))
        printf("{\n    \"required\": %" PRIu64 ",\n    \"fully-allocated\": %" PRIu64 "\n}\n",
               required, full);
    else
        printf("required size: %" PRIu64 "\nfully allocated size: %" PRIu64 "\n", required, full);
    return 0;
}

/* ---- commit ---- */

int img_cmd_commit(int argc, char **argv)
{
    const char *fmt = NULL;
    bool keep = false;
    int c;
    optind = 1;
    while ((c = getopt(argc, argv, "f:dqpt:b:")) != -1) {
        switch (c) {
        case 'f': fmt = optarg; break;
        case 'd': keep = true; break;
        case 'q': case 'p': case 't': case 'b': break;
        default: return 1;
        }
    }
    if (optind >= argc) {
        img_error("Expecting one image file name");
        return 1;
    }
    const char *file = argv[optind];
    if (fmt && strcmp(fmt, "qcow2")) {
        img_error("Block format '%s' does not support committing", fmt);
        return 1;
    }
    BlockFile f;
    char err[1024];
    if (bfile_open(&f, file, true, BLK_CACHE_WRITEBACK, err, sizeof err) < 0) {
        img_error("Could not open '%s': %s", file, err);
        return 1;
    }
    if (blk_lock_image(f.fd, file, true, err, sizeof err) < 0) {
        img_error("Could not open '%s': %s", file, err);
        bfile_close(&f);
        return 1;
    }
    Qcow2 *q = qcow2_open(&f, QCOW2_OPEN_NO_BACKING, err, sizeof err);
    if (!q) {
        img_error("Could not open '%s': %s", file, err);
        bfile_close(&f);
        return 1;
    }
    if (!q->backing_name) {
        img_error("Image does not have a backing file");
        qcow2_close(q);
        bfile_close(&f);
        return 1;
    }
    char *path = q->backing_name[0] == '/' || !strchr(file, '/') ? xstrdup(q->backing_name) : NULL;
    if (!path) {
        char *d = xstrdup(file);
        *strrchr(d, '/') = 0;
        path = xasprintf("%s/%s", d, q->backing_name);
        free(d);
    }
    BlockBackend *base = img_open(path, q->backing_fmt, true, true);
    free(path);
    if (!base) {
        qcow2_close(q);
        bfile_close(&f);
        return 1;
    }
    uint64_t cs = q->cluster_size, size = MIN(q->size, blk_size(base));
    uint8_t *buf = xmalloc(cs);
    int r = 0;
    for (uint64_t off = 0; off < size && r == 0; off += cs) {
        Qcow2Mapping m;
        if ((r = qcow2_get_mapping(q, off, &m)) < 0)
            break;
        size_t n = (size_t)MIN(cs, size - off);
        if (m.kind == QC_COMPRESSED) {
            r = qcow2_read(q, off, buf, n);
            if (r == 0)
                r = blk_pwrite(base, off, buf, n);
            continue;
        }
        for (unsigned s = 0; s < q->nsub && r == 0; s++) {
            uint64_t so = off + s * q->sub_size;
            if (so >= size)
                break;
            size_t sn = (size_t)MIN(q->sub_size, size - so);
            if (m.alloc & (1u << s)) {
                r = qcow2_read(q, so, buf, sn);
                if (r == 0)
                    r = blk_pwrite(base, so, buf, sn);
            } else if (m.zero & (1u << s)) {
                memset(buf, 0, sn);
                r = blk_pwrite(base, so, buf, sn);
            }
        }
    }
    free(buf);
    if (r == 0)
        r = blk_flush(base);
    if (r == 0 && !keep)
        r = qcow2_discard(q, 0, q->size);
    if (r == 0)
        r = qcow2_flush(q);
    blk_close(base);
    qcow2_close(q);
    bfile_close(&f);
    if (r < 0) {
        img_error("Block job failed: %s", strerror(-r));
        return 1;
    }
    printf("Image committed.\n");
    return 0;
}

/* ---- rebase ---- */

int img_cmd_rebase(int argc, char **argv)
{
    const char *fmt = NULL, *base = NULL, *base_fmt = NULL;
    bool unsafe = false;
    int c;
    optind = 1;
    while ((c = getopt(argc, argv, "f:b:F:uqpt:T:U")) != -1) {
        switch (c) {
        case 'f': fmt = optarg; break;
        case 'b': base = optarg; break;
        case 'F': base_fmt = optarg; break;
        case 'u': unsafe = true; break;
        case 'q': case 'p': case 't': case 'T': case 'U': break;
        default: return 1;
        }
    }
    if (optind >= argc || !base) {
        img_error(!base ? "Must specify backing file (-b) or use unsafe mode (-u)"
                        : "Expecting one image file name");
        return 1;
    }
    const char *file = argv[optind];
    const char *name = *base ? base : NULL;
    char err[1024];
    if (unsafe) {
        BlockFile f;
        if (bfile_open(&f, file, true, BLK_CACHE_WRITEBACK, err, sizeof err) < 0 ||
            blk_lock_image(f.fd, file, true, err, sizeof err) < 0) {
            img_error("Could not open '%s': %s", file, err);
            return 1;
        }
        Qcow2 *q = qcow2_open(&f, QCOW2_OPEN_NO_BACKING, err, sizeof err);
        int r = q ? qcow2_set_backing(q, name, base_fmt, err, sizeof err) : -1;
        if (r < 0)
            img_error("Could not change the backing file to '%s': %s", base, err);
        qcow2_close(q);
        bfile_close(&f);
        return r < 0 ? 1 : 0;
    }
    BlockBackend *bb = img_open(file, fmt, true, true);
    if (!bb)
        return 1;
    Qcow2 *q = img_qcow2(bb);
    if (!q) {
        img_error("Could not change the backing file to '%s': Operation not supported", base);
        blk_close(bb);
        return 1;
    }
    BlockBackend *nb = NULL;
    if (name) {
        char *path = name[0] == '/' || !strchr(file, '/') ? xstrdup(name) : NULL;
        if (!path) {
            char *d = xstrdup(file);
            *strrchr(d, '/') = 0;
            path = xasprintf("%s/%s", d, name);
            free(d);
        }
        nb = img_open(path, base_fmt, false, false);
        free(path);
        if (!nb) {
            blk_close(bb);
            return 1;
        }
    }
    uint64_t cs = q->cluster_size, size = q->size, nsize = nb ? blk_size(nb) : 0;
    uint8_t *old = xmalloc(cs), *neu = xmalloc(cs);
    int r = 0;
    for (uint64_t off = 0; off < size && r == 0; off += q->sub_size) {
        Qcow2Mapping m;
        if ((r = qcow2_get_mapping(q, off, &m)) < 0)
            break;
        unsigned s = (unsigned)((off & (cs - 1)) / q->sub_size);
        if (m.kind == QC_COMPRESSED || (m.alloc | m.zero) & (1u << s))
            continue;             /* the image's own data: unaffected */
        size_t n = (size_t)MIN(q->sub_size, size - off);
        r = qcow2_read(q, off, old, n);
        memset(neu, 0, n);
        if (r == 0 && nb && off < nsize)
            r = blk_pread(nb, off, neu, (size_t)MIN((uint64_t)n, nsize - off));
        if (r == 0 && memcmp(old, neu, n))
            r = qcow2_write(q, off, old, n);
    }
    free(old);
    free(neu);
    blk_close(nb);
    if (r == 0)
        r = qcow2_flush(q);
    if (r == 0)
        r = qcow2_set_backing(q, name, base_fmt, err, sizeof err);
    else
        snprintf(err, sizeof err, "%s", strerror(-r));
    blk_close(bb);
    if (r < 0) {
        img_error("Could not change the backing file to '%s': %s", base, err);
        return 1;
    }
    return 0;
}
