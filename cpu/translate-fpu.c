/*
 * x87 control instructions, the FPU/SSE state instructions (FXSAVE,
 * XSAVE, LDMXCSR ...) and the availability check for every x87, MMX and
 * SSE instruction.
 *
 * The check is static: CR0.EM, CR0.TS, CR0.MP and CR4.OSFXSR are part of
 * the translation key (HF_EM, HF_TS, HF_MP, HF_OSFXSR), so a block
 * translated with TS clear is never run with TS set (CLTS, MOV CR0/CR4,
 * LMSW and task switches end the block and recompute hflags).
 */
#include "cpu/translate-fpu.h"

#include <stddef.h>

#include "cpu/fpu.h"
#include "cpu/helpers.h"

typedef enum FpuClass {
    FPC_NONE,     /* no FPU/SSE state involved */
    FPC_X87,      /* ESC D8-DF: EM or TS -> #NM */
    FPC_WAIT,     /* WAIT: TS and MP -> #NM */
    FPC_MMX,      /* MMX registers: EM -> #UD, TS -> #NM */
    FPC_SSE,      /* XMM registers, MXCSR: EM or !OSFXSR -> #UD, TS -> #NM */
    FPC_FXSR,     /* FXSAVE/FXRSTOR: EM or TS -> #NM */
} FpuClass;

static FpuClass fpu_class(const X86Insn *insn)
{
    switch (insn->mnem) {
    case X86_WAIT:
        return FPC_WAIT;
    case X86_FXSAVE: case X86_FXRSTOR:
        return FPC_FXSR;
    case X86_LDMXCSR: case X86_STMXCSR:
        return FPC_SSE;
    case X86_EMMS:
        return FPC_MMX;
    default:
        break;
    }
    if (insn->map == X86_MAP_1B && insn->opcode >= 0xd8 && insn->opcode <= 0xdf)
        return FPC_X87;
    bool mmx = false;
    for (int i = 0; i < insn->nops; i++) {
        if (insn->op[i].kind == X86_OPK_XMM)
            return FPC_SSE;
        if (insn->op[i].kind == X86_OPK_MMX)
            mmx = true;
    }
    return mmx ? FPC_MMX : FPC_NONE;
}

bool fpu_insn_checks_cr0(const X86Insn *insn)
{
    return fpu_class(insn) != FPC_NONE;
}

bool gen_fpu_check(DisasContext *s, const X86Insn *insn)
{
    uint32_t f = s->flags;
    int vec = -1;
    switch (fpu_class(insn)) {
    case FPC_NONE:
        return false;
    case FPC_X87: case FPC_FXSR:
        if (f & (HF_EM | HF_TS))
            vec = EXC_NM;
        break;
    case FPC_WAIT:
        if ((f & (HF_TS | HF_MP)) == (HF_TS | HF_MP))
            vec = EXC_NM;
        break;
    case FPC_MMX:
        if (f & HF_EM)
            vec = EXC_UD;
        else if (f & HF_TS)
            vec = EXC_NM;
        break;
    case FPC_SSE:
        if ((f & HF_EM) || !(f & HF_OSFXSR))
            vec = EXC_UD;
        else if (f & HF_TS)
            vec = EXC_NM;
        break;
    }
    if (vec < 0)
        return false;
    gen_exception(s, vec, 0);
    return true;
}

static void gen_env_call(DisasContext *s, const IRHelper *h, int nargs, const IRTemp *args)
{
    gen_call_helper(s, h, 0, nargs, args);
}

void gen_FNINIT(DisasContext *s, const X86Insn *insn)
{
    (void)insn;
    gen_env_call(s, &hlp_fninit, 1, (IRTemp[]){ IR_ENV });
}

void gen_FNCLEX(DisasContext *s, const X86Insn *insn)
{
    (void)insn;
    gen_env_call(s, &hlp_fnclex, 1, (IRTemp[]){ IR_ENV });
}

void gen_FNOP(DisasContext *s, const X86Insn *insn)
{
    (void)s;
    (void)insn;
}

void gen_FNSTSW(DisasContext *s, const X86Insn *insn)
{
    IRTemp v = tcg_temp(s);
    gen_call_helper(s, &hlp_fnstsw, v, 1, (IRTemp[]){ IR_ENV });
    if (insn->op[0].kind == X86_OPK_REG)
        gen_set_reg(s, R_EAX, 2, v);
    else
        gen_st(s, gen_mem_addr(s, 2, true), v, 2);
}

void gen_FNSTCW(DisasContext *s, const X86Insn *insn)
{
    (void)insn;
    IRTemp v = tcg_temp(s);
    ir_ld(s->b, IR_ld16u, IR_I64, v, IR_ENV, offsetof(CPUState, fpuc));
    gen_st(s, gen_mem_addr(s, 2, true), v, 2);
}

void gen_FLDCW(DisasContext *s, const X86Insn *insn)
{
    (void)insn;
    gen_env_call(s, &hlp_fwait, 1, (IRTemp[]){ IR_ENV });   /* #MF before the load */
    IRTemp v = gen_ld(s, gen_mem_addr(s, 2, false), 2, false);
    gen_env_call(s, &hlp_fldcw, 2, (IRTemp[]){ IR_ENV, v });
}

void gen_FWAIT(DisasContext *s, const X86Insn *insn)
{
    (void)insn;
    gen_env_call(s, &hlp_fwait, 1, (IRTemp[]){ IR_ENV });
}

void gen_EMMS(DisasContext *s, const X86Insn *insn)
{
    (void)insn;
    gen_env_call(s, &hlp_emms, 1, (IRTemp[]){ IR_ENV });
}

void gen_FXSAVE(DisasContext *s, const X86Insn *insn)
{
    IRTemp lin = gen_mem_addr(s, 512, insn->mnem == X86_FXSAVE);
    const IRHelper *h = insn->mnem == X86_FXSAVE ? &hlp_fxsave : &hlp_fxrstor;
    gen_env_call(s, h, 3, (IRTemp[]){ IR_ENV, lin, tcg_const(s, insn->rex_w) });
}

/* An instruction that writes MXCSR may change HF_SSE_FAST (whether the
 * SSE arithmetic after it is inline): the block ends after it. */
static void end_block_mxcsr(DisasContext *s)
{
    if (s->end == DISAS_NEXT)
        s->end = DISAS_STOP;
}

void gen_FXRSTOR(DisasContext *s, const X86Insn *insn)
{
    gen_FXSAVE(s, insn);
    end_block_mxcsr(s);
}

void gen_LDMXCSR(DisasContext *s, const X86Insn *insn)
{
    (void)insn;
    IRTemp v = gen_ld(s, gen_mem_addr(s, 4, false), 4, false);
    gen_env_call(s, &hlp_ldmxcsr, 2, (IRTemp[]){ IR_ENV, v });
    end_block_mxcsr(s);
}

/* The value comes from a helper: the sticky flags of inline SSE code may
 * still be in the host MXCSR. */
void gen_STMXCSR(DisasContext *s, const X86Insn *insn)
{
    (void)insn;
    IRTemp lin = gen_mem_addr(s, 4, true);
    IRTemp v = tcg_temp(s);
    gen_call_helper(s, &hlp_stmxcsr, v, 1, (IRTemp[]){ IR_ENV });
    gen_st(s, lin, v, 4);
}

void gen_XSAVE(DisasContext *s, const X86Insn *insn)
{
    IRTemp lin = gen_mem_addr(s, 576, true);
    gen_env_call(s, &hlp_xsave, 4, (IRTemp[]){ IR_ENV, lin, tcg_const(s, insn->rex_w),
                                               tcg_const(s, insn->mnem == X86_XSAVEOPT) });
}

void gen_XRSTOR(DisasContext *s, const X86Insn *insn)
{
    IRTemp lin = gen_mem_addr(s, 576, false);
    gen_env_call(s, &hlp_xrstor, 3, (IRTemp[]){ IR_ENV, lin, tcg_const(s, insn->rex_w) });
    end_block_mxcsr(s);
}

void gen_XGETBV(DisasContext *s, const X86Insn *insn)
{
    (void)insn;
    gen_env_call(s, &hlp_xgetbv, 1, (IRTemp[]){ IR_ENV });
}

void gen_XSETBV(DisasContext *s, const X86Insn *insn)
{
    (void)insn;
    gen_env_call(s, &hlp_xsetbv, 1, (IRTemp[]){ IR_ENV });
}

/* ---- x87 arithmetic, loads/stores, compares, stack (helpers-x87.c) ---- */

void gen_X87(DisasContext *s, const X86Insn *insn)
{
    IRTemp lin = tcg_const(s, 0);
    /* A pending x87 exception (#MF) comes before the segment checks of the
     * memory operand (the helper checks it before its own accesses). */
    if (insn->mod != 3 && s->code_size != 64 && insn->mnem != X86_FNSTSW)
        gen_env_call(s, &hlp_fwait, 1, (IRTemp[]){ IR_ENV });
    if (insn->mod != 3) {
        bool write = false;
        unsigned size = x87_operand_size(insn->opcode, insn->reg, &write);
        lin = gen_mem_addr(s, size ? size : 1, write);
    }
    IRTemp fl = tcg_const(s, 0);
    /* the rows say which ones read EFLAGS (FCMOVcc) and which set ZF PF CF
     * (FCOMI FCOMIP FUCOMI FUCOMIP) */
    const X86OpInfo *info = &x86_op_info[insn->mnem];
    if (info->res_read)
        fl = gen_compute_eflags(s);
    IRTemp r = tcg_temp(s);
    int64_t enc = insn->opcode << 8 | insn->modrm | (insn->mem.present ? insn->mem.seg & 7 : 0) << 16;
    IRTemp args[4] = { IR_ENV, lin, tcg_const(s, enc), fl };
    gen_call_helper(s, &hlp_x87, r, 4, args);
    if (info->cc_write) {
        IRTemp f = tcg_temp(s);
        ir_and(s->b, IR_I64, f, r, tcg_const(s, CC_ALL));
        gen_set_cc_eflags(s, f);
    }
}

/* FNSTENV FLDENV FNSAVE FRSTOR: the image layout follows the operand size
 * and real/VM86 vs protected mode. */
void gen_X87ENV(DisasContext *s, const X86Insn *insn)
{
    int m = insn->mnem;
    unsigned kind = m == X86_FNSTENV ? 0 : m == X86_FLDENV ? 1 : m == X86_FNSAVE ? 2 : 3;
    unsigned osz = insn->opsize == 2 ? 2 : 4;
    bool real = !(s->flags & HF_PE) || (s->flags & HF_VM);
    unsigned size = (osz == 4 ? 28 : 14) + (kind >= 2 ? 80 : 0);
    if ((kind == 1 || kind == 3) && s->code_size != 64)
        gen_env_call(s, &hlp_fwait, 1, (IRTemp[]){ IR_ENV });   /* they wait */
    IRTemp lin = gen_mem_addr(s, size, kind == 0 || kind == 2);
    IRTemp args[4] = { IR_ENV, lin, tcg_const(s, kind), tcg_const(s, osz | (real ? 256 : 0)) };
    gen_call_helper(s, &hlp_x87_env, 0, 4, args);
}
