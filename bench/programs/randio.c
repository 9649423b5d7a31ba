/* Random 4 KiB I/O on a block device for bench/guest/workloads.sh:
 *
 *   randio read|write DEVICE FIRST_MIB SPAN_MIB COUNT SEED
 *
 * COUNT requests of 4 KiB at 4 KiB-aligned offsets drawn from
 * [FIRST_MIB, FIRST_MIB + SPAN_MIB) MiB by a fixed linear congruential
 * sequence (SEED), with O_DIRECT so the guest's page cache is out of the
 * way.  A write fills each block with bytes derived from its offset and
 * its place in the sequence, then fsyncs once at the end.  Prints a
 * checksum of every byte read (or "ok"), so engines that read different
 * data show up as a checksum mismatch in the bench table. */
#define _GNU_SOURCE
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define BLOCK 4096

int main(int argc, char **argv)
{
    if (argc != 7 || (strcmp(argv[1], "read") && strcmp(argv[1], "write"))) {
        fprintf(stderr, "usage: randio read|write DEVICE FIRST_MIB SPAN_MIB COUNT SEED\n");
        return 2;
    }
    int writing = !strcmp(argv[1], "write");
    uint64_t first = strtoull(argv[3], NULL, 0) << 20, span = strtoull(argv[4], NULL, 0) << 20;
    long count = strtol(argv[5], NULL, 0);
    uint64_t x = strtoull(argv[6], NULL, 0), blocks = span / BLOCK;
    int fd = open(argv[2], (writing ? O_WRONLY : O_RDONLY) | O_DIRECT);
    uint8_t *buf;
    if (fd < 0 || !blocks || posix_memalign((void **)&buf, BLOCK, BLOCK)) {
        perror(argv[2]);
        return 1;
    }
    uint64_t sum = 1469598103934665603ull;        /* FNV-1a over what was read */
    for (long i = 0; i < count; i++) {
        x = x * 6364136223846793005ull + 1442695040888963407ull;
        off_t off = (off_t)(first + (x >> 33) % blocks * BLOCK);
        if (writing) {
            for (int k = 0; k < BLOCK; k += 8) {
                uint64_t v = (uint64_t)off ^ (uint64_t)i << 40 ^ (uint64_t)k;
                memcpy(buf + k, &v, 8);
            }
            if (pwrite(fd, buf, BLOCK, off) != BLOCK) {
                perror("pwrite");
                return 1;
            }
        } else {
            if (pread(fd, buf, BLOCK, off) != BLOCK) {
                perror("pread");
                return 1;
            }
            for (int k = 0; k < BLOCK; k++)
                sum = (sum ^ buf[k]) * 1099511628211ull;
        }
    }
    if (writing && fsync(fd) < 0) {
        perror("fsync");
        return 1;
    }
    if (writing)
        printf("ok\n");
    else
        printf("%016llx\n", (unsigned long long)sum);
    return 0;
}
