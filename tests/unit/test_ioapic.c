/* I/O APIC: indirect registers, redirection entries, edge/level delivery. */
#include <stdlib.h>

#include "core/machine.h"
#include "hw/ioapic.h"
#include "tests/unit/unit.h"

typedef struct IoBench {
    Machine *m;
    IOAPICState *io;
    int count, dest, vector, mode;
    bool level;
} IoBench;

static void iob_deliver(void *opaque, int dest, int vector, int mode, bool level)
{
    IoBench *b = opaque;
    b->count++;
    b->dest = dest;
    b->vector = vector;
    b->mode = mode;
    b->level = level;
}

static IoBench *iob_new(void)
{
    char err[128];
    IoBench *b = calloc(1, sizeof(*b));
    b->m = machine_new(1 << 20, CLOCK_MANUAL, err, sizeof(err));
    ck_assert_ptr_nonnull(b->m);
    b->io = ioapic_create(b->m, IOAPIC_DEFAULT_BASE, 1, iob_deliver, b);
    ck_assert_ptr_nonnull(b->io);
    return b;
}

static void iob_free(IoBench *b)
{
    machine_free(b->m);
    free(b);
}

static uint32_t ior(IoBench *b, uint32_t idx)
{
    memmap_write(b->m->mem, IOAPIC_DEFAULT_BASE + IOAPIC_REGSEL, idx, 4);
    return (uint32_t)memmap_read(b->m->mem, IOAPIC_DEFAULT_BASE + IOAPIC_WINDOW, 4);
}

static void iow(IoBench *b, uint32_t idx, uint32_t v)
{
    memmap_write(b->m->mem, IOAPIC_DEFAULT_BASE + IOAPIC_REGSEL, idx, 4);
    memmap_write(b->m->mem, IOAPIC_DEFAULT_BASE + IOAPIC_WINDOW, v, 4);
}

static void set_rte(IoBench *b, int n, uint32_t lo, uint32_t hi)
{
    iow(b, IOAPIC_REG_REDTBL + 2 * n + 1, hi);
    iow(b, IOAPIC_REG_REDTBL + 2 * n, lo);
}

START_TEST(id_version_and_reset_masks)
{
    IoBench *b = iob_new();
    ck_assert_uint_eq(ior(b, IOAPIC_REG_VER), 0x00170020u);   /* 24 entries, v0x20 */
    ck_assert_uint_eq(ior(b, IOAPIC_REG_ID), 0x01000000u);
    iow(b, IOAPIC_REG_ID, 0x0a000000);
    ck_assert_uint_eq(ior(b, IOAPIC_REG_ID), 0x0a000000u);
    for (int n = 0; n < 24; n++)
        ck_assert_uint_eq(ior(b, IOAPIC_REG_REDTBL + 2 * n) & (1u << 16), 1u << 16);
    /* read-only version register */
    iow(b, IOAPIC_REG_VER, 0);
    ck_assert_uint_eq(ior(b, IOAPIC_REG_VER), 0x00170020u);
    iob_free(b);
}
END_TEST

START_TEST(redirection_entry_round_trip)
{
    IoBench *b = iob_new();
    set_rte(b, 5, 0x0000a945 | (1u << 12) | (1u << 14), 0x03000000);
    /* delivery status and remote IRR are read-only: they stay clear */
    ck_assert_uint_eq(ior(b, IOAPIC_REG_REDTBL + 10), 0x0000a945u);
    ck_assert_uint_eq(ior(b, IOAPIC_REG_REDTBL + 11), 0x03000000u);
    ck_assert_uint_eq(ioapic_get_entry(b->io, 5), 0x030000000000a945ULL);
    iob_free(b);
}
END_TEST

START_TEST(edge_irq_delivers_vector)
{
    IoBench *b = iob_new();
    set_rte(b, 4, 0x34, 0x01000000);                  /* fixed, physical, edge, dest 1 */
    irq_raise(ioapic_irq(b->io, 4));
    ck_assert_int_eq(b->count, 1);
    ck_assert_int_eq(b->vector, 0x34);
    ck_assert_int_eq(b->dest, 1);
    ck_assert_int_eq(b->mode, 0);
    ck_assert(!b->level);
    irq_raise(ioapic_irq(b->io, 4));                  /* no new edge */
    ck_assert_int_eq(b->count, 1);
    irq_lower(ioapic_irq(b->io, 4));
    irq_raise(ioapic_irq(b->io, 4));
    ck_assert_int_eq(b->count, 2);
    /* masked: edge lost */
    set_rte(b, 4, 0x34 | (1u << 16), 0x01000000);
    irq_lower(ioapic_irq(b->io, 4));
    irq_raise(ioapic_irq(b->io, 4));
    ck_assert_int_eq(b->count, 2);
    iob_free(b);
}
END_TEST

START_TEST(level_remote_irr_and_eoi)
{
    IoBench *b = iob_new();
    set_rte(b, 9, 0x8039, 0);                         /* level, vector 0x39 */
    irq_raise(ioapic_irq(b->io, 9));
    ck_assert_int_eq(b->count, 1);
    ck_assert(b->level);
    ck_assert_uint_eq(ior(b, IOAPIC_REG_REDTBL + 18) & (1u << 14), 1u << 14);
    irq_raise(ioapic_irq(b->io, 9));
    ck_assert_int_eq(b->count, 1);                    /* waiting for EOI */
    ioapic_eoi(b->io, 0x38);                          /* other vector: nothing */
    ck_assert_uint_eq(ior(b, IOAPIC_REG_REDTBL + 18) & (1u << 14), 1u << 14);
    ioapic_eoi(b->io, 0x39);                          /* still asserted: again */
    ck_assert_int_eq(b->count, 2);
    irq_lower(ioapic_irq(b->io, 9));
    ioapic_eoi(b->io, 0x39);
    ck_assert_int_eq(b->count, 2);
    ck_assert_uint_eq(ior(b, IOAPIC_REG_REDTBL + 18) & (1u << 14), 0);
    iob_free(b);
}
END_TEST

START_TEST(eoi_register_and_unmask_delivers)
{
    IoBench *b = iob_new();
    set_rte(b, 11, 0x18041 | (1u << 11), 0x0f000000);  /* masked, level, logical */
    irq_raise(ioapic_irq(b->io, 11));
    ck_assert_int_eq(b->count, 0);
    set_rte(b, 11, 0x8041 | (1u << 11), 0x0f000000);   /* unmask while asserted */
    ck_assert_int_eq(b->count, 1);
    ck_assert_int_eq(b->dest, 0x0f | IOAPIC_DEST_LOGICAL);
    memmap_write(b->m->mem, IOAPIC_DEFAULT_BASE + IOAPIC_EOI, 0x41, 4);
    ck_assert_int_eq(b->count, 2);
    iob_free(b);
}
END_TEST

START_TEST(ioapic_save_load)
{
    IoBench *b = iob_new();
    set_rte(b, 2, 0x30, 0);
    set_rte(b, 9, 0x8039, 0);
    irq_raise(ioapic_irq(b->io, 9));
    VMBuf vb;
    vmbuf_init(&vb);
    machine_save_devices(b->m, &vb);
    machine_reset_devices(b->m);
    ck_assert_uint_eq(ioapic_get_entry(b->io, 2), 1u << 16);
    char *err = NULL;
    ck_assert_int_eq(machine_load_devices(b->m, vb.data, vb.len, &err), 0);
    ck_assert_uint_eq(ioapic_get_entry(b->io, 2), 0x30);
    ck_assert_uint_eq(ioapic_get_entry(b->io, 9), 0x8039 | (1u << 14));
    ioapic_eoi(b->io, 0x39);
    ck_assert_int_eq(b->count, 2);                   /* level remembered across load */
    vb.data[vb.len - 5] ^= 0x10;
    ck_assert_int_eq(machine_load_devices(b->m, vb.data, vb.len, &err), -1);
    free(err);
    vmbuf_free(&vb);
    iob_free(b);
}
END_TEST

static Suite *ioapic_suite(void)
{
    Suite *s = suite_create("ioapic");
    TCase *tc = tcase_create("core");
    tcase_add_test(tc, id_version_and_reset_masks);
    tcase_add_test(tc, redirection_entry_round_trip);
    tcase_add_test(tc, edge_irq_delivers_vector);
    tcase_add_test(tc, level_remote_irr_and_eoi);
    tcase_add_test(tc, eoi_register_and_unmask_delivers);
    tcase_add_test(tc, ioapic_save_load);
    suite_add_tcase(s, tc);
    return s;
}

UNIT_SUITE(ioapic_suite)
