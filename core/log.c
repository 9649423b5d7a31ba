#include "core/log.h"

#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

const LogItem log_items[] = {
    { LOG_IN_ASM, "in_asm", "guest code of each translated block" },
    { LOG_OUT_ASM, "out_asm", "host code generated for each block" },
    { LOG_OP, "op", "IR of each block" },
    { LOG_OP_OPT, "op_opt", "IR after optimisation" },
    { LOG_INT, "int", "exceptions and interrupts: vector, name, error code, CS:IP, CPL change" },
    { LOG_EXEC, "exec", "each block as it runs" },
    { LOG_CPU, "cpu", "CPU state before each block" },
    { LOG_UNIMP, "unimp", "unassigned accesses and unimplemented features" },
    { LOG_GUEST_ERRORS, "guest_errors", "guest misuse of devices" },
    { LOG_ACCEL, "accel", "which accelerator runs and why" },
    { LOG_CPU_EXIT, "cpu_exit", "architectural CPU state when the run ends" },
    { LOG_MMU, "mmu", "page walks: CR3, each entry and its bits, the address or the fault and why" },
    { LOG_PCALL, "pcall", "far calls/jumps/returns (through gates or straight to a code segment), SYSCALL/SYSRET, SYSENTER/SYSEXIT, task switches, IDT gates taken" },
    { LOG_IOPORT, "ioport", "port reads and writes: size, value and the device that handled them" },
    { 0, NULL, NULL },
};

unsigned log_mask;
FILE *log_file;
static LogRange log_ranges[LOG_MAX_RANGES];
static int log_nranges;

/* One number: decimal, 0x hex or 0 octal, the whole text. */
static bool parse_addr(const char *s, size_t n, uint64_t *v)
{
    char buf[32];
    if (n == 0 || n >= sizeof(buf))
        return false;
    memcpy(buf, s, n);
    buf[n] = 0;
    char *end;
    errno = 0;
    *v = strtoull(buf, &end, 0);
    return errno == 0 && *end == 0 && buf[0] != '-' && buf[0] != '+';
}

static bool parse_range(const char *s, size_t n, LogRange *r)
{
    const char *dots = memmem(s, n, "..", 2);
    const char *sep = dots ? dots : memchr(s, '+', n);
    if (!sep && n > 1)
        sep = memchr(s + 1, '-', n - 1);
    uint64_t a, b;
    if (!sep || !parse_addr(s, (size_t)(sep - s), &a))
        return false;
    size_t skip = dots ? 2 : 1;
    if (!parse_addr(sep + skip, n - (size_t)(sep - s) - skip, &b))
        return false;
    if (dots) {
        if (b < a)
            return false;
        *r = (LogRange){ a, b };
    } else if (*sep == '+') {
        if (b == 0 || a + (b - 1) < a)
            return false;
        *r = (LogRange){ a, a + (b - 1) };
    } else {
        if (b == 0 || b - 1 > a)
            return false;
        *r = (LogRange){ a - (b - 1), a };
    }
    return true;
}

bool log_parse_ranges(const char *list, LogRange *r, int *n, char *err, size_t errlen)
{
    int count = 0;
    const char *p = list;
    do {
        size_t len = strcspn(p, ",");
        if (count == LOG_MAX_RANGES) {
            snprintf(err, errlen, "more than %d ranges", LOG_MAX_RANGES);
            return false;
        }
        if (!parse_range(p, len, &r[count])) {
            snprintf(err, errlen, "bad range '%.*s' (START+LEN, START..END or END-LEN)",
                     (int)len, p);
            return false;
        }
        count++;
        p += len;
    } while (*p++ == ',');
    *n = count;
    return true;
}

void log_set_ranges(const LogRange *r, int n)
{
    log_nranges = n < LOG_MAX_RANGES ? n : LOG_MAX_RANGES;
    memcpy(log_ranges, r, (size_t)log_nranges * sizeof(*r));
}

bool log_block_selected(uint64_t start, uint64_t end)
{
    if (!log_nranges)
        return true;
    for (int i = 0; i < log_nranges; i++)
        if (start <= log_ranges[i].end && end >= log_ranges[i].start)
            return true;
    return false;
}

bool log_parse_mask(const char *list, unsigned *mask, char *bad, size_t badlen)
{
    unsigned m = 0;
    const char *p = list;
    while (*p) {
        size_t n = strcspn(p, ",");
        bool found = false;
        if (n == 3 && !strncmp(p, "all", 3)) {
            for (const LogItem *it = log_items; it->name; it++)
                m |= it->mask;
            found = true;
        }
        for (const LogItem *it = log_items; it->name && !found; it++) {
            if (strlen(it->name) == n && !strncmp(it->name, p, n)) {
                m |= it->mask;
                found = true;
            }
        }
        if (!found) {
            snprintf(bad, badlen, "%.*s", (int)n, p);
            return false;
        }
        p += n;
        if (*p == ',')
            p++;
    }
    *mask = m;
    return true;
}

bool log_open_file(const char *path, char *err, size_t errlen)
{
    FILE *f = fopen(path, "w");
    if (!f) {
        snprintf(err, errlen, "%s: %s", path, strerror(errno));
        return false;
    }
    setvbuf(f, NULL, _IOLBF, 0);
    log_file = f;
    return true;
}

void log_printf(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vfprintf(log_file ? log_file : stderr, fmt, ap);
    va_end(ap);
}
