/*
 * e1000 receive harness: the device set up the way Linux's driver leaves
 * it (a 256-descriptor RX ring with 2 KiB buffers, RDT one behind RDH,
 * interrupts enabled), then frames from the fuzzer arrive from the cable.
 * The first 8 bytes choose RCTL (filter modes, buffer size, LPE, SECRC),
 * CTRL.VME, the MTA word and RDTR; the rest is frames, each a 2-byte
 * length and its bytes; between frames the guest "refills" the ring by
 * moving RDT, so queued frames are flushed too.
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
#define DEVFN PCI_DEVFN(3, 0)
#define RING 0x10000
#define BUFS 0x100000
#define NDESC 256

static Machine *machine;
static NetClient *peer;

static void wr(uint32_t off, uint32_t v) { memmap_write(machine->mem, MMIO + off, v, 4); }

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
    pci_bus_config_write(bus, DEVFN, PCI_COMMAND, 6, 2);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (!machine)
        setup();
    fuzz_machine_next_input(machine);
    machine_reset_devices(machine);
    FuzzInput in = { data, size };
    for (uint32_t i = 0; i < NDESC; i++) {
        uint64_t a = BUFS + (uint64_t)i * 16384;
        memcpy(machine->ram + RING + 16 * i, &a, 8);
        memset(machine->ram + RING + 16 * i + 8, 0, 8);
    }
    uint32_t rctl = fuzz_u32(&in);
    uint8_t ctrl = fuzz_u8(&in), mta = fuzz_u8(&in);
    uint16_t rdtr = fuzz_u16(&in);
    wr(E1000_RDBAL, RING);
    wr(E1000_RDLEN, NDESC * 16);
    wr(E1000_RDH, 0);
    wr(E1000_RDT, NDESC - 1);
    wr(E1000_IMS, 0xffff);
    wr(E1000_RDTR, rdtr & 0xff);
    wr(E1000_MTA + 4 * (mta & 127), 0xffffffffu);
    if (ctrl & 1)
        wr(E1000_CTRL, 0x40000000u);
    wr(E1000_RCTL, rctl | 2);
    uint8_t frame[20000];
    while (in.left) {
        size_t n = fuzz_u16(&in) % sizeof frame;
        for (size_t i = 0; i < n; i++)
            frame[i] = fuzz_u8(&in);
        if (n)
            test_netdev_inject(peer, frame, n);
        /* The driver hands the used buffers back. */
        uint32_t h = (uint32_t)memmap_read(machine->mem, MMIO + E1000_RDH, 4);
        wr(E1000_RDT, (h + NDESC - 1) % NDESC);
        (void)memmap_read(machine->mem, MMIO + E1000_ICR, 4);
        clock_advance(machine->clock, 50000);
    }
    return 0;
}
