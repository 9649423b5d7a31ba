/*
 * Test devices that public test suites (kvm-unit-tests, QEMU's own tests)
 * expect, with QEMU's register layouts:
 *
 * pc-testdev (ISA):
 *   0xe0-0xe3  a 32-bit scratch register; an access of any width at port
 *              0xe0+k reads/writes its bytes k.. (little-endian lanes)
 *   0xe4-0xe7  "flush page": a 32-bit write of a guest-physical address
 *              (QEMU re-protects the host page; nothing to do here)
 *   0xe8-0xeb  the same scratch register, accesses split into bytes; a
 *              port of these another device already has (a debug console
 *              at 0xe9) stays with it, as in QEMU when the debug console
 *              is added after pc-testdev
 *   0x2000-0x2017  IRQ lines: writing V to 0x2000+n sets ISA/GSI line n
 *              to (V != 0); reads return 0
 *   MMIO 0xff000000, 64 KiB: a plain byte buffer
 *
 * pci-testdev (PCI 1b36:0005, no interrupt pin): BAR0 4 KiB memory, BAR1
 * 256 IO ports.  Both start with the header of the selected test
 *   0 test (write selects test N of this BAR's kind), 1 width, 4 offset
 *   (le32), 8 data, 12 count (le32), 16 name (NUL-terminated)
 * Six tests: {mmio, portio} x {no-eventfd, wildcard-eventfd,
 * datamatch-eventfd}; test i (= kind * 3 + N) counts byte writes at
 * offset 2048 + i (memory) or 128 + i (IO), matching data 0xfa unless it
 * is the wildcard (data 0xce).  vx86 has no ioeventfds, so every matching
 * write is counted, which kvm-unit-tests accepts (count 0 or all).
 *
 *   PCTestdevState *t = pc_testdev_create(m, 0xe0, 0x2000, 0xff000000, gsi_lines);
 *   PCITestdevState *p = pci_testdev_create(m, bus, PCI_DEVFN(3, 0));
 */
#ifndef VX86_HW_TESTDEV_H
#define VX86_HW_TESTDEV_H

#include <stdint.h>

#include "core/irq.h"
#include "core/machine.h"
#include "hw/pci.h"

#define PC_TESTDEV_IOMEM_BASE 0xff000000ULL
#define PC_TESTDEV_IOMEM_SIZE 0x10000u
#define PC_TESTDEV_IRQ_PORT   0x2000
#define PC_TESTDEV_NIRQ       24

#define PCI_TESTDEV_VENDOR    0x1b36
#define PCI_TESTDEV_DEVICE    0x0005

typedef struct PCTestdevState PCTestdevState;
typedef struct PCITestdevState PCITestdevState;

/* Claims ports base..base+11 (of base+8..+11 those still free),
 * irq_port..+23 and the 64 KiB MMIO window;
 * irq[n] (n < 24, entries may be NULL) are the lines 0x2000+n drives.
 * NULL when something is taken. */
PCTestdevState *pc_testdev_create(Machine *m, uint16_t base, uint16_t irq_port,
                                  uint64_t iomem_base, IRQLine *const irq[PC_TESTDEV_NIRQ]);

/* Registers the function at devfn; NULL when devfn is taken. */
PCITestdevState *pci_testdev_create(Machine *m, PCIBus *bus, int devfn);

#endif
