/*
 * accel-counter: a guest whose whole state lives in the CPU and RAM, for
 * moving a running machine between accelerators
 * (tests/system/accel_switch_test.py: saved under -accel tcg, resumed
 * under -accel kvm, and the reverse).
 *
 * It prints "count N H L X" lines for N = 1, 2, ... forever, where H is a
 * 64-bit hash chain kept in general registers and memory, and L:X is a
 * 128-bit accumulator that lives only in XMM7 for the whole run: the
 * compiler never uses vector registers here (-mgeneral-regs-only), so XMM7
 * carries state across the migration point only if the accelerators
 * exchange the SSE state.  The test recomputes every line from N alone, so
 * a gap, a repeated line or a value that went wrong anywhere is caught.
 *
 * Per line:  H = mix(H ^ N)  (splitmix64's finaliser, 4 times)
 *            XMM7 = (hi + H, lo ^ H) where (lo, hi) are its old qwords:
 *            movq H->xmm0; pxor xmm0,xmm7; pshufd $0x4e (swap); paddq xmm0,xmm7
 * A delay loop between lines (no effect on the values) keeps the output
 * rate near a few hundred lines per second under the translator.
 */
#include "testrom.h"

#define CR4_OSFXSR 0x200
#define DELAY_LOOPS 200000

static uint64_t mix(uint64_t h)
{
    for (int r = 0; r < 4; r++) {
        h ^= h >> 30;
        h *= 0xbf58476d1ce4e5b9ULL;
        h ^= h >> 27;
        h *= 0x94d049bb133111ebULL;
        h ^= h >> 31;
    }
    return h;
}

static void xmm7_fold(uint64_t h, uint64_t *lo, uint64_t *hi)
{
    asm volatile("movq %2, %%xmm0\n\t"
                 "pxor %%xmm0, %%xmm7\n\t"
                 "pshufd $0x4e, %%xmm7, %%xmm7\n\t"
                 "paddq %%xmm0, %%xmm7\n\t"
                 "movq %%xmm7, %0\n\t"
                 "pshufd $0x4e, %%xmm7, %%xmm0\n\t"
                 "movq %%xmm0, %1"
                 : "=r"(*lo), "=r"(*hi) : "r"(h));   /* no clobber list: vector registers are not the compiler's here */
}

int main(void)
{
    WRITE_CR(4, READ_CR(4) | CR4_OSFXSR);
    WRITE_CR(0, (READ_CR(0) & ~(ureg)(CR0_EM | CR0_TS)) | CR0_MP);
    asm volatile("pxor %xmm7, %xmm7");
    tprintf("accel-counter start\n");
    uint64_t h = 0x9e3779b97f4a7c15ULL;
    for (uint64_t n = 1;; n++) {
        uint64_t lo, hi;
        h = mix(h ^ n);
        xmm7_fold(h, &lo, &hi);
        tprintf("count %llu %016llx %016llx %016llx\n", n, h, lo, hi);
        for (volatile uint32_t d = 0; d < DELAY_LOOPS; d++)
            ;
    }
}
