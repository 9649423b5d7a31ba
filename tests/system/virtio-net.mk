# virtio-net and virtio-serial system tests (issue 16):
#   check-virtio-net     tests/system/net.sh with NET_MODEL=virtio-net-pci: DHCP,
#                        50 MiB wget over slirp, hostfwd, 50 MiB between two vx86
#                        guests (and, in check-virtio-net-full, between vx86 and
#                        QEMU) on -netdev socket, and
#                        the legacy interface with mrg_rxbuf=off (12.5 MiB wget), a
#                        save/restore with virtio-net and virtio-serial (QMP migrate),
#                        QMP/HMP set_link (the guest's carrier); check-virtio-net-full:
#                        vx86 and QEMU on -netdev stream, and a multicast segment
#                        (socket,mcast= and dgram) of two vx86 guests and a QEMU guest
#   check-virtio-serial  tests/system/vserial.sh: virtconsole (/dev/hvc0) and a
#                        named virtserialport on socket chardevs, both ways
.PHONY: check-virtio-net check-virtio-serial
check-virtio-net: vx86
	@NET_MODEL=virtio-net-pci NET_TESTS="slirp legacy migrate link socket" tests/system/net.sh ./vx86 -accel tcg

# The parts with a QEMU guest and the multicast segment (three guests): in
# check-full, to keep make check within its time (check-net's e1000 keeps
# a vx86-QEMU socket link in make check).
.PHONY: check-virtio-net-full
check-virtio-net-full: vx86
	@NET_MODEL=virtio-net-pci NET_TESTS="qemu stream mcast" tests/system/net.sh ./vx86 -accel tcg

CHECK_FULL_TARGETS += check-virtio-net-full

check-virtio-serial: vx86
	@tests/system/vserial.sh ./vx86 -accel tcg

CHECK_TARGETS += check-virtio-net check-virtio-serial
