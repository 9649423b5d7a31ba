/*
 * A floppy boot sector for tests/system/floppy.sh: the BIOS loads it at
 * 0000:7c00 from a FAT12 image made with mformat (the BPB bytes 3-61 are
 * copied in from mformat's own boot sector).  It prints through int 10h
 * (teletype) and port 0xe9 (debugcon), reads two sectors at C1 H1 S5-6
 * with int 13h AH=02 (a seek away from track 0 and head 1), checks the
 * markers the test wrote there, reads the drive parameters with AH=08, and
 * leaves through isa-debug-exit (port 0xf4) with 0x10 on success.
 */
    .code16
    .text
    .globl _start
_start:
    jmp     start
    nop
    .fill   59, 1, 0                /* BPB, filled in from mformat's sector */
start:
    cli
    xorw    %ax, %ax
    movw    %ax, %ds
    movw    %ax, %es
    movw    %ax, %ss
    movw    $0x7c00, %sp
    sti
    movb    %dl, bootdrv
    movw    $hello, %si
    call    print

    movw    $0x0202, %ax            /* AH=02 read, AL=2 sectors */
    movw    $0x0105, %cx            /* CH=1 cylinder, CL=5 sector */
    movb    $1, %dh                 /* head 1 */
    movb    bootdrv, %dl
    movw    $0x8000, %bx            /* ES:BX = 0000:8000 */
    int     $0x13
    jc      fail
    cmpw    $0x3150, 0x8000         /* "P1" */
    jne     fail
    cmpw    $0x3250, 0x8200         /* "P2" */
    jne     fail

    movb    $0x08, %ah              /* drive parameters */
    movb    bootdrv, %dl
    int     $0x13
    jc      fail
    andb    $0x3f, %cl
    cmpb    $18, %cl                /* 18 sectors per track: 1.44M */
    jne     fail
    cmpb    $1, %dh                 /* heads - 1 */
    jne     fail

    movw    $good, %si
    call    print
    movb    $0x10, %al
    outb    %al, $0xf4
    hlt

fail:
    movw    $bad, %si
    call    print
    movb    $0x01, %al
    outb    %al, $0xf4
    hlt

print:
    lodsb
    testb   %al, %al
    jz      1f
    outb    %al, $0xe9
    movb    $0x0e, %ah
    movw    $0x0007, %bx
    int     $0x10
    jmp     print
1:  ret

hello:  .asciz "vx86 floppy boot sector\r\n"
good:   .asciz "int13 read C1 H1 S5-6 ok, 18 sectors 2 heads\r\n"
bad:    .asciz "FLOPPY TEST FAILED\r\n"
bootdrv: .byte 0

    .org    510
    .byte   0x55, 0xaa
