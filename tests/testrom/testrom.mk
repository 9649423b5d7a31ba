# Test ROM framework (tests/testrom): builds 64 KiB bare-metal BIOS images
# from a test source (C or assembly) plus start.S + lib.c.  Included from
# tests/cpu/system/system.mk.  Images are the same whatever $(CC) builds
# vx86, so they always use gcc and live in build/testrom/.
#
#   $(call testrom_image,NAME,SRC,BITS)  defines build/testrom/NAME.bin
ifndef TESTROM_MK
TESTROM_MK := 1

TESTROM_DIR := build/testrom
TESTROM_CC := gcc
TESTROM_CFLAGS := -ffreestanding -fno-pic -fno-pie -fno-builtin -nostdlib \
	-mno-sse -mno-mmx -mno-red-zone -mgeneral-regs-only \
	-fno-stack-protector -fno-asynchronous-unwind-tables -fcf-protection=none \
	-fno-jump-tables -O2 -Wall -Wextra -Werror -Itests/testrom
TESTROM_CFLAGS32 := -m32 -march=i686 $(TESTROM_CFLAGS)
TESTROM_CFLAGS64 := -m64 -mcmodel=small $(TESTROM_CFLAGS)
TESTROM_LD32 := ld -m elf_i386 -nostdlib -T tests/testrom/testrom.ld --no-warn-rwx-segments
TESTROM_LD64 := ld -m elf_x86_64 -nostdlib -T tests/testrom/testrom.ld --no-warn-rwx-segments
TESTROM_HDRS := tests/testrom/testrom.h tests/testrom/testrom.mk tests/testrom/testrom.ld

$(TESTROM_DIR)/start32.o: tests/testrom/start.S $(TESTROM_HDRS)
	@mkdir -p $(dir $@)
	$(TESTROM_CC) $(TESTROM_CFLAGS32) -c $< -o $@
$(TESTROM_DIR)/start64.o: tests/testrom/start.S $(TESTROM_HDRS)
	@mkdir -p $(dir $@)
	$(TESTROM_CC) $(TESTROM_CFLAGS64) -c $< -o $@
$(TESTROM_DIR)/lib32.o: tests/testrom/lib.c $(TESTROM_HDRS)
	@mkdir -p $(dir $@)
	$(TESTROM_CC) $(TESTROM_CFLAGS32) -c $< -o $@
$(TESTROM_DIR)/lib64.o: tests/testrom/lib.c $(TESTROM_HDRS)
	@mkdir -p $(dir $@)
	$(TESTROM_CC) $(TESTROM_CFLAGS64) -c $< -o $@

# testrom_image NAME SRC BITS
define testrom_image
$(TESTROM_DIR)/$(1).o: $(2) $(TESTROM_HDRS)
	@mkdir -p $$(dir $$@)
	$(TESTROM_CC) $$(TESTROM_CFLAGS$(3)) -c $$< -o $$@
$(TESTROM_DIR)/$(1).elf: $(TESTROM_DIR)/start$(3).o $(TESTROM_DIR)/lib$(3).o $(TESTROM_DIR)/$(1).o
	$$(TESTROM_LD$(3)) -o $$@ $$^
$(TESTROM_DIR)/$(1).bin: $(TESTROM_DIR)/$(1).elf
	objcopy -O binary --gap-fill 0xff $$< $$@
	@test "$$$$(stat -c %s $$@)" = 65536 || { echo "$$@: not 64 KiB" >&2; rm -f $$@; exit 1; }
TESTROM_BINS += $(TESTROM_DIR)/$(1).bin
endef

CLEAN_FILES += $(TESTROM_DIR)
endif
