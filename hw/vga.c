/*
 * Standard VGA: registers, video memory access, PCI function, snapshot.
 * (Bochs VBE in hw/vbe.c, rendering in hw/vga-render.c; see hw/vga.h.)
 *
 * Facts used (IBM VGA Technical Reference; FreeVGA's register pages):
 * - Ports: 0x3C0 attribute index/data through a flip-flop that a read of
 *   input status 1 (0x3BA/0x3DA) resets; 0x3C1 attribute data read; 0x3C2
 *   misc output write / input status 0 read; 0x3C4/5 sequencer; 0x3C6 PEL
 *   mask; 0x3C7 DAC read index (read: DAC state); 0x3C8 DAC write index;
 *   0x3C9 DAC data, three accesses (R, G, B) per entry with auto-increment;
 *   0x3CA feature control read; 0x3CC misc output read; 0x3CE/F graphics
 *   controller; CRTC at 0x3D4/5 when misc bit 0 is set, else at 0x3B4/5
 *   (input status 1 follows it at 0x3DA / 0x3BA).
 * - CRTC register 0x11 bit 7 write-protects registers 0-7 except the
 *   line compare bit 4 of register 7.
 * - Host memory window by graphics register 6 bits 3:2: 0 = A0000-BFFFF,
 *   1 = A0000-AFFFF, 2 = B0000-B7FFF, 3 = B8000-BFFFF.
 * - Plane selection: chain-4 (sequencer 4 bit 3): plane = address bits
 *   1:0; odd/even (sequencer 4 bit 2 clear for writes, graphics 5 bit 4
 *   set for reads): plane = address bit 0 (plus bit 1 of the read map
 *   select for reads); else the map mask (writes) / read map select.
 * - Write modes (graphics 5 bits 1:0): 0 rotated host data, or set/reset
 *   where enabled; 1 the latches; 2 host bits 3:0 broadcast per plane;
 *   3 set/reset with the rotated host data ANDed into the bit mask.  Modes
 *   0, 2, 3 then apply the ALU (graphics 3 bits 4:3: none, AND, OR, XOR
 *   with the latches) and the bit mask (graphics 8: cleared bits keep the
 *   latch); the map mask (sequencer 2) chooses the planes written.
 * - Read mode 0 returns the selected plane; read mode 1 the colour compare:
 *   a bit is 1 where every plane enabled in colour don't care (graphics 7)
 *   equals its colour compare bit (graphics 2).  Every read loads the
 *   latches.
 *
 * Dirty tracking, one bit per 4 KiB page of video memory, from two
 * sources.  The 0xA0000 window (planes, latches, the banked VBE window)
 * is MMIO: its handlers here set the bits.  The linear framebuffer (BAR0)
 * is RAM to the CPU (pci_register_bar_ram -> memmap_add_ram_logged):
 * translated code writes pixels straight into vram, and the translator
 * logs the first write to each page after a sync (TLB_NOTDIRTY, as for a
 * live migration, into the region's own log, not the machine's); writes
 * through the memory map (DMA, KVM exits) log too.  vga_sync_dirty folds
 * that log into the bitmap before the renderer reads it.
 */
#include "hw/vga-int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/log.h"
#include "core/util.h"
#include "hw/edid.h"

/* ---- dirty pages ---- */

void vga_mark_dirty(VGAState *s, uint32_t off, uint32_t len)
{
    if (!len || off >= s->vram_size)
        return;
    uint32_t end = MIN(off + len - 1, s->vram_size - 1);
    for (uint32_t p = off >> VGA_PAGE_SHIFT; p <= end >> VGA_PAGE_SHIFT; p++)
        s->dirty[p >> 3] |= (uint8_t)(1u << (p & 7));
}

/* The framebuffer BAR's log into the page bits (see the top of the
 * file); cheap while the guest writes nothing there. */
void vga_sync_dirty(VGAState *s)
{
    if (!s->lfb_log)
        return;
    machine_region_log_sync(s->m, s->lfb_log, s->lfb_log_words, s->lfb_taken);
    for (size_t i = 0; i < s->lfb_log_words; i++) {
        uint64_t w = s->lfb_taken[i];
        if (!w)
            continue;
        s->lfb_taken[i] = 0;
        for (unsigned k = 0; k < 8; k++)
            s->dirty[i * 8 + k] |= (uint8_t)(w >> (8 * k));
    }
}

bool vga_page_dirty(VGAState *s, uint32_t off)
{
    vga_sync_dirty(s);
    if (off >= s->vram_size)
        return false;
    uint32_t p = off >> VGA_PAGE_SHIFT;
    return (s->dirty[p >> 3] >> (p & 7)) & 1;
}

void vga_clear_dirty(VGAState *s)
{
    memset(s->dirty, 0, (s->vram_size >> VGA_PAGE_SHIFT) / 8 + 1);
}

uint8_t *vga_vram(VGAState *s, uint32_t *size)
{
    if (size)
        *size = s->vram_size;
    return s->vram;
}

Console *vga_console(VGAState *s)
{
    return s->con;
}

void vga_set_blink_phase(VGAState *s, bool cursor_on, bool chars_on)
{
    s->blink_pinned = true;
    s->cursor_phase = cursor_on;
    s->char_phase = chars_on;
}

/* ---- the 0xA0000 window: planes ---- */

/* Plane p's byte in each byte of a 32-bit word. */
static uint32_t expand4(uint8_t bits)
{
    uint32_t v = 0;
    for (int p = 0; p < 4; p++)
        if (bits & (1u << p))
            v |= 0xffu << (8 * p);
    return v;
}

static uint8_t vga_mem_readb(VGAState *s, uint32_t off)
{
    uint8_t mem = (s->gr[6] >> 2) & 3;
    static const uint32_t base[4] = { 0, 0, 0x10000, 0x18000 };
    static const uint32_t size[4] = { 0x20000, 0x10000, 0x8000, 0x8000 };
    if (off < base[mem] || off >= base[mem] + size[mem])
        return 0xff;
    off -= base[mem];

    if (vbe_enabled(s)) {
        uint32_t a = (uint32_t)s->vbe_regs[VBE_INDEX_BANK] * 0x10000u + (off & 0xffff);
        return a < s->vram_size ? s->vram[a] : 0xff;
    }
    if (s->sr[4] & 0x08) {                       /* chain 4 */
        if (off >= s->vram_size)
            return 0xff;
        s->latch = ((const uint32_t *)s->vram)[off >> 2];
        return s->vram[off];
    }
    uint32_t plane_off, plane;
    if (s->gr[5] & 0x10) {                       /* odd/even */
        plane = (s->gr[4] & 2) | (off & 1);
        plane_off = off & ~1u;
    } else {
        plane = s->gr[4] & 3;
        plane_off = off;
    }
    if (plane_off * 4 >= s->vram_size)
        return 0xff;
    memcpy(&s->latch, s->vram + plane_off * 4, 4);
    if (!(s->gr[5] & 0x08))                      /* read mode 0 */
        return (uint8_t)(s->latch >> (8 * plane));
    /* read mode 1: colour compare */
    uint32_t diff = (s->latch ^ expand4(s->gr[2] & 0x0f)) & expand4(s->gr[7] & 0x0f);
    diff |= diff >> 16;
    diff |= diff >> 8;
    return (uint8_t)~diff;
}

static void vga_mem_writeb(VGAState *s, uint32_t off, uint8_t val)
{
    uint8_t mem = (s->gr[6] >> 2) & 3;
    static const uint32_t base[4] = { 0, 0, 0x10000, 0x18000 };
    static const uint32_t size[4] = { 0x20000, 0x10000, 0x8000, 0x8000 };
    if (off < base[mem] || off >= base[mem] + size[mem])
        return;
    off -= base[mem];

    if (vbe_enabled(s)) {
        uint32_t a = (uint32_t)s->vbe_regs[VBE_INDEX_BANK] * 0x10000u + (off & 0xffff);
        if (a < s->vram_size) {
            s->vram[a] = val;
            vga_mark_dirty(s, a, 1);
        }
        return;
    }
    uint8_t map_mask = s->sr[2] & 0x0f;
    if (s->sr[4] & 0x08) {                       /* chain 4 */
        if (off < s->vram_size && (map_mask & (1u << (off & 3)))) {
            s->vram[off] = val;
            vga_mark_dirty(s, off, 1);
        }
        return;
    }
    uint32_t plane_off = off;
    if (!(s->sr[4] & 0x04)) {                    /* odd/even */
        map_mask &= (off & 1) ? 0x0a : 0x05;
        plane_off = off & ~1u;
    }
    if (plane_off * 4 >= s->vram_size)
        return;

    uint8_t mode = s->gr[5] & 3;
    uint32_t data, bitmask = expand4(0x0f) & (0x01010101u * s->gr[8]);
    uint8_t rot = s->gr[3] & 7;
    uint8_t rv = (uint8_t)((val >> rot) | (val << ((8 - rot) & 7)));
    switch (mode) {
    case 0: {
        uint32_t sr = expand4(s->gr[0] & 0x0f), en = expand4(s->gr[1] & 0x0f);
        data = (0x01010101u * rv & ~en) | (sr & en);
        break;
    }
    case 1:
        data = s->latch;
        goto store;
    case 2:
        data = expand4(val & 0x0f);
        break;
    default:
        data = expand4(s->gr[0] & 0x0f);
        bitmask &= 0x01010101u * rv;
        break;
    }
    switch ((s->gr[3] >> 3) & 3) {
    case 1: data &= s->latch; break;
    case 2: data |= s->latch; break;
    case 3: data ^= s->latch; break;
    default: break;
    }
    data = (data & bitmask) | (s->latch & ~bitmask);
store: {
        uint32_t wmask = expand4(map_mask);
        uint32_t old;
        memcpy(&old, s->vram + plane_off * 4, 4);
        old = (old & ~wmask) | (data & wmask);
        memcpy(s->vram + plane_off * 4, &old, 4);
        vga_mark_dirty(s, plane_off * 4, 4);
    }
}

static uint64_t vga_lowmem_read(void *opaque, uint64_t off, unsigned size)
{
    return vga_mem_readb(opaque, (uint32_t)off);
}

static void vga_lowmem_write(void *opaque, uint64_t off, uint64_t val, unsigned size)
{
    vga_mem_writeb(opaque, (uint32_t)off, (uint8_t)val);
}

static const MemOps vga_lowmem_ops = { vga_lowmem_read, vga_lowmem_write, 1, 1 };

/* The linear framebuffer (BAR0) has no handlers: it is vram as RAM
 * (vga_create, vga_sync_dirty). */

/* ---- ports ---- */

static bool crtc_port_active(VGAState *s, uint32_t port)
{
    /* 0x3Dx with misc bit 0 set (colour), 0x3Bx otherwise (mono). */
    return (port & 0xf0) == ((s->misc & 1) ? 0xd0 : 0xb0);
}

/* Input status 1: bit 3 vertical retrace (the last 1/20 of a 70 Hz frame,
 * from the virtual clock), bit 0 display disabled (vertical retrace, or
 * every other read for the horizontal retrace). */
static uint8_t vga_input_status1(VGAState *s)
{
    int64_t frame_ns = 1000000000 / 70;
    int64_t pos = clock_now(s->m->clock) % frame_ns;
    bool vr = pos >= frame_ns - frame_ns / 20;
    uint8_t v = vr ? 0x09 : 0x00;
    if ((s->st01_reads++ & 1))
        v |= 0x01;
    s->ar_flip_flop = 0;
    return v;
}

uint32_t vga_ioport_read(VGAState *s, uint32_t port)
{
    if ((port >= 0x3b0 && port <= 0x3bf) || (port >= 0x3d0 && port <= 0x3df))
        if (!crtc_port_active(s, port))
            return 0xff;
    switch (port) {
    case 0x3c0:
        return s->ar_index;
    case 0x3c1:
        return (s->ar_index & 0x1f) < sizeof(s->ar) ? s->ar[s->ar_index & 0x1f] : 0;
    case 0x3c2:
        return 0x10;       /* switch sense: colour monitor attached */
    case 0x3c3:
        return 1;
    case 0x3c4:
        return s->sr_index;
    case 0x3c5:
        return s->sr[s->sr_index & 7];
    case 0x3c6:
        return s->dac_pel_mask;
    case 0x3c7:
        return s->dac_state;
    case 0x3c8:
        return s->dac_write_index;
    case 0x3c9: {
        uint8_t v = s->dac[s->dac_read_index * 3 + s->dac_sub];
        if (++s->dac_sub == 3) {
            s->dac_sub = 0;
            s->dac_read_index++;
        }
        return v;
    }
    case 0x3ca:
        return s->fcr;
    case 0x3cc:
        return s->misc;
    case 0x3ce:
        return s->gr_index;
    case 0x3cf:
        return s->gr[s->gr_index & 15];
    case 0x3b4: case 0x3d4:
        return s->cr_index;
    case 0x3b5: case 0x3d5:
        return s->cr[s->cr_index & 31];
    case 0x3ba: case 0x3da:
        return vga_input_status1(s);
    default:
        return 0xff;
    }
}

void vga_ioport_write(VGAState *s, uint32_t port, uint32_t val)
{
    uint8_t v = (uint8_t)val;
    if ((port >= 0x3b0 && port <= 0x3bf) || (port >= 0x3d0 && port <= 0x3df))
        if (!crtc_port_active(s, port))
            return;
    switch (port) {
    case 0x3c0:
        if (!s->ar_flip_flop) {
            s->ar_index = v & 0x3f;
        } else {
            uint8_t i = s->ar_index & 0x1f;
            static const uint8_t mask[21] = {
                0x3f, 0x3f, 0x3f, 0x3f, 0x3f, 0x3f, 0x3f, 0x3f,
                0x3f, 0x3f, 0x3f, 0x3f, 0x3f, 0x3f, 0x3f, 0x3f,
                0xef, 0xff, 0x3f, 0x0f, 0x0f };
            if (i < sizeof(s->ar)) {
                s->ar[i] = v & mask[i];
                s->full_update = true;
            }
        }
        s->ar_flip_flop ^= 1;
        break;
    case 0x3c2:
        s->misc = v & ~0x10;
        break;
    case 0x3c4:
        s->sr_index = v & 7;
        break;
    case 0x3c5: {
        static const uint8_t mask[8] = { 0x03, 0x3d, 0x0f, 0x3f, 0x0e, 0, 0, 0xff };
        s->sr[s->sr_index & 7] = v & mask[s->sr_index & 7];
        s->full_update = true;
        break;
    }
    case 0x3c6:
        s->dac_pel_mask = v;
        s->full_update = true;
        break;
    case 0x3c7:
        s->dac_read_index = v;
        s->dac_sub = 0;
        s->dac_state = 3;
        break;
    case 0x3c8:
        s->dac_write_index = v;
        s->dac_sub = 0;
        s->dac_state = 0;
        break;
    case 0x3c9:
        s->dac_latch[s->dac_sub] = v;
        if (++s->dac_sub == 3) {
            memcpy(&s->dac[s->dac_write_index * 3], s->dac_latch, 3);
            s->dac_sub = 0;
            s->dac_write_index++;
            s->full_update = true;
        }
        break;
    case 0x3ce:
        s->gr_index = v & 15;
        break;
    case 0x3cf: {
        static const uint8_t mask[16] = { 0x0f, 0x0f, 0x0f, 0x1f, 0x03, 0x7b, 0x0f,
                                          0x0f, 0xff };
        s->gr[s->gr_index & 15] = v & mask[s->gr_index & 15];
        s->full_update = true;
        break;
    }
    case 0x3b4: case 0x3d4:
        s->cr_index = v & 0x3f;
        break;
    case 0x3b5: case 0x3d5: {
        uint8_t i = s->cr_index;
        if (i >= 32)
            break;
        if ((s->cr[0x11] & 0x80) && i <= 7) {
            if (i == 7)
                s->cr[7] = (uint8_t)((s->cr[7] & ~0x10) | (v & 0x10));
            break;
        }
        s->cr[i] = v;
        if (i != 0x0e && i != 0x0f)
            s->full_update = true;
        break;
    }
    case 0x3ba: case 0x3da:
        s->fcr = v & 0x10;
        break;
    default:
        break;
    }
}

static uint64_t vga_port_read(void *opaque, uint64_t off, unsigned size)
{
    return vga_ioport_read(opaque, 0x3b0 + (uint32_t)off);
}

static void vga_port_write(void *opaque, uint64_t off, uint64_t val, unsigned size)
{
    vga_ioport_write(opaque, 0x3b0 + (uint32_t)off, (uint32_t)val);
}

static const MemOps vga_port_ops = { vga_port_read, vga_port_write, 1, 1 };

/* ---- BAR2: MMIO view of the VGA ports, DISPI, QEMU extension block ---- */

#define MMIO_EDID_BASE 0x000
#define MMIO_EDID_SIZE 0x400
#define MMIO_VGA_BASE  0x400
#define MMIO_VBE_BASE  0x500
#define MMIO_QEXT_BASE 0x600

static uint64_t vga_mmio_read(void *opaque, uint64_t off, unsigned size)
{
    VGAState *s = opaque;
    if (off < MMIO_EDID_BASE + MMIO_EDID_SIZE && s->has_edid) {
        /* The block, then zeros: drivers read 128-byte blocks from 0. */
        uint64_t v = 0;
        for (unsigned i = 0; i < size; i++)
            if (off + i < sizeof s->edid)
                v |= (uint64_t)s->edid[off + i] << (8 * i);
        return v;
    }
    if (off >= MMIO_VGA_BASE && off < MMIO_VGA_BASE + 0x20) {
        uint64_t v = 0;
        for (unsigned i = 0; i < size; i++)
            v |= (uint64_t)vga_ioport_read(s, 0x3c0 + (uint32_t)(off - MMIO_VGA_BASE) + i) << (8 * i);
        return v;
    }
    if (off >= MMIO_VBE_BASE && off < MMIO_VBE_BASE + 2 * VBE_NUM_REGS && size == 2)
        return vbe_read(s, (uint16_t)((off - MMIO_VBE_BASE) / 2));
    if (off == MMIO_QEXT_BASE && size == 4)
        return 8;                                   /* size of the block */
    if (off == MMIO_QEXT_BASE + 4 && size == 4)
        return 0x1e1e1e1e;                          /* little-endian framebuffer */
    return ~0ULL >> (64 - 8 * size);
}

static void vga_mmio_write(void *opaque, uint64_t off, uint64_t val, unsigned size)
{
    VGAState *s = opaque;
    if (off >= MMIO_VGA_BASE && off < MMIO_VGA_BASE + 0x20) {
        for (unsigned i = 0; i < size; i++)
            vga_ioport_write(s, 0x3c0 + (uint32_t)(off - MMIO_VGA_BASE) + i,
                             (uint8_t)(val >> (8 * i)));
        return;
    }
    if (off >= MMIO_VBE_BASE && off < MMIO_VBE_BASE + 2 * VBE_NUM_REGS && size == 2)
        vbe_write(s, (uint16_t)((off - MMIO_VBE_BASE) / 2), (uint16_t)val);
}

static const MemOps vga_mmio_ops = { vga_mmio_read, vga_mmio_write, 1, 4 };

/* ---- device lifecycle ---- */

static void vga_reset(void *opaque)
{
    VGAState *s = opaque;
    s->misc = 0;
    s->fcr = 0;
    s->sr_index = s->gr_index = s->cr_index = s->ar_index = 0;
    memset(s->sr, 0, sizeof s->sr);
    memset(s->gr, 0, sizeof s->gr);
    memset(s->cr, 0, sizeof s->cr);
    memset(s->ar, 0, sizeof s->ar);
    s->ar_flip_flop = 0;
    s->dac_read_index = s->dac_write_index = s->dac_sub = s->dac_state = 0;
    s->dac_pel_mask = 0xff;
    memset(s->dac, 0, sizeof s->dac);
    s->latch = 0;
    vbe_reset(s);
    s->full_update = true;
}

static void vga_free(void *opaque)
{
    VGAState *s = opaque;
    console_free(s->con);
    free(s->vram);
    free(s->dirty);
    free(s->lfb_log);
    free(s->lfb_taken);
    free(s->text_cache);
    free(s);
}

static int vga_post_load(void *opaque, int version, char **err)
{
    VGAState *s = opaque;
    (void)version;
    s->sr_index &= 7;
    s->gr_index &= 15;
    s->ar_index &= 0x3f;
    s->ar_flip_flop &= 1;
    if (s->dac_sub > 2)
        s->dac_sub = 0;
    if (!vbe_post_load(s, err))
        return -1;
    /* The guest may have written anything: redraw all. */
    memset(s->dirty, 0xff, (s->vram_size >> VGA_PAGE_SHIFT) / 8 + 1);
    s->full_update = true;
    return 0;
}

static const VMField vga_fields[] = {
    VMF_U8(misc, VGAState),
    VMF_U8(fcr, VGAState),
    VMF_U8(sr_index, VGAState),
    VMF_U8_ARRAY(sr, VGAState, 8),
    VMF_U8(gr_index, VGAState),
    VMF_U8_ARRAY(gr, VGAState, 16),
    VMF_U8(cr_index, VGAState),
    VMF_U8_ARRAY(cr, VGAState, 32),
    VMF_U8(ar_index, VGAState),
    VMF_U8_ARRAY(ar, VGAState, 21),
    VMF_U8(ar_flip_flop, VGAState),
    VMF_U8(dac_read_index, VGAState),
    VMF_U8(dac_write_index, VGAState),
    VMF_U8(dac_sub, VGAState),
    VMF_U8(dac_state, VGAState),
    VMF_U8(dac_pel_mask, VGAState),
    VMF_U8_ARRAY(dac_latch, VGAState, 3),
    VMF_U8_ARRAY(dac, VGAState, 768),
    VMF_U32(latch, VGAState),
    VMF_U16(vbe_index, VGAState),
    VMF_U16_ARRAY(vbe_regs, VGAState, VBE_NUM_REGS),
    VMF_END
};

static const VMStateDesc vga_vmsd = {
    .name = "vga", .version = 1, .min_version = 1,
    .fields = vga_fields, .post_load = vga_post_load,
};

static const DeviceOps vga_device_ops = {
    .name = "vga", .reset = vga_reset, .free = vga_free, .vmsd = &vga_vmsd,
};

/* Video memory: a device record of its own whose one field is the whole
 * buffer, described at run time (its size is the vgamem_mb property, so
 * a stream from a card with another size fails the field-length check). */
typedef struct VGAVramDev {
    VGAState *s;
    VMField fields[2];
    VMStateDesc vmsd;
    DeviceOps ops;
} VGAVramDev;

static void vga_vram_free(void *opaque)
{
    free(opaque);
}

static void vga_add_vram_section(VGAState *s)
{
    VGAVramDev *d = xcalloc(1, sizeof(*d));
    d->s = s;
    /* The field's offset is relative to the opaque pointer handed to the
     * serialiser: point it at the buffer itself. */
    d->fields[0] = (VMField){ .name = "vram", .offset = 0, .type = VMF_TYPE_BUFFER,
                              .size = s->vram_size, .count = 1 };
    d->fields[1] = (VMField)VMF_END;
    d->vmsd = (VMStateDesc){ .name = "vga-vram", .version = 1, .min_version = 1,
                             .fields = d->fields };
    d->ops = (DeviceOps){ .name = "vga-vram", .free = NULL, .vmsd = &d->vmsd };
    machine_add_device(s->m, &d->ops, s->vram);
    /* d lives as long as the machine: freed through a second record. */
    static const DeviceOps holder_ops = { .name = "vga-vram-desc", .free = vga_vram_free };
    machine_add_device(s->m, &holder_ops, d);
}

/* Undoes what vga_create registered before a later step failed. */
static void vga_unregister(VGAState *s)
{
    if (iospace_owner(s->m->io, 0x3c0) && !strcmp(iospace_owner(s->m->io, 0x3c0), "vga"))
        iospace_remove(s->m->io, 0x3b0, 0x30);
    if (s->lowmem)
        memmap_remove(s->m->mem, s->lowmem);
    s->lowmem = NULL;
    vbe_unregister_ports(s);
}

/* The VGA BIOS image, read before anything is registered so a bad file
 * leaves nothing behind. */
static uint8_t *vga_read_rom(const char *path, size_t *len, char *err, size_t errlen)
{
    char rerr[256];
    uint8_t *img = read_file(path, len, rerr, sizeof rerr);
    if (!img) {
        snprintf(err, errlen, "VGA BIOS: %s", rerr);
        return NULL;
    }
    if (*len < 3 || img[0] != 0x55 || img[1] != 0xaa || *len > (16u << 20)) {
        snprintf(err, errlen, "VGA BIOS: %s: not an option ROM (no 55 AA signature, or over 16 MiB)",
                 path);
        free(img);
        return NULL;
    }
    return img;
}

VGAState *vga_create(Machine *m, PCIBus *bus, int devfn, const VGAConfig *cfg,
                     char *err, size_t errlen)
{
    unsigned mb = cfg && cfg->vgamem_mb ? cfg->vgamem_mb : VGA_DEFAULT_VRAM_MB;
    if (mb > 256 || (mb & (mb - 1))) {
        snprintf(err, errlen, "VGA.vgamem_mb=%u: expected a power of two from 1 to 256", mb);
        return NULL;
    }
    unsigned xres = cfg && cfg->xres ? cfg->xres : VGA_DEFAULT_XRES;
    unsigned yres = cfg && cfg->yres ? cfg->yres : VGA_DEFAULT_YRES;
    uint8_t edid[EDID_BLOCK_SIZE];
    bool has_edid = !(cfg && cfg->no_edid);
    if (has_edid && !edid_generate(edid, &(EdidInfo){ .xres = xres, .yres = yres })) {
        snprintf(err, errlen, "VGA: xres=%u yres=%u: expected 1..4095 each", xres, yres);
        return NULL;
    }
    uint8_t *rom = NULL;
    size_t rom_len = 0;
    if (bus && cfg && cfg->romfile && !(rom = vga_read_rom(cfg->romfile, &rom_len, err, errlen)))
        return NULL;
    VGAState *s = xcalloc(1, sizeof(*s));
    s->m = m;
    s->has_edid = has_edid;
    if (has_edid)
        memcpy(s->edid, edid, sizeof s->edid);
    s->vram_size = mb << 20;
    s->vram = xcalloc(1, s->vram_size);
    s->dirty = xcalloc(1, (s->vram_size >> VGA_PAGE_SHIFT) / 8 + 1);
    s->con = console_new("vga");
    console_set_hw(s->con, &vga_console_ops, s);
    /* Before the firmware sets a mode the screen is black at 640x480, as
     * QEMU's first surface: a window or a screendump has a picture from
     * power-on (the installer test takes one at once). */
    console_resize(s->con, 640, 480);

    char *e = NULL;
    if (!iospace_add(m->io, "vga", 0x3b0, 0x30, &vga_port_ops, s, &e) ||
        !(s->lowmem = memmap_add_mmio(m->mem, "vga-lowmem", 0xa0000, 0x20000,
                                      &vga_lowmem_ops, s, VGA_LOWMEM_PRIORITY, &e))) {
        snprintf(err, errlen, "vga: %s", e ? e : "resources taken");
        free(e);
        free(rom);
        vga_unregister(s);
        vga_free(s);
        return NULL;
    }
    vbe_register_ports(s);
    if (bus) {
        PCIConfigInit ids = { .vendor_id = 0x1234, .device_id = 0x1111, .revision = 2,
                              .class_code = 0x030000,
                              .subsys_vendor_id = 0x1af4, .subsys_id = 0x1100 };
        s->pci = pci_register_function(bus, devfn, &ids, "vga", NULL, NULL, s);
        if (!s->pci) {
            snprintf(err, errlen, "vga: PCI slot %d.%d is taken", PCI_SLOT(devfn), PCI_FUNC(devfn));
            free(rom);
            vga_unregister(s);
            vga_free(s);
            return NULL;
        }
        s->lfb_log_words = ((s->vram_size >> VGA_PAGE_SHIFT) + 63) / 64;
        s->lfb_log = xcalloc(s->lfb_log_words, sizeof(uint64_t));
        s->lfb_taken = xcalloc(s->lfb_log_words, sizeof(uint64_t));
        /* vram_size is a power of two from 1 MiB (checked above). */
        pci_register_bar_ram(s->pci, 0, s->vram_size, s->vram, s->lfb_log);
        pci_bar_set_prefetchable(s->pci, 0);
        pci_register_bar(s->pci, 2, 0x1000, false, &vga_mmio_ops, s);
        if (rom)
            pci_register_rom(s->pci, rom, rom_len);
        free(rom);
    }
    machine_add_device(m, &vga_device_ops, s);
    vga_add_vram_section(s);
    vga_reset(s);
    return s;
}
