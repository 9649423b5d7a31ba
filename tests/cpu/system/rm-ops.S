/*
 * rm-ops: real-address mode beyond the 8086/286 instruction set, the way
 * BIOSes, boot loaders and DOS extenders use it (SDM Vol. 3A ch. 20,
 * Vol. 2 per-instruction "Real-Address Mode Exceptions"):
 *
 *  1. 32-bit operand size (66h): 32-bit ALU results and flags, IMUL
 *     r,r/m,imm, PUSHL/POPL moving SP by 4, PUSHFL/POPFL with EFLAGS.AC.
 *  2. 32-bit address size (67h): base + index*scale + disp (SIB), LEA with
 *     32- and 16-bit address size (16-bit wrap), LOOP on ECX vs CX,
 *     REP MOVSB with ESI/EDI/ECX.
 *  3. FS/GS as data segments (base = selector * 16).
 *  4. MOVZX/MOVSX, BT/BTS/BTR/BTC (register bit offsets reaching other
 *     dwords), SHLD/SHRD, SETcc, BSF/BSR.
 *  5. INT through the IVT: FLAGS/CS/IP pushed, IF, TF and AC cleared;
 *     a 16-bit IRET restores FLAGS[15:0] only (AC stays 0).
 *  6. LIDT/SIDT in real mode: a 16-bit LIDT loads a 24-bit base; INT then
 *     uses the moved IVT.
 *  7. Unreal mode: a 4 GiB FS limit loaded in protected mode (entered and
 *     left with far jumps, SDM 9.9) stays after the return to real mode,
 *     so FS + 32-bit offsets reach memory above 1 MiB.
 *  8. Limit faults: a word at offset FFFFh and a 32-bit offset beyond
 *     FFFFh through DS raise #GP (interrupt 13), through SS(EBP) #SS
 *     (interrupt 12); UD2 raises #UD (interrupt 6).
 *
 * Faults are caught by IVT handlers that resume at the end of the TRY
 * block.  Every result is a text line; a failed check prints a FAIL line,
 * and the exit code is 0 only when none failed.
 */
#include "testrom.h"

#define FAILS      0x500     /* word: failed checks */
#define EXC_VEC    0x502     /* word: vector of the last exception */
#define EXC_COUNT  0x504     /* word: exceptions since TRY_BEGIN */
#define RECOVER    0x506     /* word: IP to resume at after an exception */
#define HFLAGS     0x508     /* dword: EFLAGS inside the INT 60h handler */
#define SFLAGS     0x50c     /* word: FLAGS image INT 60h found on its stack */
#define HIT61      0x50e     /* word: INT 61h handler runs */
#define IDTR_IMG   0x510     /* 6 bytes: LIDT/SIDT operand */
#define TABLE      0x600     /* scratch data */
#define NEW_IVT    0x800     /* the IVT moved by LIDT */
#define GDT16      0x1000    /* the GDT for the unreal-mode excursion */
#define HIGH_ADDR  0x400000  /* above 1 MiB, below the A20 alias */

    .section .text16, "ax"
    .code16

/* puts the NUL-terminated string that follows */
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

/* EXPECT src32, value, "name": print "name=XXXXXXXX", check the value */
.macro EXPECT src, val, name
    pushl %eax
    movl \src, %eax
    PRINT "\name="
    call rm_hex32
    call rm_nl
    cmpl $\val, %eax
    FAIL_IF ne, "\name"
    popl %eax
.endm

/* TRY_BEGIN ... TRY_END: an exception in between resumes after TRY_END */
.macro TRY_BEGIN
    movw $0, EXC_COUNT
    movw $9995f, RECOVER
.endm
.macro TRY_END
9995:
    movw $0, RECOVER
.endm

/* EXPECT_EXC vec, "what": exactly one exception with this vector (vec -1:
 * none); prints "what: #vec" or "what: no exception" */
.macro EXPECT_EXC vec, what
    PRINT "\what: "
    cmpw $0, EXC_COUNT
    jne 9994f
    PRINT "no exception\n"
.if \vec != -1
    PRINT "FAIL \what: no exception\n"
    incw FAILS
.endif
    jmp 9993f
9994:
    PRINT "#"
    movw EXC_VEC, %ax
    call rm_hex16
    call rm_nl
.if \vec == -1
    PRINT "FAIL \what: unexpected exception\n"
    incw FAILS
.else
    cmpw $1, EXC_COUNT
    FAIL_IF ne, "\what (count)"
    cmpw $\vec, EXC_VEC
    FAIL_IF ne, "\what"
.endif
9993:
.endm

    .globl main16
main16:
    xorl %eax, %eax
    movw %ax, FAILS
    movw %ax, RECOVER
    movw %ax, HIT61
    /* PIT and PIC are unprogrammed: mask every IRQ so IF=1 is safe. */
    movb $0xff, %al
    outb %al, $0x21
    outb %al, $0xa1
    movw $exc6, 6 * 4
    movw $0xf000, 6 * 4 + 2
    movw $exc12, 12 * 4
    movw $0xf000, 12 * 4 + 2
    movw $exc13, 13 * 4
    movw $0xf000, 13 * 4 + 2
    movw $int60, 0x60 * 4
    movw $0xf000, 0x60 * 4 + 2

    call test_opsize
    call test_addrsize
    call test_fsgs
    call test_bitops
    call test_int
    call test_lidt
    call test_unreal
    call test_limits

    cmpw $0, FAILS
    jne 1f
    PRINT "checks: all passed\n"
    movb $0, %al
    call rm_exit
1:  PRINT "checks: FAILED\n"
    movb $1, %al
    call rm_exit

/* ---- 1. operand size ---- */
test_opsize:
    movl $0x89abcdef, %eax
    addl $0x76543211, %eax            /* = 0 with carry */
    setc %bl
    setz %bh
    EXPECT %eax, 0, "add32 result"
    movzwl %bx, %ebx
    EXPECT %ebx, 0x0101, "add32 CF,ZF"
    movl $0x00012345, %ecx
    imull $-3, %ecx, %edx             /* 66 6B: IMUL r32, r/m32, imm8 */
    EXPECT %edx, 0xfffc9631, "imul r32,r32,imm8"
    movl $0x10000, %ecx
    imull $0x10000, %ecx, %edx        /* overflow: CF = OF = 1 */
    seto %al
    movzbl %al, %eax
    EXPECT %edx, 0, "imul overflow result"
    EXPECT %eax, 1, "imul overflow OF"
    movw %sp, %bx
    pushl $0x11223344
    movw %sp, %cx
    popl %eax
    subw %cx, %bx
    movzwl %bx, %ebx
    EXPECT %ebx, 4, "pushl moves SP by"
    EXPECT %eax, 0x11223344, "popl value"
    /* EFLAGS.AC (bit 18) is writable with a 32-bit POPF */
    pushfl
    popl %eax
    orl $EFLAGS_AC, %eax
    pushl %eax
    popfl
    pushfl
    popl %eax
    andl $EFLAGS_AC, %eax
    EXPECT %eax, EFLAGS_AC, "popfl sets AC"
    pushfl
    andl $~EFLAGS_AC, (%esp)          /* 67: ESP-based (upper half is 0) */
    popfl
    ret

/* ---- 2. address size ---- */
test_addrsize:
    movl $0x11111111, TABLE
    movl $0x22222222, TABLE + 4
    movl $0x33333333, TABLE + 8
    movl $0x44444444, TABLE + 0x18
    movl $TABLE, %ebx
    movl $2, %esi
    movl (%ebx,%esi,4), %eax          /* 67: SIB */
    EXPECT %eax, 0x33333333, "[ebx+esi*4]"
    movl 0x8(%ebx,%esi,8), %eax
    EXPECT %eax, 0x44444444, "[ebx+esi*8+8]"
    movl TABLE + 4(,%esi,2), %eax     /* SIB without base, disp32 */
    EXPECT %eax, 0x33333333, "[esi*2+disp32]"
    leal 0x12340(%ebx,%esi,2), %eax   /* 32-bit LEA: no wrap */
    EXPECT %eax, 0x00012944, "lea 32-bit address"
    movw $0xffff, %bx
    movw $0x0003, %si
    leal 0x10(%bx,%si), %eax          /* 16-bit address wraps, then zero-extends */
    EXPECT %eax, 0x00000012, "lea 16-bit address wraps"
    /* LOOP: address size picks the counter */
    movl $0x00010003, %ecx
    xorl %edx, %edx
1:  incl %edx
    loop 1b                           /* CX: 3 iterations */
    EXPECT %edx, 3, "loop (cx) iterations"
    EXPECT %ecx, 0x00010000, "loop (cx) ecx"
    movl $0x00010003, %ecx
    xorl %edx, %edx
1:  incl %edx
    addr32 loop 1b                    /* ECX: 65539 iterations */
    EXPECT %edx, 0x00010003, "loop (ecx) iterations"
    /* REP MOVSB with 32-bit ESI/EDI/ECX */
    cld
    movl $TABLE, %esi
    movl $TABLE + 0x40, %edi
    movl $12, %ecx
    addr32 rep movsb
    EXPECT %ecx, 0, "rep movsb ecx"
    EXPECT %edi, TABLE + 0x4c, "rep movsb edi"
    movl TABLE + 0x48, %eax
    EXPECT %eax, 0x33333333, "rep movsb copied"
    ret

/* ---- 3. FS and GS ---- */
test_fsgs:
    movw $0x1000, %ax
    movw %ax, %fs
    movw $0x1001, %ax
    movw %ax, %gs
    movl $0xf5f5f5f5, %fs:0x20        /* linear 0x10020 */
    movl %gs:0x10, %eax               /* the same byte: 0x10010 + 0x10 */
    EXPECT %eax, 0xf5f5f5f5, "fs write, gs read"
    movw %gs, %ax
    movzwl %ax, %eax
    EXPECT %eax, 0x1001, "mov from gs"
    xorw %ax, %ax
    movw %ax, %fs
    movw %ax, %gs
    ret

/* ---- 4. MOVZX/MOVSX, bit operations, double shifts ---- */
test_bitops:
    movl $0x80f0, TABLE
    movzbl TABLE, %eax
    EXPECT %eax, 0xf0, "movzx byte"
    movsbl TABLE, %eax
    EXPECT %eax, 0xfffffff0, "movsx byte"
    movswl TABLE, %eax
    EXPECT %eax, 0xffff80f0, "movsx word"
    movsbw TABLE, %ax
    movzwl %ax, %eax
    EXPECT %eax, 0xfff0, "movsx byte to word"
    /* BT with a register offset addresses beyond the operand */
    movl $0, TABLE
    movl $0, TABLE + 4
    movl $0x0000ffff, TABLE + 8
    movw $TABLE, %bx
    movl $35, %eax
    btsl %eax, (%bx)                  /* dword 1, bit 3 */
    movl TABLE + 4, %edx
    EXPECT %edx, 8, "bts bit 35"
    movl $70, %eax
    btrl %eax, (%bx)                  /* dword 2, bit 6: was 1 */
    setc %cl
    movl TABLE + 8, %edx
    EXPECT %edx, 0x0000ffbf, "btr bit 70"
    movzbl %cl, %ecx
    EXPECT %ecx, 1, "btr old bit"
    movw $-1, %ax                     /* 16-bit offset -1: the word before */
    movw $0, TABLE - 2
    btcw %ax, (%bx)
    movzwl TABLE - 2, %edx
    EXPECT %edx, 0x8000, "btc bit -1"
    movl $0x12345678, %eax
    btl $36, %eax                     /* immediate: modulo 32 -> bit 4 */
    setc %cl
    movzbl %cl, %ecx
    EXPECT %ecx, 1, "bt imm 36 on a register"
    /* SHLD/SHRD */
    movl $0x12345678, %eax
    movl $0x9abcdef0, %edx
    shldl $8, %edx, %eax
    EXPECT %eax, 0x3456789a, "shld 8"
    movl $0x12345678, %eax
    movb $12, %cl
    shrdl %cl, %edx, %eax
    EXPECT %eax, 0xef012345, "shrd cl=12"
    movw $0x1234, %ax
    movw $0xabcd, %dx
    shldw $4, %dx, %ax
    movzwl %ax, %eax
    EXPECT %eax, 0x234a, "shld16 4"
    /* SETcc on signed/unsigned compares */
    movl $-5, %eax
    cmpl $3, %eax
    setl %al
    setb %ah
    setg %dl
    seta %dh
    movzwl %ax, %eax
    movzwl %dx, %edx
    EXPECT %eax, 0x0001, "setl/setb (-5 vs 3)"
    EXPECT %edx, 0x0100, "setg/seta (-5 vs 3)"
    /* BSF/BSR */
    movl $0x00480000, %eax
    bsfl %eax, %ecx
    bsrl %eax, %edx
    EXPECT %ecx, 19, "bsf"
    EXPECT %edx, 22, "bsr"
    ret

/* ---- 5. INT and IRET through the IVT ---- */
test_int:
    pushfl
    popl %eax
    orl $(EFLAGS_AC | EFLAGS_CF | EFLAGS_IF), %eax
    andl $~(EFLAGS_ZF | EFLAGS_TF), %eax
    pushl %eax
    popfl
    int $0x60
    pushfl
    cli
    popl %edx
    movl HFLAGS, %eax
    andl $(EFLAGS_IF | EFLAGS_TF | EFLAGS_AC), %eax
    EXPECT %eax, 0, "flags in the handler (IF|TF|AC)"
    movzwl SFLAGS, %eax
    andl $(EFLAGS_IF | EFLAGS_CF | EFLAGS_ZF), %eax
    EXPECT %eax, EFLAGS_IF | EFLAGS_CF, "pushed FLAGS (IF|CF|ZF)"
    andl $(EFLAGS_IF | EFLAGS_CF | EFLAGS_ZF | EFLAGS_AC), %edx
    EXPECT %edx, EFLAGS_IF | EFLAGS_CF | EFLAGS_ZF, "after IRET (IF|CF|ZF|AC)"
    ret

/* INT 60h: records its EFLAGS and the pushed FLAGS, sets ZF in them */
int60:
    pushl %eax
    pushfl
    popl %eax
    movl %eax, HFLAGS
    pushw %bp
    movw %sp, %bp
    movw 10(%bp), %ax                 /* bp, eax(4), ip, cs, flags */
    movw %ax, SFLAGS
    orw $EFLAGS_ZF, 10(%bp)
    popw %bp
    popl %eax
    iret

int61:
    incw HIT61
    iret

/* ---- 6. LIDT/SIDT ---- */
test_lidt:
    movw $int61, NEW_IVT + 0x61 * 4
    movw $0xf000, NEW_IVT + 0x61 * 4 + 2
    movw $0, 0x61 * 4                 /* the old IVT's entry: 0000:0000 */
    movw $0, 0x61 * 4 + 2
    movw $0x3ff, IDTR_IMG
    movl $(0xab000000 + NEW_IVT), IDTR_IMG + 2
    lidtw IDTR_IMG                    /* 16-bit operand: base bits 31:24 ignored */
    movl $0xffffffff, IDTR_IMG + 2
    sidtw IDTR_IMG
    movl IDTR_IMG + 2, %eax
    EXPECT %eax, NEW_IVT, "sidt base after a 16-bit lidt"
    movzwl IDTR_IMG, %eax
    EXPECT %eax, 0x3ff, "sidt limit"
    int $0x61
    movzwl HIT61, %eax
    EXPECT %eax, 1, "int 61h through the moved IVT"
    movl $0, IDTR_IMG + 2
    lidtw IDTR_IMG
    ret

/* ---- 7. unreal mode ---- */
    .balign 8
gdt16:
    .quad 0
    .quad 0x00009b0f0000ffff          /* 0x08: 16-bit code, base F0000 */
    .quad 0x00cf93000000ffff          /* 0x10: flat data, 4 GiB */
gdt16_end:

test_unreal:
    /* the GDT in RAM (LGDT takes a linear base; copy it below 1 MiB) */
    movw $(gdt16_end - gdt16), %cx
    movw $gdt16, %si
    movw $GDT16, %di
    cld
    rep movsb %cs:(%si), %es:(%di)
    movw $(gdt16_end - gdt16 - 1), IDTR_IMG
    movl $GDT16, IDTR_IMG + 2
    lgdtl IDTR_IMG
    cli
    movl %cr0, %eax
    orl $CR0_PE, %eax
    movl %eax, %cr0
    ljmp $0x08, $1f                   /* SDM 9.9.1: far jump after PE=1 */
1:  movw $0x10, %ax
    movw %ax, %fs
    movl %cr0, %eax
    andl $~CR0_PE, %eax
    movl %eax, %cr0
    ljmp $0xf000, $2f                 /* SDM 9.9.2: far jump back */
2:  xorw %ax, %ax                     /* FS keeps base 0 and the 4 GiB limit */
    movl $HIGH_ADDR, %ebx
    movl $0x0e0e1234, %fs:(%ebx)
    movl $0, %fs:4(%ebx)
    movl %fs:(%ebx), %eax
    EXPECT %eax, 0x0e0e1234, "unreal fs: write/read above 1 MiB"
    movl %fs:4(%ebx), %eax
    EXPECT %eax, 0, "unreal fs: next dword"
    movl %cr0, %eax
    andl $CR0_PE, %eax
    EXPECT %eax, 0, "back in real mode (CR0.PE)"
    ret

/* ---- 8. limit faults ---- */
test_limits:
    TRY_BEGIN
    movw 0xffff, %ax                  /* word at DS:FFFF */
    TRY_END
    EXPECT_EXC 13, "word at offset ffff"
    TRY_BEGIN
    movl $0x10000, %ebx
    movb (%ebx), %al                  /* 67: DS offset 10000h */
    TRY_END
    EXPECT_EXC 13, "ds offset 10000"
    TRY_BEGIN
    movl $0x10000, %ebp
    movb (%ebp), %al                  /* 67: SS offset 10000h */
    TRY_END
    EXPECT_EXC 12, "ss offset 10000"
    TRY_BEGIN
    movl $0xfffe, %ebx
    movb (%ebx), %al                  /* in range */
    TRY_END
    EXPECT_EXC -1, "ds offset fffe"
    TRY_BEGIN
    ud2
    TRY_END
    EXPECT_EXC 6, "ud2"
    xorl %ebp, %ebp
    ret

/* IVT handlers for #UD, #SS, #GP: record, resume at RECOVER */
exc6:
    pushw $6
    jmp exc_common
exc12:
    pushw $12
    jmp exc_common
exc13:
    pushw $13
exc_common:                           /* stack: vector, ip, cs, flags */
    pushw %bp
    movw %sp, %bp
    pushw %ds
    pushw %ax
    xorw %ax, %ax
    movw %ax, %ds
    movw 2(%bp), %ax
    movw %ax, EXC_VEC
    incw EXC_COUNT
    movw RECOVER, %ax
    testw %ax, %ax
    jz 1f
    movw %ax, 4(%bp)
    movw $0, RECOVER
    popw %ax
    popw %ds
    popw %bp
    addw $2, %sp
    iret
1:  PRINT "unexpected exception "
    movw EXC_VEC, %ax
    call rm_hex16
    call rm_nl
    movb $2, %al
    call rm_exit

/* start.S calls main() if main16 returns; main16 never does. */
    .text
    .code32
    .globl main
main:
    movl $2, %eax
    ret

    .section .note.GNU-stack, "", @progbits
