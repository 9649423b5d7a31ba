/*
 * PIIX3 PCI-to-ISA bridge (PCI 01.0, 8086:7000) with its PIRQ router, and
 * the PIIX4-style ACPI power-management function (PCI 01.3, 8086:7113).
 *
 *   IRQLine *isa[16] = { ... };      // the board's ISA IRQ inputs (NULL ok)
 *   PIIX3State *sb = piix3_create(m, bus, isa);
 *
 * PCI INTx: a function's pin reaches PIRQ (slot + pin - 1) mod 4; PIRQ n is
 * steered by config register 0x60 + n (bit 7 = disabled, bits 3:0 = ISA
 * IRQ; only IRQ 3-7, 9-12, 14, 15 are valid) onto isa[irq], level
 * triggered, wired-OR with every other source this chip drives there.
 *
 * ACPI PM: the PM IO block (64 ports) sits at PMBA (config 0x40) when
 * PMREGMISC (0x80) bit 0 is set.  Unlike the real part, both come out of
 * reset as base 0x600 enabled so a firmware-less direct Linux boot finds
 * the block where the FADT says; firmware may move it.
 *   base+0x00 PM1_STS (w1c)  base+0x02 PM1_EN   base+0x04 PM1_CNT
 *   base+0x08 PM_TMR (24 bit, 3.579545 MHz of virtual time)
 *   base+0x0c GPE0_STS (w1c) base+0x0e GPE0_EN
 * SCI is level, on ISA IRQ 9.  SLP_TYP = 0 (S5, soft off) written with
 * SLP_EN powers the machine off (machine_request_shutdown(m, 0)).
 * APM control port 0xb2: 0xf1 sets SCI_EN, 0xf0 clears it (the effect the
 * firmware's SMI handler has on a real board; there is no SMM here).
 */
#ifndef VX86_HW_PIIX3_H
#define VX86_HW_PIIX3_H

#include <stdbool.h>
#include <stdint.h>

#include "core/machine.h"
#include "hw/pci.h"

#define PIIX3_PIRQRC            0x60    /* 0x60..0x63: PIRQA..PIRQD route */
#define PIIX4_PMBA              0x40
#define PIIX4_PMREGMISC         0x80
#define PIIX4_DEVACTB           0x58     /* device activity B */
#define PIIX4_DEVACTB_APMC_EN   (1u << 25)
#define PIIX4_PM_DEFAULT_BASE   0x600
#define PIIX4_PM_IO_SIZE        64
#define PIIX4_SCI_IRQ           9
#define PIIX4_APM_CNT_PORT      0xb2
#define PIIX4_ACPI_ENABLE       0xf1
#define PIIX4_ACPI_DISABLE      0xf0
#define PIIX4_SLP_TYP_S5        0       /* PIIX4 SUS_TYP 000: soft off */
#define ACPI_PM_TIMER_HZ        3579545

/* PM register offsets and bits (ACPI spec 4.8.3, PIIX4 datasheet 7.2). */
#define PM1_STS                 0x00
#define PM1_EN                  0x02
#define PM1_CNT                 0x04
#define PM_TMR                  0x08
/* QEMU pc-board ports that SeaBIOS's own ACPI tables use: GPE0 (an alias
 * of PMBA+0x0c..0x0f) and the PCI hotplug block (reads 0, no hotplug). */
#define PIIX4_QEMU_GPE0_PORT    0xafe0
#define PIIX4_QEMU_PCIHP_PORT   0xae00
#define GPE0_STS                0x0c
#define GPE0_EN                 0x0e
#define PM1_TMR_STS             0x0001
#define PM1_GBL_STS             0x0020
#define PM1_PWRBTN_STS          0x0100
#define PM1_RTC_STS             0x0400
#define PM1_WAK_STS             0x8000
#define PM1_CNT_SCI_EN          0x0001
#define PM1_CNT_SLP_TYP_SHIFT   10
#define PM1_CNT_SLP_EN          0x2000

typedef struct PIIX3State {
    Machine *m;
    PCIBus *bus;
    PCIDevice *isa;          /* 01.0 */
    PCIDevice *pm;           /* 01.3 */
    IRQLine *irq_out[16];
    uint8_t out_level[16];   /* level this chip drives on each ISA IRQ */
    IRQLine *apic_pirq[4];   /* PIRQA-D straight to IOAPIC inputs (board) */

    uint16_t pm_io_base;     /* where the PM block is mapped, 0 = not */
    uint16_t pm1_sts, pm1_en, pm1_cnt;
    uint16_t gpe_sts, gpe_en;
    uint8_t apm_cnt, apm_sts;
    bool sci_level;
    Timer *tmr_overflow;     /* next PM_TMR bit 23 transition */
} PIIX3State;

PIIX3State *piix3_create(Machine *m, PCIBus *bus, IRQLine *const isa_irq[16]);
/* The board's wiring of PIRQA-D to IOAPIC inputs (GSI 16-19 on the pc
 * board, which the DSDT's _PRT names): those lines follow the PCI INTx
 * levels whatever PIRQRC says.  NULL entries stay unconnected. */
void piix3_connect_apic_pirqs(PIIX3State *s, IRQLine *const lines[4]);
/* Press the ACPI fixed-feature power button (e.g. monitor system_powerdown). */
void piix3_power_button(PIIX3State *s);
/* Current PM IO base (0 when disabled): the board's ACPI tables use it. */
uint16_t piix3_pm_base(PIIX3State *s);
/* 24-bit PM timer value now. */
uint32_t piix3_pm_timer(PIIX3State *s);
/* GPE0 status bit n (0..15) set by a board event (hotplug etc.). */
void piix3_set_gpe(PIIX3State *s, int n);

#endif
