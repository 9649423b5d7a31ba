/*
 * virtio-scsi (virtio 1.2, 5.6): a SCSI host bus adapter whose bus
 * (hw/scsi.h) carries scsi-hd and scsi-cd units (hw/scsi-disk.h).
 *
 *   VirtIOSCSI *h = virtio_scsi_create(m, &(VirtIOSCSIConfig){ .num_queues = 1,
 *                                      .bus_name = "scsi0.0" });
 *   virtio_pci_create(m, bus, devfn, virtio_scsi_vdev(h), err, len);
 *   scsi_bus_attach(virtio_scsi_bus(h), unit, scsi_id, lun, err, len);
 *
 * Queues: control (0: task management answered, asynchronous
 * notification queries answered "none"), event (1: transport reset and
 * parameter change events, or EVENTS_MISSED when the driver gave no
 * buffer), requests (2 .. 2 + num_queues - 1).  A request whose buffers
 * cannot hold the request header (19 bytes + cdb_size) or the response
 * header (12 bytes + sense_size) is a device error (NEEDS_RESET); a
 * request for a target with no unit gets BAD_TARGET; data-out and data-in
 * in one request (INOUT is not offered) get FAILURE; a CDB that wants
 * more data than the buffers hold gets OVERRUN.  Bounce memory of
 * requests in flight is capped at VIRTIO_SCSI_MAX_INFLIGHT per adapter.
 */
#ifndef VX86_HW_VIRTIO_SCSI_H
#define VX86_HW_VIRTIO_SCSI_H

#include "hw/scsi.h"
#include "hw/virtio.h"

#define VIRTIO_ID_SCSI              8
#define VIRTIO_SCSI_QUEUE_SIZE      256
#define VIRTIO_SCSI_MAX_QUEUES      (VIRTIO_MAX_QUEUES - 2)
#define VIRTIO_SCSI_CDB_DEFAULT     32
#define VIRTIO_SCSI_SENSE_DEFAULT   96
#define VIRTIO_SCSI_MAX_TARGET      255
#define VIRTIO_SCSI_MAX_LUN         16383
#define VIRTIO_SCSI_MAX_SECTORS     0xffff    /* 512-byte sectors per request (config) */
#define VIRTIO_SCSI_MAX_INFLIGHT    (256ull << 20)

/* Feature bits (5.6.3). */
#define VIRTIO_SCSI_F_INOUT         0
#define VIRTIO_SCSI_F_HOTPLUG       1
#define VIRTIO_SCSI_F_CHANGE        2

/* Response codes (5.6.6). */
#define VIRTIO_SCSI_S_OK            0
#define VIRTIO_SCSI_S_OVERRUN       1
#define VIRTIO_SCSI_S_ABORTED       2
#define VIRTIO_SCSI_S_BAD_TARGET    3
#define VIRTIO_SCSI_S_RESET         4
#define VIRTIO_SCSI_S_BUSY          5
#define VIRTIO_SCSI_S_TRANSPORT_FAILURE 6
#define VIRTIO_SCSI_S_TARGET_FAILURE 7
#define VIRTIO_SCSI_S_NEXUS_FAILURE 8
#define VIRTIO_SCSI_S_FAILURE       9
#define VIRTIO_SCSI_S_FUNCTION_SUCCEEDED 10
#define VIRTIO_SCSI_S_FUNCTION_REJECTED 11
#define VIRTIO_SCSI_S_INCORRECT_LUN 12
#define VIRTIO_SCSI_S_FUNCTION_COMPLETE 0

/* Control queue request types and task management functions (5.6.6.2). */
#define VIRTIO_SCSI_T_TMF           0
#define VIRTIO_SCSI_T_AN_QUERY      1
#define VIRTIO_SCSI_T_AN_SUBSCRIBE  2
#define VIRTIO_SCSI_T_TMF_ABORT_TASK        0
#define VIRTIO_SCSI_T_TMF_ABORT_TASK_SET    1
#define VIRTIO_SCSI_T_TMF_CLEAR_ACA         2
#define VIRTIO_SCSI_T_TMF_CLEAR_TASK_SET    3
#define VIRTIO_SCSI_T_TMF_I_T_NEXUS_RESET   4
#define VIRTIO_SCSI_T_TMF_LOGICAL_UNIT_RESET 5
#define VIRTIO_SCSI_T_TMF_QUERY_TASK        6
#define VIRTIO_SCSI_T_TMF_QUERY_TASK_SET    7

/* Events (5.6.6.3). */
#define VIRTIO_SCSI_T_NO_EVENT          0
#define VIRTIO_SCSI_T_TRANSPORT_RESET   1
#define VIRTIO_SCSI_T_ASYNC_NOTIFY      2
#define VIRTIO_SCSI_T_PARAM_CHANGE      3
#define VIRTIO_SCSI_T_EVENTS_MISSED     0x80000000u
#define VIRTIO_SCSI_EVT_RESET_HARD      0
#define VIRTIO_SCSI_EVT_RESET_RESCAN    1
#define VIRTIO_SCSI_EVT_RESET_REMOVED   2

typedef struct VirtIOSCSI VirtIOSCSI;

typedef struct VirtIOSCSIConfig {
    int num_queues;           /* request queues 1..VIRTIO_SCSI_MAX_QUEUES; 0 means 1 */
    const char *bus_name;     /* its bus's name ("ID.0"); NULL: "scsi.0" */
} VirtIOSCSIConfig;

VirtIOSCSI *virtio_scsi_create(Machine *m, const VirtIOSCSIConfig *cfg);
VirtIODevice *virtio_scsi_vdev(VirtIOSCSI *h);
SCSIBus *virtio_scsi_bus(VirtIOSCSI *h);
/* Sends an event (target/lun of the unit it is about) on the event
 * queue, or remembers that one was missed when the driver has no buffer
 * there; false when the driver did not negotiate the feature it needs. */
bool virtio_scsi_push_event(VirtIOSCSI *h, uint32_t event, int target, int lun,
                            uint32_t reason);

#endif
