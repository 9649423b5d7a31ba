/*
 * ACPI table builder for the PC board: RSDP (2.0), RSDT, XSDT, FADT (rev 3)
 * pointing at the PIIX4 PM blocks with the 0xcf9 reset register, FACS,
 * DSDT (\_S5 only), MADT (one LAPIC per CPU, IOAPIC, IRQ0->GSI2 override,
 * level/active-high overrides for the SCI and any PCI IRQs, LINT1 NMI)
 * and HPET.
 *
 * Two ways out:
 *  - direct Linux boot: acpi_tables_install() writes the tables at a RAM
 *    address and the RSDP into the BIOS area (0xE0000-0xFFFFF, where the
 *    kernel scans for it), with real addresses and checksums;
 *  - firmware boot: acpi_tables_add_fwcfg() publishes etc/acpi/tables,
 *    etc/acpi/rsdp and etc/table-loader (QEMU's linker/loader commands:
 *    allocate, add pointer, add checksum), so SeaBIOS places and patches
 *    them exactly as it does on QEMU.
 *
 *   AcpiConfig c;
 *   acpi_config_default(&c, ncpus);
 *   c.pm_base = piix3_pm_base(sb);
 *   AcpiTables *t = acpi_build_tables(&c);
 *   acpi_tables_install(t, m->mem, 0x7ff0000, 0xf0000, &err);  // or _add_fwcfg
 *   acpi_tables_free(t);
 */
#ifndef VX86_HW_ACPI_H
#define VX86_HW_ACPI_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/memory.h"
#include "hw/fwcfg.h"

#define ACPI_RSDP_SIZE        36
#define ACPI_BIOS_AREA_START  0xe0000u
#define ACPI_BIOS_AREA_END    0x100000u
#define ACPI_MAX_CPUS         255

typedef struct AcpiConfig {
    int ncpus;                 /* APIC IDs and processor UIDs 0..ncpus-1 */
    uint32_t lapic_addr;
    uint32_t ioapic_addr;
    uint8_t ioapic_id;
    uint16_t pm_base;          /* PM1a_EVT = base, PM1a_CNT = base+4, PM_TMR = base+8 */
    uint8_t sci_irq;
    uint16_t smi_cmd;          /* 0: no SMI command port */
    uint8_t acpi_enable, acpi_disable;
    uint8_t s5_slp_typ;        /* SLP_TYP value for \_S5 */
    uint16_t reset_port;
    uint8_t reset_value;
    bool hpet;
    uint32_t hpet_addr;
    uint32_t hpet_block_id;    /* GCAP_ID low dword */
    uint16_t level_irqs;       /* ISA IRQs to declare level/active-high (SCI always) */
    /* \_SB.PCI0 in the DSDT (host bridge PNP0A03, bus 0): windows for its
     * _CRS and the GSI of PIRQA (B-D follow) for its _PRT. */
    bool pci;
    uint32_t pci_mmio_start;   /* 32-bit MMIO window start .. pci_mmio_end */
    uint32_t pci_mmio_end;     /* inclusive */
    uint8_t pirq_gsi_base;
} AcpiConfig;

/* Pointer fields to relocate and checksums to compute, kept so the same
 * build serves both the direct and the fw_cfg path. */
typedef struct AcpiReloc {
    uint8_t in_rsdp;           /* the field lives in the RSDP blob, else in tables */
    uint8_t size;              /* 4 or 8 */
    uint32_t offset;           /* of the field; its value is an offset into tables */
} AcpiReloc;

typedef struct AcpiCsum {
    uint8_t in_rsdp;
    uint32_t start, length, field;
} AcpiCsum;

typedef struct AcpiTables {
    uint8_t *tables;           /* FACS, DSDT, FADT, MADT, HPET, RSDT, XSDT */
    size_t tables_len, tables_cap;
    uint8_t rsdp[ACPI_RSDP_SIZE];
    AcpiReloc relocs[32];
    int nrelocs;
    AcpiCsum csums[16];
    int ncsums;
    uint32_t madt_entries;     /* for callers and tests */
} AcpiTables;

/* PC defaults: PIIX4 PM at 0x600, SCI 9, APM port 0xb2 (0xf1/0xf0), reset
 * 0x06 to 0xcf9, IOAPIC 0xfec00000, LAPIC 0xfee00000, HPET 0xfed00000. */
void acpi_config_default(AcpiConfig *c, int ncpus);
/* NULL when the configuration is unusable (no CPUs, too many). */
AcpiTables *acpi_build_tables(const AcpiConfig *c);
void acpi_tables_free(AcpiTables *t);
/* Direct boot.  tables_addr: RAM below 4 GiB; rsdp_addr: 16-byte aligned
 * in the BIOS area (RAM or ROM).  false and *err when not. */
bool acpi_tables_install(const AcpiTables *t, MemMap *mem, uint64_t tables_addr,
                         uint64_t rsdp_addr, char **err);
/* Firmware boot: adds (or replaces) the three fw_cfg files. */
bool acpi_tables_add_fwcfg(const AcpiTables *t, FWCfgState *fw);
/* 8-bit sum of len bytes (0 for a valid ACPI table). */
uint8_t acpi_checksum(const uint8_t *p, size_t len);

#endif
