/*
 * mmuinfo64: 4-level page tables with known mappings, left active for
 * `info tlb` / `info mem` (tests/system/mmuinfo.py): start.S's identity
 * map of 4 GiB in 2 MiB pages, plus 4 KiB pages at 0x234500000000 (one
 * read-only, one no-execute) and one in the upper half (0xffff800000000000:
 * shown sign-extended).  Prints "ready", halts.
 */
#include "testrom.h"

int main(void)
{
    uint64_t *pml4 = (uint64_t *)(uintptr_t)(READ_CR(3) & ~0xfffull);
    pg64_map(pml4, 0x0000234500000000ull, 0x00300000, PTE_P | PTE_U);
    pg64_map(pml4, 0x0000234500001000ull, 0x00301000, PTE_P | PTE_W | PTE_NX);
    pg64_map(pml4, 0xffff800000000000ull, 0x00302000, PTE_P | PTE_W | PTE_G);
    wrmsr(0xc0000080, rdmsr(0xc0000080) | (1u << 11));         /* EFER.NXE */
    WRITE_CR(3, READ_CR(3));
    tprintf("ready\n");
    for (;;)
        asm volatile("cli; hlt");
}
