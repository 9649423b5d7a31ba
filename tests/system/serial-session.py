#!/usr/bin/env python3
"""Drives a guest's serial console (the test guest's busybox shell).

    serial-session.py [--wait RX] [--timeout S] [--ready-file F] [--cmd CMD]... -- PROGRAM ARGS...

Starts PROGRAM with its stdin/stdout as the console, waits up to --timeout
seconds for the regular expression --wait (default: the shell prompt
'~ # '), then sends each --cmd in turn, each followed by an end marker it
waits for (same timeout), then `poweroff -f`.  Prints everything the guest
wrote, then 'session: exit=N' (N the exit status, or 'timeout') and
'session: ready=yes|no' and 'session: seconds-to-ready=T'.
"""
import argparse
import os
import re
import select
import subprocess
import sys
import time


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--wait", default=r"~ # ")
    ap.add_argument("--timeout", type=float, default=120)
    ap.add_argument("--cmd", action="append", default=[])
    ap.add_argument("--no-poweroff", action="store_true")
    ap.add_argument("--raw", help="also write the guest's bytes, unchanged, to this file")
    ap.add_argument("--ready-file", help="created when the guest is ready (before the commands)")
    ap.add_argument("argv", nargs=argparse.REMAINDER)
    a = ap.parse_args()
    argv = a.argv[1:] if a.argv and a.argv[0] == "--" else a.argv
    t0 = time.monotonic()
    p = subprocess.Popen(argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                         stderr=subprocess.STDOUT)
    buf = b""

    def wait(rx, t, start=0):
        nonlocal buf
        r = re.compile(rx.encode())
        end = time.monotonic() + t
        while True:
            m = r.search(buf, start)
            if m:
                return m
            left = end - time.monotonic()
            if left <= 0:
                return None
            rd, _, _ = select.select([p.stdout], [], [], min(left, 0.5))
            if rd:
                chunk = os.read(p.stdout.fileno(), 65536)
                if not chunk:
                    return r.search(buf, start)
                buf += chunk

    def send(s):
        try:
            p.stdin.write(s.encode())
            p.stdin.flush()
        except BrokenPipeError:
            pass

    ready = wait(a.wait, a.timeout)
    ready_at = time.monotonic() - t0
    if ready and a.ready_file:
        open(a.ready_file, "w").close()
    if ready:
        for i, cmd in enumerate(a.cmd):
            mark = "SESSION-MARK-%d" % i
            start = len(buf)
            # The marker is built by the shell so the echoed command line
            # does not match it.
            send("%s; echo SESSION-MARK-$((%d))\n" % (cmd, i))
            if not wait(mark + r"\r?\n", a.timeout, start + len(cmd) + 10):
                break
        if not a.no_poweroff:
            send("poweroff -f\n")
    try:
        rc = p.wait(30 if ready else 1)
    except subprocess.TimeoutExpired:
        p.kill()
        p.wait()
        rc = "timeout"
    wait(r"$^", 0.2)
    if a.raw:
        with open(a.raw, "wb") as f:
            f.write(buf)
    sys.stdout.write(buf.decode(errors="replace"))
    sys.stdout.write("\nsession: exit=%s\nsession: ready=%s\nsession: seconds-to-ready=%.1f\n"
                     % (rc, "yes" if ready else "no", ready_at))


if __name__ == "__main__":
    main()
