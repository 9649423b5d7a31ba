#!/bin/sh
# SeaBIOS, the default firmware: vx86 with nothing to boot runs Debian's
# bios-256k.bin through POST (PAM shadowing, fw_cfg, PCI, PIIX4 PM) to its
# "No bootable device" message, as qemu-system-x86_64 does.  SeaBIOS logs
# to the isa-debugcon port 0x402 and, with -nographic, prints its screen
# on the serial console.  With -bios and -kernel, SeaBIOS boots the Debian
# kernel through vx86's option ROM (hw/pc/linuxboot-rom16.S).
#
#   tests/system/seabios.sh [path/to/vx86]      (make check-seabios)
#
# Prints PASS/FAIL per case; exits non-zero when any case fails.  A missing
# SeaBIOS is a failure (scripts/deps.sh build installs it), not a skip.
set -u

VX86=${1:-./vx86}
BIOS=/usr/share/seabios/bios-256k.bin
TIMEOUT=${SEABIOS_TIMEOUT:-60}
tmp=$(mktemp -d "${TMPDIR:-/tmp}/vx86-seabios.XXXXXX") || exit 1
trap 'rm -rf "$tmp"' EXIT INT TERM
failures=0
cases=0

pass() { echo "PASS: $1"; }
fail() { echo "FAIL: $1: $2"; failures=$((failures + 1)); }

if [ ! -r "$BIOS" ]; then
    echo "FAIL: $BIOS missing (scripts/deps.sh build installs Debian's seabios)"
    exit 1
fi

# boot NAME ARGS...: runs vx86 until SeaBIOS's debug log says "No bootable
# device" (or TIMEOUT s), then stops it.  Log in $tmp/NAME.log, serial
# console in $tmp/NAME.out, stderr in $tmp/NAME.err.
boot() {
    name=$1
    shift
    log=$tmp/$name.log
    : >"$log"
    "$VX86" -nographic -debugcon "file:$log" -global isa-debugcon.iobase=0x402 "$@" \
        >"$tmp/$name.out" 2>"$tmp/$name.err" </dev/null &
    pid=$!
    i=0
    while [ $i -lt $((TIMEOUT * 10)) ]; do
        grep -q "No bootable device" "$log" && break
        kill -0 "$pid" 2>/dev/null || break
        sleep 0.1
        i=$((i + 1))
    done
    kill "$pid" 2>/dev/null
    wait "$pid" 2>/dev/null
}

# check NAME FILE TEXT: FILE mentions TEXT.
check() {
    cases=$((cases + 1))
    if grep -qF -- "$3" "$2"; then
        pass "$1"
    else
        fail "$1" "no '$3' in $(basename "$2"): $(tail -5 "$2" | tr '\n' '|') stderr: $(cat "$tmp"/*.err | head -3)"
    fi
}

# check_not NAME FILE TEXT: FILE does not mention TEXT.
check_not() {
    cases=$((cases + 1))
    if grep -qF -- "$3" "$2"; then
        fail "$1" "'$3' in $(basename "$2")"
    else
        pass "$1"
    fi
}

boot default
check "SeaBIOS starts" "$tmp/default.log" "SeaBIOS (version"
check "SeaBIOS finds QEMU's board and fw_cfg" "$tmp/default.log" "Running on QEMU (i440fx)"
check "fw_cfg DMA" "$tmp/default.log" "QEMU fw_cfg DMA interface supported"
check "etc/e820 read" "$tmp/default.log" "qemu/e820: addr 0x0000000000000000 len 0x0000000008000000 [RAM]"
check "init relocated into RAM (PAM shadow)" "$tmp/default.log" "Relocating init from"
check "CPU count from fw_cfg/CMOS" "$tmp/default.log" "Found 1 cpu(s) max supported 1 cpu(s)"
check "ACPI tables built" "$tmp/default.log" "Copying ACPI RSDP"
check "COM1 found" "$tmp/default.log" "Found 1 serial ports"
check "reaches No bootable device" "$tmp/default.log" "No bootable device"
check "serial console shows SeaBIOS" "$tmp/default.out" "SeaBIOS (version"
check "serial console shows No bootable device" "$tmp/default.out" "No bootable device"

boot machine -M pc,accel=tcg -m 512 -boot order=dc,menu=on
check "-M pc,accel=tcg -m 512 boots SeaBIOS" "$tmp/machine.log" "No bootable device"
check "-m 512 reaches SeaBIOS" "$tmp/machine.log" "len 0x0000000020000000 [RAM]"
check "-boot menu=on offers the menu" "$tmp/machine.log" "Press ESC for boot menu"

boot nodefaults -nodefaults
check "-nodefaults boots SeaBIOS" "$tmp/nodefaults.log" "No bootable device"
check "-nodefaults: no COM1" "$tmp/nodefaults.log" "Found 0 serial ports"
check_not "-nodefaults: nothing on the terminal" "$tmp/nodefaults.out" "SeaBIOS"

# -kernel with -bios: SeaBIOS runs from RESET and boots the kernel through
# vx86's option ROM (genroms/vx86-linuxboot.bin, first in bootorder), which
# copies setup, command line, kernel and initrd from fw_cfg.  The Debian
# kernel proves each part arrived: its command line, the initrd's /init
# marker, and the firmware's ACPI tables (RSDP from SeaBIOS, not vx86's).
kernel=.cache/guest/vmlinuz initrd=.cache/guest/initramfs.cpio.gz
if [ ! -f "$kernel" ] || [ ! -f "$initrd" ]; then
    tests/guest/mkguest.sh >/dev/null || fail "-kernel with -bios" "no test guest (tests/guest/mkguest.sh)"
fi
if [ -f "$kernel" ]; then
    log=$tmp/kernel.log
    : >"$log"
    "$VX86" -m 256M -display none -serial "file:$tmp/kernel.out" -debugcon "file:$log" \
        -global isa-debugcon.iobase=0x402 -bios "$BIOS" -kernel "$kernel" -initrd "$initrd" \
        -append "console=ttyS0 vx86-bios-kernel=yes" </dev/null 2>"$tmp/kernel.err" &
    pid=$!
    i=0
    while [ $i -lt 1800 ] && ! grep -q "vx86-guest ready" "$tmp/kernel.out" 2>/dev/null; do
        kill -0 "$pid" 2>/dev/null || break
        sleep 0.1
        i=$((i + 1))
    done
    kill "$pid" 2>/dev/null
    wait "$pid" 2>/dev/null
    check "-kernel -bios: the ROM is first in bootorder" "$log" "1: /rom@genroms/vx86-linuxboot.bin"
    check "-kernel -bios: SeaBIOS boots the ROM" "$log" "Booting from ROM..."
    check "-kernel -bios: the kernel gets its command line" "$tmp/kernel.out" "Command line: console=ttyS0 vx86-bios-kernel=yes"
    check "-kernel -bios: the firmware's ACPI tables" "$tmp/kernel.out" "ACPI: RSDP 0x00000000000F"
    check "-kernel -bios: the initrd's /init runs" "$tmp/kernel.out" "vx86-guest ready"
fi

echo "seabios: $((cases - failures))/$cases passed"
[ "$failures" -eq 0 ]
