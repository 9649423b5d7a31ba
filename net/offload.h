/*
 * Software offloads for NIC models whose guests hand over work a real NIC
 * would do (virtio-net's checksum and TCP segmentation offloads), done on
 * the host because every backend here (slirp, socket, tap without a vnet
 * header) wants complete frames: finished checksums, segments no longer
 * than the MTU.
 *
 *   NetL4Info li;
 *   if (net_parse_l4(frame, len, &li) && li.proto == NET_PROTO_TCP) ...
 *   net_csum_partial(frame, len, csum_start, csum_offset);   // NEEDS_CSUM
 *   net_tcp_segment(frame, len, mss, send_one, opaque);      // TSO
 *   if (net_l4_csum_ok(frame, len)) ...                      // DATA_VALID
 *
 * Frames are Ethernet frames without FCS, with at most one 802.1Q/802.1ad
 * tag.  Nothing here trusts the frame: every offset is checked against its
 * length and against the IP header's own lengths.
 */
#ifndef VX86_NET_OFFLOAD_H
#define VX86_NET_OFFLOAD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define NET_PROTO_TCP 6
#define NET_PROTO_UDP 17

/* Where the layers of an IPv4/IPv6 TCP or UDP frame start. */
typedef struct NetL4Info {
    size_t l3;          /* IP header */
    size_t l4;          /* TCP/UDP header */
    size_t payload;     /* L4 payload (after the TCP options) */
    size_t end;         /* end of the IP packet (Ethernet padding after it) */
    bool ipv6;
    bool fragment;      /* an IP fragment: no complete L4 header/payload */
    uint8_t proto;      /* NET_PROTO_TCP or NET_PROTO_UDP */
} NetL4Info;

/* Parses Ethernet (one VLAN tag at most), IPv4 or IPv6 (hop-by-hop and
 * destination options skipped; routing or fragment headers make it a
 * fragment) and TCP or UDP.  False for anything else or when a length
 * field points outside the frame. */
bool net_parse_l4(const uint8_t *f, size_t len, NetL4Info *li);

/* Ones' complement sum of big-endian 16-bit words (an odd byte is padded
 * with zero), and the folded, inverted result. */
uint32_t net_csum_add(uint32_t sum, const uint8_t *p, size_t len);
uint16_t net_csum_fold(uint32_t sum);

/* The checksum of f[start..len) (the field at start + off holding the
 * pseudo-header sum the driver put there) stored big-endian at start +
 * off: virtio's NEEDS_CSUM, the e1000's TCP/UDP checksum insertion.  False
 * (nothing written) when the field is outside the frame. */
bool net_csum_partial(uint8_t *f, size_t len, size_t start, size_t off);

/* True when f is a TCP or UDP packet (not a fragment) whose checksum is
 * present and right. */
bool net_l4_csum_ok(const uint8_t *f, size_t len);

/* TCP segmentation: the headers of f repeated for every mss bytes of its
 * payload, with the IPv4 total length, identification and header
 * checksum, or the IPv6 payload length, the sequence number, FIN/PSH on
 * the last segment only, CWR on the first only, and a full TCP checksum
 * computed for each segment.  out is called once per segment.  Returns
 * the number of segments, or -1 (nothing sent) when f is not a TCP packet
 * that can be cut (a fragment, UDP, mss 0). */
typedef void (*NetSegmentOut)(void *opaque, const uint8_t *frame, size_t len);
int net_tcp_segment(const uint8_t *f, size_t len, unsigned mss, NetSegmentOut out,
                    void *opaque);

#endif
