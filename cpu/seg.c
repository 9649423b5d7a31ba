/*
 * Segmentation and control transfers: segment-register loads with the
 * protected-mode checks, far JMP/CALL/RET (code segments and call gates,
 * with the stack switch through the TSS), IRET, interrupt and exception
 * delivery through the real-mode IVT, the protected-mode IDT and the
 * long-mode IDT (IST, 16-byte gates), the descriptor-table instructions,
 * LAR/LSL/VERR/VERW, ENTER, SYSCALL/SYSRET, SYSENTER/SYSEXIT and SWAPGS.
 *
 * Every helper checks everything that can fault before it changes any
 * register, so a fault leaves the state of the instruction's start.
 * Hardware task switches (JMP/CALL to a TSS or task gate, IRET with NT,
 * task-gate interrupts) are in cpu/task.c.
 */
#include "cpu/helpers.h"

#include <string.h>

#include "core/log.h"
#include "cpu/exec.h"
#include "cpu/mmu.h"
#include "cpu/task.h"
#include "cpu/trace.h"

#define FAULT IR_CALL_CAN_FAULT

static bool real_or_vm86(const CPUState *cpu)
{
    return !(cpu->cr[0] & CR0_PE) || (cpu->eflags & EFL_VM);
}

static void raise(CPUState *cpu, int vec, uint32_t err) __attribute__((noreturn));
static void raise(CPUState *cpu, int vec, uint32_t err)
{
    cpu_raise_exception(cpu, vec, err, 0);
}

/* ---- descriptors ---- */

typedef struct Desc {
    uint32_t lo, hi;
    uint32_t hi2;            /* long-mode system descriptors: bits 64-95 */
    uint32_t hi3;            /* bits 96-127 (type field 12:8 must be 0) */
} Desc;

static int desc_dpl(const Desc *d) { return (d->hi >> 13) & 3; }
static int desc_type(const Desc *d) { return (d->hi >> 8) & 15; }
static bool desc_s(const Desc *d) { return d->hi & SEG_S; }
static bool desc_p(const Desc *d) { return d->hi & SEG_P; }
static bool desc_code(const Desc *d) { return desc_s(d) && (d->hi & SEG_CODE); }

static uint64_t desc_base(const Desc *d)
{
    return (d->lo >> 16) | (d->hi & 0xff) << 16 | (d->hi & 0xff000000u);
}

static uint32_t desc_limit(const Desc *d)
{
    uint32_t l = (d->hi & 0xf0000) | (d->lo & 0xffff);
    return (d->hi & SEG_G) ? (l << 12) | 0xfff : l;
}

/* Reads the descriptor of sel from the GDT or LDT; false when beyond the
 * table limit.  wide: 16-byte system descriptor (long mode). */
static bool read_desc(CPUState *cpu, uint16_t sel, Desc *d, bool wide)
{
    uint64_t base;
    uint32_t limit;
    if (sel & 4) {
        if (!(cpu->seg[R_LDTR].attr & SEG_P))
            return false;
        base = cpu->seg[R_LDTR].base;
        limit = cpu->seg[R_LDTR].limit;
    } else {
        base = cpu->gdt.base;
        limit = cpu->gdt.limit;
    }
    uint32_t off = sel & ~7u;
    if (off + (wide ? 15u : 7u) > limit)
        return false;
    uint64_t v = cpu_ld(cpu, base + off, 8, MMU_SYSTEM, 0);
    d->lo = (uint32_t)v;
    d->hi = (uint32_t)(v >> 32);
    uint64_t v2 = wide ? cpu_ld(cpu, base + off + 8, 8, MMU_SYSTEM, 0) : 0;
    d->hi2 = (uint32_t)v2;
    d->hi3 = (uint32_t)(v2 >> 32);
    return true;
}

static void set_accessed(CPUState *cpu, uint16_t sel, Desc *d)
{
    if (d->hi & SEG_A)
        return;
    d->hi |= SEG_A;
    uint64_t base = (sel & 4) ? cpu->seg[R_LDTR].base : cpu->gdt.base;
    cpu_st(cpu, base + (sel & ~7u) + 4, d->hi, 4, MMU_SYSTEM, 0);
}

static void load_cache(CPUState *cpu, int seg, uint16_t sel, const Desc *d)
{
    SegmentCache *s = &cpu->seg[seg];
    s->selector = sel;
    s->base = desc_base(d);
    if (seg >= R_LDTR && (cpu->hflags & HF_LMA))
        s->base |= (uint64_t)d->hi2 << 32;
    s->limit = desc_limit(d);
    s->attr = d->hi & SEG_ATTR_MASK;
    cpu_seg_update_checks(s, false);
}

static void load_null(CPUState *cpu, int seg, uint16_t sel)
{
    SegmentCache *s = &cpu->seg[seg];
    s->selector = sel;
    s->attr = 0;
    if (!(cpu->hflags & HF_CS64))
        s->base = 0;
    s->limit = 0;
    cpu_seg_update_checks(s, false);
}

static void load_real(CPUState *cpu, int seg, uint16_t sel)
{
    SegmentCache *s = &cpu->seg[seg];
    s->selector = sel;
    s->base = (uint64_t)sel << 4;
    if (cpu->eflags & EFL_VM) {
        s->limit = 0xffff;
        s->attr = SEG_P | SEG_S | SEG_W | SEG_A | 3u << SEG_DPL_SHIFT |
                  (seg == R_CS ? SEG_CODE : 0);
    }
    cpu_seg_update_checks(s, true);
}

/* Loads a data or stack segment register with the protected-mode checks. */
static void load_data_seg(CPUState *cpu, int seg, uint16_t sel)
{
    if (real_or_vm86(cpu)) {
        load_real(cpu, seg, sel);
        return;
    }
    int cpl = cpu_cpl(cpu), rpl = sel & 3;
    uint16_t err = sel & 0xfffc;
    if ((sel & 0xfffc) == 0) {
        if (seg == R_SS && !((cpu->hflags & HF_CS64) && cpl < 3 && rpl == cpl))
            raise(cpu, EXC_GP, 0);
        load_null(cpu, seg, sel);
        return;
    }
    Desc d;
    if (!read_desc(cpu, sel, &d, false))
        raise(cpu, EXC_GP, err);
    if (seg == R_SS) {
        if (rpl != cpl || !desc_s(&d) || (d.hi & SEG_CODE) || !(d.hi & SEG_W) ||
            desc_dpl(&d) != cpl)
            raise(cpu, EXC_GP, err);
        if (!desc_p(&d))
            raise(cpu, EXC_SS, err);
    } else {
        if (!desc_s(&d) || ((d.hi & SEG_CODE) && !(d.hi & SEG_W)))
            raise(cpu, EXC_GP, err);
        bool conforming_code = (d.hi & SEG_CODE) && (d.hi & SEG_E);
        if (!conforming_code && (rpl > desc_dpl(&d) || cpl > desc_dpl(&d)))
            raise(cpu, EXC_GP, err);
        if (!desc_p(&d))
            raise(cpu, EXC_NP, err);
    }
    set_accessed(cpu, sel, &d);
    load_cache(cpu, seg, sel, &d);
}

static u64 helper_load_seg(u64 env, u64 seg, u64 sel)
{
    CPUState *cpu = (CPUState *)env;
    load_data_seg(cpu, (int)seg, (uint16_t)sel);
    cpu_update_hflags(cpu);
    return 0;
}
const IRHelper hlp_load_seg = IR_HELPER(helper_load_seg, FAULT);

/* ---- stacks ---- */

typedef struct Stack {
    uint64_t base, sp, mask;
    int mmu;
    int seg;                  /* for the limit check; -1: none (long mode) */
    const SegmentCache *cache;
} Stack;

static Stack stack_current(CPUState *cpu)
{
    Stack st = { .base = cpu->seg[R_SS].base, .sp = cpu->regs[R_ESP],
                 .mmu = cpu_mmu_index(cpu), .seg = R_SS, .cache = &cpu->seg[R_SS] };
    if (cpu->hflags & HF_CS64) {
        st.mask = ~0ULL;
        st.base = 0;
        st.cache = NULL;
    } else {
        st.mask = (cpu->seg[R_SS].attr & SEG_B) && !real_or_vm86(cpu) ? 0xffffffffULL : 0xffffULL;
        if (!(cpu->cr[0] & CR0_PE))
            st.mask = (cpu->hflags & HF_SS32) ? 0xffffffffULL : 0xffffULL;
    }
    return st;
}

static uint64_t stack_lin(CPUState *cpu, Stack *st, uint64_t off, unsigned size, bool write)
{
    if (st->cache) {
        const SegmentCache *s = st->cache;
        uint64_t lo = write ? s->wr_lo : s->rd_lo, span = write ? s->wr_span : s->rd_span;
        uint64_t t = off - lo;
        if (t > span || t + size - 1 > span)
            raise(cpu, EXC_SS, 0);
        return (uint32_t)(st->base + off);
    }
    return st->base + off;
}

static void stack_push(CPUState *cpu, Stack *st, unsigned size, uint64_t v)
{
    uint64_t sp = (st->sp - size) & st->mask;
    cpu_st(cpu, stack_lin(cpu, st, sp, size, true), v, size, st->mmu, 0);
    st->sp = (st->sp & ~st->mask) | sp;
}

static uint64_t stack_pop(CPUState *cpu, Stack *st, unsigned size)
{
    uint64_t sp = st->sp & st->mask;
    uint64_t v = cpu_ld(cpu, stack_lin(cpu, st, sp, size, false), size, st->mmu, 0);
    st->sp = (st->sp & ~st->mask) | ((sp + size) & st->mask);
    return v;
}

static void stack_commit(CPUState *cpu, const Stack *st)
{
    if (st->mask == 0xffffULL)
        cpu->regs[R_ESP] = (cpu->regs[R_ESP] & ~0xffffULL) | (st->sp & 0xffff);
    else if (st->mask == 0xffffffffULL)
        cpu->regs[R_ESP] = (uint32_t)st->sp;
    else
        cpu->regs[R_ESP] = st->sp;
}

void seg_push(CPUState *cpu, uint64_t *sp, unsigned size, uint64_t val, unsigned sp_size)
{
    Stack st = stack_current(cpu);
    st.sp = *sp;
    st.mask = sp_size == 8 ? ~0ULL : sp_size == 4 ? 0xffffffffULL : 0xffffULL;
    stack_push(cpu, &st, size, val);
    *sp = st.sp;
}

uint64_t seg_pop(CPUState *cpu, uint64_t *sp, unsigned size, unsigned sp_size)
{
    Stack st = stack_current(cpu);
    st.sp = *sp;
    st.mask = sp_size == 8 ? ~0ULL : sp_size == 4 ? 0xffffffffULL : 0xffffULL;
    uint64_t v = stack_pop(cpu, &st, size);
    *sp = st.sp;
    return v;
}

/* Inner-level stack from the TSS for privilege level dpl. */
static void tss_stack(CPUState *cpu, int dpl, uint16_t *ss, uint64_t *sp)
{
    SegmentCache *tr = &cpu->seg[R_TR];
    if (!(tr->attr & SEG_P))
        raise(cpu, EXC_TS, tr->selector & 0xfffc);
    unsigned type = (tr->attr >> 8) & 0xf;
    if (cpu->hflags & HF_LMA) {
        uint32_t off = 4 + dpl * 8;
        if (off + 7 > tr->limit)
            raise(cpu, EXC_TS, tr->selector & 0xfffc);
        *sp = cpu_ld(cpu, tr->base + off, 8, MMU_SYSTEM, 0);
        *ss = (uint16_t)dpl;
        return;
    }
    bool t32 = type == 1 ? false : true;   /* 1/3: 16-bit TSS, 9/11: 32-bit */
    if (type == 1 || type == 3)
        t32 = false;
    uint32_t off = t32 ? 4 + dpl * 8 : 2 + dpl * 4;
    if (off + (t32 ? 5u : 3u) > tr->limit)
        raise(cpu, EXC_TS, tr->selector & 0xfffc);
    if (t32) {
        *sp = cpu_ld(cpu, tr->base + off, 4, MMU_SYSTEM, 0);
        *ss = (uint16_t)cpu_ld(cpu, tr->base + off + 4, 2, MMU_SYSTEM, 0);
    } else {
        *sp = cpu_ld(cpu, tr->base + off, 2, MMU_SYSTEM, 0);
        *ss = (uint16_t)cpu_ld(cpu, tr->base + off + 2, 2, MMU_SYSTEM, 0);
    }
}

/* Checks an SS selector for use at privilege dpl; returns its descriptor. */
static void check_new_ss(CPUState *cpu, uint16_t ss, int dpl, Desc *d, int vec)
{
    uint16_t err = ss & 0xfffc;
    if ((ss & 0xfffc) == 0 || (ss & 3) != dpl || !read_desc(cpu, ss, d, false))
        raise(cpu, vec, err);
    if (!desc_s(d) || (d->hi & SEG_CODE) || !(d->hi & SEG_W) || desc_dpl(d) != dpl)
        raise(cpu, vec, err);
    if (!desc_p(d))
        raise(cpu, EXC_SS, err);
}

static void set_cs(CPUState *cpu, uint16_t sel, const Desc *d, int cpl)
{
    load_cache(cpu, R_CS, (uint16_t)((sel & ~3) | cpl), d);
    cpu->hflags = (cpu->hflags & ~HF_CPL_MASK) | (uint32_t)cpl;
    cpu_update_hflags(cpu);
}

/* Data segments whose DPL is below the new CPL become unusable (RET and
 * IRET to an outer level). */
static void invalidate_outer_segs(CPUState *cpu, int cpl)
{
    static const int segs[] = { R_ES, R_DS, R_FS, R_GS };
    for (unsigned i = 0; i < 4; i++) {
        SegmentCache *s = &cpu->seg[segs[i]];
        bool conforming_code = (s->attr & SEG_CODE) && (s->attr & SEG_E);
        int dpl = (s->attr >> SEG_DPL_SHIFT) & 3;
        if (!conforming_code && dpl < cpl && (s->attr & SEG_S))
            load_null(cpu, segs[i], 0);
    }
}

/* ---- far JMP / CALL ---- */

/* Checks a code segment as the target of JMP/CALL; returns its descriptor. */
static void check_code_target(CPUState *cpu, uint16_t sel, Desc *d, bool *conforming)
{
    int cpl = cpu_cpl(cpu);
    uint16_t err = sel & 0xfffc;
    if (!desc_code(d))
        raise(cpu, EXC_GP, err);
    *conforming = d->hi & SEG_E;
    if (*conforming ? desc_dpl(d) > cpl : ((sel & 3) > cpl || desc_dpl(d) != cpl))
        raise(cpu, EXC_GP, err);
    if (!desc_p(d))
        raise(cpu, EXC_NP, err);
}

/* The new rip must be within the target's limit or, for a 64-bit code
 * segment, canonical: #GP(0) at the far transfer itself (SDM 2A JMP/CALL,
 * 2B RET/IRET), not at the fetch. */
static void check_ip_in_limit(CPUState *cpu, const Desc *d, uint64_t ip)
{
    bool l64 = (cpu->hflags & HF_LMA) && (d->hi & SEG_L);
    if (l64 ? (uint64_t)((int64_t)(ip << 16) >> 16) != ip : ip > desc_limit(d))
        raise(cpu, EXC_GP, 0);
}

/* A call gate: returns the target selector/offset and its code segment. */
static void read_call_gate(CPUState *cpu, uint16_t sel, Desc *gate, uint16_t *tsel,
                           uint64_t *toff, Desc *code)
{
    int cpl = cpu_cpl(cpu);
    uint16_t err = sel & 0xfffc;
    if (desc_dpl(gate) < cpl || desc_dpl(gate) < (sel & 3))
        raise(cpu, EXC_GP, err);
    /* IA-32e: the upper half's type field (bits 12:8 of the highest dword)
     * must be 0, so a legacy descriptor is never taken as a gate's upper
     * half (SDM 3A 5.8.3.1). */
    if ((cpu->hflags & HF_LMA) && (gate->hi3 & 0x1f00))
        raise(cpu, EXC_GP, err);
    if (!desc_p(gate))
        raise(cpu, EXC_NP, err);
    *tsel = (uint16_t)(gate->lo >> 16);
    *toff = (gate->lo & 0xffff) | (desc_type(gate) == 4 ? 0 : (gate->hi & 0xffff0000u));
    if (cpu->hflags & HF_LMA)
        *toff |= (uint64_t)gate->hi2 << 32;
    if ((*tsel & 0xfffc) == 0)
        raise(cpu, EXC_GP, 0);
    if (!read_desc(cpu, *tsel, code, false) || !desc_code(code) || desc_dpl(code) > cpl)
        raise(cpu, EXC_GP, *tsel & 0xfffc);
    /* A 64-bit gate must lead to a 64-bit code segment (L=1, D=0). */
    if ((cpu->hflags & HF_LMA) && (!(code->hi & SEG_L) || (code->hi & SEG_B)))
        raise(cpu, EXC_GP, *tsel & 0xfffc);
    if (!desc_p(code))
        raise(cpu, EXC_NP, *tsel & 0xfffc);
}

static bool is_call_gate(const CPUState *cpu, const Desc *d)
{
    int t = desc_type(d);
    if (cpu->hflags & HF_LMA)
        return t == 12;
    return t == 4 || t == 12;
}

/* TSS (16/32-bit, available or busy) or task gate: a task switch. */
static bool is_task_desc(const Desc *d)
{
    int t = desc_type(d);
    return t == 1 || t == 3 || t == 5 || t == 9 || t == 11;
}

static u64 helper_ljmp(u64 env, u64 sel64, u64 off, u64 next_rip, u64 opsize)
{
    CPUState *cpu = (CPUState *)env;
    uint16_t sel = (uint16_t)sel64;
    if (real_or_vm86(cpu)) {
        load_real(cpu, R_CS, sel);
        cpu->rip = opsize == 2 ? (off & 0xffff) : (uint32_t)off;
        cpu_update_hflags(cpu);
        return 0;
    }
    if ((sel & 0xfffc) == 0)
        raise(cpu, EXC_GP, 0);
    Desc d;
    bool wide = (cpu->hflags & HF_LMA) != 0;
    if (!read_desc(cpu, sel, &d, false))
        raise(cpu, EXC_GP, sel & 0xfffc);
    if (desc_s(&d)) {
        bool conf;
        check_code_target(cpu, sel, &d, &conf);
        uint64_t ip = opsize == 2 ? (off & 0xffff) : opsize == 4 ? (uint32_t)off : off;
        check_ip_in_limit(cpu, &d, ip);
        TraceFrom from;
        trace_from(cpu, LOG_PCALL, &from);
        set_accessed(cpu, sel, &d);
        set_cs(cpu, sel, &d, cpu_cpl(cpu));
        cpu->rip = ip;
        trace_far_direct(cpu, &from, "ljmp");
        return 0;
    }
    if (is_call_gate(cpu, &d)) {
        if (wide && !read_desc(cpu, sel, &d, true))
            raise(cpu, EXC_GP, sel & 0xfffc);
        uint16_t tsel;
        uint64_t toff;
        Desc code;
        read_call_gate(cpu, sel, &d, &tsel, &toff, &code);
        bool conf = code.hi & SEG_E;
        if (!conf && desc_dpl(&code) != cpu_cpl(cpu))
            raise(cpu, EXC_GP, tsel & 0xfffc);
        check_ip_in_limit(cpu, &code, toff);
        TraceFrom from;
        trace_from(cpu, LOG_PCALL, &from);
        set_accessed(cpu, tsel, &code);
        set_cs(cpu, tsel, &code, cpu_cpl(cpu));
        cpu->rip = toff;
        trace_far_gate(cpu, &from, "ljmp", sel, desc_type(&d), desc_dpl(&d), 0);
        return 0;
    }
    if (!wide && is_task_desc(&d)) {
        task_far_transfer(cpu, sel, d.lo, d.hi, false, next_rip);
        return 0;
    }
    raise(cpu, EXC_GP, sel & 0xfffc);
}
const IRHelper hlp_ljmp = IR_HELPER(helper_ljmp, FAULT);

static u64 helper_lcall(u64 env, u64 sel64, u64 off, u64 next_rip, u64 opsize)
{
    CPUState *cpu = (CPUState *)env;
    uint16_t sel = (uint16_t)sel64;
    unsigned osz = (unsigned)opsize;
    Stack st = stack_current(cpu);
    if (real_or_vm86(cpu)) {
        stack_push(cpu, &st, osz, cpu->seg[R_CS].selector);
        stack_push(cpu, &st, osz, next_rip);
        stack_commit(cpu, &st);
        load_real(cpu, R_CS, sel);
        cpu->rip = osz == 2 ? (off & 0xffff) : (uint32_t)off;
        cpu_update_hflags(cpu);
        return 0;
    }
    if ((sel & 0xfffc) == 0)
        raise(cpu, EXC_GP, 0);
    Desc d;
    bool wide = (cpu->hflags & HF_LMA) != 0;
    if (!read_desc(cpu, sel, &d, false))
        raise(cpu, EXC_GP, sel & 0xfffc);
    int cpl = cpu_cpl(cpu);
    if (desc_s(&d)) {
        bool conf;
        check_code_target(cpu, sel, &d, &conf);
        uint64_t ip = osz == 2 ? (off & 0xffff) : osz == 4 ? (uint32_t)off : off;
        check_ip_in_limit(cpu, &d, ip);
        stack_push(cpu, &st, osz, cpu->seg[R_CS].selector);
        stack_push(cpu, &st, osz, next_rip);
        TraceFrom from;
        trace_from(cpu, LOG_PCALL, &from);
        set_accessed(cpu, sel, &d);
        stack_commit(cpu, &st);
        set_cs(cpu, sel, &d, cpl);
        cpu->rip = ip;
        trace_far_direct(cpu, &from, "lcall");
        return 0;
    }
    if (!is_call_gate(cpu, &d)) {
        if (!wide && is_task_desc(&d)) {
            task_far_transfer(cpu, sel, d.lo, d.hi, true, next_rip);
            return 0;
        }
        raise(cpu, EXC_GP, sel & 0xfffc);
    }
    if (wide && !read_desc(cpu, sel, &d, true))
        raise(cpu, EXC_GP, sel & 0xfffc);
    uint16_t tsel;
    uint64_t toff;
    Desc code;
    read_call_gate(cpu, sel, &d, &tsel, &toff, &code);
    TraceFrom from;
    trace_from(cpu, LOG_PCALL, &from);
    unsigned gsz = wide ? 8 : desc_type(&d) == 4 ? 2 : 4;
    int dpl = desc_dpl(&code);
    check_ip_in_limit(cpu, &code, toff);
    if (!(code.hi & SEG_E) && dpl < cpl) {
        /* More privileged: new stack from the TSS, old SS:SP and the
         * parameters copied over. */
        uint16_t nss;
        uint64_t nsp;
        tss_stack(cpu, dpl, &nss, &nsp);
        Desc ssd;
        Stack ns = { .sp = nsp, .mmu = MMU_SYSTEM };
        if (wide) {
            nss = 0;
            ns.mask = ~0ULL;
            ns.base = 0;
            ns.seg = -1;
        } else {
            check_new_ss(cpu, nss, dpl, &ssd, EXC_TS);
            ns.base = desc_base(&ssd);
            ns.mask = (ssd.hi & SEG_B) ? 0xffffffffULL : 0xffffULL;
        }
        unsigned nparams = wide ? 0 : d.hi & 31;
        uint64_t params[32];
        for (unsigned i = 0; i < nparams; i++) {
            uint64_t a = (st.sp + (uint64_t)i * gsz) & st.mask;
            params[i] = cpu_ld(cpu, stack_lin(cpu, &st, a, gsz, false), gsz, st.mmu, 0);
        }
        stack_push(cpu, &ns, gsz, cpu->seg[R_SS].selector);
        stack_push(cpu, &ns, gsz, cpu->regs[R_ESP]);
        for (unsigned i = nparams; i-- > 0;)
            stack_push(cpu, &ns, gsz, params[i]);
        stack_push(cpu, &ns, gsz, cpu->seg[R_CS].selector);
        stack_push(cpu, &ns, gsz, next_rip);
        /* commit */
        if (wide)
            load_null(cpu, R_SS, (uint16_t)dpl);
        else
            load_cache(cpu, R_SS, nss, &ssd);
        cpu->regs[R_ESP] = ns.mask == 0xffffULL ? ((cpu->regs[R_ESP] & ~0xffffULL) | (ns.sp & 0xffff))
                                                : ns.sp & ns.mask;
        set_cs(cpu, tsel, &code, dpl);
        cpu->rip = toff;
        trace_far_gate(cpu, &from, "lcall", sel, desc_type(&d), desc_dpl(&d), nparams);
        return 0;
    }
    stack_push(cpu, &st, gsz, cpu->seg[R_CS].selector);
    stack_push(cpu, &st, gsz, next_rip);
    stack_commit(cpu, &st);
    set_cs(cpu, tsel, &code, cpl);
    cpu->rip = toff;
    trace_far_gate(cpu, &from, "lcall", sel, desc_type(&d), desc_dpl(&d), 0);
    return 0;
}
const IRHelper hlp_lcall = IR_HELPER(helper_lcall, FAULT);

static u64 helper_lret(u64 env, u64 opsize, u64 imm)
{
    CPUState *cpu = (CPUState *)env;
    unsigned osz = (unsigned)opsize;
    Stack st = stack_current(cpu);
    uint64_t ip = stack_pop(cpu, &st, osz);
    uint16_t sel = (uint16_t)stack_pop(cpu, &st, osz);
    if (real_or_vm86(cpu)) {
        st.sp = (st.sp & ~st.mask) | ((st.sp + imm) & st.mask);
        stack_commit(cpu, &st);
        load_real(cpu, R_CS, sel);
        cpu->rip = osz == 2 ? (ip & 0xffff) : ip;
        cpu_update_hflags(cpu);
        return 0;
    }
    int cpl = cpu_cpl(cpu), rpl = sel & 3;
    if ((sel & 0xfffc) == 0)
        raise(cpu, EXC_GP, 0);
    Desc d;
    if (!read_desc(cpu, sel, &d, false) || !desc_code(&d) || rpl < cpl)
        raise(cpu, EXC_GP, sel & 0xfffc);
    if ((d.hi & SEG_E) ? desc_dpl(&d) > rpl : desc_dpl(&d) != rpl)
        raise(cpu, EXC_GP, sel & 0xfffc);
    if (!desc_p(&d))
        raise(cpu, EXC_NP, sel & 0xfffc);
    if (osz == 2)
        ip &= 0xffff;
    check_ip_in_limit(cpu, &d, ip);
    st.sp = (st.sp & ~st.mask) | ((st.sp + imm) & st.mask);
    TraceFrom from;
    trace_from(cpu, LOG_PCALL, &from);
    if (rpl > cpl) {
        uint64_t nsp = stack_pop(cpu, &st, osz);
        uint16_t nss = (uint16_t)stack_pop(cpu, &st, osz);
        Desc ssd;
        bool null_ok = (cpu->hflags & HF_LMA) && (d.hi & SEG_L) && rpl < 3;
        if ((nss & 0xfffc) == 0 && null_ok) {
            set_cs(cpu, sel, &d, rpl);
            load_null(cpu, R_SS, nss);
        } else {
            check_new_ss(cpu, nss, rpl, &ssd, EXC_GP);
            set_cs(cpu, sel, &d, rpl);
            load_cache(cpu, R_SS, nss, &ssd);
        }
        cpu_update_hflags(cpu);
        Stack ns = stack_current(cpu);
        ns.sp = nsp + imm;
        stack_commit(cpu, &ns);
        invalidate_outer_segs(cpu, rpl);
    } else {
        stack_commit(cpu, &st);
        set_cs(cpu, sel, &d, cpl);
    }
    cpu->rip = ip;
    cpu_update_hflags(cpu);
    trace_far_return(cpu, &from, "lret");
    return 0;
}
const IRHelper hlp_lret = IR_HELPER(helper_lret, FAULT);

/* ---- IRET ---- */

static void iret_load_flags(CPUState *cpu, uint32_t fl, unsigned osz, int cpl_before)
{
    int iopl = (cpu->eflags & EFL_IOPL) >> EFL_IOPL_SHIFT;
    uint32_t mask = CC_ALL | EFL_TF | EFL_DF | EFL_NT | EFL_RF | EFL_AC | EFL_ID;
    if (cpl_before == 0)
        mask |= EFL_IOPL | EFL_VIF | EFL_VIP;
    if (cpl_before <= iopl)
        mask |= EFL_IF;
    if (!(cpu->cr[0] & CR0_PE))
        mask |= EFL_IOPL | EFL_IF;
    if (osz == 2)
        mask &= 0xffff;
    cpu_load_eflags(cpu, fl, mask);
}

static u64 helper_iret(u64 env, u64 opsize, u64 next_rip)
{
    CPUState *cpu = (CPUState *)env;
    unsigned osz = (unsigned)opsize;
    Stack st = stack_current(cpu);
    if (!(cpu->cr[0] & CR0_PE) || (cpu->eflags & EFL_VM)) {
        if ((cpu->eflags & EFL_VM) && ((cpu->eflags & EFL_IOPL) >> EFL_IOPL_SHIFT) < 3)
            raise(cpu, EXC_GP, 0);
        uint64_t ip = stack_pop(cpu, &st, osz);
        uint16_t sel = (uint16_t)stack_pop(cpu, &st, osz);
        uint32_t fl = (uint32_t)stack_pop(cpu, &st, osz);
        if (osz == 2)
            fl = (fl & 0xffff) | (cpu_get_eflags(cpu) & 0xffff0000u);
        stack_commit(cpu, &st);
        load_real(cpu, R_CS, sel);
        cpu->rip = osz == 2 ? (ip & 0xffff) : (uint32_t)ip;
        uint32_t mask = ~(uint32_t)(EFL_VM | EFL_VIF | EFL_VIP);
        if (cpu->eflags & EFL_VM)
            mask &= ~(uint32_t)EFL_IOPL;
        cpu_load_eflags(cpu, fl, mask);
        cpu_update_hflags(cpu);
        return 0;
    }
    if ((cpu->eflags & EFL_NT) && !(cpu->hflags & HF_LMA)) {
        task_iret(cpu, next_rip);
        return 0;
    }
    int cpl = cpu_cpl(cpu);
    TraceFrom from;
    trace_from(cpu, LOG_PCALL, &from);
    uint64_t ip = stack_pop(cpu, &st, osz);
    uint16_t sel = (uint16_t)stack_pop(cpu, &st, osz);
    uint32_t fl = (uint32_t)stack_pop(cpu, &st, osz);
    if ((fl & EFL_VM) && cpl == 0 && osz == 4 && !(cpu->hflags & HF_LMA)) {
        /* Back to virtual-8086 mode. */
        uint64_t nsp = stack_pop(cpu, &st, 4);
        uint16_t nss = (uint16_t)stack_pop(cpu, &st, 4);
        uint16_t es = (uint16_t)stack_pop(cpu, &st, 4), ds = (uint16_t)stack_pop(cpu, &st, 4);
        uint16_t fs = (uint16_t)stack_pop(cpu, &st, 4), gs = (uint16_t)stack_pop(cpu, &st, 4);
        cpu_load_eflags(cpu, fl, ~0u);
        load_real(cpu, R_CS, sel);
        load_real(cpu, R_SS, nss);
        load_real(cpu, R_ES, es);
        load_real(cpu, R_DS, ds);
        load_real(cpu, R_FS, fs);
        load_real(cpu, R_GS, gs);
        cpu->regs[R_ESP] = (uint32_t)nsp;
        cpu->rip = ip & 0xffff;
        cpu->hflags = (cpu->hflags & ~HF_CPL_MASK) | 3;
        cpu_update_hflags(cpu);
        trace_far_return(cpu, &from, "iret to virtual-8086 mode");
        return 0;
    }
    int rpl = sel & 3;
    if ((sel & 0xfffc) == 0)
        raise(cpu, EXC_GP, 0);
    Desc d;
    if (!read_desc(cpu, sel, &d, false) || !desc_code(&d) || rpl < cpl)
        raise(cpu, EXC_GP, sel & 0xfffc);
    if ((d.hi & SEG_E) ? desc_dpl(&d) > rpl : desc_dpl(&d) != rpl)
        raise(cpu, EXC_GP, sel & 0xfffc);
    if (!desc_p(&d))
        raise(cpu, EXC_NP, sel & 0xfffc);
    if (osz == 2)
        ip &= 0xffff;
    else if (osz == 4)
        ip = (uint32_t)ip;
    bool to64 = (cpu->hflags & HF_LMA) && (d.hi & SEG_L);
    if (!to64)
        check_ip_in_limit(cpu, &d, ip);
    if (rpl > cpl || (cpu->hflags & HF_CS64)) {
        uint64_t nsp = stack_pop(cpu, &st, osz);
        uint16_t nss = (uint16_t)stack_pop(cpu, &st, osz);
        Desc ssd;
        bool null_ok = (cpu->hflags & HF_LMA) && rpl < 3 && to64;
        bool ss_null = (nss & 0xfffc) == 0;
        if (!(ss_null && null_ok))
            check_new_ss(cpu, nss, rpl, &ssd, EXC_GP);
        iret_load_flags(cpu, fl, osz, cpl);
        set_cs(cpu, sel, &d, rpl);
        if (ss_null && null_ok)
            load_null(cpu, R_SS, nss);
        else
            load_cache(cpu, R_SS, nss, &ssd);
        cpu_update_hflags(cpu);
        if ((cpu->hflags & HF_CS64) || osz == 8)
            cpu->regs[R_ESP] = nsp;
        else if (ssd.hi & SEG_B)
            cpu->regs[R_ESP] = (uint32_t)nsp;
        else
            cpu->regs[R_ESP] = (cpu->regs[R_ESP] & ~0xffffULL) | (nsp & 0xffff);
        if (rpl > cpl)
            invalidate_outer_segs(cpu, rpl);
    } else {
        iret_load_flags(cpu, fl, osz, cpl);
        stack_commit(cpu, &st);
        set_cs(cpu, sel, &d, cpl);
    }
    cpu->rip = ip;
    cpu_update_hflags(cpu);
    if (rpl > cpl)
        trace_far_return(cpu, &from, "iret");
    (void)next_rip;
    return 0;
}
const IRHelper hlp_iret = IR_HELPER(helper_iret, FAULT);

/* ---- interrupt and exception delivery ---- */

static void do_interrupt_real(CPUState *cpu, int vec, uint64_t next_rip)
{
    if ((uint32_t)vec * 4 + 3 > cpu->idt.limit)
        raise(cpu, EXC_GP, (uint32_t)vec * 8 + 2);
    Stack st = stack_current(cpu);
    uint32_t fl = cpu_get_eflags(cpu);
    stack_push(cpu, &st, 2, fl);
    stack_push(cpu, &st, 2, cpu->seg[R_CS].selector);
    stack_push(cpu, &st, 2, next_rip);
    uint32_t ent = (uint32_t)cpu_ld(cpu, cpu->idt.base + (uint64_t)vec * 4, 4, MMU_SYSTEM, 0);
    stack_commit(cpu, &st);
    load_real(cpu, R_CS, (uint16_t)(ent >> 16));
    cpu->rip = ent & 0xffff;
    cpu->eflags &= ~(uint32_t)(EFL_IF | EFL_TF | EFL_AC | EFL_RF);
    cpu_update_hflags(cpu);
}

static void do_interrupt_protected(CPUState *cpu, int vec, bool is_sw, bool has_err,
                                   uint32_t err, uint64_t next_rip, const TraceFrom *from)
{
    bool lm = cpu->hflags & HF_LMA;
    unsigned esz = lm ? 16 : 8;
    uint32_t idt_err = (uint32_t)vec * 8 + 2 + (is_sw ? 0 : 1);
    if ((uint32_t)vec * esz + esz - 1 > cpu->idt.limit)
        raise(cpu, EXC_GP, idt_err);
    uint64_t ga = cpu->idt.base + (uint64_t)vec * esz;
    Desc g;
    uint64_t v = cpu_ld(cpu, ga, 8, MMU_SYSTEM, 0);
    g.lo = (uint32_t)v;
    g.hi = (uint32_t)(v >> 32);
    g.hi2 = lm ? (uint32_t)cpu_ld(cpu, ga + 8, 4, MMU_SYSTEM, 0) : 0;
    int type = desc_type(&g);
    bool ok = lm ? (type == 14 || type == 15) : (type == 6 || type == 7 || type == 14 || type == 15);
    if (!lm && type == 5) {
        if (is_sw && desc_dpl(&g) < cpu_cpl(cpu))
            raise(cpu, EXC_GP, idt_err);
        if (!desc_p(&g))
            raise(cpu, EXC_NP, idt_err);
        trace_int_gate(cpu, from, vec, type, desc_dpl(&g), 0, (uint16_t)(g.lo >> 16));
        task_gate_interrupt(cpu, g.lo, g.hi, has_err, err, next_rip, is_sw ? 0 : 1);
        return;
    }
    if (!ok || desc_s(&g))
        raise(cpu, EXC_GP, idt_err);
    int cpl = cpu_cpl(cpu);
    if (is_sw && desc_dpl(&g) < cpl)
        raise(cpu, EXC_GP, idt_err);
    if (!desc_p(&g))
        raise(cpu, EXC_NP, idt_err);
    uint16_t sel = (uint16_t)(g.lo >> 16);
    uint64_t off = (g.lo & 0xffff) | (g.hi & 0xffff0000u);
    if (lm)
        off |= (uint64_t)g.hi2 << 32;
    bool gate32 = type >= 14;
    if (!gate32)
        off &= 0xffff;
    uint32_t ext = is_sw ? 0 : 1;
    if ((sel & 0xfffc) == 0)
        raise(cpu, EXC_GP, ext);
    Desc code;
    if (!read_desc(cpu, sel, &code, false) || !desc_code(&code) || desc_dpl(&code) > cpl)
        raise(cpu, EXC_GP, (sel & 0xfffc) | ext);
    if (!desc_p(&code))
        raise(cpu, EXC_NP, (sel & 0xfffc) | ext);
    if (lm && (!(code.hi & SEG_L) || (code.hi & SEG_B)))
        raise(cpu, EXC_GP, (sel & 0xfffc) | ext);
    int dpl = (code.hi & SEG_E) ? cpl : desc_dpl(&code);
    bool vm86 = cpu->eflags & EFL_VM;
    if (vm86 && dpl != 0)
        raise(cpu, EXC_GP, (sel & 0xfffc) | ext);
    uint32_t fl = cpu_get_eflags(cpu);
    unsigned psz = lm ? 8 : gate32 ? 4 : 2;
    unsigned ist = lm ? (g.hi & 7) : 0;
    Stack ns;
    Desc ssd;
    uint16_t nss = 0;
    bool switch_stack = dpl < cpl || ist;
    if (switch_stack || lm) {
        uint64_t nsp;
        if (dpl < cpl)
            tss_stack(cpu, dpl, &nss, &nsp);
        else
            nsp = cpu->regs[R_ESP];
        if (ist) {
            SegmentCache *tr = &cpu->seg[R_TR];
            uint32_t o = 0x24 + (ist - 1) * 8;
            if (o + 7 > tr->limit)
                raise(cpu, EXC_TS, tr->selector & 0xfffc);
            nsp = cpu_ld(cpu, tr->base + o, 8, MMU_SYSTEM, 0);
        }
        if (lm) {
            nss = dpl < cpl ? (uint16_t)dpl : cpu->seg[R_SS].selector;
            ns = (Stack){ .base = 0, .sp = nsp & ~15ULL, .mask = ~0ULL, .mmu = MMU_SYSTEM,
                          .seg = -1 };
        } else {
            check_new_ss(cpu, nss, dpl, &ssd, EXC_TS);
            ns = (Stack){ .base = desc_base(&ssd), .sp = nsp,
                          .mask = (ssd.hi & SEG_B) ? 0xffffffffULL : 0xffffULL,
                          .mmu = MMU_SYSTEM, .seg = -1 };
        }
        if (vm86) {
            stack_push(cpu, &ns, psz, cpu->seg[R_GS].selector);
            stack_push(cpu, &ns, psz, cpu->seg[R_FS].selector);
            stack_push(cpu, &ns, psz, cpu->seg[R_DS].selector);
            stack_push(cpu, &ns, psz, cpu->seg[R_ES].selector);
        }
        if (switch_stack || lm) {
            stack_push(cpu, &ns, psz, cpu->seg[R_SS].selector);
            stack_push(cpu, &ns, psz, cpu->regs[R_ESP]);
        }
    } else {
        ns = stack_current(cpu);
        ns.mmu = MMU_SYSTEM;
    }
    stack_push(cpu, &ns, psz, fl);
    stack_push(cpu, &ns, psz, cpu->seg[R_CS].selector);
    stack_push(cpu, &ns, psz, next_rip);
    if (has_err)
        stack_push(cpu, &ns, psz, err);
    /* commit */
    if (vm86) {
        load_null(cpu, R_GS, 0);
        load_null(cpu, R_FS, 0);
        load_null(cpu, R_DS, 0);
        load_null(cpu, R_ES, 0);
    }
    if (dpl < cpl) {
        if (lm)
            load_null(cpu, R_SS, nss);
        else
            load_cache(cpu, R_SS, nss, &ssd);
    }
    cpu->eflags &= ~(uint32_t)(EFL_TF | EFL_NT | EFL_RF | EFL_VM);
    if (!(type & 1))
        cpu->eflags &= ~(uint32_t)EFL_IF;
    set_cs(cpu, sel, &code, dpl);
    if (lm || switch_stack)
        cpu->regs[R_ESP] = ns.mask == 0xffffULL ? ((cpu->regs[R_ESP] & ~0xffffULL) | (ns.sp & 0xffff))
                                                : (ns.sp & ns.mask);
    else
        stack_commit(cpu, &ns);
    cpu->rip = off;
    cpu_update_hflags(cpu);
    trace_int_gate(cpu, from, vec, type, desc_dpl(&g), ist, 0);
}

void cpu_do_interrupt(CPUState *cpu, int vec, bool is_sw, bool has_err, uint32_t err,
                      uint64_t next_rip)
{
    TraceFrom from;
    trace_from(cpu, LOG_INT | LOG_PCALL, &from);
    trace_int_event(cpu, &from, vec, is_sw, has_err, err);
    if (!(cpu->cr[0] & CR0_PE))
        do_interrupt_real(cpu, vec, next_rip);
    else
        do_interrupt_protected(cpu, vec, is_sw, has_err, err, next_rip, &from);
    trace_int_delivered(cpu, &from);
}

/* kind: 0 INT n, 1 INT3/INTO (no VM86 IOPL... same rules as INT n), 2 INT1 */
static u64 helper_int(u64 env, u64 vec, u64 next_rip, u64 kind)
{
    CPUState *cpu = (CPUState *)env;
    if ((cpu->eflags & EFL_VM) && kind != 2 &&
        ((cpu->eflags & EFL_IOPL) >> EFL_IOPL_SHIFT) < 3)
        raise(cpu, EXC_GP, 0);
    cpu->last_exception = (int)vec;
    cpu_do_interrupt(cpu, (int)vec, kind != 2, false, 0, next_rip);
    return 0;
}
const IRHelper hlp_int = IR_HELPER(helper_int, FAULT);

/* ---- descriptor-table instructions ---- */

static u64 helper_lgdt_lidt(CPUState *cpu, uint64_t lin, unsigned osz, DescTable *dt)
{
    int mmu = cpu_mmu_index(cpu);
    uint32_t limit = (uint32_t)cpu_ld(cpu, lin, 2, mmu, 0);
    uint64_t base;
    if (cpu->hflags & HF_CS64)
        base = cpu_ld(cpu, lin + 2, 8, mmu, 0);
    else {
        base = cpu_ld(cpu, lin + 2, 4, mmu, 0);
        if (osz == 2)
            base &= 0xffffff;
    }
    dt->base = base;
    dt->limit = limit;
    return 0;
}

static u64 helper_lgdt(u64 env, u64 lin, u64 osz)
{
    CPUState *cpu = (CPUState *)env;
    return helper_lgdt_lidt(cpu, lin, (unsigned)osz, &cpu->gdt);
}
const IRHelper hlp_lgdt = IR_HELPER(helper_lgdt, FAULT);

static u64 helper_lidt(u64 env, u64 lin, u64 osz)
{
    CPUState *cpu = (CPUState *)env;
    return helper_lgdt_lidt(cpu, lin, (unsigned)osz, &cpu->idt);
}
const IRHelper hlp_lidt = IR_HELPER(helper_lidt, FAULT);

static void store_dt(CPUState *cpu, uint64_t lin, const DescTable *dt)
{
    int mmu = cpu_mmu_index(cpu);
    if ((cpu->cr[4] & CR4_UMIP) && cpu_cpl(cpu) > 0)
        raise(cpu, EXC_GP, 0);
    unsigned bsz = (cpu->hflags & HF_CS64) ? 8 : 4;
    cpu_probe_write(cpu, lin, 2 + bsz, mmu, 0);
    cpu_st(cpu, lin, dt->limit, 2, mmu, 0);
    cpu_st(cpu, lin + 2, dt->base, bsz, mmu, 0);
}

static u64 helper_sgdt(u64 env, u64 lin, u64 osz)
{
    CPUState *cpu = (CPUState *)env;
    store_dt(cpu, lin, &cpu->gdt);
    return 0;
}
const IRHelper hlp_sgdt = IR_HELPER(helper_sgdt, FAULT);

static u64 helper_sidt(u64 env, u64 lin, u64 osz)
{
    CPUState *cpu = (CPUState *)env;
    store_dt(cpu, lin, &cpu->idt);
    return 0;
}
const IRHelper hlp_sidt = IR_HELPER(helper_sidt, FAULT);

static u64 helper_lldt(u64 env, u64 sel64)
{
    CPUState *cpu = (CPUState *)env;
    uint16_t sel = (uint16_t)sel64;
    bool wide = cpu->hflags & HF_LMA;
    if ((sel & 0xfffc) == 0) {
        cpu->seg[R_LDTR].selector = sel;
        cpu->seg[R_LDTR].attr = 0;
        return 0;
    }
    if (sel & 4)
        raise(cpu, EXC_GP, sel & 0xfffc);
    Desc d;
    if (!read_desc(cpu, sel, &d, wide) || desc_s(&d) || desc_type(&d) != 2)
        raise(cpu, EXC_GP, sel & 0xfffc);
    if (!desc_p(&d))
        raise(cpu, EXC_NP, sel & 0xfffc);
    load_cache(cpu, R_LDTR, sel, &d);
    return 0;
}
const IRHelper hlp_lldt = IR_HELPER(helper_lldt, FAULT);

static u64 helper_ltr(u64 env, u64 sel64)
{
    CPUState *cpu = (CPUState *)env;
    uint16_t sel = (uint16_t)sel64;
    bool wide = cpu->hflags & HF_LMA;
    if ((sel & 0xfffc) == 0 || (sel & 4))
        raise(cpu, EXC_GP, sel & 0xfffc);
    Desc d;
    int t;
    if (!read_desc(cpu, sel, &d, wide) || desc_s(&d))
        raise(cpu, EXC_GP, sel & 0xfffc);
    t = desc_type(&d);
    if (!(t == 9 || (!wide && t == 1)))
        raise(cpu, EXC_GP, sel & 0xfffc);
    if (!desc_p(&d))
        raise(cpu, EXC_NP, sel & 0xfffc);
    /* Mark busy. */
    d.hi |= 2u << 8;
    cpu_st(cpu, cpu->gdt.base + (sel & ~7u) + 4, d.hi, 4, MMU_SYSTEM, 0);
    load_cache(cpu, R_TR, sel, &d);
    return 0;
}
const IRHelper hlp_ltr = IR_HELPER(helper_ltr, FAULT);

/* Sets ZF (other flags kept) in the lazy state. */
static void set_zf(CPUState *cpu, bool z)
{
    uint32_t f = cpu_get_eflags(cpu) & CC_ALL;
    f = z ? (f | CC_Z) : (f & ~(uint32_t)CC_Z);
    cpu->cc_op = CC_OP_EFLAGS;
    cpu->cc_src = f;
}

/* Visibility of a descriptor for LAR/LSL/VERR/VERW at CPL/RPL. */
static bool desc_visible(CPUState *cpu, uint16_t sel, const Desc *d)
{
    int cpl = cpu_cpl(cpu), rpl = sel & 3;
    bool conforming_code = desc_code(d) && (d->hi & SEG_E);
    if (conforming_code)
        return true;
    return desc_dpl(d) >= cpl && desc_dpl(d) >= rpl;
}

static u64 lar_lsl(CPUState *cpu, uint16_t sel, bool lsl)
{
    Desc d;
    bool ok = (sel & 0xfffc) && read_desc(cpu, sel, &d, false) && desc_visible(cpu, sel, &d);
    if (ok && !desc_s(&d)) {
        int t = desc_type(&d);
        static const bool lar_ok[16] = { [1] = 1, [2] = 1, [3] = 1, [4] = 1, [5] = 1, [9] = 1,
                                         [11] = 1, [12] = 1 };
        static const bool lsl_ok[16] = { [1] = 1, [2] = 1, [3] = 1, [9] = 1, [11] = 1 };
        ok = lsl ? lsl_ok[t] : lar_ok[t];
        if (cpu->hflags & HF_LMA)
            ok = ok && (t == 2 || t == 9 || t == 11 || (!lsl && t == 12));
    }
    set_zf(cpu, ok);
    if (!ok)
        return 0;
    uint64_t v = lsl ? desc_limit(&d) : (d.hi & 0x00f0ff00u);
    return v | 1ULL << 63;
}

static u64 helper_lar(u64 env, u64 sel)
{
    return lar_lsl((CPUState *)env, (uint16_t)sel, false);
}
const IRHelper hlp_lar = IR_HELPER(helper_lar, FAULT);

static u64 helper_lsl(u64 env, u64 sel)
{
    return lar_lsl((CPUState *)env, (uint16_t)sel, true);
}
const IRHelper hlp_lsl = IR_HELPER(helper_lsl, FAULT);

static u64 verx(CPUState *cpu, uint16_t sel, bool write)
{
    Desc d;
    bool ok = (sel & 0xfffc) && read_desc(cpu, sel, &d, false) && desc_s(&d) &&
              desc_visible(cpu, sel, &d);
    if (ok)
        ok = write ? !(d.hi & SEG_CODE) && (d.hi & SEG_W) : (!(d.hi & SEG_CODE) || (d.hi & SEG_W));
    set_zf(cpu, ok);
    return 0;
}

static u64 helper_verr(u64 env, u64 sel) { return verx((CPUState *)env, (uint16_t)sel, false); }
const IRHelper hlp_verr = IR_HELPER(helper_verr, FAULT);
static u64 helper_verw(u64 env, u64 sel) { return verx((CPUState *)env, (uint16_t)sel, true); }
const IRHelper hlp_verw = IR_HELPER(helper_verw, FAULT);

/* ---- ENTER ---- */

/* SDM 2A ENTER.  The stack-size attribute (SS.B, 64 in 64-bit mode) picks
 * SP or ESP as the stack pointer and BP or EBP as the frame pointer; a
 * 16-bit operand size writes only BP.  So in 32-bit code on a 16-bit stack
 * only BP and SP change, the upper halves of EBP and ESP stay.
 *
 * ENTER faults before it changes anything, including "a write using the
 * final value of the stack pointer": a first pass walks every push slot,
 * the nesting reads and the final stack top (segment limits, then pages,
 * with the instruction's own privilege), and only then does the second
 * pass read and store, which can no longer fault. */
/* One push of ENTER: stored (commit) or only checked for writing. */
static void enter_push(CPUState *cpu, Stack *st, unsigned osz, uint64_t v, bool commit)
{
    if (commit) {
        stack_push(cpu, st, osz, v);
        return;
    }
    uint64_t sp = (st->sp - osz) & st->mask;
    cpu_probe_write(cpu, stack_lin(cpu, st, sp, osz, true), osz, st->mmu, 0);
    st->sp = (st->sp & ~st->mask) | sp;
}

/* The pushes of ENTER and the new stack pointer; returns the frame
 * pointer (the stack pointer after pushing the old one). */
static uint64_t enter_frame(CPUState *cpu, unsigned osz, uint64_t alloc, unsigned level,
                            bool commit)
{
    Stack st = stack_current(cpu);
    uint64_t bp = cpu->regs[R_EBP];
    enter_push(cpu, &st, osz, bp, commit);
    uint64_t frame = st.sp & st.mask;
    for (unsigned i = 1; i <= level; i++) {
        uint64_t v = frame;                 /* the last push: the new frame */
        if (i < level) {
            bp = (bp - osz) & st.mask;
            v = cpu_ld(cpu, stack_lin(cpu, &st, bp, osz, false), osz, st.mmu, 0);
        }
        enter_push(cpu, &st, osz, v, commit);
    }
    st.sp = (st.sp & ~st.mask) | ((st.sp - alloc) & st.mask);
    if (commit)
        stack_commit(cpu, &st);
    else if (alloc)
        cpu_probe_write(cpu, stack_lin(cpu, &st, st.sp & st.mask, 1, true), 1, st.mmu, 0);
    return frame;
}

static u64 helper_enter(u64 env, u64 opsize, u64 alloc, u64 level)
{
    CPUState *cpu = (CPUState *)env;
    unsigned osz = (unsigned)opsize;
    enter_frame(cpu, osz, alloc, (unsigned)level, false);
    uint64_t frame = enter_frame(cpu, osz, alloc, (unsigned)level, true);
    Stack st = stack_current(cpu);
    if (osz == 2 || st.mask == 0xffffULL)
        cpu->regs[R_EBP] = (cpu->regs[R_EBP] & ~0xffffULL) | (frame & 0xffff);
    else if (osz == 4)
        cpu->regs[R_EBP] = (uint32_t)frame;
    else
        cpu->regs[R_EBP] = frame;
    return 0;
}
const IRHelper hlp_enter = IR_HELPER(helper_enter, FAULT);

/* ---- SYSCALL / SYSRET / SYSENTER / SYSEXIT / SWAPGS ---- */

static void flat_seg(CPUState *cpu, int seg, uint16_t sel, uint32_t attr)
{
    SegmentCache *s = &cpu->seg[seg];
    s->selector = sel;
    s->base = 0;
    s->limit = 0xffffffff;
    s->attr = attr;
    cpu_seg_update_checks(s, false);
}

static u64 helper_syscall(u64 env, u64 next_rip)
{
    CPUState *cpu = (CPUState *)env;
    if (!(cpu->efer & EFER_SCE))
        raise(cpu, EXC_UD, 0);
    TraceFrom from;
    trace_from(cpu, LOG_PCALL, &from);
    uint16_t sel = (uint16_t)(cpu->star >> 32);
    uint32_t code = SEG_P | SEG_S | SEG_CODE | SEG_W | SEG_A | SEG_G;
    uint32_t data = SEG_P | SEG_S | SEG_W | SEG_A | SEG_G | SEG_B;
    if (cpu->hflags & HF_LMA) {
        cpu->regs[R_ECX] = next_rip;
        cpu->regs[11] = cpu_get_eflags(cpu) & ~(uint32_t)EFL_RF;
        flat_seg(cpu, R_CS, sel & 0xfffc, code | SEG_L);
        flat_seg(cpu, R_SS, (sel + 8) & 0xfffc, data);
        cpu_load_eflags(cpu, cpu_get_eflags(cpu) & ~(uint32_t)cpu->fmask & ~(uint32_t)EFL_RF,
                        ~0u);
        cpu->hflags &= ~HF_CPL_MASK;
        cpu->rip = (cpu->hflags & HF_CS64) ? cpu->lstar : cpu->cstar;
    } else {
        cpu->regs[R_ECX] = (uint32_t)next_rip;
        flat_seg(cpu, R_CS, sel & 0xfffc, code | SEG_B);
        flat_seg(cpu, R_SS, (sel + 8) & 0xfffc, data);
        cpu->eflags &= ~(uint32_t)(EFL_VM | EFL_IF | EFL_RF);
        cpu->hflags &= ~HF_CPL_MASK;
        cpu->rip = (uint32_t)cpu->star;
    }
    cpu_update_hflags(cpu);
    trace_far_direct(cpu, &from, "syscall");
    return 0;
}
const IRHelper hlp_syscall = IR_HELPER(helper_syscall, FAULT);

static u64 helper_sysret(u64 env, u64 opsize)
{
    CPUState *cpu = (CPUState *)env;
    if (!(cpu->efer & EFER_SCE))
        raise(cpu, EXC_UD, 0);
    if (cpu_cpl(cpu) != 0 || !(cpu->cr[0] & CR0_PE))
        raise(cpu, EXC_GP, 0);
    TraceFrom from;
    trace_from(cpu, LOG_PCALL, &from);
    uint16_t sel = (uint16_t)(cpu->star >> 48);
    uint32_t code = SEG_P | SEG_S | SEG_CODE | SEG_W | SEG_A | SEG_G | 3u << SEG_DPL_SHIFT;
    uint32_t data = SEG_P | SEG_S | SEG_W | SEG_A | SEG_G | SEG_B | 3u << SEG_DPL_SHIFT;
    if (cpu->hflags & HF_LMA) {
        if (opsize == 8) {
            if ((uint64_t)((int64_t)(cpu->regs[R_ECX] << 16) >> 16) != cpu->regs[R_ECX])
                raise(cpu, EXC_GP, 0);
            flat_seg(cpu, R_CS, (sel + 16) | 3, code | SEG_L);
            cpu->rip = cpu->regs[R_ECX];
        } else {
            flat_seg(cpu, R_CS, sel | 3, code | SEG_B);
            cpu->rip = (uint32_t)cpu->regs[R_ECX];
        }
        cpu->seg[R_SS].selector = (sel + 8) | 3;
        cpu->seg[R_SS].attr = data;
        cpu_seg_update_checks(&cpu->seg[R_SS], false);
        cpu_load_eflags(cpu, (uint32_t)cpu->regs[11], ~0u & ~(uint32_t)(EFL_VM | EFL_RF));
    } else {
        flat_seg(cpu, R_CS, sel | 3, code | SEG_B);
        cpu->seg[R_SS].selector = (sel + 8) | 3;
        cpu->eflags |= EFL_IF;
        cpu->rip = (uint32_t)cpu->regs[R_ECX];
    }
    cpu->hflags = (cpu->hflags & ~HF_CPL_MASK) | 3;
    cpu_update_hflags(cpu);
    trace_far_direct(cpu, &from, opsize == 8 ? "sysretq" : "sysret");
    return 0;
}
const IRHelper hlp_sysret = IR_HELPER(helper_sysret, FAULT);

static u64 helper_sysenter(u64 env)
{
    CPUState *cpu = (CPUState *)env;
    uint16_t cs = (uint16_t)cpu->sysenter_cs;
    if (!(cpu->cr[0] & CR0_PE) || (cs & 0xfffc) == 0)
        raise(cpu, EXC_GP, 0);
    TraceFrom from;
    trace_from(cpu, LOG_PCALL, &from);
    uint32_t code = SEG_P | SEG_S | SEG_CODE | SEG_W | SEG_A | SEG_G;
    uint32_t data = SEG_P | SEG_S | SEG_W | SEG_A | SEG_G | SEG_B;
    cpu->eflags &= ~(uint32_t)(EFL_VM | EFL_IF | EFL_RF);
    bool lm = cpu->hflags & HF_LMA;
    flat_seg(cpu, R_CS, cs & 0xfffc, code | (lm ? SEG_L : SEG_B));
    flat_seg(cpu, R_SS, (cs + 8) & 0xfffc, data);
    cpu->hflags &= ~HF_CPL_MASK;
    cpu->regs[R_ESP] = lm ? cpu->sysenter_esp : (uint32_t)cpu->sysenter_esp;
    cpu->rip = lm ? cpu->sysenter_eip : (uint32_t)cpu->sysenter_eip;
    cpu_update_hflags(cpu);
    trace_far_direct(cpu, &from, "sysenter");
    return 0;
}
const IRHelper hlp_sysenter = IR_HELPER(helper_sysenter, FAULT);

static u64 helper_sysexit(u64 env, u64 opsize)
{
    CPUState *cpu = (CPUState *)env;
    uint16_t cs = (uint16_t)cpu->sysenter_cs;
    if (!(cpu->cr[0] & CR0_PE) || cpu_cpl(cpu) != 0 || (cs & 0xfffc) == 0)
        raise(cpu, EXC_GP, 0);
    TraceFrom from;
    trace_from(cpu, LOG_PCALL, &from);
    uint32_t code = SEG_P | SEG_S | SEG_CODE | SEG_W | SEG_A | SEG_G | 3u << SEG_DPL_SHIFT;
    uint32_t data = SEG_P | SEG_S | SEG_W | SEG_A | SEG_G | SEG_B | 3u << SEG_DPL_SHIFT;
    if (opsize == 8) {
        flat_seg(cpu, R_CS, (cs + 32) | 3, code | SEG_L);
        flat_seg(cpu, R_SS, (cs + 40) | 3, data);
        cpu->regs[R_ESP] = cpu->regs[R_ECX];
        cpu->rip = cpu->regs[R_EDX];
    } else {
        flat_seg(cpu, R_CS, (cs + 16) | 3, code | SEG_B);
        flat_seg(cpu, R_SS, (cs + 24) | 3, data);
        cpu->regs[R_ESP] = (uint32_t)cpu->regs[R_ECX];
        cpu->rip = (uint32_t)cpu->regs[R_EDX];
    }
    cpu->hflags = (cpu->hflags & ~HF_CPL_MASK) | 3;
    cpu_update_hflags(cpu);
    trace_far_direct(cpu, &from, opsize == 8 ? "sysexitq" : "sysexit");
    return 0;
}
const IRHelper hlp_sysexit = IR_HELPER(helper_sysexit, FAULT);

static u64 helper_swapgs(u64 env)
{
    CPUState *cpu = (CPUState *)env;
    uint64_t t = cpu->seg[R_GS].base;
    cpu->seg[R_GS].base = cpu->kernel_gs_base;
    cpu->kernel_gs_base = t;
    return 0;
}
const IRHelper hlp_swapgs = IR_HELPER(helper_swapgs, 0);

static u64 helper_rdfsgsbase(u64 env, u64 seg)
{
    CPUState *cpu = (CPUState *)env;
    if (!(cpu->cr[4] & CR4_FSGSBASE))
        raise(cpu, EXC_UD, 0);
    return cpu->seg[seg & 7].base;
}
const IRHelper hlp_rdfsgsbase = IR_HELPER(helper_rdfsgsbase, FAULT);

static u64 helper_wrfsgsbase(u64 env, u64 seg, u64 v)
{
    CPUState *cpu = (CPUState *)env;
    if (!(cpu->cr[4] & CR4_FSGSBASE))
        raise(cpu, EXC_UD, 0);
    if ((uint64_t)((int64_t)(v << 16) >> 16) != v)
        raise(cpu, EXC_GP, 0);
    cpu->seg[seg & 7].base = v;
    return 0;
}
const IRHelper hlp_wrfsgsbase = IR_HELPER(helper_wrfsgsbase, FAULT);
