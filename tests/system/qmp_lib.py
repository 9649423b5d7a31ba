"""Helpers for the QMP and migration system tests (standard library only).

    vm = VM(["-m", "256M", ...], qmp=True)   # starts ./vx86 with -nographic and a QMP socket
    vm.wait_serial("~ # ")                   # serial output (stdout) so far contains it
    q = vm.qmp()                             # QMPClient, negotiated
    q.cmd("query-status")                    # the "return" value, or raises QMPError
    vm.kill()
"""
import json
import os
import select
import socket
import subprocess
import tempfile
import time

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
VX86 = os.path.join(ROOT, "vx86")


def guest_files():
    out = subprocess.run([os.path.join(ROOT, "tests/guest/mkguest.sh")], check=True,
                         capture_output=True, text=True).stdout.split()
    return out[0], out[1]


class QMPError(Exception):
    def __init__(self, err):
        super().__init__("%s: %s" % (err.get("class"), err.get("desc")))
        self.cls = err.get("class")
        self.desc = err.get("desc")


class QMPClient:
    def __init__(self, path, timeout=30):
        self.sock = socket.socket(socket.AF_UNIX)
        self.timeout = timeout
        self.sock.settimeout(timeout)
        self.sock.connect(path)
        self.buf = b""
        self.events = []
        self.seen = set()           # every event name received (schema checks)
        self.greeting = self.recv()

    def recv(self):
        while b"\n" not in self.buf:
            d = self.sock.recv(65536)
            if not d:
                raise EOFError("QMP connection closed")
            self.buf += d
        line, self.buf = self.buf.split(b"\n", 1)
        m = json.loads(line)
        if isinstance(m, dict) and "event" in m:
            self.seen.add(m["event"])
        return m

    def send_raw(self, data):
        self.sock.sendall(data)

    def reply(self):
        """The next reply (events on the way are kept in self.events)."""
        while True:
            m = self.recv()
            if "event" in m:
                self.events.append(m)
                continue
            return m

    def execute(self, name, **args):
        msg = {"execute": name}
        if args:
            msg["arguments"] = args
        self.send_raw(json.dumps(msg).encode() + b"\n")
        return self.reply()

    def cmd(self, name, **args):
        r = self.execute(name, **args)
        if "error" in r:
            raise QMPError(r["error"])
        return r["return"]

    def hmp(self, line):
        return self.cmd("human-monitor-command", **{"command-line": line})

    def wait_event(self, name, timeout=30):
        end = time.time() + timeout
        while True:
            for i, e in enumerate(self.events):
                if e["event"] == name:
                    return self.events.pop(i)
            if time.time() > end:
                raise TimeoutError("no %s event" % name)
            self.sock.settimeout(max(0.1, end - time.time()))
            try:
                m = self.recv()
            finally:
                self.sock.settimeout(self.timeout)
            if "event" in m:
                self.events.append(m)

    def close(self):
        self.sock.close()


class VM:
    def __init__(self, args, qmp=True, tmpdir=None, binary=VX86, preexec_fn=None):
        self.tmp = tmpdir or tempfile.mkdtemp(prefix="vx86-qmp.")
        self.qmp_path = os.path.join(self.tmp, "qmp-%d.sock" % id(self))
        cmd = [binary, "-nographic"] + args
        if qmp:
            cmd += ["-qmp", "unix:%s,server,nowait" % self.qmp_path]
        self.proc = subprocess.Popen(cmd, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                     stderr=subprocess.PIPE, preexec_fn=preexec_fn)
        self.out = b""
        if qmp:
            for _ in range(200):
                if os.path.exists(self.qmp_path) or self.proc.poll() is not None:
                    break
                time.sleep(0.05)

    def qmp(self):
        q = QMPClient(self.qmp_path)
        q.cmd("qmp_capabilities")
        return q

    def read_serial(self, timeout=0.0):
        r, _, _ = select.select([self.proc.stdout], [], [], timeout)
        if r:
            d = os.read(self.proc.stdout.fileno(), 65536)
            self.out += d
            return len(d) > 0
        return False

    def wait_serial(self, text, timeout=120, start=0):
        end = time.time() + timeout
        t = text.encode() if isinstance(text, str) else text
        while t not in self.out[start:]:
            if time.time() > end:
                raise TimeoutError("serial: no %r; tail: %r" % (text, self.out[-300:]))
            if not self.read_serial(0.2) and self.proc.poll() is not None:
                raise RuntimeError("vx86 exited (%d) before %r; stderr: %s" %
                                   (self.proc.returncode, text, self.proc.stderr.read()[-500:]))
        return self.out

    def type(self, text):
        self.proc.stdin.write(text.encode())
        self.proc.stdin.flush()

    def kill(self):
        if self.proc.poll() is None:
            self.proc.kill()
        self.proc.wait()
