#!/bin/sh
# System test (issue 16): -boot n through the NICs' iPXE option ROMs
# (Debian's ipxe-qemu), slirp's DHCP and TFTP, to the test guest's shell
# (tests/system/pxe.py).  SKIP without the ROMs.
#
# Usage: tests/system/pxe.sh [./vx86] [extra vx86 args]
set -eu
VX86=${1:-./vx86}
[ $# -gt 0 ] && shift
root=$(cd "$(dirname "$0")/../.." && pwd)
cache=${VX86_CACHE:-$root/.cache}/guest
found=
for d in /usr/share/qemu /usr/lib/ipxe/qemu; do
    [ -f "$d/efi-e1000.rom" ] && [ -f "$d/efi-virtio.rom" ] && found=1
done
[ -n "$found" ] || { echo "SKIP: pxe: no efi-e1000.rom/efi-virtio.rom (apt-get install ipxe-qemu)"; exit 0; }
"$root/tests/guest/mkguest.sh" >/dev/null
tmp=$(mktemp -d "${TMPDIR:-/tmp}/vx86-pxe.XXXXXX")
trap 'rm -rf "$tmp"' EXIT INT TERM
export NET_KERNEL=$cache/vmlinuz NET_INITRD=$cache/initramfs.cpio.gz
python3 "$root/tests/system/pxe.py" "$VX86" "$tmp" "$@"
