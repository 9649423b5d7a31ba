# CPU conformance: the SingleStepTests 80286 real-mode vectors run through
# the translator (tests/cpu/singlestep.c).  The data stays outside the
# repository, in ../shared/testdata/ next to the checkout's root
# (SINGLESTEP_DIR overrides it).  The path is computed from this file's
# place, so it holds wherever the checkout lives.
SINGLESTEP := tests/cpu/singlestep
CPU_MK_ROOT := $(abspath $(dir $(lastword $(MAKEFILE_LIST)))../..)
SINGLESTEP_DIR ?= $(CPU_MK_ROOT)/../shared/testdata/80286/v1_real_mode
SINGLESTEP_ENGINE ?= both

# The binary's default --dir is the same directory (singlestep.c).
$(SINGLESTEP): tests/cpu/singlestep.c tests/cpu/moo.c tests/cpu/moo.h $(LIB)
	$(CC) $(CFLAGS) -DSINGLESTEP_DEFAULT_DIR='"$(abspath $(SINGLESTEP_DIR))"' -o $@ \
		tests/cpu/singlestep.c tests/cpu/moo.c $(LIB) $(LDFLAGS) $(LIBS)

.PHONY: check-singlestep
check-singlestep: $(SINGLESTEP)
	$(SINGLESTEP) --engine $(SINGLESTEP_ENGINE) --dir $(SINGLESTEP_DIR)

CHECK_TARGETS += check-singlestep
CLEAN_FILES += $(SINGLESTEP)
