#!/bin/sh
# bt-format: bad input gets FILE:LINE, exit 2; --reject goes on and exits 3.
. "${0%/*}/lib.sh"

cat >mixed.jsonl <<\EOF_
{"id":"a","text":"fine"}
{"id":"b","text":"fine too"} trailing
{"id":"c","text":42}
{"id":"a","text":"again"}
{"id":null,"text":"no id"}
{"id":"f","text":""}
{"id":"g","text":"last"}
EOF_

test_expect_success 'an invalid JSON line: file, line, what is wrong, exit 2' '
	test_expect_code 2 bt-format -m m --id .id -p .text mixed.jsonl >out 2>err &&
	echo "bt-format: mixed.jsonl:2: invalid JSON: trailing data after the value at column 30" >expect &&
	test_cmp expect err &&
	test_must_be_empty out &&
	bt-format -m m --id .id -p .text mixed.jsonl 2>err | jq -r .custom_id >id &&
	echo a >expect.id && test_cmp expect.id id
'

test_expect_success '--reject writes each bad record with its line and reason, goes on, exits 3' '
	test_expect_code 3 bt-format -m m --id .id -p .text --reject rej.jsonl mixed.jsonl >out 2>err &&
	cat >expect <<-\EXP &&
	{"file":"mixed.jsonl","line":2,"error":"invalid JSON: trailing data after the value at column 30","text":"{\"id\":\"b\",\"text\":\"fine too\"} trailing"}
	{"file":"mixed.jsonl","line":3,"error":"-p: gave a number, not a string or an array of content blocks","record":{"id":"c","text":42}}
	{"file":"mixed.jsonl","line":4,"error":"duplicate custom_id \"a\" (first at mixed.jsonl:1)","record":{"id":"a","text":"again"}}
	{"file":"mixed.jsonl","line":5,"error":"--id: the id is null","record":{"id":null,"text":"no id"}}
	{"file":"mixed.jsonl","line":6,"error":"-p: the prompt is empty","record":{"id":"f","text":""}}
	EXP
	test_cmp expect rej.jsonl &&
	jq -r .custom_id out >ids &&
	printf "a\ng\n" >expect.ids && test_cmp expect.ids ids &&
	echo "bt-format: 5 records rejected: see rej.jsonl" >expect.err &&
	test_cmp expect.err err &&
	ls -A >files && test_must_fail grep -q tmp files
'

test_expect_success '--reject with nothing bad: an empty file, exit 0' '
	head -n 1 mixed.jsonl >good.jsonl &&
	bt-format -m m -p .text --reject rej2.jsonl good.jsonl >out &&
	test -f rej2.jsonl && test_must_be_empty rej2.jsonl
'

test_expect_success 'a duplicate custom_id names both lines, across files' '
	echo "{\"id\":\"x\",\"text\":\"1\"}" >f1.jsonl &&
	printf "{\"id\":\"y\",\"text\":\"2\"}\n{\"id\":\"x\",\"text\":\"3\"}\n" >f2.jsonl &&
	test_expect_code 2 bt-format -m m --id .id -p .text f1.jsonl f2.jsonl >out 2>err &&
	echo "bt-format: f2.jsonl:2: duplicate custom_id \"x\" (first at f1.jsonl:1)" >expect &&
	test_cmp expect err
'

test_expect_success 'two ids that become the same custom_id are a duplicate too' '
	printf "{\"id\":7}\n{\"id\":\"7\"}\n" >dup.jsonl &&
	test_expect_code 2 bt-format -m m --id .id -p "\"x\"" dup.jsonl >out 2>err &&
	test_grep "dup.jsonl:2: duplicate custom_id \"7\" \\(first at dup.jsonl:1\\)" err
'

for bad in '[1]:an array' '{}:an object' 'true:a boolean' '"":an empty string'; do
	v=${bad%%:*} what=${bad#*:}
	test_expect_success "an id that is $what is an error" "
		echo '{\"id\":$v,\"text\":\"t\"}' >id.jsonl &&
		test_expect_code 2 bt-format -m m --id .id -p .text id.jsonl 2>err &&
		test_grep 'id.jsonl:1: --id: the id is $what' err
	"
done

test_expect_success 'a jq error at run time names the record' '
	printf "{\"text\":\"a\"}\n{\"text\":[1]}\n" >rt.jsonl &&
	test_expect_code 2 bt-format -m m -p ".text | ascii_downcase" rt.jsonl >out 2>err &&
	echo "bt-format: rt.jsonl:2: -p: explode input must be a string" >expect &&
	test_cmp expect err
'

test_expect_success 'a plain path on a value that cannot be indexed' '
	echo "[1,2]" >arr.jsonl &&
	test_expect_code 2 bt-format -m m -p .text arr.jsonl 2>err &&
	echo "bt-format: arr.jsonl:1: -p: Cannot index array with \"text\"" >expect &&
	test_cmp expect err
'

test_expect_success 'a prompt expression with no value, or two' '
	echo "{\"text\":\"a\"}" >one.jsonl &&
	test_expect_code 2 bt-format -m m -p "empty" one.jsonl 2>err &&
	test_grep "one.jsonl:1: -p: gave no value" err &&
	test_expect_code 2 bt-format -m m -p ".text, .text" one.jsonl 2>err &&
	test_grep "one.jsonl:1: -p: gave more than one value" err
'

test_expect_success 'a jq program that does not compile: exit 2 before reading' '
	test_expect_code 2 bt-format -m m -p ".text |" </dev/null 2>err &&
	test_grep "^bt-format: -p: .*syntax error" err
'

test_expect_success 'content blocks must be objects with a type' '
	test_expect_code 2 bt-format -m m -p "[.text]" one.jsonl 2>err &&
	test_grep "one.jsonl:1: -p: an array element is not a content block" err
'

test_expect_success '--params must leave model, messages, max_tokens >= 1, no stream' '
	test_expect_code 2 bt-format -m m -p .text --params "\$params | del(.model)" one.jsonl 2>err &&
	test_grep "one.jsonl:1: params: no model" err &&
	test_expect_code 2 bt-format -m m -p .text --params "\$params | .messages = []" one.jsonl 2>err &&
	test_grep "one.jsonl:1: params: no messages" err &&
	test_expect_code 2 bt-format -m m -p .text --params "\$params | .max_tokens = 0" one.jsonl 2>err &&
	test_grep "one.jsonl:1: params: max_tokens must be a whole number of at least 1" err &&
	test_expect_code 2 bt-format -m m -p .text --params "\$params | .max_tokens = 2.5" one.jsonl 2>err &&
	test_grep "max_tokens must be a whole number" err &&
	test_expect_code 2 bt-format -m m -p .text --params "\$params + {stream: true}" one.jsonl 2>err &&
	test_grep "one.jsonl:1: params: stream is not allowed in a batch" err &&
	test_expect_code 2 bt-format -m m -p .text --params "[1]" one.jsonl 2>err &&
	test_grep "one.jsonl:1: --params: did not give an object" err
'

test_expect_success 'usage errors: no model, no prompt, bad numbers, missing file' '
	test_expect_code 2 bt-format -p .text one.jsonl 2>err &&
	echo "bt-format: no model: give -m MODEL or set BT_MODEL" >expect && test_cmp expect err &&
	test_expect_code 2 bt-format -m m one.jsonl 2>err &&
	echo "bt-format: no prompt: give -p EXPR (or --params EXPR)" >expect && test_cmp expect err &&
	test_expect_code 2 bt-format -m m -p .text --max-tokens 0 one.jsonl 2>err &&
	echo "bt-format: --max-tokens: 0 is out of range (1 to 1000000)" >expect && test_cmp expect err &&
	test_expect_code 2 bt-format -m m -p .text --max-tokens 10x one.jsonl 2>err &&
	echo "bt-format: --max-tokens: not a whole number: '"'"'10x'"'"'" >expect && test_cmp expect err &&
	test_expect_code 2 bt-format -m m -p .text --temperature 1.5 one.jsonl 2>err &&
	test_grep "temperature: 1.5 is out of range" err &&
	test_expect_code 2 bt-format -m m -p .text --cache-system one.jsonl 2>err &&
	test_grep "cache-system: there is no system prompt" err &&
	test_expect_code 2 bt-format -m m -p .text nosuch.jsonl 2>err &&
	echo "bt-format: nosuch.jsonl: No such file or directory" >expect && test_cmp expect err &&
	test_expect_code 2 bt-format -m m -p .text --argjson x "{bad" one.jsonl 2>err &&
	test_grep "argjson x: invalid JSON" err &&
	test_expect_code 2 bt-format -m m -p .text --arg onlyname 2>err &&
	test_grep "arg onlyname: a value is missing" err
'

if [ "${BT_VALGRIND:-}" = 1 ]; then
	test_skip 'a request larger than a batch may hold' 'too slow under valgrind'
else
# a record line within the cap on lines (bt.7, LIMITS), its request not
test_expect_success 'a request larger than a batch may hold is an error' '
	perl -e "print q({\"t\":\"), q(x) x 255999950, qq(\"}\n)" >huge.jsonl &&
	test_expect_code 2 bt-format -m m -p .t huge.jsonl >out 2>err &&
	test_grep "huge.jsonl:1: the request is 25600[0-9]+ bytes, more than a batch can hold \\(255999986\\)" err &&
	test_must_be_empty out
'
fi

test_expect_success 'exit 2 to a file: the cut leaves no hole for the next writer, and spares a shared stderr' '
	printf "%s\n" "{\"t\":\"a\"}" "{\"t\":1}" >half.jsonl &&
	{ test_expect_code 2 bt-format -m m -p .t half.jsonl 2>/dev/null && echo tail; } >seq &&
	echo tail >expect &&
	test_cmp expect seq &&
	test_expect_code 2 bt-format -m m -p .t half.jsonl >both 2>&1 &&
	test_lines 2 both &&
	test_grep "^bt-format: half.jsonl:2: -p: gave a number" both
'

test_done
