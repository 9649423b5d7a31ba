# USB (tests/usb/usb.py): -usb -device usb-tablet -device usb-kbd with the
# Debian test guest's uhci_hcd/usbhid/evdev (tests/usb/mkinitramfs.sh adds
# them and the static tests/usb/usb-evtest.c to the guest's initramfs, in
# .cache/usb/): enumeration, EV_ABS values for QMP input-send-event and for
# xdotool under Xvfb with -display sdl, keys to evdev and to tty1, a
# migration round trip; compared with qemu-system-x86_64 when installed.
USB_EVTEST := build/usb/usb-evtest
USB_INITRD := .cache/usb/initramfs-usb.cpio.gz

$(USB_EVTEST): tests/usb/usb-evtest.c
	@mkdir -p $(dir $@)
	$(CC) -static -O2 -Wall -o $@ $<

.PHONY: check-usb
check-usb: vx86 $(USB_EVTEST)
	@tests/guest/mkguest.sh >/dev/null && \
	  tests/usb/mkinitramfs.sh $(USB_INITRD) $(USB_EVTEST) && \
	  python3 tests/usb/usb.py ./vx86 .cache/guest/vmlinuz $(USB_INITRD) --sdl

CHECK_TARGETS += check-usb

# xHCI (tests/usb/usb.py --xhci): the same guest and checks with
# -device qemu-xhci and Debian's xhci_pci/xhci_hcd (MSI-X, then INTx with
# pci=nomsi), compared with QEMU's qemu-xhci when installed.
.PHONY: check-xhci
check-xhci: vx86 $(USB_EVTEST)
	@tests/guest/mkguest.sh >/dev/null && \
	  tests/usb/mkinitramfs.sh $(USB_INITRD) $(USB_EVTEST) && \
	  python3 tests/usb/usb.py ./vx86 .cache/guest/vmlinuz $(USB_INITRD) --xhci

CHECK_TARGETS += check-xhci

# usb-hub (tests/usb/usb.py --hub): -usb with a hub on root port 1 and
# three HID devices; Linux's hub driver, the topology compared with QEMU's.
.PHONY: check-usb-hub
check-usb-hub: vx86 $(USB_EVTEST)
	@tests/guest/mkguest.sh >/dev/null && \
	  tests/usb/mkinitramfs.sh $(USB_INITRD) $(USB_EVTEST) && \
	  python3 tests/usb/usb.py ./vx86 .cache/guest/vmlinuz $(USB_INITRD) --hub

CHECK_TARGETS += check-usb-hub
