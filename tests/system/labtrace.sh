#!/bin/sh
# -d int, -d pcall, -d ioport (issue 18, lab tracing): the bare-metal image
# tests/system/labtrace/labtrace32.c makes a ring 3 -> ring 0 call through
# a call gate and an LRET back, an INT from ring 3 through a DPL-3
# interrupt gate, a #GP in ring 3, task switches by CALL, IRET, JMP and a
# task gate, a ring-0 JMP through a call gate, direct far JMP/CALL/RET
# between code segments, SYSENTER/SYSEXIT, and port accesses; it prints ("expect ...") the selectors,
# vectors, addresses, stacks (as the SDM computes them), ports and values
# it used.  vx86's log (-D) must describe each transfer with exactly
# those.  A second run with -dfilter on the image's ring-3 code must keep
# the transfers that start there and drop those that start elsewhere; a
# third, -d exec with that filter, must show each run of a loop's block.
# Device names: the board's names for the ports (debugcon at 0xe9,
# isa-debug-exit at 0xf4; 0x0ee0 is decoded by nothing on a PC).
#
#   tests/system/labtrace.sh [./vx86]        (make check-labtrace)
set -u
VX86=${1:-./vx86}
bin=build/testrom/labtrace32.bin
[ -f "$bin" ] || { echo "FAIL: labtrace: $bin missing (make check-labtrace builds it)"; exit 1; }
tmp=$(mktemp -d "${TMPDIR:-/tmp}/vx86-labtrace.XXXXXX") || exit 1
trap 'rm -rf "$tmp"' EXIT INT TERM

run() {   # run NAME [extra options]
    name=$1; shift
    "$VX86" -bios "$bin" -accel tcg -nographic -m 64M -no-reboot -debugcon file:"$tmp/$name.out" \
        -d int,pcall,ioport -D "$tmp/$name.log" "$@" </dev/null 2>"$tmp/$name.err"   # a later -d wins
    st=$?
    if [ $st -ne 1 ]; then
        echo "FAIL: labtrace: $name: exit status $st (1 = the image's checks passed):" \
             "$(tail -n 3 "$tmp/$name.out" "$tmp/$name.err" | tr '\n' '|')"
        return 1
    fi
}
run full || exit 1
range=$(sed -n 's/^expect userrange \([0-9a-f]*\) \([0-9a-f]*\)$/0x\1..0x\2/p' "$tmp/full.out")
[ -n "$range" ] || { echo "FAIL: labtrace: the image printed no userrange"; exit 1; }
run filtered -dfilter "$range" || exit 1
run exec -d exec -dfilter "$range" || exit 1
# SYSCALL/SYSRET: the 64-bit image (tests/system/labtrace/labtrace64.c)
bin=build/testrom/labtrace64.bin
[ -f "$bin" ] || { echo "FAIL: labtrace: $bin missing (make check-labtrace builds it)"; exit 1; }
run long -d pcall || exit 1

python3 - "$tmp" <<'PY'
import re, sys
tmp = sys.argv[1]
out = open(tmp + "/full.out").read().splitlines()
log = open(tmp + "/full.log").read().splitlines()
flog = open(tmp + "/filtered.log").read().splitlines()
elog = open(tmp + "/exec.log").read().splitlines()
exp = {}
for l in out:
    if l.startswith("expect "):
        w = l.split()
        exp.setdefault(w[1], []).append(w[2:])
fails = 0

def kv(fields):
    return dict(f.split("=", 1) for f in fields if "=" in f)

def stack(s):
    a, b = s.split("->")
    return a, b

def need(what, pattern, lines=log, present=True):
    """A log line matching pattern (a regex built from the image's values)."""
    global fails
    hit = [l for l in lines if re.fullmatch(pattern, l)]
    if bool(hit) != present:
        fails += 1
        print("FAIL: labtrace: %s: %s line %s\n      /%s/" %
              (what, "no" if present else "unexpected", "in the log" if present else "", pattern))
        near = [l for l in lines if l.split(":")[0] == pattern.split(":")[0]][:12]
        for l in near:
            print("      log: " + l)
    else:
        print("PASS: labtrace: %s" % what)
    return hit

# ioport: direction, port, size, value and the device (or unassigned)
names = {"00e9": "debugcon", "00f4": "isa-debug-exit"}
for kind in ("out", "in"):
    for f in exp.get(kind, []):
        port, size, val = f[0], f[1], f[2]
        dev = f[3] if len(f) > 3 else r"\S+"
        need("ioport %s %s size %s value %s %s" % (kind, port, size, val, dev if len(f) > 3 else ""),
             r"ioport: %s 0x%s size %s value 0x%s %s" % (re.escape(kind.ljust(3)), port, size, val, dev))
need("ioport: the exit write names isa-debug-exit",
     r"ioport: out 0x00f4 size 1 value 0x00 %s" % names["00f4"])

# the call gate, ring 3 -> 0, and the LRET back
for f in exp["lcall"]:
    e = kv(f)
    a, b = stack(e["stack"])
    need("pcall: lcall through call gate %s, %s params, to %s" % (e["gate"], e["params"], e["target"]),
         r"pcall: lcall %s through 32-bit call gate \(dpl %s, %s params\) -> %s, cpl 3 -> 0, stack %s -> %s"
         % (e["gate"], e["dpl"], e["params"], e["target"], a, b))
for f in exp["ljmp"]:
    e = kv(f)
    need("pcall: ljmp through call gate %s (dpl %s) to %s" % (e["gate"], e["dpl"], e["target"]),
         r"pcall: ljmp %s through 32-bit call gate \(dpl %s, %s params\) -> %s, cpl 0 -> 0, same stack"
         % (e["gate"], e["dpl"], e["params"], e["target"]))
for f in exp["lret"]:
    e = kv(f)
    a, b = stack(e["stack"])
    need("pcall: lret to ring 3 at %s" % e["target"],
         r"pcall: lret from 0008:%s -> %s, cpl 0 -> 3, stack %s -> %s" % (e["site"], e["target"], a, b))
# INT from ring 3 through a DPL-3 interrupt gate
for f in exp["int"]:
    e = kv(f)
    a, b = stack(e["stack"])
    need("int: software interrupt 0x%s at %s, cpl 3" % (e["vec"], e["site"]),
         r"int: software interrupt 0x%s at %s cpl 3" % (e["vec"], e["site"]))
    need("int: delivered to %s, cpl 3 -> 0" % e["target"], r"int:   -> %s cpl 3 -> 0" % e["target"])
    need("pcall: int 0x%s through the interrupt gate, stack %s -> %s" % (e["vec"], a, b),
         r"pcall: int 0x%s through 32-bit interrupt gate \(dpl %s\) -> %s, cpl 3 -> 0, stack %s -> %s"
         % (e["vec"], e["dpl"], e["target"], a, b))
for f in exp["gp"]:
    e = kv(f)
    need("int: #GP(%s) at %s" % (e["err"], e["site"]),
         r"int: exception 0x%s #GP err=0x%s at %s cpl 3" % (e["vec"], e["err"], e["site"]))
# task switches
for f in exp["task"]:
    how, e = f[0], kv(f[1:])
    link = ", link %s" % e["link"] if e["link"] != "0000" else ""
    need("pcall: task switch by %s from TSS %s to TSS %s" % (how, e["from"], e["to"]),
         r"pcall: task switch by %s from TSS %s to TSS %s \(32-bit, base 0x%s\) at 0008:%s -> 0008:%s, cpl 0 -> 0%s"
         % (how, e["from"], e["to"], e["base"], e["site"], e["target"], link))
for f in exp["taskgate"]:
    e = kv(f)
    need("pcall: int 0x%s through the task gate to TSS %s" % (e["vec"], e["tss"]),
         r"pcall: int 0x%s through task gate \(dpl 0\) -> TSS %s" % (e["vec"], e["tss"]))
    need("int: software interrupt 0x%s (task gate) at 0008:%s" % (e["vec"], e["site"]),
         r"int: software interrupt 0x%s at 0008:%s cpl 0" % (e["vec"], e["site"]))

# transfers straight to a code segment (no gate): far JMP/CALL/RET,
# SYSENTER/SYSEXIT (selectors from the image's MSR and GDT)
def direct_line(e):
    a, b = e["cpl"].split("->")
    st = "same stack" if e["stack"] == "same" else "stack %s -> %s" % stack(e["stack"])
    return r"pcall: %s from %s -> %s, cpl %s -> %s, %s" % (e["insn"], e["from"], e["to"], a, b, st)
for f in exp.get("direct", []):
    e = kv(f)
    need("pcall: %s from %s to %s" % (e["insn"], e["from"], e["to"]), direct_line(e))
lout = open(tmp + "/long.out").read().splitlines()
llog = open(tmp + "/long.log").read().splitlines()
ldirect = [l.split()[2:] for l in lout if l.startswith("expect direct ")]
for f in ldirect:
    e = kv(f)
    need("pcall (64-bit): %s from %s to %s" % (e["insn"], e["from"], e["to"]), direct_line(e), llog)
if [kv(f)["insn"] for f in ldirect] != ["syscall", "sysretq"]:
    fails += 1
    print("FAIL: labtrace: the 64-bit image printed %r, not a syscall and a sysretq" % ldirect)
if len(exp.get("direct", [])) < 5:
    fails += 1
    print("FAIL: labtrace: the image printed %d 'expect direct' lines, not 5" % len(exp.get("direct", [])))

# -dfilter on the ring-3 code: its transfers stay, the others go
e = kv(exp["lcall"][0])
need("-dfilter keeps the lcall from ring-3 code",
     r"pcall: lcall %s through .*" % e["gate"], flog)
e = kv(exp["gp"][0])
need("-dfilter keeps the #GP in ring-3 code", r"int: exception 0x0d #GP err=0x%s at %s cpl 3" % (e["err"], e["site"]), flog)
need("-dfilter drops the task switches (ring-0 code)", r"pcall: task switch .*", flog, present=False)
need("-dfilter drops the lret (ring-0 code)", r"pcall: lret .*", flog, present=False)

# -d exec logs each block run (chained ones too), within -dfilter
lo, hi = [int(x, 16) for x in exp["userrange"][0]]
pcs = [int(m.group(1), 16) for m in (re.match(r"exec: pc=([0-9a-f]+) ", l) for l in elog) if m]
loop, times = int(exp["execloop"][0][0], 16), int(exp["execloop"][0][1])
outside = [hex(p) for p in pcs if not lo <= p <= hi]
if outside or pcs.count(loop) != times:
    fails += 1
    print("FAIL: labtrace: -d exec -dfilter: the loop block at %#x ran %d times in the log (the "
          "image: %d); blocks outside %#x..%#x: %s" % (loop, pcs.count(loop), times, lo, hi, outside[:5]))
else:
    print("PASS: labtrace: -d exec shows the loop block %d times and only blocks in -dfilter's range" % times)
sys.exit(1 if fails else 0)
PY
