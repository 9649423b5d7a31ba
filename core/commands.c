/*
 * The command table shared by QMP and the human monitor (see commands.h),
 * and the handlers of the commands that are not about migration
 * (core/migration.c has those).
 */
#include "core/commands.h"

#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/time.h>
#include <unistd.h>

#include "config.h"
#include "accel/accel.h"
#include "core/migration.h"
#include "core/monitor-mmu.h"
#include "core/snapshot.h"
#include "core/util.h"
#include "block/block.h"
#include "hw/pci.h"

/* ---- small helpers ---- */

void text_printf(Text *t, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    if (n < 0)
        return;
    if (t->len + (size_t)n + 1 > t->cap) {
        t->cap = (t->len + (size_t)n + 1) * 2;
        t->data = xrealloc(t->data, t->cap);
    }
    va_start(ap, fmt);
    vsnprintf(t->data + t->len, (size_t)n + 1, fmt, ap);
    va_end(ap);
    t->len += (size_t)n;
}

void text_free(Text *t)
{
    free(t->data);
    memset(t, 0, sizeof(*t));
}

void cmd_error(CmdError *e, const char *cls, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(e->desc, sizeof e->desc, fmt, ap);
    va_end(ap);
    e->cls = cls;
}

/* A human-monitor command that is a QMP command with these arguments:
 * runs it, prints QEMU's "Error: ..." when it fails; frees args. */
void cmd_hmp_call(VMControl *vc, const char *name, JsonValue *args, Text *out)
{
    CmdError e = { 0 };
    JsonValue *r = cmd_qmp_call(vc, name, args, &e);
    if (!r)
        text_printf(out, "Error: %s\n", e.desc);
    json_free(r);
    json_free(args);
}

/* ---- VMControl and events ---- */

static const char *const event_names[] = {
    [MACHINE_EV_STOP] = "STOP", [MACHINE_EV_RESUME] = "RESUME",
    [MACHINE_EV_RESET] = "RESET", [MACHINE_EV_SHUTDOWN] = "SHUTDOWN",
    [MACHINE_EV_POWERDOWN] = "POWERDOWN", [MACHINE_EV_BALLOON_CHANGE] = "BALLOON_CHANGE",
    [MACHINE_EV_TRAY_MOVED] = "DEVICE_TRAY_MOVED",
    [MACHINE_EV_BLOCK_IO_ERROR] = "BLOCK_IO_ERROR",
};

/* The board's drive named device into *d (false: none, or device NULL). */
static bool find_drive(VMControl *vc, const char *device, MonDriveInfo *d)
{
    for (int i = 0; device && vc->hooks.drive_info && vc->hooks.drive_info(vc->hooks.opaque, i, d);
         i++)
        if (!strcmp(d->device, device))
            return true;
    return false;
}

/* BLOCK_IO_ERROR's data: the drive's last failed request, reported to the
 * guest (QEMU's "report" action). */
static JsonValue *block_io_error_data(VMControl *vc, const char *device)
{
    MonDriveInfo d;
    if (!find_drive(vc, device, &d) || !d.io_error)
        return NULL;
    JsonValue *data = json_object();
    json_set_str(data, "device", d.device);
    json_set_str(data, "node-name", d.device);
    json_set_str(data, "operation", d.io_error_write ? "write" : "read");
    json_set_str(data, "action", "report");
    json_set_bool(data, "nospace", d.io_error == -ENOSPC);
    json_set_str(data, "reason", strerror(-d.io_error));
    return data;
}

/* DEVICE_TRAY_MOVED's data: the drive named by the board, its tray now. */
static JsonValue *tray_moved_data(VMControl *vc, const char *device)
{
    MonDriveInfo d;
    if (!find_drive(vc, device, &d))
        return NULL;
    JsonValue *data = json_object();
    json_set_str(data, "device", d.device);
    json_set_str(data, "id", d.device);
    json_set_bool(data, "tray-open", d.tray_open);
    return data;
}

static void machine_event(void *opaque, MachineEvent ev, bool guest, const char *reason)
{
    VMControl *vc = opaque;
    JsonValue *data = NULL;
    if (ev == MACHINE_EV_RESET || ev == MACHINE_EV_SHUTDOWN) {
        data = json_object();
        json_set_bool(data, "guest", guest);
        json_set_str(data, "reason", reason ? reason : (guest ? "guest-shutdown" : "host-qmp-quit"));
    }
    if (ev == MACHINE_EV_BALLOON_CHANGE) {
        MonBalloonInfo b;
        if (!vc->hooks.balloon_info || !vc->hooks.balloon_info(vc->hooks.opaque, &b))
            return;
        data = json_object();
        json_set_int(data, "actual", (int64_t)b.actual);
    }
    if (ev == MACHINE_EV_TRAY_MOVED && !(data = tray_moved_data(vc, reason)))
        return;
    if (ev == MACHINE_EV_BLOCK_IO_ERROR && !(data = block_io_error_data(vc, reason)))
        return;
    if (ev == MACHINE_EV_RESUME || ev == MACHINE_EV_STOP)
        vc->run_reason = ev == MACHINE_EV_STOP ? vc->run_reason : NULL;
    vmcontrol_emit(vc, event_names[ev], data);
}

VMControl *vmcontrol_new(Machine *m, const MonitorHooks *hooks)
{
    VMControl *vc = xcalloc(1, sizeof(*vc));
    vc->m = m;
    if (hooks)
        vc->hooks = *hooks;
    if (m->opts)
        vc->name = m->opts->name;
    /* The first VMControl of a machine gets its events (a second one, the
     * gdb stub's monitor, runs commands but has no QMP clients). */
    if (!m->event_fn) {
        m->event_fn = machine_event;
        m->event_opaque = vc;
    }
    return vc;
}

void vmcontrol_free(VMControl *vc)
{
    if (!vc)
        return;
    if (vc->m && vc->m->event_opaque == vc)
        vc->m->event_fn = NULL;
    migration_free(vc->mig);
    snapshot_jobs_free(vc);
    free(vc);
}

void vmcontrol_set_accel(VMControl *vc, const AccelOps *ops, void *acc)
{
    vc->accel_ops = ops;
    vc->acc = acc;
}

void vmcontrol_add_listener(VMControl *vc, VMEventFn fn, void *opaque)
{
    if (vc->nlisteners < (int)ARRAY_SIZE(vc->listeners)) {
        vc->listeners[vc->nlisteners].fn = fn;
        vc->listeners[vc->nlisteners++].opaque = opaque;
    }
}

void vmcontrol_remove_listener(VMControl *vc, void *opaque)
{
    int n = 0;
    for (int i = 0; i < vc->nlisteners; i++)
        if (vc->listeners[i].opaque != opaque)
            vc->listeners[n++] = vc->listeners[i];
    vc->nlisteners = n;
}

void vmcontrol_emit(VMControl *vc, const char *event, JsonValue *data)
{
    struct timeval tv;
    gettimeofday(&tv, NULL);
    JsonValue *ev = json_object(), *ts = json_object();
    json_set_str(ev, "event", event);
    if (data)
        json_set(ev, "data", data);
    json_set_int(ts, "seconds", tv.tv_sec);
    json_set_int(ts, "microseconds", tv.tv_usec);
    json_set(ev, "timestamp", ts);
    char *line = json_to_string(ev);
    json_free(ev);
    for (int i = 0; i < vc->nlisteners; i++)
        vc->listeners[i].fn(vc->listeners[i].opaque, line);
    free(line);
}

const char *vmcontrol_status(VMControl *vc)
{
    switch (vc->m->state) {
    case RUN_RUNNING:
    case RUN_RESET:
        return "running";
    case RUN_PAUSED:
        return vc->run_reason ? vc->run_reason : "paused";
    case RUN_SHUTDOWN:
    case RUN_POWERED_OFF:
        return "shutdown";
    case RUN_ERROR:
        return "internal-error";
    }
    return "paused";
}

/* ---- status, version, name, cpus, kvm, block ---- */

static JsonValue *qmp_query_status(VMControl *vc, const JsonValue *a, CmdError *e)
{
    JsonValue *r = json_object();
    json_set_bool(r, "running", vc->m->state == RUN_RUNNING || vc->m->state == RUN_RESET);
    json_set_bool(r, "singlestep", false);
    json_set_str(r, "status", vmcontrol_status(vc));
    return r;
}

static void hmp_status(VMControl *vc, const JsonValue *r, Text *out)
{
    const char *st = json_get_string(r, "status");
    JsonValue *running = json_get(r, "running");
    if (running && running->b)
        text_printf(out, "VM status: running\n");
    else if (st && strcmp(st, "paused"))
        text_printf(out, "VM status: paused (%s)\n", st);
    else
        text_printf(out, "VM status: paused\n");
}

static JsonValue *qmp_query_version(VMControl *vc, const JsonValue *a, CmdError *e)
{
    int v[3] = { 0, 0, 0 };
    sscanf(VX86_VERSION, "%d.%d.%d", &v[0], &v[1], &v[2]);
    JsonValue *r = json_object(), *q = json_object();
    json_set_int(q, "major", v[0]);
    json_set_int(q, "minor", v[1]);
    json_set_int(q, "micro", v[2]);
    json_set(r, "qemu", q);
    json_set_str(r, "package", "vx86 " VX86_VERSION);
    return r;
}

static void hmp_version(VMControl *vc, const JsonValue *r, Text *out)
{
    text_printf(out, "%s\n", VX86_VERSION);
}

static JsonValue *qmp_query_name(VMControl *vc, const JsonValue *a, CmdError *e)
{
    JsonValue *r = json_object();
    if (vc->name)
        json_set_str(r, "name", vc->name);
    return r;
}

static void hmp_name(VMControl *vc, const JsonValue *r, Text *out)
{
    const char *n = json_get_string(r, "name");
    if (n)
        text_printf(out, "%s\n", n);
}

/* Every CPU, with its place in the -smp topology (socket, core and thread
 * numbered as QEMU numbers them: threads innermost) and the host thread
 * that runs it. */
static JsonValue *qmp_query_cpus_fast(VMControl *vc, const JsonValue *a, CmdError *e)
{
    const VMOptions *o = vc->m->opts;
    int n = vc->m->ncpus > 0 ? vc->m->ncpus : 1;
    int threads = o && o->smp_threads > 0 ? o->smp_threads : 1;
    int cores = o && o->smp_cores > 0 ? o->smp_cores : 1;
    int main_tid = (int)syscall(SYS_gettid);
    JsonValue *r = json_array();
    for (int i = 0; i < n; i++) {
        JsonValue *c = json_object(), *props = json_object();
        char path[64];
        snprintf(path, sizeof path, "/machine/unattached/device[%d]", i);
        int tid = vc->accel_ops && vc->accel_ops->cpu_thread_id
                  ? vc->accel_ops->cpu_thread_id(vc->acc, i) : 0;
        json_set_int(c, "cpu-index", i);
        json_set_str(c, "qom-path", path);
        json_set_int(c, "thread-id", tid > 0 ? tid : main_tid);
        json_set_int(props, "core-id", (i / threads) % cores);
        json_set_int(props, "thread-id", i % threads);
        json_set_int(props, "socket-id", i / (threads * cores));
        json_set(c, "props", props);
        json_set_str(c, "target", "x86_64");
        json_append(r, c);
    }
    return r;
}

static void hmp_cpus(VMControl *vc, const JsonValue *r, Text *out)
{
    for (size_t i = 0; i < r->n; i++) {
        JsonValue *c = r->items[i];
        long long idx = json_get(c, "cpu-index")->i;
        text_printf(out, "%c CPU #%lld: thread_id=%lld\n", idx == vc->cur_cpu ? '*' : ' ',
                    idx, (long long)json_get(c, "thread-id")->i);
    }
}

/* cpu N: the CPU that info registers, x and p look at (QEMU's monitor). */
static void hmp_cpu(VMControl *vc, int argc, char **argv, Text *out)
{
    char *end = NULL;
    long n = argc == 2 ? strtol(argv[1], &end, 0) : -1;
    int ncpus = vc->m->ncpus > 0 ? vc->m->ncpus : 1;
    if (argc != 2 || !end || *end || n < 0 || n >= ncpus) {
        text_printf(out, "invalid CPU index\n");
        return;
    }
    vc->cur_cpu = (int)n;
}

/* QEMU lists every possible CPU slot (-smp maxcpus=); the present ones
 * carry their qom-path.  Nothing can be plugged into the others yet. */
static JsonValue *qmp_query_hotpluggable_cpus(VMControl *vc, const JsonValue *a, CmdError *e)
{
    const VMOptions *o = vc->m->opts;
    int n = vc->m->ncpus > 0 ? vc->m->ncpus : 1;
    int max = o && o->smp_maxcpus > n ? o->smp_maxcpus : n;
    int threads = o && o->smp_threads > 0 ? o->smp_threads : 1;
    int cores = o && o->smp_cores > 0 ? o->smp_cores : 1;
    char type[96];
    snprintf(type, sizeof type, "%s-x86_64-cpu", o && o->cpu_model ? o->cpu_model : "qemu64");
    JsonValue *r = json_array();
    for (int i = max - 1; i >= 0; i--) {      /* QEMU lists the last slot first */
        JsonValue *c = json_object(), *props = json_object();
        json_set_str(c, "type", type);
        json_set_int(c, "vcpus-count", 1);
        json_set_int(props, "core-id", (i / threads) % cores);
        json_set_int(props, "thread-id", i % threads);
        json_set_int(props, "socket-id", i / (threads * cores));
        json_set(c, "props", props);
        if (i < n) {
            char path[64];
            snprintf(path, sizeof path, "/machine/unattached/device[%d]", i);
            json_set_str(c, "qom-path", path);
        }
        json_append(r, c);
    }
    return r;
}

static void hmp_hotpluggable_cpus(VMControl *vc, const JsonValue *r, Text *out)
{
    text_printf(out, "Hotpluggable CPUs:\n");
    for (size_t i = 0; i < r->n; i++) {
        const JsonValue *c = r->items[i], *props = json_get(c, "props");
        const char *path = json_get_string(c, "qom-path");
        text_printf(out, "  type: \"%s\"\n  vcpus_count: \"%lld\"\n", json_get_string(c, "type"),
                    (long long)json_get(c, "vcpus-count")->i);
        if (path)
            text_printf(out, "  qom_path: \"%s\"\n", path);
        text_printf(out, "  CPUInstance Properties:\n");
        for (size_t k = 0; k < props->n; k++)
            text_printf(out, "    %s: \"%lld\"\n", props->keys[k], (long long)props->items[k]->i);
    }
}

/* The PC's ACPI tables offer no sleep state (no _S3): a guest cannot
 * suspend, so there is nothing to wake, as QEMU says for such a guest. */
static JsonValue *qmp_system_wakeup(VMControl *vc, const JsonValue *a, CmdError *e)
{
    cmd_error(e, "GenericError", "wake-up from suspend is not supported by this guest");
    return NULL;
}

static JsonValue *qmp_query_kvm(VMControl *vc, const JsonValue *a, CmdError *e)
{
    JsonValue *r = json_object();
    json_set_bool(r, "enabled", vc->accel_ops && !strcmp(vc->accel_ops->name, "kvm"));
    json_set_bool(r, "present", access("/dev/kvm", R_OK | W_OK) == 0);
    return r;
}

static void hmp_kvm(VMControl *vc, const JsonValue *r, Text *out)
{
    text_printf(out, "kvm support: %s\n", json_get(r, "enabled")->b ? "enabled" : "disabled");
}

static JsonValue *qmp_query_block(VMControl *vc, const JsonValue *a, CmdError *e)
{
    JsonValue *r = json_array();
    MonDriveInfo d;
    for (int i = 0; vc->hooks.drive_info && vc->hooks.drive_info(vc->hooks.opaque, i, &d); i++) {
        JsonValue *b = json_object();
        json_set_str(b, "device", d.device);
        json_set_str(b, "qdev", d.device);
        json_set_bool(b, "locked", d.locked);
        json_set_bool(b, "removable", d.removable);
        if (d.removable)
            json_set_bool(b, "tray_open", d.tray_open);
        json_set_str(b, "io-status", "ok");
        if (d.inserted) {
            JsonValue *ins = json_object(), *img = json_object();
            json_set_str(ins, "file", d.file ? d.file : "");
            json_set_str(ins, "node-name", d.device);
            json_set_bool(ins, "ro", d.ro);
            json_set_str(ins, "drv", d.format ? d.format : "raw");
            json_set_bool(ins, "encrypted", false);
            json_set_int(ins, "backing_file_depth", 0);
            json_set_str(img, "filename", d.file ? d.file : "");
            json_set_str(img, "format", d.format ? d.format : "raw");
            json_set_int(img, "virtual-size", (int64_t)d.size);
            json_set(ins, "image", img);
            json_set(b, "inserted", ins);
        }
        json_set_str(b, "type", "unknown");
        json_append(r, b);
    }
    return r;
}

/* QEMU's BlockDeviceStats, counted by the block layer per backend
 * (block/block.c); a drive without a medium reports zeros. */
static JsonValue *blockstats_json(const BlockStats *st)
{
    JsonValue *s = json_object();
    json_set_int(s, "rd_bytes", (int64_t)st->rd_bytes);
    json_set_int(s, "wr_bytes", (int64_t)st->wr_bytes);
    json_set_int(s, "unmap_bytes", (int64_t)st->unmap_bytes);
    json_set_int(s, "rd_operations", (int64_t)st->rd_ops);
    json_set_int(s, "wr_operations", (int64_t)st->wr_ops);
    json_set_int(s, "flush_operations", (int64_t)st->flush_ops);
    json_set_int(s, "unmap_operations", (int64_t)st->unmap_ops);
    json_set_int(s, "rd_total_time_ns", (int64_t)st->rd_ns);
    json_set_int(s, "wr_total_time_ns", (int64_t)st->wr_ns);
    json_set_int(s, "flush_total_time_ns", (int64_t)st->flush_ns);
    json_set_int(s, "unmap_total_time_ns", (int64_t)st->unmap_ns);
    json_set_int(s, "wr_highest_offset", (int64_t)st->wr_highest_offset);
    json_set_int(s, "rd_merged", 0);
    json_set_int(s, "wr_merged", 0);
    json_set_int(s, "unmap_merged", 0);
    json_set_int(s, "failed_rd_operations", (int64_t)st->failed_rd_ops);
    json_set_int(s, "failed_wr_operations", (int64_t)st->failed_wr_ops);
    json_set_int(s, "failed_flush_operations", (int64_t)st->failed_flush_ops);
    json_set_int(s, "failed_unmap_operations", (int64_t)st->failed_unmap_ops);
    json_set_int(s, "invalid_rd_operations", 0);
    json_set_int(s, "invalid_wr_operations", 0);
    json_set_int(s, "invalid_flush_operations", 0);
    json_set_int(s, "invalid_unmap_operations", 0);
    json_set_bool(s, "account_invalid", true);
    json_set_bool(s, "account_failed", true);
    json_set(s, "timed_stats", json_array());
    return s;
}

static JsonValue *qmp_query_blockstats(VMControl *vc, const JsonValue *a, CmdError *e)
{
    JsonValue *r = json_array();
    MonDriveInfo d;
    for (int i = 0; vc->hooks.drive_info && vc->hooks.drive_info(vc->hooks.opaque, i, &d); i++) {
        BlockStats st = { 0 };
        if (d.inserted && d.bb)
            blk_get_stats(d.bb, &st);
        JsonValue *b = json_object();
        json_set_str(b, "device", d.device);
        json_set_str(b, "qdev", d.device);
        if (d.inserted)
            json_set_str(b, "node-name", d.device);
        json_set(b, "stats", blockstats_json(&st));
        json_append(r, b);
    }
    return r;
}

static void hmp_blockstats(VMControl *vc, const JsonValue *r, Text *out)
{
    for (size_t i = 0; i < r->n; i++) {
        JsonValue *s = json_get(r->items[i], "stats");
        text_printf(out, "%s: rd_bytes=%lld wr_bytes=%lld rd_operations=%lld wr_operations=%lld "
                    "flush_operations=%lld wr_total_time_ns=%lld rd_total_time_ns=%lld "
                    "flush_total_time_ns=%lld rd_merged=0 wr_merged=0 idle_time_ns=0\n",
                    json_get_string(r->items[i], "device"),
                    (long long)json_get(s, "rd_bytes")->i, (long long)json_get(s, "wr_bytes")->i,
                    (long long)json_get(s, "rd_operations")->i,
                    (long long)json_get(s, "wr_operations")->i,
                    (long long)json_get(s, "flush_operations")->i,
                    (long long)json_get(s, "wr_total_time_ns")->i,
                    (long long)json_get(s, "rd_total_time_ns")->i,
                    (long long)json_get(s, "flush_total_time_ns")->i);
    }
}

static void hmp_block(VMControl *vc, const JsonValue *r, Text *out)
{
    for (size_t i = 0; i < r->n; i++) {
        JsonValue *b = r->items[i], *ins = json_get(b, "inserted");
        if (ins) {
            text_printf(out, "%s: %s (%s%s)\n", json_get_string(b, "device"),
                        json_get_string(ins, "file"), json_get_string(ins, "drv"),
                        json_get(ins, "ro")->b ? ", read-only" : "");
            text_printf(out, "    Removable device: %s\n",
                        json_get(b, "removable")->b ? "not locked, tray closed" : "no");
        } else {
            text_printf(out, "%s: [not inserted]\n    Removable device: not locked, tray closed\n",
                        json_get_string(b, "device"));
        }
    }
}

/* ---- run control ---- */

static JsonValue *qmp_stop(VMControl *vc, const JsonValue *a, CmdError *e)
{
    if (vc->m->state == RUN_RUNNING || vc->m->state == RUN_RESET) {
        vc->run_reason = NULL;
        machine_pause(vc->m);
    }
    return json_object();
}

static JsonValue *qmp_cont(VMControl *vc, const JsonValue *a, CmdError *e)
{
    Machine *m = vc->m;
    if (vc->run_reason && !strcmp(vc->run_reason, "inmigrate")) {
        cmd_error(e, "GenericError", "Guest is waiting for an incoming migration");
        return NULL;
    }
    if (vc->run_reason && !strcmp(vc->run_reason, "internal-error")) {
        cmd_error(e, "GenericError", "the incoming migration failed: the VM cannot run");
        return NULL;
    }
    if (m->state == RUN_SHUTDOWN || m->state == RUN_POWERED_OFF) {
        cmd_error(e, "GenericError", "the guest has powered off: reset the VM first");
        return NULL;
    }
    /* After a completed migration the destination owns the disks. */
    char err[512];
    if (!migration_drives_active(vc, true, err, sizeof err)) {
        cmd_error(e, "GenericError", "cannot take the disks back: %s", err);
        return NULL;
    }
    vc->run_reason = NULL;
    machine_resume(m);
    return json_object();
}

static JsonValue *qmp_system_reset(VMControl *vc, const JsonValue *a, CmdError *e)
{
    machine_host_reset(vc->m);
    return json_object();
}

static JsonValue *qmp_system_powerdown(VMControl *vc, const JsonValue *a, CmdError *e)
{
    if (!vc->hooks.power_button) {
        cmd_error(e, "GenericError", "this machine has no ACPI power button");
        return NULL;
    }
    machine_emit(vc->m, MACHINE_EV_POWERDOWN, false, NULL);
    vc->hooks.power_button(vc->hooks.opaque);
    return json_object();
}

/* ---- network links ---- */

static JsonValue *qmp_set_link(VMControl *vc, const JsonValue *a, CmdError *e)
{
    const char *name = json_get_string(a, "name");
    if (!vc->hooks.set_link || !vc->hooks.set_link(vc->hooks.opaque, name,
                                                   json_get(a, "up")->b)) {
        cmd_error(e, "DeviceNotFound", "Device '%s' not found", name);
        return NULL;
    }
    return json_object();
}

/* ---- the balloon ---- */

static JsonValue *qmp_balloon(VMControl *vc, const JsonValue *a, CmdError *e)
{
    int64_t target = json_get(a, "value")->i;
    if (target <= 0) {
        cmd_error(e, "GenericError", "Parameter 'target' expects a size");
        return NULL;
    }
    if (!vc->hooks.balloon_set || !vc->hooks.balloon_set(vc->hooks.opaque, (uint64_t)target)) {
        cmd_error(e, "DeviceNotActive", "No balloon device has been activated");
        return NULL;
    }
    return json_object();
}

/* balloon N: the target in MiB, as QEMU's monitor takes it. */
static void hmp_balloon(VMControl *vc, int argc, char **argv, Text *out)
{
    char *end;
    long long mb = argc == 2 ? strtoll(argv[1], &end, 0) : 0;
    if (argc != 2 || *end || mb <= 0 || mb > (INT64_MAX >> 20)) {
        text_printf(out, "balloon: expected a target size in MiB\n");
        return;
    }
    JsonValue *args = json_object();
    json_set_int(args, "value", mb << 20);
    cmd_hmp_call(vc, "balloon", args, out);
}

static JsonValue *qmp_query_balloon(VMControl *vc, const JsonValue *a, CmdError *e)
{
    MonBalloonInfo b;
    if (!vc->hooks.balloon_info || !vc->hooks.balloon_info(vc->hooks.opaque, &b)) {
        cmd_error(e, "DeviceNotActive", "No balloon device has been activated");
        return NULL;
    }
    JsonValue *r = json_object();
    json_set_int(r, "actual", (int64_t)b.actual);
    return r;
}

/* QEMU's line, then the guest's statistics (which QEMU shows through
 * qom-get guest-stats). */
static void hmp_info_balloon(VMControl *vc, int argc, char **argv, Text *out)
{
    MonBalloonInfo b;
    if (!vc->hooks.balloon_info || !vc->hooks.balloon_info(vc->hooks.opaque, &b)) {
        text_printf(out, "Error: No balloon device has been activated\n");
        return;
    }
    text_printf(out, "balloon: actual=%llu\n", (unsigned long long)(b.actual >> 20));
    if (b.stats_age_ms >= 0)
        text_printf(out, "stats: last update %lld ms ago\n", (long long)b.stats_age_ms);
    for (int i = 0; i < b.nstats; i++)
        text_printf(out, "%s=%llu\n", b.stats[i].name, (unsigned long long)b.stats[i].value);
}

static JsonValue *qmp_quit(VMControl *vc, const JsonValue *a, CmdError *e)
{
    machine_quit(vc->m);
    return json_object();
}

/* ---- screendump, send-key ---- */

static JsonValue *qmp_screendump(VMControl *vc, const JsonValue *a, CmdError *e)
{
    const char *file = json_get_string(a, "filename");
    const char *fmt = json_get_string(a, "format");
    ScreendumpFormat f;
    if (vc->sandbox) {
        cmd_error(e, "GenericError", "screendump: no host files in this sandbox");
        return NULL;
    }
    if (!fmt || !strcmp(fmt, "ppm"))
        f = SCREENDUMP_PPM;
    else if (!strcmp(fmt, "png"))
        f = SCREENDUMP_PNG;
    else {
        cmd_error(e, "GenericError", "Parameter 'format' does not accept value '%s'", fmt);
        return NULL;
    }
    if (json_get(a, "device") || json_get(a, "head")) {
        cmd_error(e, "GenericError", "there is only one display: omit 'device' and 'head'");
        return NULL;
    }
    if (!vc->hooks.console) {
        cmd_error(e, "GenericError", "there is no display device");
        return NULL;
    }
    char err[512];
    if (!console_screendump(vc->hooks.console, file, f, err, sizeof err)) {
        cmd_error(e, "GenericError", "%s", err);
        return NULL;
    }
    return json_object();
}

/* screendump FILENAME [-f ppm|png] */
static void hmp_screendump(VMControl *vc, int argc, char **argv, Text *out)
{
    const char *file = NULL, *fmt = "ppm";
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "-f") && i + 1 < argc)
            fmt = argv[++i];
        else if (!file)
            file = argv[i];
        else {
            text_printf(out, "screendump: unexpected argument '%s'\n", argv[i]);
            return;
        }
    }
    if (!file) {
        text_printf(out, "screendump: missing file name\n");
        return;
    }
    JsonValue *a = json_object();
    json_set_str(a, "filename", file);
    json_set_str(a, "format", fmt);
    CmdError e = { 0 };
    JsonValue *r = qmp_screendump(vc, a, &e);
    if (!r)
        text_printf(out, "screendump: %s\n", e.desc);
    json_free(r);
    json_free(a);
}

static void press_keys(VMControl *vc, const int *codes, int n)
{
    for (int i = 0; i < n; i++)
        vc->hooks.send_key(vc->hooks.opaque, codes[i], true);
    for (int i = n - 1; i >= 0; i--)
        vc->hooks.send_key(vc->hooks.opaque, codes[i], false);
}

/* send-key {"keys": [{"type": "qcode", "data": "ctrl"}, ...]} */
static JsonValue *qmp_send_key(VMControl *vc, const JsonValue *a, CmdError *e)
{
    JsonValue *keys = json_get(a, "keys");
    int codes[16], n = 0;
    if (!keys || keys->type != JSON_ARRAY || !keys->n) {
        cmd_error(e, "GenericError", keys && keys->type == JSON_ARRAY
                  ? "Parameter 'keys' expects at least one key"
                  : "Invalid parameter type for 'keys', expected: array");
        return NULL;
    }
    if (!vc->hooks.send_key) {
        cmd_error(e, "GenericError", "there is no keyboard");
        return NULL;
    }
    for (size_t i = 0; i < keys->n; i++) {
        const char *name = json_get_string(keys->items[i], "data");
        int c = name ? monitor_key_code(name) : -1;
        if (c < 0 || n == 16) {
            cmd_error(e, "GenericError", "Invalid parameter '%s'", name ? name : "keys");
            return NULL;
        }
        codes[n++] = c;
    }
    press_keys(vc, codes, n);
    return json_object();
}

/* input-send-event's button names -> DISPLAY_BUTTON_* bits; the wheel
 * "buttons" turn into wheel steps (dz > 0 towards the user). */
static const struct { const char *name; unsigned bit; int dz; } input_buttons[] = {
    { "left", 0x01, 0 }, { "right", 0x02, 0 }, { "middle", 0x04, 0 },
    { "wheel-up", 0, -1 }, { "wheel-down", 0, 1 },
};

#define INPUT_ABS_MAX 0x7fff

/* One event of input-send-event; motion and buttons accumulate into the
 * pointer report sent at the end. */
static bool input_event(VMControl *vc, const JsonValue *ev, int *dx, int *dy, int *dz,
                        bool *abs_moved, bool *pointer, CmdError *e)
{
    const char *type = json_get_string(ev, "type");
    const JsonValue *data = json_get(ev, "data");
    if (!type || !data || data->type != JSON_OBJECT) {
        cmd_error(e, "GenericError", "Invalid parameter 'events': expected {type, data}");
        return false;
    }
    if (!strcmp(type, "key")) {
        const JsonValue *down = json_get(data, "down"), *key = json_get(data, "key");
        const char *kt = json_get_string(key, "type");
        const char *name = json_get_string(key, "data");
        int c = kt && !strcmp(kt, "qcode") && name ? monitor_key_code(name) : -1;
        if (!down || down->type != JSON_BOOL || c < 0) {
            cmd_error(e, "GenericError", "Invalid parameter 'key': expected down and a qcode");
            return false;
        }
        if (vc->hooks.send_key)
            vc->hooks.send_key(vc->hooks.opaque, c, down->b);
        return true;
    }
    if (!strcmp(type, "btn")) {
        const JsonValue *down = json_get(data, "down");
        const char *name = json_get_string(data, "button");
        for (size_t i = 0; name && down && down->type == JSON_BOOL &&
                           i < ARRAY_SIZE(input_buttons); i++)
            if (!strcmp(name, input_buttons[i].name)) {
                if (down->b) {
                    vc->buttons |= input_buttons[i].bit;
                    *dz += input_buttons[i].dz;
                } else {
                    vc->buttons &= ~input_buttons[i].bit;
                }
                *pointer = true;
                return true;
            }
        cmd_error(e, "GenericError", "Invalid parameter 'button'");
        return false;
    }
    if (!strcmp(type, "rel") || !strcmp(type, "abs")) {
        const char *axis = json_get_string(data, "axis");
        const JsonValue *v = json_get(data, "value");
        if (!axis || (strcmp(axis, "x") && strcmp(axis, "y")) || !v || v->type != JSON_INT ||
            v->i < INT32_MIN || v->i > INT32_MAX) {
            cmd_error(e, "GenericError", "Invalid parameter 'axis' or 'value'");
            return false;
        }
        bool x = axis[0] == 'x';
        if (type[0] == 'r') {
            *(x ? dx : dy) += (int)v->i;
        } else {
            int p = v->i < 0 ? 0 : v->i > INPUT_ABS_MAX ? INPUT_ABS_MAX : (int)v->i;
            *(x ? &vc->abs_x : &vc->abs_y) = p;
            *abs_moved = true;
        }
        *pointer = true;
        return true;
    }
    cmd_error(e, "GenericError", "Invalid parameter 'type': %s", type);
    return false;
}

/* input-send-event {"events": [{"type": "abs", "data": {"axis": "x",
 * "value": 16384}}, ...]}: keys at once, pointer motion and buttons as one
 * report at the end (absolute when an abs axis moved, as QEMU syncs). */
static JsonValue *qmp_input_send_event(VMControl *vc, const JsonValue *a, CmdError *e)
{
    JsonValue *events = json_get(a, "events");
    if (!events || events->type != JSON_ARRAY) {
        cmd_error(e, "GenericError", "Invalid parameter type for 'events', expected: array");
        return NULL;
    }
    if (json_get(a, "device") || json_get(a, "head")) {
        cmd_error(e, "GenericError", "input devices cannot be picked: omit 'device' and 'head'");
        return NULL;
    }
    int dx = 0, dy = 0, dz = 0;
    bool abs_moved = false, pointer = false;
    for (size_t i = 0; i < events->n; i++)
        if (!input_event(vc, events->items[i], &dx, &dy, &dz, &abs_moved, &pointer, e))
            return NULL;
    if (abs_moved && vc->hooks.send_mouse_abs)
        vc->hooks.send_mouse_abs(vc->hooks.opaque, vc->abs_x, vc->abs_y, dz, vc->buttons);
    else if (pointer && vc->hooks.send_mouse)
        vc->hooks.send_mouse(vc->hooks.opaque, dx, dy, dz, vc->buttons);
    return json_object();
}

/* sendkey KEYS: KEYS like ctrl-alt-delete */
static void hmp_sendkey(VMControl *vc, int argc, char **argv, Text *out)
{
    if (argc < 2) {
        text_printf(out, "sendkey: missing keys\n");
        return;
    }
    if (!vc->hooks.send_key) {
        text_printf(out, "sendkey: there is no keyboard\n");
        return;
    }
    int codes[16], n = 0;
    char *keys = xstrdup(argv[1]), *save = NULL;
    for (char *k = strtok_r(keys, "-", &save); k; k = strtok_r(NULL, "-", &save)) {
        int c = monitor_key_code(k);
        if (c < 0 || n == 16) {
            text_printf(out, "sendkey: unknown key: '%s'\n", k);
            free(keys);
            return;
        }
        codes[n++] = c;
    }
    free(keys);
    press_keys(vc, codes, n);
}

/* ---- the VNC password ---- */

static bool set_vnc_password(VMControl *vc, const char *pw, char *err, size_t errlen)
{
    if (!vc->vnc_password) {
        snprintf(err, errlen, "there is no VNC server (-vnc)");
        return false;
    }
    return vc->vnc_password(vc->vnc_opaque, pw, err, errlen);
}

static JsonValue *qmp_change_vnc_password(VMControl *vc, const JsonValue *a, CmdError *e)
{
    char err[256];
    if (!set_vnc_password(vc, json_get_string(a, "password"), err, sizeof err)) {
        cmd_error(e, "GenericError", "Could not set password: %s", err);
        return NULL;
    }
    return json_object();
}

/* QEMU's VncBasicInfo: a client's has "websocket"; VncInfo's own server
 * fields do not (the schema has host, family and service there). */
static void vnc_addr_json(JsonValue *o, const MonVncAddr *a, bool with_websocket)
{
    json_set_str(o, "host", a->host);
    json_set_str(o, "service", a->service);
    json_set_str(o, "family", a->family);
    if (with_websocket)
        json_set_bool(o, "websocket", a->websocket);
}

/* query-vnc: QEMU's VncInfo ({"enabled": false} without -vnc). */
static JsonValue *qmp_query_vnc(VMControl *vc, const JsonValue *a, CmdError *e)
{
    JsonValue *r = json_object();
    json_set_bool(r, "enabled", vc->vnc_info != NULL);
    if (!vc->vnc_info)
        return r;
    MonVncInfo *info = xcalloc(1, sizeof(*info));
    vc->vnc_info(vc->vnc_opaque, info);
    vnc_addr_json(r, &info->server, false);
    json_set_str(r, "auth", info->auth);
    JsonValue *clients = json_array();
    for (int i = 0; i < info->nclients; i++) {
        JsonValue *c = json_object();
        vnc_addr_json(c, &info->clients[i], true);
        json_append(clients, c);
    }
    json_set(r, "clients", clients);
    free(info);
    return r;
}

/* One "HOST:PORT (FAMILY[, websocket])" of query-vnc's answer. */
static void hmp_vnc_addr(Text *out, const char *what, const JsonValue *a)
{
    const char *service = json_get_string(a, "service");
    const JsonValue *ws = json_get(a, "websocket");
    text_printf(out, "%s: %s%s%s (%s%s)\n", what, json_get_string(a, "host"),
                service[0] ? ":" : "", service, json_get_string(a, "family"),
                ws && ws->b ? ", websocket" : "");
}

static void hmp_info_vnc(VMControl *vc, const JsonValue *ret, Text *out)
{
    if (!json_get(ret, "enabled")->b) {
        text_printf(out, "Server: disabled\n");
        return;
    }
    hmp_vnc_addr(out, "Server", ret);
    text_printf(out, "  Auth: %s\n", json_get_string(ret, "auth"));
    const JsonValue *clients = json_get(ret, "clients");
    if (!clients->n)
        text_printf(out, "Client: none\n");
    for (size_t i = 0; i < clients->n; i++)
        hmp_vnc_addr(out, "Client", clients->items[i]);
}

/* set_password vnc PASSWORD (QEMU's: the protocol comes first). */
static JsonValue *qmp_set_password(VMControl *vc, const JsonValue *a, CmdError *e)
{
    const char *proto = json_get_string(a, "protocol");
    if (strcmp(proto, "vnc")) {
        cmd_error(e, "GenericError", "Parameter 'protocol' does not accept value '%s' "
                  "(vx86 has vnc)", proto);
        return NULL;
    }
    const char *conn = json_get_string(a, "connected");
    if (conn && strcmp(conn, "keep")) {
        cmd_error(e, "GenericError", "connected=%s: only 'keep' is supported", conn);
        return NULL;
    }
    return qmp_change_vnc_password(vc, a, e);
}

static void hmp_vnc_password_entered(VMControl *vc, const char *pw, Text *out)
{
    char err[256];
    if (!set_vnc_password(vc, pw, err, sizeof err))
        text_printf(out, "Could not set password: %s\n", err);
}

/* change vnc password [PASSWORD]: without it, the monitor asks for it
 * (not echoed). */
/* ---- removable media: eject, blockdev-change-medium ---- */

/* QMP names a drive by device= (its block name) or id= (the device's). */
static const char *medium_target(const JsonValue *a, CmdError *e)
{
    const char *dev = json_get_string(a, "device"), *id = json_get_string(a, "id");
    if (!dev == !id) {
        cmd_error(e, "GenericError", "Need exactly one of 'device' and 'id'");
        return NULL;
    }
    return dev ? dev : id;
}

static void medium_error(CmdError *e, int rc, const char *msg)
{
    cmd_error(e, rc == MON_ERR_NOT_FOUND ? "DeviceNotFound" : "GenericError", "%s", msg);
}

static JsonValue *qmp_eject(VMControl *vc, const JsonValue *a, CmdError *e)
{
    const char *target = medium_target(a, e);
    const JsonValue *force = json_get(a, "force");
    char err[400];
    if (!target)
        return NULL;
    if (!vc->hooks.eject) {
        cmd_error(e, "DeviceNotFound", "Device '%s' not found", target);
        return NULL;
    }
    int rc = vc->hooks.eject(vc->hooks.opaque, target, force && force->b, err, sizeof err);
    if (rc) {
        medium_error(e, rc, err);
        return NULL;
    }
    return json_object();
}

static JsonValue *qmp_blockdev_change_medium(VMControl *vc, const JsonValue *a, CmdError *e)
{
    const char *target = medium_target(a, e);
    const char *file = json_get_string(a, "filename"), *fmt = json_get_string(a, "format");
    const char *mode = json_get_string(a, "read-only-mode");
    char err[700];
    if (!target)
        return NULL;
    if (mode && strcmp(mode, "retain") && strcmp(mode, "read-only") && strcmp(mode, "read-write")) {
        cmd_error(e, "GenericError", "Parameter 'read-only-mode' does not accept value '%s'", mode);
        return NULL;
    }
    if (mode && !strcmp(mode, "read-write")) {     /* the drives that change media are CDs */
        cmd_error(e, "GenericError", "Device '%s' is a CD-ROM: its medium is read-only", target);
        return NULL;
    }
    if (vc->sandbox) {
        cmd_error(e, "GenericError", "blockdev-change-medium: no host files in this sandbox");
        return NULL;
    }
    if (fmt && !blk_format_known(fmt)) {
        cmd_error(e, "GenericError", "Unknown driver '%s'", fmt);
        return NULL;
    }
    if (!vc->hooks.change_medium) {
        cmd_error(e, "DeviceNotFound", "Device '%s' not found", target);
        return NULL;
    }
    int rc = vc->hooks.change_medium(vc->hooks.opaque, target, file, fmt, err, sizeof err);
    if (rc) {
        medium_error(e, rc, err);
        return NULL;
    }
    return json_object();
}

static void hmp_eject(VMControl *vc, int argc, char **argv, Text *out)
{
    bool force = argc == 3 && !strcmp(argv[1], "-f");
    if (argc != 2 + force) {
        text_printf(out, "eject: expected [-f] DEVICE\n");
        return;
    }
    JsonValue *a = json_object();
    json_set_str(a, "device", argv[1 + force]);
    if (force)
        json_set_bool(a, "force", true);
    cmd_hmp_call(vc, "eject", a, out);
}

/* change DEVICE FILE [FORMAT] (blockdev-change-medium), or change vnc
 * password [PASSWORD]. */
static void hmp_change_medium(VMControl *vc, int argc, char **argv, Text *out)
{
    if (argc < 3 || argc > 4) {
        text_printf(out, "change: expected DEVICE FILE [FORMAT] or vnc password [PASSWORD]\n");
        return;
    }
    JsonValue *a = json_object();
    json_set_str(a, "device", argv[1]);
    json_set_str(a, "filename", argv[2]);
    if (argc == 4)
        json_set_str(a, "format", argv[3]);
    cmd_hmp_call(vc, "blockdev-change-medium", a, out);
}

static void hmp_change(VMControl *vc, int argc, char **argv, Text *out)
{
    if (argc < 2 || strcmp(argv[1], "vnc")) {
        hmp_change_medium(vc, argc, argv, out);
        return;
    }
    if (argc < 3 || strcmp(argv[2], "password")) {
        text_printf(out, "change: vx86 has only 'change vnc password [PASSWORD]' for vnc\n");
        return;
    }
    if (argc > 4) {
        text_printf(out, "change: too many arguments\n");
        return;
    }
    if (argc == 4) {
        hmp_vnc_password_entered(vc, argv[3], out);
        return;
    }
    vc->secret_fn = hmp_vnc_password_entered;
    vc->secret_prompt = "Password: ";
}

/* ---- registers, memory ---- */

static bool get_cpu(VMControl *vc, X86ArchState *s, Text *out)
{
    char err[256];
    if (!vc->accel_ops) {
        text_printf(out, "the CPU is not running yet\n");
        return false;
    }
    /* The CPUs stand still while their state is read. */
    machine_vcpus_stop(vc->m);
    int rc = vc->accel_ops->get_cpu_state(vc->acc, vc->cur_cpu, s, err, sizeof err);
    machine_vcpus_start(vc->m);
    if (rc < 0) {
        text_printf(out, "cannot read the CPU state: %s\n", err);
        return false;
    }
    return true;
}

static void hmp_info_registers(VMControl *vc, int argc, char **argv, Text *out)
{
    X86ArchState s;
    if (!get_cpu(vc, &s, out))
        return;
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    if (!f)
        return;
    x86_arch_state_dump(&s, f);
    fclose(f);
    text_printf(out, "%s", buf);
    free(buf);
}

static void hmp_info_tlb(VMControl *vc, int argc, char **argv, Text *out)
{
    X86ArchState s;
    if (get_cpu(vc, &s, out))
        monitor_info_tlb(vc->m->mem, &s, out);
}

static void hmp_info_mem(VMControl *vc, int argc, char **argv, Text *out)
{
    X86ArchState s;
    if (get_cpu(vc, &s, out))
        monitor_info_mem(vc->m->mem, &s, out);
}

/* Runs a board dump (FILE *) with the CPUs standing still. */
static void hmp_dump(VMControl *vc, Text *out, void (*fn)(VMControl *vc, FILE *f, bool *ok))
{
    char *buf = NULL;
    size_t len = 0;
    bool ok = true;
    FILE *f = open_memstream(&buf, &len);
    if (!f)
        return;
    machine_vcpus_stop(vc->m);
    fn(vc, f, &ok);
    machine_vcpus_start(vc->m);
    fclose(f);
    text_printf(out, "%s", ok ? buf : "");
    if (!ok)
        text_printf(out, "no interrupt controller to show\n");
    free(buf);
}

static void dump_pic(VMControl *vc, FILE *f, bool *ok)
{
    if (vc->hooks.dump_pic)
        vc->hooks.dump_pic(vc->hooks.opaque, f);
    else
        *ok = false;
}

static void dump_lapic(VMControl *vc, FILE *f, bool *ok)
{
    *ok = vc->hooks.dump_lapic && vc->hooks.dump_lapic(vc->hooks.opaque, vc->cur_cpu, f);
}

static void dump_irq_counts(VMControl *vc, FILE *f, bool *ok)
{
    if (vc->hooks.dump_irq_counts)
        vc->hooks.dump_irq_counts(vc->hooks.opaque, f);
    else
        *ok = false;
}

static void hmp_info_irq(VMControl *vc, int argc, char **argv, Text *out)
{
    hmp_dump(vc, out, dump_irq_counts);
}

static void hmp_info_pic(VMControl *vc, int argc, char **argv, Text *out)
{
    hmp_dump(vc, out, dump_pic);
}

static void hmp_info_lapic(VMControl *vc, int argc, char **argv, Text *out)
{
    hmp_dump(vc, out, dump_lapic);
}

/* Reads guest-physical RAM/ROM only (no device side effects). */
static bool phys_read(VMControl *vc, uint64_t pa, void *buf, size_t len)
{
    const uint8_t *p = memmap_host_ptr(vc->m->mem, pa, len, false);
    if (!p)
        return false;
    memcpy(buf, p, len);
    return true;
}

/* Linear -> physical with the CPU's paging mode (32-bit, PAE, 4-level),
 * as the CPU would walk it; false when not mapped. */
static bool debug_translate(VMControl *vc, const X86ArchState *s, uint64_t la, uint64_t *pa)
{
    if (!(s->cr0 & 0x80000000u)) {
        *pa = la & 0xffffffffu;
        return true;
    }
    if (!(s->cr4 & 0x20)) {                       /* 32-bit paging */
        uint32_t pde, pte;
        uint64_t a = (s->cr3 & 0xfffff000u) + ((la >> 22) & 0x3ff) * 4;
        if (!phys_read(vc, a, &pde, 4) || !(pde & 1))
            return false;
        if ((pde & 0x80) && (s->cr4 & 0x10)) {
            *pa = (pde & 0xffc00000u) | (la & 0x3fffff);
            return true;
        }
        a = (pde & 0xfffff000u) + ((la >> 12) & 0x3ff) * 4;
        if (!phys_read(vc, a, &pte, 4) || !(pte & 1))
            return false;
        *pa = (pte & 0xfffff000u) | (la & 0xfff);
        return true;
    }
    const uint64_t amask = 0x000ffffffffff000ull;
    bool lm = s->efer & 0x400;
    int levels = lm ? 4 : 3;
    uint64_t table = lm ? s->cr3 & amask : s->cr3 & 0xffffffe0u;
    for (int lvl = levels; lvl >= 1; lvl--) {
        int shift = 12 + 9 * (lvl - 1);
        unsigned idx = lvl == 3 && !lm ? (la >> 30) & 3 : (la >> shift) & 511;
        uint64_t ent;
        if (!phys_read(vc, table + idx * 8, &ent, 8) || !(ent & 1))
            return false;
        if (lvl <= 2 && lvl > 0 && (ent & 0x80) && lvl != 1) {
            uint64_t psize = 1ull << shift;
            *pa = (ent & amask & ~(psize - 1)) | (la & (psize - 1));
            return true;
        }
        if (lvl == 3 && lm && (ent & 0x80)) {
            *pa = (ent & amask & ~((1ull << 30) - 1)) | (la & ((1ull << 30) - 1));
            return true;
        }
        table = ent & amask;
    }
    *pa = table | (la & 0xfff);
    return true;
}

static const char *const reg_names[16] = {
    "rax", "rcx", "rdx", "rbx", "rsp", "rbp", "rsi", "rdi",
    "r8", "r9", "r10", "r11", "r12", "r13", "r14", "r15",
};

/* A number (C syntax), $reg (rax.. / eax.. / rip / eip / cr0-4), or a
 * sum/difference of those ("$esp+8"). */
static bool eval_expr(VMControl *vc, const char *expr, uint64_t *val, Text *out)
{
    uint64_t acc = 0;
    int sign = 1;
    const char *p = expr;
    X86ArchState s;
    bool have_state = false;
    while (*p) {
        uint64_t v;
        if (*p == '$') {
            char name[16];
            size_t n = 0;
            for (p++; isalnum((unsigned char)*p) && n < sizeof name - 1; p++)
                name[n++] = (char)tolower((unsigned char)*p);
            name[n] = '\0';
            if (!have_state && !get_cpu(vc, &s, out))
                return false;
            have_state = true;
            bool found = false;
            for (int i = 0; i < 16 && !found; i++) {
                if (!strcmp(name, reg_names[i])) {
                    v = s.regs[i];
                    found = true;
                } else if (i < 8 && name[0] == 'e' && !strcmp(name + 1, reg_names[i] + 1)) {
                    v = (uint32_t)s.regs[i];
                    found = true;
                }
            }
            if (!found) {
                if (!strcmp(name, "rip") || !strcmp(name, "pc")) v = s.rip;
                else if (!strcmp(name, "eip")) v = (uint32_t)s.rip;
                else if (!strcmp(name, "eflags") || !strcmp(name, "rflags")) v = s.rflags;
                else if (!strcmp(name, "cr0")) v = s.cr0;
                else if (!strcmp(name, "cr2")) v = s.cr2;
                else if (!strcmp(name, "cr3")) v = s.cr3;
                else if (!strcmp(name, "cr4")) v = s.cr4;
                else {
                    text_printf(out, "unknown register '$%s'\n", name);
                    return false;
                }
            }
        } else {
            char *end;
            errno = 0;
            v = strtoull(p, &end, 0);
            if (end == p || errno) {
                text_printf(out, "invalid number in '%s'\n", expr);
                return false;
            }
            p = end;
        }
        acc += sign > 0 ? v : -v;
        if (!*p)
            break;
        if (*p == '+' || *p == '-') {
            sign = *p == '+' ? 1 : -1;
            p++;
            continue;
        }
        text_printf(out, "invalid expression '%s'\n", expr);
        return false;
    }
    *val = acc;
    return true;
}

/* /NNfu: count, format (x d u o c i? -> x), unit (b h w g). */
static void parse_fmt(const char *f, int *count, char *fmt, int *size)
{
    *count = 1;
    if (isdigit((unsigned char)*f))
        *count = (int)strtol(f, (char **)&f, 10);
    for (; *f; f++) {
        switch (*f) {
        case 'x': case 'd': case 'u': case 'o': case 'c': *fmt = *f; break;
        case 'b': *size = 1; break;
        case 'h': *size = 2; break;
        case 'w': *size = 4; break;
        case 'g': *size = 8; break;
        }
    }
    if (*fmt == 'c')
        *size = 1;
}

/* x /fmt ADDR (linear) and xp /fmt ADDR (physical): QEMU's layout. */
static void hmp_memory_dump(VMControl *vc, int argc, char **argv, Text *out)
{
    bool phys = !strcmp(argv[0], "xp");
    int count = 1, size = 4;
    char fmt = 'x';
    int ai = 1;
    if (ai < argc && argv[ai][0] == '/')
        parse_fmt(argv[ai++] + 1, &count, &fmt, &size);
    if (ai >= argc) {
        text_printf(out, "%s: missing address\n", argv[0]);
        return;
    }
    uint64_t addr;
    if (!eval_expr(vc, argv[ai], &addr, out))
        return;
    if (count < 1 || count > 65536) {
        text_printf(out, "%s: count out of range (1..65536)\n", argv[0]);
        return;
    }
    X86ArchState s;
    if (!phys && !get_cpu(vc, &s, out))
        return;
    int per_line = fmt == 'c' ? 16 : 16 / size;
    for (int i = 0; i < count; i++) {
        uint64_t a = addr + (uint64_t)i * size, pa = a;
        if (i % per_line == 0)
            text_printf(out, "%s%016llx:", i ? "\n" : "", (unsigned long long)a);
        uint64_t v = 0;
        if ((!phys && !debug_translate(vc, &s, a, &pa)) || !phys_read(vc, pa, &v, (size_t)size)) {
            text_printf(out, "\nCannot access memory at 0x%llx\n", (unsigned long long)a);
            return;
        }
        switch (fmt) {
        case 'x': text_printf(out, " 0x%0*llx", size * 2, (unsigned long long)v); break;
        case 'u': text_printf(out, " %llu", (unsigned long long)v); break;
        case 'o': text_printf(out, " %#llo", (unsigned long long)v); break;
        case 'c': text_printf(out, isprint((int)v) ? " '%c'" : " '\\x%02x'", (int)v); break;
        default: {
            int64_t sv = size == 1 ? (int8_t)v : size == 2 ? (int16_t)v : size == 4 ? (int32_t)v : (int64_t)v;
            text_printf(out, " %lld", (long long)sv);
        }
        }
    }
    text_printf(out, "\n");
}

/* p[/fmt] EXPR */
static void hmp_print_expr(VMControl *vc, int argc, char **argv, Text *out)
{
    int count, size = 8;
    char fmt = 'x';
    int ai = 1;
    const char *slash = strchr(argv[0], '/');
    if (slash)
        parse_fmt(slash + 1, &count, &fmt, &size);
    else if (ai < argc && argv[ai][0] == '/')
        parse_fmt(argv[ai++] + 1, &count, &fmt, &size);
    if (ai >= argc) {
        text_printf(out, "p: missing expression\n");
        return;
    }
    uint64_t v;
    if (!eval_expr(vc, argv[ai], &v, out))
        return;
    if (fmt == 'd')
        text_printf(out, "%lld\n", (long long)v);
    else if (fmt == 'u')
        text_printf(out, "%llu\n", (unsigned long long)v);
    else
        text_printf(out, "%#llx\n", (unsigned long long)v);
}

/* ---- memory map, PCI, devices ---- */

typedef struct MtreeCtx {
    Text *out;
} MtreeCtx;

static void mtree_one(void *opaque, const MemRegion *r, uint64_t start, uint64_t len)
{
    MtreeCtx *c = opaque;
    static const char *const kinds[] = { "ram", "rom", "i/o" };
    text_printf(c->out, "  %016llx-%016llx (prio %d, %s): %s\n", (unsigned long long)start,
                (unsigned long long)(start + len - 1), r->priority, kinds[r->kind], r->name);
}

static void hmp_info_mtree(VMControl *vc, int argc, char **argv, Text *out)
{
    MtreeCtx c = { out };
    text_printf(out, "FlatView (the memory map as the CPU sees it):\n");
    memmap_flatten(vc->m->mem, mtree_one, &c);
}

static void hmp_info_pci(VMControl *vc, int argc, char **argv, Text *out)
{
    PCIBus *bus = vc->hooks.pci_bus ? vc->hooks.pci_bus(vc->hooks.opaque) : NULL;
    if (!bus) {
        text_printf(out, "there is no PCI bus\n");
        return;
    }
    for (int devfn = 0; devfn < 256; devfn++) {
        PCIDevice *d = pci_bus_find(bus, devfn);
        if (!d)
            continue;
        text_printf(out, "  Bus  0, device %3d, function %d:\n", devfn >> 3, devfn & 7);
        text_printf(out, "    class %04x: PCI device %04x:%04x  (%s)\n",
                    pci_get_word(d, 0x0a), pci_get_word(d, 0x00), pci_get_word(d, 0x02), d->name);
        uint8_t pin = d->config[0x3d];
        if (pin)
            text_printf(out, "      IRQ %d, pin %c\n", d->config[0x3c], 'A' + pin - 1);
        for (int b = 0; b < PCI_NUM_BARS; b++) {
            uint32_t bar = pci_get_long(d, 0x10 + 4 * b);
            if (!d->bars[b].size)
                continue;
            text_printf(out, "      BAR%d: %s at 0x%x [0x%x].\n", b,
                        bar & 1 ? "I/O" : "32 bit memory", pci_bar_address(d, b),
                        pci_bar_address(d, b) + d->bars[b].size - 1);
        }
        text_printf(out, "      id \"%s\"\n", d->name);
    }
}

static void hmp_info_qtree(VMControl *vc, int argc, char **argv, Text *out)
{
    text_printf(out, "bus: main-system-bus\n  type System\n");
    for (Device *d = vc->m->devices; d; d = d->next)
        text_printf(out, "  dev: %s, id \"%s\"%s\n", d->ops->name, d->id,
                    d->ops->vmsd ? "" : " (no saved state)");
    PCIBus *bus = vc->hooks.pci_bus ? vc->hooks.pci_bus(vc->hooks.opaque) : NULL;
    if (bus) {
        text_printf(out, "  bus: pci.0\n    type PCI\n");
        for (int devfn = 0; devfn < 256; devfn++) {
            PCIDevice *d = pci_bus_find(bus, devfn);
            if (d)
                text_printf(out, "    dev: %s, addr %02x.%d\n", d->name, devfn >> 3, devfn & 7);
        }
    }
}

/* ---- commands about commands ---- */

static JsonValue *qmp_query_commands(VMControl *vc, const JsonValue *a, CmdError *e);
static JsonValue *qmp_query_qmp_schema(VMControl *vc, const JsonValue *a, CmdError *e);
static JsonValue *qmp_hmp_command(VMControl *vc, const JsonValue *a, CmdError *e);
static void hmp_help(VMControl *vc, int argc, char **argv, Text *out);
static void hmp_info(VMControl *vc, int argc, char **argv, Text *out);

static JsonValue *qmp_capabilities_dummy(VMControl *vc, const JsonValue *a, CmdError *e)
{
    /* The QMP server answers qmp_capabilities itself (negotiation state
     * is per connection); this row is here for query-commands. */
    cmd_error(e, "CommandNotFound", "Capabilities negotiation is already complete, command ignored");
    return NULL;
}

#define S(n) { n, ARG_STR, false }
#define S_OPT(n) { n, ARG_STR, true }
#define B(n) { n, ARG_BOOL, false }
#define I(n) { n, ARG_INT, false }

/* The events vx86 emits and the members of their "data", as
 * query-qmp-schema describes them (QEMU's names). */
typedef struct EventDef {
    const char *name;
    CmdArg data[6];
} EventDef;

static const EventDef event_defs[] = {
    { .name = "STOP" },
    { .name = "RESUME" },
    { "RESET", { B("guest"), S("reason") } },
    { "SHUTDOWN", { B("guest"), S("reason") } },
    { .name = "POWERDOWN" },
    { "BALLOON_CHANGE", { I("actual") } },
    { "MIGRATION", { S("status") } },
    { "JOB_STATUS_CHANGE", { S("id"), S("status") } },
    { "DEVICE_TRAY_MOVED", { S("device"), S("id"), B("tray-open") } },
    { "BLOCK_IO_ERROR", { S("device"), S("node-name"), S("operation"), S("action"),
                          B("nospace"), S("reason") } },
};

static const CmdDef cmd_defs[] = {
    { .qmp = "qmp_capabilities", .help = "negotiate QMP capabilities",
      .args = { { "enable", ARG_ANY, true } }, .run = qmp_capabilities_dummy },
    { .qmp = "query-commands", .help = "list the QMP commands", .run = qmp_query_commands },
    { .qmp = "query-qmp-schema", .help = "describe the QMP commands, their arguments and the events",
      .run = qmp_query_qmp_schema },
    { .hmp = "help", .hmp_alias = "?", .hmp_params = "[cmd]", .help = "show the help",
      .hmp_run = hmp_help },
    { .hmp = "info", .hmp_params = "[subcommand]", .help = "show information about the system state",
      .hmp_run = hmp_info },
    { .qmp = "query-status", .hmp = "info status", .help = "show the VM status (running|paused)",
      .run = qmp_query_status, .hmp_print = hmp_status },
    { .qmp = "query-version", .hmp = "info version", .help = "show the version of vx86",
      .run = qmp_query_version, .hmp_print = hmp_version },
    { .qmp = "query-name", .hmp = "info name", .help = "show the VM's name (-name)",
      .run = qmp_query_name, .hmp_print = hmp_name },
    { .qmp = "query-cpus-fast", .hmp = "info cpus", .help = "show the CPUs",
      .run = qmp_query_cpus_fast, .hmp_print = hmp_cpus },
    { .qmp = "query-kvm", .hmp = "info kvm", .help = "show whether KVM runs the guest",
      .run = qmp_query_kvm, .hmp_print = hmp_kvm },
    { .qmp = "query-block", .hmp = "info block", .help = "show the block devices",
      .run = qmp_query_block, .hmp_print = hmp_block },
    { .qmp = "query-blockstats", .hmp = "info blockstats",
      .help = "show the block devices' I/O statistics",
      .args = { { "query-nodes", ARG_BOOL, true } }, .run = qmp_query_blockstats, .hmp_print = hmp_blockstats },
    { .qmp = "query-hotpluggable-cpus", .hmp = "info hotpluggable-cpus",
      .help = "show the CPU slots (nothing can be plugged yet)",
      .run = qmp_query_hotpluggable_cpus, .hmp_print = hmp_hotpluggable_cpus },
    { .qmp = "query-migrate", .hmp = "info migrate", .help = "show the migration status",
      .run = qmp_query_migrate, .hmp_print = hmp_info_migrate },
    { .qmp = "query-migrate-parameters", .help = "show the migration parameters",
      .run = qmp_query_migrate_parameters },
    { .qmp = "query-migrate-capabilities", .hmp = "info migrate_capabilities",
      .help = "show the migration capabilities",
      .run = qmp_query_migrate_capabilities, .hmp_print = hmp_migrate_capabilities },
    { .qmp = "migrate-set-capabilities", .hmp = "migrate_set_capability",
      .hmp_params = "capability state", .help = "enable or disable a migration capability (compress)",
      .args = { { "capabilities", ARG_ANY, false } },
      .run = qmp_migrate_set_capabilities, .hmp_run = hmp_migrate_set_capability },
    { .qmp = "query-balloon", .hmp = "info balloon",
      .help = "show the balloon's actual size (MiB) and the guest's statistics",
      .run = qmp_query_balloon, .hmp_run = hmp_info_balloon },
    { .qmp = "balloon", .hmp = "balloon", .hmp_params = "target",
      .help = "ask the guest to keep target MiB of RAM (QMP: value in bytes)",
      .args = { { "value", ARG_INT, false } }, .run = qmp_balloon, .hmp_run = hmp_balloon },
    { .qmp = "set_link", .hmp = "set_link", .hmp_params = "name on|off",
      .help = "change the link status of a network adapter (-netdev id or NIC id=)",
      .args = { S("name"), { "up", ARG_BOOL, false } }, .run = qmp_set_link },
    { .hmp = "info registers", .help = "show the CPU registers", .hmp_run = hmp_info_registers },
    { .hmp = "cpu", .hmp_params = "index", .help = "set the default CPU (info registers, x, p)",
      .hmp_run = hmp_cpu },
    { .hmp = "info pic", .help = "show the PIC (i8259) and I/O APIC state",
      .hmp_run = hmp_info_pic },
    { .hmp = "info irq", .help = "show how often each interrupt line was raised",
      .hmp_run = hmp_info_irq },
    { .hmp = "info lapic", .help = "show the local APIC state of the current CPU",
      .hmp_run = hmp_info_lapic },
    { .hmp = "info tlb", .help = "show the CPU's page-table mappings (linear: physical flags)",
      .hmp_run = hmp_info_tlb },
    { .hmp = "info mem", .help = "show the active virtual memory mappings",
      .hmp_run = hmp_info_mem },
    { .hmp = "info mtree", .help = "show the memory map", .hmp_run = hmp_info_mtree },
    { .hmp = "info pci", .help = "show the PCI devices", .hmp_run = hmp_info_pci },
    { .hmp = "info qtree", .help = "show the devices (short)", .hmp_run = hmp_info_qtree },
    { .qmp = "stop", .hmp = "stop", .help = "stop the VM", .run = qmp_stop },
    { .qmp = "cont", .hmp = "cont", .hmp_alias = "c", .help = "resume the VM", .run = qmp_cont },
    { .qmp = "system_reset", .hmp = "system_reset", .help = "reset the system",
      .run = qmp_system_reset },
    { .qmp = "system_powerdown", .hmp = "system_powerdown",
      .help = "press the ACPI power button", .run = qmp_system_powerdown },
    { .qmp = "system_wakeup", .hmp = "system_wakeup", .help = "wake up the guest from suspend",
      .run = qmp_system_wakeup },
    { .qmp = "quit", .hmp = "quit", .hmp_alias = "q", .help = "quit the emulator", .run = qmp_quit },
    { .qmp = "screendump", .hmp = "screendump", .hmp_params = "filename [-f format]",
      .help = "save the screen as an image (ppm, or png with -f png)",
      .args = { S("filename"), S_OPT("format"), S_OPT("device"), { "head", ARG_INT, true } },
      .run = qmp_screendump, .hmp_run = hmp_screendump },
    { .qmp = "send-key", .hmp = "sendkey", .hmp_params = "keys",
      .help = "send keys to the VM (e.g. 'sendkey ctrl-alt-f1')",
      .args = { { "keys", ARG_ANY, false }, { "hold-time", ARG_INT, true } },
      .run = qmp_send_key, .hmp_run = hmp_sendkey },
    { .qmp = "input-send-event", .help = "send input events (keys, buttons, rel/abs motion)",
      .args = { { "events", ARG_ANY, false }, S_OPT("device"), { "head", ARG_INT, true } },
      .run = qmp_input_send_event },
    { .hmp = "change", .hmp_params = "device filename [format] | vnc password [password]",
      .help = "change a removable medium (a CD-ROM's disc), or set the VNC password "
              "(asks for it when not given)", .hmp_run = hmp_change },
    { .qmp = "eject", .hmp = "eject", .hmp_params = "[-f] device",
      .help = "eject a removable medium (use -f to force it)",
      .args = { S_OPT("device"), S_OPT("id"), { "force", ARG_BOOL, true } },
      .run = qmp_eject, .hmp_run = hmp_eject },
    { .qmp = "blockdev-change-medium", .help = "change a removable medium (a CD-ROM's disc)",
      .args = { S_OPT("device"), S_OPT("id"), S("filename"), S_OPT("format"),
                S_OPT("read-only-mode"), { "force", ARG_BOOL, true } },
      .run = qmp_blockdev_change_medium },
    { .qmp = "query-vnc", .hmp = "info vnc",
      .help = "show the VNC server's address, authentication and clients",
      .run = qmp_query_vnc, .hmp_print = hmp_info_vnc },
    { .qmp = "change-vnc-password", .help = "set the VNC password",
      .args = { S("password") }, .run = qmp_change_vnc_password },
    { .qmp = "set_password", .hmp = "set_password", .hmp_params = "protocol password [action]",
      .help = "set the password of a remote display (vnc)",
      .args = { S("protocol"), S("password"), S_OPT("connected") }, .run = qmp_set_password },
    { .qmp = "human-monitor-command", .help = "run a human monitor command",
      .args = { S("command-line"), { "cpu-index", ARG_INT, true } }, .run = qmp_hmp_command },
    { .hmp = "x", .hmp_params = "/fmt addr", .help = "virtual memory dump starting at addr",
      .hmp_run = hmp_memory_dump },
    { .hmp = "xp", .hmp_params = "/fmt addr", .help = "physical memory dump starting at addr",
      .hmp_run = hmp_memory_dump },
    { .hmp = "p", .hmp_alias = "print", .hmp_params = "/fmt expr",
      .help = "print an expression value ($reg, numbers, + and -)", .hmp_run = hmp_print_expr },
    { .qmp = "migrate", .hmp = "migrate", .hmp_params = "uri",
      .help = "migrate/save the VM to uri (file:PATH, exec:CMD, tcp:HOST:PORT, unix:PATH)",
      .args = { S("uri"), { "detach", ARG_BOOL, true }, { "blk", ARG_BOOL, true },
                { "inc", ARG_BOOL, true }, { "resume", ARG_BOOL, true } },
      .run = qmp_migrate },
    { .qmp = "migrate-incoming", .hmp = "migrate_incoming", .hmp_params = "uri",
      .help = "load an incoming migration from uri (after -incoming defer)",
      .args = { S("uri") }, .run = qmp_migrate_incoming },
    { .qmp = "migrate_cancel", .hmp = "migrate_cancel", .help = "cancel the current migration",
      .run = qmp_migrate_cancel },
    { .qmp = "migrate-set-parameters", .hmp = "migrate_set_parameter",
      .hmp_params = "parameter value", .help = "set compress-level (0-9) or downtime-limit (ms)",
      .args = { { "compress-level", ARG_INT, true }, { "downtime-limit", ARG_INT, true },
                { "max-bandwidth", ARG_INT, true } },
      .run = qmp_migrate_set_parameters, .hmp_run = hmp_migrate_set_parameter },
    { .hmp = "savevm", .hmp_params = "[tag]",
      .help = "save a VM snapshot. If no tag is provided, a new snapshot is created",
      .hmp_run = hmp_savevm },
    { .hmp = "loadvm", .hmp_params = "tag", .help = "restore a VM snapshot from its tag",
      .hmp_run = hmp_loadvm },
    { .hmp = "delvm", .hmp_params = "tag", .help = "delete a VM snapshot from its tag",
      .hmp_run = hmp_delvm },
    { .hmp = "info snapshots", .help = "show the currently saved VM snapshots",
      .hmp_run = hmp_info_snapshots },
    { .qmp = "snapshot-save", .help = "save a VM snapshot (a job)",
      .args = { S("job-id"), S("tag"), S("vmstate"), { "devices", ARG_ANY, false } },
      .run = qmp_snapshot_save },
    { .qmp = "snapshot-load", .help = "restore a VM snapshot (a job)",
      .args = { S("job-id"), S("tag"), S("vmstate"), { "devices", ARG_ANY, false } },
      .run = qmp_snapshot_load },
    { .qmp = "snapshot-delete", .help = "delete a VM snapshot (a job)",
      .args = { S("job-id"), S("tag"), { "devices", ARG_ANY, false } },
      .run = qmp_snapshot_delete },
    { .qmp = "query-jobs", .help = "list the jobs", .run = qmp_query_jobs },
    { .qmp = "job-dismiss", .help = "remove a concluded job", .args = { S("id") },
      .run = qmp_job_dismiss },
};

const CmdDef *cmd_table(size_t *n)
{
    *n = ARRAY_SIZE(cmd_defs);
    return cmd_defs;
}

const CmdDef *cmd_find_qmp(const char *name)
{
    for (size_t i = 0; i < ARRAY_SIZE(cmd_defs); i++)
        if (cmd_defs[i].qmp && !strcmp(cmd_defs[i].qmp, name))
            return &cmd_defs[i];
    return NULL;
}

static const CmdDef *cmd_find_hmp(const char *name)
{
    for (size_t i = 0; i < ARRAY_SIZE(cmd_defs); i++)
        if ((cmd_defs[i].hmp && !strcmp(cmd_defs[i].hmp, name)) ||
            (cmd_defs[i].hmp_alias && !strcmp(cmd_defs[i].hmp_alias, name)))
            return &cmd_defs[i];
    return NULL;
}

static JsonValue *qmp_query_commands(VMControl *vc, const JsonValue *a, CmdError *e)
{
    JsonValue *r = json_array();
    for (size_t i = 0; i < ARRAY_SIZE(cmd_defs); i++) {
        if (!cmd_defs[i].qmp)
            continue;
        JsonValue *c = json_object();
        json_set_str(c, "name", cmd_defs[i].qmp);
        json_append(r, c);
    }
    return r;
}

/* ---- query-qmp-schema (QEMU's SchemaInfo, qapi/introspect.json) ----
 * Built from the table itself: a command's arg-type lists its CmdArg rows,
 * an event's its EventDef members.  Return types are not declared in the
 * table, so every command returns "any". */

static const char *const schema_type_of[] = {
    [ARG_STR] = "str", [ARG_INT] = "int", [ARG_BOOL] = "bool",
    [ARG_NUMBER] = "number", [ARG_OBJECT] = "any", [ARG_ANY] = "any",
};

static JsonValue *schema_entry(const char *name, const char *meta)
{
    JsonValue *o = json_object();
    json_set_str(o, "name", name);
    json_set_str(o, "meta-type", meta);
    return o;
}

static void schema_builtins(JsonValue *r)
{
    static const char *const b[][2] = {
        { "str", "string" }, { "int", "int" }, { "bool", "boolean" },
        { "number", "number" }, { "null", "null" }, { "any", "value" },
    };
    for (size_t i = 0; i < ARRAY_SIZE(b); i++) {
        JsonValue *o = schema_entry(b[i][0], "builtin");
        json_set_str(o, "json-type", b[i][1]);
        json_append(r, o);
    }
}

/* The object type "q_obj_<owner>-arg" with args' members (optional ones
 * with "default": null, as QEMU marks them); "q_empty" when none. */
static const char *schema_object(JsonValue *r, const char *owner, const CmdArg *args,
                                 char *name, size_t len)
{
    if (!args[0].name)
        return "q_empty";
    snprintf(name, len, "q_obj_%s-arg", owner);
    JsonValue *o = schema_entry(name, "object"), *members = json_array();
    for (int k = 0; k < 6 && args[k].name; k++) {
        JsonValue *mb = json_object();
        json_set_str(mb, "name", args[k].name);
        json_set_str(mb, "type", schema_type_of[args[k].type]);
        if (args[k].optional)
            json_set(mb, "default", json_null());
        json_append(members, mb);
    }
    json_set(o, "members", members);
    json_append(r, o);
    return name;
}

static JsonValue *qmp_query_qmp_schema(VMControl *vc, const JsonValue *a, CmdError *e)
{
    JsonValue *r = json_array();
    char tname[96];
    schema_builtins(r);
    JsonValue *empty = schema_entry("q_empty", "object");
    json_set(empty, "members", json_array());
    json_append(r, empty);
    for (size_t i = 0; i < ARRAY_SIZE(cmd_defs); i++) {
        if (!cmd_defs[i].qmp)
            continue;
        const char *t = schema_object(r, cmd_defs[i].qmp, cmd_defs[i].args, tname, sizeof tname);
        JsonValue *c = schema_entry(cmd_defs[i].qmp, "command");
        json_set_str(c, "arg-type", t);
        json_set_str(c, "ret-type", "any");
        json_set_bool(c, "allow-oob", false);
        json_append(r, c);
    }
    for (size_t i = 0; i < ARRAY_SIZE(event_defs); i++) {
        const char *t = schema_object(r, event_defs[i].name, event_defs[i].data, tname, sizeof tname);
        JsonValue *ev = schema_entry(event_defs[i].name, "event");
        json_set_str(ev, "arg-type", t);
        json_append(r, ev);
    }
    return r;
}

static bool type_ok(CmdArgType t, const JsonValue *v)
{
    switch (t) {
    case ARG_STR: return v->type == JSON_STRING;
    case ARG_INT: return v->type == JSON_INT;
    case ARG_BOOL: return v->type == JSON_BOOL;
    case ARG_NUMBER: return v->type == JSON_INT || v->type == JSON_DOUBLE;
    case ARG_OBJECT: return v->type == JSON_OBJECT;
    case ARG_ANY: return true;
    }
    return false;
}

static const char *const type_names[] = { "string", "integer", "boolean", "number", "object", "any" };

JsonValue *cmd_qmp_call(VMControl *vc, const char *name, const JsonValue *args, CmdError *e)
{
    const CmdDef *c = cmd_find_qmp(name);
    e->cls = NULL;
    /* Jobs an earlier command created run before this one (QEMU runs them
     * from its main loop before it reads the next command). */
    snapshot_jobs_run(vc);
    if (!c) {
        cmd_error(e, "CommandNotFound", "The command %s has not been found", name);
        return NULL;
    }
    JsonValue *empty = NULL;
    if (!args)
        args = empty = json_object();
    for (size_t i = 0; i < args->n; i++) {
        const CmdArg *d = NULL;
        for (int k = 0; k < 6 && c->args[k].name && !d; k++)
            if (!strcmp(c->args[k].name, args->keys[i]))
                d = &c->args[k];
        if (!d) {
            cmd_error(e, "GenericError", "Parameter '%s' is unexpected", args->keys[i]);
            goto out;
        }
        if (!type_ok(d->type, args->items[i])) {
            cmd_error(e, "GenericError", "Invalid parameter type for '%s', expected: %s",
                      d->name, type_names[d->type]);
            goto out;
        }
    }
    for (int k = 0; k < 6 && c->args[k].name; k++) {
        if (!c->args[k].optional && !json_get(args, c->args[k].name)) {
            cmd_error(e, "GenericError", "Parameter '%s' is missing", c->args[k].name);
            goto out;
        }
    }
    JsonValue *r = c->run(vc, args, e);
    json_free(empty);
    if (!r && !e->cls)
        cmd_error(e, "GenericError", "%s failed", name);
    return r;
out:
    json_free(empty);
    return NULL;
}

/* ---- the human monitor's side ---- */

#define HMP_MAX_ARGS 16

static void hmp_run_row(VMControl *vc, const CmdDef *c, int argc, char **argv, Text *out)
{
    if (c->hmp_run) {
        c->hmp_run(vc, argc, argv, out);
        return;
    }
    /* Words map onto the QMP arguments in order: strings as given,
     * integers parsed, booleans on|off|true|false. */
    JsonValue *args = json_object();
    for (int i = 1; i < argc; i++) {
        int k = i - 1;
        if (k >= 6 || !c->args[k].name) {
            text_printf(out, "%s: too many arguments\n", argv[0]);
            json_free(args);
            return;
        }
        const CmdArg *d = &c->args[k];
        if (d->type == ARG_INT) {
            char *end;
            long long v = strtoll(argv[i], &end, 0);
            if (*end) {
                text_printf(out, "%s: '%s' is not a number\n", argv[0], argv[i]);
                json_free(args);
                return;
            }
            json_set_int(args, d->name, v);
        } else if (d->type == ARG_BOOL) {
            json_set_bool(args, d->name, !strcmp(argv[i], "on") || !strcmp(argv[i], "true"));
        } else {
            json_set_str(args, d->name, argv[i]);
        }
    }
    CmdError e = { 0 };
    JsonValue *r = cmd_qmp_call(vc, c->qmp, args, &e);
    if (!r)
        text_printf(out, "Error: %s\n", e.desc);
    else if (c->hmp_print)
        c->hmp_print(vc, r, out);
    json_free(r);
    json_free(args);
}

static void hmp_info(VMControl *vc, int argc, char **argv, Text *out)
{
    if (argc < 2) {
        for (size_t i = 0; i < ARRAY_SIZE(cmd_defs); i++)
            if (cmd_defs[i].hmp && !strncmp(cmd_defs[i].hmp, "info ", 5))
                text_printf(out, "%s -- %s\n", cmd_defs[i].hmp, cmd_defs[i].help);
        return;
    }
    char name[64];
    snprintf(name, sizeof name, "info %s", argv[1]);
    const CmdDef *c = cmd_find_hmp(name);
    if (!c) {
        text_printf(out, "info: unknown item '%s' (try 'info')\n", argv[1]);
        return;
    }
    hmp_run_row(vc, c, argc - 1, argv + 1, out);
}

static void hmp_help(VMControl *vc, int argc, char **argv, Text *out)
{
    for (size_t i = 0; i < ARRAY_SIZE(cmd_defs); i++) {
        const CmdDef *c = &cmd_defs[i];
        if (!c->hmp)
            continue;
        if (argc > 1 && strcmp(argv[1], c->hmp) && !(c->hmp_alias && !strcmp(argv[1], c->hmp_alias)))
            continue;
        const char *p = c->hmp_params ? c->hmp_params : "";
        text_printf(out, "%s%s%s%s%s -- %s\n", c->hmp, c->hmp_alias ? "|" : "",
                    c->hmp_alias ? c->hmp_alias : "", *p ? " " : "", p, c->help);
    }
}

void cmd_hmp_line(VMControl *vc, const char *line, Text *out)
{
    vc->secret_fn = NULL;         /* only the command run here may ask */
    /* Words split at blanks; "double quotes" keep blanks (migrate
     * "exec:cat > FILE"), backslash escapes the next character in them. */
    char *copy = xmalloc(strlen(line) + 1), *argv[HMP_MAX_ARGS], *w = copy;
    int argc = 0;
    for (const char *p = line; *p && argc < HMP_MAX_ARGS;) {
        while (*p == ' ' || *p == '\t')
            p++;
        if (!*p)
            break;
        argv[argc++] = w;
        bool quoted = false;
        for (; *p && (quoted || (*p != ' ' && *p != '\t')); p++) {
            if (*p == '"')
                quoted = !quoted;
            else if (quoted && *p == '\\' && p[1])
                *w++ = *++p;
            else
                *w++ = *p;
        }
        *w++ = '\0';
    }
    if (argc > 0) {
        /* "x/10xb" and "p/x" carry their format glued to the name. */
        char name[32];
        snprintf(name, sizeof name, "%.*s", (int)strcspn(argv[0], "/"), argv[0]);
        const CmdDef *c = cmd_find_hmp(name);
        if (!c || !strncmp(c->hmp, "info ", 5)) {
            text_printf(out, "unknown command: '%s'\n", argv[0]);
        } else if (strchr(argv[0], '/') && (!strcmp(name, "x") || !strcmp(name, "xp"))) {
            /* split "x/10xb" into "x" "/10xb" */
            char *split[HMP_MAX_ARGS + 1];
            char *slash = strchr(argv[0], '/');
            split[0] = name;
            split[1] = slash;
            for (int i = 1; i < argc; i++)
                split[i + 1] = argv[i];
            hmp_run_row(vc, c, argc + 1, split, out);
        } else {
            hmp_run_row(vc, c, argc, argv, out);
        }
    }
    free(copy);
}

static JsonValue *qmp_hmp_command(VMControl *vc, const JsonValue *a, CmdError *e)
{
    Text out = { 0 };
    text_printf(&out, "%s", "");
    cmd_hmp_line(vc, json_get_string(a, "command-line"), &out);
    if (vc->secret_fn) {
        /* Nobody here to ask. */
        vc->secret_fn = NULL;
        text_printf(&out, "this command asks for a secret: give it as an argument here\n");
    }
    /* Only valid UTF-8 goes into JSON strings. */
    if (!json_utf8_valid(out.data, out.len)) {
        for (size_t i = 0; i < out.len; i++)
            if ((unsigned char)out.data[i] >= 0x80)
                out.data[i] = '?';
    }
    JsonValue *r = json_string(out.data);
    text_free(&out);
    return r;
}
