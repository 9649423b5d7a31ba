#!/bin/sh
# KVM system test: ring-3 guest code runs at native speed.  The kvm-ring3
# guest (tests/cpu/system/kvm-ring3.c) drops to ring 3 with SYSEXIT and
# times 100 M iterations of the loop in tests/cpu/system/kvm-loop.h with
# RDTSC; the host runs the same loop (build/kvm-loop-native, from
# tests/system/kvm-loop-native.c).  Checked: the guest passes its own ALU
# checks, its loop result equals the host's, and it needs less than 3x the
# host's cycles (the ratio is printed; it is a sanity bound, not a target).
#
#   tests/system/kvm-ring3.sh [path/to/vx86]         (make check-kvm)
#
# Prints PASS/FAIL lines, or SKIP and exits 0 when KVM is unusable.
VX86=${1:-./vx86}
NATIVE=${NATIVE:-build/kvm-loop-native}
MAX_RATIO=3
. "$(dirname "$0")/kvm-common.sh"
kvm_init kvm-ring3

if [ ! -x "$NATIVE" ]; then
    NATIVE=$tmp/kvm-loop-native
    ${CC:-cc} -O2 -o "$NATIVE" "$(dirname "$0")/kvm-loop-native.c" || { fail "cannot build the native loop"; kvm_finish; }
fi

if run_image kvm-ring3 30; then
    g_result=$(sed -n 's/^loop iters=[0-9]* result=\([0-9a-f]*\)$/\1/p' "$tmp/kvm-ring3")
    g_cycles=$(sed -n 's/^info time ring3-loop cycles=\([0-9]*\)$/\1/p' "$tmp/kvm-ring3")
    native=$("$NATIVE")
    n_result=$(echo "$native" | sed -n 's/^result=\([0-9a-f]*\) .*/\1/p')
    n_cycles=$(echo "$native" | sed -n 's/.* cycles=\([0-9]*\)$/\1/p')
    if [ -n "$g_result" ] && [ "$g_result" = "$n_result" ]; then
        pass "kvm-ring3: loop result $g_result equals the host's"
    else
        fail "kvm-ring3: loop result '$g_result', host '$n_result'"
    fi
    if [ -n "$g_cycles" ] && [ -n "$n_cycles" ] && [ "$n_cycles" -gt 0 ]; then
        ratio=$(awk -v g="$g_cycles" -v n="$n_cycles" 'BEGIN { printf "%.2f", g / n }')
        echo "ring-3 loop: guest $g_cycles cycles, host $n_cycles cycles, ratio $ratio"
        if awk -v r="$ratio" -v m="$MAX_RATIO" 'BEGIN { exit !(r < m) }'; then
            pass "kvm-ring3: ring-3 loop at ${ratio}x native (< ${MAX_RATIO}x)"
        else
            fail "kvm-ring3: ring-3 loop at ${ratio}x native (limit ${MAX_RATIO}x): ring 3 is not run natively"
        fi
    else
        fail "kvm-ring3: no cycle counts (guest '$g_cycles', host '$n_cycles')"
    fi
fi
kvm_finish
