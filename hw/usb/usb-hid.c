/*
 * USB HID tablet, mouse and keyboard (see usb-hid.h).
 *
 * Facts: Device Class Definition for HID 1.11: 6.2.1 (HID descriptor),
 * 6.2.2 (report descriptor items: Usage Page 05, Usage 09, Collection a1,
 * End Collection c0, Input 81, Output 91, Logical/Physical Min/Max 15/25/
 * 35/45, Report Size 75, Report Count 95, Usage Min/Max 19/29), 7.2 (class
 * requests GET_REPORT 1, GET_IDLE 2, GET_PROTOCOL 3, SET_REPORT 9,
 * SET_IDLE 10, SET_PROTOCOL 11), appendix B (boot keyboard and mouse
 * reports), HID Usage Tables 1.12 chapter 10 (keyboard usages); USB 2.0
 * 9.6 (descriptor layouts).  IDs 0627:0001 and the product strings are
 * the ones QEMU's devices report (a compatibility fact).
 */
#include "hw/usb/usb-hid.h"

#include <stdlib.h>
#include <string.h>

#include "core/device.h"
#include "core/util.h"

#define HID_REQ_GET_REPORT   0x01
#define HID_REQ_GET_IDLE     0x02
#define HID_REQ_GET_PROTOCOL 0x03
#define HID_REQ_SET_REPORT   0x09
#define HID_REQ_SET_IDLE     0x0a
#define HID_REQ_SET_PROTOCOL 0x0b
#define HID_DT_HID           0x21
#define HID_DT_REPORT        0x22

#define KEY_QUEUE 64          /* key transitions waiting for a poll (one per report) */
#define HID_PS2_PAUSE 0xe11477      /* the machine's Pause keycode (hw/ps2.h) */
#define KEY_SLOTS 6
#define BTN_QUEUE 16          /* button changes waiting for a poll (one per report) */

struct USBHIDState {
    USBDevice dev;
    USBHIDKind kind;
    /* Saved state. */
    uint8_t protocol;         /* 0 boot, 1 report (the default after reset) */
    uint8_t idle;
    bool changed;             /* a report is due */
    uint16_t x, y;            /* tablet */
    int32_t dx, dy, dz;       /* mouse motion and wheel not reported yet */
    uint8_t buttons;          /* as last reported */
    uint8_t btn_queue[BTN_QUEUE];   /* button states not reported yet, oldest first */
    uint8_t btn_head, btn_len;
    uint8_t leds;             /* keyboard: from SET_REPORT output */
    uint8_t modifiers;
    uint8_t keys[KEY_SLOTS];
    uint16_t queue[KEY_QUEUE];    /* usage | 0x100 when down */
    uint8_t q_head, q_len;
};

/* ---- descriptors ---- */

static const uint8_t tablet_report[] = {
    0x05, 0x01, 0x09, 0x02, 0xa1, 0x01,           /* Generic Desktop, Mouse, Application */
    0x09, 0x01, 0xa1, 0x00,                       /* Pointer, Physical */
    0x05, 0x09, 0x19, 0x01, 0x29, 0x03,           /* Buttons 1..3 */
    0x15, 0x00, 0x25, 0x01, 0x95, 0x03, 0x75, 0x01, 0x81, 0x02,
    0x95, 0x01, 0x75, 0x05, 0x81, 0x01,           /* 5 bits padding */
    0x05, 0x01, 0x09, 0x30, 0x09, 0x31,           /* X, Y */
    0x15, 0x00, 0x26, 0xff, 0x7f, 0x35, 0x00, 0x46, 0xff, 0x7f,
    0x75, 0x10, 0x95, 0x02, 0x81, 0x02,           /* 2 x 16 bits, absolute */
    0x05, 0x01, 0x09, 0x38,                       /* Wheel */
    0x15, 0x81, 0x25, 0x7f, 0x35, 0x00, 0x45, 0x00,
    0x75, 0x08, 0x95, 0x01, 0x81, 0x06,           /* 8 bits, relative */
    0xc0, 0xc0,
};

static const uint8_t mouse_report[] = {
    0x05, 0x01, 0x09, 0x02, 0xa1, 0x01,
    0x09, 0x01, 0xa1, 0x00,
    0x05, 0x09, 0x19, 0x01, 0x29, 0x03,
    0x15, 0x00, 0x25, 0x01, 0x95, 0x03, 0x75, 0x01, 0x81, 0x02,
    0x95, 0x01, 0x75, 0x05, 0x81, 0x01,
    0x05, 0x01, 0x09, 0x30, 0x09, 0x31, 0x09, 0x38,   /* X, Y, Wheel */
    0x15, 0x81, 0x25, 0x7f, 0x75, 0x08, 0x95, 0x03, 0x81, 0x06,
    0xc0, 0xc0,
};

/* The boot keyboard of HID 1.11 appendix B.1: modifiers, reserved byte,
 * five LEDs (output), six key slots. */
static const uint8_t keyboard_report[] = {
    0x05, 0x01, 0x09, 0x06, 0xa1, 0x01,
    0x05, 0x07, 0x19, 0xe0, 0x29, 0xe7, 0x15, 0x00, 0x25, 0x01,
    0x75, 0x01, 0x95, 0x08, 0x81, 0x02,
    0x95, 0x01, 0x75, 0x08, 0x81, 0x01,
    0x95, 0x05, 0x75, 0x01, 0x05, 0x08, 0x19, 0x01, 0x29, 0x05, 0x91, 0x02,
    0x95, 0x01, 0x75, 0x03, 0x91, 0x01,
    0x95, 0x06, 0x75, 0x08, 0x15, 0x00, 0x25, 0x65, 0x05, 0x07, 0x19, 0x00, 0x29, 0x65,
    0x81, 0x00,
    0xc0,
};

typedef struct HIDKindInfo {
    const char *name, *product;
    const uint8_t *report;
    unsigned report_len;
    uint8_t report_size;          /* interrupt IN report bytes */
} HIDKindInfo;

static const HIDKindInfo hid_kinds[] = {
    [USB_HID_TABLET]   = { "usb-tablet", "QEMU USB Tablet", tablet_report,
                           sizeof tablet_report, 6 },
    [USB_HID_MOUSE]    = { "usb-mouse", "QEMU USB Mouse", mouse_report,
                           sizeof mouse_report, 4 },
    [USB_HID_KEYBOARD] = { "usb-kbd", "QEMU USB Keyboard", keyboard_report,
                           sizeof keyboard_report, 8 },
};

static const uint8_t hid_device_desc[18] = {
    18, USB_DT_DEVICE, 0x10, 0x01,     /* USB 1.1 */
    0, 0, 0, 8,                        /* class in the interface; ep0 8 bytes */
    0x27, 0x06, 0x01, 0x00,            /* 0627:0001 */
    0x00, 0x00, 1, 2, 3, 1,            /* bcdDevice; strings; one configuration */
};

#define HID_CONFIG_LEN (9 + 9 + 9 + 7)

/* Configuration, interface, HID and endpoint descriptors of one kind:
 * remote wakeup capable, 100 mA; interface 0 of class HID; the HID
 * descriptor naming one report descriptor; EP1 IN interrupt, 8 bytes,
 * polled every 10 ms. */
#define HID_CONFIG(subclass, protocol, report_len) { \
    9, USB_DT_CONFIG, HID_CONFIG_LEN, 0, 1, 1, 0, 0xa0, 50, \
    9, 4, 0, 0, 1, 3, (subclass), (protocol), 0, \
    9, HID_DT_HID, 0x11, 0x01, 0, 1, HID_DT_REPORT, \
    (uint8_t)(report_len), (uint8_t)((report_len) >> 8), \
    7, 5, 0x81, 3, 8, 0, 10 }

static const uint8_t tablet_config[HID_CONFIG_LEN] = HID_CONFIG(0, 0, sizeof tablet_report);
static const uint8_t mouse_config[HID_CONFIG_LEN] = HID_CONFIG(1, 2, sizeof mouse_report);
static const uint8_t keyboard_config[HID_CONFIG_LEN] = HID_CONFIG(1, 1, sizeof keyboard_report);

/* ---- reports ---- */

static int clamp8(int32_t v)
{
    return v < -127 ? -127 : v > 127 ? 127 : v;
}

static void keyboard_apply(USBHIDState *s, uint16_t ev)
{
    uint8_t usage = (uint8_t)ev;
    bool down = ev & 0x100;
    if (usage >= 0xe0) {
        uint8_t bit = (uint8_t)(1u << (usage - 0xe0));
        s->modifiers = down ? (uint8_t)(s->modifiers | bit) : (uint8_t)(s->modifiers & ~bit);
        return;
    }
    for (int i = 0; i < KEY_SLOTS; i++)
        if (s->keys[i] == usage) {
            if (!down)
                s->keys[i] = 0;
            return;
        }
    for (int i = 0; down && i < KEY_SLOTS; i++)
        if (!s->keys[i]) {
            s->keys[i] = usage;
            return;
        }
}

/* Fills the report; returns its length. */
/* The button state for the next report: one queued change at a time, so
 * a click between two polls is still seen. */
static void next_buttons(USBHIDState *s)
{
    if (!s->btn_len)
        return;
    s->buttons = s->btn_queue[s->btn_head];
    s->btn_head = (uint8_t)((s->btn_head + 1) % BTN_QUEUE);
    s->btn_len--;
}

static void push_buttons(USBHIDState *s, unsigned buttons)
{
    uint8_t b = (uint8_t)(buttons & 7);
    uint8_t last = s->btn_len ? s->btn_queue[(s->btn_head + s->btn_len - 1) % BTN_QUEUE]
                              : s->buttons;
    if (b == last)
        return;
    if (s->btn_len == BTN_QUEUE)
        s->btn_queue[(s->btn_head + s->btn_len - 1) % BTN_QUEUE] = b;   /* full: newest wins */
    else
        s->btn_queue[(s->btn_head + s->btn_len++) % BTN_QUEUE] = b;
}

static int make_report(USBHIDState *s, uint8_t *r)
{
    if (s->kind != USB_HID_KEYBOARD)
        next_buttons(s);
    switch (s->kind) {
    case USB_HID_TABLET: {
        int wheel = clamp8(-s->dz);
        s->dz += wheel;
        r[0] = s->buttons;
        r[1] = (uint8_t)s->x;
        r[2] = (uint8_t)(s->x >> 8);
        r[3] = (uint8_t)s->y;
        r[4] = (uint8_t)(s->y >> 8);
        r[5] = (uint8_t)wheel;
        s->changed = s->dz != 0 || s->btn_len;
        return 6;
    }
    case USB_HID_MOUSE: {
        int dx = clamp8(s->dx), dy = clamp8(s->dy), wheel = clamp8(-s->dz);
        s->dx -= dx;
        s->dy -= dy;
        s->dz += wheel;
        r[0] = s->buttons;
        r[1] = (uint8_t)dx;
        r[2] = (uint8_t)dy;
        r[3] = (uint8_t)wheel;
        s->changed = s->dx || s->dy || s->dz || s->btn_len;
        /* The boot protocol has three bytes. */
        return s->protocol == 0 ? 3 : 4;
    }
    case USB_HID_KEYBOARD:
        /* One transition per report, so a press and release between two
         * polls are both seen. */
        if (s->q_len) {
            keyboard_apply(s, s->queue[s->q_head]);
            s->q_head = (uint8_t)((s->q_head + 1) % KEY_QUEUE);
            s->q_len--;
        }
        r[0] = s->modifiers;
        r[1] = 0;
        memcpy(r + 2, s->keys, KEY_SLOTS);
        s->changed = s->q_len != 0;
        return 8;
    }
    return 0;
}

/* ---- USB side ---- */

static int hid_control(void *opaque, const USBSetup *st, uint8_t *data)
{
    USBHIDState *s = opaque;
    const HIDKindInfo *k = &hid_kinds[s->kind];
    bool iface = (st->type & USB_RECIP_MASK) == USB_RECIP_INTERFACE;
    if ((st->type & USB_TYPE_MASK) == USB_TYPE_STANDARD) {
        if (!iface || st->request != USB_REQ_GET_DESCRIPTOR)
            return USB_RET_STALL;
        if (st->value >> 8 == HID_DT_REPORT) {
            memcpy(data, k->report, k->report_len);
            return (int)k->report_len;
        }
        if (st->value >> 8 == HID_DT_HID) {
            memcpy(data, s->dev.info->config_desc + 18, 9);
            return 9;
        }
        return USB_RET_STALL;
    }
    if ((st->type & USB_TYPE_MASK) != USB_TYPE_CLASS || !iface)
        return USB_RET_STALL;
    switch (st->request) {
    case HID_REQ_GET_REPORT: {
        bool changed = s->changed;
        int n = make_report(s, data);
        s->changed = changed;
        return n;
    }
    case HID_REQ_SET_REPORT:
        if (s->kind == USB_HID_KEYBOARD && st->length >= 1)
            s->leds = data[0] & 0x1f;
        return 0;
    case HID_REQ_GET_IDLE:
        data[0] = s->idle;
        return 1;
    case HID_REQ_SET_IDLE:
        s->idle = (uint8_t)(st->value >> 8);
        return 0;
    case HID_REQ_GET_PROTOCOL:
        data[0] = s->protocol;
        return 1;
    case HID_REQ_SET_PROTOCOL:
        if (st->value > 1)
            return USB_RET_STALL;
        s->protocol = (uint8_t)st->value;
        return 0;
    default:
        return USB_RET_STALL;
    }
}

static int hid_data(void *opaque, int pid, int ep, uint8_t *buf, int len)
{
    USBHIDState *s = opaque;
    if (ep != 1 || pid != USB_PID_IN)
        return USB_RET_STALL;
    if (!s->changed)
        return USB_RET_NAK;
    uint8_t r[8];
    int n = make_report(s, r);
    n = MIN(n, len);
    memcpy(buf, r, (size_t)n);
    return n;
}

static void hid_state_reset(void *opaque)
{
    USBHIDState *s = opaque;
    s->protocol = 1;
    s->idle = 0;
    s->changed = false;
    s->dx = s->dy = s->dz = 0;
    s->buttons = 0;
    s->btn_head = s->btn_len = 0;
    s->leds = 0;
    s->modifiers = 0;
    memset(s->keys, 0, sizeof s->keys);
    s->q_head = s->q_len = 0;
}

static const char *const tablet_strings[] = { "QEMU", "QEMU USB Tablet", "42" };
static const char *const mouse_strings[] = { "QEMU", "QEMU USB Mouse", "42" };
static const char *const keyboard_strings[] = { "QEMU", "QEMU USB Keyboard", "42" };

static const USBDeviceInfo usb_infos[] = {
    [USB_HID_TABLET] = { .name = "usb-tablet", .device_desc = hid_device_desc,
                         .config_desc = tablet_config, .config_len = HID_CONFIG_LEN,
                         .strings = tablet_strings, .nstrings = 3,
                         .handle_control = hid_control, .handle_data = hid_data,
                         .reset = hid_state_reset },
    [USB_HID_MOUSE] = { .name = "usb-mouse", .device_desc = hid_device_desc,
                        .config_desc = mouse_config, .config_len = HID_CONFIG_LEN,
                        .strings = mouse_strings, .nstrings = 3,
                        .handle_control = hid_control, .handle_data = hid_data,
                        .reset = hid_state_reset },
    [USB_HID_KEYBOARD] = { .name = "usb-kbd", .device_desc = hid_device_desc,
                           .config_desc = keyboard_config, .config_len = HID_CONFIG_LEN,
                           .strings = keyboard_strings, .nstrings = 3,
                           .handle_control = hid_control, .handle_data = hid_data,
                           .reset = hid_state_reset },
};

/* ---- input from the machine ---- */

void usb_hid_pointer_abs(USBHIDState *s, int x, int y, int dz, unsigned buttons)
{
    s->x = (uint16_t)(x < 0 ? 0 : x > USB_HID_ABS_MAX ? USB_HID_ABS_MAX : x);
    s->y = (uint16_t)(y < 0 ? 0 : y > USB_HID_ABS_MAX ? USB_HID_ABS_MAX : y);
    s->dz = s->dz + dz > 255 ? 255 : s->dz + dz < -255 ? -255 : s->dz + dz;
    push_buttons(s, buttons);
    s->changed = true;
    usb_device_wakeup(&s->dev);
}

void usb_hid_pointer_buttons(USBHIDState *s, int dz, unsigned buttons)
{
    s->dz = s->dz + dz > 255 ? 255 : s->dz + dz < -255 ? -255 : s->dz + dz;
    push_buttons(s, buttons);
    s->changed = true;
    usb_device_wakeup(&s->dev);
}

void usb_hid_pointer_rel(USBHIDState *s, int dx, int dy, int dz, unsigned buttons)
{
    /* Bounded so a flood of motion cannot overflow. */
    s->dx = s->dx + dx > 65535 ? 65535 : s->dx + dx < -65535 ? -65535 : s->dx + dx;
    s->dy = s->dy + dy > 65535 ? 65535 : s->dy + dy < -65535 ? -65535 : s->dy + dy;
    s->dz = s->dz + dz > 255 ? 255 : s->dz + dz < -255 ? -255 : s->dz + dz;
    push_buttons(s, buttons);
    s->changed = true;
    usb_device_wakeup(&s->dev);
}

/* PS/2 set 2 make codes (0xe0NN: E0-prefixed) -> keyboard usages. */
static const struct { int code; uint8_t usage; } key_map[] = {
    { 0x1c, 0x04 }, { 0x32, 0x05 }, { 0x21, 0x06 }, { 0x23, 0x07 }, { 0x24, 0x08 },
    { 0x2b, 0x09 }, { 0x34, 0x0a }, { 0x33, 0x0b }, { 0x43, 0x0c }, { 0x3b, 0x0d },
    { 0x42, 0x0e }, { 0x4b, 0x0f }, { 0x3a, 0x10 }, { 0x31, 0x11 }, { 0x44, 0x12 },
    { 0x4d, 0x13 }, { 0x15, 0x14 }, { 0x2d, 0x15 }, { 0x1b, 0x16 }, { 0x2c, 0x17 },
    { 0x3c, 0x18 }, { 0x2a, 0x19 }, { 0x1d, 0x1a }, { 0x22, 0x1b }, { 0x35, 0x1c },
    { 0x1a, 0x1d },
    { 0x16, 0x1e }, { 0x1e, 0x1f }, { 0x26, 0x20 }, { 0x25, 0x21 }, { 0x2e, 0x22 },
    { 0x36, 0x23 }, { 0x3d, 0x24 }, { 0x3e, 0x25 }, { 0x46, 0x26 }, { 0x45, 0x27 },
    { 0x5a, 0x28 }, { 0x76, 0x29 }, { 0x66, 0x2a }, { 0x0d, 0x2b }, { 0x29, 0x2c },
    { 0x4e, 0x2d }, { 0x55, 0x2e }, { 0x54, 0x2f }, { 0x5b, 0x30 }, { 0x5d, 0x31 },
    { 0x4c, 0x33 }, { 0x52, 0x34 }, { 0x0e, 0x35 }, { 0x41, 0x36 }, { 0x49, 0x37 },
    { 0x4a, 0x38 }, { 0x58, 0x39 },
    { 0x05, 0x3a }, { 0x06, 0x3b }, { 0x04, 0x3c }, { 0x0c, 0x3d }, { 0x03, 0x3e },
    { 0x0b, 0x3f }, { 0x83, 0x40 }, { 0x0a, 0x41 }, { 0x01, 0x42 }, { 0x09, 0x43 },
    { 0x78, 0x44 }, { 0x07, 0x45 },
    { 0xe07c, 0x46 }, { 0x7e, 0x47 }, { 0xe11477, 0x48 },
    { 0xe070, 0x49 }, { 0xe06c, 0x4a }, { 0xe07d, 0x4b }, { 0xe071, 0x4c }, { 0xe069, 0x4d },
    { 0xe07a, 0x4e }, { 0xe074, 0x4f }, { 0xe06b, 0x50 }, { 0xe072, 0x51 }, { 0xe075, 0x52 },
    { 0x77, 0x53 }, { 0xe04a, 0x54 }, { 0x7c, 0x55 }, { 0x7b, 0x56 }, { 0x79, 0x57 },
    { 0xe05a, 0x58 }, { 0x69, 0x59 }, { 0x72, 0x5a }, { 0x7a, 0x5b }, { 0x6b, 0x5c },
    { 0x73, 0x5d }, { 0x74, 0x5e }, { 0x6c, 0x5f }, { 0x75, 0x60 }, { 0x7d, 0x61 },
    { 0x70, 0x62 }, { 0x71, 0x63 }, { 0x61, 0x64 }, { 0xe02f, 0x65 },
    { 0x14, 0xe0 }, { 0x12, 0xe1 }, { 0x11, 0xe2 }, { 0xe01f, 0xe3 },
    { 0xe014, 0xe4 }, { 0x59, 0xe5 }, { 0xe011, 0xe6 }, { 0xe027, 0xe7 },
};

void usb_hid_key(USBHIDState *s, int keycode, bool down)
{
    uint8_t usage = 0;
    for (size_t i = 0; i < ARRAY_SIZE(key_map); i++)
        if (key_map[i].code == keycode)
            usage = key_map[i].usage;
    if (!usage || s->q_len == KEY_QUEUE)
        return;
    if (keycode == HID_PS2_PAUSE && !down)
        return;
    s->queue[(s->q_head + s->q_len) % KEY_QUEUE] = (uint16_t)(usage | (down ? 0x100 : 0));
    s->q_len++;
    if (keycode == HID_PS2_PAUSE && s->q_len < KEY_QUEUE) {
        /* Pause has no break code on PS/2: release it at once. */
        s->queue[(s->q_head + s->q_len) % KEY_QUEUE] = usage;
        s->q_len++;
    }
    s->changed = true;
    usb_device_wakeup(&s->dev);
}

/* ---- device record ---- */

static void usb_hid_reset(void *opaque)
{
    USBHIDState *s = opaque;
    usb_device_reset(&s->dev);
}

static int usb_hid_post_load(void *opaque, int version, char **err)
{
    USBHIDState *s = opaque;
    (void)version;
    if (s->q_head >= KEY_QUEUE || s->q_len > KEY_QUEUE || s->protocol > 1 ||
        s->btn_head >= BTN_QUEUE || s->btn_len > BTN_QUEUE ||
        s->x > USB_HID_ABS_MAX || s->y > USB_HID_ABS_MAX || s->dx < -65535 ||
        s->dx > 65535 || s->dy < -65535 || s->dy > 65535 || s->dz < -255 || s->dz > 255) {
        set_error(err, "%s: HID state out of range", hid_kinds[s->kind].name);
        return -1;
    }
    return usb_device_check(&s->dev, err);
}

static const VMField usb_hid_fields[] = {
    VMF_STRUCT(dev, USBHIDState, usb_device_vmsd),
    VMF_U8(protocol, USBHIDState), VMF_U8(idle, USBHIDState),
    VMF_BOOL(changed, USBHIDState), VMF_U16(x, USBHIDState), VMF_U16(y, USBHIDState),
    VMF_I32(dx, USBHIDState), VMF_I32(dy, USBHIDState), VMF_I32(dz, USBHIDState),
    VMF_U8(buttons, USBHIDState), VMF_U8_ARRAY(btn_queue, USBHIDState, BTN_QUEUE),
    VMF_U8(btn_head, USBHIDState), VMF_U8(btn_len, USBHIDState), VMF_U8(leds, USBHIDState),
    VMF_U8(modifiers, USBHIDState), VMF_U8_ARRAY(keys, USBHIDState, KEY_SLOTS),
    VMF_U16_ARRAY(queue, USBHIDState, KEY_QUEUE),
    VMF_U8(q_head, USBHIDState), VMF_U8(q_len, USBHIDState),
    VMF_END
};

static const VMStateDesc usb_hid_vmsd = {
    .name = "usb-hid", .version = 1, .min_version = 1, .fields = usb_hid_fields,
    .post_load = usb_hid_post_load,
};

static void usb_hid_free(void *opaque)
{
    free(opaque);
}

static const DeviceOps usb_hid_device_ops[] = {
    [USB_HID_TABLET] = { .name = "usb-tablet", .reset = usb_hid_reset,
                         .free = usb_hid_free, .vmsd = &usb_hid_vmsd },
    [USB_HID_MOUSE] = { .name = "usb-mouse", .reset = usb_hid_reset,
                        .free = usb_hid_free, .vmsd = &usb_hid_vmsd },
    [USB_HID_KEYBOARD] = { .name = "usb-kbd", .reset = usb_hid_reset,
                           .free = usb_hid_free, .vmsd = &usb_hid_vmsd },
};

USBHIDState *usb_hid_create(Machine *m, USBHIDKind kind)
{
    USBHIDState *s = xcalloc(1, sizeof *s);
    s->kind = kind;
    usb_device_init(&s->dev, &usb_infos[kind], s);
    usb_device_reset(&s->dev);
    machine_add_device(m, &usb_hid_device_ops[kind], s);
    return s;
}

USBDevice *usb_hid_device(USBHIDState *s)
{
    return &s->dev;
}

USBHIDKind usb_hid_kind(const USBHIDState *s)
{
    return s->kind;
}
