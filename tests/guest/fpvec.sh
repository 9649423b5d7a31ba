#!/bin/sh
# Guest differential test of x87/SSE/string work (tests/guest/fpvec/*.c):
# the programs are built statically with gcc (-O2 -msse4.2; aes.c also
# -maes -mpclmul), run natively, then run inside the Linux guest of
# tests/guest/mkguest.sh booted under vx86; the outputs must be identical
# byte for byte.
#
#   tests/guest/fpvec.sh [--emulator ./vx86] [--timeout 900] [--keep DIR]
#                        [--append "extra kernel arguments"]
#
# The guest gets the stock initramfs plus a second cpio archive (the kernel
# unpacks concatenated archives in order, later files win) holding the
# programs and an /init that runs each one between "=== fpvec NAME ==="
# markers and powers off.  Prints SKIP with the reason (and exits 0) only
# for a missing host feature: no gcc or no static C libraries, or a host
# CPU without SSE4.2, AES-NI or PCLMULQDQ (the native reference needs
# them).  Everything after that is the subject and FAILs (exit 1): no guest
# kernel/initramfs, no emulator, a guest that never reaches the runner (a
# boot regression), a runner that does not finish, any output difference.  --emulator qemu-system-x86_64 checks the plumbing
# (QEMU's own FP results may legitimately differ from the host's).
set -eu

root=$(cd "$(dirname "$0")/../.." && pwd)
. "$root/tests/guest/runner.sh"
emulator=$root/vx86
timeout=900
keep=
extra=
while [ $# -gt 0 ]; do
    case $1 in
    --append) extra=$2; shift 2 ;;
    --emulator) emulator=$2; shift 2 ;;
    --timeout) timeout=$2; shift 2 ;;
    --keep) keep=$2; shift 2 ;;
    *) echo "usage: $0 [--emulator PATH] [--timeout SECONDS] [--keep DIR] [--append ARGS]" >&2
       exit 2 ;;
    esac
done

skip() {
    echo "SKIP: fpvec guest test: $*"
    exit 0
}

fail() {
    echo "FAIL: fpvec guest test: $*"
    exit 1
}

tmp=${keep:-$(mktemp -d)}
mkdir -p "$tmp"
[ -n "$keep" ] || trap 'rm -rf "$tmp"' EXIT
progs="fpmath strvec aes"

# Host features the native reference needs.
command -v gcc >/dev/null 2>&1 || skip "host has no gcc"
# Can gcc link a static program at all?  (A failure of the real programs
# below is then theirs, not the host's.)
printf 'int main(void) { return 0; }\n' >"$tmp/static.c"
gcc -static -o "$tmp/static" "$tmp/static.c" 2>"$tmp/static.log" ||
    skip "host gcc cannot link static programs (glibc static libraries missing?): $(head -c 200 "$tmp/static.log")"
cpuflags=$(grep -m1 '^flags' /proc/cpuinfo 2>/dev/null || true)
for f in sse4_2 aes pclmulqdq; do
    case " ${cpuflags#*:} " in
    *" $f "*) ;;
    *) skip "host CPU lacks $f (the native reference runs the programs on it)" ;;
    esac
done

for p in $progs; do
    flags="-O2 -msse4.2"
    [ "$p" = aes ] && flags="$flags -maes -mpclmul"
    gcc $flags -static -o "$tmp/$p" "$root/tests/guest/fpvec/$p.c" -lm 2>"$tmp/$p.cc.log" ||
        fail "static build of $p.c failed: $(head -c 200 "$tmp/$p.cc.log")"
done

# Native reference.
: >"$tmp/native.out"
for p in $progs; do
    echo "=== fpvec $p ===" >>"$tmp/native.out"
    "$tmp/$p" >>"$tmp/native.out" 2>&1 || fail "native run of $p failed (exit $?)"
done

paths=$("$root/tests/guest/mkguest.sh" 2>"$tmp/mkguest.log") ||
    fail "no guest kernel/initramfs (tests/guest/mkguest.sh: $(tail -n 1 "$tmp/mkguest.log"))"
set -- $paths
kernel=$1
initrd=$2
[ -x "$emulator" ] || command -v "$emulator" >/dev/null 2>&1 || fail "emulator $emulator not found"

# The extra archive: /fpvec/<programs> and an /init that runs them.
tree=$tmp/tree
mkdir -p "$tree/fpvec"
for p in $progs; do cp "$tmp/$p" "$tree/fpvec/$p"; done
runner_init_head "$tree"
cat >>"$tree/init" <<'INIT'
echo "=== fpvec begin ==="
for p in fpmath strvec aes; do
    echo "=== fpvec $p ==="
    /fpvec/$p 2>&1
done
echo "=== fpvec end ==="
poweroff -f
INIT
chmod 755 "$tree/fpvec/"*
runner_initrd "$initrd" "$tree" "$tmp/initrd.gz"
runner_append=$extra
runner_boot "$emulator" "$timeout" "$kernel" "$tmp/initrd.gz" 512M
if ! grep -q "=== fpvec end ===" "$tmp/guest.clean"; then
    if grep -q "=== fpvec begin ===" "$tmp/guest.clean"; then
        echo "FAIL: fpvec guest test: the programs started but did not all finish (exit $status)"
        tail -n 20 "$tmp/guest.clean"
        exit 1
    fi
    # The guest never got to the runner: a boot regression, not a host
    # feature.
    echo "FAIL: fpvec guest test: the Linux guest did not reach the test runner under $(basename "$emulator") (exit $status; last line: $(tail -n 1 "$tmp/guest.clean" | head -c 160))"
    tail -n 20 "$tmp/guest.clean"
    exit 1
fi
sed -n '/=== fpvec begin ===/,/=== fpvec end ===/p' "$tmp/guest.clean" |
    sed '1d;$d' >"$tmp/guest.out"
if cmp -s "$tmp/native.out" "$tmp/guest.out"; then
    echo "fpvec guest test: $(wc -l <"$tmp/native.out") lines identical to the native run ($progs)"
    exit 0
fi
echo "FAIL: fpvec guest test: output differs from the native run"
diff "$tmp/native.out" "$tmp/guest.out" | head -n 40
exit 1
