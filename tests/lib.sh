# tests/lib.sh — a small TAP harness in the manner of git's test-lib.
#
#   . "${0%/*}/lib.sh"
#   test_expect_success 'what it does' '
#       commands &&
#       test_cmp expect actual
#   '
#   test_done
#
# Each test body runs in a subshell inside one scratch directory per file
# ($TRASH, removed at the end unless a test failed or BT_KEEP is set), with
# stdin from /dev/null.  On failure the body and everything it printed are
# shown as TAP comments.  BT_VALGRIND=1 runs every compiled bt program
# under valgrind; an error there fails the test.

set -u
BT_ROOT=$(cd "${0%/*}/.." && pwd)
TESTS=$BT_ROOT/tests
TEST_NAME=${0##*/}
unset ANTHROPIC_API_KEY ANTHROPIC_BASE_URL ANTHROPIC_VERSION BT_STATE_DIR \
	BT_MODEL BT_PRICES BT_RETRY_BUDGET BT_RECONCILE_GRACE BT_RECONCILE_GAP \
	BT_LINE_MAX BT_TRANSFER_DEADLINE
LC_ALL=C
export LC_ALL
# The tests' own model, "m", has a price as a real model has: bt-format
# does not take it for a typo, and bt-mock answers it (bt-mock(1) --model).
BT_PRICES='{"m":{"input":1,"output":5}}'
export BT_PRICES

TRASH=$(mktemp -d "${TMPDIR:-/tmp}/bt-test.${TEST_NAME%.t}.XXXXXX") || exit 1
PATH=$BT_ROOT/bin:$TESTS/unit:$PATH
# the registry of journals (bt.7) is this file's own
XDG_STATE_HOME=$TRASH/.state
export XDG_STATE_HOME
if [ "${BT_VALGRIND:-}" = 1 ]; then
	mkdir "$TRASH/.vgbin"
	for p in "$BT_ROOT"/bin/bt-* "$TESTS"/unit/*; do
		case $p in *.c | */tcurl | */tjq) continue;; esac   # the tests' tools, not bt
		[ -x "$p" ] || continue
		if head -c 4 "$p" | grep -q ELF; then
			cat >"$TRASH/.vgbin/${p##*/}" <<-EOF
			#!/bin/sh
			exec valgrind -q --error-exitcode=99 --leak-check=full \
			  --show-leak-kinds=definite,indirect --errors-for-leak-kinds=definite,indirect \
			  --track-fds=no "$p" "\$@"
			EOF
			chmod +x "$TRASH/.vgbin/${p##*/}"
		fi
	done
	PATH=$TRASH/.vgbin:$PATH
fi
# jq: tests/unit/tjq, jq for one field (.id, .error.type, .data[0].id)
# without jq's start-up, 23 ms of CPU; it runs jq itself for anything else
jq() { "$TESTS/unit/tjq" "$@"; }
# python3 is the interpreter itself, not a version manager's shim in
# front of it (pyenv's costs a third of a second of CPU a start): make
# check finds it once and gives it as BT_PYTHON
[ -n "${BT_PYTHON+x}" ] ||
	BT_PYTHON=$(python3 -c 'import sys; print(sys.executable)' 2>/dev/null)
if [ -n "$BT_PYTHON" ] && [ -x "$BT_PYTHON" ]; then
	mkdir "$TRASH/.python" && ln -s "$BT_PYTHON" "$TRASH/.python/python3" &&
		PATH=$TRASH/.python:$PATH
fi
export PATH BT_PYTHON
cd "$TRASH" || exit 1

test_count=0
test_failures=0
MOCK_PID=

test_cleanup() {
	if [ -n "${SC_PID:-}" ]; then
		exec 8>&- 9<&-
		kill -TERM "$SC_PID" 2>/dev/null
		wait "$SC_PID" 2>/dev/null
	fi
	if [ -n "${MOCK_PID:-}" ]; then
		kill -TERM "$MOCK_PID" 2>/dev/null
		wait "$MOCK_PID" 2>/dev/null
	fi
	if [ "$test_failures" = 0 ] && [ -z "${BT_KEEP:-}" ]; then
		cd / && rm -rf "$TRASH"
	else
		echo "# scratch directory kept: $TRASH"
	fi
}
trap 'test_cleanup' EXIT
trap 'exit 130' INT TERM

# test_chain_lint BODY: the body's && chain is whole, as git's test-lib
# checks it: run after a command that fails with 117, a whole chain runs
# nothing and ends with 117; a line that does not end in && (or is not
# inside a control structure) lets what follows it run, and the status is
# another.  Only what follows a break runs, and only when there is one.
test_chain_lint() {
	(BT_IN_TEST=1; eval "(exit 117) && $1
echo bt-chain-lint-\$?") >"$TRASH/.lint" 2>&1 </dev/null
	# its last line, read by the shell: a tail(1) a test is 1,400 processes
	_tl_last=
	while IFS= read -r _tl_l || [ -n "$_tl_l" ]; do _tl_last=$_tl_l; done <"$TRASH/.lint"
	[ "$_tl_last" = bt-chain-lint-117 ]
}

# test_expect_success DESCRIPTION BODY
test_expect_success() {
	test_count=$((test_count + 1))
	if [ "${BT_CHAIN_LINT:-1}" != 0 ] && ! test_chain_lint "$2"; then
		test_failures=$((test_failures + 1))
		echo "not ok $test_count - $1"
		echo "# broken && chain: a command of this body does not end in &&,"
		echo "# so a failure before it would pass unseen (BT_CHAIN_LINT=0 skips"
		echo "# this check):"
		printf '%s\n' "$2" | sed 's/^/#	/'
		return
	fi
	if (BT_IN_TEST=1; eval "$2") >"$TRASH/.out" 2>&1 </dev/null; then
		echo "ok $test_count - $1"
	else
		test_failures=$((test_failures + 1))
		echo "not ok $test_count - $1"
		printf '%s\n' "$2" | sed 's/^/#	/'
		echo "# output:"
		sed 's/^/#   /' "$TRASH/.out"
	fi
}

# test_skip DESCRIPTION REASON
test_skip() {
	test_count=$((test_count + 1))
	echo "ok $test_count - $1 # SKIP $2"
}

test_done() {
	mock_stop
	echo "1..$test_count"
	[ "$test_failures" = 0 ]
	exit $?
}

# test_cmp EXPECTED ACTUAL: equal byte for byte, or a diff.
test_cmp() {
	cmp -s "$1" "$2" && return 0
	echo "test_cmp: $1 and $2 differ:"
	diff -u "$1" "$2" | head -n 60
	return 1
}

# test_must_fail CMD...: CMD exits with a failure status (1..125), not by
# a signal, not "not found".
test_must_fail() {
	"$@"
	_st=$?
	if [ $_st = 0 ]; then
		echo "test_must_fail: succeeded: $*"
		return 1
	elif [ $_st -gt 125 ]; then
		echo "test_must_fail: exit $_st (signal, or not run): $*"
		return 1
	fi
	return 0
}

# test_must_be_empty FILE: FILE exists and is empty, or show it.
test_must_be_empty() {
	if ! [ -f "$1" ]; then
		echo "test_must_be_empty: $1 does not exist"
		return 1
	fi
	[ -s "$1" ] || return 0
	echo "test_must_be_empty: $1 is not empty:"
	sed 's/^/  | /' "$1" | head -n 40
	return 1
}

# test_expect_code CODE CMD...: CMD exits with exactly CODE.
test_expect_code() {
	_want=$1
	shift
	"$@"
	_st=$?
	[ $_st = "$_want" ] && return 0
	echo "test_expect_code: exit $_st, wanted $_want: $*"
	return 1
}

# test_grep PATTERN FILE: FILE has a line matching PATTERN (grep -E), or
# show the file.
test_grep() {
	grep -E -q -- "$1" "$2" && return 0
	echo "test_grep: no line matches '$1' in $2:"
	sed 's/^/  | /' "$2" | head -n 40
	return 1
}

# test_lines N FILE: FILE has exactly N lines.
test_lines() {
	_n=$(wc -l <"$2")
	[ "$_n" -eq "$1" ] && return 0
	echo "test_lines: $2 has $_n lines, wanted $1"
	return 1
}

# wait_for [-t SECONDS] CMD...: run CMD every 0.1 s until it succeeds, for
# SECONDS at most (a whole number: 30, four times that under valgrind);
# then fail, saying what it waited for.  Wait for a condition, never for
# a time: a busy machine is slow, not wrong.
wait_for() {
	_wf_t=30
	if [ "$1" = -t ]; then
		_wf_t=$2
		shift 2
	fi
	[ "${BT_VALGRIND:-}" = 1 ] && _wf_t=$((_wf_t * 4))
	_wf_i=$((_wf_t * 10))
	until "$@"; do
		_wf_i=$((_wf_i - 1))
		if [ $_wf_i -le 0 ]; then
			echo "wait_for: gave up after ${_wf_t}s: $*"
			return 1
		fi
		sleep 0.1
	done
}

# mock_status ID: batch ID's processing_status on bt-mock (read with sed,
# not jq: a poll runs it often, and jq costs 30 ms of CPU a start)
mock_status() {
	api GET "/v1/messages/batches/$1" |
		sed -n 's/.*"processing_status": *"\([a-z_]*\)".*/\1/p'
}

# mock_ended ID...: every batch ID has ended on bt-mock.
mock_ended() {
	for _me in "$@"; do
		[ "$(mock_status "$_me")" = ended ] || return 1
	done
}

# mock_start [bt-mock options]: start bt-mock on an ephemeral port; sets
# MOCK_URL and exports ANTHROPIC_BASE_URL and a test key.  Its stderr goes
# to $TRASH/mock.log.
mock_start() {
	if [ -n "${BT_IN_TEST:-}" ]; then
		echo "mock_start: call it between tests, not inside one (a subshell)"
		return 1
	fi
	mock_stop
	rm -f "$TRASH/.mock.url"
	bt-mock -p 0 --lifetime 900 "$@" >"$TRASH/.mock.url" 2>>"$TRASH/mock.log" &
	MOCK_PID=$!
	_i=0
	while [ $_i -lt 400 ]; do
		if [ -s "$TRASH/.mock.url" ] && grep -q '^http' "$TRASH/.mock.url"; then
			MOCK_URL=$(head -n 1 "$TRASH/.mock.url")
			ANTHROPIC_BASE_URL=$MOCK_URL
			ANTHROPIC_API_KEY=sk-test-key
			export MOCK_URL ANTHROPIC_BASE_URL ANTHROPIC_API_KEY
			return 0
		fi
		kill -0 $MOCK_PID 2>/dev/null || break
		sleep 0.05
		_i=$((_i + 1))
	done
	echo "# bt-mock did not start:"
	sed 's/^/#   /' "$TRASH/mock.log"
	MOCK_PID=
	return 1
}

# mock_stop: stop it (between tests); a bt-mock that does not exit 0 on
# SIGTERM (valgrind found an error, say) counts as a failed test.
mock_stop() {
	[ -n "${MOCK_PID:-}" ] || return 0
	kill -TERM "$MOCK_PID" 2>/dev/null
	wait "$MOCK_PID"
	_st=$?
	MOCK_PID=
	[ $_st = 0 ] && return 0
	test_count=$((test_count + 1))
	test_failures=$((test_failures + 1))
	echo "not ok $test_count - bt-mock exited with status $_st"
	tail -n 30 "$TRASH/mock.log" | sed 's/^/#   /'
	return 1
}

# schema_serve: from here on, schema_check asks one tests/schema-check.py
# --serve, started now, through two FIFOs on fds 8 and 9, where each call
# would start python3 and import jsonschema (0.15 s of CPU).  Between
# tests, as mock_start.
schema_serve() {
	mkfifo "$TRASH/.sc.in" "$TRASH/.sc.out" || return 1
	"$TESTS/schema-check.py" --serve <"$TRASH/.sc.in" >"$TRASH/.sc.out" 2>>"$TRASH/.sc.log" &
	SC_PID=$!
	exec 8>"$TRASH/.sc.in" 9<"$TRASH/.sc.out"
}

# schema_check [--spec FILE] SCHEMA [FILE...]: tests/schema-check.py, by
# its server when there is one: its messages on stderr, its exit status.
schema_check() {
	if [ -z "${SC_PID:-}" ]; then
		"$TESTS/schema-check.py" "$@"
		return
	fi
	_sc_n=$#
	[ "${1:-}" = --spec ] && _sc_n=$((_sc_n - 2))
	if [ "$_sc_n" -le 1 ]; then
		cat >"$TRASH/.sc.stdin" || return 2
		set -- "$@" "-=$TRASH/.sc.stdin"
	fi
	_sc_line=$PWD
	for _sc_a; do _sc_line="$_sc_line	$_sc_a"; done
	# a write to a FIFO nobody reads any more would kill the test with
	# SIGPIPE, saying nothing: ignored, it is a failed write
	if (trap '' PIPE; printf '%s\n' "$_sc_line" >&8) 2>/dev/null; then
		while IFS= read -r _sc_l <&9; do
			case $_sc_l in
			"::schema-check-rc:: "*) return "${_sc_l#* }" ;;
			esac
			printf '%s\n' "$_sc_l" >&2
		done
	fi
	echo "schema_check: tests/schema-check.py --serve is gone:" >&2
	cat "$TRASH/.sc.log" >&2
	return 2
}

# mock_stat NAME: one figure of bt-mock's /_mock/stats (creates, http,
# batches, requests, faults).
mock_stat() {
	{ tcurl -sS "$MOCK_URL/_mock/stats" && echo; } | sed -n "s/.*[{,]\"$1\":\([^,}]*\).*/\1/p"
}

# mock_stat_is NAME VALUE: that figure is VALUE (for wait_for).
mock_stat_is() {
	[ "$(mock_stat "$1")" = "$2" ]
}

# mock_fault SPEC...: script faults in the running bt-mock (see bt-mock(1)).
mock_fault() {
	for _f; do
		tcurl -sS -f -X POST --data-binary "$_f" "$MOCK_URL/_mock/faults" >/dev/null || return 1
	done
}

# api METHOD PATH [curl options]: call the mock with the test key, by
# tests/unit/tcurl (curl's options and exit codes, none of its start-up
# cost; it runs curl itself for an option it does not know).
api() {
	_m=$1 _p=$2
	shift 2
	tcurl -sS -X "$_m" -H "x-api-key: $ANTHROPIC_API_KEY" \
		-H 'anthropic-version: 2023-06-01' "$@" "$MOCK_URL$_p"
}

# mask FILE...: ids of batches, messages, requests and tool calls made fixed
mask() {
	sed -E 's/(msgbatch|msg|req|toolu)_[A-Za-z0-9]{24}/\1_X/g' "$@"
}

# run_batch FILE-OF-REQUEST-LINES: create a batch of them on bt-mock through
# the API itself, wait for its end (at most 10 s), its results to "results"
run_batch() {
	{ printf '{"requests":['; paste -sd, "$1"; printf ']}'; } >body.json &&
	api POST /v1/messages/batches --data-binary @body.json >batch &&
	_id=$(jq -r .id batch) &&
	_i=0 &&
	while [ $_i -lt 200 ]; do
		api GET "/v1/messages/batches/$_id" >polled || return 1
		grep -q '"processing_status":"ended"' polled && break
		sleep 0.05; _i=$((_i + 1))
	done &&
	api GET "/v1/messages/batches/$_id/results" >results
}
