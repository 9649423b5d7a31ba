/*
 * USB device framework (see usb.h).
 *
 * Facts: USB 2.0 specification, 8.5.3 (control transfers: SETUP stage,
 * optional data stage, status stage in the opposite direction; a STALL
 * handshake for an unsupported request in the data or status stage; the
 * device always accepts SETUP), 9.1 (device states), 9.4 (standard
 * requests), 9.6 (descriptor layouts; string descriptor 0 lists the
 * language IDs, the others are UTF-16LE).
 */
#include "hw/usb/usb.h"

#include <stddef.h>
#include <string.h>

#include "core/util.h"

#define USB_CTRL_STALLED 5        /* after a refused request, until SETUP */
#define USB_LANG_EN_US   0x0409

void usb_device_init(USBDevice *d, const USBDeviceInfo *info, void *opaque)
{
    memset(d, 0, sizeof *d);
    d->info = info;
    d->opaque = opaque;
}

void usb_device_wakeup(USBDevice *d)
{
    if (d->remote_wakeup && d->port_wakeup)
        d->port_wakeup(d->port, d);
}

void usb_device_reset(USBDevice *d)
{
    d->addr = d->pending_addr = 0;
    d->configuration = 0;
    d->remote_wakeup = false;
    d->stage = USB_CTRL_IDLE;
    d->ctrl_len = d->ctrl_pos = 0;
    d->halted = 0;
    if (d->info->reset)
        d->info->reset(d->opaque);
}

/* String descriptor n: 0 is the language list, the rest ASCII -> UTF-16LE. */
static int string_descriptor(USBDevice *d, unsigned n, uint8_t *out)
{
    if (n == 0) {
        out[0] = 4;
        out[1] = USB_DT_STRING;
        out[2] = USB_LANG_EN_US & 0xff;
        out[3] = USB_LANG_EN_US >> 8;
        return 4;
    }
    if (n > d->info->nstrings || !d->info->strings[n - 1])
        return USB_RET_STALL;
    const char *s = d->info->strings[n - 1];
    size_t len = strlen(s);
    if (len > 126)
        len = 126;                /* bLength is one byte */
    out[0] = (uint8_t)(2 + 2 * len);
    out[1] = USB_DT_STRING;
    for (size_t i = 0; i < len; i++) {
        out[2 + 2 * i] = (uint8_t)s[i];
        out[3 + 2 * i] = 0;
    }
    return (int)(2 + 2 * len);
}

static int get_descriptor(USBDevice *d, const USBSetup *s, uint8_t *out)
{
    unsigned type = s->value >> 8, index = s->value & 0xff;
    switch (type) {
    case USB_DT_DEVICE:
        memcpy(out, d->info->device_desc, 18);
        return 18;
    case USB_DT_CONFIG:
        if (index != 0)
            return USB_RET_STALL;
        memcpy(out, d->info->config_desc, d->info->config_len);
        return (int)d->info->config_len;
    case USB_DT_STRING:
        return string_descriptor(d, index, out);
    default:
        /* Class descriptors (HID, report) belong to the function. */
        return d->info->handle_control ? d->info->handle_control(d->opaque, s, out)
                                       : USB_RET_STALL;
    }
}

/* The configuration value the only configuration descriptor announces. */
static uint8_t config_value(const USBDevice *d)
{
    return d->info->config_desc[5];
}

static int standard_device_request(USBDevice *d, const USBSetup *s, uint8_t *data)
{
    switch (s->request) {
    case USB_REQ_GET_STATUS:
        /* Self-powered (bit 0) per the config's bmAttributes bit 6. */
        data[0] = (uint8_t)(((d->info->config_desc[7] >> 6) & 1) |
                            (d->remote_wakeup ? 2 : 0));
        data[1] = 0;
        return 2;
    case USB_REQ_CLEAR_FEATURE:
    case USB_REQ_SET_FEATURE:
        if (s->value != USB_FEATURE_REMOTE_WAKEUP)
            return USB_RET_STALL;
        d->remote_wakeup = s->request == USB_REQ_SET_FEATURE;
        return 0;
    case USB_REQ_SET_ADDRESS:
        if (s->value > 127)
            return USB_RET_STALL;
        d->pending_addr = (uint8_t)s->value;
        return 0;
    case USB_REQ_GET_DESCRIPTOR:
        return get_descriptor(d, s, data);
    case USB_REQ_GET_CONFIGURATION:
        data[0] = d->configuration;
        return 1;
    case USB_REQ_SET_CONFIGURATION:
        if (s->value != 0 && s->value != config_value(d))
            return USB_RET_STALL;
        d->configuration = (uint8_t)s->value;
        d->halted = 0;
        return 0;
    default:
        return USB_RET_STALL;
    }
}

static int standard_request(USBDevice *d, const USBSetup *s, uint8_t *data)
{
    switch (s->type & USB_RECIP_MASK) {
    case USB_RECIP_DEVICE:
        return standard_device_request(d, s, data);
    case USB_RECIP_INTERFACE:
        if (s->request == USB_REQ_GET_STATUS) {
            data[0] = data[1] = 0;
            return 2;
        }
        if (s->request == USB_REQ_GET_INTERFACE) {
            data[0] = 0;
            return 1;
        }
        if (s->request == USB_REQ_SET_INTERFACE)
            return s->value == 0 ? 0 : USB_RET_STALL;   /* one alternate setting */
        if (s->request == USB_REQ_GET_DESCRIPTOR && d->info->handle_control)
            return d->info->handle_control(d->opaque, s, data);
        return USB_RET_STALL;
    case USB_RECIP_ENDPOINT: {
        unsigned ep = s->index & 0x0f;
        if (s->request == USB_REQ_GET_STATUS) {
            data[0] = (uint8_t)((d->halted >> ep) & 1);
            data[1] = 0;
            return 2;
        }
        if ((s->request == USB_REQ_CLEAR_FEATURE || s->request == USB_REQ_SET_FEATURE) &&
            s->value == USB_FEATURE_ENDPOINT_HALT) {
            if (s->request == USB_REQ_SET_FEATURE && ep)
                d->halted |= (uint16_t)(1u << ep);
            else
                d->halted &= (uint16_t)~(1u << ep);
            return 0;
        }
        return USB_RET_STALL;
    }
    default:
        return USB_RET_STALL;
    }
}

/* Runs the request of the SETUP stage; data is the data stage buffer. */
static int run_request(USBDevice *d, const USBSetup *s, uint8_t *data)
{
    if ((s->type & USB_TYPE_MASK) == USB_TYPE_STANDARD)
        return standard_request(d, s, data);
    return d->info->handle_control ? d->info->handle_control(d->opaque, s, data)
                                   : USB_RET_STALL;
}

static USBSetup parse_setup(const uint8_t *b)
{
    return (USBSetup){ .type = b[0], .request = b[1],
                       .value = (uint16_t)(b[2] | b[3] << 8),
                       .index = (uint16_t)(b[4] | b[5] << 8),
                       .length = (uint16_t)(b[6] | b[7] << 8) };
}

static int control_setup(USBDevice *d, const uint8_t *buf, int len)
{
    if (len != 8) {
        d->stage = USB_CTRL_STALLED;
        return USB_RET_STALL;
    }
    memcpy(d->setup_raw, buf, 8);
    USBSetup s = parse_setup(buf);
    d->ctrl_pos = 0;
    if (s.length > USB_CTRL_BUF) {
        d->stage = USB_CTRL_STALLED;  /* acknowledged; the next stage stalls */
        return 8;
    }
    if (s.type & USB_DIR_IN) {
        memset(d->ctrl_buf, 0, sizeof d->ctrl_buf);
        int r = run_request(d, &s, d->ctrl_buf);
        if (r < 0) {
            d->stage = USB_CTRL_STALLED;
            return 8;
        }
        d->ctrl_len = (uint16_t)MIN((unsigned)r, s.length);
        d->stage = USB_CTRL_DATA_IN;
        return 8;
    }
    d->ctrl_len = s.length;
    if (s.length) {
        d->stage = USB_CTRL_DATA_OUT;
        return 8;
    }
    d->stage = run_request(d, &s, d->ctrl_buf) < 0 ? USB_CTRL_STALLED : USB_CTRL_STATUS_IN;
    return 8;                     /* the SETUP packet's 8 bytes were taken */
}

static int control_in(USBDevice *d, uint8_t *buf, int len)
{
    switch (d->stage) {
    case USB_CTRL_DATA_IN: {
        int n = MIN(len, d->ctrl_len - d->ctrl_pos);
        memcpy(buf, d->ctrl_buf + d->ctrl_pos, (size_t)n);
        d->ctrl_pos = (uint16_t)(d->ctrl_pos + n);
        return n;
    }
    case USB_CTRL_STATUS_IN:
        /* The status stage ends the request: SET_ADDRESS takes effect now. */
        d->addr = d->pending_addr;
        d->stage = USB_CTRL_IDLE;
        return 0;
    default:
        return USB_RET_STALL;
    }
}

static int control_out(USBDevice *d, const uint8_t *buf, int len)
{
    switch (d->stage) {
    case USB_CTRL_DATA_OUT: {
        if (len > d->ctrl_len - d->ctrl_pos) {
            d->stage = USB_CTRL_STALLED;
            return USB_RET_STALL;
        }
        memcpy(d->ctrl_buf + d->ctrl_pos, buf, (size_t)len);
        d->ctrl_pos = (uint16_t)(d->ctrl_pos + len);
        if (d->ctrl_pos == d->ctrl_len) {
            USBSetup s = parse_setup(d->setup_raw);
            d->stage = run_request(d, &s, d->ctrl_buf) < 0 ? USB_CTRL_STALLED
                                                           : USB_CTRL_STATUS_IN;
        }
        return len;
    }
    case USB_CTRL_DATA_IN:        /* the host may end a read early */
    case USB_CTRL_STATUS_OUT:
        d->stage = USB_CTRL_IDLE;
        return 0;
    default:
        return USB_RET_STALL;
    }
}

int usb_handle_packet(USBDevice *d, int pid, int ep, uint8_t *buf, int len)
{
    if (len < 0 || ep < 0 || ep >= USB_MAX_ENDPOINTS)
        return USB_RET_STALL;
    if (ep == 0) {
        switch (pid) {
        case USB_PID_SETUP: return control_setup(d, buf, len);
        case USB_PID_IN:    return control_in(d, buf, len);
        case USB_PID_OUT:   return control_out(d, buf, len);
        default:            return USB_RET_STALL;
        }
    }
    if (pid == USB_PID_SETUP || !d->configuration || (d->halted >> ep & 1) ||
        !d->info->handle_data)
        return USB_RET_STALL;
    return d->info->handle_data(d->opaque, pid, ep, buf, len);
}

USBDevice *usb_find_device(USBDevice *d, unsigned addr)
{
    if (d->addr == addr)
        return d;
    return d->info->find_device ? d->info->find_device(d->opaque, addr) : NULL;
}

int usb_device_check(USBDevice *d, char **err)
{
    if (d->addr > 127 || d->pending_addr > 127 || d->stage > USB_CTRL_STALLED ||
        d->ctrl_len > USB_CTRL_BUF || d->ctrl_pos > d->ctrl_len ||
        (d->configuration && d->configuration != config_value(d))) {
        set_error(err, "%s: USB device state out of range", d->info->name);
        return -1;
    }
    return 0;
}

static const VMField usb_device_fields[] = {
    VMF_U8(addr, USBDevice), VMF_U8(pending_addr, USBDevice),
    VMF_U8(configuration, USBDevice), VMF_BOOL(remote_wakeup, USBDevice),
    VMF_U8(stage, USBDevice), VMF_U8_ARRAY(setup_raw, USBDevice, 8),
    VMF_U16(ctrl_len, USBDevice), VMF_U16(ctrl_pos, USBDevice),
    VMF_U8_ARRAY(ctrl_buf, USBDevice, USB_CTRL_BUF), VMF_U16(halted, USBDevice),
    VMF_END
};

const VMStateDesc usb_device_vmsd = {
    .name = "usb-device", .version = 1, .min_version = 1, .fields = usb_device_fields,
};
