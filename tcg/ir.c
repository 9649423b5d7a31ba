/*
 * IR builder, verifier and dumper.  See ir.h.
 */
#include "tcg/ir.h"
#include "tcg/optimize.h"

#include <assert.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "core/util.h"

const IROpDef ir_op_defs[IR_NB_OPS] = {
#define DEF(name, nout, nin, nconst, flags) { #name, nout, nin, nconst, flags },
#include "tcg/ir-ops.def"
#undef DEF
};

static IRTemp temp_alloc(IRBlock *b, IRType type, IRTempKind kind)
{
    if (b->ntemps == b->temps_cap) {
        b->temps_cap = b->temps_cap ? b->temps_cap * 2 : 256;
        b->temps = xrealloc(b->temps, b->temps_cap * sizeof(*b->temps));
    }
    IRTemp t = b->ntemps++;
    b->temps[t] = (IRTempInfo){ .type = type, .kind = kind };
    return t;
}

IRBlock *ir_block_new(void)
{
    IRBlock *b = xcalloc(1, sizeof(*b));
    IRTemp env = temp_alloc(b, IR_I64, IR_TEMP_FIXED);
    b->temps[env].name = "env";
    b->nglobals = 1;
    return b;
}

void ir_block_free(IRBlock *b)
{
    if (!b)
        return;
    ir_opt_scratch_free(b->opt);
    free(b->temps);
    free(b->insns);
    free(b);
}

void ir_block_reset(IRBlock *b)
{
    b->ntemps = b->nglobals;
    b->ninsns = 0;
    b->nlabels = 0;
}

IRTemp ir_global(IRBlock *b, IRType type, int32_t env_offset, const char *name)
{
    assert(b->ntemps == b->nglobals && "globals must come before other temps");
    IRTemp t = temp_alloc(b, type, IR_TEMP_GLOBAL);
    b->temps[t].env_offset = env_offset;
    b->temps[t].name = name;
    b->nglobals++;
    return t;
}

IRTemp ir_temp(IRBlock *b, IRType type)
{
    return temp_alloc(b, type, IR_TEMP_EBB);
}

IRTemp ir_local(IRBlock *b, IRType type)
{
    return temp_alloc(b, type, IR_TEMP_LOCAL);
}

IRTemp ir_const(IRBlock *b, IRType type, int64_t value)
{
    IRTemp t = temp_alloc(b, type, IR_TEMP_CONST);
    b->temps[t].value = type == IR_I32 ? (int64_t)(int32_t)value : value;
    return t;
}

uint32_t ir_new_label(IRBlock *b)
{
    return b->nlabels++;
}

static IRInsn *insn_alloc(IRBlock *b)
{
    if (b->ninsns == b->insns_cap) {
        b->insns_cap = b->insns_cap ? b->insns_cap * 2 : 512;
        b->insns = xrealloc(b->insns, b->insns_cap * sizeof(*b->insns));
    }
    IRInsn *i = &b->insns[b->ninsns++];
    memset(i, 0, sizeof(*i));
    return i;
}

IRInsn *ir_emit(IRBlock *b, IROpcode op, IRType type, const IRTemp *outs,
                const IRTemp *ins, const uint64_t *consts)
{
    const IROpDef *d = &ir_op_defs[op];
    IRInsn *i = insn_alloc(b);
    i->op = op;
    i->type = type;
    i->nout = d->nout;
    i->nin = d->nin;
    i->nconst = d->nconst;
    unsigned k = 0;
    for (unsigned j = 0; j < d->nout; j++)
        i->args[k++] = outs[j];
    for (unsigned j = 0; j < d->nin; j++)
        i->args[k++] = ins[j];
    for (unsigned j = 0; j < d->nconst; j++)
        i->args[k++] = consts[j];
    return i;
}

void ir_call(IRBlock *b, const IRHelper *h, IRType ret_type, int nout, IRTemp out,
             int nargs, const IRTemp *args)
{
    assert(nargs <= IR_CALL_MAX_ARGS && nout <= 1);
    IRInsn *i = insn_alloc(b);
    i->op = IR_call;
    i->type = ret_type;
    i->nout = nout;
    i->nin = nargs;
    i->nconst = 1;
    unsigned k = 0;
    if (nout)
        i->args[k++] = out;
    for (int j = 0; j < nargs; j++)
        i->args[k++] = args[j];
    i->args[k] = (uint64_t)(uintptr_t)h;
}

void ir_op1(IRBlock *b, IROpcode op, IRType t, IRTemp d, IRTemp a)
{
    ir_emit(b, op, t, &d, &a, NULL);
}

void ir_op2(IRBlock *b, IROpcode op, IRType t, IRTemp d, IRTemp a, IRTemp c)
{
    IRTemp in[2] = { a, c };
    ir_emit(b, op, t, &d, in, NULL);
}

void ir_movi(IRBlock *b, IRType t, IRTemp d, int64_t v)
{
    uint64_t c = (uint64_t)v;
    ir_emit(b, IR_movi, t, &d, NULL, &c);
}

void ir_setcond(IRBlock *b, IRType t, IRCond c, IRTemp d, IRTemp x, IRTemp y)
{
    IRTemp in[2] = { x, y };
    uint64_t k = c;
    ir_emit(b, IR_setcond, t, &d, in, &k);
}

void ir_movcond(IRBlock *b, IRType t, IRCond c, IRTemp d, IRTemp x, IRTemp y,
                IRTemp vtrue, IRTemp vfalse)
{
    IRTemp in[4] = { x, y, vtrue, vfalse };
    uint64_t k = c;
    ir_emit(b, IR_movcond, t, &d, in, &k);
}

void ir_brcond(IRBlock *b, IRType t, IRCond c, IRTemp x, IRTemp y, uint32_t label)
{
    IRTemp in[2] = { x, y };
    uint64_t k[2] = { c, label };
    ir_emit(b, IR_brcond, t, NULL, in, k);
}

void ir_br(IRBlock *b, uint32_t label)
{
    uint64_t k = label;
    ir_emit(b, IR_br, IR_I32, NULL, NULL, &k);
}

void ir_set_label(IRBlock *b, uint32_t label)
{
    uint64_t k = label;
    ir_emit(b, IR_set_label, IR_I32, NULL, NULL, &k);
}

void ir_ld(IRBlock *b, IROpcode op, IRType t, IRTemp d, IRTemp ptr, int64_t off)
{
    uint64_t k = (uint64_t)off;
    ir_emit(b, op, t, &d, &ptr, &k);
}

void ir_st(IRBlock *b, IROpcode op, IRType t, IRTemp v, IRTemp ptr, int64_t off)
{
    IRTemp in[2] = { v, ptr };
    uint64_t k = (uint64_t)off;
    ir_emit(b, op, t, NULL, in, &k);
}

const uint8_t ir_vec_kind[IR_VEC_NB] = {
#define VEC_BIN(n, opc, mn) [IR_VEC_##n] = IR_VK_BIN,
#define VEC_MOV(n, opc, mn) [IR_VEC_##n] = IR_VK_MOV,
#define VEC_IMM(n, opc) [IR_VEC_##n] = IR_VK_IMM,
#define VEC_SHI(n, opc, ext) [IR_VEC_##n] = IR_VK_SHI,
#define VEC_TO(n, opc, mn, w) [IR_VEC_##n] = IR_VK_TO,
#define VEC_FROM(n, opc, mn, w) [IR_VEC_##n] = IR_VK_FROM,
#define VEC_CMP(n, opc, mn) [IR_VEC_##n] = IR_VK_CMP,
#include "tcg/vec-ops.def"
};

const char *const ir_vec_names[IR_VEC_NB] = {
#define VEC_BIN(n, opc, mn) [IR_VEC_##n] = #n,
#define VEC_MOV(n, opc, mn) [IR_VEC_##n] = #n,
#define VEC_IMM(n, opc) [IR_VEC_##n] = #n,
#define VEC_SHI(n, opc, ext) [IR_VEC_##n] = #n,
#define VEC_TO(n, opc, mn, w) [IR_VEC_##n] = #n,
#define VEC_FROM(n, opc, mn, w) [IR_VEC_##n] = #n,
#define VEC_CMP(n, opc, mn) [IR_VEC_##n] = #n,
#include "tcg/vec-ops.def"
};

/* Whether a vec* op's const 0 names an operation of the right kind. */
static bool vec_code_ok(const IRInsn *i)
{
    uint64_t code = i->args[i->nout + i->nin];
    IRVecOp v = ir_vec_op(code);
    if (v >= IR_VEC_NB || (code >> 24))
        return false;
    IRVecKind k = (IRVecKind)ir_vec_kind[v];
    switch (i->op) {
    case IR_vec: return k <= IR_VK_SHI;
    case IR_vec_to: return k == IR_VK_TO || k == IR_VK_CMP;
    default: return k == IR_VK_FROM;
    }
}

void ir_vec(IRBlock *b, uint64_t code, int64_t dst_off, int64_t src_off)
{
    ir_emit(b, IR_vec, IR_I64, NULL, NULL,
            (uint64_t[]){ code, (uint64_t)dst_off, (uint64_t)src_off });
}

void ir_vec_to(IRBlock *b, uint64_t code, IRTemp d, int64_t a_off, int64_t b_off)
{
    ir_emit(b, IR_vec_to, IR_I64, &d, NULL,
            (uint64_t[]){ code, (uint64_t)a_off, (uint64_t)b_off });
}

void ir_vec_from(IRBlock *b, uint64_t code, int64_t dst_off, IRTemp v)
{
    ir_emit(b, IR_vec_from, IR_I64, NULL, &v, (uint64_t[]){ code, (uint64_t)dst_off });
}

void ir_guest_ld(IRBlock *b, IRType t, IRTemp d, IRTemp addr, IRMemOp mo)
{
    uint64_t k = mo;
    ir_emit(b, IR_guest_ld, t, &d, &addr, &k);
}

void ir_guest_st(IRBlock *b, IRType t, IRTemp v, IRTemp addr, IRMemOp mo)
{
    IRTemp in[2] = { v, addr };
    uint64_t k = mo;
    ir_emit(b, IR_guest_st, t, NULL, in, &k);
}

void ir_guest_atomic(IRBlock *b, IRType t, IRTemp old, IRTemp addr, IRTemp v, IRTemp newv,
                     IRMemOp mo, IRAtomicOp op)
{
    IRTemp in[3] = { addr, v, newv ? newv : ir_const(b, t, 0) };
    uint64_t k = (mo & ~(IRMemOp)IR_MO_ATOMIC_MASK) | (IRMemOp)op << IR_MO_ATOMIC_SHIFT;
    ir_emit(b, IR_guest_atomic, t, &old, in, &k);
}

uint64_t ir_atomic_apply(IRAtomicOp op, unsigned size_log2, uint64_t old, uint64_t v,
                         uint64_t newv)
{
    unsigned bits = 8u << size_log2;
    uint64_t mask = bits >= 64 ? ~0ULL : (1ULL << bits) - 1, r;
    switch (op) {
    case IR_ATOMIC_XCHG: r = v; break;
    case IR_ATOMIC_ADD: r = old + v; break;
    case IR_ATOMIC_AND: r = old & v; break;
    case IR_ATOMIC_OR: r = old | v; break;
    case IR_ATOMIC_XOR: r = old ^ v; break;
    case IR_ATOMIC_NEG: r = -old; break;
    case IR_ATOMIC_CMPXCHG: r = (old & mask) == (v & mask) ? newv : old; break;
    default: r = old; break;
    }
    return r & mask;
}

void ir_extract(IRBlock *b, IRType t, IRTemp d, IRTemp a, unsigned pos, unsigned len)
{
    uint64_t k[2] = { pos, len };
    ir_emit(b, IR_extract, t, &d, &a, k);
}

void ir_deposit(IRBlock *b, IRType t, IRTemp d, IRTemp a, IRTemp v, unsigned pos, unsigned len)
{
    IRTemp in[2] = { a, v };
    uint64_t k[2] = { pos, len };
    ir_emit(b, IR_deposit, t, &d, in, k);
}

void ir_insn_start(IRBlock *b, uint64_t pc, uint64_t word)
{
    uint64_t k[2] = { pc, word };
    ir_emit(b, IR_insn_start, IR_I64, NULL, NULL, k);
}

void ir_goto_tb(IRBlock *b, unsigned slot)
{
    uint64_t k = slot;
    ir_emit(b, IR_goto_tb, IR_I64, NULL, NULL, &k);
}

void ir_exit_tb(IRBlock *b, uint64_t value)
{
    ir_emit(b, IR_exit_tb, IR_I64, NULL, NULL, &value);
}

void ir_goto_ptr(IRBlock *b, IRTemp ptr)
{
    ir_emit(b, IR_goto_ptr, IR_I64, NULL, &ptr, NULL);
}

void ir_discard(IRBlock *b, IRTemp t)
{
    ir_emit(b, IR_discard, b->temps[t].type, NULL, &t, NULL);
}

IRCond ir_cond_swap(IRCond c)
{
    switch (c) {
    case IR_COND_LT: return IR_COND_GT;
    case IR_COND_GT: return IR_COND_LT;
    case IR_COND_LE: return IR_COND_GE;
    case IR_COND_GE: return IR_COND_LE;
    case IR_COND_LTU: return IR_COND_GTU;
    case IR_COND_GTU: return IR_COND_LTU;
    case IR_COND_LEU: return IR_COND_GEU;
    case IR_COND_GEU: return IR_COND_LEU;
    default: return c;     /* EQ NE TSTEQ TSTNE ALWAYS NEVER are symmetric */
    }
}

bool ir_op_uses_globals(const IRInsn *op)
{
    switch ((IROpcode)op->op) {
    case IR_guest_ld: case IR_guest_st: case IR_guest_atomic:
    case IR_goto_tb: case IR_exit_tb: case IR_goto_ptr:
    case IR_br: case IR_brcond: case IR_set_label:
        return true;
    case IR_call: {
        const IRHelper *h = (const IRHelper *)(uintptr_t)op->args[op->nout + op->nin];
        unsigned quiet = IR_CALL_NO_READ_GLOBALS | IR_CALL_NO_WRITE_GLOBALS;
        return (h->flags & quiet) != quiet || (h->flags & IR_CALL_CAN_FAULT);
    }
    default:
        return false;
    }
}

bool ir_cond_eval(IRCond c, IRType t, uint64_t a, uint64_t b)
{
    if (t == IR_I32) {
        a = (uint32_t)a;
        b = (uint32_t)b;
    }
    int64_t sa = t == IR_I32 ? (int32_t)a : (int64_t)a;
    int64_t sb = t == IR_I32 ? (int32_t)b : (int64_t)b;
    switch (c) {
    case IR_COND_NEVER: return false;
    case IR_COND_ALWAYS: return true;
    case IR_COND_EQ: return a == b;
    case IR_COND_NE: return a != b;
    case IR_COND_LT: return sa < sb;
    case IR_COND_GE: return sa >= sb;
    case IR_COND_LE: return sa <= sb;
    case IR_COND_GT: return sa > sb;
    case IR_COND_LTU: return a < b;
    case IR_COND_GEU: return a >= b;
    case IR_COND_LEU: return a <= b;
    case IR_COND_GTU: return a > b;
    case IR_COND_TSTEQ: return (a & b) == 0;
    case IR_COND_TSTNE: return (a & b) != 0;
    }
    return false;
}

static const char *const cond_names[] = {
    "never", "always", "eq", "ne", "lt", "ge", "le", "gt",
    "ltu", "geu", "leu", "gtu", "tsteq", "tstne",
};

static void dump_temp(const IRBlock *b, IRTemp t, FILE *f)
{
    const IRTempInfo *ti = &b->temps[t];
    switch (ti->kind) {
    case IR_TEMP_FIXED:
    case IR_TEMP_GLOBAL:
        fprintf(f, "%s", ti->name ? ti->name : "?");
        break;
    case IR_TEMP_CONST:
        fprintf(f, "$0x%" PRIx64, ti->type == IR_I32 ? (uint64_t)(uint32_t)ti->value
                                                     : (uint64_t)ti->value);
        break;
    case IR_TEMP_LOCAL:
        fprintf(f, "loc%u", t);
        break;
    default:
        fprintf(f, "tmp%u", t);
        break;
    }
}

void ir_dump(const IRBlock *b, FILE *f)
{
    for (uint32_t n = 0; n < b->ninsns; n++) {
        const IRInsn *i = &b->insns[n];
        const IROpDef *d = &ir_op_defs[i->op];
        if (i->op == IR_insn_start) {
            fprintf(f, " ---- 0x%" PRIx64 " %" PRIx64 "\n", i->args[0], i->args[1]);
            continue;
        }
        if (i->op == IR_set_label) {
            fprintf(f, " L%" PRIu64 ":\n", i->args[0]);
            continue;
        }
        fprintf(f, "  %s_%s ", d->name, i->type == IR_I32 ? "i32" : "i64");
        unsigned k = 0, nt = i->nout + i->nin;
        for (; k < nt; k++) {
            if (k)
                fprintf(f, ",");
            dump_temp(b, (IRTemp)i->args[k], f);
        }
        for (unsigned j = 0; j < i->nconst; j++, k++) {
            fprintf(f, "%s", k ? "," : "");
            bool is_cond = (i->op == IR_setcond || i->op == IR_movcond || i->op == IR_brcond) && j == 0;
            if (is_cond && i->args[k] < sizeof(cond_names) / sizeof(cond_names[0]))
                fprintf(f, "%s", cond_names[i->args[k]]);
            else if (i->op == IR_call)
                fprintf(f, "%s", ((const IRHelper *)(uintptr_t)i->args[k])->name);
            else if ((i->op == IR_vec || i->op == IR_vec_to || i->op == IR_vec_from) && j == 0 &&
                     ir_vec_op(i->args[k]) < IR_VEC_NB)
                fprintf(f, "%s/%u", ir_vec_names[ir_vec_op(i->args[k])], ir_vec_imm(i->args[k]));
            else if ((i->op == IR_br && j == 0) || (i->op == IR_brcond && j == 1))
                fprintf(f, "L%" PRIu64, i->args[k]);
            else
                fprintf(f, "$0x%" PRIx64, i->args[k]);
        }
        fprintf(f, "\n");
    }
}

static bool verify_fail(FILE *f, uint32_t n, const char *what)
{
    if (f)
        fprintf(f, "IR verify: insn %u: %s\n", n, what);
    return false;
}

/* The type operand k of insn i must have, or 0xff when any type goes. */
static IRType operand_type(const IRInsn *i, unsigned k)
{
    bool is_in = k >= i->nout;
    unsigned in = k - i->nout;
    switch (i->op) {
    case IR_call:
    case IR_discard:
        return (IRType)0xff;
    case IR_extu_i32:
    case IR_exts_i32:
        return is_in ? IR_I32 : IR_I64;
    case IR_extrl_i64:
    case IR_extrh_i64:
        return is_in ? IR_I64 : IR_I32;
    case IR_ld8u: case IR_ld8s: case IR_ld16u: case IR_ld16s:
    case IR_ld32u: case IR_ld32s: case IR_ld: case IR_guest_ld:
        return is_in ? IR_I64 : (IRType)i->type;
    case IR_st8: case IR_st16: case IR_st32: case IR_st: case IR_guest_st:
        return in == 1 ? IR_I64 : (IRType)i->type;
    case IR_guest_atomic:
        return is_in && in == 0 ? IR_I64 : (IRType)i->type;
    case IR_goto_ptr:
        return IR_I64;
    default:
        return (IRType)i->type;
    }
}

bool ir_verify(const IRBlock *b, FILE *f)
{
    uint8_t *defined = xcalloc(b->nlabels ? b->nlabels : 1, 1);
    uint8_t *used = xcalloc(b->nlabels ? b->nlabels : 1, 1);
    bool ok = true;
    for (uint32_t n = 0; n < b->ninsns && ok; n++) {
        const IRInsn *i = &b->insns[n];
        if (i->op >= IR_NB_OPS) {
            ok = verify_fail(f, n, "bad opcode");
            break;
        }
        const IROpDef *d = &ir_op_defs[i->op];
        if (i->op != IR_call && (i->nout != d->nout || i->nin != d->nin || i->nconst != d->nconst))
            ok = verify_fail(f, n, "wrong arity");
        if ((d->flags & IR_OPF_64ONLY) && i->type != IR_I64)
            ok = verify_fail(f, n, "op needs type i64");
        if ((d->flags & IR_OPF_32ONLY) && i->type != IR_I32)
            ok = verify_fail(f, n, "op needs type i32");
        for (unsigned k = 0; k < (unsigned)i->nout + i->nin && ok; k++) {
            if (i->args[k] >= b->ntemps)
                ok = verify_fail(f, n, "temp out of range");
            else if (k < i->nout && (b->temps[i->args[k]].kind == IR_TEMP_CONST ||
                                     b->temps[i->args[k]].kind == IR_TEMP_FIXED))
                ok = verify_fail(f, n, "writes a constant or env");
        }
        for (unsigned k = 0; k < (unsigned)i->nout + i->nin && ok; k++) {
            IRType want = operand_type(i, k);
            if (want <= IR_I64 && b->temps[i->args[k]].type != want)
                ok = verify_fail(f, n, "operand type does not match the op");
        }
        unsigned cbase = i->nout + i->nin;
        if (ok && (i->op == IR_vec || i->op == IR_vec_to || i->op == IR_vec_from) &&
            (i->type != IR_I64 || !vec_code_ok(i)))
            ok = verify_fail(f, n, "bad vector operation");
        if (ok && i->op == IR_guest_atomic &&
            ir_memop_atomic((IRMemOp)i->args[cbase]) >= IR_ATOMIC_NB)
            ok = verify_fail(f, n, "bad atomic operation");
        if (i->op == IR_set_label || i->op == IR_br || i->op == IR_brcond) {
            uint64_t l = i->args[cbase + (i->op == IR_brcond ? 1 : 0)];
            if (l >= b->nlabels) {
                ok = verify_fail(f, n, "label out of range");
            } else if (i->op == IR_set_label) {
                if (defined[l])
                    ok = verify_fail(f, n, "label defined twice");
                defined[l] = 1;
            } else {
                used[l] = 1;
            }
        }
    }
    for (uint32_t l = 0; l < b->nlabels && ok; l++)
        if (used[l] && !defined[l])
            ok = verify_fail(f, b->ninsns, "label used but never defined");
    free(defined);
    free(used);
    return ok;
}
