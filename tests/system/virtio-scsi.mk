# virtio-scsi and virtio-balloon system tests (tests/system/virtio_scsi_test.py):
# scsi-hd with ext4 and scsi-cd with a GRUB ISO seen and used by the Debian
# guest, fstrim reaching UNMAP, SeaBIOS booting from the scsi-cd; the
# balloon returning guest memory to the host (VmRSS) and giving it back.
# check-full writes the issue's 200 MiB of files instead of 64.
.PHONY: check-virtio-scsi check-virtio-balloon check-virtio-scsi-200M
check-virtio-scsi: vx86
	@tests/system/virtio_scsi_test.py --accel tcg scsi

check-virtio-balloon: vx86
	@tests/system/virtio_scsi_test.py --accel tcg balloon

check-virtio-scsi-200M: vx86
	@VIRTIO_SCSI_MB=200 tests/system/virtio_scsi_test.py --accel tcg scsi

CHECK_TARGETS += check-virtio-scsi check-virtio-balloon
CHECK_FULL_TARGETS += check-virtio-scsi-200M
