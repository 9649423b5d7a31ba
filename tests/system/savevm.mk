# Whole-VM snapshots in a qcow2 disk: savevm/loadvm/delvm, the QMP snapshot
# jobs and -loadvm on the Linux test guest, checked with qemu-img
# (tests/system/savevm_test.py).
.PHONY: check-savevm
check-savevm: vx86
	@tests/system/savevm_test.py --accel tcg

CHECK_TARGETS += check-savevm
