#!/bin/bash
# qcow2 and vx86-img with qemu-img as the oracle (tests/system/qcow2.mk).
#   tests/system/qcow2.sh VX86_IMG QCOW2_IO CRASH_TRIALS
set -u
IMG=$(realpath "$1")
IO=$(realpath "$2")
TRIALS=${3:-10}
command -v qemu-img >/dev/null || { echo "SKIP: qcow2: qemu-img not installed"; exit 0; }
T=$(mktemp -d /tmp/vx86-qcow2.XXXXXX)
trap 'rm -rf "$T"' EXIT
cd "$T"
fails=0
pass() { echo "PASS: qcow2: $*"; }
fail() { echo "FAIL: qcow2: $*"; fails=$((fails + 1)); }

# qemu-img check must be clean (exit 0) on every image vx86 writes.
qcheck() {
    local out
    out=$(qemu-img check "$1" 2>&1)
    local rc=$?
    [ $rc -eq 0 ] || { fail "$2: qemu-img check exit $rc: $(echo "$out" | head -3)"; return 1; }
}
# Contents equal as both tools read them.
same() {
    qemu-img convert -O raw "$1" q.raw && "$IMG" convert -O raw "$1" v.raw &&
        cmp -s q.raw v.raw || { fail "$2: vx86-img and qemu-img read different contents"; return 1; }
}

# ---- images vx86-img creates ----
for o in "" "compat=0.10" "cluster_size=512" "cluster_size=2M" "extended_l2=on" \
         "refcount_bits=1" "refcount_bits=64" "lazy_refcounts=on" "compression_type=zstd" \
         "preallocation=metadata" "cluster_size=16k,extended_l2=on,refcount_bits=8"; do
    "$IMG" create -q -f qcow2 ${o:+-o $o} c.qcow2 64M >/dev/null || { fail "create -o $o"; continue; }
    qcheck c.qcow2 "create -o '$o'" || continue
    dd if=/dev/urandom of=d.raw bs=64k count=40 2>/dev/null
    truncate -s 64M d.raw
    "$IMG" convert -O qcow2 ${o:+-o $o} d.raw c.qcow2 && qcheck c.qcow2 "convert -o '$o'" &&
        qemu-img compare -q d.raw c.qcow2 && pass "create/convert -o '$o': qemu-img check clean, contents agree" ||
        fail "convert -o '$o'"
done

# ---- images qemu-img makes, read by vx86-img ----
dd if=/dev/urandom of=base.raw bs=1M count=4 2>/dev/null
yes vx86 | head -c 4M >> base.raw
truncate -s 32M base.raw
for spec in "v2:-o compat=0.10" "v3:" "512:-o cluster_size=512" "2M:-o cluster_size=2M" \
            "extl2:-o extended_l2=on" "zlib-c:-c" "zstd-c:-c -o compression_type=zstd" \
            "rc1:-o refcount_bits=1"; do
    name=${spec%%:*}
    args=${spec#*:}
    qemu-img convert -O qcow2 $args base.raw "q-$name.qcow2" || { fail "qemu-img convert $name"; continue; }
    "$IMG" compare -q base.raw "q-$name.qcow2" && same "q-$name.qcow2" "$name" &&
        "$IMG" check "q-$name.qcow2" >/dev/null && pass "reads qemu-img's $name image" ||
        fail "reading qemu-img's $name image"
done
# a three-deep chain: base <- mid <- top, each with its own writes
qemu-img convert -O qcow2 base.raw chain0.qcow2
qemu-img create -q -f qcow2 -b chain0.qcow2 -F qcow2 chain1.qcow2
qemu-io -c "write -P 0x11 1M 100k" chain1.qcow2 >/dev/null
qemu-img create -q -f qcow2 -b chain1.qcow2 -F qcow2 -o extended_l2=on chain2.qcow2
qemu-io -c "write -P 0x22 1050k 7k" -c "write -z 3M 64k" chain2.qcow2 >/dev/null
same chain2.qcow2 "3-deep chain" && pass "reads a 3-deep backing chain"
"$IMG" info --backing-chain chain2.qcow2 | grep -c '^image:' | grep -qx 3 &&
    pass "info --backing-chain lists 3 images" || fail "info --backing-chain"

# ---- random-write stress through the block layer vs a raw shadow ----
stress() {   # name, image (already created), shadow source
    local name=$1 img=$2
    cp "$3" shadow.raw
    truncate -s "$(qemu-img info --output=json "$img" | sed -n 's/.*"virtual-size": \([0-9]*\).*/\1/p')" shadow.raw
    "$IO" stress "$img" shadow.raw 0x$RANDOM$RANDOM 300 || { fail "stress $name: block layer read-back"; return; }
    qcheck "$img" "stress $name" || return
    qemu-img compare -q shadow.raw "$img" && pass "stress $name: 300 batches, qemu-img check clean and compare equal" ||
        fail "stress $name: qemu-img compare differs"
}
truncate -s 0 zero.raw
for o in "" "cluster_size=512" "cluster_size=2M" "extended_l2=on" "refcount_bits=1" "lazy_refcounts=on" \
         "compat=0.10" "cluster_size=4k,refcount_bits=64"; do
    "$IMG" create -q -f qcow2 ${o:+-o $o} s.qcow2 48M >/dev/null
    stress "-o '$o'" s.qcow2 zero.raw
done
qemu-img create -q -f qcow2 -b chain1.qcow2 -F qcow2 s.qcow2
qemu-img convert -O raw chain1.qcow2 chain1.raw
stress "overlay on a qcow2 chain" s.qcow2 chain1.raw
qemu-img create -q -f qcow2 -o extended_l2=on -b chain1.qcow2 -F qcow2 s.qcow2
stress "extended-L2 overlay" s.qcow2 chain1.raw
cp q-zlib-c.qcow2 s.qcow2
stress "compressed image" s.qcow2 base.raw
cp chain1.qcow2 c1.qcow2
"$IMG" snapshot -c snap1 c1.qcow2 || fail "snapshot -c"
stress "image with a snapshot" c1.qcow2 chain1.raw

# ---- snapshots ----
"$IMG" create -q -f qcow2 sn.qcow2 16M >/dev/null
qemu-io -c "write -P 0xaa 0 1M" sn.qcow2 >/dev/null
"$IMG" snapshot -c first sn.qcow2 && qcheck sn.qcow2 "snapshot -c" &&
qemu-io -c "write -P 0xbb 512k 1M" sn.qcow2 >/dev/null && qcheck sn.qcow2 "write after snapshot" &&
qemu-img snapshot -l sn.qcow2 | grep -q first &&
"$IMG" snapshot -a first sn.qcow2 && qcheck sn.qcow2 "snapshot -a" &&
qemu-io -c "read -P 0xaa 0 1M" -c "read -P 0 1M 1M" sn.qcow2 | grep -q "read 1048576" &&
! qemu-io -c "read -P 0xaa 0 1M" sn.qcow2 | grep -q "Pattern verification failed" &&
qemu-img snapshot -c qsnap sn.qcow2 && "$IMG" snapshot -l sn.qcow2 | grep -q qsnap &&
"$IMG" snapshot -d first sn.qcow2 && qcheck sn.qcow2 "snapshot -d" &&
"$IMG" snapshot -a qsnap sn.qcow2 && qcheck sn.qcow2 "apply qemu's snapshot" &&
    pass "snapshot -c/-l/-a/-d, interchangeable with qemu-img" || fail "snapshots"
# the table as qemu-img prints it (columns, a long tag, sizes, dates)
"$IMG" snapshot -c a-tag-longer-than-sixteen sn.qcow2 &&
qemu-img snapshot -c another-rather-long-tag sn.qcow2 &&
[ "$("$IMG" snapshot -l sn.qcow2)" = "$(qemu-img snapshot -l sn.qcow2)" ] &&
    pass "snapshot -l prints qemu-img's table" ||
    fail "snapshot -l: $(diff <("$IMG" snapshot -l sn.qcow2) <(qemu-img snapshot -l sn.qcow2) | head -4)"

# ---- other subcommands ----
"$IMG" convert -c -O qcow2 base.raw cc.qcow2 && qcheck cc.qcow2 "convert -c" &&
    qemu-img compare -q base.raw cc.qcow2 &&
    "$IMG" convert -O qcow2 base.raw cu.qcow2 && [ "$(stat -c %s cc.qcow2)" -lt "$(stat -c %s cu.qcow2)" ] &&
    qemu-img check cc.qcow2 | grep -q "[1-9][0-9.]*% compressed" &&
    pass "convert -c: smaller, clean, equal" || fail "convert -c"
"$IMG" convert -c -O qcow2 -o compression_type=zstd base.raw cz.qcow2 && qcheck cz.qcow2 "convert -c zstd" &&
    qemu-img compare -q base.raw cz.qcow2 && pass "convert -c zstd" || fail "convert -c zstd"
cp q-v3.qcow2 r.qcow2
"$IMG" resize r.qcow2 +1G >/dev/null && qcheck r.qcow2 "resize grow" &&
    [ "$(qemu-img info --output=json r.qcow2 | sed -n 's/.*"virtual-size": \([0-9]*\).*/\1/p')" = $((32 * 1048576 + 1073741824)) ] &&
    "$IMG" resize --shrink r.qcow2 16M >/dev/null && qcheck r.qcow2 "resize shrink" &&
    head -c 16M base.raw > b16.raw && qemu-img compare -q r.qcow2 b16.raw &&
    pass "resize grow and --shrink" || fail "resize"
cp chain0.qcow2 cm0.qcow2
qemu-img create -q -f qcow2 -b cm0.qcow2 -F qcow2 cm1.qcow2
qemu-io -c "write -P 0x5a 2M 200k" -c "write -z 5M 64k" cm1.qcow2 >/dev/null
qemu-img convert -O raw cm1.qcow2 cm1.raw
"$IMG" commit cm1.qcow2 >/dev/null && qcheck cm0.qcow2 "commit base" && qcheck cm1.qcow2 "commit top" &&
    qemu-img compare -q cm0.qcow2 cm1.raw && qemu-img compare -q cm1.qcow2 cm1.raw &&
    pass "commit" || fail "commit"
qemu-img create -q -f qcow2 -b chain1.qcow2 -F qcow2 rb.qcow2
qemu-io -c "write -P 0x33 6M 64k" rb.qcow2 >/dev/null
qemu-img convert -O raw rb.qcow2 rb.raw
"$IMG" rebase -b chain0.qcow2 -F qcow2 rb.qcow2 && qcheck rb.qcow2 "rebase" &&
    qemu-img compare -q rb.qcow2 rb.raw && qemu-img info rb.qcow2 | grep -q "backing file: chain0.qcow2" &&
    "$IMG" rebase -u -b chain1.qcow2 -F qcow2 rb.qcow2 && qemu-img info rb.qcow2 | grep -q "backing file: chain1.qcow2" &&
    pass "rebase (safe and -u)" || fail "rebase"
[ "$("$IMG" map --output=json chain2.qcow2 | sed 's/, "offset": [0-9]*//' | md5sum)" = \
  "$(qemu-img map --output=json chain2.qcow2 | sed 's/, "offset": [0-9]*//' | md5sum)" ] &&
    pass "map --output=json agrees with qemu-img (offsets aside)" || fail "map json"
[ "$("$IMG" measure -O qcow2 --size 7G)" = "$(qemu-img measure -O qcow2 --size 7G)" ] &&
    pass "measure --size" || fail "measure"
"$IMG" compare base.raw q-v3.qcow2 >/dev/null && ! "$IMG" compare -q base.raw chain1.qcow2 &&
    pass "compare" || fail "compare"
"$IMG" info --output=json q-extl2.qcow2 | python3 -c 'import json,sys; d=json.load(sys.stdin); assert d["format-specific"]["data"]["extended-l2"] is True' &&
    pass "info --output=json parses" || fail "info json"
"$IMG" check q-v3.qcow2 >/dev/null; [ $? = 0 ] || fail "check exit code clean"
cp q-v3.qcow2 leak.qcow2
# a leaked cluster: one more cluster at the end of the file with refcount 1
end=$(( ($(stat -c %s leak.qcow2) + 65535) / 65536 ))
truncate -s $(( (end + 1) * 65536 )) leak.qcow2
printf '\x00\x01' | dd of=leak.qcow2 bs=1 seek=$((0x20000 + 2 * end)) conv=notrunc 2>/dev/null
"$IMG" check leak.qcow2 >/dev/null 2>&1; rc=$?
qemu-img check leak.qcow2 >/dev/null 2>&1; qrc=$?
"$IMG" check -r leaks leak.qcow2 >/dev/null 2>&1 && qcheck leak.qcow2 "check -r leaks" &&
    [ $rc = 3 ] && [ $qrc = 3 ] && pass "check: leaks exit 3, -r leaks repairs" || fail "check leaks (rc $rc, qemu $qrc)"

# ---- malformed images: one line, file unchanged ----
corrupt() {   # name offset bytes(printf)
    cp q-v3.qcow2 bad.qcow2
    printf "$3" | dd of=bad.qcow2 bs=1 seek=$(($2)) conv=notrunc 2>/dev/null
    sum=$(md5sum < bad.qcow2)
    out=$("$IO" stress bad.qcow2 /dev/null 1 1 2>&1)
    if [ "$(echo "$out" | wc -l)" = 1 ] && echo "$out" | grep -q bad.qcow2 && [ "$sum" = "$(md5sum < bad.qcow2)" ]; then
        pass "malformed $1 refused: ${out#qcow2-io: }"
    else
        fail "malformed $1: $out"
    fi
}
corrupt "cluster_bits" 20 '\x00\x00\x00\x1f'
corrupt "version" 4 '\x00\x00\x00\x09'
corrupt "L1 offset unaligned" 40 '\x00\x00\x00\x00\x00\x03\x00\x08'
corrupt "L1 past EOF" 40 '\x00\x00\x00\x10\x00\x00\x00\x00'
corrupt "refcount table overlaps header" 48 '\x00\x00\x00\x00\x00\x00\x00\x00'
corrupt "refcount_order" 96 '\x00\x00\x00\x07'
corrupt "unknown incompatible feature" 72 '\x00\x00\x00\x00\x00\x00\x01\x00'
corrupt "external data file" 79 '\x04'
corrupt "L1 size too small" 36 '\x00\x00\x00\x00'
corrupt "snapshot table past EOF" 60 '\x00\x00\x00\x05\x00\x00\x00\x10\x00\x00\x00\x00'
qemu-img create -q -f qcow2 -b cyc2.qcow2 -F qcow2 -u cyc1.qcow2 1M
qemu-img create -q -f qcow2 -b cyc1.qcow2 -F qcow2 -u cyc2.qcow2 1M
"$IMG" info cyc2.qcow2 2>&1 | grep -q cycle && pass "backing cycle refused" || fail "backing cycle"

# ---- crash safety: kill -9 while writing and flushing ----
lost=0; corrupt=0
for i in $(seq 1 "$TRIALS"); do
    rm -f cr.qcow2 journal
    qemu-img create -q -f qcow2 -b chain0.qcow2 -F qcow2 cr.qcow2
    seed=$((RANDOM * 32768 + RANDOM))
    "$IO" crash cr.qcow2 journal $seed &
    pid=$!
    sleep "0.$((RANDOM % 9 + 1))"
    kill -9 $pid 2>/dev/null
    wait $pid 2>/dev/null
    qemu-img check cr.qcow2 >check.out 2>&1
    rc=$?
    if [ $rc != 0 ] && [ $rc != 3 ]; then
        corrupt=$((corrupt + 1))
        echo "  trial $i: qemu-img check exit $rc"; head -5 check.out
        continue
    fi
    qemu-img convert -O raw cr.qcow2 cr.raw
    [ -f journal ] || touch journal
    "$IO" verify cr.raw journal $seed >/dev/null || lost=$((lost + 1))
done
[ $corrupt = 0 ] && [ $lost = 0 ] && pass "crash safety: $TRIALS kill -9 trials, no corruption, no flushed write lost" ||
    fail "crash safety: $corrupt corrupted, $lost lost flushed data"

[ $fails = 0 ] || exit 1
