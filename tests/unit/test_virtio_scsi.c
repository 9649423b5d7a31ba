/* virtio-scsi with scsi-hd and scsi-cd units, and virtio-balloon, driven
 * through their registers and queues with no guest: the test builds the
 * requests a driver would (and broken ones) and checks the answers
 * against SPC-4 / SBC-3 / MMC-6 and virtio 1.2 chapter 5. */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "block/block.h"
#include "core/clock.h"
#include "core/machine.h"
#include "hw/msix.h"
#include "hw/pci.h"
#include "hw/scsi-disk.h"
#include "hw/virtio-balloon.h"
#include "hw/virtio-pci.h"
#include "hw/virtio-scsi.h"
#include "tests/unit/unit.h"

#define RAM_SIZE   (8u << 20)
#define DEVFN      PCI_DEVFN(3, 0)
#define MSIX_BASE  0xfe000000u
#define MOD_BASE   0xfe004000u
#define IO_BASE    0xc000
#define QSZ        16
#define DESC(q)    (0x10000u + 0x4000u * (q))
#define AVAIL(q)   (DESC(q) + 0x1000u)
#define USED(q)    (DESC(q) + 0x2000u)
#define HDR        0x40000u
#define RESP       0x41000u
#define DOUT       0x100000u
#define DIN        0x300000u
#define HD_BLOCKS  4096u          /* 2 MiB of 512-byte blocks */
#define CD_BLOCKS  64u            /* 128 KiB of 2048-byte blocks */
#define REQ_HDR    51u            /* 19 + cdb_size 32 */
#define RESP_HDR   108u           /* 12 + sense_size 96 */

typedef struct Bench {
    Machine *m;
    PCIBus *bus;
    VirtIODevice *vdev;
    VirtIOPCIState *t;
    VirtIOSCSI *h;
    VirtIOBalloon *bal;
    BlockBackend *hd, *cd;
    char hd_path[64], cd_path[64];
    uint16_t avail_idx[VIRTIO_MAX_QUEUES];
    int changes;                  /* balloon on_change calls */
} Bench;

typedef struct Resp {
    uint32_t sense_len, resid;
    uint8_t status, response;
    uint8_t sense[96];
    uint32_t used_len;
} Resp;

static uint8_t hd_pattern(uint64_t off)
{
    return (uint8_t)(off * 7 + off / 512 * 13 + 1);
}

static void w16(Bench *b, uint64_t a, uint16_t v) { memcpy(b->m->ram + a, &v, 2); }
static void w32(Bench *b, uint64_t a, uint32_t v) { memcpy(b->m->ram + a, &v, 4); }
static void w64(Bench *b, uint64_t a, uint64_t v) { memcpy(b->m->ram + a, &v, 8); }
static uint16_t r16(Bench *b, uint64_t a) { uint16_t v; memcpy(&v, b->m->ram + a, 2); return v; }
static uint32_t r32(Bench *b, uint64_t a) { uint32_t v; memcpy(&v, b->m->ram + a, 4); return v; }
static uint32_t be32(const uint8_t *p) { return (uint32_t)p[0] << 24 | p[1] << 16 | p[2] << 8 | p[3]; }
static uint32_t be16(const uint8_t *p) { return (uint32_t)p[0] << 8 | p[1]; }

static void cw(Bench *b, uint32_t off, uint32_t v, unsigned size)
{
    memmap_write(b->m->mem, MOD_BASE + off, v, size);
}

static uint32_t cr(Bench *b, uint32_t off, unsigned size)
{
    return (uint32_t)memmap_read(b->m->mem, MOD_BASE + off, size);
}

static void msi_sink(void *opaque, uint64_t addr, uint32_t data)
{
}

static BlockBackend *temp_image(char *path, size_t size, bool pattern)
{
    strcpy(path, "/tmp/vx86-vscsi-XXXXXX");
    int fd = mkstemp(path);
    ck_assert_int_ge(fd, 0);
    uint8_t *buf = calloc(1, size);
    for (size_t i = 0; pattern && i < size; i++)
        buf[i] = hd_pattern(i);
    ck_assert_int_eq(pwrite(fd, buf, size, 0), (ssize_t)size);
    free(buf);
    close(fd);
    char err[128];
    BlockOpenOptions o = { .filename = path, .format = "raw", .no_lock = true };
    BlockBackend *bb = blk_open(&o, err, sizeof err);
    ck_assert_msg(bb != NULL, "%s", err);
    return bb;
}

static void balloon_changed(void *opaque)
{
    ((Bench *)opaque)->changes++;
}

static Bench *bench_new(bool balloon, bool reporting)
{
    char err[128];
    Bench *b = calloc(1, sizeof(*b));
    b->m = machine_new(RAM_SIZE, CLOCK_MANUAL, err, sizeof err);
    ck_assert_ptr_nonnull(b->m);
    ck_assert_ptr_nonnull(memmap_add_ram(b->m->mem, "ram", 0, RAM_SIZE, b->m->ram, NULL));
    b->bus = pci_bus_new(b->m);
    pci_bus_set_msi_handler(b->bus, msi_sink, b);
    if (balloon) {
        b->bal = virtio_balloon_create(b->m, &(VirtIOBalloonConfig){
            .free_page_reporting = reporting, .on_change = balloon_changed, .opaque = b });
        b->vdev = virtio_balloon_vdev(b->bal);
    } else {
        b->hd = temp_image(b->hd_path, HD_BLOCKS * 512, true);
        b->cd = temp_image(b->cd_path, CD_BLOCKS * 2048, true);
        b->h = virtio_scsi_create(b->m, &(VirtIOSCSIConfig){ .num_queues = 1,
                                                            .bus_name = "scsi0.0" });
        b->vdev = virtio_scsi_vdev(b->h);
        SCSIBus *bus = virtio_scsi_bus(b->h);
        SCSIDevice *hd = scsi_disk_create(b->m, &(SCSIDiskConfig){ .kind = SCSI_DISK_HD,
                                                                    .bb = b->hd,
                                                                    .serial = "SER123" });
        SCSIDevice *cd = scsi_disk_create(b->m, &(SCSIDiskConfig){ .kind = SCSI_DISK_CD,
                                                                    .bb = b->cd });
        ck_assert(scsi_bus_attach(bus, hd, 0, 0, err, sizeof err));
        ck_assert(scsi_bus_attach(bus, cd, 1, 0, err, sizeof err));
        ck_assert(!scsi_bus_attach(bus, cd, 1, 0, err, sizeof err));    /* taken */
        ck_assert(!scsi_bus_attach(bus, cd, 256, 0, err, sizeof err));  /* out of range */
    }
    b->t = virtio_pci_create(b->m, b->bus, DEVFN, b->vdev, err, sizeof err);
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
    if (b->hd)
        blk_drain(b->hd);
    if (b->cd)
        blk_drain(b->cd);
    machine_free(b->m);
    blk_close(b->hd);
    blk_close(b->cd);
    if (b->hd_path[0])
        unlink(b->hd_path);
    if (b->cd_path[0])
        unlink(b->cd_path);
    free(b);
}

/* A driver's bring-up: features & want, nq queues of QSZ. */
static void driver_init(Bench *b, uint64_t want)
{
    cw(b, VIRTIO_PCI_COMMON_STATUS, 0, 1);
    cw(b, VIRTIO_PCI_COMMON_STATUS, VIRTIO_STATUS_ACKNOWLEDGE | VIRTIO_STATUS_DRIVER, 1);
    uint64_t f = b->vdev->host_features & want;
    cw(b, VIRTIO_PCI_COMMON_GFSELECT, 0, 4);
    cw(b, VIRTIO_PCI_COMMON_GF, (uint32_t)f, 4);
    cw(b, VIRTIO_PCI_COMMON_GFSELECT, 1, 4);
    cw(b, VIRTIO_PCI_COMMON_GF, (uint32_t)(f >> 32), 4);
    cw(b, VIRTIO_PCI_COMMON_STATUS, 0x0b, 1);
    ck_assert_uint_eq(cr(b, VIRTIO_PCI_COMMON_STATUS, 1), 0x0b);
    for (int q = 0; q < b->vdev->nvq; q++) {
        memset(b->m->ram + DESC(q), 0, 0x4000);
        cw(b, VIRTIO_PCI_COMMON_Q_SELECT, (uint32_t)q, 2);
        cw(b, VIRTIO_PCI_COMMON_Q_SIZE, QSZ, 2);
        cw(b, VIRTIO_PCI_COMMON_Q_DESCLO, DESC(q), 4);
        cw(b, VIRTIO_PCI_COMMON_Q_AVAILLO, AVAIL(q), 4);
        cw(b, VIRTIO_PCI_COMMON_Q_USEDLO, USED(q), 4);
        cw(b, VIRTIO_PCI_COMMON_Q_ENABLE, 1, 2);
        b->avail_idx[q] = 0;
    }
    cw(b, VIRTIO_PCI_COMMON_STATUS, 0x0f, 1);
}

static void desc(Bench *b, int q, int i, uint64_t addr, uint32_t len, uint16_t flags,
                 uint16_t next)
{
    uint64_t d = DESC(q) + 16ULL * i;
    w64(b, d, addr);
    w32(b, d + 8, len);
    w16(b, d + 12, flags);
    w16(b, d + 14, next);
}

/* Publishes head on queue q, notifies, completes the block I/O; returns
 * the used length of the entry (or ~0 when nothing was used). */
static uint32_t kick(Bench *b, int q, uint16_t head)
{
    uint16_t used0 = r16(b, USED(q) + 2);
    w16(b, AVAIL(q) + 4 + 2 * (b->avail_idx[q] % QSZ), head);
    b->avail_idx[q]++;
    w16(b, AVAIL(q) + 2, b->avail_idx[q]);
    cw(b, VIRTIO_PCI_NOTIFY_OFF + 4u * (uint32_t)q, (uint32_t)q, 2);
    if (b->hd)
        blk_drain(b->hd);
    if (b->cd)
        blk_drain(b->cd);
    if (r16(b, USED(q) + 2) == used0)
        return ~0u;
    return r32(b, USED(q) + 4 + 8 * (used0 % QSZ) + 4);
}

/* One SCSI command on request queue 2. */
static void cmd(Bench *b, int target, int lun, const uint8_t *cdb, size_t cdblen,
                uint32_t outlen, uint32_t inlen, Resp *r)
{
    memset(b->m->ram + HDR, 0, REQ_HDR);
    uint8_t *h = b->m->ram + HDR;
    h[0] = 1;
    h[1] = (uint8_t)target;
    h[2] = (uint8_t)(0x40 | lun >> 8);
    h[3] = (uint8_t)lun;
    w64(b, HDR + 8, 0x1234);
    memcpy(h + 19, cdb, cdblen);
    memset(b->m->ram + RESP, 0xee, RESP_HDR);
    int n = 0;
    desc(b, 2, n, HDR, REQ_HDR, VIRTQ_DESC_F_NEXT, (uint16_t)(n + 1));
    n++;
    if (outlen) {
        desc(b, 2, n, DOUT, outlen, VIRTQ_DESC_F_NEXT, (uint16_t)(n + 1));
        n++;
    }
    desc(b, 2, n, RESP, RESP_HDR, VIRTQ_DESC_F_WRITE | (inlen ? VIRTQ_DESC_F_NEXT : 0),
         (uint16_t)(n + 1));
    n++;
    if (inlen)
        desc(b, 2, n, DIN, inlen, VIRTQ_DESC_F_WRITE, 0);
    r->used_len = kick(b, 2, 0);
    r->sense_len = r32(b, RESP);
    r->resid = r32(b, RESP + 4);
    r->status = b->m->ram[RESP + 10];
    r->response = b->m->ram[RESP + 11];
    memcpy(r->sense, b->m->ram + RESP + 12, sizeof r->sense);
}

static void assert_good(const Resp *r)
{
    ck_assert_uint_eq(r->response, VIRTIO_SCSI_S_OK);
    ck_assert_msg(r->status == SCSI_STATUS_GOOD, "status 0x%x sense %x/%x/%x", r->status,
                  r->sense[2], r->sense[12], r->sense[13]);
}

static void assert_sense(const Resp *r, uint8_t key, uint8_t asc, uint8_t ascq)
{
    ck_assert_uint_eq(r->response, VIRTIO_SCSI_S_OK);
    ck_assert_uint_eq(r->status, SCSI_STATUS_CHECK_CONDITION);
    ck_assert_uint_eq(r->sense_len, 18);
    ck_assert_uint_eq(r->sense[0], 0x70);
    ck_assert_msg(r->sense[2] == key && r->sense[12] == asc && r->sense[13] == ascq,
                  "sense %x/%x/%x, wanted %x/%x/%x", r->sense[2], r->sense[12], r->sense[13],
                  key, asc, ascq);
}

/* Clears the power-on UNIT ATTENTION of target t. */
static void clear_ua(Bench *b, int t)
{
    static const uint8_t tur[6] = { SCSI_TEST_UNIT_READY };
    Resp r;
    cmd(b, t, 0, tur, 6, 0, 0, &r);
    assert_sense(&r, SENSE_UNIT_ATTENTION, ASC_POWER_ON_RESET, 0);
    cmd(b, t, 0, tur, 6, 0, 0, &r);
    assert_good(&r);
}

/* One task management function on the control queue; its response. */
static uint8_t tmf(Bench *b, uint32_t subtype, int target)
{
    uint8_t *t = b->m->ram + HDR;
    memset(t, 0, 24);
    w32(b, HDR, VIRTIO_SCSI_T_TMF);
    w32(b, HDR + 4, subtype);
    t[8] = 1;
    t[9] = (uint8_t)target;
    t[10] = 0x40;
    b->m->ram[RESP] = 0xee;
    desc(b, 0, 0, HDR, 24, VIRTQ_DESC_F_NEXT, 1);
    desc(b, 0, 1, RESP, 1, VIRTQ_DESC_F_WRITE, 0);
    ck_assert_uint_eq(kick(b, 0, 0), 1);
    return b->m->ram[RESP];
}

static Bench *scsi_bench(void)
{
    Bench *b = bench_new(false, false);
    driver_init(b, ~0ULL);
    clear_ua(b, 0);
    clear_ua(b, 1);
    return b;
}

/* ---- virtio-scsi: addressing and the transport ---- */

START_TEST(test_scsi_config_and_addressing)
{
    Bench *b = bench_new(false, false);
    ck_assert_uint_eq(virtio_config_read(b->vdev, 0, 4), 1);          /* num_queues */
    ck_assert_uint_eq(virtio_config_read(b->vdev, 20, 4), 96);        /* sense_size */
    ck_assert_uint_eq(virtio_config_read(b->vdev, 24, 4), 32);        /* cdb_size */
    ck_assert_uint_eq(virtio_config_read(b->vdev, 30, 2), 255);       /* max_target */
    ck_assert_uint_eq(virtio_config_read(b->vdev, 32, 4), 16383);     /* max_lun */
    driver_init(b, ~0ULL);
    Resp r;
    uint8_t inq[6] = { SCSI_INQUIRY, 0, 0, 0, 36, 0 };
    /* INQUIRY ignores the power-on UNIT ATTENTION; TUR reports it once. */
    cmd(b, 0, 0, inq, 6, 0, 36, &r);
    assert_good(&r);
    ck_assert_uint_eq(r.used_len, RESP_HDR + 36);
    ck_assert_uint_eq(b->m->ram[DIN], 0x00);
    ck_assert(!memcmp(b->m->ram + DIN + 8, "VX86    VX86 HARDDISK   1.0 ", 28));
    clear_ua(b, 0);
    /* No unit at target 5: BAD_TARGET, nothing else written. */
    cmd(b, 5, 0, inq, 6, 0, 36, &r);
    ck_assert_uint_eq(r.response, VIRTIO_SCSI_S_BAD_TARGET);
    ck_assert_uint_eq(r.used_len, RESP_HDR);
    /* LUN 3 of target 0: peripheral qualifier 3, and LUN NOT SUPPORTED. */
    cmd(b, 0, 3, inq, 6, 0, 36, &r);
    assert_good(&r);
    ck_assert_uint_eq(b->m->ram[DIN], 0x7f);
    static const uint8_t tur[6] = { SCSI_TEST_UNIT_READY };
    cmd(b, 0, 3, tur, 6, 0, 0, &r);
    assert_sense(&r, SENSE_ILLEGAL_REQUEST, ASC_LUN_NOT_SUPPORTED, 0);
    /* REPORT LUNS: LUN 0 only; too small an allocation length refused. */
    uint8_t rl[12] = { SCSI_REPORT_LUNS, 0, 0, 0, 0, 0, 0, 0, 0, 64 };
    cmd(b, 0, 0, rl, 12, 0, 64, &r);
    assert_good(&r);
    ck_assert_uint_eq(be32(b->m->ram + DIN), 8);
    ck_assert_uint_eq(b->m->ram[DIN + 9], 0);
    rl[9] = 8;
    cmd(b, 0, 0, rl, 12, 0, 64, &r);
    assert_sense(&r, SENSE_ILLEGAL_REQUEST, ASC_INVALID_FIELD, 0);
    /* Unknown opcode. */
    uint8_t bad[10] = { 0xc5 };
    cmd(b, 0, 0, bad, 10, 0, 0, &r);
    assert_sense(&r, SENSE_ILLEGAL_REQUEST, ASC_INVALID_OPCODE, 0);
    /* Data-out and data-in together (no INOUT): FAILURE. */
    uint8_t rd[10] = { SCSI_READ_10, 0, 0, 0, 0, 0, 0, 0, 1 };
    cmd(b, 0, 0, rd, 10, 512, 512, &r);
    ck_assert_uint_eq(r.response, VIRTIO_SCSI_S_FAILURE);
    bench_free(b);
}
END_TEST

START_TEST(test_scsi_inquiry_vpd)
{
    Bench *b = scsi_bench();
    Resp r;
    uint8_t c[6] = { SCSI_INQUIRY, 1, 0x00, 0, 255, 0 };
    cmd(b, 0, 0, c, 6, 0, 255, &r);
    assert_good(&r);
    static const uint8_t pages[] = { 0x00, 0x80, 0x83, 0xb0, 0xb1, 0xb2 };
    ck_assert_uint_eq(be16(b->m->ram + DIN + 2), sizeof pages);
    ck_assert(!memcmp(b->m->ram + DIN + 4, pages, sizeof pages));
    c[2] = 0x80;
    cmd(b, 0, 0, c, 6, 0, 255, &r);
    assert_good(&r);
    ck_assert_uint_eq(be16(b->m->ram + DIN + 2), 6);
    ck_assert(!memcmp(b->m->ram + DIN + 4, "SER123", 6));
    c[2] = 0x83;
    cmd(b, 0, 0, c, 6, 0, 255, &r);
    assert_good(&r);
    ck_assert_uint_eq(b->m->ram[DIN + 5] & 0x0f, 1);                  /* T10 vendor ID */
    ck_assert(!memcmp(b->m->ram + DIN + 8, "VX86    SER123", 14));
    c[2] = 0xb0;
    cmd(b, 0, 0, c, 6, 0, 255, &r);
    assert_good(&r);
    ck_assert_uint_eq(be16(b->m->ram + DIN + 2), 0x3c);
    ck_assert_uint_eq(be32(b->m->ram + DIN + 8), SCSI_DISK_MAX_XFER / 512);
    ck_assert_uint_eq(be32(b->m->ram + DIN + 20), SCSI_DISK_MAX_UNMAP_BLOCKS);
    ck_assert_uint_eq(be32(b->m->ram + DIN + 24), SCSI_DISK_MAX_UNMAP_DESC);
    c[2] = 0xb2;
    cmd(b, 0, 0, c, 6, 0, 255, &r);
    assert_good(&r);
    ck_assert_uint_eq(b->m->ram[DIN + 5] & 0xe0, 0xe0);               /* LBPU, LBPWS, LBPWS10 */
    /* The CD has no block limits page; a page code without EVPD is bad. */
    c[2] = 0xb0;
    cmd(b, 1, 0, c, 6, 0, 255, &r);
    assert_sense(&r, SENSE_ILLEGAL_REQUEST, ASC_INVALID_FIELD, 0);
    uint8_t c2[6] = { SCSI_INQUIRY, 0, 0x80, 0, 255, 0 };
    cmd(b, 0, 0, c2, 6, 0, 255, &r);
    assert_sense(&r, SENSE_ILLEGAL_REQUEST, ASC_INVALID_FIELD, 0);
    /* The allocation length cuts the reply; a buffer smaller than what
     * is sent is an overrun. */
    uint8_t c3[6] = { SCSI_INQUIRY, 0, 0, 0, 5, 0 };
    cmd(b, 1, 0, c3, 6, 0, 255, &r);
    assert_good(&r);
    ck_assert_uint_eq(r.used_len, RESP_HDR + 5);
    ck_assert_uint_eq(r.resid, 250);
    ck_assert_uint_eq(b->m->ram[DIN], 0x05);
    c3[4] = 36;
    cmd(b, 1, 0, c3, 6, 0, 8, &r);
    ck_assert_uint_eq(r.response, VIRTIO_SCSI_S_OVERRUN);
    bench_free(b);
}
END_TEST

START_TEST(test_scsi_read_write)
{
    Bench *b = scsi_bench();
    Resp r;
    uint8_t rc10[10] = { SCSI_READ_CAPACITY_10 };
    cmd(b, 0, 0, rc10, 10, 0, 8, &r);
    assert_good(&r);
    ck_assert_uint_eq(be32(b->m->ram + DIN), HD_BLOCKS - 1);
    ck_assert_uint_eq(be32(b->m->ram + DIN + 4), 512);
    uint8_t rc16[16] = { SCSI_SERVICE_ACTION_IN_16, SCSI_SAI_READ_CAPACITY_16, [13] = 32 };
    cmd(b, 0, 0, rc16, 16, 0, 32, &r);
    assert_good(&r);
    ck_assert_uint_eq(be32(b->m->ram + DIN + 4), HD_BLOCKS - 1);
    ck_assert_uint_eq(b->m->ram[DIN + 14] & 0x80, 0x80);               /* LBPME */
    /* READ(10) of blocks 100..107 is the image. */
    uint8_t rd[10] = { SCSI_READ_10, 0, 0, 0, 0, 100, 0, 0, 8 };
    cmd(b, 0, 0, rd, 10, 0, 4096, &r);
    assert_good(&r);
    ck_assert_uint_eq(r.resid, 0);
    for (int i = 0; i < 4096; i++)
        ck_assert_uint_eq(b->m->ram[DIN + i], hd_pattern(100 * 512 + i));
    /* READ(6) with length 0 means 256 blocks. */
    uint8_t rd6[6] = { SCSI_READ_6, 0, 0, 10, 0, 0 };
    cmd(b, 0, 0, rd6, 6, 0, 256 * 512, &r);
    assert_good(&r);
    ck_assert_uint_eq(b->m->ram[DIN + 255 * 512 + 3], hd_pattern(265 * 512 + 3));
    /* WRITE(16) of 3 blocks at 4000, read back from the image. */
    for (int i = 0; i < 1536; i++)
        b->m->ram[DOUT + i] = (uint8_t)(i ^ 0x5a);
    uint8_t wr[16] = { SCSI_WRITE_16, [8] = 0x0f, [9] = 0xa0, [13] = 3 };
    cmd(b, 0, 0, wr, 16, 1536, 0, &r);
    assert_good(&r);
    uint8_t buf[1536];
    ck_assert_int_eq(blk_pread(b->hd, 4000 * 512, buf, sizeof buf), 0);
    ck_assert(!memcmp(buf, b->m->ram + DOUT, sizeof buf));
    /* The range is checked: the last block is fine, one more is not. */
    uint8_t last[10] = { SCSI_READ_10, 0, 0, 0, 0x0f, 0xff, 0, 0, 1 };
    cmd(b, 0, 0, last, 10, 0, 512, &r);
    assert_good(&r);
    last[8] = 2;
    cmd(b, 0, 0, last, 10, 0, 1024, &r);
    assert_sense(&r, SENSE_ILLEGAL_REQUEST, ASC_LBA_OUT_OF_RANGE, 0);
    uint8_t far[16] = { SCSI_READ_16, 0, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
                        0, 0, 0, 1 };
    cmd(b, 0, 0, far, 16, 0, 512, &r);
    assert_sense(&r, SENSE_ILLEGAL_REQUEST, ASC_LBA_OUT_OF_RANGE, 0);
    /* Bigger than the transfer limit; bigger than the buffer. */
    uint8_t huge[12] = { SCSI_READ_12, 0, 0, 0, 0, 0, 0x7f, 0xff, 0xff, 0xff };
    cmd(b, 0, 0, huge, 12, 0, 512, &r);
    assert_sense(&r, SENSE_ILLEGAL_REQUEST, ASC_LBA_OUT_OF_RANGE, 0);
    uint8_t big[12] = { SCSI_READ_12, 0, 0, 0, 0, 0, 0, 0, 0x10, 0 };
    cmd(b, 0, 0, big, 12, 0, 512, &r);
    ck_assert_uint_eq(r.response, VIRTIO_SCSI_S_OVERRUN);
    /* SYNCHRONIZE CACHE, VERIFY. */
    uint8_t sc[10] = { SCSI_SYNCHRONIZE_CACHE_10 };
    cmd(b, 0, 0, sc, 10, 0, 0, &r);
    assert_good(&r);
    uint8_t vf[10] = { SCSI_VERIFY_10, 0, 0, 0, 0, 0, 0, 0, 8 };
    cmd(b, 0, 0, vf, 10, 0, 0, &r);
    assert_good(&r);
    bench_free(b);
}
END_TEST

START_TEST(test_scsi_unmap_write_same)
{
    Bench *b = scsi_bench();
    Resp r;
    struct stat st0, st1;
    ck_assert_int_eq(stat(b->hd_path, &st0), 0);
    /* UNMAP blocks 0..2047 (1 MiB): a hole in the raw file, zeros back. */
    uint8_t *p = b->m->ram + DOUT;
    memset(p, 0, 24);
    p[1] = 22;
    p[3] = 16;
    p[8 + 10] = 0x08;                                       /* 2048 blocks: 0x800 */
    uint8_t um[10] = { SCSI_UNMAP, 0, 0, 0, 0, 0, 0, 0, 24 };
    cmd(b, 0, 0, um, 10, 24, 0, &r);
    assert_good(&r);
    ck_assert_int_eq(stat(b->hd_path, &st1), 0);
    ck_assert_int_lt(st1.st_blocks, st0.st_blocks);
    uint8_t buf[512];
    ck_assert_int_eq(blk_pread(b->hd, 1000 * 512, buf, 512), 0);
    for (int i = 0; i < 512; i++)
        ck_assert_uint_eq(buf[i], 0);
    ck_assert_int_eq(blk_pread(b->hd, 2048 * 512, buf, 512), 0);
    ck_assert_uint_eq(buf[5], hd_pattern(2048 * 512 + 5));
    /* A descriptor past the end; a parameter list shorter than its header. */
    p[8 + 6] = 0x0f;                                        /* LBA 4095 + 2048 blocks */
    p[8 + 7] = 0xff;
    cmd(b, 0, 0, um, 10, 24, 0, &r);
    assert_sense(&r, SENSE_ILLEGAL_REQUEST, ASC_LBA_OUT_OF_RANGE, 0);
    um[8] = 4;
    cmd(b, 0, 0, um, 10, 4, 0, &r);
    assert_sense(&r, SENSE_ILLEGAL_REQUEST, ASC_PARAM_LIST_LENGTH, 0);
    /* WRITE SAME(16) without UNMAP: one block repeated over 3000 blocks
     * (more than one 1 MiB chunk). */
    for (int i = 0; i < 512; i++)
        p[i] = (uint8_t)(i + 3);
    uint8_t ws[16] = { SCSI_WRITE_SAME_16, 0, [9] = 100, [12] = 0x0b, [13] = 0xb8 };
    cmd(b, 0, 0, ws, 16, 512, 0, &r);
    assert_good(&r);
    ck_assert_int_eq(blk_pread(b->hd, 3099 * 512, buf, 512), 0);
    ck_assert(!memcmp(buf, p, 512));
    ck_assert_int_eq(blk_pread(b->hd, 3100 * 512, buf, 512), 0);
    ck_assert_uint_eq(buf[9], hd_pattern(3100 * 512 + 9));
    /* With UNMAP and zeros: a discard; NDOB means zeros without data. */
    ck_assert_int_eq(stat(b->hd_path, &st0), 0);
    uint8_t wsu[16] = { SCSI_WRITE_SAME_16, 0x09, [8] = 0x0c, [12] = 0x04 };  /* LBA 3072, 1024 */
    cmd(b, 0, 0, wsu, 16, 0, 0, &r);
    assert_good(&r);
    ck_assert_int_eq(stat(b->hd_path, &st1), 0);
    ck_assert_int_lt(st1.st_blocks, st0.st_blocks);
    ck_assert_int_eq(blk_pread(b->hd, 3500 * 512, buf, 512), 0);
    ck_assert_uint_eq(buf[0], 0);
    /* Zero blocks (WSNZ), anchor: refused. */
    uint8_t ws0[16] = { SCSI_WRITE_SAME_16, 0x08 };
    cmd(b, 0, 0, ws0, 16, 512, 0, &r);
    assert_sense(&r, SENSE_ILLEGAL_REQUEST, ASC_INVALID_FIELD, 0);
    bench_free(b);
}
END_TEST

START_TEST(test_scsi_mode_sense_and_sense)
{
    Bench *b = scsi_bench();
    Resp r;
    uint8_t ms[6] = { SCSI_MODE_SENSE_6, 0, 0x3f, 0, 255, 0 };
    cmd(b, 0, 0, ms, 6, 0, 255, &r);
    assert_good(&r);
    uint8_t *d = b->m->ram + DIN;
    ck_assert_uint_eq(d[3], 8);                                     /* block descriptor */
    ck_assert_uint_eq(be32(d + 4), HD_BLOCKS);
    ck_assert_uint_eq(d[2] & 0x80, 0);                              /* not write protected */
    ck_assert_uint_eq(d[0] + 1u, 4u + 8 + 12 + 20 + 12);
    ck_assert_uint_eq(d[12 + 12], 0x08);                            /* caching page */
    ck_assert_uint_eq(d[12 + 12 + 2] & 0x04, 0x04);                 /* WCE */
    uint8_t ms10[10] = { SCSI_MODE_SENSE_10, 0x08, 0x08, 0, 0, 0, 0, 0, 255 };
    cmd(b, 0, 0, ms10, 10, 0, 255, &r);
    assert_good(&r);
    ck_assert_uint_eq(be16(d + 6), 0);                              /* DBD */
    ck_assert_uint_eq(d[8], 0x08);
    ms[2] = 0xc8;                                                   /* saved values */
    cmd(b, 0, 0, ms, 6, 0, 255, &r);
    assert_sense(&r, SENSE_ILLEGAL_REQUEST, ASC_SAVING_NOT_SUPPORTED, 0);
    ms[2] = 0x15;                                                   /* no such page */
    cmd(b, 0, 0, ms, 6, 0, 255, &r);
    assert_sense(&r, SENSE_ILLEGAL_REQUEST, ASC_INVALID_FIELD, 0);
    /* REQUEST SENSE: nothing pending; after a reset, the UNIT ATTENTION. */
    uint8_t rs[6] = { SCSI_REQUEST_SENSE, 0, 0, 0, 18, 0 };
    cmd(b, 0, 0, rs, 6, 0, 18, &r);
    assert_good(&r);
    ck_assert_uint_eq(d[0], 0x70);
    ck_assert_uint_eq(d[2], SENSE_NONE);
    /* Logical unit reset through the control queue. */
    ck_assert_uint_eq(tmf(b, VIRTIO_SCSI_T_TMF_LOGICAL_UNIT_RESET, 0),
                      VIRTIO_SCSI_S_FUNCTION_COMPLETE);
    cmd(b, 0, 0, rs, 6, 0, 18, &r);
    assert_good(&r);
    ck_assert_uint_eq(d[2], SENSE_UNIT_ATTENTION);
    ck_assert_uint_eq(d[12], ASC_POWER_ON_RESET);
    /* ... reported once. */
    cmd(b, 0, 0, rs, 6, 0, 18, &r);
    ck_assert_uint_eq(d[2], SENSE_NONE);
    /* Task management for a missing target, a query, CLEAR ACA. */
    ck_assert_uint_eq(tmf(b, VIRTIO_SCSI_T_TMF_ABORT_TASK, 7), VIRTIO_SCSI_S_BAD_TARGET);
    ck_assert_uint_eq(tmf(b, VIRTIO_SCSI_T_TMF_QUERY_TASK, 0), VIRTIO_SCSI_S_FUNCTION_COMPLETE);
    ck_assert_uint_eq(tmf(b, VIRTIO_SCSI_T_TMF_ABORT_TASK_SET, 1),
                      VIRTIO_SCSI_S_FUNCTION_COMPLETE);
    ck_assert_uint_eq(tmf(b, VIRTIO_SCSI_T_TMF_CLEAR_ACA, 0), VIRTIO_SCSI_S_FUNCTION_REJECTED);
    uint8_t *t = b->m->ram + HDR;
    /* Asynchronous notification query: no classes. */
    memset(t, 0, 16);
    t[0] = VIRTIO_SCSI_T_AN_QUERY;
    t[4] = 1;
    w32(b, RESP, 0xffffffffu);
    desc(b, 0, 0, HDR, 16, VIRTQ_DESC_F_NEXT, 1);
    desc(b, 0, 1, RESP, 5, VIRTQ_DESC_F_WRITE, 0);
    ck_assert_uint_eq(kick(b, 0, 0), 5);
    ck_assert_uint_eq(r32(b, RESP), 0);
    ck_assert_uint_eq(b->m->ram[RESP + 4], VIRTIO_SCSI_S_OK);
    bench_free(b);
}
END_TEST

START_TEST(test_scsi_cd)
{
    Bench *b = scsi_bench();
    Resp r;
    uint8_t rc10[10] = { SCSI_READ_CAPACITY_10 };
    cmd(b, 1, 0, rc10, 10, 0, 8, &r);
    assert_good(&r);
    ck_assert_uint_eq(be32(b->m->ram + DIN), CD_BLOCKS - 1);
    ck_assert_uint_eq(be32(b->m->ram + DIN + 4), 2048);
    uint8_t rd[12] = { SCSI_READ_12, 0, 0, 0, 0, 2, 0, 0, 0, 1 };
    cmd(b, 1, 0, rd, 12, 0, 2048, &r);
    assert_good(&r);
    ck_assert_uint_eq(b->m->ram[DIN + 7], hd_pattern(2 * 2048 + 7));
    uint8_t toc[10] = { MMC_READ_TOC, 0, 0, 0, 0, 0, 0, 0, 100 };
    cmd(b, 1, 0, toc, 10, 0, 100, &r);
    assert_good(&r);
    ck_assert_uint_eq(be16(b->m->ram + DIN), 18);                  /* two descriptors */
    ck_assert_uint_eq(b->m->ram[DIN + 14], 0xaa);
    ck_assert_uint_eq(be32(b->m->ram + DIN + 16), CD_BLOCKS);       /* lead-out */
    uint8_t gc[10] = { MMC_GET_CONFIGURATION, 0, 0, 0, 0, 0, 0, 0, 64 };
    cmd(b, 1, 0, gc, 10, 0, 64, &r);
    assert_good(&r);
    ck_assert_uint_eq(be16(b->m->ram + DIN + 6), 0x0008);          /* CD-ROM profile */
    uint8_t di[10] = { MMC_READ_DISC_INFORMATION, 0, 0, 0, 0, 0, 0, 0, 34 };
    cmd(b, 1, 0, di, 10, 0, 34, &r);
    assert_good(&r);
    ck_assert_uint_eq(b->m->ram[DIN + 2] & 3, 2);                   /* complete disc */
    /* Writes are not CD commands. */
    uint8_t wr[10] = { SCSI_WRITE_10, 0, 0, 0, 0, 0, 0, 0, 1 };
    cmd(b, 1, 0, wr, 10, 2048, 0, &r);
    assert_sense(&r, SENSE_ILLEGAL_REQUEST, ASC_INVALID_OPCODE, 0);
    /* Eject: NOT READY, tray open; PREVENT stops the next eject. */
    uint8_t ej[6] = { SCSI_START_STOP_UNIT, 0, 0, 0, 0x02, 0 };
    cmd(b, 1, 0, ej, 6, 0, 0, &r);
    assert_good(&r);
    static const uint8_t tur[6] = { SCSI_TEST_UNIT_READY };
    cmd(b, 1, 0, tur, 6, 0, 0, &r);
    assert_sense(&r, SENSE_NOT_READY, ASC_MEDIUM_NOT_PRESENT, 0x02);
    uint8_t ev[10] = { MMC_GET_EVENT_STATUS, 1, 0, 0, 0x10, 0, 0, 0, 8 };
    cmd(b, 1, 0, ev, 10, 0, 8, &r);
    assert_good(&r);
    ck_assert_uint_eq(b->m->ram[DIN + 4], 0x03);                    /* media removal */
    ej[4] = 0x03;                                                   /* load */
    cmd(b, 1, 0, ej, 6, 0, 0, &r);
    assert_good(&r);
    cmd(b, 1, 0, tur, 6, 0, 0, &r);
    assert_good(&r);
    uint8_t pa[6] = { SCSI_PREVENT_ALLOW, 0, 0, 0, 1, 0 };
    cmd(b, 1, 0, pa, 6, 0, 0, &r);
    assert_good(&r);
    ej[4] = 0x02;
    cmd(b, 1, 0, ej, 6, 0, 0, &r);
    assert_sense(&r, SENSE_ILLEGAL_REQUEST, ASC_REMOVAL_PREVENTED, 0x02);
    bench_free(b);
}
END_TEST

/* Malformed requests are device errors: NEEDS_RESET, nothing used. */
START_TEST(test_scsi_malformed)
{
    Bench *b = scsi_bench();
    /* A command request shorter than its header. */
    desc(b, 2, 0, HDR, 20, VIRTQ_DESC_F_NEXT, 1);
    desc(b, 2, 1, RESP, RESP_HDR, VIRTQ_DESC_F_WRITE, 0);
    ck_assert_uint_eq(kick(b, 2, 0), ~0u);
    ck_assert(cr(b, VIRTIO_PCI_COMMON_STATUS, 1) & VIRTIO_STATUS_NEEDS_RESET);
    /* After a reset it works again; then a control request of an
     * unknown type breaks it. */
    driver_init(b, ~0ULL);
    Resp r;
    uint8_t inq[6] = { SCSI_INQUIRY, 0, 0, 0, 36, 0 };
    cmd(b, 0, 0, inq, 6, 0, 36, &r);
    assert_good(&r);
    w32(b, HDR, 77);
    desc(b, 0, 0, HDR, 24, VIRTQ_DESC_F_NEXT, 1);
    desc(b, 0, 1, RESP, 1, VIRTQ_DESC_F_WRITE, 0);
    ck_assert_uint_eq(kick(b, 0, 0), ~0u);
    ck_assert(cr(b, VIRTIO_PCI_COMMON_STATUS, 1) & VIRTIO_STATUS_NEEDS_RESET);
    /* A driver that shrinks sense_size below what it gives is fine; one
     * that grows cdb_size past its buffers gets device errors. */
    driver_init(b, ~0ULL);
    virtio_config_write(b->vdev, 24, 0xffffffffu, 4);
    cmd(b, 0, 0, inq, 6, 0, 36, &r);
    ck_assert_uint_eq(r.used_len, ~0u);
    ck_assert(cr(b, VIRTIO_PCI_COMMON_STATUS, 1) & VIRTIO_STATUS_NEEDS_RESET);
    bench_free(b);
}
END_TEST

START_TEST(test_scsi_events)
{
    Bench *b = scsi_bench();
    /* No event buffer: the event is missed, then reported with the
     * first buffer. */
    ck_assert(virtio_scsi_push_event(b->h, VIRTIO_SCSI_T_PARAM_CHANGE, 0, 0, 0x092a));
    memset(b->m->ram + DIN, 0xee, 16);
    desc(b, 1, 0, DIN, 16, VIRTQ_DESC_F_WRITE, 0);
    ck_assert_uint_eq(kick(b, 1, 0), 16);
    ck_assert_uint_eq(r32(b, DIN), VIRTIO_SCSI_T_NO_EVENT | VIRTIO_SCSI_T_EVENTS_MISSED);
    /* With a buffer waiting: delivered at once. */
    desc(b, 1, 1, DIN + 64, 16, VIRTQ_DESC_F_WRITE, 0);
    w16(b, AVAIL(1) + 4 + 2 * (b->avail_idx[1] % QSZ), 1);
    b->avail_idx[1]++;
    w16(b, AVAIL(1) + 2, b->avail_idx[1]);
    ck_assert(virtio_scsi_push_event(b->h, VIRTIO_SCSI_T_PARAM_CHANGE, 1, 0, 0x092a));
    ck_assert_uint_eq(r16(b, USED(1) + 2), 2);
    ck_assert_uint_eq(r32(b, DIN + 64), VIRTIO_SCSI_T_PARAM_CHANGE);
    ck_assert_uint_eq(b->m->ram[DIN + 64 + 4], 1);
    ck_assert_uint_eq(b->m->ram[DIN + 64 + 5], 1);
    ck_assert_uint_eq(r32(b, DIN + 64 + 12), 0x092a);
    bench_free(b);
}
END_TEST

/* The adapter, its units and the balloon save and load their state: a
 * second machine built alike takes it and answers the same. */
START_TEST(test_scsi_balloon_state)
{
    Bench *a = scsi_bench();
    Resp r;
    uint8_t pa[6] = { SCSI_PREVENT_ALLOW, 0, 0, 0, 1, 0 };
    cmd(a, 1, 0, pa, 6, 0, 0, &r);                          /* CD locked */
    virtio_config_write(a->vdev, 20, 64, 4);                /* sense_size 64 */
    VMBuf buf;
    vmbuf_init(&buf);
    machine_save_devices(a->m, &buf);
    Bench *b = bench_new(false, false);
    memcpy(b->m->ram, a->m->ram, RAM_SIZE);
    char *err = NULL;
    ck_assert_msg(machine_load_devices(b->m, buf.data, buf.len, &err) == 0, "%s", err);
    vmbuf_free(&buf);
    memcpy(b->avail_idx, a->avail_idx, sizeof b->avail_idx);
    ck_assert_uint_eq(virtio_config_read(b->vdev, 20, 4), 64);
    uint8_t ej[6] = { SCSI_START_STOP_UNIT, 0, 0, 0, 0x02, 0 };
    cmd(b, 1, 0, ej, 6, 0, 0, &r);
    ck_assert_uint_eq(r.response, VIRTIO_SCSI_S_OK);
    ck_assert_uint_eq(r.sense_len, 18);
    ck_assert_uint_eq(b->m->ram[RESP + 12 + 12], ASC_REMOVAL_PREVENTED);
    bench_free(a);
    bench_free(b);

    Bench *c = bench_new(true, false);
    driver_init(c, ~0ULL);
    virtio_balloon_set_target(c->bal, RAM_SIZE / 2);
    virtio_config_write(c->vdev, 4, 1024, 4);
    vmbuf_init(&buf);
    machine_save_devices(c->m, &buf);
    Bench *d = bench_new(true, false);
    ck_assert_msg(machine_load_devices(d->m, buf.data, buf.len, &err) == 0, "%s", err);
    vmbuf_free(&buf);
    ck_assert_uint_eq(virtio_config_read(d->vdev, 0, 4), 1024);
    ck_assert_uint_eq(virtio_balloon_actual(d->bal), RAM_SIZE / 2);
    bench_free(c);
    bench_free(d);
}
END_TEST

/* ---- virtio-balloon ---- */

START_TEST(test_balloon_target_and_change)
{
    Bench *b = bench_new(true, false);
    driver_init(b, ~0ULL);
    ck_assert_uint_eq(virtio_balloon_actual(b->bal), RAM_SIZE);
    virtio_balloon_set_target(b->bal, RAM_SIZE - (1u << 20));
    ck_assert_uint_eq(virtio_config_read(b->vdev, 0, 4), 256);        /* num_pages */
    /* The driver reports progress: on_change at once, then at most once
     * a second, the last value always announced. */
    virtio_config_write(b->vdev, 4, 100, 4);
    ck_assert_int_eq(b->changes, 1);
    virtio_config_write(b->vdev, 4, 200, 4);
    virtio_config_write(b->vdev, 4, 256, 4);
    ck_assert_int_eq(b->changes, 1);
    clock_advance(b->m->clock, 1000000000LL);
    clock_run_timers(b->m->clock);
    ck_assert_int_eq(b->changes, 2);
    ck_assert_uint_eq(virtio_balloon_actual(b->bal), RAM_SIZE - (1u << 20));
    /* num_pages is the device's: a driver write does not change it. */
    virtio_config_write(b->vdev, 0, 5, 4);
    ck_assert_uint_eq(virtio_config_read(b->vdev, 0, 4), 256);
    /* A target above the RAM size means an empty balloon. */
    virtio_balloon_set_target(b->bal, 1ULL << 40);
    ck_assert_uint_eq(virtio_config_read(b->vdev, 0, 4), 0);
    bench_free(b);
}
END_TEST

START_TEST(test_balloon_inflate_deflate)
{
    Bench *b = bench_new(true, false);
    driver_init(b, ~0ULL);
    /* Pages 0x200 and 0x201 hold data; the guest inflates them, one PFN
     * outside RAM and one in MMIO are ignored. */
    memset(b->m->ram + 0x200000, 0xab, 0x2000);
    w32(b, DOUT, 0x200);
    w32(b, DOUT + 4, 0x201);
    w32(b, DOUT + 8, 0xfffff);
    w32(b, DOUT + 12, MOD_BASE >> 12);
    desc(b, 0, 0, DOUT, 16, 0, 0);
    ck_assert_uint_eq(kick(b, 0, 0), 0);
    ck_assert_uint_eq(virtio_balloon_discarded_pages(b->bal), 2);
    for (int i = 0; i < 0x2000; i++)
        ck_assert_uint_eq(b->m->ram[0x200000 + i], 0);     /* MADV_DONTNEED: zeros */
    /* Deflate: used, nothing else. */
    desc(b, 1, 0, DOUT, 8, 0, 0);
    ck_assert_uint_eq(kick(b, 1, 0), 0);
    ck_assert(!(cr(b, VIRTIO_PCI_COMMON_STATUS, 1) & VIRTIO_STATUS_NEEDS_RESET));
    bench_free(b);
}
END_TEST

START_TEST(test_balloon_stats)
{
    Bench *b = bench_new(true, false);
    driver_init(b, ~0ULL);
    VirtIOBalloonStats st;
    virtio_balloon_stats(b->bal, &st);
    ck_assert_int_eq(st.updated_ns, -1);
    /* The driver's buffer: MEMTOT and MEMFREE, and an unknown tag. */
    uint8_t *p = b->m->ram + DOUT;
    uint64_t tot = 123456789, fr = 4242;
    p[0] = VIRTIO_BALLOON_S_MEMTOT; p[1] = 0; memcpy(p + 2, &tot, 8);
    p[10] = VIRTIO_BALLOON_S_MEMFREE; p[11] = 0; memcpy(p + 12, &fr, 8);
    p[20] = 99; p[21] = 0;
    desc(b, 2, 0, DOUT, 30, 0, 0);
    ck_assert_uint_eq(kick(b, 2, 0), ~0u);                  /* held, not used */
    virtio_balloon_stats(b->bal, &st);
    ck_assert(st.valid[VIRTIO_BALLOON_S_MEMTOT] && st.val[VIRTIO_BALLOON_S_MEMTOT] == tot);
    ck_assert(st.valid[VIRTIO_BALLOON_S_MEMFREE] && st.val[VIRTIO_BALLOON_S_MEMFREE] == fr);
    ck_assert(!st.valid[VIRTIO_BALLOON_S_SWAP_IN]);
    /* Asking returned the buffer to the driver. */
    ck_assert_uint_eq(r16(b, USED(2) + 2), 1);
    ck_assert_str_eq(virtio_balloon_stat_name(VIRTIO_BALLOON_S_MEMTOT), "stat-total-memory");
    bench_free(b);
}
END_TEST

START_TEST(test_balloon_reporting)
{
    Bench *b = bench_new(true, true);
    ck_assert_int_eq(b->vdev->nvq, 4);
    /* Without STATS_VQ the reporting queue is queue 2. */
    driver_init(b, ~(1ULL << VIRTIO_BALLOON_F_STATS_VQ));
    memset(b->m->ram + 0x400000, 0x77, 0x10000);
    desc(b, 2, 0, 0x400000, 0x10000, VIRTQ_DESC_F_WRITE | VIRTQ_DESC_F_NEXT, 1);
    desc(b, 2, 1, 0x500001, 0x1000, VIRTQ_DESC_F_WRITE, 0);    /* unaligned: skipped */
    b->m->ram[0x500001] = 0x55;
    ck_assert_uint_eq(kick(b, 2, 0), 0);
    ck_assert_uint_eq(virtio_balloon_discarded_pages(b->bal), 16);
    ck_assert_uint_eq(b->m->ram[0x40ffff], 0);
    ck_assert_uint_eq(b->m->ram[0x500001], 0x55);
    bench_free(b);
}
END_TEST

static Suite *virtio_scsi_suite(void)
{
    Suite *s = suite_create("virtio-scsi");
    TCase *tc = tcase_create("core");
    tcase_add_test(tc, test_scsi_config_and_addressing);
    tcase_add_test(tc, test_scsi_inquiry_vpd);
    tcase_add_test(tc, test_scsi_read_write);
    tcase_add_test(tc, test_scsi_unmap_write_same);
    tcase_add_test(tc, test_scsi_mode_sense_and_sense);
    tcase_add_test(tc, test_scsi_cd);
    tcase_add_test(tc, test_scsi_malformed);
    tcase_add_test(tc, test_scsi_events);
    tcase_add_test(tc, test_scsi_balloon_state);
    tcase_add_test(tc, test_balloon_target_and_change);
    tcase_add_test(tc, test_balloon_inflate_deflate);
    tcase_add_test(tc, test_balloon_stats);
    tcase_add_test(tc, test_balloon_reporting);
    suite_add_tcase(s, tc);
    return s;
}

UNIT_SUITE(virtio_scsi_suite)
