/*
 * isa-debug-exit (see debugexit.h).  A write of any width up to iosize at
 * any port of the range requests shutdown with (value << 1) | 1; the main
 * loop exits with that status (the host keeps its low 8 bits).  Reads
 * return 0.  There is no state to save: the device is a pure side effect.
 */
#include "hw/debugexit.h"

#include <stdlib.h>

#include "core/util.h"

struct DebugExitState {
    Machine *m;
    uint16_t iobase, iosize;
};

static uint64_t debugexit_read(void *opaque, uint64_t off, unsigned size)
{
    return 0;
}

static void debugexit_write(void *opaque, uint64_t off, uint64_t v, unsigned size)
{
    DebugExitState *s = opaque;
    uint32_t status = ((uint32_t)v << 1) | 1;
    machine_request_shutdown(s->m, (int)status);
}

static const MemOps debugexit_ops = {
    .read = debugexit_read, .write = debugexit_write, .min_size = 1, .max_size = 4,
};

static const VMField debugexit_fields[] = { VMF_END };

static const VMStateDesc debugexit_vmsd = {
    .name = "isa-debug-exit", .version = 1, .min_version = 1, .fields = debugexit_fields,
};

static const DeviceOps debugexit_device_ops = {
    .name = "isa-debug-exit", .free = free, .vmsd = &debugexit_vmsd,
};

DebugExitState *debugexit_create(Machine *m, uint16_t iobase, uint16_t iosize)
{
    if (iosize != 1 && iosize != 2 && iosize != 4)
        return NULL;
    DebugExitState *s = xcalloc(1, sizeof(*s));
    s->m = m;
    s->iobase = iobase;
    s->iosize = iosize;
    if (!iospace_add(m->io, "isa-debug-exit", iobase, iosize, &debugexit_ops, s, NULL)) {
        free(s);
        return NULL;
    }
    machine_add_device(m, &debugexit_device_ops, s);
    return s;
}
