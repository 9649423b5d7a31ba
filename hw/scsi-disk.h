/*
 * SCSI logical units on the block layer: scsi-hd (a direct-access block
 * device, SBC-3, 512-byte blocks) and scsi-cd (an MMC CD/DVD reader,
 * 2048-byte blocks, removable).  They sit on a SCSIBus (hw/scsi.h) of an
 * HBA such as virtio-scsi.
 *
 *   SCSIDevice *d = scsi_disk_create(m, &(SCSIDiskConfig){
 *                        .kind = SCSI_DISK_HD, .bb = bb, .serial = "d0" });
 *   scsi_bus_attach(bus, d, scsi_id, lun, err, len);
 *
 * Commands (both): TEST UNIT READY, REQUEST SENSE, INQUIRY (standard and
 * the VPD pages 00h, 80h, 83h; disks also B0h, B1h, B2h), MODE SENSE(6/10),
 * START STOP UNIT, PREVENT ALLOW MEDIUM REMOVAL, READ(6/10/12/16), READ
 * CAPACITY(10), SEEK(10).  Disks: WRITE(6/10/12/16), WRITE AND VERIFY,
 * VERIFY (no byte check), READ CAPACITY(16), SYNCHRONIZE CACHE(10/16),
 * UNMAP, WRITE SAME(10/16) (with UNMAP: a discard when the block is
 * zeros).  CDs: READ TOC, GET CONFIGURATION, GET EVENT STATUS
 * NOTIFICATION, READ DISC INFORMATION, SET CD SPEED.  Anything else is
 * CHECK CONDITION, ILLEGAL REQUEST, INVALID COMMAND OPERATION CODE.
 *
 * Every I/O is a blk_aio_* request; the unit holds at most
 * SCSI_DISK_MAX_XFER bytes of bounce memory per request.
 */
#ifndef VX86_HW_SCSI_DISK_H
#define VX86_HW_SCSI_DISK_H

#include "block/block.h"
#include "core/machine.h"
#include "hw/scsi.h"

#define SCSI_DISK_MAX_XFER          (32u << 20)   /* bytes of one READ/WRITE */
#define SCSI_DISK_MAX_UNMAP_BLOCKS  (1u << 22)    /* per UNMAP descriptor / WRITE SAME */
#define SCSI_DISK_MAX_UNMAP_DESC    64

typedef enum SCSIDiskKind { SCSI_DISK_HD, SCSI_DISK_CD } SCSIDiskKind;

typedef struct SCSIDiskConfig {
    SCSIDiskKind kind;
    BlockBackend *bb;         /* NULL: a CD drive with no disc */
    const char *serial;       /* unit serial number (VPD 80h); NULL: derived */
} SCSIDiskConfig;

/* A machine device (reset, saved state); the caller attaches it to a bus.
 * The backend belongs to the caller and must outlive the unit. */
SCSIDevice *scsi_disk_create(Machine *m, const SCSIDiskConfig *cfg);

/* scsi-cd's removable medium, for the monitor's eject / change (d must
 * come from scsi_disk_create; on a scsi-hd these do nothing / say no).
 * fn hears every tray move, the guest's (START STOP UNIT) and
 * scsi_cd_set_tray's; scsi_cd_change_medium swaps the disc (NULL: none),
 * the tray stays as it is; the next command gets UNIT ATTENTION, NOT
 * READY TO READY CHANGE, MEDIUM MAY HAVE CHANGED. */
void scsi_cd_set_tray_notify(SCSIDevice *d, void (*fn)(void *opaque, bool open), void *opaque);
bool scsi_cd_locked(SCSIDevice *d);
bool scsi_cd_tray_open(SCSIDevice *d);
void scsi_cd_set_tray(SCSIDevice *d, bool open);
void scsi_cd_change_medium(SCSIDevice *d, BlockBackend *bb);

#endif
