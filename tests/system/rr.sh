#!/bin/sh
# Deterministic execution and record/replay (issue 18, docs/record-replay.md):
#
#  1. The Debian test guest (tests/guest/mkguest.sh, initramfs-virtio with
#     the probe tests/guest/rr/rrprobe.c added) boots under
#     -icount shift=0,rr=record with a virtio disk (-snapshot) and
#     virtio-rng; the test types commands on its serial console: the probe
#     (wall clock, monotonic clock, TSC, kernel random numbers, loop
#     iterations per millisecond, interrupt counts), md5sum of the disk,
#     16 bytes of /dev/hwrng, the probe again; then poweroff.
#  2. Three replays (stdin /dev/null: nothing typed) print exactly the
#     recording's serial output and end at the recording's instruction
#     count; the guest's md5sum of the disk is the host's.
#  3. The log cut short, and changed in one byte (header, an event, the
#     trailer), is refused with one line and exit status 1 before anything
#     runs; so is a replay with another command line.
#  4. A bare-metal image taking PIT interrupts (tests/cpu/system/irq-hlt)
#     recorded with the x86-64 backend replays under the IR interpreter
#     (-accel tcg,interp=on) with the same output and count.
#
# With --net instead (make check-rr-net, in check-full): the guest with an
# e1000 on user networking (initramfs-net) gets an address by DHCP and
# pings the host side (slirp's frames are the log's NET events); one
# replay must print the same, round-trip times included.
#
#   tests/system/rr.sh [./vx86] [--net]      (make check-rr, check-rr-net)
set -u
VX86=${1:-./vx86}
net=no
[ "${2:-}" = "--net" ] && net=yes
root=$(cd "$(dirname "$0")/../.." && pwd)
tmp=$(mktemp -d "${TMPDIR:-/tmp}/vx86-rr.XXXXXX") || exit 1
trap 'rm -rf "$tmp"' EXIT INT TERM
fail=0
pass() { echo "PASS: rr: $1"; }
bad() { echo "FAIL: rr: $1"; fail=1; }
TIMEOUT=${RR_TIMEOUT:-900}

for t in gcc cpio gzip python3 md5sum; do
    command -v "$t" >/dev/null 2>&1 || { echo "FAIL: rr: $t not found (scripts/deps.sh test)"; exit 1; }
done

# ---- the guest ----
if ! gcc -O2 -static -o "$tmp/rrprobe" "$root/tests/guest/rr/rrprobe.c" 2>"$tmp/cc.log"; then
    echo "SKIP: rr: static build of the probe failed (glibc static libraries missing?): $(head -c 200 "$tmp/cc.log")"
    exit 0
fi
paths=$("$root/tests/guest/mkguest.sh" 2>"$tmp/mkguest.log") ||
    { echo "FAIL: rr: no guest kernel/initramfs (tests/guest/mkguest.sh: $(tail -n 1 "$tmp/mkguest.log"))"; exit 1; }
set -- $paths
kernel=$1
initrd_virtio=$(dirname "$2")/initramfs-virtio.cpio.gz
[ -f "$initrd_virtio" ] || { echo "FAIL: rr: $initrd_virtio missing (tests/guest/mkguest.sh)"; exit 1; }
if [ $net = yes ]; then
    initrd_net=$(dirname "$2")/initramfs-net.cpio.gz
    [ -f "$initrd_net" ] || { echo "FAIL: rr: $initrd_net missing (tests/guest/mkguest.sh)"; exit 1; }
    netargs="-m 256M -nographic -kernel $kernel -initrd $initrd_net -nic user,model=e1000"
    timeout "$TIMEOUT" python3 "$root/tests/system/serial-session.py" --timeout 600 --raw "$tmp/rec.raw" \
        --cmd "udhcpc -i eth0 -q -f -n -t 5 -s /etc/udhcpc/default.script" --cmd "ping -c 3 10.0.2.2" \
        -- "$VX86" $netargs -append "console=ttyS0 vx86.modules=net" \
        -icount shift=0,rr=record,rrfile="$tmp/net.log" >"$tmp/rec.session" 2>&1
    grep -av "^vx86: rr: " "$tmp/rec.raw" >"$tmp/rec.out"
    tr -d '\r' <"$tmp/rec.out" >"$tmp/rec.txt"
    grep -aq "udhcpc: lease of 10.0.2.15" "$tmp/rec.txt" && grep -aq " 0% packet loss" "$tmp/rec.txt" ||
        { bad "network recording: no DHCP lease or ping lost: $(tail -n 5 "$tmp/rec.txt" | tr '\n' '|')"; exit 1; }
    pass "network recording: DHCP and ping over slirp ($(sed -n 's/^vx86: rr: recorded //p' "$tmp/rec.raw"))"
    timeout "$TIMEOUT" "$VX86" $netargs -append "console=ttyS0 vx86.modules=net" \
        -icount shift=0,rr=replay,rrfile="$tmp/net.log" </dev/null >"$tmp/rep.out" 2>"$tmp/rep.err"
    st=$?
    if [ $st -eq 0 ] && cmp -s "$tmp/rec.out" "$tmp/rep.out"; then
        pass "network replay: the recording's output, DHCP and ping times included"
    else
        bad "network replay: status $st: $(diff -a "$tmp/rec.out" "$tmp/rep.out" | head -n 6 | tr '\n' '|') $(head -c 200 "$tmp/rep.err")"
    fi
    exit $fail
fi
mkdir -p "$tmp/tree/rr"
cp "$tmp/rrprobe" "$tmp/tree/rr/rrprobe"
(cd "$tmp/tree" && find . | sort | cpio -o -H newc -R 0:0 --quiet) | gzip -n >"$tmp/extra.cpio.gz"
cat "$initrd_virtio" "$tmp/extra.cpio.gz" >"$tmp/initrd.gz"
# A disk whose content the host knows: 4 MiB from a seeded generator.
python3 -c "
import random, sys
r = random.Random(18)
open(sys.argv[1], 'wb').write(bytes(r.getrandbits(8) for _ in range(4 << 20)))" "$tmp/disk.img"
host_md5=$(md5sum "$tmp/disk.img" | cut -d' ' -f1)

# guest MODE LOG [more vx86 options]: the same machine each time.
guest() {
    mode=$1 log=$2
    shift 2
    timeout "$TIMEOUT" "$VX86" -m 256M -nographic -kernel "$kernel" -initrd "$tmp/initrd.gz" \
        -append "console=ttyS0 vx86.modules=virtio" \
        -drive file="$tmp/disk.img",format=raw,if=virtio -snapshot -device virtio-rng-pci \
        -icount shift=0,rr="$mode",rrfile="$log" "$@"
}

# ---- 1. record ----
timeout "$TIMEOUT" python3 "$root/tests/system/serial-session.py" --timeout 600 --raw "$tmp/rec.raw" \
    --cmd "/rr/rrprobe first" --cmd "md5sum /dev/vda" \
    --cmd "head -c 16 /dev/hwrng | od -An -tx1" --cmd "/rr/rrprobe second" \
    -- "$VX86" -m 256M -nographic -kernel "$kernel" -initrd "$tmp/initrd.gz" \
    -append "console=ttyS0 vx86.modules=virtio" \
    -drive file="$tmp/disk.img",format=raw,if=virtio -snapshot -device virtio-rng-pci \
    -icount shift=0,rr=record,rrfile="$tmp/guest.log" >"$tmp/rec.session" 2>&1
if ! grep -q "^session: exit=0" "$tmp/rec.session"; then
    bad "recording: the guest session did not finish: $(tail -n 4 "$tmp/rec.session" | tr '\n' '|')"
    exit 1
fi
rec_count=$(sed -n 's/^vx86: rr: recorded \([0-9]*\) instructions.*/\1/p' "$tmp/rec.raw")
grep -av "^vx86: rr: " "$tmp/rec.raw" >"$tmp/rec.out"
tr -d '\r' <"$tmp/rec.out" >"$tmp/rec.txt"
grep -a "rrprobe first" "$tmp/rec.txt" | grep -q "loops-per-ms" && grep -aq "rrprobe second random=" "$tmp/rec.txt" &&
    pass "recording: the probe ran twice ($(sed -n 's/^vx86: rr: recorded //p' "$tmp/rec.raw"))" ||
    bad "recording: no probe output"
grep -aq "^$host_md5  /dev/vda" "$tmp/rec.txt" &&
    pass "recording: the guest's md5sum of the virtio disk is the host's ($host_md5)" ||
    bad "recording: the guest's md5sum of /dev/vda is not $host_md5"
[ -n "$rec_count" ] || bad "recording: no instruction count printed"
log_bytes=$(stat -c %s "$tmp/guest.log")
echo "info: rr: log $log_bytes bytes"

# ---- 2. three replays ----
for i in 1 2 3; do
    guest replay "$tmp/guest.log" </dev/null >"$tmp/rep$i.out" 2>"$tmp/rep$i.err"
    st=$?
    count=$(sed -n 's/^vx86: rr: replayed \([0-9]*\) instructions.*/\1/p' "$tmp/rep$i.err")
    if [ $st -ne 0 ]; then
        bad "replay $i: exit status $st: $(head -c 300 "$tmp/rep$i.err")"
    elif ! cmp -s "$tmp/rec.out" "$tmp/rep$i.out"; then
        bad "replay $i: serial output differs from the recording: $(diff -a "$tmp/rec.out" "$tmp/rep$i.out" | head -n 6 | tr '\n' '|')"
    elif [ "$count" != "$rec_count" ]; then
        bad "replay $i: ended at $count instructions, the recording at $rec_count"
    else
        pass "replay $i: the recording's serial output ($(wc -c <"$tmp/rep$i.out") bytes: the probe's clocks, TSC, random numbers and timings) and instruction count ($count)"
    fi
done

# ---- 3. damaged logs ----
# refused WHAT LOG [more vx86 options]
refused() {
    what=$1 log=$2
    shift 2
    guest replay "$log" "$@" </dev/null >"$tmp/dmg.out" 2>"$tmp/dmg.err"
    st=$?
    lines=$(wc -l <"$tmp/dmg.err")
    if [ $st -eq 1 ] && [ "$lines" -eq 1 ] && [ ! -s "$tmp/dmg.out" ]; then
        pass "$what: refused with one line ($(cat "$tmp/dmg.err"))"
    else
        bad "$what: exit $st, $lines lines: $(head -c 300 "$tmp/dmg.err") / output $(wc -c <"$tmp/dmg.out") bytes"
    fi
}
head -c $((log_bytes - 1)) "$tmp/guest.log" >"$tmp/cut1.log"
refused "log cut by one byte" "$tmp/cut1.log"
head -c $((log_bytes / 2)) "$tmp/guest.log" >"$tmp/cut2.log"
refused "log cut in half" "$tmp/cut2.log"
for off in 12 $((log_bytes / 2)) $((log_bytes - 3)); do
    python3 -c "
import sys
d = bytearray(open(sys.argv[1], 'rb').read()); d[int(sys.argv[2])] ^= 0x10
open(sys.argv[3], 'wb').write(d)" "$tmp/guest.log" "$off" "$tmp/flip.log"
    refused "log with byte $off of $log_bytes changed" "$tmp/flip.log"
done
refused "a replay with another -m" "$tmp/guest.log" -m 255M

# ---- 4. the other engine ----
img=$root/build/testrom/irq-hlt.bin
if [ ! -f "$img" ]; then
    bad "build/testrom/irq-hlt.bin missing (make testrom-images)"
else
    base="-bios $img -nographic -m 64M -no-reboot"
    "$VX86" $base -debugcon file:"$tmp/irq-rec.out" -icount shift=3,rr=record,rrfile="$tmp/irq.log" \
        </dev/null >/dev/null 2>"$tmp/irq-rec.err"
    st1=$?
    "$VX86" $base -accel tcg,interp=on -debugcon file:"$tmp/irq-rep.out" \
        -icount shift=3,rr=replay,rrfile="$tmp/irq.log" </dev/null >/dev/null 2>"$tmp/irq-rep.err"
    st2=$?
    c1=$(sed -n 's/^vx86: rr: recorded \([0-9]*\) instructions.*/\1/p' "$tmp/irq-rec.err")
    c2=$(sed -n 's/^vx86: rr: replayed \([0-9]*\) instructions.*/\1/p' "$tmp/irq-rep.err")
    if [ $st1 -eq 1 ] && [ $st2 -eq 1 ] && grep -q "checks: all passed" "$tmp/irq-rec.out" &&
        cmp -s "$tmp/irq-rec.out" "$tmp/irq-rep.out" && [ -n "$c1" ] && [ "$c1" = "$c2" ]; then
        pass "irq-hlt recorded with the x86-64 backend replays under the interpreter ($c1 instructions, same output)"
    else
        bad "irq-hlt interpreter replay: status $st1/$st2, counts $c1/$c2: $(diff "$tmp/irq-rec.out" "$tmp/irq-rep.out" | head -n 4 | tr '\n' '|') $(head -c 200 "$tmp/irq-rep.err")"
    fi
fi

[ $fail -eq 0 ] && echo "rr: all checks passed"
exit $fail
