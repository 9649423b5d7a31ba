/*
 * Device harness: a whole PC board (hw/pc/pc.c) with no CPU, driven by the
 * fuzzer's bytes as a guest would drive it: port and MMIO reads and writes
 * to one device's registers, pokes into guest RAM (so DMA descriptors and
 * tables the device reads can be built), and clock advances (so the
 * device's timers fire).  Built once per row of the table below with
 * -DFUZZ_DEVICE=NAME (tests/fuzz/fuzz.mk reads the names from the rows).
 *
 * Each input is a list of 8-byte operations:
 *   byte 0    bits 0-1 kind: 0 write, 1 read, 2 advance the clock, 3 RAM
 *             poke; bits 2-7 which register range of the device
 *   byte 1-2  offset into the range (modulo its length)
 *   byte 3    access size 1, 2 or 4 (modulo 3)
 *   byte 4-7  value (clock: microseconds; RAM poke: address in the low
 *             1 MiB in bits 0-19 and the byte in 24-31)
 */
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <stdio.h>
#include <unistd.h>

#include "core/clock.h"
#include "core/machine.h"
#include "core/options.h"
#include "hw/pc/pc.h"
#include "tests/fuzz/fuzz.h"

typedef struct Range {
    bool mmio;
    uint64_t base;
    uint32_t len;
} Range;

typedef struct DeviceTarget {
    const char *name;
    Range ranges[4];
    /* board options: disks ("fda", "hda+cdrom"), "smp4" (four CPUs: the
     * LAPIC's IPIs go over the APIC bus to the others), or NULL */
    const char *drives;
} DeviceTarget;

#define PIO(b, n)  { false, (b), (n) }
#define MMIO(b, n) { true, (b), (n) }
#define FUZZ_DEVICE_ROW(name, ...) { #name, { __VA_ARGS__ }, NULL },
/* A device with media: the board gets scratch images (temporary files). */
#define FUZZ_DEVICE_ROW_DISKS(name, disks, ...) { #name, { __VA_ARGS__ }, disks },

/* One row per device that takes guest input (the names become the
 * harnesses dev-NAME). */
static const DeviceTarget fuzz_targets[] = {
    FUZZ_DEVICE_ROW(uart, PIO(0x3f8, 8))
    FUZZ_DEVICE_ROW(pic, PIO(0x20, 2), PIO(0xa0, 2), PIO(0x4d0, 2))
    FUZZ_DEVICE_ROW(pit, PIO(0x40, 4), PIO(0x61, 1))
    FUZZ_DEVICE_ROW(rtc, PIO(0x70, 2))
    FUZZ_DEVICE_ROW(i8042, PIO(0x60, 1), PIO(0x64, 1))
    FUZZ_DEVICE_ROW(port92, PIO(0x92, 1))
    FUZZ_DEVICE_ROW(fwcfg, PIO(0x510, 2), PIO(0x514, 8))
    FUZZ_DEVICE_ROW(pci, PIO(0xcf8, 8), PIO(0xb2, 2))
    FUZZ_DEVICE_ROW(hpet, MMIO(0xfed00000, 0x400))
    FUZZ_DEVICE_ROW(lapic, MMIO(0xfee00000, 0x1000))
    /* CPU 0's APIC page on a four-CPU board: ICR IPIs (INIT, SIPI, NMI,
     * lowest priority, shorthands) and IOAPIC redirections to the others */
    FUZZ_DEVICE_ROW_DISKS(apicbus, "smp4", MMIO(0xfee00000, 0x1000), MMIO(0xfec00000, 0x20))
    FUZZ_DEVICE_ROW(ioapic, MMIO(0xfec00000, 0x20))
    FUZZ_DEVICE_ROW(dma, PIO(0x00, 16), PIO(0xc0, 32), PIO(0x81, 15))
    FUZZ_DEVICE_ROW(vga, PIO(0x3b0, 0x30), PIO(0x1ce, 2), MMIO(0xa0000, 0x20000))
    FUZZ_DEVICE_ROW_DISKS(fdc, "fda", PIO(0x3f0, 6), PIO(0x3f7, 1), PIO(0x00, 16), PIO(0x81, 15))
    FUZZ_DEVICE_ROW_DISKS(ide, "hda+cdrom", PIO(0x1f0, 8), PIO(0x3f6, 1), PIO(0x170, 8),
                          PIO(0x376, 1))
};

#define STR_(x) #x
#define STR(x) STR_(x)

static const DeviceTarget *target;

static const DeviceTarget *find_target(const char *name)
{
    for (size_t i = 0; i < sizeof(fuzz_targets) / sizeof(fuzz_targets[0]); i++)
        if (!strcmp(fuzz_targets[i].name, name))
            return &fuzz_targets[i];
    abort();
}

static int nranges(const DeviceTarget *t)
{
    int n = 0;
    while (n < 4 && t->ranges[n].len)
        n++;
    return n;
}

static void run_op(Machine *m, FuzzInput *in)
{
    uint8_t b0 = fuzz_u8(in);
    uint16_t off = fuzz_u16(in);
    unsigned size = 1u << (fuzz_u8(in) % 3);
    uint32_t v = fuzz_u32(in);
    const Range *r = &target->ranges[(b0 >> 2) % nranges(target)];
    uint64_t addr = r->base + off % r->len;
    switch (b0 & 3) {
    case 0:
        if (r->mmio)
            memmap_write(m->mem, addr, v, size);
        else
            iospace_write(m->io, (uint16_t)addr, v, size);
        break;
    case 1:
        if (r->mmio)
            (void)memmap_read(m->mem, addr, size);
        else
            (void)iospace_read(m->io, (uint16_t)addr, size);
        break;
    case 2:
        clock_advance(m->clock, (int64_t)(v & 0xffffff) * 1000);
        clock_run_timers(m->clock);
        break;
    case 3:
        m->ram[v & 0xfffff] = (uint8_t)(v >> 24);
        break;
    }
}

/* One board for the whole run, reset before each input: building a board
 * costs more than a thousand inputs (its port table alone is 512 KiB of
 * fresh pages).  Reset puts every device in its power-on state and the low
 * MiB (where RAM pokes go) is cleared; only the clock keeps running. */
static Machine *machine;
static PCBoard *board;
static VMOptions opts;

/* A scratch image of size bytes (removed at once: the board keeps it open). */
static char *scratch_image(uint64_t size)
{
    static char path[64];
    snprintf(path, sizeof path, "/tmp/vx86-fuzz-XXXXXX");
    int fd = mkstemp(path);
    if (fd < 0 || ftruncate(fd, (off_t)size) < 0)
        abort();
    close(fd);
    return path;
}

/* The target's disks as command-line options, so the board opens them the
 * way it opens a user's (drive_open); -nodefaults keeps the board small. */
static void parse_disk_options(const char *drives)
{
    char *argv[10], hda[64], cd[64], fda[64];
    int argc = 0;
    argv[argc++] = "vx86-fuzz";
    argv[argc++] = "-nodefaults";
    if (strstr(drives, "smp4")) {
        argv[argc++] = "-smp";
        argv[argc++] = "4";
    }
    if (strstr(drives, "fda")) {
        snprintf(fda, sizeof fda, "%s", scratch_image(1474560));
        argv[argc++] = "-fda";
        argv[argc++] = fda;
    }
    if (strstr(drives, "hda")) {
        snprintf(hda, sizeof hda, "%s", scratch_image(4 << 20));
        argv[argc++] = "-hda";
        argv[argc++] = hda;
    }
    if (strstr(drives, "cdrom")) {
        snprintf(cd, sizeof cd, "%s", scratch_image(2 << 20));
        argv[argc++] = "-cdrom";
        argv[argc++] = cd;
    }
    argv[argc] = NULL;
    char err[512];
    if (options_parse(&opts, argc, argv, err, sizeof err) < 0)
        abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (!target) {
        char err[512];
        target = find_target(STR(FUZZ_DEVICE));
        options_init(&opts);
        if (target->drives)
            parse_disk_options(target->drives);
        machine = machine_new(16 << 20, CLOCK_MANUAL, err, sizeof err);
        if (!machine)
            abort();
        machine->opts = &opts;
        board = pc_create(machine, &opts, err, sizeof err);
        if (!board)
            abort();
    }
    machine_reset_devices(machine);
    memset(machine->ram, 0, 1 << 20);
    FuzzInput in = { data, size };
    while (in.left)
        run_op(machine, &in);
    return 0;
}
