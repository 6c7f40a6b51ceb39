#!/bin/sh
# One reader of the batch list (lib/api.c), for bt-list and for
# reconciliation: a page it cannot trust is a loud failure, never "no
# batches"; a server that ignores the cursor is not paged forever.  A
# batch whose request_counts are no counts (1e300, -1e300) is a bad answer.
# x-should-retry overrides the status both ways.
. "${0%/*}/lib.sh"

# hostile MODE: start tests/hostile-server.py; sets HURL and HPID
hostile() {
	rm -f hurl posts
	python3 "$TESTS/hostile-server.py" "$1" hurl posts &
	HPID=$!
	_i=0
	until [ -s hurl ] || [ $_i -gt 200 ]; do sleep 0.05; _i=$((_i + 1)); done
	HURL=$(cat hurl)
}
stop() { kill "$HPID" 2>/dev/null; wait "$HPID" 2>/dev/null; :; }
req='{"custom_id":"a","params":{"model":"claude-haiku-4-5","max_tokens":5,"messages":[{"role":"user","content":"hi"}]}}'
export ANTHROPIC_API_KEY=sk-test BT_RECONCILE_GAP=0.1 BT_RETRY_BUDGET=1s

for mode in null-data no-has-more; do
test_expect_success "create answered 500, list $mode: one POST, a loud failure" '
	hostile '$mode' &&
	echo "$req" >r.jsonl &&
	test_expect_code 1 env ANTHROPIC_BASE_URL=$HURL bt-submit <r.jsonl >out 2>err &&
	stop &&
	test_must_be_empty out &&
	echo 1 >expect && test_cmp expect posts &&
	test_grep "cannot list batches to check: GET /v1/messages/batches.*bad answer: no \"(data\" array|has_more\" boolean)" err
'
done

test_expect_success 'bt-list on a page with "data": null: exit 1, named' '
	hostile null-data &&
	test_expect_code 1 env ANTHROPIC_BASE_URL=$HURL bt-list >out 2>err &&
	stop &&
	test_grep "bad answer: no \"data\" array" err
'

for mode in loop empty-more; do
test_expect_success "a list that pages forever ($mode): bounded, a loud failure" '
	hostile '$mode' &&
	test_expect_code 1 env ANTHROPIC_BASE_URL=$HURL bt-list >out 2>err &&
	test_grep "bad answer: (the cursor came back|an empty page that says it has more)" err &&
	rm -rf .bt &&
	test_expect_code 1 env ANTHROPIC_BASE_URL=$HURL bt-submit <r.jsonl >out 2>err &&
	stop &&
	echo 1 >expect && test_cmp expect posts &&
	test_grep "bad answer: (the cursor came back|an empty page that says it has more)" err
'
done

test_expect_success 'x-should-retry: false on a 500: one POST, given up at once' '
	hostile should-retry-false &&
	echo "{}" >body.json &&
	test_expect_code 1 env ANTHROPIC_BASE_URL=$HURL http-call -r -b body.json POST /v1/x >out 2>err &&
	stop &&
	echo 1 >expect && test_cmp expect posts &&
	test_grep "^status=500 attempts=1 " err
'

test_expect_success 'x-should-retry: true on a 400: retried until the budget is spent' '
	hostile should-retry-true &&
	echo "{}" >body.json &&
	test_expect_code 1 env ANTHROPIC_BASE_URL=$HURL http-call -r -b body.json POST /v1/x >out 2>err &&
	stop &&
	test "$(cat posts)" -ge 2 &&
	test_grep "^error: invalid_request_error: try again \\(gave up after [0-9]+ attempts" err
'

for mode in count-huge count-negative; do
test_expect_success "a batch whose count is out of range ($mode): bt-wait and bt-fetch refuse it" '
	hostile '$mode' &&
	echo msgbatch_loop1 >id &&
	test_expect_code 1 env ANTHROPIC_BASE_URL=$HURL bt-wait <id >out 2>err &&
	test_must_be_empty out &&
	echo "bt-wait: msgbatch_loop1: GET /v1/messages/batches/msgbatch_loop1: bad answer: request_counts: a count that is not a whole number from 0 to 2^53" >expect &&
	test_cmp expect err &&
	test_expect_code 1 env ANTHROPIC_BASE_URL=$HURL bt-fetch <id >out 2>err &&
	stop &&
	test_must_be_empty out &&
	test_grep "^bt-fetch: msgbatch_loop1: bad answer: request_counts: a count that is not a whole number from 0 to 2\\^53" err
'
done

test_done
