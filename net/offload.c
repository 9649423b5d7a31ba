/*
 * Software checksum and TCP segmentation offloads (see offload.h).  Facts
 * used: RFC 791 (IPv4 header: IHL, total length, identification, flags and
 * fragment offset, header checksum), RFC 8200 (IPv6: payload length, next
 * header chain; extension headers are (length + 1) * 8 bytes), RFC 9293
 * (TCP: data offset, sequence number, flags CWR 0x80 / PSH 0x08 / FIN
 * 0x01), RFC 768 (UDP; checksum 0 over IPv4 means none), RFC 1071 (the
 * ones' complement sum) and the pseudo-headers of RFC 9293 3.1 / RFC 8200
 * 8.1 (addresses, protocol, L4 length).
 */
#include "net/offload.h"

#include <stdlib.h>
#include <string.h>

#include "core/util.h"

#define ETH_HLEN        14
#define ETH_P_IPV4      0x0800
#define ETH_P_IPV6      0x86dd
#define ETH_P_VLAN      0x8100
#define ETH_P_QINQ      0x88a8
#define IPV6_HLEN       40
#define IPV6_MAX_EXT    8          /* extension headers walked at most */

static uint16_t be16(const uint8_t *p) { return (uint16_t)(p[0] << 8 | p[1]); }
static uint32_t be32(const uint8_t *p) { return (uint32_t)be16(p) << 16 | be16(p + 2); }
static void stbe16(uint8_t *p, uint16_t v) { p[0] = (uint8_t)(v >> 8); p[1] = (uint8_t)v; }
static void stbe32(uint8_t *p, uint32_t v) { stbe16(p, (uint16_t)(v >> 16)); stbe16(p + 2, (uint16_t)v); }

uint32_t net_csum_add(uint32_t sum, const uint8_t *p, size_t len)
{
    /* 64-bit accumulator: no carry is lost for any frame we handle. */
    uint64_t s = sum;
    size_t i = 0;
    for (; i + 1 < len; i += 2)
        s += (uint32_t)(p[i] << 8 | p[i + 1]);
    if (len & 1)
        s += (uint32_t)p[len - 1] << 8;
    while (s >> 32)
        s = (s & 0xffffffffu) + (s >> 32);
    return (uint32_t)s;
}

uint16_t net_csum_fold(uint32_t sum)
{
    while (sum >> 16)
        sum = (sum & 0xffff) + (sum >> 16);
    return (uint16_t)~sum;
}

bool net_csum_partial(uint8_t *f, size_t len, size_t start, size_t off)
{
    if (start >= len || off > len - start || len - start - off < 2)
        return false;
    uint16_t c = net_csum_fold(net_csum_add(0, f + start, len - start));
    stbe16(f + start + off, c);
    return true;
}

static bool parse_ipv4(const uint8_t *f, size_t len, NetL4Info *li)
{
    const uint8_t *ip = f + li->l3;
    if (len - li->l3 < 20 || ip[0] >> 4 != 4)
        return false;
    size_t ihl = (size_t)(ip[0] & 15) * 4, total = be16(ip + 2);
    if (ihl < 20 || total < ihl || total > len - li->l3)
        return false;
    li->end = li->l3 + total;
    li->l4 = li->l3 + ihl;
    li->proto = ip[9];
    li->fragment = (be16(ip + 6) & 0x3fff) != 0;     /* MF or an offset */
    return true;
}

static bool parse_ipv6(const uint8_t *f, size_t len, NetL4Info *li)
{
    const uint8_t *ip = f + li->l3;
    if (len - li->l3 < IPV6_HLEN || ip[0] >> 4 != 6)
        return false;
    size_t plen = be16(ip + 4);
    if (plen > len - li->l3 - IPV6_HLEN)
        return false;
    li->ipv6 = true;
    li->end = li->l3 + IPV6_HLEN + plen;
    uint8_t next = ip[6];
    size_t at = li->l3 + IPV6_HLEN;
    for (int n = 0; n < IPV6_MAX_EXT; n++) {
        if (next == 0 || next == 60) {            /* hop-by-hop, destination options */
            if (li->end - at < 8)
                return false;
            size_t elen = ((size_t)f[at + 1] + 1) * 8;
            if (elen > li->end - at)
                return false;
            next = f[at];
            at += elen;
            continue;
        }
        if (next == 44) {                          /* fragment header */
            if (li->end - at < 8)
                return false;
            li->fragment = true;
            next = f[at];
            at += 8;
            break;
        }
        break;
    }
    /* A routing header (43) changes the pseudo-header's destination: not
     * handled, and neither is anything still unknown here. */
    li->l4 = at;
    li->proto = next;
    return true;
}

bool net_parse_l4(const uint8_t *f, size_t len, NetL4Info *li)
{
    memset(li, 0, sizeof *li);
    if (len < ETH_HLEN)
        return false;
    size_t l3 = ETH_HLEN;
    uint16_t type = be16(f + 12);
    if (type == ETH_P_VLAN || type == ETH_P_QINQ) {
        if (len < ETH_HLEN + 4)
            return false;
        type = be16(f + 16);
        l3 += 4;
    }
    li->l3 = l3;
    bool ok = type == ETH_P_IPV4 ? parse_ipv4(f, len, li)
            : type == ETH_P_IPV6 ? parse_ipv6(f, len, li) : false;
    if (!ok || (li->proto != NET_PROTO_TCP && li->proto != NET_PROTO_UDP))
        return false;
    if (li->fragment) {
        li->payload = li->l4;
        return true;
    }
    if (li->proto == NET_PROTO_UDP) {
        if (li->end - li->l4 < 8)
            return false;
        li->payload = li->l4 + 8;
        return true;
    }
    if (li->end - li->l4 < 20)
        return false;
    size_t doff = (size_t)(f[li->l4 + 12] >> 4) * 4;
    if (doff < 20 || doff > li->end - li->l4)
        return false;
    li->payload = li->l4 + doff;
    return true;
}

/* The pseudo-header sum for an L4 segment of l4len bytes. */
static uint32_t pseudo_sum(const uint8_t *f, const NetL4Info *li, size_t l4len)
{
    uint32_t s;
    if (li->ipv6) {
        s = net_csum_add(0, f + li->l3 + 8, 32);          /* source, destination */
        s += (uint32_t)(l4len >> 16) + (uint32_t)(l4len & 0xffff);
    } else {
        s = net_csum_add(0, f + li->l3 + 12, 8);
        s += (uint32_t)l4len;
    }
    return s + li->proto;
}

bool net_l4_csum_ok(const uint8_t *f, size_t len)
{
    NetL4Info li;
    if (!net_parse_l4(f, len, &li) || li.fragment)
        return false;
    size_t l4len = li.end - li.l4;
    /* A UDP checksum of 0 over IPv4 is "none": nothing was checked. */
    if (li.proto == NET_PROTO_UDP && !li.ipv6 && be16(f + li.l4 + 6) == 0)
        return false;
    uint32_t s = net_csum_add(pseudo_sum(f, &li, l4len), f + li.l4, l4len);
    return net_csum_fold(s) == 0;
}

int net_tcp_segment(const uint8_t *f, size_t len, unsigned mss, NetSegmentOut out,
                    void *opaque)
{
    NetL4Info li;
    if (!mss || !net_parse_l4(f, len, &li) || li.fragment || li.proto != NET_PROTO_TCP)
        return -1;
    size_t hdrlen = li.payload, data = li.end - li.payload;
    size_t l4off = li.l4 - li.l3;            /* IP header + extensions */
    if (mss > 0xffff)
        mss = 0xffff;
    uint8_t *seg = xmalloc(hdrlen + mss);
    uint16_t ip_id = li.ipv6 ? 0 : be16(f + li.l3 + 4);
    uint32_t seq = be32(f + li.l4 + 4);
    uint8_t flags = f[li.l4 + 13];
    int n = 0;
    size_t off = 0;
    do {
        size_t chunk = MIN((size_t)mss, data - off);
        bool first = off == 0, last = off + chunk >= data;
        size_t seglen = hdrlen + chunk;
        memcpy(seg, f, hdrlen);
        memcpy(seg + hdrlen, f + hdrlen + off, chunk);
        uint8_t *ip = seg + li.l3, *tcp = seg + li.l4;
        if (li.ipv6) {
            stbe16(ip + 4, (uint16_t)(seglen - li.l3 - IPV6_HLEN));
        } else {
            stbe16(ip + 2, (uint16_t)(seglen - li.l3));
            stbe16(ip + 4, (uint16_t)(ip_id + n));
            stbe16(ip + 10, 0);
            stbe16(ip + 10, net_csum_fold(net_csum_add(0, ip, l4off)));
        }
        stbe32(tcp + 4, seq + (uint32_t)off);
        tcp[13] = (uint8_t)(flags & ~((last ? 0 : 0x09) | (first ? 0 : 0x80)));
        stbe16(tcp + 16, 0);
        size_t l4len = seglen - li.l4;
        stbe16(tcp + 16, net_csum_fold(net_csum_add(pseudo_sum(seg, &li, l4len), tcp, l4len)));
        out(opaque, seg, seglen);
        n++;
        off += chunk;
    } while (off < data);
    free(seg);
    return n;
}
