#!/bin/sh
# Guest test of timer-interrupt delivery (tests/guest/cputime/cputime.c):
# a CPU-bound loop with one getitimer() call per iteration runs for
# SECONDS natively and inside the Linux guest of tests/guest/mkguest.sh
# under vx86.  The guest kernel charges each tick to the mode the CPU was
# in when the tick came, so the user/system split and the ITIMER_VIRTUAL
# signals show whether timer interrupts arrive when their deadline passes
# (docs/cpu.md, "Timer interrupts").  Checks, against the native run:
#   - the user share user/(user+sys) is at least half the native share
#     (native ~0.75-0.85; delivery only at loop polls gave 0.00);
#   - SIGVTALRM arrived, at least a third as often per second of user
#     time as natively (one per 200 ms of user time).
#
#   tests/guest/cputime.sh [--emulator ./vx86] [--timeout 300] [--seconds 4]
#
# SKIPs (exit 0) only when gcc or the guest kernel is missing; a guest
# that does not reach the runner or does not finish is a FAIL.
set -eu

root=$(cd "$(dirname "$0")/../.." && pwd)
. "$root/tests/guest/runner.sh"
emulator=$root/vx86
timeout=300
seconds=4
while [ $# -gt 0 ]; do
    case $1 in
    --emulator) emulator=$2; shift 2 ;;
    --timeout) timeout=$2; shift 2 ;;
    --seconds) seconds=$2; shift 2 ;;
    *) echo "usage: $0 [--emulator PATH] [--timeout SECONDS] [--seconds N]" >&2; exit 2 ;;
    esac
done

skip() {
    echo "SKIP: cputime guest test: $*"
    exit 0
}
fail() {
    echo "FAIL: cputime guest test: $*"
    exit 1
}

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
command -v gcc >/dev/null 2>&1 || skip "gcc not found"
gcc -O2 -static -o "$tmp/cputime" "$root/tests/guest/cputime/cputime.c" 2>"$tmp/cc.log" ||
    skip "static build failed (glibc static libraries missing?): $(head -c 200 "$tmp/cc.log")"
native=$("$tmp/cputime" "$seconds") || fail "native run failed"

paths=$("$root/tests/guest/mkguest.sh" 2>"$tmp/mkguest.log") ||
    skip "no guest kernel/initramfs (tests/guest/mkguest.sh: $(tail -n 1 "$tmp/mkguest.log"))"
set -- $paths
kernel=$1
initrd=$2
[ -x "$emulator" ] || command -v "$emulator" >/dev/null 2>&1 || fail "emulator $emulator not found"

tree=$tmp/tree
mkdir -p "$tree/cputime"
cp "$tmp/cputime" "$tree/cputime/cputime"
runner_init_head "$tree"
cat >>"$tree/init" <<INIT
echo "=== cputime begin ==="
/cputime/cputime $seconds
echo "=== cputime end ==="
poweroff -f
INIT
chmod 755 "$tree/cputime/cputime"
runner_initrd "$initrd" "$tree" "$tmp/initrd.gz"
runner_boot "$emulator" "$timeout" "$kernel" "$tmp/initrd.gz" 256M
grep -q "=== cputime begin ===" "$tmp/guest.clean" ||
    fail "the Linux guest did not reach the test runner (exit $status; last line: $(tail -n 1 "$tmp/guest.clean" | head -c 160))"
guest=$(sed -n '/=== cputime begin ===/,/=== cputime end ===/p' "$tmp/guest.clean" | grep '^cputime ') ||
    fail "the program did not finish (exit $status): $(tail -n 5 "$tmp/guest.clean")"

# "cputime user=U sys=S sigs=N iterations=I" -> checks
echo "native: $native"
echo "guest:  $guest"
printf '%s\n%s\n' "$native" "$guest" | awk '
function field(s, k,   m) { match(s, k "=[0-9.]+"); return substr(s, RSTART + length(k) + 1, RLENGTH - length(k) - 1) + 0 }
NR == 1 { nu = field($0, "user"); ns = field($0, "sys"); nn = field($0, "sigs") }
NR == 2 { gu = field($0, "user"); gs = field($0, "sys"); gn = field($0, "sigs") }
END {
    nshare = nu / (nu + ns + 1e-9); gshare = gu / (gu + gs + 1e-9)
    nrate = nn / (nu + 1e-9); grate = gn / (gu + 1e-9)
    printf "user share: native %.2f, guest %.2f (must be >= %.2f)\n", nshare, gshare, nshare / 2
    printf "SIGVTALRM per user second: native %.2f, guest %.2f (must be >= %.2f, and some)\n", nrate, grate, nrate / 3
    ok = gshare >= nshare / 2 && gn > 0 && grate >= nrate / 3
    exit ok ? 0 : 1
}' || fail "timer interrupts do not reach user code as they do natively"
echo "cputime guest test: user/system split and ITIMER_VIRTUAL signals match the native run"
