/*
 * PCI bus core: one conventional PCI bus (bus 0), 256 functions (devfn =
 * device << 3 | function), a 256-byte type-0 configuration space per
 * function, 32-bit BARs with sizing, command-register decode enables and
 * INTx routing through four PIRQ lines.
 *
 * The host bridge (hw/i440fx.c) turns configuration mechanism #1 into
 * pci_bus_config_read/write; the ISA bridge (hw/piix3.c) installs the
 * PIRQ router.  A device model registers a function, declares its BARs and
 * raises its INTx pin:
 *
 *   PCIConfigInit ids = { .vendor_id = 0x1af4, .device_id = 0x1001,
 *                         .class_code = 0x010000, .int_pin = 1 };
 *   PCIDevice *d = pci_register_function(bus, PCI_DEVFN(3, 0), &ids,
 *                                        "virtio-blk", NULL, NULL, vblk);
 *   pci_register_bar(d, 0, 0x40, true, &vblk_io_ops, vblk);
 *   pci_set_irq(d, 1);
 *
 * When the guest sets the IO/memory enable bits in the command register
 * and programs a BAR, the BAR is mapped into m->io or m->mem (and unmapped
 * again when disabled or moved).  The bus owns its functions: they are
 * freed with the bus, so device models must not touch their PCIDevice in
 * their own free hook.
 */
#ifndef VX86_HW_PCI_H
#define VX86_HW_PCI_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/machine.h"

#define PCI_DEVFN(dev, fn)      ((((dev) & 0x1f) << 3) | ((fn) & 7))
#define PCI_SLOT(devfn)         (((devfn) >> 3) & 0x1f)
#define PCI_FUNC(devfn)         ((devfn) & 7)

/* Standard type-0 header offsets. */
#define PCI_VENDOR_ID           0x00
#define PCI_DEVICE_ID           0x02
#define PCI_COMMAND             0x04
#define PCI_STATUS              0x06
#define PCI_REVISION_ID         0x08
#define PCI_CLASS_PROG          0x09
#define PCI_CLASS_DEVICE        0x0a
#define PCI_CACHE_LINE_SIZE     0x0c
#define PCI_LATENCY_TIMER       0x0d
#define PCI_HEADER_TYPE         0x0e
#define PCI_BAR0                0x10
#define PCI_SUBSYSTEM_VENDOR_ID 0x2c
#define PCI_SUBSYSTEM_ID        0x2e
#define PCI_ROM_ADDRESS         0x30
#define PCI_CAPABILITY_LIST     0x34
#define PCI_INTERRUPT_LINE      0x3c
#define PCI_INTERRUPT_PIN       0x3d

#define PCI_COMMAND_IO          0x0001
#define PCI_COMMAND_MEMORY      0x0002
#define PCI_COMMAND_MASTER      0x0004
#define PCI_COMMAND_PARITY      0x0040
#define PCI_COMMAND_SERR        0x0100
#define PCI_COMMAND_INTX_DISABLE 0x0400
#define PCI_STATUS_INTERRUPT    0x0008
#define PCI_STATUS_CAP_LIST     0x0010

/* Capability IDs (PCI Local Bus 3.0, appendix H). */
#define PCI_CAP_ID_MSI          0x05
#define PCI_CAP_ID_VNDR         0x09
#define PCI_CAP_ID_MSIX         0x11
/* Capabilities live in the device-specific area [0x40, 0x100). */
#define PCI_CAP_AREA_START      0x40

/* The MSI address window (Intel SDM vol. 3, 11.11.1): a memory write of
 * 32 bits to 0xFEExxxxx by a bus master is an interrupt message, not a
 * write to memory. */
#define PCI_MSI_ADDR_BASE       0xfee00000u
#define PCI_MSI_ADDR_MASK       0xfff00000u

#define PCI_NUM_BARS            6
#define PCI_NUM_PIRQS           4
/* MMIO BARs sit above RAM (0) and equal to ROM (1): a BAR the guest
 * places over firmware ROM is refused and logged, not silently shadowing. */
#define PCI_BAR_PRIORITY        1

typedef struct PCIBus PCIBus;
typedef struct PCIDevice PCIDevice;

/* Read-only identity of a function, copied into its config space. */
typedef struct PCIConfigInit {
    uint16_t vendor_id, device_id;
    uint8_t revision;
    uint32_t class_code;      /* class << 16 | subclass << 8 | prog-if */
    uint8_t header_type;      /* 0x00, or 0x80 for a multi-function device */
    uint16_t subsys_vendor_id, subsys_id;
    uint8_t int_pin;          /* 0 none, 1..4 = INTA#..INTD# */
} PCIConfigInit;

/* Config hooks: replace the default behaviour for a function; they may
 * call pci_default_config_read/write for the standard part.  addr is the
 * register offset (0..255), size 1, 2 or 4, and addr + size <= 256. */
typedef uint32_t (*PCIConfigReadFn)(PCIDevice *d, uint32_t addr, unsigned size);
typedef void (*PCIConfigWriteFn)(PCIDevice *d, uint32_t addr, uint32_t val,
                                 unsigned size);

typedef struct PCIBar {
    uint32_t size;            /* power of two; 0 = BAR not implemented */
    bool io;
    const MemOps *ops;
    void *opaque;
    bool mapped;
    uint32_t mapped_addr;
    MemRegion *region;        /* memory BAR while mapped */
    uint8_t *ram;             /* RAM BAR (pci_register_bar_ram): its host memory */
    uint64_t *ram_log;        /* and the dirty log its writes set */
    bool prefetch;            /* memory BAR: bit 3 reads as 1 */
} PCIBar;

/* The expansion ROM BAR (config 0x30): bits 31:11 the address, bit 0 the
 * enable.  Mapped read-only while enabled, memory decode is on and the
 * address is assigned. */
typedef struct PCIRom {
    uint8_t *data;            /* page-aligned, size bytes (image + 0xff pad) */
    uint32_t size;            /* power of two >= 2 KiB; 0 = no ROM */
    bool mapped;
    uint32_t mapped_addr;
    MemRegion *region;
} PCIRom;

struct PCIDevice {
    PCIBus *bus;
    int devfn;
    char name[32];
    uint8_t config[256];
    uint8_t wmask[256];       /* bits the guest may change */
    uint8_t w1cmask[256];     /* bits the guest clears by writing 1 */
    PCIBar bars[PCI_NUM_BARS];
    PCIRom rom;
    PCIConfigReadFn config_read;
    PCIConfigWriteFn config_write;
    void *opaque;             /* the device model's state */
    bool irq_level;           /* INTx as driven by the device model */
    uint8_t load_config[256]; /* snapshot staging: validated in post_load */
    uint16_t cap_free;        /* next free capability offset (0: none added) */
};

/* PIRQ router: called when the wired-OR level of PIRQ n (0..3) changes. */
typedef void (*PCIPirqFn)(void *opaque, int pirq, int level);
/* Interrupt message sink: a bus master wrote data (32 bits) to addr in the
 * MSI window 0xFEExxxxx.  The board hands it to the local APIC(s)
 * (lapic_deliver_msi). */
typedef void (*PCIMsiFn)(void *opaque, uint64_t addr, uint32_t data);

PCIBus *pci_bus_new(Machine *m);
Machine *pci_bus_machine(PCIBus *bus);
void pci_bus_set_pirq_router(PCIBus *bus, PCIPirqFn fn, void *opaque);
void pci_bus_set_msi_handler(PCIBus *bus, PCIMsiFn fn, void *opaque);
/* Current level of PIRQ n: 1 when any function routed to it asserts. */
int pci_bus_pirq_level(PCIBus *bus, int pirq);
PCIDevice *pci_bus_find(PCIBus *bus, int devfn);

/* Registers a function at devfn (0..255).  name is copied; rd/wr may be
 * NULL for the default behaviour.  Returns NULL when devfn is taken or out
 * of range. */
PCIDevice *pci_register_function(PCIBus *bus, int devfn, const PCIConfigInit *ids,
                                 const char *name, PCIConfigReadFn rd,
                                 PCIConfigWriteFn wr, void *opaque);
/* Declares BAR n (0..5): size is a power of two (>= 4 for IO, >= 16 for
 * memory; smaller sizes are rounded up).  The ops see offsets relative to
 * the BAR base. */
void pci_register_bar(PCIDevice *d, int bar, uint32_t size, bool io,
                      const MemOps *ops, void *opaque);
/* Declares memory BAR n as RAM: host memory of size bytes (a power of two
 * of at least 4 KiB) that the CPU reads and writes directly wherever the
 * guest maps the BAR, its writes logged in log (memmap_add_ram_logged:
 * size / 4096 bits, the device's to sync with machine_region_log_sync).
 * Refused (false) for another size. */
bool pci_register_bar_ram(PCIDevice *d, int bar, uint32_t size, uint8_t *host, uint64_t *log);
/* Marks memory BAR n prefetchable (bit 3), as display framebuffers are. */
void pci_bar_set_prefetchable(PCIDevice *d, int bar);
/* Gives the function an expansion ROM (PCI_ROM_ADDRESS): len bytes of
 * image, copied; the BAR's size is len rounded up to a power of two (at
 * least 2 KiB).  False when len is 0 or above 16 MiB. */
bool pci_register_rom(PCIDevice *d, const void *image, size_t len);
/* Current guest-programmed base of BAR n (flag bits stripped). */
uint32_t pci_bar_address(PCIDevice *d, int bar);

/* Configuration cycles from the host bridge; devfn without a function
 * reads all ones and ignores writes.  Misaligned accesses are dropped. */
uint32_t pci_bus_config_read(PCIBus *bus, int devfn, uint32_t addr, unsigned size);
void pci_bus_config_write(PCIBus *bus, int devfn, uint32_t addr, uint32_t val,
                          unsigned size);
uint32_t pci_default_config_read(PCIDevice *d, uint32_t addr, unsigned size);
void pci_default_config_write(PCIDevice *d, uint32_t addr, uint32_t val,
                              unsigned size);

/* Little-endian helpers on a function's config space. */
uint32_t pci_get_long(const PCIDevice *d, uint32_t addr);
uint16_t pci_get_word(const PCIDevice *d, uint32_t addr);
void pci_set_long(PCIDevice *d, uint32_t addr, uint32_t v);
void pci_set_word(PCIDevice *d, uint32_t addr, uint16_t v);

/* INTx of the function's pin (config 0x3d), honouring INTX_DISABLE. */
void pci_set_irq(PCIDevice *d, int level);
/* PIRQ (0..3) that pin (1-4 = INTA-D) of slot reaches on the board:
 * (slot - 1 + pin - 1) mod 4, the i440FX/PIIX3 wiring QEMU's pc machine
 * has and SeaBIOS's own tables (_PRT, PCI interrupt lines) assume: slot 1
 * INTA -> PIRQA, the UHCI's INTD (01.2) -> PIRQD.  The board's own _PRT
 * and MP table are built from it too. */
int pci_slot_pirq(int slot, int pin);
/* pci_slot_pirq of the function's pin (config 0x3d); -1 when it has none. */
int pci_device_pirq(const PCIDevice *d);

/* Adds a capability of size bytes (>= 2: ID and next pointer filled in)
 * to the function's list, after the previous ones, from 0x40 up, dword
 * aligned; its bytes are read-only to the guest (clear wmask bits for the
 * writable ones).  Sets the status register's capability-list bit.
 * Returns the config offset, or -1 when the area is full. */
int pci_add_capability(PCIDevice *d, uint8_t id, unsigned size);
/* Offset of the first capability with this ID, or 0. */
int pci_find_capability(PCIDevice *d, uint8_t id);
/* Makes bits of config bytes [addr, addr + len) guest-writable (mask
 * applied to each byte). */
void pci_set_wmask(PCIDevice *d, uint32_t addr, unsigned len, uint8_t mask);

/* An interrupt message from the function (MSI or MSI-X): a 32-bit memory
 * write of data to addr by a bus master.  Dropped unless bus mastering is
 * enabled; the MSI window goes to the bus's MSI handler, any other address
 * is an ordinary DMA write to RAM (as on hardware). */
void pci_send_msi(PCIDevice *d, uint64_t addr, uint32_t data);

/* Bus-master DMA: false (nothing copied) unless bus mastering is enabled
 * and the whole range is RAM. */
bool pci_dma_read(PCIDevice *d, uint64_t addr, void *buf, size_t len);
bool pci_dma_write(PCIDevice *d, uint64_t addr, const void *buf, size_t len);

/* Re-evaluates BAR mappings after command/BAR changes (called by the
 * default config write; device hooks that bypass it call this). */
void pci_update_mappings(PCIDevice *d);

#endif
