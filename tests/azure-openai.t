#!/bin/sh
# Azure OpenAI: the OpenAI provider at another address (bt-mock serves
# OpenAI's paths under /openai too, as Azure does, with its api-key header
# and api-version parameter): AZURE_OPENAI_ENDPOINT, AZURE_OPENAI_API_KEY
# and OPENAI_API_VERSION, the batch pipeline and bt-send (under
# /openai/deployments/MODEL).
. "${0%/*}/lib.sh"
. "$TESTS/openai-lib.sh"

mock_start --processing-time 0.3 --key "$KEY" $MODELS
unset OPENAI_API_KEY OPENAI_BASE_URL
AZURE_OPENAI_ENDPOINT=$MOCK_URL AZURE_OPENAI_API_KEY=$KEY
export AZURE_OPENAI_ENDPOINT AZURE_OPENAI_API_KEY

for i in 1 2 3; do
	printf '{"id":"r%d","text":"ticket %d"}\n' $i $i
done >recs.jsonl

test_expect_success 'the batch pipeline on Azure: api-key, api-version, /openai paths; each record its own answer' '
	bt-format --provider openai -m gpt-4.1-mini --id .id -p .text recs.jsonl |
		bt-split | bt-submit | bt-wait | bt-fetch >res.jsonl 2>err &&
	test_must_be_empty err &&
	bt-join --id .id recs.jsonl <res.jsonl | jq -c "[.id, .response, .status]" >actual &&
	for i in 1 2 3; do echo "[\"r$i\",\"ticket $i\",\"succeeded\"]"; done >expect &&
	test_cmp expect actual &&
	BT_PROVIDER=openai bt-wait --endpoint | jq -r .base_url >actual &&
	echo "$MOCK_URL/openai" >expect && test_cmp expect actual
'

test_expect_success 'bt-send on Azure: under /openai/deployments/MODEL' '
	bt-format --provider openai -m gpt-4.1-mini --id .id -p .text recs.jsonl | bt-send >sync.jsonl 2>err &&
	test_must_be_empty err &&
	jq -r "[.custom_id, .response.status_code, .response.body.choices[0].message.content] | @tsv" sync.jsonl | sort >actual &&
	for i in 1 2 3; do printf "r%s\t200\tticket %s\n" $i $i; done >expect &&
	test_cmp expect actual
'

test_expect_success 'the api-version and the key are what Azure needs: without them bt-mock refuses, as Azure does' '
	curl -sS -o out -w "%{http_code}" -H "api-key: $KEY" "$MOCK_URL/openai/batches" >code &&
	test "$(cat code)" = 404 &&
	curl -sS -o out -w "%{http_code}" "$MOCK_URL/openai/batches?api-version=2024-10-21" >code &&
	test "$(cat code)" = 401 &&
	OPENAI_API_VERSION=2025-03-01-preview bt-list --provider openai >list.jsonl &&
	test -s list.jsonl &&
	test_expect_code 1 env AZURE_OPENAI_API_KEY=wrong bt-list --provider openai >out 2>err &&
	test_grep "Incorrect API key provided" err &&
	! grep -q "$KEY" err out
'

test_expect_success 'without a key: AZURE_OPENAI_API_KEY is named' '
	test_expect_code 2 env -u AZURE_OPENAI_API_KEY bt-list --provider openai >out 2>err &&
	echo "bt-list: no API key: set AZURE_OPENAI_API_KEY or use --api-key-file FILE" >expect &&
	test_cmp expect err
'

test_done
