/*
 * PS/2 keyboard (MF2, ID AB 83) and PS/2 mouse (standard, IntelliMouse and
 * IntelliMouse Explorer protocols), the devices behind the i8042's two
 * ports.  The controller (hw/i8042.c) creates them, writes host-to-device
 * bytes with ps2_*_write() and pulls device-to-host bytes with
 * ps2_*_read(); a device calls its notify callback whenever it has queued
 * a byte.  The UI feeds input with:
 *
 *   ps2_kbd_key_event(kbd, 0x1c, true);        // 'A' down (set-2 code)
 *   ps2_kbd_key_event(kbd, 0xe075, false);     // Up arrow released
 *   ps2_mouse_event(mouse, 5, -3, 0, PS2_BUTTON_LEFT);
 */
#ifndef VX86_HW_PS2_H
#define VX86_HW_PS2_H

#include <stdbool.h>
#include <stdint.h>

#include "core/machine.h"

typedef struct PS2Kbd PS2Kbd;
typedef struct PS2Mouse PS2Mouse;
typedef void (*PS2NotifyFn)(void *opaque);

/* Keycodes are scan code set 2 make codes: 0x00-0xff for plain keys,
 * 0xe000 | code for E0-prefixed keys (arrows, right Ctrl/Alt, keypad
 * Enter, ...), and PS2_KEY_PAUSE for Pause/Break (make only). */
#define PS2_KEY_PAUSE 0xe11477

#define PS2_BUTTON_LEFT   0x01
#define PS2_BUTTON_RIGHT  0x02
#define PS2_BUTTON_MIDDLE 0x04
#define PS2_BUTTON_4      0x08
#define PS2_BUTTON_5      0x10

/* Register as devices "ps2-kbd" / "ps2-mouse" (reset, snapshot, free). */
PS2Kbd *ps2_kbd_create(Machine *m, PS2NotifyFn notify, void *opaque);
PS2Mouse *ps2_mouse_create(Machine *m, PS2NotifyFn notify, void *opaque);

/* Host (controller) to device: one byte of a command or parameter. */
void ps2_kbd_write(PS2Kbd *k, uint8_t b);
void ps2_mouse_write(PS2Mouse *ms, uint8_t b);
/* Device to host: the next queued byte, or -1 when none. */
int ps2_kbd_read(PS2Kbd *k);
int ps2_mouse_read(PS2Mouse *ms);
bool ps2_kbd_has_data(const PS2Kbd *k);
bool ps2_mouse_has_data(const PS2Mouse *ms);

/* A key went down or up.  Dropped while scanning is disabled (0xF5). */
void ps2_kbd_key_event(PS2Kbd *k, int keycode, bool down);
/* Relative motion and the current button state (PS2_BUTTON_*).  dx > 0 is
 * right, dy > 0 is DOWN (screen convention; the packet's Y axis points up,
 * the model converts), dz > 0 is a wheel step towards the user.  Large
 * movements are split over several packets rather than overflowing. */
void ps2_mouse_event(PS2Mouse *ms, int dx, int dy, int dz, unsigned buttons);

/* The i8042's set 2 -> set 1 translation of one byte (0xF0 break prefixes
 * are the controller's business); bytes without a key meaning pass. */
uint8_t ps2_set2_to_set1(uint8_t code);

/* For the controller and tests. */
int ps2_kbd_scancode_set(const PS2Kbd *k);
uint8_t ps2_kbd_leds(const PS2Kbd *k);
bool ps2_kbd_scanning(const PS2Kbd *k);
uint8_t ps2_mouse_id(const PS2Mouse *ms);

#endif
