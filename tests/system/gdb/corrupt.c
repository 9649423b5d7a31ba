/*
 * corrupt: a bare-metal image (tests/testrom) whose variable `guarded` is
 * written twice -- set once (at `store_init`), then corrupted (at
 * `store_bad`) by code that runs after PIT interrupts have come and gone,
 * so where the corruption happens depends on the timing the replay must
 * reproduce -- before `done` is reached (tests/system/gdb-reverse.sh).
 * The run is long enough (10 M instructions) for the replay to keep
 * several snapshots between the two stores.
 * Under a replay, gdb stops at `done`, watches `guarded` and runs
 * backwards: reverse-continue must stop at `store_bad`, then at
 * `store_init`; reverse-stepi from `done` must land on `call_done`.
 */
#include "testrom.h"

#define LAPIC_BASE 0xfee00000u
#define VEC_PIC 0x20

volatile uint32_t guarded;
volatile uint32_t ticks, work;

static int irq_hook(struct frame *f)
{
    if (f->vector != VEC_PIC)
        return 0;
    ticks++;
    pic_eoi(0);
    return 1;
}

void done(void);
void __attribute__((noinline)) done(void)
{
    tprintf("done: guarded=%x ticks=%u work=%u\n", guarded, ticks, work);
}

int main(void)
{
    exc_hook = irq_hook;
    *(volatile uint32_t *)(LAPIC_BASE + 0xf0) = 0x1ff;      /* SVR: enabled */
    *(volatile uint32_t *)(LAPIC_BASE + 0x350) = 0x700;     /* LINT0: ExtINT */
    pic_init(VEC_PIC, VEC_PIC + 8, 0xfffe);
    pit_start(0, 2, 1193);                                  /* 1 kHz */
    tprintf("start\n");
    asm volatile(".globl store_init\nstore_init:\n\tmovl $0x1234, guarded" ::: "memory");
    /* Work while interrupts come: how far it gets depends on when they
     * come. */
    asm volatile("sti" ::: "memory");
    while (ticks < 40)             /* 40 ms: some 10 M instructions at shift=2 */
        work = work * 33 + ticks;
    asm volatile("cli" ::: "memory");
    if (work & 1)
        work ^= 0x55;
    asm volatile(".globl store_bad\nstore_bad:\n\tmovl $0xdead, guarded" ::: "memory");
    work++;
    asm volatile(".globl call_done\ncall_done:\n\tcall done" ::: "memory", "eax", "ecx", "edx");
    CHECK(guarded == 0xdead);
    return test_result();
}
