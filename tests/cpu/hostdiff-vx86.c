/*
 * hostdiff, the vx86 side: runs a sequence on vx86's CPU in a guest that
 * mirrors the host process (docs/hostdiff.md, "Guest environment").
 *
 * Long mode (CR0.PE|PG, CR4.PAE, EFER.LME|LMA), a GDT laid out like
 * Linux's (0x23 32-bit user code, 0x2b user data, 0x33 64-bit user code,
 * 0x08/0x10 kernel), a 64-bit TSS whose RSP0 is the kernel stack and whose
 * I/O bitmap lies beyond its limit, and 4-KiB page tables that map only the
 * code and data pages for ring 3 (the guard pages around them stay
 * unmapped) plus the supervisor-only system pages.  The sequence runs at
 * CPL 3 in 64-bit mode or compatibility mode.  Every IDT vector v points to
 * a one-byte `hlt` at HANDLER_BASE + v (DPL 0, except 3 and 4 which Linux
 * opens to user mode, and the end-of-sequence vector 0xF3).  After
 * cpu_exec() stops on that HLT, the vector is rip - 1 - HANDLER_BASE and
 * the error code, rip, rflags and rsp at the exception come from the
 * exception frame on the kernel stack.  The sequence's epilogue is
 * `int 0xF3`, so reaching the end looks like vector 0xF3.
 *
 * The file compiles to a stub reporting "not available" when this build
 * has no CPU (cpu/cpu.h missing): the native half of hostdiff still runs.
 */
#include <stdio.h>
#include <string.h>

#include "tests/cpu/hostdiff.h"

#if defined(__has_include)
#if __has_include("cpu/cpu.h") && __has_include("cpu/exec.h")
#define HD_HAVE_VX86 1
#endif
#endif

#ifdef HD_HAVE_VX86

#include <stdlib.h>

#include "core/log.h"
#include "core/machine.h"
#include "core/memory.h"
#include "cpu/cpu.h"
#include "cpu/exec.h"

/* Guest physical (= linear, identity-mapped) layout of the system pages. */
enum {
    GDT_BASE = 0x1000,
    IDT_BASE = 0x2000,
    TSS_BASE = 0x3000,
    HANDLER_BASE = 0x4000,   /* 256 x HLT */
    KSTACK_TOP = 0x8000,
    PML4_BASE = 0x9000,
    PDPT_BASE = 0xa000,
    PD_BASE = 0xb000,
    PT_LOW = 0xc000,         /* 0 - 2 MiB: system pages */
    PT_TEST = 0xd000,        /* the 2 MiB around HD_CODE_ADDR */
    RAM_SIZE = 16u << 20,
    END_VECTOR = 0xf3,       /* `int 0xF3` ends every sequence */
    SEL_KCODE = 0x08, SEL_KDATA = 0x10, SEL_TSS = 0x40,
};

_Static_assert(HD_DATA_ADDR + 2 * HD_PAGE_SIZE < RAM_SIZE, "test pages inside RAM");
_Static_assert((HD_CODE_ADDR >> 21) == (HD_DATA_ADDR >> 21), "one page table");

typedef struct HDVx86 {
    char engine[16];
    Machine *m;
    CPUState *cpu;
} HDVx86;

static HDVx86 *machines[4];

static void put64(uint8_t *ram, uint64_t pa, uint64_t v)
{
    memcpy(ram + pa, &v, 8);
}

static uint64_t get64(const uint8_t *ram, uint64_t pa)
{
    uint64_t v;
    memcpy(&v, ram + pa, 8);
    return v;
}

/* A code/data descriptor from its SEG_* attribute bits (base 0, 4 GiB). */
static uint64_t flat_desc(uint32_t attr)
{
    return 0xffffull | ((uint64_t)(attr & SEG_ATTR_MASK) << 32) | (0xfull << 48);
}

static void guest_build_tables(uint8_t *ram)
{
    const uint32_t code = SEG_P | SEG_S | SEG_CODE | SEG_W | SEG_A | SEG_G;
    const uint32_t data = SEG_P | SEG_S | SEG_W | SEG_A | SEG_B | SEG_G;
    const uint32_t dpl3 = 3u << SEG_DPL_SHIFT;
    put64(ram, GDT_BASE + 0x08, flat_desc(code | SEG_L));
    put64(ram, GDT_BASE + 0x10, flat_desc(data));
    put64(ram, GDT_BASE + HD_SEL_CODE32 - 3, flat_desc(code | SEG_B | dpl3));
    put64(ram, GDT_BASE + HD_SEL_DATA - 3, flat_desc(data | dpl3));
    put64(ram, GDT_BASE + HD_SEL_CODE64 - 3, flat_desc(code | SEG_L | dpl3));
    /* 64-bit available TSS (type 9), limit 0x67: no I/O bitmap. */
    uint64_t tss = 0x67 | ((uint64_t)TSS_BASE & 0xffffff) << 16 | 9ull << 40 | 1ull << 47 |
                   ((uint64_t)TSS_BASE >> 24) << 56;
    put64(ram, GDT_BASE + SEL_TSS, tss);
    put64(ram, GDT_BASE + SEL_TSS + 8, (uint64_t)TSS_BASE >> 32);
    put64(ram, TSS_BASE + 4, KSTACK_TOP);      /* RSP0 */
    memcpy(ram + TSS_BASE + 0x66, &(uint16_t){ 0x68 }, 2);
    /* IDT: 64-bit interrupt gates (type 14) to HANDLER_BASE + v. */
    for (unsigned v = 0; v < 256; v++) {
        uint64_t off = HANDLER_BASE + v;
        unsigned dpl = (v == 3 || v == 4 || v == END_VECTOR) ? 3 : 0;
        uint64_t lo = (off & 0xffff) | (uint64_t)SEL_KCODE << 16 | 14ull << 40 |
                      (uint64_t)dpl << 45 | 1ull << 47 | ((off >> 16) & 0xffff) << 48;
        put64(ram, IDT_BASE + v * 16, lo);
        put64(ram, IDT_BASE + v * 16 + 8, off >> 32);
        ram[HANDLER_BASE + v] = 0xf4;   /* hlt */
    }
    /* Page tables: user bits on the upper levels, leaves decide. */
    const uint64_t P = 1, RW = 2, US = 4;
    put64(ram, PML4_BASE, PDPT_BASE | P | RW | US);
    put64(ram, PDPT_BASE, PD_BASE | P | RW | US);
    put64(ram, PD_BASE, PT_LOW | P | RW | US);
    put64(ram, PD_BASE + (HD_CODE_ADDR >> 21) * 8, PT_TEST | P | RW | US);
    for (uint64_t pa = GDT_BASE; pa < PML4_BASE + 5 * 0x1000; pa += 0x1000)
        put64(ram, PT_LOW + (pa >> 12) * 8, pa | P | RW);
    uint64_t test_pt = PT_TEST;
    put64(ram, test_pt + ((HD_CODE_ADDR >> 12) & 511) * 8, HD_CODE_ADDR | P | RW | US);
    put64(ram, test_pt + ((HD_DATA_ADDR >> 12) & 511) * 8, HD_DATA_ADDR | P | RW | US);
}

static HDVx86 *vx86_new(const char *engine, char *err, size_t errlen)
{
    /* HOSTDIFF_LOG=int,exec,... : vx86's -d log items, to stderr. */
    const char *lg = getenv("HOSTDIFF_LOG");
    char bad[64];
    if (lg && !log_parse_mask(lg, &log_mask, bad, sizeof(bad)))
        fprintf(stderr, "hostdiff: HOSTDIFF_LOG: unknown item '%s'\n", bad);
    Machine *m = machine_new(RAM_SIZE, CLOCK_MANUAL, err, errlen);
    if (!m)
        return NULL;
    char *merr = NULL;
    if (!memmap_add_ram(m->mem, "ram", 0, RAM_SIZE, m->ram, &merr)) {
        snprintf(err, errlen, "guest RAM: %s", merr ? merr : "cannot map");
        free(merr);
        machine_free(m);
        return NULL;
    }
    CPUConfig cfg = CPU_CONFIG_DEFAULT;
    cfg.engine = engine;
    CPUState *cpu = cpu_create(m, 0, &cfg, err, errlen);
    if (!cpu) {
        machine_free(m);
        return NULL;
    }
    HDVx86 *v = calloc(1, sizeof(*v));
    if (!v) {
        cpu_free(cpu);
        machine_free(m);
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    snprintf(v->engine, sizeof(v->engine), "%s", engine);
    v->m = m;
    v->cpu = cpu;
    guest_build_tables(m->ram);
    cpu_reset(cpu);
    cpu_set_gdt(cpu, GDT_BASE, 0x4f);
    cpu_set_idt(cpu, IDT_BASE, 256 * 16 - 1);
    cpu_set_cr(cpu, 4, CR4_PAE | CR4_OSFXSR | CR4_OSXMMEXCPT);
    cpu_set_cr(cpu, 3, PML4_BASE);
    cpu_set_efer(cpu, EFER_LME);
    cpu_set_cr(cpu, 0, CR0_PE | CR0_PG | CR0_ET | CR0_NE | CR0_WP | CR0_MP);
    cpu_set_seg(cpu, R_TR, SEL_TSS, TSS_BASE, 0x67, SEG_P | 11u << 8);
    cpu_set_seg(cpu, R_LDTR, 0, 0, 0, 0);
    return v;
}

static HDVx86 *vx86_get(const char *engine, char *err, size_t errlen)
{
    for (size_t i = 0; i < sizeof(machines) / sizeof(machines[0]); i++) {
        if (machines[i] && !strcmp(machines[i]->engine, engine))
            return machines[i];
        if (!machines[i]) {
            machines[i] = vx86_new(engine, err, errlen);
            return machines[i];
        }
    }
    snprintf(err, errlen, "too many engines");
    return NULL;
}

bool hd_vx86_available(const char *engine, const char **why)
{
    static char err[160];
    if (vx86_get(engine, err, sizeof(err)))
        return true;
    *why = err;
    return false;
}

void hd_vx86_shutdown(void)
{
    for (size_t i = 0; i < sizeof(machines) / sizeof(machines[0]); i++) {
        if (!machines[i])
            continue;
        cpu_free(machines[i]->cpu);
        machine_free(machines[i]->m);
        free(machines[i]);
        machines[i] = NULL;
    }
}

/* Ring-3 state for one run: segments, registers, flags, rip. */
static void guest_load_user(CPUState *cpu, const HDState *s, int mode)
{
    const uint32_t dpl3 = 3u << SEG_DPL_SHIFT;
    const uint32_t code = SEG_P | SEG_S | SEG_CODE | SEG_W | SEG_A | SEG_G | dpl3;
    const uint32_t data = SEG_P | SEG_S | SEG_W | SEG_A | SEG_B | SEG_G | dpl3;
    cpu->halted = false;
    cpu->exc_pending = -1;
    cpu->exc_delivering = -1;
    cpu->inhibit_irq = false;
    cpu_set_eflags(cpu, ((uint32_t)s->rflags & HD_FLAGS_TESTED) | HD_FLAGS_FIXED);
    if (mode == 64)
        cpu_set_seg(cpu, R_CS, HD_SEL_CODE64, 0, 0xffffffffu, code | SEG_L);
    else
        cpu_set_seg(cpu, R_CS, HD_SEL_CODE32, 0, 0xffffffffu, code | SEG_B);
    cpu_set_seg(cpu, R_SS, HD_SEL_DATA, 0, 0xffffffffu, data);
    cpu_set_seg(cpu, R_DS, HD_SEL_DATA, 0, 0xffffffffu, data);
    cpu_set_seg(cpu, R_ES, HD_SEL_DATA, 0, 0xffffffffu, data);
    cpu_set_seg(cpu, R_FS, 0, 0, 0, 0);
    cpu_set_seg(cpu, R_GS, 0, 0, 0, 0);
    for (int i = 0; i < 16; i++)
        cpu->regs[i] = s->gpr[i];
    cpu->rip = HD_CODE_ADDR;
}

int hd_run_vx86(const uint8_t *code, size_t len, HDState *in_out, HDMemory *mem,
                HDFpu *fpu, int mode, const char *engine, HDResult *res)
{
    char err[160];
    memset(res, 0, sizeof(*res));
    res->vector = -1;
    HDVx86 *v = vx86_get(engine, err, sizeof(err));
    if (!v || len > HD_BOUNCE_OFF - 8) {
        res->crashed = true;
        snprintf(res->note, sizeof(res->note), "%.150s", v ? "sequence too long" : err);
        return -1;
    }
    CPUState *cpu = v->cpu;
    uint8_t *ram = v->m->ram;
    memset(ram + HD_CODE_ADDR, 0xcc, HD_PAGE_SIZE);
    memcpy(ram + HD_CODE_ADDR, code, len);
    ram[HD_CODE_ADDR + len] = 0xcd;                 /* int 0xF3 */
    ram[HD_CODE_ADDR + len + 1] = END_VECTOR;
    memcpy(ram + HD_DATA_ADDR, mem->data, HD_PAGE_SIZE);
    cpu_flush_code(cpu);
    guest_load_user(cpu, in_out, mode);
    if (!cpu_fx_import(cpu, fpu->fx)) {
        res->crashed = true;
        snprintf(res->note, sizeof(res->note), "FXSAVE image with a bad MXCSR");
        return -1;
    }
    cpu->insn_budget = 100000;
    int rc = cpu_exec(cpu, INT64_MAX);
    cpu->insn_budget = 0;
    uint64_t vec = cpu->rip - 1 - HANDLER_BASE;
    if (rc != CPU_EXIT_HALTED || cpu->seg[R_CS].selector != SEL_KCODE || vec > 255) {
        res->crashed = true;
        snprintf(res->note, sizeof(res->note),
                 "guest did not reach an exception handler: exit %d at %04x:%llx%s%.100s", rc,
                 (unsigned)cpu->seg[R_CS].selector, (unsigned long long)cpu->rip,
                 cpu->error[0] ? ": " : "", cpu->error);
        return -1;
    }
    uint64_t sp = cpu->regs[R_ESP];
    bool has_err = cpu_exception_has_error((int)vec);
    if (sp < KSTACK_TOP - 0x1000 || sp > KSTACK_TOP - 40) {
        res->crashed = true;
        snprintf(res->note, sizeof(res->note), "bad kernel stack pointer %llx",
                 (unsigned long long)sp);
        return -1;
    }
    uint64_t frame = sp + (has_err ? 8 : 0);
    HDState out;
    for (int i = 0; i < 16; i++)
        out.gpr[i] = cpu->regs[i];
    out.rip = get64(ram, frame);
    out.rflags = get64(ram, frame + 16);
    out.gpr[R_ESP] = get64(ram, frame + 24);
    if (vec == END_VECTOR) {
        out.rip -= 2;
    } else {
        res->vector = (int)vec;
        res->error = has_err ? (uint32_t)get64(ram, sp) : 0;
        res->cr2 = vec == EXC_PF ? cpu->cr[2] : 0;
        res->signo = hd_vector_signal((int)vec);
    }
    if (mode == 32) {
        for (int i = 0; i < 8; i++)
            out.gpr[i] &= 0xffffffffu;
        for (int i = 8; i < 16; i++)
            out.gpr[i] = 0;
        out.rip &= 0xffffffffu;
    }
    *in_out = out;
    memcpy(mem->data, ram + HD_DATA_ADDR, HD_PAGE_SIZE);
    cpu_fx_export(cpu, fpu->fx);
    return 0;
}

bool hd_vx86_cpuid(uint32_t leaf, uint32_t sub, uint32_t r[4], void *engine)
{
    static const uint8_t code[] = { 0x0f, 0xa2 };   /* cpuid */
    HDState st;
    HDMemory mem;
    HDResult res;
    HDFpu fpu;
    hd_fpu_default(&fpu);
    memset(&st, 0, sizeof(st));
    memset(&mem, 0, sizeof(mem));
    st.gpr[0] = leaf;
    st.gpr[1] = sub;
    st.gpr[4] = HD_DATA_ADDR + 0x800;
    st.rflags = HD_FLAGS_FIXED;
    if (hd_run_vx86(code, sizeof(code), &st, &mem, &fpu, 64, engine, &res) || res.vector >= 0)
        return false;
    r[0] = (uint32_t)st.gpr[0], r[1] = (uint32_t)st.gpr[3];
    r[2] = (uint32_t)st.gpr[1], r[3] = (uint32_t)st.gpr[2];
    return true;
}

#else /* !HD_HAVE_VX86 */

bool hd_vx86_available(const char *engine, const char **why)
{
    (void)engine;
    *why = "vx86 CPU not available in this build";
    return false;
}

int hd_run_vx86(const uint8_t *code, size_t len, HDState *in_out, HDMemory *mem,
                HDFpu *fpu, int mode, const char *engine, HDResult *res)
{
    (void)code, (void)len, (void)in_out, (void)mem, (void)fpu, (void)mode, (void)engine;
    memset(res, 0, sizeof(*res));
    res->vector = -1;
    res->crashed = true;
    snprintf(res->note, sizeof(res->note), "vx86 CPU not available in this build");
    return -1;
}

bool hd_vx86_cpuid(uint32_t leaf, uint32_t sub, uint32_t r[4], void *engine)
{
    (void)leaf, (void)sub, (void)r, (void)engine;
    return false;
}

void hd_vx86_shutdown(void)
{
}

#endif
