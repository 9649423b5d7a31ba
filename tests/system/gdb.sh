#!/bin/sh
# The gdb stub (issue 18) with Debian's gdb, scripted with `gdb -batch -x`:
#
#  1. boot sector (tests/system/gdb/boot.S) on a floppy through SeaBIOS,
#     `-gdb unix:PATH,server -S`: break *0x7c00, CS:IP 0000:7c00 in the
#     i8086 register set, 20 single steps with the register values the
#     source's comments derive, a write watchpoint that stops right after
#     the writing instruction;
#  2. malformed remote-protocol input from a raw client
#     (tests/system/gdbproto.py): bad checksums, oversized, unknown and
#     truncated packets, random bytes, a disconnect mid-packet; the CPU
#     must still be at RESET afterwards and then run the boot sector to
#     its isa-debug-exit as if no client had been there;
#  3. the Debian test guest (tests/guest/mkguest.sh) with `-s -S`:
#     break on start_kernel, long-mode `info registers`, a hardware
#     watchpoint on jiffies; Ctrl-C typed at an interactive gdb in a pty
#     (gdb_ctrlc.py) and continue;
#  4. the same guest with -smp 2: gdb lists two threads, a breakpoint in
#     start_secondary is reported by thread 2 (only the second CPU runs
#     it), `thread 2` shows the second CPU's own registers (its gs_base is
#     the kernel's __per_cpu_offset[1] and its per-CPU cpu_number reads
#     1, thread 1's 0), and stepi on thread 2 in all-stop stays on thread
#     2 and moves its rip by one instruction (gdb's own disassembly gives
#     the next address).  When qemu-system-x86_64 is installed, the same
#     script against QEMU's stub must give the same per-thread lines.
#     Debian's
#     System.map in linux-image is a stub (the real one is in the -dbg
#     package), so a first boot with nokaslr reads the two addresses from
#     the guest's /proc/kallsyms.
#
#   tests/system/gdb.sh [./vx86]           (make check-gdb)
set -u
VX86=${1:-./vx86}
tmp=$(mktemp -d "${TMPDIR:-/tmp}/vx86-gdb.XXXXXX") || exit 1
pids=""
trap 'for p in $pids; do kill $p 2>/dev/null; done; rm -rf "$tmp"' EXIT INT TERM
fail=0
pass() { echo "PASS: gdb: $1"; }
bad() { echo "FAIL: gdb: $1"; fail=1; }

for t in gdb as ld objcopy nm python3; do
    command -v "$t" >/dev/null 2>&1 || { echo "FAIL: gdb: $t not found (scripts/deps.sh test)"; exit 1; }
done
[ -f /usr/share/seabios/bios-256k.bin ] || { echo "FAIL: gdb: no SeaBIOS (scripts/deps.sh build)"; exit 1; }
# Ports per run: other test runs may share the host.
port=$((20000 + $$ % 20000))

# ---- 1. the boot sector ----
as --32 -o "$tmp/boot.o" tests/system/gdb/boot.S || exit 1
ld -m elf_i386 -Ttext 0x7c00 -o "$tmp/boot.elf" "$tmp/boot.o" || exit 1
objcopy -O binary "$tmp/boot.elf" "$tmp/boot.bin" || exit 1
python3 -c "
import sys
d = bytearray(1474560); b = open(sys.argv[1], 'rb').read(); assert len(b) == 512
d[0:512] = b; open(sys.argv[2], 'wb').write(d)" "$tmp/boot.bin" "$tmp/floppy.img" || exit 1
sym() { nm "$tmp/boot.elf" | awk -v s="$1" '$3 == s { print "0x" $1 }'; }
store=$(sym store) after=$(sym after_store) counter=$(sym counter)

cat >"$tmp/boot.gdb" <<EOF
set confirm off
set pagination off
target remote $tmp/gdb.sock
break *0x7c00
continue
printf "AT cs=%x ip=%x pc=%x\n", \$cs, \$ip, \$pc
show architecture
stepi 6
printf "S6 sp=%x ds=%x ss=%x if=%d\n", ((unsigned)\$esp & 0xffff), \$ds, \$ss, ((int)\$eflags >> 9) & 1
stepi 3
printf "S9 ax=%x cx=%x bx=%x\n", (\$ax & 0xffff), (\$cx & 0xffff), (\$bx & 0xffff)
stepi
printf "S10 bx=%x\n", (\$bx & 0xffff)
stepi
printf "S11 ax=%x\n", (\$ax & 0xffff)
stepi
printf "S12 cx=%x ip=%x\n", (\$cx & 0xffff), \$ip
stepi 3
printf "S15 ax=%x bx=%x cx=%x\n", (\$ax & 0xffff), (\$bx & 0xffff), (\$cx & 0xffff)
stepi 3
printf "S18 ax=%x bx=%x cx=%x ip=%x\n", (\$ax & 0xffff), (\$bx & 0xffff), (\$cx & 0xffff), \$ip
stepi
printf "S19 sp=%x top=%x\n", ((unsigned)\$esp & 0xffff), *(unsigned short *)0x7bfe
stepi
printf "S20 dx=%x sp=%x pc=%x\n", (\$dx & 0xffff), ((unsigned)\$esp & 0xffff), \$pc
delete
watch *(unsigned short *)$counter
continue
printf "W pc=%x counter=%x\n", \$pc, *(unsigned short *)$counter
kill
EOF
"$VX86" -m 32 -display none -fda "$tmp/floppy.img" -boot a -accel tcg \
    -gdb "unix:$tmp/gdb.sock,server" -S </dev/null >"$tmp/vboot.out" 2>&1 &
pids="$pids $!"
for i in 1 2 3 4 5 6 7 8 9 10; do [ -S "$tmp/gdb.sock" ] && break; sleep 0.2; done
timeout 60 gdb -batch -nx -x "$tmp/boot.gdb" >"$tmp/boot.log" 2>&1
expect() {   # expect NAME LINE: the gdb log must have LINE exactly
    if grep -qx "$2" "$tmp/boot.log"; then pass "$1"; else
        bad "$1: wanted '$2'; got: $(grep "^${2%% *} " "$tmp/boot.log" || echo nothing)"; fi
}
expect "break *0x7c00 stops at CS:IP 0000:7c00 (pc 0x7c00)" "AT cs=0 ip=7c00 pc=7c00"
grep -q 'i8086' "$tmp/boot.log" && pass "real mode uses gdb's i8086 architecture" ||
    bad "architecture is not i8086: $(grep -i architecture "$tmp/boot.log")"
expect "6 steps: segments and SP set, IF clear" "S6 sp=7c00 ds=0 ss=0 if=0"
expect "9 steps" "S9 ax=1234 cx=3 bx=0"
expect "10 steps: add" "S10 bx=1234"
expect "11 steps: shl" "S11 ax=2468"
expect "12 steps: loop taken" "S12 cx=2 ip=7c14"
expect "15 steps: second round" "S15 ax=48d0 bx=369c cx=1"
expect "18 steps: loop falls through" "S18 ax=91a0 bx=7f6c cx=0 ip=7c1a"
expect "19 steps: push" "S19 sp=7bfe top=7f6c"
expect "20 steps: pop" "S20 dx=7f6c sp=7c00 pc=$(printf %x $store)"
expect "write watchpoint stops right after the write" \
    "W pc=$(printf %x $after) counter=7f6c"
grep -q "Old value = 0" "$tmp/boot.log" && grep -q "New value = 32620" "$tmp/boot.log" &&
    pass "watchpoint reports old 0 and new 0x7f6c" || bad "watchpoint values: $(grep -A2 'Hardware watchpoint' "$tmp/boot.log" | tail -3)"
grep -q "Remote 'g' packet\|Remote failure\|Error" "$tmp/boot.log" && bad "gdb errors: $(grep -m3 'Error\|Remote' "$tmp/boot.log")"
wait 2>/dev/null

# ---- 2. malformed protocol input ----
"$VX86" -m 32 -display none -fda "$tmp/floppy.img" -boot a -accel tcg \
    -debugcon "file:$tmp/con.txt" -gdb "tcp::$port" -S </dev/null >"$tmp/vproto.out" 2>&1 &
vpid=$!
pids="$pids $vpid"
python3 - "$port" >"$tmp/proto.log" 2>&1 <<'PY'
import os, random, sys, time
sys.path.insert(0, "tests/system")
from gdbproto import Client, frame
c = Client(int(sys.argv[1]))
ok = True
def check(name, cond):
    global ok
    print(("PASS: gdb: " if cond else "FAIL: gdb: ") + name)
    ok &= bool(cond)
c.send(b"$qSupported#00")
check("a bad checksum gets '-'", c.read_ack() == b"-")
c.send(b"$g#zz")
check("a non-hex checksum gets '-'", c.read_ack() == b"-")
check("an unknown packet gets the empty reply", c.cmd(b"vFrobnicate;1") == b"")
check("a malformed m packet gets an error", c.cmd(b"mzz,4").startswith(b"E"))
check("a read of unmapped memory gets E14", c.cmd(b"m3000000,4") == b"E14")
check("a bad register number gets an error", c.cmd(b"p1ff").startswith(b"E"))
c.send(frame(b"m" + b"0" * 5000))
check("an oversized packet gets '+' and an error", c.read_ack() == b"+" and c.read_packet().startswith(b"E"))
random.seed(18)
noise = bytes(random.choice(b"abcdefxyz0123456789,;:+-") for _ in range(3000))
c.send(noise)      # outside a packet: ignored ('+'/'-' are acks, no $)
check("random bytes are ignored", c.cmd(b"qC") == b"QC01")
regs = c.cmd(b"g")
# eip (linear) at 8*4 bytes, cs selector at 10*4: RESET is F000:FFF0
eip = int.from_bytes(bytes.fromhex(regs[64:72].decode()), "little")
cs = int.from_bytes(bytes.fromhex(regs[80:88].decode()), "little")
check("the CPU is still at RESET after all that (eip=%x cs=%x)" % (eip, cs),
      eip == 0xfffffff0 and cs == 0xf000)
check("QStartNoAckMode", c.cmd(b"QStartNoAckMode") == b"OK")
check("no-ack mode: replies without '+'", c.cmd(b"qC", ack=False) == b"QC01")
c.send(b"$m7c00,2")   # truncated, then the client goes away
c.s.close()
sys.exit(0 if ok else 1)
PY
prc=$?
cat "$tmp/proto.log"
[ $prc = 0 ] || fail=1
# The client left mid-packet: the VM runs on to the boot sector's exit.
for i in $(seq 1 100); do kill -0 $vpid 2>/dev/null || break; sleep 0.1; done
wait $vpid
vrc=$?
if [ "$vrc" = 33 ] && [ "$(cat "$tmp/con.txt" 2>/dev/null)" = G ]; then
    pass "after a disconnect mid-packet the VM ran on undisturbed to its exit"
else
    bad "VM after the disconnect: status $vrc, debugcon '$(cat "$tmp/con.txt" 2>/dev/null)': $(tail -2 "$tmp/vproto.out")"
    kill $vpid 2>/dev/null
fi

# ---- 3. the Debian kernel ----
kernel=.cache/guest/vmlinuz initrd=.cache/guest/initramfs.cpio.gz
if [ ! -f "$kernel" ] || [ ! -f "$initrd" ]; then
    tests/guest/mkguest.sh >/dev/null || { bad "no test guest (tests/guest/mkguest.sh)"; exit 1; }
fi
append="console=ttyS0 nokaslr"
python3 - "$VX86" "$kernel" "$initrd" "$append" >"$tmp/kallsyms.txt" 2>&1 <<'PY'
import subprocess, sys, time, select
vx86, kernel, initrd, append = sys.argv[1:5]
p = subprocess.Popen([vx86, "-m", "256M", "-nographic", "-accel", "tcg", "-kernel", kernel,
                      "-initrd", initrd, "-append", append],
                     stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
out = b""
def until(pat, secs):
    global out
    end = time.time() + secs
    while pat not in out and time.time() < end:
        if select.select([p.stdout], [], [], 0.5)[0]:
            b = p.stdout.read1(65536)
            if not b:
                break
            out += b
    return pat in out
until(b"vx86-guest ready", 180)
time.sleep(1)
p.stdin.write(b"grep -E ' (start_kernel|jiffies|start_secondary|cpu_startup_entry|cpu_number|__per_cpu_offset|irq_stat)$' "
              b"/proc/kallsyms; echo KALLSYMS-''DONE\n")
p.stdin.flush()
until(b"KALLSYMS-DONE\r\n", 60)
p.stdin.write(b"poweroff -f\n")
p.stdin.flush()
until(b"Power down", 30)
p.kill()
sys.stdout.write(out.decode(errors="replace"))
PY
start_kernel=$(tr -d '\r' <"$tmp/kallsyms.txt" | awk '$2 == "T" && $3 == "start_kernel" { print "0x" $1 }')
jiffies=$(tr -d '\r' <"$tmp/kallsyms.txt" | awk '$2 == "D" && $3 == "jiffies" { print "0x" $1 }')
if [ -z "$start_kernel" ] || [ -z "$jiffies" ]; then
    bad "could not read start_kernel/jiffies from the guest: $(tail -3 "$tmp/kallsyms.txt")"
    exit 1
fi
kport=$((port + 1))
cat >"$tmp/kernel.gdb" <<EOF
set confirm off
set pagination off
target remote :$kport
break *$start_kernel
continue
printf "SK pc=%lx\n", \$pc
info registers rip rsp eflags cs cr0 cr4 efer fs_base
delete
set \$j0 = *(unsigned long *)$jiffies
watch *(unsigned long *)$jiffies
continue
printf "JW old-new=%ld\n", *(unsigned long *)$jiffies - \$j0
delete
info threads
kill
EOF
"$VX86" -m 256M -display none -serial "file:$tmp/kser.txt" -kernel "$kernel" -initrd "$initrd" \
    -append "$append" -s -gdb "tcp::$kport" -S </dev/null >"$tmp/vkernel.out" 2>&1 &
pids="$pids $!"
sleep 0.5
timeout 240 gdb -batch -nx -x "$tmp/kernel.gdb" >"$tmp/kernel.log" 2>&1 &
gpid=$!
wait $gpid
klog=$tmp/kernel.log
grep -qx "SK pc=${start_kernel#0x}" "$klog" && pass "a breakpoint on start_kernel hits" ||
    bad "start_kernel: $(grep '^SK\|Error\|error' "$klog" | head -3)"
grep -q "^rip  *$start_kernel" "$klog" && grep -q "^efer " "$klog" && grep -q "^fs_base " "$klog" &&
    pass "info registers shows the long-mode set (rip, efer, fs_base)" ||
    bad "long-mode registers: $(grep -m3 '^r\|^e' "$klog")"
grep -qx "JW old-new=1" "$klog" && grep -q "Hardware watchpoint 2" "$klog" &&
    pass "a hardware watchpoint on jiffies hits when it ticks" ||
    bad "jiffies watchpoint: $(grep -A3 'watchpoint' "$klog" | head -6)"
grep -q "Thread 1 (CPU#0 \[long mode\])" "$klog" && pass "one gdb thread for the vCPU" ||
    bad "threads: $(grep -A2 'Target Id' "$klog")"
# Ctrl-C typed at an interactive gdb in a terminal (tests/system/gdb_ctrlc.py),
# the guest with its default e1000 on user networking.
python3 tests/system/gdb_ctrlc.py "$VX86" "$kernel" "$initrd" "$jiffies" $((port + 2)) || fail=1

# ---- 4. -smp 2: one thread per vCPU ----
ksym() { tr -d '\r' <"$tmp/kallsyms.txt" | awk -v s="$1" '$3 == s { print "0x" $1; exit }'; }
start_secondary=$(ksym start_secondary) cpu_startup_entry=$(ksym cpu_startup_entry)
cpu_number=$(ksym cpu_number) per_cpu_offset=$(ksym __per_cpu_offset) irq_stat=$(ksym irq_stat)
if [ -z "$start_secondary" ] || [ -z "$cpu_startup_entry" ] || [ -z "$cpu_number" ] ||
   [ -z "$per_cpu_offset" ] || [ -z "$irq_stat" ]; then
    bad "-smp 2: symbols missing from the guest's /proc/kallsyms"
    exit 1
fi
# Marker lines only (the same from any correct stub); the per-CPU
# cpu_number at gs_base + &cpu_number is the kernel's own idea of which
# CPU runs, __per_cpu_offset[i] the gs_base it gave CPU i; irq_stat is
# CPU 0's per-CPU interrupt counters, which move only if CPU 0 runs.
smp_gdb() {   # smp_gdb PORT
    cat <<EOF
set confirm off
set pagination off
target remote :$1
python print("NTHREADS %d" % len(gdb.selected_inferior().threads()))
break *$start_secondary
continue
printf "SS thread=%d at_start_secondary=%d\n", \$_thread, \$pc == $start_secondary
delete
break *$cpu_startup_entry
set \$n = 0
continue
while \$_thread != 2 && \$n < 1000
  set \$n = \$n + 1
  continue
end
printf "IDLE thread=%d at_cpu_startup_entry=%d\n", \$_thread, \$pc == $cpu_startup_entry
delete
thread 1
printf "T1 cpu_number=%d gs_is_per_cpu_offset0=%d\n", *(int *)(\$gs_base + $cpu_number), \$gs_base == ((unsigned long *)$per_cpu_offset)[0]
set \$g0 = \$gs_base
set \$sp1 = \$rsp
thread 2
printf "T2 cpu_number=%d gs_is_per_cpu_offset1=%d own_stack=%d\n", *(int *)(\$gs_base + $cpu_number), \$gs_base == ((unsigned long *)$per_cpu_offset)[1], \$rsp != \$sp1
python gdb.set_convenience_variable("next", gdb.selected_frame().architecture().disassemble(int(gdb.parse_and_eval("\$pc")) & (2**64 - 1), count=2)[1]["addr"])
stepi
printf "STEP thread=%d at_next_insn=%d\n", \$_thread, \$pc == \$next
set \$i0 = *(unsigned long *)(\$g0 + $irq_stat)
set \$i1 = *(unsigned long *)(\$g0 + $irq_stat + 8)
set scheduler-locking on
stepi 100
printf "LOCKED thread=%d cpu0_ran=%d\n", \$_thread, *(unsigned long *)(\$g0 + $irq_stat) != \$i0 || *(unsigned long *)(\$g0 + $irq_stat + 8) != \$i1
kill
EOF
}
smp_run() {   # smp_run NAME LOG CMD...: the guest under CMD with the script
    name=$1 log=$2 sport=$3; shift 3
    smp_gdb "$sport" >"$tmp/$name.gdb"
    "$@" -m 256M -smp 2 -display none -kernel "$kernel" -initrd "$initrd" \
        -append "$append" -serial "file:$tmp/$name.ser" -gdb "tcp::$sport" -S \
        </dev/null >"$tmp/$name.out" 2>&1 &
    spid=$!
    pids="$pids $spid"
    sleep 1
    timeout 240 gdb -batch -nx -x "$tmp/$name.gdb" >"$log" 2>&1
    sleep 0.5
    kill $spid 2>/dev/null
    grep -E "^(NTHREADS|SS|IDLE|T1|T2|STEP|LOCKED) " "$log" >"$log.marks"
}
smp_run smp "$tmp/smp.log" $((port + 3)) "$VX86" -accel tcg
smp_expect() {
    if grep -qx "$2" "$tmp/smp.log.marks"; then pass "-smp 2: $1"; else
        bad "-smp 2: $1: wanted '$2'; got: $(grep "^${2%% *} " "$tmp/smp.log.marks" || tail -3 "$tmp/smp.log")"; fi
}
smp_expect "gdb sees one thread per vCPU" "NTHREADS 2"
smp_expect "a breakpoint in start_secondary is reported by thread 2" "SS thread=2 at_start_secondary=1"
smp_expect "a breakpoint hit by the second CPU (cpu_startup_entry, its idle loop's entry) reports thread 2" "IDLE thread=2 at_cpu_startup_entry=1"
smp_expect "thread 1 is CPU 0 by the kernel's own per-CPU data" "T1 cpu_number=0 gs_is_per_cpu_offset0=1"
smp_expect "thread 2 shows the second CPU's own registers (gs_base, rsp)" "T2 cpu_number=1 gs_is_per_cpu_offset1=1 own_stack=1"
smp_expect "stepi on thread 2 in all-stop stays on thread 2, one instruction on" "STEP thread=2 at_next_insn=1"
smp_expect "with scheduler-locking on, stepping thread 2 leaves CPU 0 stopped" "LOCKED thread=2 cpu0_ran=0"
grep -q "Thread 2 (CPU#1 \[long mode\])" "$tmp/smp.log" || grep -q "Thread 2 hit Breakpoint" "$tmp/smp.log" ||
    bad "-smp 2: gdb never named thread 2: $(grep -m3 Thread "$tmp/smp.log")"
# QEMU's stub on the same guest and script: the same marker lines.
if command -v qemu-system-x86_64 >/dev/null 2>&1; then
    smp_run qsmp "$tmp/qsmp.log" $((port + 4)) qemu-system-x86_64 -accel tcg
    if [ -s "$tmp/qsmp.log.marks" ] && cmp -s "$tmp/smp.log.marks" "$tmp/qsmp.log.marks"; then
        pass "-smp 2: the same per-thread answers as QEMU's stub ($(wc -l <"$tmp/qsmp.log.marks") lines)"
    else
        bad "-smp 2: vx86 and QEMU differ: $(diff "$tmp/smp.log.marks" "$tmp/qsmp.log.marks" | tr '\n' ' ')"
    fi
else
    echo "SKIP: gdb: -smp 2 comparison with QEMU's stub: qemu-system-x86_64 not installed"
fi
[ "$fail" = 0 ]
