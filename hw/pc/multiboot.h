/*
 * Multiboot (v1, specification 0.6.96) kernels with -kernel, loaded as
 * QEMU loads them: the image's header (magic 0x1BADB002 in its first
 * 8 KiB, 4-byte aligned) says where it goes, either through its ELF32
 * program headers or, when flag bit 16 is set, through the header's
 * address fields (the "a.out kludge", which also covers ELF64 images).
 * Modules come from -initrd "file args,file2 args2" (",," is a literal
 * comma), each page-aligned after the kernel, each with its whole item
 * as its string; the kernel's command line is "FILE APPEND" (its file
 * name first, as GRUB and QEMU pass it).
 *
 * The kernel starts in 32-bit protected mode, paging off, flat 4 GiB
 * segments (CS 0x08, data 0x10 from a GDT at MULTIBOOT_GDT_ADDR), A20 on,
 * interrupts off, EAX = 0x2BADB002 and EBX = the info structure:
 *
 *   0x0500  GDT: null, 0x08 code, 0x10 data
 *   0x9000  multiboot_info (flags: mem, boot_device, cmdline, mods, mmap,
 *           boot_loader_name), then the mmap (24-byte entries) at 0x9100
 *   0xa000  module list (16 bytes each)
 *   0xb000  strings: the command line, module strings, "vx86"
 *
 *   MultibootEntry e;
 *   if (multiboot_load(m, kernel, initrd_list, append, &e820, &e, err, len) < 0) die(err);
 *   X86ArchState s;  accel_reset_state(m, &s, ...);
 *   multiboot_entry_state(&e, &s);  ops->put_cpu_state(acc, &s, ...);
 *
 * Every header field is range-checked against the file and the e820 map
 * before anything is written: a malformed image gets one line and
 * nothing changes in guest memory.
 */
#ifndef VX86_HW_MULTIBOOT_H
#define VX86_HW_MULTIBOOT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/machine.h"
#include "cpu/arch-state.h"
#include "hw/pc/e820.h"

#define MULTIBOOT_HEADER_MAGIC     0x1badb002u
#define MULTIBOOT_BOOTLOADER_MAGIC 0x2badb002u
#define MULTIBOOT_SEARCH           8192       /* the header is in the first 8 KiB */

#define MULTIBOOT_GDT_ADDR         0x500ULL
#define MULTIBOOT_INFO_ADDR        0x9000ULL
#define MULTIBOOT_MMAP_ADDR        0x9100ULL
#define MULTIBOOT_MODS_ADDR        0xa000ULL
#define MULTIBOOT_STRINGS_ADDR     0xb000ULL
#define MULTIBOOT_STRINGS_END      0x9f000ULL
#define MULTIBOOT_MAX_MODULES      256

/* Info structure flags (multiboot_info.flags). */
#define MULTIBOOT_INFO_MEMORY      0x001
#define MULTIBOOT_INFO_BOOTDEV     0x002
#define MULTIBOOT_INFO_CMDLINE     0x004
#define MULTIBOOT_INFO_MODS        0x008
#define MULTIBOOT_INFO_MEM_MAP     0x040
#define MULTIBOOT_INFO_LOADER_NAME 0x200

typedef struct MultibootModule {
    const uint8_t *data;
    size_t len;
    const char *string;       /* "file args", as given */
} MultibootModule;

typedef struct MultibootEntry {
    uint32_t entry;           /* EIP */
    uint32_t info;            /* EBX */
    uint32_t load_start, load_end;   /* the kernel image as loaded (with bss) */
    int nmods;
    uint32_t mods_start, mods_end;   /* first module's start, last module's end */
} MultibootEntry;

/* Whether the image has a Multiboot header (valid magic + checksum in its
 * first 8 KiB); the offset of the header in *offset. */
bool multiboot_probe(const uint8_t *image, size_t len, size_t *offset);

/* Loads from memory.  Returns 0 and fills *entry, or -1 with one line in
 * err ("-kernel: ...", "-initrd: ...", "-append: ..."). */
int multiboot_load_image(Machine *m, const uint8_t *image, size_t len, const char *kernel_name,
                         const MultibootModule *mods, int nmods, const char *cmdline,
                         const E820Map *e820, MultibootEntry *entry, char *err, size_t errlen);

/* Reads the kernel and the -initrd module list (may be NULL) and loads
 * them; the command line becomes "KERNEL CMDLINE". */
int multiboot_load(Machine *m, const char *kernel, const char *initrd_list, const char *cmdline,
                   const E820Map *e820, MultibootEntry *entry, char *err, size_t errlen);

/* Turns a power-on state into the kernel's entry state (see above). */
void multiboot_entry_state(const MultibootEntry *e, X86ArchState *s);

#endif
