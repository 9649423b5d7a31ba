/*
 * virtio-net (see virtio-net.h).  Facts used, virtio 1.2 section 5.1:
 * - 5.1.2 queues: receiveq1 0, transmitq1 1, controlq 2 (no MQ here).
 * - 5.1.3 feature bits and their dependencies (5.1.3.1): HOST_TSO4/6 and
 *   HOST_ECN need CSUM (ECN also TSO4 or TSO6), CTRL_RX / CTRL_VLAN /
 *   CTRL_MAC_ADDR need CTRL_VQ, CTRL_RX_EXTRA needs CTRL_RX.
 * - 5.1.4 configuration: u8 mac[6], le16 status (bit 0 LINK_UP, valid with
 *   STATUS), le16 max_virtqueue_pairs; mac is driver-writable for legacy
 *   drivers.
 * - 5.1.6 the header in front of every packet: u8 flags (1 NEEDS_CSUM,
 *   2 DATA_VALID), u8 gso_type (0 none, 1 TCPv4, 3 UDP, 4 TCPv6, 0x80
 *   ECN), le16 hdr_len, le16 gso_size, le16 csum_start, le16
 *   csum_offset, le16 num_buffers; 12 bytes with VERSION_1 or MRG_RXBUF,
 *   10 without (legacy, no num_buffers).
 * - 5.1.6.2 transmit: NEEDS_CSUM asks for the checksum from csum_start to
 *   the end stored at csum_start + csum_offset; gso_type asks for
 *   segmentation in gso_size pieces, only with the HOST_ feature.
 * - 5.1.6.4 receive: without MRG_RXBUF one buffer chain per packet; with
 *   it, a packet over several chains, num_buffers in the first header;
 *   flags 0 unless GUEST_CSUM, then DATA_VALID if the device checked the
 *   checksum.
 * - 5.1.6.5 control queue: {u8 class, u8 command, data...} readable, u8
 *   ack writable (0 OK, 1 ERR).  RX class 0: PROMISC 0, ALLMULTI 1 (CTRL_RX),
 *   ALLUNI 2, NOMULTI 3, NOUNI 4, NOBCAST 5 (CTRL_RX_EXTRA), a 1-byte
 *   on/off; MAC class 1: TABLE_SET 0 ({le32 entries, u8 mac[entries][6]}
 *   for unicast, then the same for multicast), ADDR_SET 1 (6 bytes,
 *   CTRL_MAC_ADDR); VLAN class 2: ADD 0 / DEL 1 with a le16 id.
 * Behaviour as QEMU's device (its defaults): promiscuous until the driver
 * says otherwise (a driver without CTRL_RX cannot), a VLAN-tagged frame
 * passes only with its id in the table once CTRL_VLAN is negotiated, a MAC
 * table too long for the device turns into "all" for that half.
 */
#include "hw/virtio-net.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/device.h"
#include "core/log.h"
#include "core/util.h"
#include "net/offload.h"

#define RXQ   0
#define TXQ   1
#define CTRLQ 2
#define HDR_MAX 12
#define VLAN_IDS 4096

struct VirtIONet {
    VirtIODevice vdev;          /* first: the state section nests it */
    NetClient *nc;
    uint8_t conf_mac[6];        /* mac= (reset value) */
    uint8_t mac[6];             /* the current address (ADDR_SET, legacy config) */
    uint16_t status;            /* configuration status: LINK_UP */
    bool promisc, allmulti, alluni, nomulti, nouni, nobcast;
    uint32_t mac_uni, mac_multi;            /* table entries: unicast first */
    bool uni_overflow, multi_overflow;
    uint8_t mac_table[VIRTIO_NET_MAC_TABLE * 6];
    uint8_t vlans[VLAN_IDS / 8];
    uint8_t *txbuf;             /* one guest frame (VIRTIO_NET_MAX_TX) */
    VirtQueueElement **rx_elems;  /* chains of one merged packet */
};

static uint16_t ld16(const uint8_t *p) { return (uint16_t)(p[0] | p[1] << 8); }
static uint32_t ld32(const uint8_t *p) { return (uint32_t)ld16(p) | (uint32_t)ld16(p + 2) << 16; }
static void st16(uint8_t *p, uint16_t v) { p[0] = (uint8_t)v; p[1] = (uint8_t)(v >> 8); }

VirtIODevice *virtio_net_vdev(VirtIONet *n)
{
    return &n->vdev;
}

NetClient *virtio_net_client(VirtIONet *n)
{
    return n->nc;
}

static bool has(const VirtIONet *n, unsigned bit)
{
    return virtio_has_feature(&n->vdev, bit);
}

/* The header is 12 bytes for 1.x drivers and with mergeable buffers. */
static size_t hdr_len(const VirtIONet *n)
{
    return has(n, VIRTIO_F_VERSION_1) || has(n, VIRTIO_NET_F_MRG_RXBUF) ? 12 : 10;
}

/* ---- configuration ---- */

static void vnet_get_config(VirtIODevice *vdev, uint8_t *cfg)
{
    VirtIONet *n = (VirtIONet *)vdev;
    memcpy(cfg, n->mac, 6);
    st16(cfg + 6, n->status);
    st16(cfg + 8, 1);                     /* max_virtqueue_pairs */
}

static void vnet_set_config(VirtIODevice *vdev, const uint8_t *cfg)
{
    VirtIONet *n = (VirtIONet *)vdev;
    /* Only a legacy driver may write the address here (5.1.4). */
    if (!has(n, VIRTIO_F_VERSION_1) && !has(n, VIRTIO_NET_F_CTRL_MAC_ADDR))
        memcpy(n->mac, cfg, 6);
}

static void vnet_link_changed(NetClient *nc, bool up)
{
    VirtIONet *n = nc->opaque;
    uint16_t old = n->status;
    n->status = up ? (uint16_t)(n->status | VIRTIO_NET_S_LINK_UP)
                   : (uint16_t)(n->status & ~VIRTIO_NET_S_LINK_UP);
    if (n->status != old && has(n, VIRTIO_NET_F_STATUS))
        virtio_notify_config(&n->vdev);
}

/* ---- receive ---- */

static bool mac_in(const uint8_t *table, uint32_t from, uint32_t count, const uint8_t *mac)
{
    for (uint32_t i = from; i < from + count; i++)
        if (!memcmp(table + 6 * i, mac, 6))
            return true;
    return false;
}

/* The receive filter (5.1.6.5.1/2): what the driver asked to see. */
static bool vnet_accept(const VirtIONet *n, const uint8_t *f, size_t len)
{
    static const uint8_t bcast[6] = { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff };
    if (n->promisc)
        return true;
    if (has(n, VIRTIO_NET_F_CTRL_VLAN) && len >= 16 && f[12] == 0x81 && f[13] == 0x00) {
        unsigned vid = (unsigned)(f[14] << 8 | f[15]) & 0xfff;
        if (!(n->vlans[vid >> 3] & (1u << (vid & 7))))
            return false;
    }
    if (!memcmp(f, bcast, 6))
        return !n->nobcast;
    if (f[0] & 1) {
        if (n->nomulti)
            return false;
        return n->allmulti || n->multi_overflow ||
               mac_in(n->mac_table, n->mac_uni, n->mac_multi, f);
    }
    if (n->nouni)
        return false;
    return n->alluni || n->uni_overflow || !memcmp(f, n->mac, 6) ||
           mac_in(n->mac_table, 0, n->mac_uni, f);
}

static bool vnet_rx_ready(const VirtIONet *n)
{
    return (n->vdev.status & VIRTIO_STATUS_DRIVER_OK) && !n->vdev.broken &&
           n->vdev.vq[RXQ].ready;
}

static bool vnet_can_receive(NetClient *nc)
{
    return vnet_rx_ready(nc->opaque);
}

/* The header of a received packet in num_buffers chains. */
static void rx_header(const VirtIONet *n, const uint8_t *f, size_t len, uint16_t nbufs,
                      uint8_t *hdr)
{
    memset(hdr, 0, HDR_MAX);
    /* The guest need not check what was checked here (5.1.6.4). */
    if (has(n, VIRTIO_NET_F_GUEST_CSUM) && net_l4_csum_ok(f, len))
        hdr[0] = VIRTIO_NET_HDR_F_DATA_VALID;
    st16(hdr + 10, nbufs);
}

/* Writes bytes [off, off + n) of the stream "header, frame" into e. */
static size_t rx_write(VirtIONet *n, VirtQueueElement *e, const uint8_t *hdr, size_t hl,
                       const uint8_t *f, size_t off, size_t count)
{
    size_t done = 0, at = 0;
    if (off < hl) {
        size_t k = MIN(hl - off, count);
        done += virtio_elem_write(&n->vdev, e, 0, hdr + off, k);
        off += k;
        count -= k;
        at = k;
    }
    if (count)
        done += virtio_elem_write(&n->vdev, e, at, f + (off - hl), count);
    return done;
}

/* One chain per packet (no MRG_RXBUF). */
static bool rx_single(VirtIONet *n, VirtQueue *vq, const uint8_t *f, size_t len)
{
    VirtQueueElement *e = virtqueue_pop(vq);
    if (!e)
        return false;                     /* wait for buffers: kept in the queue */
    size_t hl = hdr_len(n);
    if (e->in_len < hl + len) {
        LOG(LOG_GUEST_ERRORS, "virtio-net: receive buffer of %llu bytes for a %zu-byte "
            "frame: frame dropped\n", (unsigned long long)e->in_len, len);
        virtqueue_unpop(vq, e);
        return true;
    }
    uint8_t hdr[HDR_MAX];
    rx_header(n, f, len, 1, hdr);
    size_t done = rx_write(n, e, hdr, hl, f, 0, hl + len);
    virtqueue_push(vq, e, (uint32_t)done);
    virtqueue_notify(vq);
    return true;
}

/* A packet across as many chains as it needs (MRG_RXBUF). */
static bool rx_mergeable(VirtIONet *n, VirtQueue *vq, const uint8_t *f, size_t len)
{
    size_t hl = hdr_len(n), need = hl + len;
    uint64_t room = 0;
    unsigned cnt = 0;
    while (room < need) {
        if (cnt == vq->num) {
            /* The whole ring could never hold it. */
            LOG(LOG_GUEST_ERRORS, "virtio-net: %zu-byte frame larger than the whole "
                "receive ring: dropped\n", len);
            while (cnt)
                virtqueue_unpop(vq, n->rx_elems[--cnt]);
            return true;
        }
        VirtQueueElement *e = virtqueue_pop(vq);
        if (!e) {
            /* Not enough buffers yet: give them back, retry on the kick. */
            while (cnt)
                virtqueue_unpop(vq, n->rx_elems[--cnt]);
            return false;
        }
        n->rx_elems[cnt++] = e;
        room += e->in_len;
    }
    uint8_t hdr[HDR_MAX];
    rx_header(n, f, len, (uint16_t)cnt, hdr);
    size_t off = 0;
    for (unsigned i = 0; i < cnt; i++) {
        VirtQueueElement *e = n->rx_elems[i];
        size_t k = (size_t)MIN(e->in_len, (uint64_t)(need - off));
        size_t done = rx_write(n, e, hdr, hl, f, off, k);
        off += k;
        virtqueue_push(vq, e, (uint32_t)done);
    }
    virtqueue_notify(vq);
    return true;
}

static bool vnet_receive(NetClient *nc, const uint8_t *f, size_t len)
{
    VirtIONet *n = nc->opaque;
    if (!vnet_rx_ready(n))
        return false;
    if (len < 14 || !vnet_accept(n, f, len))
        return true;                      /* filtered out: taken and dropped */
    VirtQueue *vq = &n->vdev.vq[RXQ];
    return has(n, VIRTIO_NET_F_MRG_RXBUF) ? rx_mergeable(n, vq, f, len)
                                          : rx_single(n, vq, f, len);
}

static const NetClientOps vnet_net_ops = {
    .type = "virtio-net", .can_receive = vnet_can_receive, .receive = vnet_receive,
    .link_changed = vnet_link_changed,
};

/* ---- transmit ---- */

static void send_segment(void *opaque, const uint8_t *frame, size_t len)
{
    VirtIONet *n = opaque;
    net_send(n->nc, frame, len);
}

/* A backend that takes vnet headers (tap,vnet_hdr=on) gets the guest's
 * checksum and segmentation requests as they are, for the host kernel to
 * do (it checks them again); only what was negotiated is passed on. */
static void tx_frame_vnet(VirtIONet *n, const uint8_t *hdr, const uint8_t *f, size_t len)
{
    uint8_t h[NET_VNET_HDR_LEN] = { 0 };
    memcpy(h, hdr, 10);                    /* flags .. csum_offset; num_buffers 0 */
    if (!has(n, VIRTIO_NET_F_CSUM))
        h[0] &= (uint8_t)~VIRTIO_NET_HDR_F_NEEDS_CSUM;
    h[0] &= VIRTIO_NET_HDR_F_NEEDS_CSUM;   /* DATA_VALID means nothing on transmit */
    net_send_vnet(n->nc, h, f, len);
}

/* The offloads the header asks for, then the frame(s) to the backend. */
static void tx_frame(VirtIONet *n, const uint8_t *hdr, uint8_t *f, size_t len)
{
    uint8_t gso = hdr[1], type = gso & (uint8_t)~VIRTIO_NET_HDR_GSO_ECN;
    if (type != VIRTIO_NET_HDR_GSO_NONE) {
        bool ok = (type == VIRTIO_NET_HDR_GSO_TCPV4 && has(n, VIRTIO_NET_F_HOST_TSO4)) ||
                  (type == VIRTIO_NET_HDR_GSO_TCPV6 && has(n, VIRTIO_NET_F_HOST_TSO6));
        if ((gso & VIRTIO_NET_HDR_GSO_ECN) && !has(n, VIRTIO_NET_F_HOST_ECN))
            ok = false;
        if (ok && ld16(hdr + 4) && net_peer_vnet_hdr(n->nc)) {
            tx_frame_vnet(n, hdr, f, len);
            return;
        }
        if (!ok || net_tcp_segment(f, len, ld16(hdr + 4), send_segment, n) < 0)
            LOG(LOG_GUEST_ERRORS, "virtio-net: segmentation (gso_type 0x%x, gso_size %u) "
                "not negotiated or not a TCP packet: %zu-byte frame dropped\n", gso,
                ld16(hdr + 4), len);
        return;
    }
    if (net_peer_vnet_hdr(n->nc)) {
        tx_frame_vnet(n, hdr, f, len);
        return;
    }
    if ((hdr[0] & VIRTIO_NET_HDR_F_NEEDS_CSUM) && has(n, VIRTIO_NET_F_CSUM) &&
        !net_csum_partial(f, len, ld16(hdr + 6), ld16(hdr + 8)))
        LOG(LOG_GUEST_ERRORS, "virtio-net: checksum at %u+%u outside the %zu-byte frame\n",
            ld16(hdr + 6), ld16(hdr + 8), len);
    net_send(n->nc, f, len);
}

static void vnet_tx(VirtIONet *n, VirtQueue *vq)
{
    size_t hl = hdr_len(n);
    bool any = false;
    VirtQueueElement *e;
    while ((e = virtqueue_pop(vq))) {
        any = true;
        if (e->out_len < hl) {
            virtio_error(&n->vdev, "transmit chain of %llu bytes has no %zu-byte header",
                         (unsigned long long)e->out_len, hl);
            virtqueue_discard(vq, e);
            return;
        }
        uint64_t flen = e->out_len - hl;
        if (flen > VIRTIO_NET_MAX_TX) {
            LOG(LOG_GUEST_ERRORS, "virtio-net: %llu-byte frame dropped (over %u)\n",
                (unsigned long long)flen, VIRTIO_NET_MAX_TX);
        } else {
            uint8_t hdr[HDR_MAX] = { 0 };
            virtio_elem_read(&n->vdev, e, 0, hdr, hl);
            size_t got = virtio_elem_read(&n->vdev, e, hl, n->txbuf, (size_t)flen);
            tx_frame(n, hdr, n->txbuf, got);
        }
        virtqueue_push(vq, e, 0);
    }
    if (any)
        virtqueue_notify(vq);
}

/* ---- control queue ---- */

static uint8_t ctrl_rx_mode(VirtIONet *n, uint8_t cmd, const VirtQueueElement *e)
{
    uint8_t on;
    if (!has(n, VIRTIO_NET_F_CTRL_RX) || e->out_len != 3 ||
        (cmd > VIRTIO_NET_CTRL_RX_ALLMULTI && !has(n, VIRTIO_NET_F_CTRL_RX_EXTRA)) ||
        virtio_elem_read(&n->vdev, e, 2, &on, 1) != 1)
        return VIRTIO_NET_ERR;
    bool *flag[] = { &n->promisc, &n->allmulti, &n->alluni, &n->nomulti, &n->nouni,
                     &n->nobcast };
    if (cmd >= ARRAY_SIZE(flag))
        return VIRTIO_NET_ERR;
    *flag[cmd] = on != 0;
    return VIRTIO_NET_OK;
}

/* One half of TABLE_SET at byte off: {le32 entries, entries * 6 bytes}
 * into the table after `first` entries.  Returns the bytes it took, or 0
 * when the data is short. */
static uint64_t ctrl_mac_half(VirtIONet *n, const VirtQueueElement *e, uint64_t off,
                              uint32_t first, uint32_t *count, bool *overflow)
{
    uint8_t b[4];
    if (e->out_len - off < 4 || virtio_elem_read(&n->vdev, e, off, b, 4) != 4)
        return 0;
    uint64_t entries = ld32(b), bytes = 4 + 6 * entries;
    if (e->out_len - off < bytes)
        return 0;
    *count = 0;
    *overflow = entries > VIRTIO_NET_MAC_TABLE - first;
    if (!*overflow && entries) {
        if (virtio_elem_read(&n->vdev, e, off + 4, n->mac_table + 6 * first,
                             (size_t)entries * 6) != entries * 6)
            return 0;
        *count = (uint32_t)entries;
    }
    return bytes;
}

static uint8_t ctrl_mac(VirtIONet *n, uint8_t cmd, const VirtQueueElement *e)
{
    if (cmd == VIRTIO_NET_CTRL_MAC_ADDR_SET) {
        uint8_t mac[6];
        if (!has(n, VIRTIO_NET_F_CTRL_MAC_ADDR) || e->out_len != 8 ||
            virtio_elem_read(&n->vdev, e, 2, mac, 6) != 6)
            return VIRTIO_NET_ERR;
        memcpy(n->mac, mac, 6);
        return VIRTIO_NET_OK;
    }
    if (cmd != VIRTIO_NET_CTRL_MAC_TABLE_SET || !has(n, VIRTIO_NET_F_CTRL_RX))
        return VIRTIO_NET_ERR;
    uint32_t uni = 0, multi = 0;
    bool uo = false, mo = false;
    uint64_t a = ctrl_mac_half(n, e, 2, 0, &uni, &uo);
    uint64_t b = a ? ctrl_mac_half(n, e, 2 + a, uni, &multi, &mo) : 0;
    if (!a || !b || 2 + a + b != e->out_len) {
        n->mac_uni = n->mac_multi = 0;    /* half-written: no stale entries */
        return VIRTIO_NET_ERR;
    }
    n->mac_uni = uni;
    n->mac_multi = multi;
    n->uni_overflow = uo;
    n->multi_overflow = mo;
    return VIRTIO_NET_OK;
}

static uint8_t ctrl_vlan(VirtIONet *n, uint8_t cmd, const VirtQueueElement *e)
{
    uint8_t b[2];
    if (!has(n, VIRTIO_NET_F_CTRL_VLAN) || e->out_len != 4 ||
        virtio_elem_read(&n->vdev, e, 2, b, 2) != 2)
        return VIRTIO_NET_ERR;
    unsigned vid = ld16(b);
    if (vid >= VLAN_IDS)
        return VIRTIO_NET_ERR;
    if (cmd == VIRTIO_NET_CTRL_VLAN_ADD)
        n->vlans[vid >> 3] |= (uint8_t)(1u << (vid & 7));
    else if (cmd == VIRTIO_NET_CTRL_VLAN_DEL)
        n->vlans[vid >> 3] &= (uint8_t)~(1u << (vid & 7));
    else
        return VIRTIO_NET_ERR;
    return VIRTIO_NET_OK;
}

static void vnet_ctrl(VirtIONet *n, VirtQueue *vq)
{
    bool any = false;
    VirtQueueElement *e;
    while ((e = virtqueue_pop(vq))) {
        uint8_t cls[2];
        if (e->out_len < 2 || e->in_len < 1 || virtio_elem_read(&n->vdev, e, 0, cls, 2) != 2) {
            virtio_error(&n->vdev, "control command without class/command or ack byte");
            virtqueue_discard(vq, e);
            return;
        }
        uint8_t ack;
        switch (cls[0]) {
        case VIRTIO_NET_CTRL_RX: ack = ctrl_rx_mode(n, cls[1], e); break;
        case VIRTIO_NET_CTRL_MAC: ack = ctrl_mac(n, cls[1], e); break;
        case VIRTIO_NET_CTRL_VLAN: ack = ctrl_vlan(n, cls[1], e); break;
        default: ack = VIRTIO_NET_ERR; break;
        }
        if (ack != VIRTIO_NET_OK)
            LOG(LOG_GUEST_ERRORS, "virtio-net: control command %u.%u refused\n", cls[0], cls[1]);
        virtio_elem_write(&n->vdev, e, 0, &ack, 1);
        virtqueue_push(vq, e, 1);
        any = true;
    }
    if (any)
        virtqueue_notify(vq);
    /* A new filter may let queued frames in. */
    net_flush(n->nc);
}

/* ---- device ---- */

static void vnet_queue_notify(VirtIODevice *vdev, VirtQueue *vq)
{
    VirtIONet *n = (VirtIONet *)vdev;
    switch (vq->index) {
    case RXQ: net_flush(n->nc); break;     /* new receive buffers */
    case TXQ: vnet_tx(n, vq); break;
    case CTRLQ: vnet_ctrl(n, vq); break;
    default: break;
    }
}

/* Device reset: the filter as QEMU's device starts it (promiscuous). */
static void vnet_reset(VirtIODevice *vdev)
{
    VirtIONet *n = (VirtIONet *)vdev;
    n->promisc = true;
    n->allmulti = n->alluni = n->nomulti = n->nouni = n->nobcast = false;
    n->mac_uni = n->mac_multi = 0;
    n->uni_overflow = n->multi_overflow = false;
    memset(n->mac_table, 0, sizeof n->mac_table);
    memset(n->vlans, 0, sizeof n->vlans);
    memcpy(n->mac, n->conf_mac, 6);
}

static const VirtIODeviceClass virtio_net_class = {
    .name = "virtio-net",
    .device_id = VIRTIO_ID_NET,
    .pci_class = 0x020000,            /* Ethernet controller */
    .config_size = 10,
    .get_config = vnet_get_config,
    .set_config = vnet_set_config,
    .queue_notify = vnet_queue_notify,
    .reset = vnet_reset,
};

static int vnet_post_load(void *opaque, int version, char **err)
{
    VirtIONet *n = opaque;
    (void)version;
    if (n->mac_uni > VIRTIO_NET_MAC_TABLE || n->mac_multi > VIRTIO_NET_MAC_TABLE - n->mac_uni) {
        *err = xmalloc(96);
        snprintf(*err, 96, "virtio-net: MAC table of %u + %u entries (at most %u)",
                 n->mac_uni, n->mac_multi, VIRTIO_NET_MAC_TABLE);
        return -1;
    }
    /* The link is the backend's, not the saved machine's. */
    n->status = (uint16_t)(n->nc->link_down ? 0 : VIRTIO_NET_S_LINK_UP);
    return 0;
}

static const VMField vnet_fields[] = {
    VMF_STRUCT(vdev, VirtIONet, virtio_vmsd),
    VMF_U8_ARRAY(mac, VirtIONet, 6),
    VMF_U16(status, VirtIONet),
    VMF_BOOL(promisc, VirtIONet),
    VMF_BOOL(allmulti, VirtIONet),
    VMF_BOOL(alluni, VirtIONet),
    VMF_BOOL(nomulti, VirtIONet),
    VMF_BOOL(nouni, VirtIONet),
    VMF_BOOL(nobcast, VirtIONet),
    VMF_U32(mac_uni, VirtIONet),
    VMF_U32(mac_multi, VirtIONet),
    VMF_BOOL(uni_overflow, VirtIONet),
    VMF_BOOL(multi_overflow, VirtIONet),
    VMF_U8_ARRAY(mac_table, VirtIONet, VIRTIO_NET_MAC_TABLE * 6),
    VMF_U8_ARRAY(vlans, VirtIONet, VLAN_IDS / 8),
    VMF_END
};

static const VMStateDesc vnet_vmsd = {
    .name = "virtio-net", .version = 1, .min_version = 1, .fields = vnet_fields,
    .post_load = vnet_post_load,
};

static void vnet_free(void *opaque)
{
    VirtIONet *n = opaque;
    net_client_free(n->nc);
    virtio_cleanup(&n->vdev);
    free(n->txbuf);
    free(n->rx_elems);
    free(n);
}

static const DeviceOps vnet_device_ops = {
    .name = "virtio-net", .free = vnet_free, .vmsd = &vnet_vmsd,
};

/* Turning a feature off turns off what depends on it (5.1.3.1), so a
 * driver is never offered a set it must refuse. */
static uint64_t vnet_features(uint64_t off)
{
    uint64_t f = 1ULL << VIRTIO_NET_F_CSUM | 1ULL << VIRTIO_NET_F_GUEST_CSUM |
                 1ULL << VIRTIO_NET_F_MAC | 1ULL << VIRTIO_NET_F_HOST_TSO4 |
                 1ULL << VIRTIO_NET_F_HOST_TSO6 | 1ULL << VIRTIO_NET_F_HOST_ECN |
                 1ULL << VIRTIO_NET_F_MRG_RXBUF | 1ULL << VIRTIO_NET_F_STATUS |
                 1ULL << VIRTIO_NET_F_CTRL_VQ | 1ULL << VIRTIO_NET_F_CTRL_RX |
                 1ULL << VIRTIO_NET_F_CTRL_VLAN | 1ULL << VIRTIO_NET_F_CTRL_RX_EXTRA |
                 1ULL << VIRTIO_NET_F_CTRL_MAC_ADDR | 1ULL << VIRTIO_F_ANY_LAYOUT;
    f &= ~off;
    if (!(f & 1ULL << VIRTIO_NET_F_CSUM))
        f &= ~(1ULL << VIRTIO_NET_F_HOST_TSO4 | 1ULL << VIRTIO_NET_F_HOST_TSO6);
    if (!(f & (1ULL << VIRTIO_NET_F_HOST_TSO4 | 1ULL << VIRTIO_NET_F_HOST_TSO6)))
        f &= ~(1ULL << VIRTIO_NET_F_HOST_ECN);
    if (!(f & 1ULL << VIRTIO_NET_F_CTRL_VQ))
        f &= ~(1ULL << VIRTIO_NET_F_CTRL_RX | 1ULL << VIRTIO_NET_F_CTRL_VLAN |
               1ULL << VIRTIO_NET_F_CTRL_MAC_ADDR);
    if (!(f & 1ULL << VIRTIO_NET_F_CTRL_RX))
        f &= ~(1ULL << VIRTIO_NET_F_CTRL_RX_EXTRA);
    return f;
}

static uint16_t queue_size(uint16_t want)
{
    return want >= 256 && want <= VIRTQUEUE_MAX_SIZE && !(want & (want - 1))
           ? want : VIRTIO_NET_QUEUE_SIZE;
}

VirtIONet *virtio_net_create(Machine *m, const VirtIONetConfig *c, NetClient *backend)
{
    VirtIONet *n = xcalloc(1, sizeof *n);
    memcpy(n->conf_mac, c->mac, 6);
    n->status = VIRTIO_NET_S_LINK_UP;
    n->txbuf = xmalloc(VIRTIO_NET_MAX_TX);
    n->rx_elems = xcalloc(VIRTQUEUE_MAX_SIZE, sizeof *n->rx_elems);
    virtio_init(&n->vdev, &virtio_net_class, m, vnet_features(c->features_off), 3,
                queue_size(c->rx_queue_size));
    /* The core offers indirect descriptors and the event index itself. */
    n->vdev.host_features &= ~(c->features_off & (1ULL << VIRTIO_F_INDIRECT_DESC |
                                                   1ULL << VIRTIO_F_EVENT_IDX));
    n->vdev.vq[TXQ].num_max = queue_size(c->tx_queue_size);
    n->vdev.vq[CTRLQ].num_max = VIRTIO_NET_CTRL_QUEUE_SIZE;
    virtio_reset(&n->vdev);
    n->nc = net_client_new(&vnet_net_ops, c->name ? c->name : "virtio-net", n);
    if (backend)
        net_client_connect(n->nc, backend);
    machine_add_device(m, &vnet_device_ops, n);
    return n;
}
