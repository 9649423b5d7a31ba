#!/usr/bin/env python3
"""
SMP guest test (issue 17): the Debian test guest (tests/guest/mkguest.sh)
with -smp N under one accelerator and thread mode, checked against what a
real kernel and the host itself say:

  - the kernel brings up all N CPUs ("smp: Brought up 1 node, N CPUs")
    and `nproc` says N;
  - /proc/interrupts counts local timer interrupts (LOC) on every CPU;
  - QMP query-cpus-fast lists N CPUs (one host thread each with
    thread=multi, all on one with thread=single);
  - static programs give output byte-identical to their native run, each
    run pinned with taskset to every CPU in turn: tests/guest/smp/smpprobe
    (faults, signals, fork, pipes, threads), tests/guest/fpvec (x87/SSE,
    string instructions) and bench/programs/intbench (integer);
  - `smpprobe stress R` (LOCK ADD/XADD/CMPXCHG/CMPXCHG16B, a seqlock,
    futex ping-pong, mmap/mprotect/munmap shootdowns, code one thread
    rewrites while another runs it) prints exact totals, as natively;
  - the kernel log has no warning, BUG, oops, RCU stall, soft lockup or
    clocksource trouble.

    tests/system/smp.py --cpus 4 [--thread single|multi] [--accel tcg|kvm]
                        [--stress R] [--timeout S] [--skip-unless-accel]
                        [--shell-only]

--shell-only boots to the shell and checks the CPU count and kernel log
only (-smp 64, slow on 2 host cores).  A missing host feature (no static
gcc, a host CPU without SSE4.2 for the native reference, an accelerator
this host cannot run) prints SKIP and exits 0; everything else that goes
wrong is a FAIL.
"""
import argparse
import difflib
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from qmp_lib import ROOT, VM, guest_files  # noqa: E402

BAD_LOG = [r"WARNING:", r"\bBUG:", r"\bOops\b", r"Call Trace", r"Kernel panic",
           r"rcu.*stall", r"soft lockup", r"hard LOCKUP", r"TSC unstable",
           r"[Mm]arking clocksource .* as unstable", r"clocksource watchdog",
           r"do_boot_cpu failed", r"general protection fault"]
PROGS = {
    # name: (source, gcc flags, the argument lists to run it with)
    "smpprobe": ("tests/guest/smp/smpprobe.c", "-O2 -pthread", [["probe"]]),
    "fpmath": ("tests/guest/fpvec/fpmath.c", "-O2 -msse4.2", [[]]),
    "strvec": ("tests/guest/fpvec/strvec.c", "-O2 -msse4.2", [[]]),
    "intbench": ("bench/programs/intbench.c", "-O2", [["1"]]),
}

failures = []


def check(ok, what):
    print(("PASS: " if ok else "FAIL: ") + what)
    if not ok:
        failures.append(what)
    return ok


def show_diff(what, want, got):
    """The first lines where a guest run differs from the native one."""
    d = list(difflib.unified_diff((want or "").splitlines(), (got or "").splitlines(),
                                  "native", "guest", lineterm="", n=1))
    sys.stderr.write("smp: %s differs:\n%s\n" % (what, "\n".join(d[:24])))


def skip(why):
    print("SKIP: smp test: " + why)
    sys.exit(0)


def accel_unusable(accel):
    out = subprocess.run([os.path.join(ROOT, "vx86"), "-accel", "help"],
                         stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True).stdout
    m = re.search(r"^\s*%s\s+not usable:\s*(.*)$" % re.escape(accel), out, re.M)
    return m.group(1).strip() if m else None


def build(tmp):
    """Static programs and their native outputs ({run name: text})."""
    if not shutil.which("gcc"):
        skip("host has no gcc")
    flags = open("/proc/cpuinfo").read()
    if " sse4_2" not in flags:
        skip("host CPU lacks SSE4.2 (the native reference runs fpvec's programs)")
    native = {}
    for name, (src, cflags, runs) in PROGS.items():
        exe = os.path.join(tmp, name)
        r = subprocess.run("gcc %s -static -o %s %s -lm" % (cflags, exe, os.path.join(ROOT, src)),
                           shell=True, capture_output=True, text=True)
        if r.returncode:
            if name == "smpprobe":
                skip("host gcc cannot link static programs: " + r.stderr[-200:])
            raise RuntimeError("static build of %s failed: %s" % (src, r.stderr[-300:]))
        for args in runs:
            key = " ".join([name] + args)
            native[key] = subprocess.run([exe] + args, capture_output=True, text=True,
                                         timeout=600).stdout
    return native


def guest_initrd(tmp, initrd, stress, shell_only):
    """The stock initramfs plus an archive with the programs and an /init
    that runs them pinned to each CPU, then powers off."""
    tree = os.path.join(tmp, "tree")
    os.makedirs(os.path.join(tree, "smp"))
    for name in PROGS:
        shutil.copy(os.path.join(tmp, name), os.path.join(tree, "smp", name))
    runs = " ".join("'%s'" % " ".join([n] + a) for n, (_, _, rs) in PROGS.items() for a in rs)
    work = "" if shell_only else f"""
n=$(nproc)
for c in $(seq 0 $((n - 1))); do
    for r in {runs}; do
        echo "=== run cpu $c $r ==="
        taskset -c $c /smp/$r 2>&1
        echo "=== exit $? ==="
    done
done
echo "=== stress ==="
/smp/smpprobe stress {stress} 2>&1
"""
    init = f"""#!/bin/busybox sh
/bin/busybox --install -s
export PATH=/bin:/sbin:/usr/bin:/usr/sbin
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev
# Kernel messages go to dmesg only (checked below), not between the
# programs' output on the console.
echo 1 >/proc/sys/kernel/printk
echo "=== smp begin ==="
echo "nproc $(nproc)"
sleep 2
echo "=== interrupts ==="
grep -E 'CPU0|LOC' /proc/interrupts
{work}
echo "=== dmesg ==="
dmesg
echo "=== smp end ==="
poweroff -f
"""
    with open(os.path.join(tree, "init"), "w") as f:
        f.write(init)
    os.chmod(os.path.join(tree, "init"), 0o755)
    for name in PROGS:
        os.chmod(os.path.join(tree, "smp", name), 0o755)
    extra = os.path.join(tmp, "extra.cpio.gz")
    subprocess.run("cd %s && find . | sort | cpio -o -H newc -R 0:0 --quiet | gzip -n > %s"
                   % (tree, extra), shell=True, check=True)
    out = os.path.join(tmp, "initrd.gz")
    with open(out, "wb") as o:
        for part in (initrd, extra):
            with open(part, "rb") as f:
                o.write(f.read())
    return out


def sections(text):
    """{marker: body} of the runner's "=== marker ===" sections."""
    out, cur = {}, None
    for line in text.splitlines():
        m = re.match(r"=== (.*) ===$", line)
        if m:
            cur = m.group(1)
            out.setdefault(cur, "")
            continue
        if cur is not None:
            out[cur] += line + "\n"
    return out


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--cpus", type=int, default=2)
    ap.add_argument("--thread", choices=["single", "multi"])
    ap.add_argument("--accel", default="tcg")
    ap.add_argument("--stress", type=int, default=2)
    ap.add_argument("--timeout", type=float, default=900)
    ap.add_argument("--memory", default="512M")
    ap.add_argument("--skip-unless-accel", action="store_true")
    ap.add_argument("--shell-only", action="store_true")
    a = ap.parse_args()
    accel = a.accel + (",thread=" + a.thread if a.thread else "")
    if a.skip_unless_accel:
        why = accel_unusable(a.accel)
        if why:
            skip("this host cannot run -accel %s (%s)" % (a.accel, why))
    tmp = tempfile.mkdtemp(prefix="vx86-smp.")
    try:
        native = {} if a.shell_only else build(tmp)
        if not a.shell_only:
            r = subprocess.run([os.path.join(tmp, "smpprobe"), "stress", str(a.stress)],
                               capture_output=True, text=True, timeout=600)
            native["stress"] = r.stdout
        kernel, initrd = guest_files()
        if a.shell_only:
            for name in PROGS:       # the runner copies them: empty stand-ins
                open(os.path.join(tmp, name), "w").close()
        rd = guest_initrd(tmp, initrd, a.stress, a.shell_only)
        args = ["-m", a.memory, "-no-reboot", "-smp", str(a.cpus), "-accel", accel,
                "-kernel", kernel, "-initrd", rd, "-append", "console=ttyS0 panic=-1"]
        print("smp: vx86 " + " ".join(args))
        t0 = time.monotonic()
        vm = VM(args, tmpdir=tmp)
        try:
            vm.wait_serial("=== smp begin ===", timeout=a.timeout)
            t_boot = time.monotonic() - t0
            print("smp: /init after %.1f s" % t_boot)
            q = vm.qmp()
            cpus = q.cmd("query-cpus-fast")
            idx = sorted(c["cpu-index"] for c in cpus)
            check(idx == list(range(a.cpus)), "query-cpus-fast lists CPUs 0..%d" % (a.cpus - 1))
            tids = set(c["thread-id"] for c in cpus)
            multi = a.thread == "multi" or (a.thread is None and a.cpus > 1)
            want = a.cpus if multi else 1
            check(len(tids) == want, "%d host thread(s) run the CPUs (query-cpus-fast: %d)"
                  % (want, len(tids)))
            q.close()
            vm.wait_serial("=== smp end ===", timeout=a.timeout - (time.monotonic() - t0))
            try:
                rc = vm.proc.wait(timeout=60)
            except subprocess.TimeoutExpired:
                rc = None
            print("smp: finished after %.1f s" % (time.monotonic() - t0))
        except (TimeoutError, RuntimeError) as ex:
            vm.kill()
            check(False, "the guest runner finished within %.0f s (%s)" % (a.timeout, ex))
            sys.stderr.write(vm.out.decode(errors="replace")[-3000:] + "\n")
            return 1
        finally:
            vm.kill()
        text = vm.out.decode(errors="replace").replace("\r", "")
        sec = sections(text[text.find("=== smp begin ==="):])
        check(rc == 0, "poweroff -f ends vx86 with status 0 (got %s)" % rc)
        klog = sec.get("dmesg", "")
        m = re.search(r"smp: Brought up \d+ nodes?, (\d+) CPUs?", klog)
        check(m is not None and int(m.group(1)) == a.cpus,
              "the kernel brought up %d CPUs (%s)" % (a.cpus, m.group(0) if m else "no line"))
        check(("nproc %d\n" % a.cpus) in sec.get("smp begin", ""), "nproc says %d" % a.cpus)
        loc = re.search(r"^\s*LOC:((?:\s+\d+)+)", sec.get("interrupts", ""), re.M)
        counts = [int(x) for x in loc.group(1).split()] if loc else []
        check(len(counts) == a.cpus and all(c > 0 for c in counts),
              "local timer interrupts (LOC) on every CPU: %s" % counts)
        for ln in klog.splitlines():
            if "Long readout interval" in ln:
                # a timer ran late: a host too busy to run the vCPU thread
                print("smp: note: " + ln.strip())
        bad = [ln for ln in klog.splitlines() if any(re.search(p, ln) for p in BAD_LOG)]
        check(not bad, "kernel log free of warnings, BUGs, RCU stalls, lockups" +
              ("" if not bad else ": " + " | ".join(bad[:3])))
        if not a.shell_only:
            wrong = []
            for c in range(a.cpus):
                for key, want_out in native.items():
                    if key == "stress":
                        continue
                    got = sec.get("run cpu %d %s" % (c, key))
                    if got != want_out:
                        wrong.append("cpu %d %s" % (c, key))
                        show_diff("cpu %d %s" % (c, key), want_out, got)
            check(not wrong, "%d programs x %d CPUs (taskset) print what they print natively%s"
                  % (len(native) - 1, a.cpus, "" if not wrong else ": differ: " + ", ".join(wrong[:6])))
            got = sec.get("stress", "")
            if got != native["stress"]:
                show_diff("stress", native["stress"], got)
            check(got == native["stress"] and "0 wrong" in got,
                  "smpprobe stress %d: exact totals as natively (%s)"
                  % (a.stress, (got.strip().splitlines() or ["no output"])[-1]))
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
