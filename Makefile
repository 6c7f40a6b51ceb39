# bt — batch LLM jobs from the shell.  GNU make.
#
#   make            build lib/libbt.a and every program into bin/ (bt-mock
#                   from mock/*.c)
#   make check      build, then run the TAP tests under tests/ with prove
#   make check-valgrind   the same tests with every bt program under valgrind
#   make check-asan       the same tests with an ASan/UBSan build
#   make demo       a whole job against the local emulator (no key, no network)
#   make install    PREFIX=/usr/local DESTDIR= : programs and man pages
#
# User CFLAGS, CPPFLAGS and LDFLAGS are respected; the warnings and the
# language level are added to them, never replaced.

PREFIX  ?= /usr/local
BINDIR  ?= $(PREFIX)/bin
MANDIR  ?= $(PREFIX)/share/man
CC      ?= cc
CFLAGS  ?= -O2 -g
PROVE   ?= prove
PROVEFLAGS ?= -j2

# Build dependencies: Debian package, and a file that shows it is installed.
# python3-jsonschema: tests/mock-schema.t checks bt-mock's bodies against
# the API's schemas with it (tests/schema-check.py).
DEB_PKGS = pkg-config libcurl4-openssl-dev libjq-dev libonig-dev libssl-dev \
           libmicrohttpd-dev curl jq perl groff-base python3-jsonschema
DEP_FILES = /usr/include/jq.h /usr/include/jv.h /usr/include/microhttpd.h \
            /usr/include/openssl/sha.h /usr/lib/python3/dist-packages/jsonschema/__init__.py

PKGS     = libcurl libcrypto
PKG_CFLAGS = $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
PKG_LIBS   = $(shell pkg-config --libs $(PKGS) 2>/dev/null)
# only bt-mock is linked with libmicrohttpd
MHD_CFLAGS = $(shell pkg-config --cflags libmicrohttpd 2>/dev/null)
MHD_LIBS   = $(shell pkg-config --libs libmicrohttpd 2>/dev/null)

BT_CFLAGS  = -std=c99 -D_GNU_SOURCE -Wall -Wextra -Ilib $(PKG_CFLAGS) $(CPPFLAGS) $(CFLAGS)
BT_LDLIBS  = lib/libbt.a -ljq $(PKG_LIBS) -lm -lpthread $(LDLIBS)

LIB_SRC  = $(wildcard lib/*.c)
LIB_OBJ  = $(LIB_SRC:.c=.o)
PROG_SRC = $(wildcard bin/bt-*.c)
MOCK_SRC = $(wildcard mock/*.c)
MOCK_OBJ = $(MOCK_SRC:.c=.o)
PROGS    = $(PROG_SRC:.c=) bin/bt-mock
SCRIPTS  = $(filter-out $(PROG_SRC) $(PROGS),$(wildcard bin/bt-*))
UNIT_SRC = $(wildcard tests/unit/*.c)
UNITS    = $(UNIT_SRC:.c=)
MANS     = $(wildcard man/*.1 man/*.7)
SHIMS    = tests/shim/readfail.so

all: deps $(PROGS)

lib/libbt.a: $(LIB_OBJ)
	rm -f $@
	$(AR) rcs $@ $(LIB_OBJ)

lib/%.o: lib/%.c lib/bt.h | deps
	$(CC) $(BT_CFLAGS) -c -o $@ $<

bin/%: bin/%.c lib/libbt.a lib/bt.h | deps
	$(CC) $(BT_CFLAGS) $(LDFLAGS) -o $@ $< $(BT_LDLIBS)

mock/%.o: mock/%.c mock/mock.h lib/bt.h | deps
	$(CC) $(BT_CFLAGS) $(MHD_CFLAGS) -c -o $@ $<

bin/bt-mock: $(MOCK_OBJ) lib/libbt.a
	$(CC) $(BT_CFLAGS) $(LDFLAGS) -o $@ $(MOCK_OBJ) $(BT_LDLIBS) $(MHD_LIBS)

tests/unit/%: tests/unit/%.c tests/tap.h lib/libbt.a lib/bt.h | deps
	$(CC) $(BT_CFLAGS) -Itests $(LDFLAGS) -o $@ $< $(BT_LDLIBS)

# LD_PRELOAD shims for the tests, built plain: no sanitizer in a preload
tests/shim/%.so: tests/shim/%.c
	$(CC) -std=c99 -Wall -Wextra -O2 -fPIC -shared -o $@ $< -ldl

# Install what the build and the tests need, on Debian/Ubuntu as root or
# with sudo; elsewhere stop and name the exact command.
# The stamp is remade when the Makefile changes, so a new dependency is
# installed in an existing clone too.
deps: .deps-ok
.deps-ok: Makefile
	@missing=; for f in $(DEP_FILES); do [ -e $$f ] || missing=1; done; \
	for c in pkg-config curl-config curl jq prove groff; do command -v $$c >/dev/null || missing=1; done; \
	if [ -n "$$missing" ]; then \
	  line="apt-get install -y $(DEB_PKGS)"; \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
	    echo "make: installing build dependencies: $$line"; \
	    (apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$line -qq) >/dev/null || exit 1; \
	  elif command -v sudo >/dev/null && command -v apt-get >/dev/null && sudo -n true 2>/dev/null; then \
	    echo "make: installing build dependencies: sudo $$line"; \
	    (sudo apt-get update -qq && sudo DEBIAN_FRONTEND=noninteractive $$line -qq) >/dev/null || exit 1; \
	  else \
	    echo "make: missing build dependencies; install them with:" >&2; \
	    echo "  sudo $$line" >&2; exit 1; \
	  fi; \
	fi; touch $@

check: all $(UNITS) $(SHIMS)
	$(PROVE) $(PROVEFLAGS) tests/*.t

# Every bt program the tests run goes through valgrind (see tests/lib.sh).
check-valgrind: all $(UNITS) $(SHIMS)
	@command -v valgrind >/dev/null || { echo "make: valgrind is missing: apt-get install -y valgrind" >&2; exit 1; }
	BT_VALGRIND=1 $(PROVE) $(PROVEFLAGS) tests/*.t

check-asan:
	$(MAKE) clean
	$(MAKE) check CFLAGS="-O1 -g -fsanitize=address,undefined -fno-omit-frame-pointer" \
	        LDFLAGS="-fsanitize=address,undefined"
	$(MAKE) clean

demo: all
	sh contrib/demo.sh

bench: all
	@for b in bench/*.sh; do [ -e "$$b" ] && sh "$$b"; done; true

install: all
	install -d $(DESTDIR)$(BINDIR) $(DESTDIR)$(MANDIR)/man1 $(DESTDIR)$(MANDIR)/man7
	install -m 755 $(PROGS) $(SCRIPTS) $(DESTDIR)$(BINDIR)
	for m in $(MANS); do case $$m in \
	  *.1) install -m 644 $$m $(DESTDIR)$(MANDIR)/man1;; \
	  *.7) install -m 644 $$m $(DESTDIR)$(MANDIR)/man7;; esac; done

uninstall:
	for p in $(notdir $(PROGS) $(SCRIPTS)); do rm -f $(DESTDIR)$(BINDIR)/$$p; done
	for m in $(notdir $(MANS)); do case $$m in \
	  *.1) rm -f $(DESTDIR)$(MANDIR)/man1/$$m;; \
	  *.7) rm -f $(DESTDIR)$(MANDIR)/man7/$$m;; esac; done

clean:
	rm -f lib/*.o lib/libbt.a mock/*.o $(PROGS) $(UNITS) $(SHIMS)
	rm -rf tests/trash.*

.PHONY: all deps check check-valgrind check-asan demo bench install uninstall clean
