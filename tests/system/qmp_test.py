#!/usr/bin/env python3
"""A whole QMP session against the Linux test guest (standard library only).

Negotiation, the query-* commands, stop/cont with STOP/RESUME events seen
by two clients, screendump compared with the human monitor's, 1,000
malformed or wrong-typed messages (each answered with an error, the VM
answering correctly afterwards) and system_powerdown ending with POWERDOWN
and SHUTDOWN; on SeaBIOS alone: system_reset (RESET) and quit (SHUTDOWN
host-qmp-quit) (the guest loads the ACPI button module and powers off on the
button's first event: tests/system/guest_extra.py).

    tests/system/qmp_test.py [--accel tcg] [--count 1000]
"""
import argparse
import json
import os
import random
import shutil
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from guest_extra import POWER_BUTTON_SCRIPT, initrd_with_acpi_button  # noqa: E402
from qmp_lib import VM, QMPClient, QMPError, guest_files  # noqa: E402


def check(cond, what):
    if not cond:
        raise AssertionError(what)


def bad_messages(n, rng):
    """n messages that must each be refused with an error (no newline inside)."""
    valid = [
        b'{"execute": "no-such-command", "arguments": {"a": [1, 2, {"b": null}]}, "id": 5}',
        b'{"execute": "bogus-query", "id": "x\\u00e9"}',
        b'{"execute": "screendump", "arguments": {"filename": 17}}',
    ]
    fixed = [
        b'garbage', b'{', b'}', b'[1, 2]', b'"a string"', b'42', b'null', b'{"id": 1}',
        b'{"execute": 1}', b'{"execute": null}', b'{"execute": ["stop"]}',
        b'{"execute": "stop", "arguments": [1]}', b'{"execute": "stop", "arguments": "x"}',
        b'{"execute": "stop", "arguments": {"force": true}}', b'{"execute": "cont", "foo": 1}',
        b'{"execute": "qmp_capabilities"}', b'{"execute": "query-status", "arguments": {"a": 1}}',
        b'{"execute": "screendump", "arguments": {}}',
        b'{"execute": "screendump", "arguments": {"filename": ["x"]}}',
        b'{"execute": "screendump", "arguments": {"filename": "/nonexistent/dir/x.ppm"}}',
        b'{"execute": "screendump", "arguments": {"filename": "/tmp/x", "format": "gif"}}',
        b'{"execute": "human-monitor-command", "arguments": {"command-line": 3}}',
        b'{"execute": "human-monitor-command", "arguments": {}}',
        b'{"execute": "migrate", "arguments": {"uri": 5}}',
        b'{"execute": "migrate", "arguments": {"uri": "ftp:nowhere"}}',
        b'{"execute": "migrate-set-parameters", "arguments": {"compress-level": "9"}}',
        b'{"execute": "migrate-set-parameters", "arguments": {"compress-level": 10}}',
        b'{"execute": "send-key", "arguments": {"keys": "a"}}',
        b'{"execute": "send-key", "arguments": {"keys": [{"type": "qcode", "data": "nokey"}]}}',
        b'{"execute": "migrate-incoming", "arguments": {"uri": "defer"}}',
        b'{"execute": "query-qmp-schema", "arguments": {"a": 1}}', b'{"execute": "system_wakeup"}',
        b'{"execute": "query-blockstats", "arguments": {"query-nodes": "yes"}}',
        b'{"execute": "query-hotpluggable-cpus", "arguments": {"x": 1}}',
        b'{"execute": "migrate-set-capabilities", "arguments": {"capabilities": "compress"}}',
        b'{"execute": "migrate-set-capabilities", "arguments": {"capabilities": [{"capability": "x", "state": true}]}}',
        b'{"execute": "migrate-set-capabilities", "arguments": {"capabilities": [{"capability": "compress"}]}}',
        b'{"execute": "migrate-set-capabilities", "arguments": {}}',
        b'{"execute": "eject", "arguments": {}}', b'{"execute": "eject", "arguments": {"device": 1}}',
        b'{"execute": "eject", "arguments": {"device": "nosuch"}}',
        b'{"execute": "eject", "arguments": {"device": "a", "id": "b"}}',
        b'{"execute": "blockdev-change-medium", "arguments": {"device": "x"}}',
        b'{"execute": "blockdev-change-medium", "arguments": {"device": "x", "filename": "/nonexistent"}}',
        b'{"execute": "blockdev-change-medium", "arguments": {"id": "x", "filename": "/a", "read-only-mode": "rw"}}',
        b'{"execute": "stop", "execute": "cont"}', b'{"execute": "\xff\xfe"}',
        b'{"execute": "\xc0\xaf"}', b'{"execute": "\\ud800"}', b'{"execute": "a\\u0000b"}',
        b'{"execute": "x",}', b"{'execute': 'stop'}", b'{"execute": "stop"', b'{"execute" "stop"}',
        b'[' * 1000 + b']' * 1000, b'{"a":' * 300 + b'1' + b'}' * 300,
        b'{"execute": 1e999}', b'{"execute": 01}', b'\x00\x01\x02', b'\xff' * 10,
    ]
    out = []
    for i in range(n):
        k = i % 10
        if i < len(fixed) or k < 2:
            m = fixed[i] if i < len(fixed) else rng.choice(fixed)
        elif k == 2:        # random bytes
            m = bytes(rng.randrange(1, 256) for _ in range(rng.randint(1, 120)))
        elif k == 3:        # truncated
            v = rng.choice(valid)
            m = v[:rng.randint(1, len(v) - 1)]
        elif k in (4, 5):   # bytes flipped, inserted or deleted
            m = bytearray(rng.choice(valid))
            for _ in range(rng.randint(1, 4)):
                p = rng.randrange(len(m))
                op = rng.randrange(3)
                if op == 0:
                    m[p] = rng.randrange(1, 256)
                elif op == 1:
                    m.insert(p, rng.randrange(1, 256))
                elif len(m) > 1:
                    del m[p]
            m = bytes(m)
        elif k == 6:        # unknown commands, odd ids
            idv = rng.choice([1, "s", None, [1], {"a": 2}, 1.5, True])
            m = json.dumps({"execute": "nope-%d" % i, "id": idv}).encode()
        elif k == 7:        # huge strings
            m = json.dumps({"execute": "x" * rng.randint(1000, 200000)}).encode()
        elif k == 8:        # 1 MiB lines (over the limit)
            m = b'{"execute": "' + b'A' * (1024 * 1024 + rng.randint(0, 4096))
        else:               # wrong argument types for real commands
            cmd = rng.choice(["screendump", "human-monitor-command", "migrate", "send-key",
                              "migrate-set-parameters", "migrate-incoming",
                              "migrate-set-capabilities", "eject", "blockdev-change-medium"])
            arg = rng.choice(["filename", "command-line", "uri", "keys", "compress-level"])
            val = rng.choice([1, None, [], {}, True, 2.5])
            m = json.dumps({"execute": cmd, "arguments": {arg: val}}).encode()
        out.append(m.replace(b"\n", b" ").replace(b"\r", b" "))
    return out


def fuzz(q, count, rng):
    """Each bad message gets error replies only, then the probe answers."""
    for i, m in enumerate(bad_messages(count, rng)):
        q.send_raw(m + b"\n" + json.dumps({"execute": "query-status", "id": i}).encode() + b"\n")
        errors = 0
        while True:
            r = q.reply()
            if r.get("id") == i and "return" in r:
                break
            check("error" in r, "message %d %r got a non-error reply %r" % (i, m[:100], r))
            check(set(r["error"]) == {"class", "desc"}, "bad error shape %r" % r)
            errors += 1
        check(errors >= 1, "message %d %r got no error reply" % (i, m[:100]))
        check(r["return"]["status"] == "running", "VM status after message %d: %r" % (i, r))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--accel", default="tcg")
    ap.add_argument("--count", type=int, default=1000)
    ap.add_argument("--seed", type=int, default=1)
    opts = ap.parse_args()
    tmp = tempfile.mkdtemp(prefix="vx86-qmp-test.")
    kernel, initrd = guest_files()
    initrd = initrd_with_acpi_button(initrd, tmp)
    vm = VM(["-m", "256M", "-kernel", kernel, "-initrd", initrd, "-append", "console=ttyS0",
             "-accel", opts.accel, "-name", "qmp-test"], tmpdir=tmp)
    t0 = time.time()
    # SeaBIOS without a disk: reset and quit
    mon_sock = os.path.join(tmp, "mon.sock")
    fw = VM(["-display", "none", "-serial", "none", "-accel", opts.accel,
             "-chardev", "socket,id=qm,path=%s,server=on,wait=off" % mon_sock,
             "-mon", "chardev=qm,mode=control"], tmpdir=tmp)
    try:
        q = fw.qmp()
        qm = QMPClient(mon_sock)        # -chardev socket + -mon mode=control
        check("QMP" in qm.greeting, "-mon greeting")
        qm.cmd("qmp_capabilities")
        check(qm.cmd("query-status")["status"] == "running", "-mon query-status")
        time.sleep(0.5)
        q.cmd("system_reset")
        ev = q.wait_event("RESET")
        check(ev["data"] == {"guest": False, "reason": "host-qmp-system-reset"}, "RESET %r" % ev)
        check(q.cmd("query-status")["status"] == "running", "running after system_reset")
        q.cmd("stop")
        q.cmd("system_reset")           # while paused: carried out on cont
        q.cmd("cont")
        check(q.wait_event("RESET")["data"]["guest"] is False, "RESET after cont")
        check(qm.wait_event("RESET")["event"] == "RESET", "RESET on the -mon client")
        q.cmd("quit")
        sd = q.wait_event("SHUTDOWN")
        check(sd["data"] == {"guest": False, "reason": "host-qmp-quit"}, "SHUTDOWN %r" % sd)
        check(fw.proc.wait(timeout=30) == 0, "quit: exit status")
    finally:
        fw.kill()
    try:
        vm.wait_serial("~ # ")
        # negotiation
        raw = QMPClient(vm.qmp_path)
        g = raw.greeting["QMP"]
        check(g["capabilities"] == [] and "qemu" in g["version"], "greeting %r" % g)
        r = raw.execute("query-status")
        check(r["error"]["class"] == "CommandNotFound", "before negotiation: %r" % r)
        check(raw.execute("qmp_capabilities") == {"return": {}}, "negotiation")
        r = raw.execute("qmp_capabilities")
        check(r["error"]["class"] == "CommandNotFound", "second negotiation: %r" % r)
        q = raw
        q2 = vm.qmp()                 # a second client sees the events too

        st = q.cmd("query-status")
        check(st == {"running": True, "singlestep": False, "status": "running"}, "status %r" % st)
        check(q.cmd("query-name") == {"name": "qmp-test"}, "query-name")
        v = q.cmd("query-version")
        check(set(v["qemu"]) == {"major", "minor", "micro"} and v["package"].startswith("vx86"),
              "query-version %r" % v)
        cpus = q.cmd("query-cpus-fast")
        check(len(cpus) == 1 and cpus[0]["cpu-index"] == 0 and cpus[0]["target"] == "x86_64",
              "query-cpus-fast %r" % cpus)
        kvm = q.cmd("query-kvm")
        check(kvm["enabled"] == (opts.accel == "kvm"), "query-kvm %r" % kvm)
        check(q.cmd("query-block") == [], "query-block")
        names = {c["name"] for c in q.cmd("query-commands")}
        for c in ("query-status", "stop", "cont", "system_powerdown", "quit", "screendump",
                  "human-monitor-command", "migrate", "query-migrate", "query-qmp-schema"):
            check(c in names, "query-commands lacks %s" % c)
        schema = {e["name"]: e for e in q.cmd("query-qmp-schema")}
        check(all(schema.get(n, {}).get("meta-type") == "command" for n in names),
              "query-commands names missing from query-qmp-schema")
        mig = schema[schema["migrate"]["arg-type"]]["members"]
        check({"name": "uri", "type": "str"} in mig, "migrate's schema members %r" % mig)
        check("VM status: running" in q.hmp("info status"), "info status")
        check("RIP=" in q.hmp("info registers") or "rip" in q.hmp("info registers").lower(),
              "info registers")

        # stop / cont
        q.cmd("stop")
        check(q.wait_event("STOP")["event"] == "STOP", "STOP")
        check(q2.wait_event("STOP")["event"] == "STOP", "STOP on the second client")
        check(q.cmd("query-status")["status"] == "paused", "paused")
        mark = len(vm.out)
        vm.type("echo paused-$((6*7))\n")
        time.sleep(1.0)
        vm.read_serial(0.2)
        check(b"paused-42" not in vm.out[mark:], "the guest ran while stopped")
        q.cmd("cont")
        q.wait_event("RESUME")
        q2.wait_event("RESUME")
        vm.wait_serial("paused-42", start=mark)

        # screendump: QMP and the human monitor give the same image
        a, b = os.path.join(tmp, "qmp.ppm"), os.path.join(tmp, "hmp.ppm")
        q.cmd("stop")
        q.cmd("screendump", filename=a)
        out = q.hmp("screendump " + b)
        check(out == "", "human screendump said %r" % out)
        with open(a, "rb") as fa, open(b, "rb") as fb:
            da, db = fa.read(), fb.read()
        check(da.startswith(b"P6") and da == db, "screendumps differ (%d vs %d bytes)" % (len(da), len(db)))
        q.cmd("screendump", filename=os.path.join(tmp, "s.png"), format="png")
        with open(os.path.join(tmp, "s.png"), "rb") as f:
            check(f.read(8) == b"\x89PNG\r\n\x1a\n", "png screendump")
        q.cmd("cont")

        # 1,000 malformed messages
        t1 = time.time()
        fuzz(q, opts.count, random.Random(opts.seed))
        print("qmp_test: %d malformed messages refused in %.1f s" % (opts.count, time.time() - t1))
        mark = len(vm.out)
        vm.type("echo probe-$((6*7))\n")
        vm.wait_serial("probe-42", start=mark, timeout=30)
        check(q.cmd("query-status")["status"] == "running", "running after the fuzzing")
        q2.events.clear()

        # system_powerdown: the guest powers off on the ACPI power button
        vm.type(POWER_BUTTON_SCRIPT)
        vm.wait_serial("pwrbtn=/dev/input/event", start=mark)
        vm.wait_serial("~ # ", start=vm.out.rindex(b"pwrbtn="))
        # The reader may not have opened the event device yet: press again
        # until the guest reacts (as a management tool would).
        sd = None
        for _ in range(10):
            q.cmd("system_powerdown")
            q.wait_event("POWERDOWN")
            try:
                sd = q.wait_event("SHUTDOWN", timeout=5)
                break
            except TimeoutError:
                pass
        check(sd is not None, "no SHUTDOWN after system_powerdown")
        check(sd["data"] == {"guest": True, "reason": "guest-shutdown"}, "SHUTDOWN %r" % sd)
        check(q2.wait_event("SHUTDOWN")["data"]["guest"], "SHUTDOWN on the second client")
        rc = vm.proc.wait(timeout=30)
        check(rc == 0, "exit status %d after the power-off" % rc)
        events = {n for n, e in schema.items() if e["meta-type"] == "event"}
        check(q.seen | q2.seen | qm.seen <= events and {"STOP", "SHUTDOWN"} <= q.seen,
              "events seen %r, in the schema %r" % (q.seen | q2.seen | qm.seen, events))
        print("qmp_test: PASS (%.1f s)" % (time.time() - t0))
    except Exception:
        vm.read_serial(0.1)
        sys.stderr.write("qmp_test: FAIL; serial tail:\n%s\n" % vm.out[-1500:].decode(errors="replace"))
        raise
    finally:
        vm.kill()
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
