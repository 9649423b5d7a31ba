/*
 * Machine lifecycle: RAM, memory and IO spaces, clock, device list.
 */
#include "core/machine.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <unistd.h>

#include "core/replay.h"
#include "core/util.h"

Machine *machine_new(uint64_t ram_size, ClockMode clock_mode, char *err, size_t errlen)
{
    if (ram_size == 0 || ram_size > (1ULL << 46)) {
        snprintf(err, errlen, "RAM size %llu bytes is outside 1 byte..64 TiB",
                 (unsigned long long)ram_size);
        return NULL;
    }
    /* MAP_NORESERVE: guest RAM costs host memory only when touched. */
    void *ram = mmap(NULL, ram_size, PROT_READ | PROT_WRITE,
                     MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    if (ram == MAP_FAILED) {
        snprintf(err, errlen, "cannot map %llu MiB of guest RAM on this host",
                 (unsigned long long)(ram_size >> 20));
        return NULL;
    }
    Machine *m = xcalloc(1, sizeof(*m));
    m->ram_size = ram_size;
    m->ram = ram;
    m->mem = memmap_new();
    m->io = iospace_new();
    m->clock = clock_new(clock_mode);
    m->state = RUN_PAUSED;
    m->icount_stop_at = UINT64_MAX;
    pthread_mutex_init(&m->kick_lock, NULL);
    pthread_mutex_init(&m->io_lock, NULL);
    m->main_thread = pthread_self();
    m->wake_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
    irq_init(&m->a20, NULL, NULL, 0);
    irq_init(&m->kick, NULL, NULL, 0);
    for (int i = 0; i < MACHINE_MAX_CPUS; i++)
        irq_init(&m->cpu_kick[i], NULL, NULL, i);
    memmap_set_dispatch_lock(m->mem, (void (*)(void *))machine_io_lock,
                             (void (*)(void *))machine_io_unlock, m);
    iospace_set_dispatch_lock(m->io, (void (*)(void *))machine_io_lock,
                              (void (*)(void *))machine_io_unlock, m);
    return m;
}

void machine_set_icount(Machine *m, int shift, bool sleep)
{
    clock_free(m->clock);
    m->clock = clock_new_icount(shift);
    m->icount = true;
    m->icount_sleep = sleep;
    m->idle_host_start = -1;
}

bool machine_defer(Machine *m, void (*fn)(void *opaque), void *opaque)
{
    for (int i = 0; i < m->ndeferred; i++)
        if (m->deferred[i].fn == fn && m->deferred[i].opaque == opaque)
            return true;
    if (m->ndeferred == (int)(sizeof(m->deferred) / sizeof(m->deferred[0])))
        return false;
    m->deferred[m->ndeferred].fn = fn;
    m->deferred[m->ndeferred].opaque = opaque;
    m->ndeferred++;
    return true;
}

void machine_run_deferred(Machine *m)
{
    /* A callback may defer more: those run in the next round. */
    int n = m->ndeferred;
    for (int i = 0; i < n; i++)
        m->deferred[i].fn(m->deferred[i].opaque);
    memmove(m->deferred, m->deferred + n, sizeof(m->deferred[0]) * (size_t)(m->ndeferred - n));
    m->ndeferred -= n;
}

void machine_free(Machine *m)
{
    if (!m)
        return;
    Device *d = m->devices;
    while (d) {
        Device *next = d->next;
        if (d->ops->free)
            d->ops->free(d->opaque);
        free(d);
        d = next;
    }
    memmap_free(m->mem);
    iospace_free(m->io);
    clock_free(m->clock);
    munmap(m->ram, m->ram_size);
    free(m->dirty_log);
    pthread_mutex_destroy(&m->kick_lock);
    pthread_mutex_destroy(&m->io_lock);
    if (m->wake_fd >= 0)
        close(m->wake_fd);
    free(m->pollset.fds);
    free(m);
}

Device *machine_find_device(Machine *m, const char *id)
{
    for (Device *d = m->devices; d; d = d->next)
        if (!strcmp(d->id, id))
            return d;
    return NULL;
}

Device *machine_add_device(Machine *m, const DeviceOps *ops, void *opaque)
{
    Device *d = xcalloc(1, sizeof(*d));
    d->ops = ops;
    d->opaque = opaque;
    snprintf(d->id, sizeof(d->id), "%s", ops->name);
    for (int i = 1; machine_find_device(m, d->id); i++)
        snprintf(d->id, sizeof(d->id), "%s.%d", ops->name, i);
    /* Keep creation order: reset and snapshots run in it. */
    Device **pp = &m->devices;
    while (*pp)
        pp = &(*pp)->next;
    *pp = d;
    return d;
}

void machine_remove_device(Machine *m, Device *d)
{
    for (Device **pp = &m->devices; *pp; pp = &(*pp)->next) {
        if (*pp == d) {
            *pp = d->next;
            free(d);
            return;
        }
    }
}

void machine_reset_devices(Machine *m)
{
    for (Device *d = m->devices; d; d = d->next)
        if (d->ops->reset)
            d->ops->reset(d->opaque);
}

void machine_request_stop(Machine *m)
{
    if (m->io_lock_on) {
        /* vCPU threads: the main loop acts on the new run state; it
         * stops the vCPUs itself when the state asks for it. */
        machine_wake(m);
        return;
    }
    m->stop_requested = true;
    irq_pulse(&m->kick);
}

void machine_cpu_kick(Machine *m, int index)
{
    if (index >= 0 && index < MACHINE_MAX_CPUS)
        irq_pulse(&m->cpu_kick[index]);
}

void machine_wake(Machine *m)
{
    uint64_t one = 1;
    if (m->wake_fd >= 0 && write(m->wake_fd, &one, sizeof one) < 0 && errno != EAGAIN)
        perror("vx86: main loop wake-up");
}

/* ---- the I/O lock ---- */

void machine_io_lock(Machine *m)
{
    if (!m->io_lock_on)
        return;
    pthread_t self = pthread_self();
    /* Only this thread can have made itself the owner, so a racy read
     * that says "me" is the truth. */
    if (__atomic_load_n(&m->io_lock_depth, __ATOMIC_RELAXED) > 0 &&
        pthread_equal(__atomic_load_n(&m->io_lock_owner, __ATOMIC_RELAXED), self)) {
        m->io_lock_depth++;
        return;
    }
    pthread_mutex_lock(&m->io_lock);
    __atomic_store_n(&m->io_lock_owner, self, __ATOMIC_RELAXED);
    __atomic_store_n(&m->io_lock_depth, 1, __ATOMIC_RELAXED);
}

void machine_io_unlock(Machine *m)
{
    if (!m->io_lock_on)
        return;
    if (m->io_lock_depth > 1) {
        m->io_lock_depth--;
        return;
    }
    __atomic_store_n(&m->io_lock_depth, 0, __ATOMIC_RELAXED);
    pthread_mutex_unlock(&m->io_lock);
}

bool machine_io_locked_by_me(Machine *m)
{
    return !m->io_lock_on ||
           (__atomic_load_n(&m->io_lock_depth, __ATOMIC_RELAXED) > 0 &&
            pthread_equal(__atomic_load_n(&m->io_lock_owner, __ATOMIC_RELAXED), pthread_self()));
}

void machine_io_cond_wait(Machine *m, pthread_cond_t *cond)
{
    int depth = m->io_lock_depth;
    __atomic_store_n(&m->io_lock_depth, 0, __ATOMIC_RELAXED);
    pthread_cond_wait(cond, &m->io_lock);
    __atomic_store_n(&m->io_lock_owner, pthread_self(), __ATOMIC_RELAXED);
    __atomic_store_n(&m->io_lock_depth, depth, __ATOMIC_RELAXED);
}

int machine_io_release(Machine *m)
{
    if (!m->io_lock_on || !machine_io_locked_by_me(m))
        return 0;
    int depth = m->io_lock_depth;
    __atomic_store_n(&m->io_lock_depth, 0, __ATOMIC_RELAXED);
    pthread_mutex_unlock(&m->io_lock);
    return depth;
}

void machine_io_reacquire(Machine *m, int depth)
{
    if (!depth)
        return;
    machine_io_lock(m);
    m->io_lock_depth = depth;
}

/* Which CPU this thread runs: thread context, like the signal-safe run
 * area pointer of the KVM accelerator, not machine state. */
static __thread int current_cpu;

int machine_current_cpu(void)
{
    return current_cpu;
}

void machine_set_current_cpu(int index)
{
    current_cpu = index;
}

void machine_vcpus_stop(Machine *m)
{
    if (m->vcpus_stop)
        m->vcpus_stop(m->vcpus_opaque);
}

void machine_vcpus_start(Machine *m)
{
    if (m->vcpus_start)
        m->vcpus_start(m->vcpus_opaque);
}

void machine_set_kick(Machine *m, IRQHandler kick, void *opaque)
{
    pthread_mutex_lock(&m->kick_lock);
    irq_connect(&m->kick, kick, opaque, 0);
    pthread_mutex_unlock(&m->kick_lock);
}

void machine_notify(Machine *m)
{
    if (m->io_lock_on) {
        machine_wake(m);      /* the main loop polls on its own thread */
        return;
    }
    /* The CPU loops read stop_requested between blocks (KVM: between
     * exits); the kick ends the current chain of blocks. */
    __atomic_store_n(&m->stop_requested, true, __ATOMIC_SEQ_CST);
    pthread_mutex_lock(&m->kick_lock);
    irq_pulse(&m->kick);
    pthread_mutex_unlock(&m->kick_lock);
}

void machine_emit(Machine *m, MachineEvent ev, bool guest, const char *reason)
{
    if (m->event_fn)
        m->event_fn(m->event_opaque, ev, guest, reason);
}

bool machine_pause(Machine *m)
{
    if (m->state != RUN_RUNNING)
        return false;
    m->state = RUN_PAUSED;
    /* vCPU threads park before the clock stops (none sees time stand
     * still while it runs); the PAUSED state keeps them parked. */
    machine_vcpus_stop(m);
    clock_stop(m->clock);
    machine_vcpus_start(m);
    /* Callers run on the main loop between accelerator runs: the loop
     * sees the new state before running the CPU again. */
    machine_emit(m, MACHINE_EV_STOP, false, NULL);
    return true;
}

bool machine_resume(Machine *m)
{
    if (m->state != RUN_PAUSED)
        return false;
    m->state = RUN_RUNNING;
    clock_start(m->clock);
    /* A stop and start round wakes the parked vCPU threads. */
    machine_vcpus_stop(m);
    machine_vcpus_start(m);
    machine_emit(m, MACHINE_EV_RESUME, false, NULL);
    return true;
}

void machine_host_reset(Machine *m)
{
    /* Under record/replay a reset from the host is an input like others. */
    if (m->rr && replay_host_reset(m->rr))
        return;
    machine_host_reset_now(m);
}

void machine_host_reset_now(Machine *m)
{
    if (m->state == RUN_RUNNING) {
        m->state = RUN_RESET;
        m->reset_by_host = true;
        m->reset_reason = "host-qmp-system-reset";
        machine_request_stop(m);
    } else if (m->state == RUN_PAUSED) {
        /* The main loop resets when it runs again: remember it. */
        m->reset_pending = true;
        m->reset_by_host = true;
        m->reset_reason = "host-qmp-system-reset";
    }
}

void machine_quit(Machine *m)
{
    m->quit_requested = true;
    machine_request_shutdown(m, 0);
}

void machine_request_shutdown(Machine *m, int exit_code)
{
    if (m->state != RUN_SHUTDOWN)
        machine_emit(m, MACHINE_EV_SHUTDOWN, !m->quit_requested,
                     m->quit_requested ? "host-qmp-quit" : "guest-shutdown");
    m->state = RUN_SHUTDOWN;
    m->exit_code = exit_code;
    machine_request_stop(m);
}

void machine_request_poweroff(Machine *m)
{
    if (m->opts && m->opts->no_shutdown) {
        if (m->state != RUN_POWERED_OFF)
            fprintf(stderr, "vx86: the guest powered off; -no-shutdown keeps vx86 "
                    "running (Ctrl-A x quits)\n");
        if (m->state != RUN_POWERED_OFF)
            machine_emit(m, MACHINE_EV_SHUTDOWN, true, "guest-shutdown");
        m->state = RUN_POWERED_OFF;
        machine_request_stop(m);
        return;
    }
    machine_request_shutdown(m, 0);
}

/* The -no-reboot policy: a reset, or an exit with no_reboot_status. */
static void machine_reset_or_exit(Machine *m, int no_reboot_status)
{
    if (m->state == RUN_RUNNING) {
        if (m->opts && m->opts->no_reboot) {
            machine_emit(m, MACHINE_EV_SHUTDOWN, true, "guest-reset");
            m->state = RUN_SHUTDOWN;
            m->exit_code = no_reboot_status;
        } else {
            m->state = RUN_RESET;
            m->reset_by_host = false;
            m->reset_reason = "guest-reset";
        }
    }
    machine_request_stop(m);
}

void machine_request_reset(Machine *m)
{
    machine_reset_or_exit(m, 0);
}

void machine_triple_fault(Machine *m)
{
    machine_reset_or_exit(m, EXIT_EMULATION_ERROR);
}

static size_t dirty_words(const Machine *m)
{
    return (size_t)((m->ram_size / 4096 + 63) / 64);
}

/* The log changes with every vCPU stopped: each CPU re-arms its TLB's
 * write entries (dirty_gen) before it writes again, so no write after a
 * sync goes unlogged. */
void machine_dirty_log_start(Machine *m)
{
    machine_vcpus_stop(m);
    if (!m->dirty_log)
        m->dirty_log = xcalloc(dirty_words(m), sizeof(uint64_t));
    memmap_set_dirty_log(m->mem, m->dirty_log, m->ram, m->ram_size);
    m->dirty_gen++;
    machine_vcpus_start(m);
}

void machine_dirty_log_sync(Machine *m, uint64_t *out)
{
    machine_vcpus_stop(m);
    for (size_t i = 0; i < dirty_words(m); i++)
        out[i] |= __atomic_exchange_n(&m->dirty_log[i], 0, __ATOMIC_RELAXED);
    m->dirty_gen++;
    machine_vcpus_start(m);
}

void machine_region_log_sync(Machine *m, uint64_t *log, size_t words, uint64_t *out)
{
    /* A CPU's TLB entry skips the log only for a page whose bit it set
     * since the last re-arm: with every bit clear no entry can, and the
     * vCPUs need not stop (a frame of an idle screen costs a scan). */
    bool any = false;
    for (size_t i = 0; i < words && !any; i++)
        any = __atomic_load_n(&log[i], __ATOMIC_RELAXED) != 0;
    if (!any)
        return;
    machine_vcpus_stop(m);
    for (size_t i = 0; i < words; i++)
        out[i] |= __atomic_exchange_n(&log[i], 0, __ATOMIC_RELAXED);
    m->dirty_gen++;
    machine_vcpus_start(m);
}

void machine_dirty_log_stop(Machine *m)
{
    machine_vcpus_stop(m);
    memmap_set_dirty_log(m->mem, NULL, NULL, 0);
    free(m->dirty_log);
    m->dirty_log = NULL;
    m->dirty_gen++;
    machine_vcpus_start(m);
}

/* The virtual clock leads the stream: devices save absolute deadlines. */
typedef struct ClockState {
    int64_t now;
} ClockState;
static const VMField clock_fields[] = { VMF_I64(now, ClockState), VMF_END };
static const VMStateDesc clock_vmsd = {
    .name = "vclock", .version = 1, .min_version = 1, .fields = clock_fields,
};

void machine_save_devices(Machine *m, VMBuf *b)
{
    /* A consistent snapshot: no vCPU thread runs while it is taken. */
    machine_vcpus_stop(m);
    vmstream_begin(b);
    ClockState cs = { clock_now(m->clock) };
    vmstate_save(b, &clock_vmsd, &cs);
    for (Device *d = m->devices; d; d = d->next)
        if (d->ops->vmsd)
            vmstate_save(b, d->ops->vmsd, d->opaque);
    vmstream_end(b);
    machine_vcpus_start(m);
}

static int load_all(Machine *m, const uint8_t *data, size_t end, size_t pos,
                    bool apply, char **err)
{
    ClockState cs;
    if (vmstate_load(data, end, &pos, &clock_vmsd, apply ? &cs : NULL, err) < 0)
        return -1;
    if (apply)
        clock_set(m->clock, cs.now);
    for (Device *d = m->devices; d; d = d->next) {
        if (!d->ops->vmsd)
            continue;
        if (vmstate_load(data, end, &pos, d->ops->vmsd, apply ? d->opaque : NULL, err) < 0)
            return -1;
    }
    if (pos != end) {
        set_error(err, "state stream: %zu unexpected bytes after the last device", end - pos);
        return -1;
    }
    return 0;
}

int machine_check_devices(Machine *m, const uint8_t *data, size_t len, char **err)
{
    size_t pos, end;
    if (vmstream_check(data, len, &pos, &end, err) < 0)
        return -1;
    return load_all(m, data, end, pos, false, err);
}

int machine_load_devices(Machine *m, const uint8_t *data, size_t len, char **err)
{
    size_t pos, end;
    if (vmstream_check(data, len, &pos, &end, err) < 0)
        return -1;
    /* Check the structure first so a bad stream changes nothing... */
    if (load_all(m, data, end, pos, false, err) < 0)
        return -1;
    machine_vcpus_stop(m);
    /* ...and keep the current state, so a value a device's post_load
     * refuses midway rolls every device back. */
    VMBuf backup;
    vmbuf_init(&backup);
    machine_save_devices(m, &backup);
    int rc = load_all(m, data, end, pos, true, err);
    if (rc < 0) {
        size_t bpos, bend;
        char *ignored = NULL;
        if (vmstream_check(backup.data, backup.len, &bpos, &bend, &ignored) == 0)
            load_all(m, backup.data, bend, bpos, true, &ignored);
        free(ignored);
    }
    vmbuf_free(&backup);
    machine_vcpus_start(m);
    return rc;
}
