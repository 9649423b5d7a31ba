/*
 * The machine self-test (run by tests/unit/test_selftest.c): exercises the core services of a
 * live Machine (RAM, memory map and IO dispatch, clock and timers, device
 * state save/load) without a CPU or a guest.
 */
#ifndef VX86_CORE_SELFTEST_H
#define VX86_CORE_SELFTEST_H

#include <stdio.h>

#include "core/machine.h"

/* Runs every check on m and prints "vx86 self-test: N checks passed" to out
 * (returns 0), or names the first failing check (returns 1).  Whatever it
 * registers on m (a RAM mapping when there is none, a test MMIO region, a
 * port range, timers, a test device) is removed again before it returns;
 * the first and last page of RAM are overwritten. */
int machine_selftest(Machine *m, FILE *out);

#endif
