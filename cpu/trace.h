/*
 * -d int and -d pcall: the lines a learner reads to follow control
 * transfers that change privilege, task or flow asynchronously.
 *
 * A transfer samples where it comes from (trace_from) before it changes
 * anything and describes where it went once it has committed, so a
 * transfer that faults halfway logs only the fault.  When neither item is
 * selected the cost is one test of log_mask per transfer (all of them are
 * helpers, never translated code).
 */
#ifndef VX86_CPU_TRACE_H
#define VX86_CPU_TRACE_H

#include <stdbool.h>
#include <stdint.h>

#include "core/log.h"
#include "cpu/cpu.h"

/* The state a transfer starts from. */
typedef struct TraceFrom {
    bool on;                 /* this transfer is logged (item and -dfilter) */
    int cpl;
    uint16_t cs, ss;
    uint64_t rip, sp;
} TraceFrom;

void trace_capture(const CPUState *cpu, TraceFrom *f);

/* Samples the start of a transfer that the items in `what` describe. */
static inline void trace_from(const CPUState *cpu, unsigned what, TraceFrom *f)
{
    f->on = false;
    if (log_enabled(what))
        trace_capture(cpu, f);
}

/* "#PF", "#GP", ... for exception vectors 0-31 that have a mnemonic, else NULL. */
const char *trace_exc_name(int vec);

/* -d int: the event (before delivery) and, once delivered, where it went. */
void trace_int_event(const CPUState *cpu, const TraceFrom *f, int vec, bool is_sw,
                     bool has_err, uint32_t err);
void trace_int_delivered(const CPUState *cpu, const TraceFrom *f);

/* -d pcall lines.  gate_type: the descriptor type (4/12 call gate, 5 task
 * gate, 6/7/14/15 interrupt and trap gates); ist: the long-mode gate's
 * IST index (0: none). */
void trace_int_gate(const CPUState *cpu, const TraceFrom *f, int vec, int gate_type,
                    int gate_dpl, unsigned ist, uint16_t tss_sel);
void trace_far_gate(const CPUState *cpu, const TraceFrom *f, const char *insn, uint16_t gate_sel,
                    int gate_type, int gate_dpl, unsigned nparams);
void trace_far_return(const CPUState *cpu, const TraceFrom *f, const char *insn);
/* A transfer straight to a code segment, no gate: a far JMP, CALL or RET
 * in protected or long mode (same ring, or RET to an outer one), SYSCALL,
 * SYSRET, SYSENTER, SYSEXIT.  The line is the far return's: insn from
 * CS:IP -> CS:IP, the CPL change and the stack (SS:SP before and after). */
void trace_far_direct(const CPUState *cpu, const TraceFrom *f, const char *insn);
/* reason: "JMP", "CALL", "IRET" or "INT" (through a task gate). */
void trace_task_switch(const CPUState *cpu, const TraceFrom *f, const char *reason,
                       uint16_t old_tr, bool t32, uint16_t link);

#endif
