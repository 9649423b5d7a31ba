/* The 82077AA floppy controller driven through its ports with DMA on
 * channel 2, as a BIOS does; expected phases, status bytes and result
 * fields from Intel's 82077AA datasheet. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "block/block.h"
#include "core/machine.h"
#include "hw/fdc.h"
#include "hw/i8237.h"
#include "tests/unit/unit.h"

#define SECTORS_144 2880

typedef struct Rig {
    Machine *m;
    I8237State *dma;
    FDCState *fdc;
    IRQLine irq;
    int level;
    BlockBackend *bb;
    char path[64];
} Rig;

static void irq_record(void *opaque, int n, int level) { ((Rig *)opaque)->level = level; }

static void out8(Rig *r, uint16_t port, uint8_t v) { iospace_write(r->m->io, port, v, 1); }
static uint8_t in8(Rig *r, uint16_t port) { return (uint8_t)iospace_read(r->m->io, port, 1); }

/* A 1.44M image whose every byte of sector n is (n & 0xff) ^ (n >> 8). */
static void make_image(Rig *r, uint64_t size)
{
    strcpy(r->path, "/tmp/vx86-fdc-XXXXXX");
    int fd = mkstemp(r->path);
    ck_assert_int_ge(fd, 0);
    uint8_t sec[512];
    for (uint64_t n = 0; n < size / 512; n++) {
        memset(sec, (int)((n & 0xff) ^ (n >> 8)), sizeof sec);
        ck_assert_int_eq(write(fd, sec, sizeof sec), (int)sizeof sec);
    }
    close(fd);
}

static void rig_open(Rig *r, bool read_only)
{
    char err[256];
    BlockOpenOptions o = { .filename = r->path, .format = "raw", .read_only = read_only };
    r->bb = blk_open(&o, err, sizeof err);
    ck_assert_msg(r->bb != NULL, "%s", err);
    blk_attach(r->bb, r->m);
    ck_assert_msg(fdc_insert(r->fdc, 0, r->bb, err, sizeof err), "%s", err);
}

static void rig_new(Rig *r, bool with_disk, bool read_only)
{
    char err[256];
    memset(r, 0, sizeof *r);
    r->m = machine_new(4 << 20, CLOCK_MANUAL, err, sizeof err);
    ck_assert_ptr_nonnull(r->m);
    ck_assert_ptr_nonnull(memmap_add_ram(r->m->mem, "ram", 0, r->m->ram_size, r->m->ram, NULL));
    r->dma = i8237_create(r->m, 0x00, 0xc0, 0x80, err, sizeof err);
    ck_assert_ptr_nonnull(r->dma);
    irq_init(&r->irq, irq_record, r, 6);
    r->fdc = fdc_create(r->m, 0x3f0, &r->irq, r->dma, 2, err, sizeof err);
    ck_assert_ptr_nonnull(r->fdc);
    if (with_disk) {
        make_image(r, SECTORS_144 * 512);
        rig_open(r, read_only);
    }
}

static void rig_free(Rig *r)
{
    machine_free(r->m);
    blk_close(r->bb);
    if (r->path[0])
        unlink(r->path);
}

/* Channel 2, single mode, 'mode' = 0x46 (write to memory) or 0x4a (read). */
static void program_dma(Rig *r, uint8_t mode, uint32_t addr, uint32_t bytes)
{
    out8(r, 0x0a, 0x06);
    out8(r, 0x0b, mode);
    out8(r, 0x0c, 0);
    out8(r, 0x04, (uint8_t)addr);
    out8(r, 0x04, (uint8_t)(addr >> 8));
    out8(r, 0x05, (uint8_t)(bytes - 1));
    out8(r, 0x05, (uint8_t)((bytes - 1) >> 8));
    out8(r, 0x81, (uint8_t)(addr >> 16));
    out8(r, 0x0a, 0x02);
}

static void command(Rig *r, const uint8_t *bytes, int n)
{
    for (int i = 0; i < n; i++) {
        ck_assert_msg((in8(r, 0x3f4) & 0xc0) == 0x80, "MSR 0x%02x before command byte %d",
                      in8(r, 0x3f4), i);
        out8(r, 0x3f5, bytes[i]);
    }
}

/* Reads the result phase; returns its length. */
static int results(Rig *r, uint8_t *out, int max)
{
    if (r->bb)
        blk_drain(r->bb);
    int n = 0;
    while ((in8(r, 0x3f4) & 0xd0) == 0xd0 && n < max)
        out[n++] = in8(r, 0x3f5);
    ck_assert_uint_eq(in8(r, 0x3f4) & 0xc0, 0x80);   /* back to the command phase */
    return n;
}

static void sense_interrupt(Rig *r, uint8_t *st0, uint8_t *pcn)
{
    static const uint8_t cmd[1] = { 0x08 };
    uint8_t res[2];
    command(r, cmd, 1);
    ck_assert_int_eq(results(r, res, 2), 2);
    *st0 = res[0];
    *pcn = res[1];
}

START_TEST(reset_then_four_sense_interrupts)
{
    Rig r;
    rig_new(&r, false, false);
    out8(&r, 0x3f2, 0x00);                       /* enter reset */
    ck_assert_uint_eq(in8(&r, 0x3f4), 0x00);
    ck_assert_int_eq(r.level, 0);
    out8(&r, 0x3f2, 0x0c);                       /* leave reset, DMA/IRQ gate on */
    ck_assert_int_eq(r.level, 1);
    for (int d = 0; d < 4; d++) {
        uint8_t st0, pcn;
        sense_interrupt(&r, &st0, &pcn);
        ck_assert_uint_eq(st0, 0xc0 | d);
        ck_assert_int_eq(r.level, 0);
    }
    /* Nothing pending any more: a one-byte "invalid" answer. */
    static const uint8_t cmd[1] = { 0x08 };
    uint8_t res[2];
    command(&r, cmd, 1);
    ck_assert_int_eq(results(&r, res, 2), 1);
    ck_assert_uint_eq(res[0], 0x80);
    rig_free(&r);
}
END_TEST

START_TEST(version_and_invalid_command)
{
    Rig r;
    rig_new(&r, false, false);
    uint8_t res[4];
    static const uint8_t version[1] = { 0x10 }, bogus[1] = { 0x1f };
    command(&r, version, 1);
    ck_assert_int_eq(results(&r, res, 4), 1);
    ck_assert_uint_eq(res[0], 0x90);
    command(&r, bogus, 1);
    ck_assert_int_eq(results(&r, res, 4), 1);
    ck_assert_uint_eq(res[0], 0x80);
    rig_free(&r);
}
END_TEST

START_TEST(seek_and_recalibrate)
{
    Rig r;
    rig_new(&r, true, false);
    ck_assert_int_eq(fdc_cmos_type(r.fdc, 0), 4);
    ck_assert_int_eq(fdc_cmos_type(r.fdc, 1), 0);
    ck_assert_uint_eq(in8(&r, 0x3f7) & 0x80, 0x80);  /* disk change after insert */
    static const uint8_t seek[3] = { 0x0f, 0x04, 33 };  /* head 1, drive 0 */
    command(&r, seek, 3);
    ck_assert_int_eq(r.level, 1);
    uint8_t st0, pcn;
    sense_interrupt(&r, &st0, &pcn);
    ck_assert_uint_eq(st0, 0x24);
    ck_assert_uint_eq(pcn, 33);
    ck_assert_uint_eq(in8(&r, 0x3f7) & 0x80, 0);     /* the step cleared it */
    static const uint8_t recal[2] = { 0x07, 0x00 };
    command(&r, recal, 2);
    sense_interrupt(&r, &st0, &pcn);
    ck_assert_uint_eq(st0, 0x20);
    ck_assert_uint_eq(pcn, 0);
    rig_free(&r);
}
END_TEST

START_TEST(read_two_sectors_by_dma)
{
    Rig r;
    rig_new(&r, true, false);
    program_dma(&r, 0x46, 0x10000, 1024);
    /* READ DATA, MT+MFM: drive 0 head 1, C=5 H=1 R=3 N=2 EOT=18 GPL DTL */
    static const uint8_t rd[9] = { 0xc6, 0x04, 5, 1, 3, 2, 18, 0x1b, 0xff };
    command(&r, rd, 9);
    uint8_t res[7];
    ck_assert_int_eq(results(&r, res, 7), 7);
    ck_assert_uint_eq(res[0], 0x04);                 /* normal end, head 1 */
    ck_assert_uint_eq(res[1], 0);
    ck_assert_uint_eq(res[2], 0);
    ck_assert_uint_eq(res[3], 5);
    ck_assert_uint_eq(res[4], 1);
    ck_assert_uint_eq(res[5], 5);                    /* the sector after the last one */
    ck_assert_uint_eq(res[6], 2);
    unsigned lba = (5 * 2 + 1) * 18 + 2;
    for (unsigned i = 0; i < 2; i++) {
        unsigned n = lba + i;
        ck_assert_uint_eq(r.m->ram[0x10000 + i * 512], (n & 0xff) ^ (n >> 8));
        ck_assert_uint_eq(r.m->ram[0x10000 + i * 512 + 511], (n & 0xff) ^ (n >> 8));
    }
    ck_assert_uint_eq(r.m->ram[0x10000 + 1024], 0);
    rig_free(&r);
}
END_TEST

START_TEST(multitrack_read_crosses_to_head_1)
{
    Rig r;
    rig_new(&r, true, false);
    program_dma(&r, 0x46, 0x20000, 3 * 512);
    static const uint8_t rd[9] = { 0xc6, 0x00, 0, 0, 17, 2, 18, 0x1b, 0xff };
    command(&r, rd, 9);
    uint8_t res[7];
    ck_assert_int_eq(results(&r, res, 7), 7);
    ck_assert_uint_eq(res[0] & 0xc0, 0);
    ck_assert_uint_eq(res[4], 1);                    /* ended on head 1 */
    ck_assert_uint_eq(res[5], 2);
    ck_assert_uint_eq(r.m->ram[0x20000 + 2 * 512], 18);  /* LBA 18 = C0 H1 R1 */
    rig_free(&r);
}
END_TEST

START_TEST(end_of_track_before_terminal_count)
{
    Rig r;
    rig_new(&r, true, false);
    program_dma(&r, 0x46, 0x10000, 8 * 512);         /* more than the track holds */
    static const uint8_t rd[9] = { 0x46, 0x00, 2, 0, 17, 2, 18, 0x1b, 0xff };  /* no MT */
    command(&r, rd, 9);
    uint8_t res[7];
    ck_assert_int_eq(results(&r, res, 7), 7);
    ck_assert_uint_eq(res[0] & 0xc0, 0x40);          /* abnormal termination */
    ck_assert_uint_eq(res[1], 0x80);                 /* EN: end of cylinder */
    ck_assert_uint_eq(res[3], 3);                    /* C+1, R=1 */
    ck_assert_uint_eq(res[5], 1);
    rig_free(&r);
}
END_TEST

START_TEST(write_then_read_back_from_the_image)
{
    Rig r;
    rig_new(&r, true, false);
    memset(r.m->ram + 0x30000, 0xc3, 512);
    program_dma(&r, 0x4a, 0x30000, 512);
    static const uint8_t wr[9] = { 0xc5, 0x00, 1, 0, 1, 2, 18, 0x1b, 0xff };
    command(&r, wr, 9);
    uint8_t res[7];
    ck_assert_int_eq(results(&r, res, 7), 7);
    ck_assert_uint_eq(res[0] & 0xc0, 0);
    uint8_t sec[512];
    ck_assert_int_eq(blk_pread(r.bb, 36 * 512, sec, 512), 0);    /* C1 H0 R1 */
    for (int i = 0; i < 512; i++)
        ck_assert_uint_eq(sec[i], 0xc3);
    ck_assert_int_eq(blk_pread(r.bb, 37 * 512, sec, 1), 0);
    ck_assert_uint_eq(sec[0], 37);                   /* the next sector untouched */
    rig_free(&r);
}
END_TEST

START_TEST(write_protected_medium)
{
    Rig r;
    rig_new(&r, true, true);
    program_dma(&r, 0x4a, 0x30000, 512);
    static const uint8_t wr[9] = { 0xc5, 0x00, 1, 0, 1, 2, 18, 0x1b, 0xff };
    command(&r, wr, 9);
    uint8_t res[7];
    ck_assert_int_eq(results(&r, res, 7), 7);
    ck_assert_uint_eq(res[0] & 0xc0, 0x40);
    ck_assert_uint_eq(res[1], 0x02);                 /* NW */
    static const uint8_t sense[2] = { 0x04, 0x00 };
    command(&r, sense, 2);
    ck_assert_int_eq(results(&r, res, 7), 1);
    ck_assert_uint_eq(res[0] & 0x40, 0x40);          /* ST3.WP */
    rig_free(&r);
}
END_TEST

START_TEST(bad_sector_ids_and_empty_drive)
{
    Rig r;
    rig_new(&r, true, false);
    uint8_t res[7];
    program_dma(&r, 0x46, 0x10000, 512);
    static const uint8_t r19[9] = { 0x46, 0x00, 0, 0, 19, 2, 18, 0x1b, 0xff };  /* R > SPT */
    command(&r, r19, 9);
    ck_assert_int_eq(results(&r, res, 7), 7);
    ck_assert_uint_eq(res[0] & 0xc0, 0x40);
    ck_assert_uint_eq(res[1], 0x04);                 /* ND */
    static const uint8_t c99[9] = { 0x46, 0x00, 99, 0, 1, 2, 18, 0x1b, 0xff };
    command(&r, c99, 9);
    ck_assert_int_eq(results(&r, res, 7), 7);
    ck_assert_uint_eq(res[1], 0x04);
    static const uint8_t n3[9] = { 0x46, 0x00, 0, 0, 1, 3, 18, 0x1b, 0xff };  /* 1 KiB sectors */
    command(&r, n3, 9);
    ck_assert_int_eq(results(&r, res, 7), 7);
    ck_assert_uint_eq(res[1], 0x04);
    static const uint8_t b[9] = { 0x46, 0x01, 0, 0, 1, 2, 18, 0x1b, 0xff };   /* drive 1: empty */
    command(&r, b, 9);
    ck_assert_int_eq(results(&r, res, 7), 7);
    ck_assert_uint_eq(res[0], 0x41);
    ck_assert_uint_eq(res[1], 0x01);                 /* MA */
    rig_free(&r);
}
END_TEST

START_TEST(image_size_must_be_a_floppy_format)
{
    Rig r;
    rig_new(&r, false, false);
    make_image(&r, 1000 * 512);
    char err[256];
    BlockOpenOptions o = { .filename = r.path, .format = "raw" };
    r.bb = blk_open(&o, err, sizeof err);
    ck_assert_ptr_nonnull(r.bb);
    ck_assert(!fdc_insert(r.fdc, 0, r.bb, err, sizeof err));
    ck_assert_ptr_nonnull(strstr(err, "no floppy format"));
    ck_assert_ptr_nonnull(strstr(err, r.path));
    rig_free(&r);
}
END_TEST

static Suite *fdc_suite(void)
{
    Suite *s = suite_create("fdc");
    TCase *tc = tcase_create("fdc");
    tcase_add_test(tc, reset_then_four_sense_interrupts);
    tcase_add_test(tc, version_and_invalid_command);
    tcase_add_test(tc, seek_and_recalibrate);
    tcase_add_test(tc, read_two_sectors_by_dma);
    tcase_add_test(tc, multitrack_read_crosses_to_head_1);
    tcase_add_test(tc, end_of_track_before_terminal_count);
    tcase_add_test(tc, write_then_read_back_from_the_image);
    tcase_add_test(tc, write_protected_medium);
    tcase_add_test(tc, bad_sector_ids_and_empty_drive);
    tcase_add_test(tc, image_size_must_be_a_floppy_format);
    suite_add_tcase(s, tc);
    return s;
}
UNIT_SUITE(fdc_suite)
