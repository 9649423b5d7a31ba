/*
 * Internal snapshots through the block layer (see block.h): what a
 * whole-VM snapshot (core/snapshot.c) asks of each drive, passed to the
 * format driver's BlockSnapshotOps (qcow2 has them), and the snapshot
 * table as QEMU prints it (`info snapshots`, `qemu-img snapshot -l`).
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "block/block-int.h"
#include "core/util.h"

/* Changing snapshots needs a writable image... */
static const BlockSnapshotOps *ops_of(const BlockBackend *bb)
{
    return blk_can_snapshot(bb) ? blk_get_driver(bb)->snapshot : NULL;
}

/* ...looking at them does not. */
static const BlockSnapshotOps *ops_to_read(const BlockBackend *bb)
{
    return bb ? blk_get_driver(bb)->snapshot : NULL;
}

bool blk_can_snapshot(const BlockBackend *bb)
{
    /* A -snapshot overlay is not the image: writing a snapshot into the
     * image under it would escape the overlay. */
    return bb && !blk_is_read_only(bb) && !blk_is_snapshot(bb) && blk_get_driver(bb)->snapshot;
}

int blk_snapshot_list(BlockBackend *bb, BlockSnapshotInfo **out)
{
    const BlockSnapshotOps *o = ops_to_read(bb);
    *out = NULL;
    return o ? o->list(blk_get_driver_state(bb), out) : -ENOTSUP;
}

bool blk_snapshot_find(BlockBackend *bb, const char *name, BlockSnapshotInfo *out)
{
    BlockSnapshotInfo *l;
    int n = blk_snapshot_list(bb, &l);
    bool found = false;
    for (int i = 0; i < n && !found; i++) {
        if (!strcmp(l[i].name, name)) {
            if (out)
                *out = l[i];
            found = true;
        }
    }
    free(l);
    return found;
}

static int unsupported(const BlockBackend *bb, char *err, size_t errlen)
{
    snprintf(err, errlen, "%s: the image cannot hold snapshots", blk_filename(bb));
    return -ENOTSUP;
}

int blk_snapshot_create(BlockBackend *bb, const BlockSnapshotInfo *sn, char *err, size_t errlen)
{
    const BlockSnapshotOps *o = ops_of(bb);
    return o ? o->create(blk_get_driver_state(bb), sn, err, errlen) : unsupported(bb, err, errlen);
}

int blk_snapshot_goto(BlockBackend *bb, const char *name, char *err, size_t errlen)
{
    const BlockSnapshotOps *o = ops_of(bb);
    return o ? o->goto_snapshot(blk_get_driver_state(bb), name, err, errlen)
             : unsupported(bb, err, errlen);
}

int blk_snapshot_delete(BlockBackend *bb, const char *name, char *err, size_t errlen)
{
    const BlockSnapshotOps *o = ops_of(bb);
    return o ? o->remove(blk_get_driver_state(bb), name, err, errlen) : unsupported(bb, err, errlen);
}

int blk_vmstate_save(BlockBackend *bb, uint64_t pos, const void *buf, size_t len)
{
    const BlockSnapshotOps *o = ops_of(bb);
    return o ? o->save_vmstate(blk_get_driver_state(bb), pos, buf, len) : -ENOTSUP;
}

int blk_vmstate_load(BlockBackend *bb, const char *name, uint64_t pos, void *buf, size_t len)
{
    const BlockSnapshotOps *o = ops_to_read(bb);
    return o ? o->load_vmstate(blk_get_driver_state(bb), name, pos, buf, len) : -ENOTSUP;
}

int blk_vmstate_drop(BlockBackend *bb)
{
    const BlockSnapshotOps *o = ops_of(bb);
    return o ? o->drop_vmstate(blk_get_driver_state(bb)) : -ENOTSUP;
}

/* ---- QEMU's table ---- */

void blk_size_str(uint64_t v, char *buf, size_t len)
{
    static const char *const units[] = { "B", "KiB", "MiB", "GiB", "TiB", "PiB", "EiB" };
    int i = 0;
    double d = (double)v;
    /* 1000 KiB reads "0.977 MiB": three digits at most before the point. */
    while (d >= 1000 && i < 6) {
        d /= 1024;
        i++;
    }
    snprintf(buf, len, "%0.3g %s", d, units[i]);
}

void blk_snapshot_row(const BlockSnapshotInfo *sn, const char *id, char *buf, size_t len)
{
    if (!sn) {
        snprintf(buf, len, "%-10s%-17s%8s%20s%13s%11s", "ID", "TAG", "VM SIZE", "DATE",
                 "VM CLOCK", "ICOUNT");
        return;
    }
    char date[64] = "", clk[64], size[32], icount[32] = "";
    time_t t = sn->date_sec;
    struct tm tm;
    if (localtime_r(&t, &tm))
        strftime(date, sizeof date, "%Y-%m-%d %H:%M:%S", &tm);
    uint64_t secs = sn->vm_clock_nsec / UINT64_C(1000000000);
    snprintf(clk, sizeof clk, "%02" PRIu64 ":%02" PRIu64 ":%02" PRIu64 ".%03" PRIu64,
             secs / 3600, secs / 60 % 60, secs % 60, sn->vm_clock_nsec / UINT64_C(1000000) % 1000);
    blk_size_str(sn->vm_state_size, size, sizeof size);
    if (sn->icount != UINT64_MAX)
        snprintf(icount, sizeof icount, "%" PRIu64, sn->icount);
    /* The columns are QEMU's: a long tag pushes the rest right. */
    snprintf(buf, len, "%-9s %-16s %8s%20s%13s%11s", id ? id : sn->id, sn->name, size, date,
             clk, icount);
}
