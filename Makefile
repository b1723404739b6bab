# kinglet - plain Makefile; honours CC, CFLAGS, CPPFLAGS, LDFLAGS, PKG_CONFIG
# so distribution and OpenWrt builds need no override.
-include config.mak

PREFIX ?= /usr/local
PKG_CONFIG ?= pkg-config
CFLAGS ?= -O2 -g
VERSION := $(shell cat VERSION 2>/dev/null || echo 0.1.0)

# Variants build into their own folders so that `make test SAN=1` and
# `make static` never mix objects with the default build.
ifeq ($(SAN),1)
VARIANT ?= san
SAN_FLAGS = -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=all -DKL_SYSTEM_MALLOC
else ifeq ($(STATIC),1)
VARIANT ?= static
else
VARIANT ?= rel
endif
B := build/$(VARIANT)

PKGS = libjpeg libpng zlib libcares
KL_CFLAGS = -std=c11 -D_GNU_SOURCE -Wall -Wextra -Wshadow -Wstrict-prototypes \
	-Wno-unused-parameter -Wno-missing-field-initializers -Wno-format-truncation -Iport -Isrc \
	-DKL_VERSION='"$(VERSION)"'
DEP_CFLAGS := $(shell $(PKG_CONFIG) --cflags $(PKGS) 2>/dev/null)
DEP_LIBS := $(shell $(PKG_CONFIG) $(if $(filter 1,$(STATIC)),--static) --libs $(PKGS) 2>/dev/null || echo -ljpeg -lpng -lz -lcares)
TLS_LIBS ?= $(shell $(PKG_CONFIG) --libs mbedtls mbedx509 mbedcrypto 2>/dev/null || echo -lmbedtls -lmbedx509 -lmbedcrypto)
LIBS = $(TLS_LIBS) $(DEP_LIBS) -lm
FINAL_CFLAGS = $(KL_CFLAGS) $(DEP_CFLAGS) $(CPPFLAGS) $(CFLAGS) $(SAN_FLAGS)
FINAL_LDFLAGS = $(LDFLAGS) $(SAN_FLAGS) $(if $(filter 1,$(STATIC)),-static)

SRCS := $(sort $(wildcard src/*/*.c port/*.c))
MAIN_SRC := src/app/main.c
# The process allocator replaces malloc for the kinglet binary only; unit
# tests keep the system's.
MALLOC_SRC := port/port_malloc.c
LIB_OBJS := $(patsubst %.c,$(B)/%.o,$(filter-out $(MAIN_SRC) $(MALLOC_SRC),$(SRCS)))
UNIT_SRCS := $(sort $(wildcard tests/unit/t_*.c))
UNIT_BINS := $(patsubst tests/unit/%.c,$(B)/tests/%,$(UNIT_SRCS))
FUZZ_SRCS := $(sort $(wildcard tests/fuzz/fuzz_*.c))
FUZZ_NAMES := $(patsubst tests/fuzz/fuzz_%.c,%,$(filter-out tests/fuzz/fuzz_main.c,$(FUZZ_SRCS)))
REPLAY_BINS := $(patsubst %,$(B)/fuzz/replay_%,$(FUZZ_NAMES))
FUZZ_SECONDS ?= 60

.PHONY: all deps test-deps test unit it run static fuzz fuzz-build check-layers bench install clean
all: kinglet

kinglet: $(B)/kinglet
	@if [ "$(VARIANT)" = rel ]; then cp $< $@; fi

$(B)/kinglet: $(B)/src/app/main.o $(B)/port/port_malloc.o $(B)/libkl.a
	$(CC) $(FINAL_LDFLAGS) -o $@ $^ $(LIBS)

$(B)/libkl.a: $(LIB_OBJS)
	@rm -f $@
	$(AR) rcs $@ $^

$(B)/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(FINAL_CFLAGS) -MMD -MP -c -o $@ $<

$(B)/tests/%: tests/unit/%.c $(B)/libkl.a
	@mkdir -p $(dir $@)
	$(CC) $(FINAL_CFLAGS) -Itests -MMD -MP -o $@ $< $(B)/libkl.a $(FINAL_LDFLAGS) $(LIBS)

# Fuzz targets replayed under the normal compiler: every committed corpus
# and regression input runs in `make test`.
$(B)/fuzz/replay_%: tests/fuzz/fuzz_%.c tests/fuzz/fuzz_main.c $(B)/libkl.a
	@mkdir -p $(dir $@)
	$(CC) $(FINAL_CFLAGS) -Itests -o $@ $< tests/fuzz/fuzz_main.c $(B)/libkl.a $(FINAL_LDFLAGS) $(LIBS)

-include $(LIB_OBJS:.o=.d) $(B)/src/app/main.d $(B)/port/port_malloc.d $(UNIT_BINS:=.d)

# Build dependencies (and with TEST=1 the peers the tests use), installed
# with apt-get when missing and we are root on Debian.
deps:
	@sh port/debian/deps.sh build

test-deps:
	@sh port/debian/deps.sh test

unit: $(B)/kinglet $(UNIT_BINS) $(REPLAY_BINS)

test: test-deps
	@$(MAKE) --no-print-directory unit
	@KINGLET=$(B)/kinglet UNIT_DIR=$(B)/tests FUZZ_DIR=$(B)/fuzz VARIANT=$(VARIANT) bash tests/run.sh

run: deps
	@$(MAKE) --no-print-directory kinglet
	./kinglet -c configs/kinglet.conf

static:
	@sh port/debian/deps.sh build
	@$(MAKE) --no-print-directory STATIC=1 build/static/kinglet
	cp build/static/kinglet kinglet-static
	@file kinglet-static

# libFuzzer with clang: `make fuzz` runs every target for FUZZ_SECONDS
# (default 60) from its committed corpus; new inputs land in build/fuzz/.
fuzz-build:
	@$(MAKE) --no-print-directory VARIANT=fuzz CC=clang \
		SAN_FLAGS="-fsanitize=fuzzer-no-link,address,undefined -fno-omit-frame-pointer -DKL_SYSTEM_MALLOC -Wno-unknown-warning-option" build/fuzz/libkl.a
	@mkdir -p build/fuzz/bin
	@for n in $(FUZZ_NAMES); do \
		clang $(KL_CFLAGS) $(DEP_CFLAGS) -Wno-unknown-warning-option -O1 -g -Itests -fsanitize=fuzzer,address,undefined \
			-o build/fuzz/bin/fuzz_$$n tests/fuzz/fuzz_$$n.c build/fuzz/libkl.a $(LIBS) || exit 1; \
	done

fuzz: fuzz-build
	@for n in $(FUZZ_NAMES); do \
		mkdir -p build/fuzz/corpus/$$n; \
		cp -n tests/fuzz/corpus/$$n/* build/fuzz/corpus/$$n/ 2>/dev/null; \
		echo "fuzz $$n: $(FUZZ_SECONDS)s"; \
		build/fuzz/bin/fuzz_$$n -max_total_time=$(FUZZ_SECONDS) -rss_limit_mb=1024 -timeout=10 \
			-artifact_prefix=build/fuzz/crash-$$n- \
			$$( [ -f tests/fuzz/dict/$$n.dict ] && echo -dict=tests/fuzz/dict/$$n.dict ) \
			build/fuzz/corpus/$$n 2>build/fuzz/$$n.log || { tail -n 30 build/fuzz/$$n.log; exit 1; }; \
		grep -E '^#[0-9]+[[:space:]]+DONE' build/fuzz/$$n.log | tail -n 1; \
	done

check-layers:
	@sh tests/check-layers.sh

# Benchmarks beside the anchors users would pick instead (not tests).
# Installs the anchors from Debian and npm on first use.
bench: kinglet
	@sh port/debian/deps.sh bench
	@bash tests/bench/run.sh $(BENCH)

install: kinglet
	install -d $(DESTDIR)$(PREFIX)/bin
	install -m 755 kinglet $(DESTDIR)$(PREFIX)/bin/kinglet

clean:
	rm -rf build kinglet kinglet-static

# Cross builds (armhf, arm64, mipsel) checked under qemu-user: `make cross`.
-include port/cross/cross.mk
