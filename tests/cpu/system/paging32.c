/*
 * paging32: 2-level 32-bit paging and PAE paging from 32-bit protected mode
 * (SDM Vol. 3A ch. 4): accessed/dirty bits in PTE and PDE, #PF error codes
 * and CR2 for not-present, supervisor write to read-only with CR0.WP=0
 * (allowed) and =1 (fault), user access to a supervisor page and user write
 * to a read-only page from ring 3, a 4 MiB PSE page, a global page remapped
 * and made visible by INVLPG, the segment limit check taking priority over
 * a page fault, and under PAE: NX with EFER.NXE (fetch fault, error bit 4)
 * and bit 63 set with NXE=0 (reserved-bit fault, error bit 3).
 */
#include "testrom.h"

#define VA_TEST 0x40000000u
static uint32_t pd[1024] __attribute__((aligned(4096)));
static uint64_t pdpt[4] __attribute__((aligned(32)));
static uint8_t pages[4][4096] __attribute__((aligned(4096)));
static volatile uint32_t sink;

static void identity_4m(int pae)
{
    for (uint32_t a = 0; a < 0x400000; a += 4096) {
        if (pae)
            pae_map(pdpt, a, a, PTE_P | PTE_W | PTE_U);
        else
            pg32_map(pd, a, a, PTE_P | PTE_W | PTE_U);
    }
}

static void fault_line(uint32_t n, const char *what)
{
    if (exc_count == n)
        tprintf("%s: no fault\n", what);
    else
        tprintf("%s: #%u err=%x cr2=%08llx\n", what, last_exc.vector, last_exc.error, last_exc.cr2);
}

static void user_part(void)
{
    uint32_t n = exc_count;
    TRY_IO("movl (%0), %0", , "r"(VA_TEST + 0x1010));   /* supervisor page */
    fault_line(n, "user read of a supervisor page");
    expect_exc(n, 14, 5, "user read supervisor");
    n = exc_count;
    TRY_IO("movl $1, (%0)", , "r"(VA_TEST + 0x2020));                /* user, read-only */
    fault_line(n, "user write to a read-only page");
    expect_exc(n, 14, 7, "user write read-only");
    user_exit();
}

static void test_2level(void)
{
    uint32_t n, *pte;
    identity_4m(0);
    pg32_map(pd, VA_TEST, (uint32_t)(uintptr_t)pages[0], PTE_P | PTE_W | PTE_U);
    pg32_map(pd, VA_TEST + 0x1000, (uint32_t)(uintptr_t)pages[1], PTE_P | PTE_W);      /* supervisor */
    pg32_map(pd, VA_TEST + 0x2000, (uint32_t)(uintptr_t)pages[2], PTE_P | PTE_U);      /* read-only */
    /* 4 MiB page at 0x80000000 -> physical 0 */
    pd[0x80000000u >> 22] = PTE_P | PTE_W | PTE_PS;
    WRITE_CR(4, READ_CR(4) | CR4_PSE | CR4_PGE);
    WRITE_CR(3, (uintptr_t)pd);
    WRITE_CR(0, READ_CR(0) | CR0_PG);

    pte = pg32_pte(pd, VA_TEST);
    tprintf("fresh pte: A=%u D=%u\n", !!(*pte & PTE_A), !!(*pte & PTE_D));
    sink = *(volatile uint32_t *)VA_TEST;
    tprintf("after read: pte A=%u D=%u, pde A=%u\n", !!(*pte & PTE_A), !!(*pte & PTE_D),
            !!(pd[VA_TEST >> 22] & PTE_A));
    CHECK((*pte & PTE_A) && !(*pte & PTE_D) && (pd[VA_TEST >> 22] & PTE_A));
    *(volatile uint32_t *)(VA_TEST + 4) = 0x600d;
    uint32_t data = *(volatile uint32_t *)(pages[0] + 4);
    tprintf("after write: pte D=%u, data=%x\n", !!(*pte & PTE_D), data);
    CHECK((*pte & PTE_D) && data == 0x600d);

    n = exc_count;
    TRY_IO("movl (%0), %0", , "r"(VA_TEST + 0x3123));
    fault_line(n, "read not-present");
    expect_exc(n, 14, 0, "read not-present");
    n = exc_count;
    TRY_IO("movl $1, (%0)", , "r"(VA_TEST + 0x3456));
    fault_line(n, "write not-present");
    expect_exc(n, 14, 2, "write not-present");
    n = exc_count;
    TRY_IO("movl $1, (%0)", , "r"(VA_TEST + 0x2000));
    fault_line(n, "supervisor write read-only, WP=0");
    expect_no_exc(n, "WP=0");
    WRITE_CR(0, READ_CR(0) | CR0_WP);
    n = exc_count;
    TRY_IO("movl $1, (%0)", , "r"(VA_TEST + 0x2004));
    fault_line(n, "supervisor write read-only, WP=1");
    expect_exc(n, 14, 3, "WP=1");
    user_call(user_part, ustack_top);
    WRITE_CR(0, READ_CR(0) & ~CR0_WP);

    /* 4 MiB page */
    static volatile uint32_t marker = 0x4d4d4d4d;
    uint32_t v = *(volatile uint32_t *)(0x80000000u + (uintptr_t)&marker);
    tprintf("4 MiB page read: %08x, pde D=%u\n", v, !!(pd[0x80000000u >> 22] & PTE_D));
    CHECK(v == 0x4d4d4d4d);

    /* global page, remapped: INVLPG makes the new mapping visible */
    *(uint32_t *)pages[3] = 0x33333333;
    *(uint32_t *)pages[0] = 0x00000000;
    pg32_map(pd, VA_TEST + 0x5000, (uint32_t)(uintptr_t)pages[0], PTE_P | PTE_W | PTE_G);
    sink = *(volatile uint32_t *)(VA_TEST + 0x5000);
    pg32_map(pd, VA_TEST + 0x5000, (uint32_t)(uintptr_t)pages[3], PTE_P | PTE_W | PTE_G);
    invlpg(VA_TEST + 0x5000);
    v = *(volatile uint32_t *)(VA_TEST + 0x5000);
    tprintf("global page after remap + invlpg: %08x\n", v);
    CHECK(v == 0x33333333);

    /* a data segment based on a not-present page: CR2 is the linear address */
    gdt_set(0x60, VA_TEST + 0x3000, 0xfff, 0x93, 0x4);
    asm volatile("mov %0, %%fs" :: "r"(0x60));
    n = exc_count;
    TRY_CLOB("movl %%fs:0x10, %%eax", "eax");
    fault_line(n, "fs:0x10 in a not-present page");
    expect_exc(n, 14, 0, "#PF through FS");
    asm volatile("mov %0, %%fs" :: "r"(SEL_KDATA));

    WRITE_CR(0, READ_CR(0) & ~CR0_PG);
    WRITE_CR(4, READ_CR(4) & ~(CR4_PSE | CR4_PGE));
}

static void test_pae(void)
{
    uint32_t r[4], n;
    cpuid(0x80000001, 0, r);
    int nx = (r[3] >> 20) & 1;
    identity_4m(1);
    pae_map(pdpt, VA_TEST, (uint32_t)(uintptr_t)pages[0], PTE_P | PTE_W);
    pae_map(pdpt, VA_TEST + 0x1000, (uint32_t)(uintptr_t)pages[1], PTE_P | PTE_W | PTE_NX);
    pages[0][0] = 0xc3;   /* ret */
    pages[1][0] = 0xc3;
    WRITE_CR(4, READ_CR(4) | CR4_PAE);
    WRITE_CR(3, (uintptr_t)pdpt);
    WRITE_CR(0, READ_CR(0) | CR0_PG);
    tprintf("pae: cpuid nx=%u\n", nx);
    /* with NXE=0, bit 63 is reserved: any access faults with RSVD */
    n = exc_count;
    exc_verbose = 0;   /* known QEMU deviation: address-free lines only */
    TRY_IO("movl (%0), %0", , "r"(VA_TEST + 0x1008));
    exc_verbose = 1;
    fault_line(n, "pae: bit 63 set with NXE=0");
    expect_exc(n, 14, 9, "reserved bit");
    if (nx) {
        wrmsr(MSR_EFER, rdmsr(MSR_EFER) | EFER_NXE);
        n = exc_count;
        TRY_CALL(VA_TEST);
        fault_line(n, "pae: execute from an executable page");
        expect_no_exc(n, "exec");
        n = exc_count;
        TRY_CALL(VA_TEST + 0x1000);
        fault_line(n, "pae: execute from an NX page");
        expect_exc(n, 14, 0x11, "NX fetch");
        n = exc_count;
        TRY_IO("movl (%0), %0", , "r"(VA_TEST + 0x1000));
        fault_line(n, "pae: read from an NX page");
        expect_no_exc(n, "NX read");
        uint64_t *pte = pae_pte(pdpt, VA_TEST + 0x1000);
        tprintf("pae: NX pte A=%u\n", !!(*pte & PTE_A));
        wrmsr(MSR_EFER, rdmsr(MSR_EFER) & ~(uint64_t)EFER_NXE);
    }
    WRITE_CR(0, READ_CR(0) & ~CR0_PG);
    WRITE_CR(4, READ_CR(4) & ~CR4_PAE);
}

int main(void)
{
    test_2level();
    test_pae();
    return test_result();
}
