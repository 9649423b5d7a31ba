/*
 * The translator as an accelerator: one CPUState per machine CPU, run by
 * cpu_exec() with the engine the user chose (the x86-64 host backend by
 * default, the IR interpreter with -accel tcg,interp=on).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "accel/accel.h"
#include "core/log.h"
#include "core/machine.h"
#include "core/util.h"
#include "cpu/cpu.h"
#include "cpu/debug.h"

typedef struct TCGAccel {
    Machine *m;
    CPUState *cpu;
} TCGAccel;

static bool tcg_probe(Machine *m, char *why, size_t len)
{
    return true;    /* the translator runs on every x86-64 host */
}

static void tcg_set_a20(void *opaque, int n, int level)
{
    cpu_set_a20(opaque, level);
}

static void tcg_kick_cpu(void *opaque, int n, int level)
{
    if (level)
        cpu_interrupt_request(opaque);
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

static void *tcg_init(Machine *m, const AccelOpt *opt, char *err, size_t len)
{
    CPUConfig cfg = CPU_CONFIG_DEFAULT;
    cfg.engine = opt->interp ? "interp" : "x86_64";
    cfg.model_name = m->opts ? m->opts->cpu_model : NULL;
    CPUState *cpu = cpu_create(m, 0, &cfg, err, len);
    if (!cpu)
        return NULL;
    TCGAccel *t = xcalloc(1, sizeof(*t));
    t->m = m;
    t->cpu = cpu;
    cpu->board = m->cpu_ops;
    cpu->board_opaque = m->cpu_opaque;
    irq_connect(&m->a20, tcg_set_a20, cpu, 0);
    machine_set_kick(m, tcg_kick_cpu, cpu);
    if (m->icount) {
        cpu_icount_enable(cpu);
        m->cpu_fingerprint = tcg_cpu_fingerprint;
        m->cpu_set_icount = tcg_cpu_set_icount;
        m->icount_cpu = cpu;
    }
    LOG(LOG_ACCEL, "tcg: engine %s\n", cfg.engine);
    return t;
}

static AccelExit tcg_exec(void *acc, int64_t deadline_ns)
{
    TCGAccel *t = acc;
    switch (cpu_exec(t->cpu, deadline_ns)) {
    case CPU_EXIT_HALTED:
        return ACCEL_EXIT_HALTED;
    case CPU_EXIT_SHUTDOWN:
        fprintf(stderr, "vx86: triple fault at %04x:%016llx\n",
                t->cpu->seg[R_CS].selector, (unsigned long long)t->cpu->rip);
        return ACCEL_EXIT_SHUTDOWN;
    case CPU_EXIT_DEBUG:
        return ACCEL_EXIT_DEBUG;
    case CPU_EXIT_ERROR:
        fprintf(stderr, "vx86: tcg: %s at %04x:%016llx\n", t->cpu->error,
                t->cpu->seg[R_CS].selector, (unsigned long long)t->cpu->rip);
        return ACCEL_EXIT_ERROR;
    default:
        return ACCEL_EXIT_DEADLINE;
    }
}

static void tcg_kick(void *acc)
{
    TCGAccel *t = acc;
    cpu_interrupt_request(t->cpu);
}

static int tcg_get_cpu_state(void *acc, X86ArchState *s, char *err, size_t len)
{
    TCGAccel *t = acc;
    cpu_get_arch_state(t->cpu, s);
    return 0;
}

static int tcg_put_cpu_state(void *acc, const X86ArchState *s, char *err, size_t len)
{
    TCGAccel *t = acc;
    return cpu_put_arch_state(t->cpu, s, err, len);
}

static void tcg_free(void *acc)
{
    TCGAccel *t = acc;
    if (!t)
        return;
    irq_connect(&t->m->a20, NULL, NULL, 0);
    machine_set_kick(t->m, NULL, NULL);
    if (t->m->icount) {
        clock_set_counter(t->m->clock, NULL, NULL);
        clock_set_deadline_notify(t->m->clock, NULL, NULL);
        t->m->cpu_fingerprint = NULL;
        t->m->cpu_set_icount = NULL;
    }
    cpu_free(t->cpu);
    free(t);
}

/* ---- the debugger's side (cpu/debug.h does the work) ---- */

static int tcg_dbg_insert(void *acc, int type, uint64_t addr, uint64_t len)
{
    TCGAccel *t = acc;
    return cpu_debug_insert(t->cpu, (CPUBreakType)type, addr, len);
}

static int tcg_dbg_remove(void *acc, int type, uint64_t addr, uint64_t len)
{
    TCGAccel *t = acc;
    return cpu_debug_remove(t->cpu, (CPUBreakType)type, addr, len);
}

static void tcg_dbg_remove_all(void *acc)
{
    TCGAccel *t = acc;
    cpu_debug_remove_all(t->cpu);
}

static void tcg_dbg_resume(void *acc, bool step, bool irqs)
{
    TCGAccel *t = acc;
    cpu_debug_resume(t->cpu, step, irqs);
}

static AccelDebugStop tcg_dbg_stopped(void *acc)
{
    TCGAccel *t = acc;
    CPUDebugStop s = cpu_debug_stop_reason(t->cpu);
    static const AccelDebugReason map[] = {
        [CPU_DEBUG_NONE] = ACCEL_DEBUG_NONE, [CPU_DEBUG_STEP] = ACCEL_DEBUG_STEP,
        [CPU_DEBUG_BREAK] = ACCEL_DEBUG_BREAK, [CPU_DEBUG_WATCH] = ACCEL_DEBUG_WATCH,
    };
    return (AccelDebugStop){ map[s.reason], (int)s.type, s.addr };
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
};
