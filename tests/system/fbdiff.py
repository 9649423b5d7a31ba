#!/usr/bin/env python3
"""
Linux's framebuffer drivers on the standard VGA, against QEMU: the Debian
test guest draws four colour bands into /dev/fb0 (fbcon detached, so
nothing else draws), then each emulator's monitor takes a screendump.

  bochs-drm  -kernel with vx86.modules=fb: the bochs DRM driver sets its
             mode through the Bochs VBE (DISPI) registers and draws into
             the linear framebuffer BAR.
  vesafb     -bios SeaBIOS -kernel ... vga=0x318: the kernel's setup code
             asks the VGA BIOS (vgabios-stdvga) for VESA mode 0x118
             1024x768 in real mode, vesafb then uses the linear
             framebuffer that mode reported.
  gfxterm    a GRUB ISO (grub-mkrescue) whose menu GRUB draws through VBE
             at 1024x768x32: vx86's screendump equal to QEMU's.

Each case asserts the bands where the guest's own fb geometry
(/sys/class/graphics/fb0) says they are, and that vx86's screendump equals
QEMU's pixel for pixel (QEMU's screendump is the reference).

    tests/system/fbdiff.py VX86 KERNEL INITRD_FB
Prints PASS:/FAIL:; exit status 1 on a failure.
"""
import os
import re
import select
import shutil
import socket
import subprocess
import sys
import tempfile
import time

VX86, KERNEL, INITRD = sys.argv[1:4]
BIOS = "/usr/share/seabios/bios-256k.bin"
QEMU = shutil.which("qemu-system-x86_64")
BANDS = [(255, 0, 0), (0, 255, 0), (0, 0, 255), (255, 255, 255)]
BAND_ROWS = 64
failed = False

# The guest's side: detach fbcon, read the geometry, draw the bands.
# Pixels are built from printf octal escapes and doubled with cat (busybox
# has no tool that writes binary patterns directly).  The whole screen goes
# in one write(): DRM's fbdev emulation turns each write into a damage
# rectangle for its shadow-buffer flush, and partial-line writes (what cat
# and head do in chunks) give rectangles that depend on when the flush
# worker runs.
GUEST_SCRIPT = r"""
for v in /sys/class/vtconsole/vtcon*; do grep -q frame $v/name && echo 0 >$v/bind; done
echo 0 >/sys/class/graphics/fbcon/cursor_blink 2>/dev/null
g=/sys/class/graphics/fb0
bpp=$(cat $g/bits_per_pixel); stride=$(cat $g/stride)
echo "FBGEOM $(cat $g/virtual_size) $bpp $stride $(cat $g/name | tr ' ' _)"
px() { if [ $bpp = 32 ]; then printf "\\$3\\$2\\$1\\000"; else printf "\\$3\\$2\\$1"; fi; }
band() { px $1 $2 $3 >/tmp/p; while [ $(wc -c </tmp/p) -lt $((stride * 64)) ]; do cat /tmp/p /tmp/p >/tmp/q; mv /tmp/q /tmp/p; done; head -c $((stride * 64)) /tmp/p; }
{ band 377 000 000; band 000 377 000; band 000 000 377; band 377 377 377; } >/tmp/fb
size=$((stride * $(cut -d, -f2 $g/virtual_size)))
head -c $((size - stride * 256)) /dev/zero >>/tmp/fb
dd if=/tmp/fb of=/dev/fb0 bs=$size count=1 2>/dev/null
sleep 1
echo FB''DONE
"""


def result(ok, what, detail=""):
    global failed
    print(("PASS: fb: " if ok else "FAIL: fb: ") + what + ("" if ok else ": " + detail))
    failed |= not ok


def read_ppm(data):
    parts, i = [], 0
    while len(parts) < 4:
        while data[i:i + 1].isspace():
            i += 1
        j = i
        while not data[j:j + 1].isspace():
            j += 1
        parts.append(data[i:j])
        i = j
    i += 1
    w, h = int(parts[1]), int(parts[2])
    return w, h, data[i:i + 3 * w * h]


def monitor_cmd(path, line, timeout=30):
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    end = time.time() + timeout
    while True:
        try:
            s.connect(path)
            break
        except OSError:
            if time.time() > end:
                raise
            time.sleep(0.1)
    s.settimeout(timeout)
    buf = b""

    def prompt():
        nonlocal buf
        while not re.search(rb"\((qemu|vx86)\) $", buf):
            b = s.recv(4096)
            if not b:
                break
            buf += b
        out, buf = buf, b""
        return out
    prompt()
    s.sendall(line.encode() + b"\n")
    out = prompt()
    s.close()
    return out


def run(tag, argv, append, tmp):
    """Boots, draws, screendumps: (geometry line, (w, h, rgb)) or raises."""
    sock = os.path.join(tmp, tag + ".sock")
    cmd = argv + ["-m", "256M", "-display", "none", "-kernel", KERNEL, "-initrd", INITRD,
                  "-append", append, "-serial", "stdio",
                  "-monitor", "unix:%s,server,nowait" % sock]
    p = subprocess.Popen(cmd, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                         stderr=subprocess.STDOUT)
    out = b""

    def until(pat, timeout):
        nonlocal out
        end = time.time() + timeout
        while pat not in out and time.time() < end:
            if select.select([p.stdout], [], [], 0.5)[0]:
                b = p.stdout.read1(65536)
                if not b:
                    break
                out += b
        return pat in out
    try:
        if not until(b"vx86-guest ready", 240):
            raise RuntimeError("%s: no shell: %r" % (tag, out[-300:]))
        time.sleep(1)
        p.stdin.write(GUEST_SCRIPT.encode())
        p.stdin.flush()
        if not until(b"FBDONE", 120):
            raise RuntimeError("%s: the guest did not draw: %r" % (tag, out[-400:]))
        time.sleep(0.5)
        geom = re.search(rb"FBGEOM (\d+),(\d+) (\d+) (\d+) (\S+)", out)
        if not geom:
            raise RuntimeError("%s: no fb0: %r" % (tag, out[-400:]))
        ppm = os.path.join(tmp, tag + ".ppm")
        monitor_cmd(sock, "screendump " + ppm)
        end = time.time() + 10
        while not os.path.exists(ppm) and time.time() < end:
            time.sleep(0.1)
        with open(ppm, "rb") as f:
            pic = read_ppm(f.read())
        return geom, pic
    finally:
        p.kill()
        p.wait()


def bands_ok(geom, pic):
    xres, yres = int(geom.group(1)), int(geom.group(2))
    w, h, rgb = pic
    if (w, h) != (xres, yres):
        return "screendump is %dx%d, fb0 says %dx%d" % (w, h, xres, yres)
    for b, colour in enumerate(BANDS):
        for y in (b * BAND_ROWS, b * BAND_ROWS + BAND_ROWS - 1):
            for x in (0, w // 2, w - 1):
                o = 3 * (y * w + x)
                if tuple(rgb[o:o + 3]) != colour:
                    return "pixel (%d,%d) is %s, want %s" % (x, y, tuple(rgb[o:o + 3]), colour)
    return None


def compare(a, b):
    if a[:2] != b[:2]:
        return "sizes %dx%d vs %dx%d" % (a[0], a[1], b[0], b[1])
    if a[2] == b[2]:
        return None
    w = a[0]
    for i in range(0, len(a[2]), 3):
        if a[2][i:i + 3] != b[2][i:i + 3]:
            return "first difference at (%d,%d): %s vs %s" % (
                (i // 3) % w, (i // 3) // w, tuple(a[2][i:i + 3]), tuple(b[2][i:i + 3]))
    return "lengths differ"


CASES = [
    ("bochs-drm", [], [], "console=ttyS0 vx86.modules=fb", b"bochs"),
    ("vesafb", ["-bios", BIOS], [], "console=ttyS0 vga=0x318", b"VESA"),
]

# GRUB's gfxterm: SeaBIOS boots a GRUB ISO whose menu is drawn through the
# VBE linear framebuffer at 1024x768x32 (and mirrored on the serial line,
# which says when it is drawn).
GRUB_CFG = """serial --unit=0 --speed=115200
terminal_input serial console
loadfont unicode
insmod all_video
insmod gfxterm
set gfxmode=1024x768x32
terminal_output gfxterm serial
set timeout=-1
menuentry "vx86 gfxterm test" { true }
menuentry "second entry" { true }
"""


def run_grub(tag, argv, iso, tmp):
    sock = os.path.join(tmp, tag + ".sock")
    p = subprocess.Popen(argv + ["-m", "128M", "-display", "none", "-cdrom", iso,
                                 "-serial", "stdio", "-monitor", "unix:%s,server,nowait" % sock],
                         stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    out = b""
    try:
        end = time.time() + 120
        while b"second entry" not in out and time.time() < end:
            if select.select([p.stdout], [], [], 0.5)[0]:
                b = p.stdout.read1(65536)
                if not b:
                    break
                out += b
        if b"second entry" not in out:
            raise RuntimeError("%s: no GRUB menu: %r" % (tag, out[-300:]))
        time.sleep(2)
        ppm = os.path.join(tmp, tag + ".ppm")
        monitor_cmd(sock, "screendump " + ppm)
        end = time.time() + 10
        while not os.path.exists(ppm) and time.time() < end:
            time.sleep(0.1)
        with open(ppm, "rb") as f:
            return read_ppm(f.read())
    finally:
        p.kill()
        p.wait()


def grub_case(tmp):
    cfg = os.path.join(tmp, "grub.cfg")
    with open(cfg, "w") as f:
        f.write(GRUB_CFG)
    iso = os.path.join(tmp, "gfxterm.iso")
    r = subprocess.run(["tests/guest/mkgrub.sh", "iso", iso, cfg], capture_output=True, text=True)
    if r.returncode:
        result(False, "gfxterm: GRUB ISO", r.stderr[-300:])
        return
    try:
        vpic = run_grub("gfxterm-vx86", [VX86], iso, tmp)
        qpic = run_grub("gfxterm-qemu", [QEMU, "-accel", "tcg"], iso, tmp)
    except (RuntimeError, OSError) as e:
        result(False, "gfxterm", str(e))
        return
    w, h, rgb = vpic
    colours = len(set(rgb[i:i + 3] for i in range(0, len(rgb), 3 * 97)))
    result((w, h) == (1024, 768) and colours > 1, "gfxterm: GRUB's menu at 1024x768 on vx86's screendump",
           "%dx%d, %d colours" % (w, h, colours))
    why = compare(vpic, qpic)
    result(why is None, "gfxterm: vx86's screendump equals QEMU's", why or "")

if not QEMU:
    print("FAIL: fb: qemu-system-x86_64 not found (scripts/deps.sh test)")
    sys.exit(1)
tmp = tempfile.mkdtemp(prefix="vx86-fb.")
try:
    for name, vx_extra, q_extra, append, driver in CASES:
        try:
            vgeom, vpic = run(name + "-vx86", [VX86] + vx_extra, append, tmp)
            qgeom, qpic = run(name + "-qemu", [QEMU, "-accel", "tcg"] + q_extra, append, tmp)
        except (RuntimeError, OSError) as e:
            result(False, name, str(e))
            continue
        result(driver.lower() in vgeom.group(5).lower(),
               "%s drives fb0 (%s %sx%s %s bpp)" % (name, vgeom.group(5).decode(), vgeom.group(1).decode(),
                                                   vgeom.group(2).decode(), vgeom.group(3).decode()),
               "fb0 is %s" % vgeom.group(0).decode())
        result(vgeom.group(0) == qgeom.group(0), "%s: the same mode as under QEMU" % name,
               "vx86 %s, QEMU %s" % (vgeom.group(0).decode(), qgeom.group(0).decode()))
        why = bands_ok(vgeom, vpic)
        result(why is None, "%s: the guest's colour bands on vx86's screendump" % name, why or "")
        why = compare(vpic, qpic)
        result(why is None, "%s: vx86's screendump equals QEMU's" % name, why or "")
    grub_case(tmp)
finally:
    if failed and os.environ.get("FB_KEEP"):
        print("pictures kept in " + tmp)
    else:
        shutil.rmtree(tmp)
sys.exit(1 if failed else 0)
