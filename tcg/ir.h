/*
 * The vx86 IR: a small, typed, guest-independent intermediate language.
 *
 * A front end (cpu/translate*.c) builds one IRBlock per translation block
 * with the builder below; an engine then runs it: the IR interpreter
 * (tcg/interp.c, portable, the reference) or the x86-64 host backend
 * (tcg/x86_64/), after the optimiser (tcg/optimize.c).  The ops are listed
 * in tcg/ir-ops.def; this header defines temps, instructions and blocks.
 *
 * Temps are values of type I32 or I64:
 *   - globals  live in the CPU state (env + offset) across blocks; an
 *              engine may cache them in host registers inside a block and
 *              writes them back at block exits, before helpers that use
 *              them and before any op that can fault;
 *   - locals   live for the whole block (survive branches and labels);
 *   - temps    live within one extended basic block (die at a label);
 *   - consts   are immutable values;
 *   - IR_ENV (temp 0, I64) is the pointer to the CPU state.
 *
 *   IRBlock *b = ir_block_new();
 *   IRTemp eax = ir_global(b, IR_I32, offsetof(CPUState, regs[0]), "eax");
 *   ir_insn_start(b, pc, 0);
 *   ir_add(b, IR_I32, eax, eax, ir_const(b, IR_I32, 1));
 *   ir_exit_tb(b, 0);
 */
#ifndef VX86_TCG_IR_H
#define VX86_TCG_IR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

typedef enum IRType { IR_I32, IR_I64 } IRType;

enum {
    IR_OPF_BB_END = 1 << 0,      /* ends a basic block */
    IR_OPF_COND_BRANCH = 1 << 1,
    IR_OPF_SIDE_EFFECTS = 1 << 2, /* never removed as dead code */
    IR_OPF_CAN_FAULT = 1 << 3,   /* may raise a guest exception: sync globals first */
    IR_OPF_CALL = 1 << 4,
    IR_OPF_NORETURN = 1 << 5,
    IR_OPF_64ONLY = 1 << 6,      /* only with type I64 */
    IR_OPF_32ONLY = 1 << 7,      /* only with type I32 */
};

typedef enum IROpcode {
#define DEF(name, nout, nin, nconst, flags) IR_##name,
#include "tcg/ir-ops.def"
#undef DEF
    IR_NB_OPS
} IROpcode;

/* Vector operations of the vec* ops (one per host SSE instruction). */
typedef enum IRVecOp {
#define VEC_BIN(n, opc, mn) IR_VEC_##n,
#define VEC_MOV(n, opc, mn) IR_VEC_##n,
#define VEC_IMM(n, opc) IR_VEC_##n,
#define VEC_SHI(n, opc, ext) IR_VEC_##n,
#define VEC_TO(n, opc, mn, w) IR_VEC_##n,
#define VEC_FROM(n, opc, mn, w) IR_VEC_##n,
#define VEC_CMP(n, opc, mn) IR_VEC_##n,
#include "tcg/vec-ops.def"
    IR_VEC_NB
} IRVecOp;

typedef enum IRVecKind {
    IR_VK_BIN, IR_VK_MOV, IR_VK_IMM, IR_VK_SHI,   /* IR_vec */
    IR_VK_TO, IR_VK_CMP,                          /* IR_vec_to */
    IR_VK_FROM,                                   /* IR_vec_from */
} IRVecKind;

extern const uint8_t ir_vec_kind[IR_VEC_NB];      /* IRVecKind */
extern const char *const ir_vec_names[IR_VEC_NB];

/* const 0 of a vec* op */
static inline uint64_t ir_vec_code(IRVecOp v, unsigned imm8)
{
    return (uint64_t)v | (uint64_t)(imm8 & 0xff) << 16;
}

/* Whether the host has the instruction of op (the SSSE3 rows of
 * tcg/vec-ops.def; every SSE2 row is always there). */
bool ir_vec_host_has(IRVecOp op);

/* Reference semantics (tcg/vec.c): env is the env pointer. */
void ir_vec_run(uint64_t code, uint8_t *env, int64_t dst_off, int64_t src_off);
uint64_t ir_vec_run_to(uint64_t code, const uint8_t *env, int64_t a_off, int64_t b_off);
void ir_vec_run_from(uint64_t code, uint8_t *env, int64_t dst_off, uint64_t v);

static inline IRVecOp ir_vec_op(uint64_t code) { return (IRVecOp)(code & 0xffff); }
static inline unsigned ir_vec_imm(uint64_t code) { return (unsigned)(code >> 16) & 0xff; }

typedef struct IROpDef {
    const char *name;
    uint8_t nout, nin, nconst;
    uint16_t flags;
} IROpDef;

extern const IROpDef ir_op_defs[IR_NB_OPS];

typedef enum IRCond {
    IR_COND_NEVER, IR_COND_ALWAYS,
    IR_COND_EQ, IR_COND_NE,
    IR_COND_LT, IR_COND_GE, IR_COND_LE, IR_COND_GT,       /* signed */
    IR_COND_LTU, IR_COND_GEU, IR_COND_LEU, IR_COND_GTU,   /* unsigned */
    IR_COND_TSTEQ, IR_COND_TSTNE,  /* (a & b) == 0, (a & b) != 0 */
} IRCond;

/* Guest memory access description (const of guest_ld / guest_st). */
typedef uint32_t IRMemOp;
enum {
    IR_MO_8 = 0, IR_MO_16 = 1, IR_MO_32 = 2, IR_MO_64 = 3,
    IR_MO_SIZE = 3,
    IR_MO_SIGN = 1 << 2,          /* loads: sign-extend to the insn type */
    IR_MO_MMU_SHIFT = 4,          /* bits 4-7: soft-TLB mmu index */
    IR_MO_MMU_MASK = 0xf << 4,
    IR_MO_ALIGN_CHECK = 1 << 8,   /* the slow path checks alignment (#AC/#GP) */
    IR_MO_WRITE_INTENT = 1 << 9,  /* loads: the read half of a read-modify-write;
                                     the slow path checks write access too */
    IR_MO_FE_FLAG = 1 << 10,      /* meaning defined by the front end; passed to
                                     the slow path untouched */
    IR_MO_ATOMIC_SHIFT = 12,      /* guest_atomic: the IRAtomicOp */
    IR_MO_ATOMIC_MASK = 7 << 12,
};

/* What guest_atomic does to memory (ir_atomic_apply). */
typedef enum IRAtomicOp {
    IR_ATOMIC_XCHG,       /* new = operand */
    IR_ATOMIC_ADD,        /* new = old + operand */
    IR_ATOMIC_AND,
    IR_ATOMIC_OR,
    IR_ATOMIC_XOR,
    IR_ATOMIC_NEG,        /* new = -old (operand ignored) */
    IR_ATOMIC_CMPXCHG,    /* new = old == operand ? in2 : old (compared at the size) */
    IR_ATOMIC_NB
} IRAtomicOp;

static inline IRAtomicOp ir_memop_atomic(IRMemOp mo)
{
    return (IRAtomicOp)((mo & IR_MO_ATOMIC_MASK) >> IR_MO_ATOMIC_SHIFT);
}

/* The memory value guest_atomic leaves, truncated to 1 << size_log2 bytes
 * (the reference semantics every engine and slow path follows). */
uint64_t ir_atomic_apply(IRAtomicOp op, unsigned size_log2, uint64_t old, uint64_t v,
                         uint64_t newv);
static inline IRMemOp ir_memop(unsigned size_log2, bool sign, unsigned mmu_idx)
{
    return size_log2 | (sign ? IR_MO_SIGN : 0) | mmu_idx << IR_MO_MMU_SHIFT;
}

/* Helpers called from IR.  Every argument and the result travel as
 * uint64_t (pointers too; an i32 argument is zero-extended), so one
 * calling convention serves the interpreter and the host backend. */
enum {
    IR_CALL_NO_READ_GLOBALS = 1 << 0,  /* does not read globals from env */
    IR_CALL_NO_WRITE_GLOBALS = 1 << 1, /* does not write globals to env */
    IR_CALL_PURE = 1 << 2,             /* no side effects: removable if unused */
    IR_CALL_CAN_FAULT = 1 << 3,        /* may raise a guest exception */
};
#define IR_CALL_MAX_ARGS 6
typedef struct IRHelper {
    void *fn;               /* uint64_t fn(uint64_t, ...) */
    const char *name;
    unsigned flags;
} IRHelper;
#define IR_HELPER(f, fl) { .fn = (void *)(f), .name = #f, .flags = (fl) }

typedef uint32_t IRTemp;
#define IR_ENV ((IRTemp)0)
#define IR_MAX_ARGS 10

typedef enum IRTempKind { IR_TEMP_FIXED, IR_TEMP_GLOBAL, IR_TEMP_LOCAL,
                          IR_TEMP_EBB, IR_TEMP_CONST } IRTempKind;

typedef struct IRTempInfo {
    uint8_t type;           /* IRType */
    uint8_t kind;           /* IRTempKind */
    int32_t env_offset;     /* globals: byte offset in env */
    int64_t value;          /* consts; I32 consts are stored sign-extended */
    const char *name;       /* globals: for dumps */
} IRTempInfo;

typedef struct IRInsn {
    uint16_t op;            /* IROpcode */
    uint8_t type;           /* IRType of the operation */
    uint8_t nout, nin, nconst;
    /* args[0 .. nout) outputs, then nin inputs (temps), then nconst
     * constants (raw values: labels, conds, offsets, memops, pointers). */
    uint64_t args[IR_MAX_ARGS];
} IRInsn;

typedef struct IRBlock {
    IRTempInfo *temps;
    uint32_t ntemps, nglobals, temps_cap;
    IRInsn *insns;
    uint32_t ninsns, insns_cap;
    uint32_t nlabels;
    struct OptContext *opt;   /* the optimiser's scratch arrays (tcg/optimize.c) */
} IRBlock;

IRBlock *ir_block_new(void);
void ir_block_free(IRBlock *b);
/* Drops instructions and non-global temps; globals stay registered. */
void ir_block_reset(IRBlock *b);

/* Globals must be registered before any other temp. */
IRTemp ir_global(IRBlock *b, IRType type, int32_t env_offset, const char *name);
IRTemp ir_temp(IRBlock *b, IRType type);       /* dies at the next label */
IRTemp ir_local(IRBlock *b, IRType type);      /* lives for the whole block */
IRTemp ir_const(IRBlock *b, IRType type, int64_t value);
uint32_t ir_new_label(IRBlock *b);

static inline const IRTempInfo *ir_temp_info(const IRBlock *b, IRTemp t)
{
    return &b->temps[t];
}

/* Generic emitter: outputs, inputs and constants in table order.  Checks
 * arity and types in debug builds. */
IRInsn *ir_emit(IRBlock *b, IROpcode op, IRType type, const IRTemp *outs,
                const IRTemp *ins, const uint64_t *consts);
/* Call: out may be 0 (no result) when nout == 0. */
void ir_call(IRBlock *b, const IRHelper *h, IRType ret_type, int nout, IRTemp out,
             int nargs, const IRTemp *args);

/* Convenience wrappers for the common shapes. */
void ir_op1(IRBlock *b, IROpcode op, IRType t, IRTemp d, IRTemp a);
void ir_op2(IRBlock *b, IROpcode op, IRType t, IRTemp d, IRTemp a, IRTemp c);
static inline void ir_mov(IRBlock *b, IRType t, IRTemp d, IRTemp a) { ir_op1(b, IR_mov, t, d, a); }
static inline void ir_add(IRBlock *b, IRType t, IRTemp d, IRTemp a, IRTemp c) { ir_op2(b, IR_add, t, d, a, c); }
static inline void ir_sub(IRBlock *b, IRType t, IRTemp d, IRTemp a, IRTemp c) { ir_op2(b, IR_sub, t, d, a, c); }
static inline void ir_and(IRBlock *b, IRType t, IRTemp d, IRTemp a, IRTemp c) { ir_op2(b, IR_and, t, d, a, c); }
static inline void ir_or(IRBlock *b, IRType t, IRTemp d, IRTemp a, IRTemp c) { ir_op2(b, IR_or, t, d, a, c); }
static inline void ir_xor(IRBlock *b, IRType t, IRTemp d, IRTemp a, IRTemp c) { ir_op2(b, IR_xor, t, d, a, c); }
void ir_movi(IRBlock *b, IRType t, IRTemp d, int64_t v);
void ir_setcond(IRBlock *b, IRType t, IRCond c, IRTemp d, IRTemp x, IRTemp y);
void ir_movcond(IRBlock *b, IRType t, IRCond c, IRTemp d, IRTemp x, IRTemp y,
                IRTemp vtrue, IRTemp vfalse);
void ir_brcond(IRBlock *b, IRType t, IRCond c, IRTemp x, IRTemp y, uint32_t label);
void ir_br(IRBlock *b, uint32_t label);
void ir_set_label(IRBlock *b, uint32_t label);
void ir_ld(IRBlock *b, IROpcode op, IRType t, IRTemp d, IRTemp ptr, int64_t off);
void ir_st(IRBlock *b, IROpcode op, IRType t, IRTemp v, IRTemp ptr, int64_t off);
/* vec ops (code = ir_vec_code(op, imm8); offsets into env; d/v are i64) */
void ir_vec(IRBlock *b, uint64_t code, int64_t dst_off, int64_t src_off);
void ir_vec_to(IRBlock *b, uint64_t code, IRTemp d, int64_t a_off, int64_t b_off);
void ir_vec_from(IRBlock *b, uint64_t code, int64_t dst_off, IRTemp v);
void ir_guest_ld(IRBlock *b, IRType t, IRTemp d, IRTemp addr, IRMemOp mo);
void ir_guest_st(IRBlock *b, IRType t, IRTemp v, IRTemp addr, IRMemOp mo);
/* old = atomically { old = [addr]; [addr] = op(old, v, newv) }; newv 0 =
 * none (only IR_ATOMIC_CMPXCHG uses it).  mo without the atomic bits. */
void ir_guest_atomic(IRBlock *b, IRType t, IRTemp old, IRTemp addr, IRTemp v, IRTemp newv,
                     IRMemOp mo, IRAtomicOp op);
void ir_extract(IRBlock *b, IRType t, IRTemp d, IRTemp a, unsigned pos, unsigned len);
void ir_deposit(IRBlock *b, IRType t, IRTemp d, IRTemp a, IRTemp v, unsigned pos, unsigned len);
void ir_insn_start(IRBlock *b, uint64_t pc, uint64_t word);
void ir_goto_tb(IRBlock *b, unsigned slot);
void ir_exit_tb(IRBlock *b, uint64_t value);
void ir_goto_ptr(IRBlock *b, IRTemp ptr);
void ir_discard(IRBlock *b, IRTemp t);

/* Evaluates a condition on two values of the given type (used by the
 * interpreter and constant folding, so both agree by construction). */
bool ir_cond_eval(IRCond c, IRType t, uint64_t a, uint64_t b);
/* The condition with its operands exchanged: c(a, b) == swap(c)(b, a). */
IRCond ir_cond_swap(IRCond c);
/* Does this op read (or need in env) every global?  Memory accesses,
 * branches, block exits and calls that touch globals or can fault: the
 * optimiser's dead-store pass and the backend's register allocator must
 * have the globals in env there. */
bool ir_op_uses_globals(const IRInsn *op);

/* Value helpers shared by the interpreter and constant folding. */
static inline unsigned ir_type_bits(IRType t) { return t == IR_I32 ? 32 : 64; }
static inline uint64_t ir_trunc(IRType t, uint64_t v) { return t == IR_I32 ? (uint32_t)v : v; }
/* Sign-extends the low bits of v (1 <= bits <= 64). */
static inline uint64_t ir_sext(uint64_t v, unsigned bits)
{
    return (uint64_t)((int64_t)(v << (64 - bits)) >> (64 - bits));
}

/* Checks the block: arities, types, labels defined once and used,
 * temps of the right kind.  Returns false and prints to f on error. */
bool ir_verify(const IRBlock *b, FILE *f);
void ir_dump(const IRBlock *b, FILE *f);

#endif
