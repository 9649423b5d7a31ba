/*
 * MSI-X for PCI functions (PCI Local Bus 3.0, section 6.8.2): the
 * capability in config space, the vector table and the pending-bit array
 * (PBA) in a memory BAR, and message delivery through pci_send_msi (the
 * board turns messages to 0xFEExxxxx into LAPIC interrupts).
 *
 *   MSIXState *x = msix_create(pci_dev, 3, 1);    // 3 vectors, table in BAR 1
 *   config write hook: pci_default_config_write(...); msix_config_write(x, addr, size);
 *   interrupt:  if (msix_enabled(x)) msix_notify(x, vector); else pci_set_irq(d, 1);
 *   reset:      msix_reset(x);  (the owner's reset)
 *
 * The BAR holds the table at offset 0 (16 bytes per vector) and the PBA at
 * MSIX_PBA_OFFSET; it is registered here (4 KiB, 32-bit memory).  A masked
 * vector (its entry's mask bit or the function mask) sets its pending bit;
 * unmasking sends the message and clears the bit.  Table entries reset to
 * masked.  The owner frees nothing: the state is freed with the device
 * record msix_create adds to the machine.
 */
#ifndef VX86_HW_MSIX_H
#define VX86_HW_MSIX_H

#include <stdbool.h>
#include <stdint.h>

#include "hw/pci.h"

#define MSIX_MAX_VECTORS     64
#define MSIX_BAR_SIZE        0x1000
#define MSIX_PBA_OFFSET      0x800
#define MSIX_ENTRY_SIZE      16
#define MSIX_CAP_SIZE        12

/* Message control word (capability + 2). */
#define MSIX_CTRL_ENABLE     0x8000
#define MSIX_CTRL_MASKALL    0x4000
#define MSIX_ENTRY_MASKED    1u       /* vector control bit 0 */

typedef struct MSIXState MSIXState;

/* Adds the capability and BAR bar (4 KiB) to d; NULL when nvec is out of
 * 1..MSIX_MAX_VECTORS or config space has no room. */
MSIXState *msix_create(PCIDevice *d, int nvec, int bar);
int msix_vectors(const MSIXState *x);
bool msix_enabled(const MSIXState *x);
/* Sends vector's message, or marks it pending while masked.  No-op for
 * vectors out of range or when MSI-X is disabled. */
void msix_notify(MSIXState *x, int vector);
bool msix_is_pending(const MSIXState *x, int vector);
/* Call after every config write the owner's hook passes on: acts on the
 * enable and function-mask bits (pending messages go out on unmask). */
void msix_config_write(MSIXState *x, uint32_t addr, unsigned size);
void msix_reset(MSIXState *x);

#endif
