/* i440FX PAM: the shadow windows of 0xC0000-0xFFFFF, driven through
 * configuration mechanism #1 as firmware does.  The "bus" below the
 * windows is a ROM filled with 0xAA over 0xE0000-0xFFFFF (the board's
 * BIOS alias); 0xC0000-0xDFFFF has nothing on the bus.  DRAM behind the
 * windows starts as 0x55. */
#include <stdlib.h>
#include <string.h>

#include "core/machine.h"
#include "hw/i440fx.h"
#include "hw/pci.h"
#include "tests/unit/unit.h"

typedef struct Rig {
    Machine *m;
    I440FXState *hb;
    uint8_t rom[0x20000];
} Rig;

static Rig *rig_new(void)
{
    char err[128];
    Rig *r = calloc(1, sizeof(*r));
    r->m = machine_new(2 << 20, CLOCK_MANUAL, err, sizeof err);
    ck_assert_ptr_nonnull(r->m);
    memset(r->m->ram + 0xc0000, 0x55, 0x40000);
    memset(r->rom, 0xaa, sizeof r->rom);
    ck_assert_ptr_nonnull(memmap_add_ram(r->m->mem, "ram", 0, 0xa0000, r->m->ram, NULL));
    ck_assert_ptr_nonnull(memmap_add_rom(r->m->mem, "isa-bios", 0xe0000, sizeof r->rom,
                                         r->rom, NULL));
    PCIBus *bus = pci_bus_new(r->m);
    r->hb = i440fx_create(r->m, bus, I440FX_CONFIG_ADDRESS);
    ck_assert_ptr_nonnull(r->hb);
    return r;
}

static void rig_free(Rig *r)
{
    machine_free(r->m);
    free(r);
}

static void cfg_writeb(Rig *r, unsigned reg, uint8_t v)
{
    iospace_write(r->m->io, 0xcf8, 0x80000000u | (reg & 0xfc), 4);
    iospace_write(r->m->io, (uint16_t)(0xcfc + (reg & 3)), v, 1);
}

static uint8_t cfg_readb(Rig *r, unsigned reg)
{
    iospace_write(r->m->io, 0xcf8, 0x80000000u | (reg & 0xfc), 4);
    return (uint8_t)iospace_read(r->m->io, (uint16_t)(0xcfc + (reg & 3)), 1);
}

static uint8_t rd8(Rig *r, uint64_t a) { return (uint8_t)memmap_read(r->m->mem, a, 1); }
static void wr8(Rig *r, uint64_t a, uint8_t v) { memmap_write(r->m->mem, a, v, 1); }

START_TEST(reset_sends_everything_to_the_bus)
{
    Rig *r = rig_new();
    for (int i = 0; i < 7; i++)
        ck_assert_uint_eq(cfg_readb(r, 0x59 + i), 0);
    ck_assert_uint_eq(rd8(r, 0xf0000), 0xaa);        /* the ROM */
    ck_assert_uint_eq(rd8(r, 0xc0000), 0xff);        /* nothing there */
    wr8(r, 0xf0000, 0x11);
    ck_assert_uint_eq(r->m->ram[0xf0000], 0x55);     /* DRAM untouched */
    ck_assert_uint_eq(rd8(r, 0xf0000), 0xaa);
    rig_free(r);
}
END_TEST

START_TEST(f_segment_attributes)
{
    Rig *r = rig_new();
    /* Write-only: reads still from the ROM, writes fill DRAM. */
    cfg_writeb(r, 0x59, 0x20);
    wr8(r, 0xf1234, 0x11);
    ck_assert_uint_eq(r->m->ram[0xf1234], 0x11);
    ck_assert_uint_eq(rd8(r, 0xf1234), 0xaa);
    ck_assert_uint_eq(memmap_read(r->m->mem, 0xffff0, 4), 0xaaaaaaaau);
    /* Read-only: reads the copy in DRAM, writes are dropped. */
    cfg_writeb(r, 0x59, 0x10);
    ck_assert_uint_eq(rd8(r, 0xf1234), 0x11);
    ck_assert_uint_eq(rd8(r, 0xf0000), 0x55);
    wr8(r, 0xf1234, 0x22);
    ck_assert_uint_eq(rd8(r, 0xf1234), 0x11);
    /* RAM: both. */
    cfg_writeb(r, 0x59, 0x30);
    wr8(r, 0xf1234, 0x33);
    ck_assert_uint_eq(rd8(r, 0xf1234), 0x33);
    ck_assert_uint_eq(r->m->ram[0xf1234], 0x33);
    /* Off again: the ROM shows through, DRAM keeps what was written. */
    cfg_writeb(r, 0x59, 0x00);
    ck_assert_uint_eq(rd8(r, 0xf1234), 0xaa);
    ck_assert_uint_eq(r->m->ram[0xf1234], 0x33);
    /* PAM0 bits 3:0 are reserved: they read 0. */
    cfg_writeb(r, 0x59, 0xff);
    ck_assert_uint_eq(cfg_readb(r, 0x59), 0x30);
    rig_free(r);
}
END_TEST

/* Twelve 16 KiB segments from 0xC0000: PAM1..PAM6, low nibble first. */
START_TEST(sixteen_kib_granularity)
{
    Rig *r = rig_new();
    for (int seg = 0; seg < 12; seg++) {
        uint64_t base = 0xc0000 + (uint64_t)seg * 0x4000;
        unsigned reg = 0x5a + seg / 2;
        uint8_t v = seg & 1 ? 0x30 : 0x03;
        cfg_writeb(r, reg, v);
        wr8(r, base, (uint8_t)seg);
        wr8(r, base + 0x3fff, (uint8_t)(0x80 | seg));
        ck_assert_uint_eq(rd8(r, base), seg);
        ck_assert_uint_eq(rd8(r, base + 0x3fff), 0x80 | seg);
        /* The neighbours are still on the bus. */
        if (seg < 11) {
            uint8_t want = base + 0x4000 >= 0xe0000 ? 0xaa : 0xff;
            ck_assert_uint_eq(rd8(r, base + 0x4000), want);
            wr8(r, base + 0x4000, 0x77);
            ck_assert_uint_eq(r->m->ram[base + 0x4000], 0x55);
        }
        ck_assert_uint_eq(rd8(r, 0xf0000), 0xaa);
        cfg_writeb(r, reg, 0);
        ck_assert_uint_eq(rd8(r, base), base >= 0xe0000 ? 0xaa : 0xff);
        ck_assert_uint_eq(r->m->ram[base], seg);
    }
    rig_free(r);
}
END_TEST

/* SeaBIOS's sequence: everything to RAM, copy the image in, then make the
 * F segment read-only; a machine reset puts the bus back. */
START_TEST(shadow_then_reset)
{
    Rig *r = rig_new();
    cfg_writeb(r, 0x59, 0x30);
    for (int i = 1; i < 7; i++)
        cfg_writeb(r, 0x59 + i, 0x33);
    ck_assert(memmap_write_buf(r->m->mem, 0xc0000, r->rom, sizeof r->rom));
    ck_assert_uint_eq(rd8(r, 0xdffff), 0xaa);
    cfg_writeb(r, 0x59, 0x10);
    wr8(r, 0xfffff, 0);
    ck_assert_uint_eq(rd8(r, 0xf0000), 0x55);           /* DRAM, not ROM */
    ck_assert_uint_eq(rd8(r, 0xfffff), 0x55);
    machine_reset_devices(r->m);
    ck_assert_uint_eq(cfg_readb(r, 0x5a), 0);
    ck_assert_uint_eq(rd8(r, 0xc0000), 0xff);
    ck_assert_uint_eq(rd8(r, 0xf0000), 0xaa);
    rig_free(r);
}
END_TEST

/* With less than 1 MiB of RAM there is no DRAM behind the windows: the
 * registers still work, nothing is mapped. */
START_TEST(small_ram_maps_nothing)
{
    char err[128];
    Machine *m = machine_new(512 << 10, CLOCK_MANUAL, err, sizeof err);
    ck_assert_ptr_nonnull(m);
    PCIBus *bus = pci_bus_new(m);
    ck_assert_ptr_nonnull(i440fx_create(m, bus, I440FX_CONFIG_ADDRESS));
    iospace_write(m->io, 0xcf8, 0x80000058u, 4);
    iospace_write(m->io, 0xcfd, 0x30, 1);
    ck_assert_ptr_null(memmap_find(m->mem, 0xf0000));
    machine_free(m);
}
END_TEST

static Suite *pam_suite(void)
{
    Suite *s = suite_create("i440fx-pam");
    TCase *tc = tcase_create("core");
    tcase_add_test(tc, reset_sends_everything_to_the_bus);
    tcase_add_test(tc, f_segment_attributes);
    tcase_add_test(tc, sixteen_kib_granularity);
    tcase_add_test(tc, shadow_then_reset);
    tcase_add_test(tc, small_ram_maps_nothing);
    suite_add_tcase(s, tc);
    return s;
}

UNIT_SUITE(pam_suite)
