# Networking system test (tests/system/net.sh): the test guest's e1000 on
# slirp (DHCP, wget from a host HTTP server, hostfwd to guest httpd) and
# on -netdev socket between two vx86 guests and between vx86 and QEMU;
# QMP/HMP set_link and the guest's carrier.
.PHONY: check-net
check-net: vx86
	@NET_TESTS="slirp link socket qemu" tests/system/net.sh ./vx86 -accel tcg

# check-tap: tests/system/tap.sh, -netdev tap (vnet_hdr=off and on) with
# virtio-net in a user + network namespace it makes; the host kernel's
# tap0 counters show the guest's segmentation handed over with vnet_hdr=on.
.PHONY: check-tap
check-tap: vx86
	@tests/system/tap.sh ./vx86 -accel tcg

# check-pxe: tests/system/pxe.sh, -boot n through the NICs' iPXE ROMs
# (e1000, virtio-net) and slirp's DHCP/TFTP to the guest's shell.
.PHONY: check-pxe
check-pxe: vx86
	@tests/system/pxe.sh ./vx86 -accel tcg

CHECK_TARGETS += check-net check-tap check-pxe
