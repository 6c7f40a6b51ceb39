#!/bin/sh
# bt-send on OpenAI's synchronous endpoints (bt-mock's OpenAI side):
# chat completions and embeddings, written as OpenAI's output lines (a
# "sync_req_" id: the standard price); a 429 waited out, a 400 written as
# it came and not retried; pacing by x-ratelimit-* headers; one provider a
# stream; the key never shown; bt-run's synchronous tail on OpenAI.
. "${0%/*}/lib.sh"
. "$TESTS/openai-lib.sh"

mock_start --key "$KEY" $MODELS
schema_serve || exit 1
OPENAI_API_KEY=$KEY OPENAI_BASE_URL=$MOCK_URL/v1
export OPENAI_API_KEY OPENAI_BASE_URL

for i in 1 2 3 4 5; do
	printf '{"id":"r%d","text":"ticket %d"}\n' $i $i
done >recs.jsonl

test_expect_success 'chat: each record its own answer, as OpenAI output lines priced at the standard rate' '
	bt-format --provider openai -m gpt-4.1-mini --max-tokens 20 --id .id -p .text recs.jsonl >req.jsonl &&
	bt-send req.jsonl >res.jsonl 2>err &&
	test_must_be_empty err &&
	ocheck BatchRequestOutput res.jsonl &&
	jq -c ".response.body" res.jsonl | ocheck CreateChatCompletionResponse &&
	jq -r "[.custom_id, (.id | startswith(\"sync_req_\")), .response.status_code, .response.body.choices[0].message.content, .error] | @tsv" res.jsonl | sort >actual &&
	for i in 1 2 3 4 5; do printf "r%s\ttrue\t200\tticket %s\t\n" $i $i; done >expect &&
	test_cmp expect actual &&
	bt-join --id .id recs.jsonl <res.jsonl | jq -c "[.id, .response, .status]" >actual &&
	for i in 1 2 3 4 5; do echo "[\"r$i\",\"ticket $i\",\"succeeded\"]"; done >expect &&
	test_cmp expect actual &&
	bt-cost <res.jsonl | jq -r ".models[0] | [.model, .tier, .requests] | @tsv" >actual &&
	printf "gpt-4.1-mini\tstandard\t5\n" >expect && test_cmp expect actual &&
	! grep -q "$KEY" res.jsonl err
'

test_expect_success 'embeddings: each record its vector' '
	bt-format --provider openai --embed -m text-embedding-3-small --id .id -p .text recs.jsonl |
		bt-send >emb.jsonl &&
	ocheck BatchRequestOutput emb.jsonl &&
	jq -c ".response.body" emb.jsonl | ocheck CreateEmbeddingResponse &&
	bt-join --id .id recs.jsonl <emb.jsonl | jq -r "[.id, .status, (.response | type)] | @tsv" >actual &&
	for i in 1 2 3 4 5; do printf "r%s\tsucceeded\tarray\n" $i; done >expect &&
	test_cmp expect actual
'

test_expect_success 'a 429 with retry-after is waited out; a 400 is written as it came, not retried' '
	head -n 2 req.jsonl >two.jsonl &&
	before=$(mock_stat http) &&
	mock_fault "chat:429:1*1" &&
	bt-send -c 1 two.jsonl >res.jsonl 2>err &&
	test "$(jq -r .response.status_code res.jsonl | sort -u)" = 200 &&
	test $(($(mock_stat http) - before)) -eq 3 &&
	mock_fault "chat:400*1" &&
	before=$(mock_stat http) &&
	bt-send -c 1 two.jsonl >res.jsonl 2>err &&
	test $(($(mock_stat http) - before)) -eq 2 &&
	jq -r "[.custom_id, .response.status_code, .response.body.error.type] | @tsv" res.jsonl >actual &&
	printf "r1\t400\tinvalid_request_error\nr2\t200\t\n" >expect &&
	test_cmp expect actual &&
	ocheck BatchRequestOutput res.jsonl &&
	bt-retry two.jsonl <res.jsonl >again.jsonl 2>/dev/null &&
	test_must_be_empty again.jsonl
'

test_expect_success 'a connection that drops until the retries run out: an error line that bt-retry sends again' '
	mock_fault "chat:drop*0" &&
	BT_RETRY_BUDGET=1 bt-send -c 1 --attempt-timeout 5 two.jsonl >res.jsonl 2>err &&
	curl -sS -X DELETE "$MOCK_URL/_mock/faults" &&
	jq -r "[.custom_id, .response, .error.code] | @tsv" res.jsonl | sort >actual &&
	printf "r1\t\tapi_error\nr2\t\tapi_error\n" >expect &&
	test_cmp expect actual &&
	ocheck BatchRequestOutput res.jsonl &&
	bt-retry two.jsonl <res.jsonl 2>/dev/null | jq -r .custom_id >actual &&
	printf "r1\nr2\n" >expect && test_cmp expect actual
'

test_expect_success 'one provider a stream; against BT_PROVIDER, exit 2 naming the line' '
	{ head -n 1 req.jsonl; echo "{\"custom_id\":\"x\",\"params\":{\"model\":\"m\",\"max_tokens\":5,\"messages\":[]}}"; } >mix.jsonl &&
	test_expect_code 2 bt-send mix.jsonl >out 2>err &&
	echo "bt-send: mix.jsonl:2: an Anthropic request, after OpenAI ones: one provider a stream" >expect &&
	test_cmp expect err && test_must_be_empty out &&
	test_expect_code 2 env BT_PROVIDER=anthropic bt-send req.jsonl >out 2>err &&
	echo "bt-send: req.jsonl:1: an OpenAI request, but BT_PROVIDER says anthropic" >expect &&
	test_cmp expect err
'

mock_stop
mock_start --key "$KEY" --rpm 60 $MODELS
OPENAI_BASE_URL=$MOCK_URL/v1

test_expect_success 'paced by x-ratelimit-* headers: the server.s 60 a minute learnt, no 429 provoked' '
	awk "BEGIN { for (i = 1; i <= 4; i++) printf \"{\\\"id\\\":\\\"p%d\\\",\\\"text\\\":\\\"x\\\"}\\n\", i }" >p.jsonl &&
	bt-format --provider openai -m gpt-4.1-mini --max-tokens 5 --id .id -p .text p.jsonl >preq.jsonl &&
	curl -sS -D hdrs -o /dev/null -H "Authorization: Bearer $KEY" -H "Content-Type: application/json" \
		-d "$(head -n 1 preq.jsonl | jq -c .body)" "$MOCK_URL/v1/chat/completions" &&
	grep -qi "^x-ratelimit-limit-requests: 60" hdrs &&
	bt-send -c 4 preq.jsonl >res.jsonl 2>err &&
	test "$(jq -r .response.status_code res.jsonl | sort -u)" = 200 &&
	test_must_fail grep -q "429" err
'

mock_stop
mock_start --processing-time 0.3 --key "$KEY" $MODELS
OPENAI_BASE_URL=$MOCK_URL/v1

test_expect_success 'bt-run --provider openai: a job under --sync-below goes through bt-send, as do its retries' '
	bt-run --provider openai -w w -m gpt-4.1-mini --id .id -p .text recs.jsonl >out.jsonl 2>err &&
	test_grep "below --sync-below 20: sent synchronously at the standard price" err &&
	jq -c "[.id, .response, .status]" out.jsonl >actual &&
	for i in 1 2 3 4 5; do echo "[\"r$i\",\"ticket $i\",\"succeeded\"]"; done >expect &&
	test_cmp expect actual
'

test_done
