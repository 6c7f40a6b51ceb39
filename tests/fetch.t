#!/bin/sh
# bt-fetch: batches in, results out — complete, checked, each line once.
. "${0%/*}/lib.sh"

# create N [WORD]: make a batch of N requests r1..rN whose prompts are
# "WORD i" (default "hi"); the MessageBatch object (one line) on stdout
create() {
	perl -e 'print "{\"requests\":[", join(",", map {
		"{\"custom_id\":\"r$_\",\"params\":{\"model\":\"m\",\"max_tokens\":16,\"messages\":[{\"role\":\"user\",\"content\":\"$ARGV[1] $_\"}]}}"
		} 1..$ARGV[0]), "]}"' "$1" "${2:-hi}" >.body &&
	api POST /v1/messages/batches --data-binary @.body -f && echo
}
# ended ID...: return once every batch has ended
ended() { bt-wait --interval 0.1 "$@" >/dev/null; }
# results ID: the results as curl downloads them
results() { api GET "/v1/messages/batches/$1/results" -f; }
# faults_left: faults the mock has not used up yet
faults_clear() { curl -sS -f -X DELETE "$MOCK_URL/_mock/faults" >/dev/null; }
# no_dups FILE: no line of FILE is there twice
no_dups() {
	sort "$1" | uniq -d >.dups
	test -s .dups || return 0
	echo "no_dups: lines written more than once in $1:"
	cut -c 1-100 .dups | head -n 5
	return 1
}
# same_set EXPECTED ACTUAL: the same lines, in any order
same_set() { sort "$1" >.e && sort "$2" >.a && test_cmp .e .a; }
# complete_lines N FILE: the whole lines among the first N bytes of FILE
complete_lines() { head -c "$1" "$2" | perl -ne 'print if /\n\z/'; }
# retried_once FILE WHAT: FILE is the one line that says a failure WHAT
# (an ERE) and when it is retried: the first of a kind is said at once
retried_once() {
	test_lines 1 "$1" &&
	test_grep "^bt-fetch: GET /v1/messages/batches/[A-Za-z0-9_]+(/results)?: $2.*; retrying in [0-9.]+ s\$" "$1"
}

mock_start --state-dir "$TRASH/state" --processing-time 0.3 || exit 1

test_expect_success 'an ended batch by id: the results as curl gets them, one per request' '
	create 20 >b1 && id1=$(jq -r .id b1) && echo "$id1" >id1 &&
	ended "$id1" &&
	bt-fetch "$id1" >out 2>err &&
	results "$id1" >r1 &&
	test_cmp r1 out &&
	same_set r1 out &&
	test_lines 20 out &&
	jq -r .custom_id out | sort >actual &&
	perl -e "print qq(r\$_\n) for 1..20" | sort >expect &&
	test_cmp expect actual &&
	test_must_be_empty err
'

test_expect_success 'batch objects and bare ids on stdin; several batches in one run' '
	create 5 >b2 && create 7 >b3 && create 200 big >b4 &&
	jq -r .id b2 >id2 && jq -r .id b3 >id3 && jq -r .id b4 >id4 &&
	ended $(cat id2 id3 id4) &&
	results $(cat id2) >r2 && results $(cat id3) >r3 && results $(cat id4) >r4 &&
	{ cat b2; cat id3; } | bt-fetch >out 2>err &&
	test_lines 12 out &&
	cat r2 r3 >expect && same_set expect out &&
	test_must_be_empty err &&
	bt-fetch $(cat id1 id2 id3 id4) >out &&
	test_lines 232 out &&
	cat r1 r2 r3 r4 >expect && same_set expect out
'

test_expect_success 'the object on stdin is stale (in_progress): the fresh one is used' '
	jq -r .processing_status b2 >actual && echo in_progress >expect &&
	test_cmp expect actual &&
	jq -c ".request_counts.processing = 1000" b2 | bt-fetch >out &&
	test_cmp r2 out
'

test_expect_success 'a 500 on the batch GET is retried, said once' '
	mock_fault "get:500*1" &&
	bt-fetch $(cat id2) >out 2>err &&
	test "$(mock_stat faults)" = 0 &&
	test_cmp r2 out &&
	retried_once err "HTTP 500 api_error: Internal server error"
'

faults_clear
test_expect_success 'a download cut after 300 bytes: complete, each line once' '
	mock_fault "results:cut:300*1" &&
	bt-fetch $(cat id4) >out 2>err &&
	test "$(mock_stat faults)" = 0 &&
	no_dups out &&
	test_lines 200 out &&
	same_set r4 out &&
	retried_once err "transfer closed"
'

faults_clear
test_expect_success 'a download cut at half the file (lines already written): complete, each line once' '
	half=$(( $(wc -c <r4) / 2 )) &&
	complete_lines $half r4 >first && test $(wc -l <first) -ge 90 &&
	mock_fault "results:cut:$half*1" &&
	bt-fetch $(cat id4) >out 2>err &&
	test "$(mock_stat faults)" = 0 &&
	no_dups out &&
	test_lines 200 out &&
	same_set r4 out &&
	retried_once err "transfer closed"
'

faults_clear
test_expect_success 'cut twice, at different places: complete, each line once' '
	mock_fault "results:cut:20000*1" "results:cut:50000*1" &&
	bt-fetch $(cat id4) >out 2>err &&
	test "$(mock_stat faults)" = 0 &&
	no_dups out &&
	same_set r4 out
'

faults_clear
test_expect_success 'results that repeat a line (a batch no journal holds): each written once, exit 1, said' '
	mock_fault "results:twice*1" &&
	test_expect_code 1 bt-fetch $(cat id4) >out 2>err &&
	test "$(mock_stat faults)" = 0 &&
	no_dups out &&
	test_lines 200 out &&
	same_set r4 out &&
	test_grep "the results repeat 1 custom_id \(each was written once\)" err
'

faults_clear
test_expect_success 'a 500 on the results, then success: complete' '
	mock_fault "results:500*1" &&
	bt-fetch $(cat id4) >out 2>err &&
	test "$(mock_stat faults)" = 0 &&
	no_dups out &&
	same_set r4 out &&
	retried_once err "HTTP 500 api_error: Internal server error"
'

faults_clear
test_expect_success 'cut on every attempt: gives up within the retry budget, exit 1, no line twice' '
	id=$(cat id4) &&
	mock_fault "results:cut:300*0" &&
	start=$(date +%s) &&
	test_expect_code 1 env BT_RETRY_BUDGET=2 bt-fetch "$id" >out 2>err &&
	test $(( $(date +%s) - start )) -le 10 &&
	test_grep "^bt-fetch: $id: GET /v1/messages/batches/$id/results: .*gave up after [0-9]+ attempts" err &&
	test_grep "^bt-fetch: GET /v1/messages/batches/$id/results: .*; retrying in [0-9.]+ s\$" err &&
	test_lines 2 err &&
	no_dups out &&
	faults_clear &&
	mock_fault "results:cut:4000*0" &&
	test_expect_code 1 env BT_RETRY_BUDGET=2 bt-fetch "$id" >out 2>err &&
	test_grep "^bt-fetch: $id: .*gave up after" err &&
	no_dups out &&
	complete_lines 4000 r4 >expect &&
	test -s expect &&
	test_cmp expect out
'

faults_clear
test_expect_success 'an unknown id: exit 1, not_found_error and the id' '
	test_expect_code 1 bt-fetch msgbatch_000000000000000000000000 >out 2>err &&
	test_grep "^bt-fetch: msgbatch_000000000000000000000000: .*not_found_error.*msgbatch_000000000000000000000000" err &&
	test_lines 1 err &&
	test_must_be_empty out
'

test_expect_success 'an unknown id among good ones: the others are still fetched' '
	test_expect_code 1 bt-fetch $(cat id2) msgbatch_000000000000000000000000 $(cat id3) >out 2>err &&
	cat r2 r3 >expect && same_set expect out &&
	test_grep "not_found_error" err
'

test_expect_success 'a bad stdin line: exit 2 naming stdin:LINE' '
	{ cat id2; echo "not a batch"; cat id3; } >in &&
	test_expect_code 2 bt-fetch <in >out 2>err &&
	echo "bt-fetch: stdin:2: not a batch id or a batch object: '\''not a batch'\''" >expect &&
	test_cmp expect err &&
	test_must_fail grep -F -f r3 out &&
	{ cat id2; echo; echo "{\"id\":"; } >in &&
	test_expect_code 2 bt-fetch <in >out 2>err &&
	test_grep "^bt-fetch: stdin:3: invalid JSON" err &&
	echo "{\"type\":\"message_batch\"}" >in &&
	test_expect_code 2 bt-fetch <in 2>err &&
	test_grep "^bt-fetch: stdin:1: .*id" err
'

test_expect_success 'a bad argument: exit 2' '
	test_expect_code 2 bt-fetch "not/an/id" >out 2>err &&
	test_grep "^bt-fetch: argument 1: " err
'

test_expect_success 'no key: exit 2 before reading stdin' '
	mkfifo never &&
	(unset ANTHROPIC_API_KEY; test_expect_code 2 timeout 10 bt-fetch <>never >out 2>err) &&
	echo "bt-fetch: no API key: set ANTHROPIC_API_KEY or use --api-key-file FILE" >expect &&
	test_cmp expect err &&
	(unset ANTHROPIC_API_KEY; test_expect_code 2 bt-fetch $(cat id1) 2>err) &&
	test_cmp expect err
'

test_expect_success '--api-key-file: the key from a file' '
	echo sk-from-file >keyfile &&
	(unset ANTHROPIC_API_KEY; bt-fetch --api-key-file keyfile $(cat id2) >out) &&
	test_cmp r2 out
'

test_expect_success 'bt-fetch ID | head -n 1: ends quietly on the closed pipe' '
	create 5000 many >b5 && id=$(jq -r .id b5) && ended "$id" &&
	results "$id" >r5 && test $(wc -c <r5) -gt 1000000 &&
	{ bt-fetch "$id" 2>err; echo $? >st; } | head -n 1 >first &&
	echo 141 >expect && test_cmp expect st &&
	test_must_be_empty err &&
	test_lines 1 first &&
	grep -F -x -f first r5 >/dev/null
'

if ! test -w /dev/full; then
	test_skip 'a failed write to stdout is an error: exit 1, said' 'no /dev/full here'
else
test_expect_success 'a failed write to stdout is an error: exit 1, said' '
	test_expect_code 1 bt-fetch $(cat id4) >/dev/full 2>err &&
	echo "bt-fetch: write error on standard output: No space left on device" >expect &&
	test_cmp expect err
'
fi

test_expect_success 'the pipeline: bt-format | bt-submit | bt-wait | bt-fetch, 50 records' '
	perl -e "print qq({\"n\":\$_,\"text\":\"prompt number \$_\"}\n) for 1..50" >records &&
	bt-format -m m -p .text <records | bt-submit | bt-wait --interval 0.2 | bt-fetch >res 2>err &&
	test_lines 50 res &&
	test_must_be_empty err &&
	jq -r "[.custom_id, .result.type, .result.message.content[0].text] | @tsv" res | sort >actual &&
	perl -MDigest::SHA=sha256_hex -ne "chomp; print qq(\$.-), substr(sha256_hex(\$_), 0, 8), qq(\tsucceeded\tprompt number \$.\n)" records | sort >expect &&
	test_cmp expect actual
'

# the same state, now with batches that take a minute to end or to cancel
mock_start --state-dir "$TRASH/state" --processing-time 60 --cancel-time 60 || exit 1

test_expect_success 'a batch not ended: exit 1, named, with the hint; the others are still fetched' '
	create 3 >slow && id=$(jq -r .id slow) &&
	test_expect_code 1 bt-fetch $(cat id1) "$id" $(cat id2) >out 2>err &&
	echo "bt-fetch: $id: not ended (in_progress): its results are not ready; pipe it through bt-wait first" >expect &&
	test_cmp expect err &&
	cat r1 r2 >expect && same_set expect out
'

test_expect_success 'a batch canceling: not ended either' '
	create 3 >slow2 && id=$(jq -r .id slow2) &&
	api POST "/v1/messages/batches/$id/cancel" -f >/dev/null &&
	test_expect_code 1 bt-fetch "$id" >out 2>err &&
	echo "bt-fetch: $id: not ended (canceling): its results are not ready; pipe it through bt-wait first" >expect &&
	test_cmp expect err &&
	test_must_be_empty out
'

mock_start --processing-time 10 --expire-after 1 --cancel-time 0.2 || exit 1

test_expect_success 'an expired batch: partial results, expired lines, count = total, exit 0' '
	create 20 >e && id=$(jq -r .id e) &&
	ended "$id" &&
	api GET "/v1/messages/batches/$id" >batch &&
	test $(jq .request_counts.expired batch) -gt 0 &&
	bt-fetch "$id" >out 2>err &&
	test_must_be_empty err &&
	test_lines 20 out &&
	results "$id" >r && same_set r out &&
	jq -r .result.type out | sort | uniq -c | awk "{print \$2, \$1}" >actual &&
	jq -r ".request_counts | to_entries[] | select(.value > 0) | \"\(.key) \(.value)\"" batch | sort >expect &&
	test_cmp expect actual &&
	grep -q "^expired " actual
'

test_expect_success 'a canceled batch: canceled lines, count = total, exit 0' '
	create 20 >c && id=$(jq -r .id c) &&
	api POST "/v1/messages/batches/$id/cancel" -f >/dev/null &&
	ended "$id" &&
	api GET "/v1/messages/batches/$id" >batch &&
	bt-fetch "$id" >out 2>err &&
	test_must_be_empty err &&
	test_lines 20 out &&
	results "$id" >r && same_set r out &&
	jq -r .result.type out | sort | uniq -c | awk "{print \$2, \$1}" >actual &&
	jq -r ".request_counts | to_entries[] | select(.value > 0) | \"\(.key) \(.value)\"" batch | sort >expect &&
	test_cmp expect actual &&
	grep -q "^canceled " actual
'

mock_start --processing-time 0.2 --archive-after 1 || exit 1

test_expect_success 'an archived batch: exit 1, its results are gone' '
	create 3 >a && id=$(jq -r .id a) &&
	i=0 && archived=null &&
	while [ $i -lt 50 ] && [ "$archived" = null ]; do
		sleep 0.1 &&
		archived=$(api GET "/v1/messages/batches/$id" | jq -r .archived_at) &&
		i=$((i + 1))
	done &&
	test "$archived" != null &&
	test_expect_code 1 bt-fetch "$id" >out 2>err &&
	echo "bt-fetch: $id: archived at $archived: its results are gone (they are kept 29 days)" >expect &&
	test_cmp expect err &&
	test_must_be_empty out
'

mock_start --processing-time 0.3 --error-rate 0.3 --seed 7 || exit 1

test_expect_success 'errored results are passed through untouched, exit 0' '
	create 60 >b && id=$(jq -r .id b) && ended "$id" &&
	api GET "/v1/messages/batches/$id" >batch &&
	test $(jq .request_counts.errored batch) -gt 0 &&
	bt-fetch "$id" >out 2>err &&
	test_must_be_empty err &&
	results "$id" >r &&
	test_cmp r out &&
	grep "\"type\":\"errored\"" out >actual &&
	test_lines $(jq .request_counts.errored batch) actual &&
	grep "\"type\":\"errored\"" r >expect &&
	test_cmp expect actual
'

test_expect_success 'a batch named twice is fetched once' '
	create 7 >b && id=$(jq -r .id b) && ended "$id" &&
	{ echo "$id"; cat b; echo "$id"; } | bt-fetch >out &&
	test_lines 7 out
'

mock_start --processing-time 0.3 --key sk-right || exit 1

test_expect_success 'a wrong key: exit 1 with authentication_error' '
	ANTHROPIC_API_KEY=sk-right && create 2 >b && id=$(jq -r .id b) && ended "$id" &&
	test_expect_code 1 env ANTHROPIC_API_KEY=sk-wrong bt-fetch "$id" >out 2>err &&
	test_grep "^bt-fetch: $id: .*authentication_error" err &&
	test_must_fail grep -q sk-wrong err &&
	test_must_be_empty out &&
	bt-fetch "$id" >out &&
	test_lines 2 out
'

test_done
