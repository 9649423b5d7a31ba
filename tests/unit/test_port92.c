/* System Control Port A (0x92): fast A20 and the reset bit. */
#include <stdlib.h>
#include <string.h>

#include "core/machine.h"
#include "hw/port92.h"
#include "tests/unit/unit.h"

typedef struct A20Rec {
    int calls;
    bool on;
} A20Rec;

static void a20_record(void *opaque, int n, int level)
{
    A20Rec *r = opaque;
    r->calls++;
    r->on = level;
}


static Machine *new_machine(void)
{
    char err[128];
    Machine *m = machine_new(1 << 20, CLOCK_MANUAL, err, sizeof err);
    ck_assert_ptr_nonnull(m);
    return m;
}

START_TEST(fast_a20_bit)
{
    Machine *m = new_machine();
    A20Rec rec = { 0, true };
    IRQLine line;
    irq_init(&line, a20_record, &rec, 0);
    ck_assert_ptr_nonnull(port92_create(m, 0x92, &line));
    ck_assert(!rec.on);
    ck_assert_uint_eq(iospace_read(m->io, 0x92, 1), 0x00);
    iospace_write(m->io, 0x92, 0x02, 1);
    ck_assert(rec.on);
    int calls = rec.calls;
    iospace_write(m->io, 0x92, 0x0a, 1);     /* A20 unchanged: no call */
    ck_assert_int_eq(rec.calls, calls);
    ck_assert_uint_eq(iospace_read(m->io, 0x92, 1), 0x0a);
    iospace_write(m->io, 0x92, 0x00, 1);
    ck_assert(!rec.on);
    machine_free(m);
}
END_TEST

START_TEST(bit0_requests_reset)
{
    Machine *m = new_machine();
    A20Rec rec = { 0 };
    IRQLine line;
    irq_init(&line, a20_record, &rec, 0);
    port92_create(m, 0x92, &line);
    m->state = RUN_RUNNING;
    iospace_write(m->io, 0x92, 0x02, 1);
    ck_assert_int_eq(m->state, RUN_RUNNING);
    iospace_write(m->io, 0x92, 0x03, 1);
    ck_assert_int_eq(m->state, RUN_RESET);
    ck_assert(rec.on);                        /* A20 part still applied */
    ck_assert_uint_eq(iospace_read(m->io, 0x92, 1) & 1, 0);
    machine_free(m);
}
END_TEST

START_TEST(save_load_restores_a20)
{
    Machine *a = new_machine(), *b = new_machine();
    A20Rec ra = { 0 }, rb = { 0 };
    IRQLine la, lb;
    irq_init(&la, a20_record, &ra, 0);
    irq_init(&lb, a20_record, &rb, 0);
    port92_create(a, 0x92, &la);
    port92_create(b, 0x92, &lb);
    iospace_write(a->io, 0x92, 0x02, 1);
    VMBuf buf;
    vmbuf_init(&buf);
    machine_save_devices(a, &buf);
    char *err = NULL;
    ck_assert_int_eq(machine_load_devices(b, buf.data, buf.len, &err), 0);
    ck_assert(rb.on);
    ck_assert_uint_eq(iospace_read(b->io, 0x92, 1), 0x02);
    vmbuf_free(&buf);
    machine_free(a);
    machine_free(b);
}
END_TEST

static Suite *port92_suite(void)
{
    Suite *s = suite_create("port92");
    TCase *tc = tcase_create("port92");
    tcase_add_test(tc, fast_a20_bit);
    tcase_add_test(tc, bit0_requests_reset);
    tcase_add_test(tc, save_load_restores_a20);
    suite_add_tcase(s, tc);
    return s;
}
UNIT_SUITE(port92_suite)
