#!/bin/sh
# bt-submit settles a create that got no clear answer against the batch
# list, and never takes another job's batch for its own: a candidate must
# be made inside the create's own window (on the server's clock), with as
# many requests, and known to no journal on this machine; one is adopted
# provisionally and checked by bt-fetch; several are a refusal.
. "${0%/*}/lib.sh"

mock_start --processing-time 1 || exit 1
requests() { perl -e 'print qq({"custom_id":"'$1'$_","params":{"model":"m","max_tokens":20,"messages":[{"role":"user","content":"say '$1' $_"}]}}\n) for 1..'$2; }
# a batch of N requests made by someone else (another machine, another tool)
decoy() { requests decoy$2 $1 | perl -e 'print q({"requests":[), join(",", map { chomp; $_ } <STDIN>), q(]})' >decoy.json &&
	api POST /v1/messages/batches -H 'content-type: application/json' --data-binary @decoy.json | jq -r .id; }
# ids FILE: the custom_ids of a results file, sorted
ids() { jq -r .custom_id "$1" | sort; }
# own PREFIX N FILE: FILE holds exactly the results of PREFIX1..PREFIXN,
# each answering its own request
own() {
	perl -e 'print "'$1'$_\n" for 1..'$2 | sort >own.want &&
	ids "$3" >own.got && test_cmp own.want own.got &&
	jq -r "select(.result.message.content[0].text != (\"say \" + (.custom_id | sub(\"^$1\"; \"$1 \")))) | .custom_id" "$3" >own.bad &&
	test_must_be_empty own.bad
}
# record_has JQ: some journal record under .bt matches the jq condition
record_has() { cat .bt/journal/*.json | jq -s -e "map(select($1)) | length > 0" >/dev/null; }
# wait_for JQ: until a journal record matches (at most 10 s)
wait_for() {
	_i=0
	until record_has "$1" 2>/dev/null; do
		_i=$((_i + 1)); [ $_i -lt 200 ] || { echo "wait_for: no record with $1"; return 1; }
		sleep 0.05
	done
}
# sent FILE: until the record of the chunk that is FILE (one chunk: its
# bytes) says its body went (at most 20 s: valgrind is slow)
sent() {
	_sha=$(sha256sum <"$1" | cut -c1-64)
	_i=0
	until record_has ".sha256 == \"$_sha\" and .window.sent != null" 2>/dev/null; do
		_i=$((_i + 1)); [ $_i -lt 400 ] || { echo "sent: $1 never went"; return 1; }
		sleep 0.05
	done
}
export BT_RECONCILE_GAP=0.5

test_expect_success 'a decoy made before the create began is never a candidate' '
	decoy 4 a >decoy1 &&
	# on purpose: the window opens on the server'"'"'s clock, which Date
	# headers tell to the second; the decoy must be well before it
	sleep 1.5 &&
	requests a 4 >a.jsonl &&
	before=$(mock_stat creates) &&
	mock_fault "create:drop*1" &&
	bt-submit <a.jsonl >out 2>err &&
	test $(mock_stat creates) -eq $((before + 1)) &&
	test_lines 1 out &&
	test_must_fail test "$(jq -r .id out)" = "$(cat decoy1)" &&
	test_grep "adopted msgbatch_.* provisionally" err &&
	bt-wait <out | bt-fetch >results &&
	own a 4 results
'

test_expect_success 'batches the journal knows under another tag are never adopted' '
	requests c 6 >c.jsonl &&
	bt-submit --tag r01 <c.jsonl >first &&
	requests d 6 >d.jsonl &&
	before=$(mock_stat creates) &&
	mock_fault "create:drop*1" &&
	bt-submit --tag r02 <d.jsonl >second 2>err &&
	test $(mock_stat creates) -eq $((before + 1)) &&
	test_must_fail test "$(jq -r .id first)" = "$(jq -r .id second)"
'

# The reproduction of the audit: job A runs; the next create fails after
# its body went (500, nothing made); job B of the same size must get B's
# answers, never A's.
for j in A B; do
	for i in $(seq 0 99); do echo "{\"text\":\"job $j record $i\"}"; done >"$TRASH/$j.jsonl"
done
test_expect_success 'a job never takes another job'"'"'s batch (the audit'"'"'s case)' '
	bt-run -w A.work -m claude-haiku-4-5 -p .text A.jsonl >A.out &&
	before=$(mock_stat creates) &&
	mock_fault "create:500*1" &&
	bt-run -w B.work -m claude-haiku-4-5 -p .text B.jsonl >B.out &&
	test $(mock_stat creates) -eq $((before + 1)) &&
	test_lines 100 B.out &&
	jq -r "select(.response != .text or .status != \"succeeded\") | .text" B.out >bad &&
	test_must_be_empty bad
'

test_expect_success 'two jobs of one size at once: the one whose create was lost adopts the other'"'"'s batch provisionally, lets it go, then sends its own' '
	requests e 5 >e.jsonl && requests f 5 >f.jsonl &&
	before=$(mock_stat creates) &&
	mock_fault "create:lost:2*1" "create:slow:4*1" &&
	{ BT_STATE_DIR=E.state bt-submit -v <e.jsonl >E.out 2>E.err & } &&
	i=0 && until grep -q "\"sent\":\"" E.state/journal/*.json 2>/dev/null || [ $i -gt 400 ]; do sleep 0.05; i=$((i + 1)); done &&
	BT_STATE_DIR=F.state bt-submit <f.jsonl >F.out 2>F.err &&
	wait &&
	test $(mock_stat creates) -eq $((before + 1)) &&
	test "$(jq -r .id E.out)" = "$(jq -r .id F.out)" &&
	test_grep "adopted msgbatch_.* provisionally" E.err &&
	bt-wait <F.out | BT_STATE_DIR=F.state bt-fetch >F.results && own f 5 F.results &&
	bt-wait <E.out >E.ended &&
	test_expect_code 1 env BT_STATE_DIR=E.state bt-fetch <E.ended >E.results 2>E.err &&
	test_must_be_empty E.results &&
	test_grep "proved it another.s" E.err &&
	BT_STATE_DIR=E.state bt-submit <e.jsonl >E.out &&
	test $(mock_stat creates) -eq $((before + 2)) &&
	bt-wait <E.out | BT_STATE_DIR=E.state bt-fetch >E.results && own e 5 E.results
'

test_expect_success 'killed at "sending" after the body went, nothing made: sent again once' '
	requests g 3 >g.jsonl &&
	before=$(mock_stat creates) &&
	mock_fault "create:lost:10*1" &&
	{ bt-submit <g.jsonl >/dev/null 2>&1 & } && pid=$! &&
	wait_for ".state == \"sending\" and .window.sent != null and (.chunk | test(\"spool\"))" &&
	kill -9 $pid && { wait $pid; :; } &&
	bt-submit <g.jsonl >out 2>err &&
	test $(mock_stat creates) -eq $((before + 1)) &&
	test_lines 1 out &&
	bt-wait <out | bt-fetch >results && own g 3 results
'

test_expect_success 'killed at "sending" while the batch was made: it is adopted, not sent again' '
	requests h 3 >h.jsonl &&
	before=$(mock_stat creates) &&
	mock_fault "create:slow:10*1" &&
	{ bt-submit <h.jsonl >/dev/null 2>&1 & } && pid=$! &&
	sent h.jsonl &&
	i=0 && until [ $(mock_stat creates) -eq $((before + 1)) ] || [ $i -gt 200 ]; do sleep 0.05; i=$((i + 1)); done &&
	test $(mock_stat creates) -eq $((before + 1)) &&
	kill -9 $pid && { wait $pid; :; } &&
	bt-submit <h.jsonl >out 2>err &&
	test $(mock_stat creates) -eq $((before + 1)) &&
	test_grep "an earlier create got no answer; adopted msgbatch_" err &&
	bt-wait <out | bt-fetch >results && own h 3 results &&
	record_has ".verified != null and .provisional == false"
'

test_expect_success 'a record that never sent its body whole made nothing: sent again without a look' '
	requests i 2 >i.jsonl &&
	mock_fault "create:lost:10*1" &&
	{ bt-submit <i.jsonl >/dev/null 2>&1 & } && pid=$! &&
	wait_for ".state == \"sending\" and .window.sent != null and (.chunk | test(\"spool\"))" &&
	kill -9 $pid && { wait $pid; :; } &&
	rec=$(grep -l "\"state\":\"sending\"" .bt/journal/*.json) &&
	jq -c ".window.sent = null" $rec >rec.tmp && mv rec.tmp $rec &&
	decoy 2 i >decoy2 &&
	bt-submit -v <i.jsonl >out 2>err &&
	test_grep "died before its body went whole: it made nothing" err &&
	test_must_fail test "$(jq -r .id out)" = "$(cat decoy2)"
'

test_expect_success 'one decoy inside the window: adopted on trust, disowned by bt-fetch, sent again' '
	requests j 4 >j.jsonl &&
	before=$(mock_stat creates) &&
	mock_fault "create:lost:2*1" &&
	{ bt-submit <j.jsonl >out 2>err & } && pid=$! &&
	sent j.jsonl && decoy 4 j >decoy3 &&
	wait $pid &&
	test "$(jq -r .id out)" = "$(cat decoy3)" &&
	test_grep "adopted $(cat decoy3) .* provisionally" err &&
	bt-wait <out >ended &&
	test_expect_code 1 bt-fetch <ended >results 2>err &&
	test_must_be_empty results &&
	test_grep "$(cat decoy3): adopted provisionally for .*, but its results prove it another create.s" err &&
	test_expect_code 1 bt-fetch <ended >results 2>err &&
	test_must_be_empty results &&
	test_grep "not this job.s batch" err &&
	bt-submit <j.jsonl >again &&
	test $(mock_stat creates) -eq $((before + 2)) &&
	test_must_fail test "$(jq -r .id again)" = "$(cat decoy3)" &&
	bt-wait <again | bt-fetch >results && own j 4 results
'

test_expect_success 'two decoys inside the window: both adopted provisionally, both let go by bt-fetch; --adopt of another'"'"'s batch is let go too' '
	requests k 3 >k.jsonl &&
	mock_fault "create:lost:2*1" &&
	{ bt-submit <k.jsonl >out 2>err & } && pid=$! &&
	sent k.jsonl && decoy 3 k1 >d1 && decoy 3 k2 >d2 &&
	before=$(mock_stat creates) &&
	wait $pid &&
	test_lines 2 out &&
	test $(mock_stat creates) -eq $before &&
	test_grep "2 batches could be its, all adopted provisionally: msgbatch_.* \(created 20..-..-..T.*Z, 3 requests\), msgbatch_.* \(created .*, 3 requests\)" err &&
	test_grep "$(cat d1)" err && test_grep "$(cat d2)" err &&
	bt-wait <out >ended &&
	test_expect_code 1 bt-fetch <ended >results 2>err &&
	test_must_be_empty results &&
	test_expect_code 1 bt-submit --adopt "$(jq -r .id first)" <k.jsonl >out 2>err &&
	test_grep "it has 6 requests, this chunk 3: not its batch" err &&
	test_expect_code 1 bt-submit --adopt "$(cat d1)" <k.jsonl >out 2>err &&
	test_grep "its results proved it not this chunk.s" err &&
	decoy 3 k3 >d3 && before=$(mock_stat creates) &&
	bt-submit --adopt "$(cat d3)" <k.jsonl >out 2>err &&
	test "$(jq -r .id out)" = "$(cat d3)" &&
	bt-wait <out >ended &&
	test_expect_code 1 bt-fetch <ended >results 2>err &&
	test_must_be_empty results &&
	test_grep "results prove it another create.s" err &&
	test $(mock_stat creates) -eq $before &&
	bt-submit <k.jsonl >again 2>err &&
	test $(mock_stat creates) -eq $((before + 1)) &&
	bt-wait <again | bt-fetch >results && own k 3 results
'

test_expect_success 'a decoy after the window of a create killed at "sending": not a candidate' '
	requests l 2 >l.jsonl &&
	before=$(mock_stat creates) &&
	mock_fault "create:lost:10*1" &&
	{ bt-submit <l.jsonl >/dev/null 2>&1 & } && pid=$! &&
	wait_for ".state == \"sending\" and .window.sent != null and (.chunk | test(\"spool\"))" &&
	kill -9 $pid && { wait $pid; :; } &&
	# on purpose: past the window'"'"'s end (sent + BT_RECONCILE_GRACE=1 s,
	# on the server'"'"'s clock, to the second) before the decoy is made
	sleep 2.5 && decoy 2 l >decoy4 &&
	BT_RECONCILE_GRACE=1 bt-submit <l.jsonl >out 2>err &&
	test $(mock_stat creates) -eq $((before + 2)) &&
	test_must_fail test "$(jq -r .id out)" = "$(cat decoy4)"
'

test_expect_success 'no registry (no HOME, no XDG_STATE_HOME): no provisional adoption, the chunk named' '
	requests o 2 >o.jsonl &&
	# the decoy of the test before is a second old, and Date headers
	# tell the server'"'"'s clock to the second: let it fall outside
	sleep 2 &&
	mock_fault "create:drop*1" &&
	(unset HOME XDG_STATE_HOME; test_expect_code 1 bt-submit <o.jsonl >out 2>err) &&
	test_must_be_empty out &&
	test_grep "cannot be adopted provisionally with no place to mark it: set HOME or XDG_STATE_HOME" err
'

# The server's clock is ten minutes behind ours: windows are on its clock.
mock_start --processing-time 1 --clock-skew -10m || exit 1
test_expect_success 'the window is on the server'"'"'s clock (10 minutes behind ours)' '
	requests m 3 >m.jsonl &&
	mock_fault "create:drop*1" &&
	bt-submit <m.jsonl >out 2>err &&
	test "$(mock_stat creates)" = 1 &&
	record_has ".window.from != null and (.window.from | .[0:16]) < (now - 300 | todate | .[0:16])"
'

mock_start --processing-time 1 --clock-skew 10m || exit 1
test_expect_success 'and ten minutes ahead: a decoy made just before is still outside' '
	decoy 3 n >decoy5 &&
	# on purpose, as in the first test: the decoy well before the window
	sleep 1.5 &&
	requests n 3 >n.jsonl &&
	mock_fault "create:lost*1" &&
	bt-submit <n.jsonl >out 2>err &&
	test "$(mock_stat creates)" = 2 &&
	test_must_fail test "$(jq -r .id out)" = "$(cat decoy5)"
'

test_done
