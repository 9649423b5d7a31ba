#!/usr/bin/env python3
"""System test (issue 12, check-full): Debian's installer boots from a GRUB
ISO made here to its first dialog ("Select a language") on the VGA text
screen, and vx86's screendump of that screen equals QEMU's, pixel for pixel.

  tests/system/installer.py [--vx86 PATH] [--qemu PATH] [--keep DIR] [--iso ISO]

The ISO (tests/guest/mkgrub.sh iso) holds the text-mode kernel and initrd
of Debian's debian-installer-12-netboot-amd64 package and a grub.cfg that
boots them in VGA text mode (GRUB's console terminal, gfxpayload=text;
fb=false nomodeset keep the kernel on the text console).  Each
emulator runs with -display none and a human monitor on a Unix socket;
every POLL seconds a screendump is taken; the dialog is up when a tenth
of the screen or more is the installer's blue background and the picture
has not changed for STABLE seconds.  QEMU's picture is the reference; the
pictures are kept on a mismatch (build/installer/ unless --keep).
Uses tests/vga/vgadiff's monitor client and PPM reader.
"""
import argparse
import importlib.machinery
import importlib.util
import os
import shutil
import subprocess
import sys
import tempfile
import time

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
DI = "/usr/lib/debian-installer/images/12/amd64/text/debian-installer/amd64"
POLL = 2.0
STABLE = 8.0
LIMIT = 420.0

GRUB_CFG = """terminal_output console
set timeout=0
menuentry "Debian installer (text)" {
    set gfxpayload=text
    linux /boot/linux fb=false nomodeset --- quiet
    initrd /boot/initrd.gz
}
"""


def load_vgadiff():
    path = os.path.join(ROOT, "tests", "vga", "vgadiff")
    loader = importlib.machinery.SourceFileLoader("vgadiff", path)
    spec = importlib.util.spec_from_loader("vgadiff", loader)
    mod = importlib.util.module_from_spec(spec)
    loader.exec_module(mod)
    return mod


vg = load_vgadiff()


def blue_fraction(ppm):
    w, h, px = vg.read_ppm(ppm)
    blue = 0
    for i in range(0, len(px), 3 * 7):           # a sample is enough
        r, g, b = px[i], px[i + 1], px[i + 2]
        if b >= 0x80 and r < 0x40 and g < 0x40:
            blue += 1
    return blue / max(1, len(px) // (3 * 7))


def run(argv, iso, tmp, tag):
    """Boots the ISO; returns (ppm bytes of the stable dialog screen, seconds)."""
    sock = os.path.join(tmp, tag + ".sock")
    cmd = argv + ["-m", "1G", "-cdrom", iso, "-display", "none", "-serial", "none",
                  "-monitor", "unix:%s,server,nowait" % sock]
    p = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    t0 = time.monotonic()
    try:
        mon = vg.Monitor(sock)
        last, since, n = None, None, 0
        while time.monotonic() - t0 < LIMIT:
            if p.poll() is not None:
                raise RuntimeError("%s exited (%s): %s" % (tag, p.returncode,
                                                           p.stderr.read().decode()[-500:]))
            out = os.path.join(tmp, "%s-%d.ppm" % (tag, n % 2))
            n += 1
            mon.cmd("screendump " + out)
            if not os.path.exists(out):
                raise RuntimeError("%s: screendump wrote nothing" % tag)
            pic = open(out, "rb").read()
            now = time.monotonic()
            if pic != last:
                last, since = pic, now
            elif blue_fraction(pic) >= 0.1 and now - since >= STABLE:
                mon.quit()
                return pic, now - t0
            time.sleep(POLL)
        raise RuntimeError("%s: no stable installer dialog after %d s" % (tag, LIMIT))
    finally:
        if p.poll() is None:
            p.kill()
        p.wait()


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--vx86", default=os.path.join(ROOT, "vx86"))
    ap.add_argument("--qemu", default="qemu-system-x86_64")
    ap.add_argument("--keep")
    ap.add_argument("--iso")
    a = ap.parse_args()
    for f in ("linux", "initrd.gz"):
        if not os.path.exists(os.path.join(DI, f)):
            print("FAIL: %s/%s is missing (Debian package debian-installer-12-netboot-amd64; "
                  "scripts/deps.sh test)" % (DI, f))
            return 1
    tmp = tempfile.mkdtemp(prefix="vx86-installer.")
    try:
        iso = a.iso
        if not iso:
            cfg = os.path.join(tmp, "grub.cfg")
            open(cfg, "w").write(GRUB_CFG)
            iso = os.path.join(tmp, "installer.iso")
            subprocess.run([os.path.join(ROOT, "tests", "guest", "mkgrub.sh"), "iso", iso, cfg,
                            os.path.join(DI, "linux"), os.path.join(DI, "initrd.gz")], check=True)
        try:
            ref, tq = run([a.qemu, "-accel", "tcg"], iso, tmp, "qemu")
            mine, tv = run([a.vx86, "-accel", "tcg"], iso, tmp, "vx86")
        except RuntimeError as e:
            print("FAIL: %s" % e)
            return 1
        if ref == mine:
            print("PASS: installer language dialog: vx86's screendump equals QEMU's "
                  "(QEMU %.0f s, vx86 %.0f s to a stable dialog)" % (tq, tv))
            return 0
        keep = a.keep or os.path.join(ROOT, "build", "installer")
        os.makedirs(keep, exist_ok=True)
        open(os.path.join(keep, "qemu.ppm"), "wb").write(ref)
        open(os.path.join(keep, "vx86.ppm"), "wb").write(mine)
        print("FAIL: installer dialog differs: %s (pictures in %s)"
              % (vg.describe_diff(ref, mine), keep))
        return 1
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
