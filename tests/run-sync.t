#!/bin/sh
# bt-run --sync and --sync-below: small rounds (and whole jobs, asked)
# go through bt-send, resumable, in the same outcome.
. "${0%/*}/lib.sh"

mock_start --processing-time 1 --error-rate 0.2 || exit 1
records() { perl -e 'print qq({"id":"'$1'$_","text":"'$1' text $_"}\n) for 1..'$2 >"$1.jsonl"; }
# own FILE N: N records out, in input order, each answered with its own text
own() {
	test_lines $2 "$1" &&
	jq -r "select(.status != \"succeeded\" or .response != .text) | .id" "$1" >own.bad &&
	test_must_be_empty own.bad &&
	jq -r .id "$1" >own.order && jq -r .id "${1%.out}.jsonl" >own.want &&
	test_cmp own.want own.order
}

test_expect_success '--sync: the whole job through bt-send, no batch made' '
	records a 30 &&
	before=$(mock_stat creates) &&
	bt-run -w a.work --sync -m claude-haiku-4-5 --id .id -p .text a.jsonl >a.out 2>err &&
	own a.out 30 &&
	test $(mock_stat creates) -eq $before &&
	test -s a.work/round.01/sync
'

test_expect_success 'a job under --sync-below (20 by default) goes through bt-send' '
	records b 12 &&
	before=$(mock_stat creates) &&
	bt-run -w b.work -m claude-haiku-4-5 --id .id -p .text b.jsonl >b.out 2>err &&
	own b.out 12 &&
	test $(mock_stat creates) -eq $before
'

test_expect_success 'a larger job: one batch, then the retry tail through bt-send' '
	records c 60 &&
	before=$(mock_stat creates) &&
	bt-run -w c.work --sync-below 60 -m claude-haiku-4-5 --id .id -p .text c.jsonl >c.out 2>err &&
	own c.out 60 &&
	test $(mock_stat creates) -eq $((before + 1)) &&
	test -s c.work/round.02/sync &&
	test_must_fail test -e c.work/round.02/batches.jsonl
'

test_expect_success '-v: what the job cost, and what the part through bt-send would have cost in batches' '
	bt-run -v -w c.work --sync-below 60 -m claude-haiku-4-5 --id .id -p .text c.jsonl >c2.out 2>err &&
	test_cmp c.out c2.out &&
	test_grep "^bt-run: cost [0-9.]+ USD, of which [0-9.]+ through bt-send at standard prices; all in batches: [0-9.]+ USD" err
'

test_expect_success '--sync-below 0: every round is a batch' '
	records d 25 &&
	before=$(mock_stat creates) &&
	bt-run -w d.work --sync-below 0 -m claude-haiku-4-5 --id .id -p .text d.jsonl >d.out 2>err &&
	own d.out 25 &&
	test $(mock_stat creates) -gt $((before + 1))
'

test_expect_success 'killed in a sync round and run again: every record once, no line twice' '
	records e 40 &&
	mock_fault "messages:slow:0.3*0" &&
	{ bt-run -w e.work --sync -m claude-haiku-4-5 --id .id -p .text e.jsonl >/dev/null 2>&1 & } &&
	pid=$! && wait_for test -s e.work/round.01/results.part &&
	{ pkill -9 -P $pid; kill -9 $pid; wait $pid; :; } &&
	curl -sS -X DELETE "$MOCK_URL/_mock/faults" >/dev/null &&
	test -s e.work/round.01/results.part &&
	bt-run -w e.work --sync -m claude-haiku-4-5 --id .id -p .text e.jsonl >e.out 2>err &&
	own e.out 40 &&
	for f in e.work/round.*/results.jsonl; do jq -r .custom_id $f | sort | uniq -d; done >dups &&
	test_must_be_empty dups
'

test_expect_success 'usage: --sync-below needs a whole number' '
	test_expect_code 2 bt-run --sync-below x a.jsonl 2>err &&
	test_grep "sync-below: not a whole number" err
'

test_expect_success 'a work directory in use: a second bt-run refuses at once, naming the PID; the first goes on' '
	records f 10 &&
	mock_fault "messages:slow:1*0" &&
	{ bt-run -w f.work --sync -m claude-haiku-4-5 --id .id -p .text f.jsonl >f.out 2>f.err & } &&
	pid=$! &&
	i=0 && until [ -s f.work/lock ] || [ $i -gt 200 ]; do sleep 0.05; i=$((i + 1)); done &&
	test_expect_code 1 bt-run -w f.work --sync -m claude-haiku-4-5 --id .id -p .text f.jsonl >second 2>err &&
	test_grep "^bt-run: f.work is in use by another bt-run \(PID $pid\); wait for it, or use another -w$" err &&
	test_must_be_empty second &&
	wait $pid &&
	curl -sS -X DELETE "$MOCK_URL/_mock/faults" >/dev/null &&
	own f.out 10 &&
	bt-run -w f.work --sync -m claude-haiku-4-5 --id .id -p .text f.jsonl >again &&
	test_cmp f.out again
'

test_done
