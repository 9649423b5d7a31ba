#!/bin/sh
# Boots the default guest (Debian kernel + busybox initramfs) on the
# terminal.  While vx86 cannot boot a guest yet, runs the self-test.
set -e
cd "$(dirname "$0")/.."
if ./vx86 --help 2>/dev/null | grep -q -- '-kernel' && [ -x tests/guest/mkguest.sh ] \
   && ./vx86 -kernel /dev/null 2>&1 | grep -qv 'not supported yet'; then
    tests/guest/mkguest.sh >/dev/null
    exec ./vx86 -m 512M -nographic -kernel .cache/guest/vmlinuz \
        -initrd .cache/guest/initramfs.cpio.gz -append 'console=ttyS0'
fi
echo "vx86 cannot boot a guest yet: running the machine self-test instead"
exec ./vx86 -selftest
