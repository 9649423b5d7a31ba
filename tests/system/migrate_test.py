#!/usr/bin/env python3
"""Save/restore and migration of the running Linux test guest.

The guest runs a shell loop that appends its counter to a file in its
tmpfs and prints "L <n> <sha256 of the file>".  Mid-run the VM goes
through, in turn:

  1. `migrate file:F` (QMP); the source is killed; a new vx86 starts with
     `-incoming file:F`;
  2. `migrate "exec:cat > F2"` (human monitor through QMP); a new vx86
     with `-incoming "exec:cat F2"`;
  3. `migrate tcp:127.0.0.1:PORT` to a vx86 started with `-incoming defer`
     and told `migrate-incoming tcp:...`.

Each iteration also writes "<n>\\n" to the shared raw disk image (a
virtio-blk disk all four processes open) at byte 16*n, with fsync, before it
prints its line.  Once the live migration completed, `cont` on the source
is refused: the destination holds the disk's write lock.

The concatenated output must count 1, 2, 3, ... with no gap and no
repeated line, and every hash must be the sha256 of "1\\n2\\n...n\\n": the
guest's RAM, CPU and devices came back exactly.  Read on the host at the
end, the disk image must hold every printed counter at its place: no write
the guest saw completed was lost in a handover.  Also: a migration that
cannot start leaves the source running; a truncated or corrupted stream
makes the destination exit with status 1 and one line saying why.

    tests/system/migrate_test.py [--accel tcg] [--smp N]

With --smp N the guest has N CPUs (the counter runs on whichever the
scheduler picks; each CPU's state and local APIC travel in the stream).
"""
import argparse
import hashlib
import os
import shutil
import socket
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from qmp_lib import VM, QMPError, guest_files  # noqa: E402

# (the disk write is a function typed first: the loop's own line stays
# short enough that the console's echo of it never starts a line "L ")
COUNTER = ('w() { echo $1 | dd of=/dev/vda bs=16 seek=$1 conv=notrunc,fsync 2>/dev/null; }\n'
           'rm -f /tmp/f; i=0; while [ $i -lt 1000000 ]; do i=$((i+1)); echo $i >> /tmp/f; w $i; '
           'echo "L $i $(sha256sum /tmp/f | cut -c1-64)"; done\n')
DISK_MIB = 32           # byte 16*n holds counter n: room for 2 M lines


def check(cond, what):
    if not cond:
        raise AssertionError(what)


def last_count(out):
    nums = [int(x.split()[0]) for x in out.split(b"\nL ")[1:] if x.split() and x.split()[0].isdigit()]
    return nums[-1] if nums else 0


def verify(outputs):
    """The counter lines of all VMs' outputs, in order: 1..N, hashes right."""
    text = b"".join(outputs).decode(errors="replace")
    lines = [ln for ln in text.splitlines() if ln.startswith("L ")]
    h = hashlib.sha256()
    n_expect = 1
    for ln in lines[:-1]:                       # the last one may be cut off
        p = ln.split()
        check(len(p) == 3 and p[1].isdigit(), "malformed line %r" % ln)
        n = int(p[1])
        check(n == n_expect, "line %d follows %d (%s)" % (n, n_expect - 1,
              "repeated" if n < n_expect else "gap"))
        h.update(b"%d\n" % n)
        check(p[2] == h.hexdigest(), "line %d: wrong sha256 (file contents differ)" % n)
        n_expect += 1
    return n_expect - 1


def verify_disk(disk, total):
    """Counter lines 1..total were printed after their fsync'ed disk write:
    the shared image must hold each one at byte 16*n."""
    with open(disk, "rb") as f:
        data = f.read(16 * (total + 1))
    for n in range(1, total + 1):
        want = b"%d\n" % n
        got = data[16 * n:16 * n + len(want)]
        check(got == want, "disk: counter %d at byte %d reads %r" % (n, 16 * n, got))


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def wait_listening(port, timeout=60):
    """Waits until something listens on TCP port (read from /proc/net/tcp:
    a probe connection would be taken for the migration stream)."""
    end = time.time() + timeout
    while time.time() < end:
        for table in ("/proc/net/tcp", "/proc/net/tcp6"):
            try:
                with open(table) as f:
                    for ln in f.readlines()[1:]:
                        p = ln.split()
                        if int(p[1].rsplit(":", 1)[1], 16) == port and p[3] == "0A":
                            return
            except OSError:
                pass
        time.sleep(0.05)
    raise TimeoutError("nothing listens on port %d" % port)


def wait_more(vm, n, timeout=120):
    """Waits until the VM printed counter line n."""
    vm.wait_serial("\nL %d " % n, timeout=timeout)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--accel", default="tcg")
    ap.add_argument("--smp", type=int, default=1)
    opts = ap.parse_args()
    tmp = tempfile.mkdtemp(prefix="vx86-migrate-test.")
    kernel, initrd = guest_files()
    initrd = os.path.join(os.path.dirname(initrd), "initramfs-virtio.cpio.gz")
    disk = os.path.join(tmp, "shared.img")
    with open(disk, "wb") as f:
        f.truncate(DISK_MIB << 20)
    base = ["-m", "256M", "-kernel", kernel, "-initrd", initrd,
            "-append", "console=ttyS0 vx86.modules=virtio",
            "-drive", "file=%s,format=raw,if=virtio" % disk,
            "-accel", opts.accel, "-smp", str(opts.smp)]
    vms = []
    outputs = []
    t0 = time.time()
    try:
        src = VM(base, tmpdir=tmp)
        vms.append(src)
        src.wait_serial("~ # ")
        src.type(COUNTER)
        wait_more(src, 30)
        q = src.qmp()

        # a migration that cannot start: the source carries on
        try:
            q.cmd("migrate", uri="file:/nonexistent-dir/x")
            check(False, "migrate to a missing directory succeeded")
        except QMPError as e:
            check("nonexistent" in e.desc, "error %r" % e.desc)
        check(q.cmd("query-status")["status"] == "running", "source stopped after a failed migrate")
        n = last_count(src.out)
        wait_more(src, n + 3)

        # 1. file:
        f1 = os.path.join(tmp, "state1.bin")
        q.cmd("migrate", uri="file:" + f1)
        mig = q.cmd("query-migrate")
        check(mig["status"] == "completed" and mig["ram"]["total"] == 256 << 20, "query-migrate %r" % mig)
        check(q.cmd("query-status")["status"] == "postmigrate", "source state after migrate")
        print("migrate_test: file: %d bytes in %d ms (%d zero pages)" %
              (os.path.getsize(f1), mig["total-time"], mig["ram"]["duplicate"]))
        time.sleep(0.3)
        src.read_serial(0.2)
        src.kill()
        outputs.append(src.out)

        # truncated and corrupted copies are refused, with one line
        data = open(f1, "rb").read()
        for name, bad in (("truncated", data[:len(data) // 2]),
                          ("corrupted", data[:len(data) // 3] + bytes([data[len(data) // 3] ^ 0x40]) +
                           data[len(data) // 3 + 1:]),
                          ("empty", b"")):
            path = os.path.join(tmp, name + ".bin")
            with open(path, "wb") as f:
                f.write(bad)
            vm = VM(base + ["-incoming", "file:" + path], qmp=False, tmpdir=tmp)
            rc = vm.proc.wait(timeout=60)
            err = vm.proc.stderr.read().decode().strip().splitlines()
            vm.kill()
            check(rc == 1, "%s stream: exit status %d" % (name, rc))
            check(len(err) == 1 and "incoming migration failed" in err[0],
                  "%s stream: stderr %r" % (name, err))
            print("migrate_test: %s stream refused: %s" % (name, err[0]))

        if opts.smp > 1:
            # a machine with another CPU count refuses the stream
            other = base[:base.index("-smp")] + ["-smp", "1"]
            vm = VM(other + ["-incoming", "file:" + f1], qmp=False, tmpdir=tmp)
            rc = vm.proc.wait(timeout=60)
            err = vm.proc.stderr.read().decode().strip().splitlines()
            vm.kill()
            check(rc == 1 and len(err) == 1 and "incoming migration failed" in err[0],
                  "-smp %d stream into -smp 1: status %d, stderr %r" % (opts.smp, rc, err))
            print("migrate_test: -smp %d stream into -smp 1 refused: %s" % (opts.smp, err[0]))

        dst = VM(base + ["-incoming", "file:" + f1], tmpdir=tmp)
        vms.append(dst)
        n = last_count(src.out)
        wait_more(dst, n + 10)

        # 2. exec: through the human monitor
        q = dst.qmp()
        f2 = os.path.join(tmp, "state2.bin")
        out = q.hmp('migrate "exec:cat > %s"' % f2)
        check(out == "", "human migrate said %r" % out)
        check(q.cmd("query-migrate")["status"] == "completed", "exec: migration")
        time.sleep(0.3)
        dst.read_serial(0.2)
        dst.kill()
        outputs.append(dst.out)
        dst2 = VM(base + ["-incoming", "exec:cat %s" % f2], tmpdir=tmp)
        vms.append(dst2)
        wait_more(dst2, last_count(dst.out) + 10)

        # 3. tcp: to a destination started with -incoming defer
        dst3 = VM(base + ["-incoming", "defer"], tmpdir=tmp)
        vms.append(dst3)
        q3 = dst3.qmp()
        check(q3.cmd("query-status")["status"] == "inmigrate", "defer: status")
        try:
            q3.cmd("cont")
            check(False, "cont ran a VM waiting for its migration")
        except QMPError:
            pass
        port = free_port()
        q3.cmd("migrate-incoming", uri="tcp:127.0.0.1:%d" % port)
        q = dst2.qmp()
        # a live migration cancelled mid-way leaves the source running
        cancel_dst = VM(base + ["-incoming", "tcp:127.0.0.1:%d" % (port + 1)], qmp=False, tmpdir=tmp)
        wait_listening(port + 1)          # a loaded host starts vx86 slowly
        q.cmd("migrate-set-parameters", **{"max-bandwidth": 8 << 20})
        q.cmd("migrate", uri="tcp:127.0.0.1:%d" % (port + 1))
        time.sleep(0.3)
        mig = q.cmd("query-migrate")
        check(mig["status"] == "active" and mig["ram"]["transferred"] > 0, "live migration %r" % mig)
        q.cmd("migrate_cancel")
        check(q.cmd("query-migrate")["status"] == "cancelled", "cancel")
        check(q.cmd("query-status")["status"] == "running", "source after cancel")
        rc = cancel_dst.proc.wait(timeout=60)
        err = cancel_dst.proc.stderr.read().decode().strip()
        check(rc == 1 and "incoming migration failed" in err, "cancelled destination: %d %r" % (rc, err))
        cancel_dst.kill()
        wait_more(dst2, last_count(dst2.out) + 3)
        print("migrate_test: cancelled live migration: source runs on, destination refused: %s" % err)

        # live (pre-copy) migration while the guest counts
        q.cmd("migrate-set-parameters", **{"max-bandwidth": 256 << 20, "downtime-limit": 300})
        q.cmd("migrate", uri="tcp:127.0.0.1:%d" % port)
        t1 = time.time()
        while True:
            mig = q.cmd("query-migrate")
            if mig["status"] != "active":
                break
            check(time.time() - t1 < 120, "live migration did not converge")
            time.sleep(0.05)
        check(mig["status"] == "completed", "tcp: migration %r" % mig)
        print("migrate_test: live tcp: total %d ms, downtime %d ms, %d iterations, %d MiB sent" %
              (mig["total-time"], mig["downtime"], mig["ram"]["dirty-sync-count"],
               mig["ram"]["transferred"] >> 20))
        q3.wait_event("RESUME", timeout=60)
        # the destination owns the shared disk now: the source cannot run on
        try:
            q.cmd("cont")
            check(False, "cont on the source after a completed migration succeeded")
        except QMPError as e:
            check("lock" in e.desc, "cont on the source: %r" % e.desc)
            print("migrate_test: source after the handover: cont refused: %s" % e.desc)
        time.sleep(0.3)
        dst2.read_serial(0.2)
        dst2.kill()
        outputs.append(dst2.out)
        wait_more(dst3, last_count(dst2.out) + 10)
        check(q3.cmd("query-status")["status"] == "running", "destination running")
        dst3.read_serial(0.2)
        outputs.append(dst3.out)
        total = verify(outputs)
        dst3.kill()
        verify_disk(disk, total)
        print("migrate_test: PASS: %d counter lines across 4 processes, no gap, no repeat, all on the shared disk (%.1f s)" %
              (total, time.time() - t0))
    except Exception:
        for i, vm in enumerate(vms):
            vm.read_serial(0.1)
            sys.stderr.write("migrate_test: FAIL; vm %d serial tail:\n%s\n" %
                             (i, vm.out[-600:].decode(errors="replace")))
            if vm.proc.poll() is not None:
                # it exited: say how, and what it said on stderr
                sys.stderr.write("migrate_test: vm %d exited (%s); stderr tail:\n%s\n" %
                                 (i, vm.proc.returncode,
                                  vm.proc.stderr.read()[-800:].decode(errors="replace")))
        raise
    finally:
        for vm in vms:
            vm.kill()
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
