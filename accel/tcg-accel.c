/*
 * The translator as an accelerator: one CPUState per machine CPU, run by
 * cpu_exec() with the engine the user chose (the x86-64 host backend by
 * default, the IR interpreter with -accel tcg,interp=on).
 *
 * How the CPUs map to host threads (-accel tcg,thread=):
 *   one CPU           the main loop's thread runs it (exec), as always;
 *   thread=single     the main loop's thread runs them round-robin, a time
 *                     slice each (TCG_SLICE_NS); a halted CPU gives its
 *                     turn up, exec reports HALTED only when all are;
 *   thread=multi      (the default with several CPUs) one host thread per
 *                     CPU (accel/vcpus.h), each in cpu_exec until kicked.
 * Either way each CPU takes its local APIC's NMI, INIT and start-up IPIs
 * between runs (tcg_cpu_events) and waits while its APIC says it waits
 * for a start-up IPI.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "accel/accel.h"
#include "accel/vcpus.h"
#include "core/log.h"
#include "core/machine.h"
#include "core/util.h"
#include "cpu/cpu.h"
#include "cpu/debug.h"

/* Round-robin time slice: a CPU spinning for a lock another holds wastes
 * at most this much before the holder runs. */
#define TCG_SLICE_NS 1000000

typedef struct TCGAccel {
    Machine *m;
    int ncpus;
    CPUState *cpu[MACHINE_MAX_CPUS];
    CPUState *running;        /* the CPU the round-robin runs now (the alarm's target) */
    int next;                 /* the round-robin's next CPU */
    int debug_cpu;            /* the CPU that stopped for the debugger */
    uint64_t debug_run;       /* the CPUs a debugger lets run (bit i: CPU i) */
    VCPUThreads *threads;     /* thread=multi */
    int a20;                  /* the board's A20 level (an INIT keeps it) */
} TCGAccel;

static bool tcg_probe(Machine *m, char *why, size_t len)
{
    return true;    /* the translator runs on every x86-64 host */
}

/* ---- the board's lines ---- */

static void tcg_set_a20(void *opaque, int n, int level)
{
    TCGAccel *t = opaque;
    __atomic_store_n(&t->a20, level, __ATOMIC_RELEASE);
    /* A CPU's TLB and code belong to its thread: one running elsewhere
     * gets the level through its mailbox (cpu/smp.h). */
    for (int i = 0; i < t->ncpus; i++)
        cpu_set_a20(t->cpu[i], level);
}

static void tcg_kick_cpu(void *opaque, int n, int level)
{
    TCGAccel *t = opaque;
    if (!level)
        return;
    for (int i = 0; i < t->ncpus; i++)
        cpu_interrupt_request(t->cpu[i]);
}

/* One thread: a CPU's interrupt pins changed.  As the one-CPU machine
 * always did, the running CPU leaves cpu_exec so the main loop looks
 * (timers, input) before it runs on; the round-robin then takes the
 * CPU's APIC events. */
static void tcg_cpu_kick_line(void *opaque, int n, int level)
{
    if (level)
        machine_request_stop(opaque);
}

/* The replay log's checkpoint fingerprint: general registers, rip, flags
 * and the control registers (core/replay.c). */
static uint64_t tcg_cpu_fingerprint(void *opaque, uint64_t *rip)
{
    X86ArchState s;
    cpu_get_arch_state(opaque, &s);
    uint64_t v[24];
    memcpy(v, s.regs, sizeof s.regs);
    v[16] = s.rip;
    v[17] = s.rflags;
    v[18] = s.cr0;
    v[19] = s.cr3;
    v[20] = s.cr4;
    v[21] = s.efer;
    v[22] = s.seg[R_CS].selector;
    v[23] = s.seg[R_SS].selector;
    uint64_t h = 0xcbf29ce484222325ULL;
    const uint8_t *p = (const uint8_t *)v;
    for (size_t i = 0; i < sizeof v; i++)
        h = (h ^ p[i]) * 0x100000001b3ULL;
    *rip = s.rip;
    return h;
}

static void tcg_cpu_set_icount(void *opaque, uint64_t count)
{
    cpu_set_icount(opaque, count);
}

/* The clock's alarm with several CPUs on one thread: the CPU running
 * now leaves translated code (a signal handler: flags only). */
static void tcg_rr_alarm(void *opaque)
{
    TCGAccel *t = opaque;
    CPUState *c = t->running;
    if (c) {
        c->clock_alarm = 1;
        __atomic_store_n(&c->exit_budget, -1, __ATOMIC_RELAXED);
    }
}

/* ---- the local APIC's events: NMI, INIT, start-up IPI ---- */

/* INIT: the power-on state of this CPU (SDM 3A 9.1: as RESET, but the
 * time-stamp counter runs on: every CPU's must stay equal). */
static void tcg_cpu_init(TCGAccel *t, int i)
{
    CPUState *cpu = t->cpu[i];
    X86ArchState s;
    char err[256];
    if (!accel_reset_state_cpu(t->m, i, &s, err, sizeof err)) {
        fprintf(stderr, "vx86: INIT of CPU %d: %s\n", i, err);
        return;
    }
    int64_t tsc_offset = cpu->tsc_offset;
    s.a20 = __atomic_load_n(&t->a20, __ATOMIC_ACQUIRE) != 0;
    if (cpu_put_arch_state(cpu, &s, err, sizeof err) < 0)
        fprintf(stderr, "vx86: INIT of CPU %d: %s\n", i, err);
    cpu->tsc_offset = tsc_offset;
    LOG(LOG_INT, "CPU %d: INIT\n", i);
}

/* Start-up IPI: real mode at vector << 12 (CS = vector << 8, IP = 0). */
static void tcg_cpu_sipi(TCGAccel *t, int i, int vector)
{
    CPUState *cpu = t->cpu[i];
    cpu_set_seg(cpu, R_CS, (uint16_t)(vector << 8), (uint64_t)vector << 12, 0xffff,
                SEG_P | SEG_S | SEG_CODE | SEG_W | SEG_A);
    cpu->rip = 0;
    cpu->halted = false;
    LOG(LOG_INT, "CPU %d: start-up IPI, vector %#x\n", i, vector);
}

/* Takes CPU i's APIC events (on the thread that runs it); false while it
 * waits for a start-up IPI. */
static bool tcg_cpu_events(TCGAccel *t, int i)
{
    CPUState *cpu = t->cpu[i];
    if (!cpu->board || !cpu->board->take_events)
        return true;
    int vector = 0;
    unsigned ev = cpu->board->take_events(cpu->board_opaque, &vector);
    if (ev & CPU_EVENT_INIT)
        tcg_cpu_init(t, i);
    if (ev & CPU_EVENT_SIPI)
        tcg_cpu_sipi(t, i, vector);
    /* Wait-for-SIPI holds NMIs off. */
    if ((ev & CPU_EVENT_NMI) && !(ev & CPU_EVENT_WAIT_SIPI))
        cpu_raise_nmi(cpu);
    return !(ev & CPU_EVENT_WAIT_SIPI);
}

/* ---- running ---- */

/* What cpu_exec's result means for the machine, reported as the one-CPU
 * accelerator always did. */
static AccelExit tcg_exit(TCGAccel *t, int i, int r)
{
    CPUState *cpu = t->cpu[i];
    switch (r) {
    case CPU_EXIT_HALTED:
        return ACCEL_EXIT_HALTED;
    case CPU_EXIT_SHUTDOWN:
        if (t->ncpus > 1)
            fprintf(stderr, "vx86: CPU %d: triple fault at %04x:%016llx\n", i,
                    cpu->seg[R_CS].selector, (unsigned long long)cpu->rip);
        else
            fprintf(stderr, "vx86: triple fault at %04x:%016llx\n",
                    cpu->seg[R_CS].selector, (unsigned long long)cpu->rip);
        return ACCEL_EXIT_SHUTDOWN;
    case CPU_EXIT_DEBUG:
        t->debug_cpu = i;
        return ACCEL_EXIT_DEBUG;
    case CPU_EXIT_ERROR:
        fprintf(stderr, "vx86: tcg: %s at %04x:%016llx\n", cpu->error,
                cpu->seg[R_CS].selector, (unsigned long long)cpu->rip);
        return ACCEL_EXIT_ERROR;
    default:
        return ACCEL_EXIT_DEADLINE;
    }
}

/* Whether a debugger's resume lets CPU i run: a CPU gdb's vCont did not
 * name stays where it stopped, its APIC events left pending. */
static bool tcg_debug_lets_run(const TCGAccel *t, int i)
{
    return (t->debug_run >> i) & 1;
}

/* Several CPUs on the main loop's thread: each in turn for a slice, from
 * where the last call stopped.  HALTED only when no CPU can run. */
static AccelExit tcg_exec_rr(TCGAccel *t, int64_t deadline_ns)
{
    Machine *m = t->m;
    bool all_idle = true;
    for (int k = 0; k < t->ncpus; k++) {
        int i = t->next;
        t->next = (t->next + 1) % t->ncpus;
        if (!tcg_debug_lets_run(t, i) || !tcg_cpu_events(t, i))
            continue;
        int64_t slice = clock_now(m->clock) + TCG_SLICE_NS;
        machine_set_current_cpu(i);
        t->running = t->cpu[i];
        int r = cpu_exec(t->cpu[i], slice < deadline_ns ? slice : deadline_ns);
        t->running = NULL;
        machine_set_current_cpu(0);
        AccelExit e = tcg_exit(t, i, r);
        if (e == ACCEL_EXIT_HALTED)
            continue;
        all_idle = false;
        if (e != ACCEL_EXIT_DEADLINE)
            return e;
        if (m->stop_requested || clock_now(m->clock) >= deadline_ns)
            return ACCEL_EXIT_DEADLINE;
    }
    return all_idle ? ACCEL_EXIT_HALTED : ACCEL_EXIT_DEADLINE;
}

static AccelExit tcg_exec(void *acc, int64_t deadline_ns)
{
    TCGAccel *t = acc;
    if (t->ncpus > 1)
        return tcg_exec_rr(t, deadline_ns);
    if (!tcg_cpu_events(t, 0))
        return ACCEL_EXIT_HALTED;
    return tcg_exit(t, 0, cpu_exec(t->cpu[0], deadline_ns));
}

static void tcg_kick(void *acc)
{
    TCGAccel *t = acc;
    for (int i = 0; i < t->ncpus; i++)
        cpu_interrupt_request(t->cpu[i]);
}

/* ---- thread=multi: the vCPU threads' hooks (accel/vcpus.h) ---- */

static bool tcg_prepare(void *acc, int i)
{
    /* A CPU the debugger holds sleeps as if halted: the next resume comes
     * after a machine pause, which wakes it to look again. */
    return tcg_debug_lets_run(acc, i) && tcg_cpu_events(acc, i);
}

static AccelExit tcg_run(void *acc, int i)
{
    TCGAccel *t = acc;
    /* The main thread runs the timers: the CPU runs until kicked. */
    return tcg_exit(t, i, cpu_exec(t->cpu[i], INT64_MAX));
}

static void tcg_kick_one(void *acc, int i)
{
    TCGAccel *t = acc;
    cpu_stop(t->cpu[i]);
}

static const VCPUHooks tcg_vcpu_hooks = {
    .prepare = tcg_prepare,
    .run = tcg_run,
    .kick = tcg_kick_one,
};

static bool tcg_threaded(void *acc)
{
    return ((TCGAccel *)acc)->threads != NULL;
}

static int tcg_cpu_thread_id(void *acc, int cpu)
{
    TCGAccel *t = acc;
    return t->threads ? vcpu_threads_tid(t->threads, cpu) : 0;
}

/* ---- set-up ---- */

static void tcg_free(void *acc);

static void *tcg_init(Machine *m, const AccelOpt *opt, char *err, size_t len)
{
    CPUConfig cfg = CPU_CONFIG_DEFAULT;
    cfg.engine = opt->interp ? "interp" : "x86_64";
    cfg.model_name = m->opts ? m->opts->cpu_model : NULL;
    int n = m->ncpus > 0 && m->ncpus <= MACHINE_MAX_CPUS ? m->ncpus : 1;
    TCGAccel *t = xcalloc(1, sizeof(*t));
    t->debug_run = ACCEL_RUN_ALL;
    t->m = m;
    t->a20 = m->a20.level;
    for (int i = 0; i < n; i++) {
        t->cpu[i] = cpu_create(m, i, &cfg, err, len);
        if (!t->cpu[i]) {
            tcg_free(t);
            return NULL;
        }
        t->ncpus = i + 1;
        t->cpu[i]->board = m->cpu_ops;
        t->cpu[i]->board_opaque = m->cpu_opaque[i];
    }
    irq_connect(&m->a20, tcg_set_a20, t, 0);
    machine_set_kick(m, tcg_kick_cpu, t);
    if (m->icount) {
        /* Counting and replay follow one CPU (-smp 1: core/options.c). */
        if (n > 1) {
            snprintf(err, len, "-icount needs -smp 1");
            tcg_free(t);
            return NULL;
        }
        cpu_icount_enable(t->cpu[0]);
        m->cpu_fingerprint = tcg_cpu_fingerprint;
        m->cpu_set_icount = tcg_cpu_set_icount;
        m->icount_cpu = t->cpu[0];
    }
    bool multi = opt->thread == ACCEL_THREAD_MULTI ||
                 (opt->thread == ACCEL_THREAD_DEFAULT && n > 1);
    if (multi) {
        for (int i = 0; i < n; i++) {
            /* The main loop runs the timers and takes the clock's alarm
             * (core/runloop.c): the CPUs never read deadlines. */
            t->cpu[i]->clock_alarm_set = true;
            t->cpu[i]->timers_elsewhere = true;
            t->cpu[i]->pause_spin_yield = n > 1;
        }
        t->threads = vcpu_threads_new(m, &tcg_vcpu_hooks, t, n, err, len);
        if (!t->threads) {
            tcg_free(t);
            return NULL;
        }
    } else {
        for (int i = 0; i < n; i++)
            irq_connect(&m->cpu_kick[i], tcg_cpu_kick_line, m, i);
        if (n > 1) {
            /* One alarm for all: it stops whichever CPU runs.  A CPU
             * spinning on PAUSE gives its turn up (cpu/translate-ops.c). */
            for (int i = 0; i < n; i++) {
                t->cpu[i]->clock_alarm_set = true;
                t->cpu[i]->pause_yields = true;
            }
            clock_set_alarm(m->clock, tcg_rr_alarm, t);
        }
    }
    LOG(LOG_ACCEL, "tcg: engine %s, %d CPU%s%s\n", cfg.engine, n, n > 1 ? "s" : "",
        n == 1 ? "" : multi ? ", a thread each" : ", round-robin on one thread");
    return t;
}

static void tcg_free(void *acc)
{
    TCGAccel *t = acc;
    if (!t)
        return;
    vcpu_threads_free(t->threads);
    t->threads = NULL;
    if (t->ncpus > 1)
        clock_set_alarm(t->m->clock, NULL, NULL);
    irq_connect(&t->m->a20, NULL, NULL, 0);
    machine_set_kick(t->m, NULL, NULL);
    for (int i = 0; i < MACHINE_MAX_CPUS; i++)
        if (t->m->cpu_kick[i].handler == tcg_cpu_kick_line)
            irq_connect(&t->m->cpu_kick[i], NULL, NULL, i);
    if (t->m->icount) {
        clock_set_counter(t->m->clock, NULL, NULL);
        clock_set_deadline_notify(t->m->clock, NULL, NULL);
        t->m->cpu_fingerprint = NULL;
        t->m->cpu_set_icount = NULL;
    }
    for (int i = 0; i < t->ncpus; i++) {
        if (t->ncpus > 1)
            t->cpu[i]->clock_alarm_set = false;   /* the alarm was not the CPU's */
        cpu_free(t->cpu[i]);
    }
    free(t);
}

/* ---- architectural state ---- */

static CPUState *tcg_cpu(TCGAccel *t, int cpu, char *err, size_t len)
{
    if (cpu < 0 || cpu >= t->ncpus) {
        snprintf(err, len, "no CPU %d (the machine has %d)", cpu, t->ncpus);
        return NULL;
    }
    return t->cpu[cpu];
}

static int tcg_get_cpu_state(void *acc, int cpu, X86ArchState *s, char *err, size_t len)
{
    CPUState *c = tcg_cpu(acc, cpu, err, len);
    if (!c)
        return -1;
    cpu_get_arch_state(c, s);
    return 0;
}

static int tcg_put_cpu_state(void *acc, int cpu, const X86ArchState *s, char *err, size_t len)
{
    CPUState *c = tcg_cpu(acc, cpu, err, len);
    return c ? cpu_put_arch_state(c, s, err, len) : -1;
}

/* ---- the debugger's side (cpu/debug.h does the work) ---- */

static int tcg_dbg_insert(void *acc, int type, uint64_t addr, uint64_t len)
{
    TCGAccel *t = acc;
    int rc = 0;
    for (int i = 0; i < t->ncpus; i++)
        rc |= cpu_debug_insert(t->cpu[i], (CPUBreakType)type, addr, len);
    return rc ? -1 : 0;
}

static int tcg_dbg_remove(void *acc, int type, uint64_t addr, uint64_t len)
{
    TCGAccel *t = acc;
    int rc = 0;
    for (int i = 0; i < t->ncpus; i++)
        rc |= cpu_debug_remove(t->cpu[i], (CPUBreakType)type, addr, len);
    return rc ? -1 : 0;
}

static void tcg_dbg_remove_all(void *acc)
{
    TCGAccel *t = acc;
    for (int i = 0; i < t->ncpus; i++)
        cpu_debug_remove_all(t->cpu[i]);
}

static void tcg_dbg_resume(void *acc, int cpu, bool step, bool irqs, uint64_t run)
{
    TCGAccel *t = acc;
    if (step && cpu >= 0 && cpu < t->ncpus)
        run |= 1ull << cpu;
    t->debug_run = run;
    for (int i = 0; i < t->ncpus; i++)
        cpu_debug_resume(t->cpu[i], step && i == cpu, irqs);
    if (step && cpu >= 0 && cpu < t->ncpus)
        t->next = cpu;             /* the round-robin starts with the stepping CPU */
}

static AccelDebugStop tcg_dbg_stopped(void *acc)
{
    TCGAccel *t = acc;
    int i = t->threads ? vcpu_threads_debug_cpu(t->threads) : t->debug_cpu;
    if (i < 0 || i >= t->ncpus)
        i = 0;
    CPUDebugStop s = cpu_debug_stop_reason(t->cpu[i]);
    static const AccelDebugReason map[] = {
        [CPU_DEBUG_NONE] = ACCEL_DEBUG_NONE, [CPU_DEBUG_STEP] = ACCEL_DEBUG_STEP,
        [CPU_DEBUG_BREAK] = ACCEL_DEBUG_BREAK, [CPU_DEBUG_WATCH] = ACCEL_DEBUG_WATCH,
    };
    return (AccelDebugStop){ i, map[s.reason], (int)s.type, s.addr };
}

static const AccelDebugOps tcg_debug_ops = {
    .insert = tcg_dbg_insert,
    .remove = tcg_dbg_remove,
    .remove_all = tcg_dbg_remove_all,
    .resume = tcg_dbg_resume,
    .stopped = tcg_dbg_stopped,
};

const AccelOps tcg_accel_ops = {
    .name = "tcg",
    .probe = tcg_probe,
    .init = tcg_init,
    .exec = tcg_exec,
    .kick = tcg_kick,
    .get_cpu_state = tcg_get_cpu_state,
    .put_cpu_state = tcg_put_cpu_state,
    .free = tcg_free,
    .debug = &tcg_debug_ops,
    .threaded = tcg_threaded,
    .cpu_thread_id = tcg_cpu_thread_id,
};
