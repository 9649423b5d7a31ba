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
 */
#include "cpu/exec.h"
#include "cpu/disas.h"

#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/log.h"
#include "core/util.h"
#include "cpu/debug.h"
#include "cpu/mmu.h"
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

static void exec_page_code_changed(void *opaque, uint64_t phys_page, bool code)
{
    mmu_set_code_page(opaque, phys_page, code);
}

static const TBCacheOwner exec_tb_owner = {
    .page_code_changed = exec_page_code_changed,
};

/* DMA and loader writes to RAM also invalidate translated code. */
static void exec_mem_write_notify(void *opaque, uint64_t addr, size_t len)
{
    CPUState *cpu = opaque;
    if (cpu->tbs)
        tb_invalidate_phys_range(cpu->tbs, addr, len);
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
    cpu->tbs = tb_cache_new(e, cpu->engine_ctx, &exec_tb_owner, cpu);
    cpu->tr = x86_translator_new();
    if (cpu->machine && cpu->index == 0)
        memmap_set_write_notify(cpu->machine->mem, exec_mem_write_notify, cpu);
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
    if (cpu->machine && cpu->index == 0)
        memmap_set_write_notify(cpu->machine->mem, NULL, NULL);
    tb_cache_free(cpu->tbs);
    cpu->tbs = NULL;
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

void cpu_interrupt_request(CPUState *cpu)
{
    cpu->intr_poll = true;
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
    __atomic_store_n(&cpu->stop, true, __ATOMIC_RELEASE);
    cpu_interrupt_request(cpu);
}

void cpu_raise_nmi(CPUState *cpu)
{
    cpu->nmi_pending = true;
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
    if (ra && cpu->engine->restore(cpu->engine_ctx, ra, is))
        cpu->rip = is[0];
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
            LOG(LOG_INT, "triple fault: exception %d while delivering #DF\n", vec);
            cpu->shutdown = true;
            cpu->exc_delivering = -1;
            return false;
        }
        if ((exc_contributory(prev) && exc_contributory(vec)) ||
            (prev == EXC_PF && (exc_contributory(vec) || vec == EXC_PF))) {
            LOG(LOG_INT, "double fault: exception %d while delivering %d\n", vec, prev);
            vec = EXC_DF;
            err = 0;
        }
    }
    LOG(LOG_INT, "exception %d err=%x at %04x:%" PRIx64 " CR2=%" PRIx64 "\n", vec, err,
        cpu->seg[R_CS].selector, cpu->rip, cpu->cr[2]);
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
    uint64_t n = *cpu->mmio_accesses + *cpu->pio_accesses;
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
    if (cpu->nmi_pending) {
        cpu->nmi_pending = false;
        cpu->halted = false;
        LOG(LOG_INT, "NMI at %04x:%" PRIx64 "\n", cpu->seg[R_CS].selector, cpu->rip);
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
    LOG(LOG_INT, "interrupt %#x at %04x:%" PRIx64 "\n", vec, cpu->seg[R_CS].selector, cpu->rip);
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
    if (ra && cpu->engine->restore(cpu->engine_ctx, ra, is))
        rip = is[0];
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

/* VX86_PERFMAP=1: name every native block in /tmp/perf-PID.map (the
 * format `perf report` reads for JIT code) by its guest linear pc. */
static void exec_perfmap_add(CPUState *cpu, const TB *tb, void *code)
{
    static int enabled = -1;
    static FILE *map;
    if (enabled < 0) {
        const char *e = getenv("VX86_PERFMAP");
        enabled = e && *e && *e != '0';
        if (enabled) {
            char path[64];
            snprintf(path, sizeof(path), "/tmp/perf-%d.map", (int)getpid());
            map = fopen(path, "w");
            enabled = map != NULL;
        }
    }
    size_t len = 0;
    const uint8_t *hc = enabled ? cpu->engine->host_code(cpu->engine_ctx, code, &len) : NULL;
    if (!hc)
        return;
    fprintf(map, "%" PRIxPTR " %zx guest_%" PRIx64 "\n", (uintptr_t)hc, len, tb->pc);
    fflush(map);
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
    tb_insert(cpu->tbs, tb);
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
    if (shadow) {
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
    uint64_t phys = mmu_code_phys(cpu, pc);
    tb = exec_lookup_tb(cpu, phys, pc, cs_base, flags);
    if (!tb)
        tb = exec_gen_code(cpu, pc, cs_base, flags, phys, 0, max_insns);
    return tb;
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
    cpu->in_exec = true;
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
        cpu->in_tb = false;
        cpu_cc_settle(cpu);       /* the next block expects settled flags */
        cpu->current_tb = NULL;
        if (cpu->exc_pending >= 0)
            cpu->inhibit_irq = false;   /* an exception ends the shadow */
    }
    for (;;) {
        if (cpu->dbg)
            cpu_debug_insn_end(cpu);
        if (cpu->exc_pending >= 0 && !exec_deliver_exception(cpu)) {
            cpu->in_exec = false;
            return CPU_EXIT_SHUTDOWN;
        }
        if (cpu->shutdown) {
            cpu->in_exec = false;
            return CPU_EXIT_SHUTDOWN;
        }
        if (cpu->dbg && cpu->dbg->stop.reason) {
            cpu->in_exec = false;
            return CPU_EXIT_DEBUG;
        }
        if (__atomic_load_n(&cpu->stop, __ATOMIC_ACQUIRE) || (m && m->stop_requested)) {
            __atomic_store_n(&cpu->stop, false, __ATOMIC_RELAXED);
            cpu->in_exec = false;
            return CPU_EXIT_STOPPED;
        }
        /* Reset before the alarm flag is read: an alarm from here on
         * leaves -1 for the next block to see. */
        cpu->exit_budget = EXIT_BUDGET_BLOCKS;
        bool alarm = cpu->clock_alarm;
        if (alarm)
            cpu->clock_alarm = 0;
        /* Devices may arm an earlier timer while the CPU runs (an MMIO
         * write to the HPET or LAPIC): the clock's own next deadline
         * counts too, not only the one the caller saw. */
        if (m && !cpu->timers_elsewhere && (alarm || (++iter & 7) == 0 || budget_out)) {
            budget_out = false;
            int64_t dl = clock_next_deadline(m->clock);
            if (deadline_ns < dl)
                dl = deadline_ns;
            if (dl != INT64_MAX && clock_now(m->clock) >= dl) {
                cpu->in_exec = false;
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
            cpu->in_exec = false;
            return CPU_EXIT_HALTED;
        }
        /* Counted before running: a block that faults still counts. */
        if (cpu->insn_budget && --cpu->insn_budget == 0) {
            cpu->in_exec = false;
            return CPU_EXIT_BUDGET;
        }
        /* The instruction after STI / MOV SS runs alone with interrupts
         * held off; the shadow ends after it. */
        bool shadow = cpu->inhibit_irq && cpu->rip == cpu->inhibit_rip;
        if (cpu->dbg)
            cpu_debug_block_start(cpu);
        TB *tb = exec_find_tb(cpu, shadow);
        if (!tb) {
            cpu->in_exec = false;
            return CPU_EXIT_ERROR;
        }
        if (log_enabled(LOG_EXEC))
            log_printf("exec: pc=%" PRIx64 " %04x:%" PRIx64 " flags=%x\n", tb->pc,
                       cpu->seg[R_CS].selector, cpu->rip, tb->flags);
        if (log_enabled(LOG_CPU))
            cpu_dump_state(cpu, log_file ? log_file : stderr);
        cpu->current_tb = tb;
        cpu->in_tb = true;
        uint64_t v = cpu->engine->run(cpu->engine_ctx, tb->code, cpu);
        cpu->in_tb = false;
        cpu_cc_settle(cpu);
        budget_out = cpu->exit_budget < 0;
        if (shadow)
            cpu->inhibit_irq = false;
        if (v & EXIT_TB_SLOT_MASK) {
            TB *from = (TB *)(uintptr_t)(v & ~(uint64_t)EXIT_TB_SLOT_MASK);
            unsigned slot = (unsigned)(v & EXIT_TB_SLOT_MASK) - 1;
            /* Chain the slot when the next block is found right away. */
            if (!from->invalid && !cpu->halted && cpu->exc_pending < 0 &&
                cpu->exit_budget >= 0 && !cpu->single_insn_next) {
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
