#!/usr/bin/env python3
"""virtio-serial system test (see vserial.sh): the test guest with a
virtio-serial-pci, a virtconsole and a named virtserialport on listening
Unix-socket chardevs; the test is the client of both sockets.

Checked against Linux's virtio_console driver:
  - the guest has /dev/hvc0 and /dev/vport*p1, and the port's name in
    /sys/class/virtio-ports/*/name;
  - kernel messages reach the console socket (console=hvc0 besides the
    serial console), and so does what the guest writes to /dev/hvc0;
  - 512 KiB the guest writes to the named port arrive on its socket with
    the same md5, and 256 KiB the host sends arrive in the guest (md5);
  - text the host sends on the console socket is read from /dev/hvc0.
"""
import hashlib
import os
import re
import socket
import sys
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from guestlib import Guest, exit_status, log, md5_in, result  # noqa: E402

VX86 = sys.argv[1]
EXTRA = sys.argv[2:]
KERNEL, INITRD, TMP = os.environ["VS_KERNEL"], os.environ["VS_INITRD"], os.environ["VS_TMP"]
NAME = "org.vx86.test.0"


class Client:
    """The test's end of a chardev socket: keeps everything it receives."""

    def __init__(self, path):
        self.s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        for _ in range(100):
            try:
                self.s.connect(path)
                break
            except OSError:
                time.sleep(0.1)
        self.data = b""
        self.lock = threading.Lock()
        threading.Thread(target=self._reader, daemon=True).start()

    def _reader(self):
        while True:
            try:
                chunk = self.s.recv(65536)
            except OSError:
                return
            if not chunk:
                return
            with self.lock:
                self.data += chunk

    def wait_for(self, pred, t):
        end = time.monotonic() + t
        while time.monotonic() < end:
            with self.lock:
                if pred(self.data):
                    return True
            time.sleep(0.1)
        return False

    def send(self, b):
        self.s.sendall(b)


def main():
    con_path, port_path = os.path.join(TMP, "con.sock"), os.path.join(TMP, "port.sock")
    g = Guest("vserial", [
        VX86, "-m", "256M", "-nographic", "-kernel", KERNEL, "-initrd", INITRD,
        "-append", "console=hvc0 console=ttyS0 vx86.modules=vnet",
        "-device", "virtio-serial-pci,id=vser0",
        "-chardev", "socket,id=c0,path=%s,server=on,wait=off" % con_path,
        "-device", "virtconsole,chardev=c0,bus=vser0.0",
        "-chardev", "socket,id=c1,path=%s,server=on,wait=off" % port_path,
        "-device", "virtserialport,chardev=c1,name=%s" % NAME] + EXTRA)
    try:
        con, port = Client(con_path), Client(port_path)
        if not g.boot():
            result(False, "virtio-serial: guest did not boot\n" + g.tail())
            return
        out = g.run("ls /dev/hvc0 /dev/vport*p1; cat /sys/class/virtio-ports/vport*p1/name", 30)
        ok = out is not None and "/dev/hvc0" in out and NAME in out
        result(ok, "virtio-serial: /dev/hvc0 and the named port %s exist" % NAME +
               ("" if ok else "\n" + (out or g.tail())))
        m = re.search(r"/dev/vport\d+p1", out or "")
        dev = m.group(0) if m else "/dev/vport0p1"

        g.run("echo vx86-kmsg-marker >/dev/kmsg", 30)
        ok = con.wait_for(lambda d: b"vx86-kmsg-marker" in d, 30)
        result(ok, "virtio-serial: kernel messages reach the console socket (console=hvc0)")
        g.run("echo hello-from-hvc0 >/dev/hvc0", 30)
        ok = con.wait_for(lambda d: b"hello-from-hvc0" in d, 30)
        result(ok, "virtio-serial: the guest's write to /dev/hvc0 reaches the console socket")

        out = g.run("dd if=/dev/urandom of=/tmp/out bs=1024 count=512 2>/dev/null; "
                    "md5sum /tmp/out", 60)
        want = md5_in(out)
        g.run("cat /tmp/out >%s" % dev, 120)
        port.wait_for(lambda d: len(d) >= 512 * 1024, 60)
        got = hashlib.md5(port.data[:512 * 1024]).hexdigest()
        result(want is not None and got == want and len(port.data) == 512 * 1024,
               "virtio-serial: 512 KiB guest -> host on %s, md5 %s / %s (%d bytes)"
               % (dev, want, got, len(port.data)))

        blob = os.urandom(256 * 1024)
        g.send("head -c %d %s | md5sum; echo @@in-done\n" % (len(blob), dev))
        time.sleep(1)
        port.send(blob)
        m = g.wait(r"([0-9a-f]{32})\s+-\s+@@in-done", 120)
        got = m.group(1).decode() if m else None
        want = hashlib.md5(blob).hexdigest()
        result(got == want, "virtio-serial: 256 KiB host -> guest on %s, md5 %s / %s"
               % (dev, want, got))
        g.wait(r"~ # ", 10)

        # One open for stty and head: a tty's settings go with its last close.
        g.run("{ (stty raw -echo; head -c 24) </dev/hvc0 >/tmp/in & }", 30)
        time.sleep(2)
        con.send(b"host-to-console-0123456\n")
        out = g.run("sleep 2; cat /tmp/in", 30)
        ok = out is not None and "host-to-console-0123456" in out
        result(ok, "virtio-serial: host -> guest on the console (/dev/hvc0 read)" +
               ("" if ok else "\n" + (out or "")))
    finally:
        g.close()


main()
log("virtio-serial: done")
sys.exit(exit_status())
