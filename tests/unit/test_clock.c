/* Virtual clock and timers. */
#include <stdlib.h>
#include <time.h>

#include "core/clock.h"
#include "tests/unit/unit.h"

typedef struct Fired {
    VClock *clock;
    int64_t at[8];
    int order[8];
    int n;
    int id;
    Timer *rearm;
    int64_t period;
} Fired;

typedef struct Cb {
    Fired *log;
    int id;
} Cb;

static void record(void *opaque)
{
    Cb *cb = opaque;
    Fired *f = cb->log;
    if (f->n < 8) {
        f->at[f->n] = clock_now(f->clock);
        f->order[f->n] = cb->id;
        f->n++;
    }
}

START_TEST(manual_clock_starts_at_zero_and_advances)
{
    VClock *c = clock_new(CLOCK_MANUAL);
    ck_assert_int_eq(clock_now(c), 0);
    clock_advance(c, 1500);
    ck_assert_int_eq(clock_now(c), 1500);
    clock_advance(c, -10);   /* refused: time never goes back */
    ck_assert_int_eq(clock_now(c), 1500);
    clock_free(c);
}
END_TEST

START_TEST(timers_fire_in_deadline_order_at_their_time)
{
    VClock *c = clock_new(CLOCK_MANUAL);
    Fired f = { .clock = c };
    Cb a = { &f, 1 }, b = { &f, 2 }, d = { &f, 3 };
    Timer *ta = timer_new(c, record, &a);
    Timer *tb = timer_new(c, record, &b);
    Timer *td = timer_new(c, record, &d);
    timer_mod(ta, 300);
    timer_mod(tb, 100);
    timer_mod(td, 200);
    ck_assert_int_eq(clock_next_deadline(c), 100);
    clock_advance(c, 1000);
    ck_assert_int_eq(f.n, 3);
    ck_assert_int_eq(f.order[0], 2);
    ck_assert_int_eq(f.order[1], 3);
    ck_assert_int_eq(f.order[2], 1);
    /* each callback saw the clock at its own deadline */
    ck_assert_int_eq(f.at[0], 100);
    ck_assert_int_eq(f.at[1], 200);
    ck_assert_int_eq(f.at[2], 300);
    ck_assert_int_eq(clock_now(c), 1000);
    timer_free(ta);
    timer_free(tb);
    timer_free(td);
    clock_free(c);
}
END_TEST

START_TEST(timer_del_and_mod_rearm)
{
    VClock *c = clock_new(CLOCK_MANUAL);
    Fired f = { .clock = c };
    Cb a = { &f, 1 };
    Timer *t = timer_new(c, record, &a);
    timer_mod(t, 50);
    ck_assert(timer_pending(t));
    timer_del(t);
    ck_assert(!timer_pending(t));
    ck_assert_int_eq(clock_next_deadline(c), INT64_MAX);
    clock_advance(c, 100);
    ck_assert_int_eq(f.n, 0);
    timer_mod(t, 500);
    timer_mod(t, 150);    /* moving an armed timer replaces its deadline */
    ck_assert_int_eq(timer_expire_time(t), 150);
    clock_advance(c, 100);
    ck_assert_int_eq(f.n, 1);
    ck_assert_int_eq(f.at[0], 150);
    timer_free(t);
    clock_free(c);
}
END_TEST

static void periodic(void *opaque)
{
    Fired *f = opaque;
    record(&(Cb){ f, 9 });
    timer_mod(f->rearm, clock_now(f->clock) + f->period);
}

START_TEST(callback_can_rearm_itself)
{
    VClock *c = clock_new(CLOCK_MANUAL);
    Fired f = { .clock = c, .period = 100 };
    f.rearm = timer_new(c, periodic, &f);
    timer_mod(f.rearm, 100);
    clock_advance(c, 450);
    ck_assert_int_eq(f.n, 4);   /* 100, 200, 300, 400 */
    ck_assert_int_eq(f.at[3], 400);
    ck_assert_int_eq(timer_expire_time(f.rearm), 500);
    timer_free(f.rearm);
    clock_free(c);
}
END_TEST

START_TEST(equal_deadlines_fire_in_arming_order)
{
    VClock *c = clock_new(CLOCK_MANUAL);
    Fired f = { .clock = c };
    Cb a = { &f, 1 }, b = { &f, 2 };
    Timer *ta = timer_new(c, record, &a), *tb = timer_new(c, record, &b);
    timer_mod(ta, 10);
    timer_mod(tb, 10);
    clock_advance(c, 10);
    ck_assert_int_eq(f.n, 2);
    ck_assert_int_eq(f.order[0], 1);
    ck_assert_int_eq(f.order[1], 2);
    timer_free(ta);
    timer_free(tb);
    clock_free(c);
}
END_TEST

START_TEST(host_clock_moves_and_stops)
{
    VClock *c = clock_new(CLOCK_HOST);
    int64_t t0 = clock_now(c);
    struct timespec ts = { 0, 2000000 };
    nanosleep(&ts, NULL);
    int64_t t1 = clock_now(c);
    ck_assert_int_ge(t1 - t0, 2000000);
    clock_stop(c);
    int64_t s0 = clock_now(c);
    nanosleep(&ts, NULL);
    ck_assert_int_eq(clock_now(c), s0);     /* no time passes while stopped */
    clock_start(c);
    ck_assert_int_lt(clock_now(c) - s0, 1000000);
    clock_free(c);
}
END_TEST

static Suite *clock_suite(void)
{
    Suite *s = suite_create("clock");
    TCase *tc = tcase_create("timers");
    tcase_add_test(tc, manual_clock_starts_at_zero_and_advances);
    tcase_add_test(tc, timers_fire_in_deadline_order_at_their_time);
    tcase_add_test(tc, timer_del_and_mod_rearm);
    tcase_add_test(tc, callback_can_rearm_itself);
    tcase_add_test(tc, equal_deadlines_fire_in_arming_order);
    tcase_add_test(tc, host_clock_moves_and_stops);
    suite_add_tcase(s, tc);
    return s;
}
UNIT_SUITE(clock_suite)
