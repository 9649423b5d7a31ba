/*
 * Register allocation for the x86-64 backend.
 *
 * One backward liveness pass marks, per instruction, which arguments die
 * there (bit k of dead[n] = arg k is not needed afterwards, or an output
 * is never read), and which temps live across a helper call (those prefer
 * callee-saved registers).  Code generation is then a single forward pass
 * that keeps, per temp, where its value is (TempState.val):
 *
 *   VAL_REG    in a host register (and maybe also in memory: coherent)
 *   VAL_MEM    only in memory: env + offset for globals, a frame slot
 *              (rsp + slot) for locals and EBB temps
 *   VAL_CONST  a known constant not materialised anywhere yet
 *   VAL_DEAD   no value
 *
 * Globals are loaded into a register on first use and written back only
 * when dirty and only at sync points (before ops that may fault or read
 * guest state, at branches/labels and block exits); a dirty global that
 * dies (is overwritten before any sync point) is never written.  Locals
 * go to their slot at every branch and label.  Registers are picked from
 * a fixed preference order; when none is free the allocator evicts a
 * register whose owner is already coherent in memory, else any.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/util.h"
#include "tcg/x86_64/backend.h"

static const uint8_t caller_order[] = {
    X86_RAX, X86_R8, X86_R9, X86_R10, X86_R11, X86_RSI, X86_RDI, X86_RDX, X86_RCX,
};
static const uint8_t callee_order[] = {
    X86_RBX, X86_R12, X86_R13, X86_R14, X86_R15,
};

static bool temp_tracked(const IRBlock *b, IRTemp t)
{
    uint8_t k = b->temps[t].kind;
    return k != IR_TEMP_CONST && k != IR_TEMP_FIXED;
}

void ra_liveness(IREngineCtx *s)
{
    const IRBlock *b = s->b;
    uint32_t nt = b->ntemps;
    if (s->ts_cap < nt) {
        s->ts_cap = nt + nt / 2 + 64;
        s->ts = xrealloc(s->ts, s->ts_cap * sizeof(*s->ts));
        s->live = xrealloc(s->live, s->ts_cap);
    }
    if (s->dead_cap < b->ninsns) {
        s->dead_cap = b->ninsns + b->ninsns / 2 + 64;
        s->dead = xrealloc(s->dead, s->dead_cap * sizeof(*s->dead));
    }
    if (s->lists_cap < nt) {
        s->lists_cap = nt + nt / 2 + 64;
        s->locals = xrealloc(s->locals, s->lists_cap * sizeof(IRTemp));
        s->ebbs = xrealloc(s->ebbs, s->lists_cap * sizeof(IRTemp));
    }
    uint8_t *live = s->live;
    s->nlocals = s->nebbs = 0;
    for (IRTemp t = 0; t < nt; t++) {
        uint8_t kind = b->temps[t].kind;
        live[t] = kind == IR_TEMP_GLOBAL;
        s->ts[t].across_call = 0;
        if (kind == IR_TEMP_LOCAL)
            s->locals[s->nlocals++] = t;
        else if (kind == IR_TEMP_EBB)
            s->ebbs[s->nebbs++] = t;
    }
    const IRTemp *locals = s->locals, *ebbs = s->ebbs;
    uint32_t nlocals = s->nlocals, nebbs = s->nebbs;
    for (uint32_t n = b->ninsns; n-- > 0;) {
        const IRInsn *op = &b->insns[n];
        uint16_t mask = 0;
        switch ((IROpcode)op->op) {
        case IR_exit_tb:
        case IR_goto_ptr:
            for (uint32_t i = 0; i < nlocals; i++)
                live[locals[i]] = 0;
            for (uint32_t i = 0; i < nebbs; i++)
                live[ebbs[i]] = 0;
            break;
        case IR_br:
        case IR_set_label:
            for (uint32_t i = 0; i < nlocals; i++)
                live[locals[i]] = 1;
            for (uint32_t i = 0; i < nebbs; i++)
                live[ebbs[i]] = 0;
            break;
        case IR_brcond:
            for (uint32_t i = 0; i < nlocals; i++)
                live[locals[i]] = 1;
            break;
        default:
            break;
        }
        for (unsigned k = 0; k < op->nout; k++) {
            IRTemp t = (IRTemp)op->args[k];
            if (!live[t])
                mask |= 1u << k;
            live[t] = 0;
        }
        if (op->op == IR_call) {
            for (uint32_t i = 0; i < nlocals; i++)
                s->ts[locals[i]].across_call |= live[locals[i]];
            for (uint32_t i = 0; i < nebbs; i++)
                s->ts[ebbs[i]].across_call |= live[ebbs[i]];
            for (IRTemp t = 1; t < b->nglobals; t++)
                s->ts[t].across_call |= live[t];
        }
        if (ir_op_uses_globals(op))
            for (IRTemp t = 1; t < b->nglobals; t++)
                live[t] = 1;
        if (op->op == IR_discard) {
            IRTemp t = (IRTemp)op->args[0];
            if (b->temps[t].kind != IR_TEMP_GLOBAL && temp_tracked(b, t))
                live[t] = 0;
            s->dead[n] = 0;
            continue;
        }
        unsigned base = op->nout, nin = op->nin;
        for (unsigned k = 0; k < nin; k++) {
            IRTemp t = (IRTemp)op->args[base + k];
            if (temp_tracked(b, t) && !live[t])
                live[t] = 2;            /* dies here */
        }
        for (unsigned k = 0; k < nin; k++) {
            IRTemp t = (IRTemp)op->args[base + k];
            if (live[t] == 2)
                mask |= 1u << (base + k);
        }
        for (unsigned k = 0; k < nin; k++) {
            IRTemp t = (IRTemp)op->args[base + k];
            if (temp_tracked(b, t))
                live[t] = 1;
        }
        s->dead[n] = mask;
    }
}

void ra_begin_block(IREngineCtx *s)
{
    const IRBlock *b = s->b;
    for (IRTemp t = 0; t < b->ntemps; t++) {
        const IRTempInfo *ti = &b->temps[t];
        TempState *ts = &s->ts[t];
        ts->kind = ti->kind;
        ts->is64 = ti->type == IR_I64;
        ts->has_slot = 0;
        ts->reg = 0;
        switch (ti->kind) {
        case IR_TEMP_FIXED:
            ts->val = VAL_REG;
            ts->reg = X86_ENV_REG;
            ts->coherent = 1;
            break;
        case IR_TEMP_GLOBAL:
            ts->val = VAL_MEM;
            ts->coherent = 1;
            break;
        case IR_TEMP_CONST:
            ts->val = VAL_CONST;
            ts->cval = ti->type == IR_I32 ? (uint32_t)ti->value : (uint64_t)ti->value;
            ts->coherent = 1;
            break;
        default:
            ts->val = VAL_DEAD;
            ts->coherent = 0;
            break;
        }
    }
    memset(s->reg_owner, 0, sizeof(s->reg_owner));
    s->owned = 0;
    s->locked = 0;
    s->nfree_slots = 0;
    s->next_slot = 0;
}

bool ra_arg_dead(const IREngineCtx *s, unsigned k)
{
    return s->dead[s->cur] & (1u << k);
}

bool ra_is_const(IREngineCtx *s, IRTemp t, uint64_t *v)
{
    const TempState *ts = &s->ts[t];
    if (ts->val != VAL_CONST)
        return false;
    *v = ts->cval;
    return true;
}

static int32_t slot_alloc(IREngineCtx *s)
{
    if (s->nfree_slots)
        return s->free_slots[--s->nfree_slots];
    if (s->next_slot >= X86_NSLOTS) {
        fprintf(stderr, "vx86: x86-64 backend: block needs more than %u spill slots\n",
                X86_NSLOTS);
        abort();
    }
    return X86_SLOT_BASE + 8 * (int32_t)s->next_slot++;
}

static void slot_free(IREngineCtx *s, TempState *ts)
{
    if (!ts->has_slot)
        return;
    if (!s->free_slots)
        s->free_slots = xmalloc(X86_NSLOTS * sizeof(int32_t));
    s->free_slots[s->nfree_slots++] = ts->slot;
    ts->has_slot = 0;
}

int32_t ra_mem_slot(IREngineCtx *s, IRTemp t, int *base)
{
    TempState *ts = &s->ts[t];
    if (ts->kind == IR_TEMP_GLOBAL) {
        *base = X86_ENV_REG;
        return s->b->temps[t].env_offset;
    }
    if (!ts->has_slot) {
        ts->slot = slot_alloc(s);
        ts->has_slot = 1;
    }
    *base = X86_RSP;
    return ts->slot;
}

static void reg_unbind(IREngineCtx *s, int r)
{
    s->reg_owner[r] = 0;
    s->owned &= ~REGMASK(r);
}

static void reg_bind(IREngineCtx *s, IRTemp t, int r)
{
    s->reg_owner[r] = t;
    s->owned |= REGMASK(r);
    s->ts[t].val = VAL_REG;
    s->ts[t].reg = (uint8_t)r;
}

static void store_reg(IREngineCtx *s, bool is64, int r, int base, int32_t off)
{
    x86_modrm_mem(&s->a, OPC_MOVL_EvGv | rexw(is64), r, base, -1, 0, off);
}

static void load_reg(IREngineCtx *s, bool is64, int r, int base, int32_t off)
{
    x86_modrm_mem(&s->a, OPC_MOVL_GvEv | rexw(is64), r, base, -1, 0, off);
}

void ra_temp_sync(IREngineCtx *s, IRTemp t)
{
    TempState *ts = &s->ts[t];
    if (ts->coherent || ts->kind == IR_TEMP_CONST || ts->kind == IR_TEMP_FIXED)
        return;
    int base;
    int32_t off;
    switch (ts->val) {
    case VAL_REG:
        off = ra_mem_slot(s, t, &base);
        store_reg(s, ts->is64, ts->reg, base, off);
        break;
    case VAL_CONST:
        off = ra_mem_slot(s, t, &base);
        if (!ts->is64 || fits_i32((int64_t)ts->cval)) {
            x86_modrm_mem(&s->a, OPC_MOVL_EvIz | rexw(ts->is64), 0, base, -1, 0, off);
            x86_u32(&s->a, (uint32_t)ts->cval);
        } else {
            uint32_t saved = s->locked;
            int r = ra_alloc_reg(s, X86_ALLOCATABLE, false);
            s->locked = saved;
            x86_movi(&s->a, true, r, ts->cval, false);
            store_reg(s, true, r, base, off);
        }
        break;
    default:
        break;
    }
    ts->coherent = 1;
}

void ra_temp_spill(IREngineCtx *s, IRTemp t)
{
    TempState *ts = &s->ts[t];
    if (ts->kind == IR_TEMP_CONST) {
        if (ts->val == VAL_REG)
            reg_unbind(s, ts->reg);
        ts->val = VAL_CONST;
        return;
    }
    ra_temp_sync(s, t);
    if (ts->val == VAL_REG) {
        reg_unbind(s, ts->reg);
        ts->val = VAL_MEM;
    } else if (ts->val == VAL_CONST) {
        ts->val = VAL_MEM;
    }
}

void ra_temp_dead(IREngineCtx *s, IRTemp t)
{
    TempState *ts = &s->ts[t];
    if (ts->kind == IR_TEMP_CONST || ts->kind == IR_TEMP_FIXED)
        return;
    if (ts->val == VAL_REG)
        reg_unbind(s, ts->reg);
    if (ts->kind == IR_TEMP_GLOBAL) {
        /* Dead: overwritten before anything reads env, so skip the write. */
        ts->val = VAL_MEM;
        ts->coherent = 1;
    } else {
        ts->val = VAL_DEAD;
        ts->coherent = 0;
        /* A local keeps its slot for the whole block: it may die between
         * a read and a redefinition, and every path into a label must
         * agree on where the local lives. */
        if (ts->kind == IR_TEMP_EBB)
            slot_free(s, ts);
    }
}

static int pick_free(uint32_t freeset, bool prefer_callee)
{
    const uint8_t *first = prefer_callee ? callee_order : caller_order;
    const uint8_t *second = prefer_callee ? caller_order : callee_order;
    unsigned n1 = prefer_callee ? sizeof(callee_order) : sizeof(caller_order);
    unsigned n2 = prefer_callee ? sizeof(caller_order) : sizeof(callee_order);
    for (unsigned i = 0; i < n1; i++)
        if (freeset & REGMASK(first[i]))
            return first[i];
    for (unsigned i = 0; i < n2; i++)
        if (freeset & REGMASK(second[i]))
            return second[i];
    return -1;
}

int ra_alloc_reg(IREngineCtx *s, uint32_t allowed, bool prefer_callee)
{
    allowed &= X86_ALLOCATABLE & ~s->locked;
    int r = pick_free(allowed & ~s->owned, prefer_callee);
    if (r < 0) {
        /* Evict: an owner already coherent in memory costs no store. */
        int victim = -1;
        for (int i = 0; i < X86_NREGS && victim < 0; i++) {
            if (!(allowed & REGMASK(i)))
                continue;
            const TempState *ts = &s->ts[s->reg_owner[i]];
            if (ts->coherent || ts->kind == IR_TEMP_CONST)
                victim = i;
        }
        for (int i = 0; i < X86_NREGS && victim < 0; i++)
            if (allowed & REGMASK(i))
                victim = i;
        if (victim < 0) {
            fprintf(stderr, "vx86: x86-64 backend: out of registers\n");
            abort();
        }
        ra_temp_spill(s, s->reg_owner[victim]);
        r = victim;
    }
    s->locked |= REGMASK(r);
    return r;
}

void ra_load_into(IREngineCtx *s, IRTemp t, int r)
{
    TempState *ts = &s->ts[t];
    int base;
    int32_t off;
    switch (ts->val) {
    case VAL_REG:
        if (ts->reg != r)
            x86_mov_rr(&s->a, true, r, ts->reg);
        break;
    case VAL_CONST:
        x86_movi(&s->a, ts->is64, r, ts->cval, true);
        break;
    case VAL_MEM:
        off = ra_mem_slot(s, t, &base);
        load_reg(s, ts->is64, r, base, off);
        break;
    default:
        break;          /* undefined value: any register content will do */
    }
}

int ra_temp_load(IREngineCtx *s, IRTemp t, uint32_t allowed)
{
    TempState *ts = &s->ts[t];
    if (ts->val == VAL_REG && (allowed & REGMASK(ts->reg))) {
        s->locked |= REGMASK(ts->reg);
        return ts->reg;
    }
    int r = ra_alloc_reg(s, allowed, ts->across_call);
    ra_load_into(s, t, r);
    if (ts->kind == IR_TEMP_CONST || ts->kind == IR_TEMP_FIXED)
        return r;                     /* a scratch copy */
    if (ts->val == VAL_REG)
        reg_unbind(s, ts->reg);       /* moved to an allowed register */
    else if (ts->val == VAL_MEM)
        ts->coherent = 1;
    else if (ts->val == VAL_DEAD)
        ts->coherent = 0;
    reg_bind(s, t, r);
    return r;
}

void ra_evict_reg(IREngineCtx *s, int r, uint32_t avoid)
{
    IRTemp t = s->reg_owner[r];
    if (!(s->owned & REGMASK(r)))
        return;
    TempState *ts = &s->ts[t];
    uint32_t freeset = X86_ALLOCATABLE & ~s->owned & ~s->locked & ~avoid & ~REGMASK(r);
    int nr = pick_free(freeset, ts->across_call);
    if (nr >= 0) {
        x86_mov_rr(&s->a, true, nr, r);
        reg_unbind(s, r);
        reg_bind(s, t, nr);
    } else {
        ra_temp_spill(s, t);
    }
}

void ra_bind_output(IREngineCtx *s, IRTemp t, int r)
{
    TempState *ts = &s->ts[t];
    if (ts->val == VAL_REG && ts->reg != r)
        reg_unbind(s, ts->reg);
    if ((s->owned & REGMASK(r)) && s->reg_owner[r] != t) {
        /* The register's previous owner dies here (released already in
         * the normal flow); make sure it no longer points at r. */
        IRTemp o = s->reg_owner[r];
        s->ts[o].val = s->ts[o].kind == IR_TEMP_GLOBAL ? VAL_MEM : VAL_DEAD;
        reg_unbind(s, r);
    }
    reg_bind(s, t, r);
    ts->coherent = 0;
}

void ra_store_global_from(IREngineCtx *s, IRTemp g, int r)
{
    TempState *ts = &s->ts[g];
    if (ts->val == VAL_REG)
        reg_unbind(s, ts->reg);
    store_reg(s, ts->is64, r, X86_ENV_REG, s->b->temps[g].env_offset);
    ts->val = VAL_MEM;
    ts->coherent = 1;
}

void ra_bind_const(IREngineCtx *s, IRTemp t, uint64_t v)
{
    TempState *ts = &s->ts[t];
    if (ts->val == VAL_REG)
        reg_unbind(s, ts->reg);
    ts->val = VAL_CONST;
    ts->cval = ts->is64 ? v : (uint32_t)v;
    ts->coherent = 0;
}

static bool is_output_of(const IRInsn *op, IRTemp t)
{
    for (unsigned k = 0; k < op->nout; k++)
        if (op->args[k] == t)
            return true;
    return false;
}

void ra_release_dead_inputs(IREngineCtx *s, const IRInsn *op)
{
    for (unsigned k = 0; k < op->nin; k++) {
        unsigned pos = op->nout + k;
        IRTemp t = (IRTemp)op->args[pos];
        if (ra_arg_dead(s, pos) && !is_output_of(op, t))
            ra_temp_dead(s, t);
    }
}

void ra_finish_outputs(IREngineCtx *s, const IRInsn *op)
{
    for (unsigned k = 0; k < op->nout; k++)
        if (ra_arg_dead(s, k))
            ra_temp_dead(s, (IRTemp)op->args[k]);
}

void ra_sync_globals(IREngineCtx *s)
{
    for (IRTemp t = 1; t < s->b->nglobals; t++)
        if (!s->ts[t].coherent)
            ra_temp_sync(s, t);
}

void ra_sync_globals_for_mem(IREngineCtx *s)
{
    for (IRTemp t = 1; t < s->b->nglobals; t++) {
        TempState *ts = &s->ts[t];
        if (!ts->coherent)
            ra_temp_sync(s, t);
        /* the slow path may change guest state: a known constant becomes
         * "in env" (register copies are reloaded by the slow path) */
        if (ts->val == VAL_CONST)
            ts->val = VAL_MEM;
    }
}

void ra_forget_globals(IREngineCtx *s)
{
    for (IRTemp t = 1; t < s->b->nglobals; t++) {
        TempState *ts = &s->ts[t];
        if (ts->val == VAL_REG)
            reg_unbind(s, ts->reg);
        ts->val = VAL_MEM;
        ts->coherent = 1;
    }
}

void ra_bb_end_sync(IREngineCtx *s)
{
    ra_sync_globals(s);
    for (uint32_t i = 0; i < s->nlocals; i++) {
        IRTemp t = s->locals[i];
        if (s->ts[t].val != VAL_DEAD)
            ra_temp_sync(s, t);
    }
}

void ra_reset_after_jump(IREngineCtx *s)
{
    memset(s->reg_owner, 0, sizeof(s->reg_owner));
    s->owned = 0;
    ra_forget_globals(s);
    for (uint32_t i = 0; i < s->nlocals; i++) {
        TempState *ts = &s->ts[s->locals[i]];
        if (ts->has_slot) {
            ts->val = VAL_MEM;
            ts->coherent = 1;
        } else {
            ts->val = VAL_DEAD;
        }
    }
    for (uint32_t i = 0; i < s->nebbs; i++) {
        TempState *ts = &s->ts[s->ebbs[i]];
        ts->val = VAL_DEAD;
        slot_free(s, ts);
    }
}
