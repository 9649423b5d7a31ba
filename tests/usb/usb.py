#!/usr/bin/env python3
"""USB (UHCI + HID) with the Debian test guest, against Linux and QEMU.

  tests/usb/usb.py VX86 KERNEL INITRD_USB [--sdl] [--sdl-only|--savevm-only|--xhci|--hub]

The guest (tests/usb/mkinitramfs.sh) loads Debian's uhci_hcd, usbhid,
hid_generic and evdev.  vx86 runs it with -usb -device usb-tablet
-device usb-kbd; the checks read what Linux made of the devices:

  enumerate  Linux's USB core read both devices: /sys/bus/usb/devices/1-*
             (idVendor, idProduct, product) and usbhid bound to their
             interfaces; the same list as the guest reports under
             qemu-system-x86_64 with the same options (when installed).
  tablet     usb-evtest (tests/usb/usb-evtest.c) reads the tablet's
             /dev/input/event*: the kernel's ABS_X/ABS_Y range, then QMP
             input-send-event abs positions arrive as EV_ABS values
             proportional to them (value / max == sent / 0x7fff), a left
             button press as BTN_LEFT; QEMU gives the same ranges and
             values for the same events.
  keyboard   QMP send-key reaches the USB keyboard's event device as the
             keys' evdev codes, and typed keys reach a shell's `read` on
             the foreground virtual terminal (tty1) through the kernel's
             keyboard handler.
  sdl        (--sdl; needs Xvfb and xdotool) -display sdl on a private
             Xvfb: `xdotool mousemove` to points of the window gives
             EV_ABS values proportional to the point's place on the
             guest screen, with no grab.
  mouse      (with -device usb-mouse instead of the keyboard) QMP rel
             motion and a wheel step arrive as EV_REL.
  savevm     the state survives migration to a file and back with -usb
             (the tablet still reports after the incoming VM runs).

  xhci       (--xhci, alone) the same guest with -device qemu-xhci,id=xhci
             -device usb-tablet,bus=xhci.0 -device usb-kbd (no bus=: the
             only USB bus) and Debian's xhci_pci/xhci_hcd: both devices
             enumerate behind the xHCI's USB 2 root hub ("new full-speed
             USB device ... using xhci_hcd" for vx86's USB 1.1 HID
             functions, high-speed under QEMU), the bus's controller bound to
             xhci_hcd, MSI-X in use), then the tablet and keyboard checks
             above, compared with QEMU's qemu-xhci; once more with
             pci=nomsi (INTx) for enumeration and the tablet; the mouse
             and savevm cases with the xHCI.

  hub        (--hub, alone) -usb -device usb-hub -device usb-kbd
             -device usb-tablet -device usb-mouse: Linux's hub driver finds
             the 8-port hub on root port 1, the tablet and mouse behind
             it (1-1.1, 1-1.2) and the keyboard on root port 2, the same
             topology as under QEMU; the tablet's EV_ABS values (through
             the hub; its buttons go to the usb-mouse) and the keyboard.

Prints PASS:/FAIL:/SKIP: lines; exit status 1 on a failure.
"""
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "system"))
from qmp_lib import VM  # noqa: E402

VX86, KERNEL, INITRD = sys.argv[1:4]
WANT_SDL = "--sdl" in sys.argv
QEMU = shutil.which("qemu-system-x86_64")
ABS_MAX = 0x7FFF
BTN_LEFT = 272
failed = False

BASE = ["-m", "256M", "-kernel", KERNEL, "-initrd", INITRD,
        "-append", "console=ttyS0 vx86.modules=usb quiet", "-usb",
        "-device", "usb-tablet", "-device", "usb-kbd"]
XHCI = "--xhci" in sys.argv
if XHCI:
    BASE = BASE[:BASE.index("-usb")] + ["-device", "qemu-xhci,id=xhci",
                                        "-device", "usb-tablet,bus=xhci.0", "-device", "usb-kbd"]
HUB = "--hub" in sys.argv
if HUB:
    BASE = BASE[:BASE.index("-device")] + ["-device", "usb-hub", "-device", "usb-kbd",
                                           "-device", "usb-tablet", "-device", "usb-mouse"]
# The migration case swaps the keyboard for a mouse (two root ports).
MOUSE = ["-device", "usb-mouse"]
POINTS = [(ABS_MAX, ABS_MAX), (0, 0), (16384, 8192), (1000, 30000), (ABS_MAX // 3, 2 * ABS_MAX // 3)]


def result(ok, what, detail=""):
    global failed
    print(("PASS: usb: " if ok else "FAIL: usb: ") + what + ("" if ok else ": " + detail))
    failed |= not ok
    return ok


def boot(binary, extra=(), qmp=True, append_extra=""):
    args = list(BASE)
    if append_extra:
        i = args.index("-append") + 1
        args[i] += " " + append_extra
    if extra == MOUSE:
        args[args.index("usb-kbd")] = "usb-mouse"
        extra = ()
    vm = VM(args + list(extra), qmp=qmp, binary=binary)
    vm.wait_serial("~ # ", timeout=180)
    return vm


def run(vm, cmd, marker, timeout=60):
    """Runs a shell line in the guest; returns its output up to marker."""
    start = len(vm.out)
    vm.type(cmd + "; echo " + marker[:2] + "''" + marker[2:] + "\n")
    vm.wait_serial(marker, timeout=timeout, start=start)
    text = vm.out[start:].decode(errors="replace")
    return text[:text.rfind(marker)]


def enumerate_devices(vm):
    """What Linux reports for the USB devices behind the root hub."""
    out = run(vm, "for i in $(seq 100); do [ $(ls -d /sys/bus/usb/drivers/usbhid/*:* | wc -l) "
                  "-ge 2 ] && break; sleep 0.1; done; "
                  "for d in /sys/bus/usb/devices/1-*; do case $d in *:*) continue;; esac; "
                  "[ $(cat $d/bDeviceClass) = 09 ] && continue; echo \"USB\"\"DEV $(cat $d/idVendor):"
                  "$(cat $d/idProduct) $(cat $d/product) "
                  "$(basename $(readlink $d/${d##*/}:1.0/driver))\"; done", "ENUMDONE")
    return sorted(re.findall(r"USBDEV ([^\r\n]*)", out))


def start_evtest(vm, name):
    start = len(vm.out)
    vm.type("usb-evtest '%s' &\n" % name)
    vm.wait_serial("READY", timeout=30, start=start)
    text = vm.out[start:].decode(errors="replace")
    return {int(a): (int(lo), int(hi))
            for a, lo, hi in re.findall(r"ABSINFO (\d+) min (-?\d+) max (-?\d+)", text)}


def stop_evtest(vm):
    run(vm, "kill %1; wait", "KILLED")


def abs_events(vm, start, want, timeout=20):
    """Waits until the EV_ABS X and Y values seen since start are want."""
    end = time.time() + timeout
    last = {}
    while time.time() < end:
        text = vm.out[start:].decode(errors="replace")
        last = {}
        for code, val in re.findall(r"ABS ([01]) (-?\d+)", text):
            last[int(code)] = int(val)
        if last.get(0) == want[0] and last.get(1) == want[1]:
            return last
        vm.read_serial(0.2)
    return last


def tablet_case(vm, q, tag):
    """Sends POINTS through QMP; returns (axis ranges, values seen)."""
    ranges = start_evtest(vm, "USB Tablet")
    seen = []
    for x, y in POINTS:
        start = len(vm.out)
        q.cmd("input-send-event", events=[
            {"type": "abs", "data": {"axis": "x", "value": x}},
            {"type": "abs", "data": {"axis": "y", "value": y}}])
        mx = ranges.get(0, (0, ABS_MAX))[1]
        my = ranges.get(1, (0, ABS_MAX))[1]
        want = (round(x * mx / ABS_MAX), round(y * my / ABS_MAX))
        got = abs_events(vm, start, want)
        seen.append((got.get(0), got.get(1)))
        result(got.get(0) == want[0] and got.get(1) == want[1],
               "%s: tablet abs (%d, %d) -> EV_ABS %s" % (tag, x, y, want), "got %s" % got)
    if HUB:
        # (Buttons go to the usb-mouse when there is one: docs/devices-io.md.)
        stop_evtest(vm)
        return ranges, seen
    start = len(vm.out)
    q.cmd("input-send-event", events=[{"type": "btn", "data": {"down": True, "button": "left"}}])
    q.cmd("input-send-event", events=[{"type": "btn", "data": {"down": False, "button": "left"}}])
    try:
        vm.wait_serial("KEY %d 0" % BTN_LEFT, timeout=20, start=start)
        ok = ("KEY %d 1" % BTN_LEFT).encode() in vm.out[start:]
    except TimeoutError:
        ok = False
    result(ok, "%s: tablet left button -> BTN_LEFT press and release" % tag)
    stop_evtest(vm)
    return ranges, seen


def keyboard_case(vm, q, tag):
    start_evtest(vm, "USB Keyboard")
    start = len(vm.out)
    q.cmd("send-key", keys=[{"type": "qcode", "data": "a"}])
    q.cmd("send-key", keys=[{"type": "qcode", "data": "shift"}, {"type": "qcode", "data": "z"}])
    # evdev codes (linux/input-event-codes.h): KEY_A 30, KEY_Z 44, KEY_LEFTSHIFT 42.
    want = ["KEY 30 1", "KEY 30 0", "KEY 42 1", "KEY 44 1", "KEY 44 0", "KEY 42 0"]
    try:
        vm.wait_serial("KEY 42 0", timeout=20, start=start)
    except TimeoutError:
        pass
    got = re.findall(r"KEY \d+ [01]", vm.out[start:].decode(errors="replace"))
    result(got == want, "%s: send-key a, shift-z -> usb-kbd evdev keys" % tag,
           "got %s" % got)
    stop_evtest(vm)
    # The kernel's keyboard handler turns them into characters on tty1.
    start = len(vm.out)
    vm.type("(read line </dev/tty1; echo \"TTY1:$line:\" | tr o O) &\n")
    time.sleep(1)
    for k in ["e", "c", "h", "o", "spc", "u", "s", "b", "ret"]:
        q.cmd("send-key", keys=[{"type": "qcode", "data": k}])
    try:
        vm.wait_serial("echO usb:", timeout=20, start=start)
        ok = True
    except TimeoutError:
        ok = False
    result(ok, "%s: keys typed on usb-kbd reach a shell's read on tty1" % tag,
           repr(vm.out[start:][-200:]))


def hub_checks(vm, tag):
    """Where each device sits: (sysfs name, product, ports if a hub)."""
    out = run(vm, "for i in $(seq 100); do [ $(ls -d /sys/bus/usb/drivers/usbhid/*:* | wc -l) "
                  "-ge 3 ] && break; sleep 0.1; done; "
                  "for d in /sys/bus/usb/devices/1-*; do case $d in *:*) continue;; esac; "
                  "echo \"TOPO ${d##*/} $(cat $d/product | tr ' ' _) "
                  "$(cat $d/maxchild)\"; done", "TOPODONE")
    topo = sorted(re.findall(r"^TOPO (\S+) (\S+) (\d+)\r?$", out, re.M))
    want = [("1-1", "QEMU_USB_Hub", "8"), ("1-1.1", "QEMU_USB_Tablet", "0"),
            ("1-1.2", "QEMU_USB_Mouse", "0"), ("1-2", "QEMU_USB_Keyboard", "0")]
    result(topo == want, "%s: usb-hub with 8 ports on port 1, tablet and mouse behind it" % tag,
           "%s in %r" % (topo, out[-400:]))
    return topo


def xhci_checks(vm, tag, intx):
    """The devices sit behind xhci_hcd's USB 2 root hub (bus 1)."""
    out = run(vm, "echo HCD $(basename $(readlink /sys/bus/usb/devices/usb1/../driver)) "
                  "$(cat /sys/bus/usb/devices/usb1/speed) "
                  "$(cat /sys/bus/usb/devices/usb2/speed); "
                  "dmesg | grep -c 'new .* USB device number .* using xhci_hcd' "
                  "| sed 's/^/NEWDEV /'", "XHDONE")
    m = re.search(r"^HCD (\S+) (\S+) (\S+)\r?$", out, re.M)
    result(m is not None and m.groups() == ("xhci_hcd", "480", "5000"),
           "%s: usb1 (480 Mb/s) and usb2 (5000 Mb/s) are xhci_hcd's root hubs" % tag,
           repr(out[-300:]))
    n = re.search(r"^NEWDEV (\d+)\r?$", out, re.M)
    result(n is not None and int(n.group(1)) == 2,
           "%s: dmesg: two 'new ... USB device ... using xhci_hcd'" % tag, repr(out[-300:]))
    # (xhci_hcd names its MSI-X vectors xhci_hcd; the INTx line is usb_hcd's "xhci-hcd:usb1".)
    irq = run(vm, "grep -E 'xhci[-_]hcd' /proc/interrupts | head -n 1", "IRQDONE")
    want = "IO-APIC" if intx else "PCI-MSI"
    result(want in irq, "%s: xhci_hcd's interrupt is %s" % (tag, want), repr(irq[-200:]))


def guest_case(binary, tag, intx=False):
    vm = boot(binary, append_extra="pci=nomsi" if intx else "")
    try:
        q = vm.qmp()
        topo = hub_checks(vm, tag) if HUB else None
        devs = enumerate_devices(vm)
        nhid = 3 if HUB else 2
        result(len(devs) == nhid and all(d.endswith(" usbhid") for d in devs),
               "%s: Linux enumerates %d USB HID devices bound to usbhid" % (tag, nhid), str(devs))
        if HUB:
            devs = (devs, topo)
        if XHCI:
            xhci_checks(vm, tag, intx)
        ranges, seen = tablet_case(vm, q, tag)
        if intx:
            return devs, ranges, seen
        keyboard_case(vm, q, tag)
        return devs, ranges, seen
    finally:
        vm.kill()


def sdl_case():
    if not shutil.which("Xvfb") or not shutil.which("xdotool"):
        print("SKIP: usb: sdl: needs Xvfb and xdotool (scripts/deps.sh test)")
        return
    disp = ":%d" % (90 + os.getpid() % 100)
    xvfb = subprocess.Popen(["Xvfb", disp, "-screen", "0", "1280x1024x24", "-nolisten", "tcp"],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    env = dict(os.environ, DISPLAY=disp)
    try:
        time.sleep(1.5)
        tmp = tempfile.mkdtemp(prefix="vx86-usb.")
        qmp_path = os.path.join(tmp, "qmp.sock")
        # SeaBIOS boots the kernel, so its VGA BIOS sets a text mode the
        # window shows (without firmware the VGA keeps its reset registers).
        cmd = [VX86] + BASE + ["-bios", "/usr/share/seabios/bios-256k.bin",
                               "-display", "sdl", "-serial", "stdio",
                               "-qmp", "unix:%s,server,nowait" % qmp_path]
        vm = VM.__new__(VM)
        vm.tmp, vm.qmp_path, vm.out = tmp, qmp_path, b""
        vm.proc = subprocess.Popen(cmd, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                   stderr=subprocess.PIPE, env=env)
        try:
            vm.wait_serial("~ # ", timeout=180)
            enumerate_devices(vm)
            ranges = start_evtest(vm, "USB Tablet")
            win = subprocess.run(["xdotool", "search", "--sync", "--onlyvisible", "--name",
                                  "vx86"], env=env,
                                 capture_output=True, text=True, timeout=30).stdout.split()
            # The window takes the guest's mode size once the VGA has one.
            for _ in range(100):
                geo = subprocess.run(["xdotool", "getwindowgeometry", win[0]], env=env,
                                     capture_output=True, text=True).stdout
                ww, wh = map(int, re.search(r"Geometry: (\d+)x(\d+)", geo).groups())
                if ww >= 100 and wh >= 100:
                    break
                time.sleep(0.1)
            mx = ranges.get(0, (0, ABS_MAX))[1]
            my = ranges.get(1, (0, ABS_MAX))[1]
            for fx, fy in [(0.25, 0.5), (0.75, 0.25), (0.5, 0.9)]:
                px, py = int(ww * fx), int(wh * fy)
                start = len(vm.out)
                subprocess.run(["xdotool", "mousemove", "--window", win[0], str(px), str(py)],
                               env=env, check=True)
                want = (round(px * ABS_MAX / max(ww - 1, 1) * mx / ABS_MAX),
                        round(py * ABS_MAX / max(wh - 1, 1) * my / ABS_MAX))
                got = abs_events(vm, start, want, timeout=10)
                ok = got.get(0) is not None and got.get(1) is not None and \
                    abs(got[0] - want[0]) <= mx // 200 and abs(got[1] - want[1]) <= my // 200
                result(ok, "sdl: xdotool mousemove %d,%d in a %dx%d window -> EV_ABS ~%s" %
                       (px, py, ww, wh, want), "got %s (windows %s: %r)" % (got, win, geo))
            name = subprocess.run(["xdotool", "getwindowname", win[0]], env=env,
                                  capture_output=True, text=True).stdout
            result("grab" not in name.lower(), "sdl: the tablet needs no grab", name.strip())
        finally:
            vm.kill()
            shutil.rmtree(tmp, ignore_errors=True)
    finally:
        xvfb.kill()
        xvfb.wait()


def mouse_case(vm, q):
    """usb-mouse: relative motion and the wheel as EV_REL."""
    start_evtest(vm, "USB Mouse")
    start = len(vm.out)
    q.cmd("input-send-event", events=[
        {"type": "rel", "data": {"axis": "x", "value": 10}},
        {"type": "rel", "data": {"axis": "y", "value": -5}}])
    q.cmd("input-send-event", events=[{"type": "btn", "data": {"down": True, "button": "wheel-up"}}])
    # evdev: REL_X 0, REL_Y 1, REL_WHEEL 8 (+1 is away from the user).
    try:
        vm.wait_serial("REL 8 ", timeout=20, start=start)
        i = vm.out.index(b"REL 8 ", start)
        vm.wait_serial("\n", timeout=5, start=i)     # the whole line
    except TimeoutError:
        pass
    # (REL_WHEEL_HI_RES, code 11, comes along from newer kernels: not checked.)
    got = re.findall(r"REL [018] -?\d+", vm.out[start:].decode(errors="replace"))
    result(got == ["REL 0 10", "REL 1 -5", "REL 8 1"],
           "vx86: usb-mouse rel (10, -5) and a wheel step up -> EV_REL",
           "got %s in %r" % (got, vm.out[start:][-300:]))
    stop_evtest(vm)


def savevm_case():
    """Migration to a file and back with the USB devices (and the usb-mouse
    checked on the way)."""
    tmp = tempfile.mkdtemp(prefix="vx86-usb.")
    state = os.path.join(tmp, "state")
    vm = boot(VX86, extra=MOUSE)
    try:
        q = vm.qmp()
        enumerate_devices(vm)
        mouse_case(vm, q)
        start_evtest(vm, "USB Tablet")
        q.cmd("stop")
        q.cmd("migrate", uri="exec:cat >" + state)
        for _ in range(100):
            if q.cmd("query-migrate").get("status") in ("completed", "failed"):
                break
            time.sleep(0.1)
        status = q.cmd("query-migrate").get("status")
    finally:
        vm.kill()
    if not result(status == "completed", "savevm: migrate to a file with %s" %
                  ("qemu-xhci" if XHCI else "-usb"), str(status)):
        return
    args = list(BASE)
    args[args.index("usb-kbd")] = "usb-mouse"
    vm2 = VM(args + ["-incoming", "exec:cat " + state], binary=VX86)
    try:
        q = vm2.qmp()
        for _ in range(100):
            if q.cmd("query-status").get("status") != "inmigrate":
                break
            time.sleep(0.1)
        q.cmd("cont")
        start = len(vm2.out)
        q.cmd("input-send-event", events=[
            {"type": "abs", "data": {"axis": "x", "value": 12345}},
            {"type": "abs", "data": {"axis": "y", "value": 23456}}])
        got = abs_events(vm2, start, (12345, 23456))
        result(got.get(0) == 12345 and got.get(1) == 23456,
               "savevm: the restored tablet reports to the running evtest", "got %s" % got)
    finally:
        vm2.kill()
        shutil.rmtree(tmp, ignore_errors=True)


def main():
    if "--sdl-only" in sys.argv:          # for working on one case alone
        sdl_case()
        sys.exit(1 if failed else 0)
    if "--savevm-only" in sys.argv:
        savevm_case()
        sys.exit(1 if failed else 0)
    devs, ranges, seen = guest_case(VX86, "vx86" + ("-xhci" if XHCI else "-hub" if HUB else ""))
    result(ranges.get(0) == (0, ABS_MAX) and ranges.get(1) == (0, ABS_MAX),
           "vx86: the kernel's tablet axes are 0..0x7fff", str(ranges))
    if QEMU:
        qdevs, qranges, qseen = guest_case(QEMU, "qemu" + ("-xhci" if XHCI else
                                                           "-hub" if HUB else ""))
        result(devs == qdevs, "the same USB devices as under QEMU", "%s vs %s" % (devs, qdevs))
        result(ranges == qranges, "the same tablet axis ranges as under QEMU",
               "%s vs %s" % (ranges, qranges))
        result(seen == qseen, "the same EV_ABS values as under QEMU", "%s vs %s" % (seen, qseen))
    else:
        print("SKIP: usb: qemu-system-x86_64 not installed: no comparison")
    if HUB:
        sys.exit(1 if failed else 0)
    if XHCI:
        guest_case(VX86, "vx86-xhci-intx", intx=True)
    savevm_case()
    if XHCI:
        sys.exit(1 if failed else 0)
    if WANT_SDL:
        sdl_case()
    sys.exit(1 if failed else 0)


main()
