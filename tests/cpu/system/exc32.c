/*
 * exc32: exception delivery in 32-bit protected mode (SDM Vol. 3A ch. 6):
 * vector, error code, and fault (EIP of the instruction) vs trap (EIP
 * after it) for #DE, #DB single-step (TF, DR6.BS), #BP, #OF, #BR, #UD, #NM
 * (CR0.TS and CR0.EM), #GP(0) from MOV CR0, #DF from a #GP whose gate is
 * not present, #AC (CR0.AM + EFLAGS.AC in ring 3), and priorities: a
 * faulting instruction under TF reports the fault, not the trap.
 */
#include "testrom.h"

static volatile uint32_t db_count, db_dr6, db_ip;

static int db_hook(struct frame *f)
{
    if (f->vector != 1)
        return 0;
    uint32_t dr6;
    asm volatile("mov %%db6, %0" : "=r"(dr6));
    db_count++;
    db_dr6 = dr6;
    db_ip = f->ip;
    f->flags &= ~EFLAGS_TF;
    asm volatile("mov %0, %%db6" :: "r"(0u));
    return 1;
}

extern char ss_after[], ss_insn[];

static void test_single_step(void)
{
    exc_hook = db_hook;
    asm volatile("mov %0, %%db6" :: "r"(0u));
    asm volatile("pushfl\n\t"
                 "orl $0x100, (%%esp)\n\t"
                 "popfl\n\t"            /* TF now set: trap after the next insn */
                 "ss_insn: nop\n"
                 "ss_after: nop\n\t"
                 ::: "memory", "cc");
    exc_hook = 0;
    tprintf("single step: %u #DB, dr6.bs=%u, at insn+1=%s\n", db_count,
            (db_dr6 >> 14) & 1, db_ip == (uintptr_t)ss_after ? "yes" : "no");
    CHECK(db_count == 1 && (db_dr6 & 0x4000) && db_ip == (uintptr_t)ss_after);
}

static void test_simple(void)
{
    uint32_t n;

    n = exc_count;
    TRY_IO("divl %1", , "a"(1), "r"(0), "d"(0));
    expect_exc(n, 0, -1, "#DE");

    n = exc_count;
    TRY("int3");
    expect_exc(n, 3, -1, "#BP");

    n = exc_count;
    TRY_IO("addl $1, %0\n\tinto", , "r"(0x7fffffff));
    expect_exc(n, 4, -1, "#OF");
    n = exc_count;
    TRY_IO("addl $1, %0\n\tinto", , "r"(0x10));
    expect_no_exc(n, "INTO without OF");

    static int32_t bounds[2] = { 10, 20 };
    n = exc_count;
    TRY_IO("boundl %0, %1", , "r"(15), "m"(bounds));
    expect_no_exc(n, "BOUND in range");
    n = exc_count;
    TRY_IO("boundl %0, %1", , "r"(21), "m"(bounds));
    expect_exc(n, 5, -1, "#BR");

    n = exc_count;
    TRY("ud2");
    expect_exc(n, 6, -1, "#UD ud2");
    n = exc_count;
    TRY(".byte 0xf0, 0x90");          /* LOCK NOP */
    expect_exc(n, 6, -1, "#UD lock nop");

    ureg cr0 = READ_CR(0);
    WRITE_CR(0, (cr0 & ~CR0_EM) | CR0_TS | CR0_MP);
    n = exc_count;
    TRY("fnop");
    expect_exc(n, 7, -1, "#NM with CR0.TS");
    n = exc_count;
    TRY("wait");
    expect_exc(n, 7, -1, "#NM wait with TS and MP");
    WRITE_CR(0, (cr0 & ~CR0_TS) | CR0_EM);
    n = exc_count;
    TRY("fnop");
    expect_exc(n, 7, -1, "#NM with CR0.EM");
    WRITE_CR(0, cr0 & ~(CR0_TS | CR0_EM));
    asm volatile("fninit");
    n = exc_count;
    TRY("fnop");
    expect_no_exc(n, "fnop with TS=EM=0");

    n = exc_count;
    TRY("ljmp $0, $0");
    expect_exc(n, 13, 0, "#GP(0): far jump to the null selector");
}

static void test_double_fault(void)
{
    /* #DE whose IDT gate is not present: the #NP raised while delivering a
     * contributory exception becomes #DF(0) (SDM 3A Table 6-5). */
    idt_set_gate(0, isr_stub_addr(0), SEL_KCODE32, 0x0e, 0);   /* P=0 */
    uint32_t n = exc_count;
    TRY_IO("divl %1", , "a"(1), "r"(0), "d"(0));
    idt_reset(0, 0);
    expect_exc(n, 8, 0, "#DF from #DE with a not-present gate");
    /* A not-present gate for a benign exception (#BP) is just #NP. */
    idt_set_gate(3, isr_stub_addr(3), SEL_KCODE32, 0x0e, 0);
    n = exc_count;
    TRY("int3");
    idt_reset(3, 3);
    expect_exc(n, 11, 3 * 8 + 2, "#NP(IDT vector 3) for int3");
    /* Same with a gate beyond the IDT limit isn't tested: the IDT is full. */
}

static void test_priority(void)
{
    /* TF set on an instruction that faults: the fault is taken, the
     * single-step trap is not (the instruction did not complete). */
    db_count = 0;
    exc_hook = db_hook;
    uint32_t n = exc_count;
    TRY("pushfl\n\torl $0x100, (%%esp)\n\tpopfl\n\tud2");
    /* recovery IRETs with TF still set in the frame: clear it, and absorb
     * the #DB that follows the next instruction */
    asm volatile("pushfl\n\tandl $~0x100, (%%esp)\n\tpopfl" ::: "memory", "cc");
    exc_hook = 0;
    /* The IRET to the recovery label restores TF=1: one #DB follows the
     * first instruction there (SDM 3A 17.3.1.4). */
    tprintf("ud2 under TF: #UD seen=%s, single-step traps after recovery=%u\n",
            exc_count == n + 1 && last_exc.vector == 6 ? "yes" : "no", db_count);
    CHECK(exc_count == n + 1 && last_exc.vector == 6);
    CHECK(db_count == 1);
}

static volatile uint32_t ac_data[4];

static void user_ac(void)
{
    uint32_t n = exc_count;
    uint32_t v;
    /* aligned access with AC on: fine */
    TRY_IO("pushfl\n\torl $0x40000, (%%esp)\n\tpopfl\n\tmovl (%1), %0", "=r"(v), "r"(&ac_data[0]));
    expect_no_exc(n, "aligned access with AC");
    exc_verbose = 0;   /* QEMU does not implement #AC: address-free line */
    TRY_IO("movl 1(%1), %0", "=r"(v), "r"(&ac_data[0]));
    report_exc(n, "misaligned dword in ring 3 with AM+AC");
    expect_exc(n, 17, 0, "#AC misaligned dword in ring 3");
    exc_verbose = 1;
    asm volatile("pushfl\n\tandl $~0x40000, (%%esp)\n\tpopfl" ::: "memory", "cc");
    n = exc_count;
    TRY_IO("movl 1(%1), %0", "=r"(v), "r"(&ac_data[0]));
    expect_no_exc(n, "misaligned with AC clear");
    user_exit();
}

int main(void)
{
    test_simple();
    test_single_step();
    test_double_fault();
    test_priority();
    WRITE_CR(0, READ_CR(0) | CR0_AM);
    user_call(user_ac, ustack_top);
    WRITE_CR(0, READ_CR(0) & ~CR0_AM);
    return test_result();
}
