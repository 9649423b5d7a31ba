#!/bin/sh
# `make run`: boots the default guest (Debian kernel + busybox initramfs,
# built from Debian packages by tests/guest/mkguest.sh) on this terminal.
# When no accelerator of this vx86 can run it here, says why and runs the
# machine self-test instead.
set -e
cd "$(dirname "$0")/.."
if ! ./vx86 -accel help | grep -q ' usable$'; then
    echo "vx86 cannot boot a guest on this host yet:"
    ./vx86 -accel help | sed 1d
    echo "running the machine self-test instead"
    exec ./vx86 -selftest
fi
# shellcheck disable=SC2046  # two paths, one per line
set -- $(tests/guest/mkguest.sh)
kernel=$1
initrd=$2
echo "booting the default guest (Ctrl-A x quits; 'poweroff -f' in the guest ends it)"
exec ./vx86 -m 512M -nographic -kernel "$kernel" -initrd "$initrd" -append 'console=ttyS0'
