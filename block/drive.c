/*
 * -drive and friends -> BlockBackend (see block/drive.h).
 */
#include "block/drive.h"

#include <stdio.h>

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

BlockBackend *drive_open(const DriveOpt *d, bool global_snapshot, char *err, size_t errlen)
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
    };
    char why[1024];
    BlockBackend *bb = blk_open(&o, why, sizeof why);
    if (!bb)
        snprintf(err, errlen, "%s: %s", opt, why);
    return bb;
}
