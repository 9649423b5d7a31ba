/*
 * VGA rendering: the current mode -> the console surface (ui/console.h),
 * redrawing only what changed (the dirty-page bitmap for graphics modes,
 * a per-cell cache for text).
 *
 * Modes, by the registers a BIOS programs (IBM VGA Technical Reference):
 * - VBE enabled: xres x yres at 8/15/16/24/32 bpp from the visible frame
 *   (DISPI start and line length; 8 bpp through the DAC).
 * - text (graphics register 6 bit 0 clear): columns = CRTC 1 + 1; cell
 *   width 8 or 9 dots (sequencer 1 bit 0 set = 8), doubled when the dot
 *   clock is halved (sequencer 1 bit 3, 40-column modes); cell height =
 *   CRTC 9 bits 4:0 + 1; rows = displayed scanlines / cell height, where
 *   the displayed scanlines are CRTC 0x12 + overflow bits (CRTC 7 bits 1
 *   and 6) + 1.  Character k of a row at CRTC address start + row * 2 *
 *   offset (CRTC 0x13) + k; word mode (CRTC 0x17 bit 6 clear) doubles the
 *   address, double-word mode (CRTC 0x14 bit 6) quadruples it; the
 *   character is plane 0, the attribute plane 1.  Glyph scanline l of
 *   character c is plane 2 at font base + c * 32 + l, the base chosen by
 *   sequencer 3 (map A for attribute bit 3 set, map B for clear; map n at
 *   (n & 3) * 16 KiB + (n >> 2) * 8 KiB).  The ninth dot is background
 *   except, with line graphics enabled (attribute mode control bit 2),
 *   for characters 0xC0-0xDF, where it repeats the eighth (vx86: from
 *   0xB0, as QEMU; see VGA_LINE_GFX_FIRST).  Attribute
 *   bits 3:0 are the foreground, 7:4 the background; with blink enabled
 *   (attribute mode control bit 3) bit 7 is blink instead: background from
 *   bits 6:4, foreground hidden during the off phase.  Cursor: CRTC 0xA
 *   bit 5 disables; scanlines CRTC 0xA bits 4:0 to 0xB bits 4:0 of the
 *   cell at CRTC 0xE:0xF, in the foreground colour; none when start > end.
 * - 256 colours (graphics 5 bit 6): (CRTC 1 + 1) * 4 pixels per line, one
 *   byte per pixel, pixel x from plane x & 3.
 * - 16 colours (planar): (CRTC 1 + 1) * 8 pixels, bit 7 - (x & 7) of the
 *   four planes' byte x / 8 gives the colour index.
 *   Graphics lines = displayed scanlines / (CRTC 9 bits 4:0 + 1), halved
 *   again when CRTC 9 bit 7 (double scan) is set.
 * - Colour of a 4-bit index i: attribute palette register (i & colour
 *   plane enable); bits 5:4 from the colour select register when
 *   attribute mode control bit 7 is set, bits 7:6 from it always; then
 *   the DAC entry (through the PEL mask).
 * - The display is blank while the attribute index register's palette
 *   address source bit (0x20) is clear or the sequencer's screen-off bit
 *   (1 bit 5) is set.
 */
#include <stdlib.h>
#include <string.h>

#include "core/util.h"
#include "hw/vga-int.h"

enum { KIND_BLANK, KIND_TEXT, KIND_PLANAR, KIND_256, KIND_VBE };

/* The IBM reference repeats the eighth dot into the ninth for characters
 * 0xC0-0xDF only; QEMU 7.2 does it from 0xB0 (the shade and box-drawing
 * block), and vx86 follows QEMU so a text screen is pixel-identical to
 * QEMU's screendump (tests/vga/vgadiff, image vga-text, bottom rows). */
#define VGA_LINE_GFX_FIRST 0xb0

/* How a 6-bit DAC value is shown.  Checked against QEMU's screendumps by
 * tests/vga (vga-oracle): the two low bits repeat the lowest bit, which
 * is what QEMU 7.2 shows (a 0x2a grey is 0xa8, 0x15 is 0x57, 0x3f 0xff). */
uint8_t vga_dac_expand(uint8_t v6)
{
    v6 &= 0x3f;
    uint8_t b = v6 & 1;
    return (uint8_t)((v6 << 2) | (b << 1) | b);
}

static void update_palette(VGAState *s)
{
    bool dac8 = s->vbe_regs[VBE_INDEX_ENABLE] & VBE_8BIT_DAC;
    uint32_t pal[256];
    for (int i = 0; i < 256; i++) {
        const uint8_t *e = &s->dac[(i & s->dac_pel_mask) * 3];
        uint32_t r = dac8 ? e[0] : vga_dac_expand(e[0]);
        uint32_t g = dac8 ? e[1] : vga_dac_expand(e[1]);
        uint32_t b = dac8 ? e[2] : vga_dac_expand(e[2]);
        pal[i] = r << 16 | g << 8 | b;
    }
    if (memcmp(pal, s->palette, sizeof pal)) {
        memcpy(s->palette, pal, sizeof pal);
        s->full_update = true;
    }
}

/* DAC index of a 4-bit colour through the attribute controller. */
static uint8_t attr_color(const VGAState *s, uint8_t c)
{
    uint8_t v = s->ar[c & s->ar[0x12] & 0x0f];
    if (s->ar[0x10] & 0x80)
        v = (uint8_t)((v & 0x0f) | ((s->ar[0x14] & 0x03) << 4));
    else
        v &= 0x3f;
    return (uint8_t)(v | ((s->ar[0x14] & 0x0c) << 4));
}

static uint32_t display_lines(const VGAState *s)
{
    return ((uint32_t)s->cr[0x12] | ((uint32_t)(s->cr[7] & 0x02) << 7) |
            ((uint32_t)(s->cr[7] & 0x40) << 3)) + 1;
}

static uint32_t line_compare(const VGAState *s)
{
    return (uint32_t)s->cr[0x18] | ((uint32_t)(s->cr[7] & 0x10) << 4) |
           ((uint32_t)(s->cr[9] & 0x40) << 3);
}

static uint32_t start_address(const VGAState *s)
{
    return (uint32_t)s->cr[0x0c] << 8 | s->cr[0x0d];
}

static int address_shift(const VGAState *s)
{
    if (s->cr[0x14] & 0x40)
        return 2;
    return (s->cr[0x17] & 0x40) ? 0 : 1;
}

static bool range_dirty(VGAState *s, uint32_t off, uint32_t len)
{
    if (!len)
        return false;
    uint32_t first = off >> VGA_PAGE_SHIFT, last = (off + len - 1) >> VGA_PAGE_SHIFT;
    for (uint32_t p = first; p <= last; p++) {
        uint32_t q = p & ((s->vram_size >> VGA_PAGE_SHIFT) - 1);
        if ((s->dirty[q >> 3] >> (q & 7)) & 1)
            return true;
    }
    return false;
}

static void blink_phases(VGAState *s, bool *cursor_on, bool *chars_on)
{
    if (s->blink_pinned) {
        *cursor_on = s->cursor_phase;
        *chars_on = s->char_phase;
        return;
    }
    /* The VGA blinks the cursor every 16 frames and blinking characters
     * every 32 (a 70 Hz frame), from the virtual clock. */
    int64_t frame = clock_now(s->m->clock) / (1000000000 / 70);
    *cursor_on = !((frame >> 3) & 1);
    *chars_on = !((frame >> 4) & 1);
}

static uint32_t *surface_row(DisplaySurface *d, int y)
{
    return (uint32_t *)((uint8_t *)d->pixels + (size_t)y * (size_t)d->stride);
}

/* ---- text ---- */

static uint32_t font_base(uint8_t map)
{
    return (uint32_t)(map & 3) * 0x4000u + (uint32_t)(map >> 2) * 0x2000u;
}

/* Whether font map `which` (glyph bytes at base, plane 2) differs from
 * what was drawn last; remembers it. */
static bool font_changed(VGAState *s, int which, uint32_t base)
{
    uint8_t *cache = s->font_cache[which];
    bool changed = !s->font_cache_valid[which] || s->font_cache_base[which] != base;
    for (uint32_t i = 0; i < sizeof s->font_cache[0]; i++) {
        uint8_t b = s->vram[(base + i) * 4 + 2];
        if (cache[i] != b) {
            cache[i] = b;
            changed = true;
        }
    }
    s->font_cache_base[which] = base;
    s->font_cache_valid[which] = true;
    return changed;
}

/* No picture to draw (screen off, or registers that describe no area,
 * as mid-way through a mode change): keep the size and show black, so a
 * screendump or a window still has the last mode's frame (QEMU keeps its
 * surface too). */
static void draw_blank(VGAState *s, bool full)
{
    DisplaySurface *d = console_surface(s->con);
    if (full && d->pixels) {
        memset(d->pixels, 0, (size_t)d->stride * (size_t)d->height);
        console_mark_dirty(s->con, 0, 0, d->width, d->height);
    }
}

static void draw_text(VGAState *s, bool full)
{
    int cw = (s->sr[1] & 0x01) ? 8 : 9;
    int cscale = (s->sr[1] & 0x08) ? 2 : 1;
    int ch_h = (s->cr[9] & 0x1f) + 1;
    int cols = s->cr[1] + 1;
    int rows = (int)(display_lines(s) / (uint32_t)ch_h);
    if (rows <= 0 || cols <= 0) {
        draw_blank(s, full);
        return;
    }
    int width = cols * cw * cscale, height = rows * ch_h;
    DisplaySurface *d = console_surface(s->con);
    if (d->width != width || d->height != height) {
        console_resize(s->con, width, height);
        full = true;
    }
    uint32_t cells = (uint32_t)(cols * rows);
    if (cells != s->text_cache_cells) {
        free(s->text_cache);
        s->text_cache = xcalloc(cells, sizeof(*s->text_cache));
        s->text_cache_cells = cells;
        full = true;
    }
    uint8_t sr3 = s->sr[3];
    uint32_t font_a = font_base((uint8_t)(((sr3 >> 5) & 1) << 2 | ((sr3 >> 2) & 3)));
    uint32_t font_b = font_base((uint8_t)(((sr3 >> 4) & 1) << 2 | (sr3 & 3)));
    /* Both fonts are checked (and remembered) even when the first changed. */
    bool font_a_changed = range_dirty(s, font_a * 4, 0x2000 * 4) && font_changed(s, 0, font_a);
    bool font_b_changed = range_dirty(s, font_b * 4, 0x2000 * 4) && font_changed(s, 1, font_b);
    if (font_a_changed || font_b_changed || !s->font_cache_valid[0] || !s->font_cache_valid[1] ||
        s->font_cache_base[0] != font_a || s->font_cache_base[1] != font_b) {
        font_changed(s, 0, font_a);
        font_changed(s, 1, font_b);
        full = true;
    }

    bool cursor_phase, char_phase;
    blink_phases(s, &cursor_phase, &char_phase);
    bool blink_attr = s->ar[0x10] & 0x08;
    if (char_phase != s->last_char_phase && blink_attr)
        full = true;        /* every blinking cell changes */
    s->last_char_phase = char_phase;

    uint32_t start = start_address(s);
    uint32_t stride = (uint32_t)s->cr[0x13] * 2;
    int shift = address_shift(s);
    int cs = s->cr[0x0a] & 0x1f, ce = s->cr[0x0b] & 0x1f;
    uint32_t cursor_addr = (uint32_t)s->cr[0x0e] << 8 | s->cr[0x0f];
    bool cursor_visible = !(s->cr[0x0a] & 0x20) && cursor_phase && cs <= ce && cs < ch_h;
    int cursor_lines = cs << 8 | ce;
    if (cursor_lines != s->last_cursor_lines)
        full = true;
    s->last_cursor_lines = cursor_lines;
    bool line_gfx = s->ar[0x10] & 0x04;
    const uint8_t *v = s->vram;

    /* Each row's changed cells go to the console as one rectangle (a
     * whole-screen redraw as one), so displays send only what changed. */
    bool drawn = false;
    for (int r = 0; r < rows; r++) {
        int c_lo = cols, c_hi = -1;
        for (int c = 0; c < cols; c++) {
            uint32_t counter = start + (uint32_t)r * stride + (uint32_t)c;
            uint32_t off = (counter << shift) & 0xffffu;
            uint8_t ch = v[off * 4], at = v[off * 4 + 1];
            uint32_t cell = (uint32_t)r * (uint32_t)cols + (uint32_t)c;
            bool is_cursor = cursor_visible && (counter & 0xffffu) == cursor_addr;
            /* What the cell shows: character, attribute, cursor. */
            uint32_t key = (uint32_t)ch | (uint32_t)at << 8 | (uint32_t)is_cursor << 16;
            if (!full && s->text_cache[cell] == key)
                continue;
            s->text_cache[cell] = key;

            uint8_t fgi = at & 0x0f, bgi = at >> 4;
            if (blink_attr) {
                bgi &= 7;
                if ((at & 0x80) && !char_phase)
                    fgi = bgi;
            }
            uint32_t fg = s->palette[attr_color(s, fgi)], bg = s->palette[attr_color(s, bgi)];
            uint32_t font = (at & 0x08) ? font_a : font_b;
            const uint8_t *glyph = v + (font + (uint32_t)ch * 32) * 4 + 2;
            bool dup9 = cw == 9 && line_gfx && ch >= VGA_LINE_GFX_FIRST && ch <= 0xdf;
            for (int l = 0; l < ch_h; l++) {
                uint8_t bits = l < 32 ? glyph[l * 4] : 0;
                bool ninth = dup9 && (bits & 1);
                if (is_cursor && l >= cs && l <= ce) {
                    bits = 0xff;
                    ninth = true;
                }
                uint32_t *px = surface_row(d, r * ch_h + l) + c * cw * cscale;
                for (int x = 0; x < cw; x++) {
                    bool on = x < 8 ? (bits >> (7 - x)) & 1 : ninth;
                    uint32_t col = on ? fg : bg;
                    for (int k = 0; k < cscale; k++)
                        *px++ = col;
                }
            }
            c_lo = MIN(c_lo, c);
            c_hi = MAX(c_hi, c);
        }
        if (c_hi >= 0 && !full)
            console_mark_dirty(s->con, c_lo * cw * cscale, r * ch_h,
                               (c_hi - c_lo + 1) * cw * cscale, ch_h);
        drawn |= c_hi >= 0;
    }
    if (drawn && full)
        console_mark_dirty(s->con, 0, 0, width, height);
}

/* ---- graphics ---- */

static void draw_graphics(VGAState *s, int kind, bool full)
{
    /* One surface line per displayed scanline (as QEMU's screendump: mode
     * 13h is 640x400); a memory row lasts CRTC 9 bits 4:0 + 1 scanlines,
     * twice that with double scanning. */
    uint32_t row_lines = (uint32_t)(s->cr[9] & 0x1f) + 1;
    if (s->cr[9] & 0x80)
        row_lines *= 2;
    int height = (int)display_lines(s);
    int width = (s->cr[1] + 1) * 8;
    if (height <= 0 || width <= 0) {
        draw_blank(s, full);
        return;
    }
    DisplaySurface *d = console_surface(s->con);
    if (d->width != width || d->height != height) {
        console_resize(s->con, width, height);
        full = true;
    }
    uint32_t stride = (uint32_t)s->cr[0x13] * 2;          /* plane bytes per row */
    uint32_t lc = line_compare(s);
    uint32_t start = start_address(s);
    /* 256 colours: one byte per pixel, each pixel two dots wide. */
    uint32_t bytes = kind == KIND_256 ? (uint32_t)width / 8 : (uint32_t)width / 8;
    int y0 = height, y1 = -1;
    for (int y = 0; y < height; y++) {
        uint32_t addr = (uint32_t)y > lc ? (((uint32_t)y - lc - 1) / row_lines) * stride
                                         : start + ((uint32_t)y / row_lines) * stride;
        addr &= 0xffffu;
        uint32_t span = MIN(bytes, 0x10000u - addr);
        if (!full && !range_dirty(s, addr * 4, span * 4))
            continue;
        uint32_t *px = surface_row(d, y);
        const uint8_t *p = s->vram + (size_t)addr * 4;
        if (kind == KIND_256) {
            for (int x = 0; x < width; x++)
                px[x] = (uint32_t)x / 8 < span ? s->palette[p[x / 2]] : 0;
        } else {
            uint8_t lut[16];
            for (int i = 0; i < 16; i++)
                lut[i] = attr_color(s, (uint8_t)i);
            for (int x = 0; x < width; x++) {
                uint32_t b = (uint32_t)x >> 3;
                if (b >= span) {
                    px[x] = 0;
                    continue;
                }
                int bit = 7 - (x & 7);
                uint8_t c = (uint8_t)(((p[b * 4] >> bit) & 1) | (((p[b * 4 + 1] >> bit) & 1) << 1) |
                                      (((p[b * 4 + 2] >> bit) & 1) << 2) |
                                      (((p[b * 4 + 3] >> bit) & 1) << 3));
                px[x] = s->palette[lut[c]];
            }
        }
        y0 = MIN(y0, y);
        y1 = MAX(y1, y);
    }
    if (y1 >= y0)
        console_mark_dirty(s->con, 0, y0, width, y1 - y0 + 1);
}

/* 5 or 6 bits -> 8, repeating the top bits. */
static uint32_t c5(uint32_t v) { return (v << 3) | (v >> 2); }
static uint32_t c6(uint32_t v) { return (v << 2) | (v >> 4); }

static void draw_vbe(VGAState *s, bool full)
{
    int width = s->vbe_regs[VBE_INDEX_XRES], height = s->vbe_regs[VBE_INDEX_YRES];
    unsigned bpp = vbe_bpp(s);
    if (!width || !height) {
        draw_blank(s, full);
        return;
    }
    DisplaySurface *d = console_surface(s->con);
    if (d->width != width || d->height != height) {
        console_resize(s->con, width, height);
        full = true;
    }
    uint32_t lo = s->vbe_line_offset;
    uint32_t bytes = bpp == 4 ? (uint32_t)width / 2 : (uint32_t)width * ((bpp + 7) / 8);
    int y0 = height, y1 = -1;
    for (int y = 0; y < height; y++) {
        uint32_t off = s->vbe_start + (uint32_t)y * lo;
        if (off + bytes > s->vram_size)
            break;
        if (!full && !range_dirty(s, off, bytes))
            continue;
        const uint8_t *p = s->vram + off;
        uint32_t *px = surface_row(d, y);
        for (int x = 0; x < width; x++) {
            uint32_t c;
            switch (bpp) {
            case 4: c = s->palette[(p[x / 2] >> ((x & 1) ? 0 : 4)) & 0x0f]; break;
            case 8: c = s->palette[p[x]]; break;
            case 15: {
                uint32_t w = (uint32_t)p[2 * x] | (uint32_t)p[2 * x + 1] << 8;
                c = c5((w >> 10) & 31) << 16 | c5((w >> 5) & 31) << 8 | c5(w & 31);
                break;
            }
            case 16: {
                uint32_t w = (uint32_t)p[2 * x] | (uint32_t)p[2 * x + 1] << 8;
                c = c5((w >> 11) & 31) << 16 | c6((w >> 5) & 63) << 8 | c5(w & 31);
                break;
            }
            case 24:
                c = (uint32_t)p[3 * x + 2] << 16 | (uint32_t)p[3 * x + 1] << 8 | p[3 * x];
                break;
            default:
                c = ((uint32_t)p[4 * x + 2] << 16 | (uint32_t)p[4 * x + 1] << 8 | p[4 * x]);
                break;
            }
            px[x] = c;
        }
        y0 = MIN(y0, y);
        y1 = MAX(y1, y);
    }
    if (y1 >= y0)
        console_mark_dirty(s->con, 0, y0, width, y1 - y0 + 1);
}

static int current_kind(const VGAState *s)
{
    if (!(s->ar_index & 0x20))
        return KIND_BLANK;
    if (vbe_enabled(s))
        return KIND_VBE;
    if (s->sr[1] & 0x20)
        return KIND_BLANK;
    if (!(s->gr[6] & 1))
        return KIND_TEXT;
    return (s->gr[5] & 0x40) ? KIND_256 : KIND_PLANAR;
}

static void vga_update(void *opaque)
{
    VGAState *s = opaque;
    vga_sync_dirty(s);
    update_palette(s);
    int kind = current_kind(s);
    bool full = s->full_update || kind != s->last_kind;
    s->full_update = false;
    s->last_kind = kind;
    switch (kind) {
    case KIND_VBE: draw_vbe(s, full); break;
    case KIND_TEXT: draw_text(s, full); break;
    case KIND_256:
    case KIND_PLANAR: draw_graphics(s, kind, full); break;
    default: draw_blank(s, full); break;
    }
    vga_clear_dirty(s);
}

static void vga_invalidate(void *opaque)
{
    VGAState *s = opaque;
    s->full_update = true;
}

/* The text cells as draw_text addresses them (for text terminals). */
static bool vga_get_text(void *opaque, ConsoleText *t)
{
    VGAState *s = opaque;
    if (current_kind(s) != KIND_TEXT)
        return false;
    int ch_h = (s->cr[9] & 0x1f) + 1;
    int cols = s->cr[1] + 1;
    int rows = (int)(display_lines(s) / (uint32_t)ch_h);
    if (rows <= 0 || cols <= 0 || cols * rows > t->max_cells)
        return false;
    uint32_t start = start_address(s);
    uint32_t stride = (uint32_t)s->cr[0x13] * 2;
    int shift = address_shift(s);
    for (int r = 0; r < rows; r++) {
        for (int c = 0; c < cols; c++) {
            uint32_t counter = start + (uint32_t)r * stride + (uint32_t)c;
            uint32_t off = (counter << shift) & 0xffffu;
            t->cells[r * cols + c] = (uint16_t)(s->vram[off * 4] | s->vram[off * 4 + 1] << 8);
        }
    }
    t->cols = cols;
    t->rows = rows;
    int cs = s->cr[0x0a] & 0x1f, ce = s->cr[0x0b] & 0x1f;
    uint32_t d = (((uint32_t)s->cr[0x0e] << 8 | s->cr[0x0f]) - start) & 0xffffu;
    if (!(s->cr[0x0a] & 0x20) && cs <= ce && cs < ch_h && stride &&
        d / stride < (uint32_t)rows && d % stride < (uint32_t)cols) {
        t->cursor_y = (int)(d / stride);
        t->cursor_x = (int)(d % stride);
    }
    return true;
}

const ConsoleHwOps vga_console_ops = { vga_update, vga_invalidate, vga_get_text };
