/* i8259 PIC pair, driven through the IO-port dispatch as a guest would. */
#include <stdlib.h>
#include <string.h>

#include "core/machine.h"
#include "core/util.h"
#include "hw/i8259.h"
#include "tests/unit/unit.h"

typedef struct Pin {
    int level;
    int changes;
} Pin;

static void pin_handler(void *opaque, int n, int level)
{
    Pin *p = opaque;
    p->level = level;
    p->changes++;
}

typedef struct Rig {
    Machine *m;
    PICState *pic;
    IRQLine intr;
    Pin pin;
} Rig;

static Rig *rig_new(void)
{
    char err[128];
    Rig *r = xcalloc(1, sizeof(*r));
    r->m = machine_new(1 << 20, CLOCK_MANUAL, err, sizeof(err));
    ck_assert_ptr_nonnull(r->m);
    irq_init(&r->intr, pin_handler, &r->pin, 0);
    r->pic = i8259_create(r->m, 0x20, 0xa0, 0x4d0, &r->intr);
    return r;
}

static void rig_free(Rig *r)
{
    machine_free(r->m);
    free(r);
}

static void out8(Rig *r, uint16_t port, uint8_t v) { iospace_write(r->m->io, port, v, 1); }
static uint8_t in8(Rig *r, uint16_t port) { return (uint8_t)iospace_read(r->m->io, port, 1); }

/* The usual PC programming: ICW1 edge+ICW4, ICW2 base, ICW3 cascade on
 * IR2 (master 0x04, slave id 2), ICW4 8086 mode (| 0x02 for auto-EOI). */
static void pic_init(Rig *r, uint8_t master_base, uint8_t slave_base, uint8_t icw4)
{
    out8(r, 0x20, 0x11);
    out8(r, 0x21, master_base);
    out8(r, 0x21, 0x04);
    out8(r, 0x21, icw4);
    out8(r, 0xa0, 0x11);
    out8(r, 0xa1, slave_base);
    out8(r, 0xa1, 0x02);
    out8(r, 0xa1, icw4);
}

static uint8_t read_isr(Rig *r, uint16_t cmd)
{
    out8(r, cmd, 0x0b);   /* OCW3: read ISR */
    return in8(r, cmd);
}

static uint8_t read_irr(Rig *r, uint16_t cmd)
{
    out8(r, cmd, 0x0a);   /* OCW3: read IRR */
    return in8(r, cmd);
}

START_TEST(init_mask_raise_ack_eoi)
{
    Rig *r = rig_new();
    pic_init(r, 0x20, 0x28, 0x01);
    out8(r, 0x21, 0xf7);              /* only IR3 unmasked */
    ck_assert_uint_eq(in8(r, 0x21), 0xf7);
    irq_raise(i8259_irq(r->pic, 3));
    ck_assert_int_eq(r->pin.level, 1);
    ck_assert(i8259_has_interrupt(r->pic));
    ck_assert_int_eq(i8259_ack(r->pic), 0x23);
    ck_assert_int_eq(r->pin.level, 0);
    ck_assert_uint_eq(read_isr(r, 0x20), 0x08);
    ck_assert_uint_eq(read_irr(r, 0x20) & 0x08, 0);
    out8(r, 0x20, 0x20);              /* non-specific EOI */
    ck_assert_uint_eq(read_isr(r, 0x20), 0x00);
    rig_free(r);
}
END_TEST

START_TEST(masked_request_waits_in_irr)
{
    Rig *r = rig_new();
    pic_init(r, 0x08, 0x70, 0x01);
    out8(r, 0x21, 0xff);
    irq_raise(i8259_irq(r->pic, 4));
    ck_assert_int_eq(r->pin.level, 0);
    ck_assert_uint_eq(read_irr(r, 0x20), 0x10);
    out8(r, 0x21, 0xef);              /* unmask IR4 */
    ck_assert_int_eq(r->pin.level, 1);
    ck_assert_int_eq(i8259_ack(r->pic), 0x0c);
    rig_free(r);
}
END_TEST

START_TEST(slave_cascade_vector)
{
    Rig *r = rig_new();
    pic_init(r, 0x08, 0x70, 0x01);
    irq_raise(i8259_irq(r->pic, 10));
    ck_assert_int_eq(r->pin.level, 1);
    ck_assert_int_eq(i8259_ack(r->pic), 0x72);
    ck_assert_uint_eq(read_isr(r, 0x20), 0x04);   /* IR2: cascade */
    ck_assert_uint_eq(read_isr(r, 0xa0), 0x04);   /* slave IR2 = IRQ10 */
    out8(r, 0xa0, 0x20);
    out8(r, 0x20, 0x20);
    ck_assert_uint_eq(read_isr(r, 0x20), 0);
    ck_assert_uint_eq(read_isr(r, 0xa0), 0);
    /* A masked slave line does not reach the master. */
    out8(r, 0xa1, 0x01);
    irq_raise(i8259_irq(r->pic, 8));
    ck_assert_int_eq(r->pin.level, 0);
    rig_free(r);
}
END_TEST

START_TEST(fully_nested_priority)
{
    Rig *r = rig_new();
    pic_init(r, 0x08, 0x70, 0x01);
    irq_raise(i8259_irq(r->pic, 5));
    ck_assert_int_eq(i8259_ack(r->pic), 0x0d);
    irq_raise(i8259_irq(r->pic, 6));          /* lower priority than IR5 */
    ck_assert_int_eq(r->pin.level, 0);
    irq_raise(i8259_irq(r->pic, 1));          /* higher: nests */
    ck_assert_int_eq(r->pin.level, 1);
    ck_assert_int_eq(i8259_ack(r->pic), 0x09);
    ck_assert_uint_eq(read_isr(r, 0x20), 0x22);
    out8(r, 0x20, 0x20);                      /* EOI clears IR1 (highest) */
    ck_assert_uint_eq(read_isr(r, 0x20), 0x20);
    ck_assert_int_eq(r->pin.level, 0);
    out8(r, 0x20, 0x20);                      /* IR5 done: IR6 now goes */
    ck_assert_int_eq(r->pin.level, 1);
    ck_assert_int_eq(i8259_ack(r->pic), 0x0e);
    rig_free(r);
}
END_TEST

START_TEST(edge_versus_level_elcr)
{
    Rig *r = rig_new();
    pic_init(r, 0x08, 0x70, 0x01);
    /* Edge: a line left high gives one interrupt only. */
    irq_raise(i8259_irq(r->pic, 5));
    ck_assert_int_eq(i8259_ack(r->pic), 0x0d);
    out8(r, 0x20, 0x20);
    ck_assert_int_eq(r->pin.level, 0);
    irq_lower(i8259_irq(r->pic, 5));
    /* Level (ELCR 0x4d0 bit 5): the line still high after EOI requests again. */
    out8(r, 0x4d0, 0x20);
    ck_assert_uint_eq(in8(r, 0x4d0), 0x20);
    irq_raise(i8259_irq(r->pic, 5));
    ck_assert_int_eq(i8259_ack(r->pic), 0x0d);
    out8(r, 0x20, 0x20);
    ck_assert_int_eq(r->pin.level, 1);
    ck_assert_int_eq(i8259_ack(r->pic), 0x0d);
    irq_lower(i8259_irq(r->pic, 5));
    out8(r, 0x20, 0x20);
    ck_assert_int_eq(r->pin.level, 0);
    /* IRQ0-2 cannot be made level triggered. */
    out8(r, 0x4d0, 0xff);
    ck_assert_uint_eq(in8(r, 0x4d0), 0xf8);
    rig_free(r);
}
END_TEST

START_TEST(icw1_ltim_makes_all_level)
{
    Rig *r = rig_new();
    out8(r, 0x20, 0x19);          /* ICW1 with LTIM */
    out8(r, 0x21, 0x08);
    out8(r, 0x21, 0x04);
    out8(r, 0x21, 0x01);
    irq_raise(i8259_irq(r->pic, 0));
    irq_lower(i8259_irq(r->pic, 0));
    ck_assert_int_eq(r->pin.level, 0);    /* the level went away: nothing */
    ck_assert_uint_eq(read_irr(r, 0x20), 0);
    rig_free(r);
}
END_TEST

START_TEST(level_request_dropped_gives_spurious_irq7)
{
    Rig *r = rig_new();
    pic_init(r, 0x08, 0x70, 0x01);
    out8(r, 0x4d0, 0x08);                 /* IRQ3 level */
    irq_raise(i8259_irq(r->pic, 3));
    ck_assert_int_eq(r->pin.level, 1);
    irq_lower(i8259_irq(r->pic, 3));      /* gone before INTA */
    ck_assert_int_eq(i8259_ack(r->pic), 0x0f);
    ck_assert_uint_eq(read_isr(r, 0x20), 0);      /* no ISR bit for spurious */
    rig_free(r);
}
END_TEST

START_TEST(slave_request_dropped_gives_spurious_irq15)
{
    Rig *r = rig_new();
    pic_init(r, 0x08, 0x70, 0x01);
    out8(r, 0x4d1, 0x08);                 /* IRQ11 level */
    irq_raise(i8259_irq(r->pic, 11));
    ck_assert_int_eq(r->pin.level, 1);
    irq_lower(i8259_irq(r->pic, 11));
    /* The master latched the slave's INT edge on IR2. */
    ck_assert_int_eq(r->pin.level, 1);
    ck_assert_int_eq(i8259_ack(r->pic), 0x77);
    ck_assert_uint_eq(read_isr(r, 0x20), 0x04);   /* master must still get EOI */
    ck_assert_uint_eq(read_isr(r, 0xa0), 0x00);
    rig_free(r);
}
END_TEST

START_TEST(poll_mode)
{
    Rig *r = rig_new();
    pic_init(r, 0x08, 0x70, 0x01);
    out8(r, 0x20, 0x0c);                  /* OCW3 poll */
    ck_assert_uint_eq(in8(r, 0x20), 0x00);        /* nothing pending */
    irq_raise(i8259_irq(r->pic, 3));
    irq_raise(i8259_irq(r->pic, 6));
    out8(r, 0x20, 0x0c);
    ck_assert_uint_eq(in8(r, 0x20), 0x83);        /* I bit + highest level 3 */
    ck_assert_uint_eq(read_isr(r, 0x20), 0x08);   /* the poll read acknowledged */
    out8(r, 0x20, 0x20);
    out8(r, 0x20, 0x0c);
    ck_assert_uint_eq(in8(r, 0x21), 0x86);        /* either port answers */
    rig_free(r);
}
END_TEST

START_TEST(auto_eoi)
{
    Rig *r = rig_new();
    pic_init(r, 0x08, 0x70, 0x03);        /* ICW4: 8086 + AEOI */
    irq_raise(i8259_irq(r->pic, 4));
    ck_assert_int_eq(i8259_ack(r->pic), 0x0c);
    ck_assert_uint_eq(read_isr(r, 0x20), 0);
    /* Nothing in service: a lower priority request goes straight through. */
    irq_raise(i8259_irq(r->pic, 7));
    ck_assert_int_eq(r->pin.level, 1);
    ck_assert_int_eq(i8259_ack(r->pic), 0x0f);
    rig_free(r);
}
END_TEST

START_TEST(rotate_on_nonspecific_eoi)
{
    Rig *r = rig_new();
    pic_init(r, 0x08, 0x70, 0x01);
    irq_raise(i8259_irq(r->pic, 3));
    ck_assert_int_eq(i8259_ack(r->pic), 0x0b);
    out8(r, 0x20, 0xa0);                  /* rotate on non-specific EOI */
    ck_assert_uint_eq(read_isr(r, 0x20), 0);
    /* IR3 is now lowest, IR4 highest: IR5 beats IR1, and IR3 comes last. */
    irq_lower(i8259_irq(r->pic, 3));
    irq_raise(i8259_irq(r->pic, 3));
    irq_raise(i8259_irq(r->pic, 1));
    irq_raise(i8259_irq(r->pic, 5));
    ck_assert_int_eq(i8259_ack(r->pic), 0x0d);
    out8(r, 0x20, 0x20);                  /* plain EOI: no further rotation */
    ck_assert_int_eq(i8259_ack(r->pic), 0x09);
    out8(r, 0x20, 0x20);
    ck_assert_int_eq(i8259_ack(r->pic), 0x0b);
    rig_free(r);
}
END_TEST

START_TEST(set_priority_and_specific_eoi)
{
    Rig *r = rig_new();
    pic_init(r, 0x08, 0x70, 0x01);
    out8(r, 0x20, 0xc4);                  /* set priority: IR4 lowest, IR5 highest */
    irq_raise(i8259_irq(r->pic, 0));
    irq_raise(i8259_irq(r->pic, 6));
    ck_assert_int_eq(i8259_ack(r->pic), 0x0e);
    ck_assert_int_eq(r->pin.level, 0);    /* IR0 now ranks below IR6 */
    out8(r, 0x20, 0x66);                  /* specific EOI IR6 */
    ck_assert_uint_eq(read_isr(r, 0x20), 0x00);
    ck_assert_int_eq(r->pin.level, 1);
    ck_assert_int_eq(i8259_ack(r->pic), 0x08);
    ck_assert_uint_eq(read_isr(r, 0x20), 0x01);
    out8(r, 0x20, 0x62);                  /* specific EOI of a level not in service */
    ck_assert_uint_eq(read_isr(r, 0x20), 0x01);
    rig_free(r);
}
END_TEST

/* A slave in service blocks its own higher-priority requests at the
 * master unless the master is in special fully nested mode (ICW4 bit 4). */
START_TEST(special_fully_nested_mode)
{
    for (int sfnm = 0; sfnm <= 1; sfnm++) {
        Rig *r = rig_new();
        pic_init(r, 0x08, 0x70, 0x01);
        out8(r, 0x20, 0x11);              /* master again, maybe with SFNM */
        out8(r, 0x21, 0x08);
        out8(r, 0x21, 0x04);
        out8(r, 0x21, sfnm ? 0x11 : 0x01);
        irq_raise(i8259_irq(r->pic, 12));
        ck_assert_int_eq(i8259_ack(r->pic), 0x74);
        irq_raise(i8259_irq(r->pic, 9));  /* slave IR1 outranks IR4 */
        ck_assert_int_eq(r->pin.level, sfnm);
        if (sfnm) {
            ck_assert_int_eq(i8259_ack(r->pic), 0x71);
            ck_assert_uint_eq(read_isr(r, 0xa0), 0x12);
        }
        /* Master IR3 stays blocked by IR2 in service in both modes. */
        irq_raise(i8259_irq(r->pic, 3));
        ck_assert_int_eq(r->pin.level, 0);
        rig_free(r);
    }
}
END_TEST

/* Two requests waiting on an auto-EOI slave: the second must reach the
 * master once the master's IR2 is acknowledged and EOId. */
START_TEST(slave_back_to_back_requests)
{
    Rig *r = rig_new();
    pic_init(r, 0x08, 0x70, 0x01);
    out8(r, 0xa0, 0x11);
    out8(r, 0xa1, 0x70);
    out8(r, 0xa1, 0x02);
    out8(r, 0xa1, 0x03);                  /* slave: auto-EOI */
    irq_raise(i8259_irq(r->pic, 9));
    irq_raise(i8259_irq(r->pic, 10));
    ck_assert_int_eq(i8259_ack(r->pic), 0x71);
    ck_assert_int_eq(r->pin.level, 0);    /* master IR2 in service */
    out8(r, 0x20, 0x20);
    ck_assert_int_eq(r->pin.level, 1);
    ck_assert_int_eq(i8259_ack(r->pic), 0x72);
    rig_free(r);
}
END_TEST

START_TEST(special_mask_mode)
{
    Rig *r = rig_new();
    pic_init(r, 0x08, 0x70, 0x01);
    irq_raise(i8259_irq(r->pic, 3));
    ck_assert_int_eq(i8259_ack(r->pic), 0x0b);
    irq_raise(i8259_irq(r->pic, 5));
    ck_assert_int_eq(r->pin.level, 0);    /* blocked by IR3 in service */
    out8(r, 0x21, 0x08);                  /* mask IR3 ... */
    out8(r, 0x20, 0x68);                  /* ... and enter special mask mode */
    ck_assert_int_eq(r->pin.level, 1);
    ck_assert_int_eq(i8259_ack(r->pic), 0x0d);
    out8(r, 0x20, 0x48);                  /* leave special mask mode */
    ck_assert_uint_eq(read_isr(r, 0x20), 0x28);
    rig_free(r);
}
END_TEST

START_TEST(reinit_clears_mask_and_needs_new_edge)
{
    Rig *r = rig_new();
    pic_init(r, 0x08, 0x70, 0x01);
    out8(r, 0x21, 0xff);
    irq_raise(i8259_irq(r->pic, 4));
    pic_init(r, 0x20, 0x28, 0x01);
    ck_assert_uint_eq(in8(r, 0x21), 0x00);        /* ICW1 clears IMR */
    ck_assert_int_eq(r->pin.level, 0);            /* and the edge latch */
    irq_lower(i8259_irq(r->pic, 4));
    irq_raise(i8259_irq(r->pic, 4));
    ck_assert_int_eq(i8259_ack(r->pic), 0x24);
    rig_free(r);
}
END_TEST

START_TEST(save_load_round_trip)
{
    Rig *a = rig_new();
    pic_init(a, 0x20, 0x28, 0x01);
    out8(a, 0x21, 0x10);                  /* IR4 masked */
    out8(a, 0x4d1, 0x08);
    irq_raise(i8259_irq(a->pic, 3));
    ck_assert_int_eq(i8259_ack(a->pic), 0x23);   /* IR3 in service */
    irq_raise(i8259_irq(a->pic, 4));
    VMBuf b;
    vmbuf_init(&b);
    machine_save_devices(a->m, &b);

    Rig *c = rig_new();
    char *err = NULL;
    ck_assert_int_eq(machine_load_devices(c->m, b.data, b.len, &err), 0);
    ck_assert_uint_eq(in8(c, 0x21), 0x10);
    ck_assert_uint_eq(in8(c, 0x4d1), 0x08);
    ck_assert_uint_eq(read_isr(c, 0x20), 0x08);
    ck_assert_uint_eq(read_irr(c, 0x20), 0x10);
    irq_raise(i8259_irq(c->pic, 1));      /* vector base came along */
    ck_assert_int_eq(c->pin.level, 1);
    ck_assert_int_eq(i8259_ack(c->pic), 0x21);
    vmbuf_free(&b);
    rig_free(a);
    rig_free(c);
}
END_TEST

START_TEST(corrupt_stream_refused)
{
    Rig *a = rig_new();
    pic_init(a, 0x20, 0x28, 0x01);
    VMBuf b;
    vmbuf_init(&b);
    machine_save_devices(a->m, &b);
    Rig *c = rig_new();
    char *err = NULL;

    /* A flipped bit fails the checksum. */
    b.data[20] ^= 0x40;
    ck_assert_int_eq(machine_load_devices(c->m, b.data, b.len, &err), -1);
    ck_assert_ptr_nonnull(strstr(err, "checksum"));
    free(err);
    err = NULL;
    b.data[20] ^= 0x40;

    /* A well-formed stream with an impossible value fails post_load. */
    unit_stream_patch(&b, NULL, "priority_add", 0, &(uint8_t){ 9 }, 1);
    ck_assert_int_eq(machine_load_devices(c->m, b.data, b.len, &err), -1);
    ck_assert_ptr_nonnull(strstr(err, "priority"));
    free(err);
    err = NULL;
    unit_stream_patch(&b, NULL, "priority_add", 0, &(uint8_t){ 0 }, 1);
    unit_stream_patch(&b, NULL, "vector_base", 1, &(uint8_t){ 0x2c }, 1);
    ck_assert_int_eq(machine_load_devices(c->m, b.data, b.len, &err), -1);
    ck_assert_ptr_nonnull(strstr(err, "slave"));
    free(err);
    vmbuf_free(&b);
    rig_free(a);
    rig_free(c);
}
END_TEST

START_TEST(two_machines_independent)
{
    Rig *a = rig_new(), *c = rig_new();
    pic_init(a, 0x08, 0x70, 0x01);
    pic_init(c, 0x20, 0x28, 0x01);
    irq_raise(i8259_irq(a->pic, 1));
    ck_assert_int_eq(a->pin.level, 1);
    ck_assert_int_eq(c->pin.level, 0);
    ck_assert_int_eq(i8259_ack(a->pic), 0x09);
    ck_assert_ptr_null(i8259_irq(a->pic, 16));
    rig_free(a);
    rig_free(c);
}
END_TEST

static Suite *i8259_suite(void)
{
    Suite *s = suite_create("i8259");
    TCase *tc = tcase_create("core");
    tcase_add_test(tc, init_mask_raise_ack_eoi);
    tcase_add_test(tc, masked_request_waits_in_irr);
    tcase_add_test(tc, slave_cascade_vector);
    tcase_add_test(tc, fully_nested_priority);
    tcase_add_test(tc, edge_versus_level_elcr);
    tcase_add_test(tc, icw1_ltim_makes_all_level);
    tcase_add_test(tc, level_request_dropped_gives_spurious_irq7);
    tcase_add_test(tc, slave_request_dropped_gives_spurious_irq15);
    tcase_add_test(tc, poll_mode);
    tcase_add_test(tc, auto_eoi);
    tcase_add_test(tc, rotate_on_nonspecific_eoi);
    tcase_add_test(tc, set_priority_and_specific_eoi);
    tcase_add_test(tc, special_fully_nested_mode);
    tcase_add_test(tc, slave_back_to_back_requests);
    tcase_add_test(tc, special_mask_mode);
    tcase_add_test(tc, reinit_clears_mask_and_needs_new_edge);
    tcase_add_test(tc, save_load_round_trip);
    tcase_add_test(tc, corrupt_stream_refused);
    tcase_add_test(tc, two_machines_independent);
    suite_add_tcase(s, tc);
    return s;
}

UNIT_SUITE(i8259_suite)
