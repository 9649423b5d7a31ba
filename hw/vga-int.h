/*
 * VGA internals shared by hw/vga.c, hw/vbe.c and hw/vga-render.c.
 *
 * Video memory layout: the four planes are interleaved, plane p's byte at
 * plane offset o is vram[o * 4 + p].  Chain-4 host accesses (mode 13h)
 * therefore address vram linearly (host offset A is plane A & 3, plane
 * offset A >> 2), which is also the layout the VBE linear framebuffer
 * shows: one memory, three views.
 */
#ifndef VX86_HW_VGA_INT_H
#define VX86_HW_VGA_INT_H

#include "hw/vga.h"

/* Bochs VBE "DISPI" registers (index written to 0x1CE, data at 0x1CF). */
enum {
    VBE_INDEX_ID = 0,
    VBE_INDEX_XRES,
    VBE_INDEX_YRES,
    VBE_INDEX_BPP,
    VBE_INDEX_ENABLE,
    VBE_INDEX_BANK,
    VBE_INDEX_VIRT_WIDTH,
    VBE_INDEX_VIRT_HEIGHT,
    VBE_INDEX_X_OFFSET,
    VBE_INDEX_Y_OFFSET,
    VBE_INDEX_VIDEO_MEMORY_64K,
    VBE_NUM_REGS,
};
#define VBE_ID0               0xb0c0
#define VBE_ID5               0xb0c5
#define VBE_ENABLED           0x01
#define VBE_GETCAPS           0x02
#define VBE_8BIT_DAC          0x20
#define VBE_LFB_ENABLED       0x40
#define VBE_NOCLEARMEM        0x80
#define VBE_MAX_XRES          16000
#define VBE_MAX_YRES          12000
#define VBE_MAX_BPP           32

#define VGA_PAGE_SHIFT 12

struct VGAState {
    Machine *m;
    PCIDevice *pci;
    Console *con;
    uint8_t *vram;
    uint32_t vram_size;        /* bytes, power of two */
    uint8_t *dirty;            /* one bit per 4 KiB page of vram */
    /* The framebuffer BAR is logged RAM (memmap_add_ram_logged): CPU and
     * DMA writes set lfb_log; vga_sync_dirty folds it into dirty through
     * lfb_taken (scratch) before each use. */
    uint64_t *lfb_log, *lfb_taken;
    size_t lfb_log_words;
    MemRegion *lowmem;
    uint8_t edid[128];         /* BAR2 0x000: the monitor's EDID (hw/edid.c) */
    bool has_edid;

    /* VGA registers */
    uint8_t misc;              /* misc output (0x3C2 / read 0x3CC) */
    uint8_t fcr;               /* feature control */
    uint8_t sr_index, sr[8];
    uint8_t gr_index, gr[16];
    uint8_t cr_index, cr[32];
    uint8_t ar_index;          /* bits 0-4 index, bit 5 palette address source */
    uint8_t ar[21];
    uint8_t ar_flip_flop;      /* 0: next 0x3C0 write is an index */
    uint8_t dac_read_index, dac_write_index, dac_sub, dac_state;
    uint8_t dac_pel_mask;
    uint8_t dac_latch[3];
    uint8_t dac[768];          /* 6-bit (8-bit with VBE_8BIT_DAC) RGB */
    uint32_t latch;            /* the four plane latches, plane p in byte p */
    uint32_t st01_reads;       /* input status 1 reads (horizontal retrace) */

    /* Bochs VBE */
    uint16_t vbe_index;
    uint16_t vbe_regs[VBE_NUM_REGS];
    uint32_t vbe_start;        /* byte offset of the visible frame */
    uint32_t vbe_line_offset;  /* bytes per line of the virtual screen */

    /* rendering (not saved; a load invalidates) */
    bool full_update;
    bool blink_pinned, cursor_phase, char_phase;
    uint32_t palette[256];     /* derived XRGB of the DAC */
    int last_kind, last_w, last_h;
    uint32_t *text_cache;      /* last drawn char | attr << 8 | cursor << 16 */
    uint32_t text_cache_cells;
    bool last_char_phase;
    int last_cursor_lines;
    /* The two text fonts' glyph bytes (plane 2) as last drawn: text
     * writes dirty the same vram pages (the planes are interleaved), so a
     * dirty page alone does not mean the font changed. */
    uint8_t font_cache[2][0x2000];
    uint32_t font_cache_base[2];
    bool font_cache_valid[2];
};

/* vga.c */
void vga_mark_dirty(VGAState *s, uint32_t off, uint32_t len);
void vga_sync_dirty(VGAState *s);
uint32_t vga_ioport_read(VGAState *s, uint32_t port);
void vga_ioport_write(VGAState *s, uint32_t port, uint32_t val);

/* vbe.c */
bool vbe_enabled(const VGAState *s);
unsigned vbe_bpp(const VGAState *s);
uint32_t vbe_read(VGAState *s, uint16_t index);
void vbe_write(VGAState *s, uint16_t index, uint16_t val);
void vbe_reset(VGAState *s);
void vbe_register_ports(VGAState *s);
void vbe_unregister_ports(VGAState *s);
bool vbe_post_load(VGAState *s, char **err);

/* vga-render.c */
extern const ConsoleHwOps vga_console_ops;
/* 6-bit DAC component -> 8 bits as the display shows it. */
uint8_t vga_dac_expand(uint8_t v6);

#endif
