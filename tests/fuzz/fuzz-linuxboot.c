/* The Linux boot protocol loader (hw/pc/linuxboot.c): any kernel image,
 * however malformed, is loaded or refused with a message; nothing is
 * written outside guest RAM. */
#include <stdlib.h>

#include "core/machine.h"
#include "hw/pc/linuxboot.h"
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
    /* The first byte picks a command line length, so the cmdline checks
     * are reached too; the rest is the kernel image. */
    char cmdline[300];
    size_t n = size ? data[0] : 0;
    if (n >= sizeof cmdline)
        n = sizeof cmdline - 1;
    for (size_t i = 0; i < n; i++)
        cmdline[i] = 'a' + (char)(i % 26);
    cmdline[n] = 0;
    LinuxBootEntry entry;
    linuxboot_load_image(machine, size ? data + 1 : data, size ? size - 1 : 0, "fuzz-kernel",
                         NULL, 0, NULL, cmdline, NULL, &entry, err, sizeof err);
    return 0;
}
