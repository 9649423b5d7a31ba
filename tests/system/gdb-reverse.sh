#!/bin/sh
# Reverse debugging during a replay (issue 18), with Debian's gdb scripted
# by `gdb -batch -x`: the bare-metal image tests/system/gdb/corrupt.c sets
# a variable (store_init), works while PIT interrupts come, corrupts it
# (store_bad) and calls done.  Recorded with -icount rr=record; replayed
# with -gdb -S, gdb:
#   - stops at `done` (the corrupted value), reverse-stepi lands on the
#     call (`call_done`), stepi goes forward to `done` again;
#   - watches the variable: reverse-continue stops at `store_bad` with the
#     value before the corruption, again at `store_init` with 0, then
#     reports the start of the history;
#   - continues forward: the watchpoint stops after `store_init` and after
#     `store_bad` with the values written, and the image then ends as it
#     did when recorded, its debug-console output (muted while re-run)
#     exactly the recording's.
# Addresses come from the image's symbols (nm).
#
#   tests/system/gdb-reverse.sh [./vx86]        (make check-gdb-reverse)
set -u
VX86=${1:-./vx86}
img=build/testrom/corrupt.bin
elf=build/testrom/corrupt.elf
tmp=$(mktemp -d "${TMPDIR:-/tmp}/vx86-rgdb.XXXXXX") || exit 1
pid=""
trap '[ -n "$pid" ] && kill $pid 2>/dev/null; rm -rf "$tmp"' EXIT INT TERM
fail=0
pass() { echo "PASS: gdb-reverse: $1"; }
bad() { echo "FAIL: gdb-reverse: $1"; fail=1; }
for t in gdb nm; do
    command -v "$t" >/dev/null 2>&1 || { echo "FAIL: gdb-reverse: $t not found (scripts/deps.sh test)"; exit 1; }
done
[ -f "$img" ] || { echo "FAIL: gdb-reverse: $img missing (make check-gdb-reverse builds it)"; exit 1; }
sym() { nm "$elf" | awk -v s="$1" '$3 == s { print "0x" $1 }'; }
done_=$(sym done) call_done=$(sym call_done) store_bad=$(sym store_bad) store_init=$(sym store_init)
guarded=$(sym guarded)
args="-bios $img -nographic -m 16M -no-reboot"

"$VX86" $args -debugcon file:"$tmp/rec.out" -icount shift=2,rr=record,rrfile="$tmp/c.log" \
    </dev/null >/dev/null 2>"$tmp/rec.err"
[ $? -eq 1 ] && grep -q "checks: all passed" "$tmp/rec.out" ||
    { bad "recording: the image did not pass ($(cat "$tmp/rec.out" "$tmp/rec.err" | tr '\n' '|'))"; exit 1; }

cat >"$tmp/rev.gdb" <<GDB
set confirm off
set pagination off
target remote $tmp/gdb.sock
break *$done_
continue
printf "DONE pc=%x guarded=%x\n", \$pc, *(unsigned int *)$guarded
reverse-stepi
printf "RSTEP pc=%x\n", \$pc
stepi
printf "FSTEP pc=%x\n", \$pc
delete
watch *(unsigned int *)$guarded
reverse-continue
printf "RC1 pc=%x guarded=%x\n", \$pc, *(unsigned int *)$guarded
reverse-continue
printf "RC2 pc=%x guarded=%x\n", \$pc, *(unsigned int *)$guarded
reverse-continue
printf "RC3 pc=%x\n", \$pc
continue
printf "F1 pc=%x guarded=%x\n", \$pc, *(unsigned int *)$guarded
continue
printf "F2 pc=%x guarded=%x\n", \$pc, *(unsigned int *)$guarded
delete
continue
GDB
"$VX86" $args -debugcon file:"$tmp/rep.out" -icount shift=2,rr=replay,rrfile="$tmp/c.log" \
    -gdb unix:"$tmp/gdb.sock",server -S </dev/null >"$tmp/vx86.log" 2>&1 &
pid=$!
for i in $(seq 50); do [ -S "$tmp/gdb.sock" ] && break; sleep 0.1; done
timeout 300 gdb -batch -x "$tmp/rev.gdb" >"$tmp/gdb.out" 2>&1
wait $pid
st=$?
pid=""
val() { sed -n "s/^$1 .*$2=\([0-9a-f]*\).*/\1/p" "$tmp/gdb.out" | head -n 1; }
hex() { printf '%x' "$1"; }
check() {
    # what, label, field, expected (hex without 0x)
    got=$(val "$2" "$3")
    [ "$got" = "$4" ] && pass "$1 ($2 $3=$got)" || bad "$1: $2 $3=$got, expected $4"
}
check "breakpoint at done after the corruption" DONE guarded dead
check "reverse-stepi from done lands on the call" RSTEP pc "$(hex $call_done)"
check "stepi goes forward to done again" FSTEP pc "$(hex $done_)"
check "reverse-continue to the watchpoint stops at the corrupting instruction" RC1 pc "$(hex $store_bad)"
check "... before it wrote" RC1 guarded 1234
check "reverse-continue again stops at the first store" RC2 pc "$(hex $store_init)"
check "... before it wrote" RC2 guarded 0
grep -q "No more reverse-execution history" "$tmp/gdb.out" &&
    pass "a third reverse-continue reaches the start of the history" ||
    bad "no 'No more reverse-execution history' after the third reverse-continue"
check "forward again: the watchpoint stops after the first store" F1 guarded 1234
check "... and after the corruption" F2 guarded dead
if [ $st -eq 1 ] && cmp -s "$tmp/rec.out" "$tmp/rep.out"; then
    pass "the replay ends as recorded, its output shown once (status 1, $(wc -l <"$tmp/rep.out") lines as recorded)"
else
    bad "replay end: status $st, output $(tr '\n' '|' <"$tmp/rep.out") vs recorded $(tr '\n' '|' <"$tmp/rec.out")"
fi
[ $fail -ne 0 ] && { echo "--- gdb:"; cat "$tmp/gdb.out"; echo "--- vx86:"; cat "$tmp/vx86.log"; }
exit $fail
