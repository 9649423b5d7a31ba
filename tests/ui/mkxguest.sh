#!/bin/sh
# The graphical test guest of tests/ui/xguest.py: Debian 12 with Xorg,
# xterm and xdotool in a BIOS-GRUB raw disk (tests/guest/mkgrub.sh disk),
# booted from -hda.  Two cached stages in OUT's folder:
#   rootfs.tar.zst  debootstrap's system and initramfs (tests/ui/xguest/
#                   rootfs.sh; root and deb.debian.org needed, ~10 min);
#   OUT             that system plus the guest's init (tests/ui/xguest/
#                   vx86-xtest, no systemd) and X configuration
#                   (tests/ui/xguest/xorg.conf), GRUB booting the kernel
#                   with init=/sbin/vx86-xtest (~1 min).
#
#   tests/ui/mkxguest.sh OUT.img
# Each stage is cheap when its .stamp holds the SHA-256 of what makes it
# (content, not modification times: worktrees share .cache).
set -eu

die() {
    echo "mkxguest: $*" >&2
    exit 1
}

[ $# -eq 1 ] || die "usage: mkxguest.sh OUT.img"
out=$1
root=$(cd "$(dirname "$0")/../.." && pwd)
src=$root/tests/ui/xguest
mkdir -p "$(dirname "$out")"
cache=$(cd "$(dirname "$out")" && pwd)
rootfs=$cache/rootfs.tar.zst

fresh() { # file stamp
    [ -s "$1" ] && [ "$(cat "$1.stamp" 2>/dev/null)" = "$2" ]
}

rootfs_stamp=$(sha256sum <"$src/rootfs.sh" | cut -d' ' -f1)
if ! fresh "$rootfs" "$rootfs_stamp"; then
    sh "$src/rootfs.sh" "$rootfs" "$cache/debs"
    echo "$rootfs_stamp" >"$rootfs.stamp"
fi
stamp=$(cat "$0" "$root/tests/guest/mkgrub.sh" "$src"/* "$rootfs.stamp" | sha256sum | cut -d' ' -f1)
fresh "$out" "$stamp" && exit 0

tmp=$(mktemp -d "${TMPDIR:-/tmp}/vx86-xguest.XXXXXX")
sysroot=$tmp/sysroot        # the guest system being built
trap 'rm -rf "$tmp"' EXIT INT TERM
mkdir "$sysroot"
zstd -q -dc "$rootfs" | tar -C "$sysroot" --numeric-owner -xf - || die "cannot unpack $rootfs"
install -m 755 "$src/vx86-xtest" "$sysroot/sbin/vx86-xtest"
install -m 644 "$src/xorg.conf" "$sysroot/etc/X11/xorg.conf"
echo xguest >"$sysroot/etc/hostname"

kernel=$(cd "$sysroot/boot" && ls vmlinuz-* | head -n 1)
initrd=$(cd "$sysroot/boot" && ls initrd.img-* | head -n 1)
[ -n "$kernel" ] && [ -n "$initrd" ] || die "no kernel or initrd in /boot"
cat >"$tmp/grub.cfg" <<CFG
serial --unit=0 --speed=115200
terminal_input serial console
terminal_output serial console
set timeout=0
menuentry xguest {
    linux /boot/$kernel root=/dev/sda1 ro console=ttyS0,115200 loglevel=4 init=/sbin/vx86-xtest
    initrd /boot/$initrd
}
CFG
used=$(du -sm "$sysroot" | cut -f1)
size=$((used + used / 4 + 128))
"$root/tests/guest/mkgrub.sh" disk "$out.tmp" "$size" "$tmp/grub.cfg" "$sysroot"
mv "$out.tmp" "$out"
echo "$stamp" >"$out.stamp"
echo "mkxguest: $out (${size} MiB, $kernel)" >&2
