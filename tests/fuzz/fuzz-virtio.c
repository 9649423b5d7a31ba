/*
 * virtio harness (docs/fuzzing.md): one virtio device on its PCI
 * transport with guest RAM, no CPU.  Each input starts from a device a
 * driver has brought up (BARs programmed, bus mastering on, features
 * taken, queue 0 (and 1) at fixed rings in RAM, MSI-X enabled and
 * unmasked), then the fuzzer writes descriptors, publishes them, notifies,
 * and pokes every register the transport has (common configuration,
 * device configuration, ISR, notify, the legacy I/O BAR, the MSI-X table,
 * config space), and the host side hands the device input (frames from
 * the network backend, bytes on a serial port's chardev).  Block requests
 * are completed after every notify.  Built once per row of virtio_targets:
 * -DFUZZ_VIRTIO=blk, rng, scsi (a scsi-hd at target 0 and a scsi-cd at
 * target 1), balloon (with free page reporting), net or serial
 * (tests/fuzz/fuzz.mk: virtio-NAME).
 *
 * Each operation is 8 bytes: byte 0 the kind (low 4 bits) and the queue
 * (high 4 bits, with bit 7 of byte 1), bytes 1-7 its arguments (see
 * run_op).
 */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "block/block.h"
#include "core/machine.h"
#include "host/chardev.h"
#include "hw/msix.h"
#include "hw/pci.h"
#include "hw/scsi-disk.h"
#include "hw/virtio-balloon.h"
#include "hw/virtio-blk.h"
#include "hw/virtio-net.h"
#include "hw/virtio-pci.h"
#include "hw/virtio-rng.h"
#include "hw/virtio-scsi.h"
#include "hw/virtio-serial.h"
#include "net/net.h"
#include "tests/fuzz/fuzz-image.h"
#include "tests/fuzz/fuzz-machine.h"

#define RAM_SIZE   (2u << 20)
#define DEVFN      PCI_DEVFN(3, 0)
#define IO_BASE    0xc000
#define MSIX_BASE  0xfe000000u
#define MOD_BASE   0xfe004000u
#define QSZ        16
#define MAXQ       8
#define DESC(q)    (0x50000u + 0x3000u * (q))
#define AVAIL(q)   (DESC(q) + 0x1000u)
#define USED(q)    (DESC(q) + 0x2000u)
#define ITABLE     0x20000u
#define DATA       0x40000u
#define SERIAL_PORTS 2

static Machine *m;
static PCIBus *bus;
static BlockBackend *bbs[2];
static VirtIODevice *vdev;
static NetClient *net_backend;            /* net: the test backend */
static CharDev *ports[SERIAL_PORTS];      /* serial: console 0, named port 1 */
static uint16_t avail_idx[MAXQ];
static int nq;

/* A raw scratch image (unlinked at once: the backend keeps it open). */
static BlockBackend *scratch_disk(off_t size)
{
    char err[256], path[256];
    fuzz_tmp_path(path, sizeof path, "vdisk", "-XXXXXX");
    int fd = mkstemp(path);
    if (fd < 0 || ftruncate(fd, size) < 0)
        abort();
    close(fd);
    BlockOpenOptions o = { .filename = path, .format = "raw", .no_lock = true,
                           .cache = BLK_CACHE_UNSAFE };
    BlockBackend *b = blk_open(&o, err, sizeof err);
    unlink(path);
    if (!b)
        abort();
    return b;
}

static void drain_disks(void)
{
    for (int i = 0; i < 2; i++)
        if (bbs[i])
            blk_drain(bbs[i]);
}

static void create_blk(void)
{
    bbs[0] = scratch_disk(1 << 20);
    nq = 2;
    vdev = virtio_blk_vdev(virtio_blk_create(m, bbs[0], &(VirtIOBlkConfig){ .num_queues = 2 }));
}

static void create_scsi(void)
{
    char err[256];
    bbs[0] = scratch_disk(1 << 20);
    bbs[1] = scratch_disk(256 << 10);
    VirtIOSCSI *h = virtio_scsi_create(m, &(VirtIOSCSIConfig){ .num_queues = 1 });
    SCSIDevice *hd = scsi_disk_create(m, &(SCSIDiskConfig){ .kind = SCSI_DISK_HD,
                                                            .bb = bbs[0] });
    SCSIDevice *cd = scsi_disk_create(m, &(SCSIDiskConfig){ .kind = SCSI_DISK_CD,
                                                            .bb = bbs[1] });
    if (!scsi_bus_attach(virtio_scsi_bus(h), hd, 0, 0, err, sizeof err) ||
        !scsi_bus_attach(virtio_scsi_bus(h), cd, 1, 0, err, sizeof err))
        abort();
    nq = 3;
    vdev = virtio_scsi_vdev(h);
}

static void create_balloon(void)
{
    nq = 4;
    vdev = virtio_balloon_vdev(virtio_balloon_create(m, &(VirtIOBalloonConfig){
        .free_page_reporting = true }));
}

static void create_rng(void)
{
    nq = 1;
    vdev = virtio_rng_vdev(virtio_rng_create(m));
}

static void create_net(void)
{
    VirtIONetConfig c = { .mac = { 0x52, 0x54, 0, 0x12, 0x34, 0x56 } };
    net_backend = test_netdev_new("fuzz");
    nq = 3;
    vdev = virtio_net_vdev(virtio_net_create(m, &c, net_backend));
}

static void create_serial(void)
{
    char err[256];
    VirtIOSerial *s = virtio_serial_create(m, SERIAL_PORTS);
    for (int i = 0; i < SERIAL_PORTS; i++) {
        ports[i] = chardev_open("buffer", err, sizeof err);
        if (!ports[i] || virtio_serial_add_port(s, ports[i], i == 0, i ? "org.fuzz" : NULL, -1,
                                                err, sizeof err) < 0)
            abort();
    }
    nq = 2 * SERIAL_PORTS + 2;
    vdev = virtio_serial_vdev(s);
}

/* One row per virtio device the harness drives (-DFUZZ_VIRTIO=name). */
static const struct { const char *name; void (*create)(void); } virtio_targets[] = {
    { "blk", create_blk }, { "rng", create_rng }, { "scsi", create_scsi },
    { "balloon", create_balloon }, { "net", create_net }, { "serial", create_serial },
};

static void msi_sink(void *opaque, uint64_t addr, uint32_t data)
{
    (void)opaque; (void)addr; (void)data;
}

static void setup(void)
{
    char err[256];
    m = machine_new(RAM_SIZE, CLOCK_MANUAL, err, sizeof err);
    if (!m || !memmap_add_ram(m->mem, "ram", 0, RAM_SIZE, m->ram, NULL))
        abort();
    bus = pci_bus_new(m);
    pci_bus_set_msi_handler(bus, msi_sink, NULL);
#define STR_(x) #x
#define STR(x) STR_(x)
    for (size_t i = 0; i < sizeof virtio_targets / sizeof virtio_targets[0] && !vdev; i++)
        if (!strcmp(STR(FUZZ_VIRTIO), virtio_targets[i].name))
            virtio_targets[i].create();
    if (!vdev)
        abort();
    if (!virtio_pci_create(m, bus, DEVFN, vdev, err, sizeof err))
        abort();
}

static void cw(uint32_t off, uint32_t v, unsigned size)
{
    memmap_write(m->mem, MOD_BASE + off, v, size);
}

static void bring_up(void)
{
    pci_bus_config_write(bus, DEVFN, PCI_BAR0, IO_BASE, 4);
    pci_bus_config_write(bus, DEVFN, PCI_BAR0 + 4, MSIX_BASE, 4);
    pci_bus_config_write(bus, DEVFN, PCI_BAR0 + 16, MOD_BASE, 4);
    pci_bus_config_write(bus, DEVFN, PCI_COMMAND,
                         PCI_COMMAND_IO | PCI_COMMAND_MEMORY | PCI_COMMAND_MASTER, 2);
    cw(VIRTIO_PCI_COMMON_STATUS, 3, 1);
    cw(VIRTIO_PCI_COMMON_GFSELECT, 0, 4);
    cw(VIRTIO_PCI_COMMON_GF, (uint32_t)vdev->host_features, 4);
    cw(VIRTIO_PCI_COMMON_GFSELECT, 1, 4);
    cw(VIRTIO_PCI_COMMON_GF, (uint32_t)(vdev->host_features >> 32), 4);
    cw(VIRTIO_PCI_COMMON_STATUS, 0x0b, 1);
    int cap = pci_find_capability(pci_bus_find(bus, DEVFN), PCI_CAP_ID_MSIX);
    pci_bus_config_write(bus, DEVFN, (uint32_t)cap + 2, MSIX_CTRL_ENABLE, 2);
    for (int v = 0; v <= nq; v++) {
        memmap_write(m->mem, MSIX_BASE + 16 * v, 0xfee00000u, 4);
        memmap_write(m->mem, MSIX_BASE + 16 * v + 8, 0x40 + v, 4);
        memmap_write(m->mem, MSIX_BASE + 16 * v + 12, 0, 4);
    }
    for (int q = 0; q < nq; q++) {
        cw(VIRTIO_PCI_COMMON_Q_SELECT, (uint32_t)q, 2);
        cw(VIRTIO_PCI_COMMON_Q_SIZE, QSZ, 2);
        cw(VIRTIO_PCI_COMMON_Q_DESCLO, DESC(q), 4);
        cw(VIRTIO_PCI_COMMON_Q_AVAILLO, AVAIL(q), 4);
        cw(VIRTIO_PCI_COMMON_Q_USEDLO, USED(q), 4);
        cw(VIRTIO_PCI_COMMON_Q_MSIX, (uint32_t)q + 1, 2);
        cw(VIRTIO_PCI_COMMON_Q_ENABLE, 1, 2);
        avail_idx[q] = 0;
    }
    cw(VIRTIO_PCI_COMMON_STATUS, 0x0f, 1);
}

static void put(uint64_t a, const void *p, size_t n)
{
    if (a < RAM_SIZE && n <= RAM_SIZE - a)
        memcpy(m->ram + a, p, n);
}

/* Buffer addresses the fuzzer picks from: good ones and every kind of
 * bad one. */
static uint64_t pick_addr(uint8_t sel, uint32_t v)
{
    switch (sel & 7) {
    case 0: case 1: case 2: return DATA + (v & 0xffff);
    case 3: return ITABLE + (v & 0xff0);
    case 4: return RAM_SIZE - (v & 0xfff);                 /* runs off the end */
    case 5: return MOD_BASE + (v & 0x3fff);                /* MMIO */
    case 6: return (uint64_t)v << 32 | v;                  /* wild, may wrap */
    default: return v & (RAM_SIZE - 1);                     /* anywhere, rings too */
    }
}

/* What the host side hands the device: a frame from the network backend
 * (its destination the NIC's address or broadcast when a says so), or
 * bytes typed into a serial port's chardev; the bytes come from RAM the
 * fuzzer poked. */
static void host_input(uint8_t a, uint32_t v)
{
    uint8_t buf[2048];
    size_t len = (v >> 16) % sizeof buf, off = v & 0x7fff;
    memcpy(buf, m->ram + DATA + off, len);
    if (net_backend) {
        static const uint8_t dst[2][6] = { { 0x52, 0x54, 0, 0x12, 0x34, 0x56 },
                                           { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff } };
        if ((a & 2) && len >= 6)
            memcpy(buf, dst[a & 1], 6);
        test_netdev_inject(net_backend, buf, len);
        if (a & 4)
            net_set_link(net_backend, (a & 8) != 0);
        /* The backend takes vnet headers (tap,vnet_hdr=on): transmitted
         * offloads go through as the guest asked instead. */
        net_backend->vnet_hdr = (a & 16) != 0;
    } else if (ports[0]) {
        chardev_push_input(ports[a & 1], buf, len);
    }
}

static void run_op(FuzzInput *in)
{
    uint8_t op = fuzz_u8(in), a = fuzz_u8(in), b = fuzz_u8(in), c = fuzz_u8(in);
    uint32_t v = fuzz_u32(in);
    int q = ((op >> 4) * 2 + (a >> 7)) % nq;
    switch (op & 15) {
    case 0: {   /* descriptor: in queue q's table or the indirect area */
        uint8_t d[16];
        uint64_t addr = pick_addr(b, v);
        uint32_t len = (c & 0x80) ? v : (uint32_t)(c & 0x7f) * 16 + (b >> 3);
        uint16_t flags = c & 7, next = (uint16_t)((v >> 8) % (QSZ + 2));
        memcpy(d, &addr, 8);
        memcpy(d + 8, &len, 4);
        memcpy(d + 12, &flags, 2);
        memcpy(d + 14, &next, 2);
        uint64_t table = (a & 0x40) ? ITABLE : DESC(q);
        put(table + 16u * (a & 0x3f % QSZ), d, 16);
        break;
    }
    case 1: {   /* publish a head (or set a wild available index) */
        uint16_t head = (uint16_t)(b % (QSZ + 2));
        put(AVAIL(q) + 4 + 2u * (avail_idx[q] % QSZ), &head, 2);
        avail_idx[q] = (c & 0x80) ? (uint16_t)v : (uint16_t)(avail_idx[q] + 1);
        put(AVAIL(q) + 2, &avail_idx[q], 2);
        if (c & 0x40) {   /* ring flags / used_event */
            uint16_t f = (uint16_t)(v >> 16);
            put(AVAIL(q) + ((c & 0x20) ? 4 + 2 * QSZ : 0), &f, 2);
        }
        break;
    }
    case 2:     /* notify (modern or legacy), then complete the I/O */
        if (b & 1)
            iospace_write(m->io, IO_BASE + VIRTIO_PCI_L_QUEUE_NOTIFY, (uint32_t)q, 2);
        else
            cw(VIRTIO_PCI_NOTIFY_OFF + 4u * (uint32_t)q, (uint32_t)q, 2);
        drain_disks();
        break;
    case 3:     /* common configuration */
        cw(a % VIRTIO_PCI_COMMON_SIZE, v, 1u << (b % 3));
        break;
    case 4: {   /* anywhere in the modern BAR */
        uint32_t off = (uint32_t)(a << 8 | b) % VIRTIO_PCI_MODERN_SIZE;
        if (c & 1)
            (void)memmap_read(m->mem, MOD_BASE + off, 1u << (c >> 1) % 3);
        else
            memmap_write(m->mem, MOD_BASE + off, v, 1u << (c >> 1) % 3);
        break;
    }
    case 5:     /* legacy I/O BAR */
        if (c & 1)
            (void)iospace_read(m->io, (uint16_t)(IO_BASE + a % 128), 1u << (b % 3));
        else
            iospace_write(m->io, (uint16_t)(IO_BASE + a % 128), v, 1u << (b % 3));
        break;
    case 6:     /* RAM poke (headers, data, rings) */
        m->ram[(v & 0xfffff) % RAM_SIZE] = a;
        break;
    case 8:     /* the host side: a frame, serial input */
        host_input(a, v);
        break;
    case 7:     /* MSI-X table/PBA or config space */
        if (c & 1)
            memmap_write(m->mem, MSIX_BASE + ((uint32_t)(a << 8 | b) & 0xfff), v, 4);
        else
            pci_bus_config_write(bus, DEVFN, a & ~((1u << (b % 3)) - 1), v, 1u << (b % 3));
        break;
    default: {  /* kinds 9-15: publish another head (the commonest step) */
        uint16_t head = (uint16_t)(b % QSZ);
        put(AVAIL(q) + 4 + 2u * (avail_idx[q] % QSZ), &head, 2);
        avail_idx[q]++;
        put(AVAIL(q) + 2, &avail_idx[q], 2);
        break;
    }
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (!m)
        setup();
    fuzz_machine_next_input(m);
    machine_reset_devices(m);
    memset(m->ram, 0, 0x80000);
    for (int i = 0; i < SERIAL_PORTS; i++)
        if (ports[i])
            chardev_buffer_clear(ports[i]);
    if (net_backend) {
        net_backend->vnet_hdr = false;
        test_netdev_clear(net_backend);
        net_set_link(net_backend, true);
    }
    bring_up();
    FuzzInput in = { data, size };
    while (in.left)
        run_op(&in);
    drain_disks();
    return 0;
}
