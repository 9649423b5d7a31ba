#!/bin/sh
# The USB test guest: the Debian test guest's initramfs (tests/guest/
# mkguest.sh) plus, as a second cpio archive, the USB and input modules of
# the same Debian kernel package (uhci_hcd, xhci_pci, usbhid, hid_generic, evdev and
# what they depend on, from each .ko's depends= field) listed in
# /lib/modules/usb.list for /init's vx86.modules=usb, and the static test
# program /bin/usb-evtest.
#
#   tests/usb/mkinitramfs.sh OUT EVTEST
# Cheap when OUT.stamp holds the SHA-256 of this script, EVTEST and the base
# initramfs that made OUT (content, not modification times: worktrees and
# clones that share .cache would otherwise take each other's OUT as fresh).
set -eu

out=$1
evtest=$2
root=$(cd "$(dirname "$0")/../.." && pwd)
cache=$root/.cache/guest
base=$cache/initramfs.cpio.gz
script=$root/tests/usb/mkinitramfs.sh
MODULES="uhci_hcd xhci_pci usbhid hid_generic evdev"

stamp=$(cat "$script" "$evtest" "$base" | sha256sum | cut -d' ' -f1)
if [ -s "$out" ] && [ "$(cat "$out.stamp" 2>/dev/null)" = "$stamp" ]; then
    exit 0
fi
pkg=$(cat "$cache/kernel-package")
deb=$(find "$cache/debs" -name "${pkg}_*.deb" | head -n 1)
[ -n "$deb" ] || { echo "mkinitramfs: no $pkg .deb in $cache/debs (run tests/guest/mkguest.sh)" >&2; exit 1; }
tmp=$(mktemp -d "${TMPDIR:-/tmp}/vx86-usb.XXXXXX")
trap 'rm -rf "$tmp"' EXIT INT TERM
dpkg-deb --fsys-tarfile "$deb" | (cd "$tmp" && tar -x --wildcards './lib/modules/*/kernel/drivers/usb/*' \
    './lib/modules/*/kernel/drivers/hid/*' './lib/modules/*/kernel/drivers/input/*' 2>/dev/null || true)
find "$tmp/lib/modules" -name '*.ko' | while read -r f; do
    echo "$(basename "$f" .ko | tr - _) $f"
done >"$tmp/modindex"
mkdir -p "$tmp/mods/lib/modules" "$tmp/mods/bin"
: >"$tmp/mods/lib/modules/usb.list"
add_module() {
    local n f d
    n=$(echo "$1" | tr - _)
    grep -qx "$n.ko" "$tmp/mods/lib/modules/usb.list" && return 0
    f=$(awk -v n="$n" '$1 == n { print $2; exit }' "$tmp/modindex")
    [ -n "$f" ] || { echo "mkinitramfs: module $n is not in $pkg" >&2; exit 1; }
    for d in $(tr '\000' '\n' <"$f" | sed -n 's/^depends=//p' | head -n 1 | tr , ' '); do
        add_module "$d"
    done
    cp "$f" "$tmp/mods/lib/modules/$n.ko"
    echo "$n.ko" >>"$tmp/mods/lib/modules/usb.list"
}
for m in $MODULES; do
    add_module "$m"
done
cp "$evtest" "$tmp/mods/bin/usb-evtest"
mkdir -p "$(dirname "$out")"
(cd "$tmp/mods" && find . -mindepth 1 | LC_ALL=C sort |
    cpio -o -H newc -R 0:0 --reproducible --quiet) | gzip -9 -n >"$tmp/mods.cpio.gz"
cat "$base" "$tmp/mods.cpio.gz" >"$out.tmp" && mv "$out.tmp" "$out"
echo "$stamp" >"$out.stamp"
