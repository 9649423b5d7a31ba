/* The incoming migration stream (core/migration.c) on a PC board without
 * CPU.  The input either is the stream (first byte even), or edits a valid
 * stream saved from the same board at start-up (first byte odd): the next
 * bytes give a truncation point and (offset, xor) pairs, and bit 1 of the
 * first byte recomputes the trailer CRC so edits reach the device loader.
 * A refusal must come with a message.  The stream goes through the check
 * loadvm does first (migration_check_buf): it must leave RAM alone, and a
 * stream it refuses must be refused by the loader too. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <zlib.h>

#include "core/commands.h"
#include "core/machine.h"
#include "core/migration.h"
#include "core/options.h"
#include "hw/pc/pc.h"
#include "tests/fuzz/fuzz-image.h"
#include "tests/fuzz/fuzz-machine.h"

static Machine *machine;
static VMOptions opts;
static uint8_t *valid;
static size_t valid_len;

static void setup(void)
{
    char err[512];
    options_init(&opts);
    opts.vga = VGA_NONE;
    machine = machine_new(4 << 20, CLOCK_MANUAL, err, sizeof err);
    if (!machine)
        abort();
    machine->opts = &opts;
    if (!pc_create(machine, &opts, err, sizeof err))
        abort();
    memcpy(machine->ram + 0x1000, "vx86 fuzz page", 14);
    VMControl *vc = vmcontrol_new(machine, NULL);
    char path[256];
    fuzz_tmp_path(path, sizeof path, "mig", ".XXXXXX");
    int fd = mkstemp(path);
    if (fd < 0)
        abort();
    unlink(path);
    if (migration_save_fd(vc, fd, 1, err, sizeof err) < 0)
        abort();
    valid_len = (size_t)lseek(fd, 0, SEEK_END);
    valid = malloc(valid_len);
    if (pread(fd, valid, valid_len, 0) != (ssize_t)valid_len)
        abort();
    close(fd);
    vmcontrol_free(vc);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char err[512];
    if (!machine)
        setup();
    fuzz_machine_next_input(machine);
    if (!size)
        return 0;
    uint8_t *buf;
    size_t len;
    if (!(data[0] & 1)) {
        buf = malloc(size);
        memcpy(buf, data + 1, size - 1);
        len = size - 1;
    } else {
        FuzzInput in = { data + 1, size - 1 };
        uint32_t cut = (uint32_t)fuzz_u16(&in) << 8 | fuzz_u8(&in);
        len = cut && cut < valid_len ? cut : valid_len;
        buf = malloc(len);
        memcpy(buf, valid, len);
        while (in.left >= 4) {
            uint32_t off = (uint32_t)fuzz_u16(&in) << 8 | fuzz_u8(&in);
            buf[off % len] ^= fuzz_u8(&in);
        }
        if ((data[0] & 2) && len == valid_len && len > 4) {
            uint32_t crc = (uint32_t)crc32(0, buf, (uInt)(len - 4));
            for (int i = 0; i < 4; i++)
                buf[len - 4 + i] = (uint8_t)(crc >> (8 * i));
        }
    }
    err[0] = '\0';
    /* (The devices are not compared: saving them all twice per input
     * would cost most of the run, and the check hands them no state.) */
    uLong ram_crc = crc32(0, machine->ram, (uInt)machine->ram_size);
    int checked = migration_check_buf(machine, buf, len, err, sizeof err);
    if (checked < 0 && !err[0])
        abort();
    if (crc32(0, machine->ram, (uInt)machine->ram_size) != ram_crc)
        abort();                      /* the check wrote RAM */
    err[0] = '\0';
    int loaded = migration_load_buf(machine, buf, len, err, sizeof err);
    if (loaded < 0 && !err[0])
        abort();                      /* a refusal must say why */
    if (checked < 0 && loaded == 0)
        abort();                      /* the check refused what loads */
    free(buf);
    return 0;
}
