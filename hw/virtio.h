/*
 * Virtio devices, independent of device type and transport (virtio 1.2,
 * chapters 2 and 6): device status, feature bits, split virtqueues
 * (descriptor table, available ring, used ring) with indirect descriptors
 * and event-index notification suppression, and the device-error path.
 *
 * A device type embeds a VirtIODevice as its first member and describes
 * itself with a VirtIODeviceClass; a transport (hw/virtio-pci.c) owns the
 * registers and the interrupt and calls into this file:
 *
 *   typedef struct VirtIORNG { VirtIODevice vdev; ... } VirtIORNG;
 *   virtio_init(&rng->vdev, &virtio_rng_class, m, 0, 1, 64);
 *   // the transport: virtio_set_transport(vdev, &ops, t), registers ...
 *   // guest notifies queue q: virtio_queue_notify(vdev, q) -> class->queue_notify
 *   VirtQueueElement *e;
 *   while ((e = virtqueue_pop(vq))) {
 *       size_t n = virtio_elem_write(vdev, e, 0, bytes, e->in_len);
 *       virtqueue_push(vq, e, n);      // frees e
 *   }
 *   virtqueue_notify(vq);               // interrupt unless suppressed
 *
 * Every descriptor is checked when popped: buffers must lie wholly in
 * guest RAM (writable buffers in RAM, not ROM), lengths must not wrap,
 * chains must end within the queue size (no loops), indirect tables must be
 * a non-zero multiple of 16 bytes, at most VIRTQUEUE_MAX_SIZE entries,
 * negotiated, never inside another indirect table and never combined with
 * NEXT, device-writable buffers must follow the readable ones, and the
 * available index may not run more than the queue size ahead.  A breach
 * is a device error (virtio_error): the device sets DEVICE_NEEDS_RESET
 * (when VERSION_1 was negotiated), sends a configuration-change interrupt
 * and processes nothing until the driver resets it.  Guest memory is only
 * touched through range-checked host pointers and the memory map, never
 * outside RAM.
 */
#ifndef VX86_HW_VIRTIO_H
#define VX86_HW_VIRTIO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/machine.h"

#define VIRTIO_MAX_QUEUES       64        /* virtio-serial: 31 ports + control */
#define VIRTQUEUE_MAX_SIZE      1024
#define VIRTIO_NO_VECTOR        0xffff
#define VIRTIO_CONFIG_IRQ       (-1)      /* "queue" of a config interrupt */

/* Device status (2.1). */
#define VIRTIO_STATUS_ACKNOWLEDGE   1
#define VIRTIO_STATUS_DRIVER        2
#define VIRTIO_STATUS_DRIVER_OK     4
#define VIRTIO_STATUS_FEATURES_OK   8
#define VIRTIO_STATUS_NEEDS_RESET   64
#define VIRTIO_STATUS_FAILED        128

/* Reserved feature bits (6). */
#define VIRTIO_F_NOTIFY_ON_EMPTY    24
#define VIRTIO_F_ANY_LAYOUT         27
#define VIRTIO_F_INDIRECT_DESC      28
#define VIRTIO_F_EVENT_IDX          29
#define VIRTIO_F_VERSION_1          32

/* Descriptor flags (2.7.5) and ring flags (2.7.6, 2.7.8). */
#define VIRTQ_DESC_F_NEXT           1
#define VIRTQ_DESC_F_WRITE          2
#define VIRTQ_DESC_F_INDIRECT       4
#define VIRTQ_AVAIL_F_NO_INTERRUPT  1
#define VIRTQ_USED_F_NO_NOTIFY      1

/* ISR status bits (4.1.4.5). */
#define VIRTIO_ISR_QUEUE            1
#define VIRTIO_ISR_CONFIG           2

typedef struct VirtIODevice VirtIODevice;

typedef struct VirtQueue {
    VirtIODevice *vdev;
    int index;
    uint16_t num_max;         /* the device's maximum (and the legacy size) */
    uint16_t num;             /* size the driver chose: a power of 2 */
    bool ready;
    uint64_t desc, avail, used;
    uint16_t vector;          /* MSI-X vector or VIRTIO_NO_VECTOR */
    uint16_t last_avail_idx;  /* next available entry to take */
    uint16_t used_idx;        /* next used entry to fill */
    uint16_t signalled_used;  /* used_idx at the last interrupt (event idx) */
    bool signalled_used_valid;
    uint32_t inflight;        /* popped, not pushed yet */
} VirtQueue;

/* One guest buffer of a request. */
typedef struct VirtIOSeg {
    uint64_t addr;
    uint32_t len;
} VirtIOSeg;

/* A popped descriptor chain: out[] device-readable, in[] device-writable. */
typedef struct VirtQueueElement {
    uint16_t head;
    unsigned out_num, in_num;
    uint64_t out_len, in_len;   /* byte totals */
    VirtIOSeg *out, *in;        /* both point into segs[] */
    VirtIOSeg segs[];
} VirtQueueElement;

/* What a device type provides. */
typedef struct VirtIODeviceClass {
    const char *name;           /* "virtio-blk" */
    uint16_t device_id;         /* virtio device ID (5): 2 block, 4 entropy */
    uint32_t pci_class;         /* class << 16 | subclass << 8 | prog-if */
    uint32_t config_size;       /* bytes of device configuration */
    /* Fills config_size bytes with the current configuration (LE). */
    void (*get_config)(VirtIODevice *vdev, uint8_t *config);
    /* The driver wrote the configuration (may be NULL: read-only). */
    void (*set_config)(VirtIODevice *vdev, const uint8_t *config);
    /* The driver notified queue vq (only while DRIVER_OK and not broken). */
    void (*queue_notify)(VirtIODevice *vdev, VirtQueue *vq);
    /* Device reset: finish or cancel in-flight requests without touching
     * the rings (they are being reset). */
    void (*reset)(VirtIODevice *vdev);
} VirtIODeviceClass;

/* What the transport provides. */
typedef struct VirtIOTransportOps {
    /* Interrupt for queue n, or VIRTIO_CONFIG_IRQ. */
    void (*notify)(void *opaque, int queue);
    /* Whether the device may access guest memory now (bus mastering). */
    bool (*dma_allowed)(void *opaque);
} VirtIOTransportOps;

struct VirtIODevice {
    const VirtIODeviceClass *cls;
    Machine *m;
    const VirtIOTransportOps *tops;
    void *topaque;
    uint64_t host_features;
    uint64_t guest_features;
    uint8_t status;
    uint8_t isr;
    uint8_t config_generation;
    uint16_t config_vector;
    bool broken;                /* device error: nothing runs until reset */
    int nvq;
    VirtQueue vq[VIRTIO_MAX_QUEUES];
    VirtIOSeg *scratch;         /* descriptor walk buffer */
    size_t scratch_cap;
};

/* features: the device type's feature bits; INDIRECT_DESC, EVENT_IDX and
 * VERSION_1 are added here.  nvq queues of queue_size (a power of 2). */
void virtio_init(VirtIODevice *vdev, const VirtIODeviceClass *cls, Machine *m,
                 uint64_t features, int nvq, uint16_t queue_size);
void virtio_cleanup(VirtIODevice *vdev);
void virtio_set_transport(VirtIODevice *vdev, const VirtIOTransportOps *ops, void *opaque);
/* Status 0 and device reset: features, queues, ISR, error state cleared. */
void virtio_reset(VirtIODevice *vdev);
/* A status write: 0 resets; otherwise stored (FEATURES_OK is refused,
 * i.e. not stored, if the driver took features the device lacks). */
void virtio_set_status(VirtIODevice *vdev, uint8_t status);
bool virtio_has_feature(const VirtIODevice *vdev, unsigned bit);
/* The driver's queue notification (transport register write). */
void virtio_queue_notify(VirtIODevice *vdev, int q);
/* Device configuration, byte-addressed: out-of-range reads are 0 and
 * writes dropped. */
uint32_t virtio_config_read(VirtIODevice *vdev, uint32_t off, unsigned size);
void virtio_config_write(VirtIODevice *vdev, uint32_t off, uint32_t val, unsigned size);
/* A device error (the guest broke the rules): logs under -d guest_errors,
 * sets NEEDS_RESET for a VERSION_1 driver, config interrupt; the device
 * then ignores its queues until reset. */
void virtio_error(VirtIODevice *vdev, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
/* The configuration changed (device side): generation++, interrupt. */
void virtio_notify_config(VirtIODevice *vdev);

/* Queue size the legacy interface implies: the layout of 2.7 with the
 * used ring aligned to 4096. */
void virtqueue_set_legacy_layout(VirtQueue *vq, uint64_t base);

/* Next available chain, or NULL when there is none, the queue is not
 * ready, bus mastering is off, or the chain is malformed (then
 * virtio_error was called).  Free with free() if not pushed. */
VirtQueueElement *virtqueue_pop(VirtQueue *vq);
/* Returns e to the driver as used with len bytes written; frees e. */
void virtqueue_push(VirtQueue *vq, VirtQueueElement *e, uint32_t len);
/* Drops an element without using it (device reset while in flight). */
void virtqueue_discard(VirtQueue *vq, VirtQueueElement *e);
/* Gives the last popped element back (the next pop returns it again) and
 * frees it: a device that found the buffers too small for what it has.
 * Elements go back in the reverse order of their pops. */
void virtqueue_unpop(VirtQueue *vq, VirtQueueElement *e);
/* Interrupts the driver for vq unless it suppressed it (flags or event
 * index). */
void virtqueue_notify(VirtQueue *vq);

/* Copies from the element's readable buffers starting at byte off; returns
 * the bytes copied (short when the buffers end or stopped being RAM). */
size_t virtio_elem_read(VirtIODevice *vdev, const VirtQueueElement *e, uint64_t off,
                        void *buf, size_t len);
/* Copies into the element's writable buffers starting at byte off. */
size_t virtio_elem_write(VirtIODevice *vdev, const VirtQueueElement *e, uint64_t off,
                         const void *buf, size_t len);

extern const VMStateDesc virtio_vmsd;

#endif
