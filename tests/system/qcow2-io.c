/*
 * Drives the block layer for tests/system/qcow2.sh:
 *
 *   qcow2-io stress IMAGE SHADOW SEED BATCHES
 *       batches of up to 16 non-overlapping asynchronous writes, discards
 *       and flushes of random size and place, mirrored into the raw file
 *       SHADOW; discarded sectors take whatever the image then reads.  At
 *       the end the image is read back and compared with the shadow.
 *   qcow2-io crash IMAGE JOURNAL SEED
 *       writes 12 KiB slots (each at most once) and flushes every few
 *       writes; after each flush appends the flushed slots to JOURNAL
 *       (fsynced).  Runs until killed.
 *   qcow2-io verify RAW JOURNAL SEED
 *       every journaled slot holds its pattern in RAW (a qemu-img convert
 *       of the crashed image).
 */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "block/block.h"

#define SLOT 12288u

static uint64_t rs;
static uint64_t rnd(void)
{
    rs ^= rs << 13;
    rs ^= rs >> 7;
    rs ^= rs << 17;
    return rs;
}

static void pattern(uint8_t *p, size_t n, uint64_t seed)
{
    uint64_t s = seed * 0x9e3779b97f4a7c15ull + 1;
    for (size_t i = 0; i < n; i++) {
        s ^= s << 13;
        s ^= s >> 7;
        s ^= s << 17;
        p[i] = (uint8_t)s;
    }
}

static BlockBackend *open_img(const char *f)
{
    char err[1024];
    BlockOpenOptions o = { .filename = f, .cache = BLK_CACHE_WRITEBACK };
    BlockBackend *bb = blk_open(&o, err, sizeof err);
    if (!bb) {
        fprintf(stderr, "qcow2-io: %s\n", err);
        exit(2);
    }
    return bb;
}

static int failures;
static void done(void *opaque, int ret)
{
    if (ret < 0) {
        fprintf(stderr, "qcow2-io: request failed: %d\n", ret);
        failures++;
    }
}

typedef struct Req { uint64_t off, len; int kind; uint8_t *buf; } Req;

static int stress(const char *img, const char *shadow, uint64_t seed, int batches)
{
    BlockBackend *bb = open_img(img);
    uint64_t size = blk_size(bb);
    int sfd = open(shadow, O_RDWR);
    if (sfd < 0) {
        perror(shadow);
        return 2;
    }
    uint8_t *unknown = calloc(size / 512 + 1, 1);
    rs = seed | 1;
    for (int b = 0; b < batches; b++) {
        Req r[16];
        int n = 0, want = 1 + (int)(rnd() % 16);
        for (int tries = 0; n < want && tries < 64; tries++) {
            uint64_t len = 512 * (1 + rnd() % (rnd() % 4 == 0 ? 512 : 24));
            uint64_t off = (rnd() % (size / 512)) * 512;
            if (off + len > size)
                len = size - off;
            bool clash = false;
            for (int i = 0; i < n; i++)
                clash |= off < r[i].off + r[i].len && r[i].off < off + len;
            if (clash)
                continue;
            r[n] = (Req){ off, len, rnd() % 8 == 0 ? 1 : 0, NULL };
            n++;
        }
        for (int i = 0; i < n; i++) {
            if (r[i].kind == 0) {
                r[i].buf = malloc(r[i].len);
                pattern(r[i].buf, r[i].len, rnd());
                if (pwrite(sfd, r[i].buf, r[i].len, (off_t)r[i].off) != (ssize_t)r[i].len)
                    return 2;
                memset(unknown + r[i].off / 512, 0, r[i].len / 512);
                blk_aio_write(bb, r[i].off, r[i].buf, r[i].len, done, NULL);
            } else {
                memset(unknown + r[i].off / 512, 1, r[i].len / 512);
                blk_aio_discard(bb, r[i].off, r[i].len, done, NULL);
            }
        }
        if (rnd() % 4 == 0)
            blk_aio_flush(bb, done, NULL);
        blk_drain(bb);
        for (int i = 0; i < n; i++)
            free(r[i].buf);
    }
    blk_flush(bb);
    /* Read everything back: known sectors must match the shadow. */
    uint8_t *a = malloc(1 << 20), *s = malloc(1 << 20);
    for (uint64_t off = 0; off < size; off += 1 << 20) {
        size_t len = size - off < (1u << 20) ? size - off : 1u << 20;
        if (blk_pread(bb, off, a, len) < 0 || pread(sfd, s, len, (off_t)off) != (ssize_t)len) {
            fprintf(stderr, "qcow2-io: read back failed at %llu\n", (unsigned long long)off);
            return 1;
        }
        for (size_t k = 0; k < len; k += 512) {
            if (unknown[(off + k) / 512]) {
                if (pwrite(sfd, a + k, 512, (off_t)(off + k)) != 512)
                    return 2;
            } else if (memcmp(a + k, s + k, 512)) {
                fprintf(stderr, "qcow2-io: mismatch at sector %llu\n",
                        (unsigned long long)(off + k) / 512);
                return 1;
            }
        }
    }
    blk_close(bb);
    close(sfd);
    return failures ? 1 : 0;
}

static int crash(const char *img, const char *journal, uint64_t seed)
{
    BlockBackend *bb = open_img(img);
    uint64_t nslots = blk_size(bb) / SLOT;
    uint32_t *order = malloc(nslots * sizeof(*order));
    for (uint64_t i = 0; i < nslots; i++)
        order[i] = (uint32_t)i;
    rs = seed | 1;
    for (uint64_t i = nslots - 1; i > 0; i--) {
        uint64_t j = rnd() % (i + 1);
        uint32_t t = order[i];
        order[i] = order[j];
        order[j] = t;
    }
    int jfd = open(journal, O_WRONLY | O_CREAT | O_APPEND, 0644);
    uint8_t *buf = malloc(SLOT);
    uint32_t pending[64];
    int np = 0;
    for (uint64_t i = 0; i < nslots; i++) {
        uint32_t slot = order[i];
        pattern(buf, SLOT, seed ^ slot);
        if (blk_pwrite(bb, (uint64_t)slot * SLOT, buf, SLOT) < 0)
            return 1;
        pending[np++] = slot;
        if (np == 64 || rnd() % 8 == 0) {
            if (blk_flush(bb) < 0)
                return 1;
            if (write(jfd, pending, np * sizeof(uint32_t)) < 0 || fsync(jfd) < 0)
                return 1;
            np = 0;
        }
    }
    pause();
    return 0;
}

static int verify(const char *raw, const char *journal, uint64_t seed)
{
    int fd = open(raw, O_RDONLY), jfd = open(journal, O_RDONLY);
    if (fd < 0 || jfd < 0)
        return 2;
    uint32_t slot;
    uint8_t *want = malloc(SLOT), *got = malloc(SLOT);
    int n = 0, bad = 0;
    while (read(jfd, &slot, sizeof slot) == sizeof slot) {
        pattern(want, SLOT, seed ^ slot);
        if (pread(fd, got, SLOT, (off_t)slot * SLOT) != SLOT || memcmp(want, got, SLOT)) {
            if (bad++ < 5)
                fprintf(stderr, "qcow2-io: flushed slot %u lost\n", slot);
        }
        n++;
    }
    printf("%d flushed slots checked, %d lost\n", n, bad);
    return bad ? 1 : 0;
}

int main(int argc, char **argv)
{
    if (argc == 6 && !strcmp(argv[1], "stress"))
        return stress(argv[2], argv[3], strtoull(argv[4], NULL, 0), atoi(argv[5]));
    if (argc == 5 && !strcmp(argv[1], "crash"))
        return crash(argv[2], argv[3], strtoull(argv[4], NULL, 0));
    if (argc == 5 && !strcmp(argv[1], "verify"))
        return verify(argv[2], argv[3], strtoull(argv[4], NULL, 0));
    fprintf(stderr, "usage: qcow2-io stress IMG SHADOW SEED BATCHES | crash IMG JOURNAL SEED | "
            "verify RAW JOURNAL SEED\n");
    return 2;
}
