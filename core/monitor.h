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

#include "core/machine.h"
#include "host/chardev.h"
#include "ui/console.h"

typedef struct MonitorHooks {
    Console *console;                       /* NULL: no display (screendump fails) */
    /* A key (scan code set 2 make code, 0xE0nn for extended keys) went
     * down or up; NULL: no keyboard. */
    void (*send_key)(void *opaque, int keycode, bool down);
    void *opaque;
} MonitorHooks;

typedef struct Monitor Monitor;

Monitor *monitor_new(Machine *m, CharDev *chr, const MonitorHooks *hooks);
void monitor_free(Monitor *mon);
/* Runs one command line; its output goes to the monitor's backend. */
void monitor_command(Monitor *mon, const char *line);

/* QEMU's key name (sendkey) -> set 2 keycode, or -1. */
int monitor_key_code(const char *name);

#endif
