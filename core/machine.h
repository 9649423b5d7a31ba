/*
 * A machine: guest RAM, the physical memory map, the IO-port space, the
 * virtual clock, the devices and the CPUs.  Nothing here is global: two
 * machines can live in one process (the unit tests do that).
 */
#ifndef VX86_CORE_MACHINE_H
#define VX86_CORE_MACHINE_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#include "core/clock.h"
#include "core/device.h"
#include "core/irq.h"
#include "core/memory.h"
#include "core/options.h"

typedef struct CPUState CPUState;
typedef struct Accel Accel;

/* -smp's limit: APIC IDs are the CPU indices, below the xAPIC broadcast
 * ID and the IOAPIC's ID. */
#define MACHINE_MAX_CPUS 64

/* Exit status when the emulator, not the guest, stopped the run (KVM
 * emulation failure, translator error, triple fault with -no-reboot):
 * distinct from 1, which is also isa-debug-exit's value for a write of 0. */
#define EXIT_EMULATION_ERROR 2

typedef enum RunState {
    RUN_RUNNING,
    RUN_PAUSED,
    RUN_SHUTDOWN,     /* guest powered off: exit status exit_code */
    RUN_RESET,        /* reset requested */
    RUN_ERROR,        /* emulation error: exit non-zero */
    RUN_POWERED_OFF,  /* guest powered off under -no-shutdown: wait for quit */
} RunState;

/* What the machine tells its controllers (QMP events; core/qmp.c). */
typedef enum MachineEvent {
    MACHINE_EV_STOP,        /* running -> paused */
    MACHINE_EV_RESUME,      /* paused -> running */
    MACHINE_EV_RESET,       /* a reset is carried out */
    MACHINE_EV_SHUTDOWN,    /* the machine is ending (or powered off under -no-shutdown) */
    MACHINE_EV_POWERDOWN,   /* the ACPI power button was pressed for the guest */
    MACHINE_EV_BALLOON_CHANGE,  /* the guest's balloon size changed (MonitorHooks.balloon_info) */
    MACHINE_EV_TRAY_MOVED,  /* a CD-ROM tray moved; reason: the drive's name
                               (MonitorHooks.drive_info has its state) */
    MACHINE_EV_BLOCK_IO_ERROR,  /* a guest disk request failed; reason: the drive's
                                   name (MonitorHooks.drive_info: io_error) */
} MachineEvent;
/* guest: the guest asked (not the host's user or a management tool);
 * reason: QEMU's ShutdownCause spelling ("guest-shutdown", "host-qmp-quit",
 * "guest-reset", "host-qmp-system-reset", ...), NULL for STOP/RESUME. */
typedef void (*MachineEventFn)(void *opaque, MachineEvent ev, bool guest, const char *reason);

typedef void (*FdHandler)(void *opaque);
/* The fd to poll right now, or -1 when the source wants no input yet. */
typedef int (*FdGetter)(void *opaque);
typedef struct FdWatch {
    FdGetter get_fd;
    FdHandler on_readable;
    void *opaque;
} FdWatch;

/*
 * Poll hooks: for sources with many fds or write interest (the network
 * backends: libslirp's sockets, a stream socket with output queued).
 * Before each poll, fill adds pollfds with pollset_add (keeping the
 * indices) and may lower *timeout_ms; after it, dispatch reads
 * pollset_revents for those indices (all 0 when poll failed or timed out)
 * and does the work.  Both run on the main-loop thread.
 */
typedef struct PollSet {
    struct pollfd *fds;
    int n, cap;
} PollSet;
typedef void (*PollFillFn)(void *opaque, PollSet *ps, int *timeout_ms);
typedef void (*PollDispatchFn)(void *opaque, PollSet *ps);
typedef struct PollHook {
    PollFillFn fill;
    PollDispatchFn dispatch;
    void *opaque;
} PollHook;
/* Index of the new entry (for pollset_revents). */
int pollset_add(PollSet *ps, int fd, short events);
short pollset_revents(const PollSet *ps, int idx);

/* Events a CPU takes from its local APIC besides INTR (take_events). */
enum { CPU_EVENT_NMI = 1u << 0, CPU_EVENT_INIT = 1u << 1, CPU_EVENT_SIPI = 1u << 2,
       /* not an event but a state: the CPU waits for a start-up IPI
        * (an application processor after RESET or INIT): it runs nothing */
       CPU_EVENT_WAIT_SIPI = 1u << 3 };

/*
 * What a CPU asks the board: the INTR pin's level and INTA cycle (the
 * interrupt controllers answer), the MSRs that live on the board (the
 * local APIC's: APIC_BASE, TSC_DEADLINE, x2APIC) and the APIC's NMI,
 * INIT and SIPI messages.  The board fills in Machine.cpu_ops and one
 * opaque per CPU (Machine.cpu_opaque[i]); the accelerators hand both to
 * CPU i.  Every hook may be called from the CPU's own thread: the board
 * takes the machine's I/O lock inside (machine_io_lock).
 */
typedef struct CPUBoardOps {
    bool (*intr_pending)(void *opaque);   /* INTR asserted */
    int (*intr_ack)(void *opaque);        /* INTA: returns the vector */
    /* 1 = handled, 0 = not the board's MSR, -1 = #GP.  NULL when the board
     * has no MSRs (then there is no local APIC). */
    int (*msr)(void *opaque, uint32_t msr, bool write, uint64_t *val);
    /* NMI, INIT and start-up IPIs for this CPU (CPU_EVENT_* bits), taken
     * (cleared) by the call; *sipi_vector is the start-up vector.  Taking
     * an INIT resets the local APIC (SDM 3A 10.4.7.3).  NULL: none. */
    unsigned (*take_events)(void *opaque, int *sipi_vector);
} CPUBoardOps;

typedef struct Machine {
    const VMOptions *opts;
    uint64_t ram_size;
    uint8_t *ram;                 /* lazily mapped host memory, ram_size bytes */
    MemMap *mem;
    IOSpace *io;
    VClock *clock;
    Device *devices;
    CPUState *cpus[MACHINE_MAX_CPUS];
    /* How many CPUs the machine has: the board sets it (-smp), an
     * accelerator creates that many (cpu_create raises it for tests
     * that make CPUs by hand). */
    int ncpus;
    /* The translator's machine-wide state (cpu/smp.h: the record of pages
     * holding translated code, the split-atomic lock); owned by cpu/. */
    struct CPUShared *cpu_shared;
    Accel *accel;
    void *board;                  /* the board's (hw/pc.c) own state */

    /* The CPU socket: every wire between the board and the CPUs.
     *
     * CPU -> board: cpu_ops (with cpu_opaque[i] for CPU i), set by the
     * board; both accelerators ask the interrupt controllers and board
     * MSRs through it.
     *
     * board -> CPU: lines the accelerator connects to its CPUs with
     * irq_connect() (unconnected, they only keep their level):
     *   a20   level, driven by the board: 1 = address line 20 passes
     *         (every CPU's).
     *   kick  pulsed by machine_request_stop(): the running CPUs leave
     *         translated code at their next block entry, so a stop
     *         request takes effect without waiting for a chain of blocks.
     *   cpu_kick[i]  pulsed by machine_cpu_kick(m, i): CPU i's interrupt
     *         pins changed (INTR raised, an NMI, INIT or SIPI came): it
     *         looks at them soon, waking from HLT. */
    const CPUBoardOps *cpu_ops;
    void *cpu_opaque[MACHINE_MAX_CPUS];
    IRQLine a20;
    IRQLine kick;
    IRQLine cpu_kick[MACHINE_MAX_CPUS];
    /* Held while kick is pulsed from another thread (machine_notify) and
     * while it is connected (machine_set_kick), so a worker never kicks a
     * CPU being freed. */
    pthread_mutex_t kick_lock;

    /* Controllers listening for events (QMP servers). */
    MachineEventFn event_fn;
    void *event_opaque;
    bool start_paused;            /* -S, -incoming: machine_run starts paused */
    const char *reset_reason;     /* the pending RUN_RESET's cause */
    bool reset_by_host;
    bool reset_pending;           /* system_reset while paused */
    bool quit_requested;          /* SHUTDOWN reason host-qmp-quit */

    /* Dirty log of RAM pages (live migration): one bit per 4 KiB page,
     * set by CPU writes (the translator's soft TLB) and by writes through
     * the memory map (DMA).  dirty_gen changes whenever the log is
     * started or synced: the CPU then re-arms its TLB write entries. */
    uint64_t *dirty_log;
    uint64_t dirty_gen;
    /* Called on each main-loop iteration (a migration sending RAM). */
    void (*tick_fn)(void *opaque);
    void *tick_opaque;

    FdWatch fds[32];              /* input sources the main loop polls */
    int nfds;
    PollHook poll_hooks[8];       /* network backends (see PollHook) */
    int npoll_hooks;
    PollSet pollset;              /* the pollfds of one poll_inputs round */
    /* The display's refresh while the machine stands still (paused, or
     * powered off under -no-shutdown: no timers run), so its window still
     * answers. */
    void (*stopped_refresh)(void *opaque);
    void *stopped_refresh_opaque;

    /* A debugger (core/gdbstub.c): debug_stop runs when the accelerator
     * returned ACCEL_EXIT_DEBUG (it pauses the machine and tells the
     * client).  start_paused (above): machine_run starts in RUN_PAUSED. */
    void (*debug_stop)(void *opaque);
    void *debug_opaque;

    RunState state;
    int exit_code;
    bool stop_requested;          /* makes the CPU loop return soon */

    /* ---- vCPU threads (docs/architecture.md, "Threads and locking") ----
     * With an accelerator that gives each CPU a host thread (accel/vcpus.c)
     * the main loop keeps timers, input and commands, and the machine-wide
     * I/O lock serialises everything that touches device state.  Without
     * one (io_lock_on false) the lock and the stop/start hooks do nothing:
     * one thread runs everything. */
    bool io_lock_on;
    pthread_mutex_t io_lock;
    pthread_t io_lock_owner;      /* valid while io_lock_depth > 0 */
    int io_lock_depth;            /* nested takes by the owner */
    pthread_t main_thread;        /* the thread that runs machine_run */
    int wake_fd;                  /* eventfd: wakes the main loop's poll */
    /* Set by the accelerator: stop every vCPU at a safe point and wait /
     * let them run again (nested stops count). */
    void (*vcpus_stop)(void *opaque);
    void (*vcpus_start)(void *opaque);
    void *vcpus_opaque;
    /* A vCPU thread's report for the main loop (machine_vcpu_report):
     * a debugger stop to hand to debug_stop. */
    bool debug_stop_pending;

    /* -icount (machine_set_icount): the clock is the CPU's instruction
     * count (CLOCK_ICOUNT); the CPU also stops when its count reaches
     * icount_stop_at (a replay's next event, a reverse-debugging target).
     * Block completions are then synchronous and run from the main loop
     * as deferred work, at a point the count alone determines. */
    bool icount;
    bool icount_sleep;            /* a halted guest waits in real time (sleep=on) */
    uint64_t icount_stop_at;
    int64_t idle_host_start;      /* a halted guest's wait: host ns when it began */
    int64_t idle_vtime;           /* ... and the virtual time it began at */
    /* shift=auto: the shift follows host speed (virtual time kept near
     * real time); host and virtual ns at the start and the last look. */
    bool icount_auto;
    int64_t auto_host0, auto_vtime0, auto_host_last;
    struct Replay *rr;            /* -icount rr=record|replay (core/replay.h), or NULL */
    /* The accelerator's CPU for record/replay (opaque: icount_cpu): the
     * fingerprint of the replay log's checkpoints (a hash of the
     * registers, and rip), and setting the instruction count (restoring a
     * snapshot of a replay for reverse execution). */
    uint64_t (*cpu_fingerprint)(void *opaque, uint64_t *rip);
    void (*cpu_set_icount)(void *opaque, uint64_t count);
    void *icount_cpu;
    struct { void (*fn)(void *opaque); void *opaque; } deferred[32];
    int ndeferred;
} Machine;

/* Maps RAM (lazily) and builds empty memory/IO spaces.  Returns NULL with
 * err set when RAM cannot be mapped. */
Machine *machine_new(uint64_t ram_size, ClockMode clock_mode, char *err, size_t errlen);
void machine_free(Machine *m);

/* Device list: ids are unique ("uart", "uart.1", ...). */
Device *machine_add_device(Machine *m, const DeviceOps *ops, void *opaque);
/* Unlists d (its free hook is not called: the caller owns the opaque). */
void machine_remove_device(Machine *m, Device *d);
Device *machine_find_device(Machine *m, const char *id);
void machine_reset_devices(Machine *m);

/* Input sources (terminal, sockets, block completions): on_readable runs
 * from the main loop.  false when the table is full. */
bool machine_watch_fd(Machine *m, FdGetter get_fd, FdHandler on_readable, void *opaque);
/* Stops watching every source registered with opaque. */
void machine_unwatch_fd(Machine *m, void *opaque);
/* Adds a poll hook; false when the table is full. */
bool machine_add_poll_hook(Machine *m, PollFillFn fill, PollDispatchFn dispatch, void *opaque);
/* Removes every hook registered with opaque. */
void machine_remove_poll_hook(Machine *m, void *opaque);
/* One round of the main loop's input polling (tests drive network
 * backends with it): waits up to timeout_ms, dispatches what is ready. */
void machine_poll(Machine *m, int timeout_ms);
/* Thread-safe, for worker threads that just made a watched fd readable:
 * makes the main loop poll its inputs soon (the running CPU leaves
 * translated code and returns to the loop at its next block boundary). */
void machine_notify(Machine *m);
/* Connects (or disconnects, kick NULL) the accelerator to the kick line
 * under kick_lock. */
void machine_set_kick(Machine *m, IRQHandler kick, void *opaque);
/* The board: CPU index's interrupt pins changed (see cpu_kick). */
void machine_cpu_kick(Machine *m, int index);

/* ---- threads ----
 * The machine's I/O lock (QEMU's BQL): held by the main loop while it runs
 * timers, input handlers and commands, taken by a vCPU thread around every
 * dispatch to a device (core/memory.c does it for ports and MMIO, the
 * board for its CPU hooks).  Nested takes by the holder are allowed.  A
 * no-op while io_lock_on is false (one thread). */
void machine_io_lock(Machine *m);
void machine_io_unlock(Machine *m);
bool machine_io_locked_by_me(Machine *m);
/* pthread_cond_wait on the I/O lock (held once or nested: fully released
 * while waiting, retaken as it was). */
void machine_io_cond_wait(Machine *m, pthread_cond_t *cond);
/* Lets go of the I/O lock if this thread holds it (returns how deeply, 0
 * when it did not), and takes it back as deeply. */
int machine_io_release(Machine *m);
void machine_io_reacquire(Machine *m, int depth);
/* The CPU the calling thread runs (its vCPU thread, or the one the main
 * loop's round-robin runs now; 0 elsewhere): the local APIC page and
 * other per-CPU windows answer for it. */
int machine_current_cpu(void);
void machine_set_current_cpu(int index);
/* Stops every vCPU thread at a safe point and waits (commands that read
 * CPU state, snapshots, migration, the debugger); start undoes one stop.
 * Nothing to do without vCPU threads. */
void machine_vcpus_stop(Machine *m);
void machine_vcpus_start(Machine *m);
/* From any thread: the main loop looks at the run state soon (a vCPU
 * thread changed it, a worker completed I/O). */
void machine_wake(Machine *m);

/* -icount shift=N: before any device or CPU is created. */
void machine_set_icount(Machine *m, int shift, bool sleep);
/* Work to run on the main loop once the CPU is out of cpu_exec (each
 * opaque at most once until it ran); false when the list is full. */
bool machine_defer(Machine *m, void (*fn)(void *opaque), void *opaque);
void machine_run_deferred(Machine *m);

/* Runs the machine with an initialised accelerator until the guest powers
 * off or an error; returns the process exit status. */
struct AccelOps;
int machine_run(Machine *m, const struct AccelOps *ops, void *acc);


/* Requests from devices and the monitor; the main loop acts on them. */
void machine_request_shutdown(Machine *m, int exit_code);
/* The guest powered itself off (ACPI S5): exit status 0, or with
 * -no-shutdown the machine stops (RUN_POWERED_OFF) and vx86 keeps running
 * until told to quit (Ctrl-A x), as QEMU does. */
void machine_request_poweroff(Machine *m);
void machine_request_stop(Machine *m);
/* RUN_RUNNING <-> RUN_PAUSED (stop/cont, the debugger, -S): a paused
 * machine runs no CPU and no timer (the virtual clock stops); input is
 * still polled.  STOP and RESUME events go to the controllers (QMP).
 * false (nothing done) when the machine was not in the state to leave. */
bool machine_pause(Machine *m);
bool machine_resume(Machine *m);
/* The host asks for a reset (system_reset): a RESET event, paused
 * machines stay paused (the reset is carried out at once then). */
void machine_host_reset(Machine *m);
/* The same, bypassing record/replay (which calls it at the right count). */
void machine_host_reset_now(Machine *m);
/* quit: ends the machine with status 0 (SHUTDOWN, reason host-qmp-quit). */
void machine_quit(Machine *m);
void machine_emit(Machine *m, MachineEvent ev, bool guest, const char *reason);
/* A reset, and what -no-reboot makes of it, decided here and nowhere
 * else: the guest asked for one (port 0xcf9, the keyboard controller's
 * reset line, ...): with -no-reboot vx86 exits with status 0. */
void machine_request_reset(Machine *m);
/* The CPU shut down (triple fault), as the accelerator reports it after
 * printing where: a reset, or with -no-reboot an exit with
 * EXIT_EMULATION_ERROR. */
void machine_triple_fault(Machine *m);

/* Dirty log (see Machine.dirty_log): start (all clean), copy the bits set
 * since the last sync into out (npages bits, or'ed in) and clear them,
 * stop.  A RAM page is dirty when written; a CPU write is seen through the
 * translator's TLB, so KVM runs are not tracked (migration stops them). */
void machine_dirty_log_start(Machine *m);
void machine_dirty_log_sync(Machine *m, uint64_t *out);
void machine_dirty_log_stop(Machine *m);
/* A logged RAM region's log (memmap_add_ram_logged: the VGA's video
 * memory): or the bits set since the last call into out (words uint64_t)
 * and clear them.  When any was set, the vCPUs are stopped around it and
 * re-arm their TLB write entries (dirty_gen), so a CPU write after the
 * call is logged again; the machine's own log (migration) is untouched. */
void machine_region_log_sync(Machine *m, uint64_t *log, size_t words, uint64_t *out);
static inline void machine_mark_dirty(Machine *m, uint64_t ram_off)
{
    if (m->dirty_log && ram_off < m->ram_size)
        __atomic_or_fetch(&m->dirty_log[(ram_off >> 12) / 64], 1ULL << ((ram_off >> 12) % 64),
                          __ATOMIC_RELAXED);
}
static inline bool machine_page_dirty(const Machine *m, uint64_t ram_off)
{
    return !m->dirty_log || ram_off >= m->ram_size ||
           (m->dirty_log[(ram_off >> 12) / 64] >> ((ram_off >> 12) % 64) & 1);
}

/* Saves every device's state into one stream; loads it back.  Load checks
 * the whole stream before changing any device. */
void machine_save_devices(Machine *m, VMBuf *b);
int machine_load_devices(Machine *m, const uint8_t *data, size_t len, char **err);
/* The checks of machine_load_devices alone: nothing changes. */
int machine_check_devices(Machine *m, const uint8_t *data, size_t len, char **err);

#endif
