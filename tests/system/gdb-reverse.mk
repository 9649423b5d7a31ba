# Reverse debugging during a replay (tests/system/gdb-reverse.sh): gdb's
# reverse-continue to a watchpoint stops at the instruction that corrupted
# the variable; reverse-stepi steps back.
include tests/testrom/testrom.mk
$(eval $(call testrom_image,corrupt,tests/system/gdb/corrupt.c,32))

.PHONY: check-gdb-reverse
check-gdb-reverse: vx86 $(TESTROM_DIR)/corrupt.bin
	@tests/system/gdb-reverse.sh ./vx86

CHECK_TARGETS += check-gdb-reverse
