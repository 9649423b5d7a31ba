/*
 * National/TI 16550A UART, as a PC COM port (COM1 is base 0x3f8, IRQ 4;
 * COM2 0x2f8, IRQ 3).  Eight byte-wide registers at base..base+7.
 *
 *   CharDev *chr = chardev_open("stdio", err, sizeof err);
 *   UARTState *u = uart16550_create(m, 0x3f8, &isa_irq[4], chr);
 *   ...
 *   machine_free(m);      // frees the UART
 *   chardev_free(chr);    // the backend belongs to the caller: free it after
 *
 * The interrupt output goes to the IRQ line only while MCR.OUT2 is set and
 * loopback is off, as on PC serial cards (OUT2 enables the card's IRQ driver).
 */
#ifndef VX86_HW_UART16550_H
#define VX86_HW_UART16550_H

#include <stdint.h>

#include "core/irq.h"
#include "core/machine.h"
#include "host/chardev.h"

typedef struct UARTState UARTState;

/* Claims ports base..base+7 and registers the device ("uart16550", then
 * "uart16550.1", ...).  backend may be NULL (output dropped, no input).
 * Returns NULL when the ports are already taken or out of range. */
UARTState *uart16550_create(Machine *m, uint16_t base, IRQLine *irq, CharDev *backend);

#endif
