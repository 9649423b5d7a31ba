#!/usr/bin/env python3
"""Drives the networking system test (see net.sh): guests on the serial
console, a host HTTP server, hostfwd, socket netdevs between emulators."""
import hashlib, os, re, select, socket, subprocess, sys, time, urllib.request

VX86, TESTS = sys.argv[1], sys.argv[2].split()
EXTRA = sys.argv[3:]
KERNEL, INITRD = os.environ["NET_KERNEL"], os.environ["NET_INITRD"]
TMP, MB = os.environ["NET_TMP"], int(os.environ.get("NET_MB", "50"))
# Linux finds the e1000 through the DSDT's PCI0 and routes its INTx with
# _PRT to the IOAPIC (GSI 16-19), as on a firmware-booted board.
APPEND = "console=ttyS0 quiet vx86.modules=net"
failed = False


def log(msg):
    sys.stdout.write(msg + "\n")
    sys.stdout.flush()


def result(ok, what):
    global failed
    log(("PASS: " if ok else "FAIL: ") + what)
    failed |= not ok


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


class Guest:
    def __init__(self, name, cmd):
        self.name = name
        self.p = subprocess.Popen(cmd, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                  stderr=subprocess.STDOUT)
        self.buf = b""
        self.pos = 0

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

    def run(self, cmd, t=120, rx=None):
        """Runs cmd; returns what the guest printed after it was sent (the
        echoed command too: the terminal may wrap it, so the end marker is
        matched only with its exit status) or None."""
        tag = "@@%d@@" % int(time.monotonic() * 1000)
        start = len(self.buf)
        self.send("%s; echo %s$?\n" % (cmd, tag[:-2] + "rc="))
        m = self.wait(re.escape(tag[:-2] + "rc=") + r"(\d+)", t)
        if not m:
            return None
        return self.buf[start:m.start()].decode(errors="replace")

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


def vx86(name, net_args, mem="256M"):
    return Guest(name, [VX86, "-m", mem, "-nographic", "-kernel", KERNEL, "-initrd", INITRD,
                        "-append", APPEND] + net_args + EXTRA)


def md5_of(path):
    h = hashlib.md5()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def md5_in(out):
    m = re.findall(r"\b([0-9a-f]{32})\b", out or "")
    return m[-1] if m else None


def test_slirp():
    www = os.path.join(TMP, "www")
    os.makedirs(www, exist_ok=True)
    big = os.path.join(www, "big.bin")
    with open(big, "wb") as f:
        f.write(os.urandom(MB << 20))
    want = md5_of(big)
    http_port, fwd_port = free_port(), free_port()
    srv = subprocess.Popen([sys.executable, "-m", "http.server", str(http_port), "--bind",
                            "127.0.0.1", "--directory", www], stdout=subprocess.DEVNULL,
                           stderr=subprocess.DEVNULL)
    g = vx86("slirp", ["-nic", "user,model=e1000,hostfwd=tcp:127.0.0.1:%d-:80" % fwd_port])
    try:
        if not g.boot():
            result(False, "slirp: guest did not boot\n" + g.tail())
            return
        out = g.run("udhcpc -i eth0 -q -f -n -t 5 -s /etc/udhcpc/default.script", 240)
        ok = out is not None and "udhcpc: eth0 10.0.2.15" in out
        result(ok, "slirp: DHCP gave eth0 10.0.2.15" + ("" if ok else "\n" + g.tail()))
        t0 = time.monotonic()
        out = g.run("wget -q -O - http://10.0.2.2:%d/big.bin | md5sum" % http_port, 900)
        dt = time.monotonic() - t0
        got = md5_in(out)
        result(got == want, "slirp: guest wget of %d MiB from 10.0.2.2 (%.1f s, %.1f MiB/s), md5 %s"
               % (MB, dt, MB / dt if dt else 0, got))
        out = g.run("mkdir -p /www && head -c 3000000 /dev/urandom >/www/f.bin && "
                    "md5sum /www/f.bin && httpd -p 80 -h /www", 120)
        gsum = md5_in(out)
        try:
            data = urllib.request.urlopen("http://127.0.0.1:%d/f.bin" % fwd_port,
                                          timeout=300).read()
            hsum = hashlib.md5(data).hexdigest()
        except Exception as e:
            hsum = "error %s" % e
        result(gsum is not None and gsum == hsum,
               "slirp: host fetched 3 MB from guest httpd through hostfwd, md5 %s" % hsum)
    finally:
        g.close()
        srv.kill()
        srv.wait()


def qemu_guest(name, net_args):
    return Guest(name, ["qemu-system-x86_64", "-m", "256M", "-nographic", "-kernel", KERNEL,
                        "-initrd", INITRD, "-append", APPEND] + net_args)


def test_pair(label, make_b):
    port = free_port()
    a = vx86("A", ["-netdev", "socket,id=n0,listen=127.0.0.1:%d" % port,
                   "-device", "e1000,netdev=n0,mac=52:54:00:12:34:56"])
    b = None
    try:
        if not a.boot():
            result(False, "%s: guest A did not boot\n%s" % (label, a.tail()))
            return
        b = make_b(port)
        if not b.boot():
            result(False, "%s: guest B did not boot\n%s" % (label, b.tail()))
            return
        a.run("ifconfig eth0 10.9.0.1 netmask 255.255.255.0 up", 30)
        b.run("ifconfig eth0 10.9.0.2 netmask 255.255.255.0 up", 30)
        out = b.run("ping -c 2 -W 5 10.9.0.1", 60)
        result(out is not None and " 0% packet loss" in out, "%s: ping A from B" % label)
        out = b.run("dd if=/dev/urandom of=/tmp/x bs=1M count=%d 2>/dev/null; md5sum /tmp/x" % MB, 600)
        want = md5_in(out)
        a.send("nc -l -p 5000 | md5sum; echo @@A-done\n")
        time.sleep(2)
        t0 = time.monotonic()
        b.run("nc 10.9.0.1 5000 </tmp/x", 900)
        m = a.wait(r"([0-9a-f]{32})\s+-\s+@@A-done", 300) or a.wait(r"([0-9a-f]{32})", 5)
        dt = time.monotonic() - t0
        got = m.group(1).decode() if m else None
        result(got is not None and got == want,
               "%s: %d MiB over TCP (busybox nc) from B to A (%.1f s), md5 %s / %s"
               % (label, MB, dt, want, got))
    finally:
        a.close()
        if b:
            b.close()


def main():
    if "slirp" in TESTS:
        test_slirp()
    if "socket" in TESTS:
        test_pair("socket vx86-vx86", lambda port: vx86("B", [
            "-netdev", "socket,id=n0,connect=127.0.0.1:%d" % port,
            "-device", "e1000,netdev=n0,mac=52:54:00:12:34:57"]))
    if "qemu" in TESTS:
        if subprocess.call(["sh", "-c", "command -v qemu-system-x86_64"],
                           stdout=subprocess.DEVNULL) != 0:
            log("SKIP: qemu: qemu-system-x86_64 not installed")
        else:
            test_pair("socket vx86-qemu", lambda port: qemu_guest("Q", [
                "-netdev", "socket,id=n0,connect=127.0.0.1:%d" % port,
                "-device", "e1000,netdev=n0,mac=52:54:00:12:34:57"]))
    sys.exit(1 if failed else 0)


main()
