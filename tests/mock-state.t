#!/bin/sh
# bt-mock: --state-dir persistence, ids across restarts, --queue-limit
. "${0%/*}/lib.sh"

body() {
	perl -e 'print "{\"requests\":[", join(",", map {
		"{\"custom_id\":\"r$_\",\"params\":{\"model\":\"m\",\"max_tokens\":9,\"messages\":[{\"role\":\"user\",\"content\":\"n $_\"}]}}"
		} 1..$ARGV[0]), "]}"' "$1"
}

mock_start --state-dir state --processing-time 0.3

test_expect_success 'state-dir: make two batches, one ended with results' '
	body 3 >b3 && body 2 >b2 &&
	api POST /v1/messages/batches --data-binary @b3 | jq -r .id >id1 &&
	sleep 0.4 &&
	api GET "/v1/messages/batches/$(cat id1)" >g1 &&
	test "$(jq -r .processing_status g1)" = ended &&
	api GET "/v1/messages/batches/$(cat id1)/results" >r1 &&
	test_lines 3 r1 &&
	api POST /v1/messages/batches --data-binary @b2 | jq -r .id >id2 &&
	api GET /v1/messages/batches >list1
'

mock_start --state-dir state --processing-time 0.3

test_expect_success 'state-dir: a restart keeps batches, states and results' '
	api GET "/v1/messages/batches/$(cat id1)" >g1b &&
	jq -c "del(.results_url)" g1 >expect &&
	jq -c "del(.results_url)" g1b >actual &&
	test_cmp expect actual &&
	api GET "/v1/messages/batches/$(cat id1)/results" >r1b &&
	test_cmp r1 r1b &&
	api GET /v1/messages/batches | jq -r ".data[].id" >ids &&
	{ cat id2 id1; } >expect && test_cmp expect ids &&
	sleep 0.3 &&
	api GET "/v1/messages/batches/$(cat id2)" | jq -c .request_counts >actual &&
	echo "{\"processing\":0,\"succeeded\":2,\"errored\":0,\"canceled\":0,\"expired\":0}" >expect &&
	test_cmp expect actual
'

test_expect_success 'state-dir: new ids stay unique after a restart' '
	api POST /v1/messages/batches --data-binary @b2 | jq -r .id >id3 &&
	cat id1 id2 id3 | sort -u >u &&
	test_lines 3 u
'

mock_stop
rm -rf state
mock_start --state-dir state

test_expect_success 'a fresh state dir with the same seed gives new ids, never one given before' '
	api POST /v1/messages/batches --data-binary @b2 | jq -r .id >again &&
	test_grep "^msgbatch_[A-Za-z0-9]{24}$" again &&
	cat id1 id2 id3 again | sort -u >u &&
	test_lines 4 u
'

mock_stop
mock_start --processing-time 0.1

# ended ID: wait (at most 10 s) for batch ID to end
ended() {
	_i=0
	while [ $_i -lt 200 ]; do
		[ "$(mock_status "$1")" = ended ] && return 0
		sleep 0.05; _i=$((_i + 1))
	done
	echo "batch $1 did not end"; return 1
}

test_expect_success 'a start without a state dir: five batches and a message' '
	for i in 1 2 3 4 5; do api POST /v1/messages/batches --data-binary @b2 | jq -r .id; done >start1 &&
	api POST /v1/messages --data-binary "{\"model\":\"m\",\"max_tokens\":9,\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}]}" >m1 &&
	test_lines 5 start1 &&
	ended "$(head -n 1 start1)" &&
	api GET "/v1/messages/batches/$(head -n 1 start1)/results" >res1 &&
	test_lines 2 res1
'

mock_stop
mock_start --processing-time 0.1

test_expect_success 'another start: batch and message ids disjoint from the first start'"'"'s, the same outcomes' '
	for i in 1 2 3 4 5; do api POST /v1/messages/batches --data-binary @b2 | jq -r .id; done >start2 &&
	api POST /v1/messages --data-binary "{\"model\":\"m\",\"max_tokens\":9,\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}]}" >m2 &&
	sort start1 start2 | uniq -d >common &&
	test_must_be_empty common &&
	test "$(jq -r .id m1)" != "$(jq -r .id m2)" &&
	mask m1 >a && mask m2 >b && test_cmp a b &&
	ended "$(head -n 1 start2)" &&
	api GET "/v1/messages/batches/$(head -n 1 start2)/results" >res2 &&
	jq -r ".result.message.id" res1 res2 | sort | uniq -d >common &&
	test_must_be_empty common &&
	mask res1 >a && mask res2 >b && test_cmp a b
'

mock_start --queue-limit 5 --processing-time 2

test_expect_success '--queue-limit: more waiting requests than the limit is a 429' '
	api POST /v1/messages/batches --data-binary @b3 -o /dev/null -w "%{http_code}\n" >code &&
	echo 200 >expect && test_cmp expect code &&
	api POST /v1/messages/batches --data-binary @b3 -D hdr -o body -w "%{http_code}\n" >code &&
	echo 429 >expect && test_cmp expect code &&
	test "$(jq -r .error.type body)" = rate_limit_error &&
	tr -d "\r" <hdr | tr A-Z a-z | test_grep "^retry-after: " - &&
	api POST /v1/messages/batches --data-binary @b2 -o /dev/null -w "%{http_code}\n" >code &&
	echo 200 >expect && test_cmp expect code
'

mock_stop

test_expect_success "bt-mock wrote nothing on stderr (no warnings, no valgrind errors)" '
	! grep -E "==[0-9]+==|bt-mock:" "$TRASH/mock.log"
'

test_done
