#!/bin/sh
# SMP through real firmware (issue 17): SeaBIOS wakes the application
# processors itself (INIT + start-up IPI to all, each AP counts itself in
# and halts), builds its own MP and ACPI tables from what it found, and
# GRUB then boots Linux, which wakes them again from those tables.
#
#   1. SeaBIOS alone, per thread mode: its debug log (port 0x402) must say
#      "Found N cpu(s) max supported M cpu(s)" as it does under
#      qemu-system-x86_64 for the same -smp (-smp 4; -smp 2,maxcpus=4).
#   2. The GRUB ISO of tests/guest/mkgrub.sh with -smp 4, per thread mode:
#      the guest's shell says nproc 4 and the kernel brought up 4 CPUs.
#
# Usage: tests/system/smp-firmware.sh [./vx86]
set -u
VX86=${1:-./vx86}
root=$(cd "$(dirname "$0")/../.." && pwd)
cache=${VX86_CACHE:-$root/.cache}/guest
PATH=$PATH:/sbin:/usr/sbin
fail=0
tmp=$(mktemp -d "${TMPDIR:-/tmp}/vx86-smpfw.XXXXXX") || exit 1
trap 'rm -rf "$tmp"' EXIT INT TERM

pass() { echo "PASS: $*"; }
bad() { echo "FAIL: $*"; fail=1; }

# seabios NAME ARGS...: vx86 until SeaBIOS gives up booting (60 s at most).
seabios() {
    name=$1
    shift
    log=$tmp/$name.log
    : >"$log"
    "$VX86" -nographic -debugcon "file:$log" -global isa-debugcon.iobase=0x402 "$@" \
        >"$tmp/$name.out" 2>"$tmp/$name.err" </dev/null &
    pid=$!
    i=0
    while [ $i -lt 600 ] && ! grep -q "No bootable device" "$log" && kill -0 "$pid" 2>/dev/null; do
        sleep 0.1
        i=$((i + 1))
    done
    kill "$pid" 2>/dev/null
    wait "$pid" 2>/dev/null
}

for mode in single multi; do
    seabios "s4-$mode" -smp 4 -accel "tcg,thread=$mode"
    if grep -q "Found 4 cpu(s) max supported 4 cpu(s)" "$tmp/s4-$mode.log"; then
        pass "SeaBIOS counts 4 CPUs with -smp 4 (thread=$mode)"
    else
        bad "SeaBIOS with -smp 4 (thread=$mode): $(grep -a 'cpu(s)' "$tmp/s4-$mode.log" || tail -3 "$tmp/s4-$mode.log" | tr '\n' '|') $(head -c 300 "$tmp/s4-$mode.err")"
    fi
done
seabios max -smp 2,maxcpus=4
if grep -q "Found 2 cpu(s) max supported 4 cpu(s)" "$tmp/max.log"; then
    pass "SeaBIOS with -smp 2,maxcpus=4: 2 CPUs found, 4 supported"
else
    bad "SeaBIOS with -smp 2,maxcpus=4: $(grep -a 'cpu(s)' "$tmp/max.log" || tail -3 "$tmp/max.log" | tr '\n' '|')"
fi

# ---- GRUB ISO -> Linux with 4 CPUs ----
for tool in grub-mkrescue xorriso mformat python3; do
    command -v "$tool" >/dev/null 2>&1 || { echo "FAIL: '$tool' is missing (scripts/deps.sh test)"; exit 1; }
done
"$root/tests/guest/mkguest.sh" >/dev/null
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
"$root/tests/guest/mkgrub.sh" iso "$tmp/grub.iso" "$tmp/grub.cfg" \
    "$cache/vmlinuz" "$cache/initramfs-ide.cpio.gz"
for mode in single multi; do
    out=$(python3 "$root/tests/system/serial-session.py" --timeout 300 \
        --cmd 'echo cpus=$(nproc)' --cmd 'dmesg | grep "smp: Brought up"' -- \
        "$VX86" -m 512M -nographic -smp 4 -accel "tcg,thread=$mode" -cdrom "$tmp/grub.iso" |
        sed 's/\x1b\[[0-9;?]*[A-Za-z]//g' | tr -d '\r')
    if echo "$out" | grep -q "^cpus=4$" && echo "$out" | grep -q "Brought up 1 node, 4 CPUs" &&
        echo "$out" | grep -q "session: exit=0"; then
        pass "GRUB ISO with -smp 4 (thread=$mode): SeaBIOS -> GRUB -> Linux with 4 CPUs ($(echo "$out" | sed -n 's/session: seconds-to-ready=//p') s)"
    else
        bad "GRUB ISO with -smp 4 (thread=$mode): $(echo "$out" | grep -E 'cpus=|Brought|session:' | tr '\n' '|') $(echo "$out" | tail -3 | tr '\n' '|')"
    fi
done
exit $fail
