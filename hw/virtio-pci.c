/*
 * The virtio PCI transport (see virtio-pci.h).  Facts used, virtio 1.2:
 * 4.1.2 (IDs: transitional device ID 0x1000 + ID - 1, revision 0,
 * subsystem device ID = virtio ID), 4.1.4 (struct virtio_pci_cap: vendor
 * capability 0x09 with cap_len, cfg_type, bar, id, offset, length; the
 * notify capability adds notify_off_multiplier; the PCI configuration
 * access capability adds a 4-byte data window onto the BARs), 4.1.4.3
 * (common configuration layout), 4.1.4.5 (ISR: read clears, bit 0 queue,
 * bit 1 configuration), 4.1.4.8 (legacy I/O layout, device configuration
 * at 20, or 24 while MSI-X is enabled), 4.1.5.1.2 (a vector the device
 * cannot use reads back as NO_VECTOR).
 */
#include "hw/virtio-pci.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/device.h"
#include "core/log.h"
#include "core/util.h"
#include "hw/msix.h"

struct VirtIOPCIState {
    Machine *m;
    PCIDevice *pci;
    VirtIODevice *vdev;
    MSIXState *msix;
    int nvec;
    uint32_t dfselect, gfselect;
    uint16_t queue_sel;
    uint32_t legacy_size;
    int cfg_cap;              /* offset of the PCI configuration access cap */
};

PCIDevice *virtio_pci_device(VirtIOPCIState *t)
{
    return t->pci;
}

/* ---- interrupts ---- */

static void vpci_notify(void *opaque, int queue)
{
    VirtIOPCIState *t = opaque;
    if (msix_enabled(t->msix)) {
        uint16_t v = queue == VIRTIO_CONFIG_IRQ ? t->vdev->config_vector
                                                : t->vdev->vq[queue].vector;
        if (v != VIRTIO_NO_VECTOR)
            msix_notify(t->msix, v);
        return;
    }
    pci_set_irq(t->pci, 1);
}

static bool vpci_dma_allowed(void *opaque)
{
    VirtIOPCIState *t = opaque;
    return pci_get_word(t->pci, PCI_COMMAND) & PCI_COMMAND_MASTER;
}

static const VirtIOTransportOps vpci_ops = {
    .notify = vpci_notify, .dma_allowed = vpci_dma_allowed,
};

static uint8_t vpci_isr_read(VirtIOPCIState *t)
{
    uint8_t v = t->vdev->isr;
    t->vdev->isr = 0;
    pci_set_irq(t->pci, 0);
    return v;
}

static uint16_t vpci_vector(VirtIOPCIState *t, uint16_t v)
{
    return v < t->nvec ? v : VIRTIO_NO_VECTOR;
}

static VirtQueue *vpci_queue(VirtIOPCIState *t)
{
    return t->queue_sel < t->vdev->nvq ? &t->vdev->vq[t->queue_sel] : NULL;
}

static void vpci_set_status(VirtIOPCIState *t, uint8_t status)
{
    VirtIODevice *vdev = t->vdev;
    bool was_ok = vdev->status & VIRTIO_STATUS_DRIVER_OK;
    virtio_set_status(vdev, status);
    if (status == 0) {
        pci_set_irq(t->pci, 0);
        return;
    }
    /* Buffers made available before DRIVER_OK are looked at now. */
    if (!was_ok && (vdev->status & VIRTIO_STATUS_DRIVER_OK))
        for (int q = 0; q < vdev->nvq; q++)
            virtio_queue_notify(vdev, q);
}

/* ---- modern: common configuration ---- */

static uint32_t vpci_common_read(VirtIOPCIState *t, uint32_t off)
{
    VirtIODevice *vdev = t->vdev;
    VirtQueue *vq = vpci_queue(t);
    switch (off) {
    case VIRTIO_PCI_COMMON_DFSELECT: return t->dfselect;
    case VIRTIO_PCI_COMMON_DF:
        return t->dfselect < 2 ? (uint32_t)(vdev->host_features >> (32 * t->dfselect)) : 0;
    case VIRTIO_PCI_COMMON_GFSELECT: return t->gfselect;
    case VIRTIO_PCI_COMMON_GF:
        return t->gfselect < 2 ? (uint32_t)(vdev->guest_features >> (32 * t->gfselect)) : 0;
    case VIRTIO_PCI_COMMON_MSIX: return vdev->config_vector;
    case VIRTIO_PCI_COMMON_NUMQ: return (uint32_t)vdev->nvq;
    case VIRTIO_PCI_COMMON_STATUS: return vdev->status;
    case VIRTIO_PCI_COMMON_CFGGEN: return vdev->config_generation;
    case VIRTIO_PCI_COMMON_Q_SELECT: return t->queue_sel;
    case VIRTIO_PCI_COMMON_Q_SIZE: return vq ? vq->num : 0;
    case VIRTIO_PCI_COMMON_Q_MSIX: return vq ? vq->vector : VIRTIO_NO_VECTOR;
    case VIRTIO_PCI_COMMON_Q_ENABLE: return vq ? vq->ready : 0;
    case VIRTIO_PCI_COMMON_Q_NOFF: return vq ? (uint32_t)vq->index : 0;
    case VIRTIO_PCI_COMMON_Q_DESCLO: return vq ? (uint32_t)vq->desc : 0;
    case VIRTIO_PCI_COMMON_Q_DESCHI: return vq ? (uint32_t)(vq->desc >> 32) : 0;
    case VIRTIO_PCI_COMMON_Q_AVAILLO: return vq ? (uint32_t)vq->avail : 0;
    case VIRTIO_PCI_COMMON_Q_AVAILHI: return vq ? (uint32_t)(vq->avail >> 32) : 0;
    case VIRTIO_PCI_COMMON_Q_USEDLO: return vq ? (uint32_t)vq->used : 0;
    case VIRTIO_PCI_COMMON_Q_USEDHI: return vq ? (uint32_t)(vq->used >> 32) : 0;
    default: return 0;
    }
}

static void set_lo(uint64_t *r, uint32_t v) { *r = (*r & ~0xffffffffULL) | v; }
static void set_hi(uint64_t *r, uint32_t v) { *r = (*r & 0xffffffffULL) | (uint64_t)v << 32; }

static void vpci_common_write(VirtIOPCIState *t, uint32_t off, uint32_t val)
{
    VirtIODevice *vdev = t->vdev;
    VirtQueue *vq = vpci_queue(t);
    /* Queue registers are frozen while the queue is enabled (4.1.4.3.2). */
    bool qw = vq && !vq->ready;
    switch (off) {
    case VIRTIO_PCI_COMMON_DFSELECT: t->dfselect = val; break;
    case VIRTIO_PCI_COMMON_GFSELECT: t->gfselect = val; break;
    case VIRTIO_PCI_COMMON_GF:
        if (t->gfselect < 2 && !(vdev->status & VIRTIO_STATUS_FEATURES_OK)) {
            uint64_t mask = 0xffffffffULL << (32 * t->gfselect);
            vdev->guest_features = (vdev->guest_features & ~mask) |
                                   ((uint64_t)val << (32 * t->gfselect));
        }
        break;
    case VIRTIO_PCI_COMMON_MSIX: vdev->config_vector = vpci_vector(t, (uint16_t)val); break;
    case VIRTIO_PCI_COMMON_STATUS: vpci_set_status(t, (uint8_t)val); break;
    case VIRTIO_PCI_COMMON_Q_SELECT: t->queue_sel = (uint16_t)val; break;
    case VIRTIO_PCI_COMMON_Q_SIZE:
        /* A power of 2 up to the maximum; anything else is ignored. */
        if (qw && val && val <= vq->num_max && !(val & (val - 1)))
            vq->num = (uint16_t)val;
        break;
    case VIRTIO_PCI_COMMON_Q_MSIX:
        if (vq)
            vq->vector = vpci_vector(t, (uint16_t)val);
        break;
    case VIRTIO_PCI_COMMON_Q_ENABLE:
        if (qw && val == 1) {
            vq->ready = true;
            vq->last_avail_idx = vq->used_idx = 0;
            vq->signalled_used = 0;
            vq->signalled_used_valid = true;
        }
        break;
    case VIRTIO_PCI_COMMON_Q_DESCLO: if (qw) set_lo(&vq->desc, val); break;
    case VIRTIO_PCI_COMMON_Q_DESCHI: if (qw) set_hi(&vq->desc, val); break;
    case VIRTIO_PCI_COMMON_Q_AVAILLO: if (qw) set_lo(&vq->avail, val); break;
    case VIRTIO_PCI_COMMON_Q_AVAILHI: if (qw) set_hi(&vq->avail, val); break;
    case VIRTIO_PCI_COMMON_Q_USEDLO: if (qw) set_lo(&vq->used, val); break;
    case VIRTIO_PCI_COMMON_Q_USEDHI: if (qw) set_hi(&vq->used, val); break;
    default:
        LOG(LOG_GUEST_ERRORS, "%s: write to read-only common register 0x%x\n",
            vdev->cls->name, off);
        break;
    }
}

/* Registers are naturally aligned fields of 1, 2 or 4 bytes; a narrower
 * access reads or writes part of a field (read-modify-write). */
static unsigned common_field_size(uint32_t off)
{
    if (off == VIRTIO_PCI_COMMON_STATUS || off == VIRTIO_PCI_COMMON_CFGGEN)
        return 1;
    if (off >= VIRTIO_PCI_COMMON_MSIX && off < VIRTIO_PCI_COMMON_Q_DESCLO)
        return 2;
    return 4;
}

static uint64_t vpci_modern_read(void *opaque, uint64_t off, unsigned size)
{
    VirtIOPCIState *t = opaque;
    if (off < VIRTIO_PCI_COMMON_SIZE) {
        unsigned fs = common_field_size((uint32_t)off & ~3u);
        uint32_t base = (uint32_t)off & ~(fs - 1);
        if (fs == 2 && ((uint32_t)off & ~3u) != base)
            base = (uint32_t)off & ~1u;
        uint32_t v = vpci_common_read(t, base);
        uint32_t shift = 8 * ((uint32_t)off - base);
        return size >= 4 ? v : (v >> shift) & ((1u << (8 * size)) - 1);
    }
    if (off >= VIRTIO_PCI_ISR_OFF && off < VIRTIO_PCI_ISR_OFF + 4)
        return off == VIRTIO_PCI_ISR_OFF ? vpci_isr_read(t) : 0;
    if (off >= VIRTIO_PCI_DEVICE_OFF && off < VIRTIO_PCI_NOTIFY_OFF)
        return virtio_config_read(t->vdev, (uint32_t)(off - VIRTIO_PCI_DEVICE_OFF), size);
    return 0;
}

static void vpci_modern_write(void *opaque, uint64_t off, uint64_t val, unsigned size)
{
    VirtIOPCIState *t = opaque;
    if (off < VIRTIO_PCI_COMMON_SIZE) {
        /* Accesses narrower than the field (a driver writing the status
         * byte of a 2-byte pair, say) act on the field they start in. */
        uint32_t o = (uint32_t)off;
        if (size == 4 && (o & 3) == 0 && common_field_size(o) == 2) {
            vpci_common_write(t, o, (uint16_t)val);
            vpci_common_write(t, o + 2, (uint16_t)(val >> 16));
        } else if (size == 2 && common_field_size(o & ~3u) == 1) {
            vpci_common_write(t, o, (uint8_t)val);
            vpci_common_write(t, o + 1, (uint8_t)(val >> 8));
        } else {
            vpci_common_write(t, o, (uint32_t)val);
        }
        return;
    }
    if (off >= VIRTIO_PCI_DEVICE_OFF && off < VIRTIO_PCI_NOTIFY_OFF) {
        virtio_config_write(t->vdev, (uint32_t)(off - VIRTIO_PCI_DEVICE_OFF), (uint32_t)val, size);
        return;
    }
    if (off >= VIRTIO_PCI_NOTIFY_OFF) {
        uint64_t q = (off - VIRTIO_PCI_NOTIFY_OFF) / VIRTIO_PCI_NOTIFY_MULT;
        if (q < (uint64_t)t->vdev->nvq)
            virtio_queue_notify(t->vdev, (int)q);
    }
}

static const MemOps vpci_modern_ops = {
    .read = vpci_modern_read, .write = vpci_modern_write, .min_size = 1, .max_size = 4,
};

/* ---- legacy I/O BAR ---- */

static uint32_t vpci_legacy_cfg_off(VirtIOPCIState *t)
{
    return msix_enabled(t->msix) ? 24 : 20;
}

static uint64_t vpci_legacy_read(void *opaque, uint64_t off, unsigned size)
{
    VirtIOPCIState *t = opaque;
    VirtIODevice *vdev = t->vdev;
    VirtQueue *vq = vpci_queue(t);
    uint32_t cfg = vpci_legacy_cfg_off(t);
    if (off >= cfg)
        return virtio_config_read(vdev, (uint32_t)(off - cfg), size);
    switch (off) {
    case VIRTIO_PCI_L_HOST_FEATURES: return (uint32_t)vdev->host_features;
    case VIRTIO_PCI_L_GUEST_FEATURES: return (uint32_t)vdev->guest_features;
    case VIRTIO_PCI_L_QUEUE_PFN: return vq ? (uint32_t)(vq->desc >> 12) : 0;
    case VIRTIO_PCI_L_QUEUE_NUM: return vq ? vq->num_max : 0;
    case VIRTIO_PCI_L_QUEUE_SEL: return t->queue_sel;
    case VIRTIO_PCI_L_STATUS: return vdev->status;
    case VIRTIO_PCI_L_ISR: return vpci_isr_read(t);
    case VIRTIO_PCI_L_MSI_CONFIG: return vdev->config_vector;
    case VIRTIO_PCI_L_MSI_QUEUE: return vq ? vq->vector : VIRTIO_NO_VECTOR;
    default: return 0;
    }
}

static void vpci_legacy_write(void *opaque, uint64_t off, uint64_t val, unsigned size)
{
    VirtIOPCIState *t = opaque;
    VirtIODevice *vdev = t->vdev;
    VirtQueue *vq = vpci_queue(t);
    uint32_t cfg = vpci_legacy_cfg_off(t);
    if (off >= cfg) {
        virtio_config_write(vdev, (uint32_t)(off - cfg), (uint32_t)val, size);
        return;
    }
    switch (off) {
    case VIRTIO_PCI_L_GUEST_FEATURES:
        /* The low 32 bits only: a legacy driver never takes VERSION_1. */
        vdev->guest_features = (uint32_t)val & (uint32_t)vdev->host_features;
        break;
    case VIRTIO_PCI_L_QUEUE_PFN:
        if (!vq)
            break;
        if ((uint32_t)val == 0) {
            vq->ready = false;
            vq->desc = vq->avail = vq->used = 0;
        } else {
            vq->num = vq->num_max;
            virtqueue_set_legacy_layout(vq, (uint64_t)(uint32_t)val << 12);
            vq->last_avail_idx = vq->used_idx = 0;
            vq->signalled_used = 0;
            vq->signalled_used_valid = true;
            vq->ready = true;
        }
        break;
    case VIRTIO_PCI_L_QUEUE_SEL: t->queue_sel = (uint16_t)val; break;
    case VIRTIO_PCI_L_QUEUE_NOTIFY: virtio_queue_notify(vdev, (uint16_t)val); break;
    case VIRTIO_PCI_L_STATUS: vpci_set_status(t, (uint8_t)val); break;
    case VIRTIO_PCI_L_MSI_CONFIG:
        if (msix_enabled(t->msix))
            vdev->config_vector = vpci_vector(t, (uint16_t)val);
        break;
    case VIRTIO_PCI_L_MSI_QUEUE:
        if (msix_enabled(t->msix) && vq)
            vq->vector = vpci_vector(t, (uint16_t)val);
        break;
    default:
        break;
    }
}

/* The dispatcher hands over naturally sized accesses: the registers are
 * 4 bytes below 12, then 2, then 1, then 2. */
static const MemOps vpci_legacy_ops = {
    .read = vpci_legacy_read, .write = vpci_legacy_write, .min_size = 1, .max_size = 4,
};

/* ---- config space: capabilities, the PCI configuration access window ---- */

static void vpci_add_cap(PCIDevice *d, uint8_t type, uint8_t bar, uint32_t off,
                         uint32_t len, unsigned cap_len, uint32_t extra)
{
    int c = pci_add_capability(d, PCI_CAP_ID_VNDR, cap_len);
    if (c < 0)
        return;
    d->config[c + 2] = (uint8_t)cap_len;
    d->config[c + 3] = type;
    d->config[c + 4] = bar;
    pci_set_long(d, (uint32_t)c + 8, off);
    pci_set_long(d, (uint32_t)c + 12, len);
    if (cap_len >= 20)
        pci_set_long(d, (uint32_t)c + 16, extra);
}

/* The window's bar/offset/length select a BAR access of length bytes. */
static bool vpci_cfg_window(VirtIOPCIState *t, const MemOps **ops, uint64_t *off,
                            unsigned *len)
{
    PCIDevice *d = t->pci;
    uint8_t bar = d->config[t->cfg_cap + 4];
    uint32_t o = pci_get_long(d, (uint32_t)t->cfg_cap + 8);
    uint32_t l = pci_get_long(d, (uint32_t)t->cfg_cap + 12);
    if (l != 1 && l != 2 && l != 4)
        return false;
    if (bar == VIRTIO_PCI_MODERN_BAR && o < VIRTIO_PCI_MODERN_SIZE &&
        o + l <= VIRTIO_PCI_MODERN_SIZE) {
        *ops = &vpci_modern_ops;
    } else if (bar == VIRTIO_PCI_LEGACY_BAR && o < t->legacy_size && o + l <= t->legacy_size) {
        *ops = &vpci_legacy_ops;
    } else {
        return false;
    }
    *off = o;
    *len = l;
    return true;
}

static bool in_window(VirtIOPCIState *t, uint32_t addr, unsigned size)
{
    uint32_t data = (uint32_t)t->cfg_cap + 16;
    return addr < data + 4 && data < addr + size;
}

static uint32_t vpci_config_read(PCIDevice *d, uint32_t addr, unsigned size)
{
    VirtIOPCIState *t = d->opaque;
    if (t->cfg_cap && in_window(t, addr, size) && addr == (uint32_t)t->cfg_cap + 16) {
        const MemOps *ops;
        uint64_t off;
        unsigned len;
        if (vpci_cfg_window(t, &ops, &off, &len))
            pci_set_long(d, addr, (uint32_t)ops->read(t, off, len));
    }
    return pci_default_config_read(d, addr, size);
}

static void vpci_config_write(PCIDevice *d, uint32_t addr, uint32_t val, unsigned size)
{
    VirtIOPCIState *t = d->opaque;
    pci_default_config_write(d, addr, val, size);
    msix_config_write(t->msix, addr, size);
    if (t->cfg_cap && in_window(t, addr, size) && addr == (uint32_t)t->cfg_cap + 16) {
        const MemOps *ops;
        uint64_t off;
        unsigned len;
        if (vpci_cfg_window(t, &ops, &off, &len))
            ops->write(t, off, val, len);
    }
    if (!(pci_get_word(d, PCI_COMMAND) & PCI_COMMAND_MASTER) &&
        (t->vdev->status & VIRTIO_STATUS_DRIVER_OK))
        LOG(LOG_GUEST_ERRORS, "%s: bus mastering off while the driver runs\n", d->name);
}

/* ---- device record ---- */

static void vpci_reset(void *opaque)
{
    VirtIOPCIState *t = opaque;
    virtio_reset(t->vdev);
    t->dfselect = t->gfselect = 0;
    t->queue_sel = 0;
    pci_set_irq(t->pci, 0);
}

static void vpci_free(void *opaque)
{
    free(opaque);
}

static const VMField vpci_fields[] = {
    VMF_U32(dfselect, VirtIOPCIState),
    VMF_U32(gfselect, VirtIOPCIState),
    VMF_U16(queue_sel, VirtIOPCIState),
    VMF_END
};

static const VMStateDesc vpci_vmsd = {
    .name = "virtio-pci", .version = 1, .min_version = 1, .fields = vpci_fields,
};

static const DeviceOps vpci_device_ops = {
    .name = "virtio-pci", .reset = vpci_reset, .free = vpci_free, .vmsd = &vpci_vmsd,
};

VirtIOPCIState *virtio_pci_create(Machine *m, PCIBus *bus, int devfn, VirtIODevice *vdev,
                                  char *err, size_t errlen)
{
    const VirtIODeviceClass *cls = vdev->cls;
    PCIConfigInit ids = {
        .vendor_id = VIRTIO_PCI_VENDOR_ID,
        .device_id = (uint16_t)VIRTIO_PCI_TRANSITIONAL_ID(cls->device_id),
        .revision = 0,
        .class_code = cls->pci_class,
        .subsys_vendor_id = VIRTIO_PCI_VENDOR_ID,
        .subsys_id = cls->device_id,
        .int_pin = 1,
    };
    VirtIOPCIState *t = xcalloc(1, sizeof(*t));
    t->m = m;
    t->vdev = vdev;
    t->pci = pci_register_function(bus, devfn, &ids, cls->name, vpci_config_read,
                                   vpci_config_write, t);
    if (!t->pci) {
        snprintf(err, errlen, "%s: PCI slot %d.%d is taken", cls->name, PCI_SLOT(devfn),
                 PCI_FUNC(devfn));
        free(t);
        return NULL;
    }
    /* One vector per queue and one for configuration changes, as far as
     * the table goes (a driver then shares vectors). */
    t->nvec = MIN(vdev->nvq + 1, MSIX_MAX_VECTORS);
    uint32_t lsize = 64;
    while (lsize < 24 + cls->config_size)
        lsize <<= 1;
    t->legacy_size = lsize;
    pci_register_bar(t->pci, VIRTIO_PCI_LEGACY_BAR, lsize, true, &vpci_legacy_ops, t);
    pci_register_bar(t->pci, VIRTIO_PCI_MODERN_BAR, VIRTIO_PCI_MODERN_SIZE, false,
                     &vpci_modern_ops, t);
    vpci_add_cap(t->pci, VIRTIO_PCI_CAP_COMMON_CFG, VIRTIO_PCI_MODERN_BAR,
                 VIRTIO_PCI_COMMON_OFF, VIRTIO_PCI_COMMON_SIZE, 16, 0);
    vpci_add_cap(t->pci, VIRTIO_PCI_CAP_ISR_CFG, VIRTIO_PCI_MODERN_BAR,
                 VIRTIO_PCI_ISR_OFF, 4, 16, 0);
    if (cls->config_size)
        vpci_add_cap(t->pci, VIRTIO_PCI_CAP_DEVICE_CFG, VIRTIO_PCI_MODERN_BAR,
                     VIRTIO_PCI_DEVICE_OFF, cls->config_size, 16, 0);
    vpci_add_cap(t->pci, VIRTIO_PCI_CAP_NOTIFY_CFG, VIRTIO_PCI_MODERN_BAR,
                 VIRTIO_PCI_NOTIFY_OFF, (uint32_t)vdev->nvq * VIRTIO_PCI_NOTIFY_MULT, 20,
                 VIRTIO_PCI_NOTIFY_MULT);
    t->cfg_cap = pci_add_capability(t->pci, PCI_CAP_ID_VNDR, 20);
    if (t->cfg_cap > 0) {
        PCIDevice *d = t->pci;
        d->config[t->cfg_cap + 2] = 20;
        d->config[t->cfg_cap + 3] = VIRTIO_PCI_CAP_PCI_CFG;
        /* bar, offset, length and the data window are the driver's. */
        pci_set_wmask(d, (uint32_t)t->cfg_cap + 4, 1, 0xff);
        pci_set_wmask(d, (uint32_t)t->cfg_cap + 8, 12, 0xff);
    } else {
        t->cfg_cap = 0;
    }
    t->msix = msix_create(t->pci, t->nvec, VIRTIO_PCI_MSIX_BAR);
    if (!t->msix) {
        snprintf(err, errlen, "%s: no room for MSI-X", cls->name);
        return NULL;     /* t is owned by nobody yet, but its PCI function is */
    }
    virtio_set_transport(vdev, &vpci_ops, t);
    machine_add_device(m, &vpci_device_ops, t);
    return t;
}
