#!/bin/sh
# Floppy boot through SeaBIOS (issue 12): a 1.44M FAT12 image made with
# mformat gets the boot sector of tests/system/floppy/boot.S (mformat's BPB
# kept) and two marker sectors at C1 H1 S5-6; `-fda` must boot it, the
# sector must read the markers with int 13h and print through int 10h and
# port 0xe9.  The same image under QEMU is the oracle: both must print the
# same debugcon text and leave with the same isa-debug-exit status.
#
#   tests/system/floppy.sh [./vx86]          (make check-floppy)
set -u
VX86=${1:-./vx86}
tmp=$(mktemp -d "${TMPDIR:-/tmp}/vx86-floppy.XXXXXX") || exit 1
trap 'rm -rf "$tmp"' EXIT INT TERM
fail=0
pass() { echo "PASS: floppy: $1"; }
bad() { echo "FAIL: floppy: $1"; fail=1; }

for t in mformat as ld python3 qemu-system-x86_64; do
    command -v "$t" >/dev/null 2>&1 || { echo "FAIL: floppy: $t not found (scripts/deps.sh test)"; exit 1; }
done
[ -f /usr/share/seabios/bios-256k.bin ] || { echo "FAIL: floppy: no SeaBIOS (scripts/deps.sh build)"; exit 1; }

as --32 -o "$tmp/boot.o" tests/system/floppy/boot.S || exit 1
ld -m elf_i386 -Ttext 0x7c00 --oformat binary -o "$tmp/boot.bin" "$tmp/boot.o" || exit 1
img=$tmp/floppy.img
mformat -C -f 1440 -v VX86TEST -i "$img" :: || exit 1
python3 - "$img" "$tmp/boot.bin" <<'PY' || exit 1
import sys
img, boot = sys.argv[1], open(sys.argv[2], "rb").read()
assert len(boot) == 512
d = bytearray(open(img, "rb").read())
assert len(d) == 1474560 and d[510:512] == b"\x55\xaa"
sector = bytearray(boot)
sector[3:62] = d[3:62]                 # keep mformat's BPB
d[0:512] = sector
for lba, mark in ((58, b"P1"), (59, b"P2")):   # C1 H1 S5, S6 of 18x2
    d[lba * 512:lba * 512 + 2] = mark
open(img, "wb").write(d)
PY
cp "$img" "$tmp/orig.img"

# run NAME EMULATOR ARGS...: debugcon text in $tmp/NAME.con, status in $rc.
run() {
    name=$1 emu=$2
    shift 2
    timeout 60 "$emu" -m 32 -display none -fda "$img" -boot a \
        -debugcon "file:$tmp/$name.con" "$@" </dev/null >"$tmp/$name.out" 2>&1
    rc=$?
}

run qemu qemu-system-x86_64 -device isa-debug-exit,iobase=0xf4,iosize=4
qrc=$rc
run vx86 "$VX86" -accel tcg
vrc=$rc
want="vx86 floppy boot sector
int13 read C1 H1 S5-6 ok, 18 sectors 2 heads"
if [ "$(tr -d '\r' <"$tmp/qemu.con")" != "$want" ] || [ "$qrc" != 33 ]; then
    bad "QEMU (the oracle) did not boot the image as expected (status $qrc): $(cat "$tmp/qemu.con")"
fi
if [ "$(tr -d '\r' <"$tmp/vx86.con")" = "$want" ] && [ "$vrc" = 33 ]; then
    pass "-fda boots through SeaBIOS; int 13h read across cylinder and head; int 10h output"
else
    bad "vx86: status $vrc, debugcon: $(cat "$tmp/vx86.con") $(tail -3 "$tmp/vx86.out")"
fi
cmp -s "$tmp/qemu.con" "$tmp/vx86.con" && pass "same debugcon bytes as QEMU" ||
    bad "debugcon differs from QEMU's"
cmp -s "$img" "$tmp/orig.img" && pass "reading left the image unchanged" ||
    bad "the image changed"

# Malformed floppy images: one line, exit 1.
head -c 1000000 /dev/zero >"$tmp/odd.img"
"$VX86" -display none -fda "$tmp/odd.img" </dev/null >"$tmp/o" 2>"$tmp/e"
if [ $? = 1 ] && [ "$(wc -l <"$tmp/e")" = 1 ] && grep -q "no floppy format" "$tmp/e"; then
    pass "a 1000000-byte image is refused in one line"
else
    bad "odd-sized image: $(cat "$tmp/e")"
fi
[ "$fail" = 0 ]
