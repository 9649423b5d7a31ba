/* fw_cfg: signature, ID, file directory, IO and DMA reads, DMA checks. */
#include <stdlib.h>
#include <string.h>

#include "core/machine.h"
#include "hw/fwcfg.h"
#include "tests/unit/unit.h"

typedef struct FwBench {
    Machine *m;
    FWCfgState *fw;
    int selects;
    uint16_t last_key;
} FwBench;

static FwBench *fw_new(void)
{
    char err[128];
    FwBench *b = calloc(1, sizeof(*b));
    b->m = machine_new(1 << 20, CLOCK_MANUAL, err, sizeof(err));
    ck_assert_ptr_nonnull(b->m);
    ck_assert_ptr_nonnull(memmap_add_ram(b->m->mem, "ram", 0, b->m->ram_size, b->m->ram, NULL));
    b->fw = fwcfg_create(b->m, FW_CFG_PORT_SEL, FW_CFG_PORT_DMA);
    ck_assert_ptr_nonnull(b->fw);
    return b;
}

static void fw_free(FwBench *b)
{
    machine_free(b->m);
    free(b);
}

static void fw_select(FwBench *b, uint16_t key)
{
    iospace_write(b->m->io, FW_CFG_PORT_SEL, key, 2);
}

static void fw_read(FwBench *b, void *buf, size_t n)
{
    uint8_t *p = buf;
    for (size_t i = 0; i < n; i++)
        p[i] = (uint8_t)iospace_read(b->m->io, FW_CFG_PORT_DATA, 1);
}

static uint32_t be32(const uint8_t *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static void put_be32(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)(v >> 24); p[1] = (uint8_t)(v >> 16); p[2] = (uint8_t)(v >> 8); p[3] = (uint8_t)v;
}

/* Builds an FWCfgDmaAccess at desc in guest RAM and kicks it off the way
 * a guest does: big-endian halves through outl. */
static uint32_t fw_dma(FwBench *b, uint64_t desc, uint32_t control, uint32_t len, uint64_t addr)
{
    uint8_t d[16];
    put_be32(d, control);
    put_be32(d + 4, len);
    put_be32(d + 8, (uint32_t)(addr >> 32));
    put_be32(d + 12, (uint32_t)addr);
    if (desc + 16 <= b->m->ram_size)
        memcpy(b->m->ram + desc, d, 16);
    iospace_write(b->m->io, FW_CFG_PORT_DMA, __builtin_bswap32((uint32_t)(desc >> 32)), 4);
    iospace_write(b->m->io, FW_CFG_PORT_DMA + 4, __builtin_bswap32((uint32_t)desc), 4);
    return desc + 16 <= b->m->ram_size ? be32(b->m->ram + desc) : 0xdeadbeef;
}

START_TEST(signature_and_id)
{
    FwBench *b = fw_new();
    char sig[5] = { 0 };
    fw_select(b, FW_CFG_SIGNATURE);
    fw_read(b, sig, 4);
    ck_assert_str_eq(sig, "QEMU");
    ck_assert_uint_eq(iospace_read(b->m->io, FW_CFG_PORT_DATA, 1), 0);   /* past the end */
    uint8_t id[4];
    fw_select(b, FW_CFG_ID);
    fw_read(b, id, 4);
    ck_assert_uint_eq(id[0] & FW_CFG_ID_DMA, FW_CFG_ID_DMA);
    /* the DMA register reads "QEMU CFG" */
    char dsig[9] = { 0 };
    for (int i = 0; i < 8; i++)
        dsig[i] = (char)iospace_read(b->m->io, (uint16_t)(FW_CFG_PORT_DMA + i), 1);
    ck_assert_str_eq(dsig, "QEMU CFG");
    fw_free(b);
}
END_TEST

START_TEST(numeric_items_little_endian)
{
    FwBench *b = fw_new();
    ck_assert(fwcfg_add_i64(b->fw, FW_CFG_RAM_SIZE, 0x1122334455667788ULL));
    fw_select(b, FW_CFG_RAM_SIZE);
    uint8_t v[8];
    fw_read(b, v, 8);
    ck_assert_uint_eq(v[0], 0x88);
    ck_assert_uint_eq(v[7], 0x11);
    /* reselecting restarts at offset 0 */
    fw_select(b, FW_CFG_RAM_SIZE);
    ck_assert_uint_eq(iospace_read(b->m->io, FW_CFG_PORT_DATA, 1), 0x88);
    fw_free(b);
}
END_TEST

START_TEST(file_dir_lookup_and_io_read)
{
    FwBench *b = fw_new();
    const char *text = "hello firmware";
    ck_assert_int_eq(fwcfg_add_file(b->fw, "etc/a", "xy", 2), 0x20);
    int key = fwcfg_add_file(b->fw, "opt/test/greeting", text, strlen(text));
    ck_assert_int_eq(key, 0x21);
    ck_assert_int_eq(fwcfg_add_file(b->fw, "etc/a", "z", 1), -1);        /* duplicate */
    /* walk the directory like firmware does */
    fw_select(b, FW_CFG_FILE_DIR);
    uint8_t cnt[4];
    fw_read(b, cnt, 4);
    ck_assert_uint_eq(be32(cnt), 2);
    int found = -1;
    uint32_t size = 0;
    for (int i = 0; i < 2; i++) {
        uint8_t e[64];
        fw_read(b, e, 64);
        if (!strcmp((char *)e + 8, "opt/test/greeting")) {
            size = be32(e);
            found = e[4] << 8 | e[5];
        }
    }
    ck_assert_int_eq(found, key);
    ck_assert_uint_eq(size, strlen(text));
    char buf[32] = { 0 };
    fw_select(b, (uint16_t)found);
    fw_read(b, buf, size);
    ck_assert_str_eq(buf, text);
    fw_free(b);
}
END_TEST

START_TEST(dma_select_read_and_skip)
{
    FwBench *b = fw_new();
    uint8_t blob[300];
    for (int i = 0; i < 300; i++)
        blob[i] = (uint8_t)(i * 7);
    int key = fwcfg_add_file(b->fw, "etc/blob", blob, sizeof(blob));
    memset(b->m->ram + 0x2000, 0xee, 400);
    uint32_t ctl = fw_dma(b, 0x1000, (uint32_t)key << 16 | FW_CFG_DMA_CTL_SELECT |
                          FW_CFG_DMA_CTL_READ, 100, 0x2000);
    ck_assert_uint_eq(ctl, 0);                           /* done, no error */
    ck_assert_mem_eq(b->m->ram + 0x2000, blob, 100);
    ck_assert_uint_eq(b->m->ram[0x2000 + 100], 0xee);    /* nothing beyond length */
    ctl = fw_dma(b, 0x1000, FW_CFG_DMA_CTL_SKIP, 50, 0);
    ck_assert_uint_eq(ctl, 0);
    /* continue where skip left off; the tail past the item reads as zeros */
    ctl = fw_dma(b, 0x1000, FW_CFG_DMA_CTL_READ, 160, 0x3000);
    ck_assert_uint_eq(ctl, 0);
    ck_assert_mem_eq(b->m->ram + 0x3000, blob + 150, 150);
    ck_assert_uint_eq(b->m->ram[0x3000 + 155], 0);
    /* IO reads continue at the same offset (end of item) */
    ck_assert_uint_eq(iospace_read(b->m->io, FW_CFG_PORT_DATA, 1), 0);
    fw_free(b);
}
END_TEST

START_TEST(dma_out_of_ram_rejected)
{
    FwBench *b = fw_new();
    int key = fwcfg_add_file(b->fw, "etc/blob", "0123456789", 10);
    /* destination past the end of RAM: error bit, nothing written */
    uint32_t ctl = fw_dma(b, 0x1000, (uint32_t)key << 16 | FW_CFG_DMA_CTL_SELECT |
                          FW_CFG_DMA_CTL_READ, 10, b->m->ram_size - 4);
    ck_assert_uint_eq(ctl & FW_CFG_DMA_CTL_ERROR, FW_CFG_DMA_CTL_ERROR);
    ctl = fw_dma(b, 0x1000, FW_CFG_DMA_CTL_READ, 0x1000, 0xfffffffffffff000ULL);
    ck_assert_uint_eq(ctl & FW_CFG_DMA_CTL_ERROR, FW_CFG_DMA_CTL_ERROR);
    /* writes are refused */
    ctl = fw_dma(b, 0x1000, FW_CFG_DMA_CTL_WRITE, 4, 0x2000);
    ck_assert_uint_eq(ctl & FW_CFG_DMA_CTL_ERROR, FW_CFG_DMA_CTL_ERROR);
    /* descriptor itself outside RAM: dropped without a crash */
    fw_dma(b, 0x7ffffff0ULL, FW_CFG_DMA_CTL_READ, 4, 0x2000);
    fw_dma(b, b->m->ram_size - 8, FW_CFG_DMA_CTL_READ, 4, 0x2000);
    fw_free(b);
}
END_TEST

static void count_select(void *opaque, FWCfgState *s, uint16_t key)
{
    FwBench *b = opaque;
    b->selects++;
    b->last_key = key;
    /* refresh the item before the guest reads it */
    fwcfg_update_file(s, "etc/live", "new!", 4);
}

START_TEST(select_hook_refreshes_file)
{
    FwBench *b = fw_new();
    int key = fwcfg_add_file(b->fw, "etc/live", "old", 3);
    fwcfg_set_select_hook(b->fw, count_select, b);
    fw_select(b, (uint16_t)key);
    ck_assert_int_eq(b->selects, 1);
    ck_assert_uint_eq(b->last_key, key);
    char buf[5] = { 0 };
    fw_read(b, buf, 4);
    ck_assert_str_eq(buf, "new!");
    fw_free(b);
}
END_TEST

START_TEST(fwcfg_save_load)
{
    FwBench *b = fw_new();
    int key = fwcfg_add_file(b->fw, "etc/blob", "abcdef", 6);
    fw_select(b, (uint16_t)key);
    fw_read(b, (char[2]){ 0 }, 2);
    VMBuf vb;
    vmbuf_init(&vb);
    machine_save_devices(b->m, &vb);
    machine_reset_devices(b->m);
    char *err = NULL;
    ck_assert_int_eq(machine_load_devices(b->m, vb.data, vb.len, &err), 0);
    ck_assert_uint_eq(iospace_read(b->m->io, FW_CFG_PORT_DATA, 1), 'c');
    vb.data[vb.len - 2] ^= 0x40;
    ck_assert_int_eq(machine_load_devices(b->m, vb.data, vb.len, &err), -1);
    free(err);
    vmbuf_free(&vb);
    fw_free(b);
}
END_TEST

static Suite *fwcfg_suite(void)
{
    Suite *s = suite_create("fwcfg");
    TCase *tc = tcase_create("core");
    tcase_add_test(tc, signature_and_id);
    tcase_add_test(tc, numeric_items_little_endian);
    tcase_add_test(tc, file_dir_lookup_and_io_read);
    tcase_add_test(tc, dma_select_read_and_skip);
    tcase_add_test(tc, dma_out_of_ram_rejected);
    tcase_add_test(tc, select_hook_refreshes_file);
    tcase_add_test(tc, fwcfg_save_load);
    suite_add_tcase(s, tc);
    return s;
}

UNIT_SUITE(fwcfg_suite)
