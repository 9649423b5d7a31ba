/*
 * pc-testdev and pci-testdev (see testdev.h for the register layouts).
 * Both are pure test fixtures: state is a scratch register, a byte buffer
 * and per-test counters, all saved with the machine.
 */
#include "hw/testdev.h"

#include <stdlib.h>
#include <string.h>

#include "core/util.h"

/* ---- pc-testdev ---- */

typedef struct PCTestdevLane {
    struct PCTestdevState *s;
    unsigned lane;                    /* byte of the scratch register */
} PCTestdevLane;

struct PCTestdevState {
    Machine *m;
    PCTestdevLane lanes[4];           /* the byte window, one port each */
    uint32_t scratch;                 /* ports 0xe0-0xe3 / 0xe8-0xeb */
    uint8_t iomem[PC_TESTDEV_IOMEM_SIZE];
    IRQLine *irq[PC_TESTDEV_NIRQ];
};

/* An access of size bytes at byte lane off of the scratch register. */
static uint64_t scratch_read(void *opaque, uint64_t off, unsigned size)
{
    PCTestdevState *s = opaque;
    unsigned shift = (unsigned)(off & 3) * 8;
    uint64_t mask = size >= 4 ? 0xffffffffULL : (1ULL << (size * 8)) - 1;
    return (s->scratch >> shift) & mask;
}

static void scratch_write(void *opaque, uint64_t off, uint64_t v, unsigned size)
{
    PCTestdevState *s = opaque;
    unsigned shift = (unsigned)(off & 3) * 8;
    uint64_t mask = size >= 4 ? 0xffffffffULL : (1ULL << (size * 8)) - 1;
    uint64_t m = (mask << shift) & 0xffffffffULL;
    s->scratch = (uint32_t)((s->scratch & ~m) | ((v << shift) & m));
}

static const MemOps scratch_ops = {
    .read = scratch_read, .write = scratch_write, .min_size = 1, .max_size = 4,
};

static uint64_t lane_read(void *opaque, uint64_t off, unsigned size)
{
    PCTestdevLane *l = opaque;
    return scratch_read(l->s, l->lane, 1);
}

static void lane_write(void *opaque, uint64_t off, uint64_t v, unsigned size)
{
    PCTestdevLane *l = opaque;
    scratch_write(l->s, l->lane, v, 1);
}

static const MemOps scratch_byte_ops = {
    .read = lane_read, .write = lane_write, .min_size = 1, .max_size = 1,
};

static uint64_t zero_read(void *opaque, uint64_t off, unsigned size)
{
    return 0;
}

/* The translator keeps no host mapping the guest could see go stale, so
 * there is nothing to flush. */
static void flush_write(void *opaque, uint64_t off, uint64_t v, unsigned size)
{
}

static const MemOps flush_ops = {
    .read = zero_read, .write = flush_write, .min_size = 4, .max_size = 4,
};

static void irq_write(void *opaque, uint64_t off, uint64_t v, unsigned size)
{
    PCTestdevState *s = opaque;
    if (off < PC_TESTDEV_NIRQ && s->irq[off])
        irq_set(s->irq[off], (v & 0xff) != 0);
}

static const MemOps irq_ops = {
    .read = zero_read, .write = irq_write, .min_size = 1, .max_size = 1,
};

static uint64_t iomem_read(void *opaque, uint64_t off, unsigned size)
{
    PCTestdevState *s = opaque;
    uint64_t v = 0;
    if (off < PC_TESTDEV_IOMEM_SIZE && size <= PC_TESTDEV_IOMEM_SIZE - off)
        for (unsigned i = 0; i < size && i < 8; i++)
            v |= (uint64_t)s->iomem[off + i] << (8 * i);
    return v;
}

static void iomem_write(void *opaque, uint64_t off, uint64_t v, unsigned size)
{
    PCTestdevState *s = opaque;
    if (off < PC_TESTDEV_IOMEM_SIZE && size <= PC_TESTDEV_IOMEM_SIZE - off)
        for (unsigned i = 0; i < size && i < 8; i++)
            s->iomem[off + i] = (uint8_t)(v >> (8 * i));
}

static const MemOps iomem_ops = {
    .read = iomem_read, .write = iomem_write, .min_size = 1, .max_size = 8,
};

static void pc_testdev_reset(void *opaque)
{
    PCTestdevState *s = opaque;
    s->scratch = 0;
}

static const VMField pc_testdev_fields[] = {
    VMF_U32(scratch, PCTestdevState),
    VMF_U8_ARRAY(iomem, PCTestdevState, PC_TESTDEV_IOMEM_SIZE),
    VMF_END,
};

static const VMStateDesc pc_testdev_vmsd = {
    .name = "pc-testdev", .version = 1, .min_version = 1, .fields = pc_testdev_fields,
};

static const DeviceOps pc_testdev_ops = {
    .name = "pc-testdev", .reset = pc_testdev_reset, .free = free, .vmsd = &pc_testdev_vmsd,
};

PCTestdevState *pc_testdev_create(Machine *m, uint16_t base, uint16_t irq_port,
                                  uint64_t iomem_base, IRQLine *const irq[PC_TESTDEV_NIRQ])
{
    PCTestdevState *s = xcalloc(1, sizeof(*s));
    s->m = m;
    for (int i = 0; i < PC_TESTDEV_NIRQ; i++)
        s->irq[i] = irq ? irq[i] : NULL;
    if (!iospace_add(m->io, "pc-testdev", base, 4, &scratch_ops, s, NULL)) {
        free(s);
        return NULL;
    }
    if (!iospace_add(m->io, "pc-testdev-flush", base + 4, 4, &flush_ops, s, NULL)) {
        iospace_remove(m->io, base, 4);
        free(s);
        return NULL;
    }
    /* The byte window port by port: a port of it another device already
     * has (a debug console at 0xe9) stays with that device. */
    bool lane_added[4] = { false };
    for (unsigned i = 0; i < 4; i++) {
        s->lanes[i] = (PCTestdevLane){ .s = s, .lane = i };
        lane_added[i] = iospace_add(m->io, "pc-testdev-byte", base + 8 + i, 1,
                                    &scratch_byte_ops, &s->lanes[i], NULL);
    }
    if (!iospace_add(m->io, "pc-testdev-irq", irq_port, PC_TESTDEV_NIRQ, &irq_ops, s, NULL)) {
        iospace_remove(m->io, base, 8);
        for (unsigned i = 0; i < 4; i++)
            if (lane_added[i])
                iospace_remove(m->io, base + 8 + i, 1);
        free(s);
        return NULL;
    }
    char *e = NULL;
    if (!memmap_add_mmio(m->mem, "pc-testdev-iomem", iomem_base, PC_TESTDEV_IOMEM_SIZE,
                         &iomem_ops, s, 0, &e)) {
        free(e);
        iospace_remove(m->io, base, 8);
        for (unsigned i = 0; i < 4; i++)
            if (lane_added[i])
                iospace_remove(m->io, base + 8 + i, 1);
        iospace_remove(m->io, irq_port, PC_TESTDEV_NIRQ);
        free(s);
        return NULL;
    }
    machine_add_device(m, &pc_testdev_ops, s);
    return s;
}

/* ---- pci-testdev ---- */

#define PCI_TESTDEV_MEM_SIZE  4096      /* BAR0 */
#define PCI_TESTDEV_IO_SIZE   256       /* BAR1 */
#define PCI_TESTDEV_NTESTS    6         /* 2 kinds x 3 tests */
#define PCI_TESTDEV_DATAMATCH 0xfa
#define PCI_TESTDEV_NOMATCH   0xce
#define PCI_TESTDEV_HDR       16        /* bytes before the name */

struct PCITestdevState {
    PCIDevice *pci;
    int32_t current;                  /* selected test, -1 none */
    uint32_t count[PCI_TESTDEV_NTESTS];
};

static const char *const pci_testdev_names[PCI_TESTDEV_NTESTS] = {
    "mmio-no-eventfd", "mmio-wildcard-eventfd", "mmio-datamatch-eventfd",
    "portio-no-eventfd", "portio-wildcard-eventfd", "portio-datamatch-eventfd",
};

static bool test_is_wildcard(int t) { return t % 3 == 1; }

static uint32_t test_offset(int t)
{
    return (t < 3 ? PCI_TESTDEV_MEM_SIZE / 2 : PCI_TESTDEV_IO_SIZE / 2) + (uint32_t)t;
}

/* Byte n of test t's header + name; 0 past its end (QEMU reads 0 for
 * the last byte of the name's NUL too, as its bound is addr + size). */
static uint8_t header_byte(PCITestdevState *s, int t, uint64_t n)
{
    size_t len = PCI_TESTDEV_HDR + strlen(pci_testdev_names[t]) + 1;
    if (n + 1 >= len)
        return 0;
    switch (n) {
    case 0: return (uint8_t)t;
    case 1: return 1;                                           /* width: bytes */
    case 4: case 5: case 6: case 7: return (uint8_t)(test_offset(t) >> (8 * (n - 4)));
    case 8: return test_is_wildcard(t) ? PCI_TESTDEV_NOMATCH : PCI_TESTDEV_DATAMATCH;
    case 12: case 13: case 14: case 15: return (uint8_t)(s->count[t] >> (8 * (n - 12)));
    default:
        if (n >= PCI_TESTDEV_HDR)
            return (uint8_t)pci_testdev_names[t][n - PCI_TESTDEV_HDR];
        return 0;
    }
}

static uint64_t pci_testdev_read(void *opaque, uint64_t off, unsigned size)
{
    PCITestdevState *s = opaque;
    return s->current < 0 ? 0 : header_byte(s, s->current, off);
}

/* Byte accesses only (the dispatcher splits wider ones, as QEMU does). */
static void pci_testdev_write(PCITestdevState *s, uint64_t off, uint8_t v, int kind)
{
    if (off == 0) {
        s->current = v < 3 ? kind * 3 + v : -1;
        if (s->current >= 0)
            s->count[s->current] = 0;
        return;
    }
    int t = s->current;
    if (t < 0 || off != test_offset(t))
        return;
    if (!test_is_wildcard(t) && v != PCI_TESTDEV_DATAMATCH)
        return;
    s->count[t]++;
}

static void pci_testdev_mem_write(void *opaque, uint64_t off, uint64_t v, unsigned size)
{
    pci_testdev_write(opaque, off, (uint8_t)v, 0);
}

static void pci_testdev_io_write(void *opaque, uint64_t off, uint64_t v, unsigned size)
{
    pci_testdev_write(opaque, off, (uint8_t)v, 1);
}

static const MemOps pci_testdev_mem_ops = {
    .read = pci_testdev_read, .write = pci_testdev_mem_write, .min_size = 1, .max_size = 1,
};

static const MemOps pci_testdev_io_ops = {
    .read = pci_testdev_read, .write = pci_testdev_io_write, .min_size = 1, .max_size = 1,
};

static void pci_testdev_reset(void *opaque)
{
    PCITestdevState *s = opaque;
    s->current = -1;
}

static int pci_testdev_post_load(void *opaque, int version, char **err)
{
    PCITestdevState *s = opaque;
    if (s->current < -1 || s->current >= PCI_TESTDEV_NTESTS) {
        *err = xstrdup("pci-testdev: selected test out of range");
        return -1;
    }
    return 0;
}

static const VMField pci_testdev_fields[] = {
    VMF_I32(current, PCITestdevState),
    VMF_U32_ARRAY(count, PCITestdevState, PCI_TESTDEV_NTESTS),
    VMF_END,
};

static const VMStateDesc pci_testdev_vmsd = {
    .name = "pci-testdev", .version = 1, .min_version = 1, .fields = pci_testdev_fields,
    .post_load = pci_testdev_post_load,
};

static const DeviceOps pci_testdev_ops = {
    .name = "pci-testdev", .reset = pci_testdev_reset, .free = free, .vmsd = &pci_testdev_vmsd,
};

PCITestdevState *pci_testdev_create(Machine *m, PCIBus *bus, int devfn)
{
    PCITestdevState *s = xcalloc(1, sizeof(*s));
    s->current = -1;
    /* QEMU's class id PCI_CLASS_OTHERS (0xff) in the 16-bit class/subclass
     * word: class 0x00, subclass 0xff. */
    PCIConfigInit ids = { .vendor_id = PCI_TESTDEV_VENDOR, .device_id = PCI_TESTDEV_DEVICE,
                          .revision = 0, .class_code = 0x00ff00, .int_pin = 0,
                          .subsys_vendor_id = 0x1af4, .subsys_id = 0x1100 };
    s->pci = pci_register_function(bus, devfn, &ids, "pci-testdev", NULL, NULL, s);
    if (!s->pci) {
        free(s);
        return NULL;
    }
    pci_register_bar(s->pci, 0, PCI_TESTDEV_MEM_SIZE, false, &pci_testdev_mem_ops, s);
    pci_register_bar(s->pci, 1, PCI_TESTDEV_IO_SIZE, true, &pci_testdev_io_ops, s);
    machine_add_device(m, &pci_testdev_ops, s);
    return s;
}
