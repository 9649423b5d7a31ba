#!/usr/bin/env python3
"""The QMP commands that describe the VM to a management tool (standard
library only): query-qmp-schema, query-hotpluggable-cpus, system_wakeup,
migrate-set-capabilities / query-migrate-capabilities, query-blockstats.

The schema is checked against what the commands really accept (a
command's arg-type members are exactly the arguments it takes without a
"Parameter ... is unexpected" error), the block statistics against the
guest kernel's own accounting (/sys/block/vda/stat of a Debian kernel).

    tests/system/qmp_cmds_test.py [--accel tcg]
"""
import argparse
import errno
import json
import os
import resource
import shutil
import signal
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from qmp_lib import VM, VX86, QMPError, guest_files  # noqa: E402


def check(cond, what):
    if not cond:
        raise AssertionError(what)


def error_of(q, name, **args):
    r = q.execute(name, **args)
    check("error" in r, "%s %r: no error but %r" % (name, args, r))
    return r["error"]


def execute(q, name, args):
    """q.execute with any argument names (set_link has one called "name")."""
    q.send_raw(json.dumps({"execute": name, "arguments": args}).encode() + b"\n")
    return q.reply()


def check_schema(q, seen_events):
    schema = q.cmd("query-qmp-schema")
    by_name = {}
    for e in schema:
        check(set(e) >= {"name", "meta-type"}, "schema entry %r" % e)
        check(e["name"] not in by_name, "schema names %s twice" % e["name"])
        by_name[e["name"]] = e
    check(by_name["str"] == {"name": "str", "meta-type": "builtin", "json-type": "string"},
          "builtin str %r" % by_name.get("str"))
    check(by_name["int"]["json-type"] == "int" and by_name["bool"]["json-type"] == "boolean",
          "builtins int/bool")

    def resolve(tname):
        t = by_name.get(tname)
        check(t is not None, "type %s is referenced but not defined" % tname)
        return t

    names = [c["name"] for c in q.cmd("query-commands")]
    for n in names:
        c = by_name.get(n)
        check(c is not None and c["meta-type"] == "command", "%s: no command in the schema" % n)
        check(c["allow-oob"] is False, "%s allow-oob" % n)
        resolve(c["ret-type"])
        t = resolve(c["arg-type"])
        check(t["meta-type"] == "object", "%s: arg-type %r" % (n, t))
        for m in t["members"]:
            check(set(m) <= {"name", "type", "default"}, "member %r" % m)
            resolve(m["type"])
    commands = {n for n, e in by_name.items() if e["meta-type"] == "command"}
    check(commands == set(names), "schema commands %r vs query-commands" %
          (commands ^ set(names)))

    # The arg-type is what the dispatcher accepts: each member is known
    # (an unknown name is refused as unexpected), the required ones are
    # asked for by name when missing.
    for n in names:
        if n in ("quit", "qmp_capabilities"):
            continue
        members = by_name[by_name[n]["arg-type"]]["members"]
        r = execute(q, n, {"no-such-argument-x": 1})
        check("error" in r and "unexpected" in r["error"]["desc"], "%s accepted a bogus argument" % n)
        required = [m["name"] for m in members if "default" not in m]
        if required:
            r = q.execute(n)
            check("error" in r and "'%s' is missing" % required[0] in r["error"]["desc"],
                  "%s without arguments: %r (schema says %s is required)" % (n, r, required))
        for m in members:
            bogus = {"str": 12345, "int": "x", "bool": "x", "number": "x"}.get(m["type"])
            if bogus is None:
                continue
            r = execute(q, n, {m["name"]: bogus})
            check("error" in r and "unexpected" not in r["error"]["desc"],
                  "%s does not know its schema member %s: %r" % (n, m["name"], r))
    mig = {m["name"]: m for m in by_name[by_name["migrate"]["arg-type"]]["members"]}
    check(mig["uri"] == {"name": "uri", "type": "str"} and "default" in mig["detach"],
          "migrate's members %r" % mig)
    for ev in seen_events:
        e = by_name.get(ev)
        check(e is not None and e["meta-type"] == "event", "event %s not in the schema" % ev)
    for ev in ("STOP", "RESUME", "RESET", "SHUTDOWN", "POWERDOWN", "MIGRATION", "JOB_STATUS_CHANGE"):
        check(by_name.get(ev, {}).get("meta-type") == "event", "event %s missing" % ev)
    return by_name


def check_machine_commands(q):
    hp = q.cmd("query-hotpluggable-cpus")
    check(len(hp) == 4, "query-hotpluggable-cpus with maxcpus=4: %r" % hp)
    present = [c for c in hp if "qom-path" in c]
    check(len(present) == 2 and all(c["vcpus-count"] == 1 for c in hp), "present CPUs %r" % hp)
    slots = [tuple(sorted(c["props"].items())) for c in hp]
    check(len(set(slots)) == 4, "CPU slots not distinct %r" % hp)
    fast = {c["qom-path"]: c["props"] for c in q.cmd("query-cpus-fast")}
    check({c["qom-path"]: c["props"] for c in present} == fast,
          "present slots %r vs query-cpus-fast %r" % (present, fast))
    out = q.hmp("info hotpluggable-cpus")
    check(out.startswith("Hotpluggable CPUs:\n") and out.count("qom_path:") == 2 and
          out.count("CPUInstance Properties:") == 4, "info hotpluggable-cpus %r" % out)
    e = error_of(q, "system_wakeup")
    check(e["class"] == "GenericError" and "not supported" in e["desc"], "system_wakeup %r" % e)

    caps = {c["capability"]: c["state"] for c in q.cmd("query-migrate-capabilities")}
    check(caps == {"events": False, "compress": False}, "default capabilities %r" % caps)
    q.cmd("migrate-set-capabilities", capabilities=[{"capability": "events", "state": True},
                                                     {"capability": "compress", "state": True}])
    caps = {c["capability"]: c["state"] for c in q.cmd("query-migrate-capabilities")}
    check(caps == {"events": True, "compress": True}, "capabilities after set %r" % caps)
    check(q.cmd("query-migrate-parameters")["compress-level"] == 1, "compress on: level 1")
    for bad in ([{"capability": "no-such-cap", "state": True}],
                [{"capability": "events", "state": "yes"}], [{"capability": "events"}],
                [1], "events", {"capability": "events", "state": False},
                [{"capability": "events", "state": False}, {"capability": "x-bogus", "state": True}]):
        e = error_of(q, "migrate-set-capabilities", capabilities=bad)
        check(e["class"] == "GenericError", "bad capabilities %r: %r" % (bad, e))
    caps = {c["capability"]: c["state"] for c in q.cmd("query-migrate-capabilities")}
    check(caps == {"events": True, "compress": True}, "a refused set changed something: %r" % caps)
    out = q.hmp("migrate_set_capability compress off")
    check(out == "", "migrate_set_capability said %r" % out)
    out = q.hmp("info migrate_capabilities")
    check("compress: off" in out and "events: on" in out, "info migrate_capabilities %r" % out)
    check("Error" in q.hmp("migrate_set_capability bogus on"), "hmp unknown capability")
    check(q.cmd("query-blockstats") == [], "query-blockstats without drives")


def sysfs_stat(vm, dev):
    """The guest kernel's counters of dev (Documentation/block/stat.rst)."""
    mark = len(vm.out)
    vm.type('echo "S"TAT: $(cat /sys/block/%s/stat) :E"N"D\n' % dev)   # the echo of the line differs
    vm.wait_serial(" :END", start=mark)
    line = vm.out[mark:].split(b"STAT: ")[-1].split(b" :END")[0].split()
    f = [int(x) for x in line]
    return {"rd_ops": f[0], "rd_bytes": f[2] * 512, "wr_ops": f[4], "wr_bytes": f[6] * 512,
            "flush_ops": f[15] if len(f) > 15 else None}


def blockstats_of(q, dev):
    for b in q.cmd("query-blockstats"):
        if b["device"] == dev:
            return b["stats"]
    raise AssertionError("query-blockstats has no %s" % dev)


def check_blockstats(vm, q):
    vm.wait_serial("~ # ")
    vm.type("sync; echo 3 > /proc/sys/vm/drop_caches\n")
    before_g = sysfs_stat(vm, "vda")
    before = blockstats_of(q, "virtio0")
    mark = len(vm.out)
    vm.type("dd if=/dev/vda of=/dev/null bs=4096 count=300 skip=7 iflag=direct 2>/dev/null; "
            "dd if=/dev/zero of=/dev/vda bs=4096 count=50 seek=600 oflag=direct conv=fsync "
            "2>/dev/null; echo DD-$((40+2))\n")
    vm.wait_serial("DD-42", start=mark)
    time.sleep(0.3)
    after_g = sysfs_stat(vm, "vda")
    after = blockstats_of(q, "virtio0")
    d = {k: after[k] - before[k] for k in ("rd_bytes", "wr_bytes", "rd_operations",
                                             "wr_operations", "flush_operations")}
    dg = {k: (after_g[k] - before_g[k]) if after_g[k] is not None else None for k in after_g}
    print("qmp_cmds_test: vx86 counted %r, the guest kernel %r" % (d, dg))
    check(d["rd_bytes"] == dg["rd_bytes"] and d["rd_bytes"] >= 300 * 4096,
          "rd_bytes %d vs the guest's %d" % (d["rd_bytes"], dg["rd_bytes"]))
    check(d["wr_bytes"] == dg["wr_bytes"] and d["wr_bytes"] >= 50 * 4096,
          "wr_bytes %d vs the guest's %d" % (d["wr_bytes"], dg["wr_bytes"]))
    check(d["rd_operations"] == dg["rd_ops"], "rd_operations %r vs %r" % (d, dg))
    # fsync's flush is an empty REQ_OP_WRITE|REQ_PREFLUSH bio: the kernel
    # counts it among its writes as well as its flushes.
    check(d["wr_operations"] + d["flush_operations"] == dg["wr_ops"],
          "wr_operations %r vs %r" % (d, dg))
    if dg["flush_ops"] is not None:
        check(d["flush_operations"] == dg["flush_ops"] and d["flush_operations"] >= 1,
              "flush_operations %r vs %r" % (d, dg))
    check(after["wr_highest_offset"] >= 650 * 4096, "wr_highest_offset %r" % after)
    check(after["failed_rd_operations"] == 0 and after["rd_total_time_ns"] > 0, "stats %r" % after)
    out = q.hmp("info blockstats")
    check(out.startswith("virtio0: rd_bytes=%d " % after["rd_bytes"]), "info blockstats %r" % out)


FSIZE_LIMIT = 8 << 20


def limit_file_size():
    """In the emulator's process: writes past 8 MiB of any file fail with
    EFBIG (SIGXFSZ ignored), an I/O error the host really returns."""
    resource.setrlimit(resource.RLIMIT_FSIZE, (FSIZE_LIMIT, FSIZE_LIMIT))
    signal.signal(signal.SIGXFSZ, signal.SIG_IGN)


def io_error_events(binary, accel, guest, tmp):
    """A guest write the host refuses: the BLOCK_IO_ERROR events, the
    guest's view and the block statistics (None for another emulator)."""
    kernel, initrd = guest
    disk = os.path.join(tmp, "ioerr-%s.img" % os.path.basename(binary))
    with open(disk, "wb") as f:
        f.truncate(16 << 20)
    vm = VM(["-m", "256M", "-kernel", kernel, "-initrd", initrd,
             "-append", "console=ttyS0 vx86.modules=virtio",
             "-drive", "file=%s,format=raw,if=virtio" % disk, "-accel", accel],
            tmpdir=tmp, binary=binary, preexec_fn=limit_file_size)
    try:
        vm.wait_serial("~ # ", timeout=300)
        q = vm.qmp()
        mark = len(vm.out)
        vm.type("for i in $(seq 100); do [ -b /dev/vda ] && break; sleep 0.1; done; "
                "dd if=/dev/zero of=/dev/vda bs=4096 count=1 seek=2560 oflag=direct "
                "2>/dev/null || echo write-failed-$((6*7)); "
                "dd if=/dev/zero of=/dev/vda bs=4096 count=1 seek=16 oflag=direct "
                "2>/dev/null && echo low-write-ok-$((6*7))\n")
        vm.wait_serial("low-write-ok-42", start=mark, timeout=60)
        check(b"write-failed-42" in vm.out[mark:], "the write past the limit did not fail")
        ev = q.wait_event("BLOCK_IO_ERROR", timeout=10)
        stats = blockstats_of(q, "virtio0") if binary == VX86 else None
        return ev["data"], stats
    finally:
        vm.kill()


def check_io_error(accel, guest, tmp):
    data, stats = io_error_events(VX86, accel, guest, tmp)
    print("qmp_cmds_test: BLOCK_IO_ERROR %r" % data)
    check(data == {"device": "virtio0", "node-name": "virtio0", "operation": "write",
                   "action": "report", "nospace": False, "reason": os.strerror(errno.EFBIG)},
          "BLOCK_IO_ERROR data %r" % data)
    check(stats["failed_wr_operations"] >= 1 and stats["wr_operations"] >= 1,
          "failed writes not counted: %r" % stats)
    qemu = shutil.which("qemu-system-x86_64")
    if not qemu:
        print("SKIP: no qemu-system-x86_64 to compare BLOCK_IO_ERROR with")
        return
    theirs, _ = io_error_events(qemu, "tcg", guest, tmp)
    print("qmp_cmds_test: QEMU's BLOCK_IO_ERROR %r" % theirs)
    del theirs["node-name"], data["node-name"]      # QEMU's are generated ("#block123")
    check(data == theirs, "BLOCK_IO_ERROR: vx86 %r, QEMU %r" % (data, theirs))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--accel", default="tcg")
    opts = ap.parse_args()
    tmp = tempfile.mkdtemp(prefix="vx86-qmp-cmds.")
    t0 = time.time()
    fw = VM(["-display", "none", "-serial", "none", "-accel", opts.accel,
             "-smp", "2,maxcpus=4"], tmpdir=tmp)
    vm = None
    try:
        q = fw.qmp()
        q.cmd("stop")
        q.cmd("cont")
        q.cmd("system_reset")
        seen = {q.wait_event(n)["event"] for n in ("STOP", "RESUME", "RESET")}
        check_schema(q, seen)
        check_machine_commands(q)
        q.cmd("quit")
        check(fw.proc.wait(timeout=30) == 0, "quit")
        fw.kill()

        kernel, initrd = guest_files()
        initrd = os.path.join(os.path.dirname(initrd), "initramfs-virtio.cpio.gz")
        disk = os.path.join(tmp, "disk.img")
        with open(disk, "wb") as f:
            f.truncate(16 << 20)
        vm = VM(["-m", "256M", "-kernel", kernel, "-initrd", initrd,
                 "-append", "console=ttyS0 vx86.modules=virtio",
                 "-drive", "file=%s,format=raw,if=virtio" % disk, "-accel", opts.accel], tmpdir=tmp)
        q = vm.qmp()
        check_blockstats(vm, q)
        vm.kill()
        check_io_error(opts.accel, (kernel, initrd), tmp)
        print("qmp_cmds_test: PASS (%.1f s)" % (time.time() - t0))
    except Exception:
        if vm:
            vm.read_serial(0.1)
            sys.stderr.write("qmp_cmds_test: FAIL; serial tail:\n%s\n" %
                             vm.out[-1500:].decode(errors="replace"))
        raise
    finally:
        fw.kill()
        if vm:
            vm.kill()
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    try:
        main()
    except QMPError as e:
        sys.exit("qmp_cmds_test: FAIL: %s" % e)
