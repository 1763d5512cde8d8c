# kindling: initramfs builder (build/kindling) and its static init (build/init).
#
#   make            build both
#   make check      install what is missing, then unit, layout, oracle, boot
#                   and distro tests, then unit, layout and oracle again with
#                   the ASan+UBSan builds
#   make demo       build an image for the newest kernel and boot it in QEMU
#   make bench      kindling next to its peers, with ratios
#   make install    DESTDIR=... PREFIX=... (default /usr/local)
#   make deb        build/kindling_VERSION_amd64.deb (PREFIX=/usr, dpkg-deb)

PREFIX ?= /usr/local
BINDIR ?= $(PREFIX)/bin
DATADIR ?= $(PREFIX)/share/kindling
LIBEXECDIR ?= $(PREFIX)/lib/kindling
MANDIR ?= $(PREFIX)/share/man
DOCDIR ?= $(PREFIX)/share/doc/kindling
# Debian runs /etc/kernel/post{inst,rm}.d whatever the prefix; systemd's
# kernel-install reads only /usr/lib/kernel/install.d and /etc/kernel/install.d,
# so a /usr/local install puts its plugin in /etc.
SYSCONFDIR ?= /etc
ifeq ($(PREFIX),/usr)
KERNEL_INSTALL_DIR ?= /usr/lib/kernel/install.d
else
KERNEL_INSTALL_DIR ?= $(SYSCONFDIR)/kernel/install.d
endif
DESTDIR ?=

CC ?= cc
MUSL_CC ?= musl-gcc
PKG_CONFIG ?= pkg-config
SAN ?= 0

ifeq ($(SAN),1)
BUILD ?= build/asan
SANFLAGS = -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=all
else
BUILD ?= build
SANFLAGS =
endif

WARN = -Wall -Wextra -Werror -Wshadow -Wformat=2 -Wno-format-nonliteral
CFLAGS ?= -O2 -g
KD_CFLAGS = -std=c11 -D_GNU_SOURCE $(WARN) $(SANFLAGS) -I. -Ibuilder \
	-DKD_DATADIR='"$(DATADIR)"' -DKD_LIBEXECDIR='"$(LIBEXECDIR)"'
PKGS = libarchive libzstd liblzma libelf zlib liblz4
PKG_CFLAGS = $(shell $(PKG_CONFIG) --cflags $(PKGS) 2>/dev/null)
PKG_LIBS = $(shell $(PKG_CONFIG) --libs $(PKGS) 2>/dev/null) -lbz2 -lpthread

# builder/ in its layers, lower first (tests/layout/check.sh checks them):
# base < codec < moddb < detect, plan < image < build < cmd; inspect needs
# only base and codec; verify (check's engine) base, codec, moddb, detect and
# inspect.  main.c is the command line's entry point.
BUILDER_DIRS = base codec moddb detect plan inspect verify image build cmd
BUILDER_SRC = $(sort $(wildcard $(BUILDER_DIRS:%=builder/%/*.c)))
BUILDER_OBJ = $(BUILDER_SRC:%.c=$(BUILD)/obj/%.o)
# -MMD -MP: each object depends on exactly the headers it includes.
DEPFLAGS = -MMD -MP
INIT_SRC = $(sort $(wildcard init/*.c init/probe/*.c))
INIT_HDR = $(wildcard init/*.h init/probe/*.h common/*.h)
# The init's parts are also built with the host compiler for unit tests.
# Includes are spelled by path: "common/plan.h" (-I.), "probe/probe.h" (-Iinit).
INIT_TEST_OBJ = $(patsubst %.c,$(BUILD)/obj/%.o,$(filter-out init/main.c,$(INIT_SRC)))
INIT_INC = -I. -Iinit
INIT_CFLAGS = -std=c11 -D_GNU_SOURCE $(WARN) -Os -static $(INIT_INC) \
	-ffunction-sections -fdata-sections -Wl,--gc-sections -s -pthread
INIT_TEST_CFLAGS = -std=c11 -D_GNU_SOURCE $(WARN) $(SANFLAGS) $(INIT_INC)

UNIT_BUILDER = $(patsubst tests/unit/%.c,$(BUILD)/tests/%,$(wildcard tests/unit/builder_*.c))
UNIT_INIT = $(patsubst tests/unit/%.c,$(BUILD)/tests/%,$(wildcard tests/unit/init_*.c))
UNIT_COMMON = $(patsubst tests/unit/%.c,$(BUILD)/tests/%,$(wildcard tests/unit/common_*.c))

# Keep the init's objects built for the unit tests (make would delete them
# as intermediates and rebuild them on every run).
.SECONDARY: $(INIT_TEST_OBJ)

.PHONY: all deps check check-suite test-unit test-oracle test-boot demo bench \
	install clean fuzz deb

all: $(BUILD)/kindling build/init

# The install paths are compiled in: rebuild when they change.
PATHS_STAMP = $(BUILD)/paths.stamp
PATHS = $(DATADIR) $(LIBEXECDIR)
$(shell mkdir -p $(BUILD) && (echo '$(PATHS)' | cmp -s - $(PATHS_STAMP) || \
	echo '$(PATHS)' > $(PATHS_STAMP)))

$(BUILD)/obj/builder/%.o: builder/%.c $(PATHS_STAMP)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) $(KD_CFLAGS) $(DEPFLAGS) $(PKG_CFLAGS) -c -o $@ $<

# Each object and test of the init depends on the headers it includes
# (-MMD -MP writes them to its .d); one built before it had a .d, on every header.
$(BUILD)/obj/init/%.o: init/%.c
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) $(INIT_TEST_CFLAGS) -MMD -MP -c -o $@ $<

INIT_DEPS = $(INIT_TEST_OBJ:.o=.d) $(UNIT_INIT:=.d) $(UNIT_COMMON:=.d)
-include $(INIT_DEPS)
$(foreach f,$(INIT_TEST_OBJ) $(UNIT_INIT) $(UNIT_COMMON),$(if $(wildcard $(basename $(f)).d),,\
	$(eval $(f): $(INIT_HDR))))

$(BUILD)/kindling: $(BUILD)/obj/builder/main.o $(BUILDER_OBJ)
	$(CC) $(CFLAGS) $(SANFLAGS) -o $@ $^ $(PKG_LIBS)

# The init is always the static musl build: it runs as PID 1 in the image.
build/init: $(INIT_SRC) $(INIT_HDR)
	@mkdir -p build
	@if [ -z "$(INIT_SRC)" ]; then echo "no init sources yet" >&2; exit 1; fi
	$(MUSL_CC) $(INIT_CFLAGS) -o $@ $(INIT_SRC)

$(BUILD)/tests/builder_%: tests/unit/builder_%.c $(BUILDER_OBJ)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) $(KD_CFLAGS) $(DEPFLAGS) $(PKG_CFLAGS) -Itests/unit -o $@ $< $(BUILDER_OBJ) \
		$(PKG_LIBS) -lcmocka

$(BUILD)/tests/init_%: tests/unit/init_%.c $(INIT_TEST_OBJ) tests/unit/unit.h tests/unit/init_test.h
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) $(INIT_TEST_CFLAGS) -Itests/unit -MMD -MP -MF $@.d -o $@ $< \
		$(INIT_TEST_OBJ) -lpthread -lcmocka

# common/'s headers stand alone (plain C11, -I. only): their tests link nothing else.
$(BUILD)/tests/common_%: tests/unit/common_%.c tests/unit/unit.h
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -std=c11 -pedantic $(WARN) $(SANFLAGS) -I. -Itests/unit -MMD -MP -MF $@.d \
		-o $@ $< -lcmocka

-include $(BUILDER_OBJ:.o=.d) $(BUILD)/obj/builder/main.d $(UNIT_BUILDER:=.d)

deps:
	@scripts/deps.sh check

# The suite, once; `check` runs all of it plain, then again under the
# sanitizers the tests of the builder and of the parsers (unit, layout,
# oracle): the boots would only re-run the same init under emulation.
SUITES ?=
check-suite: all $(UNIT_BUILDER) $(UNIT_INIT) $(UNIT_COMMON)
	@BUILD=$(BUILD) tests/run-suite.sh $(SUITES)

check: deps
	@rm -rf build/results
	@rc=0; $(MAKE) check-suite SAN=0 || rc=1; \
		$(MAKE) check-suite SAN=1 SUITES="unit layout oracle" || rc=1; \
		tests/summary.sh build/results || rc=1; exit $$rc

test-unit: all $(UNIT_BUILDER) $(UNIT_INIT) $(UNIT_COMMON)
	@BUILD=$(BUILD) tests/run-suite.sh unit

test-oracle: all
	@BUILD=$(BUILD) tests/run-suite.sh oracle

test-boot: all
	@BUILD=$(BUILD) tests/run-suite.sh boot

# libFuzzer on the image reader (clang); FUZZ_SECONDS=600 by default.
FUZZ_SECONDS ?= 600
FUZZ_CC ?= clang
FUZZ_SRC = tests/fuzz/fuzz_imgread.c $(wildcard builder/inspect/*.c builder/codec/*.c \
	builder/base/*.c)

build/fuzz/fuzz_imgread: $(FUZZ_SRC) $(wildcard builder/*/*.h)
	@mkdir -p $(dir $@)
	$(FUZZ_CC) -g -O1 -std=c11 -D_GNU_SOURCE $(WARN) -I. -Ibuilder $(PKG_CFLAGS) \
		-fsanitize=fuzzer,address,undefined -fno-sanitize-recover=all -o $@ \
		$(FUZZ_SRC) $(PKG_LIBS)

fuzz:
	@scripts/deps.sh fuzz
	$(MAKE) build/fuzz/fuzz_imgread
	@tests/fuzz/run.sh build/fuzz/fuzz_imgread $(FUZZ_SECONDS)

demo:
	@scripts/deps.sh demo
	$(MAKE) all
	@scripts/demo.sh

bench:
	@scripts/deps.sh bench
	$(MAKE) all
	@scripts/bench.sh

install: all
	install -d $(DESTDIR)$(BINDIR) $(DESTDIR)$(LIBEXECDIR) $(DESTDIR)$(DATADIR)/modules-sets
	install -m 0755 $(BUILD)/kindling $(DESTDIR)$(BINDIR)/kindling
	install -m 0755 build/init $(DESTDIR)$(LIBEXECDIR)/init
	install -m 0644 modules-sets/*.set modules-sets/default.list $(DESTDIR)$(DATADIR)/modules-sets/
	@# image hooks (hooks/image/, when there are any) keep their layout and modes
	if [ -d hooks/image ]; then install -d $(DESTDIR)$(DATADIR)/hooks && \
		cp -R --no-preserve=ownership hooks/image/. $(DESTDIR)$(DATADIR)/hooks/; fi
	install -d $(DESTDIR)$(SYSCONFDIR)/kernel/postinst.d $(DESTDIR)$(SYSCONFDIR)/kernel/postrm.d \
		$(DESTDIR)$(KERNEL_INSTALL_DIR) $(DESTDIR)$(MANDIR)/man5 $(DESTDIR)$(MANDIR)/man8 \
		$(DESTDIR)$(DOCDIR)/examples
	@# the distro hooks run `kindling` by its installed path
	for h in postinst.d-kindling:$(SYSCONFDIR)/kernel/postinst.d/kindling \
		 postrm.d-kindling:$(SYSCONFDIR)/kernel/postrm.d/kindling \
		 50-kindling.install:$(KERNEL_INSTALL_DIR)/50-kindling.install; do \
		sed 's|@BINDIR@|$(BINDIR)|g' hooks/distro/$${h%%:*} > $(DESTDIR)$${h#*:}.tmp && \
		chmod 0755 $(DESTDIR)$${h#*:}.tmp && mv $(DESTDIR)$${h#*:}.tmp $(DESTDIR)$${h#*:} || exit 1; \
	done
	install -m 0644 man/kindling.8 $(DESTDIR)$(MANDIR)/man8/kindling.8
	install -m 0644 man/kindling.conf.5 $(DESTDIR)$(MANDIR)/man5/kindling.conf.5
	install -m 0644 examples/* $(DESTDIR)$(DOCDIR)/examples/

# The Debian package: the tree installed with PREFIX=/usr into a staging
# directory (its own object directory: the install paths are compiled in),
# Depends computed by dpkg-shlibdeps from the binary.  See scripts/mkdeb.sh.
deb:
	@scripts/deps.sh deb
	@scripts/mkdeb.sh

clean:
	rm -rf build
