/* isa-debug-exit: QEMU's exit status (v << 1) | 1. */
#include <stdlib.h>

#include "core/machine.h"
#include "hw/debugexit.h"
#include "tests/unit/unit.h"

static Machine *new_machine(void)
{
    char err[128];
    Machine *m = machine_new(1 << 20, CLOCK_MANUAL, err, sizeof err);
    ck_assert_ptr_nonnull(m);
    return m;
}

START_TEST(byte_write_exits_with_doubled_plus_one)
{
    Machine *m = new_machine();
    ck_assert_ptr_nonnull(debugexit_create(m, 0xf4, 4));
    m->state = RUN_RUNNING;
    iospace_write(m->io, 0xf4, 0x10, 1);
    ck_assert_int_eq(m->state, RUN_SHUTDOWN);
    ck_assert_int_eq(m->exit_code, 0x21);
    ck_assert(m->stop_requested);
    machine_free(m);
}
END_TEST

START_TEST(zero_exits_with_one)
{
    Machine *m = new_machine();
    debugexit_create(m, 0x501, 2);
    iospace_write(m->io, 0x501, 0, 1);
    ck_assert_int_eq(m->state, RUN_SHUTDOWN);
    ck_assert_int_eq(m->exit_code, 1);
    machine_free(m);
}
END_TEST

START_TEST(dword_write_uses_whole_value)
{
    Machine *m = new_machine();
    debugexit_create(m, 0xf4, 4);
    iospace_write(m->io, 0xf4, 0x1234, 4);
    ck_assert_int_eq(m->exit_code, (0x1234 << 1) | 1);
    machine_free(m);
}
END_TEST

START_TEST(bad_size_or_taken_ports_refused)
{
    Machine *m = new_machine();
    ck_assert_ptr_null(debugexit_create(m, 0xf4, 3));
    ck_assert_ptr_null(debugexit_create(m, 0xf4, 0));
    ck_assert_ptr_nonnull(debugexit_create(m, 0xf4, 4));
    ck_assert_ptr_null(debugexit_create(m, 0xf6, 1));
    ck_assert_uint_eq(iospace_read(m->io, 0xf4, 1), 0);
    ck_assert_int_ne(m->state, RUN_SHUTDOWN);   /* reads do nothing */
    machine_free(m);
}
END_TEST

static Suite *debugexit_suite(void)
{
    Suite *s = suite_create("debugexit");
    TCase *tc = tcase_create("debugexit");
    tcase_add_test(tc, byte_write_exits_with_doubled_plus_one);
    tcase_add_test(tc, zero_exits_with_one);
    tcase_add_test(tc, dword_write_uses_whole_value);
    tcase_add_test(tc, bad_size_or_taken_ports_refused);
    suite_add_tcase(s, tc);
    return s;
}
UNIT_SUITE(debugexit_suite)
