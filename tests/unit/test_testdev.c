/*
 * pc-testdev and pci-testdev (hw/testdev.c) driven through ports, MMIO
 * and PCI config cycles, as kvm-unit-tests drives them: the register
 * layouts are QEMU's (see hw/testdev.h).
 */
#include <stdlib.h>
#include <string.h>

#include "core/machine.h"
#include "hw/pci.h"
#include "hw/testdev.h"
#include "tests/unit/unit.h"

static int irq_levels[PC_TESTDEV_NIRQ];

static void record_irq(void *opaque, int n, int level)
{
    irq_levels[n] = level;
}

START_TEST(pc_testdev_registers)
{
    char err[128];
    Machine *m = machine_new(1 << 20, CLOCK_MANUAL, err, sizeof err);
    IRQLine lines[PC_TESTDEV_NIRQ];
    IRQLine *ptr[PC_TESTDEV_NIRQ];
    for (int i = 0; i < PC_TESTDEV_NIRQ; i++) {
        irq_init(&lines[i], record_irq, NULL, i);
        ptr[i] = &lines[i];
    }
    ck_assert_ptr_nonnull(pc_testdev_create(m, 0xe0, 0x2000, PC_TESTDEV_IOMEM_BASE, ptr));
    ck_assert_ptr_null(pc_testdev_create(m, 0xe0, 0x2000, PC_TESTDEV_IOMEM_BASE, ptr));

    /* The 32-bit scratch register at 0xe0: byte lanes at 0xe0+k. */
    iospace_write(m->io, 0xe0, 0x12345678, 4);
    ck_assert_uint_eq(iospace_read(m->io, 0xe0, 4), 0x12345678);
    ck_assert_uint_eq(iospace_read(m->io, 0xe1, 1), 0x56);
    ck_assert_uint_eq(iospace_read(m->io, 0xe2, 2), 0x1234);
    iospace_write(m->io, 0xe3, 0xab, 1);
    ck_assert_uint_eq(iospace_read(m->io, 0xe0, 4), 0xab345678);
    /* ... the same register through the byte-split window at 0xe8. */
    ck_assert_uint_eq(iospace_read(m->io, 0xe8, 4), 0xab345678);
    iospace_write(m->io, 0xe8, 0xdeadbeef, 4);
    ck_assert_uint_eq(iospace_read(m->io, 0xe0, 4), 0xdeadbeef);
    iospace_write(m->io, 0xe9, 0x00, 1);
    ck_assert_uint_eq(iospace_read(m->io, 0xe8, 2), 0x00ef);
    /* Flush-page port: writes accepted, reads 0. */
    iospace_write(m->io, 0xe4, 0x100000, 4);
    ck_assert_uint_eq(iospace_read(m->io, 0xe4, 4), 0);

    /* IRQ lines at 0x2000 + n. */
    iospace_write(m->io, 0x2000 + 5, 1, 1);
    ck_assert_int_eq(irq_levels[5], 1);
    iospace_write(m->io, 0x2000 + 23, 0x80, 1);
    ck_assert_int_eq(irq_levels[23], 1);
    iospace_write(m->io, 0x2000 + 5, 0, 1);
    ck_assert_int_eq(irq_levels[5], 0);
    ck_assert_uint_eq(iospace_read(m->io, 0x2005, 1), 0);

    /* 64 KiB of plain memory at 0xff000000, any width. */
    memmap_write(m->mem, PC_TESTDEV_IOMEM_BASE + 0x10, 0x1122334455667788ULL, 8);
    ck_assert_uint_eq(memmap_read(m->mem, PC_TESTDEV_IOMEM_BASE + 0x10, 8), 0x1122334455667788ULL);
    ck_assert_uint_eq(memmap_read(m->mem, PC_TESTDEV_IOMEM_BASE + 0x13, 1), 0x55);
    memmap_write(m->mem, PC_TESTDEV_IOMEM_BASE + 0xfffc, 0xcafef00d, 4);
    ck_assert_uint_eq(memmap_read(m->mem, PC_TESTDEV_IOMEM_BASE + 0xfffc, 4), 0xcafef00d);

    machine_reset_devices(m);
    ck_assert_uint_eq(iospace_read(m->io, 0xe0, 4), 0);
    machine_free(m);
}
END_TEST

#define DEVFN PCI_DEVFN(3, 0)
#define MEMBAR 0xe0000000u
#define IOBAR 0xc000u

/* Byte n of the selected test's header, through the memory BAR. */
static uint32_t hdr_read32(Machine *m, unsigned off)
{
    return (uint32_t)memmap_read(m->mem, MEMBAR + off, 4);
}

START_TEST(pci_testdev_protocol)
{
    char err[128];
    Machine *m = machine_new(1 << 20, CLOCK_MANUAL, err, sizeof err);
    PCIBus *bus = pci_bus_new(m);
    ck_assert_ptr_nonnull(pci_testdev_create(m, bus, DEVFN));
    ck_assert_uint_eq(pci_bus_config_read(bus, DEVFN, 0, 4), 0x00051b36);
    ck_assert_uint_eq(pci_bus_config_read(bus, DEVFN, 0x08, 4) >> 8, 0x00ff00);
    ck_assert_uint_eq(pci_bus_config_read(bus, DEVFN, PCI_INTERRUPT_PIN, 1), 0);
    /* BAR sizing: 4 KiB memory, 256 IO ports. */
    pci_bus_config_write(bus, DEVFN, 0x10, 0xffffffff, 4);
    ck_assert_uint_eq(pci_bus_config_read(bus, DEVFN, 0x10, 4), 0xfffff000);
    pci_bus_config_write(bus, DEVFN, 0x14, 0xffffffff, 4);
    ck_assert_uint_eq(pci_bus_config_read(bus, DEVFN, 0x14, 4), 0xffffff01);
    pci_bus_config_write(bus, DEVFN, 0x10, MEMBAR, 4);
    pci_bus_config_write(bus, DEVFN, 0x14, IOBAR, 4);
    pci_bus_config_write(bus, DEVFN, PCI_COMMAND, PCI_COMMAND_IO | PCI_COMMAND_MEMORY, 2);

    ck_assert_uint_eq(hdr_read32(m, 0), 0);                  /* nothing selected */
    static const char *const names[6] = {
        "mmio-no-eventfd", "mmio-wildcard-eventfd", "mmio-datamatch-eventfd",
        "portio-no-eventfd", "portio-wildcard-eventfd", "portio-datamatch-eventfd",
    };
    for (int t = 0; t < 6; t++) {
        bool io = t >= 3;
        /* Select test t % 3 through the BAR of its kind. */
        if (io)
            iospace_write(m->io, IOBAR, (uint32_t)(t % 3), 1);
        else
            memmap_write(m->mem, MEMBAR, (uint64_t)(t % 3), 1);
        ck_assert_uint_eq(memmap_read(m->mem, MEMBAR + 0, 1), (unsigned)t);
        ck_assert_uint_eq(iospace_read(m->io, IOBAR + 1, 1), 1);      /* width */
        uint32_t off = hdr_read32(m, 4);
        ck_assert_uint_eq(off, (io ? 128u : 2048u) + (unsigned)t);
        uint8_t data = (uint8_t)hdr_read32(m, 8);
        ck_assert_uint_eq(data, t % 3 == 1 ? 0xce : 0xfa);
        ck_assert_uint_eq(hdr_read32(m, 12), 0);                     /* count */
        char name[32];
        for (int i = 0; i < 31; i++)
            name[i] = (char)memmap_read(m->mem, MEMBAR + 16 + (unsigned)i, 1);
        name[31] = 0;
        ck_assert_str_eq(name, names[t]);
        /* 16 writes of the data byte at the offset are counted; other
         * data counts only for the wildcard test. */
        for (int i = 0; i < 16; i++) {
            if (io)
                iospace_write(m->io, (uint16_t)(IOBAR + off), data, 1);
            else
                memmap_write(m->mem, MEMBAR + off, data, 1);
        }
        if (io)
            iospace_write(m->io, (uint16_t)(IOBAR + off), 0x11, 1);
        else
            memmap_write(m->mem, MEMBAR + off, 0x11, 1);
        ck_assert_uint_eq(hdr_read32(m, 12), t % 3 == 1 ? 17u : 16u);
    }
    /* A test number past 2 selects nothing. */
    memmap_write(m->mem, MEMBAR, 7, 1);
    ck_assert_uint_eq(hdr_read32(m, 0), 0);
    machine_free(m);
}
END_TEST

static Suite *testdev_suite(void)
{
    Suite *s = suite_create("testdev");
    TCase *tc = tcase_create("testdev");
    tcase_add_test(tc, pc_testdev_registers);
    tcase_add_test(tc, pci_testdev_protocol);
    suite_add_tcase(s, tc);
    return s;
}
UNIT_SUITE(testdev_suite)
