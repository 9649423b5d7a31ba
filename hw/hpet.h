/*
 * HPET (IA-PC HPET 1.0a): 64-bit main counter with a 10 ns period
 * (100 MHz), 3 comparators, all periodic-capable and 64-bit, legacy
 * replacement routing; MMIO at 0xfed00000 (1 KiB).
 *
 *   IRQLine *irq[24];   // [0..15] the board's ISA IRQ lines, [16..23] GSIs
 *   HPETState *h = hpet_create(m, HPET_DEFAULT_BASE, irq);
 *
 * With LegacyReplacement (GEN_CONF.LEG_RT_CNF) timer 0 drives irq[0] and
 * timer 1 drives irq[8]; the board should then disconnect the PIT and RTC
 * from those IRQs (hpet_set_legacy_notify tells it when).  Otherwise a
 * timer drives irq[Tn_INT_ROUTE_CNF]; the route capability offers GSI
 * 20-23 only, so timers never share a line with ISA devices.
 * FSB (MSI) delivery is not offered.
 */
#ifndef VX86_HW_HPET_H
#define VX86_HW_HPET_H

#include <stdbool.h>
#include <stdint.h>

#include "core/irq.h"
#include "core/machine.h"

#define HPET_DEFAULT_BASE     0xfed00000u
#define HPET_MMIO_SIZE        0x400
#define HPET_MMIO_PRIORITY    2
#define HPET_NUM_TIMERS       3
#define HPET_PERIOD_FS        10000000u    /* 10 ns */
#define HPET_NS_PER_TICK      10
#define HPET_VENDOR_ID        0x8086
#define HPET_ROUTE_CAP        0x00f00000u  /* GSI 20..23 */

#define HPET_GCAP_ID          0x000
#define HPET_GEN_CONF         0x010
#define HPET_GINTR_STA        0x020
#define HPET_MAIN_COUNTER     0x0f0
#define HPET_TN_CONF(n)       (0x100 + 0x20 * (n))
#define HPET_TN_CMP(n)        (0x108 + 0x20 * (n))
#define HPET_TN_FSB(n)        (0x110 + 0x20 * (n))

#define HPET_CONF_ENABLE      0x1
#define HPET_CONF_LEGACY      0x2
#define HPET_TN_INT_LEVEL     (1u << 1)
#define HPET_TN_INT_ENB       (1u << 2)
#define HPET_TN_PERIODIC      (1u << 3)
#define HPET_TN_PER_CAP       (1u << 4)
#define HPET_TN_SIZE_CAP      (1u << 5)
#define HPET_TN_VAL_SET       (1u << 6)
#define HPET_TN_32BIT         (1u << 8)
#define HPET_TN_ROUTE_SHIFT   9

typedef struct HPETState HPETState;
typedef void (*HPETLegacyFn)(void *opaque, bool legacy);

HPETState *hpet_create(Machine *m, uint64_t base, IRQLine *const irq[24]);
void hpet_set_legacy_notify(HPETState *s, HPETLegacyFn fn, void *opaque);
bool hpet_legacy_enabled(HPETState *s);
/* Low 32 bits of GCAP_ID: the ACPI HPET table's event timer block ID. */
uint32_t hpet_block_id(void);

#endif
