/*
 * 82077AA floppy disk controller (PC/AT mode), written from Intel's
 * 82077AA datasheet.
 *
 * Registers (offset from base): 2 DOR (drive select, /RESET, DMA+IRQ gate,
 * motors), 4 MSR (read: RQM, DIO, NDMA, CB, drive busy) / DSR (write:
 * software reset, data rate), 5 FIFO (command and result bytes), 7 DIR
 * (read: disk change) / CCR (write: data rate).  0, 1 and 3 are the PS/2
 * status registers and the tape drive register, unused on an AT.
 *
 * A command goes through three phases: the command bytes are written to
 * the FIFO; the execution phase moves sectors (DMA) or steps the head; the
 * result bytes are read back.  Seeks and recalibrates have no result
 * phase: they raise the interrupt and SENSE INTERRUPT STATUS reports them.
 *
 * What is simplified: seeks complete at once; the data rate and the
 * density of the medium are not compared (every rate reads every image);
 * the sector ID fields are the command's (C, H, R), so an implied seek
 * always happens; non-DMA (PIO) transfers are refused.
 */
#include "hw/fdc.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "core/log.h"
#include "core/util.h"

#define SECTOR 512

/* DOR */
#define DOR_SEL        0x03
#define DOR_NRESET     0x04
#define DOR_DMA_IRQ    0x08
/* MSR */
#define MSR_RQM        0x80
#define MSR_DIO        0x40
#define MSR_NDMA       0x20
#define MSR_CB         0x10
/* ST0 */
#define ST0_IC_ABNORMAL 0x40
#define ST0_IC_INVALID  0x80
#define ST0_IC_POLL     0xc0
#define ST0_SE          0x20
/* ST1 */
#define ST1_EN         0x80
#define ST1_ND         0x04
#define ST1_NW         0x02
#define ST1_MA         0x01
/* ST3 */
#define ST3_WP         0x40
#define ST3_RDY        0x20
#define ST3_T0         0x10
#define ST3_TS         0x08

enum { PHASE_COMMAND, PHASE_EXEC, PHASE_RESULT };

/* Largest transfer: two heads of a 2.88 MiB track. */
#define MAX_TRACK_SECTORS 36
#define BUF_SIZE (2 * MAX_TRACK_SECTORS * SECTOR)

typedef struct FloppyFormat {
    uint64_t size;
    uint8_t tracks, heads, spt, cmos;
} FloppyFormat;

/* Image sizes we accept, with the drive they need (CMOS type). */
static const FloppyFormat floppy_formats[] = {
    { 1474560, 80, 2, 18, 4 },      /* 1.44M 3.5" */
    { 737280,  80, 2,  9, 3 },      /* 720K 3.5" */
    { 2949120, 80, 2, 36, 5 },      /* 2.88M 3.5" */
    { 1720320, 80, 2, 21, 4 },      /* 1.68M DMF in a 1.44M drive */
    { 1228800, 80, 2, 15, 2 },      /* 1.2M 5.25" */
    { 368640,  40, 2,  9, 1 },      /* 360K 5.25" */
    { 327680,  40, 2,  8, 1 },      /* 320K */
    { 184320,  40, 1,  9, 1 },      /* 180K */
    { 163840,  40, 1,  8, 1 },      /* 160K */
};

typedef struct FloppyDrive {
    BlockBackend *bb;                /* NULL: no medium */
    const FloppyFormat *fmt;
    uint8_t cylinder;                /* present cylinder number */
    bool changed;                    /* DIR.DSKCHG */
} FloppyDrive;

typedef struct CommandDesc {
    uint8_t opcode;                  /* low 5 bits, or the whole byte when exact */
    bool exact;
    bool moves_data;                 /* has a DMA execution phase (s->exec stays set) */
    uint8_t params;                  /* bytes after the command byte */
    void (*run)(struct FDCState *s);
    const char *name;
} CommandDesc;

struct FDCState {
    Machine *m;
    IRQLine *irq;
    I8237State *dma;
    int dma_channel;
    uint16_t base;
    FloppyDrive drive[2];

    uint8_t dor, rate;
    uint8_t phase;
    uint8_t cmd[10], cmd_len, cmd_pos;
    uint8_t res[10], res_len, res_pos;
    bool irq_level;
    uint8_t reset_sense;             /* SENSE INTERRUPTs owed after a reset */
    bool seek_done;                  /* a seek/recalibrate awaits SENSE INTERRUPT */
    uint8_t seek_st0, seek_drive;
    uint8_t specify[2];
    uint8_t config, precomp;
    bool lock;
    uint8_t perpendicular;

    /* Execution phase of a data command. */
    const CommandDesc *exec;
    uint64_t lba;
    uint32_t sectors;                /* sectors the command may move */
    uint32_t moved;                  /* sectors moved so far */
    bool tc;
    bool waiting_io;                 /* a block request is in flight */
    uint8_t filler;                  /* FORMAT TRACK's data byte */
    uint8_t buf[BUF_SIZE];
};

/* ---- interrupt and phases ---- */

static void update_irq(FDCState *s)
{
    bool level = s->irq_level && (s->dor & DOR_DMA_IRQ);
    irq_set(s->irq, level);
}

static void set_irq(FDCState *s, bool on)
{
    s->irq_level = on;
    update_irq(s);
}

static void to_command_phase(FDCState *s)
{
    s->phase = PHASE_COMMAND;
    s->cmd_len = s->cmd_pos = 0;
    s->exec = NULL;
}

static void result(FDCState *s, const uint8_t *bytes, int n, bool irq)
{
    memcpy(s->res, bytes, (size_t)n);
    s->res_len = (uint8_t)n;
    s->res_pos = 0;
    s->phase = PHASE_RESULT;
    if (irq)
        set_irq(s, true);
}

static int cmd_drive(const FDCState *s) { return s->cmd[1] & 1; }
static int cmd_head(const FDCState *s) { return (s->cmd[1] >> 2) & 1; }
static uint8_t st0_for(const FDCState *s) { return (uint8_t)(s->cmd[1] & 7); }

/* ---- data commands (READ DATA, WRITE DATA, FORMAT TRACK) ---- */

/* Result of a data command: ST0-2 and the ID of the sector after the last
 * one moved (the datasheet's table for MT / end of track). */
static void data_result(FDCState *s, uint8_t st0, uint8_t st1, uint8_t st2)
{
    bool mt = s->cmd[0] & 0x80;
    uint8_t c = s->cmd[2], h = s->cmd[3], r = s->cmd[4], eot = s->cmd[6];
    for (uint32_t i = 0; i < s->moved; i++) {
        if (r < eot) {
            r++;
        } else {
            r = 1;
            if (mt && h == 0) {
                h = 1;
            } else {
                if (mt)
                    h = 0;
                c++;
            }
        }
    }
    uint8_t out[7] = { st0, st1, st2, c, h, r, s->cmd[5] };
    s->waiting_io = false;
    result(s, out, 7, true);
}

static void data_error(FDCState *s, uint8_t st1)
{
    s->moved = 0;
    data_result(s, (uint8_t)(ST0_IC_ABNORMAL | st0_for(s)), st1, 0);
}

/* Checks the command's C/H/R/N/EOT against the medium and computes the
 * first LBA and the number of sectors up to the end of the track (both
 * heads with MT).  Returns ST1 error bits, 0 when fine. */
static uint8_t plan_transfer(FDCState *s)
{
    FloppyDrive *d = &s->drive[cmd_drive(s)];
    if (!d->bb)
        return ST1_MA;
    const FloppyFormat *f = d->fmt;
    uint8_t c = s->cmd[2], h = s->cmd[3], r = s->cmd[4], n = s->cmd[5], eot = s->cmd[6];
    if (n != 2 || c >= f->tracks || h >= f->heads || h != cmd_head(s) || r == 0 || r > f->spt)
        return ST1_ND;
    if (eot > f->spt)
        eot = f->spt;
    if (eot < r)
        return ST1_ND;
    s->lba = ((uint64_t)c * f->heads + h) * f->spt + (r - 1u);
    s->sectors = eot - r + 1u;
    if ((s->cmd[0] & 0x80) && h == 0 && f->heads == 2)
        s->sectors += eot;
    s->moved = 0;
    s->tc = false;
    d->cylinder = c;
    return 0;
}

static void finish_data(FDCState *s)
{
    /* Reaching the end of the track before terminal count is an abnormal
     * end with EN; terminal count on the last sector is a normal end. */
    if (!s->tc && s->moved == s->sectors)
        data_result(s, (uint8_t)(ST0_IC_ABNORMAL | st0_for(s)), ST1_EN, 0);
    else
        data_result(s, st0_for(s), 0, 0);
}

static void read_done(void *opaque, int ret)
{
    FDCState *s = opaque;
    s->waiting_io = false;
    if (!s->exec)
        return;                     /* reset while the request ran */
    if (ret < 0) {
        data_error(s, ST1_ND);
        return;
    }
    i8237_request(s->dma, s->dma_channel, true);   /* -> dma_ready */
}

static void write_done(void *opaque, int ret)
{
    FDCState *s = opaque;
    s->waiting_io = false;
    if (!s->exec)
        return;
    if (ret < 0) {
        s->moved = 0;
        data_result(s, (uint8_t)(ST0_IC_ABNORMAL | st0_for(s)), ST1_NW, 0);
        return;
    }
    if (s->exec->opcode == 0x0d) {
        s->moved = 0;
        data_result(s, st0_for(s), 0, 0);
    }
    else
        finish_data(s);
}

/* The DMA channel can move data now. */
static void dma_ready(void *opaque)
{
    FDCState *s = opaque;
    if (!s->exec || s->waiting_io)
        return;
    i8237_request(s->dma, s->dma_channel, false);
    FloppyDrive *d = &s->drive[cmd_drive(s)];
    size_t len = (size_t)s->sectors * SECTOR;
    bool tc = false;
    size_t n;
    switch (s->exec->opcode) {
    case 0x06:                                          /* READ DATA */
        n = i8237_write_memory(s->dma, s->dma_channel, s->buf, len, &tc);
        s->tc = tc;
        s->moved = (uint32_t)((n + SECTOR - 1) / SECTOR);
        finish_data(s);
        return;
    case 0x05:                                          /* WRITE DATA */
        memset(s->buf, 0, len);
        n = i8237_read_memory(s->dma, s->dma_channel, s->buf, len, &tc);
        s->tc = tc;
        s->moved = (uint32_t)((n + SECTOR - 1) / SECTOR);
        break;
    case 0x0d: {                                        /* FORMAT TRACK */
        uint8_t ids[4 * MAX_TRACK_SECTORS];
        i8237_read_memory(s->dma, s->dma_channel, ids, 4u * s->sectors, &tc);
        memset(s->buf, s->filler, len);
        s->moved = s->sectors;
        break;
    }
    default:
        return;
    }
    if (s->moved == 0) {
        finish_data(s);
        return;
    }
    s->waiting_io = true;
    if (blk_aio_write(d->bb, s->lba * SECTOR, s->buf, (size_t)s->moved * SECTOR, write_done, s) < 0)
        write_done(s, -EIO);
}

static bool dma_mode(FDCState *s)
{
    if (!(s->specify[1] & 1))
        return true;
    LOG(LOG_UNIMP, "fdc: non-DMA transfers are not implemented\n");
    return false;
}

static void cmd_read_data(FDCState *s)
{
    uint8_t err = plan_transfer(s);
    if (err || !dma_mode(s)) {
        data_error(s, err ? err : ST1_ND);
        return;
    }
    FloppyDrive *d = &s->drive[cmd_drive(s)];
    s->phase = PHASE_EXEC;
    s->waiting_io = true;
    if (blk_aio_read(d->bb, s->lba * SECTOR, s->buf, (size_t)s->sectors * SECTOR, read_done, s) < 0)
        read_done(s, -EIO);
}

static void cmd_write_data(FDCState *s)
{
    uint8_t err = plan_transfer(s);
    if (!err && blk_is_read_only(s->drive[cmd_drive(s)].bb))
        err = ST1_NW;
    if (err || !dma_mode(s)) {
        data_error(s, err ? err : ST1_ND);
        return;
    }
    s->phase = PHASE_EXEC;
    i8237_request(s->dma, s->dma_channel, true);
}

static void cmd_format_track(FDCState *s)
{
    FloppyDrive *d = &s->drive[cmd_drive(s)];
    uint8_t n = s->cmd[2], sc = s->cmd[3];
    if (!d->bb || n != 2 || sc == 0 || sc > d->fmt->spt || cmd_head(s) >= d->fmt->heads) {
        data_error(s, d->bb ? ST1_ND : ST1_MA);
        return;
    }
    if (blk_is_read_only(d->bb) || !dma_mode(s)) {
        data_error(s, ST1_NW);
        return;
    }
    s->lba = ((uint64_t)d->cylinder * d->fmt->heads + cmd_head(s)) * d->fmt->spt;
    s->sectors = sc;
    s->moved = 0;
    s->phase = PHASE_EXEC;
    s->filler = s->cmd[5];
    /* The result's C/H/R/N fields: this track, sector 1 ("undefined" in
     * the datasheet). */
    s->cmd[2] = d->cylinder;
    s->cmd[3] = (uint8_t)cmd_head(s);
    s->cmd[4] = 1;
    s->cmd[5] = 2;
    s->cmd[6] = sc;
    i8237_request(s->dma, s->dma_channel, true);
}

/* ---- other commands ---- */

static void cmd_read_id(FDCState *s)
{
    FloppyDrive *d = &s->drive[cmd_drive(s)];
    if (!d->bb || cmd_head(s) >= d->fmt->heads) {
        uint8_t out[7] = { (uint8_t)(ST0_IC_ABNORMAL | st0_for(s)), ST1_MA, 0, 0, 0, 0, 2 };
        result(s, out, 7, true);
        return;
    }
    uint8_t out[7] = { st0_for(s), 0, 0, d->cylinder, (uint8_t)cmd_head(s), 1, 2 };
    result(s, out, 7, true);
}

static void seek_complete(FDCState *s, int drive, uint8_t cyl)
{
    FloppyDrive *d = &s->drive[drive];
    d->cylinder = cyl;
    if (d->bb)
        d->changed = false;             /* stepping with a disk in clears DSKCHG */
    s->seek_done = true;
    s->seek_drive = (uint8_t)drive;
    s->seek_st0 = (uint8_t)(ST0_SE | (s->cmd[1] & 7));
    to_command_phase(s);
    set_irq(s, true);
}

static void cmd_recalibrate(FDCState *s) { seek_complete(s, cmd_drive(s), 0); }

static void cmd_seek(FDCState *s)
{
    FloppyDrive *d = &s->drive[cmd_drive(s)];
    uint8_t ncn = s->cmd[2];
    if (d->fmt && ncn >= d->fmt->tracks)
        ncn = (uint8_t)(d->fmt->tracks - 1);  /* the head stops at the last track */
    seek_complete(s, cmd_drive(s), ncn);
}

static void cmd_sense_interrupt(FDCState *s)
{
    set_irq(s, false);
    if (s->reset_sense) {
        int drive = 4 - s->reset_sense--;
        uint8_t out[2] = { (uint8_t)(ST0_IC_POLL | drive), drive < 2 ? s->drive[drive].cylinder : 0 };
        result(s, out, 2, false);
    } else if (s->seek_done) {
        s->seek_done = false;
        uint8_t out[2] = { s->seek_st0, s->drive[s->seek_drive].cylinder };
        result(s, out, 2, false);
    } else {
        uint8_t out[1] = { ST0_IC_INVALID };
        result(s, out, 1, false);
    }
}

static void cmd_sense_drive(FDCState *s)
{
    FloppyDrive *d = &s->drive[cmd_drive(s)];
    uint8_t st3 = (uint8_t)(ST3_RDY | (s->cmd[1] & 7));
    if (d->cylinder == 0)
        st3 |= ST3_T0;
    if (!d->fmt || d->fmt->heads == 2)
        st3 |= ST3_TS;
    if (d->bb && blk_is_read_only(d->bb))
        st3 |= ST3_WP;
    result(s, &st3, 1, false);
}

static void cmd_specify(FDCState *s)
{
    s->specify[0] = s->cmd[1];
    s->specify[1] = s->cmd[2];
    to_command_phase(s);
}

static void cmd_version(FDCState *s) { uint8_t v = 0x90; result(s, &v, 1, false); }
static void cmd_part_id(FDCState *s) { uint8_t v = 0x41; result(s, &v, 1, false); }

static void cmd_configure(FDCState *s)
{
    s->config = s->cmd[2];
    s->precomp = s->cmd[3];
    to_command_phase(s);
}

static void cmd_lock(FDCState *s)
{
    s->lock = s->cmd[0] & 0x80;
    uint8_t v = (uint8_t)(s->lock << 4);
    result(s, &v, 1, false);
}

static void cmd_perpendicular(FDCState *s)
{
    s->perpendicular = s->cmd[1];
    to_command_phase(s);
}

static void cmd_dumpreg(FDCState *s)
{
    uint8_t out[10] = {
        s->drive[0].cylinder, s->drive[1].cylinder, 0, 0,
        s->specify[0], s->specify[1], s->drive[0].fmt ? s->drive[0].fmt->spt : 0,
        (uint8_t)((s->lock << 7) | (s->perpendicular & 0x7f)), s->config, s->precomp,
    };
    result(s, out, 10, false);
}

static void cmd_invalid(FDCState *s)
{
    LOG(LOG_GUEST_ERRORS, "fdc: invalid command 0x%02x\n", s->cmd[0]);
    uint8_t v = ST0_IC_INVALID;
    result(s, &v, 1, false);
}

/* The command set: one row per command (exact rows match the whole byte;
 * data commands keep s->exec through their DMA execution phase). */
static const CommandDesc fdc_commands[] = {
    { 0x94, true,  false, 0, cmd_lock,            "LOCK" },
    { 0x14, true,  false, 0, cmd_lock,            "UNLOCK" },
    { 0x06, false, true,  8, cmd_read_data,       "READ DATA" },
    { 0x05, false, true,  8, cmd_write_data,      "WRITE DATA" },
    { 0x0d, false, true,  5, cmd_format_track,    "FORMAT TRACK" },
    { 0x0a, false, false, 1, cmd_read_id,         "READ ID" },
    { 0x07, false, false, 1, cmd_recalibrate,     "RECALIBRATE" },
    { 0x0f, false, false, 2, cmd_seek,            "SEEK" },
    { 0x08, false, false, 0, cmd_sense_interrupt, "SENSE INTERRUPT STATUS" },
    { 0x04, false, false, 1, cmd_sense_drive,     "SENSE DRIVE STATUS" },
    { 0x03, false, false, 2, cmd_specify,         "SPECIFY" },
    { 0x10, false, false, 0, cmd_version,         "VERSION" },
    { 0x18, false, false, 0, cmd_part_id,         "PART ID" },
    { 0x13, false, false, 3, cmd_configure,       "CONFIGURE" },
    { 0x12, false, false, 1, cmd_perpendicular,   "PERPENDICULAR MODE" },
    { 0x0e, false, false, 0, cmd_dumpreg,         "DUMPREG" },
};

static const CommandDesc invalid_command = { 0, true, false, 0, cmd_invalid, "invalid" };

static const CommandDesc *find_command(uint8_t byte)
{
    for (size_t i = 0; i < sizeof(fdc_commands) / sizeof(fdc_commands[0]); i++) {
        const CommandDesc *c = &fdc_commands[i];
        if (c->exact ? byte == c->opcode : (byte & 0x1f) == c->opcode)
            return c;
    }
    return &invalid_command;
}

/* ---- registers ---- */

static void controller_reset(FDCState *s)
{
    s->exec = NULL;
    s->waiting_io = false;
    i8237_request(s->dma, s->dma_channel, false);
    to_command_phase(s);
    s->res_len = s->res_pos = 0;
    s->seek_done = false;
    if (!s->lock) {
        s->config = 0x20;               /* FIFO disabled, implied seek off */
        s->precomp = 0;
    }
    set_irq(s, false);
}

/* Leaving reset: the controller polls the four drives and interrupts. */
static void reset_finished(FDCState *s)
{
    s->reset_sense = 4;
    set_irq(s, true);
}

static uint8_t read_msr(FDCState *s)
{
    if (!(s->dor & DOR_NRESET))
        return 0;
    switch (s->phase) {
    case PHASE_EXEC:
        return MSR_CB;
    case PHASE_RESULT:
        return MSR_RQM | MSR_DIO | MSR_CB;
    default:
        return s->cmd_len ? MSR_RQM | MSR_CB : MSR_RQM;
    }
}

static uint8_t read_fifo(FDCState *s)
{
    if (s->phase != PHASE_RESULT || s->res_pos >= s->res_len)
        return 0xff;
    if (s->res_pos == 0)
        set_irq(s, false);              /* reading the result acknowledges */
    uint8_t v = s->res[s->res_pos++];
    if (s->res_pos == s->res_len)
        to_command_phase(s);
    return v;
}

static void write_fifo(FDCState *s, uint8_t v)
{
    if (!(s->dor & DOR_NRESET))
        return;
    if (s->phase != PHASE_COMMAND) {
        LOG(LOG_GUEST_ERRORS, "fdc: FIFO write 0x%02x outside the command phase\n", v);
        return;
    }
    if (s->cmd_len == 0) {
        s->exec = find_command(v);
        s->cmd_len = (uint8_t)(1 + s->exec->params);
        s->cmd_pos = 0;
    }
    s->cmd[s->cmd_pos++] = v;
    if (s->cmd_pos < s->cmd_len)
        return;
    const CommandDesc *c = s->exec;
    s->exec = c->moves_data ? c : NULL;
    c->run(s);
}

static uint64_t fdc_read(void *opaque, uint64_t off, unsigned size)
{
    FDCState *s = opaque;
    switch (off) {
    case 2:
        return s->dor;
    case 4:
        return read_msr(s);
    case 5:
        return read_fifo(s);
    case 7: {
        FloppyDrive *d = &s->drive[s->dor & 1];
        return d->changed ? 0x80 : 0x00;
    }
    default:
        return 0xff;
    }
}

static void fdc_write(void *opaque, uint64_t off, uint64_t value, unsigned size)
{
    FDCState *s = opaque;
    uint8_t v = (uint8_t)value;
    switch (off) {
    case 2: {
        uint8_t old = s->dor;
        s->dor = v;
        if (!(v & DOR_NRESET))
            controller_reset(s);
        else if (!(old & DOR_NRESET))
            reset_finished(s);
        update_irq(s);
        break;
    }
    case 4:
        s->rate = v & 3;
        if (v & 0x80) {                 /* software reset, self-clearing */
            controller_reset(s);
            reset_finished(s);
        }
        break;
    case 5:
        write_fifo(s, v);
        break;
    case 7:
        s->rate = v & 3;
        break;
    }
}

/* base+7 is its own one-port range (base+6 is the IDE channel's). */
static uint64_t fdc_dir_read(void *opaque, uint64_t off, unsigned size)
{
    return fdc_read(opaque, 7, size);
}

static void fdc_ccr_write(void *opaque, uint64_t off, uint64_t value, unsigned size)
{
    fdc_write(opaque, 7, value, size);
}

static const MemOps fdc_ops = { .read = fdc_read, .write = fdc_write, .min_size = 1, .max_size = 1 };
static const MemOps fdc_dir_ops = {
    .read = fdc_dir_read, .write = fdc_ccr_write, .min_size = 1, .max_size = 1,
};

/* ---- device ---- */

static void fdc_reset(void *opaque)
{
    FDCState *s = opaque;
    s->lock = false;
    controller_reset(s);
    s->dor = DOR_NRESET | DOR_DMA_IRQ;
    s->reset_sense = 0;
    s->specify[0] = s->specify[1] = 0;
    s->perpendicular = 0;
    for (int i = 0; i < 2; i++) {
        s->drive[i].cylinder = 0;
        s->drive[i].changed = true;
    }
}

static void fdc_free(void *opaque)
{
    FDCState *s = opaque;
    /* The board closes the images after the machine is gone: stop their
     * completions from reaching this machine first. */
    for (int i = 0; i < 2; i++)
        if (s->drive[i].bb)
            blk_detach(s->drive[i].bb);
    iospace_remove(s->m->io, s->base, 6);
    iospace_remove(s->m->io, s->base + 7, 1);
    free(s);
}

static void fdc_pre_save(void *opaque)
{
    FDCState *s = opaque;
    for (int i = 0; i < 2; i++)
        if (s->drive[i].bb)
            blk_drain(s->drive[i].bb);
}

static int fdc_post_load(void *opaque, int version, char **err)
{
    FDCState *s = opaque;
    if (s->phase > PHASE_RESULT || s->cmd_len > sizeof(s->cmd) || s->cmd_pos > s->cmd_len ||
        s->res_len > sizeof(s->res) || s->res_pos > s->res_len || s->reset_sense > 4 ||
        s->seek_drive > 1) {
        set_error(err, "fdc: inconsistent controller state");
        return -1;
    }
    /* A data command saved mid-execution restarts from its command bytes. */
    s->exec = NULL;
    if (s->phase == PHASE_EXEC || (s->phase == PHASE_COMMAND && s->cmd_len)) {
        const CommandDesc *c = find_command(s->cmd[0]);
        if (s->phase == PHASE_EXEC) {
            s->phase = PHASE_COMMAND;
            s->exec = c->moves_data ? c : NULL;
            c->run(s);
        } else {
            s->exec = c;
        }
    }
    update_irq(s);
    return 0;
}

static const VMField floppy_drive_fields[] = {
    VMF_U8(cylinder, FloppyDrive), VMF_BOOL(changed, FloppyDrive),
    VMF_END
};
static const VMStateDesc floppy_drive_vmsd = {
    .name = "floppy-drive", .version = 1, .min_version = 1, .fields = floppy_drive_fields,
};
static const VMField fdc_fields[] = {
    VMF_STRUCT_ARRAY(drive, FDCState, 2, floppy_drive_vmsd),
    VMF_U8(dor, FDCState), VMF_U8(rate, FDCState), VMF_U8(phase, FDCState),
    VMF_U8_ARRAY(cmd, FDCState, 10), VMF_U8(cmd_len, FDCState), VMF_U8(cmd_pos, FDCState),
    VMF_U8_ARRAY(res, FDCState, 10), VMF_U8(res_len, FDCState), VMF_U8(res_pos, FDCState),
    VMF_BOOL(irq_level, FDCState), VMF_U8(reset_sense, FDCState),
    VMF_BOOL(seek_done, FDCState), VMF_U8(seek_st0, FDCState), VMF_U8(seek_drive, FDCState),
    VMF_U8_ARRAY(specify, FDCState, 2), VMF_U8(config, FDCState), VMF_U8(precomp, FDCState),
    VMF_BOOL(lock, FDCState), VMF_U8(perpendicular, FDCState),
    VMF_END
};
static const VMStateDesc fdc_vmsd = {
    .name = "fdc", .version = 1, .min_version = 1, .fields = fdc_fields,
    .pre_save = fdc_pre_save, .post_load = fdc_post_load,
};

static const DeviceOps fdc_device_ops = {
    .name = "fdc", .reset = fdc_reset, .free = fdc_free, .vmsd = &fdc_vmsd,
};

bool fdc_insert(FDCState *s, int drive, BlockBackend *bb, char *err, size_t errlen)
{
    if (drive < 0 || drive > 1) {
        snprintf(err, errlen, "floppy drive %d does not exist (0 or 1)", drive);
        return false;
    }
    const FloppyFormat *fmt = NULL;
    if (bb) {
        uint64_t size = blk_size(bb);
        for (size_t i = 0; i < sizeof(floppy_formats) / sizeof(floppy_formats[0]); i++)
            if (floppy_formats[i].size == size)
                fmt = &floppy_formats[i];
        if (!fmt) {
            snprintf(err, errlen, "%s: %llu bytes is no floppy format (160K..2.88M, e.g. "
                     "1474560 for 1.44M)", blk_filename(bb), (unsigned long long)size);
            return false;
        }
    }
    s->drive[drive].bb = bb;
    s->drive[drive].fmt = fmt;
    s->drive[drive].changed = true;
    return true;
}

int fdc_cmos_type(const FDCState *s, int drive)
{
    if (drive < 0 || drive > 1 || !s->drive[drive].fmt)
        return 0;
    return s->drive[drive].fmt->cmos;
}

FDCState *fdc_create(Machine *m, uint16_t base, IRQLine *irq, I8237State *dma, int dma_channel,
                     char *err, size_t errlen)
{
    FDCState *s = xcalloc(1, sizeof(*s));
    s->m = m;
    s->irq = irq;
    s->dma = dma;
    s->dma_channel = dma_channel;
    s->base = base;
    if (!iospace_add(m->io, "fdc", base, 6, &fdc_ops, s, NULL)) {
        snprintf(err, errlen, "fdc: ports 0x%x-0x%x are taken", base, base + 5);
        free(s);
        return NULL;
    }
    if (!iospace_add(m->io, "fdc-dir", base + 7, 1, &fdc_dir_ops, s, NULL)) {
        snprintf(err, errlen, "fdc: port 0x%x is taken", base + 7);
        iospace_remove(m->io, base, 6);
        free(s);
        return NULL;
    }
    i8237_connect(dma, dma_channel, dma_ready, s);
    fdc_reset(s);
    machine_add_device(m, &fdc_device_ops, s);
    return s;
}
