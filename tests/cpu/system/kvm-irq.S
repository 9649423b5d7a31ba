/*
 * kvm-irq: hardware interrupts delivered to a real-mode guest, for
 * tests/system/kvm-irq.sh (also in images.list: any PC must pass it).
 *
 * Real mode because an emulating KVM (kvm_pvm) runs ring 0 in KVM's
 * instruction emulator, which can IRET only in real mode: a protected-mode
 * handler could take the interrupt but not return from it.
 *
 *  1. PIT IRQ0 through the 8259 (ICW1-4, vectors 08h-0Fh, all but IRQ0
 *     masked), PIT channel 0 mode 2 at ~1 kHz, STI + HLT until the IVT
 *     handler has run 5 times; at least one interrupt must have ended a
 *     HLT (the handler's return IP is the instruction after it), and after
 *     the handler's EOI the in-service register reads 0.
 *  2. Masked IRQ: with IMR bit 0 set and IF = 1, the PIT edge is latched
 *     in IRR (OCW3 read) but not delivered; unmasking delivers it.
 *  3. Interrupt window: with IF = 0, IRR fills; STI then delivers it (the
 *     emulator must request an interrupt window and inject after STI).
 *  4. LAPIC timer: one-shot, vector 40h; the handler EOIs the LAPIC.
 * The LAPIC (0xfee00000) is reached through big-real-mode FS (4 GiB
 * limit); it is enabled first with LINT0 as the ExtINT virtual wire, as a
 * BIOS leaves it, since the LVTs reset masked.
 * Results are "irq ..." lines; every failure prints a FAIL line and the
 * exit code counts them (0 = pass).
 */
#include "testrom.h"

#define TICKS      0x500     /* word: IRQ0 handler runs */
#define WOKE_HLT   0x502     /* word: IRQ0 interrupted right after our HLT */
#define FAILS      0x504     /* word: failed checks */
#define LTICKS     0x506     /* word: LAPIC timer handler runs */
#define LAPIC      0xfee00000
#define SPIN       200000    /* bound for every polling loop */

    .section .text16, "ax"
    .code16

/* puts the NUL-terminated string that follows the call */
.macro PRINT str
    pushw %si
    movw $9998f, %si
    call rm_puts
    popw %si
    .pushsection .text16.str, "a"
9998: .asciz "\str"
    .popsection
.endm

/* FAIL_IF cc, "what": when the flags say cc, print FAIL and count it */
.macro FAIL_IF cc, what
    j\cc 9997f
    jmp 9996f
9997:
    PRINT "FAIL \what\n"
    incw FAILS
9996:
.endm

    .globl main16
main16:
    xorw %ax, %ax
    movw %ax, TICKS
    movw %ax, WOKE_HLT
    movw %ax, FAILS
    movw %ax, LTICKS
    movw $irq0_handler, 0x08 * 4
    movw $0xf000, 0x08 * 4 + 2
    movw $lapic_handler, 0x40 * 4
    movw $0xf000, 0x40 * 4 + 2

    /* What a BIOS does before PIC interrupts can reach the CPU: enable the
     * local APIC and make LINT0 the virtual wire (ExtINT), LINT1 NMI (MP
     * spec 3.6.2.2).  The LVTs reset masked (SDM 10.4.7.1). */
    call big_real_fs
    movl $LAPIC, %ebx
    movl $0x1ff, %eax        /* SVR: APIC enabled, spurious vector FFh */
    movl %eax, %fs:0xf0(%ebx)
    movl $0x700, %eax        /* LVT LINT0: ExtINT, unmasked */
    movl %eax, %fs:0x350(%ebx)
    movl $0x400, %eax        /* LVT LINT1: NMI */
    movl %eax, %fs:0x360(%ebx)

    /* 8259 pair: edge, cascade, ICW4; vectors 08h / 70h; slave on IRQ2 */
    movb $0x11, %al
    outb %al, $0x20
    outb %al, $0xa0
    movb $0x08, %al
    outb %al, $0x21
    movb $0x70, %al
    outb %al, $0xa1
    movb $0x04, %al
    outb %al, $0x21
    movb $0x02, %al
    outb %al, $0xa1
    movb $0x01, %al
    outb %al, $0x21
    outb %al, $0xa1
    movb $0xff, %al
    outb %al, $0xa1
    movb $0xfe, %al          /* only IRQ0 */
    outb %al, $0x21

    /* PIT channel 0, lo/hi, mode 2, count 1193 (~1 kHz) */
    movb $0x34, %al
    outb %al, $0x43
    movw $1193, %ax
    outb %al, $0x40
    movb %ah, %al
    outb %al, $0x40

    /* ---- 1. five ticks through STI + HLT ---- */
    sti
1:  hlt
after_hlt:
    cmpw $5, TICKS
    jb 1b
    cli
    PRINT "irq pit ticks="
    movw TICKS, %ax
    call rm_hex16
    call rm_nl
    cmpw $5, TICKS
    FAIL_IF ne, "pit ticks != 5"
    PRINT "irq woke from hlt="
    xorw %ax, %ax
    cmpw $0, WOKE_HLT
    setne %al
    call rm_hex16
    call rm_nl
    cmpw $0, WOKE_HLT
    FAIL_IF e, "no interrupt ended a HLT"
    movb $0x0b, %al          /* OCW3: read ISR */
    outb %al, $0x20
    inb $0x20, %al
    PRINT "irq isr after eoi="
    call rm_hex16
    call rm_nl
    testb %al, %al
    FAIL_IF nz, "ISR not clear after EOI"

    /* ---- 2. masked IRQ0: latched in IRR, not delivered ---- */
    movb $0xff, %al
    outb %al, $0x21
    call wait_irr0
    sti
    nop
    nop
    cli
    movw TICKS, %bx
    PRINT "irq masked delivered="
    movw %bx, %ax
    subw $5, %ax
    call rm_hex16
    call rm_nl
    cmpw $5, %bx
    FAIL_IF ne, "masked IRQ0 delivered"
    sti
    movb $0xfe, %al          /* unmask: the latched request goes out */
    outb %al, $0x21
    call wait_tick_after_bx
    cli
    PRINT "irq unmask delivers="
    call rm_hex16
    call rm_nl
    testw %ax, %ax
    FAIL_IF z, "unmasking did not deliver IRQ0"

    /* ---- 3. IF = 0 with IRR set, then STI ---- */
    call wait_irr0
    movw TICKS, %bx
    sti
    call wait_tick_after_bx
    cli
    PRINT "irq sti delivers="
    call rm_hex16
    call rm_nl
    testw %ax, %ax
    FAIL_IF z, "STI did not deliver the pending IRQ0"

    /* PIC quiet: mask everything, stop the PIT */
    movb $0xff, %al
    outb %al, $0x21
    movb $0x30, %al
    outb %al, $0x43

    /* ---- 4. LAPIC timer ---- */
    movl $LAPIC, %ebx
    movl $0x0b, %eax         /* divide by 1 */
    movl %eax, %fs:0x3e0(%ebx)
    movl $0x40, %eax         /* LVT timer: one-shot, vector 40h, unmasked */
    movl %eax, %fs:0x320(%ebx)
    movl $100000, %eax       /* initial count */
    movl %eax, %fs:0x380(%ebx)
    sti
    movl $SPIN, %ecx
2:  cmpw $0, LTICKS
    jne 3f
    hlt
    loopl 2b
3:  cli
    PRINT "irq lapic timer ticks="
    movw LTICKS, %ax
    call rm_hex16
    call rm_nl
    cmpw $1, LTICKS
    FAIL_IF ne, "LAPIC timer interrupt count != 1"
    movl %fs:0x390(%ebx), %eax   /* current count: one-shot stops at 0 */
    PRINT "irq lapic current count="
    call rm_hex32
    call rm_nl
    testl %eax, %eax
    FAIL_IF nz, "one-shot current count not 0"

    movw FAILS, %ax
    call rm_exit

/* Poll IRR (OCW3 read IRR) until bit 0 is set; IF unchanged. */
wait_irr0:
    pushw %ax
    pushl %ecx
    movb $0x0a, %al
    outb %al, $0x20
    movl $SPIN, %ecx
1:  inb $0x20, %al
    testb $1, %al
    jnz 2f
    loopl 1b
    PRINT "FAIL IRR bit 0 never set\n"
    incw FAILS
2:  popl %ecx
    popw %ax
    ret

/* Spin until TICKS != BX; AX = 1 if it changed, 0 on timeout. */
wait_tick_after_bx:
    pushl %ecx
    movl $SPIN, %ecx
    xorw %ax, %ax
1:  cmpw TICKS, %bx
    jne 2f
    loopl 1b
    jmp 3f
2:  movw $1, %ax
3:  popl %ecx
    ret

/* Big real mode: FS with base 0 and a 4 GiB limit (the boot GDT's flat
 * data descriptor loaded in protected mode, kept after returning). */
big_real_fs:
    pushl %eax
    lgdtl %cs:boot_gdt_desc
    movl %cr0, %eax
    orl $CR0_PE, %eax
    movl %eax, %cr0
    movw $0x10, %ax
    movw %ax, %fs
    movl %cr0, %eax
    andl $~CR0_PE, %eax
    movl %eax, %cr0
    xorw %ax, %ax
    movw %ax, %fs            /* real-mode selector, the 4 GiB limit stays */
    popl %eax
    ret

irq0_handler:
    pushw %ax
    pushw %bp
    movw %sp, %bp
    cmpw $after_hlt, 4(%bp)  /* the interrupted IP */
    jne 1f
    incw WOKE_HLT
1:  incw TICKS
    movb $0x20, %al          /* non-specific EOI */
    outb %al, $0x20
    popw %bp
    popw %ax
    iret

lapic_handler:
    pushl %eax
    pushl %ebx
    incw LTICKS
    xorl %eax, %eax
    movl $LAPIC, %ebx
    movl %eax, %fs:0xb0(%ebx)    /* EOI */
    popl %ebx
    popl %eax
    iret

/* start.S calls main() if main16 returns; main16 never does. */
    .text
    .code32
    .globl main
main:
    movl $2, %eax
    ret

    .section .note.GNU-stack, "", @progbits
