# Shared helpers of tests/system/kvm-*.sh (sourced, not run; kvm.mk leaves
# it out of check-kvm).  A script sets VX86 from its first argument, then:
#
#   kvm_init NAME       temp dir, counters; SKIP + exit 0 only for host
#                       features: /dev/kvm absent, or vx86 refusing the
#                       host's KVM while setting up the accelerator, before
#                       any guest code ran.  Otherwise the hello image must
#                       run under -accel kvm,force=on, else FAIL (a vx86
#                       regression must not pass as a SKIP)
#   accel_refused OUT ACCEL
#                       after guest_run: vx86's reason when it refused ACCEL
#                       at setup ("vx86: -accel ACCEL: ..."), else nothing
#   guest_run ACCEL IMG OUT [TIMEOUT]
#                       runs build/testrom/IMG.bin; debugcon text in OUT,
#                       stderr in OUT.err, exit status in $rc
#   guest_ok OUT        true when the guest ended through debug-exit with
#                       code 0: status 1, "exit code=0" last, no vx86 error
#                       (vx86 also exits 1 on its own errors, so the status
#                       alone is not enough)
#   pass MSG / fail MSG / skip MSG / kvm_finish
set -u

VX86=${VX86:-./vx86}
ROMDIR=${ROMDIR:-build/testrom}
failures=0

pass() { echo "PASS: $1"; }
fail() { echo "FAIL: $1"; failures=$((failures + 1)); }
skip() { echo "SKIP: $1"; }

guest_run() {
    accel=$1 img=$2 out=$3 limit=${4:-30}
    rm -f "$out" "$out.err"
    timeout -k 2 "$limit" "$VX86" -bios "$ROMDIR/$img.bin" -accel "$accel" -nographic \
        -m 64M -debugcon "file:$out" -no-reboot </dev/null >"$out.stdout" 2>"$out.err"
    rc=$?
    touch "$out"
}

guest_ok() {
    [ "$rc" = 1 ] || return 1
    grep -q '^vx86:' "$1.err" && return 1
    tail -n 1 "$1" | grep -Eq '^exit code=0+$'
}

# One line saying why a guest run failed.
guest_why() {
    if [ "$rc" = 124 ] || [ "$rc" = 137 ]; then
        echo "timed out"
    elif [ -s "$1.err" ]; then
        head -n 1 "$1.err"
    else
        echo "status $rc, last line: $(tail -n 1 "$1")"
    fi
}

kvm_init() {
    name=$1
    tmp=$(mktemp -d "${TMPDIR:-/tmp}/vx86-$name.XXXXXX") || exit 1
    trap 'rm -rf "$tmp"' EXIT INT TERM
    if [ ! -x "$VX86" ]; then
        echo "FAIL: $name: no emulator at $VX86"
        exit 1
    fi
    if [ ! -f "$ROMDIR/hello.bin" ]; then
        echo "FAIL: $name: $ROMDIR/hello.bin missing (make kvm-images)"
        exit 1
    fi
    if [ ! -e /dev/kvm ]; then
        skip "$name: host has no /dev/kvm"
        exit 0
    fi
    guest_run kvm,force=on hello "$tmp/hello" 20
    if ! guest_ok "$tmp/hello"; then
        why=$(accel_refused "$tmp/hello" kvm)
        if [ -n "$why" ]; then
            skip "$name: vx86 cannot use this host's KVM ($why)"
            exit 0
        fi
        echo "FAIL: $name: hello under -accel kvm,force=on ($(guest_why "$tmp/hello"))"
        exit 1
    fi
}

# (-accel help is no guide here: its speed probe refuses kvm_pvm hosts
# that force=on runs fine.)
accel_refused() {
    head -n 1 "$1.err" 2>/dev/null | sed -n "s/^vx86: -accel $2: //p"
}

# run_image IMG [TIMEOUT]: one image under KVM; PASS, or FAIL with the
# guest's own FAIL lines (or vx86's error).
run_image() {
    img=$1
    guest_run kvm,force=on "$img" "$tmp/$img" "${2:-30}"
    if guest_ok "$tmp/$img"; then
        pass "$img under -accel kvm ($(grep -vc '^info ' "$tmp/$img") lines)"
        return 0
    fi
    fail "$img under -accel kvm: $(guest_why "$tmp/$img")"
    grep '^FAIL' "$tmp/$img" | sed 's/^/    guest: /'
    return 1
}

kvm_finish() {
    [ "$failures" = 0 ] && exit 0
    echo "$name: $failures failure(s)"
    exit 1
}
