/*
 * Saving a whole VM to a stream and loading it back: `migrate URI` on the
 * source, `-incoming URI` / `migrate-incoming` on the destination, where
 * URI is file:PATH, exec:CMD (the stream is CMD's stdin / stdout),
 * tcp:HOST:PORT or unix:PATH.
 *
 * The stream (little-endian):
 *
 *   header   "VX86MIG\n", u32 format version, u32 page size (4096),
 *            u64 RAM size, u32 flags (0)
 *   records  u8 type, then
 *              MIG_ZERO  u64 first page, u32 count: pages of zeros
 *              MIG_RAW   u64 page, 4096 bytes
 *              MIG_ZLIB  u64 page, u32 length, zlib data (4096 bytes inflated)
 *              MIG_STATE u32 length, the device/CPU stream (core/vmstate.c:
 *                        machine_save_devices, itself checked by CRC)
 *   trailer  u8 MIG_END, u32 CRC-32 of every byte before it
 *
 * A page may come more than once (later copies win), so an iterative
 * sender can resend what the guest dirtied.  Loading writes RAM as it goes
 * but applies the device state only after the trailer checked; any
 * problem leaves the destination refusing to run, with one line saying
 * why (the source is left as it was: running, or paused after a completed
 * migration, as QEMU does: `cont` resumes it).
 *
 * Saving stops the VM for the whole transfer (no pre-copy yet): the
 * `migrate` command returns when it is complete.
 */
#ifndef VX86_CORE_MIGRATION_H
#define VX86_CORE_MIGRATION_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "core/commands.h"

#define MIG_MAGIC "VX86MIG\n"
#define MIG_VERSION 1
#define MIG_PAGE_SIZE 4096

enum { MIG_ZERO = 1, MIG_RAW = 2, MIG_ZLIB = 3, MIG_STATE = 4, MIG_END = 0x7e };

/* Where a stream goes to / comes from when it is not a file descriptor
 * (whole-VM snapshots: a disk image's VM state area).  A sink takes the
 * whole buffer: 0 or -errno; a source returns the bytes it put in buf,
 * 0 at the end, < 0 on an error. */
typedef int (*MigSink)(void *opaque, const void *buf, size_t len);
typedef ssize_t (*MigSource)(void *opaque, void *buf, size_t len);

/* Writes the whole VM to fd (the VM must not be running).  compress:
 * zlib level 1-9, 0 for raw pages.  Returns bytes written, -1 with err. */
int64_t migration_save_fd(VMControl *vc, int fd, int compress, char *err, size_t errlen);

/* Loads a stream from fd into the machine (the accelerator must be set:
 * the CPU section goes through it).  0, or -1 with one line in err. */
int migration_load_fd(Machine *m, int fd, char *err, size_t errlen);
/* The same from memory (fuzzing). */
int migration_load_buf(Machine *m, const uint8_t *data, size_t len, char *err, size_t errlen);
/* Reads and checks a whole stream (records, pages that inflate, the
 * CRC-32, the device state's structure) and changes nothing: a stream
 * that passes loads (barring a device's post_load refusal or an I/O
 * error on the second read). */
int migration_check_buf(Machine *m, const uint8_t *data, size_t len, char *err, size_t errlen);
/* The same on a sink/source: save returns the stream's size; load with
 * apply false only checks. */
int64_t migration_save_to(VMControl *vc, MigSink sink, void *opaque, int compress,
                          char *err, size_t errlen);
int migration_load_from(Machine *m, MigSource src, void *opaque, bool apply,
                        char *err, size_t errlen);
/* A migration is being sent or awaited: snapshots must wait. */
bool migration_active(VMControl *vc);
/* Hands the machine's disks over (active=false) or takes them
 * (blk_set_active); false with one line in err. */
bool migration_drives_active(VMControl *vc, bool active, char *err, size_t errlen);

/* -incoming URI at start-up: "defer" waits for migrate-incoming; others
 * are loaded by the main loop before the guest runs.  false with err
 * when the URI cannot be opened. */
bool migration_incoming_start(VMControl *vc, const char *uri, char *err, size_t errlen);

/* The command table's handlers (core/commands.c lists them). */
JsonValue *qmp_migrate(VMControl *vc, const JsonValue *args, CmdError *e);
JsonValue *qmp_migrate_incoming(VMControl *vc, const JsonValue *args, CmdError *e);
JsonValue *qmp_migrate_cancel(VMControl *vc, const JsonValue *args, CmdError *e);
JsonValue *qmp_query_migrate(VMControl *vc, const JsonValue *args, CmdError *e);
JsonValue *qmp_migrate_set_parameters(VMControl *vc, const JsonValue *args, CmdError *e);
JsonValue *qmp_query_migrate_parameters(VMControl *vc, const JsonValue *args, CmdError *e);
void hmp_info_migrate(VMControl *vc, const JsonValue *ret, Text *out);
void hmp_migrate_set_parameter(VMControl *vc, int argc, char **argv, Text *out);
JsonValue *qmp_migrate_set_capabilities(VMControl *vc, const JsonValue *args, CmdError *e);
JsonValue *qmp_query_migrate_capabilities(VMControl *vc, const JsonValue *args, CmdError *e);
void hmp_migrate_capabilities(VMControl *vc, const JsonValue *ret, Text *out);
void hmp_migrate_set_capability(VMControl *vc, int argc, char **argv, Text *out);

void migration_free(Migration *mig);

#endif
