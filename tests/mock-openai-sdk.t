#!/bin/sh
# bt-mock's OpenAI side driven by the reference client, the official
# openai npm package (tests/npm/sdk-check.mjs): files.create, retrieve,
# content and delete; batches.create, retrieve, list (auto-pagination) and
# cancel; chat.completions.create; embeddings.create (the SDK asks for
# base64 and decodes it).  What the SDK returns is checked against
# tests/api/openai-openapi-subset.json.  The package comes from the npm
# registry by tests/npm/package-lock.json (make npm-deps); without node or
# the package, every test here is skipped, saying why.
. "${0%/*}/lib.sh"
. "$TESTS/openai-lib.sh"

if ! command -v node >/dev/null; then
	test_skip 'the openai SDK against bt-mock' 'no node: install Node.js 18 or later'
	test_done
fi
if ! (cd "$TESTS/npm" && node -e 'import("openai").catch(() => process.exit(1))') 2>/dev/null; then
	test_skip 'the openai SDK against bt-mock' 'no openai package in tests/npm/node_modules: make npm-deps'
	test_done
fi

# batches of 2 s: the one canceled right after its create is still running
# however slow the machine
mock_start --processing-time 2 --cancel-time 0.2 --key "$KEY" $MODELS
schema_serve || exit 1

# sdk NAME: the value of that step
sdk() {
	jq -c "select(.[0] == \"$1\") | .[1]" steps
}

test_expect_success 'the SDK runs its steps against bt-mock' '
	{ line s1 "first ticket"; line s2 "second ticket"; line s3 "third" "$fmt"; } >in.jsonl &&
	OPENAI_BASE_URL=$MOCK_URL/v1 OPENAI_API_KEY=$KEY node "$TESTS/npm/sdk-check.mjs" in.jsonl >steps &&
	jq -r ".[0]" steps | uniq >names &&
	printf "%s\n" file file-retrieved created ended output more listed cancelling cancelled chat embeddings not-found deleted >expect &&
	test_cmp expect names
'

test_expect_success 'files: create and retrieve give the same OpenAIFile; delete a DeleteFileResponse' '
	sdk file >file.json && sdk file-retrieved >again.json &&
	test_cmp file.json again.json &&
	test "$(jq -c "[.purpose, .bytes, .filename]" file.json)" = "[\"batch\",$(wc -c <in.jsonl),\"in.jsonl\"]" &&
	ocheck OpenAIFile file.json &&
	sdk deleted >deleted.json &&
	test "$(jq -c "[.id, .deleted]" deleted.json)" = "[$(jq -c .id file.json),true]" &&
	ocheck DeleteFileResponse deleted.json
'

test_expect_success 'batches: created validating, ended completed; the content the SDK read is the output file' '
	sdk created >created.json && sdk ended >ended.json &&
	test "$(jq -c "[.status, .metadata]" created.json)" = "[\"validating\",{\"tag\":\"sdk\"}]" &&
	test "$(jq -c "[.status, .request_counts]" ended.json)" = "[\"completed\",{\"total\":3,\"completed\":3,\"failed\":0}]" &&
	ocheck Batch created.json ended.json &&
	sdk output | jq -r . | sed "/^$/d" >output.jsonl &&
	ocheck BatchRequestOutput output.jsonl &&
	jq -r .custom_id output.jsonl | sort >actual &&
	printf "%s\n" s1 s2 s3 >expect &&
	test_cmp expect actual &&
	jq -c "select(.custom_id == \"s3\") | .response.body.choices[0].message.content" output.jsonl >answers &&
	echo "$schema" >schema.json &&
	valid schema.json answers
'

test_expect_success 'list: the SDK pages through every batch, newest first, by after' '
	sdk listed >listed.json &&
	{ sdk created; sdk more; } | jq -r .id | tac | jq -R . | jq -sc . >expect &&
	test_cmp expect listed.json
'

test_expect_success 'cancel: cancelling, then cancelled' '
	sdk cancelling >c1.json && sdk cancelled >c2.json &&
	test "$(jq -c "[.status, (.cancelling_at != null)]" c1.json)" = "[\"cancelling\",true]" &&
	test "$(jq -r .status c2.json)" = cancelled &&
	ocheck Batch c1.json c2.json
'

test_expect_success 'chat and embeddings: the SDK takes the answers; vectors decoded from base64 are the same for the same text' '
	sdk chat >chat.json &&
	test "$(jq -r ".choices[0].message.content" chat.json)" = "hello from the sdk" &&
	ocheck CreateChatCompletionResponse chat.json &&
	sdk embeddings >emb.json &&
	ocheck CreateEmbeddingResponse emb.json &&
	test "$(jq -c "[(.data[0].embedding | length), .data[0].embedding == .data[2].embedding, .data[0].embedding == .data[1].embedding]" emb.json)" = "[8,true,false]" &&
	oapi POST /embeddings -d "{\"model\":\"text-embedding-3-small\",\"input\":\"a cat\"}" | jq -c ".data[0].embedding | map(. * 1e6 | round)" >float &&
	jq -c ".data[0].embedding | map(. * 1e6 | round)" emb.json >decoded &&
	test_cmp float decoded
'

test_expect_success 'an unknown batch: the SDK throws its NotFoundError' '
	sdk not-found >nf.json &&
	echo "{\"class\":\"NotFoundError\",\"status\":404,\"type\":\"invalid_request_error\"}" >expect &&
	test_cmp expect nf.json
'

test_done
