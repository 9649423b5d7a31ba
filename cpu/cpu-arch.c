/*
 * The architectural CPU state as text, for comparing accelerators: only
 * what the ISA defines (registers, flags, segment caches, descriptor
 * tables, control registers, the MSRs both accelerators hold), never the
 * translator's bookkeeping (lazy flags, hflags).  `-d cpu_exit` prints it
 * when a run ends; tests/system/kvm-state.sh compares tcg and kvm.
 */
#include <inttypes.h>

#include "cpu/cpu.h"

static const char *const arch_seg_names[R_NB_SEG] = {
    "ES", "CS", "SS", "DS", "FS", "GS", "LDT", "TR",
};

/* Segment caches: an unusable (null or not present) data segment's hidden
 * part is undefined per the SDM, so only its selector is printed. */
static void dump_seg(const CPUState *cpu, int s, FILE *f)
{
    const SegmentCache *sc = &cpu->seg[s];
    bool usable = (sc->attr & SEG_P) || !(cpu->cr[0] & CR0_PE);
    if (!usable && s != R_CS) {
        fprintf(f, "%-3s=%04x (unusable)\n", arch_seg_names[s], sc->selector);
        return;
    }
    fprintf(f, "%-3s=%04x base=%016" PRIx64 " limit=%08x attr=%08x\n", arch_seg_names[s],
            sc->selector, sc->base, sc->limit, sc->attr & SEG_ATTR_MASK);
}

static unsigned get16(const uint8_t *p) { return p[0] | p[1] << 8; }

/* x87 and SSE state from the FXSAVE image (the form KVM hands over too).
 * FIP/FDP/FOP are left out: vendors and KVM differ on them. */
static void dump_fpu(CPUState *cpu, FILE *f)
{
    uint8_t img[512];
    cpu_fx_export(cpu, img);
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

void cpu_dump_arch_state(CPUState *cpu, FILE *f)
{
    static const char *const r64[16] = { "RAX", "RCX", "RDX", "RBX", "RSP", "RBP", "RSI", "RDI",
                                         "R8", "R9", "R10", "R11", "R12", "R13", "R14", "R15" };
    for (int i = 0; i < 16; i++)
        fprintf(f, "%s=%016" PRIx64 "%s", r64[i], cpu->regs[i], (i & 3) == 3 ? "\n" : " ");
    /* RF and the reserved bits are not compared: KVM reports them as the
     * hardware leaves them after the exit. */
    fprintf(f, "RIP=%016" PRIx64 " RFLAGS=%08x\n", cpu->rip, cpu_get_eflags(cpu) & ~0x10000u);
    for (int s = 0; s < R_NB_SEG; s++)
        dump_seg(cpu, s, f);
    fprintf(f, "GDT=%016" PRIx64 "/%04x IDT=%016" PRIx64 "/%04x\n",
            cpu->gdt.base, cpu->gdt.limit, cpu->idt.base, cpu->idt.limit);
    fprintf(f, "CR0=%08" PRIx64 " CR2=%016" PRIx64 " CR3=%016" PRIx64 " CR4=%08" PRIx64 "\n",
            cpu->cr[0], cpu->cr[2], cpu->cr[3], cpu->cr[4]);
    fprintf(f, "EFER=%016" PRIx64 " STAR=%016" PRIx64 " LSTAR=%016" PRIx64 " CSTAR=%016" PRIx64 "\n",
            cpu->efer, cpu->star, cpu->lstar, cpu->cstar);
    fprintf(f, "FMASK=%016" PRIx64 " KERNEL_GS_BASE=%016" PRIx64 "\n",
            cpu->fmask, cpu->kernel_gs_base);
    fprintf(f, "SYSENTER_CS=%04" PRIx64 " ESP=%016" PRIx64 " EIP=%016" PRIx64 "\n",
            cpu->sysenter_cs, cpu->sysenter_esp, cpu->sysenter_eip);
    dump_fpu(cpu, f);
}
