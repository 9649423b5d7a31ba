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
 * ASC/ASCQ codes); MMC-3 (READ TOC formats 0/1/2, GET CONFIGURATION
 * features, GET EVENT STATUS NOTIFICATION media class, mode page 2Ah).
 */
#include "hw/ide.h"

#include <string.h>

#include "core/log.h"

/* SCSI/MMC opcodes */
enum {
    SCSI_TEST_UNIT_READY = 0x00,
    SCSI_REQUEST_SENSE = 0x03,
    SCSI_INQUIRY = 0x12,
    SCSI_MODE_SENSE_6 = 0x1a,
    SCSI_START_STOP_UNIT = 0x1b,
    SCSI_PREVENT_ALLOW = 0x1e,
    SCSI_READ_CAPACITY = 0x25,
    SCSI_READ_10 = 0x28,
    SCSI_SEEK_10 = 0x2b,
    MMC_READ_TOC = 0x43,
    MMC_GET_CONFIGURATION = 0x46,
    MMC_GET_EVENT_STATUS = 0x4a,
    SCSI_MODE_SENSE_10 = 0x5a,
    SCSI_READ_12 = 0xa8,
    MMC_SET_CD_SPEED = 0xbb,
};

/* Sense keys and additional sense codes */
#define SENSE_NONE              0x00
#define SENSE_NOT_READY         0x02
#define SENSE_ILLEGAL_REQUEST   0x05
#define SENSE_UNIT_ATTENTION    0x06
#define SENSE_ABORTED_COMMAND   0x0b
#define ASC_INVALID_OPCODE      0x20
#define ASC_LBA_OUT_OF_RANGE    0x21
#define ASC_INVALID_FIELD       0x24
#define ASC_MEDIUM_CHANGED      0x28
#define ASC_SAVING_NOT_SUPPORTED 0x39
#define ASC_MEDIUM_NOT_PRESENT  0x3a
#define ASC_REMOVAL_PREVENTED   0x53

#define CD_MAX_SECTORS          (80 * 60 * 75)    /* past this, call it a DVD */

static bool atapi_medium(const IDEDrive *d)
{
    return d->bb && !d->tray_open;
}

static void put_be16(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)(v >> 8);
    p[1] = (uint8_t)v;
}

static void put_be32(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)(v >> 24);
    p[1] = (uint8_t)(v >> 16);
    p[2] = (uint8_t)(v >> 8);
    p[3] = (uint8_t)v;
}

static uint32_t get_be16(const uint8_t *p)
{
    return (uint32_t)p[0] << 8 | p[1];
}

static uint32_t get_be32(const uint8_t *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

/* A CD address as minute/second/frame (the 150-frame pregap included). */
static void put_msf(uint8_t *p, uint64_t lba)
{
    uint64_t f = lba + 150;
    p[0] = (uint8_t)(f / (75 * 60));
    p[1] = (uint8_t)((f / 75) % 60);
    p[2] = (uint8_t)(f % 75);
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

static uint32_t atapi_toc(IDEDrive *d, uint8_t *b, int format, bool msf, uint8_t track,
                          bool *bad)
{
    uint32_t n = 4;
    *bad = false;
    switch (format) {
    case 0:
        if (track > 1 && track != 0xaa) {
            *bad = true;
            return 0;
        }
        if (track <= 1) {
            uint8_t *e = b + n;
            memset(e, 0, 8);
            e[1] = 0x14;            /* ADR 1, data track */
            e[2] = 1;
            if (msf)
                put_msf(e + 5, 0);
            n += 8;
        }
        {
            uint8_t *e = b + n;
            memset(e, 0, 8);
            e[1] = 0x14;
            e[2] = 0xaa;            /* lead-out */
            if (msf)
                put_msf(e + 5, d->nsectors);
            else
                put_be32(e + 4, (uint32_t)d->nsectors);
            n += 8;
        }
        b[2] = 1;
        b[3] = 1;
        break;
    case 1:                         /* session info: one session */
        memset(b + 4, 0, 8);
        b[5] = 0x14;
        b[6] = 1;
        if (msf)
            put_msf(b + 9, 0);
        n = 12;
        b[2] = 1;
        b[3] = 1;
        break;
    case 2: {                       /* raw TOC: A0, A1, A2, track 1 */
        static const uint8_t points[4] = { 0xa0, 0xa1, 0xa2, 0x01 };
        for (int i = 0; i < 4; i++) {
            uint8_t *e = b + n;
            memset(e, 0, 11);
            e[0] = 1;               /* session */
            e[1] = 0x14;
            e[3] = points[i];
            if (points[i] == 0xa0 || points[i] == 0xa1)
                e[8] = 1;           /* first / last track; disc type 00h */
            else if (points[i] == 0xa2)
                put_msf(e + 8, d->nsectors);
            else
                put_msf(e + 8, 0);
            n += 11;
        }
        b[2] = 1;
        b[3] = 1;
        break;
    }
    default:
        *bad = true;
        return 0;
    }
    put_be16(b, n - 2);
    return n;
}

static uint32_t atapi_feature(uint8_t *e, uint16_t code, uint8_t flags, uint8_t len)
{
    put_be16(e, code);
    e[2] = flags;
    e[3] = len;
    memset(e + 4, 0, len);
    return 4u + len;
}

static uint32_t atapi_get_configuration(IDEDrive *d, uint8_t *b)
{
    bool medium = atapi_medium(d);
    bool dvd = medium && d->nsectors > CD_MAX_SECTORS;
    uint16_t profile = medium ? (dvd ? 0x0010 : 0x0008) : 0;
    int rt = d->cdb[1] & 3;
    uint16_t start = (uint16_t)get_be16(d->cdb + 2);
    uint32_t n = 8;
    memset(b, 0, 8);
    put_be16(b + 6, profile);
    struct { uint16_t code; bool current; } list[] = {
        { 0x0000, true }, { 0x0001, true }, { 0x0003, true },
        { 0x0010, medium }, { 0x001e, medium && !dvd }, { 0x001f, dvd },
    };
    for (size_t i = 0; i < sizeof list / sizeof list[0]; i++) {
        uint16_t code = list[i].code;
        if (rt == 2 ? code != start : code < start)
            continue;
        if (rt == 1 && !list[i].current)
            continue;
        uint8_t cur = list[i].current ? 1 : 0;
        uint8_t *e = b + n;
        switch (code) {
        case 0x0000:                /* profile list */
            n += atapi_feature(e, code, 0x03, 8);
            put_be16(e + 4, 0x0010);
            e[6] = profile == 0x0010;
            put_be16(e + 8, 0x0008);
            e[10] = profile == 0x0008;
            break;
        case 0x0001:                /* core: ATAPI interface */
            n += atapi_feature(e, code, 0x07, 8);
            put_be32(e + 4, 2);
            break;
        case 0x0003:                /* removable medium: tray, eject, lock */
            n += atapi_feature(e, code, 0x03, 4);
            e[4] = 0x29;
            break;
        case 0x0010:                /* random readable */
            n += atapi_feature(e, code, cur, 8);
            put_be32(e + 4, IDE_CD_SECTOR);
            put_be16(e + 8, dvd ? 16 : 1);
            break;
        case 0x001e:                /* CD read */
            n += atapi_feature(e, code, (uint8_t)(0x08 | cur), 4);
            break;
        default:                    /* 0x001f DVD read */
            n += atapi_feature(e, code, cur, 0);
            break;
        }
    }
    put_be32(b, n - 4);
    return n;
}

static uint32_t atapi_event_status(IDEDrive *d, uint8_t *b)
{
    uint8_t classes = d->cdb[4];
    memset(b, 0, 8);
    b[3] = 0x10;                    /* supported: media class */
    if (!(classes & 0x10)) {
        put_be16(b, 2);
        b[2] = 0x80;                /* no event available */
        return 4;
    }
    put_be16(b, 6);
    b[2] = 0x04;                    /* media class */
    if (d->media_event) {
        b[4] = atapi_medium(d) ? 0x02 : 0x03;   /* new media / media removal */
        d->media_event = false;
    }
    b[5] = atapi_medium(d) ? 0x02 : 0x00;
    if (d->tray_open)
        b[5] |= 0x01;
    return 8;
}

/* Mode pages 01h (read error recovery), 0Dh (CD parameters), 2Ah (MM
 * capabilities); 3Fh means all.  Returns 0 for a page we do not have. */
static uint32_t atapi_mode_pages(IDEDrive *d, uint8_t *p, int page)
{
    uint32_t n = 0;
    if (page == 0x01 || page == 0x3f) {
        memset(p + n, 0, 12);
        p[n] = 0x01;
        p[n + 1] = 0x0a;
        p[n + 3] = 5;               /* read retry count */
        n += 12;
    }
    if (page == 0x0d || page == 0x3f) {
        memset(p + n, 0, 8);
        p[n] = 0x0d;
        p[n + 1] = 0x06;
        put_be16(p + n + 4, 60);    /* S units per M */
        put_be16(p + n + 6, 75);    /* F units per S */
        n += 8;
    }
    if (page == 0x2a || page == 0x3f) {
        uint8_t *c = p + n;
        memset(c, 0, 26);
        c[0] = 0x2a;
        c[1] = 0x18;
        c[2] = 0x0f;                /* reads CD-R, CD-RW, method 2, DVD-ROM */
        c[4] = 0x71;                /* audio play, mode 2 form 1/2, multisession */
        c[6] = (uint8_t)(0x29 | (d->locked ? 0x02 : 0));   /* tray, eject, lock */
        put_be16(c + 8, 1411);      /* max read speed, KB/s (8x) */
        put_be16(c + 10, 256);      /* volume levels */
        put_be16(c + 12, 512);      /* buffer, KiB */
        put_be16(c + 14, 1411);
        n += 26;
    }
    return n;
}

static void atapi_mode_sense(IDEDrive *d, bool ten)
{
    int pc = d->cdb[2] >> 6, page = d->cdb[2] & 0x3f;
    if (pc == 3) {
        atapi_check(d, SENSE_ILLEGAL_REQUEST, ASC_SAVING_NOT_SUPPORTED, 0);
        return;
    }
    uint32_t hdr = ten ? 8 : 4;
    uint32_t n = atapi_mode_pages(d, d->buf + hdr, page);
    if (!n) {
        atapi_check(d, SENSE_ILLEGAL_REQUEST, ASC_INVALID_FIELD, 0);
        return;
    }
    memset(d->buf, 0, hdr);
    n += hdr;
    if (ten) {
        put_be16(d->buf, n - 2);
        atapi_send(d, n, get_be16(d->cdb + 7));
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
    case SCSI_TEST_UNIT_READY: case SCSI_READ_CAPACITY: case SCSI_READ_10:
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
        atapi_send(d, n, get_be16(c + 3));
        return;
    case SCSI_READ_CAPACITY:
        put_be32(d->buf, (uint32_t)(d->nsectors ? d->nsectors - 1 : 0));
        put_be32(d->buf + 4, IDE_CD_SECTOR);
        atapi_send(d, 8, 8);
        return;
    case SCSI_READ_10:
        atapi_read(d, get_be32(c + 2), get_be16(c + 7));
        return;
    case SCSI_READ_12:
        atapi_read(d, get_be32(c + 2), get_be32(c + 6));
        return;
    case MMC_READ_TOC: {
        int format = c[2] & 0x0f;
        if (!format)
            format = c[9] >> 6;     /* the older place of the format field */
        n = atapi_toc(d, d->buf, format, c[1] & 2, c[6], &bad);
        if (bad) {
            atapi_check(d, SENSE_ILLEGAL_REQUEST, ASC_INVALID_FIELD, 0);
            return;
        }
        atapi_send(d, n, get_be16(c + 7));
        return;
    }
    case MMC_GET_CONFIGURATION:
        n = atapi_get_configuration(d, d->buf);
        atapi_send(d, n, get_be16(c + 7));
        return;
    case MMC_GET_EVENT_STATUS:
        if (!(c[1] & 1)) {          /* only polled operation */
            atapi_check(d, SENSE_ILLEGAL_REQUEST, ASC_INVALID_FIELD, 0);
            return;
        }
        n = atapi_event_status(d, d->buf);
        atapi_send(d, n, get_be16(c + 7));
        return;
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
                }
            } else {
                if (d->locked) {
                    atapi_check(d, SENSE_ILLEGAL_REQUEST, ASC_REMOVAL_PREVENTED, 0x02);
                    return;
                }
                d->tray_open = true;
                d->media_event = true;
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
