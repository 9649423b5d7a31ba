/*
 * The translator with several CPUs on one machine, each run by cpu_exec on
 * its own host thread (cpu/smp.h): LOCK-prefixed instructions are atomic
 * across threads, a store by one CPU into code another CPU has translated
 * reaches the other CPU, and the request mailbox works across threads.
 *
 * The guest programs are assembled by the host assembler from the
 * instruction text below (64-bit mode, identity-mapped with 2 MiB pages),
 * so their meaning is the SDM's, not ours.  Expected results are
 * arithmetic on the iteration count: a lost update anywhere changes them.
 */
#include <pthread.h>
#include <string.h>

#include "core/machine.h"
#include "cpu/cpu.h"
#include "cpu/smp.h"
#include "tests/unit/unit.h"

#define RAM (4u << 20)
#define CODE 0x1000
#define DATA 0x100000
#define SMC_PAGE 0x3000

/* LOCK stress, per CPU: rdi = CPU number (0/1), r8 = DATA, r11 = iterations.
 *   0   lock add                     8  lock xadd (32-bit; olds summed in r9)
 *   16  lock cmpxchg loop (+1)      32  lock cmpxchg16b loop (lo +1, hi +2)
 *   48  lock bts/btr of the CPU's bit (r10 counts wrong old bits)
 *   56  xchg spinlock around a plain increment of 64
 *   72  lock inc + lock dec          80  lock dec (16-bit)
 *   88  lock sub 3                   96  lock neg twice
 *   104 lock not                    112 lock xor 0xff
 *   120 stc; lock adc 1 (adds 2)    128 + 8n: r9 of CPU n, 144 + 8n: r10 */
__asm__(".pushsection .rodata\n"
        ".globl smp_lock_prog\n"
        ".globl smp_lock_prog_end\n"
        ".code64\n"
        "smp_lock_prog:\n"
        "  xor %r9, %r9\n"
        "  xor %r10, %r10\n"
        "1:\n"
        "  lock addq $1, 0(%r8)\n"
        "  mov $1, %eax\n"
        "  lock xaddl %eax, 8(%r8)\n"
        "  add %rax, %r9\n"
        "  mov 16(%r8), %rax\n"
        "2:\n"
        "  lea 1(%rax), %rdx\n"
        "  lock cmpxchgq %rdx, 16(%r8)\n"
        "  jne 2b\n"
        "  mov 32(%r8), %rax\n"
        "  mov 40(%r8), %rdx\n"
        "3:\n"
        "  lea 1(%rax), %rbx\n"
        "  lea 2(%rdx), %rcx\n"
        "  lock cmpxchg16b 32(%r8)\n"
        "  jne 3b\n"
        "  lock btsq %rdi, 48(%r8)\n"
        "  adc $0, %r10\n"
        "  lock btrq %rdi, 48(%r8)\n"
        "  cmc\n"
        "  adc $0, %r10\n"
        "4:\n"
        "  mov $1, %eax\n"
        "  xchg %eax, 56(%r8)\n"
        "  test %eax, %eax\n"
        "  jnz 4b\n"
        "  incq 64(%r8)\n"
        "  movl $0, 56(%r8)\n"
        "  lock incl 72(%r8)\n"
        "  lock decl 72(%r8)\n"
        "  lock decw 80(%r8)\n"
        "  lock subq $3, 88(%r8)\n"
        "  lock negq 96(%r8)\n"
        "  lock negq 96(%r8)\n"
        "  lock notq 104(%r8)\n"
        "  lock xorq $0xff, 112(%r8)\n"
        "  stc\n"
        "  lock adcq $1, 120(%r8)\n"
        "  dec %r11\n"
        "  jnz 1b\n"
        "  mov %r9, 128(%r8,%rdi,8)\n"
        "  mov %r10, 144(%r8,%rdi,8)\n"
        "  hlt\n"
        "smp_lock_prog_end:\n"
        /* Cross-CPU code modification.  The runner (CPU 1) calls the
         * function at SMC_PAGE (initially "mov $1, %eax; ret") until it
         * returns 2, raising a flag at DATA+0x200 once it has run it; the
         * patcher (CPU 0) first writes a data byte on the same page (a
         * writable TLB entry older than the code), waits for the flag,
         * then rewrites the immediate to 2.  r11 bounds the runner. */
        ".globl smp_runner_prog\n"
        ".globl smp_runner_prog_end\n"
        "smp_runner_prog:\n"
        "  mov $0x3000, %rbx\n"
        "5:\n"
        "  call *%rbx\n"
        "  movl $1, 0x100200\n"
        "  cmp $2, %eax\n"
        "  je 6f\n"
        "  dec %r11\n"
        "  jnz 5b\n"
        "  movl $0xdead, 0x100208\n"
        "  hlt\n"
        "6:\n"
        "  movl $0x600d, 0x100208\n"
        "  hlt\n"
        "smp_runner_prog_end:\n"
        ".globl smp_patcher_prog\n"
        ".globl smp_patcher_prog_end\n"
        "smp_patcher_prog:\n"
        "  movb $0x55, 0x3800\n"
        "  movl $1, 0x100204\n"
        "7:\n"
        "  cmpl $0, 0x100200\n"
        "  je 7b\n"
        "  movb $2, 0x3001\n"
        "  hlt\n"
        "smp_patcher_prog_end:\n"
        /* PAUSE spin.  The waiter (CPU 1) raises DATA+0x300, then spins
         * with PAUSE until DATA+0x308 is set, counting rounds in r9; the
         * setter (CPU 0) waits for the raise, burns r11 rounds, sets it. */
        ".globl smp_pause_waiter\n"
        ".globl smp_pause_waiter_end\n"
        "smp_pause_waiter:\n"
        "  xor %r9, %r9\n"
        "  movl $1, 0x100300\n"
        "8:\n"
        "  inc %r9\n"
        "  pause\n"
        "  cmpl $0, 0x100308\n"
        "  je 8b\n"
        "  hlt\n"
        "smp_pause_waiter_end:\n"
        ".globl smp_pause_setter\n"
        ".globl smp_pause_setter_end\n"
        "smp_pause_setter:\n"
        "9:\n"
        "  cmpl $0, 0x100300\n"
        "  je 9b\n"
        "10:\n"
        "  dec %r11\n"
        "  jnz 10b\n"
        "  movl $1, 0x100308\n"
        "  hlt\n"
        "smp_pause_setter_end:\n"
        ".globl smp_func\n"
        ".globl smp_func_end\n"
        "smp_func:\n"
        "  mov $1, %eax\n"
        "  ret\n"
        "smp_func_end:\n"
        ".popsection\n");

extern const uint8_t smp_lock_prog[], smp_lock_prog_end[];
extern const uint8_t smp_runner_prog[], smp_runner_prog_end[];
extern const uint8_t smp_patcher_prog[], smp_patcher_prog_end[];
extern const uint8_t smp_func[], smp_func_end[];
extern const uint8_t smp_pause_waiter[], smp_pause_waiter_end[];
extern const uint8_t smp_pause_setter[], smp_pause_setter_end[];

static const char *const engines[] = { "interp", "x86_64" };

typedef struct SMP {
    Machine *m;
    CPUState *cpu[2];
} SMP;

static void wr64(SMP *g, uint32_t a, uint64_t v) { memcpy(g->m->ram + a, &v, 8); }
static uint64_t rd64(SMP *g, uint32_t a) { uint64_t v; memcpy(&v, g->m->ram + a, 8); return v; }

/* 64-bit mode on both CPUs: 0-4 MiB identity-mapped with 2 MiB pages. */
static void smp_long_mode(SMP *g, CPUState *cpu)
{
    cpu_set_gdt(cpu, 0x1e00, 31);
    cpu_set_cr(cpu, 4, CR4_PAE);
    cpu_set_cr(cpu, 3, 0x10000);
    cpu_set_efer(cpu, EFER_LME);
    cpu_set_cr(cpu, 0, CR0_PE | CR0_PG | CR0_ET);
    uint32_t data = SEG_P | SEG_S | SEG_W | SEG_A | SEG_G | SEG_B;
    cpu_set_seg(cpu, R_CS, 0x18, 0, 0xffffffff,
                SEG_P | SEG_S | SEG_CODE | SEG_W | SEG_A | SEG_G | SEG_L);
    cpu_set_seg(cpu, R_SS, 0x10, 0, 0xffffffff, data);
    cpu_set_seg(cpu, R_DS, 0x10, 0, 0xffffffff, data);
    cpu_set_seg(cpu, R_ES, 0x10, 0, 0xffffffff, data);
    ck_assert(cpu->efer & EFER_LMA);
}

static SMP smp_new(int engine)
{
    char err[128];
    SMP g;
    g.m = machine_new(RAM, CLOCK_MANUAL, err, sizeof(err));
    ck_assert_ptr_nonnull(g.m);
    ck_assert_ptr_nonnull(memmap_add_ram(g.m->mem, "ram", 0, RAM, g.m->ram, NULL));
    wr64(&g, 0x10000, 0x11000 | 3);
    wr64(&g, 0x11000, 0x12000 | 3);
    wr64(&g, 0x12000, 0x000000 | 0x83);
    wr64(&g, 0x12008, 0x200000 | 0x83);
    wr64(&g, 0x1e00, 0);
    wr64(&g, 0x1e08, 0x00cf9a000000ffffULL);
    wr64(&g, 0x1e10, 0x00cf92000000ffffULL);
    wr64(&g, 0x1e18, 0x00af9a000000ffffULL);
    for (int i = 0; i < 2; i++) {
        CPUConfig cfg = CPU_CONFIG_DEFAULT;
        cfg.engine = engines[engine];
        g.cpu[i] = cpu_create(g.m, i, &cfg, err, sizeof(err));
        ck_assert_msg(g.cpu[i] != NULL, "%s", err);
        cpu_reset(g.cpu[i]);
        smp_long_mode(&g, g.cpu[i]);
        g.cpu[i]->regs[R_ESP] = 0x9000 - 0x1000 * (uint64_t)i;
    }
    return g;
}

static void smp_free(SMP *g)
{
    for (int i = 0; i < 2; i++)
        cpu_free(g->cpu[i]);
    ck_assert_ptr_null(g->m->cpu_shared);     /* the last CPU took it away */
    machine_free(g->m);
}

typedef struct Runner {
    CPUState *cpu;
    pthread_barrier_t *start;
} Runner;

static void *run_until_halt(void *opaque)
{
    Runner *rn = opaque;
    CPUState *cpu = rn->cpu;
    pthread_barrier_wait(rn->start);     /* both start together */
    for (;;) {
        int r = cpu_exec(cpu, INT64_MAX);
        if (r != CPU_EXIT_BUDGET)
            return (void *)(intptr_t)r;
    }
}

/* Runs both CPUs on two host threads until both halt. */
static void smp_run(SMP *g)
{
    pthread_t t[2];
    pthread_barrier_t start;
    Runner rn[2];
    pthread_barrier_init(&start, NULL, 2);
    for (int i = 0; i < 2; i++) {
        rn[i] = (Runner){ g->cpu[i], &start };
        ck_assert_int_eq(pthread_create(&t[i], NULL, run_until_halt, &rn[i]), 0);
    }
    for (int i = 0; i < 2; i++) {
        void *r;
        pthread_join(t[i], &r);
        ck_assert_int_eq((int)(intptr_t)r, CPU_EXIT_HALTED);
    }
    pthread_barrier_destroy(&start);
}

START_TEST(smp_lock_ops_exact_across_threads)
{
    SMP g = smp_new(_i);
    const uint64_t n = _i ? 400000 : 40000;    /* the interpreter is slower */
    memcpy(g.m->ram + CODE, smp_lock_prog, (size_t)(smp_lock_prog_end - smp_lock_prog));
    wr64(&g, DATA + 96, 5);
    wr64(&g, DATA + 104, 0x1234);
    for (int i = 0; i < 2; i++) {
        CPUState *c = g.cpu[i];
        c->rip = CODE;
        c->regs[R_EDI] = (uint64_t)i;
        c->regs[8] = DATA;
        c->regs[11] = n;
    }
    smp_run(&g);
    uint64_t total = 2 * n;
    ck_assert_uint_eq(rd64(&g, DATA + 0), total);
    ck_assert_uint_eq(rd64(&g, DATA + 8), total);          /* upper half stays 0 */
    /* every xadd got a distinct old value: they sum to 0 + 1 + ... + 2n-1 */
    ck_assert_uint_eq(rd64(&g, DATA + 128) + rd64(&g, DATA + 136), total * (total - 1) / 2);
    ck_assert_uint_eq(rd64(&g, DATA + 16), total);
    ck_assert_uint_eq(rd64(&g, DATA + 32), total);
    ck_assert_uint_eq(rd64(&g, DATA + 40), 2 * total);
    ck_assert_uint_eq(rd64(&g, DATA + 48), 0);
    ck_assert_uint_eq(rd64(&g, DATA + 144), 0);
    ck_assert_uint_eq(rd64(&g, DATA + 152), 0);
    ck_assert_uint_eq(rd64(&g, DATA + 64), total);         /* the spinlock held */
    ck_assert_uint_eq(rd64(&g, DATA + 56), 0);
    ck_assert_uint_eq(rd64(&g, DATA + 72), 0);
    ck_assert_uint_eq(rd64(&g, DATA + 80), (uint16_t)-total);
    ck_assert_uint_eq(rd64(&g, DATA + 88), (uint64_t)-(3 * total));
    ck_assert_uint_eq(rd64(&g, DATA + 96), 5);
    ck_assert_uint_eq(rd64(&g, DATA + 104), 0x1234);
    ck_assert_uint_eq(rd64(&g, DATA + 112), 0);
    ck_assert_uint_eq(rd64(&g, DATA + 120), 2 * total);
    smp_free(&g);
}
END_TEST

/* One CPU rewrites an instruction of a function the other CPU translated
 * and keeps calling: the other CPU runs the new instruction. */
START_TEST(smp_cross_cpu_code_modification)
{
    SMP g = smp_new(_i);
    memcpy(g.m->ram + CODE, smp_patcher_prog,
           (size_t)(smp_patcher_prog_end - smp_patcher_prog));
    memcpy(g.m->ram + 0x2000, smp_runner_prog, (size_t)(smp_runner_prog_end - smp_runner_prog));
    memcpy(g.m->ram + SMC_PAGE, smp_func, (size_t)(smp_func_end - smp_func));
    g.cpu[0]->rip = CODE;
    g.cpu[1]->rip = 0x2000;
    g.cpu[1]->regs[11] = _i ? 200000000 : 20000000;   /* seconds, not forever */
    smp_run(&g);
    ck_assert_uint_eq(g.m->ram[SMC_PAGE + 1], 2);
    ck_assert_uint_eq(rd64(&g, DATA + 0x208) & 0xffffffff, 0x600d);
    ck_assert_uint_eq(g.cpu[1]->regs[R_EAX], 2);
    smp_free(&g);
}
END_TEST

/* A CPU spinning on PAUSE with a thread of its own (pause_spin_yield, as
 * -accel tcg,thread=multi sets it) for far longer than SMP_PAUSE_SPIN_NS
 * yields its host core, and still leaves the loop when the flag is set;
 * without the flag PAUSE stays a NOP that never yields.  Loop index: engine
 * * 2 + whether the flag is set. */
START_TEST(smp_pause_spin_yields)
{
    int engine = _i / 2;
    bool yield = _i & 1;
    SMP g = smp_new(engine);
    memcpy(g.m->ram + CODE, smp_pause_setter,
           (size_t)(smp_pause_setter_end - smp_pause_setter));
    memcpy(g.m->ram + 0x2000, smp_pause_waiter,
           (size_t)(smp_pause_waiter_end - smp_pause_waiter));
    for (int i = 0; i < 2; i++)
        g.cpu[i]->pause_spin_yield = yield;
    g.cpu[0]->rip = CODE;
    g.cpu[0]->regs[11] = engine ? 20000000 : 2000000;   /* tens of ms of spinning */
    g.cpu[1]->rip = 0x2000;
    smp_run(&g);
    ck_assert_uint_eq(rd64(&g, DATA + 0x308) & 0xffffffff, 1);
    ck_assert_uint_gt(g.cpu[1]->regs[9], 0);
    if (yield)
        ck_assert_uint_gt(g.cpu[1]->pause_host_yields, 0);
    else
        ck_assert_uint_eq(g.cpu[1]->pause_host_yields, 0);
    smp_free(&g);
}
END_TEST

/* Requests posted from another thread are carried out by the target's own
 * loop; whole flushes coalesce; more page requests than the queue holds
 * degrade to a full flush. */
START_TEST(smp_mailbox_requests)
{
    SMP g = smp_new(1);
    CPUState *c = g.cpu[1];
    ck_assert(!cpu_has_requests(c));
    cpu_async_request(c, CPU_REQ_FLUSH_ALL_TBS, 0);
    cpu_async_request(c, CPU_REQ_FLUSH_ALL_TBS, 0);
    ck_assert(cpu_has_requests(c));
    ck_assert_int_lt(c->exit_budget, 0);            /* kicked */
    ck_assert_uint_eq(c->mbox->n, 1);
    for (int i = 0; i < CPU_REQ_QUEUE + 4; i++)
        cpu_async_request(c, CPU_REQ_FLUSH_TLB_PAGE, 0x1000 * (uint64_t)i);
    ck_assert(c->mbox->overflow);
    /* run one HLT: the loop drains the mailbox first */
    g.m->ram[CODE] = 0xf4;
    c->rip = CODE;
    ck_assert_int_eq(cpu_exec(c, INT64_MAX), CPU_EXIT_HALTED);
    ck_assert(!cpu_has_requests(c));
    ck_assert(!c->mbox->overflow);
    ck_assert_uint_eq(c->mbox->n, 0);
    /* A20 from another thread: applied by the CPU's loop, latest wins */
    cpu_async_request(c, CPU_REQ_SET_A20, 0);
    cpu_async_request(c, CPU_REQ_SET_A20, 1);
    cpu_async_request(c, CPU_REQ_SET_A20, 0);
    c->rip = CODE;
    ck_assert_int_eq(cpu_exec(c, INT64_MAX), CPU_EXIT_HALTED);
    ck_assert_uint_eq(c->a20_mask, ~(1u << 20));
    smp_free(&g);
}
END_TEST

/* The machine's code-page record follows each CPU's blocks, and a DMA
 * write to a page holding code posts the invalidation to its CPU only
 * when the written bytes ever held code. */
START_TEST(smp_code_record_and_dma)
{
    SMP g = smp_new(_i);
    CPUState *c = g.cpu[1];
    CPUShared *sh = g.m->cpu_shared;
    g.m->ram[CODE] = 0xf4;
    c->rip = CODE;
    ck_assert_int_eq(cpu_exec(c, INT64_MAX), CPU_EXIT_HALTED);
    ck_assert_uint_eq(sh->code_cpus[CODE >> 12], 1u << 1);
    ck_assert(smp_ram_page_has_code(g.cpu[0], CODE));
    ck_assert(!cpu_has_requests(c));
    memmap_write(g.m->mem, CODE + 0x800, 0x90, 1);    /* data beside the code */
    ck_assert(!cpu_has_requests(c));
    memmap_write(g.m->mem, CODE, 0x90, 1);            /* the HLT itself */
    ck_assert(cpu_has_requests(c));
    g.m->ram[CODE] = 0xf4;
    ck_assert_int_eq(cpu_exec(c, INT64_MAX), CPU_EXIT_HALTED);   /* drains, translates again */
    cpu_flush_code(c);
    ck_assert_uint_eq(sh->code_cpus[CODE >> 12], 0);
    ck_assert(!smp_ram_page_has_code(g.cpu[0], CODE));
    smp_free(&g);
}
END_TEST

static Suite *smp_suite(void)
{
    Suite *s = suite_create("smp");
    TCase *tc = tcase_create("smp");
    tcase_set_timeout(tc, 120);
    tcase_add_loop_test(tc, smp_lock_ops_exact_across_threads, 0, 2);
    tcase_add_loop_test(tc, smp_cross_cpu_code_modification, 0, 2);
    tcase_add_test(tc, smp_mailbox_requests);
    tcase_add_loop_test(tc, smp_pause_spin_yields, 0, 4);
    tcase_add_loop_test(tc, smp_code_record_and_dma, 0, 2);
    suite_add_tcase(s, tc);
    return s;
}

UNIT_SUITE(smp_suite)
