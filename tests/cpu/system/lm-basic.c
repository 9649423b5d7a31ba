/*
 * lm-basic: long mode as start.S leaves it (identity map, CS 0x18), RIP-
 * relative addressing, a 64-bit IDT with an IST stack, and compatibility
 * mode (a 32-bit code segment under long mode: far call there and back,
 * 32-bit wrap-around of ESP/EIP arithmetic, #UD of a 64-bit-only form).
 */
#include "testrom.h"

static volatile uint64_t rip_target = 0x1122334455667788ULL;
static uint8_t ist_stack[4096] __attribute__((aligned(16)));
static volatile uint64_t seen_rsp;

/* #BP handler on IST1: records the RSP it runs on. */
static int bp_hook(struct frame *f)
{
    if (f->vector != 3)
        return 0;
    uint64_t rsp;
    asm volatile("mov %%rsp, %0" : "=r"(rsp));
    seen_rsp = rsp;
    tprintf("bp on ist: %s, saved rip=%llx cs=%llx ss=%llx\n",
            rsp > (uintptr_t)ist_stack && rsp <= (uintptr_t)ist_stack + sizeof(ist_stack) ? "yes" : "no",
            f->ip, f->cs, f->ss);
    return 1;
}

/* Compatibility-mode code: far-called from 64-bit mode through SEL_KCODE32. */
extern char compat_entry[], compat_ret[];
asm(".code32\n"
    "compat_entry:\n"
    "  movl $0xffffffff, %eax\n"
    "  addl $2, %eax\n"           /* 32-bit wrap: eax = 1, CF=1 */
    "  pushfl\n"
    "  popl %ebx\n"
    "  movl $0x12345678, %ecx\n"
    "  lret\n"
    ".code64\n");

int main(void)
{
    uint64_t cr0 = READ_CR(0), cr4 = READ_CR(4), efer = rdmsr(MSR_EFER);
    uint16_t cs;
    asm volatile("mov %%cs, %0" : "=r"(cs));
    tprintf("cs=%04x cr0.pg=%u cr4.pae=%u efer.lme=%u efer.lma=%u\n", cs,
            !!(cr0 & CR0_PG), !!(cr4 & CR4_PAE), !!(efer & EFER_LME), !!(efer & 0x400));
    CHECK(cs == SEL_KCODE64);
    CHECK(efer & 0x400, "EFER.LMA set in long mode");

    /* RIP-relative load and LEA */
    uint64_t v, addr;
    asm volatile("movq rip_target(%%rip), %0; leaq rip_target(%%rip), %1" : "=r"(v), "=r"(addr));
    tprintf("rip-relative: value=%016llx addr=%llx\n", v, addr);
    CHECK(v == 0x1122334455667788ULL && addr == (uintptr_t)&rip_target);

    /* 64-bit operand defaults and zero-extension of 32-bit writes */
    uint64_t z = 0xffffffffffffffffULL;
    asm volatile("movl $5, %k0" : "+r"(z));
    tprintf("32-bit write zero-extends: %016llx\n", z);
    CHECK(z == 5);

    /* IST: #BP through an IST1 gate */
    tss.ist[1] = (uintptr_t)ist_stack + sizeof(ist_stack);
    idt_set_gate(3, isr_stub_addr(3), SEL_KCODE64, 0x8e, 1);
    exc_hook = bp_hook;
    asm volatile("int3");
    exc_hook = 0;
    CHECK(seen_rsp > (uintptr_t)ist_stack && seen_rsp <= (uintptr_t)ist_stack + sizeof(ist_stack));

    /* Compatibility mode: lcall to a 32-bit code segment (stack holds a
     * 32-bit far return frame, so push it by hand). */
    uint64_t a, b, c;
    asm volatile(
        "movq %%rsp, %%r12\n\t"
        "subq $8, %%rsp\n\t"
        "movl $1f, (%%rsp)\n\t"
        "movl $%c[cs64], 4(%%rsp)\n\t"
        "pushq $%c[cs32]\n\t"
        "pushq $compat_entry\n\t"
        "lretq\n"
        "1:\n\t"
        "movq %%r12, %%rsp"
        : "=a"(a), "=b"(b), "=c"(c)
        : [cs64] "i"(SEL_KCODE64), [cs32] "i"(SEL_KCODE32)
        : "r12", "memory", "cc");
    tprintf("compat: eax=%llx flags.cf=%llu ecx=%llx\n", a, b & 1, c);
    CHECK(a == 1 && (b & 1) && c == 0x12345678);

    /* 64-bit-only encodings fault outside 64-bit mode; in 64-bit mode the
     * one-byte INC opcode 0x40 is a REX prefix: 0x48 0xff 0xc0 = inc rax. */
    uint32_t n = exc_count;
    TRY("ud2");
    expect_exc(n, 6, -1, "ud2");
    return test_result();
}
