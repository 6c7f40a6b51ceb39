#!/bin/sh
# The library's HTTP client against bt-mock's faults: retries, backoff,
# retry-after, and the knowledge of what may be sent again.
. "${0%/*}/lib.sh"
call=http-call
# status_of FILE: http-call's own lines of FILE into status, without the
# lines that say a failure is retried (tested where they are the point)
status_of() { grep -v "; retrying in [0-9.]* s\$" "$1" >status; :; }

mock_start --processing-time 0.3 || exit 1
perl -e 'print q({"requests":[{"custom_id":"a","params":{"model":"m","max_tokens":5,"messages":[{"role":"user","content":"hi"}]}}]})' >body.json


test_expect_success 'a create: 200 and the batch, one attempt' '
	"$call" -b body.json POST /v1/messages/batches >out 2>err &&
	jq -r .type out >type && echo message_batch >expect && test_cmp expect type &&
	echo "status=200 attempts=1 ambiguous=0" >expect && status_of err && test_cmp expect status
'

test_expect_success '529 twice on create: retried, one batch made; the first said at once, the second not' '
	before=$(mock_stat creates) &&
	mock_fault "create:529*2" &&
	"$call" -b body.json POST /v1/messages/batches >out 2>err &&
	echo "status=200 attempts=3 ambiguous=0" >expect && status_of err && test_cmp expect status &&
	sed "s/req_[A-Za-z0-9]*/req_X/; s/retrying in 0\.[2-5] s\$/retrying in N s/" err >said &&
	echo "http-call: POST /v1/messages/batches: HTTP 529 overloaded_error: Overloaded (request-id req_X); retrying in N s" >expect &&
	head -n 1 said >first && test_cmp expect first && test_lines 2 err &&
	test $(mock_stat creates) -eq $((before + 1))
'

test_expect_success '429 with retry-after is honoured' '
	mock_fault "create:429:1*1" &&
	start=$(date +%s.%N) &&
	"$call" -b body.json POST /v1/messages/batches >out 2>err &&
	end=$(date +%s.%N) &&
	echo "status=200 attempts=2 ambiguous=0" >expect && status_of err && test_cmp expect status &&
	perl -e "exit !($end - $start >= 0.95)"
'

test_expect_success 'a create answered 500 after the body: ambiguous, not sent again' '
	before=$(mock_stat creates) &&
	mock_fault "create:taken500*1" &&
	test_expect_code 1 "$call" -b body.json POST /v1/messages/batches >out 2>err &&
	test_grep "^error: api_error: .*request-id req_" err &&
	test_grep "status=500 attempts=1 ambiguous=1" err &&
	test $(mock_stat creates) -eq $((before + 1))
'

test_expect_success 'a create dropped after the body: ambiguous, one batch, not two' '
	before=$(mock_stat creates) &&
	mock_fault "create:drop*1" &&
	test_expect_code 1 "$call" -b body.json POST /v1/messages/batches >out 2>err &&
	test_grep "status=0 attempts=1 ambiguous=1" err &&
	test $(mock_stat creates) -eq $((before + 1))
'

test_expect_success 'a create dropped on a reused connection: not sent again behind our back' '
	before=$(mock_stat creates) &&
	mock_fault "create:drop*1" &&
	test_expect_code 1 "$call" -w -b body.json POST /v1/messages/batches >out 2>err &&
	test_grep "ambiguous=1" err &&
	test $(mock_stat creates) -eq $((before + 1))
'

test_expect_success 'a GET that may be repeated is retried after a drop and a 500' '
	id=$(jq -r .id out 2>/dev/null || true) &&
	mock_fault "list:drop*1" "list:500*1" &&
	"$call" -r GET /v1/messages/batches?limit=1 >list 2>err &&
	echo "status=200 attempts=3 ambiguous=0" >expect && status_of err && test_cmp expect status &&
	jq -r .data[0].type list >type && echo message_batch >expect && test_cmp expect type
'

test_expect_success 'a 4xx is not retried and comes back as TYPE: message (request-id)' '
	test_expect_code 1 "$call" -r GET /v1/messages/batches/msgbatch_nosuch >out 2>err &&
	test_grep "^error: not_found_error: .* \\(request-id req_[A-Za-z0-9]+\\)$" err &&
	test_grep "status=404 attempts=1" err
'

test_expect_success 'a cut-off download is retried and the sink restarted' '
	"$call" -b body.json POST /v1/messages/batches >batch 2>err &&
	id=$(jq -r .id batch) &&
	sleep 0.6 &&
	"$call" -r -s GET /v1/messages/batches/$id/results >full 2>err &&
	echo "status=200 attempts=1 ambiguous=0 restarts=0" >expect && status_of err && test_cmp expect status &&
	mock_fault "results:cut:20*1" &&
	"$call" -r -s GET /v1/messages/batches/$id/results >again 2>err &&
	echo "status=200 attempts=2 ambiguous=0 restarts=1" >expect && status_of err && test_cmp expect status &&
	test_cmp full again
'

test_expect_success 'the time budget bounds the retries' '
	mock_fault "list:529*0" &&
	start=$(date +%s) &&
	BT_RETRY_BUDGET=2 test_expect_code 1 "$call" -r GET /v1/messages/batches >out 2>err &&
	end=$(date +%s) &&
	curl -sS -X DELETE "$MOCK_URL/_mock/faults" &&
	test_grep "^error: overloaded_error: .*\\(gave up after [0-9]+ attempts in [0-9]+s\\)" err &&
	test $((end - start)) -le 4
'

test_expect_success 'an unreachable server: connection refused, retried within the budget' '
	BT_RETRY_BUDGET=1 ANTHROPIC_BASE_URL=http://127.0.0.1:1 test_expect_code 1 "$call" GET /v1/messages/batches 2>err &&
	test_grep "^error: GET /v1/messages/batches: .*onnect.*gave up after" err
'

test_expect_success 'no key: exit 2 and a clear message' '
	(unset ANTHROPIC_API_KEY; test_expect_code 2 "$call" GET /v1/messages/batches 2>err) &&
	echo "http-call: no API key: set ANTHROPIC_API_KEY or use --api-key-file FILE" >expect &&
	status_of err && test_cmp expect status
'

test_expect_success '--api-key-file: the first line, trimmed; empty or missing files are errors' '
	printf "  sk-from-file \nsecond line\n" >key &&
	(unset ANTHROPIC_API_KEY; "$call" -k key -r GET /v1/messages/batches >out 2>err) &&
	: >empty &&
	test_expect_code 2 "$call" -k empty GET / 2>err &&
	echo "http-call: empty: no key on the first line of the key file" >expect && status_of err && test_cmp expect status &&
	test_expect_code 2 "$call" -k nosuch GET / 2>err &&
	echo "http-call: nosuch: cannot open the key file: No such file or directory" >expect && status_of err && test_cmp expect status
'

test_expect_success '--api-key-file readable by others: a warning as ssh gives, then the call' '
	echo sk-test-key >key &&
	chmod 644 key &&
	"$call" -k key -r GET /v1/messages/batches >out 2>err &&
	cat >expect <<-\EOF &&
	http-call: key: the key file is readable by others (mode 0644); chmod 600 key
	status=200 attempts=1 ambiguous=0
	EOF
	status_of err && test_cmp expect status &&
	chmod 640 key &&
	"$call" -k key -r GET /v1/messages/batches >out 2>err &&
	sed -n 1p err >actual &&
	echo "http-call: key: the key file is readable by others (mode 0640); chmod 600 key" >expect &&
	test_cmp expect actual &&
	test_must_fail grep sk-test-key err &&
	chmod 600 key &&
	"$call" -k key -r GET /v1/messages/batches >out 2>err &&
	echo "status=200 attempts=1 ambiguous=0" >expect &&
	status_of err && test_cmp expect status &&
	chmod 644 key &&
	cat key | "$call" -k /dev/stdin -r GET /v1/messages/batches >out 2>err &&
	status_of err && test_cmp expect status
'

test_expect_success '--api-key-file DIRECTORY: exit 2 naming it, a usage error' '
	mkdir keydir &&
	test_expect_code 2 "$call" -k keydir GET / >out 2>err &&
	echo "http-call: keydir: is a directory" >expect &&
	status_of err && test_cmp expect status
'

test_expect_success '--api-key-file with a NUL byte or a control character in the key: exit 2' '
	printf "sk-test-key\0tail\n" >key0 &&
	printf "sk-test-key\rX-Evil: 1\n" >keyr &&
	chmod 600 key0 keyr &&
	test_expect_code 2 "$call" -k key0 GET / >out 2>err &&
	echo "http-call: key0: a control character or a NUL byte in the key" >expect &&
	status_of err && test_cmp expect status &&
	test_expect_code 2 "$call" -k keyr GET / >out 2>err &&
	echo "http-call: keyr: a control character or a NUL byte in the key" >expect &&
	status_of err && test_cmp expect status
'

mock_stop
mock_start --key sk-right
test_expect_success 'a wrong key: 401 with the API message, and the key is never printed' '
	ANTHROPIC_API_KEY=sk-wrong-secret test_expect_code 1 "$call" -v -r GET /v1/messages/batches >out 2>err &&
	test_grep "^error: authentication_error: " err &&
	test_must_fail grep -q sk-wrong-secret err mock.log out &&
	ANTHROPIC_API_KEY=sk-right "$call" -r GET /v1/messages/batches >out 2>err
'

test_done
