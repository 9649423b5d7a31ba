#!/usr/bin/env python3
"""
make bench-migrate: save and load of a running 512 MiB Linux guest, vx86
and qemu-system-x86_64 (TCG both) side by side in one run.

The guest (tests/guest/mkguest.sh) boots, fills 128 MiB of its tmpfs with
random data, and is saved with `migrate "exec:cat > FILE"` (QMP migrate,
QEMU polled with query-migrate until completed).  Then a new process
starts with `-incoming "exec:cat FILE"` and the time until the guest
answers on its serial console is measured.  Engines are interleaved,
each cell is the median of BENCH_RUNS runs (default 3).  Results go to
stdout and bench/results/migrate.md.
"""
import os
import shutil
import statistics
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(ROOT, "tests", "system"))
from qmp_lib import VM, VX86, guest_files  # noqa: E402

RUNS = int(os.environ.get("BENCH_RUNS", "3"))
QEMU = shutil.which("qemu-system-x86_64")


def one(binary, kernel, initrd, tmp):
    base = ["-m", "512M", "-kernel", kernel, "-initrd", initrd, "-append", "console=ttyS0",
            "-accel", "tcg"]
    vm = VM(base, tmpdir=tmp, binary=binary)
    try:
        vm.wait_serial("~ # ", timeout=180)
        vm.type("dd if=/dev/urandom of=/tmp/fill bs=1M count=128 2>/dev/null; echo fill-$((1+1))\n")
        vm.wait_serial("fill-2", timeout=300)
        q = vm.qmp()
        state = os.path.join(tmp, "state")
        t0 = time.time()
        q.cmd("migrate", uri="exec:cat > %s" % state)
        while q.cmd("query-migrate").get("status") not in ("completed", "failed"):
            time.sleep(0.01)
        save = time.time() - t0
        st = q.cmd("query-migrate")["status"]
        if st != "completed":
            raise RuntimeError("%s: migration %s" % (binary, st))
        size = os.path.getsize(state)
    finally:
        vm.kill()
    t0 = time.time()
    dst = VM(base + ["-incoming", "exec:cat %s" % state], tmpdir=tmp, binary=binary)
    try:
        q = dst.qmp()
        while q.cmd("query-status")["status"] != "running":
            time.sleep(0.005)
        dst.type("echo back-$((2+3))\n")
        dst.wait_serial("back-5", timeout=120)
        load = time.time() - t0
    finally:
        dst.kill()
    os.unlink(state)
    return save, load, size


def live(binary, kernel, initrd, tmp):
    """Live migration over loopback TCP while the guest writes memory:
    query-migrate's total time and downtime, in ms."""
    base = ["-m", "512M", "-kernel", kernel, "-initrd", initrd, "-append", "console=ttyS0",
            "-accel", "tcg"]
    port = 20000 + os.getpid() % 20000
    src = VM(base, tmpdir=tmp, binary=binary)
    dst = None
    try:
        src.wait_serial("~ # ", timeout=180)
        src.type("dd if=/dev/urandom of=/tmp/fill bs=1M count=128 2>/dev/null; "
                 "while true; do echo x >> /tmp/log; done\n")
        time.sleep(3)
        dst = VM(base + ["-incoming", "tcp:127.0.0.1:%d" % port], tmpdir=tmp, binary=binary)
        time.sleep(1)
        q = src.qmp()
        q.cmd("migrate-set-parameters", **{"max-bandwidth": 1 << 30, "downtime-limit": 300})
        q.cmd("migrate", uri="tcp:127.0.0.1:%d" % port)
        while True:
            m = q.cmd("query-migrate")
            if m.get("status") in ("completed", "failed", "cancelled"):
                break
            time.sleep(0.02)
        if m["status"] != "completed":
            raise RuntimeError("%s: live migration %s" % (binary, m["status"]))
        return m["total-time"] / 1000.0, m["downtime"] / 1000.0
    finally:
        src.kill()
        if dst:
            dst.kill()


def main():
    kernel, initrd = guest_files()
    engines = [("vx86-tcg", VX86)] + ([("qemu-tcg", QEMU)] if QEMU else [])
    res = {name: [] for name, _ in engines}
    lres = {name: [] for name, _ in engines}
    tmp = tempfile.mkdtemp(prefix="vx86-bench-mig.")
    try:
        for r in range(RUNS):
            for name, binary in engines:
                res[name].append(one(binary, kernel, initrd, tmp))
                s, l, z = res[name][-1]
                print("run %d %-9s save %.2f s  load+resume %.2f s  %.0f MiB" % (r + 1, name, s, l, z / 2**20))
                lres[name].append(live(binary, kernel, initrd, tmp))
                t, d = lres[name][-1]
                print("run %d %-9s live tcp: total %.2f s  downtime %.3f s" % (r + 1, name, t, d))
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    lines = ["| 512 MiB guest, 128 MiB of it random | " + " | ".join(n for n, _ in engines) + " |",
             "|---|" + "---|" * len(engines)]
    for i, what in enumerate(["save (`migrate \"exec:cat > f\"`), s", "load until the guest answers, s",
                              "stream size, MiB"]):
        cells = []
        for name, _ in engines:
            v = statistics.median(x[i] for x in res[name])
            cells.append("%.0f" % (v / 2**20) if i == 2 else "%.2f" % v)
        lines.append("| %s | %s |" % (what, " | ".join(cells)))
    for i, what in enumerate(["live migration over loopback TCP (guest writing), total s",
                              "live migration downtime (query-migrate), s"]):
        cells = ["%.3f" % statistics.median(x[i] for x in lres[name]) for name, _ in engines]
        lines.append("| %s | %s |" % (what, " | ".join(cells)))
    table = "\n".join(lines)
    print(table)
    os.makedirs(os.path.join(ROOT, "bench", "results"), exist_ok=True)
    with open(os.path.join(ROOT, "bench", "results", "migrate.md"), "w") as f:
        f.write("Median of %d runs (%s)\n\n%s\n" % (RUNS, time.strftime("%Y-%m-%d"), table))


if __name__ == "__main__":
    main()
