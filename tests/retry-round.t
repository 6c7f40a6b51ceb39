#!/bin/sh
# The retry recipe of the README: a round that fails whole, retried
# without a --tag, would print the first round's batch and send nothing;
# bt-submit says so, and --tag sends it (issue 13, item 7).
. "${0%/*}/lib.sh"

mock_start --processing-time 0.2 --error-rate 1 --seed 3 || exit 1

perl -e 'print qq({"id":"t$_","text":"ticket $_"}\n) for 1..6' >docs.jsonl
hint='printing that batch instead of sending it again (to send it anew, give a new --tag)'

test_expect_success 'setup: a round where every request failed' '
	bt-format -m claude-haiku-4-5 --id .id -p .text docs.jsonl >requests.jsonl &&
	bt-submit <requests.jsonl >round1.jsonl 2>err &&
	test_must_be_empty err &&
	bt-wait --interval 0.1 <round1.jsonl | bt-fetch >results.jsonl &&
	jq -r .result.type results.jsonl | sort -u >types &&
	echo errored >expect && test_cmp expect types &&
	bt-retry requests.jsonl <results.jsonl >again.jsonl 2>/dev/null &&
	test_cmp requests.jsonl again.jsonl
'

test_expect_success 'retried without --tag: the same bytes, the old batch printed, nothing sent, and said on stderr' '
	before=$(mock_stat creates) &&
	bt-retry requests.jsonl <results.jsonl 2>/dev/null | bt-submit >round2.jsonl 2>err &&
	test $(mock_stat creates) -eq $before &&
	jq -r .id round1.jsonl >expect && jq -r .id round2.jsonl >actual && test_cmp expect actual &&
	echo "bt-submit: CHUNK: sent before as $(jq -r .id round1.jsonl): $hint" >expect &&
	sed "s|^bt-submit: \.bt/spool/[0-9a-f]\{64\}\.jsonl:|bt-submit: CHUNK:|" err >actual &&
	test_cmp expect actual
'

test_expect_success 'the recipe: retried with --tag retry1, a new batch is sent, quietly; again, the message names the tag' '
	before=$(mock_stat creates) &&
	bt-retry requests.jsonl <results.jsonl 2>/dev/null >retry1.jsonl &&
	bt-submit --tag retry1 <retry1.jsonl >round2.jsonl 2>err &&
	test_must_be_empty err &&
	test $(mock_stat creates) -eq $((before + 1)) &&
	test "$(jq -r .id round1.jsonl)" != "$(jq -r .id round2.jsonl)" &&
	bt-wait --interval 0.1 <round2.jsonl | bt-fetch >>results.jsonl &&
	test_lines 12 results.jsonl &&
	bt-submit --tag retry1 <retry1.jsonl >again.jsonl 2>err &&
	test_cmp round2.jsonl again.jsonl &&
	echo "bt-submit: CHUNK: sent before as $(jq -r .id round2.jsonl) under --tag retry1: printing that batch instead of sending it again (to send it anew, give another --tag)" >expect &&
	sed -E "s/^bt-submit: [^:]+:/bt-submit: CHUNK:/" err >actual &&
	test_cmp expect actual
'

test_expect_success 'with -v too, one line a chunk; and --force sends anew as well' '
	bt-retry requests.jsonl <results.jsonl 2>/dev/null | bt-submit -v -n 3 --tag retry2 >r3 2>/dev/null &&
	test_lines 2 r3 &&
	before=$(mock_stat creates) &&
	bt-retry requests.jsonl <results.jsonl 2>/dev/null | bt-submit -v -n 3 --tag retry2 >r3b 2>err &&
	test $(mock_stat creates) -eq $before &&
	grep -c "sent before as" err >n && echo 2 >expect && test_cmp expect n &&
	bt-retry requests.jsonl <results.jsonl 2>/dev/null | bt-submit -n 3 --tag retry2 --force >r3c 2>err &&
	test $(mock_stat creates) -eq $((before + 2)) &&
	test_must_fail grep "sent before" err
'

test_done
