/*
 * A small USB device framework (hw/usb/usb-core.c): what a host
 * controller (hw/usb/uhci.c) and a function model (hw/usb/usb-hid.c)
 * agree on.  A controller hands each token of a transfer descriptor to
 * usb_handle_packet(); the framework runs the control pipe (endpoint 0:
 * SETUP, data and status stages, USB 2.0 chapter 8.5.3) and the standard
 * requests of chapter 9.4 from the function's descriptor table, and
 * passes class requests and the other endpoints to the function.
 *
 *   static const USBDeviceInfo tablet_info = {
 *       .name = "usb-tablet", .device_desc = dev, .config_desc = cfg,
 *       .config_len = sizeof cfg, .strings = strs, .nstrings = 4,
 *       .handle_control = hid_control, .handle_data = hid_data,
 *       .reset = hid_reset,
 *   };
 *   usb_device_init(&hid->dev, &tablet_info, hid);
 *   uhci_attach(uhci, &hid->dev);       // the board picks the port
 *
 * Results of a packet: a byte count (>= 0) or one of USB_RET_*.  A
 * device never reads or writes more than the len it is given.
 */
#ifndef VX86_HW_USB_USB_H
#define VX86_HW_USB_USB_H

#include <stdbool.h>
#include <stdint.h>

#include "core/vmstate.h"

/* Token PIDs (USB 2.0 table 8-1). */
#define USB_PID_OUT    0xe1
#define USB_PID_IN     0x69
#define USB_PID_SETUP  0x2d

#define USB_RET_NODEV  (-1)    /* nobody answered: timeout */
#define USB_RET_NAK    (-2)    /* no data now, try again later */
#define USB_RET_STALL  (-3)    /* request or endpoint refused */

/* bmRequestType direction and type (USB 2.0 table 9-2). */
#define USB_DIR_IN              0x80
#define USB_TYPE_MASK           0x60
#define USB_TYPE_STANDARD       0x00
#define USB_TYPE_CLASS          0x20
#define USB_RECIP_MASK          0x1f
#define USB_RECIP_DEVICE        0x00
#define USB_RECIP_INTERFACE     0x01
#define USB_RECIP_ENDPOINT      0x02

/* Standard requests (table 9-4) and descriptor types (table 9-5). */
#define USB_REQ_GET_STATUS        0
#define USB_REQ_CLEAR_FEATURE     1
#define USB_REQ_SET_FEATURE       3
#define USB_REQ_SET_ADDRESS       5
#define USB_REQ_GET_DESCRIPTOR    6
#define USB_REQ_SET_DESCRIPTOR    7
#define USB_REQ_GET_CONFIGURATION 8
#define USB_REQ_SET_CONFIGURATION 9
#define USB_REQ_GET_INTERFACE     10
#define USB_REQ_SET_INTERFACE     11
#define USB_DT_DEVICE           1
#define USB_DT_CONFIG           2
#define USB_DT_STRING           3
#define USB_FEATURE_ENDPOINT_HALT   0
#define USB_FEATURE_REMOTE_WAKEUP   1

#define USB_MAX_ENDPOINTS       16
#define USB_CTRL_BUF            1024   /* longest control data stage */

typedef struct USBDevice USBDevice;

/* A control request as the SETUP packet carries it (table 9-2). */
typedef struct USBSetup {
    uint8_t type, request;
    uint16_t value, index, length;
} USBSetup;

typedef struct USBDeviceInfo {
    const char *name;
    const uint8_t *device_desc;        /* 18 bytes */
    const uint8_t *config_desc;        /* the whole configuration, with
                                          interface, class and endpoint
                                          descriptors */
    unsigned config_len;
    const char *const *strings;        /* index 1.. (0 is the language list) */
    unsigned nstrings;
    /* A request the framework does not answer itself (class requests,
     * GET_DESCRIPTOR of class descriptors).  IN requests fill data (at
     * most setup->length bytes, <= USB_CTRL_BUF) and return the length;
     * OUT requests get the data stage in data.  USB_RET_STALL refuses. */
    int (*handle_control)(void *opaque, const USBSetup *setup, uint8_t *data);
    /* A token to an endpoint other than 0 (1..15). */
    int (*handle_data)(void *opaque, int pid, int ep, uint8_t *buf, int len);
    /* Bus reset: back to the default state. */
    void (*reset)(void *opaque);
    /* Hubs: the enabled downstream device with this address (searching
     * deeper hubs too), or NULL; and the device on downstream port n
     * (1-based), or NULL. */
    USBDevice *(*find_device)(void *opaque, unsigned addr);
    USBDevice *(*port_device)(void *opaque, unsigned port);
} USBDeviceInfo;

typedef enum USBCtrlStage {
    USB_CTRL_IDLE, USB_CTRL_DATA_IN, USB_CTRL_DATA_OUT, USB_CTRL_STATUS_IN,
    USB_CTRL_STATUS_OUT,
} USBCtrlStage;

struct USBDevice {
    const USBDeviceInfo *info;
    void *opaque;
    /* The port the device is attached to hears its resume signalling
     * (usb_device_wakeup); set by the controller or hub that attaches it,
     * NULL: nobody listens. */
    void (*port_wakeup)(void *port, USBDevice *d);
    void *port;
    /* Saved state (usb_device_vmsd). */
    uint8_t addr;             /* 0 until SET_ADDRESS */
    uint8_t pending_addr;     /* applied after the status stage */
    uint8_t configuration;    /* 0: not configured */
    bool remote_wakeup;
    uint8_t stage;            /* USBCtrlStage */
    uint8_t setup_raw[8];
    uint16_t ctrl_len;        /* bytes of the data stage */
    uint16_t ctrl_pos;        /* bytes moved so far */
    uint8_t ctrl_buf[USB_CTRL_BUF];
    uint16_t halted;          /* bit n: endpoint n halted (IN and OUT alike) */
};

extern const VMStateDesc usb_device_vmsd;

void usb_device_init(USBDevice *d, const USBDeviceInfo *info, void *opaque);
/* Bus reset (the port's reset signalling). */
void usb_device_reset(USBDevice *d);
/* The device has new input for the host: when the host enabled remote
 * wakeup (SET_FEATURE DEVICE_REMOTE_WAKEUP, USB 2.0 9.4.5) it signals
 * resume to its port, which acts on it only while suspended (USB 2.0
 * 7.1.7.7): a guest that suspended the idle device (Linux's usbhid
 * autosuspend) gets it back. */
void usb_device_wakeup(USBDevice *d);
/* One token addressed to this device (the controller matched the
 * address).  buf holds len bytes (OUT/SETUP) or room for len (IN). */
int usb_handle_packet(USBDevice *d, int pid, int ep, uint8_t *buf, int len);
/* d itself when its address is addr, else a device behind it when d is
 * a hub (usb-hub.c); NULL when nobody has the address. */
USBDevice *usb_find_device(USBDevice *d, unsigned addr);
/* Checks loaded state; -1 with *err set when it is inconsistent. */
int usb_device_check(USBDevice *d, char **err);

#endif
