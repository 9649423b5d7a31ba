/*
 * The PIIX3 USB function: a UHCI host controller (PCI 8086:7020, class
 * 0c.03.00) with a root hub of two ports, as QEMU's `-usb` puts it at
 * 00:01.2 of the pc machine.  Registers (UHCI design guide 1.1, 2.1):
 * 32 IO ports behind BAR4; INTD# through the board's PIRQ routing.
 *
 *   UHCIState *u = uhci_create(m, bus, PCI_DEVFN(1, 2));
 *   if (!uhci_attach(u, usb_hid_device(tablet))) ... "no free USB port"
 *
 * While Run/Stop is set a timer on the machine clock plays the 1 ms
 * frames (a few per tick): the frame list entry of each frame is walked
 * through queue heads and transfer descriptors in guest RAM by bus-master
 * DMA.  Everything the guest controls is bounded: link pointers are
 * followed at most UHCI_MAX_LINKS times per frame and at most
 * UHCI_MAX_TDS descriptors are visited per frame (a real frame has room
 * for about 1500 bytes), a loop of queue heads (Linux's bandwidth
 * reclamation loop) ends once a pass over it made no progress, a maximum
 * length field beyond 1280 bytes or an unknown PID stops the controller
 * with HC Process Error, and descriptors or buffers outside RAM stop it
 * with Host System Error (both as the design guide's status bits say).
 */
#ifndef VX86_HW_USB_UHCI_H
#define VX86_HW_USB_UHCI_H

#include <stdbool.h>

#include "hw/pci.h"
#include "hw/usb/usb.h"

#define UHCI_PORTS      2
#define UHCI_MAX_LINKS  128     /* link pointers followed per frame */
#define UHCI_MAX_QUEUE  UHCI_MAX_TDS   /* TDs of one queue per frame */
#define UHCI_MAX_TDS    32      /* TDs visited per frame (a real frame holds 1500 bytes) */

typedef struct UHCIState UHCIState;

/* NULL when devfn is taken. */
UHCIState *uhci_create(Machine *m, PCIBus *bus, int devfn);
/* Connects dev to the first free root port; false when both are taken. */
bool uhci_attach(UHCIState *s, USBDevice *dev);

#endif
