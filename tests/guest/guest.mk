# Guest material for system tests and benchmarks: `make guest` fetches (once,
# through apt) Debian 12's kernel and busybox and builds the initramfs under
# .cache/guest/ (or $VX86_CACHE/guest/).  See tests/guest/mkguest.sh.
#
# check-linuxboot-real loads that real kernel with hw/linuxboot.c and checks
# the guest memory it produced; it prints SKIP when the kernel is absent.
.PHONY: guest check-linuxboot-real
guest:
	@tests/guest/mkguest.sh

LOADCHECK := $(BUILD)/tests/guest/loadcheck
$(LOADCHECK): $(BUILD)/tests/guest/loadcheck.o $(LIB)
	$(CC) $(LDFLAGS) -o $@ $^ $(LIBS)

check-linuxboot-real: $(LOADCHECK)
	@$(LOADCHECK) $(if $(VX86_CACHE),$(VX86_CACHE)/guest/vmlinuz $(VX86_CACHE)/guest/initramfs.cpio.gz)

CHECK_TARGETS += check-linuxboot-real
