/*
 * Entry of the Multiboot test kernel (mbinfo.c).  One source, two images:
 * ELF32 (the loader reads the program headers) and, with -DAOUT_KLUDGE, a
 * flat binary whose header's address fields (flag bit 16) say where it
 * goes.  Both load at 1 MiB.
 */
#define MB_MAGIC 0x1badb002
#ifdef AOUT_KLUDGE
#define MB_FLAGS 0x00010003     /* page-align modules, memory info, address fields */
#else
#define MB_FLAGS 0x00000003
#endif

    .section .multiboot, "a"
    .align 4
mb_header:
    .long MB_MAGIC
    .long MB_FLAGS
    .long -(MB_MAGIC + MB_FLAGS)
#ifdef AOUT_KLUDGE
    .long mb_header             /* header_addr */
    .long __image_start         /* load_addr */
    .long __load_end            /* load_end_addr */
    .long __bss_end             /* bss_end_addr */
    .long _start                /* entry_addr */
#endif

    .text
    .globl _start
_start:
    mov $stack_top, %esp
    pushl $0                    /* no return address */
    pushfl                      /* EFLAGS as the loader left them */
    pushl %ebx                  /* info structure */
    pushl %eax                  /* magic */
    call mb_main
1:  hlt
    jmp 1b

    .bss
    .align 16
    .space 16384
stack_top:
