/*
 * The x86-64 host backend (tcg/x86_64/): hand-written IR snippets whose
 * results follow from arithmetic and from the engine contract
 * (tcg/engine.h, tcg/tlb.h), run as native code.
 */
#include <pthread.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "tcg/engine.h"
#include "tcg/x86_64/backend.h"
#include "tcg/x86_64/x86_64.h"
#include "tests/unit/unit.h"

typedef struct Env {
    uint64_t r[6];
    uint32_t w[2];
    uint64_t ptr;
    uint64_t slow_loads, slow_stores, slow_atomics;
    uint64_t seen_pc[4];
    unsigned nseen;
    SoftTLB tlb;
} Env;

static uint8_t guest_page[2][TLB_PAGE_SIZE];    /* guest pages 0x10000 and 0x11000 */
static IREngineCtx *cur_ctx;

static uint64_t seen_pc(uintptr_t ra)
{
    uint64_t is[2] = { ~0ULL, ~0ULL };
    if (!ir_engine_x86_64.restore(cur_ctx, ra, is))
        return ~0ULL;
    return is[0];
}

static uint8_t *guest_byte(uint64_t a)
{
    if (a >= 0x10000 && a < 0x12000)
        return &guest_page[(a - 0x10000) >> TLB_PAGE_BITS][a & (TLB_PAGE_SIZE - 1)];
    return NULL;
}

static uint64_t slow_load(void *env, uint64_t addr, IRMemOp mo, uintptr_t ra)
{
    Env *e = env;
    uint64_t v = 0;
    e->slow_loads++;
    if (e->nseen < 4)
        e->seen_pc[e->nseen++] = seen_pc(ra);
    for (unsigned i = 0; i < (1u << (mo & IR_MO_SIZE)); i++) {
        uint8_t *p = guest_byte(addr + i);
        v |= (uint64_t)(p ? *p : 0xee) << (8 * i);
    }
    return v;
}

static void slow_store(void *env, uint64_t addr, uint64_t val, IRMemOp mo, uintptr_t ra)
{
    Env *e = env;
    e->slow_stores++;
    for (unsigned i = 0; i < (1u << (mo & IR_MO_SIZE)); i++) {
        uint8_t *p = guest_byte(addr + i);
        if (p)
            *p = (uint8_t)(val >> (8 * i));
    }
}

static uint64_t slow_atomic(void *env, uint64_t addr, uint64_t val, uint64_t newv, IRMemOp mo,
                            uintptr_t ra)
{
    Env *e = env;
    unsigned sz = mo & IR_MO_SIZE;
    uint64_t old = 0;
    e->slow_atomics++;
    for (unsigned i = 0; i < (1u << sz); i++) {
        uint8_t *p = guest_byte(addr + i);
        old |= (uint64_t)(p ? *p : 0xee) << (8 * i);
    }
    uint64_t nv = ir_atomic_apply(ir_memop_atomic(mo), sz, old, val, newv);
    for (unsigned i = 0; i < (1u << sz); i++) {
        uint8_t *p = guest_byte(addr + i);
        if (p)
            *p = (uint8_t)(nv >> (8 * i));
    }
    return old;
}

static const IRGuestMemOps test_mem = { slow_load, slow_store, slow_atomic };

static void map_page(Env *e, unsigned mmu, uint64_t vpage, uint8_t *host)
{
    TLBEntry *te = &e->tlb.table[mmu][tlb_index(vpage)];
    te->addr_read = te->addr_write = te->addr_code = vpage;
    te->addend = (uintptr_t)host - (uintptr_t)vpage;
}

static void env_init(Env *e)
{
    memset(e, 0, sizeof(*e));
    for (unsigned m = 0; m < TLB_NB_MMU_MODES; m++)
        for (unsigned i = 0; i < TLB_SIZE; i++)
            e->tlb.table[m][i].addr_read = e->tlb.table[m][i].addr_write = TLB_INVALID;
}

static IREngineCtx *new_ctx(size_t size)
{
    IREngineTarget tgt = { .tlb_offset = offsetof(Env, tlb), .mem = &test_mem };
    cur_ctx = x86_64_create_sized(&tgt, size);
    return cur_ctx;
}

static IRBlock *new_block(IRTemp *r, IRTemp *w)
{
    IRBlock *b = ir_block_new();
    for (int i = 0; i < 6; i++)
        r[i] = ir_global(b, IR_I64, offsetof(Env, r[i]), "r");
    for (int i = 0; i < 2; i++)
        w[i] = ir_global(b, IR_I32, offsetof(Env, w[i]), "w");
    return b;
}

static uint64_t compile_run(IREngineCtx *c, IRBlock *b, Env *e)
{
    ck_assert(ir_verify(b, stderr));
    void *code = ir_engine_x86_64.compile(c, b);
    ck_assert_ptr_nonnull(code);
    return ir_engine_x86_64.run(c, code, e);
}

START_TEST(backend_mul_wide)
{
    IREngineCtx *c = new_ctx(1 << 20);
    IRTemp r[6], w[2];
    IRBlock *b = new_block(r, w);
    IRTemp o[2] = { r[2], r[3] }, in[2] = { r[0], r[1] };
    ir_emit(b, IR_mulu2, IR_I64, o, in, NULL);          /* (2^64-1) * 2 */
    o[0] = r[4];
    o[1] = r[5];
    ir_emit(b, IR_muls2, IR_I64, o, in, NULL);          /* -1 * 2 */
    o[0] = w[0];
    o[1] = w[1];
    IRTemp in32[2] = { ir_temp(b, IR_I32), ir_const(b, IR_I32, 0x10) };
    ir_movi(b, IR_I32, in32[0], 0xf0000001);
    ir_emit(b, IR_mulu2, IR_I32, o, in32, NULL);        /* 0xf0000001 * 16 */
    ir_exit_tb(b, 3);
    Env e;
    env_init(&e);
    e.r[0] = ~0ULL;
    e.r[1] = 2;
    ck_assert_uint_eq(compile_run(c, b, &e), 3);
    ck_assert_uint_eq(e.r[2], 0xfffffffffffffffeULL);
    ck_assert_uint_eq(e.r[3], 1);
    ck_assert_uint_eq(e.r[4], (uint64_t)-2);
    ck_assert_uint_eq(e.r[5], ~0ULL);
    ck_assert_uint_eq(e.w[0], 0x00000010);
    ck_assert_uint_eq(e.w[1], 0xf);
    ir_block_free(b);
    ir_engine_x86_64.destroy(c);
}
END_TEST

START_TEST(backend_rotates_and_shift_counts)
{
    IREngineCtx *c = new_ctx(1 << 20);
    IRTemp r[6], w[2];
    IRBlock *b = new_block(r, w);
    ir_op2(b, IR_rotl, IR_I32, w[0], w[0], ir_const(b, IR_I32, 33));  /* 33 = 1 mod 32 */
    ir_op2(b, IR_rotr, IR_I64, r[1], r[1], r[2]);                     /* by a register */
    ir_op2(b, IR_shl, IR_I64, r[3], r[3], r[4]);                      /* count 65 = 1 */
    ir_op2(b, IR_sar, IR_I32, w[1], w[1], ir_const(b, IR_I32, 31));
    ir_exit_tb(b, 0);
    Env e;
    env_init(&e);
    e.w[0] = 0x80000001;
    e.r[1] = 1;
    e.r[2] = 1;
    e.r[3] = 3;
    e.r[4] = 65;
    e.w[1] = 0x80000000;
    compile_run(c, b, &e);
    ck_assert_uint_eq(e.w[0], 0x00000003);
    ck_assert_uint_eq(e.r[1], 0x8000000000000000ULL);
    ck_assert_uint_eq(e.r[3], 6);
    ck_assert_uint_eq(e.w[1], 0xffffffff);
    ir_block_free(b);
    ir_engine_x86_64.destroy(c);
}
END_TEST

/* The SSSE3 rows of tcg/vec-ops.def: the backend emits the host
 * instruction (0f 38 / 0f 3a escapes), the interpreter runs tcg/vec.c's
 * C for PALIGNR; both must give the SDM's result for every immediate. */
static void vec_run_backend(uint64_t code, Env *e)
{
    IREngineCtx *c = new_ctx(1 << 20);
    IRTemp r[6], w[2];
    IRBlock *b = new_block(r, w);
    ir_vec(b, code, offsetof(Env, r[0]), offsetof(Env, r[2]));
    ir_exit_tb(b, 0);
    compile_run(c, b, e);
    ir_block_free(b);
    ir_engine_x86_64.destroy(c);
}

START_TEST(backend_vec_ssse3_rows)
{
    if (!ir_vec_host_has(IR_VEC_PSHUFB))
        return;
    Env e, ref;
    uint8_t d[16], s[16], got[16];
    for (int i = 0; i < 16; i++) {
        d[i] = (uint8_t)(0xa0 + i);
        s[i] = (uint8_t)(15 - i);            /* PSHUFB: reverse */
    }
    s[3] = 0x80;                             /* bit 7: zero */
    s[4] = 0x11;                             /* only the low 4 bits index */
    env_init(&e);
    memcpy(e.r, d, 16);
    memcpy(e.r + 2, s, 16);
    vec_run_backend(ir_vec_code(IR_VEC_PSHUFB, 0), &e);
    memcpy(got, e.r, 16);
    ck_assert_uint_eq(got[0], 0xaf);
    ck_assert_uint_eq(got[3], 0);
    ck_assert_uint_eq(got[4], 0xa1);
    ck_assert_uint_eq(got[15], 0xa0);
    for (unsigned imm = 0; imm < 256; imm++) {
        env_init(&e);
        memcpy(e.r, d, 16);
        memcpy(e.r + 2, s, 16);
        ref = e;
        vec_run_backend(ir_vec_code(IR_VEC_PALIGNR, imm), &e);
        ir_vec_run(ir_vec_code(IR_VEC_PALIGNR, imm), (uint8_t *)&ref, offsetof(Env, r[0]),
                   offsetof(Env, r[2]));
        memcpy(got, e.r, 16);
        for (unsigned i = 0; i < 16; i++) {
            /* byte imm + i of the 32-byte s (low) : d (high), then zeros */
            unsigned k = imm + i;
            uint8_t want = k < 16 ? s[k] : k < 32 ? d[k - 16] : 0;
            ck_assert_msg(got[i] == want, "palignr %u byte %u: %#x, want %#x", imm, i,
                          got[i], want);
        }
        ck_assert_mem_eq(e.r, ref.r, 32);
    }
}
END_TEST

START_TEST(backend_count_zeros_fallback)
{
    /* with and without lzcnt/tzcnt/popcnt */
    for (int plain = 0; plain < 2; plain++) {
        IREngineCtx *c = new_ctx(1 << 20);
        if (plain)
            x86_64_set_features(c, 0);
        IRTemp r[6], w[2];
        IRBlock *b = new_block(r, w);
        ir_op2(b, IR_clz, IR_I64, r[1], r[0], ir_const(b, IR_I64, 77));   /* r0 = 0 */
        ir_op2(b, IR_clz, IR_I32, w[0], w[1], ir_const(b, IR_I32, 5));    /* w1 = 1 */
        ir_op2(b, IR_ctz, IR_I64, r[2], r[3], r[4]);                       /* 0x100 */
        ir_op2(b, IR_ctz, IR_I64, r[5], r[0], r[4]);                       /* 0 -> r4 */
        ir_op1(b, IR_ctpop, IR_I64, r[3], r[3]);
        ir_exit_tb(b, 0);
        Env e;
        env_init(&e);
        e.w[1] = 1;
        e.r[3] = 0x100;
        e.r[4] = 0x1234;
        compile_run(c, b, &e);
        ck_assert_uint_eq(e.r[1], 77);
        ck_assert_uint_eq(e.w[0], 31);
        ck_assert_uint_eq(e.r[2], 8);
        ck_assert_uint_eq(e.r[5], 0x1234);
        ck_assert_uint_eq(e.r[3], 1);
        ir_block_free(b);
        ir_engine_x86_64.destroy(c);
    }
}
END_TEST

START_TEST(backend_loop_sums)
{
    IREngineCtx *c = new_ctx(1 << 20);
    IRTemp r[6], w[2];
    IRBlock *b = new_block(r, w);
    IRTemp i = ir_local(b, IR_I64);
    uint32_t top = ir_new_label(b), done = ir_new_label(b);
    ir_movi(b, IR_I64, i, 1);
    ir_set_label(b, top);
    ir_brcond(b, IR_I64, IR_COND_GT, i, ir_const(b, IR_I64, 100), done);
    ir_add(b, IR_I64, r[0], r[0], i);
    ir_add(b, IR_I64, i, i, ir_const(b, IR_I64, 1));
    ir_br(b, top);
    ir_set_label(b, done);
    ir_exit_tb(b, 9);
    Env e;
    env_init(&e);
    ck_assert_uint_eq(compile_run(c, b, &e), 9);
    ck_assert_uint_eq(e.r[0], 5050);
    ir_block_free(b);
    ir_engine_x86_64.destroy(c);
}
END_TEST

/* The block-entry countdown (ld; add -1; st; brcond lt 0 on a temp used
 * nowhere else) is emitted as one add to memory and a branch on the sign;
 * with the temp used later it takes the general path.  Both must branch
 * exactly when the stored result is negative as an int32 (INT32_MIN - 1
 * wraps to INT32_MAX: no branch). */
START_TEST(backend_countdown_branches_on_sign)
{
    static const int32_t start[] = { 1, 0, 5, INT32_MIN, -7 };
    for (int used_later = 0; used_later < 2; used_later++) {
        for (unsigned i = 0; i < sizeof(start) / sizeof(start[0]); i++) {
            IREngineCtx *c = new_ctx(1 << 20);
            IRTemp r[6], w[2];
            IRBlock *b = new_block(r, w);
            uint32_t l = ir_new_label(b);
            IRTemp t = ir_temp(b, IR_I32);
            ir_ld(b, IR_ld, IR_I32, t, IR_ENV, offsetof(Env, ptr));
            ir_add(b, IR_I32, t, t, ir_const(b, IR_I32, -1));
            ir_st(b, IR_st, IR_I32, t, IR_ENV, offsetof(Env, ptr));
            ir_brcond(b, IR_I32, IR_COND_LT, t, ir_const(b, IR_I32, 0), l);
            if (used_later)
                ir_mov(b, IR_I32, w[0], t);
            ir_exit_tb(b, 1);
            ir_set_label(b, l);
            ir_exit_tb(b, 2);
            Env e;
            env_init(&e);
            e.ptr = 0xabcdef0000000000ULL | (uint32_t)start[i];
            int32_t after = (int32_t)((uint32_t)start[i] - 1u);
            ck_assert_uint_eq(compile_run(c, b, &e), (after < 0 ? 2u : 1u));
            ck_assert_uint_eq(e.ptr, 0xabcdef0000000000ULL | (uint32_t)after);
            if (used_later && after >= 0)
                ck_assert_uint_eq(e.w[0], (uint32_t)after);
            ir_block_free(b);
            ir_engine_x86_64.destroy(c);
        }
    }
}
END_TEST

START_TEST(backend_chaining_and_goto_ptr)
{
    IREngineCtx *c = new_ctx(1 << 20);
    const IREngine *x = &ir_engine_x86_64;
    IRTemp r[6], w[2];
    /* A: r0 += 1; goto_tb 0; exit_tb 1 */
    IRBlock *a = new_block(r, w);
    ir_add(a, IR_I64, r[0], r[0], ir_const(a, IR_I64, 1));
    ir_goto_tb(a, 0);
    ir_exit_tb(a, 1);
    /* B: r1 += 10; exit_tb 2 */
    IRBlock *bb = new_block(r, w);
    ir_add(bb, IR_I64, r[1], r[1], ir_const(bb, IR_I64, 10));
    ir_exit_tb(bb, 2);
    /* C: goto_ptr(env->ptr) */
    IRBlock *cb = new_block(r, w);
    IRTemp p = ir_temp(cb, IR_I64);
    ir_ld(cb, IR_ld, IR_I64, p, IR_ENV, offsetof(Env, ptr));
    ir_goto_ptr(cb, p);
    void *ca = x->compile(c, a), *cbb = x->compile(c, bb), *cc = x->compile(c, cb);
    ck_assert(ca && cbb && cc);
    Env e;
    env_init(&e);
    ck_assert_uint_eq(x->run(c, ca, &e), 1);         /* not chained: falls through */
    x->chain(c, ca, 0, cbb);
    ck_assert_uint_eq(x->run(c, ca, &e), 2);         /* one return, from B */
    ck_assert_uint_eq(e.r[0], 2);
    ck_assert_uint_eq(e.r[1], 10);
    x->unchain(c, ca, 0);
    ck_assert_uint_eq(x->run(c, ca, &e), 1);
    ck_assert_uint_eq(e.r[1], 10);
    e.ptr = (uintptr_t)cbb;
    ck_assert_uint_eq(x->run(c, cc, &e), 2);         /* jumped into B */
    ck_assert_uint_eq(e.r[1], 20);
    e.ptr = 0;
    ck_assert_uint_eq(x->run(c, cc, &e), 0);         /* NULL: exit with 0 */
    ck_assert_uint_eq(e.r[1], 20);
    size_t len;
    ck_assert_ptr_eq(x->host_code(c, ca, &len), ca);
    ck_assert_uint_gt(len, 5);
    ck_assert_uint_eq(x->code_size(c, ca), len);
    ir_block_free(a);
    ir_block_free(bb);
    ir_block_free(cb);
    x->destroy(c);
}
END_TEST

static uint64_t h_where(uint64_t envp)
{
    Env *e = (Env *)(uintptr_t)envp;
    if (e->nseen < 4)
        e->seen_pc[e->nseen++] = seen_pc((uintptr_t)__builtin_return_address(0));
    return 0;
}

static const IRHelper hp_where = IR_HELPER(h_where, IR_CALL_CAN_FAULT | IR_CALL_NO_WRITE_GLOBALS);

START_TEST(backend_restore_maps_host_pc_to_insn)
{
    IREngineCtx *c = new_ctx(1 << 20);
    IRTemp r[6], w[2];
    IRBlock *b = new_block(r, w);
    IRTemp envarg = IR_ENV;
    ir_insn_start(b, 0x100, 0);
    ir_add(b, IR_I64, r[0], r[0], ir_const(b, IR_I64, 1));
    ir_call(b, &hp_where, IR_I64, 0, 0, 1, &envarg);
    ir_insn_start(b, 0x104, 0);
    ir_guest_ld(b, IR_I64, r[1], ir_const(b, IR_I64, 0x20000), ir_memop(IR_MO_32, false, 0));
    ir_insn_start(b, 0x10a, 0);
    ir_call(b, &hp_where, IR_I64, 0, 0, 1, &envarg);
    ir_exit_tb(b, 0);
    Env e;
    env_init(&e);
    compile_run(c, b, &e);
    ck_assert_uint_eq(e.nseen, 3);
    ck_assert_uint_eq(e.seen_pc[0], 0x100);
    ck_assert_uint_eq(e.seen_pc[1], 0x104);          /* the TLB miss */
    ck_assert_uint_eq(e.seen_pc[2], 0x10a);
    uint64_t is[2];
    ck_assert(!ir_engine_x86_64.restore(c, (uintptr_t)&e, is));   /* not code */
    ir_block_free(b);
    ir_engine_x86_64.destroy(c);
}
END_TEST

START_TEST(backend_tlb_fast_and_slow_paths)
{
    IREngineCtx *c = new_ctx(1 << 20);
    IRTemp r[6], w[2];
    IRBlock *b = new_block(r, w);
    IRMemOp mo32 = ir_memop(IR_MO_32, false, 1), mo8s = ir_memop(IR_MO_8, true, 1);
    ir_guest_st(b, IR_I32, w[0], ir_const(b, IR_I64, 0x10010), mo32);   /* hit */
    ir_guest_ld(b, IR_I64, r[0], ir_const(b, IR_I64, 0x10010), mo8s);   /* hit, sign */
    ir_guest_ld(b, IR_I64, r[1], ir_const(b, IR_I64, 0x10ffe), mo32);   /* crosses: slow */
    ir_guest_ld(b, IR_I32, w[1], ir_const(b, IR_I64, 0x11000), mo32);   /* unmapped: slow */
    ir_exit_tb(b, 0);
    Env e;
    env_init(&e);
    memset(guest_page, 0, sizeof(guest_page));
    map_page(&e, 1, 0x10000, guest_page[0]);
    guest_page[0][0xffe] = 0x11;
    guest_page[0][0xfff] = 0x22;
    guest_page[1][0] = 0x33;
    guest_page[1][1] = 0x44;
    e.w[0] = 0x12345680;
    compile_run(c, b, &e);
    ck_assert_uint_eq(guest_page[0][0x10], 0x80);
    ck_assert_uint_eq(guest_page[0][0x13], 0x12);
    ck_assert_uint_eq(e.r[0], (uint64_t)(int64_t)(int8_t)0x80);
    ck_assert_uint_eq(e.r[1], 0x44332211);
    ck_assert_uint_eq(e.w[1], 0x4433);
    ck_assert_uint_eq(e.slow_stores, 0);
    ck_assert_uint_eq(e.slow_loads, 2);
    ir_block_free(b);
    ir_engine_x86_64.destroy(c);
}
END_TEST

/* guest_atomic: every operation at every size, once through the inline
 * host lock instruction (page mapped) and once through the slow path (the
 * next page, unmapped); old value and memory after, against the reference
 * semantics ir_atomic_apply (itself checked by hand in test_ir). */
START_TEST(backend_atomic_ops_fast_and_slow)
{
    static const uint64_t pattern = 0x8899aabbccddeeffULL;
    for (int op = 0; op < IR_ATOMIC_NB; op++) {
        for (unsigned sz = 0; sz < 4; sz++) {
            for (int slow = 0; slow < 2; slow++) {
                for (int hit = 0; hit < 2; hit++) {
                    if (hit && op != IR_ATOMIC_CMPXCHG)
                        continue;
                    IREngineCtx *c = new_ctx(1 << 20);
                    IRTemp r[6], w[2];
                    IRBlock *b = new_block(r, w);
                    uint64_t addr = slow ? 0x11008 : 0x10008;
                    IRTemp out = sz == 3 || op % 2 ? r[0] : w[0];   /* both result types */
                    IRType t = out == w[0] ? IR_I32 : IR_I64;
                    IRTemp v = t == IR_I32 ? w[1] : r[1];
                    IRTemp nv = t == IR_I32 ? ir_const(b, IR_I32, 0x5a5a5a5a) : r[2];
                    ir_guest_atomic(b, t, out, ir_const(b, IR_I64, (int64_t)addr), v,
                                    op == IR_ATOMIC_CMPXCHG ? nv : 0,
                                    ir_memop(sz, false, 1), (IRAtomicOp)op);
                    ir_exit_tb(b, 0);
                    Env e;
                    env_init(&e);
                    memset(guest_page, 0, sizeof(guest_page));
                    map_page(&e, 1, 0x10000, guest_page[0]);
                    memcpy(guest_byte(addr), &pattern, 8);
                    uint64_t mask = sz == 3 ? ~0ULL : (1ULL << (8 << sz)) - 1;
                    e.r[1] = hit ? pattern : 0x0123456789abcdefULL;
                    e.w[1] = (uint32_t)e.r[1];
                    e.r[2] = 0x5a5a5a5a5a5a5a5aULL;
                    compile_run(c, b, &e);
                    uint64_t vv = t == IR_I32 ? e.w[1] : e.r[1];
                    uint64_t want = ir_atomic_apply((IRAtomicOp)op, sz, pattern & mask, vv,
                                                    0x5a5a5a5a5a5a5a5aULL);
                    uint64_t got_mem;
                    memcpy(&got_mem, guest_byte(addr), 8);
                    uint64_t got_old = t == IR_I32 ? e.w[0] : e.r[0];
                    ck_assert_msg(got_old == (pattern & mask & (t == IR_I32 ? 0xffffffffu : ~0ULL)),
                                  "op %d size %u slow %d: old %llx", op, sz, slow,
                                  (unsigned long long)got_old);
                    ck_assert_msg((got_mem & mask) == want && (got_mem & ~mask) == (pattern & ~mask),
                                  "op %d size %u slow %d: memory %llx want %llx", op, sz, slow,
                                  (unsigned long long)got_mem, (unsigned long long)want);
                    ck_assert_uint_eq(e.slow_atomics, (uint64_t)slow);
                    ir_block_free(b);
                    ir_engine_x86_64.destroy(c);
                }
            }
        }
    }
}
END_TEST

/* Two host threads run the same compiled block (lock xadd on one guest
 * word, then a lock cmpxchg loop via AND/OR) on the same page: no update
 * is lost. */
typedef struct AtomicThread {
    IREngineCtx *c;
    void *code;
    Env env;
    int iters;
} AtomicThread;

static void *atomic_thread(void *opaque)
{
    AtomicThread *t = opaque;
    for (int i = 0; i < t->iters; i++)
        ir_engine_x86_64.run(t->c, t->code, &t->env);
    return NULL;
}

START_TEST(backend_atomic_two_threads_exact)
{
    IREngineCtx *c = new_ctx(1 << 20);
    IRTemp r[6], w[2];
    IRBlock *b = new_block(r, w);
    IRTemp a = ir_const(b, IR_I64, 0x10100), bits = ir_const(b, IR_I64, 0x10200);
    ir_guest_atomic(b, IR_I64, r[0], a, ir_const(b, IR_I64, 3), 0, ir_memop(IR_MO_64, false, 1),
                    IR_ATOMIC_ADD);
    /* set then clear this thread's bit: the other thread's bit survives */
    ir_guest_atomic(b, IR_I64, r[1], bits, r[3], 0, ir_memop(IR_MO_32, false, 1), IR_ATOMIC_OR);
    ir_guest_atomic(b, IR_I64, r[1], bits, r[4], 0, ir_memop(IR_MO_32, false, 1), IR_ATOMIC_AND);
    ir_exit_tb(b, 0);
    ck_assert(ir_verify(b, stderr));
    void *code = ir_engine_x86_64.compile(c, b);
    ck_assert_ptr_nonnull(code);
    memset(guest_page, 0, sizeof(guest_page));
    AtomicThread th[2];
    for (int i = 0; i < 2; i++) {
        th[i].c = c;
        th[i].code = code;
        th[i].iters = 200000;
        env_init(&th[i].env);
        map_page(&th[i].env, 1, 0x10000, guest_page[0]);
        th[i].env.r[3] = 1u << i;
        th[i].env.r[4] = ~(uint64_t)(1u << i);
    }
    pthread_t tid[2];
    for (int i = 0; i < 2; i++)
        pthread_create(&tid[i], NULL, atomic_thread, &th[i]);
    for (int i = 0; i < 2; i++)
        pthread_join(tid[i], NULL);
    uint64_t total;
    memcpy(&total, &guest_page[0][0x100], 8);
    ck_assert_uint_eq(total, 2 * 200000 * 3);
    ck_assert_uint_eq(guest_page[0][0x200], 0);
    ck_assert_uint_eq(th[0].env.slow_atomics + th[1].env.slow_atomics, 0);
    ir_block_free(b);
    ir_engine_x86_64.destroy(c);
}
END_TEST

static uint64_t h_args(uint64_t a, uint64_t b, uint64_t c, uint64_t d, uint64_t e, uint64_t f)
{
    return a + (b << 8) + (c << 16) + (d << 24) + (e << 32) + (f << 40);
}

static uint64_t h_id(uint64_t a)
{
    return a;
}

static const IRHelper hp_args = IR_HELPER(h_args, IR_CALL_PURE | IR_CALL_NO_READ_GLOBALS |
                                          IR_CALL_NO_WRITE_GLOBALS);
static const IRHelper hp_id = IR_HELPER(h_id, IR_CALL_PURE | IR_CALL_NO_READ_GLOBALS |
                                        IR_CALL_NO_WRITE_GLOBALS);

START_TEST(backend_call_passes_six_args_zero_extended)
{
    IREngineCtx *c = new_ctx(1 << 20);
    IRTemp r[6], w[2];
    IRBlock *b = new_block(r, w);
    /* arguments in a rotated order so that they cross argument registers */
    IRTemp args[6] = { r[5], r[4], r[3], r[2], r[1], r[0] };
    ir_call(b, &hp_args, IR_I64, 1, r[0], 6, args);
    IRTemp one = w[0];
    ir_call(b, &hp_id, IR_I64, 1, r[1], 1, &one);    /* i32 0xffffffff: not sign-extended */
    ir_exit_tb(b, 0);
    Env e;
    env_init(&e);
    for (int i = 0; i < 6; i++)
        e.r[i] = (uint64_t)i + 1;
    e.w[0] = 0xffffffff;
    compile_run(c, b, &e);
    ck_assert_uint_eq(e.r[0], 6 + (5 << 8) + (4 << 16) + (3ULL << 24) + (2ULL << 32) + (1ULL << 40));
    ck_assert_uint_eq(e.r[1], 0xffffffffULL);
    ir_block_free(b);
    ir_engine_x86_64.destroy(c);
}
END_TEST

START_TEST(backend_buffer_full_then_flush)
{
    IREngineCtx *c = new_ctx(16 * 1024);
    const IREngine *x = &ir_engine_x86_64;
    IRTemp r[6], w[2];
    IRBlock *b = new_block(r, w);
    for (int i = 0; i < 20; i++)
        ir_add(b, IR_I64, r[i % 6], r[(i + 1) % 6], ir_const(b, IR_I64, i));
    ir_exit_tb(b, 5);
    void *code = NULL;
    unsigned n = 0;
    while ((code = x->compile(c, b)) != NULL)
        n++;
    ck_assert_uint_gt(n, 1);                         /* several fit, then NULL */
    x->flush(c);
    code = x->compile(c, b);
    ck_assert_ptr_nonnull(code);
    Env e;
    env_init(&e);
    ck_assert_uint_eq(x->run(c, code, &e), 5);
    ir_block_free(b);
    x->destroy(c);
}
END_TEST

START_TEST(backend_register_pressure_spills)
{
    /* 40 values live at once: more than the 14 allocatable registers */
    IREngineCtx *c = new_ctx(1 << 20);
    IRTemp r[6], w[2];
    IRBlock *b = new_block(r, w);
    IRTemp t[40];
    for (int i = 0; i < 40; i++) {
        t[i] = ir_temp(b, IR_I64);
        ir_add(b, IR_I64, t[i], r[i % 6], ir_const(b, IR_I64, i));
    }
    ir_movi(b, IR_I64, r[0], 0);
    for (int i = 0; i < 40; i++)
        ir_add(b, IR_I64, r[0], r[0], t[i]);
    ir_exit_tb(b, 0);
    Env e;
    env_init(&e);
    uint64_t want = 0;
    for (int i = 0; i < 6; i++)
        e.r[i] = 1000 * (uint64_t)(i + 1);
    for (int i = 0; i < 40; i++)
        want += e.r[i % 6] + (uint64_t)i;
    compile_run(c, b, &e);
    ck_assert_uint_eq(e.r[0], want);
    ir_block_free(b);
    ir_engine_x86_64.destroy(c);
}
END_TEST

static Suite *backend_suite(void)
{
    Suite *s = suite_create("backend_x86_64");
    TCase *tc = tcase_create("ops");
    tcase_add_test(tc, backend_mul_wide);
    tcase_add_test(tc, backend_rotates_and_shift_counts);
    tcase_add_test(tc, backend_vec_ssse3_rows);
    tcase_add_test(tc, backend_count_zeros_fallback);
    tcase_add_test(tc, backend_loop_sums);
    tcase_add_test(tc, backend_countdown_branches_on_sign);
    tcase_add_test(tc, backend_call_passes_six_args_zero_extended);
    tcase_add_test(tc, backend_register_pressure_spills);
    suite_add_tcase(s, tc);
    tc = tcase_create("engine");
    tcase_add_test(tc, backend_chaining_and_goto_ptr);
    tcase_add_test(tc, backend_restore_maps_host_pc_to_insn);
    tcase_add_test(tc, backend_tlb_fast_and_slow_paths);
    tcase_add_test(tc, backend_atomic_ops_fast_and_slow);
    tcase_add_test(tc, backend_atomic_two_threads_exact);
    tcase_add_test(tc, backend_buffer_full_then_flush);
    suite_add_tcase(s, tc);
    return s;
}
UNIT_SUITE(backend_suite)
