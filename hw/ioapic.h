/*
 * I/O APIC (82093AA register model, version 0x20 with the EOI register),
 * 24 redirection entries, at 0xfec00000: IOREGSEL at +0x00, IOWIN at
 * +0x10, EOI at +0x40.
 *
 *   IOAPICState *io = ioapic_create(m, IOAPIC_DEFAULT_BASE, 0, board_deliver, board);
 *   isa/pci/hpet lines -> ioapic_irq(io, gsi)
 *   LAPIC EOI of a level vector -> ioapic_eoi(io, vector)
 *
 * Inputs are logical "asserted" levels: the polarity bit of an entry is
 * stored for the guest but not applied (every source here drives
 * asserted = 1).  Delivery goes to the board's callback; dest carries the
 * 8-bit destination field, with IOAPIC_DEST_LOGICAL (bit 8) set for
 * logical destination mode; mode is the delivery mode (APIC_DM_*).
 */
#ifndef VX86_HW_IOAPIC_H
#define VX86_HW_IOAPIC_H

#include <stdbool.h>
#include <stdio.h>
#include <stdint.h>

#include "core/irq.h"
#include "core/machine.h"

#define IOAPIC_DEFAULT_BASE   0xfec00000u
#define IOAPIC_NUM_PINS       24
#define IOAPIC_VERSION        0x20
#define IOAPIC_MMIO_PRIORITY  2
#define IOAPIC_DEST_LOGICAL   0x100

#define IOAPIC_REGSEL         0x00
#define IOAPIC_WINDOW         0x10
#define IOAPIC_EOI            0x40
#define IOAPIC_REG_ID         0x00
#define IOAPIC_REG_VER        0x01
#define IOAPIC_REG_ARB        0x02
#define IOAPIC_REG_REDTBL     0x10   /* + 2n (low dword), + 2n + 1 (high) */

#define IOAPIC_RTE_MASKED     (1ULL << 16)
#define IOAPIC_RTE_LEVEL      (1ULL << 15)
#define IOAPIC_RTE_REMOTE_IRR (1ULL << 14)
#define IOAPIC_RTE_ACTIVE_LOW (1ULL << 13)
#define IOAPIC_RTE_DELIV_STS  (1ULL << 12)
#define IOAPIC_RTE_LOGICAL    (1ULL << 11)

typedef void (*IOAPICDeliverFn)(void *opaque, int dest, int vector, int mode, bool level);
typedef struct IOAPICState IOAPICState;

IOAPICState *ioapic_create(Machine *m, uint64_t base, uint8_t id,
                           IOAPICDeliverFn deliver, void *opaque);
IRQLine *ioapic_irq(IOAPICState *s, int n);   /* NULL when n is out of range */
void ioapic_eoi(IOAPICState *s, int vector);
/* Redirection entry n, for the board and tests. */
uint64_t ioapic_get_entry(IOAPICState *s, int n);
/* The monitor's `info pic`: the redirection table, QEMU's layout. */
void ioapic_dump(IOAPICState *s, int index, FILE *f);
/* `info irq`: how often each pin rose, pins that never did left out. */
void ioapic_dump_counts(IOAPICState *s, FILE *f);

#endif
