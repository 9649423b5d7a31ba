# Malformed boot media: one line naming the file, exit 1 (tests/system/malformed.sh).
.PHONY: check-malformed
check-malformed: vx86
	@tests/system/malformed.sh ./vx86

CHECK_TARGETS += check-malformed
