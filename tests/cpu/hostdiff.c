/*
 * hostdiff: runs the same randomly generated instruction sequences on the
 * host CPU (natively, in a child process) and under vx86's translator, in
 * 64-bit mode and in 32-bit compatibility mode, and compares registers,
 * flags (minus those the SDM calls undefined for the sequence), the data
 * page and the exception (vector and error code; CR2 for #PF).  See
 * docs/hostdiff.md.
 *
 *   tests/cpu/hostdiff [--mode 64|32] [--engine interp|x86_64|both]
 *                      [--seed N] [--count N] [--first N] [--show N]
 *                      [--verbose] [--no-selftest]
 *
 * Case `i` of seed `s` is always the same sequence: a failure printed as
 * "seed S case I" is rerun alone with --seed S --first I --count 1 -v.
 * Without the vx86 CPU in the build, the vx86 half prints a SKIP line and
 * the native half checks itself (every case run twice, compared exactly).
 * Hand-written sequences with results derived from the SDM run first.
 * The host is probed once (hostdiff-probe.c): a host that cannot run
 * 32-bit compatibility-mode code skips mode 32 with one SKIP line, and a
 * case whose host run ended as a learned INT n quirk while vx86 did what
 * the SDM says is counted as excluded, not failed.
 * Exit status: non-zero on any failure.
 */
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cpu/decode.h"
#include "cpu/disas.h"
#include "tests/cpu/hostdiff.h"

#define BATCH 2000

typedef struct Options {
    int mode;
    int group;
    const char *engine;
    uint64_t seed, count, first;
    unsigned show;
    bool verbose, selftest;
} Options;

/* One side of a comparison. */
typedef struct Outcome {
    HDState st;
    HDResult res;
    const HDMemory *mem;
    const HDFpu *fpu;
} Outcome;

/* FXSAVE bytes compared: everything but FOP/FIP/FDP (6-23: AMD stores
 * them only when an exception is pending, Intel by its FDP rules) and
 * MXCSR_MASK (28-31, model-specific), and the unused tail (416-511). */
static bool fx_byte_compared(size_t i)
{
    return i < 416 && !(i >= 6 && i < 24) && !(i >= 28 && i < 32);
}

static const char *fx_field(size_t i, char *buf, size_t len)
{
    if (i < 2) return "fcw";
    if (i < 4) return "fsw";
    if (i < 6) return "ftw";
    if (i < 28) return "mxcsr";
    if (i < 160)
        snprintf(buf, len, "st%zu", (i - 32) / 16);
    else
        snprintf(buf, len, "xmm%zu", (i - 160) / 16);
    return buf;
}

static const char *const reg_names[16] = {
    "rax", "rcx", "rdx", "rbx", "rsp", "rbp", "rsi", "rdi",
    "r8", "r9", "r10", "r11", "r12", "r13", "r14", "r15",
};

static void outcome_str(const Outcome *o, char *out, size_t len)
{
    if (o->res.crashed)
        snprintf(out, len, "harness error: %.200s", o->res.note);
    else if (o->res.vector < 0)
        snprintf(out, len, "completed");
    else if (o->res.vector == 14)
        snprintf(out, len, "%s (vector %d, error %#x, cr2 %" PRIx64 ", signal %d)",
                 hd_vector_name(o->res.vector), o->res.vector, o->res.error, o->res.cr2,
                 o->res.signo);
    else
        snprintf(out, len, "%s (vector %d, error %#x, signal %d)", hd_vector_name(o->res.vector),
                 o->res.vector, o->res.error, o->res.signo);
}

/* Compares two outcomes of case c; appends differences to diff.  flag_mask
 * is ANDed with the flags the SDM leaves undefined at the stop point
 * removed (pass ~0 to compare every tested flag). */
static bool outcomes_equal(const HDCase *c, const Outcome *a, const Outcome *b,
                           bool mask_undefined, char *diff, size_t len)
{
    size_t o = 0;
    diff[0] = 0;
#define ADD(...) \
    do { if (o < len) o += (size_t)snprintf(diff + o, len - o, __VA_ARGS__); } while (0)
    if (a->res.crashed || b->res.crashed) {
        char s1[256], s2[256];
        outcome_str(a, s1, sizeof(s1));
        outcome_str(b, s2, sizeof(s2));
        ADD(" [%s | %s]", s1, s2);
        return false;
    }
    /* FNSAVE/FNSTENV/FRSTOR/FLDENV faulting on a page: the byte the host reports in CR2
     * follows its internal store order (AMD: not the first byte); only
     * the page is compared. */
    uint64_t cr2_mask = ~0ull;
    if (a->res.vector == 14) {
        for (int k = 0; k < c->ninsn; k++)
            if ((uint64_t)HD_CODE_ADDR + c->insn_off[k] == a->st.rip &&
                (c->insn_mnem[k] == X86_FNSAVE || c->insn_mnem[k] == X86_FNSTENV ||
                 c->insn_mnem[k] == X86_FRSTOR || c->insn_mnem[k] == X86_FLDENV))
                cr2_mask = ~0xfffull;
    }
    if (a->res.vector != b->res.vector || a->res.error != b->res.error ||
        ((a->res.cr2 ^ b->res.cr2) & cr2_mask)) {
        char s1[256], s2[256];
        outcome_str(a, s1, sizeof(s1));
        outcome_str(b, s2, sizeof(s2));
        ADD(" exception: %s, want %s;", s2, s1);
    }
    if (a->st.rip != b->st.rip)
        ADD(" rip=%" PRIx64 " want %" PRIx64 ";", b->st.rip, a->st.rip);
    int n = c->mode == 64 ? 16 : 8;
    uint64_t rmask = c->mode == 64 ? ~0ull : 0xffffffffull;
    for (int i = 0; i < n; i++)
        if ((a->st.gpr[i] ^ b->st.gpr[i]) & rmask)
            ADD(" %s=%" PRIx64 " want %" PRIx64 ";", reg_names[i], b->st.gpr[i] & rmask,
                a->st.gpr[i] & rmask);
    uint32_t fm = HD_FLAGS_TESTED;
    if (mask_undefined)
        fm &= ~hd_undef_at(c, a->st.rip, a->res.vector);
    uint32_t fd = (uint32_t)(a->st.rflags ^ b->st.rflags) & fm;
    if (fd)
        ADD(" rflags=%" PRIx64 " want %" PRIx64 " (differ %x, compared %x);",
            b->st.rflags, a->st.rflags, fd, fm);
    int shown = 0;
    for (size_t i = 0; i < HD_PAGE_SIZE; i++)
        if (a->mem->data[i] != b->mem->data[i] && shown++ < 8)
            ADD(" [%#" PRIx64 "]=%02x want %02x;", (uint64_t)HD_DATA_ADDR + i,
                b->mem->data[i], a->mem->data[i]);
    if (shown > 8)
        ADD(" (%d bytes differ);", shown);
    if (a->fpu && b->fpu) {
        size_t last = (size_t)-1;
        for (size_t i = 0; i < 512; i++) {
            if (!fx_byte_compared(i) || a->fpu->fx[i] == b->fpu->fx[i])
                continue;
            char nb[16];
            const char *f = fx_field(i, nb, sizeof(nb));
            size_t start = i < 6 ? i & ~1u : i < 32 ? 24 : i & ~15u;
            if (start == last)
                continue;
            last = start;
            size_t n = i < 6 ? 2 : i < 32 ? 4 : 16;
            ADD(" %s=", f);
            for (size_t k = n; k-- > 0;)
                ADD("%02x", b->fpu->fx[start + k]);
            ADD(" want ");
            for (size_t k = n; k-- > 0;)
                ADD("%02x", a->fpu->fx[start + k]);
            ADD(";");
        }
    }
#undef ADD
    return diff[0] == 0;
}

static void print_case(const HDCase *c, uint64_t seed, uint64_t index)
{
    char dis[2048];
    printf("    seed %" PRIu64 " case %" PRIu64 " mode %d (rerun: --seed %" PRIu64
           " --first %" PRIu64 " --count 1 --mode %d -v)\n",
           seed, index, c->mode, seed, index, c->mode);
    x86_disas(c->code, c->len, HD_CODE_ADDR, c->mode, dis, sizeof(dis));
    for (char *line = strtok(dis, "\n"); line; line = strtok(NULL, "\n"))
        printf("      %s\n", line);
    printf("    in:");
    for (int i = 0; i < (c->mode == 64 ? 16 : 8); i++)
        printf(" %s=%" PRIx64, reg_names[i], c->in.gpr[i]);
    printf(" rflags=%" PRIx64 "\n", c->in.rflags);
    if (c->group != HD_GROUP_INT) {
        uint32_t mxcsr;
        memcpy(&mxcsr, c->fin.fx + 24, 4);
        printf("    fpu in: fcw=%02x%02x mxcsr=%08x\n", c->fin.fx[1], c->fin.fx[0], mxcsr);
        for (int i = 0; i < (c->group == HD_GROUP_SSE ? 16 : 8); i++) {
            const uint8_t *p = c->fin.fx + (c->group == HD_GROUP_SSE ? 160 : 32) + 16 * i;
            printf("      %s%d=", c->group == HD_GROUP_SSE ? "xmm" : "st", i);
            for (int k = (c->group == HD_GROUP_SSE ? 16 : 10); k-- > 0;)
                printf("%02x", p[k]);
            printf("\n");
        }
    }
    printf("    undefined flags at each boundary:");
    for (int k = 0; k <= c->ninsn; k++)
        printf(" %x", c->undef_before[k]);
    printf("\n");
}

/* ---- self-tests: hand-written sequences, expectations from the SDM ---- */
typedef struct SelfTest {
    const char *name;
    int mode;
    uint8_t code[16];
    size_t len;
    uint64_t rbx;            /* rBX on entry (others 0, flags from `fl`) */
    uint32_t fl;
    int vector;              /* expected: -1 completes */
    uint32_t error;
    uint64_t cr2;
    int signo;
    unsigned rip_off;        /* expected rip - HD_CODE_ADDR */
    int reg;                 /* register to check, -1 none */
    uint64_t value;
    uint32_t flags_set, flags_clear;
} SelfTest;

static const SelfTest self_tests[] = {
    { "64: mov rax,-1; add rax,1 -> 0, CF ZF PF AF", 64,
      { 0x48, 0xc7, 0xc0, 0xff, 0xff, 0xff, 0xff, 0x48, 0x83, 0xc0, 0x01 }, 11, 0, 0,
      -1, 0, 0, 0, 11, 0, 0, HD_CF | HD_ZF | HD_PF | HD_AF, HD_SF | HD_OF },
    { "64: xor edx,edx; xor ecx,ecx; div ecx -> #DE SIGFPE at the div", 64,
      { 0x31, 0xd2, 0x31, 0xc9, 0xf7, 0xf1 }, 6, 0, 0,
      0, 0, 0, SIGFPE, 4, -1, 0, 0, 0 },
    { "64: int3 -> #BP SIGTRAP, rip after it", 64, { 0xcc }, 1, 0, 0,
      3, 0, 0, SIGTRAP, 1, -1, 0, 0, 0 },
    { "64: ud2 -> #UD SIGILL", 64, { 0x0f, 0x0b }, 2, 0, 0,
      6, 0, 0, SIGILL, 0, -1, 0, 0, 0 },
    { "64: mov [rbx],eax across the data page end -> #PF(U|W) cr2=next page", 64,
      { 0x89, 0x03 }, 2, HD_DATA_ADDR + HD_PAGE_SIZE - 2, 0,
      14, 6, HD_DATA_ADDR + HD_PAGE_SIZE, SIGSEGV, 0, -1, 0, 0, 0 },
    { "64: mov eax,[rbx] non-canonical -> #GP(0)", 64,
      { 0x8b, 0x03 }, 2, 0x8000000000000000ull, 0,
      13, 0, 0, SIGSEGV, 0, -1, 0, 0, 0 },
    { "64: mov [rbx+8],rbx stores 8 bytes", 64,
      { 0x48, 0x89, 0x5b, 0x08, 0x48, 0x8b, 0x43, 0x08 }, 8, HD_DATA_ADDR + 0x100, 0,
      -1, 0, 0, 0, 8, 0, HD_DATA_ADDR + 0x100, 0, 0 },
    { "64: 0x48 is REX.W: 48 ff c0 = inc rax", 64, { 0x48, 0xff, 0xc0 }, 3, 0, 0,
      -1, 0, 0, 0, 3, 0, 1, 0, HD_ZF },
    { "32: into with OF=1 -> #OF SIGSEGV, rip after it", 32, { 0xce }, 1, 0, HD_OF,
      4, 0, 0, SIGSEGV, 1, -1, 0, 0, 0 },
    { "32: mov eax,0x7fffffff; add eax,1 -> OF SF", 32,
      { 0xb8, 0xff, 0xff, 0xff, 0x7f, 0x83, 0xc0, 0x01 }, 8, 0, 0,
      -1, 0, 0, 0, 8, 0, 0x80000000u, HD_OF | HD_SF | HD_AF, HD_CF | HD_ZF },
    { "32: 0x48 is DEC EAX: 0 -> 0xffffffff", 32, { 0x48 }, 1, 0, 0,
      -1, 0, 0, 0, 1, 0, 0xffffffffu, HD_SF, HD_ZF },
    { "32: int 0x40 -> #GP(0x40*8+2)", 32, { 0xcd, 0x40 }, 2, 0, 0,
      13, 0x202, 0, SIGSEGV, 0, -1, 0, 0, 0 },
    { "64: int 0x40 -> #GP(0x40*8+2) at the INT", 64, { 0xcd, 0x40 }, 2, 0, 0,
      13, 0x202, 0, SIGSEGV, 0, -1, 0, 0, 0 },
    { "64: 41 cd 40 (REX.B int 0x40) -> #GP(0x202), rip at the REX", 64,
      { 0x41, 0xcd, 0x40 }, 3, 0, 0, 13, 0x202, 0, SIGSEGV, 0, -1, 0, 0, 0 },
    { "32: cs: mov [ebx],eax -> #GP(0) (code segment not writable)", 32,
      { 0x2e, 0x89, 0x03 }, 3, HD_DATA_ADDR, 0,
      13, 0, 0, SIGSEGV, 0, -1, 0, 0, 0 },
    { "32: hlt at CPL 3 -> #GP(0)", 32, { 0xf4 }, 1, 0, 0,
      13, 0, 0, SIGSEGV, 0, -1, 0, 0, 0 },
    { "32: aam 0 -> #DE", 32, { 0xd4, 0x00 }, 2, 0, 0,
      0, 0, 0, SIGFPE, 0, -1, 0, 0, 0 },
};
#define NSELF (sizeof(self_tests) / sizeof(self_tests[0]))

/* Checks an outcome against a self-test's expectations: false with the
 * difference in why when they differ. */
static bool self_check(const SelfTest *t, const HDCase *c, const Outcome *o, char *why,
                       size_t len)
{
    why[0] = 0;
    HDMemory before;
    hd_gen_data(c, &before);
    if (o->res.crashed)
        snprintf(why, len, "%s", o->res.note);
    else if (o->res.vector != t->vector || (t->vector >= 0 && o->res.error != t->error))
        snprintf(why, len, "vector %d error %#x, want %d error %#x", o->res.vector,
                 o->res.error, t->vector, t->error);
    else if (t->vector == 14 && o->res.cr2 != t->cr2)
        snprintf(why, len, "cr2 %#" PRIx64 ", want %#" PRIx64, o->res.cr2, t->cr2);
    else if (t->signo && o->res.signo != t->signo)
        snprintf(why, len, "signal %d, want %d", o->res.signo, t->signo);
    else if (o->st.rip != HD_CODE_ADDR + t->rip_off)
        snprintf(why, len, "rip %#" PRIx64 ", want %#" PRIx64, o->st.rip,
                 (uint64_t)HD_CODE_ADDR + t->rip_off);
    else if (t->reg >= 0 && o->st.gpr[t->reg] != t->value)
        snprintf(why, len, "%s=%#" PRIx64 ", want %#" PRIx64, reg_names[t->reg],
                 o->st.gpr[t->reg], t->value);
    else if ((o->st.rflags & t->flags_set) != t->flags_set ||
             (o->st.rflags & t->flags_clear))
        snprintf(why, len, "rflags %#" PRIx64 ", want set %x clear %x",
                 o->st.rflags, t->flags_set, t->flags_clear);
    else if (t->vector >= 0 && memcmp(before.data, o->mem->data, HD_PAGE_SIZE))
        snprintf(why, len, "the data page changed before the exception");
    return why[0] == 0;
}

static void self_fail(const SelfTest *t, const char *who, const char *why)
{
    printf("  selftest FAIL (%s) %s: %s\n", who, t->name, why);
}

static void self_case(const SelfTest *t, HDCase *c)
{
    HDState in;
    memset(&in, 0, sizeof(in));
    in.gpr[3] = t->rbx;
    in.gpr[4] = HD_DATA_ADDR + 0x800;
    in.rflags = t->fl | HD_FLAGS_FIXED;
    hd_case_from_bytes(c, t->mode, t->code, t->len, &in);
}

/* The SDM's outcome of case c whose host run ended as a learned quirk of
 * its INT n at instruction k: the host's own state just before that INT
 * (a native replay of instructions 0..k-1, which take the same path) with
 * #GP(n*8+2) raised at the INT.  False when the replay did not run to the
 * INT. */
static bool quirk_sdm_outcome(const HDCase *c, int k, HDNativeOut *pre)
{
    static HDCase t;
    char err[200];
    t = *c;
    t.len = t.insn_off[k];
    t.ninsn = (uint8_t)k;
    if (!hd_native_run_batch(&t, 1, pre, err, sizeof(err)) || pre->res.crashed ||
        pre->res.vector >= 0 || pre->out.rip != (uint64_t)HD_CODE_ADDR + t.len)
        return false;
    memset(&pre->res, 0, sizeof(pre->res));
    pre->res.vector = 13;
    pre->res.error = (uint32_t)c->code[c->insn_off[k + 1] - 1] * 8 + 2;
    pre->res.signo = SIGSEGV;
    return true;
}

/* The INT n quirk filter must excuse only the learned host behaviour and
 * only a vx86 result that is the SDM's in every respect: a synthetic
 * quirk (int 0x17 -> #GP(0) after it, as measured on kvm_pvm hosts), the
 * native replay up to the INT, and three vx86 results. */
static int selftest_quirk_filter(void)
{
    static HDQuirks q;
    static HDCase c;
    memset(&q, 0, sizeof(q));
    q.mode = 64;
    q.intn[1][0x17] = (HDIntQuirk){ .known = true, .usable = true, .vector = 13, .error = 0,
                                    .signo = SIGSEGV, .at = HD_AT_NEXT };
    static const uint8_t code[] = { 0x48, 0xff, 0xc0, 0x41, 0xcd, 0x17 };   /* inc rax; int 0x17 */
    HDState in;
    memset(&in, 0, sizeof(in));
    in.gpr[4] = HD_DATA_ADDR + 0x800;
    in.rflags = HD_FLAGS_FIXED;
    hd_case_from_bytes(&c, 64, code, sizeof(code), &in);
    HDMemory mem;
    hd_gen_data(&c, &mem);
    Outcome host = { in, { 13, 0, 0, SIGSEGV, false, "" }, &mem, NULL };
    host.st.gpr[0] = 1;
    host.st.rip = HD_CODE_ADDR + 6;
    Outcome good = host, bad_err, bad_reg;
    char what[256], diff[1024];
    static HDNativeOut pre;
    int failed = 0;
    int k = hd_quirk_match(&q, &c, &host.st, &host.res, what, sizeof(what));
    if (k != 1 || !quirk_sdm_outcome(&c, k, &pre)) {
        printf("  selftest FAIL (quirk filter): the learned quirk was not recognised "
               "or the replay failed (int at %d)\n", k);
        return 1;
    }
    Outcome sdm = { pre.out, pre.res, &pre.mem, NULL };
    good.st.rip = HD_CODE_ADDR + 3;
    good.res.error = 0x17 * 8 + 2;
    bad_err = good;
    bad_err.res.error = 0;
    bad_reg = good;
    bad_reg.st.gpr[0] = 0;
    failed += !outcomes_equal(&c, &sdm, &good, true, diff, sizeof(diff));
    failed += outcomes_equal(&c, &sdm, &bad_err, true, diff, sizeof(diff));
    failed += outcomes_equal(&c, &sdm, &bad_reg, true, diff, sizeof(diff));
    /* A host result that is not the learned one is no quirk. */
    Outcome other = host;
    other.res.vector = 6, other.res.signo = SIGILL;
    failed += hd_quirk_match(&q, &c, &other.st, &other.res, what, sizeof(what)) >= 0;
    if (failed)
        printf("  selftest FAIL (quirk filter): %d of 4 checks\n", failed);
    return failed;
}

/* The host's INT n behaviour, learned once per mode when first needed
 * (the self-tests need both modes, the random run its own). */
typedef struct QuirkCache {
    HDQuirks mode[2];        /* [0] mode 64, [1] mode 32 */
    bool learned[2];
} QuirkCache;

static const HDQuirks *host_quirks(QuirkCache *qc, int mode)
{
    int i = mode == 32;
    if (!qc->learned[i]) {
        hd_probe_int_quirks(mode, &qc->mode[i]);
        qc->learned[i] = true;
    }
    return &qc->mode[i];
}

/* A native self-test run that missed the SDM's outcome because the host
 * ran one of its INT n as a learned quirk (a host that differs from the
 * SDM, e.g. kvm_pvm's int 0x17, or a long-mode IDT error code of n*16+2):
 * excluded, visibly, instead of failing.  The engines still must give the
 * SDM's outcome. */
static bool selftest_host_quirk(const HDCase *c, const Outcome *o, QuirkCache *qc,
                                const char *name)
{
    char what[256];
    if (hd_quirk_match(host_quirks(qc, c->mode), c, &o->st, &o->res, what, sizeof(what)) < 0)
        return false;
    printf("  selftest excluded (native) %s: %s, not the SDM's\n", name, what);
    return true;
}

/* Runs the self-tests natively (32-bit ones only when the host can run
 * them) and on each available vx86 engine (all of them: their expectations
 * come from the SDM, not from the host). */
static int run_selftests(const char *const *engines, int nengines, bool native32,
                         QuirkCache *qc)
{
    static HDCase cases[NSELF];
    static HDNativeOut nat[NSELF];
    char err[200];
    for (size_t i = 0; i < NSELF; i++)
        self_case(&self_tests[i], &cases[i]);
    if (!hd_native_run_batch(cases, NSELF, nat, err, sizeof(err))) {
        printf("hostdiff: native runner: %s\n", err);
        return 1;
    }
    int failed = selftest_quirk_filter(), native_skipped = 0, native_excluded = 0;
    char why[256];
    for (size_t i = 0; i < NSELF; i++) {
        Outcome o = { nat[i].out, nat[i].res, &nat[i].mem, &nat[i].fout };
        if (cases[i].mode == 32 && !native32)
            native_skipped++;
        else if (self_check(&self_tests[i], &cases[i], &o, why, sizeof(why)))
            ;
        else if (selftest_host_quirk(&cases[i], &o, qc, self_tests[i].name))
            native_excluded++;
        else {
            self_fail(&self_tests[i], "native", why);
            failed++;
        }
        for (int e = 0; e < nengines; e++) {
            HDMemory mem;
            HDFpu fpu = cases[i].fin;
            hd_gen_data(&cases[i], &mem);
            Outcome v = { cases[i].in, { 0 }, &mem, &fpu };
            hd_run_vx86(cases[i].code, cases[i].len, &v.st, &mem, &fpu, cases[i].mode,
                        engines[e], &v.res);
            if (!self_check(&self_tests[i], &cases[i], &v, why, sizeof(why))) {
                self_fail(&self_tests[i], engines[e], why);
                failed++;
            }
        }
    }
    printf("hostdiff selftest: %zu sequences x %d runners, %d failed", NSELF, 1 + nengines,
           failed);
    if (native_skipped)
        printf(", %d native runs skipped (host cannot run 32-bit code)", native_skipped);
    if (native_excluded)
        printf(", %d native runs excluded: host INT n quirk", native_excluded);
    printf("\n");
    return failed;
}

/* ---- the random run ---- */
typedef struct Tally {
    uint64_t passed, failed, skipped;
    uint64_t excluded;        /* host INT n quirk, vx86 as the SDM says */
    uint64_t outcome[34];     /* 0-31 vectors, 32 completed, 33 other */
} Tally;

static void tally_outcome(Tally *t, const HDResult *r)
{
    int k = r->vector < 0 ? 32 : r->vector < 32 ? r->vector : 33;
    t->outcome[k]++;
}

static void print_outcomes(const Tally *t, uint64_t total)
{
    if (!total)
        return;
    printf("  host outcomes: completed %" PRIu64, t->outcome[32]);
    for (int k = 0; k < 32; k++)
        if (t->outcome[k])
            printf(", %s %" PRIu64, hd_vector_name(k), t->outcome[k]);
    if (t->outcome[33])
        printf(", other %" PRIu64, t->outcome[33]);
    printf("\n");
}

static int run_random(const Options *opt, const char *const *engines, int nengines,
                      const char *skip_why, const HDQuirks *quirks)
{
    HDCase *cases = calloc(BATCH, sizeof(HDCase));
    HDNativeOut *nat = calloc(BATCH, sizeof(HDNativeOut));
    HDNativeOut *nat2 = nengines ? NULL : calloc(BATCH, sizeof(HDNativeOut));
    Tally tl[2];
    Tally det;
    memset(tl, 0, sizeof(tl));
    memset(&det, 0, sizeof(det));
    unsigned shown = 0, shown_excluded = 0;
    char err[200], diff[1024];
    if (!cases || !nat || (!nengines && !nat2)) {
        printf("hostdiff: out of memory\n");
        return 1;
    }
    for (uint64_t done = 0; done < opt->count;) {
        size_t n = opt->count - done < BATCH ? (size_t)(opt->count - done) : BATCH;
        for (size_t i = 0; i < n; i++)
            hd_gen_case(opt->seed, opt->first + done + i, opt->mode, &cases[i]);
        if (!hd_native_run_batch(cases, n, nat, err, sizeof(err)) ||
            (nat2 && !hd_native_run_batch(cases, n, nat2, err, sizeof(err)))) {
            printf("hostdiff: native runner: %s\n", err);
            return 1;
        }
        for (size_t i = 0; i < n; i++) {
            const HDCase *c = &cases[i];
            uint64_t index = opt->first + done + i;
            Outcome a = { nat[i].out, nat[i].res, &nat[i].mem, &nat[i].fout };
            tally_outcome(&det, &a.res);
            if (opt->verbose) {
                char d[512];
                char r[256];
                hd_describe(c, d, sizeof(d));
                outcome_str(&a, r, sizeof(r));
                printf("case %" PRIu64 ": %s -> %s\n", index, d, r);
            }
            if (nat2) {
                Outcome b = { nat2[i].out, nat2[i].res, &nat2[i].mem, &nat2[i].fout };
                bool ok = !a.res.crashed && outcomes_equal(c, &a, &b, false, diff, sizeof(diff));
                if (a.res.crashed)
                    snprintf(diff, sizeof(diff), " %.200s", a.res.note);
                if (ok) {
                    det.passed++;
                } else {
                    det.failed++;
                    if (shown++ < opt->show || opt->verbose) {
                        printf("  FAIL native determinism:%s\n", diff);
                        print_case(c, opt->seed, index);
                    }
                }
                det.skipped++;   /* the vx86 half */
                continue;
            }
            /* AMD's misaligned-SSE mode (MXCSR.MM, bit 17) exists only on
             * such hosts: a sequence whose LDMXCSR set it is not comparable
             * (vx86's model raises #GP for it, as Intel CPUs do). */
            uint32_t host_mxcsr;
            memcpy(&host_mxcsr, nat[i].fout.fx + 24, 4);
            /* Also not modelled (docs/cpu.md): the precision flag after an
             * unmasked overflow/underflow (LDMXCSR can unmask them). */
            bool ou_unmasked = ((host_mxcsr & 0x08) && !(host_mxcsr & 0x400)) ||
                               ((host_mxcsr & 0x10) && !(host_mxcsr & 0x800));
            if ((host_mxcsr & (1u << 17)) || ou_unmasked) {
                for (int e = 0; e < nengines; e++)
                    tl[e].skipped++;
                continue;
            }
            for (int e = 0; e < nengines; e++) {
                HDMemory mem;
                HDFpu fpu = c->fin;
                hd_gen_data(c, &mem);
                Outcome b = { c->in, { 0 }, &mem, &fpu };
                hd_run_vx86(c->code, c->len, &b.st, &mem, &fpu, c->mode, engines[e], &b.res);
                char what[256], qdiff[1024];
                int qk = -1;
                if (outcomes_equal(c, &a, &b, true, diff, sizeof(diff))) {
                    tl[e].passed++;
                } else if ((qk = hd_quirk_match(quirks, c, &a.st, &a.res, what,
                                                sizeof(what))) >= 0) {
                    /* The host ended this case as a learned quirk: judge
                     * vx86 by the SDM's outcome instead, in full. */
                    static HDNativeOut pre;
                    Outcome sdm = { pre.out, pre.res, &pre.mem, &pre.fout };
                    bool replayed = quirk_sdm_outcome(c, qk, &pre);
                    if (replayed)
                        sdm = (Outcome){ pre.out, pre.res, &pre.mem, &pre.fout };
                    else
                        snprintf(qdiff, sizeof(qdiff), " the native replay up to the INT failed");
                    if (replayed && outcomes_equal(c, &sdm, &b, true, qdiff, sizeof(qdiff))) {
                        tl[e].excluded++;
                        if (shown_excluded++ < 3 || opt->verbose)
                            printf("  excluded (%s; vx86 as the SDM says): engine %s, seed %"
                                   PRIu64 " case %" PRIu64 "\n",
                                   what, engines[e], opt->seed, index);
                    } else {
                        tl[e].failed++;
                        if (shown++ < opt->show || opt->verbose) {
                            printf("  FAIL engine %s (the host shows a quirk, %s, but vx86 "
                                   "is not the SDM's outcome either):%s\n",
                                   engines[e], what, qdiff);
                            print_case(c, opt->seed, index);
                        }
                    }
                } else {
                    tl[e].failed++;
                    if (shown++ < opt->show || opt->verbose) {
                        printf("  FAIL engine %s:%s\n", engines[e], diff);
                        print_case(c, opt->seed, index);
                    }
                }
            }
        }
        done += n;
    }
    int rc = 0;
    if (nat2) {
        printf("SKIP: %s (vx86 half of mode %d: %" PRIu64 " sequences not run)\n", skip_why,
               opt->mode, det.skipped);
        printf("hostdiff mode %d native determinism: %" PRIu64 " passed, %" PRIu64
               " failed, %" PRIu64 " skipped (vx86 unavailable)\n",
               opt->mode, det.passed, det.failed, det.skipped);
        rc = det.failed != 0;
    }
    for (int e = 0; e < nengines; e++) {
        printf("hostdiff group %s mode %d engine %s: %" PRIu64 " passed, %" PRIu64 " failed",
               hd_group_names[opt->group], opt->mode, engines[e], tl[e].passed, tl[e].failed);
        if (tl[e].skipped)
            printf(", %" PRIu64 " skipped (MXCSR.MM or unmasked OE/UE)", tl[e].skipped);
        if (tl[e].excluded)
            printf(", %" PRIu64 " excluded: host INT n quirk", tl[e].excluded);
        printf("\n");
        rc |= tl[e].failed != 0;
    }
    print_outcomes(&det, opt->count);
    free(cases);
    free(nat);
    free(nat2);
    return rc;
}

static void usage(void)
{
    fprintf(stderr, "usage: hostdiff [--group int|sse|mmx|x87] [--mode 64|32] "
                    "[--engine interp|x86_64|both] "
                    "[--seed N] [--count N] [--first N] [--show N] [-v] [--no-selftest]\n");
}

int main(int argc, char **argv)
{
    Options opt = { .mode = 64, .engine = "interp", .seed = 1, .count = 20000,
                    .first = 0, .show = 10, .verbose = false, .selftest = true };
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        const char *v = i + 1 < argc ? argv[i + 1] : NULL;
        char *end = NULL;
        if (!strcmp(a, "-v") || !strcmp(a, "--verbose")) {
            opt.verbose = true;
        } else if (!strcmp(a, "--no-selftest")) {
            opt.selftest = false;
        } else if (v && !strcmp(a, "--engine")) {
            opt.engine = v, i++;
        } else if (v && !strcmp(a, "--group")) {
            opt.group = -1;
            for (int k = 0; k < HD_GROUP_COUNT; k++)
                if (!strcmp(v, hd_group_names[k]))
                    opt.group = k;
            if (opt.group < 0) {
                fprintf(stderr, "hostdiff: unknown group '%s' (int, sse, mmx, x87)\n", v);
                return 2;
            }
            i++;
        } else if (v && (!strcmp(a, "--mode") || !strcmp(a, "--seed") ||
                         !strcmp(a, "--count") || !strcmp(a, "--first") ||
                         !strcmp(a, "--show"))) {
            unsigned long long x = strtoull(v, &end, 0);
            if (!*v || *end) {
                fprintf(stderr, "hostdiff: %s needs a number, not '%s'\n", a, v);
                return 2;
            }
            i++;
            if (!strcmp(a, "--mode"))
                opt.mode = (int)x;
            else if (!strcmp(a, "--seed"))
                opt.seed = x;
            else if (!strcmp(a, "--count"))
                opt.count = x;
            else if (!strcmp(a, "--first"))
                opt.first = x;
            else
                opt.show = (unsigned)x;
        } else {
            usage();
            return 2;
        }
    }
    if (opt.mode != 64 && opt.mode != 32) {
        fprintf(stderr, "hostdiff: --mode must be 64 or 32\n");
        return 2;
    }
    /* Probe once whether the host runs 32-bit code at all.  Mode 32 is
     * then one SKIP line and success; mode 64 still runs the 32-bit
     * self-tests on vx86 (their expectations come from the SDM). */
    bool native32 = true;
    if (opt.mode == 32 || opt.selftest) {
        char why[256];
        native32 = hd_probe_compat32(why, sizeof(why));
        if (!native32 && opt.mode == 32) {
            printf("SKIP: hostdiff mode 32: host cannot run 32-bit code (%s)\n", why);
            return 0;
        }
    }
    const char *all[2] = { "interp", "x86_64" };
    const char *engines[2];
    int nengines = 0;
    const char *skip_why = NULL;
    if (!strcmp(opt.engine, "both")) {
        engines[0] = all[0], engines[1] = all[1], nengines = 2;
    } else if (!strcmp(opt.engine, "interp") || !strcmp(opt.engine, "x86_64")) {
        engines[0] = opt.engine, nengines = 1;
    } else {
        fprintf(stderr, "hostdiff: unknown engine '%s' (interp, x86_64, both)\n", opt.engine);
        return 2;
    }
    /* Keep only the engines this build has; say so for the others. */
    int navail = 0;
    for (int e = 0; e < nengines; e++) {
        const char *why = NULL;
        if (hd_vx86_available(engines[e], &why)) {
            engines[navail++] = engines[e];
        } else {
            printf("SKIP: engine %s: %s\n", engines[e], why);
            skip_why = why;
        }
    }
    if (navail < nengines && navail > 0)
        printf("SKIP: continuing with the available engine(s) only\n");
    nengines = navail;
    /* Both engines share one CPU model: its CPUID limits the generator. */
    if (nengines)
        hd_gen_init(hd_vx86_cpuid, (void *)engines[0], "the vx86", opt.group);
    else
        hd_gen_init(NULL, NULL, NULL, opt.group);
    int rc = 0;
    static QuirkCache quirks;
    if (opt.selftest)
        rc |= run_selftests(engines, nengines, native32, &quirks) != 0;
    /* The host's INT n behaviour (only the integer group emits INT n), so
     * its quirks are not blamed on vx86. */
    bool have_quirks = opt.count && nengines && opt.group == HD_GROUP_INT;
    if (opt.count)
        rc |= run_random(&opt, engines, nengines,
                         skip_why ? skip_why : "vx86 CPU not available in this build",
                         have_quirks ? host_quirks(&quirks, opt.mode) : NULL);
    hd_vx86_shutdown();
    return rc;
}
