/*
 * For the harnesses that keep one Machine across inputs: what vx86's run
 * loop does between guest events and nothing else in a harness does.
 */
#ifndef VX86_TESTS_FUZZ_MACHINE_H
#define VX86_TESTS_FUZZ_MACHINE_H

#include "core/machine.h"
#include "core/memory.h"

/* Called at the start of every input.  A change of the memory map (a BAR
 * moved, a device reset unmapping one) retires the old regions, and the
 * run loop frees them once no vCPU can be reading (reclaim_memory_map);
 * a harness has no vCPU threads, so it frees them here.  Without it every
 * input's remapping stays allocated: the virtio harnesses grew ~1.2 KB an
 * input and ended out of memory after 2 million inputs. */
static inline void fuzz_machine_next_input(Machine *m)
{
    memmap_reclaim(m->mem);
}

#endif
