# Networking system test (tests/system/net.sh): the test guest's e1000 on
# slirp (DHCP, wget from a host HTTP server, hostfwd to guest httpd) and
# on -netdev socket between two vx86 guests and between vx86 and QEMU;
# QMP/HMP set_link and the guest's carrier.
.PHONY: check-net
check-net: vx86
	@NET_TESTS="slirp link socket qemu" tests/system/net.sh ./vx86 -accel tcg

CHECK_TARGETS += check-net
