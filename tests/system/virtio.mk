# virtio system test (tests/system/virtio.sh): ext4 on virtio-blk written
# in one boot, checked in a second (modern with 2 queues, then the legacy
# interface), fsck.ext4 on the host; /dev/hwrng from virtio-rng.
.PHONY: check-virtio
check-virtio: vx86
	@tests/system/virtio.sh ./vx86 -accel tcg

CHECK_TARGETS += check-virtio
