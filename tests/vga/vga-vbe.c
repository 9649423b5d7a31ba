/*
 * vga-vbe: Bochs VBE 640x480x32 through the DISPI ports, with the linear
 * framebuffer (BAR0 of the PCI function at 00:02.0) placed at 0xE0000000
 * by the image itself (no firmware assigns it), a picture drawn in it.
 */
#include "vga-common.h"

#define LFB 0xe0000000u

int main(void)
{
    tprintf("vga id %x\n", pci_read32(2, 0));
    pci_write32(2, 0x10, LFB);
    pci_write32(2, 0x04, 0x0003);         /* IO + memory decode */
    dispi(4, 0);                           /* disable */
    dispi(1, 640);
    dispi(2, 480);
    dispi(3, 32);
    dispi(4, 0x41);                        /* enable, LFB */
    inb(0x3da);                            /* attribute flip-flop: index */
    outb(0x3c0, 0x20);                     /* palette address source: display on */
    volatile uint32_t *fb = (volatile uint32_t *)LFB;
    for (int y = 0; y < 480; y++)
        for (int x = 0; x < 640; x++)
            fb[y * 640 + x] = (uint32_t)((x * 255 / 639) << 16 | (y * 255 / 479) << 8 |
                                         ((x ^ y) & 0xff));
    vga_ready();
    return 0;
}
