/*
 * vga-13h: mode 13h (320x200, 256 colours, chain 4) from the register
 * values of the IBM VGA reference; all 256 DAC entries cover every 6-bit
 * level in each component (how the display expands 6-bit DAC values).
 */
#include "vga-common.h"

int main(void)
{
    static const uint8_t sr[5] = { 0x03, 0x01, 0x0f, 0x00, 0x0e };
    static const uint8_t cr[25] = { 0x5f, 0x4f, 0x50, 0x82, 0x54, 0x80, 0xbf, 0x1f,
                                    0x00, 0x41, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
                                    0x9c, 0x8e, 0x8f, 0x28, 0x40, 0x96, 0xb9, 0xa3, 0xff };
    static const uint8_t gr[9] = { 0x00, 0x00, 0x00, 0x00, 0x00, 0x40, 0x05, 0x0f, 0xff };
    static const uint8_t ar[21] = { 0x00, 0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07,
                                    0x08, 0x09, 0x0a, 0x0b, 0x0c, 0x0d, 0x0e, 0x0f,
                                    0x41, 0x00, 0x0f, 0x00, 0x00 };
    vga_set_regs(0x63, sr, cr, gr, ar);
    for (int i = 0; i < 256; i++)
        vga_set_dac(i, (uint8_t)(i & 63), (uint8_t)((i * 5 + 3) & 63), (uint8_t)((255 - i) & 63));
    volatile uint8_t *fb = (volatile uint8_t *)0xa0000;
    for (int y = 0; y < 200; y++)
        for (int x = 0; x < 320; x++)
            fb[y * 320 + x] = (uint8_t)(x + (y / 8) * 16 + ((x / 16) ^ y) * 3);
    vga_ready();
    return 0;
}
