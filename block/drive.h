/*
 * From the command line's drive description (core/options.h DriveOpt, the
 * result of -drive / -hda..-hdd / -cdrom / -fda / -fdb / a bare image) to
 * an open BlockBackend.  The board calls it for each drive and hands the
 * backend to the device model that -drive's if= and index= name.
 */
#ifndef VX86_BLOCK_DRIVE_H
#define VX86_BLOCK_DRIVE_H

#include <stdbool.h>
#include <stddef.h>

#include "block/block.h"
#include "core/options.h"

/* Opens d's image: read-only for readonly=on and CD-ROMs, writes into a
 * temporary overlay for snapshot=on or global_snapshot (-snapshot), cache=
 * as given.  NULL with one line in err, "OPTION: FILE: reason" (e.g.
 * "-hda: disk.img: failed to get "write" lock (is another process using
 * the image?)").  A drive without a file (an empty CD-ROM) has no backend:
 * NULL with err "OPTION: no medium".  inactive (-incoming): opened read-only
 * and unlocked until blk_set_active (the migration source still owns it). */
BlockBackend *drive_open(const DriveOpt *d, bool global_snapshot, bool inactive, char *err,
                         size_t errlen);

/* The light check drive_open does on CD media (media=cdrom): when the
 * image has an ISO 9660 primary volume descriptor at sector 16, the volume
 * must fit in the file; when it has an El Torito boot record, the boot
 * catalogue's validation entry must be sound.  Anything else (no ISO 9660
 * at all) passes.  false with "FILE: reason" in err. */
bool drive_check_cd_image(BlockBackend *bb, char *err, size_t errlen);

/* DriveOpt's cache= as the block layer's mode. */
BlockCacheMode drive_cache_mode(DriveCache c);

#endif
