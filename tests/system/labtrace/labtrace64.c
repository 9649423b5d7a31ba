/*
 * labtrace64: a bare-metal 64-bit image (tests/testrom) for the -d pcall
 * lines of SYSCALL and SYSRET (tests/system/labtrace.sh): ring 3 makes a
 * SYSCALL, the ring-0 entry returns at once with SYSRETQ.  It prints, as
 * "expect direct ..." lines, what the SDM (2B SYSCALL/SYSRET) says the
 * CPU loads from the MSRs it set here: CS = STAR[47:32] and SS = CS + 8
 * on the way in, RIP = LSTAR, RSP unchanged; CS = STAR[63:48] + 16 and
 * SS = STAR[63:48] + 8 (RPL 3) on the way out, RIP = RCX.
 */
#include "testrom.h"

#define A(x) ((unsigned long long)(uintptr_t)(x))
#define STR(x) #x
#define XSTR(x) STR(x)

volatile uint64_t user_rsp_syscall, syscall_runs;

extern uint8_t user_sc[], syscall_site[], syscall_ret[], syscall_entry[], sysret_site[];

asm(".text\n"
    /* ring 3 */
    "user_sc:\n"
    "    movq %rsp, user_rsp_syscall(%rip)\n"
    "syscall_site:\n"
    "    syscall\n"
    "syscall_ret:\n"
    "    movl $0x5c, %eax\n"
    "    int $" XSTR(USER_RETURN_VECTOR) "\n"
    /* ring 0 on the user's stack (SYSCALL does not switch it) */
    "syscall_entry:\n"
    "    incq syscall_runs(%rip)\n"
    "sysret_site:\n"
    "    sysretq\n");

int main(void)
{
    uint16_t kcs = SEL_KCODE64, ubase = SEL_UCODE32 | 3;
    wrmsr(MSR_STAR, ((uint64_t)ubase << 48) | ((uint64_t)kcs << 32));
    wrmsr(MSR_LSTAR, A(syscall_entry));
    wrmsr(MSR_FMASK, EFLAGS_IF);
    wrmsr(MSR_EFER, rdmsr(MSR_EFER) | EFER_SCE);
    uint64_t r = user_call((void (*)(void))user_sc, ustack_top);
    CHECK(r == 0x5c && syscall_runs == 1, "%llx %llu", (unsigned long long)r,
          (unsigned long long)syscall_runs);
    tprintf("expect direct insn=syscall from=%04x:%016llx to=%04x:%016llx cpl=3->0 "
            "stack=%04x:%016llx->%04x:%016llx\n", SEL_UCODE64 | 3, A(syscall_site), kcs,
            A(syscall_entry), SEL_UDATA | 3, (unsigned long long)user_rsp_syscall, kcs + 8,
            (unsigned long long)user_rsp_syscall);
    tprintf("expect direct insn=sysretq from=%04x:%016llx to=%04x:%016llx cpl=0->3 "
            "stack=%04x:%016llx->%04x:%016llx\n", kcs, A(sysret_site), (ubase + 16) | 3,
            A(syscall_ret), kcs + 8, (unsigned long long)user_rsp_syscall, (ubase + 8) | 3,
            (unsigned long long)user_rsp_syscall);
    return test_result();
}
