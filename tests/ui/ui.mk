# Display tests (tests/ui/ui.py): -display sdl under Xvfb (screenshots of
# the window against vx86's own screendump, keys typed with xdotool, the
# grab title) and -display curses under tmux (the pane against the VGA text
# buffer, keys sent with tmux send-keys), with tests/ui/ui-keys.c as guest.
#
#   make check-ui
include tests/testrom/testrom.mk

$(eval $(call testrom_image,ui-keys,tests/ui/ui-keys.c,32))
$(TESTROM_DIR)/ui-keys.o: tests/vga/vga-common.h
$(TESTROM_DIR)/ui-keys.o: TESTROM_CFLAGS32 += -Itests/vga

.PHONY: check-ui
check-ui: vx86 $(TESTROM_DIR)/ui-keys.bin $(TESTROM_DIR)/vga-13h.bin
	tests/ui/ui.py --vx86 ./vx86

CHECK_TARGETS += check-ui
