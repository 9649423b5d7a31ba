/*
 * singlestep: runs the SingleStepTests 80286 real-mode vectors through the
 * translator and an execution engine, and compares the final state.
 *
 *   tests/cpu/singlestep [--engine interp|x86_64|both] [--verbose]
 *                        [--dir DIR] [--limit N] [FILE-or-OPCODE ...]
 *
 * Per the data set's README: zeroed memory (1 MiB + 64 KiB and more), A20
 * on, real mode, segment bases = selector * 16, flags loaded as
 * initial & 0x0FFF, port reads 0xFF, run until HLT; compare the listed
 * registers (flags under the metadata's undefined-flag mask) and the
 * listed memory bytes.  Tests where the 286 and a 386+ CPU legitimately
 * differ are skipped under a named category, counted and printed.
 * Exit status: 0 when nothing failed.
 */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/machine.h"
#include "core/util.h"
#include "cpu/cpu.h"
#include "cpu/decode.h"
#include "tests/cpu/moo.h"

/* The data set lives outside the repository, in ../shared/testdata/ next
 * to the checkout's root.  tests/cpu/cpu.mk passes that directory as
 * SINGLESTEP_DEFAULT_DIR; a binary built without it finds the data from
 * its own place (<root>/tests/cpu/singlestep). */
#define DATA_SUBDIR "shared/testdata/80286/v1_real_mode"

static const char *default_dir(void)
{
#ifdef SINGLESTEP_DEFAULT_DIR
    return SINGLESTEP_DEFAULT_DIR;
#else
    static char path[4096];
    char exe[4000];
    ssize_t n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
    if (n <= 0)
        return "../shared/testdata/80286/v1_real_mode";   /* run from the root */
    exe[n] = 0;
    char *slash = strrchr(exe, '/');
    if (slash)
        *slash = 0;
    snprintf(path, sizeof(path), "%s/../../../" DATA_SUBDIR, exe);
    return path;
#endif
}
#define RAM_SIZE (2u << 20)

enum {
    SKIP_LOCK, SKIP_LONG, SKIP_ESC, SKIP_SS_WRAP, SKIP_FSGS, SKIP_PARTIAL, SKIP_NB
};
static const char *const skip_names[SKIP_NB] = {
    [SKIP_LOCK] = "LOCK prefix on a non-lockable form (286 runs it, 386+ raises #UD)",
    [SKIP_LONG] = "longer than 10 bytes (286 limit; 386+ allows 15)",
    [SKIP_ESC] = "ESC opcode D8 (the 286 ran it without a coprocessor)",
    [SKIP_SS_WRAP] = "word access wrapping SS at 0xFFFF (286 #GP, 386+ #SS)",
    [SKIP_FSGS] = "MOV to/from Sreg 4/5 (286: #UD; 386+: FS/GS)",
    [SKIP_PARTIAL] = "segment-wrap #GP after the 286 already moved SP/SI/DI (386+ faults restartably)",
};

typedef struct Runner {
    Machine *m;
    CPUState *cpu;
    Json *meta;
    bool verbose;
    const char *engine;
    unsigned long passed, failed, skipped[SKIP_NB];
} Runner;

static const char *const reg_names[MOO_NREGS] = {
    "ax", "bx", "cx", "dx", "cs", "ss", "ds", "es", "sp", "bp", "si", "di", "ip", "flags",
};

/* The undefined-flags mask for the file name "F6.6.MOO.gz" etc. */
static uint16_t flags_mask_for(const Json *meta, const char *base)
{
    char op[8] = { 0 }, ext[4] = { 0 };
    const char *dot = strchr(base, '.');
    size_t n = dot ? (size_t)(dot - base) : strlen(base);
    if (n >= sizeof(op))
        return 0xffff;
    memcpy(op, base, n);
    if (dot && dot[1] >= '0' && dot[1] <= '7' && dot[2] == '.')
        ext[0] = dot[1];
    const Json *e = json_get(json_get(meta, "opcodes"), op);
    if (ext[0] && json_get(e, "reg"))
        e = json_get(json_get(e, "reg"), ext);
    const Json *m = json_get(e, "flags-mask");
    uint16_t mask = m && m->type == JSON_NUM ? (uint16_t)m->num : 0xffff;
    /* README: C0.0-C0.3 (rotate r/m8 by imm8) lack the OF mask. */
    if (!strncmp(base, "C0.", 3) && ext[0] >= '0' && ext[0] <= '3')
        mask &= 0xf7ff;
    return mask;
}

static void load_state(Runner *r, const MooTest *t)
{
    CPUState *cpu = r->cpu;
    cpu_reset(cpu);
    cpu_set_cr(cpu, 0, 0);
    const uint16_t *v = t->init.regs;
    static const int gpr[8] = { MOO_AX, MOO_CX, MOO_DX, MOO_BX, MOO_SP, MOO_BP, MOO_SI, MOO_DI };
    for (int i = 0; i < 8; i++)
        cpu->regs[i] = v[gpr[i]];
    cpu_set_seg_real(cpu, R_CS, v[MOO_CS]);
    cpu_set_seg_real(cpu, R_SS, v[MOO_SS]);
    cpu_set_seg_real(cpu, R_DS, v[MOO_DS]);
    cpu_set_seg_real(cpu, R_ES, v[MOO_ES]);
    cpu->rip = v[MOO_IP];
    cpu_set_eflags(cpu, (v[MOO_FLAGS] & 0x0fff) | 2);
    for (uint32_t i = 0; i < t->init.nram; i++)
        if (t->init.ram_addr[i] < RAM_SIZE)
            r->m->ram[t->init.ram_addr[i]] = t->init.ram_val[i];
    cpu_flush_code(cpu);
}

static void clear_ram(Runner *r, const MooTest *t)
{
    for (uint32_t i = 0; i < t->init.nram; i++)
        if (t->init.ram_addr[i] < RAM_SIZE)
            r->m->ram[t->init.ram_addr[i]] = 0;
    for (uint32_t i = 0; i < t->fina.nram; i++)
        if (t->fina.ram_addr[i] < RAM_SIZE)
            r->m->ram[t->fina.ram_addr[i]] = 0;
}

static uint16_t cpu_reg(CPUState *cpu, int r)
{
    switch (r) {
    case MOO_AX: return (uint16_t)cpu->regs[R_EAX];
    case MOO_BX: return (uint16_t)cpu->regs[R_EBX];
    case MOO_CX: return (uint16_t)cpu->regs[R_ECX];
    case MOO_DX: return (uint16_t)cpu->regs[R_EDX];
    case MOO_CS: return (uint16_t)cpu->seg[R_CS].selector;
    case MOO_SS: return (uint16_t)cpu->seg[R_SS].selector;
    case MOO_DS: return (uint16_t)cpu->seg[R_DS].selector;
    case MOO_ES: return (uint16_t)cpu->seg[R_ES].selector;
    case MOO_SP: return (uint16_t)cpu->regs[R_ESP];
    case MOO_BP: return (uint16_t)cpu->regs[R_EBP];
    case MOO_SI: return (uint16_t)cpu->regs[R_ESI];
    case MOO_DI: return (uint16_t)cpu->regs[R_EDI];
    case MOO_IP: return (uint16_t)cpu->rip;
    default: return (uint16_t)cpu_get_eflags(cpu);
    }
}

/* Which named 286-vs-386 difference applies before running, or -1. */
static int skip_before(const MooTest *t, const char *base)
{
    if (!strncmp(base, "D8", 2))
        return SKIP_ESC;
    if (t->nbytes > 11)
        return SKIP_LONG;
    /* 8C/8E with ModRM.reg 4 or 5 names FS/GS on a 386+. */
    uint32_t k = 0;
    while (k < t->nbytes && (t->bytes[k] == 0x26 || t->bytes[k] == 0x2e ||
                             t->bytes[k] == 0x36 || t->bytes[k] == 0x3e || t->bytes[k] == 0xf0))
        k++;
    if (k + 1 < t->nbytes && (t->bytes[k] == 0x8c || t->bytes[k] == 0x8e) &&
        ((t->bytes[k + 1] >> 3) & 7) >= 4 && ((t->bytes[k + 1] >> 3) & 7) <= 5)
        return SKIP_FSGS;
    /* A LOCK prefix among the prefix bytes, on a form a 386+ refuses. */
    bool lock = false;
    for (uint32_t i = 0; i < t->nbytes; i++) {
        uint8_t b = t->bytes[i];
        if (b == 0xf0)
            lock = true;
        else if (b != 0x26 && b != 0x2e && b != 0x36 && b != 0x3e && b != 0xf2 && b != 0xf3)
            break;
    }
    if (lock) {
        X86Insn insn;
        if (x86_decode(t->bytes, t->nbytes, X86_MODE16, &insn) != X86_DECODE_OK ||
            !(insn.flags & X86_F_LOCK) || insn.op[0].kind != X86_OPK_MEM)
            return SKIP_LOCK;
    }
    return -1;
}

/* Instructions that step SP, SI or DI as they access memory. */
static bool moves_sp_si_di(const MooTest *t)
{
    X86Insn insn;
    if (x86_decode(t->bytes, t->nbytes, X86_MODE16, &insn) != X86_DECODE_OK)
        return false;
    switch (insn.mnem) {
    case X86_MOVS: case X86_CMPS: case X86_STOS: case X86_LODS: case X86_SCAS:
    case X86_INS: case X86_OUTS: case X86_POP: case X86_POPA: case X86_POPF:
    case X86_RET: case X86_RETF: case X86_IRET: case X86_LEAVE: case X86_PUSH:
    case X86_PUSHA: case X86_PUSHF: case X86_CALL: case X86_CALLF:
        return true;
    default:
        return false;
    }
}

static void hexbytes(const MooTest *t, char *out, size_t len)
{
    size_t o = 0;
    for (uint32_t i = 0; i < t->nbytes && o + 4 < len; i++)
        o += (size_t)snprintf(out + o, len - o, "%02X ", t->bytes[i]);
}

/* Runs one test; returns 1 pass, 0 fail, -1-k skipped under category k. */
static int run_test(Runner *r, const MooTest *t, const char *base, uint16_t fmask)
{
    int skip = skip_before(t, base);
    if (skip >= 0)
        return -1 - skip;
    load_state(r, t);
    CPUState *cpu = r->cpu;
    cpu->insn_budget = 200;
    cpu->first_exception = -1;
    int rc = cpu_exec(cpu, INT64_MAX);
    cpu->insn_budget = 0;
    if (t->has_exc && t->exc_vector == 13 && cpu->first_exception == 12) {
        clear_ram(r, t);
        return -1 - SKIP_SS_WRAP;
    }
    char diff[1024];
    size_t dl = 0;
    diff[0] = 0;
    if (rc != CPU_EXIT_HALTED)
        dl += (size_t)snprintf(diff + dl, sizeof(diff) - dl, " [did not halt: exit %d]", rc);
    for (int k = 0; k < MOO_NREGS && dl < sizeof(diff) - 64; k++) {
        uint16_t exp = (t->fina.mask & (1u << k)) ? t->fina.regs[k] : t->init.regs[k];
        uint16_t act = cpu_reg(cpu, k);
        if (k == MOO_FLAGS) {
            exp &= 0x0fff & fmask;
            act &= 0x0fff & fmask;
        }
        if (exp != act)
            dl += (size_t)snprintf(diff + dl, sizeof(diff) - dl, " %s=%04x(want %04x)",
                                   reg_names[k], act, exp);
    }
    /* The FLAGS word an exception pushed: first push below the initial
     * SS:SP.  (EXCP's flags_address is the word-aligned bus address, one
     * byte off when SP is odd, so it is recomputed here.) */
    uint32_t ss_base = (uint32_t)t->init.regs[MOO_SS] << 4, sp0 = t->init.regs[MOO_SP];
    uint32_t fl_lo = ss_base + ((sp0 - 2) & 0xffff), fl_hi = ss_base + ((sp0 - 1) & 0xffff);
    for (uint32_t i = 0; i < t->fina.nram && dl < sizeof(diff) - 64; i++) {
        uint32_t a = t->fina.ram_addr[i];
        uint8_t exp = t->fina.ram_val[i];
        uint8_t act = a < RAM_SIZE ? r->m->ram[a] : 0xff;
        if (t->has_exc && (a == fl_lo || a == fl_hi)) {
            uint8_t m = a == fl_lo ? (uint8_t)fmask : (uint8_t)((fmask & 0x0fff) >> 8);
            exp &= m;
            act &= m;
        }
        if (exp != act)
            dl += (size_t)snprintf(diff + dl, sizeof(diff) - dl, " [%06x]=%02x(want %02x)",
                                   a, act, exp);
    }
    clear_ram(r, t);
    if (!dl)
        return 1;
    if (t->has_exc && t->exc_vector == 13 && cpu->first_exception == 13 && moves_sp_si_di(t))
        return -1 - SKIP_PARTIAL;
    if (r->verbose) {
        char hb[128];
        hexbytes(t, hb, sizeof(hb));
        printf("  FAIL %s #%u '%s' bytes %s:%s", base, t->index, t->name, hb, diff);
        if (t->has_exc)
            printf(" (286 took vector %u, flags at %06x)", t->exc_vector, t->exc_flags_addr);
        if (cpu->last_exception >= 0)
            printf(" (we took vector %d)", cpu->last_exception);
        printf("\n");
    }
    return 0;
}

static int run_file(Runner *r, const char *path, unsigned limit)
{
    char err[256];
    MooFile *f = moo_load(path, err, sizeof(err));
    if (!f) {
        fprintf(stderr, "singlestep: %s\n", err);
        return -1;
    }
    const char *base = strrchr(path, '/');
    base = base ? base + 1 : path;
    uint16_t fmask = flags_mask_for(r->meta, base);
    unsigned long pass = 0, fail = 0, skip = 0;
    for (uint32_t i = 0; i < f->ntests && (!limit || i < limit); i++) {
        int res = run_test(r, &f->tests[i], base, fmask);
        if (res == 1) {
            pass++;
        } else if (res == 0) {
            fail++;
        } else {
            skip++;
            r->skipped[-1 - res]++;
        }
    }
    r->passed += pass;
    r->failed += fail;
    if (fail || r->verbose)
        printf("%-14s %5lu passed %5lu failed %5lu skipped\n", base, pass, fail, skip);
    moo_free(f);
    return 0;
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static Json *load_meta(const char *dir)
{
    char path[1024], err[256];
    snprintf(path, sizeof(path), "%s/metadata.json", dir);
    size_t len;
    uint8_t *text = read_file(path, &len, err, sizeof(err));
    if (!text) {
        fprintf(stderr, "singlestep: %s\n", err);
        return NULL;
    }
    text = xrealloc(text, len + 1);
    text[len] = 0;
    Json *j = json_parse((const char *)text, err, sizeof(err));
    free(text);
    if (!j)
        fprintf(stderr, "singlestep: %s: %s\n", path, err);
    return j;
}

static int run_engine(const char *engine, const char *dir, char **files, int nfiles,
                      bool verbose, unsigned limit, Json *meta)
{
    char err[256];
    Runner r = { .meta = meta, .verbose = verbose, .engine = engine };
    r.m = machine_new(RAM_SIZE, CLOCK_MANUAL, err, sizeof(err));
    if (!r.m) {
        fprintf(stderr, "singlestep: %s\n", err);
        return 2;
    }
    char *merr = NULL;
    memmap_add_ram(r.m->mem, "ram", 0, RAM_SIZE, r.m->ram, &merr);
    CPUConfig cfg = CPU_CONFIG_DEFAULT;
    cfg.engine = engine;
    r.cpu = cpu_create(r.m, 0, &cfg, err, sizeof(err));
    if (!r.cpu) {
        fprintf(stderr, "singlestep: %s\n", err);
        machine_free(r.m);
        return 2;
    }
    for (int i = 0; i < nfiles; i++) {
        char path[1024];
        if (strchr(files[i], '/'))
            snprintf(path, sizeof(path), "%s", files[i]);
        else if (strstr(files[i], ".MOO"))
            snprintf(path, sizeof(path), "%s/%s", dir, files[i]);
        else
            snprintf(path, sizeof(path), "%s/%s.MOO.gz", dir, files[i]);
        if (run_file(&r, path, limit) < 0)
            r.failed++;
    }
    unsigned long skipped = 0;
    for (int k = 0; k < SKIP_NB; k++)
        skipped += r.skipped[k];
    printf("engine %s: %lu passed, %lu failed, %lu skipped\n", engine, r.passed, r.failed,
           skipped);
    for (int k = 0; k < SKIP_NB; k++)
        printf("  skipped %6lu: %s\n", r.skipped[k], skip_names[k]);
    cpu_free(r.cpu);
    machine_free(r.m);
    return r.failed ? 1 : 0;
}

int main(int argc, char **argv)
{
    const char *dir = default_dir(), *engine = "interp";
    bool verbose = false;
    unsigned limit = 0;
    char **files = xcalloc((size_t)argc + 1, sizeof(char *));
    int nfiles = 0;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--verbose") || !strcmp(argv[i], "-v"))
            verbose = true;
        else if (!strcmp(argv[i], "--engine") && i + 1 < argc)
            engine = argv[++i];
        else if (!strcmp(argv[i], "--dir") && i + 1 < argc)
            dir = argv[++i];
        else if (!strcmp(argv[i], "--limit") && i + 1 < argc)
            limit = (unsigned)strtoul(argv[++i], NULL, 0);
        else if (argv[i][0] == '-') {
            fprintf(stderr, "usage: singlestep [--engine interp|x86_64|both] [--verbose] "
                            "[--dir DIR] [--limit N] [FILE-or-OPCODE ...]\n");
            return 2;
        } else
            files[nfiles++] = argv[i];
    }
    if (!nfiles) {
        DIR *d = opendir(dir);
        if (!d) {
            fprintf(stderr, "singlestep: cannot open test directory %s\n", dir);
            return 2;
        }
        size_t cap = 512;
        files = xrealloc(files, cap * sizeof(char *));
        struct dirent *e;
        while ((e = readdir(d))) {
            if (!strstr(e->d_name, ".MOO.gz"))
                continue;
            if ((size_t)nfiles == cap)
                files = xrealloc(files, (cap *= 2) * sizeof(char *));
            files[nfiles++] = xstrdup(e->d_name);
        }
        closedir(d);
        qsort(files, (size_t)nfiles, sizeof(char *), cmp_str);
    }
    Json *meta = load_meta(dir);
    if (!meta)
        return 2;
    int rc = 0;
    if (!strcmp(engine, "both")) {
        rc |= run_engine("interp", dir, files, nfiles, verbose, limit, meta);
        rc |= run_engine("x86_64", dir, files, nfiles, verbose, limit, meta);
    } else {
        rc = run_engine(engine, dir, files, nfiles, verbose, limit, meta);
    }
    json_free(meta);
    return rc;
}
