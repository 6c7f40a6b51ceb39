#!/bin/sh
# bt-mock: listing batches, newest first, with paging
. "${0%/*}/lib.sh"

create() {
	api POST /v1/messages/batches --data-binary \
		'{"requests":[{"custom_id":"a","params":{"model":"m","max_tokens":5,"messages":[{"role":"user","content":"hi"}]}}]}' |
	jq -r .id
}

mock_start --processing-time 0.2

test_expect_success 'empty list' '
	api GET /v1/messages/batches >list &&
	jq -c . list >actual &&
	echo "{\"data\":[],\"has_more\":false,\"first_id\":null,\"last_id\":null}" >expect &&
	test_cmp expect actual
'

test_expect_success 'list: newest first, default limit 20' '
	i=0 && while [ $i -lt 25 ]; do create >>created || exit 1; i=$((i+1)); done &&
	test_lines 25 created &&
	tac created >newest &&
	api GET /v1/messages/batches >list &&
	jq -r ".data[].id" list >actual &&
	head -n 20 newest >expect && test_cmp expect actual &&
	jq -c "[.has_more, .first_id, .last_id]" list >actual &&
	echo "[true,\"$(sed -n 1p newest)\",\"$(sed -n 20p newest)\"]" >expect &&
	test_cmp expect actual &&
	jq -e ".data[0] | keys_unsorted == [\"id\",\"type\",\"processing_status\",\"request_counts\",\"ended_at\",\"created_at\",\"expires_at\",\"cancel_initiated_at\",\"archived_at\",\"results_url\"]" list
'

test_expect_success 'list: after_id pages to older batches until has_more is false' '
	api GET "/v1/messages/batches?limit=10" >p1 &&
	api GET "/v1/messages/batches?limit=10&after_id=$(jq -r .last_id p1)" >p2 &&
	api GET "/v1/messages/batches?limit=10&after_id=$(jq -r .last_id p2)" >p3 &&
	jq -r ".data[].id" p1 p2 p3 >actual &&
	test_cmp newest actual &&
	jq -c "[.has_more, (.data|length)]" p1 p2 p3 >actual &&
	printf "%s\n" "[true,10]" "[true,10]" "[false,5]" >expect &&
	test_cmp expect actual
'

test_expect_success 'list: before_id gives the page just before it (newer)' '
	id=$(sed -n 15p newest) &&
	api GET "/v1/messages/batches?limit=3&before_id=$id" >b &&
	jq -r ".data[].id" b >actual &&
	sed -n 12,14p newest >expect && test_cmp expect actual &&
	test "$(jq .has_more b)" = true &&
	api GET "/v1/messages/batches?limit=5&before_id=$(sed -n 3p newest)" >b &&
	jq -r ".data[].id" b >actual &&
	sed -n 1,2p newest >expect && test_cmp expect actual &&
	test "$(jq .has_more b)" = false &&
	api GET "/v1/messages/batches?before_id=$(sed -n 1p newest)" >b &&
	jq -c . b >actual &&
	echo "{\"data\":[],\"has_more\":false,\"first_id\":null,\"last_id\":null}" >expect &&
	test_cmp expect actual
'

test_expect_success 'list: limit bounds, bad limit and unknown cursor are 400' '
	api GET "/v1/messages/batches?limit=1000" | jq ".data|length" >actual &&
	echo 25 >expect && test_cmp expect actual &&
	api GET "/v1/messages/batches?limit=1" | jq -c "[(.data|length), .has_more]" >actual &&
	echo "[1,true]" >expect && test_cmp expect actual &&
	for q in limit=0 limit=1001 limit=x "after_id=msgbatch_nope" "before_id=msgbatch_nope"; do
		api GET "/v1/messages/batches?$q" -o body -w "%{http_code}\n" >code &&
		echo 400 >expect && test_cmp expect code &&
		test "$(jq -r .error.type body)" = invalid_request_error || exit 1
	done
'

test_expect_success 'list: batches show their current state' '
	sleep 0.3 &&
	api GET "/v1/messages/batches?limit=1000" | jq -r ".data[].processing_status" | sort -u >actual &&
	echo ended >expect && test_cmp expect actual
'

test_expect_success 'list: a deleted batch is gone from the list' '
	id=$(sed -n 1p newest) &&
	api DELETE "/v1/messages/batches/$id" >/dev/null &&
	api GET "/v1/messages/batches?limit=1000" | jq -r ".data[].id" >actual &&
	sed 1d newest >expect && test_cmp expect actual &&
	curl -sS "$MOCK_URL/_mock/stats" | jq -c "[.batches, .creates, .requests, .faults]" >actual &&
	echo "[24,25,24,0]" >expect && test_cmp expect actual &&
	h1=$(curl -sS "$MOCK_URL/_mock/stats" | jq .http) &&
	api GET /v1/messages/batches >/dev/null &&
	api GET /v1/nowhere >/dev/null &&
	h2=$(curl -sS "$MOCK_URL/_mock/stats" | jq .http) &&
	test "$h2" -eq $((h1 + 1))
'

mock_stop

test_expect_success "bt-mock wrote nothing on stderr (no warnings, no valgrind errors)" '
	! grep -E "==[0-9]+==|bt-mock:" "$TRASH/mock.log"
'

test_done
