/*
 * The accelerator interface under the translator: architectural state get
 * and put (cpu/arch-state.h) field by field, RESET and the Linux entry
 * through put, the machine's "cpu" state section (save a running guest,
 * load it into a fresh machine, both finish alike), and the triple-fault /
 * -no-reboot policy.  Each runs on both engines (interpreter, backend).
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "accel/accel.h"
#include "core/machine.h"
#include "cpu/cpu.h"
#include "hw/pc/linuxboot.h"
#include "tests/unit/cpu-guest.h"
#include "tests/unit/unit.h"

#define RAM (1u << 20)

typedef struct Rig {
    Machine *m;
    const AccelOps *ops;
    void *acc;
    VMOptions opts;
} Rig;

/* A machine with RAM at 0 and the translator as its accelerator. */
static void rig_new(Rig *r, int engine, bool no_reboot)
{
    char err[256];
    memset(r, 0, sizeof(*r));
    options_init(&r->opts);
    r->opts.no_reboot = no_reboot;
    r->m = machine_new(RAM, CLOCK_MANUAL, err, sizeof err);
    ck_assert_msg(r->m != NULL, "%s", err);
    r->m->opts = &r->opts;
    ck_assert_ptr_nonnull(memmap_add_ram(r->m->mem, "ram", 0, RAM, r->m->ram, NULL));
    r->ops = accel_find("tcg");
    ck_assert_ptr_nonnull(r->ops);
    AccelOpt opt = { .name = "tcg", .interp = engine == 0 };
    r->acc = r->ops->init(r->m, &opt, err, sizeof err);
    ck_assert_msg(r->acc != NULL, "%s", err);
}

static void rig_free(Rig *r)
{
    r->ops->free(r->acc);
    machine_free(r->m);
    options_free(&r->opts);
}

static void put_ok(Rig *r, const X86ArchState *s)
{
    char err[256] = "";
    ck_assert_msg(r->ops->put_cpu_state(r->acc, 0, s, err, sizeof err) == 0, "put: %s", err);
}

static void get_ok(Rig *r, X86ArchState *s)
{
    char err[256] = "";
    ck_assert_msg(r->ops->get_cpu_state(r->acc, 0, s, err, sizeof err) == 0, "get: %s", err);
}

/* Every field, named when it differs; then the whole struct, so a field
 * added to X86ArchState and missed here still fails. */
#define SAME(f) ck_assert_msg(!memcmp(&a->f, &b->f, sizeof(a->f)), "field " #f " differs")
static void assert_same_state(const X86ArchState *a, const X86ArchState *b)
{
    SAME(regs); SAME(rip); SAME(rflags);
    for (int i = 0; i < X86_ARCH_NB_SEG; i++) {
        ck_assert_msg(a->seg[i].selector == b->seg[i].selector, "seg[%d].selector", i);
        ck_assert_msg(a->seg[i].attr == b->seg[i].attr, "seg[%d].attr %x vs %x", i,
                      a->seg[i].attr, b->seg[i].attr);
        ck_assert_msg(a->seg[i].base == b->seg[i].base, "seg[%d].base", i);
        ck_assert_msg(a->seg[i].limit == b->seg[i].limit, "seg[%d].limit", i);
    }
    SAME(gdt); SAME(idt);
    SAME(cr0); SAME(cr2); SAME(cr3); SAME(cr4); SAME(cr8); SAME(efer); SAME(dr);
    SAME(star); SAME(lstar); SAME(cstar); SAME(sfmask); SAME(kernel_gs_base);
    SAME(sysenter_cs); SAME(sysenter_esp); SAME(sysenter_eip);
    SAME(pat); SAME(tsc); SAME(apic_base); SAME(misc_enable); SAME(tsc_aux);
    for (int i = 0; i < 512; i++)
        ck_assert_msg(a->fxsave[i] == b->fxsave[i], "fxsave byte %d: %02x vs %02x", i,
                      a->fxsave[i], b->fxsave[i]);
    SAME(fcs); SAME(fds); SAME(xcr0);
    SAME(exception); SAME(exception_injected); SAME(exception_has_error); SAME(exception_error);
    SAME(interrupt); SAME(interrupt_soft); SAME(interrupt_shadow);
    SAME(nmi_pending); SAME(nmi_masked); SAME(a20); SAME(halted);
    ck_assert(!memcmp(a, b, sizeof(*a)));
}

static void put16(uint8_t *p, uint16_t v) { memcpy(p, &v, 2); }
static void put32(uint8_t *p, uint32_t v) { memcpy(p, &v, 4); }
static void put64(uint8_t *p, uint64_t v) { memcpy(p, &v, 8); }

/* A 64-bit user-mode state with a distinct value in every field the
 * translator holds (the ones only KVM has stay at their "none" value). */
static void busy_state(X86ArchState *s)
{
    memset(s, 0, sizeof(*s));
    for (int i = 0; i < 16; i++)
        s->regs[i] = 0x1111111111111111ULL * (uint64_t)(i + 1) ^ 0x0123456789abcdefULL;
    s->rip = 0x00007f0012345678ULL;
    s->rflags = CC_ALL | EFL_FIXED | EFL_IF | EFL_DF | EFL_AC | EFL_ID | EFL_NT;
    uint32_t data = SEG_P | SEG_S | SEG_W | SEG_A | SEG_B | SEG_G;
    for (int i = R_ES; i <= R_GS; i++)
        s->seg[i] = (X86ArchSegment){ .selector = (uint16_t)(0x2b + 0x10 * i),
                                      .attr = data | 3u << SEG_DPL_SHIFT,
                                      .base = 0x1000ULL * (uint64_t)(i + 1),
                                      .limit = 0xffffffffu };
    s->seg[R_CS] = (X86ArchSegment){ .selector = 0x33, .limit = 0xffffffffu,
                                     .attr = SEG_P | SEG_S | SEG_CODE | SEG_W | SEG_A | SEG_L |
                                             SEG_G | 3u << SEG_DPL_SHIFT };
    s->seg[R_SS].selector = 0x2b;
    s->seg[R_FS].base = 0x00007fffdeadb000ULL;
    s->seg[R_GS].base = 0xffff888012340000ULL;
    s->seg[R_LDTR] = (X86ArchSegment){ .selector = 0x50, .attr = SEG_P | 2u << 8,
                                       .base = 0xffff880000010000ULL, .limit = 0xfff };
    s->seg[R_TR] = (X86ArchSegment){ .selector = 0x40, .attr = SEG_P | 11u << 8,
                                     .base = 0xfffffe0000003000ULL, .limit = 0x4087 };
    s->gdt = (X86ArchTable){ 0xfffffe0000001000ULL, 0x7f };
    s->idt = (X86ArchTable){ 0xfffffe0000000000ULL, 0xfff };
    s->cr0 = CR0_PE | CR0_MP | CR0_ET | CR0_NE | CR0_WP | CR0_AM | CR0_PG;
    s->cr2 = 0x00007f00cafef00dULL;
    s->cr3 = 0x0000000001234000ULL;
    s->cr4 = CR4_PAE | CR4_PGE | CR4_OSFXSR | CR4_OSXMMEXCPT | CR4_OSXSAVE | CR4_FSGSBASE;
    s->cr8 = 5;
    s->efer = EFER_SCE | EFER_LME | EFER_LMA | EFER_NXE;
    s->dr[0] = 0x1000; s->dr[1] = 0x2000; s->dr[2] = 0x3000; s->dr[3] = 0x4000;
    s->dr[6] = 0xffff4ff1; s->dr[7] = 0x00000455;
    s->star = 0x0023001000000000ULL;
    s->lstar = 0xffffffff81a00000ULL;
    s->cstar = 0xffffffff81a00100ULL;
    s->sfmask = 0x47700;
    s->kernel_gs_base = 0xffff88807fc00000ULL;
    s->sysenter_cs = 0x10;
    s->sysenter_esp = 0xfffffe0000004000ULL;
    s->sysenter_eip = 0xffffffff81a01000ULL;
    s->pat = 0x0407050600070106ULL;
    s->tsc = 0x0000123456789abcULL;
    s->apic_base = 0xfee00900ULL;
    s->misc_enable = 0x850089;
    s->tsc_aux = 7;
    uint8_t *f = s->fxsave;
    put16(f + 0, 0x027f);                           /* FCW */
    put16(f + 2, 0x4100 | 5u << 11);                /* FSW: C3, C0, TOP 5, no exceptions */
    f[4] = 0xa5;                                    /* abridged tags */
    put16(f + 6, 0x5a3);                            /* FOP */
    put64(f + 8, 0xffffffff81234567ULL);            /* FIP */
    put64(f + 16, 0x00007ffff7ff0010ULL);           /* FDP */
    put32(f + 24, 0x1f80 | MXCSR_PE | MXCSR_DAZ | 1u << MXCSR_RC_SHIFT);
    put32(f + 28, MXCSR_MASK_SUPPORTED);
    for (int i = 0; i < 8; i++)
        for (int b = 0; b < 10; b++)
            f[32 + 16 * i + b] = (uint8_t)(0x10 * i + b + 1);
    for (int i = 0; i < 256; i++)
        f[160 + i] = (uint8_t)(i * 7 + 3);
    s->fcs = 0x23;
    s->fds = 0x2b;
    s->xcr0 = XSTATE_X87 | XSTATE_SSE;
    s->exception = EXC_PF;
    s->exception_has_error = true;
    s->exception_error = 6;
    s->interrupt = -1;
    s->interrupt_shadow = true;
    s->nmi_pending = true;
    s->a20 = false;
    s->halted = true;
}

START_TEST(get_put_round_trip_every_field)
{
    Rig r;
    rig_new(&r, _i, false);
    X86ArchState want, got, again;
    busy_state(&want);
    put_ok(&r, &want);
    get_ok(&r, &got);
    assert_same_state(&want, &got);
    /* What the translator derives follows the state put. */
    CPUState *cpu = r.m->cpus[0];
    ck_assert_int_eq(cpu_cpl(cpu), 3);
    ck_assert(cpu->hflags & HF_LMA);
    ck_assert(cpu->hflags & HF_CS64);
    ck_assert(cpu->hflags & HF_PG);
    ck_assert_uint_eq(cpu->a20_mask, ~(1u << 20));
    /* get is pure: a second one reads the same. */
    get_ok(&r, &again);
    assert_same_state(&got, &again);
    rig_free(&r);
}
END_TEST

/* 32-bit protected mode at CPL 0 and virtual-8086 mode: the CPL derived
 * from the state (SS.DPL, or 3 for VM86) and the segment checks. */
START_TEST(round_trip_protected_and_vm86)
{
    Rig r;
    rig_new(&r, _i, false);
    X86ArchState want, got;
    ck_assert(accel_reset_state(r.m, &want, NULL, 0));
    want.cr0 |= CR0_PE;
    uint32_t code32 = SEG_P | SEG_S | SEG_CODE | SEG_W | SEG_A | SEG_B | SEG_G;
    uint32_t data32 = SEG_P | SEG_S | SEG_W | SEG_A | SEG_B | SEG_G;
    want.seg[R_CS] = (X86ArchSegment){ 0x08, code32, 0, 0xffffffffu };
    for (int i = R_ES; i <= R_GS; i++)
        if (i != R_CS)
            want.seg[i] = (X86ArchSegment){ 0x10, data32, 0, 0xffffffffu };
    want.seg[R_FS] = (X86ArchSegment){ 0, 0, 0, 0 };      /* null: unusable */
    want.rip = 0x1000;
    put_ok(&r, &want);
    get_ok(&r, &got);
    assert_same_state(&want, &got);
    CPUState *cpu = r.m->cpus[0];
    ck_assert_int_eq(cpu_cpl(cpu), 0);
    ck_assert(cpu->hflags & HF_CS32);
    ck_assert(cpu->hflags & HF_FLAT);

    want.rflags |= EFL_VM;
    for (int i = R_ES; i <= R_GS; i++)
        want.seg[i] = (X86ArchSegment){ 0x1234, SEG_P | SEG_S | SEG_W | SEG_A | 3u << 13,
                                        0x12340, 0xffff };
    put_ok(&r, &want);
    get_ok(&r, &got);
    assert_same_state(&want, &got);
    ck_assert(cpu->hflags & HF_VM);
    ck_assert_int_eq(cpu_cpl(cpu), 3);
    rig_free(&r);
}
END_TEST

/* The machine's reset and the CPU's own reset are one state. */
START_TEST(reset_state_through_put)
{
    Rig r;
    rig_new(&r, _i, false);
    X86ArchState busy, want, got;
    busy_state(&busy);
    put_ok(&r, &busy);
    char err[256] = "";
    ck_assert_msg(accel_reset_cpu(r.m, r.ops, r.acc, err, sizeof err) == 0, "%s", err);
    ck_assert(accel_reset_state(r.m, &want, err, sizeof err));
    get_ok(&r, &got);
    assert_same_state(&want, &got);
    ck_assert_uint_eq(got.rip, 0xfff0);
    ck_assert_uint_eq(got.seg[R_CS].base, 0xffff0000u);
    ck_assert_uint_eq(got.seg[R_CS].selector, 0xf000);
    ck_assert_uint_eq(got.fxsave[0], 0x40);               /* FCW 0040H */
    /* cpu_reset says the same. */
    CPUState *cpu = r.m->cpus[0];
    cpu_reset(cpu);
    get_ok(&r, &got);
    assert_same_state(&want, &got);
    ck_assert(!(cpu->hflags & HF_PE));
    rig_free(&r);
}
END_TEST

/* A state the translator cannot hold is refused before anything changes. */
START_TEST(put_refuses_and_keeps_state)
{
    Rig r;
    rig_new(&r, _i, false);
    X86ArchState before, bad, after;
    busy_state(&before);
    put_ok(&r, &before);
    char err[256];
    static const struct { const char *what; int field; } cases[] = {
        { "MXCSR", 0 }, { "XCR0", 1 }, { "exception", 2 }, { "interrupt", 3 },
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        bad = before;
        bad.rip = 0x4242;
        switch (cases[i].field) {
        case 0: put32(bad.fxsave + 24, 0x1f80 | 1u << 16); break;
        case 1: bad.xcr0 = XSTATE_X87 | 4; break;
        case 2: bad.exception = EXC_NMI; break;
        case 3: bad.interrupt = 0x30; break;
        }
        err[0] = 0;
        ck_assert_int_eq(r.ops->put_cpu_state(r.acc, 0, &bad, err, sizeof err), -1);
        ck_assert_msg(strstr(err, cases[i].what) != NULL, "%s", err);
        get_ok(&r, &after);
        assert_same_state(&before, &after);
    }
    rig_free(&r);
}
END_TEST

/* The Linux boot protocol's 64-bit entry, put on top of RESET. */
START_TEST(linux_entry_through_put)
{
    Rig r;
    rig_new(&r, _i, false);
    LinuxBootEntry e = {
        .mode = LINUXBOOT_MODE_64, .rip = 0x100200, .rsi = LINUXBOOT_BOOT_PARAMS,
        .rflags = 2, .cr0 = CR0_PE | CR0_ET | CR0_PG, .cr3 = LINUXBOOT_PML4_ADDR,
        .cr4 = CR4_PAE, .efer = EFER_LME | EFER_LMA, .gdt_base = LINUXBOOT_GDT_ADDR,
        .gdt_limit = 31, .cs = LINUXBOOT_BOOT_CS, .ds = LINUXBOOT_BOOT_DS,
        .cs_desc = 0x00af9b000000ffffULL, .ds_desc = 0x00cf93000000ffffULL,
    };
    X86ArchState s, got;
    ck_assert(accel_reset_state(r.m, &s, NULL, 0));
    linuxboot_entry_state(&e, &s);
    put_ok(&r, &s);
    get_ok(&r, &got);
    assert_same_state(&s, &got);
    ck_assert_uint_eq(got.regs[R_ESI], LINUXBOOT_BOOT_PARAMS);
    ck_assert_uint_eq(got.regs[R_EDX], 0);
    ck_assert_uint_eq(got.seg[R_CS].limit, 0xffffffffu);
    ck_assert_uint_eq(got.seg[R_DS].attr, 0x00c09300u);
    CPUState *cpu = r.m->cpus[0];
    ck_assert(cpu->hflags & HF_CS64);
    ck_assert_int_eq(cpu_cpl(cpu), 0);
    rig_free(&r);
}
END_TEST

/* Real mode: two loops summing 200..1 into ax (each partial sum kept at
 * [0x2000 + 2*i]) with an OUT between them that stops the machine, then
 * x87 and SSE work, then HLT with IF clear.
 *   0x1000: mov cx, 200; xor ax, ax; mov bx, 0x2000
 *   1:      add ax, cx; mov [bx], ax; add bx, 2; dec cx; jnz 1b
 *           out 0x80, al; mov cx, 200
 *   2:      add ax, cx; mov [bx], ax; add bx, 2; dec cx; jnz 2b
 *           fninit; fld1; fldpi; faddp; fstp dword [0x1800]
 *           movd xmm3, eax; paddd xmm3, xmm3; movd [0x1804], xmm3
 *           cli; hlt */
static const uint8_t sum_code[] = {
    0xb9, 0xc8, 0x00, 0x31, 0xc0, 0xbb, 0x00, 0x20,
    0x01, 0xc8, 0x89, 0x07, 0x83, 0xc3, 0x02, 0x49, 0x75, 0xf6,
    0xe6, 0x80, 0xb9, 0xc8, 0x00,
    0x01, 0xc8, 0x89, 0x07, 0x83, 0xc3, 0x02, 0x49, 0x75, 0xf6,
    0xdb, 0xe3, 0xd9, 0xe8, 0xd9, 0xeb, 0xde, 0xc1, 0xd9, 0x1e, 0x00, 0x18,
    0x66, 0x0f, 0x6e, 0xd8, 0x66, 0x0f, 0xfe, 0xdb,
    0x66, 0x0f, 0x7e, 0x1e, 0x04, 0x18,
    0xfa, 0xf4,
};

static uint64_t stop_read(void *opaque, uint64_t off, unsigned size) { return 0; }
static void stop_write(void *opaque, uint64_t off, uint64_t v, unsigned size)
{
    machine_request_stop(opaque);
}
static const MemOps stop_ops = { .read = stop_read, .write = stop_write };

static void start_sum(Rig *r)
{
    char *err = NULL;
    ck_assert(iospace_add(r->m->io, "stop", 0x80, 1, &stop_ops, r->m, &err));
    X86ArchState s;
    ck_assert(accel_reset_state(r->m, &s, NULL, 0));
    memcpy(r->m->ram + 0x1000, sum_code, sizeof sum_code);
    for (int i = R_ES; i <= R_GS; i++) {
        s.seg[i].selector = 0;
        s.seg[i].base = 0;
    }
    s.rip = 0x1000;
    s.regs[R_ESP] = 0x8000;
    s.cr4 = CR4_OSFXSR;
    put_ok(r, &s);
}

static void run_to_hlt(Rig *r)
{
    for (int i = 0; i < 1000; i++) {
        AccelExit e = r->ops->exec(r->acc, INT64_MAX);
        if (e == ACCEL_EXIT_HALTED)
            return;
        ck_assert_int_eq(e, ACCEL_EXIT_DEADLINE);
    }
    ck_abort_msg("guest never halted");
}

START_TEST(saved_machine_continues_alike)
{
    Rig a, b;
    rig_new(&a, _i, false);
    rig_new(&b, _i, false);
    start_sum(&a);
    start_sum(&b);
    /* The OUT between the loops stops it halfway. */
    ck_assert_int_eq(a.ops->exec(a.acc, INT64_MAX), ACCEL_EXIT_DEADLINE);
    a.m->stop_requested = false;
    X86ArchState mid;
    get_ok(&a, &mid);
    ck_assert_uint_eq(mid.regs[R_EAX] & 0xffff, 20100);
    ck_assert_uint_ge(mid.rip, 0x1014);
    ck_assert_uint_lt(mid.rip, 0x1021);

    VMBuf buf;
    vmbuf_init(&buf);
    machine_save_devices(a.m, &buf);
    memcpy(b.m->ram, a.m->ram, RAM);         /* RAM is not a device section */
    char *err = NULL;
    ck_assert_msg(machine_load_devices(b.m, buf.data, buf.len, &err) == 0, "%s", err);
    vmbuf_free(&buf);
    X86ArchState sa, sb;
    get_ok(&a, &sa);
    get_ok(&b, &sb);
    assert_same_state(&sa, &sb);

    run_to_hlt(&a);
    run_to_hlt(&b);
    get_ok(&a, &sa);
    get_ok(&b, &sb);
    assert_same_state(&sa, &sb);
    ck_assert(sa.halted);
    ck_assert_uint_eq(sa.regs[R_EAX] & 0xffff, 40200);
    ck_assert(!memcmp(a.m->ram, b.m->ram, RAM));
    uint32_t x;
    memcpy(&x, b.m->ram + 0x1804, 4);
    ck_assert_uint_eq(x, 80400);
    memcpy(&x, b.m->ram + 0x1800, 4);
    ck_assert_uint_eq(x, 0x408487ed);           /* 1 + pi as a float */
    rig_free(&a);
    rig_free(&b);
}
END_TEST

/* A stream without the CPU (or with another layout) is refused whole. */
START_TEST(cpu_section_in_stream)
{
    Rig a;
    rig_new(&a, _i, false);
    ck_assert_ptr_nonnull(machine_find_device(a.m, "cpu"));
    char err0[128];
    Machine *bare = machine_new(RAM, CLOCK_MANUAL, err0, sizeof err0);
    VMBuf buf;
    vmbuf_init(&buf);
    machine_save_devices(bare, &buf);
    char *err = NULL;
    ck_assert_int_eq(machine_load_devices(a.m, buf.data, buf.len, &err), -1);
    ck_assert_msg(strstr(err, "cpu") != NULL, "%s", err);
    free(err);
    vmbuf_free(&buf);
    machine_free(bare);
    /* Freeing the accelerator's CPU unlists its section. */
    a.ops->free(a.acc);
    ck_assert_ptr_null(machine_find_device(a.m, "cpu"));
    machine_free(a.m);
    options_free(&a.opts);
}
END_TEST

/* ---- triple fault and -no-reboot ---- */

START_TEST(reset_policy_in_the_machine)
{
    static const struct { bool no_reboot, triple; RunState state; int code; } cases[] = {
        { false, false, RUN_RESET, 0 },
        { false, true, RUN_RESET, 0 },
        { true, false, RUN_SHUTDOWN, 0 },
        { true, true, RUN_SHUTDOWN, EXIT_EMULATION_ERROR },
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char err[128];
        VMOptions o;
        options_init(&o);
        o.no_reboot = cases[i].no_reboot;
        Machine *m = machine_new(RAM, CLOCK_MANUAL, err, sizeof err);
        m->opts = &o;
        /* Not running: nothing to act on. */
        machine_triple_fault(m);
        ck_assert_int_eq(m->state, RUN_PAUSED);
        m->state = RUN_RUNNING;
        if (cases[i].triple)
            machine_triple_fault(m);
        else
            machine_request_reset(m);
        ck_assert_int_eq(m->state, cases[i].state);
        ck_assert_int_eq(m->exit_code, cases[i].code);
        ck_assert(m->stop_requested);
        machine_free(m);
        options_free(&o);
    }
}
END_TEST

/* Protected mode with an empty IDT: INT3 -> #GP -> #DF -> shutdown. */
static void start_triple_fault(Rig *r)
{
    X86ArchState s;
    ck_assert(accel_reset_state(r->m, &s, NULL, 0));
    s.cr0 |= CR0_PE;
    s.seg[R_CS] = (X86ArchSegment){ 0x08, SEG_P | SEG_S | SEG_CODE | SEG_W | SEG_A | SEG_B | SEG_G,
                                    0, 0xffffffffu };
    for (int i = R_ES; i <= R_GS; i++)
        if (i != R_CS)
            s.seg[i] = (X86ArchSegment){ 0x10, SEG_P | SEG_S | SEG_W | SEG_A | SEG_B | SEG_G,
                                         0, 0xffffffffu };
    s.idt = (X86ArchTable){ 0, 0 };
    s.rip = 0x1000;
    s.regs[R_ESP] = 0x8000;
    r->m->ram[0x1000] = 0x90;                 /* nop */
    r->m->ram[0x1001] = 0xcc;                 /* int3 */
    put_ok(r, &s);
}

START_TEST(triple_fault_resets_the_cpu)
{
    Rig r;
    rig_new(&r, _i, false);
    start_triple_fault(&r);
    r.m->state = RUN_RUNNING;
    ck_assert_int_eq(r.ops->exec(r.acc, INT64_MAX), ACCEL_EXIT_SHUTDOWN);
    ck_assert_int_eq(r.m->state, RUN_RUNNING);    /* the accelerator only reports */
    machine_triple_fault(r.m);
    ck_assert_int_eq(r.m->state, RUN_RESET);
    char err[256] = "";
    ck_assert_msg(accel_reset_cpu(r.m, r.ops, r.acc, err, sizeof err) == 0, "%s", err);
    X86ArchState got;
    get_ok(&r, &got);
    ck_assert_uint_eq(got.rip, 0xfff0);
    ck_assert_uint_eq(got.seg[R_CS].selector, 0xf000);
    ck_assert(!(got.cr0 & CR0_PE));
    rig_free(&r);
}
END_TEST

START_TEST(triple_fault_with_no_reboot_exits)
{
    Rig r;
    rig_new(&r, _i, true);
    start_triple_fault(&r);
    ck_assert_int_eq(machine_run(r.m, r.ops, r.acc), EXIT_EMULATION_ERROR);
    ck_assert_int_eq(r.m->state, RUN_SHUTDOWN);
    rig_free(&r);
}
END_TEST

static Suite *accel_suite(void)
{
    Suite *s = suite_create("accel");
    TCase *t = tcase_create("state");
    tcase_add_loop_test(t, get_put_round_trip_every_field, 0, 2);
    tcase_add_loop_test(t, round_trip_protected_and_vm86, 0, 2);
    tcase_add_loop_test(t, reset_state_through_put, 0, 2);
    tcase_add_loop_test(t, put_refuses_and_keeps_state, 0, 2);
    tcase_add_loop_test(t, linux_entry_through_put, 0, 2);
    tcase_add_loop_test(t, saved_machine_continues_alike, 0, 2);
    tcase_add_loop_test(t, cpu_section_in_stream, 0, 2);
    suite_add_tcase(s, t);
    TCase *p = tcase_create("triple-fault");
    tcase_add_test(p, reset_policy_in_the_machine);
    tcase_add_loop_test(p, triple_fault_resets_the_cpu, 0, 2);
    tcase_add_loop_test(p, triple_fault_with_no_reboot_exits, 0, 2);
    suite_add_tcase(s, p);
    return s;
}
UNIT_SUITE(accel_suite)
