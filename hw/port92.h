/*
 * System Control Port A (port 0x92, "fast A20"): bit 1 gates A20, writing
 * bit 0 as 1 resets the machine.
 *
 *   Port92State *p = port92_create(m, board_set_a20_fast, board);
 *
 * The callback reports this port's own A20 gate; the board ORs it with the
 * keyboard controller's gate.
 */
#ifndef VX86_HW_PORT92_H
#define VX86_HW_PORT92_H

#include <stdbool.h>

#include "core/machine.h"

typedef struct Port92State Port92State;

/* Claims port 0x92 and registers device "port92".  a20_cb may be NULL.
 * Returns NULL when the port is taken. */
Port92State *port92_create(Machine *m, void (*a20_cb)(void *opaque, bool on), void *opaque);

#endif
