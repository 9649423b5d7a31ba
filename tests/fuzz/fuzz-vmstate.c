/* The saved-state stream reader (core/vmstate.c) on a whole PC board: any
 * byte string is loaded or refused with a message naming the section; a
 * refused stream changes nothing. */
#include <stdlib.h>
#include <string.h>

#include "core/machine.h"
#include "core/options.h"
#include "hw/pc/pc.h"
#include "tests/fuzz/fuzz.h"
#include "tests/fuzz/fuzz-machine.h"

static Machine *machine;
static VMOptions opts;

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char err[512];
    if (!machine) {
        options_init(&opts);
        machine = machine_new(16 << 20, CLOCK_MANUAL, err, sizeof err);
        if (!machine)
            abort();
        machine->opts = &opts;
        if (!pc_create(machine, &opts, err, sizeof err))
            abort();
    }
    fuzz_machine_next_input(machine);
    VMBuf before, after;
    vmbuf_init(&before);
    vmbuf_init(&after);
    machine_save_devices(machine, &before);
    char *msg = NULL;
    if (machine_load_devices(machine, data, size, &msg) < 0) {
        if (!msg)
            abort();                /* a refusal must say why */
        machine_save_devices(machine, &after);
        if (before.len != after.len || memcmp(before.data, after.data, before.len))
            abort();                /* ... and change nothing */
    }
    free(msg);
    vmbuf_free(&before);
    vmbuf_free(&after);
    return 0;
}
