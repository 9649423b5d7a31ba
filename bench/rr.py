#!/usr/bin/env python3
"""
make bench-rr: what deterministic execution and record/replay cost, vx86
and qemu-system-x86_64 (TCG both) side by side in one run.

The test guest (tests/guest/mkguest.sh, 512 MiB, -nic none) boots to its
shell, `poweroff -f` is typed, the process ends.  Rows: plain TCG,
-icount shift=0, -icount shift=0,rr=record and the replay of that
recording (no input typed).  For each: wall seconds until the prompt and
until the process ended, host CPU seconds (user + system of the process:
the machine is shared, CPU time is the steadier figure), and for the
recordings the log's size and bytes per second of guest time (the
guest's uptime when it powered off).  Engines are interleaved; each cell
is the median of BENCH_RUNS runs (default 3).  Results go to stdout and
bench/results/rr.md.
"""
import os
import re
import select
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
RUNS = int(os.environ.get("BENCH_RUNS", "3"))
QEMU = shutil.which("qemu-system-x86_64")
VX86 = os.path.join(ROOT, "vx86")


def guest_files():
    out = subprocess.run([os.path.join(ROOT, "tests", "guest", "mkguest.sh")],
                         capture_output=True, text=True, check=True).stdout.split()
    return out[0], out[1]


def session(argv, typed, limit=600):
    """Runs argv; with typed, waits for the prompt and types poweroff.
    Returns (seconds to the prompt, seconds to the end, CPU seconds,
    guest uptime at power-off); the end is None when the process did not
    end within limit seconds (it is killed)."""
    t0 = time.monotonic()
    p = subprocess.Popen(argv, stdin=subprocess.PIPE if typed else subprocess.DEVNULL,
                         stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    buf = b""
    ready = None
    killed = False
    while True:
        r, _, _ = select.select([p.stdout], [], [], 1.0)
        if r:
            chunk = os.read(p.stdout.fileno(), 65536)
            if not chunk:
                break
            buf += chunk
            if ready is None and b"~ # " in buf:
                ready = time.monotonic() - t0
                if typed:
                    p.stdin.write(b"poweroff -f\n")
                    p.stdin.flush()
        if time.monotonic() - t0 > limit:
            p.kill()
            killed = True
            break
    _, status, ru = os.wait4(p.pid, 0)
    p.returncode = status
    end = None if killed else time.monotonic() - t0
    m = re.findall(rb"\[ *([0-9]+\.[0-9]+)\] reboot: Power down", buf)
    uptime = float(m[-1]) if m else 0.0
    if ready is None and not killed:
        raise RuntimeError("%s: the guest never reached its prompt: %r" % (argv[0], buf[-300:]))
    return ready, end, ru.ru_utime + ru.ru_stime, uptime


def main():
    kernel, initrd = guest_files()
    base = ["-m", "512M", "-nographic", "-nic", "none", "-kernel", kernel, "-initrd", initrd,
            "-append", "console=ttyS0", "-accel", "tcg"]
    tmp = tempfile.mkdtemp(prefix="vx86-bench-rr.")
    emus = [("vx86", VX86)] + ([("qemu", QEMU)] if QEMU else [])
    rows = ["plain", "icount", "record", "replay"]
    res = {(e, r): [] for e, _ in emus for r in rows}
    size = {e: [] for e, _ in emus}
    try:
        for run in range(RUNS):
            for name, binary in emus:
                log = os.path.join(tmp, "%s.rr" % name)
                for row in rows:
                    extra = {"plain": [], "icount": ["-icount", "shift=0"],
                             "record": ["-icount", "shift=0,rr=record,rrfile=%s" % log],
                             "replay": ["-icount", "shift=0,rr=replay,rrfile=%s" % log]}[row]
                    r = session([binary] + base + extra, typed=row != "replay",
                                limit=300 if row == "replay" else 600)
                    res[(name, row)].append(r)
                    if row == "record":
                        size[name].append((os.path.getsize(log), r[3]))
                    print("run %d %-5s %-7s prompt %s  end %s  cpu %6.2f s  uptime %.2f"
                          % (run + 1, name, row, "%6.2f s" % r[0] if r[0] else "never",
                             "%6.2f s" % r[1] if r[1] else "none (killed)", r[2], r[3]),
                          flush=True)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    head = "| boot to the shell + poweroff (512 MiB, -nic none) | " + \
        " | ".join("%s %s" % (e, w) for e, _ in emus for w in ("to prompt, s", "cpu, s")) + " |"
    lines = [head, "|---|" + "---|" * (2 * len(emus))]
    for row in rows:
        cells = []
        for e, _ in emus:
            runs = res[(e, row)]
            stuck = sum(1 for x in runs if x[1] is None)
            done = [x[0] for x in runs if x[0] is not None]
            note = " (%d of %d never ended)" % (stuck, len(runs)) if stuck else ""
            cells.append(("%.2f" % statistics.median(done) if done else "never") + note)
            cells.append("%.2f" % statistics.median(x[2] for x in runs))
        label = {"plain": "plain TCG", "icount": "-icount shift=0",
                 "record": "-icount shift=0,rr=record", "replay": "rr=replay (no input)"}[row]
        lines.append("| %s | %s |" % (label, " | ".join(cells)))
    for e, _ in emus:
        b = statistics.median(s for s, _ in size[e])
        up = statistics.median(u for _, u in size[e])
        lines.append("| %s log: %.0f bytes, %.0f bytes per second of guest time (%.1f s) | %s |"
                     % (e, b, b / up if up else 0, up, " | ".join([""] * (2 * len(emus)))))
    table = "\n".join(lines)
    print(table)
    os.makedirs(os.path.join(ROOT, "bench", "results"), exist_ok=True)
    with open(os.path.join(ROOT, "bench", "results", "rr.md"), "w") as f:
        f.write("Median of %d runs (%s)\n\n%s\n" % (RUNS, time.strftime("%Y-%m-%d"), table))


if __name__ == "__main__":
    main()
