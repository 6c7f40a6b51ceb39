#!/bin/sh
# bt-run, and the whole pipeline end to end through bt-mock with faults on:
# every record comes back exactly once, with its own answer, in order, and
# nothing is paid for twice.
. "${0%/*}/lib.sh"

mock_start --processing-time 0.4 --error-rate 0.1 --expire-rate 0.03 --seed 11 || exit 1
# the batch ids the journals of a work dir hold
journaled() { cat "$1"/state/journal/*.json | jq -r '(.batch.id // empty), .superseded[]' | sort -u; }

perl -e 'print qq({"id":"rec-$_","text":"record $_ says: caf\\u00e9 \\"$_\\" \\\\ $_"}\n) for 1..10000' >records.jsonl

test_expect_success '10,000 records, several chunks, faults on: every record succeeds exactly once, with its own answer, in order' '
	mock_fault "create:429:1*1" "create:529*2" "create:drop*1" "results:cut:100000*1" &&
	bt-run -w work -n 3000 --rounds 8 -m claude-haiku-4-5 --id .id -p "\"Q: \\(.text)\"" records.jsonl >joined.jsonl 2>err &&
	test_lines 10000 joined.jsonl &&
	jq -r .id records.jsonl >want.ids && jq -r .id joined.jsonl >got.ids &&
	test_cmp want.ids got.ids &&
	jq -r .status joined.jsonl | sort | uniq -c | sed "s/^ *//" >statuses &&
	echo "10000 succeeded" >expect && test_cmp expect statuses &&
	jq -r "select(.response != \"Q: \" + .text) | .id" joined.jsonl >wrong &&
	test_must_be_empty wrong &&
	test $(wc -l <work/round.01/chunks.txt) -eq 4 &&
	test -d work/round.02
'

test_expect_success 'no duplicate batch: every batch made is in a journal, once' '
	journaled work >ids &&
	echo "creates $(mock_stat creates), journaled $(wc -l <ids)" &&
	test $(mock_stat creates) -eq $(wc -l <ids) &&
	jq -s "map(.request_counts[]) | add" work/round.01/batches.jsonl >n &&
	echo 10000 >expect && test_cmp expect n
'

test_expect_success 'run again: the same output, nothing sent' '
	before=$(mock_stat creates) &&
	bt-run -w work -n 3000 --rounds 8 -m claude-haiku-4-5 --id .id -p "\"Q: \\(.text)\"" records.jsonl >again.jsonl 2>/dev/null &&
	test_cmp joined.jsonl again.jsonl &&
	test $(mock_stat creates) -eq $before
'

test_expect_success 'another job in the same work dir is refused' '
	test_expect_code 2 bt-run -w work -m other --id .id -p .text records.jsonl >out 2>err &&
	test_grep "^bt-run: work holds another job: -m claude-haiku-4-5 there, -m other here; -n 3000 there, not here; -p .\"Q: .\(\.text\)\". there, -p \.text here; use another -w, or remove work$" err &&
	test_lines 1 err
'

head -n 300 records.jsonl >small.jsonl
run_small() { bt-run -w "$1" -n 100 --rounds 6 -m m --id .id -p .text small.jsonl; }

test_expect_success 'killed with SIGKILL at several points and run again: the same output, no duplicate batch' '
	run_small ref >ref.jsonl 2>/dev/null &&
	# kills at fixed times on purpose: points the job reaches by itself,
	# not a condition to wait for (6 s in all)
	for t in 0.1 0.3 0.6 1.0 1.5 2.5; do
		rm -rf w &&
		before=$(mock_stat creates) &&
		{ setsid sh -c "cd \"$TRASH\" && exec bt-run -w w -n 100 --rounds 6 -m m --id .id -p .text small.jsonl" >/dev/null 2>&1 & } &&
		pid=$! && sleep $t && kill -9 -- -$pid 2>/dev/null; wait $pid;
		run_small w >out.jsonl 2>err || { echo "after a kill at $t s:"; cat err; return 1; }
		jq -c "[.id, .status]" ref.jsonl >a && jq -c "[.id, .status]" out.jsonl >b &&
		test_cmp a b || return 1
		journaled w >ids &&
		test $(($(mock_stat creates) - before)) -eq $(wc -l <ids) || { echo "kill at $t: duplicate batch"; return 1; }
	done
'

test_expect_success 'usage errors' '
	test_expect_code 2 bt-run -m m -p .text 2>err && test_grep "^usage: bt-run" err &&
	test_expect_code 2 bt-run -m m -p .text nosuch.jsonl 2>err &&
	echo "bt-run: nosuch.jsonl: no such file" >expect && test_cmp expect err &&
	test_expect_code 2 bt-run --rounds x -m m -p .text small.jsonl 2>err &&
	test_grep "rounds: not a whole number" err &&
	test_expect_code 2 bt-run --bogus small.jsonl 2>err &&
	test_grep "unknown option: --bogus" err &&
	test_expect_code 2 bt-run -m m -p .text - <small.jsonl 2>err &&
	echo "bt-run: records must be a file (bt-run resumes from it)" >expect && test_cmp expect err
'

test_expect_success 'a failing step stops the job with its message, and a rerun goes on' '
	printf "{\"id\":\"a\",\"text\":\"x\"}\nnot json\n" >bad.jsonl &&
	test_expect_code 2 bt-run -w wb -m m --id .id -p .text bad.jsonl >out 2>err &&
	test_grep "bad.jsonl:2: invalid JSON" err &&
	test_grep "bt-run: bt-format failed" err &&
	test_must_fail test -e wb/requests.jsonl &&
	test_must_fail test -e wb/requests.jsonl.tmp
'

test_done
