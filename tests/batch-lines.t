#!/bin/sh
# One rule for a line of a batches stream, in every program that reads one
# (bt-wait, bt-fetch, bt-cancel): what a batch id and a batch object are,
# the message for a bad line, and what happens to the lines around it.
. "${0%/*}/lib.sh"

create() {
	api POST /v1/messages/batches -f --data-binary \
		'{"requests":[{"custom_id":"a","params":{"model":"m","max_tokens":5,"messages":[{"role":"user","content":"hi"}]}}]}' &&
	echo
}
canceled() { api GET "/v1/messages/batches/$1" | jq -e ".cancel_initiated_at != null" >/dev/null; }

# bad PROG WHAT LINE-PRINTF-FORMAT: the line, alone on stdin, is exit 2
# with "PROG: stdin:1: WHAT", nothing sent to the API, nothing written
bad() {
	_before=$(mock_stat http) &&
	printf "$3" >in &&
	test_expect_code 2 "$1" <in >out 2>err &&
	echo "$1: stdin:1: $2" >expect &&
	test_cmp expect err &&
	test_must_be_empty out &&
	test "$(mock_stat http)" = "$_before"
}
# bad_arg PROG WHAT ARG: the same as an argument: "PROG: argument 1: WHAT"
bad_arg() {
	_before=$(mock_stat http) &&
	test_expect_code 2 "$1" "$3" >out 2>err &&
	echo "$1: argument 1: $2" >expect &&
	test_cmp expect err &&
	test_must_be_empty out &&
	test "$(mock_stat http)" = "$_before"
}

mock_start --processing-time 0.2 || exit 1
create >b1 && create >b2 && create >b3 || exit 1
jq -r .id b1 >id1 && jq -r .id b2 >id2 && jq -r .id b3 >id3 || exit 1
wait_for mock_ended $(cat id1 id2 id3) || exit 1

long=$(printf 'x%.0s' $(seq 1 100000))
for p in bt-wait bt-fetch bt-cancel; do
	test_expect_success "$p: a number is not a batch id (no 404 from the API)" "
		bad $p \"not a batch id or a batch object: '42'\" '42\n' &&
		bad_arg $p \"not a batch id or a batch object: '42'\" 42
	"

	test_expect_success "$p: a NUL byte in a line: exit 2, the byte shown" "
		bad $p \"not a batch id or a batch object: 'msgbatch_ID\\\\x00'\" 'msgbatch_ID\\0\\n' &&
		bad $p \"not a batch id or a batch object: '\\\\x00msgbatch_ID'\" '\\0msgbatch_ID\\n' &&
		id=\$(cat id1) &&
		bad $p \"not a batch id or a batch object: '\$id\\\\x00x'\" \"\$id\\\\0x\\\\n\"
	"

	test_expect_success "$p: ids are msgbatch_ (or OpenAI's batch_) and [A-Za-z0-9_-], at most 127 bytes" "
		bad $p \"not a batch id or a batch object: 'msgbatch_'\" 'msgbatch_\n' &&
		bad $p \"not a batch id or a batch object: 'mbatch_01'\" 'mbatch_01\n' &&
		(BT_PROVIDER=anthropic && export BT_PROVIDER &&
		 bad $p \"an OpenAI batch, but BT_PROVIDER says anthropic\" 'batch_01\n') &&
		bad $p \"not a batch id or a batch object: 'msgbatch_a/b'\" 'msgbatch_a/b\n' &&
		bad_arg $p \"not a batch id or a batch object: 'msgbatch_a b'\" 'msgbatch_a b' &&
		bad_arg $p \"not a batch id or a batch object: 'msgbatch_\$(printf '\\303\\251')'\" \"\$(printf 'msgbatch_\\303\\251')\" &&
		bad_arg $p \"not a batch id or a batch object: 'msgbatch_\\\\xff\\\\xc3'\" \"\$(printf 'msgbatch_\\377\\303')\" &&
		id118=msgbatch_\$(printf 'a%.0s' \$(seq 1 118)) &&
		bad_arg $p \"not a batch id or a batch object: '\$(echo \$id118 | cut -c 1-40)...'\" \"\${id118}x\" &&
		test_expect_code 1 $p \"\$id118\" >out 2>err &&
		test_grep \"^$p: \$id118: not_found_error\" err
	"

	test_expect_success "$p: a long bad line is quoted cut, not whole" "
		bad $p \"not a batch id or a batch object: '\$(printf 'x%.0s' \$(seq 1 40))...'\" '$long\n' &&
		bad_arg $p \"not a batch id or a batch object: '\$(printf 'x%.0s' \$(seq 1 40))...'\" '$long'
	"

	test_expect_success "$p: objects: an id, and a type that is message_batch if any" "
		id=\$(cat id1) &&
		bad $p 'a batch object without a valid \"id\"' '{\"id\":\"42\",\"type\":\"message_batch\"}\n' &&
		bad $p 'a batch object without a valid \"id\"' '{\"id\":\"msgbatch_a\\\\u0000b\"}\n' &&
		bad $p 'a batch object without a valid \"id\"' '{\"type\":\"message_batch\"}\n' &&
		bad $p 'not a batch object: its \"type\" is not \"message_batch\"' \"{\\\"id\\\":\\\"\$id\\\",\\\"type\\\":\\\"message_batch_deleted\\\"}\\\\n\" &&
		bad $p 'not a batch object: its \"type\" is not \"message_batch\"' \"{\\\"id\\\":\\\"\$id\\\",\\\"type\\\":1}\\\\n\" &&
		bad $p 'invalid JSON: unexpected end of input, expected a value at column 7' '{\"id\":\n' &&
		bad $p 'invalid UTF-8 at column 29' '{\"id\":\"msgbatch_01\",\"note\":\"\\377\"}\n' &&
		bad_arg $p 'a batch object without a valid \"id\"' '{}'
	"

	test_expect_success "$p: a bad argument among good ones: exit 2, nothing done" "
		before=\$(mock_stat http) &&
		test_expect_code 2 $p \"\$(cat id1)\" 'no id' \"\$(cat id2)\" >out 2>err &&
		echo \"$p: argument 2: not a batch id or a batch object: 'no id'\" >expect &&
		test_cmp expect err &&
		test_must_be_empty out &&
		test \"\$(mock_stat http)\" = \"\$before\"
	"
done

# A bad stdin line ends the input: the lines before it are handled in
# full, none after it is read, exit 2.
test_expect_success 'bt-wait: the batches before a bad line waited for, none after it' '
	{ cat id1; echo nope; cat id2; } >in &&
	test_expect_code 2 bt-wait --interval 0.1 <in >out 2>err &&
	jq -r .id out >actual && test_cmp id1 actual &&
	echo "bt-wait: stdin:2: not a batch id or a batch object: '"'"'nope'"'"'" >expect &&
	test_cmp expect err
'

test_expect_success 'bt-wait: the writer of a bad line learns at once that nobody reads on' '
	mock_fault "get:slow:3*1" &&
	tries=20 && if [ "${BT_VALGRIND:-}" = 1 ]; then tries=60; fi &&
	{ { trap "" PIPE; cat id1; echo nope; i=0;
	    while [ $i -lt $tries ] && echo more 2>/dev/null; do sleep 0.1; i=$((i + 1)); done;
	    [ $i -lt $tries ] && echo gone >wst; } | bt-wait >out 2>err; echo $? >st; } &&
	echo 2 >expect && test_cmp expect st &&
	echo gone >expect && test_cmp expect wst &&
	jq -r .id out >actual && test_cmp id1 actual
'

test_expect_success 'bt-fetch: the batches before a bad line fetched, none after it' '
	bt-wait --interval 0.1 $(cat id1 id2) >/dev/null &&
	{ cat b1; echo "{}"; cat id2; } >in &&
	test_expect_code 2 bt-fetch <in >out 2>err &&
	jq -r .custom_id out >actual && echo a >expect && test_cmp expect actual &&
	echo "bt-fetch: stdin:2: a batch object without a valid \"id\"" >expect &&
	test_cmp expect err
'

# batches that run long enough to cancel, even under valgrind
mock_start --processing-time 60 || exit 1
test_expect_success 'bt-cancel: the batches before a bad line canceled, none after it' '
	create >c1 && create >c2 &&
	{ jq -r .id c1; printf "42\n"; jq -r .id c2; } >in &&
	test_expect_code 2 bt-cancel <in >out 2>err &&
	jq -r .id out >actual && jq -r .id c1 >expect && test_cmp expect actual &&
	echo "bt-cancel: stdin:2: not a batch id or a batch object: '"'"'42'"'"'" >expect &&
	test_cmp expect err &&
	canceled "$(jq -r .id c1)" && test_must_fail canceled "$(jq -r .id c2)"
'

test_done
