#!/bin/bash
# VMware VMDK, VirtualBox VDI and Microsoft VHD import
# (tests/system/vmdk.mk), with qemu-img as the oracle:
#   1. every subformat qemu-img writes (vmdk monolithicSparse,
#      monolithicFlat, twoGbMaxExtentSparse, twoGbMaxExtentFlat,
#      streamOptimized, zeroed grains; vdi dynamic and static; vpc dynamic
#      and fixed, sized by current size or by CHS geometry) of a data
#      image: vx86-img convert -O raw is byte-identical (cmp), -O qcow2 is
#      clean for qemu-img check and equal for qemu-img compare; info
#      prints what qemu-img info prints; check is clean; the format is
#      probed; a streamOptimized image in VMware's layout (grain
#      directory in a footer) reads as qemu-img reads it, and so does a
#      descriptor with extents of every kind; with VMDK_BIG=1
#      (check-vmdk-full) twoGbMaxExtent* images over 2 GiB too.
#   2. malformed images are refused by vx86-img and by vx86 with one line
#      naming the file, exit 1, and are left byte-identical; vx86-img
#      check finds grains used twice (exit 2, as qemu-img check).
#   3. vx86 boots the GRUB disk of tests/guest/mkgrub.sh converted by
#      qemu-img: with -snapshot from a monolithicSparse VMDK (format
#      probed) with a streamOptimized VMDK and both VDIs beside it, and
#      from a qcow2 overlay (backing_fmt=vmdk) on a twoGbMaxExtentSparse
#      VMDK with monolithicFlat and twoGbMaxExtentFlat VMDKs and a dynamic
#      VHD beside it read-only; the guest's md5sum of every disk is the raw
#      image's; its writes land in the overlays (debugfs reads the file it
#      wrote, qemu-img check is clean) and every image file keeps its
#      sha256; a writable open of a VMDK is refused with one line.
#
#   tests/system/vmdk.sh VX86_IMG VX86 IMPORT_READ
set -u
IMG=$(realpath "$1")
VX86=$(realpath "$2")
RD=$(realpath "$3")
root=$(cd "$(dirname "$0")/../.." && pwd)
command -v qemu-img >/dev/null || { echo "SKIP: vmdk: qemu-img not installed"; exit 0; }
T=$(mktemp -d /tmp/vx86-vmdk.XXXXXX)
trap 'rm -rf "$T"' EXIT
cd "$T"
fails=0
pass() { echo "PASS: vmdk: $*"; }
fail() { echo "FAIL: vmdk: $*"; fails=$((fails + 1)); }

# Little-endian field write into a file at a byte offset.
put_le() { # file offset bytes value
    python3 -c 'import sys; f=open(sys.argv[1],"r+b"); f.seek(int(sys.argv[2])); n=int(sys.argv[3]); f.write((int(sys.argv[4], 0) & ((1 << 8 * n) - 1)).to_bytes(n, "little"))' "$@"
}
get_le() { # file offset bytes
    python3 -c 'import sys; f=open(sys.argv[1],"rb"); f.seek(int(sys.argv[2])); print(int.from_bytes(f.read(int(sys.argv[3])),"little"))' "$@"
}
vsize() { qemu-img info --output=json "$1" | sed -n 's/^    "virtual-size": \([0-9]*\).*/\1/p'; }

# ---- 1. every subformat of a data image ----
dd if=/dev/urandom of=data.raw bs=1M count=3 2>/dev/null
yes vx86-vmdk | head -c 2M | dd of=data.raw bs=1M seek=5 conv=notrunc 2>/dev/null
dd if=/dev/urandom of=data.raw bs=1M count=1 seek=20 conv=notrunc 2>/dev/null
# 24 MiB and 7 sectors: the last grain / block is partly outside the disk
truncate -s $((24 * 1048576 + 7 * 512)) data.raw
printf 'last sector' | dd of=data.raw bs=1 seek=$((24 * 1048576 + 6 * 512)) conv=notrunc 2>/dev/null

for spec in "ms:vmdk:subformat=monolithicSparse" "mf:vmdk:subformat=monolithicFlat" \
            "ts:vmdk:subformat=twoGbMaxExtentSparse" "tf:vmdk:subformat=twoGbMaxExtentFlat" \
            "so:vmdk:subformat=streamOptimized" "zg:vmdk:zeroed_grain=on" \
            "dyn:vdi:static=off" "fix:vdi:static=on" "vd:vpc:subformat=dynamic,force_size=on" \
            "vf:vpc:subformat=fixed,force_size=on"; do
    IFS=: read -r name fmt opts <<<"$spec"
    f=$name.$fmt
    # A fixed VHD has its footer only at the end: qemu-img and vx86 probe
    # it as raw, so it is named (the others are probed).
    pf=; [ "$name" = vf ] && pf="-f $fmt"
    qemu-img convert -O "$fmt" -o "$opts" data.raw "$f" || { fail "qemu-img convert -o $opts"; continue; }
    "$IMG" convert $pf -O raw "$f" "$name.out.raw" && cmp -s data.raw "$name.out.raw" &&
        pass "$fmt $opts: convert -O raw is identical (cmp)" || fail "$fmt $opts: convert -O raw differs"
    "$RD" "$f" "$([ -n "$pf" ] && echo "$fmt" || echo -)" data.raw 0x$RANDOM$RANDOM 200 >/dev/null &&
        pass "$fmt $opts: 200 batches of parallel reads of random places and lengths agree with the raw image" ||
        fail "$fmt $opts: parallel random reads differ"
    "$IMG" convert -f "$fmt" -O qcow2 "$f" "$name.qcow2" && qemu-img check -q "$name.qcow2" &&
        qemu-img compare -q data.raw "$name.qcow2" &&
        pass "$fmt $opts: convert -f $fmt -O qcow2: qemu-img check clean, compare equal" ||
        fail "$fmt $opts: convert -O qcow2"
    if diff <(qemu-img info $pf "$f") <("$IMG" info $pf "$f") >info.diff &&
       diff <(qemu-img info $pf --output=json "$f") <("$IMG" info $pf --output=json "$f") >>info.diff &&
       "$IMG" info $pf "$f" | grep -qx "file format: $fmt"; then
        pass "$fmt $opts: info ${pf:-(probed)} and info --output=json print what qemu-img prints"
    else
        fail "$fmt $opts: info differs from qemu-img's:"; sed 's/^/    /' info.diff | head -10
    fi
    "$IMG" check $pf "$f" >/dev/null; rc=$?
    qrc=0; [ $fmt = vpc ] || { qemu-img check -q "$f"; qrc=$?; }   # qemu-img cannot check vpc
    [ $rc = 0 ] && [ $qrc = 0 ] && pass "$fmt $opts: check clean (exit 0$([ $fmt = vpc ] || echo ', as qemu-img'))" ||
        fail "$fmt $opts: check exit $rc (qemu-img $qrc)"
done
# VHDs made by Virtual PC and older QEMU are as big as their CHS geometry.
qemu-img convert -O vpc data.raw chs.vhd
[ "$("$IMG" info --output=json chs.vhd | grep virtual-size)" = "$(qemu-img info --output=json chs.vhd | grep virtual-size)" ] &&
    "$IMG" convert -O raw chs.vhd chs.raw && qemu-img convert -O raw chs.vhd qchs.raw && cmp -s chs.raw qchs.raw &&
    pass "vpc sized by its CHS geometry ($(stat -c %s chs.raw) bytes) as qemu-img sizes it" ||
    fail "vpc sized by CHS geometry"
out=$("$IMG" info -f vdi ms.vmdk 2>&1); rc=$?
[ $rc = 1 ] && [ "$(echo "$out" | wc -l)" = 1 ] && echo "$out" | grep -q "not a VDI" &&
    pass "explicit -f vdi on a VMDK refused: $out" || fail "-f vdi on a VMDK: rc $rc: $out"

# VMware's streamOptimized layout: grain directory in a footer (header
# says GD_AT_END), footer marker + header copy + end-of-stream marker.
python3 - so.vmdk vmw.vmdk <<'EOF'
import struct, sys
d = bytearray(open(sys.argv[1], "rb").read())
hdr = bytes(d[0:512])
d[56:64] = struct.pack("<Q", 0xFFFFFFFFFFFFFFFF)
d += bytes(-len(d) % 512)
d += struct.pack("<QII", 1, 0, 3).ljust(512, b"\0") + hdr + bytes(512)
open(sys.argv[2], "wb").write(d)
EOF
"$IMG" convert -O raw vmw.vmdk vmw.raw && cmp -s data.raw vmw.raw && qemu-img compare -q vmw.vmdk data.raw &&
    "$RD" vmw.vmdk - data.raw 0x$RANDOM$RANDOM 100 >/dev/null &&
    pass "streamOptimized with the grain directory in a footer (VMware's layout) reads as qemu-img reads it" ||
    fail "streamOptimized with a footer"

# A descriptor of our own naming extents of every kind: sparse ones (as
# qemu-img's twoGbMaxExtentSparse writes them, one in a subfolder), a flat
# one from an offset, a zero range.  With RW extents only it reads and
# shows as qemu-img reads and shows it (qemu-img 7.2 skips RDONLY and ZERO
# lines, and repeats the first extent when a blank line precedes it, so
# those are compared with the pieces it was made of instead).
mkdir -p sub
dd if=data.raw of=p1.raw bs=1M count=8 2>/dev/null
dd if=data.raw of=p3.raw bs=1M skip=16 2>/dev/null
qemu-img convert -O vmdk -o subformat=twoGbMaxExtentSparse p1.raw sub/t1.vmdk
qemu-img convert -O vmdk -o subformat=twoGbMaxExtentSparse p3.raw t3.vmdk
{ head -c 4096 /dev/urandom; dd if=data.raw bs=1M skip=8 count=6 2>/dev/null; } > x2.bin
extents() {   # access of the flat extent, then extra lines
    printf '# Disk DescriptorFile\nversion=1\nCID=fffffffe\nparentCID=ffffffff\n'
    printf 'createType="twoGbMaxExtentSparse"\n\n# Extent description\n'
    printf 'RW 16384 SPARSE "sub/t1-s001.vmdk"\n%s 12288 FLAT "x2.bin" 8\n%s' "$1" "$2"
    printf 'RW %d SPARSE "t3-s001.vmdk"\n' $(($(stat -c %s p3.raw) / 512))
}
extents RW "" > multi.vmdk
qemu-img convert -O raw multi.vmdk multi.q.raw && "$IMG" convert -O raw multi.vmdk multi.v.raw &&
    cmp -s multi.q.raw multi.v.raw && "$RD" multi.vmdk - multi.q.raw 0x$RANDOM$RANDOM 100 >/dev/null &&
    diff <(qemu-img info multi.vmdk) <("$IMG" info multi.vmdk) >/dev/null &&
    diff <(qemu-img info --output=json multi.vmdk) <("$IMG" info --output=json multi.vmdk) >/dev/null &&
    pass "a descriptor of sparse extents (one in a subfolder) and a flat one from an offset reads and shows as qemu-img reads and shows it" ||
    fail "multi-extent descriptor"
extents RDONLY "RW 4096 ZERO
" > multi2.vmdk
{ cat p1.raw; tail -c +4097 x2.bin; head -c 2M /dev/zero; cat p3.raw; } > multi2.want
"$IMG" convert -O raw multi2.vmdk multi2.v.raw && cmp -s multi2.want multi2.v.raw &&
    "$RD" multi2.vmdk - multi2.want 0x$RANDOM$RANDOM 100 >/dev/null &&
    pass "RDONLY and ZERO extents read as the pieces they were made of" || fail "RDONLY / ZERO extents"

# More than 2 GiB (check-vmdk-full): twoGbMaxExtent* make several
# extents; data across the extent boundaries.
[ -n "${VMDK_BIG:-}" ] && {
truncate -s 2200M big.raw
for at in 100 2047 2049 2190; do
    dd if=/dev/urandom of=big.raw bs=1M count=3 seek=$at conv=notrunc 2>/dev/null
done
for s in twoGbMaxExtentSparse twoGbMaxExtentFlat; do
    qemu-img convert -O vmdk -o subformat=$s big.raw big-$s.vmdk
    n=$("$IMG" info big-$s.vmdk | grep -c '^        \[')
    "$IMG" convert -O raw big-$s.vmdk big.out.raw && qemu-img compare -q -s big.raw big.out.raw && [ "$n" -ge 2 ] &&
        "$RD" big-$s.vmdk - big.raw 0x$RANDOM$RANDOM 100 >/dev/null &&
        pass "$s of 2200 MiB: $n extents, convert -O raw equal for qemu-img compare, random reads agree" ||
        fail "$s of 2200 MiB ($n extents)"
    rm -f big.out.raw
done
rm -f big*
}

# ---- 2. malformed images ----
refused() {   # name file
    local sum out rc
    sum=$(md5sum < "$2")
    out=$("$IMG" info "$2" 2>&1 >/dev/null); rc=$?
    vout=$(timeout 30 "$VX86" -snapshot -drive "file=$2,if=ide" -display none -m 32M 2>&1 </dev/null); vrc=$?
    if [ $rc = 1 ] && [ "$(echo "$out" | wc -l)" = 1 ] && echo "$out" | grep -q "$2" &&
       [ $vrc = 1 ] && [ "$(echo "$vout" | wc -l)" = 1 ] && echo "$vout" | grep -q "$2" &&
       [ "$sum" = "$(md5sum < "$2")" ]; then
        pass "malformed: $1: refused (vx86-img and vx86, one line, unchanged): ${out#*: }"
    else
        fail "malformed: $1: vx86-img rc $rc '$out' / vx86 rc $vrc '$vout'"
    fi
}
corrupt() {   # name source offset bytes value
    cp "$2" bad.${2##*.}
    put_le bad.${2##*.} "$3" "$4" "$5"
    refused "$1" bad.${2##*.}
}
cp ms.vmdk bad.vmdk; truncate -s 300000 bad.vmdk; refused "truncated sparse extent" bad.vmdk
corrupt "sparse version 9" ms.vmdk 4 4 9
corrupt "grain of 3 sectors" ms.vmdk 20 8 3
corrupt "capacity 2^62 sectors" ms.vmdk 12 8 $((1 << 62))
corrupt "0 entries per grain table" ms.vmdk 44 4 0
corrupt "grain directory past the end" ms.vmdk 56 8 $((0x7fffffff))
corrupt "newline check bytes (text-mode copy)" ms.vmdk 75 1 10
corrupt "compression algorithm 7" ms.vmdk 77 2 7
corrupt "COWD magic" ms.vmdk 0 4 $((0x44574f43))
gd=$(get_le ms.vmdk 56 8); gt=$(get_le ms.vmdk $((gd * 512)) 4)
corrupt "grain table entry past the end" ms.vmdk $((gt * 512 + 8)) 4 $((0x7fffff00))
sgd=$(get_le so.vmdk 56 8); sgt=$(get_le so.vmdk $((sgd * 512)) 4); g0=$(get_le so.vmdk $((sgt * 512)) 4)
corrupt "stream grain marker names another sector" so.vmdk $((g0 * 512)) 8 128
corrupt "stream compressed size past the end" so.vmdk $((g0 * 512 + 8)) 4 $((0x7fffffff))
corrupt "grain directory at the end, no footer" so.vmdk 56 8 0xffffffffffffffff
corrupt "VDI version 2.0" dyn.vdi 68 4 $((0x00020000))
corrupt "VDI block size 3000" dyn.vdi 376 4 3000
corrupt "VDI block map past the end" dyn.vdi 340 4 $((0x7ffffe00))
corrupt "VDI differencing image" dyn.vdi 76 4 4
corrupt "VDI disk size 2^62" dyn.vdi 368 8 $((1 << 62))
corrupt "VDI header size 16" dyn.vdi 72 4 16
corrupt "VDI block map entry past the end" dyn.vdi 512 4 20
cp dyn.vdi bad.vdi; truncate -s 1500000 bad.vdi; refused "truncated VDI" bad.vdi
vhd() {   # name offset bytes value [keep: leave the checksums wrong]
    cp vd.vpc bad.vhd
    # big-endian field, then both checksums (footer, dynamic header) and the end copy
    python3 - bad.vhd "$2" "$3" "$4" "${5:-sum}" <<'EOF'
import sys
p, off, n, v, fix = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4], 0), sys.argv[5]
d = bytearray(open(p, "rb").read())
d[off:off + n] = (v & ((1 << 8 * n) - 1)).to_bytes(n, "big")
if fix == "sum":
    for start, length, field in ((0, 512, 64), (512, 1024, 36)):
        d[start + field:start + field + 4] = bytes(4)
        d[start + field:start + field + 4] = (~sum(d[start:start + length]) & 0xFFFFFFFF).to_bytes(4, "big")
d[-512:] = d[0:512]
open(p, "wb").write(d)
EOF
    refused "$1" bad.vhd
}
vhd "VHD footer checksum" 64 4 0x12345678 keep
vhd "VHD differencing disk" 60 4 4
vhd "VHD version 2.0" 12 4 0x00020000
vhd "VHD dynamic header past the end" 16 8 0x7fffffff000
vhd "VHD block size 3000" $((512 + 32)) 4 3000
vhd "VHD table past the end" $((512 + 16)) 8 0x7fffffff000
vhd "VHD table entry past the end" 1536 4 0x7ffffff0
vhd "VHD size 2^62" 48 8 0x4000000000000000
desc() {   # name sed-expression
    tr -d '\0' < mf.vmdk | sed "$2" > bad.vmdk
    refused "$1" bad.vmdk
}
cp mf-flat.vmdk bad-flat.vmdk
desc "absolute extent path" 's|"mf-flat.vmdk"|"/etc/passwd"|'
desc "extent path with .." "s|\"mf-flat.vmdk\"|\"../${T##*/}/bad-flat.vmdk\"|"
desc "missing extent file" 's|"mf-flat.vmdk"|"nothere.vmdk"|'
desc "unknown create type" 's|monolithicFlat|fooBarDisk|'
desc "delta image (parentCID)" 's|parentCID=ffffffff|parentCID=12345678|'
desc "extent longer than its file" 's|^RW [0-9]*|RW 99999999|'
desc "extent of 10^18 sectors" 's|^RW [0-9]*|RW 999999999999999999|'
desc "line that is no setting" 's|^# Extent description|hello world|'
desc "VMFSSPARSE extent" 's| FLAT | VMFSSPARSE |'
desc "the descriptor as its own sparse extent" 's|FLAT "mf-flat.vmdk" 0|SPARSE "bad.vmdk"|'
# check: two guest grains in one host grain (qemu-img 7.2's check does not
# look for this; the exit code for corruption is its 2)
cp ms.vmdk dup.vmdk
put_le dup.vmdk $((gt * 512 + 4)) 4 "$(get_le ms.vmdk $((gt * 512)) 4)"
"$IMG" check dup.vmdk >check.out 2>&1; rc=$?
[ $rc = 2 ] && grep -q "^ERROR.*overlaps" check.out &&
    pass "check: a grain used twice is an error (exit 2)" ||
    fail "check of a grain used twice: exit $rc: $(head -2 check.out)"
cp dyn.vdi dup.vdi
put_le dup.vdi 516 4 "$(get_le dyn.vdi 512 4)"
"$IMG" check dup.vdi >check.out 2>&1; rc=$?
[ $rc = 2 ] && grep -q "^ERROR.*holds guest blocks" check.out &&
    pass "check: a VDI data block used twice is an error (exit 2)" || fail "VDI check: exit $rc: $(head -2 check.out)"

# ---- 3. vx86 boots them ----
for tool in sfdisk mke2fs grub-mkimage debugfs; do
    command -v "$tool" >/dev/null 2>&1 || PATH=$PATH:/sbin:/usr/sbin
done
cache=${VX86_CACHE:-$root/.cache}/guest
# Only the kernel and the IDE initramfs are needed: build them when missing.
[ -s "$cache/vmlinuz" ] && [ -s "$cache/initramfs-ide.cpio.gz" ] ||
    "$root/tests/guest/mkguest.sh" >/dev/null || { fail "mkguest.sh"; exit 1; }
session=$root/tests/system/serial-session.py
mkdir -p rootfs/boot
cp "$cache/vmlinuz" "$cache/initramfs-ide.cpio.gz" rootfs/boot/
cat >grub.cfg <<'EOF'
serial --unit=0 --speed=115200
terminal_input serial
terminal_output serial
set timeout=0
menuentry "vx86 test guest" {
    linux /boot/vmlinuz console=ttyS0 quiet vx86.modules=ide
    initrd /boot/initramfs-ide.cpio.gz
}
EOF
"$root/tests/guest/mkgrub.sh" disk disk.raw 64 grub.cfg rootfs || { fail "mkgrub.sh disk"; exit 1; }
want=$(md5sum < disk.raw | cut -d' ' -f1)
for spec in "ms:vmdk:subformat=monolithicSparse" "so:vmdk:subformat=streamOptimized" \
            "ts:vmdk:subformat=twoGbMaxExtentSparse" "mf:vmdk:subformat=monolithicFlat" \
            "tf:vmdk:subformat=twoGbMaxExtentFlat" "zg:vmdk:zeroed_grain=on" \
            "dyn:vdi:static=off" "fix:vdi:static=on" "vh:vpc:subformat=dynamic,force_size=on"; do
    IFS=: read -r name fmt opts <<<"$spec"
    qemu-img convert -O "$fmt" -o "$opts" disk.raw "boot-$name.$fmt"
    "$IMG" convert -O raw "boot-$name.$fmt" back.raw && cmp -s disk.raw back.raw ||
        fail "GRUB disk as $fmt $opts: convert -O raw differs"
done
rm -f back.raw
sums() { sha256sum boot-* | sha256sum; }
before=$(sums)

# The disks' md5sums as the guest reads them, then a write to each.
sum_cmd='for i in $(seq 100); do [ -b /dev/sdd ] && break; sleep 0.1; done; for d in a b c d; do echo "sum-sd$d=$(md5sum </dev/sd$d | cut -d" " -f1)"; done'
plain() { sed 's/\x1b\[[0-9;?]*[A-Za-z]//g'; }
out=$(python3 "$session" --timeout 240 --cmd "$sum_cmd" \
    --cmd 'for d in a b c d; do dd if=/dev/urandom of=/dev/sd$d bs=64k count=16 seek=100 conv=fsync 2>/dev/null; done; sync; echo 3 >/proc/sys/vm/drop_caches; for d in a b c d; do echo "after-sd$d=$(md5sum </dev/sd$d | cut -d" " -f1)"; done' -- \
    "$VX86" -m 256M -nographic -snapshot -drive file=boot-ms.vmdk -drive file=boot-so.vmdk,format=vmdk \
    -drive file=boot-dyn.vdi -drive file=boot-fix.vdi,format=vdi | plain)
n=$(echo "$out" | grep -c "^sum-sd[a-d]=$want")
changed=$(echo "$out" | grep "^after-sd[a-d]=" | grep -vc "=$want")
if echo "$out" | grep -q "session: ready=yes" && [ "$n" = 4 ]; then
    pass "-snapshot: boots a monolithicSparse VMDK (probed); the guest's md5sum of it, a streamOptimized VMDK and both VDIs is the raw image's"
else
    fail "-snapshot boot: $n of 4 disks read right"; echo "$out" | tail -n 15 | sed 's/^/    /'
fi
[ "$changed" = 4 ] && [ "$before" = "$(sums)" ] &&
    pass "-snapshot: the guest's writes land in the overlays (4 disks changed for the guest), every image file keeps its sha256" ||
    fail "-snapshot writes: $changed of 4 changed for the guest; images changed: $([ "$before" = "$(sums)" ] && echo no || echo YES)"

out=$(timeout 30 "$VX86" -hda boot-ms.vmdk -display none -m 32M 2>&1 </dev/null); rc=$?
[ $rc = 1 ] && [ "$(echo "$out" | wc -l)" = 1 ] && echo "$out" | grep -q "read-only" &&
    pass "a writable VMDK drive is refused: $out" || fail "writable VMDK: rc $rc: $out"

# A qcow2 overlay on a VMDK: the guest boots through it and writes a file
# on it.  Linux names the four IDE disks in the order their probes finish,
# so the overlay (primary master) is found by its sysfs path.
qemu-img create -q -f qcow2 -b boot-ts.vmdk -F vmdk ov.qcow2
hda='hd=; for d in /sys/block/sd?; do case $(readlink -f $d/device) in */ata1/*/target*:0:0/*) hd=${d##*/};; esac; done; echo "guest-hda=$hd"'
out=$(python3 "$session" --timeout 240 --cmd "$sum_cmd" --cmd "$hda" \
    --cmd 'mkdir -p /mnt; mount -t ext4 /dev/${hd}1 /mnt && dd if=/dev/urandom of=/mnt/guest.bin bs=1024 count=300 2>/dev/null; sync; echo "guest-wrote=$(md5sum </mnt/guest.bin | cut -d" " -f1)"; umount /mnt; sync' -- \
    "$VX86" -m 256M -nographic -drive file=ov.qcow2 -drive file=boot-mf.vmdk,readonly=on \
    -drive file=boot-tf.vmdk,format=vmdk,readonly=on -drive file=boot-vh.vpc,readonly=on | plain)
n=$(echo "$out" | grep -c "^sum-sd[a-d]=$want")
if echo "$out" | grep -q "session: ready=yes" && [ "$n" = 4 ] && echo "$out" | grep -q "^guest-hda=sd[a-d]"; then
    pass "qcow2 overlay (backing_fmt=vmdk) on a twoGbMaxExtentSparse VMDK boots; monolithicFlat and twoGbMaxExtentFlat VMDKs and a dynamic VHD read right (md5sum)"
else
    fail "overlay boot: $n of 4 disks read right"; echo "$out" | tail -n 15 | sed 's/^/    /'
fi
wsum=$(echo "$out" | sed -n 's/^guest-wrote=\([0-9a-f]*\).*/\1/p')
qemu-img convert -O raw ov.qcow2 ov.raw
"$root/tests/guest/mkgrub.sh" partition ov.raw part.img
hsum=$(debugfs -R 'cat /guest.bin' part.img 2>/dev/null | md5sum | cut -d' ' -f1)
[ -n "$wsum" ] && [ "$wsum" = "$hsum" ] && qemu-img check -q ov.qcow2 && [ "$before" = "$(sums)" ] &&
    pass "the guest's file is in the overlay (debugfs), qemu-img check clean, the VMDK files keep their sha256" ||
    fail "overlay: guest wrote '$wsum', debugfs '$hsum', images changed: $([ "$before" = "$(sums)" ] && echo no || echo YES)"

[ $fails = 0 ] || exit 1
