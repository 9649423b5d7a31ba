/*
 * Accelerators: what runs the guest CPUs.  The translator (TCG, in
 * cpu/exec.c, glued in accel/tcg-accel.c) and KVM (accel/kvm.c) both sit
 * in front of the same Machine; no device knows which one runs.  The main
 * loop (core/runloop.c) calls exec() with the next timer deadline, fires
 * due timers, polls input, and handles reset and shutdown requests.
 *
 * With -smp N the accelerator runs N CPUs: round-robin on the main loop's
 * thread (exec), or one host thread each (threaded(): the main loop then
 * only keeps timers, input and commands; accel/vcpus.h).
 *
 * A CPU's state crosses the interface only as architectural state
 * (cpu/arch-state.h), got and put whole: RESET (accel_reset_cpu), direct
 * Linux boot (hw/pc/linuxboot.c builds the entry state), `-d cpu_exit`,
 * saved machines (the "cpu" section; under KVM saving gets the state
 * first) and, later, a switch between accelerators.
 *
 * Selection follows QEMU: `-accel kvm -accel tcg` tries each in order, the
 * first whose probe and init succeed wins; with no -accel the default is
 * KVM where usable, else the translator.
 */
#ifndef VX86_CORE_ACCEL_H
#define VX86_CORE_ACCEL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "core/options.h"

#include "cpu/arch-state.h"

typedef struct Machine Machine;

typedef enum AccelExit {
    ACCEL_EXIT_DEADLINE,  /* reached the deadline or a stop request */
    ACCEL_EXIT_HALTED,    /* all CPUs halted: sleep until an event */
    ACCEL_EXIT_SHUTDOWN,  /* triple fault, already reported on stderr with
                             where: the machine decides (machine_triple_fault) */
    ACCEL_EXIT_ERROR,     /* emulation error: already reported on stderr */
    ACCEL_EXIT_DEBUG,     /* a debugger's breakpoint, watchpoint or step:
                             debug->stopped() says which */
} AccelExit;

/* Why exec() returned ACCEL_EXIT_DEBUG. */
typedef enum AccelDebugReason {
    ACCEL_DEBUG_NONE, ACCEL_DEBUG_STEP, ACCEL_DEBUG_BREAK, ACCEL_DEBUG_WATCH,
} AccelDebugReason;

typedef struct AccelDebugStop {
    int cpu;                  /* the CPU that stopped */
    AccelDebugReason reason;
    int type;                 /* the point's type (as in insert), BREAK/WATCH */
    uint64_t addr;            /* its address (a watchpoint's start) */
} AccelDebugStop;

/* What a debugger (core/gdbstub.c) asks of the accelerator, with the CPUs
 * stopped.  Breakpoints and watchpoints apply to every CPU.  Types are
 * those of gdb's Z packets:
 * 0 software and 1 hardware breakpoint (both on a linear address, without
 * patching guest memory), 2 write, 3 read, 4 access watchpoint (linear
 * range addr..addr+len-1; the stop comes after the accessing
 * instruction). */
#define ACCEL_RUN_ALL (~(uint64_t)0)

typedef struct AccelDebugOps {
    int (*insert)(void *acc, int type, uint64_t addr, uint64_t len);    /* 0 or -1 */
    int (*remove)(void *acc, int type, uint64_t addr, uint64_t len);    /* 0 or -1 */
    void (*remove_all)(void *acc);
    /* Before the CPUs run again after a stop: the CPUs in run (bit i:
     * CPU i; ACCEL_RUN_ALL: every one) run on, passing a breakpoint at
     * their current instruction, the others stay stopped until the next
     * resume (gdb's vCont leaves the threads it does not name stopped);
     * with step CPU cpu (which run includes) executes one instruction
     * and stops with ACCEL_EXIT_DEBUG (irqs: interrupts may be delivered
     * meanwhile). */
    void (*resume)(void *acc, int cpu, bool step, bool irqs, uint64_t run);
    AccelDebugStop (*stopped)(void *acc);
} AccelDebugOps;

typedef struct AccelOps {
    const char *name;
    /* Whether this accelerator can run this machine here; why not if not. */
    bool (*probe)(Machine *m, char *why, size_t len);
    void *(*init)(Machine *m, const AccelOpt *opt, char *err, size_t len);
    /* Runs the guest until virtual time deadline_ns (or a stop request);
     * with several CPUs, each in turn.  Not called when threaded. */
    AccelExit (*exec)(void *acc, int64_t deadline_ns);
    /* Called from another thread or a signal handler: make exec() return soon. */
    void (*kick)(void *acc);
    /* CPU cpu's (0 = the boot CPU) whole architectural state, with the
     * CPUs stopped (between exec() calls, or machine_vcpus_stop).  get
     * reads it; put replaces it (-1 with err set, the CPU unchanged as
     * far as the accelerator can tell, when it cannot hold s). */
    int (*get_cpu_state)(void *acc, int cpu, X86ArchState *s, char *err, size_t len);
    int (*put_cpu_state)(void *acc, int cpu, const X86ArchState *s, char *err, size_t len);
    void (*free)(void *acc);
    /* NULL when the accelerator cannot be debugged (-gdb refuses it). */
    const AccelDebugOps *debug;
    /* The CPUs run on host threads of their own (accel/vcpus.h): the main
     * loop does not call exec.  NULL: never. */
    bool (*threaded)(void *acc);
    /* The host thread id running CPU cpu (query-cpus-fast); NULL or 0:
     * the main loop's thread. */
    int (*cpu_thread_id)(void *acc, int cpu);
} AccelOps;

/* Registered accelerators, looked up by name ("tcg", "kvm"). */
const AccelOps *accel_find(const char *name);

/* -accel help: each accelerator and whether it is usable here (and why
 * not), one per line. */
void accel_print_help(Machine *m, FILE *f);

/* Tries the -accel list in order (default: kvm, then tcg); the first that
 * probes and initialises wins.  A fallback prints one notice line naming
 * why the earlier choice was refused.  Returns NULL with err set to one
 * line naming every refusal when none works. */
const AccelOps *accel_select(Machine *m, const VMOptions *o, void **acc,
                             char *err, size_t len);

/* The power-on state of the machine's -cpu model (cpu_arch_reset_state),
 * for RESET and as the base of other start states: of the boot CPU, or
 * of CPU index (its APIC_BASE has no BSP bit). */
bool accel_reset_state(Machine *m, X86ArchState *s, char *err, size_t len);
bool accel_reset_state_cpu(Machine *m, int index, X86ArchState *s, char *err, size_t len);
/* Puts every CPU in its power-on state, the boot CPU in boot0 when not
 * NULL (a direct kernel boot's entry).  The virtual clock stands still
 * meanwhile, so every CPU's time-stamp counter starts equal.  (The APs
 * then wait for a start-up IPI: their local APICs say so.) */
int accel_start_cpus(Machine *m, const AccelOps *ops, void *acc, const X86ArchState *boot0,
                     char *err, size_t len);
/* Machine reset: accel_start_cpus with every CPU at RESET. */
int accel_reset_cpu(Machine *m, const AccelOps *ops, void *acc, char *err, size_t len);
/* ops->threaded(acc), false when the hook is NULL. */
bool accel_threaded(const AccelOps *ops, void *acc);

#endif
