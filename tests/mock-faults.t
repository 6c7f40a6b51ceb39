#!/bin/sh
# bt-mock: scripted faults
. "${0%/*}/lib.sh"

BODY='{"requests":[{"custom_id":"a","params":{"model":"m","max_tokens":5,"messages":[{"role":"user","content":"hi"}]}}]}'
stats() { curl -sS "$MOCK_URL/_mock/stats" | jq -c "[.batches, .creates]"; }

mock_start --processing-time 0.2 --fault 'create:529'

test_expect_success '--fault create:529: overloaded_error, no batch, then normal' '
	api POST /v1/messages/batches --data-binary "$BODY" -D hdr -o body -w "%{http_code}\n" >code &&
	echo 529 >expect && test_cmp expect code &&
	jq -c .error body >actual &&
	echo "{\"type\":\"overloaded_error\",\"message\":\"Overloaded\"}" >expect &&
	test_cmp expect actual &&
	rid=$(tr -d "\r" <hdr | sed -n "s/^[Rr]equest-[Ii][Dd]: //p") &&
	test "$(jq -r .request_id body)" = "$rid" &&
	stats >actual && echo "[0,0]" >expect && test_cmp expect actual &&
	api POST /v1/messages/batches --data-binary "$BODY" -o body -w "%{http_code}\n" >code &&
	echo 200 >expect && test_cmp expect code &&
	stats >actual && echo "[1,1]" >expect && test_cmp expect actual
'

test_expect_success '429 sends retry-after (default 1, or the argument); COUNT repeats' '
	mock_fault "create:429*2" "get:429:7" &&
	for i in 1 2; do
		api POST /v1/messages/batches --data-binary "$BODY" -D hdr -o body -w "%{http_code}\n" >code &&
		echo 429 >expect && test_cmp expect code &&
		test "$(jq -r .error.type body)" = rate_limit_error &&
		tr -d "\r" <hdr | tr A-Z a-z | test_grep "^retry-after: 1$" - || exit 1
	done &&
	api GET /v1/messages/batches/msgbatch_x -D hdr -o body -w "%{http_code}\n" >code &&
	echo 429 >expect && test_cmp expect code &&
	tr -d "\r" <hdr | tr A-Z a-z | test_grep "^retry-after: 7$" - &&
	api POST /v1/messages/batches --data-binary "$BODY" -o body -w "%{http_code}\n" >code &&
	echo 200 >expect && test_cmp expect code
'

test_expect_success 'status faults: each maps to its error type' '
	for st in 500:api_error 502:api_error 503:api_error 504:timeout_error 408:timeout_error 529:overloaded_error; do
		mock_fault "list:${st%%:*}" &&
		api GET /v1/messages/batches -o body -w "%{http_code}\n" >code &&
		echo "${st%%:*}" >expect && test_cmp expect code &&
		test "$(jq -r .error.type body)" = "${st#*:}" || exit 1
	done
'

test_expect_success 'faults fire in order; "any" matches every endpoint; *0 is always' '
	mock_fault "any:503" "list:500" &&
	api GET /v1/messages/batches -o /dev/null -w "%{http_code}\n" >codes &&
	api GET /v1/messages/batches -o /dev/null -w "%{http_code}\n" >>codes &&
	api GET /v1/messages/batches -o /dev/null -w "%{http_code}\n" >>codes &&
	printf "503\n500\n200\n" >expect && test_cmp expect codes &&
	mock_fault "count_tokens:500*0" &&
	for i in 1 2 3; do
		api POST /v1/messages/count_tokens --data-binary "{}" -o /dev/null -w "%{http_code}\n" || exit 1
	done >codes &&
	printf "500\n500\n500\n" >expect && test_cmp expect codes &&
	curl -sS -X DELETE "$MOCK_URL/_mock/faults" >/dev/null &&
	api POST /v1/messages/count_tokens --data-binary "{\"model\":\"m\",\"messages\":[{\"role\":\"user\",\"content\":\"x\"}]}" -o /dev/null -w "%{http_code}\n" >code &&
	echo 200 >expect && test_cmp expect code
'

test_expect_success 'a bad fault spec is a 400' '
	curl -sS -o body -w "%{http_code}\n" -X POST --data-binary "create:nope" "$MOCK_URL/_mock/faults" >code &&
	echo 400 >expect && test_cmp expect code &&
	curl -sS -o body -w "%{http_code}\n" -X POST --data-binary "nowhere:500" "$MOCK_URL/_mock/faults" >code &&
	test_cmp expect code
'

test_expect_success 'taken500: the batch is made, the answer is a 500' '
	stats >before &&
	mock_fault create:taken500 &&
	api POST /v1/messages/batches --data-binary "$BODY" -o body -w "%{http_code}\n" >code &&
	echo 500 >expect && test_cmp expect code &&
	test "$(jq -r .error.type body)" = api_error &&
	test "$(jq ".[1]" before)" -lt "$(stats | jq ".[1]")" &&
	test "$(( $(jq ".[0]" before) + 1 ))" = "$(stats | jq ".[0]")"
'

test_expect_success 'drop on create: no answer at all, but the batch is made' '
	stats >before &&
	mock_fault create:drop &&
	test_expect_code 52 api POST /v1/messages/batches --data-binary "$BODY" -o body 2>err &&
	test "$(( $(jq ".[0]" before) + 1 ))" = "$(stats | jq ".[0]")" &&
	api GET "/v1/messages/batches?limit=1" | jq -r "[.data[0].request_counts[]] | add" >n &&
	echo 1 >expect && test_cmp expect n
'

test_expect_success 'drop on get: no answer' '
	mock_fault get:drop &&
	test_expect_code 52 api GET /v1/messages/batches/msgbatch_x -o body 2>err &&
	api GET /v1/messages/batches/msgbatch_x -o /dev/null -w "%{http_code}\n" >code &&
	echo 404 >expect && test_cmp expect code
'

test_expect_success 'cut: a truncated results download (curl exit 18)' '
	id=$(api POST /v1/messages/batches --data-binary "$BODY" | jq -r .id) &&
	sleep 0.3 &&
	api GET "/v1/messages/batches/$id" >/dev/null &&
	api GET "/v1/messages/batches/$id/results" -o full &&
	size=$(wc -c <full) && test "$size" -gt 100 &&
	mock_fault results:cut &&
	test_expect_code 18 api GET "/v1/messages/batches/$id/results" -o part 2>err &&
	test "$(wc -c <part)" -eq $((size / 2)) &&
	mock_fault results:cut:10 &&
	test_expect_code 18 api GET "/v1/messages/batches/$id/results" -o part 2>err &&
	test "$(wc -c <part)" -eq 10 &&
	head -c 10 full >expect && test_cmp expect part
'

test_expect_success 'slow: the answer comes after ARG seconds, and is normal' '
	mock_fault list:slow:1 &&
	start=$(date +%s%N) &&
	api GET /v1/messages/batches -o body -w "%{http_code}\n" >code &&
	end=$(date +%s%N) &&
	echo 200 >expect && test_cmp expect code &&
	test $(( (end - start) / 1000000 )) -ge 950 &&
	jq -e ".data | length > 0" body
'

test_expect_success 'slow on one connection does not block another' '
	mock_fault list:slow:2 &&
	{ api GET /v1/messages/batches -o /dev/null & } &&
	pid=$! &&
	sleep 0.2 &&
	start=$(date +%s%N) &&
	api GET /v1/messages/batches/msgbatch_x -o /dev/null &&
	end=$(date +%s%N) &&
	wait $pid &&
	test $(( (end - start) / 1000000 )) -lt 1000
'

mock_stop

test_expect_success "bt-mock wrote nothing on stderr (no warnings, no valgrind errors)" '
	! grep -E "==[0-9]+==|bt-mock:" "$TRASH/mock.log"
'

test_done
