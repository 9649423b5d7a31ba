/*
 * Handlers for system instructions, far control transfers, interrupts,
 * string and I/O instructions.  Most of the work is in helpers (they need
 * descriptor tables, privilege checks or loops); these handlers gather
 * the operands, call the helper, and end the block when the helper may
 * have changed state the translation depends on.
 */
#include "cpu/translate-sys.h"

#include "cpu/helpers.h"

static IRTemp call1(DisasContext *s, const IRHelper *h, int n, IRTemp a0, IRTemp a1,
                    IRTemp a2, IRTemp a3, IRTemp a4, bool want)
{
    IRTemp args[6] = { IR_ENV, a0, a1, a2, a3, a4 };
    IRTemp out = want ? tcg_temp(s) : 0;
    gen_call_helper(s, h, out, n + 1, args);
    return out;
}
#define K(v) tcg_const(s, (int64_t)(v))

/* Ends the block after a helper that may change the mode, flags or rip. */
static void end_block(DisasContext *s)
{
    if (s->end == DISAS_NEXT)
        s->end = DISAS_STOP;
}

void gen_load_seg(DisasContext *s, int seg, IRTemp sel)
{
    call1(s, &hlp_load_seg, 2, K(seg), sel, 0, 0, 0, false);
    if (seg == X86_SEG_SS) {
        call1(s, &hlp_set_inhibit, 1, K(s->next_pc), 0, 0, 0, 0, false);
        end_block(s);
    } else if ((s->flags & HF_PE) && !(s->flags & HF_VM) && !(s->flags & HF_CS64)) {
        end_block(s);   /* the flat-segment bit of hflags may change */
    }
}

void gen_mov_crdr(DisasContext *s, const X86Insn *insn)
{
    const X86Operand *d = &insn->op[0], *src = &insn->op[1];
    if (d->kind == X86_OPK_CREG || d->kind == X86_OPK_DREG) {
        IRTemp v = gen_get_reg(s, src->reg, src->size);
        call1(s, d->kind == X86_OPK_CREG ? &hlp_mov_to_cr : &hlp_mov_to_dr, 2, K(d->reg), v,
              0, 0, 0, false);
        end_block(s);
        return;
    }
    IRTemp v = call1(s, src->kind == X86_OPK_CREG ? &hlp_mov_from_cr : &hlp_mov_from_dr, 1,
                     K(src->reg), 0, 0, 0, 0, true);
    gen_set_reg(s, d->reg, d->size, v);
}

/* ---- flags register ---- */

void gen_PUSHF(DisasContext *s, const X86Insn *insn)
{
    IRTemp v = call1(s, &hlp_read_eflags, 0, 0, 0, 0, 0, 0, true);
    gen_push(s, v, insn->opsize);
}

void gen_POPF(DisasContext *s, const X86Insn *insn)
{
    IRTemp nsp;
    IRTemp v = gen_pop_value(s, insn->opsize, &nsp);
    call1(s, &hlp_write_eflags, 2, v, K(insn->opsize), 0, 0, 0, false);
    gen_set_sp(s, nsp);
    s->cc_op = CC_OP_DYNAMIC;
    end_block(s);
}

void gen_CLI(DisasContext *s, const X86Insn *insn)
{
    call1(s, &hlp_cli, 0, 0, 0, 0, 0, 0, false);
}

void gen_STI(DisasContext *s, const X86Insn *insn)
{
    call1(s, &hlp_sti, 1, K(s->next_pc), 0, 0, 0, 0, false);
    end_block(s);
}

void gen_CLAC(DisasContext *s, const X86Insn *insn)
{
    call1(s, &hlp_clac, 0, 0, 0, 0, 0, 0, false);
    end_block(s);
}

void gen_STAC(DisasContext *s, const X86Insn *insn)
{
    call1(s, &hlp_stac, 0, 0, 0, 0, 0, 0, false);
    end_block(s);
}

void gen_ENTER(DisasContext *s, const X86Insn *insn)
{
    call1(s, &hlp_enter, 3, K(insn->opsize), K(insn->op[0].imm & 0xffff),
          K(insn->op[1].imm & 31), 0, 0, false);
}

/* ---- far transfers and interrupts ---- */

/* Offset and selector of an Mp operand (offset first, selector after). */
static void gen_load_farptr(DisasContext *s, const X86Insn *insn, IRTemp *off, IRTemp *sel)
{
    unsigned osz = insn->opsize;
    IRTemp ea = gen_ea_offset(s, &insn->mem);
    IRTemp lin = gen_linear(s, insn->mem.seg, ea, osz + 2, false);
    *off = gen_ld(s, lin, osz, false);
    IRTemp lin2 = tcg_temp(s);
    ir_add(s->b, IR_I64, lin2, lin, K(osz));
    if (s->code_size != 64)
        ir_op1(s->b, IR_ext32u, IR_I64, lin2, lin2);
    *sel = gen_ld(s, lin2, 2, false);
}

static void gen_far(DisasContext *s, const X86Insn *insn, const IRHelper *h)
{
    IRTemp off, sel;
    if (insn->op[0].kind == X86_OPK_FARPTR) {
        off = K(insn->op[0].imm);
        sel = K(insn->op[0].sel);
    } else if (insn->op[0].kind == X86_OPK_MEM) {
        gen_load_farptr(s, insn, &off, &sel);
    } else {
        gen_exception(s, EXC_UD, 0);
        return;
    }
    call1(s, h, 4, sel, off, K(s->next_pc), K(insn->opsize), 0, false);
    s->cc_op = CC_OP_DYNAMIC;
    gen_jmp_dynamic_key_changed(s);
}

void gen_JMPF(DisasContext *s, const X86Insn *insn) { gen_far(s, insn, &hlp_ljmp); }
void gen_CALLF(DisasContext *s, const X86Insn *insn) { gen_far(s, insn, &hlp_lcall); }

void gen_RETF(DisasContext *s, const X86Insn *insn)
{
    int64_t imm = insn->nops && insn->op[0].kind == X86_OPK_IMM ? insn->op[0].imm & 0xffff : 0;
    call1(s, &hlp_lret, 2, K(insn->opsize), K(imm), 0, 0, 0, false);
    s->cc_op = CC_OP_DYNAMIC;
    gen_jmp_dynamic_key_changed(s);
}

void gen_IRET(DisasContext *s, const X86Insn *insn)
{
    call1(s, &hlp_iret, 2, K(insn->opsize), K(s->next_pc), 0, 0, 0, false);
    s->cc_op = CC_OP_DYNAMIC;
    gen_jmp_dynamic_key_changed(s);
}

static void gen_swint(DisasContext *s, int vec, int kind)
{
    call1(s, &hlp_int, 3, K(vec), K(s->next_pc), K(kind), 0, 0, false);
    gen_jmp_dynamic_key_changed(s);
}

void gen_INT(DisasContext *s, const X86Insn *insn) { gen_swint(s, (int)(insn->op[0].imm & 0xff), 0); }
void gen_INT3(DisasContext *s, const X86Insn *insn) { gen_swint(s, EXC_BP, 1); }
void gen_INT1(DisasContext *s, const X86Insn *insn) { gen_swint(s, EXC_DB, 2); }

void gen_INTO(DisasContext *s, const X86Insn *insn)
{
    call1(s, &hlp_into, 1, K(s->next_pc), 0, 0, 0, 0, false);
    gen_jmp_dynamic_key_changed(s);
}

void gen_BOUND(DisasContext *s, const X86Insn *insn)
{
    unsigned size = insn->opsize;
    if (insn->op[1].kind != X86_OPK_MEM) {
        gen_exception(s, EXC_UD, 0);
        return;
    }
    IRTemp ea = gen_ea_offset(s, &insn->mem);
    IRTemp lin = gen_linear(s, insn->mem.seg, ea, size * 2, false);
    IRTemp lo = gen_ld(s, lin, size, true);
    IRTemp lin2 = tcg_temp(s);
    ir_add(s->b, IR_I64, lin2, lin, K(size));
    if (s->code_size != 64)
        ir_op1(s->b, IR_ext32u, IR_I64, lin2, lin2);
    IRTemp hi = gen_ld(s, lin2, size, true);
    IRTemp idx = gen_ext(s, gen_get_reg(s, insn->op[0].reg, size), size, true);
    call1(s, &hlp_bound, 3, idx, lo, hi, 0, 0, false);
}

void gen_HLT(DisasContext *s, const X86Insn *insn)
{
    call1(s, &hlp_hlt, 1, K(s->next_pc), 0, 0, 0, 0, false);
    ir_exit_tb(s->b, 0);
    s->end = DISAS_JUMPED;
}

/* ---- I/O ---- */

static IRTemp gen_port(DisasContext *s, const X86Operand *op)
{
    if (op->kind == X86_OPK_IMM)
        return K(op->imm & 0xff);
    return gen_get_reg(s, R_EDX, 2);
}

void gen_IN(DisasContext *s, const X86Insn *insn)
{
    const X86Operand *d = &insn->op[0];
    IRTemp v = call1(s, &hlp_in, 2, gen_port(s, &insn->op[1]), K(d->size), 0, 0, 0, true);
    gen_set_reg(s, R_EAX, d->size, v);
}

void gen_OUT(DisasContext *s, const X86Insn *insn)
{
    const X86Operand *src = &insn->op[1];
    IRTemp v = gen_get_reg(s, R_EAX, src->size);
    call1(s, &hlp_out, 3, gen_port(s, &insn->op[0]), v, K(src->size), 0, 0, false);
    /* A port write may raise an interrupt (PIC EOI/unmask) or stop the
     * machine (isa-debug-exit): both take effect at the next instruction
     * boundary, so the loop must look before the next instruction. */
    s->end = DISAS_STOP;
}

/* ---- string instructions ---- */

static void gen_string(DisasContext *s, const X86Insn *insn, int kind, unsigned size)
{
    int rep = STR_REP_NONE;
    bool cmp = kind == STR_CMPS || kind == STR_SCAS;
    if (insn->prefixes & X86_PFX_REP)
        rep = STR_REP_E;
    else if (insn->prefixes & X86_PFX_REPNE)
        rep = cmp ? STR_REP_NE : STR_REP_E;
    int seg = insn->seg_override != X86_SEG_NONE ? insn->seg_override : X86_SEG_DS;
    unsigned desc = (unsigned)kind | (unsigned)ot_of(size) << 4 |
                    (unsigned)ot_of(insn->addrsize) << 6 | (unsigned)rep << 8 |
                    (unsigned)seg << 12;
    call1(s, &hlp_string, 2, K(desc), K(s->next_pc), 0, 0, 0, false);
    if (cmp)
        s->cc_op = CC_OP_DYNAMIC;
    if (rep != STR_REP_NONE)
        gen_jmp_dynamic(s);   /* the helper left rip at this insn or the next */
}

static unsigned str_size(const X86Insn *insn)
{
    for (int i = 0; i < insn->nops; i++)
        if (insn->op[i].kind == X86_OPK_STR)
            return insn->op[i].size;
    return insn->op[0].size;
}

void gen_MOVS(DisasContext *s, const X86Insn *insn) { gen_string(s, insn, STR_MOVS, str_size(insn)); }
void gen_STOS(DisasContext *s, const X86Insn *insn) { gen_string(s, insn, STR_STOS, str_size(insn)); }
void gen_LODS(DisasContext *s, const X86Insn *insn) { gen_string(s, insn, STR_LODS, str_size(insn)); }
void gen_CMPS(DisasContext *s, const X86Insn *insn) { gen_string(s, insn, STR_CMPS, str_size(insn)); }
void gen_SCAS(DisasContext *s, const X86Insn *insn) { gen_string(s, insn, STR_SCAS, str_size(insn)); }
void gen_INS(DisasContext *s, const X86Insn *insn) { gen_string(s, insn, STR_INS, str_size(insn)); }
void gen_OUTS(DisasContext *s, const X86Insn *insn)
{
    gen_string(s, insn, STR_OUTS, str_size(insn));
    if (s->end == DISAS_NEXT)
        s->end = DISAS_STOP;   /* as for OUT */
}

/* ---- segment loads ---- */

void gen_LxS(DisasContext *s, const X86Insn *insn)
{
    int seg;
    switch (insn->mnem) {
    case X86_LES: seg = X86_SEG_ES; break;
    case X86_LDS: seg = X86_SEG_DS; break;
    case X86_LSS: seg = X86_SEG_SS; break;
    case X86_LFS: seg = X86_SEG_FS; break;
    default: seg = X86_SEG_GS; break;
    }
    if (insn->op[1].kind != X86_OPK_MEM) {
        gen_exception(s, EXC_UD, 0);
        return;
    }
    IRTemp off, sel;
    gen_load_farptr(s, insn, &off, &sel);
    gen_load_seg(s, seg, sel);
    gen_set_reg(s, insn->op[0].reg, insn->opsize, off);
}

/* ---- CPUID, TSC, MSRs ---- */

static void gen_env_helper(DisasContext *s, const IRHelper *h)
{
    call1(s, h, 0, 0, 0, 0, 0, 0, false);
}

void gen_CPUID(DisasContext *s, const X86Insn *insn) { gen_env_helper(s, &hlp_cpuid); }
void gen_RDTSC(DisasContext *s, const X86Insn *insn) { gen_env_helper(s, &hlp_rdtsc); }
void gen_RDTSCP(DisasContext *s, const X86Insn *insn) { gen_env_helper(s, &hlp_rdtscp); }
void gen_RDPMC(DisasContext *s, const X86Insn *insn) { gen_env_helper(s, &hlp_rdpmc); }
void gen_RDMSR(DisasContext *s, const X86Insn *insn) { gen_env_helper(s, &hlp_rdmsr); }

void gen_WRMSR(DisasContext *s, const X86Insn *insn)
{
    gen_env_helper(s, &hlp_wrmsr);
    end_block(s);
}

/* ---- descriptor tables and control registers ---- */

static void gen_dt(DisasContext *s, const X86Insn *insn, const IRHelper *h, bool load)
{
    unsigned len = s->code_size == 64 ? 10 : 6;
    IRTemp lin = gen_mem_addr(s, len, !load);
    call1(s, h, 2, lin, K(insn->opsize), 0, 0, 0, false);
    if (load)
        end_block(s);
}

void gen_LGDT(DisasContext *s, const X86Insn *insn) { gen_dt(s, insn, &hlp_lgdt, true); }
void gen_LIDT(DisasContext *s, const X86Insn *insn) { gen_dt(s, insn, &hlp_lidt, true); }
void gen_SGDT(DisasContext *s, const X86Insn *insn) { gen_dt(s, insn, &hlp_sgdt, false); }
void gen_SIDT(DisasContext *s, const X86Insn *insn) { gen_dt(s, insn, &hlp_sidt, false); }

static bool need_protected(DisasContext *s)
{
    if (!(s->flags & HF_PE) || (s->flags & HF_VM)) {
        gen_exception(s, EXC_UD, 0);
        return false;
    }
    return true;
}

static IRTemp load_sel(DisasContext *s, const X86Insn *insn)
{
    X86Operand w = insn->op[0];
    w.size = 2;
    return gen_load_operand(s, &w);
}

void gen_LLDT(DisasContext *s, const X86Insn *insn)
{
    if (!need_protected(s))
        return;
    call1(s, &hlp_lldt, 1, load_sel(s, insn), 0, 0, 0, 0, false);
}

void gen_LTR(DisasContext *s, const X86Insn *insn)
{
    if (!need_protected(s))
        return;
    call1(s, &hlp_ltr, 1, load_sel(s, insn), 0, 0, 0, 0, false);
}

static void gen_store_sel(DisasContext *s, const X86Insn *insn, size_t env_off)
{
    IRTemp v = tcg_temp(s);
    ir_ld(s->b, IR_ld16u, IR_I64, v, IR_ENV, (int64_t)env_off);
    X86Operand w = insn->op[0];
    if (w.kind == X86_OPK_MEM)
        w.size = 2;
    gen_store_operand(s, &w, v);
}

void gen_SLDT(DisasContext *s, const X86Insn *insn)
{
    if (!need_protected(s))
        return;
    gen_store_sel(s, insn, offsetof(CPUState, seg[R_LDTR].selector));
}

void gen_STR(DisasContext *s, const X86Insn *insn)
{
    if (!need_protected(s))
        return;
    gen_store_sel(s, insn, offsetof(CPUState, seg[R_TR].selector));
}

void gen_SMSW(DisasContext *s, const X86Insn *insn)
{
    IRTemp v = tcg_temp(s);
    ir_ld(s->b, IR_ld, IR_I64, v, IR_ENV, offsetof(CPUState, cr[0]));
    X86Operand w = insn->op[0];
    if (w.kind == X86_OPK_MEM)
        w.size = 2;
    gen_store_operand(s, &w, v);
}

void gen_LMSW(DisasContext *s, const X86Insn *insn)
{
    call1(s, &hlp_lmsw, 1, load_sel(s, insn), 0, 0, 0, 0, false);
    end_block(s);
}

void gen_CLTS(DisasContext *s, const X86Insn *insn)
{
    gen_env_helper(s, &hlp_clts);
    end_block(s);
}

void gen_INVLPG(DisasContext *s, const X86Insn *insn)
{
    IRTemp off = gen_ea_offset(s, &insn->mem);
    IRTemp lin = gen_linear(s, insn->mem.seg, off, 1, false);
    call1(s, &hlp_invlpg, 1, lin, 0, 0, 0, 0, false);
    end_block(s);
}

/* LAR/LSL: the helper returns the value with bit 63 set when valid and
 * sets ZF itself. */
static void gen_lar_lsl(DisasContext *s, const X86Insn *insn, const IRHelper *h)
{
    if (!need_protected(s))
        return;
    X86Operand w = insn->op[1];
    w.size = 2;
    IRTemp sel = gen_load_operand(s, &w);
    IRTemp r = call1(s, h, 1, sel, 0, 0, 0, 0, true);
    IRTemp old = gen_get_reg(s, insn->op[0].reg, insn->op[0].size);
    IRTemp v = tcg_temp(s), val = tcg_temp(s);
    ir_and(s->b, IR_I64, val, r, K(0x7fffffffffffffffLL));
    ir_movcond(s->b, IR_I64, IR_COND_LT, v, r, K(0), val, old);
    gen_set_reg(s, insn->op[0].reg, insn->op[0].size, v);
    s->cc_op = CC_OP_DYNAMIC;
}

void gen_LAR(DisasContext *s, const X86Insn *insn) { gen_lar_lsl(s, insn, &hlp_lar); }
void gen_LSL(DisasContext *s, const X86Insn *insn) { gen_lar_lsl(s, insn, &hlp_lsl); }

static void gen_verx(DisasContext *s, const X86Insn *insn, const IRHelper *h)
{
    if (!need_protected(s))
        return;
    call1(s, h, 1, load_sel(s, insn), 0, 0, 0, 0, false);
    s->cc_op = CC_OP_DYNAMIC;
}

void gen_VERR(DisasContext *s, const X86Insn *insn) { gen_verx(s, insn, &hlp_verr); }
void gen_VERW(DisasContext *s, const X86Insn *insn) { gen_verx(s, insn, &hlp_verw); }

void gen_ARPL(DisasContext *s, const X86Insn *insn)
{
    if (!need_protected(s))
        return;
    const X86Operand *d = &insn->op[0];
    /* A memory destination is read as a read and written only when the
     * RPL is raised (the host: #PF error 4, and a CS-override ARPL that
     * changes nothing completes). */
    IRTemp a = gen_load_operand(s, d);
    IRTemp bv = gen_load_operand(s, &insn->op[1]);
    IRTemp ra = tcg_temp(s), rb = tcg_temp(s), nv = tcg_temp(s), lt = tcg_temp(s);
    IRTemp f = tcg_local(s);
    ir_and(s->b, IR_I64, ra, a, K(3));
    ir_and(s->b, IR_I64, rb, bv, K(3));
    ir_setcond(s->b, IR_I64, IR_COND_LTU, lt, ra, rb);
    ir_and(s->b, IR_I64, nv, a, K(~3LL));
    ir_or(s->b, IR_I64, nv, nv, rb);
    ir_movcond(s->b, IR_I64, IR_COND_NE, nv, lt, K(0), nv, a);
    ir_mov(s->b, IR_I64, f, gen_compute_eflags(s));
    ir_and(s->b, IR_I64, f, f, K(~(int64_t)CC_Z));
    ir_op2(s->b, IR_shl, IR_I64, ra, lt, K(6));
    ir_or(s->b, IR_I64, f, f, ra);
    if (d->kind == X86_OPK_MEM) {
        uint32_t skip = ir_new_label(s->b);
        ir_brcond(s->b, IR_I64, IR_COND_EQ, lt, K(0), skip);
        gen_store_operand(s, d, nv);
        ir_set_label(s->b, skip);
    } else {
        gen_store_operand(s, d, nv);
    }
    gen_set_cc_eflags(s, f);
}

/* ---- fast system calls ---- */

void gen_SYSCALL(DisasContext *s, const X86Insn *insn)
{
    call1(s, &hlp_syscall, 1, K(s->next_pc), 0, 0, 0, 0, false);
    s->cc_op = CC_OP_DYNAMIC;
    gen_jmp_dynamic_key_changed(s);
}

void gen_SYSRET(DisasContext *s, const X86Insn *insn)
{
    call1(s, &hlp_sysret, 1, K(insn->opsize), 0, 0, 0, 0, false);
    s->cc_op = CC_OP_DYNAMIC;
    gen_jmp_dynamic_key_changed(s);
}

void gen_SYSENTER(DisasContext *s, const X86Insn *insn)
{
    gen_env_helper(s, &hlp_sysenter);
    gen_jmp_dynamic_key_changed(s);
}

void gen_SYSEXIT(DisasContext *s, const X86Insn *insn)
{
    call1(s, &hlp_sysexit, 1, K(insn->opsize), 0, 0, 0, 0, false);
    gen_jmp_dynamic_key_changed(s);
}

void gen_SWAPGS(DisasContext *s, const X86Insn *insn)
{
    gen_env_helper(s, &hlp_swapgs);
    end_block(s);
}

void gen_RDFSGSBASE(DisasContext *s, const X86Insn *insn)
{
    int seg = insn->mnem == X86_RDFSBASE ? R_FS : R_GS;
    IRTemp v = call1(s, &hlp_rdfsgsbase, 1, K(seg), 0, 0, 0, 0, true);
    gen_set_reg(s, insn->op[0].reg, insn->op[0].size, v);
}

void gen_WRFSGSBASE(DisasContext *s, const X86Insn *insn)
{
    int seg = insn->mnem == X86_WRFSBASE ? R_FS : R_GS;
    IRTemp v = gen_get_reg(s, insn->op[0].reg, insn->op[0].size);
    call1(s, &hlp_wrfsgsbase, 2, K(seg), v, 0, 0, 0, false);
    end_block(s);
}
