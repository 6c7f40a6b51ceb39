#!/bin/sh
# tests/unit/tcurl, the tests' own HTTP client (api and mock_stat use it):
# what it gives must be what curl gives, body for body and exit code for
# exit code, or every test that reads bt-mock through it proves nothing.
. "${0%/*}/lib.sh"

mock_start --processing-time 0.2 || exit 1
H1="x-api-key: $ANTHROPIC_API_KEY"
H2="anthropic-version: 2023-06-01"
# both CMD ARGS...: curl and tcurl with the same arguments; each one's
# stdout, stderr and exit code in FILE.curl and FILE.tcurl
both() {
	for _c in curl tcurl; do
		_st=0
		"$_c" "$@" >"out.$_c" 2>"err.$_c" || _st=$?
		echo "$_st" >"code.$_c"
	done
}
same() {
	for _c in curl tcurl; do
		sed -E "s/req_[A-Za-z0-9]{24}/req_X/g" "out.$_c" >"out.$_c.m" || return 1
	done
	test_cmp out.curl.m out.tcurl.m && test_cmp code.curl code.tcurl
}
printf '{"requests":[{"custom_id":"a","params":{"model":"claude-haiku-4-5","max_tokens":9,"messages":[{"role":"user","content":"one"}]}},\n{"custom_id":"b","params":{"model":"claude-haiku-4-5","max_tokens":9,"messages":[{"role":"user","content":"two"}]}}]}\n' >body.json
tcurl -sS -f -H "$H1" -H "$H2" -H "content-type: application/json" --data-binary @body.json \
	"$MOCK_URL/v1/messages/batches" >batch.json || exit 1
id=$(sed 's/.*"id":"\([^"]*\)".*/\1/' batch.json)
wait_for mock_ended "$id" || exit 1

test_expect_success 'a results download (chunked or not): the same bytes, status and exit code' '
	both -sS -H "$H1" -H "$H2" -w "%{http_code}\n" "$MOCK_URL/v1/messages/batches/$id/results" &&
	same && test_lines 3 out.tcurl && tail -n 1 out.tcurl >code && echo 200 >expect && test_cmp expect code
'

test_expect_success '-o FILE and -D FILE: the body, and the same status line and headers' '
	both -sS -H "$H1" -H "$H2" -o body -D hdr "$MOCK_URL/v1/messages/batches/$id" &&
	same && test -s body &&
	curl -sS -H "$H1" -H "$H2" -o body.curl -D hdr.curl "$MOCK_URL/v1/messages/batches/$id" &&
	tcurl -sS -H "$H1" -H "$H2" -o body.tcurl -D hdr.tcurl "$MOCK_URL/v1/messages/batches/$id" &&
	test_cmp body.curl body.tcurl &&
	for f in hdr.curl hdr.tcurl; do
		tr -d "\r" <$f | grep -vi "^\(request-id\|date\|connection\):" | sort >$f.s || return 1
	done &&
	test_cmp hdr.curl.s hdr.tcurl.s && grep -q "^HTTP/1.1 200 OK" hdr.tcurl.s
'

test_expect_success '-f on an error: exit 22, nothing on stdout, the message curl gives' '
	both -sS -f -H "$H1" -H "$H2" "$MOCK_URL/v1/messages/batches/msgbatch_nothing" &&
	same && echo 22 >expect && test_cmp expect code.tcurl &&
	test_must_be_empty out.tcurl && test_cmp err.curl err.tcurl
'

test_expect_success 'without -f, an error is its body and its status' '
	both -sS -H "$H1" -w "%{http_code}\n" "$MOCK_URL/v1/messages/batches" && same &&
	test_grep "anthropic-version" out.tcurl
'

test_expect_success 'POST: --data-binary @FILE and -d @FILE (which drops the line ends) are what curl sends' '
	printf "create:500\n" >fault &&
	tcurl -sS -f -X POST --data-binary @fault "$MOCK_URL/_mock/faults" >/dev/null &&
	echo 1 >expect && mock_stat faults >actual && test_cmp expect actual &&
	tcurl -sS -f -X DELETE "$MOCK_URL/_mock/faults" >/dev/null &&
	both -sS -H "$H1" -H "$H2" -H "content-type: application/json" -d @body.json -o made -w "%{http_code}\n" "$MOCK_URL/v1/messages/batches" &&
	same && echo 200 >expect && test_cmp expect out.tcurl &&
	sed "s/one/o\\
ne/" body.json >nl.json && test_lines 3 nl.json &&
	both -sS -H "$H1" -H "$H2" -H "content-type: application/json" --data-binary @nl.json -o made -w "%{http_code}\n" "$MOCK_URL/v1/messages/batches" &&
	same && echo 400 >expect && test_cmp expect out.tcurl &&
	both -sS -H "$H1" -H "$H2" -H "content-type: application/json" -d @nl.json -o made -w "%{http_code}\n" "$MOCK_URL/v1/messages/batches" &&
	same && echo 200 >expect && test_cmp expect out.tcurl
'

test_expect_success 'no server: exit 7, as curl' '
	both -sS "http://127.0.0.1:1/x" &&
	same && echo 7 >expect && test_cmp expect code.tcurl && test_grep "^curl: \(7\)" err.tcurl
'

test_expect_success 'what it does not do, curl does: -F (multipart), a host not 127.0.0.1' '
	echo hi >f.txt &&
	tcurl -sS -F file=@f.txt -F purpose=batch -o /dev/null -w "%{http_code}\n" "$MOCK_URL/v1/files" >code &&
	echo 401 >expect && test_cmp expect code &&
	test_expect_code 7 tcurl -sS "http://localhost:1/x" 2>err &&
	test_grep "^curl: \(7\)" err
'

test_done
