#!/usr/bin/env python3
"""
make bench: the same guest workloads on vx86 and on qemu-system-x86_64,
side by side, in one run.

Engines are interleaved (run 1 of every engine, then run 2, ...) so machine
noise hits them alike.  Each cell is the median over BENCH_RUNS runs
(default 3) of the guest-measured time of a workload; the boot row is the
host-measured time from process start to the guest's first output line of
/init.  An engine that cannot run the guest here is shown as n/a with the
reason found by a bounded probe.  Results go to stdout and
bench/results/latest.md.
"""
import os
import re
import select
import shutil
import signal
import statistics
import subprocess
import sys
import time
import math
import socket
import threading

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
CACHE = os.environ.get("VX86_CACHE", os.path.join(ROOT, ".cache"))
BENCH_CACHE = os.path.join(CACHE, "bench")
IMG_CACHE = os.path.join(CACHE, "bench-img")      # the convert rows' images
RUNS = int(os.environ.get("BENCH_RUNS", "3"))
# BENCH_ENGINES=vx86-tcg,qemu-tcg,native runs only those columns (the rest
# are shown as "not selected").
SELECTED = [e for e in os.environ.get("BENCH_ENGINES", "").split(",") if e]
# VX86_BASE=/path/to/an/older/vx86 adds a column "vx86-base" run in the same
# rounds, and a "vx86-tcg / vx86-base" ratio: how a change moved each row
# against the build it started from, with the same machine noise.
BASE = os.environ.get("VX86_BASE")
ALL_WORKLOADS = ["boot", "sha256-64M", "gzip-16M", "sort-1M", "shell-loop", "intbench", "fpbench",
                 "grub-boot", "disk-write-256M", "disk-read-256M", "disk-randwrite-4k",
                 "disk-randread-4k", "qcow2-write-256M", "qcow2-read-256M", "qcow2-randwrite-4k",
                 "qcow2-randread-4k", "vblk-seq-write-256M", "vblk-seq-read-256M",
                 "vblk-rand-write-4k", "vblk-rand-read-4k", "net-slirp-64M", "net-socket-32M"]
# Rows measured in a second boot of each engine: SeaBIOS + GRUB from an ISO
# (grub-mkrescue) holding the kernel and the IDE initramfs, with a scratch
# -hda the guest reads and writes with dd (O_DIRECT).  grub-boot is the
# host-measured time from process start to /init of that boot.  The disk-*
# rows use the raw scratch disk (IDE master); the qcow2-* rows a fresh
# qcow2 image made by qemu-img (IDE slave); the guest tells them apart by
# size (bench.disk=mib:N); the random rows run bench/programs/randio.c
# (4 KiB, O_DIRECT).
FIRMWARE_WORKLOADS = ["grub-boot", "disk-write-256M", "disk-read-256M", "disk-randwrite-4k",
                      "disk-randread-4k", "qcow2-write-256M", "qcow2-read-256M",
                      "qcow2-randwrite-4k", "qcow2-randread-4k"]
QCOW2_WORKLOADS = [w for w in FIRMWARE_WORKLOADS if w.startswith("qcow2-")]
# Rows measured in a third boot: the -kernel guest with the virtio
# initramfs and a scratch -drive if=virtio (/dev/vda), O_DIRECT dd and
# 4 KiB random I/O (bench/programs/randio.c).
VIRTIO_WORKLOADS = ["vblk-seq-write-256M", "vblk-seq-read-256M", "vblk-rand-write-4k",
                    "vblk-rand-read-4k"]
# Rows of the extra boots, not in the CPU geometric mean.
DEVICE_WORKLOADS = FIRMWARE_WORKLOADS + VIRTIO_WORKLOADS
SCRATCH_MIB = 320
# Rows measured in "network boots" of each engine (bench/guest/netbench.sh):
# the test guest with virtio-net (initramfs-vnet + the overlay).
#   net-slirp-64M   busybox wget of 64 MiB from an HTTP server this script
#                   runs on 127.0.0.1 (10.0.2.2 in the guest), -netdev user
#   net-socket-32M  32 MiB over TCP (busybox nc) from a second guest of the
#                   same engine, the two joined by -netdev socket
NET_WORKLOADS = {"net-slirp-64M": 64, "net-socket-32M": 32}
# The SMP rows (BENCH_SMP=0 leaves them out): sha256-2x, two sha256sum
# processes at once, in boots of their own with -smp 1 and -smp 2 (vx86's
# default, a thread per CPU; QEMU's -accel tcg,thread=multi): the speedup
# a second CPU gives.  They never run in the boots of the rows above.
# The SMP rows: each runs alone in a boot with -smp 1 and -smp 2.
SMP_WORKLOADS = {
    "sha256-2x": "two sha256sum processes of 64 MiB at once",
    "compute-2x": "the SMP stress program's compute phase, 2 threads, fixed work "
                  "(tests/guest/smp/smpprobe.c `work 40000 2`)",
}
SMP = os.environ.get("BENCH_SMP", "1") != "0"
QSCRATCH_MIB = 512
# Host rows: vx86-img convert against qemu-img convert of one 1 GiB image
# (384 MiB random, 256 MiB text, the rest a hole), made once by qemu-img
# in each source format and cached; wall time, the same rounds as the
# guests.  Each output is checked with qemu-img compare outside the timing.
IMG_WORKLOADS = ["img-convert-raw-to-qcow2-1G", "img-convert-qcow2-to-raw-1G",
                 "img-convert-vmdk-to-raw-1G"]
# BENCH_WORKLOADS=fpbench,sort-1M runs only those rows (boot always runs).
ONLY = [w for w in os.environ.get("BENCH_WORKLOADS", "").split(",") if w]
for _w in ONLY:
    if _w not in ALL_WORKLOADS + IMG_WORKLOADS and _w not in SMP_WORKLOADS:
        sys.exit(f"bench: unknown workload '{_w}' in BENCH_WORKLOADS (known: "
                 f"{', '.join(ALL_WORKLOADS + IMG_WORKLOADS + list(SMP_WORKLOADS))})")
WORKLOADS = [w for w in ALL_WORKLOADS if not ONLY or w == "boot" or w in ONLY]
IMG_ROWS = [w for w in IMG_WORKLOADS if not ONLY or w in ONLY]
# Per-run limits: a hung or hopelessly slow engine is cut off, never waited on.
# The interpreter gets a bounded share so BENCH_RUNS=1 stays under 30 minutes.
BOOT_LIMIT = {"default": 180, "vx86-interp": 300, "vx86-kvm": 60, "qemu-kvm": 60}
RUN_LIMIT = {"default": 900, "vx86-interp": 600}


def sh(cmd, **kw):
    return subprocess.run(cmd, shell=True, check=True, **kw)


def build_material():
    """Guest kernel + initramfs from Debian packages, plus the bench overlay."""
    os.makedirs(BENCH_CACHE, exist_ok=True)
    sh(f"{ROOT}/tests/guest/mkguest.sh >/dev/null")
    guest = os.path.join(CACHE, "guest")
    kernel = os.path.join(guest, "vmlinuz")
    base = os.path.join(guest, "initramfs.cpio.gz")
    stage = os.path.join(BENCH_CACHE, "overlay")
    shutil.rmtree(stage, ignore_errors=True)
    os.makedirs(os.path.join(stage, "bench"))
    for prog in ("intbench", "fpbench", "nowns", "randio"):
        sh(f"gcc -O2 -static -o {stage}/bench/{prog} {ROOT}/bench/programs/{prog}.c -lm")
    sh(f"gcc -O2 -static -pthread -o {stage}/bench/smpprobe {ROOT}/tests/guest/smp/smpprobe.c")
    for f in ("init", "workloads.sh", "netbench.sh"):
        shutil.copy(os.path.join(ROOT, "bench", "guest", f), os.path.join(stage, "bench", f))
    overlay = os.path.join(BENCH_CACHE, "overlay.cpio.gz")
    sh(f"cd {stage} && find . | cpio -o -H newc 2>/dev/null | gzip -1 > {overlay}")
    initrd = os.path.join(BENCH_CACHE, "bench-initramfs.cpio.gz")
    # Linux accepts concatenated (compressed) cpio archives: base + overlay.
    with open(initrd, "wb") as out:
        for part in (base, overlay):
            with open(part, "rb") as f:
                out.write(f.read())
    return kernel, initrd, stage


def build_firmware_material(kernel):
    """The GRUB ISO for the firmware rows: kernel + IDE initramfs + overlay."""
    guest = os.path.join(CACHE, "guest")
    initrd = os.path.join(BENCH_CACHE, "bench-ide.cpio.gz")
    with open(initrd, "wb") as out:
        for part in (os.path.join(guest, "initramfs-ide.cpio.gz"),
                     os.path.join(BENCH_CACHE, "overlay.cpio.gz")):
            with open(part, "rb") as f:
                out.write(f.read())
    only = [w for w in FIRMWARE_WORKLOADS if w in WORKLOADS and w != "grub-boot"]
    append = (f"console=ttyS0 rdinit=/bench/init quiet vx86.modules=ide bench.disk=mib:{SCRATCH_MIB} "
              + (f"bench.qdisk=mib:{QSCRATCH_MIB} " if any(w in only for w in QCOW2_WORKLOADS) else "")
              + "bench.only=" + (",".join(only) or "none"))
    cfg = os.path.join(BENCH_CACHE, "grub.cfg")
    with open(cfg, "w") as f:
        f.write("serial --unit=0 --speed=115200\nterminal_input serial\n"
                "terminal_output serial\nset timeout=0\n"
                "menuentry bench {\n"
                f"    linux /boot/vmlinuz {append}\n"
                "    initrd /boot/bench-ide.cpio.gz\n}\n")
    iso = os.path.join(BENCH_CACHE, "bench-grub.iso")
    sh(f"{ROOT}/tests/guest/mkgrub.sh iso {iso} {cfg} {kernel} {initrd}")
    return iso


def build_virtio_material():
    """The virtio-blk boot's initramfs: the virtio modules + the overlay."""
    initrd = os.path.join(BENCH_CACHE, "bench-virtio.cpio.gz")
    with open(initrd, "wb") as out:
        for part in (os.path.join(CACHE, "guest", "initramfs-virtio.cpio.gz"),
                     os.path.join(BENCH_CACHE, "overlay.cpio.gz")):
            with open(part, "rb") as f:
                out.write(f.read())
    return initrd


def virtio_argv(argv, initrd, scratch):
    """An engine's command line with the virtio initramfs, the virtio rows
    only, and the scratch disk as /dev/vda."""
    only = [w for w in VIRTIO_WORKLOADS if w in WORKLOADS]
    append = ("console=ttyS0 rdinit=/bench/init quiet vx86.modules=virtio bench.disk=/dev/vda "
              "bench.only=" + ",".join(only))
    out, repl = [], {"-initrd": initrd, "-append": append}
    i = 0
    while i < len(argv):
        out.append(argv[i])
        if argv[i] in repl and i + 1 < len(argv):
            out.append(repl[argv[i]])
            i += 1
        i += 1
    return out + ["-drive", f"file={scratch},format=raw,if=virtio"]


def firmware_argv(argv, iso, scratch, qscratch):
    """An engine's command line with the -kernel boot swapped for the ISO
    and the scratch disks (qscratch: the qcow2 one, or None)."""
    out, skip = [], 0
    for a in argv:
        if skip:
            skip -= 1
            continue
        if a in ("-kernel", "-initrd", "-append"):
            skip = 1
            continue
        out.append(a)
    out += ["-cdrom", iso, "-drive", f"file={scratch},format=raw,if=ide,index=0"]
    if qscratch:
        out += ["-drive", f"file={qscratch},format=qcow2,if=ide,index=1"]
    return out + ["-boot", "d"]


def build_net_material():
    """initramfs-vnet + the overlay for the network boots, and the file the
    slirp row fetches."""
    guest = os.path.join(CACHE, "guest")
    initrd = os.path.join(BENCH_CACHE, "bench-vnet.cpio.gz")
    with open(initrd, "wb") as out:
        for part in (os.path.join(guest, "initramfs-vnet.cpio.gz"),
                     os.path.join(BENCH_CACHE, "overlay.cpio.gz")):
            with open(part, "rb") as f:
                out.write(f.read())
    www = os.path.join(BENCH_CACHE, "www")
    os.makedirs(www, exist_ok=True)
    blob = os.path.join(www, "net.bin")
    mib = NET_WORKLOADS["net-slirp-64M"]
    if not os.path.exists(blob) or os.path.getsize(blob) != mib << 20:
        with open(blob + ".tmp", "wb") as f:
            f.write(os.urandom(mib << 20))
        os.replace(blob + ".tmp", blob)
    return initrd, www


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def net_argv(argv, initrd, append, net):
    """An engine's command line for a network boot: the vnet initramfs,
    the role on the kernel command line, the NIC and its backend."""
    out, skip = [], 0
    for a in argv:
        if skip:
            skip -= 1
            continue
        if a in ("-initrd", "-append"):
            skip = 1
            continue
        out.append(a)
    return out + ["-initrd", initrd, "-append",
                  "console=ttyS0 rdinit=/bench/init quiet vx86.modules=vnet " + append] + net


class Listener:
    """The receiving guest of the socket row, run in the background: its
    console lines are collected by a thread."""

    def __init__(self, argv):
        self.p = subprocess.Popen(argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                  stderr=subprocess.STDOUT, start_new_session=True)
        self.lines = []
        self.cv = threading.Condition()
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self):
        for raw in self.p.stdout:
            with self.cv:
                self.lines.append(raw.decode(errors="replace").strip())
                self.cv.notify_all()
        with self.cv:
            self.lines.append(None)
            self.cv.notify_all()

    def wait_for(self, prefix, t):
        """The first line starting with prefix, or None (timeout, exited)."""
        end = time.monotonic() + t
        with self.cv:
            while True:
                for line in self.lines:
                    if line is None:
                        return None
                    if line.startswith(prefix):
                        return line
                left = end - time.monotonic()
                if left <= 0:
                    return None
                self.cv.wait(left)

    def stop(self):
        self.p.stdin.close()
        try:
            self.p.wait(30)
        except subprocess.TimeoutExpired:
            os.killpg(self.p.pid, signal.SIGKILL)
            self.p.wait()


def run_net(name, argv, initrd, port):
    """The network rows on one engine: {row: seconds, row:sum: md5}, peak
    RSS, and the errors of rows that failed.  The guests' stdin is a pipe
    that stays open: with /dev/null (end of file at once) QEMU's network
    rows ran about twice as long (its stdio console at EOF; measured on
    the socket row, 29 s vs 18 s and 46 s vs 23 s), which would not be
    the NIC's doing."""
    res, peak, errs = {}, 0, []
    mib = NET_WORKLOADS["net-slirp-64M"]
    if "net-slirp-64M" in WORKLOADS:
        r, rss, err = run_guest(name, net_argv(
            argv, initrd, f"bench.net=slirp bench.port={port} bench.mb={mib}",
            ["-nic", "user,model=virtio-net-pci"]), stdin=subprocess.PIPE)
        if err:
            errs.append("slirp row: " + err)
        else:
            peak = max(peak, rss)
            res.update({k: v for k, v in r.items() if k.startswith("net-slirp")})
    if "net-socket-32M" in WORKLOADS:
        r, rss, err = run_socket_pair(name, argv, initrd)
        if err:
            errs.append("socket row: " + err)
        else:
            peak = max(peak, rss)
            res.update(r)
    return res, peak, errs


def run_socket_pair(name, argv, initrd):
    """The socket row: a receiving guest in the background, then the
    sending guest, which times the transfer."""
    mib = NET_WORKLOADS["net-socket-32M"]
    sport = free_port()
    a = Listener(net_argv(argv, initrd, f"bench.net=recv bench.mb={mib}",
                          ["-netdev", f"socket,id=n0,listen=127.0.0.1:{sport}",
                           "-device", "virtio-net-pci,netdev=n0,mac=52:54:00:12:34:56"]))
    try:
        if not a.wait_for("BENCH-NET-LISTENING", BOOT_LIMIT.get(name, BOOT_LIMIT["default"])):
            return None, 0, "the receiving guest did not come up"
        r, rss, err = run_guest(name, net_argv(
            argv, initrd, f"bench.net=send bench.mb={mib}",
            ["-netdev", f"socket,id=n0,connect=127.0.0.1:{sport}",
             "-device", "virtio-net-pci,netdev=n0,mac=52:54:00:12:34:57"]), stdin=subprocess.PIPE)
        if err:
            return None, rss, err
        got = a.wait_for("BENCH-NET-RECV", 120)
        sent = r.get("net-socket-32M:sum")
        if not got or got.split()[-1] != sent:
            return None, rss, f"sent md5 {sent}..., received {got}"
        return {k: v for k, v in r.items() if k.startswith("net-socket")}, rss, None
    finally:
        a.stop()


def engines(kernel, initrd):
    append = "console=ttyS0 rdinit=/bench/init quiet"
    if ONLY:
        append += " bench.only=" + ",".join(ONLY)
    common = ["-m", "1024M", "-nographic", "-kernel", kernel, "-initrd", initrd,
              "-append", append, "-no-reboot"]
    vx86 = os.path.join(ROOT, "vx86")
    qemu = shutil.which("qemu-system-x86_64")
    e = [
        ("vx86-tcg", [vx86, "-accel", "tcg"] + common),
    ] + ([("vx86-base", [BASE, "-accel", "tcg"] + common)] if BASE else []) + [
        ("vx86-interp", [vx86, "-accel", "tcg,interp=on"] + common),
        ("vx86-kvm", [vx86, "-accel", "kvm"] + common),
        ("qemu-tcg", [qemu or "qemu-system-x86_64", "-accel", "tcg", "-cpu", "max"] + common),
        # QEMU's default CPU model: -cpu host aborts on some nested KVMs.
        ("qemu-kvm", [qemu or "qemu-system-x86_64", "-accel", "kvm"] + common),
    ]
    return e


def run_guest(name, argv, stdin=subprocess.DEVNULL):
    """Runs one boot; returns ({workload: seconds}, peak_rss_kib, error).
    stdin=subprocess.PIPE gives the emulator a terminal input that stays
    open (and silent) instead of /dev/null (see run_net)."""
    limit_boot = BOOT_LIMIT.get(name, BOOT_LIMIT["default"])
    limit_run = RUN_LIMIT.get(name, RUN_LIMIT["default"])
    t0 = time.monotonic()
    try:
        p = subprocess.Popen(argv, stdin=stdin, stdout=subprocess.PIPE,
                             stderr=subprocess.STDOUT, start_new_session=True)
    except OSError as ex:
        return None, 0, f"cannot start: {ex}"
    results, buf, last_lines, err = {}, b"", [], None
    ready = False
    reaped = None          # (status, rusage) once the emulator has exited

    def try_reap(flags):
        nonlocal reaped
        if reaped is None:
            pid, status, ru = os.wait4(p.pid, flags)
            if pid:
                reaped = (status, ru)
        return reaped is not None

    # Only wait4 reaps the child (Popen.poll would too, and lose the rusage).
    while True:
        now = time.monotonic()
        limit = limit_run if ready else limit_boot
        if now - t0 > limit:
            err = f"no {'result' if ready else 'boot'} within {limit} s"
            break
        r, _, _ = select.select([p.stdout], [], [], 1.0)
        if not r:
            if try_reap(os.WNOHANG):
                break
            continue
        chunk = os.read(p.stdout.fileno(), 65536)
        if not chunk:
            break
        buf += chunk
        while b"\n" in buf:
            line, buf = buf.split(b"\n", 1)
            text = line.decode(errors="replace").strip()
            last_lines = (last_lines + [text])[-5:]
            if "BENCH-DONE" in text:
                results["done"] = True
            if "BENCH-READY" in text and "boot" not in results:
                results["boot"] = time.monotonic() - t0
                ready = True
            m = re.search(r"BENCH (\S+) (\d+) (\S+)", text)
            if m:
                results[m.group(1)] = int(m.group(2)) / 1e9
                results[m.group(1) + ":sum"] = m.group(3)
    if not try_reap(os.WNOHANG):
        os.killpg(p.pid, signal.SIGKILL)
        try_reap(0)
    status, ru = reaped
    if p.stdin:
        p.stdin.close()
    p.returncode = os.waitstatus_to_exitcode(status)
    rss = ru.ru_maxrss
    if "done" not in results and not err:
        tail = " | ".join(l for l in last_lines if l)[-200:]
        err = f"exited ({os.waitstatus_to_exitcode(status)}) before finishing: {tail}"
    return results, rss, err


def smp_engines(kernel, initrd, workload):
    """(name, cpus, argv) of one SMP row's boots."""
    append = "console=ttyS0 rdinit=/bench/init quiet bench.only=" + workload
    common = ["-m", "1024M", "-nographic", "-kernel", kernel, "-initrd", initrd,
              "-append", append, "-no-reboot"]
    vx86 = os.path.join(ROOT, "vx86")
    qemu = shutil.which("qemu-system-x86_64") or "qemu-system-x86_64"
    out = []
    for n in (1, 2):
        out.append(("vx86-tcg", n, [vx86, "-accel", "tcg", "-smp", str(n)] + common))
        out.append(("qemu-tcg", n, [qemu, "-accel", "tcg,thread=multi", "-cpu", "max",
                                    "-smp", str(n)] + common))
    return out


def run_smp_rows(kernel, initrd, na):
    """The SMP rows: lines for the results, after RUNS interleaved rounds."""
    lines = []
    for workload, what in SMP_WORKLOADS.items():
        if ONLY and workload not in ONLY:
            continue
        lines += run_smp_row(kernel, initrd, na, workload, what)
    return lines


def run_smp_row(kernel, initrd, na, workload, what):
    times, sums, errs = {}, {}, {}
    eng = [e for e in smp_engines(kernel, initrd, workload)
           if e[0] not in na and (not SELECTED or e[0] in SELECTED)]
    for run in range(RUNS):
        for name, n, argv in eng:
            if (name, n) in errs:
                continue
            print(f"bench: run {run + 1}/{RUNS} {name} -smp {n} ({workload}) ...",
                  file=sys.stderr, flush=True)
            res, _, err = run_guest(name, argv)
            if err or workload not in res:
                errs[(name, n)] = err or "no result"
                continue
            times.setdefault((name, n), []).append(res[workload])
            sums[(name, n)] = res.get(workload + ":sum")
    lines = ["", f"SMP: {workload} ({what}), median seconds, guest-measured:", "",
             "| engine | -smp 1 | -smp 2 | speedup (-smp 1 / -smp 2) |", "|---|---|---|---|"]
    for name in ("vx86-tcg", "qemu-tcg"):
        cell = {}
        for n in (1, 2):
            v = times.get((name, n))
            cell[n] = statistics.median(v) if v else None
        sp = f"{cell[1] / cell[2]:.2f}" if cell[1] and cell[2] else "n/a"
        label = name + (" (thread=multi)" if name == "qemu-tcg" else "")
        lines.append(f"| {label} | " + " | ".join(f"{cell[n]:.2f}" if cell[n] else "n/a"
                                                  for n in (1, 2)) + f" | {sp} |")
    if len(set(v for v in sums.values() if v)) > 1:
        lines.append("\nChecksum mismatch in the SMP rows (wrong results!)")
    for (name, n), why in errs.items():
        lines.append(f"- {name} -smp {n}: {why}")
    return lines


def run_native(stage):
    """The same workload script on the host: the physical limit."""
    busybox = os.path.join(CACHE, "guest", "busybox")
    bindir = os.path.join(BENCH_CACHE, "native-bin")
    if not os.path.exists(busybox):
        return None, 0, "no busybox in the guest cache"
    os.makedirs(bindir, exist_ok=True)
    applets = subprocess.run([busybox, "--list"], capture_output=True, text=True).stdout.split()
    for a in applets:
        link = os.path.join(bindir, a)
        if not os.path.lexists(link):
            os.symlink(busybox, link)
    tmp = os.path.join(BENCH_CACHE, "native-tmp")
    os.makedirs(tmp, exist_ok=True)
    env = dict(os.environ, PATH=bindir, BENCH_WORKLOADS=",".join(ONLY))
    t0 = time.monotonic()
    p = subprocess.Popen([busybox, "sh", os.path.join(stage, "bench", "workloads.sh"),
                          os.path.join(stage, "bench"), tmp],
                         stdout=subprocess.PIPE, text=True, env=env)
    out, _ = p.communicate()
    results = {}
    for line in out.splitlines():
        m = re.match(r"BENCH (\S+) (\d+) (\S+)", line)
        if m:
            results[m.group(1)] = int(m.group(2)) / 1e9
            results[m.group(1) + ":sum"] = m.group(3)
    return results, 0, None if results else "workloads failed natively"


def build_img_material():
    """The 1 GiB source image of the convert rows, in every source format
    (made by qemu-img, cached); returns {format: path}."""
    os.makedirs(IMG_CACHE, exist_ok=True)
    raw = os.path.join(IMG_CACHE, "img-src.raw")
    if not os.path.exists(raw):
        with open(raw + ".tmp", "wb") as f:
            for _ in range(384):
                f.write(os.urandom(1 << 20))
            line = b"vx86 bench: a compressible line of text, 0123456789\n"
            text = line * ((1 << 20) // len(line) + 1)
            for _ in range(256):
                f.write(text[:1 << 20])
            f.truncate(1 << 30)
        os.rename(raw + ".tmp", raw)
    src = {"raw": raw}
    for fmt, opts in (("qcow2", ""), ("vmdk", "-o subformat=streamOptimized")):
        path = os.path.join(IMG_CACHE, f"img-src.{fmt}")
        if not os.path.exists(path):
            sh(f"qemu-img convert -O {fmt} {opts} {raw} {path}.tmp.{fmt}")
            os.rename(f"{path}.tmp.{fmt}", path)
        src[fmt] = path
    return src


def run_img_round(src, table, na, bad, rnd):
    """One round of the convert rows: each tool converts, timed; the
    output is then compared with the source by qemu-img.  Dirty pages are
    written back before each timed run (a tool running while the previous
    one's output is still being written back is slowed down by it), and
    the tools take turns at going first."""
    tools = [("vx86-img", os.path.join(ROOT, "vx86-img")), ("qemu-img", shutil.which("qemu-img"))]
    if rnd % 2:
        tools.reverse()
    for row in IMG_ROWS:
        m = re.match(r"img-convert-(\w+)-to-(\w+)-1G", row)
        ifmt, ofmt = m.group(1), m.group(2)
        out = os.path.join(IMG_CACHE, f"img-out.{ofmt}")
        for tool, exe in tools:
            if not exe or not os.path.exists(exe):
                na[tool] = "not built / not installed"
                continue
            if os.path.exists(out):
                os.remove(out)
            os.sync()
            t0 = time.monotonic()
            r = subprocess.run([exe, "convert", "-f", ifmt, "-O", ofmt, src[ifmt], out],
                               capture_output=True, text=True)
            t = time.monotonic() - t0
            if r.returncode:
                na[tool] = f"{row}: {r.stderr.strip()[:200]}"
                continue
            table.setdefault(tool, {}).setdefault(row, []).append(t)
            if subprocess.run(["qemu-img", "compare", "-q", "-f", "raw", "-F", ofmt,
                               src["raw"], out]).returncode:
                bad.append(f"{tool} {row}")
        if os.path.exists(out):
            os.remove(out)


def img_lines(table, na, bad):
    lines = ["", "Image tool, host wall seconds (median of the same rounds):", "",
             "| workload | vx86-img | qemu-img | vx86-img / qemu-img |", "|---|---|---|---|"]
    for row in IMG_ROWS:
        a, b = table.get("vx86-img", {}).get(row), table.get("qemu-img", {}).get(row)
        cells = [f"{statistics.median(v):.2f}" if v else "n/a" for v in (a, b)]
        cells.append(f"{statistics.median(a) / statistics.median(b):.2f}" if a and b else "n/a")
        lines.append(f"| {row} | " + " | ".join(cells) + " |")
    if bad:
        lines.append("\nOutput differs from the source (wrong results!): " + ", ".join(sorted(set(bad))))
    for tool, why in na.items():
        lines.append(f"- {tool}: {why}")
    return lines


def probe_kvm(name):
    if not os.path.exists("/dev/kvm"):
        return "no /dev/kvm on this host"
    if not os.access("/dev/kvm", os.R_OK | os.W_OK):
        return "/dev/kvm is not accessible"
    return None


def main():
    kernel, initrd, stage = build_material()
    fw_rows = [w for w in FIRMWARE_WORKLOADS if w in WORKLOADS]
    iso = build_firmware_material(kernel) if fw_rows else None
    net_rows = [w for w in NET_WORKLOADS if w in WORKLOADS]
    net_initrd, www = build_net_material() if net_rows else (None, None)
    http = None
    http_port = free_port()
    if net_rows:
        http = subprocess.Popen([sys.executable, "-m", "http.server", str(http_port), "--bind",
                                 "127.0.0.1", "--directory", www],
                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    net_na = {"vx86-interp": "not run (the interpreter is too slow for these rows)"}
    vblk_rows = [w for w in VIRTIO_WORKLOADS if w in WORKLOADS]
    vblk_initrd = build_virtio_material() if vblk_rows else None
    scratch = os.path.join(BENCH_CACHE, "scratch-disk.img")
    qscratch = os.path.join(BENCH_CACHE, "scratch-disk.qcow2")
    want_q = any(w in fw_rows for w in QCOW2_WORKLOADS)
    img_src = build_img_material() if IMG_ROWS else None
    img_table, img_na, img_bad = {}, {}, []
    # The interpreter would spend most of the run limit in SeaBIOS and dd.
    fw_na = {"vx86-interp": "not run (the interpreter is too slow for these rows)"}
    vblk_na = dict(fw_na)
    table = {}
    rss = {}
    na = {}
    sums = {}
    eng = engines(kernel, initrd)
    for name, _ in eng + [("native", None)]:
        if SELECTED and name not in SELECTED:
            na[name] = "not selected (BENCH_ENGINES)"
            continue
        if name.endswith("kvm"):
            why = probe_kvm(name)
            if why:
                na[name] = why
    for run in range(RUNS):
        for name, argv in eng:
            if name in na:
                continue
            print(f"bench: run {run + 1}/{RUNS} {name} ...", file=sys.stderr, flush=True)
            res, peak, err = run_guest(name, argv)
            if err:
                na[name] = err
                continue
            rss[name] = max(rss.get(name, 0), peak)
            for w in WORKLOADS:
                if w in res and w not in DEVICE_WORKLOADS:
                    table.setdefault(name, {}).setdefault(w, []).append(res[w])
                if w + ":sum" in res:
                    sums.setdefault(w, {})[name] = res[w + ":sum"]
            if net_rows and name != "vx86-interp":
                print(f"bench: run {run + 1}/{RUNS} {name} (virtio-net: slirp, socket pair) ...",
                      file=sys.stderr, flush=True)
                res, peak, errs = run_net(name, argv, net_initrd, http_port)
                if errs:
                    net_na[name] = "; ".join(errs)
                rss[name] = max(rss.get(name, 0), peak)
                for w in net_rows:
                    if w in res:
                        table.setdefault(name, {}).setdefault(w, []).append(res[w])
                    if w + ":sum" in res:
                        sums.setdefault(w, {})[name] = res[w + ":sum"]
            if vblk_rows and name not in vblk_na:
                print(f"bench: run {run + 1}/{RUNS} {name} (virtio-blk disk) ...",
                      file=sys.stderr, flush=True)
                if os.path.exists(scratch):
                    os.remove(scratch)
                with open(scratch, "wb") as f:
                    f.truncate(SCRATCH_MIB << 20)
                res, peak, err = run_guest(name, virtio_argv(argv, vblk_initrd, scratch))
                if err:
                    vblk_na[name] = err
                else:
                    rss[name] = max(rss.get(name, 0), peak)
                    for w in vblk_rows:
                        if w in res:
                            table.setdefault(name, {}).setdefault(w, []).append(res[w])
                        if w + ":sum" in res:
                            sums.setdefault(w, {})[name] = res[w + ":sum"]
            if not fw_rows or name in fw_na:
                continue
            print(f"bench: run {run + 1}/{RUNS} {name} (SeaBIOS + GRUB ISO, disk) ...",
                  file=sys.stderr, flush=True)
            if os.path.exists(scratch):
                os.remove(scratch)
            with open(scratch, "wb") as f:
                f.truncate(SCRATCH_MIB << 20)
            if want_q:
                sh(f"qemu-img create -q -f qcow2 {qscratch} {QSCRATCH_MIB}M")
            res, peak, err = run_guest(name, firmware_argv(argv, iso, scratch,
                                                           qscratch if want_q else None))
            if err:
                fw_na[name] = err
                continue
            rss[name] = max(rss.get(name, 0), peak)
            if "boot" in res:
                res["grub-boot"] = res["boot"]
            for w in fw_rows:
                if w in res:
                    table.setdefault(name, {}).setdefault(w, []).append(res[w])
                if w + ":sum" in res:
                    sums.setdefault(w, {})[name] = res[w + ":sum"]
        if img_src:
            print(f"bench: run {run + 1}/{RUNS} vx86-img / qemu-img convert ...",
                  file=sys.stderr, flush=True)
            run_img_round(img_src, img_table, img_na, img_bad, run)
        if "native" in na:
            continue
        print(f"bench: run {run + 1}/{RUNS} native ...", file=sys.stderr, flush=True)
        res, _, err = run_native(stage)
        if err:
            na["native"] = err
        else:
            for w in WORKLOADS:
                if w in res:
                    table.setdefault("native", {}).setdefault(w, []).append(res[w])

    cols = [n for n, _ in eng] + ["native"]
    lines = []
    lines.append(f"Median of {RUNS} run(s), seconds (boot: host-measured to /init; "
                 f"others: guest-measured).  Host: {os.cpu_count()} CPUs, "
                 f"{time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}.")
    lines.append("")
    base_col = " | vx86-tcg / vx86-base" if BASE else ""
    lines.append("| workload | " + " | ".join(cols) + " | vx86-tcg / qemu-tcg" + base_col + " |")
    lines.append("|---" * (len(cols) + 2 + (1 if BASE else 0)) + "|")
    ratios = []
    for w in WORKLOADS:
        cells = []
        for c in cols:
            v = table.get(c, {}).get(w)
            cells.append(f"{statistics.median(v):.2f}" if v else "n/a")
        a = table.get("vx86-tcg", {}).get(w)
        b = table.get("qemu-tcg", {}).get(w)
        if a and b:
            r = statistics.median(a) / statistics.median(b)
            # The geometric mean stays over the CPU rows it always had.
            if w not in DEVICE_WORKLOADS and w not in NET_WORKLOADS:
                ratios.append(r)
            cells.append(f"{r:.2f}")
        else:
            cells.append("n/a")
        if BASE:
            c = table.get("vx86-base", {}).get(w)
            cells.append(f"{statistics.median(a) / statistics.median(c):.2f}" if a and c else "n/a")
        lines.append(f"| {w} | " + " | ".join(cells) + " |")
    if ratios:
        g = math.exp(sum(math.log(r) for r in ratios) / len(ratios))
        lines.append(f"\nGeometric mean vx86-tcg / qemu-tcg: **{g:.2f}** "
                     f"(target <= 1.0, goal 0.5)")
    else:
        lines.append("\nGeometric mean vx86-tcg / qemu-tcg: n/a (vx86-tcg or qemu-tcg did not run)")
    lines.append("\nPeak RSS (MiB): " + ", ".join(
        f"{n} {rss[n] / 1024:.0f}" for n in cols if n in rss))
    if SMP and (not ONLY or any(w in ONLY for w in SMP_WORKLOADS)):
        lines += run_smp_rows(kernel, initrd, na)
    mismatch = [w for w, s in sums.items() if len(set(s.values())) > 1]
    if mismatch:
        lines.append("\nChecksum mismatch between engines (wrong results!): " + ", ".join(mismatch))
    if na:
        lines.append("\nNot runnable here:")
        for n, why in na.items():
            lines.append(f"- {n}: {why}")
    fw_na = {n: why for n, why in fw_na.items() if n not in na}
    if fw_na:
        lines.append("\nFirmware boot (" + ", ".join(fw_rows) + ") failed:")
        for n, why in fw_na.items():
            lines.append(f"- {n}: {why}")
    net_na = {n: why for n, why in net_na.items() if n not in na}
    if net_rows and net_na:
        lines.append("\nNetwork boots (" + ", ".join(net_rows) + ") not run or failed:")
        for n, why in net_na.items():
            lines.append(f"- {n}: {why}")
    if http:
        http.kill()
        http.wait()
    vblk_na = {n: why for n, why in vblk_na.items() if n not in na}
    if vblk_rows and vblk_na:
        lines.append("\nvirtio-blk boot (" + ", ".join(vblk_rows) + ") failed:")
        for n, why in vblk_na.items():
            lines.append(f"- {n}: {why}")
    if img_src:
        lines += img_lines(img_table, img_na, img_bad)
    for f in (scratch, qscratch):
        if os.path.exists(f):
            os.remove(f)
    text = "\n".join(lines) + "\n"
    print(text)
    os.makedirs(os.path.join(ROOT, "bench", "results"), exist_ok=True)
    # A subset of workloads gives no comparable geometric mean: keep it
    # out of latest.md.
    out = "subset.md" if ONLY else "latest.md"
    with open(os.path.join(ROOT, "bench", "results", out), "w") as f:
        f.write("# Latest benchmark run\n\n" + text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
