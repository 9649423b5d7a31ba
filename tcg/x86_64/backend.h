/*
 * Internals of the x86-64 host backend, shared by its files:
 *   engine.c    code buffer, prologue/epilogue, IREngine entry points,
 *               chaining, restore tables
 *   regalloc.c  liveness pass and the register allocator (temp states)
 *   codegen.c   instruction selection for every IR op, soft-TLB fast
 *               path and its out-of-line slow paths, the compile driver
 *
 * Register use in generated code: rbp = env (pinned), rsp = the frame set
 * up by the prologue (spill slots + a save area for slow paths); the
 * other 14 registers are allocated.  See docs/ir.md for the design.
 */
#ifndef VX86_TCG_X86_64_BACKEND_H
#define VX86_TCG_X86_64_BACKEND_H

#include <stdbool.h>
#include <stdint.h>

#include "tcg/engine.h"
#include "tcg/x86_64/emit.h"

#define X86_ENV_REG X86_RBP
#define X86_NREGS 16
#define REGMASK(r) (1u << (r))
#define X86_ALLOCATABLE (0xffffu & ~REGMASK(X86_RSP) & ~REGMASK(X86_RBP))
#define X86_CALLER_SAVED (REGMASK(X86_RAX) | REGMASK(X86_RCX) | REGMASK(X86_RDX) | \
                          REGMASK(X86_RSI) | REGMASK(X86_RDI) | REGMASK(X86_R8) |  \
                          REGMASK(X86_R9) | REGMASK(X86_R10) | REGMASK(X86_R11))
#define X86_CALLEE_SAVED (X86_ALLOCATABLE & ~X86_CALLER_SAVED)

/* Frame built by the prologue, addressed from rsp. */
#define X86_SAVE_AREA 0                   /* 16 x 8 bytes: slow-path saves */
#define X86_SCRATCH_AREA 128              /* 4 x 8 bytes: slow-path argument shuffles */
#define X86_SLOT_BASE 160                 /* spill slots */
#define X86_NSLOTS 1024
#define X86_FRAME_SIZE (X86_SLOT_BASE + X86_NSLOTS * 8 + 8)  /* keeps rsp 16-aligned */

/* Host features (cpuid), maskable for tests. */
enum {
    X86_HAS_LZCNT = 1 << 0,
    X86_HAS_BMI1 = 1 << 1,      /* tzcnt, andn */
    X86_HAS_POPCNT = 1 << 2,
    X86_HAS_BMI2 = 1 << 3,      /* shlx/shrx/sarx */
};

enum { VAL_DEAD, VAL_REG, VAL_MEM, VAL_CONST };

typedef struct TempState {
    uint8_t val;            /* VAL_* */
    uint8_t reg;            /* when VAL_REG */
    uint8_t coherent;       /* the memory copy holds the current value */
    uint8_t has_slot;       /* locals/EBB temps: slot assigned */
    uint8_t across_call;    /* live across a helper call: prefer callee-saved */
    uint8_t kind;           /* IRTempKind, cached */
    uint8_t is64;
    int32_t slot;           /* rsp offset of the spill slot */
    uint64_t cval;          /* when VAL_CONST */
} TempState;

typedef struct X86Reloc {
    uint32_t label;
    uint32_t off;           /* offset of a rel32 field in the block */
} X86Reloc;

typedef struct X86SlowPath {
    uint32_t jcc_off;       /* rel32 of the jne to patch */
    uint32_t jcc2_off;      /* alignment check's jne, 0 = none */
    uint32_t join_off;      /* where to come back */
    uint32_t memop;
    uint8_t is_store, is64, addr_reg, val_reg, out_reg, val_is_imm;
    uint8_t is_atomic, val2_reg;  /* guest_atomic: operand registers val_reg, val2_reg */
    uint16_t save_mask;     /* live caller-saved registers to preserve */
    uint16_t reload_mask;   /* registers caching globals: reload from env */
    uint64_t val_imm;
    uint32_t reload_first;  /* index in X86Ctx.reloads */
    uint32_t nreload;
} X86SlowPath;

typedef struct X86Reload {
    int32_t env_offset;
    uint8_t reg, is64;
} X86Reload;

typedef struct X86RestoreEnt {
    uint32_t off;
    uint64_t pc, word;
} X86RestoreEnt;

/* Stored just before each block's code. */
typedef struct X86BlockHeader {
    uint32_t code_len;      /* code + slow paths */
    uint32_t restore_len;   /* restore table bytes right after the code */
    uint32_t jmp_off[2];    /* goto_tb slot -> offset of its rel32, 0 = none */
} X86BlockHeader;

struct IREngineCtx {
    IREngineTarget tgt;
    unsigned features;
    /* code buffer */
    uint8_t *buf, *buf_end;  /* buf_end leaves X86_BUF_SLACK for the last op */
    size_t buf_size;
    uint8_t *prologue, *epilogue, *exit0;
    uint8_t *free_ptr;       /* next block goes here */
    uint8_t *blocks_base;    /* first byte after the prologue/epilogue */
    uint8_t **blocks;        /* block code starts, ascending */
    uint32_t nblocks, blocks_cap;

    /* per-compile state, reused */
    X86Asm a;
    uint8_t *code;           /* start of the block being compiled */
    const IRBlock *b;
    uint32_t cur;            /* index of the insn being compiled */
    TempState *ts;
    uint32_t ts_cap;
    uint16_t *dead;          /* per insn: bit k = arg k dead after it */
    uint32_t dead_cap;
    IRTemp reg_owner[X86_NREGS];   /* 0 = free (env never lives in a register slot) */
    uint32_t owned;          /* registers with an owner */
    uint32_t locked;         /* registers in use by the current insn */
    uint8_t *live;           /* liveness scratch, per temp */
    IRTemp *locals, *ebbs;   /* this block's locals and EBB temps */
    uint32_t nlocals, nebbs, lists_cap;
    uint32_t *label_pos;     /* offset or UINT32_MAX */
    uint32_t label_cap;
    X86Reloc *relocs;
    uint32_t nrelocs, relocs_cap;
    X86SlowPath *slow;
    uint32_t nslow, slow_cap;
    X86Reload *reloads;
    uint32_t nreloads, reloads_cap;
    X86RestoreEnt *rest;
    uint32_t nrest, rest_cap;
    int32_t *free_slots;
    uint32_t nfree_slots;
    uint32_t next_slot;
    X86BlockHeader *hdr;
    bool failed;             /* block did not fit */
};

#define X86_BUF_SLACK (256 * 1024)

/* regalloc.c */
void ra_liveness(IREngineCtx *s);
void ra_begin_block(IREngineCtx *s);
int ra_alloc_reg(IREngineCtx *s, uint32_t allowed, bool prefer_callee);
int ra_temp_load(IREngineCtx *s, IRTemp t, uint32_t allowed);
void ra_load_into(IREngineCtx *s, IRTemp t, int r);
void ra_evict_reg(IREngineCtx *s, int r, uint32_t avoid);
void ra_temp_sync(IREngineCtx *s, IRTemp t);
void ra_temp_spill(IREngineCtx *s, IRTemp t);
void ra_temp_dead(IREngineCtx *s, IRTemp t);
void ra_bind_output(IREngineCtx *s, IRTemp t, int r);
void ra_bind_const(IREngineCtx *s, IRTemp t, uint64_t v);
void ra_store_global_from(IREngineCtx *s, IRTemp g, int r);
void ra_release_dead_inputs(IREngineCtx *s, const IRInsn *op);
void ra_finish_outputs(IREngineCtx *s, const IRInsn *op);
void ra_sync_globals(IREngineCtx *s);
void ra_forget_globals(IREngineCtx *s);
void ra_sync_globals_for_mem(IREngineCtx *s);
void ra_bb_end_sync(IREngineCtx *s);
void ra_reset_after_jump(IREngineCtx *s);
bool ra_is_const(IREngineCtx *s, IRTemp t, uint64_t *v);
bool ra_arg_dead(const IREngineCtx *s, unsigned k);
int32_t ra_mem_slot(IREngineCtx *s, IRTemp t, int *base);

/* codegen.c */
void *x86_compile_block(IREngineCtx *s, const IRBlock *b);

static inline bool x86_type64(IRType t) { return t == IR_I64; }

#endif
