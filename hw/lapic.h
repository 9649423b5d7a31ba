/*
 * Local APIC (one per CPU): xAPIC registers in a 4 KiB MMIO page at
 * IA32_APIC_BASE (0xfee00000 after reset) and the x2APIC MSR interface
 * (MSRs 0x800-0x8ff), version 0x50014 (6 LVT entries, no CMCI, no EOI
 * broadcast suppression).
 *
 * Timer clock: the APIC bus clock is taken as 1 GHz of virtual time, so
 * one timer tick is `divisor` ns (divide configuration 1..128).  TSC
 * deadline mode assumes the CPU's TSC = virtual ns * tsc_hz / 1e9 (set
 * with lapic_set_tsc_hz; default 1 GHz, i.e. TSC == virtual ns).
 * Periodic mode never re-arms more often than every LAPIC_MIN_PERIOD_NS
 * so a guest cannot make the host spin.
 *
 * Board wiring:
 *   LAPICState *l = lapic_create(m, 0, true, true, &cpu_intr_line);
 *   pic output      -> lapic_lint0(l)          (ExtINT virtual wire)
 *   ioapic deliver  -> lapic_deliver(l, mode, vector, level)
 *   lapic_set_eoi_handler(l, ioapic_eoi_cb, ioapic)
 *   lapic_set_ipi_handler(l, board_ipi, board)   (SMP)
 * CPU side, when its INTR line (intr) is high and IF=1:
 *   if (lapic_has_interrupt(l))      vec = lapic_ack_interrupt(l);
 *   else if (lapic_lint0_extint(l))  vec = <ask the PIC>;
 * and lapic_take_nmi() for NMIs.  MSR instructions call
 * lapic_msr_read/lapic_msr_write for 0x1b, 0x6e0 and 0x800-0x8ff
 * (ok/false return = raise #GP).
 */
#ifndef VX86_HW_LAPIC_H
#define VX86_HW_LAPIC_H

#include <stdbool.h>
#include <stdio.h>
#include <stdint.h>

#include "core/irq.h"
#include "core/machine.h"

#define LAPIC_DEFAULT_BASE      0xfee00000u
#define LAPIC_VERSION           0x00050014u
#define LAPIC_MMIO_PRIORITY     3
#define LAPIC_MIN_PERIOD_NS     1000

#define MSR_IA32_APIC_BASE      0x1b
#define MSR_IA32_TSC_DEADLINE   0x6e0
#define APIC_BASE_BSP           (1u << 8)
#define APIC_BASE_EXTD          (1u << 10)
#define APIC_BASE_EN            (1u << 11)

/* xAPIC register offsets (x2APIC MSR = 0x800 + offset / 16). */
#define APIC_ID         0x020
#define APIC_LVR        0x030
#define APIC_TPR        0x080
#define APIC_APR        0x090
#define APIC_PPR        0x0a0
#define APIC_EOI        0x0b0
#define APIC_LDR        0x0d0
#define APIC_DFR        0x0e0
#define APIC_SVR        0x0f0
#define APIC_ISR        0x100
#define APIC_TMR        0x180
#define APIC_IRR        0x200
#define APIC_ESR        0x280
#define APIC_ICR_LO     0x300
#define APIC_ICR_HI     0x310
#define APIC_LVT_TIMER  0x320
#define APIC_LVT_THERM  0x330
#define APIC_LVT_PERF   0x340
#define APIC_LVT_LINT0  0x350
#define APIC_LVT_LINT1  0x360
#define APIC_LVT_ERROR  0x370
#define APIC_TMICT      0x380
#define APIC_TMCCT      0x390
#define APIC_TDCR       0x3e0
#define APIC_SELF_IPI   0x3f0   /* x2APIC only */

#define APIC_SVR_ENABLE         0x100
#define APIC_LVT_MASKED         (1u << 16)
#define APIC_LVT_LEVEL          (1u << 15)
#define APIC_TIMER_ONESHOT      (0u << 17)
#define APIC_TIMER_PERIODIC     (1u << 17)
#define APIC_TIMER_TSC_DEADLINE (2u << 17)

/* Delivery modes (ICR, LVT, IOAPIC redirection entries). */
enum { APIC_DM_FIXED = 0, APIC_DM_LOWEST = 1, APIC_DM_SMI = 2, APIC_DM_NMI = 4,
       APIC_DM_INIT = 5, APIC_DM_SIPI = 6, APIC_DM_EXTINT = 7 };

/* ESR bits. */
#define APIC_ESR_SEND_ILLEGAL   (1u << 5)
#define APIC_ESR_RECV_ILLEGAL   (1u << 6)
#define APIC_ESR_ILLEGAL_REG    (1u << 7)

typedef struct LAPICState LAPICState;

/* An IPI for the APIC bus: every one but a self IPI (shorthand 01, done
 * here), including those whose destination selects the sender, which the
 * handler delivers to as well (lowest-priority arbitration needs every
 * candidate).  Without a handler the APIC delivers to itself when the
 * destination selects it.  dest is the ICR destination (8 bits xAPIC, 32
 * bits x2APIC); icr_lo carries vector, delivery mode, destination mode
 * (bit 11), level/trigger and shorthand (bits 19:18). */
typedef void (*LAPICIPIFn)(void *opaque, LAPICState *src, uint32_t dest, uint32_t icr_lo);
/* EOI of a level-triggered vector: the board broadcasts it to IOAPICs. */
typedef void (*LAPICEOIFn)(void *opaque, int vector);

LAPICState *lapic_create(Machine *m, uint32_t apic_id, bool bsp, bool map_mmio,
                         IRQLine *intr);
void lapic_set_ipi_handler(LAPICState *s, LAPICIPIFn fn, void *opaque);
void lapic_set_eoi_handler(LAPICState *s, LAPICEOIFn fn, void *opaque);
void lapic_set_tsc_hz(LAPICState *s, uint64_t hz);
uint32_t lapic_get_id(LAPICState *s);

/* Inputs: LINT0 (PIC INTR in virtual-wire mode) and LINT1 (NMI). */
IRQLine *lapic_lint0(LAPICState *s);
IRQLine *lapic_lint1(LAPICState *s);

/* CPU side. */
/* What firmware leaves on the BSP (MP spec virtual wire mode): LINT0 as
 * ExtINT for the PIC, LINT1 as NMI.  Boards without firmware call it. */
void lapic_set_virtual_wire(LAPICState *s);

bool lapic_has_interrupt(LAPICState *s);
int lapic_ack_interrupt(LAPICState *s);
bool lapic_lint0_extint(LAPICState *s);    /* PIC interrupt may pass to the CPU */
bool lapic_take_nmi(LAPICState *s);
bool lapic_take_init(LAPICState *s);
int lapic_take_sipi(LAPICState *s);        /* vector, or -1 */
/* The CPU waits for a start-up IPI (APs after RESET and INIT). */
bool lapic_waits_for_sipi(LAPICState *s);

/* Interrupt acceptance. */
void lapic_set_irq(LAPICState *s, int vector, bool level_trig);
void lapic_deliver(LAPICState *s, int mode, int vector, bool level_trig);
bool lapic_match_dest(LAPICState *s, uint32_t dest, bool logical);
/* An interrupt message (MSI/MSI-X, Intel SDM vol. 3, 11.11): address
 * 0xFEE0_0000 | dest << 12 | RH << 3 | DM << 2, data = trigger << 15 |
 * level << 14 | delivery mode << 8 | vector.  Fixed and lowest-priority
 * (and NMI) messages whose destination matches this APIC are accepted;
 * with one CPU, lowest priority is simply "this CPU".  Messages are edge
 * triggered (a level-trigger bit is logged and treated as edge: PCI
 * messages have no deassert).  Returns true when accepted.  Boards call it
 * for each APIC from their PCIMsiFn (hw/pci.h). */
bool lapic_deliver_msi(LAPICState *s, uint64_t addr, uint32_t data);
/* The message's fields (false, logged, for an address outside 0xfeexxxxx
 * or a delivery mode other than fixed, lowest priority and NMI): for
 * boards that route messages among several APICs themselves. */
bool lapic_parse_msi(uint64_t addr, uint32_t data, uint32_t *dest, bool *logical, int *mode,
                     int *vector);
/* The priority that lowest-priority arbitration compares (PPR). */
uint32_t lapic_arb_priority(LAPICState *s);
/* The xAPIC register page answers (enabled, not in x2APIC mode). */
bool lapic_mmio_enabled(LAPICState *s);
/* An INIT taken by the CPU: the registers go back to their power-up
 * values, the ID and IA32_APIC_BASE stay (SDM 3A 10.4.7.3). */
void lapic_init_reset(LAPICState *s);

/* MSRs: 0x1b, 0x6e0, 0x800-0x8ff.  *ok = false / return false: #GP. */
uint64_t lapic_msr_read(LAPICState *s, uint32_t msr, bool *ok);
bool lapic_msr_write(LAPICState *s, uint32_t msr, uint64_t val);
void lapic_set_tsc_deadline(LAPICState *s, uint64_t tsc);
uint64_t lapic_get_tsc_deadline(LAPICState *s);

/* xAPIC register page access for boards that dispatch the shared MMIO
 * page to the current CPU's APIC themselves (SMP). */
uint32_t lapic_mmio_read(LAPICState *s, uint32_t offset);
void lapic_mmio_write(LAPICState *s, uint32_t offset, uint32_t val);

/* The monitor's `info lapic`: the registers in QEMU's layout. */
void lapic_dump(LAPICState *s, int cpu, FILE *f);

#endif
