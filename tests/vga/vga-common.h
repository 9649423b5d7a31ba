/*
 * Shared code of the VGA oracle images (tests/vga/vga-*.c): each image
 * programs the VGA itself from register values of the IBM VGA reference,
 * draws a known picture, prints "ready" on the debug console and halts.
 * tests/vga/vgadiff then takes a screendump from QEMU's monitor and from
 * vx86's and compares them pixel for pixel.
 */
#include "testrom.h"

/* PCI configuration mechanism 1, bus 0 (the images that find the LFB). */
static inline void pci_write32(int dev, int reg, uint32_t v)
{
    outl(0xcf8, 0x80000000u | (uint32_t)dev << 11 | (uint32_t)reg);
    outl(0xcfc, v);
}

static inline uint32_t pci_read32(int dev, int reg)
{
    outl(0xcf8, 0x80000000u | (uint32_t)dev << 11 | (uint32_t)reg);
    return inl(0xcfc);
}

/* Bochs VBE (DISPI): index port 0x1CE, data port 0x1CF. */
static inline void dispi(uint16_t idx, uint16_t v)
{
    outw(0x1ce, idx);
    outw(0x1cf, v);
}

static inline void vga_out_idx(uint16_t port, uint8_t idx, uint8_t v)
{
    outb(port, idx);
    outb((uint16_t)(port + 1), v);
}

/* Attribute controller: index then data through 0x3C0; reading 0x3DA
 * resets the flip-flop first.  Ends with the palette address source bit
 * set (display on). */
static inline void vga_set_ar(const uint8_t *ar, int n)
{
    inb(0x3da);
    for (int i = 0; i < n; i++) {
        outb(0x3c0, (uint8_t)i);
        outb(0x3c0, ar[i]);
    }
    outb(0x3c0, 0x20);
}

static inline void vga_set_regs(uint8_t misc, const uint8_t *sr, const uint8_t *cr,
                                const uint8_t *gr, const uint8_t *ar)
{
    outb(0x3c2, misc);
    vga_out_idx(0x3c4, 0, 0x01);               /* synchronous reset */
    for (int i = 1; i < 5; i++)
        vga_out_idx(0x3c4, (uint8_t)i, sr[i]);
    vga_out_idx(0x3c4, 0, 0x03);
    vga_out_idx(0x3d4, 0x11, 0x00);             /* unlock CRTC 0-7 */
    for (int i = 0; i < 25; i++)
        vga_out_idx(0x3d4, (uint8_t)i, cr[i]);
    for (int i = 0; i < 9; i++)
        vga_out_idx(0x3ce, (uint8_t)i, gr[i]);
    vga_set_ar(ar, 21);
}

static inline void vga_set_dac(int index, uint8_t r, uint8_t g, uint8_t b)
{
    outb(0x3c8, (uint8_t)index);
    outb(0x3c9, r);
    outb(0x3c9, g);
    outb(0x3c9, b);
}

/* A glyph pattern nobody drew: every bit pattern shows up, including the
 * eighth column (for the 9-dot rule). */
static inline uint8_t glyph_line(int ch, int line)
{
    uint32_t v = (uint32_t)ch * 2654435761u + (uint32_t)line * 40503u;
    v ^= v >> 13;
    v *= 0x5bd1e995u;
    v ^= v >> 15;
    if (ch == 0 || ch == 0x20)
        return 0;
    if (ch == 0xdb)
        return 0xff;
    return (uint8_t)v;
}

/* Loads 256 glyphs of `height` lines into plane 2 at font map 0 the way a
 * BIOS does (planar, plane 2 only, A0000 64 KiB window), then restores
 * text-mode addressing. */
static inline void vga_load_font(int height)
{
    vga_out_idx(0x3c4, 2, 0x04);
    vga_out_idx(0x3c4, 4, 0x06);
    vga_out_idx(0x3ce, 4, 0x02);
    vga_out_idx(0x3ce, 5, 0x00);
    vga_out_idx(0x3ce, 6, 0x04);
    volatile uint8_t *font = (volatile uint8_t *)0xa0000;
    for (int c = 0; c < 256; c++)
        for (int l = 0; l < 32; l++)
            font[c * 32 + l] = l < height ? glyph_line(c, l) : 0;
    vga_out_idx(0x3c4, 2, 0x03);
    vga_out_idx(0x3c4, 4, 0x02);
    vga_out_idx(0x3ce, 4, 0x00);
    vga_out_idx(0x3ce, 5, 0x10);
    vga_out_idx(0x3ce, 6, 0x0e);
}

static inline void vga_ready(void)
{
    tprintf("ready\n");
    for (;;)
        asm volatile("cli; hlt");
}
