/*
 * vx86 test ROM start-up: reset vector, real mode, switch to flat 32-bit
 * protected mode and (64-bit images) to identity-mapped long mode, the
 * interrupt stubs, and ring-3 entry/exit.  Assembled twice: gcc -m32 for
 * 32-bit images and gcc -m64 for 64-bit images (__x86_64__).
 *
 * Real-mode tests override the weak main16 and use the rm_* helpers:
 *   rm_putc (AL), rm_puts (CS:SI, NUL-terminated), rm_hex32 (EAX),
 *   rm_hex16 (AX), rm_nl, rm_exit (AL = code; does not return).
 * All helpers preserve every register and the flags.
 */
#include "testrom.h"

/* .text16 labels are offsets in segment F000 (see testrom.ld). */
#define LINEAR16(x) ((x) + 0xF0000)

/* ------------------------------------------------------------------ */
    .section .reset, "ax"
    .code16
    .globl reset_vector
reset_vector:
    ljmp $0xf000, $start16
    .fill 16 - (. - reset_vector), 1, 0xf4

/* ------------------------------------------------------------------ */
    .section .text16, "ax"
    .code16
start16:
    cli
    cld
    xorl %eax, %eax
    movw %ax, %ds
    movw %ax, %es
    movw %ax, %ss
    movl $RM_STACK_TOP, %esp
    call main16
    /* main16 returned: continue into protected mode. */
    lgdtl %cs:boot_gdt_desc
    movl %cr0, %eax
    orl $CR0_PE, %eax
    movl %eax, %cr0
    ljmpl $SEL_KCODE32, $start32

    .weak main16
main16:
    ret

/* Real-mode debug console helpers (see the file comment). */
    .globl rm_putc, rm_puts, rm_hex32, rm_hex16, rm_nl, rm_exit
rm_putc:
    pushfw
    pushw %dx
    movw $DEBUGCON_PORT, %dx
    outb %al, %dx
    popw %dx
    popfw
    ret

rm_puts:
    pushfw
    pushal
    cld
1:  movb %cs:(%si), %al
    testb %al, %al
    jz 2f
    call rm_putc
    incw %si
    jmp 1b
2:  popal
    popfw
    ret

rm_hex32:
    pushfw
    pushal
    movl %eax, %edx
    movw $8, %cx
1:  roll $4, %edx
    movb %dl, %al
    andb $0xf, %al
    addb $'0', %al
    cmpb $'9', %al
    jbe 2f
    addb $('a' - '9' - 1), %al
2:  call rm_putc
    loop 1b
    popal
    popfw
    ret

rm_hex16:
    pushfw
    pushal
    movw %ax, %dx
    movw $4, %cx
1:  rolw $4, %dx
    movb %dl, %al
    andb $0xf, %al
    addb $'0', %al
    cmpb $'9', %al
    jbe 2f
    addb $('a' - '9' - 1), %al
2:  call rm_putc
    loop 1b
    popal
    popfw
    ret

rm_nl:
    pushw %ax
    movb $'\n', %al
    call rm_putc
    popw %ax
    ret

rm_exit:
    pushw %ax
    movw $rm_exit_msg, %si
    call rm_puts
    popw %ax
    pushw %ax
    andl $0xff, %eax
    call rm_hex16
    call rm_nl
    popw %ax
    outb %al, $DEBUG_EXIT_PORT
1:  cli
    hlt
    jmp 1b
rm_exit_msg:
    .asciz "exit code="

    .balign 8
boot_gdt:
    .quad 0
    .quad 0x00CF9B000000FFFF      /* 0x08: flat 32-bit code, accessed */
    .quad 0x00CF93000000FFFF      /* 0x10: flat data, accessed */
boot_gdt_end:
    .globl boot_gdt_desc
boot_gdt_desc:
    .word boot_gdt_end - boot_gdt - 1
    .long LINEAR16(boot_gdt)

/* ------------------------------------------------------------------ */
    .text
    .code32
start32:
    movl $SEL_KDATA, %eax
    movw %ax, %ds
    movw %ax, %es
    movw %ax, %ss
    movw %ax, %fs
    movw %ax, %gs
    movl $kstack0_top, %esp
    cld
    /* .data from ROM to RAM, .bss zeroed */
    movl $__data_lma, %esi
    movl $__data_start, %edi
    movl $__data_size, %ecx
    rep movsb
    movl $__bss_start, %edi
    movl $__bss_size, %ecx
    xorl %eax, %eax
    rep stosb
    lgdtl gdt_desc
    ljmpl $SEL_KCODE32, $1f
1:
#ifndef __x86_64__
    call testrom_init
    call main
    pushl %eax
    call testrom_exit
#else
    /* Identity map of the first 4 GiB with 2 MiB pages (user, writable). */
    movl $lm_pml4, %edi
    movl $lm_pdpt, %eax
    orl $(PTE_P | PTE_W | PTE_U), %eax
    movl %eax, (%edi)
    movl $lm_pdpt, %edi
    movl $lm_pd, %eax
    orl $(PTE_P | PTE_W | PTE_U), %eax
    movl $4, %ecx
2:  movl %eax, (%edi)
    addl $8, %edi
    addl $4096, %eax
    loop 2b
    movl $lm_pd, %edi
    movl $(PTE_P | PTE_W | PTE_U | PTE_PS), %eax
    movl $2048, %ecx
3:  movl %eax, (%edi)
    movl $0, 4(%edi)
    addl $8, %edi
    addl $0x200000, %eax
    loop 3b
    movl %cr4, %eax
    orl $CR4_PAE, %eax
    movl %eax, %cr4
    movl $lm_pml4, %eax
    movl %eax, %cr3
    movl $MSR_EFER, %ecx
    rdmsr
    orl $EFER_LME, %eax
    wrmsr
    movl %cr0, %eax
    orl $(CR0_PG | CR0_PE), %eax
    movl %eax, %cr0
    ljmpl $SEL_KCODE64, $start64

    .code64
start64:
    movl $SEL_KDATA64, %eax
    movw %ax, %ds
    movw %ax, %es
    movw %ax, %ss
    movq $kstack0_top, %rsp
    call testrom_init
    call main
    movl %eax, %edi
    call testrom_exit
#endif

/* ---- interrupt stubs: 256 of them, 16 bytes apart ---- */
    .balign 16
    .globl isr_stubs
isr_stubs:
    .set vec, 0
    .rept 256
    .balign 16
    .if (vec == 8) || (vec >= 10 && vec <= 14) || (vec == 17) || (vec == 21) || (vec == 29) || (vec == 30)
    .else
    push $0
    .endif
    push $vec
    jmp isr_common
    .set vec, vec + 1
    .endr

isr_common:
#ifdef __x86_64__
    pushq %rax
    pushq %rbx
    pushq %rcx
    pushq %rdx
    pushq %rsi
    pushq %rdi
    pushq %rbp
    pushq %r8
    pushq %r9
    pushq %r10
    pushq %r11
    pushq %r12
    pushq %r13
    pushq %r14
    pushq %r15
    cld
    movq %rsp, %rdi
    call exc_dispatch
    popq %r15
    popq %r14
    popq %r13
    popq %r12
    popq %r11
    popq %r10
    popq %r9
    popq %r8
    popq %rbp
    popq %rdi
    popq %rsi
    popq %rdx
    popq %rcx
    popq %rbx
    popq %rax
    addq $16, %rsp
    iretq
#else
    pushal
    pushl %ds
    pushl %es
    pushl %fs
    pushl %gs
    movl $SEL_KDATA, %eax
    movw %ax, %ds
    movw %ax, %es
    cld
    pushl %esp
    call exc_dispatch
    addl $4, %esp
    popl %gs
    popl %fs
    popl %es
    popl %ds
    popal
    addl $8, %esp
    iretl
#endif

/* ---- ring 3 ---- */
    .globl user_call, user_return
#ifdef __x86_64__
/* ureg user_call(void (*fn)(void) = rdi, void *user_stack = rsi) */
user_call:
    pushq %rbx
    pushq %rbp
    pushq %r12
    pushq %r13
    pushq %r14
    pushq %r15
    movq %rsp, saved_kstack(%rip)
    pushq $(SEL_UDATA | 3)
    pushq %rsi
    pushfq
    andq $~(EFLAGS_TF | EFLAGS_NT | EFLAGS_AC), (%rsp)
    pushq $(SEL_UCODE64 | 3)
    pushq %rdi
    iretq

/* int $0x80 gate (DPL 3): back to user_call's caller with the user's RAX. */
user_return:
    /* The interrupt from ring 3 loaded a null SS (64-bit mode); give the
     * kernel its flat SS back. */
    movl $SEL_KDATA64, %ecx
    movw %cx, %ss
    movq saved_kstack(%rip), %rsp
    popq %r15
    popq %r14
    popq %r13
    popq %r12
    popq %rbp
    popq %rbx
    ret
#else
/* ureg user_call(void (*fn)(void), void *user_stack) */
user_call:
    pushl %ebp
    pushl %ebx
    pushl %esi
    pushl %edi
    movl %esp, saved_kstack
    movl 20(%esp), %ecx
    movl 24(%esp), %edx
    pushl $(SEL_UDATA | 3)
    pushl %edx
    pushfl
    andl $~(EFLAGS_TF | EFLAGS_NT | EFLAGS_AC), (%esp)
    pushl $(SEL_UCODE32 | 3)
    pushl %ecx
    movl $(SEL_UDATA | 3), %ebx
    movw %bx, %ds
    movw %bx, %es
    movw %bx, %fs
    movw %bx, %gs
    iretl

user_return:
    movl $SEL_KDATA, %ecx
    movw %cx, %ds
    movw %cx, %es
    movw %cx, %fs
    movw %cx, %gs
    movl saved_kstack, %esp
    popl %edi
    popl %esi
    popl %ebx
    popl %ebp
    ret
#endif

/* ------------------------------------------------------------------ */
    .data
    .balign 16
    .globl gdt
gdt:
    .quad 0
    .quad 0x00CF9B000000FFFF      /* 0x08 kernel code 32 */
    .quad 0x00CF93000000FFFF      /* 0x10 kernel data */
    .quad 0x00AF9B000000FFFF      /* 0x18 kernel code 64 */
    .quad 0x00CF93000000FFFF      /* 0x20 kernel data */
    .quad 0x00CFFB000000FFFF      /* 0x28 user code 32 */
    .quad 0x00CFF3000000FFFF      /* 0x30 user data */
    .quad 0x00AFFB000000FFFF      /* 0x38 user code 64 */
    .quad 0x00009B0F0000FFFF      /* 0x40 16-bit code, base 0xF0000 */
    .quad 0x000093000000FFFF      /* 0x48 16-bit data, base 0 */
    .quad 0, 0                    /* 0x50 TSS, set by testrom_init */
    .fill GDT_ENTRIES - 12, 8, 0  /* 0x60.. free for tests */
gdt_end:
    .globl gdt_desc
    .balign 8
    .word 0
gdt_desc:
    .word gdt_end - gdt - 1
    .long gdt, 0

    .bss
    .balign 4096
    .globl lm_pml4
lm_pml4:
    .fill 4096, 1, 0
lm_pdpt:
    .fill 4096, 1, 0
lm_pd:
    .fill 4 * 4096, 1, 0
    .globl kstack_top, ustack_top
    .fill 16384, 1, 0
kstack0_top:                       /* the boot (and main) stack */
    .fill 16384, 1, 0
kstack_top:                        /* TSS ring-0 stack */
    .fill 16384, 1, 0
ustack_top:                        /* default ring-3 stack */
saved_kstack:
    .long 0, 0

    .section .note.GNU-stack, "", @progbits
