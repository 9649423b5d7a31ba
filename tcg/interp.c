/*
 * The IR interpreter.  Correctness first: it is the reference the host
 * backend is tested against.  Globals are read from and written to env on
 * every use (no caching), so the guest state is exact at every op.
 */
#include "tcg/interp.h"
#include "tcg/engine.h"

#include <stdlib.h>
#include <string.h>

#include "core/util.h"

struct IRInterpCode {
    IRTempInfo *temps;
    uint32_t ntemps;
    IRInsn *insns;
    uint32_t ninsns;
    uint32_t *label_pos;     /* label -> index of its set_label */
};

IRInterpCode *ir_interp_prepare(const IRBlock *b)
{
    IRInterpCode *c = xcalloc(1, sizeof(*c));
    c->ntemps = b->ntemps;
    c->temps = xmalloc(b->ntemps * sizeof(*c->temps));
    memcpy(c->temps, b->temps, b->ntemps * sizeof(*c->temps));
    c->ninsns = b->ninsns;
    c->insns = xmalloc((b->ninsns ? b->ninsns : 1) * sizeof(*c->insns));
    memcpy(c->insns, b->insns, b->ninsns * sizeof(*c->insns));
    c->label_pos = xcalloc(b->nlabels ? b->nlabels : 1, sizeof(uint32_t));
    for (uint32_t n = 0; n < b->ninsns; n++)
        if (b->insns[n].op == IR_set_label)
            c->label_pos[b->insns[n].args[0]] = n;
    return c;
}

void ir_interp_free(IRInterpCode *c)
{
    if (!c)
        return;
    free(c->temps);
    free(c->insns);
    free(c->label_pos);
    free(c);
}

size_t ir_interp_code_size(const IRInterpCode *c)
{
    return c->ninsns * sizeof(IRInsn) + c->ntemps * sizeof(IRTempInfo);
}

void ir_interp_state_free(IRInterpState *st)
{
    free(st->scratch);
    st->scratch = NULL;
    st->scratch_len = 0;
}

typedef struct Frame {
    const IRInterpCode *c;
    uint8_t *env;
    uint64_t *v;
} Frame;

static uint64_t get(const Frame *f, uint64_t t)
{
    const IRTempInfo *ti = &f->c->temps[t];
    switch (ti->kind) {
    case IR_TEMP_FIXED:
        return (uint64_t)(uintptr_t)f->env;
    case IR_TEMP_GLOBAL:
        if (ti->type == IR_I32) {
            uint32_t x;
            memcpy(&x, f->env + ti->env_offset, 4);
            return x;
        } else {
            uint64_t x;
            memcpy(&x, f->env + ti->env_offset, 8);
            return x;
        }
    case IR_TEMP_CONST:
        return ti->type == IR_I32 ? (uint32_t)ti->value : (uint64_t)ti->value;
    default:
        return f->v[t];
    }
}

static void set(const Frame *f, uint64_t t, uint64_t val)
{
    const IRTempInfo *ti = &f->c->temps[t];
    if (ti->type == IR_I32)
        val = (uint32_t)val;
    if (ti->kind == IR_TEMP_GLOBAL)
        memcpy(f->env + ti->env_offset, &val, ti->type == IR_I32 ? 4 : 8);
    else
        f->v[t] = val;
}

static uint64_t rotl(IRType t, uint64_t a, unsigned n)
{
    unsigned w = ir_type_bits(t);
    n &= w - 1;
    a = ir_trunc(t, a);
    return n ? ir_trunc(t, (a << n) | (a >> (w - n))) : a;
}

static uint64_t call_helper(const IRHelper *h, const uint64_t *a, unsigned n)
{
    typedef uint64_t (*F0)(void);
    typedef uint64_t (*F1)(uint64_t);
    typedef uint64_t (*F2)(uint64_t, uint64_t);
    typedef uint64_t (*F3)(uint64_t, uint64_t, uint64_t);
    typedef uint64_t (*F4)(uint64_t, uint64_t, uint64_t, uint64_t);
    typedef uint64_t (*F5)(uint64_t, uint64_t, uint64_t, uint64_t, uint64_t);
    typedef uint64_t (*F6)(uint64_t, uint64_t, uint64_t, uint64_t, uint64_t, uint64_t);
    switch (n) {
    case 0: return ((F0)h->fn)();
    case 1: return ((F1)h->fn)(a[0]);
    case 2: return ((F2)h->fn)(a[0], a[1]);
    case 3: return ((F3)h->fn)(a[0], a[1], a[2]);
    case 4: return ((F4)h->fn)(a[0], a[1], a[2], a[3]);
    case 5: return ((F5)h->fn)(a[0], a[1], a[2], a[3], a[4]);
    default: return ((F6)h->fn)(a[0], a[1], a[2], a[3], a[4], a[5]);
    }
}

static void mul_wide(IRType t, bool sign, uint64_t a, uint64_t b, uint64_t *lo, uint64_t *hi)
{
    if (t == IR_I32) {
        uint64_t r = sign ? (uint64_t)((int64_t)(int32_t)a * (int64_t)(int32_t)b)
                          : (uint64_t)(uint32_t)a * (uint32_t)b;
        *lo = (uint32_t)r;
        *hi = (uint32_t)(r >> 32);
    } else if (sign) {
        __int128 r = (__int128)(int64_t)a * (int64_t)b;
        *lo = (uint64_t)r;
        *hi = (uint64_t)((unsigned __int128)r >> 64);
    } else {
        unsigned __int128 r = (unsigned __int128)a * b;
        *lo = (uint64_t)r;
        *hi = (uint64_t)(r >> 64);
    }
}

static uint64_t host_load(IROpcode op, const uint8_t *p)
{
    switch (op) {
    case IR_ld8u: return *p;
    case IR_ld8s: return (uint64_t)(int64_t)(int8_t)*p;
    case IR_ld16u: { uint16_t x; memcpy(&x, p, 2); return x; }
    case IR_ld16s: { int16_t x; memcpy(&x, p, 2); return (uint64_t)(int64_t)x; }
    case IR_ld32u: { uint32_t x; memcpy(&x, p, 4); return x; }
    case IR_ld32s: { int32_t x; memcpy(&x, p, 4); return (uint64_t)(int64_t)x; }
    default: { uint64_t x; memcpy(&x, p, 8); return x; }
    }
}

uint64_t ir_interp_run(const IRInterpCode *c, void *env, IRInterpState *st)
{
    if (st->scratch_len < c->ntemps) {
        st->scratch_len = c->ntemps + 64;
        st->scratch = xrealloc(st->scratch, st->scratch_len * sizeof(uint64_t));
    }
    Frame f = { .c = c, .env = env, .v = st->scratch };
    uintptr_t ra = ir_interp_ra(st);

    for (uint32_t pc = 0; pc < c->ninsns; pc++) {
        const IRInsn *i = &c->insns[pc];
        const uint64_t *a = i->args;
        IRType t = i->type;
        unsigned w = ir_type_bits(t);
        /* Positional helpers: inputs follow outputs, consts follow inputs. */
#define IN(k) get(&f, a[i->nout + (k)])
#define K(k) a[i->nout + i->nin + (k)]
#define OUT(k, val) set(&f, a[(k)], (val))
        switch ((IROpcode)i->op) {
        case IR_mov: OUT(0, IN(0)); break;
        case IR_movi: OUT(0, K(0)); break;
        case IR_discard: break;
        case IR_add: OUT(0, IN(0) + IN(1)); break;
        case IR_sub: OUT(0, IN(0) - IN(1)); break;
        case IR_mul: OUT(0, IN(0) * IN(1)); break;
        case IR_mulu2:
        case IR_muls2: {
            uint64_t lo, hi;
            mul_wide(t, i->op == IR_muls2, IN(0), IN(1), &lo, &hi);
            OUT(0, lo);
            OUT(1, hi);
            break;
        }
        case IR_and: OUT(0, IN(0) & IN(1)); break;
        case IR_or: OUT(0, IN(0) | IN(1)); break;
        case IR_xor: OUT(0, IN(0) ^ IN(1)); break;
        case IR_andc: OUT(0, IN(0) & ~IN(1)); break;
        case IR_neg: OUT(0, -IN(0)); break;
        case IR_not: OUT(0, ~IN(0)); break;
        case IR_shl: OUT(0, IN(0) << (IN(1) & (w - 1))); break;
        case IR_shr: OUT(0, ir_trunc(t, IN(0)) >> (IN(1) & (w - 1))); break;
        case IR_sar: OUT(0, (uint64_t)((int64_t)ir_sext(IN(0), w) >> (IN(1) & (w - 1)))); break;
        case IR_rotl: OUT(0, rotl(t, IN(0), (unsigned)IN(1))); break;
        case IR_rotr: OUT(0, rotl(t, IN(0), (w - (unsigned)(IN(1) & (w - 1))) & (w - 1))); break;
        case IR_ext8s: OUT(0, ir_sext(IN(0), 8)); break;
        case IR_ext8u: OUT(0, IN(0) & 0xff); break;
        case IR_ext16s: OUT(0, ir_sext(IN(0), 16)); break;
        case IR_ext16u: OUT(0, IN(0) & 0xffff); break;
        case IR_ext32s: OUT(0, ir_sext(IN(0), 32)); break;
        case IR_ext32u: OUT(0, IN(0) & 0xffffffffu); break;
        case IR_extu_i32: OUT(0, (uint32_t)IN(0)); break;
        case IR_exts_i32: OUT(0, ir_sext(IN(0), 32)); break;
        case IR_extrl_i64: OUT(0, (uint32_t)IN(0)); break;
        case IR_extrh_i64: OUT(0, IN(0) >> 32); break;
        case IR_bswap16: OUT(0, __builtin_bswap16((uint16_t)IN(0))); break;
        case IR_bswap32: OUT(0, __builtin_bswap32((uint32_t)IN(0))); break;
        case IR_bswap64: OUT(0, __builtin_bswap64(IN(0))); break;
        case IR_clz: {
            uint64_t x = ir_trunc(t, IN(0));
            OUT(0, x ? (uint64_t)(__builtin_clzll(x) - (64 - w)) : IN(1));
            break;
        }
        case IR_ctz: {
            uint64_t x = ir_trunc(t, IN(0));
            OUT(0, x ? (uint64_t)__builtin_ctzll(x) : IN(1));
            break;
        }
        case IR_ctpop: OUT(0, (uint64_t)__builtin_popcountll(ir_trunc(t, IN(0)))); break;
        case IR_extract: {
            unsigned pos = (unsigned)K(0), len = (unsigned)K(1);
            uint64_t x = IN(0) >> pos;
            OUT(0, len >= 64 ? x : x & ((1ULL << len) - 1));
            break;
        }
        case IR_sextract: {
            unsigned pos = (unsigned)K(0), len = (unsigned)K(1);
            OUT(0, ir_sext(IN(0) >> pos, len));
            break;
        }
        case IR_deposit: {
            unsigned pos = (unsigned)K(0), len = (unsigned)K(1);
            uint64_t m = (len >= 64 ? ~0ULL : (1ULL << len) - 1) << pos;
            OUT(0, (IN(0) & ~m) | ((IN(1) << pos) & m));
            break;
        }
        case IR_setcond: OUT(0, ir_cond_eval((IRCond)K(0), t, IN(0), IN(1))); break;
        case IR_movcond:
            OUT(0, ir_cond_eval((IRCond)K(0), t, IN(0), IN(1)) ? IN(2) : IN(3));
            break;
        case IR_set_label: break;
        case IR_br: pc = c->label_pos[K(0)]; break;
        case IR_brcond:
            if (ir_cond_eval((IRCond)K(0), t, IN(0), IN(1)))
                pc = c->label_pos[K(1)];
            break;
        case IR_ld8u: case IR_ld8s: case IR_ld16u: case IR_ld16s:
        case IR_ld32u: case IR_ld32s: case IR_ld:
            OUT(0, host_load((IROpcode)i->op,
                             (const uint8_t *)(uintptr_t)(IN(0) + K(0))));
            break;
        case IR_st8: case IR_st16: case IR_st32: case IR_st: {
            uint8_t *p = (uint8_t *)(uintptr_t)(IN(1) + K(0));
            uint64_t v = IN(0);
            unsigned n = i->op == IR_st8 ? 1 : i->op == IR_st16 ? 2 : i->op == IR_st32 ? 4
                       : (t == IR_I32 ? 4 : 8);
            memcpy(p, &v, n);
            break;
        }
        case IR_guest_ld: {
            IRMemOp mo = (IRMemOp)K(0);
            uint64_t v = st->mem->load(env, IN(0), mo, ra);
            unsigned bits = 8u << (mo & IR_MO_SIZE);
            if ((mo & IR_MO_SIGN) && bits < 64)
                v = ir_sext(v, bits);
            OUT(0, v);
            break;
        }
        case IR_guest_st:
            st->mem->store(env, IN(1), IN(0), (IRMemOp)K(0), ra);
            break;
        case IR_guest_atomic:
            /* the front end's callback does the host atomic: the
             * interpreter needs no lock of its own */
            OUT(0, st->mem->atomic(env, IN(0), IN(1), IN(2), (IRMemOp)K(0), ra));
            break;
        case IR_call: {
            uint64_t args[IR_CALL_MAX_ARGS];
            for (unsigned k = 0; k < i->nin; k++)
                args[k] = IN(k);
            uint64_t r = call_helper((const IRHelper *)(uintptr_t)K(0), args, i->nin);
            if (i->nout)
                OUT(0, r);
            break;
        }
        case IR_insn_start:
            st->insn_start[0] = K(0);
            st->insn_start[1] = K(1);
            break;
        case IR_goto_tb: break;
        case IR_exit_tb: return K(0);
        case IR_goto_ptr: return IN(0);
        case IR_mb: __atomic_thread_fence(__ATOMIC_SEQ_CST); break;
        case IR_vec: ir_vec_run(K(0), env, (int64_t)K(1), (int64_t)K(2)); break;
        case IR_vec_to: OUT(0, ir_vec_run_to(K(0), env, (int64_t)K(1), (int64_t)K(2))); break;
        case IR_vec_from: ir_vec_run_from(K(0), env, (int64_t)K(1), IN(0)); break;
        case IR_NB_OPS: break;
        }
#undef IN
#undef K
#undef OUT
    }
    return 0;
}

/* ---- the interpreter as an IREngine ---- */

struct IREngineCtx {
    IREngineTarget tgt;
    IRInterpState st;
};

static IREngineCtx *interp_create(const IREngineTarget *tgt)
{
    IREngineCtx *c = xcalloc(1, sizeof(*c));
    c->tgt = *tgt;
    c->st.mem = tgt->mem;
    return c;
}

static void interp_destroy(IREngineCtx *c)
{
    ir_interp_state_free(&c->st);
    free(c);
}

static void *interp_compile(IREngineCtx *c, const IRBlock *b)
{
    return ir_interp_prepare(b);
}

static void interp_flush(IREngineCtx *c)
{
    /* Blocks are individually allocated: the cache releases each one. */
}

static void interp_release(IREngineCtx *c, void *code)
{
    ir_interp_free(code);
}

static uint64_t interp_engine_run(IREngineCtx *c, void *code, void *env)
{
    return ir_interp_run(code, env, &c->st);
}

static void interp_chain(IREngineCtx *c, void *from, unsigned slot, void *to)
{
}

static void interp_unchain(IREngineCtx *c, void *from, unsigned slot)
{
}

static bool interp_restore(IREngineCtx *c, uintptr_t ra, uint64_t insn_start[2])
{
    if (!ir_ra_is_interp(ra))
        return false;
    IRInterpState *st = ir_interp_state_from_ra(ra);
    insn_start[0] = st->insn_start[0];
    insn_start[1] = st->insn_start[1];
    return true;
}

static size_t interp_code_size(IREngineCtx *c, void *code)
{
    return ir_interp_code_size(code);
}

static const uint8_t *interp_host_code(IREngineCtx *c, void *code, size_t *len)
{
    *len = 0;
    return NULL;
}

const IREngine ir_engine_interp = {
    .name = "interp",
    .create = interp_create,
    .destroy = interp_destroy,
    .compile = interp_compile,
    .flush = interp_flush,
    .release = interp_release,
    .run = interp_engine_run,
    .chain = interp_chain,
    .unchain = interp_unchain,
    .restore = interp_restore,
    .code_size = interp_code_size,
    .host_code = interp_host_code,
};
