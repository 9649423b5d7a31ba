/*
 * The qcow2 format driver: opening (every header field range-checked),
 * guest cluster mapping through L1 and L2 tables (standard and extended
 * entries with 32 subclusters), reads (data, zero, compressed with deflate
 * or zstd, backing files of any format), allocating writes with
 * copy-on-write, discard and flush.  Caches, refcounts and allocation are
 * in qcow2-refcount.c; locking and write order are described in qcow2.h.
 *
 * A malformed image is refused at open with one line naming it and the
 * problem; a table found malformed later (an L2 entry with reserved bits
 * or an unaligned offset) fails the request with -EIO and is never
 * written over.
 */
#include <errno.h>
#include <inttypes.h>
#include <libgen.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>
#include <zstd.h>

#include "block/qcow2.h"
#include "core/util.h"

#define L2_CACHE_TABLES 32
#define RB_CACHE_TABLES 8

uint64_t qcow2_be64(const void *p)
{
    const uint8_t *b = p;
    return (uint64_t)b[0] << 56 | (uint64_t)b[1] << 48 | (uint64_t)b[2] << 40 |
           (uint64_t)b[3] << 32 | (uint64_t)b[4] << 24 | (uint64_t)b[5] << 16 |
           (uint64_t)b[6] << 8 | b[7];
}

uint32_t qcow2_be32(const void *p)
{
    const uint8_t *b = p;
    return (uint32_t)b[0] << 24 | (uint32_t)b[1] << 16 | (uint32_t)b[2] << 8 | b[3];
}

void qcow2_put_be64(void *p, uint64_t v)
{
    uint8_t *b = p;
    for (int i = 0; i < 8; i++)
        b[i] = (uint8_t)(v >> (56 - 8 * i));
}

void qcow2_put_be32(void *p, uint32_t v)
{
    uint8_t *b = p;
    for (int i = 0; i < 4; i++)
        b[i] = (uint8_t)(v >> (24 - 8 * i));
}

int qcow2_write_header_field(Qcow2 *q, uint64_t offset, const void *p, size_t len)
{
    return bfile_pwrite(q->file, offset, p, len);
}

int qcow2_set_dirty(Qcow2 *q, bool dirty)
{
    if (q->version < 3)
        return 0;
    uint64_t v = dirty ? q->incompat | QCOW2_INCOMPAT_DIRTY : q->incompat & ~QCOW2_INCOMPAT_DIRTY;
    uint8_t b[8];
    qcow2_put_be64(b, v);
    int r = bfile_flush(q->file);
    if (r == 0)
        r = bfile_pwrite(q->file, 72, b, 8);
    if (r == 0)
        r = bfile_flush(q->file);
    if (r == 0)
        q->incompat = v;
    return r;
}

/* ---- backing chain bookkeeping (cycle detection, depth) ---- */

typedef struct ChainLink { dev_t dev; ino_t ino; } ChainLink;
static __thread ChainLink chain[QCOW2_MAX_CHAIN + 1];
static __thread int chain_len;

static bool in_chain(dev_t dev, ino_t ino)
{
    for (int i = 0; i < chain_len; i++)
        if (chain[i].dev == dev && chain[i].ino == ino)
            return true;
    return false;
}

static char *resolve_backing(const char *image, const char *name)
{
    if (name[0] == '/')
        return xstrdup(name);
    char *tmp = xstrdup(image);
    char *d = dirname(tmp);
    char *p = strcmp(d, ".") ? xasprintf("%s/%s", d, name) : xstrdup(name);
    free(tmp);
    return p;
}

static int open_backing(Qcow2 *q, char *err, size_t errlen)
{
    q->backing_path = resolve_backing(q->filename, q->backing_name);
    struct stat st, self;
    if (stat(q->backing_path, &st) < 0) {
        snprintf(err, errlen, "%s: could not open backing file '%s': %s", q->filename,
                 q->backing_path, strerror(errno));
        return -1;
    }
    if (fstat(q->file->fd, &self) == 0 && !in_chain(self.st_dev, self.st_ino)) {
        if (chain_len >= QCOW2_MAX_CHAIN) {
            snprintf(err, errlen, "%s: backing chain longer than %d images", q->filename,
                     QCOW2_MAX_CHAIN);
            return -1;
        }
        chain[chain_len++] = (ChainLink){ self.st_dev, self.st_ino };
    }
    if (in_chain(st.st_dev, st.st_ino)) {
        snprintf(err, errlen, "%s: backing file '%s' makes a cycle in the backing chain",
                 q->filename, q->backing_path);
        return -1;
    }
    BlockOpenOptions bo = {
        .filename = q->backing_path, .format = q->backing_fmt,
        .read_only = true, .cache = q->file->cache,
    };
    char why[1024];
    int depth = chain_len;
    q->backing = blk_open(&bo, why, sizeof why);
    chain_len = depth;
    if (!q->backing) {
        snprintf(err, errlen, "%s: could not open backing file: %s", q->filename, why);
        return -1;
    }
    q->backing_size = blk_size(q->backing);
    return 0;
}

/* ---- open ---- */

static int fail(char *err, size_t errlen, Qcow2 *q, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
static int fail(char *err, size_t errlen, Qcow2 *q, const char *fmt, ...)
{
    char msg[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    snprintf(err, errlen, "%s: %s", q->filename, msg);
    return -1;
}

static bool overlaps(uint64_t a, uint64_t alen, uint64_t b, uint64_t blen)
{
    return alen && blen && a < b + blen && b < a + alen;
}

static int parse_extensions(Qcow2 *q, const uint8_t *h, uint64_t start, uint64_t end,
                            char *err, size_t errlen)
{
    uint64_t p = start;
    while (p + 8 <= end) {
        uint32_t type = qcow2_be32(h + p), len = qcow2_be32(h + p + 4);
        if (type == QCOW2_EXT_END)
            return 0;
        uint64_t padded = ((uint64_t)len + 7) & ~7ull;
        if (len > end - p - 8 || padded > end - p - 8)
            return fail(err, errlen, q, "header extension 0x%08x is %u bytes, past the header cluster",
                        type, len);
        const uint8_t *d = h + p + 8;
        if (type == QCOW2_EXT_BACKING_FMT) {
            if (len == 0 || len > 63)
                return fail(err, errlen, q, "backing file format name is %u bytes", len);
            free(q->backing_fmt);
            q->backing_fmt = xcalloc(1, len + 1);
            memcpy(q->backing_fmt, d, len);
            if (strlen(q->backing_fmt) != len)
                return fail(err, errlen, q, "backing file format name holds a NUL byte");
        } else if (type == QCOW2_EXT_CRYPTO) {
            return fail(err, errlen, q, "encrypted images are not supported");
        } else {
            q->ext_other = xrealloc(q->ext_other, q->ext_other_len + 8 + padded);
            memcpy(q->ext_other + q->ext_other_len, h + p, 8 + padded);
            q->ext_other_len += 8 + padded;
        }
        p += 8 + padded;
    }
    return fail(err, errlen, q, "header extensions have no end marker in the header cluster");
}

static int check_table(Qcow2 *q, const char *what, uint64_t off, uint64_t len,
                       char *err, size_t errlen)
{
    if (off & (q->cluster_size - 1))
        return fail(err, errlen, q, "%s offset 0x%" PRIx64 " is not cluster-aligned", what, off);
    if (len && (off == 0 || off >> 56 || len > (1ull << 56) - off))
        return fail(err, errlen, q, "%s offset 0x%" PRIx64 " is invalid", what, off);
    if (len && off + len > q->file->file_size)
        return fail(err, errlen, q, "%s (0x%" PRIx64 "+0x%" PRIx64 ") lies past the end of the file",
                    what, off, len);
    return 0;
}

static void q_free(Qcow2 *q)
{
    if (!q)
        return;
    blk_close(q->backing);
    qcow2_cache_free(&q->l2c);
    qcow2_cache_free(&q->rbc);
    qcow2_free_snapshots(q);
    free(q->l1);
    free(q->l1_dirty_map);
    free(q->rt);
    free(q->ext_other);
    free(q->backing_name);
    free(q->backing_fmt);
    free(q->backing_path);
    free(q->pending);
    pthread_mutex_destroy(&q->meta_lock);
    pthread_rwlock_destroy(&q->io_lock);
    free(q);
}

Qcow2 *qcow2_open(BlockFile *file, unsigned flags, char *err, size_t errlen)
{
    Qcow2 *q = xcalloc(1, sizeof(*q));
    q->file = file;
    q->filename = file->filename;
    q->writable = file->writable;
    pthread_mutex_init(&q->meta_lock, NULL);
    pthread_rwlock_init(&q->io_lock, NULL);
    uint8_t *h = NULL;

    uint8_t fixed[112] = { 0 };
    if (file->file_size < 72) {
        fail(err, errlen, q, "file too short for a qcow2 header");
        goto out;
    }
    if (bfile_pread(file, 0, fixed, sizeof fixed) < 0) {
        fail(err, errlen, q, "cannot read the header: %s", strerror(errno));
        goto out;
    }
    if (qcow2_be32(fixed) != QCOW2_MAGIC) {
        fail(err, errlen, q, "not a qcow2 image (bad magic)");
        goto out;
    }
    q->version = qcow2_be32(fixed + 4);
    if (q->version != 2 && q->version != 3) {
        fail(err, errlen, q, "unsupported qcow2 version %u", q->version);
        goto out;
    }
    uint64_t backing_off = qcow2_be64(fixed + 8);
    uint32_t backing_len = qcow2_be32(fixed + 16);
    q->cluster_bits = qcow2_be32(fixed + 20);
    if (q->cluster_bits < QCOW2_MIN_CLUSTER_BITS || q->cluster_bits > QCOW2_MAX_CLUSTER_BITS) {
        fail(err, errlen, q, "cluster_bits %u out of range (9..21)", q->cluster_bits);
        goto out;
    }
    q->cluster_size = 1ull << q->cluster_bits;
    uint64_t cs = q->cluster_size;
    q->size = qcow2_be64(fixed + 24);
    uint32_t crypt = qcow2_be32(fixed + 32);
    q->l1_size = qcow2_be32(fixed + 36);
    q->l1_offset = qcow2_be64(fixed + 40);
    q->rt_offset = qcow2_be64(fixed + 48);
    q->rt_clusters = qcow2_be32(fixed + 56);
    q->nb_snapshots = qcow2_be32(fixed + 60);
    q->snapshots_offset = qcow2_be64(fixed + 64);
    if (q->version == 3) {
        q->incompat = qcow2_be64(fixed + 72);
        q->compat = qcow2_be64(fixed + 80);
        q->autoclear = qcow2_be64(fixed + 88);
        q->refcount_order = qcow2_be32(fixed + 96);
        q->header_length = qcow2_be32(fixed + 100);
        if (q->header_length < 104 || q->header_length % 8 || q->header_length > cs) {
            fail(err, errlen, q, "header_length %u invalid", q->header_length);
            goto out;
        }
        if (q->header_length > 104)
            q->compression_type = fixed[104];
    } else {
        q->refcount_order = 4;
        q->header_length = 72;
    }
    if (crypt) {
        fail(err, errlen, q, "encrypted images are not supported");
        goto out;
    }
    if (q->incompat & ~QCOW2_INCOMPAT_KNOWN) {
        fail(err, errlen, q, "unsupported qcow2 feature(s): incompatible bits 0x%" PRIx64,
             q->incompat & ~QCOW2_INCOMPAT_KNOWN);
        goto out;
    }
    if (q->incompat & QCOW2_INCOMPAT_DATA_FILE) {
        fail(err, errlen, q, "external data files are not supported");
        goto out;
    }
    if ((q->incompat & QCOW2_INCOMPAT_CORRUPT) && q->writable) {
        fail(err, errlen, q, "image is marked corrupt; it can be opened read-only only "
             "(or repaired with 'vx86-img check -r all')");
        goto out;
    }
    if (q->compression_type > QCOW2_COMPRESSION_ZSTD) {
        fail(err, errlen, q, "unknown compression type %u", q->compression_type);
        goto out;
    }
    if ((q->compression_type != 0) != !!(q->incompat & QCOW2_INCOMPAT_COMPRESSION)) {
        fail(err, errlen, q, "compression type %u does not match the compression feature bit",
             q->compression_type);
        goto out;
    }
    if (q->refcount_order > 6) {
        fail(err, errlen, q, "refcount_order %u out of range (0..6)", q->refcount_order);
        goto out;
    }
    q->refcount_bits = 1u << q->refcount_order;
    q->refcount_max = q->refcount_bits == 64 ? ~0ull : (1ull << q->refcount_bits) - 1;
    q->rb_entries = cs * 8 / q->refcount_bits;
    q->extl2 = q->incompat & QCOW2_INCOMPAT_EXTL2;
    if (q->extl2 && q->cluster_bits < 14) {
        fail(err, errlen, q, "extended L2 entries need clusters of at least 16 KiB");
        goto out;
    }
    q->l2_entry_size = q->extl2 ? 16 : 8;
    q->l2_entries = cs / q->l2_entry_size;
    q->l2_bits = q->cluster_bits - (q->extl2 ? 4 : 3);
    q->nsub = q->extl2 ? 32 : 1;
    q->sub_size = cs / q->nsub;
    q->csize_shift = 62 - (q->cluster_bits - 8);
    q->csize_mask = (1ull << (q->cluster_bits - 8)) - 1;
    q->coffset_mask = (1ull << q->csize_shift) - 1;
    q->lazy = q->version == 3 && (q->compat & QCOW2_COMPAT_LAZY_REFCOUNTS);

    /* Sizes and tables. */
    uint64_t l2_span = cs * q->l2_entries;
    if (q->size > (1ull << 56)) {
        fail(err, errlen, q, "virtual size %" PRIu64 " too large", q->size);
        goto out;
    }
    uint64_t l1_needed = (q->size + l2_span - 1) / l2_span;
    if (q->l1_size < l1_needed) {
        fail(err, errlen, q, "L1 table has %u entries, the size needs %" PRIu64,
             q->l1_size, l1_needed);
        goto out;
    }
    if ((uint64_t)q->l1_size * 8 > QCOW2_MAX_L1_BYTES) {
        fail(err, errlen, q, "L1 table of %u entries is too large", q->l1_size);
        goto out;
    }
    if (check_table(q, "L1 table", q->l1_offset, (uint64_t)q->l1_size * 8, err, errlen) < 0)
        goto out;
    if (q->rt_clusters == 0 || (uint64_t)q->rt_clusters * cs > QCOW2_MAX_RT_BYTES) {
        fail(err, errlen, q, "refcount table of %u clusters is invalid", q->rt_clusters);
        goto out;
    }
    if (check_table(q, "refcount table", q->rt_offset, (uint64_t)q->rt_clusters * cs,
                    err, errlen) < 0)
        goto out;
    if (q->nb_snapshots > QCOW2_MAX_SNAPSHOTS) {
        fail(err, errlen, q, "%u snapshots is too many", q->nb_snapshots);
        goto out;
    }
    if (q->nb_snapshots &&
        check_table(q, "snapshot table", q->snapshots_offset, (uint64_t)q->nb_snapshots * 40,
                    err, errlen) < 0)
        goto out;
    uint64_t rt_len = (uint64_t)q->rt_clusters * cs, l1_len = (uint64_t)q->l1_size * 8;
    if (overlaps(q->l1_offset, l1_len, q->rt_offset, rt_len) ||
        overlaps(0, cs, q->l1_offset, l1_len) || overlaps(0, cs, q->rt_offset, rt_len)) {
        fail(err, errlen, q, "L1 table, refcount table and header overlap");
        goto out;
    }

    /* Header cluster: extensions and the backing file name. */
    h = xcalloc(1, cs);
    if (bfile_pread(file, 0, h, cs) < 0) {
        fail(err, errlen, q, "cannot read the header");
        goto out;
    }
    uint64_t ext_end = cs;
    if (backing_off) {
        if (backing_len == 0 || backing_len > QCOW2_MAX_BACKING_NAME) {
            fail(err, errlen, q, "backing file name length %u invalid", backing_len);
            goto out;
        }
        if (backing_off < q->header_length || backing_off > cs || backing_len > cs - backing_off) {
            fail(err, errlen, q, "backing file name offset 0x%" PRIx64 " invalid", backing_off);
            goto out;
        }
        q->backing_name = xcalloc(1, backing_len + 1);
        memcpy(q->backing_name, h + backing_off, backing_len);
        if (strlen(q->backing_name) != backing_len) {
            fail(err, errlen, q, "backing file name holds a NUL byte");
            goto out;
        }
        ext_end = backing_off;
    }
    if (parse_extensions(q, h, q->header_length, ext_end, err, errlen) < 0)
        goto out;
    if (q->backing_fmt && !blk_driver_find(q->backing_fmt)) {
        fail(err, errlen, q, "backing file format '%s' is not supported", q->backing_fmt);
        goto out;
    }

    /* L1 table: every entry checked now. */
    q->l1 = xcalloc(q->l1_size ? q->l1_size : 1, 8);
    q->l1_dirty_map = xcalloc(q->l1_size ? q->l1_size : 1, 1);
    if (l1_len) {
        uint8_t *raw = xmalloc(l1_len);
        int r = bfile_pread(file, q->l1_offset, raw, l1_len);
        for (uint32_t i = 0; i < q->l1_size; i++)
            q->l1[i] = qcow2_be64(raw + 8ull * i);
        free(raw);
        if (r < 0) {
            fail(err, errlen, q, "cannot read the L1 table");
            goto out;
        }
    }
    for (uint32_t i = 0; i < q->l1_size; i++) {
        uint64_t e = q->l1[i], off = e & QCOW2_OFFSET_MASK;
        if (e & QCOW2_L1_RESERVED) {
            fail(err, errlen, q, "L1 entry %u has reserved bits set (0x%016" PRIx64 ")", i, e);
            goto out;
        }
        if (!off)
            continue;
        if ((off & (cs - 1)) || off >= file->file_size ||
            overlaps(off, cs, 0, cs) || overlaps(off, cs, q->l1_offset, l1_len) ||
            overlaps(off, cs, q->rt_offset, rt_len)) {
            fail(err, errlen, q, "L1 entry %u: L2 table offset 0x%" PRIx64
                 " is unaligned, past the end of the file or overlaps metadata", i, off);
            goto out;
        }
    }
    /* Refcount table, likewise. */
    q->rt_entries = rt_len / 8;
    q->rt = xcalloc(q->rt_entries, 8);
    {
        uint8_t *raw = xmalloc(rt_len);
        int r = bfile_pread(file, q->rt_offset, raw, rt_len);
        for (uint64_t i = 0; i < q->rt_entries; i++)
            q->rt[i] = qcow2_be64(raw + 8 * i);
        free(raw);
        if (r < 0) {
            fail(err, errlen, q, "cannot read the refcount table");
            goto out;
        }
    }
    for (uint64_t i = 0; i < q->rt_entries; i++) {
        uint64_t off = q->rt[i];
        if (!off)
            continue;
        if ((off & QCOW2_RT_RESERVED) || (off & (cs - 1)) || off >> 56 ||
            off >= file->file_size || overlaps(off, cs, 0, cs) ||
            overlaps(off, cs, q->l1_offset, l1_len) || overlaps(off, cs, q->rt_offset, rt_len)) {
            fail(err, errlen, q, "refcount table entry %" PRIu64 ": block offset 0x%" PRIx64
                 " is unaligned, past the end of the file or overlaps metadata", i, off);
            goto out;
        }
    }
    if (qcow2_load_snapshots(q, err, errlen) < 0)
        goto out;

    qcow2_cache_init(&q->l2c, L2_CACHE_TABLES, cs);
    qcow2_cache_init(&q->rbc, RB_CACHE_TABLES, cs);
    q->free_hint = 1;
    free(h);
    h = NULL;

    if (q->backing_name && !(flags & QCOW2_OPEN_NO_BACKING) && open_backing(q, err, errlen) < 0)
        goto out;
    return q;

out:
    free(h);
    q_free(q);
    return NULL;
}

/* ---- mapping ---- */

int qcow2_decode_l2(Qcow2 *q, const uint8_t *entry, Qcow2Mapping *m)
{
    uint64_t e = qcow2_be64(entry);
    uint64_t bm = q->extl2 ? qcow2_be64(entry + 8) : 0;
    memset(m, 0, sizeof(*m));
    m->copied = e & QCOW2_OFLAG_COPIED;
    if (e & QCOW2_OFLAG_COMPRESSED) {
        if (bm || m->copied)
            return -EIO;
        uint64_t start, bytes;
        qcow2_compressed_range(q, e, &start, &bytes);
        m->kind = QC_COMPRESSED;
        m->host = e & q->coffset_mask;
        m->csize = start + bytes - m->host;
        if (m->host >> 56 || m->host < q->cluster_size)
            return -EIO;
        return 0;
    }
    uint64_t host = e & QCOW2_OFFSET_MASK;
    uint64_t reserved = QCOW2_L2_RESERVED | (q->extl2 || q->version < 3 ? QCOW2_OFLAG_ZERO : 0);
    if ((e & reserved) || (host & (q->cluster_size - 1)))
        return -EIO;
    if (host && host < q->cluster_size)
        return -EIO;
    m->host = host;
    m->kind = host ? QC_NORMAL : QC_UNALLOCATED;
    if (!q->extl2) {
        bool zero = e & QCOW2_OFLAG_ZERO;
        m->zero = zero;
        m->alloc = host && !zero;
    } else {
        m->alloc = (uint32_t)bm;
        m->zero = (uint32_t)(bm >> 32);
        if ((m->alloc & m->zero) || (!host && m->alloc))
            return -EIO;
    }
    if (!host && m->copied)
        return -EIO;
    return 0;
}

static void encode_l2(Qcow2 *q, uint8_t *entry, uint64_t e, uint32_t alloc, uint32_t zero)
{
    qcow2_put_be64(entry, e);
    if (q->extl2)
        qcow2_put_be64(entry + 8, (uint64_t)zero << 32 | alloc);
}

/* Where guest offset lives: its L2 table (offset, or 0) and entry index. */
static void l2_position(Qcow2 *q, uint64_t off, uint32_t *l1i, uint64_t *l2i)
{
    uint64_t cl = off >> q->cluster_bits;
    *l1i = (uint32_t)(cl >> q->l2_bits);
    *l2i = cl & (q->l2_entries - 1);
}

/* The mapping of off through the L1 table l1 (the active one, or a
 * snapshot's); meta_lock held. */
static int map_locked(Qcow2 *q, const uint64_t *l1, uint32_t l1_size, uint64_t off,
                      Qcow2Mapping *m)
{
    uint32_t l1i;
    uint64_t l2i;
    l2_position(q, off, &l1i, &l2i);
    memset(m, 0, sizeof(*m));
    if (l1i >= l1_size)
        return 0;
    uint64_t l2off = l1[l1i] & QCOW2_OFFSET_MASK;
    if (!l2off)
        return 0;
    int r;
    uint8_t *l2 = qcow2_get_l2(q, l2off, &r);
    if (!l2)
        return r;
    return qcow2_decode_l2(q, l2 + l2i * q->l2_entry_size, m);
}

static int get_mapping_locked(Qcow2 *q, uint64_t off, Qcow2Mapping *m)
{
    return map_locked(q, q->l1, q->l1_size, off, m);
}

int qcow2_get_mapping(Qcow2 *q, uint64_t offset, Qcow2Mapping *m)
{
    pthread_mutex_lock(&q->meta_lock);
    int r = get_mapping_locked(q, offset, m);
    pthread_mutex_unlock(&q->meta_lock);
    return r;
}

/* ---- reading ---- */

int qcow2_decompress(Qcow2 *q, const uint8_t *src, size_t srclen, uint8_t *dst, size_t dstlen)
{
    if (q->compression_type == QCOW2_COMPRESSION_ZSTD) {
        ZSTD_DCtx *z = ZSTD_createDCtx();
        if (!z)
            return -ENOMEM;
        ZSTD_inBuffer in = { src, srclen, 0 };
        ZSTD_outBuffer out = { dst, dstlen, 0 };
        int ret = 0;
        while (out.pos < out.size) {
            size_t r = ZSTD_decompressStream(z, &out, &in);
            if (ZSTD_isError(r)) {
                ret = -EIO;
                break;
            }
            if (r == 0 || (in.pos == in.size && out.pos < out.size)) {
                if (out.pos < out.size)
                    ret = -EIO;
                break;
            }
        }
        ZSTD_freeDCtx(z);
        return ret;
    }
    z_stream z;
    memset(&z, 0, sizeof z);
    if (inflateInit2(&z, -15) != Z_OK)
        return -ENOMEM;
    z.next_in = (Bytef *)src;
    z.avail_in = (uInt)srclen;
    z.next_out = dst;
    z.avail_out = (uInt)dstlen;
    int r = inflate(&z, Z_FINISH);
    int ok = (r == Z_STREAM_END || r == Z_BUF_ERROR || r == Z_OK) && z.avail_out == 0;
    inflateEnd(&z);
    return ok ? 0 : -EIO;
}

static int read_compressed(Qcow2 *q, const Qcow2Mapping *m, uint8_t *cluster)
{
    uint8_t *c = xmalloc(m->csize);
    int r = bfile_pread(q->file, m->host, c, m->csize);
    if (r == 0)
        r = qcow2_decompress(q, c, m->csize, cluster, q->cluster_size);
    free(c);
    return r;
}

static int read_backing(Qcow2 *q, uint64_t off, uint8_t *buf, uint64_t len)
{
    if (!q->backing || off >= q->backing_size) {
        memset(buf, 0, len);
        return 0;
    }
    uint64_t n = MIN(len, q->backing_size - off);
    if (n < len)
        memset(buf + n, 0, len - n);
    return blk_pread(q->backing, off, buf, n);
}

/* The guest's view of [off, off + len) inside one cluster with mapping m. */
static int read_view(Qcow2 *q, const Qcow2Mapping *m, uint64_t off, uint8_t *buf, uint64_t len)
{
    uint64_t in = off & (q->cluster_size - 1);
    if (m->kind == QC_COMPRESSED) {
        uint8_t *c = xmalloc(q->cluster_size);
        int r = read_compressed(q, m, c);
        if (r == 0)
            memcpy(buf, c + in, len);
        free(c);
        return r;
    }
    while (len) {
        unsigned s = (unsigned)(in / q->sub_size);
        uint32_t bit = 1u << s;
        /* a run of subclusters of the same kind */
        uint64_t n = (s + 1) * q->sub_size - in;
        while (n < len && s + 1 < q->nsub) {
            uint32_t nb = 1u << (s + 1);
            if (!!(m->alloc & nb) != !!(m->alloc & bit) || !!(m->zero & nb) != !!(m->zero & bit))
                break;
            s++;
            n += q->sub_size;
        }
        n = MIN(n, len);
        int r = 0;
        if (m->alloc & bit)
            r = bfile_pread(q->file, m->host + in, buf, n);
        else if (m->zero & bit)
            memset(buf, 0, n);
        else
            r = read_backing(q, off, buf, n);
        if (r < 0)
            return r;
        buf += n;
        off += n;
        in += n;
        len -= n;
    }
    return 0;
}

int qcow2_read(Qcow2 *q, uint64_t offset, void *buf, size_t len)
{
    uint8_t *p = buf;
    int r = 0;
    pthread_rwlock_rdlock(&q->io_lock);
    while (len && r == 0) {
        uint64_t n = MIN((uint64_t)len, q->cluster_size - (offset & (q->cluster_size - 1)));
        if (offset >= q->size) {
            memset(p, 0, len);
            break;
        }
        n = MIN(n, q->size - offset);
        Qcow2Mapping m;
        r = qcow2_get_mapping(q, offset, &m);
        if (r == 0)
            r = read_view(q, &m, offset, p, n);
        p += n;
        offset += n;
        len -= n;
    }
    pthread_rwlock_unlock(&q->io_lock);
    return r;
}

int qcow2_read_l1(Qcow2 *q, const uint64_t *l1, uint32_t l1_size, uint64_t offset,
                  void *buf, size_t len)
{
    uint8_t *p = buf;
    int r = 0;
    if (offset >> 56 || len > (UINT64_C(1) << 56) - offset)
        return -EIO;
    pthread_rwlock_rdlock(&q->io_lock);
    while (len && r == 0) {
        uint64_t n = MIN((uint64_t)len, q->cluster_size - (offset & (q->cluster_size - 1)));
        Qcow2Mapping m;
        pthread_mutex_lock(&q->meta_lock);
        r = map_locked(q, l1, l1_size, offset, &m);
        pthread_mutex_unlock(&q->meta_lock);
        if (r == 0)
            r = read_view(q, &m, offset, p, n);
        p += n;
        offset += n;
        len -= n;
    }
    pthread_rwlock_unlock(&q->io_lock);
    return r;
}

/* ---- writing ---- */

/* The first write: repair a dirty image, clear autoclear bits we do not
 * maintain, set the dirty bit when refcounts are lazy. */
int qcow2_prepare_write(Qcow2 *q)
{
    if (q->prepared)
        return 0;
    if (!q->writable)
        return -EROFS;
    int r;
    if (q->incompat & QCOW2_INCOMPAT_DIRTY) {
        Qcow2CheckResult res;
        r = qcow2_check(q, QCOW2_FIX_LEAKS | QCOW2_FIX_ERRORS, &res, NULL);
        if (r < 0 || res.corruptions > res.corruptions_fixed)
            return r < 0 ? r : -EIO;
        if (!q->lazy && (r = qcow2_set_dirty(q, false)) < 0)
            return r;
        if (q->lazy)
            q->marked_dirty = true;
    }
    if (q->version >= 3 && q->autoclear) {
        uint8_t z[8] = { 0 };
        if ((r = bfile_pwrite(q->file, 88, z, 8)) < 0)
            return r;
        q->autoclear = 0;
    }
    if (q->lazy && !q->marked_dirty) {
        if ((r = qcow2_set_dirty(q, true)) < 0)
            return r;
        q->marked_dirty = true;
    }
    q->prepared = true;
    return 0;
}

/* Makes the L2 table of L1 index l1i one this image may change (a new
 * table, or a copy of a shared one); returns it, its offset in *l2off. */
static uint8_t *writable_l2(Qcow2 *q, uint32_t l1i, uint64_t *l2off, int *ret)
{
    uint64_t e = q->l1[l1i], old = e & QCOW2_OFFSET_MASK;
    if (old && (e & QCOW2_OFLAG_COPIED)) {
        *l2off = old;
        return qcow2_get_l2(q, old, ret);
    }
    uint8_t *copy = NULL;
    if (old) {
        uint8_t *t = qcow2_get_l2(q, old, ret);
        if (!t)
            return NULL;
        copy = xmalloc(q->cluster_size);
        memcpy(copy, t, q->cluster_size);
    }
    int64_t n = qcow2_alloc_clusters(q, 1);
    if (n < 0) {
        free(copy);
        *ret = (int)n;
        return NULL;
    }
    uint8_t *t = qcow2_new_l2(q, (uint64_t)n, ret);
    if (!t) {
        free(copy);
        return NULL;
    }
    if (copy)
        memcpy(t, copy, q->cluster_size);
    free(copy);
    q->l1[l1i] = (uint64_t)n | QCOW2_OFLAG_COPIED;
    q->l1_dirty = true;
    q->l1_dirty_map[l1i] = 1;
    if (old)
        qcow2_free_later(q, old, q->cluster_size);
    *l2off = (uint64_t)n;
    return t;
}

static void free_mapping_later(Qcow2 *q, const Qcow2Mapping *m, const uint8_t *entry)
{
    if (m->kind == QC_COMPRESSED) {
        uint64_t start, bytes;
        qcow2_compressed_range(q, qcow2_be64(entry), &start, &bytes);
        qcow2_free_later(q, start, bytes);
    } else if (m->kind == QC_NORMAL) {
        qcow2_free_later(q, m->host, q->cluster_size);
    }
}

/* The slow path of one cluster's write, meta_lock held. */
static int write_cluster_alloc(Qcow2 *q, uint64_t off, const uint8_t *buf, uint64_t n,
                               const Qcow2Mapping *m)
{
    uint64_t cs = q->cluster_size, base = off & ~(cs - 1), in = off - base;
    uint32_t l1i;
    uint64_t l2i, l2off;
    l2_position(q, off, &l1i, &l2i);
    int r = 0;
    uint8_t *l2 = writable_l2(q, l1i, &l2off, &r);
    if (!l2)
        return r;
    uint8_t old_entry[16];
    memcpy(old_entry, l2 + l2i * q->l2_entry_size, q->l2_entry_size);

    unsigned s0 = (unsigned)(in / q->sub_size), s1 = (unsigned)((in + n - 1) / q->sub_size);
    uint32_t touched = (s1 == 31 ? ~0u : (1u << (s1 + 1)) - 1) & ~((1u << s0) - 1);
    if (q->nsub == 1)
        touched = 1;
    bool reuse = m->kind == QC_NORMAL && m->copied;
    uint32_t alloc, zero;
    uint64_t rs, re;          /* region written, cluster-relative */
    if (q->extl2 && m->kind != QC_COMPRESSED) {
        alloc = m->alloc | touched;
        zero = m->zero & ~touched;
        if (m->kind == QC_NORMAL && !reuse) {
            rs = 0;           /* copy of a shared cluster: all of it */
            re = cs;
        } else {
            rs = s0 * q->sub_size;
            re = (s1 + 1) * q->sub_size;
        }
    } else {
        alloc = q->extl2 ? ~0u : 1;
        zero = 0;
        rs = 0;
        re = cs;
    }
    uint8_t *data = xmalloc(re - rs);
    /* Old contents of the region: raw host bytes of a shared cluster for
     * subclusters that stay as they are, the guest view for the rest. */
    if (m->kind == QC_NORMAL && !reuse && q->extl2)
        r = bfile_pread(q->file, m->host + rs, data, re - rs);
    for (unsigned s = (unsigned)(rs / q->sub_size); r == 0 && s * q->sub_size < re; s++) {
        uint64_t a = s * q->sub_size, b = a + q->sub_size;
        if (q->nsub == 1) {
            a = rs;
            b = re;
        }
        bool covered = in <= a && in + n >= b;
        bool keep_raw = q->extl2 && m->kind == QC_NORMAL && !reuse && !(touched & (1u << s));
        if (!covered && !keep_raw)
            r = read_view(q, m, base + a, data + a - rs, b - a);
    }
    if (r == 0) {
        memcpy(data + in - rs, buf, n);
        uint64_t host = m->host;
        if (!reuse) {
            int64_t h = qcow2_alloc_clusters(q, 1);
            r = h < 0 ? (int)h : 0;
            host = (uint64_t)h;
        }
        if (r == 0)
            r = bfile_pwrite(q->file, host + rs, data, re - rs);
        if (r == 0) {
            /* The table may have been evicted by the allocation. */
            l2 = qcow2_get_l2(q, l2off, &r);
            if (l2) {
                encode_l2(q, l2 + l2i * q->l2_entry_size, host | QCOW2_OFLAG_COPIED, alloc, zero);
                qcow2_l2_mark_dirty(q, l2off);
                if (!reuse)
                    free_mapping_later(q, m, old_entry);
            }
        }
    }
    free(data);
    return r;
}

static int write_cluster(Qcow2 *q, uint64_t off, const uint8_t *buf, uint64_t n)
{
    pthread_mutex_lock(&q->meta_lock);
    int r = q->broken ? -EIO : qcow2_prepare_write(q);
    Qcow2Mapping m;
    if (r == 0)
        r = get_mapping_locked(q, off, &m);
    if (r < 0) {
        pthread_mutex_unlock(&q->meta_lock);
        return r;
    }
    uint64_t in = off & (q->cluster_size - 1);
    unsigned s0 = (unsigned)(in / q->sub_size), s1 = (unsigned)((in + n - 1) / q->sub_size);
    bool fast = m.kind == QC_NORMAL && m.copied;
    for (unsigned s = s0; s <= s1 && fast; s++)
        fast = m.alloc & (1u << s);
    if (fast) {
        pthread_mutex_unlock(&q->meta_lock);
        return bfile_pwrite(q->file, m.host + in, buf, n);
    }
    r = write_cluster_alloc(q, off, buf, n, &m);
    pthread_mutex_unlock(&q->meta_lock);
    return r;
}

int qcow2_grow_l1(Qcow2 *q, uint64_t entries)
{
    if (entries <= q->l1_size)
        return 0;
    if (entries * 8 > QCOW2_MAX_L1_BYTES)
        return -EFBIG;
    uint64_t cs = q->cluster_size, bytes = entries * 8, ncl = (bytes + cs - 1) / cs;
    /* Every L2 table the L1 entries name is on disk before they move. */
    int r = qcow2_flush_metadata(q, true);
    int64_t h = r < 0 ? r : qcow2_alloc_clusters(q, ncl);
    if (h < 0)
        return (int)h;
    r = qcow2_flush_metadata(q, true);
    uint8_t *raw = xcalloc(ncl, cs);
    for (uint32_t i = 0; i < q->l1_size; i++)
        qcow2_put_be64(raw + 8ull * i, q->l1[i]);
    if (r == 0)
        r = bfile_pwrite(q->file, (uint64_t)h, raw, ncl * cs);
    free(raw);
    if (r == 0)
        r = bfile_flush(q->file);
    uint8_t hdr[12];                  /* l1_size and l1_table_offset: one write */
    qcow2_put_be32(hdr, (uint32_t)entries);
    qcow2_put_be64(hdr + 4, (uint64_t)h);
    if (r == 0)
        r = bfile_pwrite(q->file, 36, hdr, 12);
    if (r == 0)
        r = bfile_flush(q->file);
    if (r < 0)
        return r;                     /* the new clusters leak at worst */
    uint64_t old = q->l1_offset, oldlen = (uint64_t)q->l1_size * 8;
    q->l1 = xrealloc(q->l1, entries * 8);
    memset(q->l1 + q->l1_size, 0, (entries - q->l1_size) * 8);
    q->l1_dirty_map = xrealloc(q->l1_dirty_map, entries);
    memset(q->l1_dirty_map, 0, entries);
    q->l1_dirty = false;
    q->l1_size = (uint32_t)entries;
    q->l1_offset = (uint64_t)h;
    return old && oldlen ? qcow2_update_refcount(q, old, (oldlen + cs - 1) & ~(cs - 1), -1) : 0;
}

int qcow2_write_area(Qcow2 *q, uint64_t offset, const void *buf, size_t len)
{
    if (!q->writable)
        return -EROFS;
    if (!len)
        return 0;
    if (offset >> 56 || len > (UINT64_C(1) << 56) - offset)
        return -EIO;
    uint64_t l1_needed = ((offset + len - 1) >> (q->cluster_bits + q->l2_bits)) + 1;
    if (l1_needed > q->l1_size) {
        pthread_mutex_lock(&q->meta_lock);
        int r = q->broken ? -EIO : qcow2_prepare_write(q);
        if (r == 0)
            r = qcow2_grow_l1(q, l1_needed);
        pthread_mutex_unlock(&q->meta_lock);
        if (r < 0)
            return r;
    }
    const uint8_t *p = buf;
    int r = 0;
    pthread_rwlock_rdlock(&q->io_lock);
    while (len && r == 0) {
        uint64_t n = MIN((uint64_t)len, q->cluster_size - (offset & (q->cluster_size - 1)));
        r = write_cluster(q, offset, p, n);
        p += n;
        offset += n;
        len -= n;
    }
    pthread_rwlock_unlock(&q->io_lock);
    return r;
}

int qcow2_write(Qcow2 *q, uint64_t offset, const void *buf, size_t len)
{
    if (!q->writable)
        return -EROFS;
    if (offset > q->size || len > q->size - offset)
        return -EIO;
    return qcow2_write_area(q, offset, buf, len);
}

static int compress_cluster(Qcow2 *q, const uint8_t *src, uint8_t *dst, size_t cap, size_t *out)
{
    if (q->compression_type == QCOW2_COMPRESSION_ZSTD) {
        size_t r = ZSTD_compress(dst, cap, src, q->cluster_size, ZSTD_CLEVEL_DEFAULT);
        if (ZSTD_isError(r))
            return -1;
        *out = r;
        return 0;
    }
    z_stream z;
    memset(&z, 0, sizeof z);
    if (deflateInit2(&z, Z_DEFAULT_COMPRESSION, Z_DEFLATED, -12, 9, Z_DEFAULT_STRATEGY) != Z_OK)
        return -1;
    z.next_in = (Bytef *)src;
    z.avail_in = (uInt)q->cluster_size;
    z.next_out = dst;
    z.avail_out = (uInt)cap;
    int r = deflate(&z, Z_FINISH);
    *out = cap - z.avail_out;
    deflateEnd(&z);
    return r == Z_STREAM_END ? 0 : -1;
}

/* One whole cluster, compressed; meta_lock held. */
static int write_compressed_cluster(Qcow2 *q, uint64_t off, const uint8_t *src)
{
    uint64_t cs = q->cluster_size;
    uint8_t *c = xmalloc(cs);
    size_t clen = 0;
    if (compress_cluster(q, src, c, cs - 1, &clen) < 0 || clen >= cs) {
        free(c);
        return 1;                 /* incompressible: caller writes it plainly */
    }
    uint32_t l1i;
    uint64_t l2i, l2off;
    l2_position(q, off, &l1i, &l2i);
    int r = 0;
    uint8_t *l2 = writable_l2(q, l1i, &l2off, &r);
    Qcow2Mapping m;
    uint8_t old_entry[16];
    if (l2) {
        memcpy(old_entry, l2 + l2i * q->l2_entry_size, q->l2_entry_size);
        r = qcow2_decode_l2(q, old_entry, &m);
    }
    uint64_t host = 0;
    if (l2 && r == 0) {
        if (q->comp_end && q->comp_next + clen <= q->comp_end &&
            qcow2_update_refcount(q, q->comp_next & ~511ull,
                                  ((q->comp_next + clen + 511) & ~511ull) - (q->comp_next & ~511ull),
                                  1) == 0) {
            host = q->comp_next;
        } else {
            uint64_t k = (clen + cs - 1) / cs;
            int64_t h = qcow2_alloc_clusters(q, k);
            if (h < 0)
                r = (int)h;
            else {
                host = (uint64_t)h;
                q->comp_end = host + k * cs;
            }
        }
    }
    if (l2 && r == 0) {
        q->comp_next = host + clen;
        r = bfile_pwrite(q->file, host, c, clen);
    }
    if (l2 && r == 0 && (l2 = qcow2_get_l2(q, l2off, &r))) {
        uint64_t nsec = ((host + clen - 1) >> 9) - (host >> 9);
        encode_l2(q, l2 + l2i * q->l2_entry_size,
                  QCOW2_OFLAG_COMPRESSED | nsec << q->csize_shift | host, 0, 0);
        qcow2_l2_mark_dirty(q, l2off);
        free_mapping_later(q, &m, old_entry);
    }
    free(c);
    return r;
}

int qcow2_write_compressed(Qcow2 *q, uint64_t offset, const void *buf, size_t len)
{
    if (!q->writable)
        return -EROFS;
    uint64_t cs = q->cluster_size;
    if ((offset & (cs - 1)) || offset > q->size || len > q->size - offset)
        return -EINVAL;
    const uint8_t *p = buf;
    uint8_t *tail = NULL;
    int r = 0;
    while (len && r == 0) {
        uint64_t n = MIN((uint64_t)len, cs);
        const uint8_t *src = p;
        if (n < cs) {
            if (offset + n != q->size)
                return -EINVAL;
            tail = xcalloc(1, cs);
            memcpy(tail, p, n);
            src = tail;
        }
        pthread_rwlock_rdlock(&q->io_lock);
        pthread_mutex_lock(&q->meta_lock);
        r = q->broken ? -EIO : qcow2_prepare_write(q);
        if (r == 0)
            r = write_compressed_cluster(q, offset, src);
        pthread_mutex_unlock(&q->meta_lock);
        pthread_rwlock_unlock(&q->io_lock);
        if (r == 1)
            r = qcow2_write(q, offset, p, n);
        p += n;
        offset += n;
        len -= n;
    }
    free(tail);
    return r;
}

int qcow2_discard(Qcow2 *q, uint64_t offset, uint64_t len)
{
    if (!q->writable)
        return -EROFS;
    uint64_t cs = q->cluster_size, sub = q->sub_size;
    uint64_t end = MIN(offset + len, q->size);
    uint64_t a = (offset + sub - 1) & ~(sub - 1);
    if (end == q->size)
        end = (end + sub - 1) & ~(sub - 1);
    else
        end &= ~(sub - 1);
    pthread_mutex_lock(&q->meta_lock);
    int r = q->broken ? -EIO : qcow2_prepare_write(q);
    while (r == 0 && a < end) {
        uint64_t base = a & ~(cs - 1);
        uint64_t b = MIN(end, base + cs);
        Qcow2Mapping m;
        r = get_mapping_locked(q, a, &m);
        if (r < 0 || m.kind == QC_UNALLOCATED) {
            a = b;
            continue;
        }
        uint32_t l1i;
        uint64_t l2i, l2off;
        l2_position(q, a, &l1i, &l2i);
        uint8_t *l2 = writable_l2(q, l1i, &l2off, &r);
        if (!l2)
            break;
        uint8_t *ent = l2 + l2i * q->l2_entry_size;
        uint8_t old_entry[16];
        memcpy(old_entry, ent, q->l2_entry_size);
        bool zero_flag = q->version >= 3 && q->backing;
        if (a == base && b == base + cs) {
            if (q->extl2)
                encode_l2(q, ent, 0, 0, zero_flag ? ~0u : 0);
            else
                encode_l2(q, ent, zero_flag ? QCOW2_OFLAG_ZERO : 0, 0, 0);
            free_mapping_later(q, &m, old_entry);
            qcow2_l2_mark_dirty(q, l2off);
        } else if (q->extl2 && m.kind == QC_NORMAL) {
            unsigned s0 = (unsigned)((a - base) / sub), s1 = (unsigned)((b - base) / sub);
            uint32_t mask = (s1 >= 32 ? ~0u : (1u << s1) - 1) & ~((1u << s0) - 1);
            uint64_t e = qcow2_be64(ent);
            encode_l2(q, ent, e, m.alloc & ~mask, zero_flag ? m.zero | mask : m.zero & ~mask);
            qcow2_l2_mark_dirty(q, l2off);
        }
        a = b;
    }
    pthread_mutex_unlock(&q->meta_lock);
    return r;
}

int qcow2_flush(Qcow2 *q)
{
    if (!q->writable)
        return 0;
    pthread_mutex_lock(&q->meta_lock);
    int r = q->broken ? -EIO : qcow2_flush_metadata(q, true);
    pthread_mutex_unlock(&q->meta_lock);
    if (r == 0)
        qcow2_apply_pending(q);
    return r;
}

int qcow2_preallocate_metadata(Qcow2 *q)
{
    uint64_t cs = q->cluster_size;
    uint64_t nclusters = (q->size + cs - 1) / cs;
    int r = 0;
    pthread_mutex_lock(&q->meta_lock);
    r = qcow2_prepare_write(q);
    for (uint64_t c = 0; c < nclusters && r == 0;) {
        uint32_t l1i;
        uint64_t l2i, l2off;
        l2_position(q, c * cs, &l1i, &l2i);
        uint64_t n = MIN(q->l2_entries - l2i, nclusters - c);
        uint8_t *l2 = writable_l2(q, l1i, &l2off, &r);
        if (!l2)
            break;
        int64_t h = qcow2_alloc_clusters(q, n);
        if (h < 0) {
            r = (int)h;
            break;
        }
        if (!(l2 = qcow2_get_l2(q, l2off, &r)))
            break;
        for (uint64_t i = 0; i < n; i++)
            encode_l2(q, l2 + (l2i + i) * q->l2_entry_size,
                      ((uint64_t)h + i * cs) | QCOW2_OFLAG_COPIED, q->extl2 ? ~0u : 0, 0);
        qcow2_l2_mark_dirty(q, l2off);
        uint64_t end = (uint64_t)h + n * cs;
        if (end > q->file->file_size && ftruncate(q->file->fd, (off_t)end) == 0)
            q->file->file_size = end;
        c += n;
    }
    if (r == 0)
        r = qcow2_flush_metadata(q, true);
    pthread_mutex_unlock(&q->meta_lock);
    return r;
}

int qcow2_resize(Qcow2 *q, uint64_t size, bool shrink, char *err, size_t errlen)
{
    uint64_t cs = q->cluster_size, l2_span = cs * q->l2_entries;
    if (size < q->size && !shrink) {
        snprintf(err, errlen, "Use the --shrink option to perform a shrink operation.");
        return -EINVAL;
    }
    if (size < q->size && q->nb_snapshots) {
        snprintf(err, errlen, "Can't resize an image which has snapshots");
        return -EINVAL;
    }
    if (size >> 56) {
        snprintf(err, errlen, "Image size too large");
        return -EFBIG;
    }
    int r = 0;
    if (size < q->size) {
        uint64_t from = (size + cs - 1) & ~(cs - 1);
        if (from < q->size && (r = qcow2_discard(q, from, q->size - from)) < 0)
            goto io;
        /* discard may have left zero flags; drop the entries entirely. */
        pthread_mutex_lock(&q->meta_lock);
        for (uint64_t c = from; c < q->size && r == 0; c += cs) {
            uint32_t l1i;
            uint64_t l2i, l2off;
            l2_position(q, c, &l1i, &l2i);
            if (!(q->l1[l1i] & QCOW2_OFFSET_MASK))
                continue;
            uint8_t *l2 = writable_l2(q, l1i, &l2off, &r);
            if (l2) {
                encode_l2(q, l2 + l2i * q->l2_entry_size, 0, 0, 0);
                qcow2_l2_mark_dirty(q, l2off);
            }
        }
        pthread_mutex_unlock(&q->meta_lock);
        if (r == 0)
            r = qcow2_flush(q);
        if (r < 0)
            goto io;
    }
    pthread_mutex_lock(&q->meta_lock);
    r = qcow2_prepare_write(q);
    uint64_t l1_needed = (size + l2_span - 1) / l2_span;
    if (r == 0 && l1_needed * 8 > QCOW2_MAX_L1_BYTES) {
        pthread_mutex_unlock(&q->meta_lock);
        snprintf(err, errlen, "Image size too large (L1 table too big)");
        return -EFBIG;
    }
    /* A larger L1 table first (valid for the old size too), then the size. */
    if (r == 0)
        r = qcow2_grow_l1(q, l1_needed);
    if (r == 0) {
        uint8_t b[8];
        qcow2_put_be64(b, size);
        r = qcow2_flush_metadata(q, true);
        if (r == 0)
            r = bfile_pwrite(q->file, 24, b, 8);
        if (r == 0)
            r = bfile_flush(q->file);
        if (r == 0)
            q->size = size;
    }
    if (r == 0)
        r = qcow2_flush_metadata(q, true);
    pthread_mutex_unlock(&q->meta_lock);
    if (r == 0)
        return 0;
io:
    snprintf(err, errlen, "Error resizing image: %s", strerror(-r));
    return r;
}

int qcow2_set_backing(Qcow2 *q, const char *name, const char *fmt, char *err, size_t errlen)
{
    uint64_t cs = q->cluster_size;
    uint8_t *h = xcalloc(1, cs);
    int r = bfile_pread(q->file, 0, h, q->header_length);
    size_t p = q->header_length;
    size_t need = p + (fmt ? 8 + ((strlen(fmt) + 7) & ~7u) : 0) + q->ext_other_len + 8 +
                  (name ? strlen(name) : 0);
    if (name && strlen(name) > QCOW2_MAX_BACKING_NAME) {
        free(h);
        snprintf(err, errlen, "Backing file name too long");
        return -EINVAL;
    }
    if (need > cs) {
        free(h);
        snprintf(err, errlen, "Header extensions and backing file name do not fit in the "
                 "first cluster");
        return -EINVAL;
    }
    if (fmt && name) {
        qcow2_put_be32(h + p, QCOW2_EXT_BACKING_FMT);
        qcow2_put_be32(h + p + 4, (uint32_t)strlen(fmt));
        memcpy(h + p + 8, fmt, strlen(fmt));
        p += 8 + ((strlen(fmt) + 7) & ~7u);
    }
    memcpy(h + p, q->ext_other, q->ext_other_len);
    p += q->ext_other_len;
    p += 8;                       /* end marker: zeros */
    if (name) {
        memcpy(h + p, name, strlen(name));
        qcow2_put_be64(h + 8, p);
        qcow2_put_be32(h + 16, (uint32_t)strlen(name));
    } else {
        qcow2_put_be64(h + 8, 0);
        qcow2_put_be32(h + 16, 0);
    }
    if (r == 0)
        r = bfile_pwrite(q->file, 0, h, cs);
    if (r == 0)
        r = bfile_flush(q->file);
    free(h);
    if (r < 0) {
        snprintf(err, errlen, "Could not change the backing file: %s", strerror(-r));
        return r;
    }
    free(q->backing_name);
    free(q->backing_fmt);
    q->backing_name = name ? xstrdup(name) : NULL;
    q->backing_fmt = fmt && name ? xstrdup(fmt) : NULL;
    return 0;
}

void qcow2_close(Qcow2 *q)
{
    if (!q)
        return;
    if (q->writable && q->prepared && !q->broken) {
        int r = qcow2_flush(q);
        if (r == 0) {
            pthread_mutex_lock(&q->meta_lock);
            r = qcow2_flush_metadata(q, true);   /* the decreases just applied */
            pthread_mutex_unlock(&q->meta_lock);
        }
        if (r == 0 && q->marked_dirty)
            qcow2_set_dirty(q, false);
    }
    q_free(q);
}

/* ---- the BlockDriver ---- */

static int qcow2_probe(const uint8_t *buf, size_t len)
{
    if (len >= 8 && qcow2_be32(buf) == QCOW2_MAGIC)
        return 100;
    return 0;
}

static void *drv_open(BlockFile *file, uint64_t *size, char *err, size_t errlen)
{
    Qcow2 *q = qcow2_open(file, 0, err, errlen);
    if (q)
        *size = q->size;
    return q;
}

static void drv_close(void *s) { qcow2_close(s); }
static int drv_pread(void *s, uint64_t o, void *b, size_t l) { return qcow2_read(s, o, b, l); }
static int drv_pwrite(void *s, uint64_t o, const void *b, size_t l) { return qcow2_write(s, o, b, l); }
static int drv_flush(void *s) { return qcow2_flush(s); }
static int drv_discard(void *s, uint64_t o, uint64_t l) { return qcow2_discard(s, o, l); }

const BlockDriver blk_driver_qcow2 = {
    .name = "qcow2",
    .probe = qcow2_probe,
    .open = drv_open,
    .close = drv_close,
    .pread = drv_pread,
    .pwrite = drv_pwrite,
    .flush = drv_flush,
    .discard = drv_discard,
    .snapshot = &qcow2_snapshot_ops,
};
