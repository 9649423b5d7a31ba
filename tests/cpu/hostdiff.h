/*
 * hostdiff: differential test of vx86's translator against the host CPU.
 *
 * Shared definitions of the test program tests/cpu/hostdiff (see
 * docs/hostdiff.md): the fixed guest/host address layout, the register
 * state a sequence starts from and ends in (HDState), the data page
 * (HDMemory), the exception outcome (HDResult), and the three parts:
 *
 *   hostdiff-gen.c     random instruction sequences from cpu/opcodes.def
 *   hostdiff-native.c  runs a sequence on the host CPU in a child process
 *                      (+ hostdiff-native.S, the register-loading trampoline)
 *   hostdiff-vx86.c    runs the same sequence under vx86 (hd_run_vx86)
 *   hostdiff-probe.c   what the host can run (32-bit code) and where its
 *                      results differ from the SDM (INT n quirks)
 *   hostdiff.c         command line, comparison, self-tests
 *
 * The part above `#ifndef __ASSEMBLER__` is also read by the trampoline.
 */
#ifndef VX86_TESTS_CPU_HOSTDIFF_H
#define VX86_TESTS_CPU_HOSTDIFF_H

/* ---- address layout (identical on the host and in the vx86 guest) ----
 * Every page sits below 2 GiB so that 32-bit code and 32-bit absolute
 * (disp32) addressing in 64-bit code reach it.  The pages between them are
 * never mapped: accesses that run off the data page fault (#PF). */
#define HD_CTRL_ADDR   0x00a00000  /* host only: HDCtrl (trampoline I/O) */
#define HD_CODE_ADDR   0x00a02000  /* the sequence, then the epilogue (RWX) */
#define HD_DATA_ADDR   0x00a04000  /* the data page (RW) */
#define HD_PAGE_SIZE   4096
#define HD_BOUNCE_OFF  0xf00       /* 64-bit "jmp *exit" stub in the code page */

/* Linux x86-64 user segment selectors (GDT entries 4, 5, 6). */
#define HD_SEL_CODE32  0x23
#define HD_SEL_DATA    0x2b
#define HD_SEL_CODE64  0x33

/* HDCtrl field offsets (checked against the struct in hostdiff-native.c). */
#define HDC_IN         0x000       /* HDState in: gpr[16], rip, rflags */
#define HDC_OUT        0x090       /* HDState out */
#define HDC_HOST_RSP   0x120
#define HDC_EXIT64     0x128       /* address of hd_native_exit */
#define HDC_FAR32      0x130       /* m16:32 far pointer: sequence, 0x23 */
#define HDC_FAR64      0x138       /* m16:32 far pointer: bounce stub, 0x33 */
#define HDC_FX_IN      0x200       /* HDFpu in: FXSAVE image loaded before the run */
#define HDC_FX_OUT     0x400       /* HDFpu out: FXSAVE image after it */
#define HDC_FX_HOST    0x600       /* the host's own FPU state meanwhile */
#define HDS_RIP        0x80
#define HDS_RFLAGS     0x88

#ifndef __ASSEMBLER__
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* EFLAGS bits the tests look at. */
enum {
    HD_CF = 1u << 0, HD_PF = 1u << 2, HD_AF = 1u << 4, HD_ZF = 1u << 6,
    HD_SF = 1u << 7, HD_DF = 1u << 10, HD_OF = 1u << 11,
    HD_ARITH = HD_CF | HD_PF | HD_AF | HD_ZF | HD_SF | HD_OF,
    /* What is randomised on entry and compared on exit (under a mask of
     * SDM-undefined flags).  TF/IF/IOPL/AC/RF are not the sequence's. */
    HD_FLAGS_TESTED = HD_ARITH | HD_DF,
    HD_FLAGS_FIXED = (1u << 1) | (1u << 9),   /* reserved bit 1, IF */
};

#define HD_MAX_INSNS 8
#define HD_MAX_CODE 160          /* sequence bytes (8 x 15 + room) */

/* GPRs in SDM order (RAX RCX RDX RBX RSP RBP RSI RDI R8..R15), rip and
 * rflags.  In 32-bit mode only the low 32 bits of gpr[0..7] count. */
typedef struct HDState {
    uint64_t gpr[16];
    uint64_t rip;
    uint64_t rflags;
} HDState;

/* x87/MMX/SSE state as a 64-bit FXSAVE image (FXSAVE64 layout, SDM
 * Vol. 1 10.5.1): FCW FSW FTW FOP FIP FDP MXCSR, ST0-7, XMM0-15. */
typedef struct HDFpu {
    uint8_t fx[512];
} __attribute__((aligned(16))) HDFpu;

/* Instruction groups (--group): what the generator draws from. */
enum { HD_GROUP_INT, HD_GROUP_SSE, HD_GROUP_MMX, HD_GROUP_X87, HD_GROUP_COUNT };
extern const char *const hd_group_names[HD_GROUP_COUNT];

/* The data page's contents before (in) or after (out) the sequence. */
typedef struct HDMemory {
    uint8_t data[HD_PAGE_SIZE];
} HDMemory;

/* How a run ended.  vector -1: the sequence ran to its end (state.rip is
 * the end).  Otherwise the exception vector (host: the trap number from
 * the signal context), its error code, CR2 for #PF, and the state at the
 * exception as the handler sees it (faults: the faulting instruction;
 * traps such as INT3/INTO: the next one). */
typedef struct HDResult {
    int vector;
    uint32_t error;
    uint64_t cr2;
    int signo;               /* host signal (native runs), or the expected one */
    bool crashed;            /* native: the child died; vx86: harness error */
    char note[200];          /* what went wrong when crashed */
} HDResult;

/* One generated test: the code, where it starts, and what may differ. */
typedef struct HDCase {
    uint64_t seed;           /* per-sequence seed (reproduces the case) */
    int mode;                /* 64 or 32 */
    uint8_t code[HD_MAX_CODE];
    uint16_t len;
    uint8_t ninsn;
    uint8_t insn_off[HD_MAX_INSNS + 1];   /* instruction start offsets, then len */
    uint16_t insn_mnem[HD_MAX_INSNS];
    /* Flags the SDM leaves undefined at each instruction boundary (index k:
     * before instruction k; ninsn: at the end). */
    uint32_t undef_before[HD_MAX_INSNS + 1];
    HDState in;
    uint64_t data_seed;      /* the data page is filled from this */
    int group;               /* HD_GROUP_* */
    HDFpu fin;               /* FPU state on entry */
    uint16_t sel32;          /* mode 32: code selector the native runner far-jumps
                                to (0: HD_SEL_CODE32; the probe's test hook) */
} HDCase;

/* ---- hostdiff-gen.c ---- */
/* CPUID leaf/subleaf into r[0..3] (EAX EBX ECX EDX); false if absent. */
typedef bool (*HDCpuidFn)(uint32_t leaf, uint32_t sub, uint32_t r[4], void *opaque);
/* Picks the instructions to generate: those whose CPUID feature the host
 * has and, when guest_cpuid is given, the guest (`who`) reports too. */
void hd_gen_init(HDCpuidFn guest_cpuid, void *opaque, const char *who, int group);
/* Builds case `index` of the run seeded `seed`, in mode 64 or 32. */
void hd_gen_case(uint64_t seed, uint64_t index, int mode, HDCase *c);
/* The FNINIT state with MXCSR 0x1F80 (integer sequences, self-tests). */
void hd_fpu_default(HDFpu *f);
/* Fills the data page of a case (deterministic from c->data_seed). */
void hd_gen_data(const HDCase *c, HDMemory *mem);
/* Disassembly-ish one-line description: "ADD CMOVCC DIV" + hex bytes. */
void hd_describe(const HDCase *c, char *out, size_t len);
/* Flags that may differ in a result stopped at rip (mask of EFLAGS bits). */
uint32_t hd_undef_at(const HDCase *c, uint64_t rip, int vector);
/* 64-bit epilogue / 32-bit epilogue for the native runner; returns bytes. */
size_t hd_native_epilogue(int mode, uint8_t *out);
/* Assembles a hand-written case (self-tests): code bytes, no masking. */
void hd_case_from_bytes(HDCase *c, int mode, const uint8_t *code, size_t len,
                        const HDState *in);

/* ---- hostdiff-native.c ---- */
typedef struct HDNativeOut {
    HDState out;
    HDResult res;
    HDMemory mem;
    HDFpu fout;
} HDNativeOut;
/* Runs n cases in a forked child.  Returns false (with err) when the
 * runner could not start at all; a child that dies on one case marks that
 * case crashed and the rest of the batch is run by a new child. */
bool hd_native_run_batch(const HDCase *cases, size_t n, HDNativeOut *out,
                         char *err, size_t errlen);
/* Host signal expected for an exception vector under Linux. */
int hd_vector_signal(int vector);
const char *hd_vector_name(int vector);

/* ---- hostdiff-probe.c: the host's abilities and quirks ---- */
/* Runs a 32-bit sequence natively (in the runner's child): true when the
 * host runs compatibility-mode code, else false and *why says what was
 * seen (e.g. "#GP error 0x20, signal 11, at the far jump ...").
 * HOSTDIFF_FORCE_NO32=1 makes it far-jump to a data selector, which every
 * host refuses: the test hook for the SKIP path. */
bool hd_probe_compat32(char *why, size_t len);

/* Where a host left rip, relative to the INT instruction. */
enum { HD_AT_START, HD_AT_OPCODE, HD_AT_NEXT, HD_AT_OTHER };
/* How the host ran INT n at CPL 3 where that differs from the SDM. */
typedef struct HDIntQuirk {
    bool known;              /* the host does not raise #GP(n*8+2) at the INT */
    bool usable;             /* and does so consistently, ending in a way a case
                                can be recognised by: such cases are excludable */
    int vector;              /* what it raised (-1: nothing, it went on) */
    uint32_t error;
    int signo;
    int at;                  /* HD_AT_*: where rip was left */
    bool changes_state;      /* registers, flags or memory changed (reported) */
} HDIntQuirk;
typedef struct HDQuirks {
    int mode;
    HDIntQuirk intn[2][256]; /* [0] bare CD ib, [1] with prefixes */
    unsigned nquirks;
} HDQuirks;
/* Learns the host's INT n behaviour in `mode` for every n but Linux's
 * DPL-3 gates, bare and with prefixes; prints one line if any differs
 * from the SDM. */
void hd_probe_int_quirks(int mode, HDQuirks *q);
/* When the host run of case c (host_st, host_res) ended as a learned quirk
 * of one of c's INT n instructions, returns that instruction's index (and
 * a description in *what), else -1.  The caller replays the case natively
 * up to that INT and compares vx86 with the SDM's outcome from there
 * (#GP(n*8+2) at the INT), in full. */
int hd_quirk_match(const HDQuirks *q, const HDCase *c, const HDState *host_st,
                   const HDResult *host_res, char *what, size_t len);

/* ---- hostdiff-vx86.c: the vx86 side of the seam ---- */
/* True when this build has the vx86 CPU and `engine` ("interp", "x86_64")
 * can be created; else *why says why not (printed as a SKIP line). */
bool hd_vx86_available(const char *engine, const char **why);
/* Runs code[0..len) at HD_CODE_ADDR in `mode` (64: 64-bit user code, 32:
 * compatibility mode) on a guest machine for `engine` (created on first
 * use, reused), from *in_out with the data page *mem; on return *in_out is
 * the final (or faulting) state, *mem the data page, *fpu the FPU state
 * (in and out) and *res how it ended.
 * Returns 0, or -1 when the harness itself failed (res->note says why). */
int hd_run_vx86(const uint8_t *code, size_t len, HDState *in_out, HDMemory *mem,
                HDFpu *fpu, int mode, const char *engine, HDResult *res);
/* CPUID as the guest of `engine` sees it (an HDCpuidFn: opaque is the
 * engine name). */
bool hd_vx86_cpuid(uint32_t leaf, uint32_t sub, uint32_t r[4], void *engine);
/* Frees the guest machines. */
void hd_vx86_shutdown(void);

#endif /* __ASSEMBLER__ */
#endif
