/*
 * Microsoft VHD ("vpc" as QEMU names the format; read-only import, fixed
 * and dynamic images): the driver's state, shared by block/vpc.c and
 * vx86-img (info, check).
 *
 * A 512-byte footer ("conectix", big-endian fields) ends every image; a
 * fixed image is the disk's bytes followed by it.  A dynamic image starts
 * with a copy of the footer, then a 1 KiB dynamic header ("cxsparse")
 * naming the block allocation table (BAT): one 32-bit entry per block,
 * the sector where the block's sector bitmap starts (its data follows the
 * bitmap), or 0xffffffff for a block never written (zeros).
 */
#ifndef VX86_BLOCK_VPC_H
#define VX86_BLOCK_VPC_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "block/block-int.h"

#define VPC_FOOTER 512u
#define VPC_DYN_HEADER 1024u
#define VPC_TYPE_FIXED 2u
#define VPC_TYPE_DYNAMIC 3u
#define VPC_TYPE_DIFF 4u
#define VPC_BAT_FREE 0xffffffffu
#define VPC_MAX_BLOCK (256u << 20)
#define VPC_MAX_BAT (256u << 20)           /* bytes of BAT held in memory */
#define VPC_MAX_SIZE (UINT64_C(1) << 50)     /* 1 PiB guest size */

typedef struct Vpc {
    BlockFile *file;
    const char *filename;
    uint32_t type;              /* VPC_TYPE_FIXED or VPC_TYPE_DYNAMIC */
    uint64_t size;              /* guest bytes */
    /* dynamic */
    uint32_t block_size;
    uint32_t bitmap_bytes;      /* sector bitmap before each block's data */
    uint32_t entries;           /* BAT entries looked at (those inside the disk) */
    uint64_t bat_offset, dyn_offset;
    uint32_t *bat;
} Vpc;

/* 100 when the file starts with "conectix" (a dynamic image's footer
 * copy); a fixed image has its footer only at the end and, as in QEMU,
 * needs format=vpc. */
int vpc_probe(const uint8_t *buf, size_t len);
/* Opens read-only; NULL with "FILE: problem" in err. */
Vpc *vpc_open(BlockFile *file, char *err, size_t errlen);
void vpc_close(Vpc *v);
int vpc_pread(Vpc *v, uint64_t offset, void *buf, size_t len);
/* vx86-img check: blocks that overlap each other or the metadata.  One
 * "ERROR ..." line per problem on out; returns the number of problems. */
uint64_t vpc_check(Vpc *v, FILE *out);

#endif
