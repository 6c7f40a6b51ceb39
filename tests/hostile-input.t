#!/bin/sh
# Bounded under hostile input (issue 18 §4): every line reader holds at
# most bt_line_max() bytes (BT_LINE_MAX, lowered here), and a longer line
# is exit 2 naming file and line, with nothing left behind.
. "${0%/*}/lib.sh"

req='{"custom_id":"a","params":{"model":"claude-haiku-4-5","max_tokens":5,"messages":[{"role":"user","content":"hi"}]}}'
export ANTHROPIC_API_KEY=sk-test ANTHROPIC_BASE_URL=http://127.0.0.1:9

# long PROG ARG...: 5 MB of NUL bytes, no newline, on stdin to PROG under
# BT_LINE_MAX=1000000: exit 2, "PROG: stdin:1: line longer than 1000000
# bytes", nothing on stdout.
long() {
	head -c 5000000 /dev/zero >zeros &&
	test_expect_code 2 env BT_LINE_MAX=1000000 "$@" <zeros >out 2>err &&
	echo "$1: stdin:1: line longer than 1000000 bytes" >expect &&
	test_cmp expect err &&
	test_must_be_empty out
}

test_expect_success 'bt-split: an endless line is exit 2, named, no chunk' '
	mkdir d &&
	head -c 5000000 /dev/zero | test_expect_code 2 env BT_LINE_MAX=1000000 bt-split -d d >out 2>err &&
	echo "bt-split: stdin:1: line longer than 1000000 bytes" >expect &&
	test_cmp expect err &&
	test_must_be_empty out &&
	ls -A d >ls &&
	test_must_be_empty ls
'

test_expect_success 'bt-split: a good line, then an endless one: line 2 named, no chunk' '
	rm -rf d && mkdir d &&
	{ echo "$req" && head -c 5000000 /dev/zero; } >in &&
	test_expect_code 2 env BT_LINE_MAX=1000000 bt-split -d d <in >out 2>err &&
	echo "bt-split: stdin:2: line longer than 1000000 bytes" >expect &&
	test_cmp expect err &&
	ls -A d >ls &&
	test_must_be_empty ls
'

for p in bt-format bt-cost bt-submit bt-fetch bt-wait; do
test_expect_success "$p: an endless line on stdin is exit 2, named" '
	case '$p' in
	bt-format) long bt-format -m claude-haiku-4-5 -p . ;;
	*) long '$p' ;;
	esac
'
done

test_expect_success 'bt-retry and bt-join: an endless line of results or records, named' '
	echo "$req" >req.jsonl &&
	long bt-retry req.jsonl &&
	head -c 5000000 /dev/zero >recs &&
	test_expect_code 2 env BT_LINE_MAX=1000000 bt-join recs </dev/null >out 2>err &&
	echo "bt-join: recs:1: line longer than 1000000 bytes" >expect &&
	test_cmp expect err
'

test_expect_success 'a line of exactly BT_LINE_MAX bytes is read; one more is not' '
	printf "%s\n" "$req" >one &&
	n=$(printf "%s" "$req" | wc -c) &&
	BT_LINE_MAX=$n bt-split -d . one >out 2>err &&
	test_must_be_empty err &&
	test_cmp one chunk.0001.jsonl &&
	test_expect_code 2 env BT_LINE_MAX=$((n - 1)) bt-cost one >out 2>err &&
	echo "bt-cost: one:1: line longer than $((n - 1)) bytes" >expect &&
	test_cmp expect err
'

test_expect_success 'BT_LINE_MAX may only lower the cap' '
	test_expect_code 2 env BT_LINE_MAX=256000001 bt-cost one >out 2>err &&
	test_grep "BT_LINE_MAX: 256000001 is out of range \(1 to 256000000\)" err &&
	test_expect_code 2 env BT_LINE_MAX=x bt-cost one >out 2>err &&
	test_grep "BT_LINE_MAX: not a whole number" err
'

test_expect_success 'a file read whole (--schema, --system-file, --prices) is capped at BT_LINE_MAX: /dev/zero is exit 2, named' '
	echo "{\"x\":\"y\"}" >one.jsonl &&
	BT_LINE_MAX=100000 test_expect_code 2 bt-format -m m --schema /dev/zero -p .x one.jsonl >out 2>err &&
	test_must_be_empty out &&
	echo "bt-format: --schema: /dev/zero: File too large" >expect && test_cmp expect err &&
	BT_LINE_MAX=100000 test_expect_code 2 bt-format -m m --system-file /dev/zero -p .x one.jsonl >out 2>err &&
	test_grep "/dev/zero: File too large$" err &&
	BT_LINE_MAX=100000 test_expect_code 2 bt-cost --prices /dev/zero one.jsonl 2>err &&
	test_grep "/dev/zero: File too large$" err
'

test_expect_success 'a FIFO named as a chunk: not opened (no hang), exit 2' '
	mkfifo fifo &&
	echo fifo | test_expect_code 2 timeout 20 bt-submit >out 2>err &&
	echo "bt-submit: stdin:1: '\''fifo'\'': not a chunk file (a path) or a request (a JSON object): not a regular file" >expect &&
	test_cmp expect err &&
	test_expect_code 2 timeout 20 bt-submit fifo >out 2>err &&
	echo "bt-submit: fifo: not a regular file" >expect &&
	test_cmp expect err &&
	test_expect_code 2 timeout 20 bt-submit --max-cost 1 fifo >out 2>err &&
	test_cmp expect err &&
	test_expect_code 2 timeout 20 bt-send fifo >out 2>err &&
	echo "bt-send: fifo: not a regular file" >expect &&
	test_cmp expect err &&
	test_expect_code 2 timeout 20 bt-submit /dev/zero >out 2>err &&
	echo "bt-submit: /dev/zero: not a regular file" >expect &&
	test_cmp expect err
'

test_expect_success 'bt-run fifo, bt-run /dev/zero: "not a regular file", exit 2' '
	test_expect_code 2 timeout 20 bt-run fifo >out 2>err &&
	echo "bt-run: fifo: not a regular file" >expect &&
	test_cmp expect err &&
	test_expect_code 2 bt-run /dev/zero >out 2>err &&
	echo "bt-run: /dev/zero: not a regular file" >expect &&
	test_cmp expect err &&
	test_expect_code 2 bt-run -p . -f /dev/zero r.jsonl >out 2>err &&
	echo "bt-run: -f: /dev/zero: not a regular file" >expect &&
	test_cmp expect err &&
	test_expect_code 2 bt-run nosuch >out 2>err &&
	echo "bt-run: nosuch: no such file" >expect &&
	test_cmp expect err
'

test_expect_success 'bt-send: stdin is not copied past an endless line (the rest is left unread)' '
	head -c 5000000 /dev/zero >zeros &&
	mkdir tmp &&
	{ test_expect_code 2 env BT_LINE_MAX=1000000 TMPDIR=$PWD/tmp bt-send >out 2>err &&
	  cat >rest; } <zeros &&
	echo "bt-send: stdin:1: line longer than 1000000 bytes" >expect &&
	test_cmp expect err &&
	test_must_be_empty out &&
	test $(wc -c <rest) -ge 3000000 &&
	{ echo "$req" && cat zeros; } | test_expect_code 2 env BT_LINE_MAX=1000000 bt-send >out 2>err &&
	echo "bt-send: stdin:2: line longer than 1000000 bytes" >expect &&
	test_cmp expect err
'

# reqs N: good requests r1..rN
reqs() {
	for i in $(seq 1 "$1"); do
		echo "{\"custom_id\":\"r$i\",\"params\":{\"model\":\"claude-haiku-4-5\",\"max_tokens\":5,\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}]}}"
	done
}
test_expect_success 'bt-format: a bad record leaves a file on stdout as it was (>, >>)' '
	{ seq 1 3 | sed "s/.*/{\"t\":\"x&\"}/" && echo bad; } >recs4 &&
	test_expect_code 2 bt-format -m claude-haiku-4-5 -p .t <recs4 >fout 2>err &&
	echo "bt-format: stdin:4: invalid JSON: unexpected '\''b'\'', expected a value at column 1" >expect &&
	test_cmp expect err &&
	test_must_be_empty fout &&
	echo before >fout && cp fout expect &&
	test_expect_code 2 bt-format -m claude-haiku-4-5 -p .t <recs4 >>fout 2>err &&
	test_cmp expect fout &&
	head -c 5000000 /dev/zero >>recs4 &&
	test_expect_code 2 env BT_LINE_MAX=1000000 bt-format -m claude-haiku-4-5 -p .t <recs4 >fout 2>err &&
	test_must_be_empty fout
'

test_expect_success 'bt-retry: a bad request line leaves a file on stdout empty' '
	{ reqs 2 && echo bad; } >reqs3 &&
	test_expect_code 2 bt-retry reqs3 </dev/null >rout 2>err &&
	echo "bt-retry: reqs3:3: invalid JSON: unexpected '\''b'\'', expected '\''{'\'' at column 1" >expect &&
	test_cmp expect err &&
	test_must_be_empty rout &&
	bt-retry reqs3 </dev/null | head -n 2 >pout &&
	reqs 2 >expect &&
	test_cmp expect pout
'

mock_start
test_expect_success 'a key with a control character: exit 2, said, not printed, nothing sent' '
	echo "$req" >r.jsonl &&
	h0=$(mock_stat http) && h1=$(mock_stat http) &&
	for p in "bt-list" "bt-wait msgbatch_x" "bt-fetch msgbatch_x" \
		"bt-cancel msgbatch_x" "bt-submit r.jsonl" "bt-send r.jsonl"; do
		test_expect_code 2 env ANTHROPIC_API_KEY="$(printf "sk-1\r\nx-injected: yes")" \
			$p >out 2>err &&
		echo "${p%% *}: ANTHROPIC_API_KEY: a control character or a NUL byte in the key" >expect &&
		test_cmp expect err &&
		test_must_be_empty out || return 1
	done &&
	h2=$(mock_stat http) &&
	test $((h2 - h1)) = $((h1 - h0))
'

test_expect_success 'a key file given instead of a bad ANTHROPIC_API_KEY is used' '
	echo sk-test-key >key && chmod 600 key &&
	env ANTHROPIC_API_KEY="$(printf "sk-1\r\nx: y")" bt-list --api-key-file key >out 2>err &&
	test_must_be_empty err
'

test_expect_success '--api-key-file /dev/zero: exit 2 at once, named' '
	test_expect_code 2 bt-list --api-key-file /dev/zero >out 2>err &&
	echo "bt-list: /dev/zero: longer than 4096 bytes: not a key file" >expect &&
	test_cmp expect err &&
	head -c 5000 /dev/zero | tr "\0" k >long && chmod 600 long &&
	test_expect_code 2 bt-list --api-key-file long >out 2>err &&
	echo "bt-list: long: longer than 4096 bytes: not a key file" >expect &&
	test_cmp expect err
'

# hold_key FIFO: write a key line to FIFO and keep it open (KPID)
hold_key() {
	sh -c 'echo sk-test-key; exec sleep 60' >"$1" &
	KPID=$!
}
test_expect_success '--api-key-file: a pipe held open after its key line is not waited on' '
	mkfifo kf &&
	hold_key kf &&
	timeout 20 bt-list --api-key-file kf >out 2>err &&
	kill $KPID &&
	test_must_be_empty err
'
test_expect_success 'an answer longer than BT_LINE_MAX: a clean failure naming its URL' '
	echo "$req" >r1.jsonl &&
	bt-submit r1.jsonl >b 2>err &&
	id=$(jq -r .id b) &&
	test_expect_code 1 env BT_LINE_MAX=100 bt-wait "$id" >out 2>err &&
	test_grep "GET $MOCK_URL/v1/messages/batches/$id: an answer longer than 100 bytes" err &&
	test_must_be_empty out &&
	bt-wait "$id" >out 2>err &&
	test_lines 1 out
'

test_expect_success 'bt-fetch: a result line longer than BT_LINE_MAX fails the batch, named' '
	long=$(head -c 3000 /dev/zero | tr "\0" x) &&
	echo "{\"custom_id\":\"big\",\"params\":{\"model\":\"claude-haiku-4-5\",\"max_tokens\":2000,\"messages\":[{\"role\":\"user\",\"content\":\"$long\"}]}}" >big.jsonl &&
	bt-submit big.jsonl >b 2>err &&
	id=$(jq -r .id b) &&
	bt-wait "$id" >/dev/null 2>err &&
	test_expect_code 1 env BT_LINE_MAX=2000 bt-fetch "$id" >out 2>err &&
	echo "bt-fetch: $id: result line 1: longer than 2000 bytes" >expect &&
	test_cmp expect err &&
	test_must_be_empty out &&
	bt-fetch "$id" >out 2>err &&
	test_lines 1 out
'

mock_stop

mock_start --fault messages:badutf8 --fault results:badutf8
test_expect_success 'bad UTF-8 in an answer: bt-send and bt-fetch mend it to U+FFFD, say it once, exit 0' '
	printf "%s\n" "{\"custom_id\":\"u1\",\"params\":{\"model\":\"claude-haiku-4-5\",\"max_tokens\":50,\"messages\":[{\"role\":\"user\",\"content\":\"hello\"}]}}" >u.jsonl &&
	bt-send u.jsonl >s.out 2>err &&
	echo "bt-send: u1: invalid UTF-8 in the answer, replaced by U+FFFD" >expect &&
	test_cmp expect err &&
	jq -r .result.message.content[0].text s.out >text &&
	printf "\357\277\275ello\n" >expect &&
	test_cmp expect text &&
	bt-submit u.jsonl >b 2>err &&
	id=$(jq -r .id b) &&
	bt-wait "$id" >/dev/null 2>err &&
	bt-fetch "$id" >f.out 2>err &&
	echo "bt-fetch: $id: custom_id \"u1\": invalid UTF-8 in the answer, replaced by U+FFFD" >expect &&
	test_cmp expect err &&
	jq -r .result.message.content[0].text f.out >text &&
	printf "\357\277\275ello\n" >expect &&
	test_cmp expect text
'
mock_stop

# drip: start tests/drip-server.py (one byte every 0.5 s); sets DURL, DPID
drip() {
	rm -f durl
	python3 "$TESTS/drip-server.py" durl &
	DPID=$!
	wait_for -t 30 test -s durl
	DURL=$(cat durl)
}
drip
test_expect_success 'slowloris: a dripping answer is given up at the deadline, retried, then a failure' '
	start=$(date +%s) &&
	test_expect_code 1 env ANTHROPIC_BASE_URL=$DURL BT_TRANSFER_DEADLINE=3 BT_RETRY_BUDGET=5s \
		timeout 60 bt-fetch msgbatch_drip1 >out 2>err &&
	end=$(date +%s) &&
	test_grep "^bt-fetch: msgbatch_drip1: GET /v1/messages/batches/msgbatch_drip1: no whole answer within 3s \(the transfer.s deadline\) \(gave up after 2 attempts in [0-9]+s\)$" err &&
	test_must_be_empty out &&
	test $((end - start)) -lt 40
'
kill "$DPID" 2>/dev/null

test_done
