#!/bin/bash
# Linked clones (tests/system/vmdk.mk, check-linked-clones): two vx86
# guests run at the same time, each on its own qcow2 overlay (qemu-img
# create -b) of one template (the GRUB disk of tests/guest/mkgrub.sh as a
# qcow2 image made by qemu-img).  Each guest mounts the ext4 partition,
# writes its own file and unmounts.  Then, with qemu-img and e2fsprogs as
# the oracles: the template's sha256 is unchanged, qemu-img check is clean
# on both overlays, debugfs finds each guest's file (with the md5sum the
# guest saw) in its own overlay only, and fsck.ext4 -fn is clean on both.
#
#   tests/system/clones.sh VX86
set -u
VX86=$(realpath "$1")
root=$(cd "$(dirname "$0")/../.." && pwd)
PATH=$PATH:/sbin:/usr/sbin
command -v qemu-img >/dev/null || { echo "SKIP: linked clones: qemu-img not installed"; exit 0; }
T=$(mktemp -d /tmp/vx86-clones.XXXXXX)
trap 'kill $p1 $p2 2>/dev/null; rm -rf "$T"' EXIT
cd "$T"
fails=0
pass() { echo "PASS: linked clones: $*"; }
fail() { echo "FAIL: linked clones: $*"; fails=$((fails + 1)); }

cache=${VX86_CACHE:-$root/.cache}/guest
# Only the kernel and the IDE initramfs are needed: build them when missing.
[ -s "$cache/vmlinuz" ] && [ -s "$cache/initramfs-ide.cpio.gz" ] ||
    "$root/tests/guest/mkguest.sh" >/dev/null || { fail "mkguest.sh"; exit 1; }
session=$root/tests/system/serial-session.py
mkdir -p rootfs/boot
cp "$cache/vmlinuz" "$cache/initramfs-ide.cpio.gz" rootfs/boot/
cat >grub.cfg <<'EOF'
serial --unit=0 --speed=115200
terminal_input serial
terminal_output serial
set timeout=0
menuentry "vx86 test guest" {
    linux /boot/vmlinuz console=ttyS0 quiet vx86.modules=ide
    initrd /boot/initramfs-ide.cpio.gz
}
EOF
"$root/tests/guest/mkgrub.sh" disk disk.raw 64 grub.cfg rootfs || { fail "mkgrub.sh disk"; exit 1; }
qemu-img convert -O qcow2 disk.raw template.qcow2
rm disk.raw
before=$(sha256sum < template.qcow2)
for n in 1 2; do
    qemu-img create -q -f qcow2 -b template.qcow2 -F qcow2 clone$n.qcow2
done

guest() {   # n
    # sleep 8: a guest that is up waits for the other one to come up too
    # (both boot at once; a quiet host runs each in a few seconds).
    python3 "$session" --timeout 300 --ready-file ready$1 --cmd 'sleep 8' \
        --cmd 'for i in $(seq 100); do [ -b /dev/sda1 ] && break; sleep 0.1; done; mkdir -p /mnt; mount -t ext4 /dev/sda1 /mnt || echo guest-mount-failed' \
        --cmd "dd if=/dev/urandom of=/mnt/clone-$1.bin bs=1024 count=400 2>/dev/null; echo clone $1 >/mnt/clone-$1.txt; sync; echo \"guest-wrote=\$(md5sum </mnt/clone-$1.bin | cut -d' ' -f1)\"" \
        --cmd 'ls /mnt; umount /mnt; sync' -- \
        "$VX86" -m 256M -nographic -drive file=clone$1.qcow2 >out$1.log 2>&1
}
guest 1 & p1=$!
guest 2 & p2=$!
# The template is opened at start-up: both guests' shells up while both
# still run means both used it at once.
both=no
while kill -0 $p1 2>/dev/null || kill -0 $p2 2>/dev/null; do
    if [ -e ready1 ] && [ -e ready2 ]; then
        kill -0 $p1 2>/dev/null && kill -0 $p2 2>/dev/null && both=yes
        break
    fi
    sleep 0.2
done
wait $p1; wait $p2
sed -i 's/\x1b\[[0-9;?]*[A-Za-z]//g' out1.log out2.log
for n in 1 2; do
    grep -q "session: ready=yes" out$n.log && grep -q "session: exit=0" out$n.log ||
        { fail "guest $n did not boot or power off:"; tail -n 12 out$n.log | sed 's/^/    /'; }
done
[ $both = yes ] && pass "two guests ran at the same time on two overlays of one template" ||
    fail "the two guests did not run at the same time"
[ "$before" = "$(sha256sum < template.qcow2)" ] && pass "the template is byte-identical (sha256)" ||
    fail "the template changed"
for n in 1 2; do
    other=$((3 - n))
    qemu-img check -q clone$n.qcow2 && pass "qemu-img check clean on clone $n" || fail "qemu-img check clone $n"
    qemu-img convert -O raw clone$n.qcow2 c$n.raw
    "$root/tests/guest/mkgrub.sh" partition c$n.raw p$n.img
    rm -f c$n.raw
    wsum=$(sed -n 's/^guest-wrote=\([0-9a-f]*\).*/\1/p' out$n.log)
    hsum=$(debugfs -R "cat /clone-$n.bin" p$n.img 2>/dev/null | md5sum | cut -d' ' -f1)
    [ -n "$wsum" ] && [ "$wsum" = "$hsum" ] && [ "$(debugfs -R "cat /clone-$n.txt" p$n.img 2>/dev/null)" = "clone $n" ] &&
        pass "clone $n holds its guest's files (debugfs, md5sum as the guest saw it)" ||
        fail "clone $n: guest wrote '$wsum', debugfs reads '$hsum'"
    debugfs -R "stat /clone-$other.bin" p$n.img 2>&1 | grep -q "File not found" &&
        pass "clone $n does not hold the other guest's file" || fail "clone $n holds clone $other's file"
    fsck.ext4 -fn p$n.img >fsck$n.log 2>&1 && pass "fsck.ext4 -fn clean on clone $n" ||
        { fail "fsck.ext4 on clone $n:"; sed 's/^/    /' fsck$n.log | head; }
done
[ $fails = 0 ] || exit 1
