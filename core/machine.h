/*
 * A machine: guest RAM, the physical memory map, the IO-port space, the
 * virtual clock, the devices and the CPUs.  Nothing here is global: two
 * machines can live in one process (the unit tests do that).
 */
#ifndef VX86_CORE_MACHINE_H
#define VX86_CORE_MACHINE_H

#include <stdbool.h>
#include <stdint.h>

#include "core/clock.h"
#include "core/device.h"
#include "core/irq.h"
#include "core/memory.h"
#include "core/options.h"

typedef struct CPUState CPUState;
typedef struct Accel Accel;

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
} RunState;

typedef void (*FdHandler)(void *opaque);
/* The fd to poll right now, or -1 when the source wants no input yet. */
typedef int (*FdGetter)(void *opaque);
typedef struct FdWatch {
    FdGetter get_fd;
    FdHandler on_readable;
    void *opaque;
} FdWatch;

typedef struct Machine {
    const VMOptions *opts;
    uint64_t ram_size;
    uint8_t *ram;                 /* lazily mapped host memory, ram_size bytes */
    MemMap *mem;
    IOSpace *io;
    VClock *clock;
    Device *devices;
    CPUState *cpus[64];
    int ncpus;
    Accel *accel;
    void *board;                  /* the board's (hw/pc.c) own state */

    /* The CPU's INTR pin, wired by the board to the interrupt controllers
     * (PIC / LAPIC): both accelerators ask through these. */
    bool (*intr_pending)(void *opaque);
    int (*intr_ack)(void *opaque);      /* INTA: returns the vector */
    void *intr_opaque;
    /* MSRs the board implements (the local APIC's: APIC_BASE, TSC_DEADLINE,
     * x2APIC), called with intr_opaque: 1 = handled, 0 = not the board's,
     * -1 = #GP.  NULL when the board has no such MSRs. */
    int (*board_msr)(void *opaque, uint32_t msr, bool write, uint64_t *val);

    /* Makes a running CPU leave translated code at its next block entry
     * (set by the TCG accelerator): a stop request, e.g. the interrupt
     * controller raising INTR during an I/O access, then takes effect
     * without waiting for the chain of blocks to run its budget out. */
    void (*kick)(void *opaque);
    void *kick_opaque;

    /* The A20 gate, as the accelerator applies it (the board calls it). */
    void (*set_a20)(void *opaque, bool on);
    void *a20_opaque;

    FdWatch fds[8];               /* input sources the main loop polls */
    int nfds;

    RunState state;
    int exit_code;
    bool stop_requested;          /* makes the CPU loop return soon */
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

/* Input sources (terminal, sockets): on_readable runs from the main loop. */
bool machine_watch_fd(Machine *m, FdGetter get_fd, FdHandler on_readable, void *opaque);

/* Runs the machine with an initialised accelerator until the guest powers
 * off or an error; returns the process exit status. */
struct AccelOps;
int machine_run(Machine *m, const struct AccelOps *ops, void *acc);

/* Requests from devices and the monitor; the main loop acts on them. */
void machine_request_shutdown(Machine *m, int exit_code);
void machine_request_stop(Machine *m);
/* A reset, and what -no-reboot makes of it, decided here and nowhere
 * else: the guest asked for one (port 0xcf9, the keyboard controller's
 * reset line, ...): with -no-reboot vx86 exits with status 0. */
void machine_request_reset(Machine *m);
/* The CPU shut down (triple fault), as the accelerator reports it after
 * printing where: a reset, or with -no-reboot an exit with
 * EXIT_EMULATION_ERROR. */
void machine_triple_fault(Machine *m);

/* Saves every device's state into one stream; loads it back.  Load checks
 * the whole stream before changing any device. */
void machine_save_devices(Machine *m, VMBuf *b);
int machine_load_devices(Machine *m, const uint8_t *data, size_t len, char **err);

#endif
