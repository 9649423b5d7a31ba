/*
 * x86 -> IR translation: the flag emitters.  Moved out of translate.c
 * unchanged: the lazy-flag stores, the inline computation of the six
 * arithmetic flags and of CF for a statically known cc_op, conditions
 * (Jcc/SETcc/CMOVcc/LOOPcc), and the run-time paths for flags the block
 * does not know statically.
 *
 * Lazy flags: cc_op/cc_dst/cc_src/cc_src2 (see cpu.h).  The translator
 * tracks cc_op statically inside the block, so conditions after CMP/SUB,
 * logic ops and the like are computed inline (no EFLAGS materialisation),
 * and a cc_op store is skipped when it would not change.
 *
 * Pending INC/DEC: INC and DEC keep CF, so after a block entry (flags
 * unknown statically) they would need a helper call to extract the old
 * CF.  When only a fault of a later instruction could observe their flags
 * (`inc rax; cmp byte [rax], 0; jne` loops), they store just their result
 * in cc_pend and their cc_op in cc_pend_op, leaving the older state in
 * the cc globals; the next full flag write clears cc_pend_op.  Anything
 * that reads the flags in translated code settles first (gen_cc_settle),
 * and so does C code (cpu_cc_settle: after a fault, after each block,
 * in cpu_get_eflags).
 *
 * Guessed cc_op: a block that reads flags set by the block before it
 * (`cmp; je` ends one block, `ja` starts the next; `dec r9d` needing the
 * old CF) does not know cc_op statically.  It is translated just before it
 * first runs, so the CPU's cc_op then is a good guess for every later
 * entry: the read becomes "if cc_op == guess, the inline condition, else
 * the helper".
 */
#include "cpu/translate-flags.h"

#include "cpu/helpers.h"

/* ---- lazy flags ---- */

/* A full flag write supersedes a pending INC/DEC. */
static void gen_cc_drop_pending(DisasContext *s)
{
    if (s->cc_pend) {
        ir_movi(s->b, IR_I32, s->cc_pend_op_g, 0);
        s->cc_pend = 0;
    }
}

void gen_set_cc(DisasContext *s, int op, unsigned size, IRTemp dst, IRTemp src, IRTemp src2)
{
    int ccop = op + ot_of(size);
    if (s->cc_dead)
        return;
    s->guessed_eflags = 0;           /* the flags it was guessed for are gone */
    gen_cc_drop_pending(s);
    ir_mov(s->b, IR_I64, s->cc_dst, dst);
    if (src)
        ir_mov(s->b, IR_I64, s->cc_src, src);
    if (src2)
        ir_mov(s->b, IR_I64, s->cc_src2, src2);
    if (s->cc_op != ccop) {
        ir_movi(s->b, IR_I32, s->cc_op_g, ccop);
        s->cc_op = ccop;
    }
}

void gen_set_cc_eflags(DisasContext *s, IRTemp flags)
{
    if (s->cc_dead)
        return;
    s->guessed_eflags = 0;
    gen_cc_drop_pending(s);
    ir_and(s->b, IR_I64, s->cc_src, flags, tcg_const(s, CC_ALL));
    if (s->cc_op != CC_OP_EFLAGS) {
        ir_movi(s->b, IR_I32, s->cc_op_g, CC_OP_EFLAGS);
        s->cc_op = CC_OP_EFLAGS;
    }
}

/* Whether gen_compute_cf works inline, without the helper. */
static bool cc_cf_inline(const DisasContext *s)
{
    switch (s->cc_op == CC_OP_DYNAMIC ? -1 : s->cc_op & ~3) {
    case CC_OP_SUB: case CC_OP_ADD: case CC_OP_LOGIC: case CC_OP_EFLAGS:
    case CC_OP_INC: case CC_OP_DEC: case CC_OP_SHR: case CC_OP_SAR: case CC_OP_MUL:
        return !s->cc_pend;
    default:
        return false;
    }
}

bool gen_cc_try_pend(DisasContext *s, int op, unsigned size, IRTemp result)
{
    if (s->cc_dead || !s->cc_fault_only || cc_cf_inline(s))
        return false;
    int ccop = op + ot_of(size);
    s->guessed_eflags = 0;
    /* A plain store, not a global: as a global, copy propagation would
     * let later uses of the result read it back from env. */
    ir_st(s->b, IR_st, IR_I64, result, IR_ENV, offsetof(CPUState, cc_pend));
    if (s->cc_pend != ccop)
        ir_movi(s->b, IR_I32, s->cc_pend_op_g, ccop);
    s->cc_pend = ccop;
    return true;
}

void gen_cc_settle(DisasContext *s)
{
    if (!s->cc_pend)
        return;
    int ccop = s->cc_pend;
    s->cc_pend = 0;
    IRTemp cf = tcg_temp(s);
    ir_and(s->b, IR_I64, cf, gen_compute_eflags(s), tcg_const(s, CC_C));
    ir_ld(s->b, IR_ld, IR_I64, s->cc_dst, IR_ENV, offsetof(CPUState, cc_pend));
    ir_mov(s->b, IR_I64, s->cc_src, cf);
    ir_movi(s->b, IR_I32, s->cc_op_g, ccop);
    ir_movi(s->b, IR_I32, s->cc_pend_op_g, 0);
    s->cc_op = ccop;
}

static unsigned cc_size(int ccop);
static IRTemp gen_sub_src1(DisasContext *s, unsigned size);
static IRTemp gen_compute_eflags_static(DisasContext *s);

/* ---- the six flags inline, for a statically known cc_op ----
 * The same values as cpu_cc_compute_all (cpu/cpu.c) for the ops that
 * glibc's hot paths leave before BT/ROL/PUSHF (`xor; rol` in setjmp's
 * pointer mangling, `test; ...; bt` in stdio's lock check): a helper call
 * costs more than these dozen to thirty IR ops. */

static bool cc_eflags_inline(int op)
{
    switch (op == CC_OP_DYNAMIC ? -1 : op & ~3) {
    case CC_OP_LOGIC: case CC_OP_ADD: case CC_OP_SUB: case CC_OP_INC: case CC_OP_DEC:
        return true;
    default:
        return false;
    }
}

IRTemp gen_move_bit(DisasContext *s, IRTemp v, unsigned from, unsigned to)
{
    IRTemp t = tcg_temp(s);
    ir_op2(s->b, IR_shr, IR_I64, t, v, tcg_const(s, from));
    ir_and(s->b, IR_I64, t, t, tcg_const(s, 1));
    if (to)
        ir_op2(s->b, IR_shl, IR_I64, t, t, tcg_const(s, to));
    return t;
}

static void gen_or_into(DisasContext *s, IRTemp f, IRTemp v)
{
    ir_or(s->b, IR_I64, f, f, v);
}

/* ZF and SF of r, whose sign is bit `bits - 1` and which is zero above. */
static IRTemp gen_flags_zs(DisasContext *s, IRTemp r, unsigned bits)
{
    IRTemp f = tcg_temp(s);
    ir_setcond(s->b, IR_I64, IR_COND_EQ, f, r, tcg_const(s, 0));
    ir_op2(s->b, IR_shl, IR_I64, f, f, tcg_const(s, 6));                 /* ZF */
    gen_or_into(s, f, gen_move_bit(s, r, bits - 1, 7));                   /* SF */
    return f;
}

/* f |= PF of the low byte of v (set when its bit count is even). */
static void gen_flags_pf(DisasContext *s, IRTemp f, IRTemp v)
{
    IRTemp p = tcg_temp(s);
    ir_and(s->b, IR_I64, p, v, tcg_const(s, 0xff));
    ir_op1(s->b, IR_ctpop, IR_I64, p, p);
    ir_and(s->b, IR_I64, p, p, tcg_const(s, 1));
    ir_xor(s->b, IR_I64, p, p, tcg_const(s, 1));
    ir_op2(s->b, IR_shl, IR_I64, p, p, tcg_const(s, 2));
    gen_or_into(s, f, p);
}

/* ZF SF PF of the zero-extended result r of `bits` bits. */
static IRTemp gen_flags_szp(DisasContext *s, IRTemp r, unsigned bits)
{
    IRTemp f = gen_flags_zs(s, r, bits);
    gen_flags_pf(s, f, r);
    return f;
}

/* AF from the operands and result: bit 4 of a ^ b ^ r. */
static void gen_flags_af(DisasContext *s, IRTemp f, IRTemp a, IRTemp b, IRTemp r)
{
    IRTemp t = tcg_temp(s);
    ir_xor(s->b, IR_I64, t, a, b);
    ir_xor(s->b, IR_I64, t, t, r);
    ir_and(s->b, IR_I64, t, t, tcg_const(s, CC_A));
    gen_or_into(s, f, t);
}

/* OF: the sign bit of x & y, moved to bit 11. */
static void gen_flags_of(DisasContext *s, IRTemp f, IRTemp x, IRTemp y, unsigned bits)
{
    IRTemp t = tcg_temp(s);
    ir_and(s->b, IR_I64, t, x, y);
    gen_or_into(s, f, gen_move_bit(s, t, bits - 1, 11));
}

static IRTemp gen_compute_eflags_inline(DisasContext *s)
{
    int op = s->cc_op, kind = op & ~3;
    unsigned size = cc_size(op), bits = 8 * size;
    IRTemp r = gen_ext(s, s->cc_dst, size, false);
    IRTemp f = gen_flags_szp(s, r, bits);
    if (kind == CC_OP_LOGIC)
        return f;
    if (kind == CC_OP_INC || kind == CC_OP_DEC) {
        /* src = CF before; a = the operand; OF: r is 0x80.. (INC) or 0x7f.. (DEC) */
        uint64_t sb = 1ULL << (bits - 1);
        IRTemp a = tcg_temp(s), c = tcg_temp(s), o = tcg_temp(s);
        ir_add(s->b, IR_I64, a, r, tcg_const(s, kind == CC_OP_INC ? -1 : 1));
        ir_and(s->b, IR_I64, c, s->cc_src, tcg_const(s, CC_C));
        gen_or_into(s, f, c);
        gen_flags_af(s, f, a, tcg_const(s, 0), r);
        ir_setcond(s->b, IR_I64, IR_COND_EQ, o, r, tcg_const(s, kind == CC_OP_INC ? sb : sb - 1));
        ir_op2(s->b, IR_shl, IR_I64, o, o, tcg_const(s, 11));
        gen_or_into(s, f, o);
        return f;
    }
    /* ADD: a + b = r; SUB: a - b = r (b = src, a recovered from r and b) */
    IRTemp b = gen_ext(s, s->cc_src, size, false), a = tcg_temp(s), c = tcg_temp(s);
    IRTemp x = tcg_temp(s), y = tcg_temp(s);
    if (kind == CC_OP_ADD) {
        ir_sub(s->b, IR_I64, a, r, b);
        a = gen_ext(s, a, size, false);
        ir_setcond(s->b, IR_I64, IR_COND_LTU, c, r, a);
        ir_xor(s->b, IR_I64, x, a, r);
        ir_xor(s->b, IR_I64, y, b, r);
    } else {
        a = gen_sub_src1(s, size);
        ir_setcond(s->b, IR_I64, IR_COND_LTU, c, a, b);
        ir_xor(s->b, IR_I64, x, a, b);
        ir_xor(s->b, IR_I64, y, a, r);
    }
    gen_or_into(s, f, c);
    gen_flags_af(s, f, a, b, r);
    gen_flags_of(s, f, x, y, bits);
    return f;
}

IRTemp gen_compute_eflags(DisasContext *s)
{
    if (s->guessed_eflags) {
        IRTemp f = tcg_temp(s);       /* callers edit their copy in place */
        ir_mov(s->b, IR_I64, f, s->guessed_eflags);
        return f;
    }
    return gen_compute_eflags_static(s);
}

static IRTemp gen_compute_eflags_static(DisasContext *s)
{
    gen_cc_settle(s);
    IRTemp f = tcg_temp(s);
    if (s->cc_op == CC_OP_EFLAGS) {
        ir_mov(s->b, IR_I64, f, s->cc_src);
        return f;
    }
    if (cc_eflags_inline(s->cc_op)) {
        ir_mov(s->b, IR_I64, f, gen_compute_eflags_inline(s));
        return f;
    }
    IRTemp op;
    if (s->cc_op == CC_OP_DYNAMIC) {
        op = tcg_temp(s);
        ir_op1(s->b, IR_extu_i32, IR_I64, op, s->cc_op_g);
    } else {
        op = tcg_const(s, s->cc_op);
    }
    IRTemp args[4] = { op, s->cc_dst, s->cc_src, s->cc_src2 };
    ir_call(s->b, &hlp_cc_compute_all, IR_I64, 1, f, 4, args);
    return f;
}

static unsigned cc_size(int ccop) { return 1u << (ccop & 3); }

/* The first operand of the last SUB/CMP: dst + src, sized. */
static IRTemp gen_sub_src1(DisasContext *s, unsigned size)
{
    IRTemp t = tcg_temp(s);
    ir_add(s->b, IR_I64, t, s->cc_dst, s->cc_src);
    return gen_ext(s, t, size, false);
}


IRTemp gen_compute_cf(DisasContext *s)
{
    if (s->guessed_cf)
        return s->guessed_cf;
    return gen_compute_cf_static(s);
}

IRTemp gen_compute_cf_static(DisasContext *s)
{
    int op = s->cc_op;
    IRTemp t = tcg_temp(s);
    if (op != CC_OP_DYNAMIC) {
        unsigned size = cc_size(op);
        switch (op & ~3) {
        case CC_OP_SUB:
            ir_setcond(s->b, IR_I64, IR_COND_LTU, t, gen_sub_src1(s, size),
                       gen_ext(s, s->cc_src, size, false));
            return t;
        case CC_OP_ADD:
            ir_setcond(s->b, IR_I64, IR_COND_LTU, t, gen_ext(s, s->cc_dst, size, false),
                       gen_ext(s, s->cc_src, size, false));
            return t;
        case CC_OP_LOGIC:
            ir_movi(s->b, IR_I64, t, 0);
            return t;
        case CC_OP_EFLAGS:
        case CC_OP_INC:
        case CC_OP_DEC:
        case CC_OP_SHR:
        case CC_OP_SAR:
            ir_and(s->b, IR_I64, t, s->cc_src, tcg_const(s, 1));
            return t;
        case CC_OP_MUL:
            ir_setcond(s->b, IR_I64, IR_COND_NE, t, s->cc_src, tcg_const(s, 0));
            return t;
        default:
            break;
        }
    }
    IRTemp f = gen_compute_eflags(s);
    ir_and(s->b, IR_I64, t, f, tcg_const(s, 1));
    return t;
}

static IRCond cond_invert(IRCond c)
{
    switch (c) {
    case IR_COND_NEVER: return IR_COND_ALWAYS;
    case IR_COND_ALWAYS: return IR_COND_NEVER;
    case IR_COND_EQ: return IR_COND_NE;
    case IR_COND_NE: return IR_COND_EQ;
    case IR_COND_LT: return IR_COND_GE;
    case IR_COND_GE: return IR_COND_LT;
    case IR_COND_LE: return IR_COND_GT;
    case IR_COND_GT: return IR_COND_LE;
    case IR_COND_LTU: return IR_COND_GEU;
    case IR_COND_GEU: return IR_COND_LTU;
    case IR_COND_LEU: return IR_COND_GTU;
    case IR_COND_GTU: return IR_COND_LEU;
    case IR_COND_TSTEQ: return IR_COND_TSTNE;
    case IR_COND_TSTNE: return IR_COND_TSTEQ;
    }
    return c;
}

enum { JCC_O, JCC_B = 2, JCC_Z = 4, JCC_BE = 6, JCC_S = 8, JCC_P = 10, JCC_L = 12, JCC_LE = 14 };

/* Fast paths from the statically known cc_op; false when none applies. */
static bool gen_cond_fast(DisasContext *s, int base, IRCond *c, IRTemp *a, IRTemp *bv)
{
    int op = s->cc_op;
    if (op == CC_OP_DYNAMIC || op == CC_OP_EFLAGS)
        return false;
    unsigned size = cc_size(op);
    int kind = op & ~3;
    IRTemp zero = tcg_const(s, 0);
    if (kind == CC_OP_SUB) {
        switch (base) {
        case JCC_B: case JCC_BE:
            *c = base == JCC_B ? IR_COND_LTU : IR_COND_LEU;
            *a = gen_sub_src1(s, size);
            *bv = gen_ext(s, s->cc_src, size, false);
            return true;
        case JCC_L: case JCC_LE: {
            IRTemp s1 = tcg_temp(s);
            ir_add(s->b, IR_I64, s1, s->cc_dst, s->cc_src);
            *c = base == JCC_L ? IR_COND_LT : IR_COND_LE;
            *a = gen_ext(s, s1, size, true);
            *bv = gen_ext(s, s->cc_src, size, true);
            return true;
        }
        default:
            break;
        }
    }
    if (kind == CC_OP_LOGIC) {
        switch (base) {
        case JCC_O: case JCC_B:
            *c = IR_COND_NEVER; *a = zero; *bv = zero;
            return true;
        case JCC_BE:
            *c = IR_COND_EQ; *a = gen_ext(s, s->cc_dst, size, false); *bv = zero;
            return true;
        case JCC_L:
            *c = IR_COND_LT; *a = gen_ext(s, s->cc_dst, size, true); *bv = zero;
            return true;
        case JCC_LE:
            *c = IR_COND_LE; *a = gen_ext(s, s->cc_dst, size, true); *bv = zero;
            return true;
        default:
            break;
        }
    }
    if (kind == CC_OP_ADD && base == JCC_B) {
        *c = IR_COND_LTU;
        *a = gen_ext(s, s->cc_dst, size, false);
        *bv = gen_ext(s, s->cc_src, size, false);
        return true;
    }
    /* ZF and SF come straight from the result for every other op. */
    if (base == JCC_Z) {
        *c = IR_COND_EQ; *a = gen_ext(s, s->cc_dst, size, false); *bv = zero;
        return true;
    }
    if (base == JCC_S) {
        *c = IR_COND_LT; *a = gen_ext(s, s->cc_dst, size, true); *bv = zero;
        return true;
    }
    return false;
}

static void gen_cond_cmp_static(DisasContext *s, int cond, IRCond *c, IRTemp *a, IRTemp *bv);

void gen_cond_cmp(DisasContext *s, int cond, IRCond *c, IRTemp *a, IRTemp *bv)
{
    if (s->guessed_cond && cond == s->insn->cond) {
        *c = IR_COND_NE;
        *a = s->guessed_cond;
        *bv = tcg_const(s, 0);
        return;
    }
    gen_cond_cmp_static(s, cond, c, a, bv);
}

static void gen_cond_cmp_static(DisasContext *s, int cond, IRCond *c, IRTemp *a, IRTemp *bv)
{
    int base = cond & ~1;
    if (!gen_cond_fast(s, base, c, a, bv)) {
        IRTemp f = gen_compute_eflags(s);
        *c = IR_COND_TSTNE;
        *a = f;
        switch (base) {
        case JCC_O: *bv = tcg_const(s, CC_O); break;
        case JCC_B: *bv = tcg_const(s, CC_C); break;
        case JCC_Z: *bv = tcg_const(s, CC_Z); break;
        case JCC_BE: *bv = tcg_const(s, CC_C | CC_Z); break;
        case JCC_S: *bv = tcg_const(s, CC_S); break;
        case JCC_P: *bv = tcg_const(s, CC_P); break;
        case JCC_L:
        case JCC_LE: {
            /* SF != OF: move OF (bit 11) onto SF (bit 7) and xor */
            IRTemp t = tcg_temp(s);
            ir_op2(s->b, IR_shr, IR_I64, t, f, tcg_const(s, 4));
            ir_xor(s->b, IR_I64, t, t, f);
            ir_and(s->b, IR_I64, t, t, tcg_const(s, CC_S));
            if (base == JCC_LE) {
                IRTemp z = tcg_temp(s);
                ir_and(s->b, IR_I64, z, f, tcg_const(s, CC_Z));
                ir_or(s->b, IR_I64, t, t, z);
            }
            *a = t;
            *bv = tcg_const(s, CC_S | CC_Z);
            break;
        }
        }
    }
    if (cond & 1)
        *c = cond_invert(*c);
}

IRTemp gen_cond_value(DisasContext *s, int cond)
{
    IRCond c;
    IRTemp a, bv;
    gen_cond_cmp_static(s, cond, &c, &a, &bv);
    IRTemp t = tcg_temp(s);
    ir_setcond(s->b, IR_I64, c, t, a, bv);
    return t;
}

/* Whether the guessed cc_op gives this instruction an inline condition or
 * CF.  (The probe's IR computes values nobody uses: dead code, dropped by
 * the optimiser.) */
bool cc_guess_useful(DisasContext *s, bool cond_reader, int cond)
{
    s->cc_op = s->cc_guess;
    IRCond c;
    IRTemp a, bv;
    bool useful = cond_reader ? gen_cond_fast(s, cond & ~1, &c, &a, &bv) : cc_cf_inline(s);
    s->cc_op = CC_OP_DYNAMIC;
    return useful;
}

/* The six flags after a logic op, ADD or SUB of any size (kind: the
 * cc_op without its size, which is read at run time).  The result and
 * source are moved to the top of a 64-bit register (<< 64 - bits), where
 * CF (unsigned order), OF, SF and ZF of the sized operation are those of a
 * 64-bit one; AF and PF only look at the low byte. */
static IRTemp gen_flags_any_size(DisasContext *s, int kind)
{
    IRTemp sz = tcg_temp(s), sh = tcg_temp(s), r = tcg_temp(s);
    ir_op1(s->b, IR_extu_i32, IR_I64, sz, s->cc_op_g);
    ir_and(s->b, IR_I64, sz, sz, tcg_const(s, 3));
    ir_op2(s->b, IR_shl, IR_I64, sh, tcg_const(s, 8), sz);         /* bits */
    ir_sub(s->b, IR_I64, sh, tcg_const(s, 64), sh);
    ir_op2(s->b, IR_shl, IR_I64, r, s->cc_dst, sh);
    IRTemp f = gen_flags_zs(s, r, 64);
    gen_flags_pf(s, f, s->cc_dst);
    if (kind == CC_OP_LOGIC)
        return f;
    /* ADD: a + b = r; SUB: a - b = r; top-aligned a, b for CF/OF, the
     * plain values for AF */
    IRTemp b = tcg_temp(s), a = tcg_temp(s), c = tcg_temp(s), x = tcg_temp(s);
    IRTemp y = tcg_temp(s), al = tcg_temp(s);
    ir_op2(s->b, IR_shl, IR_I64, b, s->cc_src, sh);
    if (kind == CC_OP_ADD) {
        ir_sub(s->b, IR_I64, a, r, b);
        ir_setcond(s->b, IR_I64, IR_COND_LTU, c, r, a);
        ir_xor(s->b, IR_I64, x, a, r);
        ir_xor(s->b, IR_I64, y, b, r);
        ir_sub(s->b, IR_I64, al, s->cc_dst, s->cc_src);
    } else {
        ir_add(s->b, IR_I64, a, r, b);
        ir_setcond(s->b, IR_I64, IR_COND_LTU, c, a, b);
        ir_xor(s->b, IR_I64, x, a, b);
        ir_xor(s->b, IR_I64, y, a, r);
        ir_add(s->b, IR_I64, al, s->cc_dst, s->cc_src);
    }
    gen_or_into(s, f, c);
    gen_flags_af(s, f, al, s->cc_src, s->cc_dst);
    gen_flags_of(s, f, x, y, 64);
    return f;
}

/* All six flags with cc_op known only at run time (a BT or rotate that
 * starts a block: stdio's `bt dword [rdi], 0xc` lock check is entered
 * after logic ops, ADDs and SUBs of every size): inline for those three
 * kinds and for the guessed cc_op (see the top of the file) when it is
 * another op with an inline form (INC/DEC, EFLAGS), the helper for the
 * others. */
IRTemp gen_flags_dynamic(DisasContext *s)
{
    static const int kinds[] = { CC_OP_LOGIC, CC_OP_ADD, CC_OP_SUB };
    IRTemp t = tcg_local(s), k = ir_temp(s->b, IR_I32);
    uint32_t done = ir_new_label(s->b);
    int g = s->cc_guess, gk = g & ~3;
    if (g == CC_OP_EFLAGS || (g >= 0 && cc_eflags_inline(g) && gk != CC_OP_LOGIC &&
                              gk != CC_OP_ADD && gk != CC_OP_SUB)) {
        uint32_t next = ir_new_label(s->b);
        ir_brcond(s->b, IR_I32, IR_COND_NE, s->cc_op_g, tcg_const32(s, g), next);
        s->cc_op = g;
        ir_mov(s->b, IR_I64, t, gen_compute_eflags_static(s));
        s->cc_op = CC_OP_DYNAMIC;
        ir_br(s->b, done);
        ir_set_label(s->b, next);
    }
    for (unsigned i = 0; i < sizeof(kinds) / sizeof(kinds[0]); i++) {
        uint32_t next = ir_new_label(s->b);
        ir_and(s->b, IR_I32, k, s->cc_op_g, tcg_const32(s, ~3));
        ir_brcond(s->b, IR_I32, IR_COND_NE, k, tcg_const32(s, kinds[i]), next);
        ir_mov(s->b, IR_I64, t, gen_flags_any_size(s, kinds[i]));
        ir_br(s->b, done);
        ir_set_label(s->b, next);
    }
    ir_mov(s->b, IR_I64, t, gen_compute_eflags_static(s));
    ir_set_label(s->b, done);
    return t;
}

IRTemp gen_cond(DisasContext *s, int cond)
{
    if (s->guessed_cond && cond == s->insn->cond)
        return s->guessed_cond;      /* already 0 or 1 */
    return gen_cond_value(s, cond);
}
