/*
 * The IR optimiser: runs on every block before either engine sees it.
 *
 *   ir_optimize(block);       // in place; the result computes the same state
 *
 * Two passes:
 *
 * 1. Forward (fold): one fold_<op> function per opcode, sorted
 *    alphabetically and dispatched by a single switch that asserts every
 *    op is handled.  Before an op is folded its inputs are replaced by the
 *    best known equal value (copy propagation: a constant, else env, else
 *    a global, else a local, else an EBB temp).  A fold function then does,
 *    in this order: constant folding (with ir_cond_eval for conditions, so
 *    folding agrees with the interpreter), algebraic simplification
 *    (x+0, x&0, x&-1, x^x, shifts by 0, ...), canonicalisation (constants
 *    as the second operand), branch folding.  Knowledge is kept per temp:
 *    "holds constant v", a ring of temps known to hold the same value, and
 *    which bits may be set (zmask: from zero-extending loads, ext*u, and
 *    with a constant, shr by a constant, setcond, or/xor/movcond of such),
 *    so that an ext*u or an and-mask that clears nothing becomes a move.
 *    It is forgotten at labels that are still branched to, for globals at
 *    calls that may write them and at guest memory ops (whose slow path
 *    may change globals), and for a temp when it is redefined.
 *    Code after br/exit_tb/goto_ptr up to the next label is unreachable
 *    and dropped; labels nobody branches to any more are dropped, which
 *    merges the blocks around them.
 *
 * 2. Backward (dead code): liveness over the block.  An op without side
 *    effects whose outputs are all dead is removed; mulu2/muls2 whose high
 *    half is dead become mul.  Globals are live at the block end, before
 *    ops that may fault or read them (guest memory ops, calls per helper
 *    flags) and before goto_tb/exit_tb/goto_ptr; between two writes of a
 *    global with none of those in between the first write is dead: this
 *    removes the lazy-flags stores that every ALU op makes.  Locals and
 *    globals are assumed live at branches (no dataflow across labels);
 *    EBB temps die at labels.
 */
#include "tcg/optimize.h"

#include <assert.h>
#include <stdlib.h>
#include <string.h>

#include "core/util.h"

typedef struct OptContext {
    IRBlock *b;
    IRInsn *out;             /* rewritten instructions */
    uint32_t nout, out_cap;
    uint32_t cap;            /* size of the per-temp arrays */
    uint8_t *known;          /* temp holds the constant val[t] */
    uint64_t *val;           /* canonical: i32 values zero-extended */
    uint64_t *zmask;         /* bits of t that may be set (~0: nothing known) */
    IRTemp *next_copy, *prev_copy;   /* ring of temps with equal values */
    uint32_t *label_refs;    /* branches still targeting each label */
    uint32_t labels_cap;
    IRTemp *touched;         /* temps with knowledge, for reset_all */
    uint8_t *is_touched;
    uint32_t ntouched;
    IRTemp *locals, *ebbs;   /* for the backward pass */
    uint32_t nlocals, nebbs;
    uint8_t *live, *keep;
    uint32_t keep_cap;
    IRInsn *cur;             /* the op being folded (in out[]) */
    /* (type, value) -> const temp, open addressing */
    IRTemp *ctab;
    uint32_t ctab_mask, ctab_used;
    bool unreachable;
    bool drop;               /* set by a fold function: do not emit */
} OptContext;

static bool is_const(const OptContext *c, IRTemp t)
{
    return c->b->temps[t].kind == IR_TEMP_CONST;
}

static uint64_t const_val(const OptContext *c, IRTemp t)
{
    const IRTempInfo *ti = &c->b->temps[t];
    return ir_trunc((IRType)ti->type, (uint64_t)ti->value);
}

static bool is_const_val(const OptContext *c, IRTemp t, uint64_t v)
{
    return is_const(c, t) && const_val(c, t) == ir_trunc((IRType)c->b->temps[t].type, v);
}

/* ---- per-temp knowledge ---- */

static void grow_temp_arrays(OptContext *c, uint32_t need)
{
    if (need <= c->cap)
        return;
    uint32_t old = c->cap, n = need + need / 2 + 16;
    c->known = xrealloc(c->known, n);
    c->val = xrealloc(c->val, n * sizeof(*c->val));
    c->zmask = xrealloc(c->zmask, n * sizeof(*c->zmask));
    c->next_copy = xrealloc(c->next_copy, n * sizeof(IRTemp));
    c->prev_copy = xrealloc(c->prev_copy, n * sizeof(IRTemp));
    c->touched = xrealloc(c->touched, n * sizeof(IRTemp));
    c->is_touched = xrealloc(c->is_touched, n);
    c->locals = xrealloc(c->locals, n * sizeof(IRTemp));
    c->ebbs = xrealloc(c->ebbs, n * sizeof(IRTemp));
    c->live = xrealloc(c->live, n);
    for (uint32_t t = old; t < n; t++) {
        c->known[t] = 0;
        c->zmask[t] = ~0ULL;
        c->is_touched[t] = 0;
        c->next_copy[t] = c->prev_copy[t] = t;
    }
    c->cap = n;
}

static void ctab_insert(OptContext *c, IRTemp t);

static void ctab_grow(OptContext *c)
{
    IRTemp *old = c->ctab;
    uint32_t oldn = c->ctab ? c->ctab_mask + 1 : 0;
    uint32_t n = oldn ? oldn * 2 : 256;
    c->ctab = xmalloc(n * sizeof(IRTemp));
    for (uint32_t k = 0; k < n; k++)
        c->ctab[k] = 0;          /* 0 is env, never a const: "empty" */
    c->ctab_mask = n - 1;
    c->ctab_used = 0;
    for (uint32_t k = 0; k < oldn; k++)
        if (old[k])
            ctab_insert(c, old[k]);
    free(old);
}

static uint32_t ctab_hash(IRType type, uint64_t v)
{
    uint64_t h = (v ^ ((uint64_t)type << 63)) * 0x9e3779b97f4a7c15ULL;
    return (uint32_t)(h >> 32);
}

static void ctab_insert(OptContext *c, IRTemp t)
{
    if ((c->ctab_used + 1) * 2 > c->ctab_mask + 1)
        ctab_grow(c);
    const IRTempInfo *ti = &c->b->temps[t];
    uint32_t k = ctab_hash((IRType)ti->type, const_val(c, t)) & c->ctab_mask;
    while (c->ctab[k])
        k = (k + 1) & c->ctab_mask;
    c->ctab[k] = t;
    c->ctab_used++;
}

/* A const temp of the given type and value (reused when one exists). */
static IRTemp const_temp(OptContext *c, IRType type, uint64_t v)
{
    v = ir_trunc(type, v);
    uint32_t k = ctab_hash(type, v) & c->ctab_mask;
    for (; c->ctab[k]; k = (k + 1) & c->ctab_mask) {
        IRTemp t = c->ctab[k];
        if (c->b->temps[t].type == type && const_val(c, t) == v)
            return t;
    }
    IRTemp t = ir_const(c->b, type, (int64_t)v);
    grow_temp_arrays(c, c->b->ntemps);
    ctab_insert(c, t);
    return t;
}

/* Forgets what is known about t (its constant value and its copies). */
static void reset_temp(OptContext *c, IRTemp t)
{
    IRTemp n = c->next_copy[t], p = c->prev_copy[t];
    c->next_copy[p] = n;
    c->prev_copy[n] = p;
    c->next_copy[t] = c->prev_copy[t] = t;
    c->known[t] = 0;
    c->zmask[t] = ~0ULL;
}

static void reset_globals(OptContext *c)
{
    for (IRTemp t = 1; t < c->b->nglobals; t++)
        reset_temp(c, t);
}

static void touch(OptContext *c, IRTemp t)
{
    if (!c->is_touched[t]) {
        c->is_touched[t] = 1;
        c->touched[c->ntouched++] = t;
    }
}

/* Forgets everything: only temps that ever gained knowledge have any. */
static void reset_all(OptContext *c)
{
    for (uint32_t i = 0; i < c->ntouched; i++) {
        IRTemp t = c->touched[i];
        c->next_copy[t] = c->prev_copy[t] = t;
        c->known[t] = 0;
        c->zmask[t] = ~0ULL;
        c->is_touched[t] = 0;
    }
    c->ntouched = 0;
}

static int kind_rank(IRTempKind k)
{
    switch (k) {
    case IR_TEMP_CONST: return 4;
    case IR_TEMP_FIXED: return 3;
    case IR_TEMP_GLOBAL: return 2;
    case IR_TEMP_LOCAL: return 1;
    default: return 0;
    }
}

/* The best temp known to hold the same value as t.  Between two globals
 * the one registered first wins: front ends register the register file
 * first (the backend keeps those in host registers) and bookkeeping
 * globals such as x86's cc_dst later (those are stored and reloaded), so
 * `mov cc_dst, rax` followed by a use does not turn into a reload. */
static IRTemp best_copy(OptContext *c, IRTemp t)
{
    const IRTempInfo *ti = &c->b->temps[t];
    if (ti->kind == IR_TEMP_CONST)
        return t;
    if (c->known[t])
        return const_temp(c, (IRType)ti->type, c->val[t]);
    IRTemp best = t;
    int rank = kind_rank((IRTempKind)ti->kind);
    for (IRTemp i = c->next_copy[t]; i != t; i = c->next_copy[i]) {
        int r = kind_rank((IRTempKind)c->b->temps[i].kind);
        bool earlier_global = r == rank && r == kind_rank(IR_TEMP_GLOBAL) && i < best;
        if (r > rank || earlier_global) {
            rank = r;
            best = i;
        }
    }
    return best;
}

/* Bits of t's value that may be 1 (known bits: a set bit is "unknown"). */
static uint64_t zm(const OptContext *c, IRTemp t)
{
    const IRTempInfo *ti = &c->b->temps[t];
    if (ti->kind == IR_TEMP_CONST)
        return const_val(c, t);
    if (c->known[t])
        return c->val[t];
    return ir_trunc((IRType)ti->type, c->zmask[t]);
}

/* ---- rewriting helpers ---- */

static void make_movi(OptContext *c, IRInsn *op, IRTemp d, uint64_t v)
{
    IRType t = (IRType)c->b->temps[d].type;
    op->op = IR_movi;
    op->type = t;
    op->nout = 1;
    op->nin = 0;
    op->nconst = 1;
    op->args[0] = d;
    op->args[1] = ir_trunc(t, v);
}

static void make_mov(OptContext *c, IRInsn *op, IRTemp d, IRTemp s)
{
    if (is_const(c, s)) {
        make_movi(c, op, d, const_val(c, s));
        return;
    }
    if (d == s) {
        c->drop = true;
        return;
    }
    op->op = IR_mov;
    op->type = c->b->temps[d].type;
    op->nout = 1;
    op->nin = 1;
    op->nconst = 0;
    op->args[0] = d;
    op->args[1] = s;
}

/* The slot for the next output instruction (out[nout]). */
static IRInsn *out_slot(OptContext *c)
{
    if (c->nout == c->out_cap) {
        c->out_cap = c->out_cap * 2 + 16;
        c->out = xrealloc(c->out, c->out_cap * sizeof(IRInsn));
    }
    return &c->out[c->nout];
}

static void swap_args(IRInsn *op, unsigned i, unsigned j)
{
    uint64_t x = op->args[i];
    op->args[i] = op->args[j];
    op->args[j] = x;
}

/* Result of comparing a value with itself: 1 true, 0 false, -1 unknown. */
static int cond_same_operands(IRCond cond)
{
    switch (cond) {
    case IR_COND_ALWAYS: case IR_COND_EQ: case IR_COND_GE: case IR_COND_LE:
    case IR_COND_GEU: case IR_COND_LEU:
        return 1;
    case IR_COND_NEVER: case IR_COND_NE: case IR_COND_LT: case IR_COND_GT:
    case IR_COND_LTU: case IR_COND_GTU:
        return 0;
    default:
        return -1;
    }
}

/* Decides cond(a, b) at compile time if possible: 1, 0 or -1 (unknown). */
static int cond_decide(OptContext *c, IRType t, IRCond cond, IRTemp a, IRTemp b)
{
    if (cond == IR_COND_ALWAYS)
        return 1;
    if (cond == IR_COND_NEVER)
        return 0;
    if (is_const(c, a) && is_const(c, b))
        return ir_cond_eval(cond, t, const_val(c, a), const_val(c, b));
    if (a == b)
        return cond_same_operands(cond);
    if (is_const_val(c, b, 0)) {
        if (cond == IR_COND_LTU)          /* x < 0 unsigned: never */
            return 0;
        if (cond == IR_COND_GEU)
            return 1;
        if (cond == IR_COND_TSTEQ)
            return 1;
        if (cond == IR_COND_TSTNE)
            return 0;
    }
    return -1;
}

/* Pure value semantics of every foldable op, mirroring tcg/interp.c. */
static uint64_t eval_unary(IROpcode op, IRType t, uint64_t a)
{
    switch (op) {
    case IR_neg: return -a;
    case IR_not: return ~a;
    case IR_ext8s: return ir_sext(a, 8);
    case IR_ext8u: return a & 0xff;
    case IR_ext16s: return ir_sext(a, 16);
    case IR_ext16u: return a & 0xffff;
    case IR_ext32s: return ir_sext(a, 32);
    case IR_ext32u: return a & 0xffffffffu;
    case IR_extu_i32: return (uint32_t)a;
    case IR_exts_i32: return ir_sext(a, 32);
    case IR_extrl_i64: return (uint32_t)a;
    case IR_extrh_i64: return a >> 32;
    case IR_bswap16: return __builtin_bswap16((uint16_t)a);
    case IR_bswap32: return __builtin_bswap32((uint32_t)a);
    case IR_bswap64: return __builtin_bswap64(a);
    case IR_ctpop: return (uint64_t)__builtin_popcountll(ir_trunc(t, a));
    default: abort();
    }
}

static uint64_t eval_rotl(IRType t, uint64_t a, unsigned n)
{
    unsigned w = ir_type_bits(t);
    n &= w - 1;
    a = ir_trunc(t, a);
    return n ? (a << n) | (a >> (w - n)) : a;
}

static uint64_t eval_binary(IROpcode op, IRType t, uint64_t a, uint64_t b)
{
    unsigned w = ir_type_bits(t);
    switch (op) {
    case IR_add: return a + b;
    case IR_sub: return a - b;
    case IR_mul: return a * b;
    case IR_and: return a & b;
    case IR_or: return a | b;
    case IR_xor: return a ^ b;
    case IR_andc: return a & ~b;
    case IR_shl: return a << (b & (w - 1));
    case IR_shr: return ir_trunc(t, a) >> (b & (w - 1));
    case IR_sar: return (uint64_t)((int64_t)ir_sext(a, w) >> (b & (w - 1)));
    case IR_rotl: return eval_rotl(t, a, (unsigned)b);
    case IR_rotr: return eval_rotl(t, a, (w - (unsigned)(b & (w - 1))) & (w - 1));
    default: abort();
    }
}

/* ---- fold helpers shared by several ops ---- */

static IRTemp in(const IRInsn *op, unsigned k)
{
    return (IRTemp)op->args[op->nout + k];
}

static uint64_t kon(const IRInsn *op, unsigned k)
{
    return op->args[op->nout + op->nin + k];
}

static bool fold_const_unary(OptContext *c, IRInsn *op)
{
    if (!is_const(c, in(op, 0)))
        return false;
    uint64_t a = const_val(c, in(op, 0));
    make_movi(c, op, (IRTemp)op->args[0], eval_unary((IROpcode)op->op, (IRType)op->type, a));
    return true;
}

static bool fold_const_binary(OptContext *c, IRInsn *op)
{
    if (!is_const(c, in(op, 0)) || !is_const(c, in(op, 1)))
        return false;
    uint64_t r = eval_binary((IROpcode)op->op, (IRType)op->type,
                             const_val(c, in(op, 0)), const_val(c, in(op, 1)));
    make_movi(c, op, (IRTemp)op->args[0], r);
    return true;
}

/* Commutative ops: constant second, so the backend can use immediates. */
static void canon_commutative(OptContext *c, IRInsn *op)
{
    if (is_const(c, in(op, 0)) && !is_const(c, in(op, 1)))
        swap_args(op, 1, 2);
}

/* x op 0 = x (add, or, xor, shifts, rotates, sub). */
static bool fold_right_identity(OptContext *c, IRInsn *op, uint64_t ident)
{
    if (is_const_val(c, in(op, 1), ident)) {
        make_mov(c, op, (IRTemp)op->args[0], in(op, 0));
        return true;
    }
    return false;
}

static bool fold_to_const_if(OptContext *c, IRInsn *op, bool cond, uint64_t v)
{
    if (cond)
        make_movi(c, op, (IRTemp)op->args[0], v);
    return cond;
}

static void fold_shift_common(OptContext *c, IRInsn *op)
{
    if (fold_const_binary(c, op))
        return;
    IRType t = (IRType)op->type;
    if (is_const(c, in(op, 1)) && (const_val(c, in(op, 1)) & (ir_type_bits(t) - 1)) == 0) {
        make_mov(c, op, (IRTemp)op->args[0], in(op, 0));
        return;
    }
    if (is_const_val(c, in(op, 0), 0)) {
        make_movi(c, op, (IRTemp)op->args[0], 0);
        return;
    }
    /* Counts are modulo the width: keep the constant in range. */
    if (is_const(c, in(op, 1))) {
        uint64_t n = const_val(c, in(op, 1));
        if (n >= ir_type_bits(t))
            op->args[2] = const_temp(c, t, n & (ir_type_bits(t) - 1));
    }
}

/* ---- fold_<op>, sorted alphabetically ---- */

static void fold_add(OptContext *c, IRInsn *op)
{
    canon_commutative(c, op);
    if (fold_const_binary(c, op) || fold_right_identity(c, op, 0))
        return;
}

static void fold_and(OptContext *c, IRInsn *op)
{
    canon_commutative(c, op);
    IRTemp d = (IRTemp)op->args[0];
    if (fold_const_binary(c, op) || fold_right_identity(c, op, ~0ULL))
        return;
    if (fold_to_const_if(c, op, is_const_val(c, in(op, 1), 0), 0))
        return;
    if (in(op, 0) == in(op, 1))
        make_mov(c, op, d, in(op, 0));
    else if (is_const(c, in(op, 1)) && (zm(c, in(op, 0)) & ~const_val(c, in(op, 1))) == 0)
        make_mov(c, op, d, in(op, 0));    /* the mask clears nothing that may be set */
}

static void fold_andc(OptContext *c, IRInsn *op)
{
    IRTemp d = (IRTemp)op->args[0];
    if (fold_const_binary(c, op) || fold_right_identity(c, op, 0))
        return;
    if (fold_to_const_if(c, op, in(op, 0) == in(op, 1) || is_const_val(c, in(op, 0), 0) ||
                         is_const_val(c, in(op, 1), ~0ULL), 0))
        return;
    if (is_const(c, in(op, 1))) {       /* a & ~k is an and with a constant */
        IRType t = (IRType)op->type;
        uint64_t k = const_val(c, in(op, 1));
        op->op = IR_and;
        op->args[2] = const_temp(c, t, ~k);
        (void)d;
    }
}

static void fold_br(OptContext *c, IRInsn *op)
{
    /* A branch to the label that immediately follows is a no-op; the
     * caller peeks at the next instruction (see next_is_label). */
}

static void fold_brcond(OptContext *c, IRInsn *op)
{
    IRType t = (IRType)op->type;
    if (is_const(c, in(op, 0)) && !is_const(c, in(op, 1))) {
        swap_args(op, 0, 1);
        op->args[2] = ir_cond_swap((IRCond)op->args[2]);
    }
    int r = cond_decide(c, t, (IRCond)kon(op, 0), in(op, 0), in(op, 1));
    uint64_t label = kon(op, 1);
    if (r == 0) {
        c->label_refs[label]--;
        c->drop = true;
    } else if (r == 1) {
        op->op = IR_br;
        op->type = IR_I32;
        op->nin = 0;
        op->nconst = 1;
        op->args[0] = label;
    }
}

static void fold_bswap16(OptContext *c, IRInsn *op) { fold_const_unary(c, op); }
static void fold_bswap32(OptContext *c, IRInsn *op) { fold_const_unary(c, op); }
static void fold_bswap64(OptContext *c, IRInsn *op) { fold_const_unary(c, op); }

static void fold_call(OptContext *c, IRInsn *op)
{
}

static void fold_count_zeros(OptContext *c, IRInsn *op, bool leading)
{
    if (!is_const(c, in(op, 0)))
        return;
    IRType t = (IRType)op->type;
    uint64_t x = const_val(c, in(op, 0));
    IRTemp d = (IRTemp)op->args[0];
    if (x == 0) {
        make_mov(c, op, d, in(op, 1));
        return;
    }
    uint64_t r = leading ? (uint64_t)(__builtin_clzll(x) - (64 - ir_type_bits(t)))
                         : (uint64_t)__builtin_ctzll(x);
    make_movi(c, op, d, r);
}

static void fold_clz(OptContext *c, IRInsn *op) { fold_count_zeros(c, op, true); }
static void fold_ctpop(OptContext *c, IRInsn *op) { fold_const_unary(c, op); }
static void fold_ctz(OptContext *c, IRInsn *op) { fold_count_zeros(c, op, false); }

static void fold_deposit(OptContext *c, IRInsn *op)
{
    IRType t = (IRType)op->type;
    unsigned pos = (unsigned)kon(op, 0), len = (unsigned)kon(op, 1);
    IRTemp d = (IRTemp)op->args[0];
    if (pos >= 64 || len == 0 || len > 64)
        return;
    if (pos == 0 && len >= ir_type_bits(t)) {
        make_mov(c, op, d, in(op, 1));
        return;
    }
    if (is_const(c, in(op, 0)) && is_const(c, in(op, 1))) {
        uint64_t m = (len >= 64 ? ~0ULL : (1ULL << len) - 1) << pos;
        uint64_t a = const_val(c, in(op, 0)), v = const_val(c, in(op, 1));
        make_movi(c, op, d, (a & ~m) | ((v << pos) & m));
    }
}

static void fold_discard(OptContext *c, IRInsn *op)
{
}

static void fold_exit_tb(OptContext *c, IRInsn *op)
{
}

static void fold_ext16s(OptContext *c, IRInsn *op) { fold_const_unary(c, op); }
/* ext*u of a value whose other bits are known zero is a move. */
static void fold_zero_ext(OptContext *c, IRInsn *op, uint64_t mask)
{
    if (fold_const_unary(c, op))
        return;
    if ((zm(c, in(op, 0)) & ~mask) == 0)
        make_mov(c, op, (IRTemp)op->args[0], in(op, 0));
}

static void fold_ext16u(OptContext *c, IRInsn *op) { fold_zero_ext(c, op, 0xffff); }
static void fold_ext32s(OptContext *c, IRInsn *op) { fold_const_unary(c, op); }
static void fold_ext32u(OptContext *c, IRInsn *op) { fold_zero_ext(c, op, 0xffffffffu); }
static void fold_ext8s(OptContext *c, IRInsn *op) { fold_const_unary(c, op); }
static void fold_ext8u(OptContext *c, IRInsn *op) { fold_zero_ext(c, op, 0xff); }

static void fold_extract(OptContext *c, IRInsn *op)
{
    unsigned pos = (unsigned)kon(op, 0), len = (unsigned)kon(op, 1);
    if (pos >= 64 || len == 0 || len > 64 || !is_const(c, in(op, 0)))
        return;
    uint64_t x = const_val(c, in(op, 0)) >> pos;
    make_movi(c, op, (IRTemp)op->args[0], len >= 64 ? x : x & ((1ULL << len) - 1));
}

static void fold_extrh_i64(OptContext *c, IRInsn *op) { fold_const_unary(c, op); }
static void fold_extrl_i64(OptContext *c, IRInsn *op) { fold_const_unary(c, op); }
static void fold_exts_i32(OptContext *c, IRInsn *op) { fold_const_unary(c, op); }
static void fold_extu_i32(OptContext *c, IRInsn *op) { fold_const_unary(c, op); }

static void fold_goto_ptr(OptContext *c, IRInsn *op)
{
}

static void fold_goto_tb(OptContext *c, IRInsn *op)
{
}

static void fold_guest_atomic(OptContext *c, IRInsn *op)
{
}

static void fold_guest_ld(OptContext *c, IRInsn *op)
{
}

static void fold_guest_st(OptContext *c, IRInsn *op)
{
}

static void fold_host_load(OptContext *c, IRInsn *op)
{
    /* Host memory is not tracked (it may be anything the front end
     * points at); loads are only removed when dead. */
}

static void fold_insn_start(OptContext *c, IRInsn *op)
{
}

static void fold_ld(OptContext *c, IRInsn *op) { fold_host_load(c, op); }
static void fold_ld16s(OptContext *c, IRInsn *op) { fold_host_load(c, op); }
static void fold_ld16u(OptContext *c, IRInsn *op) { fold_host_load(c, op); }
static void fold_ld32s(OptContext *c, IRInsn *op) { fold_host_load(c, op); }
static void fold_ld32u(OptContext *c, IRInsn *op) { fold_host_load(c, op); }
static void fold_ld8s(OptContext *c, IRInsn *op) { fold_host_load(c, op); }
static void fold_ld8u(OptContext *c, IRInsn *op) { fold_host_load(c, op); }

static void fold_mb(OptContext *c, IRInsn *op)
{
}

static void fold_mov(OptContext *c, IRInsn *op)
{
    make_mov(c, op, (IRTemp)op->args[0], in(op, 0));
}

static void fold_movcond(OptContext *c, IRInsn *op)
{
    IRType t = (IRType)op->type;
    IRTemp d = (IRTemp)op->args[0];
    if (is_const(c, in(op, 0)) && !is_const(c, in(op, 1))) {
        swap_args(op, 1, 2);
        op->args[5] = ir_cond_swap((IRCond)op->args[5]);
    }
    if (in(op, 2) == in(op, 3)) {
        make_mov(c, op, d, in(op, 2));
        return;
    }
    int r = cond_decide(c, t, (IRCond)kon(op, 0), in(op, 0), in(op, 1));
    if (r >= 0)
        make_mov(c, op, d, r ? in(op, 2) : in(op, 3));
}

static void fold_movi(OptContext *c, IRInsn *op)
{
    op->args[1] = ir_trunc((IRType)c->b->temps[op->args[0]].type, op->args[1]);
}

static void fold_mul(OptContext *c, IRInsn *op)
{
    canon_commutative(c, op);
    if (fold_const_binary(c, op) || fold_right_identity(c, op, 1))
        return;
    fold_to_const_if(c, op, is_const_val(c, in(op, 1), 0), 0);
}

static void fold_mul_wide(OptContext *c, IRInsn *op, bool sign)
{
    if (!is_const(c, in(op, 0)) || !is_const(c, in(op, 1)))
        return;
    IRType t = (IRType)op->type;
    uint64_t a = const_val(c, in(op, 0)), b = const_val(c, in(op, 1)), lo, hi;
    if (t == IR_I32) {
        uint64_t r = sign ? (uint64_t)((int64_t)(int32_t)a * (int64_t)(int32_t)b) : a * b;
        lo = (uint32_t)r;
        hi = (uint32_t)(r >> 32);
    } else if (sign) {
        __int128 r = (__int128)(int64_t)a * (int64_t)b;
        lo = (uint64_t)r;
        hi = (uint64_t)((unsigned __int128)r >> 64);
    } else {
        unsigned __int128 r = (unsigned __int128)a * b;
        lo = (uint64_t)r;
        hi = (uint64_t)(r >> 64);
    }
    IRTemp dlo = (IRTemp)op->args[0], dhi = (IRTemp)op->args[1];
    make_movi(c, op, dlo, lo);          /* in place; the high half follows */
    reset_temp(c, dlo);
    c->known[dlo] = 1;
    c->val[dlo] = ir_trunc(t, lo);
    touch(c, dlo);
    c->nout++;
    IRInsn *second = out_slot(c);       /* may move out[]: op is stale now */
    make_movi(c, second, dhi, hi);
    c->cur = second;
}

static void fold_muls2(OptContext *c, IRInsn *op) { fold_mul_wide(c, op, true); }
static void fold_mulu2(OptContext *c, IRInsn *op) { fold_mul_wide(c, op, false); }
static void fold_neg(OptContext *c, IRInsn *op) { fold_const_unary(c, op); }
static void fold_not(OptContext *c, IRInsn *op) { fold_const_unary(c, op); }

static void fold_or(OptContext *c, IRInsn *op)
{
    canon_commutative(c, op);
    if (fold_const_binary(c, op) || fold_right_identity(c, op, 0))
        return;
    if (fold_to_const_if(c, op, is_const_val(c, in(op, 1), ~0ULL), ~0ULL))
        return;
    if (in(op, 0) == in(op, 1))
        make_mov(c, op, (IRTemp)op->args[0], in(op, 0));
}

static void fold_rotl(OptContext *c, IRInsn *op) { fold_shift_common(c, op); }
static void fold_rotr(OptContext *c, IRInsn *op) { fold_shift_common(c, op); }

static void fold_sar(OptContext *c, IRInsn *op)
{
    if (is_const_val(c, in(op, 0), ~0ULL) && !is_const(c, in(op, 1))) {
        make_movi(c, op, (IRTemp)op->args[0], ~0ULL);
        return;
    }
    fold_shift_common(c, op);
}

static void fold_set_label(OptContext *c, IRInsn *op)
{
    if (c->label_refs[op->args[0]] == 0)
        c->drop = true;          /* nobody jumps here: the EBB continues */
}

static void fold_setcond(OptContext *c, IRInsn *op)
{
    IRType t = (IRType)op->type;
    if (is_const(c, in(op, 0)) && !is_const(c, in(op, 1))) {
        swap_args(op, 1, 2);
        op->args[3] = ir_cond_swap((IRCond)op->args[3]);
    }
    int r = cond_decide(c, t, (IRCond)kon(op, 0), in(op, 0), in(op, 1));
    if (r >= 0)
        make_movi(c, op, (IRTemp)op->args[0], (uint64_t)r);
}

static void fold_sextract(OptContext *c, IRInsn *op)
{
    unsigned pos = (unsigned)kon(op, 0), len = (unsigned)kon(op, 1);
    if (pos >= 64 || len == 0 || len > 64 || !is_const(c, in(op, 0)))
        return;
    make_movi(c, op, (IRTemp)op->args[0], ir_sext(const_val(c, in(op, 0)) >> pos, len));
}

static void fold_shl(OptContext *c, IRInsn *op) { fold_shift_common(c, op); }
static void fold_shr(OptContext *c, IRInsn *op) { fold_shift_common(c, op); }

static void fold_host_store(OptContext *c, IRInsn *op)
{
}

static void fold_st(OptContext *c, IRInsn *op) { fold_host_store(c, op); }
static void fold_st16(OptContext *c, IRInsn *op) { fold_host_store(c, op); }
static void fold_st32(OptContext *c, IRInsn *op) { fold_host_store(c, op); }
static void fold_st8(OptContext *c, IRInsn *op) { fold_host_store(c, op); }

static void fold_sub(OptContext *c, IRInsn *op)
{
    if (fold_const_binary(c, op) || fold_right_identity(c, op, 0))
        return;
    if (fold_to_const_if(c, op, in(op, 0) == in(op, 1), 0))
        return;
    if (is_const(c, in(op, 1))) {       /* x - k = x + (-k): one form for the backend */
        IRType t = (IRType)op->type;
        op->op = IR_add;
        op->args[2] = const_temp(c, t, -const_val(c, in(op, 1)));
    }
}

/* Vector ops work on env memory, which is not tracked. */
static void fold_vec(OptContext *c, IRInsn *op)
{
}

static void fold_vec_from(OptContext *c, IRInsn *op)
{
}

static void fold_vec_to(OptContext *c, IRInsn *op)
{
}

static void fold_xor(OptContext *c, IRInsn *op)
{
    canon_commutative(c, op);
    if (fold_const_binary(c, op) || fold_right_identity(c, op, 0))
        return;
    fold_to_const_if(c, op, in(op, 0) == in(op, 1), 0);
}

/* Dispatches to fold_<op>; every op must have a case. */
static void fold_insn(OptContext *c, IRInsn *op)
{
    bool done = true;
    switch ((IROpcode)op->op) {
    case IR_add: fold_add(c, op); break;
    case IR_and: fold_and(c, op); break;
    case IR_andc: fold_andc(c, op); break;
    case IR_br: fold_br(c, op); break;
    case IR_brcond: fold_brcond(c, op); break;
    case IR_bswap16: fold_bswap16(c, op); break;
    case IR_bswap32: fold_bswap32(c, op); break;
    case IR_bswap64: fold_bswap64(c, op); break;
    case IR_call: fold_call(c, op); break;
    case IR_clz: fold_clz(c, op); break;
    case IR_ctpop: fold_ctpop(c, op); break;
    case IR_ctz: fold_ctz(c, op); break;
    case IR_deposit: fold_deposit(c, op); break;
    case IR_discard: fold_discard(c, op); break;
    case IR_exit_tb: fold_exit_tb(c, op); break;
    case IR_ext16s: fold_ext16s(c, op); break;
    case IR_ext16u: fold_ext16u(c, op); break;
    case IR_ext32s: fold_ext32s(c, op); break;
    case IR_ext32u: fold_ext32u(c, op); break;
    case IR_ext8s: fold_ext8s(c, op); break;
    case IR_ext8u: fold_ext8u(c, op); break;
    case IR_extract: fold_extract(c, op); break;
    case IR_extrh_i64: fold_extrh_i64(c, op); break;
    case IR_extrl_i64: fold_extrl_i64(c, op); break;
    case IR_exts_i32: fold_exts_i32(c, op); break;
    case IR_extu_i32: fold_extu_i32(c, op); break;
    case IR_goto_ptr: fold_goto_ptr(c, op); break;
    case IR_goto_tb: fold_goto_tb(c, op); break;
    case IR_guest_atomic: fold_guest_atomic(c, op); break;
    case IR_guest_ld: fold_guest_ld(c, op); break;
    case IR_guest_st: fold_guest_st(c, op); break;
    case IR_insn_start: fold_insn_start(c, op); break;
    case IR_ld: fold_ld(c, op); break;
    case IR_ld16s: fold_ld16s(c, op); break;
    case IR_ld16u: fold_ld16u(c, op); break;
    case IR_ld32s: fold_ld32s(c, op); break;
    case IR_ld32u: fold_ld32u(c, op); break;
    case IR_ld8s: fold_ld8s(c, op); break;
    case IR_ld8u: fold_ld8u(c, op); break;
    case IR_mb: fold_mb(c, op); break;
    case IR_mov: fold_mov(c, op); break;
    case IR_movcond: fold_movcond(c, op); break;
    case IR_movi: fold_movi(c, op); break;
    case IR_mul: fold_mul(c, op); break;
    case IR_muls2: fold_muls2(c, op); break;
    case IR_mulu2: fold_mulu2(c, op); break;
    case IR_neg: fold_neg(c, op); break;
    case IR_not: fold_not(c, op); break;
    case IR_or: fold_or(c, op); break;
    case IR_rotl: fold_rotl(c, op); break;
    case IR_rotr: fold_rotr(c, op); break;
    case IR_sar: fold_sar(c, op); break;
    case IR_set_label: fold_set_label(c, op); break;
    case IR_setcond: fold_setcond(c, op); break;
    case IR_sextract: fold_sextract(c, op); break;
    case IR_shl: fold_shl(c, op); break;
    case IR_shr: fold_shr(c, op); break;
    case IR_st: fold_st(c, op); break;
    case IR_st16: fold_st16(c, op); break;
    case IR_st32: fold_st32(c, op); break;
    case IR_st8: fold_st8(c, op); break;
    case IR_sub: fold_sub(c, op); break;
    case IR_vec: fold_vec(c, op); break;
    case IR_vec_from: fold_vec_from(c, op); break;
    case IR_vec_to: fold_vec_to(c, op); break;
    case IR_xor: fold_xor(c, op); break;
    default: done = false; break;
    }
    assert(done && "ir_optimize: op without a fold function");
    (void)done;
}

/* ---- the forward pass ---- */

static bool call_may_write_globals(const IRInsn *op)
{
    const IRHelper *h = (const IRHelper *)(uintptr_t)op->args[op->nout + op->nin];
    return !(h->flags & IR_CALL_NO_WRITE_GLOBALS);
}

/* The bits the output of op may have set, from its inputs' (~0: unknown). */
static uint64_t out_zmask(OptContext *c, const IRInsn *op)
{
    IRType t = (IRType)op->type;
    switch ((IROpcode)op->op) {
    case IR_ext8u: return zm(c, in(op, 0)) & 0xff;
    case IR_ext16u: return zm(c, in(op, 0)) & 0xffff;
    case IR_ext32u: case IR_extu_i32: return zm(c, in(op, 0)) & 0xffffffffu;
    case IR_and: return zm(c, in(op, 0)) & zm(c, in(op, 1));
    case IR_or: case IR_xor: return zm(c, in(op, 0)) | zm(c, in(op, 1));
    case IR_shr:
        if (is_const(c, in(op, 1)))
            return zm(c, in(op, 0)) >> (const_val(c, in(op, 1)) & (ir_type_bits(t) - 1));
        return ~0ULL;
    case IR_movcond: return zm(c, in(op, 2)) | zm(c, in(op, 3));
    case IR_setcond: return 1;
    case IR_ld8u: return 0xff;
    case IR_ld16u: return 0xffff;
    case IR_ld32u: return 0xffffffffu;
    case IR_extract: {
        unsigned len = (unsigned)kon(op, 1);
        return len >= 64 ? ~0ULL : (1ULL << len) - 1;
    }
    case IR_guest_ld: case IR_guest_atomic: {
        IRMemOp mo = (IRMemOp)kon(op, 0);
        unsigned bits = 8u << (mo & IR_MO_SIZE);
        if (((mo & IR_MO_SIGN) && op->op == IR_guest_ld) || bits >= 64)
            return ~0ULL;
        return (1ULL << bits) - 1;
    }
    default:
        return ~0ULL;
    }
}

/* Records what the emitted op tells about its outputs. */
static void learn_from(OptContext *c, const IRInsn *op)
{
    uint64_t z = op->nout == 1 ? out_zmask(c, op) : ~0ULL;   /* before outputs change */
    switch ((IROpcode)op->op) {
    case IR_movi: {
        IRTemp d = (IRTemp)op->args[0];
        reset_temp(c, d);
        c->known[d] = 1;
        c->val[d] = op->args[1];
        touch(c, d);
        return;
    }
    case IR_mov: {
        IRTemp d = (IRTemp)op->args[0], s = (IRTemp)op->args[1];
        reset_temp(c, d);
        touch(c, d);
        touch(c, s);
        /* d joins s's ring */
        IRTemp n = c->next_copy[s];
        c->next_copy[s] = d;
        c->prev_copy[d] = s;
        c->next_copy[d] = n;
        c->prev_copy[n] = d;
        c->zmask[d] = zm(c, s);
        return;
    }
    case IR_set_label:
        reset_all(c);
        return;
    case IR_discard:
        if (c->b->temps[op->args[0]].kind != IR_TEMP_GLOBAL)
            reset_temp(c, (IRTemp)op->args[0]);
        return;
    case IR_call:
        if (call_may_write_globals(op))
            reset_globals(c);
        break;
    case IR_guest_ld:
    case IR_guest_st:
    case IR_guest_atomic:
        reset_globals(c);   /* the slow path may update guest state */
        break;
    default:
        break;
    }
    for (unsigned k = 0; k < op->nout; k++)
        reset_temp(c, (IRTemp)op->args[k]);
    if (op->nout == 1 && ir_trunc((IRType)op->type, z) != ir_trunc((IRType)op->type, ~0ULL)) {
        IRTemp d = (IRTemp)op->args[0];
        c->zmask[d] = z;
        touch(c, d);
    }
}

static bool is_branch(const IRInsn *op)
{
    return op->op == IR_br || op->op == IR_brcond;
}

static uint64_t branch_label(const IRInsn *op)
{
    return op->op == IR_br ? op->args[0] : op->args[op->nout + op->nin + 1];
}

static void forward_pass(OptContext *c)
{
    IRBlock *b = c->b;
    for (uint32_t n = 0; n < b->ninsns; n++) {
        const IRInsn *src = &b->insns[n];
        if (c->unreachable) {
            /* Skipped up to a label that is still branched to. */
            if (src->op != IR_set_label || c->label_refs[src->args[0]] == 0) {
                if (is_branch(src))
                    c->label_refs[branch_label(src)]--;
                continue;
            }
            c->unreachable = false;
        }
        IRInsn *op = out_slot(c);
        *op = *src;
        c->cur = op;
        if (op->op != IR_discard)
            for (unsigned k = 0; k < op->nin; k++)
                op->args[op->nout + k] = best_copy(c, (IRTemp)op->args[op->nout + k]);
        c->drop = false;
        fold_insn(c, op);
        op = c->cur;                     /* mulu2 folding emits two movi */
        /* br to the label right after it */
        if (!c->drop && op->op == IR_br && n + 1 < b->ninsns &&
            b->insns[n + 1].op == IR_set_label && b->insns[n + 1].args[0] == op->args[0]) {
            c->label_refs[op->args[0]]--;
            c->drop = true;
        }
        if (c->drop)
            continue;
        c->nout++;
        learn_from(c, op);
        if (op->op == IR_br || op->op == IR_exit_tb || op->op == IR_goto_ptr)
            c->unreachable = true;
    }
}

/* ---- the backward pass: liveness and dead code ---- */

static bool op_removable(const IRInsn *op)
{
    const IROpDef *d = &ir_op_defs[op->op];
    if (op->op == IR_call) {
        const IRHelper *h = (const IRHelper *)(uintptr_t)op->args[op->nout + op->nin];
        return op->nout && (h->flags & IR_CALL_PURE) && !(h->flags & IR_CALL_CAN_FAULT);
    }
    if (op->nout == 0)
        return false;
    return !(d->flags & (IR_OPF_SIDE_EFFECTS | IR_OPF_CAN_FAULT | IR_OPF_BB_END));
}

static void backward_pass(OptContext *c)
{
    IRBlock *b = c->b;
    uint32_t nt = b->ntemps;
    uint8_t *live = c->live;
    if (c->keep_cap < c->nout) {
        c->keep_cap = c->nout + c->nout / 2 + 64;
        c->keep = xrealloc(c->keep, c->keep_cap);
    }
    uint8_t *keep = c->keep;
    c->nlocals = c->nebbs = 0;
    for (IRTemp t = 0; t < nt; t++) {
        uint8_t kind = b->temps[t].kind;
        live[t] = kind == IR_TEMP_GLOBAL;
        if (kind == IR_TEMP_LOCAL)
            c->locals[c->nlocals++] = t;
        else if (kind == IR_TEMP_EBB)
            c->ebbs[c->nebbs++] = t;
    }
    for (uint32_t n = c->nout; n-- > 0;) {
        IRInsn *op = &c->out[n];
        keep[n] = 1;
        switch ((IROpcode)op->op) {
        case IR_exit_tb:
        case IR_goto_ptr:
            for (uint32_t i = 0; i < c->nlocals; i++)
                live[c->locals[i]] = 0;
            for (uint32_t i = 0; i < c->nebbs; i++)
                live[c->ebbs[i]] = 0;
            break;
        case IR_br:
        case IR_set_label:
            for (uint32_t i = 0; i < c->nlocals; i++)
                live[c->locals[i]] = 1;
            for (uint32_t i = 0; i < c->nebbs; i++)
                live[c->ebbs[i]] = 0;
            break;
        case IR_brcond:
            for (uint32_t i = 0; i < c->nlocals; i++)
                live[c->locals[i]] = 1;
            break;
        default:
            break;
        }
        bool any_live = false;
        for (unsigned k = 0; k < op->nout; k++)
            any_live |= live[op->args[k]];
        if (op->nout && !any_live && op_removable(op)) {
            keep[n] = 0;
            continue;
        }
        if ((op->op == IR_mulu2 || op->op == IR_muls2) && !live[op->args[1]]) {
            op->op = IR_mul;     /* only the low half is used */
            op->nout = 1;
            op->args[1] = op->args[2];
            op->args[2] = op->args[3];
        }
        if (op->op == IR_discard && b->temps[op->args[0]].kind != IR_TEMP_GLOBAL) {
            live[op->args[0]] = 0;
            continue;
        }
        for (unsigned k = 0; k < op->nout; k++)
            live[op->args[k]] = 0;
        if (ir_op_uses_globals(op))
            for (IRTemp t = 1; t < b->nglobals; t++)
                live[t] = 1;
        for (unsigned k = 0; k < op->nin; k++)
            live[op->args[op->nout + k]] = 1;
    }
    uint32_t w = 0;
    for (uint32_t n = 0; n < c->nout; n++) {
        if (keep[n]) {
            if (w != n)
                c->out[w] = c->out[n];
            w++;
        }
    }
    c->nout = w;
}

/* Scratch arrays survive between calls, kept with the block (each CPU's
 * translator reuses one IRBlock): the optimiser runs once per translated
 * block and should not allocate, and several vCPU threads optimise at
 * once without sharing anything. */
void ir_opt_scratch_free(struct OptContext *c)
{
    if (!c)
        return;
    free(c->out);
    free(c->known);
    free(c->val);
    free(c->zmask);
    free(c->next_copy);
    free(c->prev_copy);
    free(c->label_refs);
    free(c->touched);
    free(c->is_touched);
    free(c->locals);
    free(c->ebbs);
    free(c->live);
    free(c->keep);
    free(c->ctab);
    free(c);
}

void ir_optimize(IRBlock *b)
{
    if (!b->opt)
        b->opt = xcalloc(1, sizeof(OptContext));
    OptContext *c = b->opt;
    c->b = b;
    c->nout = 0;
    c->ntouched = 0;
    c->unreachable = false;
    grow_temp_arrays(c, b->ntemps);
    for (IRTemp t = 0; t < b->ntemps; t++) {
        c->known[t] = 0;
        c->zmask[t] = ~0ULL;
        c->is_touched[t] = 0;
        c->next_copy[t] = c->prev_copy[t] = t;
    }
    if (!c->ctab)
        ctab_grow(c);
    memset(c->ctab, 0, (c->ctab_mask + 1) * sizeof(IRTemp));
    c->ctab_used = 0;
    for (IRTemp t = 0; t < b->ntemps; t++)
        if (b->temps[t].kind == IR_TEMP_CONST)
            ctab_insert(c, t);
    if (c->labels_cap < b->nlabels) {
        c->labels_cap = b->nlabels + 64;
        c->label_refs = xrealloc(c->label_refs, c->labels_cap * sizeof(uint32_t));
    }
    memset(c->label_refs, 0, b->nlabels * sizeof(uint32_t));
    for (uint32_t n = 0; n < b->ninsns; n++)
        if (is_branch(&b->insns[n]))
            c->label_refs[branch_label(&b->insns[n])]++;
    if (c->out_cap < b->ninsns + 16) {
        c->out_cap = b->ninsns + b->ninsns / 2 + 16;
        c->out = xrealloc(c->out, c->out_cap * sizeof(IRInsn));
    }

    forward_pass(c);
    grow_temp_arrays(c, b->ntemps);
    backward_pass(c);

    /* the block takes the output; its old array is the next output buffer */
    IRInsn *old = b->insns;
    uint32_t old_cap = b->insns_cap;
    b->insns = c->out;
    b->ninsns = c->nout;
    b->insns_cap = c->out_cap;
    c->out = old;
    c->out_cap = old ? old_cap : 0;
    c->b = NULL;
}
