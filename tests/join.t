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
	{"id":"a","text":"first","response":"answer a","stop_reason":"end_turn","status":"succeeded"}
	{"id":"b","text":"second","response":null,"status":"errored","error":"overloaded_error: Overloaded"}
	{"id":"c","text":"third","response":null,"status":"expired","error":"expired: the batch expired before this request was done"}
	{"record":"a string record","response":null,"status":"missing","error":"missing: no result came back for this record"}
	{"id":"e","text":"fifth","response":"answer e","stop_reason":"end_turn","status":"succeeded"}
	EXP
	test_cmp expect actual &&
	echo "bt-join: 5 records: 2 succeeded, 1 errored (1 overloaded_error), 1 expired, 1 missing; 1 result matched no record" >expect.err &&
	test_cmp expect.err err
'

test_expect_success 'an empty records file: no output, said on stderr, exit 0' '
	: >none.jsonl &&
	bt-join none.jsonl </dev/null >out 2>err &&
	test_must_be_empty out &&
	echo "bt-join: no records in none.jsonl" >expect &&
	test_cmp expect err
'

test_expect_success 'without --id, records are numbered as bt-format numbers them, with a fingerprint' '
	bt-format -m m -p "tostring" records.jsonl | jq -r .custom_id >ids &&
	n=0 && for a in one two three four five; do
		n=$((n + 1)); ok "$(sed -n ${n}p ids)" $a; done >numbered.jsonl &&
	grep -q "\"custom_id\":\"5-[0-9a-f]\{8\}\"" numbered.jsonl &&
	bt-join records.jsonl <numbered.jsonl 2>err | jq -r .response >actual &&
	printf "one\ntwo\nthree\nfour\nfive\n" >expect &&
	test_cmp expect actual &&
	test_must_be_empty err
'

test_expect_success 'results with old numbered ids ("3") are joined by number, said once' '
	{ ok 1 one; ok 2 two; ok 3 three; ok 4 four; ok 5 five; } >old-numbered.jsonl &&
	bt-join records.jsonl <old-numbered.jsonl >out 2>err &&
	jq -r .response out >actual &&
	printf "one\ntwo\nthree\nfour\nfive\n" >expect &&
	test_cmp expect actual &&
	echo "bt-join: results with old numbered ids (\"1\", made before ids had a fingerprint of the record): they are joined by record number, which cannot tell a records file edited since bt-format (said once)" >expect.err &&
	test_cmp expect.err err &&
	test_expect_code 3 bt-join --id .id records.jsonl <old-numbered.jsonl >out2 2>err2 &&
	! grep -q "old numbered" err2
'

test_expect_success 'an old job half done: old results and new ones, each record joined once' '
	{ ok 1 one; ok "2-$(sed -n 2p ids | cut -d- -f2)" two; err 3 overloaded_error Overloaded; } >mixed.jsonl &&
	bt-join records.jsonl <mixed.jsonl 2>err | jq -c "[.response, .status]" >actual &&
	printf "%s\n" "[\"one\",\"succeeded\"]" "[\"two\",\"succeeded\"]" "[null,\"errored\"]" \
		"[null,\"missing\"]" "[null,\"missing\"]" >expect &&
	test_cmp expect actual &&
	test_lines 2 err
'

test_expect_success 'most results match no record: exit 3, and what is likely wrong' '
	{ ok 1-00000000 one; ok 2-00000000 two; ok 3-00000000 three; } >stale.jsonl &&
	test_expect_code 3 bt-join records.jsonl <stale.jsonl >out 2>err &&
	test_lines 5 out &&
	cat >expect <<-\EXP &&
	bt-join: 5 records: 0 succeeded, 5 missing; 3 results matched no record
	bt-join: 3 of 3 results match no record: is it the right records file, with the options bt-format had (--id, -R), and unchanged since?
	EXP
	test_cmp expect err &&
	{ ok t1 one; ok t2 two; ok t3 three; } >byid.jsonl &&
	test_expect_code 3 bt-join records.jsonl <byid.jsonl >out 2>err &&
	test_grep "^bt-join: 3 of 3 results match no record: their custom_ids are not record numbers: is --id missing \(the one bt-format was given\)\?$" err &&
	test_expect_code 3 bt-join --id .id records.jsonl <numbered.jsonl >out 2>err &&
	test_grep "^bt-join: 5 of 5 results match no record: their custom_ids are record numbers, made by bt-format without --id: drop --id\?$" err &&
	{ ok a one; ok zz two; ok yy three; ok xx four; ok ww five; } >few.jsonl &&
	test_expect_code 3 bt-join --id .id records.jsonl <few.jsonl >out 2>err &&
	{ ok a one; ok b two; ok zz three; } >half.jsonl &&
	bt-join --id .id records.jsonl <half.jsonl >out 2>err &&
	test_lines 1 err
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
	{"id":"p","response":"fine","stop_reason":"end_turn","status":"succeeded"}
	{"id":"q","response":null,"status":"errored","error":"overloaded_error: late"}
	{"id":"r","response":"two","stop_reason":"end_turn","status":"succeeded"}
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
	{"id":"t","response":"ab","stop_reason":"end_turn","status":"succeeded"}
	{"id":"u","response":{"name":"Ann","n":[1,2]},"stop_reason":"tool_use","status":"succeeded"}
	EXP
	test_cmp expect actual
'

test_expect_success '--as renames response; --map replaces the merge, with $result' '
	bt-join --id .id --as label tools.jsonl <tools-results.jsonl | jq -c keys >actual &&
	printf "%s\n" "[\"id\",\"label\",\"status\",\"stop_reason\"]" "[\"id\",\"label\",\"status\",\"stop_reason\"]" >expect &&
	test_cmp expect actual &&
	bt-join --id .id --map "{id, stop: \$result.result.message.stop_reason}" tools.jsonl <tools-results.jsonl >actual &&
	printf "%s\n" "{\"id\":\"t\",\"stop\":\"end_turn\"}" "{\"id\":\"u\",\"stop\":\"tool_use\"}" >expect &&
	test_cmp expect actual &&
	printf "{\"id\":\"none\"}\n" >none.jsonl &&
	test_expect_code 3 bt-join --id .id --map "\$result" none.jsonl <tools-results.jsonl >actual 2>/dev/null &&
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
	{"id":"a","response":"answer a","stop_reason":"end_turn","status":"succeeded"}
	{"id":null,"response":null,"status":"invalid","error":"--id: the id is null"}
	{"record":"not json","response":null,"status":"invalid","error":"invalid JSON: invalid literal (expected null) at column 1"}
	EXP
	test_cmp expect actual &&
	test_lines 3 actual
'

test_expect_success 'bad input: a result line that is not a result, duplicate record ids' '
	printf "{\"custom_id\":\"a\",\"result\":{\"type\":\"succeeded\"}}\n{\"x\":1}\n" >badres.jsonl &&
	test_expect_code 2 bt-join --id .id records.jsonl <badres.jsonl 2>err &&
	echo "bt-join: stdin:2: not a result: no valid custom_id" >expect && test_cmp expect err &&
	printf "{\"custom_id\":\"a\",\"result\":{\"type\":\"wat\"}}\n" >badtype.jsonl &&
	test_expect_code 2 bt-join --id .id records.jsonl <badtype.jsonl 2>err &&
	echo "bt-join: stdin:1: not a result: result.type is '"'"'wat'"'"'" >expect && test_cmp expect err &&
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
	printf "%s\n" "{\"record\":\"alpha\",\"response\":\"A\",\"stop_reason\":\"end_turn\",\"status\":\"succeeded\"}" "{\"record\":\"beta\",\"response\":\"B\",\"stop_reason\":\"end_turn\",\"status\":\"succeeded\"}" >expect &&
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


test_expect_success 'a cut success loses to an uncut one in either order, for bt-join and bt-retry --truncated alike' '
	bt-join --id .id prec.jsonl <prec1 | jq -c "[.id, .response, .stop_reason]" >actual1 &&
	bt-join --id .id prec.jsonl <prec2 | jq -c "[.id, .response, .stop_reason]" >actual2 &&
	printf "%s\n" "[\"p\",\"whole\",\"end_turn\"]" "[\"q\",\"cut2\",\"max_tokens\"]" "[\"r\",\"second\",\"end_turn\"]" >expect &&
	test_cmp expect actual1 && test_cmp expect actual2 &&
	bt-retry --truncated --results prec1 prec.req | jq -r .custom_id >again1 &&
	bt-retry --truncated --results prec2 prec.req | jq -r .custom_id >again2 &&
	echo q >expect && test_cmp expect again1 && test_cmp expect again2
'

test_expect_success 'stop_reason sits next to response on every succeeded line, so jq can pick the cut ones' '
	{ ok a "answer a"; ok b "half an ans" max_tokens; err c overloaded_error Overloaded; } >stop.jsonl &&
	bt-join --id "if type == \"object\" then .id else \"s\" end" records.jsonl <stop.jsonl >actual 2>/dev/null &&
	cat >expect <<-\EXP &&
	{"id":"a","text":"first","response":"answer a","stop_reason":"end_turn","status":"succeeded"}
	{"id":"b","text":"second","response":"half an ans","stop_reason":"max_tokens","status":"succeeded"}
	{"id":"c","text":"third","response":null,"status":"errored","error":"overloaded_error: Overloaded"}
	{"record":"a string record","response":null,"status":"missing","error":"missing: no result came back for this record"}
	{"id":"e","text":"fifth","response":null,"status":"missing","error":"missing: no result came back for this record"}
	EXP
	test_cmp expect actual &&
	jq -r "select(.stop_reason==\"max_tokens\") | .id" actual >cut &&
	echo b >expect && test_cmp expect cut &&
	printf "{\"id\":\"a\",\"stop_reason\":\"mine\"}\n{\"id\":\"c\",\"stop_reason\":\"mine\"}\n" >own.jsonl &&
	bt-join --id .id own.jsonl <stop.jsonl 2>/dev/null | jq -c "[.id, .stop_reason]" >actual &&
	printf "%s\n" "[\"a\",\"end_turn\"]" "[\"c\",null]" >expect && test_cmp expect actual
'

test_expect_success 'several tool_use blocks give their inputs as an array, in order; one gives its input' '
	printf "{\"id\":\"m\"}\n{\"id\":\"o\"}\n" >multi.jsonl &&
	cat >multi-results.jsonl <<-\RES &&
	{"custom_id":"m","result":{"type":"succeeded","message":{"content":[{"type":"text","text":"Two calls."},{"type":"tool_use","id":"t1","name":"f","input":{"n":1}},{"type":"tool_use","id":"t2","name":"g","input":{"n":2}},{"type":"tool_use","id":"t3","name":"h"}],"stop_reason":"tool_use"}}}
	{"custom_id":"o","result":{"type":"succeeded","message":{"content":[{"type":"tool_use","id":"t1","name":"f","input":[1]}],"stop_reason":"tool_use"}}}
	RES
	bt-join --id .id multi.jsonl <multi-results.jsonl >actual &&
	cat >expect <<-\EXP &&
	{"id":"m","response":[{"n":1},{"n":2},null],"stop_reason":"tool_use","status":"succeeded"}
	{"id":"o","response":[1],"stop_reason":"tool_use","status":"succeeded"}
	EXP
	test_cmp expect actual
'

# structured answers: a json_schema request answers with JSON text
sok() { printf '{"custom_id":"%s","result":{"type":"succeeded","message":{"id":"msg_%s","content":[{"type":"text","text":%s}],"stop_reason":"%s","usage":{"input_tokens":1,"output_tokens":1}}}}\n' "$1" "$1" "$2" "${3:-end_turn}"; }
tool() { printf '{"custom_id":"%s","result":{"type":"succeeded","message":{"id":"msg_%s","content":[{"type":"tool_use","id":"toolu_1","name":"record","input":%s}],"stop_reason":"%s","usage":{"input_tokens":1,"output_tokens":1}}}}\n' "$1" "$1" "$2" "${3:-tool_use}"; }

cat >inv.jsonl <<\EOF_
{"id":"i1","name":"from the record"}
{"id":"i2"}
{"id":"i3"}
{"id":"i4"}
{"id":"i5"}
{"id":"i6"}
EOF_

test_expect_success '--structured: the text of each answer is parsed, and response is data, not a string' '
	{ sok i1 "\"{\\\"name\\\":\\\"Ann\\\",\\\"total\\\":3}\""; sok i2 "\"[1,2]\""; sok i3 "\" 42 \"";
	  err i4 overloaded_error Overloaded; tool i5 "{\"name\":\"Tom\",\"total\":7}"; other i6 expired; } >inv-results.jsonl &&
	bt-join --structured --id .id inv.jsonl <inv-results.jsonl >actual 2>/dev/null &&
	cat >expect <<-\EXP &&
	{"id":"i1","name":"from the record","response":{"name":"Ann","total":3},"stop_reason":"end_turn","status":"succeeded"}
	{"id":"i2","response":[1,2],"stop_reason":"end_turn","status":"succeeded"}
	{"id":"i3","response":42,"stop_reason":"end_turn","status":"succeeded"}
	{"id":"i4","response":null,"status":"errored","error":"overloaded_error: Overloaded"}
	{"id":"i5","response":{"name":"Tom","total":7},"stop_reason":"tool_use","status":"succeeded"}
	{"id":"i6","response":null,"status":"expired","error":"expired: the batch expired before this request was done"}
	EXP
	test_cmp expect actual &&
	bt-join --id .id inv.jsonl <inv-results.jsonl 2>/dev/null | jq -c .response >actual &&
	printf "%s\n" "\"{\\\"name\\\":\\\"Ann\\\",\\\"total\\\":3}\"" "\"[1,2]\"" "\" 42 \"" null "{\"name\":\"Tom\",\"total\":7}" null >expect &&
	test_cmp expect actual
'

test_expect_success '--flatten merges an object answer into the record: columns for jq; the answer wins a collision, said once' '
	bt-join --structured --flatten --id .id inv.jsonl <inv-results.jsonl >actual 2>err &&
	cat >expect <<-\EXP &&
	{"id":"i1","name":"Ann","total":3,"stop_reason":"end_turn","status":"succeeded"}
	{"id":"i2","response":[1,2],"stop_reason":"end_turn","status":"succeeded"}
	{"id":"i3","response":42,"stop_reason":"end_turn","status":"succeeded"}
	{"id":"i4","response":null,"status":"errored","error":"overloaded_error: Overloaded"}
	{"id":"i5","name":"Tom","total":7,"stop_reason":"tool_use","status":"succeeded"}
	{"id":"i6","response":null,"status":"expired","error":"expired: the batch expired before this request was done"}
	EXP
	test_cmp expect actual &&
	cat >expect <<-\EXP &&
	bt-join: inv.jsonl:1: --flatten: the record and the answer both have "name": the answer'"'"'s is kept (said once)
	bt-join: 6 records: 4 succeeded, 1 errored (1 overloaded_error), 1 expired
	EXP
	test_cmp expect err &&
	jq -r "[.id, .name, .total] | @tsv" actual >tsv &&
	printf "i1\tAnn\t3\ni2\t\t\ni3\t\t\ni4\t\t\ni5\tTom\t7\ni6\t\t\n" >expect &&
	test_cmp expect tsv &&
	printf "{\"id\":\"i1\"}\n" >one.jsonl && sok i1 "\"{\\\"status\\\":\\\"paid\\\",\\\"a\\\":1}\"" >paid.jsonl &&
	bt-join --structured --flatten --id .id one.jsonl <paid.jsonl >actual 2>err &&
	echo "{\"id\":\"i1\",\"status\":\"succeeded\",\"a\":1,\"stop_reason\":\"end_turn\"}" >expect &&
	test_cmp expect actual &&
	echo "bt-join: one.jsonl:1: --flatten: the answer'"'"'s \"status\" is replaced by bt-join'"'"'s own (said once)" >expect &&
	test_cmp expect err
'

test_expect_success '--structured: an answer that is not JSON is an error with its reason; cut at max_tokens says so' '
	printf "{\"id\":\"j1\"}\n{\"id\":\"j2\"}\n{\"id\":\"j3\"}\n{\"id\":\"j4\"}\n{\"id\":\"j5\"}\n" >bad-json.jsonl &&
	{ sok j1 "\"{\\\"name\\\":\\\"An\"" max_tokens; sok j2 "\"Sorry, I cannot\"" refusal;
	  sok j3 "\"12\"" max_tokens; tool j4 "{\"name\":\"T\"}" max_tokens; sok j5 "\"{}\""; } >bad-json-results.jsonl &&
	test_expect_code 3 bt-join --strict --structured --id .id bad-json.jsonl <bad-json-results.jsonl >actual 2>err &&
	cat >expect <<-\EXP &&
	{"id":"j1","response":null,"stop_reason":"max_tokens","status":"errored","error":"structured answer is not JSON (cut at max_tokens)"}
	{"id":"j2","response":null,"stop_reason":"refusal","status":"errored","error":"structured answer is not JSON: unexpected '"'"'S'"'"', expected a value at column 1"}
	{"id":"j3","response":null,"stop_reason":"max_tokens","status":"errored","error":"structured answer cut at max_tokens: it may be incomplete"}
	{"id":"j4","response":null,"stop_reason":"max_tokens","status":"errored","error":"structured answer cut at max_tokens: the tool'"'"'s input may be incomplete"}
	{"id":"j5","response":{},"stop_reason":"end_turn","status":"succeeded"}
	EXP
	test_cmp expect actual &&
	echo "bt-join: 5 records: 1 succeeded, 4 errored (2 not_json, 2 truncated)" >expect &&
	test_cmp expect err &&
	printf "{\"custom_id\":\"j%s\",\"params\":{}}\n" 1 2 3 4 5 >bad-json.req &&
	bt-retry --truncated --results bad-json-results.jsonl bad-json.req | jq -r .custom_id >again &&
	printf "j1\nj3\nj4\n" >expect && test_cmp expect again
'

test_expect_success '--flatten never replaces what --id reads: an answer'"'"'s "id" goes into response; the line keeps its record'"'"'s identity' '
	printf "%s\n" "{\"id\":\"r1\",\"text\":\"x\"}" "{\"id\":\"r2\",\"text\":\"y\"}" >idc.jsonl &&
	{ sok r1 "\"{\\\"id\\\":\\\"INV-9\\\",\\\"total\\\":3}\"" && sok r2 "\"{\\\"total\\\":4}\""; } >idc-results.jsonl &&
	bt-join --structured --flatten --id .id idc.jsonl <idc-results.jsonl >actual 2>err &&
	cat >expect <<-\EXP &&
	{"id":"r1","text":"x","total":3,"response":{"id":"INV-9"},"stop_reason":"end_turn","status":"succeeded"}
	{"id":"r2","text":"y","total":4,"stop_reason":"end_turn","status":"succeeded"}
	EXP
	test_cmp expect actual &&
	echo "bt-join: idc.jsonl:1: --flatten: the answer'"'"'s \"id\" is what --id reads: it goes into \"response\" instead (said once)" >expect &&
	test_cmp expect err &&
	bt-join --structured --flatten --id ".id | tostring" idc.jsonl <idc-results.jsonl 2>/dev/null | head -n 1 | jq -r .id >got &&
	echo INV-9 >want && test_cmp want got
'

test_expect_success '--flatten without --structured: JSON text answers give columns; other text stays, counted once' '
	bt-join --flatten --id .id inv.jsonl <inv-results.jsonl >actual 2>err &&
	cat >expect <<-\EXP &&
	{"id":"i1","name":"Ann","total":3,"stop_reason":"end_turn","status":"succeeded"}
	{"id":"i2","response":"[1,2]","stop_reason":"end_turn","status":"succeeded"}
	{"id":"i3","response":" 42 ","stop_reason":"end_turn","status":"succeeded"}
	{"id":"i4","response":null,"status":"errored","error":"overloaded_error: Overloaded"}
	{"id":"i5","name":"Tom","total":7,"stop_reason":"tool_use","status":"succeeded"}
	{"id":"i6","response":null,"status":"expired","error":"expired: the batch expired before this request was done"}
	EXP
	test_cmp expect actual &&
	cat >expect <<-\EXP &&
	bt-join: inv.jsonl:1: --flatten: the record and the answer both have "name": the answer'"'"'s is kept (said once)
	bt-join: --flatten: 2 answers are not a JSON object: kept as text in "response" (--structured makes each an error)
	bt-join: 6 records: 4 succeeded, 1 errored (1 overloaded_error), 1 expired
	EXP
	test_cmp expect err &&
	printf "{\"id\":\"p1\"}\n" >prose.jsonl && sok p1 "\"Sure! Here it is.\"" >prose-results.jsonl &&
	bt-join --flatten --as answer --id .id prose.jsonl <prose-results.jsonl >actual 2>err &&
	echo "{\"id\":\"p1\",\"answer\":\"Sure! Here it is.\",\"stop_reason\":\"end_turn\",\"status\":\"succeeded\"}" >expect &&
	test_cmp expect actual &&
	echo "bt-join: --flatten: 1 answer is not a JSON object: kept as text in \"answer\" (--structured makes it an error)" >expect &&
	test_cmp expect err
'

test_expect_success '--structured and --flatten do not go with --map' '
	test_expect_code 2 bt-join --structured --map . --id .id inv.jsonl <inv-results.jsonl 2>err &&
	echo "bt-join: --map makes each line itself: --structured does not apply" >expect && test_cmp expect err &&
	test_expect_code 2 bt-join --flatten --map . --id .id inv.jsonl <inv-results.jsonl 2>err &&
	echo "bt-join: --map makes each line itself: --flatten does not apply" >expect && test_cmp expect err
'

test_expect_success 'a results file with every line twice (a batch fetched twice) gives each record once, the same' '
	cat inv-results.jsonl inv-results.jsonl >twice.jsonl &&
	bt-join --structured --id .id inv.jsonl <inv-results.jsonl >once.out 2>/dev/null &&
	bt-join --structured --id .id inv.jsonl <twice.jsonl >twice.out 2>err &&
	test_cmp once.out twice.out && test_lines 6 twice.out &&
	echo "bt-join: 6 records: 4 succeeded, 1 errored (1 overloaded_error), 1 expired" >expect &&
	test_cmp expect err
'

test_expect_success '--rejected: the records bt-format refused come out in place, status rejected, with the reason' '
	printf "%s\n" "{\"id\":\"x1\",\"t\":\"a\"}" "{\"id\":\"x2\"}" >rj.jsonl &&
	test_expect_code 3 bt-format -m m --id .id -p .t --reject rej.jsonl rj.jsonl >rq 2>/dev/null &&
	printf "%s\n" "{\"custom_id\":\"x1\",\"result\":{\"type\":\"errored\",\"error\":{\"type\":\"error\",\"error\":{\"type\":\"overloaded_error\",\"message\":\"Overloaded\"}}}}" >rres &&
	bt-join --id .id --rejected rej.jsonl rj.jsonl <rres >out 2>err &&
	jq -c "[.id, .status, .error]" out >got &&
	cat >want <<-\EOF &&
	["x1","errored","overloaded_error: Overloaded"]
	["x2","rejected","-p: gave null, not a string or an array of content blocks"]
	EOF
	test_cmp want got &&
	echo "bt-join: 2 records: 0 succeeded, 1 errored (1 overloaded_error), 1 rejected" >want &&
	test_cmp want err &&
	echo "{\"file\":\"rj.jsonl\"}" >badrej &&
	test_expect_code 2 bt-join --id .id --rejected badrej rj.jsonl <rres >out 2>err &&
	echo "bt-join: badrej:1: not a line of bt-format --reject (an object with file, line and error)" >want &&
	test_cmp want err
'

test_done
