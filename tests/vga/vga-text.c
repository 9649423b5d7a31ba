/*
 * vga-text: 80x25 text, 9-dot cells with line graphics, 16-line glyphs
 * from plane 2, all 256 characters and 256 attributes (blink disabled:
 * bit 7 is a bright background), a 16-colour DAC palette with varied
 * 6-bit values, the cursor disabled (its blink phase is wall-clock time
 * in QEMU).  TEXT_VARIANT selects the variants below.
 */
#include "vga-common.h"

#ifndef TEXT_ROWS
#define TEXT_ROWS 25          /* 25: 16-line cells; 50: 8-line cells */
#endif
#ifndef TEXT_DOTS
#define TEXT_DOTS 9
#endif
#ifndef TEXT_CURSOR
#define TEXT_CURSOR 0
#endif
#ifndef TEXT_BLINK
#define TEXT_BLINK 0
#endif

int main(void)
{
    static const uint8_t sr[5] = { 0x03, TEXT_DOTS == 9 ? 0x00 : 0x01, 0x03, 0x00, 0x02 };
    uint8_t cr[25] = { 0x5f, 0x4f, 0x50, 0x82, 0x55, 0x81, 0xbf, 0x1f, 0x00, 0x4f,
                       0x0d, 0x0e, 0x00, 0x00, 0x00, 0x00, 0x9c, 0x8e, 0x8f, 0x28,
                       0x1f, 0x96, 0xb9, 0xa3, 0xff };
    static const uint8_t gr[9] = { 0x00, 0x00, 0x00, 0x00, 0x00, 0x10, 0x0e, 0x00, 0xff };
    uint8_t ar[21] = { 0x00, 0x01, 0x02, 0x03, 0x04, 0x05, 0x14, 0x07,
                       0x38, 0x39, 0x3a, 0x3b, 0x3c, 0x3d, 0x3e, 0x3f,
                       0x04 | (TEXT_BLINK ? 0x08 : 0), 0x00, 0x0f, TEXT_DOTS == 9 ? 0x08 : 0x00,
                       0x00 };
    int height = TEXT_ROWS == 25 ? 16 : 8;
    cr[9] = (uint8_t)(0x40 | (height - 1));
    cr[10] = TEXT_CURSOR ? (uint8_t)(height - 3) : 0x20;   /* cursor start / off */
    cr[11] = (uint8_t)(height - 2);
    cr[14] = 0x03;                                         /* cursor at 10*80+20 = 0x334 */
    cr[15] = 0x34;
    vga_set_regs(TEXT_DOTS == 9 ? 0x67 : 0x63, sr, cr, gr, ar);
    /* DAC: the 16 entries the attribute palette uses, varied 6-bit values. */
    static const uint8_t used[16] = { 0x00, 0x01, 0x02, 0x03, 0x04, 0x05, 0x14, 0x07,
                                      0x38, 0x39, 0x3a, 0x3b, 0x3c, 0x3d, 0x3e, 0x3f };
    for (int i = 0; i < 16; i++)
        vga_set_dac(used[i], (uint8_t)((i * 13 + 1) & 63), (uint8_t)((i * 29 + 42) & 63),
                    (uint8_t)((i * 7 + 21) & 63));
    vga_load_font(height);
    volatile uint16_t *text = (volatile uint16_t *)0xb8000;
    for (int i = 0; i < 80 * TEXT_ROWS; i++) {
        uint8_t ch = (uint8_t)i, at = (uint8_t)(i / 3 + i * 7);
        if (i >= 80 * (TEXT_ROWS - 4))   /* bottom rows: the line-graphics range */
            ch = (uint8_t)(0xb0 + (i % 0x40));
        text[i] = (uint16_t)(ch | at << 8);
    }
    vga_ready();
    return 0;
}
