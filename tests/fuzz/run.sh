#!/bin/sh
# Runs each libFuzzer harness for SECONDS (tests/fuzz/fuzz.mk, docs/fuzzing.md),
# FUZZ_JOBS harnesses at once (default 1).
#   tests/fuzz/run.sh SECONDS NAME...
# A finding (sanitizer report, crash, timeout, leak, out of memory) fails the
# run; the input is kept in build/fuzz/crash/NAME/ and printed as a command
# that reproduces it.
set -u
dir=build/fuzz

# run_one SECONDS NAME: one harness; its verdict goes to $dir/NAME.verdict.
run_one() {
    secs=$1 t=$2
    seeds=tests/fuzz/corpus/$t
    work=$dir/corpus/$t
    crash=$dir/crash/$t
    mkdir -p "$work" "$crash"
    set -- "$work"
    [ -d "$seeds" ] && set -- "$@" "$seeds"
    if "$dir/bin/$t" -max_total_time="$secs" -timeout=10 -rss_limit_mb=2560 \
        -artifact_prefix="$crash/" -print_final_stats=1 "$@" >"$dir/$t.log" 2>&1; then
        runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$dir/$t.log")
        echo "PASS: fuzz $t: ${runs:-?} inputs in ${secs}s, no finding" >"$dir/$t.verdict"
    else
        {
            echo "FAIL: fuzz $t: finding (log $dir/$t.log):"
            grep -E 'ERROR|SUMMARY|runtime error' "$dir/$t.log" | head -5
            for f in "$crash"/*; do
                [ -f "$f" ] && echo "  reproduce: $dir/bin/$t $f"
            done
        } >"$dir/$t.verdict"
    fi
}

if [ "${1:-}" = --one ]; then
    run_one "$2" "$3"
    exit 0
fi

secs=$1
shift
for t in "$@"; do rm -f "$dir/$t.verdict"; done
printf '%s\n' "$@" | xargs -P "${FUZZ_JOBS:-1}" -n 1 "$0" --one "$secs"
rc=0
for t in "$@"; do
    if [ -f "$dir/$t.verdict" ]; then
        cat "$dir/$t.verdict"
        grep -q '^PASS' "$dir/$t.verdict" || rc=1
    else
        echo "FAIL: fuzz $t: the harness did not report (see $dir/$t.log)"
        rc=1
    fi
done
exit $rc
