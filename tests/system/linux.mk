# Whole-guest system tests: the Debian kernel + busybox initramfs under
# each engine (tests/system/linux-boot.py).  KVM skips, with the probe's
# reason, where this host's KVM cannot run a stock kernel.
.PHONY: check-linux-tcg check-linux-interp check-linux-kvm
check-linux-tcg: vx86
	@tests/system/linux-boot.py --timeout 300 -- -accel tcg

check-linux-interp: vx86
	@tests/system/linux-boot.py --timeout 1800 -- -accel tcg,interp=on

check-linux-kvm: vx86
	@tests/system/linux-boot.py --skip-unless-accel --timeout 300 -- -accel kvm

# The interpreter boots in minutes rather than seconds: check-full only.
CHECK_TARGETS += check-linux-tcg check-linux-kvm
CHECK_FULL_TARGETS += check-linux-interp
