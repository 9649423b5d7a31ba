#!/usr/bin/env python3
"""-netdev tap (issue 16) inside a network namespace this test makes
(tap.sh runs it under `unshare -rn`): tap0 at 10.5.0.1/24 in the
namespace, the test guest's virtio-net on it at 10.5.0.2.

For vnet_hdr=off and vnet_hdr=on: the guest pings the host side; the
host sends NET_MB MiB to the guest (busybox nc, md5) and the guest sends
NET_MB MiB to the host (md5).  The host kernel's counters of tap0 are the
oracle for the offload: with vnet_hdr=on the guest's TCP segmentation is
handed to the host kernel, so tap0 receives frames longer than an
Ethernet MTU (a packet socket on tap0 sees the kernel's unsegmented
frames: the longest is over 1514 bytes); with vnet_hdr=off vx86 segments
them itself and no frame is longer than 1514 bytes.  (How many frames
are long depends on the guest's TCP send rate, which the host's load
sets: the longest frame, not the mean, is what the offload decides.)"""
import hashlib, os, socket, subprocess, sys, threading, time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import guestlib  # noqa: E402
from guestlib import Guest, exit_status, md5_in  # noqa: E402

VX86 = sys.argv[1]
EXTRA = sys.argv[2:]
KERNEL, INITRD = os.environ["NET_KERNEL"], os.environ["NET_INITRD"]
MB = int(os.environ.get("NET_MB", "20"))
HOST, GUEST = "10.5.0.1", "10.5.0.2"


def sh(cmd):
    return subprocess.run(cmd, shell=True, check=True, capture_output=True, text=True).stdout


def stat(name):
    """tap0's counter from /proc/net/dev (of this namespace; /sys shows the
    namespace it was mounted in): rx_bytes, rx_packets."""
    with open("/proc/net/dev") as f:
        for line in f:
            if line.strip().startswith("tap0:"):
                v = line.split(":", 1)[1].split()
                return int(v[{"rx_bytes": 0, "rx_packets": 1}[name]])
    raise RuntimeError("no tap0 in /proc/net/dev")


def sniff(stop, out):
    """Longest frame tap0 receives (from the guest) until stop is set."""
    s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(3))  # ETH_P_ALL
    s.bind(("tap0", 0))
    s.settimeout(0.2)
    longest = 0
    while not stop.is_set():
        try:
            n, addr = s.recvfrom_into(bytearray(1), 1, socket.MSG_TRUNC)
        except socket.timeout:
            continue
        if addr[2] != socket.PACKET_OUTGOING:
            longest = max(longest, n)
    s.close()
    out.append(longest)


def receive(port, out):
    """Accepts one connection on HOST:port and md5s what it sends."""
    s = socket.socket()
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind((HOST, port))
    s.listen(1)
    s.settimeout(600)
    try:
        c, _ = s.accept()
        c.settimeout(600)
        h, n = hashlib.md5(), 0
        while True:
            b = c.recv(1 << 16)
            if not b:
                break
            h.update(b)
            n += len(b)
        out.append((h.hexdigest(), n))
        c.close()
    except OSError as e:
        out.append((str(e), 0))
    s.close()


def one(vnet_hdr):
    label = "tap vnet_hdr=%s" % vnet_hdr
    g = Guest(label, [VX86, "-m", "256M", "-nographic", "-kernel", KERNEL, "-initrd", INITRD,
                      "-append", "console=ttyS0 quiet vx86.modules=vnet",
                      "-netdev", "tap,id=n0,ifname=tap0,script=no,downscript=no,vnet_hdr=" +
                      vnet_hdr, "-device", "virtio-net-pci,netdev=n0"] + EXTRA)
    try:
        if not g.boot():
            guestlib.result(False, "%s: guest did not boot\n%s" % (label, g.tail()))
            return
        g.run("ifconfig eth0 %s netmask 255.255.255.0 up" % GUEST, 30)
        out = g.run("ping -c 2 -W 5 %s" % HOST, 60)
        guestlib.result(out is not None and " 0% packet loss" in out, "%s: guest pings the host"
                        % label)
        # Host to guest.
        data = os.urandom(MB << 20)
        want = hashlib.md5(data).hexdigest()
        g.send("nc -l -p 5000 | md5sum; echo @@rx-done\n")

        time.sleep(2)
        c = socket.create_connection((GUEST, 5000), timeout=300)
        c.sendall(data)
        c.close()
        m = g.wait(r"([0-9a-f]{32})\s+-\s+@@rx-done", 300)
        got = m.group(1).decode() if m else None
        guestlib.result(got == want, "%s: %d MiB host -> guest, md5 %s / %s"
                        % (label, MB, want, got))
        # Guest to host, with tap0's receive counters around it.
        out = g.run("dd if=/dev/urandom of=/tmp/x bs=1M count=%d 2>/dev/null; md5sum /tmp/x" % MB,
                    300)
        want = md5_in(out)
        res = []
        t = threading.Thread(target=receive, args=(5001, res))
        t.start()
        time.sleep(0.5)
        stop, longest = threading.Event(), []
        sn = threading.Thread(target=sniff, args=(stop, longest))
        sn.start()
        p0, b0 = stat("rx_packets"), stat("rx_bytes")
        g.run("nc %s 5001 </tmp/x" % HOST, 600)
        t.join(600)
        p1, b1 = stat("rx_packets"), stat("rx_bytes")
        stop.set()
        sn.join()
        big = longest[0] if longest else 0
        got = res[0][0] if res else None
        guestlib.result(got == want, "%s: %d MiB guest -> host, md5 %s / %s"
                        % (label, MB, want, got))
        mean = (b1 - b0) / max(1, p1 - p0)
        if vnet_hdr == "on":
            ok = big > 1514
            what = "frames longer than the MTU reach the host kernel (segmentation handed over)"
        else:
            ok = 0 < big <= 1514
            what = "no frame longer than the MTU (vx86 segments)"
        guestlib.result(ok, "%s: %s: %d frames, %.0f bytes each on average, the longest %d"
                        % (label, what, p1 - p0, mean, big))
    finally:
        g.close()


def main():
    try:
        sh("ip link set lo up; ip tuntap add dev tap0 mode tap; ip link set tap0 up; "
           "ip addr add %s/24 dev tap0" % HOST)
    except subprocess.CalledProcessError as e:
        guestlib.log("SKIP: tap: cannot make tap0 in the namespace (%s)" % e.stderr.strip())
        sys.exit(0)
    one("off")
    one("on")
    sys.exit(exit_status())


main()
