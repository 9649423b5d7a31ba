/*
 * Intel 8259A programmable interrupt controller pair, as wired in a PC:
 * master at ports 0x20-0x21, slave at 0xa0-0xa1 cascaded on master IR2,
 * and the PIIX-style edge/level control registers (ELCR) at 0x4d0-0x4d1.
 *
 * Devices raise and lower the sixteen input lines (i8259_irq(pic, n));
 * the PIC drives cpu_intr high while an unmasked request would be
 * delivered, and the CPU runs the interrupt-acknowledge cycle with
 * i8259_ack() to get the vector.
 *
 *   PICState *pic = i8259_create(m, 0x20, 0xa0, 0x4d0, &intr_line);
 *   irq_raise(i8259_irq(pic, 4));          // COM1
 *   if (i8259_has_interrupt(pic)) vector = i8259_ack(pic);
 */
#ifndef VX86_HW_I8259_H
#define VX86_HW_I8259_H

#include <stdbool.h>
#include <stdio.h>

#include "core/irq.h"
#include "core/machine.h"

typedef struct PICState PICState;

/* Claims two ports each at master, slave and elcr (the PC: 0x20, 0xa0,
 * 0x4d0) and registers the device "i8259".  cpu_intr may be NULL (nothing
 * connected).  Returns NULL when a port is taken. */
PICState *i8259_create(Machine *m, uint16_t master, uint16_t slave, uint16_t elcr,
                       IRQLine *cpu_intr);
/* Input line n (0..15; 8..15 are the slave's IR0..IR7).  NULL for other n. */
IRQLine *i8259_irq(PICState *s, int n);
/* True when an unmasked request would be delivered (the INTR pin level). */
bool i8259_has_interrupt(PICState *s);
/* The INTA cycle: returns the vector (0..255) and moves the request from
 * IRR to ISR (or only clears it in auto-EOI mode).  With nothing to
 * deliver it returns the spurious vector: master base + 7, or slave
 * base + 7 when the slave loses its request after the master chose IR2. */
int i8259_ack(PICState *s);
/* The monitor's `info pic`: one line per chip, slave first, as QEMU. */
void i8259_dump(PICState *s, FILE *f);
/* `info irq`: how often each input line rose, lines that never did left out. */
void i8259_dump_counts(PICState *s, FILE *f);

#endif
