# QMP session and save/restore/migration of the Linux test guest
# (tests/system/qmp_test.py, tests/system/migrate_test.py); the commands
# that describe the VM: schema, block statistics, capabilities
# (tests/system/qmp_cmds_test.py).
.PHONY: check-qmp check-qmp-cmds check-migrate
check-qmp: vx86
	@tests/system/qmp_test.py --accel tcg

check-qmp-cmds: vx86
	@tests/system/qmp_cmds_test.py --accel tcg

check-migrate: vx86
	@tests/system/migrate_test.py --accel tcg

CHECK_TARGETS += check-qmp check-qmp-cmds check-migrate
