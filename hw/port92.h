/*
 * System Control Port A (port 0x92, "fast A20"): bit 1 gates A20, writing
 * bit 0 as 1 resets the machine.
 *
 *   Port92State *p = port92_create(m, 0x92, &board->a20_port92);
 *
 * The a20 line carries this port's own A20 gate (1 = enabled); the board
 * ORs it with the keyboard controller's gate.
 */
#ifndef VX86_HW_PORT92_H
#define VX86_HW_PORT92_H

#include <stdbool.h>

#include "core/irq.h"
#include "core/machine.h"

typedef struct Port92State Port92State;

/* Claims the port (the PC: 0x92) and registers device "port92".  a20 may
 * be NULL.  Returns NULL when the port is taken. */
Port92State *port92_create(Machine *m, uint16_t port, IRQLine *a20);

#endif
