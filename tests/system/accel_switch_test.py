#!/usr/bin/env python3
"""A running machine saved under one accelerator resumes under the other.

The guest is build/testrom/accel-counter.bin (tests/cpu/system/
accel-counter.c): it prints "count N H LO HI" for N = 1, 2, ... forever,
with H a hash chain in general registers and LO:HI an accumulator that
lives only in XMM7.  For each pair SRC->DST the test runs the guest under
-accel SRC, migrates it to a file mid-run (QMP `migrate file:F`), quits,
starts -accel DST with `-incoming file:F`, lets it print some more lines and
quits.  The two debugcon logs put together must count 1, 2, 3, ... with no
gap and no repeated line, every value equal to what this script computes
from N alone: the CPU state (general, segment, control and SSE registers),
RAM and devices crossed over exactly.

Pairs: tcg->tcg always (it proves the test itself on every host), then
tcg->kvm and kvm->tcg where KVM is usable; elsewhere one visible
"SKIP: reason" line each.  KVM counts as unusable only when /dev/kvm is
absent or vx86 refuses the host's KVM at set-up ("vx86: -accel kvm: ..."),
before any guest code ran; any later failure is a FAIL.

    tests/system/accel_switch_test.py [path/to/vx86]     (make check-kvm)
"""
import os
import sys
import tempfile
import shutil
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from qmp_lib import VM, ROOT  # noqa: E402

IMAGE = os.path.join(ROOT, "build", "testrom", "accel-counter.bin")
MASK = (1 << 64) - 1
LINES_BEFORE = 150      # printed by the source before it is saved
LINES_AFTER = 150       # printed by the destination after it resumed


def mix(h):
    for _ in range(4):
        h ^= h >> 30
        h = (h * 0xbf58476d1ce4e5b9) & MASK
        h ^= h >> 27
        h = (h * 0x94d049bb133111eb) & MASK
        h ^= h >> 31
    return h


def expected_lines(count):
    """The guest's lines 1..count, computed independently of any emulator."""
    h, lo, hi = 0x9e3779b97f4a7c15, 0, 0
    for n in range(1, count + 1):
        h = mix(h ^ n)
        lo, hi = (hi + h) & MASK, lo ^ h
        yield "count %d %016x %016x %016x" % (n, h, lo, hi)


def counter_lines(path):
    with open(path, errors="replace") as f:
        return [ln.rstrip("\n") for ln in f if ln.startswith("count ")]


def verify(before, after):
    """before + after must be the guest's lines 1..n exactly (the last line
    of each log may be cut off where the process stopped)."""
    lines = before + after
    for i, (got, want) in enumerate(zip(lines, expected_lines(len(lines)))):
        if got != want:
            last = i == len(before) - 1 or i == len(lines) - 1
            if last and want.startswith(got):
                continue
            where = "source" if i < len(before) else "destination"
            return "line %d (%s): got %r, expected %r" % (i + 1, where, got, want)
    return None


def wait_lines(vm, path, n, timeout=120):
    end = time.time() + timeout
    while time.time() < end:
        if os.path.exists(path) and len(counter_lines(path)) >= n:
            return
        if vm.proc.poll() is not None:
            raise RuntimeError("vx86 exited (%d): %s" %
                               (vm.proc.returncode, vm.proc.stderr.read().decode(errors="replace")[-400:]))
        time.sleep(0.1)
    raise TimeoutError("%s: fewer than %d lines after %d s" % (path, n, timeout))


def start(vx86, accel, log, tmp, extra=()):
    return VM(["-bios", IMAGE, "-accel", accel, "-m", "64M", "-no-reboot",
               "-debugcon", "file:" + log] + list(extra), tmpdir=tmp, binary=vx86)


def quit_vm(vm):
    try:
        vm.qmp().cmd("quit")
        vm.proc.wait(timeout=30)
    finally:
        vm.kill()


def kvm_refusal(vx86, tmp):
    """None when -accel kvm,force=on starts this guest; else why not
    (only host reasons; a vx86 failure after set-up raises)."""
    if not os.path.exists("/dev/kvm"):
        return "host has no /dev/kvm"
    log = os.path.join(tmp, "probe.log")
    vm = start(vx86, "kvm,force=on", log, tmp)
    try:
        time.sleep(1.0)
        if vm.proc.poll() is not None:
            err = vm.proc.stderr.read().decode(errors="replace").strip().splitlines()
            first = err[0] if err else "exit status %d" % vm.proc.returncode
            if first.startswith("vx86: -accel kvm"):
                return first
            raise RuntimeError("vx86 under -accel kvm exited: %s" % first)
        wait_lines(vm, log, 3, timeout=30)
        return None
    finally:
        vm.kill()


def switch(vx86, src, dst, tmp):
    sname, dname = src.split(",")[0], dst.split(",")[0]    # no commas in -debugcon file:
    a, b = os.path.join(tmp, "a-%s.log" % sname), os.path.join(tmp, "b-%s.log" % dname)
    state = os.path.join(tmp, "state-%s-%s" % (sname, dname))
    for p in (a, b, state):
        if os.path.exists(p):
            os.unlink(p)
    vm = start(vx86, src, a, tmp)
    try:
        wait_lines(vm, a, LINES_BEFORE)
        q = vm.qmp()
        q.cmd("migrate", uri="file:" + state)
        end = time.time() + 60
        while q.cmd("query-migrate").get("status") not in ("completed", "failed"):
            if time.time() > end:
                raise TimeoutError("migrate file: did not complete")
            time.sleep(0.05)
        status = q.cmd("query-migrate")["status"]
        if status != "completed":
            raise RuntimeError("migrate file: %s" % status)
        q.cmd("quit")
        vm.proc.wait(timeout=30)
    finally:
        vm.kill()
    before = counter_lines(a)
    vm = start(vx86, dst, b, tmp, ["-incoming", "file:" + state])
    try:
        wait_lines(vm, b, LINES_AFTER)
        quit_vm(vm)
    finally:
        vm.kill()
    after = counter_lines(b)
    with open(b, errors="replace") as f:
        if "accel-counter start" in f.read():
            return "the destination started the guest afresh instead of resuming it"
    bad = verify(before, after)
    if bad:
        return bad
    print("PASS: accel-switch: saved under -accel %s after %d lines, resumed under -accel %s, "
          "%d lines in all, every value right" % (src, len(before), dst, len(before) + len(after)))
    return None


def main():
    vx86 = os.path.abspath(sys.argv[1] if len(sys.argv) > 1 else os.path.join(ROOT, "vx86"))
    if not os.path.exists(IMAGE):
        print("FAIL: accel-switch: %s missing (make kvm-images)" % IMAGE)
        return 1
    tmp = tempfile.mkdtemp(prefix="vx86-accel-switch.")
    failures = 0
    try:
        pairs = [("tcg", "tcg")]
        why = kvm_refusal(vx86, tmp)
        if why:
            print("SKIP: accel-switch: tcg->kvm and kvm->tcg: %s" % why)
        else:
            pairs += [("tcg", "kvm,force=on"), ("kvm,force=on", "tcg")]
        for src, dst in pairs:
            bad = switch(vx86, src, dst, tmp)
            if bad:
                print("FAIL: accel-switch: -accel %s -> -accel %s: %s" % (src, dst, bad))
                failures += 1
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
