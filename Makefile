# bt — batch LLM jobs from the shell.  GNU make.
#
#   make            build lib/libbt.a and every program into bin/ (bt-mock
#                   from mock/*.c)
#   make check      build, then run the TAP tests under tests/ with prove
#   make npm-deps   the openai npm package for tests/mock-openai-sdk.t
#                   (check does it when node and npm are there)
#   make check-valgrind   the same tests with every bt program under valgrind
#   make check-asan       the same tests with an ASan/UBSan build
#   make fuzz       libFuzzer harnesses and AFL++ builds (tests/fuzz/README);
#                   fuzz each harness, FUZZ_TIME seconds in all (-j2: both cores)
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
# six at once on two cores: much of a test's time is waiting for batches,
# and four left a fifth of the CPU idle (measured: 194 s at -j4, 171 s at -j6)
PROVEFLAGS ?= -j6
# under valgrind the tests are busy, not waiting
VG_PROVEFLAGS ?= -j2

# Libraries: pkg-config where the library ships a .pc file, else plain
# -l flags (give -I and -L in CPPFLAGS and LDFLAGS then).  libjq ships
# libjq.pc from jq 1.7 on; Debian 12's jq 1.6 has none.  oniguruma is
# named for a static libjq, which needs it.
pc_cflags = $(shell pkg-config --cflags $(1) 2>/dev/null)
pc_libs   = $(shell pkg-config --libs $(1) 2>/dev/null || echo $(2))
PKG_CFLAGS := $(call pc_cflags,libcurl) $(call pc_cflags,libcrypto) \
              $(call pc_cflags,libjq)
PKG_LIBS   := $(call pc_libs,libjq,-ljq) $(call pc_libs,oniguruma,) \
              $(call pc_libs,libcurl,-lcurl) $(call pc_libs,libcrypto,-lcrypto)
# only bt-mock is linked with libmicrohttpd, only bt-cache with libsqlite3
MHD_CFLAGS := $(call pc_cflags,libmicrohttpd)
MHD_LIBS   := $(call pc_libs,libmicrohttpd,-lmicrohttpd)
SQLITE_CFLAGS := $(call pc_cflags,sqlite3)
SQLITE_LIBS   := $(call pc_libs,sqlite3,-lsqlite3)

# The feature macro: GNU by default; `make check-build` builds once with
# BT_FEATURES=-D_POSIX_C_SOURCE=200809L alone, as a Mac would see the code.
BT_FEATURES ?= -D_GNU_SOURCE
BT_STRICT   = -D_POSIX_C_SOURCE=200809L

BT_CFLAGS  = -std=c99 $(BT_FEATURES) -Wall -Wextra -Ilib $(PKG_CFLAGS) $(CPPFLAGS) $(CFLAGS)
BT_LDLIBS  = lib/libbt.a $(PKG_LIBS) -lm -lpthread $(LDLIBS)

# Build and test dependencies.  Installed is what works: a program that
# includes and links every library, the commands the tests run, and
# python3's jsonschema (tests/mock-schema.t checks bt-mock's bodies
# against the API's schemas with it, tests/mock-structured.t its
# structured answers).  What is missing is installed with apt-get on
# Debian and Ubuntu (as root or with sudo); elsewhere make stops and names
# the command for the system's package manager (README, "Building
# elsewhere").
DEB_PKGS = pkg-config libcurl4-openssl-dev libjq-dev libonig-dev libssl-dev \
           libsqlite3-dev libmicrohttpd-dev curl jq perl groff-base \
           python3-jsonschema sqlite3
DNF_PKGS = gcc make pkgconf-pkg-config libcurl-devel jq-devel oniguruma-devel \
           openssl-devel sqlite-devel libmicrohttpd-devel curl jq perl-Test-Harness \
           groff-base python3-jsonschema sqlite
APK_PKGS = build-base pkgconf curl-dev jq-dev oniguruma-dev openssl-dev \
           sqlite-dev libmicrohttpd-dev curl jq perl perl-utils groff py3-jsonschema \
           sqlite
PACMAN_PKGS = base-devel pkgconf curl jq oniguruma openssl sqlite libmicrohttpd \
           perl groff python-jsonschema
BREW_PKGS = pkg-config curl jq oniguruma openssl@3 sqlite libmicrohttpd groff
DEP_CMDS = curl jq perl prove groff python3 sqlite3
DEP_PROBE = '\#include <jq.h>\n\#include <jv.h>\n\#include <curl/curl.h>\n\#include <openssl/sha.h>\n\#include <microhttpd.h>\n\#include <sqlite3.h>\nint main(void) { return 0; }\n'

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
SHIMS    = $(patsubst %.c,%.so,$(wildcard tests/shim/*.c))

# Fuzzing (tests/fuzz/README).  Each tests/fuzz/NAME.c but replay.c is a
# harness with its seed corpus in tests/fuzz/corpus/NAME/; make check
# replays the corpus through tests/fuzz/replay-NAME, built as the tests are.
FUZZ_NAMES  = $(filter-out replay,$(notdir $(basename $(wildcard tests/fuzz/*.c))))
FUZZ_REPLAY = $(FUZZ_NAMES:%=tests/fuzz/replay-%)

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

bin/bt-cache: bin/bt-cache.c lib/libbt.a lib/bt.h | deps
	$(CC) $(BT_CFLAGS) $(SQLITE_CFLAGS) $(LDFLAGS) -o $@ $< $(BT_LDLIBS) $(SQLITE_LIBS)

bin/bt-mock: $(MOCK_OBJ) lib/libbt.a
	$(CC) $(BT_CFLAGS) $(LDFLAGS) -o $@ $(MOCK_OBJ) $(BT_LDLIBS) $(MHD_LIBS)

tests/unit/%: tests/unit/%.c tests/tap.h lib/libbt.a lib/bt.h | deps
	$(CC) $(BT_CFLAGS) -Itests $(LDFLAGS) -o $@ $< $(BT_LDLIBS)

# the tests' HTTP client: no library at all, which is its point
tests/unit/tcurl: tests/unit/tcurl.c
	$(CC) $(BT_CFLAGS) $(LDFLAGS) -o $@ $<

# the tests' jq for one field: libjq alone
tests/unit/tjq: tests/unit/tjq.c | deps
	$(CC) $(BT_CFLAGS) $(LDFLAGS) -o $@ $< $(call pc_libs,libjq,-ljq) $(call pc_libs,oniguruma,) $(LDLIBS)

tests/fuzz/replay-%: tests/fuzz/%.c tests/fuzz/replay.c tests/fuzz/fuzz.h lib/libbt.a lib/bt.h | deps
	$(CC) $(BT_CFLAGS) $(LDFLAGS) -o $@ tests/fuzz/replay.c $< $(BT_LDLIBS)

# LD_PRELOAD shims for the tests, built plain: no sanitizer in a preload
tests/shim/%.so: tests/shim/%.c
	$(CC) -std=c99 -Wall -Wextra -O2 -fPIC -shared -o $@ $< -ldl

# Install what the build and the tests need (see DEB_PKGS above).
# The stamp is remade when the Makefile changes, so a new dependency is
# installed in an existing clone too.
deps: .deps-ok
.deps-ok: Makefile
	@missing=; t=$$(mktemp -d) || exit 1; \
	printf $(DEP_PROBE) >$$t/probe.c; \
	if ! $(CC) $(BT_CFLAGS) $(MHD_CFLAGS) $(SQLITE_CFLAGS) $(LDFLAGS) -o $$t/probe $$t/probe.c \
	     $(PKG_LIBS) $(MHD_LIBS) $(SQLITE_LIBS) $(LDLIBS) >$$t/log 2>&1; then \
	  missing=" libraries or headers ($(CC): $$(grep -E 'cannot find|[Nn]o such file|not found|fatal error|error' $$t/log | head -n 1))"; \
	fi; rm -rf $$t; \
	for c in $(DEP_CMDS); do command -v $$c >/dev/null || missing="$$missing $$c"; done; \
	if command -v python3 >/dev/null && ! python3 -c 'import jsonschema' 2>/dev/null; then \
	  missing="$$missing python3-jsonschema"; fi; \
	if [ -n "$$missing" ]; then \
	  echo "make: missing:$$missing" >&2; \
	  if command -v apt-get >/dev/null; then $(call apt_install,$(DEB_PKGS)); \
	  else $(pkg_hint); fi; \
	fi; touch $@

# $(call apt_install,PACKAGES): a recipe's shell fragment that installs
# them as root or with sudo, or stops with the command to run.
apt_install = line="apt-get install -y $(1)"; \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
	    echo "make: installing build dependencies: $$line"; \
	    (apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$line -qq) >/dev/null || exit 1; \
	  elif command -v sudo >/dev/null && command -v apt-get >/dev/null && sudo -n true 2>/dev/null; then \
	    echo "make: installing build dependencies: sudo $$line"; \
	    (sudo apt-get update -qq && sudo DEBIAN_FRONTEND=noninteractive $$line -qq) >/dev/null || exit 1; \
	  else \
	    echo "make: missing build dependencies; install them with:" >&2; \
	    echo "  sudo $$line" >&2; exit 1; \
	  fi

# $(pkg_hint): a recipe's shell fragment that names the command for the
# package manager found (Fedora, Alpine, Arch, Homebrew), and stops.
pkg_hint = \
	  if command -v dnf >/dev/null; then line="sudo dnf install -y $(DNF_PKGS)"; \
	  elif command -v apk >/dev/null; then line="sudo apk add $(APK_PKGS)"; \
	  elif command -v pacman >/dev/null; then line="sudo pacman -S --needed $(PACMAN_PKGS)"; \
	  elif command -v brew >/dev/null; then line="brew install $(BREW_PKGS)"; \
	    line="$$line; python3 -m pip install jsonschema   \# in a venv, or pipx"; \
	  else line="(no known package manager: see README, \"Building elsewhere\")"; fi; \
	  echo "make: install the build dependencies with:" >&2; \
	  echo "  $$line" >&2; \
	  echo "make: if they are installed, give their places:" \
	       "make CPPFLAGS=-I/their/include LDFLAGS=-L/their/lib" >&2; \
	  exit 1

# The tests, the longest first: prove starts them in this order, so that
# the last to end is a short one (most of a long one's time is waiting
# for batches, which the others fill).
SLOW_TESTS = tests/examples.t tests/run-status.t tests/run.t tests/wait-basic.t \
	tests/submit-reconcile.t tests/run-cache.t tests/contrib.t tests/pipeline-openai.t \
	tests/send.t tests/mock-schema.t tests/mock-lifecycle.t tests/run-identity.t \
	tests/submit.t tests/mock-openai.t tests/batch-lines.t tests/run-sync.t \
	tests/hostile-input.t tests/fetch.t tests/closed-port.t tests/shards.t tests/cache.t \
	tests/run-firstday.t tests/wait-cpu.t tests/wait-errors.t tests/wait-lag.t \
	tests/mock-openai-limits.t tests/wait-long.t
TESTS = $(SLOW_TESTS) $(filter-out $(SLOW_TESTS),$(sort $(wildcard tests/*.t)))

# BT_PYTHON: python3 itself, found once, not through a shim (tests/lib.sh)
check: all $(UNITS) $(SHIMS) $(FUZZ_REPLAY) npm-deps
	BT_PYTHON=$$(python3 -c 'import sys; print(sys.executable)' 2>/dev/null); \
	export BT_PYTHON; $(PROVE) $(PROVEFLAGS) $(TESTS)

# The official openai npm package, the reference client that
# tests/mock-openai-sdk.t drives bt-mock with: installed from the npm
# registry by tests/npm/package-lock.json into tests/npm/node_modules
# (git-ignored), again when the lock file changes.  Optional: without
# node and npm, or when npm ci fails (no network), make says so and that
# test is skipped.
NPM ?= npm
npm-deps:
	@if ! command -v node >/dev/null || ! command -v $(NPM) >/dev/null; then \
	  echo "make: no node or npm: tests/mock-openai-sdk.t will be skipped" >&2; \
	elif [ ! -f tests/npm/node_modules/.package-lock.json ] || \
	     [ tests/npm/package-lock.json -nt tests/npm/node_modules/.package-lock.json ]; then \
	  echo "make: npm ci in tests/npm (the openai package, for tests/mock-openai-sdk.t)"; \
	  (cd tests/npm && $(NPM) ci --no-audit --no-fund --loglevel=error \
	     --fetch-retries=1 --fetch-timeout=20000) || \
	    echo "make: npm ci failed: tests/mock-openai-sdk.t will be skipped" >&2; \
	fi

# make check-build: the programs, the unit tests and the fuzz replayers
# build with -Werror under clang, and with POSIX.1-2008 alone asked for
# (no _GNU_SOURCE) under gcc and clang: a GNU-only call fails here, not
# on a Mac.  Each build is made from a copy of the sources in
# $(CHECK_BUILD_DIR)/NAME, never over bin/; it is removed when it passes.
# clang is installed as the other dependencies are.
CHECK_BUILD_DIR ?= tests/check-build
CHECK_BUILDS = clang posix clang-posix
CHECK_BUILD_SRC = Makefile $(LIB_SRC) lib/bt.h $(PROG_SRC) $(MOCK_SRC) mock/mock.h \
                  $(UNIT_SRC) tests/tap.h $(wildcard tests/fuzz/*.c) tests/fuzz/fuzz.h
check-build-clang:       CB_FLAGS = CC=clang
check-build-posix:       CB_FLAGS = CC=gcc BT_FEATURES=$(BT_STRICT)
check-build-clang-posix: CB_FLAGS = CC=clang BT_FEATURES=$(BT_STRICT)

check-build: $(CHECK_BUILDS:%=check-build-%)

check-build-%: | deps
	@case "$(CB_FLAGS)" in *clang*) command -v clang >/dev/null || { $(call apt_install,clang); };; esac
	@echo "check-build: $* ($(CB_FLAGS)) in $(CHECK_BUILD_DIR)/$*"
	@rm -rf $(CHECK_BUILD_DIR)/$* && mkdir -p $(CHECK_BUILD_DIR)/$* && \
	  tar cf - $(CHECK_BUILD_SRC) | (cd $(CHECK_BUILD_DIR)/$* && tar xf -)
	@$(MAKE) -C $(CHECK_BUILD_DIR)/$* --no-print-directory $(CB_FLAGS) \
	  CFLAGS="-O2 -Werror" build-tests >$(CHECK_BUILD_DIR)/$*.log 2>&1 || \
	  { tail -n 40 $(CHECK_BUILD_DIR)/$*.log >&2; \
	    echo "check-build: $* FAILED; all of it in $(CHECK_BUILD_DIR)/$*.log" >&2; exit 1; }
	@rm -rf $(CHECK_BUILD_DIR)/$* $(CHECK_BUILD_DIR)/$*.log
	@echo "check-build: $* ok"

# what check runs but the tests themselves (the preload shims are
# Linux-only test tools, built plain: not here)
build-tests: all $(UNITS) $(FUZZ_REPLAY)

# Every bt program the tests run goes through valgrind (see tests/lib.sh).
check-valgrind: all $(UNITS) $(SHIMS) $(FUZZ_REPLAY)
	@command -v valgrind >/dev/null || { echo "make: valgrind is missing: apt-get install -y valgrind" >&2; exit 1; }
	BT_VALGRIND=1 $(PROVE) $(VG_PROVEFLAGS) $(TESTS)

check-asan:
	$(MAKE) clean
	BT_ASAN=1 $(MAKE) check CFLAGS="-O1 -g -fsanitize=address,undefined -fno-omit-frame-pointer" \
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
	rm -f lib/*.o lib/libbt.a mock/*.o $(PROGS) $(UNITS) $(SHIMS) $(FUZZ_REPLAY)
	rm -rf tests/trash.* $(FUZZ_BUILD) $(AFL_BUILD) $(CHECK_BUILD_DIR)

# ---- make fuzz -------------------------------------------------------
#
# The harnesses under libFuzzer, with ASan and UBSan, in $(FUZZ_BUILD);
# the programs that read stdin, built by AFL++'s compiler (with ASan and
# UBSan too), in $(AFL_BUILD), never over bin/.  Then each harness is
# fuzzed for its share of FUZZ_TIME seconds, one after another (make -j2
# runs two at a time), from its seed corpus and the scratch corpus in
# $(FUZZ_WORK)/NAME (git-ignored, kept between runs: rm -rf it to start
# over).  A crash, a sanitizer error or a disagreement fails make and
# leaves the input in $(FUZZ_WORK)/NAME-crash-*.

FUZZ_TIME  ?= 60
FUZZ_CC    ?= clang
AFL_CC     ?= afl-clang-fast
FUZZ_CFLAGS ?= -O1 -g
FUZZ_WORK  ?= tests/fuzz/work
FUZZ_BUILD  = tests/fuzz/build
AFL_BUILD   = tests/fuzz/afl-build
FUZZ_DEB_PKGS = clang libclang-rt-14-dev afl++

FUZZ_SAN   = -fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer
FUZZ_FLAGS = -std=c99 $(BT_FEATURES) -Wall -Wextra -Ilib $(PKG_CFLAGS) $(CPPFLAGS) \
             $(FUZZ_CFLAGS) $(FUZZ_SAN)
FUZZ_LIBS  = $(PKG_LIBS) -lm -lpthread
FUZZERS    = $(FUZZ_NAMES:%=$(FUZZ_BUILD)/fuzz-%)
AFL_PROGS  = bt-split bt-submit bt-join bt-retry bt-cost bt-format
AFL_BINS   = $(AFL_PROGS:%=$(AFL_BUILD)/%) $(AFL_BUILD)/records.jsonl $(AFL_BUILD)/requests.jsonl
# seconds for each harness: its share of FUZZ_TIME, at least 1 (or give
# it: make fuzz-run-json FUZZ_EACH=300)
FUZZ_EACH  = $(shell n=$$(($(FUZZ_TIME) / $(words $(FUZZ_NAMES)))); [ $$n -ge 1 ] && echo $$n || echo 1)

fuzz: fuzz-build $(FUZZ_NAMES:%=fuzz-run-%)

fuzz-build: $(FUZZERS) $(AFL_BINS)

fuzz-run-%: $(FUZZ_BUILD)/fuzz-%
	@mkdir -p $(FUZZ_WORK)/$*
	@echo "fuzz: $* for $(FUZZ_EACH)s (log in $(FUZZ_WORK)/$*.log)"
	@if ./$< -max_total_time=$(FUZZ_EACH) -timeout=10 -print_final_stats=1 \
	     -dict=tests/fuzz/json.dict -artifact_prefix=$(FUZZ_WORK)/$*- \
	     $(FUZZ_WORK)/$* tests/fuzz/corpus/$* >$(FUZZ_WORK)/$*.log 2>&1; then \
	  grep -E '^stat::(number_of_executed_units|new_units_added|peak_rss_mb)' \
	    $(FUZZ_WORK)/$*.log | sed 's/^/fuzz: $*: /'; \
	  echo "fuzz: $*: corpus of $$(ls $(FUZZ_WORK)/$* | wc -l) inputs, no crash"; \
	else \
	  tail -n 60 $(FUZZ_WORK)/$*.log >&2; \
	  echo "fuzz: $*: FAILED; the input: $$(ls $(FUZZ_WORK)/$*-* 2>/dev/null | tail -n 1)" >&2; \
	  exit 1; \
	fi

$(FUZZ_BUILD)/lib/%.o: lib/%.c lib/bt.h | fuzz-deps
	@mkdir -p $(@D)
	$(FUZZ_CC) $(FUZZ_FLAGS) -fsanitize=fuzzer-no-link -c -o $@ $<

$(FUZZ_BUILD)/libbt.a: $(LIB_SRC:lib/%.c=$(FUZZ_BUILD)/lib/%.o)
	rm -f $@
	$(AR) rcs $@ $^

$(FUZZ_BUILD)/fuzz-%: tests/fuzz/%.c tests/fuzz/fuzz.h $(FUZZ_BUILD)/libbt.a
	$(FUZZ_CC) $(FUZZ_FLAGS) -fsanitize=fuzzer -o $@ $< $(FUZZ_BUILD)/libbt.a $(FUZZ_LIBS)

$(AFL_BUILD)/lib/%.o: lib/%.c lib/bt.h | fuzz-deps
	@mkdir -p $(@D)
	AFL_QUIET=1 $(AFL_CC) $(FUZZ_FLAGS) -c -o $@ $<

$(AFL_BUILD)/libbt.a: $(LIB_SRC:lib/%.c=$(AFL_BUILD)/lib/%.o)
	rm -f $@
	$(AR) rcs $@ $^

$(AFL_BUILD)/bt-%: bin/bt-%.c $(AFL_BUILD)/libbt.a lib/bt.h
	AFL_QUIET=1 $(AFL_CC) $(FUZZ_FLAGS) -o $@ $< $(AFL_BUILD)/libbt.a $(FUZZ_LIBS)

# the fixed files bt-join and bt-retry read beside the results on stdin
$(AFL_BUILD)/%.jsonl: tests/fuzz/afl/%.jsonl
	@mkdir -p $(@D)
	cp $< $@

# clang with libFuzzer and AFL++, installed as deps installs the rest
fuzz-deps: .fuzz-deps-ok
.fuzz-deps-ok: | deps
	@ok=1; command -v $(FUZZ_CC) >/dev/null && command -v $(AFL_CC) >/dev/null || ok=; \
	if [ -n "$$ok" ]; then \
	  t=$$(mktemp -d) && \
	  echo 'int LLVMFuzzerTestOneInput(const char *d, unsigned long n) { return (int)(d[0] & n); }' >$$t/t.c && \
	  $(FUZZ_CC) -fsanitize=fuzzer,address -o $$t/t $$t/t.c >/dev/null 2>&1 || ok=; rm -rf $$t; \
	fi; \
	if [ -z "$$ok" ]; then $(call apt_install,$(FUZZ_DEB_PKGS)); fi; touch $@

.PHONY: all deps npm-deps check check-build build-tests check-valgrind check-asan demo bench install uninstall clean \
        fuzz fuzz-build fuzz-deps
