# Floppy boot through SeaBIOS against QEMU (tests/system/floppy.sh).
.PHONY: check-floppy
check-floppy: vx86
	@tests/system/floppy.sh ./vx86

CHECK_TARGETS += check-floppy
