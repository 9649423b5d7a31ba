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
#include "tests/fuzz/fuzz-image.h"

#define PASTE2(a, b) a##b
#define PASTE(a, b) PASTE2(a, b)
#define STR2(x) #x
#define STR(x) STR2(x)
#define FORMAT_NAME STR(FUZZ_FORMAT)
#define format_probe PASTE(FUZZ_FORMAT, _probe)
#define format_check PASTE(FUZZ_FORMAT, _check)

static char path[256];
static FILE *devnull;

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (!path[0]) {
        fuzz_tmp_path_pid(path, sizeof path, FORMAT_NAME);
        bfile_refuse_direct_for_tests = true;
        devnull = fopen("/dev/null", "w");
    }
    format_probe(data, size);
    fuzz_write_file(path, data, size);

    char err[1024] = "";
    BlockOpenOptions o = { .filename = path, .format = FORMAT_NAME, .read_only = true,
                           .no_lock = true, .cache = BLK_CACHE_UNSAFE };
    BlockBackend *bb = blk_open(&o, err, sizeof err);
    if (!bb) {
        if (!fuzz_refusal_ok(err, path))
            abort();
    } else {
        fuzz_read_ranges(bb, data, size);
        format_check(blk_get_driver_state(bb), devnull);
        blk_close(bb);
    }
    if (!fuzz_file_holds(path, data, size))     /* nothing written */
        abort();
    unlink(path);
    return 0;
}
