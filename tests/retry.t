#!/bin/sh
# bt-retry: the requests worth another try, from their results.
. "${0%/*}/lib.sh"

# Thirteen requests, one per outcome.  Line 2 is spaced out and not ASCII:
# without --set, lines come out byte for byte as they are here.
cat >requests.jsonl <<\EOF_
{"custom_id":"api","params":{"model":"m","max_tokens":16,"messages":[{"role":"user","content":"1"}]}}
{"custom_id": "over",  "params": {"model": "m", "max_tokens": 16, "messages": [{"role": "user", "content": "zwei \u00e9 é"}]}}
{"custom_id":"rate","params":{"model":"m","max_tokens":16,"messages":[{"role":"user","content":"3"}]}}
{"custom_id":"timeout","params":{"model":"m","max_tokens":16,"messages":[{"role":"user","content":"4"}]}}
{"custom_id":"invalid","params":{"model":"m","messages":[{"role":"user","content":"5"}]}}
{"custom_id":"auth","params":{"model":"m","max_tokens":16,"messages":[{"role":"user","content":"6"}]}}
{"custom_id":"perm","params":{"model":"m","max_tokens":16,"messages":[{"role":"user","content":"7"}]}}
{"custom_id":"billing","params":{"model":"m","max_tokens":16,"messages":[{"role":"user","content":"8"}]}}
{"custom_id":"expired","params":{"model":"m","max_tokens":16,"messages":[{"role":"user","content":"9"}]}}
{"custom_id":"canceled","params":{"model":"m","max_tokens":16,"messages":[{"role":"user","content":"10"}]}}
{"custom_id":"missing","params":{"model":"m","max_tokens":16,"messages":[{"role":"user","content":"11"}]}}
{"custom_id":"done","params":{"model":"m","max_tokens":16,"messages":[{"role":"user","content":"12"}]}}
{"custom_id":"cut","params":{"model":"m","max_tokens":16,"messages":[{"role":"user","content":"13"}]}}
EOF_

# Their results, in another order, as the API gives them.
cat >results.jsonl <<\EOF_
{"custom_id":"cut","result":{"type":"succeeded","message":{"id":"msg_2","type":"message","role":"assistant","model":"m","content":[{"type":"text","text":"Once upon"}],"stop_reason":"max_tokens","stop_sequence":null,"usage":{"input_tokens":5,"output_tokens":16}}}}
{"custom_id":"canceled","result":{"type":"canceled"}}
{"custom_id":"billing","result":{"type":"errored","error":{"type":"error","error":{"type":"billing_error","message":"Your credit balance is too low"},"request_id":"req_8"}}}
{"custom_id":"timeout","result":{"type":"errored","error":{"type":"error","error":{"type":"timeout_error","message":"Request timed out"},"request_id":"req_4"}}}
{"custom_id":"api","result":{"type":"errored","error":{"type":"error","error":{"type":"api_error","message":"Internal server error"},"request_id":"req_1"}}}
{"custom_id":"invalid","result":{"type":"errored","error":{"type":"error","error":{"type":"invalid_request_error","message":"max_tokens: Field required"},"request_id":"req_5"}}}
{"custom_id":"done","result":{"type":"succeeded","message":{"id":"msg_1","type":"message","role":"assistant","model":"m","content":[{"type":"text","text":"Hi!"}],"stop_reason":"end_turn","stop_sequence":null,"usage":{"input_tokens":5,"output_tokens":2}}}}
{"custom_id":"perm","result":{"type":"errored","error":{"type":"error","error":{"type":"permission_error","message":"Your API key does not have permission to use the specified resource."},"request_id":"req_7"}}}
{"custom_id":"rate","result":{"type":"errored","error":{"type":"error","error":{"type":"rate_limit_error","message":"Number of request tokens has exceeded your per-minute rate limit"},"request_id":"req_3"}}}
{"custom_id":"expired","result":{"type":"expired"}}
{"custom_id":"auth","result":{"type":"errored","error":{"type":"error","error":{"type":"authentication_error","message":"invalid x-api-key"},"request_id":"req_6"}}}
{"custom_id":"over","result":{"type":"errored","error":{"type":"error","error":{"type":"overloaded_error","message":"Overloaded"},"request_id":"req_2"}}}
EOF_

# line N of requests.jsonl
req() {
	sed -n "$1p" requests.jsonl
}

cat >held.expect <<\EOF_
bt-retry: requests.jsonl:5: invalid: held back: invalid_request_error: max_tokens: Field required
bt-retry: requests.jsonl:6: auth: held back: authentication_error: invalid x-api-key
bt-retry: requests.jsonl:7: perm: held back: permission_error: Your API key does not have permission to use the specified resource.
bt-retry: requests.jsonl:8: billing: held back: billing_error: Your credit balance is too low
EOF_

test_expect_success 'retryable errors, expired, canceled and missing are taken, byte for byte, in REQUESTS order' '
	{ req 1 && req 2 && req 3 && req 4 && req 9 && req 10 && req 11; } >expect &&
	bt-retry requests.jsonl <results.jsonl >actual 2>err &&
	test_cmp expect actual
'

test_expect_success 'errors that need a person are held back and named on stderr, with a summary' '
	cp held.expect expect &&
	echo "bt-retry: 13 requests: 7 to retry (1 api_error, 1 canceled, 1 expired, 1 missing, 1 overloaded_error, 1 rate_limit_error, 1 timeout_error), 4 held back, 2 done" >>expect &&
	bt-retry requests.jsonl <results.jsonl >/dev/null 2>actual &&
	test_cmp expect actual
'

test_expect_success 'the summary counts each reason, most first, then by name' '
	cat >r.jsonl <<-\EOF_ &&
	{"custom_id":"a","params":{}}
	{"custom_id":"b","params":{}}
	{"custom_id":"c","params":{}}
	{"custom_id":"d","params":{}}
	{"custom_id":"e","params":{}}
	{"custom_id":"f","params":{}}
	{"custom_id":"g","params":{}}
	EOF_
	cat >res.jsonl <<-\EOF_ &&
	{"custom_id":"c","result":{"type":"errored","error":{"type":"error","error":{"type":"overloaded_error","message":"Overloaded"}}}}
	{"custom_id":"d","result":{"type":"errored","error":{"type":"error","error":{"type":"overloaded_error","message":"Overloaded"}}}}
	{"custom_id":"b","result":{"type":"expired"}}
	{"custom_id":"e","result":{"type":"expired"}}
	{"custom_id":"f","result":{"type":"expired"}}
	{"custom_id":"g","result":{"type":"canceled"}}
	EOF_
	echo "bt-retry: 7 requests: 7 to retry (3 expired, 2 overloaded_error, 1 canceled, 1 missing), 0 held back, 0 done" >expect &&
	bt-retry -v r.jsonl <res.jsonl >out 2>actual &&
	test_cmp expect actual &&
	test_cmp r.jsonl out
'

test_expect_success 'quiet when nothing is held back' '
	head -n 4 requests.jsonl >four.jsonl &&
	grep -E "\"(api|over|rate|timeout)\"" results.jsonl >four.res &&
	bt-retry four.jsonl <four.res >out 2>err &&
	test_lines 4 out &&
	test_must_be_empty err
'

test_expect_success 'other errors that are not retryable are held back too' '
	cat >r.jsonl <<-\EOF_ &&
	{"custom_id":"nf","params":{}}
	{"custom_id":"big","params":{}}
	{"custom_id":"odd","params":{}}
	{"custom_id":"bare","params":{}}
	EOF_
	cat >res.jsonl <<-\EOF_ &&
	{"custom_id":"nf","result":{"type":"errored","error":{"type":"error","error":{"type":"not_found_error","message":"no such model"}}}}
	{"custom_id":"big","result":{"type":"errored","error":{"type":"error","error":{"type":"request_too_large","message":"Request exceeds the maximum size"}}}}
	{"custom_id":"odd","result":{"type":"errored","error":{"type":"error","error":{"type":"some_new_error","message":"line one\nline two"}}}}
	{"custom_id":"bare","result":{"type":"errored","error":{"type":"error","error":{"type":"not_found_error"}}}}
	EOF_
	cat >expect <<-\EOF_ &&
	bt-retry: r.jsonl:1: nf: held back: not_found_error: no such model
	bt-retry: r.jsonl:2: big: held back: request_too_large: Request exceeds the maximum size
	bt-retry: r.jsonl:3: odd: held back: some_new_error: line one line two
	bt-retry: r.jsonl:4: bare: held back: not_found_error
	bt-retry: 4 requests: 0 to retry, 4 held back, 0 done
	EOF_
	bt-retry r.jsonl <res.jsonl >out 2>actual &&
	test_cmp expect actual &&
	test_must_be_empty out
'

test_expect_success 'thirty held back for one reason: one line and a count, each with -v' '
	for i in $(seq 1 30); do
		echo "{\"custom_id\":\"r$i\",\"params\":{}}"
	done >r30.jsonl &&
	for i in $(seq 1 30); do
		echo "{\"custom_id\":\"r$i\",\"result\":{\"type\":\"errored\",\"error\":{\"type\":\"error\",\"error\":{\"type\":\"not_found_error\",\"message\":\"model: claude-haiku-4.5\"}}}}"
	done >res30.jsonl &&
	echo "{\"custom_id\":\"r7\",\"result\":{\"type\":\"errored\",\"error\":{\"type\":\"error\",\"error\":{\"type\":\"billing_error\",\"message\":\"pay\"}}}}" >>res30.jsonl &&
	cat >expect <<-\EOF_ &&
	bt-retry: r30.jsonl:1: r1: held back: not_found_error: model: claude-haiku-4.5
	bt-retry: r30.jsonl:7: r7: held back: billing_error: pay
	bt-retry: 28 more held back: not_found_error: model: claude-haiku-4.5 (-v names each)
	bt-retry: 30 requests: 0 to retry, 30 held back, 0 done
	EOF_
	bt-retry r30.jsonl <res30.jsonl >out 2>actual &&
	test_cmp expect actual &&
	test_must_be_empty out &&
	bt-retry -v r30.jsonl <res30.jsonl >out 2>actual &&
	test_lines 31 actual &&
	test_grep "^bt-retry: r30.jsonl:30: r30: held back: not_found_error: model: claude-haiku-4.5\$" actual
'

test_expect_success 'succeeded is not taken; nothing to retry is no output and exit 0' '
	req 12 >r.jsonl &&
	bt-retry r.jsonl <results.jsonl >out 2>err &&
	test_must_be_empty out &&
	echo "bt-retry: 11 results match no request" >expect &&
	test_cmp expect err
'

test_expect_success 'succeeded in round 1, errored in round 2: not taken' '
	cat >r.jsonl <<-\EOF_ &&
	{"custom_id":"x","params":{}}
	EOF_
	cat >res.jsonl <<-\EOF_ &&
	{"custom_id":"x","result":{"type":"succeeded","message":{"content":[],"stop_reason":"end_turn"}}}
	{"custom_id":"x","result":{"type":"errored","error":{"type":"error","error":{"type":"overloaded_error","message":"Overloaded"}}}}
	{"custom_id":"x","result":{"type":"expired"}}
	EOF_
	echo "bt-retry: 1 request: 0 to retry, 0 held back, 1 done" >expect &&
	bt-retry -v r.jsonl <res.jsonl >out 2>actual &&
	test_cmp expect actual &&
	test_must_be_empty out
'

test_expect_success 'errored in round 1, succeeded in round 2: not taken' '
	cat >res.jsonl <<-\EOF_ &&
	{"custom_id":"x","result":{"type":"errored","error":{"type":"error","error":{"type":"invalid_request_error","message":"bad"}}}}
	{"custom_id":"x","result":{"type":"succeeded","message":{"content":[],"stop_reason":"end_turn"}}}
	EOF_
	bt-retry --all-errors r.jsonl <res.jsonl >out 2>err &&
	test_must_be_empty out &&
	test_must_be_empty err
'

test_expect_success 'the last round decides among failures' '
	cat >r.jsonl <<-\EOF_ &&
	{"custom_id":"x","params":{}}
	{"custom_id":"y","params":{}}
	EOF_
	cat >res.jsonl <<-\EOF_ &&
	{"custom_id":"x","result":{"type":"errored","error":{"type":"error","error":{"type":"invalid_request_error","message":"bad"}}}}
	{"custom_id":"y","result":{"type":"expired"}}
	{"custom_id":"x","result":{"type":"expired"}}
	{"custom_id":"y","result":{"type":"errored","error":{"type":"error","error":{"type":"billing_error","message":"pay"}}}}
	EOF_
	echo "{\"custom_id\":\"x\",\"params\":{}}" >expect &&
	echo "bt-retry: r.jsonl:2: y: held back: billing_error: pay" >expect.err &&
	echo "bt-retry: 2 requests: 1 to retry (1 expired), 1 held back, 0 done" >>expect.err &&
	bt-retry r.jsonl <res.jsonl >actual 2>actual.err &&
	test_cmp expect actual &&
	test_cmp expect.err actual.err
'

test_expect_success '--truncated takes a success cut at max_tokens' '
	req 13 >expect &&
	bt-retry --truncated requests.jsonl <results.jsonl >out 2>/dev/null &&
	grep "\"cut\"" out >actual &&
	test_cmp expect actual &&
	test_lines 8 out &&
	bt-retry requests.jsonl <results.jsonl >out2 2>/dev/null &&
	test_lines 7 out2 &&
	test_must_fail grep "\"cut\"" out2
'

test_expect_success '--truncated: a later whole success wins; a later failure does not' '
	cat >r.jsonl <<-\EOF_ &&
	{"custom_id":"x","params":{}}
	{"custom_id":"y","params":{}}
	EOF_
	cat >res.jsonl <<-\EOF_ &&
	{"custom_id":"x","result":{"type":"succeeded","message":{"content":[],"stop_reason":"max_tokens"}}}
	{"custom_id":"y","result":{"type":"succeeded","message":{"content":[],"stop_reason":"max_tokens"}}}
	{"custom_id":"x","result":{"type":"succeeded","message":{"content":[],"stop_reason":"end_turn"}}}
	{"custom_id":"y","result":{"type":"expired"}}
	EOF_
	echo "{\"custom_id\":\"y\",\"params\":{}}" >expect &&
	echo "bt-retry: 2 requests: 1 to retry (1 truncated), 0 held back, 1 done" >expect.err &&
	bt-retry -v --truncated r.jsonl <res.jsonl >actual 2>actual.err &&
	test_cmp expect actual &&
	test_cmp expect.err actual.err
'

test_expect_success '--expired takes only the expired' '
	req 9 >expect &&
	bt-retry --expired requests.jsonl <results.jsonl >actual 2>err &&
	test_cmp expect actual &&
	test_must_be_empty err
'

test_expect_success '--canceled --missing take only those; -v counts the rest as not selected' '
	{ req 10 && req 11; } >expect &&
	echo "bt-retry: 13 requests: 2 to retry (1 canceled, 1 missing), 0 held back, 2 done, 9 not selected" >expect.err &&
	bt-retry -v --canceled --missing requests.jsonl <results.jsonl >actual 2>actual.err &&
	test_cmp expect actual &&
	test_cmp expect.err actual.err
'

test_expect_success '--errored takes only the retryable errors, and holds back the others' '
	{ req 1 && req 2 && req 3 && req 4; } >expect &&
	bt-retry --errored requests.jsonl <results.jsonl >actual 2>err &&
	test_cmp expect actual &&
	head -n 4 err >actual.err &&
	test_cmp held.expect actual.err
'

test_expect_success '--truncated alone keeps the four default kinds' '
	{ req 1 && req 2 && req 3 && req 4 && req 9 && req 10 && req 11 && req 13; } >expect &&
	bt-retry --truncated requests.jsonl <results.jsonl >actual 2>/dev/null &&
	test_cmp expect actual
'

test_expect_success '--all-errors also takes the errors that need a person' '
	{ req 1 && req 2 && req 3 && req 4 && req 5 && req 6 && req 7 && req 8 && req 9 && req 10 && req 11; } >expect &&
	bt-retry --all-errors requests.jsonl <results.jsonl >actual 2>err &&
	test_cmp expect actual &&
	test_must_be_empty err
'

test_expect_success '--all-errors --errored: every error, nothing else' '
	{ req 1 && req 2 && req 3 && req 4 && req 5 && req 6 && req 7 && req 8; } >expect &&
	bt-retry --all-errors --errored requests.jsonl <results.jsonl >actual &&
	test_cmp expect actual
'

test_expect_success '--all-errors without errored results selected is a usage error' '
	test_expect_code 2 bt-retry --all-errors --expired requests.jsonl <results.jsonl >out 2>err &&
	test_grep "^bt-retry: --all-errors: " err &&
	test_must_be_empty out
'

test_expect_success '--set amends the requests taken, as jq -c would print them' '
	{ req 1 && req 2 && req 3 && req 4 && req 9 && req 10 && req 11; } |
		jq -c ".params.max_tokens *= 2" >expect &&
	bt-retry --set ".params.max_tokens *= 2" requests.jsonl <results.jsonl >actual 2>/dev/null &&
	test_cmp expect actual
'

test_expect_success '--set may add params' '
	req 9 | jq -c ".params += {temperature: 0.5, system: \"Be brief.\"}" >expect &&
	bt-retry --expired --set ".params += {temperature: 0.5, system: \"Be brief.\"}" requests.jsonl <results.jsonl >actual &&
	test_cmp expect actual
'

test_expect_success '--set that changes the custom_id: exit 2 naming the line' '
	echo "bt-retry: requests.jsonl:9: --set: changed the custom_id from \"expired\" to \"expired2\"" >expect &&
	test_expect_code 2 bt-retry --expired --set ".custom_id += \"2\"" requests.jsonl <results.jsonl >out 2>actual &&
	test_cmp expect actual
'

test_expect_success '--set that does not give a request: exit 2 naming the line' '
	test_expect_code 2 bt-retry --expired --set ".extra = 1" requests.jsonl <results.jsonl >out 2>err &&
	test_grep "^bt-retry: requests.jsonl:9: --set: did not give a request: " err &&
	test_expect_code 2 bt-retry --expired --set ".params" requests.jsonl <results.jsonl >out 2>err &&
	test_grep "^bt-retry: requests.jsonl:9: --set: " err &&
	test_expect_code 2 bt-retry --expired --set "error(\"no\")" requests.jsonl <results.jsonl >out 2>err &&
	echo "bt-retry: requests.jsonl:9: --set: no" >expect &&
	test_cmp expect err
'

test_expect_success '--set that does not compile: exit 2' '
	test_expect_code 2 bt-retry --set ".params |||" requests.jsonl <results.jsonl >out 2>err &&
	test_grep "^bt-retry: --set: " err &&
	test_must_be_empty out
'

test_expect_success 'results that match no request are counted, not an error' '
	cat >res.jsonl <<-\EOF_ &&
	{"custom_id":"x","result":{"type":"expired"}}
	{"custom_id":"y","result":{"type":"expired"}}
	{"custom_id":"y","result":{"type":"canceled"}}
	{"custom_id":"z","result":{"type":"canceled"}}
	{"custom_id":"done","result":{"type":"succeeded","message":{"content":[],"stop_reason":"end_turn"}}}
	EOF_
	req 12 >r.jsonl &&
	echo "bt-retry: 3 results match no request" >expect &&
	bt-retry r.jsonl <res.jsonl >out 2>actual &&
	test_cmp expect actual &&
	test_must_be_empty out
'

test_expect_success 'a bad result line: exit 2 naming stdin:LINE' '
	head -n 3 results.jsonl >res.jsonl &&
	echo "{\"custom_id\":\"x\",\"result\":" >>res.jsonl &&
	test_expect_code 2 bt-retry requests.jsonl <res.jsonl >out 2>err &&
	test_grep "^bt-retry: stdin:4: invalid JSON" err &&
	test_lines 1 err &&
	test_must_be_empty out
'

test_expect_success 'a line that is not a result: exit 2 naming stdin:LINE' '
	{ head -n 2 results.jsonl && echo "{\"custom_id\":\"x\",\"result\":{\"type\":\"finished\"}}"; } >res.jsonl &&
	echo "bt-retry: stdin:3: not a result: result.type is '"'"'finished'"'"'" >expect &&
	test_expect_code 2 bt-retry requests.jsonl <res.jsonl >out 2>actual &&
	test_cmp expect actual &&
	echo "[1,2]" >res.jsonl &&
	echo "bt-retry: stdin:1: not a result (a JSON object)" >expect &&
	test_expect_code 2 bt-retry requests.jsonl <res.jsonl >out 2>actual &&
	test_cmp expect actual
'

test_expect_success '--results FILE: bad lines are named by the file' '
	{ echo "{\"custom_id\":\"x\",\"result\":{\"type\":\"expired\"}}" && echo "nope"; } >res.jsonl &&
	test_expect_code 2 bt-retry --results res.jsonl requests.jsonl >out 2>err &&
	test_grep "^bt-retry: res.jsonl:2: invalid JSON" err
'

test_expect_success '--results FILE, and requests on stdin as -' '
	{ req 1 && req 2 && req 3 && req 4 && req 9 && req 10 && req 11; } >expect &&
	bt-retry --results results.jsonl requests.jsonl >actual 2>/dev/null &&
	test_cmp expect actual &&
	bt-retry --results results.jsonl - <requests.jsonl >actual2 2>err &&
	test_cmp expect actual2 &&
	test_grep "^bt-retry: stdin:5: invalid: held back: " err
'

test_expect_success 'REQUESTS - without --results: usage error' '
	test_expect_code 2 bt-retry - <requests.jsonl >out 2>err &&
	test_grep "^bt-retry: -: " err &&
	test_expect_code 2 bt-retry <requests.jsonl >out 2>err &&
	test_grep "^bt-retry: no REQUESTS" err
'

test_expect_success 'a REQUESTS file that cannot be opened: exit 2' '
	test_expect_code 2 bt-retry no-such.jsonl <results.jsonl >out 2>err &&
	test_grep "^bt-retry: no-such.jsonl: No such file" err
'

test_expect_success 'a bad request line: exit 2 naming FILE:LINE' '
	{ req 1 && echo "{\"custom_id\":\"bad id\",\"params\":{}}"; } >r.jsonl &&
	test_expect_code 2 bt-retry r.jsonl <results.jsonl >out 2>err &&
	test_grep "^bt-retry: r.jsonl:2: " err &&
	test_lines 1 err &&
	{ req 1 && req 2 && echo "{\"custom_id\":\"q\",\"params\":{}"; } >r.jsonl &&
	test_expect_code 2 bt-retry r.jsonl <results.jsonl >out 2>err &&
	test_grep "^bt-retry: r.jsonl:3: " err &&
	{ req 1 && echo "{\"custom_id\":\"q\"}"; } >r.jsonl &&
	test_expect_code 2 bt-retry r.jsonl <results.jsonl >out 2>err &&
	test_grep "^bt-retry: r.jsonl:2: " err
'

test_expect_success 'a request with bad UTF-8: exit 2 naming FILE:LINE and the column' '
	{ req 1 && printf "{\"custom_id\":\"over\",\"params\":{\"t\":\"\300\257\"}}\n"; } >r.jsonl &&
	test_expect_code 2 bt-retry r.jsonl <results.jsonl >out 2>err &&
	echo "bt-retry: r.jsonl:2: invalid UTF-8 at column 36" >expect &&
	test_cmp expect err
'

test_expect_success 'a duplicate custom_id across REQUESTS files: exit 2 naming both lines' '
	{ echo "{\"custom_id\":\"new\",\"params\":{}}" && req 9; } >more.jsonl &&
	echo "bt-retry: more.jsonl:2: duplicate custom_id \"expired\" (first at requests.jsonl:9)" >expect &&
	test_expect_code 2 bt-retry requests.jsonl more.jsonl <results.jsonl >out 2>err &&
	tail -n 1 err >actual &&
	test_cmp expect actual
'

test_expect_success 'several REQUESTS files: their order, one after the other' '
	{ req 11 && req 12 && req 1; } >one.jsonl &&
	{ req 10 && req 2; } >two.jsonl &&
	cat two.jsonl one.jsonl | grep -v "\"done\"" >expect &&
	bt-retry two.jsonl one.jsonl <results.jsonl >actual &&
	test_cmp expect actual
'

test_expect_success 'CRLF and blank lines in results are tolerated' '
	{ echo && sed "s/\$/\r/" results.jsonl && printf "\r\n  \n"; } >crlf.jsonl &&
	bt-retry requests.jsonl <results.jsonl >expect 2>expect.err &&
	bt-retry requests.jsonl <crlf.jsonl >actual 2>actual.err &&
	test_cmp expect actual &&
	test_cmp expect.err actual.err
'

test_expect_success 'blank lines and CRLF in REQUESTS: lines come out with a bare newline' '
	{ req 9 | sed "s/\$/\r/" && echo && req 10; } >r.jsonl &&
	{ req 9 && req 10; } >expect &&
	bt-retry r.jsonl <results.jsonl >actual 2>/dev/null &&
	test_cmp expect actual
'

test_expect_success 'a last line without its newline' '
	req 9 | tr -d "\n" >r.jsonl &&
	req 9 >expect &&
	bt-retry r.jsonl <results.jsonl >actual 2>/dev/null &&
	test_cmp expect actual
'

test_expect_success '--strict: exit 3 when some were held back' '
	{ req 1 && req 2 && req 3 && req 4 && req 9 && req 10 && req 11; } >expect &&
	test_expect_code 3 bt-retry --strict requests.jsonl <results.jsonl >actual 2>err &&
	test_cmp expect actual &&
	test_grep "4 held back" err &&
	test_expect_code 0 bt-retry --strict --all-errors requests.jsonl <results.jsonl >/dev/null &&
	test_expect_code 0 bt-retry --strict four.jsonl <four.res >/dev/null
'

test_expect_success '-h prints the usage; an unknown option is a usage error' '
	bt-retry -h >out &&
	test_grep "^usage: bt-retry " out &&
	test_expect_code 2 bt-retry --bogus requests.jsonl <results.jsonl >out 2>err &&
	test_grep "usage: bt-retry" err
'

test_expect_success 'a closed pipe ends it quietly' '
	awk "BEGIN { for (i = 1; i <= 50000; i++) printf \"{\\\"custom_id\\\":\\\"r%d\\\",\\\"params\\\":{\\\"model\\\":\\\"m\\\",\\\"max_tokens\\\":16,\\\"messages\\\":[{\\\"role\\\":\\\"user\\\",\\\"content\\\":\\\"request number %d\\\"}]}}\\n\", i, i }" >many.jsonl &&
	head -n 1 many.jsonl >expect &&
	{ bt-retry many.jsonl </dev/null 2>err; echo $? >status; } | head -n 1 >actual &&
	test_cmp expect actual &&
	echo 141 >expect.status &&
	test_cmp expect.status status &&
	test_must_be_empty err
'

test_expect_success 'a full disk: exit 1, said' '
	printf "%s\n" "{\"custom_id\":\"z\",\"params\":{\"model\":\"m\",\"max_tokens\":5,\"messages\":[]}}" >full.jsonl &&
	test_expect_code 1 bt-retry --results /dev/null full.jsonl >/dev/full 2>err &&
	echo "bt-retry: write error on standard output: No space left on device" >expect &&
	test_cmp expect err
'

test_done
