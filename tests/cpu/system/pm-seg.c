/*
 * pm-seg: 32-bit protected-mode segmentation (SDM Vol. 3A ch. 3 and 5).
 *  - data segment limit checks (#GP(0)), expand-down segments, stack
 *    segment limit (#SS(0), from ring 3 so the handler gets a good stack)
 *  - segment register loads: #GP(selector) for non-writable SS, exec-only
 *    code in DS, DPL < CPL, selector beyond the GDT limit, LDT without an
 *    LDT; #NP(selector) for a not-present data segment; #SS(selector) for
 *    a not-present stack segment; #GP(0) for a null SS
 *  - conforming code segments (CPL unchanged, CS.RPL = CPL) and far calls
 *    to non-conforming more-privileged code (#GP(selector))
 *  - 16-bit protected mode: a far jump into a 16-bit code segment, 16-bit
 *    and prefixed 32-bit arithmetic there, and back
 */
#include "testrom.h"

#define SEL_AREA     0x60   /* data, base area, limit 0xfff */
#define SEL_DOWN     0x68   /* expand-down data, base area, limit 0xfff, B=1 */
#define SEL_USTACK   0x70   /* ring-3 stack, base area, limit 0x7ff */
#define SEL_RO       0x78   /* read-only data */
#define SEL_XONLY    0x80   /* execute-only code */
#define SEL_NP       0x88   /* not-present data */
#define SEL_CONF     0x90   /* conforming code DPL 0 */
#define SEL_NPSTACK  0x98   /* not-present writable data */

static uint8_t area[0x2000] __attribute__((aligned(4096)));
static volatile uint32_t conf_cs, user_cs;

static void load_fs(uint16_t sel)
{
    asm volatile("mov %0, %%fs" :: "r"(sel));
}

static void test_limits(void)
{
    uint32_t v = 0, n;
    for (int i = 0; i < 0x2000; i++)
        area[i] = (uint8_t)i;
    load_fs(SEL_AREA);
    exc_verbose = 0;   /* QEMU skips limit checks: address-free lines */
    n = exc_count;
    TRY_IO("movl %%fs:0xffc, %0", "=r"(v));
    expect_no_exc(n, "dword at limit-3");
    tprintf("fs:[ffc] = %08x\n", v);
    CHECK(v == 0xfffefdfc);
    n = exc_count;
    TRY_IO("movl %%fs:0xffd, %0", "=r"(v));
    report_exc(n, "dword crossing the limit");
    expect_exc(n, 13, 0, "dword crossing the limit");
    n = exc_count;
    TRY_IO("movb %%fs:0x1000, %b0", "=q"(v));
    report_exc(n, "byte beyond the limit");
    expect_exc(n, 13, 0, "byte beyond the limit");

    /* Expand-down: valid offsets are limit+1 .. 0xffffffff (B=1). */
    load_fs(SEL_DOWN);
    n = exc_count;
    TRY_IO("movb %%fs:0x800, %b0", "=q"(v));
    report_exc(n, "expand-down below the limit");
    expect_exc(n, 13, 0, "expand-down below the limit");
    n = exc_count;
    v = 0;
    TRY_IO("movzbl %%fs:0x1001, %0", "=r"(v));
    expect_no_exc(n, "expand-down above the limit");
    tprintf("expand-down fs:[1001] = %02x\n", v);
    CHECK(v == 0x01);
    load_fs(SEL_KDATA);
    exc_verbose = 1;
}

static void test_loads(void)
{
    struct { uint16_t sel; int seg; uint32_t vec; long err; const char *what; } cases[] = {
        { SEL_RO, 2, 13, SEL_RO, "read-only data into SS" },
        { SEL_XONLY, 0, 13, SEL_XONLY, "execute-only code into DS" },
        { SEL_NP, 0, 11, SEL_NP, "not-present data into DS" },
        { SEL_NPSTACK, 2, 12, SEL_NPSTACK, "not-present stack into SS" },
        { 0x0000, 2, 13, 0, "null selector into SS" },
        { 0x01f8, 0, 13, 0x01f8, "selector beyond the GDT limit into DS" },
        { 0x0064, 0, 13, 0x0064, "LDT selector without an LDT into DS" },
        { SEL_KCODE32 | 3, 2, 13, SEL_KCODE32, "code segment into SS" },
    };
    for (unsigned i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        uint32_t n = exc_count;
        tprintf("load %04x into %s: ", cases[i].sel, cases[i].seg == 2 ? "ss" : "ds");
        if (cases[i].seg == 2)
            TRY_IO("mov %0, %%ss", , "r"(cases[i].sel));
        else
            TRY_IO("mov %0, %%ds", , "r"(cases[i].sel));
        expect_exc(n, cases[i].vec, cases[i].err, cases[i].what);
    }
    /* A readable code segment is a valid DS; reload the flat one after. */
    uint32_t n = exc_count;
    TRY_IO("mov %0, %%es", , "r"(SEL_KCODE32));
    expect_no_exc(n, "readable code into ES");
    asm volatile("mov %0, %%es" :: "r"(SEL_KDATA));
}

/* Conforming code: called from ring 3, keeps CPL 3. */
extern char conf_fn[];
asm(".text\nconf_fn:\n  movl %cs, %eax\n  lret\n");

static __attribute__((noinline)) void user_part(void)
{
    uint32_t cs, n;
    asm volatile("mov %%cs, %0" : "=r"(cs));
    user_cs = cs;
    asm volatile("lcall %1, $conf_fn" : "=a"(cs) : "i"(SEL_CONF) : "memory");
    conf_cs = cs;
    /* Far call to non-conforming ring-0 code: #GP(selector). */
    n = exc_count;
    TRY("lcall $0x08, $conf_fn");
    expect_exc(n, 13, SEL_KCODE32, "ring 3 far call to ring-0 code");
    /* Loading a DPL 0 data segment from ring 3: #GP(selector). */
    n = exc_count;
    TRY_IO("mov %0, %%es", , "r"(SEL_KDATA));
    expect_exc(n, 13, SEL_KDATA, "ring 3 load of a DPL 0 data segment");
    /* Stack limit: SS limit 0x7ff; a push at ESP 0x1000 writes 0xffc. */
    n = exc_count;
    exc_verbose = 0;
    asm volatile("movl $1f, recover_ip\n\t"
                 "movl %%esp, %%ebx\n\t"
                 "mov %0, %%ss\n\t"
                 "movl $0x800, %%esp\n\t"
                 "pushl $0x11223344\n\t"      /* fine: writes 0x7fc */
                 "movl $0x1000, %%esp\n\t"
                 "pushl $0x55667788\n\t"      /* #SS(0): 0xffc > limit */
                 "1:\n\t"
                 "movl $0, recover_ip\n\t"
                 "mov %1, %%ss\n\t"
                 "movl %%ebx, %%esp"
                 :: "r"(SEL_USTACK | 3), "r"(SEL_UDATA | 3) : "ebx", "memory");
    report_exc(n, "push beyond the stack limit");
    expect_exc(n, 12, 0, "push beyond the stack limit");
    exc_verbose = 1;
    user_exit();
}

static void test_user(void)
{
    user_call(user_part, ustack_top);
    tprintf("ring 3 cs=%04x, conforming cs=%04x\n", user_cs, conf_cs);
    CHECK(user_cs == (SEL_UCODE32 | 3));
    CHECK(conf_cs == (SEL_CONF | 3), "conforming segment keeps CPL 3 in CS.RPL");
    CHECK(*(uint32_t *)(area + 0x7fc) == 0x11223344);
}

/* 16-bit protected mode: code in .text16 (offsets in segment F000, which
 * is SEL_CODE16's base). */
extern char pm16_entry[];
static volatile uint32_t pm16_result[3];
asm(".section .text16, \"ax\"\n"
    ".code16\n"
    "pm16_entry:\n"
    "  movw $0x8000, %ax\n"
    "  addw $0x8001, %ax\n"      /* 16-bit: ax = 1, CF = 1 */
    "  sbbl %ebx, %ebx\n"        /* 32-bit with prefix: ebx = -1 */
    "  movl $0x12345678, %ecx\n"
    "  rorl $8, %ecx\n"
    "  ljmpl $0x08, $pm16_back\n"
    ".code32\n"
    ".text\n");

static __attribute__((noinline)) void test_pm16(void)
{
    uint32_t a, b, c;
    asm volatile("ljmp %3, $pm16_entry\n"
                 "pm16_back:\n"
                 : "=a"(a), "=b"(b), "=c"(c) : "i"(SEL_CODE16) : "memory", "cc");
    tprintf("16-bit pm: ax=%04x ebx=%08x ecx=%08x\n", a & 0xffff, b, c);
    CHECK((a & 0xffff) == 1 && b == 0xffffffff && c == 0x78123456);
}

int main(void)
{
    uint32_t a = (uint32_t)(uintptr_t)area;
    gdt_set(SEL_AREA, a, 0xfff, 0x93, 0x4);
    gdt_set(SEL_DOWN, a, 0xfff, 0x97, 0x4);
    gdt_set(SEL_USTACK, a, 0x7ff, 0xf3, 0x4);
    gdt_set(SEL_RO, 0, 0xfffff, 0x91, 0xc);
    gdt_set(SEL_XONLY, 0, 0xfffff, 0x99, 0xc);
    gdt_set(SEL_NP, 0, 0xfffff, 0x13, 0xc);
    gdt_set(SEL_CONF, 0, 0xfffff, 0x9f, 0xc);
    gdt_set(SEL_NPSTACK, 0, 0xfffff, 0x13, 0xc);
    test_limits();
    test_loads();
    test_user();
    test_pm16();
    return test_result();
}
