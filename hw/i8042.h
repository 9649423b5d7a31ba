/*
 * Intel 8042 keyboard controller (PS/2 style, ports 0x60 data and 0x64
 * status/command) with a PS/2 keyboard on its first port and a PS/2 mouse
 * on its second (auxiliary) port.
 *
 *   I8042State *kbc = i8042_create(m, 0x60, 0x64, &isa_irq[1], &isa_irq[12],
 *                                  &board->a20_kbc);
 *   ps2_kbd_key_event(i8042_kbd(kbc), 0x1c, true);   // from the UI
 *
 * The a20 line carries the controller's own A20 gate (output port bit 1);
 * the board ORs it with port 0x92's gate.  A pulse of output port
 * bit 0 (command 0xFE) or writing it 0 requests a machine reset.
 */
#ifndef VX86_HW_I8042_H
#define VX86_HW_I8042_H

#include <stdbool.h>

#include "core/irq.h"
#include "core/machine.h"
#include "hw/ps2.h"

typedef struct I8042State I8042State;

/* Claims data_port and cmd_port (the PC: 0x60, 0x64), creates the keyboard
 * and mouse, registers the devices "i8042", "ps2-kbd", "ps2-mouse".  Any
 * line may be NULL.  Returns NULL when the ports are taken. */
I8042State *i8042_create(Machine *m, uint16_t data_port, uint16_t cmd_port,
                         IRQLine *irq1, IRQLine *irq12, IRQLine *a20);
PS2Kbd *i8042_kbd(I8042State *s);
PS2Mouse *i8042_mouse(I8042State *s);

#endif
