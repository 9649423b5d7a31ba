/*
 * VMware VMDK (read-only import): the driver's state, shared by
 * block/vmdk.c (descriptor parsing, sparse extent headers, grain tables,
 * reads) and vx86-img (info, check).
 *
 * An image is a list of extents laid end to end in the guest's address
 * space.  A file starting with the sparse magic "KDMV" is one SPARSE
 * extent on its own (monolithicSparse, streamOptimized; its embedded
 * descriptor only gives the create type and CIDs); any other VMDK is a
 * text descriptor naming its extents (monolithicFlat, twoGbMaxExtentSparse,
 * twoGbMaxExtentFlat), each a FLAT file, a SPARSE file or a ZERO range.
 * Everything little-endian, offsets in 512-byte sectors.
 */
#ifndef VX86_BLOCK_VMDK_H
#define VX86_BLOCK_VMDK_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "block/block-int.h"

#define VMDK_SECTOR 512u
#define VMDK_MAGIC 0x564d444bu               /* "KDMV" */
#define VMDK_COWD_MAGIC 0x44574f43u          /* "COWD": VMDK3 / vmfsSparse */
#define VMDK_GD_AT_END UINT64_C(0xffffffffffffffff)
#define VMDK_PARENT_NONE 0xffffffffu

/* Sparse header flags (VMware's "Virtual Disk Format 5.0", SparseExtentHeader). */
#define VMDK_FLAG_NL_DETECT (1u << 0)        /* the four newline bytes are checked */
#define VMDK_FLAG_RGD (1u << 1)              /* a redundant grain directory exists */
#define VMDK_FLAG_ZERO_GRAIN (1u << 2)       /* grain table entry 1 = a grain of zeros */
#define VMDK_FLAG_COMPRESSED (1u << 16)      /* grains are deflate (zlib) streams */
#define VMDK_FLAG_MARKERS (1u << 17)         /* grains and metadata carry markers */

/* Limits (a valid image never comes near them; a malformed one is
 * refused instead of making us allocate or read without bound). */
#define VMDK_MAX_DESCRIPTOR (1u << 20)       /* bytes of descriptor text */
#define VMDK_MAX_EXTENTS 4096
#define VMDK_MAX_GRAIN_SECTORS 32768u        /* 16 MiB grains */
#define VMDK_MAX_GT_ENTRIES 65536u
#define VMDK_MAX_GT_BYTES (256u << 20)       /* grain tables held in memory, per extent */
#define VMDK_MAX_SIZE (UINT64_C(1) << 50)    /* 1 PiB guest size */

typedef enum VmdkExtentType { VMDK_EXTENT_FLAT, VMDK_EXTENT_SPARSE, VMDK_EXTENT_ZERO } VmdkExtentType;

typedef struct VmdkExtent {
    VmdkExtentType type;
    char *name;                 /* as the descriptor names it (or the image's own name) */
    BlockFile *file;            /* NULL for ZERO */
    bool own_file;              /* opened by us (a descriptor's extent), closed by us */
    uint64_t start, size;       /* guest bytes */
    uint64_t flat_offset;       /* FLAT: where the extent starts in its file (bytes) */

    /* SPARSE */
    uint32_t version, flags;
    uint64_t capacity;          /* sectors, from the header */
    uint64_t grain_bytes;
    uint32_t gt_entries;        /* entries per grain table */
    uint64_t gd_sector, rgd_sector;   /* 0: none */
    uint64_t desc_sector, desc_sectors;
    uint64_t overhead;          /* sectors of metadata before the first grain */
    uint32_t gd_entries;
    uint32_t *gd;               /* grain directory (sectors of the grain tables) */
    uint32_t **gt;              /* gd_entries grain tables, NULL where the GD entry is 0 */
    bool compressed, markers, zero_grain, footer;
} VmdkExtent;

typedef struct VmdkGrainCache {
    const VmdkExtent *ex;
    uint64_t grain;
    uint8_t *data;
    uint64_t used;
} VmdkGrainCache;
#define VMDK_GRAIN_CACHE 4

typedef struct Vmdk {
    const char *filename;       /* the image (descriptor or sparse file) */
    char *create_type;
    uint32_t cid, parent_cid;
    int nb_extents;
    VmdkExtent *extents;
    uint64_t size;              /* guest bytes */
    /* Decompressed grains of compressed extents (streamOptimized), so
     * small sequential reads inside one grain inflate it once. */
    pthread_mutex_t cache_lock;
    VmdkGrainCache cache[VMDK_GRAIN_CACHE];
    uint64_t cache_clock;
} Vmdk;

/* How sure the first bytes are a VMDK: 100 for the sparse magics or a text
 * descriptor ("version=N" as its first non-comment line), else 0. */
int vmdk_probe(const uint8_t *buf, size_t len);
/* Opens read-only; NULL with "FILE: problem" in err. */
Vmdk *vmdk_open(BlockFile *file, char *err, size_t errlen);
void vmdk_close(Vmdk *v);
int vmdk_pread(Vmdk *v, uint64_t offset, void *buf, size_t len);
/* Bytes of host disk the descriptor and every extent file use. */
uint64_t vmdk_disk_usage(const Vmdk *v);

/* The deeper read-only consistency check of vx86-img check: grains that
 * overlap each other or metadata, compressed grains that do not inflate
 * to their grain or whose marker names another sector, a redundant grain
 * directory or table that disagrees.  Each problem is one "ERROR ..." line
 * on out; returns the number of problems. */
uint64_t vmdk_check(Vmdk *v, FILE *out);

/* A descriptor's extent file name as a path: relative to the descriptor's
 * folder; NULL with a reason for an absolute name or one with a ".."
 * component (an image must not reach files outside its folder). */
char *vmdk_extent_path(const char *descriptor, const char *name, char *why, size_t whylen);

#endif
