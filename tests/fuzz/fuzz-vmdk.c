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
#include "tests/fuzz/fuzz.h"

#define PARTS 4
static const char *const names[PARTS] = { "d.vmdk", "e1.vmdk", "e2.vmdk", "e3.vmdk" };
static const char sep[] = "\n@@@\n";
static char dir[64];
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

static bool same_file(const char *path, const Part *part)
{
    uint8_t *back = malloc(part->n + 1);
    int fd = open(path, O_RDONLY);
    bool ok = fd >= 0 && read(fd, back, part->n + 1) == (ssize_t)part->n &&
              !memcmp(back, part->p, part->n);
    if (fd >= 0)
        close(fd);
    free(back);
    return ok;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char path[128];
    if (!dir[0]) {
        snprintf(dir, sizeof dir, "/tmp/vx86-fuzz-vmdk.%d", (int)getpid());
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
        int fd = open(path, O_CREAT | O_TRUNC | O_WRONLY, 0600);
        if (fd < 0 || write(fd, parts[i].p, parts[i].n) != (ssize_t)parts[i].n)
            abort();
        close(fd);
    }

    path_of(path, sizeof path, 0);
    char err[1024] = "";
    BlockOpenOptions o = { .filename = path, .format = "vmdk", .read_only = true,
                           .no_lock = true, .cache = BLK_CACHE_UNSAFE };
    BlockBackend *bb = blk_open(&o, err, sizeof err);
    if (!bb) {
        /* One line naming the image. */
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
        vmdk_check(blk_get_driver_state(bb), devnull);
        blk_close(bb);
    }
    /* Nothing written, opened or refused. */
    for (int i = 0; i < n; i++) {
        path_of(path, sizeof path, i);
        if (!same_file(path, &parts[i]))
            abort();
    }
    return 0;
}
