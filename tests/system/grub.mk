# Real-firmware boots through SeaBIOS and GRUB (tests/system/grub.sh): a
# grub-mkrescue ISO as -cdrom and as -hda, and an MBR + ext4 disk with GRUB
# written in place, checked from both sides (debugfs, fsck.ext4).
.PHONY: check-grub
check-grub: vx86
	@tests/system/grub.sh ./vx86 -accel tcg

CHECK_TARGETS += check-grub
