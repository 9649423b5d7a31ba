/*
 * Motorola MC146818 real-time clock and its 128 bytes of CMOS RAM, at
 * ports 0x70 (index; bit 7 is the PC's NMI mask) and 0x71 (data).  The
 * alarm / periodic / update-ended interrupt drives irq8.
 *
 *   RTCState *rtc = mc146818_create(m, 0x70, i8259_irq(pic, 8), -1);
 *   mc146818_set_memory_size(rtc, below_4g, above_4g);
 *   mc146818_set_cmos(rtc, 0x14, equipment_byte);
 */
#ifndef VX86_HW_MC146818_H
#define VX86_HW_MC146818_H

#include <stdbool.h>
#include <stdint.h>

#include "core/irq.h"
#include "core/machine.h"

typedef struct RTCState RTCState;

/* Claims ports base and base+1 (the PC: 0x70) and registers the device
 * "mc146818" (NULL when the ports are taken).  The guest clock
 * starts at start_epoch_seconds (UTC seconds since 1970), or at the host's
 * UTC time when it is -1, and advances with the virtual clock.  irq8 may
 * be NULL. */
RTCState *mc146818_create(Machine *m, uint16_t base, IRQLine *irq8,
                          int64_t start_epoch_seconds);
/* Sets a CMOS byte (index 0..127) as the firmware would find it.  Bytes
 * 0x10..0x2d keep the standard checksum at 0x2e (high) / 0x2f (low). */
void mc146818_set_cmos(RTCState *s, int index, uint8_t value);
uint8_t mc146818_get_cmos(RTCState *s, int index);
/* Fills the memory-size bytes BIOSes read: 0x15-0x16 base KiB (640),
 * 0x17-0x18 and 0x30-0x31 KiB above 1 MiB (capped at 0xffff), 0x34-0x35
 * 64 KiB units above 16 MiB below 4 GiB (capped at 0xffff), 0x5b-0x5d
 * 64 KiB units above 4 GiB. */
void mc146818_set_memory_size(RTCState *s, uint64_t ram_below_4g, uint64_t ram_above_4g);
/* Port 0x70 bit 7 as last written: true means NMIs are masked. */
bool mc146818_nmi_masked(RTCState *s);

#endif
