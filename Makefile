# portwatch: build, run and test. `make V=1` shows full commands.
OUTPUT ?= build
ARCH ?= $(shell uname -m | sed -e 's/x86_64/x86/' -e 's/aarch64/arm64/')
CLANG ?= clang
BPFTOOL ?= bpftool
CC ?= cc
PREFIX ?= /usr/local
VERSION := 0.1.0

ifeq ($(V),1)
Q :=
msg :=
else
Q := @
msg = @printf '  %-8s %s\n' "$(1)" "$(2)";
MAKEFLAGS += --no-print-directory
endif

VMLINUX_DIR := vmlinux/$(ARCH)
BPF_CFLAGS := -g -O2 -target bpf -mcpu=v3 -D__TARGET_ARCH_$(ARCH) -Wall -Werror \
	-Iinclude -I$(VMLINUX_DIR) -Ibpf
WARN := -Wall -Wextra -Werror
CFLAGS ?= -g -O2
PW_CFLAGS := $(CFLAGS) -std=gnu11 $(WARN) -D_GNU_SOURCE -DPW_VERSION='"$(VERSION)"' \
	-Iinclude -Iuser -I$(OUTPUT)
LDLIBS := -lbpf -lelf -lz -lm -lncursesw

BPF_NAMES := trace census inbound
SKELS := $(patsubst %,$(OUTPUT)/%.skel.h,$(BPF_NAMES))
USER_SRCS := $(wildcard user/*.c)
USER_OBJS := $(patsubst user/%.c,$(OUTPUT)/user/%.o,$(USER_SRCS))
# Modules with no libbpf or kernel dependency: unit-tested under sanitizers.
PURE := strutil json decode filter render opts services baseline portview model scan netns pools poolview closed
SAN_FLAGS := -fsanitize=address,undefined -fno-omit-frame-pointer
SAN_OBJS := $(patsubst %,$(OUTPUT)/san/%.o,$(PURE))
UNIT_SRCS := $(wildcard tests/unit/test_*.c)
UNIT_BINS := $(patsubst tests/unit/%.c,$(OUTPUT)/tests/%,$(UNIT_SRCS))
TEST_PROGS := $(patsubst tests/progs/%.c,$(OUTPUT)/tests/progs/%,$(wildcard tests/progs/*.c))

.DELETE_ON_ERROR:
.SECONDARY:
.PHONY: all deps run test test-slow test-kernels unit integration install clean bench

all: $(OUTPUT)/portwatch

# Installs any missing build dependency (Debian); a no-op when all present.
deps:
	$(Q)tools/install-deps.sh build

run: deps
	$(Q)$(MAKE) all
	$(OUTPUT)/portwatch $(ARGS)

test: deps
	$(Q)tools/install-deps.sh test
	$(Q)$(MAKE) all unit-bins test-progs
	$(Q)tests/run.sh $(OUTPUT)

unit: unit-bins
	$(Q)tests/run.sh --unit-only $(OUTPUT)

integration: all test-progs
	$(Q)tests/run.sh --integration-only $(OUTPUT)

# Debian's own kernels (5.10, 6.1, 6.12) under qemu/TCG: portwatch check and smoke
# tests inside each, about 15 s per kernel once the packages are cached.
test-kernels: deps
	$(Q)$(MAKE) OUTPUT=build all test-progs
	$(Q)tools/test-kernels.sh

# Benchmarks against the peer tools (docs/BENCHMARKS.md), about 12 minutes;
# root. Installs the peers, builds into build-bench/ and prints the report;
# raw results in build-bench/bench/. BENCH_ARGS: tools/bench/run-bench.sh -h.
bench: deps
	$(Q)tools/install-deps.sh bench
	$(Q)tools/bench/run-bench.sh $(BENCH_ARGS)

# The slow tier (about 10 minutes): slow nmap timings, a 60 s spoofed flood.
test-slow: deps
	$(Q)tools/install-deps.sh test
	$(Q)$(MAKE) all test-progs
	$(Q)tests/run.sh --slow-only $(OUTPUT)

.PHONY: unit-bins test-progs
unit-bins: $(UNIT_BINS)
test-progs: $(TEST_PROGS)

$(OUTPUT) $(OUTPUT)/user $(OUTPUT)/san $(OUTPUT)/tests $(OUTPUT)/tests/progs:
	$(Q)mkdir -p $@

# BPF: compile, link with bpftool (static linking also checks the object),
# then generate the skeleton. -MMD records header dependencies.
$(OUTPUT)/%.tmp.bpf.o: bpf/%.bpf.c | $(OUTPUT)
	$(call msg,BPF,$@)
	$(Q)$(CLANG) $(BPF_CFLAGS) -MMD -MP -MF $(@:.o=.d) -c $< -o $@

$(OUTPUT)/%.bpf.o: $(OUTPUT)/%.tmp.bpf.o
	$(call msg,GEN-OBJ,$@)
	$(Q)$(BPFTOOL) gen object $@ $<

$(OUTPUT)/%.skel.h: $(OUTPUT)/%.bpf.o
	$(call msg,GEN-SKEL,$@)
	$(Q)$(BPFTOOL) gen skeleton $< name $*_bpf > $@

$(OUTPUT)/user/%.o: user/%.c | $(OUTPUT)/user $(SKELS)
	$(call msg,CC,$@)
	$(Q)$(CC) $(PW_CFLAGS) -MMD -MP -c $< -o $@

$(OUTPUT)/portwatch: $(USER_OBJS)
	$(call msg,LINK,$@)
	$(Q)$(CC) $(PW_CFLAGS) $^ $(LDLIBS) -o $@

$(OUTPUT)/san/%.o: user/%.c | $(OUTPUT)/san
	$(call msg,CC-SAN,$@)
	$(Q)$(CC) $(PW_CFLAGS) -O1 $(SAN_FLAGS) -MMD -MP -c $< -o $@

$(OUTPUT)/tests/test_%: tests/unit/test_%.c $(SAN_OBJS) | $(OUTPUT)/tests
	$(call msg,CC-TEST,$@)
	$(Q)$(CC) $(PW_CFLAGS) -O1 $(SAN_FLAGS) -MMD -MP $< $(SAN_OBJS) -lcmocka -lm -o $@

$(OUTPUT)/tests/progs/%: tests/progs/%.c | $(OUTPUT)/tests/progs
	$(call msg,CC,$@)
	$(Q)$(CC) $(PW_CFLAGS) -MMD -MP $< -o $@

install: $(OUTPUT)/portwatch
	install -D -m 0755 $(OUTPUT)/portwatch $(DESTDIR)$(PREFIX)/sbin/portwatch
	install -D -m 0644 docs/portwatch.8 $(DESTDIR)$(PREFIX)/share/man/man8/portwatch.8

clean:
	$(call msg,CLEAN,$(OUTPUT))
	$(Q)rm -rf $(OUTPUT)

-include $(wildcard $(OUTPUT)/*.d $(OUTPUT)/user/*.d $(OUTPUT)/san/*.d $(OUTPUT)/tests/*.d $(OUTPUT)/tests/progs/*.d)
