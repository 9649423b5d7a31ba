/*
 * The CPU execution loop.
 *
 * cpu_exec() repeats: deliver a pending exception, check NMI/INTR (the
 * board's intr_pending/intr_ack, cpu->board), find the translation block for
 * (cs base + rip, hflags) in the jump cache or the TB cache (translating it
 * on a miss), run it through the engine, and chain the block it left
 * through a goto_tb slot to the next one.  Guest exceptions leave
 * translated code by siglongjmp back here (cpu_raise_exception), with rip
 * restored to the faulting instruction from the engine's insn_start
 * record; the loop then delivers them through the IVT/IDT, turning a fault
 * during delivery into #DF and a fault during #DF into a shutdown.
 *
 * HLT returns CPU_EXIT_HALTED so the main loop can run timers; the next
 * cpu_exec() wakes the CPU when an interrupt is deliverable.
 *
 * Instruction counting (-icount, cpu_icount_enable): every block subtracts
 * its instruction count from icount_budget at entry (and exits instead
 * when that would go negative), so the count of completed instructions is
 * exact wherever a block ends; a fault in mid-block gives back the
 * instructions that did not run (the insn_start word, or icount_unexec
 * stored before a helper that can fault).  The budget ends exactly at the
 * next timer deadline (and at icount_stop_at: a replay's next event): a
 * block longer than what is left runs as a shorter uncached copy.  What
 * the guest sees must not depend on where blocks begin and end (a
 * debugger's single steps, a restored snapshot and the two engines cut
 * blocks differently), so under -icount:
 *  - an instruction that touches a device (IN/OUT/INS/OUTS, RDMSR/WRMSR,
 *    RDTSC/RDTSCP/RDPMC, and the other serialising or block-ending ones:
 *    POPF, IRET, STI, MOV CR...) ends its block and returns to the loop, so
 *    an interrupt it raised or unmasked is taken right after it, and the
 *    clock it reads counts exactly the instructions before it and itself;
 *  - an MMIO access from an instruction that is not the last of its block
 *    restarts that instruction as a one-instruction block (nothing of it
 *    is visible yet), so MMIO too happens only at the end of a block;
 *  - the loop looks at stop requests, deadlines and replay events only
 *    after it delivered the interrupts due at that boundary, just before
 *    running the next block: every return to the main loop is at such a
 *    point, which a replay finds again by count alone.
 */
#include "cpu/exec.h"
#include "cpu/disas.h"

#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <fcntl.h>
#include <unistd.h>

#include "core/log.h"
#include "core/util.h"
#include "cpu/debug.h"
#include "cpu/mmu.h"
#include "cpu/smp.h"
#include "cpu/translate.h"
#include "tcg/optimize.h"
#include "tcg/tb.h"

#define EXIT_BUDGET_BLOCKS 4096

const IREngine *cpu_select_engine(const char *name)
{
    if (!name || !strcmp(name, "interp"))
        return &ir_engine_interp;
#if defined(__x86_64__)
    if (!strcmp(name, "x86_64"))
        return &ir_engine_x86_64;
#endif
    return NULL;
}

/* A page gained its first or lost its last block of this CPU: the
 * machine's record follows (cpu/smp.h), and this CPU's writable TLB
 * entries of the page take the slow path while any CPU has code there. */
static void exec_page_code_changed(void *opaque, uint64_t phys_page, bool code)
{
    CPUState *cpu = opaque;
    if (code) {
        smp_code_page_add(cpu, phys_page);
        mmu_set_code_page(cpu, phys_page, true);
    } else if (smp_code_page_remove(cpu, phys_page)) {
        mmu_set_code_page(cpu, phys_page, false);
    }
}

static const TBCacheOwner exec_tb_owner = {
    .page_code_changed = exec_page_code_changed,
};

/* VX86_PERFMAP=1: name every native block in /tmp/perf-PID.map (the
 * format `perf report` reads for JIT code) by its guest linear pc.  Each
 * CPU appends whole lines with one write() (O_APPEND), so the vCPU
 * threads of one process share the file without interleaving lines. */
static void exec_perfmap_open(CPUState *cpu)
{
    const char *e = getenv("VX86_PERFMAP");
    cpu->perfmap_fd = -1;
    if (!e || !*e || *e == '0')
        return;
    char path[64];
    snprintf(path, sizeof(path), "/tmp/perf-%d.map", (int)getpid());
    cpu->perfmap_fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
}

static void exec_perfmap_add(CPUState *cpu, const TB *tb, void *code)
{
    if (cpu->perfmap_fd < 0)
        return;
    size_t len = 0;
    const uint8_t *hc = cpu->engine->host_code(cpu->engine_ctx, code, &len);
    if (!hc)
        return;
    char line[96];
    int n = snprintf(line, sizeof(line), "%" PRIxPTR " %zx guest_%" PRIx64 "\n", (uintptr_t)hc,
                     len, tb->pc);
    if (n > 0 && (size_t)n < sizeof(line) && write(cpu->perfmap_fd, line, (size_t)n) < 0)
        return;     /* a profiling aid: a failed write loses one name */
}

bool cpu_exec_init(CPUState *cpu, const IREngine *e, char *err, size_t errlen)
{
    static const IREngineTarget tmpl = { .tlb_offset = offsetof(CPUState, tlb),
                                         .mem = &x86_guest_mem };
    cpu->engine = e;
    cpu->engine_ctx = e->create(&tmpl);
    if (!cpu->engine_ctx) {
        snprintf(err, errlen, "cannot start the %s execution engine", e->name);
        return false;
    }
    /* before the cache: DMA writes to RAM reach every CPU's blocks
     * through the machine's code-page record (cpu/smp.c) */
    smp_attach(cpu);
    exec_perfmap_open(cpu);
    cpu->tbs = tb_cache_new(e, cpu->engine_ctx, &exec_tb_owner, cpu);
    cpu->tr = x86_translator_new();
    if (cpu->machine && cpu->machine->mem && cpu->machine->io) {
        cpu->mmio_accesses = memmap_device_accesses(cpu->machine->mem);
        cpu->pio_accesses = iospace_device_accesses(cpu->machine->io);
    }
    return true;
}

void cpu_exec_destroy(CPUState *cpu)
{
    if (cpu->clock_alarm_set)
        clock_set_alarm(cpu->machine->clock, NULL, NULL);
    cpu->clock_alarm_set = false;
    tb_cache_free(cpu->tbs);
    cpu->tbs = NULL;
    if (cpu->mbox)
        smp_detach(cpu);
    if (cpu->perfmap_fd >= 0)
        close(cpu->perfmap_fd);
    cpu->perfmap_fd = -1;
    x86_translator_free(cpu->tr);
    cpu->tr = NULL;
    if (cpu->engine_ctx)
        cpu->engine->destroy(cpu->engine_ctx);
    cpu->engine_ctx = NULL;
}

void cpu_flush_code(CPUState *cpu)
{
    if (cpu->tbs)
        tb_flush(cpu->tbs);
}

/* ---- instruction counting (see the top) ---- */

uint64_t cpu_icount(const CPUState *cpu)
{
    return cpu->icount + (uint64_t)(int64_t)(cpu->icount_budget_start - cpu->icount_budget);
}

/* Folds what the blocks consumed into icount. */
static void icount_fold(CPUState *cpu)
{
    cpu->icount = cpu_icount(cpu);
    cpu->icount_budget_start = cpu->icount_budget;
}

void cpu_set_icount(CPUState *cpu, uint64_t count)
{
    cpu->icount = count;
    cpu->icount_budget_start = cpu->icount_budget;
}

static uint64_t icount_clock_source(void *opaque)
{
    return cpu_icount(opaque);
}

/* A device armed an earlier timer: leave translated code at the next
 * block entry so the budget is cut to the new deadline. */
static void icount_deadline_moved(void *opaque)
{
    CPUState *cpu = opaque;
    __atomic_store_n(&cpu->exit_budget, -1, __ATOMIC_RELAXED);
}

void cpu_icount_enable(CPUState *cpu)
{
    cpu->icount_mode = true;
    cpu->exit_budget = 0;
    cpu->icount_budget = cpu->icount_budget_start = 0;
    if (cpu->tbs)
        tb_flush(cpu->tbs);        /* blocks get the counting prologue */
    if (cpu->machine) {
        clock_set_counter(cpu->machine->clock, icount_clock_source, cpu);
        clock_set_deadline_notify(cpu->machine->clock, icount_deadline_moved, cpu);
    }
}

/* Sets the budget to the instructions left before the next deadline or
 * stop point.  Returns a CPU_EXIT_* when the loop must return first, -1
 * to run. */
static int icount_prepare(CPUState *cpu, int64_t deadline_ns)
{
    Machine *m = cpu->machine;
    if (__atomic_load_n(&cpu->stop, __ATOMIC_SEQ_CST) || (m && m->stop_requested)) {
        __atomic_store_n(&cpu->stop, false, __ATOMIC_SEQ_CST);
        return CPU_EXIT_STOPPED;
    }
    icount_fold(cpu);
    uint64_t limit = cpu->icount_stop_at;
    if (m && m->icount_stop_at < limit)
        limit = m->icount_stop_at;
    if (m) {
        int64_t dl = clock_next_deadline(m->clock);
        if (deadline_ns < dl)
            dl = deadline_ns;
        uint64_t at = clock_icount_at(m->clock, dl);
        if (at < limit)
            limit = at;
    }
    if (cpu->icount >= limit)
        return CPU_EXIT_BUDGET;
    uint64_t left = limit - cpu->icount;
    cpu->icount_budget = cpu->icount_budget_start = left > INT32_MAX ? INT32_MAX : (int32_t)left;
    return -1;
}

/* A device access by an instruction that is not the last of its block
 * (ra: the engine's return address, 0 from a helper, which stored
 * icount_unexec): restart it as a block of its own. */
void cpu_icount_io_check(CPUState *cpu, uintptr_t ra)
{
    if (!cpu->icount_mode || !cpu->in_tb)
        return;
    /* Nothing changes when it goes on: rip is the block's business. */
    uint64_t is[2] = { cpu->rip, (uint64_t)cpu->icount_unexec };
    if (ra && !cpu->engine->restore(cpu->engine_ctx, ra, is))
        return;
    if ((int32_t)is[1] <= 1)
        return;
    cpu->rip = is[0];
    cpu->icount_unexec = (int32_t)is[1];
    cpu->one_insn_next = true;
    cpu_loop_exit(cpu);
}

/* cpu_interrupt_request, cpu_stop and cpu_raise_nmi may come from any
 * thread (another vCPU's IPI, the main loop): atomic stores, then the kick. */
void cpu_interrupt_request(CPUState *cpu)
{
    __atomic_store_n(&cpu->intr_poll, true, __ATOMIC_SEQ_CST);
    __atomic_store_n(&cpu->exit_budget, -1, __ATOMIC_RELAXED);
}

/* The clock's alarm, in a signal handler: a timer deadline passed.  The
 * flag tells the loop to read the clock; the budget makes translated code
 * return to the loop at its next block entry, as a kick does.  A block
 * prologue that was between its load and store of exit_budget when the
 * signal came overwrites the -1: the flag stays, and the loop sees it at
 * its next visit (the old, polled behaviour, now the rare case). */
static void exec_clock_alarm(void *opaque)
{
    CPUState *cpu = opaque;
    cpu->clock_alarm = 1;
    __atomic_store_n(&cpu->exit_budget, -1, __ATOMIC_RELAXED);
}

void cpu_stop(CPUState *cpu)
{
    __atomic_store_n(&cpu->stop, true, __ATOMIC_SEQ_CST);
    cpu_interrupt_request(cpu);
}

void cpu_raise_nmi(CPUState *cpu)
{
    __atomic_store_n(&cpu->nmi_pending, true, __ATOMIC_SEQ_CST);
    cpu_interrupt_request(cpu);
}

uint64_t cpu_linear_pc(const CPUState *cpu)
{
    uint64_t pc = cpu->seg[R_CS].base + cpu->rip;
    return (cpu->hflags & HF_CS64) ? pc : (uint32_t)pc;
}

/* ---- exceptions ---- */

bool cpu_exception_has_error(int vec)
{
    switch (vec) {
    case EXC_DF: case EXC_TS: case EXC_NP: case EXC_SS: case EXC_GP: case EXC_PF:
    case EXC_AC: case 21:
        return true;
    default:
        return false;
    }
}

void cpu_restore_state(CPUState *cpu, uintptr_t ra)
{
    uint64_t is[2];
    if (ra && cpu->engine->restore(cpu->engine_ctx, ra, is)) {
        cpu->rip = is[0];
        if (cpu->icount_mode)
            cpu->icount_unexec = (int32_t)is[1];
    }
}

void cpu_loop_exit(CPUState *cpu)
{
    siglongjmp(cpu->jmp_env, 1);
}

void cpu_raise_exception(CPUState *cpu, int vec, uint32_t error_code, uintptr_t ra)
{
    if (ra)
        cpu_restore_state(cpu, ra);
    cpu->exc_pending = vec;
    cpu->exc_error = error_code;
    if (!cpu->in_exec) {
        /* Not under cpu_exec (a test poking helpers): record only. */
        fprintf(stderr, "vx86: CPU exception %d outside cpu_exec\n", vec);
        abort();
    }
    cpu_loop_exit(cpu);
}

void cpu_raise_exception_err(CPUState *cpu, int vec, uint32_t error_code)
{
    cpu_raise_exception(cpu, vec, error_code, 0);
}

static bool exc_contributory(int vec)
{
    return vec == EXC_DE || (vec >= EXC_TS && vec <= EXC_GP);
}

/* Delivers cpu->exc_pending, applying the double-fault rules.  Returns
 * false on a triple fault. */
static bool exec_deliver_exception(CPUState *cpu)
{
    int vec = cpu->exc_pending;
    uint32_t err = cpu->exc_error;
    int prev = cpu->exc_delivering;
    cpu->exc_pending = -1;
    if (prev >= 0) {
        if (prev == EXC_DF && (exc_contributory(vec) || vec == EXC_PF)) {
            LOG(LOG_INT, "int: triple fault: exception 0x%02x while delivering #DF\n", vec);
            cpu->shutdown = true;
            cpu->exc_delivering = -1;
            return false;
        }
        if ((exc_contributory(prev) && exc_contributory(vec)) ||
            (prev == EXC_PF && (exc_contributory(vec) || vec == EXC_PF))) {
            LOG(LOG_INT, "int: double fault: exception 0x%02x while delivering 0x%02x\n", vec, prev);
            vec = EXC_DF;
            err = 0;
        }
    }
    cpu->exc_delivering = vec;
    cpu->last_exception = vec;
    if (cpu->first_exception < 0)
        cpu->first_exception = vec;
    cpu->exception_count++;
    cpu->halted = false;
    cpu_do_interrupt(cpu, vec, false, cpu_exception_has_error(vec), err, cpu->rip);
    cpu->exc_delivering = -1;
    return true;
}

/* Could an external interrupt have become pending since a poll last found
 * none?  Controllers change state only when the guest touches a device
 * (port, MMIO: the machine's access counters; board MSRs set intr_poll)
 * or from timers and input, which run outside cpu_exec (whose entry sets
 * intr_poll).  Without a machine's counters, always ask. */
static bool exec_intr_may_be_pending(CPUState *cpu)
{
    if (!cpu->mmio_accesses)
        return true;
    /* bumped by whichever vCPU thread dispatched to a device */
    uint64_t n = __atomic_load_n(cpu->mmio_accesses, __ATOMIC_RELAXED) +
                 __atomic_load_n(cpu->pio_accesses, __ATOMIC_RELAXED);
    if (n != cpu->dev_accesses_seen) {
        cpu->dev_accesses_seen = n;
        cpu->intr_poll = true;
    }
    return cpu->intr_poll;
}

/* Delivers an NMI or an external interrupt when one is deliverable.
 * Returns true when it did. */
static bool exec_check_interrupts(CPUState *cpu)
{
    if (cpu->inhibit_irq) {
        if (cpu->rip == cpu->inhibit_rip && !cpu->halted)
            return false;
        cpu->inhibit_irq = false;
    }
    if (cpu->dbg && cpu_debug_irqs_held(cpu))
        return false;
    if (__atomic_load_n(&cpu->nmi_pending, __ATOMIC_SEQ_CST) &&
        __atomic_exchange_n(&cpu->nmi_pending, false, __ATOMIC_SEQ_CST)) {
        cpu->halted = false;
        cpu->exc_delivering = -2;
        cpu_do_interrupt(cpu, EXC_NMI, false, false, 0, cpu->rip);
        cpu->exc_delivering = -1;
        return true;
    }
    if (!(cpu->eflags & EFL_IF) || !cpu->board || !exec_intr_may_be_pending(cpu))
        return false;
    if (!cpu->board->intr_pending(cpu->board_opaque)) {
        cpu->intr_poll = false;   /* until a device is touched again */
        return false;
    }
    int vec = cpu->board->intr_ack ? cpu->board->intr_ack(cpu->board_opaque) : -1;
    cpu->intr_poll = true;        /* the acknowledge changed the controllers */
    if (vec < 0 || vec > 255)
        return false;
    cpu->halted = false;
    cpu->exc_delivering = -2;   /* faults while delivering it are not #DF */
    cpu_do_interrupt(cpu, vec, false, false, 0, cpu->rip);
    cpu->exc_delivering = -1;
    return true;
}

/* ---- self-modifying code ---- */

void cpu_smc_check(CPUState *cpu, uint64_t phys, unsigned size, uintptr_t ra)
{
    if (!tb_invalidate_phys_range(cpu->tbs, phys, size) || !cpu->in_tb)
        return;
    /* Is the running instruction on the page just written? */
    uint64_t is[2];
    uint64_t rip = cpu->rip;
    if (ra && cpu->engine->restore(cpu->engine_ctx, ra, is)) {
        rip = is[0];
        if (cpu->icount_mode)
            cpu->icount_unexec = (int32_t)is[1];
    }
    uint64_t pc = cpu->seg[R_CS].base + rip;
    if (!(cpu->hflags & HF_CS64))
        pc = (uint32_t)pc;
    uint64_t ipage = ~(uint64_t)0;
    mmu_code_phys_probe(cpu, pc, &ipage);
    bool hit = (ipage >> TLB_PAGE_BITS) == (phys >> TLB_PAGE_BITS) ||
               (cpu->current_tb && cpu->current_tb->invalid);
    if (!hit)
        return;
    /* Restart the instruction alone, from unmodified guest state: nothing
     * of it has been written back yet (stores precede register writes). */
    cpu->rip = rip;
    cpu->single_insn_next = true;
    cpu_loop_exit(cpu);
}

/* ---- finding and translating blocks ---- */

static void exec_log_block(CPUState *cpu, const IRBlock *b, const char *what)
{
    log_printf("%s (pc=%" PRIx64 "):\n", what, cpu_linear_pc(cpu));
    ir_dump(b, log_file ? log_file : stderr);
}

/* The machine's record of which bytes of a page hold code (cpu/smp.h):
 * writes elsewhere on the page need not reach the other CPUs. */
static void exec_note_code_bytes(CPUState *cpu, const TB *tb)
{
    uint64_t first = TLB_PAGE_SIZE - (tb->phys_pc & ~TLB_PAGE_MASK);
    if (tb->phys_page2 == TB_NO_PAGE || tb->size <= first) {
        smp_code_bytes_add(cpu, tb->phys_pc, tb->size);
        return;
    }
    smp_code_bytes_add(cpu, tb->phys_pc, first);
    smp_code_bytes_add(cpu, tb->phys_page2, tb->size - first);
}

static TB *exec_gen_code(CPUState *cpu, uint64_t pc, uint64_t cs_base, uint32_t flags,
                         uint64_t phys, uint32_t cflags, int max_insns)
{
    if (tb_cache_full(cpu->tbs))
        tb_flush(cpu->tbs);
    tb_reap(cpu->tbs);
    TB *tb = tb_new();
    tb->pc = pc;
    tb->cs_base = cs_base;
    tb->flags = flags;
    tb->phys_pc = phys;
    tb->phys_page2 = TB_NO_PAGE;
    tb->cflags = cflags;
    cpu->translations++;
    uint64_t fault_lin = 0;
    IRBlock *b = x86_translate_block(cpu->tr, cpu, tb, max_insns, &fault_lin);
    if (!b) {
        tb_discard(tb);
        /* The first instruction cannot be fetched: fault on its bytes. */
        mmu_code_phys(cpu, fault_lin);
        cpu->cr[2] = fault_lin;
        cpu_raise_exception(cpu, EXC_PF, 0x10, 0);
    }
    bool log_this = log_block_selected(tb->pc, tb->pc + tb->size - 1);
    if (log_enabled(LOG_OP) && log_this)
        exec_log_block(cpu, b, "OP");
    ir_optimize(b);
    if (log_enabled(LOG_OP_OPT) && log_this)
        exec_log_block(cpu, b, "OP after optimisation");
    void *code = cpu->engine->compile(cpu->engine_ctx, b);
    if (!code) {
        /* Code buffer full: drop everything and retry once. */
        tb_flush(cpu->tbs);
        tb_reap(cpu->tbs);
        code = cpu->engine->compile(cpu->engine_ctx, b);
        if (!code) {
            tb_discard(tb);
            snprintf(cpu->error, sizeof(cpu->error), "engine %s cannot compile a block",
                     cpu->engine->name);
            return NULL;
        }
    }
    tb->code = code;
    exec_perfmap_add(cpu, tb, code);
    if (log_enabled(LOG_OUT_ASM) && log_this) {
        size_t len = 0;
        const uint8_t *hc = cpu->engine->host_code(cpu->engine_ctx, code, &len);
        log_printf("OUT: %zu host bytes%s\n", len, hc ? "" : " (interpreted)");
        if (hc) {
            char *text = xmalloc(len * 64 + 64);
            x86_disas_host(hc, len, (uint64_t)(uintptr_t)hc, text, len * 64 + 64);
            log_printf("%s", text);
            free(text);
        }
    }
    /* the bytes before the page bits tb_insert sets: a writer that sees
     * the bit also sees which bytes are code */
    if (!(tb->cflags & TB_CF_NOCACHE))
        exec_note_code_bytes(cpu, tb);
    tb_insert(cpu->tbs, tb);
    /* New code on a page: the other CPUs' writes to it must reach us
     * before the block runs (may carry out our own requests). */
    smp_wait_code_protected(cpu);
    return tb;
}

/* The cached block for (pc, cs_base, flags) on physical page phys, after
 * the jump cache missed; NULL when there is none or its second page no
 * longer maps what it was translated from (then it is invalidated). */
static TB *exec_lookup_tb(CPUState *cpu, uint64_t phys, uint64_t pc, uint64_t cs_base,
                          uint32_t flags)
{
    TB *tb = tb_lookup(cpu->tbs, phys, pc, cs_base, flags);
    if (tb && tb->phys_page2 != TB_NO_PAGE) {
        /* The block spans two pages: the second must still map the same. */
        uint64_t p2;
        uint64_t next_page = (pc & TLB_PAGE_MASK) + TLB_PAGE_SIZE;
        if (!mmu_code_phys_probe(cpu, next_page, &p2) ||
            (p2 & TLB_PAGE_MASK) != tb->phys_page2) {
            tb_invalidate(cpu->tbs, tb);
            tb = NULL;
        }
    }
    return tb;
}

static TB *exec_find_tb(CPUState *cpu, bool shadow)
{
    uint64_t cs_base = cpu->seg[R_CS].base;
    uint64_t pc = cpu_linear_pc(cpu);
    uint32_t flags = cpu->hflags & HF_KEY_MASK;
    int max_insns = TB_MAX_INSNS;
    if (shadow || cpu->one_insn_next) {
        cpu->one_insn_next = false;
        flags |= TB_KEY_ONE_INSN;
        max_insns = 1;
    }
    if (cpu->single_insn_next) {
        /* after self-modifying code: the instruction's bytes may change */
        cpu->single_insn_next = false;
        uint64_t phys = mmu_code_phys(cpu, pc);
        return exec_gen_code(cpu, pc, cs_base, flags, phys, TB_CF_NOCACHE, 1);
    }
    TB *tb = tb_jc_lookup(cpu->tbs, pc, cs_base, flags);
    if (tb)
        return tb;
    for (;;) {
        uint64_t phys = mmu_code_phys(cpu, pc);
        tb = exec_lookup_tb(cpu, phys, pc, cs_base, flags);
        if (tb)
            return tb;
        tb = exec_gen_code(cpu, pc, cs_base, flags, phys, 0, max_insns);
        /* Requests carried out while the new block waited for the other
         * CPUs (smp_wait_code_protected) may have dropped it: translate
         * again from what memory and the TLB hold now. */
        if (!tb || !tb->invalid)
            return tb;
    }
}

TB *cpu_find_cached_tb(CPUState *cpu)
{
    uint64_t cs_base = cpu->seg[R_CS].base;
    uint64_t pc = cpu_linear_pc(cpu);
    uint32_t flags = cpu->hflags & HF_KEY_MASK;
    TB *tb = tb_jc_lookup(cpu->tbs, pc, cs_base, flags);
    if (tb)
        return tb;
    /* The probe walks without side effects; once it succeeds, the real
     * fill (accessed bit, TLB entry) cannot fault. */
    uint64_t phys;
    if (!mmu_code_phys_probe(cpu, pc, &phys))
        return NULL;
    phys = mmu_code_phys(cpu, pc);
    return exec_lookup_tb(cpu, phys, pc, cs_base, flags);
}

/* ---- the loop ---- */

static int exec_loop(CPUState *cpu, int64_t deadline_ns);

/* Did the last block leave because the budget ran out or a kick came? */
static bool exec_budget_out(const CPUState *cpu)
{
    return __atomic_load_n(&cpu->exit_budget, __ATOMIC_RELAXED) < 0;
}

static void exec_leave(CPUState *cpu)
{
    __atomic_store_n(&cpu->in_exec, false, __ATOMIC_SEQ_CST);
}

/* The guest's SSE flags live in the host MXCSR for the whole loop (the
 * loop's own C code does no floating point): entering and leaving once per
 * call instead of once per block run saves two STMXCSR per block. */
int cpu_exec(CPUState *cpu, int64_t deadline_ns)
{
    cpu_mxcsr_enter(cpu);
    int r = exec_loop(cpu, deadline_ns);
    cpu_mxcsr_leave(cpu);
    return r;
}

static int exec_loop(CPUState *cpu, int64_t deadline_ns)
{
    Machine *m = cpu->machine;
    cpu->exec_thread = pthread_self();
    __atomic_store_n(&cpu->exec_thread_set, true, __ATOMIC_SEQ_CST);
    __atomic_store_n(&cpu->in_exec, true, __ATOMIC_SEQ_CST);
    /* (cpu->stop is not cleared here: a cpu_stop from another thread just
     * before this call still makes it return CPU_EXIT_STOPPED) */
    /* Both survive a siglongjmp: they live in the CPU state. */
    cpu->current_tb = NULL;
    cpu->intr_poll = true;   /* timers and input ran since the last call */
    volatile uint32_t iter = 0;
    /* The last block ran its exit budget out: a chain of blocks ran for a
     * while without coming back, so the clock is worth reading now. */
    volatile bool budget_out = false;

    /* Host clock: an alarm at each timer deadline stops translated code
     * then (manual clocks in tests have none; polling below covers them). */
    if (m && !cpu->clock_alarm_set)
        cpu->clock_alarm_set = clock_set_alarm(m->clock, exec_clock_alarm, cpu);

    if (sigsetjmp(cpu->jmp_env, 0) != 0) {
        /* The instructions of the block that did not run are given back. */
        if (cpu->icount_mode && cpu->in_tb)
            cpu->icount_budget += cpu->icount_unexec;
        cpu->icount_unexec = 0;
        cpu->in_tb = false;
        smp_split_unlock(cpu);    /* a fault inside a split atomic */
        cpu_cc_settle(cpu);       /* the next block expects settled flags */
        cpu->current_tb = NULL;
        if (cpu->exc_pending >= 0)
            cpu->inhibit_irq = false;   /* an exception ends the shadow */
    }
    for (;;) {
        if (cpu->dbg)
            cpu_debug_insn_end(cpu);
        if (cpu->exc_pending >= 0 && !exec_deliver_exception(cpu)) {
            exec_leave(cpu);
            return CPU_EXIT_SHUTDOWN;
        }
        if (cpu->shutdown) {
            exec_leave(cpu);
            return CPU_EXIT_SHUTDOWN;
        }
        if (cpu->dbg && cpu->dbg->stop.reason) {
            exec_leave(cpu);
            return CPU_EXIT_DEBUG;
        }
        if (cpu->icount_mode) {
            cpu->exit_budget = 0;       /* the loop looks at everything below */
        } else if (__atomic_load_n(&cpu->stop, __ATOMIC_SEQ_CST) || (m && m->stop_requested)) {
            __atomic_store_n(&cpu->stop, false, __ATOMIC_SEQ_CST);
            exec_leave(cpu);
            return CPU_EXIT_STOPPED;
        }
        /* Reset before the alarm flag is read: an alarm from here on
         * leaves -1 for the next block to see. */
        if (!cpu->icount_mode)
            cpu->exit_budget = EXIT_BUDGET_BLOCKS;
        /* After the reset: a request posted from now on leaves -1 for
         * the next block to see. */
        smp_process_requests(cpu);
        bool alarm = cpu->clock_alarm;
        if (alarm)
            cpu->clock_alarm = 0;
        /* Devices may arm an earlier timer while the CPU runs (an MMIO
         * write to the HPET or LAPIC): the clock's own next deadline
         * counts too, not only the one the caller saw. */
        if (m && !cpu->icount_mode && !cpu->timers_elsewhere &&
            (alarm || (++iter & 7) == 0 || budget_out)) {
            budget_out = false;
            int64_t dl = clock_next_deadline(m->clock);
            if (deadline_ns < dl)
                dl = deadline_ns;
            if (dl != INT64_MAX && clock_now(m->clock) >= dl) {
                exec_leave(cpu);
                return CPU_EXIT_BUDGET;
            }
            if (alarm)
                clock_rearm(m->clock);   /* early: the deadline moved later */
        }
        if (m && cpu->dirty_gen != m->dirty_gen) {
            /* dirty log started or synced: re-arm TLB_NOTDIRTY */
            mmu_flush_all(cpu);
            cpu->dirty_gen = m->dirty_gen;
        }
        if (m && cpu->mem_generation != memmap_generation(m->mem)) {
            mmu_flush_all(cpu);
            tb_flush(cpu->tbs);
        }
        if (exec_check_interrupts(cpu))
            continue;
        if (cpu->halted) {
            exec_leave(cpu);
            return CPU_EXIT_HALTED;
        }
        if (cpu->icount_mode) {
            int r = icount_prepare(cpu, deadline_ns);
            if (r >= 0) {
                exec_leave(cpu);
                return r;
            }
        }
        /* Counted before running: a block that faults still counts. */
        if (cpu->insn_budget && --cpu->insn_budget == 0) {
            exec_leave(cpu);
            return CPU_EXIT_BUDGET;
        }
        /* The instruction after STI / MOV SS runs alone with interrupts
         * held off; the shadow ends after it. */
        bool shadow = cpu->inhibit_irq && cpu->rip == cpu->inhibit_rip;
        if (cpu->dbg)
            cpu_debug_block_start(cpu);
        TB *tb = exec_find_tb(cpu, shadow);
        if (tb && cpu->icount_mode && tb->icount > (uint32_t)cpu->icount_budget)
            tb = exec_gen_code(cpu, tb->pc, tb->cs_base, tb->flags, tb->phys_pc, TB_CF_NOCACHE,
                               cpu->icount_budget);
        if (!tb) {
            exec_leave(cpu);
            return CPU_EXIT_ERROR;
        }
        if (log_enabled(LOG_EXEC | LOG_CPU) && log_block_selected(tb->pc, tb->pc + tb->size - 1)) {
            if (log_enabled(LOG_EXEC))
                log_printf("exec: pc=%" PRIx64 " %04x:%" PRIx64 " flags=%x\n", tb->pc,
                           cpu->seg[R_CS].selector, cpu->rip, tb->flags);
            if (log_enabled(LOG_CPU))
                cpu_dump_state(cpu, log_file ? log_file : stderr);
        }
        cpu->current_tb = tb;
        cpu->in_tb = true;
        if (cpu->dbg)
            cpu->block_not_run = 0;
        uint64_t v = cpu->engine->run(cpu->engine_ctx, tb->code, cpu);
        cpu->in_tb = false;
        if (cpu->dbg && cpu->block_not_run)
            cpu_debug_block_not_run(cpu);   /* a step or re-run still to do */
        cpu_cc_settle(cpu);
        if (cpu->icount_mode)
            icount_fold(cpu);
        budget_out = exec_budget_out(cpu);
        if (shadow)
            cpu->inhibit_irq = false;
        if (v & EXIT_TB_SLOT_MASK) {
            TB *from = (TB *)(uintptr_t)(v & ~(uint64_t)EXIT_TB_SLOT_MASK);
            unsigned slot = (unsigned)(v & EXIT_TB_SLOT_MASK) - 1;
            /* Chain the slot when the next block is found right away
             * (not while -d exec/cpu log each block: a chained block
             * would run unseen). */
            if (!from->invalid && !cpu->halted && cpu->exc_pending < 0 &&
                !budget_out && !cpu->single_insn_next && !log_enabled(LOG_EXEC | LOG_CPU)) {
                /* The hash table too: the jump cache loses its entries
                 * at every TLB flush, and the link outlives them. */
                TB *next = cpu_find_cached_tb(cpu);
                if (next && !next->invalid && (next->pc & TLB_PAGE_MASK) ==
                    (from->pc & TLB_PAGE_MASK))
                    tb_link(cpu->tbs, from, slot, next);
            }
        }
    }
}
