/*
 * virtio-balloon (see virtio-balloon.h).  Facts used, virtio 1.2 section
 * 5.5: device ID 5; configuration {le32 num_pages (the device's target,
 * in 4 KiB pages), le32 actual (written by the driver), le32
 * free_page_hint_cmd_id, le32 poison_val}; the inflate and deflate queues
 * carry arrays of le32 page frame numbers (4 KiB pages); the statistics
 * queue holds one driver buffer of {le16 tag, le64 val} entries, which
 * the device returns (used) to ask for fresh values and the driver adds
 * again filled; the reporting queue (VIRTIO_BALLOON_F_REPORTING) carries
 * device-writable buffers whose ranges are free guest memory the device
 * may discard, returned with length 0.  The queues after deflate exist
 * only when their feature was negotiated, so the index of the reporting
 * queue depends on STATS_VQ (Linux numbers the queues it uses in order).
 */
#include "hw/virtio-balloon.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "core/clock.h"
#include "core/device.h"
#include "core/log.h"
#include "core/util.h"

#define PFN_BATCH           256     /* PFNs read from a buffer at a time */
#define STAT_ENTRY          10      /* le16 tag, le64 value */
#define CHANGE_INTERVAL_NS  1000000000LL

typedef enum BalloonQueue { BQ_INFLATE, BQ_DEFLATE, BQ_STATS, BQ_REPORTING, BQ_NONE } BalloonQueue;

struct VirtIOBalloon {
    VirtIODevice vdev;          /* first: the vmstate table starts with it */
    Machine *m;
    uint32_t num_pages;         /* target: pages the guest should give */
    uint32_t actual;            /* pages the guest says it gave */
    uint64_t discarded;         /* pages madvised away (statistics, tests) */
    VirtQueueElement *stats_elem;   /* the driver's statistics buffer, held */
    VirtIOBalloonStats stats;
    void (*on_change)(void *opaque);
    void *opaque;
    Timer *change_timer;        /* BALLOON_CHANGE throttle */
    uint32_t reported_actual;   /* the actual value on_change last announced */
};

static const char *const stat_names[VIRTIO_BALLOON_S_NR] = {
    [VIRTIO_BALLOON_S_SWAP_IN] = "stat-swap-in",
    [VIRTIO_BALLOON_S_SWAP_OUT] = "stat-swap-out",
    [VIRTIO_BALLOON_S_MAJFLT] = "stat-major-faults",
    [VIRTIO_BALLOON_S_MINFLT] = "stat-minor-faults",
    [VIRTIO_BALLOON_S_MEMFREE] = "stat-free-memory",
    [VIRTIO_BALLOON_S_MEMTOT] = "stat-total-memory",
    [VIRTIO_BALLOON_S_AVAIL] = "stat-available-memory",
    [VIRTIO_BALLOON_S_CACHES] = "stat-disk-caches",
    [VIRTIO_BALLOON_S_HTLB_PGALLOC] = "stat-htlb-pgalloc",
    [VIRTIO_BALLOON_S_HTLB_PGFAIL] = "stat-htlb-pgfail",
};

const char *virtio_balloon_stat_name(int tag)
{
    return tag >= 0 && tag < VIRTIO_BALLOON_S_NR ? stat_names[tag] : NULL;
}

static uint32_t ld32(const uint8_t *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static void st32(uint8_t *p, uint32_t v)
{
    for (int i = 0; i < 4; i++)
        p[i] = (uint8_t)(v >> (8 * i));
}

VirtIODevice *virtio_balloon_vdev(VirtIOBalloon *b)
{
    return &b->vdev;
}

static uint64_t ram_pages(const VirtIOBalloon *b)
{
    return b->m->ram_size / VIRTIO_BALLOON_PAGE;
}

uint64_t virtio_balloon_actual(const VirtIOBalloon *b)
{
    uint64_t pages = ram_pages(b);
    return (pages > b->actual ? pages - b->actual : 0) * VIRTIO_BALLOON_PAGE;
}

uint64_t virtio_balloon_discarded_pages(const VirtIOBalloon *b)
{
    return b->discarded;
}

void virtio_balloon_set_target(VirtIOBalloon *b, uint64_t bytes)
{
    uint64_t pages = ram_pages(b), keep = bytes / VIRTIO_BALLOON_PAGE;
    uint64_t give = keep < pages ? pages - keep : 0;
    if (give > UINT32_MAX)
        give = UINT32_MAX;
    if (give == b->num_pages)
        return;
    b->num_pages = (uint32_t)give;
    virtio_notify_config(&b->vdev);
}

/* ---- returning memory to the host ---- */

/* Gives [addr, addr + len) of guest RAM back to the host; the range must
 * be whole 4 KiB pages inside the machine's RAM block. */
static bool discard_range(VirtIOBalloon *b, uint64_t addr, uint64_t len)
{
    if (len == 0 || addr % VIRTIO_BALLOON_PAGE || len % VIRTIO_BALLOON_PAGE ||
        addr + len < addr)
        return false;
    uint8_t *p = memmap_host_ptr(b->m->mem, addr, len, true);
    if (!p || p < b->m->ram || len > b->m->ram_size ||
        (size_t)(p - b->m->ram) > b->m->ram_size - len ||
        (uintptr_t)p % VIRTIO_BALLOON_PAGE)
        return false;
    if (madvise(p, len, MADV_DONTNEED) < 0) {
        LOG(LOG_UNIMP, "virtio-balloon: madvise: %s\n", strerror(errno));
        return false;
    }
    b->discarded += len / VIRTIO_BALLOON_PAGE;
    return true;
}

/* A run of consecutive PFNs, given back with one madvise. */
typedef struct PfnRun {
    uint64_t start, end;        /* [start, end) in pages; empty when equal */
} PfnRun;

static void run_flush(VirtIOBalloon *b, PfnRun *run)
{
    if (run->end > run->start &&
        !discard_range(b, run->start * VIRTIO_BALLOON_PAGE,
                       (run->end - run->start) * VIRTIO_BALLOON_PAGE))
        LOG(LOG_GUEST_ERRORS, "virtio-balloon: PFNs 0x%llx..0x%llx are not guest RAM\n",
            (unsigned long long)run->start, (unsigned long long)run->end - 1);
    run->start = run->end = 0;
}

static void run_add(VirtIOBalloon *b, PfnRun *run, uint64_t pfn)
{
    if (pfn >= run->start && pfn < run->end)
        return;                 /* given already (a guest repeating itself) */
    if (pfn == run->end && run->end > run->start) {
        run->end++;
        return;
    }
    run_flush(b, run);
    run->start = pfn;
    run->end = pfn + 1;
}

/* Inflate: every PFN of the element goes back to the host, consecutive
 * ones in one call.  A buffer may hold millions of PFNs: more than the
 * RAM has pages cannot all be different, so the rest is ignored (a
 * guest repeating itself costs one syscall per page at most).  Deflate:
 * the guest takes pages back; nothing to do (they fault in as zeros). */
static void balloon_pfns(VirtIOBalloon *b, VirtQueueElement *e, bool inflate)
{
    if (!inflate)
        return;
    uint8_t buf[4 * PFN_BATCH];
    PfnRun run = { 0, 0 };
    uint64_t limit = MIN(e->out_len, ram_pages(b) * 4);
    if (limit < e->out_len)
        LOG(LOG_GUEST_ERRORS, "virtio-balloon: %llu PFNs in one buffer, more than RAM pages\n",
            (unsigned long long)(e->out_len / 4));
    for (uint64_t off = 0; off + 4 <= limit; off += sizeof buf) {
        size_t want = (size_t)MIN((uint64_t)sizeof buf, (limit - off) & ~3ull);
        size_t got = virtio_elem_read(&b->vdev, e, off, buf, want);
        for (size_t i = 0; i + 4 <= got; i += 4)
            run_add(b, &run, ld32(buf + i));
        if (got < want)
            break;
    }
    run_flush(b, &run);
}

/* Free page reporting: each device-writable buffer is a free range. */
static void balloon_report(VirtIOBalloon *b, VirtQueueElement *e)
{
    for (unsigned i = 0; i < e->in_num; i++)
        if (!discard_range(b, e->in[i].addr, e->in[i].len))
            LOG(LOG_GUEST_ERRORS, "virtio-balloon: reported range 0x%llx+0x%x skipped\n",
                (unsigned long long)e->in[i].addr, e->in[i].len);
}

/* ---- statistics ---- */

static void balloon_stats_received(VirtIOBalloon *b, VirtQueueElement *e)
{
    uint8_t ent[STAT_ENTRY];
    for (uint64_t off = 0; off + STAT_ENTRY <= e->out_len; off += STAT_ENTRY) {
        if (virtio_elem_read(&b->vdev, e, off, ent, STAT_ENTRY) != STAT_ENTRY)
            break;
        unsigned tag = (unsigned)(ent[0] | ent[1] << 8);
        uint64_t v = 0;
        for (int k = 7; k >= 0; k--)
            v = v << 8 | ent[2 + k];
        if (tag < VIRTIO_BALLOON_S_NR) {    /* newer tags are skipped */
            b->stats.valid[tag] = true;
            b->stats.val[tag] = v;
        }
    }
    b->stats.updated_ns = clock_now(b->m->clock);
}

void virtio_balloon_stats(VirtIOBalloon *b, VirtIOBalloonStats *out)
{
    *out = b->stats;
    /* Returning the buffer asks the driver to refill it (5.5.6.3). */
    if (b->stats_elem && !b->vdev.broken) {
        VirtQueue *vq = &b->vdev.vq[BQ_STATS];
        virtqueue_push(vq, b->stats_elem, 0);
        b->stats_elem = NULL;
        virtqueue_notify(vq);
    }
}

/* ---- queues ---- */

/* What queue index q is, given the features the driver took. */
static BalloonQueue balloon_queue_role(const VirtIOBalloon *b, int q)
{
    if (q == 0)
        return BQ_INFLATE;
    if (q == 1)
        return BQ_DEFLATE;
    bool stats = virtio_has_feature(&b->vdev, VIRTIO_BALLOON_F_STATS_VQ);
    bool rep = virtio_has_feature(&b->vdev, VIRTIO_BALLOON_F_REPORTING);
    if (q == 2 && stats)
        return BQ_STATS;
    if (rep && q == (stats ? 3 : 2))
        return BQ_REPORTING;
    return BQ_NONE;
}

static void balloon_queue_notify(VirtIODevice *vdev, VirtQueue *vq)
{
    VirtIOBalloon *b = (VirtIOBalloon *)vdev;
    BalloonQueue role = balloon_queue_role(b, vq->index);
    VirtQueueElement *e;
    bool any = false;
    while (!vdev->broken && role != BQ_NONE && (e = virtqueue_pop(vq))) {
        switch (role) {
        case BQ_STATS:
            balloon_stats_received(b, e);
            if (b->stats_elem)      /* a second buffer: give the older back */
                virtqueue_push(vq, b->stats_elem, 0);
            b->stats_elem = e;
            continue;
        case BQ_REPORTING:
            balloon_report(b, e);
            break;
        default:
            balloon_pfns(b, e, role == BQ_INFLATE);
            break;
        }
        virtqueue_push(vq, e, 0);
        any = true;
    }
    if (any)
        virtqueue_notify(vq);
}

/* ---- configuration and BALLOON_CHANGE ---- */

static void balloon_get_config(VirtIODevice *vdev, uint8_t *c)
{
    VirtIOBalloon *b = (VirtIOBalloon *)vdev;
    st32(c, b->num_pages);
    st32(c + 4, b->actual);
}

/* Tells on_change, unless it heard this value already; the throttle
 * timer then holds further changes for a second. */
static void balloon_announce(VirtIOBalloon *b)
{
    if (b->actual == b->reported_actual)
        return;
    b->reported_actual = b->actual;
    if (b->on_change)
        b->on_change(b->opaque);
    timer_mod(b->change_timer, clock_now(b->m->clock) + CHANGE_INTERVAL_NS);
}

static void balloon_change_timer(void *opaque)
{
    balloon_announce(opaque);
}

static void balloon_set_config(VirtIODevice *vdev, const uint8_t *c)
{
    VirtIOBalloon *b = (VirtIOBalloon *)vdev;
    uint32_t actual = ld32(c + 4);     /* only actual is the driver's */
    if (actual == b->actual)
        return;
    b->actual = actual;
    if (!timer_pending(b->change_timer))
        balloon_announce(b);
}

static void balloon_reset(VirtIODevice *vdev)
{
    VirtIOBalloon *b = (VirtIOBalloon *)vdev;
    if (b->stats_elem) {
        virtqueue_discard(&vdev->vq[BQ_STATS], b->stats_elem);
        b->stats_elem = NULL;
    }
    /* A guest that starts again has all its memory; the target stays. */
    if (b->actual) {
        b->actual = 0;
        if (!timer_pending(b->change_timer))
            balloon_announce(b);
    }
}

static const VirtIODeviceClass virtio_balloon_class = {
    .name = "virtio-balloon",
    .device_id = VIRTIO_ID_BALLOON,
    .pci_class = 0xff0000,            /* "other" (as QEMU) */
    .config_size = 16,
    .get_config = balloon_get_config,
    .set_config = balloon_set_config,
    .queue_notify = balloon_queue_notify,
    .reset = balloon_reset,
};

/* ---- the machine device ---- */

static void balloon_free(void *opaque)
{
    VirtIOBalloon *b = opaque;
    free(b->stats_elem);
    timer_free(b->change_timer);
    virtio_cleanup(&b->vdev);
    free(b);
}

static int balloon_post_load(void *opaque, int version, char **err)
{
    VirtIOBalloon *b = opaque;
    /* The held statistics buffer is not saved: the driver gives it again
     * once the next request finds none (a fresh one after its reset). */
    free(b->stats_elem);
    b->stats_elem = NULL;
    b->reported_actual = b->actual;
    return 0;
}

static const VMField balloon_fields[] = {
    VMF_STRUCT(vdev, VirtIOBalloon, virtio_vmsd),
    VMF_U32(num_pages, VirtIOBalloon),
    VMF_U32(actual, VirtIOBalloon),
    VMF_END
};

static const VMStateDesc balloon_vmsd = {
    .name = "virtio-balloon", .version = 1, .min_version = 1, .fields = balloon_fields,
    .post_load = balloon_post_load,
};

static const DeviceOps balloon_device_ops = {
    .name = "virtio-balloon", .free = balloon_free, .vmsd = &balloon_vmsd,
};

VirtIOBalloon *virtio_balloon_create(Machine *m, const VirtIOBalloonConfig *cfg)
{
    VirtIOBalloon *b = xcalloc(1, sizeof(*b));
    b->m = m;
    b->on_change = cfg->on_change;
    b->opaque = cfg->opaque;
    b->stats.updated_ns = -1;
    b->change_timer = timer_new(m->clock, balloon_change_timer, b);
    uint64_t f = 1ULL << VIRTIO_BALLOON_F_STATS_VQ;
    if (cfg->deflate_on_oom)
        f |= 1ULL << VIRTIO_BALLOON_F_DEFLATE_ON_OOM;
    if (cfg->free_page_reporting)
        f |= 1ULL << VIRTIO_BALLOON_F_REPORTING;
    virtio_init(&b->vdev, &virtio_balloon_class, m, f, cfg->free_page_reporting ? 4 : 3,
                VIRTIO_BALLOON_QUEUE_SIZE);
    machine_add_device(m, &balloon_device_ops, b);
    return b;
}
