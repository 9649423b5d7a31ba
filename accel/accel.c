/*
 * Accelerator registry and selection (QEMU's rules: the first -accel that
 * works wins; no -accel means kvm where usable, else tcg).
 */
#include "accel/accel.h"

#include <stdio.h>
#include <string.h>

#include "config.h"
#include "core/log.h"
#include "core/machine.h"
#include "cpu/cpu.h"
#ifdef CONFIG_KVM
#include "accel/kvm.h"
#endif

extern const AccelOps tcg_accel_ops;

static const AccelOps *const accels[] = {
#ifdef CONFIG_KVM
    &kvm_accel_ops,
#endif
    &tcg_accel_ops,
    NULL,
};

const AccelOps *accel_find(const char *name)
{
    for (int i = 0; accels[i]; i++)
        if (!strcmp(accels[i]->name, name))
            return accels[i];
    return NULL;
}

void accel_print_help(Machine *m, FILE *f)
{
    fprintf(f, "Accelerators (-accel NAME; repeat for fallbacks):\n");
    for (int i = 0; accels[i]; i++) {
        char why[512] = "";
        bool ok = !accels[i]->probe || accels[i]->probe(m, why, sizeof why);
        fprintf(f, "  %-4s %s%s\n", accels[i]->name, ok ? "usable" : "not usable: ", ok ? "" : why);
    }
}

/* Why ops cannot run here, or "" when it was initialised into *acc. */
static void try_accel(Machine *m, const AccelOpt *ao, const AccelOps *ops,
                      void **acc, char *why, size_t len)
{
    why[0] = 0;
    if (!ops) {
        snprintf(why, len, "not built into this vx86");
        return;
    }
    if (!ao->force && ops->probe && !ops->probe(m, why, len))
        return;
    *acc = ops->init(m, ao, why, len);
    if (!*acc && !why[0])
        snprintf(why, len, "initialisation failed");
}

const AccelOps *accel_select(Machine *m, const VMOptions *o, void **acc,
                             char *err, size_t len)
{
    static const AccelOpt defaults[] = { { .name = "kvm" }, { .name = "tcg" } };
    const AccelOpt *list = o->naccels ? o->accels : defaults;
    int n = o->naccels ? o->naccels : 2;
    if (!o->naccels && o->gdb) {
        /* -gdb: the translator, the accelerator that can be debugged */
        list = defaults + 1;
        n = 1;
    }
    char refused[1024] = "", first_why[512] = "";
    for (int i = 0; i < n; i++) {
        const AccelOps *ops = accel_find(list[i].name);
        char why[512];
        try_accel(m, &list[i], ops, acc, why, sizeof why);
        if (!why[0]) {
            if (refused[0])
                fprintf(stderr, "vx86: %s; using %s\n", refused, list[i].name);
            LOG(LOG_ACCEL, "accel: %s%s\n", list[i].name,
                list[i].interp ? " (IR interpreter)" : "");
            return ops;
        }
        if (i == 0)
            snprintf(first_why, sizeof first_why, "%s", why);
        size_t used = strlen(refused);
        snprintf(refused + used, sizeof refused - used, "%s%s not usable: %s",
                 used ? "; " : "", list[i].name, why);
    }
    if (n == 1)
        snprintf(err, len, "-accel %s: %s", list[0].name, first_why);
    else
        snprintf(err, len, "-accel: no accelerator usable (%s)", refused);
    return NULL;
}

bool accel_reset_state_cpu(Machine *m, int index, X86ArchState *s, char *err, size_t len)
{
    CPUConfig cfg = CPU_CONFIG_DEFAULT;
    if (!cpu_model_apply(&cfg, m->opts ? m->opts->cpu_model : NULL, err, len))
        return false;
    cpu_arch_reset_state(s, &cfg, index);
    return true;
}

bool accel_reset_state(Machine *m, X86ArchState *s, char *err, size_t len)
{
    return accel_reset_state_cpu(m, 0, s, err, len);
}

int accel_start_cpus(Machine *m, const AccelOps *ops, void *acc, const X86ArchState *boot0,
                     char *err, size_t len)
{
    int n = m->ncpus > 0 ? m->ncpus : 1;
    bool was_stopped = clock_stopped(m->clock);
    clock_stop(m->clock);
    int rc = 0;
    for (int i = 0; i < n && rc == 0; i++) {
        X86ArchState s;
        if (i == 0 && boot0)
            s = *boot0;
        else if (!accel_reset_state_cpu(m, i, &s, err, len))
            rc = -1;
        if (rc == 0)
            rc = ops->put_cpu_state(acc, i, &s, err, len);
    }
    if (!was_stopped)
        clock_start(m->clock);
    return rc;
}

int accel_reset_cpu(Machine *m, const AccelOps *ops, void *acc, char *err, size_t len)
{
    return accel_start_cpus(m, ops, acc, NULL, err, len);
}

bool accel_threaded(const AccelOps *ops, void *acc)
{
    return ops->threaded && ops->threaded(acc);
}
