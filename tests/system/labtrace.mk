# Lab tracing (issue 18): -d int, -d pcall and -d ioport on a bare-metal
# image that makes call-gate, interrupt-gate and task-gate transfers, task
# switches and port accesses and prints what it set up
# (tests/system/labtrace.sh).
include tests/testrom/testrom.mk
$(eval $(call testrom_image,labtrace32,tests/system/labtrace/labtrace32.c,32))

.PHONY: check-labtrace
check-labtrace: vx86 $(TESTROM_DIR)/labtrace32.bin
	@tests/system/labtrace.sh ./vx86

CHECK_TARGETS += check-labtrace
