/*
 * The virtual clock and its timer list.  Timers sit in a list sorted by
 * deadline; there are few (tens) per machine, so insertion is linear.
 */
#include "core/clock.h"

#include <stdlib.h>
#include <time.h>

#include "core/util.h"

struct Timer {
    VClock *clock;
    TimerCallback cb;
    void *opaque;
    int64_t expire;
    bool armed;
    Timer *next;
};

struct VClock {
    ClockMode mode;
    int64_t manual_now;      /* CLOCK_MANUAL */
    int64_t host_offset;     /* CLOCK_HOST: virtual = host - offset */
    int64_t stopped_at;      /* CLOCK_HOST while stopped, else -1 */
    Timer *armed;            /* sorted by expire */
};

static int64_t host_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * NS_PER_SEC + ts.tv_nsec;
}

VClock *clock_new(ClockMode mode)
{
    VClock *c = xcalloc(1, sizeof(*c));
    c->mode = mode;
    c->host_offset = host_ns();
    c->stopped_at = -1;
    return c;
}

void clock_free(VClock *c)
{
    free(c);
}

int64_t clock_now(VClock *c)
{
    if (c->mode == CLOCK_MANUAL)
        return c->manual_now;
    if (c->stopped_at >= 0)
        return c->stopped_at;
    return host_ns() - c->host_offset;
}

void clock_stop(VClock *c)
{
    if (c->mode == CLOCK_HOST && c->stopped_at < 0)
        c->stopped_at = clock_now(c);
}

void clock_start(VClock *c)
{
    if (c->mode == CLOCK_HOST && c->stopped_at >= 0) {
        c->host_offset = host_ns() - c->stopped_at;
        c->stopped_at = -1;
    }
}

void clock_set(VClock *c, int64_t ns)
{
    if (c->mode == CLOCK_MANUAL)
        c->manual_now = ns;
    else if (c->stopped_at >= 0)
        c->stopped_at = ns;
    else
        c->host_offset = host_ns() - ns;
}

int clock_run_timers(VClock *c)
{
    int fired = 0;
    int64_t now = clock_now(c);
    while (c->armed && c->armed->expire <= now) {
        Timer *t = c->armed;
        c->armed = t->next;
        t->armed = false;
        t->next = NULL;
        t->cb(t->opaque);
        fired++;
    }
    return fired;
}

void clock_advance(VClock *c, int64_t ns)
{
    if (c->mode != CLOCK_MANUAL || ns < 0)
        return;
    int64_t target = c->manual_now + ns;
    /* Step deadline by deadline so each callback sees its own time. */
    while (c->armed && c->armed->expire <= target) {
        if (c->armed->expire > c->manual_now)
            c->manual_now = c->armed->expire;
        clock_run_timers(c);
    }
    c->manual_now = target;
}

int64_t clock_next_deadline(VClock *c)
{
    return c->armed ? c->armed->expire : INT64_MAX;
}

Timer *timer_new(VClock *c, TimerCallback cb, void *opaque)
{
    Timer *t = xcalloc(1, sizeof(*t));
    t->clock = c;
    t->cb = cb;
    t->opaque = opaque;
    return t;
}

void timer_del(Timer *t)
{
    if (!t->armed)
        return;
    for (Timer **pp = &t->clock->armed; *pp; pp = &(*pp)->next) {
        if (*pp == t) {
            *pp = t->next;
            break;
        }
    }
    t->armed = false;
    t->next = NULL;
}

void timer_free(Timer *t)
{
    if (!t)
        return;
    timer_del(t);
    free(t);
}

void timer_mod(Timer *t, int64_t expire_ns)
{
    timer_del(t);
    t->expire = expire_ns;
    Timer **pp = &t->clock->armed;
    /* Equal deadlines fire in the order they were armed. */
    while (*pp && (*pp)->expire <= expire_ns)
        pp = &(*pp)->next;
    t->next = *pp;
    *pp = t;
    t->armed = true;
}

bool timer_pending(const Timer *t)
{
    return t->armed;
}

int64_t timer_expire_time(const Timer *t)
{
    return t->armed ? t->expire : -1;
}
