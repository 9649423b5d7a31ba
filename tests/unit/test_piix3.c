/* PIIX4 ACPI PM function: PM timer, PM1 events/SCI, sleep, relocation. */
#include <stdlib.h>

#include "core/machine.h"
#include "hw/i440fx.h"
#include "hw/pci.h"
#include "hw/piix3.h"
#include "tests/unit/unit.h"

typedef struct PmBench {
    Machine *m;
    PIIX3State *sb;
    IRQLine isa[16];
    IRQLine *isa_ptr[16];
    int level[16];
} PmBench;

static void pm_irq(void *opaque, int n, int level)
{
    PmBench *b = opaque;
    b->level[n] = level;
}

static PmBench *pm_new(void)
{
    char err[128];
    PmBench *b = calloc(1, sizeof(*b));
    b->m = machine_new(1 << 20, CLOCK_MANUAL, err, sizeof(err));
    ck_assert_ptr_nonnull(b->m);
    for (int i = 0; i < 16; i++) {
        irq_init(&b->isa[i], pm_irq, b, i);
        b->isa_ptr[i] = &b->isa[i];
    }
    PCIBus *bus = pci_bus_new(b->m);
    ck_assert_ptr_nonnull(i440fx_create(b->m, bus, I440FX_CONFIG_ADDRESS));
    b->sb = piix3_create(b->m, bus, b->isa_ptr);
    ck_assert_ptr_nonnull(b->sb);
    return b;
}

static void pm_free(PmBench *b)
{
    machine_free(b->m);
    free(b);
}

static uint32_t rd(PmBench *b, unsigned reg, unsigned size)
{
    return iospace_read(b->m->io, (uint16_t)(0x600 + reg), size);
}

static void wr(PmBench *b, unsigned reg, uint32_t v, unsigned size)
{
    iospace_write(b->m->io, (uint16_t)(0x600 + reg), v, size);
}

START_TEST(pm_timer_rate)
{
    PmBench *b = pm_new();
    uint32_t t0 = rd(b, PM_TMR, 4);
    clock_advance(b->m->clock, 1000000000);          /* 1 s */
    uint32_t t1 = rd(b, PM_TMR, 4);
    ck_assert_uint_eq((t1 - t0) & 0xffffff, 3579545u);
    clock_advance(b->m->clock, 1000000);             /* 1 ms = 3579.545 ticks */
    uint32_t d = (rd(b, PM_TMR, 4) - t1) & 0xffffff;
    ck_assert(d == 3579 || d == 3580);
    pm_free(b);
}
END_TEST

START_TEST(pm_timer_is_24_bit)
{
    PmBench *b = pm_new();
    /* 5 s is 17.9 M ticks: past 2^24, the value wrapped */
    clock_advance(b->m->clock, 5LL * 1000000000);
    uint32_t v = rd(b, PM_TMR, 4);
    ck_assert_uint_lt(v, 1u << 24);
    ck_assert_uint_eq(v, (uint32_t)((5ULL * 3579545) & 0xffffff));
    pm_free(b);
}
END_TEST

START_TEST(pm_timer_overflow_raises_sci)
{
    PmBench *b = pm_new();
    wr(b, PM1_EN, PM1_TMR_STS, 2);
    wr(b, PM1_CNT, PM1_CNT_SCI_EN, 2);
    /* bit 23 first toggles after 2^23 ticks = 2.3435 s */
    clock_advance(b->m->clock, 2343000000LL);
    ck_assert_uint_eq(rd(b, PM1_STS, 2) & PM1_TMR_STS, 0);
    ck_assert_int_eq(b->level[9], 0);
    clock_advance(b->m->clock, 1000000);
    ck_assert_uint_eq(rd(b, PM1_STS, 2) & PM1_TMR_STS, PM1_TMR_STS);
    ck_assert_int_eq(b->level[9], 1);
    wr(b, PM1_STS, PM1_TMR_STS, 2);                 /* write one to clear */
    ck_assert_uint_eq(rd(b, PM1_STS, 2) & PM1_TMR_STS, 0);
    ck_assert_int_eq(b->level[9], 0);
    pm_free(b);
}
END_TEST

START_TEST(s5_with_slp_en_shuts_down)
{
    PmBench *b = pm_new();
    b->m->state = RUN_RUNNING;
    /* SLP_TYP alone does nothing */
    wr(b, PM1_CNT, PIIX4_SLP_TYP_S5 << PM1_CNT_SLP_TYP_SHIFT, 2);
    ck_assert_int_eq(b->m->state, RUN_RUNNING);
    wr(b, PM1_CNT, (PIIX4_SLP_TYP_S5 << PM1_CNT_SLP_TYP_SHIFT) | PM1_CNT_SLP_EN, 2);
    ck_assert_int_eq(b->m->state, RUN_SHUTDOWN);
    ck_assert_int_eq(b->m->exit_code, 0);
    /* SLP_EN is write-only */
    ck_assert_uint_eq(rd(b, PM1_CNT, 2) & PM1_CNT_SLP_EN, 0);
    pm_free(b);
}
END_TEST

/* -no-shutdown: the power-off stops the machine; vx86 waits for quit. */
START_TEST(s5_with_no_shutdown_stops)
{
    PmBench *b = pm_new();
    VMOptions o;
    options_init(&o);
    o.no_shutdown = true;
    b->m->opts = &o;
    b->m->state = RUN_RUNNING;
    wr(b, PM1_CNT, (PIIX4_SLP_TYP_S5 << PM1_CNT_SLP_TYP_SHIFT) | PM1_CNT_SLP_EN, 2);
    ck_assert_int_eq(b->m->state, RUN_POWERED_OFF);
    ck_assert(b->m->stop_requested);
    machine_request_shutdown(b->m, 0);          /* Ctrl-A x */
    ck_assert_int_eq(b->m->state, RUN_SHUTDOWN);
    pm_free(b);
}
END_TEST

START_TEST(other_sleep_type_does_not_power_off)
{
    PmBench *b = pm_new();
    b->m->state = RUN_RUNNING;
    wr(b, PM1_CNT, (1 << PM1_CNT_SLP_TYP_SHIFT) | PM1_CNT_SLP_EN, 2);  /* S3 */
    ck_assert_int_eq(b->m->state, RUN_RUNNING);
    ck_assert_uint_eq(rd(b, PM1_STS, 2) & PM1_WAK_STS, PM1_WAK_STS);
    pm_free(b);
}
END_TEST

START_TEST(apm_enable_sets_sci_en_and_power_button)
{
    PmBench *b = pm_new();
    ck_assert_uint_eq(rd(b, PM1_CNT, 2) & PM1_CNT_SCI_EN, 0);
    iospace_write(b->m->io, 0xb2, PIIX4_ACPI_ENABLE, 1);
    ck_assert_uint_eq(rd(b, PM1_CNT, 2) & PM1_CNT_SCI_EN, PM1_CNT_SCI_EN);
    /* power button: status without enable gives no SCI */
    piix3_power_button(b->sb);
    ck_assert_uint_eq(rd(b, PM1_STS, 2) & PM1_PWRBTN_STS, PM1_PWRBTN_STS);
    ck_assert_int_eq(b->level[9], 0);
    wr(b, PM1_EN, PM1_PWRBTN_STS, 2);
    ck_assert_int_eq(b->level[9], 1);
    iospace_write(b->m->io, 0xb2, PIIX4_ACPI_DISABLE, 1);
    ck_assert_int_eq(b->level[9], 0);
    pm_free(b);
}
END_TEST

START_TEST(pm_block_relocates_with_pmba)
{
    PmBench *b = pm_new();
    ck_assert_uint_eq(piix3_pm_base(b->sb), 0x600);
    iospace_write(b->m->io, 0xcf8, 0x80000000u | (1 << 11) | (3 << 8) | 0x40, 4);
    ck_assert_uint_eq(iospace_read(b->m->io, 0xcfc, 4), 0x601);
    iospace_write(b->m->io, 0xcfc, 0xb000, 4);
    ck_assert_uint_eq(iospace_read(b->m->io, 0xcfc, 4), 0xb001);   /* bit 0 reads 1 */
    ck_assert_uint_eq(piix3_pm_base(b->sb), 0xb000);
    ck_assert_ptr_null(iospace_owner(b->m->io, 0x608));
    clock_advance(b->m->clock, 1000000000);
    ck_assert_uint_eq(iospace_read(b->m->io, 0xb008, 4), 3579545u);
    pm_free(b);
}
END_TEST

START_TEST(pm_save_load_round_trip)
{
    PmBench *b = pm_new();
    wr(b, PM1_EN, PM1_PWRBTN_STS, 2);
    wr(b, PM1_CNT, PM1_CNT_SCI_EN, 2);
    piix3_power_button(b->sb);
    ck_assert_int_eq(b->level[9], 1);
    VMBuf vb;
    vmbuf_init(&vb);
    machine_save_devices(b->m, &vb);
    machine_reset_devices(b->m);
    ck_assert_uint_eq(rd(b, PM1_EN, 2), 0);
    char *err = NULL;
    ck_assert_int_eq(machine_load_devices(b->m, vb.data, vb.len, &err), 0);
    ck_assert_uint_eq(rd(b, PM1_EN, 2), PM1_PWRBTN_STS);
    ck_assert_uint_eq(rd(b, PM1_STS, 2) & PM1_PWRBTN_STS, PM1_PWRBTN_STS);
    vb.data[vb.len - 1] ^= 1;                        /* the CRC */
    ck_assert_int_eq(machine_load_devices(b->m, vb.data, vb.len, &err), -1);
    free(err);
    vmbuf_free(&vb);
    pm_free(b);
}
END_TEST

/* QEMU's pc-board ports that SeaBIOS's own tables name: GPE0 at 0xafe0
 * (the same state as PMBA+0x0c) and PCI hotplug at 0xae00 (no events).
 * Unmapped they read all ones and Linux ejected every PCI slot. */
START_TEST(qemu_gpe_and_pcihp_ports)
{
    PmBench *b = pm_new();
    ck_assert_uint_eq(iospace_read(b->m->io, PIIX4_QEMU_GPE0_PORT, 4), 0);
    for (unsigned off = 0; off < 16; off += 4)
        ck_assert_uint_eq(iospace_read(b->m->io, (uint16_t)(PIIX4_QEMU_PCIHP_PORT + off), 4), 0);
    iospace_write(b->m->io, PIIX4_QEMU_PCIHP_PORT + 8, 0xffffffffu, 4);   /* eject: ignored */
    piix3_set_gpe(b->sb, 1);
    ck_assert_uint_eq(iospace_read(b->m->io, PIIX4_QEMU_GPE0_PORT, 2), 2);
    ck_assert_uint_eq(rd(b, GPE0_STS, 2), 2);
    iospace_write(b->m->io, PIIX4_QEMU_GPE0_PORT + 2, 2, 2);            /* enable */
    ck_assert_uint_eq(rd(b, GPE0_EN, 2), 2);
    iospace_write(b->m->io, PIIX4_QEMU_GPE0_PORT, 2, 2);                /* w1c */
    ck_assert_uint_eq(rd(b, GPE0_STS, 2), 0);
    pm_free(b);
}
END_TEST

static Suite *piix3_suite(void)
{
    Suite *s = suite_create("piix3");
    TCase *tc = tcase_create("acpi-pm");
    tcase_add_test(tc, pm_timer_rate);
    tcase_add_test(tc, pm_timer_is_24_bit);
    tcase_add_test(tc, pm_timer_overflow_raises_sci);
    tcase_add_test(tc, s5_with_slp_en_shuts_down);
    tcase_add_test(tc, s5_with_no_shutdown_stops);
    tcase_add_test(tc, other_sleep_type_does_not_power_off);
    tcase_add_test(tc, apm_enable_sets_sci_en_and_power_button);
    tcase_add_test(tc, pm_block_relocates_with_pmba);
    tcase_add_test(tc, pm_save_load_round_trip);
    tcase_add_test(tc, qemu_gpe_and_pcihp_ports);
    suite_add_tcase(s, tc);
    return s;
}

UNIT_SUITE(piix3_suite)
