/* The 8237A ISA DMA controllers, driven through their ports as a BIOS does;
 * expected values from Intel's 8237A datasheet and the PC/AT page-register
 * map. */
#include <stdlib.h>
#include <string.h>

#include "core/machine.h"
#include "hw/i8237.h"
#include "tests/unit/unit.h"

typedef struct Dev {
    I8237State *dma;
    int channel;
    int calls;
    const uint8_t *data;        /* what the device pushes to memory */
    size_t len, moved;
    bool tc;
} Dev;

static void dev_ready(void *opaque)
{
    Dev *d = opaque;
    d->calls++;
    d->moved = i8237_write_memory(d->dma, d->channel, d->data, d->len, &d->tc);
    i8237_request(d->dma, d->channel, false);
}

static Machine *new_machine(I8237State **dma)
{
    char err[128];
    Machine *m = machine_new(4 << 20, CLOCK_MANUAL, err, sizeof err);
    ck_assert_ptr_nonnull(m);
    ck_assert_ptr_nonnull(memmap_add_ram(m->mem, "ram", 0, m->ram_size, m->ram, NULL));
    *dma = i8237_create(m, 0x00, 0xc0, 0x80, err, sizeof err);
    ck_assert_ptr_nonnull(*dma);
    return m;
}

static void out8(Machine *m, uint16_t port, uint8_t v) { iospace_write(m->io, port, v, 1); }
static uint8_t in8(Machine *m, uint16_t port) { return (uint8_t)iospace_read(m->io, port, 1); }

/* Programs byte channel c (0-3) as a BIOS does: mask, mode, flip-flop,
 * address, count, page. */
static void program8(Machine *m, int c, uint8_t mode, uint32_t addr, uint16_t count)
{
    static const uint8_t page_port[4] = { 0x87, 0x83, 0x81, 0x82 };
    out8(m, 0x0a, (uint8_t)(0x04 | c));
    out8(m, 0x0b, (uint8_t)(mode | c));
    out8(m, 0x0c, 0);
    out8(m, (uint16_t)(c * 2), (uint8_t)addr);
    out8(m, (uint16_t)(c * 2), (uint8_t)(addr >> 8));
    out8(m, (uint16_t)(c * 2 + 1), (uint8_t)count);
    out8(m, (uint16_t)(c * 2 + 1), (uint8_t)(count >> 8));
    out8(m, page_port[c], (uint8_t)(addr >> 16));
}

START_TEST(byte_channel_write_transfer_stops_at_terminal_count)
{
    I8237State *dma;
    Machine *m = new_machine(&dma);
    uint8_t data[600];
    for (size_t i = 0; i < sizeof data; i++)
        data[i] = (uint8_t)(i * 7 + 1);
    Dev d = { dma, 2, 0, data, sizeof data, 0, false };
    i8237_connect(dma, 2, dev_ready, &d);
    program8(m, 2, 0x44, 0x12340, 511);          /* single mode, write, 512 bytes */
    i8237_request(dma, 2, true);
    ck_assert_int_eq(d.calls, 0);                /* still masked: no transfer */
    out8(m, 0x0a, 0x02);                         /* unmask channel 2 */
    ck_assert_int_eq(d.calls, 1);
    ck_assert_uint_eq(d.moved, 512);
    ck_assert(d.tc);
    ck_assert_mem_eq(m->ram + 0x12340, data, 512);
    ck_assert_uint_eq(m->ram[0x12340 + 512], 0);
    /* Status: TC of channel 2, cleared by reading it. */
    ck_assert_uint_eq(in8(m, 0x08) & 0x0f, 0x04);
    ck_assert_uint_eq(in8(m, 0x08) & 0x0f, 0x00);
    /* No auto-initialise: the channel masked itself; the current address
     * moved past the block and the count wrapped to 0xffff. */
    ck_assert_uint_eq(in8(m, 0x0f) & 0x04, 0x04);
    out8(m, 0x0c, 0);
    uint16_t a = in8(m, 0x04);
    a |= (uint16_t)(in8(m, 0x04) << 8);
    ck_assert_uint_eq(a, (0x12340 + 512) & 0xffff);
    uint16_t cnt = in8(m, 0x05);
    cnt |= (uint16_t)(in8(m, 0x05) << 8);
    ck_assert_uint_eq(cnt, 0xffff);
    machine_free(m);
}
END_TEST

START_TEST(address_wraps_inside_the_page)
{
    I8237State *dma;
    Machine *m = new_machine(&dma);
    const uint8_t data[4] = { 0xa1, 0xa2, 0xa3, 0xa4 };
    Dev d = { dma, 1, 0, data, 4, 0, false };
    i8237_connect(dma, 1, dev_ready, &d);
    program8(m, 1, 0x44, 0x2fffe, 3);
    out8(m, 0x0a, 0x01);
    i8237_request(dma, 1, true);
    ck_assert_uint_eq(d.moved, 4);
    ck_assert_uint_eq(m->ram[0x2fffe], 0xa1);
    ck_assert_uint_eq(m->ram[0x2ffff], 0xa2);
    ck_assert_uint_eq(m->ram[0x20000], 0xa3);    /* no carry into the page */
    ck_assert_uint_eq(m->ram[0x20001], 0xa4);
    ck_assert_uint_eq(m->ram[0x30000], 0);
    machine_free(m);
}
END_TEST

START_TEST(autoinit_reloads_and_stays_unmasked)
{
    I8237State *dma;
    Machine *m = new_machine(&dma);
    const uint8_t data[8] = { 1, 2, 3, 4, 5, 6, 7, 8 };
    program8(m, 3, 0x54, 0x1000, 3);             /* write + auto-initialise */
    out8(m, 0x0a, 0x03);
    bool tc;
    ck_assert_uint_eq(i8237_write_memory(dma, 3, data, 8, &tc), 4);
    ck_assert(tc);
    ck_assert(i8237_channel_ready(dma, 3));
    ck_assert_uint_eq(i8237_write_memory(dma, 3, data + 4, 4, &tc), 4);
    ck_assert_mem_eq(m->ram + 0x1000, data + 4, 4);   /* same block again */
    machine_free(m);
}
END_TEST

START_TEST(decrement_mode_goes_down)
{
    I8237State *dma;
    Machine *m = new_machine(&dma);
    const uint8_t data[3] = { 0x11, 0x22, 0x33 };
    program8(m, 0, 0x64, 0x5002, 2);             /* write, decrement */
    out8(m, 0x0a, 0x00);
    bool tc;
    ck_assert_uint_eq(i8237_write_memory(dma, 0, data, 3, &tc), 3);
    ck_assert(tc);
    ck_assert_uint_eq(m->ram[0x5002], 0x11);
    ck_assert_uint_eq(m->ram[0x5001], 0x22);
    ck_assert_uint_eq(m->ram[0x5000], 0x33);
    machine_free(m);
}
END_TEST

START_TEST(direction_must_match_the_mode)
{
    I8237State *dma;
    Machine *m = new_machine(&dma);
    memcpy(m->ram + 0x8000, "hello", 5);
    program8(m, 2, 0x48, 0x8000, 4);             /* read transfer: memory -> device */
    out8(m, 0x0a, 0x02);
    uint8_t buf[5] = { 0 };
    bool tc;
    ck_assert_uint_eq(i8237_write_memory(dma, 2, "xxxxx", 5, &tc), 0);
    ck_assert_mem_eq(m->ram + 0x8000, "hello", 5);
    ck_assert_uint_eq(i8237_read_memory(dma, 2, buf, 5, &tc), 5);
    ck_assert(tc);
    ck_assert_mem_eq(buf, "hello", 5);
    machine_free(m);
}
END_TEST

START_TEST(word_channel_addresses_words)
{
    I8237State *dma;
    Machine *m = new_machine(&dma);
    const uint8_t data[6] = { 1, 2, 3, 4, 5, 6 };
    /* Channel 5 = channel 1 of the word controller: registers at
     * 0xc0 + 2 * reg; page register 0x8b (bit 0 ignored). */
    out8(m, 0xd4, 0x05);                         /* mask */
    out8(m, 0xd6, 0x45);                         /* mode: single, write, ch 1 */
    out8(m, 0xd8, 0);                            /* flip-flop */
    out8(m, 0xc4, 0x00);
    out8(m, 0xc4, 0x08);                         /* word address 0x0800 */
    out8(m, 0xc6, 2);
    out8(m, 0xc6, 0);                            /* 3 words */
    out8(m, 0x8b, 0x03);                         /* page 3 -> 0x020000 */
    out8(m, 0xd4, 0x01);                         /* unmask */
    bool tc;
    ck_assert_uint_eq(i8237_write_memory(dma, 5, data, 6, &tc), 6);
    ck_assert(tc);
    ck_assert_mem_eq(m->ram + 0x21000, data, 6);
    machine_free(m);
}
END_TEST

START_TEST(master_clear_masks_everything)
{
    I8237State *dma;
    Machine *m = new_machine(&dma);
    out8(m, 0x0e, 0);                            /* clear all masks */
    ck_assert_uint_eq(in8(m, 0x0f) & 0x0f, 0x00);
    ck_assert(i8237_channel_ready(dma, 2));
    out8(m, 0x08, 0x04);                         /* command: controller disable */
    ck_assert(!i8237_channel_ready(dma, 2));
    out8(m, 0x0d, 0);                            /* master clear */
    ck_assert_uint_eq(in8(m, 0x0f) & 0x0f, 0x0f);
    ck_assert(!i8237_channel_ready(dma, 2));
    out8(m, 0x0f, 0x0b);                         /* write all masks: 2 open */
    ck_assert(i8237_channel_ready(dma, 2));
    ck_assert(!i8237_channel_ready(dma, 1));
    machine_free(m);
}
END_TEST

START_TEST(address_outside_ram_is_harmless)
{
    I8237State *dma;
    Machine *m = new_machine(&dma);
    uint8_t data[4096];
    memset(data, 0x5a, sizeof data);
    program8(m, 2, 0x44, 0xff0000, 0xffff);      /* page 0xff: 16 MiB, RAM is 4 MiB */
    out8(m, 0x0a, 0x02);
    bool tc;
    ck_assert_uint_eq(i8237_write_memory(dma, 2, data, sizeof data, &tc), sizeof data);
    ck_assert(!tc);
    machine_free(m);
}
END_TEST

START_TEST(state_survives_save_and_load)
{
    I8237State *da, *db;
    Machine *a = new_machine(&da), *b = new_machine(&db);
    program8(a, 2, 0x44, 0x34567, 1234);
    out8(a, 0x0a, 0x02);
    VMBuf buf;
    vmbuf_init(&buf);
    machine_save_devices(a, &buf);
    char *err = NULL;
    ck_assert_int_eq(machine_load_devices(b, buf.data, buf.len, &err), 0);
    ck_assert(i8237_channel_ready(db, 2));
    ck_assert_uint_eq(in8(b, 0x81), 0x03);
    out8(b, 0x0c, 0);
    ck_assert_uint_eq(in8(b, 0x05), 1234 & 0xff);
    ck_assert_uint_eq(in8(b, 0x05), 1234 >> 8);
    vmbuf_free(&buf);
    machine_free(a);
    machine_free(b);
}
END_TEST

static Suite *i8237_suite(void)
{
    Suite *s = suite_create("i8237");
    TCase *tc = tcase_create("i8237");
    tcase_add_test(tc, byte_channel_write_transfer_stops_at_terminal_count);
    tcase_add_test(tc, address_wraps_inside_the_page);
    tcase_add_test(tc, autoinit_reloads_and_stays_unmasked);
    tcase_add_test(tc, decrement_mode_goes_down);
    tcase_add_test(tc, direction_must_match_the_mode);
    tcase_add_test(tc, word_channel_addresses_words);
    tcase_add_test(tc, master_clear_masks_everything);
    tcase_add_test(tc, address_outside_ram_is_harmless);
    tcase_add_test(tc, state_survives_save_and_load);
    suite_add_tcase(s, tc);
    return s;
}
UNIT_SUITE(i8237_suite)
