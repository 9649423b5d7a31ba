#!/bin/sh
# Builds the small Linux guest that vx86's system tests and benchmarks boot:
#
#   .cache/guest/vmlinuz            Debian 12's stock amd64 kernel (a bzImage)
#   .cache/guest/initramfs.cpio.gz  busybox initramfs: /init mounts proc, sys
#                                   and devtmpfs, prints "vx86-guest ready" and
#                                   runs a shell with PS1='~ # ' on the console
#   .cache/guest/initramfs-ide.cpio.gz  the same plus the kernel's IDE, SCSI
#                                   disk/CD and ext4/iso9660 modules (from the
#                                   same linux-image package) in /lib/modules;
#                                   /init loads them when the kernel command
#                                   line says vx86.modules=ide (the default
#                                   initramfs stays small, so boots stay fast)
#   .cache/guest/initramfs-virtio.cpio.gz  the same with the virtio PCI
#                                   transport, virtio-blk, virtio-rng and
#                                   ext4 modules (vx86.modules=virtio)
#   .cache/guest/initramfs-scsi.cpio.gz  the same with the virtio PCI
#                                   transport, virtio-scsi, the SCSI disk and
#                                   CD drivers, ext4, isofs and virtio-balloon
#                                   (vx86.modules=scsi)
#   .cache/guest/initramfs-net.cpio.gz  the same with the e1000 module and
#                                   udhcpc's script (vx86.modules=net):
#                                   `udhcpc -i eth0 -q -f` configures eth0
#   .cache/guest/initramfs-fb.cpio.gz  the same with the bochs-drm module
#                                   (vx86.modules=fb): /dev/fb0 on the VGA
#
# The Debian packages are fetched once with `apt-get download` (the machine's
# apt sources; no other network access) into .cache/guest/debs/, and only
# the files above are extracted from them.
# Re-running is cheap: outputs this version of the script made are left
# alone (each has a NAME.stamp with the script's SHA-256: a fresh clone or a
# checkout that leaves the script as it was rebuilds nothing).
#
#   tests/guest/mkguest.sh          prints the kernel and initramfs paths
#   VX86_CACHE=/some/dir tests/guest/mkguest.sh    cache root instead of .cache
#
# Boot it in QEMU for comparison:
#   qemu-system-x86_64 -kernel .cache/guest/vmlinuz \
#       -initrd .cache/guest/initramfs.cpio.gz -append console=ttyS0 \
#       -nographic -m 512M
# Inside: `poweroff -f` ends the VM.
set -eu

die() {
    echo "mkguest: $*" >&2
    exit 1
}

script=$(cd "$(dirname "$0")" && pwd)/$(basename "$0")
root=$(cd "$(dirname "$0")/../.." && pwd)
cache=${VX86_CACHE:-$root/.cache}/guest
kernel=$cache/vmlinuz
busybox=$cache/busybox
initramfs=$cache/initramfs.cpio.gz

for tool in apt-get apt-cache dpkg-deb cpio gzip; do
    command -v "$tool" >/dev/null 2>&1 ||
        die "'$tool' is missing (run scripts/deps.sh build as root)"
done
mkdir -p "$cache" || die "cannot create cache folder $cache"

tmp=$(mktemp -d "${TMPDIR:-/tmp}/vx86-guest.XXXXXX")
trap 'rm -rf "$tmp"' EXIT INT TERM

# True when file $1 was modified after file $2 (POSIX sh has no -nt).
newer() {
    [ -n "$(find "$1" -prune -newer "$2" 2>/dev/null)" ]
}

# An output is up to date when it exists and this script's content made it
# (not its modification time: git gives a fresh checkout a new one).
script_sum=$(sha256sum "$script" | cut -d' ' -f1)
fresh() {
    [ -s "$1" ] && [ "$(cat "$1.stamp" 2>/dev/null)" = "$script_sum" ]
}

# done_output FILE: FILE.tmp becomes FILE, made by this script.
done_output() {
    mv "$1.tmp" "$1" && echo "$script_sum" >"$1.stamp"
}

# The versioned kernel package the linux-image-amd64 metapackage points at,
# e.g. linux-image-6.1.0-28-amd64; failing that, the newest 6.1.0-N-amd64.
kernel_package() {
    pkg=$(apt-cache depends linux-image-amd64 2>/dev/null |
        sed -n 's/^ *Depends: \(linux-image-[0-9][^ ]*-amd64\)$/\1/p' | head -n 1)
    if [ -z "$pkg" ]; then
        pkg=$(apt-cache search --names-only '^linux-image-6\.1\.0-[0-9]+-amd64$' 2>/dev/null |
            cut -d' ' -f1 | sort -V | tail -n 1)
    fi
    [ -n "$pkg" ] ||
        die "apt knows no linux-image-*-amd64 package (is this Debian 12? try apt-get update)"
    echo "$pkg"
}

# The cached .deb of package $1, if any.
cached_deb() {
    find "$cache/debs" -name "$1_*.deb" 2>/dev/null | head -n 1
}

# Downloads package $1 into $cache/debs once (a changed script or a
# deleted output then needs no network) and unpacks it into $tmp/$1/root.
fetch_package() {
    mkdir -p "$tmp/$1/root" "$cache/debs"
    deb=$(cached_deb "$1")
    if [ -z "$deb" ]; then
        echo "mkguest: fetching $1" >&2
        if ! (cd "$tmp/$1" && apt-get download -q "$1" >"$tmp/$1/apt.log" 2>&1); then
            sed 's/^/mkguest:   /' "$tmp/$1/apt.log" >&2
            die "apt-get download $1 failed (no reachable Debian mirror? try apt-get update)"
        fi
        for f in "$tmp/$1"/*.deb; do
            [ -f "$f" ] || die "apt-get download $1 left no .deb file"
            mv "$f" "$cache/debs/"
        done
        deb=$(cached_deb "$1")
    fi
    [ -n "$deb" ] || die "no .deb for $1 in $cache/debs"
    dpkg-deb -x "$deb" "$tmp/$1/root" || die "cannot unpack $deb"
}

fetch_kernel() {
    fresh "$kernel" && return 0
    pkg=$(kernel_package)
    fetch_package "$pkg"
    vmlinuz=$(ls "$tmp/$pkg/root/boot"/vmlinuz-* 2>/dev/null | head -n 1)
    [ -n "$vmlinuz" ] || die "$pkg holds no boot/vmlinuz-*"
    cp "$vmlinuz" "$kernel.tmp" && done_output "$kernel"
    echo "$pkg" >"$cache/kernel-package"
}

fetch_busybox() {
    fresh "$busybox" && return 0
    fetch_package busybox-static
    [ -x "$tmp/busybox-static/root/bin/busybox" ] || die "busybox-static holds no bin/busybox"
    cp "$tmp/busybox-static/root/bin/busybox" "$busybox.tmp" && done_output "$busybox"
}

# The guest's /init.  The kernel runs it as pid 1 with the console (ttyS0
# with console=ttyS0) as stdin/stdout.  cttyhack opens the real console
# device as the shell's controlling terminal so job control and ^C work;
# setsid makes the shell a session leader, which that needs.  The loop keeps
# pid 1 alive if the shell exits (pid 1 exiting panics the kernel).
write_init() {
    cat >"$1" <<'EOF'
#!/bin/busybox sh
/bin/busybox --install -s
export PATH=/bin:/sbin:/usr/bin:/usr/sbin
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev
mkdir -p /dev/pts
mount -t devpts devpts /dev/pts 2>/dev/null
hostname vx86-guest
# vx86.modules=SET loads /lib/modules/SET.list (module file names in
# dependency order), when the initramfs has it.
for arg in $(cat /proc/cmdline); do
    case $arg in
    vx86.modules=*)
        set=${arg#vx86.modules=}
        if [ -f "/lib/modules/$set.list" ]; then
            while read -r mod; do
                insmod "/lib/modules/$mod" || echo "init: insmod $mod failed"
            done <"/lib/modules/$set.list"
        else
            echo "init: no module set '$set' in this initramfs"
        fi
        ;;
    esac
done
echo "vx86-guest ready"
export PS1='~ # ' HOME=/root TERM=${TERM:-vt100}
cd /root
while true; do
    setsid cttyhack sh
    echo "init: shell exited, starting another (poweroff -f ends the VM)"
done
EOF
    chmod 755 "$1"
}

# A newc member header (see the kernel's early-userspace buffer-format.txt):
# "070701" and 13 fields of 8 hex digits, then the NUL-ended name padded to
# a multiple of 4 with the header.  Used for the /dev/console node, which
# cpio can only take from the file system after a mknod that needs root.
newc_header() { # name mode rdevmajor rdevminor
    namesize=$((${#1} + 1))
    printf '070701%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X%s\0' \
        1 "$2" 0 0 1 0 0 0 0 "$3" "$4" "$namesize" 0 "$1"
    pad=$(((4 - (110 + namesize) % 4) % 4))
    [ "$pad" -gt 0 ] && head -c "$pad" /dev/zero
    return 0
}

console_cpio() {
    newc_header dev/console $((0020000 | 0600)) 5 1
    newc_header 'TRAILER!!!' 0 0 0
}

build_initramfs() {
    if fresh "$initramfs" && newer "$initramfs" "$busybox"; then
        return 0
    fi
    echo "mkguest: building $initramfs" >&2
    dir=$tmp/initramfs
    mkdir -p "$dir"
    for d in bin sbin usr/bin usr/sbin proc sys dev tmp root etc; do
        mkdir -p "$dir/$d"
    done
    cp "$busybox" "$dir/bin/busybox"
    ln -s busybox "$dir/bin/sh"
    write_init "$dir/init"
    echo 'root:x:0:0:root:/root:/bin/sh' >"$dir/etc/passwd"
    echo 'root:x:0:' >"$dir/etc/group"
    # The kernel unpacks concatenated cpio archives in order: the file
    # tree first, then the device node.
    (cd "$dir" && find . -mindepth 1 | LC_ALL=C sort |
        cpio -o -H newc -R 0:0 --reproducible --quiet) >"$tmp/tree.cpio" ||
        die "cpio failed"
    console_cpio >"$tmp/console.cpio"
    cat "$tmp/tree.cpio" "$tmp/console.cpio" | gzip -9 -n >"$initramfs.tmp" ||
        die "gzip failed"
    done_output "$initramfs"
}

# Module sets: each is a list of modules that, with what they need
# (through the depends= field of each .ko's modinfo: the package ships no
# modules.dep), go into initramfs-SET.cpio.gz as /lib/modules/SET.list.
IDE_MODULES="ata_piix sd_mod sr_mod isofs crc32c_generic ext4"
VIRTIO_MODULES="virtio_pci virtio_blk virtio_rng crc32c_generic ext4"
NET_MODULES="e1000"
FB_MODULES="bochs"
SCSI_MODULES="virtio_pci virtio_scsi sd_mod sr_mod isofs crc32c_generic ext4 virtio_balloon"

add_module() { # set name: appends name after its dependencies to $tmp/mods/lib/modules/set.list
    local set n f deps d
    set=$1
    n=$(echo "$2" | tr - _)
    grep -qx "$n.ko" "$tmp/mods/lib/modules/$set.list" 2>/dev/null && return 0
    f=$(awk -v n="$n" '$1 == n { print $2; exit }' "$tmp/modindex")
    [ -n "$f" ] || die "module $n is not in the kernel package"
    deps=$(tr '\000' '\n' <"$f" | sed -n 's/^depends=//p' | head -n 1 | tr , ' ')
    for d in $deps; do
        add_module "$set" "$d"
    done
    cp "$f" "$tmp/mods/lib/modules/$n.ko"
    echo "$n.ko" >>"$tmp/mods/lib/modules/$set.list"
}

# busybox udhcpc's hook: configures the interface from the lease.
write_udhcpc_script() {
    mkdir -p "$(dirname "$1")"
    cat >"$1" <<'EOF'
#!/bin/sh
case "$1" in
deconfig)
    ifconfig "$interface" 0.0.0.0 up
    ;;
bound|renew)
    ifconfig "$interface" "$ip" netmask "${subnet:-255.255.255.0}" up
    if [ -n "$router" ]; then
        while route del default 2>/dev/null; do :; done
        route add default gw "${router%% *}" dev "$interface"
    fi
    : >/etc/resolv.conf
    for d in $dns; do echo "nameserver $d" >>/etc/resolv.conf; done
    echo "udhcpc: $interface $ip router ${router:-none}"
    ;;
esac
exit 0
EOF
    chmod 755 "$1"
}

build_module_set() { # set "modules..."
    out=$cache/initramfs-$1.cpio.gz
    if fresh "$out" && newer "$out" "$initramfs"; then
        return 0
    fi
    echo "mkguest: building $out" >&2
    pkg=$(cat "$cache/kernel-package" 2>/dev/null) || pkg=$(kernel_package)
    [ -d "$tmp/$pkg/root" ] || fetch_package "$pkg"
    moddir=$(ls -d "$tmp/$pkg/root/lib/modules"/* 2>/dev/null | head -n 1)
    [ -n "$moddir" ] || die "$pkg holds no lib/modules"
    # "name path" per module (one awk, not two processes per module:
    # there are thousands).
    [ -s "$tmp/modindex" ] || find "$moddir/kernel" -name '*.ko' |
        awk -F/ '{ n = $NF; sub(/\.ko$/, "", n); gsub(/-/, "_", n); print n, $0 }' >"$tmp/modindex"
    rm -rf "$tmp/mods"
    mkdir -p "$tmp/mods/lib/modules"
    : >"$tmp/mods/lib/modules/$1.list"
    for m in $2; do
        add_module "$1" "$m"
    done
    if [ "$1" = net ]; then
        write_udhcpc_script "$tmp/mods/etc/udhcpc/default.script"
    fi
    # The kernel unpacks a second cpio archive over the first one.
    (cd "$tmp/mods" && find . -mindepth 1 | LC_ALL=C sort |
        cpio -o -H newc -R 0:0 --reproducible --quiet) | gzip -9 -n >"$tmp/mods.cpio.gz" ||
        die "cpio of the modules failed"
    cat "$initramfs" "$tmp/mods.cpio.gz" >"$out.tmp" && done_output "$out"
}

fetch_kernel
fetch_busybox
build_initramfs
build_module_set ide "$IDE_MODULES"
build_module_set virtio "$VIRTIO_MODULES"
build_module_set net "$NET_MODULES"
build_module_set fb "$FB_MODULES"
build_module_set scsi "$SCSI_MODULES"
echo "$kernel"
echo "$initramfs"
