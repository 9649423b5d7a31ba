# libFuzzer harnesses (docs/fuzzing.md): every parser and every device that
# takes guest or file input has one.  They are built with clang, ASan and
# UBSan (any finding aborts) against a sanitizer build of the library in
# build/fuzz/, whatever $(CC) builds vx86.
#
#   make check-fuzz                   each harness for FUZZ_TIME seconds (in make check),
#                                     FUZZ_JOBS (default: the core count) at once
#   make fuzz-long FUZZ_TIME=1800     the documented long run, per harness
#   make fuzz-NAME                    build one harness: build/fuzz/bin/NAME
#
# Seeds live in tests/fuzz/corpus/NAME/ (small, committed); what a run
# finds new goes to build/fuzz/corpus/NAME/ and crashes to build/fuzz/crash/.
FUZZ_CC := clang
FUZZ_TIME ?= 4
FUZZ_DIR := build/fuzz
FUZZ_SAN := -fsanitize=address,undefined -fno-sanitize-recover=undefined -fno-omit-frame-pointer
FUZZ_CFLAGS := -std=gnu11 -g -O1 -D_GNU_SOURCE -DVX86_FUZZING -I. -Iinclude $(PKG_CFLAGS) \
	-Wno-gnu-zero-variadic-macro-arguments -Wno-unknown-warning-option $(FUZZ_SAN)
FUZZ_LIB_OBJS := $(LIB_SRCS:%.c=$(FUZZ_DIR)/%.o) \
	$(patsubst %.S,$(FUZZ_DIR)/%.o,$(LIB_ASM_SRCS))
FUZZ_LIB := $(FUZZ_DIR)/libvx86.a

# Harnesses: tests/fuzz/fuzz-NAME.c, plus the device harnesses that share
# tests/fuzz/fuzz-device.c and pick their device with -DFUZZ_DEVICE.
FUZZ_FILE_TARGETS := $(patsubst tests/fuzz/fuzz-%.c,%,$(filter-out tests/fuzz/fuzz-device.c tests/fuzz/fuzz-virtio.c tests/fuzz/fuzz-roimage.c,$(wildcard tests/fuzz/fuzz-*.c)))
FUZZ_DEVICE_TARGETS := $(shell sed -n 's/^ *FUZZ_DEVICE_ROW[A-Z_]*.\([a-z0-9_]*\),.*/\1/p' tests/fuzz/fuzz-device.c)
# Virtio devices driven through their queues (tests/fuzz/fuzz-virtio.c, -DFUZZ_VIRTIO=NAME).
FUZZ_VIRTIO_DEVICES := blk rng scsi balloon net serial
# Read-only image formats (tests/fuzz/fuzz-roimage.c, -DFUZZ_FORMAT=NAME).
FUZZ_ROIMAGE_FORMATS := vdi vpc
FUZZ_TARGETS := $(FUZZ_FILE_TARGETS) $(addprefix dev-,$(FUZZ_DEVICE_TARGETS)) \
	$(addprefix virtio-,$(FUZZ_VIRTIO_DEVICES)) $(FUZZ_ROIMAGE_FORMATS)
FUZZ_BINS := $(addprefix $(FUZZ_DIR)/bin/,$(FUZZ_TARGETS))

$(FUZZ_DIR)/%.o: %.c config.h config.mk
	@mkdir -p $(dir $@)
	$(FUZZ_CC) $(FUZZ_CFLAGS) -fsanitize=fuzzer-no-link -MMD -MP -c $< -o $@

$(FUZZ_DIR)/%.o: %.S config.h config.mk
	@mkdir -p $(dir $@)
	$(FUZZ_CC) $(FUZZ_CFLAGS) -c $< -o $@

$(FUZZ_LIB): $(FUZZ_LIB_OBJS)
	@rm -f $@
	ar rcs $@ $^

$(FUZZ_DIR)/bin/dev-%: tests/fuzz/fuzz-device.c tests/fuzz/fuzz.h $(FUZZ_LIB)
	@mkdir -p $(dir $@)
	$(FUZZ_CC) $(FUZZ_CFLAGS) -fsanitize=fuzzer -DFUZZ_DEVICE=$* -o $@ $< $(FUZZ_LIB) $(LIBS)

$(FUZZ_DIR)/bin/virtio-%: tests/fuzz/fuzz-virtio.c tests/fuzz/fuzz.h $(FUZZ_LIB)
	@mkdir -p $(dir $@)
	$(FUZZ_CC) $(FUZZ_CFLAGS) -fsanitize=fuzzer -DFUZZ_VIRTIO=$* -o $@ $< $(FUZZ_LIB) $(LIBS)

$(addprefix $(FUZZ_DIR)/bin/,$(FUZZ_ROIMAGE_FORMATS)): $(FUZZ_DIR)/bin/%: tests/fuzz/fuzz-roimage.c \
		tests/fuzz/fuzz.h $(FUZZ_LIB)
	@mkdir -p $(dir $@)
	$(FUZZ_CC) $(FUZZ_CFLAGS) -fsanitize=fuzzer -DFUZZ_FORMAT=$* -o $@ $< $(FUZZ_LIB) $(LIBS)

$(FUZZ_DIR)/bin/%: tests/fuzz/fuzz-%.c tests/fuzz/fuzz.h $(FUZZ_LIB)
	@mkdir -p $(dir $@)
	$(FUZZ_CC) $(FUZZ_CFLAGS) -fsanitize=fuzzer -o $@ $< $(FUZZ_LIB) $(LIBS)

.PHONY: check-fuzz fuzz-long $(addprefix fuzz-,$(FUZZ_TARGETS))
$(addprefix fuzz-,$(FUZZ_TARGETS)): fuzz-%: $(FUZZ_DIR)/bin/%

# make check runs its targets one after another; the harnesses (an ASan
# build of the whole library) build and run on every core.
FUZZ_JOBS ?= $(shell nproc 2>/dev/null || echo 1)
check-fuzz:
	@$(MAKE) --no-print-directory -j$(FUZZ_JOBS) $(FUZZ_BINS)
	@FUZZ_JOBS=$(FUZZ_JOBS) tests/fuzz/run.sh $(FUZZ_TIME) $(FUZZ_TARGETS)

fuzz-long: $(FUZZ_BINS)
	@tests/fuzz/run.sh $(FUZZ_TIME) $(FUZZ_TARGETS)

CHECK_TARGETS += check-fuzz
-include $(shell find $(FUZZ_DIR) -name '*.d' 2>/dev/null)
