/*
 * What the harnesses that work on files share (tests/fuzz/fuzz-*.c):
 * scratch file names under $TMPDIR, writing the input to a file and
 * checking that a refused or read-only open left it as it was, and the
 * byte ranges an opened image is read at.
 */
#ifndef VX86_TESTS_FUZZ_IMAGE_H
#define VX86_TESTS_FUZZ_IMAGE_H

#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "block/block.h"
#include "tests/fuzz/fuzz.h"

/* "$TMPDIR/vx86-fuzz-NAME" + suffix (TMPDIR unset: /tmp); the suffix is
 * ".PID" for a harness's own file, "-XXXXXX" for mkstemp. */
static inline void fuzz_tmp_path(char *buf, size_t len, const char *name, const char *suffix)
{
    const char *tmp = getenv("TMPDIR");
    snprintf(buf, len, "%s/vx86-fuzz-%s%s", tmp && *tmp ? tmp : "/tmp", name, suffix);
}

static inline void fuzz_tmp_path_pid(char *buf, size_t len, const char *name)
{
    char pid[24];
    snprintf(pid, sizeof pid, ".%d", (int)getpid());
    fuzz_tmp_path(buf, len, name, pid);
}

/* The whole of data as the file path (created or truncated); aborts when
 * it cannot be written. */
static inline void fuzz_write_file(const char *path, const void *data, size_t size)
{
    int fd = open(path, O_CREAT | O_TRUNC | O_WRONLY, 0600);
    if (fd < 0 || write(fd, data, size) != (ssize_t)size)
        abort();
    close(fd);
}

/* True when the file holds exactly data (nothing written, nothing added). */
static inline bool fuzz_file_holds(const char *path, const void *data, size_t size)
{
    unsigned char *back = malloc(size + 1);
    int fd = open(path, O_RDONLY);
    bool ok = fd >= 0 && read(fd, back, size + 1) == (ssize_t)size && !memcmp(back, data, size);
    if (fd >= 0)
        close(fd);
    free(back);
    return ok;
}

/* A refused image is refused with one line that names the file. */
static inline bool fuzz_refusal_ok(const char *err, const char *path)
{
    return err[0] && !strchr(err, '\n') && strstr(err, path);
}

/* A sector-aligned range of 512 B..128 KiB inside vsize (> 0) bytes, from
 * the input. */
static inline void fuzz_range(FuzzInput *in, uint64_t vsize, uint64_t *off, size_t *len)
{
    *off = ((uint64_t)fuzz_u16(in) << 16 | fuzz_u16(in)) * 512 % vsize;
    *len = (size_t)((fuzz_u16(in) % 256 + 1) * 512);
    if (*len > vsize - *off)
        *len = (size_t)(vsize - *off);
}

/* The input's last 32 bytes pick the ranges (the rest is the image). */
static inline FuzzInput fuzz_tail(const uint8_t *data, size_t size)
{
    return (FuzzInput){ data + (size > 32 ? size - 32 : 0), size > 32 ? 32 : size };
}

/* Eight reads of an opened image at ranges the input's tail picks. */
static inline void fuzz_read_ranges(BlockBackend *bb, const uint8_t *data, size_t size)
{
    uint64_t vsize = blk_size(bb);
    FuzzInput in = fuzz_tail(data, size);
    uint8_t *buf = malloc(65536 * 2);
    for (int i = 0; i < 8 && vsize; i++) {
        uint64_t off;
        size_t len;
        fuzz_range(&in, vsize, &off, &len);
        blk_pread(bb, off, buf, len);
    }
    free(buf);
}

#endif
