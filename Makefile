# vx86: one non-recursive Makefile.  Sources are found by wildcard; each
# directory may add rules and check targets in its own <dir>/*.mk fragment.
#
#   make            build ./vx86 (and ./vx86-img when block/ has it)
#   make check      install test needs, build and run every test
#   make check-full the slow suites too
#   make bench      side-by-side benchmarks with qemu (not part of check)
#   make clean

.DEFAULT_GOAL := all
# Not configured yet: make runs ./configure with defaults, then restarts.
include config.mk
config.mk config.h: configure VERSION
	./configure

# `make CC=clang` must not mix objects with a gcc build: one build dir per compiler.
BUILD := build/$(notdir $(firstword $(CC)))
CFLAGS := $(CFLAGS_BASE) -I. -Iinclude $(PKG_CFLAGS) $(EXTRA_CFLAGS)
LDFLAGS := $(LDFLAGS_BASE) $(EXTRA_LDFLAGS)
LIBS := $(PKG_LIBS)
# clang warns about GNU extensions that gcc accepts silently.
ifneq ($(findstring clang,$(CC)),)
CFLAGS += -Wno-gnu-zero-variadic-macro-arguments -Wno-unknown-warning-option
endif

# Programs' own entry points; everything else goes into the library.
MAIN_SRCS := core/main.c block/img-main.c
LIB_SRCS := $(filter-out $(MAIN_SRCS), \
	$(wildcard core/*.c cpu/*.c tcg/*.c tcg/*/*.c accel/*.c hw/*.c hw/*/*.c host/*.c net/*.c block/*.c ui/*.c))
ifneq ($(CONFIG_SDL),yes)
LIB_SRCS := $(filter-out ui/sdl%.c, $(LIB_SRCS))
endif
ifneq ($(CONFIG_CURSES),yes)
LIB_SRCS := $(filter-out ui/curses%.c, $(LIB_SRCS))
endif
ifneq ($(CONFIG_VNC),yes)
LIB_SRCS := $(filter-out ui/vnc.c, $(LIB_SRCS))
endif
ifneq ($(CONFIG_KVM),yes)
LIB_SRCS := $(filter-out accel/kvm%.c, $(LIB_SRCS))
endif
# Assembler sources of the library (one list: tests/fuzz/fuzz.mk builds them too).
LIB_ASM_SRCS := $(wildcard tcg/*/*.S cpu/*.S hw/*/*.S)
LIB_OBJS := $(LIB_SRCS:%.c=$(BUILD)/%.o) $(patsubst %.S,$(BUILD)/%.o,$(LIB_ASM_SRCS))
LIB := $(BUILD)/libvx86.a

UNIT_SRCS := $(wildcard tests/unit/*.c)
UNIT_OBJS := $(UNIT_SRCS:%.c=$(BUILD)/%.o)
UNIT_RUNNER := $(BUILD)/tests/unit/run

PROGS := vx86 $(if $(wildcard block/img-main.c),vx86-img)
CHECK_TARGETS := check-unit
CHECK_FULL_TARGETS :=
CLEAN_FILES :=

.PHONY: all check check-full check-deps check-unit bench clean distclean
all: $(PROGS)

# Per-directory fragments (test programs, guest images, check targets).
include $(sort $(wildcard */*.mk */*/*.mk tests/*/*/*.mk))

$(BUILD)/%.o: %.c config.h config.mk
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -MMD -MP -c $< -o $@

$(BUILD)/%.o: %.S config.h config.mk
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -c $< -o $@

$(LIB): $(LIB_OBJS)
	@rm -f $@
	ar rcs $@ $^

vx86: $(BUILD)/core/main.o $(LIB)
	$(CC) $(LDFLAGS) -o $@ $^ $(LIBS)

vx86-img: $(BUILD)/block/img-main.o $(LIB)
	$(CC) $(LDFLAGS) -o $@ $^ $(LIBS)

$(BUILD)/tests/unit/%.o: tests/unit/%.c config.h config.mk
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) $(CHECK_CFLAGS) -MMD -MP -c $< -o $@

$(UNIT_RUNNER): $(UNIT_OBJS) $(LIB)
	$(CC) $(LDFLAGS) -o $@ $(UNIT_OBJS) $(LIB) $(CHECK_LIBS) $(LIBS)

check-deps:
	@scripts/deps.sh test

check-unit: $(UNIT_RUNNER) vx86
	$(UNIT_RUNNER)

check: check-deps
	@$(MAKE) --no-print-directory $(CHECK_TARGETS)

check-full: check
	@$(MAKE) --no-print-directory $(CHECK_FULL_TARGETS)

bench: all
	@bench/run.sh

clean:
	rm -rf build $(PROGS) $(CLEAN_FILES)

distclean: clean
	rm -f config.mk config.h

-include $(shell find build -name '*.d' 2>/dev/null)

# Boot the default guest, or run the machine self-test while vx86 cannot
# boot one yet.
.PHONY: run
run: vx86
	@scripts/run-default.sh
