#!/bin/sh
# KVM system test: interrupts from vx86's own PIC/PIT and LAPIC models are
# injected into a KVM guest (tests/cpu/system/kvm-irq.S, real mode: PIT
# ticks waking HLT, a masked IRQ held back and delivered on unmask, a
# pending IRQ delivered by STI through the interrupt window, a LAPIC timer
# one-shot).
#
#   tests/system/kvm-irq.sh [path/to/vx86]           (make check-kvm)
#
# Prints PASS/FAIL lines, or SKIP and exits 0 when KVM is unusable.
VX86=${1:-./vx86}
. "$(dirname "$0")/kvm-common.sh"
kvm_init kvm-irq

if run_image kvm-irq 20; then
    for what in "irq pit ticks=0005" "irq woke from hlt=0001" "irq masked delivered=0000" \
                "irq unmask delivers=0001" "irq sti delivers=0001" "irq lapic timer ticks=0001"; do
        if grep -q "^$what" "$tmp/kvm-irq"; then
            pass "kvm-irq: $what"
        else
            fail "kvm-irq: no line '$what'"
        fi
    done
fi
kvm_finish
