/*
 * -drive and friends -> BlockBackend (see block/drive.h).
 *
 * CD images get a light check at open (drive_check_cd_image): facts from
 * ECMA-119 (volume descriptors from 2 KiB sector 16: type byte, "CD001",
 * version; the primary one (type 1) has the volume space size as a
 * both-endian 32-bit field at byte 80 and the logical block size as a
 * both-endian 16-bit field at byte 128; type 255 ends the set) and the El
 * Torito specification (boot record: type 0, boot system identifier "EL
 * TORITO SPECIFICATION" at byte 7, boot catalogue sector as a little-endian
 * 32-bit value at byte 71; the catalogue's first 32-byte entry is the
 * validation entry: header id 1 at byte 0, key bytes 55h AAh at 30-31, and
 * its sixteen little-endian 16-bit words sum to zero).
 */
#include "block/drive.h"

#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#define ISO_SECTOR      2048
#define ISO_VD_FIRST    16
#define ISO_VD_MAX      64          /* descriptors looked at before giving up */

static uint32_t le32(const uint8_t *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

bool drive_check_cd_image(BlockBackend *bb, char *err, size_t errlen)
{
    const char *file = blk_filename(bb);
    uint64_t size = blk_size(bb);
    struct stat st;
    if (stat(file, &st) == 0 && S_ISREG(st.st_mode) && (uint64_t)st.st_size < size)
        size = (uint64_t)st.st_size;            /* the guest sees whole sectors */
    uint8_t vd[ISO_SECTOR];
    bool pvd_seen = false;
    for (uint32_t lba = ISO_VD_FIRST; lba < ISO_VD_FIRST + ISO_VD_MAX; lba++) {
        if ((uint64_t)(lba + 1) * ISO_SECTOR > size)
            break;
        if (blk_pread(bb, (uint64_t)lba * ISO_SECTOR, vd, sizeof vd) < 0) {
            snprintf(err, errlen, "%s: cannot read the volume descriptor at sector %u", file, lba);
            return false;
        }
        if (memcmp(vd + 1, "CD001", 5) || vd[0] == 255)
            break;
        if (lba == ISO_VD_FIRST && vd[0] == 1) {
            pvd_seen = true;
            uint64_t blocks = le32(vd + 80);
            uint64_t block_size = (uint64_t)vd[128] | (uint64_t)vd[129] << 8;
            uint64_t volume = blocks * block_size;
            if (volume > size) {
                snprintf(err, errlen, "%s: truncated ISO image (volume %llu bytes, file %llu bytes)",
                         file, (unsigned long long)volume, (unsigned long long)size);
                return false;
            }
        }
        if (vd[0] != 0 || memcmp(vd + 7, "EL TORITO SPECIFICATION", 23))
            continue;
        if (!pvd_seen)
            continue;
        uint32_t cat = le32(vd + 71);
        uint8_t e[32];
        if ((uint64_t)cat * ISO_SECTOR + sizeof e > size) {
            snprintf(err, errlen, "%s: El Torito boot catalogue at sector %u is past the end "
                     "of the image", file, cat);
            return false;
        }
        if (blk_pread(bb, (uint64_t)cat * ISO_SECTOR, e, sizeof e) < 0) {
            snprintf(err, errlen, "%s: cannot read the El Torito boot catalogue", file);
            return false;
        }
        uint16_t sum = 0;
        for (int i = 0; i < 32; i += 2)
            sum = (uint16_t)(sum + (e[i] | e[i + 1] << 8));
        if (e[0] != 1) {
            snprintf(err, errlen, "%s: broken El Torito boot catalogue (validation entry "
                     "header id 0x%02x, not 0x01)", file, e[0]);
            return false;
        }
        if (e[30] != 0x55 || e[31] != 0xaa) {
            snprintf(err, errlen, "%s: broken El Torito boot catalogue (key bytes 0x%02x 0x%02x, "
                     "not 0x55 0xAA)", file, e[30], e[31]);
            return false;
        }
        if (sum) {
            snprintf(err, errlen, "%s: broken El Torito boot catalogue (validation entry "
                     "checksum off by 0x%04x)", file, sum);
            return false;
        }
    }
    return true;
}

BlockCacheMode drive_cache_mode(DriveCache c)
{
    switch (c) {
    case DRIVE_CACHE_NONE: return BLK_CACHE_NONE;
    case DRIVE_CACHE_UNSAFE: return BLK_CACHE_UNSAFE;
    case DRIVE_CACHE_DIRECTSYNC: return BLK_CACHE_DIRECTSYNC;
    case DRIVE_CACHE_WRITETHROUGH: return BLK_CACHE_WRITETHROUGH;
    default: return BLK_CACHE_WRITEBACK;
    }
}

BlockBackend *drive_open(const DriveOpt *d, bool global_snapshot, bool inactive, char *err,
                         size_t errlen)
{
    const char *opt = d->opt ? d->opt : "-drive";
    if (!d->file) {
        snprintf(err, errlen, "%s: no medium", opt);
        return NULL;
    }
    bool read_only = d->readonly || d->media == DRIVE_MEDIA_CDROM;
    BlockOpenOptions o = {
        .filename = d->file,
        .format = d->format,
        .read_only = read_only,
        /* A read-only drive is never written: no overlay needed. */
        .snapshot = !read_only && (d->snapshot || global_snapshot),
        .cache = drive_cache_mode(d->cache),
        .inactive = inactive,
    };
    char why[1024];
    BlockBackend *bb = blk_open(&o, why, sizeof why);
    if (bb && d->media == DRIVE_MEDIA_CDROM && !drive_check_cd_image(bb, why, sizeof why)) {
        blk_close(bb);
        bb = NULL;
    }
    if (!bb)
        snprintf(err, errlen, "%s: %s", opt, why);
    return bb;
}
