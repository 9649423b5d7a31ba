/*
 * I/O APIC model (see ioapic.h).
 *
 * Facts: Intel 82093AA datasheet (IOREGSEL/IOWIN indirect access, ID at
 * index 0 bits 27:24, version at 1 with the maximum redirection entry in
 * bits 23:16, arbitration ID at 2, redirection table at 0x10-0x3f; entry
 * bits: vector 7:0, delivery mode 10:8, destination mode 11, delivery
 * status 12 (RO), polarity 13, remote IRR 14 (RO), trigger 15, mask 16,
 * destination 63:56).  Level-triggered entries set remote IRR when the
 * interrupt is accepted and are not delivered again until the LAPIC's EOI
 * for that vector clears it; edge entries deliver on the rising edge and
 * lose edges that arrive while masked.
 */
#include "hw/ioapic.h"

#include <stdlib.h>

#include "core/log.h"
#include "core/util.h"

#define RTE_WMASK 0xff0000000001afffULL   /* vector..mask except RO bits, dest */

struct IOAPICState {
    Machine *m;
    IOAPICDeliverFn deliver;
    void *opaque;
    IRQLine in[IOAPIC_NUM_PINS];
    uint8_t reset_id;

    uint8_t id;
    uint8_t regsel;
    uint64_t rte[IOAPIC_NUM_PINS];
    uint8_t level[IOAPIC_NUM_PINS];
    uint64_t raised[IOAPIC_NUM_PINS];   /* rising edges per pin (info irq; not guest state) */
};

static void ioapic_send(IOAPICState *s, int n)
{
    uint64_t e = s->rte[n];
    int dest = (int)(e >> 56) | ((e & IOAPIC_RTE_LOGICAL) ? IOAPIC_DEST_LOGICAL : 0);
    bool level = e & IOAPIC_RTE_LEVEL;
    if (level)
        s->rte[n] |= IOAPIC_RTE_REMOTE_IRR;
    if (s->deliver)
        s->deliver(s->opaque, dest, (int)(e & 0xff), (int)((e >> 8) & 7), level);
}

/* Delivers pin n if it is a level entry that is asserted and not waiting
 * for an EOI. */
static void ioapic_service_level(IOAPICState *s, int n)
{
    uint64_t e = s->rte[n];
    if ((e & IOAPIC_RTE_LEVEL) && !(e & IOAPIC_RTE_MASKED) &&
        !(e & IOAPIC_RTE_REMOTE_IRR) && s->level[n])
        ioapic_send(s, n);
}

static void ioapic_set_irq(void *opaque, int n, int level)
{
    IOAPICState *s = opaque;
    int old = s->level[n];
    s->level[n] = level != 0;
    if (level && !old)
        s->raised[n]++;
    uint64_t e = s->rte[n];
    if (e & IOAPIC_RTE_LEVEL)
        ioapic_service_level(s, n);
    else if (level && !old && !(e & IOAPIC_RTE_MASKED))
        ioapic_send(s, n);
}

void ioapic_eoi(IOAPICState *s, int vector)
{
    for (int n = 0; n < IOAPIC_NUM_PINS; n++) {
        uint64_t e = s->rte[n];
        if ((e & 0xff) == (uint64_t)(vector & 0xff) && (e & IOAPIC_RTE_REMOTE_IRR)) {
            s->rte[n] &= ~IOAPIC_RTE_REMOTE_IRR;
            ioapic_service_level(s, n);
        }
    }
}

static uint32_t ioapic_reg_read(IOAPICState *s)
{
    unsigned idx = s->regsel;
    switch (idx) {
    case IOAPIC_REG_ID:
    case IOAPIC_REG_ARB:
        return (uint32_t)(s->id & 0xf) << 24;
    case IOAPIC_REG_VER:
        return (uint32_t)(IOAPIC_NUM_PINS - 1) << 16 | IOAPIC_VERSION;
    default:
        if (idx >= IOAPIC_REG_REDTBL && idx < IOAPIC_REG_REDTBL + 2 * IOAPIC_NUM_PINS) {
            uint64_t e = s->rte[(idx - IOAPIC_REG_REDTBL) / 2];
            return (idx & 1) ? (uint32_t)(e >> 32) : (uint32_t)e;
        }
        return 0;
    }
}

static void ioapic_reg_write(IOAPICState *s, uint32_t val)
{
    unsigned idx = s->regsel;
    if (idx == IOAPIC_REG_ID) {
        s->id = (val >> 24) & 0xf;
        return;
    }
    if (idx < IOAPIC_REG_REDTBL || idx >= IOAPIC_REG_REDTBL + 2 * IOAPIC_NUM_PINS) {
        LOG(LOG_GUEST_ERRORS, "ioapic: write to read-only/unknown register 0x%x\n", idx);
        return;
    }
    int n = (int)(idx - IOAPIC_REG_REDTBL) / 2;
    uint64_t e = s->rte[n];
    uint64_t ro = e & ~RTE_WMASK;
    if (idx & 1)
        e = (e & 0xffffffffULL) | (uint64_t)val << 32;
    else
        e = (e & ~0xffffffffULL) | val;
    e = (e & RTE_WMASK) | (ro & (IOAPIC_RTE_REMOTE_IRR | IOAPIC_RTE_DELIV_STS));
    if (!(e & IOAPIC_RTE_LEVEL))
        e &= ~IOAPIC_RTE_REMOTE_IRR;      /* remote IRR is meaningless for edge */
    s->rte[n] = e;
    /* Unmasking an asserted level line delivers it now. */
    ioapic_service_level(s, n);
}

static uint64_t ioapic_mmio_read(void *opaque, uint64_t off, unsigned size)
{
    IOAPICState *s = opaque;
    (void)size;
    if (off == IOAPIC_REGSEL)
        return s->regsel;
    if (off == IOAPIC_WINDOW)
        return ioapic_reg_read(s);
    return 0;
}

static void ioapic_mmio_write(void *opaque, uint64_t off, uint64_t val, unsigned size)
{
    IOAPICState *s = opaque;
    (void)size;
    if (off == IOAPIC_REGSEL)
        s->regsel = (uint8_t)val;
    else if (off == IOAPIC_WINDOW)
        ioapic_reg_write(s, (uint32_t)val);
    else if (off == IOAPIC_EOI)
        ioapic_eoi(s, (int)(val & 0xff));
}

static const MemOps ioapic_mmio_ops = {
    .read = ioapic_mmio_read, .write = ioapic_mmio_write, .min_size = 4, .max_size = 4,
};

IRQLine *ioapic_irq(IOAPICState *s, int n)
{
    return n >= 0 && n < IOAPIC_NUM_PINS ? &s->in[n] : NULL;
}

uint64_t ioapic_get_entry(IOAPICState *s, int n)
{
    return n >= 0 && n < IOAPIC_NUM_PINS ? s->rte[n] : 0;
}

static void ioapic_reset(void *opaque)
{
    IOAPICState *s = opaque;
    s->id = s->reset_id;
    s->regsel = 0;
    for (int n = 0; n < IOAPIC_NUM_PINS; n++)
        s->rte[n] = IOAPIC_RTE_MASKED;
    /* Input levels belong to the sources; they are kept. */
}

static int ioapic_post_load(void *opaque, int version, char **err)
{
    IOAPICState *s = opaque;
    (void)version;
    for (int n = 0; n < IOAPIC_NUM_PINS; n++) {
        if (s->level[n] > 1) {
            set_error(err, "ioapic: pin %d level %u is not 0 or 1", n, s->level[n]);
            return -1;
        }
        s->rte[n] &= RTE_WMASK | IOAPIC_RTE_REMOTE_IRR;
    }
    s->id &= 0xf;
    return 0;
}

static const VMField ioapic_fields[] = {
    VMF_U8(id, IOAPICState),
    VMF_U8(regsel, IOAPICState),
    VMF_U64_ARRAY(rte, IOAPICState, IOAPIC_NUM_PINS),
    VMF_U8_ARRAY(level, IOAPICState, IOAPIC_NUM_PINS),
    VMF_END
};

static const VMStateDesc ioapic_vmsd = {
    .name = "ioapic", .version = 1, .min_version = 1, .fields = ioapic_fields,
    .post_load = ioapic_post_load,
};

static void ioapic_free(void *opaque)
{
    free(opaque);
}

static const DeviceOps ioapic_device_ops = {
    .name = "ioapic", .reset = ioapic_reset, .free = ioapic_free, .vmsd = &ioapic_vmsd,
};

IOAPICState *ioapic_create(Machine *m, uint64_t base, uint8_t id,
                           IOAPICDeliverFn deliver, void *opaque)
{
    IOAPICState *s = xcalloc(1, sizeof(*s));
    s->m = m;
    s->deliver = deliver;
    s->opaque = opaque;
    s->reset_id = id & 0xf;
    for (int n = 0; n < IOAPIC_NUM_PINS; n++)
        irq_init(&s->in[n], ioapic_set_irq, s, n);
    char *err = NULL;
    if (!memmap_add_mmio(m->mem, "ioapic", base, 0x1000, &ioapic_mmio_ops, s,
                         IOAPIC_MMIO_PRIORITY, &err)) {
        LOG(LOG_GUEST_ERRORS, "ioapic: %s\n", err);
        free(err);
        free(s);
        return NULL;
    }
    machine_add_device(m, &ioapic_device_ops, s);
    ioapic_reset(s);
    return s;
}

static void ioapic_dump_pins(FILE *f, const char *what, const IOAPICState *s, bool remote)
{
    bool any = false;
    fprintf(f, "  %s", what);
    for (int n = 0; n < IOAPIC_NUM_PINS; n++) {
        /* IRR: a level-triggered input held asserted (edge requests are
         * delivered at once here, never left pending) */
        bool on = remote ? (s->rte[n] & IOAPIC_RTE_REMOTE_IRR) != 0
                         : (s->rte[n] & IOAPIC_RTE_LEVEL) && s->level[n];
        if (on) {
            fprintf(f, " %d", n);
            any = true;
        }
    }
    fprintf(f, "%s\n", any ? "" : " (none)");
}

void ioapic_dump(IOAPICState *s, int index, FILE *f)
{
    static const char *const mode[8] = { "fixed", "lowest", "SMI", "...", "NMI", "INIT",
                                         "...", "extINT" };
    fprintf(f, "ioapic%d: ver=0x20 id=0x%02x sel=0x%02x", index, s->id, s->regsel);
    if (s->regsel >= 0x10)                /* the entry the window points at */
        fprintf(f, " (redir[%u])", (s->regsel - 0x10) >> 1);
    fprintf(f, "\n");
    for (int n = 0; n < IOAPIC_NUM_PINS; n++) {
        uint64_t e = s->rte[n];
        fprintf(f, "  pin %-2d 0x%016llx dest=%llx vec=%-3u %s %-5s %-6s %-6s %s\n", n,
                (unsigned long long)e, (unsigned long long)(e >> 56), (unsigned)(e & 0xff),
                e & IOAPIC_RTE_ACTIVE_LOW ? "active-lo" : "active-hi",
                e & IOAPIC_RTE_LEVEL ? "level" : "edge", e & IOAPIC_RTE_MASKED ? "masked" : "",
                mode[(e >> 8) & 7], e & IOAPIC_RTE_LOGICAL ? "logical" : "physical");
    }
    ioapic_dump_pins(f, "IRR     ", s, false);
    ioapic_dump_pins(f, "Remote IRR", s, true);
}

void ioapic_dump_counts(IOAPICState *s, FILE *f)
{
    fprintf(f, "IRQ statistics for ioapic:\n");
    for (int n = 0; n < IOAPIC_NUM_PINS; n++)
        if (s->raised[n])
            fprintf(f, "%2d: %llu\n", n, (unsigned long long)s->raised[n]);
}
