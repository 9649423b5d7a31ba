/*
 * BMI1 / BMI2: the VEX-encoded general-purpose bit-manipulation
 * instructions (ANDN, BEXTR, BLSI, BLSMSK, BLSR; BZHI, MULX, PDEP, PEXT,
 * RORX, SARX, SHLX, SHRX) for 32- and 64-bit operands (VEX.W in 64-bit
 * mode).  TZCNT (BMI1) and LZCNT are in translate-ops.c.
 *
 * The decoder gives these instructions their operands (cpu/opcodes.def, VX
 * rows: op[0] ModRM.reg, the VEX.vvvv register as a B operand) only for
 * valid encodings (VEX.L = 0); their semantics rows are the X86I rows of
 * cpu/opcodes.def (all FLT: #UD in real/V86 mode; the BMI1 ones and BZHI
 * CCW).  Everything is inline IR except
 * PDEP/PEXT, which call a small pure helper.  Flags follow the SDM vol. 2
 * "Flags Affected" of each page; the BMI2 instructions leave them alone.
 */
#include "cpu/translate.h"

/* VEX instructions are #UD in real and virtual-8086 mode (SDM vol. 2
 * 2.3.2; in real mode C4/C5 with mod = 11b are LES/LDS register forms,
 * also #UD).  Known per block: PE and VM are part of the block key. */
static bool bmi_vex_ud(DisasContext *s)
{
    if ((s->flags & HF_PE) && !(s->flags & HF_VM))
        return false;
    gen_exception(s, EXC_UD, 0);
    return true;
}

/* The result truncated to the operand size (values are kept zero-extended
 * in 64-bit temps). */
static IRTemp bmi_trunc(DisasContext *s, IRTemp v, unsigned size)
{
    return size == 8 ? v : gen_ext(s, v, size, false);
}

/* Flags of BLSI/BLSMSK/BLSR/BZHI: SF from the result, ZF from the result
 * (or cleared: BLSMSK), CF given, OF cleared; AF and PF are undefined and
 * left clear. */
static void bmi_set_flags(DisasContext *s, unsigned size, IRTemp r, IRTemp cf,
                          bool zf_from_result)
{
    if (s->cc_dead)
        return;
    IRTemp f = tcg_temp(s), t = tcg_temp(s);
    ir_op2(s->b, IR_shr, IR_I64, t, r, tcg_const(s, size * 8 - 1));
    ir_and(s->b, IR_I64, t, t, tcg_const(s, 1));
    ir_op2(s->b, IR_shl, IR_I64, f, t, tcg_const(s, 7));          /* SF */
    ir_or(s->b, IR_I64, f, f, cf);                                 /* CF */
    if (zf_from_result) {
        ir_setcond(s->b, IR_I64, IR_COND_EQ, t, r, tcg_const(s, 0));
        ir_op2(s->b, IR_shl, IR_I64, t, t, tcg_const(s, 6));
        ir_or(s->b, IR_I64, f, f, t);                              /* ZF */
    }
    gen_set_cc_eflags(s, f);
}

/* ANDN: dest = ~src1 & src2; SF ZF from the result, OF CF cleared. */
void gen_ANDN(DisasContext *s, const X86Insn *insn)
{
    if (bmi_vex_ud(s))
        return;
    const X86Operand *d = &insn->op[0];
    IRTemp src2 = gen_load_operand(s, &insn->op[2]);
    IRTemp src1 = gen_load_operand(s, &insn->op[1]);
    IRTemp r = tcg_temp(s);
    ir_op2(s->b, IR_andc, IR_I64, r, src2, src1);
    r = bmi_trunc(s, r, d->size);
    gen_set_reg(s, d->reg, d->size, r);
    gen_set_cc(s, CC_OP_LOGIC, d->size, r, 0, 0);
}

/* BEXTR: start = src2[7:0], length = src2[15:8]; bits past the operand
 * read as zero.  ZF from the result, CF OF cleared (AF SF PF undefined). */
void gen_BEXTR(DisasContext *s, const X86Insn *insn)
{
    if (bmi_vex_ud(s))
        return;
    const X86Operand *d = &insn->op[0];
    unsigned bits = d->size * 8;
    IRTemp src = gen_load_operand(s, &insn->op[1]);
    IRTemp ctl = gen_load_operand(s, &insn->op[2]);
    IRTemp start = tcg_temp(s), len = tcg_temp(s), sh = tcg_temp(s);
    IRTemp v = tcg_temp(s), m = tcg_temp(s), vm = tcg_temp(s), r = tcg_temp(s);
    IRTemp zero = tcg_const(s, 0), nbits = tcg_const(s, bits);
    ir_and(s->b, IR_I64, start, ctl, tcg_const(s, 0xff));
    ir_op2(s->b, IR_shr, IR_I64, len, ctl, tcg_const(s, 8));
    ir_and(s->b, IR_I64, len, len, tcg_const(s, 0xff));
    ir_and(s->b, IR_I64, sh, start, tcg_const(s, 63));
    ir_op2(s->b, IR_shr, IR_I64, v, src, sh);
    ir_movcond(s->b, IR_I64, IR_COND_GEU, v, start, nbits, zero, v);
    /* mask = (1 << len) - 1 for len < operand size, else all bits */
    ir_and(s->b, IR_I64, m, len, tcg_const(s, 63));
    ir_op2(s->b, IR_shl, IR_I64, m, tcg_const(s, 1), m);
    ir_sub(s->b, IR_I64, m, m, tcg_const(s, 1));
    ir_and(s->b, IR_I64, vm, v, m);
    ir_movcond(s->b, IR_I64, IR_COND_GEU, r, len, nbits, v, vm);
    r = bmi_trunc(s, r, d->size);
    gen_set_reg(s, d->reg, d->size, r);
    gen_set_cc(s, CC_OP_LOGIC, d->size, r, 0, 0);
}

typedef enum BlsKind { BLS_I, BLS_MSK, BLS_R } BlsKind;

/* BLSI: src & -src (CF = src != 0); BLSMSK: src ^ (src - 1) (CF = src
 * == 0, ZF cleared); BLSR: src & (src - 1) (CF = src == 0).  The
 * destination is the VEX.vvvv register. */
static void gen_bls(DisasContext *s, const X86Insn *insn, BlsKind k)
{
    if (bmi_vex_ud(s))
        return;
    const X86Operand *d = &insn->op[0];
    IRTemp src = gen_load_operand(s, &insn->op[1]);
    IRTemp t = tcg_temp(s), r = tcg_temp(s), cf = tcg_temp(s);
    if (k == BLS_I) {
        ir_op1(s->b, IR_neg, IR_I64, t, src);
        ir_and(s->b, IR_I64, r, src, t);
    } else {
        ir_sub(s->b, IR_I64, t, src, tcg_const(s, 1));
        if (k == BLS_MSK)
            ir_xor(s->b, IR_I64, r, src, t);
        else
            ir_and(s->b, IR_I64, r, src, t);
    }
    r = bmi_trunc(s, r, d->size);
    ir_setcond(s->b, IR_I64, k == BLS_I ? IR_COND_NE : IR_COND_EQ, cf, src,
               tcg_const(s, 0));
    gen_set_reg(s, d->reg, d->size, r);
    bmi_set_flags(s, d->size, r, cf, k != BLS_MSK);
}

void gen_BLSI(DisasContext *s, const X86Insn *i) { gen_bls(s, i, BLS_I); }
void gen_BLSMSK(DisasContext *s, const X86Insn *i) { gen_bls(s, i, BLS_MSK); }
void gen_BLSR(DisasContext *s, const X86Insn *i) { gen_bls(s, i, BLS_R); }

/* BZHI: n = src2[7:0]; bits n and up of src1 cleared when n < operand
 * size; CF = n > operand size - 1; SF ZF from the result, OF cleared. */
void gen_BZHI(DisasContext *s, const X86Insn *insn)
{
    if (bmi_vex_ud(s))
        return;
    const X86Operand *d = &insn->op[0];
    unsigned bits = d->size * 8;
    IRTemp src = gen_load_operand(s, &insn->op[1]);
    IRTemp idx = gen_load_operand(s, &insn->op[2]);
    IRTemp n = tcg_temp(s), m = tcg_temp(s), v = tcg_temp(s), r = tcg_temp(s);
    IRTemp cf = tcg_temp(s), nbits = tcg_const(s, bits);
    ir_and(s->b, IR_I64, n, idx, tcg_const(s, 0xff));
    ir_and(s->b, IR_I64, m, n, tcg_const(s, 63));
    ir_op2(s->b, IR_shl, IR_I64, m, tcg_const(s, 1), m);
    ir_sub(s->b, IR_I64, m, m, tcg_const(s, 1));
    ir_and(s->b, IR_I64, v, src, m);
    ir_movcond(s->b, IR_I64, IR_COND_GEU, r, n, nbits, src, v);
    ir_setcond(s->b, IR_I64, IR_COND_GEU, cf, n, nbits);
    r = bmi_trunc(s, r, d->size);
    gen_set_reg(s, d->reg, d->size, r);
    bmi_set_flags(s, d->size, r, cf, true);
}

typedef enum BmiShift { BSH_SHL, BSH_SHR, BSH_SAR } BmiShift;

/* SHLX/SHRX/SARX: the count (VEX.vvvv) is masked to 5 or 6 bits; flags
 * are not changed. */
static void gen_bmi_shift(DisasContext *s, const X86Insn *insn, BmiShift k)
{
    if (bmi_vex_ud(s))
        return;
    const X86Operand *d = &insn->op[0];
    IRTemp src = gen_load_operand(s, &insn->op[1]);
    IRTemp cnt = gen_load_operand(s, &insn->op[2]);
    IRTemp c = tcg_temp(s), r = tcg_temp(s);
    ir_and(s->b, IR_I64, c, cnt, tcg_const(s, d->size == 8 ? 63 : 31));
    if (k == BSH_SAR)
        src = gen_ext(s, src, d->size, true);
    ir_op2(s->b, k == BSH_SHL ? IR_shl : k == BSH_SHR ? IR_shr : IR_sar, IR_I64,
           r, src, c);
    gen_set_reg(s, d->reg, d->size, r);
}

void gen_SHLX(DisasContext *s, const X86Insn *i) { gen_bmi_shift(s, i, BSH_SHL); }
void gen_SHRX(DisasContext *s, const X86Insn *i) { gen_bmi_shift(s, i, BSH_SHR); }
void gen_SARX(DisasContext *s, const X86Insn *i) { gen_bmi_shift(s, i, BSH_SAR); }

/* RORX: rotate right by imm8 masked to 5 or 6 bits; flags unchanged. */
void gen_RORX(DisasContext *s, const X86Insn *insn)
{
    if (bmi_vex_ud(s))
        return;
    const X86Operand *d = &insn->op[0];
    unsigned bits = d->size * 8;
    unsigned c = (unsigned)insn->op[2].imm & (bits - 1);
    IRTemp src = gen_load_operand(s, &insn->op[1]);
    IRTemp r = tcg_temp(s);
    if (c == 0) {
        ir_mov(s->b, IR_I64, r, src);
    } else if (bits == 64) {
        ir_op2(s->b, IR_rotr, IR_I64, r, src, tcg_const(s, c));
    } else {
        IRTemp lo = tcg_temp(s), hi = tcg_temp(s);
        ir_op2(s->b, IR_shr, IR_I64, lo, src, tcg_const(s, c));
        ir_op2(s->b, IR_shl, IR_I64, hi, src, tcg_const(s, bits - c));
        ir_or(s->b, IR_I64, r, lo, hi);
    }
    gen_set_reg(s, d->reg, d->size, r);
}

/* MULX: rDX * src, unsigned; high half to ModRM.reg, low half to
 * VEX.vvvv; when both name the same register it gets the high half (SDM
 * MULX: the low half is written first).  Flags unchanged. */
void gen_MULX(DisasContext *s, const X86Insn *insn)
{
    if (bmi_vex_ud(s))
        return;
    const X86Operand *dhi = &insn->op[0], *dlo = &insn->op[1];
    unsigned size = dhi->size;
    IRTemp src = gen_load_operand(s, &insn->op[2]);
    IRTemp a = gen_get_reg(s, R_EDX, size);
    IRTemp lo = tcg_temp(s), hi = tcg_temp(s);
    if (size == 8) {
        ir_emit(s->b, IR_mulu2, IR_I64, (IRTemp[]){ lo, hi }, (IRTemp[]){ a, src }, NULL);
    } else {
        ir_op2(s->b, IR_mul, IR_I64, lo, a, src);
        ir_op2(s->b, IR_shr, IR_I64, hi, lo, tcg_const(s, 32));
    }
    gen_set_reg(s, dlo->reg, size, lo);
    gen_set_reg(s, dhi->reg, size, hi);
}

/* PDEP: the low bits of src go, in order, to the set bit positions of
 * mask; PEXT: the bits of src at the set positions of mask, packed into
 * the low bits (SDM vol. 2 PDEP/PEXT).  Operands zero-extended. */
static uint64_t helper_pdep(uint64_t src, uint64_t mask)
{
    uint64_t r = 0;
    for (uint64_t bit = 1; mask; bit <<= 1) {
        uint64_t low = mask & -mask;
        if (src & bit)
            r |= low;
        mask &= mask - 1;
    }
    return r;
}

static uint64_t helper_pext(uint64_t src, uint64_t mask)
{
    uint64_t r = 0;
    for (uint64_t bit = 1; mask; bit <<= 1) {
        uint64_t low = mask & -mask;
        if (src & low)
            r |= bit;
        mask &= mask - 1;
    }
    return r;
}

static const IRHelper hlp_pdep = IR_HELPER(helper_pdep, IR_CALL_NO_READ_GLOBALS |
                                           IR_CALL_NO_WRITE_GLOBALS | IR_CALL_PURE);
static const IRHelper hlp_pext = IR_HELPER(helper_pext, IR_CALL_NO_READ_GLOBALS |
                                           IR_CALL_NO_WRITE_GLOBALS | IR_CALL_PURE);

/* PDEP/PEXT r, vvvv (source), r/m (mask); flags unchanged. */
static void gen_pdep_pext(DisasContext *s, const X86Insn *insn, const IRHelper *h)
{
    if (bmi_vex_ud(s))
        return;
    const X86Operand *d = &insn->op[0];
    IRTemp mask = gen_load_operand(s, &insn->op[2]);
    IRTemp src = gen_load_operand(s, &insn->op[1]);
    IRTemp r = tcg_temp(s);
    gen_call_helper(s, h, r, 2, (IRTemp[]){ src, mask });
    gen_set_reg(s, d->reg, d->size, r);
}

void gen_PDEP(DisasContext *s, const X86Insn *i) { gen_pdep_pext(s, i, &hlp_pdep); }
void gen_PEXT(DisasContext *s, const X86Insn *i) { gen_pdep_pext(s, i, &hlp_pext); }
