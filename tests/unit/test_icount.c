/*
 * Instruction counting (-icount, cpu/exec.c "Instruction counting") and
 * the clock it drives (core/clock.h CLOCK_ICOUNT).  Expected counts are
 * those of the SDM's instruction stream: every instruction that completes
 * counts once, a faulting one not at all, HLT counts.  Both engines.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/clock.h"
#include "core/memory.h"
#include "cpu/exec.h"
#include "tests/unit/cpu-guest.h"
#include "tests/unit/unit.h"

#define RAM (1u << 20)

static Guest icount_guest(int engine, int shift, const uint8_t *code, size_t len)
{
    Guest g = unit_guest_new_real(RAM, engine, code, len);
    machine_set_icount(g.m, shift, false);
    cpu_icount_enable(g.cpu);
    return g;
}

/* mov cx, 1000; 1: dec cx; jnz 1b; hlt -> 1 + 2 * 1000 + 1 */
static const uint8_t loop_code[] = { 0xb9, 0xe8, 0x03, 0x49, 0x75, 0xfd, 0xf4 };

START_TEST(a_loop_counts_every_instruction)
{
    Guest g = icount_guest(_i, 2, loop_code, sizeof loop_code);
    ck_assert_int_eq(cpu_exec(g.cpu, INT64_MAX), CPU_EXIT_HALTED);
    ck_assert_uint_eq(cpu_icount(g.cpu), 2002);
    ck_assert_uint_eq(clock_icount(g.m->clock), 2002);
    ck_assert_int_eq(clock_now(g.m->clock), 2002 * 4);    /* shift 2: 4 ns each */
    unit_guest_free(&g);
}
END_TEST

/* Stopping at any count lands exactly there (a shorter block runs when a
 * cached one is too long), and where it stopped changes nothing after. */
START_TEST(stops_land_exactly_on_the_count)
{
    Guest g = icount_guest(_i, 0, loop_code, sizeof loop_code);
    uint64_t at = 0;
    for (;;) {
        at += 7;
        g.cpu->icount_stop_at = at;
        int r = cpu_exec(g.cpu, INT64_MAX);
        if (r == CPU_EXIT_HALTED)
            break;
        ck_assert_int_eq(r, CPU_EXIT_BUDGET);
        ck_assert_uint_eq(cpu_icount(g.cpu), at);
    }
    ck_assert_uint_eq(cpu_icount(g.cpu), 2002);
    ck_assert_uint_eq(g.cpu->regs[R_ECX] & 0xffff, 0);
    unit_guest_free(&g);
}
END_TEST

/* A timer deadline is a count too: the loop returns when the clock
 * reaches it, not a block later. */
START_TEST(deadlines_end_the_run_on_time)
{
    Guest g = icount_guest(_i, 1, loop_code, sizeof loop_code);
    ck_assert_int_eq(cpu_exec(g.cpu, 2 * 501), CPU_EXIT_BUDGET);
    ck_assert_uint_eq(cpu_icount(g.cpu), 501);
    ck_assert_int_eq(clock_now(g.m->clock), 1002);
    unit_guest_free(&g);
}
END_TEST

/* mov ax, 1; mov bx, 2; ud2 (-> vector 6: hlt at 0x1100)
 * The two moves and the handler's hlt complete; ud2 does not. */
static const uint8_t ud_code[] = { 0xb8, 0x01, 0x00, 0xbb, 0x02, 0x00, 0x0f, 0x0b, 0x90 };

START_TEST(a_faulting_instruction_does_not_count)
{
    Guest g = icount_guest(_i, 0, ud_code, sizeof ud_code);
    wr32(&g, 6 * 4, 0x1100);            /* IVT: #UD -> 0:1100 */
    g.m->ram[0x1100] = 0xf4;
    ck_assert_int_eq(cpu_exec(g.cpu, INT64_MAX), CPU_EXIT_HALTED);
    ck_assert_uint_eq(cpu_icount(g.cpu), 3);
    unit_guest_free(&g);
}
END_TEST

/* mov ebx, 0x10000; nop; mov al, [ebx] (#GP(0): past the 64 KiB real-mode
 * limit) -> vector 13: hlt.  2 + 1. */
static const uint8_t gp_code[] = { 0x66, 0xbb, 0x00, 0x00, 0x01, 0x00, 0x90,
                                   0x67, 0x8a, 0x03, 0x90 };

START_TEST(a_memory_fault_gives_back_the_rest_of_the_block)
{
    Guest g = icount_guest(_i, 0, gp_code, sizeof gp_code);
    wr32(&g, 13 * 4, 0x1100);
    g.m->ram[0x1100] = 0xf4;
    ck_assert_int_eq(cpu_exec(g.cpu, INT64_MAX), CPU_EXIT_HALTED);
    ck_assert_int_eq(g.cpu->last_exception, 13);
    ck_assert_uint_eq(cpu_icount(g.cpu), 3);
    unit_guest_free(&g);
}
END_TEST

/* A device sees the count of the instructions before the access plus the
 * accessing one, however the block was cut: an MMIO access in mid-block
 * restarts as a block of its own. */
typedef struct Seen {
    VClock *clock;
    uint64_t at[4];
    int n;
} Seen;

static uint64_t seen_read(void *opaque, uint64_t off, unsigned size)
{
    Seen *s = opaque;
    if (s->n < 4)
        s->at[s->n++] = clock_icount(s->clock);
    return 0x5a;
}

static void seen_write(void *opaque, uint64_t off, uint64_t v, unsigned size)
{
    seen_read(opaque, off, size);
}

static const MemOps seen_ops = { .read = seen_read, .write = seen_write };

/* mov ax, 0xa000; mov ds, ax; nop; nop; mov [0], al; nop; mov al, [0];
 * out 0x80, al; hlt */
static const uint8_t mmio_code[] = { 0xb8, 0x00, 0xa0, 0x8e, 0xd8, 0x90, 0x90, 0xa2, 0x00, 0x00,
                                     0x90, 0xa0, 0x00, 0x00, 0xe6, 0x80, 0xf4 };

START_TEST(devices_see_the_count_of_the_accessing_instruction)
{
    Guest g = icount_guest(_i, 0, mmio_code, sizeof mmio_code);
    Seen s = { .clock = g.m->clock };
    ck_assert_ptr_nonnull(memmap_add_mmio(g.m->mem, "seen", 0xa0000, 0x1000, &seen_ops, &s, 1,
                                          NULL));
    ck_assert(iospace_add(g.m->io, "seen", 0x80, 1, &seen_ops, &s, NULL));
    ck_assert_int_eq(cpu_exec(g.cpu, INT64_MAX), CPU_EXIT_HALTED);
    ck_assert_int_eq(s.n, 3);
    ck_assert_uint_eq(s.at[0], 5);
    ck_assert_uint_eq(s.at[1], 7);
    ck_assert_uint_eq(s.at[2], 8);
    ck_assert_uint_eq(cpu_icount(g.cpu), 9);
    unit_guest_free(&g);
}
END_TEST

START_TEST(icount_clock_warps_and_maps_deadlines)
{
    VClock *c = clock_new_icount(3);
    ck_assert_int_eq(clock_now(c), 0);
    clock_warp_to(c, 1000);
    ck_assert_int_eq(clock_now(c), 1000);
    clock_warp_to(c, 500);                  /* never backwards */
    ck_assert_int_eq(clock_now(c), 1000);
    ck_assert_uint_eq(clock_icount_at(c, 1000), 0);
    ck_assert_uint_eq(clock_icount_at(c, 1001), 1);    /* 8 ns per instruction */
    ck_assert_uint_eq(clock_icount_at(c, 1016), 2);
    ck_assert_uint_eq(clock_icount_at(c, 1017), 3);
    ck_assert_uint_eq(clock_icount_at(c, INT64_MAX), UINT64_MAX);
    clock_free(c);
}
END_TEST

static Suite *icount_suite(void)
{
    Suite *s = suite_create("icount");
    TCase *tc = tcase_create("count");
    tcase_add_loop_test(tc, a_loop_counts_every_instruction, 0, 2);
    tcase_add_loop_test(tc, stops_land_exactly_on_the_count, 0, 2);
    tcase_add_loop_test(tc, deadlines_end_the_run_on_time, 0, 2);
    tcase_add_loop_test(tc, a_faulting_instruction_does_not_count, 0, 2);
    tcase_add_loop_test(tc, a_memory_fault_gives_back_the_rest_of_the_block, 0, 2);
    tcase_add_loop_test(tc, devices_see_the_count_of_the_accessing_instruction, 0, 2);
    tcase_add_test(tc, icount_clock_warps_and_maps_deadlines);
    suite_add_tcase(s, tc);
    return s;
}
UNIT_SUITE(icount_suite)
