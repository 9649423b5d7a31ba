/*
 * Breakpoints, watchpoints and single steps on the translator, for two
 * users: a debugger attached to the emulator (core/gdbstub.c, through the
 * accelerator's AccelDebugOps) and the guest's own debug registers
 * DR0-DR7 (#DB, SDM 3B ch. 17).  No guest memory is patched:
 *
 *  - instruction breakpoints are checked at translation time: a block
 *    never runs past an address with a breakpoint; a block that starts at
 *    one is that single instruction, preceded by a helper call that stops
 *    for the debugger (or raises #DB for DR0-3, unless EFLAGS.RF) -- so
 *    they work in ROM and survive code being reloaded;
 *  - watchpoints (and DR0-3 data breakpoints) mark their linear pages in
 *    the soft TLB (TLB_WATCH): accesses to those pages take the slow path,
 *    which checks the range; a hit restarts the instruction alone (as
 *    self-modifying code does), and the stop (or the #DB trap) comes right
 *    after it completed;
 *  - a debugger's single step runs one uncached instruction, with
 *    interrupts held off unless asked otherwise.
 *
 * The loop (cpu/exec.c) calls three hooks when cpu->dbg is set:
 * cpu_debug_insn_end at the top of each iteration, cpu_debug_irqs_held
 * before checking interrupts and cpu_debug_block_start before finding a
 * block; it returns CPU_EXIT_DEBUG when cpu->dbg->stop.reason is set.
 *
 *   cpu_debug_insert(cpu, CPU_BP_SW, 0x7c00, 1);
 *   cpu_debug_resume(cpu, false, false);
 *   if (cpu_exec(cpu, dl) == CPU_EXIT_DEBUG) ... cpu->dbg->stop ...
 */
#ifndef VX86_CPU_DEBUG_H
#define VX86_CPU_DEBUG_H

#include <stdbool.h>
#include <stdint.h>

typedef struct CPUState CPUState;

/* The gdb Z packet types. */
typedef enum CPUBreakType {
    CPU_BP_SW = 0, CPU_BP_HW = 1, CPU_WP_WRITE = 2, CPU_WP_READ = 3, CPU_WP_ACCESS = 4,
} CPUBreakType;

typedef enum CPUDebugReason {
    CPU_DEBUG_NONE = 0,
    CPU_DEBUG_STEP,       /* a debugger's single step completed */
    CPU_DEBUG_BREAK,      /* an instruction breakpoint (type, addr) */
    CPU_DEBUG_WATCH,      /* a watchpoint (type, addr: the watchpoint's start) */
} CPUDebugReason;

typedef struct CPUDebugStop {
    CPUDebugReason reason;
    CPUBreakType type;
    uint64_t addr;
} CPUDebugStop;

#define CPU_DEBUG_MAX_BP 64
#define CPU_DEBUG_MAX_WP 32

typedef struct CPUDebugPoint {
    uint64_t addr, len;
    CPUBreakType type;
} CPUDebugPoint;

typedef struct CPUDebug {
    CPUDebugPoint bp[CPU_DEBUG_MAX_BP];
    int nbp;
    CPUDebugPoint wp[CPU_DEBUG_MAX_WP];
    int nwp;
    bool step;            /* a debugger's single step is armed */
    bool step_irqs;       /* ... with interrupts delivered meanwhile */
    bool insn_running;    /* the one instruction of a step or re-run has started */
    bool rerun;           /* re-running an instruction that hit a watchpoint */
    bool skip_valid;      /* resume past the breakpoint at skip_pc once */
    uint64_t skip_pc;
    CPUDebugStop watch_hit;   /* found before the re-run (reason WATCH) */
    uint32_t guest_db_bits;   /* DR6 B0-B3 of data breakpoints found before the re-run */
    CPUDebugStop stop;        /* why the loop returned CPU_EXIT_DEBUG */
} CPUDebug;

/* Debugger breakpoints and watchpoints (type CPU_BP_* / CPU_WP_*): 0, or
 * -1 when the table is full / the point is not there. */
int cpu_debug_insert(CPUState *cpu, CPUBreakType type, uint64_t addr, uint64_t len);
int cpu_debug_remove(CPUState *cpu, CPUBreakType type, uint64_t addr, uint64_t len);
void cpu_debug_remove_all(CPUState *cpu);
/* Before the next cpu_exec after a stop: clears the stop, passes a
 * breakpoint at the current pc once, and arms a single step when step
 * (irqs: interrupts may be delivered during it). */
void cpu_debug_resume(CPUState *cpu, bool step, bool irqs);
/* Why the last cpu_exec returned CPU_EXIT_DEBUG (reason NONE otherwise). */
CPUDebugStop cpu_debug_stop_reason(const CPUState *cpu);
/* DR0-DR7 changed (MOV DRn, state put): breakpoints are re-read. */
void cpu_debug_dr_changed(CPUState *cpu);

/* ---- for the translator, the MMU and the loop ---- */

/* Is there an instruction breakpoint (the debugger's or DR0-3's) at lin? */
bool cpu_debug_insn_bp(CPUState *cpu, uint64_t lin);
/* Does the linear page of lin hold a watched byte? */
bool cpu_debug_page_watched(CPUState *cpu, uint64_t lin);
/* The helper a block with a breakpoint at its first instruction calls:
 * helper(env, rip) (cpu_debug_check_insn). */
struct IRHelper;
extern const struct IRHelper hlp_debug_insn;
void cpu_debug_check_insn(CPUState *cpu, uint64_t rip);
/* A slow-path access to a watched page (ra: the engine's return address). */
void cpu_debug_check_access(CPUState *cpu, uint64_t lin, unsigned size, bool write,
                            uintptr_t ra);
void cpu_debug_insn_end(CPUState *cpu);
bool cpu_debug_irqs_held(const CPUState *cpu);
void cpu_debug_block_start(CPUState *cpu);
/* The block cpu_debug_block_start prepared left at its entry (a kick from
 * another thread): its instruction did not run, the step is not over. */
void cpu_debug_block_not_run(CPUState *cpu);

#endif
