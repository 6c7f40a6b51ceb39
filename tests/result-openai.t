#!/bin/sh
# OpenAI's result lines (issue 19, the result side): bt-join, bt-retry and
# bt-cost read them as the provider writes them, told by the line itself.
. "${0%/*}/lib.sh"

# Fixtures by hand, valid against OpenAI's BatchRequestOutput (test 1).
# chat ID CONTENT(JSON) FINISH [PROMPT CACHED COMPLETION MODEL LINE-ID]
chat() { printf '{"id":"%s","custom_id":"%s","response":{"status_code":200,"request_id":"req_%s","body":{"id":"chatcmpl-%s","object":"chat.completion","created":1767225600,"model":"%s","choices":[{"index":0,"message":{"role":"assistant","content":%s,"refusal":null},"logprobs":null,"finish_reason":"%s"}],"usage":{"prompt_tokens":%s,"completion_tokens":%s,"total_tokens":%s,"prompt_tokens_details":{"cached_tokens":%s},"completion_tokens_details":{"reasoning_tokens":0}}}},"error":null}\n' \
	"${8:-batch_req_$1}" "$1" "$1" "$1" "${7:-gpt-4.1-mini-2025-04-14}" "$2" "$3" "${4:-10}" "${6:-5}" "$((${4:-10} + ${6:-5}))" "${5:-0}"; }
# tool ID ARGUMENTS(a JSON string) [FINISH]: a forced function's call
tool() { printf '{"id":"batch_req_%s","custom_id":"%s","response":{"status_code":200,"request_id":"req_%s","body":{"id":"chatcmpl-%s","object":"chat.completion","created":1767225600,"model":"gpt-4.1-mini","choices":[{"index":0,"message":{"role":"assistant","content":null,"refusal":null,"tool_calls":[{"id":"call_1","type":"function","function":{"name":"record","arguments":%s}}]},"logprobs":null,"finish_reason":"%s"}],"usage":{"prompt_tokens":10,"completion_tokens":5,"total_tokens":15}}},"error":null}\n' \
	"$1" "$1" "$1" "$1" "$2" "${3:-stop}"; }
# embed ID VECTOR [PROMPT MODEL]
embed() { printf '{"id":"batch_req_%s","custom_id":"%s","response":{"status_code":200,"request_id":"req_%s","body":{"object":"list","data":[{"object":"embedding","index":0,"embedding":%s}],"model":"%s","usage":{"prompt_tokens":%s,"total_tokens":%s}}},"error":null}\n' \
	"$1" "$1" "$1" "$2" "${4:-text-embedding-3-small}" "${3:-4}" "${3:-4}"; }
# refused ID STATUS TYPE CODE(JSON) MESSAGE: the error file's line
refused() { printf '{"id":"batch_req_%s","custom_id":"%s","response":{"status_code":%s,"request_id":"req_%s","body":{"error":{"message":"%s","type":"%s","param":null,"code":%s}}},"error":null}\n' \
	"$1" "$1" "$2" "$1" "$5" "$3" "$4"; }
# unrun ID CODE MESSAGE: a request never run
unrun() { printf '{"id":"batch_req_%s","custom_id":"%s","response":null,"error":{"code":"%s","message":"%s"}}\n' "$1" "$1" "$2" "$3"; }
# req ID: an OpenAI request line
req() { printf '{"custom_id":"%s","method":"POST","url":"/v1/chat/completions","body":{"model":"gpt-4.1-mini","messages":[{"role":"user","content":"%s"}]}}\n' "$1" "$1"; }

schema() { "$TESTS/schema-check.py" --spec "$TESTS/api/openai-openapi-subset.json" "$@"; }

cat >records.jsonl <<\EOF_
{"id":"a","text":"one"}
{"id":"b","text":"two"}
{"id":"c","text":"three"}
{"id":"d","text":"four"}
{"id":"e","text":"five"}
{"id":"f","text":"six"}
{"id":"g","text":"seven"}
EOF_

{
	chat a '"Hello."' stop
	refused b 400 invalid_request_error null "Invalid value: messages."
	unrun c batch_expired "This request could not be executed before the completion window expired."
	unrun d batch_cancelled "This request was not executed because the batch was cancelled."
	refused e 429 requests '"rate_limit_exceeded"' "Rate limit reached."
	chat f '"Hel"' length
} >results.jsonl
{
	chat s1 '"{\"x\":1,\"y\":[true]}"' stop
	chat s2 '"not json"' stop
	chat s3 '"{\"x\":"' length
	tool t1 '"{\"name\":\"Ann\",\"age\":7}"'
	tool t2 '"{\"name\":\"Bo"' length
	embed v1 '[0.125,-0.5,0.25]'
} >more.jsonl

test_expect_success 'the fixtures are valid by OpenAI schemas (lines and bodies)' '
	schema BatchRequestOutput results.jsonl more.jsonl &&
	cat results.jsonl more.jsonl | jq -c "select(.response.status_code == 200 and .response.body.object == \"chat.completion\") | .response.body" >chat.json &&
	test_lines 7 chat.json &&
	schema CreateChatCompletionResponse chat.json &&
	jq -c "select(.response.body.object == \"list\") | .response.body" more.jsonl >emb.json &&
	schema CreateEmbeddingResponse emb.json &&
	jq -c "select(.response.status_code >= 400) | .response.body" results.jsonl >errs.json &&
	schema ErrorResponse errs.json
'

test_expect_success 'bt-join: each outcome of OpenAI lines, byte for byte' '
	bt-join --id .id records.jsonl <results.jsonl >actual 2>err &&
	cat >expect <<-\EXP &&
	{"id":"a","text":"one","response":"Hello.","stop_reason":"stop","status":"succeeded"}
	{"id":"b","text":"two","response":null,"status":"errored","error":"invalid_request_error: Invalid value: messages."}
	{"id":"c","text":"three","response":null,"status":"expired","error":"expired: the batch expired before this request was done"}
	{"id":"d","text":"four","response":null,"status":"canceled","error":"canceled: the batch was canceled before this request was done"}
	{"id":"e","text":"five","response":null,"status":"errored","error":"rate_limit_exceeded: Rate limit reached."}
	{"id":"f","text":"six","response":"Hel","stop_reason":"length","status":"succeeded"}
	{"id":"g","text":"seven","response":null,"status":"missing","error":"missing: no result came back for this record"}
	EXP
	test_cmp expect actual &&
	echo "bt-join: 7 records: 2 succeeded, 2 errored (1 invalid_request_error, 1 rate_limit_exceeded), 1 canceled, 1 expired, 1 missing" >expect.err &&
	test_cmp expect.err err
'

cat >more-records.jsonl <<\EOF_
{"id":"s1"}
{"id":"s2"}
{"id":"s3"}
{"id":"t1"}
{"id":"t2"}
{"id":"v1"}
EOF_

test_expect_success 'bt-join --structured: content parsed, a function'"'"'s arguments, a vector; cut ones said' '
	bt-join --structured --id .id more-records.jsonl <more.jsonl >actual 2>err &&
	cat >expect <<-\EXP &&
	{"id":"s1","response":{"x":1,"y":[true]},"stop_reason":"stop","status":"succeeded"}
	{"id":"s2","response":null,"stop_reason":"stop","status":"errored","error":"structured answer is not JSON: invalid literal (expected null) at column 1"}
	{"id":"s3","response":null,"stop_reason":"length","status":"errored","error":"structured answer is not JSON (cut at max_completion_tokens)"}
	{"id":"t1","response":{"name":"Ann","age":7},"stop_reason":"stop","status":"succeeded"}
	{"id":"t2","response":null,"stop_reason":"length","status":"errored","error":"structured answer is not JSON (cut at max_completion_tokens)"}
	{"id":"v1","response":[0.125,-0.5,0.25],"stop_reason":null,"status":"succeeded"}
	EXP
	test_cmp expect actual &&
	echo "bt-join: 6 records: 3 succeeded, 3 errored (3 not_json)" >expect.err &&
	test_cmp expect.err err
'

test_expect_success 'bt-join without --structured: text as it is, arguments and vectors as data' '
	bt-join --id .id more-records.jsonl <more.jsonl >out 2>err &&
	jq -c .response out >actual &&
	cat >expect <<-\EXP &&
	"{\"x\":1,\"y\":[true]}"
	"not json"
	"{\"x\":"
	{"name":"Ann","age":7}
	null
	[0.125,-0.5,0.25]
	EXP
	test_cmp expect actual
'

test_expect_success 'bt-join --flatten: an OpenAI JSON answer'"'"'s members into the record' '
	bt-join --flatten --structured --id .id more-records.jsonl <more.jsonl 2>err | head -1 >actual &&
	echo "{\"id\":\"s1\",\"x\":1,\"y\":[true],\"stop_reason\":\"stop\",\"status\":\"succeeded\"}" >expect &&
	test_cmp expect actual &&
	bt-join --flatten --id .id more-records.jsonl <more.jsonl 2>err | sed -n 4p >actual &&
	echo "{\"id\":\"t1\",\"name\":\"Ann\",\"age\":7,\"stop_reason\":\"stop\",\"status\":\"succeeded\"}" >expect &&
	test_cmp expect actual
'

# Ten OpenAI requests and their outcomes: retry 429, 5xx, 408,
# batch_expired and batch_cancelled; hold 400 and 401; r7 missing.
for i in r1 r2 r3 r4 r5 r6 r7 r8 r9 r10; do req $i; done >reqs.jsonl
{
	chat r1 '"ok"' stop
	refused r2 429 requests '"rate_limit_exceeded"' "Rate limit reached."
	refused r3 500 server_error null "The server had an error."
	unrun r4 batch_expired "Expired."
	refused r5 400 invalid_request_error '"invalid_value"' "Invalid value."
	chat r6 '"cu"' length
	unrun r8 batch_cancelled "Cancelled."
	refused r9 408 timeout null "Timed out."
	refused r10 401 invalid_request_error '"invalid_api_key"' "Incorrect API key."
} >res.jsonl

test_expect_success 'bt-retry: exactly the retryable OpenAI ones, lines as they were' '
	schema BatchRequestOutput res.jsonl &&
	bt-retry --results res.jsonl reqs.jsonl >actual 2>err &&
	grep -E "\"(r2|r3|r4|r7|r8|r9)\"" reqs.jsonl >expect &&
	test_cmp expect actual &&
	cat >expect.err <<-\EXP &&
	bt-retry: reqs.jsonl:5: r5: held back: invalid_value: Invalid value.
	bt-retry: reqs.jsonl:10: r10: held back: invalid_api_key: Incorrect API key.
	bt-retry: 10 requests: 6 to retry (1 canceled, 1 expired, 1 missing, 1 rate_limit_exceeded, 1 server_error, 1 timeout), 2 held back, 2 done
	EXP
	test_cmp expect.err err
'

test_expect_success 'bt-retry --truncated takes finish_reason length; --strict exits 3 on the held' '
	test_expect_code 3 bt-retry --truncated --strict --results res.jsonl reqs.jsonl >out 2>err &&
	jq -r .custom_id out | tr "\n" " " >actual &&
	printf "r2 r3 r4 r6 r7 r8 r9 " >expect &&
	test_cmp expect actual &&
	tail -1 err >actual &&
	echo "bt-retry: 10 requests: 7 to retry (1 canceled, 1 expired, 1 missing, 1 rate_limit_exceeded, 1 server_error, 1 timeout, 1 truncated), 2 held back, 1 done" >expect &&
	test_cmp expect actual &&
	bt-retry --all-errors --errored --results res.jsonl reqs.jsonl 2>err | jq -r .custom_id | tr "\n" " " >actual &&
	printf "r2 r3 r5 r9 r10 " >expect &&
	test_cmp expect actual
'

test_expect_success 'bt-retry --set amends an OpenAI request, and must give one' '
	req r2 >one.jsonl &&
	bt-retry --set ".body.model = \"gpt-4o\"" --results res.jsonl one.jsonl >actual 2>err &&
	echo "{\"custom_id\":\"r2\",\"method\":\"POST\",\"url\":\"/v1/chat/completions\",\"body\":{\"model\":\"gpt-4o\",\"messages\":[{\"role\":\"user\",\"content\":\"r2\"}]}}" >expect &&
	test_cmp expect actual &&
	test_expect_code 2 bt-retry --set "del(.body)" --results res.jsonl one.jsonl >out 2>err &&
	echo "bt-retry: one.jsonl:1: --set: did not give a request: missing body" >expect &&
	test_cmp expect err
'

test_expect_success 'mixed-up streams are refused, exit 2, naming the lines' '
	echo "{\"custom_id\":\"r1\",\"params\":{\"model\":\"m\",\"max_tokens\":5,\"messages\":[{\"role\":\"user\",\"content\":\"x\"}]}}" >anthropic.jsonl &&
	test_expect_code 2 bt-retry --results res.jsonl anthropic.jsonl >out 2>err &&
	test_must_be_empty out &&
	echo "bt-retry: anthropic.jsonl:1: an Anthropic request, but the results are OpenAI'"'"'s (res.jsonl:1): give the results of these requests" >expect &&
	test_cmp expect err &&
	{ head -1 res.jsonl && echo "{\"custom_id\":\"r2\",\"result\":{\"type\":\"expired\"}}"; } >mixed.jsonl &&
	test_expect_code 2 bt-retry --results mixed.jsonl reqs.jsonl >out 2>err &&
	echo "bt-retry: mixed.jsonl:2: an Anthropic result among OpenAI ones (mixed.jsonl:1 is OpenAI'"'"'s): give the lines of one provider" >expect &&
	test_cmp expect err &&
	{ req r1 && cat anthropic.jsonl; } >mixreq.jsonl &&
	test_expect_code 2 bt-retry --results /dev/null mixreq.jsonl >out 2>err &&
	echo "bt-retry: mixreq.jsonl:2: an Anthropic request among OpenAI ones (mixreq.jsonl:1 is OpenAI'"'"'s): give the lines of one provider" >expect &&
	test_cmp expect err
'

test_expect_success 'bad OpenAI lines: exit 2 naming file and line' '
	{ chat a "\"x\"" stop && echo "{\"custom_id\":\"b\",\"response\":{\"status_code\":\"200\"},\"error\":null}"; } >bad.jsonl &&
	test_expect_code 2 bt-join --id .id records.jsonl <bad.jsonl >out 2>err &&
	test_must_be_empty out &&
	echo "bt-join: stdin:2: not a result: response.status_code is not an HTTP status" >expect &&
	test_cmp expect err &&
	echo "{\"custom_id\":\"b\",\"response\":null,\"error\":null}" >bad2.jsonl &&
	test_expect_code 2 bt-cost bad2.jsonl >out 2>err &&
	echo "bt-cost: bad2.jsonl:1: not a result: response is not an object, nor null with an error object" >expect &&
	test_cmp expect err &&
	req r1 >oreq.jsonl &&
	test_expect_code 2 bt-retry --results res.jsonl - <bad2.jsonl >out 2>err &&
	echo "bt-retry: stdin:1: unknown member \"response\" (a request has only custom_id and params)" >expect &&
	echo "{\"custom_id\":\"r1\",\"method\":\"POST\",\"url\":\"/v1/embeddings\",\"body\":{},\"x\":1}" >bad3.jsonl &&
	test_expect_code 2 bt-retry --results res.jsonl bad3.jsonl >out 2>err &&
	echo "bt-retry: bad3.jsonl:1: unknown member \"x\" (an OpenAI request has only custom_id, method, url and body)" >expect &&
	test_cmp expect err
'

# Every OpenAI model priced: 1,000,000 prompt tokens of which 100,000
# cached, 1,000,000 completion tokens (embeddings: prompt only).  Batch is
# half; cached input at its own rate.  By hand from bt-cost(1)'s table.
test_expect_success 'bt-cost: each OpenAI model at batch, 50%, cached tokens at their rate' '
	n=0 && for m in gpt-5 gpt-5-mini gpt-5-nano gpt-4.1 gpt-4.1-mini gpt-4.1-nano gpt-4o gpt-4o-mini o3 o4-mini; do
		n=$((n + 1)) && chat "c$n" "\"x\"" stop 1000000 100000 1000000 "$m" || return 1
	done >priced.jsonl &&
	embed e-small "[0.5]" 1000000 text-embedding-3-small >>priced.jsonl &&
	embed e-large "[0.5]" 1000000 text-embedding-3-large >>priced.jsonl &&
	schema BatchRequestOutput priced.jsonl &&
	bt-cost priced.jsonl >out 2>err &&
	test_must_be_empty err &&
	jq -r ".models[] | \"\(.model) \(.tier) \(.input_tokens) \(.cache_read_tokens) \(.output_tokens)\"" out >actual &&
	cat >expect <<-\EXP &&
	gpt-4.1 batch 900000 100000 1000000
	gpt-4.1-mini batch 900000 100000 1000000
	gpt-4.1-nano batch 900000 100000 1000000
	gpt-4o batch 900000 100000 1000000
	gpt-4o-mini batch 900000 100000 1000000
	gpt-5 batch 900000 100000 1000000
	gpt-5-mini batch 900000 100000 1000000
	gpt-5-nano batch 900000 100000 1000000
	o3 batch 900000 100000 1000000
	o4-mini batch 900000 100000 1000000
	text-embedding-3-large batch 1000000 0 0
	text-embedding-3-small batch 1000000 0 0
	EXP
	test_cmp expect actual &&
	grep -o "\"model\":\"[^\"]*\",\"tier\":\"batch\",[^}]*\"batch_usd\":[0-9.]*,\"standard_usd\":[0-9.]*" out |
		sed "s/\"model\":\"\([^\"]*\)\".*\"batch_usd\":\([0-9.]*\),\"standard_usd\":\([0-9.]*\)/\1 \2 \3/" >actual &&
	cat >expect <<-\EXP &&
	gpt-4.1 4.925000 9.850000
	gpt-4.1-mini 0.985000 1.970000
	gpt-4.1-nano 0.246250 0.492500
	gpt-4o 6.187500 12.375000
	gpt-4o-mini 0.371250 0.742500
	gpt-5 5.568750 11.137500
	gpt-5-mini 1.113750 2.227500
	gpt-5-nano 0.222750 0.445500
	o3 4.925000 9.850000
	o4-mini 2.708750 5.417500
	text-embedding-3-large 0.065000 0.130000
	text-embedding-3-small 0.010000 0.020000
	EXP
	test_cmp expect actual
'

test_expect_success 'bt-cost: a synchronous answer at the standard price, dated names, errors not billed, a repeat billed once' '
	{
		chat x1 "\"x\"" stop 1000000 200000 1000000 gpt-4o &&
		chat x1 "\"x\"" stop 1000000 200000 1000000 gpt-4o &&
		chat x2 "\"x\"" stop 1000000 200000 1000000 gpt-4o-2024-08-06 chatcmpl-sync &&
		refused x3 500 server_error null "The server had an error." &&
		unrun x4 batch_expired "Expired." &&
		unrun x5 batch_cancelled "Cancelled."
	} >mixed-cost.jsonl &&
	bt-cost mixed-cost.jsonl >actual 2>err &&
	test_must_be_empty err &&
	cat >expect <<-\EXP &&
	{"kind":"results","models":[{"model":"gpt-4o","tier":"batch","requests":1,"input_tokens":800000,"output_tokens":1000000,"cache_write_tokens":0,"cache_read_tokens":200000,"cache_write_1h_tokens":0,"batch_usd":6.125000,"standard_usd":12.250000,"saving_usd":6.125000,"cost_usd":6.125000},{"model":"gpt-4o-2024-08-06","tier":"standard","requests":1,"input_tokens":800000,"output_tokens":1000000,"cache_write_tokens":0,"cache_read_tokens":200000,"cache_write_1h_tokens":0,"batch_usd":6.125000,"standard_usd":12.250000,"saving_usd":0.000000,"cost_usd":12.250000}],"total":{"requests":2,"input_tokens":1600000,"output_tokens":2000000,"cache_write_tokens":0,"cache_read_tokens":400000,"cache_write_1h_tokens":0,"batch_usd":12.250000,"standard_usd":24.500000,"saving_usd":6.125000,"cost_usd":18.375000},"not_billed":{"errored":1,"canceled":1,"expired":1},"cached":{"requests":0,"saved_usd":0.000000}}
	EXP
	test_cmp expect actual
'

test_expect_success 'bt-cost: prices by file with a "cached" rate; bad usage and unknown models exit 2' '
	echo "{\"gpt-4o\":{\"input\":4,\"output\":8,\"cached\":1}}" >p.json &&
	chat y1 "\"x\"" stop 1000000 200000 1000000 gpt-4o >y.jsonl &&
	bt-cost --prices p.json y.jsonl | jq -c "[.total.batch_usd, .total.standard_usd]" >actual &&
	echo "[5.7,11.4]" >expect &&
	test_cmp expect actual &&
	echo "{\"gpt-4o\":{\"input\":4,\"output\":8}}" >p2.json &&
	bt-cost --prices p2.json y.jsonl | jq -c ".total.batch_usd" >actual &&
	echo "5.64" >expect &&
	test_cmp expect actual &&
	chat y2 "\"x\"" stop 10 20 5 gpt-4o >over.jsonl &&
	test_expect_code 2 bt-cost over.jsonl >out 2>err &&
	echo "bt-cost: over.jsonl:1: response.body.usage.prompt_tokens_details.cached_tokens: more than prompt_tokens" >expect &&
	test_cmp expect err &&
	chat y3 "\"x\"" stop 10 0 5 gpt-9 >unknown.jsonl &&
	test_expect_code 2 bt-cost unknown.jsonl >out 2>err &&
	echo "bt-cost: unknown.jsonl:1: unknown model \"gpt-9\": no price known for it (give its prices with --prices FILE or BT_PRICES)" >expect &&
	test_cmp expect err &&
	test_cmp expect err
'

test_expect_success 'bt-cost estimates OpenAI requests: text by bytes / 4, an image at the cap, the output bound' '
	cat >oreq.jsonl <<-\EOF_ &&
	{"custom_id":"a","method":"POST","url":"/v1/chat/completions","body":{"model":"gpt-4.1-mini","messages":[{"role":"system","content":"Be brief."},{"role":"user","content":[{"type":"text","text":"Hello there, friend"},{"type":"image_url","image_url":{"url":"data:image/png;base64,AAAA"}}]}],"max_completion_tokens":100}}
	{"custom_id":"b","method":"POST","url":"/v1/embeddings","body":{"model":"text-embedding-3-small","input":"sixteen bytes!!!"}}
	{"custom_id":"c","method":"POST","url":"/v1/embeddings","body":{"model":"text-embedding-3-small","input":["four","eight..."]}}
	EOF_
	bt-cost oreq.jsonl >actual 2>err &&
	test_must_be_empty err &&
	cat >expect <<-\EXP &&
	{"kind":"estimate","estimate":true,"exact_input":false,"tier":"batch","models":[{"model":"gpt-4.1-mini","requests":1,"input_tokens":1607,"output_tokens":100,"cache_write_tokens":0,"cache_read_tokens":0,"cache_write_1h_tokens":0,"batch_usd":0.000401,"standard_usd":0.000803,"saving_usd":0.000401,"input_usd":0.000321,"upper_bound_usd":0.000401},{"model":"text-embedding-3-small","requests":2,"input_tokens":7,"output_tokens":0,"cache_write_tokens":0,"cache_read_tokens":0,"cache_write_1h_tokens":0,"batch_usd":0.000000,"standard_usd":0.000000,"saving_usd":0.000000,"input_usd":0.000000,"upper_bound_usd":0.000000}],"total":{"requests":3,"input_tokens":1614,"output_tokens":100,"cache_write_tokens":0,"cache_read_tokens":0,"cache_write_1h_tokens":0,"batch_usd":0.000401,"standard_usd":0.000803,"saving_usd":0.000401,"input_usd":0.000321,"upper_bound_usd":0.000401}}
	EXP
	test_cmp expect actual &&
	echo "{\"custom_id\":\"d\",\"method\":\"POST\",\"url\":\"/v1/chat/completions\",\"body\":{\"model\":\"gpt-4o\",\"messages\":[]}}" >nomax.jsonl &&
	test_expect_code 2 bt-cost nomax.jsonl >out 2>err &&
	echo "bt-cost: nomax.jsonl:1: body.max_completion_tokens: none, so nothing bounds the output (give bt-format --max-tokens N)" >expect &&
	test_cmp expect err &&
	test_expect_code 2 env ANTHROPIC_API_KEY=sk-test bt-cost --exact oreq.jsonl >out 2>err &&
	echo "bt-cost: oreq.jsonl:1: --exact counts the input of Anthropic requests with its API; OpenAI has no such count: leave --exact out" >expect &&
	test_cmp expect err
'

test_done
