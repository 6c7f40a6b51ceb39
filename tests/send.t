#!/bin/sh
# bt-send: requests through the synchronous Messages API, results out in
# the batch results format, retries by the one rule, resumable.
. "${0%/*}/lib.sh"

mock_start || exit 1
requests() { perl -e 'print qq({"custom_id":"'$1'$_","params":{"model":"claude-haiku-4-5","max_tokens":20,"messages":[{"role":"user","content":"say '$1' $_"}]}}\n) for 1..'$2; }
# own PREFIX N FILE: FILE has one succeeded result for each of PREFIX1..N,
# each answering its own request
own() {
	perl -e 'print "'$1'$_\n" for 1..'$2 | sort >own.want &&
	jq -r .custom_id "$3" | sort >own.got && test_cmp own.want own.got &&
	jq -r "select(.result.type != \"succeeded\" or .result.message.content[0].text != (\"say \" + (.custom_id | sub(\"^$1\"; \"$1 \")))) | .custom_id" "$3" >own.bad &&
	test_must_be_empty own.bad
}

test_expect_success 'every request answered once, in the results format, service_tier standard' '
	requests a 50 >a.jsonl &&
	bt-send -c 4 <a.jsonl >out 2>err &&
	test_must_be_empty err &&
	own a 50 out &&
	jq -r ".result.message.usage.service_tier" out | sort -u >tier &&
	echo standard >expect && test_cmp expect tier &&
	jq -c "keys" out | sort -u >keys &&
	echo "[\"custom_id\",\"result\"]" >expect && test_cmp expect keys
'

test_expect_success 'bt-join reads it as it reads batch results' '
	perl -e "print qq({\"n\":\$_}\n) for 1..5" >recs.jsonl &&
	bt-format -m claude-haiku-4-5 -p "\"say \(.n)\"" recs.jsonl | bt-send >res 2>/dev/null &&
	bt-join recs.jsonl <res | jq -r "[.n, .response, .status] | @tsv" >actual &&
	printf "1\tsay 1\tsucceeded\n2\tsay 2\tsucceeded\n3\tsay 3\tsucceeded\n4\tsay 4\tsucceeded\n5\tsay 5\tsucceeded\n" >expect &&
	test_cmp expect actual
'

test_expect_success '529, 500 and dropped connections are retried; every answer still its own' '
	requests b 10 >b.jsonl &&
	mock_fault "messages:529*3" "messages:500*2" "messages:drop*2" &&
	bt-send -c 3 <b.jsonl >out 2>err &&
	own b 10 out
'

test_expect_success 'a 429 storm with retry-after is waited out, never a failure' '
	requests c 6 >c.jsonl &&
	mock_fault "messages:429:1*6" &&
	start=$(date +%s.%N) &&
	bt-send -v -c 6 <c.jsonl >out 2>err &&
	end=$(date +%s.%N) &&
	own c 6 out &&
	test_grep "6 sent, 6 answered, 0 errored, 0 in flight, [1-9][0-9]* waits" err &&
	perl -e "exit !($end - $start >= 0.9)"
'

test_expect_success 'other 4xx are errored results at once, with the API'"'"'s envelope' '
	requests d 3 >d.jsonl &&
	before=$(mock_stat http) &&
	mock_fault "messages:400*1" &&
	bt-send -c 1 <d.jsonl >out 2>err &&
	test $(mock_stat http) -eq $((before + 3)) &&
	jq -r "select(.result.type == \"errored\") | [.custom_id, .result.error.type, .result.error.error.type] | @tsv" out >actual &&
	printf "d1\terror\tinvalid_request_error\n" >expect &&
	test_cmp expect actual &&
	jq -r "select(.result.type == \"succeeded\") | .custom_id" out | sort >ok &&
	printf "d2\nd3\n" >expect && test_cmp expect ok
'

test_expect_success 'retries spent: an errored result with the last error' '
	requests e 1 >e.jsonl &&
	mock_fault "messages:529*0" &&
	BT_RETRY_BUDGET=1 bt-send <e.jsonl >out 2>err &&
	curl -sS -X DELETE "$MOCK_URL/_mock/faults" >/dev/null &&
	jq -r "[.custom_id, .result.type, .result.error.error.type] | @tsv" out >actual &&
	printf "e1\terrored\toverloaded_error\n" >expect && test_cmp expect actual
'

test_expect_success '--attempt-timeout: attempts past it are retried, then a timeout_error (by the CURLcode)' '
	requests t 1 >t.jsonl &&
	mock_fault "messages:slow:3*0" &&
	BT_RETRY_BUDGET=1 bt-send --attempt-timeout 0.3s <t.jsonl >out 2>err &&
	curl -sS -X DELETE "$MOCK_URL/_mock/faults" >/dev/null &&
	jq -r "[.custom_id, .result.type, .result.error.error.type] | @tsv" out >actual &&
	printf "t1\terrored\ttimeout_error\n" >expect && test_cmp expect actual &&
	test_grep "^bt-send: POST /v1/messages: .*; retrying in [0-9.]+ s\$" err
'

test_expect_success 'a bad line: exit 2 naming file and line, nothing sent' '
	{ requests f 2; echo "{\"custom_id\":\"f 3\",\"params\":{}}"; } >f.jsonl &&
	before=$(mock_stat http) &&
	test_expect_code 2 bt-send <f.jsonl >out 2>err &&
	echo "bt-send: stdin:3: invalid custom_id \"f 3\": it must match ^[a-zA-Z0-9_-]{1,64}\$" >expect &&
	test_cmp expect err &&
	test_must_be_empty out &&
	{ requests g 2; requests g 1; } >g.jsonl &&
	test_expect_code 2 bt-send g.jsonl >out 2>err &&
	echo "bt-send: g.jsonl:3: duplicate custom_id \"g1\" (first on line 1)" >expect &&
	test_cmp expect err &&
	test $(mock_stat http) -eq $before
'

test_expect_success '-o: killed and run again, every request answered once, no half line' '
	requests h 40 >h.jsonl &&
	mock_fault "messages:slow:0.2*0" &&
	{ bt-send -c 4 -o h.out h.jsonl 2>/dev/null & } && pid=$! &&
	i=0 && until [ -s h.out ] || [ $i -gt 400 ]; do sleep 0.05; i=$((i + 1)); done &&
	kill -9 $pid && { wait $pid; :; } &&
	curl -sS -X DELETE "$MOCK_URL/_mock/faults" >/dev/null &&
	n=$(wc -l <h.out) && test $n -gt 0 && test $n -lt 40 &&
	jq -c . h.out >/dev/null &&
	bt-send -v -c 4 -o h.out h.jsonl >stdout 2>err &&
	test_must_be_empty stdout &&
	test_grep "$n already answered in h.out: not sent again" err &&
	own h 40 h.out
'

test_expect_success 'Ctrl-C: what is in flight is waited for, the rest not sent, exit 1' '
	requests i 30 >i.jsonl &&
	mock_fault "messages:slow:0.5*0" &&
	{ bt-send -c 2 -o i.out i.jsonl 2>err & } && pid=$! &&
	i=0 && until [ -s i.out ] || [ $i -gt 400 ]; do sleep 0.05; i=$((i + 1)); done &&
	kill -INT $pid &&
	test_expect_code 1 wait $pid &&
	curl -sS -X DELETE "$MOCK_URL/_mock/faults" >/dev/null &&
	test_grep "interrupted: [0-9]+ of 30 requests not sent" err &&
	n=$(grep -o "interrupted: [0-9]*" err | grep -o "[0-9]*$") &&
	test $(wc -l <i.out) -eq $((30 - n)) &&
	jq -r .result.type i.out | sort -u >types && echo succeeded >expect && test_cmp expect types
'

test_expect_success 'a closed pipe ends it quietly' '
	requests j 200 >j.jsonl &&
	{ bt-send -c 4 j.jsonl 2>err; echo $? >status; } | head -n 1 >first &&
	test_lines 1 first &&
	echo 141 >expect && test_cmp expect status &&
	test_must_be_empty err
'

test_expect_success 'a full disk: exit 1, said' '
	requests m 3 >m.jsonl &&
	test_expect_code 1 bt-send m.jsonl >/dev/full 2>err &&
	test_grep "^bt-send: stdout: write error: No space left on device" err &&
	test_expect_code 1 bt-send -o /dev/full m.jsonl 2>err &&
	test_grep "^bt-send: /dev/full: write error: No space left on device" err
'

test_expect_success '--attempt-timeout: an attempt that takes longer is given up and retried' '
	requests t 1 >t.jsonl &&
	mock_fault "messages:slow:30*1" &&
	bt-send --attempt-timeout 0.5 t.jsonl >out 2>err &&
	own t 1 out
'

test_expect_success '--timeout, once the limit of one attempt, is refused, never read as a whole run'"'"'s' '
	requests u 1 >u.jsonl &&
	test_expect_code 2 bt-send --timeout 10m u.jsonl >out 2>err &&
	test_must_be_empty out &&
	echo "bt-send: --timeout: the limit of one attempt is now --attempt-timeout (--timeout is a whole run'"'"'s limit, as in bt-wait; see bt(7))" >expect &&
	test_cmp expect err &&
	test_expect_code 2 bt-send --attempt-timeout 0 u.jsonl 2>err &&
	echo "bt-send: --attempt-timeout: must be more than 0" >expect &&
	test_cmp expect err
'

test_expect_success 'usage errors: exit 2' '
	test_expect_code 2 bt-send -c 0 </dev/null 2>err &&
	test_grep "^bt-send: -c" err &&
	test_expect_code 2 bt-send --rpm x </dev/null 2>err &&
	(unset ANTHROPIC_API_KEY; test_expect_code 2 bt-send </dev/null 2>err) &&
	test_grep "no API key" err
'

mock_start -v --rpm 60 --latency 50ms || exit 1
test_expect_success 'bt-mock: past --rpm, a 429 with retry-after; the rate-limit headers on every answer' '
	body="{\"model\":\"claude-haiku-4-5\",\"max_tokens\":5,\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}]}" &&
	api POST /v1/messages -H "content-type: application/json" -d "$body" -D h1 -o /dev/null &&
	test_grep "^anthropic-ratelimit-requests-limit: 60" h1 &&
	test_grep "^anthropic-ratelimit-requests-remaining: 59" h1 &&
	test_grep "^anthropic-ratelimit-requests-reset: 20..-..-..T..:..:..Z" h1 &&
	test_grep "^anthropic-ratelimit-output-tokens-remaining: " h1 &&
	for i in $(seq 1 300); do
		api POST /v1/messages -H "content-type: application/json" -d "$body" \
			-D h2 -o err.json -w "%{http_code}\n" >>codes || exit 1
		if grep -q "^429" codes; then break; fi
	done &&
	test_grep "^429" codes && test "$(grep -c 200 codes)" -ge 58 &&
	test_grep "^retry-after: [1-9]" h2 &&
	jq -r .error.type err.json >type && echo rate_limit_error >expect && test_cmp expect type
'

mock_start -v --rpm 60 --latency 50ms || exit 1
test_expect_success 'bt-send keeps under the limit the headers give: it slows down, no 429' '
	requests k 64 >k.jsonl &&
	: >"$TRASH/mock.log" &&
	bt-send -v -c 8 <k.jsonl >out 2>err &&
	own k 64 out &&
	test_must_fail grep "POST /v1/messages 429" "$TRASH/mock.log" &&
	test_grep "64 sent, 64 answered, 0 errored, 0 in flight, 0 waits" err
'

test_expect_success '--rpm: a ceiling of our own, below the server'"'"'s' '
	requests l 5 >l.jsonl &&
	start=$(date +%s.%N) &&
	bt-send --rpm 120 -c 8 <l.jsonl >out 2>err &&
	end=$(date +%s.%N) &&
	own l 5 out
'

test_done
