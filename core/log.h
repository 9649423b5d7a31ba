/*
 * Debug logging selected with -d LIST and sent to -D FILE (stderr by default).
 * Process-wide on purpose: it is the user's debugging switchboard, not
 * machine state.
 */
#ifndef VX86_CORE_LOG_H
#define VX86_CORE_LOG_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

enum {
    LOG_IN_ASM  = 1u << 0,  /* guest code of each translated block */
    LOG_OUT_ASM = 1u << 1,  /* host code of each block */
    LOG_OP      = 1u << 2,  /* IR of each block */
    LOG_INT     = 1u << 3,  /* exceptions and interrupts */
    LOG_EXEC    = 1u << 4,  /* each block executed */
    LOG_CPU     = 1u << 5,  /* CPU state before each block */
    LOG_UNIMP   = 1u << 6,  /* unassigned memory/port accesses, unimplemented features */
    LOG_GUEST_ERRORS = 1u << 7, /* guest misprogramming of devices */
    LOG_ACCEL   = 1u << 8,  /* which accelerator runs and why */
    LOG_OP_OPT  = 1u << 9,  /* IR after optimisation */
    LOG_CPU_EXIT = 1u << 10, /* architectural CPU state when the run ends */
    LOG_MMU     = 1u << 11, /* each page walk: entries, result or fault and why */
    LOG_PCALL   = 1u << 12, /* far transfers (gates or direct), SYSCALL/SYSENTER and returns, task switches */
    LOG_IOPORT  = 1u << 13, /* each port read/write with the device that handled it */
};

typedef struct LogItem {
    unsigned mask;
    const char *name;
    const char *help;
} LogItem;

extern const LogItem log_items[];
extern unsigned log_mask;
extern FILE *log_file;

/* Parses "in_asm,op,int" into a mask.  Returns false and names the bad
 * item in *bad (a pointer into a static copy) when one is unknown. */
bool log_parse_mask(const char *list, unsigned *mask, char *bad, size_t badlen);
bool log_open_file(const char *path, char *err, size_t errlen);
void log_printf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

static inline bool log_enabled(unsigned what) { return (log_mask & what) != 0; }

/* -dfilter: guest address ranges the per-block items (in_asm, op, op_opt,
 * out_asm, exec, cpu) are limited to, the linear addresses mmu walks and
 * the code addresses int and pcall transfers start from; none means
 * everything. */
#define LOG_MAX_RANGES 16
typedef struct LogRange {
    uint64_t start, end;      /* inclusive */
} LogRange;

/* Parses "0x1000+0x100,0x2000..0x2fff,0x3000-0x10" (start+length,
 * start..end, end-length, as QEMU's -dfilter).  On error names the bad
 * range in err. */
bool log_parse_ranges(const char *list, LogRange *r, int *n, char *err, size_t errlen);
void log_set_ranges(const LogRange *r, int n);
/* Whether a block whose code spans [start, end] is selected. */
bool log_block_selected(uint64_t start, uint64_t end);
#define LOG(what, ...) do { if (log_enabled(what)) log_printf(__VA_ARGS__); } while (0)

#endif
