/*
 * Two 8237A DMA controllers and the page registers, as wired in every PC/AT
 * (written from Intel's 8237A datasheet):
 *
 *   controller 0 (channels 0-3, bytes):  registers at base8 + 0..15
 *   controller 1 (channels 4-7, words):  registers at base16 + 2 * (0..15)
 *   page registers (address bits 16-23): page_base + {7,3,1,2, 15,11,9,10}
 *
 * Register r of a controller: 0-7 alternate address and count of channel
 * r/2 (two 8-bit accesses each, low byte first, through the byte-pointer
 * flip-flop); 8 status (read: TC and request bits, TC cleared by the read)
 * / command (write); 9 request; 10 single mask bit; 11 mode; 12 clear the
 * flip-flop; 13 master clear (write) / temporary register (read); 14 clear
 * all masks; 15 write all masks (read: the masks).
 *
 * Word channels count words and address words: the byte address is
 * (page & 0xfe) << 16 | address << 1.  The 16-bit address counter wraps
 * inside its page without carrying into the page register, as on the
 * real board.  At terminal count a channel reloads its base registers
 * (auto-initialise) or masks itself.
 */
#include "hw/i8237.h"

#include <stdlib.h>
#include <string.h>

#include "core/log.h"
#include "core/util.h"

#define MODE_TYPE(m)      (((m) >> 2) & 3)
#define MODE_VERIFY       0
#define MODE_WRITE        1       /* device -> memory */
#define MODE_READ         2       /* memory -> device */
#define MODE_AUTOINIT     0x10
#define MODE_DECREMENT    0x20
#define CMD_DISABLE       0x04

typedef struct DMAChannel {
    uint16_t base_addr, base_count;
    uint16_t addr, count;
    uint8_t mode;
    uint8_t page;
    bool masked;
    bool dreq;                  /* device request (not saved: devices re-assert) */
    I8237ReadyFn ready;
    void *opaque;
} DMAChannel;

typedef struct DMAController {
    uint8_t command;
    uint8_t status;             /* bits 0-3: TC reached, 4-7: software requests */
    uint8_t flipflop;
    uint8_t temp;
} DMAController;

struct I8237State {
    Machine *m;
    DMAController ctl[2];
    DMAChannel ch[8];
    uint8_t page_extra[16];     /* page ports that select no channel */
    uint16_t base8, base16, page_base;
};

/* Page register offset -> channel, -1 for the spare registers. */
static const int8_t page_channel[16] = {
    -1, 2, 3, 1, -1, -1, -1, 0, -1, 6, 7, 5, -1, -1, -1, 4,
};

static DMAChannel *chan(I8237State *s, int c) { return &s->ch[c & 7]; }

bool i8237_channel_ready(I8237State *s, int c)
{
    if (c < 0 || c > 7)
        return false;
    DMAChannel *ch = chan(s, c);
    return !ch->masked && !(s->ctl[c >> 2].command & CMD_DISABLE);
}

/* Runs the device's hook when it wants to transfer and may. */
static void maybe_run(I8237State *s, int c)
{
    DMAChannel *ch = chan(s, c);
    if (ch->dreq && ch->ready && i8237_channel_ready(s, c))
        ch->ready(ch->opaque);
}

static void run_all(I8237State *s)
{
    for (int c = 0; c < 8; c++)
        maybe_run(s, c);
}

void i8237_connect(I8237State *s, int c, I8237ReadyFn ready, void *opaque)
{
    if (c < 0 || c > 7)
        return;
    chan(s, c)->ready = ready;
    chan(s, c)->opaque = opaque;
}

void i8237_request(I8237State *s, int c, bool on)
{
    if (c < 0 || c > 7)
        return;
    chan(s, c)->dreq = on;
    if (on)
        maybe_run(s, c);
}

/* One unit (byte or word) done: advance, count down, handle terminal
 * count.  Returns true at terminal count. */
static bool step_channel(I8237State *s, int c, unsigned units)
{
    DMAChannel *ch = chan(s, c);
    ch->addr = (uint16_t)(ch->mode & MODE_DECREMENT ? ch->addr - units : ch->addr + units);
    bool tc = units > ch->count;      /* count is "units - 1" */
    ch->count = (uint16_t)(ch->count - units);
    if (!tc)
        return false;
    s->ctl[c >> 2].status |= (uint8_t)(1u << (c & 3));
    if (ch->mode & MODE_AUTOINIT) {
        ch->addr = ch->base_addr;
        ch->count = ch->base_count;
    } else {
        ch->masked = true;
    }
    return true;
}

static uint64_t phys_addr(DMAChannel *ch, int c)
{
    if (c >= 4)
        return ((uint64_t)(ch->page & 0xfe) << 16) | ((uint64_t)ch->addr << 1);
    return ((uint64_t)ch->page << 16) | ch->addr;
}

/* Units the channel can move in one contiguous piece from its current
 * address (incrementing only; decrementing channels move one unit). */
static unsigned contiguous_units(DMAChannel *ch)
{
    if (ch->mode & MODE_DECREMENT)
        return 1;
    unsigned to_wrap = 0x10000u - ch->addr;
    unsigned to_tc = (unsigned)ch->count + 1;
    return to_wrap < to_tc ? to_wrap : to_tc;
}

static size_t transfer(I8237State *s, int c, uint8_t *buf, size_t len, bool to_memory, bool *tc)
{
    *tc = false;
    if (!i8237_channel_ready(s, c))
        return 0;
    DMAChannel *ch = chan(s, c);
    int type = MODE_TYPE(ch->mode);
    if (type != MODE_VERIFY && type != (to_memory ? MODE_WRITE : MODE_READ)) {
        LOG(LOG_GUEST_ERRORS, "i8237: channel %d mode 0x%02x does not transfer %s memory\n", c, ch->mode,
                  to_memory ? "to" : "from");
        return 0;
    }
    unsigned unit = c >= 4 ? 2 : 1;
    size_t done = 0;
    while (done + unit <= len && !*tc) {
        unsigned units = contiguous_units(ch);
        size_t fit = (len - done) / unit;
        if (units > fit)
            units = (unsigned)fit;
        size_t bytes = (size_t)units * unit;
        uint64_t pa = phys_addr(ch, c);
        if (type == MODE_WRITE)
            memmap_write_buf(s->m->mem, pa, buf + done, bytes);
        else if (type == MODE_READ)
            memmap_read_buf(s->m->mem, pa, buf + done, bytes);
        done += bytes;
        *tc = step_channel(s, c, units);
    }
    return done;
}

size_t i8237_write_memory(I8237State *s, int c, const void *buf, size_t len, bool *tc)
{
    bool dummy;
    return transfer(s, c, (uint8_t *)buf, len, true, tc ? tc : &dummy);
}

size_t i8237_read_memory(I8237State *s, int c, void *buf, size_t len, bool *tc)
{
    bool dummy;
    return transfer(s, c, buf, len, false, tc ? tc : &dummy);
}

/* ---- registers ---- */

static void master_clear(I8237State *s, int k)
{
    DMAController *ctl = &s->ctl[k];
    ctl->command = 0;
    ctl->status = 0;
    ctl->flipflop = 0;
    ctl->temp = 0;
    for (int i = 0; i < 4; i++)
        s->ch[k * 4 + i].masked = true;
}

static uint8_t ctl_read(I8237State *s, int k, unsigned r)
{
    DMAController *ctl = &s->ctl[k];
    if (r < 8) {
        DMAChannel *ch = &s->ch[k * 4 + r / 2];
        uint16_t v = r & 1 ? ch->count : ch->addr;
        uint8_t b = (uint8_t)(ctl->flipflop ? v >> 8 : v);
        ctl->flipflop ^= 1;
        return b;
    }
    switch (r) {
    case 8: {
        uint8_t v = ctl->status;
        for (int i = 0; i < 4; i++)
            if (s->ch[k * 4 + i].dreq)
                v |= (uint8_t)(0x10u << i);
        ctl->status &= 0xf0;            /* TC bits clear on read */
        return v;
    }
    case 13:
        return ctl->temp;
    case 15: {
        uint8_t v = 0xf0;
        for (int i = 0; i < 4; i++)
            if (s->ch[k * 4 + i].masked)
                v |= (uint8_t)(1u << i);
        return v;
    }
    default:
        return 0xff;
    }
}

static void ctl_write(I8237State *s, int k, unsigned r, uint8_t v)
{
    DMAController *ctl = &s->ctl[k];
    if (r < 8) {
        DMAChannel *ch = &s->ch[k * 4 + r / 2];
        uint16_t *base = r & 1 ? &ch->base_count : &ch->base_addr;
        uint16_t *cur = r & 1 ? &ch->count : &ch->addr;
        *base = ctl->flipflop ? (uint16_t)((*base & 0x00ff) | v << 8)
                              : (uint16_t)((*base & 0xff00) | v);
        *cur = *base;
        ctl->flipflop ^= 1;
        return;
    }
    switch (r) {
    case 8:
        ctl->command = v;
        break;
    case 9:
        if (v & 4)
            ctl->status |= (uint8_t)(0x10u << (v & 3));
        else
            ctl->status &= (uint8_t)~(0x10u << (v & 3));
        break;
    case 10:
        s->ch[k * 4 + (v & 3)].masked = v & 4;
        break;
    case 11:
        s->ch[k * 4 + (v & 3)].mode = v & 0xfc;
        break;
    case 12:
        ctl->flipflop = 0;
        break;
    case 13:
        master_clear(s, k);
        break;
    case 14:
        for (int i = 0; i < 4; i++)
            s->ch[k * 4 + i].masked = false;
        break;
    case 15:
        for (int i = 0; i < 4; i++)
            s->ch[k * 4 + i].masked = (v >> i) & 1;
        break;
    }
    run_all(s);
}

static uint64_t dma8_read(void *opaque, uint64_t off, unsigned size)
{
    return ctl_read(opaque, 0, (unsigned)off);
}

static void dma8_write(void *opaque, uint64_t off, uint64_t v, unsigned size)
{
    ctl_write(opaque, 0, (unsigned)off, (uint8_t)v);
}

/* The word controller decodes A1-A4: odd ports are not its registers. */
static uint64_t dma16_read(void *opaque, uint64_t off, unsigned size)
{
    return off & 1 ? 0xff : ctl_read(opaque, 1, (unsigned)off >> 1);
}

static void dma16_write(void *opaque, uint64_t off, uint64_t v, unsigned size)
{
    if (!(off & 1))
        ctl_write(opaque, 1, (unsigned)off >> 1, (uint8_t)v);
}

/* The page range starts at page_base + 1: off 0 is register 1. */
static uint64_t page_read(void *opaque, uint64_t off, unsigned size)
{
    I8237State *s = opaque;
    unsigned reg = (unsigned)(off + 1) & 15;
    int c = page_channel[reg];
    return c >= 0 ? s->ch[c].page : s->page_extra[reg];
}

static void page_write(void *opaque, uint64_t off, uint64_t v, unsigned size)
{
    I8237State *s = opaque;
    unsigned reg = (unsigned)(off + 1) & 15;
    int c = page_channel[reg];
    if (c >= 0)
        s->ch[c].page = (uint8_t)v;
    else
        s->page_extra[reg] = (uint8_t)v;
}

static const MemOps dma8_ops = { .read = dma8_read, .write = dma8_write, .min_size = 1, .max_size = 1 };
static const MemOps dma16_ops = { .read = dma16_read, .write = dma16_write, .min_size = 1, .max_size = 1 };
static const MemOps page_ops = { .read = page_read, .write = page_write, .min_size = 1, .max_size = 1 };

/* ---- device ---- */

static void i8237_reset(void *opaque)
{
    I8237State *s = opaque;
    for (int k = 0; k < 2; k++)
        master_clear(s, k);
    for (int c = 0; c < 8; c++) {
        DMAChannel *ch = &s->ch[c];
        ch->base_addr = ch->base_count = ch->addr = ch->count = 0;
        ch->mode = 0;
        ch->page = 0;
    }
    memset(s->page_extra, 0, sizeof(s->page_extra));
}

static void i8237_free(void *opaque)
{
    I8237State *s = opaque;
    iospace_remove(s->m->io, s->base8, 16);
    iospace_remove(s->m->io, s->base16, 32);
    iospace_remove(s->m->io, s->page_base + 1, 15);
    free(s);
}

static int i8237_post_load(void *opaque, int version, char **err)
{
    run_all(opaque);
    return 0;
}

static const VMField dma_channel_fields[] = {
    VMF_U16(base_addr, DMAChannel), VMF_U16(base_count, DMAChannel),
    VMF_U16(addr, DMAChannel), VMF_U16(count, DMAChannel),
    VMF_U8(mode, DMAChannel), VMF_U8(page, DMAChannel), VMF_BOOL(masked, DMAChannel),
    VMF_END
};
static const VMStateDesc dma_channel_vmsd = {
    .name = "i8237-channel", .version = 1, .min_version = 1, .fields = dma_channel_fields,
};
static const VMField dma_controller_fields[] = {
    VMF_U8(command, DMAController), VMF_U8(status, DMAController),
    VMF_U8(flipflop, DMAController), VMF_U8(temp, DMAController),
    VMF_END
};
static const VMStateDesc dma_controller_vmsd = {
    .name = "i8237-controller", .version = 1, .min_version = 1, .fields = dma_controller_fields,
};
static const VMField i8237_fields[] = {
    VMF_STRUCT_ARRAY(ctl, I8237State, 2, dma_controller_vmsd),
    VMF_STRUCT_ARRAY(ch, I8237State, 8, dma_channel_vmsd),
    VMF_U8_ARRAY(page_extra, I8237State, 16),
    VMF_END
};
static const VMStateDesc i8237_vmsd = {
    .name = "i8237", .version = 1, .min_version = 1, .fields = i8237_fields,
    .post_load = i8237_post_load,
};

static const DeviceOps i8237_device_ops = {
    .name = "i8237", .reset = i8237_reset, .free = i8237_free, .vmsd = &i8237_vmsd,
};

I8237State *i8237_create(Machine *m, uint16_t base8, uint16_t base16, uint16_t page_base,
                         char *err, size_t errlen)
{
    I8237State *s = xcalloc(1, sizeof(*s));
    s->m = m;
    s->base8 = base8;
    s->base16 = base16;
    s->page_base = page_base;
    if (!iospace_add(m->io, "dma8", base8, 16, &dma8_ops, s, NULL)) {
        snprintf(err, errlen, "i8237: ports 0x%x-0x%x are taken", base8, base8 + 15);
        free(s);
        return NULL;
    }
    if (!iospace_add(m->io, "dma16", base16, 32, &dma16_ops, s, NULL)) {
        snprintf(err, errlen, "i8237: ports 0x%x-0x%x are taken", base16, base16 + 31);
        iospace_remove(m->io, base8, 16);
        free(s);
        return NULL;
    }
    if (!iospace_add(m->io, "dma-page", page_base + 1, 15, &page_ops, s, NULL)) {
        snprintf(err, errlen, "i8237: ports 0x%x-0x%x are taken", page_base + 1, page_base + 15);
        iospace_remove(m->io, base8, 16);
        iospace_remove(m->io, base16, 32);
        free(s);
        return NULL;
    }
    i8237_reset(s);
    machine_add_device(m, &i8237_device_ops, s);
    return s;
}
