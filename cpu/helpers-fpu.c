/*
 * x87 control and the FPU/SSE state instructions, called from translated
 * code: FNINIT, FNCLEX, FLDCW, FWAIT, FXSAVE/FXRSTOR, LDMXCSR,
 * XSAVE/XSAVEOPT/XRSTOR, XGETBV/XSETBV, and the MMX state transition.
 *
 * Images follow the SDM (Vol. 1 10.5.1 FXSAVE area, 13.4 XSAVE area):
 * every helper checks everything that can fault (alignment, reserved bits,
 * page access via cpu_probe_write) before it changes any state, so a
 * fault leaves the CPU exactly as before the instruction.
 */
#include <string.h>

#include "cpu/fpu.h"
#include "cpu/helpers.h"
#include "cpu/mmu.h"

#define FAULT IR_CALL_CAN_FAULT
#define NOGLOB (IR_CALL_NO_READ_GLOBALS | IR_CALL_NO_WRITE_GLOBALS)

/* ---- the guest MXCSR and the host's (see cpu.h) ---- */

/* The host MXCSR translated code runs under: all exceptions masked,
 * round to nearest, no DAZ/FZ, no flags. */
#define HOST_MXCSR_RUN 0x1f80u

static inline uint32_t host_mxcsr_read(void)
{
    uint32_t v;
    __asm__ volatile("stmxcsr %0" : "=m"(v));
    return v;
}

static inline void host_mxcsr_write(uint32_t v)
{
    __asm__ volatile("ldmxcsr %0" : : "m"(v));
}

/* Moves the host flags into the guest MXCSR (they are the guest's while
 * mxcsr_in_host) and clears them. */
void cpu_mxcsr_sync(CPUState *cpu)
{
    if (!cpu->mxcsr_in_host)
        return;
    uint32_t h = host_mxcsr_read();
    if (h & MXCSR_FLAGS) {
        cpu->mxcsr |= h & MXCSR_FLAGS;
        host_mxcsr_write(h & ~(uint32_t)MXCSR_FLAGS);
    }
}

/* A new guest MXCSR: flags the inline code left in the host belong to
 * the old value and are dropped.  The control bits decide HF_SSE_FAST;
 * translated writers end their block (the key changes). */
void cpu_mxcsr_set(CPUState *cpu, uint32_t v)
{
    if (cpu->mxcsr_in_host) {
        uint32_t h = host_mxcsr_read();
        if (h & MXCSR_FLAGS)
            host_mxcsr_write(h & ~(uint32_t)MXCSR_FLAGS);
    }
    cpu->mxcsr = v;
    cpu_update_hflags(cpu);
}

/* Before a run: whatever the emulator's own C code did to the host MXCSR
 * (any double arithmetic sets PE), translated code starts with the
 * default control bits and no flags. */
void cpu_mxcsr_enter(CPUState *cpu)
{
    if (host_mxcsr_read() != HOST_MXCSR_RUN)
        host_mxcsr_write(HOST_MXCSR_RUN);
    cpu->mxcsr_in_host = true;
}

/* When cpu_exec returns: the host flags are folded into the guest's. */
void cpu_mxcsr_leave(CPUState *cpu)
{
    cpu_mxcsr_sync(cpu);
    cpu->mxcsr_in_host = false;
}

/* The x87 state FNINIT sets (SDM 2A FINIT/FNINIT): control word 037F,
 * status and tags cleared, pointers zero; the data registers keep their
 * contents.  RESET is cpu_arch_reset_state (cpu/cpu-arch.c): the same
 * plus zeroed registers and a control word of 0040. */
static void fpu_init(CPUState *cpu)
{
    cpu->fpuc = FPUC_DEFAULT;
    cpu->fpus = 0;
    cpu->fpstt = 0;
    cpu->fptag_empty = 0xff;
    cpu->fpop = 0;
    cpu->fpcs = cpu->fpds = 0;
    cpu->fpip = cpu->fpdp = 0;
}

uint16_t fpu_get_fsw(const CPUState *cpu)
{
    return (uint16_t)((cpu->fpus & ~FSW_TOP) | (cpu->fpstt & 7) << 11);
}

void fpu_update_es(CPUState *cpu)
{
    if (cpu->fpus & ~cpu->fpuc & FSW_EXC)
        cpu->fpus |= FSW_ES | FSW_B;
    else
        cpu->fpus &= (uint16_t)~(FSW_ES | FSW_B);
}

static u64 helper_fninit(u64 env)
{
    fpu_init((CPUState *)env);
    return 0;
}
const IRHelper hlp_fninit = IR_HELPER(helper_fninit, NOGLOB);

static u64 helper_fnclex(u64 env)
{
    CPUState *cpu = (CPUState *)env;
    cpu->fpus &= (uint16_t)~(FSW_EXC | FSW_SF | FSW_ES | FSW_B);
    return 0;
}
const IRHelper hlp_fnclex = IR_HELPER(helper_fnclex, NOGLOB);

static u64 helper_fldcw(u64 env, u64 cw)
{
    CPUState *cpu = (CPUState *)env;
    /* FLDCW waits: a pending unmasked exception is reported first */
    if ((cpu->fpus & FSW_ES) && (cpu->cr[0] & CR0_NE))
        cpu_raise_exception(cpu, EXC_MF, 0, 0);
    /* reserved bits 13-15 read as 0, bit 6 as 1 (SDM 8.1.5) */
    cpu->fpuc = (uint16_t)((cw & 0x1f3f) | 0x40);
    fpu_update_es(cpu);
    return 0;
}
const IRHelper hlp_fldcw = IR_HELPER(helper_fldcw, FAULT);

static u64 helper_fnstsw(u64 env)
{
    return fpu_get_fsw((CPUState *)env);
}
const IRHelper hlp_fnstsw = IR_HELPER(helper_fnstsw, NOGLOB | IR_CALL_PURE);

/* WAIT/FWAIT and the check every x87 arithmetic instruction makes first:
 * a pending unmasked exception is reported as #MF (CR0.NE=1).  With NE=0
 * the PC would raise IRQ 13 through FERR#, which the board does not wire:
 * the exception stays pending. */
static u64 helper_fwait(u64 env)
{
    CPUState *cpu = (CPUState *)env;
    if ((cpu->fpus & FSW_ES) && (cpu->cr[0] & CR0_NE))
        cpu_raise_exception(cpu, EXC_MF, 0, 0);
    return 0;
}
const IRHelper hlp_fwait = IR_HELPER(helper_fwait, FAULT);

/* ---- MMX: every MMX instruction but EMMS sets TOP=0 and all tags valid ---- */

static u64 helper_fpu_enter_mmx(u64 env)
{
    CPUState *cpu = (CPUState *)env;
    cpu->fpstt = 0;
    cpu->fptag_empty = 0;
    return 0;
}
const IRHelper hlp_fpu_enter_mmx = IR_HELPER(helper_fpu_enter_mmx, NOGLOB);

static u64 helper_emms(u64 env)
{
    ((CPUState *)env)->fptag_empty = 0xff;
    return 0;
}
const IRHelper hlp_emms = IR_HELPER(helper_emms, NOGLOB);

/* ---- LDMXCSR ---- */

static u64 helper_ldmxcsr(u64 env, u64 v)
{
    CPUState *cpu = (CPUState *)env;
    if (v & ~(u64)MXCSR_MASK_SUPPORTED)
        cpu_raise_exception(cpu, EXC_GP, 0, 0);
    cpu_mxcsr_set(cpu, (uint32_t)v);
    return 0;
}
const IRHelper hlp_ldmxcsr = IR_HELPER(helper_ldmxcsr, FAULT);

/* STMXCSR's value: with the flags inline SSE code left in the host. */
static u64 helper_stmxcsr(u64 env)
{
    CPUState *cpu = (CPUState *)env;
    cpu_mxcsr_sync(cpu);
    return cpu->mxcsr;
}
const IRHelper hlp_stmxcsr = IR_HELPER(helper_stmxcsr, NOGLOB);

/* ---- FXSAVE / FXRSTOR ---- */

static uint8_t fpu_abridged_tags(const CPUState *cpu)
{
    return (uint8_t)~cpu->fptag_empty;
}

/* The x87 + SSE legacy area (512 bytes, of which 464..511 are left
 * alone) as bytes. */
static void fxsave_image(CPUState *cpu, uint8_t *img, bool wide, bool x87, bool sse,
                         int nxmm)
{
    if (x87) {
        uint16_t fsw = fpu_get_fsw(cpu);
        memcpy(img + 0, &cpu->fpuc, 2);
        memcpy(img + 2, &fsw, 2);
        img[4] = fpu_abridged_tags(cpu);
        img[5] = 0;
        memcpy(img + 6, &cpu->fpop, 2);
        if (wide) {
            memcpy(img + 8, &cpu->fpip, 8);
            memcpy(img + 16, &cpu->fpdp, 8);
        } else {
            uint32_t ip = (uint32_t)cpu->fpip, dp = (uint32_t)cpu->fpdp;
            memset(img + 8, 0, 16);
            memcpy(img + 8, &ip, 4);
            memcpy(img + 12, &cpu->fpcs, 2);
            memcpy(img + 16, &dp, 4);
            memcpy(img + 20, &cpu->fpds, 2);
        }
        for (int i = 0; i < 8; i++) {
            const FPReg *r = &cpu->fpregs[(cpu->fpstt + i) & 7];
            memset(img + 32 + i * 16, 0, 16);
            memcpy(img + 32 + i * 16, &r->mant, 8);
            memcpy(img + 40 + i * 16, &r->sexp, 2);
        }
    }
    if (x87 || sse) {
        uint32_t mask = MXCSR_MASK_SUPPORTED;
        cpu_mxcsr_sync(cpu);
        memcpy(img + 24, &cpu->mxcsr, 4);
        memcpy(img + 28, &mask, 4);
    }
    if (sse)
        memcpy(img + 160, cpu->xmm, (size_t)nxmm * 16);
}

static void fxrstor_image(CPUState *cpu, const uint8_t *img, bool wide, bool x87, bool sse,
                          int nxmm)
{
    if (x87) {
        uint16_t fsw;
        memcpy(&cpu->fpuc, img + 0, 2);
        memcpy(&fsw, img + 2, 2);
        cpu->fpus = fsw & (uint16_t)~FSW_TOP;
        cpu->fpstt = (fsw >> 11) & 7;
        cpu->fptag_empty = (uint8_t)~img[4];
        memcpy(&cpu->fpop, img + 6, 2);
        cpu->fpop &= 0x7ff;
        if (wide) {
            memcpy(&cpu->fpip, img + 8, 8);
            memcpy(&cpu->fpdp, img + 16, 8);
            cpu->fpcs = cpu->fpds = 0;
        } else {
            uint32_t ip, dp;
            memcpy(&ip, img + 8, 4);
            memcpy(&cpu->fpcs, img + 12, 2);
            memcpy(&dp, img + 16, 4);
            memcpy(&cpu->fpds, img + 20, 2);
            cpu->fpip = ip;
            cpu->fpdp = dp;
        }
        for (int i = 0; i < 8; i++) {
            FPReg *r = &cpu->fpregs[(cpu->fpstt + i) & 7];
            memcpy(&r->mant, img + 32 + i * 16, 8);
            memcpy(&r->sexp, img + 40 + i * 16, 2);
        }
    }
    if (sse)
        memcpy(cpu->xmm, img + 160, (size_t)nxmm * 16);
}

static void guest_read(CPUState *cpu, uint64_t lin, uint8_t *buf, unsigned len, uint64_t amask)
{
    int mmu = cpu_mmu_index(cpu);
    for (unsigned i = 0; i < len; i += 8) {
        uint64_t v = cpu_ld(cpu, (lin + i) & amask, 8, mmu, 0);
        memcpy(buf + i, &v, 8);
    }
}

static void guest_write(CPUState *cpu, uint64_t lin, const uint8_t *buf, unsigned len,
                        uint64_t amask)
{
    int mmu = cpu_mmu_index(cpu);
    cpu_probe_write(cpu, lin & amask, len, mmu, 0);
    for (unsigned i = 0; i < len; i += 8) {
        uint64_t v;
        memcpy(&v, buf + i, 8);
        cpu_st(cpu, (lin + i) & amask, v, 8, mmu, 0);
    }
}

static uint64_t addr_mask(CPUState *cpu)
{
    return cpu_code64(cpu) ? ~0ULL : 0xffffffffULL;
}

static int nxmm_regs(CPUState *cpu)
{
    return cpu_code64(cpu) ? 16 : 8;
}

/* arg: 1 = REX.W (64-bit FIP/FDP) */
static u64 helper_fxsave(u64 env, u64 lin, u64 wide)
{
    CPUState *cpu = (CPUState *)env;
    uint8_t img[464];
    if (lin & 15)
        cpu_raise_exception(cpu, EXC_GP, 0, 0);
    memset(img, 0, sizeof(img));
    fxsave_image(cpu, img, wide != 0, true, true, nxmm_regs(cpu));
    guest_write(cpu, lin, img, 160 + (unsigned)nxmm_regs(cpu) * 16, addr_mask(cpu));
    return 0;
}
const IRHelper hlp_fxsave = IR_HELPER(helper_fxsave, FAULT);

static u64 helper_fxrstor(u64 env, u64 lin, u64 wide)
{
    CPUState *cpu = (CPUState *)env;
    uint8_t img[464];
    uint32_t mxcsr;
    if (lin & 15)
        cpu_raise_exception(cpu, EXC_GP, 0, 0);
    guest_read(cpu, lin, img, 160 + (unsigned)nxmm_regs(cpu) * 16, addr_mask(cpu));
    memcpy(&mxcsr, img + 24, 4);
    if (mxcsr & ~(uint32_t)MXCSR_MASK_SUPPORTED)
        cpu_raise_exception(cpu, EXC_GP, 0, 0);
    fxrstor_image(cpu, img, wide != 0, true, true, nxmm_regs(cpu));
    cpu_mxcsr_set(cpu, mxcsr);
    fpu_update_es(cpu);
    return 0;
}
const IRHelper hlp_fxrstor = IR_HELPER(helper_fxrstor, FAULT);

void cpu_fx_export(CPUState *cpu, uint8_t img[512])
{
    memset(img, 0, 512);
    fxsave_image(cpu, img, true, true, true, 16);
}

bool cpu_fx_import(CPUState *cpu, const uint8_t img[512])
{
    uint32_t mxcsr;
    memcpy(&mxcsr, img + 24, 4);
    if (mxcsr & ~(uint32_t)MXCSR_MASK_SUPPORTED)
        return false;
    fxrstor_image(cpu, img, true, true, true, 16);
    cpu_mxcsr_set(cpu, mxcsr);
    fpu_update_es(cpu);
    return true;
}

/* ---- XSAVE family (standard form) ---- */

static bool x87_is_init(const CPUState *cpu)
{
    if (cpu->fpuc != FPUC_DEFAULT || fpu_get_fsw(cpu) != 0 || cpu->fptag_empty != 0xff ||
        cpu->fpop || cpu->fpip || cpu->fpdp)
        return false;
    for (int i = 0; i < 8; i++)
        if (cpu->fpregs[i].mant || cpu->fpregs[i].sexp)
            return false;
    return true;
}

static bool sse_is_init(const CPUState *cpu)
{
    for (int i = 0; i < 16; i++)
        if (cpu->xmm[i].q[0] || cpu->xmm[i].q[1])
            return false;
    return true;
}

static void xsave_check(CPUState *cpu, uint64_t lin)
{
    if (!(cpu->cr[4] & CR4_OSXSAVE))
        cpu_raise_exception(cpu, EXC_UD, 0, 0);
    if (cpu->cr[0] & CR0_TS)
        cpu_raise_exception(cpu, EXC_NM, 0, 0);
    if (lin & 63)
        cpu_raise_exception(cpu, EXC_GP, 0, 0);
}

/* opt: XSAVEOPT (components in their initial configuration are not
 * written and their XSTATE_BV bit is cleared). */
static u64 helper_xsave(u64 env, u64 lin, u64 wide, u64 opt)
{
    CPUState *cpu = (CPUState *)env;
    xsave_check(cpu, lin);
    uint64_t amask = addr_mask(cpu);
    uint64_t rfbm = cpu->xcr0 & ((cpu->regs[R_EDX] & 0xffffffffULL) << 32 |
                                 (cpu->regs[R_EAX] & 0xffffffffULL));
    uint8_t img[576];
    guest_read(cpu, lin, img, sizeof(img), amask);     /* unwritten bytes stay */
    bool x87 = (rfbm & XSTATE_X87) != 0, sse = (rfbm & XSTATE_SSE) != 0;
    bool x87_init = x87_is_init(cpu), sse_init = sse_is_init(cpu);
    uint8_t legacy[464];
    memcpy(legacy, img, sizeof(legacy));
    fxsave_image(cpu, legacy, wide != 0, x87 && !(opt && x87_init), sse && !(opt && sse_init),
                 nxmm_regs(cpu));
    memcpy(img, legacy, sizeof(legacy));
    uint64_t bv;
    memcpy(&bv, img + 512, 8);
    bv &= ~rfbm;
    if (x87 && !x87_init)
        bv |= XSTATE_X87;
    if (sse && !sse_init)
        bv |= XSTATE_SSE;
    memcpy(img + 512, &bv, 8);
    guest_write(cpu, lin, img, sizeof(img), amask);
    return 0;
}
const IRHelper hlp_xsave = IR_HELPER(helper_xsave, FAULT);

static u64 helper_xrstor(u64 env, u64 lin, u64 wide)
{
    CPUState *cpu = (CPUState *)env;
    xsave_check(cpu, lin);
    uint64_t rfbm = cpu->xcr0 & ((cpu->regs[R_EDX] & 0xffffffffULL) << 32 |
                                 (cpu->regs[R_EAX] & 0xffffffffULL));
    uint8_t img[576];
    guest_read(cpu, lin, img, sizeof(img), addr_mask(cpu));
    uint64_t bv, comp, rsvd = 0;
    memcpy(&bv, img + 512, 8);
    memcpy(&comp, img + 520, 8);
    for (int i = 528; i < 576; i += 8) {
        uint64_t q;
        memcpy(&q, img + i, 8);
        rsvd |= q;
    }
    /* standard form only (no XSAVEC): XCOMP_BV and the rest of the
     * header must be zero, XSTATE_BV within XCR0 */
    if (comp || rsvd || (bv & ~cpu->xcr0))
        cpu_raise_exception(cpu, EXC_GP, 0, 0);
    uint32_t mxcsr;
    memcpy(&mxcsr, img + 24, 4);
    if ((rfbm & XSTATE_SSE) && (mxcsr & ~(uint32_t)MXCSR_MASK_SUPPORTED))
        cpu_raise_exception(cpu, EXC_GP, 0, 0);
    if (rfbm & XSTATE_X87) {
        if (bv & XSTATE_X87) {
            fxrstor_image(cpu, img, wide != 0, true, false, 0);
        } else {
            fpu_init(cpu);
            memset(cpu->fpregs, 0, sizeof(cpu->fpregs));
        }
        fpu_update_es(cpu);
    }
    if (rfbm & XSTATE_SSE) {
        if (bv & XSTATE_SSE)
            fxrstor_image(cpu, img, wide != 0, false, true, nxmm_regs(cpu));
        else
            memset(cpu->xmm, 0, (size_t)nxmm_regs(cpu) * 16);
        cpu_mxcsr_set(cpu, mxcsr);
    }
    return 0;
}
const IRHelper hlp_xrstor = IR_HELPER(helper_xrstor, FAULT);

static u64 helper_xgetbv(u64 env)
{
    CPUState *cpu = (CPUState *)env;
    if (!(cpu->cr[4] & CR4_OSXSAVE))
        cpu_raise_exception(cpu, EXC_UD, 0, 0);
    if ((uint32_t)cpu->regs[R_ECX] != 0)
        cpu_raise_exception(cpu, EXC_GP, 0, 0);
    cpu->regs[R_EAX] = (uint32_t)cpu->xcr0;
    cpu->regs[R_EDX] = (uint32_t)(cpu->xcr0 >> 32);
    return 0;
}
const IRHelper hlp_xgetbv = IR_HELPER(helper_xgetbv, FAULT);

static u64 helper_xsetbv(u64 env)
{
    CPUState *cpu = (CPUState *)env;
    if (!(cpu->cr[4] & CR4_OSXSAVE))
        cpu_raise_exception(cpu, EXC_UD, 0, 0);
    uint64_t v = (cpu->regs[R_EDX] & 0xffffffffULL) << 32 | (cpu->regs[R_EAX] & 0xffffffffULL);
    if (cpu_cpl(cpu) != 0 || (uint32_t)cpu->regs[R_ECX] != 0 || !(v & XSTATE_X87) ||
        (v & ~(uint64_t)XSTATE_SUPPORTED))
        cpu_raise_exception(cpu, EXC_GP, 0, 0);
    cpu->xcr0 = v;
    return 0;
}
const IRHelper hlp_xsetbv = IR_HELPER(helper_xsetbv, FAULT);
