#!/usr/bin/env python3
"""Display tests, as a person would see and use the displays.

  tests/ui/ui.py [--vx86 PATH] [--keep DIR] [sdl] [curses]

The guest is tests/ui/ui-keys.c (build/testrom/ui-keys.bin): a known text
screen, and every byte it reads from the i8042 printed on the debug
console ("key 1e", "aux 08"); F1 makes it print its whole text buffer.

sdl (needs Xvfb, xdotool, ImageMagick: scripts/deps.sh test): vx86 with
-display sdl on a private Xvfb server.  A screenshot of the window
(`import -window`) must equal vx86's own `screendump` (-monitor unix:)
pixel for pixel, before and after typing; keys typed with xdotool (letters,
shifted, extended keys, Pause, PrintScreen, keypad Enter) must reach the
guest as the scan codes a PC keyboard sends; Ctrl-Alt-G must say "grab" in
the title and pass relative mouse motion to the PS/2 mouse; a resized
window must show the screen scaled with its aspect ratio kept; closing
the window (WM_DELETE_WINDOW, as a window
manager's close button sends) must end vx86 with status 0; without
-monitor, Ctrl-Alt-2 must show the monitor in the window and take typed
commands, Ctrl-Alt-1 the guest again (and must not with window-close=off).

curses (needs tmux): vx86 with -display curses in a private tmux server:
the pane must show the guest's text buffer (as the guest itself printed
it), its colours and cursor; keys sent with `tmux send-keys` must reach the
guest; a graphics mode shows its one-line notice.

Both also run the real firmware: SeaBIOS (-boot menu=on) shows its
banner, Esc typed into the window or the terminal opens its boot menu.
"""
import argparse
import ctypes
import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import time

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
IMG = os.path.join(ROOT, "build", "testrom", "ui-keys.bin")
GFX_IMG = os.path.join(ROOT, "build", "testrom", "vga-13h.bin")
TIMEOUT = 30

failures = []


def display_env(display):
    """The environment of a program that must draw on X display `display`
    (an Xvfb of start_xvfb), not on the caller's desktop."""
    env = dict(os.environ, DISPLAY=display)
    env.pop("WAYLAND_DISPLAY", None)
    return env


def summary():
    """The last line of a UI test script and its exit status."""
    print("%s: %d failure(s)" % (sys.argv[0], len(failures)))
    return 1 if failures else 0


def check(ok, name, detail=""):
    if ok:
        print("PASS: " + name)
    else:
        print("FAIL: %s%s" % (name, ": " + detail if detail else ""))
        failures.append(name)
    return ok


def wait_until(fn, timeout=TIMEOUT, step=0.05):
    deadline = time.time() + timeout
    while True:
        v = fn()
        if v or time.time() > deadline:
            return v
        time.sleep(step)


class Guest:
    """vx86 running ui-keys.bin with a debug-console log and a monitor."""
    prompt = b"(vx86) "       # the human monitor's (QEMU's is "(qemu) ")

    def __init__(self, vx86, tmp, tag, display_args, env=None, img=IMG, wrap=None,
                 monitor=True):
        self.log = os.path.join(tmp, tag + ".log")
        self.sock = os.path.join(tmp, tag + ".sock")
        self.err = os.path.join(tmp, tag + ".err")
        # img None: the default firmware (SeaBIOS), its log on port 0x402.
        fw = ["-bios", img] if img else ["-global", "isa-debugcon.iobase=0x402"]
        mon = ["-monitor", "unix:%s,server,nowait" % self.sock] if monitor else []
        cmd = [vx86, "-accel", "tcg", "-m", "64M", "-serial", "none",
               "-debugcon", "file:" + self.log] + mon + fw + display_args
        if wrap:
            # Run inside something else (tmux): it owns the process.
            self.p = None
            wrap(cmd, self.err)
        else:
            self.p = subprocess.Popen(cmd, stdout=subprocess.DEVNULL,
                                      stderr=open(self.err, "wb"), env=env)
        self.mon = None

    def text(self):
        try:
            return open(self.log, "rb").read().decode("latin-1")
        except OSError:
            return ""

    def wait_log(self, what, timeout=TIMEOUT):
        return wait_until(lambda: what in self.text(), timeout)

    def codes(self, since, kind="key"):
        return re.findall(r"^%s ([0-9a-f]{2})$" % kind, self.text()[since:], re.M)

    def last_screen(self):
        t = self.text()
        i = t.rfind("screen begin\n")
        j = t.find("screen end\n", i)
        if i < 0 or j < 0:
            return None
        return t[i + len("screen begin\n"):j].splitlines()

    def monitor(self, line):
        if not self.mon:
            self.mon = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            wait_until(lambda: os.path.exists(self.sock))
            self.mon.connect(self.sock)
            self.mon.settimeout(TIMEOUT)
            self._prompt()
        self.mon.sendall(line.encode() + b"\n")
        return self._prompt()

    def _prompt(self):
        buf = b""
        while not buf.endswith(self.prompt):
            chunk = self.mon.recv(4096)
            if not chunk:
                break
            buf += chunk
        return buf.decode("latin-1")

    def stop(self):
        if self.mon:
            self.mon.close()
        if self.p and self.p.poll() is None:
            self.p.kill()
            self.p.wait()

    def stderr(self):
        try:
            return open(self.err, "rb").read().decode("latin-1")
        except OSError:
            return ""


def run(cmd, env=None, **kw):
    return subprocess.run(cmd, env=env, capture_output=True, timeout=TIMEOUT, **kw)


# ---- SDL under Xvfb ----

def rgb_of(args, env):
    """(w, h, rgb bytes) of an image ImageMagick can read (args: the
    command producing a PPM on stdout)."""
    out = run(args + ["-depth", "8", "ppm:-"], env=env).stdout
    parts, i = [], 0
    while len(parts) < 4:
        while out[i:i + 1].isspace():
            i += 1
        j = i
        while not out[j:j + 1].isspace():
            j += 1
        parts.append(out[i:j])
        i = j
    return int(parts[1]), int(parts[2]), out[i + 1:]


def diff_pixels(a, b, width=1, ignore=None):
    """How many pixels differ (-1: sizes differ), not counting those in
    the ignore rectangle (x, y, w, h)."""
    if len(a) != len(b):
        return -1
    n = 0
    for i in range(0, len(a), 3):
        if a[i:i + 3] != b[i:i + 3]:
            x, y = (i // 3) % width, (i // 3) // width
            if not (ignore and ignore[0] <= x < ignore[0] + ignore[2] and
                    ignore[1] <= y < ignore[1] + ignore[3]):
                n += 1
    return n


# ui-keys.bin's cursor cell (column 10, row 12 of 9x16 cells).
UI_KEYS_CURSOR = (90, 192, 9, 16)
# Any one 9x16 text cell: where a firmware leaves its cursor.
ANY_CELL = "any cell"


def window_matches_dump(g, win, env, tmp, scale=1, offset=(0, 0), tries=10, cursor=None):
    """Screenshot == screendump (scaled).  The text cursor blinks on the
    virtual clock, so the window may show the other phase than the dump:
    a few tries, and at the last one the cursor cell (cursor, unscaled) is
    left out of the comparison."""
    dump = os.path.join(tmp, "dump.ppm")
    detail = ""
    for _ in range(tries):
        if os.path.exists(dump):
            os.unlink(dump)
        g.monitor("screendump " + dump)
        time.sleep(0.05)              # the window's next frame (30 ms)
        shot = rgb_of(["import", "-window", win], env)
        conv = ["convert", dump] + (["-scale", "%d%%" % (scale * 100)] if scale != 1 else [])
        ref = rgb_of(conv, env)
        w, h, px = shot
        if offset != (0, 0) or (w, h) != ref[:2]:
            ox, oy = offset
            crop = ["convert", "ppm:-", "-crop", "%dx%d+%d+%d" % (ref[0], ref[1], ox, oy),
                    "+repage"]
            px = subprocess.run(crop + ["rgb:-"], input=b"P6 %d %d 255\n" % (w, h) + px,
                                capture_output=True).stdout
        last = _ == tries - 1
        ign = None
        if cursor == ANY_CELL and last:
            ign = one_cell_of_diffs(px, ref[2], ref[0], 9 * scale, 16 * scale)
        elif cursor and last:
            ign = tuple(v * scale for v in cursor)
        n = diff_pixels(px, ref[2], ref[0], ign)
        if n == 0:
            return True, ""
        detail = "window %dx%d, dump %dx%d scaled x%d: %s pixels differ" % (
            w, h, ref[0] // scale, ref[1] // scale, scale, n)
        time.sleep(0.1)
    return False, detail


def one_cell_of_diffs(a, b, width, cw, ch):
    """The text cell holding every differing pixel, if there is one."""
    cells = set()
    for i in range(0, min(len(a), len(b)), 3):
        if a[i:i + 3] != b[i:i + 3]:
            cells.add(((i // 3) % width // cw, (i // 3) // width // ch))
    if len(cells) != 1:
        return None
    cx, cy = cells.pop()
    return (cx * cw, cy * ch, cw, ch)


def window_name(win, env):
    return run(["xdotool", "getwindowname", win], env=env).stdout.decode().strip()


def window_size(win, env):
    out = run(["xwininfo", "-id", win], env=env).stdout.decode()
    w = int(re.search(r"Width: (\d+)", out).group(1))
    h = int(re.search(r"Height: (\d+)", out).group(1))
    return w, h


def close_window(display, win):
    """Sends WM_DELETE_WINDOW, as a window manager's close button does."""
    x = ctypes.CDLL("libX11.so.6")
    x.XOpenDisplay.restype = ctypes.c_void_p
    x.XOpenDisplay.argtypes = [ctypes.c_char_p]
    x.XInternAtom.restype = ctypes.c_ulong
    x.XInternAtom.argtypes = [ctypes.c_void_p, ctypes.c_char_p, ctypes.c_int]
    x.XSendEvent.argtypes = [ctypes.c_void_p, ctypes.c_ulong, ctypes.c_int, ctypes.c_long,
                             ctypes.c_void_p]
    x.XFlush.argtypes = [ctypes.c_void_p]
    x.XCloseDisplay.argtypes = [ctypes.c_void_p]

    class ClientMessage(ctypes.Structure):
        _fields_ = [("type", ctypes.c_int), ("serial", ctypes.c_ulong),
                    ("send_event", ctypes.c_int), ("display", ctypes.c_void_p),
                    ("window", ctypes.c_ulong), ("message_type", ctypes.c_ulong),
                    ("format", ctypes.c_int), ("l", ctypes.c_long * 5),
                    ("pad", ctypes.c_long * 24)]
    d = x.XOpenDisplay(display.encode())
    ev = ClientMessage()
    ev.type = 33                         # ClientMessage
    ev.window = int(win)
    ev.message_type = x.XInternAtom(d, b"WM_PROTOCOLS", 0)
    ev.format = 32
    ev.l[0] = x.XInternAtom(d, b"WM_DELETE_WINDOW", 0)
    x.XSendEvent(d, int(win), 0, 0, ctypes.byref(ev))
    x.XFlush(d)
    x.XCloseDisplay(d)


def start_xvfb():
    r, w = os.pipe()
    p = subprocess.Popen(["Xvfb", "-displayfd", str(w), "-screen", "0", "1600x1200x24",
                          "-nolisten", "tcp"], pass_fds=[w], stdout=subprocess.DEVNULL,
                         stderr=subprocess.DEVNULL)
    os.close(w)
    num = b""
    while not num.endswith(b"\n"):
        c = os.read(r, 1)
        if not c:
            break
        num += c
    os.close(r)
    if not num.strip():
        p.kill()
        raise RuntimeError("Xvfb did not start")
    return p, ":" + num.decode().strip()


def expect_codes(g, name, send, want, timeout=10):
    since = len(g.text())
    send()
    got = wait_until(lambda: g.codes(since) if len(g.codes(since)) >= len(want) else None,
                     timeout)
    got = g.codes(since)
    return check(got == want, name, "guest read %s, want %s" % (" ".join(got), " ".join(want)))


def sdl_tests(vx86, tmp):
    for tool in ("Xvfb", "xdotool", "import", "xwininfo"):
        if not shutil.which(tool):
            check(False, "sdl: %s installed" % tool, "run scripts/deps.sh test")
            return
    xvfb, display = start_xvfb()
    env = display_env(display)
    g = Guest(vx86, tmp, "sdl", ["-display", "sdl", "-name", "uitest"], env=env)
    try:
        if not check(g.wait_log("screen end"), "sdl: guest ready", g.stderr()):
            return
        out = run(["xdotool", "search", "--sync", "--name", "^vx86"], env=env)
        win = out.stdout.decode().split()[0] if out.stdout.split() else None
        if not check(win is not None, "sdl: the window exists"):
            return
        check(window_name(win, env) == "vx86 (uitest)", "sdl: title names the VM",
              window_name(win, env))
        ok, why = window_matches_dump(g, win, env, tmp, cursor=UI_KEYS_CURSOR)
        check(ok, "sdl: window == screendump", why)

        # Keyboard focus follows the pointer (no window manager).
        run(["xdotool", "mousemove", "--window", win, "20", "20"], env=env)
        xd = lambda *a: (lambda: run(["xdotool"] + list(a), env=env))
        expect_codes(g, "sdl: typed letters", xd("type", "--delay", "20", "hello"),
                     "23 a3 12 92 26 a6 26 a6 18 98".split())
        expect_codes(g, "sdl: shifted letter",
                     xd("keydown", "shift", "keydown", "a", "keyup", "a", "keyup", "shift"),
                     "2a 1e 9e aa".split())
        expect_codes(g, "sdl: extended keys (Up, KP_Enter, ctrl+Right)",
                     xd("key", "Up", "KP_Enter", "keydown", "ctrl", "key", "Right", "keyup",
                        "ctrl"),
                     "e0 48 e0 c8 e0 1c e0 9c 1d e0 4d e0 cd 9d".split())
        expect_codes(g, "sdl: Pause", xd("key", "Pause"), "e1 1d 45 e1 9d c5".split())
        expect_codes(g, "sdl: PrintScreen", xd("key", "Print"),
                     "e0 2a e0 37 e0 b7 e0 aa".split())
        ok, why = window_matches_dump(g, win, env, tmp, cursor=UI_KEYS_CURSOR)
        check(ok, "sdl: window == screendump after typing (changed cells redrawn)", why)

        # Grab: the title says so, the mouse moves the PS/2 mouse.
        run(["xdotool", "key", "ctrl+alt+g"], env=env)
        t = wait_until(lambda: "grab" in window_name(win, env) and window_name(win, env), 5)
        check(bool(t) and "Ctrl-Alt-G" in t, "sdl: Ctrl-Alt-G grabs (title)", str(t))
        since = len(g.text())
        for _ in range(5):
            run(["xdotool", "mousemove_relative", "--", "15", "8"], env=env)
            time.sleep(0.05)
        aux = wait_until(lambda: g.codes(since, "aux") if len(g.codes(since, "aux")) >= 3
                         else None, 5)
        check(bool(aux) and len(aux) % 3 == 0 and int(aux[0], 16) & 0x08,
              "sdl: grabbed mouse motion reaches the PS/2 mouse", str(aux))
        since = len(g.text())
        run(["xdotool", "mousedown", "1"], env=env)
        time.sleep(0.2)
        run(["xdotool", "mouseup", "1"], env=env)
        aux = wait_until(lambda: g.codes(since, "aux") if len(g.codes(since, "aux")) >= 6
                         else None, 5)
        check(bool(aux) and int(aux[0], 16) & 0x01 and not int(aux[3], 16) & 0x01,
              "sdl: grabbed left button press and release reach the PS/2 mouse", str(aux))
        run(["xdotool", "key", "ctrl+alt+g"], env=env)
        t = wait_until(lambda: window_name(win, env) == "vx86 (uitest)", 5)
        check(t, "sdl: Ctrl-Alt-G again releases (title)", window_name(win, env))

        # Scaling keeps the aspect ratio: 2x, then 2x letterboxed.
        run(["xdotool", "windowmove", win, "0", "0"], env=env)
        w0, h0 = window_size(win, env)
        run(["xdotool", "windowsize", win, str(w0 * 2), str(h0 * 2)], env=env)
        time.sleep(0.5)
        ok, why = window_matches_dump(g, win, env, tmp, scale=2, cursor=UI_KEYS_CURSOR)
        check(ok, "sdl: window resized to 2x shows the screen scaled 2x", why)
        run(["xdotool", "windowsize", win, str(w0 * 2), str(h0 * 2 + 200)], env=env)
        time.sleep(0.5)
        ok, why = window_matches_dump(g, win, env, tmp, scale=2, offset=(0, 100),
                                       cursor=UI_KEYS_CURSOR)
        check(ok, "sdl: a taller window letterboxes (aspect ratio kept)", why)

        close_window(display, win)
        rc = None
        try:
            rc = g.p.wait(10)
        except subprocess.TimeoutExpired:
            pass
        check(rc == 0, "sdl: closing the window quits (status 0)", "status %s" % rc)
        g.stop()

        # Real firmware: SeaBIOS with the VGA BIOS's font; Esc (read by
        # SeaBIOS's own keyboard driver) opens its boot menu.
        g = Guest(vx86, tmp, "sdl-seabios", ["-display", "sdl", "-boot", "menu=on"], env=env,
                  img=None)
        if check(g.wait_log("Press ESC for boot menu"), "sdl: SeaBIOS asks for ESC", g.stderr()):
            out = run(["xdotool", "search", "--sync", "--name", "^vx86"], env=env)
            win = out.stdout.decode().split()[0]
            run(["xdotool", "mousemove", "--window", win, "20", "20"], env=env)
            run(["xdotool", "key", "Escape"], env=env)
            check(g.wait_log("Select boot device", 10), "sdl: Esc opens SeaBIOS's boot menu")
            time.sleep(0.5)
            ok, why = window_matches_dump(g, win, env, tmp, cursor=ANY_CELL)
            check(ok, "sdl: SeaBIOS boot menu: window == screendump", why)
        g.stop()

        # Without -monitor the monitor is on the window's text console:
        # Ctrl-Alt-2 shows it, typed text goes to it (not to the guest),
        # Ctrl-Alt-1 brings the guest back.
        g = Guest(vx86, tmp, "sdl-vc", ["-display", "sdl"], env=env, monitor=False)
        g.wait_log("screen end")
        out = run(["xdotool", "search", "--sync", "--name", "^vx86"], env=env)
        win = out.stdout.decode().split()[0]
        run(["xdotool", "mousemove", "--window", win, "20", "20"], env=env)
        expect_codes(g, "sdl: Ctrl-Alt-2, then 'sendkey a' typed into the monitor",
                     lambda: (xd("key", "ctrl+alt+2")(), time.sleep(0.3),
                              xd("type", "--delay", "20", "sendkey a")(),
                              xd("key", "Return")()),
                     "1d 38 9d b8 1e 9e".split())
        check(window_name(win, env).endswith(" - monitor") and
              window_size(win, env) == (640, 400), "sdl: the monitor console is shown",
              "%s %s" % (window_name(win, env), window_size(win, env)))
        expect_codes(g, "sdl: Ctrl-Alt-1: keys reach the guest again",
                     lambda: (xd("key", "ctrl+alt+1")(), time.sleep(0.3), xd("key", "b")()),
                     ["30", "b0"])
        check(window_name(win, env) == "vx86" and window_size(win, env) == (720, 400),
              "sdl: the guest's screen is shown again",
              "%s %s" % (window_name(win, env), window_size(win, env)))
        run(["xdotool", "key", "ctrl+alt+2"], env=env)
        time.sleep(0.3)
        run(["xdotool", "type", "--delay", "20", "quit"], env=env)
        run(["xdotool", "key", "Return"], env=env)
        try:
            rc = g.p.wait(10)
        except subprocess.TimeoutExpired:
            rc = None
        check(rc == 0, "sdl: 'quit' typed into the monitor console ends vx86", "status %s" % rc)
        g.stop()

        # -S: the title says [Paused] until the monitor's cont.
        g = Guest(vx86, tmp, "sdl-paused", ["-display", "sdl", "-S"], env=env)
        out = run(["xdotool", "search", "--sync", "--name", "^vx86"], env=env)
        win = out.stdout.decode().split()[0]
        t = wait_until(lambda: window_name(win, env) == "vx86 [Paused]", 5)
        check(t, "sdl: -S: title says [Paused]", window_name(win, env))
        g.monitor("cont")
        t = wait_until(lambda: window_name(win, env) == "vx86", 5)
        check(t and g.wait_log("ready", 10), "sdl: cont: the guest runs, [Paused] gone",
              window_name(win, env))
        g.stop()

        # window-close=off (QEMU's -no-quit): closing does nothing.
        g = Guest(vx86, tmp, "sdl-noquit", ["-display", "sdl,window-close=off"], env=env)
        g.wait_log("ready")
        out = run(["xdotool", "search", "--sync", "--name", "^vx86"], env=env)
        win = out.stdout.decode().split()[0]
        close_window(display, win)
        time.sleep(1.5)
        check(g.p.poll() is None, "sdl: window-close=off: closing the window does not quit")
        g.monitor("quit")
        try:
            rc = g.p.wait(10)
        except subprocess.TimeoutExpired:
            rc = None
        check(rc == 0, "sdl: ... the monitor's quit still does", "status %s" % rc)
    finally:
        g.stop()
        xvfb.kill()
        xvfb.wait()


# ---- curses under tmux ----

def curses_tests(vx86, tmp):
    if not check(shutil.which("tmux") is not None, "curses: tmux installed",
                 "run scripts/deps.sh test"):
        return
    server = "vx86ui-%d" % os.getpid()
    tmux = lambda *a: run(["tmux", "-L", server] + list(a))

    # One session per guest ("ui" is the current one); the server goes at
    # the end (killing the last session would end the server under us).
    sess = ["ui"]

    def start(cmd, errfile):
        line = " ".join("'%s'" % a for a in cmd) + " 2>'%s'; sleep 30" % errfile
        sess[0] = "ui%d" % (int(sess[0][2:] or 0) + 1)
        tmux("new-session", "-d", "-s", sess[0], "-x", "100", "-y", "30", line)

    pane = lambda *a: tmux("capture-pane", "-p", "-t", sess[0],
                           *a).stdout.decode("utf-8", "replace")
    env_term = os.environ.get("TERM")
    os.environ["TERM"] = "xterm"       # tmux's own default-terminal is set below
    try:
        tmux("start-server")
        g = Guest(vx86, tmp, "curses", ["-display", "curses"], wrap=start)
        if not check(g.wait_log("screen end"), "curses: guest ready", g.stderr()):
            return

        def pane_matches():
            want = [l.rstrip() for l in g.last_screen()]
            got = [l[:80].rstrip() for l in pane().split("\n")[:25]]
            return got == want, want, got

        def check_pane(name):
            ok = wait_until(lambda: pane_matches()[0], 5)
            _, want, got = pane_matches()
            bad = [i for i in range(25) if i >= len(got) or got[i] != want[i]]
            check(ok, name, "row %s: %r, want %r" % (bad[0], got[bad[0]] if bad[0] < len(got)
                                                    else None, want[bad[0]]) if bad else "")

        check_pane("curses: pane == the guest's text buffer")
        cur = tmux("display", "-p", "-t", sess[0], "#{cursor_x},#{cursor_y}").stdout.decode().strip()
        check(cur == "10,12", "curses: cursor where the guest put it", cur)
        row3 = pane("-e").split("\n")[3]
        check("\x1b[31m[red on black]" in row3 and re.search(r"44m\[yellow on blue\]", row3)
              and re.search(r"46m\[black on cyan\]", row3), "curses: colours", repr(row3))

        def keys(*k):
            return lambda: tmux("send-keys", "-t", sess[0], *k)
        expect_codes(g, "curses: letters and Enter", keys("hEl", "Enter"),
                     "23 a3 2a 12 92 aa 26 a6 1c 9c".split())
        expect_codes(g, "curses: arrows and F5", keys("Up", "Left", "F5"),
                     "e0 48 e0 c8 e0 4b e0 cb 3f bf".split())
        expect_codes(g, "curses: Ctrl-C, Alt-x", keys("C-c", "M-x"),
                     "1d 2e ae 9d 38 2d ad b8".split())
        # ESC alone is Esc once the terminal's escape delay has passed.
        expect_codes(g, "curses: Esc", keys("Escape"), ["01", "81"])
        expect_codes(g, "curses: Backspace", keys("BSpace"), ["0e", "8e"])
        dumps = g.text().count("screen end")
        expect_codes(g, "curses: F1 (the guest dumps its screen)", keys("F1"), ["3b", "bb"])
        wait_until(lambda: g.text().count("screen end") > dumps, 5)
        check_pane("curses: pane == the text buffer after typing")
        g.monitor("quit")
        g.stop()

        # Real firmware: SeaBIOS's screen, Esc opens its boot menu.
        g = Guest(vx86, tmp, "curses-seabios", ["-display", "curses", "-boot", "menu=on"],
                  img=None, wrap=start)
        ok = wait_until(lambda: "Press ESC for boot menu" in pane(), TIMEOUT)
        if check(ok, "curses: SeaBIOS's banner in the pane", g.stderr()):
            tmux("send-keys", "-t", sess[0], "Escape")
            ok = wait_until(lambda: "Select boot device" in pane(), 10)
            check(ok, "curses: Esc opens SeaBIOS's boot menu", pane())
        g.monitor("quit")
        g.stop()

        # A graphics mode: one notice line.
        g = Guest(vx86, tmp, "curses-gfx", ["-display", "curses"], img=GFX_IMG, wrap=start)
        g.wait_log("ready")
        ok = wait_until(lambda: "graphics mode" in pane(), 5)
        check(ok, "curses: a graphics mode shows a notice", pane().split("\n")[0])
        g.monitor("quit")
        g.stop()
    finally:
        tmux("kill-server")
        if env_term is None:
            os.environ.pop("TERM", None)
        else:
            os.environ["TERM"] = env_term


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--vx86", default=os.path.join(ROOT, "vx86"))
    ap.add_argument("--keep")
    ap.add_argument("what", nargs="*", default=["sdl", "curses"])
    a = ap.parse_args()
    tmp = a.keep or tempfile.mkdtemp(prefix="vx86-ui.")
    os.makedirs(tmp, exist_ok=True)
    try:
        if "sdl" in a.what:
            sdl_tests(os.path.abspath(a.vx86), tmp)
        if "curses" in a.what:
            curses_tests(os.path.abspath(a.vx86), tmp)
    finally:
        if not a.keep:
            shutil.rmtree(tmp, ignore_errors=True)
    return summary()


if __name__ == "__main__":
    sys.exit(main())
