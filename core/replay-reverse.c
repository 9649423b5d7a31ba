/*
 * Reverse execution during a replay (gdb's reverse-stepi and
 * reverse-continue, core/gdbstub.c): periodic snapshots plus re-execution.
 *
 * A snapshot is taken at a replay's event point (the CPU between two
 * instructions, after the main loop's work at that count): the RAM as
 * 4 KiB pages shared with the previous snapshot when unchanged (never
 * touched pages are not read: mincore), the device stream (clock, CPU and
 * devices, machine_save_devices), the replay log's position and the
 * input queues in front of the guest (the serial backend's, the NICs').
 * The first is taken before the first instruction; then one every
 * `interval` instructions; when RR_SNAP_MAX are kept, every other one is
 * dropped and the interval doubles, so any stretch of the run is at most
 * a few intervals from a snapshot.
 *
 * Going to count T: restore the last snapshot at or before T and replay
 * to T (the CPU's icount_stop_at), with the guest's output muted, as the
 * main loop would: run, deferred work, timers, the log's events.  The
 * CPU then stands where a replay stopping at T stands, just before the
 * next instruction (interrupts due at T delivered).
 *
 * reverse-stepi from count C goes to C - 1.  reverse-continue replays the
 * stretch before C from the snapshots back, latest first, noting where
 * the debugger's breakpoints (the count before the instruction) and
 * watchpoints (the count before the accessing instruction: going back,
 * gdb expects to stop before the access) would stop, and goes to the last
 * such point before C; with none, to the start of the replay.
 *
 * Disks are not part of a snapshot: a guest that wrote to a disk after a
 * snapshot reads its own later writes when replayed again from it (the
 * replay's checkpoints then report a divergence).
 */
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "accel/accel.h"
#include "core/machine.h"
#include "core/replay-int.h"
#include "core/util.h"
#include "host/chardev.h"
#include "net/net.h"

#define RR_SNAP_MAX 64
#define RR_SNAP_FIRST_INTERVAL (1ULL << 20)
#define RR_PAGE 4096

typedef struct RRPage {
    uint32_t refs;
    uint8_t data[RR_PAGE];
} RRPage;

typedef struct RRSnap {
    uint64_t count;
    size_t pos;
    uint64_t idle_count;
    int idle_rounds;
    RRPage **pages;            /* NULL: a page of zeros */
    VMBuf dev;
    uint8_t *chrq[RR_MAX_SOURCES];
    size_t chrq_len[RR_MAX_SOURCES];
    uint8_t *netq[RR_MAX_SOURCES];
    size_t netq_len[RR_MAX_SOURCES];
} RRSnap;

typedef struct RRReverse {
    RRSnap *snap[RR_SNAP_MAX];
    int n;
    uint64_t interval, next_at;
    size_t npages;
    uint8_t *resident;         /* mincore's vector, npages bytes */
    bool started;
} RRReverse;

static const uint8_t zero_page[RR_PAGE];

static void page_put(RRPage *p)
{
    if (p && --p->refs == 0)
        free(p);
}

static void snap_free(RRReverse *v, RRSnap *s)
{
    for (size_t i = 0; i < v->npages; i++)
        page_put(s->pages[i]);
    free(s->pages);
    vmbuf_free(&s->dev);
    for (int i = 0; i < RR_MAX_SOURCES; i++) {
        free(s->chrq[i]);
        free(s->netq[i]);
    }
    free(s);
}

/* Which RAM pages the host ever backed (the others read as zeros). */
static void scan_resident(Replay *r)
{
    RRReverse *v = r->rev;
    if (mincore(r->m->ram, v->npages * RR_PAGE, v->resident) < 0)
        memset(v->resident, 1, v->npages);
}

static RRSnap *snap_take(Replay *r)
{
    RRReverse *v = r->rev;
    Machine *m = r->m;
    RRSnap *s = xcalloc(1, sizeof *s);
    RRSnap *prev = v->n ? v->snap[v->n - 1] : NULL;
    s->count = rr_now(r);
    s->pos = r->pos;
    s->idle_count = r->idle_count;
    s->idle_rounds = r->idle_rounds;
    s->pages = xcalloc(v->npages, sizeof *s->pages);
    scan_resident(r);
    for (size_t i = 0; i < v->npages; i++) {
        if (!(v->resident[i] & 1))
            continue;
        const uint8_t *p = m->ram + i * RR_PAGE;
        RRPage *old = prev ? prev->pages[i] : NULL;
        if (old && !memcmp(old->data, p, RR_PAGE)) {
            old->refs++;
            s->pages[i] = old;
        } else if (memcmp(p, zero_page, RR_PAGE)) {
            RRPage *np = xmalloc(sizeof *np);
            np->refs = 1;
            memcpy(np->data, p, RR_PAGE);
            s->pages[i] = np;
        }
    }
    vmbuf_init(&s->dev);
    machine_save_devices(m, &s->dev);
    for (int i = 0; i < r->nchr; i++) {
        s->chrq[i] = xmalloc(CHARDEV_INPUT_MAX);
        s->chrq_len[i] = chardev_input_save(r->chr[i], s->chrq[i], CHARDEV_INPUT_MAX);
    }
    for (int i = 0; i < r->nnet; i++)
        if (r->net[i]->peer)
            net_queue_save(r->net[i]->peer, &s->netq[i], &s->netq_len[i]);
    return s;
}

/* Drops every other snapshot (the first stays) and doubles the interval. */
static void thin_out(RRReverse *v)
{
    int n = 1;
    for (int i = 1; i < v->n; i++) {
        if (i % 2)
            snap_free(v, v->snap[i]);
        else
            v->snap[n++] = v->snap[i];
    }
    v->n = n;
    v->interval *= 2;
}

static void snapshot_now(Replay *r)
{
    RRReverse *v = r->rev;
    if (v->n && v->snap[v->n - 1]->count == rr_now(r))
        return;
    if (v->n == RR_SNAP_MAX)
        thin_out(v);
    v->snap[v->n++] = snap_take(r);
    v->next_at = rr_now(r) + v->interval;
}

static bool snap_restore(Replay *r, const RRSnap *s, char *why, size_t len)
{
    RRReverse *v = r->rev;
    Machine *m = r->m;
    scan_resident(r);
    for (size_t i = 0; i < v->npages; i++) {
        uint8_t *p = m->ram + i * RR_PAGE;
        if (s->pages[i])
            memcpy(p, s->pages[i]->data, RR_PAGE);
        else if (v->resident[i] & 1)
            memset(p, 0, RR_PAGE);
    }
    /* The count first: the clock in the stream is set from it. */
    if (m->cpu_set_icount)
        m->cpu_set_icount(m->icount_cpu, s->count);
    char *err = NULL;
    if (machine_load_devices(m, s->dev.data, s->dev.len, &err) < 0) {
        snprintf(why, len, "restoring the snapshot at icount %" PRIu64 ": %s", s->count,
                 err ? err : "refused");
        free(err);
        return false;
    }
    for (int i = 0; i < r->nchr; i++)
        chardev_input_restore(r->chr[i], s->chrq[i], s->chrq_len[i]);
    for (int i = 0; i < r->nnet; i++)
        if (r->net[i]->peer)
            net_queue_restore(r->net[i]->peer, s->netq[i], s->netq_len[i]);
    r->pos = s->pos;
    r->idle_count = s->idle_count;
    r->idle_rounds = s->idle_rounds;
    r->diverged = false;
    r->ended = false;
    m->stop_requested = false;
    return true;
}

/* ---- running forward to a count ---- */

typedef struct Hit {
    uint64_t at;               /* where reverse-continue would stop */
    AccelDebugStop st;
} Hit;

typedef struct Scan {
    uint64_t before;           /* hits must be before this count */
    bool found;
    Hit last;
} Scan;

static void note_hit(Scan *sc, uint64_t count, AccelDebugStop st)
{
    /* A watchpoint stops after the access; going back, before it. */
    uint64_t at = st.reason == ACCEL_DEBUG_WATCH && count ? count - 1 : count;
    if (at < sc->before && (!sc->found || at >= sc->last.at)) {
        sc->found = true;
        sc->last = (Hit){ at, st };
    }
}

static void mute_outputs(Replay *r, bool on)
{
    for (int i = 0; i < r->nout; i++)
        chardev_set_muted(r->out[i], on);
}

/* Replays from the current state to count target, as the main loop
 * would; debugger stops on the way go to sc (or are passed). */
static bool run_to(Replay *r, const AccelOps *ops, void *acc, uint64_t target, Scan *sc,
                   char *why, size_t len)
{
    Machine *m = r->m;
    uint64_t last = UINT64_MAX;
    int idle = 0;
    mute_outputs(r, true);
    for (;;) {
        uint64_t now = rr_now(r);
        if (now >= target)
            return true;
        uint64_t next = r->pos < r->log.nev ? r->log.ev[r->pos].count : UINT64_MAX;
        m->icount_stop_at = next < target ? next : target;
        m->stop_requested = false;
        AccelExit e = ops->exec(acc, clock_next_deadline(m->clock));
        if (e == ACCEL_EXIT_DEBUG) {
            if (sc)
                note_hit(sc, rr_now(r), ops->debug->stopped(acc));
            ops->debug->resume(acc, 0, false, false, ACCEL_RUN_ALL);
            continue;
        }
        if (e == ACCEL_EXIT_SHUTDOWN || e == ACCEL_EXIT_ERROR) {
            snprintf(why, len, "the guest stopped at icount %" PRIu64, rr_now(r));
            return false;
        }
        machine_run_deferred(m);
        clock_run_timers(m->clock);
        m->stop_requested = false;
        rr_replay_point(r, e == ACCEL_EXIT_HALTED);
        clock_run_timers(m->clock);
        mute_outputs(r, true);
        if (r->diverged) {
            snprintf(why, len, "the replay diverged at icount %" PRIu64 ": %.100s", rr_now(r),
                     r->diverge_why);
            return false;
        }
        if (m->state != RUN_PAUSED && m->state != RUN_RUNNING) {
            snprintf(why, len, "the guest reset or powered off at icount %" PRIu64, rr_now(r));
            return false;
        }
        /* Safety: a run that makes no progress at all. */
        if (rr_now(r) == last && ++idle > 64) {
            snprintf(why, len, "no progress at icount %" PRIu64, rr_now(r));
            return false;
        }
        if (rr_now(r) != last)
            idle = 0;
        last = rr_now(r);
    }
}

/* The last snapshot at or before count. */
static int snap_at_or_before(const RRReverse *v, uint64_t count)
{
    int k = -1;
    for (int i = 0; i < v->n; i++)
        if (v->snap[i]->count <= count)
            k = i;
    return k;
}

static bool go_to(Replay *r, const AccelOps *ops, void *acc, uint64_t target, char *why,
                  size_t len)
{
    int k = snap_at_or_before(r->rev, target);
    if (k < 0) {
        snprintf(why, len, "no snapshot before icount %" PRIu64, target);
        return false;
    }
    return snap_restore(r, r->rev->snap[k], why, len) &&
           run_to(r, ops, acc, target, NULL, why, len);
}

/* Back at the start of the history the snapshots cover. */
static void go_to_begin(Replay *r, ReplayStop *stop)
{
    stop->reason = RR_STOP_BEGIN;
    if (r->rev->n && !snap_restore(r, r->rev->snap[0], stop->why, sizeof stop->why))
        stop->reason = RR_STOP_ERROR;
}

static void reverse_continue(Replay *r, const AccelOps *ops, void *acc, ReplayStop *stop)
{
    RRReverse *v = r->rev;
    uint64_t c = rr_now(r);
    uint64_t hi = c;
    for (int k = snap_at_or_before(v, c); k >= 0; k--) {
        if (v->snap[k]->count > hi)
            continue;
        Scan sc = { .before = c };
        if (!snap_restore(r, v->snap[k], stop->why, sizeof stop->why) ||
            !run_to(r, ops, acc, hi, &sc, stop->why, sizeof stop->why)) {
            stop->reason = RR_STOP_ERROR;
            return;
        }
        if (sc.found) {
            if (!snap_restore(r, v->snap[k], stop->why, sizeof stop->why) ||
                !run_to(r, ops, acc, sc.last.at, NULL, stop->why, sizeof stop->why)) {
                stop->reason = RR_STOP_ERROR;
                return;
            }
            stop->reason = sc.last.st.reason == ACCEL_DEBUG_WATCH ? RR_STOP_WATCH : RR_STOP_BREAK;
            stop->type = sc.last.st.type;
            stop->addr = sc.last.st.addr;
            return;
        }
        hi = v->snap[k]->count;
    }
    go_to_begin(r, stop);
}

void replay_reverse(Replay *r, const AccelOps *ops, void *acc, bool step, ReplayStop *stop)
{
    memset(stop, 0, sizeof *stop);
    if (!replay_can_reverse(r)) {
        stop->reason = RR_STOP_ERROR;
        snprintf(stop->why, sizeof stop->why, "reverse execution needs a replay (-icount rr=replay)");
        return;
    }
    uint64_t c = rr_now(r);
    if (step && (c == 0 || r->rev->snap[0]->count >= c)) {
        go_to_begin(r, stop);
    } else if (step) {
        stop->reason = go_to(r, ops, acc, c - 1, stop->why, sizeof stop->why) ? RR_STOP_STEP
                                                                                : RR_STOP_ERROR;
    } else {
        reverse_continue(r, ops, acc, stop);
    }
    rr_replay_arm(r);
}

/* ---- keeping snapshots ---- */

void replay_enable_reverse(Replay *r)
{
    if (r->mode != RR_REPLAY || r->rev)
        return;
    RRReverse *v = xcalloc(1, sizeof *v);
    v->npages = (size_t)(r->m->ram_size / RR_PAGE);
    v->resident = xcalloc(v->npages ? v->npages : 1, 1);
    v->interval = RR_SNAP_FIRST_INTERVAL;
    r->rev = v;
}

void replay_run_begins(Replay *r)
{
    if (r->rev && !r->rev->started) {
        r->rev->started = true;
        snapshot_now(r);
    }
}

bool replay_can_reverse(const Replay *r)
{
    return r && r->mode == RR_REPLAY && r->rev && r->rev->n > 0;
}

void rr_reverse_point(Replay *r)
{
    RRReverse *v = r->rev;
    if (v->started && rr_now(r) >= v->next_at) {
        /* As the main loop is about to: a snapshot is the state after
         * this point's timers. */
        clock_run_timers(r->m->clock);
        snapshot_now(r);
    }
}

void rr_reverse_free(Replay *r)
{
    RRReverse *v = r->rev;
    if (!v)
        return;
    for (int i = 0; i < v->n; i++)
        snap_free(v, v->snap[i]);
    free(v->resident);
    free(v);
    r->rev = NULL;
}
