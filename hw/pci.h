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
};

/* PIRQ router: called when the wired-OR level of PIRQ n (0..3) changes. */
typedef void (*PCIPirqFn)(void *opaque, int pirq, int level);

PCIBus *pci_bus_new(Machine *m);
Machine *pci_bus_machine(PCIBus *bus);
void pci_bus_set_pirq_router(PCIBus *bus, PCIPirqFn fn, void *opaque);
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
/* PIRQ (0..3) that the function's pin reaches on the board: the usual
 * swizzle (slot + pin - 1) mod 4.  -1 when the function has no pin. */
int pci_device_pirq(const PCIDevice *d);

/* Bus-master DMA: false (nothing copied) unless bus mastering is enabled
 * and the whole range is RAM. */
bool pci_dma_read(PCIDevice *d, uint64_t addr, void *buf, size_t len);
bool pci_dma_write(PCIDevice *d, uint64_t addr, const void *buf, size_t len);

/* Re-evaluates BAR mappings after command/BAR changes (called by the
 * default config write; device hooks that bypass it call this). */
void pci_update_mappings(PCIDevice *d);

#endif
