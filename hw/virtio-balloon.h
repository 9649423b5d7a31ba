/*
 * virtio-balloon (virtio 1.2, 5.5): the host asks the guest to give back
 * memory (inflate) or take it again (deflate); pages the guest puts in
 * the balloon are returned to the host with madvise(MADV_DONTNEED), so
 * vx86's resident size drops, and read back as zeros when the guest uses
 * them again.
 *
 *   VirtIOBalloon *b = virtio_balloon_create(m, &(VirtIOBalloonConfig){
 *                          .on_change = fn, .opaque = x });
 *   virtio_pci_create(m, bus, devfn, virtio_balloon_vdev(b), err, len);
 *   virtio_balloon_set_target(b, 256 << 20);   // the guest should keep 256 MiB
 *   virtio_balloon_actual(b);                  // what it has now (bytes)
 *
 * Queues: inflate (0), deflate (1), statistics (2) and, with
 * free-page-reporting=on, free page reporting (3): the guest hands free
 * ranges over, which are returned to the host the same way.  Every PFN
 * and range is checked to lie in guest RAM before madvise; others are
 * ignored (logged under -d guest_errors).  The actual size the guest
 * reports raises on_change at most once per second of machine time (the
 * last value always reaches it), as QEMU throttles BALLOON_CHANGE.
 */
#ifndef VX86_HW_VIRTIO_BALLOON_H
#define VX86_HW_VIRTIO_BALLOON_H

#include "hw/virtio.h"

#define VIRTIO_ID_BALLOON               5
#define VIRTIO_BALLOON_QUEUE_SIZE       128
#define VIRTIO_BALLOON_PAGE             4096u   /* the PFN unit, whatever the guest's page */

/* Feature bits (5.5.3). */
#define VIRTIO_BALLOON_F_MUST_TELL_HOST 0
#define VIRTIO_BALLOON_F_STATS_VQ       1
#define VIRTIO_BALLOON_F_DEFLATE_ON_OOM 2
#define VIRTIO_BALLOON_F_FREE_PAGE_HINT 3
#define VIRTIO_BALLOON_F_PAGE_POISON    4
#define VIRTIO_BALLOON_F_REPORTING      5

/* Statistics tags (5.5.6.3). */
#define VIRTIO_BALLOON_S_SWAP_IN        0
#define VIRTIO_BALLOON_S_SWAP_OUT       1
#define VIRTIO_BALLOON_S_MAJFLT         2
#define VIRTIO_BALLOON_S_MINFLT         3
#define VIRTIO_BALLOON_S_MEMFREE        4
#define VIRTIO_BALLOON_S_MEMTOT         5
#define VIRTIO_BALLOON_S_AVAIL          6
#define VIRTIO_BALLOON_S_CACHES         7
#define VIRTIO_BALLOON_S_HTLB_PGALLOC   8
#define VIRTIO_BALLOON_S_HTLB_PGFAIL    9
#define VIRTIO_BALLOON_S_NR             10

typedef struct VirtIOBalloon VirtIOBalloon;

typedef struct VirtIOBalloonConfig {
    bool free_page_reporting;
    bool deflate_on_oom;
    void (*on_change)(void *opaque);    /* the guest's actual size changed */
    void *opaque;
} VirtIOBalloonConfig;

typedef struct VirtIOBalloonStats {
    bool valid[VIRTIO_BALLOON_S_NR];    /* the guest sent this tag */
    uint64_t val[VIRTIO_BALLOON_S_NR];
    int64_t updated_ns;                 /* machine clock at the last update; -1 never */
} VirtIOBalloonStats;

VirtIOBalloon *virtio_balloon_create(Machine *m, const VirtIOBalloonConfig *cfg);
VirtIODevice *virtio_balloon_vdev(VirtIOBalloon *b);
/* The memory the guest should keep, in bytes (at most the RAM size;
 * rounded down to whole pages). */
void virtio_balloon_set_target(VirtIOBalloon *b, uint64_t bytes);
/* The memory the guest keeps now, as it reported it (RAM size minus the
 * pages in the balloon). */
uint64_t virtio_balloon_actual(const VirtIOBalloon *b);
/* The last statistics the guest sent; asks it for fresh ones. */
void virtio_balloon_stats(VirtIOBalloon *b, VirtIOBalloonStats *out);
/* QEMU's name of a statistic ("stat-free-memory", ...); NULL past the last. */
const char *virtio_balloon_stat_name(int tag);
/* Pages returned to the host so far (inflate and reports). */
uint64_t virtio_balloon_discarded_pages(const VirtIOBalloon *b);

#endif
