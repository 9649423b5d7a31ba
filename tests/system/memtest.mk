# Debian's memtest86+ completes a pass, with -kernel and from a GRUB ISO
# (tests/system/memtest.sh; about 10 minutes on the translator: check-full).
.PHONY: check-memtest
check-memtest: vx86
	@tests/system/memtest.sh ./vx86 -accel tcg

CHECK_FULL_TARGETS += check-memtest
