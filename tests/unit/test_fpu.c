/*
 * x87/SSE state tests: FNINIT/FNSTSW/FNSTCW/FLDCW, FXSAVE image layout,
 * LDMXCSR/STMXCSR, the CR0.EM/TS and CR4.OSFXSR rules (#UD, #NM), the
 * CPU model (CPUID bits, unknown -cpu names) — each under both engines.
 * Expected values come from the SDM (Vol. 1 8.1, 10.5.1; Vol. 3 2.5, 9.1).
 * Guest programs are real-mode byte arrays assembled once with GNU as
 * (source in the comments).
 */
#include <stdlib.h>
#include <string.h>

#include "core/machine.h"
#include "cpu/cpu.h"
#include "tests/unit/cpu-guest.h"
#include "tests/unit/unit.h"

#define RAM (1u << 20)

static Guest guest_new(const uint8_t *code, size_t len, int engine)
{
    return unit_guest_new_real(RAM, engine, code, len);
}

static uint16_t rd16(Guest *g, uint32_t a) { uint16_t v; memcpy(&v, g->m->ram + a, 2); return v; }

static void run(Guest *g)
{
    g->cpu->insn_budget = 10000;
    ck_assert_int_eq(cpu_exec(g->cpu, INT64_MAX), CPU_EXIT_HALTED);
}

/* fninit; fnstsw ax; mov [0x5000],ax; fnstcw [0x5002];
 * mov word [0x5004],0x027f; fldcw [0x5004]; fnstcw [0x5006];
 * fxsave [0x5200]; cr4 |= OSFXSR; mov dword [0x5010],0x3f80;
 * ldmxcsr [0x5010]; stmxcsr [0x5014]; fxsave [0x5400]; hlt */
static const uint8_t ctl_code[] = {
    0xdb, 0xe3, 0xdf, 0xe0, 0xa3, 0x00, 0x50, 0xd9, 0x3e, 0x02, 0x50, 0xc7,
    0x06, 0x04, 0x50, 0x7f, 0x02, 0xd9, 0x2e, 0x04, 0x50, 0xd9, 0x3e, 0x06,
    0x50, 0x0f, 0xae, 0x06, 0x00, 0x52, 0x0f, 0x20, 0xe0, 0x66, 0x0d, 0x00,
    0x02, 0x00, 0x00, 0x0f, 0x22, 0xe0, 0x66, 0xc7, 0x06, 0x10, 0x50, 0x80,
    0x3f, 0x00, 0x00, 0x0f, 0xae, 0x16, 0x10, 0x50, 0x0f, 0xae, 0x1e, 0x14,
    0x50, 0x0f, 0xae, 0x06, 0x00, 0x54, 0xf4
};

START_TEST(fninit_control_word_and_fxsave_image)
{
    Guest g = guest_new(ctl_code, sizeof(ctl_code), _i);
    g.cpu->xmm[3].q[0] = 0x1122334455667788ULL;
    g.cpu->xmm[3].q[1] = 0x99aabbccddeeff00ULL;
    run(&g);
    ck_assert_uint_eq(rd16(&g, 0x5000), 0);          /* FSW after FNINIT */
    ck_assert_uint_eq(rd16(&g, 0x5002), 0x037f);     /* FCW after FNINIT */
    ck_assert_uint_eq(rd16(&g, 0x5006), 0x027f);     /* FLDCW took effect */
    /* FXSAVE: FCW, FSW, abridged FTW (all empty = 0), MXCSR, MXCSR_MASK, XMM3 */
    ck_assert_uint_eq(rd16(&g, 0x5200), 0x027f);
    ck_assert_uint_eq(rd16(&g, 0x5202), 0);
    ck_assert_uint_eq(g.m->ram[0x5204], 0);
    ck_assert_uint_eq(rd32(&g, 0x5200 + 24), 0x1f80);
    ck_assert_uint_ne(rd32(&g, 0x5200 + 28) & 0xffbf, 0);
    ck_assert_uint_eq(rd32(&g, 0x5200 + 160 + 48), 0x55667788);
    ck_assert_uint_eq(rd32(&g, 0x5200 + 160 + 60), 0x99aabbcc);
    ck_assert_uint_eq(rd32(&g, 0x5014), 0x3f80);     /* STMXCSR */
    ck_assert_uint_eq(rd32(&g, 0x5400 + 24), 0x3f80);
    unit_guest_free(&g);
}
END_TEST

/* 0x1000: ldmxcsr [0x5010] (OSFXSR clear: #UD); mov word [0x5022],0x1111;
 *         cr0 |= TS; fninit (#NM); mov word [0x5024],0x2222; clts; fninit;
 *         fnstsw [0x5026]; hlt
 * 0x1040: #UD handler: mov word [0x5020],0x66; skip 5 bytes; iret
 * 0x1060: #NM handler: inc word [0x5028]; clts; iret                      */
static const uint8_t exc_code[] = {
    0x0f, 0xae, 0x16, 0x10, 0x50, 0xc7, 0x06, 0x22, 0x50, 0x11, 0x11, 0x0f,
    0x20, 0xc0, 0x66, 0x83, 0xc8, 0x08, 0x0f, 0x22, 0xc0, 0xdb, 0xe3, 0xc7,
    0x06, 0x24, 0x50, 0x22, 0x22, 0x0f, 0x06, 0xdb, 0xe3, 0xdd, 0x3e, 0x26,
    0x50, 0xf4, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
    0x00, 0x00, 0x00, 0x00, 0xc7, 0x06, 0x20, 0x50, 0x66, 0x00, 0x58, 0x83,
    0xc0, 0x05, 0x50, 0xcf, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
    0xff, 0x06, 0x28, 0x50, 0x0f, 0x06, 0xcf
};

START_TEST(sse_needs_osfxsr_and_ts_raises_nm)
{
    Guest g = guest_new(exc_code, sizeof(exc_code), _i);
    uint32_t ud = 0x1040, nm = 0x1060;
    memcpy(g.m->ram + 6 * 4, &ud, 4);   /* IVT: offset 0x1040, segment 0 */
    memcpy(g.m->ram + 7 * 4, &nm, 4);
    g.m->ram[0x5026] = 0xff;
    run(&g);
    ck_assert_uint_eq(rd16(&g, 0x5020), 0x66);       /* #UD taken */
    ck_assert_uint_eq(rd16(&g, 0x5022), 0x1111);     /* resumed after it */
    ck_assert_uint_eq(rd16(&g, 0x5028), 1);          /* one #NM, then retried */
    ck_assert_uint_eq(rd16(&g, 0x5024), 0x2222);
    ck_assert_uint_eq(rd16(&g, 0x5026), 0);
    unit_guest_free(&g);
}
END_TEST

/* cpuid with eax=1 -> [0x5000] edx, [0x5004] ecx; hlt */
static const uint8_t cpuid_code[] = {
    0x66, 0xb8, 0x01, 0x00, 0x00, 0x00, 0x0f, 0xa2, 0x66, 0x89, 0x16, 0x00, 0x50,
    0x66, 0x89, 0x0e, 0x04, 0x50, 0xf4,
};

START_TEST(cpuid_reports_fpu_fxsr_sse_sse2)
{
    Guest g = guest_new(cpuid_code, sizeof(cpuid_code), _i);
    run(&g);
    uint32_t edx = rd32(&g, 0x5000);
    /* FPU (0), FXSR (24), SSE (25), SSE2 (26): what Linux's verify_cpu needs */
    ck_assert_uint_eq(edx & (1u << 0 | 1u << 24 | 1u << 25 | 1u << 26),
                      1u << 0 | 1u << 24 | 1u << 25 | 1u << 26);
    /* OSXSAVE (27) follows CR4.OSXSAVE, which is clear */
    ck_assert_uint_eq(rd32(&g, 0x5004) & (1u << 27), 0);
    unit_guest_free(&g);
}
END_TEST

/* cr4 |= OSXSAVE|OSFXSR; xgetbv(0) -> [0x5000]; xsetbv(0, 3); xgetbv ->
 * [0x5004]; cpuid(1).ecx -> [0x5008]; cpuid(0xd,0) ebx -> [0x500c],
 * eax -> [0x5010]; fninit; xsave [0x6000] with edx:eax = -1; pxor xmm1;
 * xrstor [0x6000]; movups [0x5020], xmm1; hlt */
static const uint8_t xsave_code[] = {
    0x0f, 0x20, 0xe0, 0x66, 0x0d, 0x00, 0x02, 0x04, 0x00, 0x0f, 0x22, 0xe0,
    0x66, 0x31, 0xc9, 0x0f, 0x01, 0xd0, 0x66, 0xa3, 0x00, 0x50, 0x66, 0xb8,
    0x03, 0x00, 0x00, 0x00, 0x66, 0x31, 0xd2, 0x0f, 0x01, 0xd1, 0x0f, 0x01,
    0xd0, 0x66, 0xa3, 0x04, 0x50, 0x66, 0xb8, 0x01, 0x00, 0x00, 0x00, 0x0f,
    0xa2, 0x66, 0x89, 0x0e, 0x08, 0x50, 0x66, 0xb8, 0x0d, 0x00, 0x00, 0x00,
    0x66, 0x31, 0xc9, 0x0f, 0xa2, 0x66, 0x89, 0x1e, 0x0c, 0x50, 0x66, 0xa3,
    0x10, 0x50, 0xdb, 0xe3, 0x66, 0xb8, 0xff, 0xff, 0xff, 0xff, 0x66, 0xba,
    0xff, 0xff, 0xff, 0xff, 0x0f, 0xae, 0x26, 0x00, 0x60, 0x66, 0x0f, 0xef,
    0xc9, 0x0f, 0xae, 0x2e, 0x00, 0x60, 0x0f, 0x11, 0x0e, 0x20, 0x50, 0xf4
};

START_TEST(xsave_xrstor_xcr0_and_cpuid_leaf_d)
{
    Guest g = guest_new(xsave_code, sizeof(xsave_code), _i);
    g.cpu->xmm[1].q[0] = 0x0123456789abcdefULL;
    g.cpu->xmm[1].q[1] = 0xfedcba9876543210ULL;
    memset(g.m->ram + 0x6200, 0, 64);        /* XSAVE header */
    g.m->ram[0x6200] = 1;                     /* stale x87 bit: XSAVE must clear it */
    run(&g);
    ck_assert_uint_eq(rd32(&g, 0x5000), 1);             /* XCR0 at reset: x87 */
    ck_assert_uint_eq(rd32(&g, 0x5004), 3);             /* after XSETBV */
    ck_assert_uint_ne(rd32(&g, 0x5008) & (1u << 27), 0); /* CPUID.1:ECX.OSXSAVE */
    ck_assert_uint_eq(rd32(&g, 0x500c), 576);           /* size for XCR0 = 3 */
    ck_assert_uint_eq(rd32(&g, 0x5010), 3);             /* supported components */
    /* XSTATE_BV: x87 in its initial state after FNINIT (bit 0 clear), SSE
     * in use (bit 1); the XMM image holds xmm1; XRSTOR brought it back */
    ck_assert_uint_eq(g.m->ram[0x6200] & 3, 2);
    ck_assert_uint_eq(rd32(&g, 0x6000 + 160 + 16), 0x89abcdef);
    ck_assert_uint_eq(rd32(&g, 0x5020), 0x89abcdef);
    ck_assert_uint_eq(rd32(&g, 0x502c), 0xfedcba98);
    unit_guest_free(&g);
}
END_TEST

/* fninit; fld1 (at 0x1002); fnstenv [0x5000] (16-bit real-mode layout); hlt */
static const uint8_t fstenv_code[] = { 0xdb, 0xe3, 0xd9, 0xe8, 0xd9, 0x36, 0x00, 0x50, 0xf4 };

START_TEST(fnstenv_real_mode_layout)
{
    Guest g = guest_new(fstenv_code, sizeof(fstenv_code), _i);
    run(&g);
    ck_assert_uint_eq(rd16(&g, 0x5000), 0x037f);     /* FCW */
    ck_assert_uint_eq(rd16(&g, 0x5002), 0x3800);     /* FSW: TOP = 7 after one push */
    ck_assert_uint_eq(rd16(&g, 0x5004), 0x3fff);     /* FTW: R7 valid (00), others empty */
    ck_assert_uint_eq(rd16(&g, 0x5006), 0x1002);     /* FIP 15:0, linear */
    ck_assert_uint_eq(rd16(&g, 0x5008), 0x01e8);     /* FIP 19:16 << 12 | FOP (D9 E8) */
    /* the value itself: ST0 = +1.0 in the 80-bit format */
    ck_assert_uint_eq(g.cpu->fpregs[7].mant, 0x8000000000000000ULL);
    ck_assert_uint_eq(g.cpu->fpregs[7].sexp, 0x3fff);
    unit_guest_free(&g);
}
END_TEST

START_TEST(unknown_cpu_model_is_refused)
{
    char err[160];
    Machine *m = machine_new(RAM, CLOCK_MANUAL, err, sizeof(err));
    ck_assert_ptr_nonnull(m);
    CPUConfig cfg = CPU_CONFIG_DEFAULT;
    cfg.model_name = "pentium9000";
    ck_assert_ptr_null(cpu_create(m, 0, &cfg, err, sizeof(err)));
    ck_assert_ptr_nonnull(strstr(err, "pentium9000"));
    ck_assert_ptr_nonnull(strstr(err, "vx86"));
    cfg.model_name = "qemu64";
    CPUState *cpu = cpu_create(m, 0, &cfg, err, sizeof(err));
    ck_assert_ptr_nonnull(cpu);
    uint32_t r[4];
    cpu_cpuid(cpu, 1, 0, r);
    ck_assert_uint_eq(r[2] & (1u << 26), 0);   /* qemu64: no XSAVE */
    cpu_free(cpu);
    machine_free(m);
}
END_TEST

/* The SSE fast path keeps the guest's sticky MXCSR flags in the host
 * MXCSR while translated code runs (cpu.h, cpu_mxcsr_*).  0x1000:
 *   cr4 |= OSFXSR; movsd xmm0,[0x5100] (1.0); addsd xmm0,xmm0 (exact);
 *   movsd [0x5108],xmm0; hlt
 *   -- the test does inexact host arithmetic here, then resumes --
 *   stmxcsr [0x5010] (no PE: the host's flag is not the guest's);
 *   movsd xmm1,[0x5100]; divsd xmm1,[0x5110] (1/10: PE); stmxcsr [0x5014];
 *   ldmxcsr [0x5020] (0x1f80); stmxcsr [0x5018] (PE gone);
 *   divsd xmm1,[0x5110] (PE); hlt  -- cpu->mxcsr has PE after the run --
 *   ucomisd xmm1,[0x5110]; ja +6; mov word [0x5030],0x77;
 *   cvttsd2si eax,[0x5110]; mov [0x5034],eax;
 *   ldmxcsr [0x5020]; movsd xmm1,[0x5100]; divsd xmm1,[0x5110] (PE);
 *   mov ax,[0xffff] (#GP)
 * 0x1100: #GP/#SS handler: stmxcsr [0x5040]; hlt                          */
static const uint8_t mxcsr_code[] = {
    0x0f, 0x20, 0xe0, 0x66, 0x0d, 0x00, 0x02, 0x00, 0x00, 0x0f, 0x22, 0xe0,
    0xf2, 0x0f, 0x10, 0x06, 0x00, 0x51, 0xf2, 0x0f, 0x58, 0xc0, 0xf2, 0x0f,
    0x11, 0x06, 0x08, 0x51, 0xf4, 0x0f, 0xae, 0x1e, 0x10, 0x50, 0xf2, 0x0f,
    0x10, 0x0e, 0x00, 0x51, 0xf2, 0x0f, 0x5e, 0x0e, 0x10, 0x51, 0x0f, 0xae,
    0x1e, 0x14, 0x50, 0x0f, 0xae, 0x16, 0x20, 0x50, 0x0f, 0xae, 0x1e, 0x18,
    0x50, 0xf2, 0x0f, 0x5e, 0x0e, 0x10, 0x51, 0xf4, 0x66, 0x0f, 0x2e, 0x0e,
    0x10, 0x51, 0x77, 0x06, 0xc7, 0x06, 0x30, 0x50, 0x77, 0x00, 0xf2, 0x0f,
    0x2c, 0x06, 0x10, 0x51, 0x66, 0xa3, 0x34, 0x50, 0x0f, 0xae, 0x16, 0x20,
    0x50, 0xf2, 0x0f, 0x10, 0x0e, 0x00, 0x51, 0xf2, 0x0f, 0x5e, 0x0e, 0x10,
    0x51, 0xa1, 0xff, 0xff, 0xf4,
};

static uint32_t host_mxcsr(void)
{
    uint32_t v;
    __asm__ volatile("stmxcsr %0" : "=m"(v));
    return v;
}

/* Inexact double arithmetic in the emulator's own code: sets the host PE. */
static void host_inexact(void)
{
    volatile double one = 1.0, three = 3.0;
    volatile double q = one / three;
    (void)q;
}

static void resume(Guest *g)
{
    g->cpu->halted = false;
    run(g);
}

START_TEST(sse_flags_live_in_host_mxcsr_only_for_the_guest)
{
    Guest g = guest_new(mxcsr_code, sizeof(mxcsr_code), _i);
    static const uint8_t handler[] = { 0x0f, 0xae, 0x1e, 0x40, 0x50, 0xf4 };
    memcpy(g.m->ram + 0x1100, handler, sizeof(handler));
    wr32(&g, 12 * 4, 0x1100);                 /* IVT: #SS and #GP -> 0:1100 */
    wr32(&g, 13 * 4, 0x1100);
    wr64(&g, 0x5100, 0x3ff0000000000000ULL);  /* 1.0 */
    wr64(&g, 0x5110, 0x4024000000000000ULL);  /* 10.0: 1/10, 1/100 inexact */
    wr32(&g, 0x5020, 0x1f80);
    host_inexact();
    ck_assert_uint_ne(host_mxcsr() & MXCSR_PE, 0);
    run(&g);
    ck_assert_uint_eq(rd64(&g, 0x5108), 0x4000000000000000ULL);   /* 2.0 */
    ck_assert_uint_eq(g.cpu->mxcsr, 0x1f80);
    host_inexact();
    ck_assert_uint_ne(host_mxcsr() & MXCSR_PE, 0);
    resume(&g);
    ck_assert_uint_eq(rd32(&g, 0x5010), 0x1f80);   /* the host's PE did not leak */
    ck_assert_uint_eq(rd32(&g, 0x5014), 0x1fa0);   /* the guest's own PE */
    ck_assert_uint_eq(rd32(&g, 0x5018), 0x1f80);   /* LDMXCSR dropped it */
    ck_assert_uint_eq(g.cpu->mxcsr, 0x1fa0);       /* folded when the run ended */
    resume(&g);
    ck_assert_uint_eq(rd32(&g, 0x5030) & 0xffff, 0x77);   /* 0.001 < 10: JA not taken */
    ck_assert_uint_eq(rd32(&g, 0x5034), 10);
    ck_assert_uint_eq(rd32(&g, 0x5040), 0x1fa0);   /* folded on the #GP exit too */
    unit_guest_free(&g);
}
END_TEST

static Suite *fpu_suite(void)
{
    Suite *s = suite_create("fpu");
    TCase *tc = tcase_create("state");
    tcase_add_loop_test(tc, fninit_control_word_and_fxsave_image, 0, 2);
    tcase_add_loop_test(tc, sse_needs_osfxsr_and_ts_raises_nm, 0, 2);
    tcase_add_loop_test(tc, cpuid_reports_fpu_fxsr_sse_sse2, 0, 2);
    tcase_add_loop_test(tc, sse_flags_live_in_host_mxcsr_only_for_the_guest, 0, 2);
    tcase_add_loop_test(tc, xsave_xrstor_xcr0_and_cpuid_leaf_d, 0, 2);
    tcase_add_loop_test(tc, fnstenv_real_mode_layout, 0, 2);
    tcase_add_test(tc, unknown_cpu_model_is_refused);
    suite_add_tcase(s, tc);
    return s;
}

UNIT_SUITE(fpu_suite)
