/*
 * PIIX3 ISA bridge + PIRQ router and PIIX4 ACPI PM function (see piix3.h).
 *
 * Facts: PIIX3 datasheet 2.2 (PIRQRC[A:D] at 0x60-0x63, bit 7 IRQROUTEN
 * disables, bits 3:0 IRQ, default 0x80); PIIX4 datasheet 3.4 / 7.2 (PMBA
 * at function 3 offset 0x40, 64-byte aligned IO block; PMREGMISC bit 0
 * enables it; PM_TMR is a 24-bit counter at 3.579545 MHz whose bit 23
 * toggling sets TMR_STS); ACPI spec 4.8 (PM1 event/control semantics:
 * status bits are write-one-to-clear, SCI is asserted while a status bit
 * and its enable are both set and SCI_EN is on, SLP_EN is write-only).
 */
#include "hw/piix3.h"

#include <stdlib.h>
#include <string.h>

#include "core/log.h"
#include "core/util.h"

#define PM1_EN_MASK   (PM1_TMR_STS | PM1_GBL_STS | PM1_PWRBTN_STS | PM1_RTC_STS)
#define PM1_CNT_MASK  0x1c03      /* SCI_EN, BM_RLD, SLP_TYP; SLP_EN/GBL_RLS are write-only */
#define PM1_STS_MASK  0x8531

/* ---- ISA IRQ outputs: PCI PIRQs and SCI, wired-OR per IRQ ---- */

static bool piix3_irq_routable(int irq)
{
    return (irq >= 3 && irq <= 7) || (irq >= 9 && irq <= 12) || irq == 14 || irq == 15;
}

static void piix3_update_irqs(PIIX3State *s)
{
    uint8_t want[16] = { 0 };
    for (int p = 0; p < PCI_NUM_PIRQS; p++) {
        uint8_t r = s->isa->config[PIIX3_PIRQRC + p];
        int irq = r & 0x0f;
        if (!(r & 0x80) && piix3_irq_routable(irq) && pci_bus_pirq_level(s->bus, p))
            want[irq] = 1;
    }
    if (s->sci_level)
        want[PIIX4_SCI_IRQ] = 1;
    for (int i = 0; i < 16; i++) {
        if (want[i] != s->out_level[i]) {
            s->out_level[i] = want[i];
            irq_set(s->irq_out[i], want[i]);
        }
    }
}

void piix3_connect_apic_pirqs(PIIX3State *s, IRQLine *const lines[4])
{
    memcpy(s->apic_pirq, lines, sizeof(s->apic_pirq));
    for (int p = 0; p < PCI_NUM_PIRQS; p++)
        irq_set(s->apic_pirq[p], pci_bus_pirq_level(s->bus, p));
}

/* A PIRQ's wired-OR level changed: the IOAPIC input follows it directly
 * (no state here, so nothing to restore after a snapshot: the IOAPIC keeps
 * its pin levels), the ISA outputs through PIRQRC. */
static void piix3_pirq_changed(void *opaque, int pirq, int level)
{
    PIIX3State *s = opaque;
    if (pirq >= 0 && pirq < PCI_NUM_PIRQS)
        irq_set(s->apic_pirq[pirq], level);
    piix3_update_irqs(s);
}

static void piix3_isa_config_write(PCIDevice *d, uint32_t addr, uint32_t val,
                                   unsigned size)
{
    pci_default_config_write(d, addr, val, size);
    if (addr < PIIX3_PIRQRC + 4 && addr + size > PIIX3_PIRQRC)
        piix3_update_irqs(d->opaque);
}

/* ---- ACPI PM ---- */

static uint64_t piix3_pm_ticks(PIIX3State *s)
{
    int64_t now = clock_now(s->m->clock);
    if (now < 0)
        now = 0;
    return (uint64_t)((unsigned __int128)now * ACPI_PM_TIMER_HZ / NS_PER_SEC);
}

uint32_t piix3_pm_timer(PIIX3State *s)
{
    return (uint32_t)(piix3_pm_ticks(s) & 0xffffff);
}

static void piix3_update_sci(PIIX3State *s)
{
    bool ev = (s->pm1_sts & s->pm1_en & PM1_EN_MASK) || (s->gpe_sts & s->gpe_en);
    s->sci_level = (s->pm1_cnt & PM1_CNT_SCI_EN) && ev;
    piix3_update_irqs(s);
}

/* Arms the timer for the next time PM_TMR bit 23 changes. */
static void piix3_pm_timer_arm(PIIX3State *s)
{
    uint64_t next = ((piix3_pm_ticks(s) >> 23) + 1) << 23;
    unsigned __int128 num = (unsigned __int128)next * NS_PER_SEC;
    int64_t ns = (int64_t)((num + ACPI_PM_TIMER_HZ - 1) / ACPI_PM_TIMER_HZ);
    timer_mod(s->tmr_overflow, ns);
}

static void piix3_pm_timer_fire(void *opaque)
{
    PIIX3State *s = opaque;
    s->pm1_sts |= PM1_TMR_STS;
    piix3_update_sci(s);
    piix3_pm_timer_arm(s);
}

static void piix3_sleep(PIIX3State *s)
{
    unsigned typ = (s->pm1_cnt >> PM1_CNT_SLP_TYP_SHIFT) & 7;
    if (typ == PIIX4_SLP_TYP_S5) {
        machine_request_poweroff(s->m);
        return;
    }
    /* Only S5 is offered in the DSDT; anything else wakes at once. */
    LOG(LOG_UNIMP, "piix4-pm: sleep type %u not supported, waking\n", typ);
    s->pm1_sts |= PM1_WAK_STS;
}

static uint8_t piix3_pm_read_byte(PIIX3State *s, unsigned off, uint32_t tmr)
{
    switch (off) {
    case PM1_STS: case PM1_STS + 1: return (uint8_t)(s->pm1_sts >> (8 * (off & 1)));
    case PM1_EN:  case PM1_EN + 1:  return (uint8_t)(s->pm1_en >> (8 * (off & 1)));
    case PM1_CNT: case PM1_CNT + 1: return (uint8_t)(s->pm1_cnt >> (8 * (off & 1)));
    case PM_TMR: case PM_TMR + 1: case PM_TMR + 2: case PM_TMR + 3:
        return (uint8_t)(tmr >> (8 * (off - PM_TMR)));
    case GPE0_STS: case GPE0_STS + 1: return (uint8_t)(s->gpe_sts >> (8 * (off & 1)));
    case GPE0_EN:  case GPE0_EN + 1:  return (uint8_t)(s->gpe_en >> (8 * (off & 1)));
    default:
        return 0;
    }
}

static uint16_t set_byte16(uint16_t v, unsigned hi, uint8_t b)
{
    return hi ? (uint16_t)((v & 0x00ff) | b << 8) : (uint16_t)((v & 0xff00) | b);
}

/* Returns true when this byte asked for a sleep transition. */
static bool piix3_pm_write_byte(PIIX3State *s, unsigned off, uint8_t b)
{
    unsigned hi = off & 1;
    switch (off) {
    case PM1_STS: case PM1_STS + 1:
        s->pm1_sts &= (uint16_t)~((hi ? b << 8 : b) & PM1_STS_MASK);
        return false;
    case PM1_EN: case PM1_EN + 1:
        s->pm1_en = set_byte16(s->pm1_en, hi, b) & PM1_EN_MASK;
        return false;
    case PM1_CNT: case PM1_CNT + 1:
        s->pm1_cnt = set_byte16(s->pm1_cnt, hi, b) & PM1_CNT_MASK;
        return hi && (b & (PM1_CNT_SLP_EN >> 8));
    case GPE0_STS: case GPE0_STS + 1:
        s->gpe_sts &= (uint16_t)~(hi ? b << 8 : b);
        return false;
    case GPE0_EN: case GPE0_EN + 1:
        s->gpe_en = set_byte16(s->gpe_en, hi, b);
        return false;
    default:
        LOG(LOG_UNIMP, "piix4-pm: write 0x%02x to register 0x%02x ignored\n", b, off);
        return false;
    }
}

static uint64_t piix3_pm_io_read(void *opaque, uint64_t off, unsigned size)
{
    PIIX3State *s = opaque;
    uint32_t tmr = piix3_pm_timer(s);   /* one sample for the whole access */
    uint64_t v = 0;
    for (unsigned i = 0; i < size; i++)
        v |= (uint64_t)piix3_pm_read_byte(s, (unsigned)off + i, tmr) << (8 * i);
    return v;
}

static void piix3_pm_io_write(void *opaque, uint64_t off, uint64_t val, unsigned size)
{
    PIIX3State *s = opaque;
    bool sleep = false;
    for (unsigned i = 0; i < size; i++)
        sleep |= piix3_pm_write_byte(s, (unsigned)off + i, (uint8_t)(val >> (8 * i)));
    piix3_update_sci(s);
    if (sleep)
        piix3_sleep(s);
}

static const MemOps piix3_pm_io_ops = {
    .read = piix3_pm_io_read, .write = piix3_pm_io_write, .min_size = 1, .max_size = 4,
};

/*
 * The GPE block and PCI hotplug registers of QEMU's pc board, which the
 * tables SeaBIOS builds for it (no etc/table-loader) describe: its FADT
 * puts GPE0 at 0xafe0 (2 status + 2 enable bytes) and its DSDT's _E01
 * reads "slots up" (0xae00) / "slots down" (0xae04) bitmaps and ejects
 * through 0xae08.  Unmapped, these read all ones: Linux sees every GPE
 * pending and then every slot going away, and ejects the PCI devices.
 * Here 0xafe0 is the same GPE0 state as PMBA+0x0c, and the hotplug
 * registers report no event and ignore ejects (no hotplug on this board).
 */
static uint64_t piix3_gpe_alias_read(void *opaque, uint64_t off, unsigned size)
{
    return piix3_pm_io_read(opaque, GPE0_STS + off, size);
}

static void piix3_gpe_alias_write(void *opaque, uint64_t off, uint64_t val, unsigned size)
{
    piix3_pm_io_write(opaque, GPE0_STS + off, val, size);
}

static const MemOps piix3_gpe_alias_ops = {
    .read = piix3_gpe_alias_read, .write = piix3_gpe_alias_write, .min_size = 1, .max_size = 4,
};

static uint64_t piix3_pcihp_read(void *opaque, uint64_t off, unsigned size)
{
    return 0;
}

static void piix3_pcihp_write(void *opaque, uint64_t off, uint64_t val, unsigned size)
{
    LOG(LOG_UNIMP, "piix4-pm: PCI hotplug register 0x%x write 0x%llx ignored\n",
        (unsigned)(PIIX4_QEMU_PCIHP_PORT + off), (unsigned long long)val);
}

static const MemOps piix3_pcihp_ops = {
    .read = piix3_pcihp_read, .write = piix3_pcihp_write, .min_size = 1, .max_size = 4,
};

/* Maps the PM block where PMBA/PMREGMISC say. */
static void piix3_pm_update_io(PIIX3State *s)
{
    uint16_t base = 0;
    if (s->pm->config[PIIX4_PMREGMISC] & 1)
        base = (uint16_t)(pci_get_long(s->pm, PIIX4_PMBA) & 0xffc0);
    if (base == s->pm_io_base)
        return;
    if (s->pm_io_base)
        iospace_remove(s->m->io, s->pm_io_base, PIIX4_PM_IO_SIZE);
    s->pm_io_base = 0;
    char *err = NULL;
    if (base && iospace_add(s->m->io, "acpi-pm", base, PIIX4_PM_IO_SIZE,
                            &piix3_pm_io_ops, s, &err)) {
        s->pm_io_base = base;
    } else if (base) {
        LOG(LOG_GUEST_ERRORS, "piix4-pm: PM block at 0x%x not mapped: %s\n", base, err);
        free(err);
    }
}

static void piix3_pm_config_write(PCIDevice *d, uint32_t addr, uint32_t val,
                                  unsigned size)
{
    pci_default_config_write(d, addr, val, size);
    if ((addr < PIIX4_PMBA + 4 && addr + size > PIIX4_PMBA) ||
        (addr <= PIIX4_PMREGMISC && addr + size > PIIX4_PMREGMISC))
        piix3_pm_update_io(d->opaque);
}

/* ---- APM control/status ports 0xb2/0xb3 ---- */

static uint64_t piix3_apm_read(void *opaque, uint64_t off, unsigned size)
{
    PIIX3State *s = opaque;
    (void)size;
    return off == 0 ? s->apm_cnt : s->apm_sts;
}

static void piix3_apm_write(void *opaque, uint64_t off, uint64_t val, unsigned size)
{
    PIIX3State *s = opaque;
    (void)size;
    if (off == 1) {
        s->apm_sts = (uint8_t)val;
        return;
    }
    s->apm_cnt = (uint8_t)val;
    if (val == PIIX4_ACPI_ENABLE)
        s->pm1_cnt |= PM1_CNT_SCI_EN;
    else if (val == PIIX4_ACPI_DISABLE)
        s->pm1_cnt &= (uint16_t)~PM1_CNT_SCI_EN;
    piix3_update_sci(s);
}

static const MemOps piix3_apm_ops = {
    .read = piix3_apm_read, .write = piix3_apm_write, .min_size = 1, .max_size = 1,
};

/* ---- public ---- */

void piix3_power_button(PIIX3State *s)
{
    s->pm1_sts |= PM1_PWRBTN_STS;
    piix3_update_sci(s);
}

uint16_t piix3_pm_base(PIIX3State *s)
{
    return s->pm_io_base;
}

void piix3_set_gpe(PIIX3State *s, int n)
{
    if (n < 0 || n > 15)
        return;
    s->gpe_sts |= (uint16_t)(1u << n);
    piix3_update_sci(s);
}

/* ---- device record ---- */

static void piix3_reset(void *opaque)
{
    PIIX3State *s = opaque;
    uint8_t *c = s->isa->config;
    memset(c + 0x40, 0, 256 - 0x40);
    c[0x4c] = 0x4d;                 /* IORT */
    c[0x4e] = 0x03;                 /* XBCS: RTC, keyboard enabled */
    c[0x69] = 0x02;                 /* TOM */
    c[0x70] = 0x80;                 /* MBIRQ0 disabled */
    c[0x71] = 0x80;
    c[0x76] = 0x0c;                 /* MBDMA disabled */
    c[0x77] = 0x0c;
    for (int p = 0; p < PCI_NUM_PIRQS; p++)
        c[PIIX3_PIRQRC + p] = 0x80;

    memset(s->pm->config + 0x40, 0, 256 - 0x40);
    pci_set_long(s->pm, PIIX4_PMBA, PIIX4_PM_DEFAULT_BASE | 1);
    s->pm->config[PIIX4_PMREGMISC] = 1;
    /* DEVACTB (0x58) bit 25, APMC_EN: set as if firmware had already set
     * up SMM, which this chipset does not have (QEMU does the same with
     * SMM off), so SeaBIOS skips its SMI handshake. */
    s->pm->config[PIIX4_DEVACTB + 3] = PIIX4_DEVACTB_APMC_EN >> 24;
    s->pm1_sts = s->pm1_en = s->pm1_cnt = 0;
    s->gpe_sts = s->gpe_en = 0;
    s->apm_cnt = s->apm_sts = 0;
    s->sci_level = false;
    piix3_pm_update_io(s);
    piix3_update_irqs(s);
    piix3_pm_timer_arm(s);
}

static int piix3_post_load(void *opaque, int version, char **err)
{
    PIIX3State *s = opaque;
    (void)version;
    for (int i = 0; i < 16; i++) {
        if (s->out_level[i] > 1) {
            set_error(err, "piix3: IRQ %d output level %u is not 0 or 1", i, s->out_level[i]);
            return -1;
        }
    }
    s->pm1_sts &= PM1_STS_MASK;
    s->pm1_en &= PM1_EN_MASK;
    s->pm1_cnt &= PM1_CNT_MASK;
    /* PMBA may have come back with junk in read-only bits. */
    pci_set_long(s->pm, PIIX4_PMBA, (pci_get_long(s->pm, PIIX4_PMBA) & 0xffc0) | 1);
    s->pm->config[PIIX4_PMREGMISC] &= 1;
    piix3_pm_update_io(s);
    piix3_pm_timer_arm(s);
    return 0;
}

static const VMField piix3_fields[] = {
    VMF_U8_ARRAY(out_level, PIIX3State, 16),
    VMF_U16(pm1_sts, PIIX3State),
    VMF_U16(pm1_en, PIIX3State),
    VMF_U16(pm1_cnt, PIIX3State),
    VMF_U16(gpe_sts, PIIX3State),
    VMF_U16(gpe_en, PIIX3State),
    VMF_U8(apm_cnt, PIIX3State),
    VMF_U8(apm_sts, PIIX3State),
    VMF_BOOL(sci_level, PIIX3State),
    VMF_END
};

static const VMStateDesc piix3_vmsd = {
    .name = "piix3", .version = 1, .min_version = 1, .fields = piix3_fields,
    .post_load = piix3_post_load,
};

static void piix3_free(void *opaque)
{
    PIIX3State *s = opaque;
    timer_free(s->tmr_overflow);
    free(s);
}

static const DeviceOps piix3_device_ops = {
    .name = "piix3", .reset = piix3_reset, .free = piix3_free, .vmsd = &piix3_vmsd,
};

PIIX3State *piix3_create(Machine *m, PCIBus *bus, IRQLine *const isa_irq[16])
{
    static const PCIConfigInit isa_ids = {
        .vendor_id = 0x8086, .device_id = 0x7000, .revision = 0x00,
        .class_code = 0x060100,     /* bridge, ISA */
        .header_type = 0x80,        /* multi-function: 01.3 follows */
    };
    static const PCIConfigInit pm_ids = {
        .vendor_id = 0x8086, .device_id = 0x7113, .revision = 0x03,
        .class_code = 0x068000,     /* bridge, other */
    };
    PIIX3State *s = xcalloc(1, sizeof(*s));
    s->m = m;
    s->bus = bus;
    if (isa_irq)
        memcpy(s->irq_out, isa_irq, sizeof(s->irq_out));
    s->isa = pci_register_function(bus, PCI_DEVFN(1, 0), &isa_ids, "piix3",
                                   NULL, piix3_isa_config_write, s);
    s->pm = pci_register_function(bus, PCI_DEVFN(1, 3), &pm_ids, "piix4-pm",
                                  NULL, piix3_pm_config_write, s);
    if (!s->isa || !s->pm ||
        !iospace_add(m->io, "apm", PIIX4_APM_CNT_PORT, 2, &piix3_apm_ops, s, NULL) ||
        !iospace_add(m->io, "acpi-gpe0", PIIX4_QEMU_GPE0_PORT, 4, &piix3_gpe_alias_ops, s, NULL) ||
        !iospace_add(m->io, "acpi-pcihp", PIIX4_QEMU_PCIHP_PORT, 16, &piix3_pcihp_ops, s, NULL)) {
        free(s);
        return NULL;
    }
    /* PMBA: 64-byte aligned IO base (bit 0 reads 1); PMREGMISC bit 0. */
    memset(s->pm->wmask + 0x40, 0, 4);
    s->pm->wmask[PIIX4_PMBA] = 0xc0;
    s->pm->wmask[PIIX4_PMBA + 1] = 0xff;
    s->pm->wmask[PIIX4_PMREGMISC] = 0x01;
    s->pm->wmask[PIIX4_DEVACTB + 3] &= (uint8_t)~(PIIX4_DEVACTB_APMC_EN >> 24);
    s->tmr_overflow = timer_new(m->clock, piix3_pm_timer_fire, s);
    pci_bus_set_pirq_router(bus, piix3_pirq_changed, s);
    machine_add_device(m, &piix3_device_ops, s);
    piix3_reset(s);
    return s;
}
