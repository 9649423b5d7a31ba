/*
 * vnc-modes: the VNC test's mode-change guest (tests/ui/vnc.py).  Starts
 * in 80x25 text (720x400 on screen, registers as tests/vga/vga-text.c),
 * prints "ready" on the debug console, then polls the keyboard: F2
 * switches to mode 13h (320x200, the picture of tests/vga/vga-13h.c) and
 * prints "mode 13h", F3 back to text ("mode text").  A VNC client must
 * follow each switch with the new desktop size.
 */
#include "vga-common.h"

static volatile uint16_t *const text = (volatile uint16_t *)0xb8000;

static void text_mode(void)
{
    static const uint8_t sr[5] = { 0x03, 0x00, 0x03, 0x00, 0x02 };
    static const uint8_t cr[25] = { 0x5f, 0x4f, 0x50, 0x82, 0x55, 0x81, 0xbf, 0x1f, 0x00, 0x4f,
                                    0x0d, 0x0e, 0x00, 0x00, 0x00, 0x00, 0x9c, 0x8e, 0x8f, 0x28,
                                    0x1f, 0x96, 0xb9, 0xa3, 0xff };
    static const uint8_t gr[9] = { 0x00, 0x00, 0x00, 0x00, 0x00, 0x10, 0x0e, 0x00, 0xff };
    static const uint8_t ar[21] = { 0x00, 0x01, 0x02, 0x03, 0x04, 0x05, 0x14, 0x07,
                                    0x38, 0x39, 0x3a, 0x3b, 0x3c, 0x3d, 0x3e, 0x3f,
                                    0x0c, 0x00, 0x0f, 0x08, 0x00 };
    vga_set_regs(0x67, sr, cr, gr, ar);
    vga_out_idx(0x3d4, 0x0a, 0x20);               /* no cursor: nothing blinks */
    static const uint8_t used[8] = { 0x00, 0x01, 0x02, 0x03, 0x04, 0x05, 0x14, 0x07 };
    for (int i = 0; i < 8; i++)
        vga_set_dac(used[i], (uint8_t)(i & 4 ? 42 : 0), (uint8_t)(i & 2 ? 42 : 0),
                    (uint8_t)(i & 1 ? 42 : 0));
    vga_load_font(16);
    for (int i = 0; i < 80 * 25; i++)
        text[i] = (uint16_t)(((i * 7) % 95 + 0x20) | (((i / 80) % 7 + 1) << 8));
    tprintf("mode text\n");
}

static void mode_13h(void)
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
    tprintf("mode 13h\n");
}

int main(void)
{
    text_mode();
    tprintf("ready\n");
    for (;;) {
        if (!(inb(0x64) & 0x01))
            continue;
        uint8_t b = inb(0x60);
        if (b == 0x3c)                  /* F2 make (set 1) */
            mode_13h();
        else if (b == 0x3d)             /* F3 make */
            text_mode();
    }
    return 0;
}
