#ifndef VX86_HW_EDID_H
#define VX86_HW_EDID_H

/*
 * A monitor's identity for display adapters that report one (the standard
 * VGA's EDID block in BAR2, as QEMU's has it): VESA E-EDID 1.4 base block
 * with the preferred mode as its first detailed timing.  Drivers such as
 * Linux's bochs-drm pick their default mode from it.
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define EDID_BLOCK_SIZE 128

typedef struct EdidInfo {
    const char *name;          /* monitor name, at most 13 characters */
    unsigned xres, yres;       /* preferred mode */
    unsigned refresh_hz;       /* its refresh rate (default 75 when 0) */
    unsigned dpi;              /* for the physical size (default 100 when 0) */
} EdidInfo;

/* Fills one 128-byte block; false when the mode cannot be described
 * (xres or yres 0 or above 4095, the largest a detailed timing holds). */
bool edid_generate(uint8_t block[EDID_BLOCK_SIZE], const EdidInfo *info);

#endif
