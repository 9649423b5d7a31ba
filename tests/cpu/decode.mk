# Decoder differential test against capstone (tests/cpu/decodefuzz.c).
# Links only the decoder object so it builds whatever state the rest of the
# library is in.
DECODEFUZZ := tests/cpu/decodefuzz
DECODEFUZZ_COUNT ?= 2000000

$(DECODEFUZZ): tests/cpu/decodefuzz.c $(BUILD)/cpu/decode.o cpu/decode.h cpu/opcodes.h cpu/opcodes.def
	$(CC) $(CFLAGS) -o $@ tests/cpu/decodefuzz.c $(BUILD)/cpu/decode.o $(LDFLAGS) $(LIBS)

.PHONY: check-decodefuzz
check-decodefuzz: $(DECODEFUZZ)
	@for m in 16 32 64; do \
		$(DECODEFUZZ) --mode $$m --seed 1 --count $(DECODEFUZZ_COUNT) || exit 1; \
	done

CHECK_TARGETS += check-decodefuzz
CLEAN_FILES += $(DECODEFUZZ)
