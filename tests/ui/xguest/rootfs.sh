#!/bin/sh
# Stage 1 of tests/ui/mkxguest.sh: Debian 12 (bookworm) from Debian's
# packages with debootstrap (minbase: no systemd in the boot path), and an
# initramfs (Debian's initramfs-tools) with only the disk drivers
# (MODULES=list: the host's hardware means nothing here), as a tar.
#
#   rootfs.sh OUT.tar.zst DEBS_DIR
# Needs root (debootstrap's chroot, file ownership) and deb.debian.org
# (the .debs are kept in DEBS_DIR for the next build).
set -eu

die() {
    echo "mkxguest: $*" >&2
    exit 1
}

out=$1
debs=$2
SUITE=bookworm
MIRROR=${VX86_DEBIAN_MIRROR:-http://deb.debian.org/debian}
PACKAGES=linux-image-amd64,initramfs-tools,udev,kmod,xserver-xorg-core,xserver-xorg-input-libinput,xterm,x11-utils,xdotool,xfonts-base
INITRD_MODULES="ata_piix ata_generic sd_mod ext4"

PATH=$PATH:/sbin:/usr/sbin
command -v debootstrap >/dev/null 2>&1 || die "debootstrap is missing (run scripts/deps.sh test as root)"
[ "$(id -u)" = 0 ] || die "debootstrap needs root (chroot, file ownership)"
mkdir -p "$debs"
tmp=$(mktemp -d "${TMPDIR:-/tmp}/vx86-xguest.XXXXXX")
sysroot=$tmp/sysroot        # the guest system being built
trap 'umount "$sysroot/proc" 2>/dev/null || true; rm -rf "$tmp"' EXIT INT TERM
echo "mkxguest: debootstrap $SUITE into $sysroot (several minutes)" >&2
if ! debootstrap --variant=minbase --cache-dir="$debs" --include="$PACKAGES" \
        "$SUITE" "$sysroot" "$MIRROR" >"$tmp/debootstrap.log" 2>&1; then
    tail -n 20 "$tmp/debootstrap.log" | sed 's/^/mkxguest:   /' >&2
    [ -f "$sysroot/debootstrap/debootstrap.log" ] &&
        tail -n 20 "$sysroot/debootstrap/debootstrap.log" | sed 's/^/mkxguest:   /' >&2
    die "debootstrap failed"
fi

printf 'MODULES=list\nCOMPRESS=gzip\n' >"$sysroot/etc/initramfs-tools/conf.d/vx86"
printf '%s\n' $INITRD_MODULES >"$sysroot/etc/initramfs-tools/modules"
mount -t proc proc "$sysroot/proc"
chroot "$sysroot" update-initramfs -u -k all >"$tmp/initramfs.log" 2>&1 ||
    { sed 's/^/mkxguest:   /' "$tmp/initramfs.log" >&2; die "update-initramfs failed"; }
umount "$sysroot/proc"
rm -rf "$sysroot/boot"/*.dpkg-bak "$sysroot/boot"/*.new "$sysroot/usr/share/doc" \
    "$sysroot/usr/share/man" "$sysroot/usr/share/locale" "$sysroot/var/cache/apt"/*.bin \
    "$sysroot/var/lib/apt/lists"/* "$sysroot/var/cache/apt/archives"/*.deb
tar -C "$sysroot" --numeric-owner -cf - . | zstd -q -T0 -3 >"$out.tmp"
mv "$out.tmp" "$out"
