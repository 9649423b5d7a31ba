/*
 * Intel 82441FX PMC (i440FX host bridge) at PCI 00.0 and configuration
 * mechanism #1 on ports 0xcf8 (CONFIG_ADDRESS, dword) and 0xcfc-0xcff
 * (CONFIG_DATA, byte/word/dword).  The PIIX reset control register at port
 * 0xcf9 is decoded here too, because it shares the 0xcf8 dword.
 *
 *   PCIBus *bus = pci_bus_new(m);
 *   I440FXState *hb = i440fx_create(m, bus, I440FX_CONFIG_ADDRESS);
 *
 * PAM (0x59-0x5f): the Programmable Attribute Map decides, for each of
 * 13 segments of 0xC0000-0xFFFFF (twelve of 16 KiB from 0xC0000 to
 * 0xEFFFF, PAM1-PAM6 low/high nibbles; the 64 KiB 0xF0000 segment, PAM0
 * high nibble), whether reads and writes go to the DRAM behind the
 * window or to the bus (the board's BIOS ROM alias, option ROMs, or
 * nothing): bit 0 RE (reads from DRAM), bit 1 WE (writes to DRAM).  So
 * 0 = all to the bus, 1 = read-only shadow, 2 = write-only (reads still
 * from the bus), 3 = RAM.  The shadow regions sit at I440FX_PAM_PRIORITY
 * over whatever the board maps there; DRAM is the machine's RAM at the
 * same address (when RAM reaches 1 MiB).  SMRAM (0x72) is recorded only:
 * there is no SMM.
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
#define I440FX_PAM_SEGMENTS   13
#define I440FX_PAM_PRIORITY   2    /* above ROM (1) and RAM (0) */

struct I440FXState;
typedef struct I440FXPamWindow {   /* a write-only segment's MMIO opaque */
    struct I440FXState *s;
    uint64_t base;
} I440FXPamWindow;

typedef struct I440FXState {
    Machine *m;
    PCIBus *bus;
    PCIDevice *dev;
    uint16_t config_port;     /* CONFIG_ADDRESS; data at +4, reset control +1 */
    uint32_t config_address;  /* last dword written to CONFIG_ADDRESS */
    uint8_t reset_control;    /* port 0xcf9 */
    uint8_t *dram;            /* host RAM behind 0xC0000-0xFFFFF, or NULL */
    MemRegion *pam_region[I440FX_PAM_SEGMENTS];   /* NULL: segment on the bus */
    uint8_t pam_attr[I440FX_PAM_SEGMENTS];
    I440FXPamWindow pam_win[I440FX_PAM_SEGMENTS];
} I440FXState;

/* Registers 00.0 and claims ports config_port..+7 (the PC: 0xcf8).  NULL
 * when the devfn or a port is taken. */
I440FXState *i440fx_create(Machine *m, PCIBus *bus, uint16_t config_port);
/* PAM register value for 0x59 + n (n = 0..6). */
uint8_t i440fx_pam(I440FXState *s, int n);

#endif
