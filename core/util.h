/* Small helpers: allocation that cannot fail silently, error strings. */
#ifndef VX86_CORE_UTIL_H
#define VX86_CORE_UTIL_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

void *xmalloc(size_t n);
void *xcalloc(size_t n, size_t size);
void *xrealloc(void *p, size_t n);
char *xstrdup(const char *s);
char *xasprintf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* Sets *err (when err is not NULL) to a malloc'ed formatted message. */
void set_error(char **err, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Reads a whole file; NULL with a message in err on failure. */
uint8_t *read_file(const char *path, size_t *len, char *err, size_t errlen);

/* The host's monotonic clock in nanoseconds (timeouts, rates, durations;
 * never the guest's time, which is core/clock.h's). */
static inline int64_t host_monotonic_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))
#define MIN(a, b) ((a) < (b) ? (a) : (b))
#define MAX(a, b) ((a) > (b) ? (a) : (b))

#endif
