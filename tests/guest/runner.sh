# Sourced by the guest runner tests (fpvec.sh, cputime.sh,
# tests/cpu/hostdiff-32host.sh): programs put into the stock Linux guest of
# mkguest.sh through a second initramfs archive, run by its own /init, the
# serial console captured.  The caller sets $tmp (a scratch directory).

# The first lines of every runner's /init (busybox applets, PATH, proc,
# sys and devtmpfs); the runner's own lines follow it in the same file.
runner_init_head() { # tree
    cat >"$1/init" <<'INIT'
#!/bin/busybox sh
/bin/busybox --install -s
export PATH=/bin:/sbin:/usr/bin:/usr/sbin
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev
INIT
}

# OUT = BASE with TREE's files on top: the kernel unpacks concatenated
# archives in order, later files win, so TREE's /init replaces the stock one.
runner_initrd() { # base tree out
    chmod 755 "$2/init"
    (cd "$2" && find . | sort | cpio -o -H newc -R 0:0 --quiet) | gzip -n >"$tmp/extra.cpio.gz"
    cat "$1" "$tmp/extra.cpio.gz" >"$3"
}

# Boots EMULATOR with KERNEL and INITRD on the serial console until the
# guest powers off or TIMEOUT seconds pass; the console output (\r
# removed) goes to $tmp/guest.clean, the emulator's exit status to
# $status.  Further arguments go to the emulator; $runner_append, when
# set, is added to the kernel command line.
runner_boot() { # emulator timeout kernel initrd mem [args...]
    _emu=$1 _timeout=$2 _kernel=$3 _initrd=$4 _mem=$5
    shift 5
    status=0
    timeout "$_timeout" "$_emu" "$@" -kernel "$_kernel" -initrd "$_initrd" \
        -append "console=ttyS0 quiet panic=-1${runner_append:+ $runner_append}" \
        -nographic -m "$_mem" -no-reboot </dev/null >"$tmp/guest.log" 2>&1 || status=$?
    tr -d '\r' <"$tmp/guest.log" >"$tmp/guest.clean"
}
