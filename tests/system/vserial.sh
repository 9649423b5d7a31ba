#!/bin/sh
# System test (issue 16): virtio-serial-pci with a virtconsole and a named
# virtserialport on Unix-socket chardevs, checked against Linux's
# virtio_console driver in the test guest (initramfs-vnet,
# vx86.modules=vnet).  See tests/system/vserial.py for what is checked.
#
# Usage: tests/system/vserial.sh [./vx86] [extra vx86 args, e.g. -accel tcg]
set -eu
VX86=${1:-./vx86}
[ $# -gt 0 ] && shift
root=$(cd "$(dirname "$0")/../.." && pwd)
cache=${VX86_CACHE:-$root/.cache}/guest
tmp=$(mktemp -d "${TMPDIR:-/tmp}/vx86-vserial.XXXXXX")
trap 'rm -rf "$tmp"' EXIT INT TERM
command -v python3 >/dev/null 2>&1 || { echo "FAIL: python3 is missing (scripts/deps.sh test)"; exit 1; }
"$root/tests/guest/mkguest.sh" >/dev/null
export VS_KERNEL=$cache/vmlinuz VS_INITRD=$cache/initramfs-vnet.cpio.gz VS_TMP=$tmp
exec python3 "$root/tests/system/vserial.py" "$VX86" "$@"
