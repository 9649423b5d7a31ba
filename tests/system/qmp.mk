# QMP session and save/restore/migration of the Linux test guest
# (tests/system/qmp_test.py, tests/system/migrate_test.py); the commands
# that describe the VM: schema, block statistics, capabilities
# (tests/system/qmp_cmds_test.py).
# CD-ROM eject / change with the Linux guest (tests/system/qmp_media_test.py;
# check-qmp-media-qemu runs the same script on QEMU and compares).
.PHONY: check-qmp check-qmp-cmds check-qmp-media check-qmp-media-qemu check-migrate
check-qmp: vx86
	@tests/system/qmp_test.py --accel tcg

check-qmp-cmds: vx86
	@tests/system/qmp_cmds_test.py --accel tcg

check-qmp-media: vx86
	@tests/system/qmp_media_test.py --accel tcg

check-qmp-media-qemu: vx86
	@tests/system/qmp_media_test.py --accel tcg --compare-qemu

check-migrate: vx86
	@tests/system/migrate_test.py --accel tcg

CHECK_TARGETS += check-qmp check-qmp-cmds check-qmp-media check-migrate
CHECK_FULL_TARGETS += check-qmp-media-qemu
