# tlsa-tools: tlsagen (and, later, tlsa-rollover).
#
#   make              build into build/
#   make check        unit tests (cmocka) + integration tests (prove)
#   make asan         the same tests against an ASan+UBSan build
#   make install      PREFIX (/usr/local) and DESTDIR honoured
#   make bench        benchmarks under tests/bench (not part of check)

VERSION	 = 0.1
PREFIX	?= /usr/local
BINDIR	?= $(PREFIX)/bin
SBINDIR	?= $(PREFIX)/sbin
MANDIR	?= $(PREFIX)/share/man
DOCDIR	?= $(PREFIX)/share/doc/tlsa-tools

B	?= build
CC	?= cc
PKGS	 = libssl libcrypto ldns jansson yaml-0.1
PKG_CFLAGS := $(shell pkg-config --cflags $(PKGS))
PKG_LIBS   := $(shell pkg-config --libs $(PKGS))
CMOCKA_LIBS := $(shell pkg-config --libs cmocka)

WARN	 = -Wall -Wextra -Wshadow -Wstrict-prototypes -Wmissing-prototypes \
	   -Wpointer-arith -Wformat=2 -Wno-format-nonliteral -Werror
HARDEN	 = -D_FORTIFY_SOURCE=2 -fstack-protector-strong -fPIE
OPT	?= -O2 -g
CFLAGS	?=
XCFLAGS	 = -std=c11 -D_GNU_SOURCE -DVERSION='"$(VERSION)"' $(OPT) $(WARN) \
	   $(HARDEN) -Icommon -Itlsagen -Izones -Irollover $(PKG_CFLAGS) $(CFLAGS)
LDFLAGS	?=
XLDFLAGS = -pie -Wl,-z,relro,-z,now $(LDFLAGS)

COMMON_SRC = common/log.c common/fileio.c common/sbuf.c common/atomic.c
TLSA_SRC   = tlsagen/tlsa_load.c tlsagen/tlsa_rec.c tlsagen/tlsa_dane.c \
	     tlsagen/tlsa_net.c tlsagen/tlsa_parse.c
ZONES_SRC  = zones/zone_rr.c zones/zone_out.c zones/zone_tsig.c zones/zone_net.c zones/zone_update.c zones/zone_publish.c zones/zone_sign.c zones/zone_check.c zones/zone_status.c
ROLL_SRC   = rollover/roll_config.c rollover/roll_state.c \
	     rollover/roll_store.c rollover/roll_deploy.c rollover/roll_live.c \
	     rollover/roll_run.c rollover/roll_check.c
LIB_SRC	   = $(COMMON_SRC) $(TLSA_SRC) $(ZONES_SRC) $(ROLL_SRC)
LIB_OBJ	   = $(LIB_SRC:%.c=$(B)/obj/%.o)

UNIT_SRC   = $(wildcard tests/unit/test_*.c)
UNIT_BIN   = $(UNIT_SRC:tests/unit/%.c=$(B)/tests/%)

all: $(B)/tlsagen $(B)/tlsa-rollover

$(B)/obj/%.o: %.c $(wildcard common/*.h tlsagen/*.h zones/*.h rollover/*.h)
	@mkdir -p $(dir $@)
	$(CC) $(XCFLAGS) -c -o $@ $<

# rollover/ builds paths from the state and deploy directories, whose
# length the config loader bounds (1024) well below PATH_MAX, so the
# compiler's what-if about truncating them does not apply there.
$(B)/obj/rollover/%.o: XCFLAGS += -Wno-format-truncation

$(B)/libtlsa.a: $(LIB_OBJ)
	rm -f $@
	ar rcs $@ $(LIB_OBJ)

$(B)/tlsagen: $(B)/obj/tlsagen/tlsagen.o $(B)/libtlsa.a
	$(CC) $(XCFLAGS) $(XLDFLAGS) -o $@ $^ $(PKG_LIBS)

$(B)/tlsa-rollover: $(B)/obj/rollover/tlsa-rollover.o $(B)/libtlsa.a
	$(CC) $(XCFLAGS) $(XLDFLAGS) -o $@ $^ $(PKG_LIBS)

$(B)/tests/%: tests/unit/%.c $(B)/libtlsa.a
	@mkdir -p $(dir $@)
	$(CC) $(XCFLAGS) -DFIXTURES='"$(CURDIR)/tests/fixtures"' \
	    $(XLDFLAGS) -o $@ $< $(B)/libtlsa.a $(PKG_LIBS) $(CMOCKA_LIBS)

unit: $(UNIT_BIN)
	@set -e; for t in $(UNIT_BIN); do echo "# $$t"; $$t; done

integration: $(B)/tlsagen $(B)/tlsa-rollover
	TLSAGEN=$(CURDIR)/$(B)/tlsagen TLSA_ROLLOVER=$(CURDIR)/$(B)/tlsa-rollover \
	    prove -v tests/integration/*.t

check: all unit integration

asan:
	$(MAKE) B=build-asan OPT='-O1 -g -fno-omit-frame-pointer -fsanitize=address,undefined -fno-sanitize-recover=all' \
	    LDFLAGS='-fsanitize=address,undefined' HARDEN='-fPIE' check

bench: $(B)/tlsagen
	TLSAGEN=$(CURDIR)/$(B)/tlsagen sh tests/bench/tlsagen-bench.sh

install: all
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

clean:
	rm -rf build build-asan

.PHONY: all unit integration check asan bench install clean
