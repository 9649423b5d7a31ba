/*
 * Whole-VM snapshots (see snapshot.h): the drives a snapshot covers,
 * savevm / loadvm / delvm, `info snapshots`, the QMP snapshot jobs and
 * -loadvm.  Messages are QEMU's where QEMU has one.
 */
#include "core/snapshot.h"

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <time.h>
#include <unistd.h>

#include "block/block.h"
#include "core/migration.h"
#include "core/util.h"

#define SNAP_MAX_DRIVES 32

/* ---- the drives a snapshot covers ---- */

typedef struct SnapDrive {
    char name[32];              /* QEMU's device name, also our node name */
    BlockBackend *bb;
    bool ro;
} SnapDrive;

typedef struct SnapSet {
    SnapDrive d[SNAP_MAX_DRIVES];
    int n;
    int vm;                     /* the drive holding the VM state (index in d) */
} SnapSet;

/* Every drive with a medium. */
static int all_drives(VMControl *vc, SnapDrive *out)
{
    MonDriveInfo di;
    int n = 0;
    for (int i = 0; vc->hooks.drive_info && n < SNAP_MAX_DRIVES &&
                    vc->hooks.drive_info(vc->hooks.opaque, i, &di); i++) {
        if (!di.inserted || !di.bb)
            continue;
        snprintf(out[n].name, sizeof out[n].name, "%s", di.device);
        out[n].bb = di.bb;
        out[n].ro = di.ro;
        n++;
    }
    return n;
}

/* The drives a snapshot covers: the devices named (QMP), or every
 * writable drive (a CD-ROM or read-only drive is left out, as QEMU
 * does); each must be able to hold a snapshot. */
static bool select_drives(VMControl *vc, const JsonValue *devices, SnapSet *set, CmdError *e)
{
    SnapDrive all[SNAP_MAX_DRIVES];
    int nall = all_drives(vc, all);
    set->n = 0;
    set->vm = -1;
    if (devices) {
        if (!devices->n) {
            cmd_error(e, "GenericError", "At least one device is required for snapshot");
            return false;
        }
        for (size_t k = 0; k < devices->n; k++) {
            const char *name = devices->items[k]->s;
            int found = -1;
            for (int i = 0; i < nall && found < 0; i++)
                if (!strcmp(all[i].name, name))
                    found = i;
            if (found < 0) {
                cmd_error(e, "GenericError", "No block device node '%s'", name);
                return false;
            }
            bool dup = false;
            for (int i = 0; i < set->n; i++)
                dup |= set->d[i].bb == all[found].bb;
            if (!dup)
                set->d[set->n++] = all[found];
        }
    } else {
        for (int i = 0; i < nall; i++)
            if (!all[i].ro)
                set->d[set->n++] = all[i];
    }
    for (int i = 0; i < set->n; i++) {
        if (!blk_can_snapshot(set->d[i].bb)) {
            cmd_error(e, "GenericError", "Device '%s' is writable but does not support snapshots",
                      set->d[i].name);
            return false;
        }
    }
    return true;
}

/* The drive that holds the VM state: vmstate (QMP) or the first one. */
static bool pick_vmstate(SnapSet *set, const char *vmstate, CmdError *e)
{
    if (!vmstate) {
        if (!set->n) {
            cmd_error(e, "GenericError", "no block device can store vmstate for snapshot");
            return false;
        }
        set->vm = 0;
        return true;
    }
    for (int i = 0; i < set->n; i++) {
        if (!strcmp(set->d[i].name, vmstate)) {
            set->vm = i;
            return true;
        }
    }
    cmd_error(e, "GenericError", "vmstate block device '%s' does not exist", vmstate);
    return false;
}

/* ---- the VM state area as a stream ---- */

typedef struct VmstateIO {
    BlockBackend *bb;
    const char *tag;            /* load: the snapshot */
    uint64_t pos, size;
} VmstateIO;

static int vmstate_sink(void *opaque, const void *buf, size_t len)
{
    VmstateIO *io = opaque;
    int r = blk_vmstate_save(io->bb, io->pos, buf, len);
    if (r == 0)
        io->pos += len;
    return r;
}

static ssize_t vmstate_source(void *opaque, void *buf, size_t len)
{
    VmstateIO *io = opaque;
    size_t n = (size_t)MIN((uint64_t)len, io->size - io->pos);
    if (!n)
        return 0;
    int r = blk_vmstate_load(io->bb, io->tag, io->pos, buf, n);
    if (r < 0)
        return r;
    io->pos += n;
    return (ssize_t)n;
}

/* ---- holding the VM still ---- */

typedef struct Hold {
    bool was_running;
    const char *reason;         /* run_reason before */
} Hold;

/* Stops the VM (STOP, status reason) and finishes every disk request in
 * flight: their data and the devices waiting for them settle first. */
static Hold vm_hold(VMControl *vc, const char *reason)
{
    Hold h = { vc->m->state == RUN_RUNNING, vc->run_reason };
    if (h.was_running) {
        vc->run_reason = reason;
        machine_pause(vc->m);
    }
    if (vc->hooks.drain_io)
        vc->hooks.drain_io(vc->hooks.opaque);
    return h;
}

static void vm_release(VMControl *vc, Hold h)
{
    if (h.was_running) {
        vc->run_reason = NULL;
        machine_resume(vc->m);
    } else {
        vc->run_reason = h.reason;
    }
}

/* A snapshot needs a VM that runs or is paused, and no migration. */
static bool vm_ready(VMControl *vc, CmdError *e)
{
    if (vc->sandbox) {
        cmd_error(e, "GenericError", "snapshots: no host files in this sandbox");
        return false;
    }
    if (migration_active(vc)) {
        cmd_error(e, "GenericError", "There's a migration process in progress");
        return false;
    }
    RunState st = vc->m->state;
    if (st != RUN_RUNNING && st != RUN_PAUSED) {
        cmd_error(e, "GenericError", "the VM is not in a state for snapshots (%s)",
                  vmcontrol_status(vc));
        return false;
    }
    if (vc->run_reason && !strcmp(vc->run_reason, "internal-error")) {
        cmd_error(e, "GenericError", "the VM cannot run: its state is incomplete");
        return false;
    }
    if (vc->run_reason && (!strcmp(vc->run_reason, "inmigrate") ||
                           !strcmp(vc->run_reason, "postmigrate"))) {
        cmd_error(e, "GenericError", "the disks belong to the other side of a migration (%s)",
                  vc->run_reason);
        return false;
    }
    return true;
}

/* ---- save, load, delete ---- */

static void snapshot_now(VMControl *vc, const char *tag, BlockSnapshotInfo *sn)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    memset(sn, 0, sizeof(*sn));
    snprintf(sn->name, sizeof sn->name, "%s", tag);
    sn->date_sec = (uint32_t)ts.tv_sec;
    sn->date_nsec = (uint32_t)(ts.tv_nsec / 1000 * 1000);     /* QEMU keeps microseconds */
    int64_t clk = clock_now(vc->m->clock);
    sn->vm_clock_nsec = clk > 0 ? (uint64_t)clk : 0;
    sn->icount = UINT64_MAX;
}

static bool tag_ok(const char *tag, CmdError *e)
{
    if (strlen(tag) >= sizeof(((BlockSnapshotInfo *)0)->name)) {
        cmd_error(e, "GenericError", "Snapshot name '%.32s...' is too long (255 bytes at most)", tag);
        return false;
    }
    return true;
}

/* Deletes tag from every drive of set that has it. */
static bool delete_tag(const SnapSet *set, const char *tag, CmdError *e)
{
    for (int i = 0; i < set->n; i++) {
        char err[512];
        if (!blk_snapshot_find(set->d[i].bb, tag, NULL))
            continue;
        if (blk_snapshot_delete(set->d[i].bb, tag, err, sizeof err) < 0) {
            cmd_error(e, "GenericError", "Could not delete snapshot '%s' on '%s': %s", tag,
                      set->d[i].name, err);
            return false;
        }
    }
    return true;
}

/* Writes the VM state and snapshots every drive of set (the VM is held). */
static bool save_into(VMControl *vc, const SnapSet *set, const char *tag, CmdError *e)
{
    char err[512];
    BlockBackend *vmbb = set->d[set->vm].bb;
    for (int i = 0; i < set->n; i++) {
        int r = blk_flush(set->d[i].bb);
        if (r < 0) {
            cmd_error(e, "GenericError", "Could not flush '%s': %s", set->d[i].name, strerror(-r));
            return false;
        }
    }
    BlockSnapshotInfo sn;
    snapshot_now(vc, tag, &sn);
    blk_vmstate_drop(vmbb);                  /* a stale copy would be copied-on-write */
    VmstateIO io = { .bb = vmbb };
    int64_t size = migration_save_to(vc, vmstate_sink, &io, 0, err, sizeof err);
    if (size < 0) {
        blk_vmstate_drop(vmbb);
        cmd_error(e, "GenericError", "Error while writing VM state: %s", err);
        return false;
    }
    for (int i = 0; i < set->n; i++) {
        sn.vm_state_size = i == set->vm ? (uint64_t)size : 0;
        if (blk_snapshot_create(set->d[i].bb, &sn, err, sizeof err) < 0) {
            cmd_error(e, "GenericError", "Could not create snapshot '%s' on '%s': %s", tag,
                      set->d[i].name, err);
            CmdError ignored = { 0 };
            delete_tag(set, tag, &ignored);
            blk_vmstate_drop(vmbb);
            return false;
        }
    }
    /* The snapshot keeps the VM state; the running disk needs none. */
    blk_vmstate_drop(vmbb);
    return true;
}

/* overwrite: an existing snapshot with that tag is replaced (savevm);
 * otherwise it is an error (snapshot-save). */
static bool do_save(VMControl *vc, const char *tag, bool overwrite, const JsonValue *devices,
                    const char *vmstate, CmdError *e)
{
    SnapSet set;
    if (!vm_ready(vc, e) || !tag_ok(tag, e) || !select_drives(vc, devices, &set, e))
        return false;
    if (overwrite) {
        /* Snapshot changes never run beside disk requests in flight. */
        if (vc->hooks.drain_io)
            vc->hooks.drain_io(vc->hooks.opaque);
        if (!delete_tag(&set, tag, e))
            return false;
    } else {
        for (int i = 0; i < set.n; i++) {
            if (blk_snapshot_find(set.d[i].bb, tag, NULL)) {
                cmd_error(e, "GenericError", "Snapshot '%s' already exists in one or more devices",
                          tag);
                return false;
            }
        }
    }
    if (!pick_vmstate(&set, vmstate, e))
        return false;
    Hold h = vm_hold(vc, "save-vm");
    bool ok = save_into(vc, &set, tag, e);
    vm_release(vc, h);
    return ok;
}

/* Every drive of set has a snapshot named tag. */
static bool tag_everywhere(const SnapSet *set, const char *tag, CmdError *e)
{
    for (int i = 0; i < set->n; i++) {
        if (!blk_snapshot_find(set->d[i].bb, tag, NULL)) {
            cmd_error(e, "GenericError", "Snapshot '%s' does not exist in one or more devices", tag);
            return false;
        }
    }
    return true;
}

/* The VM state drive's snapshot has a VM state: where to read it. */
static bool vmstate_of(const SnapSet *set, const char *tag, VmstateIO *io, CmdError *e)
{
    BlockSnapshotInfo sn;
    if (!blk_snapshot_find(set->d[set->vm].bb, tag, &sn) || !sn.vm_state_size) {
        /* QEMU's words, its double space included. */
        cmd_error(e, "GenericError", "This is a disk-only snapshot. Revert to it  offline using qemu-img");
        return false;
    }
    *io = (VmstateIO){ .bb = set->d[set->vm].bb, .tag = tag, .size = sn.vm_state_size };
    return true;
}

/* Reads the whole VM state and checks it (records, CRC, the device
 * sections): nothing changes yet. */
static bool load_stream_checked(VMControl *vc, VmstateIO io, CmdError *e)
{
    char err[512];
    if (migration_load_from(vc->m, vmstate_source, &io, false, err, sizeof err) < 0) {
        cmd_error(e, "GenericError", "Error while loading VM state: %s", err);
        return false;
    }
    return true;
}

/* Reverts the drives and loads the state (the VM is held).  A failure
 * here leaves the VM unable to run: the drives or RAM changed. */
static bool load_apply(VMControl *vc, const SnapSet *set, const char *tag, VmstateIO io,
                       CmdError *e)
{
    char err[512];
    for (int i = 0; i < set->n; i++) {
        if (blk_snapshot_goto(set->d[i].bb, tag, err, sizeof err) < 0) {
            cmd_error(e, "GenericError", "Could not load snapshot '%s' on '%s': %s", tag,
                      set->d[i].name, err);
            return false;
        }
    }
    if (migration_load_from(vc->m, vmstate_source, &io, true, err, sizeof err) < 0) {
        cmd_error(e, "GenericError", "Error while loading VM state: %s", err);
        return false;
    }
    return true;
}

static bool do_load(VMControl *vc, const char *tag, const JsonValue *devices,
                    const char *vmstate, CmdError *e)
{
    SnapSet set;
    VmstateIO io;
    if (!vm_ready(vc, e) || !select_drives(vc, devices, &set, e) ||
        !tag_everywhere(&set, tag, e) || !pick_vmstate(&set, vmstate, e) ||
        !vmstate_of(&set, tag, &io, e))
        return false;
    Hold h = vm_hold(vc, "restore-vm");
    if (!load_stream_checked(vc, io, e)) {
        vm_release(vc, h);                  /* nothing changed: carry on */
        return false;
    }
    if (!load_apply(vc, &set, tag, io, e)) {
        vc->run_reason = "internal-error";
        fprintf(stderr, "vx86: loadvm: %s\n", e->desc);
        return false;
    }
    vm_release(vc, h);
    return true;
}

static bool do_delete(VMControl *vc, const char *tag, const JsonValue *devices, CmdError *e)
{
    SnapSet set;
    if (!vm_ready(vc, e) || !select_drives(vc, devices, &set, e))
        return false;
    /* The guest does not run during this command, and nothing it asked
     * for earlier may still be in flight while the tree changes. */
    if (vc->hooks.drain_io)
        vc->hooks.drain_io(vc->hooks.opaque);
    return delete_tag(&set, tag, e);
}

int snapshot_load_startup(VMControl *vc, const char *tag, char *err, size_t errlen)
{
    CmdError e = { 0 };
    SnapSet set;
    VmstateIO io;
    bool ok = select_drives(vc, NULL, &set, &e) && tag_everywhere(&set, tag, &e) &&
              pick_vmstate(&set, NULL, &e) && vmstate_of(&set, tag, &io, &e) &&
              load_stream_checked(vc, io, &e) && load_apply(vc, &set, tag, io, &e);
    if (!ok)
        snprintf(err, errlen, "%s", e.desc);
    return ok ? 0 : -1;
}

/* ---- the human monitor ---- */

void hmp_savevm(VMControl *vc, int argc, char **argv, Text *out)
{
    char autoname[64];
    const char *tag = argc > 1 ? argv[1] : NULL;
    if (!tag) {
        /* QEMU's name for an unnamed snapshot: vm-YYYYMMDDHHMMSS. */
        time_t t = time(NULL);
        struct tm tm;
        localtime_r(&t, &tm);
        strftime(autoname, sizeof autoname, "vm-%Y%m%d%H%M%S", &tm);
        tag = autoname;
    }
    CmdError e = { 0 };
    if (!do_save(vc, tag, true, NULL, NULL, &e))
        text_printf(out, "Error: %s\n", e.desc);
}

void hmp_loadvm(VMControl *vc, int argc, char **argv, Text *out)
{
    CmdError e = { 0 };
    if (argc < 2)
        text_printf(out, "Error: Parameter 'name' is missing\n");
    else if (!do_load(vc, argv[1], NULL, NULL, &e))
        text_printf(out, "Error: %s\n", e.desc);
}

void hmp_delvm(VMControl *vc, int argc, char **argv, Text *out)
{
    CmdError e = { 0 };
    if (argc < 2)
        text_printf(out, "Error: Parameter 'name' is missing\n");
    else if (!do_delete(vc, argv[1], NULL, &e))
        text_printf(out, "Error: %s\n", e.desc);
}

static void print_row(Text *out, const BlockSnapshotInfo *sn, const char *id)
{
    char row[512];
    blk_snapshot_row(sn, id, row, sizeof row);
    text_printf(out, "%s\n", row);
}

static bool on_drive(const BlockSnapshotInfo *l, int n, const char *name)
{
    for (int i = 0; i < n; i++)
        if (!strcmp(l[i].name, name))
            return true;
    return false;
}

/* Snapshots on every drive (loadable, ID "--"), then per drive those
 * that are not (QEMU's "partial" lists). */
void hmp_info_snapshots(VMControl *vc, int argc, char **argv, Text *out)
{
    SnapDrive all[SNAP_MAX_DRIVES], d[SNAP_MAX_DRIVES];
    int nall = all_drives(vc, all), n = 0, total = 0;
    for (int i = 0; i < nall; i++)
        if (!all[i].ro && blk_can_snapshot(all[i].bb))
            d[n++] = all[i];
    bool writable = false;
    for (int i = 0; i < nall; i++)
        writable |= !all[i].ro;
    if (!writable) {
        text_printf(out, "no block device can store vmstate for snapshot\n");
        return;
    }
    BlockSnapshotInfo *l[SNAP_MAX_DRIVES];
    int cnt[SNAP_MAX_DRIVES];
    for (int i = 0; i < n; i++) {
        cnt[i] = blk_snapshot_list(d[i].bb, &l[i]);
        if (cnt[i] < 0)
            cnt[i] = 0;
        total += cnt[i];
    }
    if (!total) {
        text_printf(out, "There is no snapshot available.\n");
    } else {
        text_printf(out, "List of snapshots present on all disks:\n");
        print_row(out, NULL, NULL);
        int shown = 0;
        for (int k = 0; n && k < cnt[0]; k++) {
            bool everywhere = true;
            for (int i = 1; i < n && everywhere; i++)
                everywhere = on_drive(l[i], cnt[i], l[0][k].name);
            if (everywhere) {
                print_row(out, &l[0][k], "--");
                shown++;
            }
        }
        if (!shown)
            text_printf(out, "None\n");
        for (int i = 0; i < n; i++) {
            bool header = false;
            for (int k = 0; k < cnt[i]; k++) {
                bool everywhere = true;
                for (int j = 0; j < n && everywhere; j++)
                    everywhere = on_drive(l[j], cnt[j], l[i][k].name);
                if (everywhere)
                    continue;
                if (!header) {
                    text_printf(out, "\nList of partial (non-loadable) snapshots on '%s':\n",
                                d[i].name);
                    print_row(out, NULL, NULL);
                    header = true;
                }
                print_row(out, &l[i][k], NULL);
            }
        }
    }
    for (int i = 0; i < n; i++)
        free(l[i]);
}

/* ---- QMP jobs ----
 *
 * A job is created by its command (JOB_STATUS_CHANGE "created"), runs
 * once the command's reply went out (from the main loop, or before the
 * next command, whichever comes first: QEMU's order), goes through
 * running -> waiting -> pending -> concluded, or running -> aborting ->
 * concluded with the error in query-jobs, and stays until job-dismiss
 * ("null"), as QEMU's snapshot jobs, which are not dismissed on their own.
 */

typedef struct SnapJob SnapJob;

typedef struct JobKind {
    const char *type;           /* query-jobs "type", and the command */
    bool (*run)(VMControl *vc, const SnapJob *j, CmdError *e);
} JobKind;

struct SnapJob {
    char *id;
    const JobKind *kind;
    char *tag, *vmstate;
    JsonValue *devices;
    const char *status;
    char *error;
    SnapJob *next;
};

typedef struct SnapshotJobs {
    VMControl *vc;
    int efd;                    /* readable: a job waits to run */
    SnapJob *head;              /* oldest first */
    bool running;
} SnapshotJobs;

static bool run_save(VMControl *vc, const SnapJob *j, CmdError *e)
{
    return do_save(vc, j->tag, false, j->devices, j->vmstate, e);
}

static bool run_load(VMControl *vc, const SnapJob *j, CmdError *e)
{
    return do_load(vc, j->tag, j->devices, j->vmstate, e);
}

static bool run_delete(VMControl *vc, const SnapJob *j, CmdError *e)
{
    return do_delete(vc, j->tag, j->devices, e);
}

static const JobKind job_kinds[] = {
    { "snapshot-save", run_save },
    { "snapshot-load", run_load },
    { "snapshot-delete", run_delete },
};

static void job_status(VMControl *vc, SnapJob *j, const char *status)
{
    j->status = status;
    JsonValue *d = json_object();
    json_set_str(d, "status", status);
    json_set_str(d, "id", j->id);
    vmcontrol_emit(vc, "JOB_STATUS_CHANGE", d);
}

static int jobs_fd(void *opaque)
{
    return ((SnapshotJobs *)opaque)->efd;
}

static void jobs_readable(void *opaque)
{
    SnapshotJobs *js = opaque;
    uint64_t v;
    if (read(js->efd, &v, sizeof v) < 0 && errno != EAGAIN)
        return;
    snapshot_jobs_run(js->vc);
}

static SnapshotJobs *jobs_get(VMControl *vc)
{
    if (!vc->jobs) {
        vc->jobs = xcalloc(1, sizeof(SnapshotJobs));
        vc->jobs->vc = vc;
        vc->jobs->efd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
        if (vc->jobs->efd >= 0)
            machine_watch_fd(vc->m, jobs_fd, jobs_readable, vc->jobs);
    }
    return vc->jobs;
}

void snapshot_jobs_run(VMControl *vc)
{
    SnapshotJobs *js = vc->jobs;
    if (!js || js->running)
        return;
    js->running = true;
    for (SnapJob *j = js->head; j; j = j->next) {
        if (strcmp(j->status, "created"))
            continue;
        job_status(vc, j, "running");
        CmdError e = { 0 };
        if (j->kind->run(vc, j, &e)) {
            job_status(vc, j, "waiting");
            job_status(vc, j, "pending");
        } else {
            j->error = xstrdup(e.desc);
            job_status(vc, j, "aborting");
        }
        job_status(vc, j, "concluded");
    }
    js->running = false;
}

static void job_free(SnapJob *j)
{
    free(j->id);
    free(j->tag);
    free(j->vmstate);
    json_free(j->devices);
    free(j->error);
    free(j);
}

void snapshot_jobs_free(VMControl *vc)
{
    SnapshotJobs *js = vc->jobs;
    if (!js)
        return;
    machine_unwatch_fd(vc->m, js);
    if (js->efd >= 0)
        close(js->efd);
    while (js->head) {
        SnapJob *j = js->head;
        js->head = j->next;
        job_free(j);
    }
    free(js);
    vc->jobs = NULL;
}

/* QEMU's job IDs: a letter, then letters, digits, '-', '.', '_'. */
static bool id_wellformed(const char *id)
{
    if (!((*id >= 'a' && *id <= 'z') || (*id >= 'A' && *id <= 'Z')))
        return false;
    for (const char *p = id + 1; *p; p++)
        if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') ||
              *p == '-' || *p == '.' || *p == '_'))
            return false;
    return true;
}

static SnapJob *job_find(SnapshotJobs *js, const char *id)
{
    for (SnapJob *j = js ? js->head : NULL; j; j = j->next)
        if (!strcmp(j->id, id))
            return j;
    return NULL;
}

static JsonValue *job_start(VMControl *vc, const JobKind *kind, const JsonValue *a, CmdError *e)
{
    const char *id = json_get_string(a, "job-id");
    const JsonValue *devices = json_get(a, "devices");
    if (devices->type != JSON_ARRAY) {
        cmd_error(e, "GenericError", "Invalid parameter type for 'devices', expected: array");
        return NULL;
    }
    for (size_t k = 0; k < devices->n; k++) {
        if (devices->items[k]->type != JSON_STRING) {
            cmd_error(e, "GenericError", "Invalid parameter type for 'devices[%zu]', expected: string",
                      k);
            return NULL;
        }
    }
    if (!id_wellformed(id)) {
        cmd_error(e, "GenericError", "Invalid job ID '%s'", id);
        return NULL;
    }
    if (job_find(vc->jobs, id)) {
        cmd_error(e, "GenericError", "Job ID '%s' already in use", id);
        return NULL;
    }
    if (vc->sandbox) {
        cmd_error(e, "GenericError", "snapshots: no host files in this sandbox");
        return NULL;
    }
    SnapshotJobs *js = jobs_get(vc);
    SnapJob *j = xcalloc(1, sizeof(*j));
    j->id = xstrdup(id);
    j->kind = kind;
    j->tag = xstrdup(json_get_string(a, "tag"));
    const char *vmstate = json_get_string(a, "vmstate");
    j->vmstate = vmstate ? xstrdup(vmstate) : NULL;
    j->devices = json_copy(devices);
    SnapJob **tail = &js->head;
    while (*tail)
        tail = &(*tail)->next;
    *tail = j;
    job_status(vc, j, "created");
    uint64_t one = 1;
    if (js->efd < 0 || write(js->efd, &one, sizeof one) < 0) {
        /* No main-loop wake-up: it runs before the next command. */
    }
    return json_object();
}

JsonValue *qmp_snapshot_save(VMControl *vc, const JsonValue *args, CmdError *e)
{
    return job_start(vc, &job_kinds[0], args, e);
}

JsonValue *qmp_snapshot_load(VMControl *vc, const JsonValue *args, CmdError *e)
{
    return job_start(vc, &job_kinds[1], args, e);
}

JsonValue *qmp_snapshot_delete(VMControl *vc, const JsonValue *args, CmdError *e)
{
    return job_start(vc, &job_kinds[2], args, e);
}

JsonValue *qmp_query_jobs(VMControl *vc, const JsonValue *args, CmdError *e)
{
    JsonValue *r = json_array();
    SnapJob *order[256];
    int n = 0;
    for (SnapJob *j = vc->jobs ? vc->jobs->head : NULL; j && n < 256; j = j->next)
        order[n++] = j;
    /* Newest first, as QEMU lists them. */
    while (n--) {
        SnapJob *j = order[n];
        bool done = !strcmp(j->status, "concluded");
        JsonValue *o = json_object();
        json_set_int(o, "current-progress", done ? 1 : 0);
        json_set_str(o, "status", j->status);
        json_set_int(o, "total-progress", done ? 1 : 0);
        json_set_str(o, "type", j->kind->type);
        json_set_str(o, "id", j->id);
        if (j->error)
            json_set_str(o, "error", j->error);
        json_append(r, o);
    }
    return r;
}

JsonValue *qmp_job_dismiss(VMControl *vc, const JsonValue *args, CmdError *e)
{
    const char *id = json_get_string(args, "id");
    SnapJob *j = job_find(vc->jobs, id);
    if (!j) {
        cmd_error(e, "GenericError", "Job not found");
        return NULL;
    }
    if (strcmp(j->status, "concluded")) {
        cmd_error(e, "GenericError", "Job '%s' in state '%s' cannot accept command verb 'dismiss'",
                  j->id, j->status);
        return NULL;
    }
    job_status(vc, j, "null");
    SnapJob **pp = &vc->jobs->head;
    while (*pp != j)
        pp = &(*pp)->next;
    *pp = j->next;
    job_free(j);
    return json_object();
}
