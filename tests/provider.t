#!/bin/sh
# The provider seam (bt.7, PROVIDERS): BT_PROVIDER chooses the table;
# only anthropic is built; no program names a provider's path or field.
. "${0%/*}/lib.sh"

mock_start --processing-time 0.2 || exit 1

api POST /v1/messages/batches -f --data-binary \
	'{"requests":[{"custom_id":"a","params":{"model":"m","max_tokens":5,"messages":[{"role":"user","content":"hi"}]}}]}' >made || exit 1

test_expect_success 'BT_PROVIDER=anthropic is the default: the same batches, the same bytes' '
	wait_for mock_ended "$(jq -r .id made)" &&
	bt-list >default &&
	BT_PROVIDER=anthropic bt-list >named &&
	test_cmp default named &&
	jq -r .id default >ids && jq -r .id made >expect && test_cmp expect ids
'

test_expect_success 'BT_PROVIDER=openai wants OPENAI_API_KEY: without it, exit 2, nothing sent' '
	before=$(mock_stat http) &&
	test_expect_code 2 env BT_PROVIDER=openai bt-list >out 2>err &&
	test_must_be_empty out &&
	echo "bt-list: no API key: set OPENAI_API_KEY or use --api-key-file FILE" >expect &&
	test_cmp expect err &&
	test $(mock_stat http) -eq $before
'

test_expect_success 'an Anthropic request under BT_PROVIDER=openai: exit 2 naming the line, no record, nothing sent' '
	printf "%s\n" "{\"custom_id\":\"a\",\"params\":{\"model\":\"m\",\"max_tokens\":5,\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}]}}" >req &&
	before=$(mock_stat http) &&
	test_expect_code 2 env BT_PROVIDER=openai OPENAI_API_KEY=k BT_STATE_DIR=st bt-submit <req >out 2>err &&
	test_must_be_empty out &&
	echo "bt-submit: stdin:1: an Anthropic request, but BT_PROVIDER says openai" >expect &&
	test_cmp expect err &&
	test_must_fail ls st/journal/*.json 2>/dev/null &&
	test $(mock_stat http) -eq $before
'

test_expect_success 'BT_PROVIDER names no provider: exit 2, said' '
	test_expect_code 2 env BT_PROVIDER=bogus bt-wait --once "$(jq -r .id made)" >out 2>err &&
	test_must_be_empty out &&
	echo "bt-wait: BT_PROVIDER: unknown provider \"bogus\": give anthropic or openai" >expect &&
	test_cmp expect err
'

test_expect_success 'no C program names a provider path or field: they are in lib/provider.c' '
	test_expect_code 1 grep -n -e "/v1/" -e processing_status -e request_counts \
		-e results_url -e x-api-key -e anthropic-version "$BT_ROOT"/bin/*.c >named &&
	test_must_be_empty named
'

test_done
