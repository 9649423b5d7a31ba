/*
 * Reads an image through the block layer the way a guest does, for
 * tests/system/vmdk.sh:
 *
 *   import-read IMAGE FORMAT RAW SEED BATCHES
 *
 * opens IMAGE read-only (FORMAT "-": probed), then BATCHES times queues up
 * to 16 asynchronous reads at once (random sector-aligned places and
 * lengths up to 1 MiB, across grain, block and extent boundaries; the
 * worker threads run them in parallel), waits for them and compares every
 * one with the same bytes of RAW.  Exit 0 when all agree.
 */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "block/block.h"

#define MAX_LEN (1u << 20)

static uint64_t rs;
static uint64_t rnd(void)
{
    rs ^= rs << 13;
    rs ^= rs >> 7;
    rs ^= rs << 17;
    return rs;
}

typedef struct Read { uint64_t off; size_t len; uint8_t *buf; int ret; bool done; } Read;

static void read_done(void *opaque, int ret)
{
    Read *r = opaque;
    r->ret = ret;
    r->done = true;
}

int main(int argc, char **argv)
{
    if (argc != 6) {
        fprintf(stderr, "usage: import-read IMAGE FORMAT|- RAW SEED BATCHES\n");
        return 2;
    }
    char err[1024];
    BlockOpenOptions o = { .filename = argv[1], .format = strcmp(argv[2], "-") ? argv[2] : NULL,
                           .read_only = true, .cache = BLK_CACHE_WRITEBACK };
    BlockBackend *bb = blk_open(&o, err, sizeof err);
    int fd = open(argv[3], O_RDONLY);
    if (!bb || fd < 0) {
        fprintf(stderr, "import-read: %s\n", bb ? argv[3] : err);
        return 2;
    }
    rs = strtoull(argv[4], NULL, 0) | 1;
    int batches = atoi(argv[5]), bad = 0, n = 0;
    uint64_t sectors = blk_size(bb) / 512;
    Read rd[16];
    uint8_t *want = malloc(MAX_LEN);
    for (int i = 0; i < 16; i++)
        rd[i].buf = malloc(MAX_LEN);
    for (int b = 0; b < batches && !bad; b++) {
        int k = (int)(rnd() % 16) + 1;
        for (int i = 0; i < k; i++) {
            uint64_t len = (rnd() % (MAX_LEN / 512) + 1) * 512;
            uint64_t off = rnd() % sectors * 512;
            if (len > blk_size(bb) - off)
                len = blk_size(bb) - off;
            rd[i].off = off;
            rd[i].len = (size_t)len;
            rd[i].done = false;
            if (blk_aio_read(bb, off, rd[i].buf, (size_t)len, read_done, &rd[i]) < 0) {
                rd[i].ret = -1;
                rd[i].done = true;
            }
        }
        blk_drain(bb);
        for (int i = 0; i < k; i++, n++) {
            memset(want, 0, rd[i].len);
            ssize_t got = pread(fd, want, rd[i].len, (off_t)rd[i].off);
            if (!rd[i].done || rd[i].ret < 0 || got < 0 || memcmp(want, rd[i].buf, rd[i].len)) {
                fprintf(stderr, "import-read: %s: %zu bytes at %llu differ from %s (ret %d)\n",
                        argv[1], rd[i].len, (unsigned long long)rd[i].off, argv[3], rd[i].ret);
                bad++;
            }
        }
    }
    printf("%d reads compared, %d differ\n", n, bad);
    blk_close(bb);
    return bad ? 1 : 0;
}
