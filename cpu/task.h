/*
 * Hardware task switching (protected mode, not IA-32e): far JMP/CALL to a
 * TSS or a task gate, IRET with EFLAGS.NT, interrupts through a task
 * gate.  Called from cpu/seg.c; see cpu/task.c.
 */
#ifndef VX86_CPU_TASK_H
#define VX86_CPU_TASK_H

#include <stdbool.h>
#include <stdint.h>

#include "cpu/cpu.h"

/* Far JMP (call=false) or CALL to sel, whose descriptor (lo, hi) is a TSS
 * (type 1/9, 3/11) or a task gate (type 5).  next_rip: the return address. */
void task_far_transfer(CPUState *cpu, uint16_t sel, uint32_t lo, uint32_t hi, bool call,
                       uint64_t next_rip);
/* IRET with NT=1: back to the task in the current TSS's link field. */
void task_iret(CPUState *cpu, uint64_t next_rip);
/* Interrupt or exception through the task gate (lo, hi) of the IDT (its
 * DPL and P bit already checked); the error code, if any, is pushed on the
 * new task's stack.  ext: 1 for an external event (error-code EXT bit). */
void task_gate_interrupt(CPUState *cpu, uint32_t lo, uint32_t hi, bool has_err, uint32_t err,
                         uint64_t next_rip, uint32_t ext);

#endif
