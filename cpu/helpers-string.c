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

#include <string.h>

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

/* str_linear without the fault: false when the limit check fails. */
static bool str_linear_ok(CPUState *cpu, int seg, uint64_t off, unsigned size, bool write,
                          uint64_t *lin)
{
    if (cpu->hflags & HF_CS64) {
        *lin = (seg == R_FS || seg == R_GS) ? off + cpu->seg[seg].base : off;
        return true;
    }
    const SegmentCache *s = &cpu->seg[seg];
    uint64_t lo = write ? s->wr_lo : s->rd_lo, span = write ? s->wr_span : s->rd_span;
    uint64_t t = off - lo;
    if (t > span || t + size - 1 > span)
        return false;
    *lin = (uint32_t)(off + s->base);
    return true;
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

/* Largest n <= count such that n elements of size bytes from offset off
 * stay inside the address size (no wrap of the offset), inside lin's page,
 * and inside the segment (first and last element checked: the valid
 * offsets of a segment are one interval). */
static inline uint64_t str_span(CPUState *cpu, int seg, uint64_t off, uint64_t lin,
                                unsigned slog2, bool write, uint64_t am, uint64_t count)
{
    unsigned size = 1u << slog2;
    uint64_t n = (TLB_PAGE_SIZE - (lin & ~TLB_PAGE_MASK)) >> slog2;
    if (n > count)
        n = count;
    if (n == 0)
        return 0;
    if (off > am - (n * size - 1))
        n = (am - off + 1) >> slog2;   /* am - off < 4095 here: no overflow */
    uint64_t last;
    if (n == 0 || !str_linear_ok(cpu, seg, off + (n - 1) * size, size, write, &last) ||
        last != lin + (n - 1) * size)
        return 0;
    return n;
}

/* REP MOVS / REP STOS forward (DF=0), as many elements as stay within
 * one page of the source and one of the destination, when the soft TLB
 * already maps both as plain RAM (no MMIO, no translated code).  Returns
 * the number of elements done (the caller updates rSI/rDI/rCX), 0 when the caller must do one element the
 * per-element way (which fills the TLB, or faults exactly, or handles
 * self-modifying code).  Same result as the element loop: MOVS copies
 * forward element by element when the destination overlaps the source
 * from above. */
static uint64_t str_bulk(CPUState *cpu, unsigned kind, int seg, unsigned slog2, uint64_t am,
                         int mmu, uint64_t vmask)
{
    unsigned size = 1u << slog2;
    /* Read one at a time: the block just stored them (a wide load
     * spanning two stores would stall store forwarding). */
    uint64_t count = *(volatile uint64_t *)&cpu->regs[R_ECX] & am;
    uint64_t si = *(volatile uint64_t *)&cpu->regs[R_ESI] & am;
    uint64_t di = *(volatile uint64_t *)&cpu->regs[R_EDI] & am;
    uint64_t ldi, lsi = 0;
    if (!str_linear_ok(cpu, R_ES, di, size, true, &ldi))
        return 0;
    uint64_t n = str_span(cpu, R_ES, di, ldi, slog2, true, am, count);
    if (n == 0)
        return 0;
    uint8_t *dst = cpu_tlb_host_page(cpu, ldi, true, mmu);
    if (!dst)
        return 0;
    if (kind == STR_STOS) {
        uint64_t v = cpu->regs[R_EAX] & vmask;
        if (size == 1) {
            memset(dst, (int)v, n);
        } else {
            for (uint64_t i = 0; i < n; i++)
                memcpy(dst + i * size, &v, size);   /* little-endian host */
        }
        return n;
    }
    if (!str_linear_ok(cpu, seg, si, size, false, &lsi))
        return 0;
    uint64_t ns = str_span(cpu, seg, si, lsi, slog2, false, am, n);
    if (ns == 0)
        return 0;
    n = ns;
    const uint8_t *src = cpu_tlb_host_page(cpu, lsi, false, mmu);
    if (!src)
        return 0;
    uint64_t bytes = n * size;
    if (dst > src && dst < src + bytes) {
        /* Forward copy through an overlap replicates a pattern (LZ77
         * decoders rely on it with REP MOVSB).  A wider element is
         * loaded whole before it is stored. */
        if (size == 1) {
            for (uint64_t i = 0; i < n; i++)
                dst[i] = src[i];
        } else {
            for (uint64_t i = 0; i < n; i++)
                memmove(dst + i * size, src + i * size, size);
        }
    } else {
        memmove(dst, src, bytes);
    }
    return n;
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
        cpu_io_check(cpu, (uint16_t)cpu->regs[R_EDX], size);
    bool bulk = rep && step > 0 && (kind == STR_MOVS || kind == STR_STOS);
    for (;;) {
        if (rep && (cpu->regs[R_ECX] & am) == 0)
            break;
        uint64_t n = bulk ? str_bulk(cpu, kind, seg, slog2, am, mmu, vmask) : 0;
        if (n) {
            uint64_t bytes = n * size;
            if (kind == STR_MOVS)
                set_areg(cpu, R_ESI, (cpu->regs[R_ESI] & am) + bytes, alog2);
            set_areg(cpu, R_EDI, (cpu->regs[R_EDI] & am) + bytes, alog2);
            set_areg(cpu, R_ECX, (cpu->regs[R_ECX] & am) - n, alog2);
            if (cpu->exit_budget < 0 && (cpu->regs[R_ECX] & am) != 0)
                return 0;           /* interrupts between pages: rip stays */
            continue;
        }
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
