/*
 * MMX / SSE2 / SSSE3 / SSE4.1 integer and data-rearranging operations,
 * called from translated code (translate-sse.c) as one helper:
 *
 *   helper_sse_int(env, mnemonic, dst_offset, src_offset, arg)
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

/* returns false when mnem is not an integer operation of this helper */
static bool sse_int_op(CPUState *cpu, unsigned mnem, XMMReg *r, const XMMReg *a,
                       const XMMReg *b, unsigned arg)
{
    unsigned w = (arg >> 8) & 0xff, imm = arg & 0xff;
    unsigned nb = w, nw = w / 2, nd = w / 4, nq = w / 8;
    *r = *a;
    switch (mnem) {
    /* add / subtract */
    case X86_PADDB: for (unsigned i = 0; i < nb; i++) r->b[i] = (uint8_t)(a->b[i] + b->b[i]); break;
    case X86_PADDW: for (unsigned i = 0; i < nw; i++) r->w[i] = (uint16_t)(a->w[i] + b->w[i]); break;
    case X86_PADDD: for (unsigned i = 0; i < nd; i++) r->d[i] = a->d[i] + b->d[i]; break;
    case X86_PADDQ: for (unsigned i = 0; i < nq; i++) r->q[i] = a->q[i] + b->q[i]; break;
    case X86_PSUBB: for (unsigned i = 0; i < nb; i++) r->b[i] = (uint8_t)(a->b[i] - b->b[i]); break;
    case X86_PSUBW: for (unsigned i = 0; i < nw; i++) r->w[i] = (uint16_t)(a->w[i] - b->w[i]); break;
    case X86_PSUBD: for (unsigned i = 0; i < nd; i++) r->d[i] = a->d[i] - b->d[i]; break;
    case X86_PSUBQ: for (unsigned i = 0; i < nq; i++) r->q[i] = a->q[i] - b->q[i]; break;
    case X86_PADDSB: for (unsigned i = 0; i < nb; i++) r->sb[i] = sat8(a->sb[i] + b->sb[i]); break;
    case X86_PADDSW: for (unsigned i = 0; i < nw; i++) r->sw[i] = sat16(a->sw[i] + b->sw[i]); break;
    case X86_PADDUSB: for (unsigned i = 0; i < nb; i++) r->b[i] = satu8(a->b[i] + b->b[i]); break;
    case X86_PADDUSW: for (unsigned i = 0; i < nw; i++) r->w[i] = satu16(a->w[i] + b->w[i]); break;
    case X86_PSUBSB: for (unsigned i = 0; i < nb; i++) r->sb[i] = sat8(a->sb[i] - b->sb[i]); break;
    case X86_PSUBSW: for (unsigned i = 0; i < nw; i++) r->sw[i] = sat16(a->sw[i] - b->sw[i]); break;
    case X86_PSUBUSB: for (unsigned i = 0; i < nb; i++) r->b[i] = satu8(a->b[i] - b->b[i]); break;
    case X86_PSUBUSW: for (unsigned i = 0; i < nw; i++) r->w[i] = satu16(a->w[i] - b->w[i]); break;
    /* compares */
    case X86_PCMPEQB: for (unsigned i = 0; i < nb; i++) r->b[i] = a->b[i] == b->b[i] ? 0xff : 0; break;
    case X86_PCMPEQW: for (unsigned i = 0; i < nw; i++) r->w[i] = a->w[i] == b->w[i] ? 0xffff : 0; break;
    case X86_PCMPEQD: for (unsigned i = 0; i < nd; i++) r->d[i] = a->d[i] == b->d[i] ? ~0u : 0; break;
    case X86_PCMPEQQ: for (unsigned i = 0; i < nq; i++) r->q[i] = a->q[i] == b->q[i] ? ~0ull : 0; break;
    case X86_PCMPGTB: for (unsigned i = 0; i < nb; i++) r->b[i] = a->sb[i] > b->sb[i] ? 0xff : 0; break;
    case X86_PCMPGTW: for (unsigned i = 0; i < nw; i++) r->w[i] = a->sw[i] > b->sw[i] ? 0xffff : 0; break;
    case X86_PCMPGTD: for (unsigned i = 0; i < nd; i++) r->d[i] = a->sd[i] > b->sd[i] ? ~0u : 0; break;
    case X86_PCMPGTQ: for (unsigned i = 0; i < nq; i++) r->q[i] = a->sq[i] > b->sq[i] ? ~0ull : 0; break;
    /* min / max / average */
    case X86_PMINUB: for (unsigned i = 0; i < nb; i++) r->b[i] = a->b[i] < b->b[i] ? a->b[i] : b->b[i]; break;
    case X86_PMAXUB: for (unsigned i = 0; i < nb; i++) r->b[i] = a->b[i] > b->b[i] ? a->b[i] : b->b[i]; break;
    case X86_PMINSB: for (unsigned i = 0; i < nb; i++) r->sb[i] = a->sb[i] < b->sb[i] ? a->sb[i] : b->sb[i]; break;
    case X86_PMAXSB: for (unsigned i = 0; i < nb; i++) r->sb[i] = a->sb[i] > b->sb[i] ? a->sb[i] : b->sb[i]; break;
    case X86_PMINSW: for (unsigned i = 0; i < nw; i++) r->sw[i] = a->sw[i] < b->sw[i] ? a->sw[i] : b->sw[i]; break;
    case X86_PMAXSW: for (unsigned i = 0; i < nw; i++) r->sw[i] = a->sw[i] > b->sw[i] ? a->sw[i] : b->sw[i]; break;
    case X86_PMINUW: for (unsigned i = 0; i < nw; i++) r->w[i] = a->w[i] < b->w[i] ? a->w[i] : b->w[i]; break;
    case X86_PMAXUW: for (unsigned i = 0; i < nw; i++) r->w[i] = a->w[i] > b->w[i] ? a->w[i] : b->w[i]; break;
    case X86_PMINSD: for (unsigned i = 0; i < nd; i++) r->sd[i] = a->sd[i] < b->sd[i] ? a->sd[i] : b->sd[i]; break;
    case X86_PMAXSD: for (unsigned i = 0; i < nd; i++) r->sd[i] = a->sd[i] > b->sd[i] ? a->sd[i] : b->sd[i]; break;
    case X86_PMINUD: for (unsigned i = 0; i < nd; i++) r->d[i] = a->d[i] < b->d[i] ? a->d[i] : b->d[i]; break;
    case X86_PMAXUD: for (unsigned i = 0; i < nd; i++) r->d[i] = a->d[i] > b->d[i] ? a->d[i] : b->d[i]; break;
    case X86_PAVGB: for (unsigned i = 0; i < nb; i++) r->b[i] = (uint8_t)((a->b[i] + b->b[i] + 1) >> 1); break;
    case X86_PAVGW: for (unsigned i = 0; i < nw; i++) r->w[i] = (uint16_t)((a->w[i] + b->w[i] + 1) >> 1); break;
    /* multiply */
    case X86_PMULLW: for (unsigned i = 0; i < nw; i++) r->w[i] = (uint16_t)(a->sw[i] * b->sw[i]); break;
    case X86_PMULHW: for (unsigned i = 0; i < nw; i++) r->w[i] = (uint16_t)((a->sw[i] * b->sw[i]) >> 16); break;
    case X86_PMULHUW: for (unsigned i = 0; i < nw; i++) r->w[i] = (uint16_t)(((uint32_t)a->w[i] * b->w[i]) >> 16); break;
    case X86_PMULHRSW:
        for (unsigned i = 0; i < nw; i++)
            r->w[i] = (uint16_t)((((int32_t)a->sw[i] * b->sw[i] >> 14) + 1) >> 1);
        break;
    case X86_PMULLD: for (unsigned i = 0; i < nd; i++) r->d[i] = (uint32_t)((int64_t)a->sd[i] * b->sd[i]); break;
    case X86_PMULUDQ: for (unsigned i = 0; i < nq; i++) r->q[i] = (uint64_t)a->d[2 * i] * b->d[2 * i]; break;
    case X86_PMULDQ: for (unsigned i = 0; i < nq; i++) r->sq[i] = (int64_t)a->sd[2 * i] * b->sd[2 * i]; break;
    case X86_PMADDWD:
        for (unsigned i = 0; i < nd; i++)
            r->d[i] = (uint32_t)(a->sw[2 * i] * b->sw[2 * i]) + (uint32_t)(a->sw[2 * i + 1] * b->sw[2 * i + 1]);
        break;
    case X86_PMADDUBSW:
        for (unsigned i = 0; i < nw; i++)
            r->sw[i] = sat16(a->b[2 * i] * b->sb[2 * i] + a->b[2 * i + 1] * b->sb[2 * i + 1]);
        break;
    case X86_PSADBW:
        for (unsigned q = 0; q < nq; q++) {
            unsigned sum = 0;
            for (unsigned i = 0; i < 8; i++) {
                int d = a->b[q * 8 + i] - b->b[q * 8 + i];
                sum += (unsigned)(d < 0 ? -d : d);
            }
            r->q[q] = sum;
        }
        break;
    /* pack / unpack */
    case X86_PACKSSWB:
        for (unsigned i = 0; i < nw; i++) {
            r->sb[i] = sat8(a->sw[i]);
            r->sb[nw + i] = sat8(b->sw[i]);
        }
        break;
    case X86_PACKUSWB:
        for (unsigned i = 0; i < nw; i++) {
            r->b[i] = satu8(a->sw[i]);
            r->b[nw + i] = satu8(b->sw[i]);
        }
        break;
    case X86_PACKSSDW:
        for (unsigned i = 0; i < nd; i++) {
            r->sw[i] = sat16(a->sd[i]);
            r->sw[nd + i] = sat16(b->sd[i]);
        }
        break;
    case X86_PACKUSDW:
        for (unsigned i = 0; i < nd; i++) {
            r->w[i] = a->sd[i] < 0 ? 0 : a->sd[i] > 65535 ? 65535 : (uint16_t)a->sd[i];
            r->w[nd + i] = b->sd[i] < 0 ? 0 : b->sd[i] > 65535 ? 65535 : (uint16_t)b->sd[i];
        }
        break;
    case X86_PUNPCKLBW: op_unpack(r, a, b, 1, false, w); break;
    case X86_PUNPCKLWD: op_unpack(r, a, b, 2, false, w); break;
    case X86_PUNPCKLDQ: case X86_UNPCKLPS: op_unpack(r, a, b, 4, false, w); break;
    case X86_PUNPCKLQDQ: case X86_UNPCKLPD: op_unpack(r, a, b, 8, false, w); break;
    case X86_PUNPCKHBW: op_unpack(r, a, b, 1, true, w); break;
    case X86_PUNPCKHWD: op_unpack(r, a, b, 2, true, w); break;
    case X86_PUNPCKHDQ: case X86_UNPCKHPS: op_unpack(r, a, b, 4, true, w); break;
    case X86_PUNPCKHQDQ: case X86_UNPCKHPD: op_unpack(r, a, b, 8, true, w); break;
    /* shifts */
    case X86_PSRLW: case X86_PSRLD: case X86_PSRLQ: case X86_PSLLW: case X86_PSLLD:
    case X86_PSLLQ: case X86_PSRAW: case X86_PSRAD: case X86_PSRLDQ: case X86_PSLLDQ:
        op_shift(mnem, r, a, shift_count(b, arg), w);
        break;
    /* shuffles */
    case X86_PSHUFD: for (unsigned i = 0; i < 4; i++) r->d[i] = b->d[(imm >> (2 * i)) & 3]; break;
    case X86_PSHUFW: for (unsigned i = 0; i < 4; i++) r->w[i] = b->w[(imm >> (2 * i)) & 3]; break;
    case X86_PSHUFLW:
        for (unsigned i = 0; i < 4; i++) r->w[i] = b->w[(imm >> (2 * i)) & 3];
        r->q[1] = b->q[1];
        break;
    case X86_PSHUFHW:
        for (unsigned i = 0; i < 4; i++) r->w[4 + i] = b->w[4 + ((imm >> (2 * i)) & 3)];
        r->q[0] = b->q[0];
        break;
    case X86_SHUFPS:
        r->d[0] = a->d[imm & 3];
        r->d[1] = a->d[(imm >> 2) & 3];
        r->d[2] = b->d[(imm >> 4) & 3];
        r->d[3] = b->d[(imm >> 6) & 3];
        break;
    case X86_SHUFPD:
        r->q[0] = a->q[imm & 1];
        r->q[1] = b->q[(imm >> 1) & 1];
        break;
    case X86_PSHUFB:
        for (unsigned i = 0; i < nb; i++)
            r->b[i] = (b->b[i] & 0x80) ? 0 : a->b[b->b[i] & (nb - 1)];
        break;
    case X86_PALIGNR: {
        uint8_t cat[32];
        memset(cat, 0, sizeof(cat));
        memcpy(cat, b->b, nb);
        memcpy(cat + nb, a->b, nb);
        for (unsigned i = 0; i < nb; i++)
            r->b[i] = imm + i < 2 * nb ? cat[imm + i] : 0;
        break;
    }
    /* SSSE3 sign / abs / horizontal */
    case X86_PABSB: for (unsigned i = 0; i < nb; i++) r->b[i] = (uint8_t)(b->sb[i] < 0 ? -b->sb[i] : b->sb[i]); break;
    case X86_PABSW: for (unsigned i = 0; i < nw; i++) r->w[i] = (uint16_t)(b->sw[i] < 0 ? -b->sw[i] : b->sw[i]); break;
    case X86_PABSD: for (unsigned i = 0; i < nd; i++) r->d[i] = b->sd[i] < 0 ? 0u - b->d[i] : b->d[i]; break;
    case X86_PSIGNB:
        for (unsigned i = 0; i < nb; i++)
            r->b[i] = b->sb[i] < 0 ? (uint8_t)-a->b[i] : b->sb[i] ? a->b[i] : 0;
        break;
    case X86_PSIGNW:
        for (unsigned i = 0; i < nw; i++)
            r->w[i] = b->sw[i] < 0 ? (uint16_t)-a->w[i] : b->sw[i] ? a->w[i] : 0;
        break;
    case X86_PSIGND:
        for (unsigned i = 0; i < nd; i++)
            r->d[i] = b->sd[i] < 0 ? 0u - a->d[i] : b->sd[i] ? a->d[i] : 0;
        break;
    case X86_PHADDW: case X86_PHADDD: case X86_PHADDSW: case X86_PHSUBW: case X86_PHSUBD:
    case X86_PHSUBSW:
        op_horizontal(mnem, r, a, b, w);
        break;
    /* SSE4.1 blends and moves */
    case X86_PBLENDW: for (unsigned i = 0; i < 8; i++) r->w[i] = (imm >> i) & 1 ? b->w[i] : a->w[i]; break;
    case X86_BLENDPS: for (unsigned i = 0; i < 4; i++) r->d[i] = (imm >> i) & 1 ? b->d[i] : a->d[i]; break;
    case X86_BLENDPD: for (unsigned i = 0; i < 2; i++) r->q[i] = (imm >> i) & 1 ? b->q[i] : a->q[i]; break;
    case X86_PBLENDVB:
        for (unsigned i = 0; i < 16; i++) r->b[i] = (cpu->xmm[0].b[i] & 0x80) ? b->b[i] : a->b[i];
        break;
    case X86_BLENDVPS:
        for (unsigned i = 0; i < 4; i++) r->d[i] = (cpu->xmm[0].sd[i] < 0) ? b->d[i] : a->d[i];
        break;
    case X86_BLENDVPD:
        for (unsigned i = 0; i < 2; i++) r->q[i] = (cpu->xmm[0].sq[i] < 0) ? b->q[i] : a->q[i];
        break;
    case X86_PMOVSXBW: case X86_PMOVSXBD: case X86_PMOVSXBQ: case X86_PMOVSXWD:
    case X86_PMOVSXWQ: case X86_PMOVSXDQ: case X86_PMOVZXBW: case X86_PMOVZXBD:
    case X86_PMOVZXBQ: case X86_PMOVZXWD: case X86_PMOVZXWQ: case X86_PMOVZXDQ:
        op_pmovx(mnem, r, b);
        break;
    case X86_PHMINPOSUW: {
        unsigned best = 0;
        for (unsigned i = 1; i < 8; i++)
            if (b->w[i] < b->w[best])
                best = i;
        memset(r, 0, sizeof(*r));
        r->w[0] = b->w[best];
        r->w[1] = (uint16_t)best;
        break;
    }
    case X86_MPSADBW: {
        unsigned so = (imm & 3) * 4, dof = ((imm >> 2) & 1) * 4;
        for (unsigned i = 0; i < 8; i++) {
            unsigned sum = 0;
            for (unsigned j = 0; j < 4; j++) {
                int d = a->b[dof + i + j] - b->b[so + j];
                sum += (unsigned)(d < 0 ? -d : d);
            }
            r->w[i] = (uint16_t)sum;
        }
        break;
    }
    case X86_INSERTPS: {
        /* the translator clears imm[7:6] for a memory source (lane 0) */
        uint32_t v = b->d[(imm >> 6) & 3];
        r->d[(imm >> 4) & 3] = v;
        for (unsigned i = 0; i < 4; i++)
            if ((imm >> i) & 1)
                r->d[i] = 0;
        break;
    }
    case X86_MOVSLDUP: r->d[0] = r->d[1] = b->d[0]; r->d[2] = r->d[3] = b->d[2]; break;
    case X86_MOVSHDUP: r->d[0] = r->d[1] = b->d[1]; r->d[2] = r->d[3] = b->d[3]; break;
    case X86_MOVDDUP: r->q[0] = r->q[1] = b->q[0]; break;
    case X86_PCLMULQDQ: {
        uint64_t x = a->q[imm & 1], y = b->q[(imm >> 4) & 1], lo = 0, hi = 0;
        for (int i = 0; i < 64; i++)
            if ((y >> i) & 1) {
                lo ^= x << i;
                hi ^= i ? x >> (64 - i) : 0;
            }
        r->q[0] = lo;
        r->q[1] = hi;
        break;
    }
    default:
        return sse_int_op_crypto(mnem, r, a, b, imm);
    }
    return true;
}

static u64 helper_sse_int(u64 env, u64 mnem, u64 doff, u64 soff, u64 arg)
{
    CPUState *cpu = (CPUState *)env;
    unsigned w = (arg >> 8) & 0xff;
    XMMReg a, b, r;
    memset(&a, 0, sizeof(a));
    memset(&b, 0, sizeof(b));
    memcpy(&a, (uint8_t *)cpu + doff, w);
    memcpy(&b, (uint8_t *)cpu + soff, w);
    if (!sse_int_op(cpu, (unsigned)mnem, &r, &a, &b, (unsigned)arg))
        return 0;
    memcpy((uint8_t *)cpu + doff, &r, w);
    return 0;
}
const IRHelper hlp_sse_int = IR_HELPER(helper_sse_int, NOGLOB);
