/*
 * x87 instructions, called from translated code (translate-fpu.c).
 *
 * Approach: every x87 arithmetic, load/store, compare, transcendental and
 * stack instruction is executed by the host's own x87 unit on the guest's
 * complete x87 state.  For each D8-DF encoding a 16-byte host stub is
 * generated once:
 *
 *     push rdx; popfq          guest arithmetic flags (FCMOVcc reads them)
 *     frstor [rdi]             the guest state (FCW, FSW, tags, ST0-7)
 *     <the guest instruction>  memory operand rewritten to [rsi]
 *     fnsave [rdi]             state back (non-waiting; re-inits the host FPU)
 *     pushfq; pop rax; ret     EFLAGS (FCOMI/FUCOMI set ZF PF CF)
 *
 * So precision and rounding control, 80-bit extended precision, the
 * stack/tag rules, stack faults, masked responses, unmasked exceptions
 * (ES set, the biased result of an unmasked overflow/underflow),
 * C0-C3, FPREM partial remainders and the transcendental results are those
 * of the hardware, bit for bit.  Limits: an x86-64 host is required (the
 * x87 unit is the reference; a portable build would need a soft-float
 * 80-bit implementation here), and FSIN/FCOS/FPTAN/F2XM1/FYL2X results are
 * the host vendor's (within the SDM's stated accuracy, but Intel and AMD
 * differ in the last bit for some inputs).
 *
 * Guest memory is read before the stub runs (cpu_ld: faults leave the
 * state untouched) and written after it (probed first), and the new state
 * is committed only then: exceptions are precise.  A pending unmasked
 * exception (FSW.ES) raises #MF before a waiting instruction executes, so
 * the host never traps.  The non-waiting control instructions and the
 * environment images (FNSTENV/FLDENV/FNSAVE/FRSTOR in their real/protected,
 * 16/32-bit layouts) are implemented here in C.
 */
#include <pthread.h>
#include <string.h>
#include <sys/mman.h>

#include "cpu/decode.h"
#include "cpu/fpu.h"
#include "cpu/helpers.h"
#include "cpu/mmu.h"

#if !defined(__x86_64__)
#error "helpers-x87.c runs the host's x87 unit: x86-64 hosts only"
#endif

#define FAULT IR_CALL_CAN_FAULT

/* ---- host stubs ---- */

typedef uint64_t (*X87Stub)(void *img, void *mem, uint64_t rflags);

static uint8_t *stub_page;
static pthread_once_t stub_once = PTHREAD_ONCE_INIT;
enum { STUB_SIZE = 16, NSTUBS = 8 * 256 };

static void stubs_init(void)
{
    void *p = mmap(NULL, NSTUBS * STUB_SIZE, PROT_READ | PROT_WRITE | PROT_EXEC,
                   MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (p == MAP_FAILED)
        return;
    uint8_t *b = p;
    for (unsigned k = 0; k < NSTUBS; k++) {
        uint8_t *s = b + k * STUB_SIZE;
        static const uint8_t pre[] = { 0x52, 0x9d, 0xdd, 0x27 };     /* push rdx; popfq; frstor [rdi] */
        static const uint8_t post[] = { 0xdd, 0x37, 0x9c, 0x58, 0xc3 }; /* fnsave [rdi]; pushfq; pop rax; ret */
        memcpy(s, pre, sizeof(pre));
        s[4] = (uint8_t)(0xd8 + (k >> 8));
        s[5] = (uint8_t)k;
        memcpy(s + 6, post, sizeof(post));
    }
    mprotect(p, NSTUBS * STUB_SIZE, PROT_READ | PROT_EXEC);
    stub_page = p;
}

/* The stub for opcode (D8-DF) and ModRM; memory forms use [rsi]. */
static X87Stub stub_for(unsigned opcode, unsigned modrm)
{
    pthread_once(&stub_once, stubs_init);
    if (!stub_page)
        return NULL;
    if ((modrm >> 6) != 3)
        modrm = (modrm & 0x38) | 6;    /* mod 00, rm 110: [rsi] */
    unsigned k = ((opcode - 0xd8) & 7) << 8 | modrm;
    return (X87Stub)(void *)(stub_page + k * STUB_SIZE);
}

/* ---- the FNSAVE image the stubs use (32-bit protected-mode layout) ---- */

typedef struct __attribute__((packed)) X87Image {
    uint16_t fcw, r0;
    uint16_t fsw, r1;
    uint16_t ftw, r2;
    uint32_t fip;
    uint16_t fcs, fop;
    uint32_t fdp;
    uint16_t fds, r3;
    uint8_t st[8][10];
} X87Image;
_Static_assert(sizeof(X87Image) == 108, "FNSAVE image");

/* Tag of a non-empty register from its contents (SDM 8.1.7). */
static unsigned fp_tag(const FPReg *r)
{
    unsigned e = r->sexp & 0x7fff;
    if (e == 0x7fff)
        return 2;
    if (e == 0)
        return r->mant ? 2 : 1;
    return (r->mant >> 63) ? 0 : 2;     /* unnormal: special */
}

static uint16_t fpu_full_tags(const CPUState *cpu)
{
    uint16_t t = 0;
    for (int i = 0; i < 8; i++) {
        unsigned tag = ((cpu->fptag_empty >> i) & 1) ? 3 : fp_tag(&cpu->fpregs[i]);
        t |= (uint16_t)(tag << (2 * i));
    }
    return t;
}

static void image_from_cpu(const CPUState *cpu, X87Image *img)
{
    memset(img, 0, sizeof(*img));
    img->fcw = cpu->fpuc;
    img->fsw = fpu_get_fsw(cpu);
    img->ftw = fpu_full_tags(cpu);
    for (int i = 0; i < 8; i++) {
        const FPReg *r = &cpu->fpregs[(cpu->fpstt + i) & 7];
        memcpy(img->st[i], &r->mant, 8);
        memcpy(img->st[i] + 8, &r->sexp, 2);
    }
}

static void image_to_cpu(CPUState *cpu, const X87Image *img)
{
    cpu->fpuc = img->fcw;
    cpu->fpus = img->fsw & (uint16_t)~FSW_TOP;
    cpu->fpstt = (img->fsw >> 11) & 7;
    uint32_t empty = 0;
    for (int i = 0; i < 8; i++)
        if (((img->ftw >> (2 * i)) & 3) == 3)
            empty |= 1u << i;
    cpu->fptag_empty = empty;
    for (int i = 0; i < 8; i++) {
        FPReg *r = &cpu->fpregs[(cpu->fpstt + i) & 7];
        memcpy(&r->mant, img->st[i], 8);
        memcpy(&r->sexp, img->st[i] + 8, 2);
    }
}

/* ---- memory operands ---- */

/* Size and direction of the memory operand of opcode /reg, derived once
 * from the opcode table: the decoder's operand size of the memory form, and
 * the STM attribute of the mnemonic's row (cpu/opcodes.def).  Only the
 * rows whose handler is gen_X87 reach hlp_x87; the control and environment
 * instructions (FLDCW, FNSTENV ...) have their own helpers. */
#define MNEM(name, gen, reads, cc_reads, attrs, vec, lanes) \
    [X86_##name] = ((attrs) & X86_ATTR_STM) != 0,
static const bool x87_stores[X86_MNEM_COUNT] = {
#include "cpu/opcodes.def"
};
#undef MNEM

static uint8_t x87_msize[8][8];
static bool x87_mwrite[8][8];
static pthread_once_t x87_mem_once = PTHREAD_ONCE_INIT;

static void x87_mem_init(void)
{
    for (unsigned o = 0; o < 8; o++)
        for (unsigned reg = 0; reg < 8; reg++) {
            const uint8_t bytes[2] = { (uint8_t)(0xd8 + o), (uint8_t)(reg << 3) }; /* [eax] */
            X86Insn in;
            if (x86_decode(bytes, sizeof(bytes), X86_MODE32, &in) != X86_DECODE_OK ||
                in.nops < 1 || in.op[0].kind != X86_OPK_MEM)
                continue;
            x87_msize[o][reg] = (uint8_t)in.op[0].size;
            x87_mwrite[o][reg] = x87_stores[in.mnem];
        }
}

static unsigned x87_mem_size(unsigned opcode, unsigned reg, bool *write)
{
    pthread_once(&x87_mem_once, x87_mem_init);
    unsigned o = (opcode - 0xd8) & 7;
    *write = x87_mwrite[o][reg & 7];
    return x87_msize[o][reg & 7];
}

static void mem_read(CPUState *cpu, uint64_t lin, uint8_t *buf, unsigned n, int mmu)
{
    unsigned off = 0;
    while (off < n) {
        unsigned chunk = n - off >= 8 ? 8 : n - off >= 4 ? 4 : 2;
        uint64_t v = cpu_ld(cpu, lin + off, chunk, mmu, 0);
        memcpy(buf + off, &v, chunk);
        off += chunk;
    }
}

static void mem_write(CPUState *cpu, uint64_t lin, const uint8_t *buf, unsigned n, int mmu)
{
    unsigned off = 0;
    while (off < n) {
        unsigned chunk = n - off >= 8 ? 8 : n - off >= 4 ? 4 : 2;
        uint64_t v = 0;
        memcpy(&v, buf + off, chunk);
        cpu_st(cpu, lin + off, v, chunk, mmu, 0);
        off += chunk;
    }
}

static void x87_check_pending(CPUState *cpu)
{
    /* With CR0.NE clear a PC would signal FERR#/IRQ 13 instead; vx86 has no
     * such wiring and reports #MF either way (the host must never see a
     * pending exception). */
    if (cpu->fpus & FSW_ES)
        cpu_raise_exception(cpu, EXC_MF, 0, 0);
}

/* Runs one D8-DF instruction (enc = opcode << 8 | ModRM | segment << 16) on the host x87
 * with the guest state.  lin: linear address of the memory operand; off:
 * its effective address (FDP).  Returns the host EFLAGS after the
 * instruction (for FCOMI & co.). */
static u64 helper_x87(u64 env, u64 lin, u64 enc, u64 gflags)
{
    CPUState *cpu = (CPUState *)env;
    unsigned opcode = (unsigned)(enc >> 8) & 0xff, modrm = (unsigned)enc & 0xff;
    bool memform = (modrm >> 6) != 3;
    x87_check_pending(cpu);
    X87Stub stub = stub_for(opcode, modrm);
    if (!stub)
        cpu_raise_exception(cpu, EXC_UD, 0, 0);
    int mmu = cpu_mmu_index(cpu);
    bool write = false;
    unsigned msize = memform ? x87_mem_size(opcode, (modrm >> 3) & 7, &write) : 0;
    uint64_t amask = cpu_code64(cpu) ? ~0ULL : 0xffffffffULL;
    uint8_t buf[16] __attribute__((aligned(16)));
    memset(buf, 0, sizeof(buf));
    if (msize && !write)
        mem_read(cpu, lin & amask, buf, msize, mmu);
    if (msize && write)
        cpu_probe_write(cpu, lin & amask, msize, mmu, 0);

    X87Image img;
    image_from_cpu(cpu, &img);
    uint64_t hf = __builtin_ia32_readeflags_u64();
    uint64_t fl = (hf & ~(uint64_t)(CC_ALL | EFL_DF | EFL_TF | EFL_AC)) | (gflags & CC_ALL);
    bool stored = false;
    if (msize && write) {
        /* Whether the store happened (unmasked exceptions suppress it):
         * run with two different canaries if the first one survived. */
        X87Image img2 = img;
        memset(buf, 0x5a, sizeof(buf));
        hf = stub(&img, buf, fl);
        for (unsigned i = 0; i < msize && !stored; i++)
            stored = buf[i] != 0x5a;
        if (!stored) {
            uint8_t buf2[16] __attribute__((aligned(16)));
            memset(buf2, 0xa5, sizeof(buf2));
            stub(&img2, buf2, fl);
            for (unsigned i = 0; i < msize && !stored; i++)
                stored = buf2[i] != 0xa5;
            if (stored)
                memcpy(buf, buf2, sizeof(buf));
        }
        if (stored)
            mem_write(cpu, lin & amask, buf, msize, mmu);
    } else {
        hf = stub(&img, buf, fl);
    }
    image_to_cpu(cpu, &img);
    /* the last-instruction pointers are the guest's, not the stub's */
    cpu->fpop = (uint16_t)(((opcode & 7) << 8) | modrm);
    cpu->fpip = cpu->rip;
    cpu->fpcs = (uint16_t)cpu->seg[R_CS].selector;
    if (memform) {
        cpu->fpdp = lin;
        cpu->fpds = (uint16_t)cpu->seg[(enc >> 16) & 7].selector;
    }
    return hf;
}
const IRHelper hlp_x87 = IR_HELPER(helper_x87, FAULT | IR_CALL_NO_WRITE_GLOBALS);

/* ---- environment images: FNSTENV / FLDENV / FNSAVE / FRSTOR ---- */

/* arg: operand size 2 or 4 | real/VM86 layout << 8 */
static unsigned env_size(unsigned arg) { return (arg & 0xff) == 4 ? 28 : 14; }

static void env_build(CPUState *cpu, uint8_t *e, unsigned arg)
{
    bool o32 = (arg & 0xff) == 4, real = (arg >> 8) & 1;
    uint16_t v[14];
    uint32_t ip = (uint32_t)cpu->fpip, dp = (uint32_t)cpu->fpdp;
    if (real)      /* the real-mode layouts hold the linear instruction address */
        ip = (uint32_t)cpu->fpcs * 16 + (uint32_t)(cpu->fpip & 0xffff);
    memset(v, 0, sizeof(v));
    memset(e, 0, 28);
    uint16_t fsw = fpu_get_fsw(cpu), ftw = fpu_full_tags(cpu);
    if (o32) {
        uint32_t d[7] = { 0xffff0000u | cpu->fpuc, 0xffff0000u | fsw, 0xffff0000u | ftw };
        if (real) {
            d[3] = 0xffff0000u | (ip & 0xffff);
            d[4] = ((ip >> 16) & 0xffff) << 12 | (cpu->fpop & 0x7ff);
            d[5] = 0xffff0000u | (dp & 0xffff);
            d[6] = ((dp >> 16) & 0xffff) << 12;
        } else {
            d[3] = ip;
            d[4] = cpu->fpcs | (uint32_t)(cpu->fpop & 0x7ff) << 16;
            d[5] = dp;
            d[6] = 0xffff0000u | cpu->fpds;
        }
        memcpy(e, d, 28);
        return;
    }
    v[0] = cpu->fpuc;
    v[1] = fsw;
    v[2] = ftw;
    if (real) {
        v[3] = (uint16_t)ip;
        v[4] = (uint16_t)(((ip >> 16) & 0xf) << 12 | (cpu->fpop & 0x7ff));
        v[5] = (uint16_t)dp;
        v[6] = (uint16_t)(((dp >> 16) & 0xf) << 12);
    } else {
        v[3] = (uint16_t)ip;
        v[4] = cpu->fpcs;
        v[5] = (uint16_t)dp;
        v[6] = cpu->fpds;
    }
    memcpy(e, v, 14);
}

static void env_load(CPUState *cpu, const uint8_t *e, unsigned arg)
{
    bool o32 = (arg & 0xff) == 4, real = (arg >> 8) & 1;
    uint16_t fcw, fsw, ftw;
    unsigned step = o32 ? 4 : 2;
    memcpy(&fcw, e, 2);
    memcpy(&fsw, e + step, 2);
    memcpy(&ftw, e + 2 * step, 2);
    cpu->fpuc = (uint16_t)((fcw & 0x1f3f) | 0x40);
    cpu->fpus = fsw & (uint16_t)~FSW_TOP;
    cpu->fpstt = (fsw >> 11) & 7;
    uint32_t empty = 0;
    for (int i = 0; i < 8; i++)
        if (((ftw >> (2 * i)) & 3) == 3)
            empty |= 1u << i;
    cpu->fptag_empty = empty;
    if (o32) {
        uint32_t d[7];
        memcpy(d, e, 28);
        if (real) {
            cpu->fpip = (d[3] & 0xffff) | ((d[4] >> 12) & 0xffff) << 16;
            cpu->fpop = d[4] & 0x7ff;
            cpu->fpdp = (d[5] & 0xffff) | ((d[6] >> 12) & 0xffff) << 16;
        } else {
            cpu->fpip = d[3];
            cpu->fpcs = (uint16_t)d[4];
            cpu->fpop = (d[4] >> 16) & 0x7ff;
            cpu->fpdp = d[5];
            cpu->fpds = (uint16_t)d[6];
        }
    } else {
        uint16_t v[7];
        memcpy(v, e, 14);
        if (real) {
            cpu->fpip = v[3] | (uint32_t)(v[4] >> 12) << 16;
            cpu->fpop = v[4] & 0x7ff;
            cpu->fpdp = v[5] | (uint32_t)(v[6] >> 12) << 16;
        } else {
            cpu->fpip = v[3];
            cpu->fpcs = v[4];
            cpu->fpdp = v[5];
            cpu->fpds = v[6];
            cpu->fpop = 0;      /* the 16-bit protected-mode image has no FOP */
        }
    }
    fpu_update_es(cpu);
}

/* kind: 0 FNSTENV, 1 FLDENV, 2 FNSAVE, 3 FRSTOR */
static u64 helper_x87_env(u64 env, u64 lin, u64 kind, u64 arg)
{
    CPUState *cpu = (CPUState *)env;
    int mmu = cpu_mmu_index(cpu);
    uint64_t amask = cpu_code64(cpu) ? ~0ULL : 0xffffffffULL;
    unsigned es = env_size((unsigned)arg), total = es + (kind >= 2 ? 80 : 0);
    uint8_t img[108];
    memset(img, 0, sizeof(img));
    if (kind == 0 || kind == 2) {
        env_build(cpu, img, (unsigned)arg);
        if (kind == 2)
            for (int i = 0; i < 8; i++) {
                const FPReg *r = &cpu->fpregs[(cpu->fpstt + i) & 7];
                memcpy(img + es + 10 * i, &r->mant, 8);
                memcpy(img + es + 10 * i + 8, &r->sexp, 2);
            }
        cpu_probe_write(cpu, lin & amask, total, mmu, 0);
        for (unsigned i = 0; i < total; i += 2) {
            uint16_t w;
            memcpy(&w, img + i, 2);
            cpu_st(cpu, (lin + i) & amask, w, 2, mmu, 0);
        }
        if (kind == 0) {
            cpu->fpuc |= 0x3f;            /* FNSTENV masks all exceptions */
            fpu_update_es(cpu);
        } else {                          /* FNSAVE then initialises */
            cpu->fpuc = FPUC_DEFAULT;
            cpu->fpus = 0;
            cpu->fpstt = 0;
            cpu->fptag_empty = 0xff;
            cpu->fpop = 0;
            cpu->fpip = cpu->fpdp = 0;
            cpu->fpcs = cpu->fpds = 0;
        }
        return 0;
    }
    x87_check_pending(cpu);      /* FLDENV and FRSTOR wait */
    for (unsigned i = 0; i < total; i += 2) {
        uint16_t w = (uint16_t)cpu_ld(cpu, (lin + i) & amask, 2, mmu, 0);
        memcpy(img + i, &w, 2);
    }
    env_load(cpu, img, (unsigned)arg);
    if (kind == 3)
        for (int i = 0; i < 8; i++) {
            FPReg *r = &cpu->fpregs[(cpu->fpstt + i) & 7];
            memcpy(&r->mant, img + es + 10 * i, 8);
            memcpy(&r->sexp, img + es + 10 * i + 8, 2);
        }
    return 0;
}
const IRHelper hlp_x87_env = IR_HELPER(helper_x87_env, FAULT | IR_CALL_NO_WRITE_GLOBALS);

/* Used by the translator to check the memory operand (segment limits). */
unsigned x87_operand_size(unsigned opcode, unsigned reg, bool *write)
{
    return x87_mem_size(opcode, reg, write);
}
