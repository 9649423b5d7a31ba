# Linux's framebuffer drivers on the standard VGA against QEMU
# (tests/system/fbdiff.py): bochs-drm (mode from the VGA's EDID, DISPI,
# linear framebuffer) and vesafb (-bios + -kernel vga=0x318: the setup code
# sets a VESA mode through vgabios-stdvga), GRUB's gfxterm menu at 1024x768x32
# from a GRUB ISO; colour bands the guest draws,
# vx86's screendump equal to QEMU's.
.PHONY: check-fb
check-fb: vx86
	@tests/guest/mkguest.sh >/dev/null && \
	  python3 tests/system/fbdiff.py ./vx86 .cache/guest/vmlinuz .cache/guest/initramfs-fb.cpio.gz

CHECK_TARGETS += check-fb
