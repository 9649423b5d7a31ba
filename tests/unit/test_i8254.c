/* i8254 PIT and port 0x61, driven through the IO ports on a manual clock.
 * Expected values come from the 82C54 datasheet's mode descriptions and
 * the 1.193182 MHz input clock: tick k falls at ceil(k * 1e9 / 1193182) ns. */
#include <stdlib.h>
#include <string.h>

#include "core/machine.h"
#include "core/util.h"
#include "hw/i8254.h"
#include "tests/unit/unit.h"

typedef struct Pin {
    VClock *clock;
    int level;
    int rises;
    int64_t last_rise, last_fall;
} Pin;

static void pin_handler(void *opaque, int n, int level)
{
    Pin *p = opaque;
    if (level && !p->level) {
        p->rises++;
        p->last_rise = clock_now(p->clock);
    } else if (!level && p->level) {
        p->last_fall = clock_now(p->clock);
    }
    p->level = level;
}

typedef struct Rig {
    Machine *m;
    PITState *pit;
    IRQLine irq0;
    Pin pin;
} Rig;

static Rig *rig_new(void)
{
    char err[128];
    Rig *r = xcalloc(1, sizeof(*r));
    r->m = machine_new(1 << 20, CLOCK_MANUAL, err, sizeof(err));
    ck_assert_ptr_nonnull(r->m);
    r->pin.clock = r->m->clock;
    irq_init(&r->irq0, pin_handler, &r->pin, 0);
    r->pit = i8254_create(r->m, 0x40, 0x61, &r->irq0);
    return r;
}

static void rig_free(Rig *r)
{
    machine_free(r->m);
    free(r);
}

static void out8(Rig *r, uint16_t port, uint8_t v) { iospace_write(r->m->io, port, v, 1); }
static uint8_t in8(Rig *r, uint16_t port) { return (uint8_t)iospace_read(r->m->io, port, 1); }
static void advance(Rig *r, int64_t ns) { clock_advance(r->m->clock, ns); }

/* ns of input tick k after the count was written. */
static int64_t tick_ns(uint64_t k)
{
    return (int64_t)((k * 1000000000ULL + 1193182 - 1) / 1193182);
}

static void write_count16(Rig *r, int ch, uint16_t n)
{
    out8(r, 0x40 + ch, n & 0xff);
    out8(r, 0x40 + ch, n >> 8);
}

static uint16_t read_count16(Rig *r, int ch)
{
    uint8_t lo = in8(r, 0x40 + ch);
    return (uint16_t)(lo | in8(r, 0x40 + ch) << 8);
}

/* Counter latch command (SC=ch, RW=00) then an LSB/MSB read. */
static uint16_t latch_and_read(Rig *r, int ch)
{
    out8(r, 0x43, (uint8_t)(ch << 6));
    return read_count16(r, ch);
}

START_TEST(mode2_count_follows_virtual_time)
{
    Rig *r = rig_new();
    out8(r, 0x43, 0x34);                  /* ch0, LSB+MSB, mode 2, binary */
    write_count16(r, 0, 0x1000);
    ck_assert_uint_eq(latch_and_read(r, 0), 0x1000);
    advance(r, 1000000);                  /* 1 ms = 1193.182 input clocks */
    ck_assert_uint_eq(latch_and_read(r, 0), 0x1000 - 1193);
    /* One full period later (4096 clocks) the count is where it was. */
    advance(r, tick_ns(1193 + 4096) - 1000000);
    ck_assert_uint_eq(latch_and_read(r, 0), 0x1000 - 1193);
    rig_free(r);
}
END_TEST

START_TEST(latch_holds_until_read)
{
    Rig *r = rig_new();
    out8(r, 0x43, 0x30);                  /* ch0 mode 0 */
    write_count16(r, 0, 0x2000);
    advance(r, tick_ns(0x100));
    out8(r, 0x43, 0x00);                  /* latch: 0x1f00 */
    advance(r, tick_ns(0x80));
    out8(r, 0x43, 0x00);                  /* ignored: previous latch unread */
    ck_assert_uint_eq(read_count16(r, 0), 0x1f00);
    /* Unlatched reads follow the counter again. */
    uint16_t live = read_count16(r, 0);
    ck_assert(live < 0x1f00 && live >= 0x1f00 - 0x81);
    rig_free(r);
}
END_TEST

START_TEST(readback_status_and_null_count)
{
    Rig *r = rig_new();
    out8(r, 0x43, 0x34);                  /* ch0 LSB+MSB mode 2 */
    out8(r, 0x43, 0xe2);                  /* read-back: status only, CNT0 */
    /* OUT high (mode 2 after control word), null count, RW=11, mode 010. */
    ck_assert_uint_eq(in8(r, 0x40), 0xf4);
    write_count16(r, 0, 1000);
    out8(r, 0x43, 0xe2);
    ck_assert_uint_eq(in8(r, 0x40), 0xb4);        /* count loaded: null count 0 */
    /* Half a count written: still null. */
    out8(r, 0x43, 0x30);
    out8(r, 0x40, 0x10);
    out8(r, 0x43, 0xe2);
    ck_assert_uint_eq(in8(r, 0x40), 0x70);        /* mode 0: OUT low, null */
    rig_free(r);
}
END_TEST

START_TEST(readback_count_and_status_two_channels)
{
    Rig *r = rig_new();
    out8(r, 0x43, 0x34);
    write_count16(r, 0, 1000);
    out8(r, 0x61, 0x01);                  /* gate 2 high */
    out8(r, 0x43, 0xb0);                  /* ch2 LSB+MSB mode 0 */
    write_count16(r, 2, 500);
    advance(r, tick_ns(100));
    out8(r, 0x43, 0xca);                  /* count + status, CNT2 and CNT0 */
    advance(r, tick_ns(50));              /* latched values do not move */
    ck_assert_uint_eq(in8(r, 0x40), 0xb4);        /* status first */
    ck_assert_uint_eq(read_count16(r, 0), 900);
    ck_assert_uint_eq(in8(r, 0x42), 0x30);        /* mode 0, OUT low, loaded */
    ck_assert_uint_eq(read_count16(r, 2), 400);
    rig_free(r);
}
END_TEST

START_TEST(mode0_irq0_rises_at_terminal_count)
{
    Rig *r = rig_new();
    out8(r, 0x43, 0x30);                  /* ch0 LSB+MSB mode 0 */
    write_count16(r, 0, 100);
    ck_assert_int_eq(r->pin.level, 0);
    advance(r, tick_ns(100) - 1);
    ck_assert_int_eq(r->pin.level, 0);
    out8(r, 0x43, 0xe2);
    ck_assert_uint_eq(in8(r, 0x40) & 0x80, 0);
    advance(r, 1);
    ck_assert_int_eq(r->pin.level, 1);
    ck_assert_int_eq(r->pin.last_rise, tick_ns(100));
    out8(r, 0x43, 0xe2);
    ck_assert_uint_eq(in8(r, 0x40) & 0x80, 0x80);
    /* OUT stays high; the counter keeps wrapping: 0xffff - 9 after 10 more. */
    advance(r, tick_ns(110) - tick_ns(100));
    ck_assert_uint_eq(latch_and_read(r, 0), 0x10000 - 10);
    ck_assert_int_eq(r->pin.rises, 1);
    /* A new count takes OUT low again. */
    write_count16(r, 0, 10);
    ck_assert_int_eq(r->pin.level, 0);
    rig_free(r);
}
END_TEST

START_TEST(mode2_periodic_irq0)
{
    Rig *r = rig_new();
    out8(r, 0x43, 0x34);
    write_count16(r, 0, 1193);            /* ~1 kHz */
    ck_assert_int_eq(r->pin.level, 1);    /* mode 2: OUT high from the control word */
    int base = r->pin.rises;
    advance(r, tick_ns(1192) - 1);
    ck_assert_int_eq(r->pin.level, 1);
    advance(r, 1);                        /* count reaches 1: OUT low for one clock */
    ck_assert_int_eq(r->pin.level, 0);
    ck_assert_int_eq(r->pin.last_fall, tick_ns(1192));
    advance(r, tick_ns(1193) - tick_ns(1192));
    ck_assert_int_eq(r->pin.level, 1);
    ck_assert_int_eq(r->pin.rises, base + 1);
    ck_assert_int_eq(r->pin.last_rise, tick_ns(1193));
    /* Ten periods in a little over 10 ms. */
    advance(r, tick_ns(11 * 1193) - tick_ns(1193));
    ck_assert_int_eq(r->pin.rises, base + 11);
    ck_assert_int_eq(r->pin.last_rise, tick_ns(11 * 1193));
    rig_free(r);
}
END_TEST

START_TEST(mode3_square_wave)
{
    Rig *r = rig_new();
    out8(r, 0x43, 0x36);                  /* ch0 LSB+MSB mode 3 */
    write_count16(r, 0, 1000);
    ck_assert_int_eq(r->pin.level, 1);
    advance(r, tick_ns(100));
    /* Even counts decrement by two. */
    ck_assert_uint_eq(latch_and_read(r, 0), 1000 - 200);
    advance(r, tick_ns(500) - tick_ns(100));
    ck_assert_int_eq(r->pin.level, 0);    /* second half: low */
    ck_assert_int_eq(r->pin.last_fall, tick_ns(500));
    advance(r, tick_ns(1000) - tick_ns(500));
    ck_assert_int_eq(r->pin.level, 1);
    ck_assert_int_eq(r->pin.last_rise, tick_ns(1000));
    /* Odd count 5: high for 3 clocks, low for 2. */
    out8(r, 0x43, 0x36);
    write_count16(r, 0, 5);
    int64_t t0 = clock_now(r->m->clock);
    advance(r, tick_ns(3) - 1);
    ck_assert_int_eq(r->pin.level, 1);
    out8(r, 0x43, 0xe2);                  /* status: OUT still high, mode 3 */
    ck_assert_uint_eq(in8(r, 0x40), 0xb6);
    advance(r, 1);
    ck_assert_int_eq(r->pin.level, 0);
    out8(r, 0x43, 0xe2);
    ck_assert_uint_eq(in8(r, 0x40), 0x36);
    advance(r, tick_ns(5) - tick_ns(3));
    ck_assert_int_eq(r->pin.level, 1);
    ck_assert_int_eq(r->pin.last_rise, t0 + tick_ns(5));
    rig_free(r);
}
END_TEST

START_TEST(channel2_gate_and_out2_via_port61)
{
    Rig *r = rig_new();
    ck_assert_uint_eq(in8(r, 0x61) & 0x01, 0);
    out8(r, 0x43, 0xb0);                  /* ch2 LSB+MSB mode 0 */
    write_count16(r, 2, 1000);
    advance(r, 1000000);
    /* GATE low: mode 0 does not count, OUT2 low. */
    ck_assert_uint_eq(latch_and_read(r, 2), 1000);
    ck_assert_uint_eq(in8(r, 0x61) & 0x20, 0);
    out8(r, 0x61, 0x01);
    ck_assert_uint_eq(in8(r, 0x61) & 0x03, 0x01);
    advance(r, tick_ns(300));
    /* Mode 0: GATE low suspends counting, high resumes where it stopped. */
    out8(r, 0x61, 0x00);
    advance(r, 5000000);
    ck_assert_uint_eq(latch_and_read(r, 2), 1000 - 300);
    out8(r, 0x61, 0x01);
    advance(r, tick_ns(699));
    ck_assert_uint_eq(in8(r, 0x61) & 0x20, 0);
    advance(r, tick_ns(700) - tick_ns(699));
    ck_assert_uint_eq(in8(r, 0x61) & 0x20, 0x20);
    /* Speaker tone: mode 3, gate and speaker data on. */
    out8(r, 0x43, 0xb6);
    write_count16(r, 2, 0x0533);
    out8(r, 0x61, 0x03);
    ck_assert_uint_eq(in8(r, 0x61) & 0x23, 0x23);
    advance(r, tick_ns(0x0533 / 2 + 1));
    ck_assert_uint_eq(in8(r, 0x61) & 0x20, 0);
    /* Gate low forces OUT high in mode 3. */
    out8(r, 0x61, 0x00);
    ck_assert_uint_eq(in8(r, 0x61) & 0x20, 0x20);
    ck_assert_int_eq(r->pin.rises, 0);    /* channel 2 never touches IRQ0 */
    rig_free(r);
}
END_TEST

START_TEST(mode1_one_shot_triggered_by_gate)
{
    Rig *r = rig_new();
    out8(r, 0x43, 0xb2);                  /* ch2 mode 1 */
    write_count16(r, 2, 10);
    out8(r, 0x43, 0xe8);                  /* status CNT2 */
    ck_assert_uint_eq(in8(r, 0x42), 0xf2);        /* OUT high, null until trigger */
    advance(r, 1000000);
    ck_assert_uint_eq(in8(r, 0x61) & 0x20, 0x20);
    out8(r, 0x61, 0x01);                  /* trigger */
    ck_assert_uint_eq(in8(r, 0x61) & 0x20, 0);
    advance(r, tick_ns(5));
    ck_assert_uint_eq(latch_and_read(r, 2), 5);
    out8(r, 0x61, 0x00);                  /* retrigger restarts the count */
    out8(r, 0x61, 0x01);
    advance(r, tick_ns(9));
    ck_assert_uint_eq(in8(r, 0x61) & 0x20, 0);
    advance(r, tick_ns(10) - tick_ns(9));
    ck_assert_uint_eq(in8(r, 0x61) & 0x20, 0x20);
    rig_free(r);
}
END_TEST

START_TEST(mode4_and_mode5_strobes)
{
    Rig *r = rig_new();
    out8(r, 0x43, 0x38);                  /* ch0 mode 4 */
    write_count16(r, 0, 50);
    ck_assert_int_eq(r->pin.level, 1);
    int rises = r->pin.rises;
    advance(r, tick_ns(50));
    ck_assert_int_eq(r->pin.level, 0);    /* one clock low at terminal count */
    advance(r, tick_ns(51) - tick_ns(50));
    ck_assert_int_eq(r->pin.level, 1);
    ck_assert_int_eq(r->pin.rises, rises + 1);
    advance(r, tick_ns(0x10000 + 60));    /* one strobe per count written */
    ck_assert_int_eq(r->pin.rises, rises + 1);

    out8(r, 0x43, 0xba);                  /* ch2 mode 5 */
    write_count16(r, 2, 20);
    advance(r, tick_ns(40));              /* no trigger: nothing happens */
    ck_assert_uint_eq(latch_and_read(r, 2), 20);
    out8(r, 0x61, 0x01);
    advance(r, tick_ns(20));
    ck_assert_uint_eq(in8(r, 0x61) & 0x20, 0);
    advance(r, tick_ns(21) - tick_ns(20));
    ck_assert_uint_eq(in8(r, 0x61) & 0x20, 0x20);
    rig_free(r);
}
END_TEST

START_TEST(bcd_counting)
{
    Rig *r = rig_new();
    out8(r, 0x43, 0x31);                  /* ch0 mode 0 BCD */
    write_count16(r, 0, 0x0100);          /* 100 decimal */
    advance(r, tick_ns(10));
    ck_assert_uint_eq(latch_and_read(r, 0), 0x0090);
    advance(r, tick_ns(100) - tick_ns(10));
    ck_assert_int_eq(r->pin.level, 1);    /* terminal count after 100, not 0x100 */
    /* 0 means 10^4 in BCD: one clock later the count reads 9999. */
    write_count16(r, 0, 0x0000);
    advance(r, tick_ns(1));
    ck_assert_uint_eq(latch_and_read(r, 0), 0x9999);
    rig_free(r);
}
END_TEST

START_TEST(lsb_only_msb_only_and_flip_flop)
{
    Rig *r = rig_new();
    out8(r, 0x43, 0x10);                  /* ch0 LSB only, mode 0 */
    out8(r, 0x40, 0x50);
    ck_assert_uint_eq(in8(r, 0x40), 0x50);
    ck_assert_uint_eq(in8(r, 0x40), 0x50);        /* no flip-flop */
    advance(r, tick_ns(0x50));
    ck_assert_int_eq(r->pin.level, 1);
    out8(r, 0x43, 0x20);                  /* MSB only */
    out8(r, 0x40, 0x02);
    ck_assert_uint_eq(in8(r, 0x40), 0x02);
    advance(r, tick_ns(0x1ff));
    ck_assert_int_eq(r->pin.level, 0);
    advance(r, tick_ns(0x200) - tick_ns(0x1ff));
    ck_assert_int_eq(r->pin.level, 1);
    /* LSB+MSB: a control word resets a half-done read. */
    out8(r, 0x43, 0x30);
    write_count16(r, 0, 0x1234);
    ck_assert_uint_eq(in8(r, 0x40), 0x34);
    out8(r, 0x43, 0x30);
    write_count16(r, 0, 0xabcd);
    ck_assert_uint_eq(read_count16(r, 0), 0xabcd);
    rig_free(r);
}
END_TEST

START_TEST(refresh_toggle_bit4)
{
    Rig *r = rig_new();
    uint8_t a = in8(r, 0x61) & 0x10;
    advance(r, 15000);
    uint8_t b = in8(r, 0x61) & 0x10;
    advance(r, 15000);
    uint8_t c = in8(r, 0x61) & 0x10;
    ck_assert_uint_ne(a, b);
    ck_assert_uint_eq(a, c);
    rig_free(r);
}
END_TEST

START_TEST(save_load_mid_count_continues)
{
    Rig *a = rig_new();
    out8(a, 0x43, 0x34);                  /* ch0 mode 2, N = 0x1000 */
    write_count16(a, 0, 0x1000);
    out8(a, 0x61, 0x01);
    out8(a, 0x43, 0xb0);                  /* ch2 mode 0, half way */
    write_count16(a, 2, 3000);
    advance(a, tick_ns(1500));
    out8(a, 0x43, 0x30 | 0x80);           /* ch2: a half-written count too */
    out8(a, 0x42, 0x34);
    VMBuf b;
    vmbuf_init(&b);
    machine_save_devices(a->m, &b);

    Rig *c = rig_new();
    advance(c, tick_ns(1500));            /* the clock comes with the snapshot */
    char *err = NULL;
    ck_assert_int_eq(machine_load_devices(c->m, b.data, b.len, &err), 0);
    ck_assert_uint_eq(latch_and_read(c, 0), 0x1000 - 1500);
    out8(c, 0x42, 0x12);                  /* completes the MSB: count 0x1234 */
    ck_assert_uint_eq(read_count16(c, 2), 0x1234);
    ck_assert_uint_eq(in8(c, 0x61) & 0x01, 0x01);
    /* IRQ0's timer was re-armed: the next period ends at tick 0x1000. */
    int rises = c->pin.rises;
    advance(c, tick_ns(0x1000) - tick_ns(1500));
    ck_assert_int_eq(c->pin.rises, rises + 1);
    ck_assert_int_eq(c->pin.last_rise, tick_ns(0x1000));
    vmbuf_free(&b);
    rig_free(a);
    rig_free(c);
}
END_TEST

START_TEST(corrupt_stream_refused)
{
    Rig *a = rig_new();
    out8(a, 0x43, 0x34);
    write_count16(a, 0, 100);
    VMBuf b;
    vmbuf_init(&b);
    machine_save_devices(a->m, &b);
    Rig *c = rig_new();
    char *err = NULL;
    b.data[b.len - 10] ^= 1;
    ck_assert_int_eq(machine_load_devices(c->m, b.data, b.len, &err), -1);
    free(err);
    err = NULL;
    b.data[b.len - 10] ^= 1;
    unit_stream_patch(&b, NULL, "mode", 1, &(uint8_t){ 7 }, 1);
    ck_assert_int_eq(machine_load_devices(c->m, b.data, b.len, &err), -1);
    ck_assert_ptr_nonnull(strstr(err, "channel 1: mode"));
    free(err);
    err = NULL;
    unit_stream_patch(&b, NULL, "mode", 1, &(uint8_t){ 0 }, 1);
    unit_stream_patch(&b, NULL, "rw_mode", 0, &(uint8_t){ 0 }, 1);
    ck_assert_int_eq(machine_load_devices(c->m, b.data, b.len, &err), -1);
    ck_assert_ptr_nonnull(strstr(err, "read/write mode"));
    free(err);
    /* The refused load left a working (reset) PIT behind. */
    out8(c, 0x43, 0x30);
    write_count16(c, 0, 5);
    advance(c, tick_ns(5));
    ck_assert_int_eq(c->pin.level, 1);
    vmbuf_free(&b);
    rig_free(a);
    rig_free(c);
}
END_TEST

static Suite *i8254_suite(void)
{
    Suite *s = suite_create("i8254");
    TCase *tc = tcase_create("core");
    tcase_add_test(tc, mode2_count_follows_virtual_time);
    tcase_add_test(tc, latch_holds_until_read);
    tcase_add_test(tc, readback_status_and_null_count);
    tcase_add_test(tc, readback_count_and_status_two_channels);
    tcase_add_test(tc, mode0_irq0_rises_at_terminal_count);
    tcase_add_test(tc, mode2_periodic_irq0);
    tcase_add_test(tc, mode3_square_wave);
    tcase_add_test(tc, channel2_gate_and_out2_via_port61);
    tcase_add_test(tc, mode1_one_shot_triggered_by_gate);
    tcase_add_test(tc, mode4_and_mode5_strobes);
    tcase_add_test(tc, bcd_counting);
    tcase_add_test(tc, lsb_only_msb_only_and_flip_flop);
    tcase_add_test(tc, refresh_toggle_bit4);
    tcase_add_test(tc, save_load_mid_count_continues);
    tcase_add_test(tc, corrupt_stream_refused);
    suite_add_tcase(s, tc);
    return s;
}

UNIT_SUITE(i8254_suite)
