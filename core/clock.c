/*
 * The virtual clock and its timer list.  Timers sit in a list sorted by
 * deadline; there are few (tens) per machine, so insertion is linear.
 *
 * The alarm (host mode): a POSIX timer on CLOCK_MONOTONIC, aimed at this
 * thread, kept armed at the earliest deadline.  Its signal handler calls
 * the owner's callback, which asks the CPU to leave translated code, so a
 * timer interrupt is taken where the guest is when its deadline passes
 * (not where the execution loop next happens to look at the clock: that
 * was almost always in the kernel, which returns to the loop far more
 * often than user code, and skewed the guest's user/system accounting).
 * Re-arming costs a syscall, so the alarm is moved only earlier, or after
 * it fired; a head timer moved later just gets an early, spurious alarm,
 * after which the owner calls clock_rearm().
 *
 * Threads: vCPU threads arm timers (a guest programming its local APIC)
 * while the main loop fires them, so the list and the alarm are guarded
 * by a mutex, and the earliest deadline is also kept in an atomic word
 * that CPU loops read without it.  Callbacks run without the mutex (they
 * re-arm timers); the machine's I/O lock keeps a callback and a device
 * access apart.  A timer armed from a thread other than the one that
 * runs the timers, and that becomes the earliest, calls the owner's
 * notify hook (clock_set_notify): the main loop then sleeps less.
 */
#include "core/clock.h"

#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

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
    pthread_mutex_t lock;    /* the list and the alarm (see the top) */
    int64_t next;            /* earliest deadline, atomic (clock_next_deadline) */
    pthread_t runner;        /* the thread that runs the timers */
    void (*notify)(void *opaque);
    void *notify_opaque;
    ClockMode mode;
    int64_t manual_now;      /* CLOCK_MANUAL */
    /* CLOCK_ICOUNT: now = (count() << shift) + warp */
    int shift;
    int64_t warp;
    ClockCountFn count;
    void *count_opaque;
    TimerCallback deadline_notify;
    void *deadline_notify_opaque;
    int64_t host_offset;     /* CLOCK_HOST: virtual = host - offset */
    int64_t stopped_at;      /* CLOCK_HOST while stopped, else -1 */
    Timer *armed;            /* sorted by expire */
    /* the alarm (clock_set_alarm) */
    timer_t alarm;
    bool have_alarm;
    ClockAlarmFn alarm_fn;
    void *alarm_opaque;
    int64_t alarm_at;        /* virtual deadline armed in the host timer, or INT64_MAX */
    volatile sig_atomic_t alarm_fired;
};

#define ALARM_SIGNAL SIGUSR2   /* SIGUSR1 is the KVM accelerator's kick */

VClock *clock_new(ClockMode mode)
{
    VClock *c = xcalloc(1, sizeof(*c));
    pthread_mutex_init(&c->lock, NULL);
    c->next = INT64_MAX;
    c->runner = pthread_self();
    c->mode = mode;
    c->host_offset = host_monotonic_ns();
    c->stopped_at = -1;
    return c;
}

VClock *clock_new_icount(int shift)
{
    VClock *c = clock_new(CLOCK_ICOUNT);
    c->shift = shift;
    return c;
}

void clock_set_counter(VClock *c, ClockCountFn count, void *opaque)
{
    /* The time stays where it is: the new counter's origin moves the warp. */
    int64_t now = clock_now(c);
    c->count = count;
    c->count_opaque = opaque;
    c->warp = 0;
    c->warp = now - clock_now(c);
}

int clock_icount_shift(const VClock *c)
{
    return c->shift;
}

static uint64_t icount_read(const VClock *c)
{
    return c->count ? c->count(c->count_opaque) : 0;
}

void clock_set_icount_shift(VClock *c, int shift)
{
    int64_t now = clock_now(c);
    c->shift = shift;
    c->warp = now - (int64_t)(icount_read(c) << shift);
}

uint64_t clock_icount(const VClock *c)
{
    return c->mode == CLOCK_ICOUNT ? icount_read(c) : 0;
}

uint64_t clock_icount_at(const VClock *c, int64_t ns)
{
    if (ns == INT64_MAX)
        return UINT64_MAX;
    int64_t rel = ns - c->warp;
    if (rel <= 0)
        return 0;
    uint64_t unit = 1ULL << c->shift;
    return ((uint64_t)rel + unit - 1) >> c->shift;
}

void clock_warp_to(VClock *c, int64_t ns)
{
    int64_t now = clock_now(c);
    if (c->mode == CLOCK_ICOUNT && ns > now)
        c->warp += ns - now;
}

int64_t clock_warp_total(const VClock *c)
{
    return c->warp;
}

void clock_set_warp_total(VClock *c, int64_t warp)
{
    c->warp = warp;
}

void clock_set_deadline_notify(VClock *c, TimerCallback fn, void *opaque)
{
    c->deadline_notify = fn;
    c->deadline_notify_opaque = opaque;
}

void clock_free(VClock *c)
{
    if (c && c->have_alarm)
        timer_delete(c->alarm);
    if (c)
        pthread_mutex_destroy(&c->lock);
    free(c);
}

static void alarm_handler(int sig, siginfo_t *si, void *uc)
{
    (void)sig;
    (void)uc;
    if (si->si_code != SI_TIMER)
        return;
    VClock *c = si->si_value.sival_ptr;
    c->alarm_fired = 1;
    if (c->alarm_fn)
        c->alarm_fn(c->alarm_opaque);
}

/* Points the host timer at virtual time at (INT64_MAX: disarmed). */
static void alarm_arm(VClock *c, int64_t at)
{
    struct itimerspec its = { { 0, 0 }, { 0, 0 } };
    c->alarm_at = at;
    c->alarm_fired = 0;
    if (at != INT64_MAX) {
        int64_t host = at + c->host_offset;
        if (host <= 0)
            host = 1;
        its.it_value.tv_sec = host / NS_PER_SEC;
        its.it_value.tv_nsec = host % NS_PER_SEC;
    }
    timer_settime(c->alarm, TIMER_ABSTIME, &its, NULL);
}

/* Keeps the alarm at or before the earliest deadline (see the top). */
static void alarm_update(VClock *c)
{
    if (!c->have_alarm || !c->alarm_fn || c->stopped_at >= 0)
        return;
    int64_t want = c->armed ? c->armed->expire : INT64_MAX;
    if (want < c->alarm_at || (c->alarm_fired && want != INT64_MAX))
        alarm_arm(c, want);
}

static bool clock_set_alarm_locked(VClock *c, ClockAlarmFn fn, void *opaque);

bool clock_set_alarm(VClock *c, ClockAlarmFn fn, void *opaque)
{
    pthread_mutex_lock(&c->lock);
    bool ok = clock_set_alarm_locked(c, fn, opaque);
    pthread_mutex_unlock(&c->lock);
    return ok;
}

void clock_set_notify(VClock *c, void (*fn)(void *opaque), void *opaque)
{
    pthread_mutex_lock(&c->lock);
    c->runner = pthread_self();
    c->notify = fn;
    c->notify_opaque = opaque;
    pthread_mutex_unlock(&c->lock);
}

static bool clock_set_alarm_locked(VClock *c, ClockAlarmFn fn, void *opaque)
{
    if (c->mode != CLOCK_HOST)
        return false;
    if (!fn) {
        c->alarm_fn = NULL;
        if (c->have_alarm)
            alarm_arm(c, INT64_MAX);
        return true;
    }
    if (!c->have_alarm) {
        struct sigaction sa = { .sa_sigaction = alarm_handler, .sa_flags = SA_SIGINFO | SA_RESTART };
        sigemptyset(&sa.sa_mask);
        if (sigaction(ALARM_SIGNAL, &sa, NULL) < 0)
            return false;
        struct sigevent sev = { .sigev_notify = SIGEV_THREAD_ID, .sigev_signo = ALARM_SIGNAL };
        sev.sigev_value.sival_ptr = c;
        sev._sigev_un._tid = (pid_t)syscall(SYS_gettid);
        if (timer_create(CLOCK_MONOTONIC, &sev, &c->alarm) < 0)
            return false;
        c->have_alarm = true;
    }
    c->alarm_opaque = opaque;
    c->alarm_fn = fn;
    c->alarm_at = INT64_MAX;
    c->alarm_fired = 1;       /* arm at the next update */
    alarm_update(c);
    return true;
}

void clock_rearm(VClock *c)
{
    pthread_mutex_lock(&c->lock);
    if (c->have_alarm && c->alarm_fn && c->stopped_at < 0)
        alarm_arm(c, c->armed ? c->armed->expire : INT64_MAX);
    pthread_mutex_unlock(&c->lock);
}

/* After any change of the list (lock held). */
static void head_changed(VClock *c)
{
    __atomic_store_n(&c->next, c->armed ? c->armed->expire : INT64_MAX, __ATOMIC_RELEASE);
}

int64_t clock_now(VClock *c)
{
    if (c->mode == CLOCK_MANUAL)
        return c->manual_now;
    if (c->mode == CLOCK_ICOUNT)
        return (int64_t)(icount_read(c) << c->shift) + c->warp;
    if (c->stopped_at >= 0)
        return c->stopped_at;
    return host_monotonic_ns() - c->host_offset;
}

void clock_stop(VClock *c)
{
    pthread_mutex_lock(&c->lock);
    if (c->mode == CLOCK_HOST && c->stopped_at < 0) {
        c->stopped_at = clock_now(c);
        if (c->have_alarm)
            alarm_arm(c, INT64_MAX);
    }
    pthread_mutex_unlock(&c->lock);
}

bool clock_stopped(VClock *c)
{
    pthread_mutex_lock(&c->lock);
    bool r = c->mode == CLOCK_HOST && c->stopped_at >= 0;
    pthread_mutex_unlock(&c->lock);
    return r;
}

void clock_start(VClock *c)
{
    bool rearm = false;
    pthread_mutex_lock(&c->lock);
    if (c->mode == CLOCK_HOST && c->stopped_at >= 0) {
        c->host_offset = host_monotonic_ns() - c->stopped_at;
        c->stopped_at = -1;
        rearm = true;
    }
    pthread_mutex_unlock(&c->lock);
    if (rearm)
        clock_rearm(c);
}

void clock_set(VClock *c, int64_t ns)
{
    bool rearm = false;
    pthread_mutex_lock(&c->lock);
    if (c->mode == CLOCK_MANUAL)
        c->manual_now = ns;
    else if (c->mode == CLOCK_ICOUNT)
        c->warp = ns - (int64_t)(icount_read(c) << c->shift);
    else if (c->stopped_at >= 0)
        c->stopped_at = ns;
    else {
        c->host_offset = host_monotonic_ns() - ns;
        rearm = true;
    }
    pthread_mutex_unlock(&c->lock);
    if (rearm)
        clock_rearm(c);
}

int clock_run_timers(VClock *c)
{
    int fired = 0;
    int64_t now = clock_now(c);
    pthread_mutex_lock(&c->lock);
    while (c->armed && c->armed->expire <= now) {
        Timer *t = c->armed;
        c->armed = t->next;
        t->armed = false;
        t->next = NULL;
        head_changed(c);
        pthread_mutex_unlock(&c->lock);
        t->cb(t->opaque);
        fired++;
        pthread_mutex_lock(&c->lock);
    }
    alarm_update(c);
    pthread_mutex_unlock(&c->lock);
    return fired;
}

void clock_advance(VClock *c, int64_t ns)
{
    if (c->mode != CLOCK_MANUAL || ns < 0)
        return;
    int64_t target = c->manual_now + ns;
    /* Step deadline by deadline so each callback sees its own time. */
    int64_t d;
    while ((d = clock_next_deadline(c)) <= target) {
        if (d > c->manual_now)
            c->manual_now = d;
        clock_run_timers(c);
    }
    c->manual_now = target;
}

int64_t clock_next_deadline(VClock *c)
{
    return __atomic_load_n(&c->next, __ATOMIC_ACQUIRE);
}

Timer *timer_new(VClock *c, TimerCallback cb, void *opaque)
{
    Timer *t = xcalloc(1, sizeof(*t));
    t->clock = c;
    t->cb = cb;
    t->opaque = opaque;
    return t;
}

static void timer_del_locked(Timer *t)
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
    head_changed(t->clock);
}

void timer_del(Timer *t)
{
    VClock *c = t->clock;
    pthread_mutex_lock(&c->lock);
    timer_del_locked(t);
    pthread_mutex_unlock(&c->lock);
}

void timer_free(Timer *t)
{
    if (!t)
        return;
    timer_del(t);
    free(t);
}

static bool timer_is_head(const Timer *t)
{
    return t->clock->armed == t;
}

void timer_mod(Timer *t, int64_t expire_ns)
{
    VClock *c = t->clock;
    pthread_mutex_lock(&c->lock);
    int64_t before = c->armed ? c->armed->expire : INT64_MAX;
    timer_del_locked(t);
    t->expire = expire_ns;
    Timer **pp = &c->armed;
    /* Equal deadlines fire in the order they were armed. */
    while (*pp && (*pp)->expire <= expire_ns)
        pp = &(*pp)->next;
    t->next = *pp;
    *pp = t;
    t->armed = true;
    head_changed(c);
    bool head = timer_is_head(t);
    if (head)
        alarm_update(c);
    void (*notify)(void *) = head && expire_ns < before && c->notify &&
                             !pthread_equal(c->runner, pthread_self()) ? c->notify : NULL;
    void *nop = c->notify_opaque;
    TimerCallback deadline_notify = head ? c->deadline_notify : NULL;
    void *dop = c->deadline_notify_opaque;
    pthread_mutex_unlock(&c->lock);
    if (notify)
        notify(nop);
    if (deadline_notify)
        deadline_notify(dop);
}

bool timer_pending(const Timer *t)
{
    return t->armed;
}

int64_t timer_expire_time(const Timer *t)
{
    return t->armed ? t->expire : -1;
}
