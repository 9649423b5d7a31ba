/*
 * Intel 82540EM gigabit Ethernet controller (the "e1000", PCI 8086:100E),
 * as in Intel's PCI/PCI-X Family of Gigabit Ethernet Controllers Software
 * Developer's Manual (8254x): registers in memory BAR0 (128 KiB) and
 * through the IOADDR/IODATA window of I/O BAR1, the Microwire EEPROM (64
 * words: MAC address, IDs, checksum word making the sum 0xBABA; also
 * readable through EERD), the internal PHY over MDIC, legacy receive and
 * transmit descriptor rings with the TX context descriptor's checksum
 * offload and TCP segmentation (TSO), interrupt causes with ITR
 * moderation and the RDTR/RADV receive timers, unicast/multicast
 * filtering (RAL/RAH, MTA) and statistics.
 *
 * Every address and length the guest gives is checked: DMA goes only to
 * guest RAM through pci_dma_read/write (a descriptor or buffer outside RAM
 * is skipped), ring indices are taken modulo the ring size, a packet is
 * bounded by a fixed buffer, and the work done per doorbell is bounded by
 * the ring size.
 *
 *   E1000Config c = { .devfn = PCI_DEVFN(3, 0), .mac = {0x52,0x54,0,0x12,0x34,0x56} };
 *   E1000State *e = e1000_create(m, pci_bus, &c, backend, err, sizeof err);
 */
#ifndef VX86_HW_E1000_H
#define VX86_HW_E1000_H

#include <stdint.h>

#include "core/machine.h"
#include "hw/pci.h"
#include "net/net.h"

typedef struct E1000State E1000State;

typedef struct E1000Config {
    int devfn;
    uint8_t mac[6];
    const char *name;         /* the NIC's NetClient id; NULL: "e1000" */
} E1000Config;

/* Registers the function at c->devfn and connects it to backend (NULL:
 * no cable, frames go nowhere).  NULL with err set when the slot is
 * taken. */
E1000State *e1000_create(Machine *m, PCIBus *bus, const E1000Config *c, NetClient *backend,
                         char *err, size_t errlen);
NetClient *e1000_net_client(E1000State *s);
PCIDevice *e1000_pci(E1000State *s);

/* Register offsets (bytes into BAR0). */
enum {
    E1000_CTRL = 0x0000, E1000_STATUS = 0x0008, E1000_EECD = 0x0010, E1000_EERD = 0x0014,
    E1000_CTRL_EXT = 0x0018, E1000_MDIC = 0x0020, E1000_ICR = 0x00c0, E1000_ITR = 0x00c4,
    E1000_ICS = 0x00c8, E1000_IMS = 0x00d0, E1000_IMC = 0x00d8, E1000_RCTL = 0x0100,
    E1000_TCTL = 0x0400, E1000_PBA = 0x1000,
    E1000_RDBAL = 0x2800, E1000_RDBAH = 0x2804, E1000_RDLEN = 0x2808, E1000_RDH = 0x2810,
    E1000_RDT = 0x2818, E1000_RDTR = 0x2820, E1000_RADV = 0x282c,
    E1000_TDBAL = 0x3800, E1000_TDBAH = 0x3804, E1000_TDLEN = 0x3808, E1000_TDH = 0x3810,
    E1000_TDT = 0x3818, E1000_TIDV = 0x3820, E1000_TADV = 0x382c,
    E1000_STATS = 0x4000, E1000_GPRC = 0x4074, E1000_BPRC = 0x4078, E1000_MPRC = 0x407c,
    E1000_GPTC = 0x4080, E1000_GORCL = 0x4088, E1000_GOTCL = 0x4090, E1000_RNBC = 0x40a0,
    E1000_TPR = 0x40d0, E1000_TPT = 0x40d4, E1000_STATS_END = 0x4100,
    E1000_RXCSUM = 0x5000, E1000_MTA = 0x5200, E1000_RA = 0x5400, E1000_VFTA = 0x5600,
};

/* Interrupt causes (ICR/ICS/IMS/IMC). */
enum {
    E1000_ICR_TXDW = 1u << 0, E1000_ICR_TXQE = 1u << 1, E1000_ICR_LSC = 1u << 2,
    E1000_ICR_RXDMT0 = 1u << 4, E1000_ICR_RXO = 1u << 6, E1000_ICR_RXT0 = 1u << 7,
    E1000_ICR_MDAC = 1u << 9,
};

#endif
