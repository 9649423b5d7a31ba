/*
 * Hardware task switching (Intel SDM Vol. 3A chapter 7 "Task Management"),
 * protected mode only (IA-32e mode has none): far JMP/CALL to a TSS
 * descriptor or a task gate, IRET with EFLAGS.NT=1 (return through the
 * previous-task link), and interrupts/exceptions through an IDT task gate.
 * 32-bit (types 9/11) and 16-bit (types 1/3) TSSs.
 *
 * Order (SDM 7.3 and table 7-1): the checks that leave the old task
 * intact come first -- TSS descriptor present (#NP), busy bit (#GP for
 * JMP/CALL/INT, #TS for IRET), limit >= 0x67 / 0x2B (#TS), both TSSs
 * accessible (#PF) -- then the switch commits: the old state is saved,
 * busy bits, link field and NT updated, TR, CR3, EFLAGS, EIP and the
 * general registers loaded, CR0.TS set.  The segment registers of the new
 * task are checked last; a fault there (#TS, #NP, #SS) is raised in the
 * context of the new task, as on real processors.
 *
 * Entry points are called by cpu/seg.c (task.h).
 */
#include "cpu/task.h"

#include "cpu/exec.h"
#include "cpu/helpers.h"
#include "cpu/mmu.h"
#include "cpu/trace.h"

enum { SRC_JMP, SRC_CALL, SRC_IRET, SRC_INT };
static const char *const src_names[] = { "JMP", "CALL", "IRET", "INT" };

static void raise(CPUState *cpu, int vec, uint32_t err) __attribute__((noreturn));
static void raise(CPUState *cpu, int vec, uint32_t err)
{
    cpu_raise_exception(cpu, vec, err, 0);
}

/* ---- descriptors (the raw two words) ---- */

static uint64_t d_base(uint32_t lo, uint32_t hi)
{
    return (lo >> 16) | (hi & 0xff) << 16 | (hi & 0xff000000u);
}

static uint32_t d_limit(uint32_t lo, uint32_t hi)
{
    uint32_t l = (hi & 0xf0000) | (lo & 0xffff);
    return (hi & SEG_G) ? (l << 12) | 0xfff : l;
}

static int d_type(uint32_t hi) { return (hi >> 8) & 15; }
static int d_dpl(uint32_t hi) { return (hi >> 13) & 3; }

/* Descriptor of sel in the GDT (gdt_only) or GDT/LDT; false when the
 * selector is beyond the table or names the LDT when gdt_only. */
static bool read_desc(CPUState *cpu, uint16_t sel, bool gdt_only, uint32_t *lo, uint32_t *hi,
                      uint64_t *addr)
{
    uint64_t base;
    uint32_t limit;
    if (sel & 4) {
        if (gdt_only || !(cpu->seg[R_LDTR].attr & SEG_P))
            return false;
        base = cpu->seg[R_LDTR].base;
        limit = cpu->seg[R_LDTR].limit;
    } else {
        base = cpu->gdt.base;
        limit = cpu->gdt.limit;
    }
    if ((sel & ~7u) + 7u > limit)
        return false;
    *addr = base + (sel & ~7u);
    uint64_t v = cpu_ld(cpu, *addr, 8, MMU_SYSTEM, 0);
    *lo = (uint32_t)v;
    *hi = (uint32_t)(v >> 32);
    return true;
}

static void write_desc_hi(CPUState *cpu, uint64_t addr, uint32_t hi)
{
    cpu_st(cpu, addr + 4, hi, 4, MMU_SYSTEM, 0);
}

/* ---- TSS layout ---- */

typedef struct TssState {
    uint32_t eip, eflags, cr3;
    uint32_t regs[8];        /* EAX..EDI */
    uint16_t segs[6];        /* ES CS SS DS FS GS */
    uint16_t ldt;
} TssState;

/* Byte offsets in a 32-bit / 16-bit TSS. */
static unsigned off_eip(bool t32) { return t32 ? 32 : 14; }
static unsigned off_eflags(bool t32) { return t32 ? 36 : 16; }
static unsigned off_reg(bool t32, int r) { return t32 ? 40 + 4 * r : 18 + 2 * r; }
static unsigned off_seg(bool t32, int s) { return t32 ? 72 + 4 * s : 34 + 2 * s; }
static unsigned off_ldt(bool t32) { return t32 ? 96 : 42; }
static int nsegs(bool t32) { return t32 ? 6 : 4; }   /* a 16-bit TSS has no FS/GS */

static void tss_read(CPUState *cpu, uint64_t base, bool t32, TssState *t)
{
    unsigned w = t32 ? 4 : 2;
    t->eip = (uint32_t)cpu_ld(cpu, base + off_eip(t32), w, MMU_SYSTEM, 0);
    t->eflags = (uint32_t)cpu_ld(cpu, base + off_eflags(t32), w, MMU_SYSTEM, 0);
    t->cr3 = t32 ? (uint32_t)cpu_ld(cpu, base + 28, 4, MMU_SYSTEM, 0) : 0;
    for (int r = 0; r < 8; r++)
        t->regs[r] = (uint32_t)cpu_ld(cpu, base + off_reg(t32, r), w, MMU_SYSTEM, 0);
    for (int s = 0; s < nsegs(t32); s++)
        t->segs[s] = (uint16_t)cpu_ld(cpu, base + off_seg(t32, s), 2, MMU_SYSTEM, 0);
    t->ldt = (uint16_t)cpu_ld(cpu, base + off_ldt(t32), 2, MMU_SYSTEM, 0);
}

/* Saves the running task (the dynamic fields: EIP, EFLAGS, GPRs, segment
 * selectors) into its TSS. */
static void tss_save(CPUState *cpu, uint64_t base, bool t32, uint32_t eip, uint32_t eflags)
{
    unsigned w = t32 ? 4 : 2;
    cpu_st(cpu, base + off_eip(t32), eip, w, MMU_SYSTEM, 0);
    cpu_st(cpu, base + off_eflags(t32), eflags, w, MMU_SYSTEM, 0);
    for (int r = 0; r < 8; r++)
        cpu_st(cpu, base + off_reg(t32, r), cpu->regs[r], w, MMU_SYSTEM, 0);
    for (int s = 0; s < nsegs(t32); s++)
        cpu_st(cpu, base + off_seg(t32, s), cpu->seg[s].selector, 2, MMU_SYSTEM, 0);
}

/* ---- segment registers of the new task ---- */

static void load_desc_cache(CPUState *cpu, int seg, uint16_t sel, uint32_t lo, uint32_t hi,
                            uint64_t addr)
{
    if (!(hi & SEG_A)) {
        hi |= SEG_A;
        write_desc_hi(cpu, addr, hi);
    }
    cpu_set_seg(cpu, seg, sel, d_base(lo, hi), d_limit(lo, hi), hi & SEG_ATTR_MASK);
}

static void load_ldt(CPUState *cpu, uint16_t sel)
{
    uint32_t lo, hi;
    uint64_t addr;
    if ((sel & 0xfffc) == 0) {
        cpu_set_seg(cpu, R_LDTR, sel, 0, 0, 0);
        return;
    }
    if (!read_desc(cpu, sel, true, &lo, &hi, &addr) || (hi & SEG_S) || d_type(hi) != 2 ||
        !(hi & SEG_P))
        raise(cpu, EXC_TS, sel & 0xfffc);
    cpu_set_seg(cpu, R_LDTR, sel, d_base(lo, hi), d_limit(lo, hi), hi & SEG_ATTR_MASK);
}

/* CS: the new CPL is its RPL. */
static void load_cs(CPUState *cpu, uint16_t sel)
{
    uint32_t lo, hi;
    uint64_t addr;
    int rpl = sel & 3;
    if ((sel & 0xfffc) == 0 || !read_desc(cpu, sel, false, &lo, &hi, &addr) ||
        !(hi & SEG_S) || !(hi & SEG_CODE))
        raise(cpu, EXC_TS, sel & 0xfffc);
    bool conforming = hi & SEG_E;
    if (conforming ? d_dpl(hi) > rpl : d_dpl(hi) != rpl)
        raise(cpu, EXC_TS, sel & 0xfffc);
    if (!(hi & SEG_P))
        raise(cpu, EXC_NP, sel & 0xfffc);
    load_desc_cache(cpu, R_CS, sel, lo, hi, addr);
}

static void load_ss(CPUState *cpu, uint16_t sel, int cpl)
{
    uint32_t lo, hi;
    uint64_t addr;
    if ((sel & 0xfffc) == 0 || !read_desc(cpu, sel, false, &lo, &hi, &addr) ||
        (sel & 3) != cpl || !(hi & SEG_S) || (hi & SEG_CODE) || !(hi & SEG_W) ||
        d_dpl(hi) != cpl)
        raise(cpu, EXC_TS, sel & 0xfffc);
    if (!(hi & SEG_P))
        raise(cpu, EXC_SS, sel & 0xfffc);
    load_desc_cache(cpu, R_SS, sel, lo, hi, addr);
}

static void load_data(CPUState *cpu, int seg, uint16_t sel, int cpl)
{
    uint32_t lo, hi;
    uint64_t addr;
    if ((sel & 0xfffc) == 0) {
        cpu_set_seg(cpu, seg, sel, 0, 0, 0);
        return;
    }
    if (!read_desc(cpu, sel, false, &lo, &hi, &addr) || !(hi & SEG_S) ||
        ((hi & SEG_CODE) && !(hi & SEG_W)))
        raise(cpu, EXC_TS, sel & 0xfffc);
    bool conforming_code = (hi & SEG_CODE) && (hi & SEG_E);
    if (!conforming_code && (d_dpl(hi) < cpl || d_dpl(hi) < (sel & 3)))
        raise(cpu, EXC_TS, sel & 0xfffc);
    if (!(hi & SEG_P))
        raise(cpu, EXC_NP, sel & 0xfffc);
    load_desc_cache(cpu, seg, sel, lo, hi, addr);
}

static void load_vm86_segs(CPUState *cpu, const TssState *t, bool t32)
{
    for (int s = 0; s < nsegs(t32); s++)
        cpu_set_seg(cpu, s, t->segs[s], (uint64_t)t->segs[s] << 4, 0xffff,
                    SEG_P | SEG_S | SEG_W | SEG_A | 3u << SEG_DPL_SHIFT |
                    (s == R_CS ? SEG_CODE : 0));
}

/* ---- the switch ---- */

/* Switches to the task of TSS descriptor sel (lo, hi, in the GDT at
 * desc_addr).  ret_eip is saved as the old task's EIP. */
static void switch_task(CPUState *cpu, uint16_t sel, uint32_t lo, uint32_t hi,
                        uint64_t desc_addr, int src, uint32_t ret_eip, bool has_err,
                        uint32_t err, uint32_t ext)
{
    uint16_t esel = (sel & 0xfffc) | (uint16_t)ext;
    TraceFrom from;
    trace_from(cpu, LOG_PCALL, &from);
    int type = d_type(hi);
    bool t32 = type & 8, busy = type & 2;
    if (!(hi & SEG_P))
        raise(cpu, EXC_NP, esel);
    if (src == SRC_IRET ? !busy : busy)
        raise(cpu, src == SRC_IRET ? EXC_TS : EXC_GP, esel);
    uint32_t limit = d_limit(lo, hi);
    if (limit < (t32 ? 0x67u : 0x2bu))
        raise(cpu, EXC_TS, esel);
    uint64_t nbase = d_base(lo, hi);

    /* The old task's TSS must take the save and the new one must be
     * readable (and writable for the link) before anything changes. */
    SegmentCache *tr = &cpu->seg[R_TR];
    bool old32 = (tr->attr >> 8) & 8;
    uint64_t obase = tr->base;
    unsigned olast = old32 ? 0x5f : 0x29;
    if (tr->limit < olast)
        raise(cpu, EXC_TS, tr->selector & 0xfffc);
    cpu_probe_write(cpu, obase + off_eip(old32), olast + 1 - off_eip(old32), MMU_SYSTEM, 0);
    if (src == SRC_CALL || src == SRC_INT)
        cpu_probe_write(cpu, nbase, 2, MMU_SYSTEM, 0);
    TssState t;
    tss_read(cpu, nbase, t32, &t);
    uint32_t olo, ohi;
    uint64_t oaddr = 0;
    bool have_old = read_desc(cpu, tr->selector, true, &olo, &ohi, &oaddr);

    /* commit: the old task */
    uint32_t eflags = cpu_get_eflags(cpu);
    if (src == SRC_IRET)
        eflags &= ~(uint32_t)EFL_NT;
    if ((src == SRC_JMP || src == SRC_IRET) && have_old)
        write_desc_hi(cpu, oaddr, ohi & ~(2u << 8));
    tss_save(cpu, obase, old32, ret_eip, eflags);
    uint16_t old_sel = tr->selector;

    /* the new task */
    uint32_t neflags = t.eflags;
    if (src == SRC_CALL || src == SRC_INT) {
        cpu_st(cpu, nbase, old_sel, 2, MMU_SYSTEM, 0);   /* previous-task link */
        neflags |= EFL_NT;
    }
    if (src != SRC_IRET) {
        hi |= 2u << 8;
        write_desc_hi(cpu, desc_addr, hi);
    }
    cpu_set_seg(cpu, R_TR, sel, nbase, limit, hi & SEG_ATTR_MASK);
    cpu->cr[0] |= CR0_TS;
    if (t32 && (cpu->cr[0] & CR0_PG))
        cpu_set_cr(cpu, 3, t.cr3);
    if (!t32)
        neflags = (neflags & 0xffff) | (eflags & 0xffff0000u & ~(uint32_t)EFL_VM);
    cpu_load_eflags(cpu, neflags | EFL_FIXED, ~0u);
    cpu->rip = t32 ? t.eip : (t.eip & 0xffff);
    for (int r = 0; r < 8; r++)
        cpu->regs[r] = t32 ? t.regs[r] : ((cpu->regs[r] & ~0xffffULL) | (t.regs[r] & 0xffff));
    /* selectors first, so a fault below shows the new task's selectors */
    for (int s = 0; s < nsegs(t32); s++)
        cpu->seg[s].selector = t.segs[s];
    cpu->seg[R_LDTR].selector = t.ldt;

    /* the new task's segments: faults are raised in its context */
    load_ldt(cpu, t.ldt);
    if (cpu->eflags & EFL_VM) {
        load_vm86_segs(cpu, &t, t32);
    } else {
        load_cs(cpu, t.segs[R_CS]);
        int cpl = t.segs[R_CS] & 3;
        load_ss(cpu, t.segs[R_SS], cpl);
        load_data(cpu, R_DS, t.segs[R_DS], cpl);
        load_data(cpu, R_ES, t.segs[R_ES], cpl);
        if (t32) {
            load_data(cpu, R_FS, t.segs[R_FS], cpl);
            load_data(cpu, R_GS, t.segs[R_GS], cpl);
        }
    }
    cpu_update_hflags(cpu);
    trace_task_switch(cpu, &from, src_names[src], old_sel, t32,
                      (src == SRC_CALL || src == SRC_INT) ? old_sel : 0);
    if (has_err) {
        uint64_t sp = cpu->regs[R_ESP];
        unsigned ssz = (cpu->seg[R_SS].attr & SEG_B) ? 4 : 2;
        seg_push(cpu, &sp, t32 ? 4 : 2, err, ssz);
        cpu->regs[R_ESP] = ssz == 4 ? (uint32_t)sp : ((cpu->regs[R_ESP] & ~0xffffULL) | (sp & 0xffff));
    }
    if (cpu->rip > cpu->seg[R_CS].limit)
        raise(cpu, EXC_GP, 0);
}

/* A TSS selector (from a gate or a link) -> its GDT descriptor, which must
 * be a TSS; err: the error code when it is not. */
static void tss_desc(CPUState *cpu, uint16_t sel, int vec, uint32_t err, uint32_t *lo,
                     uint32_t *hi, uint64_t *addr)
{
    if (!read_desc(cpu, sel, true, lo, hi, addr) || (*hi & SEG_S))
        raise(cpu, vec, err);
    int t = d_type(*hi);
    if (t != 1 && t != 3 && t != 9 && t != 11)
        raise(cpu, vec, err);
}

void task_far_transfer(CPUState *cpu, uint16_t sel, uint32_t lo, uint32_t hi, bool call,
                       uint64_t next_rip)
{
    int cpl = cpu_cpl(cpu), rpl = sel & 3;
    int type = d_type(hi);
    uint64_t addr;
    if (type == 5) {
        /* task gate: privilege against the gate, then its TSS selector */
        if (d_dpl(hi) < cpl || d_dpl(hi) < rpl)
            raise(cpu, EXC_GP, sel & 0xfffc);
        if (!(hi & SEG_P))
            raise(cpu, EXC_NP, sel & 0xfffc);
        uint16_t tsel = (uint16_t)(lo >> 16);
        tss_desc(cpu, tsel, EXC_GP, tsel & 0xfffc, &lo, &hi, &addr);
        sel = tsel;
    } else {
        if (sel & 4)
            raise(cpu, EXC_GP, sel & 0xfffc);   /* a TSS descriptor lives in the GDT */
        tss_desc(cpu, sel, EXC_GP, sel & 0xfffc, &lo, &hi, &addr);
        if (d_dpl(hi) < cpl || d_dpl(hi) < rpl)
            raise(cpu, EXC_GP, sel & 0xfffc);
    }
    switch_task(cpu, sel, lo, hi, addr, call ? SRC_CALL : SRC_JMP, (uint32_t)next_rip, false,
                0, 0);
}

void task_iret(CPUState *cpu, uint64_t next_rip)
{
    SegmentCache *tr = &cpu->seg[R_TR];
    uint16_t link = (uint16_t)cpu_ld(cpu, tr->base, 2, MMU_SYSTEM, 0);
    uint32_t lo, hi;
    uint64_t addr;
    /* SDM IRET: a link that is not a (busy) TSS in the GDT is #TS(link) */
    tss_desc(cpu, link, EXC_TS, link & 0xfffc, &lo, &hi, &addr);
    switch_task(cpu, link, lo, hi, addr, SRC_IRET, (uint32_t)next_rip, false, 0, 0);
}

void task_gate_interrupt(CPUState *cpu, uint32_t lo, uint32_t hi, bool has_err, uint32_t err,
                         uint64_t next_rip, uint32_t ext)
{
    (void)hi;
    uint16_t tsel = (uint16_t)(lo >> 16);
    uint32_t tlo, thi;
    uint64_t addr;
    tss_desc(cpu, tsel, EXC_TS, (tsel & 0xfffc) | ext, &tlo, &thi, &addr);
    switch_task(cpu, tsel, tlo, thi, addr, SRC_INT, (uint32_t)next_rip, has_err, err, ext);
}
