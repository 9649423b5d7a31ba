/*
 * VESA E-EDID 1.4 base block (VESA Enhanced EDID Standard, release A rev. 2):
 * header, vendor/product, digital input, size, sRGB chromaticity,
 * established timings up to 1024x768, the preferred mode as detailed
 * timing descriptor 1 (reduced-blanking figures in the spirit of CVT-RB),
 * range limits, monitor name, checksum.  Written from the standard's
 * layout; the figures are vx86's own.
 */
#include "hw/edid.h"

#include <string.h>

enum {
    EDID_VENDOR = 8, EDID_PRODUCT = 10, EDID_SERIAL = 12, EDID_WEEK = 16, EDID_YEAR = 17,
    EDID_VERSION = 18, EDID_REVISION = 19, EDID_INPUT = 20, EDID_HSIZE_CM = 21,
    EDID_VSIZE_CM = 22, EDID_GAMMA = 23, EDID_FEATURES = 24, EDID_CHROMA = 25,
    EDID_ESTABLISHED = 35, EDID_STANDARD = 38, EDID_DESC = 54, EDID_DESC_SIZE = 18,
    EDID_EXTENSIONS = 126, EDID_CHECKSUM = 127,
};

/* Reduced blanking: what a flat panel needs, small enough for any clock. */
enum { HBLANK = 160, HFRONT = 48, HSYNC = 32, VFRONT = 3, VSYNC = 6, VBLANK_MIN = 23 };

/* Three letters, 5 bits each ('A' = 1), big endian. */
static void put_vendor(uint8_t *p, const char id[3])
{
    unsigned v = (unsigned)(id[0] - '@') << 10 | (unsigned)(id[1] - '@') << 5 |
                 (unsigned)(id[2] - '@');
    p[0] = (uint8_t)(v >> 8);
    p[1] = (uint8_t)v;
}

/* sRGB primaries and D65 white point as 10-bit binary fractions. */
static void put_chromaticity(uint8_t *p)
{
    static const double xy[8] = { 0.640, 0.330, 0.300, 0.600, 0.150, 0.060, 0.3127, 0.3290 };
    unsigned v[8];
    for (int i = 0; i < 8; i++)
        v[i] = (unsigned)(xy[i] * 1024 + 0.5) & 0x3ff;
    p[0] = (uint8_t)((v[0] & 3) << 6 | (v[1] & 3) << 4 | (v[2] & 3) << 2 | (v[3] & 3));
    p[1] = (uint8_t)((v[4] & 3) << 6 | (v[5] & 3) << 4 | (v[6] & 3) << 2 | (v[7] & 3));
    for (int i = 0; i < 8; i++)
        p[2 + i] = (uint8_t)(v[i] >> 2);
}

static void put_detailed_timing(uint8_t *d, unsigned xres, unsigned yres, unsigned hz,
                                unsigned wmm, unsigned hmm)
{
    unsigned vblank = VBLANK_MIN;
    unsigned long clock_10khz =
        ((unsigned long)(xres + HBLANK) * (yres + vblank) * hz + 5000) / 10000;
    d[0] = (uint8_t)clock_10khz;
    d[1] = (uint8_t)(clock_10khz >> 8);
    d[2] = (uint8_t)xres;
    d[3] = (uint8_t)HBLANK;
    d[4] = (uint8_t)((xres >> 8) << 4 | (HBLANK >> 8));
    d[5] = (uint8_t)yres;
    d[6] = (uint8_t)vblank;
    d[7] = (uint8_t)((yres >> 8) << 4 | (vblank >> 8));
    d[8] = (uint8_t)HFRONT;
    d[9] = (uint8_t)HSYNC;
    d[10] = (uint8_t)((VFRONT & 15) << 4 | (VSYNC & 15));
    d[11] = (uint8_t)((HFRONT >> 8) << 6 | (HSYNC >> 8) << 4 | (VFRONT >> 4) << 2 | (VSYNC >> 4));
    d[12] = (uint8_t)wmm;
    d[13] = (uint8_t)hmm;
    d[14] = (uint8_t)((wmm >> 8) << 4 | (hmm >> 8));
    d[15] = d[16] = 0;                     /* no border */
    d[17] = 0x1a;                          /* digital separate sync, hsync +, vsync - */
}

/* Display descriptor: 0, 0, 0, tag, 0, then 13 bytes of payload. */
static uint8_t *display_descriptor(uint8_t *d, uint8_t tag)
{
    memset(d, 0, EDID_DESC_SIZE);
    d[3] = tag;
    return d + 5;
}

static void put_range_limits(uint8_t *d, unsigned hz, unsigned long max_clock_10khz)
{
    uint8_t *p = display_descriptor(d, 0xfd);
    p[0] = 50;                             /* vertical Hz, min */
    p[1] = (uint8_t)(hz > 125 ? hz : 125); /* max */
    p[2] = 30;                             /* horizontal kHz, min */
    p[3] = 160;                            /* max */
    unsigned mhz10 = (unsigned)((max_clock_10khz + 999) / 1000);
    p[4] = (uint8_t)(mhz10 > 255 ? 255 : mhz10);   /* pixel clock, 10 MHz units */
    p[5] = 0x01;                           /* range limits only */
    p[6] = 0x0a;
    memset(p + 7, 0x20, 6);
}

static void put_name(uint8_t *d, const char *name)
{
    uint8_t *p = display_descriptor(d, 0xfc);
    size_t n = strlen(name);
    if (n > 13)
        n = 13;
    memcpy(p, name, n);
    if (n < 13) {
        p[n] = 0x0a;
        memset(p + n + 1, 0x20, 13 - n - 1);
    }
}

bool edid_generate(uint8_t b[EDID_BLOCK_SIZE], const EdidInfo *info)
{
    unsigned xres = info->xres, yres = info->yres;
    unsigned hz = info->refresh_hz ? info->refresh_hz : 75;
    unsigned dpi = info->dpi ? info->dpi : 100;
    if (!xres || !yres || xres > 4095 || yres > 4095 || hz > 255)
        return false;
    unsigned wmm = xres * 254 / (dpi * 10), hmm = yres * 254 / (dpi * 10);
    memset(b, 0, EDID_BLOCK_SIZE);
    static const uint8_t header[8] = { 0x00, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x00 };
    memcpy(b, header, sizeof header);
    put_vendor(b + EDID_VENDOR, "VXE");
    b[EDID_PRODUCT] = 0x86;
    b[EDID_SERIAL] = 1;
    b[EDID_WEEK] = 1;
    b[EDID_YEAR] = 2026 - 1990;
    b[EDID_VERSION] = 1;
    b[EDID_REVISION] = 4;
    b[EDID_INPUT] = 0xa0;                  /* digital, 8 bits per colour */
    b[EDID_HSIZE_CM] = (uint8_t)((wmm + 5) / 10);
    b[EDID_VSIZE_CM] = (uint8_t)((hmm + 5) / 10);
    b[EDID_GAMMA] = 120;                   /* 2.2 */
    b[EDID_FEATURES] = 0x06;               /* sRGB default, preferred timing is native */
    put_chromaticity(b + EDID_CHROMA);
    b[EDID_ESTABLISHED] = 0x21;            /* 640x480@60, 800x600@60 */
    b[EDID_ESTABLISHED + 1] = 0x08;        /* 1024x768@60 */
    for (int i = 0; i < 8; i++)
        b[EDID_STANDARD + 2 * i] = b[EDID_STANDARD + 2 * i + 1] = 0x01;   /* unused */
    put_detailed_timing(b + EDID_DESC, xres, yres, hz, wmm, hmm);
    unsigned long clock = ((unsigned long)(xres + HBLANK) * (yres + VBLANK_MIN) * hz) / 10000;
    put_range_limits(b + EDID_DESC + EDID_DESC_SIZE, hz, clock);
    put_name(b + EDID_DESC + 2 * EDID_DESC_SIZE, info->name ? info->name : "vx86 Monitor");
    display_descriptor(b + EDID_DESC + 3 * EDID_DESC_SIZE, 0x10);   /* dummy */
    b[EDID_EXTENSIONS] = 0;
    uint8_t sum = 0;
    for (int i = 0; i < EDID_CHECKSUM; i++)
        sum = (uint8_t)(sum + b[i]);
    b[EDID_CHECKSUM] = (uint8_t)-sum;
    return true;
}
