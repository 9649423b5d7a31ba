/*
 * One virtual clock per machine, in nanoseconds, and a timer list on it.
 *
 * In CLOCK_HOST mode virtual time follows the host's monotonic clock while
 * the machine runs (and stands still while it is stopped).  In CLOCK_MANUAL
 * mode it moves only through clock_advance(): tests use that to drive
 * devices deterministically.
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

typedef enum ClockMode { CLOCK_HOST, CLOCK_MANUAL } ClockMode;

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

Timer *timer_new(VClock *c, TimerCallback cb, void *opaque);
void timer_free(Timer *t);
void timer_mod(Timer *t, int64_t expire_ns);
void timer_del(Timer *t);
bool timer_pending(const Timer *t);
int64_t timer_expire_time(const Timer *t);

#endif
