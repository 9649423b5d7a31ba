#!/usr/bin/env python3
"""System tests (issue 16) for virtio-scsi (scsi-hd, scsi-cd) and
virtio-balloon, with Debian's kernel and drivers as the oracle
(initramfs-scsi: virtio_pci, virtio_scsi, sd_mod, sr_mod, isofs, ext4,
virtio_balloon; vx86.modules=scsi).

  scsi     1. -device virtio-scsi-pci,num_queues=2 with scsi-hd (a raw
              ext4 image made here with mke2fs) and scsi-cd (a GRUB ISO made
              with grub-mkrescue, tests/guest/mkgrub.sh, holding the guest
              kernel): the guest lists both units from /sys/bus/scsi/devices
              (type, vendor, model as Linux parsed INQUIRY), shows what it
              read from the VPD pages (serial, non-rotating, unmap
              provisioning, discard limit) and mode page 08h (write back),
              writes files with checksums on the disk, syncs, unmounts; mounts
              the CD and checksums /boot/vmlinuz against the host's kernel.
           2. the same image and ISO as -drive if=scsi: the guest checks
              every checksum, deletes half of the files and runs fstrim; the
              image's allocated size shrinks (UNMAP -> hole in the file).
           3. on the host, fsck.ext4 -fn is clean and debugfs reads a file
              with the checksum the guest wrote down.
           4. firmware: a GRUB ISO holding the kernel and initramfs-scsi on
              a scsi-cd, -boot d: SeaBIOS's virtio-scsi driver boots it (El
              Torito), GRUB loads the kernel through it, the guest comes up
              and finds its CD at 0:0:0:0.
  balloon  -m 512M with virtio-balloon-pci: the guest fills its free
           memory (ramfs) and frees it; QMP `balloon` to 256 MiB less: vx86's
           VmRSS drops by at least 200 MiB, the guest's MemTotal by 256 MiB,
           BALLOON_CHANGE and query-balloon report the new size, the
           statistics the guest sends match its MemTotal; `balloon 512` in
           the monitor deflates: MemTotal back, memory usable again.  Then
           free-page-reporting=on: freed guest memory goes back to the host
           (VmRSS drops) with no balloon command.

Usage: tests/system/virtio_scsi_test.py [--accel tcg] [scsi|balloon ...]
"""
import argparse
import hashlib
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from qmp_lib import ROOT, VM, QMPError  # noqa: E402

CACHE = os.path.join(os.environ.get("VX86_CACHE", os.path.join(ROOT, ".cache")), "guest")
MB = int(os.environ.get("VIRTIO_SCSI_MB", "64"))
FAILED = []


def check(ok, what, detail=None):
    print("%s: %s" % ("PASS" if ok else "FAIL", what), flush=True)
    if not ok:
        FAILED.append(what)
        if detail:
            print("  " + detail.strip().replace("\n", "\n  "), flush=True)
    return ok


def tool(name):
    path = shutil.which(name) or shutil.which(name, path="/sbin:/usr/sbin")
    if not path:
        print("FAIL: '%s' is missing (scripts/deps.sh test)" % name)
        sys.exit(1)
    return path


class Guest:
    """The test guest on the serial console, with an optional QMP socket."""

    def __init__(self, accel, args, qmp=False, mem="256M"):
        self.vm = VM(["-accel", accel, "-m", mem, "-kernel", os.path.join(CACHE, "vmlinuz"),
                      "-initrd", os.path.join(CACHE, "initramfs-scsi.cpio.gz"),
                      "-append", "console=ttyS0 quiet vx86.modules=scsi"] + args, qmp=qmp)
        self.n = 0
        self.vm.wait_serial("~ # ", timeout=300)
        self.q = self.vm.qmp() if qmp else None

    def run(self, cmd, timeout=600):
        """Runs one shell line; returns its output (each output line is
        tagged in the guest, so the echoed command never counts)."""
        self.n += 1
        start = len(self.vm.out)
        mark = 1000 + self.n
        self.vm.type("{ %s ; } 2>&1 | sed 's/^/@@ /'; echo CMD-DONE-$((%d+1))\n" % (cmd, mark - 1))
        self.vm.wait_serial("CMD-DONE-%d" % mark, timeout=timeout, start=start)
        text = self.vm.out[start:].decode(errors="replace").replace("\r", "")
        out = "".join(line[3:] + "\n" for line in text.split("\n") if line.startswith("@@ "))
        if os.environ.get("VIRTIO_SCSI_DEBUG"):
            sys.stderr.write("$ %s\n%s" % (cmd, out))
        return out

    def rss_mib(self):
        with open("/proc/%d/status" % self.vm.proc.pid) as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1]) / 1024
        return 0

    def poweroff(self):
        self.vm.type("poweroff -f\n")
        try:
            rc = self.vm.proc.wait(60)
        except subprocess.TimeoutExpired:
            self.vm.kill()
            rc = "timeout"
        return rc


def mem_total_kib(g):
    m = re.search(r"MemTotal:\s+(\d+)", g.run("grep MemTotal /proc/meminfo"))
    return int(m.group(1)) if m else -1


def allocated_kib(path):
    return os.stat(path).st_blocks // 2


# ---- virtio-scsi ----

WAIT_UNITS = "for i in $(seq 200); do [ -b /dev/sda ] && [ -b /dev/sr0 ] && break; sleep 0.1; done"
LIST_UNITS = ("for d in /sys/bus/scsi/devices/*:*:*:*; do echo \"unit $(basename $d) "
              "type=$(cat $d/type) vendor=$(echo $(cat $d/vendor)) model=$(echo $(cat $d/model))\"; done")


def check_listing(out, boot):
    check("unit 0:0:0:0 type=0 vendor=VX86 model=VX86 HARDDISK" in out,
          "%s: the guest lists scsi-hd at 0:0:0:0 (type 0, VX86 HARDDISK)" % boot)
    check("unit 0:0:1:0 type=5 vendor=VX86 model=VX86 CD-ROM" in out,
          "%s: the guest lists scsi-cd at 0:0:1:0 (type 5, VX86 CD-ROM)" % boot)


def test_scsi(accel):
    tmp = tempfile.mkdtemp(prefix="vx86-vscsi.")
    try:
        disk = os.path.join(tmp, "disk.img")
        iso = os.path.join(tmp, "grub.iso")
        subprocess.run([tool("mke2fs"), "-q", "-t", "ext4", "-F", disk, "%dM" % (2 * MB + 64)],
                       check=True)
        cfg = os.path.join(tmp, "grub.cfg")
        with open(cfg, "w") as f:
            f.write("set timeout=0\nmenuentry vx86 {\n    linux /boot/vmlinuz console=ttyS0\n}\n")
        kernel = os.path.join(CACHE, "vmlinuz")
        subprocess.run([os.path.join(ROOT, "tests/guest/mkgrub.sh"), "iso", iso, cfg, kernel],
                       check=True, stdout=subprocess.DEVNULL)
        with open(kernel, "rb") as f:
            kernel_sum = hashlib.md5(f.read()).hexdigest()
        files = max(2, MB // 8)

        # 1. -device form, QMP to see the monitor's view.
        g = Guest(accel, ["-drive", "if=none,id=d0,file=%s,format=raw" % disk,
                          "-drive", "if=none,id=cd0,file=%s,format=raw,media=cdrom" % iso,
                          "-device", "virtio-scsi-pci,id=scsi0,num_queues=2",
                          "-device", "scsi-hd,bus=scsi0.0,drive=d0,scsi-id=0,lun=0,serial=VX86SCSITEST",
                          "-device", "scsi-cd,bus=scsi0.0,drive=cd0,scsi-id=1"], qmp=True)
        g.run(WAIT_UNITS)
        check_listing(g.run(LIST_UNITS), "boot 1")
        out = g.run("echo vpd80=$(tail -c +5 /sys/block/sda/device/vpd_pg80); "
                    "echo rot=$(cat /sys/block/sda/queue/rotational); "
                    "echo prov=$(cat /sys/block/sda/device/scsi_disk/*/provisioning_mode); "
                    "echo dmax=$(cat /sys/block/sda/queue/discard_max_bytes); "
                    "echo wc=$(cat /sys/block/sda/queue/write_cache); "
                    "echo size=$(cat /sys/block/sda/size) cdsize=$(cat /sys/block/sr0/size)")
        check("vpd80=VX86SCSITEST" in out, "boot 1: VPD page 80h gives serial=VX86SCSITEST")
        check("rot=0" in out, "boot 1: VPD B1h: Linux sees a non-rotating disk")
        check("prov=unmap" in out, "boot 1: READ CAPACITY(16) LBPME + VPD B2h: Linux discards with UNMAP")
        check("dmax=2147483648" in out, "boot 1: VPD B0h: discard limit 4 Mi blocks")
        check("wc=write back" in out, "boot 1: mode page 08h: Linux sees a write-back cache")
        disk_sectors = os.path.getsize(disk) // 512
        iso_sectors = os.path.getsize(iso) // 2048 * 4
        check("size=%d cdsize=%d" % (disk_sectors, iso_sectors) in out,
              "boot 1: READ CAPACITY: %d disk sectors, %d CD sectors (as 512-byte units)" %
              (disk_sectors, iso_sectors))
        try:
            g.q.cmd("query-balloon")
            check(False, "boot 1: query-balloon without a balloon is refused")
        except QMPError as e:
            check(e.cls == "DeviceNotActive", "boot 1: query-balloon without a balloon: %s" % e)
        out = g.run("mkdir -p /mnt /cd && mount -t ext4 /dev/sda /mnt && cd /mnt && "
                    "for i in $(seq %d); do dd if=/dev/urandom of=f$i bs=1M count=8 2>/dev/null; done; "
                    "md5sum f* >sums; sync; echo wrote=$(ls f* | wc -l); cd /; umount /mnt; "
                    "echo umount=$?" % files)
        check("wrote=%d" % files in out and "umount=0" in out,
              "boot 1: %d files of 8 MiB written on ext4 on scsi-hd, unmounted" % files, out)
        out = g.run("mount -t iso9660 -o ro /dev/sr0 /cd && echo cd=$(md5sum </cd/boot/vmlinuz); "
                    "umount /cd")
        check("cd=%s" % kernel_sum in out,
              "boot 1: the GRUB ISO mounts from scsi-cd, /boot/vmlinuz checksum matches the host's")
        out = g.run("dmesg | grep -iE 'I/O error|critical|EXT4-fs error|Sense Key' | head -5")
        check(not out.strip(), "boot 1: no I/O errors or sense data in the guest's log" +
              ("" if not out.strip() else ":\n" + out.strip()))
        rc = g.poweroff()
        check(rc == 0, "boot 1: guest powered off (exit %s)" % rc)
        used_before = allocated_kib(disk)

        # 2. if=scsi drives (an adapter made for them), fstrim.
        g = Guest(accel, ["-drive", "file=%s,format=raw,if=scsi,index=0" % disk,
                          "-drive", "file=%s,format=raw,if=scsi,index=1,media=cdrom" % iso])
        g.run(WAIT_UNITS)
        check_listing(g.run(LIST_UNITS), "boot 2 (if=scsi)")
        out = g.run("mkdir -p /mnt && mount -t ext4 /dev/sda /mnt && cd /mnt && "
                    "echo check=$(md5sum -c sums 2>&1 | grep -c ': OK$')/$(wc -l <sums); cd /")
        check("check=%d/%d" % (files, files) in out,
              "boot 2: all %d checksums match" % files, out)
        gone = files // 2
        out = g.run("cd /mnt && for i in $(seq %d); do rm f$i; done && sed -i '1,%dd' sums; "
                    "sync; cd /; fstrim -v /mnt; umount /mnt; echo umount=$?" % (gone, gone))
        m = re.search(r"(\d+) bytes trimmed", out)
        check(m is not None and int(m.group(1)) >= gone * 8 << 20,
              "boot 2: fstrim trimmed %s bytes (UNMAP)" % (m.group(1) if m else "no"), out)
        rc = g.poweroff()
        check(rc == 0, "boot 2: guest powered off (exit %s)" % rc)
        used_after = allocated_kib(disk)
        # Most of it: ext4 may reuse a few freed blocks (the rewritten sums).
        check(used_after <= used_before - gone * 8 * 1024 * 3 // 4,
              "host: the image's allocated size shrank from %d to %d KiB after deleting %d MiB" %
              (used_before, used_after, gone * 8))

        # 3. the host's tools.
        r = subprocess.run([tool("fsck.ext4"), "-fn", disk], capture_output=True, text=True)
        check(r.returncode == 0, "host: fsck.ext4 -fn clean" +
              ("" if r.returncode == 0 else ":\n" + r.stdout + r.stderr))
        debugfs = tool("debugfs")
        sums = subprocess.run([debugfs, "-R", "cat /sums", disk], capture_output=True,
                              text=True).stdout
        last = "f%d" % files
        want = re.search(r"^([0-9a-f]{32})  %s$" % last, sums, re.M)
        data = subprocess.run([debugfs, "-R", "cat /%s" % last, disk], capture_output=True).stdout
        check(want is not None and hashlib.md5(data).hexdigest() == want.group(1),
              "host: debugfs reads %s with the guest's checksum" % last)

        # 4. SeaBIOS boots GRUB from the scsi-cd.
        initrd = os.path.join(CACHE, "initramfs-scsi.cpio.gz")
        with open(cfg, "w") as f:
            f.write("serial --unit=0 --speed=115200\nterminal_input serial\n"
                    "terminal_output serial\nset timeout=0\nmenuentry vx86 {\n"
                    "    linux /boot/vmlinuz console=ttyS0 quiet vx86.modules=scsi\n"
                    "    initrd /boot/initramfs-scsi.cpio.gz\n}\n")
        boot_iso = os.path.join(tmp, "boot.iso")
        subprocess.run([os.path.join(ROOT, "tests/guest/mkgrub.sh"), "iso", boot_iso, cfg, kernel,
                        initrd], check=True, stdout=subprocess.DEVNULL)
        vm = VM(["-accel", accel, "-m", "256M", "-boot", "d",
                 "-drive", "if=none,id=c0,file=%s,format=raw,media=cdrom" % boot_iso,
                 "-device", "virtio-scsi-pci", "-device", "scsi-cd,drive=c0"], qmp=False)
        g = Guest.__new__(Guest)
        g.vm, g.n, g.q = vm, 0, None
        try:
            vm.wait_serial("~ # ", timeout=400)
            booted = True
        except (TimeoutError, RuntimeError) as e:
            booted = False
            check(False, "boot 4: SeaBIOS + GRUB from scsi-cd reach the guest's shell", str(e))
        if booted:
            text = vm.out.decode(errors="replace")
            check("Booting from DVD/CD" in text and "Booting `vx86'" in text,
                  "boot 4: SeaBIOS boots GRUB from the scsi-cd (El Torito over virtio-scsi)")
            out = g.run("for i in $(seq 100); do [ -b /dev/sr0 ] && break; sleep 0.1; done; " +
                        LIST_UNITS)
            check("unit 0:0:0:0 type=5 vendor=VX86 model=VX86 CD-ROM" in out,
                  "boot 4: the guest GRUB booted finds its CD at 0:0:0:0", out)
            rc = g.poweroff()
            check(rc == 0, "boot 4: guest powered off (exit %s)" % rc)
        else:
            vm.kill()
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


# ---- virtio-balloon ----

# Fills the guest's free memory (ramfs has no size limit) and frees it.
TOUCH_FILL = ("mkdir -p /r && mount -t ramfs none /r && "
              "dd if=/dev/zero of=/r/fill bs=1M count=$(( $(sed -n 's/^MemFree: *\\([0-9]*\\).*/\\1/p' "
              "/proc/meminfo) / 1024 - 24 )) 2>/dev/null; echo filled=$(( $(stat -c %s /r/fill) >> 20 ))")
TOUCH_FREE = "rm /r/fill; umount /r"
TOUCH = TOUCH_FILL + "; " + TOUCH_FREE


def wait_actual(q, want, timeout=240):
    end = time.time() + timeout
    while time.time() < end:
        if q.cmd("query-balloon")["actual"] == want:
            return True
        time.sleep(0.5)
    return False


def test_balloon(accel):
    ram = 512 << 20
    g = Guest(accel, ["-device", "virtio-balloon-pci,id=balloon0"], qmp=True, mem="512M")
    q = g.q
    total0 = mem_total_kib(g)
    out = g.run(TOUCH)
    m = re.search(r"filled=(\d+)", out)
    check(m is not None and int(m.group(1)) >= 300, "the guest filled and freed %s MiB" %
          (m.group(1) if m else "no"))
    rss1 = g.rss_mib()
    q.cmd("balloon", value=ram - (256 << 20))
    ok = wait_actual(q, ram - (256 << 20))
    check(ok, "QMP balloon 256 MiB less: query-balloon reports actual=%d MiB" %
          (q.cmd("query-balloon")["actual"] >> 20))
    ev = [e for e in q.events if e["event"] == "BALLOON_CHANGE"]
    try:
        while not ev or ev[-1]["data"]["actual"] != ram - (256 << 20):
            ev.append(q.wait_event("BALLOON_CHANGE", timeout=5))
        check(True, "BALLOON_CHANGE events, the last with actual=%d" % ev[-1]["data"]["actual"])
    except TimeoutError:
        check(False, "BALLOON_CHANGE with the final size (got %s)" %
              [e["data"]["actual"] for e in ev])
    rss2 = g.rss_mib()
    check(rss1 - rss2 >= 200, "vx86 VmRSS dropped by %.0f MiB (%.0f -> %.0f) after inflating" %
          (rss1 - rss2, rss1, rss2))
    total1 = mem_total_kib(g)
    check(total0 - total1 == 256 * 1024, "guest MemTotal went from %d to %d KiB (-256 MiB)" %
          (total0, total1))
    hmp = q.hmp("info balloon")
    check(hmp.startswith("balloon: actual=256\n"), "monitor: info balloon says actual=256")
    # The guest refills its statistics buffer once the device returns it.
    stat = None
    for _ in range(20):
        time.sleep(0.5)
        m = re.search(r"stat-total-memory=(\d+)", q.hmp("info balloon"))
        if m and int(m.group(1)) == total1 * 1024:
            stat = int(m.group(1))
            break
    check(stat == total1 * 1024, "balloon statistics: stat-total-memory equals the guest's MemTotal")
    try:
        q.cmd("balloon", value=0)
        check(False, "balloon 0 is refused")
    except QMPError as e:
        check(e.cls == "GenericError", "balloon 0 is refused: %s" % e)
    q.hmp("balloon 512")
    ok = wait_actual(q, ram)
    total2 = mem_total_kib(g)
    check(ok and total2 == total0, "monitor balloon 512 deflates: actual=%d MiB, MemTotal %d KiB" %
          (q.cmd("query-balloon")["actual"] >> 20, total2))
    out = g.run(TOUCH)
    m = re.search(r"filled=(\d+)", out)
    check(m is not None and int(m.group(1)) >= 300,
          "after deflating the guest fills %s MiB again" % (m.group(1) if m else "no"))
    out = g.run("dd if=/dev/urandom of=/root/x bs=1M count=32 2>/dev/null; "
                "echo s1=$(md5sum </root/x) s2=$(md5sum </root/x); rm /root/x")
    m = re.search(r"s1=(\S+)\s+-? ?s2=(\S+)", out)
    check(m is not None and m.group(1) == m.group(2), "memory given back reads what was written")
    rc = g.poweroff()
    check(rc == 0, "balloon boot: guest powered off (exit %s)" % rc)

    # Free page reporting: freed memory goes back with no command.
    g = Guest(accel, ["-device", "virtio-balloon-pci,free-page-reporting=on"], qmp=False,
              mem="512M")
    feats = g.run("cat /sys/bus/virtio/devices/virtio*/features")
    check(any(len(f) > 5 and f[5] == "1" for f in feats.split()),
          "free-page-reporting=on: the guest takes VIRTIO_BALLOON_F_REPORTING")
    base = g.rss_mib()
    g.run(TOUCH_FILL)
    top = g.rss_mib()         # while the memory is still in use: reporting
    g.run(TOUCH_FREE)         # may start as soon as it is freed
    low = top
    for _ in range(60):
        low = min(low, g.rss_mib())
        if top - low >= 200:
            break
        time.sleep(1)
    check(top - low >= 200, "free page reporting: VmRSS %.0f -> %.0f -> %.0f MiB (boot, filled, "
          "reported)" % (base, top, low))
    rc = g.poweroff()
    check(rc == 0, "reporting boot: guest powered off (exit %s)" % rc)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--accel", default="tcg")
    ap.add_argument("parts", nargs="*", default=["scsi", "balloon"])
    a = ap.parse_args()
    subprocess.run([os.path.join(ROOT, "tests/guest/mkguest.sh")], check=True,
                   stdout=subprocess.DEVNULL)
    for p in a.parts:
        {"scsi": test_scsi, "balloon": test_balloon}[p](a.accel)
    if FAILED:
        print("%d check(s) failed" % len(FAILED))
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
