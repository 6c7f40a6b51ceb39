#!/bin/sh
# bt-mock: the lifecycle of a batch: processing, end, cancel, expiry,
# archive, delete.
. "${0%/*}/lib.sh"

mask() {
	sed -E 's/(msgbatch|msg|req|toolu)_[A-Za-z0-9]{24}/\1_X/g;
		s/[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}\.[0-9]{6}Z/TIME/g;
		s|http://127\.0\.0\.1:[0-9]+|URL|g' "$@"
}
# body N [prefix]: a create body of N requests p1..pN whose prompts are "text i"
body() {
	perl -e 'my ($n, $p) = @ARGV; print "{\"requests\":[", join(",", map {
		"{\"custom_id\":\"$p$_\",\"params\":{\"model\":\"claude-test\",\"max_tokens\":100,\"messages\":[{\"role\":\"user\",\"content\":\"text $_\"}]}}"
		} 1..$n), "]}"' "$1" "${2:-p}"
}
create() { # N -> batch file "batch", id on stdout
	body "$1" >body.json &&
	api POST /v1/messages/batches --data-binary @body.json >batch &&
	jq -r .id batch
}
# wait_status ID STATUS: poll (up to 10 s) until the batch has STATUS
wait_status() {
	_i=0
	while [ $_i -lt 200 ]; do
		api GET "/v1/messages/batches/$1" >polled || return 1
		grep -q "\"processing_status\":\"$2\"" polled && return 0
		sleep 0.05
		_i=$((_i + 1))
	done
	echo "batch $1 never reached $2:"; cat polled
	return 1
}

# batches of 4 s: the tests that look at one running have that long,
# however slow the machine (with 1 s they had not, beside another make check)
mock_start --model claude-test --processing-time 4

test_expect_success 'in_progress: only processing is counted' '
	id=$(create 3) &&
	echo "$id" >id &&
	api GET "/v1/messages/batches/$id" >got &&
	jq -c "[.processing_status, .request_counts, .ended_at, .results_url]" got >actual &&
	echo "[\"in_progress\",{\"processing\":3,\"succeeded\":0,\"errored\":0,\"canceled\":0,\"expired\":0},null,null]" >expect &&
	test_cmp expect actual
'

test_expect_success 'results before the end: 400 invalid_request_error' '
	api GET "/v1/messages/batches/$(cat id)/results" -o body -w "%{http_code}\n" >code &&
	echo 400 >expect && test_cmp expect code &&
	test "$(jq -r .error.type body)" = invalid_request_error
'

test_expect_success 'delete before the end: 400 invalid_request_error' '
	api DELETE "/v1/messages/batches/$(cat id)" -o body -w "%{http_code}\n" >code &&
	echo 400 >expect && test_cmp expect code &&
	test "$(jq -r .error.type body)" = invalid_request_error
'

test_expect_success 'it ends after --processing-time; counts published at once' '
	id=$(cat id) &&
	wait_status "$id" ended &&
	mask polled >actual && echo >>actual &&
	printf "%s\n" "{\"id\":\"msgbatch_X\",\"type\":\"message_batch\",\"processing_status\":\"ended\",\"request_counts\":{\"processing\":0,\"succeeded\":3,\"errored\":0,\"canceled\":0,\"expired\":0},\"ended_at\":\"TIME\",\"created_at\":\"TIME\",\"expires_at\":\"TIME\",\"cancel_initiated_at\":null,\"archived_at\":null,\"results_url\":\"URL/v1/messages/batches/msgbatch_X/results\"}" >expect &&
	test_cmp expect actual &&
	test "$(jq -r .results_url polled)" = "$MOCK_URL/v1/messages/batches/$id/results" &&
	c=$(jq -r .created_at polled) && e=$(jq -r .ended_at polled) &&
	test "$(( $(date -u -d "${e%.*}Z" +%s) - $(date -u -d "${c%.*}Z" +%s) ))" -eq 4 &&
	test "${c#*.}" = "${e#*.}"
'

test_expect_success 'results: one line per request, JSONL, echo of the prompt' '
	id=$(cat id) &&
	api GET "/v1/messages/batches/$id/results" -D hdr -o results &&
	tr -d "\r" <hdr | tr A-Z a-z >h &&
	test_grep "^content-type: application/x-jsonl" h &&
	test_grep "^content-length: $(wc -c <results)$" h &&
	test_grep "^request-id: req_" h &&
	test_lines 3 results &&
	! grep -q "^$" results &&
	test "$(tail -c 1 results | od -An -c | tr -d " ")" = "\n" &&
	jq -r "[.custom_id, .result.type, .result.message.content[0].text] | @tsv" results | sort >actual &&
	printf "p1\tsucceeded\ttext 1\np2\tsucceeded\ttext 2\np3\tsucceeded\ttext 3\n" >expect &&
	test_cmp expect actual
'

test_expect_success 'cancel an ended batch: 400' '
	api POST "/v1/messages/batches/$(cat id)/cancel" -o body -w "%{http_code}\n" >code &&
	echo 400 >expect && test_cmp expect code &&
	test "$(jq -r .error.type body)" = invalid_request_error
'

test_expect_success 'delete an ended batch; then it is 404 everywhere' '
	id=$(cat id) &&
	api DELETE "/v1/messages/batches/$id" >body &&
	jq -c . body >actual &&
	echo "{\"id\":\"$id\",\"type\":\"message_batch_deleted\"}" >expect &&
	test_cmp expect actual &&
	for p in "" /results; do
		api GET "/v1/messages/batches/$id$p" -o body -w "%{http_code}\n" >code &&
		echo 404 >expect && test_cmp expect code || exit 1
	done &&
	api DELETE "/v1/messages/batches/$id" -o body -w "%{http_code}\n" >code &&
	test_cmp expect code &&
	api GET "/v1/messages/batches" | jq -r ".data[].id" >ids &&
	! grep -q "$id" ids
'

# 4 requests over 8 s, and a cancel that takes 3 s: a cancel 4 s in finds
# 2 or 3 done, and "canceling" is seen, however slow the machine
mock_start --model claude-test --processing-time 8 --cancel-time 3 --ordered

test_expect_success 'cancel: canceling with cancel_initiated_at, then ended' '
	id=$(create 4) &&
	sleep 4.1 &&
	api POST "/v1/messages/batches/$id/cancel" >c1 &&
	jq -c "[.processing_status, .request_counts.processing, .ended_at]" c1 >actual &&
	echo "[\"canceling\",4,null]" >expect && test_cmp expect actual &&
	jq -e ".cancel_initiated_at | test(\"Z$\")" c1 &&
	api POST "/v1/messages/batches/$id/cancel" >c2 &&
	test "$(jq -r .cancel_initiated_at c2)" = "$(jq -r .cancel_initiated_at c1)" &&
	test "$(jq -r .processing_status c2)" = canceling &&
	wait_status "$id" ended &&
	# requests done before the cancel: 4 over 8 s, one each 2 s
	k=$(jq -r "[.created_at, .cancel_initiated_at] | @tsv" c1 | perl -MTime::Local -ne "
		my @t = map { /(\\d+)-(\\d+)-(\\d+)T(\\d+):(\\d+):(\\d+)\\.(\\d+)Z/ or die;
			timegm(\$6, \$5, \$4, \$3, \$2 - 1, \$1) * 1000000 + \$7 } split /\\t/;
		print int((\$t[1] - \$t[0]) * 4 / 8000000)") &&
	test "$k" -ge 2 && test "$k" -le 3 &&
	jq -c .request_counts polled >actual &&
	echo "{\"processing\":0,\"succeeded\":$k,\"errored\":0,\"canceled\":$((4 - k)),\"expired\":0}" >expect &&
	test_cmp expect actual &&
	api GET "/v1/messages/batches/$id/results" >results &&
	jq -c "[.custom_id, .result.type]" results >actual &&
	for i in 1 2 3 4; do
		if [ $i -le $k ]; then t=succeeded; else t=canceled; fi
		echo "[\"p$i\",\"$t\"]"
	done >expect &&
	test_cmp expect actual &&
	jq -c .result results | tail -n 1 >actual &&
	echo "{\"type\":\"canceled\"}" >expect && test_cmp expect actual
'

test_expect_success 'cancel right away: all canceled, ends after --cancel-time' '
	id=$(create 2) &&
	api POST "/v1/messages/batches/$id/cancel" >c1 &&
	api GET "/v1/messages/batches/$id" >g &&
	test "$(jq -r .processing_status g)" = canceling &&
	wait_status "$id" ended &&
	jq -c .request_counts polled >actual &&
	echo "{\"processing\":0,\"succeeded\":0,\"errored\":0,\"canceled\":2,\"expired\":0}" >expect &&
	test_cmp expect actual
'

mock_start --model claude-test --processing-time 10 --expire-after 1 --ordered

test_expect_success 'expiry: unprocessed requests expire at expires_at' '
	id=$(create 20) &&
	c=$(jq -r .created_at batch) && e=$(jq -r .expires_at batch) &&
	test "$(( $(date -u -d "${e%.*}Z" +%s) - $(date -u -d "${c%.*}Z" +%s) ))" -eq 1 &&
	wait_status "$id" ended &&
	test "$(jq -r .ended_at polled)" = "$e" &&
	jq -c .request_counts polled >actual &&
	echo "{\"processing\":0,\"succeeded\":2,\"errored\":0,\"canceled\":0,\"expired\":18}" >expect &&
	test_cmp expect actual &&
	api GET "/v1/messages/batches/$id/results" >results &&
	test_lines 20 results &&
	jq -r .result.type results | sort | uniq -c | tr -s " " >actual &&
	printf " 18 expired\n 2 succeeded\n" >expect &&
	test_cmp expect actual
'

# archived ID: batch ID has its archived_at
archived() { api GET "/v1/messages/batches/$1" | grep -q "\"archived_at\":\"" ; }
mock_start --model claude-test --processing-time 0.5 --archive-after 4

test_expect_success 'archive: archived_at set, then results are 404' '
	id=$(create 1) &&
	wait_status "$id" ended &&
	test "$(jq -r .archived_at polled)" = null &&
	api GET "/v1/messages/batches/$id/results" -o body -w "%{http_code}\n" >code &&
	echo 200 >expect && test_cmp expect code &&
	wait_for archived "$id" &&
	api GET "/v1/messages/batches/$id" >g &&
	jq -e ".archived_at | test(\"Z$\")" g &&
	test "$(jq -r .processing_status g)" = ended &&
	api GET "/v1/messages/batches/$id/results" -o body -w "%{http_code}\n" >code &&
	echo 404 >expect && test_cmp expect code &&
	test "$(jq -r .error.type body)" = not_found_error
'

mock_stop

test_expect_success "bt-mock wrote nothing on stderr (no warnings, no valgrind errors)" '
	! grep -E "==[0-9]+==|bt-mock:" "$TRASH/mock.log"
'

test_done
