#!/usr/bin/env python3
"""Changing a CD-ROM's disc from QMP and the human monitor while a Linux
guest (a Debian kernel's ata_piix + sr_mod + isofs) uses the drive.

- the guest mounts disc A: the tray is locked (Linux sends PREVENT ALLOW
  MEDIUM REMOVAL), so `eject` fails with QEMU's message, `eject -f` would not;
- after umount the tray is free: `eject` opens it (DEVICE_TRAY_MOVED
  tray-open true), the guest finds no medium;
- human monitor `change ide1-cd0 B.iso`: the tray closes (tray-open false),
  the guest reads disc B's content (the kernel saw the medium change);
- the guest's mount with the tray open closes it (Linux sends START STOP
  UNIT, load): DEVICE_TRAY_MOVED tray-open false;
- blockdev-change-medium back to A: the tray opens and closes;
- mounted (locked) again, `eject -f` opens the tray all the same;
- bad requests (unknown device, a hard disk, a missing file, both device
  and id) are refused and change nothing.

With --compare-qemu (and qemu-system-x86_64 present) the same script runs
on QEMU and the event sequence and error messages must be the same.

    tests/system/qmp_media_test.py [--accel tcg] [--compare-qemu]
"""
import argparse
import os
import random
import shutil
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from qmp_lib import VM, QMPError, guest_files  # noqa: E402


def check(cond, what):
    if not cond:
        raise AssertionError(what)


def make_iso(tmp, name, content):
    d = os.path.join(tmp, name + ".d")
    os.makedirs(d)
    with open(os.path.join(d, "disc.txt"), "w") as f:
        f.write(content + "\n")
    iso = os.path.join(tmp, name + ".iso")
    subprocess.run(["xorriso", "-as", "mkisofs", "-quiet", "-R", "-V", name.upper(),
                    "-o", iso, d], check=True, capture_output=True)
    return iso


class Guest:
    def __init__(self, vm):
        self.vm = vm
        self.n = 0

    def run(self, line, timeout=60):
        """Runs a shell line; returns what it printed (between markers)."""
        self.n += 1
        vm = self.vm
        mark = len(vm.out)
        vm.type("echo B''EGIN-%d; %s; echo E''ND-%d\n" % (self.n, line, self.n))
        vm.wait_serial("END-%d" % self.n, start=mark, timeout=timeout)
        text = vm.out[mark:].decode(errors="replace")
        return text.split("BEGIN-%d" % self.n, 1)[1].split("END-%d" % self.n, 1)[0]


# QEMU's first read after a change may fail with the UNIT ATTENTION the
# kernel then handles: a user mounts again, and so does the test.
MOUNT = ("for i in 1 2 3; do mount -t iso9660 -o ro /dev/sr0 /cd 2>/dev/null && break; "
         "sleep 0.5; done; cat /cd/disc.txt; umount /cd")


def tray_events(q):
    """The DEVICE_TRAY_MOVED events so far (device, tray-open), in order."""
    out = [(e["data"]["device"], e["data"]["tray-open"]) for e in q.events
           if e["event"] == "DEVICE_TRAY_MOVED"]
    q.events[:] = [e for e in q.events if e["event"] != "DEVICE_TRAY_MOVED"]
    return out


def settle(q, seconds=0.5):
    """Lets events that are on their way arrive (query-status as a barrier)."""
    time.sleep(seconds)
    q.cmd("query-status")


def cd_info(q, dev):
    for b in q.cmd("query-block"):
        if b["device"] == dev:
            return b
    raise AssertionError("query-block has no ide1-cd0")


# The drives: an IDE CD-ROM (-cdrom) and a scsi-cd on virtio-scsi.
SETUPS = {
    "ide": ("ide1-cd0", "ide", lambda iso: ["-cdrom", iso]),
    "scsi": ("cd1", "scsi", lambda iso: ["-device", "virtio-scsi-pci",
                                         "-drive", "if=none,id=cd1,media=cdrom,file=" + iso,
                                         "-device", "scsi-cd,drive=cd1"]),
}


def scenario(binary, accel, guest, tmp, iso_a, iso_b, want_a, want_b, setup):
    """The script; returns what a run on another emulator must repeat."""
    dev, modules, drive_args = SETUPS[setup]
    kernel, initrd_dir = guest
    initrd = os.path.join(initrd_dir, "initramfs-%s.cpio.gz" % modules)
    record = []
    vm = VM(["-m", "256M", "-kernel", kernel, "-initrd", initrd, "-accel", accel,
             "-append", "console=ttyS0 quiet vx86.modules=" + modules] + drive_args(iso_a),
            tmpdir=tmp, binary=binary)
    try:
        vm.wait_serial("~ # ", timeout=300)
        q = vm.qmp()
        g = Guest(vm)
        g.run("for i in $(seq 100); do [ -b /dev/sr0 ] && break; sleep 0.1; done; mkdir -p /cd")
        out = g.run("mount -t iso9660 -o ro /dev/sr0 /cd && cat /cd/disc.txt")
        check(want_a in out, "disc A not read: %r" % out)
        check(cd_info(q, dev)["locked"], "mounted: query-block locked %r" % cd_info(q, dev))

        r = q.execute("eject", device=dev)
        check("error" in r, "eject of a locked tray succeeded: %r" % r)
        record.append(("eject-locked", r["error"]["class"], r["error"]["desc"]))
        check(r["error"]["desc"] == "Device '%s' is locked and force was not specified, "
              "wait for tray to open and try again" % dev, "locked eject: %r" % r)
        settle(q)
        tray_events(q)      # QEMU asks the guest to eject (no event): not compared

        g.run("umount /cd")
        settle(q)
        check(not cd_info(q, dev)["locked"], "after umount: still locked %r" % cd_info(q, dev))
        q.cmd("eject", device=dev)
        settle(q)
        ev = tray_events(q)
        record.append(("eject", ev))
        check(ev == [(dev, True)], "eject events %r" % ev)
        info = cd_info(q, dev)
        check(info["tray_open"] and "inserted" not in info, "after eject: %r" % info)
        out = g.run("mount -t iso9660 -o ro /dev/sr0 /cd 2>&1 || echo no-medium-$((6*7))")
        check("no-medium-42" in out, "mount after eject: %r" % out)
        settle(q)
        ev = tray_events(q)     # Linux closes an open tray when the drive is opened
        record.append(("mount-empty", ev))
        check(ev == [(dev, False)], "mount with the tray open: events %r" % ev)
        check(not cd_info(q, dev)["tray_open"], "the guest's tray close: %r" % cd_info(q, dev))

        out = q.hmp("change %s %s" % (dev, iso_b))
        check(out == "", "change said %r" % out)
        settle(q)
        ev = tray_events(q)
        record.append(("change", ev))
        check(ev == [(dev, True), (dev, False)], "change events %r" % ev)
        info = cd_info(q, dev)
        check(not info["tray_open"] and info["inserted"]["file"] == iso_b, "after change %r" % info)
        out = g.run(MOUNT)
        check(want_b in out, "disc B not read after change: %r" % out)

        # errors: nothing changes
        for args, what in (({"device": "nosuch"}, "unknown"), ({}, "none"),
                           ({"device": dev, "id": "x"}, "both")):
            r = q.execute("eject", **args)
            check("error" in r, "eject %r succeeded" % args)
            record.append(("eject-" + what, r["error"]["class"]))
        r = q.execute("eject", device="")
        check("error" in r and "inserted" in cd_info(q, dev), "eject of '' took the disc: %r" % r)
        r = q.execute("blockdev-change-medium", device=dev,
                      filename=os.path.join(tmp, "missing.iso"))
        check("error" in r, "change to a missing file succeeded")
        record.append(("change-missing", r["error"]["class"]))
        check(cd_info(q, dev)["inserted"]["file"] == iso_b, "a failed change changed the disc")
        settle(q)
        check(tray_events(q) == [], "a failed request moved the tray")

        q.cmd("blockdev-change-medium", device=dev, filename=iso_a, format="raw")
        settle(q)
        ev = tray_events(q)
        record.append(("blockdev-change-medium", ev))
        check(ev == [(dev, True), (dev, False)], "change events %r" % ev)
        out = g.run(MOUNT)
        check(want_a in out, "disc A not read after blockdev-change-medium: %r" % out)

        # a locked tray opens with force (human monitor eject -f)
        out = g.run("mount -t iso9660 -o ro /dev/sr0 /cd && cat /cd/disc.txt")
        check(want_a in out and cd_info(q, dev)["locked"], "remount: %r" % out)
        out = q.hmp("eject -f %s" % dev)
        check(out == "", "eject -f said %r" % out)
        settle(q)
        ev = tray_events(q)
        record.append(("eject-force", ev))
        check(ev == [(dev, True)], "eject -f events %r" % ev)
        check("inserted" not in cd_info(q, dev), "eject -f left the disc %r" % cd_info(q, dev))
        q.cmd("quit")
    except Exception:
        vm.read_serial(0.1)
        sys.stderr.write("qmp_media_test (%s): serial tail:\n%s\n" %
                         (os.path.basename(binary), vm.out[-2000:].decode(errors="replace")))
        raise
    finally:
        vm.kill()
    return record


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--accel", default="tcg")
    ap.add_argument("--compare-qemu", action="store_true")
    opts = ap.parse_args()
    if not shutil.which("xorriso"):
        print("SKIP: qmp_media_test needs xorriso")
        return
    tmp = tempfile.mkdtemp(prefix="vx86-qmp-media.")
    t0 = time.time()
    try:
        kernel, initrd = guest_files()
        guest = (kernel, os.path.dirname(initrd))
        want_a = "disc-A-%08x" % random.getrandbits(32)
        want_b = "disc-B-%08x" % random.getrandbits(32)
        iso_a = make_iso(tmp, "a", want_a)
        iso_b = make_iso(tmp, "b", want_b)
        from qmp_lib import VX86
        qemu = shutil.which("qemu-system-x86_64")
        if opts.compare_qemu and not qemu:
            print("SKIP: no qemu-system-x86_64 to compare with")
        for setup in SETUPS:
            ours = scenario(VX86, opts.accel, guest, tmp, iso_a, iso_b, want_a, want_b, setup)
            print("qmp_media_test: %s: vx86 %r" % (setup, ours))
            if opts.compare_qemu and qemu:
                theirs = scenario(qemu, "tcg", guest, tmp, iso_a, iso_b, want_a, want_b, setup)
                print("qmp_media_test: %s: QEMU %r" % (setup, theirs))
                check(ours == theirs, "vx86 and QEMU differ:\n  %r\n  %r" % (ours, theirs))
        print("qmp_media_test: PASS (%.1f s)" % (time.time() - t0))
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    try:
        main()
    except QMPError as e:
        sys.exit("qmp_media_test: FAIL: %s" % e)
