# info tlb / info mem (issue 15): bare-metal images leave known page
# tables active (tests/system/mmu/mmuinfo*.c); tests/system/mmuinfo.py
# checks the monitor's listings for the mappings the images made and
# compares them line for line with QEMU's for the same image.
include tests/testrom/testrom.mk
$(eval $(call testrom_image,mmuinfo32,tests/system/mmu/mmuinfo32.c,32))
$(eval $(call testrom_image,mmuinfopae,tests/system/mmu/mmuinfopae.c,32))
$(eval $(call testrom_image,mmuinfo64,tests/system/mmu/mmuinfo64.c,64))

.PHONY: check-mmuinfo
check-mmuinfo: vx86 $(TESTROM_DIR)/mmuinfo32.bin $(TESTROM_DIR)/mmuinfopae.bin $(TESTROM_DIR)/mmuinfo64.bin
	@tests/system/mmuinfo.py

CHECK_TARGETS += check-mmuinfo
