#!/bin/sh
# Runs each libFuzzer harness for SECONDS (tests/fuzz/fuzz.mk, docs/fuzzing.md).
#   tests/fuzz/run.sh SECONDS NAME...
# A finding (sanitizer report, crash, timeout, leak, out of memory) fails the
# run; the input is kept in build/fuzz/crash/NAME/ and printed as a command
# that reproduces it.
set -u
secs=$1
shift
dir=build/fuzz
rc=0
for t in "$@"; do
    seeds=tests/fuzz/corpus/$t
    work=$dir/corpus/$t
    crash=$dir/crash/$t
    mkdir -p "$work" "$crash"
    set -- "$work"
    [ -d "$seeds" ] && set -- "$@" "$seeds"
    if "$dir/bin/$t" -max_total_time="$secs" -timeout=10 -rss_limit_mb=2560 \
        -artifact_prefix="$crash/" -print_final_stats=1 "$@" >"$dir/$t.log" 2>&1; then
        runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$dir/$t.log")
        echo "PASS: fuzz $t: ${runs:-?} inputs in ${secs}s, no finding"
    else
        rc=1
        echo "FAIL: fuzz $t: finding (log $dir/$t.log):"
        grep -E 'ERROR|SUMMARY|runtime error' "$dir/$t.log" | head -5
        for f in "$crash"/*; do
            [ -f "$f" ] && echo "  reproduce: $dir/bin/$t $f"
        done
    fi
done
exit $rc
