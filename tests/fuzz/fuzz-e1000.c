/*
 * e1000 harness: an 82540EM on a PCI bus with its BARs and bus mastering
 * programmed (as firmware would), driven by the fuzzer's bytes as a guest
 * driver would drive it: MMIO and I/O BAR register accesses, pokes into
 * guest RAM (descriptor rings and buffers live in the low 1 MiB), clock
 * advances (ITR, RDTR/RADV timers) and frames arriving from the cable.
 *
 * Each input is a list of 8-byte operations:
 *   byte 0    kind (mod 6): 0 MMIO write, 1 MMIO read, 2 I/O BAR write,
 *             3 RAM poke, 4 clock advance, 5 a frame from the network
 *   byte 1-3  register offset (MMIO, mod 128 KiB; I/O: bit 2 picks IODATA)
 *   byte 4-7  value (RAM poke: address in bits 0-19, byte in 24-31; clock:
 *             microseconds; frame: its length in bits 0-10, its bytes
 *             taken from the rest of the input)
 * Register values that name ring addresses mostly land in the low MiB,
 * so the device finds the rings the input built.
 */
#include <stdlib.h>
#include <string.h>

#include "core/machine.h"
#include "hw/e1000.h"
#include "hw/pci.h"
#include "net/net.h"
#include "tests/fuzz/fuzz.h"
#include "tests/fuzz/fuzz-machine.h"

#define MMIO 0xfebc0000u
#define IOB 0xc000
#define DEVFN PCI_DEVFN(3, 0)

static Machine *machine;
static NetClient *peer;

static void setup(void)
{
    char err[256];
    machine = machine_new(16 << 20, CLOCK_MANUAL, err, sizeof err);
    if (!machine || !memmap_add_ram(machine->mem, "ram", 0, 16 << 20, machine->ram, NULL))
        abort();
    PCIBus *bus = pci_bus_new(machine);
    peer = test_netdev_new("peer");
    E1000Config c = { .devfn = DEVFN, .mac = { 0x52, 0x54, 0, 0x12, 0x34, 0x56 } };
    if (!e1000_create(machine, bus, &c, peer, err, sizeof err))
        abort();
    pci_bus_config_write(bus, DEVFN, PCI_BAR0, MMIO, 4);
    pci_bus_config_write(bus, DEVFN, PCI_BAR0 + 4, IOB, 4);
    pci_bus_config_write(bus, DEVFN, PCI_COMMAND, 7, 2);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (!machine)
        setup();
    fuzz_machine_next_input(machine);
    machine_reset_devices(machine);
    test_netdev_clear(peer);
    memset(machine->ram, 0, 1 << 20);
    FuzzInput in = { data, size };
    uint8_t frame[2048];
    while (in.left) {
        uint8_t kind = fuzz_u8(&in) % 6;
        uint32_t off = fuzz_u16(&in) | (uint32_t)fuzz_u8(&in) << 16;
        uint32_t v = fuzz_u32(&in);
        switch (kind) {
        case 0:
            memmap_write(machine->mem, MMIO + (off & 0x1fffc), v, 4);
            break;
        case 1:
            (void)memmap_read(machine->mem, MMIO + (off & 0x1fffc), 4);
            break;
        case 2:
            iospace_write(machine->io, (uint16_t)(IOB + (off & 4)), v, 4);
            break;
        case 3:
            machine->ram[v & 0xfffff] = (uint8_t)(v >> 24);
            break;
        case 4:
            clock_advance(machine->clock, (int64_t)(v & 0xffff) * 1000);
            break;
        case 5: {
            size_t n = v & 0x7ff;
            for (size_t i = 0; i < n; i++)
                frame[i] = fuzz_u8(&in);
            if (n)
                test_netdev_inject(peer, frame, n);
            break;
        }
        }
    }
    return 0;
}
