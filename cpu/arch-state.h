/*
 * The architectural state of one x86 CPU as plain data: what the ISA
 * defines and a CPU holds, in one layout every accelerator produces and
 * takes (accel/accel.h: get_cpu_state / put_cpu_state).  RESET, direct
 * Linux boot, saved machines and a switch between accelerators all go
 * through it.
 *
 * No translator bookkeeping (lazy flags, hflags, TLBs, translated code)
 * and no KVM layout: the translator converts with cpu_get_arch_state /
 * cpu_put_arch_state (cpu/cpu-arch.c), KVM with its vCPU ioctls
 * (accel/kvm.c).
 *
 *   X86ArchState s;
 *   cpu_arch_reset_state(&s, &cfg, 0);      // power-on state
 *   s.rip = entry; s.regs[R_ESI] = params;  // ... whatever the boot needs
 *   if (ops->put_cpu_state(acc, &s, err, sizeof err) < 0) die(err);
 *
 * Conventions (those of VMX/SVM guest state, so KVM needs no translation
 * beyond field names):
 *  - segments carry their hidden part; attr is the descriptor's high dword
 *    masked with 0x00f0ff00 (SEG_* in cpu/cpu.h: type, S, DPL, P, AVL, L,
 *    D/B, G); P clear means unusable (a null selector), except in real and
 *    virtual-8086 mode where ES..GS are always usable;
 *  - the current privilege level is not a field: it is SS.DPL in protected
 *    mode, 0 in real mode and 3 in virtual-8086 mode;
 *  - FS.base and GS.base are the FS_BASE / GS_BASE MSRs;
 *  - x87, MMX and SSE are one FXSAVE image in its 64-bit form (SDM vol. 1
 *    10.5.1: 64-bit FPU IP/DP), with FCS/FDS, which that form drops, apart.
 *    vx86 models no XSAVE component beyond SSE (XCR0 bits 0-1; CPUID leaf
 *    0DH says so under both accelerators), so there is no YMM/AVX area.
 */
#ifndef VX86_CPU_ARCH_STATE_H
#define VX86_CPU_ARCH_STATE_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

/* Segment registers, in the order of X86ArchState.seg (and CPUState.seg). */
enum { R_ES, R_CS, R_SS, R_DS, R_FS, R_GS, R_LDTR, R_TR, R_NB_SEG };
/* General registers */
enum { R_EAX, R_ECX, R_EDX, R_EBX, R_ESP, R_EBP, R_ESI, R_EDI };

/* Segment descriptor attribute bits: the descriptor's high dword masked
 * with 0x00f0ff00 (type 8-11, S 12, DPL 13-14, P 15, AVL 20, L 21,
 * D/B 22, G 23). */
enum {
    SEG_A = 1u << 8,         /* accessed */
    SEG_W = 1u << 9,         /* data: writable; code: readable (R) */
    SEG_E = 1u << 10,        /* data: expand-down; code: conforming */
    SEG_CODE = 1u << 11,
    SEG_S = 1u << 12,        /* code/data (not system) */
    SEG_DPL_SHIFT = 13,
    SEG_P = 1u << 15,
    SEG_L = 1u << 21,
    SEG_B = 1u << 22,
    SEG_G = 1u << 23,
    SEG_ATTR_MASK = 0x00f0ff00u,
};

typedef struct X86ArchSegment {
    uint16_t selector;
    uint32_t attr;           /* SEG_* bits (see above) */
    uint64_t base;
    uint32_t limit;          /* byte granular: G already applied */
} X86ArchSegment;

typedef struct X86ArchTable {
    uint64_t base;
    uint32_t limit;
} X86ArchTable;

#define X86_ARCH_NB_SEG R_NB_SEG

typedef struct X86ArchState {
    uint64_t regs[16];       /* RAX RCX RDX RBX RSP RBP RSI RDI R8..R15 */
    uint64_t rip;
    uint64_t rflags;         /* every flag, the six arithmetic ones included */
    X86ArchSegment seg[X86_ARCH_NB_SEG];   /* R_ES ... R_TR */
    X86ArchTable gdt, idt;
    uint64_t cr0, cr2, cr3, cr4, cr8;
    uint64_t efer;
    uint64_t dr[8];          /* DR0-DR3, DR6 in [6], DR7 in [7]; [4], [5] are 0 */

    /* Model-specific registers vx86 implements (the local APIC's own
     * registers belong to the board's LAPIC model, not to this state). */
    uint64_t star, lstar, cstar, sfmask, kernel_gs_base;
    uint64_t sysenter_cs, sysenter_esp, sysenter_eip;
    uint64_t pat;
    uint64_t tsc;            /* the time-stamp counter's value */
    uint64_t apic_base;      /* IA32_APIC_BASE as the CPU holds it */
    uint64_t misc_enable;
    uint64_t tsc_aux;

    /* x87 / MMX / SSE */
    uint8_t fxsave[512];     /* FXSAVE64 image; bytes 464-511 are 0 */
    uint16_t fcs, fds;       /* x87 last instruction / operand selectors */
    uint64_t xcr0;

    /* Events in flight at an instruction boundary. */
    int16_t exception;       /* vector (0-31, not 2) raised and not yet delivered, or -1 */
    bool exception_injected; /* its delivery had begun (KVM's "injected"): the
                                translator delivers it from the start either way */
    bool exception_has_error;
    uint32_t exception_error;
    int16_t interrupt;       /* an external interrupt acknowledged but not yet
                                delivered (KVM only), or -1 */
    bool interrupt_soft;     /* ... raised by INT n */
    bool interrupt_shadow;   /* the instruction at rip runs with interrupts held
                                off (it follows STI or MOV SS) */
    bool nmi_pending;
    bool nmi_masked;         /* NMIs blocked until the next IRET (KVM; the
                                translator does not model NMI blocking) */

    /* The CPU's pins and run state. */
    bool a20;                /* A20M# inactive: physical address bit 20 passes */
    bool halted;             /* in HLT, waiting for an interrupt */
} X86ArchState;

/* The whole state as text, the same under every accelerator (only what
 * the ISA defines and both accelerators hold the same way): `-d cpu_exit`
 * prints it when a run ends; tests/system/kvm-state.sh compares tcg and
 * kvm (cpu/cpu-arch.c). */
void x86_arch_state_dump(const X86ArchState *s, FILE *f);

#endif
