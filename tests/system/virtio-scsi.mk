# virtio-scsi and virtio-balloon system tests (tests/system/virtio_scsi_test.py):
# scsi-hd with ext4 and scsi-cd with a GRUB ISO seen and used by the Debian
# guest, fstrim reaching UNMAP; the balloon returning guest memory to the
# host (VmRSS) and giving it back.
.PHONY: check-virtio-scsi check-virtio-balloon
check-virtio-scsi: vx86
	@tests/system/virtio_scsi_test.py --accel tcg scsi

check-virtio-balloon: vx86
	@tests/system/virtio_scsi_test.py --accel tcg balloon

CHECK_TARGETS += check-virtio-scsi check-virtio-balloon
