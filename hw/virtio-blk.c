/*
 * virtio-blk (see virtio-blk.h).  Facts used, virtio 1.2 section 5.2:
 * configuration layout (le64 capacity in 512-byte sectors at 0, le32
 * seg_max at 12, le32 blk_size at 20, le16 num_queues at 34, discard
 * limits at 36..47, write-zeroes limits at 48..56); a request is a
 * device-readable header {le32 type, le32 reserved, le64 sector}, data,
 * and a final device-writable status byte; GET_ID writes up to 20 bytes
 * of serial; DISCARD and WRITE_ZEROES carry 16-byte segments {le64
 * sector, le32 num_sectors, le32 flags (bit 0 unmap)}; a discard with the
 * unmap flag is UNSUPP; sector counts beyond the device's limits are
 * IOERR.
 */
#include "hw/virtio-blk.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "core/device.h"
#include "core/log.h"
#include "core/util.h"

#define SECTOR 512u

typedef struct VirtIOBlkReq VirtIOBlkReq;

struct VirtIOBlk {
    VirtIODevice vdev;        /* first: virtio_vmsd saves it through the opaque */
    BlockBackend *bb;
    uint64_t sectors;
    bool read_only;
    bool cancelling;          /* reset or free: completions only clean up */
    char serial[VIRTIO_BLK_ID_BYTES];
    VirtIOBlkReq *inflight;   /* doubly linked */
    uint64_t inflight_bytes;  /* bounce buffers held by requests in flight */
    bool throttled;           /* stopped popping at the cap: resume on completion */
};

/* Bounce memory the guest can make vx86 hold at once: beyond it the
 * device stops taking requests until some complete. */
#define VIRTIO_BLK_MAX_INFLIGHT (256ull << 20)

static void vblk_queue_notify(VirtIODevice *vdev, VirtQueue *vq);

struct VirtIOBlkReq {
    VirtIOBlk *s;
    VirtQueue *vq;
    VirtQueueElement *e;
    uint32_t type;
    uint8_t *buf;             /* bounce buffer (NULL: flush, discard) */
    size_t len;               /* bytes of the request */
    VirtIOBlkReq *prev, *next;
};

/* Bounce memory a request holds (what the in-flight cap counts). */
static size_t vblk_req_bytes(const VirtIOBlkReq *r)
{
    return r->buf ? r->len : 0;
}

static uint64_t ld64(const uint8_t *p)
{
    uint64_t v = 0;
    for (int i = 7; i >= 0; i--)
        v = v << 8 | p[i];
    return v;
}

static uint32_t ld32(const uint8_t *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static void st16(uint8_t *p, uint16_t v) { p[0] = (uint8_t)v; p[1] = (uint8_t)(v >> 8); }
static void st32(uint8_t *p, uint32_t v) { for (int i = 0; i < 4; i++) p[i] = (uint8_t)(v >> (8 * i)); }
static void st64(uint8_t *p, uint64_t v) { for (int i = 0; i < 8; i++) p[i] = (uint8_t)(v >> (8 * i)); }

VirtIODevice *virtio_blk_vdev(VirtIOBlk *b)
{
    return &b->vdev;
}

/* Writes the status byte (the last writable byte) and returns the element. */
static void vblk_complete(VirtIOBlk *s, VirtQueue *vq, VirtQueueElement *e, uint8_t status,
                          uint32_t data_written)
{
    virtio_elem_write(&s->vdev, e, e->in_len - 1, &status, 1);
    virtqueue_push(vq, e, data_written + 1);
    virtqueue_notify(vq);
}

static void vblk_req_done(void *opaque, int ret)
{
    VirtIOBlkReq *r = opaque;
    VirtIOBlk *s = r->s;
    if (r->prev)
        r->prev->next = r->next;
    else
        s->inflight = r->next;
    if (r->next)
        r->next->prev = r->prev;
    s->inflight_bytes -= vblk_req_bytes(r);
    if (s->cancelling) {
        virtqueue_discard(r->vq, r->e);
    } else {
        uint32_t written = 0;
        if (ret == 0 && r->type == VIRTIO_BLK_T_IN)
            written = (uint32_t)virtio_elem_write(&s->vdev, r->e, 0, r->buf, r->len);
        if (ret < 0)
            LOG(LOG_GUEST_ERRORS, "virtio-blk: request type %u failed: %s\n", r->type,
                strerror(-ret));
        vblk_complete(s, r->vq, r->e, ret == 0 ? VIRTIO_BLK_S_OK : VIRTIO_BLK_S_IOERR, written);
    }
    free(r->buf);
    free(r);
    if (s->throttled && !s->cancelling && s->inflight_bytes < VIRTIO_BLK_MAX_INFLIGHT) {
        s->throttled = false;
        for (int q = 0; q < s->vdev.nvq; q++)
            virtio_queue_notify(&s->vdev, q);
    }
}

/* Queues r on the block layer; false when refused at once. */
static bool vblk_submit(VirtIOBlk *s, VirtIOBlkReq *r, uint64_t offset)
{
    r->s = s;
    r->next = s->inflight;
    r->prev = NULL;
    if (s->inflight)
        s->inflight->prev = r;
    s->inflight = r;
    s->inflight_bytes += vblk_req_bytes(r);
    int rc;
    switch (r->type) {
    case VIRTIO_BLK_T_IN: rc = blk_aio_read(s->bb, offset, r->buf, r->len, vblk_req_done, r); break;
    case VIRTIO_BLK_T_FLUSH: rc = blk_aio_flush(s->bb, vblk_req_done, r); break;
    case VIRTIO_BLK_T_DISCARD:
        rc = blk_aio_discard(s->bb, offset, r->len, vblk_req_done, r);
        break;
    default: rc = blk_aio_write(s->bb, offset, r->buf, r->len, vblk_req_done, r); break;
    }
    if (rc < 0) {
        s->inflight_bytes -= vblk_req_bytes(r);
        s->inflight = r->next;
        if (r->next)
            r->next->prev = NULL;
        return false;
    }
    return true;
}

static bool vblk_range_ok(VirtIOBlk *s, uint64_t sector, uint64_t nsec)
{
    return sector <= s->sectors && nsec <= s->sectors - sector;
}

/* DISCARD / WRITE_ZEROES: one segment (max_*_seg = 1).  A discard goes to
 * the block layer (raw punches a hole, qcow2 frees clusters); write-zeroes
 * writes zeros (write_zeroes_may_unmap is 0, so it never discards). */
static uint8_t vblk_ranges(VirtIOBlk *s, VirtQueue *vq, VirtQueueElement *e, uint32_t type,
                           VirtIOBlkReq **async)
{
    uint64_t body = e->out_len - 16;
    if (body == 0 || body % 16 || body / 16 > 1)
        return VIRTIO_BLK_S_IOERR;
    uint8_t seg[16];
    if (virtio_elem_read(&s->vdev, e, 16, seg, 16) != 16)
        return VIRTIO_BLK_S_IOERR;
    uint64_t sector = ld64(seg);
    uint32_t nsec = ld32(seg + 8), flags = ld32(seg + 12);
    if (s->read_only)
        return VIRTIO_BLK_S_IOERR;
    if (type == VIRTIO_BLK_T_DISCARD) {
        if (flags & 1)
            return VIRTIO_BLK_S_UNSUPP;
        if (nsec > VIRTIO_BLK_MAX_DISCARD_SECTORS || !vblk_range_ok(s, sector, nsec))
            return VIRTIO_BLK_S_IOERR;
    } else if (flags & ~1u || nsec > VIRTIO_BLK_MAX_ZERO_SECTORS ||
               !vblk_range_ok(s, sector, nsec)) {
        return VIRTIO_BLK_S_IOERR;
    }
    if (nsec == 0)
        return VIRTIO_BLK_S_OK;
    VirtIOBlkReq *r = xcalloc(1, sizeof(*r));
    r->vq = vq;
    r->e = e;
    r->type = type;
    r->len = (size_t)nsec * SECTOR;
    if (type == VIRTIO_BLK_T_WRITE_ZEROES)
        r->buf = xcalloc(1, r->len);
    if (!vblk_submit(s, r, sector * SECTOR)) {
        free(r->buf);
        free(r);
        return VIRTIO_BLK_S_IOERR;
    }
    *async = r;
    return VIRTIO_BLK_S_OK;
}

static void vblk_handle_request(VirtIOBlk *s, VirtQueue *vq, VirtQueueElement *e)
{
    VirtIODevice *vdev = &s->vdev;
    uint8_t hdr[16];
    if (e->out_len < 16 || e->in_len < 1 || virtio_elem_read(vdev, e, 0, hdr, 16) != 16) {
        virtio_error(vdev, "request without header or status byte (out %llu, in %llu)",
                     (unsigned long long)e->out_len, (unsigned long long)e->in_len);
        virtqueue_discard(vq, e);
        return;
    }
    uint32_t type = ld32(hdr);
    uint64_t sector = ld64(hdr + 8);
    uint8_t status = VIRTIO_BLK_S_OK;
    uint32_t written = 0;
    VirtIOBlkReq *r = NULL;
    switch (type) {
    case VIRTIO_BLK_T_IN:
    case VIRTIO_BLK_T_OUT: {
        uint64_t len = type == VIRTIO_BLK_T_IN ? e->in_len - 1 : e->out_len - 16;
        if (len % SECTOR || len > VIRTIO_BLK_MAX_DATA || !vblk_range_ok(s, sector, len / SECTOR) ||
            (type == VIRTIO_BLK_T_OUT && s->read_only)) {
            status = VIRTIO_BLK_S_IOERR;
            break;
        }
        if (len == 0)
            break;
        r = xcalloc(1, sizeof(*r));
        r->vq = vq;
        r->e = e;
        r->type = type;
        r->len = (size_t)len;
        r->buf = xmalloc(r->len);
        if (type == VIRTIO_BLK_T_OUT &&
            virtio_elem_read(vdev, e, 16, r->buf, r->len) != r->len) {
            free(r->buf);
            free(r);
            r = NULL;
            status = VIRTIO_BLK_S_IOERR;
            break;
        }
        if (!vblk_submit(s, r, sector * SECTOR)) {
            free(r->buf);
            free(r);
            r = NULL;
            status = VIRTIO_BLK_S_IOERR;
        }
        break;
    }
    case VIRTIO_BLK_T_FLUSH:
        r = xcalloc(1, sizeof(*r));
        r->vq = vq;
        r->e = e;
        r->type = type;
        if (!vblk_submit(s, r, 0)) {
            free(r);
            r = NULL;
            status = VIRTIO_BLK_S_IOERR;
        }
        break;
    case VIRTIO_BLK_T_GET_ID: {
        size_t n = MIN((uint64_t)VIRTIO_BLK_ID_BYTES, e->in_len - 1);
        written = (uint32_t)virtio_elem_write(vdev, e, 0, s->serial, n);
        break;
    }
    case VIRTIO_BLK_T_DISCARD:
    case VIRTIO_BLK_T_WRITE_ZEROES:
        status = vblk_ranges(s, vq, e, type, &r);
        break;
    default:
        status = VIRTIO_BLK_S_UNSUPP;
        break;
    }
    if (!r)
        vblk_complete(s, vq, e, status, written);
}

static void vblk_queue_notify(VirtIODevice *vdev, VirtQueue *vq)
{
    VirtIOBlk *s = (VirtIOBlk *)vdev;
    VirtQueueElement *e;
    /* At most a queue's worth per notification round; the loop ends
     * because pop consumes an entry each time. */
    while (!vdev->broken) {
        if (s->inflight_bytes >= VIRTIO_BLK_MAX_INFLIGHT) {
            s->throttled = true;
            return;
        }
        if (!(e = virtqueue_pop(vq)))
            break;
        vblk_handle_request(s, vq, e);
    }
}

static void vblk_get_config(VirtIODevice *vdev, uint8_t *c)
{
    VirtIOBlk *s = (VirtIOBlk *)vdev;
    st64(c + 0, s->sectors);
    st32(c + 12, VIRTIO_BLK_QUEUE_SIZE - 2);            /* seg_max */
    st32(c + 20, SECTOR);                                 /* blk_size */
    st16(c + 34, (uint16_t)vdev->nvq);                    /* num_queues */
    st32(c + 36, VIRTIO_BLK_MAX_DISCARD_SECTORS);         /* max_discard_sectors */
    st32(c + 40, 1);                                      /* max_discard_seg */
    st32(c + 44, 1);                                      /* discard_sector_alignment */
    st32(c + 48, VIRTIO_BLK_MAX_ZERO_SECTORS);            /* max_write_zeroes_sectors */
    st32(c + 52, 1);                                      /* max_write_zeroes_seg */
    c[56] = 0;                                            /* write_zeroes_may_unmap */
}

/* Waits for the requests in flight; their completions only clean up. */
static void vblk_cancel(VirtIOBlk *s)
{
    s->cancelling = true;
    if (s->inflight)
        blk_drain(s->bb);
    s->cancelling = false;
}

static void vblk_reset(VirtIODevice *vdev)
{
    VirtIOBlk *s = (VirtIOBlk *)vdev;
    vblk_cancel(s);
    s->throttled = false;
}

static const VirtIODeviceClass virtio_blk_class = {
    .name = "virtio-blk",
    .device_id = VIRTIO_ID_BLOCK,
    .pci_class = 0x010000,            /* mass storage, SCSI (as QEMU) */
    .config_size = 60,
    .get_config = vblk_get_config,
    .queue_notify = vblk_queue_notify,
    .reset = vblk_reset,
};

static void vblk_free(void *opaque)
{
    VirtIOBlk *s = opaque;
    s->cancelling = true;
    if (s->inflight)
        blk_drain(s->bb);
    virtio_cleanup(&s->vdev);
    free(s);
}

static const DeviceOps vblk_device_ops = {
    .name = "virtio-blk", .free = vblk_free, .vmsd = &virtio_vmsd,
};

VirtIOBlk *virtio_blk_create(Machine *m, BlockBackend *bb, const VirtIOBlkConfig *cfg)
{
    VirtIOBlk *s = xcalloc(1, sizeof(*s));
    s->bb = bb;
    s->sectors = blk_size(bb) / SECTOR;
    s->read_only = blk_is_read_only(bb);
    if (cfg->serial)
        memcpy(s->serial, cfg->serial, strnlen(cfg->serial, sizeof s->serial));
    int nq = cfg->num_queues > 0 ? cfg->num_queues : 1;
    uint64_t f = 1ULL << VIRTIO_BLK_F_SEG_MAX | 1ULL << VIRTIO_BLK_F_BLK_SIZE |
                 1ULL << VIRTIO_BLK_F_FLUSH | 1ULL << VIRTIO_BLK_F_DISCARD |
                 1ULL << VIRTIO_BLK_F_WRITE_ZEROES;
    if (nq > 1)
        f |= 1ULL << VIRTIO_BLK_F_MQ;
    if (s->read_only)
        f |= 1ULL << VIRTIO_BLK_F_RO;
    virtio_init(&s->vdev, &virtio_blk_class, m, f, nq, VIRTIO_BLK_QUEUE_SIZE);
    machine_add_device(m, &vblk_device_ops, s);
    return s;
}
