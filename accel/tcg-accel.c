/*
 * The translator as an accelerator: one CPUState per machine CPU, run by
 * cpu_exec() with the engine the user chose (the x86-64 host backend by
 * default, the IR interpreter with -accel tcg,interp=on).
 */
#include <stdio.h>
#include <stdlib.h>

#include "accel/accel.h"
#include "core/log.h"
#include "core/machine.h"
#include "core/util.h"
#include "cpu/cpu.h"
#include "hw/pc/linuxboot.h"

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
        if (t->m->opts && t->m->opts->no_reboot) {
            machine_request_shutdown(t->m, EXIT_EMULATION_ERROR);
            return ACCEL_EXIT_ERROR;
        }
        machine_request_reset(t->m);
        return ACCEL_EXIT_DEADLINE;
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

static void tcg_reset(void *acc)
{
    TCGAccel *t = acc;
    cpu_reset(t->cpu);
}

/* Loads a segment register from a raw 8-byte GDT descriptor. */
static void load_seg_desc(CPUState *cpu, int seg, uint16_t sel, uint64_t d)
{
    uint64_t base = ((d >> 16) & 0xffffff) | ((d >> 32) & 0xff000000);
    uint32_t limit = (uint32_t)((d & 0xffff) | ((d >> 32) & 0xf0000));
    if (d & (1ULL << 55))
        limit = (limit << 12) | 0xfff;
    cpu_set_seg(cpu, seg, sel, base, limit, (uint32_t)(d >> 32));
}

/* The Linux boot protocol's entry state (see hw/linuxboot.h). */
static int tcg_load_linux_entry(void *acc, const LinuxBootEntry *e, char *err, size_t len)
{
    TCGAccel *t = acc;
    CPUState *cpu = t->cpu;
    cpu_set_cr(cpu, 4, e->cr4);
    cpu_set_cr(cpu, 3, e->cr3);
    cpu_set_efer(cpu, e->efer);
    cpu_set_cr(cpu, 0, e->cr0);
    cpu_set_gdt(cpu, e->gdt_base, e->gdt_limit);
    load_seg_desc(cpu, R_CS, e->cs, e->cs_desc);
    for (int s = 0; s < 6; s++)
        if (s != R_CS)
            load_seg_desc(cpu, s, e->ds, e->ds_desc);
    cpu->regs[R_ESI] = e->rsi;
    cpu->rip = e->rip;
    cpu_set_eflags(cpu, (uint32_t)e->rflags);
    cpu_update_hflags(cpu);
    return 0;
}

static CPUState *tcg_cpu_state(void *acc)
{
    TCGAccel *t = acc;
    return t->cpu;
}

static void tcg_free(void *acc)
{
    TCGAccel *t = acc;
    if (!t)
        return;
    irq_connect(&t->m->a20, NULL, NULL, 0);
    machine_set_kick(t->m, NULL, NULL);
    cpu_free(t->cpu);
    free(t);
}

const AccelOps tcg_accel_ops = {
    .name = "tcg",
    .probe = tcg_probe,
    .init = tcg_init,
    .exec = tcg_exec,
    .kick = tcg_kick,
    .reset = tcg_reset,
    .load_linux_entry = tcg_load_linux_entry,
    .cpu_state = tcg_cpu_state,
    .free = tcg_free,
};
