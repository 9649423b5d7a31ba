/*
 * System Control Port A at 0x92 (IBM PS/2 and every PC chipset since):
 *
 *   bit 0  alternate hot reset: writing 1 resets the CPU (reads back 0,
 *          because the reset has happened by the time anyone looks)
 *   bit 1  alternate A20 gate: 1 enables A20
 *   bit 3  power-on password lock (kept, no effect: no password hardware)
 *   others kept as written
 */
#include "hw/port92.h"

#include <stdlib.h>

#include "core/util.h"

#define P92_RESET 0x01
#define P92_A20   0x02

struct Port92State {
    Machine *m;
    IRQLine *a20;
    uint8_t value;
};

static void port92_set_a20(Port92State *s)
{
    irq_set(s->a20, !!(s->value & P92_A20));
}

static uint64_t port92_read(void *opaque, uint64_t off, unsigned size)
{
    Port92State *s = opaque;
    return s->value;
}

static void port92_write(void *opaque, uint64_t off, uint64_t v, unsigned size)
{
    Port92State *s = opaque;
    uint8_t old = s->value;
    s->value = (uint8_t)v & (uint8_t)~P92_RESET;
    if ((old ^ s->value) & P92_A20)
        port92_set_a20(s);
    if (v & P92_RESET)
        machine_request_reset(s->m);
}

static const MemOps port92_ops = {
    .read = port92_read, .write = port92_write, .min_size = 1, .max_size = 1,
};

static void port92_reset(void *opaque)
{
    Port92State *s = opaque;
    s->value = 0;
    port92_set_a20(s);
}

static int port92_post_load(void *opaque, int version, char **err)
{
    Port92State *s = opaque;
    if (s->value & P92_RESET) {
        set_error(err, "port92: reset bit set in saved state");
        s->value &= (uint8_t)~P92_RESET;
        return -1;
    }
    port92_set_a20(s);
    return 0;
}

static const VMField port92_fields[] = {
    VMF_U8(value, Port92State),
    VMF_END
};

static const VMStateDesc port92_vmsd = {
    .name = "port92", .version = 1, .min_version = 1,
    .fields = port92_fields, .post_load = port92_post_load,
};

static const DeviceOps port92_device_ops = {
    .name = "port92", .reset = port92_reset, .free = free, .vmsd = &port92_vmsd,
};

Port92State *port92_create(Machine *m, uint16_t port, IRQLine *a20)
{
    Port92State *s = xcalloc(1, sizeof(*s));
    s->m = m;
    s->a20 = a20;
    if (!iospace_add(m->io, "port92", port, 1, &port92_ops, s, NULL)) {
        free(s);
        return NULL;
    }
    machine_add_device(m, &port92_device_ops, s);
    port92_reset(s);
    return s;
}
