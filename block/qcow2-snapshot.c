/*
 * qcow2 internal snapshots: the snapshot table (loaded and checked at
 * open, rewritten whole to new clusters and then named in the header with
 * one 12-byte write), and create / apply / delete by walking L1 trees and
 * adjusting refcounts: a cluster reached from n trees has refcount n, and
 * a write into a cluster with refcount > 1 copies it first (qcow2.c).
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "block/qcow2.h"
#include "core/util.h"

#define MAX_EXTRA 1024

void qcow2_free_snapshots(Qcow2 *q)
{
    for (uint32_t i = 0; q->snaps && i < q->nb_snapshots; i++) {
        free(q->snaps[i].id);
        free(q->snaps[i].name);
        free(q->snaps[i].extra);
    }
    free(q->snaps);
    q->snaps = NULL;
}

int qcow2_load_snapshots(Qcow2 *q, char *err, size_t errlen)
{
    q->snaps = xcalloc(q->nb_snapshots ? q->nb_snapshots : 1, sizeof(*q->snaps));
    uint64_t p = q->snapshots_offset, fsize = q->file->file_size, cs = q->cluster_size;
    for (uint32_t i = 0; i < q->nb_snapshots; i++) {
        Qcow2Snapshot *s = &q->snaps[i];
        uint8_t h[40];
        if (p > fsize || fsize - p < 40 || bfile_pread(q->file, p, h, 40) < 0)
            goto too_big;
        s->l1_offset = qcow2_be64(h);
        s->l1_size = qcow2_be32(h + 8);
        uint32_t id_len = (uint32_t)h[12] << 8 | h[13], name_len = (uint32_t)h[14] << 8 | h[15];
        s->date_sec = qcow2_be32(h + 16);
        s->date_nsec = qcow2_be32(h + 20);
        s->vm_clock_nsec = qcow2_be64(h + 24);
        s->vm_state_size = qcow2_be32(h + 32);
        s->extra_size = qcow2_be32(h + 36);
        s->disk_size = q->size;
        s->icount = ~0ull;
        if (s->extra_size > MAX_EXTRA) {
            snprintf(err, errlen, "%s: snapshot %u has %u bytes of extra data (too many)",
                     q->filename, i, s->extra_size);
            return -1;
        }
        if (q->version >= 3 && s->extra_size < 16) {
            snprintf(err, errlen, "%s: snapshot %u has too little extra data for version 3",
                     q->filename, i);
            return -1;
        }
        uint64_t len = 40ull + s->extra_size + id_len + name_len;
        if (fsize - p < len)
            goto too_big;
        uint8_t *b = xmalloc(len - 40 + 1);
        int r = bfile_pread(q->file, p + 40, b, len - 40);
        if (r < 0) {
            free(b);
            goto too_big;
        }
        s->extra = xmalloc(s->extra_size + 1);
        memcpy(s->extra, b, s->extra_size);
        if (s->extra_size >= 8 && qcow2_be64(b))
            s->vm_state_size = qcow2_be64(b);
        if (s->extra_size >= 16)
            s->disk_size = qcow2_be64(b + 8);
        if (s->extra_size >= 24)
            s->icount = qcow2_be64(b + 16);
        s->id = xcalloc(1, id_len + 1);
        memcpy(s->id, b + s->extra_size, id_len);
        s->name = xcalloc(1, name_len + 1);
        memcpy(s->name, b + s->extra_size + id_len, name_len);
        free(b);
        p += (len + 7) & ~7ull;
        if ((s->l1_offset & (cs - 1)) || (uint64_t)s->l1_size * 8 > QCOW2_MAX_L1_BYTES ||
            (s->l1_size && (s->l1_offset == 0 || s->l1_offset > fsize ||
                            (uint64_t)s->l1_size * 8 > fsize - s->l1_offset))) {
            snprintf(err, errlen, "%s: snapshot %u: L1 table (0x%" PRIx64 ", %u entries) "
                     "is unaligned, too large or past the end of the file",
                     q->filename, i, s->l1_offset, s->l1_size);
            return -1;
        }
    }
    q->snap_table_bytes = p - q->snapshots_offset;
    return 0;
too_big:
    snprintf(err, errlen, "%s: snapshot table runs past the end of the file", q->filename);
    return -1;
}

/* ---- tree walks ---- */

/* Whether [off, off + bytes) lies inside the file (the last cluster may
 * be partly past its end, as a compressed cluster's last sector). */
static bool in_file(Qcow2 *q, uint64_t off, uint64_t bytes)
{
    uint64_t cs = q->cluster_size;
    uint64_t end = (q->file->file_size + cs - 1) & ~(cs - 1);
    return off < end && bytes <= end - off;
}

/* One pass over the tree: check (delta 0: every table readable, every
 * entry well-formed and inside the file) or adjust the refcounts. */
static int tree_pass(Qcow2 *q, const uint64_t *l1, uint32_t l1_size, int64_t delta)
{
    uint64_t cs = q->cluster_size;
    uint8_t *t = xmalloc(cs);
    int r = 0;
    for (uint32_t i = 0; i < l1_size && r == 0; i++) {
        uint64_t l2off = l1[i] & QCOW2_OFFSET_MASK;
        if (!l2off)
            continue;
        if (!in_file(q, l2off, cs)) {
            r = -EIO;
            break;
        }
        uint8_t *c = qcow2_get_l2(q, l2off, &r);
        if (!c)
            break;
        memcpy(t, c, cs);
        for (uint64_t j = 0; j < q->l2_entries && r == 0; j++) {
            Qcow2Mapping m;
            const uint8_t *e = t + j * q->l2_entry_size;
            if (qcow2_decode_l2(q, e, &m) < 0) {
                r = -EIO;
                break;
            }
            if (m.kind == QC_UNALLOCATED)
                continue;
            uint64_t start = m.host, bytes = cs;
            if (m.kind == QC_COMPRESSED)
                qcow2_compressed_range(q, qcow2_be64(e), &start, &bytes);
            if (!delta && !in_file(q, start, bytes))
                r = -EIO;
            else if (delta)
                r = qcow2_update_refcount(q, start, bytes, delta);
        }
        if (r == 0 && delta)
            r = qcow2_update_refcount(q, l2off, cs, delta);
    }
    free(t);
    return r;
}

int qcow2_tree_refcount(Qcow2 *q, const uint64_t *l1, uint32_t l1_size, int64_t delta)
{
    /* A tree naming clusters past the end of the file (a damaged image)
     * is refused before any refcount changes: half an update would be
     * worse than none, and an increment there would grow the file by as
     * much as the bad offset says. */
    int r = tree_pass(q, l1, l1_size, 0);
    return r < 0 || !delta ? r : tree_pass(q, l1, l1_size, delta);
}

int qcow2_fix_copied(Qcow2 *q)
{
    int r = 0;
    for (uint32_t i = 0; i < q->l1_size && r == 0; i++) {
        uint64_t l2off = q->l1[i] & QCOW2_OFFSET_MASK;
        if (!l2off)
            continue;
        uint64_t rc;
        if ((r = qcow2_get_refcount(q, l2off >> q->cluster_bits, &rc)) < 0)
            break;
        uint64_t want = l2off | (rc == 1 ? QCOW2_OFLAG_COPIED : 0);
        if (q->l1[i] != want) {
            q->l1[i] = want;
            q->l1_dirty = true;
            q->l1_dirty_map[i] = 1;
        }
        if (rc != 1)
            continue;             /* shared table: never written through */
        for (uint64_t j = 0; j < q->l2_entries && r == 0; j++) {
            uint8_t *t = qcow2_get_l2(q, l2off, &r);
            if (!t)
                break;
            uint8_t *e = t + j * q->l2_entry_size;
            Qcow2Mapping m;
            if (qcow2_decode_l2(q, e, &m) < 0 || m.kind != QC_NORMAL)
                continue;
            if ((r = qcow2_get_refcount(q, m.host >> q->cluster_bits, &rc)) < 0)
                break;
            uint64_t v = qcow2_be64(e);
            uint64_t nv = rc == 1 ? v | QCOW2_OFLAG_COPIED : v & ~QCOW2_OFLAG_COPIED;
            if (nv != v) {
                t = qcow2_get_l2(q, l2off, &r);
                qcow2_put_be64(t + j * q->l2_entry_size, nv);
                qcow2_l2_mark_dirty(q, l2off);
            }
        }
    }
    return r;
}

/* ---- the table ---- */

static uint8_t *serialize(Qcow2 *q, size_t *len)
{
    size_t cap = 64, n = 0;
    uint8_t *b = xcalloc(1, cap);
    for (uint32_t i = 0; i < q->nb_snapshots; i++) {
        Qcow2Snapshot *s = &q->snaps[i];
        uint32_t extra = s->extra_size;
        if (q->version >= 3 && extra < 24)
            extra = 24;
        size_t id_len = strlen(s->id), name_len = strlen(s->name);
        size_t ent = (40 + extra + id_len + name_len + 7) & ~(size_t)7;
        while (n + ent > cap)
            cap *= 2;
        b = xrealloc(b, cap);
        memset(b + n, 0, cap - n);
        uint8_t *h = b + n;
        qcow2_put_be64(h, s->l1_offset);
        qcow2_put_be32(h + 8, s->l1_size);
        h[12] = (uint8_t)(id_len >> 8);
        h[13] = (uint8_t)id_len;
        h[14] = (uint8_t)(name_len >> 8);
        h[15] = (uint8_t)name_len;
        qcow2_put_be32(h + 16, s->date_sec);
        qcow2_put_be32(h + 20, s->date_nsec);
        qcow2_put_be64(h + 24, s->vm_clock_nsec);
        qcow2_put_be32(h + 32, s->vm_state_size > 0xffffffffu ? 0 : (uint32_t)s->vm_state_size);
        qcow2_put_be32(h + 36, extra);
        if (s->extra_size)
            memcpy(h + 40, s->extra, s->extra_size);
        if (extra >= 16) {
            qcow2_put_be64(h + 40, s->vm_state_size);
            qcow2_put_be64(h + 48, s->disk_size);
        }
        if (extra >= 24)
            qcow2_put_be64(h + 56, s->icount);
        memcpy(h + 40 + extra, s->id, id_len);
        memcpy(h + 40 + extra + id_len, s->name, name_len);
        n += ent;
    }
    *len = n;
    return b;
}

/* Writes the table to new clusters and names it in the header; frees the
 * old one.  meta_lock held, metadata flushed. */
static int write_table(Qcow2 *q)
{
    size_t len;
    uint8_t *b = serialize(q, &len);
    uint64_t cs = q->cluster_size, off = 0;
    int r = 0;
    if (len) {
        int64_t h = qcow2_alloc_clusters(q, (len + cs - 1) / cs);
        if (h < 0)
            r = (int)h;
        off = (uint64_t)h;
        if (r == 0)
            r = qcow2_flush_metadata(q, false);
        if (r == 0)
            r = bfile_pwrite(q->file, off, b, len);
    }
    free(b);
    if (r == 0)
        r = bfile_flush(q->file);
    uint8_t hdr[12];
    qcow2_put_be32(hdr, q->nb_snapshots);
    qcow2_put_be64(hdr + 4, off);
    if (r == 0)
        r = bfile_pwrite(q->file, 60, hdr, 12);
    if (r == 0)
        r = bfile_flush(q->file);
    if (r < 0)
        return r;
    uint64_t old = q->snapshots_offset, oldlen = q->snap_table_bytes;
    q->snapshots_offset = off;
    q->snap_table_bytes = len;
    if (old && oldlen)
        r = qcow2_update_refcount(q, old, oldlen, -1);
    return r;
}

int qcow2_snapshot_find(Qcow2 *q, const char *name)
{
    for (uint32_t i = 0; i < q->nb_snapshots; i++)
        if (!strcmp(q->snaps[i].id, name))
            return (int)i;
    for (uint32_t i = 0; i < q->nb_snapshots; i++)
        if (!strcmp(q->snaps[i].name, name))
            return (int)i;
    return -1;
}

static int begin(Qcow2 *q)
{
    if (!q->writable)
        return -EROFS;
    int r = qcow2_flush(q);
    pthread_mutex_lock(&q->meta_lock);
    if (r == 0)
        r = qcow2_prepare_write(q);
    return r;
}

static int end(Qcow2 *q, int r)
{
    if (r == 0)
        r = qcow2_flush_metadata(q, true);
    pthread_mutex_unlock(&q->meta_lock);
    return r;
}

/* A new snapshot of the active tree named sn->name, with sn's dates,
 * clock and VM state size. */
static int snapshot_create(Qcow2 *q, const BlockSnapshotInfo *sn, char *err, size_t errlen)
{
    const char *name = sn->name;
    for (uint32_t i = 0; i < q->nb_snapshots; i++)
        if (!strcmp(q->snaps[i].name, name)) {
            snprintf(err, errlen, "Could not create snapshot '%s': -17 (File exists)", name);
            return -EEXIST;
        }
    if (q->nb_snapshots >= QCOW2_MAX_SNAPSHOTS) {
        snprintf(err, errlen, "Could not create snapshot '%s': too many snapshots", name);
        return -EFBIG;
    }
    int r = begin(q);
    uint64_t cs = q->cluster_size, l1_bytes = (uint64_t)q->l1_size * 8;
    int64_t l1off = 0;
    if (r == 0 && l1_bytes) {
        /* Refcounts first, then the shared flags, then the copy of L1. */
        r = qcow2_tree_refcount(q, q->l1, q->l1_size, 1);
        if (r == 0)
            r = qcow2_flush_metadata(q, true);
        for (uint32_t i = 0; r == 0 && i < q->l1_size; i++) {
            uint64_t l2off = q->l1[i] & QCOW2_OFFSET_MASK;
            if (!l2off)
                continue;
            q->l1[i] = l2off;
            q->l1_dirty = true;
            q->l1_dirty_map[i] = 1;
            uint8_t *t = qcow2_get_l2(q, l2off, &r);
            if (!t)
                break;
            for (uint64_t j = 0; j < q->l2_entries; j++) {
                uint8_t *e = t + j * q->l2_entry_size;
                qcow2_put_be64(e, qcow2_be64(e) & ~QCOW2_OFLAG_COPIED);
            }
            qcow2_l2_mark_dirty(q, l2off);
        }
        if (r == 0)
            r = qcow2_flush_metadata(q, true);
        l1off = r < 0 ? r : qcow2_alloc_clusters(q, (l1_bytes + cs - 1) / cs);
        if (l1off < 0)
            r = (int)l1off;
        if (r == 0) {
            uint8_t *raw = xcalloc(1, l1_bytes);
            for (uint32_t i = 0; i < q->l1_size; i++)
                qcow2_put_be64(raw + 8ull * i, q->l1[i] & ~QCOW2_OFLAG_COPIED);
            r = bfile_pwrite(q->file, (uint64_t)l1off, raw, l1_bytes);
            free(raw);
        }
    }
    if (r == 0) {
        uint32_t max_id = 0;
        for (uint32_t i = 0; i < q->nb_snapshots; i++)
            max_id = MAX(max_id, (uint32_t)strtoul(q->snaps[i].id, NULL, 10));
        q->snaps = xrealloc(q->snaps, (q->nb_snapshots + 1) * sizeof(*q->snaps));
        q->snaps[q->nb_snapshots] = (Qcow2Snapshot){
            .l1_offset = (uint64_t)l1off, .l1_size = q->l1_size,
            .id = xasprintf("%u", max_id + 1), .name = xstrdup(name),
            .date_sec = sn->date_sec, .date_nsec = sn->date_nsec,
            .vm_clock_nsec = sn->vm_clock_nsec, .vm_state_size = sn->vm_state_size,
            .disk_size = q->size, .icount = sn->icount,
        };
        q->nb_snapshots++;
        r = qcow2_flush_metadata(q, true);
        if (r == 0)
            r = write_table(q);
    }
    r = end(q, r);
    if (r < 0)
        snprintf(err, errlen, "Could not create snapshot '%s': %d (%s)", name, r, strerror(-r));
    return r;
}

int qcow2_snapshot_create(Qcow2 *q, const char *name, char *err, size_t errlen)
{
    /* A disk-only snapshot as qemu-img makes it: no VM state, clock and
     * icount 0. */
    BlockSnapshotInfo sn = { .icount = 0 };
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    sn.date_sec = (uint32_t)ts.tv_sec;
    sn.date_nsec = (uint32_t)ts.tv_nsec;
    if (strlen(name) >= sizeof sn.name) {
        snprintf(err, errlen, "Could not create snapshot '%s': name too long", name);
        return -EINVAL;
    }
    snprintf(sn.name, sizeof sn.name, "%s", name);
    return snapshot_create(q, &sn, err, errlen);
}

/* Makes snapshot i the active tree (a larger L1 table first when the
 * snapshot's is larger: it may map its VM state past the disk). */
static int snapshot_apply(Qcow2 *q, int i, const char *name, char *err, size_t errlen)
{
    Qcow2Snapshot *s = &q->snaps[i];
    int r = begin(q);
    if (r == 0 && s->l1_size > q->l1_size)
        r = qcow2_grow_l1(q, s->l1_size);
    uint64_t *snap_l1 = xcalloc(q->l1_size ? q->l1_size : 1, 8);
    uint64_t *old_l1 = xmalloc((q->l1_size ? q->l1_size : 1) * 8ull);
    memcpy(old_l1, q->l1, q->l1_size * 8ull);
    if (r == 0 && s->l1_size) {
        uint8_t *raw = xmalloc(s->l1_size * 8ull);
        r = bfile_pread(q->file, s->l1_offset, raw, s->l1_size * 8ull);
        for (uint32_t k = 0; k < s->l1_size; k++)
            snap_l1[k] = qcow2_be64(raw + 8ull * k) & ~QCOW2_OFLAG_COPIED;
        free(raw);
        for (uint32_t k = 0; r == 0 && k < s->l1_size; k++)
            if (snap_l1[k] & QCOW2_L1_RESERVED)
                r = -EIO;
    }
    if (r == 0)
        r = qcow2_tree_refcount(q, snap_l1, s->l1_size, 1);
    if (r == 0)
        r = qcow2_flush_metadata(q, true);
    if (r == 0) {
        memcpy(q->l1, snap_l1, q->l1_size * 8ull);
        memset(q->l1_dirty_map, 1, q->l1_size);
        q->l1_dirty = true;
        r = qcow2_flush_metadata(q, true);
    }
    if (r == 0 && s->disk_size != q->size) {
        uint8_t b[8];
        qcow2_put_be64(b, s->disk_size);
        r = bfile_pwrite(q->file, 24, b, 8);
        if (r == 0)
            q->size = s->disk_size;
    }
    if (r == 0)
        r = qcow2_tree_refcount(q, old_l1, q->l1_size, -1);
    if (r == 0)
        r = qcow2_flush_metadata(q, true);
    if (r == 0)
        r = qcow2_fix_copied(q);
    free(snap_l1);
    free(old_l1);
    r = end(q, r);
    if (r < 0)
        snprintf(err, errlen, "Could not apply snapshot '%s': %d (%s)", name, r, strerror(-r));
    return r;
}

int qcow2_snapshot_apply(Qcow2 *q, const char *name, char *err, size_t errlen)
{
    int i = qcow2_snapshot_find(q, name);
    if (i < 0) {
        snprintf(err, errlen, "Could not apply snapshot '%s': -2 (No such file or directory)", name);
        return -ENOENT;
    }
    return snapshot_apply(q, i, name, err, errlen);
}

static int snapshot_delete(Qcow2 *q, int i, const char *name, char *err, size_t errlen)
{
    int r = begin(q);
    Qcow2Snapshot s = q->snaps[i];
    uint64_t *l1 = xcalloc(s.l1_size ? s.l1_size : 1, 8);
    if (r == 0 && s.l1_size) {
        uint8_t *raw = xmalloc(s.l1_size * 8ull);
        r = bfile_pread(q->file, s.l1_offset, raw, s.l1_size * 8ull);
        for (uint32_t k = 0; k < s.l1_size; k++)
            l1[k] = qcow2_be64(raw + 8ull * k);
        free(raw);
    }
    if (r == 0) {
        memmove(&q->snaps[i], &q->snaps[i + 1], (q->nb_snapshots - i - 1) * sizeof(*q->snaps));
        q->nb_snapshots--;
        r = write_table(q);
        if (r < 0) {
            /* put it back in memory: the disk still has it */
            memmove(&q->snaps[i + 1], &q->snaps[i], (q->nb_snapshots - i) * sizeof(*q->snaps));
            q->snaps[i] = s;
            q->nb_snapshots++;
        }
    }
    if (r == 0) {
        free(s.id);
        free(s.name);
        free(s.extra);
        r = qcow2_tree_refcount(q, l1, s.l1_size, -1);
        if (r == 0 && s.l1_size)
            r = qcow2_update_refcount(q, s.l1_offset,
                                      (s.l1_size * 8ull + q->cluster_size - 1) & ~(q->cluster_size - 1),
                                      -1);
        if (r == 0)
            r = qcow2_flush_metadata(q, true);
        if (r == 0)
            r = qcow2_fix_copied(q);
    }
    free(l1);
    r = end(q, r);
    if (r < 0)
        snprintf(err, errlen, "Could not delete snapshot '%s': %d (%s)", name, r, strerror(-r));
    return r;
}

int qcow2_snapshot_delete(Qcow2 *q, const char *name, char *err, size_t errlen)
{
    int i = qcow2_snapshot_find(q, name);
    if (i < 0) {
        snprintf(err, errlen, "Could not delete snapshot '%s': snapshot not found", name);
        return -ENOENT;
    }
    return snapshot_delete(q, i, name, err, errlen);
}

/* ---- whole-VM snapshots: the VM state area ---- */

uint64_t qcow2_vm_state_offset(const Qcow2 *q, uint64_t disk_size)
{
    unsigned shift = q->cluster_bits + q->l2_bits;      /* bytes one L2 table maps */
    return ((disk_size + (UINT64_C(1) << shift) - 1) >> shift) << shift;
}

int qcow2_save_vmstate(Qcow2 *q, uint64_t pos, const void *buf, size_t len)
{
    uint64_t base = qcow2_vm_state_offset(q, q->size);
    if (pos > (UINT64_C(1) << 56) - base)
        return -EFBIG;
    return qcow2_write_area(q, base + pos, buf, len);
}

int qcow2_load_vmstate(Qcow2 *q, int i, uint64_t pos, void *buf, size_t len)
{
    if (i < 0 || (uint32_t)i >= q->nb_snapshots)
        return -ENOENT;
    const Qcow2Snapshot *s = &q->snaps[i];
    if (pos > s->vm_state_size || len > s->vm_state_size - pos)
        return -EIO;
    uint64_t base = qcow2_vm_state_offset(q, s->disk_size);
    if (base >> 56 || pos > (UINT64_C(1) << 56) - base)
        return -EIO;
    /* The snapshot's L1 table as on disk, checked like the active one. */
    uint32_t n = s->l1_size;
    uint8_t *raw = xmalloc(n ? n * 8ull : 1);
    uint64_t *l1 = xcalloc(n ? n : 1, 8);
    int r = bfile_pread(q->file, s->l1_offset, raw, n * 8ull);
    for (uint32_t k = 0; k < n && r == 0; k++) {
        l1[k] = qcow2_be64(raw + 8ull * k) & ~QCOW2_OFLAG_COPIED;
        uint64_t l2off = l1[k] & QCOW2_OFFSET_MASK;
        if ((l1[k] & QCOW2_L1_RESERVED) || (l2off & (q->cluster_size - 1)) ||
            (l2off && l2off < q->cluster_size))
            r = -EIO;
    }
    free(raw);
    if (r == 0)
        r = qcow2_read_l1(q, l1, n, base + pos, buf, len);
    free(l1);
    return r;
}

int qcow2_drop_vmstate(Qcow2 *q)
{
    if (!q->writable)
        return -EROFS;
    uint32_t first = (uint32_t)(qcow2_vm_state_offset(q, q->size) >> (q->cluster_bits + q->l2_bits));
    if (first >= q->l1_size)
        return 0;
    int r = qcow2_flush(q);
    if (r < 0)
        return r;
    /* Clusters may become free: no I/O may be in flight into them. */
    pthread_rwlock_wrlock(&q->io_lock);
    pthread_mutex_lock(&q->meta_lock);
    r = qcow2_prepare_write(q);
    uint32_t n = q->l1_size - first;
    uint64_t *old = xmalloc(n * 8ull);
    memcpy(old, q->l1 + first, n * 8ull);
    bool any = false;
    for (uint32_t k = 0; k < n && r == 0; k++) {
        if (!q->l1[first + k])
            continue;
        q->l1[first + k] = 0;
        q->l1_dirty_map[first + k] = 1;
        q->l1_dirty = any = true;
    }
    /* The references go first, then the refcounts. */
    if (r == 0 && any)
        r = qcow2_flush_metadata(q, true);
    if (r == 0 && any)
        r = qcow2_tree_refcount(q, old, n, -1);
    if (r == 0 && any)
        r = qcow2_flush_metadata(q, true);
    free(old);
    pthread_mutex_unlock(&q->meta_lock);
    pthread_rwlock_unlock(&q->io_lock);
    return r;
}

/* ---- the block layer's BlockSnapshotOps ---- */

static int find_name(Qcow2 *q, const char *name)
{
    for (uint32_t i = 0; i < q->nb_snapshots; i++)
        if (!strcmp(q->snaps[i].name, name))
            return (int)i;
    return -1;
}

static int ops_list(void *state, BlockSnapshotInfo **out)
{
    Qcow2 *q = state;
    *out = xcalloc(q->nb_snapshots ? q->nb_snapshots : 1, sizeof(**out));
    for (uint32_t i = 0; i < q->nb_snapshots; i++) {
        const Qcow2Snapshot *s = &q->snaps[i];
        BlockSnapshotInfo *o = &(*out)[i];
        snprintf(o->id, sizeof o->id, "%s", s->id);
        snprintf(o->name, sizeof o->name, "%s", s->name);
        o->vm_state_size = s->vm_state_size;
        o->date_sec = s->date_sec;
        o->date_nsec = s->date_nsec;
        o->vm_clock_nsec = s->vm_clock_nsec;
        o->icount = s->icount;
    }
    return (int)q->nb_snapshots;
}

static int ops_create(void *state, const BlockSnapshotInfo *sn, char *err, size_t errlen)
{
    return snapshot_create(state, sn, err, errlen);
}

static int ops_goto(void *state, const char *name, char *err, size_t errlen)
{
    int i = find_name(state, name);
    if (i < 0) {
        snprintf(err, errlen, "Could not apply snapshot '%s': -2 (No such file or directory)", name);
        return -ENOENT;
    }
    return snapshot_apply(state, i, name, err, errlen);
}

static int ops_remove(void *state, const char *name, char *err, size_t errlen)
{
    int i = find_name(state, name);
    if (i < 0) {
        snprintf(err, errlen, "Could not delete snapshot '%s': snapshot not found", name);
        return -ENOENT;
    }
    return snapshot_delete(state, i, name, err, errlen);
}

static int ops_save_vmstate(void *state, uint64_t pos, const void *buf, size_t len)
{
    return qcow2_save_vmstate(state, pos, buf, len);
}

static int ops_load_vmstate(void *state, const char *name, uint64_t pos, void *buf, size_t len)
{
    return qcow2_load_vmstate(state, find_name(state, name), pos, buf, len);
}

static int ops_drop_vmstate(void *state)
{
    return qcow2_drop_vmstate(state);
}

const BlockSnapshotOps qcow2_snapshot_ops = {
    .list = ops_list,
    .create = ops_create,
    .goto_snapshot = ops_goto,
    .remove = ops_remove,
    .save_vmstate = ops_save_vmstate,
    .load_vmstate = ops_load_vmstate,
    .drop_vmstate = ops_drop_vmstate,
};
