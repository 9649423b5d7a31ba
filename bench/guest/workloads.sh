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
disk_write() { dd if=/dev/zero of="$BENCH_DISK" bs=1048576 count=256 oflag=direct 2>/dev/null && echo ok; }
disk_read() { dd if="$BENCH_DISK" of=/dev/null bs=1048576 count=256 iflag=direct 2>/dev/null && echo ok; }
if [ -n "$BENCH_DISK" ]; then
    i=0
    while [ ! -b "$BENCH_DISK" ] && [ $i -lt 100 ]; do sleep 0.1; i=$((i + 1)); done
    run disk-write-256M disk_write
    run disk-read-256M disk_read
fi
echo "BENCH-DONE"
