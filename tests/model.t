#!/bin/sh
# An unknown model: bt-format asks whether it is a typo, bt-mock answers
# not_found_error as the API does (issue 18 §2).
. "${0%/*}/lib.sh"

echo '{"t":"hi"}' >rec.jsonl
# a request line for model $1
req() { printf '{"custom_id":"%s","params":{"model":"%s","max_tokens":10,"messages":[{"role":"user","content":"hi"}]}}\n' "$1" "$2"; }

test_expect_success 'bt-format: a model bt-cost has no price for is said once, exit 0' '
	printf "{\"t\":\"a\"}\n{\"t\":\"b\"}\n" >two.jsonl &&
	bt-format -m claude-haiku-4.5 -p .t two.jsonl >out 2>err &&
	echo "bt-format: unknown model claude-haiku-4.5: a typo? (bt-cost has no price for it)" >expect &&
	test_cmp expect err &&
	test_lines 2 out &&
	jq -r .params.model out >models &&
	printf "claude-haiku-4.5\nclaude-haiku-4.5\n" >expect &&
	test_cmp expect models
'

test_expect_success 'bt-format: a known model, dated or not, or one BT_PRICES names: no word' '
	bt-format -m claude-haiku-4-5 -p .t rec.jsonl >/dev/null 2>err &&
	test_must_be_empty err &&
	bt-format -m claude-haiku-4-5-20251001 -p .t rec.jsonl >/dev/null 2>err &&
	test_must_be_empty err &&
	BT_PRICES="{\"my-model\":{\"input\":1,\"output\":2}}" bt-format -m my-model -p .t rec.jsonl >/dev/null 2>err &&
	test_must_be_empty err
'

mock_start --model my-model

test_expect_success 'bt-mock: POST /v1/messages with an unknown model is 404 not_found_error' '
	req x claude-haiku-4.5 | jq -c .params >body.json &&
	api POST /v1/messages -o body -w "%{http_code}\n" --data-binary @body.json >code &&
	echo 404 >expect && test_cmp expect code &&
	{ mask body; echo; } >actual &&
	echo "{\"type\":\"error\",\"error\":{\"type\":\"not_found_error\",\"message\":\"model: claude-haiku-4.5\"},\"request_id\":\"req_X\"}" >expect &&
	test_cmp expect actual &&
	jq -c "{model, messages}" body.json >count.json &&
	api POST /v1/messages/count_tokens -o body -w "%{http_code}\n" --data-binary @count.json >code &&
	echo 404 >expect && test_cmp expect code &&
	jq -r .error.type body >actual &&
	echo not_found_error >expect && test_cmp expect actual
'

test_expect_success 'bt-mock: in a batch, that request is errored not_found_error, the others answered' '
	{ req a claude-haiku-4-5; req b claude-haiku-4.5; req c my-model; req d m; } >reqs.jsonl &&
	run_batch reqs.jsonl &&
	jq -r "[.custom_id, .result.type, .result.error.error.type // \"-\", .result.error.error.message // \"-\"] | join(\" \")" results | sort >actual &&
	cat >expect <<-\EOF_ &&
	a succeeded - -
	b errored not_found_error model: claude-haiku-4.5
	c succeeded - -
	d succeeded - -
	EOF_
	test_cmp expect actual &&
	jq -c "select(.custom_id == \"b\") | .result.error | del(.request_id)" results >actual &&
	echo "{\"type\":\"error\",\"error\":{\"type\":\"not_found_error\",\"message\":\"model: claude-haiku-4.5\"}}" >expect &&
	test_cmp expect actual
'

test_expect_success 'bt-mock --model: an empty name is a usage error' '
	test_expect_code 2 bt-mock --model "" 2>err &&
	echo "bt-mock: --model: an empty name" >expect &&
	test_cmp expect err
'

mock_stop
test_done
