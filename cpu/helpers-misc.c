/*
 * Helpers for flags, exceptions, block lookup, the flags register
 * instructions (PUSHF/POPF/CLI/STI with IOPL and VM86 rules), HLT, I/O
 * with permission checks, CPUID, TSC, MSRs and control/debug registers.
 */
#include "cpu/helpers.h"

#include <string.h>

#include "core/log.h"
#include "cpu/debug.h"
#include "cpu/decode.h"
#include "cpu/exec.h"
#include "cpu/mmu.h"
#include "cpu/smp.h"
#include "tcg/tb.h"

#define HFLAGS (IR_CALL_NO_READ_GLOBALS | IR_CALL_NO_WRITE_GLOBALS)
#define FAULT IR_CALL_CAN_FAULT

/* ---- lazy flags ---- */

static u64 helper_cc_compute_all(u64 op, u64 dst, u64 src, u64 src2)
{
    return cpu_cc_compute_all((uint32_t)op, dst, src, src2);
}
const IRHelper hlp_cc_compute_all = IR_HELPER(helper_cc_compute_all, HFLAGS | IR_CALL_PURE);

/* ---- exceptions ---- */

static u64 helper_raise_exception(u64 env, u64 vec, u64 err)
{
    cpu_raise_exception((CPUState *)env, (int)vec, (uint32_t)err, 0);
}
const IRHelper hlp_raise_exception = IR_HELPER(helper_raise_exception, FAULT);

static u64 helper_seg_fault(u64 env, u64 seg)
{
    cpu_raise_exception((CPUState *)env, seg == R_SS ? EXC_SS : EXC_GP, 0, 0);
}
const IRHelper hlp_seg_fault = IR_HELPER(helper_seg_fault, FAULT);

/* After an instruction executed with TF set: #DB (a trap: rip is next). */
static u64 helper_single_step(u64 env)
{
    CPUState *cpu = (CPUState *)env;
    cpu->dr[6] |= 1u << 14;   /* BS */
    cpu_raise_exception(cpu, EXC_DB, 0, 0);
}
const IRHelper hlp_single_step = IR_HELPER(helper_single_step, FAULT);

static u64 helper_bound(u64 env, u64 idx, u64 lo, u64 hi)
{
    if ((int64_t)idx < (int64_t)lo || (int64_t)idx > (int64_t)hi)
        cpu_raise_exception((CPUState *)env, EXC_BR, 0, 0);
    return 0;
}
const IRHelper hlp_bound = IR_HELPER(helper_bound, FAULT | HFLAGS);

/* ---- block lookup for indirect jumps ---- */

static u64 helper_lookup_tb_ptr(u64 env)
{
    /* Also reached when an inline jump-cache probe missed: the block may
     * be in the hash table still (the jump cache is flushed with the
     * TLB), which is much cheaper to find here than through the loop. */
    TB *tb = cpu_find_cached_tb((CPUState *)env);
    return tb && !tb->invalid ? (u64)(uintptr_t)tb->code : 0;
}
const IRHelper hlp_lookup_tb_ptr = IR_HELPER(helper_lookup_tb_ptr, 0);

/* ---- flags register ---- */

uint32_t cpu_read_eflags_for_push(CPUState *cpu)
{
    /* RF and VM read as 0 in the pushed image. */
    return cpu_get_eflags(cpu) & ~(EFL_RF | EFL_VM);
}

static int cpu_iopl(const CPUState *cpu)
{
    return (cpu->eflags & EFL_IOPL) >> EFL_IOPL_SHIFT;
}

static u64 helper_read_eflags(u64 env)
{
    CPUState *cpu = (CPUState *)env;
    if ((cpu->eflags & EFL_VM) && cpu_iopl(cpu) < 3)
        cpu_raise_exception(cpu, EXC_GP, 0, 0);
    return cpu_read_eflags_for_push(cpu);
}
const IRHelper hlp_read_eflags = IR_HELPER(helper_read_eflags, FAULT);

static u64 helper_write_eflags(u64 env, u64 val, u64 opsize)
{
    CPUState *cpu = (CPUState *)env;
    uint32_t mask = CC_ALL | EFL_TF | EFL_DF | EFL_NT | EFL_AC | EFL_ID;
    int cpl = cpu_cpl(cpu);
    if (cpu->eflags & EFL_VM) {
        if (cpu_iopl(cpu) < 3)
            cpu_raise_exception(cpu, EXC_GP, 0, 0);
        mask |= EFL_IF;
    } else {
        if (cpl == 0)
            mask |= EFL_IOPL;
        if (cpl <= cpu_iopl(cpu))
            mask |= EFL_IF;
    }
    if (opsize == 2)
        mask &= 0xffff;
    /* VM, RF, VIF, VIP are never changed by POPF. */
    cpu_load_eflags(cpu, (uint32_t)val, mask);
    return 0;
}
const IRHelper hlp_write_eflags = IR_HELPER(helper_write_eflags, FAULT);

static u64 helper_cli(u64 env)
{
    CPUState *cpu = (CPUState *)env;
    if ((cpu->cr[0] & CR0_PE) && cpu_iopl(cpu) < cpu_cpl(cpu))
        cpu_raise_exception(cpu, EXC_GP, 0, 0);
    cpu->eflags &= ~EFL_IF;
    return 0;
}
const IRHelper hlp_cli = IR_HELPER(helper_cli, FAULT | HFLAGS);

static u64 helper_sti(u64 env, u64 next_rip)
{
    CPUState *cpu = (CPUState *)env;
    if ((cpu->cr[0] & CR0_PE) && cpu_iopl(cpu) < cpu_cpl(cpu))
        cpu_raise_exception(cpu, EXC_GP, 0, 0);
    if (!(cpu->eflags & EFL_IF)) {
        /* Interrupts wait one more instruction after STI. */
        cpu->inhibit_irq = true;
        cpu->inhibit_rip = next_rip;
    }
    cpu->eflags |= EFL_IF;
    return 0;
}
const IRHelper hlp_sti = IR_HELPER(helper_sti, FAULT | HFLAGS);

static u64 helper_set_inhibit(u64 env, u64 next_rip)
{
    CPUState *cpu = (CPUState *)env;
    cpu->inhibit_irq = true;
    cpu->inhibit_rip = next_rip;
    return 0;
}
const IRHelper hlp_set_inhibit = IR_HELPER(helper_set_inhibit, HFLAGS);

static u64 helper_clac(u64 env)
{
    CPUState *cpu = (CPUState *)env;
    cpu->eflags &= ~EFL_AC;
    cpu_update_hflags(cpu);   /* picks the TLB of the new AC (HF_SMAP_AC) */
    return 0;
}
const IRHelper hlp_clac = IR_HELPER(helper_clac, HFLAGS);

static u64 helper_stac(u64 env)
{
    CPUState *cpu = (CPUState *)env;
    cpu->eflags |= EFL_AC;
    cpu_update_hflags(cpu);   /* picks the TLB of the new AC (HF_SMAP_AC) */
    return 0;
}
const IRHelper hlp_stac = IR_HELPER(helper_stac, HFLAGS);

static u64 helper_hlt(u64 env, u64 next_rip)
{
    CPUState *cpu = (CPUState *)env;
    cpu->rip = next_rip;
    cpu->halted = true;
    cpu->inhibit_irq = false;
    return 0;
}
const IRHelper hlp_hlt = IR_HELPER(helper_hlt, 0);

/* ---- I/O ---- */

/* The one I/O permission check (IN/OUT here, INS/OUTS in
 * helpers-string.c), SDM 1 19.5: protected mode with CPL > IOPL, or VM86,
 * consults the I/O bitmap of the TSS.  Only a 32-bit TSS has one: with a
 * 16-bit TSS every such access is #GP(0). */
void cpu_io_check(CPUState *cpu, unsigned port, unsigned size)
{
    if (!(cpu->cr[0] & CR0_PE))
        return;
    if (!(cpu->eflags & EFL_VM) && cpu_cpl(cpu) <= cpu_iopl(cpu))
        return;
    SegmentCache *tr = &cpu->seg[R_TR];
    unsigned type = (tr->attr >> 8) & 15;
    if (!(tr->attr & SEG_P) || (type != 9 && type != 11) || tr->limit < 103)
        cpu_raise_exception(cpu, EXC_GP, 0, 0);
    uint32_t base = (uint32_t)cpu_ld(cpu, tr->base + 102, 2, MMU_SYSTEM, 0);
    uint32_t off = base + port / 8;
    if (off + 1 > tr->limit)
        cpu_raise_exception(cpu, EXC_GP, 0, 0);
    uint32_t bits = (uint32_t)cpu_ld(cpu, tr->base + off, 2, MMU_SYSTEM, 0);
    if ((bits >> (port & 7)) & ((1u << size) - 1))
        cpu_raise_exception(cpu, EXC_GP, 0, 0);
}

static u64 helper_in(u64 env, u64 port, u64 size)
{
    CPUState *cpu = (CPUState *)env;
    cpu_io_check(cpu, (unsigned)port, (unsigned)size);
    return iospace_read(cpu->machine->io, (uint16_t)port, (unsigned)size);
}
const IRHelper hlp_in = IR_HELPER(helper_in, FAULT);

static u64 helper_out(u64 env, u64 port, u64 val, u64 size)
{
    CPUState *cpu = (CPUState *)env;
    cpu_io_check(cpu, (unsigned)port, (unsigned)size);
    iospace_write(cpu->machine->io, (uint16_t)port, (uint32_t)val, (unsigned)size);
    return 0;
}
const IRHelper hlp_out = IR_HELPER(helper_out, FAULT);

/* ---- CPUID ---- */

/* The model's CPUID (cpu/cpu-models.c). */
static u64 helper_cpuid(u64 env)
{
    CPUState *cpu = (CPUState *)env;
    uint32_t r[4];
    cpu_cpuid(cpu, (uint32_t)cpu->regs[R_EAX], (uint32_t)cpu->regs[R_ECX], r);
    cpu->regs[R_EAX] = r[0];
    cpu->regs[R_EBX] = r[1];
    cpu->regs[R_ECX] = r[2];
    cpu->regs[R_EDX] = r[3];
    return 0;
}
const IRHelper hlp_cpuid = IR_HELPER(helper_cpuid, 0);

/* ---- TSC and MSRs ---- */

uint64_t cpu_get_tsc(CPUState *cpu)
{
    uint64_t hz = cpu->cfg.tsc_hz ? cpu->cfg.tsc_hz : 1000000000ULL;
    int64_t ns = cpu->machine ? clock_now(cpu->machine->clock) : 0;
    return (uint64_t)((unsigned __int128)(uint64_t)ns * hz / 1000000000ULL) +
           (uint64_t)cpu->tsc_offset;
}

void cpu_set_tsc(CPUState *cpu, uint64_t value)
{
    cpu->tsc_offset += (int64_t)(value - cpu_get_tsc(cpu));
}

static u64 helper_rdtsc(u64 env)
{
    CPUState *cpu = (CPUState *)env;
    if ((cpu->cr[4] & CR4_TSD) && cpu_cpl(cpu) != 0)
        cpu_raise_exception(cpu, EXC_GP, 0, 0);
    uint64_t t = cpu_get_tsc(cpu);
    cpu->regs[R_EAX] = (uint32_t)t;
    cpu->regs[R_EDX] = t >> 32;
    return 0;
}
const IRHelper hlp_rdtsc = IR_HELPER(helper_rdtsc, FAULT);

/* PAUSE with a host thread per CPU (gen_PAUSE). */
static u64 helper_pause(u64 env)
{
    smp_pause((CPUState *)env);
    return 0;
}
const IRHelper hlp_pause = IR_HELPER(helper_pause, HFLAGS);

static u64 helper_rdtscp(u64 env)
{
    CPUState *cpu = (CPUState *)env;
    helper_rdtsc(env);
    cpu->regs[R_ECX] = (uint32_t)cpu->tsc_aux;
    return 0;
}
const IRHelper hlp_rdtscp = IR_HELPER(helper_rdtscp, FAULT);

static u64 helper_rdpmc(u64 env)
{
    cpu_raise_exception((CPUState *)env, EXC_GP, 0, 0);
}
const IRHelper hlp_rdpmc = IR_HELPER(helper_rdpmc, FAULT);

static u64 helper_rdmsr(u64 env)
{
    CPUState *cpu = (CPUState *)env;
    uint32_t msr = (uint32_t)cpu->regs[R_ECX];
    uint64_t v = 0;
    int r = cpu->board && cpu->board->msr ?
            cpu->board->msr(cpu->board_opaque, msr, false, &v) : 0;
    cpu->intr_poll = true;   /* board MSRs are the local APIC's */
    if (r < 0)
        cpu_raise_exception(cpu, EXC_GP, 0, 0);
    if (r > 0)
        goto done;
    switch (msr) {
    case MSR_IA32_TSC: v = cpu_get_tsc(cpu); break;
    case MSR_IA32_APIC_BASE: v = cpu->apic_base; break;
    case MSR_IA32_SYSENTER_CS: v = cpu->sysenter_cs; break;
    case MSR_IA32_SYSENTER_ESP: v = cpu->sysenter_esp; break;
    case MSR_IA32_SYSENTER_EIP: v = cpu->sysenter_eip; break;
    case MSR_IA32_MISC_ENABLE: v = cpu->misc_enable; break;
    case MSR_IA32_PAT: v = cpu->pat; break;
    case MSR_EFER: v = cpu->efer; break;
    case MSR_STAR: v = cpu->star; break;
    case MSR_LSTAR: v = cpu->lstar; break;
    case MSR_CSTAR: v = cpu->cstar; break;
    case MSR_FMASK: v = cpu->fmask; break;
    case MSR_FS_BASE: v = cpu->seg[R_FS].base; break;
    case MSR_GS_BASE: v = cpu->seg[R_GS].base; break;
    case MSR_KERNEL_GS_BASE: v = cpu->kernel_gs_base; break;
    case MSR_TSC_AUX: v = cpu->tsc_aux; break;
    case 0x8b: v = 0; break;                      /* microcode revision */
    case 0x17: v = 0; break;                      /* IA32_PLATFORM_ID (microcode loader) */
    case 0x10a:                                   /* IA32_ARCH_CAPABILITIES */
        if (!(cpu->cfg.feat[CPU_FEAT_7_EDX] & (1u << 29)))
            cpu_raise_exception(cpu, EXC_GP, 0, 0);
        /* No speculative execution at all: RDCL_NO, SSB_NO, MDS_NO,
         * PSCHANGE_MC_NO, TAA_NO, SBDR_SSDP_NO, FBSDP_NO, PSDP_NO, BHI_NO,
         * GDS_NO, RFDS_NO (Linux then skips page-table isolation). */
        v = 1u << 0 | 1u << 4 | 1u << 5 | 1u << 6 | 1u << 8 | 1u << 13 | 1u << 14 |
            1u << 15 | 1u << 20 | 1u << 26 | 1u << 27;
        break;
    case 0xfe: v = 0; break;                      /* MTRRcap: none */
    case 0x2ff: v = 0; break;                     /* MTRRdefType */
    case 0x179: case 0x17a: v = 0; break;         /* MCG_CAP / MCG_STATUS */
    default:
        LOG(LOG_UNIMP, "rdmsr 0x%x: #GP\n", msr);
        cpu_raise_exception(cpu, EXC_GP, 0, 0);
    }
done:
    cpu->regs[R_EAX] = (uint32_t)v;
    cpu->regs[R_EDX] = v >> 32;
    return 0;
}
const IRHelper hlp_rdmsr = IR_HELPER(helper_rdmsr, FAULT);

static u64 helper_wrmsr(u64 env)
{
    CPUState *cpu = (CPUState *)env;
    uint32_t msr = (uint32_t)cpu->regs[R_ECX];
    uint64_t v = (uint32_t)cpu->regs[R_EAX] | cpu->regs[R_EDX] << 32;
    int r = cpu->board && cpu->board->msr ?
            cpu->board->msr(cpu->board_opaque, msr, true, &v) : 0;
    cpu->intr_poll = true;   /* board MSRs are the local APIC's */
    if (r < 0)
        cpu_raise_exception(cpu, EXC_GP, 0, 0);
    if (r > 0)
        return 0;
    switch (msr) {
    case MSR_IA32_TSC: cpu_set_tsc(cpu, v); break;
    case MSR_IA32_APIC_BASE: cpu->apic_base = v; break;
    case MSR_IA32_SYSENTER_CS: cpu->sysenter_cs = v & 0xffff; break;
    case MSR_IA32_SYSENTER_ESP: cpu->sysenter_esp = v; break;
    case MSR_IA32_SYSENTER_EIP: cpu->sysenter_eip = v; break;
    case MSR_IA32_MISC_ENABLE: cpu->misc_enable = v; break;
    case MSR_IA32_PAT: cpu->pat = v; break;
    case MSR_EFER: {
        uint64_t allowed = EFER_SCE | EFER_LME | (cpu->cfg.nx ? EFER_NXE : 0);
        if (v & ~(allowed | EFER_LMA))
            cpu_raise_exception(cpu, EXC_GP, 0, 0);
        if (((v ^ cpu->efer) & EFER_LME) && (cpu->cr[0] & CR0_PG))
            cpu_raise_exception(cpu, EXC_GP, 0, 0);
        cpu_set_efer(cpu, (v & allowed) | (cpu->efer & EFER_LMA));
        break;
    }
    case MSR_STAR: cpu->star = v; break;
    case MSR_LSTAR: cpu->lstar = v; break;
    case MSR_CSTAR: cpu->cstar = v; break;
    case MSR_FMASK: cpu->fmask = (uint32_t)v; break;
    case MSR_FS_BASE: cpu->seg[R_FS].base = v; break;
    case MSR_GS_BASE: cpu->seg[R_GS].base = v; break;
    case MSR_KERNEL_GS_BASE: cpu->kernel_gs_base = v; break;
    case MSR_TSC_AUX: cpu->tsc_aux = (uint32_t)v; break;
    case 0x8b: case 0x2ff: case 0x179: case 0x17a: break;
    default:
        LOG(LOG_UNIMP, "wrmsr 0x%x = 0x%llx: #GP\n", msr, (unsigned long long)v);
        cpu_raise_exception(cpu, EXC_GP, 0, 0);
    }
    return 0;
}
const IRHelper hlp_wrmsr = IR_HELPER(helper_wrmsr, FAULT);

/* ---- control and debug registers ---- */

static u64 helper_mov_to_cr(u64 env, u64 n, u64 v)
{
    CPUState *cpu = (CPUState *)env;
    switch (n) {
    case 0:
        if (!(cpu->hflags & HF_LMA))
            v = (uint32_t)v;
        if (((v & CR0_PG) && !(v & CR0_PE)) || ((v & CR0_NW) && !(v & CR0_CD)) || (v >> 32))
            cpu_raise_exception(cpu, EXC_GP, 0, 0);
        /* Turning paging on with LME needs PAE; off in 64-bit code is #GP. */
        if ((v & CR0_PG) && !(cpu->cr[0] & CR0_PG) && (cpu->efer & EFER_LME) &&
            !(cpu->cr[4] & CR4_PAE))
            cpu_raise_exception(cpu, EXC_GP, 0, 0);
        if (!(v & CR0_PG) && (cpu->hflags & HF_CS64))
            cpu_raise_exception(cpu, EXC_GP, 0, 0);
        cpu_set_cr(cpu, 0, v);
        break;
    case 2:
        cpu->cr[2] = v;
        break;
    case 3:
        if (!(cpu->hflags & HF_LMA))
            v = (uint32_t)v;
        cpu_set_cr(cpu, 3, v);
        break;
    case 4: {
        uint64_t allowed = CR4_VME | CR4_PVI | CR4_TSD | CR4_DE | CR4_PSE | CR4_PAE | CR4_MCE |
                           CR4_PGE | CR4_PCE | CR4_OSFXSR | CR4_OSXMMEXCPT | CR4_FSGSBASE |
                           CR4_SMEP | CR4_SMAP | CR4_UMIP;
        if (cpu_has_feature(cpu, X86_FEAT_XSAVE))
            allowed |= CR4_OSXSAVE;
        if (v & ~allowed)
            cpu_raise_exception(cpu, EXC_GP, 0, 0);
        if ((cpu->hflags & HF_LMA) && !(v & CR4_PAE))
            cpu_raise_exception(cpu, EXC_GP, 0, 0);
        cpu_set_cr(cpu, 4, v);
        break;
    }
    case 8:
        cpu->cr[8] = v & 15;
        break;
    default:
        cpu_raise_exception(cpu, EXC_UD, 0, 0);
    }
    return 0;
}
const IRHelper hlp_mov_to_cr = IR_HELPER(helper_mov_to_cr, FAULT);

static u64 helper_mov_from_cr(u64 env, u64 n)
{
    CPUState *cpu = (CPUState *)env;
    switch (n) {
    case 0: case 2: case 3: case 4: case 8:
        return cpu->cr[n];
    default:
        cpu_raise_exception(cpu, EXC_UD, 0, 0);
    }
}
const IRHelper hlp_mov_from_cr = IR_HELPER(helper_mov_from_cr, FAULT);

static u64 helper_mov_to_dr(u64 env, u64 n, u64 v)
{
    CPUState *cpu = (CPUState *)env;
    if ((n == 4 || n == 5) && !(cpu->cr[4] & CR4_DE))
        n += 2;
    if (n > 7 || n == 4 || n == 5)
        cpu_raise_exception(cpu, EXC_UD, 0, 0);
    cpu->dr[n] = v;
    if (n != 6)
        cpu_debug_dr_changed(cpu);   /* breakpoints are enforced (cpu/debug.c) */
    return 0;
}
const IRHelper hlp_mov_to_dr = IR_HELPER(helper_mov_to_dr, FAULT);

static u64 helper_mov_from_dr(u64 env, u64 n)
{
    CPUState *cpu = (CPUState *)env;
    if ((n == 4 || n == 5) && !(cpu->cr[4] & CR4_DE))
        n += 2;
    if (n > 7 || n == 4 || n == 5)
        cpu_raise_exception(cpu, EXC_UD, 0, 0);
    return cpu->dr[n];
}
const IRHelper hlp_mov_from_dr = IR_HELPER(helper_mov_from_dr, FAULT);

static u64 helper_lmsw(u64 env, u64 v)
{
    CPUState *cpu = (CPUState *)env;
    /* Only PE MP EM TS; PE cannot be cleared. */
    uint64_t cr0 = (cpu->cr[0] & ~0xeULL) | (v & 0xf) | (cpu->cr[0] & CR0_PE);
    cpu_set_cr(cpu, 0, cr0);
    return 0;
}
const IRHelper hlp_lmsw = IR_HELPER(helper_lmsw, 0);

static u64 helper_clts(u64 env)
{
    CPUState *cpu = (CPUState *)env;
    cpu->cr[0] &= ~(uint64_t)CR0_TS;
    cpu_update_hflags(cpu);    /* HF_TS */
    return 0;
}
const IRHelper hlp_clts = IR_HELPER(helper_clts, HFLAGS);

static u64 helper_invlpg(u64 env, u64 lin)
{
    mmu_flush_page((CPUState *)env, lin);
    return 0;
}
const IRHelper hlp_invlpg = IR_HELPER(helper_invlpg, HFLAGS);

static u64 helper_unimplemented(u64 env)
{
    cpu_raise_exception((CPUState *)env, EXC_UD, 0, 0);
}
const IRHelper hlp_unimplemented = IR_HELPER(helper_unimplemented, FAULT);

/* CR0.EM/TS/MP checks of x87, MMX and SSE instructions (SDM 2.5 "CR0",
 * table 12-1 / 13-? "Action taken for combinations of EM, MP, TS"):
 * kind FPCHK_X87: EM or TS -> #NM; FPCHK_WAIT: TS and MP -> #NM;
 * FPCHK_SSE (MMX too): EM -> #UD, else TS -> #NM; FPCHK_FXSR: EM or TS -> #NM.
 * Returns when the instruction may run. */
static u64 helper_fpu_check(u64 env, u64 kind)
{
    CPUState *cpu = (CPUState *)env;
    uint64_t cr0 = cpu->cr[0];
    switch (kind) {
    case FPCHK_X87:
    case FPCHK_FXSR:
        if (cr0 & (CR0_EM | CR0_TS))
            cpu_raise_exception(cpu, EXC_NM, 0, 0);
        break;
    case FPCHK_WAIT:
        if ((cr0 & (CR0_TS | CR0_MP)) == (CR0_TS | CR0_MP))
            cpu_raise_exception(cpu, EXC_NM, 0, 0);
        break;
    default:
        if (cr0 & CR0_EM)
            cpu_raise_exception(cpu, EXC_UD, 0, 0);
        if (cr0 & CR0_TS)
            cpu_raise_exception(cpu, EXC_NM, 0, 0);
        break;
    }
    return 0;
}
const IRHelper hlp_fpu_check = IR_HELPER(helper_fpu_check, HFLAGS | FAULT);

static u64 helper_into(u64 env, u64 next_rip)
{
    CPUState *cpu = (CPUState *)env;
    if (cpu_get_eflags(cpu) & CC_O) {
        cpu_do_interrupt(cpu, EXC_OF, true, false, 0, next_rip);
        return 0;
    }
    cpu->rip = next_rip;
    return 0;
}
const IRHelper hlp_into = IR_HELPER(helper_into, FAULT);
