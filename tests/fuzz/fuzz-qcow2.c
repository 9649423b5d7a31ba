/* The qcow2 driver (block/qcow2*.c): any file is opened or refused with a
 * one-line message naming it, and a refused file is never written; an
 * opened one survives reads, writes, discards, a flush and a check, and
 * the whole-VM snapshot paths (block/snapshot.c): reading every
 * snapshot's VM state, writing a VM state past the disk, creating,
 * reverting to and deleting a snapshot with it, dropping it.  The input is
 * the image, written to a temporary file (the file harness pattern of
 * docs/fuzzing.md); the operations are fixed, their offsets taken from the
 * image's last bytes. */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "block/block-int.h"
#include "block/qcow2.h"
#include "tests/fuzz/fuzz-image.h"

static char path[256];

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (!path[0]) {
        fuzz_tmp_path_pid(path, sizeof path, "qcow2");
        bfile_refuse_direct_for_tests = true;
    }
    fuzz_write_file(path, data, size);

    char err[1024] = "";
    BlockOpenOptions o = { .filename = path, .format = "qcow2", .no_lock = true,
                           .cache = BLK_CACHE_UNSAFE };   /* no fdatasync: speed */
    BlockBackend *bb = blk_open(&o, err, sizeof err);
    if (!bb) {
        /* One line naming the image, and the file untouched. */
        if (!fuzz_refusal_ok(err, path))
            abort();
        if (!fuzz_file_holds(path, data, size))
            abort();
        unlink(path);
        return 0;
    }
    uint64_t vsize = blk_size(bb);
    FuzzInput in = fuzz_tail(data, size);
    uint8_t *buf = malloc(65536 * 2);
    memset(buf, 0xa5, 65536 * 2);
    for (int i = 0; i < 8 && vsize; i++) {
        uint64_t off;
        size_t len;
        fuzz_range(&in, vsize, &off, &len);
        switch (i % 4) {
        case 0: case 2: blk_pread(bb, off, buf, len); break;
        case 1: blk_pwrite(bb, off, buf, len); break;
        case 3: blk_discard(bb, off, len); break;
        }
    }
    blk_flush(bb);
    /* Whole-VM snapshots: the snapshot table and the trees found in the
     * image, then one of our own. */
    BlockSnapshotInfo *l;
    int n = blk_snapshot_list(bb, &l);
    for (int i = 0; i < n && i < 4; i++) {
        uint64_t pos = l[i].vm_state_size ? fuzz_u16(&in) % l[i].vm_state_size : 0;
        blk_vmstate_load(bb, l[i].name, pos, buf, 4096);
    }
    if (n > 0) {
        char e[512];
        blk_snapshot_goto(bb, l[fuzz_u8(&in) % n].name, e, sizeof e);
    }
    free(l);
    uint64_t at = (uint64_t)fuzz_u16(&in) * 512;
    if (blk_vmstate_save(bb, at, buf, 65536 + 512) == 0) {
        BlockSnapshotInfo sn = { .name = "fuzz", .vm_state_size = at + 65536 + 512,
                                 .icount = UINT64_MAX };
        char e[512];
        if (blk_snapshot_create(bb, &sn, e, sizeof e) == 0) {
            blk_vmstate_drop(bb);
            blk_vmstate_load(bb, "fuzz", at, buf, 65536);
            blk_snapshot_goto(bb, "fuzz", e, sizeof e);
            blk_snapshot_delete(bb, "fuzz", e, sizeof e);
        }
    }
    Qcow2 *q = blk_get_driver_state(bb);
    Qcow2CheckResult res;
    qcow2_check(q, 0, &res, NULL);
    free(buf);
    blk_close(bb);
    unlink(path);
    return 0;
}
