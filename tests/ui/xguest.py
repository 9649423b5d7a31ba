#!/usr/bin/env python3
"""A graphical guest in the SDL window: Debian's Xorg and xterm.

  tests/ui/xguest.py [--vx86 PATH] [--image IMG] [--keep DIR] [--qemu]

The guest is a Debian 12 disk made from Debian's packages with debootstrap
(tests/ui/mkxguest.sh, cached under .cache/xguest/, rebuilt when its recipe
changes), booted by GRUB from -hda: its init (tests/ui/xguest/vx86-xtest)
lets udev load bochs-drm, uhci_hcd and usbhid, starts Xorg with the
modesetting driver at 1024x768 depth 24 and one full-screen xterm, and
reports on the serial port what X runs on and where X's pointer is.

vx86 runs it with -display sdl on a private Xvfb server (-usb -device
usb-tablet, the disk with snapshot=on: the cached image is never written):

  - X runs the modesetting driver on the kernel's bochs-drm, 1024x768 at
    depth 24 / 32 bits per pixel (as the guest's Xorg and xdpyinfo say);
  - a shell command typed with `xdotool type` into the window runs in the
    xterm: the shell's own arithmetic reaches the serial log (the keyboard
    path end to end: SDL -> i8042 -> atkbd -> libinput -> X -> xterm);
  - `xdotool mousemove` over the window moves X's pointer (read in the
    guest with xdotool getmouselocation) to the proportional position
    (SDL -> usb-tablet -> uhci_hcd/usbhid -> libinput -> X);
  - a screenshot of the window (`import -window`) equals vx86's screendump.

--xhci puts the tablet on -device qemu-xhci instead of -usb's UHCI.
--qemu runs the same guest and checks in qemu-system-x86_64 -accel tcg
(with -display sdl: the oracle that tells a guest fault from a vx86 one).
"""
import argparse
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import ui  # noqa: E402
from ui import check, wait_until, run  # noqa: E402

ROOT = ui.ROOT
IMAGE = os.path.join(ROOT, ".cache", "xguest", "xguest.img")
BOOT_TIMEOUT = 1200          # GRUB, Linux, udev and Xorg under the translator
STEP_TIMEOUT = 60
HINT = "run scripts/deps.sh test as root"


class XGuest(ui.Guest):
    """vx86 (or QEMU) booting the image, its serial port in a file, the
    human monitor on a unix socket (for screendump)."""

    def __init__(self, binary, tmp, tag, image, env, qemu=False, xhci=False):
        self.log = os.path.join(tmp, tag + ".serial")
        self.sock = os.path.join(tmp, tag + ".sock")
        self.err = os.path.join(tmp, tag + ".err")
        for f in (self.log, self.sock):
            if os.path.exists(f):
                os.unlink(f)        # a --keep folder's last run
        cmd = [binary, "-accel", "tcg", "-m", "1G", "-name", "xguest",
               "-drive", "file=%s,format=raw,if=ide,snapshot=on" % image,
               ] + (["-device", "qemu-xhci"] if xhci else ["-usb"]) + [
               "-device", "usb-tablet",
               "-serial", "file:" + self.log,
               "-monitor", "unix:%s,server,nowait" % self.sock,
               "-display", "sdl"]
        if qemu:
            cmd += ["-vga", "std"]
        self.started = time.time()
        self.p = subprocess.Popen(cmd, stdout=subprocess.DEVNULL,
                                  stderr=open(self.err, "wb"), env=env)
        self.mon = None
        self.prompt = b"(qemu) " if qemu else b"(vx86) "

    def line(self, tag):
        """The rest of the last serial line starting with tag."""
        m = re.findall(r"^%s (.*?)\r?$" % re.escape(tag), self.text(), re.M)
        return m[-1] if m else None

    def wait_boot(self):
        def up():
            t = self.text()
            return "XG-X-UP" in t or "XG-FAIL" in t or self.p.poll() is not None
        wait_until(up, BOOT_TIMEOUT, 1)
        return "XG-X-UP" in self.text()

    def pointer(self):
        m = re.findall(r"^XG-POINTER (\d+) (\d+)\r?$", self.text(), re.M)
        return tuple(map(int, m[-1])) if m else None


def tail(text, n=30):
    return "\n  ".join(text.splitlines()[-n:])


def keyboard_check(g, win, env, tag):
    # The pointer over the window gives it the focus (no window manager);
    # it also puts X's pointer over the xterm.
    run(["xdotool", "mousemove", "--window", win, "512", "384"], env=env)
    time.sleep(1)
    cmd = "echo XT-$((6*7))-$((100+23)) >/dev/ttyS0"
    t0 = time.time()
    run(["xdotool", "type", "--delay", "60", cmd], env=env)
    run(["xdotool", "key", "Return"], env=env)
    ok = wait_until(lambda: re.search(r"^XT-42-123\r?$", g.text(), re.M), STEP_TIMEOUT, 0.2)
    check(bool(ok), "%s: 'echo XT-$((6*7))-$((100+23)) >/dev/ttyS0' typed into the xterm "
          "prints XT-42-123 on the serial port (%.1f s)" % (tag, time.time() - t0),
          tail(g.text(), 10))


def tablet_check(g, win, env, tag):
    ww, wh = ui.window_size(win, env)
    sw, sh = 1024, 768                  # the guest's X screen
    # The last move comes after 5 s without input: Linux has autosuspended
    # the tablet (usbcore's 2 s delay) and the UHCI bus by then, so it
    # needs the device's remote wakeup.
    for fx, fy, idle in [(0.2, 0.25, 0), (0.8, 0.7, 0), (0.5, 0.1, 0), (0.3, 0.6, 5)]:
        time.sleep(idle)
        px, py = int(ww * fx), int(wh * fy)
        want = (px * sw // ww, py * sh // wh)
        run(["xdotool", "mousemove", "--window", win, str(px), str(py)], env=env)
        near = lambda p: p and abs(p[0] - want[0]) <= 3 and abs(p[1] - want[1]) <= 3
        t0 = time.time()
        got = wait_until(lambda: near(g.pointer()) and g.pointer(), STEP_TIMEOUT, 0.2)
        check(bool(got), "%s: %sxdotool mousemove %d,%d in the %dx%d window -> X pointer "
              "~%d,%d (%.1f s)" % (tag, "after %d s idle, " % idle if idle else "", px, py, ww,
                                    wh, want[0], want[1], time.time() - t0),
              "X pointer at %s" % (g.pointer(),))


def run_guest(binary, image, tmp, tag, qemu=False, xhci=False):
    xvfb, display = ui.start_xvfb()
    env = ui.display_env(display)
    g = XGuest(binary, tmp, tag, image, env, qemu, xhci)
    try:
        up = g.wait_boot()
        boot_s = time.time() - g.started
        if not check(up, "%s: the guest starts X and the xterm (%.0f s)" % (tag, boot_s),
                     "%s\n  %s" % (g.stderr(), tail(g.text()))):
            return
        print("%s: boot to X and xterm: %.0f s" % (tag, boot_s))
        drv = g.line("XG-DRM-DRIVER")
        check(drv == "bochs-drm", "%s: the VGA is driven by bochs-drm" % tag, str(drv))
        xorg = g.line("XG-XORG")
        check(xorg == "modeset(0): using drv /dev/dri/card0",
              "%s: Xorg runs the modesetting driver on /dev/dri/card0" % tag, str(xorg))
        scr = g.line("XG-SCREEN")
        check(scr == "1024x768 depth 24, bits_per_pixel 32",
              "%s: X screen 1024x768, depth 24, 32 bits per pixel" % tag, str(scr))
        inputs = g.line("XG-XINPUT") or ""
        check("QEMU QEMU USB Tablet" in inputs or "USB Tablet" in inputs,
              "%s: X has the usb-tablet as an input device" % tag, inputs)
        check(g.wait_log("XG-SHELL-READY", STEP_TIMEOUT), "%s: the xterm runs a shell" % tag)

        out = run(["xdotool", "search", "--sync", "--onlyvisible", "--name", "^(vx86|QEMU)"],
                  env=env)
        wins = out.stdout.decode().split()
        if not check(bool(wins), "%s: the SDL window exists" % tag):
            return
        win = wins[0]
        keyboard_check(g, win, env, tag)
        tablet_check(g, win, env, tag)
        if not qemu:
            ok, why = ui.window_matches_dump(g, win, env, tmp)
            check(ok, "%s: window == screendump" % tag, why)
    finally:
        g.stop()
        xvfb.kill()
        xvfb.wait()


def build_image(image):
    script = os.path.join(ROOT, "tests", "ui", "mkxguest.sh")
    os.makedirs(os.path.dirname(image), exist_ok=True)
    t0 = time.time()
    p = subprocess.run([script, image], stderr=subprocess.PIPE)
    err = p.stderr.decode(errors="replace")
    sys.stderr.write(err)
    ok = check(p.returncode == 0, "xguest: the Debian image is built (%.0f s)" % (time.time() - t0),
               err.strip().splitlines()[-1] if err.strip() else "")
    return ok


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--vx86", default=os.path.join(ROOT, "vx86"))
    ap.add_argument("--image", default=IMAGE)
    ap.add_argument("--keep")
    ap.add_argument("--qemu", action="store_true")
    ap.add_argument("--xhci", action="store_true",
                    help="the tablet on -device qemu-xhci instead of -usb's UHCI")
    ap.add_argument("--no-build", action="store_true", help="use --image as it is")
    a = ap.parse_args()
    tools = ["Xvfb", "xdotool", "import", "xwininfo", "debootstrap"]
    missing = [t for t in tools if not shutil.which(t, path=os.environ.get("PATH", "") +
                                                    ":/usr/sbin:/sbin")]
    for t in missing:
        check(False, "xguest: %s installed" % t, HINT)
    if missing:
        return 1
    tmp = a.keep or tempfile.mkdtemp(prefix="vx86-xguest.")
    os.makedirs(tmp, exist_ok=True)
    try:
        if a.no_build or build_image(a.image):
            if a.qemu:
                q = shutil.which("qemu-system-x86_64")
                if check(q is not None, "qemu: qemu-system-x86_64 installed", HINT):
                    run_guest(q, a.image, tmp, "qemu" + ("-xhci" if a.xhci else ""),
                              qemu=True, xhci=a.xhci)
            else:
                run_guest(os.path.abspath(a.vx86), a.image, tmp,
                          "xguest" + ("-xhci" if a.xhci else ""), xhci=a.xhci)
    finally:
        if not a.keep:
            shutil.rmtree(tmp, ignore_errors=True)
    return ui.summary()


if __name__ == "__main__":
    sys.exit(main())
