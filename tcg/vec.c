/*
 * Reference semantics of the vec, vec_to and vec_from IR ops (the
 * interpreter's implementation; tcg/vec-ops.def lists the operations).
 *
 * Every row is one SSE2 instruction and this file runs exactly that
 * instruction with inline asm, so the interpreter and the x86-64 backend
 * agree bit for bit, NaNs and MXCSR flags included, by construction.
 * Rows with an immediate operand (shuffles, shifts by a count) are plain C:
 * an asm immediate must be a compile-time constant.  Like
 * cpu/helpers-sse.c this needs an x86-64 host; another host would need
 * soft-float versions of the floating-point rows.
 */
#include <string.h>

#include "tcg/ir.h"

#if !defined(__x86_64__)
#error "tcg/vec.c runs the host's SSE unit: x86-64 hosts only"
#endif

typedef long long v2di __attribute__((vector_size(16)));

typedef union VecReg {
    v2di v;
    uint8_t b[16];
    uint16_t w[8];
    uint32_t d[4];
    uint64_t q[2];
} VecReg;

static VecReg vload(const uint8_t *p)
{
    VecReg r;
    memcpy(&r, p, 16);
    return r;
}

/* Shift of each lane (bits wide) by n: logical right, arithmetic right or
 * left.  Counts beyond the lane clear it (or fill it with the sign). */
static uint64_t lane_shift(uint64_t x, unsigned bits, unsigned n, int kind)
{
    uint64_t mask = bits == 64 ? ~0ULL : (1ULL << bits) - 1;
    if (kind == 1) {                                  /* arithmetic */
        if (n >= bits)
            n = bits - 1;
        uint64_t sign = (x >> (bits - 1)) & 1;
        uint64_t r = x >> n;
        if (sign && n)
            r |= mask & ~(mask >> n);
        return r & mask;
    }
    if (n >= bits)
        return 0;
    return (kind == 0 ? x >> n : x << n) & mask;
}

static void vec_shift_lanes(VecReg *d, unsigned bits, unsigned n, int kind)
{
    for (unsigned i = 0; i < 128 / bits; i++) {
        switch (bits) {
        case 16: d->w[i] = (uint16_t)lane_shift(d->w[i], 16, n, kind); break;
        case 32: d->d[i] = (uint32_t)lane_shift(d->d[i], 32, n, kind); break;
        default: d->q[i] = lane_shift(d->q[i], 64, n, kind); break;
        }
    }
}

/* PSLLDQ / PSRLDQ: whole-register byte shifts. */
static void vec_shift_bytes(VecReg *d, unsigned n, bool left)
{
    VecReg r;
    memset(&r, 0, sizeof(r));
    if (n < 16) {
        if (left)
            memcpy(r.b + n, d->b, 16 - n);
        else
            memcpy(r.b, d->b + n, 16 - n);
    }
    *d = r;
}

/* PALIGNR: bytes imm.. of the 32-byte concatenation d:s (s low), zero
 * past its end. */
static void vec_palignr(VecReg *r, const VecReg *d, const VecReg *s, unsigned imm)
{
    uint8_t cat[32];
    memcpy(cat, s->b, 16);
    memcpy(cat + 16, d->b, 16);
    for (unsigned i = 0; i < 16; i++)
        r->b[i] = imm + i < 32 ? cat[imm + i] : 0;
}

static void vec_imm(IRVecOp op, VecReg *d, const VecReg *s, unsigned imm)
{
    VecReg r = *d;
    switch (op) {
    case IR_VEC_PSHUFD:
        for (unsigned i = 0; i < 4; i++)
            r.d[i] = s->d[(imm >> (2 * i)) & 3];
        break;
    case IR_VEC_PSHUFLW:
        r.q[1] = s->q[1];
        for (unsigned i = 0; i < 4; i++)
            r.w[i] = s->w[(imm >> (2 * i)) & 3];
        break;
    case IR_VEC_PSHUFHW:
        r.q[0] = s->q[0];
        for (unsigned i = 0; i < 4; i++)
            r.w[4 + i] = s->w[4 + ((imm >> (2 * i)) & 3)];
        break;
    case IR_VEC_SHUFPS:
        r.d[0] = d->d[imm & 3];
        r.d[1] = d->d[(imm >> 2) & 3];
        r.d[2] = s->d[(imm >> 4) & 3];
        r.d[3] = s->d[(imm >> 6) & 3];
        break;
    case IR_VEC_PALIGNR:
        vec_palignr(&r, d, s, imm);
        break;
    default:                                          /* SHUFPD */
        r.q[0] = d->q[imm & 1];
        r.q[1] = s->q[(imm >> 1) & 1];
        break;
    }
    *d = r;
}

static void vec_shi(IRVecOp op, VecReg *d, unsigned n)
{
    switch (op) {
    case IR_VEC_PSRLW: vec_shift_lanes(d, 16, n, 0); break;
    case IR_VEC_PSRAW: vec_shift_lanes(d, 16, n, 1); break;
    case IR_VEC_PSLLW: vec_shift_lanes(d, 16, n, 2); break;
    case IR_VEC_PSRLD: vec_shift_lanes(d, 32, n, 0); break;
    case IR_VEC_PSRAD: vec_shift_lanes(d, 32, n, 1); break;
    case IR_VEC_PSLLD: vec_shift_lanes(d, 32, n, 2); break;
    case IR_VEC_PSRLQ: vec_shift_lanes(d, 64, n, 0); break;
    case IR_VEC_PSLLQ: vec_shift_lanes(d, 64, n, 2); break;
    case IR_VEC_PSRLDQ: vec_shift_bytes(d, n, false); break;
    default: vec_shift_bytes(d, n, true); break;      /* PSLLDQ */
    }
}

bool ir_vec_host_has(IRVecOp op)
{
    switch (op) {
    case IR_VEC_PSHUFB: case IR_VEC_PALIGNR:
        /* libgcc's CPU model, filled once before main: a plain load */
        return __builtin_cpu_supports("ssse3");
    default:
        return true;
    }
}

void ir_vec_run(uint64_t code, uint8_t *env, int64_t doff, int64_t soff)
{
    IRVecOp op = ir_vec_op(code);
    VecReg d = vload(env + doff), s = vload(env + soff);
    switch (op) {
#define VEC_BIN(n, opc, mn) \
    case IR_VEC_##n: __asm__ volatile(mn " %1, %0" : "+x"(d.v) : "x"(s.v)); break;
#define VEC_MOV(n, opc, mn) \
    case IR_VEC_##n: d = s; break;
#define VEC_IMM(n, opc) \
    case IR_VEC_##n: vec_imm(op, &d, &s, ir_vec_imm(code)); break;
#define VEC_SHI(n, opc, ext) \
    case IR_VEC_##n: vec_shi(op, &d, ir_vec_imm(code)); break;
#include "tcg/vec-ops.def"
    default:
        return;
    }
    memcpy(env + doff, &d, 16);
}

uint64_t ir_vec_run_to(uint64_t code, const uint8_t *env, int64_t aoff, int64_t boff)
{
    VecReg a = vload(env + aoff), b = vload(env + boff);
    uint64_t r = 0;
    bool z, p, c;
    switch (ir_vec_op(code)) {
#define VEC_TO(n, opc, mn, w) \
    case IR_VEC_##n: __asm__ volatile(mn " %1, %" w "0" : "=r"(r) : "x"(a.v)); break;
#define VEC_CMP(n, opc, mn) \
    case IR_VEC_##n: \
        __asm__ volatile(mn " %4, %3" : "=@ccz"(z), "=@ccp"(p), "=@ccc"(c) : "x"(a.v), "x"(b.v)); \
        r = (z ? 0x40 : 0) | (p ? 0x04 : 0) | (c ? 0x01 : 0); \
        break;
#include "tcg/vec-ops.def"
    default:
        break;
    }
    return r;
}

void ir_vec_run_from(uint64_t code, uint8_t *env, int64_t doff, uint64_t v)
{
    VecReg d = vload(env + doff);
    switch (ir_vec_op(code)) {
#define VEC_FROM(n, opc, mn, w) \
    case IR_VEC_##n: __asm__ volatile(mn " %" w "1, %0" : "+x"(d.v) : "r"(v)); break;
#include "tcg/vec-ops.def"
    default:
        return;
    }
    memcpy(env + doff, &d, 16);
}
