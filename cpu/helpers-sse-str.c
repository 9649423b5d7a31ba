/*
 * SSE4.2 string and CRC instructions: PCMPESTRI, PCMPESTRM, PCMPISTRI,
 * PCMPISTRM (SDM Vol. 2 4.1 "Imm8 control byte operation for PCMPESTRI /
 * PCMPESTRM / PCMPISTRI / PCMPISTRM") and CRC32 (CRC-32C, the Castagnoli
 * polynomial, bit-reflected), called from translate-sse.c.
 */
#include <string.h>

#include "cpu/decode.h"
#include "cpu/fpu.h"
#include "cpu/helpers.h"

#define NOGLOB (IR_CALL_NO_READ_GLOBALS | IR_CALL_NO_WRITE_GLOBALS)

/* element i of v as a signed/unsigned integer per the source format */
static int elem(const XMMReg *v, unsigned fmt, unsigned i)
{
    switch (fmt & 3) {
    case 0: return v->b[i];
    case 1: return v->w[i];
    case 2: return v->sb[i];
    default: return v->sw[i];
    }
}

/* Implicit length: index of the first zero element (n if none). */
static unsigned implicit_len(const XMMReg *v, unsigned fmt, unsigned n)
{
    for (unsigned i = 0; i < n; i++)
        if (elem(v, fmt, i) == 0)
            return i;
    return n;
}

/* Explicit length: |reg| saturated to n (64-bit register with REX.W). */
static unsigned explicit_len(uint64_t reg, bool w64, unsigned n)
{
    int64_t v = w64 ? (int64_t)reg : (int64_t)(int32_t)reg;
    uint64_t a = v < 0 ? 0 - (uint64_t)v : (uint64_t)v;
    return a > n ? n : (unsigned)a;
}

/* IntRes1 of the aggregation operation (bits 0..n-1). */
static uint32_t aggregate(const XMMReg *a, const XMMReg *b, unsigned fmt, unsigned agg,
                          unsigned n, unsigned la, unsigned lb)
{
    uint32_t r = 0;
    switch (agg) {
    case 0:     /* equal any: b[j] is one of a[0..la) */
        for (unsigned j = 0; j < lb; j++)
            for (unsigned i = 0; i < la; i++)
                if (elem(a, fmt, i) == elem(b, fmt, j)) {
                    r |= 1u << j;
                    break;
                }
        break;
    case 1:     /* ranges: a[2k] <= b[j] <= a[2k+1] */
        for (unsigned j = 0; j < lb; j++)
            for (unsigned i = 0; i < n; i += 2) {
                bool ge = i < la && elem(b, fmt, j) >= elem(a, fmt, i);
                bool le = i + 1 < la && elem(b, fmt, j) <= elem(a, fmt, i + 1);
                if (ge && le) {
                    r |= 1u << j;
                    break;
                }
            }
        break;
    case 2:     /* equal each: both invalid -> true, one invalid -> false */
        for (unsigned j = 0; j < n; j++) {
            bool va = j < la, vb = j < lb;
            bool t = (!va && !vb) || (va && vb && elem(a, fmt, j) == elem(b, fmt, j));
            if (t)
                r |= 1u << j;
        }
        break;
    default:    /* equal ordered: a (the needle) occurs in b at j */
        for (unsigned j = 0; j < n; j++) {
            bool t = true;
            for (unsigned i = 0; i + j < n && t; i++) {
                unsigned k = i + j;
                if (i >= la)
                    break;                    /* needle ended: match */
                if (k >= lb || elem(a, fmt, i) != elem(b, fmt, k))
                    t = false;
            }
            if (t)
                r |= 1u << j;
        }
        break;
    }
    return r;
}

/* The generic implementation of the SDM's pseudocode: op = mnemonic |
 * imm8 << 16 | REX.W << 24, a = the first operand, b = the second, rax
 * and rdx the explicit lengths.  Returns the flags (CF ZF SF OF) | index
 * << 16 for the -I forms; the -M forms store their mask in *mask. */
uint64_t pcmpstr_generic(uint64_t op, const XMMReg *a, const XMMReg *b, uint64_t rax,
                         uint64_t rdx, XMMReg *mask)
{
    unsigned mnem = op & 0xffff, imm = (op >> 16) & 0xff;
    bool w64 = (op >> 24) & 1;
    unsigned fmt = imm & 3, agg = (imm >> 2) & 3, pol = (imm >> 4) & 3;
    unsigned n = (fmt & 1) ? 8 : 16;
    bool expl = mnem == X86_PCMPESTRI || mnem == X86_PCMPESTRM;
    unsigned la = expl ? explicit_len(rax, w64, n) : implicit_len(a, fmt, n);
    unsigned lb = expl ? explicit_len(rdx, w64, n) : implicit_len(b, fmt, n);
    uint32_t all = (1u << n) - 1;
    uint32_t r1 = aggregate(a, b, fmt, agg, n, la, lb) & all, r2;
    switch (pol) {
    case 1: r2 = ~r1 & all; break;
    case 3: r2 = (r1 ^ ((1u << lb) - 1)) & all; break;
    default: r2 = r1; break;
    }
    uint64_t flags = (r2 ? CC_C : 0) | (lb < n ? CC_Z : 0) | (la < n ? CC_S : 0) |
                     ((r2 & 1) ? CC_O : 0);
    if (mnem == X86_PCMPESTRI || mnem == X86_PCMPISTRI) {
        unsigned idx = n;
        if (r2)
            idx = (imm & 0x40) ? 31u - (unsigned)__builtin_clz(r2) : (unsigned)__builtin_ctz(r2);
        return flags | (uint64_t)idx << 16;
    }
    XMMReg m;
    memset(&m, 0, sizeof(m));
    if (imm & 0x40) {
        for (unsigned j = 0; j < n; j++)
            if ((r2 >> j) & 1) {
                if (n == 16)
                    m.b[j] = 0xff;
                else
                    m.w[j] = 0xffff;
            }
    } else {
        m.d[0] = r2;
    }
    *mask = m;
    return flags;
}

/* ---- the host's own PCMPISTRI / PCMPESTRI ----
 *
 * glibc's strcspn/strspn/strpbrk/strcasecmp run PCMPISTRI in their inner
 * loops, and the generic code above costs up to 256 element compares per
 * instruction (3.5% of the shell-loop benchmark).  On a host with SSE4.2
 * the host instruction computes exactly the guest's result (the index and
 * CF ZF SF OF; AF PF are cleared by both), so the -I forms run it.  The
 * immediate must be an assembly-time constant: one case per imm8 value
 * (bit 7 is reserved and ignored, so 128 cases).  The -M forms, whose
 * result is XMM0, stay generic: they are rare in glibc. */

#define PCMP_FLAGS(c, z, s, o) \
    (((c) ? CC_C : 0) | ((z) ? CC_Z : 0) | ((s) ? CC_S : 0) | ((o) ? CC_O : 0))

typedef long long pcmp_v2di __attribute__((vector_size(16)));

static uint64_t pcmpistri_host(unsigned imm, pcmp_v2di a, pcmp_v2di b)
{
    uint32_t idx = 0;
    bool c = false, z = false, sf = false, o = false;
    switch (imm & 0x7f) {
#define PCMP_CASE(i) \
    case i: \
        __asm__("pcmpistri %[k], %[b], %[a]" \
                : "=c"(idx), "=@ccc"(c), "=@ccz"(z), "=@ccs"(sf), "=@cco"(o) \
                : [a] "x"(a), [b] "x"(b), [k] "i"(i)); \
        break;
#define PCMP_CASE4(i) PCMP_CASE(i) PCMP_CASE(i + 1) PCMP_CASE(i + 2) PCMP_CASE(i + 3)
#define PCMP_CASE16(i) PCMP_CASE4(i) PCMP_CASE4(i + 4) PCMP_CASE4(i + 8) PCMP_CASE4(i + 12)
        PCMP_CASE16(0x00) PCMP_CASE16(0x10) PCMP_CASE16(0x20) PCMP_CASE16(0x30)
        PCMP_CASE16(0x40) PCMP_CASE16(0x50) PCMP_CASE16(0x60) PCMP_CASE16(0x70)
#undef PCMP_CASE
    default:
        break;
    }
    return PCMP_FLAGS(c, z, sf, o) | (uint64_t)idx << 16;
}

/* 32-bit explicit lengths in EAX/EDX (REX.W clear) */
static uint64_t pcmpestri_host(unsigned imm, pcmp_v2di a, pcmp_v2di b, uint32_t la,
                               uint32_t lb)
{
    uint32_t idx = 0;
    bool c = false, z = false, sf = false, o = false;
    switch (imm & 0x7f) {
#define PCMP_CASE(i) \
    case i: \
        __asm__("pcmpestri %[k], %[b], %[a]" \
                : "=c"(idx), "=@ccc"(c), "=@ccz"(z), "=@ccs"(sf), "=@cco"(o) \
                : [a] "x"(a), [b] "x"(b), "a"(la), "d"(lb), [k] "i"(i)); \
        break;
        PCMP_CASE16(0x00) PCMP_CASE16(0x10) PCMP_CASE16(0x20) PCMP_CASE16(0x30)
        PCMP_CASE16(0x40) PCMP_CASE16(0x50) PCMP_CASE16(0x60) PCMP_CASE16(0x70)
#undef PCMP_CASE
#undef PCMP_CASE4
#undef PCMP_CASE16
    default:
        break;
    }
    return PCMP_FLAGS(c, z, sf, o) | (uint64_t)idx << 16;
}

bool pcmpstr_host_ok(void)
{
    /* libgcc's CPU model, filled once before main: a plain load */
    return __builtin_cpu_supports("sse4.2");
}

bool pcmpstr_host(uint64_t op, const XMMReg *a, const XMMReg *b, uint64_t rax, uint64_t rdx,
                  uint64_t *res)
{
    unsigned mnem = op & 0xffff, imm = (op >> 16) & 0xff;
    bool w64 = (op >> 24) & 1;
    if (!pcmpstr_host_ok())
        return false;
    pcmp_v2di va, vb;
    memcpy(&va, a, 16);
    memcpy(&vb, b, 16);
    if (mnem == X86_PCMPISTRI) {
        *res = pcmpistri_host(imm, va, vb);
        return true;
    }
    if (mnem == X86_PCMPESTRI && !w64) {
        *res = pcmpestri_host(imm, va, vb, (uint32_t)rax, (uint32_t)rdx);
        return true;
    }
    return false;
}

static u64 helper_pcmpstr(u64 env, u64 op, u64 doff, u64 soff, u64 rax, u64 rdx)
{
    CPUState *cpu = (CPUState *)env;
    XMMReg a, b;
    memcpy(&a, (uint8_t *)cpu + doff, 16);
    memcpy(&b, (uint8_t *)cpu + soff, 16);
    uint64_t r;
    if (pcmpstr_host(op, &a, &b, rax, rdx, &r))
        return r;
    return pcmpstr_generic(op, &a, &b, rax, rdx, &cpu->xmm[0]);
}
const IRHelper hlp_pcmpstr = IR_HELPER(helper_pcmpstr, NOGLOB);

/* CRC32: crc (32 bits) over the low `bytes` bytes of v, CRC-32C reflected */
static u64 helper_crc32(u64 crc, u64 v, u64 bytes)
{
    uint32_t c = (uint32_t)crc;
    for (unsigned i = 0; i < bytes; i++) {
        c ^= (uint8_t)(v >> (8 * i));
        for (int k = 0; k < 8; k++)
            c = (c >> 1) ^ (0x82f63b78u & (0u - (c & 1)));
    }
    return c;
}
const IRHelper hlp_crc32 = IR_HELPER(helper_crc32, NOGLOB | IR_CALL_PURE);
