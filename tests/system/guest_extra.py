"""Extra initramfs pieces for the QMP/migration tests, appended to the
busybox initramfs as a second cpio archive (Linux unpacks concatenated
archives): the ACPI power-button and evdev modules from the same Debian
kernel package, so a guest shell can act on system_powerdown without acpid.
"""
import glob
import gzip
import os
import subprocess
import tempfile

from qmp_lib import ROOT


def initrd_with_acpi_button(base_initrd, out_dir):
    out = os.path.join(out_dir, "initrd-acpi.cpio.gz")
    debs = sorted(glob.glob(os.path.join(os.path.dirname(base_initrd), "debs", "linux-image-*.deb")))
    if not debs:
        raise RuntimeError("no linux-image .deb next to %s (run tests/guest/mkguest.sh)" % base_initrd)
    with tempfile.TemporaryDirectory() as tmp:
        tar = subprocess.run(["dpkg-deb", "--fsys-tarfile", debs[-1]], check=True,
                             capture_output=True).stdout
        subprocess.run(["tar", "-x", "-C", tmp, "--wildcards", "*/drivers/acpi/button.ko",
                        "*/drivers/input/evdev.ko"], input=tar, check=True)
        mods = os.path.join(tmp, "extra")
        os.makedirs(mods)
        for ko in glob.glob(os.path.join(tmp, "lib/modules/*/kernel/drivers/*/*.ko")):
            os.rename(ko, os.path.join(mods, os.path.basename(ko)))
        names = "extra\nextra/button.ko\nextra/evdev.ko\n"
        cpio = subprocess.run(["cpio", "--quiet", "-o", "-H", "newc"], cwd=tmp, input=names.encode(),
                              check=True, capture_output=True).stdout
    with open(out, "wb") as f:
        with open(base_initrd, "rb") as b:
            f.write(b.read())
        f.write(gzip.compress(cpio))
    return out

# In the guest: load them and power off when the button's first event comes.
POWER_BUTTON_SCRIPT = (
    "insmod /extra/button.ko; insmod /extra/evdev.ko; "
    "for e in /sys/class/input/event*; do grep -q 'Power Button' $e/device/name && "
    "dev=/dev/input/${e##*/}; done; echo \"pwrbtn=$dev\"; "
    "(head -c 1 $dev >/dev/null; echo powerbutton-pressed; poweroff -f) &\n"
)
