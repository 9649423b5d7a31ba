/*
 * vx86-img helpers: sizes, opening images, create options, creation.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "block/img.h"
#include "core/util.h"

void img_error(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fputs("vx86-img: ", stderr);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
}

bool img_parse_size(const char *s, uint64_t *out)
{
    char *end;
    errno = 0;
    if (!s || !*s || *s == '-')
        return false;
    double d = strtod(s, &end);
    if (errno || end == s)
        return false;
    uint64_t mul = 1;
    switch (*end) {
    case 0: break;
    case 'b': case 'B': end++; break;
    case 'k': case 'K': mul = 1ull << 10; end++; break;
    case 'm': case 'M': mul = 1ull << 20; end++; break;
    case 'g': case 'G': mul = 1ull << 30; end++; break;
    case 't': case 'T': mul = 1ull << 40; end++; break;
    case 'p': case 'P': mul = 1ull << 50; end++; break;
    case 'e': case 'E': mul = 1ull << 60; end++; break;
    default: return false;
    }
    if (*end || d < 0 || d * (double)mul >= 18446744073709551616.0)
        return false;
    *out = (uint64_t)(d * (double)mul);
    return true;
}

void img_size_str(uint64_t v, char *buf, size_t len)
{
    blk_size_str(v, buf, len);
}

bool img_parse_cache(const char *s, BlockCacheMode *out)
{
    static const struct { const char *name; BlockCacheMode mode; } modes[] = {
        { "writeback", BLK_CACHE_WRITEBACK }, { "none", BLK_CACHE_NONE },
        { "unsafe", BLK_CACHE_UNSAFE }, { "directsync", BLK_CACHE_DIRECTSYNC },
        { "writethrough", BLK_CACHE_WRITETHROUGH },
    };
    for (size_t i = 0; i < ARRAY_SIZE(modes); i++)
        if (!strcmp(s, modes[i].name)) {
            *out = modes[i].mode;
            return true;
        }
    img_error("Invalid cache option: %s", s);
    return false;
}

BlockBackend *img_open(const char *file, const char *fmt, bool writable, bool lock)
{
    return img_open_cache(file, fmt, writable, lock, BLK_CACHE_WRITEBACK);
}

BlockBackend *img_open_cache(const char *file, const char *fmt, bool writable, bool lock,
                             BlockCacheMode cache)
{
    BlockOpenOptions o = {
        .filename = file, .format = fmt, .read_only = !writable,
        .cache = cache, .no_lock = !lock,
    };
    char err[1024];
    BlockBackend *bb = blk_open(&o, err, sizeof err);
    if (!bb)
        img_error("Could not open '%s': %s", file, err);
    return bb;
}

Qcow2 *img_qcow2(BlockBackend *bb)
{
    return strcmp(blk_format_name(bb), "qcow2") ? NULL : blk_get_driver_state(bb);
}

static bool parse_bool(const char *v, bool *out)
{
    if (!strcmp(v, "on") || !strcmp(v, "true") || !strcmp(v, "yes"))
        *out = true;
    else if (!strcmp(v, "off") || !strcmp(v, "false") || !strcmp(v, "no"))
        *out = false;
    else
        return false;
    return true;
}

bool img_parse_create_opts(const char *opts, ImgCreateOpts *o)
{
    if (!opts)
        return true;
    char *copy = xstrdup(opts), *save = NULL;
    bool ok = true;
    for (char *kv = strtok_r(copy, ",", &save); kv && ok; kv = strtok_r(NULL, ",", &save)) {
        char *v = strchr(kv, '=');
        if (!v) {
            img_error("Invalid option '%s'", kv);
            ok = false;
            break;
        }
        *v++ = 0;
        uint64_t n;
        if (!strcmp(kv, "cluster_size") && img_parse_size(v, &n) && n <= (1u << 30)) {
            o->q.cluster_size = (uint32_t)n;
        } else if (!strcmp(kv, "compression_type")) {
            if (!strcmp(v, "zlib"))
                o->q.compression_type = QCOW2_COMPRESSION_ZLIB;
            else if (!strcmp(v, "zstd"))
                o->q.compression_type = QCOW2_COMPRESSION_ZSTD;
            else {
                img_error("Parameter 'compression_type' does not accept value '%s'", v);
                ok = false;
            }
        } else if (!strcmp(kv, "preallocation")) {
            if (strcmp(v, "off") && strcmp(v, "metadata")) {
                img_error("Parameter 'preallocation' does not accept value '%s'", v);
                ok = false;
            }
            o->prealloc = opts + (v - copy);
            o->q.prealloc_metadata = !strcmp(v, "metadata");
        } else if (!strcmp(kv, "lazy_refcounts")) {
            ok = parse_bool(v, &o->q.lazy_refcounts);
        } else if (!strcmp(kv, "extended_l2")) {
            ok = parse_bool(v, &o->q.extended_l2);
        } else if (!strcmp(kv, "refcount_bits") && img_parse_size(v, &n) && n <= 64) {
            o->q.refcount_bits = (uint32_t)n;
        } else if (!strcmp(kv, "compat")) {
            if (!strcmp(v, "0.10") || !strcmp(v, "v2"))
                o->q.version = 2;
            else if (!strcmp(v, "1.1") || !strcmp(v, "v3"))
                o->q.version = 3;
            else {
                img_error("Invalid parameter '%s'", v);
                ok = false;
            }
        } else if (!strcmp(kv, "backing_file")) {
            o->q.backing = opts + (v - copy);
        } else if (!strcmp(kv, "backing_fmt")) {
            o->q.backing_fmt = opts + (v - copy);
        } else if (!strcmp(kv, "size") && img_parse_size(v, &n)) {
            o->q.size = n;
        } else {
            img_error("Invalid parameter '%s'", kv);
            ok = false;
        }
        if (!ok && !strcmp(kv, "lazy_refcounts"))
            img_error("Parameter 'lazy_refcounts' expects 'on' or 'off'");
    }
    free(copy);
    return ok;
}

int img_create_image(const char *file, const char *fmt, const ImgCreateOpts *o, bool quiet)
{
    const Qcow2CreateOptions *q = &o->q;
    char err[1024];
    if (!strcmp(fmt, "raw")) {
        if (!quiet)
            printf("Formatting '%s', fmt=raw size=%" PRIu64 "\n", file, q->size);
        int fd = open(file, O_CREAT | O_TRUNC | O_WRONLY | O_CLOEXEC, 0644);
        if (fd < 0 || ftruncate(fd, (off_t)q->size) < 0) {
            img_error("%s: Could not create image: %s", file, strerror(errno));
            if (fd >= 0)
                close(fd);
            return 1;
        }
        close(fd);
        return 0;
    }
    if (strcmp(fmt, "qcow2")) {
        img_error("Unknown file format '%s'", fmt);
        return 1;
    }
    if (!quiet) {
        printf("Formatting '%s', fmt=qcow2 cluster_size=%u extended_l2=%s compression_type=%s "
               "size=%" PRIu64, file, q->cluster_size ? q->cluster_size : 65536,
               q->extended_l2 ? "on" : "off", q->compression_type ? "zstd" : "zlib", q->size);
        if (q->backing)
            printf(" backing_file=%s", q->backing);
        if (q->backing && q->backing_fmt)
            printf(" backing_fmt=%s", q->backing_fmt);
        if (q->version == 2)
            printf(" compat=0.10");
        if (q->prealloc_metadata)
            printf(" preallocation=metadata");
        printf(" lazy_refcounts=%s refcount_bits=%u\n", q->lazy_refcounts ? "on" : "off",
               q->refcount_bits ? q->refcount_bits : 16);
        fflush(stdout);
    }
    if (qcow2_create(file, q, err, sizeof err) < 0) {
        img_error("%s: %s", file, err);
        return 1;
    }
    return 0;
}

static uint64_t div_up(uint64_t a, uint64_t b)
{
    return (a + b - 1) / b;
}

uint64_t img_qcow2_prealloc_size(uint64_t size, uint64_t cs, unsigned refcount_order, bool extl2)
{
    uint64_t aligned = div_up(size, cs) * cs;
    uint64_t l2e = extl2 ? 16 : 8;
    uint64_t meta = cs;
    uint64_t nl2e = div_up(aligned / cs, cs / l2e) * (cs / l2e);
    meta += nl2e * l2e;
    uint64_t nl1e = div_up(nl2e * l2e / cs, cs / 8) * (cs / 8);
    meta += nl1e * 8;
    uint64_t clusters = (meta + aligned) / cs;
    uint64_t per_block = cs * 8 / (1u << refcount_order), per_table = cs / 8;
    uint64_t table = 0, blocks = 0, n = 0, last;
    do {
        last = n;
        blocks = div_up(clusters + table + blocks, per_block);
        table = div_up(blocks, per_table);
        n = clusters + blocks + table;
    } while (n != last);
    return meta + (blocks + table) * cs + aligned;
}
