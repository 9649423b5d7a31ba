/* PS/2 keyboard and mouse protocols, driven through the i8042's ports the
 * way a guest driver does (keyboard: bytes to 0x60; mouse: 0xD4 first). */
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "core/machine.h"
#include "hw/i8042.h"
#include "hw/ps2.h"
#include "tests/unit/unit.h"

typedef struct Rig {
    Machine *m;
    I8042State *kbc;
    PS2Kbd *kbd;
    PS2Mouse *mouse;
} Rig;

static void rig_init(Rig *r)
{
    char err[128];
    r->m = machine_new(1 << 20, CLOCK_MANUAL, err, sizeof err);
    ck_assert_ptr_nonnull(r->m);
    r->kbc = i8042_create(r->m, 0x60, 0x64, NULL, NULL, NULL);
    ck_assert_ptr_nonnull(r->kbc);
    r->kbd = i8042_kbd(r->kbc);
    r->mouse = i8042_mouse(r->kbc);
    /* Untranslated, both ports on, no IRQs: raw protocol bytes. */
    iospace_write(r->m->io, 0x64, 0x60, 1);
    iospace_write(r->m->io, 0x60, 0x00, 1);
}

static void rig_free(Rig *r)
{
    machine_free(r->m);
}

static void kbd_send(Rig *r, uint8_t v) { iospace_write(r->m->io, 0x60, v, 1); }

static void mouse_send(Rig *r, uint8_t v)
{
    iospace_write(r->m->io, 0x64, 0xd4, 1);
    iospace_write(r->m->io, 0x60, v, 1);
}

static void expect(Rig *r, int n, ...)
{
    va_list ap;
    va_start(ap, n);
    for (int i = 0; i < n; i++) {
        int want = va_arg(ap, int);
        ck_assert_msg(iospace_read(r->m->io, 0x64, 1) & 1, "byte %d missing", i);
        uint8_t got = (uint8_t)iospace_read(r->m->io, 0x60, 1);
        ck_assert_msg(got == want, "byte %d: got 0x%02x, want 0x%02x", i, got, want);
    }
    va_end(ap);
    ck_assert_msg(!(iospace_read(r->m->io, 0x64, 1) & 1), "more bytes than expected");
}

/* ---- keyboard ---- */

START_TEST(kbd_set_leds)
{
    Rig r;
    rig_init(&r);
    kbd_send(&r, 0xed);
    expect(&r, 1, 0xfa);
    kbd_send(&r, 0x05);
    expect(&r, 1, 0xfa);
    ck_assert_uint_eq(ps2_kbd_leds(r.kbd), 0x05);
    rig_free(&r);
}
END_TEST

START_TEST(kbd_scancode_set_get_and_set1_codes)
{
    Rig r;
    rig_init(&r);
    kbd_send(&r, 0xf0);
    kbd_send(&r, 0x00);
    expect(&r, 3, 0xfa, 0xfa, 0x02);             /* current set: 2 */
    kbd_send(&r, 0xf0);
    kbd_send(&r, 0x01);
    expect(&r, 2, 0xfa, 0xfa);
    ck_assert_int_eq(ps2_kbd_scancode_set(r.kbd), 1);
    ps2_kbd_key_event(r.kbd, 0x1c, true);       /* A in set 1 */
    ps2_kbd_key_event(r.kbd, 0x1c, false);
    ps2_kbd_key_event(r.kbd, 0xe014, true);     /* right Ctrl */
    expect(&r, 4, 0x1e, 0x9e, 0xe0, 0x1d);
    kbd_send(&r, 0xf0);
    kbd_send(&r, 0x03);                          /* set 3: not supported */
    expect(&r, 2, 0xfa, 0xfe);
    ck_assert_int_eq(ps2_kbd_scancode_set(r.kbd), 1);
    rig_free(&r);
}
END_TEST

START_TEST(kbd_echo_resend_unknown)
{
    Rig r;
    rig_init(&r);
    kbd_send(&r, 0xee);
    expect(&r, 1, 0xee);
    kbd_send(&r, 0xfe);                          /* resend the last byte */
    expect(&r, 1, 0xee);
    kbd_send(&r, 0x42);                          /* not a command */
    expect(&r, 1, 0xfe);
    rig_free(&r);
}
END_TEST

START_TEST(kbd_typematic_takes_parameter)
{
    Rig r;
    rig_init(&r);
    kbd_send(&r, 0xf3);
    kbd_send(&r, 0x20);
    expect(&r, 2, 0xfa, 0xfa);
    /* The parameter was not taken for a command: identify still works. */
    kbd_send(&r, 0xf2);
    expect(&r, 3, 0xfa, 0xab, 0x83);
    rig_free(&r);
}
END_TEST

START_TEST(kbd_disable_enable_scanning)
{
    Rig r;
    rig_init(&r);
    kbd_send(&r, 0xf5);
    expect(&r, 1, 0xfa);
    ps2_kbd_key_event(r.kbd, 0x1c, true);       /* dropped */
    expect(&r, 0);
    kbd_send(&r, 0xf4);
    expect(&r, 1, 0xfa);
    ps2_kbd_key_event(r.kbd, 0x1c, true);
    expect(&r, 1, 0x1c);
    rig_free(&r);
}
END_TEST

START_TEST(kbd_reset_restores_set2)
{
    Rig r;
    rig_init(&r);
    kbd_send(&r, 0xf0);
    kbd_send(&r, 0x01);
    expect(&r, 2, 0xfa, 0xfa);
    kbd_send(&r, 0xff);
    expect(&r, 2, 0xfa, 0xaa);
    ck_assert_int_eq(ps2_kbd_scancode_set(r.kbd), 2);
    ps2_kbd_key_event(r.kbd, 0xe075, false);    /* Up released, set 2 */
    expect(&r, 3, 0xe0, 0xf0, 0x75);
    rig_free(&r);
}
END_TEST

START_TEST(kbd_pause_key)
{
    Rig r;
    rig_init(&r);
    ps2_kbd_key_event(r.kbd, PS2_KEY_PAUSE, true);
    ps2_kbd_key_event(r.kbd, PS2_KEY_PAUSE, false);   /* no break code */
    expect(&r, 8, 0xe1, 0x14, 0x77, 0xe1, 0xf0, 0x14, 0xf0, 0x77);
    rig_free(&r);
}
END_TEST

/* ---- mouse ---- */

START_TEST(mouse_id_and_intellimouse_knock)
{
    Rig r;
    rig_init(&r);
    mouse_send(&r, 0xf2);
    expect(&r, 2, 0xfa, 0x00);
    const uint8_t rates[] = { 200, 100, 80 };
    for (int i = 0; i < 3; i++) {
        mouse_send(&r, 0xf3);
        mouse_send(&r, rates[i]);
        expect(&r, 2, 0xfa, 0xfa);
    }
    mouse_send(&r, 0xf2);
    expect(&r, 2, 0xfa, 0x03);
    /* Explorer knock on top: ID 4. */
    const uint8_t rates2[] = { 200, 200, 80 };
    for (int i = 0; i < 3; i++) {
        mouse_send(&r, 0xf3);
        mouse_send(&r, rates2[i]);
        expect(&r, 2, 0xfa, 0xfa);
    }
    mouse_send(&r, 0xf2);
    expect(&r, 2, 0xfa, 0x04);
    mouse_send(&r, 0xff);                       /* reset: back to ID 0 */
    expect(&r, 3, 0xfa, 0xaa, 0x00);
    ck_assert_uint_eq(ps2_mouse_id(r.mouse), 0);
    rig_free(&r);
}
END_TEST

START_TEST(mouse_stream_packet)
{
    Rig r;
    rig_init(&r);
    ps2_mouse_event(r.mouse, 5, 5, 0, 0);       /* reporting off: nothing */
    expect(&r, 0);
    mouse_send(&r, 0xf4);
    expect(&r, 1, 0xfa);
    /* 5 right, 3 up on screen, left button: Y is positive (up). */
    ps2_mouse_event(r.mouse, 5, -3, 0, PS2_BUTTON_LEFT);
    expect(&r, 3, 0x09, 0x05, 0x03);
    /* 2 left, 4 down, right + middle: both sign bits. */
    ps2_mouse_event(r.mouse, -2, 4, 0, PS2_BUTTON_RIGHT | PS2_BUTTON_MIDDLE);
    expect(&r, 3, 0x08 | 0x02 | 0x04 | 0x10 | 0x20, 0xfe, 0xfc);
    /* Button release alone is reported. */
    ps2_mouse_event(r.mouse, 0, 0, 0, 0);
    expect(&r, 3, 0x08, 0x00, 0x00);
    rig_free(&r);
}
END_TEST

START_TEST(mouse_wheel_packet_after_knock)
{
    Rig r;
    rig_init(&r);
    const uint8_t rates[] = { 200, 100, 80 };
    for (int i = 0; i < 3; i++) {
        mouse_send(&r, 0xf3);
        mouse_send(&r, rates[i]);
    }
    mouse_send(&r, 0xf4);
    expect(&r, 7, 0xfa, 0xfa, 0xfa, 0xfa, 0xfa, 0xfa, 0xfa);
    ps2_mouse_event(r.mouse, 0, 0, -1, 0);
    expect(&r, 4, 0x08, 0x00, 0x00, 0xff);
    rig_free(&r);
}
END_TEST

START_TEST(mouse_large_move_split)
{
    Rig r;
    rig_init(&r);
    mouse_send(&r, 0xf4);
    expect(&r, 1, 0xfa);
    ps2_mouse_event(r.mouse, 300, 0, 0, 0);
    expect(&r, 6, 0x08, 0xff, 0x00, 0x08, 45, 0x00);
    rig_free(&r);
}
END_TEST

START_TEST(mouse_remote_mode_read_data)
{
    Rig r;
    rig_init(&r);
    mouse_send(&r, 0xf0);                       /* remote mode */
    expect(&r, 1, 0xfa);
    ps2_mouse_event(r.mouse, 3, 0, 0, 0);
    ps2_mouse_event(r.mouse, 4, 0, 0, 0);
    expect(&r, 0);                              /* nothing unasked */
    mouse_send(&r, 0xeb);
    expect(&r, 4, 0xfa, 0x08, 7, 0x00);
    mouse_send(&r, 0xeb);                       /* counters were reset */
    expect(&r, 4, 0xfa, 0x08, 0, 0x00);
    rig_free(&r);
}
END_TEST

START_TEST(mouse_status_request)
{
    Rig r;
    rig_init(&r);
    mouse_send(&r, 0xf3);
    mouse_send(&r, 40);
    mouse_send(&r, 0xe8);
    mouse_send(&r, 3);
    mouse_send(&r, 0xe7);                       /* 2:1 scaling */
    mouse_send(&r, 0xf4);
    expect(&r, 6, 0xfa, 0xfa, 0xfa, 0xfa, 0xfa, 0xfa);
    ps2_mouse_event(r.mouse, 0, 0, 0, PS2_BUTTON_LEFT);
    expect(&r, 3, 0x09, 0, 0);
    mouse_send(&r, 0xe9);
    /* enabled(5) + scaling(4) + left(2); resolution 3; rate 40 */
    expect(&r, 4, 0xfa, 0x34, 0x03, 40);
    mouse_send(&r, 0xf3);
    mouse_send(&r, 33);                         /* not a valid rate */
    expect(&r, 2, 0xfa, 0xfe);
    rig_free(&r);
}
END_TEST

START_TEST(mouse_scaling_2to1)
{
    Rig r;
    rig_init(&r);
    mouse_send(&r, 0xe7);
    mouse_send(&r, 0xf4);
    expect(&r, 2, 0xfa, 0xfa);
    ps2_mouse_event(r.mouse, 4, 0, 0, 0);       /* 4 -> 6 */
    ps2_mouse_event(r.mouse, 10, 0, 0, 0);      /* >5 -> doubled */
    ps2_mouse_event(r.mouse, 2, 0, 0, 0);       /* 2 -> 1 */
    expect(&r, 9, 0x08, 6, 0, 0x08, 20, 0, 0x08, 1, 0);
    rig_free(&r);
}
END_TEST

START_TEST(mouse_wrap_mode_echoes)
{
    Rig r;
    rig_init(&r);
    mouse_send(&r, 0xee);
    expect(&r, 1, 0xfa);
    mouse_send(&r, 0x12);
    mouse_send(&r, 0xf4);                       /* echoed, not obeyed */
    expect(&r, 2, 0x12, 0xf4);
    mouse_send(&r, 0xec);
    expect(&r, 1, 0xfa);
    mouse_send(&r, 0xf2);
    expect(&r, 2, 0xfa, 0x00);
    rig_free(&r);
}
END_TEST

static Suite *ps2_suite(void)
{
    Suite *s = suite_create("ps2");
    TCase *tk = tcase_create("keyboard");
    tcase_add_test(tk, kbd_set_leds);
    tcase_add_test(tk, kbd_scancode_set_get_and_set1_codes);
    tcase_add_test(tk, kbd_echo_resend_unknown);
    tcase_add_test(tk, kbd_typematic_takes_parameter);
    tcase_add_test(tk, kbd_disable_enable_scanning);
    tcase_add_test(tk, kbd_reset_restores_set2);
    tcase_add_test(tk, kbd_pause_key);
    suite_add_tcase(s, tk);
    TCase *tm = tcase_create("mouse");
    tcase_add_test(tm, mouse_id_and_intellimouse_knock);
    tcase_add_test(tm, mouse_stream_packet);
    tcase_add_test(tm, mouse_wheel_packet_after_knock);
    tcase_add_test(tm, mouse_large_move_split);
    tcase_add_test(tm, mouse_remote_mode_read_data);
    tcase_add_test(tm, mouse_status_request);
    tcase_add_test(tm, mouse_scaling_2to1);
    tcase_add_test(tm, mouse_wrap_mode_echoes);
    suite_add_tcase(s, tm);
    return s;
}
UNIT_SUITE(ps2_suite)
