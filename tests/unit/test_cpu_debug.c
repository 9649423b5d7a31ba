/*
 * cpu/debug.c under both engines: a debugger's breakpoints (checked at
 * translation time, no guest memory patched), single steps, watchpoints
 * that stop right after the accessing instruction; and the guest's own
 * debug registers: DR0-3 instruction and data breakpoints (#DB fault /
 * trap, DR6 B0-B3), EFLAGS.TF (DR6.BS) and ICEBP.  Real-mode code at
 * 0x1000, SP 0x8000, a #DB handler (hlt) at 0x1100.
 */
#include <check.h>
#include <string.h>

#include "cpu/cpu.h"
#include "cpu/debug.h"
#include "tests/unit/cpu-guest.h"
#include "tests/unit/unit.h"

#define RAM (1u << 20)

static Guest guest(const uint8_t *code, size_t len, int engine)
{
    Guest g = unit_guest_new_real(RAM, engine, code, len);
    g.m->ram[0x1100] = 0xf4;                 /* #DB handler: hlt */
    wr32(&g, 4, 0x00001100);                 /* IVT[1] = 0000:1100 */
    g.cpu->insn_budget = 10000;
    return g;
}

static uint16_t rd16(Guest *g, uint32_t a)
{
    uint16_t v;
    memcpy(&v, g->m->ram + a, 2);
    return v;
}

/* mov ax,1; mov bx,2; mov cx,3; hlt */
static const uint8_t movs[] = { 0xb8, 1, 0, 0xbb, 2, 0, 0xb9, 3, 0, 0xf4 };

START_TEST(breakpoint_stops_before_insn_and_passes_on_resume)
{
    Guest g = guest(movs, sizeof movs, _i);
    /* translated before the breakpoint exists: the insert drops it */
    ck_assert_int_eq(cpu_debug_insert(g.cpu, CPU_BP_SW, 0x1006, 1), 0);
    ck_assert_uint_eq(g.m->ram[0x1006], 0xb9);      /* memory untouched */
    cpu_debug_resume(g.cpu, false, false);
    ck_assert_int_eq(cpu_exec(g.cpu, INT64_MAX), CPU_EXIT_DEBUG);
    CPUDebugStop st = cpu_debug_stop_reason(g.cpu);
    ck_assert_int_eq(st.reason, CPU_DEBUG_BREAK);
    ck_assert_uint_eq(st.addr, 0x1006);
    ck_assert_uint_eq(g.cpu->rip, 0x1006);
    ck_assert_uint_eq(g.cpu->regs[R_EBX] & 0xffff, 2);
    ck_assert_uint_eq(g.cpu->regs[R_ECX] & 0xffff, 0);
    cpu_debug_resume(g.cpu, false, false);
    ck_assert_int_eq(cpu_exec(g.cpu, INT64_MAX), CPU_EXIT_HALTED);
    ck_assert_uint_eq(g.cpu->regs[R_ECX] & 0xffff, 3);
    /* removed: the same code runs through */
    ck_assert_int_eq(cpu_debug_remove(g.cpu, CPU_BP_SW, 0x1006, 1), 0);
    ck_assert_int_eq(cpu_debug_remove(g.cpu, CPU_BP_SW, 0x1006, 1), -1);
    unit_guest_free(&g);
}
END_TEST

START_TEST(single_step_runs_one_insn)
{
    Guest g = guest(movs, sizeof movs, _i);
    for (int i = 1; i <= 3; i++) {
        cpu_debug_resume(g.cpu, true, false);
        ck_assert_int_eq(cpu_exec(g.cpu, INT64_MAX), CPU_EXIT_DEBUG);
        ck_assert_int_eq(cpu_debug_stop_reason(g.cpu).reason, CPU_DEBUG_STEP);
        ck_assert_uint_eq(g.cpu->rip, 0x1000 + 3 * i);
    }
    ck_assert_uint_eq(g.cpu->regs[R_ECX] & 0xffff, 3);
    unit_guest_free(&g);
}
END_TEST

/* mov word [0x2000],0x1234; mov ax,[0x2002]; mov cx,7; hlt */
static const uint8_t store[] = { 0xc7, 0x06, 0x00, 0x20, 0x34, 0x12, 0xa1, 0x02, 0x20,
                                 0xb9, 7, 0, 0xf4 };

START_TEST(watchpoints_stop_after_the_access)
{
    Guest g = guest(store, sizeof store, _i);
    g.m->ram[0x2002] = 0x99;
    ck_assert_int_eq(cpu_debug_insert(g.cpu, CPU_WP_WRITE, 0x2001, 1), 0);
    ck_assert_int_eq(cpu_debug_insert(g.cpu, CPU_WP_READ, 0x2002, 2), 0);
    cpu_debug_resume(g.cpu, false, false);
    ck_assert_int_eq(cpu_exec(g.cpu, INT64_MAX), CPU_EXIT_DEBUG);
    CPUDebugStop st = cpu_debug_stop_reason(g.cpu);
    ck_assert_int_eq(st.reason, CPU_DEBUG_WATCH);
    ck_assert_int_eq(st.type, CPU_WP_WRITE);
    ck_assert_uint_eq(st.addr, 0x2001);
    ck_assert_uint_eq(g.cpu->rip, 0x1006);              /* right after the store */
    ck_assert_uint_eq(rd16(&g, 0x2000), 0x1234);
    cpu_debug_resume(g.cpu, false, false);
    ck_assert_int_eq(cpu_exec(g.cpu, INT64_MAX), CPU_EXIT_DEBUG);
    st = cpu_debug_stop_reason(g.cpu);
    ck_assert_int_eq(st.type, CPU_WP_READ);
    ck_assert_uint_eq(g.cpu->rip, 0x1009);
    ck_assert_uint_eq(g.cpu->regs[R_EAX] & 0xffff, 0x99);
    cpu_debug_remove_all(g.cpu);
    cpu_debug_resume(g.cpu, false, false);
    ck_assert_int_eq(cpu_exec(g.cpu, INT64_MAX), CPU_EXIT_HALTED);
    ck_assert_uint_eq(g.cpu->regs[R_ECX] & 0xffff, 7);
    unit_guest_free(&g);
}
END_TEST

START_TEST(guest_dr0_instruction_breakpoint_faults)
{
    Guest g = guest(movs, sizeof movs, _i);
    g.cpu->dr[0] = 0x1003;
    g.cpu->dr[7] = 0x401;              /* L0, R/W0 = 00 (execute) */
    cpu_debug_dr_changed(g.cpu);
    ck_assert_int_eq(cpu_exec(g.cpu, INT64_MAX), CPU_EXIT_HALTED);
    ck_assert_uint_eq(g.cpu->rip, 0x1101);             /* in the handler */
    ck_assert_uint_eq(g.cpu->dr[6] & 0xf, 1);
    ck_assert_uint_eq(rd16(&g, 0x7ffa), 0x1003);       /* a fault: IP of the insn */
    ck_assert_uint_eq(g.cpu->regs[R_EBX] & 0xffff, 0);
    unit_guest_free(&g);
}
END_TEST

START_TEST(guest_dr1_data_breakpoint_traps)
{
    Guest g = guest(store, sizeof store, _i);
    g.cpu->dr[1] = 0x2000;
    g.cpu->dr[7] = 0x400 | (1u << 2) | (1u << 20) | (1u << 22);  /* L1, write, 2 bytes */
    cpu_debug_dr_changed(g.cpu);
    ck_assert_int_eq(cpu_exec(g.cpu, INT64_MAX), CPU_EXIT_HALTED);
    ck_assert_uint_eq(g.cpu->rip, 0x1101);
    ck_assert_uint_eq(g.cpu->dr[6] & 0xf, 2);
    ck_assert_uint_eq(rd16(&g, 0x7ffa), 0x1006);       /* a trap: IP after the store */
    ck_assert_uint_eq(rd16(&g, 0x2000), 0x1234);
    unit_guest_free(&g);
}
END_TEST

START_TEST(icebp_raises_db)
{
    static const uint8_t code[] = { 0x90, 0xf1, 0x90, 0xf4 };
    Guest g = guest(code, sizeof code, _i);
    ck_assert_int_eq(cpu_exec(g.cpu, INT64_MAX), CPU_EXIT_HALTED);
    ck_assert_uint_eq(g.cpu->rip, 0x1101);
    ck_assert_uint_eq(rd16(&g, 0x7ffa), 0x1002);
    unit_guest_free(&g);
}
END_TEST

START_TEST(trap_flag_single_steps)
{
    /* pushf; pop ax; or ax,0x100; push ax; popf; nop; nop; hlt */
    static const uint8_t code[] = { 0x9c, 0x58, 0x0d, 0x00, 0x01, 0x50, 0x9d, 0x90, 0x90, 0xf4 };
    Guest g = guest(code, sizeof code, _i);
    ck_assert_int_eq(cpu_exec(g.cpu, INT64_MAX), CPU_EXIT_HALTED);
    ck_assert_uint_eq(g.cpu->rip, 0x1101);
    ck_assert(g.cpu->dr[6] & (1u << 14));              /* BS */
    /* the trap comes after the instruction following POPF */
    ck_assert_uint_eq(rd16(&g, 0x7ffa), 0x1008);
    unit_guest_free(&g);
}
END_TEST

static Suite *cpu_debug_suite(void)
{
    Suite *s = suite_create("cpu_debug");
    TCase *tc = tcase_create("core");
    tcase_add_loop_test(tc, breakpoint_stops_before_insn_and_passes_on_resume, 0, 2);
    tcase_add_loop_test(tc, single_step_runs_one_insn, 0, 2);
    tcase_add_loop_test(tc, watchpoints_stop_after_the_access, 0, 2);
    tcase_add_loop_test(tc, guest_dr0_instruction_breakpoint_faults, 0, 2);
    tcase_add_loop_test(tc, guest_dr1_data_breakpoint_traps, 0, 2);
    tcase_add_loop_test(tc, icebp_raises_db, 0, 2);
    tcase_add_loop_test(tc, trap_flag_single_steps, 0, 2);
    suite_add_tcase(s, tc);
    return s;
}

UNIT_SUITE(cpu_debug_suite)
