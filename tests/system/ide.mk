# IDE system test (tests/system/ide.sh): the test guest with -hda (ext4
# made with mke2fs -d) and -cdrom (xorriso) on the PIIX3 IDE controller,
# checked from both sides (debugfs, fsck.ext4), plus -snapshot.
.PHONY: check-ide
check-ide: vx86
	@tests/system/ide.sh ./vx86 -accel tcg

CHECK_TARGETS += check-ide
