/*
 * virtio-blk (virtio 1.2, 5.2): a disk on the block layer (block/block.h),
 * requests asynchronous (completions on the main thread), one or more
 * request queues.
 *
 *   VirtIOBlk *b = virtio_blk_create(m, bb, &(VirtIOBlkConfig){ .num_queues = 2 });
 *   virtio_pci_create(m, bus, devfn, virtio_blk_vdev(b), err, len);
 *
 * Requests: IN (read), OUT (write), FLUSH, GET_ID, DISCARD (range-checked,
 * then blk_aio_discard: a hole in a raw image, freed qcow2 clusters),
 * WRITE_ZEROES (a write of zeros).  A request without a 16-byte header or a status byte
 * is a device error (NEEDS_RESET); bad sectors, lengths that are not
 * whole sectors, writes to a read-only disk and data over
 * VIRTIO_BLK_MAX_DATA fail with IOERR; unknown types with UNSUPP.
 * The backend belongs to the caller and must outlive the device (the board
 * closes it after machine_free).
 */
#ifndef VX86_HW_VIRTIO_BLK_H
#define VX86_HW_VIRTIO_BLK_H

#include "block/block.h"
#include "hw/virtio.h"

#define VIRTIO_ID_BLOCK             2
#define VIRTIO_BLK_QUEUE_SIZE       256
#define VIRTIO_BLK_MAX_DATA         (64u << 20)   /* bytes of one request */
#define VIRTIO_BLK_MAX_ZERO_SECTORS 32768         /* 16 MiB per write-zeroes */
#define VIRTIO_BLK_MAX_DISCARD_SECTORS 0x3fffff

/* Feature bits (5.2.3). */
#define VIRTIO_BLK_F_SEG_MAX        2
#define VIRTIO_BLK_F_RO             5
#define VIRTIO_BLK_F_BLK_SIZE       6
#define VIRTIO_BLK_F_FLUSH          9
#define VIRTIO_BLK_F_MQ             12
#define VIRTIO_BLK_F_DISCARD        13
#define VIRTIO_BLK_F_WRITE_ZEROES   14

/* Request types and status (5.2.6). */
#define VIRTIO_BLK_T_IN             0
#define VIRTIO_BLK_T_OUT            1
#define VIRTIO_BLK_T_FLUSH          4
#define VIRTIO_BLK_T_GET_ID         8
#define VIRTIO_BLK_T_DISCARD        11
#define VIRTIO_BLK_T_WRITE_ZEROES   13
#define VIRTIO_BLK_S_OK             0
#define VIRTIO_BLK_S_IOERR          1
#define VIRTIO_BLK_S_UNSUPP         2
#define VIRTIO_BLK_ID_BYTES         20

typedef struct VirtIOBlk VirtIOBlk;

typedef struct VirtIOBlkConfig {
    int num_queues;           /* 1..VIRTIO_MAX_QUEUES; 0 means 1 */
    const char *serial;       /* GET_ID answer (up to 20 bytes); NULL: "" */
} VirtIOBlkConfig;

VirtIOBlk *virtio_blk_create(Machine *m, BlockBackend *bb, const VirtIOBlkConfig *cfg);
VirtIODevice *virtio_blk_vdev(VirtIOBlk *b);

#endif
