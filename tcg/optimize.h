/*
 * The IR optimiser: runs on every block before either engine sees it, so
 * the interpreter and the host backend execute the same optimised IR.
 */
#ifndef VX86_TCG_OPTIMIZE_H
#define VX86_TCG_OPTIMIZE_H

#include "tcg/ir.h"

/* Rewrites b in place; the result computes the same guest state. */
void ir_optimize(IRBlock *b);
/* Frees the scratch state ir_optimize keeps in a block (ir_block_free). */
void ir_opt_scratch_free(struct OptContext *c);

#endif
