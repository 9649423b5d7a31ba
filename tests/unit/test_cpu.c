/*
 * CPU tests for what the 286 real-mode vectors do not cover: protected
 * mode entry, 32-bit code, paging faults, long mode, interrupts through
 * the IVT and a 64-bit IDT, self-modifying code, #DE/#UD/#GP delivery.
 *
 * The guest programs are tiny byte arrays (assembled once by hand with
 * GNU as at origin 0x1000; the source is in the comments).  The tests put
 * them in RAM, build descriptor and page tables from C, run the CPU under
 * the IR interpreter until HLT and check registers and memory against
 * what the SDM says must happen.
 */
#include <stdlib.h>
#include <string.h>

#include "core/machine.h"
#include "cpu/cpu.h"
#include "cpu/mmu.h"
#include "tests/unit/cpu-guest.h"
#include "tests/unit/unit.h"

#define RAM (4u << 20)

static Guest guest_new_engine(const uint8_t *code, size_t len, int engine)
{
    return unit_guest_new_real(RAM, engine, code, len);
}


static int run(Guest *g)
{
    g->cpu->insn_budget = 10000;    /* a broken test fails instead of hanging */
    return cpu_exec(g->cpu, INT64_MAX);
}

/* GDT at 0x1e00: null, 32-bit code 0x08, data 0x10, 64-bit code 0x18;
 * the 6-byte GDTR image at 0x1f00. */
static void setup_gdt(Guest *g)
{
    wr64(g, 0x1e00, 0);
    wr64(g, 0x1e08, 0x00cf9a000000ffffULL);
    wr64(g, 0x1e10, 0x00cf92000000ffffULL);
    wr64(g, 0x1e18, 0x00af9a000000ffffULL);
    g->m->ram[0x1f00] = 31;
    g->m->ram[0x1f01] = 0;
    wr32(g, 0x1f02, 0x1e00);
}

/* 32-bit interrupt gate for vec -> 0x08:handler in an IDT at 0x20000. */
static void set_gate32(Guest *g, int vec, uint32_t handler)
{
    uint32_t a = 0x20000 + (uint32_t)vec * 8;
    wr32(g, a, (handler & 0xffff) | 0x08u << 16);
    wr32(g, a + 4, (handler & 0xffff0000u) | 0x8e00);
    cpu_set_idt(g->cpu, 0x20000, 256 * 8 - 1);
}

/* pm.S: real mode -> protected mode -> 32-bit flat code, then (entered
 * separately) paging with a #PF, and a bad segment load with #GP.
 *   0x1000 start: cli; lgdtl 0x1f00; mov cr0,eax|1; ljmpl $8,$pm32
 *   0x1017 pm32:  mov $0x10,ax; ds=es=ss=ax; esp=0x9000;
 *                 eax=0x12345678+0x11111111 -> [0x5000]; push/pop ecx;
 *                 movl $0xaabbccdd,[0x5004]; hlt
 *   0x1044 pg32:  cr3=0x10000; cr0|=PG; movl $1,[0x5010];
 *                 movl $2,[0x400000]; hlt
 *   0x106c pf_handler: pop eax -> [0x5020]; cr2 -> [0x5024]; hlt
 *   0x107b gp_test: mov $0x1234,ax; mov ax,ds; hlt
 *   0x1082 gp_handler: pop eax -> [0x5030]; hlt                        */
static const uint8_t pm_code[] = {
    0xfa, 0x66, 0x0f, 0x01, 0x16, 0x00, 0x1f, 0x0f, 0x20, 0xc0, 0x0c, 0x01,
    0x0f, 0x22, 0xc0, 0x66, 0xea, 0x17, 0x10, 0x00, 0x00, 0x08, 0x00, 0x66,
    0xb8, 0x10, 0x00, 0x8e, 0xd8, 0x8e, 0xc0, 0x8e, 0xd0, 0xbc, 0x00, 0x90,
    0x00, 0x00, 0xb8, 0x78, 0x56, 0x34, 0x12, 0xbb, 0x11, 0x11, 0x11, 0x11,
    0x01, 0xd8, 0xa3, 0x00, 0x50, 0x00, 0x00, 0x50, 0x59, 0xc7, 0x05, 0x04,
    0x50, 0x00, 0x00, 0xdd, 0xcc, 0xbb, 0xaa, 0xf4, 0xb8, 0x00, 0x00, 0x01,
    0x00, 0x0f, 0x22, 0xd8, 0x0f, 0x20, 0xc0, 0x0d, 0x00, 0x00, 0x00, 0x80,
    0x0f, 0x22, 0xc0, 0xc7, 0x05, 0x10, 0x50, 0x00, 0x00, 0x01, 0x00, 0x00,
    0x00, 0xc7, 0x05, 0x00, 0x00, 0x40, 0x00, 0x02, 0x00, 0x00, 0x00, 0xf4,
    0x58, 0xa3, 0x20, 0x50, 0x00, 0x00, 0x0f, 0x20, 0xd0, 0xa3, 0x24, 0x50,
    0x00, 0x00, 0xf4, 0x66, 0xb8, 0x34, 0x12, 0x8e, 0xd8, 0xf4, 0x58, 0xa3,
    0x30, 0x50, 0x00, 0x00, 0xf4,
};

static Guest enter_protected(int engine)
{
    Guest g = guest_new_engine(pm_code, sizeof(pm_code), engine);
    setup_gdt(&g);
    ck_assert_int_eq(run(&g), CPU_EXIT_HALTED);
    return g;
}

START_TEST(protected_mode_entry_and_flat_code)
{
    Guest g = enter_protected(_i);
    CPUState *cpu = g.cpu;
    ck_assert_uint_eq(cpu->seg[R_CS].selector, 0x08);
    ck_assert(cpu->cr[0] & CR0_PE);
    ck_assert(cpu->hflags & HF_CS32);
    ck_assert(cpu->hflags & HF_SS32);
    ck_assert(cpu->hflags & HF_FLAT);
    ck_assert_uint_eq(cpu->seg[R_DS].selector, 0x10);
    ck_assert_uint_eq(cpu->seg[R_DS].limit, 0xffffffffu);
    /* 0x12345678 + 0x11111111 */
    ck_assert_uint_eq(rd32(&g, 0x5000), 0x23456789u);
    ck_assert_uint_eq(cpu->regs[R_ECX], 0x23456789u);
    ck_assert_uint_eq(rd32(&g, 0x5004), 0xaabbccddu);
    ck_assert_uint_eq(cpu->regs[R_ESP], 0x9000);   /* push/pop balanced */
    ck_assert_uint_eq(rd32(&g, 0x8ffc), 0x23456789u);
    ck_assert_uint_eq(cpu->rip, 0x1044);           /* one past the HLT */
    /* The accessed bit was set in the data descriptor when DS was loaded. */
    ck_assert(rd32(&g, 0x1e14) & 0x100);
    unit_guest_free(&g);
}
END_TEST

START_TEST(paging_page_fault_cr2_and_error_code)
{
    Guest g = enter_protected(_i);
    /* Page directory at 0x10000: the first 4 MiB identity-mapped through
     * the table at 0x11000; 0x400000 and above not present. */
    wr32(&g, 0x10000, 0x11000 | 3);
    for (uint32_t i = 0; i < 1024; i++)
        wr32(&g, 0x11000 + i * 4, i * 4096 | 3);
    set_gate32(&g, EXC_PF, 0x106c);
    g.cpu->halted = false;
    g.cpu->rip = 0x1044;
    ck_assert_int_eq(run(&g), CPU_EXIT_HALTED);
    ck_assert_uint_eq(rd32(&g, 0x5010), 1);            /* mapped write worked */
    ck_assert_uint_eq(rd32(&g, 0x5024), 0x400000);     /* CR2 = faulting address */
    ck_assert_uint_eq(g.cpu->cr[2], 0x400000);
    /* error code: not present (P=0), write (W=1), supervisor (U=0) */
    ck_assert_uint_eq(rd32(&g, 0x5020), 2);
    /* The write through page 5 set A and D in its PTE; the faulting store
     * changed nothing. */
    ck_assert_uint_eq(rd32(&g, 0x11000 + 5 * 4) & 0x60, 0x60);
    ck_assert_uint_eq(rd32(&g, 0x400000 - 0x400000 + 0x5014), 0);
    ck_assert_int_eq(g.cpu->last_exception, EXC_PF);
    unit_guest_free(&g);
}
END_TEST

/* Two pages that share a TLB slot (1 MiB apart) take turns; the one
 * pushed out of the table must still obey INVLPG and CR3 reloads
 * (SDM 3A 4.10.4): after its PTE changes and the flush, the new frame. */
START_TEST(tlb_slot_conflicts_and_invlpg)
{
    Guest g = enter_protected(_i);
    CPUState *cpu = g.cpu;
    wr32(&g, 0x10000, 0x11000 | 3);
    for (uint32_t i = 0; i < 1024; i++)
        wr32(&g, 0x11000 + i * 4, i * 4096 | 3);
    wr32(&g, 0x200000, 0xaaaa0000);
    wr32(&g, 0x300000, 0xbbbb0000);
    wr32(&g, 0x380000, 0xcccc0000);
    wr32(&g, 0x390000, 0xdddd0000);
    cpu_set_cr(cpu, 3, 0x10000);
    cpu_set_cr(cpu, 0, cpu->cr[0] | CR0_PG);
    int mmu = MMU_KERNEL;
    for (int k = 0; k < 4; k++) {
        ck_assert_uint_eq(cpu_ld(cpu, 0x200000, 4, mmu, 0), 0xaaaa0000);
        ck_assert_uint_eq(cpu_ld(cpu, 0x300000, 4, mmu, 0), 0xbbbb0000);
    }
    /* 0x200000 now maps frame 0x380000; INVLPG drops the old entry. */
    wr32(&g, 0x11000 + 0x200 * 4, 0x380000 | 3);
    mmu_flush_page(cpu, 0x200000);
    ck_assert_uint_eq(cpu_ld(cpu, 0x300000, 4, mmu, 0), 0xbbbb0000);
    ck_assert_uint_eq(cpu_ld(cpu, 0x200000, 4, mmu, 0), 0xcccc0000);
    ck_assert_uint_eq(cpu_ld(cpu, 0x300000, 4, mmu, 0), 0xbbbb0000);
    /* A CR3 write flushes everything, the displaced entries included. */
    wr32(&g, 0x11000 + 0x200 * 4, 0x390000 | 3);
    wr32(&g, 0x11000 + 0x300 * 4, 0x200000 | 3);
    cpu_set_cr(cpu, 3, 0x10000);
    ck_assert_uint_eq(cpu_ld(cpu, 0x300000, 4, mmu, 0), 0xaaaa0000);
    ck_assert_uint_eq(cpu_ld(cpu, 0x200000, 4, mmu, 0), 0xdddd0000);
    ck_assert_uint_eq(cpu_ld(cpu, 0x300000, 4, mmu, 0), 0xaaaa0000);
    /* Writes through a displaced entry set D in the right PTE only. */
    cpu_st(cpu, 0x200000, 1, 4, mmu, 0);
    cpu_st(cpu, 0x300000, 2, 4, mmu, 0);
    cpu_st(cpu, 0x200000, 3, 4, mmu, 0);
    ck_assert_uint_eq(rd32(&g, 0x390000), 3);
    ck_assert_uint_eq(rd32(&g, 0x200000), 2);
    ck_assert_uint_eq(rd32(&g, 0x11000 + 0x200 * 4) & 0x60, 0x60);
    ck_assert_uint_eq(rd32(&g, 0x11000 + 0x300 * 4) & 0x60, 0x60);
    unit_guest_free(&g);
}
END_TEST

/* A port write arms a timer due at once (manual clock), as an HPET or
 * LAPIC register write does while the CPU runs. */
typedef struct ArmDev {
    Machine *m;
    Timer *t;
    int fired;
} ArmDev;

static void arm_fire(void *opaque) { ((ArmDev *)opaque)->fired++; }
static uint64_t arm_read(void *opaque, uint64_t off, unsigned size) { return 0; }
static void arm_write(void *opaque, uint64_t off, uint64_t val, unsigned size)
{
    ArmDev *d = opaque;
    timer_mod(d->t, clock_now(d->m->clock));
}
static const MemOps arm_ops = { arm_read, arm_write, 1, 1 };

/* out 0x80,al; jmp $ -- cpu_exec(deadline = none) must come back for the
 * timer the guest armed, not spin until its block budget runs out. */
START_TEST(exec_returns_for_timer_armed_by_guest)
{
    static const uint8_t code[] = { 0xe6, 0x80, 0xeb, 0xfe };
    Guest g = guest_new_engine(code, sizeof(code), _i);
    ArmDev d = { .m = g.m };
    d.t = timer_new(g.m->clock, arm_fire, &d);
    ck_assert(iospace_add(g.m->io, "arm", 0x80, 1, &arm_ops, &d, NULL));
    g.cpu->insn_budget = 1000;
    ck_assert_int_eq(cpu_exec(g.cpu, INT64_MAX), CPU_EXIT_BUDGET);
    ck_assert_uint_gt(g.cpu->insn_budget, 0);      /* stopped for the timer */
    ck_assert_uint_eq(g.cpu->rip, 0x1002);         /* in the loop */
    ck_assert_int_eq(clock_run_timers(g.m->clock), 1);
    ck_assert_int_eq(d.fired, 1);
    timer_free(d.t);
    unit_guest_free(&g);
}
END_TEST

/* Three blocks chained in a ring (A: inc ax; jmp B -- B: inc bx; jmp C --
 * C: inc cx; jmp A).  Chained jumps do not store rip, so every exit-budget
 * exit must store the rip of the block it leaves from, or the loop would
 * run some block again and the counts would drift apart.  (4096 block
 * entries per budget is not a multiple of 3: exits rotate over A, B, C.) */
static const uint8_t block_ring[] = {
    0x40, 0xeb, 0x01, 0x90,   /* 0x1000 A: inc ax; jmp 0x1004 */
    0x43, 0xeb, 0x01, 0x90,   /* 0x1004 B: inc bx; jmp 0x1008 */
    0x41, 0xeb, 0xf5,         /* 0x1008 C: inc cx; jmp 0x1000 */
};

START_TEST(budget_exits_from_chained_blocks_keep_rip)
{
    Guest g = guest_new_engine(block_ring, sizeof(block_ring), _i);
    g.cpu->regs[R_EAX] = g.cpu->regs[R_EBX] = g.cpu->regs[R_ECX] = 0;
    g.cpu->insn_budget = 12;               /* loop iterations: budget exits */
    ck_assert_int_eq(cpu_exec(g.cpu, INT64_MAX), CPU_EXIT_BUDGET);
    uint32_t ax = g.cpu->regs[R_EAX] & 0xffff, bx = g.cpu->regs[R_EBX] & 0xffff;
    uint32_t cx = g.cpu->regs[R_ECX] & 0xffff;
    if (_i == 1)                           /* chained: budget exits happened */
        ck_assert_uint_gt(ax, 8000);
    ck_assert(ax >= bx && bx >= cx && ax - cx <= 1);
    uint64_t want = ax == cx ? 0x1000 : ax == bx ? 0x1008 : 0x1004;
    ck_assert_uint_eq(g.cpu->rip, want);
    unit_guest_free(&g);
}
END_TEST

START_TEST(gp_on_bad_selector_has_selector_error_code)
{
    Guest g = enter_protected(_i);
    set_gate32(&g, EXC_GP, 0x1082);
    g.cpu->halted = false;
    g.cpu->rip = 0x107b;
    ck_assert_int_eq(run(&g), CPU_EXIT_HALTED);
    ck_assert_int_eq(g.cpu->last_exception, EXC_GP);
    /* selector 0x1234 is past the GDT limit: #GP(selector & ~3) */
    ck_assert_uint_eq(rd32(&g, 0x5030), 0x1234);
    /* DS kept its old value: the load faulted before changing it */
    ck_assert_uint_eq(g.cpu->seg[R_DS].selector, 0x10);
    unit_guest_free(&g);
}
END_TEST

/* lm.S: real mode -> long mode (PAE, EFER.LME, CR0.PG|PE, far jump to the
 * 64-bit code segment 0x18), 64-bit code, then an external interrupt.
 *   0x103b lm64: rsp=0x9000; rax=0x123456789abcdef0 -> [0x6000];
 *                rax<<=4 -> [0x6008]; lidt [0x1f10]; sti; 1: jmp 1b
 *   0x106b handler: movb $0x77,[0x6010]; hlt                            */
static const uint8_t lm_code[] = {
    0xfa, 0x66, 0x0f, 0x01, 0x16, 0x00, 0x1f, 0x0f, 0x20, 0xe0, 0x66, 0x83,
    0xc8, 0x20, 0x0f, 0x22, 0xe0, 0x66, 0xb8, 0x00, 0x00, 0x01, 0x00, 0x0f,
    0x22, 0xd8, 0x66, 0xb9, 0x80, 0x00, 0x00, 0xc0, 0x0f, 0x32, 0x66, 0x0d,
    0x00, 0x01, 0x00, 0x00, 0x0f, 0x30, 0x0f, 0x20, 0xc0, 0x66, 0x0d, 0x01,
    0x00, 0x00, 0x80, 0x0f, 0x22, 0xc0, 0xea, 0x3b, 0x10, 0x18, 0x00, 0x48,
    0xc7, 0xc4, 0x00, 0x90, 0x00, 0x00, 0x48, 0xb8, 0xf0, 0xde, 0xbc, 0x9a,
    0x78, 0x56, 0x34, 0x12, 0x48, 0x89, 0x04, 0x25, 0x00, 0x60, 0x00, 0x00,
    0x48, 0xc1, 0xe0, 0x04, 0x48, 0x89, 0x04, 0x25, 0x08, 0x60, 0x00, 0x00,
    0x0f, 0x01, 0x1c, 0x25, 0x10, 0x1f, 0x00, 0x00, 0xfb, 0xeb, 0xfe, 0xc6,
    0x04, 0x25, 0x10, 0x60, 0x00, 0x00, 0x77, 0xf4,
};

typedef struct TestPic {
    bool pending;
    int vector;
    int acks;
} TestPic;

static bool pic_pending(void *opaque) { return ((TestPic *)opaque)->pending; }

static int pic_ack(void *opaque)
{
    TestPic *p = opaque;
    p->pending = false;
    p->acks++;
    return p->vector;
}

static const CPUBoardOps test_pic_ops = { .intr_pending = pic_pending, .intr_ack = pic_ack };

START_TEST(long_mode_entry_64bit_code_and_idt_interrupt)
{
    Guest g = guest_new_engine(lm_code, sizeof(lm_code), _i);
    setup_gdt(&g);
    /* PML4 0x10000 -> PDPT 0x11000 -> PD 0x12000: one 2 MiB identity page */
    wr64(&g, 0x10000, 0x11000 | 3);
    wr64(&g, 0x11000, 0x12000 | 3);
    wr64(&g, 0x12000, 0x0 | 0x83);
    /* 64-bit IDT at 0x13000: vector 0x30 -> 0x18:0x106b interrupt gate */
    wr32(&g, 0x13000 + 0x30 * 16, 0x106b | 0x18u << 16);
    wr32(&g, 0x13000 + 0x30 * 16 + 4, 0x8e00);
    wr64(&g, 0x13000 + 0x30 * 16 + 8, 0);
    g.m->ram[0x1f10] = 0xff;
    g.m->ram[0x1f11] = 0x0f;
    wr64(&g, 0x1f12, 0x13000);
    TestPic pic = { .pending = false, .vector = 0x30 };
    g.cpu->board = &test_pic_ops;
    g.cpu->board_opaque = &pic;

    /* Runs into the idle loop: stops on the block budget. */
    ck_assert_int_eq(run(&g), CPU_EXIT_BUDGET);
    CPUState *cpu = g.cpu;
    ck_assert(cpu->efer & EFER_LMA);
    ck_assert(cpu->hflags & HF_CS64);
    ck_assert_uint_eq(cpu->seg[R_CS].selector, 0x18);
    ck_assert_uint_eq(rd64(&g, 0x6000), 0x123456789abcdef0ULL);
    ck_assert_uint_eq(rd64(&g, 0x6008), 0x23456789abcdef00ULL);
    ck_assert_uint_eq(cpu->idt.base, 0x13000);
    ck_assert_uint_eq(cpu->rip, 0x1069);        /* spinning on jmp $ */

    pic.pending = true;
    cpu_interrupt_request(cpu);
    ck_assert_int_eq(run(&g), CPU_EXIT_HALTED);
    ck_assert_int_eq(pic.acks, 1);
    ck_assert_uint_eq(g.m->ram[0x6010], 0x77);
    /* 64-bit frame on the 16-byte aligned stack: RIP, CS, RFLAGS, RSP, SS */
    ck_assert_uint_eq(cpu->regs[R_ESP], 0x9000 - 40);
    ck_assert_uint_eq(rd64(&g, 0x9000 - 40), 0x1069);
    ck_assert_uint_eq(rd64(&g, 0x9000 - 32), 0x18);
    ck_assert(rd64(&g, 0x9000 - 24) & EFL_IF);
    ck_assert_uint_eq(rd64(&g, 0x9000 - 16), 0x9000);
    ck_assert(!(cpu_get_eflags(cpu) & EFL_IF));  /* interrupt gate clears IF */
    unit_guest_free(&g);
}
END_TEST

/* rm.S (real mode):
 *   0x1000 start: sti; nop; 1: jmp 1b
 *   0x1004 handler: movb $0x42,[0x500]; hlt
 *   0x100a smc: cx=2; xor bl,bl; again: target: mov $1,al; add al,bl;
 *               movb $5,[target+1]; loop again; hlt
 *   0x101b de: xor bl,bl; div bl; hlt
 *   0x1020 ud: ud2; hlt
 *   0x1023 exc_handler: bp=sp; ax=[bp] -> [0x600]; hlt                   */
static const uint8_t rm_code[] = {
    0xfb, 0x90, 0xeb, 0xfe, 0xc6, 0x06, 0x00, 0x05, 0x42, 0xf4, 0xb9, 0x02,
    0x00, 0x30, 0xdb, 0xb0, 0x01, 0x00, 0xc3, 0xc6, 0x06, 0x10, 0x10, 0x05,
    0xe2, 0xf5, 0xf4, 0x30, 0xdb, 0xf6, 0xf3, 0xf4, 0x0f, 0x0b, 0xf4, 0x89,
    0xe5, 0x8b, 0x46, 0x00, 0xa3, 0x00, 0x06, 0xf4,
};

static void set_ivt(Guest *g, int vec, uint16_t seg, uint16_t off)
{
    wr32(g, (uint32_t)vec * 4, off | (uint32_t)seg << 16);
}

START_TEST(real_mode_interrupt_through_ivt)
{
    Guest g = guest_new_engine(rm_code, sizeof(rm_code), _i);
    set_ivt(&g, 0x20, 0, 0x1004);
    TestPic pic = { .pending = false, .vector = 0x20 };
    g.cpu->board = &test_pic_ops;
    g.cpu->board_opaque = &pic;
    ck_assert_int_eq(run(&g), CPU_EXIT_BUDGET);
    ck_assert_uint_eq(g.cpu->rip, 0x1002);
    ck_assert(cpu_get_eflags(g.cpu) & EFL_IF);
    pic.pending = true;
    cpu_interrupt_request(g.cpu);
    ck_assert_int_eq(run(&g), CPU_EXIT_HALTED);
    ck_assert_uint_eq(g.m->ram[0x500], 0x42);
    /* frame: IP, CS, FLAGS (IF set) at 0x7ffa */
    ck_assert_uint_eq(g.cpu->regs[R_ESP], 0x8000 - 6);
    ck_assert_uint_eq(rd32(&g, 0x7ffa) & 0xffff, 0x1002);
    ck_assert(rd32(&g, 0x7ffe) & EFL_IF);
    ck_assert(!(cpu_get_eflags(g.cpu) & EFL_IF));
    unit_guest_free(&g);
}
END_TEST

START_TEST(interrupt_waits_for_if_and_sti_shadow)
{
    Guest g = guest_new_engine(rm_code, sizeof(rm_code), _i);
    set_ivt(&g, 0x20, 0, 0x1004);
    /* Pending from the start: STI delays it by one instruction, so the
     * NOP at 0x1001 runs first and the pushed IP is 0x1002. */
    TestPic pic = { .pending = true, .vector = 0x20 };
    g.cpu->board = &test_pic_ops;
    g.cpu->board_opaque = &pic;
    ck_assert_int_eq(run(&g), CPU_EXIT_HALTED);
    ck_assert_uint_eq(rd32(&g, 0x7ffa) & 0xffff, 0x1002);
    ck_assert_int_eq(pic.acks, 1);
    unit_guest_free(&g);
}
END_TEST

/* 0x1000: sti; inc ax; cli; jmp 0x1000 -- INC sits in the STI shadow. */
static const uint8_t sti_loop[] = { 0xfb, 0x40, 0xfa, 0xeb, 0xfb };

START_TEST(interrupt_shadow_blocks_are_cached)
{
    Guest g = guest_new_engine(sti_loop, sizeof(sti_loop), _i);
    g.cpu->insn_budget = 300;
    ck_assert_int_eq(cpu_exec(g.cpu, INT64_MAX), CPU_EXIT_BUDGET);
    uint64_t after_first = g.cpu->translations;
    ck_assert_uint_gt(g.cpu->regs[R_EAX] & 0xffff, 50);   /* looped */
    g.cpu->insn_budget = 3000;
    ck_assert_int_eq(cpu_exec(g.cpu, INT64_MAX), CPU_EXIT_BUDGET);
    /* the one-instruction shadow block is reused, not translated again */
    ck_assert_uint_eq(g.cpu->translations, after_first);
    ck_assert_uint_gt(g.cpu->regs[R_EAX] & 0xffff, 500);
    unit_guest_free(&g);
}
END_TEST

START_TEST(self_modifying_code_runs_new_instruction)
{
    Guest g = guest_new_engine(rm_code, sizeof(rm_code), _i);
    g.cpu->rip = 0x100a;
    ck_assert_int_eq(run(&g), CPU_EXIT_HALTED);
    /* first pass adds 1, the second runs the patched "mov $5, al" */
    ck_assert_uint_eq(g.cpu->regs[R_EBX] & 0xff, 6);
    ck_assert_uint_eq(g.m->ram[0x1010], 5);
    ck_assert_uint_eq(g.cpu->regs[R_ECX] & 0xffff, 0);
    unit_guest_free(&g);
}
END_TEST

START_TEST(divide_error_pushes_faulting_ip)
{
    Guest g = guest_new_engine(rm_code, sizeof(rm_code), _i);
    set_ivt(&g, EXC_DE, 0, 0x1023);
    g.cpu->rip = 0x101b;
    g.cpu->regs[R_EAX] = 0x1234;
    ck_assert_int_eq(run(&g), CPU_EXIT_HALTED);
    ck_assert_int_eq(g.cpu->last_exception, EXC_DE);
    ck_assert_uint_eq(rd32(&g, 0x600) & 0xffff, 0x101d);   /* the DIV itself */
    ck_assert_uint_eq(g.cpu->regs[R_EAX] & 0xffff, 0x101d); /* AX from the frame */
    unit_guest_free(&g);
}
END_TEST

START_TEST(invalid_opcode_raises_ud)
{
    Guest g = guest_new_engine(rm_code, sizeof(rm_code), _i);
    set_ivt(&g, EXC_UD, 0, 0x1023);
    g.cpu->rip = 0x1020;
    ck_assert_int_eq(run(&g), CPU_EXIT_HALTED);
    ck_assert_int_eq(g.cpu->last_exception, EXC_UD);
    ck_assert_uint_eq(rd32(&g, 0x600) & 0xffff, 0x1020);
    unit_guest_free(&g);
}
END_TEST

/* A block entered with flags the translator does not know statically:
 * INC AX (0x7fff -> 0x8000: OF SF AF set, CF kept) whose flags only a
 * fault of the following CMP could show.  The CMP below writes every flag
 * and PUSHF must see the CMP's flags, not the pending INC's. */
static const uint8_t inc_then_cmp[] = {
    0x40,                               /* 0x1000 inc ax */
    0x83, 0x3e, 0x00, 0x05, 0x00,       /* 0x1001 cmp word [0x500], 0 */
    0x9c, 0x5b, 0xf4,                   /* 0x1006 pushf; pop bx; hlt */
    0x40,                               /* 0x1009 inc ax */
    0x83, 0x3e, 0xff, 0xff, 0x00,       /* 0x100a cmp word [0xffff], 0: #GP */
    0xf4,                               /* 0x100f hlt */
    0xf4,                               /* 0x1010 #GP handler: hlt */
};

START_TEST(pending_inc_flags_after_full_write)
{
    Guest g = guest_new_engine(inc_then_cmp, sizeof(inc_then_cmp), _i);
    wr32(&g, 0x500, 5);
    g.cpu->regs[R_EAX] = 0x7fff;
    cpu_load_eflags(g.cpu, CC_C, CC_C);
    ck_assert_int_eq(run(&g), CPU_EXIT_HALTED);
    /* CMP 5, 0: only PF (5 has two bits set) */
    ck_assert_uint_eq(g.cpu->regs[R_EBX] & CC_ALL, CC_P);
    ck_assert_uint_eq(g.cpu->regs[R_EAX] & 0xffff, 0x8000);
    unit_guest_free(&g);
}
END_TEST

START_TEST(pending_inc_flags_seen_by_fault_handler)
{
    Guest g = guest_new_engine(inc_then_cmp, sizeof(inc_then_cmp), _i);
    set_ivt(&g, EXC_GP, 0, 0x1010);
    g.cpu->rip = 0x1009;
    g.cpu->regs[R_EAX] = 0x7fff;
    cpu_load_eflags(g.cpu, CC_C, CC_C);
    ck_assert_int_eq(run(&g), CPU_EXIT_HALTED);
    ck_assert_int_eq(g.cpu->last_exception, EXC_GP);
    /* frame: IP of the CMP, CS, FLAGS of the INC with CF kept */
    ck_assert_uint_eq(rd32(&g, 0x7ffa) & 0xffff, 0x100a);
    ck_assert_uint_eq(rd32(&g, 0x7ffe) & CC_ALL, CC_C | CC_O | CC_S | CC_A | CC_P);
    ck_assert_uint_eq(cpu_get_eflags(g.cpu) & CC_ALL, CC_C | CC_O | CC_S | CC_A | CC_P);
    unit_guest_free(&g);
}
END_TEST

/* Blocks that read flags set by another block (entered from two places
 * with different cc_ops): the guessed-cc_op inline path and its fallback.
 *   0x1000 cmp ax,bx; je 0x100a | 0x1004 B: ja 0x1008; inc cx; hlt
 *   0x1008 inc dx; hlt | 0x100a hlt | 0x1020 test ax,ax; jmp B
 *   0x1030 cmp ax,bx; jb C; hlt | 0x1035 C: dec si; adc dx,0; hlt
 *   0x1040 stc; jmp C | 0x1048 clc; jmp C                              */
static const uint8_t guess_code[] = {
    0x39, 0xd8, 0x74, 0x06, 0x77, 0x02, 0x41, 0xf4, 0x42, 0xf4, 0xf4, 0x00,
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x85, 0xc0, 0xeb, 0xe0,
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
    0x39, 0xd8, 0x72, 0x01, 0xf4, 0x4e, 0x83, 0xd2, 0x00, 0xf4, 0x00, 0x00,
    0x00, 0x00, 0x00, 0x00, 0xf9, 0xeb, 0xf2, 0x00, 0x00, 0x00, 0x00, 0x00,
    0xf8, 0xeb, 0xea,
};

static void run_from(Guest *g, uint16_t ip, uint16_t ax, uint16_t bx)
{
    g->cpu->halted = false;
    g->cpu->rip = ip;
    g->cpu->regs[R_EAX] = ax;
    g->cpu->regs[R_EBX] = bx;
    ck_assert_int_eq(run(g), CPU_EXIT_HALTED);
}

START_TEST(flags_from_another_block_with_guessed_cc_op)
{
    Guest g = guest_new_engine(guess_code, sizeof(guess_code), _i);
    g.cpu->regs[R_ECX] = g.cpu->regs[R_EDX] = g.cpu->regs[R_ESI] = 0;
    run_from(&g, 0x1000, 5, 3);      /* B translated after CMP: 5 > 3 */
    ck_assert_uint_eq(g.cpu->regs[R_EDX] & 0xffff, 1);
    run_from(&g, 0x1020, 0, 0);      /* B after TEST (not the guess): ZF */
    ck_assert_uint_eq(g.cpu->regs[R_ECX] & 0xffff, 1);
    run_from(&g, 0x1000, 2, 3);      /* the guess again: 2 < 3 */
    ck_assert_uint_eq(g.cpu->regs[R_ECX] & 0xffff, 2);
    run_from(&g, 0x1020, 7, 0);      /* TEST, ZF clear: above */
    ck_assert_uint_eq(g.cpu->regs[R_EDX] & 0xffff, 2);

    run_from(&g, 0x1030, 1, 2);      /* C translated after CMP, CF=1 */
    ck_assert_uint_eq(g.cpu->regs[R_EDX] & 0xffff, 3);
    run_from(&g, 0x1040, 0, 0);      /* STC: not the guess */
    ck_assert_uint_eq(g.cpu->regs[R_EDX] & 0xffff, 4);
    run_from(&g, 0x1048, 0, 0);      /* CLC */
    ck_assert_uint_eq(g.cpu->regs[R_EDX] & 0xffff, 4);
    run_from(&g, 0x1030, 1, 2);
    ck_assert_uint_eq(g.cpu->regs[R_EDX] & 0xffff, 5);
    run_from(&g, 0x1030, 3, 2);      /* CF=0: JB not taken, C not run */
    ck_assert_uint_eq(g.cpu->regs[R_EDX] & 0xffff, 5);
    ck_assert_uint_eq(g.cpu->regs[R_ESI] & 0xffff, 0x10000 - 4);
    unit_guest_free(&g);
}
END_TEST

/* BT in a block of its own keeps the five flags it does not define from
 * the block before (the glibc stdio lock check `bt dword [rdi], 0xc; jb`
 * starts a block): all six flags inline when a logic op, ADD or SUB of any
 * size set them or the op guessed when D was translated (INC in the third
 * run), the helper after other ops (INC in the first).  LAHF and SETO show
 * what BT left.
 *   0x1000 cmp ax,bx; jmp D | 0x1020 test ax,ax; jmp D | 0x1030 add ax,bx; jmp D
 *   0x1040 test al,al; jmp D | 0x1050 inc ax; jmp D
 *   0x1010 D: bt cx,0; lahf; seto dl; hlt                                  */
static const uint8_t bt_guess_code[] = {
    0x39, 0xd8, 0xeb, 0x0c, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
    0x00, 0x00, 0x00, 0x00, 0x0f, 0xba, 0xe1, 0x00, 0x9f, 0x0f, 0x90, 0xc2,
    0xf4, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x85, 0xc0, 0xeb, 0xec,
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
    0x01, 0xd8, 0xeb, 0xdc, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
    0x00, 0x00, 0x00, 0x00, 0x84, 0xc0, 0xeb, 0xcc, 0x00, 0x00, 0x00, 0x00,
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x40, 0xeb, 0xbd,
};

static void check_bt_after(Guest *g, uint16_t ip, uint16_t ax, uint16_t bx, uint16_t cx)
{
    uint32_t op = ip == 0x1000 ? CC_OP_SUB + 1 : ip == 0x1020 ? CC_OP_LOGIC + 1
                : ip == 0x1040 ? CC_OP_LOGIC : ip == 0x1050 ? CC_OP_INC + 1 : CC_OP_ADD + 1;
    uint16_t r = ip == 0x1000 ? (uint16_t)(ax - bx) : ip == 0x1020 ? ax
               : ip == 0x1040 ? (uint8_t)ax : ip == 0x1050 ? (uint16_t)(ax + 1)
               : (uint16_t)(ax + bx);
    uint32_t f = cpu_cc_compute_all(op, r, ip == 0x1000 || ip == 0x1030 ? bx : 0, 0);
    f = (f & ~(uint32_t)CC_C) | (cx & 1);
    g->cpu->regs[R_ECX] = cx;
    g->cpu->regs[R_EDX] = 0x5a5a;
    run_from(g, ip, ax, bx);
    ck_assert_uint_eq((g->cpu->regs[R_EAX] >> 8) & 0xff, (f & 0xd5) | 2);   /* LAHF */
    ck_assert_uint_eq(g->cpu->regs[R_EDX] & 0xff, (f & CC_O) ? 1 : 0);     /* SETO */
}

START_TEST(bt_keeps_flags_from_another_block)
{
    Guest g = guest_new_engine(bt_guess_code, sizeof(bt_guess_code), _i);
    check_bt_after(&g, 0x1000, 0x8000, 1, 1);     /* after CMP: OF AF PF */
    check_bt_after(&g, 0x1000, 3, 3, 0);          /* ZF PF */
    check_bt_after(&g, 0x1000, 1, 2, 0);          /* SF AF PF, CF from BT */
    check_bt_after(&g, 0x1020, 0x80, 0, 1);       /* TEST */
    check_bt_after(&g, 0x1030, 0x7fff, 1, 0);     /* ADD: OF AF */
    check_bt_after(&g, 0x1030, 0xffff, 2, 1);     /* ADD: carry out (replaced by BT) */
    check_bt_after(&g, 0x1050, 0x7fff, 0, 0);     /* INC: the helper; OF */
    check_bt_after(&g, 0x1050, 0xffff, 0, 1);     /* INC: ZF AF */
    check_bt_after(&g, 0x1000, 0x7fff, 0xffff, 1);  /* OF SF */
    unit_guest_free(&g);

    g = guest_new_engine(bt_guess_code, sizeof(bt_guess_code), _i);
    check_bt_after(&g, 0x1020, 0x8000, 0, 0);     /* 16-bit TEST: SF */
    check_bt_after(&g, 0x1040, 0x8000, 0, 1);     /* 8-bit TEST: ZF PF (not SF) */
    check_bt_after(&g, 0x1040, 0x0080, 0, 0);     /* 8-bit: SF */
    check_bt_after(&g, 0x1040, 0x0103, 0, 1);     /* 8-bit: PF from 0x03 */
    check_bt_after(&g, 0x1000, 5, 3, 1);          /* CMP */
    check_bt_after(&g, 0x1020, 0x0100, 0, 0);     /* 16-bit: not ZF */
    unit_guest_free(&g);

    g = guest_new_engine(bt_guess_code, sizeof(bt_guess_code), _i);
    check_bt_after(&g, 0x1050, 0x0001, 0, 1);     /* D translated after INC: the guess */
    check_bt_after(&g, 0x1050, 0x7fff, 0, 0);     /* the guess: OF SF AF PF */
    check_bt_after(&g, 0x1040, 0x0000, 0, 1);     /* TEST: ZF PF */
    check_bt_after(&g, 0x1050, 0xffff, 0, 0);     /* the guess: ZF AF PF */
    unit_guest_free(&g);
}
END_TEST

START_TEST(lazy_flags_match_direct_computation)
{
    /* ADD 0x7f + 1 (8-bit): OF, SF, AF set; ZF, CF clear. */
    uint32_t f = cpu_cc_compute_all(CC_OP_ADD + 0, 0x80, 1, 0);
    ck_assert_uint_eq(f & (CC_O | CC_S | CC_A | CC_Z | CC_C), CC_O | CC_S | CC_A);
    /* SUB 0 - 1 (16-bit): CF, SF, AF, PF set */
    f = cpu_cc_compute_all(CC_OP_SUB + 1, 0xffff, 1, 0);
    ck_assert_uint_eq(f, CC_C | CC_S | CC_A | CC_P);
    /* ADC 0xffffffff + 0 + carry: result 0, CF and ZF */
    f = cpu_cc_compute_all(CC_OP_ADC + 2, 0, 0, 1);
    ck_assert(f & CC_C);
    ck_assert(f & CC_Z);
}
END_TEST

/* ---- protected-mode system tests (code at 0x2000, assembled with GNU as):
 *   0x2100 task_main:   lcall $0x28,$0; hlt
 *   0x2200 task_b:      movl %ebx,0x5040; pushf; pop %eax; movl %eax,0x5044; iret
 *   0x2300 ac_user:     movl $0x5001,%ebx; movl (%ebx),%eax; hlt
 *   0x2340 handler_err: pop %eax; movl %eax,0x5050; hlt
 *   0x2380 seg_test:    movw $0x30,%ax; movw %ax,%es; movl %es:0x0,%eax; hlt
 *   0x23c0 nm_test:     fnop; hlt                                        */
static const struct { uint32_t addr; uint8_t len; uint8_t bytes[16]; } sys_code[] = {
    { 0x2100, 8, { 0x9a, 0x00, 0x00, 0x00, 0x00, 0x28, 0x00, 0xf4 } },
    { 0x2200, 14, { 0x89, 0x1d, 0x40, 0x50, 0x00, 0x00, 0x9c, 0x58, 0xa3, 0x44, 0x50, 0x00,
                    0x00, 0xcf } },
    { 0x2300, 8, { 0xbb, 0x01, 0x50, 0x00, 0x00, 0x8b, 0x03, 0xf4 } },
    { 0x2340, 7, { 0x58, 0xa3, 0x50, 0x50, 0x00, 0x00, 0xf4 } },
    { 0x2380, 13, { 0x66, 0xb8, 0x30, 0x00, 0x8e, 0xc0, 0x26, 0xa1, 0x00, 0x00, 0x00, 0x00,
                    0xf4 } },
    { 0x23c0, 3, { 0xd9, 0xd0, 0xf4 } },
};

static uint64_t seg_desc(uint32_t base, uint32_t limit, uint8_t access, uint8_t flags)
{
    return (limit & 0xffff) | (uint64_t)(base & 0xffffff) << 16 | (uint64_t)access << 40 |
           (uint64_t)((limit >> 16) & 0xf) << 48 | (uint64_t)(flags & 0xf) << 52 |
           (uint64_t)(base >> 24) << 56;
}

/* Flat protected mode (enter_protected) plus: the code above, a GDT with
 * the main TSS 0x20 (busy, at 0x3000, ESP0 0x9000), task B's TSS 0x28 (at
 * 0x3100), a data segment 0x30 with base 0x5000 and limit 0, ring-3 code
 * 0x3b and data 0x43; TR = 0x20. */
static Guest enter_protected_sys(int engine)
{
    Guest g = enter_protected(engine);
    for (size_t i = 0; i < sizeof(sys_code) / sizeof(sys_code[0]); i++)
        memcpy(g.m->ram + sys_code[i].addr, sys_code[i].bytes, sys_code[i].len);
    wr64(&g, 0x1e20, seg_desc(0x3000, 0x67, 0x8b, 0));
    wr64(&g, 0x1e28, seg_desc(0x3100, 0x67, 0x89, 0));
    wr64(&g, 0x1e30, seg_desc(0x5000, 0, 0x92, 0x4));
    wr64(&g, 0x1e38, seg_desc(0, 0xfffff, 0xfa, 0xc));
    wr64(&g, 0x1e40, seg_desc(0, 0xfffff, 0xf2, 0xc));
    cpu_set_gdt(g.cpu, 0x1e00, 0x47);
    wr32(&g, 0x3004, 0x9000);        /* ESP0 */
    wr32(&g, 0x3008, 0x10);          /* SS0 */
    cpu_set_seg(g.cpu, R_TR, 0x20, 0x3000, 0x67, SEG_P | 11u << 8);
    g.cpu->halted = false;
    return g;
}

START_TEST(task_switch_call_and_iret_through_the_link)
{
    Guest g = enter_protected_sys(_i);
    CPUState *cpu = g.cpu;
    /* task B: EIP, EFLAGS, EBX, ESP, ES CS SS DS, FS/GS null, no LDT */
    wr32(&g, 0x3100 + 32, 0x2200);
    wr32(&g, 0x3100 + 36, 0x2);
    wr32(&g, 0x3100 + 52, 0xb0b0b0b0);
    wr32(&g, 0x3100 + 56, 0x7000);
    wr32(&g, 0x3100 + 72, 0x10);
    wr32(&g, 0x3100 + 76, 0x08);
    wr32(&g, 0x3100 + 80, 0x10);
    wr32(&g, 0x3100 + 84, 0x10);
    cpu->regs[R_EBX] = 0x1234;
    cpu->rip = 0x2100;
    ck_assert_int_eq(run(&g), CPU_EXIT_HALTED);
    /* SDM 3A 7.3: B ran with its own registers and NT set by the CALL */
    ck_assert_uint_eq(rd32(&g, 0x5040), 0xb0b0b0b0u);
    ck_assert(rd32(&g, 0x5044) & EFL_NT);
    /* back in the main task after the HLT that follows the CALL */
    ck_assert_uint_eq(cpu->rip, 0x2108);
    ck_assert_uint_eq(cpu->seg[R_TR].selector, 0x20);
    ck_assert_uint_eq(cpu->regs[R_EBX], 0x1234);           /* reloaded from the main TSS */
    ck_assert(!(cpu_get_eflags(cpu) & EFL_NT));
    ck_assert(cpu->cr[0] & CR0_TS);                         /* every switch sets TS */
    ck_assert_uint_eq(rd32(&g, 0x3100) & 0xffff, 0x20);     /* B's previous-task link */
    ck_assert_uint_eq((rd32(&g, 0x1e2c) >> 8) & 0xf, 9);    /* IRET cleared B's busy bit */
    ck_assert_uint_eq((rd32(&g, 0x1e24) >> 8) & 0xf, 0xb);  /* main stays busy */
    ck_assert_uint_eq(rd32(&g, 0x3000 + 32), 0x2107);       /* main's EIP: after the CALL */
    ck_assert_uint_eq(rd32(&g, 0x3100 + 32), 0x220e);       /* B's EIP: after its IRET */
    ck_assert_uint_eq(rd32(&g, 0x3100 + 56), 0x7000);
    unit_guest_free(&g);
}
END_TEST

START_TEST(task_switch_to_busy_tss_is_gp_with_selector)
{
    Guest g = enter_protected_sys(_i);
    set_gate32(&g, EXC_GP, 0x2340);
    wr64(&g, 0x1e28, seg_desc(0x3100, 0x67, 0x8b, 0));      /* B busy */
    g.cpu->rip = 0x2100;
    ck_assert_int_eq(run(&g), CPU_EXIT_HALTED);
    ck_assert_int_eq(g.cpu->last_exception, EXC_GP);
    ck_assert_uint_eq(rd32(&g, 0x5050), 0x28);
    ck_assert_uint_eq(g.cpu->seg[R_TR].selector, 0x20);
    ck_assert(!(g.cpu->cr[0] & CR0_TS));                    /* nothing switched */
    unit_guest_free(&g);
}
END_TEST

START_TEST(alignment_check_in_ring3_through_32bit_tss_stack)
{
    Guest g = enter_protected_sys(_i);
    CPUState *cpu = g.cpu;
    set_gate32(&g, EXC_AC, 0x2340);
    const uint32_t dpl3 = 3u << SEG_DPL_SHIFT;
    cpu_set_cr(cpu, 0, cpu->cr[0] | CR0_AM);
    cpu_set_seg(cpu, R_CS, 0x3b, 0, 0xffffffffu,
                SEG_P | SEG_S | SEG_CODE | SEG_W | SEG_A | SEG_B | SEG_G | dpl3);
    for (int s = R_ES; s <= R_DS; s++)
        if (s != R_CS)
            cpu_set_seg(cpu, s, 0x43, 0, 0xffffffffu,
                        SEG_P | SEG_S | SEG_W | SEG_A | SEG_B | SEG_G | dpl3);
    cpu_set_eflags(cpu, 0x2 | EFL_AC);
    cpu->regs[R_ESP] = 0x8000;
    cpu->regs[R_EAX] = 0x55;
    cpu->rip = 0x2300;
    ck_assert_int_eq(run(&g), CPU_EXIT_HALTED);
    /* SDM 3A 6.15: misaligned load at CPL 3 with AM and AC: #AC(0); the
     * handler runs on the ring-0 stack from the 32-bit TSS (ESP0 0x9000). */
    ck_assert_int_eq(cpu->last_exception, EXC_AC);
    ck_assert_uint_eq(rd32(&g, 0x5050), 0);
    ck_assert_uint_eq(cpu->regs[R_EAX], 0);          /* the handler's pop */
    ck_assert_uint_eq(rd32(&g, 0x9000 - 20), 0x2305); /* EIP of the faulting MOV */
    ck_assert_uint_eq(cpu->seg[R_CS].selector, 0x08);
    unit_guest_free(&g);
}
END_TEST

START_TEST(dword_access_to_limit_zero_segment_is_gp)
{
    Guest g = enter_protected_sys(_i);
    set_gate32(&g, EXC_GP, 0x2340);
    g.cpu->regs[R_EAX] = 0x11110000;
    g.cpu->rip = 0x2380;
    ck_assert_int_eq(run(&g), CPU_EXIT_HALTED);
    /* SDM 3A 5.3: bytes 1-3 of the dword are beyond limit 0 */
    ck_assert_int_eq(g.cpu->last_exception, EXC_GP);
    ck_assert_uint_eq(rd32(&g, 0x5050), 0);
    ck_assert_uint_eq(g.cpu->seg[R_ES].selector, 0x30);
    unit_guest_free(&g);
}
END_TEST

START_TEST(x87_with_cr0_ts_raises_nm)
{
    Guest g = enter_protected_sys(_i);
    set_gate32(&g, EXC_NM, 0x2340);
    cpu_set_cr(g.cpu, 0, g.cpu->cr[0] | CR0_TS);
    g.cpu->rip = 0x23c0;
    ck_assert_int_eq(run(&g), CPU_EXIT_HALTED);
    ck_assert_int_eq(g.cpu->last_exception, EXC_NM);
    ck_assert_uint_eq(rd32(&g, 0x5050), 0x23c0);   /* no error code: the pop is EIP */
    unit_guest_free(&g);
}
END_TEST

/* ---- 16-bit stacks (SS.B=0) in 32-bit code, ENTER, 286 TSSs ----
 * Code at 0x2400 (GNU as, .code32):
 *   0x2400 enter16:  enter $8,$3; hlt; leave; hlt
 *   0x2410 stack16:  push %eax; pusha; popa; pushf; popf; call 1f;
 *                    1: pop %ecx; lcall $8,$0x2460; pop %ebx; pushw $0x1234;
 *                    popw %dx; pushfl; pushl %cs; pushl $0x2431; iretl;
 *                    0x2431: int $0x40; mov %esp,%esi; hlt
 *   0x2460 far:      lret
 *   0x2461 isr:      iretl
 *   0x2470 uenter:   enter $0x1000,$1; hlt
 *   0x2480 task16:   hlt; iret; hlt                                       */
static const uint8_t stack16_code[] = {
    0xc8, 0x08, 0x00, 0x03, 0xf4, 0xc9, 0xf4, 0x00, 0x00, 0x00, 0x00, 0x00,
    0x00, 0x00, 0x00, 0x00, 0x50, 0x60, 0x61, 0x9c, 0x9d, 0xe8, 0x00, 0x00,
    0x00, 0x00, 0x59, 0x9a, 0x60, 0x24, 0x00, 0x00, 0x08, 0x00, 0x5b, 0x66,
    0x68, 0x34, 0x12, 0x66, 0x5a, 0x9c, 0x0e, 0x68, 0x31, 0x24, 0x00, 0x00,
    0xcf, 0xcd, 0x40, 0x89, 0xe6, 0xf4, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
    0xcb, 0xcf, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
    0x00, 0x00, 0x00, 0x00, 0xc8, 0x00, 0x10, 0x01, 0xf4, 0x00, 0x00, 0x00,
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0xf4, 0xcf, 0xf4,
};

#define SS16_BASE 0x10000u

/* Flat ring-0 protected mode with SS a 16-bit (B=0) data segment at
 * SS16_BASE, limit 0xffff, and the stack16_code above at 0x2400. */
static Guest enter_stack16(int engine)
{
    Guest g = enter_protected_sys(engine);
    memcpy(g.m->ram + 0x2400, stack16_code, sizeof(stack16_code));
    cpu_set_seg(g.cpu, R_SS, 0x10, SS16_BASE, 0xffff, SEG_P | SEG_S | SEG_W | SEG_A);
    ck_assert(!(g.cpu->hflags & HF_SS32));
    return g;
}

/* SDM 2A ENTER: "the stack-size attribute determines whether BP (16 bits)
 * or EBP (32 bits) is the frame pointer and whether SP or ESP is the stack
 * pointer": with a 32-bit operand size on a 16-bit stack, the upper halves
 * of EBP and ESP stay as they were.  LEAVE: SP <- BP, then EBP <- Pop(). */
START_TEST(enter_and_leave_on_16bit_stack_in_32bit_code)
{
    Guest g = enter_stack16(_i);
    CPUState *cpu = g.cpu;
    cpu->regs[R_EBP] = 0x00010080;
    cpu->regs[R_ESP] = 0x00010000;       /* SP 0: the first push wraps */
    wr32(&g, SS16_BASE + 0x7c, 0xaaaa0001);
    wr32(&g, SS16_BASE + 0x78, 0xbbbb0002);
    cpu->rip = 0x2400;
    ck_assert_int_eq(run(&g), CPU_EXIT_HALTED);
    ck_assert_uint_eq(rd32(&g, SS16_BASE + 0xfffc), 0x00010080);   /* old EBP */
    ck_assert_uint_eq(rd32(&g, SS16_BASE + 0xfff8), 0xaaaa0001);   /* from [BP-4] */
    ck_assert_uint_eq(rd32(&g, SS16_BASE + 0xfff4), 0xbbbb0002);   /* from [BP-8] */
    ck_assert_uint_eq(rd32(&g, SS16_BASE + 0xfff0) & 0xffff, 0xfffc);  /* the frame */
    ck_assert_uint_eq(cpu->regs[R_EBP], 0x0001fffc);
    ck_assert_uint_eq(cpu->regs[R_ESP], 0x0001ffe8);
    cpu->halted = false;
    ck_assert_int_eq(run(&g), CPU_EXIT_HALTED);                    /* leave */
    ck_assert_uint_eq(cpu->regs[R_EBP], 0x00010080);
    ck_assert_uint_eq(cpu->regs[R_ESP], 0x00010000);
    ck_assert_uint_eq(cpu->rip, 0x2407);
    unit_guest_free(&g);
}
END_TEST

/* Every stack access in 32-bit code addresses SS:SP and updates only SP
 * when SS.B=0 (SDM 1 6.2.3, 3A 5.x): PUSH/POP, PUSHA/POPA, PUSHF/POPF,
 * near and far CALL/RET, IRET and an interrupt through a 32-bit gate. */
START_TEST(stack_instructions_on_16bit_stack_in_32bit_code)
{
    Guest g = enter_stack16(_i);
    CPUState *cpu = g.cpu;
    set_gate32(&g, 0x40, 0x2461);
    cpu->regs[R_EAX] = 0xa5a50001;
    cpu->regs[R_ESP] = 0x12340000;
    cpu->rip = 0x2410;
    ck_assert_int_eq(run(&g), CPU_EXIT_HALTED);
    ck_assert_uint_eq(cpu->rip, 0x2436);
    ck_assert_uint_eq(cpu->regs[R_ESP], 0x12340000);
    ck_assert_uint_eq(cpu->regs[R_ESI], 0x12340000);       /* after the interrupt */
    ck_assert_uint_eq(cpu->regs[R_EAX], 0xa5a50001);       /* POPA */
    ck_assert_uint_eq(cpu->regs[R_ECX], 0x241a);           /* near CALL's return EIP */
    ck_assert_uint_eq(cpu->regs[R_EBX], 0xa5a50001);       /* PUSH EAX after CALL/RET far */
    ck_assert_uint_eq(cpu->regs[R_EDX] & 0xffff, 0x1234);
    /* the interrupt frame: EFLAGS, CS, EIP below SP 0 */
    ck_assert_uint_eq(rd32(&g, SS16_BASE + 0xfff4), 0x2433);
    ck_assert_uint_eq(rd32(&g, SS16_BASE + 0xfff8) & 0xffff, 0x08);
    ck_assert_uint_eq(rd32(&g, SS16_BASE + 0xffe8), 0x1234fffc);   /* PUSHA's ESP */
    unit_guest_free(&g);
}
END_TEST

/* SDM 2A ENTER, protected-mode exceptions: "#PF if a page fault occurs or
 * if a write using the final value of the stack pointer would cause a page
 * fault".  The fault comes before ENTER changes anything: no pushes in
 * memory, EBP and ESP as they were (the user ESP in the ring-0 frame). */
START_TEST(enter_faults_before_changing_anything)
{
    Guest g = enter_protected_sys(_i);
    CPUState *cpu = g.cpu;
    memcpy(g.m->ram + 0x2400, stack16_code, sizeof(stack16_code));
    set_gate32(&g, EXC_PF, 0x2340);
    /* identity map 4 MiB for user mode, except 0x6000: supervisor only */
    wr32(&g, 0x10000, 0x11000 | 7);
    for (uint32_t i = 0; i < 1024; i++)
        wr32(&g, 0x11000 + i * 4, i * 4096 | (i == 6 ? 3 : 7));
    cpu_set_cr(cpu, 3, 0x10000);
    cpu_set_cr(cpu, 0, cpu->cr[0] | CR0_PG);
    const uint32_t dpl3 = 3u << SEG_DPL_SHIFT;
    cpu_set_seg(cpu, R_CS, 0x3b, 0, 0xffffffffu,
                SEG_P | SEG_S | SEG_CODE | SEG_W | SEG_A | SEG_B | SEG_G | dpl3);
    for (int s = R_ES; s <= R_DS; s++)
        if (s != R_CS)
            cpu_set_seg(cpu, s, 0x43, 0, 0xffffffffu,
                        SEG_P | SEG_S | SEG_W | SEG_A | SEG_B | SEG_G | dpl3);
    wr32(&g, 0x7004, 0x11111111);
    wr32(&g, 0x7000, 0x22222222);
    cpu->regs[R_EBP] = 0x7100;
    cpu->regs[R_ESP] = 0x7008;
    cpu->rip = 0x2470;
    ck_assert_int_eq(run(&g), CPU_EXIT_HALTED);
    ck_assert_int_eq(cpu->last_exception, EXC_PF);
    ck_assert_uint_eq(rd32(&g, 0x5050), 7);          /* P W U */
    ck_assert_uint_eq(cpu->cr[2], 0x6000);           /* the final ESP */
    ck_assert_uint_eq(rd32(&g, 0x7004), 0x11111111);
    ck_assert_uint_eq(rd32(&g, 0x7000), 0x22222222);
    ck_assert_uint_eq(cpu->regs[R_EBP], 0x7100);
    ck_assert_uint_eq(rd32(&g, 0x9000 - 8), 0x7008);     /* user ESP in the frame */
    ck_assert_uint_eq(rd32(&g, 0x9000 - 20), 0x2470);    /* EIP of the ENTER */
    /* with the page user-accessible, the same ENTER completes (and the
     * HLT after it is #GP at CPL 3) */
    set_gate32(&g, EXC_GP, 0x2340);
    wr32(&g, 0x11000 + 6 * 4, 0x6000 | 7);
    cpu_set_cr(cpu, 3, 0x10000);
    cpu_set_seg(cpu, R_CS, 0x3b, 0, 0xffffffffu,
                SEG_P | SEG_S | SEG_CODE | SEG_W | SEG_A | SEG_B | SEG_G | dpl3);
    cpu_set_seg(cpu, R_SS, 0x43, 0, 0xffffffffu,
                SEG_P | SEG_S | SEG_W | SEG_A | SEG_B | SEG_G | dpl3);
    cpu->regs[R_ESP] = 0x7008;
    cpu->rip = 0x2470;
    cpu->halted = false;
    ck_assert_int_eq(run(&g), CPU_EXIT_HALTED);
    ck_assert_int_eq(cpu->last_exception, EXC_GP);
    ck_assert_uint_eq(rd32(&g, 0x9000 - 20), 0x2474);    /* the HLT */
    ck_assert_uint_eq(rd32(&g, 0x7004), 0x7100);
    ck_assert_uint_eq(rd32(&g, 0x7000), 0x7004);
    ck_assert_uint_eq(cpu->regs[R_EBP], 0x7004);
    ck_assert_uint_eq(rd32(&g, 0x9000 - 8), 0x6000);     /* the new user ESP */
    unit_guest_free(&g);
}
END_TEST

/* 16-bit TSS field offsets (SDM 3A Figure 7-11). */
enum { T16_IP = 14, T16_FLAGS = 16, T16_REGS = 18, T16_ES = 34, T16_CS = 36, T16_SS = 38,
       T16_DS = 40, T16_LDT = 42 };

/* SDM 3A 7.6: a task switch to a 16-bit TSS loads only the low words of
 * the general registers ("the upper 16 bits are undefined" is how the SDM
 * puts it; processors leave them as they were, and so does this model);
 * the save into an outgoing 16-bit TSS writes only its 16-bit fields. */
START_TEST(task_switch_to_16bit_tss_loads_low_words)
{
    Guest g = enter_stack16(_i);
    CPUState *cpu = g.cpu;
    cpu_set_seg(cpu, R_SS, 0x10, 0, 0xffffffffu, SEG_P | SEG_S | SEG_W | SEG_A | SEG_B | SEG_G);
    wr64(&g, 0x1e28, seg_desc(0x3100, 0x2b, 0x81, 0));   /* 16-bit TSS, available */
    memset(g.m->ram + 0x3100, 0xee, 0x40);
    wr32(&g, 0x3100, 0);
    uint16_t w;
    w = 0x2480; memcpy(g.m->ram + 0x3100 + T16_IP, &w, 2);
    w = 0x0002; memcpy(g.m->ram + 0x3100 + T16_FLAGS, &w, 2);
    for (int r = 0; r < 8; r++) {
        w = (uint16_t)(0x1120 + r);
        memcpy(g.m->ram + 0x3100 + T16_REGS + 2 * r, &w, 2);
    }
    w = 0x10; memcpy(g.m->ram + 0x3100 + T16_ES, &w, 2);
    w = 0x08; memcpy(g.m->ram + 0x3100 + T16_CS, &w, 2);
    w = 0x10; memcpy(g.m->ram + 0x3100 + T16_SS, &w, 2);
    w = 0x10; memcpy(g.m->ram + 0x3100 + T16_DS, &w, 2);
    w = 0;    memcpy(g.m->ram + 0x3100 + T16_LDT, &w, 2);
    for (int r = 0; r < 8; r++)
        cpu->regs[r] = 0xffff0000u | (uint32_t)(0x10 * r);
    cpu->regs[R_ESP] = 0xffff8000u;      /* only the low word is an address */
    cpu_set_seg(cpu, R_SS, 0x10, 0, 0xffff, SEG_P | SEG_S | SEG_W | SEG_A);
    cpu->rip = 0x2100;                   /* lcall $0x28,$0; hlt */
    ck_assert_int_eq(run(&g), CPU_EXIT_HALTED);
    ck_assert_uint_eq(cpu->seg[R_TR].selector, 0x28);
    ck_assert_uint_eq(cpu->rip, 0x2481);
    for (int r = 0; r < 8; r++)
        ck_assert_uint_eq(cpu->regs[r], 0xffff0000u | (uint32_t)(0x1120 + r));
    /* B changes its registers, then IRET (NT) saves them into its 16-bit
     * TSS and returns to the 32-bit main task */
    cpu->regs[R_EAX] = 0x77778888;
    cpu->halted = false;
    ck_assert_int_eq(run(&g), CPU_EXIT_HALTED);
    ck_assert_uint_eq(cpu->seg[R_TR].selector, 0x20);
    ck_assert_uint_eq(cpu->rip, 0x2108);
    memcpy(&w, g.m->ram + 0x3100 + T16_IP, 2);
    ck_assert_uint_eq(w, 0x2482);
    memcpy(&w, g.m->ram + 0x3100 + T16_REGS, 2);
    ck_assert_uint_eq(w, 0x8888);
    memcpy(&w, g.m->ram + 0x3100 + T16_REGS + 2, 2);
    ck_assert_uint_eq(w, 0x1121);
    /* nothing past the 16-bit TSS's last field was written */
    ck_assert_uint_eq(rd32(&g, 0x3100 + 44), 0xeeeeeeee);
    /* back in the 32-bit task: all 32 bits from its TSS */
    ck_assert_uint_eq(cpu->regs[R_EBX], rd32(&g, 0x3000 + 52));
    unit_guest_free(&g);
}
END_TEST

/* IRET with NT back to a 16-bit task: only the low words come from its
 * TSS, the upper halves are what the 32-bit task left in the registers. */
START_TEST(iret_to_16bit_task_keeps_upper_register_halves)
{
    Guest g = enter_protected_sys(_i);
    CPUState *cpu = g.cpu;
    /* the main task runs on a 16-bit TSS at 0x3000 (busy), B is 32-bit */
    wr64(&g, 0x1e20, seg_desc(0x3000, 0x2b, 0x83, 0));
    cpu_set_seg(cpu, R_TR, 0x20, 0x3000, 0x2b, SEG_P | 3u << 8);
    wr32(&g, 0x3100 + 32, 0x2200);
    wr32(&g, 0x3100 + 36, 0x2);
    for (int r = 0; r < 8; r++)
        wr32(&g, 0x3100 + 40 + 4 * r, 0xb0b00000u | (uint32_t)r);
    wr32(&g, 0x3100 + 56, 0x7000);
    wr32(&g, 0x3100 + 72, 0x10);
    wr32(&g, 0x3100 + 76, 0x08);
    wr32(&g, 0x3100 + 80, 0x10);
    wr32(&g, 0x3100 + 84, 0x10);
    for (int r = 0; r < 8; r++)
        cpu->regs[r] = 0x12340000u | (uint32_t)(0x100 * r);
    cpu->regs[R_ESP] = 0x9000;
    cpu->rip = 0x2100;
    ck_assert_int_eq(run(&g), CPU_EXIT_HALTED);
    ck_assert_uint_eq(rd32(&g, 0x5040), 0xb0b00003u);     /* B's EBX */
    ck_assert_uint_eq(cpu->seg[R_TR].selector, 0x20);
    ck_assert_uint_eq(cpu->rip, 0x2108);
    /* B left EAX = its EFLAGS (pushf; pop %eax); the rest as loaded */
    ck_assert_uint_eq(cpu->regs[R_EBX], 0xb0b00300u);
    ck_assert_uint_eq(cpu->regs[R_ESP], 0x00009000u);     /* B's 0x7000 upper half is 0 */
    ck_assert_uint_eq(cpu->regs[R_EDI], 0xb0b00700u);
    ck_assert_uint_eq(cpu->regs[R_EAX] & 0xffff, 0);      /* AX from the 16-bit TSS */
    unit_guest_free(&g);
}
END_TEST

/* INS/OUTS use the same I/O permission check as IN/OUT (SDM 1 19.5.2):
 * a 16-bit TSS has no I/O bitmap, so at CPL > IOPL every port is #GP(0). */
START_TEST(string_io_with_16bit_tss_is_gp)
{
    /* 0x2340: handler (pop -> 0x5050; hlt).  0x2500: outsb; hlt */
    static const uint8_t outsb[] = { 0x6e, 0xf4 };
    Guest g = enter_protected_sys(_i);
    CPUState *cpu = g.cpu;
    memcpy(g.m->ram + 0x2500, outsb, sizeof(outsb));
    set_gate32(&g, EXC_GP, 0x2340);
    /* a 16-bit TSS of limit 0x67 (104 bytes) at 0x3000: large enough for
     * the 32-bit TSS's bitmap field, which a 16-bit TSS does not have */
    wr64(&g, 0x1e20, seg_desc(0x3000, 0x67, 0x83, 0));
    cpu_set_seg(cpu, R_TR, 0x20, 0x3000, 0x67, SEG_P | 3u << 8);
    wr32(&g, 0x3002, 0x9000);      /* SP0 */
    wr32(&g, 0x3004, 0x10);        /* SS0 */
    memset(g.m->ram + 0x3010, 0, 0x58);   /* bitmap offset 0, all ports allowed */
    const uint32_t dpl3 = 3u << SEG_DPL_SHIFT;
    cpu_set_seg(cpu, R_CS, 0x3b, 0, 0xffffffffu,
                SEG_P | SEG_S | SEG_CODE | SEG_W | SEG_A | SEG_B | SEG_G | dpl3);
    for (int s = R_ES; s <= R_DS; s++)
        if (s != R_CS)
            cpu_set_seg(cpu, s, 0x43, 0, 0xffffffffu,
                        SEG_P | SEG_S | SEG_W | SEG_A | SEG_B | SEG_G | dpl3);
    cpu->regs[R_EDX] = 0x80;
    cpu->regs[R_ESI] = 0x5000;
    cpu->regs[R_ESP] = 0x8000;
    cpu->rip = 0x2500;
    ck_assert_int_eq(run(&g), CPU_EXIT_HALTED);
    ck_assert_int_eq(cpu->last_exception, EXC_GP);
    ck_assert_uint_eq(rd32(&g, 0x5050), 0);
    ck_assert_uint_eq(cpu->regs[R_ESI], 0x5000);          /* OUTSB did not run */
    ck_assert_uint_eq(rd32(&g, 0x9000 - 20), 0x2500);     /* #GP at the OUTSB */
    unit_guest_free(&g);
}
END_TEST

static Suite *cpu_suite(void)
{
    Suite *s = suite_create("cpu");
    TCase *tc = tcase_create("core");
    tcase_add_loop_test(tc, protected_mode_entry_and_flat_code, 0, 2);
    tcase_add_loop_test(tc, paging_page_fault_cr2_and_error_code, 0, 2);
    tcase_add_loop_test(tc, gp_on_bad_selector_has_selector_error_code, 0, 2);
    tcase_add_loop_test(tc, long_mode_entry_64bit_code_and_idt_interrupt, 0, 2);
    tcase_add_loop_test(tc, real_mode_interrupt_through_ivt, 0, 2);
    tcase_add_loop_test(tc, interrupt_waits_for_if_and_sti_shadow, 0, 2);
    tcase_add_loop_test(tc, self_modifying_code_runs_new_instruction, 0, 2);
    tcase_add_loop_test(tc, divide_error_pushes_faulting_ip, 0, 2);
    tcase_add_loop_test(tc, invalid_opcode_raises_ud, 0, 2);
    tcase_add_loop_test(tc, task_switch_call_and_iret_through_the_link, 0, 2);
    tcase_add_loop_test(tc, task_switch_to_busy_tss_is_gp_with_selector, 0, 2);
    tcase_add_loop_test(tc, alignment_check_in_ring3_through_32bit_tss_stack, 0, 2);
    tcase_add_loop_test(tc, dword_access_to_limit_zero_segment_is_gp, 0, 2);
    tcase_add_loop_test(tc, x87_with_cr0_ts_raises_nm, 0, 2);
    tcase_add_loop_test(tc, tlb_slot_conflicts_and_invlpg, 0, 2);
    tcase_add_loop_test(tc, pending_inc_flags_after_full_write, 0, 2);
    tcase_add_loop_test(tc, flags_from_another_block_with_guessed_cc_op, 0, 2);
    tcase_add_loop_test(tc, bt_keeps_flags_from_another_block, 0, 2);
    tcase_add_loop_test(tc, interrupt_shadow_blocks_are_cached, 0, 2);
    tcase_add_loop_test(tc, pending_inc_flags_seen_by_fault_handler, 0, 2);
    tcase_add_loop_test(tc, exec_returns_for_timer_armed_by_guest, 0, 2);
    tcase_add_loop_test(tc, budget_exits_from_chained_blocks_keep_rip, 0, 2);
    tcase_add_loop_test(tc, enter_and_leave_on_16bit_stack_in_32bit_code, 0, 2);
    tcase_add_loop_test(tc, stack_instructions_on_16bit_stack_in_32bit_code, 0, 2);
    tcase_add_loop_test(tc, enter_faults_before_changing_anything, 0, 2);
    tcase_add_loop_test(tc, task_switch_to_16bit_tss_loads_low_words, 0, 2);
    tcase_add_loop_test(tc, iret_to_16bit_task_keeps_upper_register_halves, 0, 2);
    tcase_add_loop_test(tc, string_io_with_16bit_tss_is_gp, 0, 2);
    tcase_add_test(tc, lazy_flags_match_direct_computation);
    suite_add_tcase(s, tc);
    return s;
}

UNIT_SUITE(cpu_suite)
