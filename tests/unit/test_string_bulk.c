/*
 * REP MOVS / REP STOS (forward) go a page at a time when the soft TLB maps
 * source and destination as RAM (cpu/helpers-string.c, str_bulk).  These
 * tests hold the page-at-a-time path to the per-element semantics of the
 * SDM (2B MOVS/STOS, REP): each iteration reads (MOVS) and writes one
 * element and steps rSI/rDI by its size, so
 *   - a destination just above an overlapping source replicates the
 *     first bytes (forward element order), as LZ77 decoders expect;
 *   - unaligned elements that straddle pages and source/destination pages
 *     1 MiB apart (the same soft-TLB index) still copy exactly;
 *   - with a 16-bit address size DI wraps at 64 KiB within ES;
 *   - a #PF in the middle leaves rDI/rCX describing the elements done,
 *     with everything before the fault written.
 * Guests run in 32-bit flat protected mode (set up with the setters), on
 * both engines.
 */
#include <string.h>

#include "core/machine.h"
#include "cpu/cpu.h"
#include "tests/unit/cpu-guest.h"
#include "tests/unit/unit.h"

#define RAM (8u << 20)
#define CODE 0x1000
#define PF_HANDLER 0x1800
#define IDT 0x20000
#define STACK_TOP 0x9000


/* 32-bit flat protected mode at CODE; #PF (vector 14) goes to a HLT. */
static Guest pm_guest(int engine, const uint8_t *code, size_t len)
{
    Guest g = unit_guest_new(RAM, engine);
    wr64(&g, 0x1e00, 0);
    wr64(&g, 0x1e08, 0x00cf9a000000ffffULL);
    wr64(&g, 0x1e10, 0x00cf92000000ffffULL);
    cpu_set_gdt(g.cpu, 0x1e00, 23);
    wr32(&g, IDT + 14 * 8, PF_HANDLER | 0x08u << 16);
    wr32(&g, IDT + 14 * 8 + 4, 0x8e00);
    cpu_set_idt(g.cpu, IDT, 256 * 8 - 1);
    g.m->ram[PF_HANDLER] = 0xf4;
    cpu_set_cr(g.cpu, 0, CR0_PE | CR0_ET);
    uint32_t data = SEG_P | SEG_S | SEG_W | SEG_A | SEG_G | SEG_B;
    cpu_set_seg(g.cpu, R_CS, 0x08, 0, 0xffffffff, SEG_P | SEG_S | SEG_CODE | SEG_W | SEG_A |
                                                      SEG_G | SEG_B);
    cpu_set_seg(g.cpu, R_SS, 0x10, 0, 0xffffffff, data);
    cpu_set_seg(g.cpu, R_DS, 0x10, 0, 0xffffffff, data);
    cpu_set_seg(g.cpu, R_ES, 0x10, 0, 0xffffffff, data);
    memcpy(g.m->ram + CODE, code, len);
    g.cpu->rip = CODE;
    g.cpu->regs[R_ESP] = STACK_TOP;
    return g;
}

static void run_to_hlt(Guest *g)
{
    g->cpu->insn_budget = 100000;
    ck_assert_int_eq(cpu_exec(g->cpu, INT64_MAX), CPU_EXIT_HALTED);
}

/* rep movsb; hlt */
static const uint8_t rep_movsb[] = { 0xf3, 0xa4, 0xf4 };
/* rep movsd; hlt */
static const uint8_t rep_movsd[] = { 0xf3, 0xa5, 0xf4 };
/* rep stosw; hlt */
static const uint8_t rep_stosw[] = { 0x66, 0xf3, 0xab, 0xf4 };
/* addr16 rep stosb; hlt */
static const uint8_t rep_stosb_a16[] = { 0x67, 0xf3, 0xaa, 0xf4 };
/* rep stosd; hlt */
static const uint8_t rep_stosd[] = { 0xf3, 0xab, 0xf4 };

START_TEST(movsb_overlap_replicates_forward)
{
    Guest g = pm_guest(_i, rep_movsb, sizeof(rep_movsb));
    const uint32_t src = 0x100ff0, n = 9000;
    memset(g.m->ram + src, 0xee, n + 16);
    g.m->ram[src] = 'a';
    g.m->ram[src + 1] = 'b';
    g.m->ram[src + 2] = 'c';
    g.cpu->regs[R_ESI] = src;
    g.cpu->regs[R_EDI] = src + 3;
    g.cpu->regs[R_ECX] = n;
    run_to_hlt(&g);
    for (uint32_t i = 0; i < n + 3; i++)
        ck_assert_int_eq(g.m->ram[src + i], "abc"[i % 3]);
    ck_assert_int_eq(g.m->ram[src + n + 3], 0xee);
    ck_assert_uint_eq(g.cpu->regs[R_ECX], 0);
    ck_assert_uint_eq(g.cpu->regs[R_ESI], src + n);
    ck_assert_uint_eq(g.cpu->regs[R_EDI], src + 3 + n);
    unit_guest_free(&g);
}
END_TEST

START_TEST(movsd_unaligned_same_tlb_index)
{
    Guest g = pm_guest(_i, rep_movsd, sizeof(rep_movsd));
    /* 1 MiB apart: both pages of every step share a soft-TLB slot. */
    const uint32_t src = 0x100ffe, dst = 0x200ffd, n = 3000;
    for (uint32_t i = 0; i < 4 * n; i++)
        g.m->ram[src + i] = (uint8_t)(i * 7 + 1);
    g.m->ram[dst + 4 * n] = 0x5a;
    g.cpu->regs[R_ESI] = src;
    g.cpu->regs[R_EDI] = dst;
    g.cpu->regs[R_ECX] = n;
    run_to_hlt(&g);
    for (uint32_t i = 0; i < 4 * n; i++)
        ck_assert_int_eq(g.m->ram[dst + i], (uint8_t)(i * 7 + 1));
    ck_assert_int_eq(g.m->ram[dst + 4 * n], 0x5a);
    ck_assert_uint_eq(g.cpu->regs[R_ECX], 0);
    ck_assert_uint_eq(g.cpu->regs[R_ESI], src + 4 * n);
    ck_assert_uint_eq(g.cpu->regs[R_EDI], dst + 4 * n);
    unit_guest_free(&g);
}
END_TEST

START_TEST(stosw_unaligned_across_pages)
{
    Guest g = pm_guest(_i, rep_stosw, sizeof(rep_stosw));
    const uint32_t dst = 0x300001, n = 5000;
    g.m->ram[dst - 1] = 0x11;
    g.m->ram[dst + 2 * n] = 0x22;
    g.cpu->regs[R_EAX] = 0x1234beef;
    g.cpu->regs[R_EDI] = dst;
    g.cpu->regs[R_ECX] = n;
    run_to_hlt(&g);
    for (uint32_t i = 0; i < n; i++) {
        ck_assert_int_eq(g.m->ram[dst + 2 * i], 0xef);
        ck_assert_int_eq(g.m->ram[dst + 2 * i + 1], 0xbe);
    }
    ck_assert_int_eq(g.m->ram[dst - 1], 0x11);
    ck_assert_int_eq(g.m->ram[dst + 2 * n], 0x22);
    ck_assert_uint_eq(g.cpu->regs[R_EDI], dst + 2 * n);
    ck_assert_uint_eq(g.cpu->regs[R_ECX], 0);
    unit_guest_free(&g);
}
END_TEST

START_TEST(stosb_addr16_wraps_di)
{
    Guest g = pm_guest(_i, rep_stosb_a16, sizeof(rep_stosb_a16));
    const uint32_t es = 0x400800;   /* not page aligned: the wrap is mid-page */
    cpu_set_seg(g.cpu, R_ES, 0x10, es, 0xffffffff,
                SEG_P | SEG_S | SEG_W | SEG_A | SEG_G | SEG_B);
    g.cpu->regs[R_EAX] = 0x77;
    g.cpu->regs[R_EDI] = 0xabcdfff0;   /* only DI counts; the top half stays */
    g.cpu->regs[R_ECX] = 0x55550020;   /* only CX counts */
    run_to_hlt(&g);
    for (uint32_t i = 0; i < 16; i++) {
        ck_assert_int_eq(g.m->ram[es + 0xfff0 + i], 0x77);
        ck_assert_int_eq(g.m->ram[es + i], 0x77);
    }
    ck_assert_int_eq(g.m->ram[es + 0x10000], 0);
    ck_assert_int_eq(g.m->ram[es + 0x10], 0);
    ck_assert_uint_eq(g.cpu->regs[R_EDI], 0xabcd0010);
    ck_assert_uint_eq(g.cpu->regs[R_ECX], 0x55550000);
    unit_guest_free(&g);
}
END_TEST

START_TEST(stosd_page_fault_midway_keeps_progress)
{
    Guest g = pm_guest(_i, rep_stosd, sizeof(rep_stosd));
    /* 32-bit paging: identity 4 KiB pages for 0-4 MiB, 0x3f1000 absent. */
    wr32(&g, 0x10000, 0x11000 | 3);
    for (uint32_t p = 0; p < 1024; p++)
        wr32(&g, 0x11000 + 4 * p, p == 0x3f1 ? 0 : (p << 12) | 3);
    cpu_set_cr(g.cpu, 3, 0x10000);
    cpu_set_cr(g.cpu, 0, CR0_PE | CR0_PG | CR0_ET);
    const uint32_t dst = 0x3f0f00;
    g.cpu->regs[R_EAX] = 0xcafef00d;
    g.cpu->regs[R_EDI] = dst;
    g.cpu->regs[R_ECX] = 0x100;
    run_to_hlt(&g);
    ck_assert_int_eq(g.cpu->last_exception, EXC_PF);
    ck_assert_uint_eq(g.cpu->cr[2], 0x3f1000);
    ck_assert_uint_eq(g.cpu->regs[R_EDI], 0x3f1000);
    ck_assert_uint_eq(g.cpu->regs[R_ECX], 0xc0);
    for (uint32_t i = 0; i < 0x40; i++) {
        uint32_t v;
        memcpy(&v, g.m->ram + dst + 4 * i, 4);
        ck_assert_uint_eq(v, 0xcafef00d);
    }
    ck_assert_int_eq(g.m->ram[0x3f1000], 0);
    /* The saved EIP names the REP STOS: it restarts where it stopped. */
    uint32_t eip;
    memcpy(&eip, g.m->ram + STACK_TOP - 12, 4);   /* error code, EIP, CS, EFLAGS */
    ck_assert_uint_eq(eip, CODE);
    unit_guest_free(&g);
}
END_TEST

static Suite *string_bulk_suite(void)
{
    Suite *s = suite_create("string_bulk");
    TCase *tc = tcase_create("rep");
    tcase_add_loop_test(tc, movsb_overlap_replicates_forward, 0, 2);
    tcase_add_loop_test(tc, movsd_unaligned_same_tlb_index, 0, 2);
    tcase_add_loop_test(tc, stosw_unaligned_across_pages, 0, 2);
    tcase_add_loop_test(tc, stosb_addr16_wraps_di, 0, 2);
    tcase_add_loop_test(tc, stosd_page_fault_midway_keeps_progress, 0, 2);
    suite_add_tcase(s, tc);
    return s;
}

UNIT_SUITE(string_bulk_suite)
