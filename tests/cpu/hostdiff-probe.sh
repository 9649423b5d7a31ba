#!/bin/sh
# hostdiff's 32-bit probe, failure path: HOSTDIFF_FORCE_NO32=1 makes the
# probe far-jump to the data selector 0x2b, which every CPU refuses with
# #GP(0x28), so the SKIP path runs (in its child process, as for real) on
# hosts that can run 32-bit code as well as on those that cannot.
#
#   tests/cpu/hostdiff-probe.sh [path/to/hostdiff]     (make check-hostdiff)
#
# Asserts: mode 32 prints exactly one line, the SKIP line with the fault
# the probe saw, and exits 0; mode 64 still runs, skips only the native
# runs of the 32-bit self-tests (counted) and passes.
hd=${1:-tests/cpu/hostdiff}

fail() {
    echo "FAIL: hostdiff 32-bit probe: $1"
    printf '%s\n' "$out" | sed 's/^/  | /'
    exit 1
}

out=$(HOSTDIFF_FORCE_NO32=1 "$hd" --mode 32 --engine both --count 100 2>&1)
rc=$?
[ "$rc" -eq 0 ] || fail "forced mode 32 exited with $rc, want 0"
[ "$(printf '%s\n' "$out" | wc -l)" -eq 1 ] || fail "forced mode 32 printed more than one line"
printf '%s\n' "$out" |
    grep -qx 'SKIP: hostdiff mode 32: host cannot run 32-bit code (#GP error 0x28, signal 11, at the far jump into the 32-bit code segment)' ||
    fail "forced mode 32 did not print the SKIP line with the #GP(0x28) the probe must see"

out=$(HOSTDIFF_FORCE_NO32=1 "$hd" --mode 64 --engine both --count 200 2>&1)
rc=$?
[ "$rc" -eq 0 ] || fail "forced mode 64 exited with $rc, want 0"
printf '%s\n' "$out" |
    grep -q '^hostdiff selftest: .*, 0 failed, [1-9][0-9]* native runs skipped (host cannot run 32-bit code)$' ||
    fail "forced mode 64 did not report the skipped native 32-bit self-test runs"
printf '%s\n' "$out" | grep -q '^hostdiff group int mode 64 engine .*: 200 passed, 0 failed' ||
    fail "forced mode 64 did not run its sequences"
echo "PASS: hostdiff 32-bit probe: a host without 32-bit code gives one SKIP line in mode 32, mode 64 runs"
