#!/bin/sh
# Builds GRUB-booted images for the firmware boot tests and benchmarks,
# from Debian's grub-pc-bin (BIOS GRUB), xorriso, mtools, fdisk (sfdisk) and
# e2fsprogs, without root and without loop devices:
#
#   mkgrub.sh iso OUT.iso GRUB.CFG FILE...
#       grub-mkrescue image (El Torito no-emulation boot + the hybrid MBR
#       that lets the same file boot as a hard disk); GRUB.CFG becomes
#       /boot/grub/grub.cfg, each FILE is copied to /boot/.
#
#   mkgrub.sh disk OUT.img SIZE_MIB GRUB.CFG ROOTDIR
#       a raw disk: an MBR partition table (sfdisk) with one Linux
#       partition from sector 2048 holding an ext4 file system made with
#       `mke2fs -d ROOTDIR -E offset=...` straight into the image file,
#       GRUB.CFG at /boot/grub/grub.cfg; GRUB installed as grub-install
#       would on a BIOS disk: boot.img's code in the MBR (the partition
#       table and disk signature kept) with its kernel-sector field (0x5c,
#       LBA of the core image) set to 1, and a `grub-mkimage` core image
#       (diskboot.img + the kernel with biosdisk, part_msdos, ext2, ...
#       and the prefix (hd0,msdos1)/boot/grub) in the gap after the MBR,
#       its blocklist (the last 12 bytes of its first sector: LBA of the
#       rest, sector count, load segment) pointing at sector 2.
#
#   mkgrub.sh partition DISK.img OUT.img
#       copies the first partition out of DISK.img (for debugfs/fsck).
set -eu

die() {
    echo "mkgrub: $*" >&2
    exit 1
}

PATH=$PATH:/sbin:/usr/sbin
GRUB_DIR=${GRUB_DIR:-/usr/lib/grub/i386-pc}
PART_START=2048

need() {
    for tool in "$@"; do
        command -v "$tool" >/dev/null 2>&1 ||
            die "'$tool' is missing (run scripts/deps.sh test as root)"
    done
    [ -f "$GRUB_DIR/boot.img" ] || die "$GRUB_DIR/boot.img is missing (Debian package grub-pc-bin)"
}

cmd_iso() { # out cfg files...
    [ $# -ge 2 ] || die "usage: mkgrub.sh iso OUT.iso GRUB.CFG FILE..."
    need grub-mkrescue xorriso mformat
    out=$1 cfg=$2
    shift 2
    tmp=$(mktemp -d "${TMPDIR:-/tmp}/vx86-mkgrub.XXXXXX")
    mkdir -p "$tmp/iso/boot/grub"
    cp "$cfg" "$tmp/iso/boot/grub/grub.cfg"
    for f in "$@"; do
        cp "$f" "$tmp/iso/boot/"
    done
    if ! grub-mkrescue -d "$GRUB_DIR" -o "$out.tmp" "$tmp/iso" >"$tmp/log" 2>&1; then
        sed 's/^/mkgrub:   /' "$tmp/log" >&2
        rm -rf "$tmp"
        die "grub-mkrescue failed"
    fi
    rm -rf "$tmp"
    mv "$out.tmp" "$out"
}

# Little-endian field writes into a file at a byte offset.
put_le() { # file offset bytes value
    v=$4 i=0 s=""
    while [ "$i" -lt "$3" ]; do
        s="$s$(printf '\\%03o' $((v & 255)))"
        v=$((v >> 8)) i=$((i + 1))
    done
    printf "$s" | dd of="$1" bs=1 seek="$2" conv=notrunc status=none
}

cmd_disk() { # out size_mib cfg rootdir
    [ $# -eq 4 ] || die "usage: mkgrub.sh disk OUT.img SIZE_MIB GRUB.CFG ROOTDIR"
    need sfdisk mke2fs grub-mkimage
    out=$1 size=$2 cfg=$3 rootdir=$4
    tmp=$(mktemp -d "${TMPDIR:-/tmp}/vx86-mkgrub.XXXXXX")
    mkdir -p "$tmp/root"
    cp -a "$rootdir/." "$tmp/root/" || die "cannot copy $rootdir"
    mkdir -p "$tmp/root/boot/grub"
    cp "$cfg" "$tmp/root/boot/grub/grub.cfg"
    rm -f "$out"
    truncate -s "${size}M" "$out"
    echo "start=$PART_START, type=83" | sfdisk -q "$out" >/dev/null || die "sfdisk failed"
    kib=$(( (size * 1024 * 1024 - PART_START * 512) / 1024 ))
    mke2fs -q -t ext4 -d "$tmp/root" -E offset=$((PART_START * 512)) -F "$out" "${kib}k" ||
        die "mke2fs failed"
    grub-mkimage -d "$GRUB_DIR" -O i386-pc -o "$tmp/core.img" -p '(hd0,msdos1)/boot/grub' \
        biosdisk part_msdos ext2 normal linux serial terminal configfile echo test boot gzio ||
        die "grub-mkimage failed"
    core_bytes=$(stat -c %s "$tmp/core.img")
    [ $((512 + core_bytes)) -le $((PART_START * 512)) ] ||
        die "core image ($core_bytes bytes) does not fit before sector $PART_START"
    # boot.img's code (440 bytes; the disk signature and partition table
    # at 440-509 and 0x55AA stay as sfdisk wrote them).
    dd if="$GRUB_DIR/boot.img" of="$out" bs=440 count=1 conv=notrunc status=none
    put_le "$out" $((0x5c)) 8 1                         # kernel sector: LBA 1
    dd if="$tmp/core.img" of="$out" bs=512 seek=1 conv=notrunc status=none
    put_le "$out" $((512 + 0x1f4)) 8 2                  # blocklist: rest at LBA 2
    rm -rf "$tmp"
}

cmd_partition() { # disk out
    [ $# -eq 2 ] || die "usage: mkgrub.sh partition DISK.img OUT.img"
    need sfdisk
    line=$(sfdisk -d "$1" | grep 'start=' | head -n 1)
    start=$(echo "$line" | sed -n 's/.*start= *\([0-9]*\).*/\1/p')
    count=$(echo "$line" | sed -n 's/.*size= *\([0-9]*\).*/\1/p')
    [ -n "$start" ] && [ -n "$count" ] || die "$1: no partition"
    dd if="$1" of="$2" bs=512 skip="$start" count="$count" status=none
}

case "${1:-}" in
    iso) shift; cmd_iso "$@" ;;
    disk) shift; cmd_disk "$@" ;;
    partition) shift; cmd_partition "$@" ;;
    *) die "usage: mkgrub.sh iso|disk|partition ..." ;;
esac
