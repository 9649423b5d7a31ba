#!/bin/sh
# -d mmu (issue 18, lab tracing): bare-metal images (tests/system/mmu/)
# build page tables, print each entry of the walk they are about to fault
# in, as they read it from their own tables ("expect LEVEL ADDR VALUE"),
# then fault ("fault 14 err=E cr2=A").  vx86's -d mmu log must show, for
# that linear address, a walk through exactly those entries (level,
# physical address, value) ending in a #PF with that error code.
#   mmutrace32: 2-level paging, a write to a read-only page (CR0.WP=1),
#               a read of a not-present page;
#   mmutrace64: 4-level paging, a read of a not-present page.
#
#   tests/system/mmutrace.sh [./vx86]        (make check-mmutrace)
set -u
VX86=${1:-./vx86}
tmp=$(mktemp -d "${TMPDIR:-/tmp}/vx86-mmu.XXXXXX") || exit 1
trap 'rm -rf "$tmp"' EXIT INT TERM
fail=0
for img in mmutrace32 mmutrace64; do
    bin=build/testrom/$img.bin
    [ -f "$bin" ] || { echo "FAIL: mmutrace: $bin missing (make check-mmutrace builds it)"; fail=1; continue; }
    "$VX86" -bios "$bin" -accel tcg -nographic -m 64M -no-reboot -debugcon file:"$tmp/$img.out" \
        -d mmu -D "$tmp/$img.log" -dfilter 0x40000000+0x2000,0x234500000000+0x4000 </dev/null 2>"$tmp/$img.err"
    st=$?
    if [ $st -ne 1 ]; then
        echo "FAIL: mmutrace: $img exit status $st: $(tail -n 3 "$tmp/$img.out" | tr '\n' '|')"
        fail=1
        continue
    fi
    python3 - "$tmp/$img.out" "$tmp/$img.log" "$img" <<'PY' || fail=1
import re, sys
out, log, img = open(sys.argv[1]).read().splitlines(), open(sys.argv[2]).read().splitlines(), sys.argv[3]
# The image's side: groups of expected entries, each closed by its fault.
faults, cur = [], []
for l in out:
    m = re.match(r"expect (\w+) ([0-9a-f]+) ([0-9a-f]+)$", l)
    if m:
        cur.append((m.group(1), int(m.group(2), 16), int(m.group(3), 16)))
    m = re.match(r"fault 14 err=([0-9a-f]+) cr2=([0-9a-f]+)$", l)
    if m:
        faults.append((int(m.group(2), 16), int(m.group(1), 16), cur))
        cur = []
# vx86's side: walks, each with its entries and how it ended.
walks, w = [], None
for l in log:
    m = re.match(r"mmu: walk (0x[0-9a-f]+) ", l)
    if m:
        w = {"lin": int(m.group(1), 16), "entries": [], "pf": None}
        walks.append(w)
        continue
    m = re.match(r"mmu:\s+(\w+)\s+@(0x[0-9a-f]+) = (0x[0-9a-f]+)", l)
    if m and w:
        w["entries"].append((m.group(1), int(m.group(2), 16), int(m.group(3), 16)))
    m = re.match(r"mmu:\s+#PF error (0x[0-9a-f]+|0):", l)
    if m and w:
        w["pf"] = int(m.group(1), 16)
ok = len(faults) > 0
for lin, err, entries in faults:
    hit = [w for w in walks if w["lin"] == lin and w["pf"] is not None]
    if not hit:
        print("FAIL: mmutrace: %s: no -d mmu walk of %#x ending in #PF" % (img, lin)); ok = False
    elif hit[-1]["entries"] != entries or hit[-1]["pf"] != err:
        print("FAIL: mmutrace: %s: walk of %#x: logged %s #PF %#x, the image built %s #PF %#x"
              % (img, lin, hit[-1]["entries"], hit[-1]["pf"], entries, err)); ok = False
    else:
        print("PASS: mmutrace: %s: the walk of %#x shows the image's %d entries (%s) and #PF error %#x"
              % (img, lin, len(entries), " ".join(e[0] for e in entries), err))
if not faults:
    print("FAIL: mmutrace: %s: the image reported no fault" % img)
sys.exit(0 if ok else 1)
PY
done
exit $fail
