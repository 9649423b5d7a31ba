/*
 * rrprobe: prints what a program can see that differs from one run of a
 * machine to the next -- the wall clock (the RTC's start), the monotonic
 * clock and the TSC (how fast the host ran), the kernel's random numbers
 * (seeded from interrupt timing), how many loop iterations fit in a
 * millisecond, the interrupt counts -- so that a replay printing exactly
 * what the recording printed shows that all of them were replayed
 * (tests/system/rr.sh).  Static, no arguments: `rrprobe LABEL`.
 */
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>

static uint64_t rdtsc(void)
{
    uint32_t lo, hi;
    __asm__ volatile("rdtsc" : "=a"(lo), "=d"(hi));
    return (uint64_t)hi << 32 | lo;
}

static int64_t ns(clockid_t id)
{
    struct timespec ts;
    clock_gettime(id, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

/* Iterations of an empty loop until CLOCK_MONOTONIC moved by 1 ms. */
static unsigned long loops_per_ms(void)
{
    int64_t end = ns(CLOCK_MONOTONIC) + 1000000;
    unsigned long n = 0;
    while (ns(CLOCK_MONOTONIC) < end)
        n++;
    return n;
}

static unsigned long interrupts(void)
{
    FILE *f = fopen("/proc/interrupts", "r");
    if (!f)
        return 0;
    char line[512];
    unsigned long total = 0;
    while (fgets(line, sizeof line, f)) {
        char *p = strchr(line, ':');
        unsigned long v;
        if (p && sscanf(p + 1, "%lu", &v) == 1)
            total += v;
    }
    fclose(f);
    return total;
}

int main(int argc, char **argv)
{
    const char *label = argc > 1 ? argv[1] : "probe";
    unsigned char rnd[16];
    if (getrandom(rnd, sizeof rnd, 0) != (ssize_t)sizeof rnd)
        memset(rnd, 0, sizeof rnd);
    printf("rrprobe %s realtime=%lld monotonic=%lld tsc=%llu\n", label,
           (long long)ns(CLOCK_REALTIME), (long long)ns(CLOCK_MONOTONIC),
           (unsigned long long)rdtsc());
    printf("rrprobe %s random=", label);
    for (size_t i = 0; i < sizeof rnd; i++)
        printf("%02x", rnd[i]);
    printf("\n");
    for (int i = 0; i < 3; i++)
        printf("rrprobe %s loops-per-ms=%lu\n", label, loops_per_ms());
    printf("rrprobe %s interrupts=%lu\n", label, interrupts());
    return 0;
}
