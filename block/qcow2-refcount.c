/*
 * qcow2 metadata caches, refcounts and cluster allocation (see
 * block/qcow2.h for the locking and the write order).  Every function here
 * runs with meta_lock held, except qcow2_apply_pending.
 *
 * Refcount blocks are addressed through the refcount table; a missing
 * block means refcount 0 for its whole range.  A new block for range k is
 * put at the first cluster of that range (free, since nothing there has a
 * refcount) and counts itself; it is written and synced before the table
 * entry that points to it.  When the table is full, a bigger one is built
 * past the end of the file together with the blocks that cover it, synced,
 * and only then named in the header (one 12-byte write).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "block/qcow2.h"
#include "core/util.h"

/* ---- caches ---- */

void qcow2_cache_init(Qcow2Cache *c, int n, uint64_t cluster_size)
{
    c->n = n;
    c->clock = 0;
    c->t = xcalloc((size_t)n, sizeof(*c->t));
    for (int i = 0; i < n; i++)
        c->t[i].data = xmalloc(cluster_size);
}

void qcow2_cache_free(Qcow2Cache *c)
{
    for (int i = 0; i < c->n && c->t; i++)
        free(c->t[i].data);
    free(c->t);
    c->t = NULL;
    c->n = 0;
}

void qcow2_cache_drop(Qcow2Cache *c)
{
    for (int i = 0; i < c->n; i++) {
        c->t[i].offset = 0;
        c->t[i].dirty = false;
    }
}

static Qcow2Table *cache_find(Qcow2Cache *c, uint64_t offset)
{
    for (int i = 0; i < c->n; i++)
        if (c->t[i].offset == offset) {
            c->t[i].used = ++c->clock;
            return &c->t[i];
        }
    return NULL;
}

static void cache_forget(Qcow2Cache *c, uint64_t offset)
{
    for (int i = 0; i < c->n; i++)
        if (c->t[i].offset == offset) {
            c->t[i].offset = 0;
            c->t[i].dirty = false;
        }
}

static int write_table(Qcow2 *q, Qcow2Table *t)
{
    int r = bfile_pwrite(q->file, t->offset, t->data, q->cluster_size);
    if (r < 0) {
        q->broken = true;
        return r;
    }
    t->dirty = false;
    return 0;
}

/* A slot for a new entry: empty, else the least recently used; a dirty
 * victim is written first (an L2 table only after the refcounts and data
 * it depends on: a whole metadata flush). */
static Qcow2Table *cache_victim(Qcow2 *q, Qcow2Cache *c, int *ret)
{
    Qcow2Table *v = NULL;
    for (int i = 0; i < c->n; i++) {
        if (!c->t[i].offset) {
            v = &c->t[i];
            break;
        }
        if (!v || c->t[i].used < v->used)
            v = &c->t[i];
    }
    if (v->offset && v->dirty) {
        *ret = c == &q->l2c ? qcow2_flush_metadata(q, false) : write_table(q, v);
        if (*ret < 0)
            return NULL;
    }
    v->offset = 0;
    v->dirty = false;
    v->used = ++c->clock;
    return v;
}

static uint8_t *cache_get(Qcow2 *q, Qcow2Cache *c, uint64_t offset, bool fresh, int *ret)
{
    *ret = 0;
    Qcow2Table *t = cache_find(c, offset);
    if (t) {
        if (fresh) {
            memset(t->data, 0, q->cluster_size);
            t->dirty = true;
        }
        return t->data;
    }
    t = cache_victim(q, c, ret);
    if (!t)
        return NULL;
    if (fresh) {
        memset(t->data, 0, q->cluster_size);
        t->dirty = true;
    } else {
        *ret = bfile_pread(q->file, offset, t->data, q->cluster_size);
        if (*ret < 0)
            return NULL;
    }
    t->offset = offset;
    return t->data;
}

uint8_t *qcow2_get_l2(Qcow2 *q, uint64_t offset, int *ret)
{
    return cache_get(q, &q->l2c, offset, false, ret);
}

uint8_t *qcow2_new_l2(Qcow2 *q, uint64_t offset, int *ret)
{
    return cache_get(q, &q->l2c, offset, true, ret);
}

void qcow2_l2_mark_dirty(Qcow2 *q, uint64_t offset)
{
    Qcow2Table *t = cache_find(&q->l2c, offset);
    if (t)
        t->dirty = true;
}

/* ---- refcounts ---- */

static uint64_t rc_get(const Qcow2 *q, const uint8_t *b, uint64_t i)
{
    switch (q->refcount_bits) {
    case 8: return b[i];
    case 16: return (uint64_t)b[2 * i] << 8 | b[2 * i + 1];
    case 32: return qcow2_be32(b + 4 * i);
    case 64: return qcow2_be64(b + 8 * i);
    default: {
        uint64_t bit = i * q->refcount_bits;
        return (b[bit / 8] >> (bit % 8)) & ((1u << q->refcount_bits) - 1);
    }
    }
}

static void rc_set(const Qcow2 *q, uint8_t *b, uint64_t i, uint64_t v)
{
    switch (q->refcount_bits) {
    case 8: b[i] = (uint8_t)v; break;
    case 16: b[2 * i] = (uint8_t)(v >> 8); b[2 * i + 1] = (uint8_t)v; break;
    case 32: qcow2_put_be32(b + 4 * i, (uint32_t)v); break;
    case 64: qcow2_put_be64(b + 8 * i, v); break;
    default: {
        uint64_t bit = i * q->refcount_bits;
        uint8_t mask = (uint8_t)(((1u << q->refcount_bits) - 1) << (bit % 8));
        b[bit / 8] = (uint8_t)((b[bit / 8] & ~mask) | ((v << (bit % 8)) & mask));
    }
    }
}

uint64_t qcow2_file_clusters(Qcow2 *q)
{
    return (q->file->file_size + q->cluster_size - 1) >> q->cluster_bits;
}

int qcow2_get_refcount(Qcow2 *q, uint64_t cluster, uint64_t *refcount)
{
    uint64_t idx = cluster / q->rb_entries;
    *refcount = 0;
    if (idx >= q->rt_entries || !q->rt[idx])
        return 0;
    int r;
    uint8_t *b = cache_get(q, &q->rbc, q->rt[idx], false, &r);
    if (!b)
        return r;
    *refcount = rc_get(q, b, cluster % q->rb_entries);
    return 0;
}

static int grow_table(Qcow2 *q, uint64_t need_idx)
{
    uint64_t cs = q->cluster_size, E = q->rb_entries;
    uint64_t old = q->rt_entries;
    uint64_t new_entries = MAX(need_idx + 1, old * 2);
    uint64_t k0 = MAX(old, (qcow2_file_clusters(q) + E - 1) / E);
    uint64_t tbl, m;
    for (;;) {
        new_entries = MAX(new_entries, k0 + 1);
        tbl = (new_entries * 8 + cs - 1) / cs;
        m = 1;
        while (m * E < m + tbl)
            m++;
        if (k0 + m <= new_entries)
            break;
        new_entries = k0 + m;
    }
    new_entries = tbl * cs / 8;
    if (tbl * cs > QCOW2_MAX_RT_BYTES || ((k0 + m + tbl) << q->cluster_bits) >> 56)
        return -EFBIG;
    uint64_t pos = k0 * E;
    uint8_t *blk = xcalloc(1, cs);
    uint64_t *nrt = xcalloc(new_entries, 8);
    memcpy(nrt, q->rt, old * 8);
    int r = 0;
    for (uint64_t j = 0; j < m && r == 0; j++) {
        memset(blk, 0, cs);
        uint64_t first = (k0 + j) * E;
        for (uint64_t c = pos; c < pos + m + tbl; c++)
            if (c >= first && c < first + E)
                rc_set(q, blk, c - first, 1);
        nrt[k0 + j] = (pos + j) << q->cluster_bits;
        r = bfile_pwrite(q->file, (pos + j) << q->cluster_bits, blk, cs);
    }
    free(blk);
    uint8_t *raw = xcalloc(tbl, cs);
    for (uint64_t i = 0; i < new_entries; i++)
        qcow2_put_be64(raw + 8 * i, nrt[i]);
    if (r == 0)
        r = bfile_pwrite(q->file, (pos + m) << q->cluster_bits, raw, tbl * cs);
    free(raw);
    if (r == 0)
        r = bfile_flush(q->file);
    uint8_t hdr[12];
    qcow2_put_be64(hdr, (pos + m) << q->cluster_bits);
    qcow2_put_be32(hdr + 8, (uint32_t)tbl);
    if (r == 0)
        r = qcow2_write_header_field(q, 48, hdr, 12);
    if (r == 0)
        r = bfile_flush(q->file);
    if (r < 0) {
        free(nrt);
        q->broken = true;
        return r;
    }
    uint64_t old_off = q->rt_offset, old_clusters = q->rt_clusters;
    free(q->rt);
    q->rt = nrt;
    q->rt_entries = new_entries;
    q->rt_offset = (pos + m) << q->cluster_bits;
    q->rt_clusters = (uint32_t)tbl;
    /* The old table is referenced by nothing on disk any more. */
    return qcow2_update_refcount(q, old_off, old_clusters * cs, -1);
}

/* Makes sure the refcount block of index idx exists. */
static int ensure_block(Qcow2 *q, uint64_t idx)
{
    if (idx >= q->rt_entries) {
        int r = grow_table(q, idx);
        if (r < 0)
            return r;
    }
    if (q->rt[idx])
        return 0;
    uint64_t c = idx * q->rb_entries;
    uint64_t off = c << q->cluster_bits, cs = q->cluster_size;
    if (off >> 56)
        return -EFBIG;
    /* Only a corrupt image lacks the block covering its own metadata:
     * never put a block over the header or the tables. */
    uint64_t l1_end = q->l1_offset + (uint64_t)q->l1_size * 8;
    uint64_t rt_end = q->rt_offset + (uint64_t)q->rt_clusters * cs;
    if (off < cs || (off < l1_end && q->l1_offset < off + cs) ||
        (off < rt_end && q->rt_offset < off + cs) ||
        (q->snap_table_bytes && off < q->snapshots_offset + q->snap_table_bytes &&
         q->snapshots_offset < off + cs)) {
        q->broken = true;
        return -EIO;
    }
    int r;
    uint8_t *b = cache_get(q, &q->rbc, off, true, &r);
    if (!b)
        return r;
    rc_set(q, b, 0, 1);
    r = bfile_pwrite(q->file, off, b, q->cluster_size);
    if (r == 0)
        r = bfile_flush(q->file);
    uint8_t e[8];
    qcow2_put_be64(e, off);
    if (r == 0)
        r = bfile_pwrite(q->file, q->rt_offset + idx * 8, e, 8);
    if (r < 0) {
        cache_forget(&q->rbc, off);
        q->broken = true;
        return r;
    }
    cache_find(&q->rbc, off)->dirty = false;
    q->rt[idx] = off;
    return 0;
}

int qcow2_update_refcount(Qcow2 *q, uint64_t offset, uint64_t bytes, int64_t delta)
{
    if (!bytes)
        return 0;
    uint64_t first = offset >> q->cluster_bits;
    uint64_t last = (offset + bytes - 1) >> q->cluster_bits;
    /* Check every cluster first: a refused update changes nothing. */
    for (uint64_t c = first; c <= last; c++) {
        uint64_t rc;
        int r = qcow2_get_refcount(q, c, &rc);
        if (r < 0)
            return r;
        if ((delta < 0 && rc < (uint64_t)-delta) ||
            (delta > 0 && q->refcount_max - rc < (uint64_t)delta))
            return -ERANGE;
    }
    for (uint64_t c = first; c <= last; c++) {
        uint64_t idx = c / q->rb_entries;
        int r = ensure_block(q, idx);
        if (r < 0)
            return r;
        uint8_t *b = cache_get(q, &q->rbc, q->rt[idx], false, &r);
        if (!b)
            return r;
        uint64_t rc = rc_get(q, b, c % q->rb_entries) + (uint64_t)delta;
        rc_set(q, b, c % q->rb_entries, rc);
        cache_find(&q->rbc, q->rt[idx])->dirty = true;
        if (rc == 0) {
            uint64_t off = c << q->cluster_bits;
            if (c < q->free_hint)
                q->free_hint = c;
            cache_forget(&q->l2c, off);
            if (q->comp_end && off < q->comp_end && off + q->cluster_size > q->comp_next)
                q->comp_next = q->comp_end = 0;
        }
    }
    return 0;
}

int64_t qcow2_alloc_clusters(Qcow2 *q, uint64_t n)
{
    if (q->broken)
        return -EIO;
    for (;;) {
        uint64_t c = q->free_hint, run = 0, first_free = UINT64_MAX;
        while (run < n) {
            uint64_t rc;
            int r = qcow2_get_refcount(q, c + run, &rc);
            if (r < 0)
                return r;
            if (rc) {
                c += run + 1;
                run = 0;
            } else {
                first_free = MIN(first_free, c + run);
                run++;
            }
            if ((c + run) << q->cluster_bits >> 56)
                return -EFBIG;
        }
        /* The hint moves to the first free cluster the scan saw (a hole
         * too small for this request stays findable), past the run when
         * that was the first: a hint left behind clusters that filled up
         * made every later allocation rescan them (quadratic). */
        uint64_t hint = first_free < c ? first_free : c + n;
        bool moved = false;
        for (uint64_t idx = c / q->rb_entries; idx <= (c + n - 1) / q->rb_entries; idx++) {
            if (idx < q->rt_entries && q->rt[idx])
                continue;
            int r = ensure_block(q, idx);
            if (r < 0)
                return r;
            moved = true;       /* the block may sit inside the run: look again */
        }
        if (moved)
            continue;
        q->free_hint = hint;
        int r = qcow2_update_refcount(q, c << q->cluster_bits, n << q->cluster_bits, 1);
        if (r < 0)
            return r;
        return (int64_t)(c << q->cluster_bits);
    }
}

void qcow2_free_later(Qcow2 *q, uint64_t offset, uint64_t bytes)
{
    if (!bytes)
        return;
    if (q->npending == q->cap_pending) {
        q->cap_pending = q->cap_pending ? 2 * q->cap_pending : 64;
        q->pending = xrealloc(q->pending, q->cap_pending * sizeof(*q->pending));
    }
    q->pending[q->npending++] = (Qcow2Range){ offset, bytes };
}

int qcow2_flush_metadata(Qcow2 *q, bool sync)
{
    int r = 0;
    bool any_l2 = false;
    for (int i = 0; i < q->rbc.n && r == 0; i++)
        if (q->rbc.t[i].offset && q->rbc.t[i].dirty)
            r = write_table(q, &q->rbc.t[i]);
    for (int i = 0; i < q->l2c.n; i++)
        any_l2 |= q->l2c.t[i].offset && q->l2c.t[i].dirty;
    /* Data and refcounts reach the disk before anything refers to them. */
    if (r == 0 && (any_l2 || q->l1_dirty) && !q->lazy)
        r = bfile_flush(q->file);
    for (int i = 0; i < q->l2c.n && r == 0; i++)
        if (q->l2c.t[i].offset && q->l2c.t[i].dirty)
            r = write_table(q, &q->l2c.t[i]);
    if (r == 0 && q->l1_dirty) {
        if (any_l2)
            r = bfile_flush(q->file);
        for (uint32_t i = 0; i < q->l1_size && r == 0; i++) {
            if (!q->l1_dirty_map[i])
                continue;
            uint8_t e[8];
            qcow2_put_be64(e, q->l1[i]);
            r = bfile_pwrite(q->file, q->l1_offset + 8ull * i, e, 8);
            if (r == 0)
                q->l1_dirty_map[i] = 0;
        }
        if (r == 0)
            q->l1_dirty = false;
    }
    if (r == 0 && sync)
        r = bfile_flush(q->file);
    if (r < 0) {
        q->broken = true;
        return r;
    }
    q->npending_durable = q->npending;
    return 0;
}

int qcow2_apply_pending(Qcow2 *q)
{
    pthread_mutex_lock(&q->meta_lock);
    bool any = q->npending_durable > 0;
    pthread_mutex_unlock(&q->meta_lock);
    if (!any)
        return 0;
    pthread_rwlock_wrlock(&q->io_lock);
    pthread_mutex_lock(&q->meta_lock);
    int ret = 0;
    size_t n = q->npending_durable;
    for (size_t i = 0; i < n; i++) {
        int r = qcow2_update_refcount(q, q->pending[i].offset, q->pending[i].bytes, -1);
        if (r < 0 && ret == 0)
            ret = r;      /* leaves a leak at worst */
    }
    memmove(q->pending, q->pending + n, (q->npending - n) * sizeof(*q->pending));
    q->npending -= n;
    q->npending_durable = 0;
    pthread_mutex_unlock(&q->meta_lock);
    pthread_rwlock_unlock(&q->io_lock);
    return ret;
}

void qcow2_compressed_range(Qcow2 *q, uint64_t l2e, uint64_t *start, uint64_t *bytes)
{
    uint64_t off = l2e & q->coffset_mask;
    uint64_t nsec = ((l2e >> q->csize_shift) & q->csize_mask) + 1;
    *start = off & ~511ull;
    *bytes = nsec * 512;
}
