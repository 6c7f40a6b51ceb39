#!/bin/sh
# bt-mock (its test model claude-test known by --model): startup, shutdown, auth, routing, error envelope, create validation
. "${0%/*}/lib.sh"

mask() {
	sed -E 's/(msgbatch|msg|req|toolu)_[A-Za-z0-9]{24}/\1_X/g;
		s/[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}\.[0-9]{6}Z/TIME/g;
		s|http://127\.0\.0\.1:[0-9]+|URL|g' "$@"
}
req() { # custom_id [text]
	printf '{"custom_id":"%s","params":{"model":"claude-test","max_tokens":100,"messages":[{"role":"user","content":"%s"}]}}' "$1" "${2:-hello}"
}

mock_start --model claude-test

test_expect_success '-p 0 prints the base URL, and only it, on stdout' '
	cat "$TRASH/.mock.url" >out &&
	test_lines 1 out &&
	test_grep "^http://127\.0\.0\.1:[0-9]+$" out &&
	curl -sS -o /dev/null -w "%{http_code}\n" "$MOCK_URL/_mock/stats" >code &&
	echo 200 >expect && test_cmp expect code
'

test_expect_success 'SIGTERM ends it with status 0 and removes its state' '
	mkdir tmpd &&
	{ TMPDIR=$TRASH/tmpd bt-mock -p 0 >url 2>err & } &&
	pid=$! &&
	wait_for test -s url &&
	test_lines 1 url &&
	ls tmpd | grep "^bt-mock\." &&
	kill -TERM $pid &&
	wait $pid &&
	ls tmpd >left &&
	test_lines 0 left
'

test_expect_success 'SIGINT ends it with status 0' '
	rm -f url &&
	{ bt-mock -p 0 >url 2>err & } &&
	pid=$! &&
	wait_for test -s url &&
	kill -INT $pid &&
	wait $pid
'

test_expect_success '--lifetime ends it with status 0' '
	bt-mock -p 0 --lifetime 0.3 >url 2>err &&
	test_lines 1 url
'

test_expect_success 'bad options exit 2' '
	test_expect_code 2 bt-mock --processing-time soon 2>err &&
	test_grep "processing-time" err &&
	test_expect_code 2 bt-mock --fault create:999 2>err &&
	test_grep "fault" err &&
	test_expect_code 2 bt-mock --error-rate 2 2>err &&
	test_expect_code 2 bt-mock extra-arg 2>err &&
	test_grep "usage" err &&
	bt-mock -h >out &&
	test_grep "^usage: bt-mock" out
'

test_expect_success '-v logs method, path and status on stderr' '
	rm -f url &&
	{ bt-mock -p 0 -v --lifetime 5 >url 2>log & } &&
	pid=$! &&
	wait_for test -s url &&
	curl -sS -H "x-api-key: k" "$(cat url)/v1/messages/batches/msgbatch_x" >/dev/null &&
	kill $pid && wait $pid &&
	test_grep "^bt-mock: GET /v1/messages/batches/msgbatch_x 400$" log &&
	test_lines 1 log
'

mock_start --model claude-test --key sk-test-key

test_expect_success 'missing key: 401 authentication_error with request-id' '
	curl -sS -D hdr -o body -w "%{http_code}\n" -H "anthropic-version: 2023-06-01" \
		"$MOCK_URL/v1/messages/batches" >code &&
	echo 401 >expect && test_cmp expect code &&
	jq -c "[.type, .error.type, .error.message]" body >actual &&
	echo "[\"error\",\"authentication_error\",\"x-api-key header is required\"]" >expect &&
	test_cmp expect actual &&
	rid=$(tr -d "\r" <hdr | sed -n "s/^request-id: //p") &&
	echo "$rid" | grep -Eq "^req_[A-Za-z0-9]{24}$" &&
	test "$(jq -r .request_id body)" = "$rid" &&
	tr -d "\r" <hdr | test_grep "^content-type: application/json" -
'

test_expect_success 'wrong key: 401 invalid x-api-key; Bearer works' '
	curl -sS -o body -w "%{http_code}\n" -H "x-api-key: nope" \
		-H "anthropic-version: 2023-06-01" "$MOCK_URL/v1/messages/batches" >code &&
	echo 401 >expect && test_cmp expect code &&
	test "$(jq -r .error.message body)" = "invalid x-api-key" &&
	curl -sS -o body -w "%{http_code}\n" -H "Authorization: Bearer sk-test-key" \
		-H "anthropic-version: 2023-06-01" "$MOCK_URL/v1/messages/batches" >code &&
	echo 200 >expect && test_cmp expect code &&
	! grep -r sk-test-key "$TRASH/mock.log"
'

test_expect_success 'missing anthropic-version: 400' '
	curl -sS -o body -w "%{http_code}\n" -H "x-api-key: sk-test-key" \
		"$MOCK_URL/v1/messages/batches" >code &&
	echo 400 >expect && test_cmp expect code &&
	jq -c .error body >actual &&
	echo "{\"type\":\"invalid_request_error\",\"message\":\"anthropic-version: header is required\"}" >expect &&
	test_cmp expect actual
'

test_expect_success 'unknown path 404, wrong method 405, unknown id 404' '
	api GET /v1/nothing -o body -w "%{http_code}\n" >code &&
	echo 404 >expect && test_cmp expect code &&
	test "$(jq -r .error.type body)" = not_found_error &&
	api PUT /v1/messages/batches -o body -w "%{http_code}\n" >code &&
	echo 405 >expect && test_cmp expect code &&
	test "$(jq -r .error.type body)" = invalid_request_error &&
	for p in "" /results /cancel; do
		m=GET; test "$p" = /cancel && m=POST
		api $m "/v1/messages/batches/msgbatch_nope$p" -o body -w "%{http_code}\n" >code &&
		echo 404 >expect && test_cmp expect code &&
		test "$(jq -r .error.type body)" = not_found_error || exit 1
	done &&
	api DELETE /v1/messages/batches/msgbatch_nope -o body -w "%{http_code}\n" >code &&
	test_cmp expect code
'

test_expect_success 'beta query and anthropic-beta header are accepted' '
	api GET "/v1/messages/batches?beta=true" -H "anthropic-beta: x" -o body -w "%{http_code}\n" >code &&
	echo 200 >expect && test_cmp expect code &&
	jq -e ".data == []" body
'

test_expect_success 'create: a MessageBatch with all ten fields in order' '
	{ printf "{\"requests\":["; req a; printf ","; req b; printf "]}"; } >body.json &&
	api POST /v1/messages/batches --data-binary @body.json -D hdr -o batch -w "%{http_code}\n" >code &&
	echo 200 >expect && test_cmp expect code &&
	mask batch >actual &&
	printf "%s\n" "{\"id\":\"msgbatch_X\",\"type\":\"message_batch\",\"processing_status\":\"in_progress\",\"request_counts\":{\"processing\":2,\"succeeded\":0,\"errored\":0,\"canceled\":0,\"expired\":0},\"ended_at\":null,\"created_at\":\"TIME\",\"expires_at\":\"TIME\",\"cancel_initiated_at\":null,\"archived_at\":null,\"results_url\":null}" >expect &&
	echo >>actual &&
	test_cmp expect actual &&
	c=$(jq -r .created_at batch) && e=$(jq -r .expires_at batch) &&
	test "$(date -u -d "${c%.*}Z" +%s)" -eq "$(( $(date -u -d "${e%.*}Z" +%s) - 86400 ))" &&
	test "${c#*.}" = "${e#*.}"
'

test_expect_success 'create: GET gives the same batch' '
	id=$(jq -r .id batch) &&
	api GET "/v1/messages/batches/$id" >got &&
	jq -c "del(.processing_status, .request_counts, .ended_at, .results_url)" batch >expect &&
	jq -c "del(.processing_status, .request_counts, .ended_at, .results_url)" got >actual &&
	test_cmp expect actual
'

bad_create() { # body expected-message
	api POST /v1/messages/batches --data-binary "$1" -o body -w "%{http_code}\n" >code &&
	echo 400 >expect && test_cmp expect code &&
	test "$(jq -r .error.type body)" = invalid_request_error &&
	jq -r .error.message body >msg &&
	printf "%s\n" "$2" >expect && test_cmp expect msg
}

test_expect_success 'create: bad JSON is a 400' '
	api POST /v1/messages/batches --data-binary "{\"requests\":[" -o body -w "%{http_code}\n" >code &&
	echo 400 >expect && test_cmp expect code &&
	jq -r .error.message body >msg &&
	test_grep "^There was an error parsing the body of your request" msg &&
	api POST /v1/messages/batches --data-binary "" -o body -w "%{http_code}\n" >code &&
	test_cmp expect code &&
	api POST /v1/messages/batches --data-binary "{\"requests\":[]} x" -o body -w "%{http_code}\n" >code &&
	test_cmp expect code
'

test_expect_success 'create: schema errors name the field and index' '
	bad_create "[]" "Input should be a valid dictionary" &&
	bad_create "{}" "requests: Field required" &&
	bad_create "{\"requests\":{}}" "requests: Input should be a valid list" &&
	bad_create "{\"requests\":[]}" "requests: List should have at least 1 item after validation, not 0" &&
	bad_create "{\"requests\":[$(req a)],\"extra\":1}" "extra: Extra inputs are not permitted" &&
	bad_create "{\"requests\":[$(req a),7]}" "requests.1: Input should be a valid dictionary" &&
	bad_create "{\"requests\":[$(req a),{\"params\":{}}]}" "requests.1.custom_id: Field required" &&
	bad_create "{\"requests\":[{\"custom_id\":5,\"params\":{}}]}" "requests.0.custom_id: Input should be a valid string" &&
	bad_create "{\"requests\":[$(req a),$(req b),$(req c),$(req "bad id")]}" "requests.3.custom_id: String should match pattern '"'"'^[a-zA-Z0-9_-]{1,64}$'"'"'" &&
	long=$(printf "%065d" 0) &&
	bad_create "{\"requests\":[$(req "$long")]}" "requests.0.custom_id: String should match pattern '"'"'^[a-zA-Z0-9_-]{1,64}$'"'"'" &&
	bad_create "{\"requests\":[{\"custom_id\":\"a\"}]}" "requests.0.params: Field required" &&
	bad_create "{\"requests\":[{\"custom_id\":\"a\",\"params\":[]}]}" "requests.0.params: Input should be a valid dictionary" &&
	bad_create "{\"requests\":[$(req a),{\"custom_id\":\"b\",\"params\":{},\"x\":1}]}" "requests.1.x: Extra inputs are not permitted" &&
	bad_create "{\"requests\":[$(req a),$(req b),$(req a)]}" "requests.2.custom_id: Duplicate custom_id: a (also requests.0)"
'

test_expect_success 'create: a 64-byte custom_id is fine; params are not checked at create' '
	long=$(printf "%064d" 0) &&
	api POST /v1/messages/batches -o body -w "%{http_code}\n" \
		--data-binary "{\"requests\":[$(req "$long"),{\"custom_id\":\"p\",\"params\":{}}]}" >code &&
	echo 200 >expect && test_cmp expect code &&
	test "$(jq .request_counts.processing body)" = 2
'

test_expect_success 'create: invalid requests make no batch' '
	curl -sS "$MOCK_URL/_mock/stats" | jq -c "[.batches,.creates]" >actual &&
	echo "[2,2]" >expect && test_cmp expect actual
'

mock_start --model claude-test --max-requests 3 --max-body 1000

test_expect_success '--max-requests: one more is a 400' '
	bad_create "{\"requests\":[$(req a),$(req b),$(req c),$(req d)]}" "requests: List should have at most 3 items after validation, not 4" &&
	api POST /v1/messages/batches -o body -w "%{http_code}\n" \
		--data-binary "{\"requests\":[$(req a),$(req b),$(req c)]}" >code &&
	echo 200 >expect && test_cmp expect code
'

test_expect_success '--max-body: a larger body is a 413 request_too_large' '
	{ printf "{\"requests\":["; req a "$(printf "%01000d" 0)"; printf "]}"; } >big.json &&
	api POST /v1/messages/batches --data-binary @big.json -o body -w "%{http_code}\n" >code &&
	echo 413 >expect && test_cmp expect code &&
	test "$(jq -r .error.type body)" = request_too_large &&
	api POST /v1/messages/batches -H "Transfer-Encoding: chunked" --data-binary @big.json \
		-o body -w "%{http_code}\n" >code &&
	test_cmp expect code &&
	test "$(jq -r .error.type body)" = request_too_large &&
	curl -sS "$MOCK_URL/_mock/stats" | jq .creates >actual &&
	echo 1 >expect && test_cmp expect actual
'

mock_stop

test_expect_success "bt-mock wrote nothing on stderr (no warnings, no valgrind errors)" '
	! grep -E "==[0-9]+==|bt-mock:" "$TRASH/mock.log"
'

test_done
