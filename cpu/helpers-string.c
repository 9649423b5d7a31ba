/*
 * String instructions: MOVS STOS LODS CMPS SCAS INS OUTS, with and
 * without REP/REPE/REPNE, in C.  Each iteration does its memory accesses
 * first and then updates rSI/rDI/rCX, so a fault in the middle leaves the
 * registers describing the iterations done, with rip still at the
 * instruction: it restarts where it stopped.  A long REP also stops early
 * (rip unchanged) when the execution loop wants control back, so
 * interrupts are taken between iterations.
 */
#include "cpu/helpers.h"

#include "cpu/exec.h"
#include "cpu/mmu.h"

/* Offset in seg -> linear address with the segment's limit check. */
static uint64_t str_linear(CPUState *cpu, int seg, uint64_t off, unsigned size, bool write)
{
    if (cpu->hflags & HF_CS64)
        return (seg == R_FS || seg == R_GS) ? off + cpu->seg[seg].base : off;
    const SegmentCache *s = &cpu->seg[seg];
    uint64_t lo = write ? s->wr_lo : s->rd_lo, span = write ? s->wr_span : s->rd_span;
    uint64_t t = off - lo;
    if (t > span || t + size - 1 > span)
        cpu_raise_exception(cpu, seg == R_SS ? EXC_SS : EXC_GP, 0, 0);
    return (uint32_t)(off + s->base);
}

static uint64_t amask(unsigned alog2)
{
    return alog2 == 3 ? ~0ULL : alog2 == 2 ? 0xffffffffULL : 0xffffULL;
}

static void set_areg(CPUState *cpu, int r, uint64_t v, unsigned alog2)
{
    uint64_t m = amask(alog2);
    if (alog2 == 2)
        cpu->regs[r] = (uint32_t)v;
    else
        cpu->regs[r] = (cpu->regs[r] & ~m) | (v & m);
}

static void io_permission(CPUState *cpu, unsigned port, unsigned size)
{
    /* The IN/OUT helpers hold the full check; reuse it via a dummy-free
     * path: protected mode with CPL > IOPL consults the TSS bitmap. */
    if (!(cpu->cr[0] & CR0_PE))
        return;
    int iopl = (cpu->eflags & EFL_IOPL) >> EFL_IOPL_SHIFT;
    if (!(cpu->eflags & EFL_VM) && cpu_cpl(cpu) <= iopl)
        return;
    SegmentCache *tr = &cpu->seg[R_TR];
    if (!(tr->attr & SEG_P) || tr->limit < 103)
        cpu_raise_exception(cpu, EXC_GP, 0, 0);
    uint32_t base = (uint32_t)cpu_ld(cpu, tr->base + 102, 2, MMU_SYSTEM, 0);
    uint32_t off = base + port / 8;
    if (off + 1 > tr->limit)
        cpu_raise_exception(cpu, EXC_GP, 0, 0);
    uint32_t bits = (uint32_t)cpu_ld(cpu, tr->base + off, 2, MMU_SYSTEM, 0);
    if ((bits >> (port & 7)) & ((1u << size) - 1))
        cpu_raise_exception(cpu, EXC_GP, 0, 0);
}

static u64 helper_string(u64 env, u64 desc, u64 next_rip)
{
    CPUState *cpu = (CPUState *)env;
    unsigned kind = desc & 15, slog2 = (desc >> 4) & 3, alog2 = (desc >> 6) & 3;
    unsigned rep = (desc >> 8) & 3, seg = (desc >> 12) & 7;
    unsigned size = 1u << slog2;
    uint64_t am = amask(alog2);
    int64_t step = (cpu->eflags & EFL_DF) ? -(int64_t)size : (int64_t)size;
    int mmu = cpu_mmu_index(cpu);
    uint64_t vmask = slog2 == 3 ? ~0ULL : (1ULL << (8 * size)) - 1;
    uint64_t done = 0;

    if (kind == STR_INS || kind == STR_OUTS)
        io_permission(cpu, (uint16_t)cpu->regs[R_EDX], size);
    for (;;) {
        if (rep && (cpu->regs[R_ECX] & am) == 0)
            break;
        uint64_t si = cpu->regs[R_ESI] & am, di = cpu->regs[R_EDI] & am;
        bool stop = false;
        switch (kind) {
        case STR_MOVS: {
            uint64_t v = cpu_ld(cpu, str_linear(cpu, seg, si, size, false), size, mmu, 0);
            cpu_st(cpu, str_linear(cpu, R_ES, di, size, true), v, size, mmu, 0);
            set_areg(cpu, R_ESI, si + step, alog2);
            set_areg(cpu, R_EDI, di + step, alog2);
            break;
        }
        case STR_STOS:
            cpu_st(cpu, str_linear(cpu, R_ES, di, size, true), cpu->regs[R_EAX] & vmask, size,
                   mmu, 0);
            set_areg(cpu, R_EDI, di + step, alog2);
            break;
        case STR_LODS: {
            uint64_t v = cpu_ld(cpu, str_linear(cpu, seg, si, size, false), size, mmu, 0);
            if (size == 4)
                cpu->regs[R_EAX] = (uint32_t)v;
            else if (size == 8)
                cpu->regs[R_EAX] = v;
            else
                cpu->regs[R_EAX] = (cpu->regs[R_EAX] & ~vmask) | v;
            set_areg(cpu, R_ESI, si + step, alog2);
            break;
        }
        case STR_CMPS:
        case STR_SCAS: {
            uint64_t a = kind == STR_CMPS
                ? cpu_ld(cpu, str_linear(cpu, seg, si, size, false), size, mmu, 0)
                : cpu->regs[R_EAX] & vmask;
            uint64_t b = cpu_ld(cpu, str_linear(cpu, R_ES, di, size, false), size, mmu, 0);
            cpu->cc_op = CC_OP_SUB + slog2;
            cpu->cc_dst = (a - b) & vmask;
            cpu->cc_src = b;
            if (kind == STR_CMPS)
                set_areg(cpu, R_ESI, si + step, alog2);
            set_areg(cpu, R_EDI, di + step, alog2);
            bool zf = a == b;
            if ((rep == STR_REP_E && !zf) || (rep == STR_REP_NE && zf))
                stop = true;
            break;
        }
        case STR_INS: {
            /* The destination must be writable before the port is read. */
            uint64_t lin = str_linear(cpu, R_ES, di, size, true);
            cpu_probe_write(cpu, lin, size, mmu, 0);
            uint64_t v = iospace_read(cpu->machine->io, (uint16_t)cpu->regs[R_EDX], size);
            cpu_st(cpu, lin, v, size, mmu, 0);
            set_areg(cpu, R_EDI, di + step, alog2);
            break;
        }
        case STR_OUTS: {
            uint64_t v = cpu_ld(cpu, str_linear(cpu, seg, si, size, false), size, mmu, 0);
            iospace_write(cpu->machine->io, (uint16_t)cpu->regs[R_EDX], (uint32_t)v, size);
            set_areg(cpu, R_ESI, si + step, alog2);
            break;
        }
        default:
            break;
        }
        if (!rep)
            break;
        set_areg(cpu, R_ECX, (cpu->regs[R_ECX] & am) - 1, alog2);
        done++;
        if (stop)
            break;
        /* Let the loop take interrupts between iterations: rip stays here. */
        if ((done & 1023) == 0 && cpu->exit_budget < 0 && (cpu->regs[R_ECX] & am) != 0)
            return 0;
    }
    if (rep)
        cpu->rip = next_rip;
    return 0;
}
const IRHelper hlp_string = IR_HELPER(helper_string, IR_CALL_CAN_FAULT);
