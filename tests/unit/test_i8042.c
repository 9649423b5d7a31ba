/* i8042 keyboard controller through ports 0x60/0x64: controller commands,
 * status bits, IRQs, translation, A20 and reset. */
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "core/machine.h"
#include "hw/i8042.h"
#include "hw/port92.h"
#include "hw/ps2.h"
#include "tests/unit/unit.h"

typedef struct IrqRec {
    int level;
    int rises;
} IrqRec;

static void irq_record(void *opaque, int n, int level)
{
    IrqRec *r = opaque;
    if (level && !r->level)
        r->rises++;
    r->level = level;
}

typedef struct Rig {
    Machine *m;
    I8042State *kbc;
    IRQLine irq1, irq12;
    IrqRec rec1, rec12;
    IRQLine a20_line;
    int a20_calls;
    bool a20;
} Rig;

static void a20_record(void *opaque, int n, int level)
{
    Rig *r = opaque;
    r->a20_calls++;
    r->a20 = level;
}

static void rig_init(Rig *r)
{
    char err[128];
    memset(r, 0, sizeof(*r));
    r->m = machine_new(1 << 20, CLOCK_MANUAL, err, sizeof err);
    ck_assert_ptr_nonnull(r->m);
    irq_init(&r->irq1, irq_record, &r->rec1, 1);
    irq_init(&r->irq12, irq_record, &r->rec12, 12);
    irq_init(&r->a20_line, a20_record, r, 0);
    r->kbc = i8042_create(r->m, 0x60, 0x64, &r->irq1, &r->irq12, &r->a20_line);
    ck_assert_ptr_nonnull(r->kbc);
}

static void rig_free(Rig *r)
{
    machine_free(r->m);
}

static uint8_t status(Rig *r) { return (uint8_t)iospace_read(r->m->io, 0x64, 1); }
static void cmd(Rig *r, uint8_t v) { iospace_write(r->m->io, 0x64, v, 1); }
static void data(Rig *r, uint8_t v) { iospace_write(r->m->io, 0x60, v, 1); }

/* Reads one byte that must be waiting (OBF set). */
static uint8_t read_byte(Rig *r)
{
    ck_assert_msg(status(r) & 0x01, "output buffer empty");
    return (uint8_t)iospace_read(r->m->io, 0x60, 1);
}

/* Reads n bytes and compares them with the expected ones. */
static void expect(Rig *r, int n, ...)
{
    va_list ap;
    va_start(ap, n);
    for (int i = 0; i < n; i++) {
        int want = va_arg(ap, int);
        uint8_t got = read_byte(r);
        ck_assert_msg(got == want, "byte %d: got 0x%02x, want 0x%02x", i, got, want);
    }
    va_end(ap);
    ck_assert_msg(!(status(r) & 0x01), "more bytes than expected");
}

static void set_cmd_byte(Rig *r, uint8_t v)
{
    cmd(r, 0x60);
    data(r, v);
}

START_TEST(self_test_returns_55)
{
    Rig r;
    rig_init(&r);
    ck_assert_uint_eq(status(&r) & 0x01, 0);
    cmd(&r, 0xaa);
    ck_assert_uint_eq(status(&r) & 0x01, 0x01);
    expect(&r, 1, 0x55);
    rig_free(&r);
}
END_TEST

START_TEST(interface_tests_pass)
{
    Rig r;
    rig_init(&r);
    cmd(&r, 0xab);
    expect(&r, 1, 0x00);
    cmd(&r, 0xa9);
    expect(&r, 1, 0x00);
    rig_free(&r);
}
END_TEST

START_TEST(command_byte_read_write_and_sys_flag)
{
    Rig r;
    rig_init(&r);
    set_cmd_byte(&r, 0x03);
    cmd(&r, 0x20);
    expect(&r, 1, 0x03);
    ck_assert_uint_eq(status(&r) & 0x04, 0);        /* SYS follows bit 2 */
    set_cmd_byte(&r, 0x47);
    cmd(&r, 0x20);
    expect(&r, 1, 0x47);
    ck_assert_uint_eq(status(&r) & 0x04, 0x04);
    /* Other RAM bytes: 0x61 writes byte 1, 0x21 reads it. */
    cmd(&r, 0x61);
    data(&r, 0x9c);
    cmd(&r, 0x21);
    expect(&r, 1, 0x9c);
    rig_free(&r);
}
END_TEST

START_TEST(status_a2_tracks_last_port_written)
{
    Rig r;
    rig_init(&r);
    cmd(&r, 0xad);
    ck_assert_uint_eq(status(&r) & 0x08, 0x08);
    data(&r, 0xee);                                  /* to the keyboard */
    ck_assert_uint_eq(status(&r) & 0x08, 0);
    ck_assert_uint_eq(status(&r) & 0x02, 0);         /* IBF never stuck */
    rig_free(&r);
}
END_TEST

START_TEST(port_disable_enable_commands)
{
    Rig r;
    rig_init(&r);
    set_cmd_byte(&r, 0x00);
    cmd(&r, 0xad);
    cmd(&r, 0xa7);
    cmd(&r, 0x20);
    expect(&r, 1, 0x30);
    /* A key pressed while the keyboard port is off waits in the keyboard. */
    ps2_kbd_key_event(i8042_kbd(r.kbc), 0x1c, true);
    ck_assert_uint_eq(status(&r) & 0x01, 0);
    cmd(&r, 0xae);
    expect(&r, 1, 0x1c);
    /* Writing to the keyboard enables its interface again. */
    cmd(&r, 0xad);
    data(&r, 0xee);
    expect(&r, 1, 0xee);
    cmd(&r, 0x20);
    expect(&r, 1, 0x20);
    cmd(&r, 0xa8);
    cmd(&r, 0x20);
    expect(&r, 1, 0x00);
    rig_free(&r);
}
END_TEST

START_TEST(keyboard_reset_sequence)
{
    Rig r;
    rig_init(&r);
    set_cmd_byte(&r, 0x00);
    data(&r, 0xff);
    expect(&r, 2, 0xfa, 0xaa);
    /* Translated: ACK and BAT code pass through unchanged. */
    set_cmd_byte(&r, 0x40);
    data(&r, 0xff);
    expect(&r, 2, 0xfa, 0xaa);
    rig_free(&r);
}
END_TEST

START_TEST(identify_translated_and_not)
{
    Rig r;
    rig_init(&r);
    set_cmd_byte(&r, 0x00);
    data(&r, 0xf2);
    expect(&r, 3, 0xfa, 0xab, 0x83);
    set_cmd_byte(&r, 0x40);
    data(&r, 0xf2);
    expect(&r, 3, 0xfa, 0xab, 0x41);     /* what Linux calls "translated" */
    rig_free(&r);
}
END_TEST

START_TEST(translation_to_set1)
{
    Rig r;
    rig_init(&r);
    PS2Kbd *k = i8042_kbd(r.kbc);
    set_cmd_byte(&r, 0x40);
    ps2_kbd_key_event(k, 0x1c, true);     /* A */
    ps2_kbd_key_event(k, 0x1c, false);
    expect(&r, 2, 0x1e, 0x9e);
    ps2_kbd_key_event(k, 0xe075, true);   /* Up arrow */
    ps2_kbd_key_event(k, 0xe075, false);
    expect(&r, 4, 0xe0, 0x48, 0xe0, 0xc8);
    ps2_kbd_key_event(k, 0x83, false);    /* F7 release */
    expect(&r, 1, 0xc1);
    set_cmd_byte(&r, 0x00);               /* raw set 2 */
    ps2_kbd_key_event(k, 0x1c, true);
    ps2_kbd_key_event(k, 0x1c, false);
    expect(&r, 3, 0x1c, 0xf0, 0x1c);
    rig_free(&r);
}
END_TEST

START_TEST(d4_mouse_reset_response_with_auxb)
{
    Rig r;
    rig_init(&r);
    set_cmd_byte(&r, 0x00);
    cmd(&r, 0xd4);
    data(&r, 0xff);
    const uint8_t want[3] = { 0xfa, 0xaa, 0x00 };
    for (int i = 0; i < 3; i++) {
        ck_assert_uint_eq(status(&r) & 0x21, 0x21);     /* OBF + AUXB */
        ck_assert_uint_eq(read_byte(&r), want[i]);
    }
    ck_assert_uint_eq(status(&r) & 0x21, 0);
    rig_free(&r);
}
END_TEST

START_TEST(irq1_for_keyboard_data)
{
    Rig r;
    rig_init(&r);
    set_cmd_byte(&r, 0x00);               /* interrupts off */
    ps2_kbd_key_event(i8042_kbd(r.kbc), 0x1c, true);
    ck_assert_int_eq(r.rec1.level, 0);
    read_byte(&r);
    set_cmd_byte(&r, 0x01);
    ps2_kbd_key_event(i8042_kbd(r.kbc), 0x1c, false);   /* F0 1C */
    ck_assert_int_eq(r.rec1.level, 1);
    ck_assert_int_eq(r.rec12.level, 0);
    int rises = r.rec1.rises;
    ck_assert_uint_eq(read_byte(&r), 0xf0);
    ck_assert_int_eq(r.rec1.rises, rises + 1);          /* new edge for 1C */
    ck_assert_uint_eq(read_byte(&r), 0x1c);
    ck_assert_int_eq(r.rec1.level, 0);
    rig_free(&r);
}
END_TEST

START_TEST(irq12_for_mouse_data)
{
    Rig r;
    rig_init(&r);
    set_cmd_byte(&r, 0x02);               /* aux interrupt only */
    cmd(&r, 0xd4);
    data(&r, 0xf4);                       /* enable reporting: ACK */
    ck_assert_int_eq(r.rec12.level, 1);
    ck_assert_int_eq(r.rec1.level, 0);
    ck_assert_uint_eq(read_byte(&r), 0xfa);
    ck_assert_int_eq(r.rec12.level, 0);
    ps2_mouse_event(i8042_mouse(r.kbc), 1, 0, 0, 0);
    ck_assert_int_eq(r.rec12.level, 1);
    rig_free(&r);
}
END_TEST

START_TEST(d2_d3_write_output_buffer)
{
    Rig r;
    rig_init(&r);
    set_cmd_byte(&r, 0x00);
    cmd(&r, 0xd2);
    data(&r, 0x5a);
    ck_assert_uint_eq(status(&r) & 0x21, 0x01);
    expect(&r, 1, 0x5a);
    cmd(&r, 0xd3);                        /* Linux's AUX loop test */
    data(&r, 0x5a);
    ck_assert_uint_eq(status(&r) & 0x21, 0x21);
    expect(&r, 1, 0x5a);
    rig_free(&r);
}
END_TEST

START_TEST(pulse_fe_requests_reset)
{
    Rig r;
    rig_init(&r);
    r.m->state = RUN_RUNNING;
    cmd(&r, 0xff);                        /* pulses nothing */
    ck_assert_int_eq(r.m->state, RUN_RUNNING);
    cmd(&r, 0xfe);
    ck_assert_int_eq(r.m->state, RUN_RESET);
    rig_free(&r);
}
END_TEST

START_TEST(a20_through_output_port)
{
    Rig r;
    rig_init(&r);
    ck_assert(r.a20);                     /* on after reset */
    cmd(&r, 0xd0);
    uint8_t out = read_byte(&r);
    ck_assert_uint_eq(out & 0x03, 0x03);
    cmd(&r, 0xd1);
    data(&r, out & ~0x02);
    ck_assert(!r.a20);
    cmd(&r, 0xd0);
    ck_assert_uint_eq(read_byte(&r) & 0x02, 0);
    int calls = r.a20_calls;
    cmd(&r, 0xd1);
    data(&r, 0xdf);
    ck_assert(r.a20);
    ck_assert_int_eq(r.a20_calls, calls + 1);
    cmd(&r, 0xdd);                        /* A20 off shortcut */
    ck_assert(!r.a20);
    r.m->state = RUN_RUNNING;
    cmd(&r, 0xd1);
    data(&r, 0xde);                       /* bit 0 clear: CPU reset */
    ck_assert_int_eq(r.m->state, RUN_RESET);
    rig_free(&r);
}
END_TEST

START_TEST(a20_through_port92)
{
    Rig r;
    rig_init(&r);
    Port92State *p = port92_create(r.m, 0x92, &r.a20_line);
    ck_assert_ptr_nonnull(p);
    ck_assert(!r.a20);                    /* port 0x92 resets to gate off */
    iospace_write(r.m->io, 0x92, 0x02, 1);
    ck_assert(r.a20);
    ck_assert_uint_eq(iospace_read(r.m->io, 0x92, 1), 0x02);
    iospace_write(r.m->io, 0x92, 0x00, 1);
    ck_assert(!r.a20);
    rig_free(&r);
}
END_TEST

START_TEST(save_load_round_trip)
{
    Rig a, b;
    rig_init(&a);
    rig_init(&b);
    set_cmd_byte(&a, 0x03);               /* no translation, both IRQs */
    /* Mouse: wheel knock, so the ID must survive. */
    const uint8_t knock[] = { 0xf3, 200, 0xf3, 100, 0xf3, 80 };
    for (size_t i = 0; i < sizeof knock; i++) {
        cmd(&a, 0xd4);
        data(&a, knock[i]);
        read_byte(&a);
    }
    /* Three keyboard bytes queued, the first already in the buffer. */
    ps2_kbd_key_event(i8042_kbd(a.kbc), 0x1c, true);
    ps2_kbd_key_event(i8042_kbd(a.kbc), 0x1c, false);
    VMBuf buf;
    vmbuf_init(&buf);
    machine_save_devices(a.m, &buf);
    char *err = NULL;
    ck_assert_int_eq(machine_load_devices(b.m, buf.data, buf.len, &err), 0);
    ck_assert_int_eq(b.rec1.level, 1);    /* the line is driven again */
    expect(&b, 3, 0x1c, 0xf0, 0x1c);
    cmd(&b, 0x20);
    expect(&b, 1, 0x03);
    cmd(&b, 0xd4);
    data(&b, 0xf2);
    expect(&b, 2, 0xfa, 0x03);
    vmbuf_free(&buf);
    rig_free(&a);
    rig_free(&b);
}
END_TEST

START_TEST(corrupted_queue_count_rejected)
{
    Rig a;
    rig_init(&a);
    ps2_kbd_key_event(i8042_kbd(a.kbc), 0x1c, true);
    VMBuf buf;
    vmbuf_init(&buf);
    machine_save_devices(a.m, &buf);
    unit_stream_patch(&buf, "ps2-kbd", "count", 0, &(uint16_t){ 300 }, 2);
    char *err = NULL;
    ck_assert_int_eq(machine_load_devices(a.m, buf.data, buf.len, &err), -1);
    ck_assert_ptr_nonnull(err);
    ck_assert_ptr_nonnull(strstr(err, "ps2-kbd"));
    free(err);
    vmbuf_free(&buf);

    vmbuf_init(&buf);
    machine_save_devices(a.m, &buf);
    unit_stream_patch(&buf, "ps2-mouse", "head", 0, &(uint16_t){ 256 }, 2);
    err = NULL;
    ck_assert_int_eq(machine_load_devices(a.m, buf.data, buf.len, &err), -1);
    ck_assert_ptr_nonnull(strstr(err, "ps2-mouse"));
    free(err);
    vmbuf_free(&buf);
    /* Still usable afterwards. */
    cmd(&a, 0xaa);
    expect(&a, 1, 0x55);
    rig_free(&a);
}
END_TEST

static Suite *i8042_suite(void)
{
    Suite *s = suite_create("i8042");
    TCase *tc = tcase_create("controller");
    tcase_add_test(tc, self_test_returns_55);
    tcase_add_test(tc, interface_tests_pass);
    tcase_add_test(tc, command_byte_read_write_and_sys_flag);
    tcase_add_test(tc, status_a2_tracks_last_port_written);
    tcase_add_test(tc, port_disable_enable_commands);
    tcase_add_test(tc, keyboard_reset_sequence);
    tcase_add_test(tc, identify_translated_and_not);
    tcase_add_test(tc, translation_to_set1);
    tcase_add_test(tc, d4_mouse_reset_response_with_auxb);
    tcase_add_test(tc, irq1_for_keyboard_data);
    tcase_add_test(tc, irq12_for_mouse_data);
    tcase_add_test(tc, d2_d3_write_output_buffer);
    tcase_add_test(tc, pulse_fe_requests_reset);
    tcase_add_test(tc, a20_through_output_port);
    tcase_add_test(tc, save_load_round_trip);
    tcase_add_test(tc, corrupted_queue_count_rejected);
    tcase_add_test(tc, a20_through_port92);
    suite_add_tcase(s, tc);
    return s;
}
UNIT_SUITE(i8042_suite)
