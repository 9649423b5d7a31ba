/*
 * BMI1 / BMI2 (ANDN, BEXTR, BLSI, BLSMSK, BLSR, BZHI, MULX, PDEP, PEXT,
 * RORX, SARX, SHLX, SHRX) in 64-bit mode under both engines, with expected
 * values worked out from the Intel SDM vol. 2 "Operation" sections:
 * PDEP/PEXT deposit/extract in mask order, BZHI's index edge cases (index
 * taken from bits 7:0, CF when it is >= the operand size), the BLS* flags,
 * MULX with both destinations the same register (it gets the high half),
 * masked shift counts, and #UD for VEX.L = 1.
 */
#include <string.h>

#include "core/machine.h"
#include "cpu/cpu.h"
#include "tests/unit/cpu-guest.h"
#include "tests/unit/unit.h"

#define RAM (4u << 20)
#define CODE 0x1000
#define UD_HANDLER 0x1800


/* Long mode, 0-2 MiB identity mapped, #UD (vector 6) to a HLT. */
static Guest bmi_guest(int engine, const uint8_t *code, size_t len)
{
    Guest g = unit_guest_new(RAM, engine);
    wr64(&g, 0x10000, 0x11000 | 3);
    wr64(&g, 0x11000, 0x12000 | 3);
    wr64(&g, 0x12000, 0x000000 | 0x83);
    wr64(&g, 0x1e00, 0);
    wr64(&g, 0x1e08, 0x00cf92000000ffffULL);
    wr64(&g, 0x1e10, 0x00af9a000000ffffULL);
    cpu_set_gdt(g.cpu, 0x1e00, 23);
    wr32(&g, 0x20000 + 6 * 16, UD_HANDLER | 0x10u << 16);
    wr32(&g, 0x20000 + 6 * 16 + 4, 0x8e00);
    wr64(&g, 0x20000 + 6 * 16 + 8, 0);
    cpu_set_idt(g.cpu, 0x20000, 256 * 16 - 1);
    g.m->ram[UD_HANDLER] = 0xf4;
    cpu_set_cr(g.cpu, 4, CR4_PAE);
    cpu_set_cr(g.cpu, 3, 0x10000);
    cpu_set_efer(g.cpu, EFER_LME);
    cpu_set_cr(g.cpu, 0, CR0_PE | CR0_PG | CR0_ET);
    uint32_t data = SEG_P | SEG_S | SEG_W | SEG_A | SEG_G | SEG_B;
    cpu_set_seg(g.cpu, R_CS, 0x10, 0, 0xffffffff, SEG_P | SEG_S | SEG_CODE | SEG_W | SEG_A |
                                                      SEG_G | SEG_L);
    cpu_set_seg(g.cpu, R_SS, 0x08, 0, 0xffffffff, data);
    cpu_set_seg(g.cpu, R_DS, 0x08, 0, 0xffffffff, data);
    memcpy(g.m->ram + CODE, code, len);
    g.cpu->rip = CODE;
    g.cpu->regs[R_ESP] = 0x9000;
    return g;
}

static void run(Guest *g)
{
    g->cpu->insn_budget = 10000;
    ck_assert_int_eq(cpu_exec(g->cpu, INT64_MAX), CPU_EXIT_HALTED);
}

#define FL_ARITH (CC_C | CC_Z | CC_S | CC_O)

/* pdep rax, rbx, rcx; pext rdx, rsi, rdi; hlt */
static const uint8_t pdep_pext[] = { 0xc4, 0xe2, 0xe3, 0xf5, 0xc1, 0xc4, 0xe2, 0xca, 0xf5,
                                     0xd7, 0xf4 };

START_TEST(pdep_and_pext_follow_the_mask_order)
{
    Guest g = bmi_guest(_i, pdep_pext, sizeof(pdep_pext));
    /* PDEP: mask bits 16-31 take source bits 0-15 in order */
    g.cpu->regs[R_EBX] = 0x00012567;
    g.cpu->regs[R_ECX] = 0xffff0000;
    /* PEXT: mask bits 4-15 then 24-31 -> result bits 0-11 then 12-19 */
    g.cpu->regs[R_ESI] = 0x12345678;
    g.cpu->regs[R_EDI] = 0xff00fff0;
    cpu_set_eflags(g.cpu, 0x2 | CC_C | CC_Z);
    run(&g);
    ck_assert_uint_eq(g.cpu->regs[R_EAX], 0x25670000);
    ck_assert_uint_eq(g.cpu->regs[R_EDX], 0x12567);
    ck_assert_uint_eq(cpu_get_eflags(g.cpu) & FL_ARITH, CC_C | CC_Z);  /* unchanged */
    unit_guest_free(&g);
}
END_TEST

/* bzhi rax, rbx, rcx; hlt */
static const uint8_t bzhi[] = { 0xc4, 0xe2, 0xf0, 0xf5, 0xc3, 0xf4 };

START_TEST(bzhi_index_edge_cases)
{
    static const struct { uint64_t idx, want; uint32_t flags; } t[] = {
        { 0, 0, CC_Z },                                   /* everything cleared */
        { 5, 0x1f, 0 },
        { 0x105, 0x1f, 0 },                                 /* only bits 7:0 count */
        { 63, 0x7fffffffffffffffULL, 0 },
        { 64, ~0ULL, CC_C | CC_S },                     /* index >= 64: CF, unchanged */
        { 255, ~0ULL, CC_C | CC_S },
    };
    for (unsigned k = 0; k < sizeof(t) / sizeof(t[0]); k++) {
        Guest g = bmi_guest(_i, bzhi, sizeof(bzhi));
        g.cpu->regs[R_EBX] = ~0ULL;
        g.cpu->regs[R_ECX] = t[k].idx;
        cpu_set_eflags(g.cpu, 0x2 | CC_O);
        run(&g);
        ck_assert_uint_eq(g.cpu->regs[R_EAX], t[k].want);
        ck_assert_uint_eq(cpu_get_eflags(g.cpu) & FL_ARITH, t[k].flags);
        unit_guest_free(&g);
    }
}
END_TEST

/* bextr eax, ebx, ecx; hlt */
static const uint8_t bextr[] = { 0xc4, 0xe2, 0x70, 0xf7, 0xc3, 0xf4 };

START_TEST(bextr_start_and_length)
{
    static const struct { uint64_t ctl, want; } t[] = {
        { 0x0c08, 0x456 },        /* start 8, length 12 */
        { 0x2010, 0x1234 },       /* length past bit 31: only what exists */
        { 0x0820, 0 },            /* start 32 >= operand size */
        { 0x0004, 0 },            /* length 0 */
    };
    for (unsigned k = 0; k < sizeof(t) / sizeof(t[0]); k++) {
        Guest g = bmi_guest(_i, bextr, sizeof(bextr));
        g.cpu->regs[R_EAX] = ~0ULL;
        g.cpu->regs[R_EBX] = 0xffffffff12345678ULL;   /* upper half not read */
        g.cpu->regs[R_ECX] = t[k].ctl;
        cpu_set_eflags(g.cpu, 0x2 | CC_C | CC_O);
        run(&g);
        ck_assert_uint_eq(g.cpu->regs[R_EAX], t[k].want);
        ck_assert_uint_eq(cpu_get_eflags(g.cpu) & (CC_C | CC_Z | CC_O),
                          t[k].want ? 0 : CC_Z);
        unit_guest_free(&g);
    }
}
END_TEST

/* blsi rax, rbx; blsmsk rcx, rbx; blsr rdx, rbx; hlt */
static const uint8_t bls[] = { 0xc4, 0xe2, 0xf8, 0xf3, 0xdb, 0xc4, 0xe2, 0xf0, 0xf3, 0xd3,
                               0xc4, 0xe2, 0xe8, 0xf3, 0xcb, 0xf4 };
/* blsmsk rcx, rbx; hlt */
static const uint8_t blsmsk[] = { 0xc4, 0xe2, 0xf0, 0xf3, 0xd3, 0xf4 };
/* blsi rax, rbx; hlt */
static const uint8_t blsi[] = { 0xc4, 0xe2, 0xf8, 0xf3, 0xdb, 0xf4 };

START_TEST(bls_results_and_flags)
{
    Guest g = bmi_guest(_i, bls, sizeof(bls));
    g.cpu->regs[R_EBX] = 0x28;
    run(&g);
    ck_assert_uint_eq(g.cpu->regs[R_EAX], 0x08);     /* lowest set bit */
    ck_assert_uint_eq(g.cpu->regs[R_ECX], 0x0f);     /* up to the lowest set bit */
    ck_assert_uint_eq(g.cpu->regs[R_EDX], 0x20);     /* lowest set bit cleared */
    ck_assert_uint_eq(cpu_get_eflags(g.cpu) & FL_ARITH, 0);  /* BLSR: src != 0 */
    unit_guest_free(&g);

    /* BLSMSK of 0: all ones, CF (source zero), SF, ZF cleared */
    g = bmi_guest(_i, blsmsk, sizeof(blsmsk));
    g.cpu->regs[R_EBX] = 0;
    cpu_set_eflags(g.cpu, 0x2 | CC_Z | CC_O);
    run(&g);
    ck_assert_uint_eq(g.cpu->regs[R_ECX], ~0ULL);
    ck_assert_uint_eq(cpu_get_eflags(g.cpu) & FL_ARITH, CC_C | CC_S);
    unit_guest_free(&g);

    /* BLSI: CF = source != 0; of 0: ZF, no CF */
    g = bmi_guest(_i, blsi, sizeof(blsi));
    g.cpu->regs[R_EBX] = 0x8000000000000000ULL;
    run(&g);
    ck_assert_uint_eq(g.cpu->regs[R_EAX], 0x8000000000000000ULL);
    ck_assert_uint_eq(cpu_get_eflags(g.cpu) & FL_ARITH, CC_C | CC_S);
    unit_guest_free(&g);
    g = bmi_guest(_i, blsi, sizeof(blsi));
    g.cpu->regs[R_EBX] = 0;
    cpu_set_eflags(g.cpu, 0x2 | CC_C);
    run(&g);
    ck_assert_uint_eq(g.cpu->regs[R_EAX], 0);
    ck_assert_uint_eq(cpu_get_eflags(g.cpu) & FL_ARITH, CC_Z);
    unit_guest_free(&g);
}
END_TEST

/* mulx rax, rax, rbx; mulx rsi, rdi, rbx; hlt */
static const uint8_t mulx[] = { 0xc4, 0xe2, 0xfb, 0xf6, 0xc3, 0xc4, 0xe2, 0xc3, 0xf6, 0xf3,
                                0xf4 };

START_TEST(mulx_high_half_wins_for_the_same_register)
{
    Guest g = bmi_guest(_i, mulx, sizeof(mulx));
    g.cpu->regs[R_EDX] = ~0ULL;
    g.cpu->regs[R_EBX] = 2;          /* (2^64 - 1) * 2 = 1:fffffffffffffffe */
    cpu_set_eflags(g.cpu, 0x2 | CC_Z | CC_S);
    run(&g);
    ck_assert_uint_eq(g.cpu->regs[R_EAX], 1);
    ck_assert_uint_eq(g.cpu->regs[R_ESI], 1);
    ck_assert_uint_eq(g.cpu->regs[R_EDI], 0xfffffffffffffffeULL);
    ck_assert_uint_eq(g.cpu->regs[R_EDX], ~0ULL);
    ck_assert_uint_eq(cpu_get_eflags(g.cpu) & FL_ARITH, CC_Z | CC_S);
    unit_guest_free(&g);
}
END_TEST

/* shlx eax, ebx, ecx; sarx rdx, rbx, rcx; shrx esi, ebx, ecx;
 * rorx rdi, rbx, 0x44; andn r8, rbx, rcx; hlt */
static const uint8_t shifts[] = {
    0xc4, 0xe2, 0x71, 0xf7, 0xc3, 0xc4, 0xe2, 0xf2, 0xf7, 0xd3, 0xc4, 0xe2, 0x73, 0xf7, 0xf3,
    0xc4, 0xe3, 0xfb, 0xf0, 0xfb, 0x44, 0xc4, 0x62, 0xe0, 0xf2, 0xc1, 0xf4,
};

START_TEST(shifts_mask_the_count_and_andn_sets_flags)
{
    Guest g = bmi_guest(_i, shifts, sizeof(shifts));
    g.cpu->regs[R_EBX] = 0x8000000080000001ULL;
    g.cpu->regs[R_ECX] = 0x41;       /* 32-bit: count 1; 64-bit: count 1 */
    cpu_set_eflags(g.cpu, 0x2 | CC_C | CC_O);
    run(&g);
    ck_assert_uint_eq(g.cpu->regs[R_EAX], 0x00000002);            /* zero-extended */
    ck_assert_uint_eq(g.cpu->regs[R_EDX], 0xc000000040000000ULL);  /* arithmetic */
    ck_assert_uint_eq(g.cpu->regs[R_ESI], 0x40000000);
    ck_assert_uint_eq(g.cpu->regs[R_EDI], 0x1800000008000000ULL);  /* ror 4 */
    /* ANDN: ~rbx & rcx = 0x40, SF ZF clear, CF OF cleared */
    ck_assert_uint_eq(g.cpu->regs[8], 0x40);
    ck_assert_uint_eq(cpu_get_eflags(g.cpu) & FL_ARITH, 0);
    unit_guest_free(&g);
}
END_TEST

/* ANDN with VEX.L = 1: #UD; hlt */
static const uint8_t andn_l1[] = { 0xc4, 0xe2, 0xf4, 0xf2, 0xc1, 0xf4 };

START_TEST(vex_l1_is_ud)
{
    Guest g = bmi_guest(_i, andn_l1, sizeof(andn_l1));
    g.cpu->regs[R_EAX] = 0x1234;
    run(&g);
    ck_assert_int_eq(g.cpu->last_exception, EXC_UD);
    ck_assert_uint_eq(g.cpu->regs[R_EAX], 0x1234);
    unit_guest_free(&g);
}
END_TEST

static Suite *cpu_bmi_suite(void)
{
    Suite *s = suite_create("cpu_bmi");
    TCase *tc = tcase_create("bmi");
    tcase_add_loop_test(tc, pdep_and_pext_follow_the_mask_order, 0, 2);
    tcase_add_loop_test(tc, bzhi_index_edge_cases, 0, 2);
    tcase_add_loop_test(tc, bextr_start_and_length, 0, 2);
    tcase_add_loop_test(tc, bls_results_and_flags, 0, 2);
    tcase_add_loop_test(tc, mulx_high_half_wins_for_the_same_register, 0, 2);
    tcase_add_loop_test(tc, shifts_mask_the_count_and_andn_sets_flags, 0, 2);
    tcase_add_loop_test(tc, vex_l1_is_ud, 0, 2);
    suite_add_tcase(s, tc);
    return s;
}

UNIT_SUITE(cpu_bmi_suite)
