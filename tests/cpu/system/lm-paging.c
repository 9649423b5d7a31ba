/*
 * lm-paging: 4-level paging in long mode (SDM Vol. 3A 4.5): A/D bits at
 * every level, #PF error codes and CR2 for not-present / write / user /
 * NX fetch (EFER.NXE) / reserved bit (PS in a PML4E), non-canonical
 * data addresses raising #GP(0), CR0.WP, and the same
 * page seen through two virtual aliases.
 */
#include "testrom.h"

#define VA 0x0000008000000000ULL    /* PML4 slot 1: fresh upper levels */
static uint8_t pages[3][4096] __attribute__((aligned(4096)));

static void fault_line(uint32_t n, const char *what)
{
    if (exc_count == n)
        tprintf("%s: no fault\n", what);
    else if (last_exc.vector == 14)
        tprintf("%s: #PF err=%x cr2=%016llx\n", what, last_exc.error, last_exc.cr2);
    else
        tprintf("%s: #%u err=%x\n", what, last_exc.vector, last_exc.error);
}

static void user_part(void)
{
    uint32_t n = exc_count;
    uint64_t v;
    TRY_IO("movq (%1), %0", "=r"(v), "r"(VA + 0x1000));
    fault_line(n, "user read supervisor");
    expect_exc(n, 14, 5, "user read supervisor");
    n = exc_count;
    TRY_IO("movq (%1), %0", "=r"(v), "r"(VA));
    fault_line(n, "user read user page");
    expect_no_exc(n, "user read user page");
    user_exit();
}

int main(void)
{
    uint64_t n, v;
    uint32_t r[4];
    cpuid(0x80000001, 0, r);
    int nx = (r[3] >> 20) & 1;
    if (nx)   /* before any walk meets the NX bit (reserved while NXE=0) */
        wrmsr(MSR_EFER, rdmsr(MSR_EFER) | EFER_NXE);
    pg64_map(lm_pml4, VA, (uintptr_t)pages[0], PTE_P | PTE_W | PTE_U);
    pg64_map(lm_pml4, VA + 0x1000, (uintptr_t)pages[1], PTE_P | PTE_W);
    pg64_map(lm_pml4, VA + 0x2000, (uintptr_t)pages[2], PTE_P | PTE_U | (nx ? PTE_NX : 0));
    pg64_map(lm_pml4, VA + 0x3000, (uintptr_t)pages[2], PTE_P | PTE_W | PTE_U);  /* alias */
    WRITE_CR(3, READ_CR(3));

    uint64_t *pte = pg64_pte(lm_pml4, VA);
    uint64_t *pml4e = &lm_pml4[(VA >> 39) & 511];
    tprintf("before: pml4e A=%u pte A=%u D=%u\n", !!(*pml4e & PTE_A), !!(*pte & PTE_A), !!(*pte & PTE_D));
    *(volatile uint64_t *)VA = 0x1122334455667788ULL;
    tprintf("after write: pml4e A=%u pte A=%u D=%u\n", !!(*pml4e & PTE_A), !!(*pte & PTE_A), !!(*pte & PTE_D));
    CHECK((*pml4e & PTE_A) && (*pte & PTE_A) && (*pte & PTE_D));

    /* alias: write through VA+0x3000, read through VA+0x2000 */
    *(volatile uint32_t *)(VA + 0x3010) = 0xa11a5;
    v = *(volatile uint32_t *)(VA + 0x2010);
    tprintf("alias read: %llx\n", v);
    CHECK(v == 0xa11a5);

    n = exc_count;
    TRY_IO("movq (%1), %0", "=r"(v), "r"(VA + 0x5008));
    fault_line(n, "read not-present");
    expect_exc(n, 14, 0, "read not-present");
    n = exc_count;
    TRY_IO("movq $1, (%0)", , "r"(VA + 0x2008));
    fault_line(n, "supervisor write read-only WP=0");
    expect_no_exc(n, "WP=0");
    WRITE_CR(0, READ_CR(0) | CR0_WP);
    n = exc_count;
    TRY_IO("movq $1, (%0)", , "r"(VA + 0x2008));
    fault_line(n, "supervisor write read-only WP=1");
    expect_exc(n, 14, 3, "WP=1");
    WRITE_CR(0, READ_CR(0) & ~CR0_WP);

    /* NX */
    pages[2][0x100] = 0xc3;   /* ret, through the NX mapping */
    if (nx) {
        n = exc_count;
        TRY_CALL(VA + 0x2100);
        fault_line(n, "fetch from NX page");
        expect_exc(n, 14, 0x11, "NX fetch");
        n = exc_count;
        TRY_CALL(VA + 0x3100);
        fault_line(n, "fetch from the executable alias");
        expect_no_exc(n, "exec alias");
    } else {
        tprintf("cpuid: no NX\n");
    }

    user_call(user_part, ustack_top);

    /* reserved bit: PS in a PML4E */
    *pml4e |= PTE_PS;
    WRITE_CR(3, READ_CR(3));
    n = exc_count;
    exc_verbose = 0;   /* known QEMU deviation (RSVD without P): address-free */
    TRY_IO("movq (%1), %0", "=r"(v), "r"(VA));
    exc_verbose = 1;
    fault_line(n, "PS set in a PML4E");
    expect_exc(n, 14, 9, "reserved bit in a PML4E");
    *pml4e &= ~(uint64_t)PTE_PS;
    WRITE_CR(3, READ_CR(3));

    /* non-canonical addresses */
    n = exc_count;
    TRY_IO("movq (%1), %0", "=r"(v), "r"(0x0000800000000000ULL));
    fault_line(n, "non-canonical data access");
    expect_exc(n, 13, 0, "non-canonical #GP(0)");
    return test_result();
}
