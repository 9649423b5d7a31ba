#!/bin/sh
# System test (issue 12): real-firmware boots through SeaBIOS and GRUB.
#
#   1. A GRUB ISO made here with grub-mkrescue (tests/guest/mkgrub.sh iso)
#      holding the test guest's kernel and initramfs-ide, its grub.cfg on
#      the serial console: booted with -cdrom (SeaBIOS El Torito through
#      the ATAPI CD-ROM) to the guest's shell; the same file booted with
#      -hda (grub-mkrescue's hybrid MBR) to the shell.
#   2. A raw disk (tests/guest/mkgrub.sh disk): MBR partition table, an
#      ext4 partition made with mke2fs -d, GRUB's boot.img + a grub-mkimage
#      core image written in place (no loop devices, no grub-install).
#      Booted from -hda; the guest mounts /dev/sda1, reads a host file,
#      writes a file, syncs, unmounts, powers off; on the host, debugfs on
#      the partition reads the guest's bytes back and fsck.ext4 -fn is
#      clean.
#
# Usage: tests/system/grub.sh [./vx86] [extra vx86 args, e.g. -accel tcg]
set -eu
VX86=${1:-./vx86}
[ $# -gt 0 ] && shift
root=$(cd "$(dirname "$0")/../.." && pwd)
cache=${VX86_CACHE:-$root/.cache}/guest
PATH=$PATH:/sbin:/usr/sbin
fail=0
tmp=$(mktemp -d "${TMPDIR:-/tmp}/vx86-grub.XXXXXX")
trap 'rm -rf "$tmp"' EXIT INT TERM

pass() { echo "PASS: $*"; }
bad() { echo "FAIL: $*"; fail=1; }

for tool in grub-mkrescue grub-mkimage xorriso mformat sfdisk mke2fs debugfs fsck.ext4 python3; do
    command -v "$tool" >/dev/null 2>&1 || { echo "FAIL: '$tool' is missing (scripts/deps.sh test)"; exit 1; }
done
"$root/tests/guest/mkguest.sh" >/dev/null
session=$root/tests/system/serial-session.py
# SeaBIOS's serial console redraws the text screen with cursor moves that
# may split a line ("We<ESC>[04;02Hlcome to GRUB"): match without them.
plain() { sed 's/\x1b\[[0-9;?]*[A-Za-z]//g'; }

cat >"$tmp/grub.cfg" <<'EOF'
serial --unit=0 --speed=115200
terminal_input serial
terminal_output serial
set timeout=0
menuentry "vx86 test guest" {
    linux /boot/vmlinuz console=ttyS0 quiet vx86.modules=ide
    initrd /boot/initramfs-ide.cpio.gz
}
EOF

# ---- 1. the ISO, as a CD and as a hard disk ----
"$root/tests/guest/mkgrub.sh" iso "$tmp/grub.iso" "$tmp/grub.cfg" \
    "$cache/vmlinuz" "$cache/initramfs-ide.cpio.gz"
for how in -cdrom -hda; do
    out=$(python3 "$session" --timeout 90 --cmd 'uname -r' -- \
        "$VX86" -m 256M -nographic "$how" "$tmp/grub.iso" "$@" | plain)
    if echo "$out" | grep -q "session: ready=yes" && echo "$out" | grep -q "Welcome to GRUB" &&
        echo "$out" | grep -q "session: exit=0"; then
        pass "GRUB ISO with $how: SeaBIOS -> GRUB -> the guest's shell ($(echo "$out" | sed -n 's/session: seconds-to-ready=//p') s), poweroff"
    else
        bad "GRUB ISO with $how:"
        echo "$out" | head -c 2000 | cat -v | sed 's/^/  /'
    fi
done

# ---- 2. MBR + ext4 + GRUB installed by hand ----
mkdir -p "$tmp/root/boot"
cp "$cache/vmlinuz" "$cache/initramfs-ide.cpio.gz" "$tmp/root/boot/"
head -c 100000 /dev/urandom >"$tmp/root/host.bin"
host_sum=$(md5sum <"$tmp/root/host.bin" | cut -d' ' -f1)
"$root/tests/guest/mkgrub.sh" disk "$tmp/disk.img" 64 "$tmp/grub.cfg" "$tmp/root"
out=$(python3 "$session" --timeout 90 \
    --cmd 'for i in $(seq 100); do [ -b /dev/sda1 ] && break; sleep 0.1; done; mkdir -p /mnt; mount -t ext4 /dev/sda1 /mnt || { echo guest-mount-failed; cat /proc/partitions; dmesg | tail -n 20; }' \
    --cmd 'echo "guest-pci=$(ls /sys/bus/pci/devices | tr "\n" ,)"' \
    --cmd 'echo "guest-host=$(md5sum </mnt/host.bin | cut -d" " -f1)"' \
    --cmd 'dd if=/dev/urandom of=/mnt/guest.bin bs=1024 count=300 2>/dev/null; sync; echo "guest-wrote=$(md5sum </mnt/guest.bin | cut -d" " -f1)"' \
    --cmd 'umount /mnt; sync' -- \
    "$VX86" -m 256M -nographic -hda "$tmp/disk.img" "$@" | plain)
if echo "$out" | grep -q "session: ready=yes" && echo "$out" | grep -q "GRUB loading"; then
    pass "MBR disk: boot.img + core.img -> GRUB -> the guest's shell"
else
    bad "MBR disk did not boot:"
    echo "$out" | tail -n 15 | sed 's/^/  /'
fi
want_pci="0000:00:00.0,0000:00:01.0,0000:00:01.1,0000:00:01.3,0000:00:02.0,"
echo "$out" | grep -q "^guest-pci=$want_pci" &&
    pass "/sys/bus/pci lists every function (SeaBIOS's tables; no spurious hotplug eject)" ||
    bad "PCI functions: $(echo "$out" | grep '^guest-pci=' || true) (want $want_pci)"
echo "$out" | grep -q "^guest-host=$host_sum" && pass "guest reads the host's file from ext4 on /dev/sda1" ||
    bad "guest read of host.bin (want $host_sum): $(echo "$out" | grep '^guest-host=' || true)"
echo "$out" | grep -q "session: exit=0" && pass "guest powered off (exit 0)" ||
    bad "guest exit: $(echo "$out" | grep 'session: exit=')"
"$root/tests/guest/mkgrub.sh" partition "$tmp/disk.img" "$tmp/part.img"
wsum=$(echo "$out" | sed -n 's/^guest-wrote=\([0-9a-f]*\).*/\1/p')
hsum=$(debugfs -R 'cat /guest.bin' "$tmp/part.img" 2>/dev/null | md5sum | cut -d' ' -f1)
if [ -n "$wsum" ] && [ "$wsum" = "$hsum" ]; then
    pass "debugfs reads what the guest wrote"
else
    bad "written file: guest '$wsum', debugfs '$hsum'"
fi
if fsck.ext4 -fn "$tmp/part.img" >"$tmp/fsck.log" 2>&1; then
    pass "fsck.ext4 -fn of the partition clean"
else
    bad "fsck.ext4 -fn:"
    sed 's/^/  /' "$tmp/fsck.log"
fi
[ "$fail" = 0 ] || [ -z "${GRUB_DEBUG:-}" ] || echo "$out"
exit $fail
