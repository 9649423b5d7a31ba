/*
 * The translator as an accelerator.  The CPU front end is being merged;
 * until then this accelerator refuses, by name and with the reason, so
 * `-accel tcg` fails loudly instead of pretending.
 */
#include <stdio.h>

#include "core/accel.h"

static bool tcg_probe(Machine *m, char *why, size_t len)
{
    snprintf(why, len, "the x86 translator is not part of this build yet");
    return false;
}

static void *tcg_init(Machine *m, const AccelOpt *opt, char *err, size_t len)
{
    snprintf(err, len, "the x86 translator is not part of this build yet");
    return NULL;
}

const AccelOps tcg_accel_ops = {
    .name = "tcg",
    .probe = tcg_probe,
    .init = tcg_init,
};
