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
#include "tests/fuzz/fuzz.h"

static char path[64];

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (!path[0]) {
        snprintf(path, sizeof path, "/tmp/vx86-fuzz-qcow2.%d", (int)getpid());
        bfile_refuse_direct_for_tests = true;
    }
    int fd = open(path, O_CREAT | O_TRUNC | O_RDWR, 0600);
    if (fd < 0 || write(fd, data, size) != (ssize_t)size)
        abort();
    close(fd);

    char err[1024] = "";
    BlockOpenOptions o = { .filename = path, .format = "qcow2", .no_lock = true,
                           .cache = BLK_CACHE_UNSAFE };   /* no fdatasync: speed */
    BlockBackend *bb = blk_open(&o, err, sizeof err);
    if (!bb) {
        /* One line naming the image, and the file untouched. */
        if (!err[0] || strchr(err, '\n') || !strstr(err, path))
            abort();
        uint8_t *back = malloc(size + 1);
        fd = open(path, O_RDONLY);
        if (fd < 0 || read(fd, back, size + 1) != (ssize_t)size || memcmp(back, data, size))
            abort();
        close(fd);
        free(back);
        unlink(path);
        return 0;
    }
    uint64_t vsize = blk_size(bb);
    FuzzInput in = { data + (size > 32 ? size - 32 : 0), size > 32 ? 32 : size };
    uint8_t *buf = malloc(65536 * 2);
    memset(buf, 0xa5, 65536 * 2);
    for (int i = 0; i < 8 && vsize; i++) {
        uint64_t off = ((uint64_t)fuzz_u16(&in) << 16 | fuzz_u16(&in)) * 512 % vsize;
        size_t len = (size_t)((fuzz_u16(&in) % 256 + 1) * 512);
        if (len > vsize - off)
            len = (size_t)(vsize - off);
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
