/*
 * PIIX3 IDE function and its bus-master DMA engine (see piix-ide.h).
 *
 * Facts: PIIX3 datasheet 2.4 (function 1: 8086:7010, class 010180h,
 * BMIBA at 20h = BAR4, IDETIM at 40h/42h with IDE decode enable in bit
 * 15, SIDETIM at 44h); SFF-8038i rev 1.0 (bus master command/status/PRD
 * registers, PRD entry layout, status bit meanings).
 */
#include "hw/piix-ide.h"

#include <stdlib.h>
#include <string.h>

#include "core/log.h"
#include "core/util.h"

#define PIIX_IDETIM_PRI     0x40
#define PIIX_IDETIM_SEC     0x42
#define PIIX_IDETIM_IDE     0x8000

/* ---- the engine, as the channel sees it ---- */

/* Fetches the next PRD entry; false when the table is bad. */
static bool bm_next_entry(BMDMAState *bm)
{
    if (bm->prd_walked >= BM_PRD_TABLE_MAX) {
        LOG(LOG_GUEST_ERRORS, "piix-ide: channel %d: PRD table without end bit\n", bm->ch);
        return false;
    }
    uint8_t e[8];
    if (!pci_dma_read(bm->s->dev, bm->prd_next, e, sizeof e)) {
        LOG(LOG_GUEST_ERRORS, "piix-ide: channel %d: PRD table at 0x%x not in RAM\n",
            bm->ch, bm->prd_next);
        return false;
    }
    uint32_t addr = (uint32_t)e[0] | (uint32_t)e[1] << 8 | (uint32_t)e[2] << 16 |
                    (uint32_t)e[3] << 24;
    uint32_t count = ((uint32_t)e[4] | (uint32_t)e[5] << 8) & 0xfffe;
    bm->cur_addr = addr & ~1u;
    bm->cur_left = count ? count : 0x10000;
    bm->cur_eot = e[7] & 0x80;
    bm->prd_next += 8;
    bm->prd_walked += 8;
    return true;
}

static int bm_rw(void *opaque, uint8_t *buf, uint32_t len, bool to_mem)
{
    BMDMAState *bm = opaque;
    if (!(bm->cmd & BM_CMD_START) || to_mem != !!(bm->cmd & BM_CMD_READ)) {
        LOG(LOG_GUEST_ERRORS, "piix-ide: channel %d: DMA direction does not match the command\n",
            bm->ch);
        return IDE_DMA_FAULT;
    }
    while (len) {
        if (!bm->cur_left) {
            if (bm->cur_eot)
                return IDE_DMA_SHORT;
            if (!bm_next_entry(bm))
                return IDE_DMA_FAULT;
        }
        uint32_t n = len < bm->cur_left ? len : bm->cur_left;
        bool ok = to_mem ? pci_dma_write(bm->s->dev, bm->cur_addr, buf, n)
                         : pci_dma_read(bm->s->dev, bm->cur_addr, buf, n);
        if (!ok) {
            LOG(LOG_GUEST_ERRORS, "piix-ide: channel %d: DMA to 0x%x+%u is not RAM\n",
                bm->ch, bm->cur_addr, n);
            return IDE_DMA_FAULT;
        }
        bm->cur_addr += n;
        bm->cur_left -= n;
        buf += n;
        len -= n;
    }
    return IDE_DMA_OK;
}

static bool bm_running(void *opaque)
{
    BMDMAState *bm = opaque;
    return bm->cmd & BM_CMD_START;
}

static void bm_end(void *opaque, bool error)
{
    BMDMAState *bm = opaque;
    if (error)
        bm->status = (uint8_t)((bm->status & ~BM_ST_ACTIVE) | BM_ST_ERROR);
    else if (!bm->cur_left && bm->cur_eot)
        bm->status &= (uint8_t)~BM_ST_ACTIVE;   /* table used up exactly */
}

static const IDEDMAOps bm_dma_ops = {
    .rw = bm_rw, .running = bm_running, .end = bm_end,
};

/* The channel's INTRQ: its rising edge sets the Interrupt bit. */
static void bm_irq_in(void *opaque, int n, int level)
{
    BMDMAState *bm = opaque;
    (void)n;
    if (level && !bm->irq_in_level)
        bm->status |= BM_ST_INTR;
    bm->irq_in_level = level;
    irq_set(bm->s->irq_out[bm->ch], level);
}

/* ---- BAR4 registers ---- */

static uint8_t bm_read_byte(BMDMAState *bm, unsigned off)
{
    switch (off) {
    case 0: return bm->cmd;
    case 2: return bm->status;
    case 4: case 5: case 6: case 7:
        return (uint8_t)(bm->prd_table >> (8 * (off - 4)));
    default: return 0;
    }
}

static void bm_write_cmd(BMDMAState *bm, uint8_t v)
{
    uint8_t old = bm->cmd;
    bm->cmd = v & (BM_CMD_START | BM_CMD_READ);
    if ((v & BM_CMD_START) && !(old & BM_CMD_START)) {
        bm->status |= BM_ST_ACTIVE;
        bm->prd_next = bm->prd_table;
        bm->prd_walked = 0;
        bm->cur_left = 0;
        bm->cur_eot = false;
        ide_bus_dma_kick(bm->s->bus[bm->ch]);
    } else if (!(v & BM_CMD_START) && (old & BM_CMD_START)) {
        bm->status &= (uint8_t)~BM_ST_ACTIVE;   /* stopped: the transfer is abandoned */
    }
}

static void bm_write_byte(BMDMAState *bm, unsigned off, uint8_t v)
{
    switch (off) {
    case 0:
        bm_write_cmd(bm, v);
        break;
    case 2:
        bm->status = (uint8_t)((bm->status & ~(BM_ST_DMA0 | BM_ST_DMA1)) |
                               (v & (BM_ST_DMA0 | BM_ST_DMA1)));
        bm->status &= (uint8_t)~(v & (BM_ST_ERROR | BM_ST_INTR));
        break;
    case 4: case 5: case 6: case 7: {
        unsigned sh = 8 * (off - 4);
        bm->prd_table = (bm->prd_table & ~(0xffu << sh)) | (uint32_t)v << sh;
        bm->prd_table &= ~3u;
        break;
    }
    default:
        break;
    }
}

static uint64_t bm_io_read(void *opaque, uint64_t off, unsigned size)
{
    PIIXIDEState *s = opaque;
    uint64_t v = 0;
    for (unsigned i = 0; i < size; i++) {
        unsigned o = (unsigned)off + i;
        v |= (uint64_t)bm_read_byte(&s->bm[(o >> 3) & 1], o & 7) << (8 * i);
    }
    return v;
}

static void bm_io_write(void *opaque, uint64_t off, uint64_t val, unsigned size)
{
    PIIXIDEState *s = opaque;
    for (unsigned i = 0; i < size; i++) {
        unsigned o = (unsigned)off + i;
        bm_write_byte(&s->bm[(o >> 3) & 1], o & 7, (uint8_t)(val >> (8 * i)));
    }
}

static const MemOps bm_io_ops = {
    .read = bm_io_read, .write = bm_io_write, .min_size = 1, .max_size = 4,
};

/* ---- device record ---- */

static void piix_ide_reset(void *opaque)
{
    PIIXIDEState *s = opaque;
    memset(s->dev->config + 0x40, 0, 256 - 0x40);
    pci_set_word(s->dev, PIIX_IDETIM_PRI, PIIX_IDETIM_IDE);
    pci_set_word(s->dev, PIIX_IDETIM_SEC, PIIX_IDETIM_IDE);
    for (int ch = 0; ch < 2; ch++) {
        BMDMAState *bm = &s->bm[ch];
        bm->cmd = 0;
        bm->status = 0;
        for (int u = 0; u < 2; u++)
            if (ide_drive_present(s->bus[ch], u))
                bm->status |= (uint8_t)(BM_ST_DMA0 << u);
        bm->prd_table = bm->prd_next = bm->prd_walked = 0;
        bm->cur_addr = bm->cur_left = 0;
        bm->cur_eot = false;
    }
}

static int piix_ide_post_load(void *opaque, int version, char **err)
{
    PIIXIDEState *s = opaque;
    (void)version;
    for (int ch = 0; ch < 2; ch++) {
        BMDMAState *bm = &s->bm[ch];
        if (bm->prd_walked > BM_PRD_TABLE_MAX || bm->cur_left > 0x10000) {
            set_error(err, "piix-ide: channel %d: PRD walk state out of range", ch);
            return -1;
        }
        bm->cmd &= BM_CMD_START | BM_CMD_READ;
        bm->prd_table &= ~3u;
    }
    return 0;
}

static const VMField bm_fields[] = {
    VMF_U8(cmd, BMDMAState), VMF_U8(status, BMDMAState),
    VMF_U32(prd_table, BMDMAState), VMF_U32(prd_next, BMDMAState),
    VMF_U32(prd_walked, BMDMAState), VMF_U32(cur_addr, BMDMAState),
    VMF_U32(cur_left, BMDMAState), VMF_BOOL(cur_eot, BMDMAState),
    VMF_BOOL(irq_in_level, BMDMAState),
    VMF_END
};

static const VMStateDesc bm_vmsd = {
    .name = "bmdma", .version = 1, .min_version = 1, .fields = bm_fields,
};

static const VMField piix_ide_fields[] = {
    VMF_STRUCT_ARRAY(bm, PIIXIDEState, 2, bm_vmsd),
    VMF_END
};

static const VMStateDesc piix_ide_vmsd = {
    .name = "piix-ide", .version = 1, .min_version = 1, .fields = piix_ide_fields,
    .post_load = piix_ide_post_load,
};

static void piix_ide_free(void *opaque)
{
    free(opaque);
}

static const DeviceOps piix_ide_device_ops = {
    .name = "piix-ide", .reset = piix_ide_reset, .free = piix_ide_free,
    .vmsd = &piix_ide_vmsd,
};

PIIXIDEState *piix_ide_create(Machine *m, PCIBus *bus, const PIIXIDEConfig *c)
{
    static const PCIConfigInit ids = {
        .vendor_id = 0x8086, .device_id = 0x7010, .revision = 0x00,
        .class_code = 0x010180,     /* IDE, legacy mode, bus master */
    };
    PIIXIDEState *s = xcalloc(1, sizeof(*s));
    s->m = m;
    s->dev = pci_register_function(bus, c->devfn, &ids, "piix-ide", NULL, NULL, s);
    if (!s->dev) {
        free(s);
        return NULL;
    }
    for (int ch = 0; ch < 2; ch++) {
        BMDMAState *bm = &s->bm[ch];
        bm->s = s;
        bm->ch = ch;
        s->irq_out[ch] = c->irq[ch];
        irq_init(&bm->irq_in, bm_irq_in, bm, ch);
        s->bus[ch] = ide_bus_create(m, ch ? "ide1" : "ide0", c->port[ch], c->ctl[ch],
                                    &bm->irq_in);
        if (!s->bus[ch]) {
            /* The bus owns the function; a created channel is the machine's. */
            free(s);
            return NULL;
        }
        ide_bus_set_dma(s->bus[ch], &bm_dma_ops, bm);
    }
    pci_register_bar(s->dev, 4, 16, true, &bm_io_ops, s);
    machine_add_device(m, &piix_ide_device_ops, s);
    piix_ide_reset(s);
    return s;
}

IDEBus *piix_ide_bus(PIIXIDEState *s, int ch)
{
    return s->bus[ch & 1];
}
