#!/usr/bin/env python3
"""Host CPU cost of showing a guest's screen: vx86 vs QEMU in the same run.

  bench/display.py              (make bench-display; BENCH_RUNS=3,
                                 BENCH_DISPLAY_SECONDS=20,
                                 BENCH_DISPLAY_IMAGES=vga-fbloop: some rows only)

The guest is a bare-metal VGA image (tests/vga) that draws a text screen
and halts: vga-text (a static screen, cursor off) and vga-textcursor (the
same with the blinking cursor, the usual idle console), and vga-fbloop: a
1024x768x32 Bochs VBE framebuffer whose every pixel the guest rewrites 30
times a second (PIT-paced; its "frames N" lines on the debug console give
the frames actually drawn, shown next to its CPU).  Each emulator runs
it on the translator (vx86 -accel tcg, qemu -accel tcg) with -display sdl
on a private Xvfb server, with -display none as the baseline, and with
-display none -vnc :N and one VNC viewer connected (xtightvncviewer on the
same Xvfb, default encodings; the viewer's own CPU is not counted); after a
3 s warm-up the emulator's user+system CPU time over the measuring window
is read from /proc/PID/stat.  Runs are interleaved (run 1 of every cell,
then run 2, ...); each cell is the median, as % of one host core.  Writes
the table to stdout and bench/results/display.md.
"""
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), ".."))
sys.path.insert(0, os.path.join(ROOT, "tests", "ui"))
from ui import start_xvfb  # noqa: E402

IMAGES = ["vga-text", "vga-textcursor", "vga-fbloop"]
EMULATORS = {
    "vx86": [os.path.join(ROOT, "vx86"), "-accel", "tcg"],
    "qemu": ["qemu-system-x86_64", "-accel", "tcg"],
}
DISPLAYS = ["sdl", "none", "vnc"]
TICK = os.sysconf("SC_CLK_TCK")


def cpu_seconds(pid):
    f = open("/proc/%d/stat" % pid).read().rsplit(")", 1)[1].split()
    return (int(f[11]) + int(f[12])) / TICK    # utime, stime


def vnc_display():
    """A display number whose VNC port (5900+N) is free."""
    for n in range(60, 100):
        s = socket.socket()
        try:
            s.bind(("127.0.0.1", 5900 + n))
            return n
        except OSError:
            continue
        finally:
            s.close()
    raise RuntimeError("no free VNC port")


def frames_drawn(log):
    """The last "frames N" the guest printed (vga-fbloop), or None."""
    n = None
    for line in open(log, "rb").read().decode(errors="replace").splitlines():
        if line.startswith("frames "):
            n = int(line.split()[1])
    return n


def measure(emu, img, display, env, seconds, tmp):
    """(% of one host core, guest frames per second or None), or None."""
    log = os.path.join(tmp, "dbg.log")
    if os.path.exists(log):
        os.unlink(log)
    vnc = vnc_display() if display == "vnc" else None
    shown = ["-display", "none", "-vnc", ":%d" % vnc] if vnc is not None else ["-display", display]
    cmd = EMULATORS[emu] + ["-bios", os.path.join(ROOT, "build", "testrom", img + ".bin"),
                            "-m", "64M", "-serial", "none", "-debugcon", "file:" + log] + shown
    p = subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    viewer = None
    try:
        deadline = time.time() + 30
        while not (os.path.exists(log) and b"ready" in open(log, "rb").read()):
            if p.poll() is not None or time.time() > deadline:
                return None
            time.sleep(0.05)
        if vnc is not None:
            viewer = subprocess.Popen(["xtightvncviewer", "127.0.0.1:%d" % vnc], env=env,
                                      stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        time.sleep(3)
        if viewer and viewer.poll() is not None:
            return None                       # the viewer could not connect
        c0, t0, f0 = cpu_seconds(p.pid), time.time(), frames_drawn(log)
        time.sleep(seconds)
        c1, t1, f1 = cpu_seconds(p.pid), time.time(), frames_drawn(log)
        fps = (f1 - f0) / (t1 - t0) if f0 is not None and f1 is not None else None
        return 100.0 * (c1 - c0) / (t1 - t0), fps
    finally:
        if viewer:
            viewer.kill()
            viewer.wait()
        p.kill()
        p.wait()


def main():
    runs = int(os.environ.get("BENCH_RUNS", "3"))
    # BENCH_DISPLAY_IMAGES=vga-fbloop: only those rows (a before/after of one row)
    only = os.environ.get("BENCH_DISPLAY_IMAGES")
    if only:
        IMAGES[:] = [i for i in IMAGES if i in only.split(",")]
    seconds = float(os.environ.get("BENCH_DISPLAY_SECONDS", "20"))
    missing = [i for i in IMAGES
               if not os.path.exists(os.path.join(ROOT, "build", "testrom", i + ".bin"))]
    if missing:
        subprocess.run(["make", "-C", ROOT] + ["build/testrom/%s.bin" % i for i in missing],
                       check=True, stdout=subprocess.DEVNULL)
    xvfb, display = start_xvfb()
    env = dict(os.environ, DISPLAY=display)
    env.pop("WAYLAND_DISPLAY", None)
    cells = {}
    try:
        with tempfile.TemporaryDirectory(prefix="vx86-bench-display.") as tmp:
            for _ in range(runs):
                for img in IMAGES:
                    for disp in DISPLAYS:
                        for emu in EMULATORS:
                            v = measure(emu, img, disp, env, seconds, tmp)
                            cells.setdefault((img, disp, emu), []).append(v)
    finally:
        xvfb.kill()
        xvfb.wait()

    def cell(img, disp, emu):
        vs = [v for v in cells[(img, disp, emu)] if v is not None]
        if not vs:
            return "n/a"
        text = "%.2f" % statistics.median(v[0] for v in vs)
        fps = [v[1] for v in vs if v[1] is not None]
        return text + (" (%.0f fps)" % statistics.median(fps) if fps else "")

    lines = ["| guest (TCG) | vx86 sdl | qemu sdl | vx86 none | qemu none "
             "| vx86 vnc + viewer | qemu vnc + viewer |",
             "|---|---|---|---|---|---|---|"]
    names = {"vga-text": "static text screen", "vga-textcursor": "text screen, blinking cursor",
             "vga-fbloop": "1024x768x32 framebuffer redrawn, 30 fps asked"}
    for img in IMAGES:
        lines.append("| %s | %s |" % (names[img], " | ".join(
            cell(img, d, e) for d in DISPLAYS for e in EMULATORS)))
    load = open("/proc/loadavg").read().split()[:3]
    out = ("Host CPU, %% of one core, median of %d run(s) of %g s each "
           "(bench/display.py, Xvfb; load average at the end %s):\n\n"
           % (runs, seconds, " ".join(load))) + "\n".join(lines) + "\n"
    print(out)
    os.makedirs(os.path.join(ROOT, "bench", "results"), exist_ok=True)
    with open(os.path.join(ROOT, "bench", "results", "display.md"), "w") as f:
        f.write(out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
