# Lab tracing (issue 18): -d int, -d pcall and -d ioport on a bare-metal
# image that makes call-gate, interrupt-gate and task-gate transfers, task
# switches, direct far transfers, SYSENTER/SYSEXIT and port accesses and
# prints what it set up; a 64-bit one for SYSCALL/SYSRET
# (tests/system/labtrace.sh).
include tests/testrom/testrom.mk
$(eval $(call testrom_image,labtrace32,tests/system/labtrace/labtrace32.c,32))
$(eval $(call testrom_image,labtrace64,tests/system/labtrace/labtrace64.c,64))

.PHONY: check-labtrace
check-labtrace: vx86 $(TESTROM_DIR)/labtrace32.bin $(TESTROM_DIR)/labtrace64.bin
	@tests/system/labtrace.sh ./vx86

CHECK_TARGETS += check-labtrace
