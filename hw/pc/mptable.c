/*
 * MP Specification 1.4 floating pointer + configuration table builder, for
 * direct kernel boots where no BIOS provides them.  Layout in hw/mptable.h.
 * Everything is little-endian byte layout written with explicit offsets,
 * so the result does not depend on host struct packing.
 */
#include "hw/pc/mptable.h"

#include <string.h>

#define MP_FLOAT_SIZE       16
#define MP_HEADER_SIZE      44
#define MP_PROCESSOR_SIZE   20
#define MP_ENTRY_SIZE       8     /* every other entry type */
#define MP_SPEC_REV_1_4     4

#define MP_CPU_ENABLED      0x01
#define MP_CPU_BSP          0x02
#define MP_IOAPIC_ENABLED   0x01
#define MP_ALL_LAPICS       0xff

/* ISA IRQs routed to the IOAPIC: all but the cascade IRQ 2. */
#define MP_ISA_IRQ_ROUTES   15

/* Bus flags: a 0 (conforms to the bus) says ISA = edge/high, PCI =
 * level/low; spelled out for PCI so no OS has to guess. */
#define MP_PCI_IRQ_FLAGS    (MP_IRQ_POLARITY_LOW | MP_IRQ_TRIGGER_LEVEL)

typedef struct MPWriter {
    uint8_t *buf;
    size_t pos;
    uint16_t entries;
} MPWriter;

static void put8(uint8_t *p, uint8_t v) { p[0] = v; }
static void put16(uint8_t *p, uint16_t v) { p[0] = (uint8_t)v; p[1] = (uint8_t)(v >> 8); }
static void put32(uint8_t *p, uint32_t v)
{
    put16(p, (uint16_t)v);
    put16(p + 2, (uint16_t)(v >> 16));
}

uint8_t mptable_checksum(const uint8_t *p, size_t len)
{
    uint8_t sum = 0;
    for (size_t i = 0; i < len; i++)
        sum = (uint8_t)(sum + p[i]);
    return sum;
}

static uint8_t *mp_entry(MPWriter *w, size_t size)
{
    uint8_t *p = w->buf + w->pos;
    memset(p, 0, size);
    w->pos += size;
    w->entries++;
    return p;
}

static void mp_add_processor(MPWriter *w, uint8_t apic_id, bool bsp,
                             const MPTableConfig *cfg)
{
    uint8_t *p = mp_entry(w, MP_PROCESSOR_SIZE);
    put8(p + 0, MP_ENTRY_PROCESSOR);
    put8(p + 1, apic_id);
    put8(p + 2, cfg->lapic_version);
    put8(p + 3, MP_CPU_ENABLED | (bsp ? MP_CPU_BSP : 0));
    put32(p + 4, cfg->cpu_signature);
    put32(p + 8, cfg->cpu_features);
    /* +12: 8 reserved bytes */
}

static void mp_add_bus(MPWriter *w, uint8_t id, const char *type6)
{
    uint8_t *p = mp_entry(w, MP_ENTRY_SIZE);
    put8(p + 0, MP_ENTRY_BUS);
    put8(p + 1, id);
    memcpy(p + 2, type6, 6);    /* blank-padded bus type string */
}

static void mp_add_ioapic(MPWriter *w, const MPTableConfig *cfg)
{
    uint8_t *p = mp_entry(w, MP_ENTRY_SIZE);
    put8(p + 0, MP_ENTRY_IOAPIC);
    put8(p + 1, (uint8_t)cfg->ioapic_id);
    put8(p + 2, cfg->ioapic_version);
    put8(p + 3, MP_IOAPIC_ENABLED);
    put32(p + 4, cfg->ioapic_addr);
}

/* I/O and local interrupt entries share one layout: type, interrupt type,
 * flags, source bus, source IRQ, destination APIC id, destination pin. */
static void mp_add_interrupt(MPWriter *w, uint8_t entry_type, uint8_t int_type,
                             uint16_t flags, uint8_t bus, uint8_t irq,
                             uint8_t dest_id, uint8_t dest_pin)
{
    uint8_t *p = mp_entry(w, MP_ENTRY_SIZE);
    put8(p + 0, entry_type);
    put8(p + 1, int_type);
    put16(p + 2, flags);
    put8(p + 4, bus);
    put8(p + 5, irq);
    put8(p + 6, dest_id);
    put8(p + 7, dest_pin);
}

static bool mp_pin_is_pci(const MPTableConfig *c, uint8_t pin)
{
    for (int i = 0; i < c->n_pci_irqs; i++)
        if (c->pci_irqs[i].ioapic_pin == pin)
            return true;
    return false;
}

/* ISA IRQs whose pin a PCI route takes are left out (as SeaBIOS does):
 * the pin is level-triggered, active low, for PCI. */
static void mp_add_isa_irqs(MPWriter *w, uint8_t isa_bus, uint8_t ioapic_id,
                            const MPTableConfig *c)
{
    /* The PIT's IRQ 0 arrives on pin 2 as on every PC with an IOAPIC; IRQ 2
     * is the 8259 cascade and has no pin.  No ExtINT entry for pin 0: the
     * 8259 reaches the CPUs through LINT0 (virtual wire mode), and an
     * ExtINT pin the firmware did not program makes Linux warn ("ExtINT
     * not setup in hardware but reported by MP table"). */
    for (uint8_t irq = 0; irq < 16; irq++) {
        if (irq == 2)
            continue;
        uint8_t pin = irq == 0 ? 2 : irq;
        if (mp_pin_is_pci(c, pin))
            continue;
        mp_add_interrupt(w, MP_ENTRY_IO_INTERRUPT, MP_INT, 0, isa_bus, irq,
                         ioapic_id, pin);
    }
}

static void mp_fill_defaults(MPTableConfig *c, int ncpus, const MPTableConfig *cfg)
{
    if (cfg) {
        *c = *cfg;
    } else {
        memset(c, 0, sizeof(*c));
        c->ioapic_id = -1;
        c->pci = true;
    }
    if (!c->lapic_addr)
        c->lapic_addr = 0xfee00000;
    if (!c->ioapic_addr)
        c->ioapic_addr = 0xfec00000;
    if (c->ioapic_id < 0)
        c->ioapic_id = ncpus;
    if (!c->ioapic_version)
        c->ioapic_version = 0x11;
    if (!c->lapic_version)
        c->lapic_version = 0x14;
    if (!c->cpu_signature)
        c->cpu_signature = 0x600;     /* family 6 */
    if (!c->cpu_features)
        c->cpu_features = (1u << 0) | (1u << 8) | (1u << 9);   /* FPU CX8 APIC */
    if (c->n_pci_irqs < 0 || !c->pci_irqs || !c->pci)
        c->n_pci_irqs = 0;
}

size_t mptable_size(int ncpus, const MPTableConfig *cfg)
{
    if (ncpus < 1 || ncpus > MPTABLE_MAX_CPUS)
        return 0;
    MPTableConfig c;
    mp_fill_defaults(&c, ncpus, cfg);
    size_t isa = 0;
    for (uint8_t irq = 0; irq < 16; irq++)
        isa += irq != 2 && !mp_pin_is_pci(&c, irq == 0 ? 2 : irq);
    size_t n8 = (c.pci ? 2 : 1)                 /* buses */
        + 1                                     /* IOAPIC */
        + isa                                   /* ISA IRQs */
        + (size_t)c.n_pci_irqs
        + 2;                                    /* LINT0, LINT1 */
    return MP_FLOAT_SIZE + MP_HEADER_SIZE + (size_t)ncpus * MP_PROCESSOR_SIZE
        + n8 * MP_ENTRY_SIZE;
}

static void mp_write_header(uint8_t *h, uint16_t length, uint16_t entries,
                            uint32_t lapic_addr)
{
    memcpy(h + 0, "PCMP", 4);
    put16(h + 4, length);
    put8(h + 6, MP_SPEC_REV_1_4);
    put8(h + 7, 0);                          /* checksum, below */
    memcpy(h + 8, "VX86    ", 8);            /* OEM id, blank padded */
    memcpy(h + 16, "PC          ", 12);      /* product id */
    put32(h + 28, 0);                        /* no OEM table */
    put16(h + 32, 0);
    put16(h + 34, entries);
    put32(h + 36, lapic_addr);
    put16(h + 40, 0);                        /* no extended entries */
    put8(h + 42, 0);
    put8(h + 43, 0);
    put8(h + 7, (uint8_t)-mptable_checksum(h, length));
}

static void mp_write_floating(uint8_t *f, uint32_t config_addr)
{
    memset(f, 0, MP_FLOAT_SIZE);
    memcpy(f, "_MP_", 4);
    put32(f + 4, config_addr);
    put8(f + 8, 1);                          /* length in paragraphs */
    put8(f + 9, MP_SPEC_REV_1_4);
    /* Feature byte 1 = 0: a configuration table is present.  Feature
     * byte 2 bit 7 (IMCR present) clear: virtual wire mode, so the OS does
     * not poke the IMCR ports 0x22/0x23 the board does not have. */
    put8(f + 10, (uint8_t)-mptable_checksum(f, MP_FLOAT_SIZE));
}

size_t mptable_build(uint8_t *buf, size_t cap, uint64_t phys_base, int ncpus,
                     const MPTableConfig *cfg)
{
    size_t need = mptable_size(ncpus, cfg);
    if (need == 0 || need > cap || need > 0xffff + MP_FLOAT_SIZE)
        return 0;
    if ((phys_base & 15) || phys_base + need > 0x100000000ULL)
        return 0;
    MPTableConfig c;
    mp_fill_defaults(&c, ncpus, cfg);
    if (c.ioapic_id < ncpus || c.ioapic_id > 0xfe)
        return 0;

    memset(buf, 0, need);
    MPWriter w = { buf + MP_FLOAT_SIZE, MP_HEADER_SIZE, 0 };
    for (int i = 0; i < ncpus; i++)
        mp_add_processor(&w, (uint8_t)i, i == 0, &c);
    uint8_t isa_bus = 0;
    if (c.pci) {
        mp_add_bus(&w, 0, "PCI   ");
        isa_bus = 1;
    }
    mp_add_bus(&w, isa_bus, "ISA   ");
    mp_add_ioapic(&w, &c);
    uint8_t ioapic_id = (uint8_t)c.ioapic_id;
    mp_add_isa_irqs(&w, isa_bus, ioapic_id, &c);
    for (int i = 0; i < c.n_pci_irqs; i++) {
        const MPTablePciIrq *r = &c.pci_irqs[i];
        /* PCI source IRQ: bits 6-2 the device number, bits 1-0 the pin. */
        uint8_t src = (uint8_t)(((r->slot & 0x1f) << 2) | (r->pin & 3));
        mp_add_interrupt(&w, MP_ENTRY_IO_INTERRUPT, MP_INT, MP_PCI_IRQ_FLAGS,
                         0, src, ioapic_id, r->ioapic_pin);
    }
    mp_add_interrupt(&w, MP_ENTRY_LOCAL_INTERRUPT, MP_EXTINT, 0, isa_bus, 0,
                     MP_ALL_LAPICS, 0);
    mp_add_interrupt(&w, MP_ENTRY_LOCAL_INTERRUPT, MP_NMI, 0, isa_bus, 0,
                     MP_ALL_LAPICS, 1);

    mp_write_header(buf + MP_FLOAT_SIZE, (uint16_t)w.pos, w.entries, c.lapic_addr);
    mp_write_floating(buf, (uint32_t)(phys_base + MP_FLOAT_SIZE));
    return need;
}
