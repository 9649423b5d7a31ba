#!/bin/sh
# A running guest saved under -accel tcg resumes under -accel kvm and the
# reverse (tests/system/accel_switch_test.py; tcg->tcg runs on every host,
# the KVM pairs print SKIP where KVM is unusable).   (make check-kvm)
exec python3 "$(dirname "$0")/accel_switch_test.py" "${1:-./vx86}"
