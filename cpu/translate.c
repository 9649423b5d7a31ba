/*
 * x86 -> IR translation: the block loop and the plumbing every handler
 * uses (registers, effective addresses, segment checks, guest memory, the
 * stack, block exits, flag liveness).  The per-mnemonic
 * handlers live in translate-ops.c.
 *
 * Precise exceptions: every instruction starts with insn_start(rip, 0);
 * a guest_ld/guest_st fault restores rip from it (IREngine.restore).
 * Helpers that can fault get rip stored first (gen_call_helper).  Handlers
 * order their work as: loads, computation, memory stores, then register
 * and flag writes, so nothing architectural changes before the last point
 * where the instruction can still fault.
 *
 * Lazy flags, pending INC/DEC and the guessed cc_op: see
 * translate-flags.c, which emits all flag computations and conditions.
 *
 * Flag liveness: after pre-decoding the block, a backward pass finds the
 * instructions whose flag results are overwritten before anything reads
 * them and before anything can fault; their cc stores are skipped.
 */
#include "cpu/translate.h"

#include <inttypes.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "core/log.h"
#include "core/util.h"
#include "cpu/debug.h"
#include "cpu/disas.h"
#include "cpu/exec.h"
#include "cpu/helpers.h"
#include "cpu/mmu.h"
#include "cpu/translate-flags.h"
#include "cpu/translate-fpu.h"

typedef struct InsnRec {
    X86Insn insn;
    uint64_t pc;
    uint8_t status;          /* X86DecodeStatus, or 0xff: #GP (CS limit) */
    bool cc_dead;
    bool cc_fault_only;
} InsnRec;

struct X86Translator {
    IRBlock *b;
    DisasContext s;
    InsnRec recs[TB_MAX_INSNS];
    uint8_t code[TLB_PAGE_SIZE + 32];
    bool bp_first;          /* a breakpoint at the block's only instruction */
};

static const char *const reg_names[16] = {
    "rax", "rcx", "rdx", "rbx", "rsp", "rbp", "rsi", "rdi",
    "r8", "r9", "r10", "r11", "r12", "r13", "r14", "r15",
};

X86Translator *x86_translator_new(void)
{
    X86Translator *t = xcalloc(1, sizeof(*t));
    IRBlock *b = ir_block_new();
    DisasContext *s = &t->s;
    for (int i = 0; i < 16; i++)
        s->regs[i] = ir_global(b, IR_I64, offsetof(CPUState, regs[i]), reg_names[i]);
    s->rip = ir_global(b, IR_I64, offsetof(CPUState, rip), "rip");
    s->cc_dst = ir_global(b, IR_I64, offsetof(CPUState, cc_dst), "cc_dst");
    s->cc_src = ir_global(b, IR_I64, offsetof(CPUState, cc_src), "cc_src");
    s->cc_src2 = ir_global(b, IR_I64, offsetof(CPUState, cc_src2), "cc_src2");
    s->cc_op_g = ir_global(b, IR_I32, offsetof(CPUState, cc_op), "cc_op");
    s->cc_pend_op_g = ir_global(b, IR_I32, offsetof(CPUState, cc_pend_op), "cc_pend_op");
    t->b = b;
    return t;
}

void x86_translator_free(X86Translator *t)
{
    if (!t)
        return;
    ir_block_free(t->b);
    free(t);
}

/* ---- temps ---- */

IRTemp tcg_temp(DisasContext *s) { return ir_temp(s->b, IR_I64); }
IRTemp tcg_local(DisasContext *s) { return ir_local(s->b, IR_I64); }
IRTemp tcg_const(DisasContext *s, int64_t v) { return ir_const(s->b, IR_I64, v); }
IRTemp tcg_const32(DisasContext *s, int32_t v) { return ir_const(s->b, IR_I32, v); }

IRTemp gen_ext(DisasContext *s, IRTemp v, unsigned size, bool sign)
{
    IRTemp t = tcg_temp(s);
    static const IROpcode zx[] = { IR_ext8u, IR_ext16u, IR_ext32u };
    static const IROpcode sx[] = { IR_ext8s, IR_ext16s, IR_ext32s };
    if (size >= 8) {
        ir_mov(s->b, IR_I64, t, v);
        return t;
    }
    ir_op1(s->b, (sign ? sx : zx)[ot_of(size)], IR_I64, t, v);
    return t;
}

/* ---- registers ---- */

IRTemp gen_get_reg(DisasContext *s, int reg, unsigned size)
{
    IRTemp t = tcg_temp(s);
    if (reg >= 16 && reg < 20) {
        ir_extract(s->b, IR_I64, t, s->regs[reg - 16], 8, 8);
        return t;
    }
    if (size >= 8) {
        ir_mov(s->b, IR_I64, t, s->regs[reg & 15]);
        return t;
    }
    return gen_ext(s, s->regs[reg & 15], size, false);
}

void gen_set_reg(DisasContext *s, int reg, unsigned size, IRTemp v)
{
    if (reg >= 16 && reg < 20) {
        ir_deposit(s->b, IR_I64, s->regs[reg - 16], s->regs[reg - 16], v, 8, 8);
        return;
    }
    IRTemp r = s->regs[reg & 15];
    switch (size) {
    case 1: ir_deposit(s->b, IR_I64, r, r, v, 0, 8); break;
    case 2: ir_deposit(s->b, IR_I64, r, r, v, 0, 16); break;
    case 4: ir_op1(s->b, IR_ext32u, IR_I64, r, v); break;
    default: ir_mov(s->b, IR_I64, r, v); break;
    }
}

/* ---- helpers and exceptions ---- */

/* -icount: the instructions of the block not completed if the current
 * one faults now (itself included). */
static int32_t icount_unexec_here(const DisasContext *s)
{
    return s->ninsns - s->insn_index;
}

static void gen_store_unexec(DisasContext *s, int32_t n)
{
    ir_st(s->b, IR_st, IR_I32, tcg_const32(s, n), IR_ENV, offsetof(CPUState, icount_unexec));
}

void gen_sync_rip(DisasContext *s)
{
    ir_movi(s->b, IR_I64, s->rip, (int64_t)s->pc);
    if (s->icount)
        gen_store_unexec(s, icount_unexec_here(s));
}

void gen_call_helper(DisasContext *s, const IRHelper *h, IRTemp out, int nargs,
                     const IRTemp *args)
{
    const unsigned no_globals = IR_CALL_NO_READ_GLOBALS | IR_CALL_NO_WRITE_GLOBALS;
    if ((h->flags & no_globals) != no_globals)
        gen_cc_settle(s);      /* the helper may read or write the flags */
    if (h->flags & IR_CALL_CAN_FAULT)
        gen_sync_rip(s);
    ir_call(s->b, h, IR_I64, out ? 1 : 0, out, nargs, args);
}

void gen_exception(DisasContext *s, int vec, uint32_t err)
{
    IRTemp args[3] = { IR_ENV, tcg_const(s, vec), tcg_const(s, err) };
    gen_call_helper(s, &hlp_raise_exception, 0, 3, args);
    ir_exit_tb(s->b, 0);
    s->end = DISAS_JUMPED;
}

/* ---- block exits ---- */

/* Every way out of a block to another block passes here. */
static void gen_tf_trap(DisasContext *s)
{
    gen_cc_settle(s);
    if (s->flags & HF_TF) {
        IRTemp args[1] = { IR_ENV };
        if (s->icount)
            gen_store_unexec(s, 0);      /* the trap comes after the instruction */
        ir_call(s->b, &hlp_single_step, IR_I64, 0, 0, 1, args);
    }
}

/* The jump-cache key of the block being translated.  cs base and the
 * mode flags are part of the TB key, and every instruction that changes
 * them ends its block through gen_jmp_dynamic_key_changed() or an exit,
 * so near jumps can compare against translation-time constants. */
static uint64_t gen_jc_key(DisasContext *s)
{
    return tb_jc_key(s->cs_base, s->flags & HF_KEY_MASK);
}

/* Probes the jump-cache entry at `entry` (an i64 host pointer) for linear
 * pc `lin` and jumps to its code on a hit; a miss branches to `miss`.
 * A hit skips the execution loop, so the next block's exit-budget
 * countdown is what still bounds the time between interrupt polls. */
static void gen_jc_probe(DisasContext *s, IRTemp entry, IRTemp lin, uint32_t miss)
{
    IRTemp v = tcg_temp(s);
    ir_ld(s->b, IR_ld, IR_I64, v, entry, offsetof(TBJCEntry, pc));
    ir_brcond(s->b, IR_I64, IR_COND_NE, v, lin, miss);
    ir_ld(s->b, IR_ld, IR_I64, v, entry, offsetof(TBJCEntry, key));
    ir_brcond(s->b, IR_I64, IR_COND_NE, v, tcg_const(s, (int64_t)gen_jc_key(s)), miss);
    ir_ld(s->b, IR_ld, IR_I64, v, entry, offsetof(TBJCEntry, code));
    ir_goto_ptr(s->b, v);
}

/* Must this block return to the loop, not go on to another block?  After
 * TF single steps, one-shot blocks and interrupt shadows (the loop checks
 * interrupts after them). */
static bool gen_block_must_exit(DisasContext *s)
{
    return (s->tb->cflags & TB_CF_NOCACHE) || (s->flags & (HF_TF | TB_KEY_ONE_INSN)) ||
           s->icount_exit;
}

/* Can this block leave through the jump cache?  Not when it must return
 * to the loop, not when its key cannot be packed into an entry, and not
 * without a TB cache (a test translating blocks on its own). */
static bool gen_jc_usable(DisasContext *s)
{
    return s->cpu->tbs && !gen_block_must_exit(s) && gen_jc_key(s) != TB_JC_NOKEY;
}

/* After a jump-cache miss: the helper looks in the hash table (entries
 * are lost on every TLB flush, the blocks are not) and refills the entry;
 * 0 means translate or fault in the loop, which goto_ptr exits to. */
static void gen_lookup_miss(DisasContext *s)
{
    IRTemp p = tcg_temp(s);
    IRTemp args[1] = { IR_ENV };
    ir_call(s->b, &hlp_lookup_tb_ptr, IR_I64, 1, p, 1, args);
    ir_goto_ptr(s->b, p);
}

static const TBJCEntry *gen_jc_table(DisasContext *s)
{
    return tb_jc_table(s->cpu->tbs);
}

/* Direct jumps: a chained goto_tb does not store rip, only its not-yet-
 * chained fallthrough does.  The block it enters does not need it: its
 * faults restore rip from insn_start, helpers that can fault get it stored
 * first, and its exit-budget exit stores its own rip (gen_stubs).  (The
 * jump-cache path keeps the store: the interpreter's goto_ptr returns to
 * the loop, which reads rip.) */
void gen_jmp_static(DisasContext *s, uint64_t target_rip, int slot)
{
    uint64_t lin = s->cs_base + target_rip;
    if (s->code_size != 64)
        lin = (uint32_t)lin;
    bool same_page = (lin & TLB_PAGE_MASK) == (s->tb->pc & TLB_PAGE_MASK);
    bool chain = same_page && !gen_block_must_exit(s);
    if (!chain)
        ir_movi(s->b, IR_I64, s->rip, (int64_t)target_rip);
    gen_tf_trap(s);
    if (chain) {
        ir_goto_tb(s->b, slot);
        ir_movi(s->b, IR_I64, s->rip, (int64_t)target_rip);   /* not chained yet */
        ir_exit_tb(s->b, (uint64_t)(uintptr_t)s->tb | (slot + 1));
    } else if (gen_jc_usable(s)) {
        /* Another page may map elsewhere next time, so no direct chain:
         * the jump cache (flushed with the TLB) is keyed by virtual pc.
         * The entry's address is a constant here. */
        uint32_t miss = ir_new_label(s->b);
        const TBJCEntry *e = &gen_jc_table(s)[tb_jc_index(lin)];
        gen_jc_probe(s, tcg_const(s, (int64_t)(uintptr_t)e), tcg_const(s, (int64_t)lin), miss);
        ir_set_label(s->b, miss);
        gen_lookup_miss(s);
    } else {
        ir_exit_tb(s->b, 0);
    }
    s->end = DISAS_JUMPED;
}

/* The linear pc of the new rip: cs base + rip, 32 bits outside 64-bit code. */
static IRTemp gen_linear_rip(DisasContext *s)
{
    IRTemp lin = tcg_temp(s);
    ir_add(s->b, IR_I64, lin, s->rip, tcg_const(s, (int64_t)s->cs_base));
    if (s->code_size != 64)
        ir_op1(s->b, IR_ext32u, IR_I64, lin, lin);
    return lin;
}

void gen_jmp_dynamic(DisasContext *s)
{
    gen_tf_trap(s);
    if (!gen_jc_usable(s)) {
        ir_exit_tb(s->b, 0);
        s->end = DISAS_JUMPED;
        return;
    }
    /* entry = table + ((lin ^ lin >> TB_JC_BITS) & (size - 1)) * 32, as tb_jc_index */
    IRTemp lin = gen_linear_rip(s);
    IRTemp h = tcg_temp(s);
    ir_op2(s->b, IR_shr, IR_I64, h, lin, tcg_const(s, TB_JC_BITS));
    ir_xor(s->b, IR_I64, h, h, lin);
    ir_and(s->b, IR_I64, h, h, tcg_const(s, TB_JC_SIZE - 1));
    ir_op2(s->b, IR_shl, IR_I64, h, h, tcg_const(s, 5));
    ir_add(s->b, IR_I64, h, h, tcg_const(s, (int64_t)(uintptr_t)gen_jc_table(s)));
    uint32_t miss = ir_new_label(s->b);
    gen_jc_probe(s, h, lin, miss);
    ir_set_label(s->b, miss);
    gen_lookup_miss(s);
    s->end = DISAS_JUMPED;
}

void gen_jmp_dynamic_key_changed(DisasContext *s)
{
    gen_tf_trap(s);
    if (gen_block_must_exit(s)) {
        ir_exit_tb(s->b, 0);
    } else {
        gen_lookup_miss(s);   /* the helper builds the key at run time */
    }
    s->end = DISAS_JUMPED;
}

uint64_t mask_ip(DisasContext *s, uint64_t ip, unsigned opsize)
{
    if (opsize == 2)
        return ip & 0xffff;
    if (opsize == 4)
        return ip & 0xffffffffu;
    return ip;
}

/* ---- memory ---- */

IRTemp gen_trunc_addr(DisasContext *s, IRTemp off, unsigned addrsize)
{
    if (addrsize >= 8)
        return off;
    return gen_ext(s, off, addrsize, false);
}

IRTemp gen_ea_offset(DisasContext *s, const X86Mem *m)
{
    const X86Insn *insn = s->insn;
    IRTemp ea = tcg_temp(s);
    if (m->rip_relative) {
        ir_movi(s->b, IR_I64, ea, (int64_t)(s->next_pc + (uint64_t)m->disp));
        return gen_trunc_addr(s, ea, insn->addrsize);
    }
    ir_movi(s->b, IR_I64, ea, m->disp);
    if (m->base != X86_GPR_NONE)
        ir_add(s->b, IR_I64, ea, ea, s->regs[m->base & 15]);
    if (m->index != X86_GPR_NONE) {
        IRTemp ix = tcg_temp(s);
        int sh = m->scale == 8 ? 3 : m->scale == 4 ? 2 : m->scale == 2 ? 1 : 0;
        ir_op2(s->b, IR_shl, IR_I64, ix, s->regs[m->index & 15], tcg_const(s, sh));
        ir_add(s->b, IR_I64, ea, ea, ix);
    }
    return gen_trunc_addr(s, ea, insn->addrsize);
}

uint32_t gen_new_stub(DisasContext *s, int seg)
{
    if (s->nstubs >= (int)ARRAY_SIZE(s->stubs))
        abort();   /* bounded by TB_MAX_INSNS * 4 checks */
    uint32_t l = ir_new_label(s->b);
    s->stubs[s->nstubs].label = l;
    s->stubs[s->nstubs].pc = s->pc;
    s->stubs[s->nstubs].seg = seg;
    s->stubs[s->nstubs].unexec = icount_unexec_here(s);
    s->nstubs++;
    return l;
}

/* Limit/rights check of [off, off+size) in seg: branches to a stub that
 * raises #GP(0) / #SS(0). */
static void gen_seg_check(DisasContext *s, int seg, IRTemp off, unsigned size, bool write)
{
    size_t lo_off = offsetof(CPUState, seg[seg]) +
                    (write ? offsetof(SegmentCache, wr_lo) : offsetof(SegmentCache, rd_lo));
    size_t span_off = offsetof(CPUState, seg[seg]) +
                      (write ? offsetof(SegmentCache, wr_span) : offsetof(SegmentCache, rd_span));
    IRTemp lo = tcg_temp(s), span = tcg_temp(s), t = tcg_temp(s);
    ir_ld(s->b, IR_ld, IR_I64, lo, IR_ENV, (int64_t)lo_off);
    ir_ld(s->b, IR_ld, IR_I64, span, IR_ENV, (int64_t)span_off);
    ir_sub(s->b, IR_I64, t, off, lo);
    if (size > 1) {
        /* span < size-1 (a null, not-present or tiny segment) would wrap
         * the subtraction below and let every offset pass */
        uint32_t stub = gen_new_stub(s, seg);
        ir_brcond(s->b, IR_I64, IR_COND_LTU, span, tcg_const(s, size - 1), stub);
        ir_sub(s->b, IR_I64, span, span, tcg_const(s, size - 1));
        ir_brcond(s->b, IR_I64, IR_COND_GTU, t, span, stub);
        return;
    }
    ir_brcond(s->b, IR_I64, IR_COND_GTU, t, span, gen_new_stub(s, seg));
}

/* ---- 64-bit near branch targets ---- */

/* A near branch to a non-canonical target raises #GP(0) at the branch, with
 * nothing changed (SDM 2A JMP/CALL/Jcc, 2B RET, 3A 6.5), rather than at the
 * fetch of the target.  Only 64-bit code can form such a target. */
static bool target_noncanonical(const DisasContext *s, uint64_t target)
{
    return s->code_size == 64 && (uint64_t)((int64_t)(target << 16) >> 16) != target;
}

/* Label of an out-of-line stub raising #GP(0) at this instruction for a
 * static non-canonical target, or 0 when the target is fine. */
uint32_t gen_static_target_fault(DisasContext *s, uint64_t target)
{
    return target_noncanonical(s, target) ? gen_new_stub(s, X86_SEG_CS) : 0;
}

/* Run-time check of a computed target (indirect JMP/CALL, RET), emitted
 * before the instruction changes any state: canonical means bits 63..47
 * all equal, i.e. target >> 47 (arithmetic) is 0 or -1, i.e. that plus
 * one is at most 1 unsigned -- small immediates only, no 64-bit ones. */
void gen_check_branch_target(DisasContext *s, IRTemp target)
{
    if (s->code_size != 64)
        return;
    IRTemp t = tcg_temp(s);
    ir_op2(s->b, IR_sar, IR_I64, t, target, tcg_const(s, 47));
    ir_add(s->b, IR_I64, t, t, tcg_const(s, 1));
    ir_brcond(s->b, IR_I64, IR_COND_GTU, t, tcg_const(s, 1), gen_new_stub(s, X86_SEG_CS));
}

IRTemp gen_linear(DisasContext *s, int seg, IRTemp off, unsigned size, bool write)
{
    if (s->code_size == 64) {
        if (seg == X86_SEG_SS && s->nss_lin < (int)ARRAY_SIZE(s->ss_lin)) {
            /* a distinct temp so gen_ld/gen_st can mark the access */
            IRTemp lin = tcg_temp(s);
            ir_mov(s->b, IR_I64, lin, off);
            s->ss_lin[s->nss_lin++] = lin;
            return lin;
        }
        if (seg != X86_SEG_FS && seg != X86_SEG_GS)
            return off;
        IRTemp base = tcg_temp(s), lin = tcg_temp(s);
        ir_ld(s->b, IR_ld, IR_I64, base, IR_ENV, offsetof(CPUState, seg[seg].base));
        ir_add(s->b, IR_I64, lin, off, base);
        return lin;
    }
    /* FLAT covers the limits of CS but not its rights: a CS-override
     * access (rare) is checked (write: #GP(0); execute-only: no read). */
    if ((s->flags & HF_FLAT) && seg <= X86_SEG_DS && seg != X86_SEG_CS)
        return off;
    gen_seg_check(s, seg, off, size, write);
    IRTemp base = tcg_temp(s), lin = tcg_temp(s);
    ir_ld(s->b, IR_ld, IR_I64, base, IR_ENV, offsetof(CPUState, seg[seg].base));
    ir_add(s->b, IR_I64, lin, off, base);
    ir_op1(s->b, IR_ext32u, IR_I64, lin, lin);
    return lin;
}

IRTemp gen_mem_addr(DisasContext *s, unsigned size, bool write)
{
    if (s->mem_addr && (s->mem_addr_write || !write))
        return s->mem_addr;
    IRTemp off = gen_ea_offset(s, &s->insn->mem);
    int seg = s->insn->mem.seg;
    uint8_t base = s->insn->mem.base;
    /* 64-bit mode ignores CS/DS/ES/SS overrides: an address based on
     * rSP/rBP is a stack reference (#SS(0) when non-canonical, also with
     * an override, as the host does). */
    if (s->code_size == 64 && seg != X86_SEG_FS && seg != X86_SEG_GS &&
        !s->insn->mem.rip_relative && base != X86_GPR_NONE &&
        ((base & 15) == R_ESP || (base & 15) == R_EBP))
        seg = X86_SEG_SS;
    s->mem_addr = gen_linear(s, seg, off, size ? size : 1, write);
    s->mem_addr_write = write;
    return s->mem_addr;
}

static IRMemOp gen_memop(DisasContext *s, IRTemp lin, unsigned size, bool sign)
{
    IRMemOp mo = ir_memop((unsigned)ot_of(size), sign, s->mmu);
    if (s->flags & HF_AC)
        mo |= IR_MO_ALIGN_CHECK;
    for (int i = 0; i < s->nss_lin; i++)
        if (s->ss_lin[i] == lin)
            mo |= MO_STACK;
    return mo;
}

IRTemp gen_ld(DisasContext *s, IRTemp lin, unsigned size, bool sign)
{
    IRTemp v = tcg_temp(s);
    ir_guest_ld(s->b, IR_I64, v, lin, gen_memop(s, lin, size, sign));
    return v;
}

void gen_st(DisasContext *s, IRTemp lin, IRTemp v, unsigned size)
{
    ir_guest_st(s->b, IR_I64, v, lin, gen_memop(s, lin, size, false));
}

/* ---- LOCK: atomic read-modify-write of the memory operand ---- */

bool gen_is_locked(DisasContext *s, const X86Operand *d)
{
    return (s->insn->prefixes & X86_PFX_LOCK) && d->kind == X86_OPK_MEM;
}

IRTemp gen_atomic(DisasContext *s, const X86Operand *d, IRAtomicOp op, IRTemp v, IRTemp nv)
{
    IRTemp lin = gen_mem_addr(s, d->size, true);
    IRTemp old = tcg_temp(s);
    ir_guest_atomic(s->b, IR_I64, old, lin, v, nv, gen_memop(s, lin, d->size, false), op);
    return old;
}

/* ---- operands ---- */

IRTemp gen_load_operand(DisasContext *s, const X86Operand *op)
{
    IRTemp t;
    switch (op->kind) {
    case X86_OPK_REG:
        return gen_get_reg(s, op->reg, op->size);
    case X86_OPK_MEM:
        return gen_ld(s, gen_mem_addr(s, op->size, false), op->size, false);
    case X86_OPK_IMM:
    case X86_OPK_REL:
        /* Already sign- or zero-extended by the decoder to the operation
         * size; consumers truncate to their own size. */
        return tcg_const(s, op->imm);
    case X86_OPK_SEGREG:
        t = tcg_temp(s);
        ir_ld(s->b, IR_ld16u, IR_I64, t, IR_ENV, offsetof(CPUState, seg[op->reg & 7].selector));
        return t;
    default:
        return tcg_const(s, 0);
    }
}

IRTemp gen_load_dest(DisasContext *s, const X86Operand *op)
{
    if (op->kind == X86_OPK_MEM) {
        IRTemp v = tcg_temp(s), lin = gen_mem_addr(s, op->size, true);
        ir_guest_ld(s->b, IR_I64, v, lin,
                    gen_memop(s, lin, op->size, false) | IR_MO_WRITE_INTENT);
        return v;
    }
    return gen_load_operand(s, op);
}

void gen_store_operand(DisasContext *s, const X86Operand *op, IRTemp v)
{
    switch (op->kind) {
    case X86_OPK_REG:
        gen_set_reg(s, op->reg, op->size, v);
        break;
    case X86_OPK_MEM:
        gen_st(s, gen_mem_addr(s, op->size, true), v, op->size);
        break;
    default:
        break;
    }
}

/* ---- stack ---- */

unsigned stack_addr_size(DisasContext *s)
{
    if (s->code_size == 64)
        return 8;
    return (s->flags & HF_SS32) ? 4 : 2;
}

IRTemp gen_push_addr(DisasContext *s, unsigned size, IRTemp *new_sp)
{
    unsigned ss = stack_addr_size(s);
    IRTemp sp = tcg_temp(s);
    ir_sub(s->b, IR_I64, sp, s->regs[R_ESP], tcg_const(s, size));
    sp = gen_trunc_addr(s, sp, ss);
    *new_sp = sp;
    return gen_linear(s, X86_SEG_SS, sp, size, true);
}

void gen_set_sp(DisasContext *s, IRTemp new_sp)
{
    gen_set_reg(s, R_ESP, stack_addr_size(s), new_sp);
}

void gen_push(DisasContext *s, IRTemp v, unsigned size)
{
    IRTemp sp;
    IRTemp lin = gen_push_addr(s, size, &sp);
    gen_st(s, lin, v, size);
    gen_set_sp(s, sp);
}

IRTemp gen_pop_value(DisasContext *s, unsigned size, IRTemp *new_sp)
{
    unsigned ss = stack_addr_size(s);
    IRTemp sp = gen_trunc_addr(s, s->regs[R_ESP], ss);
    IRTemp lin = gen_linear(s, X86_SEG_SS, sp, size, false);
    IRTemp v = gen_ld(s, lin, size, false);
    IRTemp nsp = tcg_temp(s);
    ir_add(s->b, IR_I64, nsp, sp, tcg_const(s, size));
    *new_sp = gen_trunc_addr(s, nsp, ss);
    return v;
}

/* Whether the translation of r certainly computes all six flags
 * (gen_compute_eflags): BT* and rotates that keep the flags they do not
 * define.  (ROL/ROR of a dword/qword by an immediate that masks to zero
 * change nothing and read nothing.) */
static bool insn_reads_eflags(const InsnRec *r)
{
    const X86Insn *insn = &r->insn;
    switch (insn->mnem) {
    case X86_BT: case X86_BTS: case X86_BTR: case X86_BTC:
        return !r->cc_dead;
    case X86_RCL: case X86_RCR:
        return true;
    case X86_ROL: case X86_ROR: {
        const X86Operand *d = &insn->op[0], *c = &insn->op[1];
        if (d->size != 4 && d->size != 8)
            return true;
        return !r->cc_dead && !(c->kind == X86_OPK_IMM && (c->imm & (8 * d->size - 1)) == 0);
    }
    default:
        return false;
    }
}

/* Guessed cc_op (see the top of the file): this instruction's condition,
 * CF or six flags, computed at its start -- no temp is live across the
 * branch. */
static void gen_cc_guess_insn(DisasContext *s, const InsnRec *r)
{
    s->guessed_cf = 0;
    s->guessed_cond = 0;
    s->guessed_eflags = 0;
    if (s->cc_op != CC_OP_DYNAMIC || s->cc_pend || r->status != X86_DECODE_OK)
        return;
    const X86Insn *insn = &r->insn;
    int m = insn->mnem;
    bool cond_reader = m == X86_JCC || m == X86_SETCC || m == X86_CMOVCC;
    bool cf_reader = m == X86_ADC || m == X86_SBB ||
                     ((m == X86_INC || m == X86_DEC) && !r->cc_dead && !r->cc_fault_only);
    bool all_reader = !cond_reader && !cf_reader && insn_reads_eflags(r);
    if (!(cond_reader || cf_reader || all_reader))
        return;
    if (all_reader) {
        /* no guess: the common kinds are checked at run time */
        s->guessed_eflags = gen_flags_dynamic(s);
        return;
    }
    if (s->cc_guess < 0 || !cc_guess_useful(s, cond_reader, insn->cond))
        return;
    IRTemp t = tcg_local(s);
    uint32_t slow = ir_new_label(s->b), done = ir_new_label(s->b);
    ir_brcond(s->b, IR_I32, IR_COND_NE, s->cc_op_g, tcg_const32(s, s->cc_guess), slow);
    for (int guessed = 1; guessed >= 0; guessed--) {
        s->cc_op = guessed ? s->cc_guess : CC_OP_DYNAMIC;
        IRTemp v = cond_reader ? gen_cond_value(s, insn->cond) : gen_compute_cf_static(s);
        ir_mov(s->b, IR_I64, t, v);
        if (guessed) {
            ir_br(s->b, done);
            ir_set_label(s->b, slow);
        }
    }
    ir_set_label(s->b, done);
    if (cond_reader)
        s->guessed_cond = t;
    else
        s->guessed_cf = t;
}

/* ---- pre-decoding and liveness ---- */

static X86CpuMode decode_mode(uint32_t hf)
{
    if (hf & HF_CS64)
        return X86_MODE64;
    return (hf & HF_CS32) ? X86_MODE32 : X86_MODE16;
}

/* Decodes the block's instructions into t->recs; returns how many, 0 when
 * the first cannot be fetched (*fault_lin set). */
/* On a CPU without BMI1 / LZCNT the F3 prefix of F3 0F BC / F3 0F BD is
 * ignored: they run as BSF / BSR (SDM TZCNT/LZCNT notes).  Software such as
 * Linux relies on that, so the model decides before anything else looks
 * at the instruction (flag liveness included). */
static void apply_model_encodings(const CPUState *cpu, X86Insn *insn)
{
    if (insn->mnem == X86_TZCNT && !cpu_has_feature(cpu, X86_FEAT_BMI1)) {
        insn->mnem = X86_BSF;
        insn->feature = X86_FEAT_NONE;
    } else if (insn->mnem == X86_LZCNT && !cpu_has_feature(cpu, X86_FEAT_LZCNT)) {
        insn->mnem = X86_BSR;
        insn->feature = X86_FEAT_NONE;
    }
}

/* -icount: instructions after which the block ends and returns to the
 * loop (cpu/exec.c "Instruction counting"): device I/O, clock reads,
 * and everything that may unmask an interrupt or change the translation. */
static bool icount_ends_block(const X86Insn *insn)
{
    if (insn->flags & (X86_F_IO | X86_F_SERIAL | X86_F_ENDBLOCK))
        return true;
    switch (insn->mnem) {
    case X86_RDTSC: case X86_RDTSCP: case X86_RDPMC: case X86_RDMSR: case X86_WRMSR:
        return true;
    default:
        return false;
    }
}

static int predecode(X86Translator *t, CPUState *cpu, TB *tb, int max_insns,
                     uint64_t *fault_lin)
{
    uint64_t pc0 = tb->pc;
    bool wide = tb->flags & HF_CS64;
    size_t page_rem = TLB_PAGE_SIZE - (pc0 & ~TLB_PAGE_MASK);
    size_t want = page_rem + 15;
    uint64_t phys0;
    size_t have = mmu_fetch_code(cpu, pc0, t->code, want, &phys0);
    /* Bytes past the CS limit cannot be executed. */
    size_t limit_avail = want;
    uint64_t rip0 = cpu->rip;
    if (!wide) {
        uint64_t lim = cpu->seg[R_CS].limit;
        limit_avail = rip0 > lim ? 0 : (size_t)MIN((uint64_t)want, lim - rip0 + 1);
    }
    size_t avail = MIN(have, limit_avail);
    X86CpuMode mode = decode_mode(tb->flags);
    size_t off = 0;
    int n = 0;
    t->bp_first = false;
    while (n < max_insns) {
        if (n > 0 && off >= page_rem)
            break;
        /* Breakpoints (cpu/debug.h): a block ends before one, or is the
         * instruction at one alone. */
        if ((cpu->dbg || (cpu->dr[7] & 0xff)) &&
            cpu_debug_insn_bp(cpu, wide ? pc0 + off : (uint32_t)(pc0 + off))) {
            if (n > 0)
                break;
            t->bp_first = true;
        }
        InsnRec *r = &t->recs[n];
        r->pc = rip0 + off;
        r->cc_dead = false;
        X86DecodeStatus st = off < avail ? x86_decode(t->code + off, avail - off, mode, &r->insn)
                                         : X86_DECODE_NEED_MORE;
        if (st == X86_DECODE_OK)
            apply_model_encodings(cpu, &r->insn);
        if (st == X86_DECODE_NEED_MORE) {
            if (n > 0)
                break;
            if (avail < have || limit_avail < want) {
                /* stopped by the CS limit: #GP(0) */
                if (have >= limit_avail) {
                    r->status = 0xff;
                    memset(&r->insn, 0, sizeof(r->insn));
                    r->insn.length = 1;
                    n = 1;
                    break;
                }
            }
            *fault_lin = pc0 + have;
            if (!wide)
                *fault_lin = (uint32_t)*fault_lin;
            return 0;
        }
        r->status = (uint8_t)st;
        if (st != X86_DECODE_OK) {
            r->insn.length = r->insn.length ? r->insn.length : 1;
            n++;
            off += r->insn.length;
            break;
        }
        n++;
        off += r->insn.length;
        if (r->insn.flags & (X86_F_BRANCH | X86_F_ENDBLOCK | X86_F_SERIAL | X86_F_UNIMPL))
            break;
        if (cpu->icount_mode && icount_ends_block(&r->insn))
            break;
        if (off > page_rem)
            break;     /* this one crossed into the next page */
        if ((tb->flags & HF_TF) || t->bp_first)
            break;
    }
    tb->size = (uint32_t)off;
    tb->icount = (uint32_t)n;
    if (off > page_rem) {
        uint64_t p2;
        uint64_t lin2 = (pc0 & TLB_PAGE_MASK) + TLB_PAGE_SIZE;
        if (!wide)
            lin2 = (uint32_t)lin2;
        if (mmu_code_phys_probe(cpu, lin2, &p2))
            tb->phys_page2 = p2 & TLB_PAGE_MASK;
    }
    return n;
}

static bool insn_may_fault(const InsnRec *r, const X86OpInfo *info)
{
    if (r->status != X86_DECODE_OK || !info->gen)
        return true;
    if (fpu_insn_checks_cr0(&r->insn))
        return true;              /* #NM/#UD from CR0/CR4 */
    if (r->insn.prefixes & X86_PFX_LOCK)
        return true;
    if (r->insn.flags & (X86_F_PRIV | X86_F_IO))
        return true;
    return info->fault || r->insn.mem.present;
}

/* Backward pass: which instructions' flag results are dead. */
static void compute_flag_liveness(X86Translator *t, int n)
{
    uint32_t live = CC_ALL;   /* the next block may read anything */
    uint32_t read = CC_ALL;   /* the same, not counting faults */
    for (int i = n - 1; i >= 0; i--) {
        InsnRec *r = &t->recs[i];
        const X86OpInfo *info = r->status == X86_DECODE_OK ? &x86_op_info[r->insn.mnem]
                                                           : &x86_op_info[0];
        r->cc_dead = info->cc_write && (live & CC_ALL) == 0;
        r->cc_fault_only = info->cc_write && !r->cc_dead && (read & CC_ALL) == 0;
        uint32_t before = info->cc_write ? 0 : live;
        uint32_t before_read = info->cc_write ? 0 : read;
        before |= info->res_read;
        before_read |= info->res_read;
        if (!r->cc_dead)
            before |= info->cc_read;
        if (!r->cc_dead && !r->cc_fault_only)
            before_read |= info->cc_read;
        if (insn_may_fault(r, info))
            before = CC_ALL;
        live = before;
        read = before_read;
    }
}

/* ---- the block ---- */

/* -icount: a kick (exit_budget < 0) leaves as before; then the block
 * takes its instructions from icount_budget, or leaves without running
 * when fewer are left (the loop then runs a shorter copy). */
static void gen_block_prologue_icount(DisasContext *s, uint32_t exit_label)
{
    IRTemp k = ir_temp(s->b, IR_I32);
    ir_ld(s->b, IR_ld, IR_I32, k, IR_ENV, offsetof(CPUState, exit_budget));
    ir_brcond(s->b, IR_I32, IR_COND_LT, k, tcg_const32(s, 0), exit_label);
    IRTemp b = ir_temp(s->b, IR_I32);
    ir_ld(s->b, IR_ld, IR_I32, b, IR_ENV, offsetof(CPUState, icount_budget));
    ir_sub(s->b, IR_I32, b, b, tcg_const32(s, s->ninsns));
    ir_brcond(s->b, IR_I32, IR_COND_LT, b, tcg_const32(s, 0), exit_label);
    ir_st(s->b, IR_st, IR_I32, b, IR_ENV, offsetof(CPUState, icount_budget));
}

static void gen_block_prologue(DisasContext *s, uint32_t exit_label)
{
    if (s->icount) {
        gen_block_prologue_icount(s, exit_label);
        return;
    }
    /* Every block entry counts down the budget: the loop gets control
     * back for interrupts, stop requests and timers (chained blocks never
     * return otherwise).  A kick from another thread (-1) that lands
     * between this load and store is overwritten; the budget then runs
     * out at most EXIT_BUDGET_BLOCKS blocks later and the loop sees the
     * request (a full-width store: a narrower one would stall the next
     * block's load on store forwarding, at every block). */
    IRTemp b = ir_temp(s->b, IR_I32);
    ir_ld(s->b, IR_ld, IR_I32, b, IR_ENV, offsetof(CPUState, exit_budget));
    ir_sub(s->b, IR_I32, b, b, tcg_const32(s, 1));
    ir_st(s->b, IR_st, IR_I32, b, IR_ENV, offsetof(CPUState, exit_budget));
    ir_brcond(s->b, IR_I32, IR_COND_LT, b, tcg_const32(s, 0), exit_label);
}

static void gen_stubs(DisasContext *s, uint32_t exit_label)
{
    ir_set_label(s->b, exit_label);
    ir_st(s->b, IR_st, IR_I32, tcg_const32(s, 1), IR_ENV, offsetof(CPUState, block_not_run));
    ir_movi(s->b, IR_I64, s->rip, (int64_t)s->block_rip);   /* see gen_jmp_static */
    ir_exit_tb(s->b, 0);
    for (int i = 0; i < s->nstubs; i++) {
        ir_set_label(s->b, s->stubs[i].label);
        ir_movi(s->b, IR_I64, s->rip, (int64_t)s->stubs[i].pc);
        if (s->icount)
            gen_store_unexec(s, s->stubs[i].unexec);
        IRTemp args[2] = { IR_ENV, tcg_const(s, s->stubs[i].seg) };
        ir_call(s->b, &hlp_seg_fault, IR_I64, 0, 0, 2, args);
        ir_exit_tb(s->b, 0);
    }
}

static bool feature_supported(const CPUState *cpu, int feat)
{
    return cpu_has_feature(cpu, feat);   /* the CPU model (cpu/cpu-models.c) */
}

static void log_guest_code(CPUState *cpu, TB *tb, X86Translator *t)
{
    log_printf("IN: pc=%" PRIx64 " (%u insns, %u bytes)\n", tb->pc, tb->icount, tb->size);
    char line[160];
    size_t off = 0;
    for (uint32_t i = 0; i < tb->icount; i++) {
        size_t n = x86_disas_one(t->code + off, tb->size - off, tb->pc + off,
                                 decode_mode(tb->flags), line, sizeof(line));
        log_printf("  %08" PRIx64 ": %s\n", tb->pc + off, n ? line : "(bad)");
        off += n ? n : t->recs[i].insn.length;
    }
    (void)cpu;
}

static void translate_insn(DisasContext *s, InsnRec *r)
{
    const X86Insn *insn = &r->insn;
    s->insn = insn;
    s->pc = r->pc;
    s->next_pc = r->pc + insn->length;
    if (s->code_size == 16)
        s->next_pc &= 0xffff;    /* IP wraps (the CS limit check caught the rest) */
    else if (s->code_size == 32)
        s->next_pc &= 0xffffffffu;
    s->cc_dead = r->cc_dead;
    s->cc_fault_only = r->cc_fault_only;
    s->mem_addr = 0;
    s->nss_lin = 0;
    s->end = DISAS_NEXT;
    /* The word: what a fault here gives back to the -icount budget. */
    ir_insn_start(s->b, s->pc, s->icount ? (uint64_t)icount_unexec_here(s) : 0);
    s->icount_exit = s->icount && icount_ends_block(insn);

    if (r->status == 0xff || r->status == X86_DECODE_TOO_LONG) {
        gen_exception(s, EXC_GP, 0);
        return;
    }
    if (r->status != X86_DECODE_OK || (insn->flags & X86_F_UNIMPL)) {
        gen_exception(s, EXC_UD, 0);
        return;
    }
    const X86OpInfo *info = &x86_op_info[insn->mnem];
    if (!info->gen || !feature_supported(s->cpu, insn->feature)) {
        LOG(LOG_UNIMP, "unimplemented instruction %s at %" PRIx64 "\n",
            x86_mnem_name[insn->mnem], s->cs_base + s->pc);
        gen_exception(s, EXC_UD, 0);
        return;
    }
    if ((insn->prefixes & X86_PFX_LOCK) &&
        (!(insn->flags & X86_F_LOCK) || insn->op[0].kind != X86_OPK_MEM)) {
        gen_exception(s, EXC_UD, 0);
        return;
    }
    if ((insn->flags & X86_F_PRIV) && (s->flags & HF_CPL_MASK) != 0) {
        gen_exception(s, EXC_GP, 0);
        return;
    }
    if (gen_fpu_check(s, insn))
        return;
    gen_cc_guess_insn(s, r);
    info->gen(s, insn);
    s->guessed_cf = s->guessed_cond = s->guessed_eflags = 0;
}

/* Translates the n predecoded instructions; returns how many the block
 * holds (fewer when one ends it early: an exception it always raises). */
static int translate_body(X86Translator *t, CPUState *cpu, TB *tb, int n)
{
    IRBlock *b = t->b;
    ir_block_reset(b);
    DisasContext *s = &t->s;
    s->b = b;
    s->cpu = cpu;
    s->tb = tb;
    s->cs_base = tb->cs_base;
    s->flags = tb->flags;
    s->mmu = hflags_mmu_index(tb->flags);
    s->code_size = (tb->flags & HF_CS64) ? 64 : (tb->flags & HF_CS32) ? 32 : 16;
    s->cc_op = CC_OP_DYNAMIC;
    s->block_rip = cpu->rip;
    s->cc_pend = 0;
    s->cc_guess = cpu->cc_pend_op == 0 && cpu->cc_op < CC_OP_NB ? (int)cpu->cc_op : -1;
    s->nstubs = 0;
    s->icount = cpu->icount_mode;
    s->ninsns = n;
    s->insn_index = 0;
    s->icount_exit = false;
    s->pc = cpu->rip;
    uint32_t exit_label = ir_new_label(b);
    gen_block_prologue(s, exit_label);
    if (t->bp_first) {
        IRTemp args[2] = { IR_ENV, tcg_const(s, (int64_t)cpu->rip) };
        gen_call_helper(s, &hlp_debug_insn, 0, 2, args);
    }

    int i;
    for (i = 0; i < n; i++) {
        s->insn_index = i;
        translate_insn(s, &t->recs[i]);
        if (s->end == DISAS_JUMPED)
            break;
        if (s->end == DISAS_STOP) {
            ir_movi(b, IR_I64, s->rip, (int64_t)s->next_pc);
            gen_tf_trap(s);
            ir_exit_tb(b, 0);
            s->end = DISAS_JUMPED;
            break;
        }
    }
    if (s->end != DISAS_JUMPED)
        gen_jmp_static(s, s->next_pc, 0);
    gen_stubs(s, exit_label);
    return i < n ? i + 1 : n;
}

IRBlock *x86_translate_block(X86Translator *t, CPUState *cpu, TB *tb, int max_insns,
                             uint64_t *fault_lin)
{
    int n = predecode(t, cpu, tb, max_insns, fault_lin);
    if (n == 0)
        return NULL;
    compute_flag_liveness(t, n);
    if (log_enabled(LOG_IN_ASM) && log_block_selected(tb->pc, tb->pc + tb->size - 1))
        log_guest_code(cpu, tb, t);
    int got = translate_body(t, cpu, tb, n);
    if (got < n && cpu->icount_mode) {
        /* The prologue charged n: translate exactly the instructions the
         * block holds, so the count stays exact. */
        n = predecode(t, cpu, tb, got, fault_lin);
        compute_flag_liveness(t, n);
        translate_body(t, cpu, tb, n);
    }
    return t->b;
}
