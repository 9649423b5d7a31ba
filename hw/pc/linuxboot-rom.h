#ifndef VX86_HW_PC_LINUXBOOT_ROM_H
#define VX86_HW_PC_LINUXBOOT_ROM_H

#include <stddef.h>
#include <stdint.h>

/* The fw_cfg file the BIOS runs as an option ROM to boot a -kernel
 * (hw/pc/linuxboot-rom16.S), and the bootorder line that names it first. */
#define LINUXBOOT_ROM_FILE "genroms/vx86-linuxboot.bin"
#define LINUXBOOT_ROM_BOOTORDER "/rom@" LINUXBOOT_ROM_FILE "\n"

/* The ROM image, padded to 512-byte blocks, with its size byte and its
 * PnP-header and whole-image checksums filled in.  Sets *len; free() it. */
uint8_t *linuxboot_rom_image(size_t *len);

#endif
