/*
 * The commands that manage a running VM, in one declarative table shared
 * by QMP (core/qmp.c), the human monitor (core/monitor.c) and
 * query-commands.  A row names the command in both protocols, declares its
 * QMP arguments (checked by the dispatcher before the handler runs) and
 * has up to three functions:
 *
 *   run        the QMP handler: arguments as a JSON object, a JSON result
 *              or a CmdError (class + description, as QMP reports them);
 *   hmp_print  how the human monitor shows run's result (NULL: nothing);
 *   hmp_run    a human-monitor syntax of its own (x /10xb ADDR, info
 *              registers, ...); rows without it map the monitor's words
 *              onto the QMP arguments in declaration order.
 *
 *   VMControl *vc = vmcontrol_new(m, &hooks);        // one per machine
 *   Text out = { 0 };
 *   cmd_hmp_line(vc, "info status", &out);          // "VM status: running\n"
 *   JsonValue *r = cmd_qmp_call(vc, "query-status", NULL, &e);
 */
#ifndef VX86_CORE_COMMANDS_H
#define VX86_CORE_COMMANDS_H

#include <stdbool.h>
#include <stddef.h>

#include "core/json.h"
#include "core/machine.h"
#include "core/monitor.h"

struct AccelOps;
typedef struct Migration Migration;
typedef struct SnapshotJobs SnapshotJobs;

/* A growing text buffer (NUL-terminated). */
typedef struct Text {
    char *data;
    size_t len, cap;
} Text;
void text_printf(Text *t, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void text_free(Text *t);

typedef enum CmdArgType { ARG_STR, ARG_INT, ARG_BOOL, ARG_NUMBER, ARG_OBJECT, ARG_ANY } CmdArgType;

typedef struct CmdArg {
    const char *name;
    CmdArgType type;
    bool optional;
} CmdArg;

/* QMP's error classes: "GenericError", "CommandNotFound", "DeviceNotFound",
 * "DeviceNotActive", "KVMMissingCap". */
typedef struct CmdError {
    const char *cls;          /* NULL: no error */
    char desc[512];
} CmdError;
void cmd_error(CmdError *e, const char *cls, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

typedef struct CmdDef {
    const char *qmp;          /* QMP name; NULL: the human monitor only */
    const char *hmp;          /* monitor name ("stop", "info status"); NULL: QMP only */
    const char *hmp_alias;    /* "c" for cont, "q" for quit, ... */
    const char *hmp_params;   /* for help */
    const char *help;
    CmdArg args[6];
    JsonValue *(*run)(VMControl *vc, const JsonValue *args, CmdError *e);
    void (*hmp_print)(VMControl *vc, const JsonValue *ret, Text *out);
    void (*hmp_run)(VMControl *vc, int argc, char **argv, Text *out);
} CmdDef;

typedef void (*VMEventFn)(void *opaque, const char *json_line);

/* A human-monitor command that needs a secret it was not given (change
 * vnc password) sets VMControl.secret_fn and .secret_prompt; the monitor
 * that ran the line prints the prompt and hands its next line, not
 * echoed, to secret_fn.  cmd_hmp_line clears a request left over. */
typedef void (*HmpSecretFn)(VMControl *vc, const char *secret, Text *out);

/* The state the commands act on: one per machine. */
struct VMControl {
    Machine *m;
    MonitorHooks hooks;
    const struct AccelOps *accel_ops;   /* set once the accelerator runs */
    void *acc;
    int cur_cpu;                        /* the monitor's CPU (`cpu N`) */
    Migration *mig;
    SnapshotJobs *jobs;                 /* QMP snapshot jobs (core/snapshot.c) */
    const char *name;                   /* -name */
    bool sandbox;                       /* no host side effects: screendump and
                                           migration refused (fuzzing) */
    const char *run_reason;             /* paused because: "postmigrate", "inmigrate",
                                           NULL: the user said stop */
    struct { VMEventFn fn; void *opaque; } listeners[8];
    int nlisteners;
    /* The VNC server's password (ui/vnc.c), set by main; NULL: no server. */
    bool (*vnc_password)(void *opaque, const char *password, char *err, size_t errlen);
    void (*vnc_info)(void *opaque, MonVncInfo *out);    /* query-vnc */
    void *vnc_opaque;
    HmpSecretFn secret_fn;              /* see HmpSecretFn */
    /* input-send-event: where the absolute pointer is and which buttons
     * are down, as QEMU keeps them between events. */
    int abs_x, abs_y;
    unsigned buttons;
    const char *secret_prompt;
};

VMControl *vmcontrol_new(Machine *m, const MonitorHooks *hooks);
void vmcontrol_free(VMControl *vc);
void vmcontrol_set_accel(VMControl *vc, const struct AccelOps *ops, void *acc);

/* Events: {"event": NAME, "data": data (owned, may be NULL), "timestamp":
 * {...}} as one JSON line to every listener. */
void vmcontrol_add_listener(VMControl *vc, VMEventFn fn, void *opaque);
void vmcontrol_remove_listener(VMControl *vc, void *opaque);
void vmcontrol_emit(VMControl *vc, const char *event, JsonValue *data);

/* The table. */
const CmdDef *cmd_table(size_t *n);
const CmdDef *cmd_find_qmp(const char *name);

/* QMP: checks args against the row's declaration, then runs it.  args
 * may be NULL (no arguments).  NULL result with e->cls set on error. */
JsonValue *cmd_qmp_call(VMControl *vc, const char *name, const JsonValue *args, CmdError *e);
/* The human monitor's face of a QMP command: runs name with args (freed),
 * prints "Error: DESC" on failure. */
void cmd_hmp_call(VMControl *vc, const char *name, JsonValue *args, Text *out);

/* The human monitor: runs one line, its output appended to out. */
void cmd_hmp_line(VMControl *vc, const char *line, Text *out);

/* "running", "paused", "postmigrate", ... as query-status reports it. */
const char *vmcontrol_status(VMControl *vc);

#endif
