/*
 * Whole-VM snapshots inside the VM's qcow2 disks, as QEMU's savevm:
 *
 *   savevm [TAG] / loadvm TAG / delvm TAG / info snapshots   (human monitor)
 *   snapshot-save / snapshot-load / snapshot-delete           (QMP jobs, QEMU 6+)
 *   query-jobs, job-dismiss                                   (their jobs)
 *   -loadvm TAG                                               (start-up)
 *
 * savevm stops the VM, finishes the disks' requests in flight and flushes
 * them, writes the VM (the stream of core/migration.c: RAM, CPU, devices,
 * the clock and its timers) into the VM state area of one qcow2 drive (the
 * first writable one, or snapshot-save's vmstate node), then takes an
 * internal snapshot with the same tag of every writable drive (the VM state
 * drive's records vm_state_size) and resumes.  A writable drive that cannot
 * hold snapshots (raw, a -snapshot overlay) makes it fail before anything
 * changes; read-only drives and CD-ROMs are left out, as QEMU does.
 *
 * loadvm checks that every drive has the tag, reads and checks the whole
 * VM state (CRC, every record, the device sections) before anything
 * changes, so a damaged snapshot leaves the VM running as it was; then it
 * reverts every drive, loads the state and resumes if the VM was running.
 *
 * The stream is vx86's own (QEMU cannot load it); the qcow2 side
 * (snapshot table, VM state offset and size) is QEMU's, so qemu-img lists
 * and checks the images.
 */
#ifndef VX86_CORE_SNAPSHOT_H
#define VX86_CORE_SNAPSHOT_H

#include <stdbool.h>
#include <stddef.h>

#include "core/commands.h"

/* -loadvm TAG before the machine runs (the accelerator is set): 0, or -1
 * with one line in err. */
int snapshot_load_startup(VMControl *vc, const char *tag, char *err, size_t errlen);

/* Runs the snapshot jobs created by earlier QMP commands (they start
 * after their command's reply, before the next command, as QEMU's). */
void snapshot_jobs_run(VMControl *vc);
void snapshot_jobs_free(VMControl *vc);

/* The command table's handlers (core/commands.c lists them). */
void hmp_savevm(VMControl *vc, int argc, char **argv, Text *out);
void hmp_loadvm(VMControl *vc, int argc, char **argv, Text *out);
void hmp_delvm(VMControl *vc, int argc, char **argv, Text *out);
void hmp_info_snapshots(VMControl *vc, int argc, char **argv, Text *out);
JsonValue *qmp_snapshot_save(VMControl *vc, const JsonValue *args, CmdError *e);
JsonValue *qmp_snapshot_load(VMControl *vc, const JsonValue *args, CmdError *e);
JsonValue *qmp_snapshot_delete(VMControl *vc, const JsonValue *args, CmdError *e);
JsonValue *qmp_query_jobs(VMControl *vc, const JsonValue *args, CmdError *e);
JsonValue *qmp_job_dismiss(VMControl *vc, const JsonValue *args, CmdError *e);

#endif
