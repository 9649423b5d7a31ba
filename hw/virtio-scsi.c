/*
 * virtio-scsi (see virtio-scsi.h).  Facts used, virtio 1.2 section 5.6:
 * device ID 8; queues controlq, eventq, then num_queues request queues;
 * configuration {le32 num_queues, seg_max, max_sectors, cmd_per_lun,
 * event_info_size, sense_size, cdb_size; le16 max_channel, max_target;
 * le32 max_lun}, the driver may write sense_size and cdb_size; a command
 * request is {u8 lun[8]; le64 id; u8 task_attr, prio, crn; u8
 * cdb[cdb_size]} then data-out, and its device-writable part {le32
 * sense_len, residual; le16 status_qualifier; u8 status, response; u8
 * sense[sense_size]} then data-in; LUN bytes: 1, target, then the LUN in
 * SAM flat format (0x40 | lun >> 8, lun & 0xff); task management
 * {le32 type 0, subtype; u8 lun[8]; le64 id} answered by {u8 response};
 * asynchronous notification {le32 type; u8 lun[8]; le32 event_requested}
 * answered by {le32 event_actual; u8 response}; events {le32 event; u8
 * lun[8]; le32 reason}, bit 31 of event: events were missed.
 */
#include "hw/virtio-scsi.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/device.h"
#include "core/log.h"
#include "core/util.h"

#define CMD_REQ_FIXED   19u     /* lun, id, task_attr, prio, crn */
#define CMD_RESP_FIXED  12u     /* sense_len, residual, status_qualifier, status, response */
#define TMF_REQ_SIZE    24u
#define AN_REQ_SIZE     16u
#define EVENT_SIZE      16u

typedef struct VirtIOSCSIReq VirtIOSCSIReq;

struct VirtIOSCSI {
    VirtIODevice vdev;          /* first: virtio_vmsd saves it through the opaque */
    Machine *m;
    SCSIBus *bus;
    uint32_t sense_size, cdb_size;
    bool events_missed;         /* an event found no buffer */
    bool cancelling;            /* reset or free: completions only clean up */
    bool throttled;             /* stopped taking requests at the memory cap */
    VirtIOSCSIReq *inflight;    /* doubly linked */
};

struct VirtIOSCSIReq {
    SCSIRequest sreq;           /* first: the bus hands it back */
    VirtIOSCSI *s;
    VirtQueue *vq;
    VirtQueueElement *e;
    uint64_t req_size, resp_size;   /* headers: data-out / data-in start after them */
    int target, lun;
    uint64_t tag;
    VirtIOSCSIReq *prev, *next;
};

static void st16(uint8_t *p, uint16_t v) { p[0] = (uint8_t)v; p[1] = (uint8_t)(v >> 8); }
static void st32(uint8_t *p, uint32_t v) { for (int i = 0; i < 4; i++) p[i] = (uint8_t)(v >> (8 * i)); }

static uint32_t ld32(const uint8_t *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static uint64_t ld64(const uint8_t *p)
{
    return (uint64_t)ld32(p) | (uint64_t)ld32(p + 4) << 32;
}

VirtIODevice *virtio_scsi_vdev(VirtIOSCSI *h)
{
    return &h->vdev;
}

SCSIBus *virtio_scsi_bus(VirtIOSCSI *h)
{
    return h->bus;
}

/* The target and LUN a virtio LUN field names; false when it is not in
 * the format the spec gives (first byte 1). */
static bool decode_lun(const uint8_t *l, int *target, int *lun)
{
    if (l[0] != 1)
        return false;
    *target = l[1];
    *lun = (l[2] & 0x3f) << 8 | l[3];
    return true;
}

static bool target_present(VirtIOSCSI *s, const uint8_t *l, int *target, int *lun)
{
    return decode_lun(l, target, lun) && scsi_bus_has_target(s->bus, *target);
}

/* ---- events ---- */

static bool event_send(VirtIOSCSI *s, uint32_t event, int target, int lun, uint32_t reason)
{
    VirtQueue *vq = &s->vdev.vq[1];
    VirtQueueElement *e = virtqueue_pop(vq);
    if (!e)
        return false;
    if (e->in_len < EVENT_SIZE) {
        virtio_error(&s->vdev, "event buffer of %llu bytes (needs %u)",
                     (unsigned long long)e->in_len, EVENT_SIZE);
        virtqueue_discard(vq, e);
        return true;            /* the device is broken: nothing more to send */
    }
    uint8_t ev[EVENT_SIZE];
    memset(ev, 0, sizeof ev);
    if (s->events_missed)
        event |= VIRTIO_SCSI_T_EVENTS_MISSED;
    st32(ev, event);
    if (target >= 0) {
        ev[4] = 1;
        ev[5] = (uint8_t)target;
        ev[6] = (uint8_t)(0x40 | (lun >> 8));
        ev[7] = (uint8_t)lun;
    }
    st32(ev + 12, reason);
    virtio_elem_write(&s->vdev, e, 0, ev, EVENT_SIZE);
    virtqueue_push(vq, e, EVENT_SIZE);
    virtqueue_notify(vq);
    s->events_missed = false;
    return true;
}

bool virtio_scsi_push_event(VirtIOSCSI *h, uint32_t event, int target, int lun, uint32_t reason)
{
    unsigned need = event == VIRTIO_SCSI_T_PARAM_CHANGE ? VIRTIO_SCSI_F_CHANGE
                                                        : VIRTIO_SCSI_F_HOTPLUG;
    if (!virtio_has_feature(&h->vdev, need) || !(h->vdev.status & VIRTIO_STATUS_DRIVER_OK))
        return false;
    if (!event_send(h, event, target, lun, reason))
        h->events_missed = true;
    return true;
}

/* New event buffers: report what was missed meanwhile. */
static void vscsi_event_notify(VirtIOSCSI *s)
{
    if (s->events_missed)
        event_send(s, VIRTIO_SCSI_T_NO_EVENT, -1, 0, 0);
}

/* ---- command requests ---- */

static size_t req_read_out(SCSIRequest *sr, uint64_t off, void *buf, size_t len)
{
    VirtIOSCSIReq *r = (VirtIOSCSIReq *)sr;
    if (off >= sr->out_max)
        return 0;
    if (len > sr->out_max - off)
        len = (size_t)(sr->out_max - off);
    return virtio_elem_read(&r->s->vdev, r->e, r->req_size + off, buf, len);
}

static size_t req_write_in(SCSIRequest *sr, uint64_t off, const void *buf, size_t len)
{
    VirtIOSCSIReq *r = (VirtIOSCSIReq *)sr;
    if (off >= sr->in_max)
        return 0;
    if (len > sr->in_max - off)
        len = (size_t)(sr->in_max - off);
    return virtio_elem_write(&r->s->vdev, r->e, r->resp_size + off, buf, len);
}

static void req_unlink(VirtIOSCSI *s, VirtIOSCSIReq *r)
{
    if (r->prev)
        r->prev->next = r->next;
    else
        s->inflight = r->next;
    if (r->next)
        r->next->prev = r->prev;
}

/* Writes the response header (with the sense data) and returns the
 * element. */
static void cmd_respond(VirtIOSCSI *s, VirtIOSCSIReq *r, uint8_t response)
{
    SCSIRequest *sr = &r->sreq;
    uint8_t hdr[CMD_RESP_FIXED];
    uint32_t sense_len = response == VIRTIO_SCSI_S_OK ? sr->sense_len : 0;
    if (sense_len > s->sense_size)
        sense_len = s->sense_size;
    uint64_t resid = sr->in_max ? sr->in_max - sr->in_len : sr->out_max - sr->out_len;
    st32(hdr, sense_len);
    st32(hdr + 4, resid > 0xffffffffu ? 0xffffffffu : (uint32_t)resid);
    st16(hdr + 8, 0);
    hdr[10] = response == VIRTIO_SCSI_S_OK ? sr->status : 0;
    hdr[11] = response;
    virtio_elem_write(&s->vdev, r->e, 0, hdr, sizeof hdr);
    if (sense_len)
        virtio_elem_write(&s->vdev, r->e, CMD_RESP_FIXED, sr->sense, sense_len);
    virtqueue_push(r->vq, r->e, (uint32_t)(r->resp_size + sr->in_len));
    virtqueue_notify(r->vq);
}

static void req_complete(SCSIRequest *sr)
{
    VirtIOSCSIReq *r = (VirtIOSCSIReq *)sr;
    VirtIOSCSI *s = r->s;
    req_unlink(s, r);
    if (s->cancelling)
        virtqueue_discard(r->vq, r->e);
    else
        cmd_respond(s, r, sr->overrun ? VIRTIO_SCSI_S_OVERRUN : VIRTIO_SCSI_S_OK);
    free(r);
}

static const SCSIRequestOps vscsi_req_ops = {
    .read_out = req_read_out, .write_in = req_write_in, .complete = req_complete,
};

static void vscsi_handle_cmd(VirtIOSCSI *s, VirtQueue *vq, VirtQueueElement *e)
{
    uint64_t req_size = CMD_REQ_FIXED + (uint64_t)s->cdb_size;
    uint64_t resp_size = CMD_RESP_FIXED + (uint64_t)s->sense_size;
    if (e->out_len < req_size || e->in_len < resp_size) {
        virtio_error(&s->vdev, "command request of %llu/%llu bytes (needs %llu/%llu)",
                     (unsigned long long)e->out_len, (unsigned long long)e->in_len,
                     (unsigned long long)req_size, (unsigned long long)resp_size);
        virtqueue_discard(vq, e);
        return;
    }
    VirtIOSCSIReq *r = xcalloc(1, sizeof(*r));
    r->s = s;
    r->vq = vq;
    r->e = e;
    r->req_size = req_size;
    r->resp_size = resp_size;
    uint8_t hdr[CMD_REQ_FIXED];
    virtio_elem_read(&s->vdev, e, 0, hdr, sizeof hdr);
    r->tag = ld64(hdr + 8);
    uint32_t n = s->cdb_size < SCSI_CDB_MAX ? s->cdb_size : SCSI_CDB_MAX;
    virtio_elem_read(&s->vdev, e, CMD_REQ_FIXED, r->sreq.cdb, n);
    r->sreq.out_max = e->out_len - req_size;
    r->sreq.in_max = e->in_len - resp_size;
    r->sreq.ops = &vscsi_req_ops;
    r->sreq.hba = s;
    /* Linked before submitting: the unit may complete it at once. */
    r->next = s->inflight;
    if (s->inflight)
        s->inflight->prev = r;
    s->inflight = r;
    if (!target_present(s, hdr, &r->target, &r->lun)) {
        req_unlink(s, r);
        cmd_respond(s, r, VIRTIO_SCSI_S_BAD_TARGET);
        free(r);
        return;
    }
    if (r->sreq.out_max && r->sreq.in_max) {    /* bidirectional: INOUT not offered */
        req_unlink(s, r);
        cmd_respond(s, r, VIRTIO_SCSI_S_FAILURE);
        free(r);
        return;
    }
    scsi_bus_submit(s->bus, r->target, r->lun, &r->sreq);
}

static void vscsi_requests(VirtIOSCSI *s, VirtQueue *vq)
{
    VirtQueueElement *e;
    while (!s->vdev.broken) {
        if (scsi_bus_inflight_bytes(s->bus) >= VIRTIO_SCSI_MAX_INFLIGHT) {
            s->throttled = true;
            return;
        }
        if (!(e = virtqueue_pop(vq)))
            break;
        vscsi_handle_cmd(s, vq, e);
    }
}

/* A unit freed bounce memory: take the requests left waiting. */
static void vscsi_released(void *opaque)
{
    VirtIOSCSI *s = opaque;
    if (!s->throttled || s->cancelling ||
        scsi_bus_inflight_bytes(s->bus) >= VIRTIO_SCSI_MAX_INFLIGHT)
        return;
    s->throttled = false;
    for (int q = 2; q < s->vdev.nvq; q++)
        virtio_queue_notify(&s->vdev, q);
}

/* ---- control queue ---- */

static bool inflight_for(VirtIOSCSI *s, int target, int lun, bool match_tag, uint64_t tag)
{
    for (VirtIOSCSIReq *r = s->inflight; r; r = r->next)
        if (r->target == target && r->lun == lun && (!match_tag || r->tag == tag))
            return true;
    return false;
}

/* Task management: aborting means waiting for the block requests (they
 * cannot be stopped once queued), so the tasks complete before the
 * function does, which SAM allows for tasks that finished first. */
static uint8_t vscsi_tmf(VirtIOSCSI *s, uint32_t subtype, const uint8_t *l, uint64_t tag)
{
    int target, lun;
    if (!target_present(s, l, &target, &lun))
        return VIRTIO_SCSI_S_BAD_TARGET;
    SCSIDevice *d = scsi_bus_find(s->bus, target, lun);
    switch (subtype) {
    case VIRTIO_SCSI_T_TMF_QUERY_TASK:
        return inflight_for(s, target, lun, true, tag) ? VIRTIO_SCSI_S_FUNCTION_SUCCEEDED
                                                       : VIRTIO_SCSI_S_FUNCTION_COMPLETE;
    case VIRTIO_SCSI_T_TMF_QUERY_TASK_SET:
        return inflight_for(s, target, lun, false, 0) ? VIRTIO_SCSI_S_FUNCTION_SUCCEEDED
                                                      : VIRTIO_SCSI_S_FUNCTION_COMPLETE;
    case VIRTIO_SCSI_T_TMF_ABORT_TASK:
    case VIRTIO_SCSI_T_TMF_ABORT_TASK_SET:
    case VIRTIO_SCSI_T_TMF_CLEAR_TASK_SET:
        if (!d)
            return VIRTIO_SCSI_S_INCORRECT_LUN;
        if (d->ops->drain)
            d->ops->drain(d);
        return VIRTIO_SCSI_S_FUNCTION_COMPLETE;
    case VIRTIO_SCSI_T_TMF_LOGICAL_UNIT_RESET:
        if (!d)
            return VIRTIO_SCSI_S_INCORRECT_LUN;
        if (d->ops->drain)
            d->ops->drain(d);
        if (d->ops->bus_reset)
            d->ops->bus_reset(d);
        return VIRTIO_SCSI_S_FUNCTION_COMPLETE;
    case VIRTIO_SCSI_T_TMF_I_T_NEXUS_RESET:
        for (int i = 0; i < s->bus->nunits; i++) {
            SCSIDevice *u = s->bus->units[i];
            if (u->target != target)
                continue;
            if (u->ops->drain)
                u->ops->drain(u);
            if (u->ops->bus_reset)
                u->ops->bus_reset(u);
        }
        return VIRTIO_SCSI_S_FUNCTION_COMPLETE;
    default:                        /* CLEAR ACA (no ACA here), unknown */
        return VIRTIO_SCSI_S_FUNCTION_REJECTED;
    }
}

static void vscsi_handle_ctrl(VirtIOSCSI *s, VirtQueue *vq, VirtQueueElement *e)
{
    uint8_t req[TMF_REQ_SIZE];
    uint32_t type = 0;
    if (e->out_len < 4 || virtio_elem_read(&s->vdev, e, 0, req, 4) != 4)
        goto bad;
    type = ld32(req);
    if (type == VIRTIO_SCSI_T_TMF) {
        if (e->out_len < TMF_REQ_SIZE || e->in_len < 1 ||
            virtio_elem_read(&s->vdev, e, 0, req, TMF_REQ_SIZE) != TMF_REQ_SIZE)
            goto bad;
        uint8_t resp = vscsi_tmf(s, ld32(req + 4), req + 8, ld64(req + 16));
        virtio_elem_write(&s->vdev, e, 0, &resp, 1);
        virtqueue_push(vq, e, 1);
    } else if (type == VIRTIO_SCSI_T_AN_QUERY || type == VIRTIO_SCSI_T_AN_SUBSCRIBE) {
        if (e->out_len < AN_REQ_SIZE || e->in_len < 5 ||
            virtio_elem_read(&s->vdev, e, 0, req, AN_REQ_SIZE) != AN_REQ_SIZE)
            goto bad;
        uint8_t resp[5];
        int target, lun;
        st32(resp, 0);              /* no asynchronous notification classes */
        resp[4] = target_present(s, req + 4, &target, &lun) ? VIRTIO_SCSI_S_OK
                                                            : VIRTIO_SCSI_S_BAD_TARGET;
        virtio_elem_write(&s->vdev, e, 0, resp, sizeof resp);
        virtqueue_push(vq, e, sizeof resp);
    } else {
        goto bad;
    }
    virtqueue_notify(vq);
    return;
bad:
    virtio_error(&s->vdev, "control request type %u of %llu/%llu bytes", type,
                 (unsigned long long)e->out_len, (unsigned long long)e->in_len);
    virtqueue_discard(vq, e);
}

static void vscsi_control(VirtIOSCSI *s, VirtQueue *vq)
{
    VirtQueueElement *e;
    while (!s->vdev.broken && (e = virtqueue_pop(vq)))
        vscsi_handle_ctrl(s, vq, e);
}

static void vscsi_queue_notify(VirtIODevice *vdev, VirtQueue *vq)
{
    VirtIOSCSI *s = (VirtIOSCSI *)vdev;
    if (vq->index == 0)
        vscsi_control(s, vq);
    else if (vq->index == 1)
        vscsi_event_notify(s);
    else
        vscsi_requests(s, vq);
}

/* ---- configuration ---- */

static void vscsi_get_config(VirtIODevice *vdev, uint8_t *c)
{
    VirtIOSCSI *s = (VirtIOSCSI *)vdev;
    st32(c + 0, (uint32_t)(vdev->nvq - 2));             /* num_queues */
    st32(c + 4, VIRTIO_SCSI_QUEUE_SIZE - 2);             /* seg_max */
    st32(c + 8, VIRTIO_SCSI_MAX_SECTORS);                /* max_sectors */
    st32(c + 12, 128);                                   /* cmd_per_lun */
    st32(c + 16, EVENT_SIZE);                            /* event_info_size */
    st32(c + 20, s->sense_size);
    st32(c + 24, s->cdb_size);
    st16(c + 28, 0);                                     /* max_channel */
    st16(c + 30, VIRTIO_SCSI_MAX_TARGET);
    st32(c + 32, VIRTIO_SCSI_MAX_LUN);
}

/* The driver may set sense_size and cdb_size (5.6.4); the rest is
 * read-only.  Any value is kept: requests are checked against it. */
static void vscsi_set_config(VirtIODevice *vdev, const uint8_t *c)
{
    VirtIOSCSI *s = (VirtIOSCSI *)vdev;
    s->sense_size = ld32(c + 20);
    s->cdb_size = ld32(c + 24);
}

/* Waits for requests in flight; their completions only clean up. */
static void vscsi_cancel(VirtIOSCSI *s)
{
    s->cancelling = true;
    scsi_bus_drain(s->bus);
    s->cancelling = false;
}

static void vscsi_reset(VirtIODevice *vdev)
{
    VirtIOSCSI *s = (VirtIOSCSI *)vdev;
    vscsi_cancel(s);
    s->throttled = false;
    s->events_missed = false;
    s->sense_size = VIRTIO_SCSI_SENSE_DEFAULT;
    s->cdb_size = VIRTIO_SCSI_CDB_DEFAULT;
    scsi_bus_reset(s->bus);
}

static const VirtIODeviceClass virtio_scsi_class = {
    .name = "virtio-scsi",
    .device_id = VIRTIO_ID_SCSI,
    .pci_class = 0x010000,            /* mass storage, SCSI */
    .config_size = 36,
    .get_config = vscsi_get_config,
    .set_config = vscsi_set_config,
    .queue_notify = vscsi_queue_notify,
    .reset = vscsi_reset,
};

/* ---- the machine device ---- */

static void vscsi_free(void *opaque)
{
    VirtIOSCSI *s = opaque;
    vscsi_cancel(s);
    /* The units are machine devices of their own, freed after this one;
     * they no longer reach the bus. */
    for (int i = 0; i < s->bus->nunits; i++)
        s->bus->units[i]->bus = NULL;
    scsi_bus_free(s->bus);
    virtio_cleanup(&s->vdev);
    free(s);
}

static const VMField vscsi_fields[] = {
    VMF_STRUCT(vdev, VirtIOSCSI, virtio_vmsd),
    VMF_U32(sense_size, VirtIOSCSI),
    VMF_U32(cdb_size, VirtIOSCSI),
    VMF_BOOL(events_missed, VirtIOSCSI),
    VMF_END
};

static const VMStateDesc vscsi_vmsd = {
    .name = "virtio-scsi", .version = 1, .min_version = 1, .fields = vscsi_fields,
};

static const DeviceOps vscsi_device_ops = {
    .name = "virtio-scsi", .free = vscsi_free, .vmsd = &vscsi_vmsd,
};

VirtIOSCSI *virtio_scsi_create(Machine *m, const VirtIOSCSIConfig *cfg)
{
    VirtIOSCSI *s = xcalloc(1, sizeof(*s));
    s->m = m;
    s->bus = scsi_bus_new(cfg->bus_name ? cfg->bus_name : "scsi.0", VIRTIO_SCSI_MAX_TARGET,
                          VIRTIO_SCSI_MAX_LUN);
    s->bus->on_release = vscsi_released;
    s->bus->opaque = s;
    int nq = cfg->num_queues > 0 ? cfg->num_queues : 1;
    if (nq > VIRTIO_SCSI_MAX_QUEUES)
        nq = VIRTIO_SCSI_MAX_QUEUES;
    uint64_t f = 1ULL << VIRTIO_SCSI_F_HOTPLUG | 1ULL << VIRTIO_SCSI_F_CHANGE;
    virtio_init(&s->vdev, &virtio_scsi_class, m, f, nq + 2, VIRTIO_SCSI_QUEUE_SIZE);
    machine_add_device(m, &vscsi_device_ops, s);
    return s;
}
