/*
 * The human monitor (a minimal subset of QEMU's HMP): one line per
 * command on a character backend (-monitor stdio | unix:PATH,server,nowait).
 *
 *   MonitorHooks h = { .console = con, .send_key = pc_send_key, .opaque = pc };
 *   Monitor *mon = monitor_new(m, chr, &h);
 *   ...  main loop delivers input through the CharDev ...
 *   monitor_free(mon);
 *
 * Commands live in one declarative table (monitor.c); the full monitor
 * and QMP add rows there.  monitor_command() runs one line (tests).
 */
#ifndef VX86_CORE_MONITOR_H
#define VX86_CORE_MONITOR_H

#include <stdio.h>

#include "core/machine.h"
#include "host/chardev.h"
#include "ui/console.h"

/* One drive as query-block / info block show it. */
typedef struct MonDriveInfo {
    char device[32];          /* QEMU's name: ide0-hd0, ide1-cd0, floppy0 */
    bool cdrom, removable;
    bool inserted;            /* a medium is there: the fields below are set */
    const char *file, *format;
    bool ro;
    bool tray_open, locked;   /* a CD-ROM's tray, and the guest's lock on it */
    int io_error;             /* the last failed guest request: -errno (0: none)... */
    bool io_error_write;      /* ...and whether it was a write */
    uint64_t size;
    struct BlockBackend *bb;  /* the image (snapshots: core/snapshot.c) */
} MonDriveInfo;

/* The balloon as query-balloon / info balloon show it. */
#define MON_BALLOON_STATS 10
typedef struct MonBalloonInfo {
    uint64_t actual;          /* bytes the guest keeps */
    int nstats;               /* statistics the guest sent ("stat-free-memory", ...) */
    struct { const char *name; uint64_t value; } stats[MON_BALLOON_STATS];
    int64_t stats_age_ms;     /* since the guest last sent them; -1 never */
} MonBalloonInfo;

/* The VNC server as query-vnc / info vnc show it (QEMU's VncInfo). */
#define MON_VNC_CLIENTS 32
typedef struct MonVncAddr {
    char host[108];           /* numeric address, or the unix socket's path */
    char service[16];         /* port ("" for unix) */
    const char *family;       /* "ipv4", "ipv6", "unix", "unknown" */
    bool websocket;           /* a client that came over WebSocket */
} MonVncAddr;
typedef struct MonVncInfo {
    MonVncAddr server;        /* the first RFB listener */
    const char *auth;         /* "none" or "vnc" (password=on) */
    int nclients;
    MonVncAddr clients[MON_VNC_CLIENTS];
} MonVncInfo;

struct PCIBus;

/* How a hook that can fail failed (QMP's error class). */
enum { MON_ERR_GENERIC = 1, MON_ERR_NOT_FOUND = 2 };

/* What the monitor and QMP ask the board; any hook may be NULL. */
typedef struct MonitorHooks {
    Console *console;                       /* NULL: no display (screendump fails) */
    /* A key (scan code set 2 make code, 0xE0nn for extended keys) went
     * down or up; NULL: no keyboard. */
    void (*send_key)(void *opaque, int keycode, bool down);
    /* Pointer input (input-send-event): relative motion, and absolute
     * positions 0..0x7fff for an absolute pointer (usb-tablet); NULL: none. */
    void (*send_mouse)(void *opaque, int dx, int dy, int dz, unsigned buttons);
    void (*send_mouse_abs)(void *opaque, int x, int y, int dz, unsigned buttons);
    void (*power_button)(void *opaque);     /* ACPI power button press */
    void (*drain_io)(void *opaque);         /* finish in-flight disk requests */
    /* Migration hands the disks to the other process (blk_set_active):
     * -1 with one line in err when one cannot be taken or given. */
    int (*set_drives_active)(void *opaque, bool active, char *err, size_t errlen);
    struct PCIBus *(*pci_bus)(void *opaque);
    bool (*drive_info)(void *opaque, int i, MonDriveInfo *out);   /* false past the last */
    /* eject / blockdev-change-medium on a CD-ROM by its name or id:
     * 0, or MON_ERR_* with one line in err (QEMU's wording).  The tray
     * moves (DEVICE_TRAY_MOVED) and the guest sees a medium change. */
    int (*eject)(void *opaque, const char *device, bool force, char *err, size_t errlen);
    int (*change_medium)(void *opaque, const char *device, const char *file,
                         const char *format, char *err, size_t errlen);
    /* The balloon: false when the machine has none. */
    bool (*balloon_set)(void *opaque, uint64_t target_bytes);
    bool (*balloon_info)(void *opaque, MonBalloonInfo *out);
    /* set_link: a -netdev's or a NIC's link; false when nothing has that
     * name. */
    bool (*set_link)(void *opaque, const char *name, bool up);
    /* info pic / info lapic: the interrupt controllers' registers in
     * QEMU's layouts (false: no such CPU). */
    void (*dump_pic)(void *opaque, FILE *f);
    void (*dump_irq_counts)(void *opaque, FILE *f);     /* info irq */
    bool (*dump_lapic)(void *opaque, int cpu, FILE *f);
    void *opaque;
} MonitorHooks;

typedef struct Monitor Monitor;
typedef struct VMControl VMControl;

/* A monitor on its own VMControl (tests, simple callers)... */
Monitor *monitor_new(Machine *m, CharDev *chr, const MonitorHooks *hooks);
/* ...or on the process's one, shared with QMP (core/commands.h). */
Monitor *monitor_new_vc(VMControl *vc, CharDev *chr);
void monitor_free(Monitor *mon);
/* Runs one command line; its output goes to the monitor's backend. */
void monitor_command(Monitor *mon, const char *line);

/* QEMU's key name (sendkey) -> set 2 keycode, or -1. */
int monitor_key_code(const char *name);

#endif
