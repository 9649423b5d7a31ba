/*
 * The uniform device interface.  Every device model in hw/ has a state
 * struct (no static globals), a create function that registers its ports or
 * MMIO with the machine, a reset, and a VMStateDesc; the machine keeps a
 * list of Device records so it can reset, save and load them all.
 *
 *   static const DeviceOps pit_device_ops = {
 *       .name = "i8254", .reset = pit_reset, .free = pit_free,
 *       .vmsd = &pit_vmsd,
 *   };
 *   PITState *pit_create(Machine *m, uint16_t base, IRQLine *out) {
 *       PITState *s = calloc(1, sizeof *s);
 *       ...
 *       iospace_add(m->io, "pit", base, 4, &pit_io_ops, s, NULL);
 *       machine_add_device(m, &pit_device_ops, s);
 *       return s;
 *   }
 */
#ifndef VX86_CORE_DEVICE_H
#define VX86_CORE_DEVICE_H

#include "core/vmstate.h"

typedef struct DeviceOps {
    const char *name;
    void (*reset)(void *opaque);
    void (*free)(void *opaque);
    const VMStateDesc *vmsd;
} DeviceOps;

typedef struct Device {
    const DeviceOps *ops;
    void *opaque;
    char id[32];          /* unique in the machine: name, name.1, ... */
    struct Device *next;
} Device;

#endif
