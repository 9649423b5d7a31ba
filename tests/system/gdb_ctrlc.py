#!/usr/bin/env python3
"""
Ctrl-C in gdb, as a person does it: Debian's gdb runs at its prompt in a
pseudo-terminal, `continue` lets the Debian test guest run (with the
default e1000 on user networking), and the byte 0x03 typed into the
terminal must stop it ("Program received signal SIGINT"); a watchpoint on
jiffies and `continue` then show the kernel running on, and a second
Ctrl-C stops it again.

(gdb -batch cannot test this: a SIGINT that reaches gdb while it passes
the interrupt to the target may also set gdb's quit flag, which aborts a
batch script at its next command - that is gdb's behaviour, not the
stub's.)

    tests/system/gdb_ctrlc.py VX86 KERNEL INITRD JIFFIES_ADDR PORT
Prints PASS:/FAIL: lines; exit status 1 on a failure.
"""
import os
import pty
import re
import select
import subprocess
import sys
import tempfile
import time

vx86, kernel, initrd, jiffies, port = sys.argv[1:6]
failed = False


def result(ok, what, detail=""):
    global failed
    print(("PASS: gdb: " if ok else "FAIL: gdb: ") + what + ("" if ok else ": " + detail))
    failed |= not ok


class Gdb:
    """gdb at its prompt in a pty; send() types a line, ctrl_c() types ^C."""

    def __init__(self):
        self.pid, self.fd = pty.fork()
        if self.pid == 0:
            os.execvp("gdb", ["gdb", "-nx", "-q", "-ex", "set pagination off",
                              "-ex", "set confirm off"])
        self.out = b""

    def read_until(self, pattern, timeout):
        """Output up to and including the regex pattern (bytes), or None."""
        end = time.time() + timeout
        rx = re.compile(pattern)
        while time.time() < end:
            m = rx.search(self.out)
            if m:
                got, self.out = self.out[:m.end()], self.out[m.end():]
                return got
            if select.select([self.fd], [], [], 0.2)[0]:
                try:
                    b = os.read(self.fd, 65536)
                except OSError:
                    return None
                if not b:
                    return None
                self.out += b
        return None

    def send(self, line):
        os.write(self.fd, line.encode() + b"\n")

    def command(self, line, timeout=30):
        self.send(line)
        return self.read_until(rb"\(gdb\) ", timeout)

    def ctrl_c(self):
        os.write(self.fd, b"\x03")

    def close(self):
        try:
            os.kill(self.pid, 9)
            os.waitpid(self.pid, 0)
        except OSError:
            pass


def text(b):
    return (b or b"").decode(errors="replace").replace("\r", "")


tmp = tempfile.mkdtemp(prefix="vx86-gdbc.")
serial = os.path.join(tmp, "serial.txt")
vm = subprocess.Popen([vx86, "-m", "256M", "-display", "none", "-serial", "file:" + serial,
                       "-kernel", kernel, "-initrd", initrd,
                       "-append", "console=ttyS0 nokaslr", "-gdb", "tcp::" + port, "-S"],
                      stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                      stderr=open(os.path.join(tmp, "vx86.err"), "w"))
gdb = Gdb()
try:
    gdb.read_until(rb"\(gdb\) ", 30)
    got = None
    for _ in range(50):
        got = gdb.command("target remote :" + port)
        if got and b"Remote debugging using" in got:
            break
        time.sleep(0.1)
    result(got is not None and b"Remote debugging using" in got, "an interactive gdb connects",
           text(got)[-200:])

    def guest_ready():
        try:
            with open(serial, "rb") as f:
                return b"vx86-guest ready" in f.read()
        except OSError:
            return False

    # Let the guest boot to its shell (the CPU busy in user space and the
    # kernel, the NIC's timers and slirp's polling running), then Ctrl-C.
    gdb.send("continue")
    end = time.time() + 180
    while not guest_ready() and time.time() < end:
        time.sleep(0.5)
    time.sleep(1)
    gdb.ctrl_c()
    got = gdb.read_until(rb"\(gdb\) ", 20)
    result(got is not None and b"SIGINT" in got, "Ctrl-C at the terminal stops the running kernel",
           text(got)[-300:] if got else "no prompt within 20 s: " + text(gdb.out)[-300:])

    got = gdb.command("printf \"PC=%lx\\n\", $pc")
    result(bool(re.search(rb"PC=[0-9a-f]+", got or b"")), "the registers are readable after the stop",
           text(got))

    # An idle tickless kernel advances jiffies by the whole idle period at
    # once, so the first write after the stop may add more than 1.
    gdb.command("set $j0 = *(unsigned long *)" + jiffies)
    gdb.command("watch *(unsigned long *)" + jiffies)
    got = gdb.command("continue", 60)
    ticks = gdb.command("printf \"TICKS=%ld\\n\", *(unsigned long *)" + jiffies + " - $j0")
    result(got is not None and b"atchpoint" in got and re.search(rb"TICKS=[1-9]", ticks or b"") is not None,
           "continue after Ctrl-C runs the kernel on (the jiffies watchpoint hits)",
           text(got)[-200:] + text(ticks)[-100:])

    gdb.command("delete")
    gdb.send("continue")
    time.sleep(3)
    gdb.ctrl_c()
    got = gdb.read_until(rb"\(gdb\) ", 20)
    result(got is not None and b"SIGINT" in got, "a second Ctrl-C stops it again",
           text(got)[-300:] if got else "no prompt: " + text(gdb.out)[-300:])
    gdb.command("kill")
finally:
    gdb.close()
    vm.kill()
    vm.wait()
    for f in os.listdir(tmp):
        os.unlink(os.path.join(tmp, f))
    os.rmdir(tmp)
sys.exit(1 if failed else 0)
