#!/bin/sh
# Equal shards side by side on one account, through an outage that takes
# every create and answers it with a 500: each job finishes by itself,
# with its own answers only, nothing lost, and no batch paid twice (issue
# 17: before per-attempt tags, all four stalled for 300 s and refused,
# and --adopt, as advised, gave one job another's answers).
. "${0%/*}/lib.sh"

mock_start --processing-time 0.5 || exit 1

# shard K: 500 records numbered 1..500 in .n (equal ids across shards with
# --id .n), texts of their own
for k in 1 2 3 4; do
	perl -e 'print qq({"n":$_,"text":"shard '$k' record $_"}\n) for 1..500' >shard$k.jsonl
done

# run_shards TAG STAGGER ID-OPTION: four bt-runs at once, the Kth started
# after K*STAGGER seconds; each must exit 0
run_shards() {
	_pids=
	for k in 1 2 3 4; do
		( [ "$2" = 0 ] || sleep "$(echo "$k * $2" | bc)"
		  bt-run -w "$1.$k" -m claude-haiku-4-5 $3 -p .text shard$k.jsonl \
			>"$1.$k.out" 2>"$1.$k.err"; echo $? >"$1.$k.rc" ) &
		_pids="$_pids $!"
	done
	wait $_pids
	for k in 1 2 3 4; do
		test "$(cat "$1.$k.rc")" = 0 || { echo "job $k: exit $(cat "$1.$k.rc")"; cat "$1.$k.err"; return 1; }
	done
}
# own TAG: every job's 500 records came back succeeded, each with its own
# text; prints the number of foreign answers (0)
own() {
	for k in 1 2 3 4; do
		test_lines 500 "$1.$k.out" || return 1
		jq -r 'select(.status != "succeeded" or .response != .text) | .n' "$1.$k.out"
	done >"$1.foreign"
	echo "$1: $(wc -l <"$1.foreign") foreign or missing answers"
	test_must_be_empty "$1.foreign"
}

test_expect_success 'four equal shards (--id, equal ids), four creates taken and answered 500 at once: all finish, own answers, no extra batch' '
	before=$(mock_stat creates) &&
	mock_fault "create:taken500*4" &&
	run_shards a 0 "--id .n" &&
	own a &&
	made=$(($(mock_stat creates) - before)) &&
	echo "batches made: $made for 4 chunks" &&
	test $made -eq 4
'

test_expect_success 'the same, numbered ids (no --id), faults staggered over the starts' '
	before=$(mock_stat creates) &&
	mock_fault "create:taken500*4" &&
	run_shards b 0.3 "" &&
	own b &&
	made=$(($(mock_stat creates) - before)) &&
	echo "batches made: $made for 4 chunks" &&
	test $made -eq 4
'

test_expect_success 'run again: the same answers, nothing sent' '
	before=$(mock_stat creates) &&
	run_shards a 0 "--id .n" &&
	own a &&
	test $(mock_stat creates) -eq $before
'

test_done
