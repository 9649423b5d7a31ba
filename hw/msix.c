/*
 * MSI-X (see msix.h).  Facts used, PCI Local Bus 3.0 section 6.8.2: the
 * capability is ID 0x11 with message control (bits 10:0 table size - 1,
 * bit 14 function mask, bit 15 enable), table offset/BIR and PBA
 * offset/BIR dwords; a table entry is message address (64 bits), message
 * data and vector control (bit 0 mask); the PBA holds one pending bit per
 * vector and is read-only; entries come out of reset masked.
 */
#include "hw/msix.h"

#include <stdlib.h>
#include <string.h>

#include "core/device.h"
#include "core/log.h"
#include "core/util.h"

struct MSIXState {
    PCIDevice *d;
    int nvec;
    int cap;                  /* config offset of the capability */
    int bar;
    uint8_t table[MSIX_MAX_VECTORS * MSIX_ENTRY_SIZE];
    uint64_t pba;             /* one bit per vector */
    bool was_active;          /* enabled and not function-masked, last seen */
};

static uint32_t le32(const uint8_t *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static uint16_t msix_ctrl(const MSIXState *x)
{
    return pci_get_word(x->d, (uint32_t)x->cap + 2);
}

bool msix_enabled(const MSIXState *x)
{
    return x && (msix_ctrl(x) & MSIX_CTRL_ENABLE);
}

int msix_vectors(const MSIXState *x)
{
    return x->nvec;
}

static bool msix_masked(const MSIXState *x, int v)
{
    return (msix_ctrl(x) & MSIX_CTRL_MASKALL) ||
           (le32(x->table + v * MSIX_ENTRY_SIZE + 12) & MSIX_ENTRY_MASKED);
}

static void msix_send(MSIXState *x, int v)
{
    const uint8_t *e = x->table + v * MSIX_ENTRY_SIZE;
    uint64_t addr = le32(e) | (uint64_t)le32(e + 4) << 32;
    pci_send_msi(x->d, addr, le32(e + 8));
}

void msix_notify(MSIXState *x, int vector)
{
    if (!msix_enabled(x) || vector < 0 || vector >= x->nvec)
        return;
    if (msix_masked(x, vector)) {
        x->pba |= 1ULL << vector;
        return;
    }
    msix_send(x, vector);
}

bool msix_is_pending(const MSIXState *x, int vector)
{
    return vector >= 0 && vector < x->nvec && ((x->pba >> vector) & 1);
}

/* Sends what is pending and no longer masked. */
static void msix_flush_pending(MSIXState *x)
{
    if (!msix_enabled(x))
        return;
    for (int v = 0; v < x->nvec; v++) {
        if (((x->pba >> v) & 1) && !msix_masked(x, v)) {
            x->pba &= ~(1ULL << v);
            msix_send(x, v);
        }
    }
}

void msix_config_write(MSIXState *x, uint32_t addr, unsigned size)
{
    if (addr + size <= (uint32_t)x->cap + 2 || addr >= (uint32_t)x->cap + 4)
        return;
    bool active = msix_enabled(x) && !(msix_ctrl(x) & MSIX_CTRL_MASKALL);
    if (active && !x->was_active)
        msix_flush_pending(x);
    x->was_active = active;
}

/* ---- the table and PBA BAR ---- */

static uint64_t msix_bar_read(void *opaque, uint64_t off, unsigned size)
{
    MSIXState *x = opaque;
    (void)size;
    if (off < (uint64_t)x->nvec * MSIX_ENTRY_SIZE)
        return le32(x->table + (off & ~3u));
    if (off >= MSIX_PBA_OFFSET && off < MSIX_PBA_OFFSET + 8)
        return (uint32_t)(x->pba >> (8 * (off - MSIX_PBA_OFFSET)));
    return 0;
}

static void msix_bar_write(void *opaque, uint64_t off, uint64_t val, unsigned size)
{
    MSIXState *x = opaque;
    (void)size;
    if (off >= (uint64_t)x->nvec * MSIX_ENTRY_SIZE)
        return;                       /* the PBA and the rest are read-only */
    uint8_t *p = x->table + (off & ~3u);
    for (int i = 0; i < 4; i++)
        p[i] = (uint8_t)(val >> (8 * i));
    if ((off & 15) == 12) {
        /* Vector control: only the mask bit exists. */
        p[0] &= MSIX_ENTRY_MASKED;
        p[1] = p[2] = p[3] = 0;
        msix_flush_pending(x);
    }
}

static const MemOps msix_bar_ops = {
    .read = msix_bar_read, .write = msix_bar_write, .min_size = 4, .max_size = 4,
};

void msix_reset(MSIXState *x)
{
    memset(x->table, 0, sizeof x->table);
    for (int v = 0; v < x->nvec; v++)
        x->table[v * MSIX_ENTRY_SIZE + 12] = MSIX_ENTRY_MASKED;
    x->pba = 0;
    x->was_active = false;
    pci_set_word(x->d, (uint32_t)x->cap + 2, (uint16_t)(x->nvec - 1));
}

static void msix_device_reset(void *opaque)
{
    msix_reset(opaque);
}

static void msix_free(void *opaque)
{
    free(opaque);
}

static const VMField msix_fields[] = {
    VMF_U8_ARRAY(table, MSIXState, MSIX_MAX_VECTORS * MSIX_ENTRY_SIZE),
    VMF_U64(pba, MSIXState),
    VMF_BOOL(was_active, MSIXState),
    VMF_END
};

static const VMStateDesc msix_vmsd = {
    .name = "msix", .version = 1, .min_version = 1, .fields = msix_fields,
};

static const DeviceOps msix_device_ops = {
    .name = "msix", .reset = msix_device_reset, .free = msix_free, .vmsd = &msix_vmsd,
};

MSIXState *msix_create(PCIDevice *d, int nvec, int bar)
{
    if (nvec < 1 || nvec > MSIX_MAX_VECTORS || bar < 0 || bar >= PCI_NUM_BARS)
        return NULL;
    int cap = pci_add_capability(d, PCI_CAP_ID_MSIX, MSIX_CAP_SIZE);
    if (cap < 0)
        return NULL;
    MSIXState *x = xcalloc(1, sizeof(*x));
    x->d = d;
    x->nvec = nvec;
    x->cap = cap;
    x->bar = bar;
    pci_set_long(d, (uint32_t)cap + 4, (uint32_t)bar);                    /* table at 0 */
    pci_set_long(d, (uint32_t)cap + 8, MSIX_PBA_OFFSET | (uint32_t)bar);
    d->wmask[cap + 3] = (MSIX_CTRL_ENABLE | MSIX_CTRL_MASKALL) >> 8;
    pci_register_bar(d, bar, MSIX_BAR_SIZE, false, &msix_bar_ops, x);
    msix_reset(x);
    machine_add_device(pci_bus_machine(d->bus), &msix_device_ops, x);
    return x;
}
