/* PIIX3 IDE: the ATA/ATAPI devices and the bus master driven through
 * their ports with no guest, against temporary raw images. */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "block/block.h"
#include "core/machine.h"
#include "hw/ide.h"
#include "hw/pci.h"
#include "hw/piix-ide.h"
#include "tests/unit/unit.h"

#define RAM_SIZE    (4u << 20)
#define DISK_SECS   2048u           /* 1 MiB disk */
#define CD_SECS     64u
#define BM_BASE     0xc000
#define P0          0x1f0
#define C0          0x3f6
#define P1          0x170
#define C1          0x376
#define DEVFN       PCI_DEVFN(1, 1)

typedef struct IdeBench {
    Machine *m;
    PCIBus *bus;
    PIIXIDEState *ide;
    IRQLine irq[2];
    int level[2], edges[2];
    BlockBackend *hd, *cd;
    char hd_path[64], cd_path[64];
} IdeBench;

static void bench_irq(void *opaque, int n, int level)
{
    IdeBench *b = opaque;
    if (level && !b->level[n])
        b->edges[n]++;
    b->level[n] = level;
}

/* Byte i of disk sector s. */
static uint8_t pattern(uint64_t s, unsigned i)
{
    return (uint8_t)(s * 7 + i * 13 + (s >> 8));
}

static void make_image(char *path, uint64_t size, unsigned secsize)
{
    strcpy(path, "/tmp/vx86-ide-XXXXXX");
    int fd = mkstemp(path);
    ck_assert_int_ge(fd, 0);
    ck_assert_int_eq(ftruncate(fd, (off_t)size), 0);
    uint8_t *buf = malloc(secsize);
    uint64_t n = size / secsize < 4096 ? size / secsize : 4096;
    for (uint64_t s = 0; s < n; s++) {
        for (unsigned i = 0; i < secsize; i++)
            buf[i] = pattern(s, i);
        ck_assert_int_eq(pwrite(fd, buf, secsize, (off_t)(s * secsize)), (ssize_t)secsize);
    }
    free(buf);
    close(fd);
}

static BlockBackend *open_image(const char *path, bool ro)
{
    char err[256];
    BlockOpenOptions o = { .filename = path, .format = "raw", .read_only = ro,
                           .cache = BLK_CACHE_WRITEBACK, .no_lock = true };
    BlockBackend *bb = blk_open(&o, err, sizeof err);
    ck_assert_msg(bb != NULL, "%s", err);
    return bb;
}

/* hd_size 0: no disk; cd: 0 none, 1 empty drive, 2 with a medium. */
static IdeBench *bench_new(uint64_t hd_size, int cd)
{
    char err[128];
    IdeBench *b = calloc(1, sizeof(*b));
    b->m = machine_new(RAM_SIZE, CLOCK_MANUAL, err, sizeof err);
    ck_assert_ptr_nonnull(b->m);
    ck_assert_ptr_nonnull(memmap_add_ram(b->m->mem, "ram", 0, RAM_SIZE, b->m->ram, NULL));
    b->bus = pci_bus_new(b->m);
    for (int i = 0; i < 2; i++)
        irq_init(&b->irq[i], bench_irq, b, i);
    PIIXIDEConfig c = { .devfn = DEVFN, .port = { P0, P1 }, .ctl = { C0, C1 },
                        .irq = { &b->irq[0], &b->irq[1] } };
    b->ide = piix_ide_create(b->m, b->bus, &c);
    ck_assert_ptr_nonnull(b->ide);
    if (hd_size) {
        make_image(b->hd_path, hd_size, 512);
        b->hd = open_image(b->hd_path, false);
        ide_drive_attach(piix_ide_bus(b->ide, 0), 0, IDE_HD, b->hd);
    }
    if (cd == 2) {
        make_image(b->cd_path, CD_SECS * 2048, 2048);
        b->cd = open_image(b->cd_path, true);
    }
    if (cd)
        ide_drive_attach(piix_ide_bus(b->ide, 1), 0, IDE_CD, b->cd);
    machine_reset_devices(b->m);
    /* IO + bus master enable, BAR4 at BM_BASE */
    pci_bus_config_write(b->bus, DEVFN, 0x20, BM_BASE | 1, 4);
    pci_bus_config_write(b->bus, DEVFN, PCI_COMMAND, PCI_COMMAND_IO | PCI_COMMAND_MASTER, 2);
    return b;
}

static void bench_free(IdeBench *b)
{
    if (b->hd)
        blk_drain(b->hd);
    machine_free(b->m);
    blk_close(b->hd);
    blk_close(b->cd);
    if (b->hd_path[0])
        unlink(b->hd_path);
    if (b->cd_path[0])
        unlink(b->cd_path);
    free(b);
}

static void settle(IdeBench *b)
{
    if (b->hd)
        blk_drain(b->hd);
    if (b->cd)
        blk_drain(b->cd);
}

static uint8_t inb(IdeBench *b, uint16_t p) { return (uint8_t)iospace_read(b->m->io, p, 1); }
static uint16_t inw(IdeBench *b, uint16_t p) { return (uint16_t)iospace_read(b->m->io, p, 2); }
static void outb(IdeBench *b, uint16_t p, uint8_t v) { iospace_write(b->m->io, p, v, 1); }
static void outw(IdeBench *b, uint16_t p, uint16_t v) { iospace_write(b->m->io, p, v, 2); }
static void outl(IdeBench *b, uint16_t p, uint32_t v) { iospace_write(b->m->io, p, v, 4); }

static void lba28(IdeBench *b, uint16_t base, uint32_t lba, uint8_t count)
{
    outb(b, base + 6, (uint8_t)(0xe0 | ((lba >> 24) & 0x0f)));
    outb(b, base + 2, count);
    outb(b, base + 3, (uint8_t)lba);
    outb(b, base + 4, (uint8_t)(lba >> 8));
    outb(b, base + 5, (uint8_t)(lba >> 16));
}

static void lba48(IdeBench *b, uint16_t base, uint64_t lba, uint16_t count)
{
    outb(b, base + 6, 0x40);
    outb(b, base + 2, (uint8_t)(count >> 8));
    outb(b, base + 3, (uint8_t)(lba >> 24));
    outb(b, base + 4, (uint8_t)(lba >> 32));
    outb(b, base + 5, (uint8_t)(lba >> 40));
    outb(b, base + 2, (uint8_t)count);
    outb(b, base + 3, (uint8_t)lba);
    outb(b, base + 4, (uint8_t)(lba >> 8));
    outb(b, base + 5, (uint8_t)(lba >> 16));
}

static void read_sector_words(IdeBench *b, uint16_t base, uint8_t *out, unsigned bytes)
{
    for (unsigned i = 0; i < bytes; i += 2) {
        uint16_t w = inw(b, base);
        out[i] = (uint8_t)w;
        out[i + 1] = (uint8_t)(w >> 8);
    }
}

static void check_sector(const uint8_t *p, uint64_t s)
{
    for (unsigned i = 0; i < 512; i++)
        ck_assert_msg(p[i] == pattern(s, i), "sector %llu byte %u", (unsigned long long)s, i);
}

/* ---- ATA ---- */

START_TEST(identify_device)
{
    IdeBench *b = bench_new(DISK_SECS * 512, 0);
    ck_assert_uint_eq(inb(b, P0 + 7), 0x50);
    ck_assert_uint_eq(inb(b, P0 + 4), 0);      /* ATA signature */
    ck_assert_uint_eq(inb(b, P0 + 5), 0);
    outb(b, P0 + 6, 0xa0);
    outb(b, P0 + 7, 0xec);
    settle(b);
    ck_assert_int_eq(b->level[0], 1);
    ck_assert_uint_eq(inb(b, P0 + 7), 0x58);
    ck_assert_int_eq(b->level[0], 0);
    uint8_t id[512];
    read_sector_words(b, P0, id, 512);
    uint16_t w[256];
    uint8_t sum = 0;
    for (int i = 0; i < 256; i++)
        w[i] = (uint16_t)(id[2 * i] | id[2 * i + 1] << 8);
    for (int i = 0; i < 512; i++)
        sum = (uint8_t)(sum + id[i]);
    ck_assert_uint_eq(w[0], 0x0040);
    ck_assert_uint_eq(w[255] & 0xff, 0xa5);
    ck_assert_uint_eq(sum, 0);
    char model[41];
    for (int i = 0; i < 20; i++) {
        model[2 * i] = (char)(w[27 + i] >> 8);
        model[2 * i + 1] = (char)w[27 + i];
    }
    model[40] = 0;
    ck_assert(strncmp(model, "VX86 HARDDISK ", 14) == 0);
    ck_assert_uint_eq(w[60] | (uint32_t)w[61] << 16, DISK_SECS);
    ck_assert_uint_eq(w[100], DISK_SECS);
    ck_assert_uint_eq(w[83] & 0x0400, 0x0400);  /* 48-bit */
    ck_assert_uint_eq(w[49] & 0x0300, 0x0300);  /* LBA, DMA */
    ck_assert_uint_eq(w[88] & 0x3f, 0x3f);
    ck_assert_uint_eq(w[47] & 0xff, 16);
    ck_assert_uint_eq(inb(b, P0 + 7), 0x50);    /* DRQ gone */
    /* The absent slave: status 0, signature test fails */
    outb(b, P0 + 6, 0xb0);
    ck_assert_uint_eq(inb(b, P0 + 7), 0);
    outb(b, P0 + 2, 0x55);
    ck_assert_uint_ne(inb(b, P0 + 2), 0x55);
    /* An empty channel floats */
    outb(b, P1 + 6, 0xa0);
    ck_assert_uint_eq(inb(b, P1 + 7), 0xff);
    bench_free(b);
}
END_TEST

START_TEST(pio_read_write)
{
    IdeBench *b = bench_new(DISK_SECS * 512, 0);
    uint8_t sec[512];
    lba28(b, P0, 5, 3);
    outb(b, P0 + 7, 0x20);                      /* READ SECTORS */
    for (int s = 0; s < 3; s++) {
        settle(b);
        ck_assert_int_eq(b->level[0], 1);
        ck_assert_uint_eq(inb(b, P0 + 7), 0x58);
        read_sector_words(b, P0, sec, 512);
        check_sector(sec, 5 + (uint64_t)s);
    }
    ck_assert_uint_eq(inb(b, P0 + 7), 0x50);
    ck_assert_uint_eq(inb(b, P0 + 3), 7);       /* last sector read */

    /* WRITE SECTORS of 2 sectors, 32-bit data port */
    lba28(b, P0, 100, 2);
    outb(b, P0 + 7, 0x30);
    for (int s = 0; s < 2; s++) {
        ck_assert_uint_eq(inb(b, P0 + 7) & 0x88, 0x08);
        for (int i = 0; i < 128; i++)
            outl(b, P0, 0x01020304u * (uint32_t)(i + 1 + s));
        settle(b);
        ck_assert_int_eq(b->level[0], 1);
    }
    ck_assert_uint_eq(inb(b, P0 + 7), 0x50);
    uint8_t back[1024];
    ck_assert_int_eq(blk_pread(b->hd, 100 * 512, back, sizeof back), 0);
    for (int s = 0; s < 2; s++)
        for (int i = 0; i < 128; i++) {
            uint32_t v = 0x01020304u * (uint32_t)(i + 1 + s);
            ck_assert_int_eq(memcmp(back + s * 512 + i * 4, &v, 4), 0);
        }

    /* READ MULTIPLE needs SET MULTIPLE first; blocks of 4, 4, 2 */
    lba28(b, P0, 0, 10);
    outb(b, P0 + 7, 0xc4);
    settle(b);
    ck_assert_uint_eq(inb(b, P0 + 7), 0x51);
    ck_assert_uint_eq(inb(b, P0 + 1), IDE_ER_ABRT);
    outb(b, P0 + 2, 3);
    outb(b, P0 + 7, 0xc6);                      /* not a power of two */
    ck_assert_uint_eq(inb(b, P0 + 7), 0x51);
    outb(b, P0 + 2, 4);
    outb(b, P0 + 7, 0xc6);
    ck_assert_uint_eq(inb(b, P0 + 7), 0x50);
    lba28(b, P0, 20, 10);
    int irqs = b->edges[0];
    outb(b, P0 + 7, 0xc4);
    uint64_t s = 20;
    for (int blk = 0; blk < 3; blk++) {
        settle(b);
        ck_assert_uint_eq(inb(b, P0 + 7), 0x58);
        int n = blk < 2 ? 4 : 2;
        for (int i = 0; i < n; i++, s++) {
            read_sector_words(b, P0, sec, 512);
            check_sector(sec, s);
        }
    }
    ck_assert_int_eq(b->edges[0] - irqs, 3);
    ck_assert_uint_eq(inb(b, P0 + 7), 0x50);
    bench_free(b);
}
END_TEST

START_TEST(lba48_past_28_bits)
{
    /* A sparse disk just past the LBA28 limit. */
    uint64_t secs = (1ULL << 28) + 64;
    IdeBench *b = bench_new(secs * 512, 0);
    uint8_t pat[512];
    for (int i = 0; i < 512; i++)
        pat[i] = (uint8_t)(0xa0 ^ i);
    uint64_t lba = (1ULL << 28) + 17;
    ck_assert_int_eq(blk_pwrite(b->hd, lba * 512, pat, 512), 0);
    outb(b, P0 + 6, 0xa0);
    outb(b, P0 + 7, 0xec);
    settle(b);
    uint8_t id[512];
    read_sector_words(b, P0, id, 512);
    ck_assert_uint_eq(id[120] | id[121] << 8 | id[122] << 16 | (uint32_t)id[123] << 24,
                      0x0fffffffu);
    uint64_t n48 = 0;
    for (int i = 0; i < 8; i++)
        n48 |= (uint64_t)id[200 + i] << (8 * i);
    ck_assert_uint_eq(n48, secs);

    lba48(b, P0, lba, 1);
    outb(b, P0 + 7, 0x24);                      /* READ SECTORS EXT */
    settle(b);
    ck_assert_uint_eq(inb(b, P0 + 7), 0x58);
    uint8_t sec[512];
    read_sector_words(b, P0, sec, 512);
    ck_assert_int_eq(memcmp(sec, pat, 512), 0);
    ck_assert_uint_eq(inb(b, P0 + 7), 0x50);
    /* HOB read-back of the last sector's address */
    outb(b, C0, IDE_CTL_HOB);
    ck_assert_uint_eq(inb(b, P0 + 3), (uint8_t)(lba >> 24));
    outb(b, C0, 0);
    ck_assert_uint_eq(inb(b, P0 + 3), (uint8_t)lba);
    /* LBA28 cannot reach it: the same low bits read sector lba & 0xfffffff */
    bench_free(b);
}
END_TEST

START_TEST(out_of_range)
{
    IdeBench *b = bench_new(DISK_SECS * 512, 0);
    lba28(b, P0, DISK_SECS - 1, 2);
    outb(b, P0 + 7, 0x20);
    settle(b);
    ck_assert_int_eq(b->level[0], 1);
    ck_assert_uint_eq(inb(b, P0 + 7), 0x51);
    ck_assert_uint_eq(inb(b, P0 + 1), IDE_ER_IDNF);
    /* LBA48 count 0 = 65536 sectors */
    lba48(b, P0, 0, 0);
    outb(b, P0 + 7, 0x25);
    ck_assert_uint_eq(inb(b, P0 + 7), 0x51);
    ck_assert_uint_eq(inb(b, P0 + 1), IDE_ER_IDNF);
    lba48(b, P0, 0xffffffffffffULL, 1);
    outb(b, P0 + 7, 0x34);
    ck_assert_uint_eq(inb(b, P0 + 7), 0x51);
    /* the device still works */
    lba28(b, P0, DISK_SECS - 1, 1);
    outb(b, P0 + 7, 0x20);
    settle(b);
    ck_assert_uint_eq(inb(b, P0 + 7), 0x58);
    uint8_t sec[512];
    read_sector_words(b, P0, sec, 512);
    check_sector(sec, DISK_SECS - 1);
    /* unknown command (SMART): aborted */
    outb(b, P0 + 7, 0xb0);
    ck_assert_uint_eq(inb(b, P0 + 7), 0x51);
    ck_assert_uint_eq(inb(b, P0 + 1), IDE_ER_ABRT);
    bench_free(b);
}
END_TEST

START_TEST(misc_commands)
{
    IdeBench *b = bench_new(DISK_SECS * 512, 0);
    outb(b, P0 + 6, 0xa0);
    outb(b, P0 + 7, 0xe7);                      /* FLUSH CACHE */
    ck_assert_uint_eq(inb(b, P0 + 7) & 0x80, 0x80);
    settle(b);
    ck_assert_uint_eq(inb(b, P0 + 7), 0x50);
    outb(b, P0 + 7, 0xe0);                      /* STANDBY IMMEDIATE */
    outb(b, P0 + 7, 0xe5);                      /* CHECK POWER MODE */
    ck_assert_uint_eq(inb(b, P0 + 2), 0x00);
    outb(b, P0 + 7, 0xe1);
    outb(b, P0 + 7, 0xe5);
    ck_assert_uint_eq(inb(b, P0 + 2), 0xff);
    outb(b, P0 + 1, 0x03);                      /* SET FEATURES: UDMA 5 */
    outb(b, P0 + 2, 0x45);
    outb(b, P0 + 7, 0xef);
    ck_assert_uint_eq(inb(b, P0 + 7), 0x50);
    outb(b, P0 + 1, 0x03);
    outb(b, P0 + 2, 0x47);                      /* UDMA 7: refused */
    outb(b, P0 + 7, 0xef);
    ck_assert_uint_eq(inb(b, P0 + 7), 0x51);
    /* INITIALIZE DEVICE PARAMETERS 4 heads x 8 sectors, then a CHS read */
    outb(b, P0 + 6, 0xa3);
    outb(b, P0 + 2, 8);
    outb(b, P0 + 7, 0x91);
    ck_assert_uint_eq(inb(b, P0 + 7), 0x50);
    /* C/H/S 2/1/3 = (2*4+1)*8+2 = 74 */
    outb(b, P0 + 6, 0xa1);
    outb(b, P0 + 2, 1);
    outb(b, P0 + 3, 3);
    outb(b, P0 + 4, 2);
    outb(b, P0 + 5, 0);
    outb(b, P0 + 7, 0x20);
    settle(b);
    uint8_t sec[512];
    read_sector_words(b, P0, sec, 512);
    check_sector(sec, 74);
    /* READ VERIFY and SEEK */
    lba28(b, P0, 10, 4);
    outb(b, P0 + 7, 0x40);
    ck_assert_uint_eq(inb(b, P0 + 7), 0x50);
    lba28(b, P0, DISK_SECS, 1);
    outb(b, P0 + 7, 0x70);
    ck_assert_uint_eq(inb(b, P0 + 7), 0x51);
    ck_assert_uint_eq(inb(b, P0 + 1), IDE_ER_IDNF);
    bench_free(b);
}
END_TEST

START_TEST(srst_and_nien)
{
    IdeBench *b = bench_new(DISK_SECS * 512, 0);
    outb(b, C0, IDE_CTL_NIEN);
    outb(b, P0 + 6, 0xa0);
    outb(b, P0 + 7, 0xec);
    settle(b);
    ck_assert_int_eq(b->level[0], 0);           /* nIEN: no interrupt */
    ck_assert_uint_eq(inb(b, C0) & 0x08, 0x08);
    outb(b, C0, IDE_CTL_SRST);
    ck_assert_uint_eq(inb(b, C0), 0x80);
    outb(b, C0, 0);
    ck_assert_uint_eq(inb(b, P0 + 7), 0x50);    /* DRQ gone, ready */
    ck_assert_uint_eq(inb(b, P0 + 2), 1);
    ck_assert_uint_eq(inb(b, P0 + 3), 1);
    ck_assert_uint_eq(inb(b, P0 + 1), 1);
    /* interrupts are back */
    outb(b, P0 + 7, 0xe5);
    ck_assert_int_eq(b->level[0], 1);
    bench_free(b);
}
END_TEST

/* ---- bus master DMA ---- */

static void put_prd(IdeBench *b, uint32_t at, uint32_t addr, uint32_t count, bool eot)
{
    uint8_t e[8] = {
        (uint8_t)addr, (uint8_t)(addr >> 8), (uint8_t)(addr >> 16), (uint8_t)(addr >> 24),
        (uint8_t)count, (uint8_t)(count >> 8), 0, eot ? 0x80 : 0,
    };
    ck_assert(memmap_write_buf(b->m->mem, at, e, 8));
}

/* Runs one DMA command as Linux does: PRD address, direction, ATA
 * command, start.  Returns the bus master status. */
static uint8_t run_dma(IdeBench *b, uint32_t table, bool read, uint64_t lba, uint32_t count,
                       bool ext)
{
    outl(b, BM_BASE + 4, table);
    outb(b, BM_BASE + 2, BM_ST_ERROR | BM_ST_INTR);
    outb(b, BM_BASE, read ? BM_CMD_READ : 0);
    if (ext)
        lba48(b, P0, lba, (uint16_t)count);
    else
        lba28(b, P0, (uint32_t)lba, (uint8_t)count);
    outb(b, P0 + 7, ext ? (read ? 0x25 : 0x35) : (read ? 0xc8 : 0xca));
    outb(b, BM_BASE, (uint8_t)((read ? BM_CMD_READ : 0) | BM_CMD_START));
    settle(b);
    uint8_t st = inb(b, BM_BASE + 2);
    outb(b, BM_BASE, read ? BM_CMD_READ : 0);
    return st;
}

START_TEST(dma_read_write)
{
    IdeBench *b = bench_new(DISK_SECS * 512, 0);
    put_prd(b, 0x1000, 0x20000, 2048, false);
    put_prd(b, 0x1008, 0x30000, 2048, true);
    uint8_t st = run_dma(b, 0x1000, true, 40, 8, false);
    ck_assert_uint_eq(st & (BM_ST_ACTIVE | BM_ST_ERROR | BM_ST_INTR), BM_ST_INTR);
    ck_assert_int_eq(b->level[0], 1);
    ck_assert_uint_eq(inb(b, P0 + 7), 0x50);
    for (int s = 0; s < 8; s++)
        check_sector(b->m->ram + (s < 4 ? 0x20000 + s * 512 : 0x30000 + (s - 4) * 512),
                     40 + (uint64_t)s);

    /* Write 3 sectors from RAM; the PRD is larger: Active stays set */
    for (int i = 0; i < 1536; i++)
        b->m->ram[0x40000 + i] = (uint8_t)(i * 3 + 1);
    put_prd(b, 0x1000, 0x40000, 4096, true);
    st = run_dma(b, 0x1000, false, 300, 3, true);
    ck_assert_uint_eq(st & (BM_ST_ACTIVE | BM_ST_ERROR | BM_ST_INTR), BM_ST_ACTIVE | BM_ST_INTR);
    ck_assert_uint_eq(inb(b, P0 + 7), 0x50);
    uint8_t back[1536];
    ck_assert_int_eq(blk_pread(b->hd, 300 * 512, back, sizeof back), 0);
    ck_assert_int_eq(memcmp(back, b->m->ram + 0x40000, sizeof back), 0);

    /* A zero byte count means 64 KiB */
    put_prd(b, 0x1000, 0x100000, 0, true);
    st = run_dma(b, 0x1000, true, 0, 128, false);
    ck_assert_uint_eq(st & (BM_ST_ACTIVE | BM_ST_ERROR | BM_ST_INTR), BM_ST_INTR);
    check_sector(b->m->ram + 0x100000 + 127 * 512, 127);
    bench_free(b);
}
END_TEST

static void check_dma_error(IdeBench *b, uint8_t st)
{
    ck_assert_uint_eq(st & (BM_ST_ACTIVE | BM_ST_ERROR | BM_ST_INTR), BM_ST_ERROR | BM_ST_INTR);
    ck_assert_uint_eq(inb(b, P0 + 7), 0x51);
    ck_assert_uint_eq(inb(b, P0 + 1), IDE_ER_ABRT);
}

START_TEST(dma_malformed)
{
    IdeBench *b = bench_new(DISK_SECS * 512, 0);
    /* buffer outside RAM */
    put_prd(b, 0x1000, 0xf0000000u, 4096, true);
    check_dma_error(b, run_dma(b, 0x1000, true, 0, 8, false));
    /* buffer straddling the end of RAM */
    put_prd(b, 0x1000, RAM_SIZE - 512, 4096, true);
    check_dma_error(b, run_dma(b, 0x1000, false, 0, 8, false));
    /* the table itself outside RAM */
    check_dma_error(b, run_dma(b, 0xfff00000u, true, 0, 8, false));
    /* a table shorter than the transfer */
    put_prd(b, 0x1000, 0x20000, 512, true);
    check_dma_error(b, run_dma(b, 0x1000, true, 0, 2, false));
    /* a table with no end bit: 8192 entries of 2 bytes, then more */
    for (uint32_t i = 0; i < 8192 + 16; i++)
        put_prd(b, 0x200000 + 8 * i, 0x20000, 2, false);
    check_dma_error(b, run_dma(b, 0x200000, true, 0, 64, false));
    /* a table that runs off the end of RAM */
    for (uint32_t i = 0; i < 16; i++)
        put_prd(b, RAM_SIZE - 128 + 8 * i, 0x20000, 2, false);
    check_dma_error(b, run_dma(b, RAM_SIZE - 128, true, 0, 8, false));
    /* bus mastering disabled */
    pci_bus_config_write(b->bus, DEVFN, PCI_COMMAND, PCI_COMMAND_IO, 2);
    put_prd(b, 0x1000, 0x20000, 4096, true);
    check_dma_error(b, run_dma(b, 0x1000, true, 0, 8, false));
    pci_bus_config_write(b->bus, DEVFN, PCI_COMMAND, PCI_COMMAND_IO | PCI_COMMAND_MASTER, 2);
    /* direction bit opposite to the command */
    outl(b, BM_BASE + 4, 0x1000);
    outb(b, BM_BASE, 0);
    lba28(b, P0, 0, 8);
    outb(b, P0 + 7, 0xc8);
    outb(b, BM_BASE, BM_CMD_START);
    settle(b);
    check_dma_error(b, inb(b, BM_BASE + 2));
    outb(b, BM_BASE, 0);
    /* past the end of the disk: no DMA at all */
    uint8_t st = run_dma(b, 0x1000, true, DISK_SECS - 4, 8, false);
    ck_assert_uint_eq(st & BM_ST_ERROR, 0);
    ck_assert_uint_eq(inb(b, P0 + 7), 0x51);
    ck_assert_uint_eq(inb(b, P0 + 1), IDE_ER_IDNF);
    /* and a good transfer still works */
    st = run_dma(b, 0x1000, true, 0, 8, false);
    ck_assert_uint_eq(st & (BM_ST_ACTIVE | BM_ST_ERROR | BM_ST_INTR), BM_ST_INTR);
    check_sector(b->m->ram + 0x20000 + 7 * 512, 7);
    bench_free(b);
}
END_TEST

/* ---- ATAPI ---- */

static void packet(IdeBench *b, const uint8_t cdb[12], uint16_t limit, bool dma)
{
    outb(b, P1 + 6, 0xa0);
    outb(b, P1 + 1, dma ? 1 : 0);
    outb(b, P1 + 4, (uint8_t)limit);
    outb(b, P1 + 5, (uint8_t)(limit >> 8));
    outb(b, P1 + 7, 0xa0);
    ck_assert_uint_eq(inb(b, P1 + 7) & 0x88, 0x08);
    ck_assert_uint_eq(inb(b, P1 + 2), ATAPI_IR_COD);
    for (int i = 0; i < 12; i += 2)
        outw(b, P1, (uint16_t)(cdb[i] | cdb[i + 1] << 8));
    settle(b);
}

/* Reads a PIO reply of up to max bytes; returns its length. */
static unsigned packet_in(IdeBench *b, uint8_t *out, unsigned max)
{
    unsigned n = 0;
    for (;;) {
        uint8_t st = inb(b, P1 + 7);
        if (!(st & IDE_ST_DRQ))
            break;
        ck_assert_uint_eq(inb(b, P1 + 2), ATAPI_IR_IO);
        unsigned len = inb(b, P1 + 4) | inb(b, P1 + 5) << 8;
        for (unsigned i = 0; i < len; i += 2) {
            uint16_t w = inw(b, P1);
            if (n + 1 < max) {
                out[n] = (uint8_t)w;
                out[n + 1] = (uint8_t)(w >> 8);
            }
            n += 2;
        }
        n -= len & 1;
        settle(b);
    }
    return n;
}

static void expect_check(IdeBench *b, uint8_t key, uint8_t asc)
{
    ck_assert_uint_eq(inb(b, P1 + 7), 0x51);
    ck_assert_uint_eq(inb(b, P1 + 1) >> 4, key);
    ck_assert_uint_eq(inb(b, P1 + 2), ATAPI_IR_IO | ATAPI_IR_COD);
    uint8_t rs[12] = { 0x03, 0, 0, 0, 18 };
    packet(b, rs, 0xfffe, false);
    uint8_t sense[18];
    ck_assert_uint_eq(packet_in(b, sense, sizeof sense), 18);
    ck_assert_uint_eq(sense[0], 0x70);
    ck_assert_uint_eq(sense[2] & 0x0f, key);
    ck_assert_uint_eq(sense[12], asc);
    ck_assert_uint_eq(inb(b, P1 + 7), 0x50);
}

START_TEST(atapi_no_medium)
{
    IdeBench *b = bench_new(0, 1);
    ck_assert_uint_eq(inb(b, P1 + 4), 0x14);
    ck_assert_uint_eq(inb(b, P1 + 5), 0xeb);
    outb(b, P1 + 6, 0xa0);
    outb(b, P1 + 7, 0xec);                      /* IDENTIFY DEVICE: abort + signature */
    ck_assert_uint_eq(inb(b, P1 + 7) & 0x01, 0x01);
    ck_assert_uint_eq(inb(b, P1 + 1) & IDE_ER_ABRT, IDE_ER_ABRT);
    ck_assert_uint_eq(inb(b, P1 + 4), 0x14);
    ck_assert_uint_eq(inb(b, P1 + 5), 0xeb);
    outb(b, P1 + 7, 0xa1);                      /* IDENTIFY PACKET DEVICE */
    settle(b);
    uint8_t id[512];
    read_sector_words(b, P1, id, 512);
    ck_assert_uint_eq(id[0] | id[1] << 8, 0x85c0);

    uint8_t tur[12] = { 0x00 };
    packet(b, tur, 0, false);
    expect_check(b, 0x02, 0x3a);
    uint8_t rd10[12] = { 0x28, 0, 0, 0, 0, 0, 0, 0, 1 };
    packet(b, rd10, 2048, false);
    expect_check(b, 0x02, 0x3a);
    uint8_t toc[12] = { 0x43, 0, 0, 0, 0, 0, 0, 0, 100 };
    packet(b, toc, 2048, false);
    expect_check(b, 0x02, 0x3a);
    uint8_t bad[12] = { 0xff };
    packet(b, bad, 0, false);
    expect_check(b, 0x05, 0x20);
    /* INQUIRY works without a medium */
    uint8_t inq[12] = { 0x12, 0, 0, 0, 36 };
    packet(b, inq, 0xfffe, false);
    uint8_t r[64];
    ck_assert_uint_eq(packet_in(b, r, sizeof r), 36);
    ck_assert_uint_eq(r[0], 0x05);
    ck_assert_uint_eq(r[1], 0x80);
    ck_assert_uint_eq(inb(b, P1 + 7), 0x50);
    bench_free(b);
}
END_TEST

START_TEST(atapi_medium)
{
    IdeBench *b = bench_new(0, 2);
    uint8_t r[8192];
    /* READ CAPACITY */
    uint8_t cap[12] = { 0x25 };
    packet(b, cap, 0xfffe, false);
    ck_assert_uint_eq(packet_in(b, r, sizeof r), 8);
    ck_assert_uint_eq((uint32_t)r[0] << 24 | r[1] << 16 | r[2] << 8 | r[3], CD_SECS - 1);
    ck_assert_uint_eq(r[6] << 8 | r[7], 2048);
    /* READ(10) of sectors 3-5 in 1 KiB DRQ blocks */
    uint8_t rd10[12] = { 0x28, 0, 0, 0, 0, 3, 0, 0, 3 };
    int irqs = b->edges[1];
    packet(b, rd10, 1024, false);
    ck_assert_uint_eq(packet_in(b, r, sizeof r), 6144);
    ck_assert_int_eq(b->edges[1] - irqs, 7);     /* 6 blocks + completion */
    ck_assert_uint_eq(inb(b, P1 + 7), 0x50);
    ck_assert_uint_eq(inb(b, P1 + 2), 3);
    for (int s = 0; s < 3; s++)
        for (int i = 0; i < 2048; i++)
            ck_assert_uint_eq(r[s * 2048 + i], pattern(3 + (uint64_t)s, (unsigned)i));
    /* READ(12) past the end */
    uint8_t rd12[12] = { 0xa8, 0, 0, 0, 0, CD_SECS - 1, 0, 0, 0, 2 };
    packet(b, rd12, 2048, false);
    expect_check(b, 0x05, 0x21);
    /* READ TOC format 0, LBA: track 1 at 0, lead-out at CD_SECS */
    uint8_t toc[12] = { 0x43, 0, 0, 0, 0, 0, 0, 0, 100 };
    packet(b, toc, 0xfffe, false);
    ck_assert_uint_eq(packet_in(b, r, sizeof r), 20);
    ck_assert_uint_eq(r[1], 18);
    ck_assert_uint_eq(r[2], 1);
    ck_assert_uint_eq(r[6], 1);
    ck_assert_uint_eq(r[14], 0xaa);
    ck_assert_uint_eq(r[19], CD_SECS);
    /* MSF: lead-out at 150 + 64 frames = 00:02:64 */
    toc[1] = 2;
    packet(b, toc, 0xfffe, false);
    packet_in(b, r, sizeof r);
    ck_assert_uint_eq(r[17], 0);
    ck_assert_uint_eq(r[18], 2);
    ck_assert_uint_eq(r[19], 64);
    /* formats 1 and 2 */
    uint8_t toc1[12] = { 0x43, 0, 1, 0, 0, 0, 0, 0, 100 };
    packet(b, toc1, 0xfffe, false);
    ck_assert_uint_eq(packet_in(b, r, sizeof r), 12);
    uint8_t toc2[12] = { 0x43, 2, 2, 0, 0, 0, 0, 0, 100 };
    packet(b, toc2, 0xfffe, false);
    ck_assert_uint_eq(packet_in(b, r, sizeof r), 4 + 4 * 11);
    ck_assert_uint_eq(r[4 + 3], 0xa0);
    /* GET CONFIGURATION: current profile CD-ROM */
    uint8_t gc[12] = { 0x46, 0, 0, 0, 0, 0, 0, 0x01, 0 };
    packet(b, gc, 0xfffe, false);
    unsigned n = packet_in(b, r, sizeof r);
    ck_assert_uint_gt(n, 8);
    ck_assert_uint_eq(r[6] << 8 | r[7], 0x0008);
    /* MODE SENSE(10) page 2A */
    uint8_t ms[12] = { 0x5a, 0, 0x2a, 0, 0, 0, 0, 0, 64 };
    packet(b, ms, 0xfffe, false);
    n = packet_in(b, r, sizeof r);
    ck_assert_uint_eq(n, 8 + 26);
    ck_assert_uint_eq(r[8], 0x2a);
    /* PREVENT, then eject refused */
    uint8_t prevent[12] = { 0x1e, 0, 0, 0, 1 };
    packet(b, prevent, 0, false);
    ck_assert_uint_eq(inb(b, P1 + 7), 0x50);
    uint8_t eject[12] = { 0x1b, 0, 0, 0, 0x02 };
    packet(b, eject, 0, false);
    expect_check(b, 0x05, 0x53);

    /* medium change: UNIT ATTENTION once, then the new medium */
    ide_cd_change_medium(piix_ide_bus(b->ide, 1), 0, b->cd);
    uint8_t gesn[12] = { 0x4a, 1, 0, 0, 0x10, 0, 0, 0, 8 };
    packet(b, gesn, 0xfffe, false);
    ck_assert_uint_eq(packet_in(b, r, sizeof r), 8);
    ck_assert_uint_eq(r[4], 0x02);              /* new media */
    ck_assert_uint_eq(r[5], 0x02);              /* present */
    uint8_t tur[12] = { 0 };
    packet(b, tur, 0, false);
    expect_check(b, 0x06, 0x28);
    packet(b, tur, 0, false);
    ck_assert_uint_eq(inb(b, P1 + 7), 0x50);
    bench_free(b);
}
END_TEST

START_TEST(atapi_dma)
{
    IdeBench *b = bench_new(0, 2);
    put_prd(b, 0x1000, 0x20000, 0x8000, true);
    outl(b, BM_BASE + 8 + 4, 0x1000);
    outb(b, BM_BASE + 8, BM_CMD_READ);
    uint8_t rd10[12] = { 0x28, 0, 0, 0, 0, 10, 0, 0, 4 };
    packet(b, rd10, 0, true);
    outb(b, BM_BASE + 8, BM_CMD_READ | BM_CMD_START);
    settle(b);
    ck_assert_uint_eq(inb(b, BM_BASE + 10) & 7, BM_ST_ACTIVE | BM_ST_INTR);
    ck_assert_uint_eq(inb(b, P1 + 7), 0x50);
    for (int s = 0; s < 4; s++)
        for (int i = 0; i < 2048; i += 97)
            ck_assert_uint_eq(b->m->ram[0x20000 + s * 2048 + i], pattern(10 + (uint64_t)s, (unsigned)i));
    /* a table that is too short */
    outb(b, BM_BASE + 8, BM_CMD_READ);
    outb(b, BM_BASE + 10, BM_ST_INTR | BM_ST_ERROR);
    put_prd(b, 0x1000, 0x20000, 2048, true);
    packet(b, rd10, 0, true);
    outb(b, BM_BASE + 8, BM_CMD_READ | BM_CMD_START);
    settle(b);
    ck_assert_uint_eq(inb(b, BM_BASE + 10) & 7, BM_ST_ERROR | BM_ST_INTR);
    ck_assert_uint_eq(inb(b, P1 + 7) & 0x01, 0x01);
    bench_free(b);
}
END_TEST

START_TEST(pci_identity_and_state)
{
    IdeBench *b = bench_new(DISK_SECS * 512, 1);
    ck_assert_uint_eq(pci_bus_config_read(b->bus, DEVFN, 0, 4), 0x70108086u);
    ck_assert_uint_eq(pci_bus_config_read(b->bus, DEVFN, 0x08, 4) >> 8, 0x010180u);
    ck_assert_uint_eq(pci_bus_config_read(b->bus, DEVFN, 0x40, 2), 0x8000);
    ck_assert_uint_eq(inb(b, BM_BASE + 2) & 0x60, 0x20);
    ck_assert_uint_eq(inb(b, BM_BASE + 10) & 0x60, 0x20);
    /* save mid-PIO and load into the same machine */
    lba28(b, P0, 9, 2);
    outb(b, P0 + 7, 0x20);
    settle(b);
    uint8_t sec[512];
    for (int i = 0; i < 20; i++)
        inw(b, P0);
    VMBuf s;
    vmbuf_init(&s);
    machine_save_devices(b->m, &s);
    for (int i = 0; i < 40; i++)
        inw(b, P0);
    char *err = NULL;
    ck_assert_msg(machine_load_devices(b->m, s.data, s.len, &err) == 0, "%s", err);
    read_sector_words(b, P0, sec, 512 - 40);
    ck_assert_uint_eq(sec[0], pattern(9, 40));
    settle(b);
    read_sector_words(b, P0, sec, 512);
    check_sector(sec, 10);
    vmbuf_free(&s);
    bench_free(b);
}
END_TEST

static Suite *ide_suite(void)
{
    Suite *s = suite_create("ide");
    TCase *tc = tcase_create("ide");
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, identify_device);
    tcase_add_test(tc, pio_read_write);
    tcase_add_test(tc, lba48_past_28_bits);
    tcase_add_test(tc, out_of_range);
    tcase_add_test(tc, misc_commands);
    tcase_add_test(tc, srst_and_nien);
    tcase_add_test(tc, dma_read_write);
    tcase_add_test(tc, dma_malformed);
    tcase_add_test(tc, atapi_no_medium);
    tcase_add_test(tc, atapi_medium);
    tcase_add_test(tc, atapi_dma);
    tcase_add_test(tc, pci_identity_and_state);
    suite_add_tcase(s, tc);
    return s;
}

UNIT_SUITE(ide_suite)
