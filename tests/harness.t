#!/bin/sh
# tests/lib.sh itself: the && chain lint, wait_for, the schema checker's
# server.
. "${0%/*}/lib.sh"

# a .t file of its own in the scratch directory, run with the harness
mkt() {
	{ echo ". \"$TESTS/lib.sh\"" && cat && echo test_done; } >"$1"
}

test_expect_success 'a body whose && chain is broken fails, and its command after the break is the only one run' '
	mkt broken.t <<-\EOF &&
	test_expect_success "broken" "
		touch before &&
		false
		touch after
	"
	test_expect_success "whole" "
		touch one &&
		{ false; true; } &&
		if false; then :; fi &&
		touch two
	"
	EOF
	test_expect_code 1 sh broken.t >out 2>&1 &&
	test_grep "^not ok 1 - broken$" out &&
	test_grep "^# broken && chain" out &&
	test_grep "^ok 2 - whole$" out &&
	dir=$(sed -n "s/^# scratch directory kept: //p" out) &&
	test -e "$dir/one" && test -e "$dir/two" &&
	test -e "$dir/after" && test_must_fail test -e "$dir/before" &&
	rm -rf "$dir"
'

test_expect_success 'BT_CHAIN_LINT=0 runs a broken body as it is' '
	mkt off.t <<-\EOF &&
	test_expect_success "broken" "
		false
		true
	"
	EOF
	BT_CHAIN_LINT=0 sh off.t >out 2>&1 &&
	test_grep "^ok 1 - broken$" out
'

test_expect_success 'wait_for: at once when it holds, a failure naming the condition when it never does' '
	wait_for true &&
	test_must_fail wait_for -t 1 test -e nothing >out &&
	echo "wait_for: gave up after 1s: test -e nothing" >expect &&
	test_cmp expect out &&
	{ (sleep 0.3 && touch later) & } &&
	wait_for -t 5 test -e later
'

test_expect_success 'schema_check through schema_serve: the checker.s statuses and messages, stdin named so; a server gone is said, exit 2, even where SIGPIPE kills' '
	mkt sc.t <<-\EOF &&
	TESTS=$REAL_TESTS   # this file is in the scratch directory, not tests/
	schema_serve || exit 1
	test_expect_success "served" "
		echo {} >bad.json &&
		test_expect_code 1 schema_check ErrorResponse bad.json 2>err &&
		grep \"^bad.json:1: \\.: .type. is a required property$\" err &&
		test_expect_code 1 schema_check ErrorResponse <bad.json 2>err &&
		grep \"^stdin:1: \\.: .type. is a required property$\" err &&
		test_expect_code 2 schema_check NoSuchSchema bad.json 2>err &&
		grep \"no schema NoSuchSchema\" err
	"
	kill $SC_PID && wait $SC_PID
	test_expect_success "gone" "
		test_expect_code 2 schema_check ErrorResponse bad.json 2>err &&
		grep \"^schema_check: tests/schema-check.py --serve is gone:$\" err
	"
	EOF
	REAL_TESTS=$TESTS perl -e "\$SIG{PIPE} = q(DEFAULT); exec @ARGV" sh sc.t >out 2>&1 &&
	test_grep "^ok 1 - served$" out && test_grep "^ok 2 - gone$" out
'

test_done
