/*
 * lm-paging: 4-level paging in long mode (SDM Vol. 3A 4.5): A bits at
 * every level and D only in the leaf, #PF error codes and CR2 for
 * not-present / write / user / user write / NX fetch from ring 0 and 3
 * (I/D bit with EFER.NXE) / reserved bits (PS in a PML4E, an address bit
 * above MAXPHYADDR in a PTE), non-canonical data addresses raising #GP(0),
 * CR0.WP, the same page seen through two virtual aliases, a 2 MiB page
 * (D set in the PDE), and a global page remapped: INVLPG and a CR4.PGE
 * toggle make the new translation visible (a plain CR3 write may or may
 * not: SDM 4.10.4.1, printed as an info line).
 */
#include "testrom.h"

#define VA 0x0000008000000000ULL    /* PML4 slot 1: fresh upper levels */
static uint8_t pages[4][4096] __attribute__((aligned(4096)));
#define BIG_PA 0x2000000ULL         /* 32 MiB: free RAM for the 2 MiB page */

static void fault_line(uint32_t n, const char *what)
{
    if (exc_count == n)
        tprintf("%s: no fault\n", what);
    else if (last_exc.vector == 14)
        tprintf("%s: #PF err=%x cr2=%016llx\n", what, last_exc.error, last_exc.cr2);
    else
        tprintf("%s: #%u err=%x\n", what, last_exc.vector, last_exc.error);
}

static int nx_supported;

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
    n = exc_count;
    TRY_IO("movq $2, (%0)", , "r"(VA + 0x2018));
    fault_line(n, "user write read-only page");
    expect_exc(n, 14, 7, "user write read-only");
    n = exc_count;
    TRY_IO("movq $2, (%0)", , "r"(VA + 0x1018));
    fault_line(n, "user write supervisor page");
    expect_exc(n, 14, 7, "user write supervisor");
    if (nx_supported) {
        n = exc_count;
        TRY_CALL(VA + 0x2100);
        fault_line(n, "user fetch from NX page");
        expect_exc(n, 14, 0x15, "user NX fetch");
        n = exc_count;
        TRY_CALL(VA + 0x3100);
        fault_line(n, "user fetch from the executable alias");
        expect_no_exc(n, "user exec alias");
    }
    user_exit();
}

int main(void)
{
    uint64_t n, v;
    uint32_t r[4];
    cpuid(0x80000001, 0, r);
    int nx = (r[3] >> 20) & 1;
    nx_supported = nx;
    if (nx)   /* before any walk meets the NX bit (reserved while NXE=0) */
        wrmsr(MSR_EFER, rdmsr(MSR_EFER) | EFER_NXE);
    pg64_map(lm_pml4, VA, (uintptr_t)pages[0], PTE_P | PTE_W | PTE_U);
    pg64_map(lm_pml4, VA + 0x1000, (uintptr_t)pages[1], PTE_P | PTE_W);
    pg64_map(lm_pml4, VA + 0x2000, (uintptr_t)pages[2], PTE_P | PTE_U | (nx ? PTE_NX : 0));
    pg64_map(lm_pml4, VA + 0x3000, (uintptr_t)pages[2], PTE_P | PTE_W | PTE_U);  /* alias */
    WRITE_CR(3, READ_CR(3));

    /* volatile: the CPU writes these behind the compiler's back */
    volatile uint64_t *pte = pg64_pte(lm_pml4, VA);
    volatile uint64_t *pml4e = &lm_pml4[(VA >> 39) & 511];
    volatile uint64_t *pdpte = (uint64_t *)(uintptr_t)(*pml4e & 0x000ffffffffff000ULL);
    volatile uint64_t *pde = (uint64_t *)(uintptr_t)(*pdpte & 0x000ffffffffff000ULL);
    tprintf("before: pml4e A=%u pdpte A=%u pde A=%u pte A=%u D=%u\n", !!(*pml4e & PTE_A),
            !!(*pdpte & PTE_A), !!(*pde & PTE_A), !!(*pte & PTE_A), !!(*pte & PTE_D));
    v = *(volatile uint64_t *)VA;
    tprintf("after read: pml4e A=%u pdpte A=%u pde A=%u pte A=%u D=%u\n", !!(*pml4e & PTE_A),
            !!(*pdpte & PTE_A), !!(*pde & PTE_A), !!(*pte & PTE_A), !!(*pte & PTE_D));
    CHECK((*pml4e & PTE_A) && (*pdpte & PTE_A) && (*pde & PTE_A) && (*pte & PTE_A));
    CHECK(!(*pte & PTE_D), "a read does not set D");
    *(volatile uint64_t *)VA = 0x1122334455667788ULL;
    tprintf("after write: pte D=%u, D in upper levels: %u %u %u\n", !!(*pte & PTE_D),
            !!(*pml4e & PTE_D), !!(*pdpte & PTE_D), !!(*pde & PTE_D));
    CHECK(*pte & PTE_D);
    CHECK(!(*pml4e & PTE_D) && !(*pdpte & PTE_D) && !(*pde & PTE_D), "D only in the leaf");

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

    /* reserved bit: physical address bit 51 (above MAXPHYADDR) in a PTE */
    *pte |= 1ULL << 51;
    invlpg(VA);
    n = exc_count;
    exc_verbose = 0;   /* known QEMU deviation (RSVD without P): address-free */
    TRY_IO("movq $3, (%0)", , "r"(VA + 0x28));
    exc_verbose = 1;
    fault_line(n, "bit 51 set in a PTE, write");
    expect_exc(n, 14, 0xb, "reserved bit in a PTE");
    *pte &= ~(1ULL << 51);
    invlpg(VA);

    /* 2 MiB page: PDE with PS in the VA region, D set in the PDE */
    volatile uint64_t *big = &pde[1];
    *big = BIG_PA | PTE_P | PTE_W | PTE_PS;
    *(volatile uint64_t *)(VA + 0x212340) = 0x2b16e;
    v = *(volatile uint64_t *)(uintptr_t)(BIG_PA + 0x12340);
    tprintf("2 MiB page: read through identity %llx, pde A=%u D=%u\n", v, !!(*big & PTE_A), !!(*big & PTE_D));
    CHECK(v == 0x2b16e && (*big & PTE_A) && (*big & PTE_D));
    n = exc_count;
    TRY_IO("movq (%1), %0", "=r"(v), "r"(VA + 0x400000));
    fault_line(n, "read beyond the 2 MiB page");
    expect_exc(n, 14, 0, "beyond 2 MiB page");

    /* global page remapped: INVLPG, CR4.PGE toggle */
    WRITE_CR(4, READ_CR(4) | CR4_PGE);
    pages[0][0x40] = 0xa0;
    pages[1][0x40] = 0xa1;
    pages[3][0x40] = 0xa3;
    pg64_map(lm_pml4, VA + 0x4000, (uintptr_t)pages[0], PTE_P | PTE_W | PTE_G);
    invlpg(VA + 0x4000);
    v = *(volatile uint8_t *)(VA + 0x4040);
    volatile uint64_t *gpte = pg64_pte(lm_pml4, VA + 0x4000);
    *gpte = (uintptr_t)pages[1] | PTE_P | PTE_W | PTE_G;
    WRITE_CR(3, READ_CR(3));
    uint64_t stale = *(volatile uint8_t *)(VA + 0x4040);
    tprintf("info global page after CR3 write: %llx\n", stale);   /* a0 or a1: SDM 4.10.4.1 */
    invlpg(VA + 0x4000);
    uint64_t after = *(volatile uint8_t *)(VA + 0x4040);
    tprintf("global page: first %llx, after INVLPG %llx\n", v, after);
    CHECK(v == 0xa0 && after == 0xa1);
    *gpte = (uintptr_t)pages[3] | PTE_P | PTE_W | PTE_G;
    WRITE_CR(4, READ_CR(4) & ~CR4_PGE);
    WRITE_CR(4, READ_CR(4) | CR4_PGE);
    after = *(volatile uint8_t *)(VA + 0x4040);
    tprintf("global page after a CR4.PGE toggle: %llx\n", after);
    CHECK(after == 0xa3);

    /* non-canonical addresses */
    n = exc_count;
    TRY_IO("movq (%1), %0", "=r"(v), "r"(0x0000800000000000ULL));
    fault_line(n, "non-canonical data access");
    expect_exc(n, 13, 0, "non-canonical #GP(0)");
    return test_result();
}
