/*
 * Direct Linux boot without a BIOS (-kernel/-initrd/-append), following the
 * Linux x86 boot protocol (Documentation/arch/x86/boot.rst) for bzImages of
 * protocol 2.06 or later.
 *
 * linuxboot_load() validates the bzImage, copies its protected-mode part to
 * 1 MiB, places the initrd as high as it may go below 4 GiB, writes the
 * command line, the "zero page" (struct boot_params, with the image's setup
 * header, the e820 map and a text-mode screen_info), a GDT and (for the
 * 64-bit entry) identity-mapping page tables into guest RAM, and returns the
 * CPU state to start the kernel in.  It does not run the real-mode setup
 * code: the kernel is entered at its 32-bit or 64-bit entry point.
 *
 * Guest RAM must already be in m->mem (the board maps it first).  Fixed
 * guest addresses, all in conventional memory the kernel reserves anyway:
 *
 *   0x00400  BIOS data area words: base memory size, EBDA segment
 *   0x06000  GDT (null, null, __BOOT_CS 0x10, __BOOT_DS 0x18)
 *   0x07000  boot_params (4 KiB)
 *   0x09000  PML4, 0x0a000 PDPT, 0x0b000-0x0efff four PDs (64-bit entry)
 *   0x20000  command line (NUL-terminated, at most 64 KiB)
 *   0x100000 protected-mode kernel (the bzImage after its setup sectors)
 *
 * Typical board code (hw/pc.c):
 *
 *   E820Map map;  e820_build_pc(&map, m->ram_size);
 *   LinuxBootEntry entry;  char err[256];
 *   if (linuxboot_load(m, kernel, initrd, append, &map, &entry, err, sizeof(err)) < 0)
 *       die("%s", err);       // one line, e.g. "-kernel: ... not a bzImage"
 *   size_t n = mptable_build(buf, sizeof(buf), 0xf0000, ncpus, NULL);
 *   memmap_load_buf(m->mem, 0xf0000, buf, n);
 *   X86ArchState s;  accel_reset_state(m, &s, ...);   // then, with the CPU's accelerator:
 *   linuxboot_entry_state(&entry, &s);  ops->put_cpu_state(acc, &s, ...);
 */
#ifndef VX86_HW_LINUXBOOT_H
#define VX86_HW_LINUXBOOT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/machine.h"
#include "cpu/arch-state.h"
#include "hw/pc/e820.h"

/* Guest-physical layout used by the loader (see above). */
#define LINUXBOOT_GDT_ADDR        0x6000ULL
#define LINUXBOOT_BOOT_PARAMS     0x7000ULL
#define LINUXBOOT_PML4_ADDR       0x9000ULL
#define LINUXBOOT_PDPT_ADDR       0xa000ULL
#define LINUXBOOT_PD_ADDR         0xb000ULL   /* 4 pages: 0xb000-0xefff */
#define LINUXBOOT_CMDLINE_ADDR    0x20000ULL
#define LINUXBOOT_CMDLINE_MAX     0xffffULL   /* bytes before the NUL */
#define LINUXBOOT_KERNEL_ADDR     0x100000ULL

/* Segment selectors the boot protocol requires. */
#define LINUXBOOT_BOOT_CS         0x10
#define LINUXBOOT_BOOT_DS         0x18

typedef enum LinuxBootMode {
    /* 32-bit boot protocol: protected mode, paging off. */
    LINUXBOOT_MODE_32 = 32,
    /* 64-bit boot protocol: long mode, identity-mapped paging. */
    LINUXBOOT_MODE_64 = 64,
} LinuxBootMode;

/*
 * The CPU state the kernel must be entered with.  The CPU code applies all
 * of it and nothing else matters (other registers and state as at reset).
 *
 * Both modes (boot.rst "32-bit boot protocol" / "64-bit boot protocol"):
 *  - interrupts disabled: rflags = 0x2 (IF = 0); no IDT is needed (idtr
 *    base 0, limit 0 is fine: the kernel loads its own before enabling);
 *  - GDTR = {gdt_base, gdt_limit}, with flat 4 GiB descriptors at
 *    __BOOT_CS (0x10, execute/read) and __BOOT_DS (0x18, read/write);
 *  - CS = cs (0x10) with hidden part from cs_desc; DS, ES, SS (and FS, GS
 *    for tidiness) = ds (0x18) with hidden part from ds_desc: base 0,
 *    limit 0xffffffff, present, DPL 0, accessed (so loading writes
 *    nothing back);
 *  - rsi (esi) = physical address of struct boot_params; all other general
 *    registers 0 (the 32-bit protocol requires ebp = edi = ebx = 0);
 *  - rip = entry point; TR/LDTR are not used by the kernel before it loads
 *    its own (null selectors are fine).
 *
 * 32-bit (mode 32): cr0 = PE|ET (paging off), cr3 = 0, cr4 = 0, efer = 0;
 *   cs_desc is a 32-bit code segment (D = 1).  rip = the load address
 *   (code32_start of the protected-mode kernel).
 * 64-bit (mode 64): cr0 = PE|ET|PG, cr4 = PAE, efer = LME|LMA, cr3 = the
 *   PML4 whose tables identity-map 0-4 GiB with 2 MiB pages (covers the
 *   kernel, boot_params, command line and initrd, as the protocol asks);
 *   cs_desc is a 64-bit code segment (L = 1, D = 0).  rip = load address
 *   + 0x200 (startup_64).
 */
typedef struct LinuxBootEntry {
    LinuxBootMode mode;
    uint64_t rip;
    uint64_t rsi;             /* boot_params address */
    uint64_t rflags;          /* 0x2: IF clear */
    uint64_t cr0, cr3, cr4;
    uint64_t efer;            /* MSR 0xc0000080 */
    uint64_t gdt_base;
    uint16_t gdt_limit;
    uint16_t cs, ds;          /* selectors: 0x10 and 0x18 */
    uint64_t cs_desc, ds_desc;  /* the raw 8-byte GDT descriptors */

    /* Where things went, for logging and tests. */
    uint64_t kernel_addr, kernel_size;   /* protected-mode code as loaded */
    uint64_t runtime_end;     /* end of the area the kernel decompresses into */
    uint64_t initrd_addr, initrd_size;   /* 0, 0 without an initrd */
    uint64_t cmdline_addr;
    uint16_t protocol;        /* e.g. 0x20f for 2.15 */
} LinuxBootEntry;

/*
 * Loads kernel (a bzImage), initrd (NULL for none) and cmdline (NULL for
 * "") into m's guest RAM as described above, with e820 as the memory map
 * given to the kernel (NULL: e820_build_pc(m->ram_size)).  Returns 0 and
 * fills *entry, or -1 with one line in err ("-kernel: ...", "-initrd:
 * ...", "-append: ...").  Every header field is range-checked: a malformed
 * file gives an error, never a crash or a write outside guest RAM.
 */
int linuxboot_load(Machine *m, const char *kernel, const char *initrd,
                   const char *cmdline, const E820Map *e820,
                   LinuxBootEntry *entry, char *err, size_t errlen);

/* The same from an image already in memory; kernel_name is used in
 * messages.  initrd may be NULL (initrd_len 0). */
int linuxboot_load_image(Machine *m, const uint8_t *image, size_t image_len,
                         const char *kernel_name, const uint8_t *initrd,
                         size_t initrd_len, const char *initrd_name,
                         const char *cmdline, const E820Map *e820,
                         LinuxBootEntry *entry, char *err, size_t errlen);

/* Turns s, a power-on state (cpu_arch_reset_state), into the kernel's
 * entry state: e's registers, control registers, GDTR and segments (CS from
 * e->cs_desc, DS/ES/SS/FS/GS from e->ds_desc), every general register but
 * RSI zero; the rest (IDTR, LDTR, TR, MSRs, x87/SSE) stays as at RESET. */
void linuxboot_entry_state(const LinuxBootEntry *e, X86ArchState *s);

/* Sets boot_params.acpi_rsdp_addr (read by protocol 2.14+ kernels) after
 * linuxboot_load, for boards that build ACPI tables.  False if boot_params
 * is not in mapped RAM. */
bool linuxboot_set_acpi_rsdp(Machine *m, uint64_t rsdp_addr);

#endif
