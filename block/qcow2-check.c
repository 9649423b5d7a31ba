/*
 * qcow2 consistency check and repair, as `qemu-img check` does it: count
 * the references to every host cluster (header, L1 tables, refcount table
 * and blocks, snapshot table, L2 tables, data and compressed clusters of
 * the active tree and of every snapshot), compare with the stored
 * refcounts (stored > references: a leak; stored < references: an error),
 * and check the COPIED flags of the active tree.  Repair sets stored
 * refcounts to the references (leaks with FIX_LEAKS, errors with
 * FIX_ERRORS) and fixes COPIED flags (FIX_ERRORS).  Messages are QEMU's.
 * Caller holds meta_lock, or is the only user of the image.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "block/qcow2.h"
#include "core/util.h"

typedef struct Refs {
    uint32_t *n;
    uint64_t size;              /* entries */
    uint64_t limit;             /* clusters a reference may reach */
} Refs;

static void say(FILE *out, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void say(FILE *out, const char *fmt, ...)
{
    if (!out)
        return;
    va_list ap;
    va_start(ap, fmt);
    vfprintf(out, fmt, ap);
    va_end(ap);
}

static void inc(Qcow2 *q, Refs *rf, Qcow2CheckResult *res, FILE *out, uint64_t off, uint64_t bytes)
{
    if (!bytes)
        return;
    uint64_t first = off >> q->cluster_bits, last = (off + bytes - 1) >> q->cluster_bits;
    if (last >= rf->limit || off + bytes < off) {
        say(out, "ERROR: reference to 0x%" PRIx64 "+0x%" PRIx64 " beyond the end of the image file\n",
            off, bytes);
        res->corruptions++;
        return;
    }
    if (last >= rf->size) {
        uint64_t ns = MAX(last + 1, rf->size * 2);
        rf->n = xrealloc(rf->n, ns * sizeof(*rf->n));
        memset(rf->n + rf->size, 0, (ns - rf->size) * sizeof(*rf->n));
        rf->size = ns;
    }
    for (uint64_t c = first; c <= last; c++)
        if (rf->n[c] < UINT32_MAX)
            rf->n[c]++;
}

/* Counts the references of one L1 tree; active: statistics and flags. */
static int walk(Qcow2 *q, Refs *rf, Qcow2CheckResult *res, FILE *out, unsigned fix,
                uint64_t *l1, uint32_t l1_size, bool active)
{
    uint64_t cs = q->cluster_size;
    uint8_t *t = xmalloc(cs);
    uint64_t prev_host = 0;
    for (uint32_t i = 0; i < l1_size; i++) {
        uint64_t e = l1[i], l2off = e & QCOW2_OFFSET_MASK;
        if (e & QCOW2_L1_RESERVED) {
            say(out, "ERROR: L1 entry %u has reserved bits set\n", i);
            res->corruptions++;
            continue;
        }
        if (!l2off)
            continue;
        if (l2off & (cs - 1)) {
            say(out, "ERROR l2_offset=%" PRIx64 ": Table is not cluster aligned; L1 entry corrupted\n",
                l2off);
            res->corruptions++;
            continue;
        }
        inc(q, rf, res, out, l2off, cs);
        int r;
        uint8_t *c = l2off < q->file->file_size ? qcow2_get_l2(q, l2off, &r) : NULL;
        if (!c) {
            res->check_errors++;
            continue;
        }
        memcpy(t, c, cs);
        bool dirty = false;
        for (uint64_t j = 0; j < q->l2_entries; j++) {
            uint8_t *ent = t + j * q->l2_entry_size;
            Qcow2Mapping m;
            if (qcow2_decode_l2(q, ent, &m) < 0) {
                say(out, "ERROR: invalid L2 entry 0x%016" PRIx64 " (L1 index %u, L2 index %" PRIu64 ")\n",
                    qcow2_be64(ent), i, j);
                res->corruptions++;
                continue;
            }
            if (m.kind == QC_COMPRESSED) {
                uint64_t start, bytes;
                qcow2_compressed_range(q, qcow2_be64(ent), &start, &bytes);
                inc(q, rf, res, out, start, bytes);
                if (active) {
                    res->allocated_clusters++;
                    res->compressed_clusters++;
                    res->fragmented_clusters++;
                }
            } else if (m.kind == QC_NORMAL) {
                inc(q, rf, res, out, m.host, cs);
                if (active) {
                    res->allocated_clusters++;
                    if (prev_host && m.host != prev_host + cs)
                        res->fragmented_clusters++;
                    prev_host = m.host;
                }
            }
            (void)dirty;
        }
    }
    free(t);
    return 0;
}

static int check_copied(Qcow2 *q, Qcow2CheckResult *res, FILE *out, unsigned fix)
{
    for (uint32_t i = 0; i < q->l1_size; i++) {
        uint64_t l2off = q->l1[i] & QCOW2_OFFSET_MASK;
        if (!l2off || (l2off & (q->cluster_size - 1)) || l2off >= q->file->file_size)
            continue;
        uint64_t rc;
        int r = qcow2_get_refcount(q, l2off >> q->cluster_bits, &rc);
        if (r < 0)
            return r;
        bool copied = q->l1[i] & QCOW2_OFLAG_COPIED;
        if ((rc == 1) != copied) {
            say(out, "%s OFLAG_COPIED L2 cluster: l1_index=%u l1_entry=%" PRIx64 " refcount=%" PRIu64 "\n",
                fix & QCOW2_FIX_ERRORS ? "Repairing" : "ERROR", i, q->l1[i], rc);
            if (fix & QCOW2_FIX_ERRORS) {
                q->l1[i] = l2off | (rc == 1 ? QCOW2_OFLAG_COPIED : 0);
                q->l1_dirty = true;
                q->l1_dirty_map[i] = 1;
                res->corruptions_fixed++;
            }
            res->corruptions++;
        }
        for (uint64_t j = 0; j < q->l2_entries; j++) {
            uint8_t *t = qcow2_get_l2(q, l2off, &r);
            if (!t)
                return r;
            uint8_t *ent = t + j * q->l2_entry_size;
            Qcow2Mapping m;
            if (qcow2_decode_l2(q, ent, &m) < 0 || m.kind != QC_NORMAL)
                continue;
            uint64_t drc;
            if ((r = qcow2_get_refcount(q, m.host >> q->cluster_bits, &drc)) < 0)
                return r;
            if ((drc == 1) != m.copied) {
                uint64_t v = qcow2_be64(ent);
                say(out, "%s OFLAG_COPIED data cluster: l2_entry=%" PRIx64 " refcount=%" PRIu64 "\n",
                    fix & QCOW2_FIX_ERRORS ? "Repairing" : "ERROR", v, drc);
                res->corruptions++;
                if ((fix & QCOW2_FIX_ERRORS) && rc == 1) {
                    t = qcow2_get_l2(q, l2off, &r);
                    qcow2_put_be64(t + j * q->l2_entry_size,
                                   drc == 1 ? v | QCOW2_OFLAG_COPIED : v & ~QCOW2_OFLAG_COPIED);
                    qcow2_l2_mark_dirty(q, l2off);
                    res->corruptions_fixed++;
                }
            }
        }
    }
    return 0;
}

int qcow2_check(Qcow2 *q, unsigned fix, Qcow2CheckResult *res, FILE *out)
{
    memset(res, 0, sizeof(*res));
    uint64_t cs = q->cluster_size;
    if (!q->writable)
        fix = 0;
    int r = 0;
    if (q->writable && q->prepared && (r = qcow2_flush_metadata(q, false)) < 0)
        return r;
    Refs rf = { 0 };
    uint64_t fcl = qcow2_file_clusters(q);
    rf.limit = fcl + 1;
    rf.size = fcl + 1;
    rf.n = xcalloc(rf.size, sizeof(*rf.n));

    inc(q, &rf, res, out, 0, cs);
    inc(q, &rf, res, out, q->l1_offset, (uint64_t)q->l1_size * 8);
    inc(q, &rf, res, out, q->rt_offset, (uint64_t)q->rt_clusters * cs);
    for (uint64_t i = 0; i < q->rt_entries; i++)
        if (q->rt[i])
            inc(q, &rf, res, out, q->rt[i], cs);
    if (q->nb_snapshots)
        inc(q, &rf, res, out, q->snapshots_offset, q->snap_table_bytes);
    for (uint32_t s = 0; s < q->nb_snapshots; s++) {
        Qcow2Snapshot *sn = &q->snaps[s];
        inc(q, &rf, res, out, sn->l1_offset, (uint64_t)sn->l1_size * 8);
        uint64_t *l1 = xcalloc(sn->l1_size ? sn->l1_size : 1, 8);
        uint8_t *raw = xmalloc(sn->l1_size * 8ull + 1);
        if (bfile_pread(q->file, sn->l1_offset, raw, sn->l1_size * 8ull) < 0)
            res->check_errors++;
        for (uint32_t k = 0; k < sn->l1_size; k++)
            l1[k] = qcow2_be64(raw + 8ull * k);
        free(raw);
        walk(q, &rf, res, out, fix, l1, sn->l1_size, false);
        free(l1);
    }
    walk(q, &rf, res, out, fix, q->l1, q->l1_size, true);

    /* Compare with the stored refcounts, as far as the file and the
     * references reach (as QEMU: refcounts past both are not looked at). */
    uint64_t n = rf.size;
    uint64_t highest = 0;
    for (uint64_t c = 0; c < n; c++) {
        uint64_t idx = c / q->rb_entries;
        if (c % q->rb_entries == 0 && c >= rf.size && (idx >= q->rt_entries || !q->rt[idx])) {
            c += q->rb_entries - 1;   /* no block and no reference: nothing here */
            continue;
        }
        uint64_t stored;
        if ((r = qcow2_get_refcount(q, c, &stored)) < 0) {
            res->check_errors++;
            continue;
        }
        uint64_t want = c < rf.size ? rf.n[c] : 0;
        if (stored || want)
            highest = c + 1;
        if (stored == want)
            continue;
        bool leak = stored > want;
        bool repair = leak ? (fix & QCOW2_FIX_LEAKS) : (fix & QCOW2_FIX_ERRORS);
        bool has_block = idx < q->rt_entries && q->rt[idx];
        if (repair && has_block && want <= q->refcount_max) {
            say(out, "Repairing cluster %" PRIu64 " refcount=%" PRIu64 " reference=%" PRIu64 "\n",
                c, stored, want);
            r = qcow2_update_refcount(q, c << q->cluster_bits, cs, (int64_t)(want - stored));
            if (r == 0) {
                if (leak)
                    res->leaks_fixed++;
                else
                    res->corruptions_fixed++;
            }
        } else {
            say(out, "%s cluster %" PRIu64 " refcount=%" PRIu64 " reference=%" PRIu64 "\n",
                leak ? "Leaked" : "ERROR", c, stored, want);
        }
        if (leak)
            res->leaks++;
        else
            res->corruptions++;
    }
    free(rf.n);
    r = check_copied(q, res, out, fix);
    if (r == 0 && fix && (res->leaks_fixed || res->corruptions_fixed))
        r = qcow2_flush_metadata(q, true);
    res->total_clusters = (q->size + cs - 1) / cs;
    res->image_end_offset = highest * cs;
    return r;
}
