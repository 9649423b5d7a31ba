/* The VMDK driver (block/vmdk.c): any set of files is opened or refused
 * with one line naming the image, and no file is ever written; an opened
 * image survives reads anywhere and the consistency check.  The input is
 * either one sparse extent (it starts with the KDMV or COWD magic) or a
 * descriptor and up to three extent files joined by the line "@@@"
 * (tests/fuzz/mkseeds-vmdk-vdi.py), written as d.vmdk, e1.vmdk, e2.vmdk,
 * e3.vmdk in a folder of their own; descriptors name those. */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "block/block-int.h"
#include "block/vmdk.h"
#include "tests/fuzz/fuzz-image.h"

#define PARTS 4
static const char *const names[PARTS] = { "d.vmdk", "e1.vmdk", "e2.vmdk", "e3.vmdk" };
static const char sep[] = "\n@@@\n";
static char dir[200];
static FILE *devnull;

typedef struct Part { const uint8_t *p; size_t n; } Part;

static int split(const uint8_t *data, size_t size, Part *parts)
{
    int n = 0;
    const uint8_t *p = data, *end = data + size;
    bool single = size >= 4 && (!memcmp(data, "KDMV", 4) || !memcmp(data, "COWD", 4));
    while (n < PARTS - 1 && !single) {
        const uint8_t *s = memmem(p, (size_t)(end - p), sep, sizeof sep - 1);
        if (!s)
            break;
        parts[n++] = (Part){ p, (size_t)(s - p) };
        p = s + sizeof sep - 1;
    }
    parts[n++] = (Part){ p, (size_t)(end - p) };
    return n;
}

static void path_of(char *buf, size_t len, int i)
{
    snprintf(buf, len, "%s/%s", dir, names[i]);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char path[256];
    if (!dir[0]) {
        fuzz_tmp_path_pid(dir, sizeof dir, "vmdk");
        mkdir(dir, 0700);
        bfile_refuse_direct_for_tests = true;
        devnull = fopen("/dev/null", "w");
    }
    vmdk_probe(data, size);
    Part parts[PARTS];
    int n = split(data, size, parts);
    for (int i = 0; i < PARTS; i++) {
        path_of(path, sizeof path, i);
        unlink(path);
        if (i >= n)
            continue;
        fuzz_write_file(path, parts[i].p, parts[i].n);
    }

    path_of(path, sizeof path, 0);
    char err[1024] = "";
    BlockOpenOptions o = { .filename = path, .format = "vmdk", .read_only = true,
                           .no_lock = true, .cache = BLK_CACHE_UNSAFE };
    BlockBackend *bb = blk_open(&o, err, sizeof err);
    if (!bb) {
        /* One line naming the image. */
        if (!fuzz_refusal_ok(err, path))
            abort();
    } else {
        fuzz_read_ranges(bb, data, size);
        vmdk_check(blk_get_driver_state(bb), devnull);
        blk_close(bb);
    }
    /* Nothing written, opened or refused. */
    for (int i = 0; i < n; i++) {
        path_of(path, sizeof path, i);
        if (!fuzz_file_holds(path, parts[i].p, parts[i].n))
            abort();
    }
    return 0;
}
