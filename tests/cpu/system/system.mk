# Bare-metal CPU test images (tests/cpu/system) and the QEMU-differential
# check (tests/cpu/qemudiff).  images.list names every image, its bitness and
# the QEMU -cpu model it needs.
#
#   make testrom-images    build every image into build/testrom/NAME.bin
#   make check-qemudiff    run them under QEMU (cached) and vx86, compare
ifndef SYSTEM_TESTS_MK
SYSTEM_TESTS_MK := 1
include tests/testrom/testrom.mk

SYSTEM_IMAGES_LIST := tests/cpu/system/images.list
SYSTEM_IMAGES := $(shell awk '!/^\#/ && NF >= 2 { print $$1 ":" $$2 }' $(SYSTEM_IMAGES_LIST))
system_src = $(firstword $(wildcard tests/cpu/system/$(1).c tests/cpu/system/$(1).S))
$(foreach i,$(SYSTEM_IMAGES),$(eval $(call testrom_image,$(word 1,$(subst :, ,$(i))),$(call system_src,$(word 1,$(subst :, ,$(i)))),$(word 2,$(subst :, ,$(i))))))

.PHONY: testrom-images check-qemudiff
testrom-images: $(TESTROM_BINS)

CHECK_TARGETS += check-qemudiff
check-qemudiff: vx86 testrom-images
	tests/cpu/qemudiff --no-build --engine both
endif
