/*
 * Inside the block layer: the host file every image sits in (BlockFile,
 * block/file.c), the per-format driver table (raw, qcow2, vmdk, vdi, vpc),
 * QEMU-compatible image locks (block/lock.c) and the -snapshot overlay
 * (block/overlay.c).  Nothing here is for devices: they use
 * block/block.h only.
 *
 * Every function here is synchronous and thread-safe for concurrent calls
 * on different byte ranges: the worker threads of block/block.c call them.
 */
#ifndef VX86_BLOCK_BLOCK_INT_H
#define VX86_BLOCK_BLOCK_INT_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "block/block.h"

/* ---- the host file (block/file.c) ---- */

typedef struct BlockFile {
    int fd;
    char *filename;
    bool writable;
    BlockCacheMode cache;
    bool direct;              /* O_DIRECT in effect (cleared if the fs refuses it) */
    uint32_t req_align;       /* O_DIRECT offset/length alignment (1 when buffered) */
    uint32_t mem_align;       /* O_DIRECT buffer alignment (1 when buffered) */
    uint64_t file_size;       /* bytes in the file (grows when a write extends it) */
    /* O_DIRECT read-modify-write of a partial block is exclusive; every
     * other write holds it shared (two RMWs of one block never interleave,
     * nor an RMW with a write into the block it rewrites). */
    pthread_rwlock_t rmw_lock;
} BlockFile;

/* Opens filename for reading (and writing when writable) with the cache
 * mode's flags; O_DIRECT falls back to the page cache when the file system
 * refuses it.  Refuses missing, unreadable, directory, non-regular and
 * zero-length files with "FILE: reason" in err.  Returns 0 or -errno. */
int bfile_open(BlockFile *f, const char *filename, bool writable, BlockCacheMode cache,
               char *err, size_t errlen);
void bfile_close(BlockFile *f);
/* Reads past the end of the file return zeros.  0 or -errno. */
int bfile_pread(BlockFile *f, uint64_t offset, void *buf, size_t len);
int bfile_pwrite(BlockFile *f, uint64_t offset, const void *buf, size_t len);
/* Punches a hole (the range reads back as zeros, its blocks go back to the
 * host file system); 0 without effect on read-only files and file
 * systems that cannot.  0 or -errno. */
int bfile_discard(BlockFile *f, uint64_t offset, uint64_t len);
/* fdatasync, except with cache=unsafe (a no-op). */
int bfile_flush(BlockFile *f);

/* Test hook: open as if the file system refused O_DIRECT (as tmpfs did
 * before Linux 6.6), to exercise the fallback. */
extern bool bfile_refuse_direct_for_tests;

/* ---- image locks (block/lock.c) ---- */

/* Takes QEMU's lock bytes on fd for a writer (writable) or a reader and
 * checks no other open file description conflicts.  Returns 0, or -EAGAIN
 * with "FILE: failed to get "write" lock (is another process using the
 * image?)" in err (the locks taken are dropped again).  File systems
 * without OFD locks are not locked (0). */
int blk_lock_image(int fd, const char *filename, bool writable, char *err, size_t errlen);
/* Drops every lock byte held through fd (closing fd does that too). */
void blk_unlock_image(int fd);

/* ---- format drivers ---- */

/* Internal snapshots of a format that has them (qcow2).  name is a
 * snapshot's name (tag), never its id, as QEMU's savevm/loadvm look them
 * up.  Errors: -errno with one line in err. */
typedef struct BlockSnapshotOps {
    /* Count (>= 0) and a malloc'ed array, or -errno. */
    int (*list)(void *state, BlockSnapshotInfo **out);
    /* sn->name, dates, vm_clock_nsec and vm_state_size (the bytes written
     * with save_vmstate just before; 0 for a disk-only snapshot). */
    int (*create)(void *state, const BlockSnapshotInfo *sn, char *err, size_t errlen);
    int (*goto_snapshot)(void *state, const char *name, char *err, size_t errlen);
    int (*remove)(void *state, const char *name, char *err, size_t errlen);
    /* The VM state area of the active image / of snapshot name. */
    int (*save_vmstate)(void *state, uint64_t pos, const void *buf, size_t len);
    int (*load_vmstate)(void *state, const char *name, uint64_t pos, void *buf, size_t len);
    int (*drop_vmstate)(void *state);
} BlockSnapshotOps;

typedef struct BlockDriver {
    const char *name;                        /* "raw", as in format= */
    /* How sure the driver is that the first bytes are its format: 0 no,
     * 1 (raw: anything) .. 100 (a magic number matched). */
    int (*probe)(const uint8_t *buf, size_t len);
    /* Opens the format inside file; sets *size (the guest-visible bytes).
     * Returns the driver's state, or NULL with "FILE: reason" in err. */
    void *(*open)(BlockFile *file, uint64_t *size, char *err, size_t errlen);
    void (*close)(void *state);
    int (*pread)(void *state, uint64_t offset, void *buf, size_t len);
    int (*pwrite)(void *state, uint64_t offset, const void *buf, size_t len);
    int (*flush)(void *state);
    /* Optional: the range may read back as anything (guest TRIM). */
    int (*discard)(void *state, uint64_t offset, uint64_t len);
    const BlockSnapshotOps *snapshot;        /* NULL: no internal snapshots */
} BlockDriver;

extern const BlockDriver blk_driver_raw;
extern const BlockDriver blk_driver_qcow2;
extern const BlockDriver blk_driver_vmdk;    /* read-only */
extern const BlockDriver blk_driver_vdi;     /* read-only */
extern const BlockDriver blk_driver_vpc;     /* VHD, read-only */
/* NULL-terminated list of every driver, probe order irrelevant. */
extern const BlockDriver *const blk_drivers[];
const BlockDriver *blk_driver_find(const char *name);

/* ---- the -snapshot overlay (block/overlay.c) ---- */

typedef struct BlockOverlay BlockOverlay;
/* Reads from what lies below the overlay (the image's format driver). */
typedef int (*BlockReadFunc)(void *opaque, uint64_t offset, void *buf, size_t len);

/* A temporary, already unlinked sparse file in $TMPDIR (else /var/tmp)
 * holding every cluster written since open; size is the guest size.
 * NULL with a reason in err. */
BlockOverlay *overlay_new(uint64_t size, BlockReadFunc base_read, void *base_opaque,
                          char *err, size_t errlen);
void overlay_free(BlockOverlay *ov);
int overlay_pread(BlockOverlay *ov, uint64_t offset, void *buf, size_t len);
int overlay_pwrite(BlockOverlay *ov, uint64_t offset, const void *buf, size_t len);
/* Clusters written so far (tests). */
uint64_t overlay_allocated_clusters(BlockOverlay *ov);
#define OVERLAY_CLUSTER_SIZE 65536u

/* ---- for tests ---- */
const BlockFile *blk_get_file(const BlockBackend *bb);
/* The format driver's state (vx86-img reaches qcow2 internals). */
void *blk_get_driver_state(const BlockBackend *bb);
const BlockDriver *blk_get_driver(const BlockBackend *bb);
BlockOverlay *blk_get_overlay(const BlockBackend *bb);

#endif
