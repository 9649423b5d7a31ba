/*
 * IDE/ATA channel and the ATA command set (see ide.h).
 *
 * Data flow of a sector command: the command checks its address range,
 * then asks the block layer for up to IDE_BUF_SIZE bytes (BSY set); the
 * completion hands the buffer to the data port in DRQ blocks of 1 or
 * `mult` sectors (PIO) or to the bus master (DMA), and asks for the next
 * chunk when the buffer is used up.  Writes go the other way: a PIO DRQ
 * block (or a DMA chunk gathered from the PRD table) is written as one
 * request, and the next DRQ/IRQ comes with its completion.
 *
 * The vCPU never waits for the disk; a reset (SRST, machine reset) and a
 * snapshot drain the channel's requests first, so a completion never
 * lands in a reset device.
 */
#include "hw/ide.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/log.h"
#include "core/util.h"

#define IDE_MODEL_HD        "VX86 HARDDISK"
#define IDE_MODEL_CD        "VX86 DVD-ROM"
#define IDE_FIRMWARE        "1.0"

/* ATA command codes (ATA/ATAPI-6 table E.2) */
enum {
    CMD_NOP = 0x00,
    CMD_DEVICE_RESET = 0x08,
    CMD_RECALIBRATE = 0x10,           /* 0x10-0x1f */
    CMD_READ_SECTORS = 0x20,
    CMD_READ_SECTORS_NR = 0x21,
    CMD_READ_SECTORS_EXT = 0x24,
    CMD_READ_DMA_EXT = 0x25,
    CMD_READ_MULTIPLE_EXT = 0x29,
    CMD_WRITE_SECTORS = 0x30,
    CMD_WRITE_SECTORS_NR = 0x31,
    CMD_WRITE_SECTORS_EXT = 0x34,
    CMD_WRITE_DMA_EXT = 0x35,
    CMD_WRITE_MULTIPLE_EXT = 0x39,
    CMD_READ_VERIFY = 0x40,
    CMD_READ_VERIFY_NR = 0x41,
    CMD_READ_VERIFY_EXT = 0x42,
    CMD_SEEK = 0x70,                  /* 0x70-0x7f */
    CMD_EXEC_DIAGNOSTIC = 0x90,
    CMD_INIT_DEV_PARAMS = 0x91,
    CMD_STANDBY_IMMEDIATE2 = 0x94,
    CMD_IDLE_IMMEDIATE2 = 0x95,
    CMD_STANDBY2 = 0x96,
    CMD_IDLE2 = 0x97,
    CMD_CHECK_POWER2 = 0x98,
    CMD_SLEEP2 = 0x99,
    CMD_PACKET = 0xa0,
    CMD_IDENTIFY_PACKET = 0xa1,
    CMD_READ_MULTIPLE = 0xc4,
    CMD_WRITE_MULTIPLE = 0xc5,
    CMD_SET_MULTIPLE = 0xc6,
    CMD_READ_DMA = 0xc8,
    CMD_READ_DMA_NR = 0xc9,
    CMD_WRITE_DMA = 0xca,
    CMD_WRITE_DMA_NR = 0xcb,
    CMD_STANDBY_IMMEDIATE = 0xe0,
    CMD_IDLE_IMMEDIATE = 0xe1,
    CMD_STANDBY = 0xe2,
    CMD_IDLE = 0xe3,
    CMD_CHECK_POWER = 0xe5,
    CMD_SLEEP = 0xe6,
    CMD_FLUSH_CACHE = 0xe7,
    CMD_FLUSH_CACHE_EXT = 0xea,
    CMD_IDENTIFY = 0xec,
    CMD_SET_FEATURES = 0xef,
};

/* ---- interrupts ---- */

static void ide_update_irq(IDEBus *b)
{
    bool level = b->drive[b->cur].irq_pending && !(b->devctl & IDE_CTL_NIEN);
    if (level != b->irq_level) {
        b->irq_level = level;
        irq_set(b->irq, level);
    }
}

void ide_set_irq(IDEDrive *d)
{
    d->irq_pending = true;
    ide_update_irq(d->bus);
}

/* ---- helpers ---- */

void ide_put_string(uint16_t *w, const char *s, int words)
{
    size_t n = strlen(s);
    for (int i = 0; i < words; i++) {
        uint8_t hi = (size_t)(2 * i) < n ? (uint8_t)s[2 * i] : ' ';
        uint8_t lo = (size_t)(2 * i + 1) < n ? (uint8_t)s[2 * i + 1] : ' ';
        w[i] = (uint16_t)(hi << 8 | lo);
    }
}

/* Words to little-endian bytes in buf, with the integrity word 255
 * (signature A5h, checksum making the 512 bytes sum to 0). */
static void ide_identify_to_buf(IDEDrive *d, uint16_t *w)
{
    w[255] = 0x00a5;
    uint8_t sum = 0;
    for (int i = 0; i < 255; i++)
        sum = (uint8_t)(sum + (w[i] & 0xff) + (w[i] >> 8));
    sum = (uint8_t)(sum + 0xa5);
    w[255] |= (uint16_t)((uint8_t)-sum << 8);
    for (int i = 0; i < 256; i++) {
        d->buf[2 * i] = (uint8_t)w[i];
        d->buf[2 * i + 1] = (uint8_t)(w[i] >> 8);
    }
}

static void ide_set_signature(IDEDrive *d)
{
    d->nsect = 1;
    d->sector = 1;
    if (d->kind == IDE_CD) {
        d->lcyl = 0x14;
        d->hcyl = 0xeb;
    } else {
        d->lcyl = 0;
        d->hcyl = 0;
    }
    d->select &= IDE_DEV_DEV;
}

static void ide_done(IDEDrive *d)
{
    d->xfer = IDE_XFER_NONE;
    d->status = IDE_ST_DRDY | IDE_ST_DSC;
    ide_set_irq(d);
}

static void ide_fail(IDEDrive *d, uint8_t err)
{
    d->xfer = IDE_XFER_NONE;
    d->status = IDE_ST_DRDY | IDE_ST_DSC | IDE_ST_ERR;
    d->error = err;
    ide_set_irq(d);
}

static void ide_abort(IDEDrive *d)
{
    ide_fail(d, IDE_ER_ABRT);
}

/* ---- addressing ---- */

static uint64_t ide_lba_bits(const IDEDrive *d, bool lba48)
{
    uint64_t lba = (uint64_t)d->hcyl << 16 | (uint64_t)d->lcyl << 8 | d->sector;
    if (lba48)
        return lba | (uint64_t)d->hob_hcyl << 40 | (uint64_t)d->hob_lcyl << 32 |
               (uint64_t)d->hob_sector << 24;
    return lba | (uint64_t)(d->select & 0x0f) << 24;
}

/* The starting sector of a command; false for a CHS address that does not
 * exist in the current translation. */
static bool ide_get_lba(const IDEDrive *d, bool lba48, uint64_t *lba)
{
    if (lba48 || (d->select & IDE_DEV_LBA)) {
        *lba = ide_lba_bits(d, lba48);
        return true;
    }
    unsigned cyl = (unsigned)d->hcyl << 8 | d->lcyl;
    unsigned head = d->select & 0x0f;
    unsigned sec = d->sector;
    if (!d->cur_heads || !d->cur_secs || sec == 0 || sec > d->cur_secs ||
        head >= d->cur_heads || cyl >= d->cur_cyls)
        return false;
    *lba = ((uint64_t)cyl * d->cur_heads + head) * d->cur_secs + sec - 1;
    return true;
}

static uint32_t ide_get_count(const IDEDrive *d, bool lba48)
{
    if (lba48) {
        uint32_t n = (uint32_t)d->hob_nsect << 8 | d->nsect;
        return n ? n : 65536;
    }
    return d->nsect ? d->nsect : 256;
}

/* Puts a sector address back into the task file (the last sector moved,
 * or where an error happened), in the command's addressing mode. */
static void ide_set_lba(IDEDrive *d, uint64_t lba)
{
    if (d->lba48) {
        d->sector = (uint8_t)lba;
        d->lcyl = (uint8_t)(lba >> 8);
        d->hcyl = (uint8_t)(lba >> 16);
        d->hob_sector = (uint8_t)(lba >> 24);
        d->hob_lcyl = (uint8_t)(lba >> 32);
        d->hob_hcyl = (uint8_t)(lba >> 40);
    } else if (d->select & IDE_DEV_LBA) {
        d->sector = (uint8_t)lba;
        d->lcyl = (uint8_t)(lba >> 8);
        d->hcyl = (uint8_t)(lba >> 16);
        d->select = (uint8_t)((d->select & 0xf0) | ((lba >> 24) & 0x0f));
    } else if (d->cur_heads && d->cur_secs) {
        uint64_t track = lba / d->cur_secs;
        uint32_t cyl = (uint32_t)(track / d->cur_heads);
        d->sector = (uint8_t)(lba % d->cur_secs + 1);
        d->lcyl = (uint8_t)cyl;
        d->hcyl = (uint8_t)(cyl >> 8);
        d->select = (uint8_t)((d->select & 0xf0) | (track % d->cur_heads));
    }
}

static void ide_io_error(IDEDrive *d, int ret, bool write)
{
    LOG(LOG_UNIMP, "%s: %s error at sector %llu: %s\n", d->bus->name,
        write ? "write" : "read", (unsigned long long)d->lba, strerror(-ret));
    ide_set_lba(d, d->lba);
    if (d->xfer == IDE_XFER_DMA_IN || d->xfer == IDE_XFER_DMA_OUT) {
        if (d->bus->dma)
            d->bus->dma->end(d->bus->dma_opaque, true);
    }
    ide_fail(d, write ? IDE_ER_ABRT : IDE_ER_UNC);
}

/* ---- sector transfers ---- */

static void ide_dma_run(IDEDrive *d);

static uint32_t ide_chunk_sectors(const IDEDrive *d)
{
    uint32_t max = IDE_BUF_SIZE / IDE_SECTOR;
    return d->remain < max ? d->remain : max;
}

/* PIO data-in: offers the next DRQ block of buf. */
static void ide_pio_in_block(IDEDrive *d)
{
    uint32_t n = d->block * IDE_SECTOR;
    d->end = d->buf_len - d->pos < n ? d->buf_len : d->pos + n;
    d->status = IDE_ST_DRDY | IDE_ST_DSC | IDE_ST_DRQ;
    ide_set_irq(d);
}

static void ide_read_cb(void *opaque, int ret)
{
    IDEDrive *d = opaque;
    d->aio_busy = false;
    if (ret < 0) {
        ide_io_error(d, ret, false);
        return;
    }
    d->buf_len = d->chunk * IDE_SECTOR;
    d->pos = 0;
    d->lba += d->chunk;
    d->remain -= d->chunk;
    if (d->xfer == IDE_XFER_PIO_IN) {
        ide_pio_in_block(d);
        return;
    }
    if (d->xfer != IDE_XFER_DMA_IN)
        return;
    const IDEDMAOps *dma = d->bus->dma;
    if (dma->rw(d->bus->dma_opaque, d->buf, d->buf_len, true) != IDE_DMA_OK) {
        ide_set_lba(d, d->lba - d->chunk);
        d->xfer = IDE_XFER_NONE;
        dma->end(d->bus->dma_opaque, true);
        ide_abort(d);
        return;
    }
    if (d->remain) {
        ide_dma_run(d);
        return;
    }
    ide_set_lba(d, d->lba - 1);
    d->xfer = IDE_XFER_NONE;
    dma->end(d->bus->dma_opaque, false);
    ide_done(d);
}

static void ide_read_chunk(IDEDrive *d)
{
    d->chunk = ide_chunk_sectors(d);
    d->status = IDE_ST_BSY | IDE_ST_DRDY | IDE_ST_DSC;
    d->aio_busy = true;
    int r = blk_aio_read(d->bb, d->lba * IDE_SECTOR, d->buf, d->chunk * IDE_SECTOR,
                         ide_read_cb, d);
    if (r < 0)
        ide_read_cb(d, r);
}

static void ide_write_cb(void *opaque, int ret)
{
    IDEDrive *d = opaque;
    d->aio_busy = false;
    if (ret < 0) {
        ide_io_error(d, ret, true);
        return;
    }
    d->lba += d->chunk;
    d->remain -= d->chunk;
    if (d->xfer == IDE_XFER_DMA_OUT) {
        if (d->remain) {
            ide_dma_run(d);
            return;
        }
        ide_set_lba(d, d->lba - 1);
        d->xfer = IDE_XFER_NONE;
        d->bus->dma->end(d->bus->dma_opaque, false);
        ide_done(d);
        return;
    }
    if (d->xfer != IDE_XFER_PIO_OUT)
        return;
    if (!d->remain) {
        ide_set_lba(d, d->lba - 1);
        ide_done(d);
        return;
    }
    d->pos = 0;
    d->end = (d->remain < d->block ? d->remain : d->block) * IDE_SECTOR;
    d->status = IDE_ST_DRDY | IDE_ST_DSC | IDE_ST_DRQ;
    ide_set_irq(d);
}

static void ide_write_chunk(IDEDrive *d, uint32_t sectors)
{
    d->chunk = sectors;
    d->status = IDE_ST_BSY | IDE_ST_DRDY | IDE_ST_DSC;
    d->aio_busy = true;
    int r = blk_aio_write(d->bb, d->lba * IDE_SECTOR, d->buf, sectors * IDE_SECTOR,
                          ide_write_cb, d);
    if (r < 0)
        ide_write_cb(d, r);
}

/* Moves the next DMA chunk when the bus master runs and no request is in
 * flight. */
static void ide_dma_run(IDEDrive *d)
{
    const IDEDMAOps *dma = d->bus->dma;
    if (d->aio_busy || !dma || !dma->running(d->bus->dma_opaque))
        return;
    if (d->xfer == IDE_XFER_DMA_IN) {
        ide_read_chunk(d);
    } else if (d->xfer == IDE_XFER_DMA_OUT) {
        uint32_t n = ide_chunk_sectors(d);
        if (dma->rw(d->bus->dma_opaque, d->buf, n * IDE_SECTOR, false) != IDE_DMA_OK) {
            ide_set_lba(d, d->lba);
            d->xfer = IDE_XFER_NONE;
            dma->end(d->bus->dma_opaque, true);
            ide_abort(d);
            return;
        }
        ide_write_chunk(d, n);
    }
}

/* Starts READ/WRITE SECTORS/MULTIPLE/DMA (and their EXT forms). */
static void ide_rw_start(IDEDrive *d, IDEXfer x, bool lba48, uint32_t block)
{
    uint64_t lba;
    d->lba48 = lba48;
    if (!ide_get_lba(d, lba48, &lba)) {
        ide_fail(d, IDE_ER_IDNF);
        return;
    }
    uint32_t count = ide_get_count(d, lba48);
    if (lba >= d->nsectors || count > d->nsectors - lba) {
        ide_fail(d, IDE_ER_IDNF);
        return;
    }
    bool write = x == IDE_XFER_PIO_OUT || x == IDE_XFER_DMA_OUT;
    if (write && blk_is_read_only(d->bb)) {
        ide_abort(d);
        return;
    }
    d->lba = lba;
    d->remain = count;
    d->block = block;
    d->xfer = (uint8_t)x;
    d->pos = d->end = d->buf_len = 0;
    switch (x) {
    case IDE_XFER_PIO_IN:
        ide_read_chunk(d);
        break;
    case IDE_XFER_PIO_OUT:
        d->end = (count < block ? count : block) * IDE_SECTOR;
        d->status = IDE_ST_DRDY | IDE_ST_DSC | IDE_ST_DRQ;
        break;
    default:
        d->status = IDE_ST_DRDY | IDE_ST_DSC | IDE_ST_DRQ;
        ide_dma_run(d);
        break;
    }
}

static void ide_flush_cb(void *opaque, int ret)
{
    IDEDrive *d = opaque;
    d->aio_busy = false;
    if (ret < 0)
        ide_abort(d);
    else
        ide_done(d);
}

/* ---- IDENTIFY DEVICE ---- */

static void ide_identify(IDEDrive *d)
{
    uint16_t w[256];
    memset(w, 0, sizeof w);
    uint64_t n = d->nsectors;
    uint32_t lba28 = n > 0x0fffffff ? 0x0fffffff : (uint32_t)n;
    uint64_t chs = (uint64_t)d->cur_cyls * d->cur_heads * d->cur_secs;
    if (chs > lba28)
        chs = lba28;
    w[0] = 0x0040;                          /* fixed device */
    w[1] = d->cyls;
    w[3] = d->heads;
    w[6] = d->secs;
    ide_put_string(w + 10, d->serial, 10);
    ide_put_string(w + 23, IDE_FIRMWARE, 4);
    ide_put_string(w + 27, d->model, 20);
    w[47] = 0x8000 | IDE_MAX_MULT;
    w[49] = 0x0b00;                         /* IORDY, LBA, DMA */
    w[50] = 0x4000;
    w[51] = 0x0200;                         /* PIO timing mode 2 (obsolete word) */
    w[53] = 0x0007;                         /* words 54-58, 64-70 and 88 valid */
    w[54] = d->cur_cyls;
    w[55] = d->cur_heads;
    w[56] = d->cur_secs;
    w[57] = (uint16_t)chs;
    w[58] = (uint16_t)(chs >> 16);
    w[59] = d->mult ? (uint16_t)(0x0100 | d->mult) : 0;
    w[60] = (uint16_t)lba28;
    w[61] = (uint16_t)(lba28 >> 16);
    w[63] = 0x0007;                         /* multiword DMA 0-2 */
    w[64] = 0x0003;                         /* PIO 3 and 4 */
    w[65] = 120;
    w[66] = 120;
    w[67] = 120;
    w[68] = 120;
    w[80] = 0x007e;                         /* ATA-1 .. ATA-6 */
    w[82] = 0x0068;                         /* look-ahead, write cache, power management */
    w[83] = 0x7400;                         /* FLUSH CACHE EXT, FLUSH CACHE, 48-bit */
    w[84] = 0x4000;
    w[85] = (uint16_t)(0x0008 | (d->write_cache ? 0x20 : 0) | (d->lookahead ? 0x40 : 0));
    w[86] = 0x3400;
    w[87] = 0x4000;
    w[88] = 0x003f;                         /* UDMA 0-5 */
    w[93] = (uint16_t)(0x4000 | (d->unit ? 0x0100 : 0x0001) | 0x2000);
    w[100] = (uint16_t)n;
    w[101] = (uint16_t)(n >> 16);
    w[102] = (uint16_t)(n >> 32);
    w[103] = (uint16_t)(n >> 48);
    w[106] = 0x4000;                        /* one 512-byte logical sector per physical */
    /* The selected transfer mode (SET FEATURES 03h). */
    if ((d->xfer_mode & 0xf8) == 0x20)
        w[63] |= (uint16_t)(0x0100 << (d->xfer_mode & 7));
    else if ((d->xfer_mode & 0xf8) == 0x40)
        w[88] |= (uint16_t)(0x0100 << (d->xfer_mode & 7));
    ide_identify_to_buf(d, w);
}

/* A one-block PIO data-in reply already in buf (IDENTIFY). */
static void ide_pio_reply(IDEDrive *d, uint32_t len)
{
    d->xfer = IDE_XFER_PIO_IN;
    d->remain = 0;
    d->block = 1;
    d->buf_len = len;
    d->pos = 0;
    ide_pio_in_block(d);
}

/* ---- SET FEATURES ---- */

static bool ide_set_xfer_mode(IDEDrive *d, uint8_t v)
{
    unsigned n = v & 7;
    switch (v & 0xf8) {
    case 0x00: if (n > 1) return false; break;        /* PIO default */
    case 0x08: if (n > 4) return false; break;        /* PIO flow control */
    case 0x20: if (n > 2) return false; break;        /* multiword DMA */
    case 0x40: if (n > 5) return false; break;        /* Ultra DMA */
    default: return false;
    }
    d->xfer_mode = v;
    return true;
}

static void ide_set_features(IDEDrive *d)
{
    bool ok = true;
    switch (d->feature) {
    case 0x02: d->write_cache = true; break;
    case 0x82: d->write_cache = false; break;
    case 0x03: ok = ide_set_xfer_mode(d, d->nsect); break;
    case 0xaa: d->lookahead = true; break;
    case 0x55: d->lookahead = false; break;
    case 0x66: case 0xcc: break;            /* keep / revert to power-on defaults */
    default: ok = false; break;
    }
    if (ok)
        ide_done(d);
    else
        ide_abort(d);
}

/* ---- reset and diagnostics ---- */

static void ide_drive_reset(IDEDrive *d)
{
    d->feature = d->hob_feature = 0;
    d->hob_nsect = d->hob_sector = d->hob_lcyl = d->hob_hcyl = 0;
    d->select = (uint8_t)(d->unit << 4);
    ide_set_signature(d);
    d->error = 0x01;                        /* diagnostic: no error */
    d->status = d->kind == IDE_HD ? IDE_ST_DRDY | IDE_ST_DSC : 0;
    d->irq_pending = false;
    d->xfer = IDE_XFER_NONE;
    d->aio_busy = false;
    d->pos = d->end = d->buf_len = 0;
    d->remain = 0;
    d->cmd = 0;
    if (d->kind == IDE_CD)
        ide_atapi_reset(d);
}

/* Power-on values of the settings a reset keeps (SET FEATURES 66h rules
 * aside, a hardware reset restores these). */
static void ide_drive_power_on(IDEDrive *d)
{
    d->cur_cyls = d->cyls;
    d->cur_heads = d->heads;
    d->cur_secs = d->secs;
    d->mult = 0;
    d->xfer_mode = 0;
    d->write_cache = true;
    d->lookahead = true;
    d->standby = false;
}

void ide_bus_drain(IDEBus *b)
{
    for (int i = 0; i < 2; i++)
        if (b->drive[i].bb && b->drive[i].aio_busy)
            blk_drain(b->drive[i].bb);
}

static void ide_exec_diagnostic(IDEBus *b)
{
    for (int i = 0; i < 2; i++) {
        IDEDrive *d = &b->drive[i];
        if (d->kind == IDE_NONE)
            continue;
        ide_set_signature(d);
        d->error = 0x01;
        d->status = d->kind == IDE_HD ? IDE_ST_DRDY | IDE_ST_DSC : 0;
    }
    b->cur = 0;
    IDEDrive *d0 = &b->drive[0];
    if (d0->kind != IDE_NONE)
        ide_set_irq(d0);
}

/* ---- command dispatch ---- */

static bool ide_cmd_is_lba48(uint8_t cmd)
{
    switch (cmd) {
    case CMD_READ_SECTORS_EXT: case CMD_READ_DMA_EXT: case CMD_READ_MULTIPLE_EXT:
    case CMD_WRITE_SECTORS_EXT: case CMD_WRITE_DMA_EXT: case CMD_WRITE_MULTIPLE_EXT:
    case CMD_READ_VERIFY_EXT:
        return true;
    default:
        return false;
    }
}

/* Commands a PACKET device takes; the rest are aborted (ATA-6 6.x). */
static void ide_exec_cd(IDEDrive *d, uint8_t cmd)
{
    switch (cmd) {
    case CMD_IDENTIFY_PACKET: {
        uint16_t w[256];
        memset(w, 0, sizeof w);
        ide_atapi_identify(d, w);
        ide_identify_to_buf(d, w);
        ide_pio_reply(d, 512);
        return;
    }
    case CMD_PACKET:
        ide_atapi_packet_start(d);
        return;
    case CMD_DEVICE_RESET:
        ide_drive_reset(d);
        return;
    case CMD_SET_FEATURES:
        ide_set_features(d);
        return;
    case CMD_CHECK_POWER: case CMD_CHECK_POWER2:
        d->nsect = 0xff;
        ide_done(d);
        return;
    case CMD_IDLE_IMMEDIATE: case CMD_STANDBY_IMMEDIATE: case CMD_SLEEP:
        ide_done(d);
        return;
    case CMD_IDENTIFY:
    case CMD_READ_SECTORS: case CMD_READ_SECTORS_NR:
        /* A PACKET device aborts these with its signature in place, which
         * is how drivers tell it from a disk. */
        ide_set_signature(d);
        ide_abort(d);
        return;
    default:
        ide_abort(d);
        return;
    }
}

static void ide_exec_hd(IDEDrive *d, uint8_t cmd)
{
    bool lba48 = ide_cmd_is_lba48(cmd);
    if ((cmd & 0xf0) == CMD_RECALIBRATE) {
        ide_done(d);
        return;
    }
    if ((cmd & 0xf0) == CMD_SEEK) {
        uint64_t lba;
        if (!ide_get_lba(d, false, &lba) || lba >= d->nsectors)
            ide_fail(d, IDE_ER_IDNF);
        else
            ide_done(d);
        return;
    }
    switch (cmd) {
    case CMD_READ_SECTORS: case CMD_READ_SECTORS_NR: case CMD_READ_SECTORS_EXT:
        ide_rw_start(d, IDE_XFER_PIO_IN, lba48, 1);
        return;
    case CMD_WRITE_SECTORS: case CMD_WRITE_SECTORS_NR: case CMD_WRITE_SECTORS_EXT:
        ide_rw_start(d, IDE_XFER_PIO_OUT, lba48, 1);
        return;
    case CMD_READ_MULTIPLE: case CMD_READ_MULTIPLE_EXT:
    case CMD_WRITE_MULTIPLE: case CMD_WRITE_MULTIPLE_EXT:
        if (!d->mult) {
            ide_abort(d);
            return;
        }
        ide_rw_start(d, cmd == CMD_READ_MULTIPLE || cmd == CMD_READ_MULTIPLE_EXT ?
                     IDE_XFER_PIO_IN : IDE_XFER_PIO_OUT, lba48, d->mult);
        return;
    case CMD_READ_DMA: case CMD_READ_DMA_NR: case CMD_READ_DMA_EXT:
        ide_rw_start(d, IDE_XFER_DMA_IN, lba48, 1);
        return;
    case CMD_WRITE_DMA: case CMD_WRITE_DMA_NR: case CMD_WRITE_DMA_EXT:
        ide_rw_start(d, IDE_XFER_DMA_OUT, lba48, 1);
        return;
    case CMD_READ_VERIFY: case CMD_READ_VERIFY_NR: case CMD_READ_VERIFY_EXT: {
        uint64_t lba;
        d->lba48 = lba48;
        uint32_t count = ide_get_count(d, lba48);
        if (!ide_get_lba(d, lba48, &lba) || lba >= d->nsectors ||
            count > d->nsectors - lba)
            ide_fail(d, IDE_ER_IDNF);
        else
            ide_done(d);
        return;
    }
    case CMD_SET_MULTIPLE: {
        uint8_t n = d->nsect;
        if (n > IDE_MAX_MULT || (n & (n - 1))) {
            ide_abort(d);
            return;
        }
        d->mult = n;
        ide_done(d);
        return;
    }
    case CMD_FLUSH_CACHE: case CMD_FLUSH_CACHE_EXT:
        d->status = IDE_ST_BSY | IDE_ST_DRDY | IDE_ST_DSC;
        d->aio_busy = true;
        if (blk_aio_flush(d->bb, ide_flush_cb, d) < 0)
            ide_flush_cb(d, -EIO);
        return;
    case CMD_IDENTIFY:
        ide_identify(d);
        ide_pio_reply(d, 512);
        return;
    case CMD_SET_FEATURES:
        ide_set_features(d);
        return;
    case CMD_INIT_DEV_PARAMS: {
        unsigned heads = (d->select & 0x0f) + 1u, secs = d->nsect;
        if (!secs) {
            ide_abort(d);
            return;
        }
        uint64_t cyls = d->nsectors / (heads * secs);
        d->cur_heads = (uint16_t)heads;
        d->cur_secs = (uint16_t)secs;
        d->cur_cyls = (uint16_t)(cyls > 65535 ? 65535 : cyls);
        ide_done(d);
        return;
    }
    case CMD_IDLE: case CMD_IDLE2: case CMD_IDLE_IMMEDIATE: case CMD_IDLE_IMMEDIATE2:
        d->standby = false;
        ide_done(d);
        return;
    case CMD_STANDBY: case CMD_STANDBY2: case CMD_STANDBY_IMMEDIATE:
    case CMD_STANDBY_IMMEDIATE2: case CMD_SLEEP: case CMD_SLEEP2:
        d->standby = true;
        ide_done(d);
        return;
    case CMD_CHECK_POWER: case CMD_CHECK_POWER2:
        d->nsect = d->standby ? 0x00 : 0xff;
        ide_done(d);
        return;
    default:
        LOG(LOG_UNIMP, "%s: unit %d: ATA command 0x%02x not supported\n",
            d->bus->name, d->unit, cmd);
        ide_abort(d);
        return;
    }
}

static void ide_exec(IDEBus *b, uint8_t cmd)
{
    if (cmd == CMD_EXEC_DIAGNOSTIC) {
        ide_bus_drain(b);
        ide_exec_diagnostic(b);
        return;
    }
    IDEDrive *d = &b->drive[b->cur];
    if (d->kind == IDE_NONE)
        return;
    /* A busy device ignores commands, except DEVICE RESET for ATAPI. */
    if ((d->status & IDE_ST_BSY) && !(d->kind == IDE_CD && cmd == CMD_DEVICE_RESET))
        return;
    if (d->aio_busy)
        return;
    d->cmd = cmd;
    d->error = 0;
    d->irq_pending = false;
    ide_update_irq(b);
    if (d->kind == IDE_CD)
        ide_exec_cd(d, cmd);
    else
        ide_exec_hd(d, cmd);
}

/* ---- data port ---- */

static void ide_pio_in_done(IDEDrive *d)
{
    if (d->cmd == CMD_PACKET) {
        ide_atapi_data_done(d);
        return;
    }
    if (d->pos < d->buf_len) {
        ide_pio_in_block(d);
    } else if (d->remain) {
        ide_read_chunk(d);
    } else {
        if (d->cmd != CMD_IDENTIFY && d->cmd != CMD_IDENTIFY_PACKET)
            ide_set_lba(d, d->lba - 1);
        d->xfer = IDE_XFER_NONE;
        d->status = IDE_ST_DRDY | IDE_ST_DSC;
    }
}

static uint32_t ide_data_read(IDEBus *b, unsigned size)
{
    IDEDrive *d = &b->drive[b->cur];
    if (d->xfer != IDE_XFER_PIO_IN || !(d->status & IDE_ST_DRQ) || d->pos >= d->end)
        return size == 4 ? 0xffffffffu : 0xffffu;
    uint32_t v = 0;
    for (unsigned i = 0; i < size && d->pos < d->end; i++)
        v |= (uint32_t)d->buf[d->pos++] << (8 * i);
    if (d->pos >= d->end)
        ide_pio_in_done(d);
    return v;
}

static void ide_data_write(IDEBus *b, uint32_t v, unsigned size)
{
    IDEDrive *d = &b->drive[b->cur];
    if ((d->xfer != IDE_XFER_PIO_OUT && d->xfer != IDE_XFER_PACKET) ||
        !(d->status & IDE_ST_DRQ) || d->pos >= d->end)
        return;
    for (unsigned i = 0; i < size && d->pos < d->end; i++)
        d->buf[d->pos++] = (uint8_t)(v >> (8 * i));
    if (d->pos < d->end)
        return;
    if (d->xfer == IDE_XFER_PACKET) {
        memcpy(d->cdb, d->buf, sizeof d->cdb);
        ide_atapi_run(d);
        return;
    }
    ide_write_chunk(d, d->end / IDE_SECTOR);
}

/* ---- register ports ---- */

static uint64_t ide_cmd_read(void *opaque, uint64_t off, unsigned size)
{
    IDEBus *b = opaque;
    IDEDrive *d = &b->drive[b->cur];
    if (off == 0)
        return ide_data_read(b, size);
    if (b->drive[0].kind == IDE_NONE && b->drive[1].kind == IDE_NONE)
        return 0xff;                        /* nothing drives the bus */
    if (d->kind == IDE_NONE)
        return off == 6 ? d->select : 0;    /* device 0 answers for an absent device 1 */
    bool hob = b->devctl & IDE_CTL_HOB;
    switch (off) {
    case 1: return hob ? d->hob_feature : d->error;
    case 2: return hob ? d->hob_nsect : d->nsect;
    case 3: return hob ? d->hob_sector : d->sector;
    case 4: return hob ? d->hob_lcyl : d->lcyl;
    case 5: return hob ? d->hob_hcyl : d->hcyl;
    case 6: return d->select | 0xa0;
    default:
        d->irq_pending = false;
        ide_update_irq(b);
        return d->status;
    }
}

static void ide_cmd_write(void *opaque, uint64_t off, uint64_t val, unsigned size)
{
    IDEBus *b = opaque;
    uint8_t v = (uint8_t)val;
    if (off == 0) {
        ide_data_write(b, (uint32_t)val, size);
        return;
    }
    if (off == 7) {
        ide_exec(b, v);
        return;
    }
    /* Both devices latch the command block registers; a write clears HOB. */
    b->devctl &= (uint8_t)~IDE_CTL_HOB;
    for (int i = 0; i < 2; i++) {
        IDEDrive *d = &b->drive[i];
        switch (off) {
        case 1: d->hob_feature = d->feature; d->feature = v; break;
        case 2: d->hob_nsect = d->nsect; d->nsect = v; break;
        case 3: d->hob_sector = d->sector; d->sector = v; break;
        case 4: d->hob_lcyl = d->lcyl; d->lcyl = v; break;
        case 5: d->hob_hcyl = d->hcyl; d->hcyl = v; break;
        case 6: d->select = v & 0x5f; break;
        }
    }
    if (off == 6) {
        b->cur = (v >> 4) & 1;
        ide_update_irq(b);
    }
}

static const MemOps ide_cmd_ops = {
    .read = ide_cmd_read, .write = ide_cmd_write, .min_size = 1, .max_size = 4,
};

static uint64_t ide_ctl_read(void *opaque, uint64_t off, unsigned size)
{
    IDEBus *b = opaque;
    (void)off;
    (void)size;
    IDEDrive *d = &b->drive[b->cur];
    if (b->drive[0].kind == IDE_NONE && b->drive[1].kind == IDE_NONE)
        return 0xff;
    return d->kind == IDE_NONE ? 0 : d->status;
}

static void ide_ctl_write(void *opaque, uint64_t off, uint64_t val, unsigned size)
{
    IDEBus *b = opaque;
    (void)off;
    (void)size;
    uint8_t v = (uint8_t)val;
    bool was_srst = b->devctl & IDE_CTL_SRST;
    b->devctl = v;
    if ((v & IDE_CTL_SRST) && !was_srst) {
        /* Reset asserted: finish what is in flight, then hold BSY. */
        ide_bus_drain(b);
        for (int i = 0; i < 2; i++) {
            IDEDrive *d = &b->drive[i];
            if (d->kind != IDE_NONE) {
                ide_drive_reset(d);
                d->status = IDE_ST_BSY;
            }
        }
        b->cur = 0;
    } else if (!(v & IDE_CTL_SRST) && was_srst) {
        for (int i = 0; i < 2; i++) {
            IDEDrive *d = &b->drive[i];
            if (d->kind != IDE_NONE)
                ide_drive_reset(d);
        }
        b->cur = 0;
    }
    ide_update_irq(b);
}

static const MemOps ide_ctl_ops = {
    .read = ide_ctl_read, .write = ide_ctl_write, .min_size = 1, .max_size = 1,
};

/* ---- public ---- */

static void ide_geometry(IDEDrive *d)
{
    uint64_t n = d->nsectors;
    d->heads = 16;
    d->secs = 63;
    uint64_t c = n / (16 * 63);
    if (c > 16383)
        c = 16383;
    if (c == 0)
        c = 1;
    d->cyls = (uint16_t)c;
}

void ide_drive_attach(IDEBus *b, int unit, IDEKind kind, BlockBackend *bb)
{
    IDEDrive *d = &b->drive[unit & 1];
    d->kind = kind;
    d->bb = bb;
    d->nsectors = 0;
    snprintf(d->serial, sizeof d->serial, "VX86%04X%u", b->base, unit & 1);
    snprintf(d->model, sizeof d->model, "%s", kind == IDE_CD ? IDE_MODEL_CD : IDE_MODEL_HD);
    if (kind == IDE_HD && bb)
        d->nsectors = blk_size(bb) / IDE_SECTOR;
    else if (kind == IDE_CD && bb)
        d->nsectors = blk_size(bb) / IDE_CD_SECTOR;
    ide_geometry(d);
    ide_drive_power_on(d);
    ide_drive_reset(d);
}

void ide_cd_change_medium(IDEBus *b, int unit, BlockBackend *bb)
{
    IDEDrive *d = &b->drive[unit & 1];
    if (d->kind != IDE_CD)
        return;
    ide_bus_drain(b);
    d->bb = bb;
    d->nsectors = bb ? blk_size(bb) / IDE_CD_SECTOR : 0;
    d->unit_attention = true;
    d->media_event = true;
}

void ide_cd_set_tray_notify(IDEBus *b, int unit, void (*fn)(void *opaque, bool open),
                            void *opaque)
{
    b->drive[unit & 1].tray_moved = fn;
    b->drive[unit & 1].tray_opaque = opaque;
}

bool ide_cd_locked(IDEBus *b, int unit)
{
    return b->drive[unit & 1].kind == IDE_CD && b->drive[unit & 1].locked;
}

bool ide_cd_tray_open(IDEBus *b, int unit)
{
    return b->drive[unit & 1].kind == IDE_CD && b->drive[unit & 1].tray_open;
}

void ide_cd_set_tray(IDEBus *b, int unit, bool open)
{
    IDEDrive *d = &b->drive[unit & 1];
    if (d->kind != IDE_CD || d->tray_open == open)
        return;
    d->tray_open = open;
    d->media_event = true;
    if (d->tray_moved)
        d->tray_moved(d->tray_opaque, open);
}

bool ide_drive_present(IDEBus *b, int unit)
{
    return b->drive[unit & 1].kind != IDE_NONE;
}

void ide_bus_set_dma(IDEBus *b, const IDEDMAOps *ops, void *opaque)
{
    b->dma = ops;
    b->dma_opaque = opaque;
}

void ide_bus_dma_kick(IDEBus *b)
{
    IDEDrive *d = &b->drive[b->cur];
    if (d->kind == IDE_HD)
        ide_dma_run(d);
    else if (d->kind == IDE_CD)
        ide_atapi_dma_kick(d);
}

/* ---- device record ---- */

static void ide_bus_reset(void *opaque)
{
    IDEBus *b = opaque;
    ide_bus_drain(b);
    b->devctl = 0;
    b->cur = 0;
    for (int i = 0; i < 2; i++) {
        IDEDrive *d = &b->drive[i];
        if (d->kind == IDE_NONE)
            continue;
        ide_drive_power_on(d);
        ide_drive_reset(d);
        if (d->kind == IDE_CD) {
            d->locked = false;
            d->tray_open = false;
        }
    }
    ide_update_irq(b);
}

static void ide_bus_pre_save(void *opaque)
{
    ide_bus_drain(opaque);
}

static int ide_bus_post_load(void *opaque, int version, char **err)
{
    IDEBus *b = opaque;
    (void)version;
    if (b->cur > 1) {
        set_error(err, "%s: selected unit %u", b->name, b->cur);
        return -1;
    }
    for (int i = 0; i < 2; i++) {
        IDEDrive *d = &b->drive[i];
        if (d->xfer > IDE_XFER_PACKET || d->buf_len > IDE_BUF_SIZE ||
            d->end > IDE_BUF_SIZE || d->pos > d->end || d->mult > IDE_MAX_MULT ||
            d->block > IDE_BUF_SIZE / IDE_SECTOR || d->chunk > IDE_BUF_SIZE / IDE_SECTOR) {
            set_error(err, "%s: unit %d: inconsistent transfer state", b->name, i);
            return -1;
        }
        d->aio_busy = false;
    }
    return 0;
}

static const VMField ide_drive_fields[] = {
    VMF_U8(feature, IDEDrive), VMF_U8(nsect, IDEDrive), VMF_U8(sector, IDEDrive),
    VMF_U8(lcyl, IDEDrive), VMF_U8(hcyl, IDEDrive),
    VMF_U8(hob_feature, IDEDrive), VMF_U8(hob_nsect, IDEDrive),
    VMF_U8(hob_sector, IDEDrive), VMF_U8(hob_lcyl, IDEDrive), VMF_U8(hob_hcyl, IDEDrive),
    VMF_U8(select, IDEDrive), VMF_U8(status, IDEDrive), VMF_U8(error, IDEDrive),
    VMF_BOOL(irq_pending, IDEDrive),
    VMF_U16(cur_cyls, IDEDrive), VMF_U16(cur_heads, IDEDrive), VMF_U16(cur_secs, IDEDrive),
    VMF_U8(mult, IDEDrive), VMF_U8(xfer_mode, IDEDrive),
    VMF_BOOL(write_cache, IDEDrive), VMF_BOOL(lookahead, IDEDrive),
    VMF_BOOL(standby, IDEDrive),
    VMF_U8(cmd, IDEDrive), VMF_U8(xfer, IDEDrive), VMF_BOOL(lba48, IDEDrive),
    VMF_U64(lba, IDEDrive), VMF_U32(remain, IDEDrive), VMF_U32(chunk, IDEDrive),
    VMF_U32(block, IDEDrive), VMF_U32(pos, IDEDrive), VMF_U32(end, IDEDrive),
    VMF_U32(buf_len, IDEDrive),
    VMF_U8_ARRAY(cdb, IDEDrive, 12),
    VMF_U8(sense_key, IDEDrive), VMF_U8(asc, IDEDrive), VMF_U8(ascq, IDEDrive),
    VMF_BOOL(unit_attention, IDEDrive), VMF_BOOL(media_event, IDEDrive),
    VMF_BOOL(locked, IDEDrive), VMF_BOOL(tray_open, IDEDrive),
    VMF_BOOL(atapi_dma, IDEDrive), VMF_U16(byte_limit, IDEDrive),
    VMF_BUFFER(buf, IDEDrive),
    VMF_END
};

static const VMStateDesc ide_drive_vmsd = {
    .name = "ide-drive", .version = 1, .min_version = 1, .fields = ide_drive_fields,
};

static const VMField ide_bus_fields[] = {
    VMF_STRUCT_ARRAY(drive, IDEBus, 2, ide_drive_vmsd),
    VMF_U8(cur, IDEBus),
    VMF_U8(devctl, IDEBus),
    VMF_BOOL(irq_level, IDEBus),
    VMF_END
};

static const VMStateDesc ide_bus_vmsd = {
    .name = "ide", .version = 1, .min_version = 1, .fields = ide_bus_fields,
    .pre_save = ide_bus_pre_save, .post_load = ide_bus_post_load,
};

static void ide_bus_free(void *opaque)
{
    /* The board closes the images after the machine: no completion may
     * come back to a freed channel. */
    ide_bus_drain(opaque);
    free(opaque);
}

static const DeviceOps ide_bus_device_ops = {
    .name = "ide", .reset = ide_bus_reset, .free = ide_bus_free, .vmsd = &ide_bus_vmsd,
};

IDEBus *ide_bus_create(Machine *m, const char *name, uint16_t base, uint16_t ctl,
                       IRQLine *irq)
{
    IDEBus *b = xcalloc(1, sizeof(*b));
    b->m = m;
    snprintf(b->name, sizeof b->name, "%s", name);
    b->base = base;
    b->ctl = ctl;
    b->irq = irq;
    for (int i = 0; i < 2; i++) {
        b->drive[i].bus = b;
        b->drive[i].unit = i;
    }
    if (!iospace_add(m->io, b->name, base, 8, &ide_cmd_ops, b, NULL)) {
        free(b);
        return NULL;
    }
    if (!iospace_add(m->io, b->name, ctl, 1, &ide_ctl_ops, b, NULL)) {
        iospace_remove(m->io, base, 8);
        free(b);
        return NULL;
    }
    machine_add_device(m, &ide_bus_device_ops, b);
    return b;
}
