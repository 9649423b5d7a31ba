#!/usr/bin/env python3
"""System test (issue 13, check-full): Debian's graphical installer in
vx86's SDL window, driven by keys and the usb-tablet, against QEMU.

  tests/system/gtk_installer.py [--vx86 PATH] [--qemu PATH] [--keep DIR]

Both emulators boot the gtk tree of debian-installer-12-netboot-amd64
(/usr/lib/debian-installer/images/12/amd64/gtk) over the network as
tests/system/installer.py --netboot does (-boot n, slirp's TFTP, iPXE,
pxelinux), with `-usb -device usb-tablet`.  pxelinux's menu counts down
to its speech-synthesis entry (a key only restarts the count): once the
menu's selection bar is drawn on "Install" the test presses Enter, again
every MENU_RETRY seconds while the menu is still there (a key pressed
before the menu reads the keyboard is lost).  The gtk frontend (Xorg on the kernel's 1280x800
framebuffer) then shows "Select a language"; a dialog is up when LIGHT of
the screen or more is light grey/white (the text screens before it are
black) and the picture has not changed for STABLE seconds.

vx86 runs with -display sdl on a private Xvfb (tests/ui/ui.py's helpers):
its keys are typed into the window with xdotool and its tablet moves with
`xdotool mousemove --window`/`click`, so they go through the SDL backend.
QEMU, the reference, runs with -display none and gets the same input from
its monitor: `sendkey` for the keys, QMP `input-send-event` for the tablet
with the absolute values vx86's SDL backend gives the same window pixel
(display_abs_coord in ui/display.c: pos * 0x7fff / (size - 1)), so both
guests' X servers put the pointer on the same pixel.  (QEMU's own SDL UI
divides by the size, not size - 1: the pointer would land one pixel
apart.)

Steps, each screendump compared with QEMU's, pixel for pixel (the X
pointer, drawn into the framebuffer, is part of it: same input, same
place):
  1. "Select a language" as it comes up; vx86's window screenshot must
     equal its screendump (the first screen is in the SDL window);
  2. Enter (keys): "Select your location";
  3. a tablet click on a country of the list: the selection moves;
  4. a tablet click on "Continue": the next dialog.
Each step's picture must differ from the one before it (the input did
something).  Pictures are kept in build/gtk-installer/ on a failure.
"""
import argparse
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.abspath(os.path.join(HERE, "..", ".."))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(ROOT, "tests", "ui"))
import installer  # noqa: E402
import ui  # noqa: E402
from qmp_lib import QMPClient  # noqa: E402

vg = installer.vg
TREE = "/usr/lib/debian-installer/images/12/amd64/gtk"
POLL = 2.0
STABLE = 10.0
MENU_RETRY = 10.0
MENU_BAR = (191, range(140, 500, 20))  # pxelinux's selection bar on "Install": row, columns
LIGHT = 0.30           # of the screen: light grey/white (the gtk theme's dialog)
TEXT = 0.003           # of the screen below the banner: dark (text)
BANNER = 80            # rows of the Debian banner at the top
LIMIT = 900.0          # boot to the first dialog
STEP_LIMIT = 300.0     # each further step
SCREEN = (1280, 800)   # the framebuffer's mode (bochs-drm: the EDID's preferred mode)
ABS_MAX = 0x7fff

# The tablet's targets in the location dialog (window = guest pixels;
# measured on QEMU's picture: a row of the country list, the Continue
# button at the bottom right).
COUNTRY = (400, 331)      # "India"
CONTINUE = (1218, 774)
SELECTION_X = 800         # a column of the list's rows right of their text
TITLE = (85, 105)         # rows of the dialog's title ("Select a language")


def gtk_dialog(ppm):
    """A gtk dialog is drawn: LIGHT of the screen or more is light
    grey/white and TEXT of the part below the banner is dark (its words:
    the empty page the frontend shows first has only the pointer)."""
    w, h, px = vg.read_ppm(ppm)
    light = dark = below = 0
    step = 7
    for p in range(0, w * h, step):
        i = 3 * p
        r, g, b = px[i], px[i + 1], px[i + 2]
        if r >= 0xc0 and g >= 0xc0 and b >= 0xc0:
            light += 1
        if p >= BANNER * w:
            below += 1
            if r < 0x60 and g < 0x60 and b < 0x60:
                dark += 1
    n = max(1, (w * h) // step)
    return light / n >= LIGHT and dark / max(1, below) >= TEXT


def pixel(ppm, x, y):
    w, h, px = vg.read_ppm(ppm)
    i = 3 * (y * w + x)
    return px[i], px[i + 1], px[i + 2]


def row_selected(ppm, y):
    """The list row at y has the gtk theme's selection colour (teal)."""
    r, g, b = pixel(ppm, SELECTION_X, y)
    return r < 0x60 and g >= r + 0x30 and b >= r + 0x30


def title(ppm):
    """The dialog's title line (its pixels): tells dialogs apart."""
    w, h, px = vg.read_ppm(ppm)
    return px[3 * w * TITLE[0]:3 * w * TITLE[1]]


def menu_bar(ppm):
    """pxelinux's menu is up with "Install" selected (its light blue bar)."""
    if installer.pic_size(ppm) != (640, 480):
        return False
    y, xs = MENU_BAR
    bar = 0
    for x in xs:
        r, g, b = pixel(ppm, x, y)
        if r >= 0x50 and g >= 0x80 and b >= 0xa0:
            bar += 1
    return bar >= 0.8 * len(xs)


def abs_coord(pos, size):
    """The tablet value vx86's SDL backend sends for a window pixel
    (ui/display.c display_abs_coord)."""
    if size <= 1 or pos <= 0:
        return 0
    if pos >= size - 1:
        return ABS_MAX
    return pos * ABS_MAX // (size - 1)


class Emulator:
    """One emulator booting the gtk tree; subclasses say how input arrives."""

    def __init__(self, tag, argv, tmp, extra):
        self.tag, self.tmp = tag, tmp
        self.sock = os.path.join(tmp, tag + ".sock")
        self.err = os.path.join(tmp, tag + ".err")
        cmd = argv + ["-accel", "tcg", "-m", "1G"] + installer.netboot_media(TREE) + \
            ["-usb", "-device", "usb-tablet", "-serial", "none",
             "-monitor", "unix:%s,server,nowait" % self.sock] + extra
        self.p = subprocess.Popen(cmd, stdout=subprocess.DEVNULL,
                                  stderr=open(self.err, "wb"), env=self.env())
        self.mon = vg.Monitor(self.sock)
        self.n = 0

    def env(self):
        return None

    def dump(self):
        out = os.path.join(self.tmp, "%s-%d.ppm" % (self.tag, self.n % 2))
        self.n += 1
        if os.path.exists(out):
            os.unlink(out)
        said = self.mon.cmd("screendump " + out)
        if not os.path.exists(out):
            raise RuntimeError("%s: screendump wrote nothing: %r" % (self.tag, said))
        return open(out, "rb").read()

    def alive(self):
        if self.p.poll() is not None:
            err = open(self.err, "rb").read().decode("latin-1")
            raise RuntimeError("%s exited (%s): %s" % (self.tag, self.p.returncode, err[-500:]))

    def stop(self):
        try:
            self.mon.quit()
        except Exception:
            pass
        if self.p.poll() is None:
            self.p.kill()
        self.p.wait()


class QemuGuest(Emulator):
    """QEMU with -display none: sendkey, QMP input-send-event."""

    def __init__(self, argv, tmp):
        self.qsock = os.path.join(tmp, "qemu.qmp")
        super().__init__("qemu", argv, tmp, ["-display", "none",
                                             "-qmp", "unix:%s,server,nowait" % self.qsock])
        ui.wait_until(lambda: os.path.exists(self.qsock))
        self.qmp = QMPClient(self.qsock)
        self.qmp.cmd("qmp_capabilities")

    def key(self, name):
        self.mon.cmd("sendkey " + {"Return": "ret"}[name])

    def move(self, x, y):
        self.qmp.cmd("input-send-event", events=[
            {"type": "abs", "data": {"axis": "x", "value": abs_coord(x, SCREEN[0])}},
            {"type": "abs", "data": {"axis": "y", "value": abs_coord(y, SCREEN[1])}}])

    def click(self, x, y):
        self.move(x, y)
        for down in (True, False):
            self.qmp.cmd("input-send-event", events=[
                {"type": "btn", "data": {"down": down, "button": "left"}}])
            time.sleep(0.1)


class VxSdlGuest(Emulator):
    """vx86 in an SDL window on Xvfb: xdotool types and moves the pointer."""

    def __init__(self, argv, tmp, display):
        self.display = display
        # The host pointer waits in a corner outside the window: no motion
        # reaches the tablet before the test moves it.
        ui.run(["xdotool", "mousemove", "1599", "1199"], env=self.env())
        super().__init__("vx86", argv, tmp, ["-display", "sdl"])
        out = ui.run(["xdotool", "search", "--sync", "--name", "^vx86"], env=self.env())
        if not out.stdout.split():
            raise RuntimeError("vx86: no SDL window: %s" % out.stderr.decode())
        self.win = out.stdout.decode().split()[0]
        # Without a window manager SDL centres the first (640x480) window;
        # from there a 1280x800 one would not fit the screen.
        self.xdo("windowmove", "--sync", self.win, "0", "0")

    def env(self):
        return ui.display_env(self.display)

    def xdo(self, *args):
        ui.run(["xdotool"] + list(args), env=self.env())

    def key(self, name):
        self.xdo("windowfocus", "--sync", self.win)
        self.xdo("key", "--window", self.win, name)

    def move(self, x, y):
        self.xdo("mousemove", "--window", self.win, str(x), str(y))

    def click(self, x, y):
        self.move(x, y)
        time.sleep(0.2)
        self.xdo("mousedown", "1")
        time.sleep(0.1)
        self.xdo("mouseup", "1")

    def window_matches(self):
        size = ui.window_size(self.win, self.env())
        if size != SCREEN:
            return False, "window %dx%d, want %dx%d" % (size + SCREEN)
        mon = self.mon

        class Dumper:
            def monitor(self, line):
                return mon.cmd(line).decode("latin-1")
        return ui.window_matches_dump(Dumper(), self.win, self.env(), self.tmp)


def wait_stable(g, t0, limit, differs_from, want_light=True, menu=False, keep=None):
    """Polls screendumps until one stood still STABLE seconds, is not
    differs_from and (want_light) looks like a gtk dialog.  menu: first
    boots pxelinux's menu entry "Install" (Enter)."""
    last, since = None, None
    menu_done, entered = not menu, None
    while time.monotonic() - t0 < limit:
        g.alive()
        pic = g.dump()
        now = time.monotonic()
        if pic != last:
            if keep is not None:
                keep.append((now - t0, pic))
            last, since = pic, now
        if not menu_done:
            if menu_bar(pic) and (entered is None or now - entered >= MENU_RETRY):
                g.key("Return")               # "Install"
                entered = now
            elif entered is not None and installer.pic_size(pic) != (640, 480):
                menu_done = True              # pxelinux left its menu
        elif (now - since >= STABLE and pic != differs_from and
              (not want_light or gtk_dialog(pic))):
            return pic, now - t0
        time.sleep(POLL)
    raise RuntimeError("%s: no new stable %s after %.0f s" %
                       (g.tag, "dialog" if want_light else "picture", time.monotonic() - t0))


def walk(g, keep):
    """The four steps; returns ([pictures], [seconds at each])."""
    t0 = time.monotonic()
    pics, times = [], []

    def step(limit, menu=False):
        pic, t = wait_stable(g, t0, limit, pics[-1] if pics else None, menu=menu, keep=keep)
        if installer.pic_size(pic) != SCREEN:
            raise RuntimeError("%s: dialog at %s, want %s" % (g.tag, installer.pic_size(pic),
                                                               SCREEN))
        pics.append(pic)
        times.append(t)

    def expect(ok, what):
        if not ok:
            raise RuntimeError("%s: step %d: %s" % (g.tag, len(pics), what))

    step(LIMIT, menu=True)                       # 1. Select a language
    if isinstance(g, VxSdlGuest):
        ok, why = g.window_matches()
        expect(ok, "the SDL window does not show the screendump: " + why)
    g.key("Return")                              # 2. English: Select your location
    step(times[-1] + STEP_LIMIT)
    expect(title(pics[-1]) != title(pics[-2]), "Enter did not leave the first dialog")
    expect(not row_selected(pics[-1], COUNTRY[1]), "the country is selected already")
    g.click(*COUNTRY)                            # 3. another country selected
    step(times[-1] + STEP_LIMIT)
    expect(row_selected(pics[-1], COUNTRY[1]), "the tablet's click did not select the row")
    g.click(*CONTINUE)                           # 4. the next dialog
    step(times[-1] + STEP_LIMIT)
    expect(title(pics[-1]) != title(pics[-2]), "the click on Continue did not leave the dialog")
    return pics, times


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--vx86", default=os.path.join(ROOT, "vx86"))
    ap.add_argument("--qemu", default="qemu-system-x86_64")
    ap.add_argument("--keep", help="directory for every picture seen (debugging)")
    ap.add_argument("--only", choices=["qemu", "vx86"], help="run one emulator (debugging)")
    a = ap.parse_args()
    for tool in ("Xvfb", "xdotool", "import", "xwininfo"):
        if not shutil.which(tool):
            print("FAIL: %s is missing (scripts/deps.sh test)" % tool)
            return 1
    if not os.path.exists(os.path.join(TREE, "debian-installer/amd64/initrd.gz")):
        print("FAIL: %s is missing (Debian package debian-installer-12-netboot-amd64; "
              "scripts/deps.sh test)" % TREE)
        return 1
    signal.signal(signal.SIGTERM, lambda *_: sys.exit("terminated"))   # runs the clean-ups
    tmp = tempfile.mkdtemp(prefix="vx86-gtkinst.")
    xvfb, display = ui.start_xvfb()
    seen = {"qemu": [], "vx86": []}
    res = {}
    try:
        for tag in ("qemu", "vx86"):
            if a.only and tag != a.only:
                continue
            g = None
            try:
                g = QemuGuest([a.qemu], tmp) if tag == "qemu" else \
                    VxSdlGuest([os.path.abspath(a.vx86)], tmp, display)
                res[tag] = walk(g, seen[tag])
                print("%s: steps at %s s" % (tag, ", ".join("%.0f" % t for t in res[tag][1])),
                      flush=True)
            except RuntimeError as e:
                print("FAIL: gtk installer: %s" % e)
                return 1
            finally:
                if g:
                    g.stop()
        if a.only:
            return 0
        ref, mine = res["qemu"][0], res["vx86"][0]
        bad = [i for i in range(len(ref)) if ref[i] != mine[i]]
        if not bad:
            print("PASS: gtk installer: %d steps (language, Enter, tablet click on a country, "
                  "tablet click on Continue), vx86's screendump equals QEMU's at each; "
                  "the SDL window equals the screendump (QEMU %.0f s, vx86 %.0f s)"
                  % (len(ref), res["qemu"][1][-1], res["vx86"][1][-1]))
            return 0
        out = os.path.join(ROOT, "build", "gtk-installer")
        os.makedirs(out, exist_ok=True)
        for i in bad:
            open(os.path.join(out, "qemu-%d.ppm" % (i + 1)), "wb").write(ref[i])
            open(os.path.join(out, "vx86-%d.ppm" % (i + 1)), "wb").write(mine[i])
        print("FAIL: gtk installer: step %d differs: %s (pictures in %s)"
              % (bad[0] + 1, vg.describe_diff(ref[bad[0]], mine[bad[0]]), out))
        return 1
    finally:
        if a.keep:
            os.makedirs(a.keep, exist_ok=True)
            for tag, pics in seen.items():
                for i, (t, pic) in enumerate(pics):
                    open(os.path.join(a.keep, "%s-%03d-%04d.ppm" % (tag, i, t)), "wb").write(pic)
        xvfb.kill()
        xvfb.wait()
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
