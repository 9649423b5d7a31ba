/* MSI-X, the virtio PCI transport, split virtqueues, virtio-blk and
 * virtio-rng, driven through their registers with no guest: the test
 * builds virtqueues in guest RAM as a driver would, including every kind
 * of malformed descriptor the device must refuse. */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "block/block.h"
#include "core/machine.h"
#include "hw/lapic.h"
#include "hw/msix.h"
#include "hw/pci.h"
#include "hw/virtio-blk.h"
#include "hw/virtio-pci.h"
#include "hw/virtio-rng.h"
#include "tests/unit/unit.h"

#define RAM_SIZE   (4u << 20)
#define DEVFN      PCI_DEVFN(3, 0)
#define IO_BASE    0xc000
#define MSIX_BASE  0xfe000000u
#define MOD_BASE   0xfe004000u
#define DISK_SECS  256u
#define QSZ        16
/* Guest RAM layout of the test driver. */
#define DESC       0x10000
#define AVAIL      0x11000
#define USED       0x12000
#define HDR        0x20000
#define DATA       0x30000
#define STATUS     0x40000
#define ITABLE     0x50000
#define MSI_ADDR   0xfee00000u

typedef struct Bench {
    Machine *m;
    PCIBus *bus;
    BlockBackend *bb;
    char path[64];
    VirtIOBlk *blk;
    VirtIORNG *rng;
    VirtIOPCIState *t;
    int nmsi;
    uint32_t msi_data[64];
    uint16_t avail_idx;
} Bench;

static void bench_msi(void *opaque, uint64_t addr, uint32_t data)
{
    Bench *b = opaque;
    ck_assert_uint_eq(addr, MSI_ADDR);
    if (b->nmsi < 64)
        b->msi_data[b->nmsi] = data;
    b->nmsi++;
}

static uint8_t pattern(uint64_t s, unsigned i)
{
    return (uint8_t)(s * 3 + i * 7 + 1);
}

static Bench *bench_new(bool rng, int nq)
{
    char err[128];
    Bench *b = calloc(1, sizeof(*b));
    b->m = machine_new(RAM_SIZE, CLOCK_MANUAL, err, sizeof err);
    ck_assert_ptr_nonnull(b->m);
    ck_assert_ptr_nonnull(memmap_add_ram(b->m->mem, "ram", 0, RAM_SIZE, b->m->ram, NULL));
    b->bus = pci_bus_new(b->m);
    pci_bus_set_msi_handler(b->bus, bench_msi, b);
    VirtIODevice *vdev;
    if (rng) {
        b->rng = virtio_rng_create(b->m);
        vdev = virtio_rng_vdev(b->rng);
    } else {
        strcpy(b->path, "/tmp/vx86-vblk-XXXXXX");
        int fd = mkstemp(b->path);
        ck_assert_int_ge(fd, 0);
        uint8_t sec[512];
        for (unsigned s = 0; s < DISK_SECS; s++) {
            for (unsigned i = 0; i < 512; i++)
                sec[i] = pattern(s, i);
            ck_assert_int_eq(pwrite(fd, sec, 512, s * 512), 512);
        }
        close(fd);
        BlockOpenOptions o = { .filename = b->path, .format = "raw", .no_lock = true };
        b->bb = blk_open(&o, err, sizeof err);
        ck_assert_msg(b->bb != NULL, "%s", err);
        b->blk = virtio_blk_create(b->m, b->bb, &(VirtIOBlkConfig){ .num_queues = nq,
                                                                     .serial = "vx86-serial" });
        vdev = virtio_blk_vdev(b->blk);
    }
    b->t = virtio_pci_create(b->m, b->bus, DEVFN, vdev, err, sizeof err);
    ck_assert_msg(b->t != NULL, "%s", err);
    machine_reset_devices(b->m);
    pci_bus_config_write(b->bus, DEVFN, PCI_BAR0, IO_BASE, 4);
    pci_bus_config_write(b->bus, DEVFN, PCI_BAR0 + 4, MSIX_BASE, 4);
    pci_bus_config_write(b->bus, DEVFN, PCI_BAR0 + 16, MOD_BASE, 4);
    pci_bus_config_write(b->bus, DEVFN, PCI_COMMAND,
                         PCI_COMMAND_IO | PCI_COMMAND_MEMORY | PCI_COMMAND_MASTER, 2);
    return b;
}

static void bench_free(Bench *b)
{
    if (b->bb)
        blk_drain(b->bb);
    machine_free(b->m);
    blk_close(b->bb);
    if (b->path[0])
        unlink(b->path);
    free(b);
}

/* ---- register access ---- */

static uint32_t cr(Bench *b, uint32_t off, unsigned size)
{
    return (uint32_t)memmap_read(b->m->mem, MOD_BASE + off, size);
}

static void cw(Bench *b, uint32_t off, uint32_t v, unsigned size)
{
    memmap_write(b->m->mem, MOD_BASE + off, v, size);
}

static void w16(Bench *b, uint64_t a, uint16_t v) { memcpy(b->m->ram + a, &v, 2); }
static void w32(Bench *b, uint64_t a, uint32_t v) { memcpy(b->m->ram + a, &v, 4); }
static void w64(Bench *b, uint64_t a, uint64_t v) { memcpy(b->m->ram + a, &v, 8); }
static uint16_t r16(Bench *b, uint64_t a) { uint16_t v; memcpy(&v, b->m->ram + a, 2); return v; }
static uint32_t r32(Bench *b, uint64_t a) { uint32_t v; memcpy(&v, b->m->ram + a, 4); return v; }

static void desc(Bench *b, uint64_t table, int i, uint64_t addr, uint32_t len, uint16_t flags,
                 uint16_t next)
{
    uint64_t d = table + 16ULL * i;
    w64(b, d, addr);
    w32(b, d + 8, len);
    w16(b, d + 12, flags);
    w16(b, d + 14, next);
}

/* A driver's bring-up of the modern interface: features (the device's
 * set masked with want), queues 0..nq-1 of QSZ at DESC/AVAIL/USED +
 * 0x4000 * q, MSI-X vectors config 0 and queue q -> q + 1. */
static void driver_init(Bench *b, uint64_t want, int nq)
{
    cw(b, VIRTIO_PCI_COMMON_STATUS, 0, 1);
    cw(b, VIRTIO_PCI_COMMON_STATUS, VIRTIO_STATUS_ACKNOWLEDGE | VIRTIO_STATUS_DRIVER, 1);
    cw(b, VIRTIO_PCI_COMMON_DFSELECT, 0, 4);
    uint64_t f = cr(b, VIRTIO_PCI_COMMON_DF, 4);
    cw(b, VIRTIO_PCI_COMMON_DFSELECT, 1, 4);
    f |= (uint64_t)cr(b, VIRTIO_PCI_COMMON_DF, 4) << 32;
    f &= want;
    cw(b, VIRTIO_PCI_COMMON_GFSELECT, 0, 4);
    cw(b, VIRTIO_PCI_COMMON_GF, (uint32_t)f, 4);
    cw(b, VIRTIO_PCI_COMMON_GFSELECT, 1, 4);
    cw(b, VIRTIO_PCI_COMMON_GF, (uint32_t)(f >> 32), 4);
    cw(b, VIRTIO_PCI_COMMON_STATUS, 0x0b, 1);
    ck_assert_uint_eq(cr(b, VIRTIO_PCI_COMMON_STATUS, 1), 0x0b);
    /* MSI-X on: enable bit in the capability, entries unmasked. */
    PCIDevice *d = virtio_pci_device(b->t);
    int cap = pci_find_capability(d, PCI_CAP_ID_MSIX);
    ck_assert_int_gt(cap, 0);
    pci_bus_config_write(b->bus, DEVFN, (uint32_t)cap + 2, MSIX_CTRL_ENABLE, 2);
    for (int v = 0; v <= nq; v++) {
        memmap_write(b->m->mem, MSIX_BASE + 16 * v, MSI_ADDR, 4);
        memmap_write(b->m->mem, MSIX_BASE + 16 * v + 8, 0x40 + v, 4);
        memmap_write(b->m->mem, MSIX_BASE + 16 * v + 12, 0, 4);
    }
    cw(b, VIRTIO_PCI_COMMON_MSIX, 0, 2);
    for (int q = 0; q < nq; q++) {
        memset(b->m->ram + AVAIL + 0x4000 * q, 0, 0x2000);      /* fresh rings */
        cw(b, VIRTIO_PCI_COMMON_Q_SELECT, (uint32_t)q, 2);
        cw(b, VIRTIO_PCI_COMMON_Q_SIZE, QSZ, 2);
        cw(b, VIRTIO_PCI_COMMON_Q_DESCLO, DESC + 0x4000 * q, 4);
        cw(b, VIRTIO_PCI_COMMON_Q_AVAILLO, AVAIL + 0x4000 * q, 4);
        cw(b, VIRTIO_PCI_COMMON_Q_USEDLO, USED + 0x4000 * q, 4);
        cw(b, VIRTIO_PCI_COMMON_Q_MSIX, (uint32_t)q + 1, 2);
        ck_assert_uint_eq(cr(b, VIRTIO_PCI_COMMON_Q_MSIX, 2), (uint32_t)q + 1);
        cw(b, VIRTIO_PCI_COMMON_Q_ENABLE, 1, 2);
    }
    cw(b, VIRTIO_PCI_COMMON_STATUS, 0x0f, 1);
    b->avail_idx = 0;
}

/* Makes head available on queue 0 and notifies; completes async I/O. */
static void kick(Bench *b, uint16_t head)
{
    w16(b, AVAIL + 4 + 2 * (b->avail_idx % QSZ), head);
    b->avail_idx++;
    w16(b, AVAIL + 2, b->avail_idx);
    cw(b, VIRTIO_PCI_NOTIFY_OFF, 0, 2);
    if (b->bb)
        blk_drain(b->bb);
}

static uint8_t status(Bench *b)
{
    return (uint8_t)cr(b, VIRTIO_PCI_COMMON_STATUS, 1);
}

static const uint64_t ALL = ~0ULL;

/* A 3-descriptor block request: header, data, status. */
static void blk_req(Bench *b, uint32_t type, uint64_t sector, uint32_t len, bool data_in)
{
    w32(b, HDR, type);
    w32(b, HDR + 4, 0);
    w64(b, HDR + 8, sector);
    b->m->ram[STATUS] = 0xee;
    desc(b, DESC, 0, HDR, 16, VIRTQ_DESC_F_NEXT, 1);
    desc(b, DESC, 1, DATA, len, VIRTQ_DESC_F_NEXT | (data_in ? VIRTQ_DESC_F_WRITE : 0), 2);
    desc(b, DESC, 2, STATUS, 1, VIRTQ_DESC_F_WRITE, 0);
    kick(b, 0);
}

/* ---- tests ---- */

START_TEST(test_lapic_msi)
{
    char err[64];
    Machine *m = machine_new(1 << 20, CLOCK_MANUAL, err, sizeof err);
    IRQLine intr;
    irq_init(&intr, NULL, NULL, 0);
    LAPICState *l = lapic_create(m, 0, true, false, &intr);
    lapic_mmio_write(l, APIC_SVR, 0x1ff);
    ck_assert(lapic_deliver_msi(l, 0xfee00000u, 0x41));                 /* fixed, physical 0 */
    ck_assert(lapic_has_interrupt(l));
    ck_assert_int_eq(lapic_ack_interrupt(l), 0x41);
    lapic_mmio_write(l, APIC_EOI, 0);
    ck_assert(!lapic_deliver_msi(l, 0xfee01000u, 0x42));                /* APIC id 1: not us */
    ck_assert(lapic_deliver_msi(l, 0xfeeff000u, 0x143));                /* broadcast, lowest */
    ck_assert_int_eq(lapic_ack_interrupt(l), 0x43);
    ck_assert(!lapic_deliver_msi(l, 0xfed00000u, 0x44));                /* not the window */
    ck_assert(!lapic_deliver_msi(l, 0xfee00000u, 0x544));               /* INIT: refused */
    ck_assert(!lapic_has_interrupt(l));
    machine_free(m);
}
END_TEST

START_TEST(test_caps_and_msix_masking)
{
    Bench *b = bench_new(false, 1);
    PCIDevice *d = virtio_pci_device(b->t);
    ck_assert(pci_bus_config_read(b->bus, DEVFN, PCI_STATUS, 2) & PCI_STATUS_CAP_LIST);
    /* Walk the list like a driver: the four virtio structures, the
     * configuration access window and MSI-X. */
    int seen[8] = { 0 }, msix = 0, n = 0;
    for (uint32_t c = pci_bus_config_read(b->bus, DEVFN, PCI_CAPABILITY_LIST, 1); c;
         c = pci_bus_config_read(b->bus, DEVFN, c + 1, 1)) {
        ck_assert_int_lt(++n, 10);
        uint32_t id = pci_bus_config_read(b->bus, DEVFN, c, 1);
        if (id == PCI_CAP_ID_MSIX)
            msix++;
        else if (id == PCI_CAP_ID_VNDR)
            seen[pci_bus_config_read(b->bus, DEVFN, c + 3, 1) & 7]++;
    }
    ck_assert_int_eq(msix, 1);
    for (int t = 1; t <= 5; t++)
        ck_assert_int_eq(seen[t], 1);
    /* Capability bytes are read-only. */
    int cap = pci_find_capability(d, PCI_CAP_ID_MSIX);
    pci_bus_config_write(b->bus, DEVFN, (uint32_t)cap + 4, 0x12345678, 4);
    ck_assert_uint_eq(pci_bus_config_read(b->bus, DEVFN, (uint32_t)cap + 4, 4), 1);  /* BIR 1 */
    ck_assert_uint_eq(pci_bus_config_read(b->bus, DEVFN, (uint32_t)cap + 2, 2), 1);  /* 2 vectors */

    /* Masked vector: pending bit, sent on unmask (no event index, so
     * every completion interrupts). */
    driver_init(b, ALL & ~(1ULL << VIRTIO_F_EVENT_IDX), 1);
    memmap_write(b->m->mem, MSIX_BASE + 16 + 12, 1, 4);                  /* mask vector 1 */
    blk_req(b, VIRTIO_BLK_T_IN, 0, 512, true);
    ck_assert_int_eq(b->nmsi, 0);
    ck_assert_uint_eq(memmap_read(b->m->mem, MSIX_BASE + MSIX_PBA_OFFSET, 4), 2);
    memmap_write(b->m->mem, MSIX_BASE + 16 + 12, 0, 4);
    ck_assert_int_eq(b->nmsi, 1);
    ck_assert_uint_eq(b->msi_data[0], 0x41);
    ck_assert_uint_eq(memmap_read(b->m->mem, MSIX_BASE + MSIX_PBA_OFFSET, 4), 0);
    /* Function mask: the same through the control word. */
    pci_bus_config_write(b->bus, DEVFN, (uint32_t)cap + 2, MSIX_CTRL_ENABLE | MSIX_CTRL_MASKALL, 2);
    blk_req(b, VIRTIO_BLK_T_IN, 1, 512, true);
    ck_assert_int_eq(b->nmsi, 1);
    pci_bus_config_write(b->bus, DEVFN, (uint32_t)cap + 2, MSIX_CTRL_ENABLE, 2);
    ck_assert_int_eq(b->nmsi, 2);
    /* No bus mastering, no messages (and no queue processing). */
    pci_bus_config_write(b->bus, DEVFN, PCI_COMMAND, PCI_COMMAND_MEMORY, 2);
    blk_req(b, VIRTIO_BLK_T_IN, 2, 512, true);
    ck_assert_int_eq(b->nmsi, 2);
    ck_assert_uint_eq(r16(b, USED + 2), 2);
    bench_free(b);
}
END_TEST

START_TEST(test_blk_requests)
{
    Bench *b = bench_new(false, 1);
    ck_assert_uint_eq(pci_bus_config_read(b->bus, DEVFN, PCI_DEVICE_ID, 2), 0x1001);
    ck_assert_uint_eq(pci_bus_config_read(b->bus, DEVFN, PCI_SUBSYSTEM_ID, 2), 2);
    driver_init(b, ALL, 1);
    ck_assert_uint_eq(cr(b, VIRTIO_PCI_DEVICE_OFF, 4), DISK_SECS);      /* capacity */
    ck_assert_uint_eq(cr(b, VIRTIO_PCI_DEVICE_OFF + 20, 4), 512);       /* blk_size */
    /* Read sectors 5-6. */
    blk_req(b, VIRTIO_BLK_T_IN, 5, 1024, true);
    ck_assert_uint_eq(b->m->ram[STATUS], VIRTIO_BLK_S_OK);
    ck_assert_uint_eq(r16(b, USED + 2), 1);
    ck_assert_uint_eq(r32(b, USED + 4), 0);                              /* id */
    ck_assert_uint_eq(r32(b, USED + 8), 1025);                           /* len */
    for (unsigned i = 0; i < 1024; i++)
        ck_assert_uint_eq(b->m->ram[DATA + i], pattern(5 + i / 512, i % 512));
    ck_assert_int_eq(b->nmsi, 1);
    ck_assert_uint_eq(b->msi_data[0], 0x41);
    /* Write sector 9, read it back, check the file. */
    memset(b->m->ram + DATA, 0x5a, 512);
    blk_req(b, VIRTIO_BLK_T_OUT, 9, 512, false);
    ck_assert_uint_eq(b->m->ram[STATUS], VIRTIO_BLK_S_OK);
    memset(b->m->ram + DATA, 0, 512);
    blk_req(b, VIRTIO_BLK_T_IN, 9, 512, true);
    ck_assert_uint_eq(b->m->ram[DATA + 100], 0x5a);
    uint8_t sec[512];
    ck_assert_int_eq(blk_pread(b->bb, 9 * 512, sec, 512), 0);
    ck_assert_uint_eq(sec[511], 0x5a);
    /* Flush, get-id. */
    w32(b, HDR, VIRTIO_BLK_T_FLUSH);
    desc(b, DESC, 0, HDR, 16, VIRTQ_DESC_F_NEXT, 2);
    b->m->ram[STATUS] = 0xee;
    kick(b, 0);
    ck_assert_uint_eq(b->m->ram[STATUS], VIRTIO_BLK_S_OK);
    blk_req(b, VIRTIO_BLK_T_GET_ID, 0, 20, true);
    ck_assert_uint_eq(b->m->ram[STATUS], VIRTIO_BLK_S_OK);
    ck_assert_str_eq((char *)b->m->ram + DATA, "vx86-serial");
    /* Write zeroes on sectors 10-11, discard of sectors 16-31 (a hole in
     * the raw image: reads as zeros), discard with unmap. */
    w64(b, DATA, 10);
    w32(b, DATA + 8, 2);
    w32(b, DATA + 12, 0);
    blk_req(b, VIRTIO_BLK_T_WRITE_ZEROES, 0, 16, false);
    ck_assert_uint_eq(b->m->ram[STATUS], VIRTIO_BLK_S_OK);
    ck_assert_int_eq(blk_pread(b->bb, 10 * 512, sec, 512), 0);
    ck_assert_uint_eq(sec[7], 0);
    ck_assert_int_eq(blk_pread(b->bb, 12 * 512, sec, 512), 0);
    ck_assert_uint_eq(sec[7], pattern(12, 7));
    ck_assert_int_eq(blk_pread(b->bb, 20 * 512, sec, 512), 0);
    ck_assert_uint_eq(sec[7], pattern(20, 7));
    w64(b, DATA, 16);
    w32(b, DATA + 8, 16);
    blk_req(b, VIRTIO_BLK_T_DISCARD, 0, 16, false);
    ck_assert_uint_eq(b->m->ram[STATUS], VIRTIO_BLK_S_OK);
    for (unsigned s = 16; s < 32; s++) {
        ck_assert_int_eq(blk_pread(b->bb, s * 512, sec, 512), 0);
        ck_assert_uint_eq(sec[7] | sec[300], 0);
    }
    ck_assert_int_eq(blk_pread(b->bb, 32 * 512, sec, 512), 0);
    ck_assert_uint_eq(sec[7], pattern(32, 7));
    w32(b, DATA + 8, 0x400000);                                         /* over the limit */
    blk_req(b, VIRTIO_BLK_T_DISCARD, 0, 16, false);
    ck_assert_uint_eq(b->m->ram[STATUS], VIRTIO_BLK_S_IOERR);
    w64(b, DATA, DISK_SECS - 1);                                        /* past the end */
    w32(b, DATA + 8, 2);
    blk_req(b, VIRTIO_BLK_T_DISCARD, 0, 16, false);
    ck_assert_uint_eq(b->m->ram[STATUS], VIRTIO_BLK_S_IOERR);
    w32(b, DATA + 12, 1);
    blk_req(b, VIRTIO_BLK_T_DISCARD, 0, 16, false);
    ck_assert_uint_eq(b->m->ram[STATUS], VIRTIO_BLK_S_UNSUPP);
    /* Failures that are the request's, not the device's. */
    blk_req(b, VIRTIO_BLK_T_IN, DISK_SECS - 1, 1024, true);               /* past the end */
    ck_assert_uint_eq(b->m->ram[STATUS], VIRTIO_BLK_S_IOERR);
    blk_req(b, VIRTIO_BLK_T_IN, ~0ULL, 512, true);                        /* sector overflow */
    ck_assert_uint_eq(b->m->ram[STATUS], VIRTIO_BLK_S_IOERR);
    blk_req(b, VIRTIO_BLK_T_IN, 0, 100, true);                            /* not whole sectors */
    ck_assert_uint_eq(b->m->ram[STATUS], VIRTIO_BLK_S_IOERR);
    blk_req(b, 77, 0, 512, true);
    ck_assert_uint_eq(b->m->ram[STATUS], VIRTIO_BLK_S_UNSUPP);
    ck_assert_uint_eq(status(b) & VIRTIO_STATUS_NEEDS_RESET, 0);
    bench_free(b);
}
END_TEST

START_TEST(test_blk_indirect_and_event_idx)
{
    Bench *b = bench_new(false, 1);
    driver_init(b, ALL, 1);
    /* One indirect table holding header, two data pieces and status. */
    w32(b, HDR, VIRTIO_BLK_T_IN);
    w64(b, HDR + 8, 3);
    desc(b, ITABLE, 0, HDR, 16, VIRTQ_DESC_F_NEXT, 1);
    desc(b, ITABLE, 1, DATA, 200, VIRTQ_DESC_F_NEXT | VIRTQ_DESC_F_WRITE, 2);
    desc(b, ITABLE, 2, DATA + 0x1000, 312, VIRTQ_DESC_F_NEXT | VIRTQ_DESC_F_WRITE, 3);
    desc(b, ITABLE, 3, STATUS, 1, VIRTQ_DESC_F_WRITE, 0);
    desc(b, DESC, 0, ITABLE, 64, VIRTQ_DESC_F_INDIRECT, 0);
    /* Event index: ask for an interrupt only after used entry 2. */
    w16(b, AVAIL + 4 + 2 * QSZ, 1);
    kick(b, 0);
    ck_assert_uint_eq(b->m->ram[STATUS], VIRTIO_BLK_S_OK);
    ck_assert_uint_eq(b->m->ram[DATA + 199], pattern(3, 199));
    ck_assert_uint_eq(b->m->ram[DATA + 0x1000], pattern(3, 200));
    ck_assert_int_eq(b->nmsi, 0);                       /* used_event 1 not passed yet */
    ck_assert_uint_eq(r16(b, USED + 4 + 8 * QSZ), 1);   /* avail_event: next wanted */
    kick(b, 0);
    ck_assert_int_eq(b->nmsi, 1);                       /* used idx 2 passed event 1 */
    /* Without event index: the NO_INTERRUPT flag. */
    driver_init(b, ALL & ~(1ULL << VIRTIO_F_EVENT_IDX), 1);
    w16(b, AVAIL, VIRTQ_AVAIL_F_NO_INTERRUPT);
    kick(b, 0);
    ck_assert_int_eq(b->nmsi, 1);
    w16(b, AVAIL, 0);
    kick(b, 0);
    ck_assert_int_eq(b->nmsi, 2);
    bench_free(b);
}
END_TEST

/* Each malformed case: the device sets NEEDS_RESET, sends the config
 * vector (0x40), uses nothing; after a reset it works again. */
typedef void (*BadFn)(Bench *b);

static void bad_addr(Bench *b)        { desc(b, DESC, 0, HDR, 16, 1, 1);
                                        desc(b, DESC, 1, RAM_SIZE - 256, 512, 3, 2);
                                        desc(b, DESC, 2, STATUS, 1, 2, 0); kick(b, 0); }
static void bad_mmio(Bench *b)        { desc(b, DESC, 0, HDR, 16, 1, 1);
                                        desc(b, DESC, 1, MOD_BASE, 512, 3, 2);
                                        desc(b, DESC, 2, STATUS, 1, 2, 0); kick(b, 0); }
static void bad_wrap(Bench *b)        { desc(b, DESC, 0, HDR, 16, 1, 1);
                                        desc(b, DESC, 1, ~0ULL - 100, 512, 3, 2);
                                        desc(b, DESC, 2, STATUS, 1, 2, 0); kick(b, 0); }
static void bad_loop(Bench *b)        { desc(b, DESC, 0, HDR, 16, 1, 1);
                                        desc(b, DESC, 1, DATA, 512, 3, 0); kick(b, 0); }
static void bad_next(Bench *b)        { desc(b, DESC, 0, HDR, 16, 1, QSZ); kick(b, 0); }
static void bad_head(Bench *b)        { kick(b, QSZ + 3); }
static void bad_avail(Bench *b)       { w16(b, AVAIL + 2, QSZ + 5);
                                        cw(b, VIRTIO_PCI_NOTIFY_OFF, 0, 2); }
static void bad_nested(Bench *b)      { desc(b, ITABLE, 0, ITABLE + 0x100, 32, VIRTQ_DESC_F_INDIRECT, 0);
                                        desc(b, DESC, 0, ITABLE, 16, VIRTQ_DESC_F_INDIRECT, 0); kick(b, 0); }
static void bad_ind_next(Bench *b)    { desc(b, ITABLE, 0, HDR, 16, 0, 0);
                                        desc(b, DESC, 0, ITABLE, 16, VIRTQ_DESC_F_INDIRECT | 1, 1);
                                        kick(b, 0); }
static void bad_ind_len(Bench *b)     { desc(b, DESC, 0, ITABLE, 24, VIRTQ_DESC_F_INDIRECT, 0); kick(b, 0); }
static void bad_ind_huge(Bench *b)    { desc(b, DESC, 0, ITABLE, 16 * 2048, VIRTQ_DESC_F_INDIRECT, 0); kick(b, 0); }
static void bad_ind_out(Bench *b)     { desc(b, DESC, 0, RAM_SIZE - 16, 64, VIRTQ_DESC_F_INDIRECT, 0); kick(b, 0); }
static void bad_ind_loop(Bench *b)    { desc(b, ITABLE, 0, HDR, 16, 1, 1);
                                        desc(b, ITABLE, 1, DATA, 16, 1, 0);
                                        desc(b, DESC, 0, ITABLE, 32, VIRTQ_DESC_F_INDIRECT, 0); kick(b, 0); }
static void bad_order(Bench *b)       { desc(b, DESC, 0, STATUS, 1, 3, 1);
                                        desc(b, DESC, 1, HDR, 16, 0, 0); kick(b, 0); }
static void bad_noheader(Bench *b)    { desc(b, DESC, 0, HDR, 8, 1, 1);
                                        desc(b, DESC, 1, STATUS, 1, 2, 0); kick(b, 0); }
static void bad_nostatus(Bench *b)    { desc(b, DESC, 0, HDR, 16, 0, 0); kick(b, 0); }
static void bad_ring(Bench *b)        { cw(b, VIRTIO_PCI_COMMON_STATUS, 0, 1);
                                        cw(b, VIRTIO_PCI_COMMON_GFSELECT, 1, 4);
                                        cw(b, VIRTIO_PCI_COMMON_GF, 1, 4);      /* VERSION_1 */
                                        cw(b, VIRTIO_PCI_COMMON_STATUS, 0x0b, 1);
                                        cw(b, VIRTIO_PCI_COMMON_MSIX, 0, 2);
                                        cw(b, VIRTIO_PCI_COMMON_Q_SELECT, 0, 2);
                                        cw(b, VIRTIO_PCI_COMMON_Q_AVAILLO, RAM_SIZE + 0x1000, 4);
                                        cw(b, VIRTIO_PCI_COMMON_Q_ENABLE, 1, 2);
                                        cw(b, VIRTIO_PCI_COMMON_STATUS, 0x0f, 1);
                                        cw(b, VIRTIO_PCI_NOTIFY_OFF, 0, 2); }

static const BadFn bad_cases[] = {
    bad_addr, bad_mmio, bad_wrap, bad_loop, bad_next, bad_head, bad_avail, bad_nested,
    bad_ind_next, bad_ind_len, bad_ind_huge, bad_ind_out, bad_ind_loop, bad_order,
    bad_noheader, bad_nostatus, bad_ring,
};

START_TEST(test_blk_malformed)
{
    Bench *b = bench_new(false, 1);
    driver_init(b, ALL, 1);
    memset(b->m->ram + USED, 0, 0x100);
    bad_cases[_i](b);
    ck_assert_msg(status(b) & VIRTIO_STATUS_NEEDS_RESET, "case %d: no NEEDS_RESET", _i);
    ck_assert_int_eq(b->nmsi, 1);
    ck_assert_uint_eq(b->msi_data[0], 0x40);                    /* the config vector */
    ck_assert_uint_eq(r16(b, USED + 2), 0);                     /* nothing used */
    /* Broken: further notifications do nothing. */
    blk_req(b, VIRTIO_BLK_T_IN, 0, 512, true);
    ck_assert_uint_eq(r16(b, USED + 2), 0);
    /* The driver resets and starts again. */
    driver_init(b, ALL, 1);
    ck_assert_uint_eq(status(b) & VIRTIO_STATUS_NEEDS_RESET, 0);
    memset(b->m->ram + USED, 0, 0x100);
    blk_req(b, VIRTIO_BLK_T_IN, 4, 512, true);
    ck_assert_uint_eq(b->m->ram[STATUS], VIRTIO_BLK_S_OK);
    ck_assert_uint_eq(b->m->ram[DATA + 1], pattern(4, 1));
    bench_free(b);
}
END_TEST

START_TEST(test_blk_indirect_not_negotiated)
{
    Bench *b = bench_new(false, 1);
    driver_init(b, ALL & ~(1ULL << VIRTIO_F_INDIRECT_DESC), 1);
    desc(b, ITABLE, 0, HDR, 16, 0, 0);
    desc(b, DESC, 0, ITABLE, 16, VIRTQ_DESC_F_INDIRECT, 0);
    kick(b, 0);
    ck_assert(status(b) & VIRTIO_STATUS_NEEDS_RESET);
    bench_free(b);
}
END_TEST

START_TEST(test_blk_multiqueue)
{
    Bench *b = bench_new(false, 3);
    ck_assert_uint_eq(cr(b, VIRTIO_PCI_COMMON_NUMQ, 2), 3);
    ck_assert_uint_eq(cr(b, VIRTIO_PCI_DEVICE_OFF + 34, 2), 3);
    driver_init(b, ALL, 3);
    /* A read on queue 2 (its own rings at +0x8000), vector 3. */
    uint64_t q = 0x8000;
    w32(b, HDR, VIRTIO_BLK_T_IN);
    w64(b, HDR + 8, 7);
    desc(b, DESC + q, 0, HDR, 16, 1, 1);
    desc(b, DESC + q, 1, DATA, 512, 3, 2);
    desc(b, DESC + q, 2, STATUS, 1, 2, 0);
    w16(b, AVAIL + q + 4, 0);
    w16(b, AVAIL + q + 2, 1);
    cw(b, VIRTIO_PCI_NOTIFY_OFF + 2 * VIRTIO_PCI_NOTIFY_MULT, 2, 2);
    blk_drain(b->bb);
    ck_assert_uint_eq(r16(b, USED + q + 2), 1);
    ck_assert_uint_eq(r16(b, USED + 2), 0);
    ck_assert_uint_eq(b->m->ram[DATA + 3], pattern(7, 3));
    ck_assert_int_eq(b->nmsi, 1);
    ck_assert_uint_eq(b->msi_data[0], 0x43);
    bench_free(b);
}
END_TEST

START_TEST(test_rng_legacy_intx)
{
    Bench *b = bench_new(true, 1);
    ck_assert_uint_eq(pci_bus_config_read(b->bus, DEVFN, PCI_DEVICE_ID, 2), 0x1005);
    IOSpace *io = b->m->io;
    /* The legacy sequence: reset, ack, features (no VERSION_1 in the low
     * word), queue 0 at PFN 0x10 (0x10000), DRIVER_OK; INTx, no MSI-X. */
    iospace_write(io, IO_BASE + VIRTIO_PCI_L_STATUS, 0, 1);
    iospace_write(io, IO_BASE + VIRTIO_PCI_L_STATUS, 3, 1);
    ck_assert_uint_eq(iospace_read(io, IO_BASE + VIRTIO_PCI_L_HOST_FEATURES, 4) >> VIRTIO_F_INDIRECT_DESC & 1, 1);
    iospace_write(io, IO_BASE + VIRTIO_PCI_L_GUEST_FEATURES, 0, 4);
    iospace_write(io, IO_BASE + VIRTIO_PCI_L_QUEUE_SEL, 0, 2);
    uint32_t num = iospace_read(io, IO_BASE + VIRTIO_PCI_L_QUEUE_NUM, 2);
    ck_assert_uint_eq(num, VIRTIO_RNG_QUEUE_SIZE);
    iospace_write(io, IO_BASE + VIRTIO_PCI_L_QUEUE_PFN, DESC >> 12, 4);
    iospace_write(io, IO_BASE + VIRTIO_PCI_L_STATUS, 7, 1);
    uint64_t avail = DESC + 16 * num, used = (avail + 6 + 2 * num + 4095) & ~4095ULL;
    desc(b, DESC, 0, DATA, 300, VIRTQ_DESC_F_WRITE, 0);
    memset(b->m->ram + DATA, 0, 300);
    w16(b, avail + 4, 0);
    w16(b, avail + 2, 1);
    iospace_write(io, IO_BASE + VIRTIO_PCI_L_QUEUE_NOTIFY, 0, 2);
    ck_assert_uint_eq(r16(b, used + 2), 1);
    ck_assert_uint_eq(r32(b, used + 8), 300);
    int nz = 0;
    for (int i = 0; i < 300; i++)
        nz += b->m->ram[DATA + i] != 0;
    ck_assert_int_gt(nz, 250);
    PCIDevice *d = virtio_pci_device(b->t);
    ck_assert(d->irq_level);
    ck_assert_uint_eq(iospace_read(io, IO_BASE + VIRTIO_PCI_L_ISR, 1), VIRTIO_ISR_QUEUE);
    ck_assert(!d->irq_level);                               /* read clears */
    ck_assert_int_eq(b->nmsi, 0);
    /* A legacy device error: no NEEDS_RESET (no VERSION_1), just stops. */
    desc(b, DESC, 0, RAM_SIZE + 0x1000, 300, VIRTQ_DESC_F_WRITE, 0);
    w16(b, avail + 2, 2);
    iospace_write(io, IO_BASE + VIRTIO_PCI_L_QUEUE_NOTIFY, 0, 2);
    ck_assert_uint_eq(r16(b, used + 2), 1);
    ck_assert_uint_eq(iospace_read(io, IO_BASE + VIRTIO_PCI_L_STATUS, 1), 7);
    bench_free(b);
}
END_TEST

START_TEST(test_cfg_access_window)
{
    Bench *b = bench_new(false, 1);
    PCIDevice *d = virtio_pci_device(b->t);
    int c = 0;
    for (uint32_t p = d->config[PCI_CAPABILITY_LIST]; p; p = d->config[p + 1])
        if (d->config[p] == PCI_CAP_ID_VNDR && d->config[p + 3] == VIRTIO_PCI_CAP_PCI_CFG)
            c = (int)p;
    ck_assert_int_gt(c, 0);
    /* num_queues through the window. */
    pci_bus_config_write(b->bus, DEVFN, (uint32_t)c + 4, VIRTIO_PCI_MODERN_BAR, 1);
    pci_bus_config_write(b->bus, DEVFN, (uint32_t)c + 8, VIRTIO_PCI_COMMON_NUMQ, 4);
    pci_bus_config_write(b->bus, DEVFN, (uint32_t)c + 12, 2, 4);
    ck_assert_uint_eq(pci_bus_config_read(b->bus, DEVFN, (uint32_t)c + 16, 4) & 0xffff, 1);
    /* A bogus window reads what was there and never crashes. */
    pci_bus_config_write(b->bus, DEVFN, (uint32_t)c + 8, 0xfffffffe, 4);
    (void)pci_bus_config_read(b->bus, DEVFN, (uint32_t)c + 16, 4);
    pci_bus_config_write(b->bus, DEVFN, (uint32_t)c + 16, 0x1234, 4);
    bench_free(b);
}
END_TEST

static Suite *virtio_suite(void)
{
    Suite *s = suite_create("virtio");
    TCase *tc = tcase_create("core");
    tcase_add_test(tc, test_lapic_msi);
    tcase_add_test(tc, test_caps_and_msix_masking);
    tcase_add_test(tc, test_blk_requests);
    tcase_add_test(tc, test_blk_indirect_and_event_idx);
    tcase_add_loop_test(tc, test_blk_malformed, 0, (int)(sizeof bad_cases / sizeof bad_cases[0]));
    tcase_add_test(tc, test_blk_indirect_not_negotiated);
    tcase_add_test(tc, test_blk_multiqueue);
    tcase_add_test(tc, test_rng_legacy_intx);
    tcase_add_test(tc, test_cfg_access_window);
    suite_add_tcase(s, tc);
    return s;
}

UNIT_SUITE(virtio_suite)
