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
 *
 * A row may add command-line options (devices the board only makes when
 * asked) and a setup run after each reset: the UHCI row programs the
 * controller's IO BAR (firmware would) and builds a schedule in RAM (a
 * frame list, a queue head, the TDs of a GET_DESCRIPTOR control transfer
 * to the tablet) and starts the controller, so the fuzzer's pokes mutate
 * a schedule the controller walks; the xHCI row likewise sets up the
 * command ring, an event ring, device contexts and the transfer rings of
 * a control and an interrupt endpoint.
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
#include "hw/pci.h"
#include "tests/fuzz/fuzz-image.h"
#include "tests/fuzz/fuzz-machine.h"

typedef struct Range {
    bool mmio;
    uint64_t base;
    uint32_t len;
} Range;

typedef struct DeviceTarget {
    const char *name;
    Range ranges[4];
    const char *drives;     /* disks the board gets: "fda", "hda+cdrom" or NULL */
    const char *const *args;             /* extra options, NULL-ended */
    void (*setup)(Machine *m, PCBoard *pc);   /* after each reset */
    uint32_t clock_max_us;    /* longest clock step (0: 16.7 s); a device that works
                                 every millisecond (UHCI frames) needs short steps so
                                 an input stays within the run's timeout */
} DeviceTarget;

/* ---- UHCI: the BAR and a schedule ---- */

#define UHCI_FUZZ_IO      0xc000
#define UHCI_FUZZ_FL      0x10000     /* frame list */
#define UHCI_FUZZ_QH      0x11000
#define UHCI_FUZZ_TD      0x11100     /* three TDs, 32 bytes apart */
#define UHCI_FUZZ_BUF     0x11200

static void put32(Machine *m, uint32_t a, uint32_t v)
{
    memcpy(m->ram + a, &v, 4);        /* little-endian host */
}

static void uhci_setup(Machine *m, PCBoard *pc)
{
    PCIBus *bus = pc_pci_bus(pc);
    int devfn = PCI_DEVFN(1, 2);
    pci_bus_config_write(bus, devfn, 0x20, UHCI_FUZZ_IO | 1, 4);
    pci_bus_config_write(bus, devfn, PCI_COMMAND, PCI_COMMAND_IO | PCI_COMMAND_MASTER, 2);
    for (int f = 0; f < 1024; f++)
        put32(m, UHCI_FUZZ_FL + 4 * f, UHCI_FUZZ_QH | 2);
    put32(m, UHCI_FUZZ_QH, 1);                       /* no next queue */
    put32(m, UHCI_FUZZ_QH + 4, UHCI_FUZZ_TD);        /* first TD */
    static const uint8_t get_desc[8] = { 0x80, 6, 0, 1, 0, 0, 18, 0 };
    memcpy(m->ram + UHCI_FUZZ_BUF, get_desc, 8);
    /* SETUP (8 bytes), IN (18 bytes), OUT status (0 bytes), depth first. */
    static const uint32_t tokens[3] = { 0x2d | 7u << 21, 0x69 | 1u << 19 | 17u << 21,
                                        0xe1 | 1u << 19 | 0x7ffu << 21 };
    for (int i = 0; i < 3; i++) {
        uint32_t td = UHCI_FUZZ_TD + 32 * i;
        put32(m, td, i < 2 ? (td + 32) | 4 : 1);
        put32(m, td + 4, 0x00800000 | (i == 2 ? 0x01000000 : 0) | 3u << 27);
        put32(m, td + 8, tokens[i]);
        put32(m, td + 12, UHCI_FUZZ_BUF + (i == 1 ? 0x100 : 0));
    }
    /* Reset and enable both ports, point at the frame list, run. */
    for (int p = 0; p < 2; p++) {
        iospace_write(m->io, UHCI_FUZZ_IO + 0x10 + 2 * p, 0x0200, 2);
        iospace_write(m->io, UHCI_FUZZ_IO + 0x10 + 2 * p, 0x0000, 2);
        iospace_write(m->io, UHCI_FUZZ_IO + 0x10 + 2 * p, 0x0004, 2);
    }
    iospace_write(m->io, UHCI_FUZZ_IO + 0x08, UHCI_FUZZ_FL, 4);
    iospace_write(m->io, UHCI_FUZZ_IO + 0x04, 0xf, 2);
    iospace_write(m->io, UHCI_FUZZ_IO + 0x00, 0x41, 2);
}

/* ---- xHCI: the BARs, the rings and a control transfer ---- */

#define XHCI_FUZZ_MMIO    0xe0000000u  /* BAR0, 16 KiB */
#define XHCI_FUZZ_MSIX    0xe0010000u  /* BAR4: the MSI-X table */
#define XHCI_FUZZ_DCBAA   0x20000
#define XHCI_FUZZ_CMD     0x21000      /* command ring: 3 commands and a Link back */
#define XHCI_FUZZ_ERST    0x22000
#define XHCI_FUZZ_EVT     0x23000      /* event ring segment, 16 TRBs */
#define XHCI_FUZZ_IN      0x24000      /* input context */
#define XHCI_FUZZ_OUT     0x25000      /* output device context */
#define XHCI_FUZZ_EP0     0x26000      /* EP0 transfer ring */
#define XHCI_FUZZ_BUF     0x27000

static void put_trb(Machine *m, uint32_t a, uint64_t param, uint32_t status, uint32_t control)
{
    put32(m, a, (uint32_t)param);
    put32(m, a + 4, (uint32_t)(param >> 32));
    put32(m, a + 8, status);
    put32(m, a + 12, control | 1);     /* cycle 1 */
}

static void xhci_mmio(Machine *m, uint32_t off, uint32_t v)
{
    memmap_write(m->mem, XHCI_FUZZ_MMIO + off, v, 4);
}

static void xhci_setup(Machine *m, PCBoard *pc)
{
    PCIBus *bus = pc_pci_bus(pc);
    int devfn = -1;
    for (int d = 0; d < 256 && devfn < 0; d++)
        if (pci_bus_config_read(bus, d, 0, 4) == 0x000d1b36)
            devfn = d;
    if (devfn < 0)
        abort();
    pci_bus_config_write(bus, devfn, 0x10, XHCI_FUZZ_MMIO, 4);
    pci_bus_config_write(bus, devfn, 0x20, XHCI_FUZZ_MSIX, 4);
    pci_bus_config_write(bus, devfn, PCI_COMMAND, PCI_COMMAND_MEMORY | PCI_COMMAND_MASTER, 2);
    put32(m, XHCI_FUZZ_DCBAA + 8, XHCI_FUZZ_OUT);
    /* Enable Slot, Address Device (slot 1), Configure Endpoint (EP1 IN
     * interrupt), then a Link back to the start that toggles the cycle. */
    put_trb(m, XHCI_FUZZ_CMD, 0, 0, 9u << 10);
    put_trb(m, XHCI_FUZZ_CMD + 16, XHCI_FUZZ_IN, 0, 11u << 10 | 1u << 24);
    put_trb(m, XHCI_FUZZ_CMD + 32, XHCI_FUZZ_IN, 0, 12u << 10 | 1u << 24);
    put_trb(m, XHCI_FUZZ_CMD + 48, XHCI_FUZZ_CMD, 0, 6u << 10 | 2);
    put32(m, XHCI_FUZZ_ERST, XHCI_FUZZ_EVT);
    put32(m, XHCI_FUZZ_ERST + 8, 16);
    /* Input context: add slot, EP0 and EP1 IN (DCI 3); root port 1. */
    put32(m, XHCI_FUZZ_IN + 4, 0xb);
    put32(m, XHCI_FUZZ_IN + 32, 1u << 20 | 3u << 27);
    put32(m, XHCI_FUZZ_IN + 36, 1u << 16);
    put32(m, XHCI_FUZZ_IN + 64 + 4, 3u << 1 | 4u << 3 | 8u << 16);
    put32(m, XHCI_FUZZ_IN + 64 + 8, XHCI_FUZZ_EP0 | 1);
    put32(m, XHCI_FUZZ_IN + 128, 6u << 16);
    put32(m, XHCI_FUZZ_IN + 128 + 4, 3u << 1 | 7u << 3 | 8u << 16);
    put32(m, XHCI_FUZZ_IN + 128 + 8, (XHCI_FUZZ_EP0 + 0x800) | 1);
    /* GET_DESCRIPTOR(device, 18) on EP0; a Normal TRB on EP1 IN. */
    put_trb(m, XHCI_FUZZ_EP0, 0x0012000001000680ull, 8, 2u << 10 | 1u << 6 | 3u << 16);
    put_trb(m, XHCI_FUZZ_EP0 + 16, XHCI_FUZZ_BUF, 18, 3u << 10 | 1u << 16 | 1u << 2);
    put_trb(m, XHCI_FUZZ_EP0 + 32, 0, 0, 4u << 10 | 1u << 5);
    put_trb(m, XHCI_FUZZ_EP0 + 0x800, XHCI_FUZZ_BUF + 0x100, 8, 1u << 10 | 1u << 5 | 1u << 2);
    /* Reset port 1, set up interrupter 0, run, ring the doorbells. */
    xhci_mmio(m, 0x440, 1u << 4);
    xhci_mmio(m, 0x40 + 0x38, 8);
    xhci_mmio(m, 0x40 + 0x30, XHCI_FUZZ_DCBAA);
    xhci_mmio(m, 0x40 + 0x18, XHCI_FUZZ_CMD | 1);
    xhci_mmio(m, 0x1000 + 0x28, 1);
    xhci_mmio(m, 0x1000 + 0x38, XHCI_FUZZ_EVT);
    xhci_mmio(m, 0x1000 + 0x30, XHCI_FUZZ_ERST);
    xhci_mmio(m, 0x1000 + 0x20, 2);
    xhci_mmio(m, 0x40, 5);
    xhci_mmio(m, 0x2000, 0);
    xhci_mmio(m, 0x2004, 1);
    xhci_mmio(m, 0x2004, 3);
}

static const char *const smp4_args[] = { "-smp", "4", NULL };
static const char *const uhci_args[] = { "-usb", "-device", "usb-tablet", "-device", "usb-kbd",
                                         NULL };
/* Root port 1 the tablet, port 2 a usb-hub with the keyboard behind it
 * (route string 1 from port 2). */
static const char *const xhci_args[] = { "-device", "qemu-xhci,id=xhci,p2=2", "-device",
                                         "usb-tablet,bus=xhci.0", "-device", "usb-hub",
                                         "-device", "usb-kbd", NULL };

#define PIO(b, n)  { false, (b), (n) }
#define MMIO(b, n) { true, (b), (n) }
#define FUZZ_DEVICE_ROW(name, ...) { #name, { __VA_ARGS__ }, NULL, NULL, NULL, 0 },
/* A device the board makes only with options, set up after each reset. */
#define FUZZ_DEVICE_ROW_SETUP(name, args, setup, clock_max, ...) \
    { #name, { __VA_ARGS__ }, NULL, args, setup, clock_max },
/* A device with media: the board gets scratch images (temporary files). */
#define FUZZ_DEVICE_ROW_DISKS(name, disks, ...) { #name, { __VA_ARGS__ }, disks, NULL, NULL, 0 },

/* One row per device that takes guest input (the names become the
 * harnesses dev-NAME). */
static const DeviceTarget fuzz_targets[] = {
    FUZZ_DEVICE_ROW(uart, PIO(0x3f8, 8))
    FUZZ_DEVICE_ROW(pic, PIO(0x20, 2), PIO(0xa0, 2), PIO(0x4d0, 2))
    /* Clock steps up to 1 ms: channel 0 in mode 3 with count 2 toggles
     * IRQ0 every 838 ns, and a 16 s step is 20 million timer callbacks
     * (a libFuzzer timeout, not a finding). */
    FUZZ_DEVICE_ROW_SETUP(pit, NULL, NULL, 1000, PIO(0x40, 4), PIO(0x61, 1))
    FUZZ_DEVICE_ROW(rtc, PIO(0x70, 2))
    FUZZ_DEVICE_ROW(i8042, PIO(0x60, 1), PIO(0x64, 1))
    FUZZ_DEVICE_ROW(port92, PIO(0x92, 1))
    FUZZ_DEVICE_ROW(fwcfg, PIO(0x510, 2), PIO(0x514, 8))
    FUZZ_DEVICE_ROW(pci, PIO(0xcf8, 8), PIO(0xb2, 2))
    /* Clock steps up to 1 ms: a periodic timer may fire every 1 us. */
    FUZZ_DEVICE_ROW_SETUP(hpet, NULL, NULL, 1000, MMIO(0xfed00000, 0x400))
    FUZZ_DEVICE_ROW(lapic, MMIO(0xfee00000, 0x1000))
    /* CPU 0's APIC page on a four-CPU board: ICR IPIs (INIT, SIPI, NMI,
     * lowest priority, shorthands) and IOAPIC redirections to the others */
    FUZZ_DEVICE_ROW_SETUP(apicbus, smp4_args, NULL, 0, MMIO(0xfee00000, 0x1000),
                          MMIO(0xfec00000, 0x20))
    FUZZ_DEVICE_ROW(ioapic, MMIO(0xfec00000, 0x20))
    FUZZ_DEVICE_ROW(dma, PIO(0x00, 16), PIO(0xc0, 32), PIO(0x81, 15))
    FUZZ_DEVICE_ROW(vga, PIO(0x3b0, 0x30), PIO(0x1ce, 2), MMIO(0xa0000, 0x20000))
    FUZZ_DEVICE_ROW_DISKS(fdc, "fda", PIO(0x3f0, 6), PIO(0x3f7, 1), PIO(0x00, 16), PIO(0x81, 15))
    FUZZ_DEVICE_ROW_DISKS(ide, "hda+cdrom", PIO(0x1f0, 8), PIO(0x3f6, 1), PIO(0x170, 8),
                          PIO(0x376, 1))
    FUZZ_DEVICE_ROW_SETUP(uhci, uhci_args, uhci_setup, 20000, PIO(UHCI_FUZZ_IO, 0x20))
    /* Interrupt endpoints are polled every 1..64 ms: 20 ms steps. */
    FUZZ_DEVICE_ROW_SETUP(xhci, xhci_args, xhci_setup, 20000, MMIO(XHCI_FUZZ_MMIO, 0x4000),
                          MMIO(XHCI_FUZZ_MSIX, 0x1000))
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
        clock_advance(m->clock, (int64_t)(target->clock_max_us ? v % target->clock_max_us
                                                               : v & 0xffffff) * 1000);
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
    static char path[256];
    fuzz_tmp_path(path, sizeof path, "disk", "-XXXXXX");
    int fd = mkstemp(path);
    if (fd < 0 || ftruncate(fd, (off_t)size) < 0)
        abort();
    close(fd);
    return path;
}

/* The target's disks as command-line options, so the board opens them the
 * way it opens a user's (drive_open); -nodefaults keeps the board small. */
static void parse_options(const char *drives, const char *const *args)
{
    char *argv[24], hda[64], cd[64], fda[64];
    int argc = 0;
    argv[argc++] = "vx86-fuzz";
    argv[argc++] = "-nodefaults";
    for (int i = 0; args && args[i] && argc < 16; i++)
        argv[argc++] = (char *)args[i];
    if (!drives)
        drives = "";
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
        if (target->drives || target->args)
            parse_options(target->drives, target->args);
        machine = machine_new(16 << 20, CLOCK_MANUAL, err, sizeof err);
        if (!machine)
            abort();
        machine->opts = &opts;
        board = pc_create(machine, &opts, err, sizeof err);
        if (!board)
            abort();
    }
    fuzz_machine_next_input(machine);
    machine_reset_devices(machine);
    memset(machine->ram, 0, 1 << 20);
    if (target->setup)
        target->setup(machine, board);
    FuzzInput in = { data, size };
    while (in.left)
        run_op(machine, &in);
    return 0;
}
