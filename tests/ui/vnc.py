#!/usr/bin/env python3
"""The VNC server (-vnc) against real clients.

  tests/ui/vnc.py [--vx86 PATH] [--keep DIR] [WHAT...]
  WHAT: snapshot viewer alongside resize password robust errors linux
        (default: all of these, `make check-vnc`) and browser
        (`make check-vnc-browser`)

Guests: tests/ui/ui-keys.c (build/testrom/ui-keys.bin: a known text
screen; every byte it reads from the i8042 printed on the debug console),
tests/ui/vnc-modes.c (F2/F3 switch between 720x400 text and mode 13h),
and the test Linux guest booted by GRUB from a CD with console=tty0.
The reference picture is always the guest's own screendump (monitor).

snapshot: Debian's vncsnapshot grabs a frame (lossless transfer, JPEG at
  quality 100: a channel may differ by a few levels) equal to the
  screendump; two at once; over -vnc unix:PATH; with -display vnc=:N.
viewer (Xvfb): xtightvncviewer shows the screen; xdotool typing into its
  window reaches the guest as a PC keyboard's scan codes; after typing,
  only the changed cells travel (bytes counted through a proxy, raw
  encoding); pointer motion reaches the PS/2 mouse as the exact relative
  motion; two viewers at once; a viewer killed with a key held releases it.
alongside (Xvfb): -display sdl -vnc: both show the screen.
resize (Xvfb): xtigervncviewer's window follows the guest's mode changes
  (desktop size) and shows the new screen; vncsnapshot too.
password: password=on refuses everyone until `change vnc password` (the
  monitor prompts, no echo) sets one; vncsnapshot with a vncpasswd file of
  the wrong password is refused, the right one accepted; QMP
  change-vnc-password replaces it.
robust: garbage, half messages, abrupt disconnects, a connection flood and
  a client that never reads leave the VM running and answering, and the
  next client gets the right picture.
errors: a port in use, bad -vnc options: one line, exit status 1.
linux (Xvfb): typed into xtightvncviewer, a shell command in the Linux
  guest on tty0 writes a marker to the serial port (-serial file:).
browser (check-full): headless Chromium opens noVNC's vnc.html (Debian's
  novnc, served from /usr/share/novnc) on the WebSocket port; its
  screenshot shows the screendump.
"""
import argparse
import os
import random
import re
import shutil
import socket
import struct
import subprocess
import sys
import tempfile
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import ui  # noqa: E402
from ui import check, wait_until, start_xvfb, expect_codes, window_size, display_env  # noqa: E402

ROOT = ui.ROOT
IMG = ui.IMG
MODES_IMG = os.path.join(ROOT, "build", "testrom", "vnc-modes.bin")
TIMEOUT = 30
CELL = (9, 16)
# ui-keys.bin's blinking cursor (column 10, row 12).
CURSOR_CELL = (10, 12)


# ---- helpers ----

def port_free(port):
    s = socket.socket()
    try:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        s.bind(("0.0.0.0", port))
        return True
    except OSError:
        return False
    finally:
        s.close()


def free_display():
    """A display number N whose VNC (5900+N) and WebSocket (5700+N) ports
    are free."""
    for _ in range(200):
        n = random.randint(20, 99)
        if port_free(5900 + n) and port_free(5700 + n):
            return n
    raise RuntimeError("no free VNC display")


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    p = s.getsockname()[1]
    s.close()
    return p


def load_rgb(path):
    """(w, h, rgb bytes) of an image file."""
    out = subprocess.run(["convert", path, "-depth", "8", "ppm:-"], capture_output=True,
                         timeout=TIMEOUT).stdout
    if not out.startswith(b"P6"):
        return 0, 0, b""
    fields, i = [], 2
    while len(fields) < 3:
        while out[i:i + 1].isspace():
            i += 1
        j = i
        while not out[j:j + 1].isspace():
            j += 1
        fields.append(int(out[i:j]))
        i = j
    return fields[0], fields[1], out[i + 1:]


def crop(img, x, y, w, h):
    W, _, px = img
    return w, h, b"".join(px[((y + r) * W + x) * 3:((y + r) * W + x + w) * 3] for r in range(h))


def bad_cells(a, b, tol=0):
    """Text cells (9x16) holding a pixel whose channels differ by more
    than tol; None when the sizes differ."""
    if a[:2] != b[:2]:
        return None
    w = a[0]
    pa, pb = a[2], b[2]
    cells = set()
    if tol == 0 and pa == pb:
        return cells
    for i in range(0, len(pa), 3):
        if pa[i:i + 3] != pb[i:i + 3] and max(abs(pa[i + k] - pb[i + k]) for k in range(3)) > tol:
            p = i // 3
            cells.add(((p % w) // CELL[0], (p // w) // CELL[1]))
    return cells


def matches(shot, dump, tol=0, ignore=()):
    """(ok, detail): shot shows dump, except the ignore cells."""
    cells = bad_cells(shot, dump, tol)
    if cells is None:
        return False, "size %dx%d, screendump %dx%d" % (shot[0], shot[1], dump[0], dump[1])
    left = sorted(cells - set(ignore))
    if left:
        return False, "%d cells differ, first %s" % (len(left), left[:4])
    return True, ""


def compare_until(grab, dump_fn, tol=0, blink=None, tries=8):
    """A client's picture equals the screendump.  A blinking cursor may be
    in the other phase in one of them: a few tries, and at the last the
    blink cell is left out."""
    detail = ""
    for i in range(tries):
        dump = dump_fn()
        shot = grab()
        ok, detail = matches(shot, dump, tol, [blink] if blink and i == tries - 1 else [])
        if ok:
            return True, ""
        time.sleep(0.15)
    return False, detail


def snapshot(display, out, passwd=None, host="127.0.0.1", timeout=20):
    """vncsnapshot: lossless transfer (no JPEG encoding), saved as JPEG at
    quality 100.  Returns (returncode, image or None)."""
    if os.path.exists(out):
        os.unlink(out)
    cmd = ["vncsnapshot", "-quiet", "-nojpeg", "-nocursor", "-quality", "100"]
    if passwd:
        cmd += ["-passwd", passwd]
    try:
        # No terminal: asked for a password it has not got, it fails at
        # once instead of prompting.
        r = subprocess.run(cmd + ["%s:%s" % (host, display), out], stdin=subprocess.DEVNULL,
                           capture_output=True, timeout=timeout, start_new_session=True)
    except subprocess.TimeoutExpired:
        return -1, None
    return r.returncode, load_rgb(out) if r.returncode == 0 and os.path.exists(out) else None


# vncsnapshot's file is a JPEG (quality 100): a channel may be off by a
# couple of levels; a wrong cell is off by far more.
JPEG_TOL = 8


class Vx86:
    """vx86 with a debug-console log, a human monitor and optionally QMP."""

    def __init__(self, vx86, tmp, tag, args, img=IMG, env=None, qmp=False):
        self.g = ui.Guest(vx86, tmp, tag, args + (["-qmp", "unix:%s,server,nowait" %
                                                    os.path.join(tmp, tag + ".qmp")]
                                                   if qmp else []), env=env, img=img)
        self.tmp = tmp
        self.tag = tag
        self.qmp_path = os.path.join(tmp, tag + ".qmp")
        self.n = 0

    def __getattr__(self, name):
        return getattr(self.g, name)

    def dump(self):
        self.n += 1
        path = os.path.join(self.tmp, "%s-dump%d.png" % (self.tag, self.n))
        self.g.monitor("screendump %s -f png" % path)
        return load_rgb(path)

    def qmp(self):
        sys.path.insert(0, os.path.join(ROOT, "tests", "system"))
        from qmp_lib import QMPClient
        wait_until(lambda: os.path.exists(self.qmp_path))
        q = QMPClient(self.qmp_path)
        q.cmd("qmp_capabilities")
        return q

    def monitor_raw(self, data, until):
        """Sends data to the monitor, reads until the bytes until."""
        if not self.g.mon:
            self.g.monitor("info status")
        self.g.mon.sendall(data.encode())
        buf = b""
        while not buf.endswith(until):
            chunk = self.g.mon.recv(4096)
            if not chunk:
                break
            buf += chunk
        return buf.decode("latin-1")

    def alive(self):
        """Running, answering its monitor, and the guest takes a key."""
        if self.g.p.poll() is not None:
            return False
        if "running" not in self.g.monitor("info status"):
            return False
        since = len(self.g.text())
        self.g.monitor("sendkey x")
        return bool(wait_until(lambda: "key 2d" in self.g.text()[since:], 10))


class Proxy(threading.Thread):
    """A TCP forwarder counting the bytes from the server to the client."""

    def __init__(self, target, watch=None):
        super().__init__(daemon=True)
        self.target = target
        self.watch = watch
        self.lsock = socket.socket()
        self.lsock.bind(("127.0.0.1", 0))
        self.lsock.listen(4)
        self.port = self.lsock.getsockname()[1]
        self.down = 0
        self.lock = threading.Lock()

    def run(self):
        while True:
            try:
                c, _ = self.lsock.accept()
            except OSError:
                return
            s = socket.create_connection(self.target)
            threading.Thread(target=self.pump, args=(c, s, False), daemon=True).start()
            threading.Thread(target=self.pump, args=(s, c, True), daemon=True).start()

    def pump(self, a, b, count):
        try:
            while True:
                d = a.recv(65536)
                if not d:
                    break
                if count:
                    with self.lock:
                        self.down += len(d)
                    if self.watch:
                        self.watch.feed(d)
                b.sendall(d)
        except OSError:
            pass
        for s in (a, b):
            try:
                s.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass

    def bytes_down(self):
        with self.lock:
            return self.down


class RFBWatch:
    """Follows what an RFB server sends a client that chose no
    authentication and raw encoding (RFC 6143): the rectangles of each
    FramebufferUpdate, as (x, y, w, h)."""

    def __init__(self, bpp=32):
        self.buf = b""
        self.bpp = bpp
        self.state = "version"
        self.rects = []            # every pixel rectangle received
        self.lock = threading.Lock()

    def feed(self, data):
        with self.lock:
            self.buf += data
            while self.step():
                pass

    def take(self, n):
        if len(self.buf) < n:
            return None
        d, self.buf = self.buf[:n], self.buf[n:]
        return d

    def step(self):
        b = self.buf
        if self.state == "version":
            return self.take(12) is not None and self.go("types")
        if self.state == "types":
            if not b or len(b) < 1 + b[0]:
                return False
            self.take(1 + b[0])
            return self.go("result")
        if self.state == "result":
            return self.take(4) is not None and self.go("init")
        if self.state == "init":
            if len(b) < 24 or len(b) < 24 + struct.unpack(">I", b[20:24])[0]:
                return False
            self.take(24 + struct.unpack(">I", b[20:24])[0])
            return self.go("msg")
        if self.state == "msg":
            if not b:
                return False
            if b[0] == 0:                           # FramebufferUpdate
                if len(b) < 4:
                    return False
                self.left = struct.unpack(">H", b[2:4])[0]
                self.take(4)
                return self.go("rect")
            if b[0] == 2:                           # Bell
                return self.take(1) is not None
            if b[0] == 3:                           # ServerCutText
                if len(b) < 8 or len(b) < 8 + struct.unpack(">I", b[4:8])[0]:
                    return False
                return self.take(8 + struct.unpack(">I", b[4:8])[0]) is not None
            raise ValueError("unexpected server message %d" % b[0])
        if self.state == "rect":
            if self.left == 0:
                return self.go("msg")
            if len(b) < 12:
                return False
            x, y, w, h, enc = struct.unpack(">HHHHi", b[:12])
            if enc == 0:                            # raw pixels
                n = 12 + w * h * self.bpp // 8
                if len(b) < n:
                    return False
                self.take(n)
                self.rects.append((x, y, w, h))
            elif enc in (-232, -223, -308):         # PointerPos, DesktopSize, ExtDesktopSize
                if enc == -308:
                    if len(b) < 16 or len(b) < 16 + 16 * b[12]:
                        return False
                    self.take(16 + 16 * b[12])
                else:
                    self.take(12)
            elif enc == -224:                       # LastRect
                self.take(12)
                self.left = 1
            else:
                raise ValueError("unexpected encoding %d" % enc)
            self.left -= 1
            return True
        return False

    def go(self, state):
        self.state = state
        return True

    def since(self, n):
        with self.lock:
            return self.rects[n:]

    def count(self):
        with self.lock:
            return len(self.rects)


class UnixBridge(Proxy):
    """TCP on a local port -> a Unix socket (for clients that speak TCP only)."""

    def run(self):
        while True:
            try:
                c, _ = self.lsock.accept()
            except OSError:
                return
            s = socket.socket(socket.AF_UNIX)
            s.connect(self.target)
            threading.Thread(target=self.pump, args=(c, s, False), daemon=True).start()
            threading.Thread(target=self.pump, args=(s, c, True), daemon=True).start()


def rfb_handshake(port, host="127.0.0.1", timeout=5):
    """Connects, agrees on RFB 3.8; returns (socket, offered security types)."""
    s = socket.create_connection((host, port), timeout=timeout)
    banner = recv_exact(s, 12)
    s.sendall(b"RFB 003.008\n")
    n = recv_exact(s, 1)[0]
    types = list(recv_exact(s, n)) if n else []
    return s, banner, types


def recv_exact(s, n):
    buf = b""
    while len(buf) < n:
        d = s.recv(n - len(buf))
        if not d:
            raise EOFError("closed after %d of %d bytes" % (len(buf), n))
        buf += d
    return buf


def vncpasswd_file(tmp, name, password):
    """A VNC password file made by TigerVNC's vncpasswd (-f: from stdin)."""
    path = os.path.join(tmp, name)
    out = subprocess.run(["vncpasswd", "-f"], input=(password + "\n").encode(),
                         capture_output=True, timeout=TIMEOUT).stdout
    with open(path, "wb") as f:
        f.write(out)
    return path


def find_window(pattern, env, timeout=TIMEOUT):
    def find():
        out = subprocess.run(["xdotool", "search", "--name", pattern], env=env,
                             capture_output=True, timeout=TIMEOUT).stdout.split()
        return out[0].decode() if out else None
    return wait_until(find, timeout)


def grab_window(win, env, tmp):
    path = os.path.join(tmp, "window.png")
    subprocess.run(["import", "-window", win, path], env=env, capture_output=True,
                   timeout=TIMEOUT)
    return load_rgb(path)


def area(rects):
    return sum(w * h for _, _, w, h in rects)


def within(rect, box):
    x, y, w, h = rect
    bx, by, bw, bh = box
    return bx <= x and x + w <= bx + bw and by <= y and y + h <= by + bh


def peak_rss_kib(pid):
    for line in open("/proc/%d/status" % pid):
        if line.startswith("VmHWM:"):
            return int(line.split()[1])
    return 0


def need(tools, what):
    missing = [t for t in tools if not shutil.which(t)]
    return check(not missing, "%s: %s installed" % (what, ", ".join(tools)),
                 "missing %s: run scripts/deps.sh test" % " ".join(missing))


# ---- snapshot ----

def snapshot_tests(vx86, tmp):
    if not need(["vncsnapshot", "convert"], "snapshot"):
        return
    d = free_display()
    g = Vx86(vx86, tmp, "snap", ["-vnc", ":%d" % d])
    try:
        if not check(g.wait_log("screen end"), "snapshot: guest ready", g.stderr()):
            return
        shot = os.path.join(tmp, "snap.jpg")
        ok, why = compare_until(lambda: snapshot(d, shot)[1] or (0, 0, b""), g.dump,
                                JPEG_TOL, CURSOR_CELL)
        check(ok, "snapshot: vncsnapshot's frame == screendump", why)

        # The same after the picture changed (keys echoed on the screen).
        g.monitor("sendkey a")
        g.monitor("sendkey b")
        ok, why = compare_until(lambda: snapshot(d, shot)[1] or (0, 0, b""), g.dump,
                                JPEG_TOL, CURSOR_CELL)
        check(ok, "snapshot: ... and after the screen changed", why)

        # Two clients at once.
        res = [None, None]

        def grab(i):
            res[i] = snapshot(d, os.path.join(tmp, "par%d.jpg" % i))
        ts = [threading.Thread(target=grab, args=(i,)) for i in range(2)]
        for t in ts:
            t.start()
        for t in ts:
            t.join()
        dump = g.dump()
        oks = [r[0] == 0 and r[1] and matches(r[1], dump, JPEG_TOL, [CURSOR_CELL])[0]
               for r in res]
        check(all(oks), "snapshot: two clients at once both get the screen",
              "results %s" % [r[0] for r in res])
        check(g.stderr() == "", "snapshot: nothing on stderr (libvncserver's log is off)",
              g.stderr()[:200])
    finally:
        g.stop()

    # -vnc unix:PATH, through a TCP bridge (vncsnapshot speaks TCP only).
    path = os.path.join(tmp, "vnc.sock")
    g = Vx86(vx86, tmp, "snapunix", ["-vnc", "unix:" + path])
    try:
        if check(g.wait_log("screen end"), "snapshot: unix: guest ready", g.stderr()):
            wait_until(lambda: os.path.exists(path), 5)
            br = UnixBridge(path)
            br.start()
            ok, why = compare_until(
                lambda: snapshot(":%d" % br.port, shot)[1] or (0, 0, b""),
                g.dump, JPEG_TOL, CURSOR_CELL)
            check(ok, "snapshot: -vnc unix:PATH serves the screen", why)
            g.monitor_raw("quit\n", b"")
            g.p.wait(10)
            check(not os.path.exists(path), "snapshot: the socket is removed at quit")
    finally:
        g.stop()

    # -display vnc=:N (QEMU's alias) with QMP: change-vnc-password needs password=on.
    d = free_display()
    g = Vx86(vx86, tmp, "snapalias", ["-display", "vnc=:%d" % d], qmp=True)
    try:
        if check(g.wait_log("screen end"), "snapshot: -display vnc=:N guest ready", g.stderr()):
            ok, why = compare_until(lambda: snapshot(d, shot)[1] or (0, 0, b""), g.dump,
                                    JPEG_TOL, CURSOR_CELL)
            check(ok, "snapshot: -display vnc=:N serves the screen", why)
            q = g.qmp()
            r = q.execute("change-vnc-password", password="x")
            check("error" in r, "snapshot: change-vnc-password without password=on is an error",
                  str(r))
            query_vnc_test(q, d)
    finally:
        g.stop()


def query_vnc_test(q, d):
    """query-vnc / info vnc name the listener and each client by the
    address the client's own socket has (QEMU's VncInfo)."""
    r = q.cmd("query-vnc")
    check(r.get("enabled") is True and r.get("service") == str(5900 + d) and
          r.get("family") in ("ipv4", "ipv6") and r.get("auth") == "none" and
          r.get("clients") == [] and "websocket" not in r,
          "query-vnc: the server (QEMU's VncInfo fields), no client yet", str(r))
    s, _, types = rfb_handshake(5900 + d)
    try:
        s.sendall(bytes([1]))                     # security type None
        recv_exact(s, 4)                          # SecurityResult
        s.sendall(bytes([1]))                     # ClientInit, shared
        recv_exact(s, 24)                         # ServerInit (before the name)
        me = str(s.getsockname()[1])
        got = wait_until(lambda: q.cmd("query-vnc")["clients"], timeout=10) or []
        check(len(got) == 1 and got[0].get("host") == "127.0.0.1" and
              got[0].get("service") == me and got[0].get("family") == "ipv4" and
              got[0].get("websocket") is False,
              "query-vnc: the client's address and port", "%s (client port %s)" % (got, me))
        text = q.hmp("info vnc")
        check(("Client: 127.0.0.1:%s (ipv4)" % me) in text and ":%d" % (5900 + d) in text,
              "info vnc: the server and the client", text)
    finally:
        s.close()
    gone = wait_until(lambda: q.cmd("query-vnc")["clients"] == [], timeout=10)
    check(gone, "query-vnc: a client that left is gone")


# ---- viewer ----

def viewer_tests(vx86, tmp):
    if not need(["Xvfb", "xdotool", "import", "xtightvncviewer"], "viewer"):
        return
    xvfb, display = start_xvfb()
    env = display_env(display)
    d = free_display()
    g = Vx86(vx86, tmp, "viewer", ["-vnc", ":%d" % d])
    viewers = []
    try:
        if not check(g.wait_log("screen end"), "viewer: guest ready", g.stderr()):
            return
        watch = RFBWatch()
        proxy = Proxy(("127.0.0.1", 5900 + d), watch)
        proxy.start()
        # Raw encoding: what was sent can be followed on the wire.
        viewers.append(subprocess.Popen(["xtightvncviewer", "-encodings", "raw",
                                         "-nocursorshape", "127.0.0.1::%d" % proxy.port],
                                        env=env, stdout=subprocess.DEVNULL,
                                        stderr=subprocess.DEVNULL))
        win = find_window("^TightVNC: vx86", env)
        if not check(win is not None, "viewer: xtightvncviewer's window"):
            return
        wait_until(lambda: window_size(win, env) == (720, 400), 5)
        first = wait_until(lambda: watch.since(0) or None, 10) or []
        check(area(first) >= 720 * 400, "viewer: the first update is the whole screen",
              str(first[:4]))
        ok, why = compare_until(lambda: grab_window(win, env, tmp), g.dump, 0, CURSOR_CELL)
        check(ok, "viewer: the window shows the screendump", why)

        # Keyboard focus follows the pointer (no window manager).
        subprocess.run(["xdotool", "mousemove", "--window", win, "20", "20"], env=env)
        time.sleep(0.3)
        xd = lambda *a: (lambda: subprocess.run(["xdotool"] + list(a), env=env))
        n0 = watch.count()
        expect_codes(g, "viewer: typed letters", xd("type", "--delay", "30", "hello"),
                     "23 a3 12 92 26 a6 26 a6 18 98".split())
        expect_codes(g, "viewer: shifted letter",
                     xd("keydown", "shift", "key", "a", "keyup", "shift"), "2a 1e 9e aa".split())
        # The viewer sends the keysym '!' for Shift+1: the 1 key.
        expect_codes(g, "viewer: a symbol ('!' is Shift+1)",
                     xd("keydown", "shift", "key", "1", "keyup", "shift"), "2a 02 82 aa".split())
        expect_codes(g, "viewer: extended keys (Up, KP_Enter, ctrl+Right)",
                     xd("key", "Up", "KP_Enter", "keydown", "ctrl", "key", "Right", "keyup",
                        "ctrl"),
                     "e0 48 e0 c8 e0 1c e0 9c 1d e0 4d e0 cd 9d".split())
        expect_codes(g, "viewer: Pause", xd("key", "Pause"), "e1 1d 45 e1 9d c5".split())
        expect_codes(g, "viewer: PrintScreen", xd("key", "Print"),
                     "e0 2a e0 37 e0 b7 e0 aa".split())
        expect_codes(g, "viewer: F1, Escape, BackSpace", xd("key", "F1", "Escape", "BackSpace"),
                     "3b bb 01 81 0e 8e".split())
        time.sleep(0.5)
        # What changed: the blinking cursor's cell (column 10, row 12) and
        # the echo rows (20-24).  Every rectangle sent lies within those.
        sent = watch.since(n0)
        stray = [r for r in sent if not (within(r, (90, 192, 9, 16)) or
                                         within(r, (0, 320, 720, 80)))]
        check(sent and not stray, "viewer: only the changed cells were sent (%d rectangles, "
              "%d pixels)" % (len(sent), area(sent)), "outside them: %s" % stray[:4])
        ok, why = compare_until(lambda: grab_window(win, env, tmp), g.dump, 0, CURSOR_CELL)
        check(ok, "viewer: the window shows the screendump after typing", why)

        # The pointer: the PS/2 mouse gets the motion between two events.
        subprocess.run(["xdotool", "mousemove", "--window", win, "100", "100"], env=env)
        time.sleep(0.5)
        since = len(g.text())
        subprocess.run(["xdotool", "mousemove", "--window", win, "130", "80"], env=env)

        def motion():
            aux = g.codes(since, "aux")
            if len(aux) < 3 or len(aux) % 3:
                return None
            dx = dy = 0
            for i in range(0, len(aux), 3):
                b0, x, y = (int(v, 16) for v in aux[i:i + 3])
                dx += x - 256 if b0 & 0x10 else x
                dy += y - 256 if b0 & 0x20 else y
            return (dx, dy) if (dx, dy) == (30, 20) else None
        got = wait_until(motion, 5)
        check(got == (30, 20), "viewer: pointer +30,-20 reaches the PS/2 mouse as dx=30 dy=+20 (up)",
              "packets %s" % g.codes(since, "aux"))
        since = len(g.text())
        subprocess.run(["xdotool", "mousedown", "1"], env=env)
        time.sleep(0.3)
        subprocess.run(["xdotool", "mouseup", "1"], env=env)
        aux = wait_until(lambda: g.codes(since, "aux") if len(g.codes(since, "aux")) >= 6
                         else None, 5)
        check(bool(aux) and int(aux[0], 16) & 0x01 and not int(aux[3], 16) & 0x01,
              "viewer: left button press and release reach the PS/2 mouse", str(aux))

        # A second viewer at the same time: both show the screen, both type.
        viewers.append(subprocess.Popen(["xtightvncviewer", "-encodings", "raw",
                                         "127.0.0.1:%d" % d], env=env,
                                        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL))
        wins = wait_until(lambda: (lambda w: w if len(w) >= 2 else None)(
            subprocess.run(["xdotool", "search", "--name", "^TightVNC: vx86"], env=env,
                           capture_output=True).stdout.split()), 10)
        if check(bool(wins), "viewer: a second viewer connects"):
            win2 = [w.decode() for w in wins if w.decode() != win][0]
            subprocess.run(["xdotool", "windowmove", win2, "800", "0"], env=env)
            time.sleep(0.5)
            ok, why = compare_until(lambda: grab_window(win2, env, tmp), g.dump, 0, CURSOR_CELL)
            check(ok, "viewer: the second window shows the screendump", why)
            subprocess.run(["xdotool", "mousemove", "--window", win2, "20", "20"], env=env)
            time.sleep(0.3)
            expect_codes(g, "viewer: keys typed in the second viewer", xd("type", "q"),
                         ["10", "90"])
            subprocess.run(["xdotool", "mousemove", "--window", win, "20", "20"], env=env)
            time.sleep(0.3)
            expect_codes(g, "viewer: ... and in the first one still", xd("type", "w"),
                         ["11", "91"])
            ok, why = compare_until(lambda: grab_window(win2, env, tmp), g.dump, 0, CURSOR_CELL)
            check(ok, "viewer: the second window follows changes made from the first", why)

        # A viewer that dies with a key held: the guest sees the release.
        subprocess.run(["xdotool", "mousemove", "--window", win, "20", "20"], env=env)
        time.sleep(0.3)
        since = len(g.text())
        subprocess.run(["xdotool", "keydown", "shift"], env=env)
        wait_until(lambda: "2a" in g.codes(since), 5)
        viewers[0].kill()
        viewers[0].wait()
        got = wait_until(lambda: "aa" in g.codes(since) and g.codes(since), 5)
        check(bool(got) and got[-1] == "aa",
              "viewer: a viewer killed with Shift held: the guest gets Shift's release",
              str(g.codes(since)))
        subprocess.run(["xdotool", "keyup", "shift"], env=env)
        check(g.alive(), "viewer: the VM runs on after a viewer was killed")
    finally:
        for v in viewers:
            v.kill()
            v.wait()
        g.stop()
        xvfb.kill()
        xvfb.wait()


# ---- next to the SDL window ----

def alongside_tests(vx86, tmp):
    if not need(["Xvfb", "xdotool", "import", "vncsnapshot"], "alongside"):
        return
    xvfb, display = start_xvfb()
    env = display_env(display)
    d = free_display()
    g = Vx86(vx86, tmp, "along", ["-display", "sdl", "-vnc", ":%d" % d], env=env)
    try:
        if not check(g.wait_log("screen end"), "alongside: guest ready", g.stderr()):
            return
        win = find_window("^vx86", env)
        if not check(win is not None, "alongside: -display sdl -vnc: the SDL window is there"):
            return
        shot = os.path.join(tmp, "along.jpg")
        g.monitor("sendkey a")
        ok, why = compare_until(lambda: snapshot(d, shot)[1] or (0, 0, b""), g.dump,
                                JPEG_TOL, CURSOR_CELL)
        check(ok, "alongside: vncsnapshot's frame == screendump", why)
        ok, why = compare_until(lambda: grab_window(win, env, tmp), g.dump, 0, CURSOR_CELL)
        check(ok, "alongside: ... and the SDL window too", why)
    finally:
        g.stop()
        xvfb.kill()
        xvfb.wait()


# ---- resize ----

def resize_tests(vx86, tmp):
    if not need(["Xvfb", "xdotool", "import", "xtigervncviewer", "vncsnapshot"], "resize"):
        return
    xvfb, display = start_xvfb()
    env = display_env(display)
    d = free_display()
    g = Vx86(vx86, tmp, "resize", ["-vnc", ":%d" % d], img=MODES_IMG)
    viewer = None
    try:
        if not check(g.wait_log("ready"), "resize: guest ready", g.stderr()):
            return
        # Lossless: TigerVNC would pick JPEG on its own.
        viewer = subprocess.Popen(["xtigervncviewer", "-AutoSelect=0", "-PreferredEncoding=raw",
                                   "-FullColor", "127.0.0.1:%d" % d], env=env,
                                  stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        win = find_window("vx86 - TigerVNC", env)
        if not check(win is not None, "resize: xtigervncviewer's window"):
            return
        shot = os.path.join(tmp, "resize.jpg")
        for key, size, name in (("", (720, 400), "text"), ("f2", (640, 400), "mode 13h"),
                                ("f3", (720, 400), "text again")):
            if key:
                n = g.text().count("mode ")
                g.monitor("sendkey " + key)
                wait_until(lambda: g.text().count("mode ") > n, 10)
            got = wait_until(lambda: window_size(win, env) == size, 10)
            check(got, "resize: %s: the viewer's window is %dx%d" % ((name,) + size),
                  "%s" % (window_size(win, env),))
            # TigerVNC's viewer lays a "Press F8 to open the context menu"
            # notice over its picture for a few seconds after a resize.
            ok, why = compare_until(lambda: grab_window(win, env, tmp), g.dump, 0, tries=50)
            check(ok, "resize: %s: the window shows the screendump" % name, why)
            ok, why = compare_until(lambda: snapshot(d, shot)[1] or (0, 0, b""), g.dump,
                                    JPEG_TOL)
            check(ok, "resize: %s: vncsnapshot's frame == screendump" % name, why)
    finally:
        if viewer:
            viewer.kill()
            viewer.wait()
        g.stop()
        xvfb.kill()
        xvfb.wait()


# ---- password ----

def password_tests(vx86, tmp):
    if not need(["vncsnapshot", "vncpasswd"], "password"):
        return
    good = vncpasswd_file(tmp, "good.pw", "secret1")
    wrong = vncpasswd_file(tmp, "wrong.pw", "secret2")
    other = vncpasswd_file(tmp, "other.pw", "other3")
    d = free_display()
    g = Vx86(vx86, tmp, "pw", ["-vnc", ":%d,password=on" % d], qmp=True)
    shot = os.path.join(tmp, "pw.jpg")
    try:
        if not check(g.wait_log("screen end"), "password: guest ready", g.stderr()):
            return
        s, banner, types = rfb_handshake(5900 + d)
        check(banner == b"RFB 003.008\n" and types == [2],
              "password: the server offers VNC authentication only", "%r %s" % (banner, types))
        # A client that picks "None" anyway is refused (RFC 6143 7.1.3).
        s.sendall(b"\x01")
        try:
            res = recv_exact(s, 4)
            refused = struct.unpack(">I", res)[0] != 0
        except (EOFError, OSError):
            refused = True
        s.close()
        check(refused, "password: a client choosing no authentication is refused")
        rc, _ = snapshot(d, shot, good)
        check(rc != 0, "password: before any password is set, nobody gets in", "rc %d" % rc)

        # The monitor asks for the password and does not echo it.
        out = g.monitor_raw("change vnc password\n", b"Password: ")
        check(out.endswith("Password: ") and "(vx86)" not in out.split("change vnc password")[-1],
              "password: 'change vnc password' asks 'Password: '", repr(out))
        out = g.monitor_raw("secret1\n", b"(vx86) ")
        check("secret1" not in out and "Could not" not in out,
              "password: the password typed is not echoed, and taken", repr(out))
        rc, _ = snapshot(d, shot)
        check(rc != 0, "password: vncsnapshot without a password is refused", "rc %d" % rc)
        rc, _ = snapshot(d, shot, wrong)
        check(rc != 0, "password: vncsnapshot with the wrong password is refused", "rc %d" % rc)
        ok, why = compare_until(lambda: snapshot(d, shot, good)[1] or (0, 0, b""), g.dump,
                                JPEG_TOL, CURSOR_CELL)
        check(ok, "password: with the right password: the screen", why)

        q = g.qmp()
        q.cmd("change-vnc-password", password="other3")
        rc, _ = snapshot(d, shot, good)
        check(rc != 0, "password: QMP change-vnc-password: the old password is refused",
              "rc %d" % rc)
        rc, img = snapshot(d, shot, other)
        check(rc == 0 and img is not None, "password: ... the new one accepted", "rc %d" % rc)
        out = g.monitor("change vnc password secret1")
        rc, _ = snapshot(d, shot, good)
        check(rc == 0, "password: 'change vnc password PASSWORD' (argument form)",
              "rc %d, %r" % (rc, out))
        check(g.alive(), "password: the VM runs on")
    finally:
        g.stop()


# ---- robustness ----

def robust_tests(vx86, tmp):
    if not need(["vncsnapshot"], "robust"):
        return
    d = free_display()
    port, wsport = 5900 + d, 5700 + d
    g = Vx86(vx86, tmp, "robust", ["-vnc", ":%d,websocket=on" % d], qmp=True)
    held = []
    stop = threading.Event()
    worst = [0.0]
    try:
        if not check(g.wait_log("screen end"), "robust: guest ready", g.stderr()):
            return
        rnd = random.Random(1234)

        # All along, QMP is asked every 50 ms: the longest answer is the
        # longest the main loop was held.
        q = g.qmp()

        def ping():
            while not stop.is_set():
                t = time.time()
                q.cmd("query-status")
                worst[0] = max(worst[0], time.time() - t)
                time.sleep(0.05)
        pinger = threading.Thread(target=ping, daemon=True)
        pinger.start()

        def conn(p=port):
            return socket.create_connection(("127.0.0.1", p), timeout=5)

        def abuse(name, fn):
            t0 = time.time()
            before = worst[0]
            worst[0] = 0.0
            try:
                fn()
            except OSError:
                pass
            time.sleep(0.2)
            print("  %s: longest QMP answer %.2f s" % (name, worst[0]))
            worst[0] = max(worst[0], before)
            # The machine answers at once after each (the main loop is free).
            t1 = time.time()
            st = g.monitor("info status")
            dt = time.time() - t1
            check("running" in st and dt < 1.0, "robust: %s: the VM answers after it" % name,
                  "%r in %.2f s (the abuse took %.1f s)" % (st[-40:], dt, t1 - t0))

        def garbage(p):
            s = conn(p)
            s.sendall(bytes(rnd.getrandbits(8) for _ in range(65536)))
            time.sleep(0.2)
            s.close()

        def rst(s):
            s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            s.close()

        abuse("64 KiB of random bytes", lambda: garbage(port))
        abuse("random bytes on the WebSocket port", lambda: garbage(wsport))
        abuse("connect and reset at once", lambda: rst(conn()))
        abuse("reset after the banner", lambda: (lambda s: (recv_exact(s, 12), rst(s)))(conn()))

        def half_version():
            s = conn()
            recv_exact(s, 12)
            s.sendall(b"RFB 003")
            held.append(s)                  # left hanging
        abuse("half a protocol version, then silence", half_version)

        def bad_message():
            s, _, types = rfb_handshake(port)
            s.sendall(b"\x01")              # security None
            recv_exact(s, 4)
            s.sendall(b"\x01")              # ClientInit, shared
            hdr = recv_exact(s, 24)
            recv_exact(s, struct.unpack(">I", hdr[20:24])[0])
            s.sendall(b"\xfe" + bytes(rnd.getrandbits(8) for _ in range(100)))
            time.sleep(0.2)
            s.close()
        abuse("an unknown message type after the handshake", bad_message)

        def half_message():
            s, _, _ = rfb_handshake(port)
            s.sendall(b"\x01")
            recv_exact(s, 4)
            s.sendall(b"\x01")
            hdr = recv_exact(s, 24)
            recv_exact(s, struct.unpack(">I", hdr[20:24])[0])
            s.sendall(b"\x00\x00\x00")      # 3 of SetPixelFormat's 20 bytes
            held.append(s)
        abuse("3 bytes of a 20-byte message, then silence", half_message)

        def ws_partial():
            s = conn(wsport)
            s.sendall(b"GET / HTTP/1.1\r\nHost: x\r\n")   # never finished
            held.append(s)
        abuse("an unfinished WebSocket request", ws_partial)

        def ws_dribble():
            s = conn(port)
            for ch in b"GET / HTTP/1.1\r\n":
                s.sendall(bytes([ch]))
                time.sleep(0.05)
            held.append(s)
        abuse("a WebSocket request dribbled on the RFB port", ws_dribble)

        def ws_bad():
            s = conn(wsport)
            s.sendall(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")   # no upgrade headers
            time.sleep(0.2)
            s.close()
        abuse("an HTTP request that is no WebSocket upgrade", ws_bad)
        abuse("a TLS ClientHello", lambda: (lambda s: (s.sendall(b"\x16\x03\x01\x02\x00\x01"),
                                                       time.sleep(0.2), s.close()))(conn(wsport)))

        def flood():
            socks = []
            for _ in range(60):
                try:
                    socks.append(conn())
                except OSError:
                    break
            time.sleep(0.5)
            for s in socks:
                rst(s)
        abuse("60 connections at once, reset", flood)

        # A client that asks for updates and never reads them, while the
        # screen keeps changing: the VM must not wait for it.
        def no_reader():
            s = socket.socket()
            s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
            s.settimeout(5)
            s.connect(("127.0.0.1", port))
            recv_exact(s, 12)
            s.sendall(b"RFB 003.008\n")
            n = recv_exact(s, 1)[0]
            recv_exact(s, n)
            s.sendall(b"\x01")
            recv_exact(s, 4)
            s.sendall(b"\x01")
            hdr = recv_exact(s, 24)
            recv_exact(s, struct.unpack(">I", hdr[20:24])[0])
            s.sendall(b"\x02\x00\x00\x01\x00\x00\x00\x00")          # SetEncodings: raw
            for _ in range(200):                                        # full updates
                s.sendall(b"\x03\x00\x00\x00\x00\x00\x02\xd0\x01\x90")
            held.append(s)
            # Changes to send: keys echoed on the screen.
            for k in "abcdefgh":
                g.monitor("sendkey " + k)
            time.sleep(2)
        rss0 = peak_rss_kib(g.p.pid)
        abuse("a client that never reads its updates", no_reader)
        # It asked for 200 whole frames (1.1 MiB each, raw) and reads none:
        # vx86 stops making them once a few MiB wait for it.
        grown = peak_rss_kib(g.p.pid) - rss0
        check(grown < 24 * 1024, "robust: what waits for that client stays small",
              "vx86's peak grew by %d KiB" % grown)
        t0 = time.time()
        ok = g.alive()
        check(ok and time.time() - t0 < 5,
              "robust: with that client stuck, keys still reach the guest",
              "%.1f s" % (time.time() - t0))

        for s in held:
            s.close()
        held.clear()
        time.sleep(0.5)
        stop.set()
        pinger.join(5)
        # Only a client stopping inside a message holds the loop, for
        # libvncserver's maxClientWait (vx86 sets 500 ms).
        check(worst[0] < 0.8, "robust: the main loop was never held long (longest QMP answer "
              "%.2f s)" % worst[0])
        check(g.alive(), "robust: after all that, the VM runs and takes keys")
        shot = os.path.join(tmp, "robust.jpg")
        ok, why = compare_until(lambda: snapshot(d, shot)[1] or (0, 0, b""), g.dump,
                                JPEG_TOL, CURSOR_CELL)
        check(ok, "robust: ... and the next client gets the right picture", why)
        check(g.stderr() == "", "robust: nothing on stderr", g.stderr()[:300])
    finally:
        stop.set()
        for s in held:
            s.close()
        g.stop()


# ---- errors ----

def error_tests(vx86, tmp):
    def run_vx86(args, timeout=15):
        try:
            r = subprocess.run([vx86, "-accel", "tcg", "-m", "64M", "-bios", IMG, "-serial",
                                "none"] + args, capture_output=True, timeout=timeout,
                               stdin=subprocess.DEVNULL)
            return r.returncode, r.stderr.decode("latin-1")
        except subprocess.TimeoutExpired:
            return None, ""

    d = free_display()
    busy = socket.socket()
    busy.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    busy.bind(("0.0.0.0", 5900 + d))
    busy.listen(1)
    try:
        rc, err = run_vx86(["-vnc", ":%d" % d])
        check(rc == 1 and err.count("\n") == 1 and ("port %d" % (5900 + d)) in err and
              "in use" in err,
              "errors: VNC port in use: one line, exit 1", "rc %s: %r" % (rc, err))
    finally:
        busy.close()
    d = free_display()
    busy = socket.socket()
    busy.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    busy.bind(("0.0.0.0", 5700 + d))
    busy.listen(1)
    try:
        rc, err = run_vx86(["-vnc", ":%d,websocket=on" % d])
        check(rc == 1 and err.count("\n") == 1 and "websocket" in err and "in use" in err,
              "errors: WebSocket port in use: one line, exit 1", "rc %s: %r" % (rc, err))
    finally:
        busy.close()
    for args, what in ((["-vnc", "foo"], "no display number"),
                       (["-vnc", ":1,bogus=on"], "an unknown parameter"),
                       (["-vnc", ":99999"], "a display beyond the port range"),
                       (["-vnc", ":1,websocket=70000"], "a bad WebSocket port"),
                       (["-vnc", "unix:/tmp/x,websocket=on"], "websocket=on without a display"),
                       (["-vnc", "unix:" + os.path.join(tmp, "nodir", "x.sock")],
                        "a socket in a missing directory")):
        rc, err = run_vx86(args)
        check(rc == 1 and err.count("\n") == 1 and err.startswith("vx86: -vnc"),
              "errors: -vnc with %s: one line, exit 1" % what, "rc %s: %r" % (rc, err))
    # -vnc none: no server, the VM runs.
    g = Vx86(vx86, tmp, "none", ["-vnc", "none", "-display", "none"])
    try:
        check(g.wait_log("screen end") and g.alive(), "errors: -vnc none runs without a server",
              g.stderr())
    finally:
        g.stop()


# ---- Linux ----

def linux_test(vx86, tmp):
    if not need(["Xvfb", "xdotool", "xtightvncviewer", "grub-mkrescue", "xorriso"], "linux"):
        return
    paths = subprocess.run([os.path.join(ROOT, "tests", "guest", "mkguest.sh")],
                           capture_output=True, text=True, timeout=600).stdout.split()
    if not check(len(paths) == 2, "linux: the test guest (tests/guest/mkguest.sh)"):
        return
    cfg = os.path.join(tmp, "grub.cfg")
    with open(cfg, "w") as f:
        # The shell on tty0 (the last console=); kernel messages on ttyS0 too.
        f.write("set timeout=0\nmenuentry vx86 {\n"
                "    linux /boot/vmlinuz console=ttyS0 console=tty0\n"
                "    initrd /boot/%s\n}\n" % os.path.basename(paths[1]))
    iso = os.path.join(tmp, "vnc-linux.iso")
    r = subprocess.run([os.path.join(ROOT, "tests", "guest", "mkgrub.sh"), "iso", iso, cfg] +
                       paths, capture_output=True, timeout=120)
    if not check(r.returncode == 0, "linux: GRUB ISO built", r.stderr.decode()[-300:]):
        return
    xvfb, display = start_xvfb()
    env = display_env(display)
    d = free_display()
    serial = os.path.join(tmp, "linux-serial.log")
    p = subprocess.Popen([vx86, "-accel", "tcg", "-m", "256M", "-nic", "none", "-cdrom", iso,
                          "-serial", "file:" + serial, "-vnc", ":%d" % d],
                         stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    viewer = None
    try:
        text = lambda: open(serial, "rb").read().decode("latin-1") if os.path.exists(serial) \
            else ""
        if not check(wait_until(lambda: "Run /init" in text(), 150),
                     "linux: the guest boots (kernel on ttyS0 runs /init)"):
            return
        viewer = subprocess.Popen(["xtightvncviewer", "127.0.0.1:%d" % d], env=env,
                                  stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        win = find_window("^TightVNC: vx86", env)
        if not check(win is not None, "linux: xtightvncviewer's window"):
            return
        subprocess.run(["xdotool", "mousemove", "--window", win, "20", "20"], env=env)
        time.sleep(2)
        # The shell computes the marker: typed text alone cannot produce it.
        marker = None
        for attempt in range(4):
            subprocess.run(["xdotool", "type", "--delay", "40",
                            "echo VNC$((6*%d))OK > /dev/ttyS0" % (7 + attempt)], env=env)
            subprocess.run(["xdotool", "key", "Return"], env=env)
            want = "VNC%dOK" % (6 * (7 + attempt))
            if wait_until(lambda: want in text(), 15):
                marker = want
                break
        check(marker is not None, "linux: a command typed into the viewer runs in the guest's "
              "shell (its output on the serial port)", text()[-300:])
    finally:
        if viewer:
            viewer.kill()
            viewer.wait()
        p.kill()
        p.wait()
        xvfb.kill()
        xvfb.wait()


# ---- browser (check-full) ----

def browser_test(vx86, tmp):
    novnc = "/usr/share/novnc"
    if not need(["chromium"], "browser") or not check(
            os.path.exists(os.path.join(novnc, "vnc.html")), "browser: noVNC installed",
            "run scripts/deps.sh test"):
        return
    d = free_display()
    g = Vx86(vx86, tmp, "browser", ["-vnc", ":%d,websocket=on" % d])
    httpd = None
    try:
        if not check(g.wait_log("screen end"), "browser: guest ready", g.stderr()):
            return
        hport = free_port()
        httpd = subprocess.Popen([sys.executable, "-m", "http.server", str(hport), "--bind",
                                  "127.0.0.1", "--directory", novnc],
                                 stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        wait_until(lambda: not port_free(hport), 10)
        url = ("http://127.0.0.1:%d/vnc.html?host=127.0.0.1&port=%d&autoconnect=true"
               "&resize=off" % (hport, 5700 + d))
        shot_path = os.path.join(tmp, "chromium.png")
        ok, why = False, "no screenshot"
        for attempt in range(3):
            if os.path.exists(shot_path):
                os.unlink(shot_path)
            try:
                subprocess.run(["chromium", "--headless", "--no-sandbox", "--disable-gpu",
                                "--hide-scrollbars", "--window-size=1000,700",
                                "--user-data-dir=" + os.path.join(tmp, "chromium-profile"),
                                "--virtual-time-budget=%d" % (3000 + 3000 * attempt),
                                "--screenshot=" + shot_path, url],
                               capture_output=True, timeout=120)
            except subprocess.TimeoutExpired:
                continue
            if not os.path.exists(shot_path):
                continue
            shot = load_rgb(shot_path)
            dump = g.dump()
            ok, why = find_in(shot, dump)
            if not ok:
                # The cursor may blink between the two pictures.
                ok, why = find_in(shot, dump, [CURSOR_CELL])
            if ok:
                break
        check(ok, "browser: noVNC in headless Chromium shows the screendump", why)
    finally:
        if httpd:
            httpd.kill()
            httpd.wait()
        g.stop()


def find_in(shot, dump, ignore=()):
    """The dump somewhere in the screenshot (the canvas, unscaled)."""
    W, H, px = shot
    w, h, dp = dump
    row0 = dp[:w * 3]
    for y in range(H - h + 1):
        row = px[y * W * 3:(y + 1) * W * 3]
        x = row.find(row0)
        while x >= 0 and x % 3:
            x = row.find(row0, x + 1)
        if x < 0:
            continue
        ok, why = matches(crop(shot, x // 3, y, w, h), dump, 0, ignore)
        return ok, "canvas at %d,%d: %s" % (x // 3, y, why)
    return False, "the screen's first row is nowhere in the %dx%d screenshot" % (W, H)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--vx86", default=os.path.join(ROOT, "vx86"))
    ap.add_argument("--keep")
    ap.add_argument("what", nargs="*",
                    default=["snapshot", "viewer", "alongside", "resize", "password", "robust",
                             "errors", "linux"])
    a = ap.parse_args()
    vx86 = os.path.abspath(a.vx86)
    try:
        built = "#define CONFIG_VNC 1" in open(os.path.join(ROOT, "config.h")).read()
    except OSError:
        built = True
    if not built:
        print("SKIP: vx86 was built without VNC (./configure found no libvncserver-dev)")
        return 0
    tmp = a.keep or tempfile.mkdtemp(prefix="vx86-vnc.")
    os.makedirs(tmp, exist_ok=True)
    tests = {"snapshot": snapshot_tests, "viewer": viewer_tests, "alongside": alongside_tests,
             "resize": resize_tests,
             "password": password_tests, "robust": robust_tests, "errors": error_tests,
             "linux": linux_test, "browser": browser_test}
    try:
        for w in a.what:
            tests[w](vx86, tmp)
    finally:
        if not a.keep:
            shutil.rmtree(tmp, ignore_errors=True)
    return ui.summary()


if __name__ == "__main__":
    sys.exit(main())
