/*
 * 16550A UART (PC COM port).  Modelled from the PC16550D / TL16C550 data
 * sheets:
 *
 *   off  DLAB=0 read / write     DLAB=1
 *   0    RBR / THR               DLL (divisor low)
 *   1    IER                     DLM (divisor high)
 *   2    IIR / FCR
 *   3    LCR   4 MCR   5 LSR   6 MSR   7 SCR
 *
 * What is modelled: the receive FIFO (16 bytes, trigger levels 1/4/8/14,
 * 1-byte holding register when FIFOs are off), the interrupt sources in
 * their data-sheet priority (line status > received data / character
 * timeout > THR empty > modem status), THRE interrupt semantics (raised when
 * ETBEI is enabled while THR is empty, cleared by reading IIR when it is the
 * reported source or by writing THR), the character-timeout indication after
 * four character times of the programmed line format and baud rate, overrun
 * (FIFO full, or the holding register not read in 16450 mode), break in
 * loopback, MSR delta bits, and loopback mode (TX to RX, DTR/RTS/OUT1/OUT2 to
 * DSR/CTS/RI/DCD).
 *
 * Transmission is instant: a THR write reaches the backend at once, so THR
 * and the transmitter are always empty (LSR.THRE = LSR.TEMT = 1) and the
 * transmit FIFO never holds data.  Parity and framing errors never occur
 * (the backends carry bytes, not bits); DMA mode bits are accepted and
 * ignored.  Outside loopback the modem inputs read as CTS, DSR and DCD
 * asserted, RI off (a cable to a ready terminal).
 */
#include "hw/uart16550.h"

#include <stdlib.h>
#include <string.h>

#include "core/log.h"
#include "core/util.h"

#define UART_FIFO_SIZE 16
#define UART_CLOCK_HZ 1843200   /* the PC's UART crystal: 115200 * 16 */

/* IER */
#define IER_ERBFI 0x01   /* received data available */
#define IER_ETBEI 0x02   /* THR empty */
#define IER_ELSI  0x04   /* receiver line status */
#define IER_EDSSI 0x08   /* modem status */
/* IIR */
#define IIR_NO_INT   0x01
#define IIR_ID_MSR   0x00
#define IIR_ID_THRE  0x02
#define IIR_ID_RDA   0x04
#define IIR_ID_RLS   0x06
#define IIR_ID_CTI   0x0c
#define IIR_FIFO_ON  0xc0
/* FCR */
#define FCR_ENABLE   0x01
#define FCR_CLR_RX   0x02
#define FCR_CLR_TX   0x04
#define FCR_KEEP     0xc9   /* enable, DMA mode, trigger level */
/* LCR */
#define LCR_BREAK    0x40
#define LCR_DLAB     0x80
/* MCR */
#define MCR_DTR      0x01
#define MCR_RTS      0x02
#define MCR_OUT1     0x04
#define MCR_OUT2     0x08
#define MCR_LOOP     0x10
/* LSR */
#define LSR_DR       0x01
#define LSR_OE       0x02
#define LSR_PE       0x04
#define LSR_FE       0x08
#define LSR_BI       0x10
#define LSR_THRE     0x20
#define LSR_TEMT     0x40
#define LSR_FIFOERR  0x80
#define LSR_ERRORS   (LSR_OE | LSR_PE | LSR_FE | LSR_BI)
/* MSR */
#define MSR_DCTS     0x01
#define MSR_DDSR     0x02
#define MSR_TERI     0x04
#define MSR_DDCD     0x08
#define MSR_CTS      0x10
#define MSR_DSR      0x20
#define MSR_RI       0x40
#define MSR_DCD      0x80
#define MSR_DELTAS   0x0f
#define MSR_OUTSIDE  (MSR_CTS | MSR_DSR | MSR_DCD)

/* Per-entry receive error flags (only break can occur here). */
#define RXERR_BREAK  0x01

struct UARTState {
    Machine *m;
    IRQLine *irq;
    CharDev *chr;
    Timer *timeout_timer;
    uint16_t base;

    uint16_t divisor;
    uint8_t ier, lcr, mcr, msr, scr;
    uint8_t fcr;              /* FCR_KEEP bits as last programmed */
    uint8_t lsr_err;          /* sticky LSR error bits (OE, PE, FE, BI) */
    uint8_t rbr_last;         /* what RBR reads when the FIFO is empty */
    bool thre_pending;        /* THRE interrupt latched */
    bool timeout_pending;     /* character timeout indication */

    uint8_t rx_fifo[UART_FIFO_SIZE];
    uint8_t rx_err[UART_FIFO_SIZE];
    uint8_t rx_head, rx_count;
    int64_t timeout_deadline; /* saved timer deadline, -1 when idle */
};

/* ---- helpers ---- */

static bool uart_fifo_enabled(const UARTState *s)
{
    return s->fcr & FCR_ENABLE;
}

static unsigned uart_rx_capacity(const UARTState *s)
{
    return uart_fifo_enabled(s) ? UART_FIFO_SIZE : 1;
}

static unsigned uart_rx_trigger(const UARTState *s)
{
    static const uint8_t levels[4] = { 1, 4, 8, 14 };
    return uart_fifo_enabled(s) ? levels[s->fcr >> 6] : 1;
}

/* One character on the wire, in ns: start bit, 5-8 data bits, optional
 * parity, 1, 1.5 (5-bit words) or 2 stop bits, at clock/(16*divisor). */
static int64_t uart_char_time_ns(const UARTState *s)
{
    unsigned data_bits = 5 + (s->lcr & 3);
    unsigned half_bits = 2 * (1 + data_bits + ((s->lcr & 0x08) ? 1 : 0));
    if (s->lcr & 0x04)
        half_bits += data_bits == 5 ? 3 : 4;
    else
        half_bits += 2;
    uint64_t divisor = s->divisor ? s->divisor : 65536;
    return (int64_t)(half_bits * 16 * divisor * (uint64_t)NS_PER_SEC / (2 * UART_CLOCK_HZ));
}

static uint8_t uart_iir(const UARTState *s)
{
    uint8_t id;
    if ((s->ier & IER_ELSI) && (s->lsr_err & LSR_ERRORS))
        id = IIR_ID_RLS;
    else if ((s->ier & IER_ERBFI) && s->rx_count >= uart_rx_trigger(s))
        id = IIR_ID_RDA;
    else if ((s->ier & IER_ERBFI) && s->timeout_pending)
        id = IIR_ID_CTI;
    else if ((s->ier & IER_ETBEI) && s->thre_pending)
        id = IIR_ID_THRE;
    else if ((s->ier & IER_EDSSI) && (s->msr & MSR_DELTAS))
        id = IIR_ID_MSR;
    else
        id = IIR_NO_INT;
    return id | (uart_fifo_enabled(s) ? IIR_FIFO_ON : 0);
}

/* The PC card drives its IRQ only while OUT2 is set; in loopback the OUT2
 * pin is forced inactive, so interrupts show in IIR but not on the line. */
static void uart_update_irq(UARTState *s)
{
    bool pending = !(uart_iir(s) & IIR_NO_INT);
    bool gate = (s->mcr & MCR_OUT2) && !(s->mcr & MCR_LOOP);
    irq_set(s->irq, pending && gate);
}

static void uart_timeout_restart(UARTState *s)
{
    if (uart_fifo_enabled(s) && s->rx_count > 0)
        timer_mod(s->timeout_timer, clock_now(s->m->clock) + 4 * uart_char_time_ns(s));
    else
        timer_del(s->timeout_timer);
}

static void uart_timeout_fire(void *opaque)
{
    UARTState *s = opaque;
    if (uart_fifo_enabled(s) && s->rx_count > 0) {
        s->timeout_pending = true;
        uart_update_irq(s);
    }
}

static void uart_rx_clear(UARTState *s)
{
    s->rx_head = 0;
    s->rx_count = 0;
    memset(s->rx_err, 0, sizeof(s->rx_err));
    s->timeout_pending = false;
    timer_del(s->timeout_timer);
}

/* A character arrives from the line (backend or loopback). */
static void uart_receive_byte(UARTState *s, uint8_t b, uint8_t err)
{
    if (s->rx_count >= uart_rx_capacity(s)) {
        s->lsr_err |= LSR_OE;
        /* 16450 mode: the new character replaces the unread one.  FIFO
         * mode: it stays in the shift register and is lost. */
        if (!uart_fifo_enabled(s)) {
            s->rx_fifo[s->rx_head] = b;
            s->rx_err[s->rx_head] = err;
        }
    } else {
        unsigned at = (s->rx_head + s->rx_count) % UART_FIFO_SIZE;
        s->rx_fifo[at] = b;
        s->rx_err[at] = err;
        s->rx_count++;
    }
    if (err & RXERR_BREAK)
        s->lsr_err |= LSR_BI;
    /* A pending timeout stays until the CPU reads; otherwise restart it. */
    if (!s->timeout_pending)
        uart_timeout_restart(s);
    uart_update_irq(s);
}

static size_t uart_can_receive(void *opaque)
{
    UARTState *s = opaque;
    if (s->mcr & MCR_LOOP)
        return 0;   /* the receiver listens to the transmitter */
    return uart_rx_capacity(s) - s->rx_count;
}

static void uart_backend_receive(void *opaque, const uint8_t *buf, size_t len)
{
    UARTState *s = opaque;
    for (size_t i = 0; i < len; i++)
        uart_receive_byte(s, buf[i], 0);
}

/* MSR inputs: from the MCR outputs in loopback, else the "cable". */
static void uart_update_modem_inputs(UARTState *s)
{
    uint8_t in;
    if (s->mcr & MCR_LOOP) {
        in = ((s->mcr & MCR_RTS) ? MSR_CTS : 0) | ((s->mcr & MCR_DTR) ? MSR_DSR : 0) |
             ((s->mcr & MCR_OUT1) ? MSR_RI : 0) | ((s->mcr & MCR_OUT2) ? MSR_DCD : 0);
    } else {
        in = MSR_OUTSIDE;
    }
    uint8_t old = s->msr & 0xf0, changed = old ^ in, delta = 0;
    if (changed & MSR_CTS)
        delta |= MSR_DCTS;
    if (changed & MSR_DSR)
        delta |= MSR_DDSR;
    if (changed & MSR_DCD)
        delta |= MSR_DDCD;
    if ((old & MSR_RI) && !(in & MSR_RI))
        delta |= MSR_TERI;     /* trailing edge only */
    s->msr = (uint8_t)((s->msr & MSR_DELTAS) | delta | in);
}

/* ---- register reads ---- */

static uint8_t uart_read_rbr(UARTState *s)
{
    if (s->rx_count > 0) {
        s->rbr_last = s->rx_fifo[s->rx_head];
        s->rx_err[s->rx_head] = 0;
        s->rx_head = (s->rx_head + 1) % UART_FIFO_SIZE;
        s->rx_count--;
    }
    s->timeout_pending = false;
    uart_timeout_restart(s);
    uart_update_irq(s);
    chardev_accept_input(s->chr);   /* room again: take waiting input */
    return s->rbr_last;
}

static uint8_t uart_read_iir(UARTState *s)
{
    uint8_t iir = uart_iir(s);
    /* Reading IIR acknowledges a THRE interrupt it reports. */
    if ((iir & 0x0f) == IIR_ID_THRE) {
        s->thre_pending = false;
        uart_update_irq(s);
    }
    return iir;
}

static uint8_t uart_lsr_value(const UARTState *s)
{
    uint8_t v = s->lsr_err | LSR_THRE | LSR_TEMT;
    if (s->rx_count > 0)
        v |= LSR_DR;
    if (uart_fifo_enabled(s)) {
        for (unsigned i = 0; i < s->rx_count; i++)
            if (s->rx_err[(s->rx_head + i) % UART_FIFO_SIZE])
                v |= LSR_FIFOERR;
    }
    return v;
}

static uint8_t uart_read_lsr(UARTState *s)
{
    uint8_t v = uart_lsr_value(s);
    s->lsr_err = 0;   /* error bits clear on read */
    uart_update_irq(s);
    return v;
}

static uint8_t uart_read_msr(UARTState *s)
{
    uint8_t v = s->msr;
    s->msr &= 0xf0;   /* delta bits clear on read */
    uart_update_irq(s);
    return v;
}

static uint64_t uart_io_read(void *opaque, uint64_t off, unsigned size)
{
    UARTState *s = opaque;
    bool dlab = s->lcr & LCR_DLAB;
    switch (off) {
    case 0: return dlab ? (s->divisor & 0xff) : uart_read_rbr(s);
    case 1: return dlab ? (s->divisor >> 8) : s->ier;
    case 2: return uart_read_iir(s);
    case 3: return s->lcr;
    case 4: return s->mcr;
    case 5: return uart_read_lsr(s);
    case 6: return uart_read_msr(s);
    case 7: return s->scr;
    }
    return 0xff;
}

/* ---- register writes ---- */

static void uart_write_thr(UARTState *s, uint8_t v)
{
    /* Writing THR acknowledges THRE; the character then leaves at once and
     * THR is empty again, which re-raises THRE: the line drops and rises,
     * so an edge-triggered PIC sees one interrupt per character. */
    s->thre_pending = false;
    uart_update_irq(s);
    if (s->mcr & MCR_LOOP)
        uart_receive_byte(s, v, 0);
    else
        chardev_write(s->chr, &v, 1);
    s->thre_pending = true;
    uart_update_irq(s);
}

static void uart_write_ier(UARTState *s, uint8_t v)
{
    uint8_t old = s->ier;
    s->ier = v & 0x0f;
    /* Enabling ETBEI while THR is empty (always, here) raises THRE. */
    if ((s->ier & IER_ETBEI) && !(old & IER_ETBEI))
        s->thre_pending = true;
    uart_update_irq(s);
}

static void uart_write_fcr(UARTState *s, uint8_t v)
{
    bool enable = v & FCR_ENABLE;
    if (enable != uart_fifo_enabled(s))
        uart_rx_clear(s);     /* switching FIFO mode empties both FIFOs */
    if (enable) {
        if (v & FCR_CLR_RX)
            uart_rx_clear(s);
        /* FCR_CLR_TX: the transmit FIFO is always empty. */
        s->fcr = v & FCR_KEEP;
    } else {
        /* With FCR0 clear the other bits are not programmed. */
        s->fcr &= (uint8_t)~FCR_ENABLE;
    }
    uart_update_irq(s);
}

static void uart_write_lcr(UARTState *s, uint8_t v)
{
    bool break_started = (v & LCR_BREAK) && !(s->lcr & LCR_BREAK);
    s->lcr = v;
    /* In loopback a break on the transmitter is received as one: an
     * all-zero character with BI. */
    if (break_started && (s->mcr & MCR_LOOP))
        uart_receive_byte(s, 0, RXERR_BREAK);
}

static void uart_write_mcr(UARTState *s, uint8_t v)
{
    bool was_loop = s->mcr & MCR_LOOP;
    s->mcr = v & 0x1f;
    uart_update_modem_inputs(s);
    uart_update_irq(s);
    if (was_loop && !(s->mcr & MCR_LOOP))
        chardev_accept_input(s->chr);   /* the line is connected again */
}

static void uart_io_write(void *opaque, uint64_t off, uint64_t value, unsigned size)
{
    UARTState *s = opaque;
    uint8_t v = (uint8_t)value;
    bool dlab = s->lcr & LCR_DLAB;
    switch (off) {
    case 0:
        if (dlab) {
            s->divisor = (uint16_t)((s->divisor & 0xff00) | v);
            uart_timeout_restart(s);
        } else {
            uart_write_thr(s, v);
        }
        break;
    case 1:
        if (dlab) {
            s->divisor = (uint16_t)((s->divisor & 0x00ff) | v << 8);
            uart_timeout_restart(s);
        } else {
            uart_write_ier(s, v);
        }
        break;
    case 2: uart_write_fcr(s, v); break;
    case 3: uart_write_lcr(s, v); break;
    case 4: uart_write_mcr(s, v); break;
    case 5: case 6:
        LOG(LOG_GUEST_ERRORS, "uart 0x%x: write 0x%02x to read-only %s ignored\n",
            s->base, v, off == 5 ? "LSR" : "MSR");
        break;
    case 7: s->scr = v; break;
    }
}

static const MemOps uart_io_ops = {
    .read = uart_io_read, .write = uart_io_write, .min_size = 1, .max_size = 1,
};

/* ---- device interface ---- */

static void uart_reset(void *opaque)
{
    UARTState *s = opaque;
    /* Master reset values from the data sheet; the divisor latch and the
     * scratch register are not affected by reset. */
    s->ier = 0;
    s->lcr = 0;
    s->mcr = 0;
    s->fcr = 0;
    s->lsr_err = 0;
    s->thre_pending = false;
    uart_rx_clear(s);
    s->msr = MSR_OUTSIDE;
    uart_update_irq(s);
}

static void uart_free(void *opaque)
{
    UARTState *s = opaque;
    if (s->chr)
        chardev_set_frontend(s->chr, NULL, NULL, NULL);
    timer_free(s->timeout_timer);
    free(s);
}

static void uart_pre_save(void *opaque)
{
    UARTState *s = opaque;
    s->timeout_deadline = timer_pending(s->timeout_timer)
                          ? timer_expire_time(s->timeout_timer) : -1;
}

static int uart_post_load(void *opaque, int version, char **err)
{
    UARTState *s = opaque;
    const char *bad = NULL;
    if (s->rx_head >= UART_FIFO_SIZE)
        bad = "receive FIFO head index out of range";
    else if (s->rx_count > uart_rx_capacity(s))
        bad = "receive FIFO count larger than the FIFO";
    else if ((s->ier & 0xf0) || (s->mcr & 0xe0) || (s->fcr & ~FCR_KEEP))
        bad = "reserved register bits set";
    if (bad) {
        set_error(err, "uart16550 at 0x%x: %s", s->base, bad);
        uart_rx_clear(s);     /* leave nothing a later access could overrun */
        return -1;
    }
    if (s->timeout_deadline >= 0)
        timer_mod(s->timeout_timer, s->timeout_deadline);
    else
        timer_del(s->timeout_timer);
    uart_update_irq(s);
    return 0;
}

static const VMField uart_fields[] = {
    VMF_U16(divisor, UARTState),
    VMF_U8(ier, UARTState),
    VMF_U8(lcr, UARTState),
    VMF_U8(mcr, UARTState),
    VMF_U8(msr, UARTState),
    VMF_U8(scr, UARTState),
    VMF_U8(fcr, UARTState),
    VMF_U8(lsr_err, UARTState),
    VMF_U8(rbr_last, UARTState),
    VMF_BOOL(thre_pending, UARTState),
    VMF_BOOL(timeout_pending, UARTState),
    VMF_U8_ARRAY(rx_fifo, UARTState, UART_FIFO_SIZE),
    VMF_U8_ARRAY(rx_err, UARTState, UART_FIFO_SIZE),
    VMF_U8(rx_head, UARTState),
    VMF_U8(rx_count, UARTState),
    VMF_I64(timeout_deadline, UARTState),
    VMF_END
};

static const VMStateDesc uart_vmsd = {
    .name = "uart16550", .version = 1, .min_version = 1,
    .fields = uart_fields,
    .pre_save = uart_pre_save, .post_load = uart_post_load,
};

static const DeviceOps uart_device_ops = {
    .name = "uart16550", .reset = uart_reset, .free = uart_free, .vmsd = &uart_vmsd,
};

UARTState *uart16550_create(Machine *m, uint16_t base, IRQLine *irq, CharDev *backend)
{
    UARTState *s = xcalloc(1, sizeof(*s));
    s->m = m;
    s->irq = irq;
    s->chr = backend;
    s->base = base;
    s->divisor = 12;    /* 9600 baud until the guest programs it */
    s->timeout_deadline = -1;
    s->timeout_timer = timer_new(m->clock, uart_timeout_fire, s);
    if (!iospace_add(m->io, "uart16550", base, 8, &uart_io_ops, s, NULL)) {
        timer_free(s->timeout_timer);
        free(s);
        return NULL;
    }
    uart_reset(s);
    if (backend)
        chardev_set_frontend(backend, uart_can_receive, uart_backend_receive, s);
    machine_add_device(m, &uart_device_ops, s);
    return s;
}
