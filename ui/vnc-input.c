/*
 * VNC client input -> the PC's keyboard and mouse (see vnc-input.h).
 */
#include "ui/vnc-input.h"

#include <string.h>

#include "core/util.h"

/* ---- keys ---- */

typedef struct KeysymKey {
    uint32_t keysym;      /* X11 keysym (X11/keysymdef.h) */
    int keycode;          /* PS/2 set 2, display.h's convention */
} KeysymKey;

/*
 * Every keysym a US PC keyboard produces, with the key that produces it.
 * Shifted symbols name the same key as their unshifted twin (the client
 * sends the Shift itself).
 */
static const KeysymKey keysym_keys[] = {
    /* Latin-1, the main block. */
    { 0x0020, 0x29 },   /* space */
    { 0x0021, 0x16 }, { 0x0031, 0x16 },   /* ! 1 */
    { 0x0040, 0x1e }, { 0x0032, 0x1e },   /* @ 2 */
    { 0x0023, 0x26 }, { 0x0033, 0x26 },   /* # 3 */
    { 0x0024, 0x25 }, { 0x0034, 0x25 },   /* $ 4 */
    { 0x0025, 0x2e }, { 0x0035, 0x2e },   /* % 5 */
    { 0x005e, 0x36 }, { 0x0036, 0x36 },   /* ^ 6 */
    { 0x0026, 0x3d }, { 0x0037, 0x3d },   /* & 7 */
    { 0x002a, 0x3e }, { 0x0038, 0x3e },   /* * 8 */
    { 0x0028, 0x46 }, { 0x0039, 0x46 },   /* ( 9 */
    { 0x0029, 0x45 }, { 0x0030, 0x45 },   /* ) 0 */
    { 0x005f, 0x4e }, { 0x002d, 0x4e },   /* _ - */
    { 0x002b, 0x55 }, { 0x003d, 0x55 },   /* + = */
    { 0x007b, 0x54 }, { 0x005b, 0x54 },   /* { [ */
    { 0x007d, 0x5b }, { 0x005d, 0x5b },   /* } ] */
    { 0x007c, 0x5d }, { 0x005c, 0x5d },   /* | backslash */
    { 0x003a, 0x4c }, { 0x003b, 0x4c },   /* : ; */
    { 0x0022, 0x52 }, { 0x0027, 0x52 },   /* " ' */
    { 0x007e, 0x0e }, { 0x0060, 0x0e },   /* ~ ` */
    { 0x003c, 0x41 }, { 0x002c, 0x41 },   /* < , */
    { 0x003e, 0x49 }, { 0x002e, 0x49 },   /* > . */
    { 0x003f, 0x4a }, { 0x002f, 0x4a },   /* ? / */
    { 0x0061, 0x1c }, { 0x0062, 0x32 }, { 0x0063, 0x21 }, { 0x0064, 0x23 },   /* a-d */
    { 0x0065, 0x24 }, { 0x0066, 0x2b }, { 0x0067, 0x34 }, { 0x0068, 0x33 },   /* e-h */
    { 0x0069, 0x43 }, { 0x006a, 0x3b }, { 0x006b, 0x42 }, { 0x006c, 0x4b },   /* i-l */
    { 0x006d, 0x3a }, { 0x006e, 0x31 }, { 0x006f, 0x44 }, { 0x0070, 0x4d },   /* m-p */
    { 0x0071, 0x15 }, { 0x0072, 0x2d }, { 0x0073, 0x1b }, { 0x0074, 0x2c },   /* q-t */
    { 0x0075, 0x3c }, { 0x0076, 0x2a }, { 0x0077, 0x1d }, { 0x0078, 0x22 },   /* u-x */
    { 0x0079, 0x35 }, { 0x007a, 0x1a },                                       /* y z */
    /* (A-Z: the letter's key, see vnc_keysym_to_keycode.) */

    /* TTY function keys. */
    { 0xff08, 0x66 },   /* BackSpace */
    { 0xff09, 0x0d },   /* Tab */
    { 0xfe20, 0x0d },   /* ISO_Left_Tab (Shift+Tab) */
    { 0xff0d, 0x5a },   /* Return */
    { 0xff13, DISPLAY_KEY_PAUSE },   /* Pause */
    { 0xff14, 0x7e },   /* Scroll_Lock */
    { 0xff15, 0x84 },   /* Sys_Req (Alt+PrintScreen) */
    { 0xff1b, 0x76 },   /* Escape */
    { 0xffff, 0xe071 }, /* Delete */

    /* Cursor and editing block. */
    { 0xff50, 0xe06c }, /* Home */
    { 0xff51, 0xe06b }, /* Left */
    { 0xff52, 0xe075 }, /* Up */
    { 0xff53, 0xe074 }, /* Right */
    { 0xff54, 0xe072 }, /* Down */
    { 0xff55, 0xe07d }, /* Prior (Page Up) */
    { 0xff56, 0xe07a }, /* Next (Page Down) */
    { 0xff57, 0xe069 }, /* End */
    { 0xff61, DISPLAY_KEY_PRINT },   /* Print */
    { 0xff63, 0xe070 }, /* Insert */
    { 0xff67, 0xe02f }, /* Menu */
    { 0xff6b, DISPLAY_KEY_PAUSE },   /* Break (Ctrl+Pause) */
    { 0xff7f, 0x77 },   /* Num_Lock */

    /* Keypad, with Num Lock on (digits) and off (movement). */
    { 0xff8d, 0xe05a }, /* KP_Enter */
    { 0xff95, 0x6c }, { 0xffb7, 0x6c },   /* KP_Home KP_7 */
    { 0xff96, 0x6b }, { 0xffb4, 0x6b },   /* KP_Left KP_4 */
    { 0xff97, 0x75 }, { 0xffb8, 0x75 },   /* KP_Up KP_8 */
    { 0xff98, 0x74 }, { 0xffb6, 0x74 },   /* KP_Right KP_6 */
    { 0xff99, 0x72 }, { 0xffb2, 0x72 },   /* KP_Down KP_2 */
    { 0xff9a, 0x7d }, { 0xffb9, 0x7d },   /* KP_Prior KP_9 */
    { 0xff9b, 0x7a }, { 0xffb3, 0x7a },   /* KP_Next KP_3 */
    { 0xff9c, 0x69 }, { 0xffb1, 0x69 },   /* KP_End KP_1 */
    { 0xff9d, 0x73 }, { 0xffb5, 0x73 },   /* KP_Begin KP_5 */
    { 0xff9e, 0x70 }, { 0xffb0, 0x70 },   /* KP_Insert KP_0 */
    { 0xff9f, 0x71 }, { 0xffae, 0x71 },   /* KP_Delete KP_Decimal */
    { 0xffaa, 0x7c },   /* KP_Multiply */
    { 0xffab, 0x79 },   /* KP_Add */
    { 0xffad, 0x7b },   /* KP_Subtract */
    { 0xffaf, 0xe04a }, /* KP_Divide */

    /* Function keys. */
    { 0xffbe, 0x05 }, { 0xffbf, 0x06 }, { 0xffc0, 0x04 }, { 0xffc1, 0x0c },   /* F1-F4 */
    { 0xffc2, 0x03 }, { 0xffc3, 0x0b }, { 0xffc4, 0x83 }, { 0xffc5, 0x0a },   /* F5-F8 */
    { 0xffc6, 0x01 }, { 0xffc7, 0x09 }, { 0xffc8, 0x78 }, { 0xffc9, 0x07 },   /* F9-F12 */

    /* Modifiers. */
    { 0xffe1, 0x12 },   /* Shift_L */
    { 0xffe2, 0x59 },   /* Shift_R */
    { 0xffe3, 0x14 },   /* Control_L */
    { 0xffe4, 0xe014 }, /* Control_R */
    { 0xffe5, 0x58 },   /* Caps_Lock */
    { 0xffe7, 0xe01f }, /* Meta_L */
    { 0xffe8, 0xe027 }, /* Meta_R */
    { 0xffe9, 0x11 },   /* Alt_L */
    { 0xffea, 0xe011 }, /* Alt_R */
    { 0xffeb, 0xe01f }, /* Super_L */
    { 0xffec, 0xe027 }, /* Super_R */
    { 0xfe03, 0xe011 }, /* ISO_Level3_Shift (AltGr) */
};

int vnc_keysym_to_keycode(uint32_t keysym)
{
    /* Upper-case letters are the letter keys (Shift or Caps Lock is the
     * client's business). */
    if (keysym >= 'A' && keysym <= 'Z')
        keysym += 'a' - 'A';
    for (size_t i = 0; i < ARRAY_SIZE(keysym_keys); i++)
        if (keysym_keys[i].keysym == keysym)
            return keysym_keys[i].keycode;
    return 0;
}

void vnc_input_init(VncInput *vi, const DisplayInput *in)
{
    memset(vi, 0, sizeof(*vi));
    vi->in = *in;
}

static int held_index(const VncInput *vi, int keycode)
{
    for (int i = 0; i < vi->ndown; i++)
        if (vi->down[i] == keycode)
            return i;
    return -1;
}

void vnc_input_key(VncInput *vi, bool down, uint32_t keysym)
{
    int code = vnc_keysym_to_keycode(keysym);
    if (!code)
        return;
    int i = held_index(vi, code);
    if (down) {
        /* A repeat while held is passed on (the typematic repeat a PS/2
         * keyboard sends); a new key needs room in the table. */
        if (i < 0) {
            if (vi->ndown == VNC_INPUT_MAX_DOWN)
                return;
            vi->down[vi->ndown++] = code;
        }
        display_send_key(&vi->in, code, true);
        return;
    }
    /* A release of a key this client never pressed is dropped: the guest
     * must not see a break code without its make. */
    if (i < 0)
        return;
    vi->down[i] = vi->down[--vi->ndown];
    display_send_key(&vi->in, code, false);
}

/* ---- pointer ---- */

static unsigned display_buttons(unsigned mask)
{
    return ((mask & VNC_BUTTON_LEFT) ? DISPLAY_BUTTON_LEFT : 0) |
           ((mask & VNC_BUTTON_MIDDLE) ? DISPLAY_BUTTON_MIDDLE : 0) |
           ((mask & VNC_BUTTON_RIGHT) ? DISPLAY_BUTTON_RIGHT : 0);
}

void vnc_input_pointer(VncInput *vi, unsigned mask, int x, int y)
{
    int dx = vi->have_pos ? x - vi->last_x : 0;
    int dy = vi->have_pos ? y - vi->last_y : 0;
    vi->have_pos = true;
    vi->last_x = x;
    vi->last_y = y;
    /* The wheel bits are pressed and released for each step: a step is
     * the press. */
    unsigned pressed = mask & ~vi->mask;
    int dz = ((pressed & VNC_BUTTON_WHEEL_DOWN) ? 1 : 0) - ((pressed & VNC_BUTTON_WHEEL_UP) ? 1 : 0);
    bool buttons_changed = display_buttons(mask) != display_buttons(vi->mask);
    vi->mask = mask;
    if (display_mouse_absolute(&vi->in) && vi->fb_w > 0 && vi->fb_h > 0) {
        /* The client's pointer position is the guest's: no deltas. */
        vi->in.mouse_abs(vi->in.opaque, display_abs_coord(x, vi->fb_w),
                         display_abs_coord(y, vi->fb_h), dz, display_buttons(mask));
        return;
    }
    if ((dx || dy || dz || buttons_changed) && vi->in.mouse)
        vi->in.mouse(vi->in.opaque, dx, dy, dz, display_buttons(mask));
}

void vnc_input_release_all(VncInput *vi)
{
    while (vi->ndown)
        display_send_key(&vi->in, vi->down[--vi->ndown], false);
    if (display_buttons(vi->mask) && vi->in.mouse)
        vi->in.mouse(vi->in.opaque, 0, 0, 0, 0);
    vi->mask = 0;
    vi->have_pos = false;
}

/* ---- a new connection's first bytes ---- */

static bool has_header_end(const uint8_t *buf, size_t n)
{
    for (size_t i = 3; i < n; i++)
        if (buf[i - 3] == '\r' && buf[i - 2] == '\n' && buf[i - 1] == '\r' && buf[i] == '\n')
            return true;
    return false;
}

VncSniff vnc_sniff(const uint8_t *buf, size_t n)
{
    static const char get[] = "GET ";
    if (n == 0)
        return VNC_SNIFF_WAIT;
    /* TLS (a ClientHello: 0x16, or SSLv2's 0x80): vx86 has no certificate. */
    if (buf[0] == 0x16 || buf[0] == 0x80)
        return VNC_SNIFF_REJECT;
    size_t k = MIN(n, sizeof get - 1);
    if (memcmp(buf, get, k))
        return VNC_SNIFF_RFB;
    if (n < sizeof get - 1)
        return VNC_SNIFF_WAIT;
    if (has_header_end(buf, MIN(n, (size_t)VNC_SNIFF_MAX)))
        return VNC_SNIFF_WEBSOCKET;
    return n >= VNC_SNIFF_MAX ? VNC_SNIFF_REJECT : VNC_SNIFF_WAIT;
}
