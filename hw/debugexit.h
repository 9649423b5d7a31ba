/*
 * isa-debug-exit: a port range that ends the emulator with a status the
 * guest chooses, for test kernels (`-device isa-debug-exit,iobase=0xf4,
 * iosize=0x04`).  Writing v exits with status (v << 1) | 1, so a guest can
 * never fake a plain 0 ("emulator ran fine").
 */
#ifndef VX86_HW_DEBUGEXIT_H
#define VX86_HW_DEBUGEXIT_H

#include <stdint.h>

#include "core/machine.h"

typedef struct DebugExitState DebugExitState;

/* Claims ports [iobase, iobase+iosize) and registers "isa-debug-exit".
 * iosize must be 1, 2 or 4.  Returns NULL on a bad size or taken ports. */
DebugExitState *debugexit_create(Machine *m, uint16_t iobase, uint16_t iosize);

#endif
