#!/bin/sh
# bt-submit: requests or chunks in, batches out, never paid for twice.
. "${0%/*}/lib.sh"

mock_start --processing-time 0.5 || exit 1
requests() { perl -e 'print qq({"custom_id":"'$1'$_","params":{"model":"m","max_tokens":20,"messages":[{"role":"user","content":"say '$1' $_"}]}}\n) for 1..'$2; }

test_expect_success 'requests on stdin: as few batches as -n allows, printed as they are made' '
	requests a 10 >a.jsonl &&
	before=$(mock_stat creates) &&
	bt-submit -n 4 <a.jsonl >batches &&
	test_lines 3 batches &&
	jq -r "[.type, .processing_status, .request_counts.processing] | @tsv" batches >actual &&
	printf "message_batch\tin_progress\t4\nmessage_batch\tin_progress\t4\nmessage_batch\tin_progress\t2\n" >expect &&
	test_cmp expect actual &&
	test $(mock_stat creates) -eq $((before + 3))
'

test_expect_success 'the same requests again: the recorded batches, nothing created, and said on stderr, chunk by chunk' '
	before=$(mock_stat creates) &&
	bt-submit -n 4 <a.jsonl >again 2>err &&
	jq -r .id batches >expect && jq -r .id again >actual &&
	test_cmp expect actual &&
	test $(mock_stat creates) -eq $before &&
	jq -r "\"bt-submit: CHUNK: sent before as \(.id): printing that batch instead of sending it again (to send it anew, give a new --tag)\"" batches >expect &&
	sed "s|^bt-submit: \.bt/spool/[0-9a-f]\{64\}\.jsonl:|bt-submit: CHUNK:|" err >actual &&
	test_cmp expect actual &&
	bt-split -n 4 -d chunks <a.jsonl >list &&
	bt-submit <list >again 2>err &&
	jq -r .id again >actual && jq -r .id batches >expect && test_cmp expect actual &&
	jq -r "\"sent before as \(.id): printing\"" batches >ids &&
	paste -d " " list ids | sed "s|^|bt-submit: |; s| sent|: sent|; s|printing\$|printing that batch instead of sending it again (to send it anew, give a new --tag)|" >expect &&
	test_cmp expect err &&
	test $(mock_stat creates) -eq $before
'

test_expect_success '--force sends them again' '
	before=$(mock_stat creates) &&
	bt-submit -n 4 --force <a.jsonl >forced &&
	test $(mock_stat creates) -eq $((before + 3)) &&
	jq -r .id forced >ids && test_must_fail grep -F -x -f ids expect
'

test_expect_success 'the body sent is the chunk: every request comes back' '
	wait_for mock_ended $(jq -r .id batches) &&
	bt-fetch <batches | jq -r .custom_id | sort >got &&
	jq -r .custom_id a.jsonl | sort >want &&
	test_cmp want got
'

test_expect_success 'a chunk list on stdin and chunk files as arguments' '
	requests b 5 >b.jsonl &&
	bt-split -n 3 -d chunks <b.jsonl >list &&
	before=$(mock_stat creates) &&
	bt-submit <list >out1 &&
	test_lines 2 out1 &&
	bt-submit chunks/chunk.0001.jsonl chunks/chunk.0002.jsonl >out2 &&
	test_cmp out1 out2 &&
	test $(mock_stat creates) -eq $((before + 2))
'

test_expect_success '429 with retry-after and 529 on create are retried: one batch each' '
	requests c 3 >c.jsonl &&
	before=$(mock_stat creates) &&
	mock_fault "create:429:1*1" "create:529*2" &&
	bt-submit <c.jsonl >out &&
	test_lines 1 out &&
	test $(mock_stat creates) -eq $((before + 1))
'

test_expect_success 'a create dropped after the body: one batch, not two' '
	requests d 3 >d.jsonl &&
	before=$(mock_stat creates) &&
	mock_fault "create:drop*1" &&
	bt-submit <d.jsonl >out 2>err &&
	test_lines 1 out &&
	test $(mock_stat creates) -eq $((before + 1)) &&
	id=$(jq -r .id out) &&
	api GET /v1/messages/batches/$id | jq -r "[.request_counts[]] | add" >n &&
	echo 3 >expect && test_cmp expect n
'

test_expect_success 'a 500 after the body was taken: one batch, not two' '
	requests e 3 >e.jsonl &&
	before=$(mock_stat creates) &&
	mock_fault "create:taken500*1" &&
	bt-submit <e.jsonl >out &&
	test_lines 1 out &&
	test $(mock_stat creates) -eq $((before + 1))
'

test_expect_success 'killed during a create and run again: one batch' '
	requests f 4 >f.jsonl &&
	before=$(mock_stat creates) &&
	mock_fault "create:slow:2*1" &&
	{ bt-submit <f.jsonl >/dev/null 2>&1 & pid=$!; } &&
	wait_for mock_stat_is creates $((before + 1)) &&
	kill -9 $pid && { wait $pid; :; } &&
	bt-submit <f.jsonl >out &&
	test_lines 1 out &&
	test $(mock_stat creates) -eq $((before + 1))
'

test_expect_success '--dry-run prints the plan and sends nothing' '
	requests g 5 >g.jsonl &&
	before=$(mock_stat creates) &&
	bt-submit --dry-run -n 2 <g.jsonl >plan &&
	jq -c "[.chunk, .requests, .batch]" plan >actual &&
	printf "%s\n" "[\"stdin\",2,null]" "[\"stdin\",2,null]" "[\"stdin\",1,null]" >expect &&
	test_cmp expect actual &&
	test $(mock_stat creates) -eq $before &&
	bt-submit --dry-run chunks/chunk.0001.jsonl | jq -c "[.chunk, .requests, .bytes, (.batch|type)]" >actual &&
	echo "[\"chunks/chunk.0001.jsonl\",3,$(( $(wc -c <chunks/chunk.0001.jsonl) + 14 )),\"string\"]" >expect &&
	test_cmp expect actual
'

test_expect_success 'bad UTF-8 in a request: exit 2 naming line and column, nothing sent' '
	{ requests u 2 &&
	  printf "{\"custom_id\":\"u3\",\"params\":{\"t\":\"\355\240\200\"}}\n"; } >u.jsonl &&
	before=$(mock_stat creates) &&
	test_expect_code 2 bt-submit --dry-run <u.jsonl >out 2>err &&
	echo "bt-submit: stdin:3: invalid UTF-8 at column 34" >expect &&
	test_cmp expect err &&
	test_must_be_empty out &&
	test_expect_code 2 bt-submit <u.jsonl >out 2>err &&
	test_cmp expect err &&
	test $(mock_stat creates) -eq $before &&
	mkdir uc && cp u.jsonl uc/chunk.jsonl &&
	test_expect_code 2 bt-submit --dry-run uc/chunk.jsonl >out 2>err &&
	echo "bt-submit: uc/chunk.jsonl:3: invalid UTF-8 at column 34" >expect &&
	test_cmp expect err &&
	requests v 2 >v.jsonl &&
	printf "{\"custom_id\":\"v3\",\"params\":{\"t\":\"na\303\257ve \360\237\230\200\"}}\n" >>v.jsonl &&
	bt-submit --dry-run <v.jsonl >plan &&
	jq -c "[.requests, .bytes]" plan >actual &&
	echo "[3,$(( $(wc -c <v.jsonl) + 14 ))]" >expect &&
	test_cmp expect actual
'

test_expect_success 'the dry run needs no key; a real run without one exits 2 before reading' '
	(unset ANTHROPIC_API_KEY; bt-submit --dry-run <g.jsonl >/dev/null) &&
	mkfifo never &&
	(unset ANTHROPIC_API_KEY; test_expect_code 2 timeout 10 bt-submit <>never 2>err) &&
	echo "bt-submit: no API key: set ANTHROPIC_API_KEY or use --api-key-file FILE" >expect &&
	test_cmp expect err
'

mock_start --processing-time 0.5 --key sk-right
test_expect_success 'a wrong key: exit 1 with the API message, before any create or record' '
	requests h 2 >h.jsonl &&
	ls .bt/journal/*.json >records.before &&
	ANTHROPIC_API_KEY=sk-wrong-key test_expect_code 1 bt-submit <h.jsonl >out 2>err &&
	test_grep "^bt-submit: .*spool/[0-9a-f]{64}\\.jsonl: authentication_error: .*request-id req_" err &&
	test_must_be_empty out &&
	ls .bt/journal/*.json >records.after &&
	test_cmp records.before records.after &&
	test "$(curl -sS "$MOCK_URL/_mock/stats" | jq .creates)" = 0 &&
	ANTHROPIC_API_KEY=sk-right bt-submit <h.jsonl >out &&
	test_lines 1 out
'

test_expect_success 'a failed --force keeps the batch the chunk has' '
	requests q 2 >q.jsonl &&
	ANTHROPIC_API_KEY=sk-right bt-submit <q.jsonl >first &&
	before=$(curl -sS "$MOCK_URL/_mock/stats" | jq .creates) &&
	ANTHROPIC_API_KEY=sk-wrong-key test_expect_code 1 bt-submit --force <q.jsonl >out 2>err &&
	test_grep "authentication_error" err &&
	mock_fault "create:400*1" &&
	ANTHROPIC_API_KEY=sk-right test_expect_code 1 bt-submit --force <q.jsonl >out 2>err &&
	test_grep "invalid_request_error" err &&
	ANTHROPIC_API_KEY=sk-right bt-submit <q.jsonl >again &&
	test_cmp first again &&
	test "$(curl -sS "$MOCK_URL/_mock/stats" | jq .creates)" = "$before"
'

test_expect_success 'the key is never written to the journal or the spool' '
	test_must_fail grep -r -q -e sk-right -e sk-wrong-key -e sk-test-key .bt
'

mock_start --processing-time 0.5 --max-body 500
test_expect_success 'a body over the limit: 413, exit 1, named' '
	requests i 6 >i.jsonl &&
	test_expect_code 1 bt-submit <i.jsonl >out 2>err &&
	test_grep "request_too_large" err
'

test_expect_success 'bad input: a line that is not a request names stdin and line, exit 2, nothing sent' '
	before=$(mock_stat creates) &&
	{ requests j 2; echo "{\"custom_id\":\"x y\",\"params\":{}}"; } >j.jsonl &&
	test_expect_code 2 bt-submit <j.jsonl >out 2>err &&
	echo "bt-submit: stdin:3: invalid custom_id \"x y\": it must match ^[a-zA-Z0-9_-]{1,64}\$" >expect &&
	test_cmp expect err &&
	test $(mock_stat creates) -eq $before &&
	{ requests k 2; requests k 1; } >k.jsonl &&
	test_expect_code 2 bt-submit <k.jsonl 2>err &&
	echo "bt-submit: stdin:3: duplicate custom_id \"k1\" (first on line 1)" >expect &&
	test_cmp expect err
'

test_expect_success 'a chunk file that is not what bt-split makes is refused' '
	requests l 2 | sed "s/\$/\r/" >crlf.jsonl &&
	test_expect_code 2 bt-submit crlf.jsonl 2>err &&
	echo "bt-submit: crlf.jsonl: CRLF line ends or no final newline: not a chunk file (make chunks with bt-split)" >expect &&
	test_cmp expect err &&
	{ requests l 1; echo; requests m 1; } >blank.jsonl &&
	test_expect_code 2 bt-submit blank.jsonl 2>err &&
	test_grep "blank.jsonl:2: a blank line: not a chunk file" err &&
	test_expect_code 2 bt-submit nosuch.jsonl 2>err &&
	echo "bt-submit: nosuch.jsonl: No such file or directory" >expect &&
	test_cmp expect err
'

test_expect_success '--tag: the same bytes under another tag are another chunk' '
	requests t 3 >t.jsonl &&
	bt-submit <t.jsonl >plain &&
	before=$(mock_stat creates) &&
	bt-submit --tag r02 <t.jsonl >tagged &&
	test $(mock_stat creates) -eq $((before + 1)) &&
	bt-submit --tag r02 <t.jsonl >again &&
	test_cmp tagged again &&
	test $(mock_stat creates) -eq $((before + 1)) &&
	test_must_fail test "$(jq -r .id plain)" = "$(jq -r .id tagged)" &&
	ls .bt/journal | grep -c "^r02\.[0-9a-f]\{64\}\.[0-9a-f]\{16\}\.json$" >n && echo 1 >expect && test_cmp expect n &&
	test_expect_code 2 bt-submit --tag "a b" <t.jsonl 2>err &&
	test_grep "tag: 1 to 32 of" err
'

test_expect_success 'a line that is neither a request nor a chunk path: stdin and line named, exit 2' '
	printf "[1,2]\n" | test_expect_code 2 bt-submit >out 2>err &&
	echo "bt-submit: stdin:1: '"'"'[1,2]'"'"': not a chunk file (a path) or a request (a JSON object): No such file or directory" >expect &&
	test_cmp expect err &&
	test_must_be_empty out &&
	perl -e "print qq(chunks/chunk.0001.jsonl\n), q([) x 100000, qq(\n)" >list2 &&
	test_expect_code 2 bt-submit <list2 >out 2>err &&
	test $(wc -c <err) -lt 300 &&
	test_grep "^bt-submit: stdin:2: '"'"'\[{80}\.\.\.'"'"': not a chunk file" err
'

test_expect_success 'temporary files of dead processes are removed, of live ones kept' '
	dead=$(sh -c "echo \$\$") &&
	mkdir -p .bt/spool &&
	: >.bt/journal/x.json.tmp.$dead && : >.bt/journal/y.json.tmp.$$ &&
	: >.bt/spool/.spool.$dead.AbCdEf && : >.bt/spool/.spool.$$.AbCdEf &&
	requests u 1 >u.jsonl && bt-submit <u.jsonl >out &&
	test_must_fail test -e .bt/journal/x.json.tmp.$dead &&
	test_must_fail test -e .bt/spool/.spool.$dead.AbCdEf &&
	test -e .bt/journal/y.json.tmp.$$ && test -e .bt/spool/.spool.$$.AbCdEf
'

test_expect_success 'BT_STATE_DIR moves the journal' '
	requests n 2 >n.jsonl &&
	BT_STATE_DIR=$TRASH/state bt-submit <n.jsonl >out &&
	ls state/journal/*.json >j && test_lines 1 j
'

# Another server: a chunk sent before to the last one is sent here too.
requests r 3 >"$TRASH/r.jsonl"
bt-submit <"$TRASH/r.jsonl" >"$TRASH/r.first" 2>/dev/null
mock_start --processing-time 0.5 || exit 1
test_expect_success 'a record made against another server is never reused' '
	bt-submit <r.jsonl >second 2>err &&
	test "$(mock_stat creates)" = 1 &&
	bt-wait <second | bt-fetch >results &&
	jq -r .custom_id results | sort >got &&
	printf "r1\nr2\nr3\n" >want && test_cmp want got
'

test_expect_success 'the same server under another key: the batch it sees is reused' '
	ANTHROPIC_API_KEY=sk-rotated bt-submit <r.jsonl >third 2>err &&
	test "$(jq -r .id second)" = "$(jq -r .id third)" &&
	test_grep "^bt-submit: .*: sent before as $(jq -r .id third): printing that batch" err &&
	test "$(mock_stat creates)" = 1 &&
	cat .bt/journal/*.json | jq -r "select(.batch.id == \"$(jq -r .id third)\" and .endpoint == \"$MOCK_URL\") | .key_fp" | sort -u >fps &&
	test_lines 2 fps
'

test_expect_success 'the same chunk from another directory: refused, naming the batch and its journal; --force pays again' '
	mkdir d1 d2 &&
	perl -e '"'"'print qq({"custom_id":"x$_","params":{"model":"claude-haiku-4-5","max_tokens":5,"messages":[{"role":"user","content":"x $_"}]}}\n) for 1..3'"'"' >d1/r.req &&
	cp d1/r.req d2/r.req &&
	before=$(mock_stat creates) &&
	(cd d1 && bt-submit <r.req >out) &&
	(cd d2 && test_expect_code 1 bt-submit <r.req >out 2>err) &&
	test_must_be_empty d2/out &&
	test $(mock_stat creates) -eq $((before + 1)) &&
	test_grep "sent before from another directory, as $(jq -r .id d1/out) \(journal .*/d1/.bt/journal\)" d2/err &&
	(cd d2 && bt-submit --force <r.req >out 2>err) &&
	test $(mock_stat creates) -eq $((before + 2)) &&
	test_must_fail test "$(jq -r .id d1/out)" = "$(jq -r .id d2/out)"
'

test_done
