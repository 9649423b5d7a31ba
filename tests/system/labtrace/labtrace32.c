/*
 * labtrace32: a bare-metal image (tests/testrom) that makes the control
 * transfers and port accesses -d int, -d pcall and -d ioport describe,
 * and prints, as "expect ..." lines, what it set up for each: selectors,
 * vectors, gate and handler addresses, the stacks the SDM says the CPU
 * switches to, ports and values (tests/system/labtrace.sh compares them
 * with vx86's log).
 *   - ring 3 -> ring 0 through a 32-bit call gate (DPL 3, 2 parameters),
 *     back with LRET 8 (a return to an outer ring);
 *   - INT 0x41 from ring 3 through an interrupt gate of DPL 3;
 *   - a #GP(0x10) in ring 3 (loading DS with the ring-0 data selector);
 *   - CALL to a TSS descriptor (task switch by CALL), IRET back (by IRET);
 *   - INT 0x42 through a task gate (task switch by INT), IRET back;
 *   - JMP to a TSS descriptor and JMP back (task switches by JMP);
 *   - a ring-0 far JMP through a call gate of DPL 0 (its target leaves
 *     with a direct far JMP back to the flat code segment);
 *   - a direct far CALL (no gate) into a second ring-0 code segment and
 *     the far RET back (same ring, same stack);
 *   - SYSENTER from ring 3 (SYSENTER_CS/ESP/EIP set here) and SYSEXIT
 *     back (CS = SYSENTER_CS + 16, SS = + 24, EIP = EDX, ESP = ECX);
 *   - OUT/IN on port 0x80, the debug console, an unassigned port;
 *   - a loop in ring 3 whose block runs a known number of times (-d exec).
 * All addresses are flat (no paging): linear = offset.
 */
#include "testrom.h"

#define SEL_GATE   SEL_FREE            /* 0x60: 32-bit call gate, DPL 3 */
#define SEL_TSS2   (SEL_FREE + 0x08)   /* 0x68: task reached by CALL */
#define SEL_TSS3   (SEL_FREE + 0x10)   /* 0x70: task reached through a task gate */
#define SEL_TSS4   (SEL_FREE + 0x18)   /* 0x78: task reached and left by JMP */
#define SEL_GATE0  (SEL_FREE + 0x20)   /* 0x80: 32-bit call gate, DPL 0, for JMP */
#define SEL_CODE2  (SEL_FREE + 0x28)   /* 0x88: a second flat ring-0 code segment */
#define VEC_USER   0x41                /* interrupt gate, DPL 3 */
#define VEC_TASK   0x42                /* task gate to SEL_TSS3 */
#define GATE_PARAMS 2
#define PARAM_A    0x1234abcd
#define PARAM_B    0x5678ef01
#define PORT_POST  0x80
#define POST_VALUE 0xa5
#define PORT_NONE  0x0ee0              /* no PC device decodes it */
#define NONE_VALUE 0xbeef
#define EXEC_LOOPS 5
/* an address as tprintf's %x takes it */
#define A(x) ((uint32_t)(uintptr_t)(x))
#define STR(x) #x
#define XSTR(x) STR(x)

static struct tss_seg tss2, tss3, tss4 __attribute__((aligned(128)));
static uint8_t task_stack2[1024] __attribute__((aligned(16)));
static uint8_t task_stack3[1024] __attribute__((aligned(16)));
static uint8_t task_stack4[1024] __attribute__((aligned(16)));

/* Written by the code below (asm): what the transfers saw. */
volatile uint32_t user_esp_lcall, user_esp_int, gate_esp, gate_p0, gate_p1, task_runs;
volatile uint32_t user_esp_sysenter, sysenter_runs;
static uint8_t sysenter_stack[512] __attribute__((aligned(16)));

extern uint8_t user_prog[], user_prog_end[], lcall_site[], lcall_ret[], int_site[],
    gp_site[], exec_loop[], gate_target[], lret_site[], task_entry[], task_iret[], tcall_site[],
    tcall_ret[], tint_site[], task4_entry[], task4_jmp[], tjmp_site[], tjmp_ret[],
    gjmp_site[], gjmp_target[], gjmp_ret[], user_sys[], user_sys_end[], sysenter_site[],
    sysenter_entry[], sysexit_site[], sysexit_ret[], fcall_site[], fcall_target[], fcall_ret[],
    fret_site[];

asm(".text\n"
    /* ring 3 */
    "user_prog:\n"
    "    pushl $" XSTR(PARAM_A) "\n"
    "    pushl $" XSTR(PARAM_B) "\n"
    "    movl %esp, user_esp_lcall\n"
    "lcall_site:\n"
    "    lcall $(" XSTR(SEL_GATE) " | 3), $0\n"
    "lcall_ret:\n"
    "    movl %esp, user_esp_int\n"
    "int_site:\n"
    "    int $" XSTR(VEC_USER) "\n"
    "    movl $gp_resume, recover_ip\n"
    "    movw $" XSTR(SEL_KDATA) ", %ax\n"
    "gp_site:\n"
    "    movw %ax, %ds\n"
    "gp_resume:\n"
    "    movl $0, recover_ip\n"
    /* a loop: the block at exec_loop runs EXEC_LOOPS - 1 times (the first
     * pass belongs to the block before it) */
    "    movl $" XSTR(EXEC_LOOPS) ", %ecx\n"
    "exec_loop:\n"
    "    decl %ecx\n"
    "    jnz exec_loop\n"
    "    movl $0x600d, %eax\n"
    "    int $" XSTR(USER_RETURN_VECTOR) "\n"
    "user_prog_end:\n"
    /* ring 0, entered through the call gate */
    "gate_target:\n"
    "    movl %esp, gate_esp\n"
    "    movl 8(%esp), %eax\n"
    "    movl %eax, gate_p0\n"
    "    movl 12(%esp), %eax\n"
    "    movl %eax, gate_p1\n"
    "lret_site:\n"
    "    lret $(4 * " XSTR(GATE_PARAMS) ")\n"
    /* the other tasks: count, return to the caller task, again on reuse */
    "task_entry:\n"
    "    incl task_runs\n"
    "task_iret:\n"
    "    iret\n"
    "    jmp task_entry\n"
    /* a task left by JMP back to the first one (no link, no NT) */
    "task4_entry:\n"
    "    incl task_runs\n"
    "task4_jmp:\n"
    "    ljmp $" XSTR(SEL_TSS) ", $0\n"
    "    jmp task4_entry\n"
    /* reached by the far JMP through the DPL-0 call gate */
    "gjmp_target:\n"
    "    ljmp $" XSTR(SEL_KCODE32) ", $gjmp_ret\n"
    /* ring 3: SYSENTER with the return EIP in EDX and ESP in ECX (the
     * convention SYSEXIT takes them back by) */
    "user_sys:\n"
    "    movl $sysexit_ret, %edx\n"
    "    movl %esp, %ecx\n"
    "    movl %esp, user_esp_sysenter\n"
    "sysenter_site:\n"
    "    sysenter\n"
    "sysexit_ret:\n"
    "    movl $0x5ee, %eax\n"
    "    int $" XSTR(USER_RETURN_VECTOR) "\n"
    "user_sys_end:\n"
    /* ring 0 from SYSENTER: count, straight back */
    "sysenter_entry:\n"
    "    incl sysenter_runs\n"
    "sysexit_site:\n"
    "    sysexit\n"
    /* reached by a direct far CALL in the second code segment */
    "fcall_target:\n"
    "fret_site:\n"
    "    lret\n");

static void tss_init(struct tss_seg *t, uint8_t *stack_top)
{
    memset(t, 0, sizeof(*t));
    t->eip = (uintptr_t)task_entry;
    t->eflags = 0x2;
    t->esp = (uintptr_t)stack_top;
    t->cs = SEL_KCODE32;
    t->ss = t->ds = t->es = t->fs = t->gs = SEL_KDATA;
    t->cr3 = (uint32_t)READ_CR(3);
    t->trap_iomap = (uint32_t)sizeof(*t) << 16;   /* no I/O bitmap */
}

static int user_vector_hook(struct frame *f)
{
    return f->vector == VEC_USER;   /* nothing to do: IRET back to ring 3 */
}

/* A 32-bit call gate (type 12) to off in the ring-0 code segment. */
static void call_gate(int sel, void *target, int dpl, int params)
{
    uint32_t off = (uintptr_t)target;
    gdt[sel >> 3] = (off & 0xffff) | ((uint64_t)SEL_KCODE32 << 16) |
                    ((uint64_t)(0x80 | dpl << 5 | 12) << 40) | ((uint64_t)params << 32) |
                    ((uint64_t)(off >> 16) << 48);
}

static void gates_and_tasks(void)
{
    call_gate(SEL_GATE, gate_target, 3, GATE_PARAMS);
    call_gate(SEL_GATE0, gjmp_target, 0, 0);
    tss_init(&tss2, task_stack2 + sizeof(task_stack2));
    tss_init(&tss3, task_stack3 + sizeof(task_stack3));
    tss_init(&tss4, task_stack4 + sizeof(task_stack4));
    tss4.eip = (uintptr_t)task4_entry;
    gdt_set(SEL_TSS2, (uintptr_t)&tss2, sizeof(tss2) - 1, 0x89, 0);
    gdt_set(SEL_TSS3, (uintptr_t)&tss3, sizeof(tss3) - 1, 0x89, 0);
    gdt_set(SEL_TSS4, (uintptr_t)&tss4, sizeof(tss4) - 1, 0x89, 0);
    gdt_set(SEL_CODE2, 0, 0xfffff, 0x9a, 0xc);       /* flat 32-bit code, DPL 0 */
    idt_reset(VEC_USER, 3);
    idt_set_gate(VEC_TASK, 0, SEL_TSS3, 0x85, 0);   /* task gate, DPL 0 */
    exc_hook = user_vector_hook;
}

static void ports(void)
{
    tprintf("expect out %04x 1 %02x\n", PORT_POST, POST_VALUE);
    outb(PORT_POST, POST_VALUE);
    tprintf("expect out %04x 2 %04x unassigned\n", PORT_NONE, NONE_VALUE);
    outw(PORT_NONE, NONE_VALUE);
    uint16_t none = inw(PORT_NONE);
    uint8_t back = inb(DEBUGCON_PORT);
    /* the values read come from the board (all ones: nothing drives the
     * bus; isa-debugcon's readback 0xe9): the log must show the same */
    tprintf("expect in %04x 2 %04x unassigned\n", PORT_NONE, none);
    tprintf("expect in %04x 1 %02x debugcon\n", DEBUGCON_PORT, back);
    CHECK(none == 0xffff);
    CHECK(back == 0xe9);
}

int main(void)
{
    gates_and_tasks();
    ports();

    uint32_t eax = (uint32_t)user_call((void (*)(void))user_prog, ustack_top);
    CHECK(eax == 0x600d);
    CHECK(gate_p0 == PARAM_B && gate_p1 == PARAM_A, "%x %x", gate_p0, gate_p1);
    /* SDM 3A 5.8.5: SS, ESP, the parameters, CS, EIP on the TSS's ring-0 stack */
    uint32_t esp0 = A(kstack_top) - 4 * (4 + GATE_PARAMS);
    CHECK(gate_esp == esp0, "%x", gate_esp);
    tprintf("expect lcall gate=%04x dpl=3 params=%d site=%08x target=%04x:%08x "
            "stack=%04x:%08x->%04x:%08x\n", SEL_GATE | 3, GATE_PARAMS, A(lcall_site),
            SEL_KCODE32, A(gate_target), SEL_UDATA | 3, user_esp_lcall, SEL_KDATA, esp0);
    tprintf("expect lret site=%08x target=%04x:%08x stack=%04x:%08x->%04x:%08x\n",
            A(lret_site), SEL_UCODE32 | 3, A(lcall_ret), SEL_KDATA, esp0,
            SEL_UDATA | 3, user_esp_lcall + 4 * GATE_PARAMS);
    /* SDM 3A 6.12.1: SS, ESP, EFLAGS, CS, EIP on the ring-0 stack */
    tprintf("expect int vec=%02x dpl=3 site=%04x:%08x target=%04x:%08x "
            "stack=%04x:%08x->%04x:%08x\n", VEC_USER, SEL_UCODE32 | 3, A(int_site),
            SEL_KCODE32, A(isr_stub_addr(VEC_USER)), SEL_UDATA | 3, user_esp_int,
            SEL_KDATA, A(kstack_top) - 20);
    tprintf("expect gp vec=0d err=%04x site=%04x:%08x\n", SEL_KDATA, SEL_UCODE32 | 3,
            A(gp_site));
    tprintf("expect userrange %08x %08x\n", A(user_prog), A(user_prog_end) - 1);
    tprintf("expect execloop %x %d\n", A(exec_loop), EXEC_LOOPS - 1);

    asm volatile("tcall_site: lcall $" XSTR(SEL_TSS2) ", $0\ntcall_ret:" ::: "memory");
    CHECK(task_runs == 1);
    tprintf("expect task CALL from=%04x to=%04x base=%08x site=%08x target=%08x link=%04x\n",
            SEL_TSS, SEL_TSS2, A(&tss2), A(tcall_site), A(task_entry),
            SEL_TSS);
    tprintf("expect task IRET from=%04x to=%04x base=%08x site=%08x target=%08x link=0000\n",
            SEL_TSS2, SEL_TSS, A(&tss_io), A(task_iret), A(tcall_ret));

    asm volatile("tint_site: int $" XSTR(VEC_TASK) ::: "memory");
    CHECK(task_runs == 2);
    tprintf("expect taskgate vec=%02x tss=%04x site=%08x\n", VEC_TASK, SEL_TSS3,
            A(tint_site));
    tprintf("expect task INT from=%04x to=%04x base=%08x site=%08x target=%08x link=%04x\n",
            SEL_TSS, SEL_TSS3, A(&tss3), A(tint_site), A(task_entry),
            SEL_TSS);

    asm volatile("tjmp_site: ljmp $" XSTR(SEL_TSS4) ", $0\ntjmp_ret:" ::: "memory");
    CHECK(task_runs == 3);
    tprintf("expect task JMP from=%04x to=%04x base=%08x site=%08x target=%08x link=0000\n",
            SEL_TSS, SEL_TSS4, A(&tss4), A(tjmp_site), A(task4_entry));
    tprintf("expect task JMP from=%04x to=%04x base=%08x site=%08x target=%08x link=0000\n",
            SEL_TSS4, SEL_TSS, A(&tss_io), A(task4_jmp), A(tjmp_ret));

    asm volatile("gjmp_site: ljmp $" XSTR(SEL_GATE0) ", $0\n.globl gjmp_ret\ngjmp_ret:" ::: "memory");
    tprintf("expect ljmp gate=%04x dpl=0 params=0 site=%08x target=%04x:%08x\n", SEL_GATE0,
            A(gjmp_site), SEL_KCODE32, A(gjmp_target));
    /* the target's own far JMP (no gate) back to the flat code segment */
    tprintf("expect direct insn=ljmp from=%04x:%08x to=%04x:%08x cpl=0->0 stack=same\n",
            SEL_KCODE32, A(gjmp_target), SEL_KCODE32, A(gjmp_ret));

    /* a direct far CALL into SEL_CODE2 and its far RET (same ring) */
    asm volatile("fcall_site: lcall $" XSTR(SEL_CODE2) ", $fcall_target\nfcall_ret:" ::: "memory");
    tprintf("expect direct insn=lcall from=%04x:%08x to=%04x:%08x cpl=0->0 stack=same\n",
            SEL_KCODE32, A(fcall_site), SEL_CODE2, A(fcall_target));
    tprintf("expect direct insn=lret from=%04x:%08x to=%04x:%08x cpl=0->0 stack=same\n",
            SEL_CODE2, A(fret_site), SEL_KCODE32, A(fcall_ret));

    /* SYSENTER from ring 3, SYSEXIT back (SDM 2B SYSENTER/SYSEXIT): the
     * kernel's CS/SS are SYSENTER_CS and + 8, the user's + 16 and + 24 */
    wrmsr(MSR_SYSENTER_CS, SEL_KCODE32);
    wrmsr(MSR_SYSENTER_ESP, A(sysenter_stack + sizeof(sysenter_stack)));
    wrmsr(MSR_SYSENTER_EIP, A(sysenter_entry));
    uint32_t sys = (uint32_t)user_call((void (*)(void))user_sys, ustack_top);
    CHECK(sys == 0x5ee && sysenter_runs == 1, "%x %d", sys, sysenter_runs);
    uint32_t kesp = A(sysenter_stack + sizeof(sysenter_stack));
    tprintf("expect direct insn=sysenter from=%04x:%08x to=%04x:%08x cpl=3->0 "
            "stack=%04x:%08x->%04x:%08x\n", SEL_UCODE32 | 3, A(sysenter_site), SEL_KCODE32,
            A(sysenter_entry), SEL_UDATA | 3, user_esp_sysenter, SEL_KCODE32 + 8, kesp);
    tprintf("expect direct insn=sysexit from=%04x:%08x to=%04x:%08x cpl=0->3 "
            "stack=%04x:%08x->%04x:%08x\n", SEL_KCODE32, A(sysexit_site),
            (SEL_KCODE32 + 16) | 3, A(sysexit_ret), SEL_KCODE32 + 8, kesp,
            (SEL_KCODE32 + 24) | 3, user_esp_sysenter);
    return test_result();
}
