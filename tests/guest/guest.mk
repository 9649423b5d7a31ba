# Guest material for system tests and benchmarks: `make guest` fetches (once,
# through apt) Debian 12's kernel and busybox and builds the initramfs under
# .cache/guest/ (or $VX86_CACHE/guest/).  See tests/guest/mkguest.sh.
.PHONY: guest
guest:
	@tests/guest/mkguest.sh
