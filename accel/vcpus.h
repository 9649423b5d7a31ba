/*
 * One host thread per vCPU, for any accelerator (the translator's
 * thread=multi, KVM with several CPUs).  The main thread keeps the main
 * loop (timers, input, commands, migration); each vCPU thread runs its
 * CPU and takes the machine's I/O lock only around device dispatch
 * (docs/architecture.md, "Threads and locking").
 *
 *   VCPUThreads *vt = vcpu_threads_new(m, &hooks, acc, n);   // threads start parked
 *   ... machine_run(m, ops, acc) ...   // runs them while RUN_RUNNING
 *   vcpu_threads_free(vt);              // joins them
 *
 * A vCPU thread runs while the machine is RUN_RUNNING and no stop is
 * outstanding; otherwise it parks at a safe point: outside guest code,
 * not holding the I/O lock.  machine_vcpus_stop (hooked here) kicks every
 * vCPU and waits until all are parked; machine_vcpus_start undoes it.
 * A vCPU whose CPU halted, or waits for a start-up IPI, sleeps on its
 * condition variable until vcpu_threads_kick (the board's cpu_kick line:
 * an interrupt or IPI for it) wakes it.
 */
#ifndef VX86_ACCEL_VCPUS_H
#define VX86_ACCEL_VCPUS_H

#include <stdbool.h>

#include "accel/accel.h"

typedef struct VCPUThreads VCPUThreads;

typedef struct VCPUHooks {
    /* On CPU i's thread, without the I/O lock: take the local APIC's
     * NMI/INIT/SIPI and anything else queued for the CPU; false when it
     * waits for a start-up IPI (nothing to run). */
    bool (*prepare)(void *acc, int i);
    /* On CPU i's thread, without the I/O lock: run it until it halts, is
     * kicked, or has something to report (a triple fault, an error, a
     * debugger stop).  ACCEL_EXIT_DEADLINE: nothing to report. */
    AccelExit (*run)(void *acc, int i);
    /* From any thread: CPU i's run returns soon. */
    void (*kick)(void *acc, int i);
} VCPUHooks;

/* Starts n parked threads (machine_set_current_cpu(i) in each) and sets
 * the machine up for them: the I/O lock on, the stop/start hooks, the
 * cpu_kick lines.  Returns NULL with err set when a thread cannot start. */
VCPUThreads *vcpu_threads_new(Machine *m, const VCPUHooks *hooks, void *acc, int n,
                              char *err, size_t len);
/* Stops and joins every thread; the machine is single-threaded again. */
void vcpu_threads_free(VCPUThreads *vt);
/* CPU i should look at its interrupt pins (wakes it from HLT). */
void vcpu_threads_kick(VCPUThreads *vt, int i);
/* CPU i was kicked since its thread last looked (prepare may ask). */
bool vcpu_threads_kicked(VCPUThreads *vt, int i);
/* The CPU of the vCPU thread that reported the last debugger stop. */
int vcpu_threads_debug_cpu(VCPUThreads *vt);
/* The host thread id of CPU i's thread (query-cpus-fast), 0 before it ran. */
int vcpu_threads_tid(VCPUThreads *vt, int i);
/* Is the calling thread one of the vCPU threads? */
bool vcpu_thread_self(void);

#endif
