/*
 * Accelerators: what runs the guest CPUs.  The translator (TCG, in
 * cpu/exec.c) and KVM (cpu/kvm.c) both sit in front of the same Machine;
 * no device knows which one runs.  The main loop (core/runloop.c) calls
 * exec() with the next timer deadline, fires due timers, polls input, and
 * handles reset and shutdown requests.
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

typedef struct Machine Machine;
struct LinuxBootEntry;
struct CPUState;

typedef enum AccelExit {
    ACCEL_EXIT_DEADLINE,  /* reached the deadline or a stop request */
    ACCEL_EXIT_HALTED,    /* all CPUs halted: sleep until an event */
    ACCEL_EXIT_ERROR,     /* emulation error: already reported on stderr */
} AccelExit;

typedef struct AccelOps {
    const char *name;
    /* Whether this accelerator can run this machine here; why not if not. */
    bool (*probe)(Machine *m, char *why, size_t len);
    void *(*init)(Machine *m, const AccelOpt *opt, char *err, size_t len);
    /* Runs the guest until virtual time deadline_ns (or a stop request). */
    AccelExit (*exec)(void *acc, int64_t deadline_ns);
    /* Called from another thread or a signal handler: make exec() return soon. */
    void (*kick)(void *acc);
    void (*reset)(void *acc);
    /* Puts the boot CPU in the state the Linux boot protocol asks for. */
    int (*load_linux_entry)(void *acc, const struct LinuxBootEntry *e, char *err, size_t len);
    /* The boot CPU's architectural state, read the same way under every
     * accelerator (KVM syncs it out of the kernel first).  Valid until the
     * next exec(). */
    struct CPUState *(*cpu_state)(void *acc);
    void (*free)(void *acc);
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

#endif
