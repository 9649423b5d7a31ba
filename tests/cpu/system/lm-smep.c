/*
 * lm-smep: long-mode paging features of newer CPUs (QEMU -cpu max):
 * 1 GiB pages (CPUID.80000001H:EDX[26], PS in a PDPTE, A/D in the PDPTE),
 * SMEP (CR4[20]: a supervisor fetch from a user page is #PF with P and I
 * set, SDM Vol. 3A 4.6.1) and SMAP (CR4[21]: supervisor data accesses to
 * user pages fault unless EFLAGS.AC = 1, set by STAC and cleared by CLAC).
 * The boot identity map is all user pages, so the first 8 MiB (code,
 * data, stacks) are made supervisor-only before SMEP/SMAP are enabled.
 */
#include "testrom.h"

#define VA   0x0000008000000000ULL    /* PML4 slot 1: 4 KiB test pages */
#define VA1G 0x0000010000000000ULL    /* PML4 slot 2: a 1 GiB page -> phys 0 */
static uint8_t page_user[4096] __attribute__((aligned(4096)));
static volatile uint64_t marker = 0x5eed1e55;

static void fault_line(uint32_t n, const char *what)
{
    if (exc_count == n)
        tprintf("%s: no fault\n", what);
    else if (last_exc.vector == 14)
        tprintf("%s: #PF err=%x cr2=%016llx\n", what, last_exc.error, last_exc.cr2);
    else
        tprintf("%s: #%u err=%x\n", what, last_exc.vector, last_exc.error);
}

static uint64_t *table_of(volatile uint64_t e)
{
    return (uint64_t *)(uintptr_t)(e & 0x000ffffffffff000ULL);
}

int main(void)
{
    uint32_t r[4], n;
    uint64_t v;
    cpuid(7, 0, r);
    int smep = (r[1] >> 7) & 1, smap = (r[1] >> 20) & 1;
    cpuid(0x80000001, 0, r);
    int gb = (r[3] >> 26) & 1;
    tprintf("cpuid: smep=%d smap=%d page1gb=%d\n", smep, smap, gb);
    CHECK(smep && smap && gb, "this image needs -cpu max");

    /* 1 GiB page */
    uint64_t *pdpt2 = page_alloc();
    volatile uint64_t *pdpte = &pdpt2[0];
    *pdpte = 0 | PTE_P | PTE_W | PTE_PS;
    lm_pml4[2] = (uintptr_t)pdpt2 | PTE_P | PTE_W | PTE_U;
    WRITE_CR(3, READ_CR(3));
    v = *(volatile uint64_t *)(VA1G + (uintptr_t)&marker);
    tprintf("1 GiB page: read %llx, pdpte A=%u D=%u\n", v, !!(*pdpte & PTE_A), !!(*pdpte & PTE_D));
    CHECK(v == 0x5eed1e55 && (*pdpte & PTE_A) && !(*pdpte & PTE_D));
    *(volatile uint64_t *)(VA1G + (uintptr_t)&marker) = 0x1ab;
    tprintf("1 GiB page: write seen at %llx, pdpte D=%u\n", marker, !!(*pdpte & PTE_D));
    CHECK(marker == 0x1ab && (*pdpte & PTE_D));
    n = exc_count;
    TRY_IO("movq (%1), %0", "=r"(v), "r"(VA1G + 0x40000000ULL));
    fault_line(n, "beyond the 1 GiB page");
    expect_exc(n, 14, 0, "beyond 1 GiB");
    /* bits 29:13 of a 1 GiB PDPTE are reserved */
    *pdpte |= 1ULL << 13;
    invlpg(VA1G);
    n = exc_count;
    exc_verbose = 0;
    TRY_IO("movq (%1), %0", "=r"(v), "r"(VA1G));
    exc_verbose = 1;
    fault_line(n, "bit 13 set in a 1 GiB PDPTE");
    expect_exc(n, 14, 9, "reserved bit in a 1 GiB PDPTE");
    *pdpte &= ~(1ULL << 13);
    invlpg(VA1G);

    /* Make the first 8 MiB supervisor-only (leaf U = 0). */
    uint64_t *pd0 = table_of(table_of(lm_pml4[0])[0]);
    for (int i = 0; i < 4; i++)
        pd0[i] &= ~(uint64_t)PTE_U;
    page_user[0x100] = 0xc3;   /* ret */
    page_user[0x200] = 0x77;
    pg64_map(lm_pml4, VA, (uintptr_t)page_user, PTE_P | PTE_W | PTE_U);
    WRITE_CR(3, READ_CR(3));

    /* SMEP */
    n = exc_count;
    TRY_CALL(VA + 0x100);
    fault_line(n, "supervisor fetch from a user page, SMEP=0");
    expect_no_exc(n, "no SMEP");
    WRITE_CR(4, READ_CR(4) | CR4_SMEP);
    n = exc_count;
    TRY_CALL(VA + 0x100);
    fault_line(n, "supervisor fetch from a user page, SMEP=1");
    expect_exc(n, 14, 0x11, "SMEP fetch");
    WRITE_CR(4, READ_CR(4) & ~CR4_SMEP);

    /* SMAP */
    WRITE_CR(4, READ_CR(4) | CR4_SMAP);
    n = exc_count;
    TRY_IO("movzbl (%1), %k0", "=r"(v), "r"(VA + 0x200));
    fault_line(n, "supervisor read of a user page, SMAP=1 AC=0");
    expect_exc(n, 14, 1, "SMAP read");
    n = exc_count;
    TRY_IO("movb $1, (%0)", , "r"(VA + 0x208));
    fault_line(n, "supervisor write to a user page, SMAP=1 AC=0");
    expect_exc(n, 14, 3, "SMAP write");
    n = exc_count;
    v = 0;
    TRY_IO("stac; movzbl (%1), %k0; clac", "+r"(v), "r"(VA + 0x200));
    tprintf("supervisor read with AC=1 (STAC): %llx\n", v);
    expect_no_exc(n, "SMAP with AC=1");
    CHECK(v == 0x77);
    CHECK(!(read_flags() & EFLAGS_AC), "CLAC clears AC");
    WRITE_CR(4, READ_CR(4) & ~CR4_SMAP);
    n = exc_count;
    TRY_IO("movzbl (%1), %k0", "=r"(v), "r"(VA + 0x200));
    fault_line(n, "supervisor read of a user page, SMAP=0");
    expect_no_exc(n, "SMAP off");
    return test_result();
}
