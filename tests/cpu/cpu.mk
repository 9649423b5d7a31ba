# CPU conformance: the SingleStepTests 80286 real-mode vectors run through
# the translator (tests/cpu/singlestep.c).  The data stays outside the
# repository (SINGLESTEP_DIR).
SINGLESTEP := tests/cpu/singlestep
SINGLESTEP_DIR ?= /work/shared/testdata/80286/v1_real_mode
SINGLESTEP_ENGINE ?= both

$(SINGLESTEP): tests/cpu/singlestep.c tests/cpu/moo.c tests/cpu/moo.h $(LIB)
	$(CC) $(CFLAGS) -o $@ tests/cpu/singlestep.c tests/cpu/moo.c $(LIB) $(LDFLAGS) $(LIBS)

.PHONY: check-singlestep
check-singlestep: $(SINGLESTEP)
	$(SINGLESTEP) --engine $(SINGLESTEP_ENGINE) --dir $(SINGLESTEP_DIR)

CHECK_TARGETS += check-singlestep
CLEAN_FILES += $(SINGLESTEP)
