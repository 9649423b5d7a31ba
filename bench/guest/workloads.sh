#!/bin/sh
# The benchmark workloads, run inside the guest (and natively on the host
# for the "native" column).  Each prints "BENCH <name> <ns> <checksum>",
# timed with the guest's own monotonic clock.  Inputs are generated
# deterministically before each timed section, outside the timing.
# Usage: workloads.sh BINDIR TMPDIR
B=$1
T=$2

# BENCH_WORKLOADS=a,b runs only those workloads (bench.only=a,b on the
# guest's kernel command line, set by bench/run.py).
wanted() {
    [ -z "$BENCH_WORKLOADS" ] && return 0
    case ",$BENCH_WORKLOADS," in *",$1,"*) return 0 ;; esac
    return 1
}

run() {
    name=$1
    shift
    wanted "$name" || return 0
    start=$($B/nowns)
    sum=$("$@" 2>/dev/null | md5sum | cut -c1-8)
    end=$($B/nowns)
    echo "BENCH $name $((end - start)) $sum"
}

sha_zero() { dd if=/dev/zero bs=1048576 count=64 2>/dev/null | sha256sum; }
# Two at once (the SMP rows): as many CPUs as the guest has to share them.
sha_two() {
    sha_zero >"$T/sha-a" &
    sha_zero >"$T/sha-b"
    wait
    cat "$T/sha-a" "$T/sha-b"
    rm -f "$T/sha-a" "$T/sha-b"
}
# Only when asked for by name (bench.only=): the CPU rows stay as they were.
wanted_by_name() {
    case ",$BENCH_WORKLOADS," in *",$1,"*) return 0 ;; esac
    return 1
}
gzip_roundtrip() { gzip -9 -c "$T/in16" > "$T/in16.gz" && gunzip -c "$T/in16.gz"; }
shell_loop() {
    i=0; acc=0
    while [ $i -lt 300000 ]; do acc=$(( (acc * 31 + i) % 1000003 )); i=$((i + 1)); done
    echo $acc
}

run sha256-64M sha_zero
wanted_by_name sha256-2x && run sha256-2x sha_two
# The SMP stress program's compute phase as fixed work: two threads.
wanted_by_name compute-2x && run compute-2x $B/smpprobe work 40000 2
if wanted gzip-16M; then
    seq 1 3000000 | head -c 16777216 > "$T/in16"
    run gzip-16M gzip_roundtrip
    rm -f "$T/in16" "$T/in16.gz"
fi
if wanted sort-1M; then
    awk 'BEGIN { s = 1; for (i = 0; i < 1000000; i++) { s = (s * 1103515245 + 12345) % 2147483648; print s } }' > "$T/lines"
    run sort-1M sort "$T/lines"
    rm -f "$T/lines"
fi
run shell-loop shell_loop
run intbench $B/intbench 4
run fpbench $B/fpbench 3
# Sequential disk throughput, O_DIRECT so the guest's page cache is out of
# the way; only with a scratch disk (BENCH_DISK, from bench.disk=).
disk_write() { dd if=/dev/zero of="$1" bs=1048576 count=256 oflag=direct 2>/dev/null && echo ok; }
disk_read() { dd if="$1" of=/dev/null bs=1048576 count=256 iflag=direct 2>/dev/null && echo ok; }
wait_disk() {
    i=0
    while [ ! -b "$1" ] && [ $i -lt 100 ]; do sleep 0.1; i=$((i + 1)); done
}
# bench.disk=mib:N names the disk of N MiB: with two IDE disks Linux
# names them in the order their probes finish, so sda is not always the
# master.
find_disk() {
    case $1 in
    mib:*)
        i=0
        while [ $i -lt 100 ]; do
            for d in /sys/block/sd?; do
                [ "$(cat "$d/size" 2>/dev/null)" = $((${1#mib:} * 2048)) ] && { echo "/dev/${d##*/}"; return; }
            done
            sleep 0.1; i=$((i + 1))
        done
        echo /dev/null-no-disk-of-$1 ;;
    *) echo "$1" ;;
    esac
}
[ -n "$BENCH_DISK" ] && BENCH_DISK=$(find_disk "$BENCH_DISK")
[ -n "$BENCH_QDISK" ] && BENCH_QDISK=$(find_disk "$BENCH_QDISK")
if [ -n "$BENCH_DISK" ]; then
    wait_disk "$BENCH_DISK"
    run disk-write-256M disk_write "$BENCH_DISK"
    run disk-read-256M disk_read "$BENCH_DISK"
    # Random 4 KiB requests (bench/programs/randio.c, O_DIRECT) over the
    # first 256 MiB: writes, then reads of the same places (the checksum
    # of what was read must agree between engines).
    run disk-randwrite-4k $B/randio write "$BENCH_DISK" 0 256 4096 1
    run disk-randread-4k $B/randio read "$BENCH_DISK" 0 256 4096 1
    # The virtio-blk boot (bench.disk=/dev/vda): the same rows on virtio.
    run vblk-seq-write-256M disk_write "$BENCH_DISK"
    run vblk-seq-read-256M disk_read "$BENCH_DISK"
    run vblk-rand-write-4k $B/randio write "$BENCH_DISK" 0 256 4096 1
    run vblk-rand-read-4k $B/randio read "$BENCH_DISK" 0 256 4096 1
fi
# The same on a fresh qcow2 disk (BENCH_QDISK, from bench.qdisk=): the
# sequential write allocates its first 256 MiB, the random writes
# allocate clusters in the 256 MiB above.
if [ -n "$BENCH_QDISK" ]; then
    wait_disk "$BENCH_QDISK"
    run qcow2-write-256M disk_write "$BENCH_QDISK"
    run qcow2-read-256M disk_read "$BENCH_QDISK"
    run qcow2-randwrite-4k $B/randio write "$BENCH_QDISK" 256 256 4096 1
    run qcow2-randread-4k $B/randio read "$BENCH_QDISK" 256 256 4096 1
fi
echo "BENCH-DONE"
