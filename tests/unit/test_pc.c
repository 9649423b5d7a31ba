/*
 * The PC board's wiring, driven only through ports and MMIO, as a guest
 * would: an interrupt from the PIT must reach the CPU's INTR pin through
 * the PIC + LAPIC virtual wire, and through the IOAPIC + LAPIC.
 */
#include <stdlib.h>
#include <string.h>

#include "core/options.h"
#include "hw/pc/pc.h"
#include "tests/unit/unit.h"

typedef struct Rig {
    Machine *m;
    PCBoard *pc;
    VMOptions o;
} Rig;

static void rig_init(Rig *r)
{
    char err[256];
    options_init(&r->o);
    r->m = machine_new(64 << 20, CLOCK_MANUAL, err, sizeof err);
    ck_assert_ptr_nonnull(r->m);
    r->m->opts = &r->o;
    r->pc = pc_create(r->m, &r->o, err, sizeof err);
    ck_assert_msg(r->pc != NULL, "%s", err);
}

static void rig_free(Rig *r)
{
    r->m->board = NULL;
    machine_free(r->m);
    pc_free(r->pc);
    options_free(&r->o);
}

static void outb(Rig *r, uint16_t port, uint8_t v) { iospace_write(r->m->io, port, v, 1); }

/* PIC: ICW1-4 with vector bases 0x20/0x28, then mask all but IRQ0. */
static void pic_init(Rig *r)
{
    outb(r, 0x20, 0x11); outb(r, 0x21, 0x20); outb(r, 0x21, 0x04); outb(r, 0x21, 0x01);
    outb(r, 0xa0, 0x11); outb(r, 0xa1, 0x28); outb(r, 0xa1, 0x02); outb(r, 0xa1, 0x01);
    outb(r, 0x21, 0xfe);
    outb(r, 0xa1, 0xff);
}

/* PIT channel 0, mode 2, count 1193 (about 1 ms). */
static void pit_start(Rig *r)
{
    outb(r, 0x43, 0x34);
    outb(r, 0x40, 1193 & 0xff);
    outb(r, 0x40, 1193 >> 8);
}

START_TEST(pit_irq0_reaches_cpu_through_pic_virtual_wire)
{
    Rig r;
    rig_init(&r);
    pic_init(&r);
    /* Virtual wire mode, as firmware sets it: APIC software-enabled (LVT
     * writes would stay masked otherwise), LINT0 ExtINT, LINT1 NMI. */
    memmap_write(r.m->mem, 0xfee000f0, 0x1ff, 4);
    memmap_write(r.m->mem, 0xfee00350, 0x700, 4);
    memmap_write(r.m->mem, 0xfee00360, 0x400, 4);
    ck_assert(!r.m->cpu_ops->intr_pending(r.m->cpu_opaque[0]));
    pit_start(&r);
    clock_advance(r.m->clock, 2000000);      /* 2 ms: at least one terminal count */
    ck_assert(r.m->cpu_ops->intr_pending(r.m->cpu_opaque[0]));
    ck_assert_int_eq(r.m->cpu_ops->intr_ack(r.m->cpu_opaque[0]), 0x20);
    rig_free(&r);
}
END_TEST

START_TEST(pit_irq0_through_ioapic_pin2_to_lapic)
{
    Rig r;
    rig_init(&r);
    outb(&r, 0x21, 0xff);                    /* PIC fully masked */
    MemMap *mm = r.m->mem;
    memmap_write(mm, 0xfee000f0, 0x1ff, 4);  /* LAPIC SVR: software enable */
    memmap_write(mm, 0xfec00000, 0x10 + 2 * 2, 4);   /* IOREDTBL2 low */
    memmap_write(mm, 0xfec00010, 0x41, 4);   /* vector 0x41, fixed, edge, unmasked */
    memmap_write(mm, 0xfec00000, 0x10 + 2 * 2 + 1, 4);
    memmap_write(mm, 0xfec00010, 0, 4);      /* destination APIC 0 */
    pit_start(&r);
    clock_advance(r.m->clock, 2000000);
    ck_assert(r.m->cpu_ops->intr_pending(r.m->cpu_opaque[0]));
    ck_assert_int_eq(r.m->cpu_ops->intr_ack(r.m->cpu_opaque[0]), 0x41);
    memmap_write(mm, 0xfee000b0, 0, 4);      /* EOI */
    rig_free(&r);
}
END_TEST

START_TEST(ram_map_has_pci_hole_and_firmware_area)
{
    Rig r;
    rig_init(&r);
    r.m->ram[0x1234] = 0x5a;
    ck_assert_uint_eq(memmap_read(r.m->mem, 0x1234, 1), 0x5a);
    /* the VGA window belongs to the standard VGA (-vga std by default) */
    const MemRegion *vr = memmap_find(r.m->mem, 0xa0000);
    ck_assert_ptr_nonnull(vr);
    ck_assert_str_eq(vr->name, "vga-lowmem");
    ck_assert_ptr_nonnull(pc_console(r.pc));
    /* PCI 00:02.0 is the VGA: 1234:1111, class 0x0300 */
    iospace_write(r.m->io, 0xcf8, 0x80000000u | 2u << 11, 4);
    ck_assert_uint_eq(iospace_read(r.m->io, 0xcfc, 4), 0x11111234u);
    iospace_write(r.m->io, 0xcf8, 0x80000008u | 2u << 11, 4);
    ck_assert_uint_eq(iospace_read(r.m->io, 0xcfc, 4) >> 16, 0x0300);
    ck_assert_uint_eq(memmap_read(r.m->mem, 64 << 20, 1), 0xff);  /* past RAM */
    /* The LAPIC answers its version register at 0xfee00030. */
    ck_assert_uint_eq(memmap_read(r.m->mem, 0xfee00030, 4) & 0xff, 0x14);
    rig_free(&r);
}
END_TEST

/* -vga none and -nodefaults leave the window unassigned, slot 2 empty. */
START_TEST(vga_none_and_nodefaults)
{
    for (int variant = 0; variant < 2; variant++) {
        char err[256];
        Rig r;
        options_init(&r.o);
        if (variant == 0)
            r.o.vga = VGA_NONE;
        else
            r.o.nodefaults = true;
        r.m = machine_new(64 << 20, CLOCK_MANUAL, err, sizeof err);
        r.m->opts = &r.o;
        r.pc = pc_create(r.m, &r.o, err, sizeof err);
        ck_assert_msg(r.pc != NULL, "%s", err);
        ck_assert_uint_eq(memmap_read(r.m->mem, 0xa0000, 1), 0xff);
        ck_assert_ptr_null(pc_console(r.pc));
        iospace_write(r.m->io, 0xcf8, 0x80000000u | 2u << 11, 4);
        ck_assert_uint_eq(iospace_read(r.m->io, 0xcfc, 4), 0xffffffffu);
        rig_free(&r);
    }
}
END_TEST

START_TEST(pci_host_bridge_visible)
{
    Rig r;
    rig_init(&r);
    iospace_write(r.m->io, 0xcf8, 0x80000000, 4);
    ck_assert_uint_eq(iospace_read(r.m->io, 0xcfc, 4), 0x12378086);
    rig_free(&r);
}
END_TEST

/* The local APIC's MSRs reach the board's LAPIC (the CPU asks through
 * Machine.cpu_ops->msr): IA32_APIC_BASE after reset is 0xfee00000 with BSP
 * (bit 8) and global enable (bit 11) set (SDM 3A 11.4.4); x2APIC MSRs
 * outside x2APIC mode are #GP (SDM 3A 11.12.1); other MSRs are not the
 * board's. */
START_TEST(lapic_msrs_through_board_hook)
{
    Rig r;
    rig_init(&r);
    void *o = r.m->cpu_opaque[0];
    uint64_t v = 0;
    ck_assert_ptr_nonnull(r.m->cpu_ops->msr);
    ck_assert_int_eq(r.m->cpu_ops->msr(o, 0x1b, false, &v), 1);
    ck_assert_uint_eq(v, 0xfee00900u);
    ck_assert_int_eq(r.m->cpu_ops->msr(o, 0x802, false, &v), -1);
    ck_assert_int_eq(r.m->cpu_ops->msr(o, 0x10, false, &v), 0);      /* the TSC: the CPU's */
    /* Moving the APIC page: the registers answer at the new base. */
    v = 0xfed40000u | 0x900u;
    ck_assert_int_eq(r.m->cpu_ops->msr(o, 0x1b, true, &v), 1);
    ck_assert_uint_eq(memmap_read(r.m->mem, 0xfed40030, 4) & 0xff, 0x14);   /* version */
    v = 0;
    ck_assert_int_eq(r.m->cpu_ops->msr(o, 0x1b, false, &v), 1);
    ck_assert_uint_eq(v, 0xfed40900u);
    rig_free(&r);
}
END_TEST

static Suite *pc_suite(void)
{
    Suite *s = suite_create("pc-board");
    TCase *tc = tcase_create("wiring");
    tcase_add_test(tc, pit_irq0_reaches_cpu_through_pic_virtual_wire);
    tcase_add_test(tc, pit_irq0_through_ioapic_pin2_to_lapic);
    tcase_add_test(tc, ram_map_has_pci_hole_and_firmware_area);
    tcase_add_test(tc, vga_none_and_nodefaults);
    tcase_add_test(tc, pci_host_bridge_visible);
    tcase_add_test(tc, lapic_msrs_through_board_hook);
    suite_add_tcase(s, tc);
    return s;
}
UNIT_SUITE(pc_suite)
