#include "core/log.h"

#include <errno.h>
#include <stdarg.h>
#include <string.h>

const LogItem log_items[] = {
    { LOG_IN_ASM, "in_asm", "guest code of each translated block" },
    { LOG_OUT_ASM, "out_asm", "host code generated for each block" },
    { LOG_OP, "op", "IR of each block" },
    { LOG_OP_OPT, "op_opt", "IR after optimisation" },
    { LOG_INT, "int", "exceptions and interrupts" },
    { LOG_EXEC, "exec", "each block as it runs" },
    { LOG_CPU, "cpu", "CPU state before each block" },
    { LOG_UNIMP, "unimp", "unassigned accesses and unimplemented features" },
    { LOG_GUEST_ERRORS, "guest_errors", "guest misuse of devices" },
    { LOG_ACCEL, "accel", "which accelerator runs and why" },
    { LOG_CPU_EXIT, "cpu_exit", "architectural CPU state when the run ends" },
    { 0, NULL, NULL },
};

unsigned log_mask;
FILE *log_file;

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
