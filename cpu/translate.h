/*
 * The x86 -> IR front end: shared declarations of cpu/translate.c (block
 * loop, flag liveness, operand and flag plumbing) and of the handlers
 * (translate-ops.c, -sys.c, -fpu.c, -sse.c, -bmi.c), which the mnemonic
 * rows of cpu/opcodes.def name.
 *
 * A block is built in two passes: first every instruction is decoded
 * (until a branch, an instruction that changes the translation state, the
 * end of the page or TB_MAX_INSNS), then flag liveness is computed
 * backwards, then each instruction is lowered by its handler.
 */
#ifndef VX86_CPU_TRANSLATE_H
#define VX86_CPU_TRANSLATE_H

#include <stdbool.h>
#include <stdint.h>

#include "cpu/cpu.h"
#include "cpu/decode.h"
#include "cpu/exec.h"
#include "tcg/ir.h"
#include "tcg/tb.h"

typedef struct X86Translator X86Translator;

X86Translator *x86_translator_new(void);
void x86_translator_free(X86Translator *t);
/* Translates the block described by tb (pc, cs_base, flags, phys_pc);
 * fills tb->size, icount and phys_page2.  Returns the IR (owned by the
 * translator, valid until the next call), or NULL when not even the first
 * instruction can be fetched (*fault_lin: the address that faults). */
IRBlock *x86_translate_block(X86Translator *t, CPUState *cpu, TB *tb, int max_insns,
                             uint64_t *fault_lin);

/* ---- internal: shared by the translate*.c files ---- */

typedef enum DisasEnd {
    DISAS_NEXT,      /* continue with the next instruction */
    DISAS_STOP,      /* end the block after this insn: rip = next_pc, exit */
    DISAS_JUMPED,    /* the handler emitted the block exit itself */
} DisasEnd;

typedef struct DisasContext {
    IRBlock *b;
    CPUState *cpu;
    TB *tb;
    const X86Insn *insn;
    uint64_t cs_base;
    uint64_t pc;             /* rip of the current instruction */
    uint64_t next_pc;        /* rip of the next one */
    uint32_t flags;          /* hflags */
    int mmu;                 /* mmu index of the current privilege */
    int code_size;           /* 16, 32, 64 */
    int cc_op;               /* statically known cc_op, or CC_OP_DYNAMIC */
    bool cc_dead;            /* this insn's flag results are never read */
    bool cc_fault_only;      /* ...only if a later insn of the block faults */
    int cc_pend;             /* a pending INC/DEC's cc_op (0: none), see gen_incdec */
    int cc_guess;            /* cc_op at block entry when translated (-1: none) */
    uint64_t block_rip;      /* rip of the block's first instruction */
    IRTemp guessed_cf;       /* this insn's CF, computed under the guess (or 0) */
    IRTemp guessed_cond;     /* this insn's condition insn->cond (or 0) */
    IRTemp guessed_eflags;   /* the six flags before this insn (or 0) */
    DisasEnd end;
    IRTemp mem_addr;         /* linear address of insn->mem (0: not computed) */
    bool mem_addr_write;
    IRTemp ss_lin[4];        /* 64-bit mode: linear addresses that are SS-relative */
    int nss_lin;             /* (a non-canonical one raises #SS(0), not #GP(0)) */
    /* -icount (cpu/exec.c): the block's length, this instruction's index
     * in it, and whether it must end the block with a return to the loop */
    bool icount;
    int ninsns, insn_index;
    bool icount_exit;

    /* IR globals */
    IRTemp regs[16];
    IRTemp rip;
    IRTemp cc_dst, cc_src, cc_src2, cc_op_g;
    IRTemp cc_pend_op_g;

    /* out-of-line fault stubs, emitted at the end of the block */
    struct { uint32_t label; uint64_t pc; int seg; int unexec; } stubs[TB_MAX_INSNS * 4];
    int nstubs;
} DisasContext;

typedef void (*GenFn)(DisasContext *s, const X86Insn *insn);

/* Every handler a mnemonic row of cpu/opcodes.def names, declared from the
 * table itself (NOGEN rows declare a function nobody defines or calls). */
#define NOGEN gen_NOGEN_
#define MNEM(name, gen, ...) void gen(DisasContext *s, const X86Insn *insn);
#include "cpu/opcodes.def"
#undef MNEM
#undef NOGEN

/* Per-mnemonic translation info, built from the mnemonic rows of
 * cpu/opcodes.def (translate-ops.c). */
typedef struct X86OpInfo {
    GenFn gen;
    uint16_t res_read;     /* flags the result or control flow depends on */
    uint16_t cc_read;      /* flags only needed to compute its own flags */
    bool cc_write;         /* sets the lazy flags */
    bool fault;            /* may fault even without a memory operand */
} X86OpInfo;
extern const X86OpInfo x86_op_info[X86_MNEM_COUNT];

/* size in bytes -> cc_op size index and back */
static inline int ot_of(unsigned size) { return size == 1 ? 0 : size == 2 ? 1 : size == 4 ? 2 : 3; }

IRTemp tcg_temp(DisasContext *s);
IRTemp tcg_local(DisasContext *s);
IRTemp tcg_const(DisasContext *s, int64_t v);
IRTemp tcg_const32(DisasContext *s, int32_t v);

/* registers */
IRTemp gen_get_reg(DisasContext *s, int reg, unsigned size);
void gen_set_reg(DisasContext *s, int reg, unsigned size, IRTemp v);
IRTemp gen_ext(DisasContext *s, IRTemp v, unsigned size, bool sign);

/* memory */
IRTemp gen_ea_offset(DisasContext *s, const X86Mem *m);
IRTemp gen_linear(DisasContext *s, int seg, IRTemp offset, unsigned size, bool write);
IRTemp gen_mem_addr(DisasContext *s, unsigned size, bool write);
IRTemp gen_ld(DisasContext *s, IRTemp lin, unsigned size, bool sign);
void gen_st(DisasContext *s, IRTemp lin, IRTemp v, unsigned size);
IRTemp gen_trunc_addr(DisasContext *s, IRTemp off, unsigned addrsize);

/* operands */
IRTemp gen_load_operand(DisasContext *s, const X86Operand *op);
void gen_store_operand(DisasContext *s, const X86Operand *op, IRTemp v);
/* For read-modify-write destinations: the memory address is checked for
 * writing before the read. */
IRTemp gen_load_dest(DisasContext *s, const X86Operand *op);

/* LOCK (and XCHG with memory): is d a memory destination of a locked
 * instruction?  gen_atomic does the whole read-modify-write of d as one
 * guest_atomic and returns the old value (zero-extended); nv is
 * CMPXCHG's new value, 0 otherwise.  Flags and registers are then
 * computed from the old value exactly as the plain path does. */
bool gen_is_locked(DisasContext *s, const X86Operand *d);
IRTemp gen_atomic(DisasContext *s, const X86Operand *d, IRAtomicOp op, IRTemp v, IRTemp nv);

/* stack */
unsigned stack_addr_size(DisasContext *s);
IRTemp gen_push_addr(DisasContext *s, unsigned size, IRTemp *new_sp);
void gen_push(DisasContext *s, IRTemp v, unsigned size);
IRTemp gen_pop_value(DisasContext *s, unsigned size, IRTemp *new_sp);
void gen_set_sp(DisasContext *s, IRTemp new_sp);

/* flags */
void gen_set_cc(DisasContext *s, int op, unsigned size, IRTemp dst, IRTemp src, IRTemp src2);
IRTemp gen_compute_eflags(DisasContext *s);   /* the six arithmetic flags */
IRTemp gen_compute_cf(DisasContext *s);
/* cond 0-15 (x86 encoding) -> 0/1 */
IRTemp gen_cond(DisasContext *s, int cond);
void gen_cond_cmp(DisasContext *s, int cond, IRCond *c, IRTemp *a, IRTemp *bv);
void gen_set_cc_eflags(DisasContext *s, IRTemp flags);
/* Makes the cc globals describe the flags again when an INC/DEC is
 * pending (before anything that reads them or leaves the block). */
void gen_cc_settle(DisasContext *s);
/* (v >> from & 1) << to: one bit of v moved to bit `to`. */
IRTemp gen_move_bit(DisasContext *s, IRTemp v, unsigned from, unsigned to);
/* INC/DEC whose flags only a fault could observe, on top of flags the
 * block does not know statically: records its result, no flag work. */
bool gen_cc_try_pend(DisasContext *s, int op, unsigned size, IRTemp result);

/* a label at the block end that sets rip to this instruction and raises
 * #SS(0) for seg == R_SS, else #GP(0) */
uint32_t gen_new_stub(DisasContext *s, int seg);

/* control */
void gen_sync_rip(DisasContext *s);            /* rip = pc of this insn */
void gen_exception(DisasContext *s, int vec, uint32_t err);
void gen_jmp_static(DisasContext *s, uint64_t target_rip, int slot);
void gen_jmp_dynamic(DisasContext *s);         /* rip already stored; same cs base and mode */
/* rip already stored by a helper that may have changed CS or the mode
 * flags (far transfers, interrupts, sys*): looks the key up at run time. */
void gen_jmp_dynamic_key_changed(DisasContext *s);
/* 64-bit mode: #GP(0) at the branch for a non-canonical near target */
void gen_check_branch_target(DisasContext *s, IRTemp target);
uint32_t gen_static_target_fault(DisasContext *s, uint64_t target); /* stub label or 0 */
void gen_call_helper(DisasContext *s, const IRHelper *h, IRTemp out, int nargs,
                     const IRTemp *args);
uint64_t mask_ip(DisasContext *s, uint64_t ip, unsigned opsize);

#endif
