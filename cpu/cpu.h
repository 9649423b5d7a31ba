/*
 * The x86 CPU model: architectural state (CPUState) and the public API the
 * board (hw/pc.c), the tests and the accelerators use.
 *
 * One CPUState per virtual CPU.  Translated code reaches it through the
 * env pointer: the general registers, rip and the lazy condition-code
 * fields are IR globals (an engine may cache them in host registers inside
 * a block); everything else is read and written by helpers.
 *
 *   CPUConfig cfg = CPU_CONFIG_DEFAULT;
 *   CPUState *cpu = cpu_create(m, 0, &cfg, err, sizeof err);
 *   cpu->board = &board_ops; cpu->board_opaque = pic;   // INTR/INTA, board MSRs
 *   cpu_reset(cpu);                       // F000:FFF0, real mode
 *   for (;;) {
 *       int r = cpu_exec(cpu, clock_now(m->clock) + 1000000);
 *       if (r == CPU_EXIT_HALTED) wait for a timer/interrupt;
 *       if (r == CPU_EXIT_SHUTDOWN) machine_triple_fault(m);
 *   }
 *
 * Lazy condition codes.  The six arithmetic flags (CF PF AF ZF SF OF) are
 * not kept in eflags.  The last flag-setting instruction leaves cc_op (what
 * it was, and its size) and up to three values:
 *   cc_dst   the result,
 *   cc_src   the second operand (ADD/SUB/ADC/SBB), the pre-shift value
 *            (shifts), the high half or overflow indicator (MUL), the old
 *            carry (INC/DEC), or the computed flags (CC_OP_EFLAGS),
 *   cc_src2  the carry-in (ADC/SBB).
 * cpu_cc_compute_all() rebuilds the six flags from them; cpu_get_eflags()
 * merges them with the other bits.  See docs/cpu.md.
 */
#ifndef VX86_CPU_CPU_H
#define VX86_CPU_CPU_H

#include <pthread.h>
#include <setjmp.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "core/machine.h"
#include "core/vmstate.h"
#include "cpu/arch-state.h"
#include "tcg/tlb.h"

/* ---- EFLAGS bits ---- */
enum {
    CC_C = 1u << 0, CC_P = 1u << 2, CC_A = 1u << 4, CC_Z = 1u << 6,
    CC_S = 1u << 7, CC_O = 1u << 11,
    CC_ALL = CC_C | CC_P | CC_A | CC_Z | CC_S | CC_O,
    EFL_FIXED = 1u << 1,
    EFL_TF = 1u << 8, EFL_IF = 1u << 9, EFL_DF = 1u << 10,
    EFL_IOPL = 3u << 12, EFL_IOPL_SHIFT = 12, EFL_NT = 1u << 14,
    EFL_RF = 1u << 16, EFL_VM = 1u << 17, EFL_AC = 1u << 18,
    EFL_VIF = 1u << 19, EFL_VIP = 1u << 20, EFL_ID = 1u << 21,
};

/* ---- lazy condition-code operations (cc_op); size is op & 3 ---- */
enum {
    CC_OP_EFLAGS = 0,      /* cc_src holds the six flags */
    CC_OP_ADD = 4,         /* +0 byte, +1 word, +2 dword, +3 qword */
    CC_OP_ADC = 8,
    CC_OP_SUB = 12,
    CC_OP_SBB = 16,
    CC_OP_LOGIC = 20,
    CC_OP_INC = 24,
    CC_OP_DEC = 28,
    CC_OP_SHL = 32,        /* cc_src = value shifted by count-1 */
    CC_OP_SHR = 36,        /* logical right; cc_src = value >> (count-1) */
    CC_OP_SAR = 40,
    CC_OP_MUL = 44,        /* cc_src != 0: CF = OF = 1 */
    CC_OP_NB = 48,
    CC_OP_DYNAMIC = 255,   /* translator only: not known statically */
};

typedef struct SegmentCache {
    uint32_t selector;
    uint32_t attr;           /* SEG_* bits */
    uint64_t base;
    uint32_t limit;          /* byte granular */
    uint32_t pad;
    /* Precomputed limit checks for translated code: an access of size s at
     * offset o is allowed when (o - lo) + s - 1 <= span (unsigned 64-bit).
     * Separate pairs for reads and writes (read-only, execute-only,
     * null and not-present segments fault through these). */
    uint64_t rd_lo, rd_span, wr_lo, wr_span;
} SegmentCache;

typedef struct DescTable {
    uint64_t base;
    uint32_t limit;
} DescTable;

/* hflags: the mode bits translation depends on (part of the TB key). */
enum {
    HF_CPL_MASK = 3,
    HF_PE = 1u << 2,         /* protected mode */
    HF_CS32 = 1u << 3,       /* default operand/address size 32 */
    HF_SS32 = 1u << 4,       /* stack uses ESP */
    HF_CS64 = 1u << 5,       /* 64-bit code segment (long mode) */
    HF_LMA = 1u << 6,        /* long mode active */
    HF_VM = 1u << 7,         /* virtual-8086 mode */
    HF_FLAT = 1u << 8,       /* ES/CS/SS/DS base 0, limit 4G: no base add, no checks */
    HF_TF = 1u << 9,         /* single-step: one instruction per block */
    HF_IOPL_SHIFT = 10,      /* bits 10-11: IOPL */
    HF_IOPL = 3u << 10,
    HF_PG = 1u << 12,        /* paging on */
    HF_EM = 1u << 13,        /* CR0.EM: x87 emulation (x87 -> #NM, MMX/SSE -> #UD) */
    HF_TS = 1u << 14,        /* CR0.TS: task switched (FPU/SSE -> #NM) */
    HF_MP = 1u << 15,        /* CR0.MP: WAIT/FWAIT honours TS */
    HF_OSFXSR = 1u << 16,    /* CR4.OSFXSR: SSE instructions allowed */
    HF_AC = 1u << 17,        /* alignment checks: CR0.AM, EFLAGS.AC and CPL 3 */
    HF_SSE_FAST = 1u << 18,  /* MXCSR control bits are 0x1f80: SSE FP inline (cpu_mxcsr_*) */
    /* CR4.SMAP, EFLAGS.AC and CPL < 3: explicit data accesses may touch
     * user pages, so they use their own TLB (MMU_KERNEL_AC) and STAC/CLAC
     * switch TLBs instead of flushing one (Linux does both around every
     * user copy). */
    HF_SMAP_AC = 1u << 19,
    HF_KEY_MASK = 0xfffff,
};

/* In a TB key only, never in cpu->hflags: a one-instruction block for the
 * instruction after STI / MOV SS (the interrupt shadow).  Linux runs such
 * shadows constantly (local_irq_enable), so they are cached like any block;
 * they never chain, so the loop checks interrupts right after them. */
#define TB_KEY_ONE_INSN (1u << 31)

/* CPUState.tlb_info bits */
enum { TLBI_SHIFT = 0x3f, TLBI_GLOBAL = 0x80 };

/* Soft-TLB mmu indices. */
enum {
    MMU_KERNEL = 0,          /* CPL 0-2 (SMAP applies when CR4.SMAP) */
    MMU_USER = 1,            /* CPL 3 */
    MMU_SYSTEM = 2,          /* implicit supervisor accesses (GDT/IDT/TSS) */
    MMU_KERNEL_AC = 3,       /* CPL 0-2 with HF_SMAP_AC: SMAP lifted */
};

/* The mmu index of explicit accesses in the mode described by hflags
 * (translated code takes it from the block's key). */
static inline int hflags_mmu_index(uint32_t hf)
{
    if ((hf & HF_CPL_MASK) == 3)
        return MMU_USER;
    return hf & HF_SMAP_AC ? MMU_KERNEL_AC : MMU_KERNEL;
}

/* Exceptions */
enum {
    EXC_DE = 0, EXC_DB = 1, EXC_NMI = 2, EXC_BP = 3, EXC_OF = 4, EXC_BR = 5,
    EXC_UD = 6, EXC_NM = 7, EXC_DF = 8, EXC_TS = 10, EXC_NP = 11, EXC_SS = 12,
    EXC_GP = 13, EXC_PF = 14, EXC_MF = 16, EXC_AC = 17, EXC_MC = 18, EXC_XM = 19,
};

/* MSR numbers */
#define MSR_IA32_TSC            0x10
#define MSR_IA32_APIC_BASE      0x1b
#define MSR_IA32_SYSENTER_CS    0x174
#define MSR_IA32_SYSENTER_ESP   0x175
#define MSR_IA32_SYSENTER_EIP   0x176
#define MSR_IA32_MISC_ENABLE    0x1a0
#define MSR_IA32_PAT            0x277
#define MSR_EFER                0xc0000080
#define MSR_STAR                0xc0000081
#define MSR_LSTAR               0xc0000082
#define MSR_CSTAR               0xc0000083
#define MSR_FMASK               0xc0000084
#define MSR_FS_BASE             0xc0000100
#define MSR_GS_BASE             0xc0000101
#define MSR_KERNEL_GS_BASE      0xc0000102
#define MSR_TSC_AUX             0xc0000103

enum {
    EFER_SCE = 1u << 0, EFER_LME = 1u << 8, EFER_LMA = 1u << 10,
    EFER_NXE = 1u << 11,
};
enum {
    CR0_PE = 1u << 0, CR0_MP = 1u << 1, CR0_EM = 1u << 2, CR0_TS = 1u << 3,
    CR0_ET = 1u << 4, CR0_NE = 1u << 5, CR0_WP = 1u << 16, CR0_AM = 1u << 18,
    CR0_NW = 1u << 29, CR0_CD = 1u << 30, CR0_PG = 1u << 31,
};
enum {
    CR4_VME = 1u << 0, CR4_PVI = 1u << 1, CR4_TSD = 1u << 2, CR4_DE = 1u << 3,
    CR4_PSE = 1u << 4, CR4_PAE = 1u << 5, CR4_MCE = 1u << 6, CR4_PGE = 1u << 7,
    CR4_PCE = 1u << 8, CR4_OSFXSR = 1u << 9, CR4_OSXMMEXCPT = 1u << 10,
    CR4_UMIP = 1u << 11, CR4_FSGSBASE = 1u << 16, CR4_PCIDE = 1u << 17,
    CR4_OSXSAVE = 1u << 18, CR4_SMEP = 1u << 20, CR4_SMAP = 1u << 21,
};

/* cpu_exec() results */
typedef enum CPUExitReason {
    CPU_EXIT_BUDGET = 0,      /* deadline or instruction budget reached */
    CPU_EXIT_HALTED,          /* HLT with no interrupt deliverable */
    CPU_EXIT_STOPPED,         /* machine->stop_requested or cpu_stop() */
    CPU_EXIT_SHUTDOWN,        /* triple fault: the machine decides (machine_triple_fault) */
    CPU_EXIT_ERROR,           /* emulation error (message in cpu->error) */
    CPU_EXIT_DEBUG,           /* a debugger's breakpoint, watchpoint or step (cpu/debug.h) */
} CPUExitReason;

typedef struct CPUConfig {
    int family, model, stepping;
    bool x86_64;              /* long mode supported */
    bool nx, pae, sse2;
    bool page1gb;             /* 1 GiB pages (CPUID.80000001H:EDX[26]); else PS in a
                                 PDPTE is a reserved bit */
    uint64_t tsc_hz;          /* 0: 1 GHz */
    const char *model_name;   /* CPUID model (cpu/cpu-models.c); NULL: the default */
    /* Filled by cpu_create() from the model: CPUID feature words. */
    uint32_t feat[8];         /* CPU_FEAT_* words */
    const char *engine;       /* "interp" (default) or "x86_64" */
} CPUConfig;
#define CPU_CONFIG_DEFAULT \
    { .family = 6, .model = 15, .stepping = 1, .x86_64 = true, .nx = true, \
      .pae = true, .sse2 = false, .page1gb = true, .tsc_hz = 0, .engine = NULL }

/* One x87 register as the 80-bit extended format: 64-bit significand
 * (explicit integer bit) and sign + 15-bit exponent.  MMX register n is
 * the significand of physical register n. */
typedef struct FPReg {
    uint64_t mant;
    uint16_t sexp;
    uint16_t pad[3];
} FPReg;

/* One 128-bit XMM register (little-endian lanes). */
typedef union XMMReg {
    uint8_t b[16];
    uint16_t w[8];
    uint32_t d[4];
    uint64_t q[2];
    int8_t sb[16];
    int16_t sw[8];
    int32_t sd[4];
    int64_t sq[2];
    float f[4];
    double fd[2];
} XMMReg;

/* MXCSR bits */
enum {
    MXCSR_IE = 1u << 0, MXCSR_DE = 1u << 1, MXCSR_ZE = 1u << 2, MXCSR_OE = 1u << 3,
    MXCSR_UE = 1u << 4, MXCSR_PE = 1u << 5, MXCSR_FLAGS = 0x3f,
    MXCSR_DAZ = 1u << 6, MXCSR_MASKS = 0x3fu << 7, MXCSR_RC_SHIFT = 13,
    MXCSR_RC = 3u << 13, MXCSR_FZ = 1u << 15,
    MXCSR_MASK_SUPPORTED = 0xffff,    /* writable bits (DAZ supported) */
};
/* XCR0 state components */
enum { XSTATE_X87 = 1u << 0, XSTATE_SSE = 1u << 1, XSTATE_SUPPORTED = 3 };

#define CPU_TLB_VICTIMS 8

typedef struct TBCache TBCache;
typedef struct IREngine IREngine;
typedef struct IREngineCtx IREngineCtx;
typedef struct X86Translator X86Translator;

struct CPUState {
    /* ---- IR globals (keep together, at the start) ---- */
    uint64_t regs[16];
    uint64_t rip;
    uint64_t cc_dst, cc_src, cc_src2;
    uint32_t cc_op;
    /* A pending INC/DEC (translate.c gen_incdec): when cc_pend_op is not
     * 0, the flags are those of INC/DEC cc_pend_op applied on top of the
     * state above, with result cc_pend.  cpu_cc_settle() folds it in. */
    uint32_t cc_pend_op;
    uint64_t cc_pend;
    uint32_t eflags;          /* all bits except CC_ALL */

    /* ---- state read by translated code through env ---- */
    /* Decremented at every block entry; the block exits to the loop when
     * it goes negative.  Kicks (cpu_interrupt_request, cpu_stop,
     * cpu_async_request, the clock's alarm) store -1, from any thread; one
     * overwritten by a racing decrement waits for the budget to run out. */
    int32_t exit_budget;
    /* -icount (cpu/exec.c "Instruction counting"): instructions the blocks
     * may still run before the loop must look at the clock; each block
     * subtracts its length at entry and exits instead when it would go
     * negative.  icount_unexec: how many instructions of the running block
     * (the current one included) had not completed when a helper faulted
     * (stored before each helper call that can fault). */
    int32_t icount_budget;
    int32_t icount_unexec;
    /* Set by a block that left at its entry without running an
     * instruction (a kick, -icount's budget); the loop clears it before
     * a block it must know about (a debugger's single step). */
    int32_t block_not_run;
    uint32_t hflags;          /* HF_* */
    uint32_t a20_mask;        /* 0xffffffff or ~(1 << 20) applied to phys addresses */
    SegmentCache seg[R_NB_SEG];
    DescTable gdt, idt;

    uint64_t cr[9];           /* cr0, cr2, cr3, cr4, cr8 (others unused) */
    uint64_t efer;
    uint64_t dr[8];
    uint64_t star, lstar, cstar, fmask, kernel_gs_base;
    uint64_t sysenter_cs, sysenter_esp, sysenter_eip;
    uint64_t pat, apic_base, misc_enable, tsc_aux;
    int64_t tsc_offset;       /* TSC = virtual ns * tsc_hz / 1e9 + offset */

    /* ---- x87, MMX, SSE (cpu/helpers-fpu.c, cpu/helpers-sse.c) ---- */
    XMMReg xmm[16] __attribute__((aligned(16)));
    XMMReg xmm_tmp[2];        /* translator scratch: memory operands */
    FPReg fpregs[8];          /* physical R0-R7 (ST(i) = fpregs[(fpstt + i) & 7]) */
    uint32_t mxcsr;
    uint16_t fpuc;            /* control word */
    uint16_t fpus;            /* status word, TOP bits (11-13) kept in fpstt */
    uint32_t fpstt;           /* TOP */
    uint32_t fptag_empty;     /* bit i: physical register i is empty */
    uint16_t fpop;            /* last non-control opcode (11 bits) */
    uint16_t fpcs, fpds;      /* last instruction / operand selectors */
    uint64_t fpip, fpdp;      /* last instruction / operand offsets */
    uint64_t xcr0;            /* XSAVE feature enable mask */

    /* ---- interrupts and exceptions ---- */
    bool halted;
    bool inhibit_irq;         /* one-instruction shadow after STI / MOV SS */
    uint64_t inhibit_rip;     /* the shadow applies while rip equals this */
    bool nmi_pending;
    int exc_pending;          /* raised, to deliver from the loop, or -1 */
    uint32_t exc_error;
    int exc_delivering;       /* exception being delivered, or -1 */
    int last_exception;       /* last exception vector delivered (tests, -d int) */
    int first_exception;      /* first one since set to -1 (tests) */
    uint64_t exception_count;
    /* The board's side of the socket (Machine.cpu_ops, core/machine.h):
     * intr_pending() says whether the interrupt controller asserts INTR,
     * intr_ack() runs the INTA cycle; msr (may be NULL: then there is no
     * local APIC and CPUID does not report one) the board's MSRs.  NULL
     * board: nothing connected. */
    const CPUBoardOps *board;
    void *board_opaque;

    /* ---- soft TLB ---- */
    SoftTLB tlb;
    uint64_t tlb_phys[TLB_NB_MMU_MODES][TLB_SIZE]; /* phys page of each entry */
    /* Entries evicted from the direct-mapped table, looked up before a
     * page walk: two pages that share a slot (a copy between buffers a
     * multiple of 1 MiB apart) then cost a swap, not a walk per access. */
    TLBEntry tlb_victim[TLB_NB_MMU_MODES][CPU_TLB_VICTIMS];
    uint64_t tlb_victim_phys[TLB_NB_MMU_MODES][CPU_TLB_VICTIMS];
    unsigned tlb_victim_next[TLB_NB_MMU_MODES];
    /* Per entry: TLBI_GLOBAL when it maps a global page (CR4.PGE and G in
     * the leaf entry: a CR3 write keeps it, SDM 3A 4.10.4.1), and the log2
     * size of the guest page it is part of (TLBI_SHIFT: 12, or 21/22/30
     * for a large page, which INVLPG drops as a whole). */
    uint8_t tlb_info[TLB_NB_MMU_MODES][TLB_SIZE];
    uint8_t tlb_victim_info[TLB_NB_MMU_MODES][CPU_TLB_VICTIMS];
    /* Linear range covered by large-page entries since the last full
     * flush (lo > hi: none): INVLPG outside it needs no search. */
    uint64_t tlb_large_lo[TLB_NB_MMU_MODES], tlb_large_hi[TLB_NB_MMU_MODES];
    /* The table indices filled since the last flush, so a flush clears
     * those instead of every entry (CR3 writes come at every context
     * switch).  tlb_used_ok false (after calloc, or on overflow): the
     * list is incomplete and the next flush clears the whole table. */
    uint16_t tlb_used[TLB_NB_MMU_MODES][TLB_SIZE];
    unsigned tlb_nused[TLB_NB_MMU_MODES];
    bool tlb_used_ok[TLB_NB_MMU_MODES];
    /* The RAM range the page walker last read an entry from (cpu/mmu.c
     * pte_ptr): entries are read through it without a memory-map lookup.
     * Cleared with the TLB when the memory map changes. */
    uint8_t *pt_host;
    uint64_t pt_lo, pt_len;

    /* ---- machine, engine, block cache ---- */
    Machine *machine;
    int index;
    CPUConfig cfg;
    const IREngine *engine;
    IREngineCtx *engine_ctx;
    TBCache *tbs;
    X86Translator *tr;
    uint64_t mem_generation;  /* memmap generation the TLB was filled for */
    uint64_t dirty_gen;       /* the machine's dirty_gen the TLB was filled for */
    /* Interrupt polling (cpu/exec.c): the controllers are asked only when
     * something may have changed since a poll found nothing pending. */
    bool intr_poll;                 /* ask them at the next boundary */
    uint64_t dev_accesses_seen;     /* device-access counters, last look */
    const uint64_t *mmio_accesses;  /* the machine's counters, or NULL */
    const uint64_t *pio_accesses;
    sigjmp_buf jmp_env;
    bool in_exec;             /* read by other threads with __atomic loads */
    pthread_t exec_thread;    /* the thread of the last cpu_exec (cpu/smp.c) */
    bool exec_thread_set;
    /* Requests other threads post (cpu/smp.h); drained by the loop. */
    struct CPUMailbox *mbox;
    bool split_locked;        /* holds the machine's split-atomic lock */
    int perfmap_fd;           /* VX86_PERFMAP: /tmp/perf-PID.map, or -1 */
    /* Tickets of "protect code page" requests this CPU posted for a new
     * block and must see carried out (cpu/smp.c), per CPU index; 0: none. */
    uint64_t protect_ticket[64];
    bool protect_wait;
    bool in_tb;               /* translated code is running */
    /* Set by the clock's alarm (a signal handler) when a timer deadline
     * passed; exec_loop then reads the clock (core/clock.h). */
    volatile int clock_alarm;   /* a plain int: the handler runs on this thread */
    bool clock_alarm_set;     /* the alarm is installed on the machine clock */
    /* Another thread runs the machine's timers (a vCPU thread of
     * accel/vcpus.h): cpu_exec does not return at timer deadlines. */
    bool timers_elsewhere;
    /* Several CPUs take turns on this thread: PAUSE ends the CPU's turn
     * (gen_PAUSE).  Set before the first translation. */
    bool pause_yields;
    /* Each CPU has a host thread of its own (-accel tcg,thread=multi with
     * several CPUs): a CPU that spins on PAUSE for long gives its host
     * core up now and then (smp_pause, cpu/smp.h).  Set before the first
     * translation. */
    bool pause_spin_yield;
    uint64_t pause_streak_ns; /* host time this run of PAUSEs began */
    uint64_t pause_last_ns;   /* host time of the latest PAUSE */
    uint64_t pause_host_yields; /* sched_yield()s of smp_pause (statistics, tests) */
    bool mxcsr_in_host;       /* cpu_exec: the guest's SSE flags are in the host MXCSR */
    struct TB *current_tb;
    /* cpu_stop(): leave cpu_exec soon (from any thread; one that comes
     * while the CPU is outside cpu_exec ends its next call at once). */
    bool stop;
    bool shutdown;            /* triple fault seen */
    uint64_t translations;    /* blocks translated so far (statistics, tests) */
    bool single_insn_next;    /* next block: one uncached instruction (SMC) */
    uint64_t insn_budget;     /* tests: stop after this many blocks (0 = no limit) */
    /* -icount: instructions are counted exactly (cpu/exec.c).  icount is
     * the count when icount_budget was last set to icount_budget_start;
     * cpu_icount() adds what the blocks consumed since. */
    bool icount_mode;
    uint64_t icount;
    int32_t icount_budget_start;
    /* The loop returns CPU_EXIT_BUDGET when the count reaches this
     * (UINT64_MAX: never); set by the accelerator for replays and reverse
     * execution, besides the clock's deadlines. */
    uint64_t icount_stop_at;
    bool one_insn_next;       /* icount: the next block is the one instruction at rip (a
                                 device access in mid-block restarts it alone) */
    /* Breakpoints, watchpoints, steps (cpu/debug.h); NULL until a debugger
     * or the guest's DR7 asks for them. */
    struct CPUDebug *dbg;
    char error[128];

    /* ---- the machine's "cpu" state section (cpu_vmsd) ---- */
    struct Device *section;
    /* Set by an accelerator that keeps the live state elsewhere (KVM, whose
     * copy this CPUState then is): before a save it brings this copy up
     * to date (to_accel false), after a load it puts the loaded state into
     * the accelerator (to_accel true).  NULL: this CPUState is the live one. */
    int (*accel_sync)(void *opaque, CPUState *cpu, bool to_accel, char *err, size_t len);
    void *accel_sync_opaque;
};

/* ---- public API ---- */
/* A CPU that runs on the translator, listed in m->cpus[index] and in m's
 * saved state as section "cpu" (cpu_vmsd). */
CPUState *cpu_create(Machine *m, int index, const CPUConfig *cfg, char *err, size_t errlen);
/* The same without an execution engine: it holds the state of a CPU some
 * other accelerator runs (KVM), for saved machines and dumps. */
CPUState *cpu_create_state_only(Machine *m, int index, const CPUConfig *cfg, char *err,
                                size_t errlen);
void cpu_free(CPUState *cpu);
/* Power-on / RESET state: real mode, CS=F000 base FFFF0000, IP=FFF0
 * (cpu_arch_reset_state put into the CPU). */
void cpu_reset(CPUState *cpu);
/* Runs until deadline_ns (virtual clock), HLT, a stop request or a triple
 * fault; returns a CPUExitReason. */
int cpu_exec(CPUState *cpu, int64_t deadline_ns);
/* Makes the CPU's cpu_exec return CPU_EXIT_STOPPED at its next block
 * boundary, or its next cpu_exec at once if it is not running (any
 * thread; the request is consumed by that return). */
void cpu_stop(CPUState *cpu);
/* The board calls this when the INTR line rises (or anything else needs
 * the loop's attention): running code returns to the loop at the next
 * block boundary, which then polls intr_pending(). */
void cpu_interrupt_request(CPUState *cpu);
/* -icount: counts instructions exactly and drives the machine clock
 * (CLOCK_ICOUNT) from them.  Before the first cpu_exec. */
void cpu_icount_enable(CPUState *cpu);
/* Instructions completed so far (also in the middle of a block, from a
 * device access or RDTSC, which end their block under -icount). */
uint64_t cpu_icount(const CPUState *cpu);
void cpu_set_icount(CPUState *cpu, uint64_t count);
/* Wakes a halted CPU for an NMI. */
void cpu_raise_nmi(CPUState *cpu);
/* The A20 line changed: on cpu's own thread at once, from any other
 * thread through its mailbox (applied before cpu runs its next block). */
void cpu_set_a20(CPUState *cpu, bool on);
void cpu_dump_state(CPUState *cpu, FILE *f);
extern const VMStateDesc cpu_vmsd;

/* The architectural state (cpu/arch-state.h; cpu/cpu-arch.c).  The
 * power-on state of a CPU of model cfg, the index-th of its machine: */
void cpu_arch_reset_state(X86ArchState *s, const CPUConfig *cfg, int index);
/* Reads cpu's state (outside cpu_exec). */
void cpu_get_arch_state(CPUState *cpu, X86ArchState *s);
/* Makes s cpu's state, with everything the translator derives from it;
 * -1 with err set, and nothing changed, for a state the translator cannot
 * hold (reserved MXCSR or XCR0 bits, an undelivered acknowledged
 * interrupt, a pending "exception" that is not one). */
int cpu_put_arch_state(CPUState *cpu, const X86ArchState *s, char *err, size_t len);
/* The time-stamp counter (virtual time at the model's rate plus an offset). */
uint64_t cpu_get_tsc(CPUState *cpu);
void cpu_set_tsc(CPUState *cpu, uint64_t value);

/* Setters for direct boot and tests.  Segment loads here take the cache
 * values as given (no descriptor table access). */
void cpu_set_seg(CPUState *cpu, int seg, uint16_t selector, uint64_t base,
                 uint32_t limit, uint32_t attr);
/* Real-mode style load: base = selector << 4, limit and attributes kept. */
void cpu_set_seg_real(CPUState *cpu, int seg, uint16_t selector);
void cpu_set_cr(CPUState *cpu, int n, uint64_t value);
void cpu_set_efer(CPUState *cpu, uint64_t value);
void cpu_set_gdt(CPUState *cpu, uint64_t base, uint32_t limit);
void cpu_set_idt(CPUState *cpu, uint64_t base, uint32_t limit);
uint32_t cpu_get_eflags(CPUState *cpu);
void cpu_set_eflags(CPUState *cpu, uint32_t value);
/* Drops every translated block (tests that rewrite guest memory behind
 * the CPU's back call this). */
void cpu_flush_code(CPUState *cpu);

/* CPUID feature words (CPUConfig.feat[]) */
enum {
    CPU_FEAT_1_EDX, CPU_FEAT_1_ECX, CPU_FEAT_7_EBX, CPU_FEAT_7_ECX, CPU_FEAT_7_EDX,
    CPU_FEAT_81_EDX, CPU_FEAT_81_ECX, CPU_FEAT_D1_EAX,
};
/* CPU models (cpu/cpu-models.c): fills the model-dependent fields of cfg
 * for the named model (NULL or "" = the default, "vx86").  False with a
 * message listing the known names when the name is unknown. */
bool cpu_model_apply(CPUConfig *cfg, const char *name, char *err, size_t errlen);
/* -cpu help: the models and their aliases. */
void cpu_models_print(FILE *f);
/* Does the CPU's model have this X86Feature (cpu/decode.h)? */
bool cpu_has_feature(const CPUState *cpu, int x86_feature);
/* CPUID leaf/subleaf -> eax, ebx, ecx, edx. */
void cpu_cpuid(CPUState *cpu, uint32_t leaf, uint32_t sub, uint32_t r[4]);
/* The x87/MMX/SSE state as a 512-byte 64-bit FXSAVE image and back (KVM
 * sync, tests); import returns false (nothing changed) for an MXCSR with
 * reserved bits set. */
void cpu_fx_export(CPUState *cpu, uint8_t img[512]);
bool cpu_fx_import(CPUState *cpu, const uint8_t img[512]);

/* The SSE fast path's MXCSR (docs/performance.md, "SSE"): while
 * cpu_exec runs (cpu->mxcsr_in_host), inline SSE instructions leave the
 * guest's sticky exception flags in the host MXCSR.  Every reader of
 * cpu->mxcsr that can run then calls cpu_mxcsr_sync() first, every writer
 * uses cpu_mxcsr_set().  cpu_exec starts with clean host flags
 * (cpu_mxcsr_enter) and folds them when it returns (cpu_mxcsr_leave); the
 * C code it runs between blocks must do no floating point of its own. */
void cpu_mxcsr_sync(CPUState *cpu);
void cpu_mxcsr_set(CPUState *cpu, uint32_t v);
void cpu_mxcsr_enter(CPUState *cpu);
void cpu_mxcsr_leave(CPUState *cpu);

/* ---- internal API shared by the cpu/ files ---- */
uint32_t cpu_cc_compute_all(uint32_t op, uint64_t dst, uint64_t src, uint64_t src2);
void cpu_cc_settle_pending(CPUState *cpu);
/* Folds a pending INC/DEC into cc_op/cc_dst/cc_src (cheap when none). */
static inline void cpu_cc_settle(CPUState *cpu)
{
    if (cpu->cc_pend_op)
        cpu_cc_settle_pending(cpu);
}
/* Writes eflags with the mask of bits allowed to change. */
void cpu_load_eflags(CPUState *cpu, uint32_t value, uint32_t mask);
/* Applies an A20 level now (cpu's own thread, or cpu not running). */
void cpu_set_a20_now(CPUState *cpu, bool on);
/* Drops cpu's TLB and translated code: at once on its own thread, else
 * through its mailbox (whole-state changes: put, a loaded state). */
void cpu_flush_caches(CPUState *cpu);
void cpu_update_hflags(CPUState *cpu);
void cpu_seg_update_checks(SegmentCache *s, bool real_mode);
/* Raises a guest exception: restores the faulting instruction's state from
 * ra (0: env->rip is already exact) and leaves translated code. */
void cpu_raise_exception(CPUState *cpu, int vec, uint32_t error_code,
                         uintptr_t ra) __attribute__((noreturn));
void cpu_raise_exception_err(CPUState *cpu, int vec, uint32_t error_code)
    __attribute__((noreturn));
/* Restores rip (and cc_op) of the instruction running at ra. */
void cpu_restore_state(CPUState *cpu, uintptr_t ra);
/* Leaves the current block to the execution loop (rip must be exact). */
void cpu_loop_exit(CPUState *cpu) __attribute__((noreturn));
/* Delivers an interrupt or exception now (real, protected or long mode). */
void cpu_do_interrupt(CPUState *cpu, int vec, bool is_sw, bool has_error,
                      uint32_t error_code, uint64_t next_rip);
static inline int cpu_cpl(const CPUState *cpu) { return cpu->hflags & HF_CPL_MASK; }
static inline int cpu_mmu_index(const CPUState *cpu)
{
    return hflags_mmu_index(cpu->hflags);
}
static inline bool cpu_long_mode(const CPUState *cpu) { return cpu->hflags & HF_LMA; }
static inline bool cpu_code64(const CPUState *cpu) { return cpu->hflags & HF_CS64; }

#endif
