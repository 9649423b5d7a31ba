#!/bin/sh
# Install the Debian packages vx86 needs.  `deps.sh build` for building and
# running, `deps.sh test` adds what `make check` needs, `deps.sh bench` what
# the benchmarks need.  Installs only what is missing; needs root for that.
set -eu
build_pkgs="gcc make pkg-config libcapstone-dev libsdl2-dev zlib1g-dev libglib2.0-dev check linux-libc-dev libpng-dev libzstd-dev libslirp-dev libncurses-dev libvncserver-dev seabios"
guest_pkgs="cpio gzip xz-utils zstd dpkg-dev"
test_pkgs="$build_pkgs $guest_pkgs x11proto-dev clang libclang-rt-14-dev qemu-system-x86 ipxe-qemu qemu-utils python3 e2fsprogs xorriso mtools gdb binutils grub-pc-bin fdisk memtest86+ debian-installer-12-netboot-amd64 xvfb xdotool x11-utils imagemagick tmux vncsnapshot xtightvncviewer tigervnc-viewer tigervnc-tools novnc chromium debootstrap"
bench_pkgs="$test_pkgs"

case "${1:-build}" in
    build) want="$build_pkgs $guest_pkgs" ;;
    test) want="$test_pkgs" ;;
    bench) want="$bench_pkgs" ;;
    *) echo "usage: $0 build|test|bench" >&2; exit 1 ;;
esac

missing=""
for p in $want; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing="$missing $p"
done
[ -z "$missing" ] && exit 0
if [ "$(id -u)" != 0 ]; then
    echo "deps: missing Debian packages:$missing (run as root, or: apt-get install$missing)" >&2
    exit 1
fi
echo "deps: installing$missing"
export DEBIAN_FRONTEND=noninteractive
apt-get update -q >/dev/null || true
apt-get install -y -q $missing >/dev/null
