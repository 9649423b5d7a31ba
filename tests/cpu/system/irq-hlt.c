/*
 * irq-hlt: hardware interrupts in 32-bit protected mode through the IDT.
 *  1. 8254 PIT channel 0 (mode 2, ~1 kHz) -> 8259 IRQ0 (ICW2 base 20h):
 *     STI + HLT until the handler ran 5 times; HLT is ended by the
 *     interrupt (the saved EIP is the instruction after the HLT, SDM
 *     Vol. 2A HLT), and IF is clear in the interrupt-gate handler.
 *  2. The STI shadow (SDM Vol. 2B STI: "delays recognition of maskable
 *     interrupts until after the instruction that follows STI"): with IRQ0
 *     pending in the IRR, "STI; CLI" takes no interrupt, "STI; NOP; CLI"
 *     takes it after the NOP, "STI; HLT" takes it after the HLT.
 *  3. The same timer through the I/O APIC (pin 2, the ISA IRQ0 override)
 *     and the local APIC: the 8259 is masked, the LAPIC software-enabled
 *     through the SVR (its LVTs reset masked, SDM Vol. 3A 10.4.7.1), the
 *     redirection entry sends vector 30h, the handler EOIs the LAPIC.
 *     (Part 1 already needs the LAPIC: set up as the virtual wire, LINT0 =
 *     ExtINT, as a BIOS leaves it.)
 * Timing differs between emulators: the exact counts are "info" lines;
 * compared lines say which vector arrived and that the count reached N.
 */
#include "testrom.h"

#define LAPIC_BASE  0xfee00000u
#define IOAPIC_BASE 0xfec00000u
#define VEC_PIC     0x20
#define VEC_IOAPIC  0x30
#define SPIN        2000000

static volatile uint32_t ticks[256], woke_hlt, if_in_handler, last_ip;
/* The interrupted IP of the first interrupt after arm_first(): a second
 * timer tick may follow at once when the host preempted the emulator
 * between the handler's IRET (IF=1 again, no shadow) and the CLI, which
 * the SDM allows; the shadow is about the first one. */
static volatile uint32_t first_ip, first_armed;
extern char after_hlt[];

static void lapic_write(uint32_t reg, uint32_t v) { *(volatile uint32_t *)(LAPIC_BASE + reg) = v; }
static uint32_t lapic_read(uint32_t reg) { return *(volatile uint32_t *)(LAPIC_BASE + reg); }
static void ioapic_write(uint32_t reg, uint32_t v)
{
    *(volatile uint32_t *)IOAPIC_BASE = reg;
    *(volatile uint32_t *)(IOAPIC_BASE + 0x10) = v;
}

static int irq_hook(struct frame *f)
{
    if (f->vector != VEC_PIC && f->vector != VEC_IOAPIC)
        return 0;
    ticks[f->vector]++;
    last_ip = f->ip;
    if (first_armed) {
        first_ip = f->ip;
        first_armed = 0;
    }
    if (f->ip == (uintptr_t)after_hlt)
        woke_hlt++;
    if (read_flags() & EFLAGS_IF)
        if_in_handler++;
    if (f->vector == VEC_PIC)
        pic_eoi(0);
    else
        lapic_write(0xb0, 0);
    return 1;
}

/* STI; HLT until the vector ran n times (bounded). */
static __attribute__((noinline)) void wait_ticks(int vec, uint32_t n)
{
    for (int i = 0; i < SPIN && ticks[vec] < n; i++)
        asm volatile("sti; hlt\n.globl after_hlt\nafter_hlt:\n\tcli" ::: "memory");
}

static void arm_first(void)
{
    first_ip = 0;
    first_armed = 1;
}

static int irr_has_irq0(void)
{
    outb(0x20, 0x0a);          /* OCW3: read IRR */
    return inb(0x20) & 1;
}

/* With IF = 0, wait until the PIT edge is latched in the IRR. */
static int wait_pending(void)
{
    for (int i = 0; i < SPIN; i++)
        if (irr_has_irq0())
            return 1;
    return 0;
}

int main(void)
{
    exc_hook = irq_hook;

    /* ---- 1. PIT -> 8259 ---- */
    /* What a BIOS does before 8259 interrupts can reach the CPU: enable the
     * local APIC with LINT0 as the ExtINT virtual wire and LINT1 as NMI (MP
     * spec 3.6.2.2); the LVTs reset masked (SDM Vol. 3A 10.4.7.1). */
    lapic_write(0xf0, 0x1ff);                  /* SVR: enabled, spurious FFh */
    lapic_write(0x350, 0x700);                 /* LVT LINT0: ExtINT */
    lapic_write(0x360, 0x400);                 /* LVT LINT1: NMI */
    pic_init(VEC_PIC, VEC_PIC + 8, 0xfffe);
    pit_start(0, 2, 1193);
    wait_ticks(VEC_PIC, 5);
    tprintf("info pic: %u interrupts, %u ended a hlt\n", ticks[VEC_PIC], woke_hlt);
    tprintf("pic: vector 20h arrived, count >= 5: %d, a hlt was ended by it: %d, IF=0 in handler: %d\n",
            ticks[VEC_PIC] >= 5, woke_hlt > 0, if_in_handler == 0);
    CHECK(ticks[VEC_PIC] >= 5 && woke_hlt > 0 && if_in_handler == 0);
    CHECK(ticks[VEC_IOAPIC] == 0);

    /* ---- 2. the STI shadow ---- */
    extern char after_nop[], after_shadow_hlt[];
    int pending = wait_pending();
    uint32_t t0 = ticks[VEC_PIC];
    asm volatile("sti; cli" ::: "memory");
    uint32_t t1 = ticks[VEC_PIC];
    tprintf("shadow: irq0 pending: %d, taken by sti;cli: %u\n", pending, t1 - t0);
    CHECK(pending && t1 == t0, "sti; cli takes no interrupt");
    arm_first();
    asm volatile("sti; nop\n.globl after_nop\nafter_nop:\n\tcli" ::: "memory");
    uint32_t t2 = ticks[VEC_PIC];
    tprintf("info shadow: taken by sti;nop;cli: %u\n", t2 - t1);
    tprintf("shadow: sti;nop;cli took it, the first after the nop: %d\n",
            t2 > t1 && first_ip == (uintptr_t)after_nop);
    CHECK(t2 > t1 && first_ip == (uintptr_t)after_nop);
    pending = wait_pending();
    arm_first();
    asm volatile("sti; hlt\n.globl after_shadow_hlt\nafter_shadow_hlt:\n\tcli" ::: "memory");
    uint32_t t3 = ticks[VEC_PIC];
    tprintf("info shadow: taken by sti;hlt;cli: %u\n", t3 - t2);
    tprintf("shadow: pending %d, sti;hlt took it, the first after the hlt: %d\n", pending,
            t3 > t2 && first_ip == (uintptr_t)after_shadow_hlt);
    CHECK(t3 > t2 && first_ip == (uintptr_t)after_shadow_hlt);

    /* ---- 3. PIT -> I/O APIC pin 2 -> LAPIC ---- */
    outb(0x21, 0xff);                          /* 8259 masked */
    outb(0xa1, 0xff);
    lapic_write(0x350, 0x10700);               /* LINT0 masked: no virtual wire */
    lapic_write(0x80, 0);                      /* TPR 0 */
    uint32_t ver = lapic_read(0x30);
    tprintf("lapic: svr=%x, version register max lvt >= 3: %d\n", lapic_read(0xf0) & 0x1ff,
            ((ver >> 16) & 0xff) >= 3);
    ioapic_write(0x10 + 2 * 2 + 1, 0);         /* destination APIC 0 */
    ioapic_write(0x10 + 2 * 2, VEC_IOAPIC);    /* fixed, physical, edge, high, unmasked */
    woke_hlt = 0;
    wait_ticks(VEC_IOAPIC, 5);
    tprintf("info ioapic: %u interrupts, %u ended a hlt\n", ticks[VEC_IOAPIC], woke_hlt);
    tprintf("ioapic: vector 30h arrived, count >= 5: %d, a hlt was ended by it: %d\n",
            ticks[VEC_IOAPIC] >= 5, woke_hlt > 0);
    CHECK(ticks[VEC_IOAPIC] >= 5 && woke_hlt > 0);
    ioapic_write(0x10 + 2 * 2, 0x10000 | VEC_IOAPIC);   /* masked again */
    uint32_t isr = 0;
    for (int i = 0; i < 8; i++)
        isr |= lapic_read(0x100 + 0x10 * i);
    tprintf("lapic: in-service after EOI: %x\n", isr);
    CHECK(isr == 0);
    exc_hook = 0;
    return test_result();
}
