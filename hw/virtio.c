/*
 * Virtio device core and split virtqueues (see virtio.h).
 *
 * Facts used, virtio 1.2 (OASIS, 2022):
 * - 2.1 device status: writing 0 resets; DEVICE_NEEDS_RESET (64) tells the
 *   driver the device hit an error it cannot recover from without a reset
 *   (2.1.2: the device SHOULD set it then, and a driver that sees it is
 *   sent a configuration-change notification).
 * - 2.7 split virtqueue layout: descriptor table of 16-byte entries
 *   {le64 addr, le32 len, le16 flags, le16 next}; available ring
 *   {le16 flags, le16 idx, le16 ring[size], le16 used_event}; used ring
 *   {le16 flags, le16 idx, {le32 id, le32 len} ring[size], le16
 *   avail_event}.  Indices run freely mod 2^16, entries at idx mod size.
 * - 2.7.4.2 / 2.7.5.3: a chain is never longer than the queue size;
 *   device-writable descriptors come after device-readable ones; an
 *   indirect table (flag 4) is len / 16 descriptors, never has INDIRECT
 *   inside, a descriptor is never both INDIRECT and NEXT, and indirect is
 *   only used when VIRTIO_F_INDIRECT_DESC was negotiated.
 * - 2.7.7 / 2.7.10: without EVENT_IDX the driver suppresses interrupts
 *   with avail->flags bit 0; with it, the device interrupts only when the
 *   used index passes used_event (vring_need_event: (u16)(new - event - 1)
 *   < (u16)(new - old)), and publishes avail_event = the next available
 *   index it will read, asking for notifications past that.
 * - 4.1.5.1.3.1 (legacy): queue at PFN << 12, used ring aligned to 4096.
 */
#include "hw/virtio.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/log.h"
#include "core/util.h"

/* ---- guest memory: only through range-checked host pointers ---- */

static uint8_t *vq_ptr(VirtIODevice *vdev, uint64_t addr, uint64_t len, bool write)
{
    if (len == 0 || addr + len < addr)
        return NULL;
    return memmap_host_ptr(vdev->m->mem, addr, len, write);
}

static bool vq_ld16(VirtIODevice *vdev, uint64_t addr, uint16_t *v)
{
    uint8_t *p = vq_ptr(vdev, addr, 2, false);
    if (!p)
        return false;
    *v = (uint16_t)(__atomic_load_n(p, __ATOMIC_ACQUIRE) | p[1] << 8);
    return true;
}

static bool vq_st16(VirtIODevice *vdev, uint64_t addr, uint16_t v)
{
    uint8_t *p = vq_ptr(vdev, addr, 2, true);
    if (!p)
        return false;
    uint16_t le = v;   /* the host is little-endian x86-64 */
    __atomic_store_n((uint16_t *)(void *)p, le, __ATOMIC_RELEASE);
    return true;
}

static bool vq_dma_ok(VirtIODevice *vdev)
{
    return !vdev->tops || !vdev->tops->dma_allowed || vdev->tops->dma_allowed(vdev->topaque);
}

/* ---- device state ---- */

void virtio_init(VirtIODevice *vdev, const VirtIODeviceClass *cls, Machine *m,
                 uint64_t features, int nvq, uint16_t queue_size)
{
    vdev->cls = cls;
    vdev->m = m;
    vdev->host_features = features | 1ULL << VIRTIO_F_INDIRECT_DESC |
                          1ULL << VIRTIO_F_EVENT_IDX | 1ULL << VIRTIO_F_VERSION_1;
    vdev->nvq = nvq < 1 ? 1 : nvq > VIRTIO_MAX_QUEUES ? VIRTIO_MAX_QUEUES : nvq;
    for (int i = 0; i < vdev->nvq; i++) {
        vdev->vq[i].vdev = vdev;
        vdev->vq[i].index = i;
        vdev->vq[i].num_max = queue_size;
    }
    virtio_reset(vdev);
}

void virtio_cleanup(VirtIODevice *vdev)
{
    free(vdev->scratch);
    vdev->scratch = NULL;
    vdev->scratch_cap = 0;
}

void virtio_set_transport(VirtIODevice *vdev, const VirtIOTransportOps *ops, void *opaque)
{
    vdev->tops = ops;
    vdev->topaque = opaque;
}

void virtio_reset(VirtIODevice *vdev)
{
    if (vdev->cls && vdev->cls->reset)
        vdev->cls->reset(vdev);
    vdev->guest_features = 0;
    vdev->status = 0;
    vdev->isr = 0;
    vdev->config_vector = VIRTIO_NO_VECTOR;
    vdev->broken = false;
    for (int i = 0; i < vdev->nvq; i++) {
        VirtQueue *vq = &vdev->vq[i];
        vq->num = vq->num_max;
        vq->ready = false;
        vq->desc = vq->avail = vq->used = 0;
        vq->vector = VIRTIO_NO_VECTOR;
        vq->last_avail_idx = vq->used_idx = 0;
        vq->signalled_used = 0;
        vq->signalled_used_valid = false;
        vq->inflight = 0;
    }
}

bool virtio_has_feature(const VirtIODevice *vdev, unsigned bit)
{
    return bit < 64 && ((vdev->guest_features >> bit) & 1);
}

void virtio_set_status(VirtIODevice *vdev, uint8_t status)
{
    if (status == 0) {
        virtio_reset(vdev);
        return;
    }
    if ((status & VIRTIO_STATUS_FEATURES_OK) &&
        (vdev->guest_features & ~vdev->host_features))
        status &= (uint8_t)~VIRTIO_STATUS_FEATURES_OK;
    /* NEEDS_RESET is the device's bit; the driver cannot clear it. */
    vdev->status = (uint8_t)((status & ~VIRTIO_STATUS_NEEDS_RESET) |
                             (vdev->status & VIRTIO_STATUS_NEEDS_RESET));
}

static void virtio_irq(VirtIODevice *vdev, int queue)
{
    vdev->isr |= queue == VIRTIO_CONFIG_IRQ ? VIRTIO_ISR_CONFIG : VIRTIO_ISR_QUEUE;
    if (vdev->tops && vdev->tops->notify)
        vdev->tops->notify(vdev->topaque, queue);
}

void virtio_notify_config(VirtIODevice *vdev)
{
    vdev->config_generation++;
    if (vdev->status & VIRTIO_STATUS_DRIVER_OK)
        virtio_irq(vdev, VIRTIO_CONFIG_IRQ);
}

void virtio_error(VirtIODevice *vdev, const char *fmt, ...)
{
    char msg[256];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    LOG(LOG_GUEST_ERRORS, "%s: device error: %s\n", vdev->cls->name, msg);
    if (vdev->broken)
        return;
    vdev->broken = true;
    if (virtio_has_feature(vdev, VIRTIO_F_VERSION_1)) {
        vdev->status |= VIRTIO_STATUS_NEEDS_RESET;
        virtio_notify_config(vdev);
    }
}

void virtio_queue_notify(VirtIODevice *vdev, int q)
{
    if (q < 0 || q >= vdev->nvq || vdev->broken ||
        !(vdev->status & VIRTIO_STATUS_DRIVER_OK) || !vdev->vq[q].ready)
        return;
    if (vdev->cls->queue_notify)
        vdev->cls->queue_notify(vdev, &vdev->vq[q]);
}

uint32_t virtio_config_read(VirtIODevice *vdev, uint32_t off, unsigned size)
{
    uint32_t n = vdev->cls->config_size;
    if (!n || off >= n || size > n - off)
        return 0;
    uint8_t cfg[256] = { 0 };
    vdev->cls->get_config(vdev, cfg);
    uint32_t v = 0;
    for (unsigned i = 0; i < size; i++)
        v |= (uint32_t)cfg[off + i] << (8 * i);
    return v;
}

void virtio_config_write(VirtIODevice *vdev, uint32_t off, uint32_t val, unsigned size)
{
    uint32_t n = vdev->cls->config_size;
    if (!n || !vdev->cls->set_config || off >= n || size > n - off)
        return;
    uint8_t cfg[256] = { 0 };
    vdev->cls->get_config(vdev, cfg);
    for (unsigned i = 0; i < size; i++)
        cfg[off + i] = (uint8_t)(val >> (8 * i));
    vdev->cls->set_config(vdev, cfg);
}

/* ---- split virtqueues ---- */

void virtqueue_set_legacy_layout(VirtQueue *vq, uint64_t base)
{
    vq->desc = base;
    vq->avail = base + 16ULL * vq->num;
    vq->used = (vq->avail + 6 + 2ULL * vq->num + 4095) & ~4095ULL;
}

typedef struct VirtqDesc {
    uint64_t addr;
    uint32_t len;
    uint16_t flags, next;
} VirtqDesc;

static bool vq_read_desc(VirtIODevice *vdev, uint64_t table, unsigned i, VirtqDesc *d)
{
    uint8_t *p = vq_ptr(vdev, table + 16ULL * i, 16, false);
    if (!p)
        return false;
    uint8_t b[16];
    memcpy(b, p, 16);
    d->addr = 0;
    for (int k = 7; k >= 0; k--)
        d->addr = d->addr << 8 | b[k];
    d->len = (uint32_t)b[8] | (uint32_t)b[9] << 8 | (uint32_t)b[10] << 16 | (uint32_t)b[11] << 24;
    d->flags = (uint16_t)(b[12] | b[13] << 8);
    d->next = (uint16_t)(b[14] | b[15] << 8);
    return true;
}

static bool vq_scratch_push(VirtIODevice *vdev, size_t n, VirtIOSeg s)
{
    if (n >= vdev->scratch_cap) {
        size_t cap = vdev->scratch_cap ? vdev->scratch_cap * 2 : 64;
        vdev->scratch = xrealloc(vdev->scratch, cap * sizeof(*vdev->scratch));
        vdev->scratch_cap = cap;
    }
    vdev->scratch[n] = s;
    return true;
}

/* Publishes avail_event (EVENT_IDX): notify me when you add entry
 * last_avail_idx. */
static void vq_set_avail_event(VirtQueue *vq)
{
    if (virtio_has_feature(vq->vdev, VIRTIO_F_EVENT_IDX))
        (void)vq_st16(vq->vdev, vq->used + 4 + 8ULL * vq->num, vq->last_avail_idx);
}

VirtQueueElement *virtqueue_pop(VirtQueue *vq)
{
    VirtIODevice *vdev = vq->vdev;
    if (vdev->broken || !vq->ready || !vq->num)
        return NULL;
    if (!vq_dma_ok(vdev)) {
        LOG(LOG_GUEST_ERRORS, "%s: queue %d used with bus mastering off\n",
            vdev->cls->name, vq->index);
        return NULL;
    }
    uint16_t avail_idx;
    if (!vq_ld16(vdev, vq->avail + 2, &avail_idx)) {
        virtio_error(vdev, "queue %d: available ring 0x%llx is not RAM", vq->index,
                     (unsigned long long)vq->avail);
        return NULL;
    }
    if (avail_idx == vq->last_avail_idx) {
        /* Empty: ask for a notification, then look again in case the
         * driver added one meanwhile (2.7.10). */
        vq_set_avail_event(vq);
        __atomic_thread_fence(__ATOMIC_SEQ_CST);
        if (!vq_ld16(vdev, vq->avail + 2, &avail_idx) || avail_idx == vq->last_avail_idx)
            return NULL;
    }
    if ((uint16_t)(avail_idx - vq->last_avail_idx) > vq->num) {
        virtio_error(vdev, "queue %d: available index %u is %u entries ahead of %u (size %u)",
                     vq->index, avail_idx, (uint16_t)(avail_idx - vq->last_avail_idx),
                     vq->last_avail_idx, vq->num);
        return NULL;
    }
    uint16_t head;
    if (!vq_ld16(vdev, vq->avail + 4 + 2ULL * (vq->last_avail_idx % vq->num), &head)) {
        virtio_error(vdev, "queue %d: available ring is not RAM", vq->index);
        return NULL;
    }
    if (head >= vq->num) {
        virtio_error(vdev, "queue %d: head descriptor %u out of range (size %u)",
                     vq->index, head, vq->num);
        return NULL;
    }

    /* Walk the chain into scratch: readable segments, then writable. */
    uint64_t table = vq->desc;
    unsigned tsize = vq->num, idx = head, steps = 0;
    bool indirect = false;
    size_t nseg = 0;
    unsigned out_num = 0, in_num = 0;
    uint64_t out_len = 0, in_len = 0;
    for (;;) {
        VirtqDesc d;
        if (++steps > tsize) {
            virtio_error(vdev, "queue %d: descriptor chain from %u longer than %u (loop?)",
                         vq->index, head, tsize);
            return NULL;
        }
        if (!vq_read_desc(vdev, table, idx, &d)) {
            virtio_error(vdev, "queue %d: descriptor %u at 0x%llx is not RAM", vq->index,
                         idx, (unsigned long long)(table + 16ULL * idx));
            return NULL;
        }
        if (d.flags & VIRTQ_DESC_F_INDIRECT) {
            if (indirect) {
                virtio_error(vdev, "queue %d: indirect table inside an indirect table",
                             vq->index);
                return NULL;
            }
            if (!virtio_has_feature(vdev, VIRTIO_F_INDIRECT_DESC)) {
                virtio_error(vdev, "queue %d: indirect descriptor not negotiated", vq->index);
                return NULL;
            }
            if (d.flags & VIRTQ_DESC_F_NEXT) {
                virtio_error(vdev, "queue %d: descriptor %u is both INDIRECT and NEXT",
                             vq->index, idx);
                return NULL;
            }
            if (d.len == 0 || d.len % 16 || d.len / 16 > VIRTQUEUE_MAX_SIZE) {
                virtio_error(vdev, "queue %d: indirect table length %u invalid", vq->index,
                             d.len);
                return NULL;
            }
            if (!vq_ptr(vdev, d.addr, d.len, false)) {
                virtio_error(vdev, "queue %d: indirect table 0x%llx+%u is not RAM",
                             vq->index, (unsigned long long)d.addr, d.len);
                return NULL;
            }
            table = d.addr;
            tsize = d.len / 16;
            idx = 0;
            steps = 0;
            indirect = true;
            continue;
        }
        bool w = d.flags & VIRTQ_DESC_F_WRITE;
        if (d.len) {
            if (!vq_ptr(vdev, d.addr, d.len, w)) {
                virtio_error(vdev, "queue %d: buffer 0x%llx+%u is not %s", vq->index,
                             (unsigned long long)d.addr, d.len, w ? "RAM" : "memory");
                return NULL;
            }
            if (!w && in_num) {
                virtio_error(vdev, "queue %d: readable buffer after a writable one",
                             vq->index);
                return NULL;
            }
            vq_scratch_push(vdev, nseg++, (VirtIOSeg){ d.addr, d.len });
            if (w) {
                in_num++;
                in_len += d.len;
            } else {
                out_num++;
                out_len += d.len;
            }
        }
        if (!(d.flags & VIRTQ_DESC_F_NEXT))
            break;
        idx = d.next;
        if (idx >= tsize) {
            virtio_error(vdev, "queue %d: next descriptor %u out of range (%u)", vq->index,
                         idx, tsize);
            return NULL;
        }
    }
    vq->last_avail_idx++;
    vq_set_avail_event(vq);
    VirtQueueElement *e = xmalloc(sizeof(*e) + (nseg ? nseg : 1) * sizeof(VirtIOSeg));
    if (nseg)
        memcpy(e->segs, vdev->scratch, nseg * sizeof(VirtIOSeg));
    e->head = head;
    e->out_num = out_num;
    e->in_num = in_num;
    e->out_len = out_len;
    e->in_len = in_len;
    e->out = e->segs;
    e->in = e->segs + out_num;
    vq->inflight++;
    return e;
}

void virtqueue_discard(VirtQueue *vq, VirtQueueElement *e)
{
    if (vq->inflight)
        vq->inflight--;
    free(e);
}

void virtqueue_unpop(VirtQueue *vq, VirtQueueElement *e)
{
    if (vq->inflight)
        vq->inflight--;
    vq->last_avail_idx--;
    free(e);
}

void virtqueue_push(VirtQueue *vq, VirtQueueElement *e, uint32_t len)
{
    VirtIODevice *vdev = vq->vdev;
    if (vq->inflight)
        vq->inflight--;
    if (vdev->broken || !vq->ready || !vq->num) {
        free(e);
        return;
    }
    uint64_t slot = vq->used + 4 + 8ULL * (vq->used_idx % vq->num);
    uint8_t *p = vq_ptr(vdev, slot, 8, true);
    if (!p) {
        free(e);
        virtio_error(vdev, "queue %d: used ring 0x%llx is not RAM", vq->index,
                     (unsigned long long)vq->used);
        return;
    }
    uint32_t id = e->head;
    memcpy(p, &id, 4);
    memcpy(p + 4, &len, 4);
    free(e);
    vq->used_idx++;
    /* The entry is visible before the index that publishes it. */
    __atomic_thread_fence(__ATOMIC_RELEASE);
    if (!vq_st16(vdev, vq->used + 2, vq->used_idx))
        virtio_error(vdev, "queue %d: used ring is not RAM", vq->index);
}

static bool vring_need_event(uint16_t event, uint16_t new_idx, uint16_t old)
{
    return (uint16_t)(new_idx - event - 1) < (uint16_t)(new_idx - old);
}

void virtqueue_notify(VirtQueue *vq)
{
    VirtIODevice *vdev = vq->vdev;
    if (vdev->broken || !vq->ready)
        return;
    __atomic_thread_fence(__ATOMIC_SEQ_CST);
    bool send;
    if (virtio_has_feature(vdev, VIRTIO_F_EVENT_IDX)) {
        uint16_t used_event;
        if (!vq_ld16(vdev, vq->avail + 4 + 2ULL * vq->num, &used_event))
            return;
        uint16_t old = vq->signalled_used;
        bool valid = vq->signalled_used_valid;
        vq->signalled_used = vq->used_idx;
        vq->signalled_used_valid = true;
        send = !valid || vring_need_event(used_event, vq->used_idx, old);
    } else {
        uint16_t flags;
        if (!vq_ld16(vdev, vq->avail, &flags))
            return;
        send = !(flags & VIRTQ_AVAIL_F_NO_INTERRUPT);
    }
    if (send)
        virtio_irq(vdev, vq->index);
}

/* ---- element buffers ---- */

size_t virtio_elem_read(VirtIODevice *vdev, const VirtQueueElement *e, uint64_t off,
                        void *buf, size_t len)
{
    size_t done = 0;
    for (unsigned i = 0; i < e->out_num && done < len; i++) {
        const VirtIOSeg *s = &e->out[i];
        if (off >= s->len) {
            off -= s->len;
            continue;
        }
        size_t n = MIN((uint64_t)s->len - off, (uint64_t)(len - done));
        uint8_t *p = vq_ptr(vdev, s->addr + off, n, false);
        if (!p)
            break;
        memcpy((uint8_t *)buf + done, p, n);
        done += n;
        off = 0;
    }
    return done;
}

size_t virtio_elem_write(VirtIODevice *vdev, const VirtQueueElement *e, uint64_t off,
                         const void *buf, size_t len)
{
    size_t done = 0;
    for (unsigned i = 0; i < e->in_num && done < len; i++) {
        const VirtIOSeg *s = &e->in[i];
        if (off >= s->len) {
            off -= s->len;
            continue;
        }
        size_t n = MIN((uint64_t)s->len - off, (uint64_t)(len - done));
        /* Still RAM (a BAR may have been moved over it since the pop)?
         * Then through the map, so the translator sees code-page writes. */
        if (!vq_ptr(vdev, s->addr + off, n, true) ||
            !memmap_write_buf(vdev->m->mem, s->addr + off, (const uint8_t *)buf + done, n))
            break;
        done += n;
        off = 0;
    }
    return done;
}

/* ---- state ---- */

static const VMField virtqueue_fields[] = {
    VMF_U16(num, VirtQueue),
    VMF_BOOL(ready, VirtQueue),
    VMF_U64(desc, VirtQueue),
    VMF_U64(avail, VirtQueue),
    VMF_U64(used, VirtQueue),
    VMF_U16(vector, VirtQueue),
    VMF_U16(last_avail_idx, VirtQueue),
    VMF_U16(used_idx, VirtQueue),
    VMF_U16(signalled_used, VirtQueue),
    VMF_BOOL(signalled_used_valid, VirtQueue),
    VMF_END
};

static const VMStateDesc virtqueue_vmsd = {
    .name = "virtqueue", .version = 1, .min_version = 1, .fields = virtqueue_fields,
};

static const VMField virtio_fields[] = {
    VMF_U64(guest_features, VirtIODevice),
    VMF_U8(status, VirtIODevice),
    VMF_U8(isr, VirtIODevice),
    VMF_U8(config_generation, VirtIODevice),
    VMF_U16(config_vector, VirtIODevice),
    VMF_BOOL(broken, VirtIODevice),
    VMF_STRUCT_ARRAY(vq, VirtIODevice, VIRTIO_MAX_QUEUES, virtqueue_vmsd),
    VMF_END
};

const VMStateDesc virtio_vmsd = {
    .name = "virtio", .version = 1, .min_version = 1, .fields = virtio_fields,
};
