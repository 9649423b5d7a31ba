/*
 * mmuinfo32: 2-level (non-PAE) page tables with known mappings, left
 * active for the monitor's `info tlb` / `info mem` (tests/system/mmuinfo.py
 * compares them with QEMU's for the same image): the first 4 MiB identity
 * mapped (supervisor, writable), a user read-only page, a global page with
 * A/D/PCD/PWT, a 4 MiB PSE page (user, writable).  Prints "ready", halts.
 */
#include "testrom.h"

static uint32_t pd[1024] __attribute__((aligned(4096)));

int main(void)
{
    for (uint32_t a = 0; a < 0x400000; a += 4096)
        pg32_map(pd, a, a, PTE_P | PTE_W);
    pg32_map(pd, 0x40000000u, 0x00123000u, PTE_P | PTE_U);
    pg32_map(pd, 0x40002000u, 0x00200000u,
             PTE_P | PTE_W | PTE_G | PTE_A | PTE_D | PTE_PCD | PTE_PWT);
    pd[0x80000000u >> 22] = 0x01000000u | PTE_P | PTE_W | PTE_U | PTE_PS;
    WRITE_CR(4, READ_CR(4) | CR4_PSE | CR4_PGE);
    WRITE_CR(3, (uintptr_t)pd);
    WRITE_CR(0, READ_CR(0) | CR0_PG);
    tprintf("ready\n");
    for (;;)
        asm volatile("cli; hlt");
}
