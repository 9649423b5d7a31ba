# Deterministic execution and record/replay (docs/record-replay.md): the
# Debian test guest recorded with typed serial input, a virtio disk and
# virtio-rng, replayed three times; damaged logs refused; a bare-metal
# image replayed under the interpreter (tests/system/rr.sh).
.PHONY: check-rr
check-rr: vx86 testrom-images
	@tests/system/rr.sh ./vx86

CHECK_TARGETS += check-rr

# The same with user networking: DHCP and ping replayed (slow: check-full).
.PHONY: check-rr-net
check-rr-net: vx86
	@tests/system/rr.sh ./vx86 --net

CHECK_FULL_TARGETS += check-rr-net
