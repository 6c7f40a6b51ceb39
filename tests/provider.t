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

test_expect_success 'bt-wait --summary --offline: a batch of either provider in bt terms, asking nothing' '
	cat >anth.jsonl <<-\EOF &&
	{"id":"msgbatch_01abc","type":"message_batch","processing_status":"ended","request_counts":{"processing":0,"succeeded":3,"errored":1,"canceled":0,"expired":2},"created_at":"2026-01-02T03:04:05.5Z","expires_at":"2026-01-03T03:04:05.5Z","ended_at":null,"archived_at":null,"cancel_initiated_at":null,"results_url":null}
	EOF
	cat >oai.jsonl <<-\EOF &&
	{"id":"batch_01abc","object":"batch","status":"expired","request_counts":{"total":6,"completed":3,"failed":1},"created_at":1767322245,"expires_at":1767408645}
	{"id":"batch_01def","object":"batch","status":"in_progress","request_counts":{"total":6,"completed":0,"failed":0},"created_at":1767322245,"expires_at":1767408645}
	EOF
	env -u ANTHROPIC_API_KEY bt-wait --summary --offline <anth.jsonl >actual &&
	echo "{\"id\":\"msgbatch_01abc\",\"provider\":\"anthropic\",\"state\":\"ended\",\"counts\":{\"processing\":0,\"succeeded\":3,\"errored\":1,\"canceled\":0,\"expired\":2},\"created_at\":\"2026-01-02T03:04:05.5Z\",\"expires_at\":\"2026-01-03T03:04:05.5Z\"}" >expect &&
	test_cmp expect actual &&
	env -u ANTHROPIC_API_KEY bt-wait --summary --offline <oai.jsonl | jq -c "[.provider, .state, .counts, .created_at]" >actual &&
	cat >expect <<-\EOF &&
	["openai","ended",{"processing":0,"succeeded":3,"errored":1,"canceled":0,"expired":2},"2026-01-02T02:50:45.000000Z"]
	["openai","in_progress",{"processing":6,"succeeded":0,"errored":0,"canceled":0,"expired":0},"2026-01-02T02:50:45.000000Z"]
	EOF
	test_cmp expect actual &&
	test_expect_code 1 bt-wait --summary --offline batch_01abc >out 2>err &&
	echo "bt-wait: argument 1: batch_01abc: a bare id: --offline summarizes batch objects only" >expect &&
	test_cmp expect err &&
	test_expect_code 2 bt-wait --offline <oai.jsonl 2>err &&
	echo "bt-wait: --offline goes with --summary" >expect && test_cmp expect err
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
