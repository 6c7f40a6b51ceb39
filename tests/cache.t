#!/bin/sh
# bt-cache: the response store (issue 20).  The key rule, get and put
# byte for byte for both providers, the mark that every reader takes,
# stats and prune, bad input, a store shared by four writers, and a put
# killed again and again.
. "${0%/*}/lib.sh"

# areq ID CONTENT [MODEL MAX_TOKENS EXTRA]: an Anthropic request line
areq() { printf '{"custom_id":"%s","params":{"model":"%s","max_tokens":%s,"messages":[{"role":"user","content":"%s"}]%s}}\n' \
	"$1" "${3:-m}" "${4:-16}" "$2" "${5:-}"; }
# ares ID TEXT [STOP]: its success
ares() { printf '{"custom_id":"%s","result":{"type":"succeeded","message":{"id":"msg_%s","type":"message","role":"assistant","model":"m","content":[{"type":"text","text":"%s"}],"stop_reason":"%s","stop_sequence":null,"usage":{"input_tokens":10,"output_tokens":4,"service_tier":"batch"}}}}\n' \
	"$1" "$1" "$2" "${3:-end_turn}"; }
# aerr ID: an error
aerr() { printf '{"custom_id":"%s","result":{"type":"errored","error":{"type":"error","error":{"type":"overloaded_error","message":"Overloaded"},"request_id":"req_%s"}}}\n' "$1" "$1"; }
# oreq ID CONTENT: an OpenAI request line; ores ID TEXT: its success
oreq() { printf '{"custom_id":"%s","method":"POST","url":"/v1/chat/completions","body":{"model":"gpt-4.1-mini","messages":[{"role":"user","content":"%s"}]}}\n' "$1" "$2"; }
ores() { printf '{"id":"batch_req_%s","custom_id":"%s","response":{"status_code":200,"request_id":"req_%s","body":{"id":"chatcmpl-%s","object":"chat.completion","created":1767225600,"model":"gpt-4.1-mini","choices":[{"index":0,"message":{"role":"assistant","content":"%s","refusal":null},"logprobs":null,"finish_reason":"stop"}],"usage":{"prompt_tokens":10,"completion_tokens":4,"total_tokens":14}}},"error":null}\n' \
	"$1" "$1" "$1" "$1" "$2"; }
# marked: the lines of stdin with their bt_cached mark made fixed
marked() { sed -E 's/"bt_cached":\{"key":"[0-9a-f]{64}","stored_at":"[0-9T:Z-]{20}"\}/"bt_cached":M/'; }
count() { sqlite3 "$1" 'SELECT count(*) FROM answers'; }
# stored DB N: DB holds N answers (for wait_for)
stored() { [ "$(sqlite3 "$1" 'SELECT count(*) FROM answers' 2>/dev/null)" = "$2" ]; }

test_expect_success 'a new store: mode 0600, WAL, the documented tables, empty' '
	areq a one >r.req &&
	bt-cache --cache s.db get <r.req >hits &&
	test_must_be_empty hits &&
	test "$(stat -c %a s.db)" = 600 &&
	test "$(sqlite3 s.db "PRAGMA journal_mode")" = wal &&
	test "$(sqlite3 s.db "PRAGMA user_version")" = 1 &&
	sqlite3 s.db "SELECT name FROM sqlite_master WHERE type = \"table\" ORDER BY name" >actual &&
	printf "answers\nruns\n" >expect &&
	test_cmp expect actual &&
	sqlite3 s.db "SELECT name FROM pragma_table_info(\"answers\")" | paste -sd, - >actual &&
	echo key,provider,endpoint,model,sample,request,answer,line_id,truncated,custom_id,stored_at >expect &&
	test_cmp expect actual &&
	test "$(count s.db)" = 0
'

test_expect_success 'put, then get: the answer under the asking id, marked, byte for byte' '
	{ areq a one && areq b two && areq c three; } >r.req &&
	{ ares a "One." && aerr b && ares c "Three."; } >r.res &&
	bt-cache --cache s.db put r.req <r.res &&
	test "$(count s.db)" = 2 &&
	{ areq x one && areq y two && areq z three; } >q.req &&
	bt-cache --cache s.db get q.req >hits &&
	{ ares a "One." && ares c "Three."; } |
		sed -e "s/\"custom_id\":\"a\"/\"custom_id\":\"x\"/" -e "s/\"custom_id\":\"c\"/\"custom_id\":\"z\"/" \
		    -e "s/}$/,\"bt_cached\":M}/" >expect &&
	marked <hits >actual &&
	test_cmp expect actual
'

test_expect_success 'the key is the documented SHA-256: provider, endpoint, sample, the sorted compact body' '
	bt-cache --cache s.db get q.req | head -n 1 | jq -r .bt_cached.key >actual &&
	areq x one | jq -c -S .params | tr -d "\n" >body &&
	{ printf "bt-cache-key 1\nanthropic\n/v1/messages\n0\n" && cat body; } | sha256sum | cut -c1-64 >expect &&
	test_cmp expect actual &&
	sqlite3 s.db "SELECT lower(hex(key)) FROM answers WHERE custom_id = \"a\"" >actual &&
	test_cmp expect actual &&
	sqlite3 s.db "SELECT request FROM answers WHERE custom_id = \"a\"" >actual &&
	{ cat body && echo; } >expect &&
	test_cmp expect actual
'

test_expect_success 'the same question written otherwise is found: key order, white space, escapes' '
	printf "%s\n" "{ \"params\" : {\"messages\":[{\"content\":\"\\u006fne\",\"role\":\"user\"}], \"max_tokens\":16.0,\"model\":\"m\"}, \"custom_id\":\"w\"}" >w.req &&
	bt-cache --cache s.db get w.req | jq -r ".custom_id, .result.message.content[0].text" >actual &&
	printf "w\nOne.\n" >expect &&
	test_cmp expect actual
'

test_expect_success 'another model, max_tokens, temperature, system, tool, attachment or provider is another key' '
	{
		areq k1 one m2 &&
		areq k2 one m 17 &&
		areq k3 one m 16 ",\"temperature\":0.5" &&
		areq k4 one m 16 ",\"system\":\"Be brief.\"" &&
		areq k5 one m 16 ",\"tools\":[{\"name\":\"t\",\"input_schema\":{\"type\":\"object\"}}]" &&
		printf "%s\n" "{\"custom_id\":\"k6\",\"params\":{\"model\":\"m\",\"max_tokens\":16,\"messages\":[{\"role\":\"user\",\"content\":[{\"type\":\"document\",\"source\":{\"type\":\"text\",\"media_type\":\"text/plain\",\"data\":\"x\"}},{\"type\":\"text\",\"text\":\"one\"}]}]}}"
	} >other.req &&
	oreq k7 one >>other.req &&
	bt-cache --cache s.db get <other.req >hits &&
	test_must_be_empty hits
'

test_expect_success '--sample N: the Nth sample is another key, found under the same N' '
	areq s one >s.req &&
	bt-cache --cache s.db --sample 1 get <s.req >hits &&
	test_must_be_empty hits &&
	ares s "Another one." >s.res &&
	bt-cache --cache s.db --sample 1 put s.req <s.res &&
	bt-cache --cache s.db --sample 1 get <s.req | jq -r .result.message.content[0].text >actual &&
	echo "Another one." >expect &&
	test_cmp expect actual &&
	bt-cache --cache s.db get <s.req | jq -r .result.message.content[0].text >actual &&
	echo "One." >expect &&
	test_cmp expect actual
'

test_expect_success 'OpenAI: put, then get, byte for byte; an Anthropic answer is never served for it' '
	{ oreq o1 one && oreq o2 two; } >o.req &&
	{ ores o1 "One!" && ores o2 "Two!"; } >o.res &&
	bt-cache --cache s.db put o.req o.res &&
	{ oreq p1 one && areq p2 two && oreq p3 two; } >p.req &&
	bt-cache --cache s.db get p.req >hits &&
	{ ores o1 "One!" | sed "s/\"custom_id\":\"o1\"/\"custom_id\":\"p1\"/" &&
	  ores o2 "Two!" | sed "s/\"custom_id\":\"o2\"/\"custom_id\":\"p3\"/"; } |
		sed -e "s/}$/,\"bt_cached\":M}/" >expect &&
	marked <hits >actual &&
	test_cmp expect actual
'

test_expect_success 'the mark breaks no reader: bt-retry, bt-join, bt-cost bills 0 and says what was saved' '
	bt-cache --cache s.db get q.req >hits &&
	bt-retry q.req <hits >todo 2>/dev/null &&
	areq y two >expect &&
	test_cmp expect todo &&
	printf "%s\n" "{\"id\":\"x\"}" "{\"id\":\"z\"}" >recs &&
	bt-join --id .id recs <hits >joined 2>/dev/null &&
	jq -c "[.id, .response, .status]" joined >actual &&
	printf "%s\n" "[\"x\",\"One.\",\"succeeded\"]" "[\"z\",\"Three.\",\"succeeded\"]" >expect &&
	test_cmp expect actual &&
	bt-cost <hits | jq -c "[.models[] | [.tier, .requests, .cost_usd]], .total.cost_usd, .cached" >actual &&
	printf "%s\n" "[[\"cached\",2,0]]" 0 "{\"requests\":2,\"saved_usd\":3e-05}" >expect &&
	test_cmp expect actual &&
	bt-cost -H <hits >actual &&
	test_grep "^from the response store: 2 answer\(s\), not billed; bought before for \\\$0.00$" actual
'

test_expect_success 'put stores no failure, no answer from the store, and a cut answer only with --truncated' '
	{ areq t1 cut && areq t2 err; } >t.req &&
	{ ares t1 "Once upon" max_tokens && aerr t2; } >t.res &&
	bt-cache --cache t.db -v put t.req <t.res 2>err &&
	echo "bt-cache: 2 result(s): 0 answer(s) stored; 0 from the store, 1 cut at max_tokens (stored only with --truncated), 1 not succeeded" >expect &&
	test_cmp expect err &&
	test "$(count t.db)" = 0 &&
	bt-cache --cache t.db --truncated put t.req <t.res &&
	test "$(sqlite3 t.db "SELECT custom_id, truncated FROM answers")" = "t1|1" &&
	bt-cache --cache t.db get t.req | bt-cache --cache t.db put t.req &&
	test "$(sqlite3 t.db "SELECT count(*) FROM runs WHERE command = \"put\"")" = 3
'

test_expect_success 'an uncut answer replaces a cut one, and is never replaced by one' '
	ares t1 "Once upon a time." >t1.res &&
	bt-cache --cache t.db --truncated put t.req <t1.res &&
	test "$(sqlite3 t.db "SELECT truncated, answer LIKE \"%a time.%\" FROM answers")" = "0|1" &&
	ares t1 "Once" max_tokens | bt-cache --cache t.db --truncated put t.req &&
	test "$(sqlite3 t.db "SELECT truncated, answer LIKE \"%a time.%\" FROM answers")" = "0|1"
'

test_expect_success 'bad input: exit 2 naming file and line, nothing half written' '
	{ areq a one && echo "{\"custom_id\":\"b\"}"; } >bad.req &&
	test_expect_code 2 bt-cache --cache s.db get bad.req >out 2>err &&
	echo "bt-cache: bad.req:2: missing params" >expect &&
	test_cmp expect err &&
	bt-cache --cache s.db get <q.req >file.out &&
	test_expect_code 2 bt-cache --cache s.db get bad.req >>file.out 2>/dev/null &&
	bt-cache --cache s.db get <q.req >expect &&
	test_cmp expect file.out &&
	n=$(count s.db) &&
	{ ares a "One." && ares nobody "?"; } >stray.res &&
	test_expect_code 2 bt-cache --cache s.db put r.req <stray.res 2>err &&
	echo "bt-cache: stdin:2: custom_id nobody is not a request of r.req: its answer is stored only with the request it answers" >expect &&
	test_cmp expect err &&
	test "$(count s.db)" = "$n" &&
	ores a "One." >wrong.res &&
	test_expect_code 2 bt-cache --cache s.db put r.req wrong.res 2>err &&
	echo "bt-cache: wrong.res:1: OpenAI'"'"'s result for Anthropic'"'"'s request a" >expect &&
	test_cmp expect err &&
	{ areq d one && areq d two; } >dup.req &&
	test_expect_code 2 bt-cache --cache s.db put dup.req </dev/null 2>err &&
	echo "bt-cache: dup.req:2: custom_id d is there twice: whose answer would it be?" >expect &&
	test_cmp expect err
'

test_expect_success 'REQUESTS changed while put reads results from a pipe: the answer is not stored under another request' '
	{ areq a one && areq b two; } >ch.req &&
	rm -f res.fifo && mkfifo res.fifo &&
	{ bt-cache --cache ch.db put ch.req <res.fifo 2>err & } && pid=$! &&
	exec 7>res.fifo &&
	ares a "One." >&7 &&
	wait_for stored ch.db 1 &&
	{ areq a one && areq c six; } >ch.req &&
	ares b "Two." >&7 &&
	exec 7>&- &&
	test_expect_code 1 wait $pid &&
	echo "bt-cache: ch.req: changed while bt-cache read it (custom_id b is no longer where it was): b'"'"'s answer not stored" >expect &&
	test_cmp expect err &&
	areq q six | bt-cache --cache ch.db get >hits &&
	test_must_be_empty hits &&
	areq q one | bt-cache --cache ch.db get >hits &&
	test_lines 1 hits
'

test_expect_success 'a store that cannot be opened, REQUESTS not a file, options of another command: said, with their exit' '
	mkdir dir.db &&
	test_expect_code 1 bt-cache --cache dir.db get <q.req 2>err &&
	test_grep "^bt-cache: dir.db: " err &&
	rm -f rq.fifo && mkfifo rq.fifo &&
	test_expect_code 2 bt-cache --cache s.db put rq.fifo <r.res 2>err &&
	echo "bt-cache: rq.fifo: not a regular file" >expect &&
	test_cmp expect err &&
	test_expect_code 2 bt-cache --cache s.db --older-than 1d get <q.req 2>err &&
	echo "bt-cache: --older-than goes with prune, not get" >expect &&
	test_cmp expect err &&
	test_expect_code 2 bt-cache --cache s.db --truncated get <q.req 2>err &&
	echo "bt-cache: --truncated goes with put, not get" >expect &&
	test_cmp expect err &&
	test_expect_code 2 bt-cache --cache s.db -H get <q.req 2>err &&
	echo "bt-cache: -H goes with stats, not get" >expect &&
	test_cmp expect err
'

test_expect_success 'get into a closed pipe ends quietly' '
	cat q.req q.req q.req >qqq.req &&
	for i in 1 2 3 4 5 6 7 8; do cat qqq.req qqq.req; done >many.req &&
	{ bt-cache --cache s.db get many.req 2>err; echo $? >st; } | head -n 1 >one &&
	test_lines 1 one &&
	test_must_be_empty err
'

test_expect_success 'no store named, another SQLite file, an unknown command: refused' '
	test_expect_code 2 bt-cache get <q.req 2>err &&
	echo "bt-cache: no store: give --cache FILE, or set BT_CACHE" >expect &&
	test_cmp expect err &&
	BT_CACHE=s.db bt-cache get <q.req >hits &&
	test_lines 2 hits &&
	sqlite3 other.db "CREATE TABLE t (x)" &&
	test_expect_code 1 bt-cache --cache other.db get <q.req 2>err &&
	echo "bt-cache: other.db: an SQLite file, but not a bt-cache store: give another --cache" >expect &&
	test_cmp expect err &&
	test_expect_code 2 bt-cache --cache s.db fetch 2>err &&
	echo "bt-cache: unknown command \"fetch\": give get, put, stats or prune" >expect &&
	test_cmp expect err
'

test_expect_success 'stats: entries, bytes, models, hits' '
	bt-cache --cache st.db put r.req <r.res &&
	bt-cache --cache st.db put o.req <o.res &&
	bt-cache --cache st.db get q.req >/dev/null &&
	bt-cache --cache st.db get p.req >/dev/null &&
	bt-cache --cache st.db stats >stats &&
	jq -c "del(.file_bytes, .oldest, .newest)" stats >actual &&
	b=$(sqlite3 st.db "SELECT sum(length(request) + length(answer)) FROM answers") &&
	ba=$(sqlite3 st.db "SELECT sum(length(request) + length(answer)) FROM answers WHERE provider = \"anthropic\"") &&
	echo "{\"store\":\"st.db\",\"entries\":4,\"bytes\":$b,\"gets\":2,\"requests\":6,\"hits\":4,\"puts\":2,\"stored\":4,\"models\":[{\"provider\":\"anthropic\",\"model\":\"m\",\"entries\":2,\"bytes\":$ba,\"truncated\":0},{\"provider\":\"openai\",\"model\":\"gpt-4.1-mini\",\"entries\":2,\"bytes\":$((b - ba)),\"truncated\":0}]}" >expect &&
	test_cmp expect actual &&
	test "$(jq -r ".file_bytes > 0" stats)" = true &&
	bt-cache --cache st.db -H stats >human &&
	test_grep "^get: 2 run\(s\), 4 of 6 requests answered by the store$" human
'

test_expect_success 'prune: by model, by age; with neither, nothing and exit 2' '
	test_expect_code 2 bt-cache --cache st.db prune 2>err &&
	test_grep "say what to remove" err &&
	bt-cache --cache st.db prune --model gpt-4.1-mini >actual &&
	echo "{\"removed\":2,\"entries\":2}" >expect &&
	test_cmp expect actual &&
	bt-cache --cache st.db prune --older-than 1d >actual &&
	echo "{\"removed\":0,\"entries\":2}" >expect &&
	test_cmp expect actual &&
	sqlite3 st.db "UPDATE answers SET stored_at = stored_at - 2 * 86400 WHERE custom_id = \"a\"" &&
	bt-cache --cache st.db prune --older-than 1d >actual &&
	echo "{\"removed\":1,\"entries\":1}" >expect &&
	test_cmp expect actual &&
	test "$(sqlite3 st.db "SELECT custom_id FROM answers")" = c
'

# gen N PREFIX: N requests and their results
gen() {
	awk -v n="$1" -v p="$2" 'BEGIN { for (i = 1; i <= n; i++) printf "{\"custom_id\":\"%s%d\",\"params\":{\"model\":\"m\",\"max_tokens\":16,\"messages\":[{\"role\":\"user\",\"content\":\"%s %d\"}]}}\n", p, i, p, i }' >"$2.req" &&
	awk -v n="$1" -v p="$2" 'BEGIN { for (i = 1; i <= n; i++) printf "{\"custom_id\":\"%s%d\",\"result\":{\"type\":\"succeeded\",\"message\":{\"id\":\"msg_%s%d\",\"type\":\"message\",\"role\":\"assistant\",\"model\":\"m\",\"content\":[{\"type\":\"text\",\"text\":\"answer to %s %d, padded to make the pages of a transaction spill: %0200d\"}],\"stop_reason\":\"end_turn\",\"stop_sequence\":null,\"usage\":{\"input_tokens\":3,\"output_tokens\":4}}}}\n", p, i, p, i, p, i, 0 }' >"$2.res"
}

test_expect_success 'four writers side by side on one store: every answer kept' '
	for w in w1 w2 w3 w4; do gen 2000 $w || exit 1; done &&
	for w in w1 w2 w3 w4; do
		bt-cache --cache four.db put $w.req <$w.res 2>$w.err &
	done &&
	wait &&
	test "$(count four.db)" = 8000 &&
	cat w1.req w2.req w3.req w4.req | bt-cache --cache four.db get >hits &&
	test_lines 8000 hits &&
	bt-retry w1.req <hits >left 2>/dev/null &&
	test_must_be_empty left &&
	cat w1.err w2.err w3.err w4.err >errs &&
	test_must_be_empty errs &&
	test "$(sqlite3 four.db "PRAGMA integrity_check")" = ok
'

# kill_put N: a put of big.res begun, killed by SIGKILL once the WAL has
# grown past N bytes (or once it ended by itself)
kill_put() {
	bt-cache --cache k.db put big.req big.res 2>/dev/null &
	_p=$!
	wait_for -t 60 sh -c "[ \$(stat -c %s k.db-wal 2>/dev/null || echo 0) -gt $1 ] || ! kill -0 $_p 2>/dev/null" &&
	kill -KILL $_p 2>/dev/null
	wait $_p 2>/dev/null
	return 0
}

test_expect_success 'a put killed by SIGKILL, again and again: the store stays whole, nothing committed is lost' '
	gen 60000 big &&
	gen 50 kept &&
	bt-cache --cache k.db put kept.req kept.res &&
	: >midway &&
	for at in 0 100000 400000 1000000 2000000 4000000 8000000 16000000; do
		kill_put $at &&
		test "$(sqlite3 k.db "PRAGMA integrity_check")" = ok &&
		n=$(count k.db) &&
		{ test "$n" = 50 || test "$n" = 60050; } &&
		{ test "$n" = 60050 || echo $at >>midway; } &&
		bt-cache --cache k.db get kept.req >hits &&
		test_lines 50 hits &&
		{ test "$n" = 50 || sqlite3 k.db "DELETE FROM answers WHERE custom_id LIKE \"big%\""; } || exit 1
	done &&
	test $(wc -l <midway) -ge 3 &&
	bt-cache --cache k.db put big.req big.res &&
	test "$(count k.db)" = 60050 &&
	bt-cache --cache k.db get big.req | bt-retry big.req 2>/dev/null >left &&
	test_must_be_empty left &&
	test "$(sqlite3 k.db "PRAGMA integrity_check")" = ok
'

test_done
