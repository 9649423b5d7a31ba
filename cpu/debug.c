/*
 * Breakpoints, watchpoints and single steps on the translator, for an
 * attached debugger and for the guest's DR0-DR7 (see cpu/debug.h for the
 * scheme and the loop's hooks).
 */
#include "cpu/debug.h"

#include <stdlib.h>
#include <string.h>

#include "core/util.h"
#include "cpu/cpu.h"
#include "cpu/exec.h"
#include "cpu/mmu.h"
#include "tcg/ir.h"
#include "tcg/tb.h"

static CPUDebug *debug_get(CPUState *cpu)
{
    if (!cpu->dbg)
        cpu->dbg = xcalloc(1, sizeof(*cpu->dbg));
    return cpu->dbg;
}

/* Breakpoints are part of the translated code and watched pages of the
 * TLB: both are dropped when the set changes. */
static void debug_flush(CPUState *cpu)
{
    if (cpu->tbs)
        tb_flush(cpu->tbs);
    mmu_flush_all(cpu);
}

static bool is_watch(CPUBreakType t)
{
    return t >= CPU_WP_WRITE;
}

int cpu_debug_insert(CPUState *cpu, CPUBreakType type, uint64_t addr, uint64_t len)
{
    CPUDebug *d = debug_get(cpu);
    if (type > CPU_WP_ACCESS)
        return -1;
    if (is_watch(type)) {
        if (len == 0 || len > TLB_PAGE_SIZE || d->nwp == CPU_DEBUG_MAX_WP)
            return -1;
        d->wp[d->nwp++] = (CPUDebugPoint){ addr, len, type };
    } else {
        if (d->nbp == CPU_DEBUG_MAX_BP)
            return -1;
        d->bp[d->nbp++] = (CPUDebugPoint){ addr, 1, type };
    }
    debug_flush(cpu);
    return 0;
}

int cpu_debug_remove(CPUState *cpu, CPUBreakType type, uint64_t addr, uint64_t len)
{
    CPUDebug *d = cpu->dbg;
    if (!d)
        return -1;
    CPUDebugPoint *tab = is_watch(type) ? d->wp : d->bp;
    int *n = is_watch(type) ? &d->nwp : &d->nbp;
    for (int i = 0; i < *n; i++) {
        if (tab[i].type == type && tab[i].addr == addr && (!is_watch(type) || tab[i].len == len)) {
            tab[i] = tab[--*n];
            debug_flush(cpu);
            return 0;
        }
    }
    return -1;
}

void cpu_debug_remove_all(CPUState *cpu)
{
    CPUDebug *d = cpu->dbg;
    if (!d || (!d->nbp && !d->nwp))
        return;
    d->nbp = d->nwp = 0;
    debug_flush(cpu);
}

void cpu_debug_resume(CPUState *cpu, bool step, bool irqs)
{
    CPUDebug *d = debug_get(cpu);
    d->stop = (CPUDebugStop){ 0 };
    d->step = step;
    d->step_irqs = irqs;
    d->insn_running = false;
    uint64_t pc = cpu_linear_pc(cpu);
    d->skip_valid = false;
    for (int i = 0; i < d->nbp; i++)
        if (d->bp[i].addr == pc)
            d->skip_valid = true;
    d->skip_pc = pc;
}

CPUDebugStop cpu_debug_stop_reason(const CPUState *cpu)
{
    return cpu->dbg ? cpu->dbg->stop : (CPUDebugStop){ 0 };
}

/* ---- DR7 (SDM 3B 17.2.4) ---- */

static bool dr_enabled(uint64_t dr7, int i)
{
    return (dr7 >> (2 * i)) & 3;
}

static unsigned dr_rw(uint64_t dr7, int i)
{
    return (dr7 >> (16 + 4 * i)) & 3;
}

static uint64_t dr_len(uint64_t dr7, int i)
{
    static const uint8_t len[4] = { 1, 2, 8, 4 };
    return len[(dr7 >> (18 + 4 * i)) & 3];
}

void cpu_debug_dr_changed(CPUState *cpu)
{
    if (cpu->dr[7] & 0xff)
        debug_get(cpu);
    if (cpu->dbg || (cpu->dr[7] & 0xff))
        debug_flush(cpu);
}

/* ---- translation time ---- */

bool cpu_debug_insn_bp(CPUState *cpu, uint64_t lin)
{
    CPUDebug *d = cpu->dbg;
    if (d)
        for (int i = 0; i < d->nbp; i++)
            if (d->bp[i].addr == lin)
                return true;
    uint64_t dr7 = cpu->dr[7];
    if (dr7 & 0xff)
        for (int i = 0; i < 4; i++)
            if (dr_enabled(dr7, i) && dr_rw(dr7, i) == 0 && cpu->dr[i] == lin)
                return true;
    return false;
}

static bool overlaps(uint64_t a, uint64_t alen, uint64_t b, uint64_t blen)
{
    return a < b + blen && b < a + alen;
}

bool cpu_debug_page_watched(CPUState *cpu, uint64_t lin)
{
    uint64_t page = lin & TLB_PAGE_MASK;
    CPUDebug *d = cpu->dbg;
    if (d)
        for (int i = 0; i < d->nwp; i++)
            if (overlaps(page, TLB_PAGE_SIZE, d->wp[i].addr, d->wp[i].len))
                return true;
    uint64_t dr7 = cpu->dr[7];
    if (dr7 & 0xff)
        for (int i = 0; i < 4; i++) {
            uint64_t len = dr_len(dr7, i);
            unsigned rw = dr_rw(dr7, i);
            if (dr_enabled(dr7, i) && (rw == 1 || rw == 3) &&
                overlaps(page, TLB_PAGE_SIZE, cpu->dr[i] & ~(len - 1), len))
                return true;
        }
    return false;
}

/* ---- run time ---- */

void cpu_debug_check_insn(CPUState *cpu, uint64_t rip)
{
    cpu->rip = rip;
    uint64_t pc = cpu_linear_pc(cpu);
    CPUDebug *d = cpu->dbg;
    if (d && d->skip_valid && d->skip_pc == pc) {
        d->skip_valid = false;
    } else if (d) {
        for (int i = 0; i < d->nbp; i++) {
            if (d->bp[i].addr == pc) {
                d->stop = (CPUDebugStop){ CPU_DEBUG_BREAK, d->bp[i].type, pc };
                d->insn_running = false;
                cpu_loop_exit(cpu);
            }
        }
    }
    /* DR0-3 instruction breakpoints: a fault, unless RF is set (SDM 3B
     * 17.3.1.1); the #DB image gets RF so IRET passes the breakpoint. */
    uint64_t dr7 = cpu->dr[7];
    uint32_t bits = 0;
    for (int i = 0; i < 4; i++)
        if (dr_enabled(dr7, i) && dr_rw(dr7, i) == 0 && cpu->dr[i] == pc)
            bits |= 1u << i;
    if (!bits)
        return;
    if (cpu->eflags & EFL_RF) {
        cpu->eflags &= ~(uint32_t)EFL_RF;
        return;
    }
    cpu->dr[6] = (cpu->dr[6] & ~(uint64_t)0xf) | bits;
    cpu->eflags |= EFL_RF;
    cpu_raise_exception(cpu, EXC_DB, 0, 0);
}

static uint64_t helper_debug_insn(uint64_t env, uint64_t rip)
{
    cpu_debug_check_insn((CPUState *)env, rip);
    return 0;
}
const IRHelper hlp_debug_insn = IR_HELPER(helper_debug_insn, IR_CALL_CAN_FAULT);

void cpu_debug_check_access(CPUState *cpu, uint64_t lin, unsigned size, bool write,
                            uintptr_t ra)
{
    CPUDebug *d = cpu->dbg;
    if (!d || d->rerun)
        return;
    bool hit = false;
    for (int i = 0; i < d->nwp && !hit; i++) {
        CPUDebugPoint *w = &d->wp[i];
        bool kind = w->type == CPU_WP_ACCESS || (w->type == CPU_WP_WRITE) == write;
        if (kind && overlaps(lin, size, w->addr, w->len)) {
            d->watch_hit = (CPUDebugStop){ CPU_DEBUG_WATCH, w->type, w->addr };
            hit = true;
        }
    }
    uint64_t dr7 = cpu->dr[7];
    for (int i = 0; i < 4; i++) {
        uint64_t len = dr_len(dr7, i);
        unsigned rw = dr_rw(dr7, i);
        if (dr_enabled(dr7, i) && (rw == 3 || (rw == 1 && write)) &&
            overlaps(lin, size, cpu->dr[i] & ~(len - 1), len)) {
            d->guest_db_bits |= 1u << i;
            hit = true;
        }
    }
    if (!hit)
        return;
    /* Run the instruction again, alone and unwatched; the stop (or #DB)
     * comes after it.  Nothing of it is visible yet: stores come before
     * register writes, and an earlier store of it was to the same
     * watched range or unwatched (then it is simply done again). */
    cpu_restore_state(cpu, ra);
    cpu->single_insn_next = true;
    d->rerun = true;
    cpu_loop_exit(cpu);
}

void cpu_debug_insn_end(CPUState *cpu)
{
    CPUDebug *d = cpu->dbg;
    if (!d->insn_running)
        return;
    d->insn_running = false;
    bool completed = cpu->exc_pending < 0;
    if (d->rerun) {
        d->rerun = false;
        if (completed && d->watch_hit.reason)
            d->stop = d->watch_hit;
        if (completed && d->guest_db_bits) {
            /* Data breakpoints are traps: #DB after the instruction. */
            cpu->dr[6] = (cpu->dr[6] & ~(uint64_t)0xf) | d->guest_db_bits;
            cpu->exc_pending = EXC_DB;
            cpu->exc_error = 0;
        }
        d->watch_hit = (CPUDebugStop){ 0 };
        d->guest_db_bits = 0;
    }
    if (d->step) {
        d->step = false;
        if (!d->stop.reason)
            d->stop = (CPUDebugStop){ CPU_DEBUG_STEP, 0, 0 };
    }
    d->skip_valid = false;
}

bool cpu_debug_irqs_held(const CPUState *cpu)
{
    return cpu->dbg->step && !cpu->dbg->step_irqs;
}

void cpu_debug_block_not_run(CPUState *cpu)
{
    cpu->dbg->insn_running = false;
}

void cpu_debug_block_start(CPUState *cpu)
{
    CPUDebug *d = cpu->dbg;
    if (d->step || d->rerun) {
        cpu->single_insn_next = true;
        d->insn_running = true;
    }
}
