# Command-line checks against the real binary (tests/system/cli.sh).
.PHONY: check-cli
CHECK_TARGETS += check-cli

check-cli: vx86 $(TESTROM_DIR)/hello.bin
	tests/system/cli.sh ./vx86
