# Debian's installer from a GRUB ISO to its language dialog, vx86's
# screendump against QEMU's (tests/system/installer.py; a few minutes:
# check-full).
.PHONY: check-installer
check-installer: vx86
	@tests/system/installer.py --vx86 ./vx86

CHECK_FULL_TARGETS += check-installer

# The same installer over the network (issue 16): -boot n, iPXE, slirp's
# TFTP serving Debian's netboot tree, pxelinux's menu, then three dialogs
# (language, location, keyboard) each against QEMU's screendump.
.PHONY: check-netboot-installer
check-netboot-installer: vx86
	@tests/system/installer.py --vx86 ./vx86 --netboot

CHECK_FULL_TARGETS += check-netboot-installer

# Debian's graphical installer (issue 13): the gtk tree over the network,
# vx86 in an SDL window on Xvfb; keys and the usb-tablet (xdotool) walk the
# first two dialogs, each step's screendump against QEMU's fed the same
# input (tests/system/gtk_installer.py).
.PHONY: check-gtk-installer
check-gtk-installer: vx86
	@tests/system/gtk_installer.py --vx86 ./vx86

CHECK_FULL_TARGETS += check-gtk-installer
