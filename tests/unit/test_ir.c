/* The IR builder, verifier and the reference interpreter. */
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "tcg/interp.h"
#include "tests/unit/unit.h"

typedef struct Env {
    uint64_t r[4];
    uint32_t w;
    uint8_t mem[64];
} Env;

static uint64_t env_load(void *env, uint64_t addr, IRMemOp mo, uintptr_t ra)
{
    Env *e = env;
    uint64_t v = 0;
    ck_assert(ir_ra_is_interp(ra));
    memcpy(&v, e->mem + (addr & 63), 1u << (mo & IR_MO_SIZE));
    return v;
}

static void env_store(void *env, uint64_t addr, uint64_t val, IRMemOp mo, uintptr_t ra)
{
    Env *e = env;
    memcpy(e->mem + (addr & 63), &val, 1u << (mo & IR_MO_SIZE));
}

static uint64_t env_atomic(void *env, uint64_t addr, uint64_t val, uint64_t newv, IRMemOp mo,
                           uintptr_t ra)
{
    Env *e = env;
    unsigned sz = mo & IR_MO_SIZE;
    uint64_t old = 0, nv;
    ck_assert(ir_ra_is_interp(ra));
    memcpy(&old, e->mem + (addr & 63), 1u << sz);
    nv = ir_atomic_apply(ir_memop_atomic(mo), sz, old, val, newv);
    memcpy(e->mem + (addr & 63), &nv, 1u << sz);
    return old;
}

static const IRGuestMemOps env_mem = { env_load, env_store, env_atomic };

static uint64_t run(IRBlock *b, Env *e)
{
    ck_assert(ir_verify(b, stderr));
    IRInterpCode *c = ir_interp_prepare(b);
    IRInterpState st = { .mem = &env_mem };
    uint64_t r = ir_interp_run(c, e, &st);
    ir_interp_state_free(&st);
    ir_interp_free(c);
    return r;
}

START_TEST(interp_arith_on_globals)
{
    IRBlock *b = ir_block_new();
    IRTemp r0 = ir_global(b, IR_I64, offsetof(Env, r[0]), "r0");
    IRTemp w = ir_global(b, IR_I32, offsetof(Env, w), "w");
    IRTemp t = ir_temp(b, IR_I64);
    ir_add(b, IR_I64, t, r0, ir_const(b, IR_I64, 5));
    ir_op2(b, IR_mul, IR_I64, r0, t, ir_const(b, IR_I64, 3));
    ir_sub(b, IR_I32, w, w, ir_const(b, IR_I32, 1));   /* 0 - 1 wraps in 32 bits */
    ir_exit_tb(b, 7);
    Env e = { .r = { 10 } };
    ck_assert_uint_eq(run(b, &e), 7);
    ck_assert_uint_eq(e.r[0], 45);
    ck_assert_uint_eq(e.w, 0xffffffffu);
    ir_block_free(b);
}
END_TEST

START_TEST(interp_shifts_respect_type_width)
{
    IRBlock *b = ir_block_new();
    IRTemp r0 = ir_global(b, IR_I64, offsetof(Env, r[0]), "r0");
    IRTemp r1 = ir_global(b, IR_I64, offsetof(Env, r[1]), "r1");
    IRTemp x = ir_temp(b, IR_I32);
    IRTemp y = ir_temp(b, IR_I64);
    ir_movi(b, IR_I32, x, (int32_t)0x80000000);
    ir_op2(b, IR_sar, IR_I32, x, x, ir_const(b, IR_I32, 4));   /* 0xf8000000 */
    ir_op1(b, IR_extu_i32, IR_I64, r0, x);
    ir_op2(b, IR_rotl, IR_I32, x, x, ir_const(b, IR_I32, 8));  /* 0x000000f8 */
    ir_op1(b, IR_exts_i32, IR_I64, y, x);
    ir_op2(b, IR_rotr, IR_I64, r1, ir_const(b, IR_I64, 1), ir_const(b, IR_I64, 1));
    ir_exit_tb(b, 0);
    Env e = { 0 };
    run(b, &e);
    ck_assert_uint_eq(e.r[0], 0xf8000000u);
    ck_assert_uint_eq(e.r[1], 0x8000000000000000ULL);
    ir_block_free(b);
}
END_TEST

START_TEST(interp_branches_and_loop)
{
    /* r0 = sum of 1..10 with a backwards branch */
    IRBlock *b = ir_block_new();
    IRTemp r0 = ir_global(b, IR_I64, offsetof(Env, r[0]), "r0");
    IRTemp i = ir_local(b, IR_I64);
    uint32_t top = ir_new_label(b), done = ir_new_label(b);
    ir_movi(b, IR_I64, i, 1);
    ir_set_label(b, top);
    ir_brcond(b, IR_I64, IR_COND_GT, i, ir_const(b, IR_I64, 10), done);
    ir_add(b, IR_I64, r0, r0, i);
    ir_add(b, IR_I64, i, i, ir_const(b, IR_I64, 1));
    ir_br(b, top);
    ir_set_label(b, done);
    ir_exit_tb(b, 1);
    Env e = { 0 };
    ck_assert_uint_eq(run(b, &e), 1);
    ck_assert_uint_eq(e.r[0], 55);
    ir_block_free(b);
}
END_TEST

START_TEST(interp_guest_memory_and_sign)
{
    IRBlock *b = ir_block_new();
    IRTemp r0 = ir_global(b, IR_I64, offsetof(Env, r[0]), "r0");
    IRTemp r1 = ir_global(b, IR_I64, offsetof(Env, r[1]), "r1");
    IRTemp addr = ir_const(b, IR_I64, 8);
    ir_guest_st(b, IR_I64, ir_const(b, IR_I64, 0x80), addr, ir_memop(IR_MO_8, false, 0));
    ir_guest_ld(b, IR_I64, r0, addr, ir_memop(IR_MO_8, true, 0));
    ir_guest_ld(b, IR_I64, r1, addr, ir_memop(IR_MO_16, false, 0));
    ir_exit_tb(b, 0);
    Env e = { 0 };
    run(b, &e);
    ck_assert_uint_eq(e.r[0], (uint64_t)-128);
    ck_assert_uint_eq(e.r[1], 0x80);
    ir_block_free(b);
}
END_TEST

/* The reference semantics of guest_atomic, by hand. */
START_TEST(ir_atomic_apply_by_hand)
{
    ck_assert_uint_eq(ir_atomic_apply(IR_ATOMIC_ADD, 0, 0xff, 2, 0), 0x01);
    ck_assert_uint_eq(ir_atomic_apply(IR_ATOMIC_ADD, 1, 0xffff, 0x10001, 0), 0x0000);
    ck_assert_uint_eq(ir_atomic_apply(IR_ATOMIC_XCHG, 2, 5, 0x1234567890ULL, 0), 0x34567890);
    ck_assert_uint_eq(ir_atomic_apply(IR_ATOMIC_AND, 3, 0xf0f0, 0xff00, 0), 0xf000);
    ck_assert_uint_eq(ir_atomic_apply(IR_ATOMIC_OR, 0, 0x10, 0x101, 0), 0x11);
    ck_assert_uint_eq(ir_atomic_apply(IR_ATOMIC_XOR, 3, ~0ULL, 1, 0), ~1ULL);
    ck_assert_uint_eq(ir_atomic_apply(IR_ATOMIC_NEG, 1, 1, 99, 0), 0xffff);
    /* compared at the access size only */
    ck_assert_uint_eq(ir_atomic_apply(IR_ATOMIC_CMPXCHG, 0, 0x42, 0x1142, 7), 7);
    ck_assert_uint_eq(ir_atomic_apply(IR_ATOMIC_CMPXCHG, 2, 0x42, 0x43, 7), 0x42);
}
END_TEST

/* The interpreter hands guest_atomic to the front end's callback and
 * returns the old value; a bad operation fails verification. */
START_TEST(interp_guest_atomic)
{
    IRBlock *b = ir_block_new();
    IRTemp r0 = ir_global(b, IR_I64, offsetof(Env, r[0]), "r0");
    IRTemp r1 = ir_global(b, IR_I64, offsetof(Env, r[1]), "r1");
    IRTemp addr = ir_const(b, IR_I64, 16);
    ir_guest_atomic(b, IR_I64, r0, addr, ir_const(b, IR_I64, 5), 0, ir_memop(IR_MO_32, false, 0),
                    IR_ATOMIC_ADD);
    ir_guest_atomic(b, IR_I64, r1, addr, ir_const(b, IR_I64, 0x105), ir_const(b, IR_I64, 9),
                    ir_memop(IR_MO_8, false, 0), IR_ATOMIC_CMPXCHG);
    ir_exit_tb(b, 0);
    Env e = { 0 };
    e.mem[16] = 0xfe;
    e.mem[17] = 0x01;
    run(b, &e);
    ck_assert_uint_eq(e.r[0], 0x1fe);
    ck_assert_uint_eq(e.r[1], 0x03);          /* 0x1fe + 5 = 0x203: low byte 3 != 5 */
    ck_assert_uint_eq(e.mem[16], 0x03);
    ck_assert_uint_eq(e.mem[17], 0x02);
    b->insns[0].args[b->insns[0].nout + b->insns[0].nin] |= 7u << IR_MO_ATOMIC_SHIFT;
    ck_assert(!ir_verify(b, NULL));
    ir_block_free(b);
}
END_TEST

START_TEST(interp_mul_wide_and_conds)
{
    IRBlock *b = ir_block_new();
    IRTemp r0 = ir_global(b, IR_I64, offsetof(Env, r[0]), "r0");
    IRTemp r1 = ir_global(b, IR_I64, offsetof(Env, r[1]), "r1");
    IRTemp r2 = ir_global(b, IR_I64, offsetof(Env, r[2]), "r2");
    IRTemp outs[2] = { r0, r1 };
    IRTemp ins[2] = { ir_const(b, IR_I64, -1), ir_const(b, IR_I64, 2) };
    ir_emit(b, IR_muls2, IR_I64, outs, ins, NULL);       /* -2: lo = ~1, hi = ~0 */
    ir_setcond(b, IR_I32, IR_COND_LTU, r2, ir_const(b, IR_I32, 1),
               ir_const(b, IR_I32, -1));                 /* 1 < 0xffffffff */
    ir_exit_tb(b, 0);
    ck_assert(!ir_verify(b, NULL));                      /* r2 is I64, setcond I32 writes it */
    ir_block_free(b);

    b = ir_block_new();
    r0 = ir_global(b, IR_I64, offsetof(Env, r[0]), "r0");
    r1 = ir_global(b, IR_I64, offsetof(Env, r[1]), "r1");
    outs[0] = r0;
    outs[1] = r1;
    ins[0] = ir_const(b, IR_I64, -1);
    ins[1] = ir_const(b, IR_I64, 2);
    ir_emit(b, IR_muls2, IR_I64, outs, ins, NULL);
    ir_exit_tb(b, 0);
    Env e = { 0 };
    run(b, &e);
    ck_assert_uint_eq(e.r[0], (uint64_t)-2);
    ck_assert_uint_eq(e.r[1], ~0ULL);
    ck_assert(ir_cond_eval(IR_COND_LTU, IR_I32, 1, 0xffffffffu));
    ck_assert(!ir_cond_eval(IR_COND_LT, IR_I32, 1, 0xffffffffu));
    ck_assert(ir_cond_eval(IR_COND_TSTNE, IR_I64, 6, 2));
    ir_block_free(b);
}
END_TEST

START_TEST(verify_rejects_undefined_label_and_const_write)
{
    IRBlock *b = ir_block_new();
    uint32_t l = ir_new_label(b);
    ir_br(b, l);
    ck_assert(!ir_verify(b, NULL));
    ir_block_reset(b);
    IRTemp k = ir_const(b, IR_I64, 1);
    ir_movi(b, IR_I64, k, 2);
    ck_assert(!ir_verify(b, NULL));
    ir_block_free(b);
}
END_TEST

static Suite *ir_suite(void)
{
    Suite *s = suite_create("ir");
    TCase *tc = tcase_create("interp");
    tcase_add_test(tc, interp_arith_on_globals);
    tcase_add_test(tc, ir_atomic_apply_by_hand);
    tcase_add_test(tc, interp_guest_atomic);
    tcase_add_test(tc, interp_shifts_respect_type_width);
    tcase_add_test(tc, interp_branches_and_loop);
    tcase_add_test(tc, interp_guest_memory_and_sign);
    tcase_add_test(tc, interp_mul_wide_and_conds);
    tcase_add_test(tc, verify_rejects_undefined_label_and_const_write);
    suite_add_tcase(s, tc);
    return s;
}
UNIT_SUITE(ir_suite)
