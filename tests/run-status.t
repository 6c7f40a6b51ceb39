#!/bin/sh
# bt-run --status, --detach and -o, and the options bt-run passes on:
# --max-cost, --truncated and --set, --api-key-file, --interval and
# --timeout; and --reject, whose records come out of the join.
. "${0%/*}/lib.sh"

# 3 s: --status must find the batch still running however slow the
# machine; the tests after it wait for the batches to end, never a time
mock_start --processing-time 3 || exit 1
# ended DIR: every batch of DIR's first round has ended on bt-mock
ended() {
	_ids=$(sed -n 's/^{"id":"\([^"]*\)".*/\1/p' "$1"/round.01/batches.jsonl) &&
	[ -n "$_ids" ] && mock_ended $_ids
}
perl -e 'print qq({"id":"r$_","text":"record $_"}\n) for 1..6' >six.jsonl
run() { bt-run --sync-below 0 -m claude-haiku-4-5 --id .id -p .text "$@"; }
# norm: the status text with batch ids and times made fixed
norm() { sed -E 's/msgbatch_[A-Za-z0-9]+/msgbatch_X/g; s/expires in [0-9hdm]+/expires in T/; s/PID [0-9]+/PID N/'; }

test_expect_success '--status of a directory that is not there: exit 1, named' '
	test_expect_code 1 bt-run --status -w nowhere >out 2>err &&
	test_must_be_empty out &&
	test_grep "^bt-run: nowhere: no such work directory$" err
'

test_expect_success '--detach: the round is sent, the job left running, exit 0, nothing on stdout' '
	run --detach -w d.work six.jsonl >out 2>err &&
	test_must_be_empty out &&
	test_grep "^bt-run: round 1: 6 requests in 1 batch\(es\), running; run the same command again to go on \(bt-run --status -w d.work to look\)$" err &&
	test -s d.work/round.01/batches.jsonl &&
	! test -e d.work/round.01/ended.jsonl &&
	test $(mock_stat creates) -eq 1
'

test_expect_success '--status while it runs: each round and batch, fresh from the API; exit 3' '
	test_expect_code 3 bt-run --status -w d.work >out 2>err &&
	test_must_be_empty err &&
	norm <out >got &&
	cat >want <<-\EOF &&
	d.work: not running; 6 requests
	round 1: 6 requests in 1 chunk(s), 1 batch(es); 0 results
	  msgbatch_X  in_progress, 6 processing; expires in T
	results: 0; cost so far 0.000000 USD
	next: bt-run: wait for 1 batch(es) of round 1 (or --detach: look, and leave)
	EOF
	test_cmp want got &&
	test_expect_code 3 bt-run --status --json -w d.work >json &&
	jq -r "[.done, (.runner | tojson), .requests, (.rounds[0].batches[0] | .processing_status, .request_counts.processing, (.expires_in > 86000))] | @tsv" json >got &&
	printf "false\tnull\t6\tin_progress\t6\ttrue\n" >want && test_cmp want got
'

test_expect_success '--status --offline reads only the files: no key, no request' '
	before=$(mock_stat http) &&
	(unset ANTHROPIC_API_KEY; test_expect_code 3 bt-run --status --offline -w d.work >out) &&
	test_grep "in_progress, 6 processing" out &&
	test $(mock_stat http) -eq $before
'

test_expect_success 'the same command once the batch ended: fetched and joined; --status says done, exit 0' '
	wait_for ended d.work &&
	run --detach -w d.work six.jsonl >out 2>err &&
	test_lines 6 out &&
	jq -r "select(.status != \"succeeded\" or .response != .text) | .id" out >bad &&
	test_must_be_empty bad &&
	test $(mock_stat creates) -eq 1 &&
	bt-run --status -w d.work >st &&
	norm <st >got &&
	cat >want <<-\EOF &&
	d.work: done; 6 requests
	round 1: 6 requests in 1 chunk(s), 1 batch(es); 6 results
	  msgbatch_X  ended, 6 succeeded
	results: 6; cost so far 0.000036 USD
	next: nothing: the job is done
	EOF
	test_cmp want got
'

test_expect_success 'on a terminal, a bar a batch' '
	script -qec "bt-run --status -w d.work" /dev/null >tty &&
	test_grep "msgbatch_[A-Za-z0-9]+  \[####################\]  ended, 6 succeeded" tty
'

test_expect_success 'while a runner holds the lock, --status names it' '
	{ bt-run --sync-below 0 -m claude-haiku-4-5 --id .id -p .text -w l.work six.jsonl >/dev/null 2>&1 & } &&
	pid=$! &&
	wait_for test -s l.work/round.01/batches.jsonl &&
	test_expect_code 3 bt-run --status -w l.work >out &&
	test_grep "^l.work: running \(bt-run PID $pid\); 6 requests$" out &&
	test_grep "^next: nothing: bt-run \(PID $pid\) is working on it$" out &&
	wait $pid &&
	bt-run --status -w l.work >out &&
	test_grep "^l.work: done" out
'

test_expect_success '-o FILE: written whole when the job is done, not before' '
	run --detach -w o.work -o o.jsonl six.jsonl 2>/dev/null &&
	! test -e o.jsonl && ! test -e o.jsonl.tmp &&
	wait_for ended o.work &&
	run --detach -w o.work -o o.jsonl six.jsonl >out 2>/dev/null &&
	test_must_be_empty out &&
	test_lines 6 o.jsonl && ! test -e o.jsonl.tmp
'

test_expect_success '--max-cost: over it, nothing is sent (exit 2, the figures named); under it, the job runs' '
	before=$(mock_stat creates) &&
	test_expect_code 2 run -w m.work --max-cost 0.0001 --max-tokens 1000 six.jsonl >out 2>err &&
	test_must_be_empty out &&
	test_grep "^bt-run: round 1: spent 0 USD, and this round may cost up to 0.0150[0-9]* USD: over --max-cost 0.0001; nothing sent$" err &&
	test $(mock_stat creates) -eq $before &&
	run -w m2.work --max-cost 0.02 --max-tokens 1000 six.jsonl >out 2>/dev/null &&
	test_lines 6 out &&
	test_expect_code 1 bt-run --sync-below 0 -w m4.work --max-cost 5 -m claude-unknown-9 -p .text six.jsonl >out 2>err &&
	test_must_be_empty out &&
	test_grep "^bt-cost: stdin:1: unknown model \"claude-unknown-9\"" err &&
	test_grep "^bt-run: round 1: --max-cost: this round.s cost cannot be bounded \(see above\)$" err &&
	test $(mock_stat creates) -eq $((before + 1)) &&
	test_expect_code 2 run -w m3.work --max-cost 1e3 six.jsonl 2>err &&
	test_grep "^bt-run: --max-cost: not an amount of dollars: .1e3.$" err
'

test_expect_success '--truncated --set: answers cut at max_tokens are sent again with more' '
	perl -e "print qq({\"id\":\"t\$_\",\"text\":\"a long record number \$_, longer than four tokens\"}\n) for 1..3" >t.jsonl &&
	run -w t.work --max-tokens 4 --truncated --set ".params.max_tokens = 100" t.jsonl >out 2>/dev/null &&
	jq -r "select(.response != .text) | .id" out >bad && test_must_be_empty bad &&
	test $(wc -l <t.work/round.02/requests.jsonl) -eq 3 &&
	jq -r .params.max_tokens t.work/round.02/requests.jsonl | sort -u >got &&
	echo 100 >want && test_cmp want got
'

test_expect_success '--api-key-file: the key from a file, to every program that talks to the API' '
	echo sk-test-key >key &&
	(unset ANTHROPIC_API_KEY; run -w k.work --api-key-file key six.jsonl >out 2>err) &&
	test_lines 6 out &&
	test_expect_code 2 run -w k2.work --api-key-file nokey six.jsonl 2>err &&
	test_grep "^bt-run: --api-key-file: cannot read nokey$" err
'

test_expect_success '--timeout: bt-wait gives up, exit 3; run again, it goes on' '
	test_expect_code 3 run -w w.work --interval 100ms --timeout 500ms six.jsonl >out 2>err &&
	test_must_be_empty out &&
	test_grep "^bt-run: round 1: batches not ended by --timeout; run bt-run again to go on$" err &&
	! test -e w.work/round.01/ended.jsonl.tmp &&
	run -w w.work --interval 100ms --timeout 10s six.jsonl >out 2>/dev/null &&
	test_lines 6 out
'

test_expect_success 'a job whose formatting failed leaves no job file: fixed, it runs in the same directory' '
	test_expect_code 2 bt-run --sync-below 0 -w f.work -m claude-haiku-4-5 --id .id -p ".nope | error(\"no\")" six.jsonl >out 2>err &&
	! test -e f.work/job && ! test -e f.work/requests.jsonl &&
	run -w f.work six.jsonl >out 2>err &&
	test_lines 6 out
'

test_expect_success '--reject: the job goes on; rejected records come out of the join, once each, in place; exit 3 (not every record succeeded)' '
	printf "%s\n" "{\"id\":\"a1\",\"text\":\"one\"}" "not json" "{\"id\":\"a3\",\"text\":null}" "{\"id\":\"a4\",\"text\":\"four\"}" >rj.jsonl &&
	test_expect_code 3 run -w rj.work --reject rej.jsonl rj.jsonl >out 2>err &&
	cat >want <<-\EOF &&
	{"id":"a1","text":"one","response":"one","stop_reason":"end_turn","status":"succeeded"}
	{"record":"not json","response":null,"status":"rejected","error":"invalid JSON: invalid literal (expected null) at column 1"}
	{"id":"a3","text":null,"response":null,"status":"rejected","error":"-p: gave null, not a string or an array of content blocks"}
	{"id":"a4","text":"four","response":"four","stop_reason":"end_turn","status":"succeeded"}
	EOF
	test_cmp want out &&
	test_lines 2 rej.jsonl && test_cmp rej.jsonl rj.work/rejected.jsonl &&
	test_grep "^bt-run: 2 record\(s\) rejected \(in rej.jsonl\); they come out as rejected$" err &&
	test_grep "^bt-join: 4 records: 2 succeeded, 2 rejected$" err &&
	test_expect_code 3 run -w rj.work --reject rej.jsonl --strict rj.jsonl >out2 2>/dev/null &&
	test_cmp want out2
'

test_expect_success '--schema: answers are data, flattened into columns; the schema file is part of the job' '
	echo "{\"type\":\"object\",\"properties\":{\"who\":{\"type\":\"string\"},\"n\":{\"type\":\"integer\",\"minimum\":7}},\"required\":[\"who\",\"n\"]}" >s.json &&
	run -w s.work --schema s.json --flatten six.jsonl >out 2>/dev/null &&
	jq -r "[.id, .n, (.who == \"who: \" + .text)] | @tsv" out >got 2>&1 &&
	jq -r "[.id, 7, true] | @tsv" six.jsonl >want &&
	test_cmp want got &&
	run -w s2.work --schema s.json -s "never say --tool here" --flatten six.jsonl >out 2>/dev/null &&
	jq -r "[.id, .n, (.who == \"who: \" + .text)] | @tsv" out >got 2>&1 &&
	test_cmp want got &&
	echo "{\"type\":\"object\",\"properties\":{\"who\":{\"type\":\"string\"}}}" >s.json &&
	test_expect_code 2 run -w s.work --schema s.json --flatten six.jsonl >out 2>err &&
	test_grep "holds another job" err
'

test_expect_success 'a batch the API does not know: --status and --detach fail (exit 1), naming it' '
	mkdir -p u.work/round.01 && cp d.work/job d.work/requests.jsonl d.work/lock u.work/ &&
	cp -r d.work/state u.work/ && cp d.work/round.01/chunks.txt u.work/round.01/ &&
	jq -c ".id = \"msgbatch_nosuchbatch000000000000\"" d.work/round.01/batches.jsonl >u.work/round.01/batches.jsonl &&
	test_expect_code 1 bt-run --status -w u.work >out 2>err &&
	test_must_be_empty out &&
	test_grep "msgbatch_nosuchbatch000000000000" err &&
	test_grep "^bt-run: round 1: bt-wait could not look at the batches$" err &&
	test_expect_code 1 run --detach -w u.work six.jsonl >out 2>err &&
	test_must_be_empty out &&
	test_grep "msgbatch_nosuchbatch000000000000" err &&
	test_grep "^bt-run: round 1: bt-wait failed; run bt-run again to go on$" err
'

test_expect_success 'status and detach options are checked' '
	test_expect_code 2 bt-run --status -w d.work six.jsonl 2>err &&
	test_grep "^bt-run: --status takes no records: six.jsonl$" err &&
	test_expect_code 2 run --json -w d.work six.jsonl 2>err &&
	test_grep "^bt-run: --offline and --json go with --status$" err
'

test_done
