/* Local APIC: registers through the xAPIC page and x2APIC MSRs, interrupt
 * acceptance/priority, timer modes. */
#include <stdlib.h>

#include "core/machine.h"
#include "hw/lapic.h"
#include "tests/unit/unit.h"

typedef struct ApicBench {
    Machine *m;
    LAPICState *l;
    IRQLine intr;
    int intr_level;
    int eoi_vector, eoi_count;
    uint32_t ipi_dest, ipi_lo;
    int ipi_count;
} ApicBench;

static void ab_intr(void *opaque, int n, int level)
{
    (void)n;
    ((ApicBench *)opaque)->intr_level = level;
}

static void ab_eoi(void *opaque, int vector)
{
    ApicBench *b = opaque;
    b->eoi_vector = vector;
    b->eoi_count++;
}

static void ab_ipi(void *opaque, LAPICState *src, uint32_t dest, uint32_t lo)
{
    ApicBench *b = opaque;
    (void)src;
    b->ipi_dest = dest;
    b->ipi_lo = lo;
    b->ipi_count++;
}

static ApicBench *ab_new(uint32_t id)
{
    char err[128];
    ApicBench *b = calloc(1, sizeof(*b));
    b->m = machine_new(1 << 20, CLOCK_MANUAL, err, sizeof(err));
    ck_assert_ptr_nonnull(b->m);
    irq_init(&b->intr, ab_intr, b, 0);
    b->l = lapic_create(b->m, id, true, true, &b->intr);
    lapic_set_eoi_handler(b->l, ab_eoi, b);
    lapic_set_ipi_handler(b->l, ab_ipi, b);
    return b;
}

static void ab_free(ApicBench *b)
{
    machine_free(b->m);
    free(b);
}

static uint32_t ar(ApicBench *b, uint32_t reg)
{
    return (uint32_t)memmap_read(b->m->mem, LAPIC_DEFAULT_BASE + reg, 4);
}

static void aw(ApicBench *b, uint32_t reg, uint32_t v)
{
    memmap_write(b->m->mem, LAPIC_DEFAULT_BASE + reg, v, 4);
}

static bool irr_bit(ApicBench *b, int v)
{
    return (ar(b, APIC_IRR + 0x10 * (v / 32)) >> (v % 32)) & 1;
}

static bool isr_bit(ApicBench *b, int v)
{
    return (ar(b, APIC_ISR + 0x10 * (v / 32)) >> (v % 32)) & 1;
}

START_TEST(id_and_version)
{
    ApicBench *b = ab_new(3);
    ck_assert_uint_eq(ar(b, APIC_ID), 0x03000000u);
    ck_assert_uint_eq(ar(b, APIC_LVR), 0x50014u);
    ck_assert_uint_eq(ar(b, APIC_SVR), 0xff);          /* reset: disabled, vector 0xff */
    ck_assert_uint_eq(ar(b, APIC_DFR), 0xffffffffu);
    bool ok;
    uint64_t base = lapic_msr_read(b->l, MSR_IA32_APIC_BASE, &ok);
    ck_assert(ok);
    ck_assert_uint_eq(base, 0xfee00000u | APIC_BASE_EN | APIC_BASE_BSP);
    ab_free(b);
}
END_TEST

START_TEST(svr_software_enable)
{
    ApicBench *b = ab_new(0);
    lapic_set_irq(b->l, 0x40, false);
    ck_assert(irr_bit(b, 0x40));
    ck_assert(!lapic_has_interrupt(b->l));              /* software-disabled */
    ck_assert_int_eq(b->intr_level, 0);
    aw(b, APIC_SVR, 0x1ff);
    ck_assert(lapic_has_interrupt(b->l));
    ck_assert_int_eq(b->intr_level, 1);
    ck_assert_int_eq(lapic_ack_interrupt(b->l), 0x40);
    ck_assert_int_eq(b->intr_level, 0);
    ab_free(b);
}
END_TEST

START_TEST(tpr_masks_lower_classes)
{
    ApicBench *b = ab_new(0);
    aw(b, APIC_SVR, 0x1ff);
    aw(b, APIC_TPR, 0x50);
    lapic_set_irq(b->l, 0x45, false);
    ck_assert(!lapic_has_interrupt(b->l));              /* class 4 <= TPR class 5 */
    lapic_set_irq(b->l, 0x5f, false);
    ck_assert(!lapic_has_interrupt(b->l));              /* same class is blocked too */
    lapic_set_irq(b->l, 0x61, false);
    ck_assert(lapic_has_interrupt(b->l));
    ck_assert_int_eq(lapic_ack_interrupt(b->l), 0x61);
    ck_assert_uint_eq(ar(b, APIC_PPR), 0x60);           /* ISR class wins over TPR */
    ck_assert(!lapic_has_interrupt(b->l));
    aw(b, APIC_EOI, 0);
    ck_assert_uint_eq(ar(b, APIC_PPR), 0x50);
    aw(b, APIC_TPR, 0);
    ck_assert_int_eq(lapic_ack_interrupt(b->l), 0x5f);  /* highest first */
    ab_free(b);
}
END_TEST

START_TEST(eoi_clears_isr_and_broadcasts_level)
{
    ApicBench *b = ab_new(0);
    aw(b, APIC_SVR, 0x1ff);
    lapic_set_irq(b->l, 0x31, true);
    lapic_set_irq(b->l, 0x80, false);
    ck_assert_int_eq(lapic_ack_interrupt(b->l), 0x80);
    ck_assert(isr_bit(b, 0x80));
    ck_assert(!irr_bit(b, 0x80));
    aw(b, APIC_EOI, 0);
    ck_assert(!isr_bit(b, 0x80));
    ck_assert_int_eq(b->eoi_count, 0);                 /* edge: no broadcast */
    ck_assert_int_eq(lapic_ack_interrupt(b->l), 0x31);
    ck_assert((ar(b, APIC_TMR + 0x10) >> (0x31 - 32)) & 1);
    aw(b, APIC_EOI, 0);
    ck_assert_int_eq(b->eoi_count, 1);
    ck_assert_int_eq(b->eoi_vector, 0x31);
    /* nothing in service: ack gives the spurious vector */
    ck_assert_int_eq(lapic_ack_interrupt(b->l), 0xff);
    ab_free(b);
}
END_TEST

START_TEST(timer_one_shot)
{
    ApicBench *b = ab_new(0);
    aw(b, APIC_SVR, 0x1ff);
    aw(b, APIC_TDCR, 0x3);                              /* divide by 16 */
    aw(b, APIC_LVT_TIMER, 0x30);
    aw(b, APIC_TMICT, 1000);                            /* 16000 ns at 1 GHz / 16 */
    clock_advance(b->m->clock, 8000);
    ck_assert_uint_eq(ar(b, APIC_TMCCT), 500);
    clock_advance(b->m->clock, 7999);
    ck_assert(!irr_bit(b, 0x30));
    clock_advance(b->m->clock, 1);
    ck_assert(irr_bit(b, 0x30));
    ck_assert_uint_eq(ar(b, APIC_TMCCT), 0);
    ck_assert_int_eq(lapic_ack_interrupt(b->l), 0x30);
    aw(b, APIC_EOI, 0);
    clock_advance(b->m->clock, 100000);
    ck_assert(!irr_bit(b, 0x30));                       /* one shot only */
    ab_free(b);
}
END_TEST

START_TEST(timer_periodic_reloads)
{
    ApicBench *b = ab_new(0);
    aw(b, APIC_SVR, 0x1ff);
    aw(b, APIC_TDCR, 0x0);                              /* divide by 2 */
    aw(b, APIC_LVT_TIMER, APIC_TIMER_PERIODIC | 0x31);
    aw(b, APIC_TMICT, 5000);                            /* period 10 us */
    for (int i = 0; i < 3; i++) {
        clock_advance(b->m->clock, 9999);
        ck_assert(!irr_bit(b, 0x31));
        clock_advance(b->m->clock, 1);
        ck_assert(irr_bit(b, 0x31));
        ck_assert_int_eq(lapic_ack_interrupt(b->l), 0x31);
        aw(b, APIC_EOI, 0);
    }
    clock_advance(b->m->clock, 2500);
    ck_assert_uint_eq(ar(b, APIC_TMCCT), 5000 - 1250);  /* reloaded count */
    /* masked: counts but does not interrupt */
    aw(b, APIC_LVT_TIMER, APIC_LVT_MASKED | APIC_TIMER_PERIODIC | 0x31);
    clock_advance(b->m->clock, 20000);
    ck_assert(!irr_bit(b, 0x31));
    ab_free(b);
}
END_TEST

START_TEST(timer_tsc_deadline)
{
    ApicBench *b = ab_new(0);
    lapic_set_tsc_hz(b->l, 2000000000ULL);              /* 2 GHz: 2 TSC ticks per ns */
    aw(b, APIC_SVR, 0x1ff);
    aw(b, APIC_LVT_TIMER, APIC_TIMER_TSC_DEADLINE | 0x32);
    clock_advance(b->m->clock, 1000);                   /* TSC = 2000 */
    ck_assert(lapic_msr_write(b->l, MSR_IA32_TSC_DEADLINE, 6000));   /* t = 3000 ns */
    bool ok;
    ck_assert_uint_eq(lapic_msr_read(b->l, MSR_IA32_TSC_DEADLINE, &ok), 6000);
    clock_advance(b->m->clock, 1999);
    ck_assert(!irr_bit(b, 0x32));
    clock_advance(b->m->clock, 1);
    ck_assert(irr_bit(b, 0x32));
    ck_assert_uint_eq(lapic_msr_read(b->l, MSR_IA32_TSC_DEADLINE, &ok), 0);
    /* initial-count writes are ignored in this mode */
    aw(b, APIC_TMICT, 10);
    ck_assert_uint_eq(ar(b, APIC_TMICT), 0);
    ab_free(b);
}
END_TEST

START_TEST(x2apic_msr_access)
{
    ApicBench *b = ab_new(0x21);
    bool ok = true;
    /* not in x2APIC mode yet: #GP */
    lapic_msr_read(b->l, 0x802, &ok);
    ck_assert(!ok);
    ck_assert(lapic_msr_write(b->l, MSR_IA32_APIC_BASE,
                              0xfee00000u | APIC_BASE_EN | APIC_BASE_EXTD));
    ck_assert_uint_eq(lapic_msr_read(b->l, 0x802, &ok), 0x21);   /* full ID, not << 24 */
    ck_assert(ok);
    ck_assert(lapic_msr_write(b->l, 0x808, 0x70));
    ck_assert_uint_eq(lapic_msr_read(b->l, 0x808, &ok), 0x70);
    ck_assert_uint_eq(ar(b, APIC_TPR), 0xffffffffu);             /* MMIO page gone */
    /* logical ID derived from the APIC ID: cluster 2, bit 1 */
    ck_assert_uint_eq(lapic_msr_read(b->l, 0x80d, &ok), 0x00020002u);
    ck_assert(!lapic_msr_write(b->l, 0x802, 5));                 /* ID read-only */
    lapic_msr_read(b->l, 0x80b, &ok);                            /* EOI write-only */
    ck_assert(!ok);
    ck_assert(!lapic_msr_write(b->l, 0x80b, 1));                 /* EOI must be 0 */
    lapic_msr_read(b->l, 0x80e, &ok);                            /* no DFR */
    ck_assert(!ok);
    /* self IPI MSR */
    ck_assert(lapic_msr_write(b->l, 0x80f, 0x1ff));
    ck_assert(lapic_msr_write(b->l, 0x808, 0));
    ck_assert(lapic_msr_write(b->l, 0x83f, 0x44));
    ck_assert_int_eq(lapic_ack_interrupt(b->l), 0x44);
    /* x2APIC -> xAPIC directly is illegal */
    ck_assert(!lapic_msr_write(b->l, MSR_IA32_APIC_BASE, 0xfee00000u | APIC_BASE_EN));
    ab_free(b);
}
END_TEST

START_TEST(apic_base_transitions)
{
    ApicBench *b = ab_new(0);
    ck_assert(!lapic_msr_write(b->l, MSR_IA32_APIC_BASE, 0xfee00000u | APIC_BASE_EXTD));
    ck_assert(lapic_msr_write(b->l, MSR_IA32_APIC_BASE, 0xfee00000u));  /* disable */
    ck_assert_uint_eq(ar(b, APIC_LVR), 0xffffffffu);
    ck_assert(lapic_lint0_extint(b->l));               /* disabled: PIC goes straight through */
    ck_assert(!lapic_msr_write(b->l, MSR_IA32_APIC_BASE,
                               0xfee00000u | APIC_BASE_EN | APIC_BASE_EXTD));
    /* relocate the page */
    ck_assert(lapic_msr_write(b->l, MSR_IA32_APIC_BASE, 0xfed80000u | APIC_BASE_EN));
    ck_assert_uint_eq(memmap_read(b->m->mem, 0xfed80030, 4), 0x50014u);
    ck_assert(!lapic_msr_write(b->l, MSR_IA32_APIC_BASE, 0xfee00001u | APIC_BASE_EN));
    ab_free(b);
}
END_TEST

START_TEST(icr_self_and_other_ipis)
{
    ApicBench *b = ab_new(0);
    aw(b, APIC_SVR, 0x1ff);
    aw(b, APIC_ICR_LO, (1u << 18) | 0x50);             /* shorthand self */
    ck_assert(irr_bit(b, 0x50));
    ck_assert_int_eq(b->ipi_count, 0);
    aw(b, APIC_ICR_HI, 0x02000000);
    aw(b, APIC_ICR_LO, 0x51);                           /* fixed, physical dest 2 */
    ck_assert_int_eq(b->ipi_count, 1);
    ck_assert_uint_eq(b->ipi_dest, 2);
    ck_assert_uint_eq(b->ipi_lo & 0xff, 0x51);
    ck_assert(!irr_bit(b, 0x51));
    ck_assert_uint_eq(ar(b, APIC_ICR_HI), 0x02000000u);
    /* vector below 16: send-illegal-vector error, latched by an ESR write */
    aw(b, APIC_LVT_ERROR, 0x3e);
    aw(b, APIC_ICR_LO, (1u << 18) | 0x05);
    aw(b, APIC_ESR, 0);
    ck_assert_uint_eq(ar(b, APIC_ESR), APIC_ESR_SEND_ILLEGAL);
    ck_assert(irr_bit(b, 0x3e));
    ab_free(b);
}
END_TEST

START_TEST(lint0_extint_passthrough)
{
    ApicBench *b = ab_new(0);
    ck_assert(lapic_lint0_extint(b->l));                /* BSP virtual wire */
    ck_assert_int_eq(b->intr_level, 0);
    irq_raise(lapic_lint0(b->l));
    ck_assert_int_eq(b->intr_level, 1);
    ck_assert(!lapic_has_interrupt(b->l));              /* it is the PIC's vector */
    irq_lower(lapic_lint0(b->l));
    ck_assert_int_eq(b->intr_level, 0);
    /* masking LINT0 (software enabled APIC) stops the pass-through */
    aw(b, APIC_SVR, 0x1ff);
    aw(b, APIC_LVT_LINT0, APIC_LVT_MASKED | (APIC_DM_EXTINT << 8));
    ck_assert(!lapic_lint0_extint(b->l));
    irq_raise(lapic_lint0(b->l));
    ck_assert_int_eq(b->intr_level, 0);
    /* LINT1 as NMI */
    irq_raise(lapic_lint1(b->l));
    ck_assert(lapic_take_nmi(b->l));
    ab_free(b);
}
END_TEST

START_TEST(lapic_save_load_keeps_timer)
{
    ApicBench *b = ab_new(0);
    aw(b, APIC_SVR, 0x1ff);
    aw(b, APIC_TPR, 0x20);
    aw(b, APIC_TDCR, 0xb);                              /* divide by 1 */
    aw(b, APIC_LVT_TIMER, 0x40);
    aw(b, APIC_TMICT, 5000);
    clock_advance(b->m->clock, 1000);
    VMBuf vb;
    vmbuf_init(&vb);
    machine_save_devices(b->m, &vb);
    machine_reset_devices(b->m);
    ck_assert_uint_eq(ar(b, APIC_TPR), 0);
    char *err = NULL;
    ck_assert_int_eq(machine_load_devices(b->m, vb.data, vb.len, &err), 0);
    ck_assert_uint_eq(ar(b, APIC_TPR), 0x20);
    ck_assert_uint_eq(ar(b, APIC_TMCCT), 4000);
    clock_advance(b->m->clock, 4000);
    ck_assert(irr_bit(b, 0x40));
    vb.data[20] ^= 0xff;
    ck_assert_int_eq(machine_load_devices(b->m, vb.data, vb.len, &err), -1);
    free(err);
    vmbuf_free(&vb);
    ab_free(b);
}
END_TEST

static Suite *lapic_suite(void)
{
    Suite *s = suite_create("lapic");
    TCase *tc = tcase_create("core");
    tcase_add_test(tc, id_and_version);
    tcase_add_test(tc, svr_software_enable);
    tcase_add_test(tc, tpr_masks_lower_classes);
    tcase_add_test(tc, eoi_clears_isr_and_broadcasts_level);
    tcase_add_test(tc, timer_one_shot);
    tcase_add_test(tc, timer_periodic_reloads);
    tcase_add_test(tc, timer_tsc_deadline);
    tcase_add_test(tc, x2apic_msr_access);
    tcase_add_test(tc, apic_base_transitions);
    tcase_add_test(tc, icr_self_and_other_ipis);
    tcase_add_test(tc, lint0_extint_passthrough);
    tcase_add_test(tc, lapic_save_load_keeps_timer);
    suite_add_tcase(s, tc);
    return s;
}

UNIT_SUITE(lapic_suite)
