/* The unit tests' virtio driver (see vdriver.h). */
#include "tests/unit/vdriver.h"

#include <stdlib.h>
#include <string.h>

#include "hw/msix.h"
#include "tests/unit/unit.h"

static void vdrv_msi(void *opaque, uint64_t addr, uint32_t data)
{
    VDrv *d = opaque;
    ck_assert_uint_eq(addr, 0xfee00000u);
    if (d->nmsi < 256)
        d->msi_vec[d->nmsi] = data - 0x40;
    d->nmsi++;
}

VDrv *vdrv_new(void)
{
    char err[128];
    VDrv *d = calloc(1, sizeof *d);
    d->m = machine_new(VDRV_RAM, CLOCK_MANUAL, err, sizeof err);
    ck_assert_ptr_nonnull(d->m);
    ck_assert_ptr_nonnull(memmap_add_ram(d->m->mem, "ram", 0, VDRV_RAM, d->m->ram, NULL));
    d->bus = pci_bus_new(d->m);
    pci_bus_set_msi_handler(d->bus, vdrv_msi, d);
    return d;
}

void vdrv_attach(VDrv *d, VirtIODevice *vdev)
{
    char err[128];
    d->vdev = vdev;
    d->t = virtio_pci_create(d->m, d->bus, PCI_DEVFN(3, 0), vdev, err, sizeof err);
    ck_assert_msg(d->t != NULL, "%s", err);
    machine_reset_devices(d->m);
    int devfn = PCI_DEVFN(3, 0);
    pci_bus_config_write(d->bus, devfn, PCI_BAR0, VDRV_IO_BASE, 4);
    pci_bus_config_write(d->bus, devfn, PCI_BAR0 + 4, VDRV_MSIX_BASE, 4);
    pci_bus_config_write(d->bus, devfn, PCI_BAR0 + 16, VDRV_MOD_BASE, 4);
    pci_bus_config_write(d->bus, devfn, PCI_COMMAND,
                         PCI_COMMAND_IO | PCI_COMMAND_MEMORY | PCI_COMMAND_MASTER, 2);
}

void vdrv_free(VDrv *d)
{
    machine_free(d->m);
    free(d);
}

uint32_t vdrv_cr(VDrv *d, uint32_t off, unsigned size)
{
    return (uint32_t)memmap_read(d->m->mem, VDRV_MOD_BASE + off, size);
}

void vdrv_cw(VDrv *d, uint32_t off, uint32_t v, unsigned size)
{
    memmap_write(d->m->mem, VDRV_MOD_BASE + off, v, size);
}

uint8_t vdrv_status(VDrv *d)
{
    return (uint8_t)vdrv_cr(d, VIRTIO_PCI_COMMON_STATUS, 1);
}

uint64_t vdrv_init(VDrv *d, uint64_t want, int nq)
{
    vdrv_cw(d, VIRTIO_PCI_COMMON_STATUS, 0, 1);
    vdrv_cw(d, VIRTIO_PCI_COMMON_STATUS, VIRTIO_STATUS_ACKNOWLEDGE | VIRTIO_STATUS_DRIVER, 1);
    vdrv_cw(d, VIRTIO_PCI_COMMON_DFSELECT, 0, 4);
    uint64_t f = vdrv_cr(d, VIRTIO_PCI_COMMON_DF, 4);
    vdrv_cw(d, VIRTIO_PCI_COMMON_DFSELECT, 1, 4);
    f |= (uint64_t)vdrv_cr(d, VIRTIO_PCI_COMMON_DF, 4) << 32;
    f &= want;
    vdrv_cw(d, VIRTIO_PCI_COMMON_GFSELECT, 0, 4);
    vdrv_cw(d, VIRTIO_PCI_COMMON_GF, (uint32_t)f, 4);
    vdrv_cw(d, VIRTIO_PCI_COMMON_GFSELECT, 1, 4);
    vdrv_cw(d, VIRTIO_PCI_COMMON_GF, (uint32_t)(f >> 32), 4);
    vdrv_cw(d, VIRTIO_PCI_COMMON_STATUS, 0x0b, 1);
    ck_assert_uint_eq(vdrv_status(d), 0x0b);
    PCIDevice *pd = virtio_pci_device(d->t);
    int cap = pci_find_capability(pd, PCI_CAP_ID_MSIX);
    ck_assert_int_gt(cap, 0);
    pci_bus_config_write(d->bus, PCI_DEVFN(3, 0), (uint32_t)cap + 2, MSIX_CTRL_ENABLE, 2);
    int nvec = nq + 1 < MSIX_MAX_VECTORS ? nq + 1 : MSIX_MAX_VECTORS;
    for (int v = 0; v < nvec; v++) {
        memmap_write(d->m->mem, VDRV_MSIX_BASE + 16 * v, 0xfee00000u, 4);
        memmap_write(d->m->mem, VDRV_MSIX_BASE + 16 * v + 8, 0x40 + v, 4);
        memmap_write(d->m->mem, VDRV_MSIX_BASE + 16 * v + 12, 0, 4);
    }
    vdrv_cw(d, VIRTIO_PCI_COMMON_MSIX, 0, 2);
    for (int q = 0; q < nq; q++) {
        memset(d->m->ram + VDRV_DESC(q), 0, 0x4000);
        vdrv_cw(d, VIRTIO_PCI_COMMON_Q_SELECT, (uint32_t)q, 2);
        vdrv_cw(d, VIRTIO_PCI_COMMON_Q_SIZE, VDRV_QSZ, 2);
        vdrv_cw(d, VIRTIO_PCI_COMMON_Q_DESCLO, VDRV_DESC(q), 4);
        vdrv_cw(d, VIRTIO_PCI_COMMON_Q_AVAILLO, VDRV_AVAIL(q), 4);
        vdrv_cw(d, VIRTIO_PCI_COMMON_Q_USEDLO, VDRV_USED(q), 4);
        vdrv_cw(d, VIRTIO_PCI_COMMON_Q_MSIX, (uint32_t)(q + 1 < nvec ? q + 1 : nvec - 1), 2);
        vdrv_cw(d, VIRTIO_PCI_COMMON_Q_ENABLE, 1, 2);
        d->avail_idx[q] = d->used_seen[q] = 0;
    }
    d->nq = nq;
    d->nmsi = 0;
    vdrv_cw(d, VIRTIO_PCI_COMMON_STATUS, 0x0f, 1);
    return f;
}

void vdrv_put(VDrv *d, uint64_t addr, const void *p, size_t n)
{
    ck_assert(addr + n <= VDRV_RAM);
    memcpy(d->m->ram + addr, p, n);
}

void vdrv_get(VDrv *d, uint64_t addr, void *p, size_t n)
{
    ck_assert(addr + n <= VDRV_RAM);
    memcpy(p, d->m->ram + addr, n);
}

void vdrv_desc(VDrv *d, int q, int i, uint64_t addr, uint32_t len, uint16_t flags, uint16_t next)
{
    uint8_t b[16];
    memcpy(b, &addr, 8);
    memcpy(b + 8, &len, 4);
    memcpy(b + 12, &flags, 2);
    memcpy(b + 14, &next, 2);
    vdrv_put(d, VDRV_DESC(q) + 16u * (unsigned)i, b, 16);
}

void vdrv_make_avail(VDrv *d, int q, uint16_t head)
{
    vdrv_put(d, VDRV_AVAIL(q) + 4 + 2u * (d->avail_idx[q] % VDRV_QSZ), &head, 2);
    d->avail_idx[q]++;
    vdrv_put(d, VDRV_AVAIL(q) + 2, &d->avail_idx[q], 2);
}

void vdrv_notify(VDrv *d, int q)
{
    vdrv_cw(d, VIRTIO_PCI_NOTIFY_OFF + 4u * (uint32_t)q, (uint32_t)q, 2);
}

void vdrv_publish(VDrv *d, int q, uint16_t head)
{
    vdrv_make_avail(d, q, head);
    vdrv_notify(d, q);
}

bool vdrv_used(VDrv *d, int q, uint32_t *id, uint32_t *len)
{
    uint16_t idx;
    vdrv_get(d, VDRV_USED(q) + 2, &idx, 2);
    if (idx == d->used_seen[q])
        return false;
    uint64_t e = VDRV_USED(q) + 4 + 8u * (d->used_seen[q] % VDRV_QSZ);
    vdrv_get(d, e, id, 4);
    vdrv_get(d, e + 4, len, 4);
    d->used_seen[q]++;
    return true;
}

int vdrv_msi_count(VDrv *d, int v)
{
    int n = 0;
    for (int i = 0; i < d->nmsi && i < 256; i++)
        n += d->msi_vec[i] == (uint32_t)v;
    return n;
}
