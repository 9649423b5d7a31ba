# Host CPU of showing a guest screen (idle text, a redrawn 1024x768x32 framebuffer), vx86 vs QEMU (bench/display.py;
# Xvfb from scripts/deps.sh test).  Not part of check.
.PHONY: bench-display
bench-display: vx86 build/testrom/vga-text.bin build/testrom/vga-textcursor.bin build/testrom/vga-fbloop.bin
	python3 bench/display.py
