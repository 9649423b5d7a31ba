/*
 * vx86's entry point: parse the command line (core/options.c), refuse by
 * name what the emulator cannot do yet, set up logging, build the Machine
 * and run it.
 *
 * Errors are one line on stderr, "vx86: OPTION: problem", and exit
 * status 1.
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "accel/accel.h"
#include "core/gdbstub.h"
#include "core/log.h"
#include "core/machine.h"
#include "core/commands.h"
#include "core/migration.h"
#include "core/snapshot.h"
#include "core/monitor.h"
#include "core/qmp.h"
#include "core/replay.h"
#include "host/chardev.h"
#include "core/options.h"
#include "cpu/cpu.h"
#include "hw/pc/linuxboot.h"
#include "hw/pc/pc.h"
#include "ui/display.h"
#include "ui/vnc.h"

/* ---- options the parser accepts but the emulator cannot honour yet ----
 *
 * One row per option.  When a feature lands, delete its row; the parser
 * already fills VMOptions for it.  Nothing the user asked for is ignored
 * silently: main() refuses the first row that applies, naming the option.
 */

/* IDE, floppy and virtio drives exist (hw/piix-ide.c, hw/fdc.c,
 * hw/virtio-blk.c); CD-ROMs only on IDE. */
static bool uses_drive(const VMOptions *o)
{
    for (int i = 0; i < o->ndrives; i++)
        if (o->drives[i].iface == DRIVE_IF_VIRTIO && o->drives[i].media == DRIVE_MEDIA_CDROM)
            return true;
    return false;
}

typedef struct Unsupported {
    const char *name;                        /* as the user wrote it */
    bool (*used)(const VMOptions *o);
    const char *why;                         /* NULL: "not supported yet" */
} Unsupported;

static const Unsupported not_yet[] = {
    { "-drive", uses_drive, "media=cdrom is only supported with if=ide" },
};

/* The first requested feature that is missing, or NULL. */
static const Unsupported *first_unsupported(const VMOptions *o)
{
    for (size_t i = 0; i < sizeof(not_yet) / sizeof(not_yet[0]); i++)
        if (not_yet[i].used(o))
            return &not_yet[i];
    return NULL;
}

static void print_version(void)
{
    printf("vx86 %s\n", VX86_VERSION);
    printf("Copyright (c) 2026 the vx86 developers\n");
}

static void print_log_items(void)
{
    printf("Log items (-d ITEM,ITEM,...; \"all\" selects every item):\n");
    for (const LogItem *it = log_items; it->name; it++)
        printf("  %-14s %s\n", it->name, it->help);
}

/* An unknown -cpu name is a command-line error, reported before anything
 * starts (not as the accelerator's refusal). */
static bool cpu_model_known(const VMOptions *o, char *err, size_t len)
{
    CPUConfig cfg = CPU_CONFIG_DEFAULT;
    return !o->cpu_model || cpu_model_apply(&cfg, o->cpu_model, err, len);
}

/* Logging is process-wide: set it up before anything can log. */
static int setup_logging(const VMOptions *o)
{
    char err[512];
    log_mask = o->log_mask;
    log_set_ranges(o->log_ranges, o->log_nranges);
    if (o->log_file && !log_open_file(o->log_file, err, sizeof(err))) {
        fprintf(stderr, "vx86: -D: %s\n", err);
        return -1;
    }
    return 0;
}

/* ---- the human monitor ---- */

static int monitor_poll_fd(void *opaque) { return chardev_poll_fd(opaque); }
static void monitor_readable(void *opaque) { chardev_handle_input(opaque); }

/* Opens -monitor's backend and starts the monitor on it; true with
 * *chr NULL when there is none.  Without -monitor, a display that can
 * show the monitor (the SDL window: Ctrl-Alt-2) gets it, as in QEMU. */
static bool start_monitor(Machine *m, VMControl *vc, const VMOptions *o, Display *disp,
                          CharDev **chr, Monitor **mon)
{
    char err[512];
    *chr = NULL;
    *mon = NULL;
    const char *spec = o->monitor ? o->monitor : display_can_show_monitor(disp) ? "vc" : NULL;
    if (!spec || !strcmp(spec, "none"))
        return true;
    if (!strcmp(spec, "vc")) {
        *chr = chardev_open("buffer", err, sizeof err);
        if (!*chr || !display_set_monitor(disp, *chr, err, sizeof err)) {
            fprintf(stderr, "vx86: -monitor vc: %s\n", err);
            chardev_free(*chr);
            *chr = NULL;
            return false;
        }
        *mon = monitor_new_vc(vc, *chr);
        return true;
    }
    if (!strcmp(o->monitor, "stdio") && o->serial == SERIAL_STDIO) {
        fprintf(stderr, "vx86: -monitor stdio: stdio is already the serial port "
                        "(sharing it is not supported yet; use -monitor unix:PATH,server,nowait)\n");
        return false;
    }
    if (strcmp(o->monitor, "stdio") && strncmp(o->monitor, "unix:", 5)) {
        fprintf(stderr, "vx86: -monitor: '%s' not supported (stdio, unix:PATH,server,nowait, vc, none)\n",
                o->monitor);
        return false;
    }
    *chr = chardev_open(o->monitor, err, sizeof err);
    if (!*chr) {
        fprintf(stderr, "vx86: -monitor: %s\n", err);
        return false;
    }
    chardev_set_quit_handler(*chr, NULL, NULL);
    *mon = monitor_new_vc(vc, *chr);
    machine_watch_fd(m, monitor_poll_fd, monitor_readable, *chr);
    return true;
}

static int chr_poll_fd(void *opaque) { return chardev_poll_fd(opaque); }
static void chr_readable(void *opaque) { chardev_handle_input(opaque); }

/* -mon chardev=ID,mode=control|readline on the board's -chardev. */
static bool start_mons(VMControl *vc, PCBoard *pc, const VMOptions *o, QmpClient **qc,
                       Monitor **hm)
{
    for (int i = 0; i < o->nmons; i++) {
        CharDev *chr = pc_named_chardev(pc, o->mons[i].chardev);
        if (!chr) {
            fprintf(stderr, "vx86: -mon: chardev '%s' not found\n", o->mons[i].chardev);
            return false;
        }
        if (o->mons[i].control)
            qc[i] = qmp_client_new_chardev(vc, chr);
        else
            hm[i] = monitor_new_vc(vc, chr);
        machine_watch_fd(vc->m, chr_poll_fd, chr_readable, chr);
    }
    return true;
}

/* Starts the -qmp servers; false (reported) when one cannot start. */
static bool start_qmp(VMControl *vc, const VMOptions *o, QmpServer **qmp)
{
    char err[512];
    for (int i = 0; i < o->nqmp; i++) {
        if (!strcmp(o->qmp[i], "stdio") &&
            (o->serial == SERIAL_STDIO || (o->monitor && !strcmp(o->monitor, "stdio")))) {
            fprintf(stderr, "vx86: -qmp stdio: stdio is already the serial port or the monitor\n");
            return false;
        }
        qmp[i] = qmp_server_new(vc, o->qmp[i], err, sizeof err);
        if (!qmp[i]) {
            fprintf(stderr, "vx86: -qmp: %s\n", err);
            return false;
        }
    }
    if (o->nqmp)
        signal(SIGPIPE, SIG_IGN);          /* a client gone mid-reply is not fatal */
    return true;
}

#ifdef CONFIG_VNC
static bool vnc_password_hook(void *opaque, const char *pw, char *err, size_t errlen)
{
    return vnc_set_password(opaque, pw, err, errlen);
}

static void vnc_info_hook(void *opaque, MonVncInfo *out)
{
    vnc_query(opaque, out);
}
#endif

/* -vnc: the VNC server next to the display.  False (reported) when it
 * cannot start. */
static bool start_vnc(Machine *m, PCBoard *pc, VMControl *vc, const DisplayInput *in,
                      const VMOptions *o, VncServer **out)
{
    *out = NULL;
    if (!o->vnc.enabled)
        return true;
#ifdef CONFIG_VNC
    char err[1024];
    *out = vnc_open(m, pc_console(pc), in, &o->vnc, err, sizeof err);
    if (!*out) {
        fprintf(stderr, "vx86: %s\n", err);
        return false;
    }
    vc->vnc_password = vnc_password_hook;
    vc->vnc_info = vnc_info_hook;
    vc->vnc_opaque = *out;
    return true;
#else
    fprintf(stderr, "vx86: -vnc %s: vx86 was built without VNC (libvncserver-dev; "
                    "see ./configure)\n", o->vnc.spec);
    return false;
#endif
}

/* ---- record/replay: host input goes through the log (core/replay.h) ---- */

static void rr_key(void *opaque, int keycode, bool down) { replay_key(opaque, keycode, down); }
static void rr_mouse(void *opaque, int dx, int dy, int dz, unsigned buttons)
{
    replay_mouse(opaque, dx, dy, dz, buttons);
}
/* The monitor's sendkey and system_powerdown (opaque: the board). */
static void rr_mon_key(void *opaque, int keycode, bool down)
{
    replay_key(pc_machine(opaque)->rr, keycode, down);
}
static void rr_mon_power(void *opaque) { replay_power(pc_machine(opaque)->rr); }
static void rr_mon_mouse(void *opaque, int dx, int dy, int dz, unsigned buttons)
{
    replay_mouse(pc_machine(opaque)->rr, dx, dy, dz, buttons);
}

/* Builds the PC around m, picks the accelerator and runs until the guest
 * powers off.  Takes ownership of m.  Returns the exit status. */
static int run_board(Machine *m, const VMOptions *opts)
{
    char err[1024];
    PCBoard *pc = pc_create(m, opts, err, sizeof err);
    if (!pc) {
        fprintf(stderr, "vx86: %s\n", err);
        return 1;
    }
    /* Load the kernel before choosing the accelerator: a bad -kernel is
     * reported the same way whatever would have run it. */
    PCBootEntry entry;
    CharDev *mon_chr = NULL;
    Monitor *mon = NULL;
    QmpServer *qmp[4] = { NULL };
    QmpClient *mon_qmp[4] = { NULL };
    Monitor *mon_hmp[4] = { NULL };
    MonitorHooks hooks = { .console = pc_console(pc), .send_key = pc_send_key,
                           .send_mouse = pc_send_mouse, .send_mouse_abs = pc_send_mouse_abs,
                           .power_button = pc_power_button, .drain_io = pc_drain_io,
                           .set_drives_active = pc_set_drives_active,
                           .pci_bus = pc_pci_bus,
                           .drive_info = pc_drive_info, .balloon_set = pc_balloon_set,
                           .balloon_info = pc_balloon_info, .set_link = pc_set_link,
                           .eject = pc_eject, .change_medium = pc_change_medium,
                           .dump_pic = pc_dump_pic, .dump_lapic = pc_dump_lapic,
                           .dump_irq_counts = pc_dump_irq_counts,
                           .opaque = pc };
    DisplayInput in = { pc_send_key, pc_send_mouse, pc, pc_mouse_absolute, pc_send_mouse_abs };
    if (m->rr) {
        /* Keys, mouse and the power button reach the board through the log. */
        static const ReplayInputOps board_input = { pc_send_key, pc_send_mouse, pc_power_button };
        replay_set_input(m->rr, &board_input, pc);
        in = (DisplayInput){ rr_key, rr_mouse, m->rr, NULL, NULL };
        hooks.send_key = rr_mon_key;
        hooks.send_mouse = rr_mon_mouse;
        /* The log has no absolute pointer record yet: the tablet gets no
         * host input while recording or replaying. */
        hooks.send_mouse_abs = NULL;
        hooks.power_button = rr_mon_power;
    }
    VMControl *vc = vmcontrol_new(m, &hooks);
    bool ok = !opts->kernel || pc_load_kernel(pc, opts, &entry, err, sizeof err);
    if (!ok)
        fprintf(stderr, "vx86: %s\n", err);
    /* The display starts before the accelerator: one that cannot start
     * is the only line the user sees. */
    Display *disp = NULL;
    if (ok && !display_open(m, pc_console(pc), &in, opts, &disp, err, sizeof err)) {
        fprintf(stderr, "vx86: %s\n", err);
        ok = false;
    }
    VncServer *vnc = NULL;
    if (!ok || !start_vnc(m, pc, vc, &in, opts, &vnc) ||
        !start_monitor(m, vc, opts, disp, &mon_chr, &mon) || !start_qmp(vc, opts, qmp) ||
        !start_mons(vc, pc, opts, mon_qmp, mon_hmp)) {
        vnc_close(vnc);
        display_close(disp);
        for (int i = 0; i < 4; i++) {
            qmp_server_free(qmp[i]);
            qmp_client_free(mon_qmp[i]);
            monitor_free(mon_hmp[i]);
        }
        monitor_free(mon);
        chardev_free(mon_chr);
        vmcontrol_free(vc);
        replay_finish(m->rr);
        m->rr = NULL;
        m->board = NULL;
        machine_free(m);
        pc_free(pc);
        return 1;
    }
    void *acc = NULL;
    const AccelOps *ops = accel_select(m, opts, &acc, err, sizeof err);
    int status = 1;
    GdbStub *gdb = NULL;
    if (ops && opts->gdb) {
        if (m->rr)
            replay_enable_reverse(m->rr);   /* reverse-stepi, reverse-continue */
        gdb = gdbstub_new(m, ops, acc, opts->gdb, &hooks, err, sizeof err);
        if (!gdb) {
            fprintf(stderr, "vx86: -gdb: %s\n", err);
            ops->free(acc);
            ops = NULL;
            err[0] = 0;
        }
    }
    m->start_paused = opts->start_stopped;
    if (!ops) {
        if (err[0])
            fprintf(stderr, "vx86: %s\n", err);
    } else {
        /* The boot CPU starts at RESET, or at the kernel's entry. */
        X86ArchState s;
        if (!accel_reset_state(m, &s, err, sizeof err)) {
            fprintf(stderr, "vx86: -cpu: %s\n", err);
        } else {
            if (opts->kernel)
                pc_boot_entry_state(&entry, &s);
            vmcontrol_set_accel(vc, ops, acc);
            if (accel_start_cpus(m, ops, acc, &s, err, sizeof err) < 0)
                fprintf(stderr, "vx86: %s: %s\n", opts->kernel ? "-kernel" : "CPU reset", err);
            else if (opts->incoming && !migration_incoming_start(vc, opts->incoming, err, sizeof err))
                fprintf(stderr, "vx86: -incoming: %s\n", err);
            else if (opts->loadvm && snapshot_load_startup(vc, opts->loadvm, err, sizeof err) < 0)
                fprintf(stderr, "vx86: -loadvm %s: %s\n", opts->loadvm, err);
            else
                status = machine_run(m, ops, acc);
        }
        replay_finish(m->rr);      /* while the CPU still counts */
        m->rr = NULL;
        if (log_enabled(LOG_CPU_EXIT)) {
            if (ops->get_cpu_state(acc, 0, &s, err, sizeof err) == 0)
                x86_arch_state_dump(&s, log_file ? log_file : stderr);
            else
                fprintf(stderr, "vx86: -d cpu_exit: %s\n", err);
        }
        gdbstub_free(gdb);
        ops->free(acc);
    }
    vnc_close(vnc);
    display_close(disp);
    for (int i = 0; i < 4; i++) {
        qmp_server_free(qmp[i]);
        qmp_client_free(mon_qmp[i]);
        monitor_free(mon_hmp[i]);
    }
    monitor_free(mon);
    chardev_free(mon_chr);
    vmcontrol_free(vc);
    replay_finish(m->rr);
    m->rr = NULL;
    /* The board's backends and BIOS image outlive the devices using them. */
    m->board = NULL;
    machine_free(m);
    pc_free(pc);
    return status;
}

static int run(const VMOptions *opts)
{
    char err[512];
    Machine *m = machine_new(opts->ram_size, CLOCK_HOST, err, sizeof(err));
    if (!m) {
        fprintf(stderr, "vx86: -m: %s\n", err);
        return 1;
    }
    m->opts = opts;
    if (opts->icount_shift == ICOUNT_AUTO) {
        /* From 8 ns per instruction, then following the host's speed. */
        machine_set_icount(m, 3, opts->icount_sleep);
        m->icount_auto = opts->rr != RR_REPLAY;   /* a replay takes the log's shifts */
    } else if (opts->icount_shift != ICOUNT_OFF) {
        machine_set_icount(m, opts->icount_shift, opts->icount_sleep);
    }
    if (opts->rr != RR_NONE) {
        m->rr = replay_new(m, opts, err, sizeof err);
        if (!m->rr) {
            fprintf(stderr, "vx86: -icount rr=%s: %s\n",
                    opts->rr == RR_RECORD ? "record" : "replay", err);
            machine_free(m);
            return 1;
        }
    }

    /* Without -kernel or -bios the board runs SeaBIOS (PC_DEFAULT_BIOS). */
    return run_board(m, opts);              /* frees m */
}

int main(int argc, char **argv)
{
    VMOptions opts;
    char err[1024];
    options_init(&opts);
    if (options_parse(&opts, argc, argv, err, sizeof(err)) < 0) {
        fprintf(stderr, "vx86: %s\n", err);
        options_free(&opts);
        return 1;
    }

    int status = 0;
    const Unsupported *missing;
    if (opts.want_help) {
        options_print_help(stdout);
    } else if (opts.want_version) {
        print_version();
    } else if (opts.want_log_help) {
        print_log_items();
    } else if (opts.want_accel_help) {
        accel_print_help(NULL, stdout);
    } else if (opts.want_device_help) {
        options_print_devices(stdout);
    } else if (opts.cpu_model && !strcmp(opts.cpu_model, "help")) {
        cpu_models_print(stdout);
    } else if (!cpu_model_known(&opts, err, sizeof err)) {
        fprintf(stderr, "vx86: -cpu: %s\n", err);
        status = 1;
    } else if ((missing = first_unsupported(&opts))) {
        fprintf(stderr, "vx86: %s: %s\n", missing->name,
                missing->why ? missing->why : "not supported yet");
        status = 1;
    } else if (setup_logging(&opts) < 0) {
        status = 1;
    } else {
        status = run(&opts);
    }
    if (log_file)
        fclose(log_file);
    options_free(&opts);
    return status;
}
