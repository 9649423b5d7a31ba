/*
 * SSE/SSE2/SSE3/SSE4.1 floating point and the SSE operations that read or
 * write general registers or EFLAGS, called from translate-sse.c.
 *
 * Floating point runs the host's own SSE instruction under the guest's
 * MXCSR (rounding control, DAZ, FTZ) with every exception masked and the
 * flags cleared, then reads the flags back.  On an x86-64 host this gives
 * bit-exact IEEE results, NaN propagation (QNaN of the first operand,
 * SNaN quieting, the default "real indefinite"), denormal handling and
 * flags, identical to the hardware for every rounding mode.  Limits
 * (documented in docs/cpu.md): RCPPS/RSQRTPS approximations are the
 * host's (Intel and AMD differ); with an *unmasked* underflow the SDM's
 * "tiny before rounding" flag rule is not modelled (the flags are those of
 * the masked computation).  A non-x86-64 host would need a soft-float
 * implementation of these helpers.
 *
 * Unmasked exceptions (SDM Vol. 1 11.5.1): the destination is left
 * unchanged, the flags are set, and #XM is raised when CR4.OSXMMEXCPT is
 * set, else #UD.
 */
#include <string.h>

#include "cpu/decode.h"
#include "cpu/fpu.h"
#include "cpu/helpers.h"
#include "cpu/mmu.h"

#define FAULT IR_CALL_CAN_FAULT
#define NOGLOB (IR_CALL_NO_READ_GLOBALS | IR_CALL_NO_WRITE_GLOBALS)

typedef long long v2di __attribute__((vector_size(16)));

#if !defined(__x86_64__)
#error "helpers-sse.c runs the host's SSE unit: x86-64 hosts only"
#endif

static inline v2di vload(const void *p)
{
    v2di v;
    memcpy(&v, p, 16);
    return v;
}

/* The MXCSR the host runs with: guest RC/DAZ/FZ, all masked, no flags. */
static inline uint32_t host_csr(const CPUState *cpu)
{
    return (cpu->mxcsr & (MXCSR_RC | MXCSR_DAZ | MXCSR_FZ)) | MXCSR_MASKS;
}

#define HOST2(insn, d, s, csr) \
    do { \
        uint32_t save_; \
        __asm__ volatile("stmxcsr %[sv]\n\tldmxcsr %[c]\n\t" insn " %[src], %[dst]\n\t" \
                         "stmxcsr %[c]\n\tldmxcsr %[sv]" \
                         : [dst] "+x"(d), [c] "+m"(csr), [sv] "=m"(save_) : [src] "x"(s)); \
    } while (0)

#define HOST2I(insn, imm, d, s, csr) \
    HOST2(insn " $" #imm ",", d, s, csr)

/* Applies the flags of an operation: false (after raising) when an
 * unmasked exception occurred. */
/* all_flags: report every flag even when an unmasked pre-computation
 * exception traps (DPPS/DPPD: a denormal intermediate product is seen
 * only after the multiplications have set their flags). */
static void sse_raise_flags_soft(CPUState *cpu, uint32_t flags, uint32_t all_flags)
{
    flags &= MXCSR_FLAGS;
    uint32_t unmasked = flags & ~(cpu->mxcsr >> 7) & MXCSR_FLAGS;
    if (!unmasked) {
        cpu->mxcsr |= flags;
        return;
    }
    /* An unmasked pre-computation exception (invalid, denormal, divide by
     * zero) stops the operation before the post-computation checks. */
    uint32_t pre = MXCSR_IE | MXCSR_DE | MXCSR_ZE;
    if ((unmasked & pre) && !all_flags)
        flags &= pre;
    else if (unmasked & (MXCSR_OE | MXCSR_UE))
        flags &= ~(uint32_t)MXCSR_PE;    /* no result delivered: no precision flag */
    cpu->mxcsr |= flags;
    cpu_raise_exception(cpu, (cpu->cr[4] & CR4_OSXMMEXCPT) ? EXC_XM : EXC_UD, 0, 0);
}

static void sse_raise_flags(CPUState *cpu, uint32_t flags)
{
    sse_raise_flags_soft(cpu, flags, 0);
}

/* DPPS/DPPD run as steps (multiply, then the additions), each checked
 * against the guest's exception masks (gmask, MXCSR bits 7-12 moved down
 * to the flag positions): an unmasked
 * invalid/denormal/divide exception stops at its step reporting the
 * flags of the earlier steps plus its own pre-computation flags; an
 * unmasked overflow/underflow stops reporting the step's flags but PE;
 * an unmasked precision exception stops reporting the step's flags. */
static bool dp_step(uint32_t *acc, uint32_t step, uint32_t gmask)
{
    const uint32_t pre = MXCSR_IE | MXCSR_DE | MXCSR_ZE;
    step &= MXCSR_FLAGS;
    uint32_t unm = step & ~gmask;
    if (unm & pre) {
        *acc |= step & pre;
        return true;
    }
    if (unm & (MXCSR_OE | MXCSR_UE)) {
        *acc |= step & ~(uint32_t)MXCSR_PE;
        return true;
    }
    *acc |= step;
    /* an unmasked precision exception stops at its step as well (the
     * reference host reports no flags of the later additions) */
    return unm != 0;
}

#define DP_RUN(insn, x, y) \
    ({ uint32_t c_ = base; HOST2(insn, x, y, c_); dp_step(&acc, c_, gmask); })

#define CMP8(insn, imm, d, s, csr) \
    switch ((imm) & 7) { \
    case 0: HOST2I(insn, 0, d, s, csr); break; \
    case 1: HOST2I(insn, 1, d, s, csr); break; \
    case 2: HOST2I(insn, 2, d, s, csr); break; \
    case 3: HOST2I(insn, 3, d, s, csr); break; \
    case 4: HOST2I(insn, 4, d, s, csr); break; \
    case 5: HOST2I(insn, 5, d, s, csr); break; \
    case 6: HOST2I(insn, 6, d, s, csr); break; \
    default: HOST2I(insn, 7, d, s, csr); break; \
    }

#define ROUND16(insn, imm, d, s, csr) \
    switch ((imm) & 15) { \
    case 0: HOST2I(insn, 0, d, s, csr); break; case 1: HOST2I(insn, 1, d, s, csr); break; \
    case 2: HOST2I(insn, 2, d, s, csr); break; case 3: HOST2I(insn, 3, d, s, csr); break; \
    case 4: HOST2I(insn, 4, d, s, csr); break; case 5: HOST2I(insn, 5, d, s, csr); break; \
    case 6: HOST2I(insn, 6, d, s, csr); break; case 7: HOST2I(insn, 7, d, s, csr); break; \
    case 8: HOST2I(insn, 8, d, s, csr); break; case 9: HOST2I(insn, 9, d, s, csr); break; \
    case 10: HOST2I(insn, 10, d, s, csr); break; case 11: HOST2I(insn, 11, d, s, csr); break; \
    case 12: HOST2I(insn, 12, d, s, csr); break; case 13: HOST2I(insn, 13, d, s, csr); break; \
    case 14: HOST2I(insn, 14, d, s, csr); break; default: HOST2I(insn, 15, d, s, csr); break; \
    }

/* DPPS/DPPD: products of the selected lanes, summed pairwise as the SDM's
 * pseudocode does, each step rounded under MXCSR; one host op at a time. */
static v2di dpps(v2di a, v2di b, unsigned imm, uint32_t *csr, uint32_t gmask)
{
    float fa[4], fb[4], p[4], out[4] = { 0, 0, 0, 0 };
    uint32_t base = *csr & ~(uint32_t)MXCSR_FLAGS, acc = 0;
    v2di r = a;
    memcpy(fa, &a, 16);
    memcpy(fb, &b, 16);
    /* lanes not selected take no part (no flags) and contribute +0.0 */
    for (int i = 0; i < 4; i++)
        if (!((imm >> (4 + i)) & 1))
            fa[i] = fb[i] = 0.0f;
    memcpy(&a, fa, 16);
    memcpy(&b, fb, 16);
    v2di t = a, x = { 0, 0 }, y = { 0, 0 }, z = { 0, 0 }, w = { 0, 0 };
    if (DP_RUN("mulps", t, b))
        goto out;
    memcpy(p, &t, 16);
    memcpy(&x, &p[0], 4);
    memcpy(&y, &p[1], 4);
    memcpy(&z, &p[2], 4);
    memcpy(&w, &p[3], 4);
    if (DP_RUN("addss", x, y) || DP_RUN("addss", z, w) || DP_RUN("addss", x, z))
        goto out;
    float sum;
    memcpy(&sum, &x, 4);
    for (int i = 0; i < 4; i++)
        out[i] = ((imm >> i) & 1) ? sum : 0.0f;
    memcpy(&r, out, 16);
out:
    *csr = base | acc;
    return r;
}

static v2di dppd(v2di a, v2di b, unsigned imm, uint32_t *csr, uint32_t gmask)
{
    double p[2], fa[2], fb[2], out[2] = { 0, 0 };
    uint32_t base = *csr & ~(uint32_t)MXCSR_FLAGS, acc = 0;
    v2di r = a;
    memcpy(fa, &a, 16);
    memcpy(fb, &b, 16);
    for (int i = 0; i < 2; i++)
        if (!((imm >> (4 + i)) & 1))
            fa[i] = fb[i] = 0.0;
    memcpy(&a, fa, 16);
    memcpy(&b, fb, 16);
    v2di t = a, x = { 0, 0 }, y = { 0, 0 };
    if (DP_RUN("mulpd", t, b))
        goto out;
    memcpy(p, &t, 16);
    memcpy(&x, &p[0], 8);
    memcpy(&y, &p[1], 8);
    if (DP_RUN("addsd", x, y))
        goto out;
    double sum;
    memcpy(&sum, &x, 8);
    for (int i = 0; i < 2; i++)
        out[i] = ((imm >> i) & 1) ? sum : 0.0;
    memcpy(&r, out, 16);
out:
    *csr = base | acc;
    return r;
}

/* xmm/mm <- op(xmm, xmm/m).  MMX operands (CVTPI2Px, CVTPx2PI) are 8
 * bytes in fpregs[]: copied through a zeroed vector (zero lanes raise no
 * exception). */
static bool sse_fp_compute(unsigned mnem, v2di *dv, v2di s, unsigned imm, uint32_t *csrp,
                           uint32_t gmask)
{
    v2di d = *dv;
    uint32_t csr = *csrp;
    switch (mnem) {
    case X86_ADDPS: HOST2("addps", d, s, csr); break;
    case X86_ADDPD: HOST2("addpd", d, s, csr); break;
    case X86_ADDSS: HOST2("addss", d, s, csr); break;
    case X86_ADDSD: HOST2("addsd", d, s, csr); break;
    case X86_SUBPS: HOST2("subps", d, s, csr); break;
    case X86_SUBPD: HOST2("subpd", d, s, csr); break;
    case X86_SUBSS: HOST2("subss", d, s, csr); break;
    case X86_SUBSD: HOST2("subsd", d, s, csr); break;
    case X86_MULPS: HOST2("mulps", d, s, csr); break;
    case X86_MULPD: HOST2("mulpd", d, s, csr); break;
    case X86_MULSS: HOST2("mulss", d, s, csr); break;
    case X86_MULSD: HOST2("mulsd", d, s, csr); break;
    case X86_DIVPS: HOST2("divps", d, s, csr); break;
    case X86_DIVPD: HOST2("divpd", d, s, csr); break;
    case X86_DIVSS: HOST2("divss", d, s, csr); break;
    case X86_DIVSD: HOST2("divsd", d, s, csr); break;
    case X86_MINPS: HOST2("minps", d, s, csr); break;
    case X86_MINPD: HOST2("minpd", d, s, csr); break;
    case X86_MINSS: HOST2("minss", d, s, csr); break;
    case X86_MINSD: HOST2("minsd", d, s, csr); break;
    case X86_MAXPS: HOST2("maxps", d, s, csr); break;
    case X86_MAXPD: HOST2("maxpd", d, s, csr); break;
    case X86_MAXSS: HOST2("maxss", d, s, csr); break;
    case X86_MAXSD: HOST2("maxsd", d, s, csr); break;
    case X86_SQRTPS: HOST2("sqrtps", d, s, csr); break;
    case X86_SQRTPD: HOST2("sqrtpd", d, s, csr); break;
    case X86_SQRTSS: HOST2("sqrtss", d, s, csr); break;
    case X86_SQRTSD: HOST2("sqrtsd", d, s, csr); break;
    case X86_RCPPS: HOST2("rcpps", d, s, csr); break;
    case X86_RCPSS: HOST2("rcpss", d, s, csr); break;
    case X86_RSQRTPS: HOST2("rsqrtps", d, s, csr); break;
    case X86_RSQRTSS: HOST2("rsqrtss", d, s, csr); break;
    case X86_CMPPS: CMP8("cmpps", imm, d, s, csr); break;
    case X86_CMPPD: CMP8("cmppd", imm, d, s, csr); break;
    case X86_CMPSS: CMP8("cmpss", imm, d, s, csr); break;
    case X86_CMPSD: CMP8("cmpsd", imm, d, s, csr); break;
    case X86_CVTPS2PD: HOST2("cvtps2pd", d, s, csr); break;
    case X86_CVTPD2PS: HOST2("cvtpd2ps", d, s, csr); break;
    case X86_CVTSS2SD: HOST2("cvtss2sd", d, s, csr); break;
    case X86_CVTSD2SS: HOST2("cvtsd2ss", d, s, csr); break;
    case X86_CVTDQ2PS: HOST2("cvtdq2ps", d, s, csr); break;
    case X86_CVTPS2DQ: HOST2("cvtps2dq", d, s, csr); break;
    case X86_CVTTPS2DQ: HOST2("cvttps2dq", d, s, csr); break;
    case X86_CVTDQ2PD: HOST2("cvtdq2pd", d, s, csr); break;
    case X86_CVTPD2DQ: HOST2("cvtpd2dq", d, s, csr); break;
    case X86_CVTTPD2DQ: HOST2("cvttpd2dq", d, s, csr); break;
    case X86_CVTPI2PS: {          /* xmm.low64 <- 2 x int32 from mm/m64 */
        v2di t = d;
        HOST2("cvtdq2ps", t, s, csr);
        d[0] = t[0];
        break;
    }
    case X86_CVTPI2PD: HOST2("cvtdq2pd", d, s, csr); break;
    case X86_CVTPS2PI: HOST2("cvtps2dq", d, s, csr); d[1] = 0; break;
    case X86_CVTTPS2PI: HOST2("cvttps2dq", d, s, csr); d[1] = 0; break;
    case X86_CVTPD2PI: HOST2("cvtpd2dq", d, s, csr); d[1] = 0; break;
    case X86_CVTTPD2PI: HOST2("cvttpd2dq", d, s, csr); d[1] = 0; break;
    case X86_ADDSUBPS: HOST2("addsubps", d, s, csr); break;
    case X86_ADDSUBPD: HOST2("addsubpd", d, s, csr); break;
    case X86_HADDPS: HOST2("haddps", d, s, csr); break;
    case X86_HADDPD: HOST2("haddpd", d, s, csr); break;
    case X86_HSUBPS: HOST2("hsubps", d, s, csr); break;
    case X86_HSUBPD: HOST2("hsubpd", d, s, csr); break;
    case X86_ROUNDPS: ROUND16("roundps", imm, d, s, csr); break;
    case X86_ROUNDPD: ROUND16("roundpd", imm, d, s, csr); break;
    case X86_ROUNDSS: ROUND16("roundss", imm, d, s, csr); break;
    case X86_ROUNDSD: ROUND16("roundsd", imm, d, s, csr); break;
    case X86_DPPS: d = dpps(d, s, imm, &csr, gmask); break;
    case X86_DPPD: d = dppd(d, s, imm, &csr, gmask); break;
    default:
        return false;
    }
    *dv = d;
    *csrp = csr;
    return true;
}

static u64 helper_sse_fp(u64 env, u64 mnem, u64 doff, u64 soff, u64 arg)
{
    CPUState *cpu = (CPUState *)env;
    unsigned imm = arg & 0xff, swidth = (arg >> 8) & 0xff, dwidth = (arg >> 16) & 0xff;
    uint8_t *dp = (uint8_t *)cpu + doff;
    v2di d = { 0, 0 }, s = { 0, 0 };
    memcpy(&d, dp, dwidth);
    memcpy(&s, (uint8_t *)cpu + soff, swidth);
    v2di d0 = d;
    uint32_t csr = host_csr(cpu);
    uint32_t gmask = (cpu->mxcsr >> 7) & MXCSR_FLAGS;
    if (!sse_fp_compute((unsigned)mnem, &d, s, imm, &csr, gmask))
        return 0;
    /* DPPS/DPPD filtered their flags step by step (dp_step) */
    uint32_t soft = mnem == X86_DPPS || mnem == X86_DPPD;
    /* An unmasked underflow traps on a tiny result even when it is exact
     * (the masked rule needs inexact too): a run with FZ set flags every
     * tiny result with UE. */
    if (!(cpu->mxcsr & (MXCSR_UE << 7)) && !(csr & MXCSR_UE)) {
        v2di t = d0;
        uint32_t c2 = host_csr(cpu) | MXCSR_FZ;
        sse_fp_compute((unsigned)mnem, &t, s, imm, &c2, gmask);
        csr |= c2 & MXCSR_UE;
    }
    sse_raise_flags_soft(cpu, csr, soft);
    memcpy(dp, &d, dwidth);
    return 0;
}
const IRHelper hlp_sse_fp = IR_HELPER(helper_sse_fp, FAULT);

/* r32/r64 <- CVT(T)SS2SI / CVT(T)SD2SI xmm/m; arg = result size (4, 8) */
static u64 helper_sse_cvt2int(u64 env, u64 mnem, u64 soff, u64 size)
{
    CPUState *cpu = (CPUState *)env;
    v2di s = vload((uint8_t *)cpu + soff);
    uint32_t csr = host_csr(cpu), save;
    uint64_t r = 0;
#define CVT(insn, reg) \
    __asm__ volatile("stmxcsr %[sv]\n\tldmxcsr %[c]\n\t" insn " %[src], %" reg "[res]\n\t" \
                     "stmxcsr %[c]\n\tldmxcsr %[sv]" \
                     : [res] "=r"(r), [c] "+m"(csr), [sv] "=m"(save) : [src] "x"(s))
    if (size == 8) {
        switch (mnem) {
        case X86_CVTSS2SI: CVT("cvtss2si", "q"); break;
        case X86_CVTTSS2SI: CVT("cvttss2si", "q"); break;
        case X86_CVTSD2SI: CVT("cvtsd2si", "q"); break;
        default: CVT("cvttsd2si", "q"); break;
        }
    } else {
        switch (mnem) {
        case X86_CVTSS2SI: CVT("cvtss2si", "k"); break;
        case X86_CVTTSS2SI: CVT("cvttss2si", "k"); break;
        case X86_CVTSD2SI: CVT("cvtsd2si", "k"); break;
        default: CVT("cvttsd2si", "k"); break;
        }
        r = (uint32_t)r;
    }
#undef CVT
    sse_raise_flags(cpu, csr);
    return r;
}
const IRHelper hlp_sse_cvt2int = IR_HELPER(helper_sse_cvt2int, FAULT | IR_CALL_NO_WRITE_GLOBALS);

/* xmm <- CVTSI2SS / CVTSI2SD r/m32|64; size 4 or 8 */
static u64 helper_sse_cvtfromint(u64 env, u64 mnem, u64 doff, u64 v, u64 size)
{
    CPUState *cpu = (CPUState *)env;
    uint8_t *dp = (uint8_t *)cpu + doff;
    v2di d = vload(dp);
    uint32_t csr = host_csr(cpu), save;
#define CVT(insn, reg) \
    __asm__ volatile("stmxcsr %[sv]\n\tldmxcsr %[c]\n\t" insn " %" reg "[val], %[dst]\n\t" \
                     "stmxcsr %[c]\n\tldmxcsr %[sv]" \
                     : [dst] "+x"(d), [c] "+m"(csr), [sv] "=m"(save) : [val] "r"(v))
    if (mnem == X86_CVTSI2SS) {
        if (size == 8)
            CVT("cvtsi2ssq", "q");
        else
            CVT("cvtsi2ssl", "k");
    } else {
        if (size == 8)
            CVT("cvtsi2sdq", "q");
        else
            CVT("cvtsi2sdl", "k");
    }
#undef CVT
    sse_raise_flags(cpu, csr);
    memcpy(dp, &d, 16);
    return 0;
}
const IRHelper hlp_sse_cvtfromint = IR_HELPER(helper_sse_cvtfromint, FAULT);

/* UCOMISS/UCOMISD/COMISS/COMISD: returns ZF PF CF (OF SF AF cleared). */
static u64 helper_sse_comi(u64 env, u64 mnem, u64 doff, u64 soff)
{
    CPUState *cpu = (CPUState *)env;
    v2di a = vload((uint8_t *)cpu + doff), b = vload((uint8_t *)cpu + soff);
    uint32_t csr = host_csr(cpu), save;
    bool z, p, c;
#define COMI(insn) \
    __asm__ volatile("stmxcsr %[sv]\n\tldmxcsr %[cs]\n\t" insn " %[y], %[x]\n\t" \
                     "stmxcsr %[cs]\n\tldmxcsr %[sv]" \
                     : "=@ccz"(z), "=@ccp"(p), "=@ccc"(c), [cs] "+m"(csr), [sv] "=m"(save) \
                     : [x] "x"(a), [y] "x"(b))
    switch (mnem) {
    case X86_UCOMISS: COMI("ucomiss"); break;
    case X86_COMISS: COMI("comiss"); break;
    case X86_UCOMISD: COMI("ucomisd"); break;
    default: COMI("comisd"); break;
    }
#undef COMI
    sse_raise_flags(cpu, csr);
    return (z ? CC_Z : 0) | (p ? CC_P : 0) | (c ? CC_C : 0);
}
const IRHelper hlp_sse_comi = IR_HELPER(helper_sse_comi, FAULT | IR_CALL_NO_WRITE_GLOBALS);

/* ---- integer results in general registers ---- */

/* PMOVMSKB, MOVMSKPS/PD, PEXTRB/W/D/Q, EXTRACTPS; width: 8 (MMX) or 16 */
static u64 helper_sse_toreg(u64 env, u64 mnem, u64 soff, u64 arg)
{
    CPUState *cpu = (CPUState *)env;
    unsigned imm = arg & 0xff, w = (arg >> 8) & 0xff;
    XMMReg s;
    memset(&s, 0, sizeof(s));
    memcpy(&s, (uint8_t *)cpu + soff, w);
    uint64_t r = 0;
    switch (mnem) {
    case X86_PMOVMSKB:
        for (unsigned i = 0; i < w; i++)
            r |= (uint64_t)(s.b[i] >> 7) << i;
        break;
    case X86_MOVMSKPS:
        for (unsigned i = 0; i < 4; i++)
            r |= (uint64_t)(s.d[i] >> 31) << i;
        break;
    case X86_MOVMSKPD:
        r = (s.q[0] >> 63) | (s.q[1] >> 63) << 1;
        break;
    case X86_PEXTRB: r = s.b[imm & 15]; break;
    case X86_PEXTRW: r = s.w[imm & (w / 2 - 1)]; break;
    case X86_PEXTRD:
        r = (arg & SSE_Q64) ? s.q[imm & 1] : s.d[imm & 3];
        break;
    default: r = s.d[imm & 3]; break;     /* EXTRACTPS */
    }
    return r;
}
const IRHelper hlp_sse_toreg = IR_HELPER(helper_sse_toreg, NOGLOB | IR_CALL_PURE);

/* PINSRB/W/D/Q: dst lane <- v */
static u64 helper_sse_fromreg(u64 env, u64 mnem, u64 doff, u64 v, u64 arg)
{
    CPUState *cpu = (CPUState *)env;
    unsigned imm = arg & 0xff, w = (arg >> 8) & 0xff;
    XMMReg d;
    memset(&d, 0, sizeof(d));
    memcpy(&d, (uint8_t *)cpu + doff, w);
    switch (mnem) {
    case X86_PINSRB: d.b[imm & 15] = (uint8_t)v; break;
    case X86_PINSRW: d.w[imm & (w / 2 - 1)] = (uint16_t)v; break;
    default:
        if (arg & SSE_Q64)
            d.q[imm & 1] = v;             /* PINSRQ */
        else
            d.d[imm & 3] = (uint32_t)v;
        break;
    }
    memcpy((uint8_t *)cpu + doff, &d, w);
    return 0;
}
const IRHelper hlp_sse_fromreg = IR_HELPER(helper_sse_fromreg, NOGLOB);

/* PTEST: ZF = (a & b) == 0, CF = (~a & b) == 0 */
static u64 helper_sse_ptest(u64 env, u64 doff, u64 soff)
{
    CPUState *cpu = (CPUState *)env;
    XMMReg a, b;
    memcpy(&a, (uint8_t *)cpu + doff, 16);
    memcpy(&b, (uint8_t *)cpu + soff, 16);
    bool z = !(a.q[0] & b.q[0]) && !(a.q[1] & b.q[1]);
    bool c = !(~a.q[0] & b.q[0]) && !(~a.q[1] & b.q[1]);
    return (z ? CC_Z : 0) | (c ? CC_C : 0);
}
const IRHelper hlp_sse_ptest = IR_HELPER(helper_sse_ptest, NOGLOB | IR_CALL_PURE);

/* MASKMOVQ / MASKMOVDQU: bytes of src whose mask byte has bit 7 go to
 * [seg:rDI] (lin: the linear address); the whole range is checked first
 * so a fault leaves memory unchanged. */
static u64 helper_sse_maskmov(u64 env, u64 soff, u64 moff, u64 lin, u64 w)
{
    CPUState *cpu = (CPUState *)env;
    XMMReg s, m;
    memset(&s, 0, sizeof(s));
    memset(&m, 0, sizeof(m));
    memcpy(&s, (uint8_t *)cpu + soff, w);
    memcpy(&m, (uint8_t *)cpu + moff, w);
    int mmu = cpu_mmu_index(cpu);
    uint64_t amask = cpu_code64(cpu) ? ~0ULL : 0xffffffffULL;
    /* The access is checked as a whole, even with an all-zero mask (the
     * SDM leaves that implementation-dependent; the reference host does). */
    cpu_probe_write(cpu, lin & amask, (unsigned)w, mmu, 0);
    for (unsigned i = 0; i < w; i++)
        if (m.b[i] & 0x80)
            cpu_st(cpu, (lin + i) & amask, s.b[i], 1, mmu, 0);
    return 0;
}
const IRHelper hlp_sse_maskmov = IR_HELPER(helper_sse_maskmov, FAULT);

/* A 16-byte store that crosses a page: both pages must be writable before
 * either half is stored. */
static u64 helper_probe_write16(u64 env, u64 lin)
{
    CPUState *cpu = (CPUState *)env;
    cpu_probe_write(cpu, lin, 16, cpu_mmu_index(cpu), 0);
    return 0;
}
const IRHelper hlp_probe_write16 = IR_HELPER(helper_probe_write16, FAULT);
