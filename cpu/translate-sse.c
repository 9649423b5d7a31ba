/*
 * MMX / SSE / SSE2 / SSE3 / SSSE3 / SSE4.1 / SSE4.2 / AES / PCLMUL
 * translation.
 *
 * Register operands are env-relative: XMM n is cpu->xmm[n], MMX n the
 * significand of cpu->fpregs[n].  Data movement and bitwise logic are
 * inline IR (ld/st on env, guest_ld/guest_st for memory, two 64-bit
 * halves for 128 bits).  Everything else calls a helper with env offsets
 * of its operands; a memory source is first loaded into the scratch
 * register cpu->xmm_tmp[0] (the helpers read it like any register), so
 * the helpers never touch guest memory and cannot fault on it.
 *
 * Order (docs/cpu.md): the memory operand is checked and loaded first
 * (segment limit, then #GP(0) for a misaligned 16-byte operand of a
 * legacy-SSE instruction other than MOVUPS/MOVUPD/MOVDQU/LDDQU and
 * PCMPxSTRx), then the helper computes (and may raise #XM), and only
 * then is the destination written.  A 16-byte store that crosses a page
 * probes both pages before storing either half.
 *
 * MMX instructions (but EMMS) also set TOP = 0, all tags valid, and the
 * exponent field of a written MMX register to all ones (SDM Vol. 1 9.5).
 */
#include "cpu/translate-fpu.h"

#include <stddef.h>

#include "cpu/fpu.h"
#include "cpu/helpers.h"

static int64_t xmm_off(int r) { return (int64_t)offsetof(CPUState, xmm[r & 15]); }
static int64_t mmx_off(int r) { return (int64_t)offsetof(CPUState, fpregs[r & 7].mant); }
static const int64_t TMP_OFF = offsetof(CPUState, xmm_tmp[0]);

static bool is_vreg(const X86Operand *op)
{
    return op->kind == X86_OPK_XMM || op->kind == X86_OPK_MMX;
}

static int64_t vreg_off(const X86Operand *op)
{
    return op->kind == X86_OPK_XMM ? xmm_off(op->reg) : mmx_off(op->reg);
}

static bool insn_has_mmx(const X86Insn *insn)
{
    for (int i = 0; i < insn->nops; i++)
        if (insn->op[i].kind == X86_OPK_MMX)
            return true;
    return false;
}

/* The x87 -> MMX transition; dst_mmx: MMX register written, or -1. */
static void gen_mmx_enter(DisasContext *s, int dst_mmx)
{
    IRTemp z = tcg_const(s, 0);
    ir_st(s->b, IR_st32, IR_I64, z, IR_ENV, offsetof(CPUState, fpstt));
    ir_st(s->b, IR_st32, IR_I64, z, IR_ENV, offsetof(CPUState, fptag_empty));
    if (dst_mmx >= 0)
        ir_st(s->b, IR_st16, IR_I64, tcg_const(s, 0xffff), IR_ENV,
              offsetof(CPUState, fpregs[dst_mmx & 7].sexp));
}

static void gen_mmx_finish(DisasContext *s, const X86Insn *insn)
{
    if (!insn_has_mmx(insn))
        return;
    const X86Operand *d = &insn->op[0];
    bool writes = d->kind == X86_OPK_MMX && insn->mnem != X86_MASKMOVQ;
    gen_mmx_enter(s, writes ? d->reg : -1);
}

/* Legacy SSE 16-byte memory operands must be aligned, except those of the
 * rows with the UNA attribute (cpu/opcodes.def). */
#define MNEM(name, gen, reads, cc_reads, attrs, vec, lanes) \
    [X86_##name] = ((attrs) & X86_ATTR_UNA) != 0,
static const bool vec_unaligned_ok[X86_MNEM_COUNT] = {
#include "cpu/opcodes.def"
};
#undef MNEM

/* Linear address of the memory operand of `size` bytes: segment checks,
 * and the alignment check of 16-byte operands (#GP(0) via a stub). */
static IRTemp gen_vec_addr(DisasContext *s, unsigned size, bool write)
{
    IRTemp lin = gen_mem_addr(s, size, write);
    if (size == 16 && !vec_unaligned_ok[s->insn->mnem]) {
        IRTemp t = tcg_temp(s);
        ir_and(s->b, IR_I64, t, lin, tcg_const(s, 15));
        ir_brcond(s->b, IR_I64, IR_COND_NE, t, tcg_const(s, 0), gen_new_stub(s, R_DS));
    }
    return lin;
}

static IRTemp gen_env_ld(DisasContext *s, int64_t off, unsigned size)
{
    IRTemp t = tcg_temp(s);
    ir_ld(s->b, size == 8 ? IR_ld : size == 4 ? IR_ld32u : size == 2 ? IR_ld16u : IR_ld8u,
          IR_I64, t, IR_ENV, off);
    return t;
}

static void gen_env_st(DisasContext *s, int64_t off, IRTemp v, unsigned size)
{
    ir_st(s->b, size == 8 ? IR_st : size == 4 ? IR_st32 : size == 2 ? IR_st16 : IR_st8,
          IR_I64, v, IR_ENV, off);
}

/* Loads size bytes (2, 4, 8, 16) of memory into temps lo/hi. */
static void gen_vec_ld(DisasContext *s, IRTemp lin, unsigned size, IRTemp *lo, IRTemp *hi)
{
    *lo = gen_ld(s, lin, size >= 8 ? 8 : size, false);
    *hi = 0;
    if (size == 16) {
        IRTemp a = tcg_temp(s);
        ir_add(s->b, IR_I64, a, lin, tcg_const(s, 8));
        if (s->code_size != 64)
            ir_op1(s->b, IR_ext32u, IR_I64, a, a);
        *hi = gen_ld(s, a, 8, false);
    }
}

/* Stores lo (and hi for 16 bytes); a 16-byte store crossing a page
 * first probes both pages. */
static void gen_vec_st(DisasContext *s, IRTemp lin, unsigned size, IRTemp lo, IRTemp hi)
{
    if (size < 16) {
        gen_st(s, lin, lo, size);
        return;
    }
    IRTemp l = tcg_local(s), v0 = tcg_local(s), v1 = tcg_local(s), t = tcg_temp(s);
    ir_mov(s->b, IR_I64, l, lin);
    ir_mov(s->b, IR_I64, v0, lo);
    ir_mov(s->b, IR_I64, v1, hi);
    uint32_t skip = ir_new_label(s->b);
    ir_and(s->b, IR_I64, t, l, tcg_const(s, 0xfff));
    ir_brcond(s->b, IR_I64, IR_COND_LEU, t, tcg_const(s, 0xff0), skip);
    gen_call_helper(s, &hlp_probe_write16, 0, 2, (IRTemp[]){ IR_ENV, l });
    ir_set_label(s->b, skip);
    gen_st(s, l, v0, 8);
    IRTemp a = tcg_temp(s);
    ir_add(s->b, IR_I64, a, l, tcg_const(s, 8));
    if (s->code_size != 64)
        ir_op1(s->b, IR_ext32u, IR_I64, a, a);
    gen_st(s, a, v1, 8);
    s->mem_addr = 0;    /* the cached address temp died at the label */
}

/* Source operand for a helper: its env offset (memory is loaded into
 * xmm_tmp[0]; `size` bytes of it). */
static int64_t gen_vec_src(DisasContext *s, const X86Operand *op)
{
    if (is_vreg(op))
        return vreg_off(op);
    unsigned size = op->size ? op->size : 16;
    int m = s->insn->mnem;
    if (m == X86_CVTPS2PI || m == X86_CVTTPS2PI)
        size = 8;                    /* xmm/m64 */
    if ((m == X86_PUNPCKLBW || m == X86_PUNPCKLWD || m == X86_PUNPCKLDQ) &&
        s->insn->op[0].kind == X86_OPK_MMX)
        size = 4;                    /* mm, mm/m32 */
    IRTemp lo, hi;
    gen_vec_ld(s, gen_vec_addr(s, size, false), size, &lo, &hi);
    gen_env_st(s, TMP_OFF, lo, size >= 8 ? 8 : size);
    if (hi)
        gen_env_st(s, TMP_OFF + 8, hi, 8);
    return TMP_OFF;
}

/* The general register of a byte-sized register operand (PEXTRB r32,
 * PINSRB r32): always a full register, never AH-BH (decoded as 16-19 for
 * ModRM.rm 4-7 without REX). */
static int vec_gpr(const X86Operand *op)
{
    return op->reg >= X86_GPR_AH && op->reg <= X86_GPR_BH ? op->reg - X86_GPR_AH + 4 : op->reg;
}

static unsigned vwidth(const X86Operand *op)
{
    return op->kind == X86_OPK_MMX ? 8 : 16;
}

static int64_t insn_imm8(const X86Insn *insn)
{
    for (int i = 0; i < insn->nops; i++)
        if (insn->op[i].kind == X86_OPK_IMM)
            return insn->op[i].imm & 0xff;
    return 0;
}

/* ---- data movement (inline) ---- */

/* A full-register or full-width move: MOVAPS/MOVUPS/MOVDQA/MOVDQU/LDDQU,
 * MOVNT*, MOVQ mm. */
static void gen_vec_copy(DisasContext *s, const X86Insn *insn)
{
    const X86Operand *d = &insn->op[0], *src = &insn->op[1];
    unsigned w = vwidth(is_vreg(d) ? d : src);
    IRTemp lo, hi = 0;
    if (is_vreg(src)) {
        lo = gen_env_ld(s, vreg_off(src), 8);
        if (w == 16)
            hi = gen_env_ld(s, vreg_off(src) + 8, 8);
    } else {
        gen_vec_ld(s, gen_vec_addr(s, w, false), w, &lo, &hi);
    }
    if (is_vreg(d)) {
        gen_env_st(s, vreg_off(d), lo, 8);
        if (w == 16)
            gen_env_st(s, vreg_off(d) + 8, hi, 8);
    } else {
        gen_vec_st(s, gen_vec_addr(s, w, true), w, lo, hi);
    }
    gen_mmx_finish(s, insn);
}

/* MOVSS/MOVSD: load zero-extends, register form merges the low lane. */
static void gen_vec_move_scalar(DisasContext *s, const X86Insn *insn, unsigned size)
{
    const X86Operand *d = &insn->op[0], *src = &insn->op[1];
    if (d->kind == X86_OPK_MEM) {
        gen_st(s, gen_vec_addr(s, size, true), gen_env_ld(s, vreg_off(src), size), size);
        return;
    }
    if (is_vreg(src)) {
        gen_env_st(s, vreg_off(d), gen_env_ld(s, vreg_off(src), size), size);
        return;
    }
    IRTemp v = gen_ld(s, gen_vec_addr(s, size, false), size, false);
    IRTemp z = tcg_const(s, 0);
    gen_env_st(s, vreg_off(d), v, 8);     /* zero-extended to 64 bits */
    gen_env_st(s, vreg_off(d) + 8, z, 8);
}

/* 64-bit half moves: MOVLPS/MOVLPD/MOVHPS/MOVHPD/MOVHLPS/MOVLHPS.
 * dhalf/shalf: which quadword of the destination/source. */
static void gen_vec_move_half(DisasContext *s, const X86Insn *insn, int dhalf, int shalf)
{
    const X86Operand *d = &insn->op[0], *src = &insn->op[1];
    IRTemp v;
    if (is_vreg(src))
        v = gen_env_ld(s, vreg_off(src) + 8 * shalf, 8);
    else
        v = gen_ld(s, gen_vec_addr(s, 8, false), 8, false);
    if (is_vreg(d))
        gen_env_st(s, vreg_off(d) + 8 * dhalf, v, 8);
    else
        gen_st(s, gen_vec_addr(s, 8, true), v, 8);
}

void gen_MOVLPx(DisasContext *s, const X86Insn *insn)
{
    if (insn->mnem == X86_MOVHLPS)
        gen_vec_move_half(s, insn, 0, 1);
    else if (insn->mnem == X86_MOVLHPS)
        gen_vec_move_half(s, insn, 1, 0);
    else if (insn->mnem == X86_MOVHPS || insn->mnem == X86_MOVHPD)
        gen_vec_move_half(s, insn, insn->op[0].kind == X86_OPK_MEM ? 0 : 1,
                          insn->op[0].kind == X86_OPK_MEM ? 1 : 0);
    else
        gen_vec_move_half(s, insn, 0, 0);
}

/* MOVD/MOVQ between general registers/memory and MMX/XMM, MOVQ xmm
 * forms, MOVQ2DQ, MOVDQ2Q. */
void gen_MOVDQ(DisasContext *s, const X86Insn *insn)
{
    const X86Operand *d = &insn->op[0], *src = &insn->op[1];
    if (insn->mnem == X86_MOVQ && d->kind == X86_OPK_MMX && src->kind != X86_OPK_REG) {
        gen_vec_copy(s, insn);            /* MOVQ mm, mm/m64 */
        return;
    }
    if (insn->mnem == X86_MOVQ && src->kind == X86_OPK_MMX && d->kind != X86_OPK_REG) {
        gen_vec_copy(s, insn);            /* MOVQ mm/m64, mm */
        return;
    }
    if (is_vreg(d)) {
        /* to a vector register: zero-extend the value to the register */
        unsigned size = src->kind == X86_OPK_REG ? src->size
                        : is_vreg(src) ? 8 : (src->size ? src->size : 8);
        IRTemp v;
        if (src->kind == X86_OPK_REG)
            v = gen_get_reg(s, src->reg, size);
        else if (is_vreg(src))
            v = gen_env_ld(s, vreg_off(src), 8);
        else
            v = gen_ld(s, gen_vec_addr(s, size, false), size, false);
        gen_env_st(s, vreg_off(d), v, 8);
        if (d->kind == X86_OPK_XMM)
            gen_env_st(s, vreg_off(d) + 8, tcg_const(s, 0), 8);
        gen_mmx_finish(s, insn);
        return;
    }
    /* from a vector register to a general register or memory */
    unsigned size = d->size ? d->size : 8;
    IRTemp v = gen_env_ld(s, vreg_off(src), size);
    if (d->kind == X86_OPK_REG)
        gen_set_reg(s, d->reg, size, v);
    else
        gen_st(s, gen_vec_addr(s, size, true), v, size);
    gen_mmx_finish(s, insn);
}

/* ---- bitwise logic (inline) ---- */

static void gen_vec_logic_op(DisasContext *s, const X86Insn *insn, IROpcode op, bool not_a)
{
    const X86Operand *d = &insn->op[0], *src = &insn->op[1];
    unsigned w = vwidth(d);
    IRTemp b0, b1 = 0;
    if (is_vreg(src)) {
        b0 = gen_env_ld(s, vreg_off(src), 8);
        if (w == 16)
            b1 = gen_env_ld(s, vreg_off(src) + 8, 8);
    } else {
        gen_vec_ld(s, gen_vec_addr(s, w, false), w, &b0, &b1);
    }
    for (unsigned h = 0; h < w / 8; h++) {
        IRTemp a = gen_env_ld(s, vreg_off(d) + 8 * h, 8), r = tcg_temp(s);
        if (not_a) {
            IRTemp na = tcg_temp(s);
            ir_op1(s->b, IR_not, IR_I64, na, a);
            a = na;
        }
        ir_op2(s->b, op, IR_I64, r, a, h ? b1 : b0);
        gen_env_st(s, vreg_off(d) + 8 * h, r, 8);
    }
    gen_mmx_finish(s, insn);
}


/* ---- helper-based operations ---- */

/* dst = op(dst, src[, imm]) on integer lanes */
static void gen_vec_int_call(DisasContext *s, const X86Insn *insn)
{
    const X86Operand *d = &insn->op[0];
    int64_t doff = vreg_off(d), soff;
    unsigned arg = (unsigned)insn_imm8(insn) | vwidth(d) << 8;
    if (insn->nops >= 2 && insn->op[1].kind != X86_OPK_IMM) {
        soff = gen_vec_src(s, &insn->op[1]);
    } else {
        soff = doff;                 /* shift by immediate */
        arg |= SSEI_IMMCOUNT;
    }
    if (insn->mnem == X86_INSERTPS && insn->op[1].kind == X86_OPK_MEM)
        arg &= ~0xc0u;               /* the m32 is lane 0 of the scratch */
    IRTemp args[5] = { IR_ENV, tcg_const(s, insn->mnem), tcg_const(s, doff), tcg_const(s, soff),
                       tcg_const(s, arg) };
    gen_call_helper(s, &hlp_sse_int, 0, 5, args);
    gen_mmx_finish(s, insn);
}

/* floating point: dst = op(dst, src[, imm]) (may raise #XM) */
static void gen_vec_fp_call(DisasContext *s, const X86Insn *insn)
{
    const X86Operand *d = &insn->op[0], *src = &insn->op[1];
    int64_t soff = gen_vec_src(s, src);
    /* MMX sources, and the m64/xmm-low-half sources of CVTPI2Px and
     * CVT(T)PS2PI: only 8 bytes take part (zero lanes raise nothing) */
    bool half = insn->mnem == X86_CVTPI2PS || insn->mnem == X86_CVTPI2PD ||
                insn->mnem == X86_CVTPS2PI || insn->mnem == X86_CVTTPS2PI;
    unsigned swidth = src->kind == X86_OPK_MMX || half ? 8 : 16;
    unsigned arg = (unsigned)insn_imm8(insn) | swidth << 8 | vwidth(d) << 16;
    IRTemp args[5] = { IR_ENV, tcg_const(s, insn->mnem), tcg_const(s, vreg_off(d)),
                       tcg_const(s, soff), tcg_const(s, arg) };
    /* CVTPI2Px / CVTPx2PI: the x87->MMX transition happens even when the
     * conversion then raises #XM */
    if (insn_has_mmx(insn))
        gen_mmx_enter(s, -1);
    gen_call_helper(s, &hlp_sse_fp, 0, 5, args);
    gen_mmx_finish(s, insn);
}

static void gen_vec_cvt2int_call(DisasContext *s, const X86Insn *insn)
{
    const X86Operand *d = &insn->op[0];
    int64_t soff = gen_vec_src(s, &insn->op[1]);
    IRTemp r = tcg_temp(s);
    IRTemp args[4] = { IR_ENV, tcg_const(s, insn->mnem), tcg_const(s, soff),
                       tcg_const(s, d->size) };
    gen_call_helper(s, &hlp_sse_cvt2int, r, 4, args);
    gen_set_reg(s, d->reg, d->size, r);
}

static void gen_vec_cvtfromint_call(DisasContext *s, const X86Insn *insn)
{
    const X86Operand *src = &insn->op[1];
    IRTemp v = gen_load_operand(s, src);
    IRTemp args[5] = { IR_ENV, tcg_const(s, insn->mnem), tcg_const(s, vreg_off(&insn->op[0])),
                       v, tcg_const(s, src->size) };
    gen_call_helper(s, &hlp_sse_cvtfromint, 0, 5, args);
}

static void gen_vec_comi_call(DisasContext *s, const X86Insn *insn)
{
    int64_t soff = gen_vec_src(s, &insn->op[1]);
    IRTemp f = tcg_temp(s);
    IRTemp args[4] = { IR_ENV, tcg_const(s, insn->mnem), tcg_const(s, vreg_off(&insn->op[0])),
                       tcg_const(s, soff) };
    const IRHelper *h = insn->mnem == X86_PTEST ? &hlp_sse_ptest : &hlp_sse_comi;
    if (insn->mnem == X86_PTEST)
        gen_call_helper(s, h, f, 3, (IRTemp[]){ IR_ENV, args[2], args[3] });
    else
        gen_call_helper(s, h, f, 4, args);
    gen_set_cc_eflags(s, f);
}

/* PMOVMSKB, MOVMSKPS/PD, PEXTRB/W/D/Q, EXTRACTPS -> r or m */
static void gen_vec_toreg_call(DisasContext *s, const X86Insn *insn)
{
    const X86Operand *d = &insn->op[0], *src = &insn->op[1];
    IRTemp r = tcg_temp(s);
    unsigned arg = (unsigned)insn_imm8(insn) | vwidth(src) << 8;
    if (insn->mnem == X86_PEXTRD && d->size == 8)
        arg |= SSE_Q64;              /* PEXTRQ */
    IRTemp args[4] = { IR_ENV, tcg_const(s, insn->mnem), tcg_const(s, vreg_off(src)),
                       tcg_const(s, arg) };
    gen_call_helper(s, &hlp_sse_toreg, r, 4, args);
    if (d->kind == X86_OPK_MEM) {
        unsigned size = d->size;
        gen_st(s, gen_vec_addr(s, size, true), r, size);
    } else {
        /* results are zero-extended into the full 32/64-bit register */
        gen_set_reg(s, vec_gpr(d), d->size < 4 ? 4 : d->size, r);
    }
    gen_mmx_finish(s, insn);
}

/* PINSRB/W/D/Q */
void gen_vec_fromreg(DisasContext *s, const X86Insn *insn)
{
    const X86Operand *d = &insn->op[0], *src = &insn->op[1];
    X86Operand o = *src;
    if (o.kind == X86_OPK_REG && o.size < 4) {
        o.size = 4;
        o.reg = (uint8_t)vec_gpr(src);
    }
    IRTemp v = gen_load_operand(s, &o);
    unsigned arg = (unsigned)insn_imm8(insn) | vwidth(d) << 8;
    if (insn->mnem == X86_PINSRD && src->size == 8)
        arg |= SSE_Q64;              /* PINSRQ */
    IRTemp args[5] = { IR_ENV, tcg_const(s, insn->mnem), tcg_const(s, vreg_off(d)), v,
                       tcg_const(s, arg) };
    gen_call_helper(s, &hlp_sse_fromreg, 0, 5, args);
    gen_mmx_finish(s, insn);
}

/* MASKMOVQ / MASKMOVDQU: [seg:rDI] */
void gen_vec_maskmov(DisasContext *s, const X86Insn *insn)
{
    const X86Operand *d = &insn->op[0], *m = &insn->op[1];
    unsigned w = vwidth(d);
    int seg = insn->seg_override != X86_SEG_NONE ? insn->seg_override : X86_SEG_DS;
    if (insn_has_mmx(insn))
        gen_mmx_enter(s, -1);        /* before the store can fault (as the host) */
    IRTemp off = gen_trunc_addr(s, s->regs[R_EDI], insn->addrsize);
    IRTemp lin = gen_linear(s, seg, off, w, true);
    IRTemp args[5] = { IR_ENV, tcg_const(s, vreg_off(d)), tcg_const(s, vreg_off(m)), lin,
                       tcg_const(s, w) };
    gen_call_helper(s, &hlp_sse_maskmov, 0, 5, args);
    gen_mmx_finish(s, insn);
}

/* PCMPESTRI/M, PCMPISTRI/M: flags, and ECX (-I) or XMM0 (-M) */
void gen_vec_pcmpstr(DisasContext *s, const X86Insn *insn)
{
    int64_t soff = gen_vec_src(s, &insn->op[1]);
    IRTemp r = tcg_temp(s);
    int64_t op = insn->mnem | (insn_imm8(insn) << 16) | (int64_t)insn->rex_w << 24;
    IRTemp args[6] = { IR_ENV, tcg_const(s, op), tcg_const(s, vreg_off(&insn->op[0])),
                       tcg_const(s, soff), s->regs[R_EAX], s->regs[R_EDX] };
    gen_call_helper(s, &hlp_pcmpstr, r, 6, args);
    if (insn->mnem == X86_PCMPESTRI || insn->mnem == X86_PCMPISTRI) {
        IRTemp idx = tcg_temp(s);
        ir_op2(s->b, IR_shr, IR_I64, idx, r, tcg_const(s, 16));
        gen_set_reg(s, R_ECX, 4, idx);
    }
    IRTemp f = tcg_temp(s);
    ir_and(s->b, IR_I64, f, r, tcg_const(s, CC_ALL));
    gen_set_cc_eflags(s, f);
}

/* CRC32 r32/r64, r/m8/16/32/64 (the result is 32 bits, zero-extended) */
void gen_CRC32(DisasContext *s, const X86Insn *insn)
{
    const X86Operand *d = &insn->op[0], *src = &insn->op[1];
    IRTemp v = gen_load_operand(s, src);
    IRTemp crc = gen_get_reg(s, d->reg, 4), r = tcg_temp(s);
    IRTemp args[3] = { crc, v, tcg_const(s, src->size) };
    gen_call_helper(s, &hlp_crc32, r, 3, args);
    gen_set_reg(s, d->reg, 4, r);
}

/* ---- inline host SSE (IR vec ops) ----
 *
 * The common SSE/SSE2 instructions on XMM registers become one IR vec op
 * (tcg/vec-ops.def): the backend emits the host instruction itself on the
 * env slots, instead of a helper call.  Memory sources go through
 * gen_vec_src (segment and alignment checks, then xmm_tmp[0]) as for the
 * helpers, so faults stay precise.  Floating point runs under the host
 * MXCSR, so it is inline only in blocks translated with HF_SSE_FAST (the
 * guest's control bits are the default 0x1f80, identical to the host's);
 * its flags accumulate in the host MXCSR (cpu_mxcsr_sync in cpu.h).
 * Integer and shuffle instructions do not touch MXCSR: always inline. */

/* The inline form of each mnemonic: the vec column of its row in
 * cpu/opcodes.def. */
typedef enum VecKind {
    VK_NONE,        /* NOVEC: the helper only */
    VK_INT,         /* VI: integer / shuffle / move, always inline */
    VK_FP,          /* VF: floating point, inline under HF_SSE_FAST */
    VK_FP_LQ,       /* VFLQ: floating point with a 32- or 64-bit GPR */
    VK_SHIFT,       /* VSH: the xmm, imm8 shift form only */
} VecKind;

typedef struct VecForm {
    uint8_t kind;            /* VecKind */
    uint8_t op, op64;        /* IRVecOp (op64: the 64-bit GPR form of VK_FP_LQ) */
} VecForm;

/* kind | op << 8 | op64 << 16 (one value, so a row's column stays one
 * macro argument) */
#define NOVEC VK_NONE
#define VI(o) (VK_INT | IR_VEC_##o << 8)
#define VF(o) (VK_FP | IR_VEC_##o << 8)
#define VFLQ(o) (VK_FP_LQ | IR_VEC_##o##L << 8 | IR_VEC_##o##Q << 16)
#define VSH(o) (VK_SHIFT | IR_VEC_##o << 8)
#define MNEM(name, gen, reads, cc_reads, attrs, vec, lanes)                  \
    [X86_##name] = { (vec) & 0xff, ((vec) >> 8) & 0xff, ((vec) >> 16) & 0xff },
static const VecForm vec_forms[X86_MNEM_COUNT] = {
#include "cpu/opcodes.def"
};
#undef MNEM
#undef NOVEC
#undef VI
#undef VF
#undef VFLQ
#undef VSH
_Static_assert(IR_VEC_NB <= 256, "VecForm holds an IRVecOp in 8 bits");

/* The inline form allowed in this block, or NULL. */
static const VecForm *vec_form(DisasContext *s, const X86Insn *insn, VecKind kind)
{
    const VecForm *f = &vec_forms[insn->mnem];
    if (f->kind != kind)
        return NULL;
    if ((kind == VK_FP || kind == VK_FP_LQ) && !(s->flags & HF_SSE_FAST))
        return NULL;
    return f;
}

static bool is_xmm(const X86Operand *op) { return op->kind == X86_OPK_XMM; }
static bool is_xmm_or_mem(const X86Operand *op) { return is_xmm(op) || op->kind == X86_OPK_MEM; }

/* xmm, xmm/m [, imm8] */
static bool gen_inline_binary(DisasContext *s, const X86Insn *insn)
{
    const X86Operand *d = &insn->op[0], *src = &insn->op[1];
    const VecForm *f;
    if (insn->nops < 2 || !is_xmm(d))
        return false;
    if (src->kind == X86_OPK_IMM && (f = vec_form(s, insn, VK_SHIFT))) {
        ir_vec(s->b, ir_vec_code((IRVecOp)f->op, (unsigned)insn_imm8(insn)), xmm_off(d->reg),
               xmm_off(d->reg));
        return true;
    }
    if (!is_xmm_or_mem(src))
        return false;
    f = vec_form(s, insn, VK_INT);
    if (!f)
        f = vec_form(s, insn, VK_FP);
    if (!f)
        return false;
    if (!ir_vec_host_has((IRVecOp)f->op))
        return false;            /* SSSE3 row on an SSE2-only host: the helper */
    int64_t soff = gen_vec_src(s, src);
    ir_vec(s->b, ir_vec_code((IRVecOp)f->op, (unsigned)insn_imm8(insn)), xmm_off(d->reg), soff);
    return true;
}

/* UCOMISx/COMISx: ZF PF CF from the host instruction, OF SF AF clear */
static bool gen_inline_comi(DisasContext *s, const X86Insn *insn)
{
    const VecForm *f = vec_form(s, insn, VK_FP);
    if (!f || !is_xmm(&insn->op[0]) || !is_xmm_or_mem(&insn->op[1]))
        return false;
    int64_t soff = gen_vec_src(s, &insn->op[1]);
    IRTemp fl = tcg_temp(s);
    ir_vec_to(s->b, ir_vec_code((IRVecOp)f->op, 0), fl, xmm_off(insn->op[0].reg), soff);
    gen_set_cc_eflags(s, fl);
    return true;
}

/* CVT(T)SS2SI / CVT(T)SD2SI r32/r64, xmm/m */
static bool gen_inline_cvt2int(DisasContext *s, const X86Insn *insn)
{
    const X86Operand *d = &insn->op[0];
    const VecForm *f = vec_form(s, insn, VK_FP_LQ);
    if (!f || !is_xmm_or_mem(&insn->op[1]))
        return false;
    IRVecOp op = (IRVecOp)(d->size == 8 ? f->op64 : f->op);
    int64_t soff = gen_vec_src(s, &insn->op[1]);
    IRTemp r = tcg_temp(s);
    ir_vec_to(s->b, ir_vec_code(op, 0), r, soff, soff);
    gen_set_reg(s, d->reg, d->size, r);
    return true;
}

/* CVTSI2SS / CVTSI2SD xmm, r/m32|64 */
static bool gen_inline_cvtfromint(DisasContext *s, const X86Insn *insn)
{
    const X86Operand *src = &insn->op[1];
    const VecForm *f = vec_form(s, insn, VK_FP_LQ);
    if (!f || !is_xmm(&insn->op[0]))
        return false;
    IRVecOp op = (IRVecOp)(src->size == 8 ? f->op64 : f->op);
    IRTemp v = gen_load_operand(s, src);
    ir_vec_from(s->b, ir_vec_code(op, 0), xmm_off(insn->op[0].reg), v);
    return true;
}

/* PMOVMSKB / MOVMSKPS / MOVMSKPD r, xmm */
static bool gen_inline_movmsk(DisasContext *s, const X86Insn *insn)
{
    const X86Operand *d = &insn->op[0], *src = &insn->op[1];
    const VecForm *f = vec_form(s, insn, VK_INT);
    if (!f || !is_xmm(src) || d->kind != X86_OPK_REG)
        return false;
    IRTemp r = tcg_temp(s);
    ir_vec_to(s->b, ir_vec_code((IRVecOp)f->op, 0), r, xmm_off(src->reg), xmm_off(src->reg));
    gen_set_reg(s, vec_gpr(d), d->size < 4 ? 4 : d->size, r);
    return true;
}

/* ---- the handlers (named by the X86V rows of cpu/opcodes.def) ----
 *
 * Each tries the inline form of its row first (when the block and the
 * operands allow it), else emits the generic IR or helper call. */

/* MOVAPS MOVAPD MOVUPS MOVUPD MOVDQA MOVDQU LDDQU MOVNTPS MOVNTPD MOVNTDQ
 * MOVNTDQA MOVNTQ */
void gen_vec_move(DisasContext *s, const X86Insn *insn)
{
    const VecForm *f = vec_form(s, insn, VK_INT);
    if (f && is_xmm(&insn->op[0]) && is_xmm(&insn->op[1])) {
        ir_vec(s->b, ir_vec_code((IRVecOp)f->op, 0), xmm_off(insn->op[0].reg),
               xmm_off(insn->op[1].reg));
        return;
    }
    gen_vec_copy(s, insn);
}

void gen_MOVSS(DisasContext *s, const X86Insn *insn) { gen_vec_move_scalar(s, insn, 4); }
void gen_MOVSD(DisasContext *s, const X86Insn *insn) { gen_vec_move_scalar(s, insn, 8); }

/* PAND PANDN POR PXOR and the PS/PD forms: the vec column says which */
void gen_vec_logic(DisasContext *s, const X86Insn *insn)
{
    if (gen_inline_binary(s, insn))
        return;
    switch (vec_forms[insn->mnem].op) {
    case IR_VEC_PAND: gen_vec_logic_op(s, insn, IR_and, false); break;
    case IR_VEC_PANDN: gen_vec_logic_op(s, insn, IR_and, true); break;
    case IR_VEC_POR: gen_vec_logic_op(s, insn, IR_or, false); break;
    default: gen_vec_logic_op(s, insn, IR_xor, false); break;
    }
}

/* integer lanes: hlp_sse_int and the lanes column */
void gen_vec_int(DisasContext *s, const X86Insn *insn)
{
    if (!gen_inline_binary(s, insn))
        gen_vec_int_call(s, insn);
}

/* floating point: hlp_sse_fp */
void gen_vec_fp(DisasContext *s, const X86Insn *insn)
{
    if (!gen_inline_binary(s, insn))
        gen_vec_fp_call(s, insn);
}

/* CVT(T)SS2SI CVT(T)SD2SI */
void gen_vec_cvt2int(DisasContext *s, const X86Insn *insn)
{
    if (!gen_inline_cvt2int(s, insn))
        gen_vec_cvt2int_call(s, insn);
}

/* CVTSI2SS CVTSI2SD */
void gen_vec_cvtfromint(DisasContext *s, const X86Insn *insn)
{
    if (!gen_inline_cvtfromint(s, insn))
        gen_vec_cvtfromint_call(s, insn);
}

/* UCOMISS UCOMISD COMISS COMISD PTEST */
void gen_vec_comi(DisasContext *s, const X86Insn *insn)
{
    if (!gen_inline_comi(s, insn))
        gen_vec_comi_call(s, insn);
}

/* PMOVMSKB MOVMSKPS MOVMSKPD PEXTRB PEXTRW PEXTRD EXTRACTPS */
void gen_vec_toreg(DisasContext *s, const X86Insn *insn)
{
    if (!gen_inline_movmsk(s, insn))
        gen_vec_toreg_call(s, insn);
}

/* MOVNTI m32/m64, r: a plain store (the non-temporal hint is ignored) */
void gen_MOVNTI(DisasContext *s, const X86Insn *insn)
{
    gen_store_operand(s, &insn->op[0], gen_load_operand(s, &insn->op[1]));
}
