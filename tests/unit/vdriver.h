/*
 * A minimal virtio driver for unit tests (test_virtio_net.c,
 * test_virtio_serial.c): a machine with RAM and a PCI bus, one virtio
 * device on the PCI transport, brought up through the modern interface
 * with MSI-X, and split queues built in guest RAM as a driver builds them.
 *
 *   VDrv *d = vdrv_new();
 *   vdrv_attach(d, virtio_net_vdev(virtio_net_create(d->m, &cfg, backend)));
 *   vdrv_init(d, ~0ULL, 3);                 // all offered features, 3 queues
 *   vdrv_desc(d, 1, 0, buf, len, 0, 0);     // queue 1, descriptor 0
 *   vdrv_publish(d, 1, 0);                  // available + notify
 *   vdrv_used(d, 1, &id, &len);             // the device's answer
 *
 * Queue q lives at VDRV_DESC(q) (descriptor table), + 0x1000 (available
 * ring), + 0x2000 (used ring); MSI-X vector 0 is the configuration
 * vector, q + 1 queue q's; each message is recorded.
 */
#ifndef VX86_TESTS_UNIT_VDRIVER_H
#define VX86_TESTS_UNIT_VDRIVER_H

#include <stdbool.h>
#include <stdint.h>

#include "core/machine.h"
#include "hw/pci.h"
#include "hw/virtio-pci.h"

#define VDRV_RAM        (8u << 20)
#define VDRV_QSZ        16
#define VDRV_MAXQ       64
#define VDRV_DESC(q)    (0x10000u + 0x4000u * (q))
#define VDRV_AVAIL(q)   (VDRV_DESC(q) + 0x1000u)
#define VDRV_USED(q)    (VDRV_DESC(q) + 0x2000u)
#define VDRV_BUF        0x200000u      /* free RAM for buffers from here */
#define VDRV_MOD_BASE   0xfe004000u
#define VDRV_MSIX_BASE  0xfe000000u
#define VDRV_IO_BASE    0xc000

typedef struct VDrv {
    Machine *m;
    PCIBus *bus;
    VirtIODevice *vdev;
    VirtIOPCIState *t;
    int nq;
    uint16_t avail_idx[VDRV_MAXQ];
    uint16_t used_seen[VDRV_MAXQ];
    int nmsi;
    uint32_t msi_vec[256];        /* vector of each message (data - 0x40) */
} VDrv;

VDrv *vdrv_new(void);
void vdrv_attach(VDrv *d, VirtIODevice *vdev);
/* Features offered & want are taken; returns them.  nq queues enabled. */
uint64_t vdrv_init(VDrv *d, uint64_t want, int nq);
void vdrv_free(VDrv *d);

uint32_t vdrv_cr(VDrv *d, uint32_t off, unsigned size);
void vdrv_cw(VDrv *d, uint32_t off, uint32_t v, unsigned size);
uint8_t vdrv_status(VDrv *d);

void vdrv_desc(VDrv *d, int q, int i, uint64_t addr, uint32_t len, uint16_t flags, uint16_t next);
/* Makes head available on q; vdrv_publish also notifies. */
void vdrv_make_avail(VDrv *d, int q, uint16_t head);
void vdrv_notify(VDrv *d, int q);
void vdrv_publish(VDrv *d, int q, uint16_t head);
/* The next used entry of q not seen yet; false when there is none. */
bool vdrv_used(VDrv *d, int q, uint32_t *id, uint32_t *len);
/* Messages sent on vector v so far. */
int vdrv_msi_count(VDrv *d, int v);

void vdrv_put(VDrv *d, uint64_t addr, const void *p, size_t n);
void vdrv_get(VDrv *d, uint64_t addr, void *p, size_t n);

#endif
