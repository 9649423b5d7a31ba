/*
 * MMX / SSE2 / SSSE3 / SSE4.1 integer and data-rearranging operations,
 * called from translated code (translate-sse.c) as one helper:
 *
 *   helper_sse_int(env, mnemonic, dst_offset, src_offset, arg)
 *
 * which runs the mnemonic's lane function, named by the lanes column of its
 * row in cpu/opcodes.def (sse_<mnemonic> below; a few related mnemonics
 * share one: the shifts, PMOVSX/ZX, PHADD/PHSUB, AES).
 *
 * The operands are env-relative offsets of an XMM register, the
 * significand of an MMX register, or the translator's scratch register
 * holding a memory operand.  arg = imm8 | width << 8 (8 bytes for MMX,
 * 16 for XMM) | SSEI_IMMCOUNT (shift count in imm8, not in the source).
 * The code is plain C on lanes of the width given, so the same case
 * serves the MMX and the XMM form (PUNPCKLBW mm interleaves 4 bytes,
 * PUNPCKLBW xmm 8).  Operands may alias: results go through a local.
 */
#include <string.h>

#include "cpu/decode.h"
#include "cpu/fpu.h"
#include "cpu/helpers.h"

#define NOGLOB (IR_CALL_NO_READ_GLOBALS | IR_CALL_NO_WRITE_GLOBALS)

static int8_t sat8(int v) { return (int8_t)(v > 127 ? 127 : v < -128 ? -128 : v); }
static uint8_t satu8(int v) { return (uint8_t)(v > 255 ? 255 : v < 0 ? 0 : v); }
static int16_t sat16(int v) { return (int16_t)(v > 32767 ? 32767 : v < -32768 ? -32768 : v); }
static uint16_t satu16(int v) { return (uint16_t)(v > 65535 ? 65535 : v < 0 ? 0 : v); }

/* Shift count from the source operand (its low 64 bits). */
static uint64_t shift_count(const XMMReg *b, unsigned arg)
{
    return (arg & SSEI_IMMCOUNT) ? (arg & 0xff) : b->q[0];
}

static void op_shift(unsigned mnem, XMMReg *r, const XMMReg *a, uint64_t c, unsigned w)
{
    switch (mnem) {
    case X86_PSRLW: for (unsigned i = 0; i < w / 2; i++) r->w[i] = c > 15 ? 0 : (uint16_t)(a->w[i] >> c); break;
    case X86_PSRLD: for (unsigned i = 0; i < w / 4; i++) r->d[i] = c > 31 ? 0 : a->d[i] >> c; break;
    case X86_PSRLQ: for (unsigned i = 0; i < w / 8; i++) r->q[i] = c > 63 ? 0 : a->q[i] >> c; break;
    case X86_PSLLW: for (unsigned i = 0; i < w / 2; i++) r->w[i] = c > 15 ? 0 : (uint16_t)(a->w[i] << c); break;
    case X86_PSLLD: for (unsigned i = 0; i < w / 4; i++) r->d[i] = c > 31 ? 0 : a->d[i] << c; break;
    case X86_PSLLQ: for (unsigned i = 0; i < w / 8; i++) r->q[i] = c > 63 ? 0 : a->q[i] << c; break;
    case X86_PSRAW: for (unsigned i = 0; i < w / 2; i++) r->sw[i] = (int16_t)(a->sw[i] >> (c > 15 ? 15 : c)); break;
    case X86_PSRAD: for (unsigned i = 0; i < w / 4; i++) r->sd[i] = a->sd[i] >> (c > 31 ? 31 : c); break;
    case X86_PSRLDQ:
        memset(r, 0, sizeof(*r));
        for (unsigned i = 0; c < 16 && i + c < 16; i++)
            r->b[i] = a->b[i + c];
        break;
    case X86_PSLLDQ:
        memset(r, 0, sizeof(*r));
        for (unsigned i = (unsigned)(c < 16 ? c : 16); i < 16; i++)
            r->b[i] = a->b[i - c];
        break;
    default:
        break;
    }
}

/* unpack: interleave the low (hi=0) or high halves of a and b, lanes of
 * size ls bytes */
static void op_unpack(XMMReg *r, const XMMReg *a, const XMMReg *b, unsigned ls, bool hi,
                      unsigned w)
{
    unsigned n = w / ls, base = hi ? n / 2 : 0;
    for (unsigned i = 0; i < n / 2; i++) {
        memcpy(&r->b[(2 * i) * ls], &a->b[(base + i) * ls], ls);
        memcpy(&r->b[(2 * i + 1) * ls], &b->b[(base + i) * ls], ls);
    }
}

static void op_pmovx(unsigned mnem, XMMReg *r, const XMMReg *b)
{
    XMMReg t;
    memset(&t, 0, sizeof(t));
    switch (mnem) {
    case X86_PMOVSXBW: for (int i = 0; i < 8; i++) t.sw[i] = b->sb[i]; break;
    case X86_PMOVSXBD: for (int i = 0; i < 4; i++) t.sd[i] = b->sb[i]; break;
    case X86_PMOVSXBQ: for (int i = 0; i < 2; i++) t.sq[i] = b->sb[i]; break;
    case X86_PMOVSXWD: for (int i = 0; i < 4; i++) t.sd[i] = b->sw[i]; break;
    case X86_PMOVSXWQ: for (int i = 0; i < 2; i++) t.sq[i] = b->sw[i]; break;
    case X86_PMOVSXDQ: for (int i = 0; i < 2; i++) t.sq[i] = b->sd[i]; break;
    case X86_PMOVZXBW: for (int i = 0; i < 8; i++) t.w[i] = b->b[i]; break;
    case X86_PMOVZXBD: for (int i = 0; i < 4; i++) t.d[i] = b->b[i]; break;
    case X86_PMOVZXBQ: for (int i = 0; i < 2; i++) t.q[i] = b->b[i]; break;
    case X86_PMOVZXWD: for (int i = 0; i < 4; i++) t.d[i] = b->w[i]; break;
    case X86_PMOVZXWQ: for (int i = 0; i < 2; i++) t.q[i] = b->w[i]; break;
    case X86_PMOVZXDQ: for (int i = 0; i < 2; i++) t.q[i] = b->d[i]; break;
    default: break;
    }
    *r = t;
}

static void op_horizontal(unsigned mnem, XMMReg *r, const XMMReg *a, const XMMReg *b,
                          unsigned w)
{
    unsigned nw = w / 2, nd = w / 4;
    XMMReg t;
    memset(&t, 0, sizeof(t));
    for (unsigned half = 0; half < 2; half++) {
        const XMMReg *x = half ? b : a;
        switch (mnem) {
        case X86_PHADDW:
            for (unsigned i = 0; i < nw / 2; i++)
                t.w[half * nw / 2 + i] = (uint16_t)(x->w[2 * i] + x->w[2 * i + 1]);
            break;
        case X86_PHSUBW:
            for (unsigned i = 0; i < nw / 2; i++)
                t.w[half * nw / 2 + i] = (uint16_t)(x->w[2 * i] - x->w[2 * i + 1]);
            break;
        case X86_PHADDSW:
            for (unsigned i = 0; i < nw / 2; i++)
                t.sw[half * nw / 2 + i] = sat16(x->sw[2 * i] + x->sw[2 * i + 1]);
            break;
        case X86_PHSUBSW:
            for (unsigned i = 0; i < nw / 2; i++)
                t.sw[half * nw / 2 + i] = sat16(x->sw[2 * i] - x->sw[2 * i + 1]);
            break;
        case X86_PHADDD:
            for (unsigned i = 0; i < nd / 2; i++)
                t.d[half * nd / 2 + i] = x->d[2 * i] + x->d[2 * i + 1];
            break;
        case X86_PHSUBD:
            for (unsigned i = 0; i < nd / 2; i++)
                t.d[half * nd / 2 + i] = x->d[2 * i] - x->d[2 * i + 1];
            break;
        default:
            break;
        }
    }
    *r = t;
}

/* ---- one lane function per mnemonic (the lanes column of its row in
 * cpu/opcodes.def); r starts as a copy of a ---- */

typedef struct SseOp {
    CPUState *cpu;
    unsigned mnem;
    unsigned w;                   /* 8 (MMX) or 16 (XMM) bytes */
    unsigned imm;                 /* imm8 */
    unsigned nb, nw, nd, nq;      /* lanes of 1, 2, 4, 8 bytes in w */
    unsigned arg;                 /* imm8 | w << 8 | SSEI_IMMCOUNT */
} SseOp;

typedef void SseLanesFn(const SseOp *o, XMMReg *r, const XMMReg *a, const XMMReg *b);

/* add / subtract */

static void sse_paddb(const SseOp *o, XMMReg *r, const XMMReg *a, const XMMReg *b)
{
    for (unsigned i = 0; i < o->nb; i++) r->b[i] = (uint8_t)(a->b[i] + b->b[i]);
}

static void sse_paddw(const SseOp *o, XMMReg *r, const XMMReg *a, const XMMReg *b)
{
    for (unsigned i = 0; i < o->nw; i++) r->w[i] = (uint16_t)(a->w[i] + b->w[i]);
}

static void sse_paddd(const SseOp *o, XMMReg *r, const XMMReg *a, const XMMReg *b)
{
    for (unsigned i = 0; i < o->nd; i++) r->d[i] = a->d[i] + b->d[i];
}

static void sse_paddq(const SseOp *o, XMMReg *r, const XMMReg *a, const XMMReg *b)
{
    for (unsigned i = 0; i < o->nq; i++) r->q[i] = a->q[i] + b->q[i];
}

static void sse_psubb(const SseOp *o, XMMReg *r, const XMMReg *a, const XMMReg *b)
{
    for (unsigned i = 0; i < o->nb; i++) r->b[i] = (uint8_t)(a->b[i] - b->b[i]);
}

static void sse_psubw(const SseOp *o, XMMReg *r, const XMMReg *a, const XMMReg *b)
{
    for (unsigned i = 0; i < o->nw; i++) r->w[i] = (uint16_t)(a->w[i] - b->w[i]);
}

static void sse_psubd(const SseOp *o, XMMReg *r, const XMMReg *a, const XMMReg *b)
{
    for (unsigned i = 0; i < o->nd; i++) r->d[i] = a->d[i] - b->d[i];
}

static void sse_psubq(const SseOp *o, XMMReg *r, const XMMReg *a, const XMMReg *b)
{
    for (unsigned i = 0; i < o->nq; i++) r->q[i] = a->q[i] - b->q[i];
}

static void sse_paddsb(const SseOp *o, XMMReg *r, const XMMReg *a, const XMMReg *b)
{
    for (unsigned i = 0; i < o->nb; i++) r->sb[i] = sat8(a->sb[i] + b->sb[i]);
}

static void sse_paddsw(const SseOp *o, XMMReg *r, const XMMReg *a, const XMMReg *b)
{
    for (unsigned i = 0; i < o->nw; i++) r->sw[i] = sat16(a->sw[i] + b->sw[i]);
}

static void sse_paddusb(const SseOp *o, XMMReg *r, const XMMReg *a, const XMMReg *b)
{
    for (unsigned i = 0; i < o->nb; i++) r->b[i] = satu8(a->b[i] + b->b[i]);
}

static void sse_paddusw(const SseOp *o, XMMReg *r, const XMMReg *a, const XMMReg *b)
{
    for (unsigned i = 0; i < o->nw; i++) r->w[i] = satu16(a->w[i] + b->w[i]);
}

static void sse_psubsb(const SseOp *o, XMMReg *r, const XMMReg *a, const XMMReg *b)
{
    for (unsigned i = 0; i < o->nb; i++) r->sb[i] = sat8(a->sb[i] - b->sb[i]);
}

static void sse_psubsw(const SseOp *o, XMMReg *r, const XMMReg *a, const XMMReg *b)
{
    for (unsigned i = 0; i < o->nw; i++) r->sw[i] = sat16(a->sw[i] - b->sw[i]);
}

static void sse_psubusb(const SseOp *o, XMMReg *r, const XMMReg *a, const XMMReg *b)
{
    for (unsigned i = 0; i < o->nb; i++) r->b[i] = satu8(a->b[i] - b->b[i]);
}

static void sse_psubusw(const SseOp *o, XMMReg *r, const XMMReg *a, const XMMReg *b)
{
    for (unsigned i = 0; i < o->nw; i++) r->w[i] = satu16(a->w[i] - b->w[i]);
}

/* compares */

static void sse_pcmpeqb(const SseOp *o, XMMReg *r, const XMMReg *a, const XMMReg *b)
{
    for (unsigned i = 0; i < o->nb; i++) r->b[i] = a->b[i] == b->b[i] ? 0xff : 0;
}

static void sse_pcmpeqw(const SseOp *o, XMMReg *r, const XMMReg *a, const XMMReg *b)
{
    for (unsigned i = 0; i < o->nw; i++) r->w[i] = a->w[i] == b->w[i] ? 0xffff : 0;
}

static void sse_pcmpeqd(const SseOp *o, XMMReg *r, const XMMReg *a, const XMMReg *b)
{
    for (unsigned i = 0; i < o->nd; i++) r->d[i] = a->d[i] == b->d[i] ? ~0u : 0;
}

static void sse_pcmpeqq(const SseOp *o, XMMReg *r, const XMMReg *a, const XMMReg *b)
{
    for (unsigned i = 0; i < o->nq; i++) r->q[i] = a->q[i] == b->q[i] ? ~0ull : 0;
}

static void sse_pcmpgtb(const SseOp *o, XMMReg *r, const XMMReg *a, const XMMReg *b)
{
    for (unsigned i = 0; i < o->nb; i++) r->b[i] = a->sb[i] > b->sb[i] ? 0xff : 0;
}

static void sse_pcmpgtw(const SseOp *o, XMMReg *r, const XMMReg *a, const XMMReg *b)
{
    for (unsigned i = 0; i < o->nw; i++) r->w[i] = a->sw[i] > b->sw[i] ? 0xffff : 0;
}

static void sse_pcmpgtd(const SseOp *o, XMMReg *r, const XMMReg *a, const XMMReg *b)
{
    for (unsigned i = 0; i < o->nd; i++) r->d[i] = a->sd[i] > b->sd[i] ? ~0u : 0;
}

static void sse_pcmpgtq(const SseOp *o, XMMReg *r, const XMMReg *a, const XMMReg *b)
{
    for (unsigned i = 0; i < o->nq; i++) r->q[i] = a->sq[i] > b->sq[i] ? ~0ull : 0;
}

/* min / max / average */

static void sse_pminub(const SseOp *o, XMMReg *r, const XMMReg *a, const XMMReg *b)
{
    for (unsigned i = 0; i < o->nb; i++) r->b[i] = a->b[i] < b->b[i] ? a->b[i] : b->b[i];
}

static void sse_pmaxub(const SseOp *o, XMMReg *r, const XMMReg *a, const XMMReg *b)
{
    for (unsigned i = 0; i < o->nb; i++) r->b[i] = a->b[i] > b->b[i] ? a->b[i] : b->b[i];
}

static void sse_pminsb(const SseOp *o, XMMReg *r, const XMMReg *a, const XMMReg *b)
{
    for (unsigned i = 0; i < o->nb; i++) r->sb[i] = a->sb[i] < b->sb[i] ? a->sb[i] : b->sb[i];
}

static void sse_pmaxsb(const SseOp *o, XMMReg *r, const XMMReg *a, const XMMReg *b)
{
    for (unsigned i = 0; i < o->nb; i++) r->sb[i] = a->sb[i] > b->sb[i] ? a->sb[i] : b->sb[i];
}

static void sse_pminsw(const SseOp *o, XMMReg *r, const XMMReg *a, const XMMReg *b)
{
    for (unsigned i = 0; i < o->nw; i++) r->sw[i] = a->sw[i] < b->sw[i] ? a->sw[i] : b->sw[i];
}

static void sse_pmaxsw(const SseOp *o, XMMReg *r, const XMMReg *a, const XMMReg *b)
{
    for (unsigned i = 0; i < o->nw; i++) r->sw[i] = a->sw[i] > b->sw[i] ? a->sw[i] : b->sw[i];
}

static void sse_pminuw(const SseOp *o, XMMReg *r, const XMMReg *a, const XMMReg *b)
{
    for (unsigned i = 0; i < o->nw; i++) r->w[i] = a->w[i] < b->w[i] ? a->w[i] : b->w[i];
}

static void sse_pmaxuw(const SseOp *o, XMMReg *r, const XMMReg *a, const XMMReg *b)
{
    for (unsigned i = 0; i < o->nw; i++) r->w[i] = a->w[i] > b->w[i] ? a->w[i] : b->w[i];
}

static void sse_pminsd(const SseOp *o, XMMReg *r, const XMMReg *a, const XMMReg *b)
{
    for (unsigned i = 0; i < o->nd; i++) r->sd[i] = a->sd[i] < b->sd[i] ? a->sd[i] : b->sd[i];
}

static void sse_pmaxsd(const SseOp *o, XMMReg *r, const XMMReg *a, const XMMReg *b)
{
    for (unsigned i = 0; i < o->nd; i++) r->sd[i] = a->sd[i] > b->sd[i] ? a->sd[i] : b->sd[i];
}

static void sse_pminud(const SseOp *o, XMMReg *r, const XMMReg *a, const XMMReg *b)
{
    for (unsigned i = 0; i < o->nd; i++) r->d[i] = a->d[i] < b->d[i] ? a->d[i] : b->d[i];
}

static void sse_pmaxud(const SseOp *o, XMMReg *r, const XMMReg *a, const XMMReg *b)
{
    for (unsigned i = 0; i < o->nd; i++) r->d[i] = a->d[i] > b->d[i] ? a->d[i] : b->d[i];
}

static void sse_pavgb(const SseOp *o, XMMReg *r, const XMMReg *a, const XMMReg *b)
{
    for (unsigned i = 0; i < o->nb; i++) r->b[i] = (uint8_t)((a->b[i] + b->b[i] + 1) >> 1);
}

static void sse_pavgw(const SseOp *o, XMMReg *r, const XMMReg *a, const XMMReg *b)
{
    for (unsigned i = 0; i < o->nw; i++) r->w[i] = (uint16_t)((a->w[i] + b->w[i] + 1) >> 1);
}

/* multiply */

static void sse_pmullw(const SseOp *o, XMMReg *r, const XMMReg *a, const XMMReg *b)
{
    for (unsigned i = 0; i < o->nw; i++) r->w[i] = (uint16_t)(a->sw[i] * b->sw[i]);
}

static void sse_pmulhw(const SseOp *o, XMMReg *r, const XMMReg *a, const XMMReg *b)
{
    for (unsigned i = 0; i < o->nw; i++) r->w[i] = (uint16_t)((a->sw[i] * b->sw[i]) >> 16);
}

static void sse_pmulhuw(const SseOp *o, XMMReg *r, const XMMReg *a, const XMMReg *b)
{
    for (unsigned i = 0; i < o->nw; i++) r->w[i] = (uint16_t)(((uint32_t)a->w[i] * b->w[i]) >> 16);
}

static void sse_pmulhrsw(const SseOp *o, XMMReg *r, const XMMReg *a, const XMMReg *b)
{
    for (unsigned i = 0; i < o->nw; i++)
        r->w[i] = (uint16_t)((((int32_t)a->sw[i] * b->sw[i] >> 14) + 1) >> 1);
}

static void sse_pmulld(const SseOp *o, XMMReg *r, const XMMReg *a, const XMMReg *b)
{
    for (unsigned i = 0; i < o->nd; i++) r->d[i] = (uint32_t)((int64_t)a->sd[i] * b->sd[i]);
}

static void sse_pmuludq(const SseOp *o, XMMReg *r, const XMMReg *a, const XMMReg *b)
{
    for (unsigned i = 0; i < o->nq; i++) r->q[i] = (uint64_t)a->d[2 * i] * b->d[2 * i];
}

static void sse_pmuldq(const SseOp *o, XMMReg *r, const XMMReg *a, const XMMReg *b)
{
    for (unsigned i = 0; i < o->nq; i++) r->sq[i] = (int64_t)a->sd[2 * i] * b->sd[2 * i];
}

static void sse_pmaddwd(const SseOp *o, XMMReg *r, const XMMReg *a, const XMMReg *b)
{
    for (unsigned i = 0; i < o->nd; i++)
        r->d[i] = (uint32_t)(a->sw[2 * i] * b->sw[2 * i]) + (uint32_t)(a->sw[2 * i + 1] * b->sw[2 * i + 1]);
}

static void sse_pmaddubsw(const SseOp *o, XMMReg *r, const XMMReg *a, const XMMReg *b)
{
    for (unsigned i = 0; i < o->nw; i++)
        r->sw[i] = sat16(a->b[2 * i] * b->sb[2 * i] + a->b[2 * i + 1] * b->sb[2 * i + 1]);
}

static void sse_psadbw(const SseOp *o, XMMReg *r, const XMMReg *a, const XMMReg *b)
{
    for (unsigned q = 0; q < o->nq; q++) {
        unsigned sum = 0;
        for (unsigned i = 0; i < 8; i++) {
            int d = a->b[q * 8 + i] - b->b[q * 8 + i];
            sum += (unsigned)(d < 0 ? -d : d);
        }
        r->q[q] = sum;
    }
}

/* pack / unpack */

static void sse_packsswb(const SseOp *o, XMMReg *r, const XMMReg *a, const XMMReg *b)
{
    for (unsigned i = 0; i < o->nw; i++) {
        r->sb[i] = sat8(a->sw[i]);
        r->sb[o->nw + i] = sat8(b->sw[i]);
    }
}

static void sse_packuswb(const SseOp *o, XMMReg *r, const XMMReg *a, const XMMReg *b)
{
    for (unsigned i = 0; i < o->nw; i++) {
        r->b[i] = satu8(a->sw[i]);
        r->b[o->nw + i] = satu8(b->sw[i]);
    }
}

static void sse_packssdw(const SseOp *o, XMMReg *r, const XMMReg *a, const XMMReg *b)
{
    for (unsigned i = 0; i < o->nd; i++) {
        r->sw[i] = sat16(a->sd[i]);
        r->sw[o->nd + i] = sat16(b->sd[i]);
    }
}

static void sse_packusdw(const SseOp *o, XMMReg *r, const XMMReg *a, const XMMReg *b)
{
    for (unsigned i = 0; i < o->nd; i++) {
        r->w[i] = a->sd[i] < 0 ? 0 : a->sd[i] > 65535 ? 65535 : (uint16_t)a->sd[i];
        r->w[o->nd + i] = b->sd[i] < 0 ? 0 : b->sd[i] > 65535 ? 65535 : (uint16_t)b->sd[i];
    }
}

static void sse_punpcklbw(const SseOp *o, XMMReg *r, const XMMReg *a, const XMMReg *b)
{
    op_unpack(r, a, b, 1, false, o->w);
}

static void sse_punpcklwd(const SseOp *o, XMMReg *r, const XMMReg *a, const XMMReg *b)
{
    op_unpack(r, a, b, 2, false, o->w);
}

static void sse_punpckldq(const SseOp *o, XMMReg *r, const XMMReg *a, const XMMReg *b)
{
    op_unpack(r, a, b, 4, false, o->w);
}

static void sse_punpcklqdq(const SseOp *o, XMMReg *r, const XMMReg *a, const XMMReg *b)
{
    op_unpack(r, a, b, 8, false, o->w);
}

static void sse_punpckhbw(const SseOp *o, XMMReg *r, const XMMReg *a, const XMMReg *b)
{
    op_unpack(r, a, b, 1, true, o->w);
}

static void sse_punpckhwd(const SseOp *o, XMMReg *r, const XMMReg *a, const XMMReg *b)
{
    op_unpack(r, a, b, 2, true, o->w);
}

static void sse_punpckhdq(const SseOp *o, XMMReg *r, const XMMReg *a, const XMMReg *b)
{
    op_unpack(r, a, b, 4, true, o->w);
}

static void sse_punpckhqdq(const SseOp *o, XMMReg *r, const XMMReg *a, const XMMReg *b)
{
    op_unpack(r, a, b, 8, true, o->w);
}

/* shifts */

static void sse_psrlw(const SseOp *o, XMMReg *r, const XMMReg *a, const XMMReg *b)
{
    op_shift(o->mnem, r, a, shift_count(b, o->arg), o->w);
}

/* shuffles */

static void sse_pshufd(const SseOp *o, XMMReg *r, const XMMReg *a, const XMMReg *b)
{
    for (unsigned i = 0; i < 4; i++) r->d[i] = b->d[(o->imm >> (2 * i)) & 3];
}

static void sse_pshufw(const SseOp *o, XMMReg *r, const XMMReg *a, const XMMReg *b)
{
    for (unsigned i = 0; i < 4; i++) r->w[i] = b->w[(o->imm >> (2 * i)) & 3];
}

static void sse_pshuflw(const SseOp *o, XMMReg *r, const XMMReg *a, const XMMReg *b)
{
    for (unsigned i = 0; i < 4; i++) r->w[i] = b->w[(o->imm >> (2 * i)) & 3];
        r->q[1] = b->q[1];
}

static void sse_pshufhw(const SseOp *o, XMMReg *r, const XMMReg *a, const XMMReg *b)
{
    for (unsigned i = 0; i < 4; i++) r->w[4 + i] = b->w[4 + ((o->imm >> (2 * i)) & 3)];
        r->q[0] = b->q[0];
}

static void sse_shufps(const SseOp *o, XMMReg *r, const XMMReg *a, const XMMReg *b)
{
    r->d[0] = a->d[o->imm & 3];
        r->d[1] = a->d[(o->imm >> 2) & 3];
        r->d[2] = b->d[(o->imm >> 4) & 3];
        r->d[3] = b->d[(o->imm >> 6) & 3];
}

static void sse_shufpd(const SseOp *o, XMMReg *r, const XMMReg *a, const XMMReg *b)
{
    r->q[0] = a->q[o->imm & 1];
        r->q[1] = b->q[(o->imm >> 1) & 1];
}

static void sse_pshufb(const SseOp *o, XMMReg *r, const XMMReg *a, const XMMReg *b)
{
    for (unsigned i = 0; i < o->nb; i++)
        r->b[i] = (b->b[i] & 0x80) ? 0 : a->b[b->b[i] & (o->nb - 1)];
}

static void sse_palignr(const SseOp *o, XMMReg *r, const XMMReg *a, const XMMReg *b)
{
    uint8_t cat[32];
    memset(cat, 0, sizeof(cat));
    memcpy(cat, b->b, o->nb);
    memcpy(cat + o->nb, a->b, o->nb);
    for (unsigned i = 0; i < o->nb; i++)
        r->b[i] = o->imm + i < 2 * o->nb ? cat[o->imm + i] : 0;
}

/* SSSE3 sign / abs / horizontal */

static void sse_pabsb(const SseOp *o, XMMReg *r, const XMMReg *a, const XMMReg *b)
{
    for (unsigned i = 0; i < o->nb; i++) r->b[i] = (uint8_t)(b->sb[i] < 0 ? -b->sb[i] : b->sb[i]);
}

static void sse_pabsw(const SseOp *o, XMMReg *r, const XMMReg *a, const XMMReg *b)
{
    for (unsigned i = 0; i < o->nw; i++) r->w[i] = (uint16_t)(b->sw[i] < 0 ? -b->sw[i] : b->sw[i]);
}

static void sse_pabsd(const SseOp *o, XMMReg *r, const XMMReg *a, const XMMReg *b)
{
    for (unsigned i = 0; i < o->nd; i++) r->d[i] = b->sd[i] < 0 ? 0u - b->d[i] : b->d[i];
}

static void sse_psignb(const SseOp *o, XMMReg *r, const XMMReg *a, const XMMReg *b)
{
    for (unsigned i = 0; i < o->nb; i++)
        r->b[i] = b->sb[i] < 0 ? (uint8_t)-a->b[i] : b->sb[i] ? a->b[i] : 0;
}

static void sse_psignw(const SseOp *o, XMMReg *r, const XMMReg *a, const XMMReg *b)
{
    for (unsigned i = 0; i < o->nw; i++)
        r->w[i] = b->sw[i] < 0 ? (uint16_t)-a->w[i] : b->sw[i] ? a->w[i] : 0;
}

static void sse_psignd(const SseOp *o, XMMReg *r, const XMMReg *a, const XMMReg *b)
{
    for (unsigned i = 0; i < o->nd; i++)
        r->d[i] = b->sd[i] < 0 ? 0u - a->d[i] : b->sd[i] ? a->d[i] : 0;
}

static void sse_phaddw(const SseOp *o, XMMReg *r, const XMMReg *a, const XMMReg *b)
{
    op_horizontal(o->mnem, r, a, b, o->w);
}

/* SSE4.1 blends and moves */

static void sse_pblendw(const SseOp *o, XMMReg *r, const XMMReg *a, const XMMReg *b)
{
    for (unsigned i = 0; i < 8; i++) r->w[i] = (o->imm >> i) & 1 ? b->w[i] : a->w[i];
}

static void sse_blendps(const SseOp *o, XMMReg *r, const XMMReg *a, const XMMReg *b)
{
    for (unsigned i = 0; i < 4; i++) r->d[i] = (o->imm >> i) & 1 ? b->d[i] : a->d[i];
}

static void sse_blendpd(const SseOp *o, XMMReg *r, const XMMReg *a, const XMMReg *b)
{
    for (unsigned i = 0; i < 2; i++) r->q[i] = (o->imm >> i) & 1 ? b->q[i] : a->q[i];
}

static void sse_pblendvb(const SseOp *o, XMMReg *r, const XMMReg *a, const XMMReg *b)
{
    for (unsigned i = 0; i < 16; i++) r->b[i] = (o->cpu->xmm[0].b[i] & 0x80) ? b->b[i] : a->b[i];
}

static void sse_blendvps(const SseOp *o, XMMReg *r, const XMMReg *a, const XMMReg *b)
{
    for (unsigned i = 0; i < 4; i++) r->d[i] = (o->cpu->xmm[0].sd[i] < 0) ? b->d[i] : a->d[i];
}

static void sse_blendvpd(const SseOp *o, XMMReg *r, const XMMReg *a, const XMMReg *b)
{
    for (unsigned i = 0; i < 2; i++) r->q[i] = (o->cpu->xmm[0].sq[i] < 0) ? b->q[i] : a->q[i];
}

static void sse_pmovsxbw(const SseOp *o, XMMReg *r, const XMMReg *a, const XMMReg *b)
{
    op_pmovx(o->mnem, r, b);
}

static void sse_phminposuw(const SseOp *o, XMMReg *r, const XMMReg *a, const XMMReg *b)
{
    unsigned best = 0;
    for (unsigned i = 1; i < 8; i++)
        if (b->w[i] < b->w[best])
            best = i;
    memset(r, 0, sizeof(*r));
    r->w[0] = b->w[best];
    r->w[1] = (uint16_t)best;
}

static void sse_mpsadbw(const SseOp *o, XMMReg *r, const XMMReg *a, const XMMReg *b)
{
    unsigned so = (o->imm & 3) * 4, dof = ((o->imm >> 2) & 1) * 4;
    for (unsigned i = 0; i < 8; i++) {
        unsigned sum = 0;
        for (unsigned j = 0; j < 4; j++) {
            int d = a->b[dof + i + j] - b->b[so + j];
            sum += (unsigned)(d < 0 ? -d : d);
        }
        r->w[i] = (uint16_t)sum;
    }
}

static void sse_insertps(const SseOp *o, XMMReg *r, const XMMReg *a, const XMMReg *b)
{
    /* the translator clears imm[7:6] for a memory source (lane 0) */
    uint32_t v = b->d[(o->imm >> 6) & 3];
    r->d[(o->imm >> 4) & 3] = v;
    for (unsigned i = 0; i < 4; i++)
        if ((o->imm >> i) & 1)
            r->d[i] = 0;
}

static void sse_movsldup(const SseOp *o, XMMReg *r, const XMMReg *a, const XMMReg *b)
{
    r->d[0] = r->d[1] = b->d[0]; r->d[2] = r->d[3] = b->d[2];
}

static void sse_movshdup(const SseOp *o, XMMReg *r, const XMMReg *a, const XMMReg *b)
{
    r->d[0] = r->d[1] = b->d[1]; r->d[2] = r->d[3] = b->d[3];
}

static void sse_movddup(const SseOp *o, XMMReg *r, const XMMReg *a, const XMMReg *b)
{
    r->q[0] = r->q[1] = b->q[0];
}

static void sse_pclmulqdq(const SseOp *o, XMMReg *r, const XMMReg *a, const XMMReg *b)
{
    uint64_t x = a->q[o->imm & 1], y = b->q[(o->imm >> 4) & 1], lo = 0, hi = 0;
    for (int i = 0; i < 64; i++)
        if ((y >> i) & 1) {
            lo ^= x << i;
            hi ^= i ? x >> (64 - i) : 0;
        }
    r->q[0] = lo;
    r->q[1] = hi;
}

/* SHA extensions (SDM Vol. 2: SHA1MSG1 ... SHA256RNDS2).  Dword 3 of an
 * operand is its bits 127:96, the SDM's first message word or state word. */

static uint32_t rol32(uint32_t v, unsigned n) { return n ? v << n | v >> (32 - n) : v; }
static uint32_t ror32(uint32_t v, unsigned n) { return rol32(v, (32 - n) & 31); }

static void sse_sha1msg1(const SseOp *o, XMMReg *r, const XMMReg *a, const XMMReg *b)
{
    r->d[3] = a->d[3] ^ a->d[1];
    r->d[2] = a->d[2] ^ a->d[0];
    r->d[1] = a->d[1] ^ b->d[3];
    r->d[0] = a->d[0] ^ b->d[2];
}

static void sse_sha1msg2(const SseOp *o, XMMReg *r, const XMMReg *a, const XMMReg *b)
{
    uint32_t w16 = rol32(a->d[3] ^ b->d[2], 1);
    uint32_t w17 = rol32(a->d[2] ^ b->d[1], 1);
    uint32_t w18 = rol32(a->d[1] ^ b->d[0], 1);
    uint32_t w19 = rol32(a->d[0] ^ w16, 1);
    r->d[3] = w16;
    r->d[2] = w17;
    r->d[1] = w18;
    r->d[0] = w19;
}

static void sse_sha1nexte(const SseOp *o, XMMReg *r, const XMMReg *a, const XMMReg *b)
{
    *r = *b;
    r->d[3] = b->d[3] + rol32(a->d[3], 30);
}

/* four SHA-1 rounds; imm8[1:0] selects the function and constant */
static void sse_sha1rnds4(const SseOp *o, XMMReg *r, const XMMReg *a, const XMMReg *b)
{
    static const uint32_t k[4] = { 0x5a827999, 0x6ed9eba1, 0x8f1bbcdc, 0xca62c1d6 };
    unsigned fn = o->imm & 3;
    uint32_t A = a->d[3], B = a->d[2], C = a->d[1], D = a->d[0], E = 0;
    for (int i = 0; i < 4; i++) {
        uint32_t f = fn == 0 ? (B & C) ^ (~B & D)
                   : fn == 2 ? (B & C) ^ (B & D) ^ (C & D) : B ^ C ^ D;
        uint32_t t = f + rol32(A, 5) + b->d[3 - i] + E + k[fn];
        E = D;
        D = C;
        C = rol32(B, 30);
        B = A;
        A = t;
    }
    r->d[3] = A;
    r->d[2] = B;
    r->d[1] = C;
    r->d[0] = D;
}

static uint32_t sha256_s0(uint32_t w) { return ror32(w, 7) ^ ror32(w, 18) ^ w >> 3; }
static uint32_t sha256_s1(uint32_t w) { return ror32(w, 17) ^ ror32(w, 19) ^ w >> 10; }

static void sse_sha256msg1(const SseOp *o, XMMReg *r, const XMMReg *a, const XMMReg *b)
{
    r->d[3] = a->d[3] + sha256_s0(b->d[0]);
    r->d[2] = a->d[2] + sha256_s0(a->d[3]);
    r->d[1] = a->d[1] + sha256_s0(a->d[2]);
    r->d[0] = a->d[0] + sha256_s0(a->d[1]);
}

static void sse_sha256msg2(const SseOp *o, XMMReg *r, const XMMReg *a, const XMMReg *b)
{
    uint32_t w16 = a->d[0] + sha256_s1(b->d[2]);
    uint32_t w17 = a->d[1] + sha256_s1(b->d[3]);
    uint32_t w18 = a->d[2] + sha256_s1(w16);
    uint32_t w19 = a->d[3] + sha256_s1(w17);
    r->d[0] = w16;
    r->d[1] = w17;
    r->d[2] = w18;
    r->d[3] = w19;
}

/* two SHA-256 rounds: state C D G H in the destination, A B E F in the
 * source, the message + constant words in XMM0[63:0] */
static void sse_sha256rnds2(const SseOp *o, XMMReg *r, const XMMReg *a, const XMMReg *b)
{
    uint32_t A = b->d[3], B = b->d[2], C = a->d[3], D = a->d[2];
    uint32_t E = b->d[1], F = b->d[0], G = a->d[1], H = a->d[0];
    for (int i = 0; i < 2; i++) {
        uint32_t ch = (E & F) ^ (~E & G), maj = (A & B) ^ (A & C) ^ (B & C);
        uint32_t t1 = ch + (ror32(E, 6) ^ ror32(E, 11) ^ ror32(E, 25)) + o->cpu->xmm[0].d[i] + H;
        uint32_t t2 = maj + (ror32(A, 2) ^ ror32(A, 13) ^ ror32(A, 22));
        H = G;
        G = F;
        F = E;
        E = D + t1;
        D = C;
        C = B;
        B = A;
        A = t1 + t2;
    }
    r->d[3] = A;
    r->d[2] = B;
    r->d[1] = E;
    r->d[0] = F;
}

/* AESENC AESENCLAST AESDEC AESDECLAST AESIMC AESKEYGENASSIST */
static void sse_aes(const SseOp *o, XMMReg *r, const XMMReg *a, const XMMReg *b)
{
    sse_int_op_crypto(o->mnem, r, a, b, o->imm);
}

#define NOLANES NULL
#define MNEM(name, gen, reads, cc_reads, attrs, vec, lanes) [X86_##name] = lanes,
static SseLanesFn *const sse_lanes[X86_MNEM_COUNT] = {
#include "cpu/opcodes.def"
};
#undef MNEM
#undef NOLANES

static u64 helper_sse_int(u64 env, u64 mnem, u64 doff, u64 soff, u64 arg)
{
    CPUState *cpu = (CPUState *)env;
    unsigned w = (arg >> 8) & 0xff;
    SseLanesFn *fn = mnem < X86_MNEM_COUNT ? sse_lanes[mnem] : NULL;
    XMMReg a, b, r;
    if (!fn)
        return 0;
    memset(&a, 0, sizeof(a));
    memset(&b, 0, sizeof(b));
    memcpy(&a, (uint8_t *)cpu + doff, w);
    memcpy(&b, (uint8_t *)cpu + soff, w);
    SseOp o = { .cpu = cpu, .mnem = (unsigned)mnem, .w = w, .imm = (unsigned)arg & 0xff,
                .nb = w, .nw = w / 2, .nd = w / 4, .nq = w / 8, .arg = (unsigned)arg };
    r = a;
    fn(&o, &r, &a, &b);
    memcpy((uint8_t *)cpu + doff, &r, w);
    return 0;
}
const IRHelper hlp_sse_int = IR_HELPER(helper_sse_int, NOGLOB);
