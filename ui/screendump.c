/*
 * Screendumps of a console surface: binary PPM (P6, maxval 255; what
 * QEMU's human-monitor `screendump` writes by default) and PNG (8-bit RGB,
 * written with libpng; `screendump FILE -f png`).  The file is written to
 * a temporary name beside the target and renamed, so a reader never sees
 * half a picture.
 */
#include <errno.h>
#include <png.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/util.h"
#include "ui/console.h"

static void row_to_rgb(const DisplaySurface *s, int y, uint8_t *out)
{
    const uint32_t *p = (const uint32_t *)((const uint8_t *)s->pixels + (size_t)y * (size_t)s->stride);
    for (int x = 0; x < s->width; x++) {
        out[3 * x] = (uint8_t)(p[x] >> 16);
        out[3 * x + 1] = (uint8_t)(p[x] >> 8);
        out[3 * x + 2] = (uint8_t)p[x];
    }
}

static bool write_ppm(const DisplaySurface *s, FILE *f)
{
    uint8_t *row = xmalloc((size_t)s->width * 3 + 1);
    bool ok = fprintf(f, "P6\n%d %d\n255\n", s->width, s->height) > 0;
    for (int y = 0; ok && y < s->height; y++) {
        row_to_rgb(s, y, row);
        ok = fwrite(row, 3, (size_t)s->width, f) == (size_t)s->width;
    }
    free(row);
    return ok;
}

typedef struct PngJob {
    const DisplaySurface *s;
    FILE *f;
    uint8_t *row;
} PngJob;

/* libpng reports errors by longjmp; keep the setjmp frame free of locals
 * that change after it. */
static bool write_png(PngJob *j)
{
    png_structp png = png_create_write_struct(PNG_LIBPNG_VER_STRING, NULL, NULL, NULL);
    if (!png)
        return false;
    png_infop info = png_create_info_struct(png);
    if (!info || setjmp(png_jmpbuf(png))) {
        png_destroy_write_struct(&png, &info);
        return false;
    }
    png_init_io(png, j->f);
    png_set_IHDR(png, info, (png_uint_32)j->s->width, (png_uint_32)j->s->height, 8,
                 PNG_COLOR_TYPE_RGB, PNG_INTERLACE_NONE, PNG_COMPRESSION_TYPE_DEFAULT,
                 PNG_FILTER_TYPE_DEFAULT);
    png_write_info(png, info);
    for (int y = 0; y < j->s->height; y++) {
        row_to_rgb(j->s, y, j->row);
        png_write_row(png, j->row);
    }
    png_write_end(png, NULL);
    png_destroy_write_struct(&png, &info);
    return true;
}

bool screendump_write(const DisplaySurface *s, const char *path, ScreendumpFormat fmt,
                      char *err, size_t errlen)
{
    if (!s->pixels || s->width <= 0 || s->height <= 0) {
        snprintf(err, errlen, "no picture: the display is off");
        return false;
    }
    size_t n = strlen(path) + 16;
    char *tmp = xmalloc(n);
    snprintf(tmp, n, "%s.tmp%d", path, (int)getpid());
    FILE *f = fopen(tmp, "wb");
    if (!f) {
        snprintf(err, errlen, "%s: %s", path, strerror(errno));
        free(tmp);
        return false;
    }
    bool ok;
    if (fmt == SCREENDUMP_PNG) {
        PngJob j = { s, f, xmalloc((size_t)s->width * 3 + 1) };
        ok = write_png(&j);
        free(j.row);
    } else {
        ok = write_ppm(s, f);
    }
    if (fclose(f) != 0)
        ok = false;
    if (ok && rename(tmp, path) < 0)
        ok = false;
    if (!ok) {
        snprintf(err, errlen, "%s: %s", path, errno ? strerror(errno) : "write failed");
        unlink(tmp);
    }
    free(tmp);
    return ok;
}
