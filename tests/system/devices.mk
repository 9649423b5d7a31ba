# Generic test devices (tests/system/devices.sh): a test ROM writes to two
# isa-debugcons on different ports going to two files, uses pc-testdev and
# reads CPUID with a feature removed; QEMU runs the same ROM as the oracle.
include tests/testrom/testrom.mk
$(eval $(call testrom_image,devices,tests/system/devices/devices.c,32))

.PHONY: check-devices
check-devices: vx86 $(TESTROM_DIR)/devices.bin
	@tests/system/devices.sh ./vx86 $(TESTROM_DIR)/devices.bin

CHECK_TARGETS += check-devices
