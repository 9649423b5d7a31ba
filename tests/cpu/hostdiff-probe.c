/*
 * hostdiff host probes: what this host can run, and where its native
 * results differ from the SDM (docs/hostdiff.md, "Host probes").
 *
 * Both probes run short hand-written sequences through the native runner,
 * i.e. in a forked child, so a host that kills the child costs nothing but
 * a "cannot" answer.
 *
 * - hd_probe_compat32: can the host enter 32-bit compatibility mode?  Some
 *   hosts of ours run user code only in 64-bit mode: their kernel is a
 *   paravirtualised guest (e.g. kvm_pvm) and the far jump to Linux's 32-bit
 *   code selector 0x23 raises #GP(0x20).  Mode 32 is then skipped.
 *
 * - hd_probe_int_quirks: what does INT n at CPL 3 do for every n the
 *   generator may emit, bare and with prefixes?  On Linux every such gate
 *   has DPL 0, so the SDM says #GP(n*8+2) at the INT, nothing changed.  The
 *   same paravirtualised hosts handle a few vectors themselves (measured:
 *   0x17 and 0x19 give #GP(0) with RIP after the INT, 0x1a goes on with
 *   RAX RCX RDX RBX zeroed, 0x1b gives #UD with RIP at the CD byte after
 *   any prefixes).  hd_quirk_match recognises a case whose host run ended
 *   exactly as learned; the caller then replays the case natively up to
 *   that INT and compares vx86 with the SDM's outcome from there, in full
 *   (hostdiff.c), so the exclusion never hides a vx86 difference.
 */
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cpu/decode.h"
#include "tests/cpu/hostdiff.h"

/* A register file that makes a changed register visible. */
static void probe_state(HDState *in)
{
    memset(in, 0, sizeof(*in));
    for (int i = 0; i < 16; i++)
        in->gpr[i] = 0x0101010101010101ull * (uint64_t)(i + 1);
    in->gpr[4] = HD_DATA_ADDR + 0x800;
    in->rflags = HD_FLAGS_FIXED | HD_CF | HD_ZF;
}

bool hd_probe_compat32(char *why, size_t len)
{
    /* mov eax,0x12345678; dec eax (0x48: REX.W in 64-bit mode, DEC in
     * 32-bit mode, so the result also proves which mode ran it). */
    static const uint8_t code[] = { 0xb8, 0x78, 0x56, 0x34, 0x12, 0x48 };
    HDState in;
    probe_state(&in);
    HDCase *c = calloc(1, sizeof(*c));
    HDNativeOut *o = calloc(1, sizeof(*o));
    char err[200];
    bool ok = false;
    if (!c || !o) {
        snprintf(why, len, "out of memory");
        goto out;
    }
    hd_case_from_bytes(c, 32, code, sizeof(code), &in);
    /* Test hook: a far jump to the data selector 0x2b is refused by every
     * CPU (#GP(0x28)), so the probe's failure path and the SKIP that
     * follows can be exercised on hosts that do run 32-bit code
     * (tests/cpu/hostdiff-probe.sh). */
    const char *force = getenv("HOSTDIFF_FORCE_NO32");
    if (force && *force && strcmp(force, "0"))
        c->sel32 = HD_SEL_DATA;
    if (!hd_native_run_batch(c, 1, o, err, sizeof(err))) {
        snprintf(why, len, "native runner: %s", err);
        goto out;
    }
    const HDResult *r = &o->res;
    uint64_t end = HD_CODE_ADDR + sizeof(code);
    if (r->crashed) {
        snprintf(why, len, "%s", r->note);
    } else if (r->vector >= 0) {
        bool in_code = o->out.rip >= HD_CODE_ADDR && o->out.rip <= end;
        snprintf(why, len, "%s error %#x, signal %d, %s", hd_vector_name(r->vector), r->error,
                 r->signo,
                 in_code ? "inside the 32-bit probe code"
                         : "at the far jump into the 32-bit code segment");
    } else if ((uint32_t)o->out.gpr[0] != 0x12345677u || o->out.rip != end) {
        snprintf(why, len, "the probe ran but eax=%#" PRIx64 " rip=%#" PRIx64
                 ", want eax=0x12345677 rip=%#" PRIx64, o->out.gpr[0], o->out.rip, end);
    } else {
        ok = true;
    }
out:
    free(c);
    free(o);
    return ok;
}

/* ---- INT n ---- */

static const char *const at_names[] = { "at the INT", "at its CD byte", "after it", "elsewhere" };

/* Where rip points, relative to an INT that starts at `start` with its
 * CD byte at `op` and ends at `end` (code-page offsets). */
static int rip_class(uint64_t rip, unsigned start, unsigned op, unsigned end)
{
    if (rip == HD_CODE_ADDR + start)
        return HD_AT_START;
    if (rip == HD_CODE_ADDR + op)
        return HD_AT_OPCODE;
    if (rip == HD_CODE_ADDR + end)
        return HD_AT_NEXT;
    return HD_AT_OTHER;
}

/* What the host did with one probe, as a quirk record. */
static HDIntQuirk probe_result(const HDCase *c, const HDNativeOut *o, unsigned vec)
{
    HDIntQuirk q = { 0 };
    unsigned end = c->len, op = end - 2;
    q.vector = o->res.vector;
    q.error = o->res.error;
    q.signo = o->res.signo;
    q.at = o->res.crashed ? HD_AT_OTHER : rip_class(o->out.rip, 0, op, end);
    /* Whether the state survives is only reported: a matching case is
     * judged from a replay up to the INT, not from the host's end state. */
    HDMemory before;
    hd_gen_data(c, &before);
    uint64_t rmask = c->mode == 64 ? ~0ull : 0xffffffffull;
    bool same = !o->res.crashed && !memcmp(before.data, o->mem.data, HD_PAGE_SIZE) &&
                !((o->out.rflags ^ c->in.rflags) & HD_FLAGS_TESTED);
    for (int i = 0; i < (c->mode == 64 ? 16 : 8); i++)
        same = same && !((o->out.gpr[i] ^ c->in.gpr[i]) & rmask);
    bool sdm = !o->res.crashed && q.vector == 13 && q.error == vec * 8 + 2 &&
               q.signo == SIGSEGV && q.at == HD_AT_START && same;
    q.known = !sdm;
    q.changes_state = !same;
    q.usable = q.known && !o->res.crashed && q.at != HD_AT_OTHER &&
               (q.vector >= 0 ? q.signo != 0 : q.at == HD_AT_NEXT);
    return q;
}

static bool quirk_same(const HDIntQuirk *a, const HDIntQuirk *b)
{
    return a->known == b->known && a->usable == b->usable && a->vector == b->vector &&
           a->error == b->error && a->signo == b->signo && a->at == b->at &&
           a->changes_state == b->changes_state;
}

static void quirk_str(const HDIntQuirk *q, char *out, size_t len)
{
    const char *st = q->changes_state ? ", registers/flags/memory changed" : "";
    if (!q->usable)
        snprintf(out, len, "%s %s%s (unpredictable or inconsistent: not excluded)",
                 q->vector >= 0 ? hd_vector_name(q->vector) : "goes on", at_names[q->at], st);
    else if (q->vector < 0)
        snprintf(out, len, "goes on, nothing raised%s", st);
    else
        snprintf(out, len, "%s(%#x) %s%s", hd_vector_name(q->vector), q->error,
                 at_names[q->at], st);
}

/* The prefixes of the probe forms: [0] none, then two prefixed forms that
 * must agree (64-bit: REX alone, and an operand-size prefix plus REX). */
static const struct { uint8_t n, b[2]; } forms64[3] = { { 0, { 0 } }, { 1, { 0x41 } },
                                                        { 2, { 0x66, 0x4c } } };
static const struct { uint8_t n, b[2]; } forms32[3] = { { 0, { 0 } }, { 1, { 0x66 } },
                                                        { 2, { 0x26, 0x67 } } };

void hd_probe_int_quirks(int mode, HDQuirks *q)
{
    enum { NFORMS = 3 };
    memset(q, 0, sizeof(*q));
    q->mode = mode;
    HDCase *cases = calloc(256 * NFORMS, sizeof(HDCase));
    HDNativeOut *out = calloc(256 * NFORMS, sizeof(HDNativeOut));
    unsigned vecs[256], nv = 0;
    char err[200];
    if (!cases || !out) {
        printf("hostdiff: INT n probe: out of memory\n");
        goto done;
    }
    HDState in;
    probe_state(&in);
    for (unsigned v = 0; v < 256; v++) {
        /* Linux's DPL-3 gates (3, 4, and 0x80: a system call) are no
         * quirk; the generator never emits them. */
        if (v == 3 || v == 4 || v == 0x80)
            continue;
        for (int f = 0; f < NFORMS; f++) {
            uint8_t code[4];
            size_t n = mode == 64 ? forms64[f].n : forms32[f].n;
            memcpy(code, mode == 64 ? forms64[f].b : forms32[f].b, n);
            code[n] = 0xcd;
            code[n + 1] = (uint8_t)v;
            hd_case_from_bytes(&cases[nv * NFORMS + f], mode, code, n + 2, &in);
        }
        vecs[nv++] = v;
    }
    if (!hd_native_run_batch(cases, nv * NFORMS, out, err, sizeof(err))) {
        printf("hostdiff: INT n probe: native runner: %s\n", err);
        goto done;
    }
    char line[2048];
    size_t o = 0;
    line[0] = 0;
    for (unsigned i = 0; i < nv; i++) {
        unsigned v = vecs[i];
        HDIntQuirk r[NFORMS];
        for (int f = 0; f < NFORMS; f++)
            r[f] = probe_result(&cases[i * NFORMS + f], &out[i * NFORMS + f], v);
        q->intn[0][v] = r[0];
        q->intn[1][v] = r[1];
        /* The prefixed forms disagree: nothing learned can be trusted. */
        if (!quirk_same(&r[1], &r[2]))
            q->intn[1][v].known = true, q->intn[1][v].usable = false;
        for (int p = 0; p < 2; p++) {
            const HDIntQuirk *k = &q->intn[p][v];
            if (!k->known || (p == 1 && quirk_same(k, &q->intn[0][v])))
                continue;
            char s[200];
            quirk_str(k, s, sizeof(s));
            q->nquirks++;
            if (o < sizeof(line))
                o += (size_t)snprintf(line + o, sizeof(line) - o, "%s int %#x%s: %s",
                                      o ? ";" : "", v, p ? " with prefixes" : "", s);
        }
    }
    if (q->nquirks)
        printf("hostdiff: host differs from the SDM (#GP(n*8+2) at the INT) for INT n at CPL 3 "
               "in mode %d:%s; matching cases are excluded where vx86 follows the SDM\n",
               mode, line);
done:
    free(cases);
    free(out);
}

int hd_quirk_match(const HDQuirks *q, const HDCase *c, const HDState *host_st,
                   const HDResult *host_res, char *what, size_t len)
{
    if (!q || q->mode != c->mode || host_res->crashed)
        return -1;
    for (int k = 0; k < c->ninsn; k++) {
        unsigned start = c->insn_off[k], end = c->insn_off[k + 1], op = end - 2;
        if (c->insn_mnem[k] != X86_INT || end < start + 2 || c->code[op] != 0xcd)
            continue;
        unsigned v = c->code[end - 1];
        const HDIntQuirk *k_q = &q->intn[op > start][v];
        if (!k_q->known || !k_q->usable)
            continue;
        /* A completing quirk matches only an INT that ends the sequence:
         * the rip class NEXT is then the sequence's end. */
        if (host_res->vector != k_q->vector || host_res->signo != k_q->signo ||
            (k_q->vector >= 0 && host_res->error != k_q->error) ||
            rip_class(host_st->rip, start, op, end) != k_q->at)
            continue;
        char s[200];
        quirk_str(k_q, s, sizeof(s));
        snprintf(what, len, "host int %#x: %s", v, s);
        return k;
    }
    return -1;
}
