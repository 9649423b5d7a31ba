/*
 * pm-priv: privilege changes in 32-bit protected mode (SDM Vol. 3A 5.8,
 * 6.12): a call gate from ring 3 to ring 0 with a stack switch from the
 * TSS and two parameters copied; INT from ring 3 to a DPL 3 interrupt gate
 * (stack switch, SS:ESP pushed, IF cleared); IRET to ring 3; #GP for
 * privileged instructions and I/O in ring 3 (IOPL 0, I/O bitmap); #GP and
 * #NP error codes naming IDT vectors; SYSENTER/SYSEXIT.
 */
#include "testrom.h"

#define SEL_CALLGATE 0x88
#define SEL_SE_CS    0x60   /* SYSENTER_CS: 0x60 code, 0x68 data, 0x70/0x78 ring 3 */

static volatile uint32_t gate_frame[6], gate_esp, gate_cs;
static volatile uint32_t int_cs, int_ss, int_sp, int_flags, int_handler_esp;
static volatile uint32_t se_cs, se_ss, se_esp, ret_cs, ret_ss, cpl_in_user;

/* Call-gate target: copies the frame the gate built (EIP, CS, P1, P2, ESP, SS). */
extern char gate_fn[];
asm(".text\n"
    "gate_fn:\n"
    "  movl %esp, gate_esp\n"
    "  movl %cs, %eax\n"
    "  movl %eax, gate_cs\n"
    "  movl 0(%esp), %eax\n  movl %eax, gate_frame\n"
    "  movl 4(%esp), %eax\n  movl %eax, gate_frame+4\n"
    "  movl 8(%esp), %eax\n  movl %eax, gate_frame+8\n"
    "  movl 12(%esp), %eax\n movl %eax, gate_frame+12\n"
    "  movl 16(%esp), %eax\n movl %eax, gate_frame+16\n"
    "  movl 20(%esp), %eax\n movl %eax, gate_frame+20\n"
    "  lret $8\n");

static int int40_hook(struct frame *f)
{
    if (f->vector != 0x40)
        return 0;
    uint32_t esp;
    asm volatile("movl %%esp, %0" : "=r"(esp));
    int_handler_esp = esp;
    int_cs = f->cs;
    int_ss = f->ss;
    int_sp = f->sp;
    int_flags = read_flags();
    f->eax = 0x4040;
    return 1;
}

/* SYSENTER target (ring 0): records, then SYSEXIT to EDX with ESP = ECX. */
extern char sysenter_entry[];
asm(".text\n"
    "sysenter_entry:\n"
    "  movl %cs, %eax\n  movl %eax, se_cs\n"
    "  movl %ss, %eax\n  movl %eax, se_ss\n"
    "  movl %esp, se_esp\n"
    "  movl $0x5e5e, %eax\n"
    "  sysexit\n");

static __attribute__((noinline)) void user_part(void)
{
    uint32_t cs, ss, r, n;
    asm volatile("mov %%cs, %0" : "=r"(cs));
    cpl_in_user = cs & 3;

    /* call gate with two parameters */
    asm volatile("pushl $0x22222222\n\t"
                 "pushl $0x11111111\n\t"
                 "lcall %0, $0\n\t"
                 :: "i"(SEL_CALLGATE | 3) : "eax", "memory");

    /* INT to a DPL 3 interrupt gate */
    asm volatile("int $0x40" : "=a"(r) : "a"(0) : "memory");
    tprintf("int 0x40 returned eax=%x\n", r);

    /* privileged instructions and I/O in ring 3 */
    static const char *names[] = { "hlt", "cli", "mov cr0", "in 0x60", "int 0x41 (DPL 0)", "int 0x42 (not present)" };
    for (int i = 0; i < 6; i++) {
        n = exc_count;
        exc_verbose = 0;
        switch (i) {
        case 0: TRY("hlt"); break;
        case 1: TRY("cli"); break;
        case 2: TRY_CLOB("movl %%cr0, %%eax", "eax"); break;
        case 3: TRY_CLOB("inb $0x60, %%al", "eax"); break;
        case 4: TRY("int $0x41"); break;
        case 5: TRY("int $0x42"); break;
        }
        exc_verbose = 1;
        report_exc(n, names[i]);
    }
    CHECK(last_exc.vector == 11 && last_exc.error == 0x42 * 8 + 2);

    /* SYSENTER / SYSEXIT */
    asm volatile("movl %%esp, %%ecx\n\t"
                 "movl $1f, %%edx\n\t"
                 "sysenter\n"
                 "1:\n\t"
                 "movl %%cs, %1\n\t"
                 "movl %%ss, %2\n\t"
                 : "=a"(r), "=r"(cs), "=r"(ss) :: "ecx", "edx", "memory");
    ret_cs = cs;
    ret_ss = ss;
    /* back to the flat user stack segment for the rest */
    asm volatile("mov %0, %%ss" :: "r"(SEL_UDATA | 3));
    user_exit();
}

int main(void)
{
    /* call gate: DPL 3, target ring-0 code, 2 dword parameters */
    uint32_t off = (uint32_t)(uintptr_t)gate_fn;
    gdt[SEL_CALLGATE >> 3] = (off & 0xffff) | ((uint64_t)SEL_KCODE32 << 16) |
                             ((uint64_t)2 << 32) | ((uint64_t)0xec << 40) |
                             ((uint64_t)(off >> 16) << 48);
    idt_set_gate(0x40, isr_stub_addr(0x40), SEL_KCODE32, 0xee, 0);
    idt_set_gate(0x41, isr_stub_addr(0x41), SEL_KCODE32, 0x8e, 0);   /* DPL 0 */
    idt_set_gate(0x42, isr_stub_addr(0x42), SEL_KCODE32, 0x6e, 0);   /* DPL 3, P=0 */
    gdt_set(SEL_SE_CS, 0, 0xfffff, 0x9b, 0xc);
    gdt_set(SEL_SE_CS + 8, 0, 0xfffff, 0x93, 0xc);
    gdt_set(SEL_SE_CS + 16, 0, 0xfffff, 0xfb, 0xc);
    gdt_set(SEL_SE_CS + 24, 0, 0xfffff, 0xf3, 0xc);
    wrmsr(MSR_SYSENTER_CS, SEL_SE_CS);
    wrmsr(MSR_SYSENTER_ESP, (uintptr_t)kstack_top - 256);
    wrmsr(MSR_SYSENTER_EIP, (uintptr_t)sysenter_entry);
    exc_hook = int40_hook;
    asm volatile("sti");              /* IF=1 in ring 3; the gates clear it */
    user_call(user_part, ustack_top);
    asm volatile("cli");
    exc_hook = 0;

    uint32_t k = (uint32_t)(uintptr_t)kstack_top;
    tprintf("user cpl=%u\n", cpl_in_user);
    tprintf("call gate: cs=%04x ret cs=%04x p1=%08x p2=%08x user ss=%04x esp=kstack-%u\n",
            gate_cs, gate_frame[1], gate_frame[2], gate_frame[3], gate_frame[5], k - gate_esp);
    CHECK(cpl_in_user == 3);
    CHECK(gate_cs == SEL_KCODE32 && gate_frame[1] == (SEL_UCODE32 | 3));
    CHECK(gate_frame[2] == 0x11111111 && gate_frame[3] == 0x22222222, "parameters copied in order");
    CHECK(gate_frame[5] == (SEL_UDATA | 3) && gate_esp == k - 24, "new stack from TSS.ESP0");
    tprintf("int 0x40: cs=%04x ss=%04x if-in-handler=%u handler-on-kstack=%s\n",
            int_cs, int_ss, (int_flags >> 9) & 1,
            int_handler_esp < k && int_handler_esp > k - 4096 ? "yes" : "no");
    CHECK(int_cs == (SEL_UCODE32 | 3) && int_ss == (SEL_UDATA | 3));
    CHECK(!(int_flags & EFLAGS_IF), "interrupt gate clears IF");
    tprintf("sysenter: cs=%04x ss=%04x esp=kstack-%u; sysexit: cs=%04x ss=%04x\n",
            se_cs, se_ss, k - se_esp, ret_cs, ret_ss);
    CHECK(se_cs == SEL_SE_CS && se_ss == SEL_SE_CS + 8 && se_esp == k - 256);
    CHECK(ret_cs == ((SEL_SE_CS + 16) | 3) && ret_ss == ((SEL_SE_CS + 24) | 3));
    return test_result();
}
