#!/bin/sh
# bt-submit settles an unanswered create against the batch list, even when
# other jobs made batches of the same size: the nearest to the attempt is
# the chunk's, unless another is too near to tell.
. "${0%/*}/lib.sh"

mock_start --processing-time 60 || exit 1
creates() { curl -sS "$MOCK_URL/_mock/stats" | jq .creates; }
requests() { perl -e 'print qq({"custom_id":"'$1'$_","params":{"model":"m","max_tokens":20,"messages":[{"role":"user","content":"say '$1' $_"}]}}\n) for 1..'$2; }
# a batch of N requests made by someone else (another job, another journal)
decoy() { requests decoy$2 $1 | perl -e 'print q({"requests":[), join(",", map { chomp; $_ } <STDIN>), q(]})' >decoy.json &&
	api POST /v1/messages/batches -H 'content-type: application/json' --data-binary @decoy.json | jq -r .id; }

test_expect_success 'a decoy of the same size made just before: too near to tell, nothing sent' '
	decoy 4 a >decoy1 &&
	requests a 4 >a.jsonl &&
	before=$(creates) &&
	mock_fault "create:drop*1" &&
	test_expect_code 1 bt-submit <a.jsonl >out 2>err &&
	test_grep "2 batches made within 30 s of .* have 4 requests: cannot tell which one is this chunk.s" err &&
	test $(creates) -eq $((before + 1)) &&
	test_must_fail test -s out
'

test_expect_success 'a decoy made 30 s and more before: the nearest batch is adopted, none sent again' '
	decoy 5 b >decoy2 &&
	sleep 33 &&
	requests b 5 >b.jsonl &&
	before=$(creates) &&
	mock_fault "create:drop*1" &&
	bt-submit <b.jsonl >out 2>err &&
	test $(creates) -eq $((before + 1)) &&
	test_lines 1 out &&
	test_must_fail test "$(jq -r .id out)" = "$(cat decoy2)"
'

test_expect_success 'batches the journal knows under another tag are never adopted' '
	requests c 6 >c.jsonl &&
	bt-submit --tag r01 <c.jsonl >first &&
	requests d 6 >d.jsonl &&
	before=$(creates) &&
	mock_fault "create:drop*1" &&
	bt-submit --tag r02 <d.jsonl >second 2>err &&
	test $(creates) -eq $((before + 1)) &&
	test_must_fail test "$(jq -r .id first)" = "$(jq -r .id second)"
'

test_done
