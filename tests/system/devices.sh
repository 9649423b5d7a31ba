#!/bin/sh
# The generic test devices against QEMU: the devices test ROM writes one
# line to an isa-debugcon at 0x402 and one to another at 0x500, each a
# -chardev file; both emulators must produce the same two files, the same
# main debugcon text and the same isa-debug-exit status.  -cpu max,-sse4.2
# must clear the bit the ROM reads from CPUID.  pc-testdev comes before the
# 0xe9 console: its byte window 0xe8-0xeb covers 0xe9, and QEMU gives an
# overlapping port to the device added last (vx86 always to the console).
#
#   tests/system/devices.sh [./vx86] [build/testrom/devices.bin]   (make check-devices)
set -u
VX86=${1:-./vx86}
ROM=${2:-build/testrom/devices.bin}
tmp=$(mktemp -d "${TMPDIR:-/tmp}/vx86-devices.XXXXXX") || exit 1
trap 'rm -rf "$tmp"' EXIT INT TERM
fail=0
pass() { echo "PASS: devices: $1"; }
bad() { echo "FAIL: devices: $1"; fail=1; }

# run EMULATOR PREFIX CPU: the ROM with two debugcons on files.
run() {
    timeout 60 "$1" -nodefaults -display none -m 32 -bios "$ROM" -cpu "$3" \
        -chardev file,id=a,path="$tmp/$2-402" -chardev file,id=b,path="$tmp/$2-500" \
        -device isa-debugcon,iobase=0x402,chardev=a -device isa-debugcon,iobase=0x500,chardev=b \
        -device pc-testdev -chardev file,id=main,path="$tmp/$2-e9" -device isa-debugcon,chardev=main \
        -device isa-debug-exit,iobase=0xf4,iosize=4 \
        </dev/null >"$tmp/$2-out" 2>"$tmp/$2-err"
    echo $?
}

rc=$(run "$VX86" v max,-sse4.2)
[ "$rc" = 1 ] && grep -q 'all passed' "$tmp/v-e9" && pass "ROM passes under vx86" ||
    bad "vx86 exit $rc: $(cat "$tmp/v-err" "$tmp/v-e9" 2>/dev/null | tail -5)"
printf 'to the debugcon at 0x402\nsecond line at 0x402\n' | cmp -s - "$tmp/v-402" &&
    pass "debugcon 0x402 -> its file" || bad "0x402 file: $(cat "$tmp/v-402")"
printf 'to the debugcon at 0x500\n' | cmp -s - "$tmp/v-500" &&
    pass "debugcon 0x500 -> its file" || bad "0x500 file: $(cat "$tmp/v-500")"
grep -q 'sse4.2=0 popcnt=1 sse4.1=1' "$tmp/v-e9" && pass "-cpu max,-sse4.2 clears CPUID.1:ECX[20] only" ||
    bad "CPUID with -sse4.2: $(grep cpuid "$tmp/v-e9")"
rc2=$(run "$VX86" w max)
grep -q 'sse4.2=1' "$tmp/w-e9" && pass "-cpu max reports SSE4.2" || bad "-cpu max: $(grep cpuid "$tmp/w-e9")"

if command -v qemu-system-x86_64 >/dev/null 2>&1; then
    qrc=$(run qemu-system-x86_64 q max,-sse4.2)
    [ "$qrc" = "$rc" ] && pass "same exit status as QEMU ($rc)" || bad "exit $rc, QEMU $qrc"
    for f in 402 500 e9; do
        cmp -s "$tmp/q-$f" "$tmp/v-$f" && pass "port $f output identical to QEMU's" ||
            bad "port $f differs from QEMU: $(diff "$tmp/q-$f" "$tmp/v-$f" | head -5)"
    done
else
    bad "qemu-system-x86_64 not found (scripts/deps.sh test)"
fi
exit $fail
