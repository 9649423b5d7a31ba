/*
 * ATAPI CD-ROM: the PACKET protocol and the SCSI/MMC commands a CD/DVD
 * reader answers (see ide.h).
 *
 * PACKET: the device asks for the 12-byte command (DRQ, interrupt reason
 * C/D=1 I/O=0, no interrupt), runs it, then sends its reply either by PIO
 * in DRQ blocks no larger than the byte count limit the host put in the
 * LBA mid/high registers (each block announced with an interrupt, reason
 * I/O=1 and its byte count in those registers) or through the bus master
 * when the features register asked for DMA.  The command ends with
 * reason I/O=1 C/D=1, status DRDY (ERR plus the sense key in the error
 * register's high nibble on CHECK CONDITION) and an interrupt.
 *
 * Facts: ATA/ATAPI-6 9.11 (PACKET protocol), 8.x (IDENTIFY PACKET DEVICE
 * words); SPC-3 (INQUIRY, REQUEST SENSE fixed format, sense keys and
 * ASC/ASCQ codes).  The MMC replies (READ TOC, GET CONFIGURATION, GET
 * EVENT STATUS NOTIFICATION, the mode pages) are shared with the SCSI
 * CD-ROM: hw/scsi-mmc.c.
 */
#include "hw/ide.h"

#include <string.h>

#include "core/log.h"
#include "hw/scsi.h"

static bool atapi_medium(const IDEDrive *d)
{
    return d->bb && !d->tray_open;
}

/* The drive as the shared MMC replies (hw/scsi-mmc.c) see it. */
static MMCDrive atapi_mmc(const IDEDrive *d)
{
    return (MMCDrive){ .medium = atapi_medium(d), .tray_open = d->tray_open,
                       .locked = d->locked, .nsectors = d->nsectors, .interface = 2 };
}

static void atapi_tray_moved(IDEDrive *d)
{
    if (d->tray_moved)
        d->tray_moved(d->tray_opaque, d->tray_open);
}

/* ---- completion ---- */

static void atapi_good(IDEDrive *d)
{
    d->xfer = IDE_XFER_NONE;
    d->status = IDE_ST_DRDY | IDE_ST_DSC;
    d->error = 0;
    d->nsect = ATAPI_IR_IO | ATAPI_IR_COD;
    ide_set_irq(d);
}

static void atapi_check(IDEDrive *d, uint8_t key, uint8_t asc, uint8_t ascq)
{
    d->sense_key = key;
    d->asc = asc;
    d->ascq = ascq;
    d->xfer = IDE_XFER_NONE;
    d->status = IDE_ST_DRDY | IDE_ST_DSC | IDE_ST_ERR;
    d->error = (uint8_t)(key << 4 | (key == SENSE_ILLEGAL_REQUEST ? IDE_ER_ABRT : 0));
    d->nsect = ATAPI_IR_IO | ATAPI_IR_COD;
    ide_set_irq(d);
}

/* The bus master failed (bad PRD table, memory outside RAM). */
static void atapi_dma_fail(IDEDrive *d)
{
    d->bus->dma->end(d->bus->dma_opaque, true);
    atapi_check(d, SENSE_ABORTED_COMMAND, 0, 0);
    d->error |= IDE_ER_ABRT;
}

/* ---- data phase ---- */

static void atapi_pio_block(IDEDrive *d)
{
    uint32_t limit = d->byte_limit & ~1u;
    if (limit == 0)
        limit = 0xfffe;
    uint32_t n = d->buf_len - d->pos;
    if (n > limit)
        n = limit;
    d->end = d->pos + n;
    d->lcyl = (uint8_t)n;
    d->hcyl = (uint8_t)(n >> 8);
    d->nsect = ATAPI_IR_IO;
    d->status = IDE_ST_DRDY | IDE_ST_DSC | IDE_ST_DRQ;
    ide_set_irq(d);
}

static void atapi_read_cb(void *opaque, int ret)
{
    IDEDrive *d = opaque;
    d->aio_busy = false;
    if (ret < 0) {
        if (d->xfer == IDE_XFER_DMA_IN)
            d->bus->dma->end(d->bus->dma_opaque, true);
        atapi_check(d, 0x03, 0x11, 0x00);      /* MEDIUM ERROR, unrecovered read error */
        return;
    }
    d->buf_len = d->chunk * IDE_CD_SECTOR;
    d->pos = 0;
    d->lba += d->chunk;
    d->remain -= d->chunk;
    if (d->xfer == IDE_XFER_PIO_IN)
        atapi_pio_block(d);
    else if (d->xfer == IDE_XFER_DMA_IN)
        ide_atapi_dma_kick(d);
}

static void atapi_read_chunk(IDEDrive *d)
{
    uint32_t max = IDE_BUF_SIZE / IDE_CD_SECTOR;
    d->chunk = d->remain < max ? d->remain : max;
    d->status = IDE_ST_BSY | IDE_ST_DRDY | IDE_ST_DSC;
    d->aio_busy = true;
    int r = blk_aio_read(d->bb, d->lba * IDE_CD_SECTOR, d->buf,
                         (size_t)d->chunk * IDE_CD_SECTOR, atapi_read_cb, d);
    if (r < 0)
        atapi_read_cb(d, r);
}

void ide_atapi_dma_kick(IDEDrive *d)
{
    const IDEDMAOps *dma = d->bus->dma;
    if (d->xfer != IDE_XFER_DMA_IN || d->aio_busy || !dma ||
        !dma->running(d->bus->dma_opaque))
        return;
    if (d->pos < d->buf_len) {
        if (dma->rw(d->bus->dma_opaque, d->buf + d->pos, d->buf_len - d->pos, true) !=
            IDE_DMA_OK) {
            atapi_dma_fail(d);
            return;
        }
        d->pos = d->buf_len;
    }
    if (d->remain) {
        atapi_read_chunk(d);
        return;
    }
    dma->end(d->bus->dma_opaque, false);
    atapi_good(d);
}

/* Starts the data-in phase of what is in buf (len bytes, cut to the
 * allocation length), followed by `sectors` more read from the medium. */
static void atapi_send(IDEDrive *d, uint32_t len, uint32_t alloc)
{
    d->buf_len = len < alloc ? len : alloc;
    d->pos = 0;
    d->remain = 0;
    if (d->buf_len == 0) {
        atapi_good(d);
        return;
    }
    if (d->atapi_dma) {
        d->xfer = IDE_XFER_DMA_IN;
        d->status = IDE_ST_DRDY | IDE_ST_DSC | IDE_ST_DRQ;
        d->nsect = ATAPI_IR_IO;
        ide_atapi_dma_kick(d);
        return;
    }
    d->xfer = IDE_XFER_PIO_IN;
    atapi_pio_block(d);
}

void ide_atapi_data_done(IDEDrive *d)
{
    if (d->pos < d->buf_len)
        atapi_pio_block(d);
    else if (d->remain)
        atapi_read_chunk(d);
    else
        atapi_good(d);
}

/* ---- commands ---- */

static void atapi_read(IDEDrive *d, uint64_t lba, uint32_t count)
{
    if (lba > d->nsectors || count > d->nsectors - lba) {
        atapi_check(d, SENSE_ILLEGAL_REQUEST, ASC_LBA_OUT_OF_RANGE, 0);
        return;
    }
    if (count == 0) {
        atapi_good(d);
        return;
    }
    d->lba = lba;
    d->remain = count;
    d->pos = d->buf_len = 0;
    if (d->atapi_dma) {
        d->xfer = IDE_XFER_DMA_IN;
        d->status = IDE_ST_DRDY | IDE_ST_DSC | IDE_ST_DRQ;
        d->nsect = ATAPI_IR_IO;
        ide_atapi_dma_kick(d);
    } else {
        d->xfer = IDE_XFER_PIO_IN;
        atapi_read_chunk(d);
    }
}

static uint32_t atapi_inquiry(IDEDrive *d, uint8_t *b)
{
    memset(b, 0, 36);
    b[0] = 0x05;                    /* CD/DVD device */
    b[1] = 0x80;                    /* removable */
    b[2] = 0x00;
    b[3] = 0x21;                    /* ATAPI version 2, response format 1 */
    b[4] = 31;
    memcpy(b + 8, "VX86    ", 8);
    memset(b + 16, ' ', 16);
    memcpy(b + 16, d->model, strlen(d->model) < 16 ? strlen(d->model) : 16);
    memcpy(b + 32, "1.0 ", 4);
    return 36;
}

static void atapi_mode_sense(IDEDrive *d, bool ten)
{
    int pc = d->cdb[2] >> 6, page = d->cdb[2] & 0x3f;
    if (pc == 3) {
        atapi_check(d, SENSE_ILLEGAL_REQUEST, ASC_SAVING_NOT_SUPPORTED, 0);
        return;
    }
    uint32_t hdr = ten ? 8 : 4;
    MMCDrive md = atapi_mmc(d);
    uint32_t n = mmc_mode_pages(&md, d->buf + hdr, page);
    if (!n) {
        atapi_check(d, SENSE_ILLEGAL_REQUEST, ASC_INVALID_FIELD, 0);
        return;
    }
    memset(d->buf, 0, hdr);
    n += hdr;
    if (ten) {
        scsi_put_be16(d->buf, n - 2);
        atapi_send(d, n, scsi_get_be16(d->cdb + 7));
    } else {
        d->buf[0] = (uint8_t)(n - 1);
        atapi_send(d, n, d->cdb[4]);
    }
}

static uint32_t atapi_request_sense(IDEDrive *d, uint8_t *b)
{
    if (d->sense_key == SENSE_NONE && d->unit_attention) {
        d->unit_attention = false;
        d->sense_key = SENSE_UNIT_ATTENTION;
        d->asc = ASC_MEDIUM_CHANGED;
        d->ascq = 0;
    }
    memset(b, 0, 18);
    b[0] = 0x70;                    /* current error, fixed format */
    b[2] = d->sense_key;
    b[7] = 10;
    b[12] = d->asc;
    b[13] = d->ascq;
    d->sense_key = d->asc = d->ascq = 0;
    return 18;
}

static bool atapi_needs_medium(uint8_t op)
{
    switch (op) {
    case SCSI_TEST_UNIT_READY: case SCSI_READ_CAPACITY_10: case SCSI_READ_10:
    case SCSI_READ_12: case MMC_READ_TOC: case SCSI_SEEK_10:
        return true;
    default:
        return false;
    }
}

/* Commands that do not report a pending UNIT ATTENTION (SPC-3 5.8.7, MMC). */
static bool atapi_ignores_ua(uint8_t op)
{
    return op == SCSI_INQUIRY || op == SCSI_REQUEST_SENSE ||
           op == MMC_GET_EVENT_STATUS || op == MMC_GET_CONFIGURATION;
}

void ide_atapi_run(IDEDrive *d)
{
    const uint8_t *c = d->cdb;
    uint8_t op = c[0];
    bool bad;
    uint32_t n;
    if (op != SCSI_REQUEST_SENSE)
        d->sense_key = d->asc = d->ascq = 0;
    if (d->unit_attention && !atapi_ignores_ua(op)) {
        d->unit_attention = false;
        atapi_check(d, SENSE_UNIT_ATTENTION, ASC_MEDIUM_CHANGED, 0);
        return;
    }
    if (atapi_needs_medium(op) && !atapi_medium(d)) {
        atapi_check(d, SENSE_NOT_READY, ASC_MEDIUM_NOT_PRESENT, d->tray_open ? 0x02 : 0x01);
        return;
    }
    switch (op) {
    case SCSI_TEST_UNIT_READY:
    case SCSI_SEEK_10:
    case MMC_SET_CD_SPEED:
        atapi_good(d);
        return;
    case SCSI_REQUEST_SENSE:
        n = atapi_request_sense(d, d->buf);
        atapi_send(d, n, c[4]);
        return;
    case SCSI_INQUIRY:
        if (c[1] & 1) {             /* vital product data: none */
            atapi_check(d, SENSE_ILLEGAL_REQUEST, ASC_INVALID_FIELD, 0);
            return;
        }
        n = atapi_inquiry(d, d->buf);
        atapi_send(d, n, scsi_get_be16(c + 3));
        return;
    case SCSI_READ_CAPACITY_10:
        scsi_put_be32(d->buf, (uint32_t)(d->nsectors ? d->nsectors - 1 : 0));
        scsi_put_be32(d->buf + 4, IDE_CD_SECTOR);
        atapi_send(d, 8, 8);
        return;
    case SCSI_READ_10:
        atapi_read(d, scsi_get_be32(c + 2), scsi_get_be16(c + 7));
        return;
    case SCSI_READ_12:
        atapi_read(d, scsi_get_be32(c + 2), scsi_get_be32(c + 6));
        return;
    case MMC_READ_TOC: {
        int format = c[2] & 0x0f;
        if (!format)
            format = c[9] >> 6;     /* the older place of the format field */
        MMCDrive md = atapi_mmc(d);
        n = mmc_read_toc(&md, d->buf, format, c[1] & 2, c[6], &bad);
        if (bad) {
            atapi_check(d, SENSE_ILLEGAL_REQUEST, ASC_INVALID_FIELD, 0);
            return;
        }
        atapi_send(d, n, scsi_get_be16(c + 7));
        return;
    }
    case MMC_GET_CONFIGURATION: {
        MMCDrive md = atapi_mmc(d);
        n = mmc_get_configuration(&md, d->buf, c[1] & 3, (uint16_t)scsi_get_be16(c + 2));
        atapi_send(d, n, scsi_get_be16(c + 7));
        return;
    }
    case MMC_GET_EVENT_STATUS: {
        if (!(c[1] & 1)) {          /* only polled operation */
            atapi_check(d, SENSE_ILLEGAL_REQUEST, ASC_INVALID_FIELD, 0);
            return;
        }
        MMCDrive md = atapi_mmc(d);
        n = mmc_event_status(&md, d->buf, c[4], &d->media_event);
        atapi_send(d, n, scsi_get_be16(c + 7));
        return;
    }
    case SCSI_MODE_SENSE_6:
        atapi_mode_sense(d, false);
        return;
    case SCSI_MODE_SENSE_10:
        atapi_mode_sense(d, true);
        return;
    case SCSI_START_STOP_UNIT:
        if (c[4] & 2) {             /* LoEj */
            if (c[4] & 1) {         /* load */
                if (d->tray_open) {
                    d->tray_open = false;
                    d->media_event = d->bb != NULL;
                    atapi_tray_moved(d);
                }
            } else {
                if (d->locked) {
                    atapi_check(d, SENSE_ILLEGAL_REQUEST, ASC_REMOVAL_PREVENTED, 0x02);
                    return;
                }
                bool moved = !d->tray_open;
                d->tray_open = true;
                d->media_event = true;
                if (moved)
                    atapi_tray_moved(d);
            }
        }
        atapi_good(d);
        return;
    case SCSI_PREVENT_ALLOW:
        d->locked = c[4] & 1;
        atapi_good(d);
        return;
    default:
        LOG(LOG_UNIMP, "%s: unit %d: ATAPI command 0x%02x not supported\n",
            d->bus->name, d->unit, op);
        atapi_check(d, SENSE_ILLEGAL_REQUEST, ASC_INVALID_OPCODE, 0);
        return;
    }
}

void ide_atapi_packet_start(IDEDrive *d)
{
    d->atapi_dma = d->feature & 1;
    d->byte_limit = (uint16_t)(d->hcyl << 8 | d->lcyl);
    d->xfer = IDE_XFER_PACKET;
    d->pos = 0;
    d->end = 12;
    d->buf_len = 0;
    d->remain = 0;
    d->nsect = ATAPI_IR_COD;
    d->status = IDE_ST_DRDY | IDE_ST_DSC | IDE_ST_DRQ;
}

void ide_atapi_reset(IDEDrive *d)
{
    d->sense_key = d->asc = d->ascq = 0;
    d->atapi_dma = false;
    d->byte_limit = 0;
}

void ide_atapi_identify(IDEDrive *d, uint16_t *w)
{
    w[0] = 0x85c0;                  /* ATAPI, CD-ROM, removable, 50 us DRQ, 12-byte packets */
    ide_put_string(w + 10, d->serial, 10);
    ide_put_string(w + 23, "1.0", 4);
    ide_put_string(w + 27, d->model, 20);
    w[49] = 0x0b00;                 /* IORDY, LBA, DMA */
    w[53] = 0x0007;
    w[63] = 0x0007;
    w[64] = 0x0003;
    w[65] = 120;
    w[66] = 120;
    w[67] = 120;
    w[68] = 120;
    w[80] = 0x007e;
    w[82] = 0x0210;                 /* DEVICE RESET, PACKET */
    w[83] = 0x4000;
    w[84] = 0x4000;
    w[85] = 0x0210;
    w[87] = 0x4000;
    w[88] = 0x003f;
    if ((d->xfer_mode & 0xf8) == 0x20)
        w[63] |= (uint16_t)(0x0100 << (d->xfer_mode & 7));
    else if ((d->xfer_mode & 0xf8) == 0x40)
        w[88] |= (uint16_t)(0x0100 << (d->xfer_mode & 7));
    w[93] = (uint16_t)(0x4000 | (d->unit ? 0x0100 : 0x0001) | 0x2000);
}
