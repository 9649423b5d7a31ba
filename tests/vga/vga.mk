# VGA oracle: bare-metal images (tests/vga/*.c, tests/testrom framework)
# that program the VGA themselves, run under QEMU and vx86; tests/vga/vgadiff
# compares the two monitors' screendumps pixel for pixel.
#
#   make check-vga      build the images, run the comparison
include tests/testrom/testrom.mk

VGA_IMAGES := vga-text vga-text50 vga-textcursor vga-13h vga-vbe
$(foreach i,$(VGA_IMAGES),$(eval $(call testrom_image,$(i),tests/vga/$(i).c,32)))
$(foreach i,$(VGA_IMAGES),$(eval $(TESTROM_DIR)/$(i).o: tests/vga/vga-common.h tests/vga/vga-text.c))
# The display bench's moving 1024x768x32 picture (bench/display.py): not a
# screendump oracle (it never stands still).
$(eval $(call testrom_image,vga-fbloop,tests/vga/vga-fbloop.c,32))
$(TESTROM_DIR)/vga-fbloop.o: tests/vga/vga-common.h

.PHONY: check-vga vga-images
vga-images: $(VGA_IMAGES:%=$(TESTROM_DIR)/%.bin)
check-vga: vx86 vga-images
	tests/vga/vgadiff $(VGA_IMAGES)

CHECK_TARGETS += check-vga
