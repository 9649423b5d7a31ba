/*
 * One virtual clock per machine, in nanoseconds, and a timer list on it.
 *
 * In CLOCK_HOST mode virtual time follows the host's monotonic clock while
 * the machine runs (and stands still while it is stopped).  In CLOCK_MANUAL
 * mode it moves only through clock_advance(): tests use that to drive
 * devices deterministically.  In CLOCK_ICOUNT mode (-icount shift=N) it is
 * the CPU's instruction count times 2^N ns, plus the time a halted CPU
 * skipped (clock_warp_to): no host time at all, so a run is repeatable.
 *
 *   Timer *t = timer_new(clk, pit_timer_fire, pit);
 *   timer_mod(t, clock_now(clk) + 838);   // fire in 838 ns
 *   ...
 *   clock_run_timers(clk);               // main loop: fire what is due
 */
#ifndef VX86_CORE_CLOCK_H
#define VX86_CORE_CLOCK_H

#include <stdbool.h>
#include <stdint.h>

#define NS_PER_SEC 1000000000LL

typedef enum ClockMode { CLOCK_HOST, CLOCK_MANUAL, CLOCK_ICOUNT } ClockMode;

typedef struct VClock VClock;
typedef struct Timer Timer;
typedef void (*TimerCallback)(void *opaque);

VClock *clock_new(ClockMode mode);
void clock_free(VClock *c);
int64_t clock_now(VClock *c);
/* Host mode: pause/resume so virtual time does not run while stopped. */
void clock_stop(VClock *c);
void clock_start(VClock *c);
/* Host mode: stopped (clock_stop) and not started again. */
bool clock_stopped(VClock *c);
/* Sets the current virtual time (restoring a snapshot); armed timers keep
 * their absolute deadlines. */
void clock_set(VClock *c, int64_t ns);
/* Manual mode: move time forward by ns, firing due timers in order. */
void clock_advance(VClock *c, int64_t ns);
/* Fires every timer whose deadline is <= now, earliest first; a callback
 * may re-arm its own or other timers.  Returns how many fired. */
int clock_run_timers(VClock *c);
/* Earliest armed deadline, or INT64_MAX when none. */
int64_t clock_next_deadline(VClock *c);

/* Host mode: fn(opaque) is called from a signal handler on the calling
 * thread when the earliest deadline passes (so it must be async-signal
 * safe: set a flag).  It may also be called early, before a deadline that
 * moved later; the owner then calls clock_rearm().  fn NULL removes it.
 * Returns false in manual mode or when the host timer cannot be made. */
typedef void (*ClockAlarmFn)(void *opaque);
bool clock_set_alarm(VClock *c, ClockAlarmFn fn, void *opaque);
void clock_rearm(VClock *c);

/* fn(opaque) runs when a timer armed from another thread than the caller
 * of this (the one that runs the timers) becomes the earliest: that
 * thread, asleep until the old deadline, should look again.  fn NULL
 * removes it. */
void clock_set_notify(VClock *c, void (*fn)(void *opaque), void *opaque);

/* ---- CLOCK_ICOUNT ----
 * The instruction counter comes from the accelerator (count(opaque): the
 * instructions completed so far); until one is set the count reads 0.
 * The shift is fixed at creation (clock_new_icount). */
typedef uint64_t (*ClockCountFn)(void *opaque);
VClock *clock_new_icount(int shift);
void clock_set_counter(VClock *c, ClockCountFn count, void *opaque);
int clock_icount_shift(const VClock *c);
/* A new shift from now on (-icount shift=auto); the time goes on from
 * where it is. */
void clock_set_icount_shift(VClock *c, int shift);
/* The instruction count (0 in the other modes). */
uint64_t clock_icount(const VClock *c);
/* The first instruction count at which the clock reads ns or later
 * (0 when it already does at count 0; UINT64_MAX for INT64_MAX). */
uint64_t clock_icount_at(const VClock *c, int64_t ns);
/* Moves virtual time forward to ns without instructions (a halted CPU
 * waiting for its next timer); nothing when ns is not later than now. */
void clock_warp_to(VClock *c, int64_t ns);
/* Time added by warps so far (saved with snapshots of the run). */
int64_t clock_warp_total(const VClock *c);
void clock_set_warp_total(VClock *c, int64_t warp);
/* fn(opaque) runs when the earliest deadline moves earlier (a device armed
 * a timer while the CPU runs): the CPU must come back to its loop to cut
 * its instruction budget.  NULL removes it. */
void clock_set_deadline_notify(VClock *c, TimerCallback fn, void *opaque);

Timer *timer_new(VClock *c, TimerCallback cb, void *opaque);
void timer_free(Timer *t);
void timer_mod(Timer *t, int64_t expire_ns);
void timer_del(Timer *t);
bool timer_pending(const Timer *t);
int64_t timer_expire_time(const Timer *t);

#endif
