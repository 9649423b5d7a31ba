/*
 * Image locks that QEMU understands, so vx86 and qemu-system / qemu-img /
 * qemu-io exclude each other the way two QEMUs do.
 *
 * QEMU describes what a user of an image does as permissions, bit i of
 * which is: 0 consistent read, 1 write, 2 write unchanged, 3 resize.  It
 * takes open-file-description locks (fcntl F_OFD_SETLK, which conflict
 * between two opens of the file even in one process and survive the
 * closing of other descriptors) on single bytes of the image file:
 *
 *   byte 100 + i   shared lock: "I use permission i"
 *   byte 200 + i   shared lock: "I do not let others use permission i"
 *
 * and refuses to open when a byte it needs is held by someone else: for
 * each permission i it uses, byte 200 + i must be free; for each one it
 * does not share, byte 100 + i must be free.  Testing is F_OFD_GETLK with
 * an exclusive lock type, which reports any other holder.  The lock bytes
 * are advisory: nothing is read or written there.
 *
 * What vx86 takes (as qemu-system-x86_64 7.2 does for an IDE disk, seen
 * in /proc/locks):
 *   writable disk:          uses read+write, shares all but write:   100 101 201
 *   read-only/-snapshot/CD: uses read, shares all but write, resize: 100 201 203
 * so a second writer is told 'failed to get "write" lock' and a reader of
 * an image being written 'failed to get shared "write" lock', QEMU's words.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>

#include "block/block-int.h"

#define LOCK_PERM_BASE 100
#define LOCK_SHARED_BASE 200

enum { PERM_CONSISTENT_READ, PERM_WRITE, PERM_WRITE_UNCHANGED, PERM_RESIZE, PERM_COUNT };

static const char *const perm_names[PERM_COUNT] = {
    "consistent read", "write", "write unchanged", "resize",
};

static int ofd_lock(int fd, off_t start, off_t len, short type)
{
    struct flock fl = { .l_type = type, .l_whence = SEEK_SET, .l_start = start, .l_len = len };
    return fcntl(fd, F_OFD_SETLK, &fl) < 0 ? -errno : 0;
}

/* 1 when another open file description holds a lock on the byte, 0 when
 * not, -errno when the test itself failed. */
static int ofd_held_elsewhere(int fd, off_t start)
{
    struct flock fl = { .l_type = F_WRLCK, .l_whence = SEEK_SET, .l_start = start, .l_len = 1 };
    if (fcntl(fd, F_OFD_GETLK, &fl) < 0)
        return -errno;
    return fl.l_type != F_UNLCK;
}

void blk_unlock_image(int fd)
{
    ofd_lock(fd, LOCK_PERM_BASE, 2 * (LOCK_SHARED_BASE - LOCK_PERM_BASE), F_UNLCK);
}

int blk_lock_image(int fd, const char *filename, bool writable, char *err, size_t errlen)
{
    unsigned used = 1u << PERM_CONSISTENT_READ;
    unsigned unshared = 1u << PERM_WRITE;
    if (writable)
        used |= 1u << PERM_WRITE;
    else
        unshared |= 1u << PERM_RESIZE;

    /* Take ours first, then look for conflicts: two openers racing both
     * see each other and both fail, never both succeed. */
    for (int i = 0; i < PERM_COUNT; i++) {
        int r = 0;
        if (used & (1u << i))
            r = ofd_lock(fd, LOCK_PERM_BASE + i, 1, F_RDLCK);
        if (r == 0 && (unshared & (1u << i)))
            r = ofd_lock(fd, LOCK_SHARED_BASE + i, 1, F_RDLCK);
        if (r == -EINVAL || r == -ENOSYS || r == -ENOLCK || r == -EOPNOTSUPP) {
            blk_unlock_image(fd);
            return 0;                 /* no OFD locks on this file system */
        }
        if (r < 0) {
            /* Someone holds an exclusive lock there (only tools do). */
            snprintf(err, errlen, "%s: failed to get \"%s\" lock (is another process using the image?)",
                     filename, perm_names[i]);
            blk_unlock_image(fd);
            return -EAGAIN;
        }
    }
    for (int i = 0; i < PERM_COUNT; i++) {
        const char *shared = NULL;
        if ((used & (1u << i)) && ofd_held_elsewhere(fd, LOCK_SHARED_BASE + i) > 0)
            shared = "";
        else if ((unshared & (1u << i)) && ofd_held_elsewhere(fd, LOCK_PERM_BASE + i) > 0)
            shared = "shared ";
        if (shared) {
            snprintf(err, errlen, "%s: failed to get %s\"%s\" lock (is another process using the image?)",
                     filename, shared, perm_names[i]);
            blk_unlock_image(fd);
            return -EAGAIN;
        }
    }
    return 0;
}
