# Debian's installer from a GRUB ISO to its language dialog, vx86's
# screendump against QEMU's (tests/system/installer.py; a few minutes:
# check-full).
.PHONY: check-installer
check-installer: vx86
	@tests/system/installer.py --vx86 ./vx86

CHECK_FULL_TARGETS += check-installer
