/*
 * Intel 82441FX PMC (i440FX host bridge) at PCI 00.0 and configuration
 * mechanism #1 on ports 0xcf8 (CONFIG_ADDRESS, dword) and 0xcfc-0xcff
 * (CONFIG_DATA, byte/word/dword).  The PIIX reset control register at port
 * 0xcf9 is decoded here too, because it shares the 0xcf8 dword.
 *
 *   PCIBus *bus = pci_bus_new(m);
 *   I440FXState *hb = i440fx_create(m, bus);
 *
 * PAM (0x59-0x5f) and SMRAM (0x72) registers are recorded; they do not
 * remap the BIOS area (the board maps the BIOS as ROM below 1 MiB).
 */
#ifndef VX86_HW_I440FX_H
#define VX86_HW_I440FX_H

#include <stdint.h>

#include "core/machine.h"
#include "hw/pci.h"

#define I440FX_CONFIG_ADDRESS 0xcf8
#define I440FX_CONFIG_DATA    0xcfc
#define I440FX_RESET_CONTROL  0xcf9
#define I440FX_PAM0           0x59
#define I440FX_SMRAM          0x72

typedef struct I440FXState {
    Machine *m;
    PCIBus *bus;
    PCIDevice *dev;
    uint32_t config_address;  /* last dword written to 0xcf8 */
    uint8_t reset_control;    /* port 0xcf9 */
} I440FXState;

I440FXState *i440fx_create(Machine *m, PCIBus *bus);
/* PAM register value for 0x59 + n (n = 0..6), for a future BIOS-shadow
 * implementation in the board. */
uint8_t i440fx_pam(I440FXState *s, int n);

#endif
