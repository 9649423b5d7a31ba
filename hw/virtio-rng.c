/*
 * virtio-rng (see virtio-rng.h).  Facts used, virtio 1.2 section 5.4:
 * device ID 4, one queue (requestq), no feature bits and no configuration;
 * the driver offers device-writable buffers and the device fills them
 * with random bytes, possibly fewer than offered, reporting the count as
 * the used length.
 */
#include "hw/virtio-rng.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

#include "core/device.h"
#include "core/machine.h"
#include "core/replay.h"
#include "core/log.h"
#include "core/util.h"

struct VirtIORNG {
    VirtIODevice vdev;        /* first: virtio_vmsd saves it through the opaque */
};

VirtIODevice *virtio_rng_vdev(VirtIORNG *r)
{
    return &r->vdev;
}

static size_t rng_fill(uint8_t *buf, size_t len)
{
    size_t done = 0;
    while (done < len) {
        ssize_t n = getrandom(buf + done, len - done, 0);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            LOG(LOG_UNIMP, "virtio-rng: getrandom: %s\n", strerror(errno));
            break;
        }
        done += (size_t)n;
    }
    return done;
}

static void rng_queue_notify(VirtIODevice *vdev, VirtQueue *vq)
{
    VirtQueueElement *e;
    bool any = false;
    while (!vdev->broken && (e = virtqueue_pop(vq))) {
        uint8_t buf[VIRTIO_RNG_MAX_CHUNK];
        size_t want = (size_t)MIN(e->in_len, (uint64_t)sizeof buf);
        /* Under record/replay the entropy is an input of the log. */
        Machine *m = vdev->m;
        size_t got = m->rr ? replay_random(m->rr, buf, want, rng_fill) : rng_fill(buf, want);
        size_t n = virtio_elem_write(vdev, e, 0, buf, got);
        virtqueue_push(vq, e, (uint32_t)n);
        any = true;
    }
    if (any)
        virtqueue_notify(vq);
}

static const VirtIODeviceClass virtio_rng_class = {
    .name = "virtio-rng",
    .device_id = VIRTIO_ID_ENTROPY,
    .pci_class = 0xff0000,            /* "other" (as QEMU) */
    .config_size = 0,
    .queue_notify = rng_queue_notify,
};

static void rng_free(void *opaque)
{
    VirtIORNG *r = opaque;
    virtio_cleanup(&r->vdev);
    free(r);
}

static const DeviceOps rng_device_ops = {
    .name = "virtio-rng", .free = rng_free, .vmsd = &virtio_vmsd,
};

VirtIORNG *virtio_rng_create(Machine *m)
{
    VirtIORNG *r = xcalloc(1, sizeof(*r));
    virtio_init(&r->vdev, &virtio_rng_class, m, 0, 1, VIRTIO_RNG_QUEUE_SIZE);
    machine_add_device(m, &rng_device_ops, r);
    return r;
}
