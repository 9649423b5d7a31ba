#!/bin/sh
# bench/kvm.sh: vx86's KVM accelerator against qemu-system-x86_64 -accel kvm
# on the same guests, where both can run them (issue 6).  Not part of
# make check; every run has a timeout, so it never hangs.
#
#   bench/kvm.sh [path/to/vx86]
#   LINUX_TIMEOUT=120 bench/kvm.sh      (seconds allowed to reach the prompt)
#
# Workloads:
#   ring3-loop  build/testrom/kvm-ring3.bin: 100 M iterations of an integer
#               loop in guest ring 3, RDTSC cycles reported by the guest,
#               plus the same loop run natively (build/kvm-loop-native);
#               wall time of the whole run (start-up, ring-0 set-up through
#               KVM, the loop 3 times, exit).
#   linux       the default guest (tests/guest/mkguest.sh: Debian kernel +
#               busybox initramfs): seconds from start to the shell prompt.
# A workload one side cannot run is reported as "not runnable here" with
# the reason: vx86's refusal message (its KVM speed probe), or QEMU's error
# or timeout with the last console line.
set -u
cd "$(dirname "$0")/.."
VX86=${1:-./vx86}
QEMU=${QEMU:-qemu-system-x86_64}
LINUX_TIMEOUT=${LINUX_TIMEOUT:-60}
LOOP_TIMEOUT=${LOOP_TIMEOUT:-60}
tmp=$(mktemp -d "${TMPDIR:-/tmp}/vx86-benchkvm.XXXXXX") || exit 1
trap 'rm -rf "$tmp"' EXIT INT TERM

QEMU_BIOS_ARGS="-device isa-debug-exit,iobase=0xf4,iosize=0x04 -display none -serial none -monitor none"

now() { date +%s.%N; }
elapsed() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", b - a }'; }
row() { printf '%-11s %-6s %s\n' "$1" "$2" "$3"; }

if [ ! -e /dev/kvm ]; then
    echo "bench/kvm.sh: not runnable here: /dev/kvm absent"
    exit 0
fi
make -s vx86 kvm-images >/dev/null || { echo "bench/kvm.sh: build failed"; exit 1; }
command -v "$QEMU" >/dev/null 2>&1 || QEMU=
echo "host: $(grep -m1 'model name' /proc/cpuinfo | sed 's/.*: //'); kvm modules: $(ls /sys/module | grep '^kvm' | tr '\n' ' ')"
echo

# ---- ring3-loop ----
echo "== ring3-loop (guest RDTSC cycles for 100 M iterations; lower is better)"
native=$(build/kvm-loop-native)
n_cycles=$(echo "$native" | sed -n 's/.* cycles=\([0-9]*\)$/\1/p')
row ring3-loop native "cycles=$n_cycles"

# ring3_report NAME OUT STATUS SECONDS
ring3_report() {
    if [ "$3" = 124 ] || [ "$3" = 137 ]; then
        row ring3-loop "$1" "not runnable here: no result within ${LOOP_TIMEOUT}s"
        return
    fi
    c=$(sed -n 's/^info time ring3-loop cycles=\([0-9]*\)$/\1/p' "$2")
    if [ -z "$c" ] || ! tail -n 1 "$2" | grep -Eq '^exit code=0+$'; then
        why=$(grep -v '^qemu-system-x86_64: warning' "$2.err" | head -n 1)
        row ring3-loop "$1" "not runnable here: ${why:-guest did not finish (status $3)}"
        return
    fi
    row ring3-loop "$1" "cycles=$c ratio-to-native=$(awk -v g="$c" -v n="$n_cycles" 'BEGIN { printf "%.2f", g / n }') wall=${4}s"
}

t0=$(now)
timeout -k 2 "$LOOP_TIMEOUT" "$VX86" -bios build/testrom/kvm-ring3.bin -accel kvm,force=on -nographic \
    -m 64M -debugcon "file:$tmp/v" -no-reboot </dev/null >/dev/null 2>"$tmp/v.err"
rc=$?
ring3_report vx86 "$tmp/v" "$rc" "$(elapsed "$t0" "$(now)")"

if [ -n "$QEMU" ]; then
    t0=$(now)
    # shellcheck disable=SC2086
    timeout -k 2 "$LOOP_TIMEOUT" "$QEMU" -accel kvm -bios build/testrom/kvm-ring3.bin -nographic -m 64M \
        -no-reboot -debugcon "file:$tmp/q" $QEMU_BIOS_ARGS </dev/null >/dev/null 2>"$tmp/q.err"
    rc=$?
    touch "$tmp/q"
    ring3_report qemu "$tmp/q" "$rc" "$(elapsed "$t0" "$(now)")"
else
    row ring3-loop qemu "not runnable here: qemu-system-x86_64 not installed"
fi
echo

# ---- linux ----
echo "== linux (seconds from start to the shell prompt; lower is better)"
paths=$(tests/guest/mkguest.sh 2>"$tmp/mkguest.err")
kernel=$(echo "$paths" | sed -n 1p)
initrd=$(echo "$paths" | sed -n 2p)
if [ -z "$kernel" ] || [ ! -f "$kernel" ]; then
    row linux both "not runnable here: no guest ($(tail -n 1 "$tmp/mkguest.err"))"
    exit 0
fi

# linux_boot NAME CMD...: boots until "~ # " appears on the console or the
# timeout; prints the row.
linux_boot() {
    name=$1
    shift
    t0=$(now)
    timeout -k 2 "$LINUX_TIMEOUT" "$@" </dev/null >"$tmp/$name.con" 2>"$tmp/$name.err" &
    pid=$!
    ready=
    while kill -0 "$pid" 2>/dev/null; do
        if grep -q '^~ # ' "$tmp/$name.con" 2>/dev/null; then
            ready=$(elapsed "$t0" "$(now)")
            break
        fi
        sleep 0.2
    done
    kill "$pid" 2>/dev/null
    wait "$pid" 2>/dev/null
    rc=$?
    if [ -n "$ready" ]; then
        row linux "$name" "prompt after ${ready}s"
    elif [ "$rc" = 124 ] || [ "$rc" = 137 ] || [ "$rc" = 143 ]; then
        last=$(tr -d '\r' <"$tmp/$name.con" | sed 's/\x1b\[[0-9;?]*[a-zA-Z]//g; s/\x1bc//g' | grep -v '^ *$' | tail -n 1)
        row linux "$name" "not runnable here: no prompt within ${LINUX_TIMEOUT}s (last console line: ${last:-none})"
    else
        why=$(grep -v 'warning' "$tmp/$name.err" | head -n 1)
        row linux "$name" "not runnable here: ${why:-exited with status $rc before the prompt}"
    fi
}

# vx86 without force=on: its speed probe decides whether KVM can boot Linux.
linux_boot vx86 "$VX86" -kernel "$kernel" -initrd "$initrd" -append "console=ttyS0" \
    -accel kvm -nographic -m 512M
if [ -n "$QEMU" ]; then
    linux_boot qemu "$QEMU" -accel kvm -kernel "$kernel" -initrd "$initrd" \
        -append "console=ttyS0" -nographic -m 512M -monitor none -serial stdio -display none
else
    row linux qemu "not runnable here: qemu-system-x86_64 not installed"
fi
