/*
 * mmuinfopae: PAE page tables with known mappings, left active for `info
 * tlb` / `info mem` (tests/system/mmuinfo.py): the first 4 MiB identity
 * mapped, a user read-only page, a no-execute page (EFER.NXE), a 2 MiB
 * page above 4 GiB physical.  Prints "ready", halts.
 */
#include "testrom.h"

static uint64_t pdpt[4] __attribute__((aligned(32)));

int main(void)
{
    for (uint32_t a = 0; a < 0x400000; a += 4096)
        pae_map(pdpt, a, a, PTE_P | PTE_W);
    pae_map(pdpt, 0x40000000u, 0x00123000u, PTE_P | PTE_U);
    pae_map(pdpt, 0x40001000u, 0x00124000u, PTE_P | PTE_W | PTE_NX);
    /* a 2 MiB page: the directory entry of 0x80000000 itself */
    pae_map(pdpt, 0x80200000u, 0x1000, PTE_P);     /* makes the directory */
    uint64_t *pd = (uint64_t *)(uintptr_t)(pdpt[2] & 0x000ffffffffff000ULL);
    pd[0] = 0x100000000ULL | PTE_P | PTE_W | PTE_U | PTE_PS | PTE_A;
    wrmsr(0xc0000080, rdmsr(0xc0000080) | (1u << 11));         /* EFER.NXE */
    WRITE_CR(4, READ_CR(4) | CR4_PAE);
    WRITE_CR(3, (uintptr_t)pdpt);
    WRITE_CR(0, READ_CR(0) | CR0_PG);
    tprintf("ready\n");
    for (;;)
        asm volatile("cli; hlt");
}
