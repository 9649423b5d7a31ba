/*
 * vga-fbloop: the moving picture of the display bench (bench/display.py):
 * Bochs VBE 1024x768x32 through the DISPI ports, the linear framebuffer at
 * the VGA function's BAR0 (00:02.0; the image places it at 0xE0000000 when
 * nothing has assigned it, as no firmware runs before it), every pixel
 * rewritten each frame, FPS frames a second paced by PIT interrupts (a
 * frame that takes longer than a tick starts the next one at once).
 * Prints "ready" once the mode is set, then "frames N" every 16 frames
 * on the debug console (the bench counts the frames drawn meanwhile).
 */
#include "vga-common.h"

#define WIDTH 1024
#define HEIGHT 768
#define FPS 30
#define LFB_DEFAULT 0xe0000000u
#define VGA_DEV 2                         /* 00:02.0 on the i440FX board */
#define VEC_TIMER 0x20                    /* IRQ0 after pic_init(0x20, ...) */
#define PIT_HZ 1193182
#define LAPIC_BASE 0xfee00000u

static volatile uint32_t ticks;

/* BAR0 (prefetchable memory): where the framebuffer answers. */
static volatile uint32_t *lfb_from_bar0(void)
{
    uint32_t bar = pci_read32(VGA_DEV, 0x10) & ~0xfu;
    if (!bar) {
        pci_write32(VGA_DEV, 0x10, LFB_DEFAULT);
        bar = pci_read32(VGA_DEV, 0x10) & ~0xfu;
    }
    pci_write32(VGA_DEV, 0x04, 0x0003);   /* IO + memory decode */
    return (volatile uint32_t *)(uintptr_t)bar;
}

static void lapic_write(uint32_t reg, uint32_t v)
{
    *(volatile uint32_t *)(uintptr_t)(LAPIC_BASE + reg) = v;
}

static int timer_hook(struct frame *f)
{
    if (f->vector != VEC_TIMER)
        return 0;
    ticks++;
    pic_eoi(0);
    return 1;
}

/* Frame n: every pixel a new value (a diagonal gradient that moves). */
static void draw(volatile uint32_t *fb, uint32_t n)
{
    for (uint32_t y = 0; y < HEIGHT; y++) {
        uint32_t c = (y + n * 4) * 0x00010101u;
        volatile uint32_t *row = fb + y * WIDTH;
        for (uint32_t x = 0; x < WIDTH; x++)
            row[x] = c + x * 0x00000201u;
    }
}

int main(void)
{
    volatile uint32_t *fb = lfb_from_bar0();
    tprintf("vga id %x lfb %x\n", pci_read32(VGA_DEV, 0), (uint32_t)(uintptr_t)fb);
    dispi(4, 0);                           /* disable */
    dispi(1, WIDTH);
    dispi(2, HEIGHT);
    dispi(3, 32);
    dispi(4, 0x41);                        /* enable, LFB */
    inb(0x3da);                            /* attribute flip-flop: index */
    outb(0x3c0, 0x20);                     /* palette address source: display on */
    exc_hook = timer_hook;
    idt_reset(VEC_TIMER, 0);
    /* the PIC reaches the CPU through LINT0 in virtual-wire mode, which a
     * BIOS sets up (reset leaves the LVT masked) */
    lapic_write(0xf0, 0x1ff);              /* SVR: enabled, spurious FFh */
    lapic_write(0x350, 0x700);             /* LVT LINT0: ExtINT */
    pic_init(0x20, 0x28, 0xfffe);          /* IRQ0 only */
    pit_start(0, 2, PIT_HZ / FPS);
    tprintf("ready\n");
    uint32_t seen = ticks;
    for (uint32_t n = 0;; n++) {
        draw(fb, n);
        if ((n & 15) == 15)
            tprintf("frames %u\n", n + 1);
        while (ticks == seen)
            asm volatile("sti; hlt; cli" ::: "memory");
        seen = ticks;
    }
}
