/*
 * vCPU threads (see vcpus.h).  One mutex (VCPUThreads.mu) guards the run
 * bookkeeping of every vCPU: the stop count, who is parked, kicks.  Lock
 * order: the machine's I/O lock before mu; a vCPU thread never waits for
 * the I/O lock while holding mu, and a stop lets go of the I/O lock while
 * it waits for the vCPUs to park.
 */
#include "accel/vcpus.h"

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "core/machine.h"
#include "core/util.h"

typedef struct VCPU {
    struct VCPUThreads *vt;
    int index;
    pthread_t thread;
    bool started;
    pthread_cond_t cond;      /* kicks and run-state changes, with vt->mu */
    bool kicked;              /* since the thread last looked at its CPU */
    bool parked;
    bool hold;                /* reported a debugger stop: parked until a stop round */
    int tid;
} VCPU;

struct VCPUThreads {
    Machine *m;
    VCPUHooks hooks;
    void *acc;
    int n;
    pthread_mutex_t mu;
    pthread_cond_t parked_cond;   /* one more vCPU parked */
    int stop_count;
    int nparked;
    bool quit;
    int debug_cpu;
    VCPU cpu[MACHINE_MAX_CPUS];
};

/* Thread context (like machine_current_cpu), not machine state. */
static __thread bool is_vcpu_thread;

bool vcpu_thread_self(void)
{
    return is_vcpu_thread;
}

/* vt->mu held. */
static bool must_park(VCPUThreads *vt, VCPU *v)
{
    return vt->quit || vt->stop_count > 0 || v->hold ||
           __atomic_load_n(&vt->m->state, __ATOMIC_RELAXED) != RUN_RUNNING;
}

/* What the CPU's run reported, told to the main loop (under the I/O
 * lock, which the caller does not hold). */
static void report_exit(VCPUThreads *vt, VCPU *v, AccelExit e)
{
    Machine *m = vt->m;
    machine_io_lock(m);
    switch (e) {
    case ACCEL_EXIT_SHUTDOWN:
        machine_triple_fault(m);       /* wakes the main loop */
        break;
    case ACCEL_EXIT_ERROR:
        if (m->state == RUN_RUNNING) {
            m->state = RUN_ERROR;
            m->exit_code = EXIT_EMULATION_ERROR;
        }
        machine_wake(m);
        break;
    case ACCEL_EXIT_DEBUG:
        vt->debug_cpu = v->index;
        m->debug_stop_pending = true;
        machine_wake(m);
        break;
    default:
        break;
    }
    machine_io_unlock(m);
}

static void *vcpu_main(void *opaque)
{
    VCPU *v = opaque;
    VCPUThreads *vt = v->vt;
    machine_set_current_cpu(v->index);
    is_vcpu_thread = true;
    v->tid = (int)syscall(SYS_gettid);
    pthread_mutex_lock(&vt->mu);
    for (;;) {
        while (must_park(vt, v)) {
            if (vt->quit)
                goto out;
            if (!v->parked) {
                v->parked = true;
                vt->nparked++;
                pthread_cond_broadcast(&vt->parked_cond);
            }
            pthread_cond_wait(&v->cond, &vt->mu);
        }
        if (v->parked) {
            v->parked = false;
            vt->nparked--;
        }
        /* Kicks from here on are seen: by prepare, or they end run. */
        v->kicked = false;
        pthread_mutex_unlock(&vt->mu);
        bool runnable = vt->hooks.prepare(vt->acc, v->index);
        AccelExit e = runnable ? vt->hooks.run(vt->acc, v->index) : ACCEL_EXIT_HALTED;
        if (e == ACCEL_EXIT_SHUTDOWN || e == ACCEL_EXIT_ERROR || e == ACCEL_EXIT_DEBUG)
            report_exit(vt, v, e);
        pthread_mutex_lock(&vt->mu);
        if (e == ACCEL_EXIT_DEBUG)
            v->hold = true;
        if (e == ACCEL_EXIT_HALTED) {
            /* Halted, or waiting for a start-up IPI: sleep until an
             * interrupt or IPI for this CPU (a kick) or a stop. */
            while (!v->kicked && !must_park(vt, v))
                pthread_cond_wait(&v->cond, &vt->mu);
        }
    }
out:
    if (v->parked) {
        v->parked = false;
        vt->nparked--;
    }
    pthread_mutex_unlock(&vt->mu);
    return NULL;
}

void vcpu_threads_kick(VCPUThreads *vt, int i)
{
    if (i < 0 || i >= vt->n)
        return;
    VCPU *v = &vt->cpu[i];
    pthread_mutex_lock(&vt->mu);
    v->kicked = true;
    pthread_cond_signal(&v->cond);
    pthread_mutex_unlock(&vt->mu);
    vt->hooks.kick(vt->acc, i);
}

static void cpu_kick_line(void *opaque, int n, int level)
{
    if (level)
        vcpu_threads_kick(opaque, n);
}

/* machine_vcpus_stop: every vCPU parked before it returns. */
static void vcpus_stop(void *opaque)
{
    VCPUThreads *vt = opaque;
    if (is_vcpu_thread)
        return;                /* a vCPU cannot wait for itself to park */
    int depth = machine_io_release(vt->m);
    pthread_mutex_lock(&vt->mu);
    vt->stop_count++;
    pthread_mutex_unlock(&vt->mu);
    for (int i = 0; i < vt->n; i++)
        vcpu_threads_kick(vt, i);
    pthread_mutex_lock(&vt->mu);
    while (vt->nparked < vt->n)
        pthread_cond_wait(&vt->parked_cond, &vt->mu);
    pthread_mutex_unlock(&vt->mu);
    machine_io_reacquire(vt->m, depth);
}

/* machine_vcpus_start: the last outstanding stop lets them look at the
 * run state again (a debugger stop's hold ends with it). */
static void vcpus_start(void *opaque)
{
    VCPUThreads *vt = opaque;
    if (is_vcpu_thread)
        return;
    pthread_mutex_lock(&vt->mu);
    if (vt->stop_count > 0)
        vt->stop_count--;
    if (vt->stop_count == 0) {
        for (int i = 0; i < vt->n; i++) {
            vt->cpu[i].hold = false;
            pthread_cond_signal(&vt->cpu[i].cond);
        }
    }
    pthread_mutex_unlock(&vt->mu);
}

VCPUThreads *vcpu_threads_new(Machine *m, const VCPUHooks *hooks, void *acc, int n,
                              char *err, size_t len)
{
    if (n < 1 || n > MACHINE_MAX_CPUS) {
        snprintf(err, len, "%d vCPU threads: out of range", n);
        return NULL;
    }
    VCPUThreads *vt = xcalloc(1, sizeof(*vt));
    vt->m = m;
    vt->hooks = *hooks;
    vt->acc = acc;
    vt->n = n;
    pthread_mutex_init(&vt->mu, NULL);
    pthread_cond_init(&vt->parked_cond, NULL);
    for (int i = 0; i < n; i++) {
        vt->cpu[i].vt = vt;
        vt->cpu[i].index = i;
        pthread_cond_init(&vt->cpu[i].cond, NULL);
    }
    m->io_lock_on = true;
    m->vcpus_stop = vcpus_stop;
    m->vcpus_start = vcpus_start;
    m->vcpus_opaque = vt;
    for (int i = 0; i < n; i++)
        irq_connect(&m->cpu_kick[i], cpu_kick_line, vt, i);
    for (int i = 0; i < n; i++) {
        int rc = pthread_create(&vt->cpu[i].thread, NULL, vcpu_main, &vt->cpu[i]);
        if (rc) {
            snprintf(err, len, "cannot start the thread of vCPU %d: %s", i, strerror(rc));
            vcpu_threads_free(vt);
            return NULL;
        }
        vt->cpu[i].started = true;
    }
    /* Every thread parks first (the machine is not running yet). */
    pthread_mutex_lock(&vt->mu);
    while (vt->nparked < n)
        pthread_cond_wait(&vt->parked_cond, &vt->mu);
    pthread_mutex_unlock(&vt->mu);
    return vt;
}

void vcpu_threads_free(VCPUThreads *vt)
{
    if (!vt)
        return;
    Machine *m = vt->m;
    int depth = machine_io_release(m);
    pthread_mutex_lock(&vt->mu);
    vt->quit = true;
    for (int i = 0; i < vt->n; i++)
        pthread_cond_signal(&vt->cpu[i].cond);
    pthread_mutex_unlock(&vt->mu);
    for (int i = 0; i < vt->n; i++) {
        if (!vt->cpu[i].started)
            continue;
        vt->hooks.kick(vt->acc, i);
        pthread_join(vt->cpu[i].thread, NULL);
    }
    machine_io_reacquire(m, depth);
    for (int i = 0; i < vt->n; i++) {
        irq_connect(&m->cpu_kick[i], NULL, NULL, i);
        pthread_cond_destroy(&vt->cpu[i].cond);
    }
    m->vcpus_stop = NULL;
    m->vcpus_start = NULL;
    m->vcpus_opaque = NULL;
    m->io_lock_on = false;
    pthread_cond_destroy(&vt->parked_cond);
    pthread_mutex_destroy(&vt->mu);
    free(vt);
}

bool vcpu_threads_kicked(VCPUThreads *vt, int i)
{
    pthread_mutex_lock(&vt->mu);
    bool k = vt->cpu[i].kicked;
    pthread_mutex_unlock(&vt->mu);
    return k;
}

int vcpu_threads_debug_cpu(VCPUThreads *vt)
{
    return vt->debug_cpu;
}

int vcpu_threads_tid(VCPUThreads *vt, int i)
{
    return i >= 0 && i < vt->n ? vt->cpu[i].tid : 0;
}
