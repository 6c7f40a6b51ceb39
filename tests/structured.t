#!/bin/sh
# Structured answers end to end, against bt-mock (which answers with the
# prompt): bt-join --structured --flatten gives columns; an answer cut at
# max_tokens is an error that bt-retry --truncated sends again (issue 14,
# item 2; issue 13, item 9).
. "${0%/*}/lib.sh"

mock_start --processing-time 0.2 || exit 1

# the prompt is the record as JSON, so the answer is that JSON (no
# output_config: bt-mock would answer its schema instead); records
# 3 and 5 are too long for 16 tokens (64 bytes) and come back cut
cat >inv.jsonl <<\EOF_
{"id":"a","doc":{"name":"Ann","total":3}}
{"id":"b","doc":{"name":"Bob","total":4}}
{"id":"c","doc":{"name":"Carmen Maria Ortega y Villanueva de la Sierra Nevada","total":5}}
{"id":"d","doc":{"name":"Dee","total":6}}
{"id":"e","doc":{"name":"Eleanor","total":7,"note":"a note long enough to be cut off at sixteen tokens"}}
EOF_

test_expect_success 'a job asking for JSON: answers as data, the cut ones as errors with their reason' '
	bt-format -m claude-haiku-4-5 --id .id --max-tokens 16 -p ".doc | tojson" inv.jsonl >requests.jsonl &&
	bt-submit <requests.jsonl | bt-wait --interval 0.1 | bt-fetch >results.jsonl &&
	bt-join --structured --flatten --id .id inv.jsonl <results.jsonl >out.jsonl 2>err &&
	jq -r "[.id, .name, .total, .status, .stop_reason, .error // \"-\"] | @tsv" out.jsonl >actual &&
	cat >expect <<-\EXP &&
	a	Ann	3	succeeded	end_turn	-
	b	Bob	4	succeeded	end_turn	-
	c			errored	max_tokens	structured answer is not JSON (cut at max_tokens)
	d	Dee	6	succeeded	end_turn	-
	e			errored	max_tokens	structured answer is not JSON (cut at max_tokens)
	EXP
	test_cmp expect actual &&
	echo "bt-join: 5 records: 3 succeeded, 2 errored (2 not_json)" >expect &&
	test_cmp expect err
'

test_expect_success 'bt-retry --truncated sends the cut ones again with more room; then every record is data' '
	bt-retry --truncated --set ".params.max_tokens *= 8" requests.jsonl <results.jsonl >again.jsonl 2>/dev/null &&
	jq -r .custom_id again.jsonl >ids && printf "c\ne\n" >expect && test_cmp expect ids &&
	bt-send <again.jsonl >>results.jsonl &&
	bt-join --strict --structured --flatten --id .id inv.jsonl <results.jsonl >out.jsonl &&
	jq -r "[.id, .name, .total, .status] | @tsv" out.jsonl >actual &&
	printf "a\tAnn\t3\tsucceeded\nb\tBob\t4\tsucceeded\nc\tCarmen Maria Ortega y Villanueva de la Sierra Nevada\t5\tsucceeded\nd\tDee\t6\tsucceeded\ne\tEleanor\t7\tsucceeded\n" >expect &&
	test_cmp expect actual &&
	jq -r .note out.jsonl | sed -n 5p >note &&
	echo "a note long enough to be cut off at sixteen tokens" >expect && test_cmp expect note
'

test_done
