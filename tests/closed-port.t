#!/bin/sh
# A server that cannot be reached is said at once (issue 18 §2): before,
# a base URL on a closed port was silent for the 15 minutes of the retry
# budget (bt-run said "round 1: … 1 chunk(s)" and nothing more, bt-send
# "5 in flight").  The first failure of each kind is said on stderr with
# when it is retried; the same failure again is said once a minute at
# most.  bt-send stopped by a signal while it waits for a retry ends at
# once, its request left unsent (it waited out the whole budget).
. "${0%/*}/lib.sh"

# a port nothing listens on: bound by the kernel's choice, then closed
port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
ANTHROPIC_BASE_URL=http://127.0.0.1:$port
ANTHROPIC_API_KEY=sk-test-key
BT_RETRY_BUDGET=600
export ANTHROPIC_BASE_URL ANTHROPIC_API_KEY BT_RETRY_BUDGET
SQ="'"

printf '%s\n' '{"custom_id":"a","params":{"model":"claude-haiku-4-5","max_tokens":5,"messages":[{"role":"user","content":"hi"}]}}' >req.jsonl

# said FILE: FILE holds the first-failure line (then the test stops
# the program)
said() {
	grep -q "Couldn't connect to server; retrying in [0-9.]*s\$" "$1"
}

# the lines of FILE, the port and the retry's delay masked
masked() {
	sed -e "s/port $port after [0-9]* ms/port PORT after N ms/" \
	    -e 's/retrying in [0-9.]*s/retrying in Ts/' "$1"
}

test_expect_success 'bt-send: the first failure is said at once; SIGTERM ends the wait for its retry' '
	{ bt-send req.jsonl >out 2>err & } &&
	pid=$! &&
	wait_for said err &&
	kill -TERM $pid &&
	test_expect_code 1 wait $pid &&
	test_must_be_empty out &&
	masked err >actual &&
	cat >expect <<-EOF &&
	bt-send: a: POST /v1/messages: Failed to connect to 127.0.0.1 port PORT after N ms: Couldn${SQ}t connect to server; retrying in Ts
	bt-send: interrupted: 1 of 1 requests not sent
	EOF
	test_cmp expect actual
'

test_expect_success 'bt-wait: the first failure is said at once' '
	{ bt-wait msgbatch_01closedport >out 2>err & } &&
	pid=$! &&
	wait_for said err &&
	kill $pid && { wait $pid; test $? -gt 128; } &&
	test_must_be_empty out &&
	test_lines 1 err &&
	masked err >actual &&
	echo "bt-wait: msgbatch_01closedport: GET /v1/messages/batches/msgbatch_01closedport: Failed to connect to 127.0.0.1 port PORT after N ms: Couldn${SQ}t connect to server; retrying in Ts" >expect &&
	test_cmp expect actual
'

test_expect_success 'bt-submit, bt-fetch and bt-list: the same, each at once' '
	for p in "bt-submit req.jsonl" "bt-fetch msgbatch_01closedport" "bt-list"; do
		{ BT_STATE_DIR=$PWD/state $p >out 2>err & } &&
		pid=$! &&
		wait_for said err &&
		kill $pid && { wait $pid; test $? -gt 128; } &&
		test_lines 1 err &&
		test_must_be_empty out || return 1
	done
'

test_expect_success 'bt-run: its round says why it waits, at once; a job where no record succeeded is exit 3' '
	printf "%s\n" "{\"id\":\"1\",\"text\":\"hi\"}" >r.jsonl &&
	BT_RETRY_BUDGET=2 test_expect_code 3 \
		bt-run -m claude-haiku-4-5 --id .id -p .text -w r.work r.jsonl >out 2>err &&
	jq -r .status out >status &&
	echo errored >expect &&
	test_cmp expect status &&
	grep -n "Couldn${SQ}t connect to server; retrying in" err >said &&
	test -s said
'

test_done
