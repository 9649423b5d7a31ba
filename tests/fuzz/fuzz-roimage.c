/* A read-only image driver, FUZZ_FORMAT (vdi: block/vdi.c, vpc:
 * block/vpc.c; tests/fuzz/fuzz.mk builds one harness per format): any file
 * is opened or refused with one line naming it, and never written; an
 * opened image survives reads anywhere and the consistency check.  The
 * input is the image, written to a temporary file (the file harness
 * pattern of docs/fuzzing.md). */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "block/block-int.h"
#include "block/vdi.h"
#include "block/vpc.h"
#include "tests/fuzz/fuzz.h"

#define PASTE2(a, b) a##b
#define PASTE(a, b) PASTE2(a, b)
#define STR2(x) #x
#define STR(x) STR2(x)
#define FORMAT_NAME STR(FUZZ_FORMAT)
#define format_probe PASTE(FUZZ_FORMAT, _probe)
#define format_check PASTE(FUZZ_FORMAT, _check)

static char path[64];
static FILE *devnull;

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (!path[0]) {
        snprintf(path, sizeof path, "/tmp/vx86-fuzz-%s.%d", FORMAT_NAME,
                 (int)getpid());
        bfile_refuse_direct_for_tests = true;
        devnull = fopen("/dev/null", "w");
    }
    format_probe(data, size);
    int fd = open(path, O_CREAT | O_TRUNC | O_RDWR, 0600);
    if (fd < 0 || write(fd, data, size) != (ssize_t)size)
        abort();
    close(fd);

    char err[1024] = "";
    BlockOpenOptions o = { .filename = path, .format = FORMAT_NAME, .read_only = true,
                           .no_lock = true, .cache = BLK_CACHE_UNSAFE };
    BlockBackend *bb = blk_open(&o, err, sizeof err);
    if (!bb) {
        if (!err[0] || strchr(err, '\n') || !strstr(err, path))
            abort();
    } else {
        uint64_t vsize = blk_size(bb);
        FuzzInput in = { data + (size > 32 ? size - 32 : 0), size > 32 ? 32 : size };
        uint8_t *buf = malloc(65536 * 2);
        for (int i = 0; i < 8 && vsize; i++) {
            uint64_t off = ((uint64_t)fuzz_u16(&in) << 16 | fuzz_u16(&in)) * 512 % vsize;
            size_t len = (size_t)((fuzz_u16(&in) % 256 + 1) * 512);
            if (len > vsize - off)
                len = (size_t)(vsize - off);
            blk_pread(bb, off, buf, len);
        }
        free(buf);
        format_check(blk_get_driver_state(bb), devnull);
        blk_close(bb);
    }
    /* Nothing written. */
    uint8_t *back = malloc(size + 1);
    fd = open(path, O_RDONLY);
    if (fd < 0 || read(fd, back, size + 1) != (ssize_t)size || memcmp(back, data, size))
        abort();
    close(fd);
    free(back);
    unlink(path);
    return 0;
}
