#!/usr/bin/env python3
"""Drives the networking system test (see net.sh): guests on the serial
console, a host HTTP server, hostfwd, socket netdevs between emulators.
NET_MODEL picks the NIC (e1000, or virtio-net-pci with the vnet initramfs)."""
import hashlib, json, os, subprocess, sys, time, urllib.request

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import guestlib  # noqa: E402
from guestlib import Guest, exit_status, free_port, log, md5_in, md5_of  # noqa: E402

VX86, TESTS = sys.argv[1], sys.argv[2].split()
EXTRA = sys.argv[3:]
KERNEL, INITRD = os.environ["NET_KERNEL"], os.environ["NET_INITRD"]
TMP, MB = os.environ["NET_TMP"], int(os.environ.get("NET_MB", "50"))
MODEL = os.environ.get("NET_MODEL", "e1000")
# Linux finds the NIC through the DSDT's PCI0 and routes its INTx with
# _PRT to the IOAPIC (GSI 16-19), as on a firmware-booted board; the
# virtio-net driver uses MSI-X.
APPEND = "console=ttyS0 quiet vx86.modules=" + os.environ.get("NET_MODULES", "net")


def result(ok, what):
    guestlib.result(ok, "%s %s" % (MODEL, what))


def vx86(name, net_args, mem="256M"):
    return Guest(name, [VX86, "-m", mem, "-nographic", "-kernel", KERNEL, "-initrd", INITRD,
                        "-append", APPEND] + net_args + EXTRA)


def test_slirp():
    www = os.path.join(TMP, "www")
    os.makedirs(www, exist_ok=True)
    big = os.path.join(www, "big.bin")
    with open(big, "wb") as f:
        f.write(os.urandom(MB << 20))
    want = md5_of(big)
    http_port, fwd_port = free_port(), free_port()
    srv = subprocess.Popen([sys.executable, "-m", "http.server", str(http_port), "--bind",
                            "127.0.0.1", "--directory", www], stdout=subprocess.DEVNULL,
                           stderr=subprocess.DEVNULL)
    g = vx86("slirp", ["-nic", "user,model=%s,hostfwd=tcp:127.0.0.1:%d-:80" % (MODEL, fwd_port)])
    try:
        if not g.boot():
            result(False, "slirp: guest did not boot\n" + g.tail())
            return
        out = g.run("udhcpc -i eth0 -q -f -n -t 5 -s /etc/udhcpc/default.script", 240)
        ok = out is not None and "udhcpc: eth0 10.0.2.15" in out
        result(ok, "slirp: DHCP gave eth0 10.0.2.15" + ("" if ok else "\n" + g.tail()))
        t0 = time.monotonic()
        out = g.run("wget -q -O - http://10.0.2.2:%d/big.bin | md5sum" % http_port, 900)
        dt = time.monotonic() - t0
        got = md5_in(out)
        result(got == want, "slirp: guest wget of %d MiB from 10.0.2.2 (%.1f s, %.1f MiB/s), md5 %s"
               % (MB, dt, MB / dt if dt else 0, got))
        out = g.run("mkdir -p /www && head -c 3000000 /dev/urandom >/www/f.bin && "
                    "md5sum /www/f.bin && httpd -p 80 -h /www", 120)
        gsum = md5_in(out)
        try:
            data = urllib.request.urlopen("http://127.0.0.1:%d/f.bin" % fwd_port,
                                          timeout=300).read()
            hsum = hashlib.md5(data).hexdigest()
        except Exception as e:
            hsum = "error %s" % e
        result(gsum is not None and gsum == hsum,
               "slirp: host fetched 3 MB from guest httpd through hostfwd, md5 %s" % hsum)
    finally:
        g.close()
        srv.kill()
        srv.wait()


def test_legacy():
    """virtio-net through the legacy I/O BAR (virtio_pci force_legacy=1)
    with mrg_rxbuf=off: the 10-byte header and one buffer per frame, as
    a pre-1.0 driver sees the device; wget of MB/4 MiB over slirp, md5."""
    www = os.path.join(TMP, "www-legacy")
    os.makedirs(www, exist_ok=True)
    f = os.path.join(www, "l.bin")
    with open(f, "wb") as out:
        out.write(os.urandom(MB << 18))
    want = md5_of(f)
    port = free_port()
    srv = subprocess.Popen([sys.executable, "-m", "http.server", str(port), "--bind",
                            "127.0.0.1", "--directory", www], stdout=subprocess.DEVNULL,
                           stderr=subprocess.DEVNULL)
    g = vx86("legacy", ["-netdev", "user,id=n0", "-device", MODEL + ",netdev=n0,mrg_rxbuf=off"])
    try:
        if not g.boot():
            result(False, "legacy: guest did not boot\n" + g.tail())
            return
        out = g.run("rmmod virtio_console virtio_net virtio_pci && "
                    "insmod /lib/modules/virtio_pci.ko force_legacy=1 && "
                    "insmod /lib/modules/virtio_net.ko && sleep 1 && "
                    "cat /sys/bus/virtio/devices/*/features", 60)
        feats = (out or "").split()
        feats = [w for w in feats if len(w) == 64 and set(w) <= {"0", "1"}]
        ok = bool(feats) and feats[-1][32] == "0" and feats[-1][15] == "0"
        result(ok, "legacy: driver bound through the I/O BAR without VERSION_1 and MRG_RXBUF"
               + ("" if ok else "\n" + (out or g.tail())))
        g.run("udhcpc -i eth0 -q -f -n -t 5 -s /etc/udhcpc/default.script", 240)
        out = g.run("wget -q -O - http://10.0.2.2:%d/l.bin | md5sum" % port, 600)
        got = md5_in(out)
        result(got == want, "legacy: wget of %.1f MiB, md5 %s / %s" % (MB / 4, want, got))
    finally:
        g.close()
        srv.kill()
        srv.wait()


def test_migrate():
    """A guest with virtio-net and virtio-serial saved mid-run (QMP migrate
    to a file), restored in a new vx86 (-incoming): the NIC's queues and
    filter came along, so DHCP's address still works for a wget (md5),
    and the serial port still carries data."""
    from qmp_lib import QMPClient
    www = os.path.join(TMP, "www-mig")
    os.makedirs(www, exist_ok=True)
    f = os.path.join(www, "m.bin")
    with open(f, "wb") as out:
        out.write(os.urandom(4 << 20))
    want = md5_of(f)
    port = free_port()
    srv = subprocess.Popen([sys.executable, "-m", "http.server", str(port), "--bind",
                            "127.0.0.1", "--directory", www], stdout=subprocess.DEVNULL,
                           stderr=subprocess.DEVNULL)
    state, qmp = os.path.join(TMP, "vm.state"), os.path.join(TMP, "qmp.sock")
    out_a, out_b = os.path.join(TMP, "port-a.out"), os.path.join(TMP, "port-b.out")

    def args(port_out):
        return ["-netdev", "user,id=n0", "-device", MODEL + ",netdev=n0",
                "-device", "virtio-serial-pci", "-chardev", "file,id=p0,path=" + port_out,
                "-device", "virtserialport,chardev=p0,name=org.vx86.mig",
                "-qmp", "unix:%s,server=on,wait=off" % qmp]
    a = vx86("A", args(out_a))
    b = None
    try:
        if not a.boot():
            result(False, "migrate: guest did not boot\n" + a.tail())
            return
        a.run("udhcpc -i eth0 -q -f -n -t 5 -s /etc/udhcpc/default.script", 240)
        a.run("echo before >/dev/vport0p1", 30)
        q = QMPClient(qmp)
        q.cmd("qmp_capabilities")
        q.cmd("migrate", uri="file:" + state)
        ok = q.cmd("query-migrate")["status"] == "completed"
        q.close()
        a.p.kill()
        a.p.wait()
        result(ok, "migrate: saved the guest with virtio-net and virtio-serial")
        b = vx86("B", args(out_b) + ["-incoming", "file:" + state])
        # Keys typed before the state is loaded are lost: knock until the
        # shell answers with a prompt.
        for _ in range(24):
            b.send("\n")
            if b.wait(r"~ # ", 5):
                break
        if b.run("echo restored", 60) is None:
            result(False, "migrate: restored guest does not answer\n" + b.tail())
            return
        out = b.run("wget -q -O - http://10.0.2.2:%d/m.bin | md5sum" % port, 300)
        got = md5_in(out)
        result(got == want, "migrate: wget after the restore, md5 %s / %s" % (want, got))
        b.run("echo after >/dev/vport0p1", 30)
        with open(out_b) as fb:
            text = fb.read()
        result("after" in text, "migrate: the serial port works after the restore (%r)" % text)
    finally:
        a.close()
        if b:
            b.close()
        srv.kill()
        srv.wait()


def test_link():
    """QMP set_link (QEMU's command) on the NIC's id and on the -netdev's
    id: Linux's driver reports the carrier in /sys/class/net/eth0/carrier
    (virtio-net: the STATUS field and a configuration interrupt; e1000:
    STATUS.LU and an LSC interrupt), and frames stop while it is down."""
    from qmp_lib import QMPClient
    www = os.path.join(TMP, "www-link")
    os.makedirs(www, exist_ok=True)
    with open(os.path.join(www, "s.bin"), "wb") as out:
        out.write(os.urandom(64 << 10))
    want = md5_of(os.path.join(www, "s.bin"))
    port = free_port()
    srv = subprocess.Popen([sys.executable, "-m", "http.server", str(port), "--bind",
                            "127.0.0.1", "--directory", www], stdout=subprocess.DEVNULL,
                           stderr=subprocess.DEVNULL)
    qmp = os.path.join(TMP, "qmp-link.sock")
    g = vx86("link", ["-netdev", "user,id=n0", "-device", MODEL + ",netdev=n0,id=nic0",
                      "-qmp", "unix:%s,server=on,wait=off" % qmp])
    q = None

    def carrier(want_up):
        """The guest's carrier once it reads want_up (waits up to 10 s)."""
        out = g.run("for i in 1 2 3 4 5 6 7 8 9 10; do c=$(cat /sys/class/net/eth0/carrier); "
                    "[ \"$c\" = %d ] && break; sleep 1; done; echo carrier=$c" % want_up, 60)
        return "carrier=%d" % want_up in (out or "").replace("carrier=$c", "")

    def fetch():
        out = g.run("timeout 15 wget -q -O - http://10.0.2.2:%d/s.bin | md5sum" % port, 120)
        log("  link: wget -> %s" % md5_in(out))
        return md5_in(out) == want

    def set_link(name, up):
        """QMP set_link (QMPClient.cmd takes the command's name as name)."""
        q.send_raw(json.dumps({"execute": "set_link",
                               "arguments": {"name": name, "up": up}}).encode() + b"\n")
        return q.reply()
    try:
        if not g.boot():
            result(False, "link: guest did not boot\n" + g.tail())
            return
        g.run("udhcpc -i eth0 -q -f -n -t 5 -s /etc/udhcpc/default.script", 240)
        result(carrier(1) and fetch(), "link: carrier 1 and a wget at start")
        q = QMPClient(qmp)
        q.cmd("qmp_capabilities")
        set_link("nic0", False)
        result(carrier(0), "link: set_link nic0 off -> the guest's carrier is 0")
        result(not fetch(), "link: no wget while the link is down")
        set_link("nic0", True)
        result(carrier(1) and fetch(), "link: set_link nic0 on -> carrier 1, wget works again")
        q.hmp("set_link n0 off")
        result(carrier(0), "link: HMP set_link on the -netdev id (n0) -> carrier 0")
        q.hmp("set_link n0 on")
        result(carrier(1) and fetch(), "link: HMP set_link n0 on -> carrier 1, wget works")
        r = set_link("nosuch", False)
        cls = r.get("error", {}).get("class")
        result(cls == "DeviceNotFound", "link: set_link of an unknown name fails (%s)" % cls)
    finally:
        if q:
            q.close()
        g.close()
        srv.kill()
        srv.wait()


def qemu_guest(name, net_args):
    return Guest(name, ["qemu-system-x86_64", "-m", "256M", "-nographic", "-kernel", KERNEL,
                        "-initrd", INITRD, "-append", APPEND] + net_args)


def have_qemu():
    return subprocess.call(["sh", "-c", "command -v qemu-system-x86_64"],
                           stdout=subprocess.DEVNULL) == 0


def nc_transfer(label, src, dst, dst_ip, mb, port=5000):
    """mb MiB of random bytes over TCP (busybox nc) from src to dst, md5."""
    out = src.run("dd if=/dev/urandom of=/tmp/x bs=1M count=%d 2>/dev/null; md5sum /tmp/x" % mb, 600)
    want = md5_in(out)
    dst.send("nc -l -p %d | md5sum; echo @@dst-done\n" % port)
    time.sleep(2)
    t0 = time.monotonic()
    src.run("nc %s %d </tmp/x" % (dst_ip, port), 900)
    m = dst.wait(r"([0-9a-f]{32})\s+-\s+@@dst-done", 300) or dst.wait(r"([0-9a-f]{32})", 5)
    dt = time.monotonic() - t0
    got = m.group(1).decode() if m else None
    result(got is not None and got == want, "%s: %d MiB over TCP (busybox nc) (%.1f s), md5 %s / %s"
           % (label, mb, dt, want, got))


def test_mcast():
    """One multicast segment, three members: vx86 A on QEMU's classic
    -netdev socket,mcast=, vx86 B on QEMU 7.2's -netdev dgram with a
    multicast remote, and (when installed) a QEMU guest C on
    socket,mcast=.  Every member pings the others; TCP from B to A and
    from C to A."""
    port = free_port()
    group = "230.0.0.%d" % (1 + port % 200)
    a = vx86("A", ["-netdev", "socket,id=n0,mcast=%s:%d,localaddr=127.0.0.1" % (group, port),
                   "-device", MODEL + ",netdev=n0,mac=52:54:00:12:34:61"])
    b = vx86("B", ["-netdev", "dgram,id=n0,remote.type=inet,remote.host=%s,remote.port=%d,"
                   "local.type=inet,local.host=127.0.0.1,local.port=0" % (group, port),
                   "-device", MODEL + ",netdev=n0,mac=52:54:00:12:34:62"])
    c = None
    if have_qemu():
        c = qemu_guest("C", ["-netdev", "socket,id=n0,mcast=%s:%d,localaddr=127.0.0.1"
                             % (group, port),
                             "-device", MODEL + ",netdev=n0,mac=52:54:00:12:34:63"])
    else:
        log("SKIP: mcast: the QEMU member (qemu-system-x86_64 not installed)")
    guests = [("A", a, "10.9.1.1"), ("B", b, "10.9.1.2")] + ([("C", c, "10.9.1.3")] if c else [])
    try:
        for name, g, ip in guests:
            if not g.boot():
                result(False, "mcast: guest %s did not boot\n%s" % (name, g.tail()))
                return
            g.run("ifconfig eth0 %s netmask 255.255.255.0 up" % ip, 30)
        for name, g, ip in guests:
            for other, _, oip in guests:
                if other <= name:
                    continue
                out = g.run("ping -c 2 -W 5 %s" % oip, 60)
                result(out is not None and " 0% packet loss" in out,
                       "mcast: %s pings %s (%s)" % (name, other,
                                                    "QEMU" if other == "C" else "vx86"))
        nc_transfer("mcast vx86 B -> vx86 A", b, a, "10.9.1.1", max(1, MB // 5))
        if c:
            nc_transfer("mcast QEMU C -> vx86 A", c, a, "10.9.1.1", max(1, MB // 5), 5001)
    finally:
        for _, g, _ in guests:
            g.close()


def test_pair(label, make_b, a_netdev=None):
    port = free_port()
    a = vx86("A", ["-netdev", (a_netdev or "socket,id=n0,listen=127.0.0.1:%d") % port,
                   "-device", MODEL + ",netdev=n0,mac=52:54:00:12:34:56"])
    b = None
    try:
        if not a.boot():
            result(False, "%s: guest A did not boot\n%s" % (label, a.tail()))
            return
        b = make_b(port)
        if not b.boot():
            result(False, "%s: guest B did not boot\n%s" % (label, b.tail()))
            return
        a.run("ifconfig eth0 10.9.0.1 netmask 255.255.255.0 up", 30)
        b.run("ifconfig eth0 10.9.0.2 netmask 255.255.255.0 up", 30)
        out = b.run("ping -c 2 -W 5 10.9.0.1", 60)
        result(out is not None and " 0% packet loss" in out, "%s: ping A from B" % label)
        out = b.run("dd if=/dev/urandom of=/tmp/x bs=1M count=%d 2>/dev/null; md5sum /tmp/x" % MB, 600)
        want = md5_in(out)
        a.send("nc -l -p 5000 | md5sum; echo @@A-done\n")
        time.sleep(2)
        t0 = time.monotonic()
        b.run("nc 10.9.0.1 5000 </tmp/x", 900)
        m = a.wait(r"([0-9a-f]{32})\s+-\s+@@A-done", 300) or a.wait(r"([0-9a-f]{32})", 5)
        dt = time.monotonic() - t0
        got = m.group(1).decode() if m else None
        result(got is not None and got == want,
               "%s: %d MiB over TCP (busybox nc) from B to A (%.1f s), md5 %s / %s"
               % (label, MB, dt, want, got))
    finally:
        a.close()
        if b:
            b.close()


def main():
    if "slirp" in TESTS:
        test_slirp()
    if "legacy" in TESTS and MODEL.startswith("virtio"):
        test_legacy()
    if "migrate" in TESTS and MODEL.startswith("virtio"):
        test_migrate()
    if "link" in TESTS:
        test_link()
    if "socket" in TESTS:
        test_pair("socket vx86-vx86", lambda port: vx86("B", [
            "-netdev", "socket,id=n0,connect=127.0.0.1:%d" % port,
            "-device", MODEL + ",netdev=n0,mac=52:54:00:12:34:57"]))
    if "qemu" in TESTS:
        if not have_qemu():
            log("SKIP: qemu: qemu-system-x86_64 not installed")
        else:
            test_pair("socket vx86-qemu", lambda port: qemu_guest("Q", [
                "-netdev", "socket,id=n0,connect=127.0.0.1:%d" % port,
                "-device", MODEL + ",netdev=n0,mac=52:54:00:12:34:57"]))
    if "stream" in TESTS:
        # QEMU 7.2's spelling on both sides: vx86 serves, QEMU (or a second
        # vx86 without QEMU) connects.
        peer = "QEMU" if have_qemu() else "vx86"
        client = "stream,id=n0,server=off,addr.type=inet,addr.host=127.0.0.1,addr.port=%d"
        test_pair("stream vx86-%s" % peer.lower(), lambda port: (qemu_guest if peer == "QEMU"
                                                                 else vx86)("Q", [
            "-netdev", client % port, "-device", MODEL + ",netdev=n0,mac=52:54:00:12:34:57"]),
            a_netdev="stream,id=n0,server=on,addr.type=inet,addr.host=127.0.0.1,addr.port=%d")
    if "mcast" in TESTS:
        test_mcast()
    sys.exit(exit_status())


main()
