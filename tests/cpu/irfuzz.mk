# irfuzz: random IR blocks run by the interpreter (as generated and
# optimised) and by the x86-64 backend, compared bit for bit.
IRFUZZ := $(BUILD)/tests/cpu/irfuzz
CLEAN_FILES +=

$(IRFUZZ): tests/cpu/irfuzz.c $(LIB) config.h config.mk
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) $(LDFLAGS) -o $@ tests/cpu/irfuzz.c $(LIB) $(LIBS)

.PHONY: check-irfuzz
check-irfuzz: $(IRFUZZ)
	$(IRFUZZ) --seed 1 --count 20000

CHECK_TARGETS += check-irfuzz
