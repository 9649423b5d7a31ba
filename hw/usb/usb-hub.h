/*
 * QEMU's usb-hub (hw/usb/usb-hub.c): a full-speed USB 1.1 hub with 8
 * downstream ports, so more devices fit than a controller has root ports.
 * It answers the hub class requests of USB 2.0 chapter 11.24 and reports
 * port changes on its status change endpoint (EP1 IN); a controller finds
 * the devices behind it with usb_find_device (usb.h).
 *
 *   USBHubState *h = usb_hub_create(m);
 *   uhci_attach(uhci, usb_hub_device(h));
 *   usb_hub_attach(h, usb_hid_device(tablet));   // the next free hub port
 */
#ifndef VX86_HW_USB_HUB_H
#define VX86_HW_USB_HUB_H

#include <stdbool.h>

#include "core/machine.h"
#include "hw/usb/usb.h"

#define USB_HUB_PORTS 8

typedef struct USBHubState USBHubState;

USBHubState *usb_hub_create(Machine *m);
USBDevice *usb_hub_device(USBHubState *h);
/* Connects dev to the hub's first free port; false when all are taken. */
bool usb_hub_attach(USBHubState *h, USBDevice *dev);

#endif
