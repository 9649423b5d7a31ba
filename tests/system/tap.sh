#!/bin/sh
# System test (issue 16): -netdev tap with the test guest's virtio-net,
# vnet_hdr=off and =on, inside a user + network namespace made here
# (unshare -rn), so nothing outside it changes (tests/system/tap.py).
#
# Usage: tests/system/tap.sh [./vx86] [extra vx86 args]   NET_MB=20 (default)
set -eu
VX86=${1:-./vx86}
[ $# -gt 0 ] && shift
root=$(cd "$(dirname "$0")/../.." && pwd)
cache=${VX86_CACHE:-$root/.cache}/guest
for tool in unshare ip python3; do
    command -v "$tool" >/dev/null 2>&1 || PATH=$PATH:/sbin:/usr/sbin
    command -v "$tool" >/dev/null 2>&1 || { echo "SKIP: tap: '$tool' is missing"; exit 0; }
done
if [ ! -c /dev/net/tun ] || ! unshare -rn true 2>/dev/null; then
    echo "SKIP: tap: no /dev/net/tun or no user/network namespaces here"
    exit 0
fi
"$root/tests/guest/mkguest.sh" >/dev/null
export NET_KERNEL=$cache/vmlinuz NET_INITRD=$cache/initramfs-vnet.cpio.gz
exec unshare -rn python3 "$root/tests/system/tap.py" "$VX86" "$@"
