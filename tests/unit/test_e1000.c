/* e1000 (82540EM) driven through its registers like a driver would, with
 * the test network backend on the other end of the cable: EEPROM over
 * Microwire and EERD, PHY over MDIC, TX from a descriptor ring (legacy,
 * checksum offload, TSO), RX into guest buffers with filtering, interrupt
 * causes/mask/ITR, malformed rings; plus the net core's queue. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/machine.h"
#include "hw/e1000.h"
#include "hw/pci.h"
#include "net/net.h"
#include "tests/unit/unit.h"

#define MMIO 0xfebc0000u
#define IOB 0xc000
#define DEVFN PCI_DEVFN(3, 0)
#define TXRING 0x10000
#define RXRING 0x20000
#define TXBUF 0x30000
#define RXBUF 0x40000

typedef struct Bench {
    Machine *m;
    PCIBus *bus;
    E1000State *e;
    NetClient *peer;
    int pirq_level[4];
} Bench;

static void router(void *opaque, int pirq, int level)
{
    ((Bench *)opaque)->pirq_level[pirq] = level;
}

static Bench *bench_new(void)
{
    char err[128];
    Bench *b = calloc(1, sizeof *b);
    b->m = machine_new(16 << 20, CLOCK_MANUAL, err, sizeof err);
    ck_assert_ptr_nonnull(b->m);
    ck_assert_ptr_nonnull(memmap_add_ram(b->m->mem, "ram", 0, 16 << 20, b->m->ram, NULL));
    b->bus = pci_bus_new(b->m);
    pci_bus_set_pirq_router(b->bus, router, b);
    b->peer = test_netdev_new("peer");
    E1000Config c = { .devfn = DEVFN, .mac = { 0x52, 0x54, 0x00, 0x12, 0x34, 0x56 } };
    b->e = e1000_create(b->m, b->bus, &c, b->peer, err, sizeof err);
    ck_assert_ptr_nonnull(b->e);
    pci_bus_config_write(b->bus, DEVFN, PCI_BAR0, MMIO, 4);
    pci_bus_config_write(b->bus, DEVFN, PCI_BAR0 + 4, IOB, 4);
    pci_bus_config_write(b->bus, DEVFN, PCI_COMMAND,
                         PCI_COMMAND_IO | PCI_COMMAND_MEMORY | PCI_COMMAND_MASTER, 2);
    return b;
}

static void bench_free(Bench *b)
{
    machine_free(b->m);
    net_client_free(b->peer);
    free(b);
}

static uint32_t rd(Bench *b, uint32_t off) { return (uint32_t)memmap_read(b->m->mem, MMIO + off, 4); }
static void wr(Bench *b, uint32_t off, uint32_t v) { memmap_write(b->m->mem, MMIO + off, v, 4); }
static int irq(Bench *b) { return b->pirq_level[pci_device_pirq(e1000_pci(b->e))]; }

static void put_desc(Bench *b, uint64_t at, uint64_t addr, uint32_t w2, uint32_t w3)
{
    uint8_t *p = b->m->ram + at;
    for (int i = 0; i < 8; i++)
        p[i] = (uint8_t)(addr >> (8 * i));
    memcpy(p + 8, &w2, 4);
    memcpy(p + 12, &w3, 4);
}

START_TEST(identity_and_eeprom)
{
    Bench *b = bench_new();
    ck_assert_uint_eq(pci_bus_config_read(b->bus, DEVFN, 0, 4), 0x100e8086u);
    ck_assert_uint_eq(pci_bus_config_read(b->bus, DEVFN, PCI_CLASS_DEVICE, 2), 0x0200);
    /* EERD: the MAC and a checksum that makes the sum 0xBABA. */
    uint16_t sum = 0, w[64];
    for (int i = 0; i < 64; i++) {
        wr(b, E1000_EERD, (uint32_t)i << 8 | 1);
        uint32_t v = rd(b, E1000_EERD);
        ck_assert(v & (1u << 4));
        w[i] = (uint16_t)(v >> 16);
        sum = (uint16_t)(sum + w[i]);
    }
    ck_assert_uint_eq(sum, 0xbaba);
    ck_assert_uint_eq(w[0], 0x5452);
    ck_assert_uint_eq(w[2], 0x5634);
    /* Microwire through EECD, the way Linux's e1000 does it, via the I/O BAR. */
    iospace_write(b->m->io, IOB, E1000_EECD, 4);
    uint32_t eecd = iospace_read(b->m->io, IOB + 4, 4);
    ck_assert(eecd & (1u << 8));                     /* EE_PRES */
    eecd |= 1u << 6;                                  /* EE_REQ */
    iospace_write(b->m->io, IOB + 4, eecd, 4);
    ck_assert(iospace_read(b->m->io, IOB + 4, 4) & (1u << 7));   /* EE_GNT */
    eecd |= 2;                                        /* CS */
    wr(b, E1000_EECD, eecd);
    uint32_t cmd = 6u << 6 | 1;                       /* 110 + address 1, 9 bits */
    for (int i = 8; i >= 0; i--) {
        uint32_t di = (cmd >> i) & 1 ? 4 : 0;
        wr(b, E1000_EECD, (eecd & ~4u) | di);
        wr(b, E1000_EECD, (eecd & ~4u) | di | 1);
        wr(b, E1000_EECD, (eecd & ~4u) | di);
    }
    uint16_t data = 0;
    for (int i = 0; i < 16; i++) {
        wr(b, E1000_EECD, eecd | 1);
        data = (uint16_t)(data << 1 | ((rd(b, E1000_EECD) >> 3) & 1));
        wr(b, E1000_EECD, eecd);
    }
    ck_assert_uint_eq(data, w[1]);
    wr(b, E1000_EECD, eecd & ~2u);
    bench_free(b);
}
END_TEST

static uint16_t mdic_read(Bench *b, unsigned phy, unsigned reg)
{
    wr(b, E1000_MDIC, 2u << 26 | phy << 21 | reg << 16);
    uint32_t v = rd(b, E1000_MDIC);
    ck_assert(v & (1u << 28));
    return (uint16_t)v;
}

START_TEST(phy_and_link)
{
    Bench *b = bench_new();
    ck_assert_uint_eq(mdic_read(b, 1, 2), 0x0141);
    ck_assert_uint_eq(mdic_read(b, 1, 3), 0x0c20);
    ck_assert(mdic_read(b, 1, 1) & 0x0004);           /* link up */
    ck_assert(rd(b, E1000_STATUS) & 2);               /* STATUS.LU */
    wr(b, E1000_MDIC, 2u << 26 | 2u << 21 | 2u << 16);
    ck_assert(rd(b, E1000_MDIC) & (1u << 30));        /* no PHY at address 2 */
    /* Link down: LSC with the interrupt enabled. */
    wr(b, E1000_IMS, E1000_ICR_LSC);
    net_set_link(b->peer, false);
    ck_assert(!(rd(b, E1000_STATUS) & 2));
    ck_assert_int_eq(irq(b), 1);
    ck_assert_uint_eq(rd(b, E1000_ICR), E1000_ICR_LSC);
    ck_assert_int_eq(irq(b), 0);
    net_set_link(b->peer, true);
    ck_assert(rd(b, E1000_STATUS) & 2);
    bench_free(b);
}
END_TEST

static void tx_setup(Bench *b, uint32_t ndesc)
{
    wr(b, E1000_TDBAL, TXRING);
    wr(b, E1000_TDBAH, 0);
    wr(b, E1000_TDLEN, ndesc * 16);
    wr(b, E1000_TDH, 0);
    wr(b, E1000_TDT, 0);
    wr(b, E1000_TCTL, 2);
}

START_TEST(tx_legacy_two_buffers)
{
    Bench *b = bench_new();
    tx_setup(b, 8);
    wr(b, E1000_IMS, E1000_ICR_TXDW);
    for (int i = 0; i < 100; i++)
        b->m->ram[TXBUF + i] = (uint8_t)i;
    put_desc(b, TXRING, TXBUF, 60, 0);                            /* no EOP */
    put_desc(b, TXRING + 16, TXBUF + 60, 40 | (0x01 | 0x08) << 24, 0);   /* EOP|RS */
    wr(b, E1000_TDT, 2);
    ck_assert_uint_eq(test_netdev_count(b->peer), 1);
    size_t len;
    const uint8_t *f = test_netdev_frame(b->peer, 0, &len);
    ck_assert_uint_eq(len, 100);
    ck_assert_int_eq(f[99], 99);
    ck_assert_uint_eq(rd(b, E1000_TDH), 2);
    ck_assert(b->m->ram[TXRING + 16 + 12] & 1);                   /* DD written back */
    ck_assert_int_eq(irq(b), 1);
    ck_assert(rd(b, E1000_ICR) & E1000_ICR_TXDW);
    ck_assert_int_eq(irq(b), 0);
    ck_assert_uint_eq(rd(b, E1000_GPTC), 1);
    ck_assert_uint_eq(rd(b, E1000_GPTC), 0);                      /* clear on read */
    bench_free(b);
}
END_TEST

/* An IPv4/TCP frame: 14 + 20 + 20 header bytes and payload. */
static size_t make_tcp(uint8_t *p, size_t payload)
{
    memset(p, 0, 54 + payload);
    memcpy(p, "\x52\x54\x00\x12\x34\x57\x52\x54\x00\x12\x34\x56\x08\x00", 14);
    p[14] = 0x45;
    p[14 + 4] = 0x12;                 /* IP id 0x1234 */
    p[14 + 5] = 0x34;
    p[14 + 8] = 64;
    p[14 + 9] = 6;
    memcpy(p + 14 + 12, "\x0a\x00\x02\x0f\x0a\x00\x02\x02", 8);
    p[34 + 4] = 0x10;                 /* seq 0x10000000 */
    p[34 + 12] = 0x50;
    p[34 + 13] = 0x18 | 0x01;         /* ACK PSH FIN */
    for (size_t i = 0; i < payload; i++)
        p[54 + i] = (uint8_t)(i * 7);
    return 54 + payload;
}

static uint16_t csum(const uint8_t *p, size_t n, uint32_t sum)
{
    for (size_t i = 0; i + 1 < n; i += 2)
        sum += (uint32_t)(p[i] << 8 | p[i + 1]);
    if (n & 1)
        sum += (uint32_t)p[n - 1] << 8;
    while (sum >> 16)
        sum = (sum & 0xffff) + (sum >> 16);
    return (uint16_t)sum;
}

START_TEST(tx_tso_segments)
{
    Bench *b = bench_new();
    tx_setup(b, 8);
    size_t len = make_tcp(b->m->ram + TXBUF, 3000);
    /* Context: IPCSS 14 IPCSO 24 IPCSE 33, TUCSS 34 TUCSO 50, TSE|IP|TCP,
     * HDRLEN 54, MSS 1000. */
    uint8_t *c = b->m->ram + TXRING;
    memset(c, 0, 16);
    c[0] = 14; c[1] = 24; c[2] = 33; c[4] = 34; c[5] = 50;
    uint32_t w2 = 3000 | 0u << 20 | (uint32_t)(0x20 | 0x04 | 0x02 | 0x01) << 24;
    memcpy(c + 8, &w2, 4);
    c[13] = 54;
    c[14] = 1000 & 0xff; c[15] = 1000 >> 8;
    /* Pseudo-header sum without the length in the TCP checksum field. */
    uint8_t *tcp = b->m->ram + TXBUF + 34;
    uint16_t ph = csum(b->m->ram + TXBUF + 26, 8, 6);
    tcp[16] = (uint8_t)(ph >> 8);
    tcp[17] = (uint8_t)ph;
    put_desc(b, TXRING + 16, TXBUF, (uint32_t)len | 1u << 20 | (uint32_t)(0x20 | 0x04 | 0x01 | 0x08) << 24,
             (0x01 | 0x02) << 8);                                 /* POPTS IXSM|TXSM */
    wr(b, E1000_TDT, 2);
    ck_assert_uint_eq(test_netdev_count(b->peer), 3);
    for (int i = 0; i < 3; i++) {
        size_t n;
        const uint8_t *f = test_netdev_frame(b->peer, (size_t)i, &n);
        ck_assert_uint_eq(n, 54 + 1000);
        ck_assert_uint_eq((unsigned)(f[16] << 8 | f[17]), 1040);      /* IP total length */
        ck_assert_uint_eq((unsigned)(f[18] << 8 | f[19]), 0x1234u + (unsigned)i);
        ck_assert_uint_eq(csum(f + 14, 20, 0), 0xffff);               /* IP checksum */
        uint32_t seq = (uint32_t)f[38] << 24 | (uint32_t)f[39] << 16 | (uint32_t)f[40] << 8 | f[41];
        ck_assert_uint_eq(seq, 0x10000000u + 1000u * (unsigned)i);
        ck_assert_uint_eq(f[47] & 0x09, i == 2 ? 0x09 : 0);           /* PSH/FIN last only */
        uint32_t pseudo = csum(f + 26, 8, 6 + 1020);
        ck_assert_uint_eq(csum(f + 34, 1020, pseudo), 0xffff);        /* TCP checksum */
        ck_assert_int_eq(f[54 + 5], (uint8_t)((1000 * i + 5) * 7));
    }
    bench_free(b);
}
END_TEST

static void rx_setup(Bench *b, uint32_t ndesc, uint32_t given)
{
    for (uint32_t i = 0; i < ndesc; i++)
        put_desc(b, RXRING + 16 * i, RXBUF + 2048 * i, 0, 0);
    wr(b, E1000_RDBAL, RXRING);
    wr(b, E1000_RDLEN, ndesc * 16);
    wr(b, E1000_RDH, 0);
    wr(b, E1000_RDT, given);
    wr(b, E1000_RCTL, 2 | (1u << 15) | (1u << 26));                  /* EN BAM SECRC */
}

START_TEST(rx_into_guest_buffers)
{
    Bench *b = bench_new();
    wr(b, E1000_IMS, E1000_ICR_RXT0);
    rx_setup(b, 8, 2);
    uint8_t frame[100];
    make_tcp(frame, 46);
    frame[5] = 0x56;                                  /* to the NIC's MAC */
    ck_assert(test_netdev_inject(b->peer, frame, 100));
    ck_assert_uint_eq(rd(b, E1000_RDH), 1);
    ck_assert_int_eq(memcmp(b->m->ram + RXBUF, frame, 100), 0);
    uint8_t *d = b->m->ram + RXRING;
    ck_assert_uint_eq((unsigned)(d[8] | d[9] << 8), 100);
    ck_assert_uint_eq(d[12] & 3, 3);                                 /* DD EOP */
    ck_assert_int_eq(irq(b), 1);
    ck_assert(rd(b, E1000_ICR) & E1000_ICR_RXT0);
    /* Another MAC: filtered out. */
    frame[5] = 0x99;
    test_netdev_inject(b->peer, frame, 100);
    ck_assert_uint_eq(rd(b, E1000_RDH), 1);
    /* Multicast through the MTA (MO=0: bits 47:36). */
    uint8_t mc[60] = { 0x01, 0x00, 0x5e, 0x00, 0x00, 0xfb };
    uint32_t hash = (uint32_t)(mc[4] >> 4 | mc[5] << 4) & 0xfff;
    test_netdev_inject(b->peer, mc, 60);
    ck_assert_uint_eq(rd(b, E1000_RDH), 1);
    wr(b, E1000_MTA + 4 * (hash >> 5), 1u << (hash & 31));
    test_netdev_inject(b->peer, mc, 60);
    ck_assert_uint_eq(rd(b, E1000_RDH), 2);
    /* Ring full (RDH == RDT): the frame waits and arrives when the guest
     * gives buffers. */
    frame[5] = 0x56;
    test_netdev_inject(b->peer, frame, 100);
    ck_assert_uint_eq(rd(b, E1000_RDH), 2);
    wr(b, E1000_RDT, 5);
    ck_assert_uint_eq(rd(b, E1000_RDH), 3);
    ck_assert_uint_eq(rd(b, E1000_GPRC), 3);
    /* Short frame padded, FCS appended without SECRC. */
    wr(b, E1000_RCTL, 2 | (1u << 15));
    uint8_t arp[42];
    memset(arp, 0xff, 6);
    memset(arp + 6, 0x11, 36);
    test_netdev_inject(b->peer, arp, 42);
    d = b->m->ram + RXRING + 3 * 16;
    ck_assert_uint_eq((unsigned)(d[8] | d[9] << 8), 64);
    bench_free(b);
}
END_TEST

START_TEST(interrupt_mask_and_itr)
{
    Bench *b = bench_new();
    wr(b, E1000_ICS, E1000_ICR_TXQE);
    ck_assert_int_eq(irq(b), 0);                       /* masked */
    wr(b, E1000_IMS, E1000_ICR_TXQE);
    ck_assert_int_eq(irq(b), 1);
    ck_assert_uint_eq(rd(b, E1000_IMS), E1000_ICR_TXQE);
    wr(b, E1000_IMC, E1000_ICR_TXQE);
    ck_assert_int_eq(irq(b), 0);
    wr(b, E1000_IMS, E1000_ICR_TXQE);
    ck_assert_int_eq(irq(b), 1);
    rd(b, E1000_ICR);
    ck_assert_int_eq(irq(b), 0);
    /* ITR 1000 * 256 ns: the next assertion waits 256 us. */
    wr(b, E1000_ITR, 1000);
    wr(b, E1000_ICS, E1000_ICR_TXQE);
    ck_assert_int_eq(irq(b), 0);
    clock_advance(b->m->clock, 255000);
    ck_assert_int_eq(irq(b), 0);
    clock_advance(b->m->clock, 2000);
    ck_assert_int_eq(irq(b), 1);
    /* RDTR: RXT0 delayed by 10 * 1.024 us. */
    rd(b, E1000_ICR);
    wr(b, E1000_ITR, 0);
    wr(b, E1000_RDTR, 10);
    wr(b, E1000_IMS, E1000_ICR_RXT0);
    rx_setup(b, 8, 3);
    uint8_t frame[60];
    make_tcp(frame, 6);
    frame[5] = 0x56;
    test_netdev_inject(b->peer, frame, 60);
    ck_assert_int_eq(irq(b), 0);
    clock_advance(b->m->clock, 11000);
    ck_assert_int_eq(irq(b), 1);
    bench_free(b);
}
END_TEST

START_TEST(malformed_rings)
{
    Bench *b = bench_new();
    /* Ring outside RAM, indices beyond the ring, a buffer outside RAM, a
     * length of 1 MiB, TSO with a zero MSS: nothing crashes, nothing is
     * written outside RAM. */
    wr(b, E1000_TDBAL, 0xfff00000);
    wr(b, E1000_TDLEN, 4096);
    wr(b, E1000_TCTL, 2);
    wr(b, E1000_TDT, 77);
    tx_setup(b, 4);
    put_desc(b, TXRING, 0xffffff000ull, 1000 | (0x01 | 0x08) << 24, 0);
    put_desc(b, TXRING + 16, TXBUF, 0xfffff | 1u << 20 | (uint32_t)(0x20 | 0x01) << 24, 0);
    uint8_t *c = b->m->ram + TXRING + 32;
    memset(c, 0, 16);
    uint32_t w2 = (uint32_t)(0x20 | 0x04) << 24;
    memcpy(c + 8, &w2, 4);
    put_desc(b, TXRING + 48, TXBUF, 200 | 1u << 20 | (uint32_t)(0x20 | 0x04 | 0x01) << 24, 0);
    wr(b, E1000_TDT, 0x1234);                          /* taken modulo 4 */
    wr(b, E1000_TDT, 3);
    wr(b, E1000_TDT, 0);
    ck_assert_uint_lt(rd(b, E1000_TDH), 4);
    ck_assert_uint_eq(test_netdev_count(b->peer), 0);
    /* RX ring pointing past RAM, then a buffer past RAM. */
    wr(b, E1000_RDBAL, 0xfffffff0);
    wr(b, E1000_RDLEN, 128);
    wr(b, E1000_RDT, 5);
    wr(b, E1000_RCTL, 2 | (1u << 15) | (1u << 3));
    uint8_t frame[60] = { 0 };
    test_netdev_inject(b->peer, frame, 60);
    rx_setup(b, 8, 3);
    wr(b, E1000_RCTL, 2 | (1u << 3));
    put_desc(b, RXRING, 0x7ffffff0ull, 0, 0);
    test_netdev_inject(b->peer, frame, 60);
    ck_assert(b->m->ram[RXRING + 13] & 0x80);          /* RXE */
    /* A frame too long without LPE is dropped. */
    static uint8_t big[4000];
    test_netdev_inject(b->peer, big, sizeof big);
    ck_assert_uint_eq(rd(b, E1000_RDH), 1);
    /* Every register offset read and written with junk. */
    for (uint32_t off = 0; off < 0x20000; off += 4) {
        if (off == E1000_CTRL)
            continue;
        wr(b, off, 0xdeadbeef);
        rd(b, off);
    }
    bench_free(b);
}
END_TEST

START_TEST(net_queue_bounded)
{
    NetClient *a = test_netdev_new("a");
    NetClient *z = test_netdev_new("z");
    uint8_t f[64] = { 1 };
    ck_assert(!net_send(a, f, sizeof f));              /* no peer */
    net_client_connect(a, z);
    ck_assert(net_send(a, f, sizeof f));
    ck_assert_uint_eq(test_netdev_count(z), 1);
    net_set_link(a, false);
    ck_assert(!net_send(a, f, sizeof f));
    net_set_link(a, true);
    ck_assert(!net_send(a, f, NET_MAX_FRAME + 1));
    net_client_free(z);
    ck_assert_ptr_null(a->peer);
    net_client_free(a);
    uint8_t mac[6];
    ck_assert(net_parse_mac("52:54:00:ab:CD:ef", mac));
    ck_assert_uint_eq(mac[4], 0xcd);
    ck_assert(!net_parse_mac("52:54:00:ab:cd", mac));
    char err[256];
    ck_assert(netdev_check("user,id=a,net=192.168.7.0/24,hostfwd=tcp::2222-:22", err, sizeof err));
    ck_assert(!netdev_check("user,id=a,hostfwd=tcp:2222:22", err, sizeof err));
    ck_assert(!netdev_check("user,id=a,bogus=1", err, sizeof err));
    ck_assert(netdev_check("socket,id=a,listen=:5555", err, sizeof err));
    ck_assert(!netdev_check("socket,id=a,listen=:5555,connect=localhost:1", err, sizeof err));
    ck_assert(netdev_check("stream,id=a,server=on,addr.type=inet,addr.host=127.0.0.1,addr.port=5555", err, sizeof err));
    ck_assert(netdev_check("dgram,id=a,remote.type=inet,remote.host=230.0.0.1,remote.port=5555", err, sizeof err));
    ck_assert(!netdev_check("tap,id=a,ifname=tap0,script=/etc/qemu-ifup", err, sizeof err));
}
END_TEST

/* A stream netdev pair over loopback: frames cross in QEMU's format. */
START_TEST(socket_pair_loopback)
{
    char err[256];
    Machine *m = machine_new(16 << 20, CLOCK_MANUAL, err, sizeof err);
    int port = 20000 + (getpid() % 20000);
    char spec[128];
    snprintf(spec, sizeof spec, "socket,id=s,listen=127.0.0.1:%d", port);
    NetClient *srv = netdev_open(m, spec, NULL, err, sizeof err);
    ck_assert_msg(srv != NULL, "%s", err);
    snprintf(spec, sizeof spec, "socket,id=c,connect=127.0.0.1:%d", port);
    NetClient *cli = netdev_open(m, spec, NULL, err, sizeof err);
    ck_assert_msg(cli != NULL, "%s", err);
    NetClient *ns = test_netdev_new("ns"), *nc = test_netdev_new("nc");
    net_client_connect(ns, srv);
    net_client_connect(nc, cli);
    for (int i = 0; i < 20 && test_netdev_count(ns) == 0; i++) {
        uint8_t f[1500];
        memset(f, i, sizeof f);
        if (i > 2)
            net_send(nc, f, sizeof f);
        machine_poll(m, 10);
    }
    ck_assert_uint_ge(test_netdev_count(ns), 1);
    size_t len;
    test_netdev_frame(ns, 0, &len);
    ck_assert_uint_eq(len, 1500);
    machine_free(m);
    net_client_free(ns);
    net_client_free(nc);
}
END_TEST

static Suite *e1000_suite(void)
{
    Suite *s = suite_create("e1000");
    TCase *t = tcase_create("e1000");
    tcase_add_test(t, identity_and_eeprom);
    tcase_add_test(t, phy_and_link);
    tcase_add_test(t, tx_legacy_two_buffers);
    tcase_add_test(t, tx_tso_segments);
    tcase_add_test(t, rx_into_guest_buffers);
    tcase_add_test(t, interrupt_mask_and_itr);
    tcase_add_test(t, malformed_rings);
    tcase_add_test(t, net_queue_bounded);
    tcase_add_test(t, socket_pair_loopback);
    suite_add_tcase(s, t);
    return s;
}

UNIT_SUITE(e1000_suite)
