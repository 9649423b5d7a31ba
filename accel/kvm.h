/*
 * The KVM accelerator: runs the guest CPU under /dev/kvm and keeps every
 * device model of vx86 (port IO and MMIO exits go to the same IOSpace and
 * MemMap dispatch the translator uses; interrupts come from the same
 * PIC/APIC models through the machine's interrupt callbacks).
 *
 * Why our own interrupt controllers and not KVM's in-kernel irqchip: the
 * guest must see exactly the same devices and IRQ routing under both
 * accelerators, snapshots must capture one set of device state, and the
 * machines we build on (a PVM-style KVM) are where it gets tested.  The
 * cost is an exit per APIC access, which real-VT users may later trade for
 * KVM_CREATE_IRQCHIP behind an option.
 *
 * Before it is used, kvm_accel_ops.probe decides whether this KVM can run
 * a guest at useful speed: an emulating KVM (such as kvm_pvm, which runs
 * guest ring 0 through its instruction emulator) is detected by timing a
 * short ring-0 loop, and refused with the measured reason.
 */
#ifndef VX86_CPU_KVM_H
#define VX86_CPU_KVM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "accel/accel.h"

extern const AccelOps kvm_accel_ops;

typedef struct KVMAccel KVMAccel;

/* Checks /dev/kvm and measures ring-0 speed.  ns_per_iter gets the ring-0
 * loop cost (for reports), may be NULL. */
bool kvm_probe_speed(char *why, size_t len, double *ns_per_iter);

#endif
