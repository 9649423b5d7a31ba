/*
 * scsi-hd and scsi-cd (see scsi-disk.h): the command table, one handler
 * per command, and the asynchronous I/O on the block layer.
 *
 * Facts used:
 * - SPC-4: INQUIRY standard data (peripheral type 00h disk / 05h CD,
 *   RMB, version 05h, response format 2, HISUP, CMDQUE), VPD pages 00h
 *   (supported pages), 80h (unit serial number), 83h (device
 *   identification: a T10 vendor ID designator, code set ASCII,
 *   association logical unit); MODE SENSE(6/10) headers and the short LBA
 *   block descriptor; REQUEST SENSE; UNIT ATTENTION reported once, not
 *   to INQUIRY / REPORT LUNS / REQUEST SENSE.
 * - SBC-3: READ/WRITE(6/10/12/16) LBA and length fields (READ(6): 21-bit
 *   LBA, length 0 = 256 blocks), READ CAPACITY(10) (FFFFFFFFh when the
 *   last LBA does not fit) and (16) (LBPME byte 14 bit 7), SYNCHRONIZE
 *   CACHE, UNMAP parameter list (8-byte header, 16-byte descriptors: LBA,
 *   number of blocks), WRITE SAME(10/16) (UNMAP bit 3, ANCHOR bit 4, NDOB
 *   bit 0 of byte 1), VPD B0h block limits (WSNZ, maximum transfer length,
 *   maximum unmap LBA count and descriptor count, optimal unmap
 *   granularity, maximum write same length), B1h block device
 *   characteristics (rotation rate 1: non-rotating), B2h logical block
 *   provisioning (LBPU, LBPWS, LBPWS10; provisioning type 2 thin);
 *   mode pages 01h read-write error recovery, 08h caching (WCE byte 2
 *   bit 2), 0Ah control.
 * - MMC-6 for the CD (hw/scsi-mmc.c): a CD reports NOT READY, MEDIUM NOT
 *   PRESENT (3Ah, ASCQ 1 tray closed / 2 open) without a disc; START STOP
 *   UNIT with LoEj opens / closes the tray unless PREVENT locked it.
 */
#include "hw/scsi-disk.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/device.h"
#include "core/log.h"
#include "core/util.h"

#define HD_BLOCK            512u
#define WRITE_SAME_CHUNK    (1u << 20)   /* bytes per write of a WRITE SAME */

typedef struct SCSIDisk {
    SCSIDevice dev;
    Machine *m;
    SCSIDiskKind kind;
    BlockBackend *bb;
    uint32_t block_size;
    uint64_t nblocks;
    bool read_only;
    bool wce;                       /* write cache enabled (mode page 08h) */
    bool tray_open, locked;
    bool media_event;               /* GET EVENT STATUS: not reported yet */
    void (*tray_moved)(void *opaque, bool open);    /* the board's (DEVICE_TRAY_MOVED) */
    void *tray_opaque;
    uint8_t ua_asc, ua_ascq;        /* pending UNIT ATTENTION (asc 0: none) */
    bool draining;                  /* reset / task abort: no new block requests */
    char serial[21];                /* "": derived from the address on the bus */
    SCSIRequest *inflight;          /* requests with block I/O in flight */
} SCSIDisk;

typedef void (*SCSIDiskCmdFn)(SCSIDisk *s, SCSIRequest *r);

/* Who a command is for, and what it needs. */
#define FOR_HD          0x01
#define FOR_CD          0x02
#define FOR_ALL         (FOR_HD | FOR_CD)
#define NEEDS_MEDIUM    0x04        /* NOT READY without a disc */
#define WRITES          0x08        /* DATA PROTECT on a read-only unit */
#define NO_UA           0x10        /* runs with a UNIT ATTENTION pending */

typedef struct SCSIDiskCmd {
    uint8_t flags;
    SCSIDiskCmdFn fn;
} SCSIDiskCmd;

static bool disk_medium(const SCSIDisk *s)
{
    return s->bb && !s->tray_open;
}

static MMCDrive disk_mmc(const SCSIDisk *s)
{
    return (MMCDrive){ .medium = disk_medium(s), .tray_open = s->tray_open,
                       .locked = s->locked, .nsectors = s->nblocks, .interface = 1 };
}

/* ---- requests in flight ---- */

static void req_track(SCSIDisk *s, SCSIRequest *r, size_t buf_len)
{
    r->buf_len = buf_len;
    r->buf = buf_len ? xmalloc(buf_len) : NULL;
    s->dev.inflight_bytes += buf_len;
    r->prev = NULL;
    r->next = s->inflight;
    if (s->inflight)
        s->inflight->prev = r;
    s->inflight = r;
}

/* Unlinks r and frees its bounce buffer; the caller completes it. */
static void req_untrack(SCSIDisk *s, SCSIRequest *r)
{
    if (r->prev)
        r->prev->next = r->next;
    else
        s->inflight = r->next;
    if (r->next)
        r->next->prev = r->prev;
    r->prev = r->next = NULL;
    s->dev.inflight_bytes -= r->buf_len;
    free(r->buf);
    r->buf = NULL;
    r->buf_len = 0;
}

/* Ends a tracked request: GOOD, or the sense for a failed block request. */
static void req_finish(SCSIDisk *s, SCSIRequest *r, uint8_t key, uint8_t asc)
{
    int err = r->error;
    req_untrack(s, r);
    if (err < 0) {
        LOG(LOG_GUEST_ERRORS, "scsi-disk %d:%d: command 0x%02x failed: %s\n", s->dev.target,
            s->dev.lun, r->cdb[0], strerror(-err));
        scsi_req_check(r, key, asc, 0);
    } else {
        scsi_req_good(r);
    }
    scsi_bus_released(s->dev.bus);
}

/* ---- range checks ---- */

static bool lba_range_ok(const SCSIDisk *s, uint64_t lba, uint64_t n)
{
    return lba <= s->nblocks && n <= s->nblocks - lba;
}

/* ---- READ / WRITE ---- */

static void rw_read_done(void *opaque, int ret)
{
    SCSIRequest *r = opaque;
    SCSIDisk *s = (SCSIDisk *)r->dev;
    r->error = ret;
    if (ret == 0)
        r->in_len = r->ops->write_in(r, 0, r->buf, r->buf_len);
    req_finish(s, r, SENSE_MEDIUM_ERROR, ASC_UNRECOVERED_READ);
}

static void rw_write_done(void *opaque, int ret)
{
    SCSIRequest *r = opaque;
    SCSIDisk *s = (SCSIDisk *)r->dev;
    r->error = ret;
    req_finish(s, r, SENSE_MEDIUM_ERROR, ASC_WRITE_ERROR);
}

/* The checks every transfer gets, in SBC's order: range, then size. */
static bool xfer_ok(SCSIDisk *s, SCSIRequest *r, uint64_t lba, uint64_t n, bool write)
{
    if (!lba_range_ok(s, lba, n)) {
        scsi_req_check(r, SENSE_ILLEGAL_REQUEST, ASC_LBA_OUT_OF_RANGE, 0);
        return false;
    }
    if (n > SCSI_DISK_MAX_XFER / s->block_size) {
        scsi_req_check(r, SENSE_ILLEGAL_REQUEST, ASC_INVALID_FIELD, 0);
        return false;
    }
    if (n * s->block_size > (write ? r->out_max : r->in_max)) {
        scsi_req_overrun(r);
        return false;
    }
    return true;
}

static void disk_rw(SCSIDisk *s, SCSIRequest *r, uint64_t lba, uint64_t n, bool write)
{
    if (!xfer_ok(s, r, lba, n, write))
        return;
    if (n == 0) {
        scsi_req_good(r);
        return;
    }
    size_t len = (size_t)(n * s->block_size);
    req_track(s, r, len);
    int rc;
    if (write) {
        if (r->ops->read_out(r, 0, r->buf, len) != len) {
            req_untrack(s, r);
            scsi_req_overrun(r);
            return;
        }
        r->out_len = len;
        rc = blk_aio_write(s->bb, lba * s->block_size, r->buf, len, rw_write_done, r);
    } else {
        rc = blk_aio_read(s->bb, lba * s->block_size, r->buf, len, rw_read_done, r);
    }
    if (rc < 0)
        (write ? rw_write_done : rw_read_done)(r, rc);
}

/* The LBA and length fields of the READ/WRITE/VERIFY families. */
static void cdb_lba_len(const uint8_t *c, uint64_t *lba, uint64_t *n)
{
    switch (c[0] >> 5) {
    case 0:                         /* 6-byte CDB: 21-bit LBA, 0 means 256 */
        *lba = scsi_get_be24(c + 1) & 0x1fffff;
        *n = c[4] ? c[4] : 256;
        break;
    case 1:                         /* 10-byte */
    case 2:
        *lba = scsi_get_be32(c + 2);
        *n = scsi_get_be16(c + 7);
        break;
    case 5:                         /* 12-byte */
        *lba = scsi_get_be32(c + 2);
        *n = scsi_get_be32(c + 6);
        break;
    default:                        /* 16-byte */
        *lba = scsi_get_be64(c + 2);
        *n = scsi_get_be32(c + 10);
        break;
    }
}

static void cmd_read(SCSIDisk *s, SCSIRequest *r)
{
    uint64_t lba, n;
    cdb_lba_len(r->cdb, &lba, &n);
    disk_rw(s, r, lba, n, false);
}

static void cmd_write(SCSIDisk *s, SCSIRequest *r)
{
    uint64_t lba, n;
    cdb_lba_len(r->cdb, &lba, &n);
    disk_rw(s, r, lba, n, true);
}

/* VERIFY without a byte check: the medium is always readable. */
static void cmd_verify(SCSIDisk *s, SCSIRequest *r)
{
    uint64_t lba, n;
    cdb_lba_len(r->cdb, &lba, &n);
    if (r->cdb[1] & 0x06) {         /* BYTCHK: compare data-out (not supported) */
        scsi_req_check(r, SENSE_ILLEGAL_REQUEST, ASC_INVALID_FIELD, 0);
        return;
    }
    if (!lba_range_ok(s, lba, n)) {
        scsi_req_check(r, SENSE_ILLEGAL_REQUEST, ASC_LBA_OUT_OF_RANGE, 0);
        return;
    }
    scsi_req_good(r);
}

/* ---- SYNCHRONIZE CACHE, UNMAP, WRITE SAME ---- */

static void cmd_sync_cache(SCSIDisk *s, SCSIRequest *r)
{
    uint64_t lba = r->cdb[0] == SCSI_SYNCHRONIZE_CACHE_16 ? scsi_get_be64(r->cdb + 2)
                                                          : scsi_get_be32(r->cdb + 2);
    if (lba > s->nblocks) {
        scsi_req_check(r, SENSE_ILLEGAL_REQUEST, ASC_LBA_OUT_OF_RANGE, 0);
        return;
    }
    req_track(s, r, 0);
    int rc = blk_aio_flush(s->bb, rw_write_done, r);
    if (rc < 0)
        rw_write_done(r, rc);
}

/* One of several block requests of a command finished. */
static void multi_done(void *opaque, int ret)
{
    SCSIRequest *r = opaque;
    SCSIDisk *s = (SCSIDisk *)r->dev;
    if (ret < 0 && r->error == 0)
        r->error = ret;
    if (--r->pending == 0)
        req_finish(s, r, SENSE_MEDIUM_ERROR, ASC_WRITE_ERROR);
}

/* Discards [lba, lba + n) as one more of r's block requests. */
static void discard_one(SCSIDisk *s, SCSIRequest *r, uint64_t lba, uint64_t n)
{
    r->pending++;
    int rc = blk_aio_discard(s->bb, lba * s->block_size, (size_t)(n * s->block_size),
                             multi_done, r);
    if (rc < 0)
        multi_done(r, rc);
}

static void cmd_unmap(SCSIDisk *s, SCSIRequest *r)
{
    const uint8_t *c = r->cdb;
    uint32_t plen = scsi_get_be16(c + 7);
    if (c[1] & 1) {                 /* ANCHOR: no anchored state here */
        scsi_req_check(r, SENSE_ILLEGAL_REQUEST, ASC_INVALID_FIELD, 0);
        return;
    }
    if (plen == 0) {
        scsi_req_good(r);
        return;
    }
    if (plen < 8) {
        scsi_req_check(r, SENSE_ILLEGAL_REQUEST, ASC_PARAM_LIST_LENGTH, 0);
        return;
    }
    if (plen > r->out_max) {
        scsi_req_overrun(r);
        return;
    }
    uint8_t p[8 + 16 * SCSI_DISK_MAX_UNMAP_DESC];
    size_t want = plen < sizeof p ? plen : sizeof p;
    if (r->ops->read_out(r, 0, p, want) != want) {
        scsi_req_overrun(r);
        return;
    }
    r->out_len = plen;
    uint32_t bdlen = scsi_get_be16(p + 2);
    if (bdlen > plen - 8)
        bdlen = plen - 8;
    uint32_t ndesc = bdlen / 16;
    if (ndesc > SCSI_DISK_MAX_UNMAP_DESC) {
        scsi_req_check(r, SENSE_ILLEGAL_REQUEST, ASC_INVALID_PARAM, 0);
        return;
    }
    /* Check every descriptor before discarding anything. */
    for (uint32_t i = 0; i < ndesc; i++) {
        const uint8_t *d = p + 8 + 16 * i;
        uint64_t lba = scsi_get_be64(d);
        uint32_t n = scsi_get_be32(d + 8);
        if (!lba_range_ok(s, lba, n)) {
            scsi_req_check(r, SENSE_ILLEGAL_REQUEST, ASC_LBA_OUT_OF_RANGE, 0);
            return;
        }
        if (n > SCSI_DISK_MAX_UNMAP_BLOCKS) {
            scsi_req_check(r, SENSE_ILLEGAL_REQUEST, ASC_INVALID_PARAM, 0);
            return;
        }
    }
    req_track(s, r, 0);
    r->pending = 1;                 /* held until every discard is queued */
    for (uint32_t i = 0; i < ndesc; i++) {
        const uint8_t *d = p + 8 + 16 * i;
        uint32_t n = scsi_get_be32(d + 8);
        if (n)
            discard_one(s, r, scsi_get_be64(d), n);
    }
    multi_done(r, 0);
}

static void write_same_next(void *opaque, int ret);

/* Writes the next chunk of a WRITE SAME (the pattern repeated in buf). */
static void write_same_chunk(SCSIDisk *s, SCSIRequest *r)
{
    uint64_t per = r->buf_len / s->block_size;
    uint64_t n = r->count < per ? r->count : per;
    uint64_t lba = r->lba;
    r->lba += n;
    r->count -= n;
    int rc = blk_aio_write(s->bb, lba * s->block_size, r->buf, (size_t)(n * s->block_size),
                           write_same_next, r);
    if (rc < 0)
        write_same_next(r, rc);
}

static void write_same_next(void *opaque, int ret)
{
    SCSIRequest *r = opaque;
    SCSIDisk *s = (SCSIDisk *)r->dev;
    r->error = ret;
    if (ret == 0 && r->count && s->draining) {
        /* A reset or an abort waits for this unit: stop here (up to 2 GiB
         * of chunks would follow). */
        r->error = -ECANCELED;
        req_finish(s, r, SENSE_ABORTED_COMMAND, 0);
    } else if (ret < 0 || r->count == 0) {
        req_finish(s, r, SENSE_MEDIUM_ERROR, ASC_WRITE_ERROR);
    } else {
        write_same_chunk(s, r);
    }
}

static bool all_zero(const uint8_t *p, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (p[i])
            return false;
    return true;
}

static void cmd_write_same(SCSIDisk *s, SCSIRequest *r)
{
    const uint8_t *c = r->cdb;
    bool sixteen = c[0] == SCSI_WRITE_SAME_16;
    bool unmap = c[1] & 0x08, ndob = sixteen && (c[1] & 0x01);
    uint64_t lba = sixteen ? scsi_get_be64(c + 2) : scsi_get_be32(c + 2);
    uint64_t n = sixteen ? scsi_get_be32(c + 10) : scsi_get_be16(c + 7);
    if ((c[1] & 0x10) || n == 0 || n > SCSI_DISK_MAX_UNMAP_BLOCKS) {
        /* ANCHOR, or a length beyond the block limits (WSNZ: 0 is not
         * "to the end") */
        scsi_req_check(r, SENSE_ILLEGAL_REQUEST, ASC_INVALID_FIELD, 0);
        return;
    }
    if (!lba_range_ok(s, lba, n)) {
        scsi_req_check(r, SENSE_ILLEGAL_REQUEST, ASC_LBA_OUT_OF_RANGE, 0);
        return;
    }
    if (!ndob && r->out_max < s->block_size) {
        scsi_req_overrun(r);
        return;
    }
    uint64_t bytes = n * s->block_size;
    size_t chunk = bytes < WRITE_SAME_CHUNK ? (size_t)bytes : WRITE_SAME_CHUNK;
    req_track(s, r, chunk);
    memset(r->buf, 0, s->block_size);
    if (!ndob) {
        if (r->ops->read_out(r, 0, r->buf, s->block_size) != s->block_size) {
            req_untrack(s, r);
            scsi_req_overrun(r);
            return;
        }
        r->out_len = s->block_size;
    }
    if (unmap && all_zero(r->buf, s->block_size)) {
        /* Zeros with UNMAP: a discard (a hole reads back as zeros on raw
         * images; LBPRZ stays 0 since qcow2 with a backing file differs). */
        r->pending = 1;
        discard_one(s, r, lba, n);
        multi_done(r, 0);
        return;
    }
    for (size_t off = s->block_size; off < chunk; off += s->block_size)
        memcpy(r->buf + off, r->buf, s->block_size);
    r->lba = lba;
    r->count = n;
    write_same_chunk(s, r);
}

/* ---- INQUIRY ---- */

static uint8_t disk_type(const SCSIDisk *s)
{
    return s->kind == SCSI_DISK_CD ? 0x05 : 0x00;
}

static const char *disk_product(const SCSIDisk *s)
{
    return s->kind == SCSI_DISK_CD ? "VX86 CD-ROM" : "VX86 HARDDISK";
}

static void put_padded(uint8_t *p, const char *str, size_t n)
{
    memset(p, ' ', n);
    size_t l = strlen(str);
    memcpy(p, str, l < n ? l : n);
}

static uint32_t inquiry_standard(const SCSIDisk *s, uint8_t *b)
{
    memset(b, 0, 36);
    b[0] = disk_type(s);
    b[1] = s->kind == SCSI_DISK_CD ? 0x80 : 0x00;   /* removable medium */
    b[2] = 0x05;                    /* SPC-3 */
    b[3] = 0x12;                    /* HISUP, response data format 2 */
    b[4] = 36 - 5;
    b[7] = 0x02;                    /* CMDQUE: commands may overlap */
    put_padded(b + 8, "VX86", 8);
    put_padded(b + 16, disk_product(s), 16);
    put_padded(b + 32, "1.0", 4);
    return 36;
}

static const uint8_t hd_vpd_pages[] = { 0x00, 0x80, 0x83, 0xb0, 0xb1, 0xb2 };
static const uint8_t cd_vpd_pages[] = { 0x00, 0x80, 0x83 };

/* The unit serial number: serial=, else one made of the unit's address. */
static void disk_serial(const SCSIDisk *s, char *buf, size_t len)
{
    if (s->serial[0])
        snprintf(buf, len, "%s", s->serial);
    else
        snprintf(buf, len, "VX86-%d-%d", s->dev.target, s->dev.lun);
}

/* A VPD page into b (header included); 0 when the unit does not have it. */
static uint32_t inquiry_vpd(const SCSIDisk *s, uint8_t *b, uint8_t page)
{
    char serial[sizeof s->serial];
    disk_serial(s, serial, sizeof serial);
    bool hd = s->kind == SCSI_DISK_HD;
    const uint8_t *pages = hd ? hd_vpd_pages : cd_vpd_pages;
    size_t npages = hd ? sizeof hd_vpd_pages : sizeof cd_vpd_pages;
    bool have = false;
    for (size_t i = 0; i < npages; i++)
        have |= pages[i] == page;
    if (!have)
        return 0;
    uint32_t n = 4;
    memset(b, 0, 4 + 0x3c);
    b[0] = disk_type(s);
    b[1] = page;
    switch (page) {
    case 0x00:
        memcpy(b + 4, pages, npages);
        n += (uint32_t)npages;
        break;
    case 0x80: {
        size_t l = strlen(serial);
        memcpy(b + 4, serial, l);
        n += (uint32_t)l;
        break;
    }
    case 0x83: {                    /* a T10 vendor ID designator */
        size_t l = strlen(serial);
        uint8_t *d = b + 4;
        d[0] = 0x02;                /* code set: ASCII */
        d[1] = 0x01;                /* association: the logical unit; type: T10 vendor ID */
        d[3] = (uint8_t)(8 + l);
        put_padded(d + 4, "VX86", 8);
        memcpy(d + 12, serial, l);
        n += 12 + (uint32_t)l;
        break;
    }
    case 0xb0: {                    /* block limits */
        uint32_t max_xfer = SCSI_DISK_MAX_XFER / s->block_size;
        b[4] = 0x01;                /* WSNZ: WRITE SAME needs a length */
        scsi_put_be16(b + 6, 1);    /* optimal transfer length granularity */
        scsi_put_be32(b + 8, max_xfer);
        scsi_put_be32(b + 20, SCSI_DISK_MAX_UNMAP_BLOCKS);
        scsi_put_be32(b + 24, SCSI_DISK_MAX_UNMAP_DESC);
        scsi_put_be32(b + 28, 4096 / s->block_size);    /* optimal unmap granularity */
        scsi_put_be64(b + 36, SCSI_DISK_MAX_UNMAP_BLOCKS);  /* maximum write same length */
        n += 0x3c;
        break;
    }
    case 0xb1:                      /* block device characteristics */
        scsi_put_be16(b + 4, 1);    /* medium rotation rate: non-rotating */
        n += 0x3c;
        break;
    default:                        /* 0xb2 logical block provisioning */
        b[5] = 0xe0;                /* LBPU, LBPWS, LBPWS10 */
        b[6] = 0x02;                /* provisioning type: thin */
        n += 4;
        break;
    }
    scsi_put_be16(b + 2, n - 4);
    return n;
}

static void cmd_inquiry(SCSIDisk *s, SCSIRequest *r)
{
    const uint8_t *c = r->cdb;
    uint8_t b[4 + 0x3c + 32];
    uint32_t n;
    if (c[1] & 0x02) {              /* CmdDt (obsolete) */
        scsi_req_check(r, SENSE_ILLEGAL_REQUEST, ASC_INVALID_FIELD, 0);
        return;
    }
    if (c[1] & 0x01) {
        n = inquiry_vpd(s, b, c[2]);
    } else {
        n = c[2] ? 0 : inquiry_standard(s, b);   /* a page code needs EVPD */
    }
    if (!n) {
        scsi_req_check(r, SENSE_ILLEGAL_REQUEST, ASC_INVALID_FIELD, 0);
        return;
    }
    scsi_req_reply(r, b, n, scsi_get_be16(c + 3));
}

/* ---- MODE SENSE ---- */

/* The disk's pages 01h, 08h, 0Ah (3Fh all). */
static uint32_t hd_mode_pages(const SCSIDisk *s, uint8_t *p, int page)
{
    uint32_t n = 0;
    if (page == 0x01 || page == 0x3f) {     /* read-write error recovery */
        memset(p + n, 0, 12);
        p[n] = 0x01;
        p[n + 1] = 0x0a;
        p[n + 2] = 0xc0;            /* AWRE, ARRE */
        n += 12;
    }
    if (page == 0x08 || page == 0x3f) {     /* caching */
        memset(p + n, 0, 20);
        p[n] = 0x08;
        p[n + 1] = 0x12;
        if (s->wce)
            p[n + 2] = 0x04;        /* WCE: the host page cache is a write cache */
        n += 20;
    }
    if (page == 0x0a || page == 0x3f) {     /* control */
        memset(p + n, 0, 12);
        p[n] = 0x0a;
        p[n + 1] = 0x0a;
        n += 12;
    }
    return n;
}

/* The changeable-values form of n bytes of pages: no MODE SELECT here,
 * so every field but the page code and length reads 0. */
static void mode_pages_clear(uint8_t *p, uint32_t n)
{
    for (uint32_t i = 0; i + 2 <= n; i += p[i + 1] + 2u)
        memset(p + i + 2, 0, p[i + 1] <= n - i - 2 ? p[i + 1] : n - i - 2);
}

static void cmd_mode_sense(SCSIDisk *s, SCSIRequest *r)
{
    const uint8_t *c = r->cdb;
    bool ten = c[0] == SCSI_MODE_SENSE_10;
    int pc = c[2] >> 6, page = c[2] & 0x3f;
    bool dbd = c[1] & 0x08;
    if (pc == 3) {
        scsi_req_check(r, SENSE_ILLEGAL_REQUEST, ASC_SAVING_NOT_SUPPORTED, 0);
        return;
    }
    if (c[3] != 0 && !(page == 0x3f && c[3] == 0xff)) {     /* subpages: none */
        scsi_req_check(r, SENSE_ILLEGAL_REQUEST, ASC_INVALID_FIELD, 0);
        return;
    }
    uint8_t b[8 + 8 + 64];
    uint32_t hdr = ten ? 8 : 4;
    /* Disks give the short LBA block descriptor unless DBD; CDs none. */
    uint32_t bd = s->kind == SCSI_DISK_HD && !dbd ? 8 : 0;
    uint32_t n;
    if (s->kind == SCSI_DISK_CD) {
        MMCDrive md = disk_mmc(s);
        n = mmc_mode_pages(&md, b + hdr, page);
    } else {
        n = hd_mode_pages(s, b + hdr + bd, page);
    }
    if (pc == 1)                    /* changeable values: none */
        mode_pages_clear(b + hdr + bd, n);
    if (!n) {
        scsi_req_check(r, SENSE_ILLEGAL_REQUEST, ASC_INVALID_FIELD, 0);
        return;
    }
    memset(b, 0, hdr);
    uint8_t devspec = s->kind == SCSI_DISK_HD && s->read_only ? 0x80 : 0;   /* WP */
    if (bd) {
        uint8_t *d = b + hdr;
        memset(d, 0, 8);
        scsi_put_be32(d, s->nblocks > 0xffffffffu ? 0xffffffffu : (uint32_t)s->nblocks);
        d[5] = (uint8_t)(s->block_size >> 16);
        d[6] = (uint8_t)(s->block_size >> 8);
        d[7] = (uint8_t)s->block_size;
    }
    n += hdr + bd;
    if (ten) {
        scsi_put_be16(b, n - 2);
        b[3] = devspec;
        scsi_put_be16(b + 6, bd);
        scsi_req_reply(r, b, n, scsi_get_be16(c + 7));
    } else {
        b[0] = (uint8_t)(n - 1);
        b[2] = devspec;
        b[3] = (uint8_t)bd;
        scsi_req_reply(r, b, n, c[4]);
    }
}

/* ---- small commands ---- */

static void cmd_good(SCSIDisk *s, SCSIRequest *r)
{
    scsi_req_good(r);
}

static void cmd_request_sense(SCSIDisk *s, SCSIRequest *r)
{
    uint8_t b[SCSI_SENSE_FIXED];
    uint8_t key = s->ua_asc ? SENSE_UNIT_ATTENTION : SENSE_NONE;
    uint8_t asc = s->ua_asc, ascq = s->ua_ascq;
    s->ua_asc = s->ua_ascq = 0;
    uint32_t n;
    if (r->cdb[1] & 1) {            /* DESC: descriptor format, no descriptors */
        memset(b, 0, 8);
        b[0] = 0x72;
        b[1] = key;
        b[2] = asc;
        b[3] = ascq;
        n = 8;
    } else {
        n = scsi_build_sense(b, key, asc, ascq);
    }
    scsi_req_reply(r, b, n, r->cdb[4]);
}

static void cmd_read_capacity_10(SCSIDisk *s, SCSIRequest *r)
{
    uint8_t b[8];
    if (!(r->cdb[8] & 1) && scsi_get_be32(r->cdb + 2)) {   /* LBA without PMI */
        scsi_req_check(r, SENSE_ILLEGAL_REQUEST, ASC_INVALID_FIELD, 0);
        return;
    }
    uint64_t last = s->nblocks ? s->nblocks - 1 : 0;
    scsi_put_be32(b, last > 0xffffffffu ? 0xffffffffu : (uint32_t)last);
    scsi_put_be32(b + 4, s->block_size);
    scsi_req_reply(r, b, 8, 8);
}

static void cmd_service_action_in(SCSIDisk *s, SCSIRequest *r)
{
    if ((r->cdb[1] & 0x1f) != SCSI_SAI_READ_CAPACITY_16) {
        scsi_req_check(r, SENSE_ILLEGAL_REQUEST, ASC_INVALID_FIELD, 0);
        return;
    }
    uint8_t b[32];
    memset(b, 0, sizeof b);
    scsi_put_be64(b, s->nblocks ? s->nblocks - 1 : 0);
    scsi_put_be32(b + 8, s->block_size);
    b[14] = 0x80;                   /* LBPME: UNMAP / WRITE SAME unmap (VPD B2h) */
    scsi_req_reply(r, b, sizeof b, scsi_get_be32(r->cdb + 10));
}

static void tray_moved(SCSIDisk *s)
{
    if (s->tray_moved)
        s->tray_moved(s->tray_opaque, s->tray_open);
}

static void cmd_start_stop(SCSIDisk *s, SCSIRequest *r)
{
    uint8_t c4 = r->cdb[4];
    if (s->kind == SCSI_DISK_CD && (c4 & 0x02)) {      /* LoEj */
        if (c4 & 0x01) {            /* load: close the tray */
            if (s->tray_open) {
                s->tray_open = false;
                s->media_event = s->bb != NULL;
                tray_moved(s);
            }
        } else {
            if (s->locked) {
                scsi_req_check(r, SENSE_ILLEGAL_REQUEST, ASC_REMOVAL_PREVENTED, 0x02);
                return;
            }
            bool moved = !s->tray_open;
            s->tray_open = true;
            s->media_event = true;
            if (moved)
                tray_moved(s);
        }
    }
    scsi_req_good(r);
}

static void cmd_prevent_allow(SCSIDisk *s, SCSIRequest *r)
{
    if (s->kind == SCSI_DISK_CD)
        s->locked = r->cdb[4] & 1;
    scsi_req_good(r);
}

/* ---- CD: MMC ---- */

static void cmd_read_toc(SCSIDisk *s, SCSIRequest *r)
{
    const uint8_t *c = r->cdb;
    int format = c[2] & 0x0f;
    if (!format)
        format = c[9] >> 6;         /* the older place of the format field */
    uint8_t b[4 + 4 * 11];
    bool bad;
    MMCDrive md = disk_mmc(s);
    uint32_t n = mmc_read_toc(&md, b, format, c[1] & 2, c[6], &bad);
    if (bad) {
        scsi_req_check(r, SENSE_ILLEGAL_REQUEST, ASC_INVALID_FIELD, 0);
        return;
    }
    scsi_req_reply(r, b, n, scsi_get_be16(c + 7));
}

static void cmd_get_configuration(SCSIDisk *s, SCSIRequest *r)
{
    const uint8_t *c = r->cdb;
    uint8_t b[64];
    MMCDrive md = disk_mmc(s);
    uint32_t n = mmc_get_configuration(&md, b, c[1] & 3, (uint16_t)scsi_get_be16(c + 2));
    scsi_req_reply(r, b, n, scsi_get_be16(c + 7));
}

static void cmd_event_status(SCSIDisk *s, SCSIRequest *r)
{
    const uint8_t *c = r->cdb;
    if (!(c[1] & 1)) {              /* only polled operation */
        scsi_req_check(r, SENSE_ILLEGAL_REQUEST, ASC_INVALID_FIELD, 0);
        return;
    }
    uint8_t b[8];
    MMCDrive md = disk_mmc(s);
    uint32_t n = mmc_event_status(&md, b, c[4], &s->media_event);
    scsi_req_reply(r, b, n, scsi_get_be16(c + 7));
}

static void cmd_disc_info(SCSIDisk *s, SCSIRequest *r)
{
    if (r->cdb[1] & 0x07) {         /* only standard disc information */
        scsi_req_check(r, SENSE_ILLEGAL_REQUEST, ASC_INVALID_FIELD, 0);
        return;
    }
    uint8_t b[34];
    MMCDrive md = disk_mmc(s);
    uint32_t n = mmc_disc_info(&md, b);
    scsi_req_reply(r, b, n, scsi_get_be16(r->cdb + 7));
}

/* ---- the command table ---- */

static const SCSIDiskCmd disk_cmds[256] = {
    [SCSI_TEST_UNIT_READY] = { FOR_ALL | NEEDS_MEDIUM, cmd_good },
    [SCSI_REQUEST_SENSE] = { FOR_ALL | NO_UA, cmd_request_sense },
    [SCSI_READ_6] = { FOR_ALL | NEEDS_MEDIUM, cmd_read },
    [SCSI_WRITE_6] = { FOR_HD | WRITES, cmd_write },
    [SCSI_INQUIRY] = { FOR_ALL | NO_UA, cmd_inquiry },
    [SCSI_MODE_SENSE_6] = { FOR_ALL, cmd_mode_sense },
    [SCSI_START_STOP_UNIT] = { FOR_ALL, cmd_start_stop },
    [SCSI_PREVENT_ALLOW] = { FOR_ALL, cmd_prevent_allow },
    [SCSI_READ_CAPACITY_10] = { FOR_ALL | NEEDS_MEDIUM, cmd_read_capacity_10 },
    [SCSI_READ_10] = { FOR_ALL | NEEDS_MEDIUM, cmd_read },
    [SCSI_WRITE_10] = { FOR_HD | WRITES, cmd_write },
    [SCSI_SEEK_10] = { FOR_ALL | NEEDS_MEDIUM, cmd_good },
    [SCSI_WRITE_VERIFY_10] = { FOR_HD | WRITES, cmd_write },
    [SCSI_VERIFY_10] = { FOR_HD, cmd_verify },
    [SCSI_SYNCHRONIZE_CACHE_10] = { FOR_HD, cmd_sync_cache },
    [SCSI_WRITE_SAME_10] = { FOR_HD | WRITES, cmd_write_same },
    [SCSI_UNMAP] = { FOR_HD | WRITES, cmd_unmap },
    [MMC_READ_TOC] = { FOR_CD | NEEDS_MEDIUM, cmd_read_toc },
    [MMC_GET_CONFIGURATION] = { FOR_CD | NO_UA, cmd_get_configuration },
    [MMC_GET_EVENT_STATUS] = { FOR_CD | NO_UA, cmd_event_status },
    [MMC_READ_DISC_INFORMATION] = { FOR_CD | NEEDS_MEDIUM, cmd_disc_info },
    [SCSI_MODE_SENSE_10] = { FOR_ALL, cmd_mode_sense },
    [SCSI_READ_16] = { FOR_ALL | NEEDS_MEDIUM, cmd_read },
    [SCSI_WRITE_16] = { FOR_HD | WRITES, cmd_write },
    [SCSI_WRITE_VERIFY_16] = { FOR_HD | WRITES, cmd_write },
    [SCSI_VERIFY_16] = { FOR_HD, cmd_verify },
    [SCSI_SYNCHRONIZE_CACHE_16] = { FOR_HD, cmd_sync_cache },
    [SCSI_WRITE_SAME_16] = { FOR_HD | WRITES, cmd_write_same },
    [SCSI_SERVICE_ACTION_IN_16] = { FOR_HD, cmd_service_action_in },
    [SCSI_READ_12] = { FOR_ALL | NEEDS_MEDIUM, cmd_read },
    [SCSI_WRITE_12] = { FOR_HD | WRITES, cmd_write },
    [SCSI_WRITE_VERIFY_12] = { FOR_HD | WRITES, cmd_write },
    [SCSI_VERIFY_12] = { FOR_HD, cmd_verify },
    [MMC_SET_CD_SPEED] = { FOR_CD, cmd_good },
};

static void disk_submit(SCSIDevice *d, SCSIRequest *r)
{
    SCSIDisk *s = (SCSIDisk *)d;
    uint8_t op = r->cdb[0];
    const SCSIDiskCmd *cmd = &disk_cmds[op];
    uint8_t who = s->kind == SCSI_DISK_CD ? FOR_CD : FOR_HD;
    if (!cmd->fn || !(cmd->flags & who)) {
        LOG(LOG_UNIMP, "scsi-disk %d:%d: command 0x%02x not supported\n", d->target, d->lun, op);
        scsi_req_check(r, SENSE_ILLEGAL_REQUEST, ASC_INVALID_OPCODE, 0);
        return;
    }
    if (s->ua_asc && !(cmd->flags & NO_UA)) {
        uint8_t asc = s->ua_asc, ascq = s->ua_ascq;
        s->ua_asc = s->ua_ascq = 0;
        scsi_req_check(r, SENSE_UNIT_ATTENTION, asc, ascq);
        return;
    }
    if ((cmd->flags & NEEDS_MEDIUM) && !disk_medium(s)) {
        scsi_req_check(r, SENSE_NOT_READY, ASC_MEDIUM_NOT_PRESENT, s->tray_open ? 0x02 : 0x01);
        return;
    }
    if ((cmd->flags & WRITES) && s->read_only) {
        scsi_req_check(r, SENSE_DATA_PROTECT, ASC_WRITE_PROTECTED, 0);
        return;
    }
    cmd->fn(s, r);
}

static void disk_drain(SCSIDevice *d)
{
    SCSIDisk *s = (SCSIDisk *)d;
    if (s->bb && s->inflight) {
        s->draining = true;
        blk_drain(s->bb);
        s->draining = false;
    }
}

static void disk_bus_reset(SCSIDevice *d)
{
    SCSIDisk *s = (SCSIDisk *)d;
    s->ua_asc = ASC_POWER_ON_RESET;
    s->ua_ascq = 0x00;
}

static const SCSIDeviceOps disk_scsi_ops = {
    .name = "scsi-disk", .submit = disk_submit, .drain = disk_drain,
    .bus_reset = disk_bus_reset,
};

/* ---- the machine device ---- */

/* Power-on or machine reset: the next command learns it (SPC-4 6.x,
 * POWER ON, RESET, OR BUS DEVICE RESET OCCURRED). */
static void disk_reset(void *opaque)
{
    SCSIDisk *s = opaque;
    disk_drain(&s->dev);
    s->ua_asc = ASC_POWER_ON_RESET;
    s->ua_ascq = 0;
    s->tray_open = false;
    s->locked = false;
    s->media_event = false;
    s->wce = true;
}

static void disk_free(void *opaque)
{
    SCSIDisk *s = opaque;
    /* The HBA drained the bus before (it is created, so freed, first). */
    disk_drain(&s->dev);
    free(s);
}

static const VMField disk_fields[] = {
    VMF_BOOL(wce, SCSIDisk),
    VMF_BOOL(tray_open, SCSIDisk),
    VMF_BOOL(locked, SCSIDisk),
    VMF_BOOL(media_event, SCSIDisk),
    VMF_U8(ua_asc, SCSIDisk),
    VMF_U8(ua_ascq, SCSIDisk),
    VMF_END
};

static const VMStateDesc disk_vmsd = {
    .name = "scsi-disk", .version = 1, .min_version = 1, .fields = disk_fields,
};

static const DeviceOps hd_device_ops = {
    .name = "scsi-hd", .reset = disk_reset, .free = disk_free, .vmsd = &disk_vmsd,
};

static const DeviceOps cd_device_ops = {
    .name = "scsi-cd", .reset = disk_reset, .free = disk_free, .vmsd = &disk_vmsd,
};

SCSIDevice *scsi_disk_create(Machine *m, const SCSIDiskConfig *cfg)
{
    SCSIDisk *s = xcalloc(1, sizeof(*s));
    s->dev.ops = &disk_scsi_ops;
    s->m = m;
    s->kind = cfg->kind;
    s->bb = cfg->bb;
    s->block_size = cfg->kind == SCSI_DISK_CD ? MMC_CD_SECTOR : HD_BLOCK;
    s->nblocks = s->bb ? blk_size(s->bb) / s->block_size : 0;
    s->read_only = cfg->kind == SCSI_DISK_CD || (s->bb && blk_is_read_only(s->bb));
    s->wce = true;
    if (cfg->serial)
        snprintf(s->serial, sizeof s->serial, "%s", cfg->serial);
    machine_add_device(m, cfg->kind == SCSI_DISK_CD ? &cd_device_ops : &hd_device_ops, s);
    return &s->dev;
}

/* ---- the removable medium (monitor) ---- */

static SCSIDisk *as_cd(SCSIDevice *d)
{
    SCSIDisk *s = (SCSIDisk *)d;
    return d && d->ops == &disk_scsi_ops && s->kind == SCSI_DISK_CD ? s : NULL;
}

void scsi_cd_set_tray_notify(SCSIDevice *d, void (*fn)(void *opaque, bool open), void *opaque)
{
    SCSIDisk *s = as_cd(d);
    if (s) {
        s->tray_moved = fn;
        s->tray_opaque = opaque;
    }
}

bool scsi_cd_locked(SCSIDevice *d)
{
    SCSIDisk *s = as_cd(d);
    return s && s->locked;
}

bool scsi_cd_tray_open(SCSIDevice *d)
{
    SCSIDisk *s = as_cd(d);
    return s && s->tray_open;
}

void scsi_cd_set_tray(SCSIDevice *d, bool open)
{
    SCSIDisk *s = as_cd(d);
    if (!s || s->tray_open == open)
        return;
    s->tray_open = open;
    s->media_event = true;
    tray_moved(s);
}

void scsi_cd_change_medium(SCSIDevice *d, BlockBackend *bb)
{
    SCSIDisk *s = as_cd(d);
    if (!s)
        return;
    disk_drain(&s->dev);
    s->bb = bb;
    s->nblocks = bb ? blk_size(bb) / s->block_size : 0;
    s->media_event = true;
    s->ua_asc = ASC_MEDIUM_CHANGED;
    s->ua_ascq = 0;
}
