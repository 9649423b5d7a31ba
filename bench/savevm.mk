# savevm/loadvm of a 512 MiB guest into its qcow2 disk, vx86 vs QEMU
# (bench/savevm.py; not part of check).
.PHONY: bench-savevm
bench-savevm: vx86
	@bench/savevm.py
