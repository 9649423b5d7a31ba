#!/usr/bin/env python3
"""Network boot (issue 16): SeaBIOS with `-boot n` runs the NIC's iPXE
option ROM (Debian's ipxe-qemu, QEMU's file for the model), iPXE gets
its address and boot file by DHCP from slirp (`-netdev
user,tftp=DIR,bootfile=boot.ipxe`), fetches the script over slirp's TFTP
and, as the script says, the test guest's kernel and initramfs over HTTP
from a server on the host's 127.0.0.1 (10.0.2.2).  The guest must reach
its shell with the command line only the script gave it; once with an
e1000, once with a virtio-net NIC."""
import os, subprocess, sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import guestlib  # noqa: E402
from guestlib import Guest, exit_status, free_port  # noqa: E402

VX86, TMP = sys.argv[1], sys.argv[2]
EXTRA = sys.argv[3:]
KERNEL, INITRD = os.environ["NET_KERNEL"], os.environ["NET_INITRD"]


def main():
    www, tftp = os.path.join(TMP, "www"), os.path.join(TMP, "tftp")
    os.makedirs(www, exist_ok=True)
    os.makedirs(tftp, exist_ok=True)
    for src, name in ((KERNEL, "vmlinuz"), (INITRD, "initrd.gz")):
        with open(src, "rb") as f, open(os.path.join(www, name), "wb") as out:
            out.write(f.read())
    port = free_port()
    with open(os.path.join(tftp, "boot.ipxe"), "w") as f:
        f.write("#!ipxe\nkernel http://10.0.2.2:%d/vmlinuz console=ttyS0 quiet vx86.pxe=%d\n"
                "initrd http://10.0.2.2:%d/initrd.gz\nboot\n" % (port, port, port))
    srv = subprocess.Popen([sys.executable, "-m", "http.server", str(port), "--bind", "127.0.0.1",
                            "--directory", www], stdout=subprocess.DEVNULL,
                           stderr=subprocess.DEVNULL)
    try:
        for model in ("e1000", "virtio-net-pci"):
            g = Guest(model, [VX86, "-m", "256M", "-nographic", "-boot", "n", "-netdev",
                              "user,id=n0,tftp=%s,bootfile=boot.ipxe" % tftp,
                              "-device", model + ",netdev=n0"] + EXTRA)
            try:
                ipxe = g.wait(r"boot\.ipxe : \d+ bytes \[script\]", 300) is not None
                guestlib.result(ipxe, "pxe %s: iPXE from the NIC's ROM fetched boot.ipxe over "
                                "slirp TFTP" % model + ("" if ipxe else "\n" + g.tail()))
                if not ipxe or not g.boot():
                    guestlib.result(False, "pxe %s: no shell after the network boot\n%s"
                                    % (model, g.tail()))
                    continue
                out = g.run("cat /proc/cmdline", 30) or ""
                guestlib.result("vx86.pxe=%d" % port in out,
                                "pxe %s: the kernel iPXE fetched over HTTP runs with the "
                                "script's command line" % model)
            finally:
                g.close()
    finally:
        srv.kill()
        srv.wait()
    sys.exit(exit_status())


main()
