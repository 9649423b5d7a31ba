# -d mmu explains page walks (issue 18's lab tracing): bare-metal images
# that build their page tables, print them and fault; the walks vx86 logs
# must show those entries (tests/system/mmutrace.sh).
include tests/testrom/testrom.mk
$(eval $(call testrom_image,mmutrace32,tests/system/mmu/mmutrace32.c,32))
$(eval $(call testrom_image,mmutrace64,tests/system/mmu/mmutrace64.c,64))

.PHONY: check-mmutrace
check-mmutrace: vx86 $(TESTROM_DIR)/mmutrace32.bin $(TESTROM_DIR)/mmutrace64.bin
	@tests/system/mmutrace.sh ./vx86

CHECK_TARGETS += check-mmutrace
