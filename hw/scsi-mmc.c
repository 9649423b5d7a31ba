/*
 * The MMC replies of a CD/DVD reader, shared by the SCSI CD-ROM
 * (hw/scsi-disk.c) and the IDE ATAPI CD-ROM (hw/ide-atapi.c), and the
 * fixed-format sense data every SCSI unit sends (see scsi.h).
 *
 * Facts: MMC-3/MMC-6 (READ TOC formats 0/1/2 and the track descriptor
 * layouts, GET CONFIGURATION feature descriptors 0000h profile list,
 * 0001h core, 0003h removable medium, 0010h random readable, 001Eh CD
 * read, 001Fh DVD read, profiles 0008h CD-ROM and 0010h DVD-ROM, GET
 * EVENT STATUS NOTIFICATION media class, READ DISC INFORMATION standard
 * disc information, mode page 2Ah); SPC-4 4.5.3 (fixed sense format).
 */
#include "hw/scsi.h"

#include <string.h>

unsigned scsi_build_sense(uint8_t *buf, uint8_t key, uint8_t asc, uint8_t ascq)
{
    memset(buf, 0, SCSI_SENSE_FIXED);
    buf[0] = 0x70;                  /* current error, fixed format */
    buf[2] = key;
    buf[7] = SCSI_SENSE_FIXED - 8;  /* additional sense length */
    buf[12] = asc;
    buf[13] = ascq;
    return SCSI_SENSE_FIXED;
}

void mmc_put_msf(uint8_t *p, uint64_t lba)
{
    uint64_t f = lba + 150;
    p[0] = (uint8_t)(f / (75 * 60));
    p[1] = (uint8_t)((f / 75) % 60);
    p[2] = (uint8_t)(f % 75);
}

static bool mmc_is_dvd(const MMCDrive *d)
{
    return d->medium && d->nsectors > MMC_CD_MAX_SECTORS;
}

/* One 8-byte track descriptor of format 0: data track, ADR 1. */
static void toc_track(uint8_t *e, uint8_t track, uint64_t lba, bool msf)
{
    memset(e, 0, 8);
    e[1] = 0x14;
    e[2] = track;
    if (msf)
        mmc_put_msf(e + 5, lba);
    else
        scsi_put_be32(e + 4, (uint32_t)lba);
}

uint32_t mmc_read_toc(const MMCDrive *d, uint8_t *b, int format, bool msf, uint8_t track,
                      bool *bad)
{
    uint32_t n = 4;
    *bad = false;
    switch (format) {
    case 0:                         /* TOC: track 1 and the lead-out */
        if (track > 1 && track != 0xaa) {
            *bad = true;
            return 0;
        }
        if (track <= 1) {
            toc_track(b + n, 1, 0, msf);
            n += 8;
        }
        toc_track(b + n, 0xaa, d->nsectors, msf);
        n += 8;
        break;
    case 1:                         /* session info: one session */
        toc_track(b + n, 1, 0, msf);
        n += 8;
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
                mmc_put_msf(e + 8, d->nsectors);
            else
                mmc_put_msf(e + 8, 0);
            n += 11;
        }
        break;
    }
    default:
        *bad = true;
        return 0;
    }
    scsi_put_be16(b, n - 2);
    b[2] = 1;                       /* first track / session */
    b[3] = 1;                       /* last */
    return n;
}

static uint32_t mmc_feature(uint8_t *e, uint16_t code, uint8_t flags, uint8_t len)
{
    scsi_put_be16(e, code);
    e[2] = flags;
    e[3] = len;
    memset(e + 4, 0, len);
    return 4u + len;
}

uint32_t mmc_get_configuration(const MMCDrive *d, uint8_t *b, int rt, uint16_t start)
{
    bool medium = d->medium;
    bool dvd = mmc_is_dvd(d);
    uint16_t profile = medium ? (dvd ? 0x0010 : 0x0008) : 0;
    uint32_t n = 8;
    memset(b, 0, 8);
    scsi_put_be16(b + 6, profile);
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
            n += mmc_feature(e, code, 0x03, 8);
            scsi_put_be16(e + 4, 0x0010);
            e[6] = profile == 0x0010;
            scsi_put_be16(e + 8, 0x0008);
            e[10] = profile == 0x0008;
            break;
        case 0x0001:                /* core: the physical interface */
            n += mmc_feature(e, code, 0x07, 8);
            scsi_put_be32(e + 4, d->interface);
            break;
        case 0x0003:                /* removable medium: tray, eject, lock */
            n += mmc_feature(e, code, 0x03, 4);
            e[4] = 0x29;
            break;
        case 0x0010:                /* random readable */
            n += mmc_feature(e, code, cur, 8);
            scsi_put_be32(e + 4, MMC_CD_SECTOR);
            scsi_put_be16(e + 8, dvd ? 16 : 1);
            break;
        case 0x001e:                /* CD read */
            n += mmc_feature(e, code, (uint8_t)(0x08 | cur), 4);
            break;
        default:                    /* 0x001f DVD read */
            n += mmc_feature(e, code, cur, 0);
            break;
        }
    }
    scsi_put_be32(b, n - 4);
    return n;
}

uint32_t mmc_event_status(const MMCDrive *d, uint8_t *b, uint8_t classes, bool *media_event)
{
    memset(b, 0, 8);
    b[3] = 0x10;                    /* supported: media class */
    if (!(classes & 0x10)) {
        scsi_put_be16(b, 2);
        b[2] = 0x80;                /* no event available */
        return 4;
    }
    scsi_put_be16(b, 6);
    b[2] = 0x04;                    /* media class */
    if (*media_event) {
        b[4] = d->medium ? 0x02 : 0x03;   /* new media / media removal */
        *media_event = false;
    }
    b[5] = d->medium ? 0x02 : 0x00;
    if (d->tray_open)
        b[5] |= 0x01;
    return 8;
}

uint32_t mmc_disc_info(const MMCDrive *d, uint8_t *b)
{
    memset(b, 0, 34);
    scsi_put_be16(b, 32);
    b[2] = 0x0e;                    /* last session complete, disc finalized */
    b[3] = 1;                       /* first track on the disc */
    b[4] = 1;                       /* sessions */
    b[5] = 1;                       /* first and last track of the last session */
    b[6] = 1;
    b[7] = 0x20;                    /* unrestricted use */
    b[8] = 0x00;                    /* CD-DA or CD-ROM */
    memset(b + 16, 0xff, 8);        /* no next session: lead-in / lead-out unknown */
    return 34;
}

uint32_t mmc_mode_pages(const MMCDrive *d, uint8_t *p, int page)
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
        scsi_put_be16(p + n + 4, 60);    /* S units per M */
        scsi_put_be16(p + n + 6, 75);    /* F units per S */
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
        scsi_put_be16(c + 8, 1411); /* max read speed, KB/s (8x) */
        scsi_put_be16(c + 10, 256); /* volume levels */
        scsi_put_be16(c + 12, 512); /* buffer, KiB */
        scsi_put_be16(c + 14, 1411);
        n += 26;
    }
    return n;
}
