/* virtio-net driven through its registers and queues with no guest
 * (tests/unit/vdriver.h), on the test network backend: transmit with and
 * without checksum offload and TCP segmentation (each segment checked
 * with the RFC 1071 verification property, computed here), receive into
 * mergeable and single buffers, the control queue's filter commands, link
 * status, DATA_VALID, malformed queues, the state section, and the
 * offload helpers' refusals of bad frames. */
#include <stdlib.h>
#include <string.h>

#include "core/options.h"
#include "hw/virtio-net.h"
#include "net/net.h"
#include "net/offload.h"
#include "tests/unit/unit.h"
#include "tests/unit/vdriver.h"

#define RXQ 0
#define TXQ 1
#define CTRLQ 2

static const uint8_t NIC_MAC[6] = { 0x52, 0x54, 0x00, 0x12, 0x34, 0x56 };
static const uint8_t PEER_MAC[6] = { 0x52, 0x54, 0x00, 0xaa, 0xbb, 0xcc };

typedef struct Net {
    VDrv *d;
    VirtIONet *n;
    NetClient *be;
    uint64_t features;
} Net;

static Net *net_new(uint64_t want, uint64_t features_off)
{
    Net *t = calloc(1, sizeof *t);
    t->d = vdrv_new();
    t->be = test_netdev_new("be");
    VirtIONetConfig c = { .features_off = features_off };
    memcpy(c.mac, NIC_MAC, 6);
    t->n = virtio_net_create(t->d->m, &c, t->be);
    vdrv_attach(t->d, virtio_net_vdev(t->n));
    t->features = vdrv_init(t->d, want, 3);
    return t;
}

static void net_free(Net *t)
{
    vdrv_free(t->d);               /* frees the NIC, which unhooks the backend */
    net_client_free(t->be);
    free(t);
}

/* ---- frames and an independent check of their checksums ---- */

static void be16put(uint8_t *p, uint16_t v) { p[0] = (uint8_t)(v >> 8); p[1] = (uint8_t)v; }
static uint16_t be16get(const uint8_t *p) { return (uint16_t)(p[0] << 8 | p[1]); }
static uint32_t be32get(const uint8_t *p) { return (uint32_t)be16get(p) << 16 | be16get(p + 2); }

/* RFC 1071: the ones' complement sum of data that carries its checksum is
 * 0xffff. */
static bool sum_is_ffff(uint32_t s, const uint8_t *p, size_t n)
{
    for (size_t i = 0; i < n; i += 2)
        s += (uint32_t)(p[i] << 8 | (i + 1 < n ? p[i + 1] : 0));
    while (s >> 16)
        s = (s & 0xffff) + (s >> 16);
    return s == 0xffff;
}

static bool ipv4_tcp_ok(const uint8_t *f, size_t len)
{
    const uint8_t *ip = f + 14;
    size_t ihl = (size_t)(ip[0] & 15) * 4, total = be16get(ip + 2);
    if (total + 14 != len || !sum_is_ffff(0, ip, ihl))
        return false;
    size_t l4 = total - ihl;
    uint32_t ph = be16get(ip + 12) + be16get(ip + 14) + be16get(ip + 16) + be16get(ip + 18) +
                  ip[9] + (uint32_t)l4;
    return sum_is_ffff(ph, ip + ihl, l4);
}

/* Ethernet + IPv4 (20) + TCP (20) + payload of n bytes (pattern), with
 * the TCP checksum field holding the pseudo-header sum (as Linux leaves
 * it for NEEDS_CSUM) and the IPv4 header checksum done. */
static size_t tcp_frame(uint8_t *f, size_t n, uint8_t flags)
{
    memcpy(f, NIC_MAC, 6);
    memcpy(f + 6, PEER_MAC, 6);
    be16put(f + 12, 0x0800);
    uint8_t *ip = f + 14, *tcp = ip + 20;
    memset(ip, 0, 40);
    ip[0] = 0x45;
    be16put(ip + 2, (uint16_t)(40 + n));
    be16put(ip + 4, 0x1234);
    be16put(ip + 6, 0x4000);
    ip[8] = 64;
    ip[9] = 6;
    const uint8_t src[4] = { 10, 0, 2, 15 }, dst[4] = { 10, 0, 2, 2 };
    memcpy(ip + 12, src, 4);
    memcpy(ip + 16, dst, 4);
    uint32_t s = 0;
    for (int i = 0; i < 20; i += 2)
        s += be16get(ip + i);
    while (s >> 16)
        s = (s & 0xffff) + (s >> 16);
    be16put(ip + 10, (uint16_t)~s);
    be16put(tcp, 40000);
    be16put(tcp + 2, 80);
    be16put(tcp + 4, 0);
    be16put(tcp + 6, 1000);           /* seq 1000 */
    tcp[12] = 5 << 4;
    tcp[13] = flags;
    be16put(tcp + 14, 65535);
    for (size_t i = 0; i < n; i++)
        tcp[20 + i] = (uint8_t)(i * 7 + 3);
    uint32_t ph = be16get(ip + 12) + be16get(ip + 14) + be16get(ip + 16) + be16get(ip + 18) +
                  6 + (uint32_t)(20 + n);
    while (ph >> 16)
        ph = (ph & 0xffff) + (ph >> 16);
    be16put(tcp + 16, (uint16_t)ph);  /* not inverted: the partial sum */
    return 14 + 40 + n;
}

/* A virtio-net header (12 bytes). */
static void vhdr(uint8_t *h, uint8_t flags, uint8_t gso, uint16_t hdr_len, uint16_t gso_size,
                 uint16_t csum_start, uint16_t csum_off)
{
    memset(h, 0, 12);
    h[0] = flags;
    h[1] = gso;
    memcpy(h + 2, &hdr_len, 2);
    memcpy(h + 4, &gso_size, 2);
    memcpy(h + 6, &csum_start, 2);
    memcpy(h + 8, &csum_off, 2);
}

/* Sends header + frame as a two-descriptor chain on the TX queue. */
static void tx(Net *t, const uint8_t *h, const uint8_t *f, size_t len)
{
    VDrv *d = t->d;
    vdrv_put(d, VDRV_BUF, h, 12);
    vdrv_put(d, VDRV_BUF + 0x100, f, len);
    vdrv_desc(d, TXQ, 0, VDRV_BUF, 12, VIRTQ_DESC_F_NEXT, 1);
    vdrv_desc(d, TXQ, 1, VDRV_BUF + 0x100, (uint32_t)len, 0, 0);
    vdrv_publish(d, TXQ, 0);
    uint32_t id, ulen;
    ck_assert(vdrv_used(d, TXQ, &id, &ulen));
    ck_assert_uint_eq(id, 0);
}

START_TEST(test_config_and_link)
{
    Net *t = net_new(~0ULL, 0);
    VDrv *d = t->d;
    ck_assert(t->features & 1ULL << VIRTIO_NET_F_MRG_RXBUF);
    ck_assert(t->features & 1ULL << VIRTIO_F_VERSION_1);
    for (int i = 0; i < 6; i++)
        ck_assert_uint_eq(vdrv_cr(d, VIRTIO_PCI_DEVICE_OFF + i, 1), NIC_MAC[i]);
    ck_assert_uint_eq(vdrv_cr(d, VIRTIO_PCI_DEVICE_OFF + 6, 2), VIRTIO_NET_S_LINK_UP);
    PCIDevice *pd = virtio_pci_device(d->t);
    ck_assert_uint_eq(pci_get_word(pd, PCI_DEVICE_ID), 0x1000);
    ck_assert_uint_eq(pci_get_word(pd, PCI_SUBSYSTEM_ID), VIRTIO_ID_NET);
    net_set_link(t->be, false);
    ck_assert_uint_eq(vdrv_cr(d, VIRTIO_PCI_DEVICE_OFF + 6, 2), 0);
    ck_assert_int_eq(vdrv_msi_count(d, 0), 1);           /* configuration change */
    net_set_link(t->be, true);
    ck_assert_uint_eq(vdrv_cr(d, VIRTIO_PCI_DEVICE_OFF + 6, 2), VIRTIO_NET_S_LINK_UP);
    ck_assert_int_eq(vdrv_msi_count(d, 0), 2);
    net_free(t);
}
END_TEST

START_TEST(test_features_off)
{
    /* csum=off takes TSO and ECN with it; ctrl_vq=off the control features. */
    Net *t = net_new(~0ULL, 1ULL << VIRTIO_NET_F_CSUM | 1ULL << VIRTIO_NET_F_CTRL_VQ);
    ck_assert(!(t->features & (1ULL << VIRTIO_NET_F_HOST_TSO4 | 1ULL << VIRTIO_NET_F_HOST_ECN |
                               1ULL << VIRTIO_NET_F_CTRL_RX | 1ULL << VIRTIO_NET_F_CTRL_RX_EXTRA)));
    ck_assert(t->features & 1ULL << VIRTIO_NET_F_GUEST_CSUM);
    net_free(t);
}
END_TEST

START_TEST(test_tx_plain_and_csum)
{
    Net *t = net_new(~0ULL, 0);
    uint8_t f[2000], h[12];
    size_t len = tcp_frame(f, 1000, 0x18);
    /* The field holds the pseudo-header sum only: not a valid packet yet. */
    ck_assert(!ipv4_tcp_ok(f, len));
    vhdr(h, VIRTIO_NET_HDR_F_NEEDS_CSUM, 0, 0, 0, 34, 16);
    tx(t, h, f, len);
    ck_assert_uint_eq(test_netdev_count(t->be), 1);
    size_t glen;
    const uint8_t *g = test_netdev_frame(t->be, 0, &glen);
    ck_assert_uint_eq(glen, len);
    ck_assert(ipv4_tcp_ok(g, glen));
    ck_assert_mem_eq(g + 54, f + 54, 1000);
    /* Without NEEDS_CSUM the frame goes out untouched. */
    vhdr(h, 0, 0, 0, 0, 0, 0);
    tx(t, h, f, len);
    g = test_netdev_frame(t->be, 1, &glen);
    ck_assert_mem_eq(g, f, len);
    /* A checksum field outside the frame: sent as it is, no crash. */
    vhdr(h, VIRTIO_NET_HDR_F_NEEDS_CSUM, 0, 0, 0, 2000, 16);
    tx(t, h, f, len);
    ck_assert_uint_eq(test_netdev_count(t->be), 3);
    ck_assert_uint_eq(vdrv_status(t->d) & VIRTIO_STATUS_NEEDS_RESET, 0);
    net_free(t);
}
END_TEST

START_TEST(test_tx_tso)
{
    Net *t = net_new(~0ULL, 0);
    uint8_t f[4000], h[12];
    size_t len = tcp_frame(f, 3000, 0x19);      /* PSH ACK FIN */
    vhdr(h, VIRTIO_NET_HDR_F_NEEDS_CSUM, VIRTIO_NET_HDR_GSO_TCPV4, 54, 1000, 34, 16);
    tx(t, h, f, len);
    ck_assert_uint_eq(test_netdev_count(t->be), 3);
    for (unsigned i = 0; i < 3; i++) {
        size_t glen;
        const uint8_t *g = test_netdev_frame(t->be, i, &glen);
        ck_assert_uint_eq(glen, 54 + 1000);
        ck_assert_msg(ipv4_tcp_ok(g, glen), "segment %u checksums", i);
        ck_assert_uint_eq(be16get(g + 14 + 4), 0x1234 + i);          /* IP id */
        ck_assert_uint_eq(be32get(g + 34 + 4), 1000 + 1000 * i);     /* seq */
        ck_assert_uint_eq(g[34 + 13], i == 2 ? 0x19 : 0x10);         /* FIN/PSH last */
        ck_assert_mem_eq(g + 54, f + 54 + 1000 * i, 1000);
    }
    /* TCPv6 segmentation of an IPv4 frame still cuts the TCP packet; a
     * gso type that was not negotiated (UDP) drops the frame. */
    test_netdev_clear(t->be);
    vhdr(h, VIRTIO_NET_HDR_F_NEEDS_CSUM, VIRTIO_NET_HDR_GSO_UDP, 54, 1000, 34, 16);
    tx(t, h, f, len);
    ck_assert_uint_eq(test_netdev_count(t->be), 0);
    /* gso_size 0 cannot be cut: dropped. */
    vhdr(h, VIRTIO_NET_HDR_F_NEEDS_CSUM, VIRTIO_NET_HDR_GSO_TCPV4, 54, 0, 34, 16);
    tx(t, h, f, len);
    ck_assert_uint_eq(test_netdev_count(t->be), 0);
    net_free(t);
}
END_TEST

/* Offers n receive buffers of size bytes each (descriptors 0..n-1). */
static void rx_buffers(Net *t, int n, uint32_t size)
{
    for (int i = 0; i < n; i++) {
        vdrv_desc(t->d, RXQ, i, VDRV_BUF + 0x10000u * (unsigned)i, size, VIRTQ_DESC_F_WRITE, 0);
        vdrv_make_avail(t->d, RXQ, (uint16_t)i);
    }
    vdrv_notify(t->d, RXQ);
}

START_TEST(test_rx_mergeable)
{
    Net *t = net_new(~0ULL, 0);
    VDrv *d = t->d;
    uint8_t f[4000];
    size_t len = tcp_frame(f, 3000, 0x10);
    /* No buffers yet: the frame waits in front of the NIC. */
    ck_assert(test_netdev_inject(t->be, f, len));
    uint32_t id, ulen;
    ck_assert(!vdrv_used(d, RXQ, &id, &ulen));
    rx_buffers(t, 4, 1024);
    /* 12 + 3054 bytes over three 1024-byte buffers. */
    uint8_t got[4000];
    size_t total = 0;
    for (int i = 0; i < 3; i++) {
        ck_assert(vdrv_used(d, RXQ, &id, &ulen));
        ck_assert_uint_eq(id, (uint32_t)i);
        vdrv_get(d, VDRV_BUF + 0x10000u * id, got + total, ulen);
        total += ulen;
    }
    ck_assert(!vdrv_used(d, RXQ, &id, &ulen));
    ck_assert_uint_eq(total, 12 + len);
    uint16_t nbufs;
    memcpy(&nbufs, got + 10, 2);
    ck_assert_uint_eq(nbufs, 3);
    ck_assert_mem_eq(got + 12, f, len);
    ck_assert_int_ge(vdrv_msi_count(d, RXQ + 1), 1);
    net_free(t);
}
END_TEST

START_TEST(test_rx_single_buffers)
{
    /* A 1.x driver without MRG_RXBUF: one chain per frame, 12-byte header. */
    Net *t = net_new(~(1ULL << VIRTIO_NET_F_MRG_RXBUF), 0);
    VDrv *d = t->d;
    uint8_t f[2000];
    size_t len = tcp_frame(f, 1000, 0x10);
    rx_buffers(t, 1, 512);                 /* too small: the frame is dropped */
    ck_assert(test_netdev_inject(t->be, f, len));
    uint32_t id, ulen;
    ck_assert(!vdrv_used(d, RXQ, &id, &ulen));
    rx_buffers(t, 1, 2048);                /* the same descriptor, now big enough */
    ck_assert(test_netdev_inject(t->be, f, len));
    ck_assert(vdrv_used(d, RXQ, &id, &ulen));
    ck_assert_uint_eq(ulen, 12 + len);
    uint8_t got[2100];
    vdrv_get(d, VDRV_BUF, got, ulen);
    ck_assert_mem_eq(got + 12, f, len);
    net_free(t);
}
END_TEST

START_TEST(test_rx_data_valid)
{
    Net *t = net_new(~0ULL, 0);
    VDrv *d = t->d;
    uint8_t f[2000];
    size_t len = tcp_frame(f, 100, 0x10);
    /* Finish the checksum the way a sender would. */
    uint8_t *tcp = f + 34;
    uint32_t s = be16get(tcp + 16);
    be16put(tcp + 16, 0);
    for (size_t i = 0; i < 120; i += 2)
        s += be16get(tcp + i);
    while (s >> 16)
        s = (s & 0xffff) + (s >> 16);
    be16put(tcp + 16, (uint16_t)~s);
    ck_assert(ipv4_tcp_ok(f, len));
    rx_buffers(t, 2, 2048);
    ck_assert(test_netdev_inject(t->be, f, len));
    f[60] ^= 1;                            /* payload changed: checksum wrong */
    ck_assert(test_netdev_inject(t->be, f, len));
    uint32_t id, ulen;
    uint8_t hdr[12];
    ck_assert(vdrv_used(d, RXQ, &id, &ulen));
    vdrv_get(d, VDRV_BUF + 0x10000u * id, hdr, 12);
    ck_assert_uint_eq(hdr[0], VIRTIO_NET_HDR_F_DATA_VALID);
    ck_assert(vdrv_used(d, RXQ, &id, &ulen));
    vdrv_get(d, VDRV_BUF + 0x10000u * id, hdr, 12);
    ck_assert_uint_eq(hdr[0], 0);
    net_free(t);
}
END_TEST

/* A control command: class, command, data; returns the ack byte. */
static uint8_t ctrl(Net *t, uint8_t cls, uint8_t cmd, const void *data, uint32_t n)
{
    VDrv *d = t->d;
    uint8_t hdr[2] = { cls, cmd }, ack = 0xee;
    vdrv_put(d, VDRV_BUF + 0x80000, hdr, 2);
    vdrv_put(d, VDRV_BUF + 0x80100, data, n);
    vdrv_put(d, VDRV_BUF + 0x80800, &ack, 1);
    vdrv_desc(d, CTRLQ, 0, VDRV_BUF + 0x80000, 2, VIRTQ_DESC_F_NEXT, 1);
    vdrv_desc(d, CTRLQ, 1, VDRV_BUF + 0x80100, n, VIRTQ_DESC_F_NEXT, 2);
    vdrv_desc(d, CTRLQ, 2, VDRV_BUF + 0x80800, 1, VIRTQ_DESC_F_WRITE, 0);
    vdrv_publish(d, CTRLQ, 0);
    uint32_t id, len;
    ck_assert(vdrv_used(d, CTRLQ, &id, &len));
    ck_assert_uint_eq(len, 1);
    vdrv_get(d, VDRV_BUF + 0x80800, &ack, 1);
    return ack;
}

/* Injects a frame to dst; true when the guest received it. */
static bool delivered(Net *t, const uint8_t *dst, uint16_t vlan)
{
    uint8_t f[80] = { 0 };
    memcpy(f, dst, 6);
    memcpy(f + 6, PEER_MAC, 6);
    size_t len = 60;
    if (vlan) {
        be16put(f + 12, 0x8100);
        be16put(f + 14, vlan);
        be16put(f + 16, 0x0800);
        len = 64;
    } else {
        be16put(f + 12, 0x0800);
    }
    rx_buffers(t, 1, 2048);
    ck_assert(test_netdev_inject(t->be, f, len));
    uint32_t id, ulen;
    return vdrv_used(t->d, RXQ, &id, &ulen);
}

START_TEST(test_ctrl_filter)
{
    Net *t = net_new(~0ULL, 0);
    static const uint8_t other[6] = { 0x52, 0x54, 0x00, 0x99, 0x99, 0x99 };
    static const uint8_t mcast[6] = { 0x01, 0x00, 0x5e, 0x00, 0x00, 0xfb };
    static const uint8_t mcast2[6] = { 0x01, 0x00, 0x5e, 0x00, 0x00, 0x01 };
    static const uint8_t bcast[6] = { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff };
    static const uint8_t newmac[6] = { 0x52, 0x54, 0x00, 0x77, 0x77, 0x77 };
    /* Promiscuous after reset, as QEMU's device. */
    ck_assert(delivered(t, other, 0));
    uint8_t off = 0, on = 1;
    ck_assert_uint_eq(ctrl(t, VIRTIO_NET_CTRL_RX, VIRTIO_NET_CTRL_RX_PROMISC, &off, 1),
                      VIRTIO_NET_OK);
    ck_assert(!delivered(t, other, 0));
    ck_assert(delivered(t, NIC_MAC, 0));
    ck_assert(delivered(t, bcast, 0));
    ck_assert(!delivered(t, mcast, 0));
    /* MAC table: no unicast, one multicast. */
    uint8_t table[4 + 4 + 6] = { 0, 0, 0, 0, 1, 0, 0, 0 };
    memcpy(table + 8, mcast, 6);
    ck_assert_uint_eq(ctrl(t, VIRTIO_NET_CTRL_MAC, VIRTIO_NET_CTRL_MAC_TABLE_SET, table,
                           sizeof table), VIRTIO_NET_OK);
    ck_assert(delivered(t, mcast, 0));
    ck_assert(!delivered(t, mcast2, 0));
    /* A table whose counts do not match its length is refused. */
    table[4] = 2;
    ck_assert_uint_eq(ctrl(t, VIRTIO_NET_CTRL_MAC, VIRTIO_NET_CTRL_MAC_TABLE_SET, table,
                           sizeof table), VIRTIO_NET_ERR);
    ck_assert_uint_eq(ctrl(t, VIRTIO_NET_CTRL_RX, VIRTIO_NET_CTRL_RX_ALLMULTI, &on, 1),
                      VIRTIO_NET_OK);
    ck_assert(delivered(t, mcast2, 0));
    ck_assert_uint_eq(ctrl(t, VIRTIO_NET_CTRL_RX, VIRTIO_NET_CTRL_RX_NOBCAST, &on, 1),
                      VIRTIO_NET_OK);
    ck_assert(!delivered(t, bcast, 0));
    /* ADDR_SET moves the unicast address. */
    ck_assert_uint_eq(ctrl(t, VIRTIO_NET_CTRL_MAC, VIRTIO_NET_CTRL_MAC_ADDR_SET, newmac, 6),
                      VIRTIO_NET_OK);
    ck_assert(delivered(t, newmac, 0));
    ck_assert(!delivered(t, NIC_MAC, 0));
    /* VLAN filter: tagged frames pass only for added ids. */
    ck_assert(!delivered(t, newmac, 5));
    uint16_t vid = 5;
    ck_assert_uint_eq(ctrl(t, VIRTIO_NET_CTRL_VLAN, VIRTIO_NET_CTRL_VLAN_ADD, &vid, 2),
                      VIRTIO_NET_OK);
    ck_assert(delivered(t, newmac, 5));
    vid = 4096;
    ck_assert_uint_eq(ctrl(t, VIRTIO_NET_CTRL_VLAN, VIRTIO_NET_CTRL_VLAN_ADD, &vid, 2),
                      VIRTIO_NET_ERR);
    /* Unknown class, bad lengths. */
    ck_assert_uint_eq(ctrl(t, 9, 0, &on, 1), VIRTIO_NET_ERR);
    ck_assert_uint_eq(ctrl(t, VIRTIO_NET_CTRL_RX, VIRTIO_NET_CTRL_RX_PROMISC, table, 4),
                      VIRTIO_NET_ERR);
    /* A device reset brings back the configured address and promiscuity. */
    vdrv_init(t->d, ~0ULL, 3);
    ck_assert(delivered(t, other, 0));
    ck_assert_uint_eq(vdrv_status(t->d) & VIRTIO_STATUS_NEEDS_RESET, 0);
    net_free(t);
}
END_TEST

START_TEST(test_malformed)
{
    Net *t = net_new(~0ULL, 0);
    VDrv *d = t->d;
    /* A transmit chain shorter than the header: NEEDS_RESET. */
    vdrv_desc(d, TXQ, 0, VDRV_BUF, 6, 0, 0);
    vdrv_publish(d, TXQ, 0);
    ck_assert_uint_ne(vdrv_status(d) & VIRTIO_STATUS_NEEDS_RESET, 0);
    ck_assert_uint_eq(test_netdev_count(t->be), 0);
    /* After a reset: a control command without an ack byte, same. */
    vdrv_init(d, ~0ULL, 3);
    vdrv_desc(d, CTRLQ, 0, VDRV_BUF, 3, 0, 0);
    vdrv_publish(d, CTRLQ, 0);
    ck_assert_uint_ne(vdrv_status(d) & VIRTIO_STATUS_NEEDS_RESET, 0);
    /* A TX buffer outside RAM: refused by the queue checks. */
    vdrv_init(d, ~0ULL, 3);
    vdrv_desc(d, TXQ, 0, VDRV_RAM - 8, 64, 0, 0);
    vdrv_publish(d, TXQ, 0);
    ck_assert_uint_ne(vdrv_status(d) & VIRTIO_STATUS_NEEDS_RESET, 0);
    /* Receive ring of writable buffers too small for any frame, in all: the
     * frame is dropped, nothing breaks. */
    vdrv_init(d, ~0ULL, 3);
    for (int i = 0; i < VDRV_QSZ; i++) {
        vdrv_desc(d, RXQ, i, VDRV_BUF + 64u * (unsigned)i, 16, VIRTQ_DESC_F_WRITE, 0);
        vdrv_make_avail(d, RXQ, (uint16_t)i);
    }
    vdrv_notify(d, RXQ);
    uint8_t f[1000];
    size_t len = tcp_frame(f, 900, 0x10);
    ck_assert(test_netdev_inject(t->be, f, len));
    uint32_t id, ulen;
    ck_assert(!vdrv_used(d, RXQ, &id, &ulen));
    ck_assert_uint_eq(vdrv_status(d) & VIRTIO_STATUS_NEEDS_RESET, 0);
    net_free(t);
}
END_TEST

START_TEST(test_state_roundtrip)
{
    Net *t = net_new(~0ULL, 0);
    uint8_t off = 0;
    ck_assert_uint_eq(ctrl(t, VIRTIO_NET_CTRL_RX, VIRTIO_NET_CTRL_RX_PROMISC, &off, 1),
                      VIRTIO_NET_OK);
    uint8_t table[4 + 6 + 4] = { 1, 0, 0, 0, 0x52, 0x54, 0, 1, 2, 3, 0, 0, 0, 0 };
    ck_assert_uint_eq(ctrl(t, VIRTIO_NET_CTRL_MAC, VIRTIO_NET_CTRL_MAC_TABLE_SET, table,
                           sizeof table), VIRTIO_NET_OK);
    VMBuf b;
    char *err = NULL;
    vmbuf_init(&b);
    machine_save_devices(t->d->m, &b);
    Net *u = net_new(~0ULL, 0);
    ck_assert_msg(machine_load_devices(u->d->m, b.data, b.len, &err) == 0, "%s", err);
    static const uint8_t other[6] = { 0x52, 0x54, 0x00, 0x99, 0x99, 0x99 };
    ck_assert(!delivered(u, other, 0));            /* promiscuous off came along */
    ck_assert(delivered(u, table + 4, 0));          /* and the unicast entry */
    /* An impossible MAC table size is refused. */
    uint32_t huge = 1000;
    unit_stream_patch(&b, "virtio-net", "mac_uni", 0, &huge, 4);
    ck_assert_int_ne(machine_load_devices(u->d->m, b.data, b.len, &err), 0);
    ck_assert_ptr_nonnull(strstr(err, "MAC table"));
    free(err);
    vmbuf_free(&b);
    net_free(u);
    net_free(t);
}
END_TEST

START_TEST(test_offload_refusals)
{
    uint8_t f[200];
    size_t len = tcp_frame(f, 100, 0x10);
    NetL4Info li;
    ck_assert(net_parse_l4(f, len, &li));
    ck_assert_uint_eq(li.l4, 34);
    ck_assert_uint_eq(li.payload, 54);
    /* IP total length past the frame, a TCP data offset past the packet,
     * a truncated frame, an IPv4 fragment. */
    uint8_t g[200];
    memcpy(g, f, len);
    be16put(g + 16, 1000);
    ck_assert(!net_parse_l4(g, len, &li));
    memcpy(g, f, len);
    g[34 + 12] = 15 << 4;
    ck_assert(!net_parse_l4(g, 14 + 40 + 20, &li));
    ck_assert(!net_parse_l4(f, 30, &li));
    memcpy(g, f, len);
    be16put(g + 20, 0x2000);                       /* MF */
    ck_assert(net_parse_l4(g, len, &li) && li.fragment);
    ck_assert_int_eq(net_tcp_segment(g, len, 10, NULL, NULL), -1);
    ck_assert(!net_l4_csum_ok(g, len));
    ck_assert(!net_csum_partial(f, len, 200, 0));
    ck_assert(!net_csum_partial(f, len, len - 1, 0));
}
END_TEST

START_TEST(test_options)
{
    VMOptions o;
    char err[256];
    char *ok[] = { "vx86", "-netdev", "user,id=n0", "-device",
                   "virtio-net-pci,netdev=n0,mac=52:54:00:00:00:09,addr=6,mrg_rxbuf=off,"
                   "rx_queue_size=512,id=nic0", NULL };
    options_init(&o);
    ck_assert_msg(options_parse(&o, 5, ok, err, sizeof err) == 0, "%s", err);
    ck_assert_str_eq(o.nics[0].model, "virtio-net-pci");
    ck_assert(o.nics[0].has_addr);
    ck_assert_int_eq(o.nics[0].devfn, 6 << 3);
    ck_assert_uint_eq(o.nics[0].features_off, 1ULL << VIRTIO_NET_F_MRG_RXBUF);
    ck_assert_uint_eq(o.nics[0].rx_queue_size, 512);
    ck_assert_str_eq(o.nics[0].id, "nic0");                     /* set_link's name */
    options_free(&o);
    char *alias[] = { "vx86", "-net", "nic,model=virtio", "-net", "user", NULL };
    options_init(&o);
    ck_assert_msg(options_parse(&o, 5, alias, err, sizeof err) == 0, "%s", err);
    ck_assert_str_eq(o.nics[0].model, "virtio-net-pci");
    options_free(&o);
    char *bad[][4] = {
        { "-device", "virtio-net-pci,rx_queue_size=300", NULL },
        { "-device", "virtio-net-pci,csum=maybe", NULL },
        { "-device", "virtio-net-pci,bogus=1", NULL },
        { "-device", "virtserialport,chardev=c0", NULL },          /* no virtio-serial-pci */
        { "-device", "virtio-serial-pci", "-device", "virtserialport,nr=0" },
        { "-device", "virtio-serial-pci,max_ports=32", NULL },
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        char *argv[6] = { "vx86", bad[i][0], bad[i][1], bad[i][2], bad[i][3], NULL };
        int argc = bad[i][2] ? 5 : 3;
        options_init(&o);
        ck_assert_msg(options_parse(&o, argc, argv, err, sizeof err) < 0, "case %zu accepted",
                      i);
        options_free(&o);
    }
}
END_TEST

static Suite *virtio_net_suite(void)
{
    Suite *s = suite_create("virtio-net");
    TCase *tc = tcase_create("core");
    tcase_add_test(tc, test_config_and_link);
    tcase_add_test(tc, test_features_off);
    tcase_add_test(tc, test_tx_plain_and_csum);
    tcase_add_test(tc, test_tx_tso);
    tcase_add_test(tc, test_rx_mergeable);
    tcase_add_test(tc, test_rx_single_buffers);
    tcase_add_test(tc, test_rx_data_valid);
    tcase_add_test(tc, test_ctrl_filter);
    tcase_add_test(tc, test_malformed);
    tcase_add_test(tc, test_state_roundtrip);
    tcase_add_test(tc, test_offload_refusals);
    tcase_add_test(tc, test_options);
    suite_add_tcase(s, tc);
    return s;
}

UNIT_SUITE(virtio_net_suite)
