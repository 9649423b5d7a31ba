# Multiboot kernels with -kernel, against QEMU (tests/system/multiboot.sh):
# a test kernel built here (ELF32 and a.out-kludge flat binary) prints its
# info structure to port 0xe9.
MB_DIR := build/multiboot
MB_CFLAGS := -m32 -march=i686 -ffreestanding -fno-pic -fno-pie -fno-builtin -nostdlib \
	-mgeneral-regs-only -fno-stack-protector -fno-asynchronous-unwind-tables \
	-fcf-protection=none -O2 -Wall -Wextra -Werror
MB_SRC := tests/system/multiboot

$(MB_DIR)/mbinfo.o: $(MB_SRC)/mbinfo.c
	@mkdir -p $(dir $@)
	gcc $(MB_CFLAGS) -c $< -o $@
$(MB_DIR)/start-elf.o: $(MB_SRC)/mbstart.S
	@mkdir -p $(dir $@)
	gcc $(MB_CFLAGS) -c $< -o $@
$(MB_DIR)/start-aout.o: $(MB_SRC)/mbstart.S
	@mkdir -p $(dir $@)
	gcc $(MB_CFLAGS) -DAOUT_KLUDGE -c $< -o $@
$(MB_DIR)/mbinfo.elf: $(MB_DIR)/start-elf.o $(MB_DIR)/mbinfo.o $(MB_SRC)/mbkernel.ld
	ld -m elf_i386 -nostdlib -T $(MB_SRC)/mbkernel.ld --no-warn-rwx-segments -o $@ \
		$(MB_DIR)/start-elf.o $(MB_DIR)/mbinfo.o
$(MB_DIR)/mbinfo-aout.elf: $(MB_DIR)/start-aout.o $(MB_DIR)/mbinfo.o $(MB_SRC)/mbkernel.ld
	ld -m elf_i386 -nostdlib -T $(MB_SRC)/mbkernel.ld --no-warn-rwx-segments -o $@ \
		$(MB_DIR)/start-aout.o $(MB_DIR)/mbinfo.o
# The flat image: only the header's address fields say where it goes.
$(MB_DIR)/mbinfo-aout.bin: $(MB_DIR)/mbinfo-aout.elf
	objcopy -O binary $< $@

.PHONY: multiboot-kernels check-multiboot
multiboot-kernels: $(MB_DIR)/mbinfo.elf $(MB_DIR)/mbinfo-aout.bin
check-multiboot: vx86 multiboot-kernels
	@tests/system/multiboot.sh ./vx86

CHECK_TARGETS += check-multiboot
CLEAN_FILES += $(MB_DIR)
