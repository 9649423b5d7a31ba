"""Driving the test guest (tests/guest/mkguest.sh) on its serial console,
shared by the Python system tests (net.py, vnet.py):

    from guestlib import Guest, result, exit_status
    g = Guest("name", [vx86, "-nographic", "-kernel", ..., "-append", "console=ttyS0 ..."])
    if g.boot():                      # waits for the shell and syncs with it
        out = g.run("uname -r", 30)   # the command's output, None on timeout
    result(ok, "what was checked")    # prints PASS:/FAIL:, remembers failures
    g.close()                         # poweroff -f, kill if it hangs
    sys.exit(exit_status())

Also: free_port() (a free TCP port on 127.0.0.1), md5_of(path), md5_in(text)
(the last md5 printed), log(msg).
"""
import hashlib
import os
import re
import select
import socket
import subprocess
import sys
import time

_failed = False


def log(msg):
    sys.stdout.write(msg + "\n")
    sys.stdout.flush()


def result(ok, what):
    """PASS/FAIL line; a FAIL makes exit_status() 1."""
    global _failed
    log(("PASS: " if ok else "FAIL: ") + what)
    _failed |= not ok


def exit_status():
    return 1 if _failed else 0


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def md5_of(path):
    h = hashlib.md5()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def md5_in(out):
    m = re.findall(r"\b([0-9a-f]{32})\b", out or "")
    return m[-1] if m else None


class Guest:
    """An emulator process whose stdin/stdout are the guest's console."""

    def __init__(self, name, cmd):
        self.name = name
        self.p = subprocess.Popen(cmd, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                  stderr=subprocess.STDOUT)
        self.buf = b""
        self.pos = 0
        self.last_rc = None

    def wait(self, rx, t):
        """Waits for rx after the last match; returns the match or None."""
        r = re.compile(rx.encode())
        end = time.monotonic() + t
        while True:
            m = r.search(self.buf, self.pos)
            if m:
                self.pos = m.end()
                return m
            left = end - time.monotonic()
            if left <= 0 or self.p.poll() is not None and not self._read(0):
                return None
            self._read(min(left, 0.5))

    def _read(self, t):
        rd, _, _ = select.select([self.p.stdout], [], [], t)
        if not rd:
            return False
        chunk = os.read(self.p.stdout.fileno(), 65536)
        self.buf += chunk
        return bool(chunk)

    def send(self, s):
        self.p.stdin.write(s.encode())
        self.p.stdin.flush()

    def run(self, cmd, t=120):
        """Runs cmd; returns what the guest printed after it was sent (the
        echoed command too: the terminal may wrap it, so the end marker is
        matched only with its exit status) or None."""
        tag = "@@%d@@" % int(time.monotonic() * 1000)
        start = len(self.buf)
        self.send("%s; echo %s$?\n" % (cmd, tag[:-2] + "rc="))
        m = self.wait(re.escape(tag[:-2] + "rc=") + r"(\d+)", t)
        if not m:
            self.last_rc = None
            return None
        self.last_rc = int(m.group(1))
        return self.buf[start:m.start()].decode(errors="replace")

    def run_rc(self, cmd, t=120):
        """Runs cmd; returns (exit status, output) or (None, None)."""
        out = self.run(cmd, t)
        return self.last_rc, out

    def boot(self):
        if self.wait(r"~ # ", 300) is None:
            return False
        # The shell may still flush what is typed before it first reads a
        # line: wait until it answers a command before sending real ones.
        for _ in range(10):
            self.send("echo @@sync@@\n")
            if self.wait(r"\n@@sync@@", 15) is not None:
                return self.wait(r"~ # ", 30) is not None
        return False

    def close(self):
        try:
            self.send("poweroff -f\n")
            self.p.wait(20)
        except Exception:
            self.p.kill()
            self.p.wait()

    def tail(self):
        return self.buf[-3000:].decode(errors="replace")
