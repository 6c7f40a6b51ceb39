#!/bin/sh
# The README's stage-by-stage pipeline, its retry line and its cron line,
# as the README has them, run twice over on one bt-mock with errors on:
# every record comes out exactly once with its own answer, nothing is sent
# twice, and bt-cost bills what the mock counts as billed (issue 13).
. "${0%/*}/lib.sh"

mock_start --processing-time 0.3 --error-rate 0.2 --seed 7 || exit 1
# block AFTER: the README's first indented block after the line AFTER
block() {
	awk -v after="$1" '
		index($0, after) { found = 1; next }
		found && /^    / { print substr($0, 5); inblock = 1; next }
		found && inblock { exit }' "$BT_ROOT/README.md"
}
# billed: what bt-mock counts as billed, its batches' succeeded requests
billed() { bt-list | jq -s "map(.request_counts.succeeded) | add"; }

perl -e 'print qq({"id":"d$_","text":"document $_"}\n) for 1..40' >docs.jsonl

test_expect_success 'the blocks are where the README has them' '
	block "The streams and rules are in" >pipeline.sh &&
	test_lines 7 pipeline.sh &&
	test_grep "^bt-retry requests.jsonl <results.jsonl \| bt-submit --tag retry1 \| bt-wait \| bt-fetch >>results.jsonl$" pipeline.sh &&
	block "however often it runs:" >cron.sh &&
	test_lines 1 cron.sh && test_grep "^bt-wait --once" cron.sh
'

test_expect_success 'the pipeline, run: every record once, in order, its own answer' '
	sh -e pipeline.sh 2>err &&
	jq -r .id docs.jsonl >want && jq -r .id out.jsonl >got && test_cmp want got &&
	jq -r "select(.status == \"succeeded\" and .response != .text) | .id" out.jsonl >wrong &&
	test_must_be_empty wrong &&
	jq -r .status out.jsonl | sort | uniq -c >statuses && cat statuses &&
	test $(jq -r "select(.status == \"succeeded\") | .id" out.jsonl | wc -l) -ge 36 &&
	cp out.jsonl out.first
'

test_expect_success 'bt-cost bills what bt-mock counts as billed' '
	bt-cost results.jsonl | jq .total.requests >got &&
	billed >want && test_cmp want got
'

test_expect_success 'run again, whole: nothing sent, the same output, still billed once' '
	creates=$(mock_stat creates) &&
	sh -e pipeline.sh 2>err &&
	test $(mock_stat creates) -eq $creates &&
	test_cmp out.first out.jsonl &&
	test_grep "sent before as msgbatch_" err &&
	bt-cost results.jsonl | jq .total.requests >got &&
	billed >want && test_cmp want got
'

test_expect_success 'the cron line, twice, on top: each batch fetched once, each result counted once' '
	before=$(wc -l <results.jsonl) &&
	sh -e cron.sh && sh -e cron.sh &&
	test $(wc -l <results.jsonl) -eq $((before + 40)) &&
	test_lines $(wc -l <batches.jsonl) fetched.txt &&
	bt-join --id .id docs.jsonl <results.jsonl >out.cron &&
	test_cmp out.first out.cron &&
	bt-cost results.jsonl | jq .total.requests >got &&
	billed >want && test_cmp want got
'

test_done
