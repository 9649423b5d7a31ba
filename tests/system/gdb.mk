# The gdb stub with Debian's gdb: a boot sector stepped in real mode,
# malformed protocol input, the Debian kernel (tests/system/gdb.sh).
.PHONY: check-gdb
check-gdb: vx86
	@tests/system/gdb.sh ./vx86

CHECK_TARGETS += check-gdb

