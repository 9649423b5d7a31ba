/*
 * The IR interpreter: the portable, reference execution engine.  It runs
 * exactly the IR the host backend compiles, so every test can run under
 * both and compare.
 *
 *   IRInterpCode *code = ir_interp_prepare(block);   // once per TB
 *   IRInterpState st = { .mem = &my_guest_mem };
 *   uint64_t v = ir_interp_run(code, env, &st);        // exit_tb value
 *
 * Guest memory goes through the front end's load/store callbacks.  They
 * get ra = ir_interp_ra(&st): a tagged pointer (bit 0 set) to the state,
 * whose insn_start[] holds the last insn_start, so a fault can restore the
 * guest pc exactly as it does from a host return address for JIT code.
 * goto_tb is a no-op here: the execution loop chains on exit_tb values.
 */
#ifndef VX86_TCG_INTERP_H
#define VX86_TCG_INTERP_H

#include "tcg/ir.h"

typedef struct IRGuestMemOps {
    uint64_t (*load)(void *env, uint64_t addr, IRMemOp mo, uintptr_t ra);
    void (*store)(void *env, uint64_t addr, uint64_t val, IRMemOp mo, uintptr_t ra);
    /* guest_atomic (mo carries the IRAtomicOp): does the whole access
     * indivisibly, returns the old value zero-extended. */
    uint64_t (*atomic)(void *env, uint64_t addr, uint64_t val, uint64_t newv, IRMemOp mo,
                       uintptr_t ra);
} IRGuestMemOps;

typedef struct IRInterpCode IRInterpCode;

typedef struct IRInterpState {
    const IRGuestMemOps *mem;
    uint64_t insn_start[2];     /* args of the last insn_start executed */
    uint64_t *scratch;          /* temp values, grown on demand */
    size_t scratch_len;
} IRInterpState;

#define IR_RA_INTERP 1u
static inline uintptr_t ir_interp_ra(IRInterpState *st) { return (uintptr_t)st | IR_RA_INTERP; }
static inline bool ir_ra_is_interp(uintptr_t ra) { return ra & IR_RA_INTERP; }
static inline IRInterpState *ir_interp_state_from_ra(uintptr_t ra)
{
    return (IRInterpState *)(ra & ~(uintptr_t)IR_RA_INTERP);
}

IRInterpCode *ir_interp_prepare(const IRBlock *b);
void ir_interp_free(IRInterpCode *c);
size_t ir_interp_code_size(const IRInterpCode *c);
uint64_t ir_interp_run(const IRInterpCode *c, void *env, IRInterpState *st);
void ir_interp_state_free(IRInterpState *st);

#endif
