/*
 * Intel 8259A PIC pair (master 0x20-0x21, slave 0xa0-0xa1 on master IR2)
 * plus the two edge/level control registers at 0x4d0-0x4d1 that PIIX-era
 * chipsets put next to it.  Written from the 8259A datasheet.
 *
 * Modelled: the ICW1-ICW4 initialisation sequence, OCW1 (mask), OCW2 (EOI,
 * specific EOI, the rotations and set-priority), OCW3 (IRR/ISR read
 * select, poll, special mask mode), edge and level triggering (ICW1 LTIM
 * for the whole chip, ELCR per line), auto-EOI with optional rotation,
 * special fully nested mode on the master, and the spurious IR7 / IR15
 * vectors when a request goes away between INTR and INTA.
 *
 * Not modelled: 8080/8085 mode (vectors are always delivered as in 8086
 * mode), buffered mode, and the cascade address lines: the slave is always
 * on master IR2 whatever ICW3 says.  Edge-triggered requests stay latched
 * in IRR when the line falls before INTA (the real chip drops them); that
 * keeps irq_pulse() from devices working.  The slave's INT output feeds
 * master IR2 like any input, and is taken low during the INTA cycle so a
 * slave with further requests gives the master a fresh edge.
 */
#include "hw/i8259.h"

#include <stdlib.h>

#include "core/log.h"
#include "core/util.h"

#define PIC_CASCADE_IR 2

typedef struct PICChip {
    uint8_t irr, isr, imr;
    uint8_t lines;         /* input pin levels, for edge detection */
    uint8_t elcr;          /* 1 = level triggered (per line) */
    uint8_t vector_base;   /* ICW2 bits 7..3 */
    uint8_t icw3;
    uint8_t init_step;     /* 0 ready, 1/2/3: next byte on port B is ICW2/3/4 */
    uint8_t priority_add;  /* the IR with the highest priority (rotation) */
    bool icw4_needed, single, ltim;
    bool auto_eoi, rotate_aeoi, sfnm, x86_mode;
    bool read_isr, poll, special_mask;
} PICChip;

struct PICState {
    PICChip chip[2];       /* 0 master, 1 slave */
    uint8_t elcr_mask[2];  /* which lines may be level triggered */
    IRQLine in[16];
    IRQLine *cpu_intr;
    int intr_level;        /* last level driven on cpu_intr, -1 unknown */
    uint64_t raised[16];   /* rising edges per input (info irq; not guest state) */
};

static uint8_t chip_level_mask(const PICChip *c)
{
    return c->ltim ? 0xff : c->elcr;
}

/* Rank of the highest-priority bit of mask (0 = top priority), 8 if none. */
static int chip_priority(const PICChip *c, uint8_t mask)
{
    for (int i = 0; i < 8; i++)
        if (mask & (1u << ((i + c->priority_add) & 7)))
            return i;
    return 8;
}

/* The IR the chip would deliver now, or -1. */
static int chip_pending(const PICChip *c, bool is_master)
{
    int p = chip_priority(c, c->irr & ~c->imr);
    if (p == 8)
        return -1;
    int irq = (p + c->priority_add) & 7;
    uint8_t blocking = c->isr;
    /* Special mask mode: a masked level in service does not block others. */
    if (c->special_mask)
        blocking &= ~c->imr;
    /* Special fully nested mode: a slave in service may still pass its
     * own higher-priority requests through IR2. */
    if (is_master && c->sfnm && irq == PIC_CASCADE_IR)
        blocking &= ~(1u << PIC_CASCADE_IR);
    return p < chip_priority(c, blocking) ? irq : -1;
}

static void chip_set_input(PICChip *c, int irq, int level)
{
    uint8_t mask = 1u << irq;
    if (chip_level_mask(c) & mask) {
        if (level)
            c->irr |= mask;
        else
            c->irr &= ~mask;
    } else if (level && !(c->lines & mask)) {
        c->irr |= mask;
    }
    if (level)
        c->lines |= mask;
    else
        c->lines &= ~mask;
}

/* INTA (or poll read) on one chip for irq. */
static void chip_ack(PICChip *c, int irq)
{
    uint8_t mask = 1u << irq;
    if (!(chip_level_mask(c) & mask))
        c->irr &= ~mask;
    if (c->auto_eoi) {
        if (c->rotate_aeoi)
            c->priority_add = (irq + 1) & 7;
    } else {
        c->isr |= mask;
    }
}

/* Propagates the slave's INT to master IR2 and the master's INT to the CPU. */
static void pic_update(PICState *s)
{
    PICChip *master = &s->chip[0];
    bool slave_int = chip_pending(&s->chip[1], false) >= 0;
    chip_set_input(master, PIC_CASCADE_IR, slave_int);
    int level = chip_pending(master, true) >= 0;
    if (level != s->intr_level) {
        s->intr_level = level;
        irq_set(s->cpu_intr, level);
    }
}

static void pic_input_handler(void *opaque, int n, int level)
{
    PICState *s = opaque;
    if (n == PIC_CASCADE_IR) {
        LOG(LOG_GUEST_ERRORS, "i8259: IRQ2 is the cascade input; request ignored\n");
        return;
    }
    if (level && !(s->chip[n >> 3].lines & 1u << (n & 7)))
        s->raised[n]++;
    chip_set_input(&s->chip[n >> 3], n & 7, level);
    pic_update(s);
}

bool i8259_has_interrupt(PICState *s)
{
    return chip_pending(&s->chip[0], true) >= 0;
}

int i8259_ack(PICState *s)
{
    PICChip *master = &s->chip[0], *slave = &s->chip[1];
    int vector;
    int irq = chip_pending(master, true);
    if (irq < 0) {
        /* The request went away after INTR: the chip answers IR7 without
         * setting ISR. */
        LOG(LOG_INT, "i8259: spurious interrupt on master\n");
        vector = master->vector_base + 7;
    } else if (irq == PIC_CASCADE_IR) {
        chip_ack(master, irq);
        master->lines &= ~(1u << PIC_CASCADE_IR);
        int sirq = chip_pending(slave, false);
        if (sirq < 0) {
            /* Master ISR2 stays set: the OS must EOI the master only. */
            LOG(LOG_INT, "i8259: spurious interrupt on slave\n");
            vector = slave->vector_base + 7;
        } else {
            chip_ack(slave, sirq);
            vector = slave->vector_base + sirq;
        }
    } else {
        chip_ack(master, irq);
        vector = master->vector_base + irq;
    }
    pic_update(s);
    return vector;
}

IRQLine *i8259_irq(PICState *s, int n)
{
    if (n < 0 || n > 15)
        return NULL;
    return &s->in[n];
}

/* ---- register interface ---- */

static void chip_write_icw1(PICChip *c, uint8_t val)
{
    c->icw4_needed = val & 0x01;
    c->single = val & 0x02;
    c->ltim = val & 0x08;
    /* Datasheet: IMR cleared, edge sense reset (an input that is already
     * high must go low and high again), IR7 lowest priority, special mask
     * mode cleared, status read set to IRR; without ICW4 its bits are 0. */
    c->imr = 0;
    c->isr = 0;
    c->irr = c->lines & chip_level_mask(c);
    c->priority_add = 0;
    c->special_mask = false;
    c->read_isr = false;
    c->poll = false;
    c->rotate_aeoi = false;
    if (!c->icw4_needed) {
        c->auto_eoi = false;
        c->sfnm = false;
        c->x86_mode = false;
        LOG(LOG_UNIMP, "i8259: init without ICW4 selects 8080 mode; vectors stay 8086-style\n");
    }
    c->init_step = 1;
}

static void chip_write_ocw2(PICChip *c, uint8_t val)
{
    int level = val & 7;
    uint8_t eoi_candidates = c->special_mask ? c->isr & ~c->imr : c->isr;
    int p = chip_priority(c, eoi_candidates);
    int highest = (p + c->priority_add) & 7;
    switch (val >> 5) {
    case 0:  /* clear rotate in auto-EOI mode */
        c->rotate_aeoi = false;
        break;
    case 4:  /* set rotate in auto-EOI mode */
        c->rotate_aeoi = true;
        break;
    case 1:  /* non-specific EOI */
    case 5:  /* rotate on non-specific EOI */
        if (p == 8)
            break;
        c->isr &= ~(1u << highest);
        if (val >> 5 == 5)
            c->priority_add = (highest + 1) & 7;
        break;
    case 3:  /* specific EOI */
        c->isr &= ~(1u << level);
        break;
    case 7:  /* rotate on specific EOI */
        c->isr &= ~(1u << level);
        c->priority_add = (level + 1) & 7;
        break;
    case 6:  /* set priority: level becomes the lowest */
        c->priority_add = (level + 1) & 7;
        break;
    default: /* 2: no operation */
        break;
    }
}

static void chip_write_ocw3(PICChip *c, uint8_t val)
{
    if (val & 0x04)
        c->poll = true;
    if (val & 0x02)
        c->read_isr = val & 0x01;
    if (val & 0x40)
        c->special_mask = val & 0x20;
}

static void chip_write_data(PICChip *c, uint8_t val)
{
    switch (c->init_step) {
    case 1:
        c->vector_base = val & 0xf8;
        c->init_step = !c->single ? 2 : c->icw4_needed ? 3 : 0;
        break;
    case 2:
        c->icw3 = val;
        c->init_step = c->icw4_needed ? 3 : 0;
        break;
    case 3:
        c->x86_mode = val & 0x01;
        c->auto_eoi = val & 0x02;
        c->sfnm = val & 0x10;
        if (!c->x86_mode)
            LOG(LOG_UNIMP, "i8259: ICW4 selects 8080 mode; vectors stay 8086-style\n");
        c->init_step = 0;
        break;
    default:
        c->imr = val;   /* OCW1 */
        break;
    }
}

/* A poll read is an INTA for this chip: bit 7 = request, bits 2..0 = IR. */
static uint8_t chip_poll_read(PICChip *c, bool is_master)
{
    c->poll = false;
    int irq = chip_pending(c, is_master);
    if (irq < 0)
        return 0;
    chip_ack(c, irq);
    return 0x80 | irq;
}

static uint64_t pic_chip_read(PICState *s, int idx, uint64_t offset)
{
    PICChip *c = &s->chip[idx];
    uint8_t val;
    if (c->poll) {
        val = chip_poll_read(c, idx == 0);
        pic_update(s);
    } else if (offset == 0) {
        val = c->read_isr ? c->isr : c->irr;
    } else {
        val = c->imr;
    }
    return val;
}

static void pic_chip_write(PICState *s, int idx, uint64_t offset, uint8_t val)
{
    PICChip *c = &s->chip[idx];
    if (offset == 1)
        chip_write_data(c, val);
    else if (val & 0x10)
        chip_write_icw1(c, val);
    else if (val & 0x08)
        chip_write_ocw3(c, val);
    else
        chip_write_ocw2(c, val);
    pic_update(s);
}

static uint64_t pic_master_read(void *opaque, uint64_t offset, unsigned size)
{
    return pic_chip_read(opaque, 0, offset);
}

static uint64_t pic_slave_read(void *opaque, uint64_t offset, unsigned size)
{
    return pic_chip_read(opaque, 1, offset);
}

static void pic_master_write(void *opaque, uint64_t offset, uint64_t value, unsigned size)
{
    pic_chip_write(opaque, 0, offset, (uint8_t)value);
}

static void pic_slave_write(void *opaque, uint64_t offset, uint64_t value, unsigned size)
{
    pic_chip_write(opaque, 1, offset, (uint8_t)value);
}

static uint64_t pic_elcr_read(void *opaque, uint64_t offset, unsigned size)
{
    PICState *s = opaque;
    return s->chip[offset & 1].elcr;
}

static void pic_elcr_write(void *opaque, uint64_t offset, uint64_t value, unsigned size)
{
    PICState *s = opaque;
    PICChip *c = &s->chip[offset & 1];
    c->elcr = (uint8_t)value & s->elcr_mask[offset & 1];
    /* Lines that became level triggered now follow their pin. */
    uint8_t level = chip_level_mask(c);
    c->irr = (c->irr & ~level) | (c->lines & level);
    pic_update(s);
}

static const MemOps pic_master_ops = { pic_master_read, pic_master_write, 1, 1 };
static const MemOps pic_slave_ops = { pic_slave_read, pic_slave_write, 1, 1 };
static const MemOps pic_elcr_ops = { pic_elcr_read, pic_elcr_write, 1, 1 };

/* ---- device lifecycle ---- */

static void pic_reset(void *opaque)
{
    PICState *s = opaque;
    for (int i = 0; i < 2; i++) {
        uint8_t lines = s->chip[i].lines;
        s->chip[i] = (PICChip){ .lines = lines, .x86_mode = true };
    }
    s->intr_level = -1;
    pic_update(s);
}

static void pic_free(void *opaque)
{
    free(opaque);
}

static const VMField pic_chip_fields[] = {
    VMF_U8(irr, PICChip), VMF_U8(isr, PICChip), VMF_U8(imr, PICChip),
    VMF_U8(lines, PICChip), VMF_U8(elcr, PICChip),
    VMF_U8(vector_base, PICChip), VMF_U8(icw3, PICChip),
    VMF_U8(init_step, PICChip), VMF_U8(priority_add, PICChip),
    VMF_BOOL(icw4_needed, PICChip), VMF_BOOL(single, PICChip),
    VMF_BOOL(ltim, PICChip), VMF_BOOL(auto_eoi, PICChip),
    VMF_BOOL(rotate_aeoi, PICChip), VMF_BOOL(sfnm, PICChip),
    VMF_BOOL(x86_mode, PICChip), VMF_BOOL(read_isr, PICChip),
    VMF_BOOL(poll, PICChip), VMF_BOOL(special_mask, PICChip),
    VMF_END
};

static const VMStateDesc pic_chip_vmsd = {
    .name = "i8259-chip", .version = 1, .min_version = 1,
    .fields = pic_chip_fields,
};

static int pic_check_loaded(PICState *s, char **err)
{
    static const char *const names[2] = { "master", "slave" };
    for (int i = 0; i < 2; i++) {
        PICChip *c = &s->chip[i];
        if (c->init_step > 3) {
            set_error(err, "i8259 %s: init step %u out of range 0..3", names[i], c->init_step);
            return -1;
        }
        if (c->priority_add > 7) {
            set_error(err, "i8259 %s: priority rotation %u out of range 0..7",
                      names[i], c->priority_add);
            return -1;
        }
        if (c->vector_base & 7) {
            set_error(err, "i8259 %s: vector base 0x%02x not a multiple of 8",
                      names[i], c->vector_base);
            return -1;
        }
        if (c->elcr & ~s->elcr_mask[i]) {
            set_error(err, "i8259 %s: ELCR 0x%02x sets reserved bits", names[i], c->elcr);
            return -1;
        }
    }
    return 0;
}

static int pic_post_load(void *opaque, int version, char **err)
{
    PICState *s = opaque;
    if (pic_check_loaded(s, err) < 0) {
        pic_reset(s);   /* never run on inconsistent state */
        return -1;
    }
    for (int n = 0; n < 16; n++)
        s->in[n].level = (s->chip[n >> 3].lines >> (n & 7)) & 1;
    s->intr_level = -1;    /* drive the CPU pin from the loaded state */
    pic_update(s);
    return 0;
}

static const VMField pic_fields[] = {
    VMF_STRUCT_ARRAY(chip, PICState, 2, pic_chip_vmsd),
    VMF_END
};

static const VMStateDesc pic_vmsd = {
    .name = "i8259", .version = 1, .min_version = 1,
    .fields = pic_fields, .post_load = pic_post_load,
};

static const DeviceOps pic_device_ops = {
    .name = "i8259", .reset = pic_reset, .free = pic_free, .vmsd = &pic_vmsd,
};

PICState *i8259_create(Machine *m, uint16_t master, uint16_t slave, uint16_t elcr,
                       IRQLine *cpu_intr)
{
    PICState *s = xcalloc(1, sizeof(*s));
    s->cpu_intr = cpu_intr;
    /* PIIX convention: IRQ0, 1, 2 (master) and IRQ8, 13 (slave) are
     * always edge triggered. */
    s->elcr_mask[0] = 0xf8;
    s->elcr_mask[1] = 0xde;
    for (int n = 0; n < 16; n++)
        irq_init(&s->in[n], pic_input_handler, s, n);
    if (!iospace_add(m->io, "pic-master", master, 2, &pic_master_ops, s, NULL)) {
        free(s);
        return NULL;
    }
    if (!iospace_add(m->io, "pic-slave", slave, 2, &pic_slave_ops, s, NULL)) {
        iospace_remove(m->io, master, 2);
        free(s);
        return NULL;
    }
    if (!iospace_add(m->io, "elcr", elcr, 2, &pic_elcr_ops, s, NULL)) {
        iospace_remove(m->io, master, 2);
        iospace_remove(m->io, slave, 2);
        free(s);
        return NULL;
    }
    machine_add_device(m, &pic_device_ops, s);
    pic_reset(s);
    return s;
}

void i8259_dump(PICState *s, FILE *f)
{
    for (int i = 1; i >= 0; i--) {
        const PICChip *c = &s->chip[i];
        fprintf(f, "pic%d: irr=%02x imr=%02x isr=%02x hprio=%d irq_base=%02x rr_sel=%d "
                "elcr=%02x fnm=%d\n", i, c->irr, c->imr, c->isr, c->priority_add,
                c->vector_base, c->read_isr, c->elcr, c->sfnm);
    }
}

void i8259_dump_counts(PICState *s, FILE *f)
{
    fprintf(f, "IRQ statistics for isa-i8259:\n");
    for (int n = 0; n < 16; n++)
        if (s->raised[n])
            fprintf(f, "%2d: %llu\n", n, (unsigned long long)s->raised[n]);
}
