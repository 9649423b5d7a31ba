/* PCI bus core and i440FX configuration mechanism #1, driven through the
 * IO ports 0xcf8/0xcfc like a guest would. */
#include <stdlib.h>
#include <string.h>

#include "core/machine.h"
#include "hw/i440fx.h"
#include "hw/pci.h"
#include "hw/piix3.h"
#include "tests/unit/unit.h"

typedef struct PciBench {
    Machine *m;
    PCIBus *bus;
    I440FXState *hb;
    PIIX3State *sb;
    IRQLine isa[16];
    IRQLine *isa_ptr[16];
    int level[16];
} PciBench;

typedef struct BarDev {
    uint32_t regs[64];
} BarDev;

static void bench_irq(void *opaque, int n, int level)
{
    PciBench *b = opaque;
    b->level[n] = level;
}

static PciBench *bench_new(void)
{
    char err[128];
    PciBench *b = calloc(1, sizeof(*b));
    b->m = machine_new(16 << 20, CLOCK_MANUAL, err, sizeof(err));
    ck_assert_ptr_nonnull(b->m);
    for (int i = 0; i < 16; i++) {
        irq_init(&b->isa[i], bench_irq, b, i);
        b->isa_ptr[i] = &b->isa[i];
    }
    b->bus = pci_bus_new(b->m);
    b->hb = i440fx_create(b->m, b->bus, I440FX_CONFIG_ADDRESS);
    b->sb = piix3_create(b->m, b->bus, b->isa_ptr);
    ck_assert_ptr_nonnull(b->hb);
    ck_assert_ptr_nonnull(b->sb);
    return b;
}

static void bench_free(PciBench *b)
{
    machine_free(b->m);
    free(b);
}

static uint32_t cfg_addr(int bus, int dev, int fn, int reg)
{
    return 0x80000000u | (uint32_t)bus << 16 | (uint32_t)dev << 11 |
           (uint32_t)fn << 8 | (uint32_t)(reg & 0xfc);
}

static uint32_t cfg_read(PciBench *b, int dev, int fn, int reg, unsigned size)
{
    iospace_write(b->m->io, 0xcf8, cfg_addr(0, dev, fn, reg), 4);
    return iospace_read(b->m->io, (uint16_t)(0xcfc + (reg & 3)), size);
}

static void cfg_write(PciBench *b, int dev, int fn, int reg, uint32_t v, unsigned size)
{
    iospace_write(b->m->io, 0xcf8, cfg_addr(0, dev, fn, reg), 4);
    iospace_write(b->m->io, (uint16_t)(0xcfc + (reg & 3)), v, size);
}

static uint64_t bardev_read(void *opaque, uint64_t off, unsigned size)
{
    BarDev *d = opaque;
    (void)size;
    return d->regs[(off / 4) & 63];
}

static void bardev_write(void *opaque, uint64_t off, uint64_t val, unsigned size)
{
    BarDev *d = opaque;
    (void)size;
    d->regs[(off / 4) & 63] = (uint32_t)val;
}

static const MemOps bardev_ops = { bardev_read, bardev_write, 4, 4 };

/* A test function at 03.0 with a 4 KiB memory BAR0, a 32-port IO BAR1 and INTA. */
static PCIDevice *add_bardev(PciBench *b, BarDev *bd)
{
    PCIConfigInit ids = { .vendor_id = 0x1234, .device_id = 0x5678,
                          .class_code = 0xff0000, .int_pin = 1 };
    PCIDevice *d = pci_register_function(b->bus, PCI_DEVFN(3, 0), &ids, "bardev",
                                         NULL, NULL, bd);
    ck_assert_ptr_nonnull(d);
    pci_register_bar(d, 0, 0x1000, false, &bardev_ops, bd);
    pci_register_bar(d, 1, 0x20, true, &bardev_ops, bd);
    return d;
}

START_TEST(host_bridge_ids)
{
    PciBench *b = bench_new();
    ck_assert_uint_eq(cfg_read(b, 0, 0, 0, 4), 0x12378086u);
    /* class code: bridge / host */
    ck_assert_uint_eq(cfg_read(b, 0, 0, 8, 4) >> 8, 0x060000u);
    bench_free(b);
}
END_TEST

START_TEST(isa_bridge_ids)
{
    PciBench *b = bench_new();
    ck_assert_uint_eq(cfg_read(b, 1, 0, 0, 4), 0x70008086u);
    ck_assert_uint_eq(cfg_read(b, 1, 0, 8, 4) >> 8, 0x060100u);
    /* multi-function header so software probes 01.1-01.7 */
    ck_assert_uint_eq(cfg_read(b, 1, 0, 0x0e, 1), 0x80);
    ck_assert_uint_eq(cfg_read(b, 1, 3, 0, 4), 0x71138086u);
    bench_free(b);
}
END_TEST

START_TEST(absent_function_reads_ones)
{
    PciBench *b = bench_new();
    ck_assert_uint_eq(cfg_read(b, 5, 0, 0, 4), 0xffffffffu);
    ck_assert_uint_eq(cfg_read(b, 1, 1, 0, 2), 0xffffu);
    /* bus 1 does not exist */
    iospace_write(b->m->io, 0xcf8, cfg_addr(1, 0, 0, 0), 4);
    ck_assert_uint_eq(iospace_read(b->m->io, 0xcfc, 4), 0xffffffffu);
    /* enable bit clear: no configuration cycle */
    iospace_write(b->m->io, 0xcf8, 0x00000000, 4);
    ck_assert_uint_eq(iospace_read(b->m->io, 0xcfc, 4), 0xffffffffu);
    bench_free(b);
}
END_TEST

START_TEST(config_byte_and_word_lanes)
{
    PciBench *b = bench_new();
    iospace_write(b->m->io, 0xcf8, cfg_addr(0, 0, 0, 0), 4);
    ck_assert_uint_eq(iospace_read(b->m->io, 0xcfc, 2), 0x8086);
    ck_assert_uint_eq(iospace_read(b->m->io, 0xcfe, 2), 0x1237);
    ck_assert_uint_eq(iospace_read(b->m->io, 0xcfd, 1), 0x80);
    ck_assert_uint_eq(iospace_read(b->m->io, 0xcff, 1), 0x12);
    /* address register reads back, reserved low bits zero */
    iospace_write(b->m->io, 0xcf8, cfg_addr(0, 1, 0, 0x60) | 3, 4);
    ck_assert_uint_eq(iospace_read(b->m->io, 0xcf8, 4), cfg_addr(0, 1, 0, 0x60));
    /* byte write into lane 2 of PIIX3 0x60..0x63 changes only PIRQC */
    iospace_write(b->m->io, 0xcfe, 0x0b, 1);
    ck_assert_uint_eq(iospace_read(b->m->io, 0xcfc, 4), 0x800b8080u);
    bench_free(b);
}
END_TEST

START_TEST(bar_sizing)
{
    PciBench *b = bench_new();
    BarDev bd = { { 0 } };
    add_bardev(b, &bd);
    cfg_write(b, 3, 0, 0x10, 0xffffffff, 4);
    ck_assert_uint_eq(cfg_read(b, 3, 0, 0x10, 4), 0xfffff000u);   /* 4 KiB memory */
    cfg_write(b, 3, 0, 0x14, 0xffffffff, 4);
    ck_assert_uint_eq(cfg_read(b, 3, 0, 0x14, 4), 0xffffffe1u);   /* 32 ports, IO */
    /* unimplemented BAR2 stays zero */
    cfg_write(b, 3, 0, 0x18, 0xffffffff, 4);
    ck_assert_uint_eq(cfg_read(b, 3, 0, 0x18, 4), 0);
    bench_free(b);
}
END_TEST

START_TEST(memory_decode_maps_bar)
{
    PciBench *b = bench_new();
    BarDev bd = { { 0 } };
    bd.regs[1] = 0xcafef00d;
    add_bardev(b, &bd);
    cfg_write(b, 3, 0, 0x10, 0xe0000000, 4);
    /* programmed but memory decode off: nothing there */
    ck_assert_uint_eq(memmap_read(b->m->mem, 0xe0000004, 4), 0xffffffffu);
    cfg_write(b, 3, 0, 0x04, PCI_COMMAND_MEMORY, 2);
    ck_assert_uint_eq(memmap_read(b->m->mem, 0xe0000004, 4), 0xcafef00du);
    memmap_write(b->m->mem, 0xe0000008, 0x55, 4);
    ck_assert_uint_eq(bd.regs[2], 0x55);
    /* moving the BAR unmaps the old window */
    cfg_write(b, 3, 0, 0x10, 0xe0100000, 4);
    ck_assert_uint_eq(memmap_read(b->m->mem, 0xe0000004, 4), 0xffffffffu);
    ck_assert_uint_eq(memmap_read(b->m->mem, 0xe0100004, 4), 0xcafef00du);
    cfg_write(b, 3, 0, 0x04, 0, 2);
    ck_assert_uint_eq(memmap_read(b->m->mem, 0xe0100004, 4), 0xffffffffu);
    bench_free(b);
}
END_TEST

/* Expansion ROM BAR (0x30): size probe, enable bit AND memory decode,
 * read-only mapping, moves, reset. */
START_TEST(rom_bar)
{
    PciBench *b = bench_new();
    BarDev bd = { { 0 } };
    PCIDevice *d = add_bardev(b, &bd);
    uint8_t img[5000];
    for (size_t i = 0; i < sizeof img; i++)
        img[i] = (uint8_t)(i * 7);
    img[0] = 0x55;
    img[1] = 0xaa;
    ck_assert(pci_register_rom(d, img, sizeof img));
    /* 5000 bytes -> an 8 KiB BAR; bits 10:1 reserved (zero) */
    cfg_write(b, 3, 0, 0x30, 0xfffffffe, 4);
    ck_assert_uint_eq(cfg_read(b, 3, 0, 0x30, 4), 0xffffe000u);
    cfg_write(b, 3, 0, 0x30, 0xfebc0000, 4);
    cfg_write(b, 3, 0, 0x04, PCI_COMMAND_MEMORY, 2);
    /* enable bit clear: not decoded */
    ck_assert_uint_eq(memmap_read(b->m->mem, 0xfebc0000, 2), 0xffffu);
    cfg_write(b, 3, 0, 0x30, 0xfebc0001, 4);
    ck_assert_uint_eq(cfg_read(b, 3, 0, 0x30, 4), 0xfebc0001u);
    ck_assert_uint_eq(memmap_read(b->m->mem, 0xfebc0000, 2), 0xaa55u);
    ck_assert_uint_eq(memmap_read(b->m->mem, 0xfebc0000 + 4999, 1), (uint8_t)(4999 * 7));
    ck_assert_uint_eq(memmap_read(b->m->mem, 0xfebc0000 + 6000, 1), 0xff);   /* padding */
    /* read only */
    memmap_write(b->m->mem, 0xfebc0010, 0, 1);
    ck_assert_uint_eq(memmap_read(b->m->mem, 0xfebc0010, 1), (uint8_t)(16 * 7));
    /* memory decode off: gone, though enabled */
    cfg_write(b, 3, 0, 0x04, 0, 2);
    ck_assert_uint_eq(memmap_read(b->m->mem, 0xfebc0000, 2), 0xffffu);
    /* moved */
    cfg_write(b, 3, 0, 0x04, PCI_COMMAND_MEMORY, 2);
    cfg_write(b, 3, 0, 0x30, 0xfebe0001, 4);
    ck_assert_uint_eq(memmap_read(b->m->mem, 0xfebc0000, 2), 0xffffu);
    ck_assert_uint_eq(memmap_read(b->m->mem, 0xfebe0000, 2), 0xaa55u);
    machine_reset_devices(b->m);
    ck_assert_uint_eq(cfg_read(b, 3, 0, 0x30, 4), 0);
    ck_assert_uint_eq(memmap_read(b->m->mem, 0xfebe0000, 2), 0xffffu);
    /* a function without a ROM has a read-only zero register */
    cfg_write(b, 0, 0, 0x30, 0xffffffff, 4);
    ck_assert_uint_eq(cfg_read(b, 0, 0, 0x30, 4), 0);
    bench_free(b);
}
END_TEST

START_TEST(io_decode_maps_bar)
{
    PciBench *b = bench_new();
    BarDev bd = { { 0 } };
    bd.regs[0] = 0x11223344;
    add_bardev(b, &bd);
    cfg_write(b, 3, 0, 0x14, 0xc000, 4);
    ck_assert_uint_eq(cfg_read(b, 3, 0, 0x14, 4), 0xc001u);
    ck_assert_uint_eq(iospace_read(b->m->io, 0xc000, 4), 0xffffffffu);
    cfg_write(b, 3, 0, 0x04, PCI_COMMAND_IO, 2);
    ck_assert_uint_eq(iospace_read(b->m->io, 0xc000, 4), 0x11223344u);
    cfg_write(b, 3, 0, 0x04, 0, 2);
    ck_assert_ptr_null(iospace_owner(b->m->io, 0xc000));
    bench_free(b);
}
END_TEST

START_TEST(command_and_status_masks)
{
    PciBench *b = bench_new();
    BarDev bd = { { 0 } };
    PCIDevice *d = add_bardev(b, &bd);
    cfg_write(b, 3, 0, 0x04, 0xffff, 2);
    ck_assert_uint_eq(cfg_read(b, 3, 0, 0x04, 2), 0x0547);
    /* vendor ID is read-only */
    cfg_write(b, 3, 0, 0x00, 0, 4);
    ck_assert_uint_eq(cfg_read(b, 3, 0, 0x00, 4), 0x56781234u);
    /* a device-set error bit (signalled system error, bit 14) is w1c */
    d->config[PCI_STATUS + 1] |= 0x40;
    cfg_write(b, 3, 0, 0x06, 0x4000, 2);
    ck_assert_uint_eq(cfg_read(b, 3, 0, 0x06, 2) & 0x4000, 0);
    bench_free(b);
}
END_TEST

START_TEST(intx_routed_through_pirq)
{
    PciBench *b = bench_new();
    BarDev bd = { { 0 } };
    PCIDevice *d = add_bardev(b, &bd);
    /* slot 3, INTA -> PIRQ (3 - 1 + 0) mod 4 = PIRQC -> register 0x62 */
    ck_assert_int_eq(pci_device_pirq(d), 2);
    pci_set_irq(d, 1);
    for (int i = 0; i < 16; i++)
        ck_assert_int_eq(b->level[i], 0);          /* routing disabled at reset */
    cfg_write(b, 1, 0, 0x62, 11, 1);
    ck_assert_int_eq(b->level[11], 1);
    ck_assert_uint_eq(cfg_read(b, 3, 0, 0x06, 2) & PCI_STATUS_INTERRUPT, PCI_STATUS_INTERRUPT);
    cfg_write(b, 1, 0, 0x62, 10, 1);
    ck_assert_int_eq(b->level[11], 0);
    ck_assert_int_eq(b->level[10], 1);
    /* IRQ 2 and 13 are not routable */
    cfg_write(b, 1, 0, 0x62, 13, 1);
    ck_assert_int_eq(b->level[10], 0);
    ck_assert_int_eq(b->level[13], 0);
    cfg_write(b, 1, 0, 0x62, 10, 1);
    pci_set_irq(d, 0);
    ck_assert_int_eq(b->level[10], 0);
    bench_free(b);
}
END_TEST

/* The board's INTx wiring is the one SeaBIOS's own tables describe (its
 * _PRT rows: slot 0 INTA-D on LNKD, LNKA, LNKB, LNKC, slot 1 on LNKA-D,
 * slot 2 from LNKB, slot 3 from LNKC, repeating; LNKA-D are PIRQRC
 * 0x60-0x63): Linux booted by SeaBIOS programs the ISA IRQ of the link
 * the _PRT names, so a different wiring leaves the device's interrupt on
 * an IRQ nobody listens to (the UHCI at 01.2 with INTD, the e1000 at 03.0
 * with INTA). */
START_TEST(intx_wiring_matches_seabios_prt)
{
    static const struct { int slot, pin, pirq; } rows[] = {
        { 0, 1, 3 }, { 0, 2, 0 }, { 0, 4, 2 },
        { 1, 1, 0 }, { 1, 4, 3 },                  /* 01.2 UHCI: INTD -> LNKD */
        { 2, 1, 1 }, { 2, 3, 3 },
        { 3, 1, 2 }, { 3, 2, 3 },                  /* 03.0 e1000: INTA -> LNKC */
        { 4, 1, 3 }, { 5, 1, 0 }, { 31, 1, 2 }, { 31, 4, 1 },
    };
    for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
        PciBench *b = bench_new();
        PCIConfigInit ids = { .vendor_id = 0x1234, .device_id = 0x5678,
                              .class_code = 0xff0000, .int_pin = (uint8_t)rows[i].pin };
        PCIDevice *d = pci_register_function(b->bus, PCI_DEVFN(rows[i].slot, 2), &ids,
                                             "pindev", NULL, NULL, NULL);
        ck_assert_ptr_nonnull(d);
        ck_assert_msg(pci_device_pirq(d) == rows[i].pirq, "slot %d pin %d: PIRQ %d, want %d",
                      rows[i].slot, rows[i].pin, pci_device_pirq(d), rows[i].pirq);
        /* and the level arrives at the ISA IRQ that link's PIRQRC names */
        cfg_write(b, 1, 0, 0x60 + rows[i].pirq, 11, 1);
        pci_set_irq(d, 1);
        ck_assert_int_eq(b->level[11], 1);
        pci_set_irq(d, 0);
        ck_assert_int_eq(b->level[11], 0);
        bench_free(b);
    }
}
END_TEST

/* The board also wires PIRQA-D to IOAPIC inputs (GSI 16-19, the DSDT's
 * _PRT): those follow the INTx level whatever PIRQRC holds. */
START_TEST(intx_reaches_apic_pirq_lines)
{
    PciBench *b = bench_new();
    IRQLine apic[4], *apic_ptr[4];
    for (int i = 0; i < 4; i++) {
        irq_init(&apic[i], NULL, NULL, i);
        apic_ptr[i] = &apic[i];
    }
    piix3_connect_apic_pirqs(b->sb, apic_ptr);
    BarDev bd = { { 0 } };
    PCIDevice *d = add_bardev(b, &bd);              /* slot 3 INTA: PIRQC */
    pci_set_irq(d, 1);
    ck_assert_int_eq(apic[2].level, 1);
    ck_assert_int_eq(apic[0].level + apic[1].level + apic[3].level, 0);
    for (int i = 0; i < 16; i++)
        ck_assert_int_eq(b->level[i], 0);          /* PIRQRC still disabled */
    cfg_write(b, 3, 0, 0x04, PCI_COMMAND_INTX_DISABLE, 2);
    ck_assert_int_eq(apic[2].level, 0);
    cfg_write(b, 3, 0, 0x04, 0, 2);
    ck_assert_int_eq(apic[2].level, 1);
    pci_set_irq(d, 0);
    ck_assert_int_eq(apic[2].level, 0);
    bench_free(b);
}
END_TEST

START_TEST(intx_disable_masks_line)
{
    PciBench *b = bench_new();
    BarDev bd = { { 0 } };
    PCIDevice *d = add_bardev(b, &bd);
    cfg_write(b, 1, 0, 0x62, 5, 1);
    pci_set_irq(d, 1);
    ck_assert_int_eq(b->level[5], 1);
    cfg_write(b, 3, 0, 0x04, PCI_COMMAND_INTX_DISABLE, 2);
    ck_assert_int_eq(b->level[5], 0);
    /* status still shows the device's request */
    ck_assert_uint_eq(cfg_read(b, 3, 0, 0x06, 2) & PCI_STATUS_INTERRUPT, PCI_STATUS_INTERRUPT);
    cfg_write(b, 3, 0, 0x04, 0, 2);
    ck_assert_int_eq(b->level[5], 1);
    bench_free(b);
}
END_TEST

START_TEST(reset_control_register)
{
    PciBench *b = bench_new();
    b->m->state = RUN_RUNNING;
    iospace_write(b->m->io, 0xcf9, 0x02, 1);
    ck_assert_int_eq(b->m->state, RUN_RUNNING);
    iospace_write(b->m->io, 0xcf9, 0x06, 1);
    ck_assert_int_eq(b->m->state, RUN_RESET);
    bench_free(b);
}
END_TEST

START_TEST(dma_needs_bus_master)
{
    PciBench *b = bench_new();
    ck_assert_ptr_nonnull(memmap_add_ram(b->m->mem, "ram", 0, b->m->ram_size, b->m->ram, NULL));
    BarDev bd = { { 0 } };
    PCIDevice *d = add_bardev(b, &bd);
    uint8_t buf[4] = { 1, 2, 3, 4 };
    ck_assert(!pci_dma_write(d, 0x1000, buf, 4));
    ck_assert_uint_eq(b->m->ram[0x1000], 0);
    cfg_write(b, 3, 0, 0x04, PCI_COMMAND_MASTER, 2);
    ck_assert(pci_dma_write(d, 0x1000, buf, 4));
    ck_assert_uint_eq(b->m->ram[0x1003], 4);
    /* outside RAM */
    ck_assert(!pci_dma_read(d, b->m->ram_size - 2, buf, 4));
    bench_free(b);
}
END_TEST

START_TEST(save_load_restores_bars)
{
    PciBench *b = bench_new();
    BarDev bd = { { 0 } };
    bd.regs[0] = 0x77;
    add_bardev(b, &bd);
    cfg_write(b, 3, 0, 0x10, 0xe0000000, 4);
    cfg_write(b, 3, 0, 0x04, PCI_COMMAND_MEMORY, 2);
    cfg_write(b, 1, 0, 0x60, 0x0a, 1);
    VMBuf vb;
    vmbuf_init(&vb);
    machine_save_devices(b->m, &vb);
    machine_reset_devices(b->m);
    ck_assert_uint_eq(memmap_read(b->m->mem, 0xe0000000, 4), 0xffffffffu);
    ck_assert_uint_eq(cfg_read(b, 1, 0, 0x60, 1), 0x80);
    char *err = NULL;
    ck_assert_int_eq(machine_load_devices(b->m, vb.data, vb.len, &err), 0);
    ck_assert_uint_eq(memmap_read(b->m->mem, 0xe0000000, 4), 0x77);
    ck_assert_uint_eq(cfg_read(b, 1, 0, 0x60, 1), 0x0a);
    /* a flipped byte is refused */
    vb.data[vb.len / 2] ^= 0x5a;
    ck_assert_int_eq(machine_load_devices(b->m, vb.data, vb.len, &err), -1);
    ck_assert_ptr_nonnull(err);
    free(err);
    vmbuf_free(&vb);
    bench_free(b);
}
END_TEST

/* A RAM BAR (the VGA framebuffer): sized like any memory BAR, RAM wherever
 * the guest puts it, writes logged in the device's log, and a move or
 * decode-off unmaps the old window while the memory and log stay. */
START_TEST(ram_bar_moves_with_its_memory_and_log)
{
    PciBench *b = bench_new();
    BarDev bd = { { 0 } };
    PCIDevice *d = add_bardev(b, &bd);
    static uint8_t vram[0x10000];
    uint64_t log[1] = { 0 };
    ck_assert(!pci_register_bar_ram(d, 2, 0x3000, vram, log));     /* not a power of two */
    ck_assert(!pci_register_bar_ram(d, 2, 0x800, vram, log));      /* under a page */
    ck_assert(pci_register_bar_ram(d, 2, sizeof vram, vram, log));
    cfg_write(b, 3, 0, 0x18, 0xffffffff, 4);
    ck_assert_uint_eq(cfg_read(b, 3, 0, 0x18, 4), 0xffff0000u);
    cfg_write(b, 3, 0, 0x18, 0xe0000000, 4);
    cfg_write(b, 3, 0, 0x04, PCI_COMMAND_MEMORY, 2);
    const MemRegion *r = memmap_find(b->m->mem, 0xe0002000);
    ck_assert_ptr_nonnull(r);
    ck_assert_int_eq(r->kind, MEM_RAM);
    memmap_write(b->m->mem, 0xe0002004, 0x12345678, 4);
    ck_assert_uint_eq(vram[0x2004], 0x78);
    ck_assert_uint_eq(log[0], 1u << 2);
    cfg_write(b, 3, 0, 0x18, 0xe1000000, 4);
    ck_assert_uint_eq(memmap_read(b->m->mem, 0xe0002004, 4), 0xffffffffu);
    ck_assert_uint_eq(memmap_read(b->m->mem, 0xe1002004, 4), 0x12345678u);
    memmap_write(b->m->mem, 0xe100f000, 1, 1);
    ck_assert_uint_eq(log[0], (1u << 2) | (1u << 15));
    cfg_write(b, 3, 0, 0x04, 0, 2);
    ck_assert_uint_eq(memmap_read(b->m->mem, 0xe1002004, 4), 0xffffffffu);
    ck_assert_uint_eq(vram[0x2004], 0x78);
    bench_free(b);
}
END_TEST

static Suite *pci_suite(void)
{
    Suite *s = suite_create("pci");
    TCase *tc = tcase_create("core");
    tcase_add_test(tc, host_bridge_ids);
    tcase_add_test(tc, isa_bridge_ids);
    tcase_add_test(tc, absent_function_reads_ones);
    tcase_add_test(tc, config_byte_and_word_lanes);
    tcase_add_test(tc, bar_sizing);
    tcase_add_test(tc, memory_decode_maps_bar);
    tcase_add_test(tc, io_decode_maps_bar);
    tcase_add_test(tc, rom_bar);
    tcase_add_test(tc, command_and_status_masks);
    tcase_add_test(tc, intx_routed_through_pirq);
    tcase_add_test(tc, intx_wiring_matches_seabios_prt);
    tcase_add_test(tc, intx_disable_masks_line);
    tcase_add_test(tc, intx_reaches_apic_pirq_lines);
    tcase_add_test(tc, reset_control_register);
    tcase_add_test(tc, dma_needs_bus_master);
    tcase_add_test(tc, save_load_restores_bars);
    tcase_add_test(tc, ram_bar_moves_with_its_memory_and_log);
    suite_add_tcase(s, tc);
    return s;
}

UNIT_SUITE(pci_suite)
