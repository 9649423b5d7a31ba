/*
 * Microsoft VHD, read-only ("vpc", QEMU's name): fixed and dynamic
 * images.  Layout in block/vpc.h; facts from Microsoft's "Virtual Hard
 * Disk Image Format Specification" (footer, dynamic disk header, block
 * allocation table, sector bitmaps), plus QEMU's rule for the disk size:
 * images made by Virtual PC ("vpc ") and older QEMU ("qemu") are as big
 * as their CHS geometry says unless that geometry is the largest there is
 * (65535/16/255); every other creator's by the footer's current size.
 *
 * Open checks the footer (cookie, checksum, version, disk type, size) and
 * for a dynamic image the dynamic header (cookie, checksum, version,
 * block size, table size and place) and every BAT entry (the block's
 * bitmap and data inside the file before the footer), so reads cannot
 * fail on a malformed image.  Reads of an allocated block take its data
 * as it is, without looking at the sector bitmap (QEMU does the same: a
 * dynamic image's unwritten sectors hold zeros).  Differencing images and
 * writable opens are refused, as for VMDK and VDI.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "block/vpc.h"
#include "core/util.h"

static uint32_t be32(const uint8_t *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static uint64_t be64(const uint8_t *p)
{
    return (uint64_t)be32(p) << 32 | be32(p + 4);
}

static int say(char *why, size_t wl, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static int say(char *why, size_t wl, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(why, wl, fmt, ap);
    va_end(ap);
    return -1;
}

int vpc_probe(const uint8_t *buf, size_t len)
{
    return len >= 8 && !memcmp(buf, "conectix", 8) ? 100 : 0;
}

/* One's complement of the byte sum, the checksum field counted as zero. */
static uint32_t checksum(const uint8_t *p, size_t len, size_t field)
{
    uint32_t sum = 0;
    for (size_t i = 0; i < len; i++)
        if (i < field || i >= field + 4)
            sum += p[i];
    return ~sum;
}

static uint64_t footer_size(const uint8_t *f)
{
    uint64_t chs = (uint64_t)(f[56] << 8 | f[57]) * f[58] * f[59] * 512;
    bool chs_creator = !memcmp(f + 28, "vpc ", 4) || !memcmp(f + 28, "qemu", 4);
    bool chs_max = f[56] == 0xff && f[57] == 0xff && f[58] == 16 && f[59] == 255;
    return chs_creator && !chs_max ? chs : be64(f + 48);
}

static int footer_check(Vpc *v, const uint8_t *f, char *why, size_t wl)
{
    if (memcmp(f, "conectix", 8))
        return say(why, wl, "not a VHD image (no \"conectix\" footer at the start or the end)");
    if (checksum(f, VPC_FOOTER, 64) != be32(f + 64))
        return say(why, wl, "footer checksum is 0x%08x, the footer sums to 0x%08x", be32(f + 64),
                   checksum(f, VPC_FOOTER, 64));
    if (be32(f + 12) >> 16 != 1)
        return say(why, wl, "VHD format version 0x%08x is not supported", be32(f + 12));
    v->type = be32(f + 60);
    if (v->type == VPC_TYPE_DIFF)
        return say(why, wl, "differencing VHD images (with a parent) are not supported");
    if (v->type != VPC_TYPE_FIXED && v->type != VPC_TYPE_DYNAMIC)
        return say(why, wl, "VHD disk type %u is unknown", v->type);
    v->size = footer_size(f);
    if (v->size == 0 || v->size > VPC_MAX_SIZE || (v->size & 511))
        return say(why, wl, "disk size of %" PRIu64 " bytes is out of range or not whole sectors",
                   v->size);
    if (v->type == VPC_TYPE_FIXED && v->size > v->file->file_size - VPC_FOOTER)
        return say(why, wl, "fixed image of %" PRIu64 " bytes in a file of %" PRIu64,
                   v->size, v->file->file_size);
    v->dyn_offset = be64(f + 16);
    return 0;
}

static int dynamic_open(Vpc *v, char *why, size_t wl)
{
    uint64_t end = v->file->file_size - VPC_FOOTER;   /* blocks lie before the footer */
    uint8_t h[VPC_DYN_HEADER];
    if (v->dyn_offset < VPC_FOOTER || v->dyn_offset > end || VPC_DYN_HEADER > end - v->dyn_offset)
        return say(why, wl, "dynamic header offset %" PRIu64 " lies outside the file",
                   v->dyn_offset);
    if (bfile_pread(v->file, v->dyn_offset, h, sizeof h) < 0)
        return say(why, wl, "cannot read the dynamic header");
    if (memcmp(h, "cxsparse", 8))
        return say(why, wl, "no dynamic header (\"cxsparse\") at offset %" PRIu64, v->dyn_offset);
    if (checksum(h, sizeof h, 36) != be32(h + 36))
        return say(why, wl, "dynamic header checksum is wrong");
    if (be32(h + 24) >> 16 != 1)
        return say(why, wl, "dynamic header version 0x%08x is not supported", be32(h + 24));
    v->bat_offset = be64(h + 16);
    uint32_t max_entries = be32(h + 28);
    v->block_size = be32(h + 32);
    if (v->block_size < 512 || (v->block_size & (v->block_size - 1)) ||
        v->block_size > VPC_MAX_BLOCK)
        return say(why, wl, "block size %u is not a power of two from 512 to %u", v->block_size,
                   VPC_MAX_BLOCK);
    uint64_t need = (v->size + v->block_size - 1) / v->block_size;
    if (need * 4 > VPC_MAX_BAT)
        return say(why, wl, "a table of %" PRIu64 " entries is too big", need);
    if (max_entries < need)
        return say(why, wl, "%u table entries are too few for %" PRIu64 " blocks", max_entries, need);
    if (v->bat_offset > end || (uint64_t)max_entries * 4 > end - v->bat_offset)
        return say(why, wl, "block allocation table (%u entries at %" PRIu64 ") lies past the "
                   "end of the file", max_entries, v->bat_offset);
    v->entries = (uint32_t)need;
    v->bitmap_bytes = (v->block_size / 512 / 8 + 511) & ~511u;
    v->bat = xmalloc((size_t)v->entries * 4);
    if (bfile_pread(v->file, v->bat_offset, v->bat, (size_t)v->entries * 4) < 0)
        return say(why, wl, "cannot read the block allocation table");
    for (uint32_t b = 0; b < v->entries; b++) {
        uint32_t e = be32((const uint8_t *)&v->bat[b]);
        v->bat[b] = e;
        if (e == VPC_BAT_FREE)
            continue;
        uint64_t used = MIN((uint64_t)v->block_size, v->size - (uint64_t)b * v->block_size);
        uint64_t at = (uint64_t)e * 512;
        if (at > end || v->bitmap_bytes + used > end - at)
            return say(why, wl, "block %u (sector %u) lies past the end of the file", b, e);
    }
    return 0;
}

void vpc_close(Vpc *v)
{
    if (!v)
        return;
    free(v->bat);
    free(v);
}

Vpc *vpc_open(BlockFile *file, char *err, size_t errlen)
{
    Vpc *v = xcalloc(1, sizeof(*v));
    v->file = file;
    v->filename = file->filename;
    char why[512];
    uint8_t f[VPC_FOOTER];
    int r;
    if (file->writable)
        r = say(why, sizeof why, "vpc images are read-only in vx86: use -snapshot, readonly=on, "
                "or a qcow2 overlay (qemu-img create -f qcow2 -b IMAGE -F vpc overlay.qcow2)");
    else if (file->file_size < VPC_FOOTER)
        r = say(why, sizeof why, "file is too short for a VHD footer");
    else if (bfile_pread(file, 0, f, 8) < 0)
        r = say(why, sizeof why, "cannot read the first sector");
    else if (bfile_pread(file, memcmp(f, "conectix", 8) ? file->file_size - VPC_FOOTER : 0,
                         f, sizeof f) < 0)   /* a dynamic image's copy, else the end */
        r = say(why, sizeof why, "cannot read the footer");
    else
        r = footer_check(v, f, why, sizeof why);
    if (r == 0 && v->type == VPC_TYPE_DYNAMIC)
        r = dynamic_open(v, why, sizeof why);
    if (r < 0) {
        snprintf(err, errlen, "%s: %s", file->filename, why);
        vpc_close(v);
        return NULL;
    }
    return v;
}

int vpc_pread(Vpc *v, uint64_t offset, void *buf, size_t len)
{
    uint8_t *p = buf;
    if (offset > v->size || len > v->size - offset)
        return -EIO;
    if (v->type == VPC_TYPE_FIXED)
        return bfile_pread(v->file, offset, buf, len);
    while (len) {
        uint64_t b = offset / v->block_size, in = offset % v->block_size;
        size_t n = (size_t)MIN((uint64_t)len, v->block_size - in);
        uint32_t e = v->bat[b];
        if (e == VPC_BAT_FREE) {
            memset(p, 0, n);
        } else {
            /* one block at a time: the next block's sector bitmap lies
             * between this block's data and its own */
            int r = bfile_pread(v->file, (uint64_t)e * 512 + v->bitmap_bytes + in, p, n);
            if (r < 0)
                return r;
        }
        offset += n;
        p += n;
        len -= n;
    }
    return 0;
}

typedef struct Span { uint64_t start, end, block; } Span;

static int span_cmp(const void *a, const void *b)
{
    const Span *x = a, *y = b;
    return x->start < y->start ? -1 : x->start > y->start;
}

uint64_t vpc_check(Vpc *v, FILE *out)
{
    if (v->type != VPC_TYPE_DYNAMIC)
        return 0;
    const uint64_t META = UINT64_MAX;
    Span *s = xmalloc(((size_t)v->entries + 3) * sizeof(*s));
    size_t n = 0;
    s[n++] = (Span){ 0, VPC_FOOTER, META };
    s[n++] = (Span){ v->dyn_offset, v->dyn_offset + VPC_DYN_HEADER, META };
    s[n++] = (Span){ v->bat_offset, v->bat_offset + (uint64_t)v->entries * 4, META };
    for (uint32_t b = 0; b < v->entries; b++)
        if (v->bat[b] != VPC_BAT_FREE)
            s[n++] = (Span){ (uint64_t)v->bat[b] * 512,
                             (uint64_t)v->bat[b] * 512 + v->bitmap_bytes + v->block_size, b };
    qsort(s, n, sizeof(*s), span_cmp);
    uint64_t errs = 0;
    size_t far = 0;
    for (size_t i = 1; i < n; i++) {
        if (s[far].end > s[i].start && (s[i].block != META || s[far].block != META)) {
            uint64_t a = s[i].block != META ? s[i].block : s[far].block;
            fprintf(out, "ERROR %s: block %" PRIu64 " at byte %" PRIu64 " overlaps %s\n",
                    v->filename, a, s[i].block != META ? s[i].start : s[far].start,
                    s[far].block == META || s[i].block == META ? "the image's metadata"
                                                                : "another block");
            errs++;
        }
        if (s[i].end > s[far].end)
            far = i;
    }
    free(s);
    return errs;
}

static void *drv_open(BlockFile *file, uint64_t *size, char *err, size_t errlen)
{
    Vpc *v = vpc_open(file, err, errlen);
    if (v)
        *size = v->size;
    return v;
}

static void drv_close(void *state)
{
    vpc_close(state);
}

static int drv_pread(void *state, uint64_t offset, void *buf, size_t len)
{
    return vpc_pread(state, offset, buf, len);
}

static int drv_pwrite(void *state, uint64_t offset, const void *buf, size_t len)
{
    return -EROFS;                    /* never opened writable */
}

static int drv_flush(void *state)
{
    return 0;
}

const BlockDriver blk_driver_vpc = {
    .name = "vpc",
    .probe = vpc_probe,
    .open = drv_open,
    .close = drv_close,
    .pread = drv_pread,
    .pwrite = drv_pwrite,
    .flush = drv_flush,
};
