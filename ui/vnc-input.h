/*
 * What vx86 itself makes of a VNC client's input (ui/vnc.c hands it over;
 * libvncserver has already parsed the RFB messages).  Kept apart from
 * libvncserver so the unit tests and the fuzz harness (tests/fuzz/
 * fuzz-vnc-input.c) drive it without a server.
 *
 * Keys: RFB KeyEvents carry X11 keysyms, i.e. the symbol the client's
 * keyboard layout produced ('A', '!', Shift_L, KP_4).  One declarative
 * table (vnc-input.c) maps them to the PC keys of a US layout (PS/2 set 2
 * keycodes, display.h's convention): '!' is the 1 key, and the client has
 * already sent the Shift that made it '!'.  Keys a client holds are
 * remembered, so a client that goes away (or loses its connection) never
 * leaves a key pressed in the guest.
 *
 * Pointer: RFB PointerEvents carry an absolute position and a button mask
 * (bit 0 left, 1 middle, 2 right, 3/4 one wheel step up/down).  Without an
 * absolute pointing device in the guest, the PS/2 mouse gets the motion
 * between two events (as QEMU does without a tablet; the guest's own
 * acceleration means its cursor need not follow the client's).
 *
 *   VncInput vi;
 *   vnc_input_init(&vi, &display_input);
 *   vnc_input_key(&vi, true, 0x61);           // 'a' down -> set 2 0x1c
 *   vnc_input_pointer(&vi, 0x01, 100, 50);    // left button down at 100,50
 *   vnc_input_release_all(&vi);               // the client went away
 *
 * Also here: the first bytes of a new connection, before libvncserver
 * sees it (vnc_sniff: an RFB client or a complete WebSocket upgrade
 * request, read by vx86 without blocking).
 */
#ifndef VX86_UI_VNC_INPUT_H
#define VX86_UI_VNC_INPUT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ui/display.h"

#define VNC_INPUT_MAX_DOWN 16     /* keys one client can hold at once */

#define VNC_BUTTON_LEFT       0x01
#define VNC_BUTTON_MIDDLE     0x02
#define VNC_BUTTON_RIGHT      0x04
#define VNC_BUTTON_WHEEL_UP   0x08
#define VNC_BUTTON_WHEEL_DOWN 0x10

typedef struct VncInput {
    DisplayInput in;
    int down[VNC_INPUT_MAX_DOWN];   /* keycodes this client holds pressed */
    int ndown;
    bool have_pos;                  /* last_x/last_y are set */
    int last_x, last_y;
    unsigned mask;                  /* the RFB button mask last seen */
    int fb_w, fb_h;                 /* the framebuffer's size, for an absolute pointer */
} VncInput;

void vnc_input_init(VncInput *vi, const DisplayInput *in);
/* The set 2 keycode of a keysym, 0 when no PC key makes it. */
int vnc_keysym_to_keycode(uint32_t keysym);
void vnc_input_key(VncInput *vi, bool down, uint32_t keysym);
void vnc_input_pointer(VncInput *vi, unsigned mask, int x, int y);
/* Releases whatever the client holds (keys, buttons). */
void vnc_input_release_all(VncInput *vi);

/* A new connection's first bytes (peeked, not consumed). */
typedef enum VncSniff {
    VNC_SNIFF_WAIT,          /* not enough yet: wait for more */
    VNC_SNIFF_RFB,           /* not a WebSocket request: libvncserver's RFB */
    VNC_SNIFF_WEBSOCKET,     /* a complete HTTP upgrade request is there */
    VNC_SNIFF_REJECT,        /* TLS, or a request header too long */
} VncSniff;
/* libvncserver reads at most 4095 bytes of request header. */
#define VNC_SNIFF_MAX 4095
VncSniff vnc_sniff(const uint8_t *buf, size_t n);

#endif
