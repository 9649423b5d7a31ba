/*
 * Instruction selection for the x86-64 backend: one gen_<op> per IR op,
 * driven by x86_compile_block (liveness, then one forward pass).
 *
 * I32 values always sit zero-extended in their 64-bit registers (every
 * 32-bit x86 instruction zero-extends), so extu_i32 and i32 helper
 * arguments cost nothing.  Constants become immediates where the x86 form
 * exists; compares fuse with jcc/setcc/cmovcc.
 *
 * Guest memory: the soft-TLB lookup is emitted inline (see gen_tlb_lookup);
 * a miss jumps to a per-access slow path emitted after the block body,
 * which saves the live caller-saved registers in the frame's save area,
 * calls tgt->mem->load/store(env, addr, [val,] memop, ra) with ra = the
 * address right after the access in the block body, restores, reloads the
 * cached (clean) globals from env, and jumps back.
 */
#include <stddef.h>
#include <string.h>

#include "core/util.h"
#include "tcg/x86_64/backend.h"

#define OUT(k) ((IRTemp)op->args[(k)])
#define IN(k) ((IRTemp)op->args[op->nout + (k)])
#define KON(k) (op->args[op->nout + op->nin + (k)])
#define IN_DEAD(k) ra_arg_dead(s, op->nout + (k))

_Static_assert(sizeof(TLBEntry) == 32, "TLB lookup scales the index by 32");

static uint32_t code_off(IREngineCtx *s)
{
    return (uint32_t)(s->a.p - s->code);
}

static bool temp_in_reg(IREngineCtx *s, IRTemp t)
{
    return s->ts[t].val == VAL_REG && s->ts[t].kind != IR_TEMP_FIXED;
}

/* Output register that may be input k's register when that input dies
 * here and is not also the temp 'other' (read after the output is
 * written).  Does not load anything. */
static int dst_reuse_or_alloc(IREngineCtx *s, const IRInsn *op, unsigned k, IRTemp other)
{
    IRTemp a = IN(k);
    if (temp_in_reg(s, a) && IN_DEAD(k) && a != other) {
        s->locked |= REGMASK(s->ts[a].reg);
        return s->ts[a].reg;
    }
    return ra_alloc_reg(s, X86_ALLOCATABLE, s->ts[OUT(0)].across_call);
}

/* Output register holding a copy of input k (two-address forms). */
static int dst_copy_of(IREngineCtx *s, const IRInsn *op, unsigned k, IRTemp other)
{
    IRTemp a = IN(k);
    if (temp_in_reg(s, a) && IN_DEAD(k) && a != other) {
        s->locked |= REGMASK(s->ts[a].reg);
        return s->ts[a].reg;
    }
    int r = ra_alloc_reg(s, X86_ALLOCATABLE, s->ts[OUT(0)].across_call);
    ra_load_into(s, a, r);
    return r;
}

static void finish1(IREngineCtx *s, const IRInsn *op, int rd)
{
    ra_release_dead_inputs(s, op);
    ra_bind_output(s, OUT(0), rd);
    ra_finish_outputs(s, op);
}

static bool const_imm32(IREngineCtx *s, IRTemp t, IRType type, int32_t *imm)
{
    uint64_t v;
    if (!ra_is_const(s, t, &v))
        return false;
    if (type == IR_I32) {
        *imm = (int32_t)(uint32_t)v;
        return true;
    }
    if (!fits_i32((int64_t)v))
        return false;
    *imm = (int32_t)v;
    return true;
}

/* ---- moves ---- */

static void gen_mov(IREngineCtx *s, const IRInsn *op)
{
    IRTemp d = OUT(0), a = IN(0);
    uint64_t v;
    if (ra_is_const(s, a, &v)) {
        ra_release_dead_inputs(s, op);
        ra_bind_const(s, d, v);
        ra_finish_outputs(s, op);
        return;
    }
    if (s->ts[d].kind == IR_TEMP_GLOBAL && temp_in_reg(s, a) && !IN_DEAD(0)) {
        /* global = live value: one store now beats a copy plus a store
         * at the next sync point (lazy-flags pattern cc_src = x) */
        ra_store_global_from(s, d, s->ts[a].reg);
        return;
    }
    int rd = dst_copy_of(s, op, 0, 0);
    finish1(s, op, rd);
}

static void gen_movi(IREngineCtx *s, const IRInsn *op)
{
    ra_bind_const(s, OUT(0), KON(0));
    ra_finish_outputs(s, op);
}

static void gen_discard(IREngineCtx *s, const IRInsn *op)
{
    if (s->ts[IN(0)].kind != IR_TEMP_GLOBAL)
        ra_temp_dead(s, IN(0));
}

/* ---- arithmetic ---- */

static void gen_alu(IREngineCtx *s, const IRInsn *op, int alu, bool commutative)
{
    IRType t = (IRType)op->type;
    bool is64 = x86_type64(t);
    unsigned ka = 0, kb = 1;
    uint64_t v;
    /* Constant (or the input that stays live) second. */
    if (commutative && (ra_is_const(s, IN(0), &v) ||
                        (temp_in_reg(s, IN(1)) && IN_DEAD(1) &&
                         !(temp_in_reg(s, IN(0)) && IN_DEAD(0))))) {
        ka = 1;
        kb = 0;
    }
    IRTemp a = IN(ka), b = IN(kb);
    int32_t imm;
    bool b_imm = const_imm32(s, b, t, &imm);
    int rb = -1;
    if (!b_imm)
        rb = ra_temp_load(s, b, X86_ALLOCATABLE);
    /* add without a dying input: lea computes into a fresh register */
    if (alu == ALU_ADD && !(temp_in_reg(s, a) && IN_DEAD(ka)) && !ra_is_const(s, a, &v)) {
        int ra_ = ra_temp_load(s, a, X86_ALLOCATABLE | REGMASK(X86_RBP));
        int rd = ra_alloc_reg(s, X86_ALLOCATABLE, s->ts[OUT(0)].across_call);
        if (b_imm)
            x86_modrm_mem(&s->a, OPC_LEA | rexw(is64), rd, ra_, -1, 0, imm);
        else
            x86_modrm_mem(&s->a, OPC_LEA | rexw(is64), rd, ra_, rb, 0, 0);
        finish1(s, op, rd);
        return;
    }
    int rd = dst_copy_of(s, op, ka, b);
    if (b_imm)
        x86_alu_ri(&s->a, alu, is64, rd, imm);
    else
        x86_alu_rr(&s->a, alu, is64, rd, rb);
    finish1(s, op, rd);
}

static void gen_andc(IREngineCtx *s, const IRInsn *op)
{
    IRType t = (IRType)op->type;
    bool is64 = x86_type64(t);
    uint64_t v;
    if (ra_is_const(s, IN(1), &v)) {
        uint64_t m = ~v;
        if (!is64 || fits_i32((int64_t)m)) {
            int rd = dst_copy_of(s, op, 0, 0);
            x86_alu_ri(&s->a, ALU_AND, is64, rd, (int32_t)m);
            finish1(s, op, rd);
            return;
        }
    }
    int rb = ra_temp_load(s, IN(1), X86_ALLOCATABLE);
    if (s->features & X86_HAS_BMI1) {
        int ra_ = ra_temp_load(s, IN(0), X86_ALLOCATABLE);
        int rd = dst_reuse_or_alloc(s, op, 0, 0);
        /* andn rd, rb, ra: rd = ~rb & ra */
        x86_byte(&s->a, 0xc4);
        x86_byte(&s->a, ((~rd & 8) << 4) | 0x40 | ((~ra_ & 8) << 2) | 0x02);
        x86_byte(&s->a, (is64 ? 0x80 : 0) | ((~rb & 15) << 3));
        x86_byte(&s->a, 0xf2);
        x86_byte(&s->a, 0xc0 | (rd & 7) << 3 | (ra_ & 7));
        finish1(s, op, rd);
        return;
    }
    int tmp = ra_alloc_reg(s, X86_ALLOCATABLE, false);
    x86_mov_rr(&s->a, true, tmp, rb);
    x86_modrm(&s->a, OPC_GRP3_Ev | rexw(is64), EXT3_NOT, tmp);
    int rd = dst_copy_of(s, op, 0, 0);
    x86_alu_rr(&s->a, ALU_AND, is64, rd, tmp);
    finish1(s, op, rd);
}

static void gen_mul(IREngineCtx *s, const IRInsn *op)
{
    IRType t = (IRType)op->type;
    bool is64 = x86_type64(t);
    unsigned ka = 0, kb = 1;
    uint64_t v;
    if (ra_is_const(s, IN(0), &v)) {
        ka = 1;
        kb = 0;
    }
    int32_t imm;
    if (const_imm32(s, IN(kb), t, &imm)) {
        int ra_ = ra_temp_load(s, IN(ka), X86_ALLOCATABLE);
        int rd = dst_reuse_or_alloc(s, op, ka, 0);
        if (fits_i8(imm)) {
            x86_modrm(&s->a, OPC_IMUL_GvEvIb | rexw(is64), rd, ra_);
            x86_byte(&s->a, (uint8_t)imm);
        } else {
            x86_modrm(&s->a, OPC_IMUL_GvEvIz | rexw(is64), rd, ra_);
            x86_u32(&s->a, (uint32_t)imm);
        }
        finish1(s, op, rd);
        return;
    }
    int rb = ra_temp_load(s, IN(kb), X86_ALLOCATABLE);
    int rd = dst_copy_of(s, op, ka, IN(kb));
    x86_modrm(&s->a, OPC_IMUL_GvEv | rexw(is64), rd, rb);
    finish1(s, op, rd);
}

/* mulu2/muls2: rdx:rax = rax * src */
static void gen_mul2(IREngineCtx *s, const IRInsn *op, bool sign)
{
    bool is64 = x86_type64((IRType)op->type);
    ra_evict_reg(s, X86_RAX, REGMASK(X86_RDX));
    ra_evict_reg(s, X86_RDX, REGMASK(X86_RAX));
    s->locked |= REGMASK(X86_RAX) | REGMASK(X86_RDX);
    int rb = ra_temp_load(s, IN(1), X86_ALLOCATABLE & ~REGMASK(X86_RAX) & ~REGMASK(X86_RDX));
    ra_load_into(s, IN(0), X86_RAX);
    x86_modrm(&s->a, OPC_GRP3_Ev | rexw(is64), sign ? EXT3_IMUL : EXT3_MUL, rb);
    ra_release_dead_inputs(s, op);
    ra_bind_output(s, OUT(0), X86_RAX);
    ra_bind_output(s, OUT(1), X86_RDX);
    ra_finish_outputs(s, op);
}

static void gen_unary_grp3(IREngineCtx *s, const IRInsn *op, int ext)
{
    bool is64 = x86_type64((IRType)op->type);
    int rd = dst_copy_of(s, op, 0, 0);
    x86_modrm(&s->a, OPC_GRP3_Ev | rexw(is64), ext, rd);
    finish1(s, op, rd);
}

static void gen_shift(IREngineCtx *s, const IRInsn *op, int sh)
{
    IRType t = (IRType)op->type;
    bool is64 = x86_type64(t);
    unsigned w = is64 ? 64 : 32;
    uint64_t v;
    if (ra_is_const(s, IN(1), &v)) {
        int rd = dst_copy_of(s, op, 0, 0);
        if (v & (w - 1))
            x86_shift_ri(&s->a, sh, is64, rd, (unsigned)(v & (w - 1)));
        finish1(s, op, rd);
        return;
    }
    if ((s->features & X86_HAS_BMI2) && sh != SHIFT_ROL && sh != SHIFT_ROR) {
        int rb = ra_temp_load(s, IN(1), X86_ALLOCATABLE);
        int ra_ = ra_temp_load(s, IN(0), X86_ALLOCATABLE);
        int rd = dst_reuse_or_alloc(s, op, 0, IN(1));
        int pp = sh == SHIFT_SHL ? 1 : sh == SHIFT_SAR ? 2 : 3;
        x86_byte(&s->a, 0xc4);
        x86_byte(&s->a, ((~rd & 8) << 4) | 0x40 | ((~ra_ & 8) << 2) | 0x02);
        x86_byte(&s->a, (is64 ? 0x80 : 0) | ((~rb & 15) << 3) | pp);
        x86_byte(&s->a, 0xf7);
        x86_byte(&s->a, 0xc0 | (rd & 7) << 3 | (ra_ & 7));
        finish1(s, op, rd);
        return;
    }
    /* count in cl */
    if (!(temp_in_reg(s, IN(1)) && s->ts[IN(1)].reg == X86_RCX)) {
        ra_evict_reg(s, X86_RCX, 0);
        ra_load_into(s, IN(1), X86_RCX);
    }
    s->locked |= REGMASK(X86_RCX);
    int rd;
    IRTemp a = IN(0);
    if (temp_in_reg(s, a) && IN_DEAD(0) && s->ts[a].reg != X86_RCX) {
        rd = s->ts[a].reg;
        s->locked |= REGMASK(rd);
    } else {
        rd = ra_alloc_reg(s, X86_ALLOCATABLE, s->ts[OUT(0)].across_call);
        ra_load_into(s, a, rd);
    }
    x86_modrm(&s->a, OPC_SHIFT_CL | rexw(is64), sh, rd);
    finish1(s, op, rd);
}

/* ---- extensions and bit operations ---- */

/* rd = f(ra) with a separate source operand (movzx and friends). */
static void gen_ext(IREngineCtx *s, const IRInsn *op, int opc)
{
    int ra_ = ra_temp_load(s, IN(0), X86_ALLOCATABLE);
    int rd = dst_reuse_or_alloc(s, op, 0, 0);
    if (opc == OPC_MOVZBL || opc == OPC_MOVSBL || opc == (OPC_MOVSBL | P_REXW))
        opc |= P_REXB_RM;
    x86_modrm(&s->a, opc, rd, ra_);
    finish1(s, op, rd);
}

static void gen_extu_i32(IREngineCtx *s, const IRInsn *op)
{
    /* the i32 register already holds the zero-extended value */
    if (temp_in_reg(s, IN(0)) && IN_DEAD(0)) {
        finish1(s, op, s->ts[IN(0)].reg);
        return;
    }
    gen_ext(s, op, OPC_MOVL_GvEv);
}

static void gen_extrh_i64(IREngineCtx *s, const IRInsn *op)
{
    int rd = dst_copy_of(s, op, 0, 0);
    x86_shift_ri(&s->a, SHIFT_SHR, true, rd, 32);
    finish1(s, op, rd);
}

static void gen_bswap(IREngineCtx *s, const IRInsn *op, unsigned bits)
{
    int rd = dst_copy_of(s, op, 0, 0);
    x86_opc(&s->a, (OPC_BSWAP + (rd & 7)) | rexw(bits == 64), 0, rd, 0);
    if (bits == 16)
        x86_shift_ri(&s->a, SHIFT_SHR, false, rd, 16);
    finish1(s, op, rd);
}

static void gen_count_zeros(IREngineCtx *s, const IRInsn *op, bool leading)
{
    IRType t = (IRType)op->type;
    bool is64 = x86_type64(t);
    unsigned w = is64 ? 64 : 32;
    uint64_t v;
    bool fast = leading ? (s->features & X86_HAS_LZCNT) : (s->features & X86_HAS_BMI1);
    bool default_is_width = ra_is_const(s, IN(1), &v) && v == w;
    int ra_ = ra_temp_load(s, IN(0), X86_ALLOCATABLE);
    int rb = -1;
    if (!(fast && default_is_width))
        rb = ra_temp_load(s, IN(1), X86_ALLOCATABLE);
    if (fast) {
        /* lzcnt/tzcnt give the width for 0 and set CF then */
        int rd = dst_reuse_or_alloc(s, op, 0, IN(1));
        x86_modrm(&s->a, (leading ? OPC_LZCNT : OPC_TZCNT) | rexw(is64), rd, ra_);
        if (rb >= 0)
            x86_modrm(&s->a, (OPC_CMOVCC + CC_B) | rexw(is64), rd, rb);
        finish1(s, op, rd);
        return;
    }
    int rd = ra_alloc_reg(s, X86_ALLOCATABLE, s->ts[OUT(0)].across_call);
    if (leading) {
        /* bsr gives the index of the top bit: clz = index ^ (w - 1) */
        x86_modrm(&s->a, OPC_BSR | rexw(is64), rd, ra_);
        x86_alu_ri(&s->a, ALU_XOR, is64, rd, (int32_t)(w - 1));
        x86_test_rr(&s->a, is64, ra_, ra_);
    } else {
        x86_modrm(&s->a, OPC_BSF | rexw(is64), rd, ra_);
    }
    x86_modrm(&s->a, (OPC_CMOVCC + CC_E) | rexw(is64), rd, rb);
    finish1(s, op, rd);
}

static void gen_ctpop(IREngineCtx *s, const IRInsn *op)
{
    bool is64 = x86_type64((IRType)op->type);
    if (s->features & X86_HAS_POPCNT) {
        int ra_ = ra_temp_load(s, IN(0), X86_ALLOCATABLE);
        int rd = dst_reuse_or_alloc(s, op, 0, 0);
        x86_modrm(&s->a, OPC_POPCNT | rexw(is64), rd, ra_);
        finish1(s, op, rd);
        return;
    }
    /* SWAR population count */
    int rd = dst_copy_of(s, op, 0, 0);
    int t = ra_alloc_reg(s, X86_ALLOCATABLE, false);
    int m = ra_alloc_reg(s, X86_ALLOCATABLE, false);
    X86Asm *a = &s->a;
    x86_mov_rr(a, true, t, rd);
    x86_shift_ri(a, SHIFT_SHR, is64, t, 1);
    x86_movi(a, is64, m, 0x5555555555555555ULL, true);
    x86_alu_rr(a, ALU_AND, is64, t, m);
    x86_alu_rr(a, ALU_SUB, is64, rd, t);
    x86_movi(a, is64, m, 0x3333333333333333ULL, true);
    x86_mov_rr(a, true, t, rd);
    x86_shift_ri(a, SHIFT_SHR, is64, t, 2);
    x86_alu_rr(a, ALU_AND, is64, t, m);
    x86_alu_rr(a, ALU_AND, is64, rd, m);
    x86_alu_rr(a, ALU_ADD, is64, rd, t);
    x86_mov_rr(a, true, t, rd);
    x86_shift_ri(a, SHIFT_SHR, is64, t, 4);
    x86_alu_rr(a, ALU_ADD, is64, rd, t);
    x86_movi(a, is64, m, 0x0f0f0f0f0f0f0f0fULL, true);
    x86_alu_rr(a, ALU_AND, is64, rd, m);
    x86_movi(a, is64, m, 0x0101010101010101ULL, true);
    x86_modrm(a, OPC_IMUL_GvEv | rexw(is64), rd, m);
    x86_shift_ri(a, SHIFT_SHR, is64, rd, is64 ? 56 : 24);
    finish1(s, op, rd);
}

static void gen_extract(IREngineCtx *s, const IRInsn *op, bool sign)
{
    bool is64 = x86_type64((IRType)op->type);
    unsigned w = is64 ? 64 : 32;
    unsigned pos = (unsigned)KON(0), len = (unsigned)KON(1);
    if (pos >= w || len == 0) {           /* nothing left of the value */
        ra_release_dead_inputs(s, op);
        ra_bind_const(s, OUT(0), 0);
        ra_finish_outputs(s, op);
        return;
    }
    if (len > w - pos) {
        /* the field runs past the top: its "sign" bit is a zero above it */
        len = w - pos;
        sign = false;
    }
    if (pos == 0 && (len == 8 || len == 16 || (len == 32 && is64))) {
        int opc = len == 8 ? (sign ? OPC_MOVSBL : OPC_MOVZBL)
                : len == 16 ? (sign ? OPC_MOVSWL : OPC_MOVZWL)
                : (sign ? OPC_MOVSLQ : OPC_MOVL_GvEv);
        if (sign && is64 && len < 32)
            opc |= P_REXW;
        gen_ext(s, op, opc);
        return;
    }
    int rd = dst_copy_of(s, op, 0, 0);
    if (!sign && pos + len == w) {
        x86_shift_ri(&s->a, SHIFT_SHR, is64, rd, pos);
    } else if (!sign && len < 32) {
        if (pos)
            x86_shift_ri(&s->a, SHIFT_SHR, is64, rd, pos);
        x86_alu_ri(&s->a, ALU_AND, false, rd, (int32_t)((1u << len) - 1));
    } else {
        if (w - pos - len)
            x86_shift_ri(&s->a, SHIFT_SHL, is64, rd, w - pos - len);
        if (w - len)
            x86_shift_ri(&s->a, sign ? SHIFT_SAR : SHIFT_SHR, is64, rd, w - len);
    }
    finish1(s, op, rd);
}

static void gen_deposit(IREngineCtx *s, const IRInsn *op)
{
    bool is64 = x86_type64((IRType)op->type);
    unsigned w = is64 ? 64 : 32;
    unsigned pos = (unsigned)KON(0), len = (unsigned)KON(1);
    X86Asm *a = &s->a;
    if (pos >= w || len == 0) {           /* nothing of v lands in the value */
        int rd = dst_copy_of(s, op, 0, 0);
        finish1(s, op, rd);
        return;
    }
    if (len > w - pos)
        len = w - pos;
    if (len == w) {
        int rd = dst_copy_of(s, op, 1, 0);
        finish1(s, op, rd);
        return;
    }
    int rv = ra_temp_load(s, IN(1), X86_ALLOCATABLE);
    if (pos == 0 && (len == 8 || len == 16)) {
        /* partial register write merges the low bits */
        int rd = dst_copy_of(s, op, 0, IN(1));
        if (len == 8)
            x86_modrm(a, OPC_MOVB_EvGv | P_REXB_R | P_REXB_RM, rv, rd);
        else
            x86_modrm(a, OPC_MOVL_EvGv | P_DATA16, rv, rd);
        finish1(s, op, rd);
        return;
    }
    int tmp = ra_alloc_reg(s, X86_ALLOCATABLE, false);
    x86_mov_rr(a, true, tmp, rv);
    int rd = dst_copy_of(s, op, 0, IN(1));
    if (pos + len <= 31) {
        uint32_t m = ((1u << len) - 1) << pos;
        x86_alu_ri(a, ALU_AND, is64, rd, (int32_t)~m);
        if (pos)
            x86_shift_ri(a, SHIFT_SHL, false, tmp, pos);
        x86_alu_ri(a, ALU_AND, false, tmp, (int32_t)m);
    } else {
        /* rotate the field to bit 0, clear it, or in v's low bits, rotate back */
        if (pos)
            x86_shift_ri(a, SHIFT_ROR, is64, rd, pos);
        x86_shift_ri(a, SHIFT_SHR, is64, rd, len);
        x86_shift_ri(a, SHIFT_SHL, is64, rd, len);
        x86_shift_ri(a, SHIFT_SHL, is64, tmp, w - len);
        x86_shift_ri(a, SHIFT_SHR, is64, tmp, w - len);
        x86_alu_rr(a, ALU_OR, is64, rd, tmp);
        if (pos)
            x86_shift_ri(a, SHIFT_ROL, is64, rd, pos);
        finish1(s, op, rd);
        return;
    }
    x86_alu_rr(a, ALU_OR, is64, rd, tmp);
    finish1(s, op, rd);
}

/* ---- compares ---- */

typedef struct Cmp {
    bool is64, b_imm, test;
    int ra, rb;
    int32_t imm;
    int cc;
} Cmp;

static int cond_cc(IRCond c)
{
    switch (c) {
    case IR_COND_EQ: case IR_COND_TSTEQ: return CC_E;
    case IR_COND_NE: case IR_COND_TSTNE: return CC_NE;
    case IR_COND_LT: return CC_L;
    case IR_COND_GE: return CC_GE;
    case IR_COND_LE: return CC_LE;
    case IR_COND_GT: return CC_G;
    case IR_COND_LTU: return CC_B;
    case IR_COND_GEU: return CC_AE;
    case IR_COND_LEU: return CC_BE;
    case IR_COND_GTU: return CC_A;
    default: return CC_E;
    }
}

/* Loads the operands of cond(a, b) (locked); emit with cmp_emit. */
static void cmp_prepare(IREngineCtx *s, Cmp *c, IRType t, IRCond cond, IRTemp a, IRTemp b)
{
    uint64_t v;
    if (ra_is_const(s, a, &v) && !ra_is_const(s, b, &v)) {
        IRTemp x = a;
        a = b;
        b = x;
        cond = ir_cond_swap(cond);
    }
    c->is64 = x86_type64(t);
    c->test = cond == IR_COND_TSTEQ || cond == IR_COND_TSTNE;
    c->cc = cond_cc(cond);
    c->ra = ra_temp_load(s, a, X86_ALLOCATABLE | REGMASK(X86_RBP));
    c->b_imm = const_imm32(s, b, t, &c->imm);
    c->rb = c->b_imm ? -1 : ra_temp_load(s, b, X86_ALLOCATABLE | REGMASK(X86_RBP));
    if (c->b_imm && c->imm == 0 && (cond == IR_COND_EQ || cond == IR_COND_NE)) {
        c->test = true;
        c->b_imm = false;
        c->rb = c->ra;
    }
}

static void cmp_emit(IREngineCtx *s, const Cmp *c)
{
    if (c->test) {
        if (c->b_imm) {
            x86_modrm(&s->a, OPC_GRP3_Ev | rexw(c->is64), EXT3_TEST, c->ra);
            x86_u32(&s->a, (uint32_t)c->imm);
        } else {
            x86_test_rr(&s->a, c->is64, c->ra, c->rb);
        }
    } else if (c->b_imm) {
        x86_alu_ri(&s->a, ALU_CMP, c->is64, c->ra, c->imm);
    } else {
        x86_alu_rr(&s->a, ALU_CMP, c->is64, c->ra, c->rb);
    }
}

static void gen_setcond(IREngineCtx *s, const IRInsn *op)
{
    IRCond cond = (IRCond)KON(0);
    if (cond == IR_COND_NEVER || cond == IR_COND_ALWAYS) {
        ra_release_dead_inputs(s, op);
        ra_bind_const(s, OUT(0), cond == IR_COND_ALWAYS);
        ra_finish_outputs(s, op);
        return;
    }
    Cmp c;
    cmp_prepare(s, &c, (IRType)op->type, cond, IN(0), IN(1));
    int rd = ra_alloc_reg(s, X86_ALLOCATABLE, s->ts[OUT(0)].across_call);
    x86_alu_rr(&s->a, ALU_XOR, false, rd, rd);
    cmp_emit(s, &c);
    x86_modrm(&s->a, OPC_SETCC + c.cc, 0, rd);
    finish1(s, op, rd);
}

static void gen_movcond(IREngineCtx *s, const IRInsn *op)
{
    IRType t = (IRType)op->type;
    IRCond cond = (IRCond)KON(0);
    if (cond == IR_COND_NEVER || cond == IR_COND_ALWAYS) {
        int rd = dst_copy_of(s, op, cond == IR_COND_ALWAYS ? 2 : 3, 0);
        finish1(s, op, rd);
        return;
    }
    Cmp c;
    cmp_prepare(s, &c, t, cond, IN(0), IN(1));
    int r1 = ra_temp_load(s, IN(2), X86_ALLOCATABLE);
    int rd;
    IRTemp v2 = IN(3);
    if (temp_in_reg(s, v2) && IN_DEAD(3) && v2 != IN(0) && v2 != IN(1) && v2 != IN(2)) {
        rd = s->ts[v2].reg;
        s->locked |= REGMASK(rd);
    } else {
        rd = ra_alloc_reg(s, X86_ALLOCATABLE, s->ts[OUT(0)].across_call);
        ra_load_into(s, v2, rd);
    }
    cmp_emit(s, &c);
    x86_modrm(&s->a, (OPC_CMOVCC + c.cc) | rexw(x86_type64(t)), rd, r1);
    finish1(s, op, rd);
}

/* ---- control flow ---- */

static void add_reloc(IREngineCtx *s, uint32_t label)
{
    if (s->nrelocs == s->relocs_cap) {
        s->relocs_cap = s->relocs_cap * 2 + 32;
        s->relocs = xrealloc(s->relocs, s->relocs_cap * sizeof(*s->relocs));
    }
    s->relocs[s->nrelocs++] = (X86Reloc){ label, code_off(s) };
}

static void gen_brcond(IREngineCtx *s, const IRInsn *op)
{
    IRCond cond = (IRCond)KON(0);
    uint32_t label = (uint32_t)KON(1);
    if (cond == IR_COND_NEVER) {
        ra_release_dead_inputs(s, op);
        return;
    }
    Cmp c = { 0 };
    if (cond != IR_COND_ALWAYS)
        cmp_prepare(s, &c, (IRType)op->type, cond, IN(0), IN(1));
    ra_bb_end_sync(s);
    if (cond == IR_COND_ALWAYS) {
        x86_byte(&s->a, OPC_JMP_J32);
    } else {
        cmp_emit(s, &c);
        x86_opc(&s->a, OPC_JCC_J32 + c.cc, 0, 0, 0);
    }
    add_reloc(s, label);
    x86_u32(&s->a, 0);
    ra_release_dead_inputs(s, op);
}

static void gen_br(IREngineCtx *s, const IRInsn *op)
{
    ra_bb_end_sync(s);
    x86_byte(&s->a, OPC_JMP_J32);
    add_reloc(s, (uint32_t)KON(0));
    x86_u32(&s->a, 0);
    ra_reset_after_jump(s);
}

static void gen_set_label(IREngineCtx *s, const IRInsn *op)
{
    ra_bb_end_sync(s);
    ra_reset_after_jump(s);
    s->label_pos[KON(0)] = code_off(s);
}

static void gen_exit_tb(IREngineCtx *s, const IRInsn *op)
{
    uint64_t v = KON(0);
    ra_sync_globals(s);
    if (v == 0) {
        x86_jmp_rel32_to(&s->a, s->exit0);
    } else {
        x86_movi(&s->a, v != (uint32_t)v, X86_RAX, v, true);
        x86_jmp_rel32_to(&s->a, s->epilogue);
    }
    ra_reset_after_jump(s);
}

static void gen_goto_tb(IREngineCtx *s, const IRInsn *op)
{
    unsigned slot = (unsigned)KON(0) & 1;
    ra_sync_globals(s);
    /* the rel32 must be 4-aligned so chain() can patch it atomically */
    static const uint8_t nops[4][3] = { { 0 }, { 0x90 }, { 0x66, 0x90 }, { 0x0f, 0x1f, 0x00 } };
    unsigned pad = (unsigned)(-((uintptr_t)s->a.p + 1) & 3);
    for (unsigned i = 0; i < pad; i++)
        x86_byte(&s->a, nops[pad][i]);
    x86_byte(&s->a, OPC_JMP_J32);
    s->hdr->jmp_off[slot] = code_off(s);
    x86_u32(&s->a, 0);                    /* falls through until chained */
}

static void gen_goto_ptr(IREngineCtx *s, const IRInsn *op)
{
    ra_sync_globals(s);
    int r = ra_temp_load(s, IN(0), X86_ALLOCATABLE);
    x86_test_rr(&s->a, true, r, r);
    x86_jcc_rel32_to(&s->a, CC_E, s->exit0);
    x86_modrm(&s->a, OPC_GRP5, EXT5_JMP, r);
    ra_release_dead_inputs(s, op);
    ra_reset_after_jump(s);
}

static void gen_insn_start(IREngineCtx *s, const IRInsn *op)
{
    if (s->nrest == s->rest_cap) {
        s->rest_cap = s->rest_cap * 2 + 64;
        s->rest = xrealloc(s->rest, s->rest_cap * sizeof(*s->rest));
    }
    s->rest[s->nrest++] = (X86RestoreEnt){ code_off(s), KON(0), KON(1) };
}

static void gen_mb(IREngineCtx *s, const IRInsn *op)
{
    x86_byte(&s->a, 0x0f);
    x86_byte(&s->a, 0xae);
    x86_byte(&s->a, 0xf0);
}

/* ---- host memory ---- */

/* Base register and displacement for [ptr + off]. */
static int host_addr(IREngineCtx *s, IRTemp ptr, int64_t off, int32_t *disp)
{
    int r = ra_temp_load(s, ptr, X86_ALLOCATABLE | REGMASK(X86_RBP));
    if (fits_i32(off)) {
        *disp = (int32_t)off;
        return r;
    }
    int t = ra_alloc_reg(s, X86_ALLOCATABLE, false);
    x86_movi(&s->a, true, t, (uint64_t)off, true);
    x86_alu_rr(&s->a, ALU_ADD, true, t, r);
    *disp = 0;
    return t;
}

static void gen_host_ld(IREngineCtx *s, const IRInsn *op)
{
    bool is64 = x86_type64((IRType)op->type);
    int32_t disp;
    int base = host_addr(s, IN(0), (int64_t)KON(0), &disp);
    int opc;
    switch ((IROpcode)op->op) {
    case IR_ld8u: opc = OPC_MOVZBL; break;
    case IR_ld8s: opc = OPC_MOVSBL | rexw(is64); break;
    case IR_ld16u: opc = OPC_MOVZWL; break;
    case IR_ld16s: opc = OPC_MOVSWL | rexw(is64); break;
    case IR_ld32u: opc = OPC_MOVL_GvEv; break;
    case IR_ld32s: opc = OPC_MOVSLQ; break;
    default: opc = OPC_MOVL_GvEv | rexw(is64); break;
    }
    int rd = dst_reuse_or_alloc(s, op, 0, 0);
    x86_modrm_mem(&s->a, opc, rd, base, -1, 0, disp);
    finish1(s, op, rd);
}

/* mov [base + index + disp], value (register or immediate) of 1 << size bytes */
static void emit_store(IREngineCtx *s, unsigned size, int vreg, bool imm, uint64_t v,
                       int base, int index, int32_t disp)
{
    X86Asm *a = &s->a;
    if (imm) {
        switch (size) {
        case 0:
            x86_modrm_mem(a, OPC_MOVB_EvIb, 0, base, index, 0, disp);
            x86_byte(a, (uint8_t)v);
            break;
        case 1:
            x86_modrm_mem(a, OPC_MOVL_EvIz | P_DATA16, 0, base, index, 0, disp);
            x86_byte(a, (uint8_t)v);
            x86_byte(a, (uint8_t)(v >> 8));
            break;
        default:
            x86_modrm_mem(a, OPC_MOVL_EvIz | rexw(size == 3), 0, base, index, 0, disp);
            x86_u32(a, (uint32_t)v);
            break;
        }
        return;
    }
    int opc = size == 0 ? (OPC_MOVB_EvGv | P_REXB_R)
            : size == 1 ? (OPC_MOVL_EvGv | P_DATA16)
            : (OPC_MOVL_EvGv | rexw(size == 3));
    x86_modrm_mem(a, opc, vreg, base, index, 0, disp);
}

/* Store value: an immediate when it fits the store, else a register. */
static bool store_value(IREngineCtx *s, IRTemp t, unsigned size, int *reg, uint64_t *v)
{
    if (ra_is_const(s, t, v) && (size < 3 || fits_i32((int64_t)*v)))
        return true;
    *reg = ra_temp_load(s, t, X86_ALLOCATABLE | REGMASK(X86_RBP));
    return false;
}

static void gen_host_st(IREngineCtx *s, const IRInsn *op)
{
    unsigned size;
    switch ((IROpcode)op->op) {
    case IR_st8: size = 0; break;
    case IR_st16: size = 1; break;
    case IR_st32: size = 2; break;
    default: size = op->type == IR_I64 ? 3 : 2; break;
    }
    int vreg = -1;
    uint64_t v = 0;
    bool imm = store_value(s, IN(0), size, &vreg, &v);
    int32_t disp;
    int base = host_addr(s, IN(1), (int64_t)KON(0), &disp);
    emit_store(s, size, vreg, imm, v, base, -1, disp);
    ra_release_dead_inputs(s, op);
}

/* ---- guest memory through the soft TLB ---- */

/* Emits the lookup for addr (register ra_) and leaves the host addend in
 * t1; returns the offset of the jne rel32 to patch to the slow path (and
 * in *jcc2 the one of the alignment check, or 0). */
static uint32_t gen_tlb_lookup(IREngineCtx *s, int ra_, IRMemOp mo, bool is_store, int t0, int t1,
                               uint32_t *jcc2)
{
    X86Asm *a = &s->a;
    unsigned size = 1u << (mo & IR_MO_SIZE);
    unsigned mmu = (mo & IR_MO_MMU_MASK) >> IR_MO_MMU_SHIFT;
    int32_t table = s->tgt.tlb_offset +
        (int32_t)(mmu * TLB_SIZE * sizeof(TLBEntry));
    int32_t cmp_field = is_store ? offsetof(TLBEntry, addr_write) : offsetof(TLBEntry, addr_read);
    /* t0 = index * 32 */
    x86_mov_rr(a, true, t0, ra_);
    x86_shift_ri(a, SHIFT_SHR, true, t0, TLB_PAGE_BITS - 5);
    x86_alu_ri(a, ALU_AND, false, t0, (TLB_SIZE - 1) << 5);
    /* Misaligned with a check requested: slow path.  (Not folded into the
     * tag compare: the tag's flag bits overlap the low address bits.) */
    *jcc2 = 0;
    if ((mo & IR_MO_ALIGN_CHECK) && size > 1) {
        x86_modrm(a, OPC_GRP3_Ev, EXT3_TEST, ra_);
        x86_u32(a, size - 1);
        x86_opc(a, OPC_JCC_J32 + CC_NE, 0, 0, 0);
        *jcc2 = code_off(s);
        x86_u32(a, 0);
    }
    /* t1 = the page of the access's last byte: an access crossing into
     * the next page can never match the entry, whose tag is the page of
     * addr (entries sit at their page's index). */
    if (size == 1)
        x86_mov_rr(a, true, t1, ra_);
    else
        x86_modrm_mem(a, OPC_LEA | P_REXW, t1, ra_, -1, 0, (int32_t)(size - 1));
    x86_alu_ri(a, ALU_AND, true, t1, (int32_t)TLB_PAGE_MASK);
    x86_modrm_mem(a, (OPC_ARITH_GvEv + (ALU_CMP << 3)) | P_REXW, t1, X86_ENV_REG, t0, 0,
                  table + cmp_field);
    x86_opc(a, OPC_JCC_J32 + CC_NE, 0, 0, 0);
    uint32_t jcc = code_off(s);
    x86_u32(a, 0);
    x86_modrm_mem(a, OPC_MOVL_GvEv | P_REXW, t1, X86_ENV_REG, t0, 0,
                  table + (int32_t)offsetof(TLBEntry, addend));
    return jcc;
}

static X86SlowPath *slow_new(IREngineCtx *s)
{
    if (s->nslow == s->slow_cap) {
        s->slow_cap = s->slow_cap * 2 + 16;
        s->slow = xrealloc(s->slow, s->slow_cap * sizeof(*s->slow));
    }
    X86SlowPath *sp = &s->slow[s->nslow++];
    memset(sp, 0, sizeof(*sp));
    return sp;
}

/* After the op's state update: what the slow path must preserve. */
static void slow_record_regs(IREngineCtx *s, X86SlowPath *sp, int out_reg)
{
    sp->reload_first = s->nreloads;
    for (int r = 0; r < X86_NREGS; r++) {
        if (!(s->owned & REGMASK(r)) || r == out_reg)
            continue;
        IRTemp t = s->reg_owner[r];
        if (s->ts[t].kind == IR_TEMP_GLOBAL) {
            if (s->nreloads == s->reloads_cap) {
                s->reloads_cap = s->reloads_cap * 2 + 32;
                s->reloads = xrealloc(s->reloads, s->reloads_cap * sizeof(*s->reloads));
            }
            s->reloads[s->nreloads++] = (X86Reload){ s->b->temps[t].env_offset, (uint8_t)r,
                                                     s->ts[t].is64 };
            sp->reload_mask |= REGMASK(r);
            sp->nreload++;
        } else if (X86_CALLER_SAVED & REGMASK(r)) {
            sp->save_mask |= REGMASK(r);
        }
    }
}

static void gen_guest_ld(IREngineCtx *s, const IRInsn *op)
{
    IRMemOp mo = (IRMemOp)KON(0);
    bool is64 = x86_type64((IRType)op->type);
    ra_sync_globals_for_mem(s);           /* a fault sees exact guest state */
    int ra_ = ra_temp_load(s, IN(0), X86_ALLOCATABLE);
    int t0 = ra_alloc_reg(s, X86_ALLOCATABLE, false);
    int t1 = ra_alloc_reg(s, X86_ALLOCATABLE, false);
    int rd = dst_reuse_or_alloc(s, op, 0, 0);
    uint32_t jcc2;
    uint32_t jcc = gen_tlb_lookup(s, ra_, mo, false, t0, t1, &jcc2);
    unsigned size = mo & IR_MO_SIZE;
    bool sign = mo & IR_MO_SIGN;
    int opc;
    switch (size) {
    case 0: opc = sign ? (OPC_MOVSBL | rexw(is64)) : OPC_MOVZBL; break;
    case 1: opc = sign ? (OPC_MOVSWL | rexw(is64)) : OPC_MOVZWL; break;
    case 2: opc = sign && is64 ? OPC_MOVSLQ : OPC_MOVL_GvEv; break;
    default: opc = OPC_MOVL_GvEv | rexw(is64); break;
    }
    x86_modrm_mem(&s->a, opc, rd, ra_, t1, 0, 0);
    X86SlowPath *sp = slow_new(s);
    sp->jcc_off = jcc;
    sp->jcc2_off = jcc2;
    sp->join_off = code_off(s);
    sp->memop = mo;
    sp->is64 = is64;
    sp->addr_reg = (uint8_t)ra_;
    sp->out_reg = (uint8_t)rd;
    finish1(s, op, rd);
    slow_record_regs(s, sp, rd);
}

static void gen_guest_st(IREngineCtx *s, const IRInsn *op)
{
    IRMemOp mo = (IRMemOp)KON(0);
    unsigned size = mo & IR_MO_SIZE;
    ra_sync_globals_for_mem(s);
    int vreg = -1;
    uint64_t v = 0;
    bool imm = store_value(s, IN(0), size, &vreg, &v);
    int ra_ = ra_temp_load(s, IN(1), X86_ALLOCATABLE);
    int t0 = ra_alloc_reg(s, X86_ALLOCATABLE, false);
    int t1 = ra_alloc_reg(s, X86_ALLOCATABLE, false);
    uint32_t jcc2;
    uint32_t jcc = gen_tlb_lookup(s, ra_, mo, true, t0, t1, &jcc2);
    emit_store(s, size, vreg, imm, v, ra_, t1, 0);
    X86SlowPath *sp = slow_new(s);
    sp->jcc_off = jcc;
    sp->jcc2_off = jcc2;
    sp->join_off = code_off(s);
    sp->memop = mo;
    sp->is_store = 1;
    sp->addr_reg = (uint8_t)ra_;
    sp->val_is_imm = imm;
    sp->val_reg = (uint8_t)(imm ? 0 : vreg);
    sp->val_imm = v;
    sp->out_reg = 0xff;
    ra_release_dead_inputs(s, op);
    slow_record_regs(s, sp, -1);
}

/* ---- atomic guest memory (guest_atomic) ---- */

/* The opcode of a locked instruction at access size 1 << size. */
static int sized_opc(int opc_b, int opc_v, unsigned size)
{
    switch (size) {
    case 0: return opc_b | P_REXB_R;
    case 1: return opc_v | P_DATA16;
    case 2: return opc_v;
    default: return opc_v | P_REXW;
    }
}

/* r = zero-extension of its low 1 << size bytes. */
static void emit_zext(X86Asm *a, unsigned size, int r)
{
    if (size == 0)
        x86_modrm(a, OPC_MOVZBL | P_REXB_RM, r, r);
    else if (size == 1)
        x86_modrm(a, OPC_MOVZWL, r, r);
    else if (size == 2)
        x86_mov_rr(a, false, r, r);
}

/* The fast path of guest_atomic on host memory at [host]: a host locked
 * instruction, so the access is indivisible for every other vCPU thread.
 * ADD and XCHG are one instruction (lock xadd, xchg); CMPXCHG one lock
 * cmpxchg; AND/OR/XOR/NEG a lock cmpxchg loop (the host has no fetch-and-
 * op returning the old value).  The old value ends zero-extended in rd
 * (rax for the cmpxchg forms). */
static void emit_atomic_host(IREngineCtx *s, IRAtomicOp aop, unsigned size, int host, int v1,
                             int v2, int tmp, int rd)
{
    X86Asm *a = &s->a;
    switch (aop) {
    case IR_ATOMIC_ADD:
        x86_mov_rr(a, true, rd, v1);
        x86_modrm_mem(a, sized_opc(OPC_XADD_EbGb, OPC_XADD_EvGv, size) | P_LOCK, rd, host, -1,
                      0, 0);
        break;
    case IR_ATOMIC_XCHG:
        x86_mov_rr(a, true, rd, v1);
        x86_modrm_mem(a, sized_opc(OPC_XCHG_EbGb, OPC_XCHG, size), rd, host, -1, 0, 0);
        break;
    case IR_ATOMIC_CMPXCHG:
        x86_mov_rr(a, true, X86_RAX, v1);
        x86_modrm_mem(a, sized_opc(OPC_CMPXCHG_EbGb, OPC_CMPXCHG_EvGv, size) | P_LOCK, v2, host,
                      -1, 0, 0);
        break;
    default: {
        static const int ld[4] = { OPC_MOVZBL, OPC_MOVZWL, OPC_MOVL_GvEv,
                                   OPC_MOVL_GvEv | P_REXW };
        x86_modrm_mem(a, ld[size], X86_RAX, host, -1, 0, 0);
        uint8_t *loop = a->p;
        x86_mov_rr(a, true, tmp, X86_RAX);
        switch (aop) {
        case IR_ATOMIC_AND: x86_alu_rr(a, ALU_AND, true, tmp, v1); break;
        case IR_ATOMIC_OR: x86_alu_rr(a, ALU_OR, true, tmp, v1); break;
        case IR_ATOMIC_XOR: x86_alu_rr(a, ALU_XOR, true, tmp, v1); break;
        default: x86_modrm(a, OPC_GRP3_Ev | P_REXW, EXT3_NEG, tmp); break;
        }
        x86_modrm_mem(a, sized_opc(OPC_CMPXCHG_EbGb, OPC_CMPXCHG_EvGv, size) | P_LOCK, tmp, host,
                      -1, 0, 0);
        /* jne loop: rax holds what memory had; try again from it */
        x86_byte(a, 0x70 + CC_NE);
        x86_byte(a, (uint8_t)(int8_t)(loop - (a->p + 1)));
        break;
    }
    }
    emit_zext(a, size, rd);
}

static void gen_guest_atomic(IREngineCtx *s, const IRInsn *op)
{
    IRMemOp mo = (IRMemOp)KON(0);
    IRAtomicOp aop = ir_memop_atomic(mo);
    unsigned size = mo & IR_MO_SIZE;
    bool direct = aop == IR_ATOMIC_ADD || aop == IR_ATOMIC_XCHG;
    ra_sync_globals_for_mem(s);           /* a fault sees exact guest state */
    uint32_t allowed = X86_ALLOCATABLE;
    if (!direct) {
        /* cmpxchg compares with and returns into rax */
        ra_evict_reg(s, X86_RAX, 0);
        s->locked |= REGMASK(X86_RAX);
        allowed &= ~REGMASK(X86_RAX);
    }
    int ra_ = ra_temp_load(s, IN(0), allowed);
    int v1 = ra_temp_load(s, IN(1), allowed);
    int v2 = aop == IR_ATOMIC_CMPXCHG ? ra_temp_load(s, IN(2), allowed) : v1;
    int t0 = ra_alloc_reg(s, allowed, false);
    int t1 = ra_alloc_reg(s, allowed, false);
    int rd = direct ? ra_alloc_reg(s, allowed, s->ts[OUT(0)].across_call) : X86_RAX;
    uint32_t jcc2;
    uint32_t jcc = gen_tlb_lookup(s, ra_, mo, true, t0, t1, &jcc2);
    x86_modrm_mem(&s->a, OPC_LEA | P_REXW, t1, ra_, t1, 0, 0);   /* host address */
    emit_atomic_host(s, aop, size, t1, v1, v2, t0, rd);
    X86SlowPath *sp = slow_new(s);
    sp->jcc_off = jcc;
    sp->jcc2_off = jcc2;
    sp->join_off = code_off(s);
    sp->memop = mo;
    sp->is64 = 1;
    sp->is_atomic = 1;
    sp->addr_reg = (uint8_t)ra_;
    sp->val_reg = (uint8_t)v1;
    sp->val2_reg = (uint8_t)v2;
    sp->out_reg = (uint8_t)rd;
    finish1(s, op, rd);
    slow_record_regs(s, sp, rd);
}

/* The slow path's call of tgt->mem->atomic(env, addr, val, newv, memop, ra):
 * the three operand registers go through the frame's scratch area, which
 * moves them into rsi/rdx/rcx whatever registers they are in. */
static void emit_atomic_call(IREngineCtx *s, const X86SlowPath *sp)
{
    X86Asm *a = &s->a;
    const uint8_t src[3] = { sp->addr_reg, sp->val_reg, sp->val2_reg };
    const uint8_t dst[3] = { X86_RSI, X86_RDX, X86_RCX };
    for (int i = 0; i < 3; i++)
        x86_modrm_mem(a, OPC_MOVL_EvGv | P_REXW, src[i], X86_RSP, -1, 0, X86_SCRATCH_AREA + 8 * i);
    for (int i = 0; i < 3; i++)
        x86_modrm_mem(a, OPC_MOVL_GvEv | P_REXW, dst[i], X86_RSP, -1, 0, X86_SCRATCH_AREA + 8 * i);
    x86_mov_rr(a, true, X86_RDI, X86_ENV_REG);
    x86_movi(a, false, X86_R8, sp->memop, true);
    x86_lea_rip(a, X86_R9, s->code + sp->join_off);
    x86_call_abs(a, (const void *)s->tgt.mem->atomic, X86_RAX);
    x86_mov_rr(a, true, sp->out_reg, X86_RAX);
}

static void emit_slow_path(IREngineCtx *s, const X86SlowPath *sp)
{
    X86Asm *a = &s->a;
    uint8_t *jcc = s->code + sp->jcc_off;
    int32_t rel = (int32_t)(a->p - (jcc + 4));
    memcpy(jcc, &rel, 4);
    if (sp->jcc2_off) {
        jcc = s->code + sp->jcc2_off;
        rel = (int32_t)(a->p - (jcc + 4));
        memcpy(jcc, &rel, 4);
    }
    for (int r = 0; r < X86_NREGS; r++)
        if (sp->save_mask & REGMASK(r))
            x86_modrm_mem(a, OPC_MOVL_EvGv | P_REXW, r, X86_RSP, -1, 0, X86_SAVE_AREA + 8 * r);
    int ar = sp->addr_reg;
    if (sp->is_atomic) {
        emit_atomic_call(s, sp);
    } else if (sp->is_store) {
        /* (addr, val) -> (rsi, rdx) without clobbering either */
        if (sp->val_is_imm) {
            x86_mov_rr(a, true, X86_RSI, ar);
            x86_movi(a, true, X86_RDX, sp->val_imm, true);
        } else if (ar == X86_RDX && sp->val_reg == X86_RSI) {
            x86_modrm(a, OPC_XCHG | P_REXW, X86_RSI, X86_RDX);
        } else if (ar == X86_RDX) {
            x86_mov_rr(a, true, X86_RSI, ar);
            x86_mov_rr(a, true, X86_RDX, sp->val_reg);
        } else {
            x86_mov_rr(a, true, X86_RDX, sp->val_reg);
            x86_mov_rr(a, true, X86_RSI, ar);
        }
        x86_mov_rr(a, true, X86_RDI, X86_ENV_REG);
        x86_movi(a, false, X86_RCX, sp->memop, true);
        x86_lea_rip(a, X86_R8, s->code + sp->join_off);
        x86_call_abs(a, (const void *)s->tgt.mem->store, X86_RAX);
    } else {
        x86_mov_rr(a, true, X86_RSI, ar);
        x86_mov_rr(a, true, X86_RDI, X86_ENV_REG);
        x86_movi(a, false, X86_RDX, sp->memop, true);
        x86_lea_rip(a, X86_RCX, s->code + sp->join_off);
        x86_call_abs(a, (const void *)s->tgt.mem->load, X86_RAX);
        unsigned size = sp->memop & IR_MO_SIZE;
        int rd = sp->out_reg;
        if ((sp->memop & IR_MO_SIGN) && size < 3) {
            int opc = size == 0 ? OPC_MOVSBL | P_REXB_RM : size == 1 ? OPC_MOVSWL : OPC_MOVSLQ;
            if (sp->is64 && size < 2)
                opc |= P_REXW;
            if (!sp->is64 && size == 2)
                opc = OPC_MOVL_GvEv;
            x86_modrm(a, opc, rd, X86_RAX);
        } else {
            x86_mov_rr(a, sp->is64, rd, X86_RAX);
        }
    }
    for (int r = 0; r < X86_NREGS; r++)
        if (sp->save_mask & REGMASK(r))
            x86_modrm_mem(a, OPC_MOVL_GvEv | P_REXW, r, X86_RSP, -1, 0, X86_SAVE_AREA + 8 * r);
    for (uint32_t i = sp->reload_first; i < sp->reload_first + sp->nreload; i++) {
        const X86Reload *rl = &s->reloads[i];
        x86_modrm_mem(a, OPC_MOVL_GvEv | rexw(rl->is64), rl->reg, X86_ENV_REG, -1, 0,
                      rl->env_offset);
    }
    x86_jmp_rel32_to(a, s->code + sp->join_off);
}

/* ---- helper calls ---- */

static const uint8_t call_arg_regs[IR_CALL_MAX_ARGS] = {
    X86_RDI, X86_RSI, X86_RDX, X86_RCX, X86_R8, X86_R9,
};

static void gen_call(IREngineCtx *s, const IRInsn *op)
{
    const IRHelper *h = (const IRHelper *)(uintptr_t)KON(0);
    unsigned quiet = IR_CALL_NO_READ_GLOBALS | IR_CALL_NO_WRITE_GLOBALS;
    bool sync = (h->flags & quiet) != quiet || (h->flags & IR_CALL_CAN_FAULT);
    bool writes = !(h->flags & IR_CALL_NO_WRITE_GLOBALS);
    unsigned nargs = op->nin;
    uint32_t argmask = 0;
    if (sync)
        ra_sync_globals(s);
    for (unsigned i = 0; i < nargs; i++)
        argmask |= REGMASK(call_arg_regs[i]);
    /* 1. free each argument register unless it already holds its argument */
    for (unsigned i = 0; i < nargs; i++) {
        int r = call_arg_regs[i];
        if ((s->owned & REGMASK(r)) && s->reg_owner[r] != IN(i))
            ra_evict_reg(s, r, argmask);
    }
    /* 2. load the arguments */
    for (unsigned i = 0; i < nargs; i++) {
        int r = call_arg_regs[i];
        if (!((s->owned & REGMASK(r)) && s->reg_owner[r] == IN(i)))
            ra_load_into(s, IN(i), r);
        s->locked |= REGMASK(r);
    }
    /* 3. values living in caller-saved registers must survive the call */
    for (int r = 0; r < X86_NREGS; r++) {
        if (!(X86_CALLER_SAVED & s->owned & REGMASK(r)))
            continue;
        IRTemp t = s->reg_owner[r];
        bool dies = false;
        for (unsigned i = 0; i < nargs; i++)
            if (IN(i) == t && IN_DEAD(i))
                dies = true;
        if (dies)
            ra_temp_dead(s, t);
        else if (s->ts[t].kind == IR_TEMP_GLOBAL && s->ts[t].coherent)
            ra_temp_spill(s, t);          /* clean: reload after the call if needed */
        else
            ra_evict_reg(s, r, X86_CALLER_SAVED);
    }
    if (writes)
        ra_forget_globals(s);
    x86_call_abs(&s->a, h->fn, X86_R11);
    ra_release_dead_inputs(s, op);
    if (op->nout) {
        if (op->type == IR_I32)
            x86_mov_rr(&s->a, false, X86_RAX, X86_RAX);
        ra_bind_output(s, OUT(0), X86_RAX);
        ra_finish_outputs(s, op);
    }
}

/* ---- vector ops on env slots (tcg/vec-ops.def) ---- */

/* Host encodings.  The ops use xmm0 and xmm1 as scratch: the backend
 * keeps nothing in XMM registers, and helpers may clobber them. */
typedef struct VecEnc {
    int opc;
    uint8_t ext;             /* modrm.reg of the shift-by-immediate forms */
} VecEnc;

static const VecEnc vec_enc[IR_VEC_NB] = {
#define VEC_BIN(n, opc, mn) [IR_VEC_##n] = { opc, 0 },
#define VEC_MOV(n, opc, mn) [IR_VEC_##n] = { opc, 0 },
#define VEC_IMM(n, opc) [IR_VEC_##n] = { opc, 0 },
#define VEC_SHI(n, opc, ext) [IR_VEC_##n] = { opc, ext },
#define VEC_TO(n, opc, mn, w) [IR_VEC_##n] = { opc, 0 },
#define VEC_FROM(n, opc, mn, w) [IR_VEC_##n] = { opc, 0 },
#define VEC_CMP(n, opc, mn) [IR_VEC_##n] = { opc, 0 },
#include "tcg/vec-ops.def"
};

#define OPC_MOVDQU_LD (0x6f | P_EXT | P_F3)
#define OPC_MOVDQU_ST (0x7f | P_EXT | P_F3)

/* movdqu xmmN, [rbp + off]: unaligned, so any env offset works */
static void vec_load(IREngineCtx *s, int xmm, uint64_t off)
{
    x86_modrm_mem(&s->a, OPC_MOVDQU_LD, xmm, X86_RBP, -1, 0, (int32_t)off);
}

static void vec_store(IREngineCtx *s, int xmm, uint64_t off)
{
    x86_modrm_mem(&s->a, OPC_MOVDQU_ST, xmm, X86_RBP, -1, 0, (int32_t)off);
}

static void gen_vec(IREngineCtx *s, const IRInsn *op)
{
    IRVecOp v = ir_vec_op(KON(0));
    unsigned imm = ir_vec_imm(KON(0));
    uint64_t doff = KON(1), soff = KON(2);
    const VecEnc *e = &vec_enc[v];
    switch ((IRVecKind)ir_vec_kind[v]) {
    case IR_VK_MOV:
        vec_load(s, 0, soff);
        break;
    case IR_VK_SHI:
        vec_load(s, 0, doff);
        x86_modrm(&s->a, e->opc, e->ext, 0);
        x86_byte(&s->a, imm);
        break;
    default:                 /* BIN, IMM: op xmm0, xmm1 [, imm8] */
        vec_load(s, 0, doff);
        if (soff != doff)
            vec_load(s, 1, soff);
        x86_modrm(&s->a, e->opc, 0, soff != doff ? 1 : 0);
        if (ir_vec_kind[v] == IR_VK_IMM)
            x86_byte(&s->a, imm);
        break;
    }
    vec_store(s, 0, doff);
}

static void gen_vec_to(IREngineCtx *s, const IRInsn *op)
{
    IRVecOp v = ir_vec_op(KON(0));
    int rd = ra_alloc_reg(s, X86_ALLOCATABLE, s->ts[OUT(0)].across_call);
    vec_load(s, 0, KON(1));
    if (ir_vec_kind[v] == IR_VK_CMP) {
        /* (u)comis xmm0, xmm1; the flags it sets: pushfq; pop rd; and 0x45 */
        vec_load(s, 1, KON(2));
        x86_modrm(&s->a, vec_enc[v].opc, 0, 1);
        x86_byte(&s->a, 0x9c);
        x86_pop(&s->a, rd);
        x86_alu_ri(&s->a, ALU_AND, false, rd, 0x45);
    } else {
        x86_modrm(&s->a, vec_enc[v].opc, rd, 0);
    }
    finish1(s, op, rd);
}

static void gen_vec_from(IREngineCtx *s, const IRInsn *op)
{
    IRVecOp v = ir_vec_op(KON(0));
    int r = ra_temp_load(s, IN(0), X86_ALLOCATABLE);
    vec_load(s, 0, KON(1));
    x86_modrm(&s->a, vec_enc[v].opc, 0, r);
    vec_store(s, 0, KON(1));
    ra_release_dead_inputs(s, op);
}

/* ---- dispatch ---- */

static bool op_is_pure(const IRInsn *op)
{
    const IROpDef *d = &ir_op_defs[op->op];
    return op->op != IR_call && op->nout &&
        !(d->flags & (IR_OPF_SIDE_EFFECTS | IR_OPF_CAN_FAULT | IR_OPF_BB_END));
}

static void gen_op(IREngineCtx *s, const IRInsn *op)
{
    if (op_is_pure(op)) {
        bool all_dead = true;
        for (unsigned k = 0; k < op->nout; k++)
            all_dead &= ra_arg_dead(s, k);
        if (all_dead) {
            ra_release_dead_inputs(s, op);
            return;
        }
    }
    bool is64 = x86_type64((IRType)op->type);
    switch ((IROpcode)op->op) {
    case IR_mov: gen_mov(s, op); break;
    case IR_movi: gen_movi(s, op); break;
    case IR_discard: gen_discard(s, op); break;
    case IR_add: gen_alu(s, op, ALU_ADD, true); break;
    case IR_sub: gen_alu(s, op, ALU_SUB, false); break;
    case IR_and: gen_alu(s, op, ALU_AND, true); break;
    case IR_or: gen_alu(s, op, ALU_OR, true); break;
    case IR_xor: gen_alu(s, op, ALU_XOR, true); break;
    case IR_andc: gen_andc(s, op); break;
    case IR_mul: gen_mul(s, op); break;
    case IR_mulu2: gen_mul2(s, op, false); break;
    case IR_muls2: gen_mul2(s, op, true); break;
    case IR_neg: gen_unary_grp3(s, op, EXT3_NEG); break;
    case IR_not: gen_unary_grp3(s, op, EXT3_NOT); break;
    case IR_shl: gen_shift(s, op, SHIFT_SHL); break;
    case IR_shr: gen_shift(s, op, SHIFT_SHR); break;
    case IR_sar: gen_shift(s, op, SHIFT_SAR); break;
    case IR_rotl: gen_shift(s, op, SHIFT_ROL); break;
    case IR_rotr: gen_shift(s, op, SHIFT_ROR); break;
    case IR_ext8s: gen_ext(s, op, OPC_MOVSBL | rexw(is64)); break;
    case IR_ext8u: gen_ext(s, op, OPC_MOVZBL); break;
    case IR_ext16s: gen_ext(s, op, OPC_MOVSWL | rexw(is64)); break;
    case IR_ext16u: gen_ext(s, op, OPC_MOVZWL); break;
    case IR_ext32s: gen_ext(s, op, OPC_MOVSLQ); break;
    case IR_ext32u: gen_ext(s, op, OPC_MOVL_GvEv); break;
    case IR_extu_i32: gen_extu_i32(s, op); break;
    case IR_exts_i32: gen_ext(s, op, OPC_MOVSLQ); break;
    case IR_extrl_i64: gen_ext(s, op, OPC_MOVL_GvEv); break;
    case IR_extrh_i64: gen_extrh_i64(s, op); break;
    case IR_bswap16: gen_bswap(s, op, 16); break;
    case IR_bswap32: gen_bswap(s, op, 32); break;
    case IR_bswap64: gen_bswap(s, op, 64); break;
    case IR_clz: gen_count_zeros(s, op, true); break;
    case IR_ctz: gen_count_zeros(s, op, false); break;
    case IR_ctpop: gen_ctpop(s, op); break;
    case IR_extract: gen_extract(s, op, false); break;
    case IR_sextract: gen_extract(s, op, true); break;
    case IR_deposit: gen_deposit(s, op); break;
    case IR_setcond: gen_setcond(s, op); break;
    case IR_movcond: gen_movcond(s, op); break;
    case IR_set_label: gen_set_label(s, op); break;
    case IR_br: gen_br(s, op); break;
    case IR_brcond: gen_brcond(s, op); break;
    case IR_ld8u: case IR_ld8s: case IR_ld16u: case IR_ld16s:
    case IR_ld32u: case IR_ld32s: case IR_ld:
        gen_host_ld(s, op);
        break;
    case IR_st8: case IR_st16: case IR_st32: case IR_st:
        gen_host_st(s, op);
        break;
    case IR_guest_ld: gen_guest_ld(s, op); break;
    case IR_guest_st: gen_guest_st(s, op); break;
    case IR_guest_atomic: gen_guest_atomic(s, op); break;
    case IR_call: gen_call(s, op); break;
    case IR_insn_start: gen_insn_start(s, op); break;
    case IR_goto_tb: gen_goto_tb(s, op); break;
    case IR_exit_tb: gen_exit_tb(s, op); break;
    case IR_goto_ptr: gen_goto_ptr(s, op); break;
    case IR_mb: gen_mb(s, op); break;
    case IR_vec: gen_vec(s, op); break;
    case IR_vec_to: gen_vec_to(s, op); break;
    case IR_vec_from: gen_vec_from(s, op); break;
    case IR_NB_OPS: break;
    }
}

/* ---- the driver ---- */

static void put_uleb(X86Asm *a, uint64_t v)
{
    do {
        uint8_t byte = v & 0x7f;
        v >>= 7;
        x86_byte(a, byte | (v ? 0x80 : 0));
    } while (v);
}

/* Restore table: per insn_start, uleb(code offset delta),
 * uleb(zigzag(pc delta)), uleb(word). */
static void emit_restore_table(IREngineCtx *s)
{
    uint32_t prev_off = 0;
    uint64_t prev_pc = 0;
    for (uint32_t i = 0; i < s->nrest; i++) {
        const X86RestoreEnt *e = &s->rest[i];
        int64_t dpc = (int64_t)(e->pc - prev_pc);
        put_uleb(&s->a, e->off - prev_off);
        put_uleb(&s->a, ((uint64_t)dpc << 1) ^ (uint64_t)(dpc >> 63));
        put_uleb(&s->a, e->word);
        prev_off = e->off;
        prev_pc = e->pc;
    }
}

static bool op_ends_flow(const IRInsn *op)
{
    return op->op == IR_br || op->op == IR_exit_tb || op->op == IR_goto_ptr;
}

/* The front end's block-entry countdown
 *     ld_i32 t, env, off; add_i32 t, t, k; st_i32 t, env, off;
 *     brcond_i32 t, 0, lt, L        (t used nowhere else)
 * becomes `add dword [env + off], k; js L`: one read-modify-write instead
 * of load, add, store and compare.  js, not jl: the branch is on the sign
 * of the stored result, as the compare with 0 was.  Returns the number of
 * ops consumed (0: no match). */
static bool temp_used_from(const IRBlock *b, uint32_t from, IRTemp t)
{
    for (uint32_t m = from; m < b->ninsns; m++) {
        const IRInsn *op = &b->insns[m];
        for (unsigned k = 0; k < op->nout + op->nin; k++)
            if (op->args[k] == t)
                return true;
    }
    return false;
}

static uint32_t gen_fused_countdown(IREngineCtx *s, uint32_t n)
{
    const IRBlock *b = s->b;
    if (n + 4 > b->ninsns)
        return 0;
    const IRInsn *ld = &b->insns[n], *add = &b->insns[n + 1];
    const IRInsn *st = &b->insns[n + 2], *br = &b->insns[n + 3];
    if (ld->op != IR_ld || ld->type != IR_I32 || ld->args[1] != IR_ENV)
        return 0;
    IRTemp t = (IRTemp)ld->args[0];
    int64_t off = (int64_t)ld->args[2];
    if (b->temps[t].kind != IR_TEMP_EBB || off != (int32_t)off)
        return 0;
    if (add->op != IR_add || add->type != IR_I32 || add->args[0] != t || add->args[1] != t ||
        b->temps[add->args[2]].kind != IR_TEMP_CONST)
        return 0;
    int32_t k = (int32_t)(uint32_t)b->temps[add->args[2]].value;
    if (st->op != IR_st || st->type != IR_I32 || st->args[0] != t || st->args[1] != IR_ENV ||
        (int64_t)st->args[2] != off)
        return 0;
    if (br->op != IR_brcond || br->type != IR_I32 || br->args[0] != t ||
        b->temps[br->args[1]].kind != IR_TEMP_CONST ||
        (uint32_t)b->temps[br->args[1]].value != 0 || br->args[2] != IR_COND_LT)
        return 0;
    if (temp_used_from(b, n + 4, t))
        return 0;
    X86Asm *a = &s->a;
    ra_bb_end_sync(s);
    if (fits_i8(k)) {
        x86_modrm_mem(a, OPC_ARITH_EvIb, ALU_ADD, X86_ENV_REG, -1, 0, (int32_t)off);
        x86_byte(a, (uint8_t)k);
    } else {
        x86_modrm_mem(a, OPC_ARITH_EvIz, ALU_ADD, X86_ENV_REG, -1, 0, (int32_t)off);
        x86_u32(a, (uint32_t)k);
    }
    x86_opc(a, OPC_JCC_J32 + CC_S, 0, 0, 0);
    add_reloc(s, (uint32_t)br->args[3]);
    x86_u32(a, 0);
    return 4;
}

void *x86_compile_block(IREngineCtx *s, const IRBlock *b)
{
    s->b = b;
    ra_liveness(s);
    ra_begin_block(s);
    uint8_t *start = (uint8_t *)(((uintptr_t)s->free_ptr + 15) & ~(uintptr_t)15);
    if (start + sizeof(X86BlockHeader) + 64 > s->buf_end)
        return NULL;
    s->hdr = (X86BlockHeader *)start;
    memset(s->hdr, 0, sizeof(*s->hdr));
    s->code = start + sizeof(X86BlockHeader);
    s->a.p = s->code;
    if (s->label_cap < b->nlabels) {
        s->label_cap = b->nlabels + 16;
        s->label_pos = xrealloc(s->label_pos, s->label_cap * sizeof(uint32_t));
    }
    for (uint32_t l = 0; l < b->nlabels; l++)
        s->label_pos[l] = UINT32_MAX;
    s->nrelocs = s->nslow = s->nreloads = s->nrest = 0;

    bool reachable = true;
    for (uint32_t n = 0; n < b->ninsns; n++) {
        const IRInsn *op = &b->insns[n];
        if (s->a.p > s->buf_end)
            return NULL;
        if (!reachable && op->op != IR_set_label)
            continue;                     /* dead code after a jump */
        reachable = true;
        s->cur = n;
        s->locked = 0;
        uint32_t fused = op->op == IR_ld ? gen_fused_countdown(s, n) : 0;
        if (fused) {
            n += fused - 1;
            continue;
        }
        gen_op(s, op);
        if (op_ends_flow(op))
            reachable = false;
    }
    if (reachable) {                      /* fell off the end: exit_tb(0) */
        ra_sync_globals(s);
        x86_jmp_rel32_to(&s->a, s->exit0);
    }
    for (uint32_t i = 0; i < s->nslow; i++) {
        if (s->a.p > s->buf_end)
            return NULL;
        emit_slow_path(s, &s->slow[i]);
    }
    for (uint32_t i = 0; i < s->nrelocs; i++) {
        uint32_t target = s->label_pos[s->relocs[i].label];
        uint8_t *field = s->code + s->relocs[i].off;
        int32_t rel = target == UINT32_MAX ? 0 : (int32_t)(s->code + target - (field + 4));
        memcpy(field, &rel, 4);
    }
    s->hdr->code_len = code_off(s);
    if (s->a.p + (size_t)s->nrest * 30 > s->buf_end)   /* 3 LEB128s of <= 10 bytes */
        return NULL;
    emit_restore_table(s);
    s->hdr->restore_len = (uint32_t)(s->a.p - s->code) - s->hdr->code_len;
    if (s->a.p > s->buf_end)
        return NULL;
    s->free_ptr = s->a.p;
    return s->code;
}
