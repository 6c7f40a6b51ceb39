#!/bin/sh
# bt-mock's OpenAI side with curl, what its options make happen: rate
# limits and their x-ratelimit-* headers, error and expiry rates (the
# error file), cancel, the window's expiry, and the --max-requests and
# --max-body limits of a batch file.  Bodies and lines are checked against
# tests/api/openai-openapi-subset.json (tests/schema-check.py).
. "${0%/*}/lib.sh"
. "$TESTS/openai-lib.sh"
schema_serve || exit 1

mock_start --processing-time 0.3 --rpm 2 --itpm 1000 $MODELS

test_expect_success 'rate limits: x-ratelimit-* on each answer, durations for resets; 429 with retry-after' '
	b=$(line x "hello" | jq -c .body) &&
	for i in 1 2 3; do
		curl -sS -H "Authorization: Bearer k" -D "h$i" -o "b$i" "$MOCK_URL/v1/chat/completions" -d "$b" || exit 1
	done &&
	for h in h1 h2 h3; do
		tr -d "\r" <$h | grep -i "^x-ratelimit" | sed "s/: .*//" | sort | tr "\n" " " && echo || exit 1
	done >names &&
	sort -u names >actual &&
	echo "x-ratelimit-limit-requests x-ratelimit-limit-tokens x-ratelimit-remaining-requests x-ratelimit-remaining-tokens x-ratelimit-reset-requests x-ratelimit-reset-tokens " >expect &&
	test_cmp expect actual &&
	tr -d "\r" <h1 | grep -i "^x-ratelimit-limit-requests: 2$" &&
	tr -d "\r" <h1 | grep -i "^x-ratelimit-remaining-requests: 1$" &&
	tr -d "\r" <h2 | grep -i "^x-ratelimit-remaining-requests: 0$" &&
	tr -d "\r" <h1 | grep -Ei "^x-ratelimit-reset-requests: ([0-9]+ms|[0-9.]+s|[0-9]+m[0-9.]+s)$" &&
	tr -d "\r" <h1 | grep -i "^x-ratelimit-limit-tokens: 1000$" &&
	head -n 1 h3 | grep " 429" &&
	tr -d "\r" <h3 | grep -Ei "^retry-after: [0-9]+$" &&
	test "$(jq -r .error.code b3)" = rate_limit_exceeded &&
	ocheck ErrorResponse b3
'

mock_stop
mock_start --processing-time 0.3 --error-rate 0.3 --expire-rate 0.2 --seed 5 --ordered $MODELS
KEY=any-key

test_expect_success 'errors: 429 and 500 (retryable), 400 and 404 lines in the error file; expired lines; counts add up' '
	{
		for i in $(seq 1 30); do line "r-$i" "request $i" || exit 1; done
		printf "%s\n" "{\"custom_id\":\"bad\",\"method\":\"POST\",\"url\":\"/v1/chat/completions\",\"body\":{\"model\":\"gpt-4.1-mini\",\"messages\":[]}}"
	} >mixed.jsonl &&
	: >batches.jsonl &&
	id=$(create mixed.jsonl) &&
	wait_for -t 10 eval "oapi GET /batches/$id | jq -e \".status | IN(\\\"expired\\\", \\\"completed\\\")\" >/dev/null" &&
	ocall 200 ended.jsonl GET "/batches/$id" &&
	test "$(jq -r .status ended.jsonl)" = expired &&
	test "$(jq -r .expired_at ended.jsonl)" != null &&
	ocheck Batch ended.jsonl &&
	oapi GET "/files/$(jq -r .output_file_id ended.jsonl)/content" >ok.jsonl &&
	oapi GET "/files/$(jq -r .error_file_id ended.jsonl)/content" >err.jsonl &&
	ocheck BatchRequestOutput ok.jsonl err.jsonl &&
	test "$(cat ok.jsonl err.jsonl | wc -l)" = 31 &&
	test "$(jq -c "[.request_counts.completed, .request_counts.failed]" ended.jsonl)" = "[$(wc -l <ok.jsonl),$(wc -l <err.jsonl)]" &&
	jq -r "if .response then (.response.status_code | tostring) + \" \" + .response.body.error.type else .error.code end" err.jsonl | sort -u >kinds &&
	printf "%s\n" "400 invalid_request_error" "429 requests" "500 server_error" batch_expired >expect &&
	test_cmp expect kinds &&
	jq -c "select(.response) | .response.body" err.jsonl | ocheck ErrorResponse &&
	cat ok.jsonl err.jsonl | jq -r .custom_id | sort >ids.got &&
	jq -r .custom_id mixed.jsonl | sort >ids.want &&
	test_cmp ids.want ids.got
'

test_expect_success 'a batch whose every request failed: completed, output_file_id null' '
	{
		printf "%s\n" "{\"custom_id\":\"u1\",\"method\":\"POST\",\"url\":\"/v1/chat/completions\",\"body\":{\"model\":\"gpt-4.1-mini\",\"messages\":[]}}"
		printf "%s\n" "{\"custom_id\":\"u2\",\"method\":\"POST\",\"url\":\"/v1/chat/completions\",\"body\":{\"model\":\"gpt-4.1-mini\",\"messages\":[]}}"
	} >allbad.jsonl &&
	: >batches.jsonl &&
	id=$(create allbad.jsonl) &&
	wait_for status_is "$id" completed &&
	oapi GET "/batches/$id" >b.json &&
	test "$(jq -c "[.output_file_id, .error_file_id != null, .request_counts]" b.json)" = "[null,true,{\"total\":2,\"completed\":0,\"failed\":2}]"
'

test_expect_success 'an unknown model in a batch: a 404 model_not_found line, not a failed batch' '
	printf "%s\n" "{\"custom_id\":\"m\",\"method\":\"POST\",\"url\":\"/v1/chat/completions\",\"body\":{\"model\":\"gpt-9\",\"messages\":[{\"role\":\"user\",\"content\":\"x\"}]}}" >unk.jsonl &&
	: >batches.jsonl &&
	id=$(create unk.jsonl) &&
	wait_for status_is "$id" completed &&
	oapi GET "/files/$(oapi GET "/batches/$id" | jq -r .error_file_id)/content" >unk.out &&
	jq -c "[.response.status_code, .response.body.error.code]" unk.out >actual &&
	echo "[404,\"model_not_found\"]" >expect &&
	test_cmp expect actual
'

test_expect_success 'stats: OpenAI creates and requests are counted (a failed batch counts no request)' '
	curl -sS "$MOCK_URL/_mock/stats" | jq -c "[.creates, .requests, .batches]" >actual &&
	echo "[3,34,3]" >expect &&
	test_cmp expect actual
'

mock_stop
# a cancel that takes 3 s, and no window to pass meanwhile: "cancelling"
# is seen however slow the machine (a 0.2 s cancel in a 0.6 s window was
# not, beside a second make check)
mock_start --processing-time 20 --cancel-time 3 --max-requests 3 --max-body 1000 $MODELS

test_expect_success 'cancel: cancelling, then cancelled; unrun requests are batch_cancelled lines' '
	{ line c1 "one"; line c2 "two"; } >c.jsonl &&
	: >batches.jsonl &&
	id=$(create c.jsonl) &&
	ocall 200 cancel.jsonl POST "/batches/$id/cancel" &&
	test "$(jq -r "[.status, .cancelling_at != null] | @tsv" cancel.jsonl)" = "$(printf "cancelling\ttrue")" &&
	wait_for status_is "$id" cancelled &&
	ocall 200 cancel.jsonl GET "/batches/$id" &&
	ocheck Batch cancel.jsonl &&
	test "$(sed -n 2p cancel.jsonl | jq -c "[.output_file_id, .cancelled_at != null, .request_counts]")" = "[null,true,{\"total\":2,\"completed\":0,\"failed\":2}]" &&
	oapi GET "/files/$(sed -n 2p cancel.jsonl | jq -r .error_file_id)/content" >cancelled.jsonl &&
	ocheck BatchRequestOutput cancelled.jsonl &&
	jq -c "[.custom_id, .response, .error.code]" cancelled.jsonl | sort >actual &&
	printf "%s\n" "[\"c1\",null,\"batch_cancelled\"]" "[\"c2\",null,\"batch_cancelled\"]" >expect &&
	test_cmp expect actual
'

mock_start --processing-time 20 --expire-after 0.6 --max-requests 3 --max-body 1000 $MODELS
test_expect_success 'expiry: the window passes: expired, unfinished requests are batch_expired lines' '
	{ line x1 "one"; line x2 "two"; } >x.jsonl &&
	: >batches.jsonl &&
	id=$(create x.jsonl) &&
	wait_for status_is "$id" expired &&
	oapi GET "/batches/$id" >x.json &&
	test "$(jq -c "[.expired_at != null, .completed_at, .request_counts.failed]" x.json)" = "[true,null,2]" &&
	oapi GET "/files/$(jq -r .error_file_id x.json)/content" | jq -r .error.code | sort -u >actual &&
	echo batch_expired >expect && test_cmp expect actual
'

test_expect_success 'limits: over --max-requests lines, over --max-body bytes: failed' '
	{ line l1 a; line l2 b; line l3 c; line l4 d; } >four.jsonl &&
	: >batches.jsonl &&
	id=$(create four.jsonl) &&
	wait_for status_is "$id" failed &&
	oapi GET "/batches/$id" | jq -c ".errors.data[] | [.line, .code]" >actual &&
	echo "[4,\"too_many_requests\"]" >expect && test_cmp expect actual &&
	{ line l1 "$(printf "%01100d" 0)"; } >big.jsonl &&
	id=$(create big.jsonl) &&
	wait_for status_is "$id" failed &&
	oapi GET "/batches/$id" | jq -c ".errors.data[] | [.line, .code]" >actual &&
	echo "[null,\"file_too_large\"]" >expect && test_cmp expect actual
'

test_done
