#!/bin/sh
# Profiles vx86 on one benchmark workload with perf; JIT blocks are named
# through the perf map vx86 writes when VX86_PERFMAP=1.
# Usage: bench/profile.sh WORKLOAD [extra vx86 options]   (after one make bench
# has built the bench initramfs).  Report: perf report -i bench/results/perf.data
set -e
ROOT=$(cd "$(dirname "$0")/.." && pwd)
CACHE=${VX86_CACHE:-$ROOT/.cache}
W=${1:?usage: bench/profile.sh WORKLOAD [vx86 options]}
shift
INITRD=$CACHE/bench/bench-initramfs.cpio.gz
[ -f "$INITRD" ] || { echo "profile.sh: no $INITRD; run make bench once first" >&2; exit 1; }
mkdir -p "$ROOT/bench/results"
VX86_PERFMAP=1 perf record -F 2000 -g -o "$ROOT/bench/results/perf.data" -- \
    "$ROOT/vx86" -m 1024M -nographic -no-reboot -kernel "$CACHE/guest/vmlinuz" \
    -initrd "$INITRD" -append "console=ttyS0 rdinit=/bench/init quiet bench.only=$W" "$@"
perf report -i "$ROOT/bench/results/perf.data" --no-children --sort sym 2>/dev/null | grep -v '^#' | head -40
