/*
 * SCSI: what a host bus adapter (hw/virtio-scsi.c) and its logical units
 * (hw/scsi-disk.c: scsi-hd, scsi-cd) share, the SCSI bus that routes a
 * command to its unit (hw/scsi-bus.c), and the SPC/SBC/MMC constants and
 * reply builders the units and the IDE ATAPI CD-ROM share (hw/scsi-mmc.c).
 *
 *   SCSIBus *bus = scsi_bus_new("scsi0.0", 255, 16383);
 *   SCSIDevice *d = scsi_disk_create(m, &(SCSIDiskConfig){ .kind = SCSI_DISK_HD,
 *                                    .bb = bb });
 *   scsi_bus_attach(bus, d, -1, 0, err, len);       // target: the next free
 *   ...
 *   SCSIRequest *r = ...;            // the HBA's, often embedded in its own
 *   memcpy(r->cdb, cdb, n); r->out_max = ...; r->in_max = ...;  // cdb zero padded
 *   r->ops = &my_ops; r->hba = me;  // read_out / write_in / complete
 *   scsi_bus_submit(bus, target, lun, r);
 *   // ... later (or at once) ops->complete(r): r->status, r->sense,
 *   //     r->in_len bytes written through write_in, r->overrun
 *
 * A unit moves data-out and data-in through the HBA's read_out/write_in
 * (the HBA knows where the guest's buffers are), so no buffer is larger
 * than the command needs.  Every length and address in a CDB is checked
 * against the unit's limits before anything is allocated or read.
 * Requests run on the main thread; block I/O completes there too.
 */
#ifndef VX86_HW_SCSI_H
#define VX86_HW_SCSI_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define SCSI_CDB_MAX        32
#define SCSI_SENSE_MAX      96
#define SCSI_SENSE_FIXED    18      /* fixed-format sense data (SPC-4 4.5.3) */

/* Status codes (SAM-5). */
#define SCSI_STATUS_GOOD            0x00
#define SCSI_STATUS_CHECK_CONDITION 0x02
#define SCSI_STATUS_BUSY            0x08

/* Operation codes (SPC-4, SBC-3, MMC-6). */
enum {
    SCSI_TEST_UNIT_READY = 0x00,
    SCSI_REQUEST_SENSE = 0x03,
    SCSI_READ_6 = 0x08,
    SCSI_WRITE_6 = 0x0a,
    SCSI_INQUIRY = 0x12,
    SCSI_MODE_SELECT_6 = 0x15,
    SCSI_MODE_SENSE_6 = 0x1a,
    SCSI_START_STOP_UNIT = 0x1b,
    SCSI_PREVENT_ALLOW = 0x1e,
    SCSI_READ_CAPACITY_10 = 0x25,
    SCSI_READ_10 = 0x28,
    SCSI_WRITE_10 = 0x2a,
    SCSI_SEEK_10 = 0x2b,
    SCSI_WRITE_VERIFY_10 = 0x2e,
    SCSI_VERIFY_10 = 0x2f,
    SCSI_SYNCHRONIZE_CACHE_10 = 0x35,
    SCSI_WRITE_SAME_10 = 0x41,
    SCSI_UNMAP = 0x42,
    MMC_READ_TOC = 0x43,
    MMC_GET_CONFIGURATION = 0x46,
    MMC_GET_EVENT_STATUS = 0x4a,
    MMC_READ_DISC_INFORMATION = 0x51,
    SCSI_MODE_SELECT_10 = 0x55,
    SCSI_MODE_SENSE_10 = 0x5a,
    SCSI_READ_16 = 0x88,
    SCSI_WRITE_16 = 0x8a,
    SCSI_WRITE_VERIFY_16 = 0x8e,
    SCSI_VERIFY_16 = 0x8f,
    SCSI_SYNCHRONIZE_CACHE_16 = 0x91,
    SCSI_WRITE_SAME_16 = 0x93,
    SCSI_SERVICE_ACTION_IN_16 = 0x9e,   /* service action 0x10: READ CAPACITY(16) */
    SCSI_REPORT_LUNS = 0xa0,
    SCSI_READ_12 = 0xa8,
    SCSI_WRITE_12 = 0xaa,
    SCSI_WRITE_VERIFY_12 = 0xae,
    SCSI_VERIFY_12 = 0xaf,
    MMC_SET_CD_SPEED = 0xbb,
};
#define SCSI_SAI_READ_CAPACITY_16   0x10

/* Sense keys (SPC-4 4.5.6) and additional sense codes (ASC, ASCQ). */
#define SENSE_NONE              0x00
#define SENSE_NOT_READY         0x02
#define SENSE_MEDIUM_ERROR      0x03
#define SENSE_HARDWARE_ERROR    0x04
#define SENSE_ILLEGAL_REQUEST   0x05
#define SENSE_UNIT_ATTENTION    0x06
#define SENSE_DATA_PROTECT      0x07
#define SENSE_ABORTED_COMMAND   0x0b
#define ASC_WRITE_ERROR         0x0c
#define ASC_UNRECOVERED_READ    0x11
#define ASC_PARAM_LIST_LENGTH   0x1a
#define ASC_INVALID_OPCODE      0x20
#define ASC_LBA_OUT_OF_RANGE    0x21
#define ASC_INVALID_FIELD       0x24
#define ASC_LUN_NOT_SUPPORTED   0x25
#define ASC_INVALID_PARAM       0x26
#define ASC_WRITE_PROTECTED     0x27
#define ASC_MEDIUM_CHANGED      0x28
#define ASC_POWER_ON_RESET      0x29
#define ASC_SAVING_NOT_SUPPORTED 0x39
#define ASC_MEDIUM_NOT_PRESENT  0x3a
#define ASC_REMOVAL_PREVENTED   0x53

/* ---- byte order helpers (SCSI is big-endian) ---- */

static inline void scsi_put_be16(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)(v >> 8);
    p[1] = (uint8_t)v;
}

static inline void scsi_put_be32(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)(v >> 24);
    p[1] = (uint8_t)(v >> 16);
    p[2] = (uint8_t)(v >> 8);
    p[3] = (uint8_t)v;
}

static inline void scsi_put_be64(uint8_t *p, uint64_t v)
{
    scsi_put_be32(p, (uint32_t)(v >> 32));
    scsi_put_be32(p + 4, (uint32_t)v);
}

static inline uint32_t scsi_get_be16(const uint8_t *p)
{
    return (uint32_t)p[0] << 8 | p[1];
}

static inline uint32_t scsi_get_be24(const uint8_t *p)
{
    return (uint32_t)p[0] << 16 | (uint32_t)p[1] << 8 | p[2];
}

static inline uint32_t scsi_get_be32(const uint8_t *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static inline uint64_t scsi_get_be64(const uint8_t *p)
{
    return (uint64_t)scsi_get_be32(p) << 32 | scsi_get_be32(p + 4);
}

/* Fills fixed-format sense data (18 bytes: response code 70h, key, ASC,
 * ASCQ); returns its length. */
unsigned scsi_build_sense(uint8_t *buf, uint8_t key, uint8_t asc, uint8_t ascq);

/* ---- requests ---- */

typedef struct SCSIRequest SCSIRequest;
typedef struct SCSIDevice SCSIDevice;
typedef struct SCSIBus SCSIBus;

/* What the HBA provides for a request. */
typedef struct SCSIRequestOps {
    /* Copies data-out bytes [off, off + len) into buf; returns the bytes
     * copied (short when the initiator's buffers end). */
    size_t (*read_out)(SCSIRequest *r, uint64_t off, void *buf, size_t len);
    /* Copies into the data-in buffers at off; returns the bytes copied. */
    size_t (*write_in)(SCSIRequest *r, uint64_t off, const void *buf, size_t len);
    /* The command finished (status, sense, in_len/out_len set).  Called
     * once, possibly from inside scsi_bus_submit. */
    void (*complete)(SCSIRequest *r);
} SCSIRequestOps;

struct SCSIRequest {
    /* Set by the HBA before submitting. */
    uint8_t cdb[SCSI_CDB_MAX];      /* the command, zero padded */
    uint64_t out_max;               /* data-out bytes the initiator sent */
    uint64_t in_max;                /* room for data-in */
    const SCSIRequestOps *ops;
    void *hba;
    /* The result, set by the unit before complete. */
    uint8_t status;
    bool overrun;                   /* the CDB asks for more data than the buffers hold */
    uint8_t sense[SCSI_SENSE_MAX];
    unsigned sense_len;
    uint64_t in_len;                /* data-in bytes transferred */
    uint64_t out_len;               /* data-out bytes consumed */
    /* The unit's working state (valid between submit and complete). */
    SCSIDevice *dev;
    uint8_t *buf;                   /* bounce buffer (freed at completion) */
    size_t buf_len;
    int pending;                    /* block requests in flight */
    int error;                      /* first failure of those (negative errno) */
    uint64_t lba, count;            /* blocks still to do (WRITE SAME in chunks) */
    SCSIRequest *prev, *next;       /* the unit's list of requests in flight */
};

/* Completion helpers for units (and the bus's own answers). */
void scsi_req_good(SCSIRequest *r);
void scsi_req_check(SCSIRequest *r, uint8_t key, uint8_t asc, uint8_t ascq);
void scsi_req_overrun(SCSIRequest *r);
/* Sends min(len, alloc) bytes of buf as data-in and completes GOOD; an
 * initiator buffer too small for them is an overrun. */
void scsi_req_reply(SCSIRequest *r, const void *buf, size_t len, uint64_t alloc);

/* ---- units and the bus ---- */

typedef struct SCSIDeviceOps {
    const char *name;
    /* Runs r (cdb[0] is the opcode); completes it now or later. */
    void (*submit)(SCSIDevice *d, SCSIRequest *r);
    /* Waits for the unit's block requests; their completions run. */
    void (*drain)(SCSIDevice *d);
    /* A bus or logical unit reset: UNIT ATTENTION for the next command. */
    void (*bus_reset)(SCSIDevice *d);
} SCSIDeviceOps;

struct SCSIDevice {
    const SCSIDeviceOps *ops;
    SCSIBus *bus;
    int target, lun;
    uint64_t inflight_bytes;        /* bounce memory held by its requests */
};

#define SCSI_BUS_MAX_UNITS  32

struct SCSIBus {
    char name[40];                  /* "scsi0.0": the bus= of its units */
    int max_target, max_lun;
    int nunits;
    SCSIDevice *units[SCSI_BUS_MAX_UNITS];
    /* Called when a request of a unit completed and freed bounce memory
     * (the HBA resumes queues it stopped at its cap). */
    void (*on_release)(void *opaque);
    void *opaque;
};

SCSIBus *scsi_bus_new(const char *name, int max_target, int max_lun);
/* Frees the bus, not its units (they are machine devices). */
void scsi_bus_free(SCSIBus *bus);
/* Puts d at target/lun (target < 0: the first target with no unit).
 * False with err when the address is taken, out of range or the bus is
 * full. */
bool scsi_bus_attach(SCSIBus *bus, SCSIDevice *d, int target, int lun, char *err, size_t len);
SCSIDevice *scsi_bus_find(SCSIBus *bus, int target, int lun);
/* Whether any unit answers at target (else the HBA reports a bad target). */
bool scsi_bus_has_target(SCSIBus *bus, int target);
/* Routes r to its unit; REPORT LUNS and commands to a missing LUN of a
 * present target are answered by the bus (SPC-4 5.13, 7.x). */
void scsi_bus_submit(SCSIBus *bus, int target, int lun, SCSIRequest *r);
/* Waits for every unit's requests (reset, free, TMF). */
void scsi_bus_drain(SCSIBus *bus);
/* Bus reset: every unit reports a reset UNIT ATTENTION next. */
void scsi_bus_reset(SCSIBus *bus);
/* Bounce memory held by every unit's requests. */
uint64_t scsi_bus_inflight_bytes(const SCSIBus *bus);
/* For units: a request released bounce memory. */
void scsi_bus_released(SCSIBus *bus);

/* ---- MMC replies shared by scsi-cd and the IDE ATAPI CD-ROM ---- */

#define MMC_CD_SECTOR       2048
#define MMC_CD_MAX_SECTORS  (80 * 60 * 75)   /* past this, call the medium a DVD */

/* The state of a CD/DVD drive the replies describe. */
typedef struct MMCDrive {
    bool medium;                    /* a disc is in and the tray closed */
    bool tray_open, locked;
    uint64_t nsectors;              /* 2048-byte sectors of the disc */
    uint32_t interface;             /* GET CONFIGURATION core feature: 1 SCSI, 2 ATAPI */
} MMCDrive;

/* READ TOC/PMA/ATIP formats 0 (TOC), 1 (session info), 2 (raw TOC);
 * *bad when the format or track is invalid.  Returns the length (at most
 * 4 + 4 * 11 bytes). */
uint32_t mmc_read_toc(const MMCDrive *d, uint8_t *b, int format, bool msf, uint8_t track,
                      bool *bad);
/* GET CONFIGURATION with RT (0 all, 1 current, 2 one) and the starting
 * feature number.  At most 64 bytes. */
uint32_t mmc_get_configuration(const MMCDrive *d, uint8_t *b, int rt, uint16_t start);
/* GET EVENT STATUS NOTIFICATION (polled) for the notification classes
 * asked; reports and clears *media_event (a new medium when one is in,
 * else its removal).  At most 8 bytes. */
uint32_t mmc_event_status(const MMCDrive *d, uint8_t *b, uint8_t classes, bool *media_event);
/* READ DISC INFORMATION, standard disc information (34 bytes). */
uint32_t mmc_disc_info(const MMCDrive *d, uint8_t *b);
/* Mode pages 01h, 0Dh, 2Ah (3Fh: all) of a CD drive; 0 for a page it does
 * not have.  At most 46 bytes. */
uint32_t mmc_mode_pages(const MMCDrive *d, uint8_t *p, int page);
/* A CD address as minute/second/frame (the 150-frame pregap included). */
void mmc_put_msf(uint8_t *p, uint64_t lba);

#endif
