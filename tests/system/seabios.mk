# SeaBIOS (the default firmware) to "No bootable device" (tests/system/seabios.sh).
.PHONY: check-seabios
CHECK_TARGETS += check-seabios

check-seabios: vx86
	tests/system/seabios.sh ./vx86
