/*
 * Intel 8042 keyboard controller (PS/2 style, ports 0x60 data and 0x64
 * status/command) with a PS/2 keyboard on its first port and a PS/2 mouse
 * on its second (auxiliary) port.
 *
 *   I8042State *kbc = i8042_create(m, &isa_irq[1], &isa_irq[12],
 *                                  board_set_a20_kbc, board);
 *   ps2_kbd_key_event(i8042_kbd(kbc), 0x1c, true);   // from the UI
 *
 * The A20 callback reports the controller's own A20 gate (output port
 * bit 1); the board ORs it with port 0x92's gate.  A pulse of output port
 * bit 0 (command 0xFE) or writing it 0 requests a machine reset.
 */
#ifndef VX86_HW_I8042_H
#define VX86_HW_I8042_H

#include <stdbool.h>

#include "core/irq.h"
#include "core/machine.h"
#include "hw/ps2.h"

typedef struct I8042State I8042State;

/* Claims ports 0x60 and 0x64, creates the keyboard and mouse, registers
 * the devices "i8042", "ps2-kbd", "ps2-mouse".  a20_cb may be NULL.
 * Returns NULL when the ports are taken. */
I8042State *i8042_create(Machine *m, IRQLine *irq1, IRQLine *irq12,
                         void (*a20_cb)(void *opaque, bool on), void *a20_opaque);
PS2Kbd *i8042_kbd(I8042State *s);
PS2Mouse *i8042_mouse(I8042State *s);

#endif
