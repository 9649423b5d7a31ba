/*
 * virtio-net (virtio 1.2, 5.1): an Ethernet NIC on a network backend
 * (net/net.h).  One receive and one transmit queue plus the control
 * queue; mergeable receive buffers; the control commands for the receive
 * filter (promiscuous, all-multicast and the rest of the RX class, the MAC
 * table, VLAN filter, MAC address); link status in the configuration; the
 * checksum and TCP segmentation offloads the driver asks for done here, in
 * software, since every backend takes complete frames (net/offload.h);
 * received TCP/UDP checksums checked here and reported as DATA_VALID.
 *
 *   VirtIONetConfig c = { .mac = {0x52,0x54,0,0x12,0x34,0x56} };
 *   VirtIONet *n = virtio_net_create(m, &c, backend);
 *   virtio_pci_create(m, bus, devfn, virtio_net_vdev(n), err, len);
 *
 * Every frame the guest sends is read through the checked virtqueue
 * element (hw/virtio.h); a missing header is a device error, frames over
 * VIRTIO_NET_MAX_TX bytes and offload requests that were not negotiated
 * or do not parse are dropped (logged under -d guest_errors).
 */
#ifndef VX86_HW_VIRTIO_NET_H
#define VX86_HW_VIRTIO_NET_H

#include "hw/virtio.h"
#include "net/net.h"

#define VIRTIO_ID_NET               1
#define VIRTIO_NET_QUEUE_SIZE       256     /* rx_queue_size / tx_queue_size default */
#define VIRTIO_NET_CTRL_QUEUE_SIZE  64
#define VIRTIO_NET_MAC_TABLE        64      /* MAC filter entries */
#define VIRTIO_NET_MAX_TX           (65536 + 4 + 14)  /* a TSO frame with a VLAN tag */

/* Feature bits (5.1.3). */
#define VIRTIO_NET_F_CSUM           0
#define VIRTIO_NET_F_GUEST_CSUM     1
#define VIRTIO_NET_F_MAC            5
#define VIRTIO_NET_F_GUEST_TSO4     7
#define VIRTIO_NET_F_GUEST_TSO6     8
#define VIRTIO_NET_F_GUEST_ECN      9
#define VIRTIO_NET_F_GUEST_UFO      10
#define VIRTIO_NET_F_HOST_TSO4      11
#define VIRTIO_NET_F_HOST_TSO6      12
#define VIRTIO_NET_F_HOST_ECN       13
#define VIRTIO_NET_F_HOST_UFO       14
#define VIRTIO_NET_F_MRG_RXBUF      15
#define VIRTIO_NET_F_STATUS         16
#define VIRTIO_NET_F_CTRL_VQ        17
#define VIRTIO_NET_F_CTRL_RX        18
#define VIRTIO_NET_F_CTRL_VLAN      19
#define VIRTIO_NET_F_CTRL_RX_EXTRA  20
#define VIRTIO_NET_F_CTRL_MAC_ADDR  23

/* Configuration status (5.1.4). */
#define VIRTIO_NET_S_LINK_UP        1

/* Header (5.1.6): flags, gso_type. */
#define VIRTIO_NET_HDR_F_NEEDS_CSUM 1
#define VIRTIO_NET_HDR_F_DATA_VALID 2
#define VIRTIO_NET_HDR_GSO_NONE     0
#define VIRTIO_NET_HDR_GSO_TCPV4    1
#define VIRTIO_NET_HDR_GSO_UDP      3
#define VIRTIO_NET_HDR_GSO_TCPV6    4
#define VIRTIO_NET_HDR_GSO_ECN      0x80

/* Control queue (5.1.6.5): classes, commands, acks. */
#define VIRTIO_NET_OK               0
#define VIRTIO_NET_ERR              1
#define VIRTIO_NET_CTRL_RX          0
#define VIRTIO_NET_CTRL_RX_PROMISC  0
#define VIRTIO_NET_CTRL_RX_ALLMULTI 1
#define VIRTIO_NET_CTRL_RX_ALLUNI   2
#define VIRTIO_NET_CTRL_RX_NOMULTI  3
#define VIRTIO_NET_CTRL_RX_NOUNI    4
#define VIRTIO_NET_CTRL_RX_NOBCAST  5
#define VIRTIO_NET_CTRL_MAC         1
#define VIRTIO_NET_CTRL_MAC_TABLE_SET 0
#define VIRTIO_NET_CTRL_MAC_ADDR_SET 1
#define VIRTIO_NET_CTRL_VLAN        2
#define VIRTIO_NET_CTRL_VLAN_ADD    0
#define VIRTIO_NET_CTRL_VLAN_DEL    1

typedef struct VirtIONet VirtIONet;

typedef struct VirtIONetConfig {
    uint8_t mac[6];
    const char *name;           /* the NIC's NetClient id; NULL: "virtio-net" */
    uint64_t features_off;      /* feature bits the user turned off (csum=off, ...) */
    uint16_t rx_queue_size;     /* 0: VIRTIO_NET_QUEUE_SIZE; else a power of 2, 256..1024 */
    uint16_t tx_queue_size;
} VirtIONetConfig;

/* Connected to backend (NULL: no cable). */
VirtIONet *virtio_net_create(Machine *m, const VirtIONetConfig *c, NetClient *backend);
VirtIODevice *virtio_net_vdev(VirtIONet *n);
NetClient *virtio_net_client(VirtIONet *n);

#endif
