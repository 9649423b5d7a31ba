/*
 * The IR optimiser (tcg/optimize.c): each test builds a small block, runs
 * ir_optimize and inspects the resulting IR.  Expected results follow
 * from the IR's definition (ir-ops.def, ir.h), not from running it.
 */
#include <stddef.h>
#include <stdint.h>

#include "tcg/optimize.h"
#include "tests/unit/unit.h"

typedef struct Env {
    uint64_t r[4];
    uint32_t w;
} Env;

static unsigned count_op(const IRBlock *b, IROpcode op)
{
    unsigned n = 0;
    for (uint32_t i = 0; i < b->ninsns; i++)
        n += b->insns[i].op == op;
    return n;
}

static const IRInsn *find_op(const IRBlock *b, IROpcode op, unsigned nth)
{
    for (uint32_t i = 0; i < b->ninsns; i++)
        if (b->insns[i].op == op && nth-- == 0)
            return &b->insns[i];
    return NULL;
}

/* Writes of movi to temp t, in order. */
static unsigned movi_writes(const IRBlock *b, IRTemp t, uint64_t *vals, unsigned max)
{
    unsigned n = 0;
    for (uint32_t i = 0; i < b->ninsns; i++)
        if (b->insns[i].op == IR_movi && b->insns[i].args[0] == t && n < max)
            vals[n++] = b->insns[i].args[1];
    return n;
}

static uint64_t h_dummy(uint64_t a)
{
    return a;
}

static const IRHelper h_quiet = IR_HELPER(h_dummy, IR_CALL_NO_READ_GLOBALS | IR_CALL_NO_WRITE_GLOBALS);
static const IRHelper h_reads = IR_HELPER(h_dummy, IR_CALL_NO_WRITE_GLOBALS);
static const IRHelper h_writes = IR_HELPER(h_dummy, IR_CALL_NO_READ_GLOBALS);
static const IRHelper h_pure = IR_HELPER(h_dummy, IR_CALL_PURE | IR_CALL_NO_READ_GLOBALS |
                                          IR_CALL_NO_WRITE_GLOBALS);

START_TEST(opt_folds_constant_add)
{
    IRBlock *b = ir_block_new();
    IRTemp r0 = ir_global(b, IR_I64, offsetof(Env, r[0]), "r0");
    IRTemp x = ir_temp(b, IR_I64);
    ir_add(b, IR_I64, x, ir_const(b, IR_I64, 2), ir_const(b, IR_I64, 3));
    ir_mov(b, IR_I64, r0, x);
    ir_exit_tb(b, 0);
    ir_optimize(b);
    ck_assert(ir_verify(b, stderr));
    ck_assert_uint_eq(count_op(b, IR_add), 0);
    uint64_t v[4];
    ck_assert_uint_eq(movi_writes(b, r0, v, 4), 1);   /* r0 = 5 directly; x is dead */
    ck_assert_uint_eq(v[0], 5);
    ck_assert_uint_eq(b->ninsns, 2);
    ir_block_free(b);
}
END_TEST

START_TEST(opt_i32_folding_wraps)
{
    IRBlock *b = ir_block_new();
    IRTemp w = ir_global(b, IR_I32, offsetof(Env, w), "w");
    IRTemp x = ir_temp(b, IR_I32);
    ir_movi(b, IR_I32, x, 0x7fffffff);
    ir_add(b, IR_I32, x, x, ir_const(b, IR_I32, 1));
    ir_op2(b, IR_sar, IR_I32, w, x, ir_const(b, IR_I32, 36));  /* count 36 is 4 mod 32 */
    ir_exit_tb(b, 0);
    ir_optimize(b);
    uint64_t v[2];
    ck_assert_uint_eq(movi_writes(b, w, v, 2), 1);
    ck_assert_uint_eq(v[0], 0xf8000000u);            /* 0x80000000 >> 4, arithmetic */
    ir_block_free(b);
}
END_TEST

START_TEST(opt_removes_dead_global_store)
{
    IRBlock *b = ir_block_new();
    IRTemp r0 = ir_global(b, IR_I64, offsetof(Env, r[0]), "r0");
    IRTemp r1 = ir_global(b, IR_I64, offsetof(Env, r[1]), "r1");
    ir_movi(b, IR_I64, r0, 1);                         /* dead: overwritten below */
    ir_add(b, IR_I64, r1, r1, ir_const(b, IR_I64, 4)); /* does not read r0 */
    ir_movi(b, IR_I64, r0, 2);
    ir_exit_tb(b, 0);
    ir_optimize(b);
    uint64_t v[4];
    ck_assert_uint_eq(movi_writes(b, r0, v, 4), 1);
    ck_assert_uint_eq(v[0], 2);
    ck_assert_uint_eq(count_op(b, IR_add), 1);
    ir_block_free(b);
}
END_TEST

START_TEST(opt_keeps_global_store_before_can_fault)
{
    IRBlock *b = ir_block_new();
    IRTemp r0 = ir_global(b, IR_I64, offsetof(Env, r[0]), "r0");
    IRTemp t = ir_temp(b, IR_I64);
    ir_movi(b, IR_I64, r0, 1);                         /* visible if the load faults */
    ir_guest_ld(b, IR_I64, t, ir_const(b, IR_I64, 0x1000), ir_memop(IR_MO_32, false, 0));
    ir_movi(b, IR_I64, r0, 2);
    ir_exit_tb(b, 0);
    ir_optimize(b);
    uint64_t v[4];
    ck_assert_uint_eq(movi_writes(b, r0, v, 4), 2);
    ck_assert_uint_eq(v[0], 1);
    ck_assert_uint_eq(v[1], 2);
    ck_assert_uint_eq(count_op(b, IR_guest_ld), 1); /* dead result, but it may fault */
    ir_block_free(b);
}
END_TEST

START_TEST(opt_global_stores_around_calls_follow_flags)
{
    /* A helper that neither reads nor writes globals nor faults does not
     * keep an earlier store alive; one that reads globals does. */
    for (int reads = 0; reads < 2; reads++) {
        IRBlock *b = ir_block_new();
        IRTemp r0 = ir_global(b, IR_I64, offsetof(Env, r[0]), "r0");
        IRTemp arg = ir_const(b, IR_I64, 9);
        ir_movi(b, IR_I64, r0, 1);
        ir_call(b, reads ? &h_reads : &h_quiet, IR_I64, 0, 0, 1, &arg);
        ir_movi(b, IR_I64, r0, 2);
        ir_exit_tb(b, 0);
        ir_optimize(b);
        uint64_t v[4];
        ck_assert_uint_eq(movi_writes(b, r0, v, 4), reads ? 2 : 1);
        ck_assert_uint_eq(count_op(b, IR_call), 1);  /* not pure: kept */
        ir_block_free(b);
    }
}
END_TEST

START_TEST(opt_removes_unused_pure_call)
{
    IRBlock *b = ir_block_new();
    IRTemp t = ir_temp(b, IR_I64);
    IRTemp arg = ir_const(b, IR_I64, 9);
    ir_call(b, &h_pure, IR_I64, 1, t, 1, &arg);
    ir_exit_tb(b, 0);
    ir_optimize(b);
    ck_assert_uint_eq(count_op(b, IR_call), 0);
    ir_block_free(b);
}
END_TEST

START_TEST(opt_folds_constant_branches)
{
    IRBlock *b = ir_block_new();
    IRTemp r0 = ir_global(b, IR_I64, offsetof(Env, r[0]), "r0");
    uint32_t l1 = ir_new_label(b), l2 = ir_new_label(b);
    /* -1 < 1 signed: taken -> br; -1 <u 1: never -> removed */
    ir_brcond(b, IR_I64, IR_COND_LTU, ir_const(b, IR_I64, -1), ir_const(b, IR_I64, 1), l1);
    ir_movi(b, IR_I64, r0, 5);
    ir_brcond(b, IR_I64, IR_COND_LT, ir_const(b, IR_I64, -1), ir_const(b, IR_I64, 1), l2);
    ir_movi(b, IR_I64, r0, 6);                         /* unreachable after the br */
    ir_set_label(b, l2);
    ir_set_label(b, l1);
    ir_exit_tb(b, 0);
    ir_optimize(b);
    ck_assert(ir_verify(b, stderr));
    ck_assert_uint_eq(count_op(b, IR_brcond), 0);
    uint64_t v[4];
    ck_assert_uint_eq(movi_writes(b, r0, v, 4), 1);
    ck_assert_uint_eq(v[0], 5);
    ir_block_free(b);
}
END_TEST

START_TEST(opt_algebraic_identities)
{
    IRBlock *b = ir_block_new();
    IRTemp r[4];
    for (int i = 0; i < 4; i++)
        r[i] = ir_global(b, IR_I64, offsetof(Env, r[i]), "r");
    IRTemp w = ir_global(b, IR_I32, offsetof(Env, w), "w");
    ir_xor(b, IR_I64, r[0], r[1], r[1]);                          /* 0 */
    ir_and(b, IR_I64, r[2], r[1], ir_const(b, IR_I64, 0));        /* 0 */
    ir_and(b, IR_I64, r[3], r[1], ir_const(b, IR_I64, -1));       /* r1 */
    ir_op2(b, IR_shl, IR_I32, w, w, ir_const(b, IR_I32, 32));     /* count 0: w */
    ir_exit_tb(b, 0);
    ir_optimize(b);
    ck_assert_uint_eq(count_op(b, IR_xor) + count_op(b, IR_and) + count_op(b, IR_shl), 0);
    uint64_t v[2];
    ck_assert_uint_eq(movi_writes(b, r[0], v, 2), 1);
    ck_assert_uint_eq(v[0], 0);
    ck_assert_uint_eq(movi_writes(b, r[2], v, 2), 1);
    ck_assert_uint_eq(v[0], 0);
    const IRInsn *m = find_op(b, IR_mov, 0);
    ck_assert_ptr_nonnull(m);
    ck_assert_uint_eq(m->args[0], r[3]);
    ck_assert_uint_eq(m->args[1], r[1]);
    ck_assert_ptr_null(find_op(b, IR_mov, 1));                    /* w = w vanished */
    ir_block_free(b);
}
END_TEST

START_TEST(opt_copy_propagation_respects_calls)
{
    /* t = r0; r0 may be changed by the helper; t + 1 must still use t. */
    for (int writes = 0; writes < 2; writes++) {
        IRBlock *b = ir_block_new();
        IRTemp r0 = ir_global(b, IR_I64, offsetof(Env, r[0]), "r0");
        IRTemp r1 = ir_global(b, IR_I64, offsetof(Env, r[1]), "r1");
        IRTemp t = ir_temp(b, IR_I64);
        IRTemp arg = ir_const(b, IR_I64, 1);
        ir_mov(b, IR_I64, t, r0);
        ir_call(b, writes ? &h_writes : &h_quiet, IR_I64, 0, 0, 1, &arg);
        ir_add(b, IR_I64, r1, t, ir_const(b, IR_I64, 1));
        ir_exit_tb(b, 0);
        ir_optimize(b);
        const IRInsn *add = find_op(b, IR_add, 0);
        ck_assert_ptr_nonnull(add);
        ck_assert_uint_eq(add->args[1], writes ? t : r0);
        ck_assert_uint_eq(count_op(b, IR_mov), writes ? 1 : 0);
        ir_block_free(b);
    }
}
END_TEST

START_TEST(opt_forgets_at_labels)
{
    IRBlock *b = ir_block_new();
    IRTemp r0 = ir_global(b, IR_I64, offsetof(Env, r[0]), "r0");
    IRTemp r1 = ir_global(b, IR_I64, offsetof(Env, r[1]), "r1");
    uint32_t l = ir_new_label(b);
    ir_movi(b, IR_I64, r0, 3);
    ir_brcond(b, IR_I64, IR_COND_EQ, r1, ir_const(b, IR_I64, 0), l);
    ir_movi(b, IR_I64, r0, 4);
    ir_set_label(b, l);                                /* r0 is 3 or 4 here */
    ir_add(b, IR_I64, r1, r0, ir_const(b, IR_I64, 1));
    ir_exit_tb(b, 0);
    ir_optimize(b);
    const IRInsn *add = find_op(b, IR_add, 0);
    ck_assert_ptr_nonnull(add);
    ck_assert_uint_eq(add->args[1], r0);
    ir_block_free(b);
}
END_TEST

/* Known zero bits: a zero-extending load, ext8u/ext32u of its result and
 * an and-mask covering every bit that may be set change nothing, so they
 * become moves; a 16-bit load under ext8u, a sign-extending load under
 * ext32u, and a value redefined by a helper keep their extensions. */
START_TEST(opt_known_zero_bits_drop_extensions)
{
    IRBlock *b = ir_block_new();
    IRTemp r0 = ir_global(b, IR_I64, offsetof(Env, r[0]), "r0");
    IRTemp r1 = ir_global(b, IR_I64, offsetof(Env, r[1]), "r1");
    IRTemp r2 = ir_global(b, IR_I64, offsetof(Env, r[2]), "r2");
    IRTemp r3 = ir_global(b, IR_I64, offsetof(Env, r[3]), "r3");
    IRTemp a = ir_temp(b, IR_I64), x = ir_temp(b, IR_I64), y = ir_temp(b, IR_I64);
    IRTemp h = ir_temp(b, IR_I64), s = ir_temp(b, IR_I64);
    ir_mov(b, IR_I64, a, r3);
    ir_guest_ld(b, IR_I64, x, a, ir_memop(0, false, 0));        /* 8-bit, zero-extended */
    ir_op1(b, IR_ext8u, IR_I64, y, x);                           /* no-op */
    ir_op1(b, IR_ext32u, IR_I64, r0, y);                         /* no-op */
    ir_op2(b, IR_and, IR_I64, r1, x, ir_const(b, IR_I64, 0x1ff)); /* no-op */
    ir_guest_ld(b, IR_I64, h, a, ir_memop(1, false, 0));        /* 16-bit */
    ir_op1(b, IR_ext8u, IR_I64, r2, h);                          /* kept */
    ir_guest_ld(b, IR_I64, s, a, ir_memop(0, true, 0));         /* 8-bit, sign-extended */
    ir_op1(b, IR_ext32u, IR_I64, r3, s);                         /* kept */
    ir_exit_tb(b, 0);
    ir_optimize(b);
    ck_assert(ir_verify(b, stderr));
    ck_assert_uint_eq(count_op(b, IR_ext8u), 1);
    ck_assert_uint_eq(count_op(b, IR_ext32u), 1);
    ck_assert_uint_eq(count_op(b, IR_and), 0);
    ck_assert_uint_eq(find_op(b, IR_ext8u, 0)->args[1], h);
    ck_assert_uint_eq(find_op(b, IR_ext32u, 0)->args[1], s);
    ir_block_free(b);
}
END_TEST

START_TEST(opt_known_zero_bits_forgotten_on_redefinition)
{
    /* r0 = ext8u(load8) is known to fit a byte, until a helper that may
     * write globals runs, and after a label. */
    for (int where = 0; where < 2; where++) {
        IRBlock *b = ir_block_new();
        IRTemp r0 = ir_global(b, IR_I64, offsetof(Env, r[0]), "r0");
        IRTemp r1 = ir_global(b, IR_I64, offsetof(Env, r[1]), "r1");
        IRTemp a = ir_temp(b, IR_I64), x = ir_temp(b, IR_I64);
        IRTemp arg = ir_const(b, IR_I64, 1);
        uint32_t l = ir_new_label(b);
        ir_mov(b, IR_I64, a, r1);
        ir_guest_ld(b, IR_I64, x, a, ir_memop(0, false, 0));
        ir_mov(b, IR_I64, r0, x);
        if (where == 0) {
            ir_call(b, &h_writes, IR_I64, 0, 0, 1, &arg);
        } else {
            ir_brcond(b, IR_I64, IR_COND_EQ, r1, ir_const(b, IR_I64, 0), l);
            ir_movi(b, IR_I64, r0, 0x12345);
            ir_set_label(b, l);
        }
        ir_op1(b, IR_ext8u, IR_I64, r1, r0);
        ir_exit_tb(b, 0);
        ir_optimize(b);
        ck_assert(ir_verify(b, stderr));
        ck_assert_uint_eq(count_op(b, IR_ext8u), 1);
        ir_block_free(b);
    }
}
END_TEST

START_TEST(opt_mulu2_with_dead_high_half_becomes_mul)
{
    IRBlock *b = ir_block_new();
    IRTemp r0 = ir_global(b, IR_I64, offsetof(Env, r[0]), "r0");
    IRTemp r1 = ir_global(b, IR_I64, offsetof(Env, r[1]), "r1");
    IRTemp hi = ir_temp(b, IR_I64);
    IRTemp outs[2] = { r0, hi }, ins[2] = { r0, r1 };
    ir_emit(b, IR_mulu2, IR_I64, outs, ins, NULL);
    ir_exit_tb(b, 0);
    ir_optimize(b);
    ck_assert_uint_eq(count_op(b, IR_mulu2), 0);
    const IRInsn *m = find_op(b, IR_mul, 0);
    ck_assert_ptr_nonnull(m);
    ck_assert_uint_eq(m->args[0], r0);
    ck_assert_uint_eq(m->args[1], r0);
    ck_assert_uint_eq(m->args[2], r1);
    ir_block_free(b);
}
END_TEST

static Suite *optimize_suite(void)
{
    Suite *s = suite_create("optimize");
    TCase *tc = tcase_create("fold");
    tcase_add_test(tc, opt_folds_constant_add);
    tcase_add_test(tc, opt_i32_folding_wraps);
    tcase_add_test(tc, opt_algebraic_identities);
    tcase_add_test(tc, opt_folds_constant_branches);
    tcase_add_test(tc, opt_copy_propagation_respects_calls);
    tcase_add_test(tc, opt_forgets_at_labels);
    suite_add_tcase(s, tc);
    tc = tcase_create("dead");
    tcase_add_test(tc, opt_removes_dead_global_store);
    tcase_add_test(tc, opt_keeps_global_store_before_can_fault);
    tcase_add_test(tc, opt_global_stores_around_calls_follow_flags);
    tcase_add_test(tc, opt_removes_unused_pure_call);
    tcase_add_test(tc, opt_mulu2_with_dead_high_half_becomes_mul);
    tcase_add_test(tc, opt_known_zero_bits_drop_extensions);
    tcase_add_test(tc, opt_known_zero_bits_forgotten_on_redefinition);
    suite_add_tcase(s, tc);
    return s;
}
UNIT_SUITE(optimize_suite)
