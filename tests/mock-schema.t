#!/bin/sh
# bt-mock's bodies against the API's official schemas: every endpoint,
# every kind of result, every error envelope, each JSON body (and each
# results line) checked by tests/schema-check.py against its schema in
# tests/api/anthropic-openapi-subset.json (python3-jsonschema; make deps
# installs it; without it every test here fails).
. "${0%/*}/lib.sh"
schema_serve || exit 1

check() { # SCHEMA FILE...: each line of each FILE is valid by SCHEMA
	schema_check "$@"
}

# call STATUS FILE METHOD PATH [curl options]: the answer must have
# STATUS; its body is added to FILE as one line.
call() {
	_want=$1 _file=$2
	shift 2
	_got=$(api "$@" -o .body -w "%{http_code}") || return 1
	if [ "$_got" != "$_want" ]; then
		echo "$*: HTTP $_got, wanted $_want:"
		cat .body; echo
		return 1
	fi
	cat .body >>"$_file" && echo >>"$_file"
}

# wait_ended ID: until the batch has ended (20 s at most)
wait_ended() {
	_i=0
	while [ $_i -lt 200 ]; do
		api GET "/v1/messages/batches/$1" | grep -q '"processing_status":"ended"' && return 0
		sleep 0.1
		_i=$((_i + 1))
	done
	echo "wait_ended: $1 did not end"
	return 1
}

req() { # custom_id text [more params, with a leading comma]
	printf '{"custom_id":"%s","params":{"model":"claude-haiku-4-5","max_tokens":100,"messages":[{"role":"user","content":"%s"}]%s}}\n' "$1" "$2" "${3:-}"
}
sys_cached=',"system":[{"type":"text","text":"You sort tickets into five kinds.","cache_control":{"type":"ephemeral"}}]'
sys_cached_1h=',"system":[{"type":"text","text":"You label tickets for an hour.","cache_control":{"type":"ephemeral","ttl":"1h"}}]'
tool=',"tools":[{"name":"label","input_schema":{"type":"object","properties":{"text":{"type":"string"}}}}]'

test_expect_success 'the checker runs (python3-jsonschema) and tells good from bad' '
	if ! /usr/bin/python3 -c "import jsonschema" 2>err; then
		echo "python3-jsonschema is missing: run make deps as root, or apt-get install python3-jsonschema"
		cat err; exit 1
	fi &&
	cat >good <<-\EOF &&
	{"id":"msgbatch_01HkcTjaV5uDC8jWR4ZsDV8d","type":"message_batch","processing_status":"in_progress","request_counts":{"processing":2,"succeeded":0,"errored":0,"canceled":0,"expired":0},"ended_at":null,"created_at":"2024-09-24T18:37:24.100435Z","expires_at":"2024-09-25T18:37:24.100435Z","cancel_initiated_at":null,"archived_at":null,"results_url":null}
	EOF
	check MessageBatch good &&
	sed "s/\"in_progress\"/\"running\"/; s/,\"archived_at\":null//; s/2024-09-25T/2024-09-32T/" good >bad &&
	test_expect_code 1 check MessageBatch bad 2>err &&
	test_grep "bad:1: \.: .archived_at. is a required property" err &&
	test_grep "bad:1: \.processing_status: .running. is not one of" err &&
	test_grep "bad:1: \.expires_at: .* is not a .date-time." err &&
	: >empty && test_expect_code 1 check MessageBatch empty 2>err &&
	test_grep "no JSON value" err &&
	test_expect_code 2 check NoSuchSchema good 2>err
'

test_expect_success 'the checker sees a Message whose usage lacks fields' '
	cat >msg <<-\EOF &&
	{"id":"msg_013Zva2CMHLNnXjNJJKqJ2EF","type":"message","role":"assistant","model":"claude-haiku-4-5","content":[{"type":"text","text":"Hi!","citations":null}],"stop_reason":"end_turn","stop_sequence":null,"stop_details":null,"container":null,"usage":{"input_tokens":12,"output_tokens":3,"cache_creation_input_tokens":0,"cache_read_input_tokens":0,"service_tier":"batch"}}
	EOF
	test_expect_code 1 check Message msg 2>err &&
	for f in cache_creation inference_geo output_tokens_details server_tool_use; do
		test_grep "msg:1: \.usage: .$f. is a required property" err || exit 1
	done
'

# This bt-mock ends a batch only when it is canceled (0.2 s later): what
# is checked before the end cannot be overtaken by a slow machine.
mock_start --processing-time 24h --cancel-time 0.2

test_expect_success 'create: a MessageBatch, in_progress; the requests are valid by the spec' '
	{
		for i in 1 2 3 4 5 6 7 8 9 10 11 12; do req "plain-$i" "ticket $i: my order is late"; done
		req cached-1 "first" "$sys_cached"
		req cached-2 "second" "$sys_cached"
		req cached-1h "third" "$sys_cached_1h"
		req tool-named "use the tool" "$tool,\"tool_choice\":{\"type\":\"tool\",\"name\":\"label\"}"
		req tool-any "any tool" "$tool,\"tool_choice\":{\"type\":\"any\"}"
		printf "%s\n" "{\"custom_id\":\"cut\",\"params\":{\"model\":\"claude-haiku-4-5\",\"max_tokens\":1,\"messages\":[{\"role\":\"user\",\"content\":[{\"type\":\"text\",\"text\":\"a long text cut short\"},{\"type\":\"text\",\"text\":\"and more\"}]}]}}"
	} >valid.jsonl &&
	check MessageBatchIndividualRequestParams valid.jsonl &&
	{
		printf "%s\n" "{\"custom_id\":\"no-max\",\"params\":{\"model\":\"claude-haiku-4-5\",\"messages\":[{\"role\":\"user\",\"content\":\"x\"}]}}"
		printf "%s\n" "{\"custom_id\":\"no-messages\",\"params\":{\"model\":\"claude-haiku-4-5\",\"max_tokens\":5,\"messages\":[]}}"
		printf "%s\n" "{\"custom_id\":\"streamed\",\"params\":{\"model\":\"claude-haiku-4-5\",\"max_tokens\":5,\"stream\":true,\"messages\":[{\"role\":\"user\",\"content\":\"x\"}]}}"
	} >invalid.jsonl &&
	{ printf "{\"requests\":["; cat valid.jsonl invalid.jsonl | paste -sd, - | tr -d "\n"; printf "]}"; } >body.json &&
	call 200 batches.jsonl POST /v1/messages/batches --data-binary @body.json &&
	call 200 batches.jsonl POST /v1/messages/batches --data-binary @body.json &&
	jq -r .id batches.jsonl >ids &&
	test_lines 2 ids &&
	jq -c "select(.processing_status != \"in_progress\")" batches.jsonl >odd &&
	test_must_be_empty odd &&
	check MessageBatch batches.jsonl
'

test_expect_success 'cancel: a MessageBatch, canceling' '
	call 200 cancel.jsonl POST "/v1/messages/batches/$(sed -n 2p ids)/cancel" &&
	test "$(jq -r .processing_status cancel.jsonl)" = canceling &&
	check MessageBatch cancel.jsonl
'

test_expect_success 'results before the end, delete before the end: 400 ErrorResponse' '
	call 400 early.jsonl GET "/v1/messages/batches/$(sed -n 1p ids)/results" &&
	call 400 early.jsonl DELETE "/v1/messages/batches/$(sed -n 1p ids)" &&
	check ErrorResponse early.jsonl
'

test_expect_success 'a canceled batch ends: a MessageBatch; its results canceled' '
	id=$(sed -n 2p ids) &&
	wait_ended "$id" &&
	call 200 ended.jsonl GET "/v1/messages/batches/$id" &&
	test "$(jq -c .request_counts ended.jsonl)" = "{\"processing\":0,\"succeeded\":0,\"errored\":0,\"canceled\":21,\"expired\":0}" &&
	check MessageBatch ended.jsonl &&
	api GET "/v1/messages/batches/$id/results" -o results.jsonl -w "%{http_code}\n" >code &&
	echo 200 >expect && test_cmp expect code &&
	test_lines 21 results.jsonl &&
	check MessageBatchIndividualResponse results.jsonl
'

test_expect_success 'cancel after the end: 400 ErrorResponse' '
	call 400 late.jsonl POST "/v1/messages/batches/$(sed -n 2p ids)/cancel" &&
	check ErrorResponse late.jsonl
'

# This one ends a batch in half a second, some requests errored or expired.
mock_start --processing-time 0.5 --error-rate 0.25 --expire-rate 0.25 --seed 5

test_expect_success 'get after the end: a MessageBatch, ended, with its counts and results_url' '
	call 200 created.jsonl POST /v1/messages/batches --data-binary @body.json &&
	id=$(jq -r .id created.jsonl) &&
	echo "$id" >id &&
	wait_ended "$id" &&
	call 200 ended.jsonl GET "/v1/messages/batches/$id" &&
	jq -c "select(.processing_status != \"ended\" or .results_url == null)" ended.jsonl >odd &&
	test_must_be_empty odd &&
	check MessageBatch created.jsonl ended.jsonl
'

test_expect_success 'results: every line a MessageBatchIndividualResponse, of all four kinds' '
	api GET "/v1/messages/batches/$(cat id)/results" -o results.ended -w "%{http_code}\n" >code &&
	echo 200 >expect && test_cmp expect code &&
	cat results.ended >>results.jsonl &&
	test_lines 42 results.jsonl &&
	jq -r .result.type results.jsonl | sort -u >kinds &&
	printf "%s\n" canceled errored expired succeeded >expect &&
	test_cmp expect kinds &&
	jq -r "select(.result.type == \"errored\") | .result.error.error.type" results.jsonl | sort -u >errors &&
	printf "%s\n" api_error invalid_request_error overloaded_error >expect &&
	test_cmp expect errors &&
	jq -r "select(.result.type == \"succeeded\") | .result.message.content[0].type" results.jsonl | sort -u >blocks &&
	printf "%s\n" text tool_use >expect &&
	test_cmp expect blocks &&
	check MessageBatchIndividualResponse results.jsonl
'

test_expect_success 'results: usage in full, service_tier batch, cache writes split by lifetime' '
	jq -c "select(.result.type == \"succeeded\") | .result.message.usage" results.jsonl >usage &&
	jq -c "select(.service_tier != \"batch\" or .cache_creation.ephemeral_5m_input_tokens + .cache_creation.ephemeral_1h_input_tokens != .cache_creation_input_tokens)" usage >odd &&
	test_must_be_empty odd &&
	check Usage usage
'

test_expect_success 'list: pages of a ListResponse_MessageBatch_, forwards and back' '
	for i in 1 2 3 4; do
		req "more-$i" "x" | { printf "{\"requests\":["; tr -d "\n"; printf "]}"; } >one.json &&
		call 200 more.jsonl POST /v1/messages/batches --data-binary @one.json || exit 1
	done &&
	call 200 list.jsonl GET "/v1/messages/batches?limit=2" &&
	last=$(jq -r .last_id list.jsonl) &&
	call 200 list.jsonl GET "/v1/messages/batches?limit=2&after_id=$last" &&
	call 200 list.jsonl GET "/v1/messages/batches?limit=2&after_id=$(sed -n 2p list.jsonl | jq -r .last_id)" &&
	first=$(sed -n 2p list.jsonl | jq -r .first_id) &&
	call 200 list.jsonl GET "/v1/messages/batches?limit=2&before_id=$first" &&
	call 200 list.jsonl GET "/v1/messages/batches?limit=1000" &&
	jq -c "[(.data | length), .has_more]" list.jsonl >actual &&
	printf "%s\n" "[2,true]" "[2,true]" "[1,false]" "[2,false]" "[5,false]" >expect &&
	test_cmp expect actual &&
	check ListResponse_MessageBatch_ list.jsonl &&
	check MessageBatch more.jsonl
'

test_expect_success 'delete: a DeleteMessageBatchResponse; then 404 ErrorResponse' '
	id=$(cat id) &&
	call 200 deleted.jsonl DELETE "/v1/messages/batches/$id" &&
	check DeleteMessageBatchResponse deleted.jsonl &&
	call 404 gone.jsonl GET "/v1/messages/batches/$id" &&
	call 404 gone.jsonl GET "/v1/messages/batches/$id/results" &&
	call 404 gone.jsonl DELETE "/v1/messages/batches/$id" &&
	check ErrorResponse gone.jsonl
'

test_expect_success 'POST /v1/messages: a Message, usage in full, service_tier standard' '
	jq -c .params valid.jsonl | while IFS= read -r r; do
		call 200 messages.jsonl POST /v1/messages --data-binary "$r" || exit 1
	done &&
	test_lines 18 messages.jsonl &&
	jq -c ".usage | [.service_tier, .cache_creation_input_tokens > 0, .cache_read_input_tokens > 0]" messages.jsonl | sort | uniq -c | sed "s/^ *//" | sort >actual &&
	printf "%s\n" "1 [\"standard\",false,true]" "15 [\"standard\",false,false]" "2 [\"standard\",true,false]" >expect &&
	test_cmp expect actual &&
	sed -n "13p;15p" messages.jsonl | jq -c ".usage | [.cache_creation_input_tokens > 0, .cache_creation.ephemeral_5m_input_tokens == .cache_creation_input_tokens, .cache_creation.ephemeral_1h_input_tokens == .cache_creation_input_tokens]" >actual &&
	printf "%s\n" "[true,true,false]" "[true,false,true]" >expect &&
	test_cmp expect actual &&
	check Message messages.jsonl
'

test_expect_success 'POST /v1/messages/count_tokens: a CountMessageTokensResponse' '
	jq -c ".params | {model, messages, system, tools} | with_entries(select(.value != null))" \
		valid.jsonl >count-bodies.jsonl &&
	while IFS= read -r r; do
		call 200 counts.jsonl POST /v1/messages/count_tokens --data-binary "$r" || exit 1
	done <count-bodies.jsonl &&
	test_lines 18 counts.jsonl &&
	check CountMessageTokensParams count-bodies.jsonl &&
	check CountMessageTokensResponse counts.jsonl
'

test_expect_success '400: bad bodies, headers and queries give an ErrorResponse' '
	for b in "" "{" "[]" "{\"requests\":5}" "{\"requests\":[]}" "{\"x\":1}" \
	    "{\"requests\":[{\"custom_id\":\"a b\",\"params\":{}}]}" \
	    "{\"requests\":[{\"custom_id\":\"a\",\"params\":{}},{\"custom_id\":\"a\",\"params\":{}}]}"; do
		call 400 e400.jsonl POST /v1/messages/batches --data-binary "$b" || exit 1
	done &&
	for b in "{\"model\":3}" "[1]" "{\"model\":\"m\",\"max_tokens\":0,\"messages\":[{\"role\":\"user\",\"content\":\"q\"}]}"; do
		call 400 e400.jsonl POST /v1/messages --data-binary "$b" || exit 1
	done &&
	for b in "{\"model\":3}" "[1]" "{\"model\":\"m\",\"messages\":[]}"; do
		call 400 e400.jsonl POST /v1/messages/count_tokens --data-binary "$b" || exit 1
	done &&
	call 400 e400.jsonl GET "/v1/messages/batches?limit=0" &&
	call 400 e400.jsonl GET "/v1/messages/batches?after_id=nope" &&
	curl -sS -o .body -w "%{http_code}\n" -H "x-api-key: k" "$MOCK_URL/v1/messages/batches" >code &&
	echo 400 >expect && test_cmp expect code &&
	{ cat .body; echo; } >>e400.jsonl &&
	test_lines 17 e400.jsonl &&
	check ErrorResponse e400.jsonl
'

test_expect_success '401, 404, 405: an ErrorResponse' '
	curl -sS -o .body -w "%{http_code}\n" -H "anthropic-version: 2023-06-01" "$MOCK_URL/v1/messages/batches" >code &&
	echo 401 >expect && test_cmp expect code &&
	{ cat .body; echo; } >>e4xx.jsonl &&
	call 404 e4xx.jsonl GET /v1/messages/batches/msgbatch_nope &&
	call 404 e4xx.jsonl GET /v1/nothing &&
	call 405 e4xx.jsonl PUT /v1/messages/batches &&
	check ErrorResponse e4xx.jsonl
'

test_expect_success 'faults: every status an ErrorResponse of its type; taken500 too' '
	for st in 400 401 402 403 404 408 413 429 500 502 503 504 529; do
		mock_fault "get:$st" &&
		call $st faults.jsonl GET /v1/messages/batches/msgbatch_x || exit 1
	done &&
	mock_fault create:429 messages:529 count_tokens:500 list:503 cancel:taken500 &&
	call 429 faults.jsonl POST /v1/messages/batches --data-binary @body.json &&
	call 529 faults.jsonl POST /v1/messages --data-binary "$(sed -n 1p valid.jsonl | jq -c .params)" &&
	call 500 faults.jsonl POST /v1/messages/count_tokens --data-binary "{}" &&
	call 503 faults.jsonl GET /v1/messages/batches &&
	call 500 faults.jsonl POST "/v1/messages/batches/$(jq -r .id more.jsonl | head -n 1)/cancel" &&
	jq -r .error.type faults.jsonl | paste -sd" " - >actual &&
	echo "invalid_request_error authentication_error billing_error permission_error not_found_error timeout_error request_too_large rate_limit_error api_error api_error api_error timeout_error overloaded_error rate_limit_error overloaded_error api_error api_error api_error" >expect &&
	test_cmp expect actual &&
	check ErrorResponse faults.jsonl
'

mock_start --key sk-test-key --max-body 3000 --queue-limit 2 --processing-time 0.2 --archive-after 0.6

test_expect_success '401 for a wrong key, 413 for a large body, 429 past the queue limit' '
	curl -sS -o .body -w "%{http_code}\n" -H "x-api-key: wrong" -H "anthropic-version: 2023-06-01" \
		"$MOCK_URL/v1/messages/batches" >code &&
	echo 401 >expect && test_cmp expect code &&
	{ cat .body; echo; } >>limits.jsonl &&
	call 413 limits.jsonl POST /v1/messages/batches --data-binary @body.json &&
	call 413 limits.jsonl POST /v1/messages --data-binary "$(head -c 4000 /dev/zero | tr "\0" x)" &&
	{ printf "{\"requests\":["; head -n 3 valid.jsonl | paste -sd, - | tr -d "\n"; printf "]}"; } >three.json &&
	call 429 limits.jsonl POST /v1/messages/batches --data-binary @three.json &&
	jq -r .error.type limits.jsonl | paste -sd" " - >actual &&
	echo "authentication_error request_too_large request_too_large rate_limit_error" >expect &&
	test_cmp expect actual &&
	check ErrorResponse limits.jsonl
'

test_expect_success 'archived: a MessageBatch with archived_at; its results a 404 ErrorResponse' '
	{ printf "{\"requests\":["; head -n 1 valid.jsonl | tr -d "\n"; printf "]}"; } >one.json &&
	call 200 arch.jsonl POST /v1/messages/batches --data-binary @one.json &&
	id=$(jq -r .id arch.jsonl) &&
	sleep 1 &&
	call 200 archived.jsonl GET "/v1/messages/batches/$id" &&
	test "$(jq -r ".archived_at | type" archived.jsonl)" = string &&
	check MessageBatch arch.jsonl archived.jsonl &&
	call 404 archived-results.jsonl GET "/v1/messages/batches/$id/results" &&
	check ErrorResponse archived-results.jsonl
'

test_done
