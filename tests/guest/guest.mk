# Guest material for system tests and benchmarks: `make guest` fetches (once,
# through apt) Debian 12's kernel and busybox and builds the initramfs under
# .cache/guest/ (or $VX86_CACHE/guest/).  See tests/guest/mkguest.sh.
#
# check-linuxboot-real loads that real kernel with hw/linuxboot.c and checks
# the guest memory it produced; a kernel that cannot be had is a FAIL.
.PHONY: guest check-linuxboot-real
guest:
	@tests/guest/mkguest.sh

LOADCHECK := $(BUILD)/tests/guest/loadcheck
$(LOADCHECK): $(BUILD)/tests/guest/loadcheck.o $(LIB)
	$(CC) $(LDFLAGS) -o $@ $^ $(LIBS)

check-linuxboot-real: $(LOADCHECK) guest
	@paths=$$(tests/guest/mkguest.sh) && $(LOADCHECK) $$paths

CHECK_TARGETS += check-linuxboot-real

# check-linuxboot-qemu: what hw/linuxboot.c puts in guest RAM, handed to
# qemu-system-x86_64 with a test firmware that only enters the kernel as
# LinuxBootEntry says (tests/guest/stub64.S, qemuboot.c); the kernel must
# reach the shell.  Needs the guest (make guest) and QEMU; part of
# check-full.
QEMUBOOT := $(BUILD)/tests/guest/qemuboot
STUB64 := $(BUILD)/tests/guest/stub64.bin
$(QEMUBOOT): $(BUILD)/tests/guest/qemuboot.o $(LIB)
	$(CC) $(LDFLAGS) -o $@ $^ $(LIBS)

$(STUB64): tests/guest/stub64.S
	@mkdir -p $(dir $@)
	$(CC) -c -o $(@:.bin=.o) $<
	ld -Ttext=0xfffe0000 -e 0xfffffff0 -o $(@:.bin=.elf) $(@:.bin=.o)
	objcopy -O binary $(@:.bin=.elf) $@

.PHONY: check-linuxboot-qemu
check-linuxboot-qemu: $(QEMUBOOT) $(STUB64)
	@set -e; out=$(BUILD)/tests/guest/qemuboot-out; mkdir -p $$out; \
	paths=$$(tests/guest/mkguest.sh); \
	args=$$($(QEMUBOOT) $$paths console=ttyS0 2 512 $(STUB64) $$out); \
	tests/guest/bootcheck.py --no-kernel-args --halt-ok -- $$args

CHECK_FULL_TARGETS += check-linuxboot-qemu
