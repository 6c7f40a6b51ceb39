#!/bin/sh
# Numbered custom_ids carry a fingerprint of their record, and every
# program reads a result line by one rule (issue 17 §2, §5).
. "${0%/*}/lib.sh"

for i in 1 2 3 4 5 6 7 8 9 10; do echo "{\"text\":\"say t$i\"}"; done >ten.jsonl

mock_start

test_expect_success 'a record removed between bt-format and bt-join: the records after it come out missing, never with another record'"'"'s answer' '
	bt-format -m claude-haiku-4-5 -p .text ten.jsonl | bt-send >res &&
	test_lines 10 res &&
	sed 3d ten.jsonl >e.jsonl &&
	test_expect_code 3 bt-join e.jsonl <res >out 2>err &&
	jq -c "[.text, .status]" out >actual &&
	cat >expect <<-\EOF &&
	["say t1","succeeded"]
	["say t2","succeeded"]
	["say t4","missing"]
	["say t5","missing"]
	["say t6","missing"]
	["say t7","missing"]
	["say t8","missing"]
	["say t9","missing"]
	["say t10","missing"]
	EOF
	test_cmp expect actual &&
	cat >expect.err <<-\EOF &&
	bt-join: 9 records: 2 succeeded, 7 missing; 8 results matched no record
	bt-join: 8 of 10 results match no record: is it the right records file, with the options bt-format had (--id, -R), and unchanged since?
	EOF
	test_cmp expect.err err
'

test_expect_success 'a record edited in place comes out missing; the others keep their answers' '
	sed "s/say t3/say T3/" ten.jsonl >ed.jsonl &&
	bt-join ed.jsonl <res >out 2>err &&
	jq -r "select(.status != \"succeeded\") | .text" out >actual &&
	echo "say T3" >expect &&
	test_cmp expect actual &&
	jq -c "select(.status == \"succeeded\" and .response != .text)" out >foreign &&
	test_must_be_empty foreign &&
	jq -r "select(.status == \"succeeded\") | .text" out >ok.txt &&
	test_lines 9 ok.txt &&
	echo "bt-join: 10 records: 9 succeeded, 1 missing; 1 result matched no record" >expect.err &&
	test_cmp expect.err err
'

test_expect_success 'equal-size jobs over different records have different ids' '
	for i in 1 2 3; do echo "{\"text\":\"other $i\"}"; done >a.jsonl &&
	for i in 1 2 3; do echo "{\"text\":\"else $i\"}"; done >b.jsonl &&
	bt-format -m m -p .text a.jsonl | jq -r .custom_id >ia &&
	bt-format -m m -p .text b.jsonl | jq -r .custom_id >ib &&
	sort ia ib | uniq -d >common &&
	test_must_be_empty common
'

test_expect_success 'a job formatted before ids had a fingerprint resumes: its requests keep their ids, the join goes by number, said once' '
	bt-run --sync-below 0 -m claude-haiku-4-5 -p .text -w old.work ten.jsonl >/dev/null 2>&1 &&
	rm -rf old.work/round.* old.work/state old.work/done &&
	jq -c ".custom_id |= sub(\"-.*\"; \"\")" old.work/requests.jsonl >req.old &&
	test "$(head -n 1 req.old | jq -r .custom_id)" = 1 &&
	mv req.old old.work/requests.jsonl &&
	bt-run --sync-below 0 -m claude-haiku-4-5 -p .text -w old.work ten.jsonl >out 2>err &&
	jq -r ".custom_id" old.work/round.01/results.jsonl | sort -n >ids &&
	seq 1 10 >expect && test_cmp expect ids &&
	jq -c "select(.status != \"succeeded\" or .response != .text)" out >bad &&
	test_must_be_empty bad && test_lines 10 out &&
	test "$(grep -c "old numbered ids" err)" = 1
'

ok() { printf '{"custom_id":"%s","result":{"type":"succeeded","message":{"id":"msg_%s","type":"message","role":"assistant","model":"claude-haiku-4-5","content":[{"type":"text","text":"%s"}],"stop_reason":"%s","stop_sequence":null,"usage":{"input_tokens":3,"output_tokens":2}}}}\n' "$1" "$2" "$3" "${4:-end_turn}"; }
req() { printf '{"custom_id":"%s","params":{"model":"claude-haiku-4-5","max_tokens":5,"messages":[{"role":"user","content":"x"}]}}\n' "$1"; }

test_expect_success 'an escaped custom_id ("a\u0062" is "ab") is one result to bt-join, bt-retry and bt-cost alike' '
	echo "{\"id\":\"ab\"}" >rec.jsonl &&
	req ab >req.jsonl &&
	ok "a\\u0062" 1 hi >esc.jsonl &&
	grep -q "\"custom_id\":\"a\\\\u0062\"" esc.jsonl &&
	bt-join --id .id rec.jsonl <esc.jsonl >out &&
	echo "{\"id\":\"ab\",\"response\":\"hi\",\"stop_reason\":\"end_turn\",\"status\":\"succeeded\"}" >expect &&
	test_cmp expect out &&
	bt-cost esc.jsonl | jq -c ".total | [.requests, .input_tokens, .output_tokens]" >actual &&
	echo "[1,3,2]" >expect && test_cmp expect actual &&
	bt-retry --results esc.jsonl req.jsonl >out &&
	test_must_be_empty out &&
	printf "{\"custom_id\":\"a\\\\u0062\",\"result\":{\"type\":\"errored\",\"error\":{\"type\":\"error\",\"error\":{\"type\":\"overloaded_error\",\"message\":\"o\"}}}}\n" >esc-err.jsonl &&
	bt-retry --results esc-err.jsonl req.jsonl >out &&
	test_cmp req.jsonl out &&
	bt-join --id .id rec.jsonl <esc-err.jsonl >out 2>/dev/null &&
	jq -r .status out >actual && echo errored >expect && test_cmp expect actual
'

test_expect_success 'an escaped custom_id that is not a valid one is refused by all three, in the same words' '
	ok "a\\u0020b" 1 hi >bad.jsonl &&
	test_expect_code 2 bt-join --id .id rec.jsonl <bad.jsonl 2>err1 &&
	test_expect_code 2 bt-retry --results bad.jsonl req.jsonl 2>err2 &&
	test_expect_code 2 bt-cost bad.jsonl 2>err3 &&
	echo "bt-join: stdin:1: not a result: no valid custom_id" >expect && test_cmp expect err1 &&
	echo "bt-retry: bad.jsonl:1: not a result: no valid custom_id" >expect && test_cmp expect err2 &&
	echo "bt-cost: bad.jsonl:1: not a result: no valid custom_id" >expect && test_cmp expect err3
'

test_expect_success 'escaped type and stop_reason: one verdict on what is cut, for bt-join and bt-retry --truncated' '
	{ ok ab 1 full; ok ab 2 cut "max\\u005ftokens" | sed "s/\"type\":\"succeeded\"/\"type\":\"succ\\\\u0065eded\"/"; } >two.jsonl &&
	grep -q "succ.u0065eded" two.jsonl &&
	bt-join --id .id rec.jsonl <two.jsonl >out &&
	jq -r .response out >actual && echo full >expect && test_cmp expect actual &&
	bt-retry --truncated --results two.jsonl req.jsonl >out &&
	test_must_be_empty out &&
	ok ab 2 cut "max\\u005ftokens" >cut.jsonl &&
	bt-join --id .id rec.jsonl <cut.jsonl >out &&
	jq -r .stop_reason out >actual && echo max_tokens >expect && test_cmp expect actual &&
	bt-retry --truncated --results cut.jsonl req.jsonl >out &&
	test_cmp req.jsonl out
'

test_done
