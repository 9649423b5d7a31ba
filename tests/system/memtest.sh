#!/bin/sh
# System test (issue 12, check-full): Debian's memtest86+ (package
# memtest86+, /boot/memtest86+x64.bin) completes a full pass with no errors,
# read from its serial console (console=ttyS0,115200):
#   - booted directly with -kernel (Linux boot protocol, no firmware);
#   - booted through SeaBIOS and GRUB from a grub-mkrescue ISO (-cdrom,
#     GRUB's linux16).
# A pass over 64 MiB takes about 4-5 minutes on the translator (its bit
# fade test waits 2 x 80 s of guest time).
#
# Usage: tests/system/memtest.sh [./vx86] [extra vx86 args]
set -eu
VX86=${1:-./vx86}
[ $# -gt 0 ] && shift
root=$(cd "$(dirname "$0")/../.." && pwd)
MEMTEST=${MEMTEST:-/boot/memtest86+x64.bin}
TIMEOUT=${MEMTEST_TIMEOUT:-900}
fail=0
tmp=$(mktemp -d "${TMPDIR:-/tmp}/vx86-memtest.XXXXXX")
trap 'rm -rf "$tmp"' EXIT INT TERM

pass() { echo "PASS: $*"; }
bad() { echo "FAIL: $*"; fail=1; }

[ -f "$MEMTEST" ] || { echo "FAIL: $MEMTEST is missing (Debian package memtest86+; scripts/deps.sh test)"; exit 1; }

cat >"$tmp/grub.cfg" <<'CFG'
serial --unit=0 --speed=115200
terminal_input serial
terminal_output serial
set timeout=0
menuentry "memtest86+" {
    linux16 /boot/memtest86+x64.bin console=ttyS0,115200
}
CFG
"$root/tests/guest/mkgrub.sh" iso "$tmp/memtest.iso" "$tmp/grub.cfg" "$MEMTEST"

# Runs vx86 until memtest's status line says "Pass: 1" (or an error count
# shows, or the time runs out); prints the verdict line.
run() { # label vx86-args...
    label=$1
    shift
    python3 - "$TIMEOUT" "$VX86" -m 64M -nographic "$@" <<'PY'
import os, re, select, subprocess, sys, time
limit = float(sys.argv[1])
p = subprocess.Popen(sys.argv[2:], stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                     stderr=subprocess.STDOUT)
buf = b""
t0 = time.monotonic()
verdict = "timeout after %d s" % limit
while time.monotonic() - t0 < limit:
    r, _, _ = select.select([p.stdout], [], [], 1.0)
    if r:
        chunk = os.read(p.stdout.fileno(), 65536)
        if not chunk:
            verdict = "vx86 exited (%s)" % p.poll()
            break
        buf = buf[-4096:] + chunk
    text = re.sub(rb"\x1b\[[0-9;?]*[A-Za-z]", b"\n", buf).decode(errors="replace")
    errs = [int(e) for e in re.findall(r"Errors:\s*(\d+)", text)]
    if any(errs):
        verdict = "errors: %d" % max(errs)
        break
    if re.search(r"Pass:\s*[1-9]", text):
        verdict = "pass complete, no errors (%.0f s)" % (time.monotonic() - t0)
        break
if p.poll() is None:
    p.kill()
p.wait()
print(verdict)
PY
}

for how in kernel iso; do
    if [ "$how" = kernel ]; then
        v=$(run "$how" -kernel "$MEMTEST" -append "console=ttyS0,115200" "$@")
    else
        v=$(run "$how" -cdrom "$tmp/memtest.iso" "$@")
    fi
    case $v in
        "pass complete, no errors"*) pass "memtest86+ via $how: $v" ;;
        *) bad "memtest86+ via $how: $v" ;;
    esac
done
exit $fail
