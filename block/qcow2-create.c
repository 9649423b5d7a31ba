/*
 * New qcow2 images, laid out as qemu-img lays them out: the header
 * cluster (header, extensions, backing file name), the refcount table,
 * the refcount blocks covering all of this, then the L1 table.  Every
 * metadata cluster is written whole, so each table lies inside the file.
 * Metadata preallocation then goes through the driver.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "block/qcow2.h"
#include "core/util.h"

static void rc_put(uint8_t *b, unsigned bits, uint64_t i, uint64_t v)
{
    if (bits >= 8) {
        for (unsigned k = 0; k < bits / 8; k++)
            b[i * (bits / 8) + k] = (uint8_t)(v >> (bits - 8 - 8 * k));
    } else {
        uint64_t bit = i * bits;
        b[bit / 8] |= (uint8_t)(v << (bit % 8));
    }
}

int qcow2_create(const char *filename, const Qcow2CreateOptions *o, char *err, size_t errlen)
{
    uint64_t cs = o->cluster_size ? o->cluster_size : 65536;
    int version = o->version ? o->version : 3;
    unsigned bits = o->refcount_bits ? o->refcount_bits : 16;
    unsigned cb = 0;
    while ((1ull << cb) < cs)
        cb++;
    if ((1ull << cb) != cs || cb < QCOW2_MIN_CLUSTER_BITS || cb > QCOW2_MAX_CLUSTER_BITS) {
        snprintf(err, errlen, "Cluster size must be a power of two between 512 and 2048k");
        return -EINVAL;
    }
    unsigned order = 0;
    while ((1u << order) < bits)
        order++;
    if ((1u << order) != bits || order > 6) {
        snprintf(err, errlen, "Refcount width must be a power of two and may not exceed 64 bits");
        return -EINVAL;
    }
    if (version == 2 && bits != 16) {
        snprintf(err, errlen, "Different refcount widths than 16 bits require compatibility "
                 "level 1.1 or above (use compat=1.1 or greater)");
        return -EINVAL;
    }
    if (version == 2 && o->lazy_refcounts) {
        snprintf(err, errlen, "Lazy refcounts only supported with compatibility level 1.1 and "
                 "above (use compat=1.1 or greater)");
        return -EINVAL;
    }
    if (version == 2 && o->extended_l2) {
        snprintf(err, errlen, "Extended L2 entries are only supported with compatibility "
                 "level 1.1 and above (use compat=1.1 or greater)");
        return -EINVAL;
    }
    if (version == 2 && o->compression_type != QCOW2_COMPRESSION_ZLIB) {
        snprintf(err, errlen, "Non-zlib compression type is only supported with compatibility "
                 "level 1.1 and above (use compat=1.1 or greater)");
        return -EINVAL;
    }
    if (o->extended_l2 && cs < 16384) {
        snprintf(err, errlen, "Extended L2 entries are only supported with cluster sizes of "
                 "at least 16384 bytes");
        return -EINVAL;
    }
    if (o->backing && strlen(o->backing) > QCOW2_MAX_BACKING_NAME) {
        snprintf(err, errlen, "Backing file name too long");
        return -EINVAL;
    }
    uint64_t l2_entries = cs / (o->extended_l2 ? 16 : 8);
    uint64_t l1 = (o->size + cs * l2_entries - 1) / (cs * l2_entries);
    if (l1 * 8 > QCOW2_MAX_L1_BYTES || o->size >> 56) {
        snprintf(err, errlen, "Image size too large for this cluster size");
        return -EFBIG;
    }
    uint64_t l1c = (l1 * 8 + cs - 1) / cs;
    uint64_t E = cs * 8 / bits, rtc = 1, rbc = 1;
    for (;;) {
        uint64_t total = 1 + rtc + rbc + l1c;
        uint64_t nrb = (total + E - 1) / E, nrt = (nrb * 8 + cs - 1) / cs;
        if (nrb == rbc && nrt == rtc)
            break;
        rbc = nrb;
        rtc = nrt;
    }
    uint64_t total = 1 + rtc + rbc + l1c;
    uint8_t *img = xcalloc(total, cs);

    /* header */
    uint8_t *h = img;
    uint32_t hlen = version == 3 ? 112 : 72;
    qcow2_put_be32(h, QCOW2_MAGIC);
    qcow2_put_be32(h + 4, (uint32_t)version);
    qcow2_put_be32(h + 20, cb);
    qcow2_put_be64(h + 24, o->size);
    qcow2_put_be32(h + 36, (uint32_t)l1);
    qcow2_put_be64(h + 40, (1 + rtc + rbc) * cs);
    qcow2_put_be64(h + 48, cs);
    qcow2_put_be32(h + 56, (uint32_t)rtc);
    if (version == 3) {
        uint64_t incompat = (o->extended_l2 ? QCOW2_INCOMPAT_EXTL2 : 0) |
                            (o->compression_type ? QCOW2_INCOMPAT_COMPRESSION : 0);
        qcow2_put_be64(h + 72, incompat);
        qcow2_put_be64(h + 80, o->lazy_refcounts ? QCOW2_COMPAT_LAZY_REFCOUNTS : 0);
        qcow2_put_be32(h + 96, order);
        qcow2_put_be32(h + 100, hlen);
        h[104] = (uint8_t)o->compression_type;
    }
    size_t p = hlen;
    if (o->backing && o->backing_fmt) {
        size_t fl = strlen(o->backing_fmt);
        qcow2_put_be32(h + p, QCOW2_EXT_BACKING_FMT);
        qcow2_put_be32(h + p + 4, (uint32_t)fl);
        memcpy(h + p + 8, o->backing_fmt, fl);
        p += 8 + ((fl + 7) & ~(size_t)7);
    }
    p += 8;                       /* end of extensions */
    if (o->backing) {
        size_t bl = strlen(o->backing);
        if (p + bl > cs) {
            free(img);
            snprintf(err, errlen, "Backing file name too long for the header cluster");
            return -EINVAL;
        }
        qcow2_put_be64(h + 8, p);
        qcow2_put_be32(h + 16, (uint32_t)bl);
        memcpy(h + p, o->backing, bl);
    }
    /* refcount table and blocks */
    for (uint64_t i = 0; i < rbc; i++)
        qcow2_put_be64(img + cs + 8 * i, (1 + rtc + i) * cs);
    for (uint64_t c = 0; c < total; c++)
        rc_put(img + (1 + rtc + c / E) * cs, bits, c % E, 1);

    int fd = open(filename, O_CREAT | O_TRUNC | O_WRONLY | O_CLOEXEC, 0644);
    if (fd < 0) {
        free(img);
        snprintf(err, errlen, "Could not create '%s': %s", filename, strerror(errno));
        return -errno;
    }
    size_t len = total * cs, done = 0;
    while (done < len) {
        ssize_t n = pwrite(fd, img + done, len - done, (off_t)done);
        if (n <= 0) {
            int e = n < 0 ? errno : EIO;
            close(fd);
            free(img);
            snprintf(err, errlen, "Could not write '%s': %s", filename, strerror(e));
            return -e;
        }
        done += (size_t)n;
    }
    free(img);
    if (fdatasync(fd) < 0 || close(fd) < 0) {
        snprintf(err, errlen, "Could not write '%s': %s", filename, strerror(errno));
        return -errno;
    }
    if (!o->prealloc_metadata)
        return 0;

    BlockFile f;
    if (bfile_open(&f, filename, true, BLK_CACHE_WRITEBACK, err, errlen) < 0)
        return -EIO;
    Qcow2 *q = qcow2_open(&f, QCOW2_OPEN_NO_BACKING, err, errlen);
    int r = q ? qcow2_preallocate_metadata(q) : -EIO;
    if (q && r < 0)
        snprintf(err, errlen, "Could not preallocate metadata: %s", strerror(-r));
    qcow2_close(q);
    bfile_close(&f);
    return r;
}
