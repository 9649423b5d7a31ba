# The graphical guest (tests/ui/xguest.py): a Debian 12 disk made with
# debootstrap (tests/ui/mkxguest.sh, cached in .cache/xguest/, rebuilt when
# its recipe changes; needs root and deb.debian.org the first time), booted
# from -hda with -display sdl under Xvfb: Xorg's modesetting driver on
# bochs-drm at 1024x768x32, keys typed with xdotool run a command in the
# xterm, the usb-tablet (on -usb's UHCI, then on -device qemu-xhci) moves
# X's pointer, also after Linux autosuspended it, window == screendump.
#
#   make check-xguest                  (part of check-full)
#   tests/ui/xguest.py --qemu          (the same checks in QEMU)
.PHONY: check-xguest
check-xguest: vx86
	tests/ui/xguest.py --vx86 ./vx86 --image .cache/xguest/xguest.img
	tests/ui/xguest.py --vx86 ./vx86 --image .cache/xguest/xguest.img --xhci

CHECK_FULL_TARGETS += check-xguest
