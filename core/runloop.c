/*
 * The main loop: one thread runs the accelerator until the next timer
 * deadline, fires due timers, polls input sources, and acts on reset and
 * shutdown requests.  When every CPU is halted it sleeps in poll() until
 * the next deadline or input, so an idle guest costs no host CPU.
 *
 * Input is polled each time the accelerator returns, and a busy CPU
 * returns only at the next timer deadline, which may be far (or never,
 * with no timer armed).  So a worker thread that makes a watched fd
 * readable (block-layer completions) calls machine_notify(): it sets
 * stop_requested and kicks the CPU, which leaves translated code at its
 * next block entry and returns here.  stop_requested is cleared just
 * before polling, not before running: a notification that comes after the
 * clear ends the next run at once, one that came before it is seen by
 * this poll (workers make their fd readable before notifying).
 *
 * Under -icount (Machine.icount) the loop also runs the deferred work
 * (synchronous block completions), gives record/replay its event point
 * (core/replay.h) right after input was polled, and when the CPU is
 * halted waits for the next timer in real time (sleep=on) and then moves
 * the clock to that deadline (a warp: halted, the CPU counts nothing).
 *
 * RUN_PAUSED (-S, a debugger's stop: machine_pause/machine_resume) runs
 * no CPU and stops the virtual clock; input is still polled.  An
 * accelerator's ACCEL_EXIT_DEBUG goes to the debugger's m->debug_stop.
 *
 * With vCPU threads (accel/vcpus.h) this thread runs no CPU: it holds the
 * machine's I/O lock except while it sleeps in poll(), fires the timers,
 * polls input, and carries out what the vCPUs report (reset, shutdown,
 * error, a debugger stop) with every vCPU stopped.  It sleeps until the
 * next deadline, input, or a wake-up (Machine.wake_fd: machine_wake, a
 * timer armed earlier by a vCPU, a worker's machine_notify).
 */
#include <errno.h>
#include <poll.h>
#include <unistd.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "accel/accel.h"
#include "core/machine.h"
#include "core/replay.h"
#include "core/util.h"

bool machine_watch_fd(Machine *m, FdGetter get_fd, FdHandler on_readable, void *opaque)
{
    if (m->nfds >= (int)(sizeof(m->fds) / sizeof(m->fds[0])))
        return false;
    m->fds[m->nfds++] = (FdWatch){ get_fd, on_readable, opaque };
    return true;
}

void machine_unwatch_fd(Machine *m, void *opaque)
{
    int n = 0;
    for (int i = 0; i < m->nfds; i++)
        if (m->fds[i].opaque != opaque)
            m->fds[n++] = m->fds[i];
    m->nfds = n;
}

int pollset_add(PollSet *ps, int fd, short events)
{
    if (ps->n == ps->cap) {
        ps->cap = ps->cap ? ps->cap * 2 : 64;
        ps->fds = xrealloc(ps->fds, sizeof(struct pollfd) * (size_t)ps->cap);
    }
    ps->fds[ps->n] = (struct pollfd){ .fd = fd, .events = events };
    return ps->n++;
}

short pollset_revents(const PollSet *ps, int idx)
{
    return idx >= 0 && idx < ps->n ? ps->fds[idx].revents : 0;
}

bool machine_add_poll_hook(Machine *m, PollFillFn fill, PollDispatchFn dispatch, void *opaque)
{
    if (m->npoll_hooks >= (int)(sizeof(m->poll_hooks) / sizeof(m->poll_hooks[0])))
        return false;
    m->poll_hooks[m->npoll_hooks++] = (PollHook){ fill, dispatch, opaque };
    return true;
}

void machine_remove_poll_hook(Machine *m, void *opaque)
{
    int n = 0;
    for (int i = 0; i < m->npoll_hooks; i++)
        if (m->poll_hooks[i].opaque != opaque)
            m->poll_hooks[n++] = m->poll_hooks[i];
    m->npoll_hooks = n;
}

/* Waits up to timeout_ms for input and dispatches what is readable: the
 * watched fds first in the poll set, then what the poll hooks add. */
static void poll_inputs(Machine *m, int timeout_ms)
{
    PollSet *ps = &m->pollset;
    ps->n = 0;
    int nfds = m->nfds;
    for (int i = 0; i < nfds; i++)
        pollset_add(ps, m->fds[i].get_fd(m->fds[i].opaque), POLLIN);
    int nhooks = m->npoll_hooks;
    PollHook hooks[sizeof(m->poll_hooks) / sizeof(m->poll_hooks[0])];
    memcpy(hooks, m->poll_hooks, sizeof(PollHook) * (size_t)nhooks);
    for (int i = 0; i < nhooks; i++)
        hooks[i].fill(hooks[i].opaque, ps, &timeout_ms);
    /* vCPU threads: their wake-ups, and the I/O lock is theirs while
     * this thread sleeps. */
    int wake = m->io_lock_on ? pollset_add(ps, m->wake_fd, POLLIN) : -1;
    int depth = machine_io_release(m);
    int n = poll(ps->fds, (nfds_t)ps->n, timeout_ms);
    machine_io_reacquire(m, depth);
    if (wake >= 0 && (pollset_revents(ps, wake) & POLLIN)) {
        uint64_t v;
        if (read(m->wake_fd, &v, sizeof v) < 0 && errno != EAGAIN)
            perror("vx86: main loop wake-up");
    }
    if (n <= 0)
        for (int i = 0; i < ps->n; i++)
            ps->fds[i].revents = 0;
    if (n > 0) {
        /* A handler may unwatch (its source closed): walk a copy. */
        FdWatch w[sizeof(m->fds) / sizeof(m->fds[0])];
        memcpy(w, m->fds, sizeof(FdWatch) * (size_t)nfds);
        for (int i = 0; i < nfds; i++)
            if (ps->fds[i].revents & (POLLIN | POLLHUP))
                w[i].on_readable(w[i].opaque);
    }
    /* Hooks run after every poll: libslirp's TCP timers need it. */
    for (int i = 0; i < nhooks; i++)
        hooks[i].dispatch(hooks[i].opaque, ps);
}

void machine_poll(Machine *m, int timeout_ms)
{
    poll_inputs(m, timeout_ms);
}

#define INPUT_POLL_NS 10000000

static int ms_until(Machine *m, int64_t deadline)
{
    if (deadline == INT64_MAX)
        return 100;
    int64_t ns = deadline - clock_now(m->clock);
    if (ns <= 0)
        return 0;
    return ns > 100000000 ? 100 : (int)((ns + 999999) / 1000000);
}

/* Frees what the memory map dropped while no CPU can be looking: at once
 * on one thread, in a stop of the vCPU threads when enough piled up. */
static void reclaim_memory_map(Machine *m)
{
    unsigned n = memmap_retired(m->mem);
    if (!n)
        return;
    if (!m->io_lock_on) {
        memmap_reclaim(m->mem);
    } else if (n > 256 || m->state != RUN_RUNNING) {
        machine_vcpus_stop(m);
        memmap_reclaim(m->mem);
        machine_vcpus_start(m);
    }
}

/* Reset: the devices, then every CPU at RESET.  False on an error
 * (reported; the machine ends). */
static bool machine_do_reset(Machine *m, const AccelOps *ops, void *acc)
{
    machine_emit(m, MACHINE_EV_RESET, !m->reset_by_host,
                 m->reset_reason ? m->reset_reason : "guest-reset");
    /* -no-reboot was applied when the reset was requested. */
    char err[256];
    machine_reset_devices(m);
    if (accel_reset_cpu(m, ops, acc, err, sizeof err) < 0) {
        fprintf(stderr, "vx86: reset: %s\n", err);
        m->state = RUN_ERROR;
        m->exit_code = EXIT_EMULATION_ERROR;
        return false;
    }
    m->state = RUN_RUNNING;
    return true;
}

static void main_alarm(void *opaque)
{
    (void)opaque;    /* the signal itself ends poll() early: nothing to do */
}

static void main_clock_notify(void *opaque)
{
    machine_wake(opaque);
}

/* The main loop with vCPU threads (see the top). */
static int machine_run_threaded(Machine *m, const AccelOps *ops, void *acc)
{
    machine_io_lock(m);
    clock_set_notify(m->clock, main_clock_notify, m);
    clock_set_alarm(m->clock, main_alarm, m);
    if (m->start_paused) {
        m->state = RUN_PAUSED;
        clock_stop(m->clock);
    } else {
        m->state = RUN_RUNNING;
        clock_start(m->clock);
    }
    machine_vcpus_stop(m);          /* a stop round: they look at the state */
    machine_vcpus_start(m);
    while (m->state == RUN_RUNNING || m->state == RUN_RESET ||
           m->state == RUN_POWERED_OFF || m->state == RUN_PAUSED) {
        if (m->tick_fn)
            m->tick_fn(m->tick_opaque);
        reclaim_memory_map(m);
        if (m->debug_stop_pending) {
            m->debug_stop_pending = false;
            if (m->debug_stop)
                m->debug_stop(m->debug_opaque);
            machine_vcpus_stop(m);  /* ends the reporting vCPU's hold */
            machine_vcpus_start(m);
            continue;
        }
        if (m->state == RUN_PAUSED || m->state == RUN_POWERED_OFF) {
            poll_inputs(m, m->tick_fn ? 0 : m->stopped_refresh ? 30 : 100);
            if (m->stopped_refresh)
                m->stopped_refresh(m->stopped_refresh_opaque);
            continue;
        }
        if (m->reset_pending) {
            m->reset_pending = false;
            m->state = RUN_RESET;
        }
        if (m->state == RUN_RESET) {
            machine_vcpus_stop(m);
            bool ok = machine_do_reset(m, ops, acc);
            machine_vcpus_start(m);
            if (!ok)
                break;
            continue;
        }
        clock_run_timers(m->clock);
        poll_inputs(m, ms_until(m, clock_next_deadline(m->clock)));
        clock_run_timers(m->clock);
    }
    /* Shutdown or error: the vCPUs stop where they are. */
    machine_vcpus_stop(m);
    clock_set_alarm(m->clock, NULL, NULL);
    clock_set_notify(m->clock, NULL, NULL);
    clock_stop(m->clock);
    machine_vcpus_start(m);
    machine_io_unlock(m);
    return m->state == RUN_SHUTDOWN ? m->exit_code
                                     : (m->exit_code ? m->exit_code : EXIT_EMULATION_ERROR);
}

/* shift=auto: every 100 ms of host time, one step of the shift towards
 * virtual time = real time (more ns per instruction when the guest fell
 * behind, fewer when it ran ahead).  A recording logs each change. */
#define AUTO_PERIOD_NS 100000000
#define AUTO_SLACK_NS 10000000

static void icount_auto_adjust(Machine *m)
{
    int64_t h = host_monotonic_ns(), v = clock_now(m->clock);
    if (m->auto_host_last == 0) {
        m->auto_host0 = m->auto_host_last = h;
        m->auto_vtime0 = v;
        return;
    }
    if (h - m->auto_host_last < AUTO_PERIOD_NS)
        return;
    m->auto_host_last = h;
    int64_t ahead = (v - m->auto_vtime0) - (h - m->auto_host0);
    int shift = clock_icount_shift(m->clock);
    if (ahead > AUTO_SLACK_NS && shift > 0)
        shift--;
    else if (ahead < -AUTO_SLACK_NS && shift < ICOUNT_MAX_SHIFT)
        shift++;
    else
        return;
    clock_set_icount_shift(m->clock, shift);
    if (m->rr)
        replay_shift(m->rr, shift);
}

/* -icount, after a run of the CPU: input, the event point, and a halted
 * CPU's wait for its next deadline. */
static void icount_poll(Machine *m, AccelExit e)
{
    Replay *rr = m->rr;
    bool halted = e == ACCEL_EXIT_HALTED;
    if (rr && replay_mode(rr) == RR_REPLAY) {
        /* Host controls only (monitor, gdb): the guest's input is the log's. */
        poll_inputs(m, 0);
        replay_event_point(rr, halted);
        return;
    }
    if (m->icount_auto)
        icount_auto_adjust(m);
    if (!halted) {
        m->idle_host_start = -1;
        poll_inputs(m, 0);
        if (rr)
            replay_event_point(rr, false);
        return;
    }
    int64_t now = clock_now(m->clock);
    int64_t dl = clock_next_deadline(m->clock);
    if (m->idle_host_start < 0 || m->idle_vtime != now) {
        m->idle_host_start = host_monotonic_ns();
        m->idle_vtime = now;
    }
    /* Whole milliseconds only (poll's unit): less than one left is due. */
    int64_t left = dl == INT64_MAX ? INT64_MAX
                 : !m->icount_sleep ? 0 : (dl - now) - (host_monotonic_ns() - m->idle_host_start);
    int timeout = left == INT64_MAX ? 100 : left < 1000000 ? 0
                : left > 100000000 ? 100 : (int)(left / 1000000);
    poll_inputs(m, timeout);
    if (rr)
        replay_event_point(rr, false);
    if (dl != INT64_MAX &&
        (!m->icount_sleep || (dl - now) - (host_monotonic_ns() - m->idle_host_start) < 1000000)) {
        if (rr)
            replay_warp(rr, dl - now);
        clock_warp_to(m->clock, dl);
        m->idle_host_start = -1;
    }
}

int machine_run(Machine *m, const AccelOps *ops, void *acc)
{
    if (accel_threaded(ops, acc))
        return machine_run_threaded(m, ops, acc);
    if (m->rr)
        replay_run_begins(m->rr);
    if (m->start_paused) {
        m->state = RUN_PAUSED;          /* -S, -incoming: cont / the stream starts it */
        clock_stop(m->clock);
    } else {
        m->state = RUN_RUNNING;
        clock_start(m->clock);
    }
    while (m->state == RUN_RUNNING || m->state == RUN_RESET ||
           m->state == RUN_POWERED_OFF || m->state == RUN_PAUSED) {
        if (m->tick_fn)
            m->tick_fn(m->tick_opaque);
        reclaim_memory_map(m);
        if (m->state == RUN_PAUSED || m->state == RUN_POWERED_OFF) {
            /* -S, stop or a debugger's stop, or -no-shutdown after a
             * power-off: the CPU is stopped, no timer runs; only input
             * (gdb, monitor, QMP, quit), the display and a migration's
             * sending move. */
            poll_inputs(m, m->tick_fn ? 0 : m->stopped_refresh ? 30 : 100);
            if (m->stopped_refresh)
                m->stopped_refresh(m->stopped_refresh_opaque);
            continue;
        }
        if (m->reset_pending) {         /* system_reset while paused */
            m->reset_pending = false;
            m->state = RUN_RESET;
        }
        if (m->state == RUN_RESET && !machine_do_reset(m, ops, acc))
            break;
        /* With input sources (monitor, QMP), come back at least every
         * 10 ms even with no timer armed, so commands get answered while
         * the guest computes (KVM's own kick does the same). */
        int64_t deadline = clock_next_deadline(m->clock);
        if (m->nfds && deadline - clock_now(m->clock) > INPUT_POLL_NS)
            deadline = clock_now(m->clock) + INPUT_POLL_NS;
        AccelExit e = ops->exec(acc, deadline);
        if (e == ACCEL_EXIT_SHUTDOWN) {
            machine_triple_fault(m);
            continue;
        }
        if (e == ACCEL_EXIT_DEBUG) {
            if (m->debug_stop)
                m->debug_stop(m->debug_opaque);
            continue;
        }
        if (e == ACCEL_EXIT_ERROR) {
            if (m->state == RUN_RUNNING) {
                m->state = RUN_ERROR;
                m->exit_code = EXIT_EMULATION_ERROR;
            }
            break;
        }
        if (m->icount)
            machine_run_deferred(m);
        clock_run_timers(m->clock);
        __atomic_store_n(&m->stop_requested, false, __ATOMIC_SEQ_CST);
        if (m->icount)
            icount_poll(m, e);
        else
            poll_inputs(m, e == ACCEL_EXIT_HALTED ? ms_until(m, clock_next_deadline(m->clock)) : 0);
        clock_run_timers(m->clock);
    }
    clock_stop(m->clock);
    return m->state == RUN_SHUTDOWN ? m->exit_code
                                     : (m->exit_code ? m->exit_code : EXIT_EMULATION_ERROR);
}
