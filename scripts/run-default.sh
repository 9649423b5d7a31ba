#!/bin/sh
# `make run`: boots the default guest (Debian kernel + busybox initramfs,
# built from Debian packages by tests/guest/mkguest.sh) on this terminal.
set -e
cd "$(dirname "$0")/.."
# shellcheck disable=SC2046  # two paths, one per line
set -- $(tests/guest/mkguest.sh)
kernel=$1
initrd=$2
echo "booting the default guest (Ctrl-A x quits; 'poweroff -f' in the guest ends it)"
exec ./vx86 -m 512M -nographic -kernel "$kernel" -initrd "$initrd" -append 'console=ttyS0'
