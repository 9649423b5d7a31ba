# KVM accelerator system tests (tests/system/kvm-*.sh): bare-metal guests
# from tests/cpu/system run under ./vx86 -accel kvm.  Each script prints
# SKIP and exits 0 when /dev/kvm is absent or unusable.
#
# tests/cpu/system/system.mk builds the guests; the top Makefile includes
# only */*.mk and tests/*/*.mk, so it is pulled in from here (guarded).
include tests/cpu/system/system.mk

KVM_TESTS := $(sort $(filter-out tests/system/kvm-common.sh,$(wildcard tests/system/kvm-*.sh)))
.PHONY: check-kvm
ifneq ($(KVM_TESTS),)
CHECK_TARGETS += check-kvm
endif
check-kvm: vx86 testrom-images
	@rc=0; for t in $(KVM_TESTS); do $$t ./vx86 || rc=1; done; exit $$rc
