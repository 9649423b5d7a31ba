/*
 * Text console (see vc.h): a character grid fed by a byte stream, drawn
 * into its own Console with the VGA BIOS's 8x16 font.
 */
#include "ui/vc.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/util.h"

#define VC_BIOS_PATH "/usr/share/seabios/vgabios-stdvga.bin"
#define VC_FG 0x00aaaaaau
#define VC_BG 0x00000000u

struct TextConsole {
    Console *con;
    uint8_t font[VC_FONT_SIZE];
    uint8_t cells[VC_ROWS][VC_COLS];
    bool dirty[VC_ROWS][VC_COLS];
    int x, y;                 /* cursor */
    int drawn_x, drawn_y;     /* where the cursor was drawn */
    int esc;                  /* 0 text, 1 after ESC, 2 in a CSI sequence */
};

bool vc_font_load(uint8_t font[VC_FONT_SIZE], char *err, size_t errlen)
{
    /* The IBM VGA 8x16 'A'; the font starts 0x41 glyphs before it. */
    static const uint8_t glyph_a[16] = { 0x00, 0x00, 0x10, 0x38, 0x6c, 0xc6, 0xc6, 0xfe,
                                         0xc6, 0xc6, 0xc6, 0xc6, 0x00, 0x00, 0x00, 0x00 };
    FILE *f = fopen(VC_BIOS_PATH, "rb");
    if (!f) {
        snprintf(err, errlen, "no font: cannot open %s (apt-get install seabios)", VC_BIOS_PATH);
        return false;
    }
    uint8_t rom[256 * 1024];
    size_t n = fread(rom, 1, sizeof rom, f);
    fclose(f);
    for (size_t i = 0x41 * 16; i + 16 <= n; i++) {
        if (memcmp(rom + i, glyph_a, 16))
            continue;
        size_t base = i - 0x41 * 16;
        if (base + VC_FONT_SIZE > n)
            break;
        memcpy(font, rom + base, VC_FONT_SIZE);
        return true;
    }
    snprintf(err, errlen, "no 8x16 font found in %s", VC_BIOS_PATH);
    return false;
}

static void vc_dirty_cell(TextConsole *vc, int x, int y)
{
    if (x >= 0 && x < VC_COLS && y >= 0 && y < VC_ROWS)
        vc->dirty[y][x] = true;
}

static void vc_update(void *opaque)
{
    TextConsole *vc = opaque;
    DisplaySurface *s = console_surface(vc->con);
    if (s->width != VC_COLS * 8 || s->height != VC_ROWS * 16) {
        console_resize(vc->con, VC_COLS * 8, VC_ROWS * 16);
        memset(vc->dirty, 1, sizeof vc->dirty);
    }
    if (vc->drawn_x != vc->x || vc->drawn_y != vc->y) {
        vc_dirty_cell(vc, vc->drawn_x, vc->drawn_y);
        vc_dirty_cell(vc, vc->x, vc->y);
    }
    for (int r = 0; r < VC_ROWS; r++) {
        int x0 = VC_COLS, x1 = -1;
        for (int c = 0; c < VC_COLS; c++) {
            if (!vc->dirty[r][c])
                continue;
            vc->dirty[r][c] = false;
            const uint8_t *g = vc->font + vc->cells[r][c] * 16;
            bool cursor = r == vc->y && c == vc->x;
            for (int l = 0; l < 16; l++) {
                uint8_t bits = (cursor && l >= 14) ? 0xff : g[l];
                uint32_t *px = (uint32_t *)((uint8_t *)s->pixels +
                                            (size_t)(r * 16 + l) * (size_t)s->stride) + c * 8;
                for (int b = 0; b < 8; b++)
                    px[b] = (bits >> (7 - b)) & 1 ? VC_FG : VC_BG;
            }
            x0 = MIN(x0, c);
            x1 = c;
        }
        if (x1 >= 0)
            console_mark_dirty(vc->con, x0 * 8, r * 16, (x1 - x0 + 1) * 8, 16);
    }
    vc->drawn_x = vc->x;
    vc->drawn_y = vc->y;
}

static void vc_invalidate(void *opaque)
{
    TextConsole *vc = opaque;
    memset(vc->dirty, 1, sizeof vc->dirty);
}

static const ConsoleHwOps vc_ops = { vc_update, vc_invalidate, NULL };

TextConsole *vc_new(const char *name, const uint8_t font[VC_FONT_SIZE])
{
    TextConsole *vc = xcalloc(1, sizeof(*vc));
    memcpy(vc->font, font, VC_FONT_SIZE);
    memset(vc->cells, ' ', sizeof vc->cells);
    memset(vc->dirty, 1, sizeof vc->dirty);
    vc->con = console_new(name);
    console_set_hw(vc->con, &vc_ops, vc);
    return vc;
}

void vc_free(TextConsole *vc)
{
    if (!vc)
        return;
    console_free(vc->con);
    free(vc);
}

Console *vc_console(TextConsole *vc)
{
    return vc->con;
}

static void vc_newline(TextConsole *vc)
{
    if (++vc->y < VC_ROWS)
        return;
    vc->y = VC_ROWS - 1;
    memmove(vc->cells[0], vc->cells[1], sizeof vc->cells[0] * (VC_ROWS - 1));
    memset(vc->cells[VC_ROWS - 1], ' ', VC_COLS);
    memset(vc->dirty, 1, sizeof vc->dirty);
}

void vc_write(TextConsole *vc, const uint8_t *buf, size_t len)
{
    for (size_t i = 0; i < len; i++) {
        uint8_t ch = buf[i];
        if (vc->esc == 1) {
            vc->esc = ch == '[' ? 2 : 0;
            continue;
        }
        if (vc->esc == 2) {
            if (ch >= 0x40 && ch <= 0x7e)
                vc->esc = 0;       /* the final byte of a CSI sequence */
            continue;
        }
        switch (ch) {
        case '\r': vc->x = 0; break;
        case '\n': vc_newline(vc); break;
        case '\b': if (vc->x > 0) vc->x--; break;
        case '\t': vc->x = MIN((vc->x + 8) & ~7, VC_COLS - 1); break;
        case 0x1b: vc->esc = 1; break;
        default:
            if (ch < 0x20 || ch == 0x7f)
                break;
            if (vc->x == VC_COLS) {
                vc->x = 0;
                vc_newline(vc);
            }
            vc->cells[vc->y][vc->x] = ch;
            vc_dirty_cell(vc, vc->x, vc->y);
            vc->x++;
            break;
        }
    }
    /* The cursor sits on the last column after a full line. */
    if (vc->x == VC_COLS)
        vc_dirty_cell(vc, VC_COLS - 1, vc->y);
}
