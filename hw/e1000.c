/*
 * Intel 82540EM gigabit Ethernet controller (see e1000.h).  Facts from
 * Intel's 8254x Software Developer's Manual: register map, descriptor
 * layouts, EEPROM map and Microwire protocol, PHY registers of the
 * internal (M88-type) PHY.
 *
 * Layout of this file: registers and reset; EEPROM; PHY/MDIC; interrupts
 * (causes, ITR moderation, RX delay timers); receive (filter, descriptor
 * ring); transmit (descriptor ring, context, checksum offload, TSO);
 * BAR access; state; create.
 */
#include "hw/e1000.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#include "core/log.h"
#include "core/util.h"

#define E1000_MMIO_SIZE 0x20000
#define E1000_IO_SIZE 0x40
#define E1000_NREGS (E1000_MMIO_SIZE / 4)
#define EEPROM_WORDS 64
#define TX_BUF_MAX (256u << 10)   /* one packet's data, TSO included */
#define RX_BUF_MAX 16384          /* the largest frame with LPE */

/* CTRL */
#define CTRL_FD (1u << 0)
#define CTRL_ASDE (1u << 5)
#define CTRL_SLU (1u << 6)
#define CTRL_SPEED_1000 (2u << 8)
#define CTRL_RST (1u << 26)
#define CTRL_VME (1u << 30)
#define CTRL_PHY_RST (1u << 31)
/* STATUS */
#define STATUS_FD (1u << 0)
#define STATUS_LU (1u << 1)
#define STATUS_SPEED_1000 (2u << 6)
#define STATUS_ASDV_1000 (2u << 8)
/* EECD */
#define EECD_SK (1u << 0)
#define EECD_CS (1u << 1)
#define EECD_DI (1u << 2)
#define EECD_DO (1u << 3)
#define EECD_FWE_MASK (3u << 4)
#define EECD_REQ (1u << 6)
#define EECD_GNT (1u << 7)
#define EECD_PRES (1u << 8)
/* EERD */
#define EERD_START (1u << 0)
#define EERD_DONE (1u << 4)
/* MDIC */
#define MDIC_OP_WRITE (1u << 26)
#define MDIC_OP_READ (2u << 26)
#define MDIC_READY (1u << 28)
#define MDIC_INT_EN (1u << 29)
#define MDIC_ERROR (1u << 30)
/* RCTL */
#define RCTL_EN (1u << 1)
#define RCTL_SBP (1u << 2)
#define RCTL_UPE (1u << 3)
#define RCTL_MPE (1u << 4)
#define RCTL_LPE (1u << 5)
#define RCTL_RDMTS_SHIFT 8
#define RCTL_MO_SHIFT 12
#define RCTL_BAM (1u << 15)
#define RCTL_BSIZE_SHIFT 16
#define RCTL_BSEX (1u << 25)
#define RCTL_SECRC (1u << 26)
/* TCTL */
#define TCTL_EN (1u << 1)
/* RAH */
#define RAH_AV (1u << 31)
/* RDTR */
#define RDTR_FPD (1u << 31)

/* Receive descriptor status/errors. */
#define RXD_STAT_DD 0x01
#define RXD_STAT_EOP 0x02
#define RXD_STAT_IXSM 0x04
#define RXD_STAT_VP 0x08
#define RXD_ERR_RXE 0x80
/* Transmit descriptor command bits (legacy CMD, DCMD, TUCMD share them). */
#define TXD_CMD_EOP 0x01
#define TXD_CMD_IC 0x04
#define TXD_CMD_RS 0x08
#define TXD_CMD_DEXT 0x20
#define TXD_CMD_VLE 0x40
#define TXD_CMD_TSE 0x04          /* DCMD/TUCMD */
#define TXD_TUCMD_TCP 0x01
#define TXD_TUCMD_IP 0x02         /* IPv4 (clear: IPv6) */
#define TXD_STAT_DD 0x01
#define TXD_POPTS_IXSM 0x01
#define TXD_POPTS_TXSM 0x02

/* PHY registers. */
enum {
    PHY_CTRL = 0, PHY_STATUS = 1, PHY_ID1 = 2, PHY_ID2 = 3, PHY_AUTONEG_ADV = 4,
    PHY_LP_ABILITY = 5, PHY_AUTONEG_EXP = 6, PHY_1000T_CTRL = 9, PHY_1000T_STATUS = 10,
    PHY_EXT_STATUS = 15, PHY_SPEC_CTRL = 16, PHY_SPEC_STATUS = 17,
};
#define PHY_CTRL_RESET 0x8000
#define PHY_CTRL_RESTART_AN 0x0200
#define PHY_STATUS_LINK 0x0004
#define PHY_STATUS_AN_DONE 0x0020
#define PHY_SPEC_STATUS_LINK 0x0400

typedef struct E1000TxContext {
    uint8_t ipcss, ipcso, tucss, tucso, tucmd, hdrlen;
    uint16_t ipcse, tucse, mss;
    uint32_t paylen;
} E1000TxContext;

struct E1000State {
    Machine *m;
    PCIDevice *dev;
    NetClient *nc;
    uint8_t conf_mac[6];

    uint32_t regs[E1000_NREGS];
    uint16_t eeprom[EEPROM_WORDS];
    uint16_t phy[32];
    uint32_t ioaddr;              /* I/O BAR: IOADDR */
    bool link_up;

    /* Microwire EEPROM: the shift register while a command comes in. */
    uint16_t ee_in;
    uint8_t ee_nbits;
    bool ee_reading;
    uint8_t ee_addr, ee_bit;      /* word and next bit (0 = MSB) being read */

    /* Transmit: the context and the packet being gathered. */
    E1000TxContext ctx;
    uint8_t *tx_buf;
    uint32_t tx_len;
    bool tx_overflow, tx_tse, tx_vle, tx_legacy;
    uint8_t tx_popts, tx_cso, tx_css, tx_cmd;
    uint16_t tx_vlan;

    /* Interrupts. */
    bool irq_level;
    int64_t last_irq_ns;
    Timer *itr_timer;
    Timer *rx_timer;              /* RDTR/RADV */
    int64_t radv_deadline;        /* 0 when no absolute deadline runs */
    uint8_t *rx_frame;
};

#define REG(s, off) ((s)->regs[(off) >> 2])

static void e1000_update_irq(E1000State *s);
static void e1000_phy_reset(E1000State *s);

/* ---- little helpers ---- */

static uint16_t ld16(const uint8_t *p) { return (uint16_t)(p[0] | p[1] << 8); }
static uint32_t ld32(const uint8_t *p) { return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24; }
static uint64_t ld64(const uint8_t *p) { return ld32(p) | (uint64_t)ld32(p + 4) << 32; }
static void st16(uint8_t *p, uint16_t v) { p[0] = (uint8_t)v; p[1] = (uint8_t)(v >> 8); }
static uint16_t be16(const uint8_t *p) { return (uint16_t)(p[0] << 8 | p[1]); }
static void stbe16(uint8_t *p, uint16_t v) { p[0] = (uint8_t)(v >> 8); p[1] = (uint8_t)v; }
static uint32_t be32(const uint8_t *p) { return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3]; }
static void stbe32(uint8_t *p, uint32_t v) { stbe16(p, (uint16_t)(v >> 16)); stbe16(p + 2, (uint16_t)v); }

static void stat_inc(E1000State *s, uint32_t off, uint32_t n)
{
    uint32_t *r = &REG(s, off);
    *r = *r + n < *r ? 0xffffffffu : *r + n;
}

/* 64-bit octet counters: low register, high register (saturating). */
static void stat_add64(E1000State *s, uint32_t off, uint32_t n)
{
    uint64_t v = REG(s, off) | (uint64_t)REG(s, off + 4) << 32;
    v += n;
    REG(s, off) = (uint32_t)v;
    REG(s, off + 4) = (uint32_t)(v >> 32);
}

/* ---- EEPROM ---- */

static void eeprom_init(E1000State *s)
{
    uint16_t *w = s->eeprom;
    memset(w, 0, sizeof s->eeprom);
    for (int i = 0; i < 3; i++)
        w[i] = (uint16_t)(s->conf_mac[2 * i] | s->conf_mac[2 * i + 1] << 8);
    w[0x0a] = 0x4000;             /* Initialization Control Word 1: valid signature */
    w[0x0b] = 0x001e;             /* Subsystem ID */
    w[0x0c] = 0x8086;             /* Subsystem Vendor ID */
    w[0x0d] = 0x100e;             /* Device ID */
    w[0x0e] = 0x8086;             /* Vendor ID */
    w[0x0f] = 0x3000;             /* Initialization Control Word 2: both PAUSE bits */
    uint16_t sum = 0;
    for (int i = 0; i < EEPROM_WORDS - 1; i++)
        sum = (uint16_t)(sum + w[i]);
    w[EEPROM_WORDS - 1] = (uint16_t)(0xbaba - sum);
}

/* EECD written: the Microwire EEPROM samples DI on each rising SK edge
 * while CS is high: a start bit 1, the opcode (10 = READ) and 6 address
 * bits; then it shifts the word out on DO, MSB first, one bit per rising
 * edge, going on with the next word.  Other commands (write, erase) are
 * taken in and ignored: the EEPROM is read-only here. */
static void eecd_write(E1000State *s, uint32_t val)
{
    uint32_t old = REG(s, E1000_EECD);
    uint32_t v = (val & (EECD_SK | EECD_CS | EECD_DI | EECD_FWE_MASK | EECD_REQ)) | EECD_PRES;
    if (v & EECD_REQ)
        v |= EECD_GNT;
    uint32_t dout = old & EECD_DO;
    if (!(v & EECD_CS)) {
        s->ee_nbits = 0;
        s->ee_in = 0;
        s->ee_reading = false;
        dout = 0;
    } else if ((v & EECD_SK) && !(old & EECD_SK)) {
        if (s->ee_reading) {
            uint16_t word = s->eeprom[s->ee_addr];
            dout = (word >> (15 - s->ee_bit)) & 1 ? EECD_DO : 0;
            if (++s->ee_bit == 16) {
                s->ee_bit = 0;
                s->ee_addr = (uint8_t)((s->ee_addr + 1) % EEPROM_WORDS);
            }
        } else if (s->ee_nbits < 9 && (s->ee_nbits > 0 || (v & EECD_DI))) {
            /* Leading zeros before the start bit are ignored. */
            s->ee_in = (uint16_t)(s->ee_in << 1 | ((v & EECD_DI) ? 1 : 0));
            if (++s->ee_nbits == 9 && (s->ee_in >> 6) == 6) {
                s->ee_reading = true;
                s->ee_addr = s->ee_in & 0x3f;
                s->ee_bit = 0;
                dout = 0;                 /* the dummy 0 before the data */
            }
        }
    }
    REG(s, E1000_EECD) = v | dout;
}

static void eerd_write(E1000State *s, uint32_t val)
{
    if (!(val & EERD_START)) {
        REG(s, E1000_EERD) = val & ~EERD_DONE;
        return;
    }
    uint32_t addr = (val >> 8) & 0xff;
    uint16_t data = addr < EEPROM_WORDS ? s->eeprom[addr] : 0;
    REG(s, E1000_EERD) = (val & 0xff00) | EERD_DONE | (uint32_t)data << 16;
}

/* ---- PHY ---- */

static void phy_set_link(E1000State *s)
{
    if (s->link_up) {
        s->phy[PHY_STATUS] |= PHY_STATUS_LINK | PHY_STATUS_AN_DONE;
        s->phy[PHY_SPEC_STATUS] |= PHY_SPEC_STATUS_LINK;
        s->phy[PHY_LP_ABILITY] = 0x45e1;
    } else {
        s->phy[PHY_STATUS] &= (uint16_t)~(PHY_STATUS_LINK | PHY_STATUS_AN_DONE);
        s->phy[PHY_SPEC_STATUS] &= (uint16_t)~PHY_SPEC_STATUS_LINK;
        s->phy[PHY_LP_ABILITY] = 0;
    }
}

static void e1000_phy_reset(E1000State *s)
{
    memset(s->phy, 0, sizeof s->phy);
    s->phy[PHY_CTRL] = 0x1140;            /* autoneg on, full duplex, 1000 Mb/s */
    s->phy[PHY_STATUS] = 0x7949;          /* abilities, MF preamble suppression */
    s->phy[PHY_ID1] = 0x0141;             /* the 82540EM's internal PHY */
    s->phy[PHY_ID2] = 0x0c20;
    s->phy[PHY_AUTONEG_ADV] = 0x0de1;
    s->phy[PHY_AUTONEG_EXP] = 0x0001;
    s->phy[PHY_1000T_CTRL] = 0x0e00;
    s->phy[PHY_1000T_STATUS] = 0x3c00;
    s->phy[PHY_EXT_STATUS] = 0x3000;
    s->phy[PHY_SPEC_CTRL] = 0x0068;
    s->phy[PHY_SPEC_STATUS] = 0xac00;     /* 1000 Mb/s, full duplex, resolved */
    phy_set_link(s);
}

static bool phy_reg_readonly(unsigned reg)
{
    return reg == PHY_STATUS || reg == PHY_ID1 || reg == PHY_ID2 || reg == PHY_LP_ABILITY ||
           reg == PHY_AUTONEG_EXP || reg == PHY_1000T_STATUS || reg == PHY_EXT_STATUS ||
           reg == PHY_SPEC_STATUS;
}

static void phy_write(E1000State *s, unsigned reg, uint16_t val)
{
    if (phy_reg_readonly(reg))
        return;
    if (reg == PHY_CTRL) {
        if (val & PHY_CTRL_RESET) {
            e1000_phy_reset(s);
            return;
        }
        val &= (uint16_t)~PHY_CTRL_RESTART_AN;    /* completes at once */
        phy_set_link(s);
    }
    s->phy[reg] = val;
}

static void mdic_write(E1000State *s, uint32_t val)
{
    unsigned reg = (val >> 16) & 31, phyaddr = (val >> 21) & 31;
    uint32_t op = val & (3u << 26);
    val &= ~(MDIC_READY | MDIC_ERROR);
    if (phyaddr != 1) {
        val |= MDIC_ERROR;                /* no PHY answers there */
    } else if (op == MDIC_OP_READ) {
        val = (val & ~0xffffu) | s->phy[reg];
    } else if (op == MDIC_OP_WRITE) {
        phy_write(s, reg, (uint16_t)val);
    }
    REG(s, E1000_MDIC) = val | MDIC_READY;
    if (val & MDIC_INT_EN) {
        REG(s, E1000_ICR) |= E1000_ICR_MDAC;
        e1000_update_irq(s);
    }
}

/* ---- interrupts ---- */

/* INTx follows ICR & IMS; a new assertion waits until ITR's minimum
 * interval (in 256 ns units) since the last one has passed. */
static void e1000_update_irq(E1000State *s)
{
    bool pending = (REG(s, E1000_ICR) & REG(s, E1000_IMS)) != 0;
    if (!pending) {
        if (s->irq_level) {
            s->irq_level = false;
            pci_set_irq(s->dev, 0);
        }
        return;
    }
    if (s->irq_level)
        return;
    int64_t now = clock_now(s->m->clock);
    int64_t interval = (int64_t)(REG(s, E1000_ITR) & 0xffff) * 256;
    if (interval && s->last_irq_ns != INT64_MIN && now < s->last_irq_ns + interval) {
        if (!timer_pending(s->itr_timer))
            timer_mod(s->itr_timer, s->last_irq_ns + interval);
        return;
    }
    s->irq_level = true;
    s->last_irq_ns = now;
    pci_set_irq(s->dev, 1);
}

static void itr_timer_fire(void *opaque)
{
    e1000_update_irq(opaque);
}

static void set_cause(E1000State *s, uint32_t cause)
{
    REG(s, E1000_ICR) |= cause;
    e1000_update_irq(s);
}

/* Receive timer interrupt: at once with RDTR 0; else RDTR (1.024 us
 * units) after the last frame, but no later than RADV after the first. */
static void rx_interrupt(E1000State *s)
{
    uint32_t rdtr = REG(s, E1000_RDTR) & 0xffff, radv = REG(s, E1000_RADV) & 0xffff;
    if (!rdtr) {
        set_cause(s, E1000_ICR_RXT0);
        return;
    }
    int64_t now = clock_now(s->m->clock);
    int64_t deadline = now + (int64_t)rdtr * 1024;
    if (radv) {
        if (!s->radv_deadline)
            s->radv_deadline = now + (int64_t)radv * 1024;
        deadline = MIN(deadline, s->radv_deadline);
    }
    timer_mod(s->rx_timer, deadline);
}

static void rx_timer_fire(void *opaque)
{
    E1000State *s = opaque;
    s->radv_deadline = 0;
    set_cause(s, E1000_ICR_RXT0);
}

/* ---- receive ---- */

static uint32_t rx_buf_size(uint32_t rctl)
{
    unsigned bsize = (rctl >> RCTL_BSIZE_SHIFT) & 3;
    if (rctl & RCTL_BSEX)
        return bsize == 1 ? 16384 : bsize == 2 ? 8192 : bsize == 3 ? 4096 : 2048;
    return 2048u >> bsize;
}

static uint32_t ring_size(E1000State *s, uint32_t len_reg)
{
    return (REG(s, len_reg) & 0xfff80) / 16;
}

/* Descriptors the guest has given the device: from RDH up to RDT. */
static uint32_t rx_free_descs(E1000State *s)
{
    uint32_t size = ring_size(s, E1000_RDLEN);
    if (!size)
        return 0;
    uint32_t h = REG(s, E1000_RDH) % size, t = REG(s, E1000_RDT) % size;
    return (t + size - h) % size;
}

static bool e1000_can_receive(NetClient *nc)
{
    E1000State *s = nc->opaque;
    return (REG(s, E1000_RCTL) & RCTL_EN) && s->link_up && rx_free_descs(s) > 0 &&
           (s->dev->config[PCI_COMMAND] & PCI_COMMAND_MASTER);
}

static bool address_match(E1000State *s, const uint8_t *buf)
{
    uint32_t rctl = REG(s, E1000_RCTL);
    static const uint8_t bcast[6] = { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff };
    if (!memcmp(buf, bcast, 6))
        return (rctl & (RCTL_BAM | RCTL_MPE)) != 0;
    if ((buf[0] & 1) ? (rctl & RCTL_MPE) : (rctl & RCTL_UPE))
        return true;
    for (int i = 0; i < 16; i++) {
        uint32_t ral = REG(s, E1000_RA + 8 * i), rah = REG(s, E1000_RA + 8 * i + 4);
        if (!(rah & RAH_AV))
            continue;
        uint8_t a[6] = { (uint8_t)ral, (uint8_t)(ral >> 8), (uint8_t)(ral >> 16),
                         (uint8_t)(ral >> 24), (uint8_t)rah, (uint8_t)(rah >> 8) };
        if (!memcmp(buf, a, 6))
            return true;
    }
    if (!(buf[0] & 1))
        return false;
    /* Multicast table: 12 bits of the address chosen by RCTL.MO. */
    unsigned mo = (rctl >> RCTL_MO_SHIFT) & 3;
    static const unsigned shift[4] = { 4, 3, 2, 0 };
    uint32_t hash = ((uint32_t)buf[4] >> shift[mo] | (uint32_t)buf[5] << (8 - shift[mo])) & 0xfff;
    return (REG(s, E1000_MTA + 4 * (hash >> 5)) >> (hash & 31)) & 1;
}

static bool e1000_receive(NetClient *nc, const uint8_t *buf, size_t len)
{
    E1000State *s = nc->opaque;
    uint32_t rctl = REG(s, E1000_RCTL);
    if (!(rctl & RCTL_EN) || !s->link_up || len < 14)
        return true;
    size_t max = (rctl & RCTL_LPE) ? RX_BUF_MAX - 4 : 1522;
    if (len > max || !address_match(s, buf))
        return true;
    /* The frame as it arrives from the wire: padded to the 60-byte
     * minimum, VLAN tag stripped with CTRL.VME, FCS kept unless SECRC. */
    uint8_t *f = s->rx_frame;
    size_t n = len;
    uint16_t special = 0;
    uint8_t status = RXD_STAT_IXSM;
    memcpy(f, buf, len);
    if ((REG(s, E1000_CTRL) & CTRL_VME) && n >= 18 && be16(f + 12) == (REG(s, 0x0038) & 0xffff)) {
        special = be16(f + 14);
        memmove(f + 12, f + 16, n - 16);
        n -= 4;
        status |= RXD_STAT_VP;
    }
    if (n < 60) {
        memset(f + n, 0, 60 - n);
        n = 60;
    }
    if (!(rctl & RCTL_SECRC)) {
        uint32_t fcs = (uint32_t)crc32(0, f, (uInt)n);
        f[n] = (uint8_t)fcs;
        f[n + 1] = (uint8_t)(fcs >> 8);
        f[n + 2] = (uint8_t)(fcs >> 16);
        f[n + 3] = (uint8_t)(fcs >> 24);
        n += 4;
    }
    uint32_t bufsize = rx_buf_size(rctl);
    uint32_t need = (uint32_t)((n + bufsize - 1) / bufsize);
    uint32_t size = ring_size(s, E1000_RDLEN);
    if (!(s->dev->config[PCI_COMMAND] & PCI_COMMAND_MASTER) || rx_free_descs(s) < need) {
        stat_inc(s, E1000_RNBC, 1);
        set_cause(s, E1000_ICR_RXO);
        return false;                     /* waits in the queue for buffers */
    }
    uint64_t base = ((uint64_t)REG(s, E1000_RDBAH) << 32 | REG(s, E1000_RDBAL)) & ~0xfull;
    size_t done = 0;
    while (done < n) {
        uint32_t h = REG(s, E1000_RDH) % size;
        uint64_t daddr = base + (uint64_t)h * 16;
        uint8_t d[16];
        size_t chunk = MIN((size_t)bufsize, n - done);
        uint8_t errors = 0;
        bool have_desc = pci_dma_read(s->dev, daddr, d, 16);
        if (!have_desc) {
            LOG(LOG_GUEST_ERRORS, "e1000: RX descriptor at 0x%llx outside RAM\n",
                     (unsigned long long)daddr);
            memset(d, 0, 16);
            errors |= RXD_ERR_RXE;
        }
        uint64_t baddr = ld64(d);
        if (have_desc && !pci_dma_write(s->dev, baddr, f + done, chunk)) {
            LOG(LOG_GUEST_ERRORS, "e1000: RX buffer at 0x%llx outside RAM\n",
                     (unsigned long long)baddr);
            errors |= RXD_ERR_RXE;
        }
        done += chunk;
        st16(d + 8, (uint16_t)chunk);
        st16(d + 10, 0);
        d[12] = (uint8_t)(status | RXD_STAT_DD | (done == n ? RXD_STAT_EOP : 0));
        d[13] = errors;
        st16(d + 14, special);
        pci_dma_write(s->dev, daddr + 8, d + 8, 8);
        REG(s, E1000_RDH) = (h + 1) % size;
    }
    stat_inc(s, E1000_GPRC, 1);
    stat_inc(s, E1000_TPR, 1);
    stat_add64(s, E1000_GORCL, (uint32_t)n);
    if (buf[0] & 1)
        stat_inc(s, memcmp(buf, "\xff\xff\xff\xff\xff\xff", 6) ? E1000_MPRC : E1000_BPRC, 1);
    /* RXDMT0 when the free descriptors fall to 1/2, 1/4 or 1/8 of the ring. */
    unsigned rdmts = (rctl >> RCTL_RDMTS_SHIFT) & 3;
    if (rdmts < 3 && rx_free_descs(s) <= size >> (rdmts + 1))
        REG(s, E1000_ICR) |= E1000_ICR_RXDMT0;
    rx_interrupt(s);
    e1000_update_irq(s);
    return true;
}

static void e1000_link_changed(NetClient *nc, bool up)
{
    E1000State *s = nc->opaque;
    s->link_up = up;
    phy_set_link(s);
    set_cause(s, E1000_ICR_LSC);
}

static const NetClientOps e1000_net_ops = {
    .type = "e1000", .can_receive = e1000_can_receive, .receive = e1000_receive,
    .link_changed = e1000_link_changed,
};

/* ---- transmit ---- */

/* Ones' complement sum of p[0..len) (big-endian 16-bit words). */
static uint32_t csum_add(uint32_t sum, const uint8_t *p, size_t len)
{
    for (size_t i = 0; i + 1 < len; i += 2)
        sum += (uint32_t)(p[i] << 8 | p[i + 1]);
    if (len & 1)
        sum += (uint32_t)p[len - 1] << 8;
    return sum;
}

static uint16_t csum_fold(uint32_t sum)
{
    while (sum >> 16)
        sum = (sum & 0xffff) + (sum >> 16);
    return (uint16_t)~sum;
}

/* Checksum of frame[start..end] (end inclusive; 0 = to the frame's end)
 * plus extra, stored big-endian at off.  Out-of-frame values do nothing. */
static void insert_csum(uint8_t *frame, size_t len, unsigned start, unsigned end, unsigned off,
                        uint32_t extra)
{
    size_t stop = end ? MIN((size_t)end + 1, len) : len;
    if (start >= stop || (size_t)off + 2 > len)
        return;
    stbe16(frame + off, csum_fold(csum_add(extra, frame + start, stop - start)));
}

static void tx_send(E1000State *s, uint8_t *frame, size_t len)
{
    /* VLAN tag inserted in place: both callers' buffers have 4 bytes spare. */
    if (s->tx_vle && (REG(s, E1000_CTRL) & CTRL_VME) && len >= 12) {
        memmove(frame + 16, frame + 12, len - 12);
        stbe16(frame + 12, (uint16_t)REG(s, 0x0038));
        stbe16(frame + 14, s->tx_vlan);
        len += 4;
    }
    stat_inc(s, E1000_GPTC, 1);
    stat_inc(s, E1000_TPT, 1);
    stat_add64(s, E1000_GOTCL, (uint32_t)len);
    net_send(s->nc, frame, len);
}

/* TCP segmentation: the gathered packet is the headers (ctx.hdrlen bytes)
 * and the payload, cut into ctx.mss-sized segments, each with the headers
 * fixed up (IPv4 total length and id, or the IPv6 payload length; TCP
 * sequence number and flags, or the UDP length) and checksummed as
 * POPTS asks. */
static void tx_tso(E1000State *s)
{
    const E1000TxContext *c = &s->ctx;
    uint32_t hdrlen = c->hdrlen, mss = c->mss;
    if (!hdrlen || hdrlen >= s->tx_len || !mss || hdrlen + mss > TX_BUF_MAX ||
        (uint32_t)c->ipcss + 20 > hdrlen || (uint32_t)c->tucss + 8 > hdrlen ||
        ((c->tucmd & TXD_TUCMD_TCP) && (uint32_t)c->tucss + 20 > hdrlen)) {
        LOG(LOG_GUEST_ERRORS, "e1000: bad TSO context (hdrlen %u mss %u)\n", hdrlen, mss);
        return;
    }
    uint32_t payload = s->tx_len - hdrlen;
    uint8_t *hdr = s->tx_buf;
    uint8_t *seg = xmalloc(hdrlen + mss + 4);
    uint16_t ip_id = be16(hdr + c->ipcss + 4);
    uint32_t seq = be32(hdr + c->tucss + 4);
    for (uint32_t off = 0, n = 0; off < payload; off += mss, n++) {
        uint32_t chunk = MIN(mss, payload - off);
        uint32_t seglen = hdrlen + chunk;
        bool last = off + chunk >= payload;
        memcpy(seg, hdr, hdrlen);
        memcpy(seg + hdrlen, hdr + hdrlen + off, chunk);
        if (c->tucmd & TXD_TUCMD_IP) {
            stbe16(seg + c->ipcss + 2, (uint16_t)(seglen - c->ipcss));
            stbe16(seg + c->ipcss + 4, (uint16_t)(ip_id + n));
        } else {
            stbe16(seg + c->ipcss + 4, (uint16_t)(seglen - c->ipcss - 40));
        }
        if (c->tucmd & TXD_TUCMD_TCP) {
            stbe32(seg + c->tucss + 4, seq + off);
            if (!last)
                seg[c->tucss + 13] &= (uint8_t)~0x09;     /* FIN, PSH on the last only */
        } else {
            stbe16(seg + c->tucss + 4, (uint16_t)(seglen - c->tucss));
        }
        if (s->tx_popts & TXD_POPTS_IXSM) {
            stbe16(seg + c->ipcso, 0);
            insert_csum(seg, seglen, c->ipcss, c->ipcse, c->ipcso, 0);
        }
        if (s->tx_popts & TXD_POPTS_TXSM)
            /* The driver left the pseudo-header sum without the length. */
            insert_csum(seg, seglen, c->tucss, c->tucse, c->tucso, seglen - c->tucss);
        tx_send(s, seg, seglen);
    }
    free(seg);
}

static void tx_packet_done(E1000State *s)
{
    if (s->tx_overflow) {
        LOG(LOG_GUEST_ERRORS, "e1000: TX packet longer than %u bytes dropped\n", TX_BUF_MAX);
    } else if (s->tx_legacy) {
        if (s->tx_cmd & TXD_CMD_IC)
            insert_csum(s->tx_buf, s->tx_len, s->tx_css, 0, s->tx_cso, 0);
        tx_send(s, s->tx_buf, s->tx_len);
    } else if (s->tx_tse && (s->ctx.tucmd & TXD_CMD_TSE)) {
        tx_tso(s);
    } else {
        const E1000TxContext *c = &s->ctx;
        if (s->tx_popts & TXD_POPTS_IXSM)
            insert_csum(s->tx_buf, s->tx_len, c->ipcss, c->ipcse, c->ipcso, 0);
        if (s->tx_popts & TXD_POPTS_TXSM)
            insert_csum(s->tx_buf, s->tx_len, c->tucss, c->tucse, c->tucso, 0);
        tx_send(s, s->tx_buf, s->tx_len);
    }
    s->tx_len = 0;
    s->tx_overflow = false;
}

static void tx_append(E1000State *s, uint64_t addr, uint32_t len)
{
    if (s->tx_overflow || len == 0)
        return;
    if (len > TX_BUF_MAX - s->tx_len) {
        s->tx_overflow = true;
        return;
    }
    if (!pci_dma_read(s->dev, addr, s->tx_buf + s->tx_len, len)) {
        LOG(LOG_GUEST_ERRORS, "e1000: TX buffer 0x%llx+%u outside RAM\n",
                 (unsigned long long)addr, len);
        return;
    }
    s->tx_len += len;
}

static void tx_descriptor(E1000State *s, const uint8_t *d)
{
    uint8_t cmd = d[11];
    uint32_t dtyp = (ld32(d + 8) >> 20) & 0xf;
    if ((cmd & TXD_CMD_DEXT) && dtyp == 0) {
        /* Context descriptor. */
        E1000TxContext *c = &s->ctx;
        c->ipcss = d[0];
        c->ipcso = d[1];
        c->ipcse = ld16(d + 2);
        c->tucss = d[4];
        c->tucso = d[5];
        c->tucse = ld16(d + 6);
        c->paylen = ld32(d + 8) & 0xfffff;
        c->tucmd = cmd;
        c->hdrlen = d[13];
        c->mss = ld16(d + 14);
        return;
    }
    bool first = s->tx_len == 0 && !s->tx_overflow;
    if (cmd & TXD_CMD_DEXT) {
        if (dtyp != 1) {
            LOG(LOG_GUEST_ERRORS, "e1000: TX descriptor type %u ignored\n", dtyp);
            return;
        }
        if (first) {
            s->tx_legacy = false;
            s->tx_tse = (cmd & TXD_CMD_TSE) != 0;
            s->tx_popts = d[13];
            s->tx_vle = (cmd & TXD_CMD_VLE) != 0;
            s->tx_vlan = ld16(d + 14);
        }
        tx_append(s, ld64(d), ld32(d + 8) & 0xfffff);
    } else {
        if (first) {
            s->tx_legacy = true;
            s->tx_cso = d[10];
            s->tx_css = d[13];
            s->tx_vle = (cmd & TXD_CMD_VLE) != 0;
            s->tx_vlan = ld16(d + 14);
        }
        s->tx_cmd = cmd;
        tx_append(s, ld64(d), ld16(d + 8));
    }
    if (cmd & TXD_CMD_EOP)
        tx_packet_done(s);
}

/* Walks the ring from TDH to TDT (at most once around per doorbell). */
static void e1000_tx(E1000State *s)
{
    uint32_t size = ring_size(s, E1000_TDLEN);
    if (!(REG(s, E1000_TCTL) & TCTL_EN) || !size ||
        !(s->dev->config[PCI_COMMAND] & PCI_COMMAND_MASTER))
        return;
    uint64_t base = ((uint64_t)REG(s, E1000_TDBAH) << 32 | REG(s, E1000_TDBAL)) & ~0xfull;
    uint32_t t = REG(s, E1000_TDT) % size;
    bool any = false;
    for (uint32_t budget = size; budget && REG(s, E1000_TDH) % size != t; budget--) {
        uint32_t h = REG(s, E1000_TDH) % size;
        uint64_t daddr = base + (uint64_t)h * 16;
        uint8_t d[16];
        if (!pci_dma_read(s->dev, daddr, d, 16)) {
            LOG(LOG_GUEST_ERRORS, "e1000: TX descriptor at 0x%llx outside RAM\n",
                     (unsigned long long)daddr);
            break;
        }
        tx_descriptor(s, d);
        if (d[11] & TXD_CMD_RS) {
            uint8_t sta = d[12] | TXD_STAT_DD;
            pci_dma_write(s->dev, daddr + 12, &sta, 1);
        }
        REG(s, E1000_TDH) = (h + 1) % size;
        any = true;
    }
    if (any)
        set_cause(s, E1000_ICR_TXDW |
                         (REG(s, E1000_TDH) % size == t ? E1000_ICR_TXQE : 0));
}

/* ---- registers ---- */

static void e1000_reset_regs(E1000State *s)
{
    timer_del(s->itr_timer);
    timer_del(s->rx_timer);
    s->radv_deadline = 0;
    memset(s->regs, 0, sizeof s->regs);
    REG(s, E1000_CTRL) = CTRL_FD | CTRL_ASDE | CTRL_SLU | CTRL_SPEED_1000;
    REG(s, E1000_EECD) = EECD_PRES | (1u << 4);          /* FWE: writes disabled */
    REG(s, E1000_PBA) = 0x00000030;                      /* 48 KiB receive */
    REG(s, 0x0038) = 0x8100;                             /* VET */
    REG(s, E1000_RA) = (uint32_t)s->conf_mac[0] | (uint32_t)s->conf_mac[1] << 8 |
                       (uint32_t)s->conf_mac[2] << 16 | (uint32_t)s->conf_mac[3] << 24;
    REG(s, E1000_RA + 4) = (uint32_t)s->conf_mac[4] | (uint32_t)s->conf_mac[5] << 8 | RAH_AV;
    s->ee_nbits = 0;
    s->ee_reading = false;
    s->tx_len = 0;
    s->tx_overflow = false;
    memset(&s->ctx, 0, sizeof s->ctx);
    s->last_irq_ns = INT64_MIN;
    if (s->irq_level) {
        s->irq_level = false;
        pci_set_irq(s->dev, 0);
    }
    e1000_phy_reset(s);
}

static void e1000_reset(void *opaque)
{
    E1000State *s = opaque;
    s->ioaddr = 0;
    e1000_reset_regs(s);
}

static uint32_t status_read(E1000State *s)
{
    return STATUS_FD | STATUS_SPEED_1000 | STATUS_ASDV_1000 | (s->link_up ? STATUS_LU : 0);
}

static uint32_t e1000_reg_read(E1000State *s, uint32_t off)
{
    off &= ~3u;
    if (off >= E1000_MMIO_SIZE)
        return 0;
    switch (off) {
    case E1000_STATUS:
        return status_read(s);
    case E1000_ICR: {
        uint32_t v = REG(s, E1000_ICR);
        REG(s, E1000_ICR) = 0;
        e1000_update_irq(s);
        return v;
    }
    case E1000_ICS:
        return REG(s, E1000_ICR);
    case E1000_IMC:
        return 0;
    default:
        break;
    }
    uint32_t v = REG(s, off);
    if (off >= E1000_STATS && off < E1000_STATS_END)
        REG(s, off) = 0;                  /* statistics clear on read */
    return v;
}

static void e1000_reg_write(E1000State *s, uint32_t off, uint32_t val)
{
    off &= ~3u;
    if (off >= E1000_MMIO_SIZE)
        return;
    switch (off) {
    case E1000_CTRL:
        if (val & CTRL_RST) {
            e1000_reset_regs(s);
            return;
        }
        if (val & CTRL_PHY_RST)
            e1000_phy_reset(s);
        REG(s, off) = val & ~(CTRL_RST | CTRL_PHY_RST);
        return;
    case E1000_STATUS:
        return;
    case E1000_EECD:
        eecd_write(s, val);
        return;
    case E1000_EERD:
        eerd_write(s, val);
        return;
    case E1000_MDIC:
        mdic_write(s, val);
        return;
    case E1000_ICR:                       /* writing 1s clears */
        REG(s, E1000_ICR) &= ~val;
        e1000_update_irq(s);
        return;
    case E1000_ICS:
        set_cause(s, val);
        return;
    case E1000_IMS:
        REG(s, E1000_IMS) |= val;
        e1000_update_irq(s);
        return;
    case E1000_IMC:
        REG(s, E1000_IMS) &= ~val;
        e1000_update_irq(s);
        return;
    case E1000_ITR:
        REG(s, off) = val & 0xffff;
        return;
    case E1000_RCTL:
        REG(s, off) = val;
        if (val & RCTL_EN)
            net_flush(s->nc);
        return;
    case E1000_TCTL:
        REG(s, off) = val;
        e1000_tx(s);
        return;
    case E1000_RDLEN:
    case E1000_TDLEN:
        REG(s, off) = val & 0xfff80;
        return;
    case E1000_RDBAL:
    case E1000_TDBAL:
        REG(s, off) = val & ~0xfu;
        return;
    case E1000_RDH:
    case E1000_RDT:
    case E1000_TDH:
        REG(s, off) = val & 0xffff;
        if (off == E1000_RDT)
            net_flush(s->nc);
        return;
    case E1000_TDT:
        REG(s, off) = val & 0xffff;
        e1000_tx(s);
        return;
    case E1000_RDTR:
        REG(s, off) = val & 0xffff;
        if ((val & RDTR_FPD) && timer_pending(s->rx_timer)) {
            timer_del(s->rx_timer);
            rx_timer_fire(s);
        }
        return;
    default:
        break;
    }
    if (off >= E1000_STATS && off < E1000_STATS_END)
        return;                           /* read-only counters */
    REG(s, off) = val;
}

static uint64_t e1000_mmio_read(void *opaque, uint64_t off, unsigned size)
{
    return e1000_reg_read(opaque, (uint32_t)off);
}

static void e1000_mmio_write(void *opaque, uint64_t off, uint64_t val, unsigned size)
{
    e1000_reg_write(opaque, (uint32_t)off, (uint32_t)val);
}

static const MemOps e1000_mmio_ops = {
    .read = e1000_mmio_read, .write = e1000_mmio_write, .min_size = 4, .max_size = 4,
};

/* I/O BAR: IOADDR at 0 selects a register, IODATA at 4 reads/writes it. */
static uint64_t e1000_io_read(void *opaque, uint64_t off, unsigned size)
{
    E1000State *s = opaque;
    if (off == 0)
        return s->ioaddr;
    if (off == 4)
        return e1000_reg_read(s, s->ioaddr & (E1000_MMIO_SIZE - 1));
    return 0;
}

static void e1000_io_write(void *opaque, uint64_t off, uint64_t val, unsigned size)
{
    E1000State *s = opaque;
    if (off == 0)
        s->ioaddr = (uint32_t)val & 0x1fffc;
    else if (off == 4)
        e1000_reg_write(s, s->ioaddr & (E1000_MMIO_SIZE - 1), (uint32_t)val);
}

static const MemOps e1000_io_ops = {
    .read = e1000_io_read, .write = e1000_io_write, .min_size = 4, .max_size = 4,
};

/* ---- state ---- */

static int e1000_post_load(void *opaque, int version, char **err)
{
    E1000State *s = opaque;
    /* A packet being gathered is not saved: the guest's TDH stays where
     * the device got to, the rest of the packet goes out alone. */
    s->tx_len = 0;
    s->tx_overflow = false;
    s->ee_addr %= EEPROM_WORDS;
    s->ee_bit %= 16;
    s->ioaddr &= 0x1fffc;
    s->irq_level = false;
    pci_set_irq(s->dev, 0);
    timer_del(s->itr_timer);
    s->last_irq_ns = INT64_MIN;
    e1000_update_irq(s);
    return 0;
}

static const VMField ctx_fields[] = {
    VMF_U8(ipcss, E1000TxContext), VMF_U8(ipcso, E1000TxContext),
    VMF_U8(tucss, E1000TxContext), VMF_U8(tucso, E1000TxContext),
    VMF_U8(tucmd, E1000TxContext), VMF_U8(hdrlen, E1000TxContext),
    VMF_U16(ipcse, E1000TxContext), VMF_U16(tucse, E1000TxContext),
    VMF_U16(mss, E1000TxContext), VMF_U32(paylen, E1000TxContext),
    VMF_END
};

static const VMStateDesc ctx_vmsd = {
    .name = "e1000-txctx", .version = 1, .min_version = 1, .fields = ctx_fields,
};

static const VMField e1000_fields[] = {
    VMF_U32_ARRAY(regs, E1000State, E1000_NREGS),
    VMF_U16_ARRAY(eeprom, E1000State, EEPROM_WORDS),
    VMF_U16_ARRAY(phy, E1000State, 32),
    VMF_U32(ioaddr, E1000State),
    VMF_BOOL(link_up, E1000State),
    VMF_U16(ee_in, E1000State), VMF_U8(ee_nbits, E1000State),
    VMF_BOOL(ee_reading, E1000State), VMF_U8(ee_addr, E1000State), VMF_U8(ee_bit, E1000State),
    VMF_STRUCT(ctx, E1000State, ctx_vmsd),
    VMF_END
};

static const VMStateDesc e1000_vmsd = {
    .name = "e1000", .version = 1, .min_version = 1, .fields = e1000_fields,
    .post_load = e1000_post_load,
};

static void e1000_free(void *opaque)
{
    E1000State *s = opaque;
    timer_free(s->itr_timer);
    timer_free(s->rx_timer);
    net_client_free(s->nc);
    free(s->tx_buf);
    free(s->rx_frame);
    free(s);
}

static const DeviceOps e1000_device_ops = {
    .name = "e1000", .reset = e1000_reset, .free = e1000_free, .vmsd = &e1000_vmsd,
};

E1000State *e1000_create(Machine *m, PCIBus *bus, const E1000Config *c, NetClient *backend,
                         char *err, size_t errlen)
{
    static const PCIConfigInit ids = {
        .vendor_id = 0x8086, .device_id = 0x100e, .revision = 0x03,
        .class_code = 0x020000,           /* Ethernet controller */
        .subsys_vendor_id = 0x8086, .subsys_id = 0x001e, .int_pin = 1,
    };
    E1000State *s = xcalloc(1, sizeof *s);
    s->m = m;
    memcpy(s->conf_mac, c->mac, 6);
    s->dev = pci_register_function(bus, c->devfn, &ids, "e1000", NULL, NULL, s);
    if (!s->dev) {
        snprintf(err, errlen, "e1000: PCI slot %02x.%x is taken", PCI_SLOT(c->devfn),
                 PCI_FUNC(c->devfn));
        free(s);
        return NULL;
    }
    s->tx_buf = xmalloc(TX_BUF_MAX + 4);
    s->rx_frame = xmalloc(RX_BUF_MAX + 8);
    s->itr_timer = timer_new(m->clock, itr_timer_fire, s);
    s->rx_timer = timer_new(m->clock, rx_timer_fire, s);
    s->nc = net_client_new(&e1000_net_ops, c->name ? c->name : "e1000", s);
    s->link_up = true;
    eeprom_init(s);
    pci_register_bar(s->dev, 0, E1000_MMIO_SIZE, false, &e1000_mmio_ops, s);
    pci_register_bar(s->dev, 1, E1000_IO_SIZE, true, &e1000_io_ops, s);
    if (backend)
        net_client_connect(s->nc, backend);
    machine_add_device(m, &e1000_device_ops, s);
    e1000_reset(s);
    return s;
}

NetClient *e1000_net_client(E1000State *s)
{
    return s->nc;
}

PCIDevice *e1000_pci(E1000State *s)
{
    return s->dev;
}
