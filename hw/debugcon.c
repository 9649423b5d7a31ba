/*
 * Debug console port (see debugcon.h).  Output only; the port holds no
 * state, so its snapshot section is empty.  Wider writes are split by the
 * IO dispatcher and only the byte that lands on the port is printed.
 */
#include "hw/debugcon.h"

#include <stdlib.h>

#include "core/util.h"

#define DEBUGCON_READBACK 0xe9

struct DebugconState {
    CharDev *out;
    uint16_t port;
};

static uint64_t debugcon_read(void *opaque, uint64_t off, unsigned size)
{
    return DEBUGCON_READBACK;
}

static void debugcon_write(void *opaque, uint64_t off, uint64_t v, unsigned size)
{
    DebugconState *s = opaque;
    uint8_t b = (uint8_t)v;
    chardev_write(s->out, &b, 1);
}

static const MemOps debugcon_ops = {
    .read = debugcon_read, .write = debugcon_write, .min_size = 1, .max_size = 1,
};

static const VMField debugcon_fields[] = { VMF_END };

static const VMStateDesc debugcon_vmsd = {
    .name = "debugcon", .version = 1, .min_version = 1, .fields = debugcon_fields,
};

static const DeviceOps debugcon_device_ops = {
    .name = "debugcon", .free = free, .vmsd = &debugcon_vmsd,
};

DebugconState *debugcon_create(Machine *m, uint16_t port, CharDev *out)
{
    DebugconState *s = xcalloc(1, sizeof(*s));
    s->out = out;
    s->port = port;
    if (!iospace_add(m->io, "debugcon", port, 1, &debugcon_ops, s, NULL)) {
        free(s);
        return NULL;
    }
    machine_add_device(m, &debugcon_device_ops, s);
    return s;
}
