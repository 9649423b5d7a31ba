/*
 * Intel 8254 programmable interval timer at ports 0x40-0x43, clocked at
 * 1.193182 MHz from the machine's virtual clock, plus the PC's system
 * control port B (0x61: channel 2 gate, speaker data, refresh toggle, OUT2).
 *
 * Channel 0's OUT pin drives irq0 (wire it to PIC input 0 / IOAPIC pin 2);
 * channel 1 (DRAM refresh on old PCs) runs but drives nothing; channel 2's
 * gate and OUT are reached through port 0x61.
 *
 *   PITState *pit = i8254_create(m, 0x40, 0x61, i8259_irq(pic, 0));
 */
#ifndef VX86_HW_I8254_H
#define VX86_HW_I8254_H

#include "core/irq.h"
#include "core/machine.h"

#define PIT_FREQ_HZ 1193182

typedef struct PITState PITState;

/* Claims ports base..base+3 (the PC: 0x40) and port61 (the PC: 0x61) and
 * registers the device "i8254".  irq0 may be NULL (nothing connected).
 * Returns NULL when a port is taken. */
PITState *i8254_create(Machine *m, uint16_t base, uint16_t port61, IRQLine *irq0);

#endif
