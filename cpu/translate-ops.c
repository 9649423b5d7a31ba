/*
 * The integer instruction handlers: one gen_<MNEM> per mnemonic, and the
 * handler table x86_op_info[] indexed by X86Mnem (the only dispatch on
 * mnemonics in the translator), expanded from the mnemonic rows of
 * cpu/opcodes.def.  System instructions, string and I/O instructions are
 * in translate-sys.c.
 *
 * Every handler follows the same order: read operands (faults here leave
 * nothing changed), compute, store memory results, then write registers
 * and the lazy flags.
 */
#include "cpu/translate.h"
#include "cpu/translate-fpu.h"
#include "cpu/translate-sys.h"

#include "cpu/helpers.h"

typedef enum AluKind { ALU_ADD, ALU_OR, ALU_ADC, ALU_SBB, ALU_AND, ALU_SUB, ALU_XOR,
                       ALU_CMP, ALU_TEST } AluKind;

/* LOCK op [mem], src: one atomic add (ADD, SUB, ADC, SBB: the carry
 * folded into the addend) or and/or/xor; the result and the flags follow
 * from the old value as in gen_alu. */
static void gen_alu_locked(DisasContext *s, const X86Insn *insn, AluKind k)
{
    const X86Operand *d = &insn->op[0];
    unsigned size = d->size;
    IRTemp bv = gen_load_operand(s, &insn->op[1]);
    IRTemp cf = 0, addend = tcg_temp(s), old, r = tcg_temp(s);
    switch (k) {
    case ALU_ADC: case ALU_SBB:
        cf = gen_compute_cf(s);
        ir_add(s->b, IR_I64, addend, bv, cf);
        if (k == ALU_SBB)
            ir_op1(s->b, IR_neg, IR_I64, addend, addend);
        old = gen_atomic(s, d, IR_ATOMIC_ADD, addend, 0);
        break;
    case ALU_SUB:
        ir_op1(s->b, IR_neg, IR_I64, addend, bv);
        old = gen_atomic(s, d, IR_ATOMIC_ADD, addend, 0);
        break;
    case ALU_ADD: old = gen_atomic(s, d, IR_ATOMIC_ADD, bv, 0); break;
    case ALU_AND: old = gen_atomic(s, d, IR_ATOMIC_AND, bv, 0); break;
    case ALU_OR: old = gen_atomic(s, d, IR_ATOMIC_OR, bv, 0); break;
    default: old = gen_atomic(s, d, IR_ATOMIC_XOR, bv, 0); break;
    }
    switch (k) {
    case ALU_ADD: ir_add(s->b, IR_I64, r, old, bv); break;
    case ALU_ADC: ir_add(s->b, IR_I64, r, old, addend); break;
    case ALU_SUB: ir_sub(s->b, IR_I64, r, old, bv); break;
    case ALU_SBB: ir_add(s->b, IR_I64, r, old, addend); break;
    case ALU_AND: ir_and(s->b, IR_I64, r, old, bv); break;
    case ALU_OR: ir_or(s->b, IR_I64, r, old, bv); break;
    default: ir_xor(s->b, IR_I64, r, old, bv); break;
    }
    switch (k) {
    case ALU_ADD: gen_set_cc(s, CC_OP_ADD, size, r, bv, 0); break;
    case ALU_SUB: gen_set_cc(s, CC_OP_SUB, size, r, bv, 0); break;
    case ALU_ADC: gen_set_cc(s, CC_OP_ADC, size, r, bv, cf); break;
    case ALU_SBB: gen_set_cc(s, CC_OP_SBB, size, r, bv, cf); break;
    default: gen_set_cc(s, CC_OP_LOGIC, size, r, 0, 0); break;
    }
}

static void gen_alu(DisasContext *s, const X86Insn *insn, AluKind k)
{
    const X86Operand *d = &insn->op[0];
    unsigned size = d->size;
    bool store = k != ALU_CMP && k != ALU_TEST;
    if (store && gen_is_locked(s, d)) {
        gen_alu_locked(s, insn, k);
        return;
    }
    IRTemp a = store ? gen_load_dest(s, d) : gen_load_operand(s, d);
    const X86Operand *o = &insn->op[1];
    /* xor eax,eax / test eax,eax: one load, so the optimiser sees x^x, x&x */
    bool same = o->kind == X86_OPK_REG && d->kind == X86_OPK_REG && o->reg == d->reg &&
                o->size == d->size;
    IRTemp bv = same ? a : gen_load_operand(s, o);
    IRTemp r = tcg_temp(s), cf = 0;
    switch (k) {
    case ALU_ADD: ir_add(s->b, IR_I64, r, a, bv); break;
    case ALU_SUB: case ALU_CMP: ir_sub(s->b, IR_I64, r, a, bv); break;
    case ALU_AND: case ALU_TEST: ir_and(s->b, IR_I64, r, a, bv); break;
    case ALU_OR: ir_or(s->b, IR_I64, r, a, bv); break;
    case ALU_XOR: ir_xor(s->b, IR_I64, r, a, bv); break;
    case ALU_ADC:
        cf = gen_compute_cf(s);
        ir_add(s->b, IR_I64, r, a, bv);
        ir_add(s->b, IR_I64, r, r, cf);
        break;
    case ALU_SBB:
        cf = gen_compute_cf(s);
        ir_sub(s->b, IR_I64, r, a, bv);
        ir_sub(s->b, IR_I64, r, r, cf);
        break;
    }
    if (store)
        gen_store_operand(s, d, r);
    switch (k) {
    case ALU_ADD: gen_set_cc(s, CC_OP_ADD, size, r, bv, 0); break;
    case ALU_SUB: case ALU_CMP: gen_set_cc(s, CC_OP_SUB, size, r, bv, 0); break;
    case ALU_ADC: gen_set_cc(s, CC_OP_ADC, size, r, bv, cf); break;
    case ALU_SBB: gen_set_cc(s, CC_OP_SBB, size, r, bv, cf); break;
    default: gen_set_cc(s, CC_OP_LOGIC, size, r, 0, 0); break;
    }
}

void gen_ADD(DisasContext *s, const X86Insn *i) { gen_alu(s, i, ALU_ADD); }
void gen_OR(DisasContext *s, const X86Insn *i) { gen_alu(s, i, ALU_OR); }
void gen_ADC(DisasContext *s, const X86Insn *i) { gen_alu(s, i, ALU_ADC); }
void gen_SBB(DisasContext *s, const X86Insn *i) { gen_alu(s, i, ALU_SBB); }
void gen_AND(DisasContext *s, const X86Insn *i) { gen_alu(s, i, ALU_AND); }
void gen_SUB(DisasContext *s, const X86Insn *i) { gen_alu(s, i, ALU_SUB); }
void gen_XOR(DisasContext *s, const X86Insn *i) { gen_alu(s, i, ALU_XOR); }
void gen_CMP(DisasContext *s, const X86Insn *i) { gen_alu(s, i, ALU_CMP); }
void gen_TEST(DisasContext *s, const X86Insn *i) { gen_alu(s, i, ALU_TEST); }

static void gen_incdec(DisasContext *s, const X86Insn *insn, bool inc)
{
    const X86Operand *d = &insn->op[0];
    IRTemp r = tcg_temp(s);
    if (gen_is_locked(s, d)) {
        IRTemp a = gen_atomic(s, d, IR_ATOMIC_ADD, tcg_const(s, inc ? 1 : -1), 0);
        ir_op2(s->b, inc ? IR_add : IR_sub, IR_I64, r, a, tcg_const(s, 1));
    } else {
        IRTemp a = gen_load_dest(s, d);
        ir_op2(s->b, inc ? IR_add : IR_sub, IR_I64, r, a, tcg_const(s, 1));
        gen_store_operand(s, d, r);
    }
    int op = inc ? CC_OP_INC : CC_OP_DEC;
    /* the old CF comes from the cc globals, which the store leaves alone */
    if (!gen_cc_try_pend(s, op, d->size, r))
        gen_set_cc(s, op, d->size, r, s->cc_dead ? 0 : gen_compute_cf(s), 0);
}

void gen_INC(DisasContext *s, const X86Insn *i) { gen_incdec(s, i, true); }
void gen_DEC(DisasContext *s, const X86Insn *i) { gen_incdec(s, i, false); }

void gen_NEG(DisasContext *s, const X86Insn *insn)
{
    const X86Operand *d = &insn->op[0];
    bool locked = gen_is_locked(s, d);
    IRTemp a = locked ? gen_atomic(s, d, IR_ATOMIC_NEG, tcg_const(s, 0), 0)
                      : gen_load_dest(s, d);
    IRTemp r = tcg_temp(s);
    ir_op1(s->b, IR_neg, IR_I64, r, a);
    if (!locked)
        gen_store_operand(s, d, r);
    gen_set_cc(s, CC_OP_SUB, d->size, r, a, 0);
}

void gen_NOT(DisasContext *s, const X86Insn *insn)
{
    const X86Operand *d = &insn->op[0];
    if (gen_is_locked(s, d)) {
        gen_atomic(s, d, IR_ATOMIC_XOR, tcg_const(s, -1), 0);
        return;
    }
    IRTemp a = gen_load_dest(s, d);
    IRTemp r = tcg_temp(s);
    ir_op1(s->b, IR_not, IR_I64, r, a);
    gen_store_operand(s, d, r);
}

/* ---- shifts ---- */

static IRTemp gen_shift_count(DisasContext *s, const X86Insn *insn, unsigned size)
{
    IRTemp c = gen_load_operand(s, &insn->op[1]);
    IRTemp t = tcg_temp(s);
    ir_and(s->b, IR_I64, t, c, tcg_const(s, size == 8 ? 63 : 31));
    return t;
}

typedef enum ShiftKind { SH_SHL, SH_SHR, SH_SAR } ShiftKind;

static void gen_shift(DisasContext *s, const X86Insn *insn, ShiftKind k)
{
    const X86Operand *d = &insn->op[0];
    unsigned size = d->size;
    IRTemp a = gen_load_dest(s, d);
    const X86Operand *co = &insn->op[1];
    bool dynamic = co->kind == X86_OPK_REG;
    IRTemp c;
    if (co->kind == X86_OPK_IMM) {
        unsigned cimm = (unsigned)co->imm & (size == 8 ? 63 : 31);
        if (cimm == 0) {
            /* count 0: the flags do not change, but a 32-bit register
             * destination is still written (zero-extended), as any 32-bit
             * register write in 64-bit mode (verified by hostdiff) */
            if (d->kind == X86_OPK_REG && size == 4)
                gen_set_reg(s, d->reg, 4, a);
            return;
        }
        c = tcg_const(s, cimm);
    } else if (dynamic) {
        c = gen_shift_count(s, insn, size);
    } else {
        c = tcg_const(s, 1);   /* the D0/D1 "1" form */
    }
    IRTemp v = k == SH_SAR ? gen_ext(s, a, size, true) : a;
    IROpcode op = k == SH_SHL ? IR_shl : k == SH_SHR ? IR_shr : IR_sar;
    IRTemp r = tcg_temp(s), c1 = tcg_temp(s), pre = tcg_temp(s);
    ir_op2(s->b, op, IR_I64, r, v, c);
    ir_sub(s->b, IR_I64, c1, c, tcg_const(s, 1));
    ir_op2(s->b, op, IR_I64, pre, v, c1);
    gen_store_operand(s, d, r);
    int ccop = (k == SH_SHL ? CC_OP_SHL : k == SH_SHR ? CC_OP_SHR : CC_OP_SAR) + ot_of(size);
    if (s->cc_dead)
        return;
    if (!dynamic) {
        gen_set_cc(s, ccop & ~3, size, r, pre, 0);
        return;
    }
    /* Count from CL: a zero count leaves the flags alone. */
    gen_cc_settle(s);
    IRTemp zero = tcg_const(s, 0);
    ir_movcond(s->b, IR_I64, IR_COND_EQ, s->cc_dst, c, zero, s->cc_dst, r);
    ir_movcond(s->b, IR_I64, IR_COND_EQ, s->cc_src, c, zero, s->cc_src, pre);
    IRTemp c32 = ir_temp(s->b, IR_I32), op32 = ir_const(s->b, IR_I32, ccop);
    ir_op1(s->b, IR_extrl_i64, IR_I32, c32, c);
    ir_movcond(s->b, IR_I32, IR_COND_EQ, s->cc_op_g, c32, ir_const(s->b, IR_I32, 0),
               s->cc_op_g, op32);
    s->cc_op = CC_OP_DYNAMIC;
}

void gen_SHL(DisasContext *s, const X86Insn *i) { gen_shift(s, i, SH_SHL); }
void gen_SHR(DisasContext *s, const X86Insn *i) { gen_shift(s, i, SH_SHR); }
void gen_SAR(DisasContext *s, const X86Insn *i) { gen_shift(s, i, SH_SAR); }

static IRTemp gen_count_operand(DisasContext *s, const X86Operand *op)
{
    if (op->kind == X86_OPK_REG || op->kind == X86_OPK_IMM)
        return gen_load_operand(s, op);
    return tcg_const(s, 1);
}

/* Rotates.  ROL/ROR of a dword or qword are inline: one host rotate
 * (the IR's count is modulo the width, exactly the x86 mask, 31 or 63),
 * and when the flags are live, CF and OF from the result (SDM ROL/ROR:
 * CF is the bit rotated into bit 0 / the msb; OF is msb XOR CF for ROL,
 * the xor of the two top bits for ROR, as the helper computes it for every
 * count), the other flags unchanged, nothing changed for a masked count of
 * zero.  RCL/RCR and byte/word rotates call one helper twice, for the
 * result and then the flags, the flags only after the store (a faulting
 * store must leave the flags as they were). */

/* Rotates the destination, stores it; returns the result and the count. */
static IRTemp gen_rotate_value(DisasContext *s, const X86Insn *insn, int kind, IRTemp *count)
{
    const X86Operand *d = &insn->op[0];
    IROpcode op = kind == ROT_ROL ? IR_rotl : IR_rotr;
    IRTemp a = gen_load_dest(s, d);
    IRTemp c = gen_count_operand(s, &insn->op[1]);
    IRTemp r = tcg_temp(s);
    if (d->size == 8) {
        ir_op2(s->b, op, IR_I64, r, a, c);
    } else {
        IRTemp a32 = ir_temp(s->b, IR_I32), c32 = ir_temp(s->b, IR_I32);
        IRTemp r32 = ir_temp(s->b, IR_I32);
        ir_op1(s->b, IR_extrl_i64, IR_I32, a32, a);
        ir_op1(s->b, IR_extrl_i64, IR_I32, c32, c);
        ir_op2(s->b, op, IR_I32, r32, a32, c32);
        ir_op1(s->b, IR_extu_i32, IR_I64, r, r32);
    }
    gen_store_operand(s, d, r);
    *count = c;
    return r;
}

/* The flags after ROL/ROR with result r (zero-extended), given old. */
static IRTemp gen_rotate_flags(DisasContext *s, int kind, unsigned bits, IRTemp r, IRTemp old)
{
    IRTemp msb = gen_move_bit(s, r, bits - 1, 0);
    IRTemp cf = kind == ROT_ROL ? gen_move_bit(s, r, 0, 0) : msb;
    IRTemp of = tcg_temp(s), f = tcg_temp(s);
    ir_op2(s->b, IR_xor, IR_I64, of, msb, kind == ROT_ROL ? cf : gen_move_bit(s, r, bits - 2, 0));
    ir_op2(s->b, IR_shl, IR_I64, of, of, tcg_const(s, 11));          /* CC_O */
    ir_and(s->b, IR_I64, f, old, tcg_const(s, ~(uint64_t)(CC_C | CC_O)));
    ir_op2(s->b, IR_or, IR_I64, f, f, cf);
    ir_op2(s->b, IR_or, IR_I64, f, f, of);
    return f;
}

static bool gen_rotate_inline(DisasContext *s, const X86Insn *insn, int kind)
{
    const X86Operand *d = &insn->op[0], *co = &insn->op[1];
    if ((kind != ROT_ROL && kind != ROT_ROR) || (d->size != 4 && d->size != 8))
        return false;
    unsigned bits = 8 * d->size, mask = bits - 1;
    IRTemp c;
    IRTemp r = gen_rotate_value(s, insn, kind, &c);
    if (s->cc_dead)
        return true;
    bool is_imm = co->kind == X86_OPK_IMM;
    if (is_imm && (co->imm & mask) == 0)
        return true;                           /* count 0: flags unchanged */
    IRTemp old = gen_compute_eflags(s);
    IRTemp f = gen_rotate_flags(s, kind, bits, r, old);
    if (co->kind == X86_OPK_REG) {
        IRTemp cm = tcg_temp(s);
        ir_and(s->b, IR_I64, cm, c, tcg_const(s, mask));
        ir_movcond(s->b, IR_I64, IR_COND_EQ, f, cm, tcg_const(s, 0), old, f);
    }
    gen_set_cc_eflags(s, f);
    return true;
}

static void gen_rotate(DisasContext *s, const X86Insn *insn, int kind)
{
    if (gen_rotate_inline(s, insn, kind))
        return;
    const X86Operand *d = &insn->op[0];
    IRTemp a = gen_load_dest(s, d);
    IRTemp c = gen_count_operand(s, &insn->op[1]);
    IRTemp cf = gen_compute_eflags(s);
    IRTemp r = tcg_temp(s);
    IRTemp args[5] = { IR_ENV, tcg_const(s, kind | ot_of(d->size) << 4), a, c, cf };
    ir_call(s->b, &hlp_rotate, IR_I64, 1, r, 5, args);
    gen_store_operand(s, d, r);
    if (s->cc_dead)
        return;
    IRTemp f = tcg_temp(s);
    IRTemp args2[5] = { IR_ENV, tcg_const(s, kind | ot_of(d->size) << 4 | 0x100), a, c, cf };
    ir_call(s->b, &hlp_rotate, IR_I64, 1, f, 5, args2);
    gen_set_cc_eflags(s, f);
}

void gen_ROL(DisasContext *s, const X86Insn *i) { gen_rotate(s, i, ROT_ROL); }
void gen_ROR(DisasContext *s, const X86Insn *i) { gen_rotate(s, i, ROT_ROR); }
void gen_RCL(DisasContext *s, const X86Insn *i) { gen_rotate(s, i, ROT_RCL); }
void gen_RCR(DisasContext *s, const X86Insn *i) { gen_rotate(s, i, ROT_RCR); }

static void gen_dshift(DisasContext *s, const X86Insn *insn, const IRHelper *h)
{
    const X86Operand *d = &insn->op[0];
    IRTemp a = gen_load_dest(s, d);
    IRTemp src = gen_load_operand(s, &insn->op[1]);
    IRTemp c = gen_load_operand(s, &insn->op[2]);
    IRTemp f0 = gen_compute_eflags(s);
    IRTemp r = tcg_temp(s), f = tcg_temp(s);
    IRTemp args[6] = { tcg_const(s, ot_of(d->size)), a, src, c, f0, tcg_const(s, 0) };
    ir_call(s->b, h, IR_I64, 1, r, 6, args);
    gen_store_operand(s, d, r);
    if (s->cc_dead)
        return;
    IRTemp args2[6] = { tcg_const(s, ot_of(d->size)), a, src, c, f0, tcg_const(s, 1) };
    ir_call(s->b, h, IR_I64, 1, f, 6, args2);
    gen_set_cc_eflags(s, f);
}

void gen_SHLD(DisasContext *s, const X86Insn *i) { gen_dshift(s, i, &hlp_shld); }
void gen_SHRD(DisasContext *s, const X86Insn *i) { gen_dshift(s, i, &hlp_shrd); }

/* ---- multiply and divide ---- */

static void gen_mul_1op(DisasContext *s, const X86Insn *insn, bool sign)
{
    unsigned size = insn->op[0].size;
    IRTemp bv = gen_load_operand(s, &insn->op[0]);
    IRTemp a = gen_get_reg(s, R_EAX, size);
    IRTemp lo = tcg_temp(s), hi = tcg_temp(s), ovf = tcg_temp(s);
    if (size == 8) {
        ir_emit(s->b, sign ? IR_muls2 : IR_mulu2, IR_I64, (IRTemp[]){ lo, hi },
                (IRTemp[]){ a, bv }, NULL);
        if (sign) {
            IRTemp sx = tcg_temp(s);
            ir_op2(s->b, IR_sar, IR_I64, sx, lo, tcg_const(s, 63));
            ir_sub(s->b, IR_I64, ovf, hi, sx);
        } else {
            ir_mov(s->b, IR_I64, ovf, hi);
        }
        gen_set_reg(s, R_EAX, 8, lo);
        gen_set_reg(s, R_EDX, 8, hi);
        gen_set_cc(s, CC_OP_MUL, size, lo, ovf, 0);
        return;
    }
    IRTemp p = tcg_temp(s);
    if (sign)
        ir_op2(s->b, IR_mul, IR_I64, p, gen_ext(s, a, size, true), gen_ext(s, bv, size, true));
    else
        ir_op2(s->b, IR_mul, IR_I64, p, a, bv);
    unsigned bits = size * 8;
    if (sign)
        ir_sub(s->b, IR_I64, ovf, p, gen_ext(s, p, size, true));
    else
        ir_op2(s->b, IR_shr, IR_I64, ovf, p, tcg_const(s, bits));
    if (size == 1) {
        gen_set_reg(s, R_EAX, 2, p);
    } else {
        ir_op2(s->b, IR_shr, IR_I64, hi, p, tcg_const(s, bits));
        gen_set_reg(s, R_EAX, size, p);
        gen_set_reg(s, R_EDX, size, hi);
    }
    gen_set_cc(s, CC_OP_MUL, size, p, ovf, 0);
}

void gen_MUL(DisasContext *s, const X86Insn *i) { gen_mul_1op(s, i, false); }

void gen_IMUL(DisasContext *s, const X86Insn *insn)
{
    if (insn->nops == 1) {
        gen_mul_1op(s, insn, true);
        return;
    }
    const X86Operand *d = &insn->op[0];
    unsigned size = d->size;
    IRTemp a, bv;
    if (insn->nops == 3) {
        a = gen_load_operand(s, &insn->op[1]);
        bv = gen_load_operand(s, &insn->op[2]);
    } else {
        a = gen_load_operand(s, &insn->op[0]);
        bv = gen_load_operand(s, &insn->op[1]);
    }
    IRTemp lo = tcg_temp(s), ovf = tcg_temp(s);
    if (size == 8) {
        IRTemp hi = tcg_temp(s), sx = tcg_temp(s);
        ir_emit(s->b, IR_muls2, IR_I64, (IRTemp[]){ lo, hi }, (IRTemp[]){ a, bv }, NULL);
        ir_op2(s->b, IR_sar, IR_I64, sx, lo, tcg_const(s, 63));
        ir_sub(s->b, IR_I64, ovf, hi, sx);
    } else {
        ir_op2(s->b, IR_mul, IR_I64, lo, gen_ext(s, a, size, true), gen_ext(s, bv, size, true));
        ir_sub(s->b, IR_I64, ovf, lo, gen_ext(s, lo, size, true));
    }
    gen_set_reg(s, d->reg, size, lo);
    gen_set_cc(s, CC_OP_MUL, size, lo, ovf, 0);
}

static void gen_divide(DisasContext *s, const X86Insn *insn, const IRHelper *h)
{
    IRTemp v = gen_load_operand(s, &insn->op[0]);
    IRTemp args[3] = { IR_ENV, tcg_const(s, ot_of(insn->op[0].size)), v };
    gen_call_helper(s, h, 0, 3, args);
}

void gen_DIV(DisasContext *s, const X86Insn *i) { gen_divide(s, i, &hlp_div); }
void gen_IDIV(DisasContext *s, const X86Insn *i) { gen_divide(s, i, &hlp_idiv); }

/* ---- BCD: helpers on AL/AH and the flags ---- */

static void gen_bcd(DisasContext *s, const IRHelper *h, int64_t imm)
{
    IRTemp args[2] = { IR_ENV, tcg_const(s, imm) };
    gen_call_helper(s, h, 0, 2, args);
    s->cc_op = CC_OP_DYNAMIC;
}

void gen_DAA(DisasContext *s, const X86Insn *i) { gen_bcd(s, &hlp_daa, 0); }
void gen_DAS(DisasContext *s, const X86Insn *i) { gen_bcd(s, &hlp_das, 0); }
void gen_AAA(DisasContext *s, const X86Insn *i) { gen_bcd(s, &hlp_aaa, 0); }
void gen_AAS(DisasContext *s, const X86Insn *i) { gen_bcd(s, &hlp_aas, 0); }
void gen_AAM(DisasContext *s, const X86Insn *i) { gen_bcd(s, &hlp_aam, i->op[0].imm & 0xff); }
void gen_AAD(DisasContext *s, const X86Insn *i) { gen_bcd(s, &hlp_aad, i->op[0].imm & 0xff); }

/* ---- data movement ---- */

void gen_MOV(DisasContext *s, const X86Insn *insn)
{
    const X86Operand *d = &insn->op[0], *src = &insn->op[1];
    if (d->kind == X86_OPK_CREG || src->kind == X86_OPK_CREG ||
        d->kind == X86_OPK_DREG || src->kind == X86_OPK_DREG) {
        gen_mov_crdr(s, insn);
        return;
    }
    if (d->kind == X86_OPK_SEGREG) {
        if (d->reg == X86_SEG_CS || d->reg > X86_SEG_GS) {
            gen_exception(s, EXC_UD, 0);
            return;
        }
        X86Operand w = *src;
        w.size = 2;
        IRTemp v = gen_load_operand(s, &w);
        gen_load_seg(s, d->reg, v);
        return;
    }
    if (src->kind == X86_OPK_SEGREG) {
        if (src->reg > X86_SEG_GS) {
            gen_exception(s, EXC_UD, 0);
            return;
        }
        IRTemp v = gen_load_operand(s, src);
        X86Operand w = *d;
        if (w.kind == X86_OPK_MEM)
            w.size = 2;
        gen_store_operand(s, &w, v);
        return;
    }
    IRTemp v = gen_load_operand(s, src);
    gen_store_operand(s, d, v);
}

static void gen_movx(DisasContext *s, const X86Insn *insn, bool sign)
{
    IRTemp v = gen_load_operand(s, &insn->op[1]);
    v = gen_ext(s, v, insn->op[1].size, sign);
    gen_store_operand(s, &insn->op[0], v);
}

void gen_MOVZX(DisasContext *s, const X86Insn *i) { gen_movx(s, i, false); }
void gen_MOVSX(DisasContext *s, const X86Insn *i) { gen_movx(s, i, true); }
void gen_MOVSXD(DisasContext *s, const X86Insn *i) { gen_movx(s, i, true); }

void gen_LEA(DisasContext *s, const X86Insn *insn)
{
    if (insn->op[1].kind != X86_OPK_MEM) {
        gen_exception(s, EXC_UD, 0);
        return;
    }
    IRTemp ea = gen_ea_offset(s, &insn->mem);
    gen_set_reg(s, insn->op[0].reg, insn->op[0].size, ea);
}

void gen_XCHG(DisasContext *s, const X86Insn *insn)
{
    const X86Operand *a = &insn->op[0], *bo = &insn->op[1];
    const X86Operand *mem = a->kind == X86_OPK_MEM ? a : bo->kind == X86_OPK_MEM ? bo : NULL;
    if (mem) {
        /* with memory, always a locked exchange (SDM XCHG) */
        const X86Operand *reg = mem == a ? bo : a;
        IRTemp old = gen_atomic(s, mem, IR_ATOMIC_XCHG, gen_load_operand(s, reg), 0);
        gen_store_operand(s, reg, old);
        return;
    }
    IRTemp va = gen_load_dest(s, a);
    IRTemp vb = gen_load_dest(s, bo);
    /* The memory side first: it is the one that can fault. */
    if (bo->kind == X86_OPK_MEM) {
        gen_store_operand(s, bo, va);
        gen_store_operand(s, a, vb);
    } else {
        gen_store_operand(s, a, vb);
        gen_store_operand(s, bo, va);
    }
}

void gen_XLAT(DisasContext *s, const X86Insn *insn)
{
    IRTemp off = tcg_temp(s);
    ir_add(s->b, IR_I64, off, s->regs[R_EBX], gen_get_reg(s, R_EAX, 1));
    off = gen_trunc_addr(s, off, insn->addrsize);
    int seg = insn->seg_override != X86_SEG_NONE ? insn->seg_override : X86_SEG_DS;
    IRTemp v = gen_ld(s, gen_linear(s, seg, off, 1, false), 1, false);
    gen_set_reg(s, R_EAX, 1, v);
}

void gen_CBW(DisasContext *s, const X86Insn *insn)
{
    unsigned size = insn->opsize;
    IRTemp v = gen_ext(s, s->regs[R_EAX], size / 2, true);
    gen_set_reg(s, R_EAX, size, v);
}

void gen_CWD(DisasContext *s, const X86Insn *insn)
{
    unsigned size = insn->opsize;
    IRTemp v = gen_ext(s, s->regs[R_EAX], size, true);
    IRTemp h = tcg_temp(s);
    ir_op2(s->b, IR_sar, IR_I64, h, v, tcg_const(s, 63));
    gen_set_reg(s, R_EDX, size, h);
}

void gen_LAHF(DisasContext *s, const X86Insn *insn)
{
    IRTemp f = gen_compute_eflags(s);
    ir_and(s->b, IR_I64, f, f, tcg_const(s, CC_S | CC_Z | CC_A | CC_P | CC_C));
    ir_or(s->b, IR_I64, f, f, tcg_const(s, EFL_FIXED));
    gen_set_reg(s, X86_GPR_AH, 1, f);
}

void gen_SAHF(DisasContext *s, const X86Insn *insn)
{
    const uint64_t m = CC_S | CC_Z | CC_A | CC_P | CC_C;
    IRTemp f = gen_compute_eflags(s);
    IRTemp ah = gen_get_reg(s, X86_GPR_AH, 1);
    ir_and(s->b, IR_I64, f, f, tcg_const(s, CC_O));
    ir_and(s->b, IR_I64, ah, ah, tcg_const(s, (int64_t)m));
    ir_or(s->b, IR_I64, f, f, ah);
    gen_set_cc_eflags(s, f);
}

void gen_SALC(DisasContext *s, const X86Insn *insn)
{
    IRTemp cf = gen_compute_cf(s);
    IRTemp v = tcg_temp(s);
    ir_op1(s->b, IR_neg, IR_I64, v, cf);
    gen_set_reg(s, R_EAX, 1, v);
}

static void gen_flag_op(DisasContext *s, uint32_t clear, uint32_t set, uint32_t toggle)
{
    IRTemp f = gen_compute_eflags(s);
    if (clear)
        ir_and(s->b, IR_I64, f, f, tcg_const(s, ~(int64_t)clear));
    if (set)
        ir_or(s->b, IR_I64, f, f, tcg_const(s, set));
    if (toggle)
        ir_xor(s->b, IR_I64, f, f, tcg_const(s, toggle));
    gen_set_cc_eflags(s, f);
}

void gen_CLC(DisasContext *s, const X86Insn *i) { gen_flag_op(s, CC_C, 0, 0); }
void gen_STC(DisasContext *s, const X86Insn *i) { gen_flag_op(s, 0, CC_C, 0); }
void gen_CMC(DisasContext *s, const X86Insn *i) { gen_flag_op(s, 0, 0, CC_C); }

/* ADCX / ADOX: dest += src + CF (OF); only CF (OF) changes. */
static void gen_adx(DisasContext *s, const X86Insn *insn, uint32_t flag, int shift)
{
    const X86Operand *d = &insn->op[0];
    IRTemp a = gen_load_operand(s, d), bv = gen_load_operand(s, &insn->op[1]);
    IRTemp f = gen_compute_eflags(s);
    IRTemp cin = tcg_temp(s), r = tcg_temp(s), c = tcg_temp(s), t = tcg_temp(s);
    ir_op2(s->b, IR_shr, IR_I64, cin, f, tcg_const(s, shift));
    ir_and(s->b, IR_I64, cin, cin, tcg_const(s, 1));
    if (d->size == 4) {
        ir_add(s->b, IR_I64, r, gen_ext(s, a, 4, false), gen_ext(s, bv, 4, false));
        ir_add(s->b, IR_I64, r, r, cin);
        ir_op2(s->b, IR_shr, IR_I64, c, r, tcg_const(s, 32));
    } else {
        ir_add(s->b, IR_I64, t, a, cin);
        ir_setcond(s->b, IR_I64, IR_COND_LTU, c, t, cin);   /* a + cin wrapped */
        ir_add(s->b, IR_I64, r, t, bv);
        ir_setcond(s->b, IR_I64, IR_COND_LTU, t, r, bv);
        ir_or(s->b, IR_I64, c, c, t);
    }
    gen_set_reg(s, d->reg, d->size, r);
    ir_and(s->b, IR_I64, f, f, tcg_const(s, ~(int64_t)flag));
    ir_op2(s->b, IR_shl, IR_I64, c, c, tcg_const(s, shift));
    ir_or(s->b, IR_I64, f, f, c);
    gen_set_cc_eflags(s, f);
}

void gen_ADCX(DisasContext *s, const X86Insn *i) { gen_adx(s, i, CC_C, 0); }
void gen_ADOX(DisasContext *s, const X86Insn *i) { gen_adx(s, i, CC_O, 11); }

static void gen_df(DisasContext *s, bool set)
{
    IRTemp f = ir_temp(s->b, IR_I32);
    ir_ld(s->b, IR_ld, IR_I32, f, IR_ENV, offsetof(CPUState, eflags));
    if (set)
        ir_or(s->b, IR_I32, f, f, tcg_const32(s, EFL_DF));
    else
        ir_and(s->b, IR_I32, f, f, tcg_const32(s, ~EFL_DF));
    ir_st(s->b, IR_st, IR_I32, f, IR_ENV, offsetof(CPUState, eflags));
}

void gen_CLD(DisasContext *s, const X86Insn *i) { gen_df(s, false); }
void gen_STD(DisasContext *s, const X86Insn *i) { gen_df(s, true); }

void gen_NOP(DisasContext *s, const X86Insn *i) { }

/* PAUSE: a spin-wait hint.  When the CPUs share one host thread
 * (-accel tcg,thread=single: cpu->pause_yields), a spinning CPU gives its
 * turn up at once, as QEMU's round-robin does: the lock holder can only
 * run when it does.  With a thread per CPU (cpu->pause_spin_yield) a
 * helper watches for long spins and yields the host core then (the
 * holder's thread may be waiting for one: smp_pause); the block goes on.
 * Otherwise a NOP. */
void gen_PAUSE(DisasContext *s, const X86Insn *i)
{
    if (s->cpu && !s->cpu->pause_yields && s->cpu->pause_spin_yield) {
        IRTemp args[1] = { IR_ENV };
        gen_call_helper(s, &hlp_pause, 0, 1, args);
        return;
    }
    if (!s->cpu || !s->cpu->pause_yields)
        return;
    ir_st(s->b, IR_st8, IR_I64, tcg_const(s, 1), IR_ENV, offsetof(CPUState, stop));
    ir_st(s->b, IR_st32, IR_I64, tcg_const(s, -1), IR_ENV, offsetof(CPUState, exit_budget));
    s->end = DISAS_STOP;
}

void gen_UD(DisasContext *s, const X86Insn *i) { gen_exception(s, EXC_UD, 0); }

/* ---- bit operations ---- */

void gen_SETCC(DisasContext *s, const X86Insn *insn)
{
    IRTemp v = gen_cond(s, insn->cond);
    gen_store_operand(s, &insn->op[0], v);
}

void gen_CMOVCC(DisasContext *s, const X86Insn *insn)
{
    const X86Operand *d = &insn->op[0];
    IRTemp src = gen_load_operand(s, &insn->op[1]);
    IRTemp old = gen_get_reg(s, d->reg, d->size);
    IRCond c;
    IRTemp a, bv;
    gen_cond_cmp(s, insn->cond, &c, &a, &bv);
    IRTemp r = tcg_temp(s);
    ir_movcond(s->b, IR_I64, c, r, a, bv, src, old);
    gen_set_reg(s, d->reg, d->size, r);
}

typedef enum BitKind { BIT_T, BIT_S, BIT_R, BIT_C } BitKind;

/* LOCK BTS/BTR/BTC [mem]: an atomic or / and-not / xor of the bit's mask
 * (the address already adjusted for a register offset); CF = the old bit. */
static void gen_bitop_locked(DisasContext *s, const X86Insn *insn, BitKind k, IRTemp off)
{
    const X86Operand *d = &insn->op[0];
    IRTemp bit = tcg_temp(s), m = tcg_temp(s), cf = tcg_temp(s);
    ir_and(s->b, IR_I64, bit, off, tcg_const(s, d->size * 8 - 1));
    ir_op2(s->b, IR_shl, IR_I64, m, tcg_const(s, 1), bit);
    IRAtomicOp op = k == BIT_S ? IR_ATOMIC_OR : k == BIT_R ? IR_ATOMIC_AND : IR_ATOMIC_XOR;
    if (k == BIT_R)
        ir_op1(s->b, IR_not, IR_I64, m, m);
    IRTemp old = gen_atomic(s, d, op, m, 0);
    ir_op2(s->b, IR_shr, IR_I64, cf, old, bit);
    ir_and(s->b, IR_I64, cf, cf, tcg_const(s, 1));
    if (s->cc_dead)
        return;
    IRTemp f = gen_compute_eflags(s);
    ir_and(s->b, IR_I64, f, f, tcg_const(s, ~(int64_t)CC_C));
    ir_or(s->b, IR_I64, f, f, cf);
    gen_set_cc_eflags(s, f);
}

static void gen_bitop(DisasContext *s, const X86Insn *insn, BitKind k)
{
    const X86Operand *d = &insn->op[0], *src = &insn->op[1];
    unsigned size = d->size, bits = size * 8;
    IRTemp off = gen_load_operand(s, src);
    IRTemp bit = tcg_temp(s);
    IRTemp a;
    if (d->kind == X86_OPK_MEM && src->kind == X86_OPK_REG) {
        /* A register bit offset addresses memory beyond the operand:
         * signed offset / bits * size bytes. */
        IRTemp ea = gen_ea_offset(s, &insn->mem);
        IRTemp so = gen_ext(s, off, size, true), adj = tcg_temp(s);
        ir_op2(s->b, IR_sar, IR_I64, adj, so, tcg_const(s, ot_of(size) + 3));
        ir_op2(s->b, IR_shl, IR_I64, adj, adj, tcg_const(s, ot_of(size)));
        ir_add(s->b, IR_I64, ea, ea, adj);
        ea = gen_trunc_addr(s, ea, insn->addrsize);
        s->mem_addr = gen_linear(s, insn->mem.seg, ea, size, k != BIT_T);
        s->mem_addr_write = k != BIT_T;
    }
    if (k != BIT_T && gen_is_locked(s, d)) {
        gen_bitop_locked(s, insn, k, off);
        return;
    }
    a = k == BIT_T ? gen_load_operand(s, d) : gen_load_dest(s, d);
    ir_and(s->b, IR_I64, bit, off, tcg_const(s, bits - 1));
    IRTemp cf = tcg_temp(s), m = tcg_temp(s), r = tcg_temp(s);
    ir_op2(s->b, IR_shr, IR_I64, cf, a, bit);
    ir_and(s->b, IR_I64, cf, cf, tcg_const(s, 1));
    ir_op2(s->b, IR_shl, IR_I64, m, tcg_const(s, 1), bit);
    switch (k) {
    case BIT_S: ir_or(s->b, IR_I64, r, a, m); break;
    case BIT_R: ir_op2(s->b, IR_andc, IR_I64, r, a, m); break;
    case BIT_C: ir_xor(s->b, IR_I64, r, a, m); break;
    default: break;
    }
    if (k != BIT_T)
        gen_store_operand(s, d, r);
    if (s->cc_dead)
        return;
    IRTemp f = gen_compute_eflags(s);
    ir_and(s->b, IR_I64, f, f, tcg_const(s, ~(int64_t)CC_C));
    ir_or(s->b, IR_I64, f, f, cf);
    gen_set_cc_eflags(s, f);
}

void gen_BT(DisasContext *s, const X86Insn *i) { gen_bitop(s, i, BIT_T); }
void gen_BTS(DisasContext *s, const X86Insn *i) { gen_bitop(s, i, BIT_S); }
void gen_BTR(DisasContext *s, const X86Insn *i) { gen_bitop(s, i, BIT_R); }
void gen_BTC(DisasContext *s, const X86Insn *i) { gen_bitop(s, i, BIT_C); }

static void gen_bitscan(DisasContext *s, const X86Insn *insn, bool reverse)
{
    const X86Operand *d = &insn->op[0];
    IRTemp src = gen_load_operand(s, &insn->op[1]);
    IRTemp old = gen_get_reg(s, d->reg, d->size);
    IRTemp idx = tcg_temp(s), r = tcg_temp(s);
    if (reverse) {
        ir_op2(s->b, IR_clz, IR_I64, idx, src, tcg_const(s, 64));
        ir_sub(s->b, IR_I64, idx, tcg_const(s, 63), idx);
    } else {
        ir_op2(s->b, IR_ctz, IR_I64, idx, src, tcg_const(s, 64));
    }
    /* Source 0: ZF=1 and the destination keeps its value.  The Intel SDM
     * calls it undefined; the AMD APM says unchanged, and the AMD host
     * (hostdiff) keeps all 64 bits even for a 32-bit operand, so a 32-bit
     * destination is not zero-extended then. */
    if (d->size == 4) {
        old = s->regs[d->reg & 15];
        ir_movcond(s->b, IR_I64, IR_COND_EQ, r, src, tcg_const(s, 0), old, idx);
        ir_mov(s->b, IR_I64, old, r);
    } else {
        ir_movcond(s->b, IR_I64, IR_COND_EQ, r, src, tcg_const(s, 0), old, idx);
        gen_set_reg(s, d->reg, d->size, r);
    }
    gen_set_cc(s, CC_OP_LOGIC, d->size, src, 0, 0);
}

void gen_BSF(DisasContext *s, const X86Insn *i) { gen_bitscan(s, i, false); }
void gen_BSR(DisasContext *s, const X86Insn *i) { gen_bitscan(s, i, true); }

static void gen_count_bits(DisasContext *s, const X86Insn *insn, int which)
{
    const X86Operand *d = &insn->op[0];
    unsigned bits = d->size * 8;
    IRTemp src = gen_load_operand(s, &insn->op[1]);
    IRTemp r = tcg_temp(s), f = tcg_temp(s), t = tcg_temp(s);
    IRTemp zero = tcg_const(s, 0);
    if (which == 0) {          /* POPCNT: ZF = (src == 0), the rest clear */
        ir_op1(s->b, IR_ctpop, IR_I64, r, src);
        ir_setcond(s->b, IR_I64, IR_COND_EQ, f, src, zero);
        ir_op2(s->b, IR_shl, IR_I64, f, f, tcg_const(s, 6));
    } else {
        if (which == 1) {      /* TZCNT */
            ir_op2(s->b, IR_ctz, IR_I64, r, src, tcg_const(s, bits));
        } else {               /* LZCNT */
            ir_op2(s->b, IR_clz, IR_I64, r, src, tcg_const(s, 64));
            ir_sub(s->b, IR_I64, r, r, tcg_const(s, 64 - bits));
        }
        /* CF = source was zero, ZF = result is zero */
        ir_setcond(s->b, IR_I64, IR_COND_EQ, f, src, zero);
        ir_setcond(s->b, IR_I64, IR_COND_EQ, t, r, zero);
        ir_op2(s->b, IR_shl, IR_I64, t, t, tcg_const(s, 6));
        ir_or(s->b, IR_I64, f, f, t);
    }
    gen_set_reg(s, d->reg, d->size, r);
    gen_set_cc_eflags(s, f);
}

void gen_POPCNT(DisasContext *s, const X86Insn *i) { gen_count_bits(s, i, 0); }
void gen_TZCNT(DisasContext *s, const X86Insn *i) { gen_count_bits(s, i, 1); }
void gen_LZCNT(DisasContext *s, const X86Insn *i) { gen_count_bits(s, i, 2); }

void gen_BSWAP(DisasContext *s, const X86Insn *insn)
{
    const X86Operand *d = &insn->op[0];
    IRTemp v = gen_get_reg(s, d->reg, d->size), r = tcg_temp(s);
    if (d->size == 8)
        ir_op1(s->b, IR_bswap64, IR_I64, r, v);
    else if (d->size == 4)
        ir_op1(s->b, IR_bswap32, IR_I64, r, v);
    else
        ir_movi(s->b, IR_I64, r, 0);   /* 16-bit BSWAP: zero on real CPUs */
    gen_set_reg(s, d->reg, d->size, r);
}

void gen_MOVBE(DisasContext *s, const X86Insn *insn)
{
    const X86Operand *d = &insn->op[0];
    IRTemp v = gen_load_operand(s, &insn->op[1]), r = tcg_temp(s);
    unsigned size = d->size;
    ir_op1(s->b, size == 8 ? IR_bswap64 : size == 4 ? IR_bswap32 : IR_bswap16, IR_I64, r, v);
    gen_store_operand(s, d, r);
}

void gen_XADD(DisasContext *s, const X86Insn *insn)
{
    const X86Operand *d = &insn->op[0], *src = &insn->op[1];
    if (gen_is_locked(s, d)) {
        IRTemp bv = gen_load_operand(s, src);
        IRTemp old = gen_atomic(s, d, IR_ATOMIC_ADD, bv, 0);
        IRTemp r = tcg_temp(s);
        ir_add(s->b, IR_I64, r, old, bv);
        gen_store_operand(s, src, old);
        gen_set_cc(s, CC_OP_ADD, d->size, r, bv, 0);
        return;
    }
    IRTemp a = gen_load_dest(s, d);
    IRTemp bv = gen_load_operand(s, src);
    IRTemp r = tcg_temp(s);
    ir_add(s->b, IR_I64, r, a, bv);
    if (d->kind == X86_OPK_MEM) {
        gen_store_operand(s, d, r);
        gen_store_operand(s, src, a);
    } else {
        gen_store_operand(s, src, a);
        gen_store_operand(s, d, r);
    }
    gen_set_cc(s, CC_OP_ADD, d->size, r, bv, 0);
}

void gen_CMPXCHG(DisasContext *s, const X86Insn *insn)
{
    const X86Operand *d = &insn->op[0];
    unsigned size = d->size;
    bool locked = gen_is_locked(s, d);
    IRTemp a = locked ? 0 : gen_load_dest(s, d);
    IRTemp src = gen_load_operand(s, &insn->op[1]);
    IRTemp acc = gen_get_reg(s, R_EAX, size);
    if (locked) {
        /* memory written by the atomic itself; the rest as below */
        a = gen_atomic(s, d, IR_ATOMIC_CMPXCHG, acc, src);
        IRTemp diff = tcg_temp(s);
        ir_sub(s->b, IR_I64, diff, acc, a);
        if (size == 4) {
            IRTemp rax = tcg_temp(s), ext = tcg_temp(s);
            ir_op1(s->b, IR_ext32u, IR_I64, ext, a);
            ir_movcond(s->b, IR_I64, IR_COND_EQ, rax, a, acc, s->regs[R_EAX], ext);
            ir_mov(s->b, IR_I64, s->regs[R_EAX], rax);
        } else {
            IRTemp nacc = tcg_temp(s);
            ir_movcond(s->b, IR_I64, IR_COND_EQ, nacc, a, acc, acc, a);
            gen_set_reg(s, R_EAX, size, nacc);
        }
        gen_set_cc(s, CC_OP_SUB, size, diff, a, 0);
        return;
    }
    IRTemp nv = tcg_temp(s), nacc = tcg_temp(s), diff = tcg_temp(s);
    ir_movcond(s->b, IR_I64, IR_COND_EQ, nv, a, acc, src, a);
    ir_movcond(s->b, IR_I64, IR_COND_EQ, nacc, a, acc, acc, a);
    ir_sub(s->b, IR_I64, diff, acc, a);
    if (size == 4) {
        /* 64-bit registers: only the register actually written is
         * zero-extended -- RAX when the compare fails, a register
         * destination when it succeeds.  The SDM (CMPXCHG Operation)
         * writes DEST back in both cases ("the destination operand is
         * written back if the comparison fails"), which would zero-extend
         * a register destination; the AMD host (hostdiff) leaves it
         * unchanged, and so do we. */
        IRTemp rax = tcg_temp(s), ext = tcg_temp(s);
        ir_op1(s->b, IR_ext32u, IR_I64, ext, a);
        ir_movcond(s->b, IR_I64, IR_COND_EQ, rax, a, acc, s->regs[R_EAX], ext);
        if (d->kind == X86_OPK_REG) {
            IRTemp rd = tcg_temp(s);
            ir_op1(s->b, IR_ext32u, IR_I64, ext, src);
            ir_movcond(s->b, IR_I64, IR_COND_EQ, rd, a, acc, ext, s->regs[d->reg & 15]);
            ir_mov(s->b, IR_I64, s->regs[R_EAX], rax);
            ir_mov(s->b, IR_I64, s->regs[d->reg & 15], rd);   /* after RAX: may be RAX */
        } else {
            gen_store_operand(s, d, nv);        /* always written back */
            ir_mov(s->b, IR_I64, s->regs[R_EAX], rax);
        }
    } else {
        if (d->kind == X86_OPK_MEM)
            gen_store_operand(s, d, nv);        /* always written back */
        gen_set_reg(s, R_EAX, size, nacc);
        if (d->kind == X86_OPK_REG)
            gen_store_operand(s, d, nv);        /* after AL/AX: may be AL/AX */
    }
    gen_set_cc(s, CC_OP_SUB, size, diff, a, 0);
}

void gen_CMPXCHG8B(DisasContext *s, const X86Insn *insn)
{
    IRTemp lin = gen_mem_addr(s, insn->mnem == X86_CMPXCHG16B ? 16 : 8, true);
    bool stack = s->nss_lin > 0 && s->ss_lin[s->nss_lin - 1] == lin;
    IRTemp args[3] = { IR_ENV, lin, tcg_const(s, stack) };
    gen_call_helper(s, insn->mnem == X86_CMPXCHG16B ? &hlp_cmpxchg16b : &hlp_cmpxchg8b,
                    0, 3, args);
    s->cc_op = CC_OP_DYNAMIC;
}

/* ---- stack ---- */

void gen_PUSH(DisasContext *s, const X86Insn *insn)
{
    unsigned size = insn->opsize;
    const X86Operand *o = &insn->op[0];
    IRTemp v;
    if (o->kind == X86_OPK_IMM)
        v = tcg_const(s, (int64_t)((uint64_t)o->imm & (size == 8 ? ~0ULL : (1ULL << (size * 8)) - 1)));
    else
        v = gen_load_operand(s, o);
    gen_push(s, v, size);
}

void gen_POP(DisasContext *s, const X86Insn *insn)
{
    unsigned size = insn->opsize;
    const X86Operand *o = &insn->op[0];
    IRTemp nsp;
    IRTemp v = gen_pop_value(s, size, &nsp);
    switch (o->kind) {
    case X86_OPK_MEM: {
        /* The address uses rSP after the pop (SDM). */
        IRTemp ea = gen_ea_offset(s, &insn->mem);
        if (insn->mem.base == R_ESP) {
            ir_add(s->b, IR_I64, ea, ea, tcg_const(s, size));
            ea = gen_trunc_addr(s, ea, insn->addrsize);
        }
        IRTemp lin = gen_linear(s, insn->mem.seg, ea, size, true);
        gen_st(s, lin, v, size);
        gen_set_sp(s, nsp);
        break;
    }
    case X86_OPK_SEGREG:
        if (o->reg == X86_SEG_CS) {
            gen_exception(s, EXC_UD, 0);
            return;
        }
        gen_load_seg(s, o->reg, v);
        gen_set_sp(s, nsp);
        break;
    default:
        gen_set_sp(s, nsp);
        gen_set_reg(s, o->reg, size, v);
        break;
    }
}

void gen_PUSHA(DisasContext *s, const X86Insn *insn)
{
    unsigned size = insn->opsize, ss = stack_addr_size(s);
    IRTemp old_sp = gen_get_reg(s, R_ESP, size);
    for (int r = 0; r < 8; r++) {
        IRTemp sp = tcg_temp(s);
        ir_sub(s->b, IR_I64, sp, s->regs[R_ESP], tcg_const(s, (r + 1) * size));
        sp = gen_trunc_addr(s, sp, ss);
        IRTemp lin = gen_linear(s, X86_SEG_SS, sp, size, true);
        gen_st(s, lin, r == R_ESP ? old_sp : gen_get_reg(s, r, size), size);
    }
    IRTemp nsp = tcg_temp(s);
    ir_sub(s->b, IR_I64, nsp, s->regs[R_ESP], tcg_const(s, 8 * size));
    gen_set_sp(s, gen_trunc_addr(s, nsp, ss));
}

void gen_POPA(DisasContext *s, const X86Insn *insn)
{
    unsigned size = insn->opsize, ss = stack_addr_size(s);
    IRTemp vals[8];
    for (int k = 0; k < 8; k++) {
        IRTemp sp = tcg_temp(s);
        ir_add(s->b, IR_I64, sp, s->regs[R_ESP], tcg_const(s, k * size));
        sp = gen_trunc_addr(s, sp, ss);
        vals[k] = gen_ld(s, gen_linear(s, X86_SEG_SS, sp, size, false), size, false);
    }
    IRTemp nsp = tcg_temp(s);
    ir_add(s->b, IR_I64, nsp, s->regs[R_ESP], tcg_const(s, 8 * size));
    gen_set_sp(s, gen_trunc_addr(s, nsp, ss));
    for (int k = 0; k < 8; k++)
        if (7 - k != R_ESP)
            gen_set_reg(s, 7 - k, size, vals[k]);
}

void gen_LEAVE(DisasContext *s, const X86Insn *insn)
{
    unsigned size = insn->opsize, ss = stack_addr_size(s);
    IRTemp bp = gen_trunc_addr(s, s->regs[R_EBP], ss);
    IRTemp v = gen_ld(s, gen_linear(s, X86_SEG_SS, bp, size, false), size, false);
    IRTemp nsp = tcg_temp(s);
    ir_add(s->b, IR_I64, nsp, bp, tcg_const(s, size));
    gen_set_sp(s, gen_trunc_addr(s, nsp, ss));
    gen_set_reg(s, R_EBP, size, v);
}

/* ---- near control transfers ---- */

static uint64_t rel_target(DisasContext *s, const X86Insn *insn)
{
    return mask_ip(s, s->next_pc + (uint64_t)insn->op[0].imm, insn->opsize);
}

/* A static target: jump to it, or raise #GP(0) when it is non-canonical. */
static void gen_jmp_target(DisasContext *s, uint64_t target)
{
    if (gen_static_target_fault(s, target))
        gen_exception(s, EXC_GP, 0);
    else
        gen_jmp_static(s, target, 0);
}

void gen_JMP(DisasContext *s, const X86Insn *insn)
{
    if (insn->op[0].kind == X86_OPK_REL) {
        gen_jmp_target(s, rel_target(s, insn));
        return;
    }
    IRTemp v = gen_ext(s, gen_load_operand(s, &insn->op[0]), insn->opsize, false);
    gen_check_branch_target(s, v);
    ir_mov(s->b, IR_I64, s->rip, v);
    gen_jmp_dynamic(s);
}

void gen_CALL(DisasContext *s, const X86Insn *insn)
{
    unsigned size = insn->opsize;
    IRTemp target = 0;
    if (insn->op[0].kind != X86_OPK_REL) {
        target = gen_ext(s, gen_load_operand(s, &insn->op[0]), size, false);
        gen_check_branch_target(s, target);
    } else if (gen_static_target_fault(s, rel_target(s, insn))) {
        gen_exception(s, EXC_GP, 0);
        return;
    }
    gen_push(s, tcg_const(s, (int64_t)s->next_pc), size);
    if (!target) {
        gen_jmp_static(s, rel_target(s, insn), 0);
        return;
    }
    ir_mov(s->b, IR_I64, s->rip, target);
    gen_jmp_dynamic(s);
}

void gen_RET(DisasContext *s, const X86Insn *insn)
{
    unsigned size = insn->opsize;
    IRTemp nsp;
    IRTemp v = gen_pop_value(s, size, &nsp);
    gen_check_branch_target(s, v);
    if (insn->nops >= 1 && insn->op[0].kind == X86_OPK_IMM) {
        ir_add(s->b, IR_I64, nsp, nsp, tcg_const(s, insn->op[0].imm & 0xffff));
        nsp = gen_trunc_addr(s, nsp, stack_addr_size(s));
    }
    gen_set_sp(s, nsp);
    ir_mov(s->b, IR_I64, s->rip, v);
    gen_jmp_dynamic(s);
}

/* A conditional branch; taken to a non-canonical target is #GP(0). */
static void gen_branch(DisasContext *s, IRCond c, IRTemp a, IRTemp bv, uint64_t target)
{
    uint32_t fault = gen_static_target_fault(s, target);
    uint32_t taken = fault ? fault : ir_new_label(s->b);
    ir_brcond(s->b, IR_I64, c, a, bv, taken);
    gen_jmp_static(s, s->next_pc, 0);
    if (fault)
        return;
    ir_set_label(s->b, taken);
    gen_jmp_static(s, target, 1);
}

void gen_JCC(DisasContext *s, const X86Insn *insn)
{
    IRCond c;
    IRTemp a, bv;
    gen_cond_cmp(s, insn->cond, &c, &a, &bv);
    gen_branch(s, c, a, bv, rel_target(s, insn));
}

void gen_JCXZ(DisasContext *s, const X86Insn *insn)
{
    IRTemp cx = gen_ext(s, s->regs[R_ECX], insn->addrsize, false);
    gen_branch(s, IR_COND_EQ, cx, tcg_const(s, 0), rel_target(s, insn));
}

static void gen_loop(DisasContext *s, const X86Insn *insn, int zf_cond)
{
    unsigned as = insn->addrsize;
    IRTemp cx = tcg_temp(s);
    ir_sub(s->b, IR_I64, cx, s->regs[R_ECX], tcg_const(s, 1));
    cx = gen_ext(s, cx, as, false);
    IRTemp t = tcg_temp(s);
    ir_setcond(s->b, IR_I64, IR_COND_NE, t, cx, tcg_const(s, 0));
    if (zf_cond >= 0) {
        IRTemp z = gen_cond(s, zf_cond);
        ir_and(s->b, IR_I64, t, t, z);
    }
    /* a taken LOOP to a non-canonical target faults before rCX changes */
    uint32_t fault = gen_static_target_fault(s, rel_target(s, insn));
    if (fault)
        ir_brcond(s->b, IR_I64, IR_COND_NE, t, tcg_const(s, 0), fault);
    gen_set_reg(s, R_ECX, as, cx);
    gen_branch(s, IR_COND_NE, t, tcg_const(s, 0), rel_target(s, insn));
}

void gen_LOOP(DisasContext *s, const X86Insn *i) { gen_loop(s, i, -1); }
void gen_LOOPE(DisasContext *s, const X86Insn *i) { gen_loop(s, i, 4); }
void gen_LOOPNE(DisasContext *s, const X86Insn *i) { gen_loop(s, i, 5); }

/* ---- the handler table: the mnemonic rows of cpu/opcodes.def ---- */

#define NOGEN NULL
#define MNEM(name, gen, reads, cc_reads, attrs, vec, lanes)                  \
    [X86_##name] = { gen, (reads), (cc_reads), ((attrs) & X86_ATTR_CCW) != 0, \
                     ((attrs) & X86_ATTR_FLT) != 0 },
const X86OpInfo x86_op_info[X86_MNEM_COUNT] = {
#include "cpu/opcodes.def"
};
#undef MNEM
#undef NOGEN
