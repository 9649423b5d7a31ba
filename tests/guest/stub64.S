/*
 * Test firmware for check-linuxboot-qemu: a 128 KiB "BIOS" for
 * qemu-system-x86_64 -bios that does only what hw/linuxboot.h says the CPU
 * must do for the 64-bit boot protocol, using the GDT and page tables
 * linuxboot_load() left in guest RAM:
 *
 *   real mode at the reset vector -> lgdt {0x6000, 31}, CR4.PAE, CR3 =
 *   0x9000, EFER.LME, CR0 = PE|ET|PG -> far jump to __BOOT_CS (64-bit) ->
 *   DS/ES/SS/FS/GS = __BOOT_DS, RSI = boot_params (0x7000), RBX = RBP =
 *   RDI = 0, IF still clear -> jump to startup_64 at 0x100200.
 *
 * Linked at 0xfffe0000 (QEMU maps a 128 KiB BIOS at 4 GiB - 128 KiB and its
 * copy at 0xe0000); tests/guest/qemuboot.c writes the MP table into it at
 * file offset 0x10000, which the guest sees at 0xf0000.
 */
#define FW_BASE     0xfffe0000
#define RESET_CS    0xffff0000      /* CS base at reset (selector 0xf000) */

        .text
        .code16
        .org 0x1f000
start16:
        cli
        lgdtl %cs:(gdtr - RESET_CS)
        movl $0x20, %eax            /* CR4.PAE */
        movl %eax, %cr4
        movl $0x9000, %eax          /* LINUXBOOT_PML4_ADDR */
        movl %eax, %cr3
        movl $0xc0000080, %ecx      /* EFER */
        movl $0x100, %eax           /* LME */
        xorl %edx, %edx
        wrmsr
        movl $0x80000011, %eax      /* PG | ET | PE: straight into long mode */
        movl %eax, %cr0
        ljmpl $0x10, $start64

        .code64
start64:
        movl $0x18, %eax
        movl %eax, %ds
        movl %eax, %es
        movl %eax, %ss
        movl %eax, %fs
        movl %eax, %gs
        movl $0x7000, %esi          /* LINUXBOOT_BOOT_PARAMS */
        xorl %ebx, %ebx
        xorl %ebp, %ebp
        xorl %edi, %edi
        movl $0x100200, %eax        /* startup_64 */
        jmp *%rax

        .p2align 4
gdtr:   .word 31
        .long 0x6000                /* LINUXBOOT_GDT_ADDR */

        .org 0x1fff0                /* reset vector: f000:fff0 */
        .code16
        jmp start16
        .org 0x20000
