/*
 * UHCI host controller (see uhci.h).
 *
 * Facts: Universal Host Controller Interface design guide, revision 1.1:
 * 2.1 (I/O registers: USBCMD 00h, USBSTS 02h, USBINTR 04h, FRNUM 06h,
 * FRBASEADD 08h, SOFMOD 0Ch, PORTSC 10h/12h and their bits), 3.1 (frame
 * list pointers: T bit 0, Q bit 1), 3.2 (transfer descriptor: link with
 * Vf bit 2, control/status with ActLen 10:0, status 23:16, IOC 24, IOS 25,
 * LS 26, C_ERR 28:27, SPD 29; token with PID 7:0, address 14:8, endpoint
 * 18:15, D 19, MaxLen 31:21 as n-1 with 7FFh the null packet and 500h-7FEh
 * illegal), 3.3 (queue head: horizontal link, element link), 4 (schedule
 * processing: breadth or depth first, element advance on success).  PIIX3
 * datasheet (function 2: 8086:7020, USBBA = BAR4 at 20h, SBRN at 60h,
 * LEGSUP at C0h with PIRQ enable bit 13).
 */
#include "hw/usb/uhci.h"

#include <stdlib.h>
#include <string.h>

#include "core/clock.h"
#include "core/device.h"
#include "core/log.h"
#include "core/util.h"

#define UHCI_REG_CMD      0x00
#define UHCI_REG_STS      0x02
#define UHCI_REG_INTR     0x04
#define UHCI_REG_FRNUM    0x06
#define UHCI_REG_FLBASE   0x08
#define UHCI_REG_SOF      0x0c
#define UHCI_REG_PORTSC   0x10
#define UHCI_IO_SIZE      0x20

#define CMD_RS        0x0001
#define CMD_HCRESET   0x0002
#define CMD_GRESET    0x0004
#define CMD_EGSM      0x0008
#define CMD_FGR       0x0010
#define CMD_SWDBG     0x0020
#define CMD_CF        0x0040
#define CMD_MAXP      0x0080

#define STS_USBINT    0x0001
#define STS_ERRINT    0x0002
#define STS_RESUME    0x0004
#define STS_HSE       0x0008      /* host system error */
#define STS_HCPE      0x0010      /* host controller process error */
#define STS_HCH       0x0020      /* halted */

#define INTR_TIMEOUT  0x0001      /* timeout/CRC */
#define INTR_RESUME   0x0002
#define INTR_IOC      0x0004
#define INTR_SP       0x0008      /* short packet */

#define PORT_CCS      0x0001
#define PORT_CSC      0x0002
#define PORT_PE       0x0004
#define PORT_PEC      0x0008
#define PORT_RD       0x0040
#define PORT_ALWAYS1  0x0080      /* reserved, reads as 1 */
#define PORT_PR       0x0200
#define PORT_SUSP     0x1000
#define PORT_RW       (PORT_PE | PORT_RD | PORT_PR | PORT_SUSP)
#define PORT_W1C      (PORT_CSC | PORT_PEC)

#define LINK_T        0x1
#define LINK_Q        0x2
#define LINK_VF       0x4

#define TD_ACTLEN     0x000007ffu
#define TD_BITSTUFF   0x00020000u
#define TD_TIMEOUT    0x00040000u
#define TD_NAK        0x00080000u
#define TD_BABBLE     0x00100000u
#define TD_DBUF       0x00200000u
#define TD_STALLED    0x00400000u
#define TD_ACTIVE     0x00800000u
#define TD_IOC        0x01000000u
#define TD_CERR       0x18000000u
#define TD_SPD        0x20000000u
#define TD_STATUS     0x00ff0000u

#define UHCI_MAX_PACKET   1280   /* MaxLen 500h and above is illegal */
#define UHCI_FRAME_NS     1000000LL
#define UHCI_TICK_FRAMES  4      /* frames played per timer tick */
#define UHCI_CATCH_UP     64     /* frames at most after a long stall */
#define UHCI_IDLE_AFTER   32     /* frames without a completed TD: idle */
#define UHCI_IDLE_TICK_FRAMES 16 /* frames per tick while idle */
#define UHCI_QH_SEEN      64     /* queue heads remembered for loop detection */

#define LEGSUP            0xc0
#define LEGSUP_DEFAULT    0x2000  /* PIRQ enable */
#define SBRN              0x60

struct UHCIState {
    Machine *m;
    PCIDevice *dev;
    Timer *frame_timer;
    USBDevice *port_dev[UHCI_PORTS];
    /* Saved state. */
    uint16_t cmd, sts, intr, frnum;
    uint32_t flbase;
    uint8_t sof;
    uint16_t portsc[UHCI_PORTS];   /* the RW and W1C bits; CCS comes from port_dev */
    int64_t next_frame_ns;         /* when the timer runs next (0: stopped) */
    int idle_frames;               /* frames since a TD completed (pacing only) */
};

typedef enum TDResult {
    TD_DONE,          /* completed: the queue advances */
    TD_STOP,          /* inactive, NAK, error or short: the queue waits */
    TD_FATAL,         /* the controller halted */
} TDResult;

/* ---- interrupts ---- */

static void uhci_update_irq(UHCIState *s)
{
    bool level = ((s->sts & STS_USBINT) && (s->intr & (INTR_IOC | INTR_SP))) ||
                 ((s->sts & STS_ERRINT) && (s->intr & INTR_TIMEOUT)) ||
                 ((s->sts & STS_RESUME) && (s->intr & INTR_RESUME)) ||
                 (s->sts & (STS_HSE | STS_HCPE));
    pci_set_irq(s->dev, level);
}

/* A fatal condition: the controller halts (design guide 2.1.2). */
static void uhci_halt(UHCIState *s, uint16_t why, const char *msg, uint32_t addr)
{
    LOG(LOG_GUEST_ERRORS, "uhci: %s at 0x%x: controller halted\n", msg, addr);
    s->sts |= why | STS_HCH;
    s->cmd &= (uint16_t)~CMD_RS;
    timer_del(s->frame_timer);
    s->next_frame_ns = 0;
}

static bool dma_read32(UHCIState *s, uint32_t addr, uint32_t *v)
{
    uint8_t b[4];
    if (!pci_dma_read(s->dev, addr, b, 4)) {
        uhci_halt(s, STS_HSE, "descriptor read outside RAM", addr);
        return false;
    }
    *v = (uint32_t)b[0] | (uint32_t)b[1] << 8 | (uint32_t)b[2] << 16 | (uint32_t)b[3] << 24;
    return true;
}

static bool dma_write32(UHCIState *s, uint32_t addr, uint32_t v)
{
    uint8_t b[4] = { (uint8_t)v, (uint8_t)(v >> 8), (uint8_t)(v >> 16), (uint8_t)(v >> 24) };
    if (!pci_dma_write(s->dev, addr, b, 4)) {
        uhci_halt(s, STS_HSE, "descriptor write outside RAM", addr);
        return false;
    }
    return true;
}

/* ---- transfer descriptors ---- */

/* The device with this address on an enabled, running port (or behind
 * a hub there). */
static USBDevice *find_device(UHCIState *s, unsigned addr)
{
    for (int p = 0; p < UHCI_PORTS; p++) {
        USBDevice *d = s->port_dev[p];
        if (d && (s->portsc[p] & PORT_PE) && !(s->portsc[p] & (PORT_SUSP | PORT_PR)) &&
            (d = usb_find_device(d, addr)))
            return d;
    }
    return NULL;
}

static TDResult td_finish(UHCIState *s, uint32_t td, uint32_t ctrl, TDResult r)
{
    if (!dma_write32(s, td + 4, ctrl))
        return TD_FATAL;
    return r;
}

/* Runs the TD at td; *link gets its link pointer. */
static TDResult run_td(UHCIState *s, uint32_t td, uint32_t *link)
{
    uint8_t d[16];
    if (!pci_dma_read(s->dev, td, d, sizeof d)) {
        uhci_halt(s, STS_HSE, "TD outside RAM", td);
        return TD_FATAL;
    }
    uint32_t w[4];
    for (int i = 0; i < 4; i++)
        w[i] = (uint32_t)d[4 * i] | (uint32_t)d[4 * i + 1] << 8 |
               (uint32_t)d[4 * i + 2] << 16 | (uint32_t)d[4 * i + 3] << 24;
    uint32_t ctrl = w[1], token = w[2], buffer = w[3];
    *link = w[0];
    if (!(ctrl & TD_ACTIVE))
        return TD_STOP;
    unsigned pid = token & 0xff, addr = (token >> 8) & 0x7f, ep = (token >> 15) & 0xf;
    unsigned maxlen = ((token >> 21) + 1) & 0x7ff;
    if (maxlen > UHCI_MAX_PACKET || (pid != USB_PID_IN && pid != USB_PID_OUT &&
                                     pid != USB_PID_SETUP)) {
        uhci_halt(s, STS_HCPE, "TD with an illegal MaxLen or PID", td);
        return TD_FATAL;
    }
    USBDevice *dev = find_device(s, addr);
    ctrl &= ~(TD_STATUS | TD_ACTLEN);
    if (!dev) {
        /* Nobody answers: a timeout, with the error counter run out. */
        s->sts |= STS_ERRINT;
        ctrl = (ctrl & ~TD_CERR) | TD_TIMEOUT | TD_STALLED;
        return td_finish(s, td, ctrl, TD_STOP);
    }
    uint8_t buf[UHCI_MAX_PACKET];
    if (pid != USB_PID_IN && maxlen && !pci_dma_read(s->dev, buffer, buf, maxlen)) {
        uhci_halt(s, STS_HSE, "TD buffer outside RAM", buffer);
        return TD_FATAL;
    }
    int ret = usb_handle_packet(dev, (int)pid, (int)ep, buf, (int)maxlen);
    if (ret == USB_RET_NAK)
        return td_finish(s, td, ctrl | TD_ACTIVE | TD_NAK, TD_STOP);
    if (ret < 0) {
        s->sts |= STS_ERRINT;
        if (ctrl & TD_IOC)
            s->sts |= STS_USBINT;
        return td_finish(s, td, ctrl | TD_STALLED, TD_STOP);
    }
    if (pid == USB_PID_IN && ret && !pci_dma_write(s->dev, buffer, buf, (size_t)ret)) {
        uhci_halt(s, STS_HSE, "TD buffer outside RAM", buffer);
        return TD_FATAL;
    }
    ctrl |= ((uint32_t)ret - 1) & TD_ACTLEN;
    if (ctrl & TD_IOC)
        s->sts |= STS_USBINT;
    bool short_packet = pid == USB_PID_IN && (unsigned)ret < maxlen && (ctrl & TD_SPD);
    if (short_packet)
        s->sts |= STS_USBINT;
    /* A short packet with SPD leaves the queue on this TD for the driver. */
    return td_finish(s, td, ctrl, short_packet ? TD_STOP : TD_DONE);
}

/* ---- queue heads and frames ---- */

/* Walks the queue of the QH at qh; *progress is set when a TD completed.
 * *tds counts the active TDs run in this frame. */
static TDResult run_queue(UHCIState *s, uint32_t qh, bool *progress, int *tds)
{
    uint32_t element;
    if (!dma_read32(s, qh + 4, &element))
        return TD_FATAL;
    for (int depth = 0; depth < UHCI_MAX_QUEUE && !(element & LINK_T) &&
                        *tds < UHCI_MAX_TDS; depth++, (*tds)++) {
        if (element & LINK_Q)
            return TD_STOP;       /* nested queues: not used by the drivers we serve */
        uint32_t next;
        TDResult r = run_td(s, element & ~0xfu, &next);
        if (r != TD_DONE)
            return r;
        *progress = true;
        element = next;
        if (!dma_write32(s, qh + 4, element))
            return TD_FATAL;
        if (!(next & LINK_VF))
            break;                /* breadth first: on to the next queue */
    }
    return TD_DONE;
}

/* True when qh was seen in this frame and the schedule made no progress
 * since: a loop of idle queues, done for this frame. */
static bool idle_loop(uint32_t *seen, int *nseen, uint32_t qh, bool *progress)
{
    for (int i = 0; i < *nseen; i++)
        if (seen[i] == qh) {
            if (!*progress)
                return true;
            *progress = false;
            *nseen = 0;           /* a new pass over the loop */
            break;
        }
    if (*nseen < UHCI_QH_SEEN)
        seen[(*nseen)++] = qh;
    return false;
}

/* Plays one frame; true when a TD completed in it. */
static bool uhci_process_frame(UHCIState *s)
{
    uint32_t link;
    if (!dma_read32(s, (s->flbase & ~0xfffu) + (s->frnum & 0x3ffu) * 4, &link))
        return false;
    uint32_t seen[UHCI_QH_SEEN];
    int nseen = 0;
    bool progress = false, completed = false;
    int tds = 0;
    for (int n = 0; n < UHCI_MAX_LINKS && !(link & LINK_T) && tds < UHCI_MAX_TDS; n++) {
        uint32_t a = link & ~0xfu;
        if (link & LINK_Q) {
            if (idle_loop(seen, &nseen, a, &progress))
                break;
            bool before = progress;
            progress = false;
            TDResult r = run_queue(s, a, &progress, &tds);
            completed |= progress;
            progress |= before;
            if (r == TD_FATAL || !dma_read32(s, a, &link))
                return completed;
        } else {
            tds++;
            TDResult r = run_td(s, a, &link);
            if (r == TD_FATAL)
                return completed;
            completed |= r == TD_DONE;
        }
    }
    return completed;
}

static void uhci_frame_tick(void *opaque)
{
    UHCIState *s = opaque;
    int64_t now = clock_now(s->m->clock);
    int frames = 0;
    while (s->next_frame_ns <= now && frames < UHCI_CATCH_UP && (s->cmd & CMD_RS)) {
        if (uhci_process_frame(s))
            s->idle_frames = 0;
        else if (s->idle_frames < UHCI_IDLE_AFTER)
            s->idle_frames++;
        s->frnum = (uint16_t)((s->frnum + 1) & 0x7ff);
        s->next_frame_ns += UHCI_FRAME_NS;
        frames++;
    }
    if (s->next_frame_ns <= now)
        s->next_frame_ns = now + UHCI_FRAME_NS;   /* too far behind: skip ahead */
    uhci_update_irq(s);
    /* An idle schedule (nothing completed for a while) is played in
     * longer batches: fewer host wake-ups, a few ms more latency for the
     * next transfer. */
    int batch = s->idle_frames >= UHCI_IDLE_AFTER ? UHCI_IDLE_TICK_FRAMES : UHCI_TICK_FRAMES;
    if (s->cmd & CMD_RS)
        timer_mod(s->frame_timer, s->next_frame_ns + (batch - 1) * UHCI_FRAME_NS);
}

/* ---- registers ---- */

static void uhci_reset_registers(UHCIState *s)
{
    timer_del(s->frame_timer);
    s->next_frame_ns = 0;
    s->cmd = 0;
    s->sts = STS_HCH;
    s->intr = 0;
    s->frnum = 0;
    s->flbase = 0;
    s->sof = 0x40;
    for (int p = 0; p < UHCI_PORTS; p++) {
        /* A reset looks like a fresh connection to the driver. */
        s->portsc[p] = s->port_dev[p] ? PORT_CSC : 0;
        if (s->port_dev[p])
            usb_device_reset(s->port_dev[p]);
    }
    uhci_update_irq(s);
}

static void uhci_write_cmd(UHCIState *s, uint16_t v)
{
    if (v & CMD_HCRESET) {
        uhci_reset_registers(s);
        return;                   /* the bit clears itself when the reset is done */
    }
    uint16_t old = s->cmd;
    s->cmd = v & (CMD_RS | CMD_GRESET | CMD_EGSM | CMD_FGR | CMD_SWDBG | CMD_CF | CMD_MAXP);
    if ((v & CMD_GRESET) && !(old & CMD_GRESET))
        for (int p = 0; p < UHCI_PORTS; p++)
            if (s->port_dev[p])
                usb_device_reset(s->port_dev[p]);
    if ((s->cmd & CMD_RS) && !(old & CMD_RS)) {
        s->sts &= (uint16_t)~STS_HCH;
        s->next_frame_ns = clock_now(s->m->clock) + UHCI_FRAME_NS;
        timer_mod(s->frame_timer, s->next_frame_ns);
    } else if (!(s->cmd & CMD_RS) && (old & CMD_RS)) {
        s->sts |= STS_HCH;
        timer_del(s->frame_timer);
        s->next_frame_ns = 0;
    }
}

static void uhci_write_portsc(UHCIState *s, int p, uint16_t v)
{
    uint16_t old = s->portsc[p];
    uint16_t now = (uint16_t)((old & ~PORT_RW) | (v & PORT_RW));
    now &= (uint16_t)~(v & PORT_W1C);
    if (!s->port_dev[p])
        now &= (uint16_t)~PORT_PE;        /* nothing to enable */
    if (now & PORT_PR)
        now &= (uint16_t)~PORT_PE;        /* reset disables the port */
    if ((old & PORT_PR) && !(now & PORT_PR) && s->port_dev[p])
        usb_device_reset(s->port_dev[p]);   /* end of reset signalling */
    s->portsc[p] = now;
}

static uint16_t uhci_read16(UHCIState *s, unsigned off)
{
    switch (off) {
    case UHCI_REG_CMD:    return s->cmd;
    case UHCI_REG_STS:    return s->sts;
    case UHCI_REG_INTR:   return s->intr;
    case UHCI_REG_FRNUM:  return s->frnum;
    case UHCI_REG_FLBASE: return (uint16_t)s->flbase;
    case UHCI_REG_FLBASE + 2: return (uint16_t)(s->flbase >> 16);
    case UHCI_REG_SOF:    return s->sof;
    case UHCI_REG_PORTSC:
    case UHCI_REG_PORTSC + 2: {
        int p = (int)(off - UHCI_REG_PORTSC) / 2;
        return (uint16_t)(s->portsc[p] | PORT_ALWAYS1 | (s->port_dev[p] ? PORT_CCS : 0));
    }
    default:
        /* 14h and up read without bit 7: drivers count the ports that way. */
        return 0;
    }
}

static void uhci_write16(UHCIState *s, unsigned off, uint16_t v)
{
    s->idle_frames = 0;           /* the driver is at work: short batches again */
    switch (off) {
    case UHCI_REG_CMD:
        uhci_write_cmd(s, v);
        break;
    case UHCI_REG_STS:
        s->sts &= (uint16_t)~(v & (STS_USBINT | STS_ERRINT | STS_RESUME | STS_HSE | STS_HCPE));
        break;
    case UHCI_REG_INTR:
        s->intr = v & 0xf;
        break;
    case UHCI_REG_FRNUM:
        s->frnum = v & 0x7ff;
        break;
    case UHCI_REG_FLBASE:
        s->flbase = (s->flbase & 0xffff0000u) | (v & 0xf000u);
        break;
    case UHCI_REG_FLBASE + 2:
        s->flbase = (s->flbase & 0xffffu) | (uint32_t)v << 16;
        break;
    case UHCI_REG_SOF:
        s->sof = v & 0x7f;
        break;
    case UHCI_REG_PORTSC:
    case UHCI_REG_PORTSC + 2:
        uhci_write_portsc(s, (int)(off - UHCI_REG_PORTSC) / 2, v);
        break;
    default:
        break;
    }
    uhci_update_irq(s);
}

static uint64_t uhci_io_read(void *opaque, uint64_t off, unsigned size)
{
    UHCIState *s = opaque;
    uint64_t v = 0;
    for (unsigned i = 0; i < size; i += 2) {
        unsigned o = ((unsigned)off + i) & ~1u;
        v |= (uint64_t)uhci_read16(s, o) << (8 * i);
    }
    if (size == 1)
        v = (uhci_read16(s, (unsigned)off & ~1u) >> (8 * (off & 1))) & 0xff;
    return v;
}

static void uhci_io_write(void *opaque, uint64_t off, uint64_t val, unsigned size)
{
    UHCIState *s = opaque;
    if (size == 1) {
        /* A byte of a 16-bit register: keep the other byte, but never
         * write back its write-1-to-clear bits. */
        unsigned o = (unsigned)off & ~1u, sh = 8 * (off & 1);
        uint16_t cur = uhci_read16(s, o);
        if (o == UHCI_REG_STS)
            cur = 0;
        else if (o >= UHCI_REG_PORTSC && o < UHCI_REG_PORTSC + 4)
            cur &= (uint16_t)~PORT_W1C;
        else if (o == UHCI_REG_CMD)
            cur &= (uint16_t)~CMD_HCRESET;
        uint16_t v = (uint16_t)((cur & ~(0xffu << sh)) | ((val & 0xff) << sh));
        uhci_write16(s, o, v);
        return;
    }
    for (unsigned i = 0; i < size; i += 2)
        uhci_write16(s, ((unsigned)off + i) & ~1u, (uint16_t)(val >> (8 * i)));
}

static const MemOps uhci_io_ops = {
    .read = uhci_io_read, .write = uhci_io_write, .min_size = 1, .max_size = 4,
};

/* ---- device record ---- */

static void uhci_reset(void *opaque)
{
    UHCIState *s = opaque;
    pci_set_word(s->dev, LEGSUP, LEGSUP_DEFAULT);
    uhci_reset_registers(s);
}

static void uhci_pre_save(void *opaque)
{
    UHCIState *s = opaque;
    s->next_frame_ns = timer_pending(s->frame_timer) ? timer_expire_time(s->frame_timer) : 0;
}

static int uhci_post_load(void *opaque, int version, char **err)
{
    UHCIState *s = opaque;
    (void)version;
    for (int p = 0; p < UHCI_PORTS; p++) {
        if (s->portsc[p] & ~(PORT_RW | PORT_W1C)) {
            set_error(err, "uhci: port %d status 0x%x has bits that cannot be set", p,
                      s->portsc[p]);
            return -1;
        }
        if (!s->port_dev[p] && (s->portsc[p] & PORT_PE)) {
            set_error(err, "uhci: port %d enabled without a device", p);
            return -1;
        }
    }
    s->frnum &= 0x7ff;
    s->flbase &= ~0xfffu;
    s->intr &= 0xf;
    s->sof &= 0x7f;
    s->cmd &= (uint16_t)~CMD_HCRESET;
    if ((s->cmd & CMD_RS) && s->next_frame_ns > 0) {
        timer_mod(s->frame_timer, s->next_frame_ns);
    } else if (s->cmd & CMD_RS) {
        s->next_frame_ns = clock_now(s->m->clock) + UHCI_FRAME_NS;
        timer_mod(s->frame_timer, s->next_frame_ns);
    } else {
        timer_del(s->frame_timer);
        s->next_frame_ns = 0;
    }
    uhci_update_irq(s);
    return 0;
}

static const VMField uhci_fields[] = {
    VMF_U16(cmd, UHCIState), VMF_U16(sts, UHCIState), VMF_U16(intr, UHCIState),
    VMF_U16(frnum, UHCIState), VMF_U32(flbase, UHCIState), VMF_U8(sof, UHCIState),
    VMF_U16_ARRAY(portsc, UHCIState, UHCI_PORTS), VMF_I64(next_frame_ns, UHCIState),
    VMF_END
};

static const VMStateDesc uhci_vmsd = {
    .name = "piix3-usb-uhci", .version = 1, .min_version = 1, .fields = uhci_fields,
    .pre_save = uhci_pre_save, .post_load = uhci_post_load,
};

static void uhci_free(void *opaque)
{
    UHCIState *s = opaque;
    timer_free(s->frame_timer);
    free(s);
}

static const DeviceOps uhci_device_ops = {
    .name = "piix3-usb-uhci", .reset = uhci_reset, .free = uhci_free, .vmsd = &uhci_vmsd,
};

UHCIState *uhci_create(Machine *m, PCIBus *bus, int devfn)
{
    static const PCIConfigInit ids = {
        .vendor_id = 0x8086, .device_id = 0x7020, .revision = 0x01,
        .class_code = 0x0c0300, .int_pin = 4,     /* USB, UHCI; INTD# */
    };
    UHCIState *s = xcalloc(1, sizeof *s);
    s->m = m;
    s->dev = pci_register_function(bus, devfn, &ids, "piix3-usb-uhci", NULL, NULL, s);
    if (!s->dev) {
        free(s);
        return NULL;
    }
    s->dev->config[SBRN] = 0x10;                 /* USB 1.0 serial bus release */
    pci_set_wmask(s->dev, LEGSUP, 1, 0xbf);       /* trap enables; bit 6 read-only */
    pci_set_wmask(s->dev, LEGSUP + 1, 1, 0x20);   /* PIRQ enable */
    s->dev->w1cmask[LEGSUP + 1] = 0x8f;           /* trap status bits */
    pci_register_bar(s->dev, 4, UHCI_IO_SIZE, true, &uhci_io_ops, s);
    s->frame_timer = timer_new(m->clock, uhci_frame_tick, s);
    machine_add_device(m, &uhci_device_ops, s);
    uhci_reset(s);
    return s;
}

/* A device's resume signalling (remote wakeup).  A suspended port latches
 * it in PORTSC Resume Detect; in global suspend (EGSM) the controller also
 * sets USBSTS Resume Detect, an interrupt when USBINTR enables it (UHCI
 * design guide 2.1.2, 2.1.3, 2.1.7).  A port that is not suspended has
 * nothing to wake. */
static void uhci_port_wakeup(void *opaque, USBDevice *d)
{
    UHCIState *s = opaque;
    for (int p = 0; p < UHCI_PORTS; p++) {
        if (s->port_dev[p] != d || !(s->portsc[p] & PORT_SUSP))
            continue;
        s->portsc[p] |= PORT_RD;
        if (s->cmd & CMD_EGSM) {
            s->sts |= STS_RESUME;
            uhci_update_irq(s);
        }
    }
}

bool uhci_attach(UHCIState *s, USBDevice *dev)
{
    for (int p = 0; p < UHCI_PORTS; p++)
        if (!s->port_dev[p]) {
            s->port_dev[p] = dev;
            dev->port_wakeup = uhci_port_wakeup;
            dev->port = s;
            s->portsc[p] |= PORT_CSC;
            return true;
        }
    return false;
}
