# Host CPU of an idle guest's display, vx86 vs QEMU (bench/display.py;
# Xvfb from scripts/deps.sh test).  Not part of check.
.PHONY: bench-display
bench-display: vx86 build/testrom/vga-text.bin build/testrom/vga-textcursor.bin
	python3 bench/display.py
