/*
 * IDE/ATA channels: the task-file registers of one channel (command block
 * at base..base+7, device control / alternate status at ctl), its two
 * devices (ATA disk or ATAPI CD-ROM), the ATA command set (hw/ide.c) and
 * the ATAPI packet commands (hw/ide-atapi.c).  A channel knows nothing of
 * PCI: the bus-master DMA engine that moves its DMA data (hw/piix-ide.c)
 * plugs in through IDEDMAOps, and its INTRQ is an IRQLine.
 *
 *   IDEBus *b = ide_bus_create(m, "ide0", 0x1f0, 0x3f6, irq14);
 *   ide_drive_attach(b, 0, IDE_HD, bb);        // bb from blk_open
 *   ide_drive_attach(b, 1, IDE_CD, NULL);      // empty CD-ROM drive
 *   ide_bus_set_dma(b, &my_dma_ops, engine);
 *
 * Every disk access is a blk_aio_* request: the device sets BSY, queues
 * it, and its completion (main thread) fills or drains the buffer, updates
 * the status and raises INTRQ; the vCPU never waits for the disk.
 *
 * Facts from ATA/ATAPI-6 (T13 1410D rev 3b): register layout (7.x), the
 * PIO data-in/out, DMA and PACKET protocols (9.x), IDENTIFY (DEVICE and
 * PACKET DEVICE) word layouts, the signatures after reset (9.12), LBA48
 * register pairs (HOB in device control); MMC-3/SPC-3 for the packets.
 */
#ifndef VX86_HW_IDE_H
#define VX86_HW_IDE_H

#include <stdbool.h>
#include <stdint.h>

#include "block/block.h"
#include "core/machine.h"

#define IDE_SECTOR          512
#define IDE_CD_SECTOR       2048
#define IDE_BUF_SIZE        (256 * 1024)   /* one chunk of a transfer */
#define IDE_MAX_MULT        16             /* READ/WRITE MULTIPLE block limit */

/* Status register */
#define IDE_ST_ERR          0x01
#define IDE_ST_DRQ          0x08
#define IDE_ST_DSC          0x10
#define IDE_ST_DF           0x20
#define IDE_ST_DRDY         0x40
#define IDE_ST_BSY          0x80
/* Error register */
#define IDE_ER_AMNF         0x01
#define IDE_ER_ABRT         0x04
#define IDE_ER_MC           0x20
#define IDE_ER_IDNF         0x10
#define IDE_ER_UNC          0x40
/* Device control */
#define IDE_CTL_NIEN        0x02
#define IDE_CTL_SRST        0x04
#define IDE_CTL_HOB         0x80
/* Device register */
#define IDE_DEV_LBA         0x40
#define IDE_DEV_DEV         0x10
/* ATAPI interrupt reason (sector count register) */
#define ATAPI_IR_COD        0x01
#define ATAPI_IR_IO         0x02

typedef enum IDEKind { IDE_NONE, IDE_HD, IDE_CD } IDEKind;

/* What the data port / DMA engine is doing for the current command. */
typedef enum IDEXfer {
    IDE_XFER_NONE,
    IDE_XFER_PIO_IN,      /* disk sectors (or ATAPI data) to the host */
    IDE_XFER_PIO_OUT,     /* host writes sectors */
    IDE_XFER_DMA_IN,      /* disk -> guest memory */
    IDE_XFER_DMA_OUT,     /* guest memory -> disk */
    IDE_XFER_PACKET,      /* ATAPI: waiting for the 12-byte command packet */
} IDEXfer;

/* Results of IDEDMAOps.rw. */
#define IDE_DMA_OK          0
#define IDE_DMA_FAULT       (-1)  /* bad address, runaway table, wrong direction */
#define IDE_DMA_SHORT       (-2)  /* the PRD table ended before the transfer */

typedef struct IDEDMAOps {
    /* Moves len bytes between buf and guest memory, continuing the PRD
     * walk where the previous call stopped; to_mem: device -> memory. */
    int (*rw)(void *opaque, uint8_t *buf, uint32_t len, bool to_mem);
    /* The bus master's start bit is set. */
    bool (*running)(void *opaque);
    /* The device finished its DMA command: ok, or an error (the engine
     * then shows its error bit and stops). Called before INTRQ rises. */
    void (*end)(void *opaque, bool error);
} IDEDMAOps;

typedef struct IDEBus IDEBus;

typedef struct IDEDrive {
    IDEBus *bus;
    int unit;
    IDEKind kind;
    BlockBackend *bb;           /* NULL: no disk / CD tray empty */
    uint64_t nsectors;          /* 512-byte (disk) or 2048-byte (CD) sectors */
    char serial[21], model[41];

    /* task file (every device latches writes; HOB: the previous byte) */
    uint8_t feature, nsect, sector, lcyl, hcyl;
    uint8_t hob_feature, hob_nsect, hob_sector, hob_lcyl, hob_hcyl;
    uint8_t select, status, error;
    bool irq_pending;           /* INTRQ asserted (cleared by a status read) */

    /* disk geometry and settings */
    uint16_t cyls, heads, secs;            /* default CHS translation */
    uint16_t cur_cyls, cur_heads, cur_secs;
    uint8_t mult;               /* sectors per DRQ block of READ/WRITE MULTIPLE; 0 off */
    uint8_t xfer_mode;          /* SET FEATURES 03h value (0: default PIO) */
    bool write_cache, lookahead;
    bool standby;

    /* the command in progress */
    uint8_t cmd;
    uint8_t xfer;               /* IDEXfer */
    bool lba48;
    bool aio_busy;              /* a block request is in flight */
    uint64_t lba;               /* next sector to move to/from the disk */
    uint32_t remain;            /* sectors of the command not yet through buf */
    uint32_t chunk;             /* sectors in buf from the last disk request */
    uint32_t block;             /* PIO: sectors per DRQ block */
    uint32_t pos, end;          /* data port position and end of DRQ block */
    uint32_t buf_len;           /* valid bytes in buf */

    /* ATAPI */
    uint8_t cdb[12];
    uint8_t sense_key, asc, ascq;
    bool unit_attention;        /* medium changed: next command reports it */
    bool media_event;           /* GET EVENT STATUS: new medium not reported yet */
    bool locked, tray_open;
    /* The board's ear on the tray (DEVICE_TRAY_MOVED): called whenever
     * tray_open changes, by the guest or by ide_cd_set_tray. */
    void (*tray_moved)(void *opaque, bool open);
    void *tray_opaque;
    bool atapi_dma;             /* PACKET with features bit 0 */
    uint16_t byte_limit;        /* PIO DRQ byte count limit */

    uint8_t buf[IDE_BUF_SIZE];
} IDEDrive;

struct IDEBus {
    Machine *m;
    char name[16];
    uint16_t base, ctl;
    IRQLine *irq;
    IDEDrive drive[2];
    uint8_t cur;                /* selected unit (DEV bit) */
    uint8_t devctl;
    bool irq_level;
    const IDEDMAOps *dma;
    void *dma_opaque;
};

/* Registers the command block (8 ports at base) and control port (1 at
 * ctl).  NULL when the ports are taken. */
IDEBus *ide_bus_create(Machine *m, const char *name, uint16_t base, uint16_t ctl,
                       IRQLine *irq);
/* Puts a device on the channel.  IDE_HD needs bb; IDE_CD may have none
 * (empty tray).  The channel does not own bb. */
void ide_drive_attach(IDEBus *b, int unit, IDEKind kind, BlockBackend *bb);
void ide_bus_set_dma(IDEBus *b, const IDEDMAOps *ops, void *opaque);
/* The bus master was started: a waiting DMA command proceeds. */
void ide_bus_dma_kick(IDEBus *b);
/* A unit has a device (for the bus master's "drive DMA capable" bits). */
bool ide_drive_present(IDEBus *b, int unit);
/* Inserts (bb) or removes (NULL) a CD: the next command reports
 * UNIT ATTENTION / MEDIUM MAY HAVE CHANGED.  The tray stays as it is
 * (ide_cd_set_tray moves it). */
void ide_cd_change_medium(IDEBus *b, int unit, BlockBackend *bb);
/* The monitor's eject / change: the tray's state and whether the guest
 * locked it (PREVENT ALLOW MEDIUM REMOVAL); ide_cd_set_tray moves it and
 * tells the board when it does move. */
void ide_cd_set_tray_notify(IDEBus *b, int unit, void (*fn)(void *opaque, bool open),
                            void *opaque);
bool ide_cd_locked(IDEBus *b, int unit);
bool ide_cd_tray_open(IDEBus *b, int unit);
void ide_cd_set_tray(IDEBus *b, int unit, bool open);
/* Waits for the channel's block requests (snapshot, reset). */
void ide_bus_drain(IDEBus *b);

/* ---- shared between ide.c and ide-atapi.c ---- */
void ide_set_irq(IDEDrive *d);
void ide_atapi_identify(IDEDrive *d, uint16_t *w);
void ide_atapi_packet_start(IDEDrive *d);
void ide_atapi_run(IDEDrive *d);                /* the 12 bytes arrived */
void ide_atapi_data_done(IDEDrive *d);          /* PIO DRQ block consumed */
void ide_atapi_dma_kick(IDEDrive *d);
void ide_atapi_reset(IDEDrive *d);
void ide_put_string(uint16_t *w, const char *s, int words);

#endif
