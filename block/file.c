/*
 * The host file under every image format: opening with the cache mode's
 * flags, whole-request pread/pwrite loops, and O_DIRECT made invisible to
 * the formats above.
 *
 * cache=none and directsync open with O_DIRECT.  The kernel then wants the
 * offset, the length and the buffer aligned (the alignments are probed at
 * open: the smallest read size the file accepts, 512..4096).  A request
 * that is not aligned goes through an aligned bounce buffer; a write that
 * covers part of an aligned block becomes read-modify-write of the blocks
 * at its ends, exclusive with every other write of the file (rmw_lock), so
 * two writes to neighbouring sectors of one 4 KiB block never lose each
 * other's data.  When the file system refuses O_DIRECT, at open (EINVAL)
 * or at the first request, the file quietly continues through the page
 * cache: cache=none is a performance hint, not a promise the guest sees.
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/falloc.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "block/block-int.h"
#include "core/util.h"

bool bfile_refuse_direct_for_tests;

#define BOUNCE_ALIGN 4096

static bool wants_direct(BlockCacheMode c)
{
    return c == BLK_CACHE_NONE || c == BLK_CACHE_DIRECTSYNC;
}

static bool wants_dsync(BlockCacheMode c)
{
    return c == BLK_CACHE_DIRECTSYNC || c == BLK_CACHE_WRITETHROUGH;
}

/* Switches the open file description to buffered I/O. */
static void drop_direct(BlockFile *f)
{
    int fl = fcntl(f->fd, F_GETFL);
    if (fl >= 0)
        fcntl(f->fd, F_SETFL, fl & ~O_DIRECT);
    __atomic_store_n(&f->direct, false, __ATOMIC_RELAXED);
    f->req_align = f->mem_align = 1;
}

/* Finds the alignments O_DIRECT needs: the smallest power-of-two read the
 * file accepts at offset 0 from an aligned buffer, then whether a buffer
 * aligned to only 512 bytes works. */
static void probe_alignment(BlockFile *f)
{
    uint8_t *buf;
    if (posix_memalign((void **)&buf, BOUNCE_ALIGN, 2 * BOUNCE_ALIGN))
        return drop_direct(f);
    f->req_align = 0;
    for (uint32_t a = 512; a <= BOUNCE_ALIGN && !f->req_align; a *= 2)
        if (pread(f->fd, buf, a, 0) >= 0 || errno != EINVAL)
            f->req_align = a;
    if (!f->req_align) {
        free(buf);
        return drop_direct(f);      /* nothing works: not really O_DIRECT capable */
    }
    f->mem_align = BOUNCE_ALIGN;
    if (pread(f->fd, buf + 512, f->req_align, 0) >= 0 || errno != EINVAL)
        f->mem_align = 512;
    free(buf);
}

int bfile_open(BlockFile *f, const char *filename, bool writable, BlockCacheMode cache,
               char *err, size_t errlen)
{
    memset(f, 0, sizeof(*f));
    f->fd = -1;
    struct stat st;
    if (!filename || !*filename) {
        snprintf(err, errlen, "no image file name given");
        return -EINVAL;
    }
    if (stat(filename, &st) < 0) {
        int e = errno;
        snprintf(err, errlen, "%s: %s", filename, strerror(e));
        return -e;
    }
    if (S_ISDIR(st.st_mode)) {
        snprintf(err, errlen, "%s: is a directory, not a disk image", filename);
        return -EISDIR;
    }
    if (!S_ISREG(st.st_mode) && !S_ISBLK(st.st_mode)) {
        snprintf(err, errlen, "%s: not a regular file or block device", filename);
        return -EINVAL;
    }
    int flags = (writable ? O_RDWR : O_RDONLY) | O_CLOEXEC;
    if (wants_dsync(cache))
        flags |= O_DSYNC;
    bool direct = wants_direct(cache);
    int fd = -1;
    if (direct) {
        fd = bfile_refuse_direct_for_tests ? (errno = EINVAL, -1) : open(filename, flags | O_DIRECT);
        if (fd < 0 && errno == EINVAL)
            direct = false;             /* the file system has no O_DIRECT */
    }
    if (!direct)
        fd = open(filename, flags);
    if (fd < 0) {
        int e = errno;
        snprintf(err, errlen, "%s: %s", filename, strerror(e));
        return -e;
    }
    /* The name may have changed between stat and open: look again. */
    if (fstat(fd, &st) < 0 || S_ISDIR(st.st_mode)) {
        int e = S_ISDIR(st.st_mode) ? EISDIR : errno;
        snprintf(err, errlen, "%s: %s", filename, strerror(e));
        close(fd);
        return -e;
    }
    off_t size = S_ISBLK(st.st_mode) ? lseek(fd, 0, SEEK_END) : st.st_size;
    if (size < 0) {
        int e = errno;
        snprintf(err, errlen, "%s: cannot find its size: %s", filename, strerror(e));
        close(fd);
        return -e;
    }
    if (size == 0) {
        snprintf(err, errlen, "%s: image is empty (0 bytes)", filename);
        close(fd);
        return -EINVAL;
    }
    f->fd = fd;
    f->filename = xstrdup(filename);
    f->writable = writable;
    f->cache = cache;
    f->direct = direct;
    f->req_align = f->mem_align = 1;
    f->file_size = (uint64_t)size;
    pthread_rwlock_init(&f->rmw_lock, NULL);
    if (direct)
        probe_alignment(f);
    return 0;
}

void bfile_close(BlockFile *f)
{
    if (f->fd >= 0) {
        close(f->fd);
        pthread_rwlock_destroy(&f->rmw_lock);
    }
    free(f->filename);
    f->fd = -1;
    f->filename = NULL;
}

/* ---- whole-request loops ---- */

/* Reads len bytes at offset; the part past the end of the file reads as
 * zeros.  *einval_first says the very first call failed with EINVAL (the
 * O_DIRECT refusal the caller may retry). */
static int read_full(int fd, uint64_t offset, uint8_t *buf, size_t len, bool *einval_first)
{
    size_t done = 0;
    while (done < len) {
        ssize_t n = pread(fd, buf + done, len - done, (off_t)(offset + done));
        if (n < 0) {
            if (errno == EINTR)
                continue;
            if (einval_first)
                *einval_first = done == 0 && errno == EINVAL;
            return -errno;
        }
        if (n == 0) {
            memset(buf + done, 0, len - done);
            break;
        }
        done += (size_t)n;
    }
    return 0;
}

static int write_full(int fd, uint64_t offset, const uint8_t *buf, size_t len, bool *einval_first)
{
    size_t done = 0;
    while (done < len) {
        ssize_t n = pwrite(fd, buf + done, len - done, (off_t)(offset + done));
        if (n < 0) {
            if (errno == EINTR)
                continue;
            if (einval_first)
                *einval_first = done == 0 && errno == EINVAL;
            return -errno;
        }
        if (n == 0)
            return -EIO;
        done += (size_t)n;
    }
    return 0;
}

static void note_size(BlockFile *f, uint64_t end)
{
    uint64_t cur = __atomic_load_n(&f->file_size, __ATOMIC_RELAXED);
    while (end > cur &&
           !__atomic_compare_exchange_n(&f->file_size, &cur, end, false,
                                        __ATOMIC_RELAXED, __ATOMIC_RELAXED))
        ;
}

static bool is_aligned(const BlockFile *f, uint64_t offset, const void *buf, size_t len)
{
    return offset % f->req_align == 0 && len % f->req_align == 0 &&
           (uintptr_t)buf % f->mem_align == 0;
}

/* ---- reads ---- */

/* O_DIRECT read of an unaligned request through a bounce buffer. */
static int direct_read_bounce(BlockFile *f, uint64_t offset, uint8_t *buf, size_t len,
                              bool *einval)
{
    uint64_t a = f->req_align;
    uint64_t start = offset / a * a;
    uint64_t end = (offset + len + a - 1) / a * a;
    uint8_t *bounce;
    if (posix_memalign((void **)&bounce, BOUNCE_ALIGN, end - start))
        return -ENOMEM;
    int r = read_full(f->fd, start, bounce, end - start, einval);
    if (r == 0)
        memcpy(buf, bounce + (offset - start), len);
    free(bounce);
    return r;
}

int bfile_pread(BlockFile *f, uint64_t offset, void *buf, size_t len)
{
    if (len == 0)
        return 0;
    bool einval = false;
    int r;
    if (!__atomic_load_n(&f->direct, __ATOMIC_RELAXED))
        return read_full(f->fd, offset, buf, len, NULL);
    if (is_aligned(f, offset, buf, len))
        r = read_full(f->fd, offset, buf, len, &einval);
    else
        r = direct_read_bounce(f, offset, buf, len, &einval);
    if (r == -EINVAL && einval) {
        drop_direct(f);             /* the file system took the open, not the I/O */
        r = read_full(f->fd, offset, buf, len, NULL);
    }
    return r;
}

/* ---- writes ---- */

/* O_DIRECT write of an unaligned request: the blocks at both ends are
 * read, patched and written back whole.  Called with rmw_lock exclusive. */
static int direct_write_rmw(BlockFile *f, uint64_t offset, const uint8_t *buf, size_t len,
                            bool *einval)
{
    uint64_t a = f->req_align;
    uint64_t start = offset / a * a;
    uint64_t end = (offset + len + a - 1) / a * a;
    uint64_t old_size = __atomic_load_n(&f->file_size, __ATOMIC_RELAXED);
    uint8_t *bounce;
    if (posix_memalign((void **)&bounce, BOUNCE_ALIGN, end - start))
        return -ENOMEM;
    int r = 0;
    bool head = start < offset, tail = offset + len < end;
    if (head)
        r = read_full(f->fd, start, bounce, a, einval);
    if (r == 0 && tail && !(head && end - a == start))
        r = read_full(f->fd, end - a, bounce + (end - a - start), a, einval);
    if (r == 0) {
        memcpy(bounce + (offset - start), buf, len);
        r = write_full(f->fd, start, bounce, end - start, einval);
    }
    free(bounce);
    /* The aligned write may have grown the file past what was asked for:
     * the image keeps the size the guest wrote up to. */
    if (r == 0 && end > old_size) {
        uint64_t want = MAX(old_size, offset + len);
        if (ftruncate(f->fd, (off_t)want) < 0)
            r = -errno;
        note_size(f, want);
    }
    return r;
}

int bfile_pwrite(BlockFile *f, uint64_t offset, const void *buf, size_t len)
{
    if (len == 0)
        return 0;
    if (!f->writable)
        return -EROFS;
    bool einval = false;
    int r;
    if (!__atomic_load_n(&f->direct, __ATOMIC_RELAXED)) {
        r = write_full(f->fd, offset, buf, len, NULL);
    } else if (offset % f->req_align == 0 && len % f->req_align == 0) {
        /* Whole blocks: only the buffer may need copying. */
        pthread_rwlock_rdlock(&f->rmw_lock);
        if ((uintptr_t)buf % f->mem_align == 0) {
            r = write_full(f->fd, offset, buf, len, &einval);
        } else {
            uint8_t *bounce;
            r = -ENOMEM;
            if (!posix_memalign((void **)&bounce, BOUNCE_ALIGN, len)) {
                memcpy(bounce, buf, len);
                r = write_full(f->fd, offset, bounce, len, &einval);
                free(bounce);
            }
        }
        pthread_rwlock_unlock(&f->rmw_lock);
    } else {
        pthread_rwlock_wrlock(&f->rmw_lock);
        r = direct_write_rmw(f, offset, buf, len, &einval);
        pthread_rwlock_unlock(&f->rmw_lock);
    }
    if (r == -EINVAL && einval) {
        drop_direct(f);
        r = write_full(f->fd, offset, buf, len, NULL);
    }
    if (r == 0)
        note_size(f, offset + len);
    return r;
}

int bfile_discard(BlockFile *f, uint64_t offset, uint64_t len)
{
    uint64_t size = __atomic_load_n(&f->file_size, __ATOMIC_RELAXED);
    if (!f->writable || len == 0 || offset >= size)
        return 0;                   /* past the end of the file: zeros already */
    if (len > size - offset)
        len = size - offset;
    /* Shared: an O_DIRECT read-modify-write of a neighbouring block may
     * write back old bytes of the hole, which a discard allows. */
    pthread_rwlock_rdlock(&f->rmw_lock);
    int r = fallocate(f->fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, (off_t)offset,
                      (off_t)len);
    int e = errno;
    pthread_rwlock_unlock(&f->rmw_lock);
    if (r < 0 && (e == EOPNOTSUPP || e == ENOSYS))
        return 0;                   /* the file system cannot: discard is advisory */
    return r < 0 ? -e : 0;
}

int bfile_flush(BlockFile *f)
{
    if (!f->writable || f->cache == BLK_CACHE_UNSAFE)
        return 0;
    return fdatasync(f->fd) < 0 ? -errno : 0;
}
