/* MC146818 RTC/CMOS through ports 0x70/0x71 on a manual clock.  Register
 * values follow the datasheet: BCD/binary data modes, 12-hour PM bit 0x80,
 * rate select 6 = 976.5625 us, flags IRQF 0x80 PF 0x40 AF 0x20 UF 0x10. */
#include <stdlib.h>
#include <string.h>

#include "core/machine.h"
#include "core/util.h"
#include "hw/mc146818.h"
#include "tests/unit/unit.h"

/* 2021-03-14 13:45:30 UTC, a Sunday (day of week 1). */
#define T_SUNDAY_AFTERNOON 1615729530LL
/* 2021-12-31 23:59:59 UTC; the next day is Saturday 2022-01-01. */
#define T_NEW_YEARS_EVE 1640995199LL
/* 2021-03-14 00:15:00 UTC */
#define T_AFTER_MIDNIGHT 1615680900LL

#define MS 1000000LL

typedef struct Pin {
    VClock *clock;
    int level;
    int rises;
    int64_t last_rise;
} Pin;

static void pin_handler(void *opaque, int n, int level)
{
    Pin *p = opaque;
    if (level && !p->level) {
        p->rises++;
        p->last_rise = clock_now(p->clock);
    }
    p->level = level;
}

typedef struct Rig {
    Machine *m;
    RTCState *rtc;
    IRQLine irq8;
    Pin pin;
} Rig;

static Rig *rig_new(int64_t epoch)
{
    char err[128];
    Rig *r = xcalloc(1, sizeof(*r));
    r->m = machine_new(1 << 20, CLOCK_MANUAL, err, sizeof(err));
    ck_assert_ptr_nonnull(r->m);
    r->pin.clock = r->m->clock;
    irq_init(&r->irq8, pin_handler, &r->pin, 0);
    r->rtc = mc146818_create(r->m, 0x70, &r->irq8, epoch);
    return r;
}

static void rig_free(Rig *r)
{
    machine_free(r->m);
    free(r);
}

static uint8_t cmos_read(Rig *r, uint8_t idx)
{
    iospace_write(r->m->io, 0x70, idx, 1);
    return (uint8_t)iospace_read(r->m->io, 0x71, 1);
}

static void cmos_write(Rig *r, uint8_t idx, uint8_t v)
{
    iospace_write(r->m->io, 0x70, idx, 1);
    iospace_write(r->m->io, 0x71, v, 1);
}

static void advance(Rig *r, int64_t ns) { clock_advance(r->m->clock, ns); }

START_TEST(time_in_bcd)
{
    Rig *r = rig_new(T_SUNDAY_AFTERNOON);
    ck_assert_uint_eq(cmos_read(r, 0x0b), 0x02);  /* 24 h, BCD */
    ck_assert_uint_eq(cmos_read(r, 0x00), 0x30);
    ck_assert_uint_eq(cmos_read(r, 0x02), 0x45);
    ck_assert_uint_eq(cmos_read(r, 0x04), 0x13);
    ck_assert_uint_eq(cmos_read(r, 0x06), 0x01);  /* Sunday */
    ck_assert_uint_eq(cmos_read(r, 0x07), 0x14);
    ck_assert_uint_eq(cmos_read(r, 0x08), 0x03);
    ck_assert_uint_eq(cmos_read(r, 0x09), 0x21);
    ck_assert_uint_eq(cmos_read(r, 0x32), 0x20);  /* century */
    advance(r, 10 * NS_PER_SEC);
    ck_assert_uint_eq(cmos_read(r, 0x00), 0x40);
    rig_free(r);
}
END_TEST

START_TEST(time_in_binary_and_12_hour)
{
    Rig *r = rig_new(T_SUNDAY_AFTERNOON);
    cmos_write(r, 0x0b, 0x06);                    /* 24 h, binary */
    ck_assert_uint_eq(cmos_read(r, 0x00), 30);
    ck_assert_uint_eq(cmos_read(r, 0x02), 45);
    ck_assert_uint_eq(cmos_read(r, 0x04), 13);
    ck_assert_uint_eq(cmos_read(r, 0x07), 14);
    ck_assert_uint_eq(cmos_read(r, 0x09), 21);
    cmos_write(r, 0x0b, 0x00);                    /* 12 h, BCD: 1 PM */
    ck_assert_uint_eq(cmos_read(r, 0x04), 0x81);
    cmos_write(r, 0x0b, 0x04);                    /* 12 h, binary */
    ck_assert_uint_eq(cmos_read(r, 0x04), 0x81);
    rig_free(r);

    r = rig_new(T_AFTER_MIDNIGHT);
    cmos_write(r, 0x0b, 0x00);
    ck_assert_uint_eq(cmos_read(r, 0x04), 0x12);  /* 12 AM */
    ck_assert_uint_eq(cmos_read(r, 0x02), 0x15);
    rig_free(r);
}
END_TEST

START_TEST(calendar_rollover)
{
    Rig *r = rig_new(T_NEW_YEARS_EVE);
    ck_assert_uint_eq(cmos_read(r, 0x00), 0x59);
    advance(r, NS_PER_SEC);
    ck_assert_uint_eq(cmos_read(r, 0x00), 0x00);
    ck_assert_uint_eq(cmos_read(r, 0x02), 0x00);
    ck_assert_uint_eq(cmos_read(r, 0x04), 0x00);
    ck_assert_uint_eq(cmos_read(r, 0x06), 0x07);  /* Saturday */
    ck_assert_uint_eq(cmos_read(r, 0x07), 0x01);
    ck_assert_uint_eq(cmos_read(r, 0x08), 0x01);
    ck_assert_uint_eq(cmos_read(r, 0x09), 0x22);
    rig_free(r);
}
END_TEST

START_TEST(periodic_interrupt_rate_6)
{
    Rig *r = rig_new(T_SUNDAY_AFTERNOON);
    ck_assert_uint_eq(cmos_read(r, 0x0a), 0x26);
    cmos_write(r, 0x0b, 0x42);                    /* PIE */
    /* 1024 Hz: the first tick 976562.5 ns after the divider phase. */
    advance(r, 976562);
    ck_assert_int_eq(r->pin.level, 0);
    advance(r, 1);
    ck_assert_int_eq(r->pin.level, 1);
    ck_assert_uint_eq(cmos_read(r, 0x0c), 0xc0);  /* IRQF | PF */
    ck_assert_int_eq(r->pin.level, 0);
    ck_assert_uint_eq(cmos_read(r, 0x0c), 0x00);  /* read cleared it */
    /* An interrupt handler reading C each time sees 1024 per second
     * (one update-ended flag rides along at the second boundary). */
    int64_t start = clock_now(r->m->clock);
    int rises = r->pin.rises;
    while (clock_now(r->m->clock) < start + NS_PER_SEC) {
        advance(r, 100000);
        if (r->pin.level)
            cmos_read(r, 0x0c);
    }
    ck_assert_int_eq(r->pin.rises - rises, 1024);
    rig_free(r);
}
END_TEST

START_TEST(periodic_rates_3_and_15)
{
    Rig *r = rig_new(T_SUNDAY_AFTERNOON);
    cmos_write(r, 0x0a, 0x2f);                    /* 500 ms */
    cmos_write(r, 0x0b, 0x42);
    advance(r, 500 * MS - 1);
    ck_assert_int_eq(r->pin.level, 0);
    advance(r, 1);
    ck_assert_int_eq(r->pin.level, 1);
    cmos_read(r, 0x0c);
    cmos_write(r, 0x0a, 0x23);                    /* 122.0703125 us */
    int64_t t = clock_now(r->m->clock);
    advance(r, 122070);
    ck_assert_int_eq(r->pin.level, 0);
    advance(r, 1);
    ck_assert_int_eq(r->pin.level, 1);
    ck_assert_int_eq(r->pin.last_rise, t + 122071);   /* ceil(1e9 / 8192) */
    /* Rate 0: no periodic interrupt. */
    cmos_read(r, 0x0c);
    cmos_write(r, 0x0a, 0x20);
    advance(r, 10 * MS);
    ck_assert_uint_eq(cmos_read(r, 0x0c) & 0x40, 0);
    rig_free(r);
}
END_TEST

START_TEST(pf_set_without_pie)
{
    Rig *r = rig_new(T_SUNDAY_AFTERNOON);
    advance(r, 1 * MS);
    ck_assert_int_eq(r->pin.level, 0);
    ck_assert_uint_eq(cmos_read(r, 0x0c), 0x40);  /* PF, but no IRQF */
    /* Enabling PIE with PF pending raises IRQF at once. */
    advance(r, 1 * MS);
    cmos_write(r, 0x0b, 0x42);
    ck_assert_int_eq(r->pin.level, 1);
    ck_assert_uint_eq(cmos_read(r, 0x0c), 0xc0);
    rig_free(r);
}
END_TEST

START_TEST(update_ended_interrupt_each_second)
{
    Rig *r = rig_new(T_SUNDAY_AFTERNOON);
    cmos_write(r, 0x0a, 0x20);                    /* no periodic flag noise */
    cmos_write(r, 0x0b, 0x12);                    /* UIE */
    advance(r, NS_PER_SEC - 1);
    ck_assert_int_eq(r->pin.level, 0);
    advance(r, 1);
    ck_assert_int_eq(r->pin.level, 1);
    ck_assert_uint_eq(cmos_read(r, 0x0c), 0x90);  /* IRQF | UF */
    ck_assert_uint_eq(cmos_read(r, 0x00), 0x31);
    for (int i = 0; i < 4; i++) {
        advance(r, NS_PER_SEC);
        ck_assert_uint_eq(cmos_read(r, 0x0c), 0x90);
    }
    ck_assert_int_eq(r->pin.rises, 5);
    rig_free(r);
}
END_TEST

START_TEST(alarm_fires_at_match)
{
    Rig *r = rig_new(T_SUNDAY_AFTERNOON);
    cmos_write(r, 0x0a, 0x20);
    cmos_write(r, 0x01, 0x35);                    /* 13:45:35 */
    cmos_write(r, 0x03, 0x45);
    cmos_write(r, 0x05, 0x13);
    cmos_write(r, 0x0b, 0x22);                    /* AIE */
    advance(r, 4 * NS_PER_SEC);
    ck_assert_int_eq(r->pin.level, 0);
    ck_assert_uint_eq(cmos_read(r, 0x0c), 0x10);  /* UF only */
    advance(r, NS_PER_SEC);
    ck_assert_int_eq(r->pin.level, 1);
    ck_assert_uint_eq(cmos_read(r, 0x0c), 0xb0);  /* IRQF | AF | UF */
    advance(r, NS_PER_SEC);
    ck_assert_uint_eq(cmos_read(r, 0x0c), 0x10);
    rig_free(r);
}
END_TEST

START_TEST(alarm_dont_care_values)
{
    Rig *r = rig_new(T_SUNDAY_AFTERNOON);
    cmos_write(r, 0x0a, 0x20);
    cmos_write(r, 0x01, 0x00);                    /* second 00 of ... */
    cmos_write(r, 0x03, 0xc0);                    /* any minute */
    cmos_write(r, 0x05, 0xff);                    /* any hour */
    cmos_write(r, 0x0b, 0x22);
    advance(r, 29 * NS_PER_SEC);
    ck_assert_int_eq(r->pin.level, 0);
    advance(r, NS_PER_SEC);                       /* 13:46:00 */
    ck_assert_int_eq(r->pin.level, 1);
    cmos_read(r, 0x0c);
    advance(r, 60 * NS_PER_SEC);                  /* 13:47:00 */
    ck_assert_int_eq(r->pin.rises, 2);
    /* All three "don't care": once a second. */
    cmos_write(r, 0x01, 0xc0);
    cmos_read(r, 0x0c);
    advance(r, NS_PER_SEC);
    ck_assert_uint_eq(cmos_read(r, 0x0c), 0xb0);
    rig_free(r);
}
END_TEST

START_TEST(uip_before_update)
{
    Rig *r = rig_new(T_SUNDAY_AFTERNOON);
    advance(r, NS_PER_SEC - 244141 - 1);
    ck_assert_uint_eq(cmos_read(r, 0x0a), 0x26);
    ck_assert_uint_eq(cmos_read(r, 0x00), 0x30);
    advance(r, 1);
    ck_assert_uint_eq(cmos_read(r, 0x0a), 0xa6);  /* UIP */
    advance(r, 244141);
    ck_assert_uint_eq(cmos_read(r, 0x0a), 0x26);
    ck_assert_uint_eq(cmos_read(r, 0x00), 0x31);
    /* SET stops updates and clears UIP. */
    advance(r, NS_PER_SEC - 100000);
    cmos_write(r, 0x0b, 0x82);
    ck_assert_uint_eq(cmos_read(r, 0x0a) & 0x80, 0);
    rig_free(r);
}
END_TEST

START_TEST(set_bit_halts_and_sets_clock)
{
    Rig *r = rig_new(T_SUNDAY_AFTERNOON);
    cmos_write(r, 0x0b, 0x92);                    /* SET | UIE */
    ck_assert_uint_eq(cmos_read(r, 0x0b), 0x82);  /* SET clears UIE */
    cmos_write(r, 0x00, 0x00);
    cmos_write(r, 0x02, 0x30);
    cmos_write(r, 0x04, 0x08);
    cmos_write(r, 0x07, 0x01);
    cmos_write(r, 0x08, 0x06);
    cmos_write(r, 0x09, 0x25);
    advance(r, 3 * NS_PER_SEC);
    ck_assert_uint_eq(cmos_read(r, 0x00), 0x00);  /* halted */
    ck_assert_uint_eq(cmos_read(r, 0x0c) & 0x10, 0);      /* no update cycles */
    cmos_write(r, 0x0b, 0x02);
    ck_assert_uint_eq(cmos_read(r, 0x02), 0x30);
    advance(r, NS_PER_SEC);
    ck_assert_uint_eq(cmos_read(r, 0x00), 0x01);
    ck_assert_uint_eq(cmos_read(r, 0x04), 0x08);
    ck_assert_uint_eq(cmos_read(r, 0x07), 0x01);
    ck_assert_uint_eq(cmos_read(r, 0x08), 0x06);
    ck_assert_uint_eq(cmos_read(r, 0x09), 0x25);
    ck_assert_uint_eq(cmos_read(r, 0x06), 0x01);  /* 2025-06-01 is a Sunday */
    /* A single field written while running. */
    cmos_write(r, 0x02, 0x59);
    ck_assert_uint_eq(cmos_read(r, 0x02), 0x59);
    ck_assert_uint_eq(cmos_read(r, 0x04), 0x08);
    rig_free(r);
}
END_TEST

START_TEST(divider_reset_delays_first_update)
{
    Rig *r = rig_new(T_SUNDAY_AFTERNOON);
    cmos_write(r, 0x0a, 0x70);                    /* divider in reset */
    advance(r, 5 * NS_PER_SEC);
    ck_assert_uint_eq(cmos_read(r, 0x00), 0x30);
    cmos_write(r, 0x0a, 0x26);
    advance(r, 500 * MS - 1);
    ck_assert_uint_eq(cmos_read(r, 0x00), 0x30);
    advance(r, 1);
    ck_assert_uint_eq(cmos_read(r, 0x00), 0x31);
    rig_free(r);
}
END_TEST

START_TEST(register_d_nmi_mask_and_cmos_ram)
{
    Rig *r = rig_new(T_SUNDAY_AFTERNOON);
    ck_assert(!mc146818_nmi_masked(r->rtc));
    iospace_write(r->m->io, 0x70, 0x8d, 1);       /* NMI off, register D */
    ck_assert(mc146818_nmi_masked(r->rtc));
    ck_assert_uint_eq(iospace_read(r->m->io, 0x71, 1), 0x80);     /* VRT */
    iospace_write(r->m->io, 0x71, 0x00, 1);       /* read-only */
    ck_assert_uint_eq(iospace_read(r->m->io, 0x71, 1), 0x80);
    cmos_write(r, 0x40, 0x5a);
    ck_assert(!mc146818_nmi_masked(r->rtc));
    ck_assert_uint_eq(cmos_read(r, 0x40), 0x5a);
    ck_assert_uint_eq(cmos_read(r, 0x7f), 0x00);
    rig_free(r);
}
END_TEST

START_TEST(memory_size_layout)
{
    Rig *r = rig_new(T_SUNDAY_AFTERNOON);
    mc146818_set_memory_size(r->rtc, 128ULL << 20, 2ULL << 30);
    ck_assert_uint_eq(cmos_read(r, 0x15), 0x80);  /* 640 KiB = 0x0280 */
    ck_assert_uint_eq(cmos_read(r, 0x16), 0x02);
    ck_assert_uint_eq(cmos_read(r, 0x17), 0xff);  /* 127 MiB: capped */
    ck_assert_uint_eq(cmos_read(r, 0x18), 0xff);
    ck_assert_uint_eq(cmos_read(r, 0x30), 0xff);
    ck_assert_uint_eq(cmos_read(r, 0x31), 0xff);
    ck_assert_uint_eq(cmos_read(r, 0x34), 0x00);  /* 112 MiB / 64 KiB = 0x0700 */
    ck_assert_uint_eq(cmos_read(r, 0x35), 0x07);
    ck_assert_uint_eq(cmos_read(r, 0x5b), 0x00);  /* 2 GiB / 64 KiB = 0x008000 */
    ck_assert_uint_eq(cmos_read(r, 0x5c), 0x80);
    ck_assert_uint_eq(cmos_read(r, 0x5d), 0x00);
    /* Checksum of 0x10..0x2d: 0x80 + 0x02 + 0xff + 0xff = 0x0280. */
    ck_assert_uint_eq(cmos_read(r, 0x2e), 0x02);
    ck_assert_uint_eq(cmos_read(r, 0x2f), 0x80);
    mc146818_set_memory_size(r->rtc, 8ULL << 20, 0);
    ck_assert_uint_eq(cmos_read(r, 0x17), 0x00);  /* 7 MiB = 0x1c00 KiB */
    ck_assert_uint_eq(cmos_read(r, 0x18), 0x1c);
    ck_assert_uint_eq(cmos_read(r, 0x34), 0x00);
    ck_assert_uint_eq(cmos_read(r, 0x35), 0x00);
    ck_assert_uint_eq(cmos_read(r, 0x5c), 0x00);
    mc146818_set_cmos(r->rtc, 0x14, 0x06);
    ck_assert_uint_eq(mc146818_get_cmos(r->rtc, 0x14), 0x06);
    rig_free(r);
}
END_TEST

START_TEST(reset_clears_enables_and_flags)
{
    Rig *r = rig_new(T_SUNDAY_AFTERNOON);
    cmos_write(r, 0x0b, 0x7a);                    /* PIE AIE UIE SQWE 24h */
    advance(r, 2 * MS);
    ck_assert_int_eq(r->pin.level, 1);
    machine_reset_devices(r->m);
    ck_assert_int_eq(r->pin.level, 0);
    ck_assert_uint_eq(cmos_read(r, 0x0b), 0x02);
    ck_assert_uint_eq(cmos_read(r, 0x04), 0x13);  /* time survives */
    rig_free(r);
}
END_TEST

START_TEST(save_load_round_trip)
{
    Rig *a = rig_new(T_SUNDAY_AFTERNOON);
    cmos_write(a, 0x0b, 0x46);                    /* PIE, binary, 24 h */
    cmos_write(a, 0x50, 0xa5);
    advance(a, 3 * NS_PER_SEC + 300000);          /* mid-period */
    cmos_read(a, 0x0c);
    iospace_write(a->m->io, 0x70, 0x80 | 0x09, 1);
    VMBuf b;
    vmbuf_init(&b);
    machine_save_devices(a->m, &b);

    Rig *c = rig_new(0);
    advance(c, 3 * NS_PER_SEC + 300000);          /* the clock comes with the snapshot */
    char *err = NULL;
    ck_assert_int_eq(machine_load_devices(c->m, b.data, b.len, &err), 0);
    ck_assert(mc146818_nmi_masked(c->rtc));
    ck_assert_uint_eq(iospace_read(c->m->io, 0x71, 1), 21);      /* index 9: year */
    ck_assert_uint_eq(cmos_read(c, 0x00), 33);
    ck_assert_uint_eq(cmos_read(c, 0x50), 0xa5);
    ck_assert_uint_eq(cmos_read(c, 0x0b), 0x46);
    /* The periodic timer came back: 3 s is tick 3072, the next one is
     * 976562.5 ns later (rounded up to whole ns). */
    advance(c, 3 * NS_PER_SEC + 976563 - clock_now(c->m->clock) - 1);
    ck_assert_int_eq(c->pin.level, 0);
    advance(c, 1);
    ck_assert_int_eq(c->pin.level, 1);
    vmbuf_free(&b);
    rig_free(a);
    rig_free(c);
}
END_TEST

START_TEST(corrupt_stream_refused)
{
    Rig *a = rig_new(T_SUNDAY_AFTERNOON);
    VMBuf b;
    vmbuf_init(&b);
    machine_save_devices(a->m, &b);
    Rig *c = rig_new(T_SUNDAY_AFTERNOON);
    char *err = NULL;
    b.data[30] ^= 0x10;
    ck_assert_int_eq(machine_load_devices(c->m, b.data, b.len, &err), -1);
    ck_assert_ptr_nonnull(strstr(err, "checksum"));
    free(err);
    err = NULL;
    b.data[30] ^= 0x10;
    unit_stream_patch(&b, NULL, "index", 0, &(uint8_t){ 0x80 }, 1);
    ck_assert_int_eq(machine_load_devices(c->m, b.data, b.len, &err), -1);
    ck_assert_ptr_nonnull(strstr(err, "index"));
    free(err);
    err = NULL;
    unit_stream_patch(&b, NULL, "index", 0, &(uint8_t){ 0x00 }, 1);
    unit_stream_patch(&b, NULL, "irq_level", 0, &(uint8_t){ 1 }, 1);    /* IRQ high with C clear */
    ck_assert_int_eq(machine_load_devices(c->m, b.data, b.len, &err), -1);
    ck_assert_ptr_nonnull(strstr(err, "register C"));
    free(err);
    /* The refused device still works. */
    ck_assert_uint_eq(cmos_read(c, 0x0d), 0x80);
    vmbuf_free(&b);
    rig_free(a);
    rig_free(c);
}
END_TEST

static Suite *mc146818_suite(void)
{
    Suite *s = suite_create("mc146818");
    TCase *tc = tcase_create("core");
    tcase_add_test(tc, time_in_bcd);
    tcase_add_test(tc, time_in_binary_and_12_hour);
    tcase_add_test(tc, calendar_rollover);
    tcase_add_test(tc, periodic_interrupt_rate_6);
    tcase_add_test(tc, periodic_rates_3_and_15);
    tcase_add_test(tc, pf_set_without_pie);
    tcase_add_test(tc, update_ended_interrupt_each_second);
    tcase_add_test(tc, alarm_fires_at_match);
    tcase_add_test(tc, alarm_dont_care_values);
    tcase_add_test(tc, uip_before_update);
    tcase_add_test(tc, set_bit_halts_and_sets_clock);
    tcase_add_test(tc, divider_reset_delays_first_update);
    tcase_add_test(tc, register_d_nmi_mask_and_cmos_ram);
    tcase_add_test(tc, memory_size_layout);
    tcase_add_test(tc, reset_clears_enables_and_flags);
    tcase_add_test(tc, save_load_round_trip);
    tcase_add_test(tc, corrupt_stream_refused);
    suite_add_tcase(s, tc);
    return s;
}

UNIT_SUITE(mc146818_suite)
