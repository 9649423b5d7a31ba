#!/bin/sh
# KVM system test: the same guests give the same answers under both
# accelerators.  Each image of KVM_STATE_IMAGES runs under -accel tcg and
# -accel kvm,force=on; the debugcon dumps must be identical apart from
# "info " lines (timings, selectors kvm_pvm substitutes) and the exit
# status must agree.  kvm-ring3's ALU/string lines are the host CPU's own
# results under KVM, so this holds the translator to real hardware.
#
#   tests/system/kvm-state.sh [path/to/vx86]         (make check-kvm)
#
# When vx86 refuses -accel tcg on this host ("vx86: -accel tcg: ...") the
# comparison prints SKIP with vx86's reason and exits 0; SKIP too when
# the host's KVM is unusable (kvm_init).  A hello image that fails under
# tcg is a FAIL.
VX86=${1:-./vx86}
KVM_STATE_IMAGES=${KVM_STATE_IMAGES:-"kvm-devices kvm-irq kvm-ring3"}
. "$(dirname "$0")/kvm-common.sh"
kvm_init kvm-state

guest_run tcg hello "$tmp/tcg-hello" 30
if ! guest_ok "$tmp/tcg-hello"; then
    why=$(accel_refused "$tmp/tcg-hello" tcg)
    if [ -n "$why" ]; then
        skip "kvm-state: vx86 has no translator on this host ($why)"
    else
        fail "kvm-state: hello under -accel tcg ($(guest_why "$tmp/tcg-hello"))"
    fi
    kvm_finish
fi

for img in $KVM_STATE_IMAGES; do
    guest_run kvm,force=on "$img" "$tmp/$img.kvm" 30
    krc=$rc
    guest_run tcg "$img" "$tmp/$img.tcg" 60
    trc=$rc
    echo "status=$krc" >>"$tmp/$img.kvm"
    echo "status=$trc" >>"$tmp/$img.tcg"
    grep -v '^info ' "$tmp/$img.kvm" >"$tmp/$img.kvm.cmp"
    grep -v '^info ' "$tmp/$img.tcg" >"$tmp/$img.tcg.cmp"
    if cmp -s "$tmp/$img.kvm.cmp" "$tmp/$img.tcg.cmp"; then
        pass "kvm-state: $img identical under tcg and kvm ($(wc -l <"$tmp/$img.kvm.cmp" | tr -d ' ') lines, status=$krc)"
    else
        fail "kvm-state: $img differs between tcg (+) and kvm (-)"
        diff "$tmp/$img.kvm.cmp" "$tmp/$img.tcg.cmp" | grep '^[<>]' | head -n 20 |
            sed 's/^</    kvm:/; s/^>/    tcg:/'
    fi
done

# The CPU's architectural state at the end of the run (-d cpu_exit: GPRs,
# RIP, RFLAGS, segment caches, GDT/IDT, CRs, EFER and the syscall MSRs),
# read back out of KVM and out of the translator, must be identical.
# Left out: kvm-ring3 (kvm_pvm substitutes its own ring-3 selectors) and
# kvm-irq (its registers hold wait-loop counts that vary run to run).
for img in ${KVM_CPU_STATE_IMAGES:-kvm-devices hello}; do
    for accel in kvm,force=on tcg; do
        timeout -k 2 60 "$VX86" -bios "$ROMDIR/$img.bin" -accel "$accel" -nographic -m 64M \
            -no-reboot -d cpu_exit -D "$tmp/$img.cpu.${accel%%,*}" </dev/null >/dev/null 2>&1
    done
    if [ -s "$tmp/$img.cpu.kvm" ] && cmp -s "$tmp/$img.cpu.kvm" "$tmp/$img.cpu.tcg"; then
        pass "kvm-state: $img CPU state read back identical under tcg and kvm ($(wc -l <"$tmp/$img.cpu.kvm" | tr -d ' ') lines)"
    else
        fail "kvm-state: $img CPU state differs between tcg (+) and kvm (-)"
        diff "$tmp/$img.cpu.kvm" "$tmp/$img.cpu.tcg" | grep '^[<>]' | head -n 20
    fi
done
kvm_finish
