/* The Multiboot loader (hw/pc/multiboot.c): any image, however malformed,
 * is loaded or refused with a message; nothing is written outside guest
 * RAM, and a refused image changes nothing in guest memory. */
#include <stdlib.h>
#include <string.h>

#include "core/machine.h"
#include "hw/pc/multiboot.h"
#include "tests/fuzz/fuzz.h"

static Machine *machine;

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char err[512];
    if (!machine) {
        machine = machine_new(32 << 20, CLOCK_MANUAL, err, sizeof err);
        if (!machine || !memmap_add_ram(machine->mem, "ram", 0, machine->ram_size, machine->ram, NULL))
            abort();
    }
    /* The first byte picks how many modules (0-3) of the image's own tail
     * are passed, so module placement is reached too. */
    int nmods = size ? data[0] & 3 : 0;
    const uint8_t *img = size ? data + 1 : data;
    size_t len = size ? size - 1 : 0;
    MultibootModule mods[3];
    for (int i = 0; i < nmods; i++)
        mods[i] = (MultibootModule){ .data = img + len / 2, .len = len - len / 2,
                                     .string = "mod arg" };
    /* A refused image must leave guest memory alone: watch the info area. */
    static uint8_t before[0x1000];
    memcpy(before, machine->ram + MULTIBOOT_INFO_ADDR, sizeof before);
    MultibootEntry e;
    err[0] = 0;
    int rc = multiboot_load_image(machine, img, len, "fuzz-kernel", mods, nmods, "fuzz cmdline",
                                  NULL, &e, err, sizeof err);
    if (rc < 0 && (!err[0] || memcmp(before, machine->ram + MULTIBOOT_INFO_ADDR, sizeof before)))
        abort();
    if (rc == 0 && (e.entry < e.load_start || e.entry >= e.load_end))
        abort();
    return 0;
}
