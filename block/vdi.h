/*
 * VirtualBox VDI (read-only import, dynamic and fixed images): the
 * driver's state, shared by block/vdi.c and vx86-img (info, check).
 *
 * The file: a 512-byte-ish header (a text line, signature 0xbeda107f,
 * version 1.1, then the fields below), a block map of one little-endian
 * 32-bit entry per guest block (the index of the data block holding it,
 * or 0xffffffff "not allocated", 0xfffffffe "zeros"), then the data
 * blocks from offset_data.  Dynamic and fixed images differ only in how
 * many blocks are allocated.
 */
#ifndef VX86_BLOCK_VDI_H
#define VX86_BLOCK_VDI_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "block/block-int.h"

#define VDI_SIGNATURE 0xbeda107fu
#define VDI_VERSION_1_1 0x00010001u
#define VDI_TYPE_DYNAMIC 1u
#define VDI_TYPE_FIXED 2u
#define VDI_TYPE_UNDO 3u
#define VDI_TYPE_DIFF 4u
#define VDI_BLOCK_FREE 0xffffffffu
#define VDI_BLOCK_ZERO 0xfffffffeu
#define VDI_HEADER_MIN 0x180u              /* header bytes after the signature and version */
#define VDI_MAX_BLOCK (256u << 20)
#define VDI_MAX_BMAP (256u << 20)          /* bytes of block map held in memory */
#define VDI_MAX_SIZE (UINT64_C(1) << 50)     /* 1 PiB guest size */

typedef struct Vdi {
    BlockFile *file;
    const char *filename;
    uint32_t type;              /* VDI_TYPE_DYNAMIC or VDI_TYPE_FIXED */
    uint64_t disk_size;         /* header's size of the disk in bytes */
    uint64_t size;              /* guest bytes: disk_size rounded up to a sector */
    uint32_t block_size;
    uint32_t blocks;            /* block map entries */
    uint32_t blocks_allocated;  /* as the header says */
    uint64_t offset_bmap, offset_data;
    uint32_t *bmap;
} Vdi;

/* 100 when the signature sits at byte 64, else 0. */
int vdi_probe(const uint8_t *buf, size_t len);
/* Opens read-only; NULL with "FILE: problem" in err. */
Vdi *vdi_open(BlockFile *file, char *err, size_t errlen);
void vdi_close(Vdi *v);
int vdi_pread(Vdi *v, uint64_t offset, void *buf, size_t len);
/* vx86-img check: data blocks used by two guest blocks, an allocated-block
 * count that disagrees with the map.  One "ERROR ..." line per problem on
 * out; returns the number of problems. */
uint64_t vdi_check(Vdi *v, FILE *out);

#endif
