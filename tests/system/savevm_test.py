#!/usr/bin/env python3
"""Whole-VM snapshots in a qcow2 disk: savevm / loadvm / delvm, the QMP
snapshot jobs and -loadvm, checked against qemu-img (QEMU's own reading of
the image) and against the guest's own output.

The Linux test guest (initramfs-ide, its disk an -hda qcow2 made by
qemu-img) runs a loop that, for i = 1, 2, ...: appends i to a file in its
tmpfs, reads disk sector i+1 (O_DIRECT: from the disk, not the guest's page
cache), writes i into sector i (O_DIRECT), and prints
"L <i> <sha256 of the file> [<what sector i+1 held>]".  The bracket is
empty in a consistent timeline: a sector written after a snapshot and
still there after loading it (the disk not reverted) would show up there.

  1. `savevm s1` (human monitor) while the loop runs; it runs on; `stop`,
     `loadvm s1`: qemu-img check is clean, the disk (read by qemu-img)
     holds sectors 1..n of the save point and none written after it;
     `cont`: the output from there continues the output before the save
     exactly: 1..N with no gap, no repeated line, every sha256 right.
  2. the same with snapshot-save / snapshot-load jobs (JOB_STATUS_CHANGE
     created, running, waiting, pending, concluded; query-jobs;
     job-dismiss, null); snapshot-save of an existing tag fails as
     QEMU's does.  `qemu-img snapshot -l` lists s1 and s2 with their VM
     size, as `info snapshots` does (same size, date and clock columns).
  3. `quit`, qemu-img check clean; a new vx86 with `-loadvm s1` continues
     from the save point of step 1 exactly.
  4. bytes flipped inside s1's VM state (found through the image's
     snapshot table and its L1/L2 tables): `loadvm s1` fails with one
     line, the VM runs on unchanged (its output and its disk).
  5. `delvm s1`: qemu-img no longer lists it; qemu-img check clean.
  6. a raw drive next to the qcow2 one: savevm fails with QEMU's message
     and neither image changes (sha256); -loadvm of a missing tag exits
     with status 1 and one line.
  7. qemu-img reverts the image to our snapshot (check clean); a snapshot
     QEMU's savevm wrote is listed by `info snapshots` as by qemu-img,
     refused by loadvm with one line, deleted by delvm (check clean).

    tests/system/savevm_test.py [--accel tcg]
"""
import argparse
import hashlib
import os
import re
import shutil
import struct
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from qmp_lib import VM, QMPError, guest_files  # noqa: E402

COUNTER = ('rm -f /tmp/f; i=0; while [ $i -lt 1000000 ]; do i=$((i+1)); echo $i >> /tmp/f; '
           'n=$(dd if=/dev/sda bs=512 skip=$((i+1)) count=1 iflag=direct 2>/dev/null | tr -d "\\000"); '
           'echo $i | dd of=/dev/sda bs=512 seek=$i conv=notrunc,sync oflag=direct 2>/dev/null; '
           'echo "L $i $(sha256sum /tmp/f | cut -c1-64) [$n]"; done\n')
LINE = re.compile(rb"\nL (\d+) ")


def check(cond, what):
    if not cond:
        raise AssertionError(what)


def log(msg):
    print("savevm_test: " + msg, flush=True)


def last_count(out):
    m = LINE.findall(out)
    return int(m[-1]) if m else 0


def verify(text):
    """The counter lines of text: 1..N in order, hashes right, brackets
    empty.  Returns N (the last, possibly cut, line is not counted)."""
    lines = [ln for ln in text.decode(errors="replace").splitlines() if ln.startswith("L ")]
    h = hashlib.sha256()
    n_expect = 1
    for ln in lines[:-1]:
        p = ln.split()
        check(len(p) == 4 and p[1].isdigit(), "malformed line %r" % ln)
        n = int(p[1])
        check(n == n_expect, "line %d follows %d (%s)" % (n, n_expect - 1,
              "repeated" if n < n_expect else "gap"))
        h.update(b"%d\n" % n)
        check(p[2] == h.hexdigest(), "line %d: wrong sha256 (the guest's file differs)" % n)
        check(p[3] == "[]", "line %d: sector %d already held %s (the disk was not reverted)" %
              (n, n + 1, p[3]))
        n_expect += 1
    return n_expect - 1


def settle(vm, quiet=0.7):
    """Reads serial output until none came for `quiet` seconds."""
    while vm.read_serial(quiet):
        pass
    return len(vm.out)


def wait_more(vm, n, timeout=180):
    vm.wait_serial("\nL %d " % n, timeout=timeout)


def sh(*cmd):
    r = subprocess.run(cmd, capture_output=True, text=True)
    return r.returncode, r.stdout + r.stderr


def img_check(disk, what):
    rc, out = sh("qemu-img", "check", "-U", disk)
    check(rc == 0 and "No errors were found" in out, "qemu-img check after %s: %d %s" % (what, rc, out))


def img_snapshots(disk):
    """qemu-img snapshot -l: {tag: (vm size, date, vm clock)}."""
    rc, out = sh("qemu-img", "snapshot", "-U", "-l", disk)
    check(rc == 0, "qemu-img snapshot -l: %s" % out)
    return parse_table(out)


def parse_table(out):
    snaps = {}
    for ln in out.splitlines():
        m = re.match(r"^(\S+)\s+(\S+)\s+([\d.]+ \S?i?B)\s+(\S+ \S+)\s+(\S+)", ln)
        if m and m.group(1) != "ID":
            snaps[m.group(2)] = (m.group(3), m.group(4), m.group(5))
    return snaps


def sector(disk, tmp, n):
    """Sector n of the disk as qemu-img reads it (active layer)."""
    raw = os.path.join(tmp, "read.raw")
    rc, out = sh("qemu-img", "convert", "-U", "-O", "raw", disk, raw)
    check(rc == 0, "qemu-img convert: %s" % out)
    with open(raw, "rb") as f:
        f.seek(512 * n)
        return f.read(512).rstrip(b"\0").strip().decode(errors="replace")


def vmstate_host_offset(disk, tag, pos):
    """Host offset of byte pos of snapshot tag's VM state, from the qcow2
    spec: the snapshot table, its L1 table, the L2 entry."""
    with open(disk, "rb") as f:
        hdr = f.read(72)
        cbits, size, l1s, l1o, nsn, sno = (struct.unpack(">I", hdr[20:24])[0],
                                           struct.unpack(">Q", hdr[24:32])[0],
                                           struct.unpack(">I", hdr[36:40])[0],
                                           struct.unpack(">Q", hdr[40:48])[0],
                                           struct.unpack(">I", hdr[60:64])[0],
                                           struct.unpack(">Q", hdr[64:72])[0])
        cs = 1 << cbits
        l2bits = cbits - 3
        span = cs << l2bits
        p = sno
        for _ in range(nsn):
            f.seek(p)
            e = f.read(40)
            sl1o, sl1s, idl, nml = struct.unpack(">QIHH", e[:16])
            extra = struct.unpack(">I", e[36:40])[0]
            f.seek(p + 40 + extra + idl)
            name = f.read(nml).decode()
            if name == tag:
                off = (size + span - 1) // span * span + pos
                f.seek(sl1o + 8 * (off >> (cbits + l2bits)))
                l2 = struct.unpack(">Q", f.read(8))[0] & 0x00fffffffffffe00
                check(l2, "snapshot %s: no L2 table for its VM state" % tag)
                f.seek(l2 + 8 * ((off >> cbits) & ((1 << l2bits) - 1)))
                host = struct.unpack(">Q", f.read(8))[0] & 0x00fffffffffffe00
                check(host, "snapshot %s: VM state byte %d unallocated" % (tag, pos))
                return host + (off & (cs - 1))
            p += (40 + extra + idl + nml + 7) & ~7
    raise AssertionError("no snapshot %s in %s" % (tag, disk))


def file_sha(path):
    with open(path, "rb") as f:
        return hashlib.sha256(f.read()).hexdigest()


def job_events(q, job, timeout=120):
    """The statuses of job's JOB_STATUS_CHANGE events until concluded."""
    seen = []
    end = time.time() + timeout
    while "concluded" not in seen:
        e = q.wait_event("JOB_STATUS_CHANGE", timeout=max(1, end - time.time()))
        if e["data"]["id"] == job:
            seen.append(e["data"]["status"])
    return seen


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--accel", default="tcg")
    opts = ap.parse_args()
    if not shutil.which("qemu-img"):
        print("SKIP: savevm_test: qemu-img is not installed (scripts/deps.sh test)")
        return
    tmp = tempfile.mkdtemp(prefix="vx86-savevm-test.")
    kernel, _ = guest_files()
    initrd = os.path.join(os.path.dirname(kernel), "initramfs-ide.cpio.gz")
    disk = os.path.join(tmp, "disk.qcow2")
    rc, out = sh("qemu-img", "create", "-f", "qcow2", disk, "64M")
    check(rc == 0, "qemu-img create: %s" % out)
    # no_timer_check: the kernel's early IO-APIC timer check times the
    # timer against the CPU and panics when the host is too loaded to keep
    # up (shared build machines); booting is not what this test is about.
    base = ["-m", "256M", "-kernel", kernel, "-initrd", initrd,
            "-append", "console=ttyS0 vx86.modules=ide no_timer_check", "-accel", opts.accel]
    vms = []
    t0 = time.time()
    try:
        a = VM(base + ["-hda", disk], tmpdir=tmp)
        vms.append(a)
        a.wait_serial("~ # ", timeout=240)
        q = a.qmp()
        check(q.hmp("info snapshots") == "There is no snapshot available.\n", "info snapshots, none")
        a.type(COUNTER)
        wait_more(a, 15)

        # 1. savevm while the guest runs: the save point lies between what
        # was printed before the command and what was there right after it.
        p_lo = settle(a, 0.0)
        out = q.hmp("savevm s1")
        check(out == "", "savevm s1 said %r" % out)
        a.read_serial(0.0)
        p_hi = len(a.out)
        check(q.cmd("query-status")["status"] == "running", "savevm left the VM stopped")
        n_save = last_count(a.out[:p_hi])
        wait_more(a, n_save + 12)
        q.cmd("stop")
        p_load = settle(a)
        n_run = last_count(a.out)
        out = q.hmp("loadvm s1")
        check(out == "", "loadvm s1 said %r" % out)
        check(q.cmd("query-status")["status"] == "paused", "loadvm of a stopped VM: not paused")
        img_check(disk, "loadvm")
        first = last_count(a.out[:p_lo])
        check(sector(disk, tmp, first) == str(first), "sector %d lost by loadvm" % first)
        check(sector(disk, tmp, n_run - 1) == "",
              "sector %d (written after the save) still there after loadvm" % (n_run - 1))
        q.cmd("cont")
        wait_more(a, n_run + 5)
        cut = None
        for p in range(p_lo, p_hi + 1):
            try:
                verify(a.out[:p] + a.out[p_load:])
                cut = p
                break
            except AssertionError:
                continue
        check(cut is not None, "no point during savevm from which the loaded VM continues "
              "(save around line %d, loaded at line %d)" % (n_save, n_run))
        log("savevm s1 (running, ~line %d), ran on to %d, loadvm s1: continues exactly" %
            (last_count(a.out[:cut]), n_run))
        s1_cut = a.out[:cut]

        # 2. the QMP jobs, the VM stopped first so the save point is exact.
        q.cmd("stop")
        p_save2 = settle(a)
        q.cmd("snapshot-save", **{"job-id": "save2", "tag": "s2", "vmstate": "ide0-hd0",
                                  "devices": ["ide0-hd0"]})
        st = job_events(q, "save2")
        check(st == ["created", "running", "waiting", "pending", "concluded"], "save2 events %r" % st)
        jobs = q.cmd("query-jobs")
        check(len(jobs) == 1 and jobs[0]["id"] == "save2" and jobs[0]["status"] == "concluded" and
              jobs[0]["type"] == "snapshot-save" and "error" not in jobs[0], "query-jobs %r" % jobs)
        q.cmd("job-dismiss", id="save2")
        check(job_events_null(q, "save2"), "no null status after job-dismiss")
        check(q.cmd("query-jobs") == [], "jobs left after job-dismiss")
        img_check(disk, "snapshot-save")
        q.cmd("snapshot-save", **{"job-id": "again", "tag": "s2", "vmstate": "ide0-hd0",
                                  "devices": ["ide0-hd0"]})
        st = job_events(q, "again")
        check(st == ["created", "running", "aborting", "concluded"], "failing job events %r" % st)
        err = q.cmd("query-jobs")[0].get("error")
        check(err == "Snapshot 's2' already exists in one or more devices", "job error %r" % err)
        q.cmd("job-dismiss", id="again")
        try:
            q.cmd("job-dismiss", id="again")
            check(False, "job-dismiss of a dismissed job succeeded")
        except QMPError as e:
            check(e.desc == "Job not found", "job-dismiss: %s" % e.desc)
        ours = parse_table(q.hmp("info snapshots"))
        theirs = img_snapshots(disk)
        check(set(theirs) == {"s1", "s2"} and ours == theirs,
              "info snapshots %r, qemu-img snapshot -l %r" % (ours, theirs))
        for tag, (size, _, _) in theirs.items():
            check(not size.startswith("0 "), "qemu-img: snapshot %s has no VM state (%s)" % (tag, size))
        log("qemu-img snapshot -l: %s" % ", ".join("%s %s" % (t, v[0]) for t, v in sorted(theirs.items())))
        n_save2 = last_count(a.out)
        q.cmd("cont")
        wait_more(a, n_save2 + 10)
        q.cmd("stop")
        p_load2 = settle(a)
        q.cmd("snapshot-load", **{"job-id": "load2", "tag": "s2", "vmstate": "ide0-hd0",
                                  "devices": ["ide0-hd0"]})
        st = job_events(q, "load2")
        check(st == ["created", "running", "waiting", "pending", "concluded"], "load2 events %r" % st)
        q.cmd("job-dismiss", id="load2")
        q.cmd("cont")
        wait_more(a, n_save2 + 15)
        verify(s1_cut + a.out[p_load:p_save2] + a.out[p_load2:])
        log("snapshot-save s2 at line %d, snapshot-load s2: continues exactly" % n_save2)

        # 3. -loadvm at start-up
        q.cmd("quit")
        check(a.proc.wait(timeout=60) == 0, "quit: exit status %s" % a.proc.returncode)
        img_check(disk, "quit")
        c = VM(base + ["-hda", disk, "-loadvm", "s1"], tmpdir=tmp)
        vms.append(c)
        n1 = last_count(s1_cut)
        wait_more(c, n1 + 10)
        verify(s1_cut + c.out)
        log("-loadvm s1: continues from line %d exactly" % n1)

        # 4. a damaged VM state: loadvm refuses, the VM runs on unchanged
        q = c.qmp()
        off = vmstate_host_offset(disk, "s1", 1 << 20)
        with open(disk, "r+b") as f:
            f.seek(off)
            b = f.read(16)
            f.seek(off)
            f.write(bytes(x ^ 0x5a for x in b))
        n_before = last_count(c.out)
        out = q.hmp("loadvm s1")
        check(out.startswith("Error: ") and out.count("\n") == 1, "damaged loadvm said %r" % out)
        check(q.cmd("query-status")["status"] == "running", "VM stopped after a refused loadvm")
        wait_more(c, n_before + 8)
        q.cmd("stop")
        settle(c)
        verify(s1_cut + c.out)
        log("damaged VM state refused (%s), the VM ran on from line %d" % (out.strip(), n_before))

        # 5. delvm
        out = q.hmp("delvm s1")
        check(out == "", "delvm said %r" % out)
        theirs = img_snapshots(disk)
        check(set(theirs) == {"s2"}, "after delvm s1, qemu-img lists %r" % theirs)
        img_check(disk, "delvm")
        q.cmd("quit")
        check(c.proc.wait(timeout=60) == 0, "quit: exit status %s" % c.proc.returncode)
        img_check(disk, "the last quit")
        # (the guest's writes reach the image's metadata at a flush: now)
        check(sector(disk, tmp, n_before) == str(n_before),
              "sector %d lost: the refused loadvm reverted the disk" % n_before)

        # 6. a raw drive makes savevm fail and changes nothing
        raw = os.path.join(tmp, "data.raw")
        rc, out = sh("qemu-img", "create", "-f", "raw", raw, "16M")
        check(rc == 0, out)
        sums = (file_sha(disk), file_sha(raw))
        d = VM(base + ["-S", "-hda", disk, "-drive", "file=%s,format=raw,if=ide,index=1" % raw],
               tmpdir=tmp)
        vms.append(d)
        q = d.qmp()
        out = q.hmp("savevm s3")
        check(out == "Error: Device 'ide0-hd1' is writable but does not support snapshots\n",
              "savevm with a raw drive said %r" % out)
        q.cmd("snapshot-save", **{"job-id": "raw", "tag": "s3", "vmstate": "ide0-hd0",
                                  "devices": ["ide0-hd0", "ide0-hd1"]})
        job_events(q, "raw")
        err = q.cmd("query-jobs")[0].get("error")
        check(err == "Device 'ide0-hd1' is writable but does not support snapshots", "raw job: %r" % err)
        q.cmd("quit")
        d.proc.wait(timeout=60)
        check((file_sha(disk), file_sha(raw)) == sums, "a refused savevm changed an image")
        check(set(img_snapshots(disk)) == {"s2"}, "a refused savevm left a snapshot")
        e = VM(base + ["-hda", disk, "-loadvm", "nosuch"], qmp=False, tmpdir=tmp)
        vms.append(e)
        rc = e.proc.wait(timeout=60)
        err = e.proc.stderr.read().decode().strip().splitlines()
        check(rc == 1 and len(err) == 1 and "Snapshot 'nosuch' does not exist" in err[0],
              "-loadvm nosuch: status %d, %r" % (rc, err))
        log("raw drive: %s; -loadvm nosuch: %s" % (out.strip(), err[0]))

        # 7. the layouts agree both ways: qemu-img reverts to our snapshot;
        # QEMU's own savevm (of a VM that never ran: -S) is listed by vx86,
        # refused by loadvm with one line (its stream is QEMU's), and
        # deleted by delvm leaving an image qemu-img finds clean.
        rc, out = sh("qemu-img", "snapshot", "-a", "s2", disk)
        check(rc == 0, "qemu-img snapshot -a s2: %s" % out)
        img_check(disk, "qemu-img snapshot -a of vx86's snapshot")
        qemu = shutil.which("qemu-system-x86_64")
        if not qemu:
            print("SKIP: savevm_test: QEMU's own savevm (qemu-system-x86_64 not installed)")
        else:
            g = VM(["-S", "-m", "256M", "-accel", "tcg", "-hda", disk],
                   tmpdir=tmp, binary=qemu)
            vms.append(g)
            q = g.qmp()
            out = q.hmp("savevm q1")
            check(out == "", "QEMU's savevm q1 said %r" % out)
            q.cmd("quit")
            g.proc.wait(timeout=60)
            theirs = img_snapshots(disk)
            check(set(theirs) == {"s2", "q1"}, "after QEMU's savevm: %r" % theirs)
            h = VM(base + ["-S", "-hda", disk], tmpdir=tmp)
            vms.append(h)
            q = h.qmp()
            ours = parse_table(q.hmp("info snapshots"))
            check(ours == theirs, "info snapshots %r, qemu-img %r" % (ours, theirs))
            lout = q.hmp("loadvm q1")
            check(lout.startswith("Error: ") and lout.count("\n") == 1 and
                  q.cmd("query-status")["status"] == "paused", "loadvm of QEMU's snapshot: %r" % lout)
            out = q.hmp("delvm q1")
            check(out == "", "delvm q1 said %r" % out)
            q.cmd("quit")
            h.proc.wait(timeout=60)
            check(set(img_snapshots(disk)) == {"s2"}, "QEMU's snapshot still listed after delvm")
            img_check(disk, "delvm of QEMU's snapshot")
            log("QEMU's savevm q1: listed, loadvm refused (%s), delvm clean" % lout.strip())
        log("PASS (%.1f s)" % (time.time() - t0))
    except Exception:
        for i, vm in enumerate(vms):
            vm.read_serial(0.1)
            sys.stderr.write("savevm_test: FAIL; vm %d serial tail:\n%s\n" %
                             (i, vm.out[-800:].decode(errors="replace")))
        raise
    finally:
        for vm in vms:
            vm.kill()
        shutil.rmtree(tmp, ignore_errors=True)


def job_events_null(q, job):
    e = q.wait_event("JOB_STATUS_CHANGE", timeout=10)
    return e["data"] == {"status": "null", "id": job}


if __name__ == "__main__":
    main()
