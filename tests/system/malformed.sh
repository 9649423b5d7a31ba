#!/bin/sh
# System test (issue 12): malformed boot media each get one line naming the
# file and the reason, exit status 1, never a crash and never a boot.
#
#   truncated ISO            a grub-mkrescue-style ISO cut short (-cdrom)
#   broken El Torito         the boot catalogue's validation entry with a
#                            wrong header id, key bytes or checksum
#   zero-length disk         -hda / -cdrom / -fda of an empty file
#   directory                -hda / -cdrom of a directory
#   unreadable file          -hda / -cdrom of a mode-000 file (run as an
#                            unprivileged user when we are root, since root
#                            reads everything)
#
# Usage: tests/system/malformed.sh [./vx86]
set -eu
VX86=${1:-./vx86}
VX86=$(cd "$(dirname "$VX86")" && pwd)/$(basename "$VX86")
fail=0
tmp=$(mktemp -d "${TMPDIR:-/tmp}/vx86-malformed.XXXXXX")
trap 'rm -rf "$tmp"' EXIT INT TERM
chmod 755 "$tmp"

pass() { echo "PASS: $*"; }
bad() { echo "FAIL: $*"; fail=1; }

command -v xorriso >/dev/null 2>&1 || { echo "FAIL: 'xorriso' is missing (scripts/deps.sh test)"; exit 1; }

# A small bootable ISO (El Torito, no emulation) made with xorriso.
mkdir -p "$tmp/iso/boot"
head -c 4096 /dev/zero >"$tmp/iso/boot/boot.bin"
head -c 400000 /dev/urandom >"$tmp/iso/data.bin"
xorriso -as mkisofs -quiet -R -b boot/boot.bin -no-emul-boot -boot-load-size 4 \
    -o "$tmp/good.iso" "$tmp/iso" 2>/dev/null
cat_lba=$(python3 - "$tmp/good.iso" <<'PY'
import struct, sys
d = open(sys.argv[1], "rb").read()
for lba in range(16, 32):
    vd = d[lba * 2048:(lba + 1) * 2048]
    if vd[0] == 0 and vd[1:6] == b"CD001":
        print(struct.unpack_from("<I", vd, 71)[0]); break
PY
)
[ -n "$cat_lba" ] || { echo "FAIL: xorriso made no El Torito boot record"; exit 1; }

# patch FILE OFFSET BYTE
patch() { printf "$(printf '\\%03o' "$3")" | dd of="$1" bs=1 seek="$2" conv=notrunc status=none; }

size=$(stat -c %s "$tmp/good.iso")
head -c $((size / 2)) "$tmp/good.iso" >"$tmp/truncated.iso"
for what in header key checksum; do
    cp "$tmp/good.iso" "$tmp/bad-$what.iso"
done
patch "$tmp/bad-header.iso" $((cat_lba * 2048)) 2
patch "$tmp/bad-key.iso" $((cat_lba * 2048 + 31)) 0
patch "$tmp/bad-checksum.iso" $((cat_lba * 2048 + 4)) 0x58
: >"$tmp/empty.img"
mkdir "$tmp/adir"
head -c 1048576 /dev/zero >"$tmp/unreadable.img"
chmod 000 "$tmp/unreadable.img"

# expect LABEL REGEX [--unprivileged] VX86-ARGS...
expect() {
    label=$1 rx=$2
    shift 2
    runner=""
    if [ "$1" = "--unprivileged" ]; then
        shift
        if [ "$(id -u)" = 0 ]; then
            command -v setpriv >/dev/null 2>&1 || { echo "SKIP: $label (no setpriv)"; return 0; }
            runner="setpriv --reuid=65534 --regid=65534 --clear-groups"
            $runner test -x "$VX86" || { echo "SKIP: $label (uid 65534 cannot run $VX86)"; return 0; }
        fi
    fi
    rc=0
    timeout 20 $runner "$VX86" -accel tcg -display none -m 64M "$@" </dev/null >"$tmp/out" 2>&1 || rc=$?
    lines=$(wc -l <"$tmp/out")
    if [ "$rc" = 1 ] && [ "$lines" = 1 ] && grep -Eq "$rx" "$tmp/out"; then
        pass "$label: $(cat "$tmp/out")"
    else
        bad "$label: exit $rc, $lines lines (want 1 line matching '$rx'):"
        head -n 5 "$tmp/out" | sed 's/^/  /'
    fi
}

rc=0
timeout 5 "$VX86" -accel tcg -display none -m 64M -cdrom "$tmp/good.iso" </dev/null >"$tmp/out" 2>&1 || rc=$?
[ "$rc" = 124 ] && pass "the sound ISO is accepted (vx86 ran until killed)" ||
    { bad "the sound ISO: exit $rc"; head -n 3 "$tmp/out" | sed 's/^/  /'; }

expect "truncated ISO" "^vx86: -cdrom: .*truncated.iso: truncated ISO image \(volume [0-9]+ bytes, file $((size / 2)) bytes\)$" \
    -cdrom "$tmp/truncated.iso"
expect "El Torito header id" "bad-header.iso: broken El Torito boot catalogue \(validation entry header id 0x02" \
    -cdrom "$tmp/bad-header.iso"
expect "El Torito key bytes" "bad-key.iso: broken El Torito boot catalogue \(key bytes 0x55 0x00" \
    -cdrom "$tmp/bad-key.iso"
expect "El Torito checksum" "bad-checksum.iso: broken El Torito boot catalogue \(validation entry checksum" \
    -drive "file=$tmp/bad-checksum.iso,media=cdrom"
for opt in -hda -cdrom -fda; do
    expect "zero-length $opt" "^vx86: $opt: .*empty.img: image is empty \(0 bytes\)$" "$opt" "$tmp/empty.img"
done
for opt in -hda -cdrom; do
    expect "directory $opt" "^vx86: $opt: .*adir: Is a directory$" "$opt" "$tmp/adir"
    expect "unreadable $opt" "^vx86: $opt: .*unreadable.img: Permission denied$" --unprivileged "$opt" "$tmp/unreadable.img"
done
exit $fail
