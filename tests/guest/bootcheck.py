#!/usr/bin/env python3
"""Boots the guest from tests/guest/mkguest.sh in an emulator, waits for the
shell prompt, runs a command, powers off, and reports the wall times.

Works with any emulator that takes QEMU's command line (qemu-system-x86_64,
vx86):

    tests/guest/bootcheck.py                       # qemu-system-x86_64
    tests/guest/bootcheck.py --emulator ./vx86 --timeout 600
    tests/guest/bootcheck.py --no-kernel-args --halt-ok -- -bios fw.bin ...

Exit status 0 when the banner, the prompt, the command's answer (42) and
the power-off were all seen in time; 1 otherwise, with the console output
so far on stderr.
"""
import argparse
import os
import select
import subprocess
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def guest_paths():
    out = subprocess.run([os.path.join(ROOT, "tests/guest/mkguest.sh")],
                         check=True, stdout=subprocess.PIPE, text=True).stdout.split()
    return out[0], out[1]


class Console:
    """The emulator's stdio as a serial console: read with a deadline."""

    def __init__(self, proc):
        self.proc = proc
        self.buf = b""

    def wait_for(self, needle, deadline):
        needle = needle.encode()
        while needle not in self.buf:
            left = deadline - time.monotonic()
            if left <= 0:
                return False
            ready, _, _ = select.select([self.proc.stdout], [], [], min(left, 1.0))
            if ready:
                chunk = os.read(self.proc.stdout.fileno(), 65536)
                if not chunk:
                    return needle in self.buf
                self.buf += chunk
        return True

    def send(self, text):
        self.proc.stdin.write(text.encode())
        self.proc.stdin.flush()


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--emulator", default="qemu-system-x86_64")
    ap.add_argument("--timeout", type=float, default=60.0,
                    help="seconds allowed from start to the prompt")
    ap.add_argument("--memory", default="512M")
    ap.add_argument("--no-kernel-args", action="store_true",
                    help="pass only the extra arguments (they load the guest)")
    ap.add_argument("--halt-ok", action="store_true",
                    help="accept a kernel that halts on poweroff (no ACPI) "
                    "instead of ending the emulator")
    ap.add_argument("extra", nargs="*", help="extra emulator arguments")
    args = ap.parse_args()

    if args.no_kernel_args:
        cmd = [args.emulator, "-nographic", "-no-reboot"] + args.extra
    else:
        kernel, initrd = guest_paths()
        cmd = [args.emulator, "-kernel", kernel, "-initrd", initrd,
               "-append", "console=ttyS0", "-nographic", "-m", args.memory,
               "-no-reboot"] + args.extra
    start = time.monotonic()
    proc = subprocess.Popen(cmd, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT)
    con = Console(proc)
    ok = False
    try:
        deadline = start + args.timeout
        if not con.wait_for("vx86-guest ready", deadline):
            print("bootcheck: no banner within %.0f s" % args.timeout, file=sys.stderr)
            return 1
        t_banner = time.monotonic() - start
        if not con.wait_for("~ # ", deadline):
            print("bootcheck: no prompt within %.0f s" % args.timeout, file=sys.stderr)
            return 1
        t_prompt = time.monotonic() - start
        con.send("echo answer=$((6*7)); poweroff -f\n")
        if not con.wait_for("answer=42", time.monotonic() + 30):
            print("bootcheck: command gave no answer", file=sys.stderr)
            return 1
        if args.halt_ok:
            if not con.wait_for("reboot: ", time.monotonic() + 30):
                print("bootcheck: poweroff -f did not stop the kernel", file=sys.stderr)
                return 1
        else:
            try:
                proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                print("bootcheck: poweroff -f did not end the emulator", file=sys.stderr)
                return 1
        t_total = time.monotonic() - start
        print("bootcheck: %s banner %.2f s, prompt %.2f s, powered off %.2f s"
              % (os.path.basename(args.emulator), t_banner, t_prompt, t_total))
        ok = True
        return 0
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        if not ok:
            sys.stderr.write(con.buf.decode(errors="replace")[-4000:] + "\n")


if __name__ == "__main__":
    sys.exit(main())
