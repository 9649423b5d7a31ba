/* 16550A UART through the IO-port dispatch, against the data-sheet
 * register behaviour and the probes Linux's 8250 driver makes. */
#include <stdlib.h>
#include <string.h>

#include "core/machine.h"
#include "host/chardev.h"
#include "hw/uart16550.h"
#include "tests/unit/unit.h"

#define COM1 0x3f8
#define RBR 0
#define IER 1
#define IIR 2
#define FCR 2
#define LCR 3
#define MCR 4
#define LSR 5
#define MSR 6
#define SCR 7

typedef struct IrqRec {
    int level;
    int rises;
} IrqRec;

static void irq_record(void *opaque, int n, int level)
{
    IrqRec *r = opaque;
    if (level && !r->level)
        r->rises++;
    r->level = level;
}

typedef struct Rig {
    Machine *m;
    CharDev *chr;
    UARTState *uart;
    IRQLine irq;
    IrqRec rec;
} Rig;

static void rig_init(Rig *r)
{
    char err[128];
    memset(r, 0, sizeof(*r));
    r->m = machine_new(1 << 20, CLOCK_MANUAL, err, sizeof err);
    ck_assert_ptr_nonnull(r->m);
    r->chr = chardev_open("buffer", err, sizeof err);
    ck_assert_ptr_nonnull(r->chr);
    irq_init(&r->irq, irq_record, &r->rec, 4);
    r->uart = uart16550_create(r->m, COM1, &r->irq, r->chr);
    ck_assert_ptr_nonnull(r->uart);
}

static void rig_free(Rig *r)
{
    machine_free(r->m);
    chardev_free(r->chr);
}

static uint8_t rd(Rig *r, int reg)
{
    return (uint8_t)iospace_read(r->m->io, (uint16_t)(COM1 + reg), 1);
}

static void wr(Rig *r, int reg, uint8_t v)
{
    iospace_write(r->m->io, (uint16_t)(COM1 + reg), v, 1);
}

static void push(Rig *r, const char *s)
{
    chardev_push_input(r->chr, (const uint8_t *)s, strlen(s));
}

START_TEST(scratch_register_holds_values)
{
    Rig r;
    rig_init(&r);
    wr(&r, SCR, 0x55);
    ck_assert_uint_eq(rd(&r, SCR), 0x55);
    wr(&r, SCR, 0xaa);
    ck_assert_uint_eq(rd(&r, SCR), 0xaa);
    rig_free(&r);
}
END_TEST

START_TEST(divisor_latch_through_dlab)
{
    Rig r;
    rig_init(&r);
    wr(&r, LCR, 0x83);                 /* DLAB + 8N1 */
    wr(&r, 0, 0x01);                   /* DLL */
    wr(&r, 1, 0x02);                   /* DLM */
    ck_assert_uint_eq(rd(&r, 0), 0x01);
    ck_assert_uint_eq(rd(&r, 1), 0x02);
    wr(&r, LCR, 0x03);                 /* DLAB off: IER and RBR/THR again */
    ck_assert_uint_eq(rd(&r, IER), 0x00);
    wr(&r, 0, 'x');                    /* THR: to the line, not the latch */
    size_t len;
    const uint8_t *out = chardev_buffer_data(r.chr, &len);
    ck_assert_uint_eq(len, 1);
    ck_assert_uint_eq(out[0], 'x');
    wr(&r, LCR, 0x83);
    ck_assert_uint_eq(rd(&r, 0), 0x01);
    ck_assert_uint_eq(rd(&r, LCR), 0x83);
    rig_free(&r);
}
END_TEST

START_TEST(reset_values)
{
    Rig r;
    rig_init(&r);
    ck_assert_uint_eq(rd(&r, IER), 0x00);
    ck_assert_uint_eq(rd(&r, IIR), 0x01);
    ck_assert_uint_eq(rd(&r, LCR), 0x00);
    ck_assert_uint_eq(rd(&r, MCR), 0x00);
    ck_assert_uint_eq(rd(&r, LSR), 0x60);  /* THRE + TEMT */
    ck_assert_uint_eq(rd(&r, MSR) & 0x0f, 0);
    rig_free(&r);
}
END_TEST

START_TEST(ier_upper_bits_read_zero)
{
    Rig r;
    rig_init(&r);
    wr(&r, IER, 0xff);
    ck_assert_uint_eq(rd(&r, IER), 0x0f);
    wr(&r, IER, 0x00);
    ck_assert_uint_eq(rd(&r, IER), 0x00);
    rig_free(&r);
}
END_TEST

START_TEST(fcr_fifo_enable_sets_iir_bits)
{
    Rig r;
    rig_init(&r);
    ck_assert_uint_eq(rd(&r, IIR) & 0xc0, 0x00);
    wr(&r, FCR, 0x01);
    ck_assert_uint_eq(rd(&r, IIR) & 0xc0, 0xc0);   /* 16550A with FIFOs */
    /* The 16750 64-byte bit does not exist here: IIR bit 5 stays 0. */
    wr(&r, FCR, 0x21);
    ck_assert_uint_eq(rd(&r, IIR) & 0x20, 0);
    wr(&r, FCR, 0x00);
    ck_assert_uint_eq(rd(&r, IIR) & 0xc0, 0x00);
    rig_free(&r);
}
END_TEST

START_TEST(thre_interrupt_on_ier_write_cleared_by_iir_read)
{
    Rig r;
    rig_init(&r);
    wr(&r, MCR, 0x08);                 /* OUT2: IRQ to the PIC */
    ck_assert_int_eq(r.rec.level, 0);
    wr(&r, IER, 0x02);                 /* ETBEI with THR empty */
    ck_assert_int_eq(r.rec.level, 1);
    ck_assert_uint_eq(rd(&r, IIR), 0x02);
    ck_assert_int_eq(r.rec.level, 0);  /* the IIR read acknowledged it */
    ck_assert_uint_eq(rd(&r, IIR), 0x01);
    /* Linux's THRE test: disabling and re-enabling re-asserts THRE. */
    wr(&r, IER, 0x00);
    wr(&r, IER, 0x02);
    ck_assert_uint_eq(rd(&r, IIR), 0x02);
    rig_free(&r);
}
END_TEST

START_TEST(thr_write_sends_and_reraises_thre)
{
    Rig r;
    rig_init(&r);
    wr(&r, MCR, 0x08);
    wr(&r, IER, 0x02);
    rd(&r, IIR);
    int rises = r.rec.rises;
    wr(&r, 0, 'o');
    wr(&r, 0, 'k');
    ck_assert_int_eq(r.rec.rises, rises + 2);   /* one edge per character */
    ck_assert_uint_eq(rd(&r, IIR), 0x02);
    ck_assert_uint_eq(rd(&r, LSR) & 0x60, 0x60);
    size_t len;
    const uint8_t *out = chardev_buffer_data(r.chr, &len);
    ck_assert_uint_eq(len, 2);
    ck_assert(!memcmp(out, "ok", 2));
    rig_free(&r);
}
END_TEST

START_TEST(rx_data_sets_dr_and_raises_irq)
{
    Rig r;
    rig_init(&r);
    wr(&r, MCR, 0x08);
    wr(&r, IER, 0x01);
    ck_assert_uint_eq(rd(&r, LSR) & 0x01, 0);
    push(&r, "A");
    ck_assert_uint_eq(rd(&r, LSR) & 0x01, 0x01);
    ck_assert_int_eq(r.rec.level, 1);
    ck_assert_uint_eq(rd(&r, IIR), 0x04);
    ck_assert_uint_eq(rd(&r, RBR), 'A');
    ck_assert_uint_eq(rd(&r, LSR) & 0x01, 0);
    ck_assert_int_eq(r.rec.level, 0);
    ck_assert_uint_eq(rd(&r, IIR), 0x01);
    rig_free(&r);
}
END_TEST

START_TEST(irq_needs_out2_and_not_loopback)
{
    Rig r;
    rig_init(&r);
    wr(&r, IER, 0x02);
    ck_assert_uint_eq(rd(&r, IIR) & 1, 0);      /* pending inside the chip */
    wr(&r, IER, 0x00);
    wr(&r, IER, 0x02);
    ck_assert_int_eq(r.rec.level, 0);           /* OUT2 off: line idle */
    wr(&r, MCR, 0x08);
    ck_assert_int_eq(r.rec.level, 1);
    wr(&r, MCR, 0x18);                          /* loopback forces OUT2 off */
    ck_assert_int_eq(r.rec.level, 0);
    rig_free(&r);
}
END_TEST

START_TEST(fifo_trigger_level)
{
    Rig r;
    rig_init(&r);
    wr(&r, FCR, 0x81);                 /* FIFO on, trigger 8 */
    wr(&r, IER, 0x01);
    push(&r, "1234567");
    ck_assert_uint_eq(rd(&r, IIR), 0xc1);       /* 7 < 8: no interrupt */
    ck_assert_uint_eq(rd(&r, LSR) & 1, 1);
    push(&r, "8");
    ck_assert_uint_eq(rd(&r, IIR), 0xc4);
    ck_assert_uint_eq(rd(&r, RBR), '1');        /* below trigger again */
    ck_assert_uint_eq(rd(&r, IIR) & 0x0f, 0x01);
    rig_free(&r);
}
END_TEST

START_TEST(fifo_holds_16_and_backend_waits)
{
    Rig r;
    rig_init(&r);
    wr(&r, FCR, 0x01);
    push(&r, "abcdefghijklmnopqrst");           /* 20 bytes */
    ck_assert_uint_eq(chardev_input_pending(r.chr), 4);
    ck_assert_uint_eq(rd(&r, LSR) & 0x02, 0);   /* flow control: no overrun */
    char got[21] = { 0 };
    for (int i = 0; i < 20; i++) {
        ck_assert_uint_eq(rd(&r, LSR) & 1, 1);
        got[i] = (char)rd(&r, RBR);
    }
    ck_assert_str_eq(got, "abcdefghijklmnopqrst");
    ck_assert_uint_eq(rd(&r, LSR) & 1, 0);
    rig_free(&r);
}
END_TEST

START_TEST(character_timeout_indication)
{
    Rig r;
    rig_init(&r);
    wr(&r, LCR, 0x83);
    wr(&r, 0, 1);                      /* 115200 baud */
    wr(&r, 1, 0);
    wr(&r, LCR, 0x03);                 /* 8N1: 10 bits = 86.8 us per char */
    wr(&r, FCR, 0xc1);                 /* trigger 14 */
    wr(&r, IER, 0x01);
    push(&r, "abc");
    ck_assert_uint_eq(rd(&r, IIR), 0xc1);
    clock_advance(r.m->clock, 300000);          /* < 4 chars (347 us) */
    ck_assert_uint_eq(rd(&r, IIR), 0xc1);
    clock_advance(r.m->clock, 60000);
    ck_assert_uint_eq(rd(&r, IIR), 0xcc);       /* character timeout */
    ck_assert_uint_eq(rd(&r, RBR), 'a');
    ck_assert_uint_eq(rd(&r, IIR), 0xc1);       /* read cleared it */
    clock_advance(r.m->clock, 360000);
    ck_assert_uint_eq(rd(&r, IIR), 0xcc);       /* and it comes back */
    rd(&r, RBR);
    rd(&r, RBR);
    clock_advance(r.m->clock, 1000000);
    ck_assert_uint_eq(rd(&r, IIR), 0xc1);       /* FIFO empty: none */
    rig_free(&r);
}
END_TEST

START_TEST(loopback_echoes_tx_to_rx)
{
    Rig r;
    rig_init(&r);
    wr(&r, MCR, 0x10);
    wr(&r, 0, 0x5a);
    size_t len;
    chardev_buffer_data(r.chr, &len);
    ck_assert_uint_eq(len, 0);                  /* nothing on the line */
    ck_assert_uint_eq(rd(&r, LSR) & 1, 1);
    ck_assert_uint_eq(rd(&r, RBR), 0x5a);
    /* Backend input waits while the receiver listens to itself. */
    push(&r, "z");
    ck_assert_uint_eq(rd(&r, LSR) & 1, 0);
    wr(&r, MCR, 0x00);
    ck_assert_uint_eq(rd(&r, RBR), 'z');
    rig_free(&r);
}
END_TEST

START_TEST(loopback_maps_modem_outputs_to_msr)
{
    Rig r;
    rig_init(&r);
    wr(&r, MCR, 0x10 | 0x0a);                   /* RTS + OUT2 */
    ck_assert_uint_eq(rd(&r, MSR) & 0xf0, 0x90);   /* CTS + DCD */
    wr(&r, MCR, 0x10 | 0x05);                   /* DTR + OUT1 */
    ck_assert_uint_eq(rd(&r, MSR) & 0xf0, 0x60);   /* DSR + RI */
    wr(&r, MCR, 0x00);
    ck_assert_uint_eq(rd(&r, MSR) & 0xf0, 0xb0);   /* the cable again */
    rig_free(&r);
}
END_TEST

START_TEST(msr_delta_bits_and_interrupt)
{
    Rig r;
    rig_init(&r);
    ck_assert_uint_eq(rd(&r, MSR), 0xb0);
    wr(&r, IER, 0x08);
    wr(&r, MCR, 0x10);                          /* loopback, outputs off */
    /* CTS, DSR, DCD all dropped: DCTS, DDSR, DDCD. */
    ck_assert_uint_eq(rd(&r, IIR), 0x00);       /* modem status interrupt */
    ck_assert_uint_eq(rd(&r, MSR), 0x0b);
    ck_assert_uint_eq(rd(&r, MSR), 0x00);       /* deltas cleared by read */
    ck_assert_uint_eq(rd(&r, IIR), 0x01);
    wr(&r, MCR, 0x14);                          /* OUT1 -> RI rises */
    ck_assert_uint_eq(rd(&r, MSR), 0x40);       /* no TERI on a rising edge */
    wr(&r, MCR, 0x10);                          /* RI falls */
    ck_assert_uint_eq(rd(&r, MSR), 0x04);       /* TERI */
    rig_free(&r);
}
END_TEST

START_TEST(overrun_when_fifo_full)
{
    Rig r;
    rig_init(&r);
    wr(&r, FCR, 0x01);
    wr(&r, MCR, 0x10);
    for (int i = 0; i < 17; i++)
        wr(&r, 0, (uint8_t)i);
    uint8_t lsr = rd(&r, LSR);
    ck_assert_uint_eq(lsr & 0x03, 0x03);        /* DR + OE */
    ck_assert_uint_eq(rd(&r, LSR) & 0x02, 0);   /* OE cleared by the read */
    for (int i = 0; i < 16; i++)
        ck_assert_uint_eq(rd(&r, RBR), i);      /* the 17th was lost */
    ck_assert_uint_eq(rd(&r, LSR) & 1, 0);
    rig_free(&r);
}
END_TEST

START_TEST(overrun_16450_mode_overwrites)
{
    Rig r;
    rig_init(&r);
    wr(&r, MCR, 0x10);
    wr(&r, 0, 'a');
    wr(&r, 0, 'b');
    ck_assert_uint_eq(rd(&r, LSR) & 0x03, 0x03);
    ck_assert_uint_eq(rd(&r, RBR), 'b');
    ck_assert_uint_eq(rd(&r, LSR) & 1, 0);
    rig_free(&r);
}
END_TEST

START_TEST(line_status_interrupt_has_priority)
{
    Rig r;
    rig_init(&r);
    wr(&r, IER, 0x05);                          /* RX data + line status */
    wr(&r, MCR, 0x10);
    wr(&r, 0, 'a');
    ck_assert_uint_eq(rd(&r, IIR), 0x04);
    wr(&r, 0, 'b');                             /* 16450 mode: overrun */
    ck_assert_uint_eq(rd(&r, IIR), 0x06);
    rd(&r, LSR);
    ck_assert_uint_eq(rd(&r, IIR), 0x04);
    rig_free(&r);
}
END_TEST

START_TEST(break_in_loopback)
{
    Rig r;
    rig_init(&r);
    wr(&r, FCR, 0x01);
    wr(&r, MCR, 0x10);
    wr(&r, LCR, 0x43);                          /* set break */
    uint8_t lsr = rd(&r, LSR);
    ck_assert_uint_eq(lsr & 0x11, 0x11);        /* BI + DR */
    ck_assert_uint_eq(lsr & 0x80, 0x80);        /* error in FIFO */
    ck_assert_uint_eq(rd(&r, RBR), 0x00);
    ck_assert_uint_eq(rd(&r, LSR) & 0x91, 0);
    rig_free(&r);
}
END_TEST

START_TEST(fcr_clears_rx_fifo)
{
    Rig r;
    rig_init(&r);
    wr(&r, FCR, 0x01);
    push(&r, "xyz");
    ck_assert_uint_eq(rd(&r, LSR) & 1, 1);
    wr(&r, FCR, 0x03);
    ck_assert_uint_eq(rd(&r, LSR) & 1, 0);
    push(&r, "q");
    wr(&r, FCR, 0x00);                          /* leaving FIFO mode empties it */
    ck_assert_uint_eq(rd(&r, LSR) & 1, 0);
    rig_free(&r);
}
END_TEST

START_TEST(save_load_round_trip)
{
    Rig a, b;
    rig_init(&a);
    rig_init(&b);
    wr(&a, LCR, 0x80);
    wr(&a, 0, 0x30);
    wr(&a, LCR, 0x03);
    wr(&a, FCR, 0x41);
    wr(&a, SCR, 0x77);
    push(&a, "hey");
    VMBuf buf;
    vmbuf_init(&buf);
    machine_save_devices(a.m, &buf);
    char *err = NULL;
    ck_assert_int_eq(machine_load_devices(b.m, buf.data, buf.len, &err), 0);
    ck_assert_uint_eq(rd(&b, SCR), 0x77);
    ck_assert_uint_eq(rd(&b, LCR), 0x03);
    ck_assert_uint_eq(rd(&b, IIR) & 0xc0, 0xc0);
    ck_assert_uint_eq(rd(&b, RBR), 'h');
    ck_assert_uint_eq(rd(&b, RBR), 'e');
    ck_assert_uint_eq(rd(&b, RBR), 'y');
    ck_assert_uint_eq(rd(&b, LSR) & 1, 0);
    wr(&b, LCR, 0x83);
    ck_assert_uint_eq(rd(&b, 0), 0x30);
    vmbuf_free(&buf);
    rig_free(&a);
    rig_free(&b);
}
END_TEST

START_TEST(corrupted_fifo_count_rejected)
{
    Rig a;
    rig_init(&a);
    wr(&a, FCR, 0x01);
    push(&a, "ab");
    VMBuf buf;
    vmbuf_init(&buf);
    machine_save_devices(a.m, &buf);
    unit_stream_patch(&buf, "uart16550", "rx_count", 0, &(uint8_t){ 200 }, 1);
    char *err = NULL;
    ck_assert_int_eq(machine_load_devices(a.m, buf.data, buf.len, &err), -1);
    ck_assert_ptr_nonnull(err);
    ck_assert_ptr_nonnull(strstr(err, "uart16550"));
    ck_assert_ptr_nonnull(strstr(err, "FIFO"));
    free(err);
    /* The machine rolled the UART back: the FIFO still holds "ab". */
    ck_assert_uint_eq(rd(&a, LSR) & 1, 1);
    ck_assert_uint_eq(rd(&a, RBR), 'a');
    ck_assert_uint_eq(rd(&a, RBR), 'b');
    ck_assert_uint_eq(rd(&a, LSR) & 1, 0);
    vmbuf_free(&buf);

    vmbuf_init(&buf);
    machine_save_devices(a.m, &buf);
    unit_stream_patch(&buf, "uart16550", "rx_head", 0, &(uint8_t){ 16 }, 1);
    err = NULL;
    ck_assert_int_eq(machine_load_devices(a.m, buf.data, buf.len, &err), -1);
    ck_assert_ptr_nonnull(strstr(err, "head"));
    free(err);
    vmbuf_free(&buf);
    rig_free(&a);
}
END_TEST

START_TEST(port_conflict_and_two_uarts)
{
    Rig r;
    rig_init(&r);
    ck_assert_ptr_null(uart16550_create(r.m, COM1 + 4, NULL, NULL));
    UARTState *com2 = uart16550_create(r.m, 0x2f8, NULL, NULL);
    ck_assert_ptr_nonnull(com2);
    ck_assert_ptr_nonnull(machine_find_device(r.m, "uart16550.1"));
    iospace_write(r.m->io, 0x2ff, 0x12, 1);
    ck_assert_uint_eq(iospace_read(r.m->io, 0x2ff, 1), 0x12);
    ck_assert_uint_ne(rd(&r, SCR), 0x12);
    iospace_write(r.m->io, 0x2f8, 'q', 1);      /* no backend: dropped */
    rig_free(&r);
}
END_TEST

START_TEST(machine_reset_restores_registers)
{
    Rig r;
    rig_init(&r);
    wr(&r, IER, 0x0f);
    wr(&r, LCR, 0x1b);
    wr(&r, MCR, 0x1f);
    wr(&r, FCR, 0x01);
    machine_reset_devices(r.m);
    ck_assert_uint_eq(rd(&r, IER), 0);
    ck_assert_uint_eq(rd(&r, LCR), 0);
    ck_assert_uint_eq(rd(&r, MCR), 0);
    ck_assert_uint_eq(rd(&r, IIR), 0x01);
    ck_assert_int_eq(r.rec.level, 0);
    rig_free(&r);
}
END_TEST

static Suite *uart16550_suite(void)
{
    Suite *s = suite_create("uart16550");
    TCase *tc = tcase_create("regs");
    tcase_add_test(tc, scratch_register_holds_values);
    tcase_add_test(tc, divisor_latch_through_dlab);
    tcase_add_test(tc, reset_values);
    tcase_add_test(tc, ier_upper_bits_read_zero);
    tcase_add_test(tc, fcr_fifo_enable_sets_iir_bits);
    tcase_add_test(tc, thre_interrupt_on_ier_write_cleared_by_iir_read);
    tcase_add_test(tc, thr_write_sends_and_reraises_thre);
    tcase_add_test(tc, rx_data_sets_dr_and_raises_irq);
    tcase_add_test(tc, irq_needs_out2_and_not_loopback);
    tcase_add_test(tc, fifo_trigger_level);
    tcase_add_test(tc, fifo_holds_16_and_backend_waits);
    tcase_add_test(tc, character_timeout_indication);
    tcase_add_test(tc, loopback_echoes_tx_to_rx);
    tcase_add_test(tc, loopback_maps_modem_outputs_to_msr);
    tcase_add_test(tc, msr_delta_bits_and_interrupt);
    tcase_add_test(tc, overrun_when_fifo_full);
    tcase_add_test(tc, overrun_16450_mode_overwrites);
    tcase_add_test(tc, line_status_interrupt_has_priority);
    tcase_add_test(tc, break_in_loopback);
    tcase_add_test(tc, fcr_clears_rx_fifo);
    tcase_add_test(tc, save_load_round_trip);
    tcase_add_test(tc, corrupted_fifo_count_rejected);
    tcase_add_test(tc, port_conflict_and_two_uarts);
    tcase_add_test(tc, machine_reset_restores_registers);
    suite_add_tcase(s, tc);
    return s;
}
UNIT_SUITE(uart16550_suite)
