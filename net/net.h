/*
 * Network clients: the one interface between a NIC model (hw/e1000.c, and
 * virtio-net later) and a host-side network backend (net/slirp.c, the
 * socket/stream/dgram backends in net/socket.c, net/tap.c).
 *
 * Two clients are peers: a frame one sends is delivered to the other.  A
 * frame is a plain Ethernet frame (destination MAC first, no preamble, no
 * FCS).  The receiving side says whether it can take frames now
 * (can_receive); frames it cannot take wait in a bounded queue in front
 * of it, and it calls net_flush() when it has room again (a NIC when the
 * guest gives it receive buffers).  A backend that reads frames from the
 * host asks net_peer_busy() before reading more, so a guest that stops
 * receiving stops the backend's reads instead of making the queue drop.
 *
 *   // NIC side
 *   static const NetClientOps e1000_net_ops = {
 *       .type = "e1000", .can_receive = e1000_can_receive, .receive = e1000_receive,
 *   };
 *   s->nc = net_client_new(&e1000_net_ops, "e1000", s);
 *   net_client_connect(s->nc, backend);      // backend from netdev_open()
 *   net_send(s->nc, frame, len);             // guest transmits
 *   net_flush(s->nc);                        // guest gave receive buffers
 *
 * Everything runs on the main-loop thread.
 */
#ifndef VX86_NET_NET_H
#define VX86_NET_NET_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct Machine Machine;
typedef struct NetClient NetClient;

/* The largest frame a client hands over (a jumbo frame plus a VLAN tag;
 * bigger ones are dropped by net_send). */
#define NET_MAX_FRAME 65536
/* Frames waiting in front of one receiver, and their bytes. */
#define NET_QUEUE_MAX_FRAMES 1024
#define NET_QUEUE_MAX_BYTES (4u << 20)

typedef struct NetClientOps {
    const char *type;                 /* "e1000", "user", "socket", ... */
    /* Can the client take a frame now?  NULL: always. */
    bool (*can_receive)(NetClient *nc);
    /* A frame from the peer.  Returns false when it could not be taken
     * after all (it is queued again and retried at the next flush). */
    bool (*receive)(NetClient *nc, const uint8_t *buf, size_t len);
    /* The peer's link went up or down (NICs report it to the guest). */
    void (*link_changed)(NetClient *nc, bool up);
    /* The peer flushed its queue: a backend may read from the host again. */
    void (*peer_drained)(NetClient *nc);
    /* Frees what the client's owner allocated (called by net_client_free). */
    void (*cleanup)(NetClient *nc);
} NetClientOps;

typedef struct NetQueued NetQueued;

struct NetClient {
    const NetClientOps *ops;
    char id[32];                      /* -netdev id, or the NIC's name */
    void *opaque;                     /* the owner's state */
    NetClient *peer;
    bool link_down;                   /* set_link off: frames are dropped */
    /* Frames sent to this client that it could not take yet. */
    NetQueued *q_head, *q_tail;
    unsigned q_frames;
    size_t q_bytes;
    bool flushing;
    /* Counters (monitor, tests). */
    uint64_t tx_frames, rx_frames, dropped;
    /* Record/replay (core/replay.c): frames this client sends go to the
     * hook, which delivers them later with net_deliver (or drops them). */
    void (*send_hook)(void *opaque, NetClient *nc, const uint8_t *buf, size_t len);
    void *send_hook_opaque;
};

NetClient *net_client_new(const NetClientOps *ops, const char *id, void *opaque);
/* Disconnects from the peer, drops the queue, calls ops->cleanup, frees. */
void net_client_free(NetClient *nc);
/* Makes a and b peers (either may be NULL: disconnects the other). */
void net_client_connect(NetClient *a, NetClient *b);
/* net_send without the client's send hook. */
bool net_deliver(NetClient *nc, const uint8_t *buf, size_t len);
/* The frames waiting in front of nc (a snapshot of the run): each frame
 * as a 32-bit length and its bytes, appended to a malloc'ed buffer. */
void net_queue_save(const NetClient *nc, uint8_t **buf, size_t *len);
/* Replaces nc's queue with saved frames; false when malformed. */
bool net_queue_restore(NetClient *nc, const uint8_t *buf, size_t len);

/* Sends a frame to the peer: delivered now, or queued in front of it.
 * Returns false when dropped (no peer, link down, too big, queue full). */
bool net_send(NetClient *nc, const uint8_t *buf, size_t len);
/* Delivers frames queued for nc while it can take them. */
void net_flush(NetClient *nc);
/* True when frames wait in front of nc's peer (a backend stops reading). */
bool net_peer_busy(const NetClient *nc);
/* Link state as the guest sees it (monitor set_link, tests). */
void net_set_link(NetClient *nc, bool up);

/* ---- MAC addresses ---- */

/* "52:54:00:12:34:56" -> 6 bytes; false when malformed. */
bool net_parse_mac(const char *s, uint8_t mac[6]);
/* 52:54:00:12:34:56 for the first NIC, ...:57 for the next, as QEMU. */
void net_default_mac(int index, uint8_t mac[6]);

/* ---- backends (-netdev TYPE,id=ID,...) ---- */

/* Opens a backend from a -netdev spec ("user,id=n0,hostfwd=..."), or from
 * a -net/-nic backend spec whose id the caller gives (id != NULL
 * overrides).  The backend is listed in the machine as a device (so it is
 * freed with it) and watched by its main loop.  NULL with one line in err
 * (naming the option) on failure. */
NetClient *netdev_open(Machine *m, const char *spec, const char *id, char *err, size_t errlen);
/* Checks a spec's syntax without opening anything (the options parser). */
bool netdev_check(const char *spec, char *err, size_t errlen);

/* A backend for tests: frames sent to it are kept (the last 64), and
 * test_netdev_inject() sends frames to its peer. */
NetClient *test_netdev_new(const char *id);
size_t test_netdev_count(NetClient *nc);
/* The n-th kept frame (0 = oldest kept); NULL when out of range. */
const uint8_t *test_netdev_frame(NetClient *nc, size_t n, size_t *len);
void test_netdev_clear(NetClient *nc);
bool test_netdev_inject(NetClient *nc, const uint8_t *buf, size_t len);

#endif
