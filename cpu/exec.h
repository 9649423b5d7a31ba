/*
 * The execution loop's internal interface (cpu/exec.c), shared with the
 * translator, the MMU and the helpers.
 */
#ifndef VX86_CPU_EXEC_H
#define VX86_CPU_EXEC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "cpu/cpu.h"
#include "tcg/engine.h"

/* Exit values of translated blocks (exit_tb): 0 = look the next block up;
 * (TB pointer | (slot + 1)) = left through goto_tb slot `slot`, so the loop
 * may chain that slot to the next block. */
#define EXIT_TB_SLOT_MASK 3u

/* Instruction budget of one block.  Blocks stop earlier at branches, page
 * ends and instructions that change the translation state. */
#define TB_MAX_INSNS 64

/* The one place that picks an execution engine by name ("interp", NULL
 * for the default).  Returns NULL for unknown names. */
const IREngine *cpu_select_engine(const char *name);
bool cpu_exec_init(CPUState *cpu, const IREngine *e, char *err, size_t errlen);
void cpu_exec_destroy(CPUState *cpu);

/* A store reached a physical range holding translated code: invalidates
 * those blocks.  When the instruction doing the store is itself in an
 * invalidated block, restarts it alone in a fresh one-shot block
 * (does not return). */
void cpu_smc_check(CPUState *cpu, uint64_t phys, unsigned size, uintptr_t ra);
/* -icount: before a device (MMIO) access from translated code; restarts
 * the instruction as a block of its own unless it ends its block. */
void cpu_icount_io_check(CPUState *cpu, uintptr_t ra);

/* Linear pc of the current instruction (cs base + rip). */
uint64_t cpu_linear_pc(const CPUState *cpu);

/* The translated block for the CPU's current pc and mode from the block
 * cache (refilling the jump cache), without translating and without
 * faulting: NULL when there is none or its code page is not mapped. */
struct TB *cpu_find_cached_tb(CPUState *cpu);

/* Guest exceptions: the vectors that push an error code. */
bool cpu_exception_has_error(int vec);

#endif
