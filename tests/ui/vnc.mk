# VNC tests (tests/ui/vnc.py): -vnc served to real clients - Debian's
# vncsnapshot (frames against the screendump), xtightvncviewer under Xvfb
# driven by xdotool (keys and mouse into tests/ui/ui-keys.c and a Linux
# shell), VNC passwords set from the monitor and QMP, garbage and abrupt
# disconnects, several clients, mode changes (tests/ui/vnc-modes.c).
# check-vnc-browser (check-full): headless Chromium on noVNC's vnc.html
# over the WebSocket port.
#
#   make check-vnc
#   make check-vnc-browser
include tests/testrom/testrom.mk

$(eval $(call testrom_image,vnc-modes,tests/ui/vnc-modes.c,32))
$(TESTROM_DIR)/vnc-modes.o: tests/vga/vga-common.h
$(TESTROM_DIR)/vnc-modes.o: TESTROM_CFLAGS32 += -Itests/vga

VNC_TEST_DEPS := vx86 $(TESTROM_DIR)/ui-keys.bin $(TESTROM_DIR)/vnc-modes.bin

.PHONY: check-vnc check-vnc-browser
check-vnc: $(VNC_TEST_DEPS)
	tests/ui/vnc.py --vx86 ./vx86

check-vnc-browser: $(VNC_TEST_DEPS)
	tests/ui/vnc.py --vx86 ./vx86 browser

CHECK_TARGETS += check-vnc
CHECK_FULL_TARGETS += check-vnc-browser
