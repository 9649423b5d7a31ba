#!/bin/sh
# Multiboot v1 kernels with -kernel against QEMU.  The test kernel
# (tests/system/multiboot/, built as ELF32 and as a flat a.out-kludge
# image) prints its info structure to port 0xe9 and exits through
# isa-debug-exit.  Both emulators boot it with the same -append and
# -initrd module list; the outputs must match except for lines starting
# with "@", which carry what a loader may place freely and QEMU places
# differently for a reason:
#   - mem_upper and the mmap: QEMU's come from SeaBIOS's e820 (it reserves
#     the top 128 KiB of low RAM and lists a 0xfd00000000 hole); vx86
#     boots without a BIOS and passes its own e820 map;
#   - module addresses: QEMU keeps the info structure and strings in a
#     page after the kernel, vx86 in low memory, so QEMU's modules start
#     one page later;
#   - boot_loader_name: "qemu" vs "vx86".
# Then malformed images: each gets one line on stderr and exit 1.
#
#   tests/system/multiboot.sh [./vx86]          (make check-multiboot)
set -u
VX86=${1:-./vx86}
B=build/multiboot
tmp=$(mktemp -d "${TMPDIR:-/tmp}/vx86-mb.XXXXXX") || exit 1
trap 'rm -rf "$tmp"' EXIT INT TERM
fail=0
pass() { echo "PASS: multiboot: $1"; }
bad() { echo "FAIL: multiboot: $1"; fail=1; }

printf 'module one contents\n' >"$tmp/m1"
head -c 10000 /dev/urandom >"$tmp/m2"
printf 'x' >"$tmp/m3"
mods="$tmp/m1 arg1 arg2,$tmp/m2,$tmp/m3 a,,b"

# boot EMULATOR KERNEL OUT: prints the exit status.
boot() {
    timeout 60 "$1" -nodefaults -display none -m 128 -kernel "$2" -append "hello world  args" \
        -initrd "$mods" -chardev file,id=dc,path="$3" -device isa-debugcon,iobase=0xe9,chardev=dc \
        -device isa-debug-exit,iobase=0xf4,iosize=4 </dev/null >/dev/null 2>"$3.err"
    echo $?
}

for k in mbinfo.elf mbinfo-aout.bin; do
    rc=$(boot "$VX86" "$B/$k" "$tmp/v-$k")
    [ "$rc" = 67 ] && grep -q 'RESULT: PASS' "$tmp/v-$k" && pass "$k boots, its checks pass" ||
        bad "$k: exit $rc: $(tail -3 "$tmp/v-$k" "$tmp/v-$k.err" 2>/dev/null)"
    if command -v qemu-system-x86_64 >/dev/null 2>&1; then
        qrc=$(boot qemu-system-x86_64 "$B/$k" "$tmp/q-$k")
        grep -v '^@' "$tmp/q-$k" >"$tmp/q-$k.n"
        grep -v '^@' "$tmp/v-$k" >"$tmp/v-$k.n"
        if [ "$qrc" = "$rc" ] && cmp -s "$tmp/q-$k.n" "$tmp/v-$k.n" && [ -s "$tmp/q-$k.n" ]; then
            pass "$k: same info structure as QEMU (flags, mem_lower, cmdline, modules)"
        else
            bad "$k: differs from QEMU (exit $rc vs $qrc): $(diff "$tmp/q-$k.n" "$tmp/v-$k.n" | head -6)"
        fi
    else
        bad "qemu-system-x86_64 not found (scripts/deps.sh test)"
    fi
done

# expect_error NAME TEXT IMAGE [ARGS]: one line naming the problem, exit 1.
expect_error() {
    name=$1 text=$2 img=$3
    shift 3
    "$VX86" -display none -nodefaults -m 32 -kernel "$img" "$@" </dev/null >"$tmp/out" 2>"$tmp/err"
    rc=$?
    if [ "$rc" = 1 ] && [ "$(wc -l <"$tmp/err")" = 1 ] && grep -qF -- "$text" "$tmp/err"; then
        pass "$name"
    else
        bad "$name: exit $rc: $(cat "$tmp/err")"
    fi
}

# mutate SRC DST OFFSET HEX...: a copy with bytes replaced.
mutate() {
    python3 - "$@" <<'PY'
import sys
src, dst, off = sys.argv[1], sys.argv[2], int(sys.argv[3], 0)
d = bytearray(open(src, "rb").read())
for i, h in enumerate(sys.argv[4:]):
    d[off + i] = int(h, 16)
open(dst, "wb").write(d)
PY
}
hdr=$(python3 -c "
import struct,sys
d=open('$B/mbinfo-aout.bin','rb').read()
for i in range(0,8192,4):
    m,f,c=struct.unpack_from('<III',d,i)
    if m==0x1badb002 and (m+f+c)&0xffffffff==0: print(i); break")
elf_hdr=$(python3 -c "
import struct
d=open('$B/mbinfo.elf','rb').read()
for i in range(0,8192,4):
    m,f,c=struct.unpack_from('<III',d,i)
    if m==0x1badb002 and (m+f+c)&0xffffffff==0: print(i); break")
# load_end_addr below load_addr
mutate "$B/mbinfo-aout.bin" "$tmp/bad1" $((hdr + 20)) 00 00 0f 00
expect_error "load_end below load_addr" "load_end_addr 0xf0000 is below load_addr" "$tmp/bad1"
# header_addr below load_addr
mutate "$B/mbinfo-aout.bin" "$tmp/bad2" $((hdr + 12)) 00 00 0f 00
expect_error "header_addr below load_addr" "do not fit the header's file offset" "$tmp/bad2"
# bss_end inside the loaded image
mutate "$B/mbinfo-aout.bin" "$tmp/bad3" $((hdr + 24)) 01 00 10 00
expect_error "bss_end inside the image" "bss_end_addr 0x100001 is below" "$tmp/bad3"
# entry outside the image
mutate "$B/mbinfo-aout.bin" "$tmp/bad4" $((hdr + 28)) 00 00 00 20
expect_error "entry outside the image" "entry point 0x20000000 is outside" "$tmp/bad4"
# load address beyond RAM (-m 32)
mutate "$B/mbinfo-aout.bin" "$tmp/bad5" $((hdr + 12)) 00 00 00 30 00 00 00 30 00 00 00 00 00 00 00 00 00 00 00 30
expect_error "load address beyond RAM" "not in guest RAM" "$tmp/bad5"
# truncated image: load_end past the end of the file
mutate "$B/mbinfo-aout.bin" "$tmp/bad6" $((hdr + 20)) 00 00 20 00 00 00 00 00
expect_error "load_end past the file" "is truncated" "$tmp/bad6"
# ELF without address fields whose program headers run off the file
mutate "$B/mbinfo.elf" "$tmp/bad7" 28 00 f0 ff 00
expect_error "ELF program headers past the file" "program headers" "$tmp/bad7"
# ELF64 without address fields
mutate "$B/mbinfo.elf" "$tmp/bad8" 4 02
expect_error "ELF64 without address fields" "64-bit ELF image" "$tmp/bad8"
# a module that is not there
expect_error "missing module" "-initrd: " "$B/mbinfo.elf" -initrd "$tmp/m1,$tmp/nope arg"
# neither a bzImage nor Multiboot
printf 'not a kernel at all' >"$tmp/junk"
expect_error "junk kernel" "-kernel: " "$tmp/junk"
[ -n "$elf_hdr" ] || bad "no header in the ELF image"
exit $fail
