#!/bin/sh
# bt-join: every record out once, in order, with its outcome.
. "${0%/*}/lib.sh"

cat >records.jsonl <<\EOF_
{"id":"a","text":"first"}
{"id":"b","text":"second"}

{"id":"c","text":"third"}
"a string record"
{"id":"e","text":"fifth","response":"old"}
EOF_

ok() { printf '{"custom_id":"%s","result":{"type":"succeeded","message":{"id":"msg_1","type":"message","role":"assistant","model":"m","content":[{"type":"text","text":"%s"}],"stop_reason":"%s","stop_sequence":null,"usage":{"input_tokens":1,"output_tokens":1}}}}\n' "$1" "$2" "${3:-end_turn}"; }
err() { printf '{"custom_id":"%s","result":{"type":"errored","error":{"type":"error","error":{"type":"%s","message":"%s"},"request_id":"req_x"}}}\n' "$1" "$2" "$3"; }
other() { printf '{"custom_id":"%s","result":{"type":"%s"}}\n' "$1" "$2"; }

test_expect_success 'each record once, in order, with response, status and error' '
	{ ok a "answer a"; err b overloaded_error Overloaded; other c expired; other zz canceled; ok e "answer e"; } >results.jsonl &&
	bt-join --id "if type == \"object\" then .id else \"s\" end" records.jsonl <results.jsonl >actual 2>err &&
	cat >expect <<-\EXP &&
	{"id":"a","text":"first","response":"answer a","status":"succeeded"}
	{"id":"b","text":"second","response":null,"status":"errored","error":"overloaded_error: Overloaded"}
	{"id":"c","text":"third","response":null,"status":"expired","error":"expired: the batch expired before this request was done"}
	{"record":"a string record","response":null,"status":"missing","error":"missing: no result came back for this record"}
	{"id":"e","text":"fifth","response":"answer e","status":"succeeded"}
	EXP
	test_cmp expect actual &&
	echo "bt-join: 5 records: 2 succeeded, 1 errored (1 overloaded_error), 1 expired, 1 missing; 1 result matched no record" >expect.err &&
	test_cmp expect.err err
'

test_expect_success 'without --id, records are numbered as bt-format numbers them' '
	{ ok 1 one; ok 2 two; ok 3 three; ok 4 four; ok 5 five; } >numbered.jsonl &&
	bt-join records.jsonl <numbered.jsonl | jq -r .response >actual &&
	printf "one\ntwo\nthree\nfour\nfive\n" >expect &&
	test_cmp expect actual
'

test_expect_success 'ids made by the rule: the same as bt-format makes' '
	printf "{\"k\":\"order 17/b\",\"t\":\"x\"}\n{\"k\":42,\"t\":\"y\"}\n" >odd.jsonl &&
	bt-format -m m --id .k -p .t odd.jsonl | jq -r .custom_id >ids &&
	{ ok "$(sed -n 1p ids)" first; ok "$(sed -n 2p ids)" second; } >odd-results.jsonl &&
	bt-join --id .k odd.jsonl <odd-results.jsonl | jq -r .response >actual &&
	printf "first\nsecond\n" >expect &&
	test_cmp expect actual
'

test_expect_success 'rounds of results: a success beats any failure, else the last wins' '
	printf "{\"id\":\"p\"}\n{\"id\":\"q\"}\n{\"id\":\"r\"}\n" >rounds.jsonl &&
	{ err p api_error boom; ok p fine; other p expired;
	  other q expired; err q overloaded_error late;
	  ok r one; ok r two; } >rounds-results.jsonl &&
	bt-join --id .id rounds.jsonl <rounds-results.jsonl >actual 2>/dev/null &&
	cat >expect <<-\EXP &&
	{"id":"p","response":"fine","status":"succeeded"}
	{"id":"q","response":null,"status":"errored","error":"overloaded_error: late"}
	{"id":"r","response":"two","status":"succeeded"}
	EXP
	test_cmp expect actual
'

test_expect_success 'text blocks are joined; a single tool_use gives its input' '
	printf "{\"id\":\"t\"}\n{\"id\":\"u\"}\n" >tools.jsonl &&
	cat >tools-results.jsonl <<-\RES &&
	{"custom_id":"t","result":{"type":"succeeded","message":{"content":[{"type":"text","text":"a"},{"type":"text","text":"b"}],"stop_reason":"end_turn"}}}
	{"custom_id":"u","result":{"type":"succeeded","message":{"content":[{"type":"text","text":"Let me record it."},{"type":"tool_use","id":"toolu_1","name":"record","input":{"name":"Ann","n":[1,2]}}],"stop_reason":"tool_use"}}}
	RES
	bt-join --id .id tools.jsonl <tools-results.jsonl >actual &&
	cat >expect <<-\EXP &&
	{"id":"t","response":"ab","status":"succeeded"}
	{"id":"u","response":{"name":"Ann","n":[1,2]},"status":"succeeded"}
	EXP
	test_cmp expect actual
'

test_expect_success '--as renames response; --map replaces the merge, with $result' '
	bt-join --id .id --as label tools.jsonl <tools-results.jsonl | jq -c keys >actual &&
	printf "%s\n" "[\"id\",\"label\",\"status\"]" "[\"id\",\"label\",\"status\"]" >expect &&
	test_cmp expect actual &&
	bt-join --id .id --map "{id, stop: \$result.result.message.stop_reason}" tools.jsonl <tools-results.jsonl >actual &&
	printf "%s\n" "{\"id\":\"t\",\"stop\":\"end_turn\"}" "{\"id\":\"u\",\"stop\":\"tool_use\"}" >expect &&
	test_cmp expect actual &&
	printf "{\"id\":\"none\"}\n" >none.jsonl &&
	bt-join --id .id --map "\$result" none.jsonl <tools-results.jsonl >actual 2>/dev/null &&
	echo null >expect && test_cmp expect actual
'

test_expect_success '--strict exits 3 unless every record succeeded' '
	test_expect_code 3 bt-join --strict --id .id rounds.jsonl <rounds-results.jsonl >/dev/null 2>&1 &&
	bt-join --strict --id .id tools.jsonl <tools-results.jsonl >/dev/null
'

test_expect_success 'quiet when every record succeeded; -v says it anyway' '
	bt-join --id .id tools.jsonl <tools-results.jsonl >/dev/null 2>err &&
	test_must_be_empty err &&
	bt-join -v --id .id tools.jsonl <tools-results.jsonl >/dev/null 2>err &&
	echo "bt-join: 2 records: 2 succeeded" >expect && test_cmp expect err
'

test_expect_success 'results from a file, from a pipe, with CRLF and blank lines: the same' '
	bt-join --id .id --results rounds-results.jsonl rounds.jsonl >a 2>/dev/null &&
	cat rounds-results.jsonl | bt-join --id .id rounds.jsonl >b 2>/dev/null &&
	{ sed "s/\$/\r/" rounds-results.jsonl; echo; } | bt-join --id .id rounds.jsonl >c 2>/dev/null &&
	test_cmp a b && test_cmp a c
'

test_expect_success 'a record whose id cannot be made, and a line that is not JSON, stay in place' '
	printf "{\"id\":\"a\"}\n{\"id\":null}\nnot json\n" >bad.jsonl &&
	bt-join --id .id bad.jsonl <results.jsonl >actual 2>err &&
	cat >expect <<-\EXP &&
	{"id":"a","response":"answer a","status":"succeeded"}
	{"id":null,"response":null,"status":"invalid","error":"--id: the id is null"}
	{"record":"not json","response":null,"status":"invalid","error":"invalid JSON: invalid literal (expected null) at column 1"}
	EXP
	test_cmp expect actual &&
	test_lines 3 actual
'

test_expect_success 'bad input: a result line that is not a result, duplicate record ids' '
	printf "{\"custom_id\":\"a\",\"result\":{\"type\":\"succeeded\"}}\n{\"x\":1}\n" >badres.jsonl &&
	test_expect_code 2 bt-join --id .id records.jsonl <badres.jsonl 2>err &&
	echo "bt-join: stdin:2: not a result (custom_id and result)" >expect && test_cmp expect err &&
	printf "{\"custom_id\":\"a\",\"result\":{\"type\":\"wat\"}}\n" >badtype.jsonl &&
	test_expect_code 2 bt-join --id .id records.jsonl <badtype.jsonl 2>err &&
	echo "bt-join: stdin:1: not a result: no known result.type" >expect && test_cmp expect err &&
	printf "{\"id\":\"x\"}\n{\"id\":\"x\"}\n" >dup.jsonl &&
	test_expect_code 2 bt-join --id .id dup.jsonl <results.jsonl >/dev/null 2>err &&
	echo "bt-join: dup.jsonl:2: duplicate custom_id \"x\" (first at dup.jsonl:1)" >expect && test_cmp expect err
'

test_expect_success 'usage: records are required and cannot be stdin too' '
	test_expect_code 2 bt-join <results.jsonl 2>err &&
	test_grep "no records" err &&
	test_expect_code 2 bt-join - <results.jsonl 2>err &&
	test_grep "results are on stdin" err &&
	test_expect_code 2 bt-join nosuch.jsonl <results.jsonl 2>err &&
	echo "bt-join: nosuch.jsonl: No such file or directory" >expect && test_cmp expect err
'

test_expect_success '-R joins raw text lines' '
	printf "alpha\n\nbeta\n" >lines.txt &&
	{ ok 1 A; ok 2 B; } >raw-results.jsonl &&
	bt-join -R lines.txt <raw-results.jsonl >actual &&
	printf "%s\n" "{\"record\":\"alpha\",\"response\":\"A\",\"status\":\"succeeded\"}" "{\"record\":\"beta\",\"response\":\"B\",\"status\":\"succeeded\"}" >expect &&
	test_cmp expect actual
'

test_expect_success 'a closed pipe ends it quietly' '
	perl -e "print qq({\"n\":\$_}\n) for 1..100000" >many.jsonl &&
	{ bt-join many.jsonl <results.jsonl 2>err; echo $? >status; } | head -n 1 >/dev/null &&
	echo 141 >expect && test_cmp expect status
'

test_expect_success 'a full disk: exit 1, said' '
	test_expect_code 1 bt-join --id .id tools.jsonl <tools-results.jsonl >/dev/full 2>err &&
	echo "bt-join: write error on standard output: No space left on device" >expect &&
	test_cmp expect err
'

test_expect_success 'one precedence rule: an uncut success beats a cut one, which beats a failure, in any order' '
	printf "{\"id\":\"p\"}\n{\"id\":\"q\"}\n{\"id\":\"r\"}\n" >prec.jsonl &&
	{ ok p whole; ok p cut max_tokens; err q api_error x; ok q cut2 max_tokens; err q api_error y; ok r first; ok r second; } >prec1 &&
	{ ok p cut max_tokens; ok p whole; ok q cut2 max_tokens; err q api_error y; ok r first; ok r second; } >prec2 &&
	bt-join --id .id prec.jsonl <prec1 | jq -c "[.id, .response]" >actual1 &&
	bt-join --id .id prec.jsonl <prec2 | jq -c "[.id, .response]" >actual2 &&
	printf "[\"p\",\"whole\"]\n[\"q\",\"cut2\"]\n[\"r\",\"second\"]\n" >expect &&
	test_cmp expect actual1 && test_cmp expect actual2 &&
	printf "{\"custom_id\":\"p\",\"params\":{}}\n{\"custom_id\":\"q\",\"params\":{}}\n" >prec.req &&
	bt-retry --results prec1 prec.req >none &&
	test_must_be_empty none &&
	bt-retry --truncated --results prec2 prec.req | jq -r .custom_id >again &&
	echo q >expect && test_cmp expect again
'

test_done
