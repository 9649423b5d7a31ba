# hostdiff: random instruction sequences run natively on the host CPU (in a
# child process, 64-bit and 32-bit compatibility mode) and under vx86, then
# compared (tests/cpu/hostdiff.c, docs/hostdiff.md).  x86-64 Linux hosts
# only: the native half executes the sequences.  A host that cannot run
# 32-bit code prints one SKIP line per mode-32 run; hostdiff-probe.sh
# forces that path so it is tested on every host.
#
#   make check-hostdiff                      20,000 integer sequences per mode,
#                                            and HOSTDIFF_FP_COUNT per mode for
#                                            each x87/MMX/SSE group
#   make check-hostdiff HOSTDIFF_COUNT=200000 HOSTDIFF_FP_COUNT=100000
ifeq ($(shell uname -m),x86_64)
HOSTDIFF := tests/cpu/hostdiff
HOSTDIFF_COUNT ?= 20000
HOSTDIFF_FP_COUNT ?= 10000
HOSTDIFF_FP_GROUPS ?= sse mmx x87
HOSTDIFF_SEED ?= 1
HOSTDIFF_ENGINE ?= both
HOSTDIFF_SRCS := tests/cpu/hostdiff.c tests/cpu/hostdiff-gen.c \
	tests/cpu/hostdiff-native.c tests/cpu/hostdiff-vx86.c tests/cpu/hostdiff-probe.c
HOSTDIFF_OBJS := $(HOSTDIFF_SRCS:%.c=$(BUILD)/%.o) $(BUILD)/tests/cpu/hostdiff-native.o-S

$(BUILD)/tests/cpu/hostdiff-native.o-S: tests/cpu/hostdiff-native.S tests/cpu/hostdiff.h
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -c -x assembler-with-cpp $< -o $@

$(HOSTDIFF): $(HOSTDIFF_OBJS) $(LIB)
	$(CC) $(LDFLAGS) -o $@ $(HOSTDIFF_OBJS) $(LIB) $(LIBS)

.PHONY: check-hostdiff
check-hostdiff: $(HOSTDIFF)
	@rc=0; sh tests/cpu/hostdiff-probe.sh $(HOSTDIFF) || rc=1; \
	for m in 64 32; do \
		$(HOSTDIFF) --mode $$m --engine $(HOSTDIFF_ENGINE) --seed $(HOSTDIFF_SEED) \
			--count $(HOSTDIFF_COUNT) || rc=1; \
	done; \
	for g in $(HOSTDIFF_FP_GROUPS); do for m in 64 32; do \
		$(HOSTDIFF) --group $$g --mode $$m --engine $(HOSTDIFF_ENGINE) --no-selftest \
			--seed $(HOSTDIFF_SEED) --count $(HOSTDIFF_FP_COUNT) || rc=1; \
	done; done; exit $$rc

CHECK_TARGETS += check-hostdiff

# The same binary on a host that runs 32-bit code: a Linux guest under
# QEMU's TCG (docs/hostdiff.md; a minute or two).
.PHONY: check-hostdiff-32host
check-hostdiff-32host: $(HOSTDIFF)
	@tests/cpu/hostdiff-32host.sh $(HOSTDIFF)

CHECK_FULL_TARGETS += check-hostdiff-32host
CLEAN_FILES += $(HOSTDIFF)
endif
