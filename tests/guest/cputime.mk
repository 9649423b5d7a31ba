# check-guest-cputime: timer interrupts reach the guest when their deadline
# passes, wherever the guest is: a guest program's user/system split and
# its ITIMER_VIRTUAL signals compared with a native run
# (tests/guest/cputime.sh).  Fails when the guest does not reach the test.
CPUTIME_TIMEOUT ?= 300
.PHONY: check-guest-cputime
check-guest-cputime: vx86
	@tests/guest/cputime.sh --timeout $(CPUTIME_TIMEOUT)

CHECK_TARGETS += check-guest-cputime
