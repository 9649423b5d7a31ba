# KVM accelerator system tests (tests/system/kvm-*.sh): bare-metal guests
# run under ./vx86 -accel kvm,force=on.  Each script prints SKIP and exits 0
# when /dev/kvm is absent or unusable.
#
# tests/cpu/system/system.mk builds the guests listed in images.list; the
# top Makefile includes only */*.mk and tests/*/*.mk, so it is pulled in
# from here (guarded).  Images that only make sense under KVM (kvm-ring3:
# 100 M loop iterations, too slow for the IR interpreter in qemudiff) are
# built here, and so is the native twin of its loop (build/kvm-loop-native).
include tests/cpu/system/system.mk

KVM_ONLY_IMAGES := kvm-ring3:64 accel-counter:64
$(foreach i,$(KVM_ONLY_IMAGES),$(eval $(call testrom_image,$(word 1,$(subst :, ,$(i))),$(call system_src,$(word 1,$(subst :, ,$(i)))),$(word 2,$(subst :, ,$(i))))))
KVM_IMAGES := $(foreach i,$(KVM_ONLY_IMAGES),$(TESTROM_DIR)/$(word 1,$(subst :, ,$(i))).bin)

# The host-side twin of kvm-ring3's loop, built with the host compiler.
KVM_NATIVE := build/kvm-loop-native
$(KVM_NATIVE): tests/system/kvm-loop-native.c tests/cpu/system/kvm-loop.h
	@mkdir -p $(dir $@)
	$(CC) -O2 -Wall -Wextra -Werror -o $@ $<
CLEAN_FILES += $(KVM_NATIVE)

KVM_TESTS := $(sort $(filter-out tests/system/kvm-common.sh,$(wildcard tests/system/kvm-*.sh)))
.PHONY: check-kvm kvm-images
kvm-images: testrom-images $(KVM_IMAGES) $(KVM_NATIVE)
ifneq ($(KVM_TESTS),)
CHECK_TARGETS += check-kvm
endif
check-kvm: vx86 kvm-images
	@rc=0; for t in $(KVM_TESTS); do $$t ./vx86 || rc=1; done; exit $$rc
