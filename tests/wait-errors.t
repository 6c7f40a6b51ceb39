#!/bin/sh
# bt-wait: transient errors retried, others reported per batch, bad input,
# keys.
. "${0%/*}/lib.sh"

create() {
	api POST /v1/messages/batches -f --data-binary \
		'{"requests":[{"custom_id":"a","params":{"model":"m","max_tokens":5,"messages":[{"role":"user","content":"hi"}]}}]}'
}
now() { date +%s.%N; }
took() {
	perl -e 'my $d = $ARGV[3] - $ARGV[2]; exit 0 if $d >= $ARGV[0] && $d <= $ARGV[1];
		print "took ${d}s, wanted $ARGV[0] to $ARGV[1]\n"; exit 1' "$@"
}

mock_start --processing-time 0.5 || exit 1
create >b1 && create >b2 && jq -r .id b1 b2 >ids || exit 1
wait_for mock_ended $(cat ids) || exit 1

test_expect_success '429 with retry-after on get: honoured, then the batch' '
	mock_fault "get:429:1*2" &&
	start=$(now) && bt-wait -v "$(jq -r .id b1)" >out 2>err && end=$(now) &&
	jq -r .id b1 >expect && jq -r .id out >actual && test_cmp expect actual &&
	test "$(grep -c "rate_limit_error: .*; retrying in 1.0s$" err)" -eq 2 &&
	took 1.9 5 "$start" "$end"
'

test_expect_success '529 on get: retried with backoff' '
	mock_fault "get:529*2" &&
	bt-wait -v "$(jq -r .id b1)" >out 2>err &&
	test_lines 1 out &&
	test "$(grep -c "^bt-wait: $(jq -r .id b1): overloaded_error: .*(request-id req_.*); retrying in" err)" -eq 2
'

test_expect_success 'polls run side by side: 8 slow answers take about one' '
	for i in 1 2 3 4 5 6; do create || exit 1; done | jq -r .id >more &&
	cat ids more >in8 && test_lines 8 in8 &&
	mock_fault "get:slow:1*8" &&
	start=$(now) && bt-wait <in8 >out && end=$(now) &&
	jq -r .id out | sort >actual && sort in8 >expect && test_cmp expect actual &&
	took 0.9 3 "$start" "$end"
'

test_expect_success 'a dropped connection on get: retried, said once at once without -v' '
	mock_fault "get:drop*1" &&
	bt-wait "$(jq -r .id b1)" >out 2>err &&
	test_lines 1 out && test_lines 1 err &&
	test_grep "^bt-wait: GET /v1/messages/batches/msgbatch_[A-Za-z0-9]+: .*; retrying in [0-9.]+ s\$" err
'

test_expect_success 'retries end with the budget: exit 1, the error named' '
	mock_fault "get:503*0" &&
	{ BT_RETRY_BUDGET=1 test_expect_code 1 bt-wait "$(jq -r .id b1)" >out 2>err; st=$?; } &&
	curl -sS -X DELETE "$MOCK_URL/_mock/faults" && test $st = 0 &&
	test_must_be_empty out &&
	test_grep "^bt-wait: $(jq -r .id b1): api_error: .*\\(gave up after [0-9]+ attempts? in [0-9]+s\\)$" err
'

test_expect_success 'an unknown id: exit 1 with the API message; the others still printed' '
	{ jq -r .id b1; echo msgbatch_nosuch; jq -r .id b2; } >in &&
	test_expect_code 1 bt-wait <in >out 2>err &&
	jq -r .id out | sort >actual && sort ids >expect && test_cmp expect actual &&
	test_lines 1 err &&
	test_grep "^bt-wait: msgbatch_nosuch: not_found_error: .* \\(request-id req_[A-Za-z0-9]+\\)$" err
'

test_expect_success 'a bad input line ends the input: exit 2 naming stdin:LINE; the batches before it waited for' '
	{ jq -r .id b1; echo; echo "not an id!"; jq -r .id b2; echo "[1]"; } >in &&
	test_expect_code 2 bt-wait <in >out 2>err &&
	jq -r .id b1 >expect && jq -r .id out >actual && test_cmp expect actual &&
	echo "bt-wait: stdin:3: not a batch id or a batch object: '"'"'not an id!'"'"'" >expect &&
	test_cmp expect err &&
	{ jq -r .id b1; echo "{\"id\":1}"; } | test_expect_code 2 bt-wait >out 2>err &&
	echo "bt-wait: stdin:2: a batch object without a valid \"id\"" >expect &&
	test_cmp expect err
'

test_expect_success 'a bad argument: exit 2 before anything is fetched' '
	before=$(curl -sS "$MOCK_URL/_mock/stats" | jq .http) &&
	test_expect_code 2 bt-wait "$(jq -r .id b1)" "x y" >out 2>err &&
	test_must_be_empty out &&
	echo "bt-wait: argument 2: not a batch id or a batch object: '"'"'x y'"'"'" >expect &&
	test_cmp expect err &&
	test "$(curl -sS "$MOCK_URL/_mock/stats" | jq .http)" = "$before"
'

test_expect_success 'bad options: exit 2' '
	test_expect_code 2 bt-wait --interval soon x 2>err &&
	test_grep "^bt-wait: --interval: not a duration" err &&
	test_expect_code 2 bt-wait --timeout 0 x 2>err &&
	test_expect_code 2 bt-wait --bogus x 2>err &&
	test_grep "^usage: bt-wait" err &&
	bt-wait -h >out && test_grep "^usage: bt-wait" out
'

test_expect_success 'no key: exit 2 before reading stdin' '
	mkfifo fifo &&
	{ sleep 30 >fifo & } && pid=$! &&
	start=$(now) &&
	{ (unset ANTHROPIC_API_KEY; test_expect_code 2 bt-wait <fifo >out 2>err); st=$?; end=$(now); kill $pid; } &&
	test $st = 0 &&
	echo "bt-wait: no API key: set ANTHROPIC_API_KEY or use --api-key-file FILE" >expect &&
	test_cmp expect err && took 0 5 "$start" "$end"
'

test_expect_success '--api-key-file: the key from the file' '
	echo "  sk-file " >key &&
	(unset ANTHROPIC_API_KEY; bt-wait --api-key-file key "$(jq -r .id b1)" >out) &&
	test_lines 1 out
'

mock_stop
mock_start --key sk-right || exit 1

test_expect_success 'a wrong key: exit 1, authentication_error for each, key never printed' '
	ANTHROPIC_API_KEY=sk-wrong-secret test_expect_code 1 bt-wait -v msgbatch_a msgbatch_b >out 2>err &&
	test_must_be_empty out &&
	test "$(grep -c "^bt-wait: msgbatch_[ab]: authentication_error: " err)" -eq 2 &&
	test_must_fail grep -q sk-wrong-secret err
'

test_done
