/*
 * mmutrace64: a page fault whose 4-level walk `-d mmu` must explain
 * (tests/system/mmutrace.sh): a read of a page whose PTE is not present,
 * under a PML4E, PDPTE and PDE the image adds to start.S's identity map.
 * The image prints the entries from its own tables ("expect LEVEL ADDRESS
 * VALUE"), then the error code and CR2.
 */
#include "testrom.h"

#define VA 0x0000234500000000ull

static void expect(const char *level, const void *addr, uint64_t value)
{
    tprintf("expect %s %08llx %016llx\n", level, (unsigned long long)(uintptr_t)addr,
            (unsigned long long)value);
}

int main(void)
{
    uint64_t *pml4 = (uint64_t *)(uintptr_t)(READ_CR(3) & ~0xfffull);
    static uint8_t page[4096] __attribute__((aligned(4096)));
    pg64_map(pml4, VA, (uintptr_t)page, PTE_P | PTE_W);
    uint64_t *pte = pg64_pte(pml4, VA + 0x3000);
    *pte = 0;                                                  /* not present */
    exc_verbose = 0;
    WRITE_CR(3, READ_CR(3));

    uint64_t *t = pml4;
    static const char *const names[4] = { "PML4E", "PDPTE", "PDE", "PTE" };
    for (int lv = 0, shift = 39; lv < 4; lv++, shift -= 9) {
        uint64_t *e = &t[((VA + 0x3000) >> shift) & 511];
        expect(names[lv], e, *e);
        t = (uint64_t *)(uintptr_t)(*e & 0x000ffffffffff000ull);
    }
    uint32_t n = exc_count;
    uint64_t v = 0;
    TRY_IO("movq (%1), %0", "=r"(v), "r"(VA + 0x3008), "0"(v));
    if (exc_count == n)
        tprintf("fault none\n");
    else
        tprintf("fault %u err=%x cr2=%08llx\n", last_exc.vector, last_exc.error, last_exc.cr2);
    expect_exc(n, 14, 0, "read of not present");
    return test_result();
}
