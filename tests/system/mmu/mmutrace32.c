/*
 * mmutrace32: page faults whose walks `-d mmu` must explain
 * (tests/system/mmutrace.sh).  2-level 32-bit paging: a supervisor write
 * to a read-only page with CR0.WP=1, then a read of a page whose PTE is
 * not present.  Before each fault the image prints the entries it built,
 * as it reads them from its own tables ("expect LEVEL ADDRESS VALUE"),
 * and after it the error code and CR2.
 */
#include "testrom.h"

#define VA 0x40000000u
static uint32_t pd[1024] __attribute__((aligned(4096)));
static uint8_t page[4096] __attribute__((aligned(4096)));

static void expect(const char *level, const void *addr, uint32_t value)
{
    tprintf("expect %s %08x %08x\n", level, (uint32_t)(uintptr_t)addr, value);
}

static void walk_of(uint32_t va)
{
    uint32_t *pde = &pd[va >> 22];
    expect("PDE", pde, *pde);
    uint32_t *pte = pg32_pte(pd, va);
    expect("PTE", pte, *pte);
}

static void result(uint32_t before)
{
    if (exc_count == before)
        tprintf("fault none\n");
    else
        tprintf("fault %u err=%x cr2=%08llx\n", last_exc.vector, last_exc.error, last_exc.cr2);
}

int main(void)
{
    for (uint32_t a = 0; a < 0x400000; a += 4096)
        pg32_map(pd, a, a, PTE_P | PTE_W);
    pg32_map(pd, VA, (uint32_t)(uintptr_t)page, PTE_P | PTE_U);          /* read-only */
    pg32_map(pd, VA + 0x1000, (uint32_t)(uintptr_t)page, PTE_P | PTE_W);
    *pg32_pte(pd, VA + 0x1000) = 0x00123000;                            /* not present */
    WRITE_CR(3, (uintptr_t)pd);
    WRITE_CR(0, READ_CR(0) | CR0_PG | CR0_WP);
    exc_verbose = 0;

    uint32_t n = exc_count;
    WRITE_CR(3, (uintptr_t)pd);
    walk_of(VA + 0x10);
    TRY_IO("movl $1, (%0)", , "r"(VA + 0x10));
    result(n);
    expect_exc(n, 14, 3, "write to read-only");

    n = exc_count;
    WRITE_CR(3, (uintptr_t)pd);
    walk_of(VA + 0x1020);
    uint32_t v = 0;
    TRY_IO("movl (%1), %0", "=r"(v), "r"(VA + 0x1020), "0"(v));
    result(n);
    expect_exc(n, 14, 0, "read of not present");
    return test_result();
}
