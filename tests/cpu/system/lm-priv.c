/*
 * lm-priv: privilege changes in long mode (SDM Vol. 3A 5.8.6, 6.14, and
 * Vol. 2 SYSCALL/SYSRET/SWAPGS):
 *  - INT from ring 3 through a DPL 3 interrupt gate: stack from TSS.RSP0
 *    aligned down to 16 bytes, SS forced to NULL, the 64-bit frame (SS:RSP
 *    always pushed); an IST gate uses its IST stack; IRETQ back to ring 3;
 *  - SYSCALL/SYSRET: STAR/LSTAR/FMASK, RCX = return RIP, R11 = RFLAGS,
 *    FMASK clears flags, CS/SS from STAR, RSP unchanged; SYSRET with
 *    REX.W (64-bit CS = STAR[63:48] + 16) and without (compatibility mode,
 *    CS = STAR[63:48]); SYSRET from ring 3 is #GP(0);
 *  - SWAPGS exchanges GS.base and IA32_KERNEL_GS_BASE, #GP(0) in ring 3;
 *  - ring-3 privileged instructions (HLT, CLI, MOV CR, RDMSR, WRMSR,
 *    LGDT, INVLPG, IN) raise #GP(0);
 *  - a 64-bit call gate from ring 3 to ring 0 (stack switch, 4-qword
 *    frame, LRETQ back), #NP(sel) for a not-present gate, #GP(sel) for a
 *    gate whose upper half has a non-zero type, #NP(sel) for loading a
 *    not-present data segment, #NP(vec*8+2) for a not-present IDT gate,
 *    #GP(vec*8+2) for INT to a DPL 0 gate from ring 3;
 *  - non-canonical targets: JMP and RET to a non-canonical RIP raise
 *    #GP(0); a PUSH with a non-canonical RSP and an RBP-based access to a
 *    non-canonical address raise #SS(0) (handled on an IST stack).
 */
#include "testrom.h"

#define MSR_GS_BASE        0xC0000101
#define MSR_KERNEL_GS_BASE 0xC0000102
#define SEL_GATE    0x60   /* 16-byte 64-bit call gate: 0x60/0x68 */
#define SEL_GATE_NP 0x70   /* not present: 0x70/0x78 */
#define SEL_GATE_BAD 0x80  /* upper half type != 0: 0x80/0x88 */
#define SEL_DATA_NP 0x90   /* not-present data segment */
#define NONCANON 0x0000800000000000ULL

static uint8_t ist2_stack[4096] __attribute__((aligned(16)));
static uint8_t ist1_stack[4096] __attribute__((aligned(16)));
static uint8_t sc_stack[4096] __attribute__((aligned(16), used));

static volatile uint64_t h_top, h_cs, h_ss_pushed, h_sp, h_ss_now, h_cs_now;
static volatile uint64_t safe_rsp;

/* INT 40h/41h from ring 3: where the frame landed and what it holds. */
static int int_hook(struct frame *f)
{
    if (f->vector != 0x40 && f->vector != 0x41)
        return 0;
    uint64_t ss, cs;
    asm volatile("mov %%ss, %0; mov %%cs, %1" : "=r"(ss), "=r"(cs));
    h_top = (uintptr_t)(&f->ss + 1);
    h_cs = f->cs;
    h_ss_pushed = f->ss;
    h_sp = f->sp;
    h_ss_now = ss;
    h_cs_now = cs;
    f->rax = 0x4040;
    return 1;
}

/* #SS/#GP on an IST stack while RSP is non-canonical: resume with a good RSP. */
static int stack_hook(struct frame *f)
{
    if ((f->vector == 12 || f->vector == 13) && safe_rsp) {
        f->sp = safe_rsp;
        safe_rsp = 0;
    }
    return 0;
}

/* ---- SYSCALL entry (ring 0, user RSP) ---- */
/* used: referenced only from the asm below */
static volatile uint64_t sc_user_rsp __attribute__((used));
static volatile uint64_t sc_flags, sc_rcx, sc_r11, sc_cs, sc_ss, sc_rsp_seen;
extern char syscall_entry[], compat_user[];
asm(".text\n"
    "syscall_entry:\n"
    "  movq %rsp, sc_user_rsp(%rip)\n"
    "  movq %rsp, sc_rsp_seen(%rip)\n"
    "  leaq sc_stack+4096(%rip), %rsp\n"
    "  pushfq\n"
    "  popq sc_flags(%rip)\n"
    "  movq %rcx, sc_rcx(%rip)\n"
    "  movq %r11, sc_r11(%rip)\n"
    "  movl %cs, %edx\n  movq %rdx, sc_cs(%rip)\n"
    "  movl %ss, %edx\n  movq %rdx, sc_ss(%rip)\n"
    "  movq sc_user_rsp(%rip), %rsp\n"
    "  cmpl $2, %eax\n"
    "  je 1f\n"
    "  sysretq\n"
    "1:\n"
    "  movl $compat_user, %ecx\n"
    "  sysretl\n"
    /* compatibility-mode ring 3 after a 32-bit SYSRET: report CS/SS */
    ".code32\n"
    "compat_user:\n"
    "  movl %cs, %eax\n"
    "  movl %ss, %edx\n"
    "  shll $16, %edx\n"
    "  orl %edx, %eax\n"
    "  int $0x80\n"
    ".code64\n");

/* ---- 64-bit call gate target (ring 0) ---- */
static volatile uint64_t g_frame[4], g_rsp, g_cs, g_ss;
extern char gate_fn[];
asm(".text\n"
    "gate_fn:\n"
    "  movq %rsp, g_rsp(%rip)\n"
    "  movl %cs, %eax\n  movq %rax, g_cs(%rip)\n"
    "  movl %ss, %eax\n  movq %rax, g_ss(%rip)\n"
    "  movq 0(%rsp), %rax\n  movq %rax, g_frame(%rip)\n"
    "  movq 8(%rsp), %rax\n  movq %rax, g_frame+8(%rip)\n"
    "  movq 16(%rsp), %rax\n movq %rax, g_frame+16(%rip)\n"
    "  movq 24(%rsp), %rax\n movq %rax, g_frame+24(%rip)\n"
    "  lretq\n");

static void gate64(int sel, uintptr_t target, uint8_t type_attr, uint64_t upper)
{
    gdt[sel >> 3] = (target & 0xffff) | ((uint64_t)SEL_KCODE64 << 16) |
                    ((uint64_t)type_attr << 40) | ((uint64_t)((target >> 16) & 0xffff) << 48);
    gdt[(sel >> 3) + 1] = ((uint64_t)target >> 32) | upper;
}

struct farptr { uint32_t off; uint16_t sel; } __attribute__((packed));
static volatile uint64_t u_cs, u_ss, u_rsp_before, u_rcx_ok, u_flags_after, u_ret;

/* ring 3: privileged instructions */
static void user_privileged(void)
{
    uint32_t n;
#define PRIV(name, insn) do { n = exc_count; TRY_CLOB(insn, "rax", "rcx", "rdx"); \
        report_exc(n, "ring 3 " name); expect_exc(n, 13, 0, "ring 3 " name); } while (0)
    PRIV("hlt", "hlt");
    PRIV("cli", "cli");
    PRIV("mov from cr0", "mov %%cr0, %%rax");
    PRIV("mov to cr3", "mov %%rax, %%cr3");
    PRIV("rdmsr", "movl $0xc0000080, %%ecx; rdmsr");
    PRIV("wrmsr", "movl $0xc0000080, %%ecx; xorl %%eax, %%eax; xorl %%edx, %%edx; wrmsr");
    PRIV("lgdt", "lgdt (%%rsp)");
    PRIV("invlpg", "invlpg (%%rsp)");
    PRIV("in from port 80h", "inb $0x80, %%al");
    PRIV("swapgs", "swapgs");
    PRIV("sysretq (EFER.SCE=1)", "sysretq");
    user_exit();
}

/* ring 3 with EFER.SCE = 0: SYSCALL and SYSRET are #UD (checked before CPL) */
static void user_sce0(void)
{
    uint32_t n = exc_count;
    TRY_CLOB("syscall", "rcx", "r11");
    report_exc(n, "ring 3 syscall (EFER.SCE=0)");
    expect_exc(n, 6, -1, "syscall with SCE=0");
    n = exc_count;
    TRY_CLOB("sysretq", "rcx", "r11");
    report_exc(n, "ring 3 sysretq (EFER.SCE=0)");
    expect_exc(n, 6, -1, "sysret with SCE=0");
    user_exit();
}

static int int_gate_faults = 1;

/* ring 3: INT through DPL 3 gates, INT to a DPL 0 gate */
static void user_int(void)
{
    uint64_t r, cs;
    uint32_t n;
    asm volatile("mov %%cs, %0" : "=r"(cs));
    u_cs = cs;
    asm volatile("mov %%rsp, %0" : "=r"(u_rsp_before));
    asm volatile("int $0x40" : "=a"(r) : "a"(0) : "memory");
    u_ret = r;
    asm volatile("int $0x41" ::: "rax", "memory");
    if (!int_gate_faults)
        user_exit();
    /* QEMU deviates (vector*16+2): address-free lines */
    exc_verbose = 0;
    n = exc_count;
    TRY("int $0x42");
    report_exc(n, "ring 3 int 42h (DPL 0 gate)");
    expect_exc(n, 13, 0x42 * 8 + 2, "int to a DPL 0 gate");
    n = exc_count;
    TRY("int $0x43");
    report_exc(n, "ring 3 int 43h (not-present gate)");
    expect_exc(n, 11, 0x43 * 8 + 2, "not-present gate");
    exc_verbose = 1;
    user_exit();
}

/* ring 3: SYSCALL, 64-bit SYSRET back */
static void user_syscall64(void)
{
    uint64_t ret_addr, cs, ss, fl;
    asm volatile("std; stc\n\t"
                 "leaq 1f(%%rip), %0\n\t"
                 "syscall\n"
                 "1:\n\t"
                 "pushfq; popq %3; cld\n\t"
                 "mov %%cs, %1; mov %%ss, %2"
                 : "=&b"(ret_addr), "=&r"(cs), "=&r"(ss), "=&r"(fl)
                 : "a"(1) : "rcx", "r11", "rdx", "memory", "cc");
    u_rcx_ok = sc_rcx == ret_addr;
    u_cs = cs;
    u_ss = ss;
    u_flags_after = fl;
    user_exit();
}

/* ring 3: SYSCALL, 32-bit SYSRET into compatibility mode (ends there) */
static void user_syscall32(void)
{
    asm volatile("syscall" :: "a"(2) : "rcx", "r11", "rdx", "memory", "cc");
    user_exit();   /* not reached */
}

/* ring 3: far call through the 64-bit call gate, and the faulting gates */
static void user_gate(void)
{
    static struct farptr fp;
    uint32_t n;
    fp.off = 0x12345678;   /* ignored for a call gate */
    fp.sel = SEL_GATE | 3;
    asm volatile("mov %%rsp, %0" : "=r"(u_rsp_before));
    asm volatile("lcall *%0" :: "m"(fp) : "rax", "memory");
    asm volatile("mov %%cs, %0" : "=r"(u_cs));
    asm volatile("mov %%ss, %0" : "=r"(u_ss));
    fp.sel = SEL_GATE_NP | 3;
    n = exc_count;
    TRY_IO("lcall *%0", , "m"(fp));
    report_exc(n, "call gate not present");
    expect_exc(n, 11, SEL_GATE_NP, "gate #NP");
    fp.sel = SEL_GATE_BAD | 3;
    n = exc_count;
    TRY_IO("lcall *%0", , "m"(fp));
    report_exc(n, "call gate with a non-zero upper type");
    expect_exc(n, 13, SEL_GATE_BAD, "gate upper type #GP");
    user_exit();
}

int main(void)
{
    uint32_t n;
    uint64_t v;

    /* ---- INT from ring 3: RSP0 alignment, NULL SS, IST ---- */
    idt_set_gate(0x40, isr_stub_addr(0x40), SEL_KCODE64, 0xee, 0);
    idt_set_gate(0x41, isr_stub_addr(0x41), SEL_KCODE64, 0xee, 2);
    idt_set_gate(0x42, isr_stub_addr(0x42), SEL_KCODE64, 0x8e, 0);
    idt_set_gate(0x43, isr_stub_addr(0x43), SEL_KCODE64, 0x6e, 0);   /* P = 0 */
    tss.ist[2] = (uintptr_t)ist2_stack + sizeof(ist2_stack);
    tss.rsp[0] = (uintptr_t)kstack_top - 8;        /* misaligned on purpose */
    exc_hook = int_hook;
    user_call(user_int, ustack_top);
    tprintf("ring 3 cs=%llx\n", u_cs);
    CHECK(u_cs == (SEL_UCODE64 | 3));
    tprintf("int 40h: rax=%llx, handler cs=%llx ss=%llx, pushed cs=%llx ss=%llx\n",
            u_ret, h_cs_now, h_ss_now, h_cs, h_ss_pushed);
    CHECK(u_ret == 0x4040 && h_cs_now == SEL_KCODE64 && h_ss_now == 0);
    CHECK(h_cs == (SEL_UCODE64 | 3) && h_ss_pushed == (SEL_UDATA | 3));
    tprintf("int 41h (IST2): frame top = ist2 top: %d, pushed rsp = user rsp: %d\n",
            h_top == (uintptr_t)ist2_stack + sizeof(ist2_stack), h_sp == u_rsp_before);
    CHECK(h_top == (uintptr_t)ist2_stack + sizeof(ist2_stack) && h_sp == u_rsp_before);
    tss.rsp[0] = (uintptr_t)kstack_top;
    exc_hook = 0;

    /* the RSP0 alignment seen by INT 40h (the hook recorded 41h last) */
    tss.rsp[0] = (uintptr_t)kstack_top - 8;
    exc_hook = int_hook;
    int_gate_faults = 0;
    idt_set_gate(0x41, isr_stub_addr(0x40), SEL_KCODE64, 0xee, 0);
    user_call(user_int, ustack_top);
    tprintf("int 40h frame top = RSP0 & ~15: %d\n", h_top == (((uintptr_t)kstack_top - 8) & ~15ULL));
    CHECK(h_top == (((uintptr_t)kstack_top - 8) & ~15ULL));
    tss.rsp[0] = (uintptr_t)kstack_top;
    exc_hook = 0;

    /* ---- privileged instructions in ring 3 ---- */
    user_call(user_sce0, ustack_top);
    wrmsr(MSR_EFER, rdmsr(MSR_EFER) | EFER_SCE);
    user_call(user_privileged, ustack_top);

    /* ---- SYSCALL / SYSRET ---- */
    wrmsr(MSR_STAR, ((uint64_t)(SEL_UCODE32 | 3) << 48) | ((uint64_t)SEL_KCODE64 << 32));
    wrmsr(MSR_LSTAR, (uintptr_t)syscall_entry);
    wrmsr(MSR_FMASK, EFLAGS_DF | EFLAGS_TF | EFLAGS_AC | EFLAGS_IF);
    user_call(user_syscall64, ustack_top);
    tprintf("syscall: cs=%llx ss=%llx rcx=return rip: %llu, rsp unchanged: %d\n",
            sc_cs, sc_ss, u_rcx_ok, sc_rsp_seen < (uintptr_t)ustack_top &&
            sc_rsp_seen > (uintptr_t)ustack_top - 4096);
    CHECK(sc_cs == SEL_KCODE64 && sc_ss == SEL_KDATA64 && u_rcx_ok);
    tprintf("syscall: r11 DF,CF=%llx, flags in kernel DF=%llu CF=%llu\n",
            sc_r11 & (EFLAGS_DF | EFLAGS_CF), (sc_flags >> 10) & 1, sc_flags & 1);
    CHECK((sc_r11 & (EFLAGS_DF | EFLAGS_CF)) == (EFLAGS_DF | EFLAGS_CF));
    if ((sc_flags & EFLAGS_DF) || !(sc_flags & EFLAGS_CF))   /* line-free: a QEMU deviation */
        check_fail(0, "FMASK", "masked flags DF=%llu CF=%llu, want DF=0 CF=1",
                   (sc_flags >> 10) & 1, sc_flags & 1);
    tprintf("sysretq: cs=%llx ss=%llx DF=%llu\n", u_cs, u_ss, (u_flags_after >> 10) & 1);
    CHECK(u_cs == (SEL_UCODE64 | 3) && u_ss == (SEL_UDATA | 3) && (u_flags_after & EFLAGS_DF));
    v = user_call(user_syscall32, ustack_top) & 0xffffffffULL;
    tprintf("sysretl: compatibility mode cs=%llx ss=%llx\n", v & 0xffff, v >> 16);
    CHECK((v & 0xffff) == (SEL_UCODE32 | 3) && (v >> 16) == (SEL_UDATA | 3));

    /* ---- SWAPGS ---- */
    wrmsr(MSR_GS_BASE, 0x1111000);
    wrmsr(MSR_KERNEL_GS_BASE, 0x2222000);
    asm volatile("swapgs");
    uint64_t gs = rdmsr(MSR_GS_BASE), kgs = rdmsr(MSR_KERNEL_GS_BASE);
    tprintf("swapgs: gs.base=%llx kernel_gs_base=%llx\n", gs, kgs);
    CHECK(gs == 0x2222000 && kgs == 0x1111000);
    *(volatile uint32_t *)0x2222010 = 0x65;
    uint32_t g;
    asm volatile("movl %%gs:0x10, %0" : "=r"(g));
    tprintf("gs:0x10 after swapgs: %x\n", g);
    CHECK(g == 0x65);
    asm volatile("swapgs");
    wrmsr(MSR_GS_BASE, 0);
    wrmsr(MSR_KERNEL_GS_BASE, 0);

    /* ---- 64-bit call gate ---- */
    gate64(SEL_GATE, (uintptr_t)gate_fn, 0xec, 0);
    gate64(SEL_GATE_NP, (uintptr_t)gate_fn, 0x6c, 0);
    gate64(SEL_GATE_BAD, (uintptr_t)gate_fn, 0xec, 0x0000080000000000ULL);   /* upper type 8 */
    gdt_set(SEL_DATA_NP, 0, 0xfffff, 0x13, 0xc);                            /* P = 0 */
    user_call(user_gate, ustack_top);
    tprintf("call gate: target cs=%llx ss=%llx, stack = RSP0-32: %d\n", g_cs, g_ss,
            g_rsp == (uintptr_t)kstack_top - 32);
    CHECK(g_cs == SEL_KCODE64 && g_ss == 0 && g_rsp == (uintptr_t)kstack_top - 32);
    tprintf("call gate frame: cs=%llx ss=%llx rsp = caller rsp: %d; back in cs=%llx ss=%llx\n",
            g_frame[1], g_frame[3], g_frame[2] == u_rsp_before, u_cs, u_ss);
    CHECK(g_frame[1] == (SEL_UCODE64 | 3) && g_frame[3] == (SEL_UDATA | 3) &&
          g_frame[2] == u_rsp_before);
    CHECK(u_cs == (SEL_UCODE64 | 3) && u_ss == (SEL_UDATA | 3));
    n = exc_count;
    TRY_IO("mov %w0, %%ds", , "r"(SEL_DATA_NP));
    report_exc(n, "load a not-present data segment");
    expect_exc(n, 11, SEL_DATA_NP, "data segment #NP");

    /* ---- non-canonical RIP and stack ---- */
    /* SDM Vol. 2 JMP/RET, 64-bit mode: #GP(0) if the target is non-canonical;
     * the branch faults, so the saved RIP is the branch's own. */
    extern char jmp_nc[], ret_nc[];
    exc_verbose = 0;   /* QEMU deviates (faults at the target): address-free */
    n = exc_count;
    TRY_IO("jmp_nc: jmp *%0", , "r"(NONCANON));
    report_exc(n, "jmp to a non-canonical rip");
    expect_exc(n, 13, 0, "jmp non-canonical");
    tprintf("jmp: saved rip is the jmp: %d\n", last_exc.ip == (uintptr_t)jmp_nc);
    if (last_exc.ip != (uintptr_t)jmp_nc)
        check_fail(0, "jmp non-canonical", "saved rip is not the jmp");
    n = exc_count;
    asm volatile("movq %%rsp, %%rbx\n\t" TRY_SET "pushq %0\nret_nc: ret" TRY_CLR "\n\tmovq %%rbx, %%rsp"
                 :: "r"(NONCANON) : "rbx", "memory", "cc");
    report_exc(n, "ret to a non-canonical rip");
    expect_exc(n, 13, 0, "ret non-canonical");
    tprintf("ret: saved rip is the ret: %d\n", last_exc.ip == (uintptr_t)ret_nc);
    if (last_exc.ip != (uintptr_t)ret_nc)
        check_fail(0, "ret non-canonical", "saved rip is not the ret");
    exc_verbose = 1;
    /* #SS for stack references: handled on IST1 (the bad RSP cannot take a frame) */
    tss.ist[1] = (uintptr_t)ist1_stack + sizeof(ist1_stack);
    idt_set_gate(12, isr_stub_addr(12), SEL_KCODE64, 0x8e, 1);
    idt_set_gate(13, isr_stub_addr(13), SEL_KCODE64, 0x8e, 1);
    exc_hook = stack_hook;
    exc_verbose = 0;   /* known QEMU deviation (#GP for #SS): address-free lines */
    n = exc_count;
    asm volatile("movq %%rsp, %%rbx\n\tmovq %%rsp, safe_rsp(%%rip)\n\t" TRY_SET
                 "movq %0, %%rsp; pushq $0" TRY_CLR "\n\tmovq %%rbx, %%rsp"
                 :: "r"(NONCANON + 0x100) : "rbx", "memory", "cc");
    safe_rsp = 0;
    report_exc(n, "push with a non-canonical rsp");
    expect_exc(n, 12, 0, "push non-canonical #SS(0)");
    n = exc_count;
    asm volatile("movq %%rbp, %%rbx\n\t" TRY_SET "movq %0, %%rbp; movq (%%rbp), %%rax" TRY_CLR
                 "\n\tmovq %%rbx, %%rbp"
                 :: "r"(NONCANON + 0x100) : "rbx", "rax", "memory", "cc");
    report_exc(n, "rbp-based access to a non-canonical address");
    expect_exc(n, 12, 0, "rbp non-canonical #SS(0)");
    exc_verbose = 1;
    exc_hook = 0;
    idt_reset(12, 0);
    idt_reset(13, 0);
    return test_result();
}
