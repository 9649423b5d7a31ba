/*
 * Intel MultiProcessor Specification 1.4 tables, for booting a kernel
 * without firmware: they tell it how many CPUs there are (local APIC ids),
 * where the IOAPIC is, and which IOAPIC pin each ISA IRQ arrives on.
 *
 * mptable_build() writes, into one buffer meant to be copied to guest
 * physical phys_base (16-byte aligned, in 0xF0000-0xFFFFF where the OS
 * scans for it, or in the first KiB of the EBDA):
 *
 *   +0   MP floating pointer structure "_MP_" (16 bytes, checksum 0)
 *   +16  MP configuration table "PCMP": header, then entries by type:
 *        processors (APIC ids 0..ncpus-1, CPU 0 the bootstrap processor),
 *        buses (PCI bus 0 when there is PCI, then ISA), the IOAPIC,
 *        I/O interrupt entries (ISA IRQ n on IOAPIC pin n, except IRQ 0 on
 *        pin 2, the cascade IRQ 2 on none, and IRQs whose pin a PCI INTx
 *        entry takes),
 *        optional PCI INTx entries, local interrupts (ExtINT on LINT0 and
 *        NMI on LINT1 of every CPU).
 *
 *   uint8_t buf[1024];
 *   size_t n = mptable_build(buf, sizeof(buf), 0xf0000, 2, NULL);
 *   memmap_load_buf(m->mem, 0xf0000, buf, n);
 */
#ifndef VX86_HW_MPTABLE_H
#define VX86_HW_MPTABLE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define MPTABLE_MAX_CPUS 254          /* APIC id 0xff means "all" */

/* Entry types (MP spec table 4-3) and sizes. */
enum {
    MP_ENTRY_PROCESSOR = 0,    /* 20 bytes */
    MP_ENTRY_BUS = 1,          /* 8 bytes each from here on */
    MP_ENTRY_IOAPIC = 2,
    MP_ENTRY_IO_INTERRUPT = 3,
    MP_ENTRY_LOCAL_INTERRUPT = 4,
};
/* Interrupt types of I/O and local interrupt entries. */
enum { MP_INT = 0, MP_NMI = 1, MP_SMI = 2, MP_EXTINT = 3 };
/* Interrupt entry flags: polarity (bits 0-1), trigger mode (bits 2-3). */
#define MP_IRQ_POLARITY_HIGH  0x1
#define MP_IRQ_POLARITY_LOW   0x3
#define MP_IRQ_TRIGGER_EDGE   0x4
#define MP_IRQ_TRIGGER_LEVEL  0xc

/* One PCI INTx route: device `slot` on bus 0, its pin (0 = INTA# .. 3 =
 * INTD#), arriving on IOAPIC input `ioapic_pin` (level, active low). */
typedef struct MPTablePciIrq {
    uint8_t slot, pin, ioapic_pin;
} MPTablePciIrq;

typedef struct MPTableConfig {
    uint32_t lapic_addr;       /* 0 means 0xfee00000 */
    uint32_t ioapic_addr;      /* 0 means 0xfec00000 */
    int ioapic_id;             /* < 0 means ncpus (first id after the CPUs) */
    uint8_t ioapic_version;    /* 0 means 0x11 (82093AA-style, 24 pins) */
    uint8_t lapic_version;     /* 0 means 0x14 (integrated xAPIC) */
    uint32_t cpu_signature;    /* CPUID.1 EAX stepping/model/family */
    uint32_t cpu_features;     /* CPUID.1 EDX; 0 means FPU|CX8|APIC */
    bool pci;                  /* PCI bus 0 exists (ISA becomes bus 1) */
    const MPTablePciIrq *pci_irqs;
    int n_pci_irqs;
} MPTableConfig;

/* Bytes mptable_build needs for this configuration. */
size_t mptable_size(int ncpus, const MPTableConfig *cfg);

/* Builds both structures for guest address phys_base (see above).  cfg
 * NULL means PC defaults with a PCI bus.  Returns the bytes written, or 0
 * when cap is too small, ncpus is outside 1..MPTABLE_MAX_CPUS, phys_base
 * is not 16-byte aligned / not below 4 GiB, or the IOAPIC id clashes with
 * a CPU. */
size_t mptable_build(uint8_t *buf, size_t cap, uint64_t phys_base, int ncpus,
                     const MPTableConfig *cfg);

/* 8-bit sum of len bytes (0 for a valid MP structure). */
uint8_t mptable_checksum(const uint8_t *p, size_t len);

#endif
