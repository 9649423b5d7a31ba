/*
 * The -snapshot overlay: writes go to a temporary file, never to the
 * image, and are lost when the backend closes.
 *
 * The temporary file is created in $TMPDIR (else /var/tmp, else /tmp),
 * unlinked at once (nothing is left behind, even after a crash) and sized
 * like the disk, so it stays sparse: only clusters the guest wrote take
 * space.  One bit per 64 KiB cluster says whether the cluster lives in the
 * overlay; a read takes each run of clusters from the overlay or from the
 * image below.  The first write into a cluster copies the rest of the
 * cluster up from the image (unless the write covers it whole), writes it
 * to the overlay and only then sets the bit.
 *
 * Threads: allocating writes hold the overlay's mutex, so two first
 * writes into one cluster never copy up over each other; a write into an
 * allocated cluster and every read run without it (the bit is read with
 * acquire and set with release ordering after the data is in the file).
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "block/block-int.h"
#include "core/util.h"

struct BlockOverlay {
    int fd;
    uint64_t size;
    uint64_t nclusters;
    uint64_t *bits;
    pthread_mutex_t alloc_lock;
    BlockReadFunc base_read;
    void *base_opaque;
};

static bool cluster_allocated(BlockOverlay *ov, uint64_t c)
{
    return __atomic_load_n(&ov->bits[c / 64], __ATOMIC_ACQUIRE) & (1ULL << (c % 64));
}

static int open_temp(const char *dir, char *path, size_t len)
{
    snprintf(path, len, "%s/vx86-snapshot.XXXXXX", dir);
    return mkostemp(path, O_CLOEXEC);
}

BlockOverlay *overlay_new(uint64_t size, BlockReadFunc base_read, void *base_opaque,
                          char *err, size_t errlen)
{
    const char *env = getenv("TMPDIR");
    const char *dirs[] = { env && *env ? env : "/var/tmp", "/tmp" };
    char path[4096];
    int fd = -1, e = 0;
    for (size_t i = 0; i < ARRAY_SIZE(dirs) && fd < 0; i++) {
        fd = open_temp(dirs[i], path, sizeof path);
        if (fd < 0 && !e)
            e = errno;
    }
    if (fd < 0) {
        snprintf(err, errlen, "cannot create the -snapshot file in %s: %s", dirs[0], strerror(e));
        return NULL;
    }
    unlink(path);
    if (ftruncate(fd, (off_t)size) < 0) {
        /* Only sparseness is lost; writes still extend the file. */
    }
    BlockOverlay *ov = xcalloc(1, sizeof(*ov));
    ov->fd = fd;
    ov->size = size;
    ov->nclusters = (size + OVERLAY_CLUSTER_SIZE - 1) / OVERLAY_CLUSTER_SIZE;
    ov->bits = xcalloc((size_t)((ov->nclusters + 63) / 64), sizeof(uint64_t));
    pthread_mutex_init(&ov->alloc_lock, NULL);
    ov->base_read = base_read;
    ov->base_opaque = base_opaque;
    return ov;
}

void overlay_free(BlockOverlay *ov)
{
    if (!ov)
        return;
    close(ov->fd);
    pthread_mutex_destroy(&ov->alloc_lock);
    free(ov->bits);
    free(ov);
}

uint64_t overlay_allocated_clusters(BlockOverlay *ov)
{
    uint64_t n = 0;
    for (uint64_t c = 0; c < ov->nclusters; c++)
        n += cluster_allocated(ov, c);
    return n;
}

static int ov_read(BlockOverlay *ov, uint64_t offset, uint8_t *buf, size_t len)
{
    while (len) {
        ssize_t n = pread(ov->fd, buf, len, (off_t)offset);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            return -errno;
        if (n == 0) {
            memset(buf, 0, len);
            return 0;
        }
        buf += n;
        offset += (uint64_t)n;
        len -= (size_t)n;
    }
    return 0;
}

static int ov_write(BlockOverlay *ov, uint64_t offset, const uint8_t *buf, size_t len)
{
    while (len) {
        ssize_t n = pwrite(ov->fd, buf, len, (off_t)offset);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            return n < 0 ? -errno : -EIO;
        buf += n;
        offset += (uint64_t)n;
        len -= (size_t)n;
    }
    return 0;
}

int overlay_pread(BlockOverlay *ov, uint64_t offset, void *buf, size_t len)
{
    uint8_t *p = buf;
    while (len) {
        bool alloc = cluster_allocated(ov, offset / OVERLAY_CLUSTER_SIZE);
        /* The run of clusters in the same place. */
        size_t n = 0;
        while (n < len) {
            uint64_t pos = offset + n;
            if (n && cluster_allocated(ov, pos / OVERLAY_CLUSTER_SIZE) != alloc)
                break;
            uint64_t room = OVERLAY_CLUSTER_SIZE - pos % OVERLAY_CLUSTER_SIZE;
            n += (size_t)MIN((uint64_t)(len - n), room);
        }
        int r = alloc ? ov_read(ov, offset, p, n) : ov->base_read(ov->base_opaque, offset, p, n);
        if (r < 0)
            return r;
        p += n;
        offset += n;
        len -= n;
    }
    return 0;
}

/* First write into cluster c: copy up what the write leaves out, then
 * mark it.  Called with alloc_lock held. */
static int cluster_allocate(BlockOverlay *ov, uint64_t c, uint64_t offset, const uint8_t *buf,
                            size_t n)
{
    uint64_t cstart = c * OVERLAY_CLUSTER_SIZE;
    uint64_t clen = MIN((uint64_t)OVERLAY_CLUSTER_SIZE, ov->size - cstart);
    int r;
    if (offset == cstart && n == clen) {
        r = ov_write(ov, offset, buf, n);
    } else {
        uint8_t *tmp = xmalloc(clen);
        r = ov->base_read(ov->base_opaque, cstart, tmp, clen);
        if (r == 0) {
            memcpy(tmp + (offset - cstart), buf, n);
            r = ov_write(ov, cstart, tmp, clen);
        }
        free(tmp);
    }
    if (r == 0)
        __atomic_fetch_or(&ov->bits[c / 64], 1ULL << (c % 64), __ATOMIC_RELEASE);
    return r;
}

int overlay_pwrite(BlockOverlay *ov, uint64_t offset, const void *buf, size_t len)
{
    const uint8_t *p = buf;
    while (len) {
        uint64_t c = offset / OVERLAY_CLUSTER_SIZE;
        size_t n = (size_t)MIN((uint64_t)len, OVERLAY_CLUSTER_SIZE - offset % OVERLAY_CLUSTER_SIZE);
        int r = 1;
        if (!cluster_allocated(ov, c)) {
            pthread_mutex_lock(&ov->alloc_lock);
            if (!cluster_allocated(ov, c))
                r = cluster_allocate(ov, c, offset, p, n);
            pthread_mutex_unlock(&ov->alloc_lock);
        }
        if (r > 0)
            r = ov_write(ov, offset, p, n);
        if (r < 0)
            return r;
        p += n;
        offset += n;
        len -= n;
    }
    return 0;
}
