#!/bin/sh
# System test (issue 16): the test guest with virtio-blk and virtio-rng.
#
#   1. an empty ext4 image made here with mke2fs (busybox has no
#      mkfs.ext4) on -drive if=virtio; the guest (initramfs-virtio,
#      vx86.modules=virtio) mounts it, writes VIRTIO_MB MiB (default 64)
#      of random files and their md5sums, syncs, unmounts, powers off;
#   2. a second boot with -drive if=none,id=d0 -device
#      virtio-blk-pci,drive=d0,num-queues=2 -device virtio-rng-pci checks
#      every file (md5sum -c), reads /dev/hwrng, then reloads virtio_pci
#      with force_legacy=1 (the legacy I/O BAR interface) and checks again;
#   3. a third boot with pci=nomsi checks the files over INTx (the PIRQ
#      routes and MP table entries the board makes for a direct boot);
#   4. on the host, fsck.ext4 -fn finds the image clean and debugfs reads
#      a file with the checksum the guest wrote down;
#   5. a fourth boot with a 64 MiB raw image of random bytes: the guest's
#      driver shows discard limits and `blkdiscard -o 1M -l 32M /dev/vda`
#      succeeds; on the host the image then holds 32 MiB less (st_blocks:
#      a hole was punched), the range reads as zeros and the rest is
#      unchanged (md5).
#
# Both boots use MSI-X (the guest's /proc/interrupts is checked for
# PCI-MSI virtio vectors).  Linux finds the devices through the DSDT's
# PCI0 (_CRS windows, _PRT) and keeps the BARs the board assigned.
#
# Usage: tests/system/virtio.sh [./vx86] [extra vx86 args, e.g. -accel tcg]
set -eu
VX86=${1:-./vx86}
[ $# -gt 0 ] && shift
root=$(cd "$(dirname "$0")/../.." && pwd)
cache=${VX86_CACHE:-$root/.cache}/guest
mb=${VIRTIO_MB:-64}
fail=0
tmp=$(mktemp -d "${TMPDIR:-/tmp}/vx86-virtio.XXXXXX")
trap 'rm -rf "$tmp"' EXIT INT TERM

pass() { echo "PASS: $*"; }
bad() { echo "FAIL: $*"; fail=1; }

for tool in mke2fs debugfs fsck.ext4 python3; do
    command -v "$tool" >/dev/null 2>&1 || PATH=$PATH:/sbin:/usr/sbin
    command -v "$tool" >/dev/null 2>&1 || { echo "FAIL: '$tool' is missing (scripts/deps.sh test)"; exit 1; }
done
"$root/tests/guest/mkguest.sh" >/dev/null
kernel=$cache/vmlinuz
initrd=$cache/initramfs-virtio.cpio.gz
mke2fs -q -t ext4 -F "$tmp/disk.img" $((mb + mb / 2 + 32))M

# run_guest "cmd;;cmd;;..." vx86 args...: each command's output is printed
# after "out:"; ends with "exit=STATUS".
run_guest() {
    python3 - "$VX86" "$kernel" "$initrd" "$@" <<'PY'
import os, re, select, subprocess, sys, time
vx86, kernel, initrd, cmds = sys.argv[1:5]
cmd = [vx86, "-m", "256M", "-nographic", "-kernel", kernel, "-initrd", initrd,
       "-append", "console=ttyS0 quiet vx86.modules=virtio " +
       os.environ.get("APPEND_EXTRA", "")] + sys.argv[5:]
p = subprocess.Popen(cmd, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
buf = b""
def wait(rx, t):
    global buf
    end = time.monotonic() + t
    r = re.compile(rx.encode())
    while True:
        m = r.search(buf)
        if m:
            return m
        left = end - time.monotonic()
        if left <= 0:
            return None
        rd, _, _ = select.select([p.stdout], [], [], min(left, 0.5))
        if rd:
            chunk = os.read(p.stdout.fileno(), 65536)
            if not chunk:
                return r.search(buf)
            buf += chunk
ok = wait(r"~ # ", 240)
if not ok:
    print("boot: no shell prompt")
for i, c in enumerate(cmds.split(";;")):
    if not ok:
        break
    p.stdin.write(("%s; echo MARK-$((%d+1))\n" % (c, 1000 + i)).encode()); p.stdin.flush()
    ok = wait(r"MARK-%d" % (1001 + i), 900)
    if not ok:
        print("timeout in: " + c)
p.stdin.write(b"poweroff -f\n"); p.stdin.flush()
try:
    rc = p.wait(60)
except subprocess.TimeoutExpired:
    p.kill(); rc = "timeout"
wait(r"$^", 0.5)
text = buf.decode(errors="replace")
for line in text.splitlines():
    if re.match(r"^(guest-|rng=|irq:)", line) or re.search(r"WARNING|BUG|Oops|I/O error|EXT4-fs error", line):
        print("out: " + line.strip())
print("exit=%s" % rc)
if os.environ.get("VIRTIO_DEBUG"): sys.stderr.write(text)
PY
}

wait_vda='for i in $(seq 100); do [ -b /dev/vda ] && break; sleep 0.1; done'
files=$((mb / 8))
write="$wait_vda; mkdir -p /mnt && mount -t ext4 /dev/vda /mnt && cd /mnt && \
for i in \$(seq $files); do dd if=/dev/urandom of=f\$i bs=1M count=8 2>/dev/null; done; \
md5sum f* >sums; sync; echo guest-wrote=\$(ls f* | wc -l); cd /;;\
grep -E 'virtio.*(config|req)' /proc/interrupts | sed 's/^/irq: /';;\
umount /mnt; sync; echo guest-umount=\$?"
out=$(run_guest "$write" -drive file="$tmp/disk.img",format=raw,if=virtio "$@")
echo "$out" | sed -n 's/^out: /  guest: /p'
echo "$out" | grep -q "^exit=0$" && pass "boot 1: guest powered off (exit 0)" || bad "boot 1: $(echo "$out" | grep '^exit=')"
echo "$out" | grep -q "guest-wrote=$files" && pass "boot 1: wrote $files files of 8 MiB on /dev/vda (ext4)" || bad "boot 1: files not written"
echo "$out" | grep -q "irq: .*PCI-MSI.*virtio0-req" && pass "boot 1: virtio-blk interrupts are MSI-X" || bad "boot 1: no MSI-X vectors"
echo "$out" | grep -q "guest-umount=0" && pass "boot 1: unmounted cleanly" || bad "boot 1: umount failed"

verify="mkdir -p /mnt && mount -t ext4 -o ro /dev/vda /mnt && cd /mnt && \
echo guest-check=\$(md5sum -c sums 2>&1 | grep -c ': OK\$')/\$(wc -l <sums); cd /; umount /mnt"
reload="rmmod virtio_rng virtio_blk virtio_pci && insmod /lib/modules/virtio_pci.ko force_legacy=1 && \
insmod /lib/modules/virtio_blk.ko && insmod /lib/modules/virtio_rng.ko; $wait_vda; \
for i in \$(seq 50); do [ -c /dev/hwrng ] && break; sleep 0.1; done; \
echo guest-legacy=\$(cat /sys/bus/virtio/devices/virtio0/features | cut -c33)"
check="$wait_vda; $verify;;\
grep -E 'virtio.*(config|req)' /proc/interrupts | sed 's/^/irq: /';;\
echo guest-mq=\$(cut -c13 /sys/bus/virtio/devices/virtio0/features);;\
echo rng=\$(dd if=/dev/hwrng bs=256 count=1 2>/dev/null | wc -c) \$(dd if=/dev/hwrng bs=32 count=1 2>/dev/null | md5sum | cut -c1-8) \$(dd if=/dev/hwrng bs=32 count=1 2>/dev/null | md5sum | cut -c1-8);;\
$reload;;$verify;;\
echo rng=\$(dd if=/dev/hwrng bs=256 count=1 2>/dev/null | wc -c) legacy"
out=$(run_guest "$check" -drive if=none,id=d0,file="$tmp/disk.img",format=raw \
    -device virtio-blk-pci,drive=d0,num-queues=2 -device virtio-rng-pci "$@")
echo "$out" | sed -n 's/^out: /  guest: /p'
echo "$out" | grep -q "^exit=0$" && pass "boot 2: guest powered off (exit 0)" || bad "boot 2: $(echo "$out" | grep '^exit=')"
n=$(echo "$out" | grep -c "guest-check=$files/$files" || true)
[ "$n" -ge 1 ] && pass "boot 2: all $files checksums match (modern interface)" || bad "boot 2: checksums"
# One guest CPU: Linux uses min(num_queues, CPUs) = 1 queue, but takes MQ.
echo "$out" | grep -q "guest-mq=1" && pass "boot 2: num-queues=2 offered and VIRTIO_BLK_F_MQ accepted" || bad "boot 2: MQ feature"
echo "$out" | grep -qE "^out: rng=256 ([0-9a-f]{8}) ([0-9a-f]{8})" &&
    [ "$(echo "$out" | sed -n 's/^out: rng=256 \([0-9a-f]*\) \([0-9a-f]*\)$/\1 \2/p' | awk '$1 != $2')" ] &&
    pass "boot 2: /dev/hwrng gives random bytes" || bad "boot 2: /dev/hwrng"
echo "$out" | grep -q "guest-legacy=0" && pass "boot 2: force_legacy=1 drives the legacy I/O BAR (no VERSION_1)" || bad "boot 2: legacy reload"
[ "$n" -ge 2 ] && pass "boot 2: checksums match through the legacy interface" || bad "boot 2: legacy checksums"
echo "$out" | grep -q "rng=256 legacy" && pass "boot 2: legacy virtio-rng reads" || bad "boot 2: legacy rng"

# 3. INTx instead of MSI-X (pci=nomsi): the board's PIRQ routes and MP
#    table entries for a direct boot, level-triggered on the IOAPIC.
intx="$wait_vda; $verify;;grep -E 'virtio' /proc/interrupts | sed 's/^/irq: /'"
out=$(APPEND_EXTRA=pci=nomsi run_guest "$intx" -drive file="$tmp/disk.img",format=raw,if=virtio \
    -device virtio-rng-pci "$@")
echo "$out" | sed -n 's/^out: /  guest: /p'
echo "$out" | grep -q "guest-check=$files/$files" && pass "boot 3: checksums match over INTx (pci=nomsi)" || bad "boot 3: INTx checksums"
echo "$out" | grep -q "irq: .*IO-APIC.*fasteoi.*virtio0" && pass "boot 3: virtio-blk on a level-triggered IOAPIC pin" || bad "boot 3: INTx routing"

sum1=$(debugfs -R 'cat /sums' "$tmp/disk.img" 2>/dev/null | sed -n 's/^\([0-9a-f]*\)  f1$/\1/p')
hsum=$(debugfs -R 'cat /f1' "$tmp/disk.img" 2>/dev/null | md5sum | cut -d' ' -f1)
if [ -n "$sum1" ] && [ "$sum1" = "$hsum" ]; then
    pass "host: debugfs reads f1 with the guest's checksum"
else
    bad "host: f1 guest '$sum1', debugfs '$hsum'"
fi
if fsck.ext4 -fn "$tmp/disk.img" >"$tmp/fsck.log" 2>&1; then
    pass "host: fsck.ext4 -fn clean"
else
    bad "host: fsck.ext4 -fn:"; sed 's/^/  /' "$tmp/fsck.log"
fi

# 5. Discard from Linux's virtio_blk reaches the image as a hole.
trim=$tmp/trim.img
dd if=/dev/urandom of="$trim" bs=1M count=64 2>/dev/null
sync "$trim" 2>/dev/null || sync
kib_before=$(du -k "$trim" | cut -f1)
head_sum=$(head -c 1048576 "$trim" | md5sum | cut -d' ' -f1)
tail_sum=$(tail -c +$((33 * 1048576 + 1)) "$trim" | md5sum | cut -d' ' -f1)
out=$(run_guest "$wait_vda; echo guest-dmax=\$(cat /sys/block/vda/queue/discard_max_bytes);;\
blkdiscard -o 1048576 -l 33554432 /dev/vda; echo guest-discard=\$?" \
    -drive file="$trim",format=raw,if=virtio "$@")
echo "$out" | sed -n 's/^out: /  guest: /p'
kib_after=$(du -k "$trim" | cut -f1)
echo "$out" | grep -qE "guest-dmax=[1-9]" && pass "boot 4: Linux took VIRTIO_BLK_F_DISCARD (discard_max_bytes > 0)" ||
    bad "boot 4: no discard limits in the guest"
echo "$out" | grep -q "guest-discard=0" && pass "boot 4: blkdiscard of 32 MiB succeeded" || bad "boot 4: blkdiscard failed"
[ "$kib_after" -le $((kib_before - 30 * 1024)) ] &&
    pass "host: the image shrank from $kib_before to $kib_after KiB allocated (a hole)" ||
    bad "host: the image holds $kib_after KiB (before: $kib_before)"
[ "$(head -c 1048576 "$trim" | md5sum | cut -d' ' -f1)" = "$head_sum" ] &&
    [ "$(tail -c +$((33 * 1048576 + 1)) "$trim" | md5sum | cut -d' ' -f1)" = "$tail_sum" ] &&
    pass "host: the data around the discarded range is unchanged" || bad "host: data outside the range changed"
if head -c $((33 * 1048576)) "$trim" | tail -c 33554432 | cmp -s - /dev/zero -n 33554432 2>/dev/null ||
   [ "$(head -c $((33 * 1048576)) "$trim" | tail -c 33554432 | tr -d '\000' | wc -c)" = 0 ]; then
    pass "host: the discarded range reads as zeros"
else
    bad "host: the discarded range is not zeros"
fi
exit $fail
