/*
 * kvm-devices: port IO and MMIO reach the board's device models, guest RAM
 * keeps what is written, the BIOS ROM ignores writes.  Written for
 * tests/system/kvm-devices.sh (under -accel kvm every access below except
 * the RAM ones is a KVM exit handled by vx86's dispatcher; a ROM write is
 * an MMIO exit because the ROM slot is read-only), and valid on any PC
 * board, so it is also in images.list for the QEMU differential.
 *
 * Facts checked (values from the datasheets, not from vx86):
 *  - MC146818 CMOS: RAM bytes (index >= 0x0e) read back what was written;
 *    register D bit 7 (VRT) reads 1; the seconds register is a valid BCD
 *    or binary value < 60 according to register B bit 2 (DM).
 *  - 8254 PIT: read-back status of a counter programmed mode 2, lo/hi,
 *    binary is 0x34 in bits 5:0; a latched count is <= the initial count
 *    and the counter moves between two latches.
 *  - PCI mechanism #1: CONFIG_ADDRESS reads back, 00:00.0 is the i440FX
 *    (8086:1237, class 0600), 00:01.0 the PIIX3 ISA bridge (8086:7000,
 *    class 0601), byte/word reads of CONFIG_DATA select bytes, an absent
 *    device reads all ones.
 *  - 82093AA IOAPIC at 0xfec00000: IOREGSEL reads back, the version
 *    register says 24 redirection entries (max index 0x17), a masked
 *    redirection entry's writable bits read back.
 *  - HPET at 0xfed00000: REV_ID != 0, at least 3 timers, period non-zero
 *    and <= 100 ns (0x05F5E100 fs), the main counter runs when enabled.
 *  - Local APIC at 0xfee00000: version 0x1X (integrated), BSP APIC ID 0,
 *    TPR reads back.
 */
#include "testrom.h"

#define IOAPIC_BASE 0xfec00000u
#define HPET_BASE 0xfed00000u
#define LAPIC_BASE 0xfee00000u

static inline uint32_t mmio_read32(uint32_t addr)
{
    return *(volatile uint32_t *)(uintptr_t)addr;
}

static inline void mmio_write32(uint32_t addr, uint32_t v)
{
    *(volatile uint32_t *)(uintptr_t)addr = v;
}

static uint8_t cmos_read(uint8_t idx)
{
    outb(0x70, idx);
    return inb(0x71);
}

static void cmos_write(uint8_t idx, uint8_t v)
{
    outb(0x70, idx);
    outb(0x71, v);
}

static void test_cmos(void)
{
    uint8_t save = cmos_read(0x50);
    cmos_write(0x50, 0x5a);
    uint8_t a = cmos_read(0x50);
    cmos_write(0x50, 0xa5);
    uint8_t b = cmos_read(0x50);
    cmos_write(0x50, save);
    tprintf("cmos ram readback %02x %02x\n", a, b);
    CHECK(a == 0x5a && b == 0xa5);

    uint8_t regd = cmos_read(0x0d);
    tprintf("cmos regD.vrt=%u\n", regd >> 7);
    CHECK(regd & 0x80);

    uint8_t regb = cmos_read(0x0b);
    uint8_t sec = cmos_read(0x00);
    int binary = (regb >> 2) & 1;
    tprintf("info cmos regB=%02x sec=%02x\n", regb, sec);
    if (binary)
        CHECK(sec < 60, "binary seconds %u", sec);
    else
        CHECK((sec & 0xf) <= 9 && sec < 0x60, "BCD seconds %02x", sec);
}

static uint16_t pit_latch0(void)
{
    outb(0x43, 0x00);             /* counter latch, channel 0 */
    uint8_t lo = inb(0x40);
    uint8_t hi = inb(0x40);
    return (uint16_t)(hi << 8 | lo);
}

static void test_pit(void)
{
    pit_start(0, 2, 0x8000);      /* rate generator, lo/hi, count 0x8000 */
    outb(0x43, 0xe2);             /* read-back: status only, channel 0 */
    uint8_t st = inb(0x40);
    tprintf("pit status=%02x\n", st & 0x3f);
    CHECK((st & 0x3f) == 0x34, "status %02x", st);

    uint16_t c1 = pit_latch0();
    CHECK(c1 <= 0x8000, "count %04x", c1);
    uint16_t c2 = c1;
    for (int i = 0; i < 100000 && c2 == c1; i++)
        c2 = pit_latch0();
    tprintf("pit counter moves=%u\n", c2 != c1);
    CHECK(c2 != c1);
    outb(0x43, 0x30);             /* channel 0 mode 0, stop reloading */
}

static uint32_t pci_read32(uint32_t bdf_off)
{
    outl(0xcf8, 0x80000000u | bdf_off);
    return inl(0xcfc);
}

static void test_pci(void)
{
    outl(0xcf8, 0x80000008u);
    uint32_t addr = inl(0xcf8);
    CHECK(addr == 0x80000008u, "CONFIG_ADDRESS %08x", addr);

    uint32_t id0 = pci_read32(0x000), cls0 = pci_read32(0x008);
    uint32_t id1 = pci_read32(0x800), cls1 = pci_read32(0x808);
    uint32_t absent = pci_read32(31 << 11);
    tprintf("pci 00:00.0 id=%08x class=%04x\n", id0, cls0 >> 16);
    tprintf("pci 00:01.0 id=%08x class=%04x\n", id1, cls1 >> 16);
    tprintf("pci 00:1f.0 id=%08x\n", absent);
    CHECK(id0 == 0x12378086u && cls0 >> 16 == 0x0600);
    CHECK(id1 == 0x70008086u && cls1 >> 16 == 0x0601);
    CHECK(absent == 0xffffffffu);

    outl(0xcf8, 0x80000000u);
    uint8_t b0 = inb(0xcfc), b3 = inb(0xcff);
    uint16_t w2 = inw(0xcfe);
    tprintf("pci bytes %02x %02x word %04x\n", b0, b3, w2);
    CHECK(b0 == 0x86 && b3 == 0x12 && w2 == 0x1237);
}

static uint32_t ioapic_read(uint8_t reg)
{
    mmio_write32(IOAPIC_BASE, reg);
    return mmio_read32(IOAPIC_BASE + 0x10);
}

static void ioapic_write(uint8_t reg, uint32_t v)
{
    mmio_write32(IOAPIC_BASE, reg);
    mmio_write32(IOAPIC_BASE + 0x10, v);
}

static void test_ioapic(void)
{
    uint32_t ver = ioapic_read(0x01);
    uint32_t sel = mmio_read32(IOAPIC_BASE);
    tprintf("ioapic ioregsel=%02x maxredir=%02x\n", sel & 0xff, (ver >> 16) & 0xff);
    tprintf("info ioapic version=%02x\n", ver & 0xff);
    CHECK((sel & 0xff) == 0x01);
    CHECK(((ver >> 16) & 0xff) == 0x17, "version register %08x", ver);

    uint8_t pin5 = 0x10 + 2 * 5;
    uint32_t save = ioapic_read(pin5);
    ioapic_write(pin5, 0x00010035u);          /* masked, fixed, vector 0x35 */
    uint32_t rb = ioapic_read(pin5);
    ioapic_write(pin5, save);
    tprintf("ioapic redir5=%08x\n", rb);
    CHECK(rb == 0x00010035u);
}

static void test_hpet(void)
{
    uint32_t cap = mmio_read32(HPET_BASE), period = mmio_read32(HPET_BASE + 4);
    unsigned timers = ((cap >> 8) & 0x1f) + 1;
    tprintf("hpet rev!=0 %u timers>=3 %u period ok %u\n", (cap & 0xff) != 0, timers >= 3,
            period != 0 && period <= 0x05f5e100u);
    tprintf("info hpet cap=%08x period=%u fs\n", cap, period);
    CHECK((cap & 0xff) != 0);
    CHECK(timers >= 3, "%u timers", timers);
    CHECK(period != 0 && period <= 0x05f5e100u, "period %u", period);

    uint32_t cfg = mmio_read32(HPET_BASE + 0x10);
    mmio_write32(HPET_BASE + 0x10, cfg | 1);     /* ENABLE_CNF */
    uint32_t t1 = mmio_read32(HPET_BASE + 0xf0), t2 = t1;
    for (int i = 0; i < 100000 && t2 == t1; i++)
        t2 = mmio_read32(HPET_BASE + 0xf0);
    mmio_write32(HPET_BASE + 0x10, cfg);
    tprintf("hpet counter runs=%u\n", t2 != t1);
    CHECK(t2 != t1);
}

static void test_lapic(void)
{
    uint32_t ver = mmio_read32(LAPIC_BASE + 0x30);
    uint32_t id = mmio_read32(LAPIC_BASE + 0x20);
    tprintf("lapic integrated=%u maxlvt>=3 %u id=%u\n", (ver & 0xf0) == 0x10,
            ((ver >> 16) & 0xff) >= 3, id >> 24);
    tprintf("info lapic version=%08x\n", ver);
    CHECK((ver & 0xf0) == 0x10, "version %08x", ver);
    CHECK(((ver >> 16) & 0xff) >= 3);
    CHECK(id >> 24 == 0, "id %08x", id);

    mmio_write32(LAPIC_BASE + 0x80, 0x20);
    uint32_t tpr = mmio_read32(LAPIC_BASE + 0x80);
    mmio_write32(LAPIC_BASE + 0x80, 0);
    tprintf("lapic tpr=%02x\n", tpr & 0xff);
    CHECK((tpr & 0xff) == 0x20);
}

static void test_ram(void)
{
    static const uint32_t addrs[] = { 0x7c00, 0x200000, 0x1000000, 0x3fff000 };
    for (unsigned i = 0; i < sizeof(addrs) / sizeof(addrs[0]); i++) {
        volatile uint32_t *p = (volatile uint32_t *)(uintptr_t)addrs[i];
        volatile uint8_t *b = (volatile uint8_t *)p;
        p[0] = 0xdeadbeef ^ addrs[i];
        p[1] = 0x01234567;
        b[5] = 0xaa;                         /* byte store inside the dword */
        int ok = p[0] == (0xdeadbeef ^ addrs[i]) && p[1] == 0x0123aa67;
        tprintf("ram %08x ok=%u\n", addrs[i], ok);
        CHECK(ok, "%08x: %08x %08x", addrs[i], p[0], p[1]);
    }
}

static void test_rom(void)
{
    /* The reset vector (JMP FAR = 0xEA) at both aliases of the image. */
    volatile uint8_t *low = (volatile uint8_t *)0xffff0;
    volatile uint8_t *high = (volatile uint8_t *)0xfffffff0u;
    volatile uint32_t *low32 = (volatile uint32_t *)0xffff0;
    uint8_t l0 = low[0], h0 = high[0];
    uint32_t d0 = *low32;
    low[0] = 0x90;
    high[0] = 0x90;
    *low32 = 0x12345678;
    uint32_t code = *(volatile uint32_t *)(uintptr_t)0xf0000;
    *(volatile uint32_t *)(uintptr_t)0xf0000 = ~code;
    tprintf("rom reset byte low=%02x high=%02x\n", l0, h0);
    tprintf("rom after writes low=%02x high=%02x same=%u\n", low[0], high[0],
            *low32 == d0 && *(volatile uint32_t *)(uintptr_t)0xf0000 == code);
    CHECK(l0 == 0xea && h0 == 0xea);
    CHECK(low[0] == 0xea && high[0] == 0xea && *low32 == d0);
    CHECK(*(volatile uint32_t *)(uintptr_t)0xf0000 == code);
}

int main(void)
{
    test_cmos();
    test_pit();
    test_pci();
    test_ioapic();
    test_hpet();
    test_lapic();
    test_ram();
    test_rom();
    return test_result();
}
