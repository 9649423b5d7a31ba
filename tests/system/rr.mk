# Deterministic execution and record/replay (docs/record-replay.md): the
# Debian test guest recorded with typed serial input, a virtio disk and
# virtio-rng, replayed three times; damaged logs refused; a bare-metal
# image replayed under the interpreter (tests/system/rr.sh).
.PHONY: check-rr
check-rr: vx86 testrom-images
	@tests/system/rr.sh ./vx86

CHECK_TARGETS += check-rr
