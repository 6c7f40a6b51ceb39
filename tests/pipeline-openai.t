#!/bin/sh
# The whole pipeline on OpenAI's Batch API (bt-mock's OpenAI side): chat
# and embeddings from records to joined answers, an OpenAI batch input
# file of one's own through bt-submit, bt-wait and bt-fetch unchanged,
# the upload and the tagged create journaled, an ambiguous create found
# by its tag, SIGKILL during the upload and the create, a cut download,
# a batch that failed validation, cancel, mixed streams, and bt-run
# --provider openai on 1,000 records with 10% errors, killed and resumed.
. "${0%/*}/lib.sh"
. "$TESTS/openai-lib.sh"

mock_start --processing-time 0.3 --key "$KEY" $MODELS
OPENAI_API_KEY=$KEY OPENAI_BASE_URL=$MOCK_URL/v1
export OPENAI_API_KEY OPENAI_BASE_URL

for i in 1 2 3 4 5; do
	printf '{"id":"r%d","text":"ticket %d"}\n' $i $i
done >recs.jsonl

# sending DIR: a journal record of BT_STATE_DIR=DIR says "sending"
sending() { cat "$1"/journal/*.json 2>/dev/null | grep -q '"state":"sending"'; }
# made: bt-mock's count of batches made
made() { mock_stat batches; }

test_expect_success 'chat: format, split, submit, wait, fetch, join: each record its own answer' '
	bt-format --provider openai -m gpt-4.1-mini --id .id -p .text <recs.jsonl >req.jsonl &&
	ocheck BatchRequestInput req.jsonl &&
	bt-split -d c <req.jsonl | bt-submit >batches 2>err &&
	test_must_be_empty err &&
	bt-wait <batches | bt-fetch >results.jsonl &&
	ocheck BatchRequestOutput results.jsonl &&
	bt-join --id .id recs.jsonl <results.jsonl >out.jsonl &&
	jq -c "[.id, .response, .status]" out.jsonl >actual &&
	for i in 1 2 3 4 5; do echo "[\"r$i\",\"ticket $i\",\"succeeded\"]"; done >expect &&
	test_cmp expect actual
'

test_expect_success 'the journal holds the uploaded file and the create tag; the file expires in 7 days' '
	rec=$(ls .bt/journal/*.json) &&
	jq -r "[.state, (.file_id | startswith(\"file-\")), (.nonces | length), .batch.metadata.bt_nonce == .nonces[-1]] | @tsv" $rec >actual &&
	printf "created\ttrue\t1\ttrue\n" >expect && test_cmp expect actual &&
	ocall 200 file.jsonl GET "/files/$(jq -r .file_id $rec)" &&
	jq -c "[.purpose, .expires_at - .created_at, .bytes]" file.jsonl >actual &&
	echo "[\"batch\",604800,$(wc -c <c/chunk.0001.jsonl)]" >expect && test_cmp expect actual &&
	! grep -q "$KEY" $rec
'

test_expect_success 'embeddings: --embed, and each record gets its vector' '
	{ cat recs.jsonl; echo "{\"id\":\"r6\",\"text\":\"ticket 1\"}"; } >emb.jsonl &&
	bt-format --provider openai --embed -m text-embedding-3-small --id .id -p .text <emb.jsonl |
		bt-split -d e | bt-submit | bt-wait | bt-fetch |
		bt-join --id .id emb.jsonl >out.jsonl &&
	jq -c "[.id, .status, (.response | type), (.response | length > 0)]" out.jsonl | sort -u >actual &&
	for i in 1 2 3 4 5 6; do echo "[\"r$i\",\"succeeded\",\"array\",true]"; done >expect &&
	test_cmp expect actual &&
	jq -c "select(.id == \"r1\" or .id == \"r6\") | .response" out.jsonl | sort -u >same &&
	test_lines 1 same &&
	jq -c "select(.id == \"r1\" or .id == \"r2\") | .response" out.jsonl | sort -u >differ &&
	test_lines 2 differ
'

test_expect_success 'an OpenAI batch input file of ones own goes through as it is, and its lines come out as OpenAI wrote them' '
	{ line a "my order is late"; line b "the app crashes" "$fmt"; line c "how do I log in" "$tool"; } >own.jsonl &&
	bt-submit own.jsonl >b.jsonl &&
	jq -r .input_file_id b.jsonl >fid &&
	oapi GET "/files/$(cat fid)/content" >uploaded &&
	test_cmp own.jsonl uploaded &&
	bt-wait <b.jsonl >ended.jsonl && bt-fetch <ended.jsonl >got.jsonl &&
	oapi GET "/files/$(jq -r .output_file_id ended.jsonl)/content" >theirs &&
	sort got.jsonl >a && sort theirs >b && test_cmp b a
'

test_expect_success 'an ambiguous create (500 after the batch was made) is settled by the tag: one batch, said' '
	printf "%s\n" "{\"custom_id\":\"t1\",\"method\":\"POST\",\"url\":\"/v1/chat/completions\",\"body\":{\"model\":\"gpt-4.1-mini\",\"messages\":[{\"role\":\"user\",\"content\":\"tagged\"}]}}" >t.jsonl &&
	before=$(made) &&
	mock_fault "ocreate:taken500" &&
	bt-submit t.jsonl >b.jsonl 2>err &&
	test $(made) -eq $((before + 1)) &&
	id=$(jq -r .id b.jsonl) &&
	test_grep "^bt-submit: t.jsonl: the create got no clear answer .server_error: .*, but the batch was made: $id .it carries this chunk.s tag.$" err &&
	test_lines 1 err &&
	bt-wait <b.jsonl | bt-fetch | jq -r .custom_id >actual &&
	echo t1 >expect && test_cmp expect actual &&
	bt-submit t.jsonl >again.jsonl 2>err &&
	test "$(jq -r .id again.jsonl)" = "$id" && test $(made) -eq $((before + 1))
'

test_expect_success 'an upload that fails with a 500 is sent again: nothing is paid for an upload' '
	line u1 "upload again" >u.jsonl &&
	before=$(made) &&
	mock_fault "upload:500" &&
	bt-submit u.jsonl >b.jsonl 2>err &&
	test_grep "POST /files: HTTP 500" err &&
	test $(made) -eq $((before + 1))
'

test_expect_success 'SIGKILL during the create, after the batch was made: the next run finds it by its tag' '
	line k1 "killed while creating" >k.jsonl &&
	before=$(made) &&
	mock_fault "ocreate:slow:30" &&
	{ bt-submit k.jsonl >/dev/null 2>&1 & } && pid=$! &&
	wait_for mock_stat_is batches $((before + 1)) &&
	{ kill -9 $pid && wait $pid || true; } &&
	curl -sS -X DELETE "$MOCK_URL/_mock/faults" &&
	bt-submit k.jsonl >b.jsonl 2>err &&
	test $(made) -eq $((before + 1)) &&
	id=$(jq -r .id b.jsonl) &&
	test_grep "^bt-submit: k.jsonl: an earlier create got no answer, but the batch was made: $id .it carries this chunk.s tag.$" err
'

test_expect_success 'SIGKILL during the upload: nothing was made; the next run uploads and creates once' '
	line k2 "killed while uploading" >k2.jsonl &&
	before=$(made) &&
	mock_fault "upload:slow:30" &&
	{ BT_STATE_DIR=k2 bt-submit k2.jsonl >/dev/null 2>k2.err & } && pid=$! &&
	wait_for sending k2 &&
	{ kill -9 $pid && wait $pid || true; } &&
	curl -sS -X DELETE "$MOCK_URL/_mock/faults" &&
	BT_STATE_DIR=k2 bt-submit k2.jsonl >b.jsonl 2>err &&
	test_must_be_empty err &&
	test $(made) -eq $((before + 1)) &&
	bt-wait <b.jsonl | bt-fetch | jq -r .custom_id >actual &&
	echo k2 >expect && test_cmp expect actual
'

# uploads: the files on bt-mock
uploads() { oapi GET "/files?limit=10000" | jq ".data | length"; }

test_expect_success 'a create answered 500 before anything was made: created again from the file uploaded, not uploaded twice' '
	line c1 "create again" >c1.jsonl &&
	before=$(made) && files=$(uploads) &&
	mock_fault "ocreate:500" &&
	BT_STATE_DIR=c1 bt-submit c1.jsonl >b.jsonl 2>err &&
	test $(made) -eq $((before + 1)) && test $(uploads) -eq $((files + 1)) &&
	jq -r .input_file_id b.jsonl >actual &&
	jq -r .file_id c1/journal/*.json >expect && test_cmp expect actual &&
	bt-wait <b.jsonl | bt-fetch | jq -r .custom_id >actual &&
	echo c1 >expect && test_cmp expect actual
'

# uploaded DIR: a journal record of BT_STATE_DIR=DIR holds its uploaded file
uploaded() { cat "$1"/journal/*.json 2>/dev/null | grep -q '"file_id":"file-'; }

test_expect_success 'SIGKILL after the upload, with no batch made: the next run creates from that file, once' '
	line k3 "killed between" >k3.jsonl &&
	before=$(made) && files=$(uploads) &&
	mock_fault "ocreate:503*0" &&
	{ BT_STATE_DIR=k3 bt-submit k3.jsonl >/dev/null 2>k3.err & } && pid=$! &&
	wait_for uploaded k3 &&
	{ kill -9 $pid && wait $pid || true; } &&
	tcurl -sS -X DELETE "$MOCK_URL/_mock/faults" >/dev/null &&
	test $(made) -eq $before && test $(uploads) -eq $((files + 1)) &&
	BT_STATE_DIR=k3 bt-submit k3.jsonl >b.jsonl 2>err &&
	test $(made) -eq $((before + 1)) && test $(uploads) -eq $((files + 1)) &&
	bt-wait <b.jsonl | bt-fetch | jq -r .custom_id >actual &&
	echo k3 >expect && test_cmp expect actual
'

test_expect_success 'a download cut short is taken again; every line once' '
	bt-wait <batches >ended.jsonl &&
	mock_fault "ocontent:cut" &&
	bt-fetch <ended.jsonl >got.jsonl 2>err &&
	test_grep "transfer closed with .* bytes remaining to read; retrying" err &&
	jq -r .custom_id got.jsonl | sort >actual &&
	printf "r%s\n" 1 2 3 4 5 >expect && test_cmp expect actual
'

test_expect_success 'an output file that repeats a line: each written once, exit 1, said' '
	mock_fault "ocontent:twice*1" &&
	test_expect_code 1 bt-fetch <ended.jsonl >got.jsonl 2>err &&
	jq -r .custom_id got.jsonl | sort >actual &&
	printf "r%s\n" 1 2 3 4 5 >expect && test_cmp expect actual &&
	test_grep "the results repeat 1 custom_id \(each was written once\)" err &&
	test "$(mock_stat faults)" = 0
'

test_expect_success 'a batch that failed validation: bt-fetch says why, by line, exit 1' '
	{ line v1 "fine"; line v2 "fine too" | sed "s/gpt-4.1-mini/text-embedding-3-small/"; } >mixed.jsonl &&
	: >batches.jsonl &&
	id=$(create mixed.jsonl) &&
	wait_for status_is "$id" failed &&
	test_expect_code 1 bt-fetch "$id" >out 2>err &&
	test_must_be_empty out &&
	test_grep "^bt-fetch: $id: the batch failed as a whole, and none of its requests ran: line 2: mismatched_model: " err
'

test_expect_success 'one provider a stream: an OpenAI request after Anthropic ones, or against BT_PROVIDER' '
	{ echo "{\"custom_id\":\"x1\",\"params\":{\"model\":\"m\",\"max_tokens\":5,\"messages\":[]}}"; line x2 "openai"; } >mix.jsonl &&
	test_expect_code 2 bt-submit --dry-run <mix.jsonl >out 2>err &&
	echo "bt-submit: stdin:2: an OpenAI request, after Anthropic ones: one provider a stream" >expect &&
	test_cmp expect err &&
	test_expect_code 2 env BT_PROVIDER=anthropic bt-submit --dry-run <t.jsonl >out 2>err &&
	echo "bt-submit: stdin:1: an OpenAI request, but BT_PROVIDER says anthropic" >expect &&
	test_cmp expect err &&
	{ line y1 "a"; line y2 "b" | sed "s/gpt-4.1-mini/other/"; } >two-models.jsonl &&
	test_expect_code 2 bt-submit --dry-run two-models.jsonl 2>err &&
	test_grep "^bt-submit: two-models.jsonl:2: model \"other\" and url \"/v1/chat/completions\", where the chunk.s first line has \"gpt-4.1-mini\"" err
'

test_expect_success 'bt-run --provider openai --max-cost: bounded by max_completion_tokens, and refused without one' '
	bt-run --provider openai -w mc -m gpt-4.1-mini --max-tokens 50 --id .id -p .text --sync-below 0 --max-cost 1 recs.jsonl >out.jsonl &&
	test "$(jq -r .status out.jsonl | sort -u)" = succeeded &&
	test_expect_code 2 bt-run --provider openai -w mc2 -m gpt-4.1-mini --max-tokens 50 --id .id -p .text --sync-below 0 --max-cost 0.000001 recs.jsonl >out 2>err &&
	test_grep "^bt-run: round 1: spent 0 USD, and this round may cost up to .* USD: over --max-cost 0.000001; nothing sent$" err &&
	test_expect_code 1 bt-run --provider openai -w mc3 -m gpt-4.1-mini --id .id -p .text --sync-below 0 --max-cost 1 recs.jsonl >out 2>err &&
	test_grep "^bt-cost: stdin:1: body.max_completion_tokens: none, so nothing bounds the output .give bt-format --max-tokens N.$" err
'

mock_stop
mock_start --processing-time 30 --cancel-time 0.2 --key "$KEY" $MODELS
OPENAI_BASE_URL=$MOCK_URL/v1

test_expect_success 'bt-cancel: cancelled, the rest come out canceled; --delete is refused for OpenAI' '
	bt-submit own.jsonl >b.jsonl &&
	bt-cancel <b.jsonl >c.jsonl &&
	bt-wait <c.jsonl >ended.jsonl &&
	jq -r .status ended.jsonl >actual && echo cancelled >expect && test_cmp expect actual &&
	bt-fetch <ended.jsonl >got.jsonl &&
	jq -r "[.custom_id, .error.code] | @tsv" got.jsonl | sort >actual &&
	printf "%s\tbatch_cancelled\n" a b c >expect && test_cmp expect actual &&
	test_expect_code 1 bt-cancel --delete <ended.jsonl >out 2>err &&
	test_grep "provider openai: a batch cannot be deleted" err
'

test_expect_success 'bt-list --provider openai: the batches of the account, newest first; pages of at most 100' '
	bt-list --provider openai >list.jsonl &&
	test "$(head -n 1 list.jsonl | jq -r .id)" = "$(jq -r .id b.jsonl)" &&
	test_expect_code 2 bt-list --provider openai --page-size 500 2>err &&
	echo "bt-list: --page-size: 500 is more than openai.s largest page, 100" | tr . "\047" >expect &&
	test_cmp expect err
'

test_expect_success 'bt-run --provider openai --detach, then --status: its batch running, in bt.s words' '
	bt-run --provider openai --detach -w dw -m gpt-4.1-mini --id .id -p .text --sync-below 0 recs.jsonl 2>err &&
	test_grep "^bt-run: round 1: 5 requests in 1 batch.es., running" err &&
	test_expect_code 3 bt-run --status -w dw >out &&
	test_grep "^  batch_[A-Za-z0-9]*  in_progress, 5 processing; expires in 23h[0-9]*m$" out &&
	test_grep "^next: bt-run: wait for 1 batch.es. of round 1" out &&
	test_expect_code 3 bt-run --provider openai --status --json -w dw >json &&
	jq -r ".rounds[0].batches[0] | [.object, .bt.state, .bt.counts.processing, .bt.provider] | @tsv" json >actual &&
	printf "batch\tin_progress\t5\topenai\n" >expect && test_cmp expect actual &&
	test_expect_code 3 bt-run --status --offline -w dw >off &&
	test_grep "^  batch_[A-Za-z0-9]*  in_progress, 5 processing" off
'

mock_stop
mock_start --processing-time 0.5 --error-rate 0.1 --seed 7 --key "$KEY" $MODELS
OPENAI_BASE_URL=$MOCK_URL/v1
awk 'BEGIN { for (i = 1; i <= 1000; i++) printf "{\"id\":\"r%d\",\"text\":\"record %d\"}\n", i, i }' >thousand.jsonl

test_expect_success 'bt-run --provider openai: 1,000 records, 10% errors, killed and resumed; each its own answer, billed as bt-mock counts; the last rounds through bt-send' '
	{ setsid sh -c "cd \"$TRASH\" && exec bt-run --provider openai -w w -m gpt-4.1-mini --id .id -p .text thousand.jsonl" >/dev/null 2>&1 & } &&
	pid=$! &&
	wait_for test -s w/round.01/batches.jsonl &&
	{ kill -9 -- -$pid && wait $pid || true; } &&
	wait_for flock -n w/lock true &&
	bt-run --provider openai -w w -m gpt-4.1-mini --id .id -p .text thousand.jsonl >out.jsonl 2>err &&
	jq -r "select(.response != .text or .status != \"succeeded\") | .id" out.jsonl >wrong &&
	test_must_be_empty wrong &&
	jq -r .id out.jsonl >ids && jq -r .id thousand.jsonl >expect && test_cmp expect ids &&
	cat w/round.*/results.jsonl | bt-cost | jq .total.requests >billed &&
	# what bt-mock answered: in batches, and synchronously (the small
	# rounds at the end, through bt-send)
	bt-list --provider openai | jq -s "map(.request_counts.completed) | add" >inbatches &&
	echo $(( $(cat inbatches) + $(mock_stat answered) )) >counted &&
	test_cmp counted billed &&
	ls -d w/round.*/sync >/dev/null &&
	test "$(cat billed)" = 1000 &&
	test "$(mock_stat batches)" = "$(cat w/round.*/batches.jsonl | wc -l)"
'

test_expect_success 'two OpenAI jobs side by side on one account, one of them twice: every record its own job.s answer' '
	head -n 200 thousand.jsonl >two.jsonl &&
	{ bt-run --provider openai -w sa -m gpt-4.1-mini --id .id -p "\"A: \\(.text)\"" --sync-below 0 two.jsonl >a.jsonl 2>a.err & } && pa=$! &&
	{ bt-run --provider openai -w sb -m gpt-4.1-mini --id .id -p "\"B: \\(.text)\"" --sync-below 0 two.jsonl >b.jsonl 2>b.err & } && pb=$! &&
	{ bt-run --provider openai -w sc -m gpt-4.1-mini --id .id -p "\"A: \\(.text)\"" --sync-below 0 two.jsonl >c.jsonl 2>c.err & } && pc=$! &&
	wait $pa && wait $pb && wait $pc &&
	jq -r "select(.response != \"A: \" + .text) | .id" a.jsonl c.jsonl >wrong &&
	jq -r "select(.response != \"B: \" + .text) | .id" b.jsonl >>wrong &&
	test_must_be_empty wrong &&
	test "$(cat a.jsonl b.jsonl c.jsonl | wc -l)" = 600
'

test_done
