/*
 * The architectural CPU state (cpu/arch-state.h) of the translator's
 * CPUState: the power-on state, get and put (what accel/tcg-accel.c's
 * get_cpu_state / put_cpu_state do), and the text dump `-d cpu_exit`
 * prints under every accelerator.
 *
 * Put writes every architectural field and then rebuilds what the
 * translator derives from them (lazy flags in their EFLAGS form, hflags
 * with the CPL, segment limit checks, the soft TLB, translated code), so a
 * put state runs exactly as if the CPU had arrived there by itself.
 */
#include <inttypes.h>
#include <string.h>

#include "cpu/cpu.h"
#include "cpu/debug.h"
#include "cpu/exec.h"
#include "cpu/mmu.h"

/* ---- the power-on (RESET) state, SDM vol. 3A table 9-1 ---- */

void cpu_arch_reset_state(X86ArchState *s, const CPUConfig *cfg, int index)
{
    memset(s, 0, sizeof(*s));
    /* EDX: the processor signature (family, model, stepping). */
    s->regs[R_EDX] = 0x600 | (cfg->family & 0xf) << 8 | (cfg->model & 0xf) << 4 |
                     (cfg->stepping & 0xf);
    s->rip = 0xfff0;
    s->rflags = EFL_FIXED;
    for (int i = 0; i < X86_ARCH_NB_SEG; i++) {
        s->seg[i].limit = 0xffff;
        s->seg[i].attr = SEG_P | SEG_S | SEG_W | SEG_A;
    }
    s->seg[R_CS].selector = 0xf000;
    s->seg[R_CS].base = 0xffff0000ULL;
    s->seg[R_CS].attr = SEG_P | SEG_S | SEG_CODE | SEG_W | SEG_A;
    s->seg[R_LDTR].attr = SEG_P | 2u << 8;            /* LDT */
    s->seg[R_TR].attr = SEG_P | 11u << 8;             /* busy 32-bit TSS */
    s->gdt.limit = s->idt.limit = 0xffff;
    s->cr0 = CR0_ET | CR0_CD | CR0_NW;
    s->dr[6] = 0xffff0ff0;
    s->dr[7] = 0x400;
    s->pat = 0x0007040600070406ULL;
    s->apic_base = 0xfee00000ULL | 1u << 11 | (index == 0 ? 1u << 8 : 0);  /* enabled; BSP */
    s->misc_enable = 1;                               /* fast strings */
    /* x87: FCW 0040H after RESET (FNINIT makes it 037FH), all registers
     * empty (abridged tag 0); MXCSR 1F80H. */
    uint16_t fcw = 0x0040;
    uint32_t mxcsr = 0x1f80, mxcsr_mask = MXCSR_MASK_SUPPORTED;
    memcpy(s->fxsave + 0, &fcw, 2);
    memcpy(s->fxsave + 24, &mxcsr, 4);
    memcpy(s->fxsave + 28, &mxcsr_mask, 4);
    s->xcr0 = XSTATE_X87;
    s->exception = -1;
    s->interrupt = -1;
    s->a20 = true;
}

/* ---- get and put ---- */

static bool real_or_vm86(uint64_t cr0, uint64_t rflags)
{
    return !(cr0 & CR0_PE) || (rflags & EFL_VM);
}

void cpu_get_arch_state(CPUState *cpu, X86ArchState *s)
{
    memset(s, 0, sizeof(*s));
    memcpy(s->regs, cpu->regs, sizeof(s->regs));
    s->rip = cpu->rip;
    s->rflags = cpu_get_eflags(cpu);
    for (int i = 0; i < X86_ARCH_NB_SEG; i++) {
        const SegmentCache *c = &cpu->seg[i];
        s->seg[i] = (X86ArchSegment){ .selector = (uint16_t)c->selector,
                                      .attr = c->attr & SEG_ATTR_MASK,
                                      .base = c->base, .limit = c->limit };
    }
    /* The CPL travels as SS.DPL (a null SS in 64-bit code keeps DPL 0 in
     * the translator's cache whatever the CPL). */
    if (!real_or_vm86(cpu->cr[0], s->rflags))
        s->seg[R_SS].attr = (s->seg[R_SS].attr & ~(3u << SEG_DPL_SHIFT)) |
                            (uint32_t)cpu_cpl(cpu) << SEG_DPL_SHIFT;
    s->gdt = (X86ArchTable){ cpu->gdt.base, cpu->gdt.limit };
    s->idt = (X86ArchTable){ cpu->idt.base, cpu->idt.limit };
    s->cr0 = cpu->cr[0];
    s->cr2 = cpu->cr[2];
    s->cr3 = cpu->cr[3];
    s->cr4 = cpu->cr[4];
    s->cr8 = cpu->cr[8];
    s->efer = cpu->efer;
    memcpy(s->dr, cpu->dr, sizeof(s->dr));
    s->star = cpu->star;
    s->lstar = cpu->lstar;
    s->cstar = cpu->cstar;
    s->sfmask = cpu->fmask;
    s->kernel_gs_base = cpu->kernel_gs_base;
    s->sysenter_cs = cpu->sysenter_cs;
    s->sysenter_esp = cpu->sysenter_esp;
    s->sysenter_eip = cpu->sysenter_eip;
    s->pat = cpu->pat;
    s->tsc = cpu_get_tsc(cpu);
    s->apic_base = cpu->apic_base;
    s->misc_enable = cpu->misc_enable;
    s->tsc_aux = cpu->tsc_aux;
    cpu_fx_export(cpu, s->fxsave);
    s->fcs = cpu->fpcs;
    s->fds = cpu->fpds;
    s->xcr0 = cpu->xcr0;
    s->exception = (int16_t)(cpu->exc_pending >= 0 ? cpu->exc_pending : -1);
    if (s->exception >= 0 && cpu_exception_has_error(s->exception)) {
        s->exception_has_error = true;
        s->exception_error = cpu->exc_error;
    }
    s->interrupt = -1;
    s->interrupt_shadow = cpu->inhibit_irq && cpu->inhibit_rip == cpu->rip;
    s->nmi_pending = cpu->nmi_pending;
    s->a20 = cpu->a20_mask == 0xffffffffu;
    s->halted = cpu->halted;
}

/* What the translator cannot take, before anything changes. */
static int check_put(const X86ArchState *s, char *err, size_t len)
{
    uint32_t mxcsr;
    memcpy(&mxcsr, s->fxsave + 24, 4);
    if (mxcsr & ~(uint32_t)MXCSR_MASK_SUPPORTED) {
        snprintf(err, len, "MXCSR %08x has reserved bits set", mxcsr);
        return -1;
    }
    if (!(s->xcr0 & XSTATE_X87) || (s->xcr0 & ~(uint64_t)XSTATE_SUPPORTED)) {
        snprintf(err, len, "XCR0 %016" PRIx64 " enables state this CPU does not have", s->xcr0);
        return -1;
    }
    if (s->exception < -1 || s->exception > 31 || s->exception == EXC_NMI) {
        snprintf(err, len, "pending exception vector %d is not an exception", s->exception);
        return -1;
    }
    if (s->interrupt >= 0) {
        snprintf(err, len, "interrupt %d acknowledged but not delivered: the translator "
                 "delivers interrupts whole and cannot hold one", s->interrupt);
        return -1;
    }
    return 0;
}

int cpu_put_arch_state(CPUState *cpu, const X86ArchState *s, char *err, size_t len)
{
    if (check_put(s, err, len) < 0)
        return -1;
    memcpy(cpu->regs, s->regs, sizeof(cpu->regs));
    cpu->rip = s->rip;
    cpu->cc_op = CC_OP_EFLAGS;
    cpu->cc_src = s->rflags & CC_ALL;
    cpu->cc_dst = cpu->cc_src2 = 0;
    cpu->cc_pend_op = 0;
    cpu->cc_pend = 0;
    cpu->eflags = ((uint32_t)s->rflags & ~(uint32_t)CC_ALL) | EFL_FIXED;
    for (int i = 0; i < X86_ARCH_NB_SEG; i++) {
        SegmentCache *c = &cpu->seg[i];
        c->selector = s->seg[i].selector;
        c->attr = s->seg[i].attr & SEG_ATTR_MASK;
        c->base = s->seg[i].base;
        c->limit = s->seg[i].limit;
    }
    cpu->gdt = (DescTable){ s->gdt.base, s->gdt.limit };
    cpu->idt = (DescTable){ s->idt.base, s->idt.limit };
    memset(cpu->cr, 0, sizeof(cpu->cr));
    cpu->cr[0] = s->cr0;
    cpu->cr[2] = s->cr2;
    cpu->cr[3] = s->cr3;
    cpu->cr[4] = s->cr4;
    cpu->cr[8] = s->cr8;
    cpu->efer = s->efer;
    memcpy(cpu->dr, s->dr, sizeof(cpu->dr));
    cpu->star = s->star;
    cpu->lstar = s->lstar;
    cpu->cstar = s->cstar;
    cpu->fmask = s->sfmask;
    cpu->kernel_gs_base = s->kernel_gs_base;
    cpu->sysenter_cs = s->sysenter_cs;
    cpu->sysenter_esp = s->sysenter_esp;
    cpu->sysenter_eip = s->sysenter_eip;
    cpu->pat = s->pat;
    cpu_set_tsc(cpu, s->tsc);
    cpu->apic_base = s->apic_base;
    cpu->misc_enable = s->misc_enable;
    cpu->tsc_aux = s->tsc_aux;
    cpu_fx_import(cpu, s->fxsave);     /* checked above: cannot refuse */
    cpu->fpcs = s->fcs;
    cpu->fpds = s->fds;
    cpu->xcr0 = s->xcr0;
    cpu->exc_pending = s->exception;
    cpu->exc_error = s->exception_has_error ? s->exception_error : 0;
    cpu->exc_delivering = -1;
    cpu->inhibit_irq = s->interrupt_shadow;
    cpu->inhibit_rip = s->rip;
    cpu->nmi_pending = s->nmi_pending;
    cpu->halted = s->halted;
    cpu->shutdown = false;
    cpu->single_insn_next = false;
    cpu->a20_mask = s->a20 ? 0xffffffffu : ~(1u << 20);

    /* What the translator derives. */
    bool real = real_or_vm86(s->cr0, s->rflags);
    int cpl = !(s->cr0 & CR0_PE) ? 0 : real ? 3 : (s->seg[R_SS].attr >> SEG_DPL_SHIFT) & 3;
    for (int i = 0; i < X86_ARCH_NB_SEG; i++)
        cpu_seg_update_checks(&cpu->seg[i], real && i < R_LDTR);
    cpu->hflags = (uint32_t)cpl;
    cpu_update_hflags(cpu);
    cpu_flush_caches(cpu);
    if (cpu->dr[7] & 0xff)
        cpu_debug_dr_changed(cpu);   /* DR7 breakpoints need cpu->dbg */
    return 0;
}

/* ---- the text dump ---- */

static const char *const arch_seg_names[X86_ARCH_NB_SEG] = {
    "ES", "CS", "SS", "DS", "FS", "GS", "LDT", "TR",
};

/* Segment caches: an unusable (null or not present) data segment's hidden
 * part is undefined per the SDM, so only its selector is printed. */
static void dump_seg(const X86ArchState *s, int i, FILE *f)
{
    const X86ArchSegment *sc = &s->seg[i];
    bool usable = (sc->attr & SEG_P) || !(s->cr0 & CR0_PE);
    if (!usable && i != R_CS) {
        fprintf(f, "%-3s=%04x (unusable)\n", arch_seg_names[i], sc->selector);
        return;
    }
    fprintf(f, "%-3s=%04x base=%016" PRIx64 " limit=%08x attr=%08x\n", arch_seg_names[i],
            sc->selector, sc->base, sc->limit, sc->attr & SEG_ATTR_MASK);
}

static unsigned get16(const uint8_t *p) { return p[0] | p[1] << 8; }

/* x87 and SSE state from the FXSAVE image.  FIP/FDP/FOP are left out:
 * vendors and KVM differ on them. */
static void dump_fpu(const X86ArchState *s, FILE *f)
{
    const uint8_t *img = s->fxsave;
    uint32_t mxcsr = img[24] | img[25] << 8 | (uint32_t)img[26] << 16 | (uint32_t)img[27] << 24;
    fprintf(f, "FCW=%04x FSW=%04x FTW=%02x MXCSR=%08x\n", get16(img), get16(img + 2),
            img[4], mxcsr);
    for (int i = 0; i < 8; i++) {
        const uint8_t *st = img + 32 + 16 * i;
        fprintf(f, "ST%d=%04x%02x%02x%02x%02x%02x%02x%02x%02x%s", i, get16(st + 8), st[7], st[6],
                st[5], st[4], st[3], st[2], st[1], st[0], (i & 3) == 3 ? "\n" : " ");
    }
    for (int i = 0; i < 16; i++) {
        const uint8_t *x = img + 160 + 16 * i;
        fprintf(f, "XMM%02d=", i);
        for (int b = 15; b >= 0; b--)
            fprintf(f, "%02x", x[b]);
        fprintf(f, "%s", (i & 1) ? "\n" : " ");
    }
}

void x86_arch_state_dump(const X86ArchState *s, FILE *f)
{
    static const char *const r64[16] = { "RAX", "RCX", "RDX", "RBX", "RSP", "RBP", "RSI", "RDI",
                                         "R8", "R9", "R10", "R11", "R12", "R13", "R14", "R15" };
    for (int i = 0; i < 16; i++)
        fprintf(f, "%s=%016" PRIx64 "%s", r64[i], s->regs[i], (i & 3) == 3 ? "\n" : " ");
    /* RF and the reserved bits are not compared: KVM reports them as the
     * hardware leaves them after the exit. */
    fprintf(f, "RIP=%016" PRIx64 " RFLAGS=%08x\n", s->rip,
            ((uint32_t)s->rflags | EFL_FIXED) & ~0x10000u);
    for (int i = 0; i < X86_ARCH_NB_SEG; i++)
        dump_seg(s, i, f);
    fprintf(f, "GDT=%016" PRIx64 "/%04x IDT=%016" PRIx64 "/%04x\n",
            s->gdt.base, s->gdt.limit, s->idt.base, s->idt.limit);
    fprintf(f, "CR0=%08" PRIx64 " CR2=%016" PRIx64 " CR3=%016" PRIx64 " CR4=%08" PRIx64 "\n",
            s->cr0, s->cr2, s->cr3, s->cr4);
    fprintf(f, "EFER=%016" PRIx64 " STAR=%016" PRIx64 " LSTAR=%016" PRIx64 " CSTAR=%016" PRIx64 "\n",
            s->efer, s->star, s->lstar, s->cstar);
    fprintf(f, "FMASK=%016" PRIx64 " KERNEL_GS_BASE=%016" PRIx64 "\n",
            s->sfmask, s->kernel_gs_base);
    fprintf(f, "SYSENTER_CS=%04" PRIx64 " ESP=%016" PRIx64 " EIP=%016" PRIx64 "\n",
            s->sysenter_cs, s->sysenter_esp, s->sysenter_eip);
    dump_fpu(s, f);
}
