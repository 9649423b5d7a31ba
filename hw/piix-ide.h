/*
 * PIIX3 IDE function (PCI 8086:7010, class 01.01.80): the two legacy
 * channels (hw/ide.c) and the SFF-8038i bus-master IDE engine behind
 * BAR4 (16 IO ports: per channel at +0/+8 the command byte, at +2/+10 the
 * status byte, at +4/+12 the PRD table address).
 *
 *   PIIXIDEConfig c = { .devfn = PCI_DEVFN(1, 1),
 *       .port = { 0x1f0, 0x170 }, .ctl = { 0x3f6, 0x376 },
 *       .irq = { isa[14], isa[15] } };
 *   PIIXIDEState *s = piix_ide_create(m, bus, &c);
 *   ide_drive_attach(piix_ide_bus(s, 0), 0, IDE_HD, bb);
 *
 * Bus master (SFF-8038i rev 1.0, 3.x): writing Start=1 loads the PRD
 * table address and sets Active; the engine walks 8-byte entries (base
 * address, byte count with 0 meaning 64 KiB, bit 31 of the second dword
 * = end of table).  Guest-controlled values are bounded: an entry or
 * table outside RAM, bus mastering disabled, a direction that does not
 * match the command, or a table that runs past 64 KiB of entries without
 * an end bit set Error, clear Active, and the device ends its command
 * with ERR/ABRT.  A table shorter than the transfer is an error too (the
 * real part would stall until the driver's timeout).
 *
 * Unlike the real part, IDETIM (0x40/0x42) comes out of reset with the
 * decode-enable bit set, so a firmware-less direct Linux boot finds both
 * channels enabled (ata_piix checks the bit); the legacy ports always
 * decode.
 */
#ifndef VX86_HW_PIIX_IDE_H
#define VX86_HW_PIIX_IDE_H

#include <stdbool.h>
#include <stdint.h>

#include "hw/ide.h"
#include "hw/pci.h"

#define BM_CMD_START        0x01
#define BM_CMD_READ         0x08      /* bus master writes memory (device -> RAM) */
#define BM_ST_ACTIVE        0x01
#define BM_ST_ERROR         0x02
#define BM_ST_INTR          0x04
#define BM_ST_DMA0          0x20
#define BM_ST_DMA1          0x40
#define BM_PRD_TABLE_MAX    65536     /* bytes of PRD table walked per start */

typedef struct PIIXIDEConfig {
    int devfn;
    uint16_t port[2], ctl[2];
    IRQLine *irq[2];
} PIIXIDEConfig;

typedef struct PIIXIDEState PIIXIDEState;

/* One channel's bus-master engine. */
typedef struct BMDMAState {
    PIIXIDEState *s;
    int ch;
    uint8_t cmd, status;
    uint32_t prd_table;       /* as the guest programmed it */
    uint32_t prd_next;        /* next entry to fetch */
    uint32_t prd_walked;      /* bytes of table fetched since Start */
    uint32_t cur_addr, cur_left;   /* the current entry's rest */
    bool cur_eot;             /* the current entry is the last */
    IRQLine irq_in;           /* the channel's INTRQ comes here */
    bool irq_in_level;
} BMDMAState;

struct PIIXIDEState {
    Machine *m;
    PCIDevice *dev;
    IDEBus *bus[2];
    IRQLine *irq_out[2];
    BMDMAState bm[2];
};

PIIXIDEState *piix_ide_create(Machine *m, PCIBus *bus, const PIIXIDEConfig *c);
IDEBus *piix_ide_bus(PIIXIDEState *s, int ch);

#endif
