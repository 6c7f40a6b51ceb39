#!/bin/sh
# A batch fetched twice: bt-fetch --done fetches each batch once; bt-cost
# and bt-join count a repeated result line once (issue 13, item 6).
. "${0%/*}/lib.sh"

mock_start --processing-time 0.3 || exit 1

perl -e 'print qq({"id":"t$_","text":"ticket $_"}\n) for 1..30' >docs.jsonl

test_expect_success 'setup: 30 requests in 3 batches, ended' '
	bt-format -m claude-haiku-4-5 --id .id -p .text docs.jsonl >requests.jsonl &&
	bt-submit -n 10 <requests.jsonl >batches.jsonl &&
	test_lines 3 batches.jsonl &&
	bt-wait --interval 0.1 <batches.jsonl >/dev/null &&
	test "$(mock_stat requests)" = 30
'

test_expect_success 'the old cron line, run twice, writes every result twice; bt-cost bills each once, bt-join gives each record once' '
	bt-wait --once <batches.jsonl | bt-fetch >>old.jsonl &&
	bt-wait --once <batches.jsonl | bt-fetch >>old.jsonl &&
	test_lines 60 old.jsonl &&
	bt-cost old.jsonl | jq -r .total.requests >actual &&
	mock_stat requests >expect &&
	test_cmp expect actual &&
	sort -u old.jsonl >once.jsonl && test_lines 30 once.jsonl &&
	bt-cost old.jsonl >cost.twice && bt-cost once.jsonl >cost.once &&
	test_cmp cost.once cost.twice &&
	bt-join --id .id docs.jsonl <old.jsonl >joined.twice &&
	bt-join --id .id docs.jsonl <once.jsonl >joined.once &&
	test_cmp joined.once joined.twice && test_lines 30 joined.twice
'

test_expect_success 'the cron line of the README, run twice: each result once, billed as the mock counts' '
	bt-wait --once <batches.jsonl | bt-fetch --done fetched.txt >>results.jsonl &&
	bt-wait --once <batches.jsonl | bt-fetch --done fetched.txt >>results.jsonl &&
	test_lines 30 results.jsonl &&
	jq -r .custom_id results.jsonl | sort -u | wc -l >actual &&
	echo 30 >expect && test_cmp expect actual &&
	jq -r .id batches.jsonl | sort >expect &&
	sort fetched.txt >actual && test_cmp expect actual &&
	bt-cost results.jsonl | jq -r .total.requests >actual &&
	mock_stat requests >expect && test_cmp expect actual &&
	sort results.jsonl >a && sort once.jsonl >b && test_cmp b a
'

test_expect_success '--done: a batch listed is not asked for at all; -v says it was skipped' '
	before=$(mock_stat http) &&
	bt-fetch -v --done fetched.txt <batches.jsonl >out 2>err &&
	test_must_be_empty out &&
	test "$(mock_stat http)" = "$before" &&
	jq -r ".id + \": fetched before (listed in fetched.txt): skipped\"" batches.jsonl | sed "s/^/bt-fetch: /" >expect &&
	test_cmp expect err
'

test_expect_success '--done: a batch that fails is not listed, and is fetched on the next run' '
	jq -r .id batches.jsonl >ids &&
	head -n 1 ids >part.txt &&
	echo msgbatch_nosuchbatch000000000000 >ask &&
	cat ids ask | test_expect_code 1 bt-fetch --done part.txt >out 2>err &&
	test_lines 20 out &&
	test_grep "msgbatch_nosuchbatch" err &&
	test_cmp ids part.txt &&
	bt-fetch --done part.txt <ids >out2 &&
	test_must_be_empty out2
'

test_expect_success '--done: a crash between the results and the list repeats the batch, which costs nothing' '
	head -n 2 ids >crash.txt &&
	sed -n 3p ids | bt-fetch >>crash.jsonl &&
	bt-fetch --done crash.txt <ids >>crash.jsonl &&
	test_lines 20 crash.jsonl &&
	bt-fetch <ids >>crash.jsonl &&
	bt-cost crash.jsonl | jq -r .total.requests >actual &&
	echo 30 >expect && test_cmp expect actual &&
	bt-join --id .id docs.jsonl <crash.jsonl >joined &&
	test_cmp joined.once joined
'

test_expect_success '--done: a last line cut short (a crash in the write) is not a batch, and is mended' '
	head -n 1 ids >torn.txt && sed -n 2p ids | tr -d "\n" | head -c 12 >>torn.txt &&
	bt-fetch --done torn.txt <ids >out &&
	test_lines 20 out &&
	{ head -n 1 ids; sed -n 2p ids | head -c 12; echo; sed -n 2,3p ids; } >expect &&
	test_cmp expect torn.txt &&
	bt-fetch --done torn.txt <ids >out &&
	test_must_be_empty out
'

test_expect_success 'results appended to a file whose last line was cut short: that line is ended first, the new results whole' '
	printf "%s" "{\"custom_id\":\"t1\",\"res" >torn.jsonl &&
	sed -n 1p ids >one &&
	bt-fetch <one >>torn.jsonl 2>err &&
	echo "bt-fetch: stdout: its last line was cut short (by a crash in an earlier write?): ended with a newline, so that what comes after is whole" >expect &&
	test_cmp expect err &&
	test_lines 11 torn.jsonl &&
	sed 1d torn.jsonl | jq -r .custom_id >/dev/null &&
	test_expect_code 2 bt-join --id .id docs.jsonl <torn.jsonl >/dev/null 2>err &&
	test_grep "^bt-join: stdin:1: " err &&
	bt-fetch <one >>torn.jsonl 2>err && test_must_be_empty err && test_lines 21 torn.jsonl
'

test_expect_success '--done: a file that is not a list of batch ids is refused before anything is fetched' '
	before=$(mock_stat http) &&
	test_expect_code 2 bt-fetch --done results.jsonl <ids >out 2>err &&
	test_must_be_empty out &&
	echo "bt-fetch: results.jsonl:1: not a batch id: --done names a file of batch ids, one a line" >expect &&
	test_cmp expect err &&
	test "$(mock_stat http)" = "$before" &&
	test_expect_code 2 bt-fetch --done nosuchdir/done.txt <ids >out 2>err &&
	echo "bt-fetch: nosuchdir/done.txt: No such file or directory" >expect &&
	test_cmp expect err
'

# ok ID MSG_ID: a succeeded result line
ok() { printf '{"custom_id":"%s","result":{"type":"succeeded","message":{"id":"%s","type":"message","role":"assistant","model":"claude-haiku-4-5","content":[{"type":"text","text":"hi"}],"stop_reason":"end_turn","usage":{"input_tokens":1000,"output_tokens":100}}}}\n' "$1" "$2"; }

test_expect_success 'bt-cost: the same custom_id and message id is one answer; another message id is another, billed' '
	{ ok a msg_1; ok b msg_2; ok a msg_1; ok a msg_3; ok b msg_2; } >r.jsonl &&
	bt-cost r.jsonl | jq -c "[.total.requests, .total.input_tokens, .total.output_tokens]" >actual &&
	echo "[3,3000,300]" >expect && test_cmp expect actual
'

test_done
