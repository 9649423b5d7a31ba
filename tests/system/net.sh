#!/bin/sh
# System test (issue 16, networking): the test guest with an e1000
# (initramfs-net: e1000.ko + udhcpc's script, vx86.modules=net), or with
# NET_MODEL=virtio-net-pci a virtio-net NIC (initramfs-vnet: virtio_pci,
# virtio_net, vx86.modules=vnet; the QEMU guest gets a virtio-net too).
#
#   slirp     -nic user,model=e1000,hostfwd=...: DHCP gives the guest
#             10.0.2.15; busybox wget fetches a 50 MiB file from a python3
#             http.server on the host's 127.0.0.1 (10.0.2.2 in the guest),
#             md5 equal; the host fetches a file from busybox httpd in the
#             guest through hostfwd, md5 equal.
#   socket    two vx86 guests on -netdev socket (listen/connect), static
#             addresses 10.9.0.1/.2: busybox nc sends 50 MiB from one to
#             the other, md5 equal.
#   qemu      the same between vx86 (listen) and QEMU (connect), when
#             qemu-system-x86_64 is installed.
#   stream    the same on QEMU 7.2's -netdev stream (vx86 server=on, QEMU
#             server=off; a second vx86 when QEMU is missing).
#   mcast     one multicast segment on 127.0.0.1: vx86 A (socket,mcast=),
#             vx86 B (dgram with a multicast remote), QEMU C (socket,mcast=):
#             every pair pings, NET_MB/5 MiB over TCP from B to A and C to A.
#   legacy    (virtio-net only) the driver reloaded with force_legacy=1 on
#             a device with mrg_rxbuf=off: DHCP and a wget of NET_MB/4 MiB
#             over the legacy I/O BAR with the 10-byte header, md5.
#   link      QMP/HMP set_link on the NIC id and the -netdev id: the
#             guest driver's carrier follows, frames stop while down.
#   migrate   (virtio-net only) a guest with virtio-net and a virtserialport
#             saved with QMP migrate to a file and restored in a new vx86:
#             a wget (md5) and the port work after the restore.
#
# pci=noacpi: the direct-boot ACPI tables have no PCI root bridge in the
# DSDT, so Linux only scans PCI with its legacy probe.
#
# Usage: tests/system/net.sh [./vx86] [extra vx86 args, e.g. -accel tcg]
#        NET_TESTS="slirp socket qemu" NET_MB=50 NET_MODEL=e1000 (defaults)
set -eu
VX86=${1:-./vx86}
[ $# -gt 0 ] && shift
root=$(cd "$(dirname "$0")/../.." && pwd)
cache=${VX86_CACHE:-$root/.cache}/guest
tests=${NET_TESTS:-slirp socket qemu}
mb=${NET_MB:-50}
tmp=$(mktemp -d "${TMPDIR:-/tmp}/vx86-net.XXXXXX")
trap 'rm -rf "$tmp"' EXIT INT TERM
command -v python3 >/dev/null 2>&1 || { echo "FAIL: python3 is missing (scripts/deps.sh test)"; exit 1; }
"$root/tests/guest/mkguest.sh" >/dev/null
model=${NET_MODEL:-e1000}
case $model in
virtio*) set=vnet ;;
*) set=net ;;
esac
export NET_KERNEL=$cache/vmlinuz NET_INITRD=$cache/initramfs-$set.cpio.gz NET_TMP=$tmp NET_MB=$mb
export NET_MODEL=$model NET_MODULES=$set
exec python3 "$root/tests/system/net.py" "$VX86" "$tests" "$@"
