#!/usr/bin/env python3
"""
System test (issue 5): boot the default guest (Debian kernel + busybox
initramfs) and check it is a healthy Linux:

  - reaches the shell prompt;
  - `uname -m` says x86_64, /proc/cpuinfo counts the expected CPUs,
    $((6*7)) is 42;
  - the kernel log has no warning, oops or BUG, and no clocksource trouble
    (no "TSC unstable", no timekeeping watchdog complaint);
  - guest `date` advances by about one second per host second;
  - `poweroff -f` ends the emulator with exit status 0.

Usage: linux-boot.py [--emulator ./vx86] [--timeout S] [--cpus N] -- [extra args]
Prints PASS/FAIL lines and the boot-to-prompt wall time; exit status 0 on
success.  With --skip-unless-accel, the test first asks the emulator
(`-accel help`) whether this host can run the requested accelerator; only
when it says "not usable" (a host feature: no /dev/kvm, a KVM that cannot
run the guest) does the test print SKIP with that reason and succeed.  A
guest that starts and then fails to boot is a FAIL, never a SKIP.
"""
import argparse
import os
import re
import select
import subprocess
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
BAD_LOG = [r"WARNING:", r"\bOops\b", r"\bBUG:", r"Call Trace", r"Kernel panic",
           r"TSC unstable", r"[Mm]arking clocksource .* as unstable",
           r"timekeeping watchdog", r"clocksource watchdog", r"general protection fault"]


class Console:
    def __init__(self, proc):
        self.proc = proc
        self.buf = b""

    def pump(self, timeout):
        r, _, _ = select.select([self.proc.stdout], [], [], timeout)
        if r:
            chunk = os.read(self.proc.stdout.fileno(), 65536)
            if chunk:
                self.buf += chunk
                return True
            return False
        return True

    def wait_for(self, pattern, deadline, start=0):
        rx = re.compile(pattern.encode())
        while True:
            m = rx.search(self.buf, start)
            if m:
                return m
            left = deadline - time.monotonic()
            if left <= 0 or not self.pump(min(left, 0.5)):
                return rx.search(self.buf, start)

    def send(self, text):
        self.proc.stdin.write(text.encode())
        self.proc.stdin.flush()


def accel_unusable(emulator, extra):
    """The emulator's reason why the host cannot run the accelerator that
    `extra` asks for (`-accel NAME[,opts]`), or None when it can."""
    if "-accel" not in extra[:-1]:
        return None
    name = extra[extra.index("-accel") + 1].split(",")[0]
    out = subprocess.run([emulator, "-accel", "help"], stdout=subprocess.PIPE,
                         stderr=subprocess.STDOUT, text=True).stdout
    m = re.search(r"^\s*%s\s+not usable:\s*(.*)$" % re.escape(name), out, re.M)
    return m.group(1).strip() if m else None


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--emulator", default=os.path.join(ROOT, "vx86"))
    ap.add_argument("--timeout", type=float, default=120)
    ap.add_argument("--cpus", type=int, default=1)
    ap.add_argument("--skip-unless-accel", action="store_true")
    ap.add_argument("extra", nargs="*")
    a = ap.parse_args()
    paths = subprocess.run([os.path.join(ROOT, "tests/guest/mkguest.sh")], check=True,
                           stdout=subprocess.PIPE, text=True).stdout.split()
    kernel, initrd = paths[0], paths[1]
    if a.skip_unless_accel:
        why = accel_unusable(a.emulator, a.extra)
        if why is not None:
            print("SKIP: linux-boot: this host cannot run %s (%s)"
                  % (" ".join(a.extra), why))
            return 0
    cmd = [a.emulator, "-m", "512M", "-nographic", "-no-reboot", "-kernel", kernel,
           "-initrd", initrd, "-append", "console=ttyS0"] + a.extra
    print("linux-boot: " + " ".join(cmd))
    start = time.monotonic()
    proc = subprocess.Popen(cmd, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT)
    con = Console(proc)
    failures = []

    def check(ok, what):
        print(("PASS: " if ok else "FAIL: ") + what)
        if not ok:
            failures.append(what)
        return ok

    try:
        m = con.wait_for(r"~ # ", start + a.timeout)
        if not m:
            text = con.buf.decode(errors="replace")
            try:
                proc.wait(timeout=5)        # output ended: let it finish exiting
            except subprocess.TimeoutExpired:
                pass
            check(False, "shell prompt within %.0f s (last output: %s)"
                  % (a.timeout, (text.strip().splitlines() or ["none"])[-1][:160]))
            return 1
        t_prompt = time.monotonic() - start
        print("linux-boot: prompt after %.2f s" % t_prompt)
        pos = m.end()
        con.send("uname -m; grep -c ^processor /proc/cpuinfo; echo r=$((6*7))\n")
        m = con.wait_for(r"r=(\d+)\r?\n", time.monotonic() + 60, pos)
        out = con.buf[pos:].decode(errors="replace")
        check(re.search(r"^x86_64\r?$", out, re.M) is not None, "uname -m is x86_64")
        check(re.search(r"^%d\r?$" % a.cpus, out, re.M) is not None,
              "/proc/cpuinfo counts %d processor(s)" % a.cpus)
        check(m is not None and m.group(1) == b"42", "echo $((6*7)) prints 42")
        pos = len(con.buf)
        con.send("echo d0=$(date +%s); sleep 5; echo d1=$(date +%s)\n")
        t0 = time.monotonic()
        m0 = con.wait_for(r"d0=(\d+)\r?\n", time.monotonic() + 30, pos)
        m1 = con.wait_for(r"d1=(\d+)\r?\n", time.monotonic() + 60, m0.end() if m0 else pos)
        host = time.monotonic() - t0
        if check(m0 is not None and m1 is not None, "date runs in the guest"):
            guest = int(m1.group(1)) - int(m0.group(1))
            print("linux-boot: date %s -> %s" % (m0.group(1), m1.group(1)))
            check(abs(guest - host) <= 2.0,
                  "guest date advanced %d s while the host took %.1f s" % (guest, host))
        pos = len(con.buf)
        con.send("dmesg > /tmp/klog; echo klog-lines=$(wc -l < /tmp/klog)\n")
        con.wait_for(r"klog-lines=\d+\r?\n", time.monotonic() + 30, pos)
        # (the quotes keep the echoed command line from matching the marker)
        con.send("cat /tmp/klog; echo END-OF-''KLOG\n")
        con.wait_for(r"END-OF-KLOG\r?\n", time.monotonic() + 60, pos)
        klog = con.buf[pos:].decode(errors="replace")
        bad = [l for l in klog.splitlines() if any(re.search(p, l) for p in BAD_LOG)]
        check(not bad, "kernel log free of warnings/oops/clocksource trouble" +
              ("" if not bad else ": " + " | ".join(bad[:3])))
        con.send("poweroff -f\n")
        try:
            rc = proc.wait(timeout=60)
        except subprocess.TimeoutExpired:
            rc = None
        check(rc == 0, "poweroff -f ends the emulator with status 0 (got %s)" % rc)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        if failures:
            sys.stderr.write(con.buf.decode(errors="replace")[-3000:] + "\n")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
