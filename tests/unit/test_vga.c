/* The standard VGA driven through its ports and memory window like a
 * guest: mode set from register values, write modes 0-3, read modes,
 * chain 4, text rendering of known cells (9/8 dots, line graphics,
 * cursor, blink), VBE, dirty pages, snapshot, screendump files. */
#include <png.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/machine.h"
#include "hw/vga.h"
#include "tests/unit/unit.h"

typedef struct Rig {
    Machine *m;
    VGAState *vga;
} Rig;

static Rig rig_new(void)
{
    char err[256];
    Rig r;
    r.m = machine_new(16 << 20, CLOCK_MANUAL, err, sizeof err);
    ck_assert_ptr_nonnull(r.m);
    VGAConfig cfg = { .vgamem_mb = 1 };
    r.vga = vga_create(r.m, NULL, 0, &cfg, err, sizeof err);
    ck_assert_msg(r.vga != NULL, "%s", err);
    return r;
}

static void rig_free(Rig *r)
{
    machine_free(r->m);
}

static void out(Rig *r, uint16_t port, uint8_t v) { iospace_write(r->m->io, port, v, 1); }
static uint8_t in(Rig *r, uint16_t port) { return (uint8_t)iospace_read(r->m->io, port, 1); }
static void idx(Rig *r, uint16_t port, uint8_t i, uint8_t v) { out(r, port, i); out(r, port + 1, v); }

/* Mode 3 (80x25 text, 9-dot) from the IBM reference values. */
static void set_mode3(Rig *r, bool nine, uint8_t ar_mode)
{
    static const uint8_t cr[25] = { 0x5f, 0x4f, 0x50, 0x82, 0x55, 0x81, 0xbf, 0x1f, 0x00, 0x4f,
                                    0x0d, 0x0e, 0x00, 0x00, 0x00, 0x00, 0x9c, 0x8e, 0x8f, 0x28,
                                    0x1f, 0x96, 0xb9, 0xa3, 0xff };
    static const uint8_t gr[9] = { 0, 0, 0, 0, 0, 0x10, 0x0e, 0, 0xff };
    out(r, 0x3c2, 0x67);
    idx(r, 0x3c4, 1, nine ? 0x00 : 0x01);
    idx(r, 0x3c4, 2, 0x03);
    idx(r, 0x3c4, 3, 0x00);
    idx(r, 0x3c4, 4, 0x02);
    for (int i = 0; i < 25; i++)
        idx(r, 0x3d4, (uint8_t)i, cr[i]);
    for (int i = 0; i < 9; i++)
        idx(r, 0x3ce, (uint8_t)i, gr[i]);
    in(r, 0x3da);
    for (int i = 0; i < 16; i++) {
        out(r, 0x3c0, (uint8_t)i);
        out(r, 0x3c0, (uint8_t)i);
    }
    out(r, 0x3c0, 0x10);
    out(r, 0x3c0, ar_mode);
    out(r, 0x3c0, 0x12);
    out(r, 0x3c0, 0x0f);
    out(r, 0x3c0, 0x20);
    /* DAC: entry i = (i, 2i, 3i) & 63 */
    out(r, 0x3c8, 0);
    for (int i = 0; i < 16; i++) {
        out(r, 0x3c9, (uint8_t)i);
        out(r, 0x3c9, (uint8_t)(2 * i));
        out(r, 0x3c9, (uint8_t)(3 * i));
    }
}

static uint32_t dac_color(int i)
{
    uint8_t c[3] = { (uint8_t)i, (uint8_t)(2 * i), (uint8_t)(3 * i) };
    uint32_t v = 0;
    for (int k = 0; k < 3; k++) {
        uint8_t e = (uint8_t)((c[k] << 2) | ((c[k] & 1) << 1) | (c[k] & 1));
        v = v << 8 | e;
    }
    return v;
}

/* Glyph `ch`: line l = pattern[l]. */
static void load_glyph(Rig *r, uint8_t ch, const uint8_t *pattern, int n)
{
    idx(r, 0x3c4, 2, 0x04);
    idx(r, 0x3c4, 4, 0x06);
    idx(r, 0x3ce, 4, 0x02);
    idx(r, 0x3ce, 5, 0x00);
    idx(r, 0x3ce, 6, 0x04);
    for (int l = 0; l < n; l++)
        memmap_write(r->m->mem, 0xa0000 + ch * 32u + (uint32_t)l, pattern[l], 1);
    idx(r, 0x3c4, 2, 0x03);
    idx(r, 0x3c4, 4, 0x02);
    idx(r, 0x3ce, 4, 0x00);
    idx(r, 0x3ce, 5, 0x10);
    idx(r, 0x3ce, 6, 0x0e);
}

static uint32_t pixel(Rig *r, int x, int y)
{
    DisplaySurface *s = console_surface(vga_console(r->vga));
    ck_assert_int_lt(x, s->width);
    ck_assert_int_lt(y, s->height);
    return s->pixels[y * (s->stride / 4) + x];
}

START_TEST(text_cell_renders)
{
    Rig r = rig_new();
    set_mode3(&r, true, 0x04);                 /* line graphics, no blink */
    uint8_t pat[16];
    for (int l = 0; l < 16; l++)
        pat[l] = l == 3 ? 0x81 : (l == 4 ? 0xf0 : 0);
    load_glyph(&r, 'A', pat, 16);
    load_glyph(&r, 0xc4, pat, 16);
    /* cell 0: 'A' fg 1 bg 2; cell 1: 0xC4 fg 3 bg 4 */
    memmap_write(r.m->mem, 0xb8000, 'A' | 0x21 << 8, 2);
    memmap_write(r.m->mem, 0xb8002, 0xc4 | 0x43 << 8, 2);
    idx(&r, 0x3d4, 0x0a, 0x20);                /* cursor off */
    vga_set_blink_phase(r.vga, true, true);
    console_refresh(vga_console(r.vga), true);
    DisplaySurface *s = console_surface(vga_console(r.vga));
    ck_assert_int_eq(s->width, 720);
    ck_assert_int_eq(s->height, 400);
    ck_assert_uint_eq(pixel(&r, 0, 3), dac_color(1));   /* bit 7 */
    ck_assert_uint_eq(pixel(&r, 1, 3), dac_color(2));
    ck_assert_uint_eq(pixel(&r, 7, 3), dac_color(1));   /* bit 0 */
    ck_assert_uint_eq(pixel(&r, 8, 3), dac_color(2));   /* ninth: background for 'A' */
    ck_assert_uint_eq(pixel(&r, 9 + 8, 3), dac_color(3)); /* 0xC4: ninth repeats eighth */
    ck_assert_uint_eq(pixel(&r, 9 + 8, 4), dac_color(4)); /* eighth is 0 on line 4 */
    ck_assert_uint_eq(pixel(&r, 3, 4), dac_color(1));
    ck_assert_uint_eq(pixel(&r, 4, 4), dac_color(2));
    rig_free(&r);
}
END_TEST

START_TEST(text_8dot_cursor_and_blink)
{
    Rig r = rig_new();
    set_mode3(&r, false, 0x08);                /* blink enabled, 8 dots */
    memmap_write(r.m->mem, 0xb8000, 0x20 | 0x9e << 8, 2);  /* blink, bg 1 (bit 7 = blink), fg 14 */
    memmap_write(r.m->mem, 0xb8002, 0x20 | 0x07 << 8, 2);
    idx(&r, 0x3d4, 0x0a, 14);
    idx(&r, 0x3d4, 0x0b, 15);
    idx(&r, 0x3d4, 0x0e, 0);
    idx(&r, 0x3d4, 0x0f, 1);                   /* cursor on cell 1 */
    vga_set_blink_phase(r.vga, true, true);
    console_refresh(vga_console(r.vga), true);
    ck_assert_int_eq(console_surface(vga_console(r.vga))->width, 640);
    ck_assert_uint_eq(pixel(&r, 0, 0), dac_color(1));      /* background 0x9 & 7 */
    ck_assert_uint_eq(pixel(&r, 8, 13), dac_color(0));
    ck_assert_uint_eq(pixel(&r, 8, 14), dac_color(7));     /* cursor in the fg colour */
    ck_assert_uint_eq(pixel(&r, 15, 15), dac_color(7));
    vga_set_blink_phase(r.vga, false, true);
    console_refresh(vga_console(r.vga), false);
    ck_assert_uint_eq(pixel(&r, 8, 14), dac_color(0));     /* cursor off phase */
    /* a blinking cell with a glyph hides its foreground in the off phase */
    uint8_t pat[16] = { 0xff };
    load_glyph(&r, 'B', pat, 1);
    memmap_write(r.m->mem, 0xb8000, 'B' | 0x9e << 8, 2);
    vga_set_blink_phase(r.vga, false, true);
    console_refresh(vga_console(r.vga), false);
    ck_assert_uint_eq(pixel(&r, 0, 0), dac_color(14));
    vga_set_blink_phase(r.vga, false, false);
    console_refresh(vga_console(r.vga), false);
    ck_assert_uint_eq(pixel(&r, 0, 0), dac_color(1));
    rig_free(&r);
}
END_TEST

/* console_get_text: the cells as displayed (start address honoured), the
 * cursor cell, nothing in graphics modes. */
START_TEST(text_cells_for_terminals)
{
    Rig r = rig_new();
    set_mode3(&r, true, 0x0c);
    memmap_write(r.m->mem, 0xb8000, 'A' | 0x1e << 8, 2);
    memmap_write(r.m->mem, 0xb8000 + 2 * 81, 'z' | 0x07 << 8, 2);   /* row 1, col 1 */
    idx(&r, 0x3d4, 0x0e, 0);
    idx(&r, 0x3d4, 0x0f, 81);
    uint16_t cells[CONSOLE_TEXT_MAX_CELLS];
    ConsoleText t = { .cells = cells, .max_cells = CONSOLE_TEXT_MAX_CELLS };
    ck_assert(console_get_text(vga_console(r.vga), &t));
    ck_assert_int_eq(t.cols, 80);
    ck_assert_int_eq(t.rows, 25);
    ck_assert_uint_eq(cells[0], 'A' | 0x1e << 8);
    ck_assert_uint_eq(cells[81], 'z' | 0x07 << 8);
    ck_assert_int_eq(t.cursor_x, 1);
    ck_assert_int_eq(t.cursor_y, 1);
    /* Scrolled by one row: the start address moves the cells and cursor. */
    idx(&r, 0x3d4, 0x0c, 0);
    idx(&r, 0x3d4, 0x0d, 80);
    ck_assert(console_get_text(vga_console(r.vga), &t));
    ck_assert_uint_eq(cells[1], 'z' | 0x07 << 8);
    ck_assert_int_eq(t.cursor_y, 0);
    /* Cursor disabled (CR 0x0A bit 5). */
    idx(&r, 0x3d4, 0x0a, 0x20);
    ck_assert(console_get_text(vga_console(r.vga), &t));
    ck_assert_int_eq(t.cursor_x, -1);
    /* Too small a buffer, then a graphics mode: no text. */
    t.max_cells = 100;
    ck_assert(!console_get_text(vga_console(r.vga), &t));
    t.max_cells = CONSOLE_TEXT_MAX_CELLS;
    idx(&r, 0x3ce, 6, 0x05);                    /* graphics, A0000 64K */
    ck_assert(!console_get_text(vga_console(r.vga), &t));
    rig_free(&r);
}
END_TEST

/* Planar: 640x480x16 (mode 12h) memory setup. */
static void set_planar(Rig *r)
{
    idx(r, 0x3c4, 2, 0x0f);
    idx(r, 0x3c4, 4, 0x06);
    idx(r, 0x3ce, 5, 0x00);
    idx(r, 0x3ce, 6, 0x05);
    idx(r, 0x3ce, 8, 0xff);
}

static uint8_t plane_byte(Rig *r, uint32_t off, int plane)
{
    uint8_t *v = vga_vram(r->vga, NULL);
    return v[off * 4 + (uint32_t)plane];
}

START_TEST(write_modes)
{
    Rig r = rig_new();
    set_planar(&r);
    MemMap *mm = r.m->mem;
    /* mode 0, set/reset enabled on planes 0 and 2 with value 0b0001 */
    idx(&r, 0x3ce, 0, 0x01);
    idx(&r, 0x3ce, 1, 0x05);
    memmap_write(mm, 0xa0000, 0x3c, 1);
    ck_assert_uint_eq(plane_byte(&r, 0, 0), 0xff);
    ck_assert_uint_eq(plane_byte(&r, 0, 1), 0x3c);
    ck_assert_uint_eq(plane_byte(&r, 0, 2), 0x00);
    ck_assert_uint_eq(plane_byte(&r, 0, 3), 0x3c);
    /* rotate by 4 and XOR with the latches, bit mask 0x0f */
    idx(&r, 0x3ce, 1, 0x00);
    (void)memmap_read(mm, 0xa0000, 1);          /* load the latches */
    idx(&r, 0x3ce, 3, 0x18 | 4);
    idx(&r, 0x3ce, 8, 0x0f);
    memmap_write(mm, 0xa0000, 0x0f, 1);         /* rotated: 0xf0, masked away -> latch */
    ck_assert_uint_eq(plane_byte(&r, 0, 1), 0x3c);
    memmap_write(mm, 0xa0000, 0xf0, 1);         /* rotated 0x0f ^ latch, low nibble */
    ck_assert_uint_eq(plane_byte(&r, 0, 1), (0x3c & 0xf0) | ((0x3c ^ 0x0f) & 0x0f));
    idx(&r, 0x3ce, 3, 0x00);
    idx(&r, 0x3ce, 8, 0xff);
    /* mode 1: latches copied to another address */
    (void)memmap_read(mm, 0xa0000, 1);
    idx(&r, 0x3ce, 5, 0x01);
    memmap_write(mm, 0xa0010, 0x00, 1);
    for (int p = 0; p < 4; p++)
        ck_assert_uint_eq(plane_byte(&r, 0x10, p), plane_byte(&r, 0, p));
    /* mode 2: host bits 3:0 broadcast, bit mask 0xaa keeps latches elsewhere */
    (void)memmap_read(mm, 0xa0020, 1);          /* zero latches */
    idx(&r, 0x3ce, 5, 0x02);
    idx(&r, 0x3ce, 8, 0xaa);
    memmap_write(mm, 0xa0020, 0x09, 1);
    ck_assert_uint_eq(plane_byte(&r, 0x20, 0), 0xaa);
    ck_assert_uint_eq(plane_byte(&r, 0x20, 1), 0x00);
    ck_assert_uint_eq(plane_byte(&r, 0x20, 3), 0xaa);
    /* mode 3: set/reset colour 0b0110 through (host & bit mask) */
    idx(&r, 0x3ce, 5, 0x03);
    idx(&r, 0x3ce, 0, 0x06);
    idx(&r, 0x3ce, 8, 0xf0);
    (void)memmap_read(mm, 0xa0030, 1);
    memmap_write(mm, 0xa0030, 0x3c, 1);         /* mask = 0x30 */
    ck_assert_uint_eq(plane_byte(&r, 0x30, 0), 0x00);
    ck_assert_uint_eq(plane_byte(&r, 0x30, 1), 0x30);
    ck_assert_uint_eq(plane_byte(&r, 0x30, 2), 0x30);
    /* map mask: only plane 3 written */
    idx(&r, 0x3ce, 5, 0x00);
    idx(&r, 0x3ce, 8, 0xff);
    idx(&r, 0x3c4, 2, 0x08);
    memmap_write(mm, 0xa0040, 0x77, 1);
    ck_assert_uint_eq(plane_byte(&r, 0x40, 3), 0x77);
    ck_assert_uint_eq(plane_byte(&r, 0x40, 0), 0x00);
    rig_free(&r);
}
END_TEST

START_TEST(read_modes)
{
    Rig r = rig_new();
    set_planar(&r);
    MemMap *mm = r.m->mem;
    uint8_t *v = vga_vram(r.vga, NULL);
    v[0] = 0xf0; v[1] = 0xcc; v[2] = 0xaa; v[3] = 0x0f;
    idx(&r, 0x3ce, 4, 2);
    ck_assert_uint_eq(memmap_read(mm, 0xa0000, 1), 0xaa);      /* read mode 0, plane 2 */
    idx(&r, 0x3ce, 5, 0x08);                                     /* read mode 1 */
    idx(&r, 0x3ce, 2, 0x05);                                     /* colour 0101 */
    idx(&r, 0x3ce, 7, 0x0f);
    /* pixel colours per bit: planes 0..3 bits */
    uint8_t want = 0;
    for (int b = 0; b < 8; b++) {
        int c = ((0xf0 >> b) & 1) | (((0xcc >> b) & 1) << 1) | (((0xaa >> b) & 1) << 2) |
                (((0x0f >> b) & 1) << 3);
        if (c == 5)
            want |= (uint8_t)(1 << b);
    }
    ck_assert_uint_eq(memmap_read(mm, 0xa0000, 1), want);
    idx(&r, 0x3ce, 7, 0x00);                                     /* don't care: all match */
    ck_assert_uint_eq(memmap_read(mm, 0xa0000, 1), 0xff);
    rig_free(&r);
}
END_TEST

START_TEST(chain4_and_odd_even)
{
    Rig r = rig_new();
    uint8_t *v = vga_vram(r.vga, NULL);
    idx(&r, 0x3c4, 2, 0x0f);
    idx(&r, 0x3c4, 4, 0x0e);
    idx(&r, 0x3ce, 5, 0x40);
    idx(&r, 0x3ce, 6, 0x05);
    memmap_write(r.m->mem, 0xa0000 + 321, 0x5a, 1);
    ck_assert_uint_eq(v[321], 0x5a);
    ck_assert_uint_eq(memmap_read(r.m->mem, 0xa0000 + 321, 1), 0x5a);
    /* odd/even text addressing: even -> plane 0, odd -> plane 1 */
    set_mode3(&r, true, 0x0c);
    memmap_write(r.m->mem, 0xb8000 + 10, 'x', 1);
    memmap_write(r.m->mem, 0xb8000 + 11, 0x1f, 1);
    ck_assert_uint_eq(v[10 * 4 + 0], 'x');
    ck_assert_uint_eq(v[10 * 4 + 1], 0x1f);
    ck_assert_uint_eq(memmap_read(r.m->mem, 0xb8000 + 11, 1), 0x1f);
    /* outside the window selected by graphics register 6 */
    ck_assert_uint_eq(memmap_read(r.m->mem, 0xa0000, 1), 0xff);
    rig_free(&r);
}
END_TEST

START_TEST(mode13h_renders_and_dirty)
{
    Rig r = rig_new();
    static const uint8_t cr[25] = { 0x5f, 0x4f, 0x50, 0x82, 0x54, 0x80, 0xbf, 0x1f,
                                    0x00, 0x41, 0, 0, 0, 0, 0, 0,
                                    0x9c, 0x8e, 0x8f, 0x28, 0x40, 0x96, 0xb9, 0xa3, 0xff };
    out(&r, 0x3c2, 0x63);
    idx(&r, 0x3c4, 1, 0x01);
    idx(&r, 0x3c4, 2, 0x0f);
    idx(&r, 0x3c4, 4, 0x0e);
    for (int i = 0; i < 25; i++)
        idx(&r, 0x3d4, (uint8_t)i, cr[i]);
    idx(&r, 0x3ce, 5, 0x40);
    idx(&r, 0x3ce, 6, 0x05);
    in(&r, 0x3da);
    out(&r, 0x3c0, 0x10);
    out(&r, 0x3c0, 0x41);
    out(&r, 0x3c0, 0x20);
    out(&r, 0x3c8, 7);
    out(&r, 0x3c9, 0x3f); out(&r, 0x3c9, 0x00); out(&r, 0x3c9, 0x15);
    Console *con = vga_console(r.vga);
    console_refresh(con, true);
    ck_assert_int_eq(console_surface(con)->width, 640);
    ck_assert_int_eq(console_surface(con)->height, 400);
    ConsoleRect rect;
    ck_assert(console_take_dirty(con, &rect));
    vga_clear_dirty(r.vga);
    memmap_write(r.m->mem, 0xa0000 + 100 * 320 + 10, 7, 1);
    ck_assert(vga_page_dirty(r.vga, 100 * 320));
    ck_assert(!vga_page_dirty(r.vga, 0));
    console_refresh(con, false);
    ck_assert(console_take_dirty(con, &rect));
    /* row 100 is scanlines 200-201; the dirty 4 KiB page covers rows
     * 89-102, nothing else is redrawn */
    ck_assert_int_le(rect.y, 200);
    ck_assert_int_ge(rect.y + rect.h, 202);
    ck_assert_int_le(rect.h, 2 * 14);
    ck_assert_uint_eq(pixel(&r, 20, 200), 0xff0057u);
    ck_assert_uint_eq(pixel(&r, 21, 201), 0xff0057u);
    ck_assert(!vga_page_dirty(r.vga, 100 * 320));  /* consumed by the update */
    console_refresh(con, false);
    ck_assert(!console_take_dirty(con, &rect));    /* nothing changed */
    rig_free(&r);
}
END_TEST

static void dispi(Rig *r, uint16_t i, uint16_t v)
{
    iospace_write(r->m->io, 0x1ce, i, 2);
    iospace_write(r->m->io, 0x1cf, v, 2);
}

static uint16_t dispi_read(Rig *r, uint16_t i)
{
    iospace_write(r->m->io, 0x1ce, i, 2);
    return (uint16_t)iospace_read(r->m->io, 0x1cf, 2);
}

START_TEST(vbe_modes)
{
    Rig r = rig_new();
    ck_assert_uint_eq(dispi_read(&r, 0), 0xb0c5);
    ck_assert_uint_eq(dispi_read(&r, 10), 16);            /* 1 MiB in 64 KiB units */
    dispi(&r, 4, 0x02);                                   /* GETCAPS */
    ck_assert_uint_eq(dispi_read(&r, 1), 16000);
    ck_assert_uint_eq(dispi_read(&r, 3), 32);
    dispi(&r, 4, 0);
    /* too large for 1 MiB: refused, stays disabled */
    dispi(&r, 1, 1024); dispi(&r, 2, 768); dispi(&r, 3, 32);
    dispi(&r, 4, 0x41);
    ck_assert_uint_eq(dispi_read(&r, 4) & 1, 0);
    dispi(&r, 3, 13);                                     /* bad depth: kept 32 */
    ck_assert_uint_eq(dispi_read(&r, 3), 32);
    dispi(&r, 1, 320); dispi(&r, 2, 200); dispi(&r, 3, 16);
    dispi(&r, 4, 0x41);
    ck_assert_uint_eq(dispi_read(&r, 4), 0x41);
    ck_assert_uint_eq(dispi_read(&r, 7), (1 << 20) / 640);   /* virtual height */
    in(&r, 0x3da);
    out(&r, 0x3c0, 0x20);
    /* bank 1 through the 0xA0000 window: offset 0x10000 + 2 */
    dispi(&r, 5, 1);
    memmap_write(r.m->mem, 0xa0002, 0xf800, 2);           /* red in RGB565 */
    uint8_t *v = vga_vram(r.vga, NULL);
    ck_assert_uint_eq(v[0x10003], 0xf8);
    console_refresh(vga_console(r.vga), true);
    uint32_t off = 0x10002 / 2;                           /* pixel index */
    ck_assert_uint_eq(pixel(&r, (int)(off % 320), (int)(off / 320)), 0xff0000u);
    /* an offset that pushes the frame out of memory is refused */
    dispi(&r, 9, 60000);
    ck_assert_uint_eq(dispi_read(&r, 9), 0);
    rig_free(&r);
}
END_TEST

START_TEST(dac_read_write_and_status)
{
    Rig r = rig_new();
    out(&r, 0x3c8, 5);
    out(&r, 0x3c9, 1); out(&r, 0x3c9, 2); out(&r, 0x3c9, 3);
    out(&r, 0x3c9, 4);
    ck_assert_uint_eq(in(&r, 0x3c8), 6);
    out(&r, 0x3c7, 5);
    ck_assert_uint_eq(in(&r, 0x3c7), 3);
    ck_assert_uint_eq(in(&r, 0x3c9), 1);
    ck_assert_uint_eq(in(&r, 0x3c9), 2);
    ck_assert_uint_eq(in(&r, 0x3c9), 3);
    /* CRTC follows misc bit 0: mono ports until it is set */
    out(&r, 0x3c2, 0x66);
    idx(&r, 0x3b4, 0x13, 0x28);
    ck_assert_uint_eq(in(&r, 0x3d5), 0xff);
    out(&r, 0x3c2, 0x67);
    out(&r, 0x3d4, 0x13);
    ck_assert_uint_eq(in(&r, 0x3d5), 0x28);
    /* write protect of CRTC 0-7 */
    idx(&r, 0x3d4, 0x11, 0x80);
    idx(&r, 0x3d4, 0x01, 0x33);
    out(&r, 0x3d4, 0x01);
    ck_assert_uint_eq(in(&r, 0x3d5), 0x00);
    /* input status 1: the horizontal retrace bit toggles, vertical comes from the clock */
    uint8_t a = in(&r, 0x3da), b = in(&r, 0x3da);
    ck_assert_uint_ne(a & 1, b & 1);
    bool seen_vr = false;
    for (int i = 0; i < 100 && !seen_vr; i++) {
        clock_advance(r.m->clock, 1000000000 / 70 / 50);
        seen_vr = in(&r, 0x3da) & 0x08;
    }
    ck_assert(seen_vr);
    rig_free(&r);
}
END_TEST

START_TEST(snapshot_roundtrip)
{
    Rig r = rig_new();
    set_mode3(&r, true, 0x0c);
    memmap_write(r.m->mem, 0xb8000, 'Q' | 0x1e << 8, 2);
    VMBuf b;
    vmbuf_init(&b);
    machine_save_devices(r.m, &b);
    memmap_write(r.m->mem, 0xb8000, 0, 2);
    idx(&r, 0x3d4, 0x13, 0x11);
    char *err = NULL;
    ck_assert_int_eq(machine_load_devices(r.m, b.data, b.len, &err), 0);
    ck_assert_uint_eq(memmap_read(r.m->mem, 0xb8000, 2), 'Q' | 0x1e << 8);
    out(&r, 0x3d4, 0x13);
    ck_assert_uint_eq(in(&r, 0x3d5), 0x28);
    /* an impossible VBE bank is refused */
    uint16_t regs[11] = { 0xb0c5, 0, 0, 8, 0, 0x7fff };
    unit_stream_patch(&b, "vga", "vbe_regs", 0, regs, sizeof regs);
    ck_assert_int_ne(machine_load_devices(r.m, b.data, b.len, &err), 0);
    free(err);
    vmbuf_free(&b);
    rig_free(&r);
}
END_TEST

START_TEST(screendump_files)
{
    Rig r = rig_new();
    set_mode3(&r, false, 0x0c);
    idx(&r, 0x3d4, 0x0a, 0x20);
    char ppm[] = "/tmp/vx86-vga-XXXXXX", png[64];
    int fd = mkstemp(ppm);
    close(fd);
    snprintf(png, sizeof png, "%s.png", ppm);
    char err[256];
    ck_assert_msg(console_screendump(vga_console(r.vga), ppm, SCREENDUMP_PPM, err, sizeof err),
                  "%s", err);
    ck_assert_msg(console_screendump(vga_console(r.vga), png, SCREENDUMP_PNG, err, sizeof err),
                  "%s", err);
    FILE *f = fopen(ppm, "rb");
    char hdr[32] = { 0 };
    ck_assert_int_gt((int)fread(hdr, 1, 15, f), 0);
    fclose(f);
    ck_assert(!strncmp(hdr, "P6\n640 400\n255\n", 15));
    png_image img;
    memset(&img, 0, sizeof img);
    img.version = PNG_IMAGE_VERSION;
    ck_assert(png_image_begin_read_from_file(&img, png));
    ck_assert_uint_eq(img.width, 640);
    ck_assert_uint_eq(img.height, 400);
    png_image_free(&img);
    unlink(ppm);
    unlink(png);
    ck_assert(!console_screendump(vga_console(r.vga), "/nonexistent/dir/x.ppm", SCREENDUMP_PPM,
                                  err, sizeof err));
    rig_free(&r);
}
END_TEST

static Suite *vga_suite(void)
{
    Suite *s = suite_create("vga");
    TCase *tc = tcase_create("core");
    tcase_add_test(tc, text_cell_renders);
    tcase_add_test(tc, text_8dot_cursor_and_blink);
    tcase_add_test(tc, text_cells_for_terminals);
    tcase_add_test(tc, write_modes);
    tcase_add_test(tc, read_modes);
    tcase_add_test(tc, chain4_and_odd_even);
    tcase_add_test(tc, mode13h_renders_and_dirty);
    tcase_add_test(tc, vbe_modes);
    tcase_add_test(tc, dac_read_write_and_status);
    tcase_add_test(tc, snapshot_roundtrip);
    tcase_add_test(tc, screendump_files);
    suite_add_tcase(s, tc);
    return s;
}

UNIT_SUITE(vga_suite)
