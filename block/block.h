/*
 * The block layer: disk images behind one asynchronous request API, used by
 * every disk device (IDE, floppy, virtio-blk, SCSI) and knowing nothing of
 * them.  A request never stops the vCPU: it runs on a worker thread and its
 * completion callback runs later on the machine's main thread, from the main
 * loop (or from blk_drain).
 *
 *   BlockOpenOptions o = { .filename = "disk.img", .format = "raw",
 *                          .cache = BLK_CACHE_WRITEBACK };
 *   BlockBackend *bb = blk_open(&o, err, sizeof err);   // NULL + err on failure
 *   blk_attach(bb, m);               // completions through m's main loop
 *   blk_aio_read(bb, offset, buf, len, done_cb, dev);   // done_cb(dev, 0 or -errno)
 *   ...
 *   blk_drain(bb);                   // waits for and completes all requests
 *   blk_close(bb);
 *
 * Offsets and lengths are in bytes; devices convert sectors themselves and
 * must range-check guest values against blk_size() before calling (a
 * request past the end fails with -EIO and touches nothing).  Buffers stay
 * owned by the caller and must stay valid until the callback ran.
 *
 * Threading: blk_* functions are called on the main thread only; callbacks
 * run on the main thread only.  Workers touch only the image file and the
 * request they were given.
 */
#ifndef VX86_BLOCK_BLOCK_H
#define VX86_BLOCK_BLOCK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct Machine;

typedef struct BlockBackend BlockBackend;

/* QEMU's cache= modes: writeback (host page cache, flush honoured),
 * none (O_DIRECT, flush honoured), unsafe (flush ignored), directsync
 * (O_DIRECT + O_DSYNC, every write stable), writethrough (page cache +
 * O_DSYNC). */
typedef enum BlockCacheMode {
    BLK_CACHE_WRITEBACK,
    BLK_CACHE_NONE,
    BLK_CACHE_UNSAFE,
    BLK_CACHE_DIRECTSYNC,
    BLK_CACHE_WRITETHROUGH,
} BlockCacheMode;

typedef struct BlockOpenOptions {
    const char *filename;
    const char *format;       /* "raw", ... ; NULL: probe */
    bool read_only;
    bool snapshot;            /* writes go to a temporary overlay */
    BlockCacheMode cache;
    bool no_lock;             /* skip the image lock (tests, vx86-img info) */
    /* -incoming: another process still owns the image; open it read-only
     * and unlocked until blk_set_active(bb, true) */
    bool inactive;
} BlockOpenOptions;

/* Completion: ret is 0 on success or a negative errno. */
typedef void (*BlockCompletionFunc)(void *opaque, int ret);

/* Opens an image; NULL with one line in err ("FILE: reason") on failure:
 * missing, unreadable, a directory, zero length, locked by another process
 * (QEMU-compatible fcntl locks), or a malformed image.  Never writes to the
 * file when it fails. */
BlockBackend *blk_open(const BlockOpenOptions *o, char *err, size_t errlen);
/* Drains, then closes and frees (NULL is fine). */
void blk_close(BlockBackend *bb);
/* Migration hands an image between processes as QEMU does.  active=false
 * (the source, once the guest stopped for good): drains, writes out the
 * driver's cached metadata, drops the image lock; writes fail from then
 * on.  active=true (the destination when the stream is in, or the source
 * resumed after all): re-opens file and driver, so metadata written by
 * the other process is read afresh, and takes the lock; on failure (the
 * other process still holds it, the size changed) one line in err and
 * the image stays inactive and readable.  0 or -errno. */
int blk_set_active(BlockBackend *bb, bool active, char *err, size_t errlen);
bool blk_is_inactive(const BlockBackend *bb);

/* Delivers completions through m's main loop: the backend's eventfd is
 * watched (machine_watch_fd) and a finished request calls machine_notify,
 * which kicks a running CPU out of translated code.  Until attached,
 * callbacks run only from blk_drain / blk_poll.  Close (or detach) the
 * backend before freeing m: a device's free function does that. */
void blk_attach(BlockBackend *bb, struct Machine *m);
/* Drains, then stops watching (no-op when not attached). */
void blk_detach(BlockBackend *bb);
/* Runs the callbacks of requests already finished, without waiting;
 * returns how many ran (for code that has no main loop). */
int blk_poll(BlockBackend *bb);

/* The format= names the block layer has a driver for (the driver table in
 * block/raw.c): whether name is one, and all of them as "raw, qcow2, ...". */
bool blk_format_known(const char *name);
void blk_format_list(char *buf, size_t len);

uint64_t blk_size(const BlockBackend *bb);     /* bytes the guest sees */
bool blk_is_read_only(const BlockBackend *bb);
const char *blk_filename(const BlockBackend *bb);
const char *blk_format_name(const BlockBackend *bb);   /* "raw", ... */
bool blk_is_snapshot(const BlockBackend *bb);           /* writes go to an overlay */

/* Asynchronous requests.  Return 0 when queued, or a negative errno when
 * refused at once (then the callback is not called): -EIO out of range,
 * -EROFS write to a read-only backend. */
int blk_aio_read(BlockBackend *bb, uint64_t offset, void *buf, size_t len,
                 BlockCompletionFunc cb, void *opaque);
int blk_aio_write(BlockBackend *bb, uint64_t offset, const void *buf, size_t len,
                  BlockCompletionFunc cb, void *opaque);
int blk_aio_flush(BlockBackend *bb, BlockCompletionFunc cb, void *opaque);
/* Guest TRIM/UNMAP: the range may read back as anything afterwards (qcow2
 * frees its clusters, raw punches a hole in the file; the -snapshot
 * overlay ignores it). */
int blk_aio_discard(BlockBackend *bb, uint64_t offset, size_t len,
                    BlockCompletionFunc cb, void *opaque);

/* Synchronous versions (firmware loaders, tools, tests): 0 or -errno. */
int blk_pread(BlockBackend *bb, uint64_t offset, void *buf, size_t len);
int blk_pwrite(BlockBackend *bb, uint64_t offset, const void *buf, size_t len);
int blk_flush(BlockBackend *bb);
int blk_discard(BlockBackend *bb, uint64_t offset, size_t len);

/* What the guest's asynchronous requests did (QMP query-blockstats, as
 * QEMU's BlockDeviceStats): counted when a request completes, successful
 * ones by kind, failed ones apart; times from submission to completion. */
typedef struct BlockStats {
    uint64_t rd_bytes, wr_bytes, unmap_bytes;
    uint64_t rd_ops, wr_ops, flush_ops, unmap_ops;
    uint64_t failed_rd_ops, failed_wr_ops, failed_flush_ops, failed_unmap_ops;
    uint64_t rd_ns, wr_ns, flush_ns, unmap_ns;
    uint64_t wr_highest_offset;       /* end of the furthest successful write */
} BlockStats;
void blk_get_stats(const BlockBackend *bb, BlockStats *out);

/* Told (main thread, before the request's callback) when a guest read or
 * write fails: -errno (QMP's BLOCK_IO_ERROR; the board names the drive). */
typedef void (*BlockErrorFn)(void *opaque, bool is_write, int err);
void blk_set_error_notify(BlockBackend *bb, BlockErrorFn fn, void *opaque);

/* Waits until no request of bb is in flight, running their callbacks
 * (snapshots, reset, shutdown, unit tests). */
void blk_drain(BlockBackend *bb);
/* Number of requests queued or running. */
int blk_in_flight(const BlockBackend *bb);

/*
 * Internal snapshots (block/snapshot.c), for whole-VM snapshots
 * (core/snapshot.c: savevm, loadvm, delvm).  Only a writable image of a
 * format with internal snapshots (qcow2), without a -snapshot overlay,
 * has them.  Call with no request in flight (blk_drain), on the main
 * thread.  Names are snapshot names (tags), as QEMU's savevm/loadvm use.
 */
typedef struct BlockSnapshotInfo {
    char id[128];
    char name[256];              /* longer names are cut here (listing only) */
    uint64_t vm_state_size;      /* bytes of VM state; 0: a disk-only snapshot */
    uint32_t date_sec, date_nsec;
    uint64_t vm_clock_nsec;      /* the VM's clock when it was taken */
    uint64_t icount;             /* UINT64_MAX: not recorded */
} BlockSnapshotInfo;

bool blk_can_snapshot(const BlockBackend *bb);
/* Count and a malloc'ed array (free it), or -errno. */
int blk_snapshot_list(BlockBackend *bb, BlockSnapshotInfo **out);
/* true with *out filled when a snapshot has that name. */
bool blk_snapshot_find(BlockBackend *bb, const char *name, BlockSnapshotInfo *out);
/* 0, or -errno with one line in err. */
int blk_snapshot_create(BlockBackend *bb, const BlockSnapshotInfo *sn, char *err, size_t errlen);
int blk_snapshot_goto(BlockBackend *bb, const char *name, char *err, size_t errlen);
int blk_snapshot_delete(BlockBackend *bb, const char *name, char *err, size_t errlen);
/* The VM state area: written in the active image before the snapshot
 * is created (which then keeps it), read from snapshot name's copy;
 * drop frees the active image's copy.  0 or -errno. */
int blk_vmstate_save(BlockBackend *bb, uint64_t pos, const void *buf, size_t len);
int blk_vmstate_load(BlockBackend *bb, const char *name, uint64_t pos, void *buf, size_t len);
int blk_vmstate_drop(BlockBackend *bb);

/* One line of QEMU's snapshot table (`info snapshots`, `qemu-img
 * snapshot -l`), without the newline: the header for sn == NULL; id
 * replaces sn->id when not NULL ("--" for snapshots on every disk). */
void blk_snapshot_row(const BlockSnapshotInfo *sn, const char *id, char *buf, size_t len);
/* "69 MiB", "1.5 GiB", "999 B": QEMU's human sizes (3 significant
 * digits, the next unit from 1000 of one). */
void blk_size_str(uint64_t v, char *buf, size_t len);

#endif
