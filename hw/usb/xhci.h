/*
 * An xHCI host controller as QEMU's `-device qemu-xhci` shows it: PCI
 * 1b36:000d, class 0c.03.30, BAR0 a 16 KiB MMIO window with the
 * capability, operational, runtime and doorbell registers, MSI-X (BAR4)
 * and INTA# through the board's PIRQ routing.  Root hub: p2 USB 2 ports
 * (1..p2) and p3 USB 3 ports after them, declared in two Supported
 * Protocol capabilities; the HID functions (full speed) attach to the
 * USB 2 ports.
 *
 *   XHCIState *x = xhci_create(m, bus, devfn, 4, 4, err, len);
 *   if (!xhci_attach(x, usb_hid_device(tablet))) ... "no free USB port"
 *
 * Commands and transfers run when their doorbell is written; an interrupt
 * IN endpoint whose device has nothing to send (NAK) is polled on the
 * machine clock at the endpoint's interval.  Everything the guest controls
 * is bounded: rings are walked at most XHCI_RING_STEPS TRBs per doorbell,
 * a run of Link TRBs longer than XHCI_MAX_LINKS is a TRB Error, a TD of
 * more than XHCI_TD_TRBS TRBs or XHCI_MAX_XFER bytes is a TRB Error, slot,
 * endpoint, port and interrupter numbers and ERST sizes are checked, and
 * any structure outside guest RAM halts the controller with Host System
 * Error (xHCI 1.2, 4.10.2.6 and 5.4.2).
 */
#ifndef VX86_HW_USB_XHCI_H
#define VX86_HW_USB_XHCI_H

#include <stdbool.h>
#include <stddef.h>

#include "hw/pci.h"
#include "hw/usb/usb.h"

#define XHCI_MAX_PORTS_2   15     /* QEMU's limits for p2= and p3= */
#define XHCI_MAX_PORTS_3   15
#define XHCI_DEFAULT_PORTS 4
#define XHCI_RING_STEPS    256    /* TRBs taken from a ring per doorbell */
#define XHCI_MAX_LINKS     16     /* Link TRBs in a row */
#define XHCI_TD_TRBS       64     /* TRBs of one TD */
#define XHCI_MAX_XFER      65536  /* bytes of one TD */

typedef struct XHCIState XHCIState;

/* NULL with a message in err when devfn is taken or the port counts are
 * out of range (p2 0..15, p3 0..15, at least one port). */
XHCIState *xhci_create(Machine *m, PCIBus *bus, int devfn, int p2, int p3, char *err,
                       size_t len);
/* Connects dev to the first free USB 2 port; false when all are taken. */
bool xhci_attach(XHCIState *s, USBDevice *dev);
int xhci_usb2_ports(const XHCIState *s);

#endif
