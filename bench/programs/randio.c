/* randio DEV read|write N: N random 4 KiB O_DIRECT reads or writes
 * inside the first 256 MiB of DEV, the random-I/O rows of
 * bench/guest/workloads.sh (busybox dd would cost a process per block).
 * The offsets and the written bytes come from a fixed LCG, so every
 * engine does the same I/O; a read prints an FNV-1a checksum of what it
 * read (the same on every engine after the same writes), a write prints
 * "ok" after fdatasync. */
#define _GNU_SOURCE
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define BLOCK 4096
#define SPAN_BLOCKS (256u << 20) / BLOCK

static uint32_t lcg(uint32_t *s)
{
    *s = *s * 1103515245u + 12345u;
    return *s >> 8;
}

int main(int argc, char **argv)
{
    if (argc != 4) {
        fprintf(stderr, "usage: randio DEV read|write N\n");
        return 2;
    }
    int write = !strcmp(argv[2], "write");
    long n = atol(argv[3]);
    int fd = open(argv[1], (write ? O_RDWR : O_RDONLY) | O_DIRECT);
    if (fd < 0) {
        perror(argv[1]);
        return 1;
    }
    uint8_t *buf;
    if (posix_memalign((void **)&buf, BLOCK, BLOCK))
        return 1;
    uint32_t seed = 12345, data = 777;
    uint64_t sum = 1469598103934665603ull;
    for (long i = 0; i < n; i++) {
        off_t off = (off_t)(lcg(&seed) % SPAN_BLOCKS) * BLOCK;
        if (write) {
            for (int k = 0; k < BLOCK; k += 4) {
                uint32_t v = lcg(&data);
                memcpy(buf + k, &v, 4);
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
    if (write) {
        if (fdatasync(fd) < 0) {
            perror("fdatasync");
            return 1;
        }
        printf("ok\n");
    } else {
        printf("%016llx\n", (unsigned long long)sum);
    }
    return 0;
}
