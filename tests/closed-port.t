#!/bin/sh
# A base URL on a closed port (issue 18 §2): the first failure of each
# kind is said on stderr at once, with when it is tried again; its
# repeats are counted, not said, for a minute.  Before, bt-send and
# bt-wait were silent until the retry budget (15 minutes) ran out, and
# bt-run said nothing past "round 1".  A program still retrying is killed
# with -9; bt-run
# runs until its short retry budget is spent.
. "${0%/*}/lib.sh"

# a port nothing listens on, held for the whole file: bound, never
# listened on, so that a connection is refused, and no other test (of a
# second make check beside this one) can take it, as it could take a
# port let go
perl -MSocket -e '
	socket(S, PF_INET, SOCK_STREAM, 0) or die "socket: $!";
	bind(S, sockaddr_in(0, INADDR_LOOPBACK)) or die "bind: $!";
	my ($port) = sockaddr_in(getsockname(S));
	$| = 1;
	print "$port\n";
	close STDOUT;
	sleep 900;' >.port &
HOLDER=$!
trap 'kill $HOLDER 2>/dev/null; test_cleanup' EXIT
_i=0
while ! [ -s .port ] && [ $_i -lt 200 ]; do sleep 0.05; _i=$((_i + 1)); done
port=$(cat .port)
[ -n "$port" ] || { echo "Bail out! no port to hold"; exit 1; }
url=http://127.0.0.1:$port
hostport=127.0.0.1:$port
export ANTHROPIC_BASE_URL=$url ANTHROPIC_API_KEY=sk-test-key
req='{"custom_id":"a1","params":{"model":"claude-haiku-4-5","max_tokens":5,"messages":[{"role":"user","content":"hi"}]}}'
echo "$req" >r.jsonl
for i in 2 3 4 5; do echo "$req" | sed "s/a1/a$i/"; done >>r.jsonl

# said PROGRAM: the line PROGRAM says first, its wait masked
said() {
	echo "$1: connect to $hostport failed (Connection refused); retrying in N s" >expect
}
mask_wait() { sed 's/; retrying in [0-9][0-9.]* s$/; retrying in N s/' "$1"; }

# A test that waits for a line in err empties err itself before it starts
# the program: the test before left "retrying" in it, and the background
# shell may not have opened it yet when the wait begins (then the wait
# saw the old line, and the test killed a program not yet started).
for prog in bt-send bt-wait; do
test_expect_success "$prog: the first refused connection is said at once, and when it retries" '
	if [ '$prog' = bt-send ]; then
		head -n 1 r.jsonl >in
	else
		echo msgbatch_closed1 >in
	fi &&
	: >err &&
	{ '$prog' <in >out 2>>err & } && pid=$! &&
	{ wait_for grep -q retrying err || { kill -9 $pid; false; }; } &&
	kill -9 $pid && { wait $pid; :; } &&
	test_must_be_empty out &&
	said '$prog' && mask_wait err >actual &&
	test_cmp expect actual &&
	grep -q "retrying in 0\.[2-5] s$" err
'
done

test_expect_success 'bt-run: its bt-send says the first refused connection at once; the job ends with exit 3' '
	echo "{\"id\":1,\"text\":\"hi\"}" >recs.jsonl &&
	BT_RETRY_BUDGET=2s test_expect_code 3 \
		bt-run -w w -m claude-haiku-4-5 -p .text recs.jsonl >out 2>err &&
	jq -r .status out >status &&
	echo errored >expect &&
	test_cmp expect status &&
	grep "^bt-send:" err | head -n 1 >sent &&
	said bt-send && mask_wait sent >actual &&
	test_cmp expect actual
'

test_expect_success 'bt-send: five refused at once and again: one line for all, then errored results' '
	BT_RETRY_BUDGET=2s bt-send -c 5 <r.jsonl >out 2>err &&
	said bt-send && mask_wait err >actual &&
	test_cmp expect actual &&
	jq -r "[.custom_id, .result.type] | @tsv" out | sort >actual &&
	printf "a1\terrored\na2\terrored\na3\terrored\na4\terrored\na5\terrored\n" >expect &&
	test_cmp expect actual
'

test_expect_success 'bt-send: the repeats of one failure are counted, and said with their number (each half second here, each minute by default)' '
	head -n 1 r.jsonl >in &&
	BT_RETRY_BUDGET=8s BT_SAY_EVERY=500ms bt-send <in >out 2>err &&
	jq -r .result.type out >actual &&
	echo errored >expect &&
	test_cmp expect actual &&
	grep "retrying in" err >lines &&
	head -n 1 lines >first &&
	said bt-send && mask_wait first >actual &&
	test_cmp expect actual &&
	sed -n 2p lines >second &&
	test_grep "^bt-send: connect to $hostport failed \(Connection refused\) \([0-9]+ times? in the last [0-9]+ s\); retrying in [0-9.]+ s$" second &&
	n=$(sed -E "s/.*\(([0-9]+) times? in the last.*/\1/" second) &&
	test "$n" -ge 1
'

test_expect_success 'bt-wait: two batches, refused until the budget runs out: one line, then each failure' '
	printf "msgbatch_closed1\nmsgbatch_closed2\n" >in &&
	test_expect_code 1 env BT_RETRY_BUDGET=2s bt-wait <in >out 2>err &&
	test_must_be_empty out &&
	grep -v "gave up after" err >first &&
	said bt-wait && mask_wait first >actual &&
	test_cmp expect actual &&
	test_lines 3 err
'

test_expect_success 'bt-send stopped by SIGTERM while its request waits for a retry: ends at once, nothing written' '
	head -n 1 r.jsonl >in &&
	: >err &&
	{ bt-send -o answers <in >out 2>>err & } && pid=$! &&
	{ wait_for grep -q retrying err || { kill -9 $pid; false; }; } &&
	kill -TERM $pid &&
	{ wait_for -t 10 eval "! kill -0 $pid 2>/dev/null" || { kill -9 $pid; false; }; } &&
	test_expect_code 1 wait $pid &&
	test_must_be_empty out &&
	test_must_be_empty answers &&
	tail -n 1 err >last &&
	echo "bt-send: interrupted: 1 of 1 requests not sent" >expect &&
	test_cmp expect last
'

test_done
