/*
 * qcow2 (QEMU's copy-on-write image format, versions 2 and 3): the format
 * driver's state, shared by block/qcow2.c (open, mapping, reads, writes,
 * discard, flush), block/qcow2-refcount.c (caches, refcounts, allocation),
 * block/qcow2-snapshot.c (internal snapshots), block/qcow2-check.c
 * (consistency check and repair) and block/qcow2-create.c (new images).
 * The format is QEMU's docs/interop/qcow2.txt; all numbers big-endian.
 *
 * Locking: one mutex per image (meta_lock) serialises every metadata
 * lookup and update (L1, the L2 and refcount caches, allocation) and
 * allocating writes with their data.  A read, or a write into clusters the
 * image already owns alone, looks its mapping up under the mutex and does
 * its data I/O without it, holding io_lock shared; clusters only become
 * reusable (a refcount dropping to zero) under io_lock exclusive, so no
 * data I/O in flight can land in a cluster that was freed and handed to
 * another guest offset meanwhile.  Lock order: io_lock, then meta_lock.
 *
 * Crash safety: metadata lives in write-back caches and reaches the file
 * at a flush (guest flush, cache eviction, close) in dependency order:
 * refcount blocks, fdatasync (covers the guest data written before),
 * L2 tables, fdatasync, L1 entries, fdatasync.  Refcount decreases are
 * queued and applied only after the references they drop are on disk.
 * A crash therefore leaves at worst leaked clusters.
 */
#ifndef VX86_BLOCK_QCOW2_H
#define VX86_BLOCK_QCOW2_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "block/block-int.h"

#define QCOW2_MAGIC 0x514649fbu          /* "QFI\xfb" */
#define QCOW2_MIN_CLUSTER_BITS 9
#define QCOW2_MAX_CLUSTER_BITS 21
#define QCOW2_MAX_L1_BYTES (32u << 20)     /* QEMU's limits, also ours */
#define QCOW2_MAX_RT_BYTES (8u << 20)
#define QCOW2_MAX_SNAPSHOTS 65536
#define QCOW2_MAX_BACKING_NAME 1023
#define QCOW2_MAX_CHAIN 256                /* backing files below one image */

/* incompatible_features */
#define QCOW2_INCOMPAT_DIRTY (UINT64_C(1) << 0)
#define QCOW2_INCOMPAT_CORRUPT (UINT64_C(1) << 1)
#define QCOW2_INCOMPAT_DATA_FILE (UINT64_C(1) << 2)
#define QCOW2_INCOMPAT_COMPRESSION (UINT64_C(1) << 3)
#define QCOW2_INCOMPAT_EXTL2 (UINT64_C(1) << 4)
#define QCOW2_INCOMPAT_KNOWN UINT64_C(0x1f)
/* compatible_features */
#define QCOW2_COMPAT_LAZY_REFCOUNTS (UINT64_C(1) << 0)
/* autoclear_features */
#define QCOW2_AUTOCLEAR_BITMAPS (UINT64_C(1) << 0)
#define QCOW2_AUTOCLEAR_DATA_FILE_RAW (UINT64_C(1) << 1)

/* Header extensions */
#define QCOW2_EXT_END 0
#define QCOW2_EXT_BACKING_FMT 0xe2792acau
#define QCOW2_EXT_FEATURE_TABLE 0x6803f857u
#define QCOW2_EXT_BITMAPS 0x23852875u
#define QCOW2_EXT_CRYPTO 0x0537be77u
#define QCOW2_EXT_DATA_FILE 0x44415441u

/* Table entries */
#define QCOW2_OFLAG_COPIED (UINT64_C(1) << 63)
#define QCOW2_OFLAG_COMPRESSED (UINT64_C(1) << 62)
#define QCOW2_OFLAG_ZERO UINT64_C(1)
#define QCOW2_OFFSET_MASK UINT64_C(0x00fffffffffffe00)   /* bits 9..55 */
#define QCOW2_L1_RESERVED UINT64_C(0x7f000000000001ff)
#define QCOW2_L2_RESERVED UINT64_C(0x3f000000000001fe)   /* standard descriptor */
#define QCOW2_RT_RESERVED UINT64_C(0x00000000000001ff)

#define QCOW2_COMPRESSION_ZLIB 0
#define QCOW2_COMPRESSION_ZSTD 1

/* What a guest cluster maps to. */
typedef enum Qcow2ClusterKind {
    QC_UNALLOCATED,     /* no host cluster: every subcluster per its bits */
    QC_NORMAL,          /* a host cluster (some subclusters may be zero/unallocated) */
    QC_COMPRESSED,      /* compressed bytes at host (not aligned), csize bytes */
} Qcow2ClusterKind;

typedef struct Qcow2Mapping {
    Qcow2ClusterKind kind;
    uint64_t host;              /* host cluster offset, or compressed byte offset */
    uint64_t csize;             /* compressed: bytes of host sectors used */
    uint32_t alloc;             /* bit i: subcluster i is data at host */
    uint32_t zero;              /* bit i: subcluster i reads as zeros */
    bool copied;                /* the host cluster's refcount is 1 */
} Qcow2Mapping;

typedef struct Qcow2Table {       /* one cached L2 table or refcount block */
    uint64_t offset;            /* 0: slot empty */
    uint8_t *data;
    bool dirty;
    uint64_t used;              /* LRU stamp */
} Qcow2Table;

typedef struct Qcow2Cache {
    Qcow2Table *t;
    int n;
    uint64_t clock;
} Qcow2Cache;

typedef struct Qcow2Snapshot {
    uint64_t l1_offset;
    uint32_t l1_size;
    char *id;
    char *name;
    uint32_t date_sec, date_nsec;
    uint64_t vm_clock_nsec;
    uint64_t vm_state_size;     /* 32-bit field, or the 64-bit extra field */
    uint64_t disk_size;         /* v3 extra data; else the image size */
    uint64_t icount;            /* ~0: not recorded */
    uint32_t extra_size;        /* extra data bytes as found */
    uint8_t *extra;             /* kept verbatim beyond what we understand */
} Qcow2Snapshot;

typedef struct Qcow2Range { uint64_t offset, bytes; } Qcow2Range;

typedef struct Qcow2 {
    BlockFile *file;
    const char *filename;
    bool writable;
    pthread_mutex_t meta_lock;
    pthread_rwlock_t io_lock;

    /* header */
    uint32_t version;
    uint32_t cluster_bits;
    uint64_t cluster_size;
    uint64_t size;
    uint64_t l1_offset;
    uint32_t l1_size;
    uint64_t *l1;               /* host order, l1_size entries */
    bool l1_dirty;
    uint8_t *l1_dirty_map;      /* per L1 entry: written at the next flush */
    uint64_t rt_offset;
    uint32_t rt_clusters;
    uint64_t *rt;               /* refcount table, rt_entries entries */
    uint64_t rt_entries;
    uint32_t refcount_order, refcount_bits;
    uint64_t refcount_max;
    uint64_t rb_entries;        /* refcounts per refcount block */
    uint64_t incompat, compat, autoclear;
    uint32_t header_length;
    uint8_t compression_type;
    uint32_t nb_snapshots;
    uint64_t snapshots_offset;
    Qcow2Snapshot *snaps;
    uint64_t snap_table_bytes;  /* as found or last written */

    bool extl2;
    unsigned l2_entry_size;     /* 8, or 16 with extended L2 entries */
    uint64_t l2_entries;        /* entries per L2 table */
    unsigned l2_bits;           /* log2 l2_entries */
    unsigned nsub;              /* subclusters per cluster: 1 or 32 */
    uint64_t sub_size;
    uint64_t csize_shift, csize_mask, coffset_mask;

    uint8_t *ext_other;         /* header extensions we keep verbatim */
    size_t ext_other_len;
    bool prepared;              /* first write done: autoclear, dirty bit */
    char *backing_name;         /* as in the header */
    char *backing_fmt;          /* from the extension, or NULL */
    char *backing_path;         /* resolved against the image's directory */
    BlockBackend *backing;      /* open read-only, or NULL */
    uint64_t backing_size;

    Qcow2Cache l2c, rbc;
    uint64_t free_hint;         /* no free cluster below this index */
    uint64_t comp_next, comp_end;  /* tail of the last compressed cluster */
    Qcow2Range *pending;        /* refcount decreases waiting for a flush */
    size_t npending, cap_pending;
    size_t npending_durable;    /* the first ones: their references are gone on disk */
    bool lazy;                  /* lazy refcounts in use */
    bool marked_dirty;          /* we set the dirty bit */
    bool broken;                /* an I/O error left metadata unknown: no more writes */
} Qcow2;

/* ---- block/qcow2.c ---- */
extern const BlockDriver blk_driver_qcow2;
/* Open flags for qcow2_open. */
#define QCOW2_OPEN_NO_BACKING 1     /* do not open the backing file (info, rebase -u) */
#define QCOW2_OPEN_NO_REPAIR 2      /* leave a dirty image as it is (check) */
Qcow2 *qcow2_open(BlockFile *file, unsigned flags, char *err, size_t errlen);
void qcow2_close(Qcow2 *q);
int qcow2_read(Qcow2 *q, uint64_t offset, void *buf, size_t len);
int qcow2_write(Qcow2 *q, uint64_t offset, const void *buf, size_t len);
/* Writes anywhere an L1 table can reach, also past the end of the disk
 * (the VM state area of whole-VM snapshots), growing the L1 table first
 * when it does not reach that far. */
int qcow2_write_area(Qcow2 *q, uint64_t offset, const void *buf, size_t len);
/* Reads through another L1 table (a snapshot's), past the disk's end too. */
int qcow2_read_l1(Qcow2 *q, const uint64_t *l1, uint32_t l1_size, uint64_t offset,
                  void *buf, size_t len);
/* Moves the active L1 table to new clusters with room for entries
 * (written and synced before the header names it); meta_lock held.
 * -EFBIG beyond QCOW2_MAX_L1_BYTES. */
int qcow2_grow_l1(Qcow2 *q, uint64_t entries);
/* Writes whole clusters compressed (offset and len cluster-aligned, except
 * a tail at the end of the disk); falls back to plain writes. */
int qcow2_write_compressed(Qcow2 *q, uint64_t offset, const void *buf, size_t len);
int qcow2_discard(Qcow2 *q, uint64_t offset, uint64_t len);
int qcow2_flush(Qcow2 *q);
/* The mapping of the guest cluster at offset (for map, convert, tests). */
int qcow2_get_mapping(Qcow2 *q, uint64_t offset, Qcow2Mapping *m);
/* Allocates every cluster of the disk without writing data (metadata
 * preallocation). */
int qcow2_preallocate_metadata(Qcow2 *q);
/* New virtual size (grow; shrink only drops clusters past the end). */
int qcow2_resize(Qcow2 *q, uint64_t size, bool shrink, char *err, size_t errlen);
/* Rewrites the backing file name and format in the header. */
int qcow2_set_backing(Qcow2 *q, const char *name, const char *fmt, char *err, size_t errlen);
/* Reads/decompresses helpers shared with check. */
int qcow2_decompress(Qcow2 *q, const uint8_t *src, size_t srclen, uint8_t *dst, size_t dstlen);
int qcow2_write_header_field(Qcow2 *q, uint64_t offset, const void *p, size_t len);
int qcow2_load_snapshots(Qcow2 *q, char *err, size_t errlen);
void qcow2_free_snapshots(Qcow2 *q);
/* Sets or clears the dirty bit on disk (with fdatasync). */
int qcow2_set_dirty(Qcow2 *q, bool dirty);
/* Before the first change: repairs a dirty image, clears autoclear bits,
 * sets the dirty bit with lazy refcounts (meta_lock held). */
int qcow2_prepare_write(Qcow2 *q);
uint64_t qcow2_be64(const void *p);
uint32_t qcow2_be32(const void *p);
void qcow2_put_be64(void *p, uint64_t v);
void qcow2_put_be32(void *p, uint32_t v);

/* ---- block/qcow2-refcount.c (callers hold meta_lock) ---- */
void qcow2_cache_init(Qcow2Cache *c, int n, uint64_t cluster_size);
void qcow2_cache_free(Qcow2Cache *c);
void qcow2_cache_drop(Qcow2Cache *c);
/* The cached table at offset (read on a miss); NULL with -errno in *ret. */
uint8_t *qcow2_get_l2(Qcow2 *q, uint64_t offset, int *ret);
/* A fresh, zeroed, dirty L2 table at offset (just allocated). */
uint8_t *qcow2_new_l2(Qcow2 *q, uint64_t offset, int *ret);
void qcow2_l2_mark_dirty(Qcow2 *q, uint64_t offset);
int qcow2_get_refcount(Qcow2 *q, uint64_t cluster, uint64_t *refcount);
/* refcount += delta for clusters [offset, offset + bytes): -ERANGE on
 * overflow or underflow (the image is then left alone). */
int qcow2_update_refcount(Qcow2 *q, uint64_t offset, uint64_t bytes, int64_t delta);
/* Allocates n contiguous free clusters (refcount 1); host offset or -errno. */
int64_t qcow2_alloc_clusters(Qcow2 *q, uint64_t n);
/* Queues a refcount decrease for after the next metadata flush. */
void qcow2_free_later(Qcow2 *q, uint64_t offset, uint64_t bytes);
/* Writes the caches and L1 in dependency order (see above); with sync,
 * ends with fdatasync.  Does not apply the queued decreases. */
int qcow2_flush_metadata(Qcow2 *q, bool sync);
/* Applies the queued decreases (takes io_lock exclusive and meta_lock). */
int qcow2_apply_pending(Qcow2 *q);
/* Refcount-table growth and block creation are internal. */
/* Clusters the host file spans (at least). */
uint64_t qcow2_file_clusters(Qcow2 *q);

/* Host clusters a compressed descriptor covers, for refcounts. */
void qcow2_compressed_range(Qcow2 *q, uint64_t l2e, uint64_t *start, uint64_t *bytes);
/* Decodes one L2 entry (raw: 1 or 2 words); -EIO when malformed. */
int qcow2_decode_l2(Qcow2 *q, const uint8_t *entry, Qcow2Mapping *m);

/* ---- block/qcow2-snapshot.c ---- */
/* vx86-img snapshot -c/-a/-d: name is an id or a name. */
int qcow2_snapshot_create(Qcow2 *q, const char *name, char *err, size_t errlen);
int qcow2_snapshot_apply(Qcow2 *q, const char *name, char *err, size_t errlen);
int qcow2_snapshot_delete(Qcow2 *q, const char *name, char *err, size_t errlen);
/* Index of the snapshot with that id or name, or -1. */
int qcow2_snapshot_find(Qcow2 *q, const char *name);
/*
 * Whole-VM snapshots (QEMU's savevm): the VM state lives in the image's
 * address space just past the disk, from the disk size rounded up to
 * what one L2 table maps (qcow2_vm_state_offset), written through the
 * active L1 table before the snapshot copies it; the snapshot records
 * its size (vm_state_size, and the 64-bit extra field).  Afterwards the
 * active tree drops it again (qcow2_drop_vmstate), as QEMU does, so it
 * lives in the snapshot only.
 */
extern const BlockSnapshotOps qcow2_snapshot_ops;
uint64_t qcow2_vm_state_offset(const Qcow2 *q, uint64_t disk_size);
int qcow2_save_vmstate(Qcow2 *q, uint64_t pos, const void *buf, size_t len);
/* From the VM state of snapshot i (by index); -EIO past its size. */
int qcow2_load_vmstate(Qcow2 *q, int i, uint64_t pos, void *buf, size_t len);
/* Drops the active tree's references to the VM state area. */
int qcow2_drop_vmstate(Qcow2 *q);
/* Adds delta to the refcount of every cluster the L1 table references
 * (L2 tables and data) and recomputes nothing else. */
int qcow2_tree_refcount(Qcow2 *q, const uint64_t *l1, uint32_t l1_size, int64_t delta);
/* Sets the COPIED flags of the active L1 and L2 tables from the refcounts. */
int qcow2_fix_copied(Qcow2 *q);

/* ---- block/qcow2-check.c ---- */
typedef struct Qcow2CheckResult {
    uint64_t corruptions, leaks, corruptions_fixed, leaks_fixed;
    uint64_t check_errors;
    uint64_t total_clusters, allocated_clusters, fragmented_clusters, compressed_clusters;
    uint64_t image_end_offset;
} Qcow2CheckResult;
#define QCOW2_FIX_LEAKS 1
#define QCOW2_FIX_ERRORS 2
/* Walks every table; messages go to out (QEMU's words).  0, or -errno
 * when the check could not complete. */
int qcow2_check(Qcow2 *q, unsigned fix, Qcow2CheckResult *res, FILE *out);

/* ---- block/qcow2-create.c ---- */
typedef struct Qcow2CreateOptions {
    uint64_t size;
    uint32_t cluster_size;      /* 0: 64 KiB */
    int version;                /* 2 or 3 (0: 3) */
    uint32_t refcount_bits;     /* 0: 16 */
    bool lazy_refcounts;
    bool extended_l2;
    int compression_type;       /* QCOW2_COMPRESSION_* */
    bool prealloc_metadata;
    const char *backing;        /* name as stored, or NULL */
    const char *backing_fmt;
} Qcow2CreateOptions;
int qcow2_create(const char *filename, const Qcow2CreateOptions *o, char *err, size_t errlen);

#endif
