/*
 * Bochs VBE ("DISPI") interface of the standard VGA: an index register at
 * port 0x1CE and a data register at 0x1CF (0x1D0 too), both 16-bit, also
 * reachable through BAR2 at offset 0x500.  The interface as the Bochs
 * VBE BIOS, SeaBIOS's VGA BIOS, Linux's bochs-drm and vesafb use it:
 *
 *   0 ID            0xB0C0..0xB0C5: the guest writes the version it speaks
 *   1 XRES, 2 YRES  mode size (ignored while enabled)
 *   3 BPP           4, 8, 15, 16, 24, 32 (0 means 8)
 *   4 ENABLE        bit 0 enabled, bit 1 GETCAPS (XRES/YRES/BPP read the
 *                   maxima while set), bit 5 8-bit DAC, bit 6 linear
 *                   framebuffer, bit 7 do not clear memory on enable
 *   5 BANK          64 KiB bank shown at 0xA0000 while enabled
 *   6 VIRT_WIDTH    line length of the virtual screen in pixels
 *   7 VIRT_HEIGHT   lines of the virtual screen (computed from memory)
 *   8 X_OFFSET, 9 Y_OFFSET   visible window inside the virtual screen
 *   10 VIDEO_MEMORY_64K      read only: video memory in 64 KiB units
 *
 * Invalid values (a mode larger than video memory, an unknown depth) are
 * refused: the register keeps its old value, or enabling fails and the
 * card stays in VGA mode; logged under -d guest_errors.
 */
#include <string.h>

#include "core/log.h"
#include "core/util.h"
#include "hw/vga-int.h"

bool vbe_enabled(const VGAState *s)
{
    return s->vbe_regs[VBE_INDEX_ENABLE] & VBE_ENABLED;
}

unsigned vbe_bpp(const VGAState *s)
{
    return s->vbe_regs[VBE_INDEX_BPP] ? s->vbe_regs[VBE_INDEX_BPP] : 8;
}

static bool bpp_valid(unsigned bpp)
{
    return bpp == 4 || bpp == 8 || bpp == 15 || bpp == 16 || bpp == 24 || bpp == 32;
}

static uint32_t line_bytes(unsigned bpp, uint32_t width)
{
    return bpp == 4 ? width / 2 : width * ((bpp + 7) / 8);
}

/* Recomputes the line length, the virtual height and the start of the
 * visible frame from the registers; false when they do not fit. */
static bool vbe_update_layout(VGAState *s)
{
    unsigned bpp = vbe_bpp(s);
    uint32_t vw = s->vbe_regs[VBE_INDEX_VIRT_WIDTH];
    uint32_t lo = line_bytes(bpp, vw);
    if (!lo)
        return false;
    uint32_t vh = s->vram_size / lo;
    s->vbe_regs[VBE_INDEX_VIRT_HEIGHT] = (uint16_t)MIN(vh, 0xffffu);
    uint32_t x = s->vbe_regs[VBE_INDEX_X_OFFSET], y = s->vbe_regs[VBE_INDEX_Y_OFFSET];
    uint64_t start = (uint64_t)y * lo + (bpp == 4 ? x / 8 : x * ((bpp + 7) / 8));
    uint64_t frame = (uint64_t)lo * s->vbe_regs[VBE_INDEX_YRES];
    if (start + frame > s->vram_size)
        return false;
    s->vbe_line_offset = lo;
    s->vbe_start = (uint32_t)start;
    return true;
}

uint32_t vbe_read(VGAState *s, uint16_t index)
{
    bool caps = s->vbe_regs[VBE_INDEX_ENABLE] & VBE_GETCAPS;
    switch (index) {
    case VBE_INDEX_XRES:
        return caps ? VBE_MAX_XRES : s->vbe_regs[index];
    case VBE_INDEX_YRES:
        return caps ? VBE_MAX_YRES : s->vbe_regs[index];
    case VBE_INDEX_BPP:
        return caps ? VBE_MAX_BPP : s->vbe_regs[index];
    case VBE_INDEX_VIDEO_MEMORY_64K:
        return s->vram_size >> 16;
    default:
        return index < VBE_NUM_REGS ? s->vbe_regs[index] : 0;
    }
}

/* What a VBE BIOS would program for a graphics mode, so the legacy
 * window and registers agree with the DISPI mode: graphics, 64 KiB at
 * 0xA0000, chain 4, 256-colour shifting. */
static void vbe_set_vga_graphics(VGAState *s)
{
    s->gr[6] = (s->gr[6] & ~0x0c) | 0x05;
    s->gr[5] = (s->gr[5] & ~0x70) | 0x40;
    s->sr[4] |= 0x08;
    s->sr[2] = 0x0f;
    s->ar[0x10] |= 0x01;
}

void vbe_write(VGAState *s, uint16_t index, uint16_t val)
{
    bool on = vbe_enabled(s);
    switch (index) {
    case VBE_INDEX_ID:
        if (val >= VBE_ID0 && val <= VBE_ID5)
            s->vbe_regs[index] = val;
        break;
    case VBE_INDEX_XRES:
    case VBE_INDEX_YRES:
        if (on)
            break;
        if (val > (index == VBE_INDEX_XRES ? VBE_MAX_XRES : VBE_MAX_YRES)) {
            LOG(LOG_GUEST_ERRORS, "vbe: %s %u too large\n",
                index == VBE_INDEX_XRES ? "xres" : "yres", val);
            break;
        }
        s->vbe_regs[index] = val;
        break;
    case VBE_INDEX_BPP:
        if (on)
            break;
        if (val == 0)
            val = 8;
        if (!bpp_valid(val)) {
            LOG(LOG_GUEST_ERRORS, "vbe: bpp %u not supported\n", val);
            break;
        }
        s->vbe_regs[index] = val;
        break;
    case VBE_INDEX_BANK:
        if ((uint32_t)val * 0x10000u < s->vram_size)
            s->vbe_regs[index] = val;
        else
            LOG(LOG_GUEST_ERRORS, "vbe: bank %u beyond video memory\n", val);
        break;
    case VBE_INDEX_ENABLE: {
        uint16_t keep = VBE_ENABLED | VBE_GETCAPS | VBE_8BIT_DAC | VBE_LFB_ENABLED |
                        VBE_NOCLEARMEM;
        val &= keep;
        if ((val & VBE_ENABLED) && !on) {
            unsigned bpp = vbe_bpp(s);
            uint32_t xres = s->vbe_regs[VBE_INDEX_XRES], yres = s->vbe_regs[VBE_INDEX_YRES];
            uint64_t need = (uint64_t)line_bytes(bpp, xres) * yres;
            if (!xres || !yres || need > s->vram_size) {
                LOG(LOG_GUEST_ERRORS, "vbe: %ux%ux%u does not fit in video memory\n",
                    xres, yres, bpp);
                val &= (uint16_t)~VBE_ENABLED;
                s->vbe_regs[index] = val;
                break;
            }
            s->vbe_regs[VBE_INDEX_VIRT_WIDTH] = (uint16_t)xres;
            s->vbe_regs[VBE_INDEX_X_OFFSET] = 0;
            s->vbe_regs[VBE_INDEX_Y_OFFSET] = 0;
            s->vbe_regs[VBE_INDEX_BANK] = 0;
            vbe_update_layout(s);
            if (!(val & VBE_NOCLEARMEM)) {
                memset(s->vram, 0, (size_t)need);
                vga_mark_dirty(s, 0, (uint32_t)need);
            }
            vbe_set_vga_graphics(s);
        } else if (!(val & VBE_ENABLED)) {
            s->vbe_regs[VBE_INDEX_BANK] = 0;
        }
        s->vbe_regs[index] = val;
        s->full_update = true;
        break;
    }
    case VBE_INDEX_VIRT_WIDTH: {
        uint16_t old = s->vbe_regs[index];
        if (val < s->vbe_regs[VBE_INDEX_XRES])
            break;
        s->vbe_regs[index] = val;
        if (on && !vbe_update_layout(s)) {
            s->vbe_regs[index] = old;
            vbe_update_layout(s);
            LOG(LOG_GUEST_ERRORS, "vbe: virtual width %u does not fit\n", val);
        }
        s->full_update = true;
        break;
    }
    case VBE_INDEX_X_OFFSET:
    case VBE_INDEX_Y_OFFSET: {
        uint16_t old = s->vbe_regs[index];
        s->vbe_regs[index] = val;
        if (on && !vbe_update_layout(s)) {
            s->vbe_regs[index] = old;
            vbe_update_layout(s);
            LOG(LOG_GUEST_ERRORS, "vbe: offset %u puts the frame outside video memory\n", val);
        }
        s->full_update = true;
        break;
    }
    default:
        break;            /* VIRT_HEIGHT and VIDEO_MEMORY_64K are read only */
    }
}

void vbe_reset(VGAState *s)
{
    memset(s->vbe_regs, 0, sizeof s->vbe_regs);
    s->vbe_regs[VBE_INDEX_ID] = VBE_ID5;
    s->vbe_regs[VBE_INDEX_BPP] = 8;
    s->vbe_index = 0;
    s->vbe_start = 0;
    s->vbe_line_offset = 0;
}

bool vbe_post_load(VGAState *s, char **err)
{
    if (!bpp_valid(vbe_bpp(s)) || s->vbe_regs[VBE_INDEX_XRES] > VBE_MAX_XRES ||
        s->vbe_regs[VBE_INDEX_YRES] > VBE_MAX_YRES ||
        (uint32_t)s->vbe_regs[VBE_INDEX_BANK] * 0x10000u >= s->vram_size) {
        set_error(err, "vga: impossible VBE registers in the stream");
        vbe_reset(s);
        return false;
    }
    if (vbe_enabled(s) && !vbe_update_layout(s)) {
        set_error(err, "vga: the saved VBE mode does not fit in video memory");
        vbe_reset(s);
        return false;
    }
    return true;
}

static uint64_t vbe_port_read(void *opaque, uint64_t off, unsigned size)
{
    VGAState *s = opaque;
    if (off == 0)
        return s->vbe_index;
    return vbe_read(s, s->vbe_index);
}

static void vbe_port_write(void *opaque, uint64_t off, uint64_t val, unsigned size)
{
    VGAState *s = opaque;
    if (off == 0)
        s->vbe_index = (uint16_t)val;
    else
        vbe_write(s, s->vbe_index, (uint16_t)val);
}

static const MemOps vbe_port_ops = { vbe_port_read, vbe_port_write, 1, 2 };

void vbe_register_ports(VGAState *s)
{
    iospace_add(s->m->io, "vbe", 0x1ce, 3, &vbe_port_ops, s, NULL);
}

void vbe_unregister_ports(VGAState *s)
{
    if (iospace_owner(s->m->io, 0x1ce) && !strcmp(iospace_owner(s->m->io, 0x1ce), "vbe"))
        iospace_remove(s->m->io, 0x1ce, 3);
}
