/*
 * Record/replay (-icount shift=N,rr=record|replay,rrfile=F): the log of
 * everything non-deterministic that entered the machine, each input with
 * the instruction count at which it took effect, and the replay that
 * injects them again at those counts (docs/record-replay.md).
 *
 * Under -icount the machine is a function of its instruction count:
 * virtual time is the count (core/clock.h CLOCK_ICOUNT), block requests
 * complete at a point the count decides (block/block.c), interrupts are
 * taken at boundaries the count decides (cpu/exec.c).  What remains comes
 * from the host, and goes through this module:
 *
 *   host source            hook                        event
 *   serial input bytes     chardev_set_input_hook      CHAR
 *   network frames         NetClient.send_hook         NET
 *   a halted CPU's wait    replay_warp (main loop)     WARP
 *   virtio-rng entropy     replay_random               RANDOM
 *   keys, mouse, power     replay_key/_mouse/_power    KEY, MOUSE, POWER
 *   system_reset           replay_host_reset           RESET
 *   the RTC's start        replay_rtc_base             (header)
 *
 * Recording, host inputs wait in a list until the main loop's next event
 * point (replay_event_point, after the CPU returned at an instruction
 * boundary), where they are written to the log with the count and
 * delivered.  Replaying, host inputs are dropped; the CPU stops at the
 * count of the log's next event (Machine.icount_stop_at) and the event
 * point delivers it.  Checkpoints (count, rip, a hash of the registers)
 * every RR_CHECKPOINT_INSNS instructions stop a replay that diverged.
 *
 * The log file is checked whole (trailer, CRC-32, every record parsed)
 * before a replay starts: a truncated or damaged log is refused with one
 * line.  replay_log_parse is that check alone, for the fuzzer.
 *
 *   Replay *rr = replay_new(m, opts, err, sizeof err);  // after machine_set_icount
 *   m->rr = rr;
 *   ... the board attaches its sources; machine_run ...
 *   replay_finish(rr);          // before the accelerator is freed
 */
#ifndef VX86_CORE_REPLAY_H
#define VX86_CORE_REPLAY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/options.h"

typedef struct Machine Machine;
typedef struct CharDev CharDev;
typedef struct NetClient NetClient;
typedef struct Replay Replay;

/* ---- the log format ---- */

typedef enum ReplayEventKind {
    RR_EV_CHAR = 1,        /* id: the chardev, data: bytes queued for the guest */
    RR_EV_NET = 2,         /* id: the backend, data: one frame for its NIC */
    RR_EV_WARP = 3,        /* a: ns the clock jumped while the CPU was halted */
    RR_EV_RANDOM = 4,      /* data: bytes a device took from the host's RNG */
    RR_EV_KEY = 5,         /* id: keycode, a: 1 down / 0 up */
    RR_EV_MOUSE = 6,       /* a, b, c: dx, dy, dz; id: buttons */
    RR_EV_CHECKPOINT = 7,  /* a: rip, id: low 32 bits of the register hash */
    RR_EV_RESET = 8,       /* system_reset from the monitor or QMP */
    RR_EV_POWER = 9,       /* the ACPI power button (system_powerdown) */
    RR_EV_SHIFT = 10,      /* a: the new shift (-icount shift=auto) */
    RR_EV_END = 15,        /* the recording ended at this count */
} ReplayEventKind;

#define RR_MAX_FILES 16
#define RR_MAX_DATA 65536      /* bytes in one event */
#define RR_CHECKPOINT_INSNS (1ULL << 24)

typedef struct ReplayFile {
    uint8_t kind;              /* RR_FILE_* */
    uint32_t index;
    uint64_t size;
    uint32_t crc;              /* CRC-32 of the file (its first 64 MiB when larger) */
} ReplayFile;
enum { RR_FILE_KERNEL = 1, RR_FILE_INITRD, RR_FILE_BIOS, RR_FILE_DRIVE };

typedef struct ReplayHeader {
    uint32_t shift;
    int64_t rtc_base;          /* seconds since 1970 the RTC started at */
    uint64_t cmdline_hash;     /* VMOptions.cmdline_hash */
    char version[64];          /* the vx86 that recorded */
    ReplayFile files[RR_MAX_FILES];
    uint32_t nfiles;
} ReplayHeader;

typedef struct ReplayEvent {
    uint64_t count;            /* instructions completed when it took effect */
    uint8_t kind;
    uint32_t id;
    int64_t a, b, c;
    uint32_t len;
    const uint8_t *data;       /* into the log's bytes */
} ReplayEvent;

typedef struct ReplayLog {
    ReplayHeader h;
    ReplayEvent *ev;           /* the END event last */
    size_t nev;
} ReplayLog;

/* Checks a whole log (header, records, END, trailer, CRC-32) and indexes
 * its events (pointing into data, which must outlive log).  false with
 * one line in err when anything is wrong.  Never reads past len. */
bool replay_log_parse(const uint8_t *data, size_t len, ReplayLog *log, char *err, size_t errlen);
void replay_log_free(ReplayLog *log);

/* ---- recording and replaying a machine ---- */

/* Opens the log of o->rr_file: record writes its header (files checked
 * now: kernel, initrd, firmware, drives); replay reads the whole log,
 * checks it and compares the header with this machine.  NULL with one
 * line in err.  m must be in -icount mode. */
Replay *replay_new(Machine *m, const VMOptions *o, char *err, size_t errlen);
/* Record: the END event with the final count, the trailer, close.
 * Prints a one-line summary (count, events, bytes) on stderr.  Frees r. */
void replay_finish(Replay *r);
RRMode replay_mode(const Replay *r);
/* The RTC's start: record logs host_base, replay returns the logged one. */
int64_t replay_rtc_base(Replay *r, int64_t host_base);

/* Sources the board attaches, numbered in attach order. */
void replay_attach_chardev(Replay *r, CharDev *c);
void replay_attach_netdev(Replay *r, NetClient *backend);
/* A guest output (serial, debug console) muted while a replay re-runs
 * instructions it already ran (reverse execution); attach_chardev does
 * this for its chardev too. */
void replay_attach_output(Replay *r, CharDev *c);
/* Where keys, mouse motion and the power button go (the board). */
typedef struct ReplayInputOps {
    void (*key)(void *opaque, int keycode, bool down);
    void (*mouse)(void *opaque, int dx, int dy, int dz, unsigned buttons);
    void (*power)(void *opaque);
} ReplayInputOps;
void replay_set_input(Replay *r, const ReplayInputOps *ops, void *opaque);
/* Host input from the display or monitor: recorded and delivered at the
 * next event point, or (replay) dropped. */
void replay_key(Replay *r, int keycode, bool down);
void replay_mouse(Replay *r, int dx, int dy, int dz, unsigned buttons);
void replay_power(Replay *r);
/* system_reset from the host: true when the caller must not reset now
 * (it is recorded for the next event point, or dropped in a replay). */
bool replay_host_reset(Replay *r);
/* A device takes len random bytes: from fill (recorded) or the log. */
size_t replay_random(Replay *r, uint8_t *buf, size_t len,
                     size_t (*fill)(uint8_t *buf, size_t len));

/* Main loop, after the CPU returned and the due timers ran: record
 * writes and delivers the inputs that came; replay delivers the log's
 * events at this count, checks checkpoints, and sets where the CPU stops
 * next.  halted: the CPU is halted (a replay that finds nothing to do
 * twice at the same count has diverged).  Stops the machine on a
 * divergence or at the end of the recording. */
void replay_event_point(Replay *r, bool halted);
/* Record: the halted CPU's clock jumped by ns (logged). */
void replay_warp(Replay *r, int64_t ns);
/* Record: shift=auto chose a new shift (logged). */
void replay_shift(Replay *r, int shift);

/* ---- reverse execution (core/replay-reverse.c) ----
 * A replay with a debugger keeps snapshots of the machine (RAM pages
 * shared between snapshots when unchanged, the device stream, the log
 * position, the host-side input queues) every so many instructions (the
 * interval doubles as they thin out); going back is restoring the last
 * snapshot before the target and replaying forward to it with the
 * output muted. */
struct AccelOps;
/* Before machine_run: keep snapshots from the start of the replay. */
void replay_enable_reverse(Replay *r);
/* machine_run calls it before the first instruction (the first snapshot). */
void replay_run_begins(Replay *r);
bool replay_can_reverse(const Replay *r);

typedef enum ReplayStopReason {
    RR_STOP_STEP,          /* one instruction back */
    RR_STOP_BREAK,         /* at the last breakpoint hit before (type: Z type) */
    RR_STOP_WATCH,         /* just before the last access to a watched range (type, addr) */
    RR_STOP_BEGIN,         /* no earlier history: at the start of the replay */
    RR_STOP_ERROR,         /* could not get there (message in why) */
} ReplayStopReason;
typedef struct ReplayStop {
    ReplayStopReason reason;
    int type;
    uint64_t addr;
    char why[160];
} ReplayStop;
/* The debugger's reverse-stepi (step) and reverse-continue: moves the
 * machine back, running the accelerator (ops, acc) from a snapshot; the
 * debugger's breakpoints and watchpoints (in the accelerator) are the
 * stops reverse-continue looks for.  The machine stays paused. */
void replay_reverse(Replay *r, const struct AccelOps *ops, void *acc, bool step,
                    ReplayStop *stop);

#endif
