/*
 * virtio-rng (virtio 1.2, 5.4): one request queue whose device-writable
 * buffers are filled with bytes from the host's getrandom(2); no
 * configuration, no feature bits.
 *
 *   VirtIORNG *r = virtio_rng_create(m);
 *   virtio_pci_create(m, bus, devfn, virtio_rng_vdev(r), err, len);
 *
 * At most VIRTIO_RNG_MAX_CHUNK bytes per buffer chain (the spec lets the
 * device fill fewer bytes than offered); a chain with no writable bytes is
 * returned with 0 bytes written.
 */
#ifndef VX86_HW_VIRTIO_RNG_H
#define VX86_HW_VIRTIO_RNG_H

#include "hw/virtio.h"

#define VIRTIO_ID_ENTROPY       4
#define VIRTIO_RNG_QUEUE_SIZE   64
#define VIRTIO_RNG_MAX_CHUNK    4096

typedef struct VirtIORNG VirtIORNG;

VirtIORNG *virtio_rng_create(Machine *m);
VirtIODevice *virtio_rng_vdev(VirtIORNG *r);

#endif
