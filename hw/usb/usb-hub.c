/*
 * USB hub (see usb-hub.h).
 *
 * Facts: USB 2.0 specification, 11.23.2.1 (hub descriptor: length, type
 * 29h, number of ports, wHubCharacteristics, power-on to power-good time,
 * controller current, DeviceRemovable and PortPwrCtrlMask bitmaps of
 * (ports + 1) bits), 11.24.2 (class requests: GET_STATUS of the hub and
 * of a port, SET_FEATURE / CLEAR_FEATURE with the hub and port feature
 * selectors), 11.24.2.7 (wPortStatus bits: connection 0, enable 1,
 * suspend 2, over-current 3, reset 4, power 8, low speed 9; wPortChange
 * bits: connection 0, enable 1, suspend 2, over-current 3, reset 4),
 * 11.12.4 (the status change endpoint: bit 0 the hub, bit n port n; NAK
 * while nothing changed), 9.6 (device class 09h).  QEMU's usb-hub: 8
 * ports, IDs 0409:55aa, product "QEMU USB Hub".
 */
#include "hw/usb/usb-hub.h"

#include <stdlib.h>
#include <string.h>

#include "core/device.h"
#include "core/util.h"

#define USB_DT_HUB            0x29
#define HUB_REQ_TYPE_HUB      0x20     /* class, device recipient */
#define HUB_REQ_TYPE_PORT     0x23     /* class, "other" recipient */

#define PORT_CONNECTION       0x0001
#define PORT_ENABLE           0x0002
#define PORT_SUSPEND          0x0004
#define PORT_RESET            0x0010
#define PORT_POWER            0x0100

/* Port feature selectors (table 11-17). */
#define FEAT_PORT_ENABLE      1
#define FEAT_PORT_SUSPEND     2
#define FEAT_PORT_RESET       4
#define FEAT_PORT_POWER       8
#define FEAT_C_PORT_CONNECTION 16
#define FEAT_C_PORT_ENABLE    17
#define FEAT_C_PORT_SUSPEND   18
#define FEAT_C_PORT_OVER_CURRENT 19
#define FEAT_C_PORT_RESET     20

struct USBHubState {
    USBDevice dev;
    USBDevice *port_dev[USB_HUB_PORTS];
    /* Saved state. */
    uint16_t status[USB_HUB_PORTS], change[USB_HUB_PORTS];
};

static const uint8_t hub_device_desc[18] = {
    18, USB_DT_DEVICE, 0x10, 0x01,     /* USB 1.1 */
    0x09, 0, 0, 8,                     /* hub class; ep0 8 bytes */
    0x09, 0x04, 0xaa, 0x55,            /* 0409:55aa */
    0x01, 0x01, 1, 2, 3, 1,            /* bcdDevice; strings; one configuration */
};

/* Configuration, interface (class 09h, one endpoint), EP1 IN interrupt of
 * 2 bytes (9 status bits), polled every 255 ms; self-powered, wakeup. */
static const uint8_t hub_config[9 + 9 + 7] = {
    9, USB_DT_CONFIG, 25, 0, 1, 1, 0, 0xe0, 0,
    9, 4, 0, 0, 1, 0x09, 0, 0, 0,
    7, 5, 0x81, 3, 2, 0, 0xff,
};

static const char *const hub_strings[] = { "QEMU", "QEMU USB Hub", "314159" };

static bool port_ok(unsigned p)
{
    return p >= 1 && p <= USB_HUB_PORTS;
}

static int hub_descriptor(uint8_t *d)
{
    static const uint8_t desc[11] = {
        11, USB_DT_HUB, USB_HUB_PORTS,
        0x09, 0x00,                    /* per-port power switching and over-current */
        1, 0,                          /* 2 ms power-on to power-good; no current */
        0x00, 0x00,                    /* every port removable */
        0xff, 0xff,                    /* PortPwrCtrlMask (all ones, for USB 1.0 hosts) */
    };
    memcpy(d, desc, sizeof desc);
    return sizeof desc;
}

static void port_set_feature(USBHubState *h, unsigned p, unsigned feature)
{
    uint16_t *st = &h->status[p - 1];
    switch (feature) {
    case FEAT_PORT_SUSPEND:
        if (*st & PORT_ENABLE)
            *st |= PORT_SUSPEND;
        break;
    case FEAT_PORT_RESET:
        /* The reset completes at once: enabled, reset change set. */
        if (h->port_dev[p - 1] && (*st & PORT_POWER)) {
            usb_device_reset(h->port_dev[p - 1]);
            *st = (uint16_t)((*st & ~PORT_SUSPEND) | PORT_ENABLE);
            h->change[p - 1] |= PORT_RESET;
        }
        break;
    case FEAT_PORT_POWER:
        *st |= PORT_POWER;
        if (h->port_dev[p - 1])
            *st |= PORT_CONNECTION;
        break;
    default:
        break;
    }
}

static void port_clear_feature(USBHubState *h, unsigned p, unsigned feature)
{
    uint16_t *st = &h->status[p - 1], *ch = &h->change[p - 1];
    switch (feature) {
    case FEAT_PORT_ENABLE:         *st &= (uint16_t)~PORT_ENABLE; break;
    case FEAT_PORT_SUSPEND:
        if (*st & PORT_SUSPEND) {
            *st &= (uint16_t)~PORT_SUSPEND;
            *ch |= PORT_SUSPEND;          /* resume complete */
        }
        break;
    case FEAT_PORT_POWER:          *st = 0; break;
    case FEAT_C_PORT_CONNECTION:   *ch &= (uint16_t)~PORT_CONNECTION; break;
    case FEAT_C_PORT_ENABLE:       *ch &= (uint16_t)~PORT_ENABLE; break;
    case FEAT_C_PORT_SUSPEND:      *ch &= (uint16_t)~PORT_SUSPEND; break;
    case FEAT_C_PORT_OVER_CURRENT: *ch &= (uint16_t)~0x0008; break;
    case FEAT_C_PORT_RESET:        *ch &= (uint16_t)~PORT_RESET; break;
    default: break;
    }
}

static int hub_control(void *opaque, const USBSetup *s, uint8_t *data)
{
    USBHubState *h = opaque;
    unsigned p = s->index & 0xff;
    switch (s->type << 8 | s->request) {
    case (USB_DIR_IN | HUB_REQ_TYPE_HUB) << 8 | USB_REQ_GET_DESCRIPTOR:
        if ((s->value >> 8) != USB_DT_HUB)
            return USB_RET_STALL;
        return hub_descriptor(data);
    case (USB_DIR_IN | HUB_REQ_TYPE_HUB) << 8 | USB_REQ_GET_STATUS:
        memset(data, 0, 4);               /* local power good, no over-current */
        return 4;
    case HUB_REQ_TYPE_HUB << 8 | USB_REQ_CLEAR_FEATURE:
    case HUB_REQ_TYPE_HUB << 8 | USB_REQ_SET_FEATURE:
        return 0;                         /* C_HUB_LOCAL_POWER, C_HUB_OVER_CURRENT */
    case (USB_DIR_IN | HUB_REQ_TYPE_PORT) << 8 | USB_REQ_GET_STATUS:
        if (!port_ok(p))
            return USB_RET_STALL;
        data[0] = (uint8_t)h->status[p - 1];
        data[1] = (uint8_t)(h->status[p - 1] >> 8);
        data[2] = (uint8_t)h->change[p - 1];
        data[3] = (uint8_t)(h->change[p - 1] >> 8);
        return 4;
    case HUB_REQ_TYPE_PORT << 8 | USB_REQ_SET_FEATURE:
        if (!port_ok(p))
            return USB_RET_STALL;
        port_set_feature(h, p, s->value);
        return 0;
    case HUB_REQ_TYPE_PORT << 8 | USB_REQ_CLEAR_FEATURE:
        if (!port_ok(p))
            return USB_RET_STALL;
        port_clear_feature(h, p, s->value);
        return 0;
    default:
        return USB_RET_STALL;
    }
}

/* The status change endpoint: a bitmap of ports with change bits. */
static int hub_data(void *opaque, int pid, int ep, uint8_t *buf, int len)
{
    USBHubState *h = opaque;
    if (pid != USB_PID_IN || ep != 1)
        return USB_RET_STALL;
    unsigned bits = 0;
    for (unsigned p = 1; p <= USB_HUB_PORTS; p++)
        if (h->change[p - 1])
            bits |= 1u << p;
    if (!bits)
        return USB_RET_NAK;
    int n = MIN(len, 2);
    for (int i = 0; i < n; i++)
        buf[i] = (uint8_t)(bits >> (8 * i));
    return n;
}

static USBDevice *hub_find_device(void *opaque, unsigned addr)
{
    USBHubState *h = opaque;
    for (int p = 0; p < USB_HUB_PORTS; p++) {
        USBDevice *d = h->port_dev[p];
        if (d && (h->status[p] & PORT_ENABLE) && !(h->status[p] & PORT_SUSPEND) &&
            (d = usb_find_device(d, addr)))
            return d;
    }
    return NULL;
}

static USBDevice *hub_port_device(void *opaque, unsigned port)
{
    USBHubState *h = opaque;
    if (!port_ok(port) || !(h->status[port - 1] & PORT_ENABLE))
        return NULL;
    return h->port_dev[port - 1];
}

/* A hub reset powers the ports off; connections show again on power-on. */
static void hub_state_reset(void *opaque)
{
    USBHubState *h = opaque;
    for (int p = 0; p < USB_HUB_PORTS; p++) {
        h->status[p] = 0;
        h->change[p] = h->port_dev[p] ? PORT_CONNECTION : 0;
    }
}

static const USBDeviceInfo hub_info = {
    .name = "usb-hub", .device_desc = hub_device_desc, .config_desc = hub_config,
    .config_len = sizeof hub_config, .strings = hub_strings, .nstrings = 3,
    .handle_control = hub_control, .handle_data = hub_data, .reset = hub_state_reset,
    .find_device = hub_find_device, .port_device = hub_port_device,
};

/* ---- device record ---- */

static void usb_hub_reset(void *opaque)
{
    USBHubState *h = opaque;
    usb_device_reset(&h->dev);
}

static int usb_hub_post_load(void *opaque, int version, char **err)
{
    USBHubState *h = opaque;
    (void)version;
    for (int p = 0; p < USB_HUB_PORTS; p++)
        if ((h->status[p] & ~(PORT_CONNECTION | PORT_ENABLE | PORT_SUSPEND | PORT_POWER)) ||
            (h->change[p] & ~0x1fu) ||
            (!h->port_dev[p] && (h->status[p] & (PORT_CONNECTION | PORT_ENABLE)))) {
            set_error(err, "usb-hub: port %d state out of range", p + 1);
            return -1;
        }
    return usb_device_check(&h->dev, err);
}

static const VMField usb_hub_fields[] = {
    VMF_STRUCT(dev, USBHubState, usb_device_vmsd),
    VMF_U16_ARRAY(status, USBHubState, USB_HUB_PORTS),
    VMF_U16_ARRAY(change, USBHubState, USB_HUB_PORTS),
    VMF_END
};

static const VMStateDesc usb_hub_vmsd = {
    .name = "usb-hub", .version = 1, .min_version = 1, .fields = usb_hub_fields,
    .post_load = usb_hub_post_load,
};

static void usb_hub_free(void *opaque)
{
    free(opaque);
}

static const DeviceOps usb_hub_device_ops = {
    .name = "usb-hub", .reset = usb_hub_reset, .free = usb_hub_free, .vmsd = &usb_hub_vmsd,
};

USBHubState *usb_hub_create(Machine *m)
{
    USBHubState *h = xcalloc(1, sizeof *h);
    usb_device_init(&h->dev, &hub_info, h);
    usb_device_reset(&h->dev);
    machine_add_device(m, &usb_hub_device_ops, h);
    return h;
}

USBDevice *usb_hub_device(USBHubState *h)
{
    return &h->dev;
}

/* A downstream device's resume signalling (remote wakeup) on a suspended
 * port: the hub completes the resume (PORT_SUSPEND cleared, C_PORT_SUSPEND
 * set, seen on the status change endpoint) and, being a device itself,
 * signals resume upstream in case it is suspended too (USB 2.0 11.9,
 * 11.24.2.7.1.3, 11.24.2.7.2.3). */
static void hub_port_wakeup(void *opaque, USBDevice *d)
{
    USBHubState *h = opaque;
    for (int p = 0; p < USB_HUB_PORTS; p++) {
        if (h->port_dev[p] != d || !(h->status[p] & PORT_SUSPEND))
            continue;
        h->status[p] &= (uint16_t)~PORT_SUSPEND;
        h->change[p] |= PORT_SUSPEND;
        usb_device_wakeup(&h->dev);
    }
}

bool usb_hub_attach(USBHubState *h, USBDevice *dev)
{
    for (int p = 0; p < USB_HUB_PORTS; p++)
        if (!h->port_dev[p]) {
            h->port_dev[p] = dev;
            dev->port_wakeup = hub_port_wakeup;
            dev->port = h;
            h->change[p] |= PORT_CONNECTION;
            if (h->status[p] & PORT_POWER)
                h->status[p] |= PORT_CONNECTION;
            return true;
        }
    return false;
}
