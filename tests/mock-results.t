#!/bin/sh
# bt-mock: what results say: echo, max_tokens, errors, tokens, caching,
# tools, determinism; POST /v1/messages and count_tokens.
. "${0%/*}/lib.sh"


mock_start --model claude-test --processing-time 0.1 --ordered

test_expect_success 'a succeeded result, exactly' '
	echo "{\"custom_id\":\"a\",\"params\":{\"model\":\"claude-test\",\"max_tokens\":100,\"messages\":[{\"role\":\"user\",\"content\":\"hello world\"}]}}" >reqs &&
	run_batch reqs &&
	mask results >actual &&
	printf "%s\n" "{\"custom_id\":\"a\",\"result\":{\"type\":\"succeeded\",\"message\":{\"id\":\"msg_X\",\"type\":\"message\",\"role\":\"assistant\",\"model\":\"claude-test\",\"content\":[{\"type\":\"text\",\"text\":\"hello world\",\"citations\":null}],\"stop_reason\":\"end_turn\",\"stop_sequence\":null,\"stop_details\":null,\"container\":null,\"usage\":{\"input_tokens\":3,\"output_tokens\":3,\"cache_creation_input_tokens\":0,\"cache_read_input_tokens\":0,\"cache_creation\":{\"ephemeral_5m_input_tokens\":0,\"ephemeral_1h_input_tokens\":0},\"inference_geo\":null,\"output_tokens_details\":null,\"server_tool_use\":null,\"service_tier\":\"batch\"}}}}" >expect &&
	test_cmp expect actual
'

test_expect_success 'the reply echoes the last user message; text blocks joined by newline' '
	cat >reqs <<-\EOF &&
	{"custom_id":"s","params":{"model":"m","max_tokens":100,"messages":[{"role":"user","content":"first"},{"role":"assistant","content":"x"},{"role":"user","content":"unicode \u00e9\u4e2d \"q\""}]}}
	{"custom_id":"b","params":{"model":"m","max_tokens":100,"messages":[{"role":"user","content":[{"type":"text","text":"one"},{"type":"image","source":{"type":"url","url":"https://example.com/a.png"}},{"type":"text","text":"two"}]}]}}
	EOF
	run_batch reqs &&
	jq -c "[.custom_id, .result.message.content[0].text]" results >actual &&
	printf "%s\n" "[\"s\",\"unicode é中 \\\"q\\\"\"]" "[\"b\",\"one\\ntwo\"]" >expect &&
	test_cmp expect actual
'

test_expect_success 'max_tokens cuts the reply at 4 bytes a token, never inside UTF-8' '
	cat >reqs <<-\EOF &&
	{"custom_id":"c","params":{"model":"m","max_tokens":2,"messages":[{"role":"user","content":"abcdefghijkl"}]}}
	{"custom_id":"u","params":{"model":"m","max_tokens":1,"messages":[{"role":"user","content":"abc\u00e9"}]}}
	{"custom_id":"e","params":{"model":"m","max_tokens":2,"messages":[{"role":"user","content":"abcdefgh"}]}}
	EOF
	run_batch reqs &&
	jq -c "[.custom_id, .result.message.content[0].text, .result.message.stop_reason, .result.message.usage.output_tokens]" results >actual &&
	printf "%s\n" "[\"c\",\"abcdefgh\",\"max_tokens\",2]" "[\"u\",\"abc\",\"max_tokens\",1]" "[\"e\",\"abcdefgh\",\"end_turn\",2]" >expect &&
	test_cmp expect actual
'

test_expect_success 'invalid params become errored results, with the nested envelope' '
	cat >reqs <<-\EOF &&
	{"custom_id":"nomax","params":{"model":"m","messages":[{"role":"user","content":"x"}]}}
	{"custom_id":"nomodel","params":{"max_tokens":5,"messages":[{"role":"user","content":"x"}]}}
	{"custom_id":"nomsgs","params":{"model":"m","max_tokens":5,"messages":[]}}
	{"custom_id":"zero","params":{"model":"m","max_tokens":0,"messages":[{"role":"user","content":"x"}]}}
	{"custom_id":"stream","params":{"model":"m","max_tokens":5,"stream":true,"messages":[{"role":"user","content":"x"}]}}
	{"custom_id":"ok","params":{"model":"m","max_tokens":5,"stream":false,"messages":[{"role":"user","content":"x"}]}}
	EOF
	run_batch reqs &&
	jq -c "[.custom_id, .result.type, .result.error.type, .result.error.error.type, .result.error.error.message]" results >actual &&
	cat >expect <<-\EOF &&
	["nomax","errored","error","invalid_request_error","max_tokens: Field required"]
	["nomodel","errored","error","invalid_request_error","model: Field required"]
	["nomsgs","errored","error","invalid_request_error","messages: List should have at least 1 item after validation, not 0"]
	["zero","errored","error","invalid_request_error","max_tokens: Input should be greater than or equal to 1"]
	["stream","errored","error","invalid_request_error","stream: Streaming is not supported in batch requests"]
	["ok","succeeded",null,null,null]
	EOF
	test_cmp expect actual &&
	{ jq -r "select(.result.type == \"errored\") | .result.error.request_id" results | grep -Ecv "^req_[A-Za-z0-9]{24}$" >bad || true; } &&
	echo 0 >expect && test_cmp expect bad &&
	jq -c .request_counts polled >actual &&
	echo "{\"processing\":0,\"succeeded\":1,\"errored\":5,\"canceled\":0,\"expired\":0}" >expect &&
	test_cmp expect actual
'

test_expect_success 'input tokens: system, messages, tool blocks and tools count' '
	cat >reqs <<-\EOF &&
	{"custom_id":"t","params":{"model":"m","max_tokens":5,"system":"12345678","tools":[{"name":"f"}],"messages":[{"role":"user","content":"abcd"},{"role":"assistant","content":[{"type":"tool_use","id":"x","name":"f","input":{"a":1}}]},{"role":"user","content":[{"type":"tool_result","tool_use_id":"x","content":"ok"},{"type":"text","text":"z"}]}]}}
	EOF
	run_batch reqs &&
	jq -c "[.result.message.usage.input_tokens, .result.message.content[0].text]" results >actual &&
	# 8 system + 4 + 7 {"a":1} + 4 "ok" + 1 z + 14 tools = 38 bytes
	echo "[10,\"z\"]" >expect &&
	test_cmp expect actual
'

test_expect_success 'prompt caching: first request writes the cache, later ones read it' '
	cat >reqs <<-\EOF &&
	{"custom_id":"c1","params":{"model":"m","max_tokens":5,"system":[{"type":"text","text":"0123456789abcdef","cache_control":{"type":"ephemeral"}}],"messages":[{"role":"user","content":"abcd"}]}}
	{"custom_id":"c2","params":{"model":"m","max_tokens":5,"system":[{"type":"text","text":"0123456789abcdef","cache_control":{"type":"ephemeral"}}],"messages":[{"role":"user","content":"abcdefgh"}]}}
	{"custom_id":"c3","params":{"model":"m","max_tokens":5,"system":[{"type":"text","text":"other"}],"messages":[{"role":"user","content":"abcd"}]}}
	EOF
	run_batch reqs &&
	jq -c "[.custom_id, .result.message.usage.input_tokens, .result.message.usage.cache_creation_input_tokens, .result.message.usage.cache_read_input_tokens]" results >actual &&
	printf "%s\n" "[\"c1\",1,4,0]" "[\"c2\",2,0,4]" "[\"c3\",3,0,0]" >expect &&
	test_cmp expect actual
'

test_expect_success 'tool_choice forces a tool_use block' '
	cat >reqs <<-\EOF &&
	{"custom_id":"tool","params":{"model":"m","max_tokens":50,"tools":[{"name":"a","input_schema":{}},{"name":"b","input_schema":{}}],"tool_choice":{"type":"tool","name":"b"},"messages":[{"role":"user","content":"do it"}]}}
	{"custom_id":"any","params":{"model":"m","max_tokens":50,"tools":[{"name":"a","input_schema":{}}],"tool_choice":{"type":"any"},"messages":[{"role":"user","content":"go"}]}}
	{"custom_id":"auto","params":{"model":"m","max_tokens":50,"tools":[{"name":"a","input_schema":{}}],"tool_choice":{"type":"auto"},"messages":[{"role":"user","content":"go"}]}}
	EOF
	run_batch reqs &&
	jq -c "[.custom_id, .result.message.stop_reason, .result.message.content[0]]" results | mask >actual &&
	cat >expect <<-\EOF &&
	["tool","tool_use",{"type":"tool_use","id":"toolu_X","name":"b","input":{"text":"do it"},"caller":{"type":"direct"}}]
	["any","tool_use",{"type":"tool_use","id":"toolu_X","name":"a","input":{"text":"go"},"caller":{"type":"direct"}}]
	["auto","end_turn",{"type":"text","text":"go","citations":null}]
	EOF
	test_cmp expect actual
'

mkreqs() { # N -> lines
	perl -e 'for (1..$ARGV[0]) { print "{\"custom_id\":\"r$_\",\"params\":{\"model\":\"m\",\"max_tokens\":9,\"messages\":[{\"role\":\"user\",\"content\":\"n $_\"}]}}\n" }' "$1"
}

mock_start --model claude-test --processing-time 0.1 --seed 7 --error-rate 0.3 --expire-rate 0.2

test_expect_success '--error-rate and --expire-rate: some errored and expired' '
	mkreqs 200 >reqs &&
	run_batch reqs &&
	cp results results.seed7 &&
	jq -r ".result | .type + \" \" + (.error.error.type // \"-\")" results | sort | uniq -c | tr -s " " >counts &&
	cat counts &&
	e=$(jq "select(.result.type==\"errored\")" results | jq -s length) &&
	x=$(jq "select(.result.type==\"expired\")" results | jq -s length) &&
	test "$e" -gt 30 && test "$e" -lt 90 &&
	test "$x" -gt 15 && test "$x" -lt 70 &&
	grep -q "api_error" counts && grep -q "overloaded_error" counts &&
	jq -c .request_counts polled >actual &&
	echo "{\"processing\":0,\"succeeded\":$((200-e-x)),\"errored\":$e,\"canceled\":0,\"expired\":$x}" >expect &&
	test_cmp expect actual &&
	jq -r "select(.result.error.error.type==\"api_error\") | .result.error.error.message" results | sort -u >msg &&
	echo "Internal server error" >expect && test_cmp expect msg
'

test_expect_success 'results are not in request order (without --ordered)' '
	jq -r .custom_id results >order &&
	mkreqs 200 | jq -r .custom_id >inorder &&
	! cmp -s order inorder &&
	sort order >a && sort inorder >b && test_cmp a b
'

mock_start --model claude-test --processing-time 0.1 --seed 7 --error-rate 0.3 --expire-rate 0.2

test_expect_success 'the same seed gives the same results, byte for byte but for their ids, which are new' '
	run_batch reqs &&
	mask results.seed7 >a && mask results >b && test_cmp a b &&
	jq -r .result.message.id results.seed7 results | grep -v null | sort | uniq -d >common &&
	test_must_be_empty common
'

mock_start --model claude-test --processing-time 0.1 --seed 8 --error-rate 0.3 --expire-rate 0.2

test_expect_success 'another seed gives other results' '
	run_batch reqs &&
	! cmp -s results.seed7 results
'

test_expect_success 'POST /v1/messages: a Message, service_tier standard' '
	api POST /v1/messages -D hdr -o msg --data-binary "{\"model\":\"claude-test\",\"max_tokens\":100,\"messages\":[{\"role\":\"user\",\"content\":\"hi there\"}]}" &&
	mask msg >actual && echo >>actual &&
	printf "%s\n" "{\"id\":\"msg_X\",\"type\":\"message\",\"role\":\"assistant\",\"model\":\"claude-test\",\"content\":[{\"type\":\"text\",\"text\":\"hi there\",\"citations\":null}],\"stop_reason\":\"end_turn\",\"stop_sequence\":null,\"stop_details\":null,\"container\":null,\"usage\":{\"input_tokens\":2,\"output_tokens\":2,\"cache_creation_input_tokens\":0,\"cache_read_input_tokens\":0,\"cache_creation\":{\"ephemeral_5m_input_tokens\":0,\"ephemeral_1h_input_tokens\":0},\"inference_geo\":null,\"output_tokens_details\":null,\"server_tool_use\":null,\"service_tier\":\"standard\"}}" >expect &&
	test_cmp expect actual &&
	tr -d "\r" <hdr | tr A-Z a-z | test_grep "^request-id: req_" -
'

test_expect_success 'POST /v1/messages: invalid params are a 400 at once' '
	api POST /v1/messages -o body -w "%{http_code}\n" --data-binary "{\"model\":\"m\",\"messages\":[{\"role\":\"user\",\"content\":\"x\"}]}" >code &&
	echo 400 >expect && test_cmp expect code &&
	jq -c .error body >actual &&
	echo "{\"type\":\"invalid_request_error\",\"message\":\"max_tokens: Field required\"}" >expect &&
	test_cmp expect actual &&
	api POST /v1/messages -o body -w "%{http_code}\n" --data-binary "not json" >code &&
	echo 400 >expect && test_cmp expect code
'

test_expect_success 'count_tokens: the token rule; model and messages required' '
	api POST /v1/messages/count_tokens --data-binary "{\"model\":\"m\",\"system\":\"12345678\",\"messages\":[{\"role\":\"user\",\"content\":\"abcde\"}]}" >body &&
	jq -c . body >actual &&
	echo "{\"input_tokens\":4}" >expect && test_cmp expect actual &&
	api POST /v1/messages/count_tokens --data-binary "{\"model\":\"m\",\"messages\":[{\"role\":\"user\",\"content\":\"\"}]}" >body &&
	jq -c . body >actual &&
	echo "{\"input_tokens\":1}" >expect && test_cmp expect actual &&
	for b in "{\"messages\":[{\"role\":\"user\",\"content\":\"x\"}]}" "{\"model\":\"m\"}" "{\"model\":\"m\",\"messages\":[]}"; do
		api POST /v1/messages/count_tokens -o body -w "%{http_code}\n" --data-binary "$b" >code &&
		echo 400 >expect && test_cmp expect code &&
		test "$(jq -r .error.type body)" = invalid_request_error || exit 1
	done
'

mock_stop

test_expect_success "bt-mock wrote nothing on stderr (no warnings, no valgrind errors)" '
	! grep -E "==[0-9]+==|bt-mock:" "$TRASH/mock.log"
'

test_done
