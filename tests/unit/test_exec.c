/* The execution loop's interrupt polling and block dispatch (cpu/exec.c). */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/memory.h"
#include "cpu/exec.h"
#include "tcg/tb.h"
#include "tests/unit/cpu-guest.h"
#include "tests/unit/unit.h"

#define RAM (1u << 20)

typedef struct FakePic {
    bool pending;
    int asks;        /* intr_pending calls */
    int acks;
} FakePic;

static bool fake_pending(void *opaque)
{
    FakePic *p = opaque;
    p->asks++;
    return p->pending;
}

static int fake_ack(void *opaque)
{
    FakePic *p = opaque;
    p->pending = false;
    p->acks++;
    return 0x20;
}

static const CPUBoardOps fake_board_ops = { .intr_pending = fake_pending, .intr_ack = fake_ack };

/* Port 0x80: a write raises the fake PIC's line, as a device would. */
static uint64_t port_read(void *opaque, uint64_t off, unsigned size) { return 0; }
static void port_write(void *opaque, uint64_t off, uint64_t v, unsigned size)
{
    ((FakePic *)opaque)->pending = true;
}
static const MemOps port_ops = { .read = port_read, .write = port_write };

/* 0x1000: sti; nop; out 0x80, al; 1: jmp 1b
 * 0x1006: handler: movb $0x42, [0x500]; hlt
 * 0x100c: sti; 1: jmp 1b    (never touches a device) */
static const uint8_t code[] = {
    0xfb, 0x90, 0xe6, 0x80, 0xeb, 0xfe,
    0xc6, 0x06, 0x00, 0x05, 0x42, 0xf4,
    0xfb, 0xeb, 0xfe,
};

static Guest guest_with_pic(int engine, FakePic *pic)
{
    Guest g = unit_guest_new_real(RAM, engine, code, sizeof(code));
    wr32(&g, 0x20 * 4, 0x1006);                    /* IVT: vector 0x20 -> 0:1006 */
    g.cpu->board = &fake_board_ops;
    g.cpu->board_opaque = pic;
    char *err = NULL;
    ck_assert(iospace_add(g.m->io, "fakepic", 0x80, 1, &port_ops, pic, &err));
    return g;
}

START_TEST(device_access_makes_the_loop_ask_again)
{
    FakePic pic = { 0 };
    Guest g = guest_with_pic(_i, &pic);
    /* The OUT raises the line mid-run: delivered within the same cpu_exec,
     * although nothing outside the guest asked for a poll. */
    g.cpu->insn_budget = 1000;
    ck_assert_int_eq(cpu_exec(g.cpu, INT64_MAX), CPU_EXIT_HALTED);
    ck_assert_int_eq(pic.acks, 1);
    ck_assert_uint_eq(g.m->ram[0x500], 0x42);
    ck_assert_uint_eq(rd32(&g, 0x8000 - 6) & 0xffff, 0x1006 - 2);   /* pushed IP: the jmp */
    unit_guest_free(&g);
}
END_TEST

START_TEST(no_device_access_no_controller_poll)
{
    FakePic pic = { 0 };
    Guest g = guest_with_pic(_i, &pic);
    g.cpu->rip = 0x100c;
    g.cpu->insn_budget = 200;
    ck_assert_int_eq(cpu_exec(g.cpu, INT64_MAX), CPU_EXIT_BUDGET);
    /* 200 loop iterations with IF set, no device touched: asked once (on
     * entry, after STI's shadow) instead of every iteration. */
    ck_assert_int_ge(pic.asks, 1);
    ck_assert_int_le(pic.asks, 2);
    ck_assert_int_eq(pic.acks, 0);
    /* A new cpu_exec asks again (timers may have run in between). */
    pic.pending = true;
    g.cpu->insn_budget = 200;
    ck_assert_int_eq(cpu_exec(g.cpu, INT64_MAX), CPU_EXIT_HALTED);
    ck_assert_int_eq(pic.acks, 1);
    unit_guest_free(&g);
}
END_TEST

/* 0x1000: inc word [0x500]; jmp 0x2000     0x2000: jmp 0x1000
 * Every jump crosses a page: with the host backend they go block to block
 * through the inline jump-cache probe, not through the loop (the
 * interpreter returns to the loop at every goto_ptr). */
static const uint8_t ping[] = { 0xff, 0x06, 0x00, 0x05, 0xe9, 0xf9, 0x0f };
static const uint8_t pong[] = { 0xe9, 0xfd, 0xef };

static unsigned counter(Guest *g)
{
    return g->m->ram[0x500] | g->m->ram[0x501] << 8;
}

START_TEST(cross_page_jumps_stay_in_translated_code)
{
    Guest g = unit_guest_new_real(RAM, _i, ping, sizeof(ping));
    memcpy(g.m->ram + 0x2000, pong, sizeof(pong));
    /* insn_budget n runs n - 1 loop iterations: A (translated; its jump
     * to B finds nothing), then B, translated, and the rest of the budget. */
    g.cpu->insn_budget = 3;
    ck_assert_int_eq(cpu_exec(g.cpu, INT64_MAX), CPU_EXIT_BUDGET);
    unsigned n = counter(&g);
    if (_i == 1)
        ck_assert_uint_gt(n, 1000);
    else
        ck_assert_uint_ge(n, 1);
    /* A TLB flush empties the jump cache: a miss finds the blocks in the
     * hash table from translated code, so one loop iteration still runs
     * a whole budget. */
    tb_jc_flush(g.cpu->tbs);
    g.cpu->insn_budget = 2;
    ck_assert_int_eq(cpu_exec(g.cpu, INT64_MAX), CPU_EXIT_BUDGET);
    if (_i == 1)
        ck_assert_uint_gt((counter(&g) - n) & 0xffff, 1000);
    ck_assert(g.cpu->rip == 0x1000 || g.cpu->rip == 0x2000);   /* left at a block entry */
    unit_guest_free(&g);
}
END_TEST

/* Logged RAM (the VGA's framebuffer BAR) under translated code: stores go
 * to host memory, the first store to each page after a sync sets the
 * region's log bit (TLB_NOTDIRTY), a sync re-arms it, and the machine's
 * own dirty log (live migration) keeps its bits through the region's sync.
 * 0x1000: ds = 0x2000; dword [0x10] and [0x1008] (logged pages 0 and 1);
 *         ds = 0; byte [0x3000] (RAM); hlt; jmp 0x1000 */
static const uint8_t lfb_code[] = {
    0xb8, 0x00, 0x20, 0x8e, 0xd8,
    0x66, 0xc7, 0x06, 0x10, 0x00, 0x44, 0x33, 0x22, 0x11,
    0x66, 0xc7, 0x06, 0x08, 0x10, 0x88, 0x77, 0x66, 0x55,
    0x31, 0xc0, 0x8e, 0xd8,
    0xc6, 0x06, 0x00, 0x30, 0xaa,
    0xf4, 0xeb, 0xdd,
};

START_TEST(logged_ram_stores_set_the_region_log_each_sync)
{
    Guest g = unit_guest_new_real(RAM, _i, lfb_code, sizeof(lfb_code));
    static uint8_t vram[0x10000];
    memset(vram, 0, sizeof vram);
    uint64_t log = 0, out = 0;
    ck_assert_ptr_nonnull(memmap_add_ram_logged(g.m->mem, "lfb", 0x20000, sizeof vram, vram,
                                                &log, 1, NULL));
    machine_dirty_log_start(g.m);
    for (int round = 0; round < 2; round++) {
        g.cpu->halted = false;
        ck_assert_int_eq(cpu_exec(g.cpu, INT64_MAX), CPU_EXIT_HALTED);
        uint32_t a, b;
        memcpy(&a, vram + 0x10, 4);
        memcpy(&b, vram + 0x1008, 4);
        ck_assert_uint_eq(a, 0x11223344);
        ck_assert_uint_eq(b, 0x55667788);
        ck_assert_uint_eq(g.m->ram[0x20010], 0);        /* shadowed RAM untouched */
        out = 0;
        machine_region_log_sync(g.m, &log, 1, &out);
        ck_assert_uint_eq(out, 3);                      /* pages 0 and 1, again in round 1 */
        ck_assert_uint_eq(log, 0);
        /* the machine's log has page 3 (and the stack/code pages it may
         * have), never the logged region's pages */
        ck_assert(machine_page_dirty(g.m, 0x3000));
        ck_assert(!machine_page_dirty(g.m, 0x20000));
        memset(vram, 0, sizeof vram);
    }
    machine_dirty_log_stop(g.m);
    unit_guest_free(&g);
}
END_TEST

static Suite *exec_suite(void)
{
    Suite *s = suite_create("exec");
    TCase *tc = tcase_create("interrupt polling");
    tcase_add_loop_test(tc, device_access_makes_the_loop_ask_again, 0, 2);
    tcase_add_loop_test(tc, no_device_access_no_controller_poll, 0, 2);
    suite_add_tcase(s, tc);
    tc = tcase_create("dispatch");
    tcase_add_loop_test(tc, cross_page_jumps_stay_in_translated_code, 0, 2);
    tcase_add_loop_test(tc, logged_ram_stores_set_the_region_log_each_sync, 0, 2);
    suite_add_tcase(s, tc);
    return s;
}
UNIT_SUITE(exec_suite)
