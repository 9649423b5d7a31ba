/*
 * x86 CPU object: creation, RESET state, EFLAGS and lazy condition codes,
 * hflags (the mode bits translation depends on), register setters for
 * direct boot and tests, state dump and the snapshot field table.
 */
#include "cpu/cpu.h"
#include "cpu/smp.h"

#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "core/log.h"
#include "core/util.h"
#include "cpu/exec.h"
#include "cpu/mmu.h"

/* ---- lazy condition codes ---- */

static uint64_t cc_mask(unsigned sz)
{
    return sz == 3 ? ~0ULL : (1ULL << (8u << sz)) - 1;
}

static uint64_t cc_sign(unsigned sz)
{
    return 1ULL << ((8u << sz) - 1);
}

static uint32_t cc_parity(uint64_t v)
{
    return (__builtin_popcount((uint32_t)(v & 0xff)) & 1) ? 0 : CC_P;
}

/* ZF, SF, PF of a result of the given size. */
static uint32_t cc_szp(uint64_t r, unsigned sz)
{
    r &= cc_mask(sz);
    return (r == 0 ? CC_Z : 0) | (r & cc_sign(sz) ? CC_S : 0) | cc_parity(r);
}

uint32_t cpu_cc_compute_all(uint32_t op, uint64_t dst, uint64_t src, uint64_t src2)
{
    unsigned sz = op & 3;
    uint64_t m = cc_mask(sz), sb = cc_sign(sz);
    uint64_t a, r = dst & m, b = src & m;
    uint32_t f;

    switch (op & ~3u) {
    case CC_OP_EFLAGS:
        return (uint32_t)src & CC_ALL;
    case CC_OP_ADD:
    case CC_OP_ADC: {
        uint64_t cin = (op & ~3u) == CC_OP_ADC ? (src2 & 1) : 0;
        a = (r - b - cin) & m;
        f = cc_szp(r, sz);
        if (cin ? r <= a : r < a)
            f |= CC_C;
        f |= (uint32_t)((a ^ b ^ r) & 0x10);
        if (((a ^ r) & (b ^ r)) & sb)
            f |= CC_O;
        return f;
    }
    case CC_OP_SUB:
    case CC_OP_SBB: {
        uint64_t cin = (op & ~3u) == CC_OP_SBB ? (src2 & 1) : 0;
        a = (r + b + cin) & m;
        f = cc_szp(r, sz);
        if (cin ? a <= b : a < b)
            f |= CC_C;
        f |= (uint32_t)((a ^ b ^ r) & 0x10);
        if (((a ^ b) & (a ^ r)) & sb)
            f |= CC_O;
        return f;
    }
    case CC_OP_LOGIC:
        return cc_szp(r, sz);
    case CC_OP_INC:
        /* dst = result, src = carry before the instruction */
        a = (r - 1) & m;
        f = cc_szp(r, sz) | (uint32_t)(src & CC_C);
        f |= (uint32_t)((a ^ r) & 0x10);
        if (r == sb)
            f |= CC_O;
        return f;
    case CC_OP_DEC:
        a = (r + 1) & m;
        f = cc_szp(r, sz) | (uint32_t)(src & CC_C);
        f |= (uint32_t)((a ^ r) & 0x10);
        if (r == sb - 1)
            f |= CC_O;
        return f;
    case CC_OP_SHL:
        /* src = value shifted by count-1: CF is its top bit; OF = CF ^ SF */
        f = cc_szp(r, sz);
        if (src & sb)
            f |= CC_C;
        if (((src & sb) != 0) != ((r & sb) != 0))
            f |= CC_O;
        return f;
    case CC_OP_SHR:
        /* OF = top bit of the original operand (only defined for count 1:
         * src >> 0 == original) */
        f = cc_szp(r, sz) | (uint32_t)(src & 1);
        if ((src ^ r) & sb)
            f |= CC_O;
        return f;
    case CC_OP_SAR:
        return cc_szp(r, sz) | (uint32_t)(src & 1);
    case CC_OP_MUL:
        f = cc_szp(r, sz);
        if (src)
            f |= CC_C | CC_O;
        return f;
    default:
        return 0;
    }
}

void cpu_cc_settle_pending(CPUState *cpu)
{
    /* INC/DEC keep CF: it is the carry of the state they were applied to. */
    uint32_t cf = cpu_cc_compute_all(cpu->cc_op, cpu->cc_dst, cpu->cc_src, cpu->cc_src2) & CC_C;
    cpu->cc_op = cpu->cc_pend_op;
    cpu->cc_dst = cpu->cc_pend;
    cpu->cc_src = cf;
    cpu->cc_src2 = 0;
    cpu->cc_pend_op = 0;
}

uint32_t cpu_get_eflags(CPUState *cpu)
{
    cpu_cc_settle(cpu);
    return (cpu->eflags & ~CC_ALL) | EFL_FIXED |
           cpu_cc_compute_all(cpu->cc_op, cpu->cc_dst, cpu->cc_src, cpu->cc_src2);
}

/* Bits software can ever write (no RF handling beyond storing it). */
#define EFL_WRITABLE (CC_ALL | EFL_TF | EFL_IF | EFL_DF | EFL_IOPL | EFL_NT | \
                      EFL_RF | EFL_VM | EFL_AC | EFL_VIF | EFL_VIP | EFL_ID)

void cpu_load_eflags(CPUState *cpu, uint32_t value, uint32_t mask)
{
    uint32_t old = cpu_get_eflags(cpu);
    mask &= EFL_WRITABLE;
    uint32_t v = (old & ~mask) | (value & mask);
    cpu->cc_op = CC_OP_EFLAGS;
    cpu->cc_src = v & CC_ALL;
    cpu->cc_dst = 0;
    uint32_t changed = (cpu->eflags ^ v) & ~CC_ALL;
    cpu->eflags = (v & ~CC_ALL) | EFL_FIXED;
    if (changed & (EFL_TF | EFL_IOPL | EFL_VM | EFL_AC))
        cpu_update_hflags(cpu);
}

void cpu_set_eflags(CPUState *cpu, uint32_t value)
{
    cpu_load_eflags(cpu, value, ~0u);
}

/* ---- segments and hflags ---- */

void cpu_seg_update_checks(SegmentCache *s, bool real_mode)
{
    /* Every offset fails: (o - none_lo) is >= 2^63 for any 32-bit offset,
     * and none_span minus (size - 1) stays near 2^62 (a span of 0 would
     * wrap to ~2^64 for multi-byte accesses and let them through). */
    const uint64_t none_lo = 1ULL << 63, none_span = 1ULL << 62;
    bool present = (s->attr & SEG_P) || real_mode;
    if (!present) {
        s->rd_lo = s->wr_lo = none_lo;
        s->rd_span = s->wr_span = none_span;
        return;
    }
    uint64_t lo = 0, hi = s->limit;
    bool code = s->attr & SEG_CODE;
    if (!real_mode && !code && (s->attr & SEG_E)) {
        /* expand-down: valid offsets are limit+1 .. 0xffff or 0xffffffff */
        lo = (uint64_t)s->limit + 1;
        hi = (s->attr & SEG_B) ? 0xffffffffULL : 0xffffULL;
        if (lo > hi) {
            s->rd_lo = s->wr_lo = none_lo;
            s->rd_span = s->wr_span = none_span;
            return;
        }
    }
    s->rd_lo = lo;
    s->rd_span = hi - lo;
    s->wr_lo = lo;
    s->wr_span = hi - lo;
    if (!real_mode) {
        if (code && !(s->attr & SEG_W)) {   /* execute-only */
            s->rd_lo = none_lo;
            s->rd_span = none_span;
        }
        if (code || !(s->attr & SEG_W)) {   /* code or read-only data */
            s->wr_lo = none_lo;
            s->wr_span = none_span;
        }
    }
}

static bool seg_is_flat(const SegmentCache *s)
{
    return s->base == 0 && s->limit == 0xffffffffu && s->rd_lo == 0 &&
           s->wr_lo == 0 && s->wr_span == 0xffffffffu;
}

void cpu_update_hflags(CPUState *cpu)
{
    uint32_t hf = cpu->hflags & HF_CPL_MASK;
    bool pe = cpu->cr[0] & CR0_PE;
    bool vm = pe && (cpu->eflags & EFL_VM);
    if (pe)
        hf |= HF_PE;
    if (vm)
        hf = (hf & ~HF_CPL_MASK) | HF_VM | 3;
    if (!pe)
        hf &= ~HF_CPL_MASK;
    if (cpu->efer & EFER_LMA)
        hf |= HF_LMA;
    if ((hf & HF_LMA) && (cpu->seg[R_CS].attr & SEG_L) && !vm) {
        hf |= HF_CS64 | HF_CS32 | HF_SS32 | HF_FLAT;
    } else {
        if (pe && !vm && (cpu->seg[R_CS].attr & SEG_B))
            hf |= HF_CS32;
        if (pe && !vm && (cpu->seg[R_SS].attr & SEG_B))
            hf |= HF_SS32;
        if (pe && !vm && seg_is_flat(&cpu->seg[R_ES]) && seg_is_flat(&cpu->seg[R_DS]) &&
            seg_is_flat(&cpu->seg[R_SS]) && cpu->seg[R_CS].base == 0 &&
            cpu->seg[R_CS].limit == 0xffffffffu)
            hf |= HF_FLAT;
    }
    if (cpu->eflags & EFL_TF)
        hf |= HF_TF;
    hf |= ((cpu->eflags & EFL_IOPL) >> EFL_IOPL_SHIFT) << HF_IOPL_SHIFT;
    if (cpu->cr[0] & CR0_PG)
        hf |= HF_PG;
    if (cpu->cr[0] & CR0_EM)
        hf |= HF_EM;
    if (cpu->cr[0] & CR0_TS)
        hf |= HF_TS;
    if (cpu->cr[0] & CR0_MP)
        hf |= HF_MP;
    if (cpu->cr[4] & CR4_OSFXSR)
        hf |= HF_OSFXSR;
    if ((cpu->cr[0] & CR0_AM) && (cpu->eflags & EFL_AC) && (hf & HF_CPL_MASK) == 3)
        hf |= HF_AC;
    if ((cpu->mxcsr & ~(uint32_t)MXCSR_FLAGS) == 0x1f80)
        hf |= HF_SSE_FAST;
    if ((cpu->cr[4] & CR4_SMAP) && (cpu->eflags & EFL_AC) && (hf & HF_CPL_MASK) != 3)
        hf |= HF_SMAP_AC;
    cpu->hflags = hf;
}

void cpu_set_seg(CPUState *cpu, int seg, uint16_t selector, uint64_t base,
                 uint32_t limit, uint32_t attr)
{
    SegmentCache *s = &cpu->seg[seg];
    s->selector = selector;
    s->base = base;
    s->limit = limit;
    s->attr = attr & SEG_ATTR_MASK;
    bool real = !(cpu->cr[0] & CR0_PE) || (cpu->eflags & EFL_VM);
    cpu_seg_update_checks(s, real && seg < R_LDTR);
    if (seg == R_CS && (cpu->cr[0] & CR0_PE) && !(cpu->eflags & EFL_VM))
        cpu->hflags = (cpu->hflags & ~HF_CPL_MASK) | (selector & 3);
    if (seg == R_SS && (cpu->cr[0] & CR0_PE) && !(cpu->eflags & EFL_VM) &&
        !(cpu->hflags & HF_LMA))
        cpu->hflags = (cpu->hflags & ~HF_CPL_MASK) | ((attr >> SEG_DPL_SHIFT) & 3);
    cpu_update_hflags(cpu);
}

void cpu_set_seg_real(CPUState *cpu, int seg, uint16_t selector)
{
    SegmentCache *s = &cpu->seg[seg];
    s->selector = selector;
    s->base = (uint64_t)selector << 4;
    cpu_seg_update_checks(s, true);
    cpu_update_hflags(cpu);
}

void cpu_set_cr(CPUState *cpu, int n, uint64_t value)
{
    uint64_t old = cpu->cr[n];
    cpu->cr[n] = value;
    switch (n) {
    case 0:
        cpu->cr[0] |= CR0_ET;
        /* Long mode activates when paging turns on with EFER.LME set. */
        if ((value & CR0_PG) && !(old & CR0_PG) && (cpu->efer & EFER_LME))
            cpu->efer |= EFER_LMA;
        if (!(value & CR0_PG) && (old & CR0_PG))
            cpu->efer &= ~EFER_LMA;
        if ((old ^ value) & (CR0_PG | CR0_WP | CR0_PE))
            mmu_flush_all(cpu);
        if ((old ^ value) & CR0_PE) {
            bool real = !(value & CR0_PE);
            for (int s = R_ES; s <= R_GS; s++)
                cpu_seg_update_checks(&cpu->seg[s], real);
        }
        break;
    case 3:
        mmu_flush_nonglobal(cpu);
        break;
    case 4:
        if ((old ^ value) & (CR4_PAE | CR4_PSE | CR4_PGE | CR4_SMEP | CR4_SMAP |
                             CR4_PCIDE))
            mmu_flush_all(cpu);
        break;
    default:
        break;
    }
    cpu_update_hflags(cpu);
}

void cpu_set_efer(CPUState *cpu, uint64_t value)
{
    uint64_t old = cpu->efer;
    cpu->efer = value;
    if ((old ^ value) & (EFER_NXE | EFER_LMA))
        mmu_flush_all(cpu);
    cpu_update_hflags(cpu);
}

void cpu_set_gdt(CPUState *cpu, uint64_t base, uint32_t limit)
{
    cpu->gdt.base = base;
    cpu->gdt.limit = limit;
}

void cpu_set_idt(CPUState *cpu, uint64_t base, uint32_t limit)
{
    cpu->idt.base = base;
    cpu->idt.limit = limit;
}

void cpu_set_a20_now(CPUState *cpu, bool on)
{
    uint32_t m = on ? 0xffffffffu : ~(1u << 20);
    if (m != cpu->a20_mask) {
        cpu->a20_mask = m;
        mmu_flush_all(cpu);
        cpu_flush_code(cpu);
    }
}

/* The board drives one A20 line for every CPU, from the thread of the CPU
 * whose I/O write moved it: that CPU applies it at once (its next access
 * wraps or not), the others through their mailboxes. */
void cpu_set_a20(CPUState *cpu, bool on)
{
    if (!smp_cpu_elsewhere(cpu))
        cpu_set_a20_now(cpu, on);
    else
        cpu_async_request(cpu, CPU_REQ_SET_A20, on);
}

void cpu_flush_caches(CPUState *cpu)
{
    if (!smp_cpu_elsewhere(cpu)) {
        mmu_flush_all(cpu);
        cpu_flush_code(cpu);
        return;
    }
    cpu_async_request(cpu, CPU_REQ_FLUSH_TLB, 0);
    cpu_async_request(cpu, CPU_REQ_FLUSH_ALL_TBS, 0);
}

/* ---- RESET ---- */

void cpu_reset(CPUState *cpu)
{
    X86ArchState s;
    char err[128];
    cpu_arch_reset_state(&s, &cpu->cfg, cpu->index);
    if (cpu_put_arch_state(cpu, &s, err, sizeof err) < 0) {
        fprintf(stderr, "vx86: CPU reset state refused: %s\n", err);
        abort();
    }
    cpu->last_exception = -1;
    cpu->first_exception = -1;
}

/* ---- creation ---- */

static const DeviceOps cpu_section_ops = { .name = "cpu", .vmsd = &cpu_vmsd };

static CPUState *cpu_alloc(Machine *m, int index, const CPUConfig *cfg, char *err,
                           size_t errlen)
{
    CPUConfig def = CPU_CONFIG_DEFAULT;
    if (!cfg)
        cfg = &def;
    CPUState *cpu = aligned_alloc(64, (sizeof(CPUState) + 63) & ~(size_t)63);
    if (!cpu) {
        snprintf(err, errlen, "out of memory for the CPU state");
        return NULL;
    }
    memset(cpu, 0, sizeof(*cpu));
    cpu->machine = m;
    cpu->index = index;
    cpu->cfg = *cfg;
    cpu->a20_mask = 0xffffffffu;
    cpu->perfmap_fd = -1;
    cpu->icount_stop_at = UINT64_MAX;
    if (!cpu_model_apply(&cpu->cfg, cfg->model_name, err, errlen)) {
        free(cpu);
        return NULL;
    }
    return cpu;
}

/* Lists cpu in its machine (m->cpus, the "cpu" state section) and resets it. */
static CPUState *cpu_attach(CPUState *cpu)
{
    Machine *m = cpu->machine;
    if (m && cpu->index >= 0 && cpu->index < 64) {
        m->cpus[cpu->index] = cpu;
        if (m->ncpus <= cpu->index)
            m->ncpus = cpu->index + 1;
    }
    if (m)
        cpu->section = machine_add_device(m, &cpu_section_ops, cpu);
    cpu_reset(cpu);
    return cpu;
}

CPUState *cpu_create(Machine *m, int index, const CPUConfig *cfg, char *err, size_t errlen)
{
    const char *engine = cfg ? cfg->engine : NULL;
    const IREngine *e = cpu_select_engine(engine);
    if (!e) {
        snprintf(err, errlen, "unknown CPU engine '%s' (known: interp, x86_64)", engine);
        return NULL;
    }
    CPUState *cpu = cpu_alloc(m, index, cfg, err, errlen);
    if (!cpu)
        return NULL;
    if (!cpu_exec_init(cpu, e, err, errlen)) {
        free(cpu);
        return NULL;
    }
    return cpu_attach(cpu);
}

CPUState *cpu_create_state_only(Machine *m, int index, const CPUConfig *cfg, char *err,
                                size_t errlen)
{
    CPUState *cpu = cpu_alloc(m, index, cfg, err, errlen);
    return cpu ? cpu_attach(cpu) : NULL;
}

void cpu_free(CPUState *cpu)
{
    if (!cpu)
        return;
    if (cpu->section)
        machine_remove_device(cpu->machine, cpu->section);
    if (cpu->machine && cpu->index >= 0 && cpu->index < 64 &&
        cpu->machine->cpus[cpu->index] == cpu)
        cpu->machine->cpus[cpu->index] = NULL;
    cpu_exec_destroy(cpu);
    free(cpu->dbg);
    free(cpu);
}

/* ---- dump ---- */

static const char *const seg_names[R_NB_SEG] = { "ES", "CS", "SS", "DS", "FS", "GS", "LDT", "TR" };

void cpu_dump_state(CPUState *cpu, FILE *f)
{
    static const char *const r64[16] = { "RAX", "RCX", "RDX", "RBX", "RSP", "RBP", "RSI", "RDI",
                                         "R8", "R9", "R10", "R11", "R12", "R13", "R14", "R15" };
    uint32_t fl = cpu_get_eflags(cpu);
    bool wide = cpu->hflags & HF_LMA;
    for (int i = 0; i < (wide ? 16 : 8); i++)
        fprintf(f, "%s=%016" PRIx64 "%s", r64[i], cpu->regs[i], (i & 3) == 3 ? "\n" : " ");
    fprintf(f, "RIP=%016" PRIx64 " RFL=%08x [%c%c%c%c%c%c%c] CPL=%d II=%d A20=%d HLT=%d\n",
            cpu->rip, fl, fl & EFL_DF ? 'D' : '-', fl & CC_O ? 'O' : '-',
            fl & CC_S ? 'S' : '-', fl & CC_Z ? 'Z' : '-', fl & CC_A ? 'A' : '-',
            fl & CC_P ? 'P' : '-', fl & CC_C ? 'C' : '-', cpu_cpl(cpu),
            cpu->inhibit_irq, cpu->a20_mask == 0xffffffffu, cpu->halted);
    for (int s = 0; s < R_NB_SEG; s++)
        fprintf(f, "%-3s=%04x %016" PRIx64 " %08x %08x\n", seg_names[s],
                cpu->seg[s].selector, cpu->seg[s].base, cpu->seg[s].limit, cpu->seg[s].attr);
    fprintf(f, "GDT=     %016" PRIx64 " %08x\nIDT=     %016" PRIx64 " %08x\n",
            cpu->gdt.base, cpu->gdt.limit, cpu->idt.base, cpu->idt.limit);
    fprintf(f, "CR0=%08" PRIx64 " CR2=%016" PRIx64 " CR3=%016" PRIx64 " CR4=%08" PRIx64 "\n",
            cpu->cr[0], cpu->cr[2], cpu->cr[3], cpu->cr[4]);
    fprintf(f, "EFER=%016" PRIx64 " hflags=%08x cc_op=%u\n", cpu->efer, cpu->hflags, cpu->cc_op);
}

/* ---- snapshot description ---- */

static const VMField seg_fields[] = {
    VMF_U32(selector, SegmentCache),
    VMF_U32(attr, SegmentCache),
    VMF_U64(base, SegmentCache),
    VMF_U32(limit, SegmentCache),
    VMF_END
};
static const VMStateDesc seg_vmsd = {
    .name = "segment", .version = 1, .min_version = 1, .fields = seg_fields,
};
static const VMField dt_fields[] = {
    VMF_U64(base, DescTable),
    VMF_U32(limit, DescTable),
    VMF_END
};
static const VMStateDesc dt_vmsd = {
    .name = "dtable", .version = 1, .min_version = 1, .fields = dt_fields,
};

static void cpu_pre_save(void *opaque)
{
    CPUState *cpu = opaque;
    char err[256];
    /* Under KVM this CPUState is a copy: bring it up to date first. */
    if (cpu->accel_sync && cpu->accel_sync(cpu->accel_sync_opaque, cpu, false, err, sizeof err) < 0)
        fprintf(stderr, "vx86: saving the CPU: %s (its last known state is saved)\n", err);
    /* Store flags in the canonical form: cc_op EFLAGS. */
    uint32_t fl = cpu_get_eflags(cpu);
    cpu->cc_op = CC_OP_EFLAGS;
    cpu->cc_src = fl & CC_ALL;
}

static int cpu_post_load(void *opaque, int version, char **err)
{
    CPUState *cpu = opaque;
    if (cpu->cc_op >= CC_OP_NB) {
        set_error(err, "cpu: bad cc_op %u", cpu->cc_op);
        return -1;
    }
    if (cpu->exc_pending < -1 || cpu->exc_pending > 31) {
        set_error(err, "cpu: bad pending exception %d", cpu->exc_pending);
        return -1;
    }
    bool real = !(cpu->cr[0] & CR0_PE) || (cpu->eflags & EFL_VM);
    for (int s = 0; s < R_NB_SEG; s++)
        cpu_seg_update_checks(&cpu->seg[s], real && s < R_LDTR);
    cpu_update_hflags(cpu);
    cpu_flush_caches(cpu);
    cpu->exc_delivering = -1;
    cpu->shutdown = false;
    cpu->single_insn_next = false;
    char e[256];
    if (cpu->accel_sync && cpu->accel_sync(cpu->accel_sync_opaque, cpu, true, e, sizeof e) < 0) {
        set_error(err, "cpu: %s", e);
        return -1;
    }
    return 0;
}

static const VMField cpu_fields[] = {
    VMF_U64_ARRAY(regs, CPUState, 16),
    VMF_U64(rip, CPUState),
    VMF_U64(cc_dst, CPUState),
    VMF_U64(cc_src, CPUState),
    VMF_U64(cc_src2, CPUState),
    VMF_U32(cc_op, CPUState),
    VMF_U32(eflags, CPUState),
    VMF_U32(hflags, CPUState),
    VMF_U32(a20_mask, CPUState),
    VMF_STRUCT_ARRAY(seg, CPUState, R_NB_SEG, seg_vmsd),
    VMF_STRUCT(gdt, CPUState, dt_vmsd),
    VMF_STRUCT(idt, CPUState, dt_vmsd),
    VMF_U64_ARRAY(cr, CPUState, 9),
    VMF_U64(efer, CPUState),
    VMF_U64_ARRAY(dr, CPUState, 8),
    VMF_U64(star, CPUState),
    VMF_U64(lstar, CPUState),
    VMF_U64(cstar, CPUState),
    VMF_U64(fmask, CPUState),
    VMF_U64(kernel_gs_base, CPUState),
    VMF_U64(sysenter_cs, CPUState),
    VMF_U64(sysenter_esp, CPUState),
    VMF_U64(sysenter_eip, CPUState),
    VMF_U64(pat, CPUState),
    VMF_U64(apic_base, CPUState),
    VMF_U64(misc_enable, CPUState),
    VMF_U64(tsc_aux, CPUState),
    VMF_I64(tsc_offset, CPUState),
    VMF_BUFFER(xmm, CPUState),
    VMF_BUFFER(fpregs, CPUState),
    VMF_U32(mxcsr, CPUState),
    VMF_U16(fpuc, CPUState),
    VMF_U16(fpus, CPUState),
    VMF_U32(fpstt, CPUState),
    VMF_U32(fptag_empty, CPUState),
    VMF_U16(fpop, CPUState),
    VMF_U16(fpcs, CPUState),
    VMF_U16(fpds, CPUState),
    VMF_U64(fpip, CPUState),
    VMF_U64(fpdp, CPUState),
    VMF_U64(xcr0, CPUState),
    VMF_BOOL(halted, CPUState),
    VMF_BOOL(inhibit_irq, CPUState),
    VMF_U64(inhibit_rip, CPUState),
    VMF_BOOL(nmi_pending, CPUState),
    VMF_I32(exc_pending, CPUState),
    VMF_U32(exc_error, CPUState),
    VMF_END
};

/* Version 2 added the pending exception.  No version-1 stream was ever
 * written outside tests (nothing saved the CPU before). */
const VMStateDesc cpu_vmsd = {
    .name = "cpu", .version = 2, .min_version = 2, .fields = cpu_fields,
    .pre_save = cpu_pre_save, .post_load = cpu_post_load,
};
