/*
 * The virtio PCI transport (virtio 1.2, 4.1), transitional: the modern
 * interface (vendor capabilities in config space pointing into a memory
 * BAR, MSI-X) and the legacy I/O BAR for drivers that predate 1.0.
 *
 *   VirtIOPCIState *t = virtio_pci_create(m, bus, PCI_DEVFN(4, 0), &blk->vdev, err, len);
 *
 * Layout (what the capabilities and BARs say):
 *   BAR 0  I/O, legacy registers (4.1.4.8) + device configuration
 *   BAR 1  memory 4 KiB, MSI-X table (0) and PBA (0x800), nvq + 1 vectors
 *   BAR 4  memory 16 KiB: common configuration at 0x0000, ISR at 0x1000,
 *          device configuration at 0x2000, notifications at 0x3000
 *          (queue n at 0x3000 + 4 n: notify_off_multiplier 4)
 *   capabilities: common, notify, ISR, device, PCI configuration access,
 *   MSI-X.
 * PCI IDs: vendor 0x1af4, the transitional device ID (0x1001 block, 0x1005 entropy),
 * revision 0, subsystem 0x1af4:virtio ID, INTA#.  Without MSI-X the
 * transport raises INTx until the driver reads the ISR.
 */
#ifndef VX86_HW_VIRTIO_PCI_H
#define VX86_HW_VIRTIO_PCI_H

#include "hw/pci.h"
#include "hw/virtio.h"

#define VIRTIO_PCI_VENDOR_ID        0x1af4
/* Transitional PCI device IDs (4.1.2.3) by virtio device ID. */
#define VIRTIO_PCI_TRANSITIONAL_ID(id) \
    ((id) == 1 ? 0x1000 : (id) == 2 ? 0x1001 : (id) == 5 ? 0x1002 : (id) == 3 ? 0x1003 : \
     (id) == 8 ? 0x1004 : (id) == 4 ? 0x1005 : (id) == 9 ? 0x1009 : 0x1040 + (id))
#define VIRTIO_PCI_LEGACY_BAR       0
#define VIRTIO_PCI_MSIX_BAR         1
#define VIRTIO_PCI_MODERN_BAR       4
#define VIRTIO_PCI_MODERN_SIZE      0x4000
#define VIRTIO_PCI_COMMON_OFF       0x0000
#define VIRTIO_PCI_ISR_OFF          0x1000
#define VIRTIO_PCI_DEVICE_OFF       0x2000
#define VIRTIO_PCI_NOTIFY_OFF       0x3000
#define VIRTIO_PCI_NOTIFY_MULT      4

/* Capability types (4.1.4). */
#define VIRTIO_PCI_CAP_COMMON_CFG   1
#define VIRTIO_PCI_CAP_NOTIFY_CFG   2
#define VIRTIO_PCI_CAP_ISR_CFG      3
#define VIRTIO_PCI_CAP_DEVICE_CFG   4
#define VIRTIO_PCI_CAP_PCI_CFG      5

/* Common configuration registers (4.1.4.3). */
#define VIRTIO_PCI_COMMON_DFSELECT  0x00
#define VIRTIO_PCI_COMMON_DF        0x04
#define VIRTIO_PCI_COMMON_GFSELECT  0x08
#define VIRTIO_PCI_COMMON_GF        0x0c
#define VIRTIO_PCI_COMMON_MSIX      0x10
#define VIRTIO_PCI_COMMON_NUMQ      0x12
#define VIRTIO_PCI_COMMON_STATUS    0x14
#define VIRTIO_PCI_COMMON_CFGGEN    0x15
#define VIRTIO_PCI_COMMON_Q_SELECT  0x16
#define VIRTIO_PCI_COMMON_Q_SIZE    0x18
#define VIRTIO_PCI_COMMON_Q_MSIX    0x1a
#define VIRTIO_PCI_COMMON_Q_ENABLE  0x1c
#define VIRTIO_PCI_COMMON_Q_NOFF    0x1e
#define VIRTIO_PCI_COMMON_Q_DESCLO  0x20
#define VIRTIO_PCI_COMMON_Q_DESCHI  0x24
#define VIRTIO_PCI_COMMON_Q_AVAILLO 0x28
#define VIRTIO_PCI_COMMON_Q_AVAILHI 0x2c
#define VIRTIO_PCI_COMMON_Q_USEDLO  0x30
#define VIRTIO_PCI_COMMON_Q_USEDHI  0x34
#define VIRTIO_PCI_COMMON_SIZE      0x38

/* Legacy I/O registers (4.1.4.8). */
#define VIRTIO_PCI_L_HOST_FEATURES  0
#define VIRTIO_PCI_L_GUEST_FEATURES 4
#define VIRTIO_PCI_L_QUEUE_PFN      8
#define VIRTIO_PCI_L_QUEUE_NUM      12
#define VIRTIO_PCI_L_QUEUE_SEL      14
#define VIRTIO_PCI_L_QUEUE_NOTIFY   16
#define VIRTIO_PCI_L_STATUS         18
#define VIRTIO_PCI_L_ISR            19
#define VIRTIO_PCI_L_MSI_CONFIG     20
#define VIRTIO_PCI_L_MSI_QUEUE      22

typedef struct VirtIOPCIState VirtIOPCIState;

/* Registers the function at devfn; NULL with err when devfn is taken. */
VirtIOPCIState *virtio_pci_create(Machine *m, PCIBus *bus, int devfn, VirtIODevice *vdev,
                                  char *err, size_t errlen);
PCIDevice *virtio_pci_device(VirtIOPCIState *t);

#endif
