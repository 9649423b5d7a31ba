/*
 * The option ROM that boots a -kernel through the firmware (-bios FILE
 * -kernel bzImage), the way QEMU's users know it: the board hands the ROM
 * to the BIOS as fw_cfg file "genroms/vx86-linuxboot.bin" and names it
 * first in "bootorder"; the BIOS runs its boot entry vector (BEV) when it
 * boots.  The board has already put everything in fw_cfg's numbered items
 * (hw/pc/pc.c fill_fwcfg_kernel): the real-mode setup sectors with the
 * loader fields filled in, the protected-mode kernel, the initrd and the
 * command line, each with the address it goes to.  The ROM copies each
 * item there with fw_cfg's DMA interface (which reaches any 32-bit
 * address from real mode, so no unreal mode is needed) and enters the
 * setup code as the Linux boot protocol (Documentation/x86/boot.rst,
 * "Running the kernel") says: all data segments = the setup segment,
 * SP = the end of its heap, far jump to setup segment + 0x20, offset 0.
 *
 * Written for this project from the PnP BIOS / BIOS Boot Specification
 * header layouts, fw_cfg's documented interface and the boot protocol.
 * The data is assembled into the library as bytes between
 * vx86_linuxboot_rom and vx86_linuxboot_rom_end; the board pads it to
 * 512-byte blocks and fills in the size and both checksums
 * (hw/pc/linuxboot-rom.c).
 */
    .section .rodata
    .globl vx86_linuxboot_rom, vx86_linuxboot_rom_end
    .p2align 4
    .code16
vx86_linuxboot_rom:
    .byte 0x55, 0xaa          /* 0x00 signature */
    .byte 0                   /* 0x02 size in 512-byte blocks (board) */
    lret                      /* 0x03 init vector: nothing to set up */
    .fill 0x18 - (. - vx86_linuxboot_rom), 1, 0
    .word 0                   /* 0x18 no PCI data structure */
    .word pnp - vx86_linuxboot_rom   /* 0x1a expansion header */
    .fill 0x20 - (. - vx86_linuxboot_rom), 1, 0

pnp:                          /* PnP expansion header, 32 bytes */
    .ascii "$PnP"             /* 0x00 */
    .byte 1                   /* 0x04 revision */
    .byte 2                   /* 0x05 length in 16-byte units */
    .word 0                   /* 0x06 no next header */
    .byte 0                   /* 0x08 reserved */
    .byte 0                   /* 0x09 checksum (board) */
    .long 0                   /* 0x0a device identifier */
    .word manufacturer - vx86_linuxboot_rom  /* 0x0e */
    .word product - vx86_linuxboot_rom       /* 0x10 the boot menu shows it */
    .byte 0, 0, 0             /* 0x12 device type code */
    .byte 0                   /* 0x15 device indicators */
    .word 0                   /* 0x16 no boot connection vector */
    .word 0                   /* 0x18 no disconnect vector */
    .word boot - vx86_linuxboot_rom          /* 0x1a bootstrap entry vector */
    .word 0                   /* 0x1c reserved */
    .word 0                   /* 0x1e no static resource information */

manufacturer:
    .asciz "vx86"
product:
    .asciz "Linux kernel (-kernel)"

/* fw_cfg: selector port 0x510, data port 0x511, DMA address 0x514/0x518
 * (big endian; writing the low half at 0x518 starts the transfer). */
    .set FW_CFG_SEL, 0x510
    .set FW_CFG_DATA, 0x511
    .set FW_CFG_DMA_HI, 0x514
    .set FW_CFG_DMA_LO, 0x518
    .set DMA_SELECT_READ, 0x0a   /* control: SELECT (0x08) | READ (0x02) */
    .set DMA_ERROR, 0x01

/* %ax = key -> %eax = its 32-bit little-endian value (through the data port). */
fw_read32:
    mov $FW_CFG_SEL, %dx
    out %ax, %dx
    mov $FW_CFG_DATA, %dx
    mov $4, %cx
1:  in %dx, %al
    ror $8, %eax              /* bytes arrive low first: rotate them into place */
    loop 1b
    ret

/* Copies item %ax (length %ecx bytes) to physical address %edi by DMA.
 * The descriptor (control, length, address: big endian) is built on the
 * stack; its physical address is SS * 16 + SP.  CF set on a DMA error. */
fw_dma:
    test %ecx, %ecx
    jz 2f
    movzwl %ax, %eax
    shl $16, %eax
    or $DMA_SELECT_READ, %eax
    bswap %eax
    bswap %ecx
    bswap %edi
    pushl %edi                /* address, low half (big endian) */
    pushl $0                  /* address, high half */
    pushl %ecx                /* length */
    pushl %eax                /* control */
    xor %eax, %eax
    mov %ss, %ax
    shl $4, %eax
    movzwl %sp, %ebx
    add %ebx, %eax            /* the descriptor's physical address */
    bswap %eax
    mov %eax, %ebx
    xor %eax, %eax
    mov $FW_CFG_DMA_HI, %dx
    out %eax, %dx
    mov %ebx, %eax
    mov $FW_CFG_DMA_LO, %dx
    out %eax, %dx
    mov %sp, %bx
1:  mov %ss:(%bx), %eax       /* control reads 0 when done, ERROR on failure */
    bswap %eax
    test $~DMA_ERROR, %eax
    jnz 1b
    add $16, %sp
    test $DMA_ERROR, %eax
    jz 2f
    stc
    ret
2:  clc
    ret

/* Copies one part: %si = the key of its address, %si + 1 its size, %bp the
 * key of its data (fw_cfg numbers them so for setup and cmdline; the
 * kernel and the initrd pass their own keys). */
load_part:
    mov %si, %ax
    call fw_read32
    mov %eax, %edi
    push %edi
    mov %si, %ax
    inc %ax
    call fw_read32
    mov %eax, %ecx
    pop %edi
    mov %bp, %ax
    jmp fw_dma

/* The BEV: the BIOS far-calls it to boot; it does not come back unless a
 * DMA failed. */
boot:
    cli
    cld
    mov $0x0016, %si          /* FW_CFG_SETUP_ADDR, SETUP_SIZE */
    mov $0x0018, %bp          /* FW_CFG_SETUP_DATA */
    call load_part
    jc fail
    mov $0x0013, %si          /* FW_CFG_CMDLINE_ADDR, CMDLINE_SIZE */
    mov $0x0015, %bp          /* FW_CFG_CMDLINE_DATA */
    call load_part
    jc fail
    mov $0x0007, %si          /* FW_CFG_KERNEL_ADDR, KERNEL_SIZE */
    mov $0x0011, %bp          /* FW_CFG_KERNEL_DATA */
    call load_part
    jc fail
    mov $0x000a, %si          /* FW_CFG_INITRD_ADDR, INITRD_SIZE */
    mov $0x0012, %bp          /* FW_CFG_INITRD_DATA */
    call load_part
    jc fail
    mov $0x0016, %ax          /* FW_CFG_SETUP_ADDR: the setup segment */
    call fw_read32
    shr $4, %eax
    mov %ax, %ds
    mov %ax, %es
    mov %ax, %fs
    mov %ax, %gs
    mov %ax, %ss
    mov $0xfff0, %sp          /* above heap_end_ptr (0xfe00, set by the board) */
    add $0x20, %ax
    push %ax
    push $0
    lret                      /* setup segment + 0x20 : 0 */

fail:
    sti
    int $0x18                 /* "boot failed": the BIOS tries the next device */

vx86_linuxboot_rom_end:
    .code64
    .section .note.GNU-stack, "", @progbits
