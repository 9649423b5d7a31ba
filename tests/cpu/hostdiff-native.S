/*
 * hostdiff native trampoline (x86-64 Linux user space, AT&T syntax).
 *
 * hd_native_enter64 / hd_native_enter32 load RFLAGS and all sixteen GPRs
 * (rSP last) from the HDCtrl block at the fixed address HD_CTRL_ADDR and
 * jump to the sequence: directly in 64-bit mode, or with a far jump through
 * HDC_FAR32 (selector 0x23, Linux's 32-bit user code segment) into
 * compatibility mode.  No register is needed for either jump: both are
 * memory-indirect through absolute disp32 addresses, which 64-bit code can
 * encode because the block sits below 2 GiB.
 *
 * The sequence's epilogue comes back to hd_native_exit (64-bit code: an
 * indirect jump through HDC_EXIT64; 32-bit code: a far jump through
 * HDC_FAR64 to a 64-bit bounce stub in the low code page, which does the
 * same).  hd_native_exit stores every GPR and RFLAGS into HDC_OUT, restores
 * the host stack and returns to the C caller.  A signal instead leaves
 * through the C handler (sigsetjmp/siglongjmp in hostdiff-native.c).
 */
#include "tests/cpu/hostdiff.h"

#define IN(off)  (HD_CTRL_ADDR + HDC_IN + (off))
#define OUT(off) (HD_CTRL_ADDR + HDC_OUT + (off))

    .text

.macro HD_SAVE_HOST
    push %rbx
    push %rbp
    push %r12
    push %r13
    push %r14
    push %r15
    mov %rsp, HD_CTRL_ADDR + HDC_HOST_RSP
    /* The sequence's x87/SSE state; the host's is kept meanwhile. */
    fxsave64 HD_CTRL_ADDR + HDC_FX_HOST
    fxrstor64 HD_CTRL_ADDR + HDC_FX_IN
    /* Compatibility-mode code uses DS/ES: give them Linux's flat user
     * data selector (64-bit processes run with null DS/ES). */
    mov $HD_SEL_DATA, %eax
    mov %eax, %ds
    mov %eax, %es
.endm

.macro HD_LOAD_GUEST
    pushq IN(HDS_RFLAGS)
    popfq
    mov IN(0x00), %rax
    mov IN(0x08), %rcx
    mov IN(0x10), %rdx
    mov IN(0x18), %rbx
    mov IN(0x28), %rbp
    mov IN(0x30), %rsi
    mov IN(0x38), %rdi
    mov IN(0x40), %r8
    mov IN(0x48), %r9
    mov IN(0x50), %r10
    mov IN(0x58), %r11
    mov IN(0x60), %r12
    mov IN(0x68), %r13
    mov IN(0x70), %r14
    mov IN(0x78), %r15
    mov IN(0x20), %rsp
.endm

    .globl hd_native_enter64
    .type hd_native_enter64, @function
hd_native_enter64:
    HD_SAVE_HOST
    HD_LOAD_GUEST
    jmp *IN(HDS_RIP)
    .size hd_native_enter64, . - hd_native_enter64

    .globl hd_native_enter32
    .type hd_native_enter32, @function
hd_native_enter32:
    HD_SAVE_HOST
    HD_LOAD_GUEST
    /* ljmp *(HD_CTRL_ADDR + HDC_FAR32): FF /5, m16:32, SIB absolute */
    .byte 0xff, 0x2c, 0x25
    .long HD_CTRL_ADDR + HDC_FAR32
    .size hd_native_enter32, . - hd_native_enter32

    .globl hd_native_exit
    .type hd_native_exit, @function
hd_native_exit:
    mov %rax, OUT(0x00)
    mov %rcx, OUT(0x08)
    mov %rdx, OUT(0x10)
    mov %rbx, OUT(0x18)
    mov %rsp, OUT(0x20)
    mov %rbp, OUT(0x28)
    mov %rsi, OUT(0x30)
    mov %rdi, OUT(0x38)
    mov %r8, OUT(0x40)
    mov %r9, OUT(0x48)
    mov %r10, OUT(0x50)
    mov %r11, OUT(0x58)
    mov %r12, OUT(0x60)
    mov %r13, OUT(0x68)
    mov %r14, OUT(0x70)
    mov %r15, OUT(0x78)
    fxsave64 HD_CTRL_ADDR + HDC_FX_OUT
    fxrstor64 HD_CTRL_ADDR + HDC_FX_HOST
    mov HD_CTRL_ADDR + HDC_HOST_RSP, %rsp
    pushfq
    popq OUT(HDS_RFLAGS)
    cld
    pop %r15
    pop %r14
    pop %r13
    pop %r12
    pop %rbp
    pop %rbx
    ret
    .size hd_native_exit, . - hd_native_exit

    .section .note.GNU-stack, "", @progbits
