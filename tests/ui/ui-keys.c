/*
 * ui-keys: the display tests' guest (tests/ui/ui.sh).  Sets up 80x25 text
 * like tests/vga/vga-text.c (its made-up font: the tests compare pixels
 * and cells, nobody reads them), writes known ASCII lines in several
 * colours, shows the cursor at row 12 column 10, prints "ready" on the
 * debug console, then polls the i8042 forever: every byte it reads is
 * printed as "key XX" (keyboard, set 1 after the controller's
 * translation) or "aux XX" (mouse) on the debug console and appended in
 * hex to the bottom rows of the screen, so typed keys also change the
 * picture.  F1's release (and the start) print the whole text buffer between
 * "screen begin" and "screen end" lines ('.' for characters outside
 * printable ASCII): what a text terminal must show.
 */
#include "vga-common.h"

static volatile uint16_t *const text = (volatile uint16_t *)0xb8000;

static void put_str(int row, int col, const char *s, uint8_t attr)
{
    for (; *s && col < 80; s++, col++)
        text[row * 80 + col] = (uint16_t)((uint8_t)*s | attr << 8);
}

static void dump_screen(void)
{
    tprintf("screen begin\n");
    for (int r = 0; r < 25; r++) {
        for (int c = 0; c < 80; c++) {
            uint8_t ch = (uint8_t)text[r * 80 + c];
            tprintf("%c", ch >= 0x20 && ch < 0x7f ? ch : '.');
        }
        tprintf("\n");
    }
    tprintf("screen end\n");
}

static void kbc_wait_write(void)
{
    for (int i = 0; i < 100000 && (inb(0x64) & 0x02); i++)
        ;
}

int main(void)
{
    static const uint8_t sr[5] = { 0x03, 0x00, 0x03, 0x00, 0x02 };
    static const uint8_t cr[25] = { 0x5f, 0x4f, 0x50, 0x82, 0x55, 0x81, 0xbf, 0x1f, 0x00, 0x4f,
                                    0x0d, 0x0e, 0x00, 0x00, 0x03, 0xca, 0x9c, 0x8e, 0x8f, 0x28,
                                    0x1f, 0x96, 0xb9, 0xa3, 0xff };
    static const uint8_t gr[9] = { 0x00, 0x00, 0x00, 0x00, 0x00, 0x10, 0x0e, 0x00, 0xff };
    static const uint8_t ar[21] = { 0x00, 0x01, 0x02, 0x03, 0x04, 0x05, 0x14, 0x07,
                                    0x38, 0x39, 0x3a, 0x3b, 0x3c, 0x3d, 0x3e, 0x3f,
                                    0x04, 0x00, 0x0f, 0x08, 0x00 };
    vga_set_regs(0x67, sr, cr, gr, ar);          /* cursor at 12*80+10 = 0x3ca */
    /* The standard 16-colour DAC values. */
    static const uint8_t rgb[16][3] = {
        { 0, 0, 0 }, { 0, 0, 42 }, { 0, 42, 0 }, { 0, 42, 42 }, { 42, 0, 0 }, { 42, 0, 42 },
        { 42, 21, 0 }, { 42, 42, 42 }, { 21, 21, 21 }, { 21, 21, 63 }, { 21, 63, 21 },
        { 21, 63, 63 }, { 63, 21, 21 }, { 63, 21, 63 }, { 63, 63, 21 }, { 63, 63, 63 } };
    static const uint8_t used[16] = { 0x00, 0x01, 0x02, 0x03, 0x04, 0x05, 0x14, 0x07,
                                      0x38, 0x39, 0x3a, 0x3b, 0x3c, 0x3d, 0x3e, 0x3f };
    for (int i = 0; i < 16; i++)
        vga_set_dac(used[i], rgb[i][0], rgb[i][1], rgb[i][2]);
    vga_load_font(16);
    for (int i = 0; i < 80 * 25; i++)
        text[i] = 0x0720;
    put_str(0, 0, "vx86 display test: keys typed here are echoed below", 0x1f);
    put_str(2, 2, "The quick brown fox jumps over the lazy dog 0123456789", 0x07);
    put_str(3, 2, "[red on black]", 0x04);
    put_str(3, 20, "[bright green]", 0x0a);
    put_str(3, 38, "[yellow on blue]", 0x1e);
    put_str(3, 58, "[black on cyan]", 0x30);
    put_str(5, 2, "!\"#$%&'()*+,-./:;<=>?@[\\]^_`{|}~", 0x0f);
    for (int c = 0; c < 16; c++)
        put_str(7, 2 + c * 4, "##", (uint8_t)(c << 4 | (15 - c)));
    put_str(12, 0, "cursor -> ", 0x07);

    /* The mouse: enable the aux port and the mouse's data reporting. */
    kbc_wait_write();
    outb(0x64, 0xa8);
    kbc_wait_write();
    outb(0x64, 0xd4);
    kbc_wait_write();
    outb(0x60, 0xf4);

    tprintf("ready\n");
    dump_screen();
    int pos = 0;
    static const char hex[] = "0123456789abcdef";
    for (;;) {
        uint8_t st = inb(0x64);
        if (!(st & 0x01))
            continue;
        uint8_t b = inb(0x60);
        int aux = st & 0x20;
        tprintf("%s %02x\n", aux ? "aux" : "key", b);
        if (aux)
            continue;
        int cell = 80 * 20 + (pos % (80 * 5 / 3)) * 3;
        text[cell] = (uint16_t)(hex[b >> 4] | 0x0e << 8);
        text[cell + 1] = (uint16_t)(hex[b & 15] | 0x0e << 8);
        pos++;
        if (b == 0xbb)                 /* F1 released */
            dump_screen();
    }
    return 0;
}
