#include "core/accel.h"

#include <string.h>

#include "config.h"
#ifdef CONFIG_KVM
#include "cpu/kvm.h"
#endif

static const AccelOps *const accels[] = {
#ifdef CONFIG_KVM
    &kvm_accel_ops,
#endif
    NULL,
};

const AccelOps *accel_find(const char *name)
{
    for (int i = 0; accels[i]; i++)
        if (!strcmp(accels[i]->name, name))
            return accels[i];
    return NULL;
}
