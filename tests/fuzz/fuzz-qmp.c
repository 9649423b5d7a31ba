/* The QMP server's framing, the JSON parser and the command dispatcher
 * (core/qmp.c, core/json.c, core/commands.c) on a PC board without CPU:
 * after qmp_capabilities, any byte string is fed as client input.  Every
 * reply must be one valid JSON object with "return", "error" (class and
 * desc) or "event".  The VMControl is a sandbox: commands that touch host
 * files (screendump, migrate) are refused, so inputs cannot write files
 * or run programs. */
#include <stdlib.h>
#include <string.h>

#include "core/commands.h"
#include "core/json.h"
#include "core/machine.h"
#include "core/options.h"
#include "core/qmp.h"
#include "hw/pc/pc.h"
#include "tests/fuzz/fuzz.h"

static Machine *machine;
static VMOptions opts;
static VMControl *vc;

static void check_reply(void *opaque, const char *line, size_t len)
{
    char err[160];
    JsonValue *v = json_parse(line, len, err, sizeof err);
    if (!v || v->type != JSON_OBJECT)
        abort();                      /* replies are JSON objects */
    JsonValue *e = json_get(v, "error");
    if (e && (!json_get_string(e, "class") || !json_get_string(e, "desc")))
        abort();
    if (!e && !json_get(v, "return") && !json_get(v, "event") && !json_get(v, "QMP"))
        abort();
    json_free(v);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char err[512];
    if (!machine) {
        options_init(&opts);
        opts.vga = VGA_NONE;
        machine = machine_new(16 << 20, CLOCK_MANUAL, err, sizeof err);
        if (!machine)
            abort();
        machine->opts = &opts;
        PCBoard *pc = pc_create(machine, &opts, err, sizeof err);
        if (!pc)
            abort();
        MonitorHooks h = { .send_key = pc_send_key, .power_button = pc_power_button,
                           .pci_bus = pc_pci_bus, .drive_info = pc_drive_info,
                           .eject = pc_eject, .change_medium = pc_change_medium,
                           .dump_pic = pc_dump_pic, .dump_lapic = pc_dump_lapic,
                           .dump_irq_counts = pc_dump_irq_counts, .opaque = pc };
        vc = vmcontrol_new(machine, &h);
        vc->sandbox = true;
    }
    machine->state = RUN_RUNNING;
    machine->quit_requested = false;
    vc->run_reason = NULL;
    QmpClient *c = qmp_client_new_callback(vc, check_reply, NULL);
    static const char caps[] = "{\"execute\": \"qmp_capabilities\"}\n";
    qmp_client_feed(c, (const uint8_t *)caps, sizeof caps - 1);
    qmp_client_feed(c, data, size);
    qmp_client_feed(c, (const uint8_t *)"\n", 1);
    qmp_client_free(c);
    return 0;
}
