/*
 * The boot sector tests/system/gdb.sh steps under gdb (docs/gdb.md walks
 * through the same session).  SeaBIOS loads it at 0000:7c00; each
 * register value the test expects follows from the code below, counted
 * by hand in the comments (instruction number: state after it).
 */
    .code16
    .text
    .globl _start
_start:
    cli                         /*  1: IF=0 */
    xorw    %ax, %ax            /*  2: AX=0 */
    movw    %ax, %ds            /*  3: DS=0 */
    movw    %ax, %es            /*  4: ES=0 */
    movw    %ax, %ss            /*  5: SS=0 */
    movw    $0x7c00, %sp        /*  6: SP=7c00 */
    movw    $0x1234, %ax        /*  7: AX=1234 */
    movw    $3, %cx             /*  8: CX=3 */
    xorw    %bx, %bx            /*  9: BX=0 */
sum:
    addw    %ax, %bx            /* 10: BX=1234  13: BX=369c  16: BX=7f6c */
    shlw    $1, %ax             /* 11: AX=2468  14: AX=48d0  17: AX=91a0 */
    loop    sum                 /* 12: CX=2     15: CX=1     18: CX=0 (falls through) */
    pushw   %bx                 /* 19: SP=7bfe, [7bfe]=7f6c */
    popw    %dx                 /* 20: DX=7f6c, SP=7c00 */
    .globl store
store:
    movw    %dx, counter        /* 21: counter=7f6c (the watched write) */
    .globl after_store
after_store:
    movb    $'G', %al           /* 22 */
    outb    %al, $0xe9          /* debugcon: the code ran to the end */
    movb    $0x10, %al
    outb    %al, $0xf4          /* isa-debug-exit: vx86 exits with 0x21 */
    .globl hang
hang:
    hlt
    jmp     hang

    .globl counter
    .balign 2
counter:
    .word   0

    .org    510
    .byte   0x55, 0xaa
