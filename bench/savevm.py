#!/usr/bin/env python3
"""
make bench-savevm: whole-VM snapshots of a running 512 MiB Linux guest into
its qcow2 disk, vx86 and qemu-system-x86_64 (TCG both) side by side in one
run.

The guest (tests/guest/mkguest.sh) boots with an -hda qcow2 disk (made by
qemu-img), fills 128 MiB of its tmpfs with random data, and runs
`savevm b1` (human monitor through QMP; the time is the command's), then
`loadvm b1` (the same), then the process is ended and a new one starts
with `-loadvm b1`: the time until the guest answers on its serial console.
The VM state's size is what `qemu-img info` reports for the snapshot
(vm-state-size).  Engines are interleaved, each cell is the median of
BENCH_RUNS runs (default 3).  Results go to stdout and
bench/results/savevm.md.
"""
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(ROOT, "tests", "system"))
from qmp_lib import VM, VX86, guest_files  # noqa: E402

RUNS = int(os.environ.get("BENCH_RUNS", "3"))
QEMU = shutil.which("qemu-system-x86_64")


def vm_state_size(disk, tag):
    out = subprocess.run(["qemu-img", "info", "-U", "--output=json", disk], check=True,
                         capture_output=True, text=True).stdout
    for s in json.loads(out).get("snapshots", []):
        if s["name"] == tag:
            return s["vm-state-size"]
    raise RuntimeError("qemu-img lists no snapshot %s in %s" % (tag, disk))


def hmp(q, line):
    out = q.hmp(line)
    if out.strip():
        raise RuntimeError("%s: %s" % (line, out.strip()))


def one(binary, kernel, initrd, tmp):
    disk = os.path.join(tmp, "disk.qcow2")
    subprocess.run(["qemu-img", "create", "-f", "qcow2", disk, "1G"], check=True,
                   capture_output=True)
    base = ["-m", "512M", "-kernel", kernel, "-initrd", initrd, "-append", "console=ttyS0",
            "-accel", "tcg", "-drive", "file=%s,format=qcow2,if=ide" % disk]
    vm = VM(base, tmpdir=tmp, binary=binary)
    try:
        vm.wait_serial("~ # ", timeout=300)
        vm.type("dd if=/dev/urandom of=/tmp/fill bs=1M count=128 2>/dev/null; echo fill-$((1+1))\n")
        vm.wait_serial("fill-2", timeout=300)
        q = vm.qmp()
        t0 = time.time()
        hmp(q, "savevm b1")
        save = time.time() - t0
        t0 = time.time()
        hmp(q, "loadvm b1")
        load = time.time() - t0
        q.cmd("quit")
        vm.proc.wait(timeout=60)
    finally:
        vm.kill()
    size = vm_state_size(disk, "b1")
    t0 = time.time()
    vm = VM(base + ["-loadvm", "b1"], tmpdir=tmp, binary=binary)
    try:
        vm.type("echo back-$((2+3))\n")
        vm.wait_serial("back-5", timeout=300)
        start = time.time() - t0
    finally:
        vm.kill()
    os.unlink(disk)
    return save, load, start, size


def main():
    kernel, initrd = guest_files()
    engines = [("vx86-tcg", VX86)] + ([("qemu-tcg", QEMU)] if QEMU else [])
    res = {name: [] for name, _ in engines}
    tmp = tempfile.mkdtemp(prefix="vx86-bench-savevm.")
    try:
        for r in range(RUNS):
            for name, binary in engines:
                res[name].append(one(binary, kernel, initrd, tmp))
                s, l, st, z = res[name][-1]
                print("run %d %-9s savevm %.2f s  loadvm %.2f s  -loadvm until the guest answers "
                      "%.2f s  VM state %.0f MiB" % (r + 1, name, s, l, st, z / 2**20), flush=True)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    lines = ["| 512 MiB guest, 128 MiB of it random, qcow2 disk | " +
             " | ".join(n for n, _ in engines) + " |",
             "|---|" + "---|" * len(engines)]
    for i, what in enumerate(["`savevm` (running guest), s", "`loadvm` (running guest), s",
                              "start with `-loadvm` until the guest answers, s",
                              "VM state in the image (qemu-img vm-state-size), MiB"]):
        cells = []
        for name, _ in engines:
            v = statistics.median(x[i] for x in res[name])
            cells.append("%.0f" % (v / 2**20) if i == 3 else "%.2f" % v)
        lines.append("| %s | %s |" % (what, " | ".join(cells)))
    table = "\n".join(lines)
    print(table)
    os.makedirs(os.path.join(ROOT, "bench", "results"), exist_ok=True)
    with open(os.path.join(ROOT, "bench", "results", "savevm.md"), "w") as f:
        f.write("Median of %d runs (%s)\n\n%s\n" % (RUNS, time.strftime("%Y-%m-%d"), table))


if __name__ == "__main__":
    main()
