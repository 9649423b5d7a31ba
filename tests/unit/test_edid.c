/* EDID block (hw/edid.c) decoded field by field as the VESA E-EDID 1.4
 * layout defines it, and the VGA's BAR2 window onto it. */
#include <string.h>

#include "hw/edid.h"
#include "tests/unit/unit.h"

START_TEST(header_version_checksum)
{
    uint8_t b[EDID_BLOCK_SIZE];
    ck_assert(edid_generate(b, &(EdidInfo){ .xres = 1280, .yres = 800 }));
    static const uint8_t header[8] = { 0, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0 };
    ck_assert_mem_eq(b, header, 8);
    ck_assert_uint_eq(b[18], 1);
    ck_assert_uint_eq(b[19], 4);
    uint8_t sum = 0;
    for (int i = 0; i < EDID_BLOCK_SIZE; i++)
        sum = (uint8_t)(sum + b[i]);
    ck_assert_uint_eq(sum, 0);
    ck_assert_uint_eq(b[126], 0);            /* no extension blocks */
    ck_assert(b[24] & 0x02);                 /* descriptor 1 is the preferred mode */
}
END_TEST

/* The first detailed timing descriptor holds xres x yres; the pixel clock
 * divided by the totals gives the refresh rate. */
START_TEST(preferred_mode_in_first_descriptor)
{
    static const unsigned modes[][3] = { { 1280, 800, 75 }, { 1024, 768, 60 }, { 4095, 2160, 30 } };
    for (size_t i = 0; i < sizeof modes / sizeof modes[0]; i++) {
        uint8_t b[EDID_BLOCK_SIZE];
        ck_assert(edid_generate(b, &(EdidInfo){ .xres = modes[i][0], .yres = modes[i][1],
                                                .refresh_hz = modes[i][2] }));
        const uint8_t *d = b + 54;
        unsigned clock = (unsigned)(d[0] | d[1] << 8) * 10000u;
        unsigned hact = d[2] | (d[4] >> 4) << 8, hbl = d[3] | (d[4] & 15) << 8;
        unsigned vact = d[5] | (d[7] >> 4) << 8, vbl = d[6] | (d[7] & 15) << 8;
        ck_assert_uint_eq(hact, modes[i][0]);
        ck_assert_uint_eq(vact, modes[i][1]);
        double hz = (double)clock / ((hact + hbl) * (double)(vact + vbl));
        ck_assert(hz > modes[i][2] - 0.5 && hz < modes[i][2] + 0.5);
    }
}
END_TEST

START_TEST(name_descriptor_and_range_limits)
{
    uint8_t b[EDID_BLOCK_SIZE];
    ck_assert(edid_generate(b, &(EdidInfo){ .xres = 800, .yres = 600, .name = "Test" }));
    const uint8_t *range = b + 54 + 18, *name = b + 54 + 36;
    ck_assert_uint_eq(range[3], 0xfd);
    ck_assert_uint_le(range[5], 60);
    ck_assert_uint_ge(range[6], 60);
    ck_assert_uint_eq(name[3], 0xfc);
    ck_assert_mem_eq(name + 5, "Test\n        ", 13);
}
END_TEST

START_TEST(impossible_modes_refused)
{
    uint8_t b[EDID_BLOCK_SIZE];
    ck_assert(!edid_generate(b, &(EdidInfo){ .xres = 0, .yres = 600 }));
    ck_assert(!edid_generate(b, &(EdidInfo){ .xres = 4096, .yres = 600 }));
    ck_assert(!edid_generate(b, &(EdidInfo){ .xres = 800, .yres = 4096 }));
}
END_TEST

static Suite *edid_suite(void)
{
    Suite *s = suite_create("edid");
    TCase *tc = tcase_create("edid");
    tcase_add_test(tc, header_version_checksum);
    tcase_add_test(tc, preferred_mode_in_first_descriptor);
    tcase_add_test(tc, name_descriptor_and_range_limits);
    tcase_add_test(tc, impossible_modes_refused);
    suite_add_tcase(s, tc);
    return s;
}
UNIT_SUITE(edid_suite)
