/*
 * The raw format: the guest's bytes are the file's bytes.  The size the
 * guest sees is the file size rounded up to whole 512-byte sectors (as
 * QEMU does): the missing tail of the last sector reads as zeros, and a
 * write there extends the file.
 *
 * Also the driver table: a new format adds its BlockDriver to blk_drivers.
 */
#include <stdio.h>
#include <string.h>

#include "block/block-int.h"

static int raw_probe(const uint8_t *buf, size_t len)
{
    return 1;                 /* anything is a raw image, the least sure guess */
}

static void *raw_open(BlockFile *file, uint64_t *size, char *err, size_t errlen)
{
    *size = (file->file_size + 511) & ~511ULL;
    return file;
}

static void raw_close(void *state)
{
}

static int raw_pread(void *state, uint64_t offset, void *buf, size_t len)
{
    return bfile_pread(state, offset, buf, len);
}

static int raw_pwrite(void *state, uint64_t offset, const void *buf, size_t len)
{
    return bfile_pwrite(state, offset, buf, len);
}

static int raw_flush(void *state)
{
    return bfile_flush(state);
}

/* Guest TRIM/UNMAP: a hole in the file (the image's allocated size
 * shrinks, the range reads back as zeros). */
static int raw_discard(void *state, uint64_t offset, uint64_t len)
{
    return bfile_discard(state, offset, len);
}

const BlockDriver blk_driver_raw = {
    .name = "raw",
    .probe = raw_probe,
    .open = raw_open,
    .close = raw_close,
    .pread = raw_pread,
    .pwrite = raw_pwrite,
    .flush = raw_flush,
    .discard = raw_discard,
};

const BlockDriver *const blk_drivers[] = {
    &blk_driver_raw,
    &blk_driver_qcow2,
    &blk_driver_vmdk,
    &blk_driver_vdi,
    &blk_driver_vpc,
    NULL,
};

const BlockDriver *blk_driver_find(const char *name)
{
    for (int i = 0; blk_drivers[i]; i++)
        if (!strcmp(blk_drivers[i]->name, name))
            return blk_drivers[i];
    return NULL;
}

bool blk_format_known(const char *name)
{
    return blk_driver_find(name) != NULL;
}

void blk_format_list(char *buf, size_t len)
{
    size_t n = 0;
    buf[0] = 0;
    for (int i = 0; blk_drivers[i] && n < len; i++)
        n += (size_t)snprintf(buf + n, len - n, "%s%s", i ? ", " : "", blk_drivers[i]->name);
}
