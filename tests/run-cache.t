#!/bin/sh
# bt-run --cache (issue 20): a job answers from the response store what
# it holds and sends only the rest; a job run again in a new work
# directory sends nothing; a records file that grew pays for the new
# records only; four jobs side by side share one store; bt-cost, --status
# and -v say what the store saved.
. "${0%/*}/lib.sh"

mock_start --processing-time 0.3 || exit 1
# records FILE FROM TO: records FROM..TO, each with its own text
records() { awk -v a="$2" -v b="$3" 'BEGIN { for (i = a; i <= b; i++) printf "{\"id\":\"r%d\",\"text\":\"record %d\"}\n", i, i }' >"$1"; }
# own FILE N: N records out, in input order, each with its own answer
own() {
	test_lines $2 "$1" &&
	jq -r "select(.status != \"succeeded\" or .response != .text) | .id" "$1" >own.bad &&
	test_must_be_empty own.bad
}
# sent: what bt-mock was asked, in batches and synchronously
sent() { echo $(( $(mock_stat requests) + $(mock_stat answered) )); }
job() { bt-run --cache store.db -m claude-haiku-4-5 --id .id -p .text "$@"; }

test_expect_success '500 records with --cache; then the same and 50 more in a new work directory: exactly 50 sent' '
	records r500.jsonl 1 500 &&
	records r550.jsonl 1 550 &&
	s0=$(sent) &&
	job -w w1 r500.jsonl >out1.jsonl 2>err1 &&
	own out1.jsonl 500 &&
	test $(( $(sent) - s0 )) = 500 &&
	test "$(sqlite3 store.db "SELECT count(*) FROM answers")" = 500 &&
	s1=$(sent) &&
	job -w w2 r550.jsonl >out2.jsonl 2>err2 &&
	own out2.jsonl 550 &&
	test $(( $(sent) - s1 )) = 50 &&
	test_lines 500 w2/round.01/cached.jsonl &&
	"$TESTS/schema-check.py" MessageBatchIndividualResponse w2/round.01/cached.jsonl &&
	test_lines 50 w2/round.01/todo.jsonl &&
	test "$(sqlite3 store.db "SELECT count(*) FROM answers")" = 550
'

test_expect_success 'a finished job run again in a new work directory sends nothing, and joins the same' '
	s0=$(sent) && c0=$(mock_stat creates) &&
	BT_CACHE=store.db bt-run -w w3 -m claude-haiku-4-5 --id .id -p .text r550.jsonl >out3.jsonl 2>err3 &&
	test_cmp out2.jsonl out3.jsonl &&
	test $(sent) = $s0 &&
	test $(mock_stat creates) = $c0 &&
	test_must_be_empty w3/round.01/todo.jsonl &&
	test_must_fail test -e w3/round.02
'

test_expect_success 'another prompt, model or max_tokens is not answered from the store' '
	s0=$(sent) &&
	head -n 30 r500.jsonl >r30.jsonl &&
	bt-run --cache store.db -w w4 -m claude-haiku-4-5 --max-tokens 100 --id .id -p .text r30.jsonl >out4.jsonl 2>/dev/null &&
	own out4.jsonl 30 &&
	test $(( $(sent) - s0 )) = 30 &&
	test_must_be_empty w4/round.01/cached.jsonl
'

test_expect_success 'bt-cost bills the store.s answers at 0 and says what they saved; --status and -v say how many' '
	cat w2/round.*/cached.jsonl w2/round.*/results.jsonl | bt-cost >cost &&
	jq -c "[.cached.requests, (.cached.saved_usd > 0), ([.models[] | select(.tier == \"cached\") | .cost_usd] | add)]" cost >actual &&
	echo "[500,true,0]" >expect &&
	test_cmp expect actual &&
	bt-run --status --json -w w2 >st &&
	jq -c "[.done, .cached, (.saved_usd > 0), .rounds[0].cached, .rounds[0].requests]" st >actual &&
	echo "[true,500,true,500,550]" >expect &&
	test_cmp expect actual &&
	bt-run --status -w w2 >st.txt &&
	test_grep "^round 1: 550 requests, 500 answered by the response store" st.txt &&
	test_grep "; 500 answered by the response store, which saved [0-9.]+ USD$" st.txt &&
	records r560.jsonl 1 560 &&
	job -v -w w5 r560.jsonl >out5.jsonl 2>err5 &&
	test_grep "^bt-run: round 1: 550 of 560 requests answered by the response store$" err5 &&
	test_grep "^bt-run: 550 answer\(s\) from the response store, not paid for again: they cost [0-9.]+ USD when bought$" err5
'

test_expect_success 'a job begun without --cache stores its answers when run with it' '
	records n.jsonl 1001 1040 &&
	bt-run -w w6 -m claude-haiku-4-5 --id .id -p .text n.jsonl >out6.jsonl 2>/dev/null &&
	test "$(sqlite3 store.db "SELECT count(*) FROM answers WHERE custom_id LIKE \"r10__\"")" = 0 &&
	job -w w6 n.jsonl >out6b.jsonl 2>/dev/null &&
	test_cmp out6.jsonl out6b.jsonl &&
	test "$(sqlite3 store.db "SELECT count(*) FROM answers WHERE custom_id LIKE \"r10__\"")" = 40
'

test_expect_success '--sample 1: other answers, bought once and found again; the sample is part of the job' '
	head -n 25 r500.jsonl >r25.jsonl &&
	s0=$(sent) &&
	job --sample 1 -w s1 r25.jsonl >s1.out 2>/dev/null &&
	own s1.out 25 &&
	test $(( $(sent) - s0 )) = 25 &&
	test "$(sqlite3 store.db "SELECT count(*) FROM answers WHERE sample = 1")" = 25 &&
	s0=$(sent) &&
	job --sample 1 -w s2 r25.jsonl >s2.out 2>/dev/null &&
	test $(sent) = $s0 &&
	test_expect_code 2 job -w s1 r25.jsonl >/dev/null 2>err &&
	test_grep "holds another job: --sample 1 there, not here" err
'

test_expect_success 'a store that refuses the answers (as a full disk would): the job ends, says so, and stores them when run again' '
	records f.jsonl 3001 3030 &&
	cp store.db full.db &&
	sqlite3 full.db "CREATE TRIGGER full BEFORE INSERT ON answers BEGIN SELECT RAISE(ABORT, \"database or disk is full\"); END" &&
	bt-run --cache full.db -w wf -m claude-haiku-4-5 --id .id -p .text f.jsonl >f.out 2>err &&
	own f.out 30 &&
	test_grep "^bt-cache: full.db: cannot store the answer to r30[0-9][0-9]: database or disk is full$" err &&
	test_grep "^bt-run: round 1: its answers are not in the response store full.db \(see above\); they are in wf/round.01/results.jsonl, and bt-run will store them when it runs again$" err &&
	test_must_fail test -e wf/round.01/stored &&
	sqlite3 full.db "DROP TRIGGER full" &&
	bt-run --cache full.db -w wf -m claude-haiku-4-5 --id .id -p .text f.jsonl >f2.out 2>err2 &&
	test_cmp f.out f2.out &&
	test -e wf/round.01/stored &&
	test "$(sqlite3 full.db "SELECT count(*) FROM answers WHERE custom_id LIKE \"r30__\"")" = 30
'

test_expect_success '--sample without a store is refused' '
	test_expect_code 2 bt-run --sample 2 -w nos -m claude-haiku-4-5 --id .id -p .text r25.jsonl 2>err &&
	echo "bt-run: --sample goes with --cache (or BT_CACHE): the sample of the response store'"'"'s answers" >expect &&
	test_cmp expect err &&
	test_must_fail test -e nos
'

mock_stop
mock_start --processing-time 0.5 --error-rate 0.1 --seed 3 || exit 1

test_expect_success 'four jobs side by side on one store, overlapping, 10% errors: each gets every answer, nothing lost' '
	records a.jsonl 2001 2300 && records b.jsonl 2151 2450 &&
	records c.jsonl 2301 2600 && records d.jsonl 2001 2600 &&
	for j in a b c d; do
		{ bt-run --cache four.db -w four.$j -m claude-haiku-4-5 --id .id -p .text $j.jsonl >$j.out 2>$j.err & } || exit 1
	done &&
	wait &&
	own a.out 300 && own b.out 300 && own c.out 300 && own d.out 600 &&
	test "$(sqlite3 four.db "SELECT count(*) FROM answers")" = 600 &&
	test "$(sqlite3 four.db "PRAGMA integrity_check")" = ok &&
	s0=$(sent) &&
	bt-run --cache four.db -w four.e -m claude-haiku-4-5 --id .id -p .text d.jsonl >e.out 2>/dev/null &&
	test_cmp d.out e.out &&
	test $(sent) = $s0
'

. "$TESTS/openai-lib.sh"
mock_stop
mock_start --processing-time 0.3 --key "$KEY" $MODELS || exit 1
OPENAI_API_KEY=$KEY OPENAI_BASE_URL=$MOCK_URL/v1
export OPENAI_API_KEY OPENAI_BASE_URL

test_expect_success 'OpenAI: a job run again in a new work directory sends nothing; an Anthropic store entry is not an answer' '
	head -n 40 r500.jsonl >o40.jsonl &&
	s0=$(sent) &&
	bt-run --provider openai --cache store.db -w o1 -m gpt-4.1-mini --id .id -p .text o40.jsonl >o1.out 2>/dev/null &&
	own o1.out 40 &&
	test $(( $(sent) - s0 )) = 40 &&
	test "$(sqlite3 store.db "SELECT count(*) FROM answers WHERE provider = \"openai\"")" = 40 &&
	s0=$(sent) &&
	bt-run --provider openai --cache store.db -w o2 -m gpt-4.1-mini --id .id -p .text o40.jsonl >o2.out 2>/dev/null &&
	test_cmp o1.out o2.out &&
	test $(sent) = $s0 &&
	test_lines 40 o2/round.01/cached.jsonl &&
	ocheck BatchRequestOutput o2/round.01/cached.jsonl
'

test_done
