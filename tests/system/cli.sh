#!/bin/sh
# Command-line behaviour of the real vx86 binary: exit status, and that
# every error is exactly one line on stderr naming the option.
#
#   tests/system/cli.sh [path/to/vx86]      (make check-cli)
#
# Prints PASS/FAIL per case; exits non-zero when any case fails.
set -u

VX86=${1:-./vx86}
tmp=$(mktemp -d "${TMPDIR:-/tmp}/vx86-cli.XXXXXX") || exit 1
trap 'rm -rf "$tmp"' EXIT INT TERM
failures=0
cases=0

pass() { echo "PASS: $1"; }
fail() { echo "FAIL: $1: $2"; failures=$((failures + 1)); }

# run ARGS...: runs vx86, leaving status in $rc, output in $tmp/out, $tmp/err.
run() {
    "$VX86" "$@" >"$tmp/out" 2>"$tmp/err" </dev/null
    rc=$?
}

lines() { wc -l <"$1" | tr -d ' '; }

# expect_error NAME TEXT ARGS...: exit 1, stdout empty, exactly one line
# on stderr that starts with "vx86: " and contains TEXT.
expect_error() {
    name=$1 text=$2
    shift 2
    cases=$((cases + 1))
    run "$@"
    if [ "$rc" -ne 1 ]; then
        fail "$name" "exit status $rc, want 1"
    elif [ "$(lines "$tmp/err")" != 1 ]; then
        fail "$name" "stderr has $(lines "$tmp/err") lines, want 1: $(cat "$tmp/err")"
    elif ! grep -q '^vx86: ' "$tmp/err"; then
        fail "$name" "stderr does not start with 'vx86: ': $(cat "$tmp/err")"
    elif ! grep -qF -- "$text" "$tmp/err"; then
        fail "$name" "stderr does not mention '$text': $(cat "$tmp/err")"
    elif [ -s "$tmp/out" ]; then
        fail "$name" "unexpected stdout: $(cat "$tmp/out")"
    else
        pass "$name"
    fi
}

# expect_ok NAME TEXT ARGS...: exit 0 and TEXT on stdout.
expect_ok() {
    name=$1 text=$2
    shift 2
    cases=$((cases + 1))
    run "$@"
    if [ "$rc" -ne 0 ]; then
        fail "$name" "exit status $rc, want 0: $(cat "$tmp/err")"
    elif ! grep -qF -- "$text" "$tmp/out"; then
        fail "$name" "stdout does not mention '$text': $(cat "$tmp/out")"
    else
        pass "$name"
    fi
}

if [ ! -x "$VX86" ]; then
    echo "FAIL: $VX86 is not an executable (run make first)"
    exit 1
fi
version=$(cat "$(dirname "$0")/../../VERSION" 2>/dev/null || echo "")
# No case needs a window; the display cases below rely on there being none.
unset DISPLAY WAYLAND_DISPLAY SDL_VIDEODRIVER
: >"$tmp/kernel"
: >"$tmp/disk.img"

expect_error "bad -m size" "-m: invalid size '12Q'" -m 12Q
expect_error "-m 0" "-m: size must be at least 1 MiB" -m 0
expect_error "-m too large" "-m: " -m 99999999999999T
expect_error "missing -kernel file" "-kernel: /nonexistent: No such file or directory" -kernel /nonexistent
expect_error "-kernel is a directory" "Is a directory" -kernel "$tmp"
expect_error "unknown option" "unknown option '-frobnicate'" -frobnicate
expect_error "missing argument" "-kernel: missing argument" -kernel
expect_error "-initrd without -kernel" "-initrd: needs -kernel" -initrd "$tmp/kernel"
expect_error "bad drive format" "-drive: format 'vvfat' not supported (raw, qcow2, vmdk, vdi, vpc)" \
    -drive "file=$tmp/disk.img,format=vvfat"
expect_error "unknown accelerator" "-accel: unknown accelerator 'foo'" -accel foo
expect_error "unknown log item" "-d: " -d nonsense
# -smp follows QEMU's topology rules and QEMU's messages.
expect_error "-smp topology that does not multiply out" \
    "-smp: Invalid CPU topology: product of the hierarchy must match maxcpus: sockets (3) * dies (1) * cores (1) * threads (1) != maxcpus (4)" \
    -smp 4,sockets=3
expect_error "-smp above 64 refused" "-smp: " -smp 65
expect_error "-accel thread= on kvm refused" "-accel: thread= applies only to tcg" -accel kvm,thread=multi
# Disks exist now (IDE): a bad image is refused by the block layer with one
# line naming the option and the file.
expect_error "-hda zero-length image" "-hda: $tmp/disk.img" -hda "$tmp/disk.img"
expect_error "-cdrom directory" "-cdrom: " -cdrom "$tmp"
expect_error "-drive if=virtio zero-length image" "-drive: $tmp/disk.img" \
    -drive "file=$tmp/disk.img,if=virtio"
expect_error "virtio CD-ROM refused" "-drive: media=cdrom is only supported with if=ide" \
    -drive "file=$tmp/disk.img,if=virtio,media=cdrom"
expect_error "virtio-blk-pci without its drive" "-device: virtio-blk-pci: no -drive with id=d0" \
    -device virtio-blk-pci,drive=d0
expect_error "virtio-blk-pci on an IDE drive" "virtio-blk-pci: drive d0 is already attached (use if=none)" \
    -drive "file=$tmp/disk.img,id=d0" -device virtio-blk-pci,drive=d0
expect_error "-gdb with a bad spec refused" "-gdb: " -gdb udp::1234
expect_error "-kernel that is not a bzImage" "is not a Linux bzImage" -kernel "$tmp/kernel"
expect_error "-kernel ELF image" "is an ELF image, not a bzImage" -kernel /bin/sh
expect_error "-D unwritable" "-D: " -D "$tmp/no/such/dir/log" -kernel "$tmp/kernel"

# Malformed guest images (issue 5): one clear line each, exit 1.
head -c 65536 /dev/urandom >"$tmp/random.bin"
expect_error "-kernel of random bytes" "is not a Linux bzImage" -kernel "$tmp/random.bin"
# A 32-bit ELF header (ELFCLASS32, EM_386), the rest zero.
printf '\177ELF\001\001\001\000\000\000\000\000\000\000\000\000\002\000\003\000\001\000\000\000' >"$tmp/elf32"
head -c 4096 /dev/zero >>"$tmp/elf32"
expect_error "-kernel 32-bit ELF" "is an ELF image, not a bzImage" -kernel "$tmp/elf32"
# A bzImage cut short: the boot sector with a valid setup header claiming
# more setup sectors than the file has.
python3 - "$tmp/trunc.bin" <<'PY'
import struct, sys
b = bytearray(1024)
b[0x1f1] = 30                                  # setup_sects
b[0x1fe:0x200] = b"\x55\xaa"                  # boot flag
b[0x202:0x206] = b"HdrS"
b[0x206:0x208] = struct.pack("<H", 0x20f)      # protocol 2.15
open(sys.argv[1], "wb").write(b)
PY
expect_error "-kernel truncated" "truncated" -kernel "$tmp/trunc.bin"
if [ -f .cache/guest/vmlinuz ]; then
    head -c 33554432 /dev/zero >"$tmp/big.initrd"
    expect_error "-initrd larger than RAM" "-initrd: " -m 96 -kernel .cache/guest/vmlinuz -initrd "$tmp/big.initrd"
fi

expect_ok "--version" "vx86 $version" --version
expect_ok "-version" "vx86 $version" -version
expect_ok "--help" "-kernel" --help
expect_ok "-d help" "in_asm" -d help
expect_error "-dfilter without a length" "bad range '0x1000'" -dfilter 0x1000
expect_error "-dfilter end before start" "bad range '5..3'" -dfilter 0x10+4,5..3

# -dfilter: only blocks in the range are logged (the test ROM starts with a
# one-instruction block at fffffff0 and continues at f0000).
if [ -f build/testrom/hello.bin ]; then
    cases=$((cases + 1))
    "$VX86" -accel tcg -bios build/testrom/hello.bin -nographic -debugcon none \
        -d in_asm -D "$tmp/log" -dfilter 0xf0000..0xf0000 </dev/null >/dev/null 2>&1
    if [ "$(grep -c '^IN:' "$tmp/log")" != 1 ] || ! grep -q '^IN: pc=f0000 ' "$tmp/log"; then
        fail "-dfilter selects one block" "log: $(grep '^IN:' "$tmp/log" | head -3)"
    else
        pass "-dfilter selects one block"
    fi
fi
# 16 GiB of RAM is mapped lazily: the test ROM runs to its end (it leaves
# through isa-debug-exit with value 0, so vx86's exit status is 1).
if [ -f build/testrom/hello.bin ]; then
    cases=$((cases + 1))
    run -m 16G -accel tcg -bios build/testrom/hello.bin -nographic -debugcon stdio
    if [ "$rc" -ne 1 ] || ! grep -qF "checks: all passed" "$tmp/out"; then
        fail "16G test ROM (lazy RAM)" "exit $rc, stdout: $(cat "$tmp/out")"
    else
        pass "16G test ROM (lazy RAM)"
    fi
fi
# With nothing to boot vx86 runs SeaBIOS (tests/system/seabios.sh); here
# only the options that shape the board.
expect_error "-M q35 refused" "machine type 'q35' not supported" -M q35
expect_error "-machine accel= checked" "unknown accelerator 'xen'" -machine pc,accel=xen
expect_error "-boot menu= checked" "menu=maybe: expected on or off" -boot menu=maybe
expect_error "-global unknown property" "property not supported" -global foo.bar=1
expect_error "-global isa-debugcon.iobase checked" "expected a port" -global isa-debugcon.iobase=0x10000
expect_error "-bios missing file" "No such file" -bios "$tmp/no-such-bios.bin"

TESTROM=build/testrom/hello.bin
# -chardev, -serial chardev:, -device, -cpu features: each mistake is one
# line naming the option (issue 12, "Generic test devices").
expect_error "-chardev without id" "id= is required" -chardev null
expect_error "-chardev unknown backend" "backend 'pty' not supported" -chardev pty,id=a
expect_error "-chardev duplicate id" "duplicate id 'a'" -chardev null,id=a -chardev null,id=a
expect_error "-chardev parameter of another backend" "parameter 'path' does not apply" -chardev null,id=a,path=/x
expect_error "-chardev socket without address" "socket needs path=PATH" -chardev socket,id=a
expect_error "-chardev file without path" "file needs path=PATH" -chardev file,id=a
expect_error "-chardev pipe missing" "pipe: cannot open" -chardev pipe,id=a,path="$tmp/nopipe" -bios "$TESTROM"
expect_error "-chardev socket refused" "-chardev a: unix:" -chardev socket,id=a,path="$tmp/nosock" -bios "$TESTROM"
expect_error "-serial unknown chardev" "-serial: chardev 'nope' not found" -serial chardev:nope
expect_error "-serial and -debugcon share a chardev" "already used by -serial" -chardev null,id=c -serial chardev:c -debugcon chardev:c
expect_error "-device unknown" "device 'ne2k_pci' not supported" -device ne2k_pci
expect_error "-device unknown property" "isa-debugcon: unknown property 'size'" -device isa-debugcon,size=1
expect_error "-device bad port" "iobase=0x10000: expected a port" -device isa-debugcon,iobase=0x10000
expect_error "-device unknown chardev" "chardev 'x' not found" -device isa-debugcon,chardev=x
expect_error "-device two pc-testdevs" "at most 1" -device pc-testdev -device pc-testdev
expect_error "-device ports taken" "-device isa-debugcon: port 0x3f8 is taken" -device isa-debugcon,iobase=0x3f8 -serial none -bios "$TESTROM"
expect_error "-device pci address taken" "PCI address 01.0 is taken" -device pci-testdev,addr=1 -bios "$TESTROM"
expect_error "-cpu unknown feature" "unknown CPU feature 'frob'" -cpu max,+frob
expect_error "-cpu feature not implemented" "CPU feature 'avx' is not implemented" -cpu qemu64,+avx
expect_error "-cpu feature=maybe" "sse2=maybe: expected on or off" -cpu max,sse2=maybe
expect_ok "-device help" "pci-testdev" -device help
expect_ok "-cpu help lists features" "sse4.2" -cpu help
expect_error "-initrd module list without Multiboot" "a list of modules needs a Multiboot kernel" -kernel "$tmp/elf32" -initrd "$tmp/elf32 a,$tmp/elf32"
# Displays (issue 13): one that cannot start is one line and exit 1; the
# default display falls back to none with a one-line notice.
expect_error "-display sdl without X" "-display sdl: no X or Wayland display" -display sdl
nodisp=:4242
while [ -e "/tmp/.X11-unix/X${nodisp#:}" ]; do nodisp=":$((${nodisp#:} + 1))"; done
export DISPLAY=$nodisp
expect_error "-display sdl, no X server there" "-display sdl: cannot open a window on the display $nodisp" \
    -display sdl
unset DISPLAY
expect_error "-display curses without a terminal" "-display curses: the standard input and output must be a terminal" \
    -display curses
expect_error "-display curses with -serial stdio" "-display curses: the terminal is already used by -serial stdio" \
    -display curses -serial stdio
expect_error "-nographic -display curses" "-nographic: cannot be combined with -display curses" \
    -nographic -display curses
expect_error "-display gtk refused" "unsupported display 'gtk'" -display gtk
expect_error "-monitor vc without a window" "-monitor vc: needs -display sdl" \
    -display none -monitor vc
# default_display NAME TEXT: the default display falls back to none: the
# test ROM runs to its end (status 1: its exit value 0), one notice line.
default_display() {
    cases=$((cases + 1))
    run -accel tcg -bios build/testrom/hello.bin -debugcon stdio
    if [ "$rc" -ne 1 ] || ! grep -qF "checks: all passed" "$tmp/out"; then
        fail "$1" "exit $rc, stdout: $(cat "$tmp/out"), stderr: $(cat "$tmp/err")"
    elif [ "$(lines "$tmp/err")" != 1 ] || ! grep -qF -- "$2" "$tmp/err"; then
        fail "$1" "stderr: $(cat "$tmp/err")"
    else
        pass "$1"
    fi
}
if [ -f build/testrom/hello.bin ] && grep -q "CONFIG_SDL" config.h 2>/dev/null; then
    default_display "default display without X: none, one notice" \
        "no X or Wayland display (DISPLAY is not set): running with -display none"
    if true; then
        export DISPLAY=$nodisp
        default_display "default display, no X server there: none, one notice" \
            "cannot open the SDL window"
        unset DISPLAY
    fi
fi

echo "cli: $((cases - failures))/$cases passed"
[ "$failures" -eq 0 ]
