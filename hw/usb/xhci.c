/*
 * xHCI host controller (see xhci.h).
 *
 * Facts: eXtensible Host Controller Interface for USB, revision 1.2:
 * 5.3 (capability registers: CAPLENGTH/HCIVERSION, HCSPARAMS1-3,
 * HCCPARAMS1-2, DBOFF, RTSOFF), 5.4 (operational registers: USBCMD,
 * USBSTS, PAGESIZE, DNCTRL, CRCR, DCBAAP, CONFIG; PORTSC at 400h + 10h *
 * (n - 1) with its RW, RW1S, RW1C bits and link states), 5.5 (runtime
 * registers: MFINDEX, interrupter register sets at 20h: IMAN, IMOD,
 * ERSTSZ, ERSTBA, ERDP), 5.6 (doorbells), 6.2 (slot, endpoint and input
 * contexts, 32-byte contexts), 6.4 (TRB layouts and types, completion
 * codes), 6.5 (event ring segment table), 4.6 (command semantics and
 * slot/endpoint state machines), 4.9 (ring walking, cycle bit, Link TRB
 * toggle), 4.10 (transfer and short packet handling), 4.17 (interrupter:
 * IP, EHB, MSI-X clearing IP when the message is sent), 4.19 (root hub
 * port state machines), 7.2 (Supported Protocol capability).  QEMU's
 * qemu-xhci: PCI 1b36:000d, 64 slots, 16 interrupters, p2/p3 = 4/4.
 */
#include "hw/usb/xhci.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/clock.h"
#include "core/device.h"
#include "core/log.h"
#include "core/util.h"
#include "hw/msix.h"

#define XHCI_SLOTS       64
#define XHCI_INTRS       16
#define XHCI_ERST_MAX_LOG 4               /* 16 segments at most */
#define XHCI_DCI_MAX     31
#define XHCI_MMIO_SIZE   0x4000
#define XHCI_MSIX_BAR    4

/* Register map inside BAR0. */
#define CAP_LENGTH       0x40
#define OP_BASE          CAP_LENGTH
#define PORT_BASE        (OP_BASE + 0x400)
#define XECP_BASE        0x800
#define RT_BASE          0x1000
#define DB_BASE          0x2000

/* Capability registers (5.3). */
#define CAP_HCSPARAMS1   0x04
#define CAP_HCSPARAMS2   0x08
#define CAP_HCSPARAMS3   0x0c
#define CAP_HCCPARAMS1   0x10
#define CAP_DBOFF        0x14
#define CAP_RTSOFF       0x18
#define CAP_HCCPARAMS2   0x1c
#define HCIVERSION       0x0100

/* Operational registers (5.4), offsets from OP_BASE. */
#define OP_USBCMD        0x00
#define OP_USBSTS        0x04
#define OP_PAGESIZE      0x08
#define OP_DNCTRL        0x14
#define OP_CRCR          0x18
#define OP_DCBAAP        0x30
#define OP_CONFIG        0x38

#define CMD_RS           (1u << 0)
#define CMD_HCRST        (1u << 1)
#define CMD_INTE         (1u << 2)
#define CMD_HSEE         (1u << 3)
#define CMD_RW_MASK      0x00003f0cu     /* INTE HSEE LHCRST.. EU3S and friends */

#define STS_HCH          (1u << 0)
#define STS_HSE          (1u << 2)
#define STS_EINT         (1u << 3)
#define STS_PCD          (1u << 4)
#define STS_W1C          (STS_HSE | STS_EINT | STS_PCD | (1u << 10))

#define CRCR_RCS         (1ull << 0)
#define CRCR_CS          (1ull << 1)
#define CRCR_CA          (1ull << 2)
#define CRCR_CRR         (1ull << 3)

/* PORTSC (5.4.8). */
#define PORT_CCS         (1u << 0)
#define PORT_PED         (1u << 1)
#define PORT_PR          (1u << 4)
#define PORT_PLS_SHIFT   5
#define PORT_PLS_MASK    (0xfu << PORT_PLS_SHIFT)
#define PORT_PP          (1u << 9)
#define PORT_SPEED_SHIFT 10
#define PORT_SPEED_MASK  (0xfu << PORT_SPEED_SHIFT)
#define PORT_LWS         (1u << 16)
#define PORT_CSC         (1u << 17)
#define PORT_PEC         (1u << 18)
#define PORT_WRC         (1u << 19)
#define PORT_OCC         (1u << 20)
#define PORT_PRC         (1u << 21)
#define PORT_PLC         (1u << 22)
#define PORT_CEC         (1u << 23)
#define PORT_WAKE_MASK   (7u << 25)      /* WCE WDE WOE */
#define PORT_WPR         (1u << 31)
#define PORT_CHANGES     (PORT_CSC | PORT_PEC | PORT_WRC | PORT_OCC | PORT_PRC | PORT_PLC | \
                          PORT_CEC)
#define PLS_U0           0
#define PLS_U3           3
#define PLS_RXDETECT     5
#define PLS_POLLING      7
#define PLS_RESUME       15
#define SPEED_FULL       1

/* Interrupter registers (5.5.2). */
#define IMAN_IP          (1u << 0)
#define IMAN_IE          (1u << 1)
#define ERDP_EHB         (1ull << 3)

/* TRB types (6.4.6). */
enum {
    TRB_NORMAL = 1, TRB_SETUP = 2, TRB_DATA = 3, TRB_STATUS = 4, TRB_ISOCH = 5,
    TRB_LINK = 6, TRB_EVENT_DATA = 7, TRB_NOOP = 8,
    TRB_ENABLE_SLOT = 9, TRB_DISABLE_SLOT = 10, TRB_ADDRESS_DEVICE = 11,
    TRB_CONFIGURE_EP = 12, TRB_EVALUATE_CTX = 13, TRB_RESET_EP = 14, TRB_STOP_EP = 15,
    TRB_SET_TR_DEQ = 16, TRB_RESET_DEVICE = 17, TRB_NOOP_CMD = 23,
    TRB_EV_TRANSFER = 32, TRB_EV_CMD_COMPLETE = 33, TRB_EV_PORT_STATUS = 34,
};

/* TRB control bits. */
#define TRB_C            (1u << 0)
#define TRB_TC           (1u << 1)       /* Link */
#define TRB_ED           (1u << 2)       /* event: event data */
#define TRB_ISP          (1u << 2)
#define TRB_CH           (1u << 4)
#define TRB_IOC          (1u << 5)
#define TRB_IDT          (1u << 6)
#define TRB_BSR          (1u << 9)       /* Address Device */
#define TRB_DC           (1u << 9)       /* Configure Endpoint */
#define TRB_DIR_IN       (1u << 16)      /* Data and Status stages */

/* Completion codes (6.4.5). */
enum {
    CC_SUCCESS = 1, CC_DATA_BUFFER = 2, CC_TRANSACTION = 4, CC_TRB = 5, CC_STALL = 6,
    CC_NO_SLOTS = 9, CC_SLOT_NOT_ENABLED = 11, CC_EP_NOT_ENABLED = 12, CC_SHORT_PACKET = 13,
    CC_PARAMETER = 17, CC_CONTEXT_STATE = 19, CC_CMD_RING_STOPPED = 24,
};

/* Slot and endpoint states (6.2.2, 6.2.3). */
enum { SLOT_DEFAULT = 1, SLOT_ADDRESSED = 2, SLOT_CONFIGURED = 3 };
enum { EP_DISABLED = 0, EP_RUNNING = 1, EP_HALTED = 2, EP_STOPPED = 3, EP_ERROR = 4 };
enum { EPT_ISOCH_OUT = 1, EPT_CONTROL = 4, EPT_ISOCH_IN = 5 };

#define CTX_SIZE         32
#define POLL_MIN_NS      1000000LL       /* interrupt endpoints: poll at least 1 ms apart */
#define POLL_MAX_NS      64000000LL

typedef struct XHCITRB {
    uint64_t param;
    uint32_t status, control;
    uint64_t addr;                       /* where it was read */
} XHCITRB;

typedef struct XHCIEndpoint {
    uint8_t state, type, interval;
    bool ccs;
    bool waiting;                        /* the device NAKed: polled by the timer */
    uint64_t deq;
} XHCIEndpoint;

typedef struct XHCISlot {
    bool enabled;
    uint8_t state;                       /* SLOT_*, 0 while only enabled */
    uint8_t port;                        /* root hub port 1.., 0 none */
    uint32_t route;                      /* route string: hub ports below the root port */
    uint16_t intr;                       /* interrupter target */
    uint64_t ctx;                        /* output device context */
    XHCIEndpoint ep[XHCI_DCI_MAX + 1];   /* by DCI; 0 unused */
} XHCISlot;

typedef struct XHCIInterrupter {
    uint32_t iman, imod, erstsz;
    uint64_t erstba, erdp;
    /* The event ring producer. */
    bool ring_ready;                     /* segment loaded since ERSTBA was written */
    uint32_t seg, idx, seg_size;
    uint64_t seg_base;
    bool pcs;
} XHCIInterrupter;

typedef struct XHCIPort {
    uint32_t portsc;                     /* every bit but CCS, which comes from dev */
    uint32_t pmsc;
    USBDevice *dev;
} XHCIPort;

struct XHCIState {
    Machine *m;
    PCIDevice *dev;
    MSIXState *msix;
    Timer *poll_timer;
    int nports2, nports3;
    XHCIPort port[XHCI_MAX_PORTS_2 + XHCI_MAX_PORTS_3];
    uint32_t usbcmd, usbsts, dnctrl, config;
    uint64_t crcr, dcbaap;
    uint64_t cmd_deq;
    bool cmd_ccs, cmd_running;
    int64_t mfindex_start;
    XHCIInterrupter intr[XHCI_INTRS];
    XHCISlot slot[XHCI_SLOTS + 1];       /* by slot ID; 0 unused */
    uint8_t xfer[XHCI_MAX_XFER];
};

static int nports(const XHCIState *s)
{
    return s->nports2 + s->nports3;
}

static uint32_t rd32(const uint8_t *b)
{
    return (uint32_t)b[0] | (uint32_t)b[1] << 8 | (uint32_t)b[2] << 16 | (uint32_t)b[3] << 24;
}

static void wr32(uint8_t *b, uint32_t v)
{
    b[0] = (uint8_t)v;
    b[1] = (uint8_t)(v >> 8);
    b[2] = (uint8_t)(v >> 16);
    b[3] = (uint8_t)(v >> 24);
}

static uint64_t rd64(const uint8_t *b)
{
    return rd32(b) | (uint64_t)rd32(b + 4) << 32;
}

/* ---- errors, DMA, interrupts ---- */

/* A structure the guest pointed at is not RAM (or bus mastering is off):
 * Host System Error, the controller halts (5.4.2). */
static void xhci_host_error(XHCIState *s, const char *what, uint64_t addr)
{
    LOG(LOG_GUEST_ERRORS, "xhci: %s at 0x%llx outside RAM: host system error\n", what,
        (unsigned long long)addr);
    s->usbsts |= STS_HSE | STS_HCH;
    s->usbcmd &= ~CMD_RS;
    s->cmd_running = false;
    timer_del(s->poll_timer);
}

static bool halted(const XHCIState *s)
{
    return !(s->usbcmd & CMD_RS) || (s->usbsts & STS_HSE);
}

static bool dma_read(XHCIState *s, uint64_t addr, void *buf, size_t len, const char *what)
{
    if (pci_dma_read(s->dev, addr, buf, len))
        return true;
    xhci_host_error(s, what, addr);
    return false;
}

static bool dma_write(XHCIState *s, uint64_t addr, const void *buf, size_t len,
                      const char *what)
{
    if (pci_dma_write(s->dev, addr, buf, len))
        return true;
    xhci_host_error(s, what, addr);
    return false;
}

static void xhci_update_intx(XHCIState *s)
{
    bool level = !msix_enabled(s->msix) && (s->usbcmd & CMD_INTE) &&
                 (s->intr[0].iman & (IMAN_IP | IMAN_IE)) == (IMAN_IP | IMAN_IE);
    pci_set_irq(s->dev, level);
}

static uint64_t enqueue_addr(const XHCIInterrupter *ir)
{
    return ir->seg_base + (uint64_t)ir->idx * 16;
}

/* Events wait in interrupter i's ring that software has not consumed. */
static bool events_pending(const XHCIInterrupter *ir)
{
    return ir->ring_ready && (ir->erdp & ~0xfull) != enqueue_addr(ir);
}

/* 4.17.2: with events pending and the handler done (EHB clear), the
 * interrupter sets IP and EHB; MSI-X sends the message and clears IP. */
static void xhci_intr_check(XHCIState *s, int i)
{
    XHCIInterrupter *ir = &s->intr[i];
    if (!(ir->erdp & ERDP_EHB) && events_pending(ir)) {
        ir->iman |= IMAN_IP;
        ir->erdp |= ERDP_EHB;
        s->usbsts |= STS_EINT;
        if (msix_enabled(s->msix) && (ir->iman & IMAN_IE) && (s->usbcmd & CMD_INTE)) {
            msix_notify(s->msix, i);
            ir->iman &= ~IMAN_IP;
        }
    }
    xhci_update_intx(s);
}

/* Loads ERST entry ir->seg: the segment the producer writes into. */
static bool load_segment(XHCIState *s, XHCIInterrupter *ir)
{
    uint8_t e[16];
    if (!dma_read(s, (ir->erstba & ~0x3full) + (uint64_t)ir->seg * 16, e, 16, "ERST entry"))
        return false;
    uint32_t size = rd32(e + 8) & 0xffff;
    if (size < 16 || size > 4096) {
        LOG(LOG_GUEST_ERRORS, "xhci: event ring segment of %u TRBs\n", size);
        xhci_host_error(s, "ERST entry with a bad size", ir->erstba);
        return false;
    }
    ir->seg_base = rd64(e) & ~0x3full;
    ir->seg_size = size;
    return true;
}

/* The producer starts at segment 0 with cycle 1 (4.9.4). */
static bool ring_start(XHCIState *s, XHCIInterrupter *ir)
{
    uint32_t n = ir->erstsz & 0xffff;
    if (n == 0 || n > (1u << XHCI_ERST_MAX_LOG)) {
        xhci_host_error(s, "event ring segment table size out of range", ir->erstsz);
        return false;
    }
    ir->seg = 0;
    ir->idx = 0;
    ir->pcs = true;
    if (!load_segment(s, ir))
        return false;
    ir->ring_ready = true;
    return true;
}

/* Writes one event TRB (param, status, control without the cycle bit)
 * into interrupter i's ring. */
static void xhci_event(XHCIState *s, int i, uint64_t param, uint32_t status, uint32_t control)
{
    if (i < 0 || i >= XHCI_INTRS)
        i = 0;
    XHCIInterrupter *ir = &s->intr[i];
    if (s->usbsts & STS_HSE)
        return;
    if (!ir->ring_ready && !ring_start(s, ir))
        return;
    /* Where the producer goes next: full when that is the consumer. */
    uint32_t seg = ir->seg, idx = ir->idx + 1;
    uint64_t next = ir->seg_base + (uint64_t)idx * 16;
    XHCIInterrupter peek = *ir;
    if (idx == ir->seg_size) {
        peek.seg = (seg + 1) % (ir->erstsz & 0xffff);
        if (!load_segment(s, &peek))
            return;
        next = peek.seg_base;
    }
    if (next == (ir->erdp & ~0xfull)) {
        LOG(LOG_GUEST_ERRORS, "xhci: event ring %d full: event dropped\n", i);
        return;
    }
    uint8_t t[16];
    wr32(t, (uint32_t)param);
    wr32(t + 4, (uint32_t)(param >> 32));
    wr32(t + 8, status);
    wr32(t + 12, (control & ~TRB_C) | (ir->pcs ? TRB_C : 0));
    if (!dma_write(s, enqueue_addr(ir), t, 16, "event ring"))
        return;
    if (idx == ir->seg_size) {
        if (peek.seg == 0)
            ir->pcs = !ir->pcs;          /* wrapped past the last segment */
        ir->seg = peek.seg;
        ir->seg_base = peek.seg_base;
        ir->seg_size = peek.seg_size;
        ir->idx = 0;
    } else {
        ir->idx = idx;
    }
    xhci_intr_check(s, i);
}

static void command_event(XHCIState *s, uint64_t trb, int cc, int slot)
{
    xhci_event(s, 0, trb, (uint32_t)cc << 24,
               (uint32_t)TRB_EV_CMD_COMPLETE << 10 | (uint32_t)slot << 24);
}

/* ---- ports ---- */

static bool port_is_usb3(const XHCIState *s, int p)
{
    return p >= s->nports2;
}

static uint32_t port_pls(uint32_t v)
{
    return (v & PORT_PLS_MASK) >> PORT_PLS_SHIFT;
}

static uint32_t with_pls(uint32_t v, uint32_t pls)
{
    return (v & ~PORT_PLS_MASK) | pls << PORT_PLS_SHIFT;
}

/* Sets change bits of port p (0-based); a Port Status Change Event when
 * one of them is new and the controller runs (4.19.2). */
static void port_change(XHCIState *s, int p, uint32_t bits)
{
    uint32_t fresh = bits & ~s->port[p].portsc;
    s->port[p].portsc |= bits;
    if (fresh && !halted(s)) {
        s->usbsts |= STS_PCD;
        xhci_event(s, 0, (uint64_t)(p + 1) << 24, (uint32_t)CC_SUCCESS << 24,
                   (uint32_t)TRB_EV_PORT_STATUS << 10);
    }
}

/* The connected-but-not-enabled state of a USB 2 port, or the
 * disconnected one (4.19.1.1). */
static void port_connect_state(XHCIState *s, int p)
{
    XHCIPort *pt = &s->port[p];
    pt->portsc = PORT_PP | (pt->portsc & (PORT_CHANGES | PORT_WAKE_MASK));
    if (pt->dev)
        pt->portsc = with_pls(pt->portsc, PLS_POLLING) | SPEED_FULL << PORT_SPEED_SHIFT;
    else
        pt->portsc = with_pls(pt->portsc, PLS_RXDETECT);
}

static void port_reset(XHCIState *s, int p, bool warm)
{
    XHCIPort *pt = &s->port[p];
    if (!pt->dev)
        return;
    usb_device_reset(pt->dev);
    pt->portsc = with_pls(pt->portsc & ~PORT_PR, PLS_U0) | PORT_PED;
    port_change(s, p, PORT_PRC | (warm ? PORT_WRC : 0));
}

static void port_write(XHCIState *s, int p, uint32_t v)
{
    XHCIPort *pt = &s->port[p];
    uint32_t old = pt->portsc;
    pt->portsc &= ~(v & PORT_CHANGES);
    pt->portsc = (pt->portsc & ~PORT_WAKE_MASK) | (v & PORT_WAKE_MASK);
    if (v & PORT_PED)
        pt->portsc &= ~PORT_PED;         /* writing 1 disables the port */
    if ((v & PORT_LWS) && (old & PORT_PED)) {
        uint32_t pls = port_pls(v), cur = port_pls(old);
        if (pls == PLS_U0 || pls == PLS_U3 || pls == PLS_RESUME) {
            pt->portsc = with_pls(pt->portsc, pls);
            if (pls == PLS_U0 && (cur == PLS_U3 || cur == PLS_RESUME))
                port_change(s, p, PORT_PLC);
        }
    }
    if ((v & PORT_PR) || ((v & PORT_WPR) && port_is_usb3(s, p)))
        port_reset(s, p, (v & PORT_WPR) && port_is_usb3(s, p));
}

static uint32_t port_read(const XHCIState *s, int p)
{
    return s->port[p].portsc | (s->port[p].dev ? PORT_CCS : 0);
}

/* ---- rings ---- */

/* Takes the next TRB of the ring at *deq (cycle *ccs), following Link TRBs
 * (commands and transfers alike).  1: *t holds a TRB and *deq, *ccs point
 * past it; 0: the ring is empty; -1: a Link loop (*t is the last Link)
 * or a DMA error (the controller halted). */
static int ring_fetch(XHCIState *s, uint64_t *deq, bool *ccs, XHCITRB *t)
{
    for (int links = 0; links <= XHCI_MAX_LINKS; links++) {
        uint8_t b[16];
        if (!dma_read(s, *deq, b, 16, "TRB"))
            return -1;
        t->param = rd64(b);
        t->status = rd32(b + 8);
        t->control = rd32(b + 12);
        t->addr = *deq;
        if (!!(t->control & TRB_C) != *ccs)
            return 0;
        if (((t->control >> 10) & 0x3f) != TRB_LINK) {
            *deq += 16;
            return 1;
        }
        if (t->control & TRB_TC)
            *ccs = !*ccs;
        *deq = t->param & ~0xfull;
    }
    LOG(LOG_GUEST_ERRORS, "xhci: more than %d Link TRBs in a row at 0x%llx\n", XHCI_MAX_LINKS,
        (unsigned long long)t->addr);
    return -1;
}

static unsigned trb_type(const XHCITRB *t)
{
    return (t->control >> 10) & 0x3f;
}

/* ---- contexts ---- */

static XHCISlot *slot_get(XHCIState *s, unsigned id)
{
    return id >= 1 && id <= XHCI_SLOTS && s->slot[id].enabled ? &s->slot[id] : NULL;
}

static bool ctx_read(XHCIState *s, uint64_t addr, uint32_t *dw, int n)
{
    uint8_t b[CTX_SIZE * 2];
    if (!dma_read(s, addr, b, (size_t)n * 4, "context"))
        return false;
    for (int i = 0; i < n; i++)
        dw[i] = rd32(b + 4 * i);
    return true;
}

static bool ctx_write(XHCIState *s, uint64_t addr, const uint32_t *dw, int n)
{
    uint8_t b[CTX_SIZE * 2];
    for (int i = 0; i < n; i++)
        wr32(b + 4 * i, dw[i]);
    return dma_write(s, addr, b, (size_t)n * 4, "output context");
}

/* The xHC's view of an endpoint goes back to the output context: state,
 * TR dequeue pointer and cycle (drivers read them after Stop and halts). */
static void ep_writeback(XHCIState *s, XHCISlot *sl, int dci)
{
    uint32_t dw[4];
    uint64_t a = sl->ctx + (uint64_t)dci * CTX_SIZE;
    if (!ctx_read(s, a, dw, 4))
        return;
    XHCIEndpoint *ep = &sl->ep[dci];
    dw[0] = (dw[0] & ~7u) | ep->state;
    dw[2] = (uint32_t)(ep->deq & ~0xfull) | (ep->ccs ? 1 : 0);
    dw[3] = (uint32_t)(ep->deq >> 32);
    ctx_write(s, a, dw, 4);
}

static void slot_writeback(XHCIState *s, XHCISlot *sl, unsigned id)
{
    uint32_t dw[4];
    if (!ctx_read(s, sl->ctx, dw, 4))
        return;
    dw[3] = (uint32_t)sl->state << 27 | (sl->state >= SLOT_ADDRESSED ? id : 0);
    ctx_write(s, sl->ctx, dw, 4);
}

/* An endpoint from its (input) context dwords. */
static void ep_load(XHCIEndpoint *ep, const uint32_t *dw)
{
    memset(ep, 0, sizeof *ep);
    ep->state = EP_RUNNING;
    ep->type = (dw[1] >> 3) & 7;
    ep->interval = (dw[0] >> 16) & 0xff;
    ep->deq = ((uint64_t)dw[3] << 32 | dw[2]) & ~0xfull;
    ep->ccs = dw[2] & 1;
}

/* The device of a slot: on its root port, then down the hubs its route
 * string names, one port number per 4-bit tier (4.5.2). */
static USBDevice *slot_device(XHCIState *s, const XHCISlot *sl)
{
    if (sl->port < 1 || sl->port > nports(s))
        return NULL;
    const XHCIPort *pt = &s->port[sl->port - 1];
    USBDevice *d = (pt->portsc & PORT_PED) ? pt->dev : NULL;
    for (int tier = 0; tier < 5 && d; tier++) {
        unsigned hub_port = (sl->route >> (4 * tier)) & 0xf;
        if (!hub_port)
            break;
        d = d->info->port_device ? d->info->port_device(d->opaque, hub_port) : NULL;
    }
    return d;
}

/* ---- transfers ---- */

typedef enum TDResult { TD_OK, TD_NAK, TD_HALT, TD_FATAL } TDResult;

static void transfer_event(XHCIState *s, XHCISlot *sl, unsigned id, int dci, uint64_t param,
                           uint32_t len, int cc, bool ed)
{
    xhci_event(s, sl->intr, param, (len & 0xffffff) | (uint32_t)cc << 24,
               (uint32_t)TRB_EV_TRANSFER << 10 | (uint32_t)dci << 16 | id << 24 |
               (ed ? TRB_ED : 0));
}

static bool ep_is_in(const XHCIEndpoint *ep, int dci)
{
    return ep->type == EPT_CONTROL ? false : (dci & 1);
}

/* The halting of an endpoint on error: an event for the TRB, the state
 * and the (unadvanced) dequeue pointer in the output context. */
static TDResult ep_halt(XHCIState *s, XHCISlot *sl, unsigned id, int dci, const XHCITRB *t,
                        int cc)
{
    transfer_event(s, sl, id, dci, t->addr, t->status & 0x1ffff, cc, false);
    sl->ep[dci].state = EP_HALTED;
    return TD_HALT;
}

static int usb_cc(int ret)
{
    return ret == USB_RET_STALL ? CC_STALL : CC_TRANSACTION;
}

/* Events for a data TD (Normal/Data TRBs, maybe Event Data) of which done
 * bytes moved (4.10.1.1: a short TRB reports with Short Packet when ISP or
 * IOC is set, then the TD ends at its last TRB). */
static void data_events(XHCIState *s, XHCISlot *sl, unsigned id, int dci, const XHCITRB *td,
                        int n, uint32_t done)
{
    uint32_t left = done, moved = 0;
    for (int i = 0; i < n; i++) {
        const XHCITRB *t = &td[i];
        if (trb_type(t) == TRB_EVENT_DATA) {
            if (t->control & TRB_IOC)
                transfer_event(s, sl, id, dci, t->param, moved, CC_SUCCESS, true);
            continue;
        }
        if (trb_type(t) != TRB_NORMAL && trb_type(t) != TRB_DATA) {
            if (t->control & TRB_IOC)
                transfer_event(s, sl, id, dci, t->addr, 0, CC_SUCCESS, false);
            continue;
        }
        uint32_t len = t->status & 0x1ffff, take = MIN(len, left);
        left -= take;
        moved += take;
        if (take < len) {
            if (t->control & (TRB_ISP | TRB_IOC))
                transfer_event(s, sl, id, dci, t->addr, len - take, CC_SHORT_PACKET, false);
            const XHCITRB *last = &td[n - 1];
            if (last != t && (last->control & TRB_IOC))
                transfer_event(s, sl, id, dci,
                               trb_type(last) == TRB_EVENT_DATA ? last->param : last->addr,
                               trb_type(last) == TRB_EVENT_DATA ? moved : 0, CC_SHORT_PACKET,
                               trb_type(last) == TRB_EVENT_DATA);
            return;
        }
        if (t->control & TRB_IOC)
            transfer_event(s, sl, id, dci, t->addr, 0, CC_SUCCESS, false);
    }
}

/* A data stage or a Normal TD: one packet exchange with the device for
 * the whole TD, scattered over (or gathered from) its TRBs. */
static TDResult run_data_td(XHCIState *s, XHCISlot *sl, unsigned id, int dci, USBDevice *dev,
                            const XHCITRB *td, int n)
{
    bool in = trb_type(&td[0]) == TRB_DATA ? (td[0].control & TRB_DIR_IN)
                                           : ep_is_in(&sl->ep[dci], dci);
    if (sl->ep[dci].type == EPT_ISOCH_OUT || sl->ep[dci].type == EPT_ISOCH_IN)
        return ep_halt(s, sl, id, dci, &td[0], CC_TRB);
    uint32_t total = 0;
    for (int i = 0; i < n; i++) {
        unsigned ty = trb_type(&td[i]);
        if (ty != TRB_NORMAL && ty != TRB_DATA && ty != TRB_EVENT_DATA && ty != TRB_NOOP)
            return ep_halt(s, sl, id, dci, &td[i], CC_TRB);
        if (ty != TRB_NORMAL && ty != TRB_DATA)
            continue;
        uint32_t len = td[i].status & 0x1ffff;
        if ((td[i].control & TRB_IDT) && (in || len > 8))
            return ep_halt(s, sl, id, dci, &td[i], CC_TRB);
        if (len > XHCI_MAX_XFER - total)
            return ep_halt(s, sl, id, dci, &td[i], CC_TRB);
        if (!in) {
            if (td[i].control & TRB_IDT) {
                for (uint32_t k = 0; k < len; k++)
                    s->xfer[total + k] = (uint8_t)(td[i].param >> (8 * k));
            } else if (len && !dma_read(s, td[i].param, s->xfer + total, len, "data buffer")) {
                return TD_FATAL;
            }
        }
        total += len;
    }
    int ep = dci == 1 ? 0 : dci / 2;
    int ret = usb_handle_packet(dev, in ? USB_PID_IN : USB_PID_OUT, ep, s->xfer, (int)total);
    if (ret == USB_RET_NAK)
        return TD_NAK;
    if (ret < 0)
        return ep_halt(s, sl, id, dci, &td[0], usb_cc(ret));
    uint32_t done = MIN((uint32_t)ret, total);
    if (in) {
        uint32_t pos = 0;
        for (int i = 0; i < n && pos < done; i++) {
            unsigned ty = trb_type(&td[i]);
            if (ty != TRB_NORMAL && ty != TRB_DATA)
                continue;
            uint32_t take = MIN(td[i].status & 0x1ffff, done - pos);
            if (take && !dma_write(s, td[i].param, s->xfer + pos, take, "data buffer"))
                return TD_FATAL;
            pos += take;
        }
    }
    data_events(s, sl, id, dci, td, n, in ? done : total);
    return TD_OK;
}

/* One TD (a chain of TRBs) of endpoint dci. */
static TDResult run_td(XHCIState *s, XHCISlot *sl, unsigned id, int dci, const XHCITRB *td,
                       int n)
{
    USBDevice *dev = slot_device(s, sl);
    const XHCITRB *t = &td[0];
    bool control = sl->ep[dci].type == EPT_CONTROL;
    switch (trb_type(t)) {
    case TRB_SETUP: {
        if (!control || !(t->control & TRB_IDT) || (t->status & 0x1ffff) != 8 || n != 1)
            return ep_halt(s, sl, id, dci, t, CC_TRB);
        if (!dev)
            return ep_halt(s, sl, id, dci, t, CC_TRANSACTION);
        uint8_t setup[8];
        for (int k = 0; k < 8; k++)
            setup[k] = (uint8_t)(t->param >> (8 * k));
        int ret = usb_handle_packet(dev, USB_PID_SETUP, 0, setup, 8);
        if (ret < 0)
            return ep_halt(s, sl, id, dci, t, usb_cc(ret));
        if (t->control & TRB_IOC)
            transfer_event(s, sl, id, dci, t->addr, 0, CC_SUCCESS, false);
        return TD_OK;
    }
    case TRB_STATUS: {
        if (!control || n != 1)
            return ep_halt(s, sl, id, dci, t, CC_TRB);
        if (!dev)
            return ep_halt(s, sl, id, dci, t, CC_TRANSACTION);
        int ret = usb_handle_packet(dev, (t->control & TRB_DIR_IN) ? USB_PID_IN : USB_PID_OUT,
                                    0, s->xfer, 0);
        if (ret == USB_RET_NAK)
            return TD_NAK;
        if (ret < 0)
            return ep_halt(s, sl, id, dci, t, usb_cc(ret));
        if (t->control & TRB_IOC)
            transfer_event(s, sl, id, dci, t->addr, 0, CC_SUCCESS, false);
        return TD_OK;
    }
    case TRB_DATA:
        if (!control)
            return ep_halt(s, sl, id, dci, t, CC_TRB);
        /* fall through */
    case TRB_NORMAL:
        if (!dev)
            return ep_halt(s, sl, id, dci, t, CC_TRANSACTION);
        return run_data_td(s, sl, id, dci, dev, td, n);
    case TRB_NOOP:
    case TRB_EVENT_DATA:
        data_events(s, sl, id, dci, td, n, 0);
        return TD_OK;
    default:
        return ep_halt(s, sl, id, dci, t, CC_TRB);
    }
}

static void schedule_poll(XHCIState *s, const XHCIEndpoint *ep)
{
    int64_t period = 125000LL << MIN(ep->interval, 15);
    period = MAX(POLL_MIN_NS, MIN(period, POLL_MAX_NS));
    int64_t when = clock_now(s->m->clock) + period;
    if (!timer_pending(s->poll_timer) || timer_expire_time(s->poll_timer) > when)
        timer_mod(s->poll_timer, when);
}

/* Runs the TDs waiting on endpoint dci of slot id (its doorbell). */
static void xhci_kick_ep(XHCIState *s, unsigned id, int dci)
{
    XHCISlot *sl = slot_get(s, id);
    if (!sl || dci < 1 || dci > XHCI_DCI_MAX || halted(s))
        return;
    XHCIEndpoint *ep = &sl->ep[dci];
    if (ep->state != EP_RUNNING)
        return;
    ep->waiting = false;
    XHCITRB td[XHCI_TD_TRBS];
    for (int steps = 0; steps < XHCI_RING_STEPS;) {
        uint64_t deq = ep->deq;
        bool ccs = ep->ccs;
        int n = 0, r;
        /* A TD: TRBs up to the first without the chain bit. */
        while ((r = ring_fetch(s, &deq, &ccs, &td[n])) == 1) {
            n++;
            steps++;
            if (!(td[n - 1].control & TRB_CH) || n == XHCI_TD_TRBS)
                break;
        }
        if (r < 0) {
            if (!(s->usbsts & STS_HSE)) {
                ep_halt(s, sl, id, dci, &td[n], CC_TRB);
                ep_writeback(s, sl, dci);
            }
            return;
        }
        if (n == 0)
            return;                      /* ring empty */
        if (r == 0)
            return;                      /* the rest of the TD is not there yet */
        if (td[n - 1].control & TRB_CH) {
            ep_halt(s, sl, id, dci, &td[n - 1], CC_TRB);   /* TD too long */
            ep_writeback(s, sl, dci);
            return;
        }
        TDResult res = run_td(s, sl, id, dci, td, n);
        if (res == TD_NAK) {
            ep->waiting = true;
            schedule_poll(s, ep);
            return;
        }
        if (res == TD_FATAL)
            return;
        if (res == TD_HALT) {
            ep_writeback(s, sl, dci);
            return;
        }
        ep->deq = deq;
        ep->ccs = ccs;
    }
}

static void xhci_poll(void *opaque)
{
    XHCIState *s = opaque;
    for (unsigned id = 1; id <= XHCI_SLOTS; id++) {
        if (!s->slot[id].enabled)
            continue;
        for (int dci = 1; dci <= XHCI_DCI_MAX; dci++)
            if (s->slot[id].ep[dci].waiting)
                xhci_kick_ep(s, id, dci);
    }
}

/* ---- commands (4.6) ---- */

static int cmd_enable_slot(XHCIState *s, unsigned *id)
{
    unsigned max = MIN(s->config & 0xff, (unsigned)XHCI_SLOTS);
    for (unsigned i = 1; i <= max; i++)
        if (!s->slot[i].enabled) {
            memset(&s->slot[i], 0, sizeof s->slot[i]);
            s->slot[i].enabled = true;
            *id = i;
            return CC_SUCCESS;
        }
    return CC_NO_SLOTS;
}

/* Reads the input control context and the slot context of an input
 * context (6.2.5). */
static bool read_input(XHCIState *s, uint64_t in, uint32_t *icc, uint32_t *slot)
{
    return ctx_read(s, in, icc, 8) && ctx_read(s, in + CTX_SIZE, slot, 8);
}

static int cmd_address_device(XHCIState *s, XHCISlot *sl, unsigned id, const XHCITRB *t)
{
    if (sl->state >= SLOT_ADDRESSED || ((t->control & TRB_BSR) && sl->state == SLOT_DEFAULT))
        return CC_CONTEXT_STATE;
    uint64_t in = t->param & ~0xfull;
    uint32_t icc[8], sc[8], ep0[8];
    if (!read_input(s, in, icc, sc) || !ctx_read(s, in + 2 * CTX_SIZE, ep0, 8))
        return -1;
    if ((icc[1] & 3) != 3 || icc[0])
        return CC_PARAMETER;
    unsigned port = (sc[1] >> 16) & 0xff;
    if (port < 1 || port > (unsigned)nports(s))
        return CC_PARAMETER;
    uint8_t p[8];
    if (!dma_read(s, s->dcbaap + id * 8ull, p, 8, "device context base address array"))
        return -1;
    sl->ctx = rd64(p) & ~0x3full;
    sl->port = (uint8_t)port;
    sl->route = sc[0] & 0xfffff;
    sl->intr = (uint16_t)(sc[2] >> 22);
    USBDevice *dev = slot_device(s, sl);
    if (!dev)
        return CC_TRANSACTION;
    if (!(t->control & TRB_BSR)) {
        /* SET_ADDRESS with the slot ID as the USB address, and its status stage. */
        uint8_t setup[8] = { 0, USB_REQ_SET_ADDRESS, (uint8_t)id, 0, 0, 0, 0, 0 };
        if (usb_handle_packet(dev, USB_PID_SETUP, 0, setup, 8) < 0 ||
            usb_handle_packet(dev, USB_PID_IN, 0, s->xfer, 0) < 0)
            return CC_TRANSACTION;
    }
    sl->state = (t->control & TRB_BSR) ? SLOT_DEFAULT : SLOT_ADDRESSED;
    for (int d = 1; d <= XHCI_DCI_MAX; d++)
        sl->ep[d].state = EP_DISABLED;
    ep_load(&sl->ep[1], ep0);
    sc[3] = (uint32_t)sl->state << 27 | (sl->state == SLOT_ADDRESSED ? id : 0);
    ep0[0] = (ep0[0] & ~7u) | EP_RUNNING;
    if (!ctx_write(s, sl->ctx, sc, 8) || !ctx_write(s, sl->ctx + CTX_SIZE, ep0, 8))
        return -1;
    return CC_SUCCESS;
}

static void ep_disable(XHCIState *s, XHCISlot *sl, int dci)
{
    memset(&sl->ep[dci], 0, sizeof sl->ep[dci]);
    ep_writeback(s, sl, dci);
}

static int cmd_configure_ep(XHCIState *s, XHCISlot *sl, const XHCITRB *t)
{
    if (sl->state != SLOT_ADDRESSED && sl->state != SLOT_CONFIGURED)
        return CC_CONTEXT_STATE;
    if (t->control & TRB_DC) {
        for (int d = 2; d <= XHCI_DCI_MAX; d++)
            if (sl->ep[d].state != EP_DISABLED)
                ep_disable(s, sl, d);
        sl->state = SLOT_ADDRESSED;
        return CC_SUCCESS;
    }
    uint64_t in = t->param & ~0xfull;
    uint32_t icc[8], sc[8];
    if (!read_input(s, in, icc, sc))
        return -1;
    if ((icc[0] & 3) || (icc[1] & 2))
        return CC_PARAMETER;            /* slot and EP0 are not dropped or added here */
    for (int d = 2; d <= XHCI_DCI_MAX; d++)
        if ((icc[0] >> d) & 1)
            ep_disable(s, sl, d);
    for (int d = 2; d <= XHCI_DCI_MAX; d++) {
        if (!((icc[1] >> d) & 1))
            continue;
        uint32_t ec[8];
        if (!ctx_read(s, in + (uint64_t)(d + 1) * CTX_SIZE, ec, 8))
            return -1;
        ep_load(&sl->ep[d], ec);
        ec[0] = (ec[0] & ~7u) | EP_RUNNING;
        if (!ctx_write(s, sl->ctx + (uint64_t)d * CTX_SIZE, ec, 8))
            return -1;
    }
    bool any = false;
    for (int d = 2; d <= XHCI_DCI_MAX; d++)
        any |= sl->ep[d].state != EP_DISABLED;
    sl->state = any ? SLOT_CONFIGURED : SLOT_ADDRESSED;
    if (icc[1] & 1) {
        uint32_t out[8];
        if (!ctx_read(s, sl->ctx, out, 8))
            return -1;
        out[0] = (out[0] & ~(0x1fu << 27)) | (sc[0] & (0x1fu << 27));   /* context entries */
        if (!ctx_write(s, sl->ctx, out, 8))
            return -1;
    }
    return CC_SUCCESS;
}

static int cmd_evaluate_ctx(XHCIState *s, XHCISlot *sl, const XHCITRB *t)
{
    if (sl->state < SLOT_DEFAULT)
        return CC_CONTEXT_STATE;
    uint64_t in = t->param & ~0xfull;
    uint32_t icc[8], sc[8], out[8];
    if (!read_input(s, in, icc, sc))
        return -1;
    if (icc[1] & 1) {
        if (!ctx_read(s, sl->ctx, out, 8))
            return -1;
        out[1] = (out[1] & ~0xffffu) | (sc[1] & 0xffff);        /* max exit latency */
        out[2] = (out[2] & ~(0x3ffu << 22)) | (sc[2] & (0x3ffu << 22));
        sl->intr = (uint16_t)(sc[2] >> 22);
        if (!ctx_write(s, sl->ctx, out, 8))
            return -1;
    }
    if (icc[1] & 2) {
        uint32_t ec[8];
        if (!ctx_read(s, in + 2 * CTX_SIZE, ec, 8) || !ctx_read(s, sl->ctx + CTX_SIZE, out, 8))
            return -1;
        out[1] = (out[1] & 0xffffu) | (ec[1] & 0xffff0000u);     /* max packet size */
        if (!ctx_write(s, sl->ctx + CTX_SIZE, out, 8))
            return -1;
    }
    return CC_SUCCESS;
}

static int cmd_endpoint(XHCIState *s, XHCISlot *sl, const XHCITRB *t)
{
    int dci = (t->control >> 16) & 0x1f;
    if (dci < 1)
        return CC_TRB;
    XHCIEndpoint *ep = &sl->ep[dci];
    if (ep->state == EP_DISABLED)
        return CC_EP_NOT_ENABLED;
    switch (trb_type(t)) {
    case TRB_RESET_EP:
        if (ep->state != EP_HALTED)
            return CC_CONTEXT_STATE;
        ep->state = EP_STOPPED;
        break;
    case TRB_STOP_EP:
        if (ep->state != EP_RUNNING)
            return CC_CONTEXT_STATE;
        ep->state = EP_STOPPED;
        ep->waiting = false;
        break;
    case TRB_SET_TR_DEQ:
        if (ep->state != EP_STOPPED && ep->state != EP_ERROR)
            return CC_CONTEXT_STATE;
        ep->deq = t->param & ~0xfull;
        ep->ccs = t->param & 1;
        break;
    }
    ep_writeback(s, sl, dci);
    return (s->usbsts & STS_HSE) ? -1 : CC_SUCCESS;
}

static int cmd_reset_device(XHCIState *s, XHCISlot *sl, unsigned id)
{
    if (sl->state < SLOT_ADDRESSED)
        return CC_CONTEXT_STATE;
    for (int d = 2; d <= XHCI_DCI_MAX; d++)
        if (sl->ep[d].state != EP_DISABLED)
            ep_disable(s, sl, d);
    sl->state = SLOT_DEFAULT;
    slot_writeback(s, sl, id);
    return (s->usbsts & STS_HSE) ? -1 : CC_SUCCESS;
}

/* One command; the completion code, or -1 after a host system error. */
static int run_command(XHCIState *s, const XHCITRB *t, unsigned *id)
{
    unsigned type = trb_type(t);
    *id = t->control >> 24;
    if (type == TRB_NOOP_CMD)
        return CC_SUCCESS;
    if (type == TRB_ENABLE_SLOT)
        return cmd_enable_slot(s, id);
    if (type < TRB_DISABLE_SLOT || type > TRB_RESET_DEVICE)
        return CC_TRB;
    XHCISlot *sl = slot_get(s, *id);
    if (!sl)
        return CC_SLOT_NOT_ENABLED;
    switch (type) {
    case TRB_DISABLE_SLOT:
        memset(sl, 0, sizeof *sl);
        return CC_SUCCESS;
    case TRB_ADDRESS_DEVICE:
        return cmd_address_device(s, sl, *id, t);
    case TRB_CONFIGURE_EP:
        return cmd_configure_ep(s, sl, t);
    case TRB_EVALUATE_CTX:
        return cmd_evaluate_ctx(s, sl, t);
    case TRB_RESET_EP:
    case TRB_STOP_EP:
    case TRB_SET_TR_DEQ:
        return cmd_endpoint(s, sl, t);
    case TRB_RESET_DEVICE:
        return cmd_reset_device(s, sl, *id);
    default:
        return CC_TRB;
    }
}

static void xhci_run_commands(XHCIState *s)
{
    if (halted(s))
        return;
    s->cmd_running = true;
    for (int n = 0; n < XHCI_RING_STEPS && s->cmd_running; n++) {
        XHCITRB t;
        int r = ring_fetch(s, &s->cmd_deq, &s->cmd_ccs, &t);
        if (r == 0)
            return;
        if (r < 0) {
            if (!(s->usbsts & STS_HSE))
                command_event(s, t.addr, CC_TRB, 0);
            s->cmd_running = false;      /* a Link loop: the ring stops */
            return;
        }
        unsigned id = 0;
        int cc = run_command(s, &t, &id);
        if (cc < 0)
            return;
        command_event(s, t.addr, cc, cc == CC_SUCCESS || trb_type(&t) != TRB_ENABLE_SLOT
                                         ? (int)(id & 0xff) : 0);
    }
}

/* ---- registers ---- */

static void xhci_reset_state(XHCIState *s)
{
    timer_del(s->poll_timer);
    s->usbcmd = 0;
    s->usbsts = STS_HCH;
    s->dnctrl = 0;
    s->config = 0;
    s->crcr = 0;
    s->dcbaap = 0;
    s->cmd_deq = 0;
    s->cmd_ccs = false;
    s->cmd_running = false;
    memset(s->intr, 0, sizeof s->intr);
    memset(s->slot, 0, sizeof s->slot);
    for (int p = 0; p < nports(s); p++) {
        s->port[p].portsc = 0;
        s->port[p].pmsc = 0;
        port_connect_state(s, p);
        if (s->port[p].dev)
            s->port[p].portsc |= PORT_CSC;
    }
    xhci_update_intx(s);
}

static uint32_t hcsparams1(const XHCIState *s)
{
    return XHCI_SLOTS | XHCI_INTRS << 8 | (uint32_t)nports(s) << 24;
}

/* Supported Protocol capabilities (7.2): USB 2.0 then USB 3.0 ports. */
static uint32_t xecp_read(const XHCIState *s, unsigned off)
{
    unsigned cap = off / 16, dw = (off % 16) / 4;
    if (cap > 1)
        return 0;
    bool usb3 = cap == 1;
    switch (dw) {
    case 0:
        return 2 | (cap == 0 ? 4u : 0u) << 8 | (usb3 ? 0x03000000u : 0x02000000u);
    case 1:
        return 0x20425355;               /* "USB " */
    case 2:
        return (usb3 ? (uint32_t)s->nports2 + 1 : 1u) |
               (uint32_t)(usb3 ? s->nports3 : s->nports2) << 8;
    default:
        return 0;                        /* protocol slot type 0 */
    }
}

static uint32_t cap_read(const XHCIState *s, unsigned off)
{
    switch (off) {
    case 0:              return CAP_LENGTH | (uint32_t)HCIVERSION << 16;
    case CAP_HCSPARAMS1: return hcsparams1(s);
    case CAP_HCSPARAMS2: return XHCI_ERST_MAX_LOG << 4;
    case CAP_HCSPARAMS3: return 0;
    case CAP_HCCPARAMS1: return 1u /* AC64 */ | (uint32_t)(XECP_BASE / 4) << 16;
    case CAP_DBOFF:      return DB_BASE;
    case CAP_RTSOFF:     return RT_BASE;
    default:             return 0;
    }
}

static uint32_t op_read(const XHCIState *s, unsigned off)
{
    switch (off) {
    case OP_USBCMD:      return s->usbcmd;
    case OP_USBSTS:      return s->usbsts;
    case OP_PAGESIZE:    return 1;       /* 4 KiB pages */
    case OP_DNCTRL:      return s->dnctrl;
    case OP_CRCR:        return s->cmd_running ? (uint32_t)CRCR_CRR : 0;
    case OP_CRCR + 4:    return 0;
    case OP_DCBAAP:      return (uint32_t)s->dcbaap;
    case OP_DCBAAP + 4:  return (uint32_t)(s->dcbaap >> 32);
    case OP_CONFIG:      return s->config;
    default:             return 0;
    }
}

static uint32_t rt_read(XHCIState *s, unsigned off)
{
    if (off < 0x20) {
        if (off != 0 || halted(s))
            return 0;
        return (uint32_t)((clock_now(s->m->clock) - s->mfindex_start) / 125000) & 0x3fff;
    }
    unsigned i = (off - 0x20) / 32, r = (off - 0x20) % 32;
    if (i >= XHCI_INTRS)
        return 0;
    const XHCIInterrupter *ir = &s->intr[i];
    switch (r) {
    case 0x00: return ir->iman;
    case 0x04: return ir->imod;
    case 0x08: return ir->erstsz;
    case 0x10: return (uint32_t)ir->erstba;
    case 0x14: return (uint32_t)(ir->erstba >> 32);
    case 0x18: return (uint32_t)ir->erdp;
    case 0x1c: return (uint32_t)(ir->erdp >> 32);
    default:   return 0;
    }
}

static uint32_t xhci_read32(XHCIState *s, unsigned off)
{
    if (off < CAP_LENGTH)
        return cap_read(s, off);
    if (off >= PORT_BASE && off < PORT_BASE + 0x10u * (unsigned)nports(s)) {
        int p = (int)(off - PORT_BASE) / 16;
        switch ((off - PORT_BASE) % 16) {
        case 0:  return port_read(s, p);
        case 4:  return s->port[p].pmsc;
        default: return 0;
        }
    }
    if (off < PORT_BASE)
        return op_read(s, off - OP_BASE);
    if (off >= XECP_BASE && off < RT_BASE)
        return xecp_read(s, off - XECP_BASE);
    if (off >= RT_BASE && off < DB_BASE)
        return rt_read(s, off - RT_BASE);
    return 0;                            /* doorbells read as 0 */
}

static void write_usbcmd(XHCIState *s, uint32_t v)
{
    if (v & CMD_HCRST) {
        xhci_reset_state(s);
        return;
    }
    uint32_t old = s->usbcmd;
    s->usbcmd = v & (CMD_RS | CMD_RW_MASK);
    if ((v & CMD_RS) && !(old & CMD_RS)) {
        if (s->usbsts & STS_HSE) {
            s->usbcmd &= ~CMD_RS;        /* stays halted until reset */
        } else {
            s->usbsts &= ~STS_HCH;
            s->mfindex_start = clock_now(s->m->clock);
        }
    } else if (!(v & CMD_RS) && (old & CMD_RS)) {
        s->usbsts |= STS_HCH;
        s->cmd_running = false;
        timer_del(s->poll_timer);
    }
    for (int i = 0; i < XHCI_INTRS; i++)
        xhci_intr_check(s, i);
}

static void write_crcr(XHCIState *s, unsigned half, uint32_t v)
{
    if (s->cmd_running) {
        /* Stop or Abort: the ring stops after the current command (all
         * commands complete at once here) with Command Ring Stopped. */
        if (half == 0 && (v & (CRCR_CS | CRCR_CA))) {
            s->cmd_running = false;
            command_event(s, s->cmd_deq, CC_CMD_RING_STOPPED, 0);
        }
        return;
    }
    if (half == 0) {
        s->crcr = (s->crcr & ~0xffffffffull) | (v & ~0x3full);
        s->cmd_ccs = v & CRCR_RCS;
    } else {
        s->crcr = (s->crcr & 0xffffffffull) | (uint64_t)v << 32;
    }
    s->cmd_deq = s->crcr & ~0x3full;
}

static void op_write(XHCIState *s, unsigned off, uint32_t v)
{
    switch (off) {
    case OP_USBCMD:
        write_usbcmd(s, v);
        break;
    case OP_USBSTS:
        s->usbsts &= ~(v & STS_W1C);
        break;
    case OP_DNCTRL:
        s->dnctrl = v & 0xffff;
        break;
    case OP_CRCR:
    case OP_CRCR + 4:
        write_crcr(s, off == OP_CRCR ? 0 : 1, v);
        break;
    case OP_DCBAAP:
        s->dcbaap = (s->dcbaap & ~0xffffffffull) | (v & ~0x3fu);
        break;
    case OP_DCBAAP + 4:
        s->dcbaap = (s->dcbaap & 0xffffffffull) | (uint64_t)v << 32;
        break;
    case OP_CONFIG:
        s->config = v & 0x3ff;
        break;
    default:
        break;
    }
}

static void set_lo(uint64_t *r, uint32_t v)
{
    *r = (*r & ~0xffffffffull) | v;
}

static void set_hi(uint64_t *r, uint32_t v)
{
    *r = (*r & 0xffffffffull) | (uint64_t)v << 32;
}

static void intr_write(XHCIState *s, int i, unsigned r, uint32_t v)
{
    XHCIInterrupter *ir = &s->intr[i];
    switch (r) {
    case 0x00:
        ir->iman = ((ir->iman & ~(v & IMAN_IP)) & ~IMAN_IE) | (v & IMAN_IE);
        break;
    case 0x04:
        ir->imod = v;
        break;
    case 0x08:
        ir->erstsz = v & 0xffff;
        ir->ring_ready = false;
        break;
    case 0x10:
        set_lo(&ir->erstba, v & ~0x3fu);
        ir->ring_ready = false;          /* the producer restarts at the next event */
        break;
    case 0x14:
        set_hi(&ir->erstba, v);
        ir->ring_ready = false;
        break;
    case 0x18: {
        bool clear_ehb = v & ERDP_EHB;
        set_lo(&ir->erdp, (v & ~(uint32_t)ERDP_EHB) | ((uint32_t)ir->erdp & ERDP_EHB));
        if (clear_ehb)
            ir->erdp &= ~ERDP_EHB;
        break;
    }
    case 0x1c:
        set_hi(&ir->erdp, v);
        break;
    default:
        return;
    }
    xhci_intr_check(s, i);
}

static void doorbell_write(XHCIState *s, unsigned n, uint32_t v)
{
    if (halted(s))
        return;
    if (n == 0) {
        if ((v & 0xff) == 0)
            xhci_run_commands(s);
        return;
    }
    /* A doorbell restarts a stopped endpoint (4.6.9); a halted one waits
     * for Reset Endpoint. */
    XHCISlot *sl = slot_get(s, n);
    unsigned dci = v & 0xff;
    if (sl && dci >= 1 && dci <= XHCI_DCI_MAX && sl->ep[dci].state == EP_STOPPED) {
        sl->ep[dci].state = EP_RUNNING;
        ep_writeback(s, sl, (int)dci);
    }
    xhci_kick_ep(s, n, (int)dci);
}

static void xhci_write32(XHCIState *s, unsigned off, uint32_t v)
{
    if (off < CAP_LENGTH)
        return;
    if (off >= PORT_BASE && off < PORT_BASE + 0x10u * (unsigned)nports(s)) {
        int p = (int)(off - PORT_BASE) / 16;
        if ((off - PORT_BASE) % 16 == 0)
            port_write(s, p, v);
        else if ((off - PORT_BASE) % 16 == 4)
            s->port[p].pmsc = v;
        return;
    }
    if (off < PORT_BASE) {
        op_write(s, off - OP_BASE, v);
        return;
    }
    if (off >= RT_BASE + 0x20 && off < RT_BASE + 0x20 + 32 * XHCI_INTRS) {
        unsigned r = off - RT_BASE - 0x20;
        intr_write(s, (int)(r / 32), r % 32, v);
        return;
    }
    if (off >= DB_BASE && off < DB_BASE + 4 * (XHCI_SLOTS + 1))
        doorbell_write(s, (off - DB_BASE) / 4, v);
}

static uint64_t xhci_mmio_read(void *opaque, uint64_t off, unsigned size)
{
    XHCIState *s = opaque;
    unsigned o = (unsigned)off & ~3u;
    if (size == 8)
        return xhci_read32(s, o) | (uint64_t)xhci_read32(s, o + 4) << 32;
    uint64_t v = xhci_read32(s, o) >> (8 * (off & 3));
    return size == 4 ? (uint32_t)v : v & ((1u << (8 * size)) - 1);
}

static void xhci_mmio_write(void *opaque, uint64_t off, uint64_t val, unsigned size)
{
    XHCIState *s = opaque;
    unsigned o = (unsigned)off & ~3u;
    if (size == 8) {
        xhci_write32(s, o, (uint32_t)val);
        xhci_write32(s, o + 4, (uint32_t)(val >> 32));
    } else if (size == 4 && !(off & 3)) {
        xhci_write32(s, o, (uint32_t)val);
    }
    /* Narrower writes are not defined for these registers (5.1): dropped. */
}

static const MemOps xhci_mmio_ops = {
    .read = xhci_mmio_read, .write = xhci_mmio_write, .min_size = 1, .max_size = 8,
};

/* ---- device record ---- */

static void xhci_config_write(PCIDevice *d, uint32_t addr, uint32_t val, unsigned size)
{
    XHCIState *s = d->opaque;
    pci_default_config_write(d, addr, val, size);
    msix_config_write(s->msix, addr, size);
    xhci_update_intx(s);
}

static void xhci_reset(void *opaque)
{
    XHCIState *s = opaque;
    msix_reset(s->msix);
    xhci_reset_state(s);
}

static void xhci_free(void *opaque)
{
    XHCIState *s = opaque;
    timer_free(s->poll_timer);
    free(s);
}

/* ---- saved state ---- */

static const VMField xhci_ep_fields[] = {
    VMF_U8(state, XHCIEndpoint), VMF_U8(type, XHCIEndpoint), VMF_U8(interval, XHCIEndpoint),
    VMF_BOOL(ccs, XHCIEndpoint), VMF_BOOL(waiting, XHCIEndpoint), VMF_U64(deq, XHCIEndpoint),
    VMF_END
};
static const VMStateDesc xhci_ep_vmsd = {
    .name = "xhci-ep", .version = 1, .min_version = 1, .fields = xhci_ep_fields,
};

static const VMField xhci_slot_fields[] = {
    VMF_BOOL(enabled, XHCISlot), VMF_U8(state, XHCISlot), VMF_U8(port, XHCISlot),
    VMF_U32(route, XHCISlot),
    VMF_U16(intr, XHCISlot), VMF_U64(ctx, XHCISlot),
    VMF_STRUCT_ARRAY(ep, XHCISlot, XHCI_DCI_MAX + 1, xhci_ep_vmsd),
    VMF_END
};
static const VMStateDesc xhci_slot_vmsd = {
    .name = "xhci-slot", .version = 1, .min_version = 1, .fields = xhci_slot_fields,
};

static const VMField xhci_intr_fields[] = {
    VMF_U32(iman, XHCIInterrupter), VMF_U32(imod, XHCIInterrupter),
    VMF_U32(erstsz, XHCIInterrupter), VMF_U64(erstba, XHCIInterrupter),
    VMF_U64(erdp, XHCIInterrupter), VMF_BOOL(ring_ready, XHCIInterrupter),
    VMF_U32(seg, XHCIInterrupter), VMF_U32(idx, XHCIInterrupter),
    VMF_U32(seg_size, XHCIInterrupter), VMF_U64(seg_base, XHCIInterrupter),
    VMF_BOOL(pcs, XHCIInterrupter),
    VMF_END
};
static const VMStateDesc xhci_intr_vmsd = {
    .name = "xhci-intr", .version = 1, .min_version = 1, .fields = xhci_intr_fields,
};

static const VMField xhci_port_fields[] = {
    VMF_U32(portsc, XHCIPort), VMF_U32(pmsc, XHCIPort),
    VMF_END
};
static const VMStateDesc xhci_port_vmsd = {
    .name = "xhci-port", .version = 1, .min_version = 1, .fields = xhci_port_fields,
};

static const VMField xhci_fields[] = {
    VMF_U32(usbcmd, XHCIState), VMF_U32(usbsts, XHCIState), VMF_U32(dnctrl, XHCIState),
    VMF_U32(config, XHCIState), VMF_U64(crcr, XHCIState), VMF_U64(dcbaap, XHCIState),
    VMF_U64(cmd_deq, XHCIState), VMF_BOOL(cmd_ccs, XHCIState),
    VMF_BOOL(cmd_running, XHCIState), VMF_I64(mfindex_start, XHCIState),
    VMF_STRUCT_ARRAY(intr, XHCIState, XHCI_INTRS, xhci_intr_vmsd),
    VMF_STRUCT_ARRAY(slot, XHCIState, XHCI_SLOTS + 1, xhci_slot_vmsd),
    VMF_STRUCT_ARRAY(port, XHCIState, XHCI_MAX_PORTS_2 + XHCI_MAX_PORTS_3, xhci_port_vmsd),
    VMF_END
};

static bool slot_state_ok(const XHCIState *s, const XHCISlot *sl)
{
    if (sl->state > SLOT_CONFIGURED || sl->port > nports(s) || (!sl->enabled && sl->state) ||
        sl->route > 0xfffff)
        return false;
    for (int d = 0; d <= XHCI_DCI_MAX; d++)
        if (sl->ep[d].state > EP_ERROR || sl->ep[d].type > 7)
            return false;
    return true;
}

static bool intr_state_ok(const XHCIInterrupter *ir)
{
    if (!ir->ring_ready)
        return true;
    return ir->erstsz >= 1 && ir->erstsz <= (1u << XHCI_ERST_MAX_LOG) && ir->seg < ir->erstsz &&
           ir->seg_size >= 16 && ir->seg_size <= 4096 && ir->idx < ir->seg_size;
}

/* The loaded state must be one the controller can reach: states, port
 * numbers and the event ring producer's place in range; no port enabled
 * without a device.  The poll timer restarts for NAKed endpoints. */
static int xhci_post_load(void *opaque, int version, char **err)
{
    XHCIState *s = opaque;
    (void)version;
    for (int i = 0; i <= XHCI_SLOTS; i++)
        if (!slot_state_ok(s, &s->slot[i]) || (i == 0 && s->slot[0].enabled)) {
            set_error(err, "qemu-xhci: slot %d state out of range", i);
            return -1;
        }
    for (int i = 0; i < XHCI_INTRS; i++)
        if (!intr_state_ok(&s->intr[i])) {
            set_error(err, "qemu-xhci: interrupter %d event ring state out of range", i);
            return -1;
        }
    for (int p = 0; p < XHCI_MAX_PORTS_2 + XHCI_MAX_PORTS_3; p++) {
        uint32_t v = s->port[p].portsc;
        if (p >= nports(s) ? v != 0 : ((v & PORT_PED) && !s->port[p].dev)) {
            set_error(err, "qemu-xhci: port %d status 0x%x does not fit the device", p + 1, v);
            return -1;
        }
        s->port[p].portsc &= ~(PORT_CCS | PORT_PR);
    }
    timer_del(s->poll_timer);
    for (int i = 1; i <= XHCI_SLOTS; i++)
        for (int d = 1; d <= XHCI_DCI_MAX; d++)
            if (s->slot[i].ep[d].waiting)
                schedule_poll(s, &s->slot[i].ep[d]);
    xhci_update_intx(s);
    return 0;
}

static const VMStateDesc xhci_vmsd = {
    .name = "qemu-xhci", .version = 1, .min_version = 1, .fields = xhci_fields,
    .post_load = xhci_post_load,
};

static const DeviceOps xhci_device_ops = {
    .name = "qemu-xhci", .reset = xhci_reset, .free = xhci_free, .vmsd = &xhci_vmsd,
};

XHCIState *xhci_create(Machine *m, PCIBus *bus, int devfn, int p2, int p3, char *err,
                       size_t len)
{
    static const PCIConfigInit ids = {
        .vendor_id = 0x1b36, .device_id = 0x000d, .revision = 0x01,
        .class_code = 0x0c0330, .int_pin = 1,      /* USB, xHCI; INTA# */
        .subsys_vendor_id = 0x1af4, .subsys_id = 0x1100,
    };
    if (p2 < 0 || p2 > XHCI_MAX_PORTS_2 || p3 < 0 || p3 > XHCI_MAX_PORTS_3 || p2 + p3 == 0) {
        snprintf(err, len, "qemu-xhci: p2=%d p3=%d: expected 0..15 ports of each kind, "
                 "at least one", p2, p3);
        return NULL;
    }
    XHCIState *s = xcalloc(1, sizeof *s);
    s->m = m;
    s->nports2 = p2;
    s->nports3 = p3;
    s->dev = pci_register_function(bus, devfn, &ids, "qemu-xhci", NULL, xhci_config_write, s);
    if (!s->dev) {
        snprintf(err, len, "qemu-xhci: PCI address %02x.%x is taken", PCI_SLOT(devfn),
                 PCI_FUNC(devfn));
        free(s);
        return NULL;
    }
    s->dev->config[0x60] = 0x30;         /* SBRN: USB 3.0 */
    s->dev->config[0x61] = 0x20;         /* FLADJ: the default frame length */
    pci_register_bar(s->dev, 0, XHCI_MMIO_SIZE, false, &xhci_mmio_ops, s);
    s->msix = msix_create(s->dev, XHCI_INTRS, XHCI_MSIX_BAR);
    if (!s->msix) {
        snprintf(err, len, "qemu-xhci: no room for MSI-X");
        free(s);
        return NULL;
    }
    s->poll_timer = timer_new(m->clock, xhci_poll, s);
    machine_add_device(m, &xhci_device_ops, s);
    xhci_reset(s);
    return s;
}

/* A USB 2 device's resume signalling (remote wakeup) on a port in U3:
 * the port enters Resume and reports the link state change (xHCI 1.2
 * 4.15.2.1, 4.19.2); software then drives it to U0.  Other link states
 * have nothing to wake. */
static void xhci_port_wakeup(void *opaque, USBDevice *d)
{
    XHCIState *s = opaque;
    for (int p = 0; p < s->nports2; p++) {
        XHCIPort *pt = &s->port[p];
        if (pt->dev != d || !(pt->portsc & PORT_PED) || port_pls(pt->portsc) != PLS_U3)
            continue;
        pt->portsc = with_pls(pt->portsc, PLS_RESUME);
        port_change(s, p, PORT_PLC);
    }
}

bool xhci_attach(XHCIState *s, USBDevice *dev)
{
    for (int p = 0; p < s->nports2; p++)
        if (!s->port[p].dev) {
            s->port[p].dev = dev;
            dev->port_wakeup = xhci_port_wakeup;
            dev->port = s;
            port_connect_state(s, p);
            port_change(s, p, PORT_CSC);
            return true;
        }
    return false;
}

int xhci_usb2_ports(const XHCIState *s)
{
    return s->nports2;
}
