#!/bin/sh
# System test (issue 12, storage): the test guest with -hda and -cdrom on
# the PIIX3 IDE controller.
#
#   - a raw ext4 image made here with `mke2fs -d` (no loop devices) holding
#     a file, and an ISO made with `xorriso -as mkisofs` holding another;
#   - the guest loads ata_piix, sd_mod, sr_mod, ext4, isofs (initramfs-ide,
#     vx86.modules=ide), mounts both, prints their checksums (compared with
#     the host's), writes a file to the disk, unmounts, syncs, powers off;
#   - on the host `debugfs -R 'cat /written.bin'` gives the bytes the guest
#     wrote (checksum) and `fsck.ext4 -fn` finds the image clean;
#   - the same with -snapshot leaves the image byte-identical;
#   - Linux finds the PCI functions through the DSDT's \_SB.PCI0 (no
#     pci=noacpi): /sys/bus/pci lists the host bridge, the PIIX3 functions
#     and the VGA.
#
# Usage: tests/system/ide.sh [./vx86] [extra vx86 args, e.g. -accel tcg]
set -eu
VX86=${1:-./vx86}
[ $# -gt 0 ] && shift
root=$(cd "$(dirname "$0")/../.." && pwd)
cache=${VX86_CACHE:-$root/.cache}/guest
fail=0
tmp=$(mktemp -d "${TMPDIR:-/tmp}/vx86-ide.XXXXXX")
trap 'rm -rf "$tmp"' EXIT INT TERM

pass() { echo "PASS: $*"; }
bad() { echo "FAIL: $*"; fail=1; }

for tool in mke2fs debugfs fsck.ext4 xorriso python3; do
    command -v "$tool" >/dev/null 2>&1 || PATH=$PATH:/sbin:/usr/sbin
    command -v "$tool" >/dev/null 2>&1 || { echo "FAIL: '$tool' is missing (scripts/deps.sh test)"; exit 1; }
done
"$root/tests/guest/mkguest.sh" >/dev/null
kernel=$cache/vmlinuz
initrd=$cache/initramfs-ide.cpio.gz

mkdir -p "$tmp/root" "$tmp/iso"
head -c 200000 /dev/urandom >"$tmp/root/hello.bin"
head -c 300000 /dev/urandom >"$tmp/iso/cdfile.bin"
mke2fs -q -t ext4 -d "$tmp/root" -F "$tmp/disk.img" 32M
xorriso -as mkisofs -quiet -R -V VX86TEST -o "$tmp/x.iso" "$tmp/iso" 2>/dev/null
hd_sum=$(md5sum <"$tmp/root/hello.bin" | cut -d' ' -f1)
cd_sum=$(md5sum <"$tmp/iso/cdfile.bin" | cut -d' ' -f1)

# Boots the guest with the disk and the CD, runs the checks, writes
# written.bin; prints "guest-hd=SUM guest-cd=SUM guest-written=SUM".
run_guest() { # extra args...
    python3 - "$VX86" "$kernel" "$initrd" "$tmp/disk.img" "$tmp/x.iso" "$@" <<'PY'
import os, re, select, subprocess, sys, time
vx86, kernel, initrd, disk, iso = sys.argv[1:6]
extra = sys.argv[6:]
cmd = [vx86, "-m", "256M", "-nographic", "-kernel", kernel, "-initrd", initrd,
       "-append", "console=ttyS0 quiet vx86.modules=ide",
       "-hda", disk, "-cdrom", iso] + extra
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
def send(s):
    p.stdin.write(s.encode()); p.stdin.flush()
def out(msg):
    sys.stdout.write(msg + "\n"); sys.stdout.flush()
ok = wait(r"~ # ", 240)
if not ok:
    out("boot: no shell prompt")
else:
    send("echo \"guest-pci=$(for d in /sys/bus/pci/devices/*; do "
         "printf '%s=%s:%s,' ${d##*/} $(cat $d/vendor) $(cat $d/device); done)\"\n")
    send("for i in $(seq 100); do [ -b /dev/sda ] && [ -b /dev/sr0 ] && break; sleep 0.1; done; "
         "mkdir -p /mnt /cd; mount -t ext4 /dev/sda /mnt && mount -t iso9660 -o ro /dev/sr0 /cd && "
         "echo \"guest-hd=$(md5sum </mnt/hello.bin | cut -d' ' -f1)\" "
         "\"guest-cd=$(md5sum </cd/cdfile.bin | cut -d' ' -f1)\"; echo MARK-$((100+1))\n")
    if wait(r"MARK-101", 120):
        send("dd if=/dev/urandom of=/mnt/written.bin bs=1024 count=700 2>/dev/null; sync; "
             "echo \"guest-written=$(md5sum </mnt/written.bin | cut -d' ' -f1)\"; "
             "umount /mnt; umount /cd; sync; echo MARK-$((100+2))\n")
        wait(r"MARK-102", 120)
    send("dmesg | grep -E 'ata[0-9]|sd |sr |WARNING|BUG' | head -n 20; poweroff -f\n")
try:
    rc = p.wait(60)
except subprocess.TimeoutExpired:
    p.kill(); rc = "timeout"
wait(r"$^", 0.5)
text = buf.decode(errors="replace")
for m in re.finditer(r"^(guest-hd=\w+ guest-cd=\w+|guest-written=\w+|guest-pci=\S+)\r?$", text, re.M):
    out(m.group(1))
for line in text.splitlines():
    if re.search(r"ata[0-9]|WARNING|BUG|Oops", line):
        out("log: " + line.strip())
out("exit=%s" % rc)
if os.environ.get("IDE_DEBUG"): sys.stderr.write(text)
PY
}

out=$(run_guest "$@")
echo "$out" | sed -n 's/^log: /  guest: /p'
echo "$out" | grep -q "^exit=0$" && pass "guest powered off (exit 0)" || bad "guest exit: $(echo "$out" | grep '^exit=')"
echo "$out" | grep -q "guest-hd=$hd_sum" && pass "-hda ext4 file read back" || bad "-hda file checksum (want $hd_sum)"
echo "$out" | grep -q "guest-cd=$cd_sum" && pass "-cdrom iso9660 file read back" || bad "-cdrom file checksum (want $cd_sum)"
pci=$(echo "$out" | sed -n 's/^guest-pci=//p')
# (00:03.0 is the default e1000 on user networking, as on QEMU's pc machine.)
want_pci="0000:00:00.0=0x8086:0x1237,0000:00:01.0=0x8086:0x7000,0000:00:01.1=0x8086:0x7010,0000:00:01.3=0x8086:0x7113,0000:00:02.0=0x1234:0x1111,0000:00:03.0=0x8086:0x100e,"
[ "$pci" = "$want_pci" ] && pass "/sys/bus/pci lists the board's functions (ACPI PCI0)" ||
    bad "/sys/bus/pci: '$pci' (want '$want_pci')"
wsum=$(echo "$out" | sed -n 's/^guest-written=//p')
hsum=$(debugfs -R 'cat /written.bin' "$tmp/disk.img" 2>/dev/null | md5sum | cut -d' ' -f1)
if [ -n "$wsum" ] && [ "$wsum" = "$hsum" ]; then
    pass "debugfs reads what the guest wrote"
else
    bad "written file: guest '$wsum', debugfs '$hsum'"
fi
if fsck.ext4 -fn "$tmp/disk.img" >"$tmp/fsck.log" 2>&1; then
    pass "fsck.ext4 -fn clean"
else
    bad "fsck.ext4 -fn:"; sed 's/^/  /' "$tmp/fsck.log"
fi

before=$(md5sum <"$tmp/disk.img")
out=$(run_guest -snapshot "$@")
echo "$out" | grep -q "guest-written=" && pass "-snapshot: the guest wrote" || bad "-snapshot: guest did not write"
[ "$(md5sum <"$tmp/disk.img")" = "$before" ] && pass "-snapshot left the image byte-identical" ||
    bad "-snapshot changed the image"
exit $fail
