/*
 * The BIOS memory map (INT 15h, AX=E820h) of the PC board, as a plain table.
 *
 * Direct Linux boot copies it into boot_params; a firmware interface may
 * hand it out too.  The PC layout (see docs/linux-boot.md):
 *
 *   0x00000000-0x0009fbff  RAM       conventional memory
 *   0x0009fc00-0x0009ffff  reserved  EBDA
 *   0x000f0000-0x000fffff  reserved  BIOS area (MP floating pointer lives here)
 *   0x00100000-low_end     RAM       low_end = min(RAM, 3 GiB)
 *   0xfec00000-0xfec00fff  reserved  IOAPIC
 *   0xfed00000-0xfed00fff  reserved  HPET
 *   0xfee00000-0xfee00fff  reserved  local APIC
 *   0xfffc0000-0xffffffff  reserved  BIOS flash alias
 *   0x100000000-...        RAM       the part of RAM above 3 GiB
 *
 * Like QEMU's pc machine, RAM beyond 3 GiB moves above 4 GiB to leave a
 * 1 GiB hole for PCI MMIO and the chipset.  Boards place guest RAM with the
 * same split: host RAM offset [0, low) at physical 0, [low, size) at 4 GiB
 * (e820_pc_low_ram / e820_pc_high_ram).
 *
 *   E820Map map;
 *   e820_build_pc(&map, 512 << 20);
 *   e820_add(&map, 0xfd000000, 0x1000000, E820_RESERVED);   // a framebuffer
 *   e820_sanitize(&map);                                    // sort + merge
 */
#ifndef VX86_HW_E820_H
#define VX86_HW_E820_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

/* boot_params holds at most 128 entries (E820_MAX_ENTRIES_ZEROPAGE). */
#define E820_MAX_ENTRIES 128

/* Entry types, as the ACPI spec's address range types. */
enum {
    E820_RAM = 1,
    E820_RESERVED = 2,
    E820_ACPI = 3,        /* ACPI tables: reclaimable after reading */
    E820_NVS = 4,         /* ACPI NVS: preserved across sleep */
    E820_UNUSABLE = 5,
};

/* PC board constants the map is built from. */
#define E820_PC_EBDA_START    0x9fc00ULL
#define E820_PC_VGA_START     0xa0000ULL
#define E820_PC_BIOS_START    0xf0000ULL
#define E820_PC_HIGH_START    0x100000ULL      /* 1 MiB */
#define E820_PC_PCI_HOLE      0xc0000000ULL    /* 3 GiB: RAM above moves to 4 GiB */
#define E820_PC_4G            0x100000000ULL
#define E820_PC_IOAPIC_BASE   0xfec00000ULL
#define E820_PC_HPET_BASE     0xfed00000ULL
#define E820_PC_LAPIC_BASE    0xfee00000ULL
#define E820_PC_FLASH_BASE    0xfffc0000ULL    /* top 256 KiB: BIOS ROM alias */

typedef struct E820Entry {
    uint64_t addr;
    uint64_t size;
    uint32_t type;
} E820Entry;

typedef struct E820Map {
    int n;
    E820Entry e[E820_MAX_ENTRIES];
} E820Map;

void e820_init(E820Map *map);
/* Appends a range.  False (map unchanged) when full, size is 0 or the range
 * wraps past 2^64. */
bool e820_add(E820Map *map, uint64_t addr, uint64_t size, uint32_t type);
/* Sorts by address (then type). */
void e820_sort(E820Map *map);
/* Makes the map sorted and non-overlapping: where ranges overlap, a
 * non-RAM type wins over RAM (and the larger type number over a smaller
 * one), then touching ranges of one type are merged.  False (map
 * unchanged) if the result would exceed E820_MAX_ENTRIES. */
bool e820_sanitize(E820Map *map);

/* RAM placed below the PCI hole / above 4 GiB for a PC with ram_size bytes. */
uint64_t e820_pc_low_ram(uint64_t ram_size);
uint64_t e820_pc_high_ram(uint64_t ram_size);
/* The PC map above for ram_size bytes of RAM (sorted, non-overlapping). */
void e820_build_pc(E820Map *map, uint64_t ram_size);

/* Sum of the E820_RAM ranges. */
uint64_t e820_ram_total(const E820Map *map);
/* The end of the E820_RAM range that contains addr (merging touching RAM
 * ranges), or 0 when addr is not in RAM. */
uint64_t e820_ram_end_from(const E820Map *map, uint64_t addr);
const char *e820_type_name(uint32_t type);
/* One line per entry, like Linux's "BIOS-e820: [mem ...] usable". */
void e820_print(const E820Map *map, FILE *f);

#endif
