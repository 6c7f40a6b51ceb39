#!/bin/sh
# bt-wait: batches that take long: --timeout, --once, expiry, cancel.
. "${0%/*}/lib.sh"

create() {
	api POST /v1/messages/batches -f --data-binary \
		'{"requests":[{"custom_id":"a","params":{"model":"m","max_tokens":5,"messages":[{"role":"user","content":"hi"}]}},{"custom_id":"b","params":{"model":"m","max_tokens":5,"messages":[{"role":"user","content":"ho"}]}}]}'
}
now() { date +%s.%N; }
took() {
	perl -e 'my $d = $ARGV[3] - $ARGV[2]; exit 0 if $d >= $ARGV[0] && $d <= $ARGV[1];
		print "took ${d}s, wanted $ARGV[0] to $ARGV[1]\n"; exit 1' "$@"
}

mock_start --processing-time 60 --cancel-time 0.3 || exit 1
create >long1 && create >long2 || exit 1
# an ended batch: canceled at once
create >short && api POST "/v1/messages/batches/$(jq -r .id short)/cancel" -f >/dev/null || exit 1
wait_for mock_ended $(jq -r .id short) || exit 1

test_expect_success '--timeout: exit 3, nothing printed, the unfinished named' '
	start=$(now) &&
	test_expect_code 3 bt-wait --timeout 1 "$(jq -r .id long1)" "$(jq -r .id long2)" >out 2>err &&
	end=$(now) &&
	test_must_be_empty out &&
	echo "bt-wait: timed out: 2 batches not ended: $(jq -r .id long1) $(jq -r .id long2)" >expect &&
	test_cmp expect err &&
	took 0.9 3 "$start" "$end"
'

test_expect_success '--timeout with stdin still open and nothing pending: exit 3' '
	mkfifo fifo &&
	{ sleep 30 >fifo & } && pid=$! &&
	{ test_expect_code 3 bt-wait --timeout 0.5 <fifo >out 2>err; st=$?; kill $pid; } &&
	test $st = 0 &&
	echo "bt-wait: timed out: the input did not end" >expect && test_cmp expect err
'

test_expect_success '--once: exit 3 with an unfinished batch, the ended one printed' '
	jq -r .id long1 >in && cat short >>in && echo >>in &&
	start=$(now) &&
	test_expect_code 3 bt-wait --once <in >out 2>err && end=$(now) &&
	jq -r .id short >expect && jq -r .id out >actual && test_cmp expect actual &&
	test_must_be_empty err &&
	took 0 3 "$start" "$end" &&
	test_expect_code 3 bt-wait -v --once <in >out 2>err &&
	echo "bt-wait: --once: 1 batch not ended: $(jq -r .id long1)" >expect && test_cmp expect err
'

test_expect_success '--once: exit 0 when all have ended' '
	bt-wait --once "$(jq -r .id short)" >out &&
	jq -r .id short >expect && jq -r .id out >actual && test_cmp expect actual
'

test_expect_success '--once --all: every batch as it is now, ended or not; the exit still says' '
	jq -r .id long1 >in && jq -r .id short >>in &&
	test_expect_code 3 bt-wait --once --all <in >out 2>err &&
	test_must_be_empty err &&
	jq -r "[.id, .processing_status] | @tsv" out | sort >actual &&
	{ printf "%s\tin_progress\n" "$(jq -r .id long1)"; printf "%s\tended\n" "$(jq -r .id short)"; } | sort >expect &&
	test_cmp expect actual &&
	test_expect_code 2 bt-wait --all <in >out 2>err &&
	test_must_be_empty out &&
	echo "bt-wait: --all goes with --once" >expect && test_cmp expect err
'

test_expect_success '--once retries a transient error' '
	mock_fault "get:529*1" &&
	bt-wait --once "$(jq -r .id short)" >out &&
	test_lines 1 out
'

test_expect_success 'a canceled batch ends and is printed, with canceled counts' '
	id=$(jq -r .id long2) &&
	api POST "/v1/messages/batches/$id/cancel" >c &&
	test "$(jq -r .processing_status c)" = canceling &&
	bt-wait --interval 0.2 "$id" >out &&
	jq -c "[.id, .processing_status, .request_counts.canceled, (.cancel_initiated_at != null)]" out >actual &&
	echo "[\"$id\",\"ended\",2,true]" >expect && test_cmp expect actual
'

mock_stop
mock_start --processing-time 60 --expire-after 3 || exit 1
create >exp || exit 1

test_expect_success 'a batch near its expiry: a warning, once; then it ends expired' '
	id=$(jq -r .id exp) &&
	bt-wait --interval 0.5 "$id" >out 2>err &&
	test_lines 1 err &&
	at=$(jq -r .expires_at exp) && at=${at%.*}Z &&
	test_grep "^bt-wait: $id: expires in [0-3]s \\(at $at\\), 2 requests still processing$" err &&
	jq -c "[.processing_status, .request_counts.expired]" out >actual &&
	echo "[\"ended\",2]" >expect && test_cmp expect actual
'

test_done
