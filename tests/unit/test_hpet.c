/* HPET: capabilities, main counter, comparators, routing, status. */
#include <stdlib.h>

#include "core/machine.h"
#include "hw/hpet.h"
#include "tests/unit/unit.h"

typedef struct HpBench {
    Machine *m;
    HPETState *h;
    IRQLine lines[24];
    IRQLine *ptrs[24];
    int level[24];
    int rises[24];
    int legacy_calls;
    bool legacy;
} HpBench;

static void hp_irq(void *opaque, int n, int level)
{
    HpBench *b = opaque;
    if (level && !b->level[n])
        b->rises[n]++;
    b->level[n] = level;
}

static void hp_legacy(void *opaque, bool on)
{
    HpBench *b = opaque;
    b->legacy_calls++;
    b->legacy = on;
}

static HpBench *hp_new(void)
{
    char err[128];
    HpBench *b = calloc(1, sizeof(*b));
    b->m = machine_new(1 << 20, CLOCK_MANUAL, err, sizeof(err));
    ck_assert_ptr_nonnull(b->m);
    for (int i = 0; i < 24; i++) {
        irq_init(&b->lines[i], hp_irq, b, i);
        b->ptrs[i] = &b->lines[i];
    }
    b->h = hpet_create(b->m, HPET_DEFAULT_BASE, b->ptrs);
    ck_assert_ptr_nonnull(b->h);
    hpet_set_legacy_notify(b->h, hp_legacy, b);
    return b;
}

static void hp_free(HpBench *b)
{
    machine_free(b->m);
    free(b);
}

static uint64_t hr(HpBench *b, uint32_t reg, unsigned size)
{
    return memmap_read(b->m->mem, HPET_DEFAULT_BASE + reg, size);
}

static void hw(HpBench *b, uint32_t reg, uint64_t v, unsigned size)
{
    memmap_write(b->m->mem, HPET_DEFAULT_BASE + reg, v, size);
}

START_TEST(capabilities)
{
    HpBench *b = hp_new();
    uint64_t cap = hr(b, HPET_GCAP_ID, 8);
    ck_assert_uint_eq(cap >> 32, 0x989680u);             /* 10 ns in fs */
    ck_assert_uint_eq((cap >> 16) & 0xffff, 0x8086);
    ck_assert_uint_eq((cap >> 8) & 0x1f, 2);             /* 3 timers */
    ck_assert(cap & (1u << 13));                         /* 64-bit counter */
    ck_assert(cap & (1u << 15));                         /* legacy capable */
    ck_assert_uint_eq(hr(b, HPET_GCAP_ID + 4, 4), 0x989680u);
    uint64_t t0 = hr(b, HPET_TN_CONF(0), 8);
    ck_assert(t0 & HPET_TN_PER_CAP);
    ck_assert(t0 & HPET_TN_SIZE_CAP);
    ck_assert_uint_eq(t0 >> 32, HPET_ROUTE_CAP);
    hp_free(b);
}
END_TEST

START_TEST(counter_rate_and_halt)
{
    HpBench *b = hp_new();
    clock_advance(b->m->clock, 5000);
    ck_assert_uint_eq(hr(b, HPET_MAIN_COUNTER, 8), 0);   /* halted at reset */
    hw(b, HPET_MAIN_COUNTER, 0x100000000ULL, 8);
    ck_assert_uint_eq(hr(b, HPET_MAIN_COUNTER, 8), 0x100000000ULL);
    hw(b, HPET_GEN_CONF, HPET_CONF_ENABLE, 4);
    clock_advance(b->m->clock, 1000);                    /* 1 us */
    ck_assert_uint_eq(hr(b, HPET_MAIN_COUNTER, 8), 0x100000000ULL + 100);
    clock_advance(b->m->clock, 1000000);                 /* 1 ms */
    ck_assert_uint_eq(hr(b, HPET_MAIN_COUNTER, 8), 0x100000000ULL + 100100);
    ck_assert_uint_eq(hr(b, HPET_MAIN_COUNTER + 4, 4), 1);
    hw(b, HPET_GEN_CONF, 0, 4);
    clock_advance(b->m->clock, 1000000);
    ck_assert_uint_eq(hr(b, HPET_MAIN_COUNTER, 8), 0x100000000ULL + 100100);
    hp_free(b);
}
END_TEST

START_TEST(timer0_one_shot_fires)
{
    HpBench *b = hp_new();
    hw(b, HPET_TN_CONF(0), HPET_TN_INT_ENB | (20u << HPET_TN_ROUTE_SHIFT), 4);
    hw(b, HPET_TN_CMP(0), 1000, 8);                      /* 10 us */
    hw(b, HPET_GEN_CONF, HPET_CONF_ENABLE, 4);
    clock_advance(b->m->clock, 9990);
    ck_assert_int_eq(b->rises[20], 0);
    clock_advance(b->m->clock, 10);
    ck_assert_int_eq(b->rises[20], 1);
    ck_assert_int_eq(b->level[20], 0);                   /* edge: a pulse */
    ck_assert_uint_eq(hr(b, HPET_GINTR_STA, 4), 0);      /* no status in edge mode */
    clock_advance(b->m->clock, 1000000);
    ck_assert_int_eq(b->rises[20], 1);                   /* one shot */
    hp_free(b);
}
END_TEST

START_TEST(legacy_replacement_routing)
{
    HpBench *b = hp_new();
    hw(b, HPET_TN_CONF(0), HPET_TN_INT_ENB | (20u << HPET_TN_ROUTE_SHIFT), 4);
    hw(b, HPET_TN_CONF(1), HPET_TN_INT_ENB | (21u << HPET_TN_ROUTE_SHIFT), 4);
    /* 64-bit comparators reset to all ones: a 4-byte write keeps the top */
    hw(b, HPET_TN_CMP(0), 100, 4);
    ck_assert_uint_eq(hr(b, HPET_TN_CMP(0) + 4, 4), 0xffffffffu);
    hw(b, HPET_TN_CMP(0), 100, 8);
    hw(b, HPET_TN_CMP(1), 200, 8);
    hw(b, HPET_GEN_CONF, HPET_CONF_ENABLE | HPET_CONF_LEGACY, 4);
    ck_assert_int_eq(b->legacy_calls, 1);
    ck_assert(b->legacy);
    clock_advance(b->m->clock, 3000);
    ck_assert_int_eq(b->rises[0], 1);                    /* timer 0 -> IRQ0 */
    ck_assert_int_eq(b->rises[8], 1);                    /* timer 1 -> IRQ8 */
    ck_assert_int_eq(b->rises[20], 0);
    ck_assert_int_eq(b->rises[21], 0);
    hp_free(b);
}
END_TEST

START_TEST(periodic_accumulates)
{
    HpBench *b = hp_new();
    /* the sequence Linux uses: 32-bit mode, VAL_SET, first match, then period */
    hw(b, HPET_TN_CONF(0), HPET_TN_INT_ENB | HPET_TN_PERIODIC | HPET_TN_VAL_SET |
                           HPET_TN_32BIT | (22u << HPET_TN_ROUTE_SHIFT), 4);
    hw(b, HPET_TN_CMP(0), 500, 4);                       /* first match at 5 us */
    ck_assert_uint_eq(hr(b, HPET_TN_CONF(0), 4) & HPET_TN_VAL_SET, 0);   /* self-clearing */
    hw(b, HPET_TN_CMP(0), 300, 4);                       /* period 3 us */
    ck_assert_uint_eq(hr(b, HPET_TN_CMP(0), 8), 500);
    hw(b, HPET_GEN_CONF, HPET_CONF_ENABLE, 4);
    clock_advance(b->m->clock, 5000);
    ck_assert_int_eq(b->rises[22], 1);
    ck_assert_uint_eq(hr(b, HPET_TN_CMP(0), 8), 800);    /* comparator += period */
    clock_advance(b->m->clock, 2990);
    ck_assert_int_eq(b->rises[22], 1);
    clock_advance(b->m->clock, 10);
    ck_assert_int_eq(b->rises[22], 2);
    clock_advance(b->m->clock, 30000);
    ck_assert_int_eq(b->rises[22], 12);
    hp_free(b);
}
END_TEST

START_TEST(level_status_write_one_to_clear)
{
    HpBench *b = hp_new();
    hw(b, HPET_TN_CONF(2), HPET_TN_INT_ENB | HPET_TN_INT_LEVEL |
                           (23u << HPET_TN_ROUTE_SHIFT), 4);
    hw(b, HPET_TN_CMP(2), 50, 8);
    hw(b, HPET_GEN_CONF, HPET_CONF_ENABLE, 4);
    clock_advance(b->m->clock, 500);
    ck_assert_uint_eq(hr(b, HPET_GINTR_STA, 4), 1u << 2);
    ck_assert_int_eq(b->level[23], 1);
    hw(b, HPET_GINTR_STA, 1u << 1, 4);                  /* other bit: no effect */
    ck_assert_int_eq(b->level[23], 1);
    hw(b, HPET_GINTR_STA, 1u << 2, 4);
    ck_assert_uint_eq(hr(b, HPET_GINTR_STA, 4), 0);
    ck_assert_int_eq(b->level[23], 0);
    hp_free(b);
}
END_TEST

START_TEST(route_and_32bit_mode)
{
    HpBench *b = hp_new();
    /* route 5 is not in the capability: the old route stays */
    hw(b, HPET_TN_CONF(1), 21u << HPET_TN_ROUTE_SHIFT, 4);
    hw(b, HPET_TN_CONF(1), 5u << HPET_TN_ROUTE_SHIFT, 4);
    ck_assert_uint_eq((hr(b, HPET_TN_CONF(1), 4) >> HPET_TN_ROUTE_SHIFT) & 0x1f, 21);
    hw(b, HPET_TN_CONF(1), HPET_TN_32BIT | HPET_TN_INT_ENB | (21u << HPET_TN_ROUTE_SHIFT), 4);
    hw(b, HPET_TN_CMP(1), 0x123456789ULL, 8);
    ck_assert_uint_eq(hr(b, HPET_TN_CMP(1), 8), 0x23456789u);
    /* 32-bit compare: counter 0x1_0000_0000 + 10 matches cmp 10 */
    hw(b, HPET_TN_CMP(1), 10, 4);
    hw(b, HPET_MAIN_COUNTER, 0x100000000ULL, 8);
    hw(b, HPET_GEN_CONF, HPET_CONF_ENABLE, 4);
    clock_advance(b->m->clock, 100);
    ck_assert_int_eq(b->rises[21], 1);
    hp_free(b);
}
END_TEST

START_TEST(hpet_save_load)
{
    HpBench *b = hp_new();
    hw(b, HPET_TN_CONF(0), HPET_TN_INT_ENB | (20u << HPET_TN_ROUTE_SHIFT), 4);
    hw(b, HPET_TN_CMP(0), 1000, 8);
    hw(b, HPET_GEN_CONF, HPET_CONF_ENABLE, 4);
    clock_advance(b->m->clock, 4000);
    VMBuf vb;
    vmbuf_init(&vb);
    machine_save_devices(b->m, &vb);
    machine_reset_devices(b->m);
    ck_assert_uint_eq(hr(b, HPET_GEN_CONF, 4), 0);
    char *err = NULL;
    ck_assert_int_eq(machine_load_devices(b->m, vb.data, vb.len, &err), 0);
    ck_assert_uint_eq(hr(b, HPET_MAIN_COUNTER, 8), 400);
    clock_advance(b->m->clock, 6000);
    ck_assert_int_eq(b->rises[20], 1);
    vb.data[12] ^= 0x01;
    ck_assert_int_eq(machine_load_devices(b->m, vb.data, vb.len, &err), -1);
    free(err);
    vmbuf_free(&vb);
    hp_free(b);
}
END_TEST

static Suite *hpet_suite(void)
{
    Suite *s = suite_create("hpet");
    TCase *tc = tcase_create("core");
    tcase_add_test(tc, capabilities);
    tcase_add_test(tc, counter_rate_and_halt);
    tcase_add_test(tc, timer0_one_shot_fires);
    tcase_add_test(tc, legacy_replacement_routing);
    tcase_add_test(tc, periodic_accumulates);
    tcase_add_test(tc, level_status_write_one_to_clear);
    tcase_add_test(tc, route_and_32bit_mode);
    tcase_add_test(tc, hpet_save_load);
    suite_add_tcase(s, tc);
    return s;
}

UNIT_SUITE(hpet_suite)
