/*
 * Execution engines: what the execution loop (cpu/exec.c) needs from the
 * thing that runs a translated block.  Two implement it: the IR
 * interpreter (tcg/interp.c, ir_engine_interp) and the x86-64 host
 * backend (tcg/x86_64/, ir_engine_x86_64).  Both take the same IRBlock.
 *
 *   IREngineTarget tgt = { .tlb_offset = offsetof(CPUState, tlb),
 *                          .mem = &x86_guest_mem };
 *   const IREngine *e = &ir_engine_interp;
 *   IREngineCtx *ctx = e->create(&tgt);
 *   void *code = e->compile(ctx, block);            // per TB
 *   uint64_t v = e->run(ctx, code, env);            // exit_tb / goto_ptr value
 *   e->chain(ctx, code, 0, next_code);              // goto_tb slot 0 -> next
 *
 * Chaining: goto_tb(slot) jumps straight to the block chained in that
 * slot, else falls through (to the exit_tb that follows it).  An engine
 * without direct chaining (the interpreter) may ignore chain() and let
 * the loop chain on exit_tb values.
 */
#ifndef VX86_TCG_ENGINE_H
#define VX86_TCG_ENGINE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "tcg/interp.h"
#include "tcg/ir.h"
#include "tcg/tlb.h"

typedef struct IREngineTarget {
    int32_t tlb_offset;         /* offset of a SoftTLB inside env */
    /* Slow paths (TLB miss, MMIO, code pages, page-crossing accesses).
     * ra identifies the faulting point: a host return address inside
     * compiled code, or an interpreter-tagged pointer (see interp.h). */
    const IRGuestMemOps *mem;
} IREngineTarget;

typedef struct IREngineCtx IREngineCtx;

typedef struct IREngine {
    const char *name;
    IREngineCtx *(*create)(const IREngineTarget *tgt);
    void (*destroy)(IREngineCtx *ctx);
    /* Compiles a (verified) block; returns its entry, or NULL when the
     * code buffer is full (the caller flushes all blocks and retries). */
    void *(*compile)(IREngineCtx *ctx, const IRBlock *b);
    /* Forgets every compiled block at once (full flush). */
    void (*flush)(IREngineCtx *ctx);
    /* Releases one block's code (may be a no-op for bump allocators). */
    void (*release)(IREngineCtx *ctx, void *code);
    uint64_t (*run)(IREngineCtx *ctx, void *code, void *env);
    void (*chain)(IREngineCtx *ctx, void *from, unsigned slot, void *to);
    void (*unchain)(IREngineCtx *ctx, void *from, unsigned slot);
    /* Finds the insn_start arguments in force at the fault point ra.
     * Returns false if ra is not inside code of this engine. */
    bool (*restore)(IREngineCtx *ctx, uintptr_t ra, uint64_t insn_start[2]);
    size_t (*code_size)(IREngineCtx *ctx, void *code);
    /* For -d out_asm: host code bytes of a block (NULL if not native). */
    const uint8_t *(*host_code)(IREngineCtx *ctx, void *code, size_t *len);
} IREngine;

extern const IREngine ir_engine_interp;
extern const IREngine ir_engine_x86_64;   /* provided by tcg/x86_64/ */

#endif
