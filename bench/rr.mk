# Deterministic execution and record/replay: boot time and host CPU time
# plain / -icount / rr=record / rr=replay, vx86 vs QEMU, and the log's
# bytes per second (bench/rr.py; not part of check).
.PHONY: bench-rr
bench-rr: vx86
	@bench/rr.py
