/*
 * The USB device framework and the HID devices, driven token by token as
 * a host controller would.  Expected values come from the specifications,
 * not from vx86: USB 2.0 8.5.3 (control transfer stages; a device always
 * accepts SETUP and stalls a request it does not support in the next
 * stage), 9.4.6 (SET_ADDRESS takes effect after the status stage), 9.1.1
 * (only the default pipe before configuration), 9.6.1 (device descriptor:
 * 18 bytes, type 1); HID 1.11 7.2 (class requests), the boot keyboard
 * report of appendix B.1 and keyboard usage IDs of the HID Usage Tables
 * 1.12 chapter 10 ('a' is 04h, Left Shift E1h).
 */
#include <stdlib.h>
#include <string.h>

#include "core/machine.h"
#include "hw/pci.h"
#include "hw/usb/uhci.h"
#include "hw/usb/usb-hub.h"
#include "hw/usb/usb-hid.h"
#include "tests/unit/unit.h"
#include "ui/display.h"
#include "ui/vnc-input.h"

typedef struct Rig {
    Machine *m;
    USBHIDState *hid;
    USBDevice *dev;
} Rig;

static void rig_init(Rig *r, USBHIDKind kind)
{
    char err[256];
    r->m = machine_new(1 << 20, CLOCK_MANUAL, err, sizeof err);
    ck_assert_ptr_nonnull(r->m);
    r->hid = usb_hid_create(r->m, kind);
    r->dev = usb_hid_device(r->hid);
}

static void rig_free(Rig *r)
{
    machine_free(r->m);
}

static int setup(Rig *r, uint8_t type, uint8_t req, uint16_t value, uint16_t index,
                 uint16_t length)
{
    uint8_t s[8] = { type, req, (uint8_t)value, (uint8_t)(value >> 8), (uint8_t)index,
                     (uint8_t)(index >> 8), (uint8_t)length, (uint8_t)(length >> 8) };
    return usb_handle_packet(r->dev, USB_PID_SETUP, 0, s, 8);
}

static int in(Rig *r, int ep, uint8_t *buf, int len)
{
    return usb_handle_packet(r->dev, USB_PID_IN, ep, buf, len);
}

static int out0(Rig *r)
{
    uint8_t none[1];
    return usb_handle_packet(r->dev, USB_PID_OUT, 0, none, 0);
}

/* A control request with no data stage: SETUP, then the IN status stage. */
static int no_data(Rig *r, uint8_t type, uint8_t req, uint16_t value, uint16_t index)
{
    uint8_t b[8];
    ck_assert_int_eq(setup(r, type, req, value, index, 0), 8);
    return in(r, 0, b, 0);
}

START_TEST(device_descriptor_in_packets_of_eight)
{
    Rig r;
    rig_init(&r, USB_HID_TABLET);
    uint8_t d[64] = { 0 }, b[8];
    /* SETUP's eight bytes are taken whatever the request. */
    ck_assert_int_eq(setup(&r, 0x80, 6, 0x0100, 0, 64), 8);
    int total = 0, n;
    while ((n = in(&r, 0, b, 8)) == 8) {
        memcpy(d + total, b, 8);
        total += 8;
    }
    ck_assert_int_ge(n, 0);
    memcpy(d + total, b, (size_t)n);
    total += n;
    ck_assert_int_eq(total, 18);           /* a short packet ends the data stage */
    ck_assert_int_eq(d[0], 18);
    ck_assert_int_eq(d[1], 1);
    ck_assert_int_eq(d[7], 8);             /* bMaxPacketSize0 as used above */
    ck_assert_int_eq(out0(&r), 0);          /* OUT status stage */
    rig_free(&r);
}
END_TEST

START_TEST(set_address_after_status_stage)
{
    Rig r;
    rig_init(&r, USB_HID_TABLET);
    uint8_t b[8];
    ck_assert_int_eq(setup(&r, 0x00, 5, 9, 0, 0), 8);
    ck_assert_int_eq(r.dev->addr, 0);       /* still answering at 0 */
    ck_assert_int_eq(in(&r, 0, b, 0), 0);
    ck_assert_int_eq(r.dev->addr, 9);
    rig_free(&r);
}
END_TEST

START_TEST(unsupported_request_stalls_next_stage)
{
    Rig r;
    rig_init(&r, USB_HID_TABLET);
    uint8_t b[8];
    /* Vendor request: not understood. */
    ck_assert_int_eq(setup(&r, 0xc0, 0x55, 0, 0, 4), 8);
    ck_assert_int_eq(in(&r, 0, b, 8), USB_RET_STALL);
    /* A new SETUP clears the stall. */
    ck_assert_int_eq(setup(&r, 0x80, 8, 0, 0, 1), 8);       /* GET_CONFIGURATION */
    ck_assert_int_eq(in(&r, 0, b, 8), 1);
    ck_assert_int_eq(b[0], 0);
    /* A configuration the device does not have. */
    ck_assert_int_eq(no_data(&r, 0x00, 9, 7, 0), USB_RET_STALL);
    rig_free(&r);
}
END_TEST

START_TEST(interrupt_endpoint_needs_configuration)
{
    Rig r;
    rig_init(&r, USB_HID_TABLET);
    uint8_t b[8];
    usb_hid_pointer_abs(r.hid, 0x1234, 0x7fff, 0, 1);
    ck_assert_int_eq(in(&r, 1, b, 8), USB_RET_STALL);
    ck_assert_int_eq(no_data(&r, 0x00, 9, 1, 0), 0);        /* SET_CONFIGURATION 1 */
    int n = in(&r, 1, b, 8);
    ck_assert_int_ge(n, 5);
    ck_assert_int_eq(b[0] & 1, 1);                           /* button 1 */
    ck_assert_int_eq(b[1] | b[2] << 8, 0x1234);              /* X, little-endian */
    ck_assert_int_eq(b[3] | b[4] << 8, 0x7fff);
    /* Nothing new: NAK. */
    ck_assert_int_eq(in(&r, 1, b, 8), USB_RET_NAK);
    /* A click between two polls is two reports. */
    usb_hid_pointer_abs(r.hid, 0x1234, 0x7fff, 0, 0);
    usb_hid_pointer_abs(r.hid, 0x1234, 0x7fff, 0, 1);
    usb_hid_pointer_abs(r.hid, 0x1234, 0x7fff, 0, 0);
    ck_assert_int_ge(in(&r, 1, b, 8), 1);
    ck_assert_int_eq(b[0] & 1, 0);
    ck_assert_int_ge(in(&r, 1, b, 8), 1);
    ck_assert_int_eq(b[0] & 1, 1);
    ck_assert_int_ge(in(&r, 1, b, 8), 1);
    ck_assert_int_eq(b[0] & 1, 0);
    ck_assert_int_eq(in(&r, 1, b, 8), USB_RET_NAK);
    rig_free(&r);
}
END_TEST

START_TEST(keyboard_boot_report)
{
    Rig r;
    rig_init(&r, USB_HID_KEYBOARD);
    uint8_t b[8];
    ck_assert_int_eq(no_data(&r, 0x00, 9, 1, 0), 0);
    ck_assert_int_eq(no_data(&r, 0x21, 0x0b, 0, 0), 0);    /* SET_PROTOCOL boot */
    usb_hid_key(r.hid, 0x12, true);                          /* Left Shift (set 2) */
    usb_hid_key(r.hid, 0x1c, true);                          /* A */
    usb_hid_key(r.hid, 0x1c, false);
    ck_assert_int_eq(in(&r, 1, b, 8), 8);
    ck_assert_int_eq(b[0], 0x02);                            /* Left Shift bit */
    ck_assert_int_eq(b[2], 0);
    ck_assert_int_eq(in(&r, 1, b, 8), 8);
    ck_assert_int_eq(b[0], 0x02);
    ck_assert_int_eq(b[2], 0x04);                            /* usage 'a' */
    ck_assert_int_eq(in(&r, 1, b, 8), 8);
    ck_assert_int_eq(b[2], 0);
    /* GET_PROTOCOL reads back boot (0). */
    ck_assert_int_eq(setup(&r, 0xa1, 0x03, 0, 0, 1), 8);
    ck_assert_int_eq(in(&r, 0, b, 8), 1);
    ck_assert_int_eq(b[0], 0);
    rig_free(&r);
}
END_TEST

START_TEST(corrupted_state_rejected)
{
    Rig r;
    rig_init(&r, USB_HID_KEYBOARD);
    VMBuf buf;
    vmbuf_init(&buf);
    machine_save_devices(r.m, &buf);
    unit_stream_patch(&buf, "usb-hid", "q_len", 0, &(uint8_t){ 200 }, 1);
    char *err = NULL;
    ck_assert_int_eq(machine_load_devices(r.m, buf.data, buf.len, &err), -1);
    ck_assert_ptr_nonnull(err);
    free(err);
    vmbuf_free(&buf);
    vmbuf_init(&buf);
    machine_save_devices(r.m, &buf);
    unit_stream_patch(&buf, "usb-hid", "ctrl_pos", 0, &(uint16_t){ 5000 }, 2);
    err = NULL;
    ck_assert_int_eq(machine_load_devices(r.m, buf.data, buf.len, &err), -1);
    free(err);
    vmbuf_free(&buf);
    rig_free(&r);
}
END_TEST

/* ---- the display side: an absolute pointer takes positions ---- */

typedef struct AbsSeen {
    bool absolute;
    int x, y, rel_calls, abs_calls;
    unsigned buttons;
} AbsSeen;

static void seen_key(void *o, int k, bool d) { (void)o; (void)k; (void)d; }
static void seen_rel(void *o, int dx, int dy, int dz, unsigned b)
{
    (void)dx; (void)dy; (void)dz; (void)b;
    ((AbsSeen *)o)->rel_calls++;
}
static bool seen_is_abs(void *o) { return ((AbsSeen *)o)->absolute; }
static void seen_abs(void *o, int x, int y, int dz, unsigned b)
{
    AbsSeen *s = o;
    (void)dz;
    s->x = x;
    s->y = y;
    s->buttons = b;
    s->abs_calls++;
}

START_TEST(vnc_pointer_goes_absolute_with_a_tablet)
{
    AbsSeen seen = { .absolute = true };
    DisplayInput in = { .key = seen_key, .mouse = seen_rel, .opaque = &seen,
                        .mouse_absolute = seen_is_abs, .mouse_abs = seen_abs };
    VncInput vi;
    vnc_input_init(&vi, &in);
    vi.fb_w = 640;
    vi.fb_h = 480;
    /* RFC 6143 7.5.5: x, y in framebuffer pixels; button mask bit 0 left. */
    vnc_input_pointer(&vi, 1, 639, 0);
    ck_assert_int_eq(seen.abs_calls, 1);
    ck_assert_int_eq(seen.x, DISPLAY_ABS_MAX);     /* right edge */
    ck_assert_int_eq(seen.y, 0);
    ck_assert_int_eq(seen.buttons, DISPLAY_BUTTON_LEFT);
    vnc_input_pointer(&vi, 0, 320, 240);
    ck_assert_int_eq(seen.x, 320 * DISPLAY_ABS_MAX / 639);
    ck_assert_int_eq(seen.y, 240 * DISPLAY_ABS_MAX / 479);
    ck_assert_int_eq(seen.rel_calls, 0);
    /* Without one: relative, as before. */
    seen.absolute = false;
    vnc_input_pointer(&vi, 0, 330, 240);
    ck_assert_int_eq(seen.rel_calls, 1);
    ck_assert_int_eq(seen.abs_calls, 2);
}
END_TEST

/* Remote wakeup through a UHCI root port (USB 2.0 9.4.5, 7.1.7.7; UHCI
 * design guide 2.1.2 USBSTS Resume Detect, 2.1.3 USBINTR Resume, 2.1.7
 * PORTSC Resume Detect and Suspend): Linux autosuspends an idle usbhid
 * device with remote wakeup enabled, suspends the port, then puts the bus
 * in global suspend (EGSM) with only the resume interrupt enabled; new
 * input must then come back as resume signalling, or the guest never
 * polls the device again. */
typedef struct WakeRig {
    Machine *m;
    PCIBus *bus;
    UHCIState *u;
    USBHIDState *tablet;
    int pirq_level[4];
} WakeRig;

#define UHCI_IO 0xc040

static void wake_router(void *opaque, int pirq, int level)
{
    ((WakeRig *)opaque)->pirq_level[pirq] = level;
}

static int wake_irq(WakeRig *w)
{
    return w->pirq_level[0] | w->pirq_level[1] | w->pirq_level[2] | w->pirq_level[3];
}

/* A machine with the UHCI at 00:01.2, its interrupt seen by wake_router. */
static void wake_rig_uhci(WakeRig *w)
{
    char err[256];
    memset(w, 0, sizeof *w);
    w->m = machine_new(1 << 20, CLOCK_MANUAL, err, sizeof err);
    ck_assert_ptr_nonnull(w->m);
    w->bus = pci_bus_new(w->m);
    pci_bus_set_pirq_router(w->bus, wake_router, w);
    w->u = uhci_create(w->m, w->bus, PCI_DEVFN(1, 2));
    ck_assert_ptr_nonnull(w->u);
}

/* The UHCI's I/O decoding on, root port 1 (something attached) reset and
 * enabled, as a driver brings it up. */
static void wake_rig_port_up(WakeRig *w)
{
    pci_bus_config_write(w->bus, PCI_DEVFN(1, 2), 0x20, UHCI_IO, 4);     /* BAR4 */
    pci_bus_config_write(w->bus, PCI_DEVFN(1, 2), PCI_COMMAND, PCI_COMMAND_IO, 2);
    iospace_write(w->m->io, UHCI_IO + 0x10, 0x0200, 2);            /* port reset ... */
    iospace_write(w->m->io, UHCI_IO + 0x10, 0x0000, 2);            /* ... ended */
    iospace_write(w->m->io, UHCI_IO + 0x10, 0x0004 | 0x000a, 2);   /* enable, clear CSC */
}

/* What Linux's uhci-hcd does to suspend: the port, then the bus (global
 * suspend, only the resume interrupt enabled). */
static void wake_rig_suspend(WakeRig *w)
{
    iospace_write(w->m->io, UHCI_IO + 0x10, 0x0004 | 0x1000, 2);   /* PE | SUSP */
    iospace_write(w->m->io, UHCI_IO + 0x04, 0x0002, 2);            /* USBINTR: resume */
    iospace_write(w->m->io, UHCI_IO + 0x00, 0x0048, 2);            /* CF | EGSM, RS off */
}

/* A tablet on root port 1, remote wakeup enabled or not, then suspended. */
static void wake_rig_init(WakeRig *w, bool enable_wakeup)
{
    wake_rig_uhci(w);
    w->tablet = usb_hid_create(w->m, USB_HID_TABLET);
    ck_assert(uhci_attach(w->u, usb_hid_device(w->tablet)));
    wake_rig_port_up(w);
    Rig r = { .m = w->m, .hid = w->tablet, .dev = usb_hid_device(w->tablet) };
    if (enable_wakeup)   /* SET_FEATURE (device) DEVICE_REMOTE_WAKEUP */
        ck_assert_int_eq(no_data(&r, 0x00, 0x03, 1, 0), 0);
    wake_rig_suspend(w);
}

START_TEST(uhci_remote_wakeup_from_global_suspend)
{
    WakeRig w;
    wake_rig_init(&w, true);
    ck_assert_uint_eq(iospace_read(w.m->io, UHCI_IO + 0x02, 2) & 0x0004, 0);
    ck_assert_int_eq(wake_irq(&w), 0);
    usb_hid_pointer_abs(w.tablet, 1000, 2000, 0, 0);
    ck_assert_uint_eq(iospace_read(w.m->io, UHCI_IO + 0x10, 2) & 0x1040, 0x1040);  /* SUSP|RD */
    ck_assert_uint_eq(iospace_read(w.m->io, UHCI_IO + 0x02, 2) & 0x0004, 0x0004);  /* RD */
    ck_assert_int_eq(wake_irq(&w), 1);
    /* The driver acknowledges (write 1 to clear) and resumes the port. */
    iospace_write(w.m->io, UHCI_IO + 0x02, 0x0004, 2);
    ck_assert_int_eq(wake_irq(&w), 0);
    iospace_write(w.m->io, UHCI_IO + 0x10, 0x0004, 2);
    ck_assert_uint_eq(iospace_read(w.m->io, UHCI_IO + 0x10, 2) & 0x1040, 0);
    machine_free(w.m);
}
END_TEST

START_TEST(uhci_no_wakeup_unless_enabled_and_suspended)
{
    WakeRig w;
    wake_rig_init(&w, false);                   /* remote wakeup never enabled */
    usb_hid_pointer_abs(w.tablet, 1000, 2000, 0, 0);
    ck_assert_uint_eq(iospace_read(w.m->io, UHCI_IO + 0x10, 2) & 0x0040, 0);
    ck_assert_uint_eq(iospace_read(w.m->io, UHCI_IO + 0x02, 2) & 0x0004, 0);
    ck_assert_int_eq(wake_irq(&w), 0);
    machine_free(w.m);

    wake_rig_init(&w, true);
    iospace_write(w.m->io, UHCI_IO + 0x10, 0x0004, 2);            /* port resumed */
    usb_hid_pointer_abs(w.tablet, 1000, 2000, 0, 0);
    ck_assert_uint_eq(iospace_read(w.m->io, UHCI_IO + 0x10, 2) & 0x0040, 0);
    ck_assert_int_eq(wake_irq(&w), 0);
    machine_free(w.m);
}
END_TEST

/* Through a hub (USB 2.0 11.9, 11.24.2.7.2.3): a downstream device's
 * remote wakeup on a suspended hub port completes the resume there
 * (PORT_SUSPEND clear, C_PORT_SUSPEND set: the status change endpoint
 * reports the port) and goes on upstream, where the suspended UHCI root
 * port of the hub latches Resume Detect. */
START_TEST(hub_passes_remote_wakeup_upstream)
{
    WakeRig w;
    /* UHCI root port 1: the hub; hub port 1: a tablet. */
    wake_rig_uhci(&w);
    USBHubState *h = usb_hub_create(w.m);
    ck_assert(uhci_attach(w.u, usb_hub_device(h)));
    w.tablet = usb_hid_create(w.m, USB_HID_TABLET);
    ck_assert(usb_hub_attach(h, usb_hid_device(w.tablet)));
    wake_rig_port_up(&w);
    Rig hub = { .m = w.m, .dev = usb_hub_device(h) };
    Rig tab = { .m = w.m, .hid = w.tablet, .dev = usb_hid_device(w.tablet) };
    ck_assert_int_eq(no_data(&hub, 0x23, 0x03, 8, 1), 0);      /* SET_FEATURE PORT_POWER */
    ck_assert_int_eq(no_data(&hub, 0x23, 0x03, 4, 1), 0);      /* PORT_RESET: enabled */
    ck_assert_int_eq(no_data(&tab, 0x00, 0x03, 1, 0), 0);      /* tablet: remote wakeup */
    ck_assert_int_eq(no_data(&hub, 0x00, 0x03, 1, 0), 0);      /* hub: remote wakeup */
    ck_assert_int_eq(no_data(&hub, 0x23, 0x03, 2, 1), 0);      /* PORT_SUSPEND */
    ck_assert_int_eq(no_data(&hub, 0x23, 0x01, 20, 1), 0);     /* clear C_PORT_RESET */
    wake_rig_suspend(&w);                                      /* root port and bus */

    usb_hid_pointer_abs(w.tablet, 1000, 2000, 0, 0);
    uint8_t st[4];
    ck_assert_int_eq(setup(&hub, 0xa3, 0x00, 0, 1, 4), 8);     /* GET_STATUS port 1 */
    ck_assert_int_eq(in(&hub, 0, st, 4), 4);
    ck_assert_int_eq(out0(&hub), 0);
    ck_assert_uint_eq(st[0] & 0x04, 0);                        /* PORT_SUSPEND clear */
    ck_assert_uint_eq(st[2] & 0x04, 0x04);                     /* C_PORT_SUSPEND */
    ck_assert_uint_eq(iospace_read(w.m->io, UHCI_IO + 0x10, 2) & 0x1040, 0x1040);
    ck_assert_uint_eq(iospace_read(w.m->io, UHCI_IO + 0x02, 2) & 0x0004, 0x0004);
    ck_assert_int_eq(wake_irq(&w), 1);
    machine_free(w.m);
}
END_TEST

static Suite *usb_suite(void)
{
    Suite *s = suite_create("usb");
    TCase *tc = tcase_create("usb");
    tcase_add_test(tc, device_descriptor_in_packets_of_eight);
    tcase_add_test(tc, set_address_after_status_stage);
    tcase_add_test(tc, unsupported_request_stalls_next_stage);
    tcase_add_test(tc, interrupt_endpoint_needs_configuration);
    tcase_add_test(tc, keyboard_boot_report);
    tcase_add_test(tc, corrupted_state_rejected);
    tcase_add_test(tc, vnc_pointer_goes_absolute_with_a_tablet);
    tcase_add_test(tc, uhci_remote_wakeup_from_global_suspend);
    tcase_add_test(tc, uhci_no_wakeup_unless_enabled_and_suspended);
    tcase_add_test(tc, hub_passes_remote_wakeup_upstream);
    suite_add_tcase(s, tc);
    return s;
}

UNIT_SUITE(usb_suite)
