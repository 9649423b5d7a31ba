/*
 * VirtualBox VDI, read-only: dynamic ("normal") and fixed images of
 * version 1.1.  Layout in block/vdi.h; facts from VirtualBox's VDI header
 * definition (VDIHEADER1: header size, image type, flags, description,
 * block map and data offsets, legacy geometry, disk size, block size,
 * extra block bytes, blocks, allocated blocks, four UUIDs).
 *
 * Open checks every field a read relies on and every block map entry
 * (its data block, as far as the disk reaches, inside the file), so reads
 * never fail for a malformed image; a refusal is one line, "FILE:
 * problem".  Differencing and undo images (they need a parent) and images
 * with extra bytes per block are refused.  Writes are refused at open, as
 * for VMDK: -snapshot and qcow2 overlays open the image read-only.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "block/vdi.h"
#include "core/util.h"

#define HDR_BYTES 512

static uint32_t le32(const uint8_t *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static uint64_t le64(const uint8_t *p)
{
    return (uint64_t)le32(p) | (uint64_t)le32(p + 4) << 32;
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

int vdi_probe(const uint8_t *buf, size_t len)
{
    return len >= 72 && le32(buf + 64) == VDI_SIGNATURE ? 100 : 0;
}

/* Bytes of guest block b that lie inside the disk. */
static uint64_t block_used_bytes(const Vdi *v, uint64_t b)
{
    uint64_t start = b * v->block_size;
    return start >= v->size ? 0 : MIN((uint64_t)v->block_size, v->size - start);
}

static int header_check(Vdi *v, const uint8_t *h, char *why, size_t wl)
{
    uint64_t fs = v->file->file_size;
    uint32_t version = le32(h + 68), hsize = le32(h + 72);
    v->type = le32(h + 76);
    v->offset_bmap = le32(h + 340);
    v->offset_data = le32(h + 344);
    uint32_t sector_size = le32(h + 360);
    v->disk_size = le64(h + 368);
    v->block_size = le32(h + 376);
    uint32_t extra = le32(h + 380);
    v->blocks = le32(h + 384);
    v->blocks_allocated = le32(h + 388);

    if (version != VDI_VERSION_1_1)
        return say(why, wl, "VDI version %u.%u is not supported (only 1.1)", version >> 16,
                   version & 0xffff);
    if (v->type == VDI_TYPE_DIFF || v->type == VDI_TYPE_UNDO)
        return say(why, wl, "VDI %s images (with a parent) are not supported",
                   v->type == VDI_TYPE_DIFF ? "differencing" : "undo");
    if (v->type != VDI_TYPE_DYNAMIC && v->type != VDI_TYPE_FIXED)
        return say(why, wl, "VDI image type %u is unknown", v->type);
    if (hsize < VDI_HEADER_MIN || 72 + (uint64_t)hsize > v->offset_bmap)
        return say(why, wl, "header size %u is out of range (%u up to the block map)", hsize,
                   VDI_HEADER_MIN);
    if (sector_size != 512)
        return say(why, wl, "sector size %u is not supported (only 512)", sector_size);
    if (v->block_size < 512 || (v->block_size & (v->block_size - 1)) ||
        v->block_size > VDI_MAX_BLOCK)
        return say(why, wl, "block size %u is not a power of two from 512 to %u", v->block_size,
                   VDI_MAX_BLOCK);
    if (extra)
        return say(why, wl, "%u extra bytes per block are not supported", extra);
    if (v->disk_size == 0 || v->disk_size > VDI_MAX_SIZE)
        return say(why, wl, "disk size of %" PRIu64 " bytes is out of range", v->disk_size);
    v->size = (v->disk_size + 511) & ~511ull;
    if ((uint64_t)v->blocks * v->block_size < v->size)
        return say(why, wl, "%u blocks of %u bytes are too few for %" PRIu64 " bytes",
                   v->blocks, v->block_size, v->disk_size);
    if ((uint64_t)v->blocks * 4 > VDI_MAX_BMAP)
        return say(why, wl, "block map of %u entries is too big", v->blocks);
    if (v->blocks_allocated > v->blocks)
        return say(why, wl, "%u blocks allocated out of %u", v->blocks_allocated, v->blocks);
    if ((v->offset_bmap | v->offset_data) & 511)
        return say(why, wl, "block map (%" PRIu64 ") or data (%" PRIu64 ") offset is not "
                   "sector-aligned", v->offset_bmap, v->offset_data);
    uint64_t bmap_end = v->offset_bmap + (uint64_t)v->blocks * 4;
    if (bmap_end > fs)
        return say(why, wl, "block map (%u entries at %" PRIu64 ") lies past the end of the file",
                   v->blocks, v->offset_bmap);
    if (v->offset_data < bmap_end)
        return say(why, wl, "data offset %" PRIu64 " lies inside the block map", v->offset_data);
    return 0;
}

static int load_bmap(Vdi *v, char *why, size_t wl)
{
    uint64_t fs = v->file->file_size;
    v->bmap = xmalloc((size_t)v->blocks * 4 + 4);
    if (bfile_pread(v->file, v->offset_bmap, v->bmap, (size_t)v->blocks * 4) < 0)
        return say(why, wl, "cannot read the block map");
    for (uint32_t b = 0; b < v->blocks; b++) {
        uint32_t e = le32((const uint8_t *)&v->bmap[b]);
        uint64_t used = block_used_bytes(v, b);
        if (!used)
            e = VDI_BLOCK_FREE;               /* past the disk: never read */
        v->bmap[b] = e;
        if (e == VDI_BLOCK_FREE || e == VDI_BLOCK_ZERO)
            continue;
        if (e >= v->blocks)
            return say(why, wl, "block map entry %u names data block %u of %u", b, e, v->blocks);
        if (v->offset_data + (uint64_t)e * v->block_size + used > fs)
            return say(why, wl, "block map entry %u (data block %u) points past the end of the "
                       "file", b, e);
    }
    return 0;
}

void vdi_close(Vdi *v)
{
    if (!v)
        return;
    free(v->bmap);
    free(v);
}

Vdi *vdi_open(BlockFile *file, char *err, size_t errlen)
{
    Vdi *v = xcalloc(1, sizeof(*v));
    v->file = file;
    v->filename = file->filename;
    char why[512];
    uint8_t h[HDR_BYTES];
    int r;
    if (file->writable)
        r = say(why, sizeof why, "vdi images are read-only in vx86: use -snapshot, readonly=on, "
                "or a qcow2 overlay (qemu-img create -f qcow2 -b IMAGE -F vdi overlay.qcow2)");
    else if (file->file_size < HDR_BYTES)
        r = say(why, sizeof why, "file is too short for a VDI header");
    else if (bfile_pread(file, 0, h, sizeof h) < 0)
        r = say(why, sizeof why, "cannot read the header");
    else if (le32(h + 64) != VDI_SIGNATURE)
        r = say(why, sizeof why, "not a VDI image (signature 0x%08x)", le32(h + 64));
    else
        r = header_check(v, h, why, sizeof why);
    if (r == 0)
        r = load_bmap(v, why, sizeof why);
    if (r < 0) {
        snprintf(err, errlen, "%s: %s", file->filename, why);
        vdi_close(v);
        return NULL;
    }
    return v;
}

int vdi_pread(Vdi *v, uint64_t offset, void *buf, size_t len)
{
    uint8_t *p = buf;
    if (offset > v->size || len > v->size - offset)
        return -EIO;
    while (len) {
        uint64_t b = offset / v->block_size, in = offset % v->block_size;
        size_t n = (size_t)MIN((uint64_t)len, v->block_size - in);
        uint32_t e = v->bmap[b];
        if (e == VDI_BLOCK_FREE || e == VDI_BLOCK_ZERO) {
            memset(p, 0, n);
        } else {
            uint64_t host = v->offset_data + (uint64_t)e * v->block_size + in;
            /* the following blocks too, while they follow in the file */
            while (n < len && b + 1 < v->blocks && v->bmap[b + 1] == e + 1 &&
                   e + 1 < VDI_BLOCK_ZERO) {
                b++;
                e++;
                n += (size_t)MIN((uint64_t)(len - n), v->block_size);
            }
            int r = bfile_pread(v->file, host, p, n);
            if (r < 0)
                return r;
        }
        offset += n;
        p += n;
        len -= n;
    }
    return 0;
}

uint64_t vdi_check(Vdi *v, FILE *out)
{
    uint64_t errs = 0, allocated = 0;
    uint32_t *owner = xmalloc((size_t)v->blocks * 4 + 4);
    memset(owner, 0xff, (size_t)v->blocks * 4 + 4);
    for (uint32_t b = 0; b < v->blocks; b++) {
        uint32_t e = v->bmap[b];
        if (e == VDI_BLOCK_FREE || e == VDI_BLOCK_ZERO)
            continue;
        allocated++;
        if (owner[e] != 0xffffffffu) {
            fprintf(out, "ERROR %s: data block %u holds guest blocks %u and %u\n", v->filename,
                    e, owner[e], b);
            errs++;
        } else {
            owner[e] = b;
        }
    }
    free(owner);
    if (allocated != v->blocks_allocated) {
        fprintf(out, "ERROR %s: the header says %u blocks are allocated, the block map has %"
                PRIu64 "\n", v->filename, v->blocks_allocated, allocated);
        errs++;
    }
    return errs;
}

static void *drv_open(BlockFile *file, uint64_t *size, char *err, size_t errlen)
{
    Vdi *v = vdi_open(file, err, errlen);
    if (v)
        *size = v->size;
    return v;
}

static void drv_close(void *state)
{
    vdi_close(state);
}

static int drv_pread(void *state, uint64_t offset, void *buf, size_t len)
{
    return vdi_pread(state, offset, buf, len);
}

static int drv_pwrite(void *state, uint64_t offset, const void *buf, size_t len)
{
    return -EROFS;                    /* never opened writable */
}

static int drv_flush(void *state)
{
    return 0;
}

const BlockDriver blk_driver_vdi = {
    .name = "vdi",
    .probe = vdi_probe,
    .open = drv_open,
    .close = drv_close,
    .pread = drv_pread,
    .pwrite = drv_pwrite,
    .flush = drv_flush,
};
