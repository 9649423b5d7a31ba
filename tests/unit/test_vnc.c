/*
 * The VNC server's own parsing: -vnc (core/options.c) and what a client's
 * input becomes (ui/vnc-input.c).  Expected values: QEMU's documented -vnc
 * syntax (port 5900 + display, WebSocket 5700 + display), X11's keysym
 * values (X11/keysymdef.h, not vx86's numbers), the PC key of each keysym
 * as the monitor's sendkey table (QEMU's key names) has it, and the RFB
 * pointer button mask of RFC 6143 (bit 0 left, 1 middle, 2 right, 3/4 a
 * wheel step up/down).
 */
#include <stdarg.h>
#include <string.h>

#include <X11/keysym.h>

#include "core/monitor.h"
#include "core/options.h"
#include "tests/unit/unit.h"
#include "ui/vnc-input.h"

/* ---- -vnc ---- */

static VMOptions o;
static char err[512];

static int parse(const char *first, ...)
{
    char *argv[16] = { "vx86" };
    int argc = 1;
    va_list ap;
    va_start(ap, first);
    for (const char *a = first; a && argc < 15; a = va_arg(ap, const char *))
        argv[argc++] = (char *)a;
    va_end(ap);
    options_free(&o);
    options_init(&o);
    err[0] = 0;
    return options_parse(&o, argc, argv, err, sizeof err);
}

START_TEST(vnc_display_numbers)
{
    ck_assert_int_eq(parse("-vnc", ":1", NULL), 0);
    ck_assert(o.vnc.enabled);
    ck_assert_ptr_null(o.vnc.host);
    ck_assert_int_eq(o.vnc.display, 1);
    ck_assert_int_eq(o.vnc.ws_port, 0);
    ck_assert(!o.vnc.password);
    ck_assert_int_eq(parse("-vnc", "localhost:7", NULL), 0);
    ck_assert_str_eq(o.vnc.host, "localhost");
    ck_assert_int_eq(o.vnc.display, 7);
    ck_assert_int_eq(parse("-vnc", "[::1]:3", NULL), 0);
    ck_assert_str_eq(o.vnc.host, "::1");
    ck_assert_int_eq(parse("-vnc", "vnc=:2", NULL), 0);   /* QEMU's key spelled out */
    ck_assert_int_eq(o.vnc.display, 2);
    /* The highest display still has a port. */
    ck_assert_int_eq(parse("-vnc", ":59635", NULL), 0);
    ck_assert_int_ne(parse("-vnc", ":59636", NULL), 0);
    ck_assert(!o.vnc.enabled);
}
END_TEST

START_TEST(vnc_websocket_and_password)
{
    ck_assert_int_eq(parse("-vnc", ":3,websocket=on", NULL), 0);
    ck_assert_int_eq(o.vnc.ws_port, 5703);
    ck_assert_int_eq(parse("-vnc", ":3,websocket", NULL), 0);      /* bare: on */
    ck_assert_int_eq(o.vnc.ws_port, 5703);
    ck_assert_int_eq(parse("-vnc", ":3,websocket=6080", NULL), 0);
    ck_assert_int_eq(o.vnc.ws_port, 6080);
    ck_assert_ptr_null(o.vnc.ws_host);
    ck_assert_int_eq(parse("-vnc", ":3,websocket=127.0.0.1:6081", NULL), 0);
    ck_assert_str_eq(o.vnc.ws_host, "127.0.0.1");
    ck_assert_int_eq(o.vnc.ws_port, 6081);
    ck_assert_int_eq(parse("-vnc", ":3,websocket=off", NULL), 0);
    ck_assert_int_eq(o.vnc.ws_port, 0);
    ck_assert_int_eq(parse("-vnc", ":0,password=on", NULL), 0);
    ck_assert(o.vnc.password);
    ck_assert_int_eq(parse("-vnc", ":0,password", NULL), 0);
    ck_assert(o.vnc.password);
    ck_assert_int_eq(parse("-vnc", ":0,to=5", NULL), 0);
    ck_assert_int_eq(o.vnc.display_to, 5);
}
END_TEST

START_TEST(vnc_unix_none_and_display_alias)
{
    ck_assert_int_eq(parse("-vnc", "unix:/tmp/a,,b.sock", NULL), 0);   /* ",," is a comma */
    ck_assert_str_eq(o.vnc.unix_path, "/tmp/a,b.sock");
    ck_assert_int_eq(parse("-vnc", ":1", "-vnc", "none", NULL), 0);
    ck_assert(!o.vnc.enabled);
    ck_assert_int_eq(parse("-display", "vnc=:4", NULL), 0);
    ck_assert(o.vnc.enabled);
    ck_assert_int_eq(o.vnc.display, 4);
    ck_assert_int_eq(o.display, DISPLAY_NONE);
}
END_TEST

START_TEST(vnc_bad_options_say_why)
{
    static const char *const bad[] = {
        "", "1", "foo", ":", ":x", ":-1", "host", "[::1:2", "unix:", ":1,bogus=on",
        ":1,websocket=0", ":1,websocket=65536", ":1,websocket=x", ":1,password=maybe",
        ":5,to=4", "unix:/x,websocket=on", "unix:/x,to=3", ":1,,", ":1,=x",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        ck_assert_msg(parse("-vnc", bad[i], NULL) < 0, "-vnc '%s' accepted", bad[i]);
        ck_assert_msg(!strncmp(err, "-vnc", 4), "-vnc '%s': error '%s'", bad[i], err);
        ck_assert_msg(!strchr(err, '\n'), "-vnc '%s': error on two lines", bad[i]);
        ck_assert(!o.vnc.enabled);
    }
}
END_TEST

/* ---- keys ---- */

typedef struct Events {
    int key[64];
    bool down[64];
    int nkeys;
    int dx, dy, dz, nmouse;
    unsigned buttons;
} Events;

static void on_key(void *opaque, int keycode, bool down)
{
    Events *e = opaque;
    if (e->nkeys < 64) {
        e->key[e->nkeys] = keycode;
        e->down[e->nkeys++] = down;
    }
}

static void on_mouse(void *opaque, int dx, int dy, int dz, unsigned buttons)
{
    Events *e = opaque;
    e->dx += dx;
    e->dy += dy;
    e->dz += dz;
    e->buttons = buttons;
    e->nmouse++;
}

static void vi_init(VncInput *vi, Events *e)
{
    memset(e, 0, sizeof(*e));
    DisplayInput in = { .key = on_key, .mouse = on_mouse, .opaque = e };
    vnc_input_init(vi, &in);
}

START_TEST(keysyms_are_the_keys_qemu_names)
{
    /* X11's keysym, QEMU's name of the PC key that makes it. */
    static const struct { unsigned keysym; const char *qemu; } pairs[] = {
        { XK_a, "a" }, { XK_A, "a" }, { XK_z, "z" }, { XK_Q, "q" },
        { XK_1, "1" }, { XK_exclam, "1" }, { XK_0, "0" }, { XK_parenright, "0" },
        { XK_at, "2" }, { XK_asciicircum, "6" }, { XK_underscore, "minus" },
        { XK_plus, "equal" }, { XK_braceleft, "bracket_left" },
        { XK_bracketright, "bracket_right" }, { XK_bar, "backslash" },
        { XK_colon, "semicolon" }, { XK_quotedbl, "apostrophe" },
        { XK_asciitilde, "grave_accent" }, { XK_less, "comma" }, { XK_greater, "dot" },
        { XK_question, "slash" }, { XK_space, "spc" },
        { XK_Return, "ret" }, { XK_BackSpace, "backspace" }, { XK_Tab, "tab" },
        { XK_Escape, "esc" }, { XK_Delete, "delete" }, { XK_Insert, "insert" },
        { XK_Home, "home" }, { XK_End, "end" }, { XK_Prior, "pgup" }, { XK_Next, "pgdn" },
        { XK_Left, "left" }, { XK_Right, "right" }, { XK_Up, "up" }, { XK_Down, "down" },
        { XK_F1, "f1" }, { XK_F7, "f7" }, { XK_F10, "f10" }, { XK_F12, "f12" },
        { XK_Shift_L, "shift" }, { XK_Shift_R, "shift_r" }, { XK_Control_L, "ctrl" },
        { XK_Control_R, "ctrl_r" }, { XK_Alt_L, "alt" }, { XK_Alt_R, "alt_r" },
        { XK_Super_L, "meta_l" }, { XK_Super_R, "meta_r" }, { XK_Menu, "menu" },
        { XK_Caps_Lock, "caps_lock" }, { XK_Num_Lock, "num_lock" },
        { XK_Scroll_Lock, "scroll_lock" },
        { XK_KP_0, "kp_0" }, { XK_KP_Insert, "kp_0" }, { XK_KP_7, "kp_7" },
        { XK_KP_Home, "kp_7" }, { XK_KP_Decimal, "kp_decimal" },
        { XK_KP_Delete, "kp_decimal" }, { XK_KP_Add, "kp_add" },
        { XK_KP_Subtract, "kp_subtract" }, { XK_KP_Multiply, "kp_multiply" },
        { XK_KP_Divide, "kp_divide" }, { XK_KP_Enter, "kp_enter" },
        { XK_Print, "print" }, { XK_Pause, "pause" },
    };
    for (size_t i = 0; i < sizeof pairs / sizeof pairs[0]; i++)
        ck_assert_msg(vnc_keysym_to_keycode(pairs[i].keysym) == monitor_key_code(pairs[i].qemu),
                      "keysym 0x%x: 0x%x, %s is 0x%x", pairs[i].keysym,
                      vnc_keysym_to_keycode(pairs[i].keysym), pairs[i].qemu,
                      monitor_key_code(pairs[i].qemu));
    /* No PC key: ignored. */
    ck_assert_int_eq(vnc_keysym_to_keycode(XK_eacute), 0);
    ck_assert_int_eq(vnc_keysym_to_keycode(0x1000000), 0);
}
END_TEST

START_TEST(key_releases_follow_presses)
{
    VncInput vi;
    Events e;
    vi_init(&vi, &e);
    vnc_input_key(&vi, false, XK_a);            /* never pressed: dropped */
    ck_assert_int_eq(e.nkeys, 0);
    vnc_input_key(&vi, true, XK_Shift_L);
    vnc_input_key(&vi, true, XK_exclam);
    vnc_input_key(&vi, false, XK_Shift_L);
    vnc_input_key(&vi, false, XK_1);            /* released unshifted: the same key */
    ck_assert_int_eq(e.nkeys, 4);
    ck_assert_int_eq(e.key[1], monitor_key_code("1"));
    ck_assert(e.down[1] && !e.down[3] && e.key[3] == e.key[1]);
    vnc_input_key(&vi, true, XK_b);
    vnc_input_key(&vi, true, XK_b);             /* repeat: passed on */
    ck_assert_int_eq(e.nkeys, 6);
    ck_assert(e.down[5]);
    /* The client goes: what it holds is released, once. */
    vnc_input_key(&vi, true, XK_Control_R);
    vnc_input_release_all(&vi);
    ck_assert_int_eq(e.nkeys, 9);
    int released = 0;
    for (int i = 7; i < 9; i++) {
        ck_assert(!e.down[i]);
        if (e.key[i] == monitor_key_code("b"))
            released |= 1;
        if (e.key[i] == monitor_key_code("ctrl_r"))
            released |= 2;
    }
    ck_assert_int_eq(released, 3);
    vnc_input_release_all(&vi);
    ck_assert_int_eq(e.nkeys, 9);
}
END_TEST

START_TEST(held_keys_are_bounded)
{
    VncInput vi;
    Events e;
    vi_init(&vi, &e);
    static const unsigned ks[] = { XK_a, XK_b, XK_c, XK_d, XK_e, XK_f, XK_g, XK_h, XK_i,
                                   XK_j, XK_k, XK_l, XK_m, XK_n, XK_o, XK_p, XK_q, XK_r };
    for (size_t i = 0; i < sizeof ks / sizeof ks[0]; i++)
        vnc_input_key(&vi, true, ks[i]);
    ck_assert_int_eq(e.nkeys, VNC_INPUT_MAX_DOWN);
    vnc_input_key(&vi, false, XK_r);            /* its press was not passed on */
    ck_assert_int_eq(e.nkeys, VNC_INPUT_MAX_DOWN);
    vnc_input_release_all(&vi);
    ck_assert_int_eq(e.nkeys, 2 * VNC_INPUT_MAX_DOWN);
}
END_TEST

/* ---- pointer ---- */

START_TEST(pointer_motion_is_relative)
{
    VncInput vi;
    Events e;
    vi_init(&vi, &e);
    vnc_input_pointer(&vi, 0, 100, 100);        /* the first position: no motion */
    ck_assert_int_eq(e.nmouse, 0);
    vnc_input_pointer(&vi, 0, 130, 80);
    ck_assert_int_eq(e.dx, 30);
    ck_assert_int_eq(e.dy, -20);                /* down is positive, as on screen */
    vnc_input_pointer(&vi, 0, 130, 80);         /* nothing new: nothing sent */
    ck_assert_int_eq(e.nmouse, 1);
    e.dx = e.dy = 0;
    vnc_input_pointer(&vi, 0, 0, 65535);        /* the protocol's extremes */
    ck_assert_int_eq(e.dx, -130);
    ck_assert_int_eq(e.dy, 65535 - 80);
}
END_TEST

START_TEST(pointer_buttons_and_wheel)
{
    VncInput vi;
    Events e;
    vi_init(&vi, &e);
    vnc_input_pointer(&vi, 0, 10, 10);
    vnc_input_pointer(&vi, 0x01, 10, 10);       /* left */
    ck_assert_uint_eq(e.buttons, DISPLAY_BUTTON_LEFT);
    vnc_input_pointer(&vi, 0x05, 10, 10);       /* + right */
    ck_assert_uint_eq(e.buttons, DISPLAY_BUTTON_LEFT | DISPLAY_BUTTON_RIGHT);
    vnc_input_pointer(&vi, 0x02, 10, 10);       /* middle only */
    ck_assert_uint_eq(e.buttons, DISPLAY_BUTTON_MIDDLE);
    vnc_input_pointer(&vi, 0x00, 10, 10);
    ck_assert_uint_eq(e.buttons, 0);
    /* A wheel step is a press and a release of bit 3 (up) or 4 (down). */
    vnc_input_pointer(&vi, 0x08, 10, 10);
    vnc_input_pointer(&vi, 0x00, 10, 10);
    ck_assert_int_eq(e.dz, -1);
    vnc_input_pointer(&vi, 0x10, 10, 10);
    vnc_input_pointer(&vi, 0x00, 10, 10);
    vnc_input_pointer(&vi, 0x10, 10, 10);
    vnc_input_pointer(&vi, 0x00, 10, 10);
    ck_assert_int_eq(e.dz, 1);
    /* Gone with a button held: released. */
    vnc_input_pointer(&vi, 0x01, 10, 10);
    vnc_input_release_all(&vi);
    ck_assert_uint_eq(e.buttons, 0);
}
END_TEST

/* ---- a new connection's first bytes ---- */

START_TEST(sniff_tells_websocket_from_rfb)
{
    const char *req = "GET /websockify HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\n\r\n";
    ck_assert_int_eq(vnc_sniff((const uint8_t *)"", 0), VNC_SNIFF_WAIT);
    ck_assert_int_eq(vnc_sniff((const uint8_t *)"GE", 2), VNC_SNIFF_WAIT);
    ck_assert_int_eq(vnc_sniff((const uint8_t *)req, 30), VNC_SNIFF_WAIT);
    ck_assert_int_eq(vnc_sniff((const uint8_t *)req, strlen(req)), VNC_SNIFF_WEBSOCKET);
    ck_assert_int_eq(vnc_sniff((const uint8_t *)"RFB 003.008\n", 12), VNC_SNIFF_RFB);
    ck_assert_int_eq(vnc_sniff((const uint8_t *)"GEX", 3), VNC_SNIFF_RFB);
    ck_assert_int_eq(vnc_sniff((const uint8_t *)"\x16\x03\x01", 3), VNC_SNIFF_REJECT);
    /* A request that never ends is refused at libvncserver's limit. */
    static uint8_t big[VNC_SNIFF_MAX + 1];
    memset(big, 'a', sizeof big);
    memcpy(big, "GET ", 4);
    ck_assert_int_eq(vnc_sniff(big, VNC_SNIFF_MAX - 1), VNC_SNIFF_WAIT);
    ck_assert_int_eq(vnc_sniff(big, VNC_SNIFF_MAX), VNC_SNIFF_REJECT);
    ck_assert_int_eq(vnc_sniff(big, sizeof big), VNC_SNIFF_REJECT);
}
END_TEST

static void vnc_unchecked_teardown(void)
{
    options_free(&o);
}

static Suite *vnc_suite(void)
{
    Suite *s = suite_create("vnc");
    TCase *tc = tcase_create("vnc");
    tcase_add_checked_fixture(tc, NULL, vnc_unchecked_teardown);
    tcase_add_test(tc, vnc_display_numbers);
    tcase_add_test(tc, vnc_websocket_and_password);
    tcase_add_test(tc, vnc_unix_none_and_display_alias);
    tcase_add_test(tc, vnc_bad_options_say_why);
    tcase_add_test(tc, keysyms_are_the_keys_qemu_names);
    tcase_add_test(tc, key_releases_follow_presses);
    tcase_add_test(tc, held_keys_are_bounded);
    tcase_add_test(tc, pointer_motion_is_relative);
    tcase_add_test(tc, pointer_buttons_and_wheel);
    tcase_add_test(tc, sniff_tells_websocket_from_rfb);
    suite_add_tcase(s, tc);
    return s;
}

UNIT_SUITE(vnc_suite)
