/*
 * USB HID functions (hw/usb/usb-hid.c): QEMU's usb-tablet (absolute
 * pointer, 0..0x7fff on both axes, three buttons and a wheel), usb-mouse
 * (relative, boot protocol) and usb-kbd (boot keyboard, LEDs), with
 * QEMU's vendor/product IDs (0627:0001) so guests treat them alike.
 *
 *   USBHIDState *t = usb_hid_create(m, USB_HID_TABLET);
 *   uhci_attach(uhci, usb_hid_device(t));
 *   usb_hid_pointer_abs(t, 0x4000, 0x4000, 0, 0);   // the screen's centre
 *   usb_hid_key(k, 0x1c, true);                      // 'A' (PS/2 set 2 code)
 *
 * Input is kept as state (position, buttons, accumulated motion; a short
 * queue of key transitions) and turned into a report when the host polls
 * the interrupt IN endpoint; with nothing new the endpoint NAKs.
 */
#ifndef VX86_HW_USB_HID_H
#define VX86_HW_USB_HID_H

#include <stdbool.h>

#include "core/machine.h"
#include "hw/usb/usb.h"

typedef enum USBHIDKind { USB_HID_TABLET, USB_HID_MOUSE, USB_HID_KEYBOARD } USBHIDKind;

#define USB_HID_ABS_MAX 0x7fff

typedef struct USBHIDState USBHIDState;

USBHIDState *usb_hid_create(Machine *m, USBHIDKind kind);
USBDevice *usb_hid_device(USBHIDState *s);
USBHIDKind usb_hid_kind(const USBHIDState *s);
/* x, y in 0..USB_HID_ABS_MAX (clamped); dz > 0 wheel towards the user;
 * buttons as DISPLAY_BUTTON_* / PS2_BUTTON_* (left 1, right 2, middle 4). */
void usb_hid_pointer_abs(USBHIDState *s, int x, int y, int dz, unsigned buttons);
/* Buttons and wheel only: the tablet stays where it is. */
void usb_hid_pointer_buttons(USBHIDState *s, int dz, unsigned buttons);
void usb_hid_pointer_rel(USBHIDState *s, int dx, int dy, int dz, unsigned buttons);
/* A PS/2 set 2 keycode (0xe0NN for extended keys), the machine's key
 * convention; keys without a HID usage are dropped. */
void usb_hid_key(USBHIDState *s, int keycode, bool down);

#endif
