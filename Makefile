# tlsa-tools: tlsagen (and, later, tlsa-rollover).
#
#   make              build into build/ (release: no test hooks)
#   make check        layout check + unit tests (cmocka) + integration
#                     tests (prove)
#   make layers       includes and exported names follow the layers
#   make asan         the same tests against an ASan+UBSan build
#   make install      PREFIX (/usr/local) and DESTDIR honoured
#   make bench        benchmarks under tests/bench (not part of check)

VERSION	 = 0.1
PREFIX	?= /usr/local
BINDIR	?= $(PREFIX)/bin
SBINDIR	?= $(PREFIX)/sbin
MANDIR	?= $(PREFIX)/share/man
DOCDIR	?= $(PREFIX)/share/doc/tlsa-tools
HOOKDIR	?= $(PREFIX)/libexec/tlsa-rollover
UNITDIR	?= $(PREFIX)/lib/systemd/system
SYSCONFDIR ?= /etc

B	?= build
CC	?= cc
PKGS	 = libssl libcrypto ldns jansson yaml-0.1 libidn2 libcurl
PKG_CFLAGS := $(shell pkg-config --cflags $(PKGS))
PKG_LIBS   := $(shell pkg-config --libs $(PKGS))
CMOCKA_LIBS := $(shell pkg-config --libs cmocka)

WARN	 = -Wall -Wextra -Wshadow -Wstrict-prototypes -Wmissing-prototypes \
	   -Wpointer-arith -Wformat=2 -Wno-format-nonliteral -Werror
HARDEN	 = -D_FORTIFY_SOURCE=2 -fstack-protector-strong -fPIE
OPT	?= -O2 -g
CFLAGS	?=
XCFLAGS	 = -std=c11 -pthread -D_GNU_SOURCE -DVERSION='"$(VERSION)"' $(OPT) $(WARN) \
	   $(HARDEN) $(PKG_CFLAGS) $(CFLAGS)
LDFLAGS	?=
XLDFLAGS = -pie -Wl,-z,relro,-z,now $(LDFLAGS)

# The layers, lowest first: common <- tlsagen <- zones <- check <- rollover
# <- cli.  A source sees the headers of its own layer and of those below,
# never above, by construction: one include path per layer (INC_ the
# folder); the programs in cli/ and the tests see them all.  make layers
# (tests/layers.sh) checks that, and that every exported name starts with
# its file's prefix.
INC_common   = -Icommon
INC_tlsagen  = $(INC_common) -Itlsagen
INC_zones    = $(INC_tlsagen) -Izones
INC_check    = $(INC_zones) -Icheck
INC_rollover = $(INC_check) -Irollover
INC_cli	     = $(INC_rollover)
INC_ALL	     = $(INC_cli)
# The include path for the object $@ of the source $<: its folder's.
INC	     = $(INC_$(firstword $(subst /, ,$<)))

COMMON_SRC = common/log.c common/fileio.c common/sbuf.c common/atomic.c \
	     common/privsep.c common/crashpoint.c
TLSA_SRC   = tlsagen/tlsa_load.c tlsagen/tlsa_rec.c tlsagen/tlsa_dane.c \
	     tlsagen/tlsa_net.c tlsagen/tlsa_parse.c
ZONES_SRC  = zones/zone_rr.c zones/zone_out.c zones/zone_tsig.c zones/zone_net.c zones/zone_update.c zones/zone_publish.c zones/zone_sign.c zones/zone_check.c zones/zone_status.c
CHECK_SRC  = check/chk_probe.c check/chk_out.c check/chk_live.c
ROLL_SRC   = rollover/roll_config.c rollover/roll_state.c \
	     rollover/roll_store.c rollover/roll_deploy.c rollover/roll_live.c \
	     rollover/roll_run.c rollover/roll_check_cmd.c rollover/roll_hook.c \
	     rollover/roll_validate.c rollover/roll_init.c \
	     rollover/roll_log.c rollover/roll_plan.c rollover/roll_pub.c \
	     rollover/roll_pub_rfc2136.c rollover/roll_pub_exec.c \
	     rollover/roll_pub_pdns.c rollover/roll_fleet.c rollover/roll_world.c \
	     rollover/roll_vis.c
LIB_SRC	   = $(COMMON_SRC) $(TLSA_SRC) $(ZONES_SRC) $(CHECK_SRC) $(ROLL_SRC)
LIB_OBJ	   = $(LIB_SRC:%.c=$(B)/obj/%.o)
CLI_SRC	   = cli/tlsagen.c cli/tlsa-rollover.c
CLI_OBJ	   = $(CLI_SRC:%.c=$(B)/obj/%.o)

UNIT_SRC   = $(wildcard tests/unit/test_*.c)
UNIT_BIN   = $(UNIT_SRC:tests/unit/%.c=$(B)/tests/%)

all: $(B)/tlsagen $(B)/tlsa-rollover

# The test build: the same programs with the test-only environment
# switches (TLSA_ROLLOVER_CRASH_AT, TLSA_ROLLOVER_CRASH_TRACE,
# TLSA_PRIVSEP_USER) compiled in by -DTLSA_TEST_HOOKS.  Only the objects
# that read them are compiled twice; the release binaries (make, make
# install, the lab demo) never have them.  The tests run these.
HOOK_SRC   = common/crashpoint.c common/privsep.c
HOOK_OBJ   = $(HOOK_SRC:%.c=$(B)/obj-test/%.o)
TEST_LIB_OBJ = $(filter-out $(HOOK_SRC:%.c=$(B)/obj/%.o),$(LIB_OBJ)) $(HOOK_OBJ)
TB	   = $(abspath $(B))/test

test-bins: $(B)/test/tlsagen $(B)/test/tlsa-rollover

$(B)/obj-test/%.o: %.c Makefile
	@mkdir -p $(dir $@)
	$(CC) $(XCFLAGS) $(INC) -MMD -MP -DTLSA_TEST_HOOKS -c -o $@ $<

$(B)/libtlsa-test.a: $(TEST_LIB_OBJ)
	rm -f $@
	ar rcs $@ $(TEST_LIB_OBJ)

$(B)/test/tlsagen: $(B)/obj/cli/tlsagen.o $(B)/libtlsa-test.a
	@mkdir -p $(dir $@)
	$(CC) $(XCFLAGS) $(XLDFLAGS) -o $@ $^ $(PKG_LIBS)

$(B)/test/tlsa-rollover: $(B)/obj/cli/tlsa-rollover.o $(B)/libtlsa-test.a
	@mkdir -p $(dir $@)
	$(CC) $(XCFLAGS) $(XLDFLAGS) -o $@ $^ $(PKG_LIBS)

# Each object depends on the headers it includes (the compiler's -MMD
# list, read back below), so a change to one header rebuilds exactly
# what uses it; a change to the Makefile rebuilds everything (also the
# objects of a tree built before there were dependency files).
$(B)/obj/%.o: %.c Makefile
	@mkdir -p $(dir $@)
	$(CC) $(XCFLAGS) $(INC) -MMD -MP -c -o $@ $<

-include $(wildcard $(B)/obj/*/*.d $(B)/obj-test/*/*.d)

# rollover/ builds paths from the state and deploy directories, whose
# length the config loader bounds (1024) well below PATH_MAX, so the
# compiler's what-if about truncating them does not apply there.
$(B)/obj/rollover/%.o: XCFLAGS += -Wno-format-truncation
# check/ keeps a short summary of a longer message, or of a host name
# (253 octets at most) and an address, in fixed fields of its report:
# cutting them is what is meant.
$(B)/obj/check/%.o: XCFLAGS += -Wno-format-truncation

$(B)/libtlsa.a: $(LIB_OBJ)
	rm -f $@
	ar rcs $@ $(LIB_OBJ)

$(B)/tlsagen: $(B)/obj/cli/tlsagen.o $(B)/libtlsa.a
	$(CC) $(XCFLAGS) $(XLDFLAGS) -o $@ $^ $(PKG_LIBS)

$(B)/tlsa-rollover: $(B)/obj/cli/tlsa-rollover.o $(B)/libtlsa.a
	$(CC) $(XCFLAGS) $(XLDFLAGS) -o $@ $^ $(PKG_LIBS)

$(B)/tests/%: tests/unit/%.c $(B)/libtlsa.a
	@mkdir -p $(dir $@)
	$(CC) $(XCFLAGS) $(INC_ALL) -DFIXTURES='"$(CURDIR)/tests/fixtures"' \
	    $(XLDFLAGS) -o $@ $< $(B)/libtlsa.a $(PKG_LIBS) $(CMOCKA_LIBS)

# Includes only from a source's own layer and those below, never by a
# path; every exported name with its file's prefix (tests/layers.sh).
layers: $(LIB_OBJ) $(CLI_OBJ)
	@sh tests/layers.sh $(B)/obj $(LIB_OBJ) $(CLI_OBJ)

unit: $(UNIT_BIN)
	@set -e; for t in $(UNIT_BIN); do echo "# $$t"; $$t; done

# TLSAGEN_RELEASE, TLSA_ROLLOVER_RELEASE: the release build, for the
# test that it ignores the test switches.
RELEASE_ENV = TLSAGEN_RELEASE=$(abspath $(B))/tlsagen \
	      TLSA_ROLLOVER_RELEASE=$(abspath $(B))/tlsa-rollover

# The integration tests run TEST_JOBS at a time: each has its own network
# and mount namespace and temporary directory, and most of their time is
# spent waiting for TTLs, holds and daemons, not computing.  prove shows
# each failure with its diagnostics; the slowest scripts are listed last.
# The longest scripts start first, so that none of them is left to run
# alone at the end.
TEST_JOBS ?= 4
SLOW_TESTS = tests/integration/90-crash-matrix.t tests/integration/92-faults.t \
	     tests/integration/48-primaries-rollover.t \
	     tests/integration/25-catalogue.t tests/integration/86-acme-clients.t
INTEGRATION_TESTS = $(SLOW_TESTS) \
	$(filter-out $(SLOW_TESTS),$(sort $(wildcard tests/integration/*.t)))
integration: all test-bins
	@mkdir -p $(B)
	@{ $(RELEASE_ENV) TLSAGEN=$(TB)/tlsagen TLSA_ROLLOVER=$(TB)/tlsa-rollover \
	    prove -j$(TEST_JOBS) --timer --failures --comments $(INTEGRATION_TESTS); \
	    echo $$? > $(B)/prove.rc; } 2>&1 | tee $(B)/prove.log
	@echo "# slowest scripts (wall-clock ms):"
	@awk 'match($$0, /^\[[0-9:]+\] tests\/[^ ]+\.t/) { t = $$2 } \
	    t != "" && match($$0, /(^| )ok +[0-9]+ ms/) { \
	    n = substr($$0, RSTART, RLENGTH); gsub(/[^0-9]/, "", n); \
	    print n, t; t = "" }' $(B)/prove.log | sort -rn | head -n 8 | \
	    sed 's/^/#   /'
	@exit $$(cat $(B)/prove.rc)

check: all layers unit integration

asan:
	$(MAKE) B=build-asan OPT='-O1 -g -fno-omit-frame-pointer -fsanitize=address,undefined -fno-sanitize-recover=all' \
	    LDFLAGS='-fsanitize=address,undefined' HARDEN='-fPIE' check
	$(MAKE) B=build-asan fuzz-smoke

# The unit and integration tests with every run of the programs under
# valgrind memcheck: $(VG_DIR) holds wrappers that the integration tests
# run as TLSAGEN and TLSA_ROLLOVER, and a log per process (valgrind -q:
# empty unless something was found).  Any error or definite leak, in any
# log, fails the target, whatever the test expected of the exit status.
VG_DIR	 = $(B)/valgrind
VALGRIND = valgrind -q --tool=memcheck --vgdb=no --leak-check=full \
	   --errors-for-leak-kinds=definite --error-exitcode=99 \
	   --suppressions=$(CURDIR)/tests/valgrind.supp \
	   --log-file=$(abspath $(VG_DIR))/logs/%p.log

check-valgrind: all test-bins $(UNIT_BIN)
	rm -rf $(VG_DIR) && mkdir -p $(VG_DIR)/logs && chmod 1777 $(VG_DIR)/logs
	for p in tlsagen tlsa-rollover; do \
	    printf '#!/bin/sh\nexec %s %s "$$@"\n' "$(VALGRIND)" \
	        "$(TB)/$$p" > $(VG_DIR)/$$p && chmod 755 $(VG_DIR)/$$p; \
	done
	@start=$$(date +%s); set -e; \
	for t in $(UNIT_BIN); do echo "# $$t (valgrind)"; $(VALGRIND) $$t; done; \
	$(RELEASE_ENV) TLSAGEN=$(abspath $(VG_DIR))/tlsagen \
	    TLSA_ROLLOVER=$(abspath $(VG_DIR))/tlsa-rollover prove -v tests/integration/*.t || fail=1; \
	echo "# check-valgrind: $$(ls $(VG_DIR)/logs | wc -l) processes in $$(( $$(date +%s) - start )) s"; \
	bad=$$(find $(VG_DIR)/logs -type f -size +0 | sort); \
	for f in $$bad; do echo "# valgrind: $$f:"; sed 's/^/#   /' $$f; done; \
	[ -z "$$bad" ] && [ -z "$${fail:-}" ]

# Fuzzing (clang, libFuzzer, ASan+UBSan), into $(FUZZ_B): every target
# under tests/fuzz, each run for FUZZ_SECONDS on its seeds in
# tests/fuzz/corpus/TARGET (never written to; new inputs go to
# $(FUZZ_B)/corpus).  fuzz-smoke is the short pass that make asan runs.
FUZZ_TARGETS = load config state dns smtp tlsa_parse tsig vis
FUZZ_SECONDS ?= 60
FUZZ_B	?= $(B)/fuzz
FUZZ_OPT = -O1 -g -fno-omit-frame-pointer \
	   -fsanitize=fuzzer-no-link,address,undefined -fno-sanitize-recover=all \
	   -Wno-unknown-warning-option

fuzz-build:
	$(MAKE) B=$(FUZZ_B) CC=clang OPT='$(FUZZ_OPT)' HARDEN=-fPIE \
	    LDFLAGS='-fsanitize=address,undefined' fuzz-bins

fuzz-bins: $(FUZZ_TARGETS:%=$(B)/fuzz_%)

$(B)/fuzz_%: tests/fuzz/fuzz_%.c tests/fuzz/fuzz_util.c tests/fuzz/fuzz_util.h $(B)/libtlsa.a
	$(CC) $(XCFLAGS) $(INC_ALL) -Itests/fuzz -fsanitize=fuzzer $(XLDFLAGS) -o $@ \
	    tests/fuzz/fuzz_$*.c tests/fuzz/fuzz_util.c $(B)/libtlsa.a $(PKG_LIBS)

fuzz: fuzz-build
	FUZZ_SECONDS=$(FUZZ_SECONDS) sh tests/fuzz/run.sh $(FUZZ_B) $(FUZZ_TARGETS)

fuzz-smoke:
	$(MAKE) FUZZ_SECONDS=10 fuzz

bench: $(B)/tlsagen $(B)/tlsa-rollover
	TLSAGEN=$(CURDIR)/$(B)/tlsagen sh tests/bench/tlsagen-bench.sh
	@if [ "$$(id -u)" -eq 0 ]; then \
	    TLSAGEN=$(abspath $(B))/tlsagen TLSA_ROLLOVER=$(abspath $(B))/tlsa-rollover \
	    sh tests/bench/check-bench.sh; \
	    TLSA_ROLLOVER=$(abspath $(B))/tlsa-rollover sh tests/bench/publishers-bench.sh; \
	else echo "# check-bench.sh and publishers-bench.sh skipped: they need root (network namespace)"; fi

install: all install-hooks install-conf
	install -d $(DESTDIR)$(BINDIR) $(DESTDIR)$(SBINDIR) \
	    $(DESTDIR)$(MANDIR)/man1 $(DESTDIR)$(MANDIR)/man5 \
	    $(DESTDIR)$(MANDIR)/man8
	install -m 0755 $(B)/tlsagen $(DESTDIR)$(BINDIR)/tlsagen
	install -m 0755 $(B)/tlsa-rollover $(DESTDIR)$(SBINDIR)/tlsa-rollover
	install -m 0644 man/tlsagen.1 $(DESTDIR)$(MANDIR)/man1/tlsagen.1
	for m in man/tlsa-rollover.8 man/tlsa-rollover.yaml.5; do \
	    [ -f $$m ] || continue; \
	    install -m 0644 $$m $(DESTDIR)$(MANDIR)/man$${m##*.}/$${m##*/}; \
	done

# The configuration directory, root's and not writable by others (the
# configuration names commands root runs), and an example in it, never
# over a configuration (no build needed).
install-conf:
	install -d -m 0755 $(DESTDIR)$(SYSCONFDIR)/tlsa-rollover
	install -m 0644 hooks/tlsa-rollover.yaml.example \
	    $(DESTDIR)$(SYSCONFDIR)/tlsa-rollover/tlsa-rollover.yaml.example

# ACME client hooks, systemd units and the cron example, with the paths
# they name set to where this installs (no build needed).
HOOK_FILES = certbot-deploy-hook dehydrated-hook uacme-renew tlsa-publish-pdns
install-hooks:
	install -d $(DESTDIR)$(HOOKDIR) $(DESTDIR)$(UNITDIR) $(DESTDIR)$(DOCDIR)/examples
	set -e; for f in $(HOOK_FILES); do \
	    sed 's|@SBINDIR@|$(SBINDIR)|g' hooks/$$f > $(DESTDIR)$(HOOKDIR)/$$f.tmp; \
	    chmod 0755 $(DESTDIR)$(HOOKDIR)/$$f.tmp; \
	    mv $(DESTDIR)$(HOOKDIR)/$$f.tmp $(DESTDIR)$(HOOKDIR)/$$f; \
	done
	set -e; for f in tlsa-rollover.service tlsa-rollover.timer; do \
	    sed 's|@SBINDIR@|$(SBINDIR)|g' hooks/$$f > $(DESTDIR)$(UNITDIR)/$$f; \
	    chmod 0644 $(DESTDIR)$(UNITDIR)/$$f; \
	done
	install -m 0644 hooks/tlsa-rollover.yaml.example $(DESTDIR)$(DOCDIR)/examples/tlsa-rollover.yaml
	sed 's|@SBINDIR@|$(SBINDIR)|g' hooks/tlsa-rollover.cron > $(DESTDIR)$(DOCDIR)/examples/tlsa-rollover.cron
	chmod 0644 $(DESTDIR)$(DOCDIR)/examples/tlsa-rollover.cron

clean:
	rm -rf build build-asan

.PHONY: all test-bins layers unit integration check asan bench install install-hooks clean fuzz fuzz-build \
	fuzz-bins fuzz-smoke
