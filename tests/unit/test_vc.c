/* The text console of the SDL window's monitor (ui/vc.c). */
#include <string.h>

#include "tests/unit/unit.h"
#include "ui/vc.h"

/* A font where glyph c has the bit pattern c on every line. */
static void test_font(uint8_t *font)
{
    for (int c = 0; c < 256; c++)
        memset(font + c * 16, c, 16);
}

static uint32_t px(Console *c, int x, int y)
{
    DisplaySurface *s = console_surface(c);
    return ((uint32_t *)((uint8_t *)s->pixels + (size_t)y * (size_t)s->stride))[x];
}

/* Cell (col, row) shows character ch: its 8 pixels on line 0 follow ch's bits. */
static bool cell_shows(Console *c, int col, int row, uint8_t ch)
{
    for (int b = 0; b < 8; b++) {
        bool on = px(c, col * 8 + b, row * 16) != 0;
        if (on != (bool)((ch >> (7 - b)) & 1))
            return false;
    }
    return true;
}

START_TEST(text_control_characters_and_scroll)
{
    static uint8_t font[VC_FONT_SIZE];
    test_font(font);
    TextConsole *vc = vc_new("t", font);
    Console *c = vc_console(vc);
    vc_write(vc, (const uint8_t *)"AB\bC\r\nx\ty\x1b[1;31mz", 17);
    console_refresh(c, false);
    ck_assert_int_eq(console_surface(c)->width, VC_COLS * 8);
    ck_assert_int_eq(console_surface(c)->height, VC_ROWS * 16);
    ck_assert(cell_shows(c, 0, 0, 'A'));
    ck_assert(cell_shows(c, 1, 0, 'C'));          /* BS then C over B */
    ck_assert(cell_shows(c, 0, 1, 'x'));
    ck_assert(cell_shows(c, 8, 1, 'y'));          /* TAB to column 8 */
    ck_assert(cell_shows(c, 9, 1, 'z'));          /* the CSI sequence drew nothing */
    /* The cursor: an underline on lines 14-15 of the next cell. */
    ck_assert_uint_ne(px(c, 10 * 8, 1 * 16 + 15), 0);
    ck_assert_uint_eq(px(c, 10 * 8, 1 * 16 + 13), 0);
    /* 24 more lines scroll the first one out. */
    for (int i = 0; i < 24; i++)
        vc_write(vc, (const uint8_t *)"\r\n", 2);
    console_refresh(c, false);
    ck_assert(cell_shows(c, 0, 0, 'x'));
    ck_assert(cell_shows(c, 0, 24, ' '));
    /* A full line wraps. */
    for (int i = 0; i < VC_COLS + 1; i++)
        vc_write(vc, (const uint8_t *)"q", 1);
    console_refresh(c, false);
    ck_assert(cell_shows(c, VC_COLS - 1, 23, 'q'));
    ck_assert(cell_shows(c, 0, 24, 'q'));
    vc_free(vc);
}
END_TEST

START_TEST(font_from_the_vga_bios)
{
    static uint8_t font[VC_FONT_SIZE];
    char err[256];
    if (!vc_font_load(font, err, sizeof err))
        return;                                    /* seabios not installed */
    for (int l = 0; l < 16; l++) {
        ck_assert_uint_eq(font[l], 0);             /* glyph 0: blank */
        ck_assert_uint_eq(font[0xdb * 16 + l], 0xff);   /* full block */
    }
}
END_TEST

static Suite *vc_suite(void)
{
    Suite *s = suite_create("vc");
    TCase *tc = tcase_create("core");
    tcase_add_test(tc, text_control_characters_and_scroll);
    tcase_add_test(tc, font_from_the_vga_bios);
    suite_add_tcase(s, tc);
    return s;
}

UNIT_SUITE(vc_suite)
