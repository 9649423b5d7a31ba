/*
 * Bochs/QEMU debug console: bytes written to one port (0xe9 by convention)
 * go to a character backend; reading the port returns 0xe9 so a guest can
 * detect the console.
 *
 *   CharDev *log = chardev_open("file:debug.log", err, sizeof err);
 *   debugcon_create(m, 0xe9, log);     // free log after machine_free(m)
 */
#ifndef VX86_HW_DEBUGCON_H
#define VX86_HW_DEBUGCON_H

#include <stdint.h>

#include "core/machine.h"
#include "host/chardev.h"

typedef struct DebugconState DebugconState;

/* Claims the port and registers "debugcon".  out may be NULL (dropped).
 * Returns NULL when the port is taken. */
DebugconState *debugcon_create(Machine *m, uint16_t port, CharDev *out);

#endif
