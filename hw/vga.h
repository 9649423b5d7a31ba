/*
 * Standard VGA with the Bochs VBE extensions: the "-vga std" card of
 * QEMU's pc machine (PCI 1234:1111, class 0x030000).
 *
 *   VGAState *vga = vga_create(m, pci_bus, PCI_DEVFN(2, 0), &cfg, err, len);
 *   Console *con = vga_console(vga);        // ui/console.h: render + dump
 *
 * What the guest sees:
 *   - legacy VGA ports 0x3B0-0x3DF and the 0xA0000-0xBFFFF window (an MMIO
 *     region above RAM, VGA_LOWMEM_PRIORITY);
 *   - Bochs VBE "DISPI" index/data ports 0x1CE/0x1CF;
 *   - BAR0: the linear framebuffer (all of video memory, prefetchable);
 *   - BAR2: 4 KiB MMIO: 0x400-0x41F the VGA ports 0x3C0-0x3DF, 0x500-0x515
 *     the DISPI registers (16-bit, index = (offset - 0x500) / 2), 0x600 the
 *     QEMU extension block (its size; framebuffer byte order);
 *   - the expansion ROM BAR: the VGA BIOS image (cfg.romfile) when given.
 *
 * Split over three files: vga.c (registers, video memory, PCI, snapshot),
 * vbe.c (DISPI), vga-render.c (modes -> console surface).  Internals shared
 * between them are in hw/vga-int.h.
 */
#ifndef VX86_HW_VGA_H
#define VX86_HW_VGA_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/machine.h"
#include "hw/pci.h"
#include "ui/console.h"

/* The window at 0xA0000 shadows RAM (0) and sits with ROM and PCI BARs (1):
 * nothing else decodes there on a PC. */
#define VGA_LOWMEM_PRIORITY 1
#define VGA_DEFAULT_VRAM_MB 16

typedef struct VGAConfig {
    unsigned vgamem_mb;       /* video memory, MiB: 1..256, power of two */
    const char *romfile;      /* VGA BIOS for the ROM BAR, or NULL */
    bool no_edid;             /* edid=off: BAR2's EDID area reads as all ones */
    unsigned xres, yres;      /* the EDID's preferred mode (0: QEMU's 1280x800) */
} VGAConfig;

#define VGA_DEFAULT_XRES 1280
#define VGA_DEFAULT_YRES 800

typedef struct VGAState VGAState;

/* Registers the PCI function at devfn, the ports and the 0xA0000 window.
 * bus may be NULL (an ISA-only card for tests: no BARs).  NULL with one
 * line in err when a resource is taken, the ROM cannot be read or the
 * memory size is invalid. */
VGAState *vga_create(Machine *m, PCIBus *bus, int devfn, const VGAConfig *cfg,
                     char *err, size_t errlen);
Console *vga_console(VGAState *s);

/* Tests and debugging: raw video memory and its size. */
uint8_t *vga_vram(VGAState *s, uint32_t *size);
/* Dirty-page bitmap of video memory (4 KiB pages): test and clear. */
bool vga_page_dirty(VGAState *s, uint32_t vram_offset);
void vga_clear_dirty(VGAState *s);
/* Blink phases (cursor, character blink): normally from the virtual
 * clock; tests pin them. */
void vga_set_blink_phase(VGAState *s, bool cursor_on, bool chars_on);

#endif
