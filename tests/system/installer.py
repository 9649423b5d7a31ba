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
every POLL seconds a screendump is taken; the dialog is up when BLUE
(5 %) of the screen or more is the installer's blue background and the picture
has not changed for STABLE seconds.  QEMU's picture is the reference; the
pictures are kept on a mismatch (build/installer/ unless --keep).
Uses tests/vga/vgadiff's monitor client and PPM reader.

With --netboot (issue 16, check-netboot-installer) the same installer
comes over the network instead: `-boot n` with `-netdev
user,tftp=DIR,bootfile=pxelinux.0` on an e1000, DIR being the package's
own netboot tree (/usr/lib/debian-installer/images/12/amd64/text): SeaBIOS
runs the NIC's iPXE ROM (ipxe-qemu), which fetches pxelinux over slirp's
TFTP; pxelinux shows Debian's boot menu (a graphics mode), the test
presses Enter once it stands still ("Install": kernel and initrd over
TFTP, vga=788), and the dialogs come up on the kernel's framebuffer.
There the test walks --steps dialogs (language, location, keyboard),
pressing Enter (the default answer) in each: every dialog's screendump
must equal QEMU's at the same step.
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
BLUE = 0.05          # of the screen: the installer's blue background (its margin on a 1280x800 framebuffer is 8 %)
LIMIT = 420.0        # to the first dialog
STEP_LIMIT = 240.0   # for each further one
NETBOOT_TREE = "/usr/lib/debian-installer/images/12/amd64/text"
MENU_STABLE = 3.0
TEXT_MODE_SIZE = (720, 400)

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


def pic_size(ppm):
    w, h, _ = vg.read_ppm(ppm)
    return w, h


def run(argv, media, tmp, tag, menu=False, steps=1):
    """Boots with the media arguments; returns ([ppm bytes of each stable
    dialog screen], seconds).  menu: a boot menu in a graphics mode comes
    first and gets Enter once it stood still.  After each dialog but the
    last, Enter takes its default answer."""
    sock = os.path.join(tmp, tag + ".sock")
    cmd = argv + ["-m", "1G"] + media + ["-display", "none", "-serial", "none",
                                         "-monitor", "unix:%s,server,nowait" % sock]
    p = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    t0 = time.monotonic()
    dialogs = []
    menu_size = None
    try:
        mon = vg.Monitor(sock)
        last, since, n = None, None, 0
        limit = LIMIT + STEP_LIMIT * (steps - 1)
        while time.monotonic() - t0 < limit:
            if p.poll() is not None:
                raise RuntimeError("%s exited (%s): %s" % (tag, p.returncode,
                                                           p.stderr.read().decode()[-500:]))
            out = os.path.join(tmp, "%s-%d.ppm" % (tag, n % 2))
            n += 1
            said = mon.cmd("screendump " + out)
            if not os.path.exists(out):
                raise RuntimeError("%s: screendump wrote nothing after %.0f s: %r" %
                                   (tag, time.monotonic() - t0, said))
            pic = open(out, "rb").read()
            now = time.monotonic()
            if pic != last:
                last, since = pic, now
            elif menu and menu_size is None:
                size = pic_size(pic)
                if size != TEXT_MODE_SIZE and now - since >= MENU_STABLE:
                    menu_size = size          # the boot menu: take its default
                    mon.cmd("sendkey ret")
            elif (blue_fraction(pic) >= BLUE and now - since >= STABLE and
                  (not dialogs or pic != dialogs[-1]) and pic_size(pic) != menu_size):
                dialogs.append(pic)
                if len(dialogs) == steps:
                    mon.quit()
                    return dialogs, now - t0
                mon.cmd("sendkey ret")        # the default answer: on to the next
            time.sleep(POLL)
        raise RuntimeError("%s: %d of %d stable installer dialogs after %d s%s" %
                           (tag, len(dialogs), steps, limit,
                            "" if not menu or menu_size else " (no boot menu)"))
    finally:
        if p.poll() is None:
            p.kill()
        p.wait()


def netboot_media(tree):
    return ["-boot", "n", "-netdev", "user,id=n0,tftp=%s,bootfile=pxelinux.0" % tree,
            "-device", "e1000,netdev=n0"]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--vx86", default=os.path.join(ROOT, "vx86"))
    ap.add_argument("--qemu", default="qemu-system-x86_64")
    ap.add_argument("--keep")
    ap.add_argument("--iso")
    ap.add_argument("--netboot", action="store_true",
                    help="boot Debian's netboot tree over TFTP instead of a GRUB ISO")
    ap.add_argument("--steps", type=int, default=None,
                    help="dialogs to walk through with Enter (default 1, --netboot 3)")
    a = ap.parse_args()
    steps = a.steps or (3 if a.netboot else 1)
    if a.netboot and not any(os.path.exists(os.path.join(d, "efi-e1000.rom"))
                             for d in ("/usr/share/qemu", "/usr/lib/ipxe/qemu")):
        print("FAIL: no efi-e1000.rom (Debian package ipxe-qemu; scripts/deps.sh)")
        return 1
    for f in ("linux", "initrd.gz"):
        if not os.path.exists(os.path.join(DI, f)):
            print("FAIL: %s/%s is missing (Debian package debian-installer-12-netboot-amd64; "
                  "scripts/deps.sh test)" % (DI, f))
            return 1
    tmp = tempfile.mkdtemp(prefix="vx86-installer.")
    try:
        iso = a.iso
        if a.netboot:
            media = netboot_media(NETBOOT_TREE)
        elif not iso:
            cfg = os.path.join(tmp, "grub.cfg")
            open(cfg, "w").write(GRUB_CFG)
            iso = os.path.join(tmp, "installer.iso")
            subprocess.run([os.path.join(ROOT, "tests", "guest", "mkgrub.sh"), "iso", iso, cfg,
                            os.path.join(DI, "linux"), os.path.join(DI, "initrd.gz")], check=True)
        if not a.netboot:
            media = ["-cdrom", iso]
        how = "netboot" if a.netboot else "ISO"
        try:
            ref, tq = run([a.qemu, "-accel", "tcg"], media, tmp, "qemu", a.netboot, steps)
            mine, tv = run([a.vx86, "-accel", "tcg"], media, tmp, "vx86", a.netboot, steps)
        except RuntimeError as e:
            print("FAIL: installer (%s): %s" % (how, e))
            return 1
        bad = [i for i in range(steps) if ref[i] != mine[i]]
        if not bad:
            print("PASS: installer (%s): %d dialog(s), vx86's screendump equals QEMU's at each "
                  "(QEMU %.0f s, vx86 %.0f s)" % (how, steps, tq, tv))
            return 0
        keep = a.keep or os.path.join(ROOT, "build", "installer")
        os.makedirs(keep, exist_ok=True)
        for i in bad:
            open(os.path.join(keep, "qemu-%d.ppm" % (i + 1)), "wb").write(ref[i])
            open(os.path.join(keep, "vx86-%d.ppm" % (i + 1)), "wb").write(mine[i])
        print("FAIL: installer (%s): dialog %d differs: %s (pictures in %s)"
              % (how, bad[0] + 1, vg.describe_diff(ref[bad[0]], mine[bad[0]]), keep))
        return 1
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
