#!/bin/sh
# KVM system test: port IO and MMIO exits reach vx86's device models
# (CMOS, PIT, PCI config, IOAPIC, HPET, LAPIC), guest RAM keeps what is
# written and the BIOS ROM slot ignores writes -- the kvm-devices guest
# (tests/cpu/system/kvm-devices.c) checks each against the datasheets.
#
#   tests/system/kvm-devices.sh [path/to/vx86]       (make check-kvm)
#
# Prints PASS/FAIL lines, or SKIP and exits 0 when KVM is unusable.
VX86=${1:-./vx86}
. "$(dirname "$0")/kvm-common.sh"
kvm_init kvm-devices

if run_image kvm-devices; then
    # The groups of checks the guest printed, so a log shows what ran.
    for what in "cmos ram readback 5a a5" "pit status=34" "pci 00:00.0 id=12378086" \
                "ioapic ioregsel=01 maxredir=17" "hpet counter runs=1" "lapic tpr=20" \
                "ram 03fff000 ok=1" "rom after writes low=ea high=ea same=1"; do
        if grep -q "^$what" "$tmp/kvm-devices"; then
            pass "kvm-devices: $what"
        else
            fail "kvm-devices: no line '$what'"
        fi
    done
fi
kvm_finish
