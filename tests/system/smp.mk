# SMP guests (issue 17).
#
# check-smp: the test guest with -smp 2 (thread=multi) and -smp 4 under both
# translator thread modes (tests/system/smp.py: the kernel's CPU count, LOC on every
# CPU, query-cpus-fast, static programs pinned to each CPU against their
# native output, the stress program's exact totals, a clean kernel log);
# SeaBIOS counting the CPUs itself and a GRUB ISO booting Linux with 4 CPUs
# through its tables (tests/system/smp-firmware.sh); save, load and live
# migration of a -smp 2 guest, and a -smp 1 machine refusing its stream
# (tests/system/migrate_test.py --smp 2); KVM with 2 CPUs where this host
# can run it (SKIP, with the reason, elsewhere).
#
# check-smp-full (check-full): -smp 2 with thread=single, -smp 64 to the
# shell (slow on 2 host cores), the stress program's 100 rounds on -smp 4, and the whole guest
# test with -smp 2 under the IR interpreter (-accel tcg,interp=on, a
# thread per CPU: 14 minutes on a busy 2-core host).
SMP_TIMEOUT ?= 900
.PHONY: check-smp check-smp-full
check-smp: vx86
	@tests/system/smp.py --cpus 2 --thread multi --timeout $(SMP_TIMEOUT)
	@tests/system/smp.py --cpus 4 --thread single --timeout $(SMP_TIMEOUT)
	@tests/system/smp.py --cpus 4 --thread multi --timeout $(SMP_TIMEOUT)
	@tests/system/smp-firmware.sh ./vx86
	@tests/system/migrate_test.py --accel tcg --smp 2
	@tests/system/smp.py --cpus 2 --accel kvm --skip-unless-accel --timeout $(SMP_TIMEOUT)

check-smp-full: vx86
	@tests/system/smp.py --cpus 2 --thread single --timeout $(SMP_TIMEOUT)
	@tests/system/smp.py --cpus 64 --shell-only --memory 1G --timeout 3000
	@tests/system/smp.py --cpus 4 --stress 100 --timeout 3600
	@tests/system/smp.py --cpus 2 --accel tcg,interp=on --timeout 2400

CHECK_TARGETS += check-smp
CHECK_FULL_TARGETS += check-smp-full
