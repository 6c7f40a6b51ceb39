#!/bin/sh
# bt-format --provider openai: /v1/chat/completions lines, and --embed's
# /v1/embeddings lines, byte for byte and valid by OpenAI's own schemas;
# the options that mean nothing to OpenAI, or to embeddings, refused.
. "${0%/*}/lib.sh"
unset BT_PROVIDER

python3 - <<\PY || exit 1
import struct, zlib
def chunk(t, d):
    return struct.pack('>I', len(d)) + t + d + struct.pack('>I', zlib.crc32(t + d) & 0xffffffff)
raw = b''.join(b'\x00' + b'\x00' * 30 * 3 for _ in range(20))
open('a.png', 'wb').write(b'\x89PNG\r\n\x1a\n' + chunk(b'IHDR', struct.pack('>IIBBBBB', 30, 20, 8, 2, 0, 0, 0)) +
    chunk(b'IDAT', zlib.compress(raw)) + chunk(b'IEND', b''))
open('a.pdf', 'wb').write(b'%PDF-1.4\n1 0 obj <</Type /Catalog /Pages 2 0 R>> endobj\n'
    b'2 0 obj <</Type /Pages /Kids [3 0 R] /Count 1>> endobj\n3 0 obj <</Type /Page>> endobj\n%%EOF\n')
PY
b64() { base64 -w0 "$1"; }
echo "{\"t\":\"Ann, 31\"}" >one.jsonl
ID=1-e2971fc4
CHAT="{\"custom_id\":\"$ID\",\"method\":\"POST\",\"url\":\"/v1/chat/completions\",\"body\":"
USER="{\"role\":\"user\",\"content\":\"Ann, 31\"}"
cat >person.json <<\EOF_
{"type": "object", "properties": {"name": {"type": "string"}, "age": {"type": "integer"}},
 "required": ["name", "age"], "additionalProperties": false}
EOF_
S='{"type":"object","properties":{"name":{"type":"string"},"age":{"type":"integer"}},"required":["name","age"],"additionalProperties":false}'

# valid SCHEMA FILE: each line's body is valid by OpenAI's SCHEMA, and the
# line a BatchRequestInput
valid() {
	jq -c .body "$2" >"$2.body" &&
	"$TESTS/schema-check.py" --spec "$TESTS/api/openai-openapi-subset.json" "$1" "$2.body" &&
	"$TESTS/schema-check.py" --spec "$TESTS/api/openai-openapi-subset.json" BatchRequestInput "$2"
}

test_expect_success 'a prompt: a chat line, byte for byte; no max_completion_tokens unless asked' '
	echo "$CHAT{\"model\":\"m\",\"messages\":[$USER]}}" >expect &&
	bt-format --provider openai -m m -p .t one.jsonl >actual 2>err &&
	test_cmp expect actual &&
	test_must_be_empty err &&
	valid CreateChatCompletionRequest actual
'

test_expect_success '-s a system message first; --max-tokens max_completion_tokens; --temperature up to 2' '
	echo "$CHAT{\"model\":\"m\",\"max_completion_tokens\":50,\"temperature\":1.5,\"messages\":[{\"role\":\"system\",\"content\":\"Be brief.\"},$USER]}}" >expect &&
	bt-format --provider openai -m m -s "Be brief." --max-tokens 50 --temperature 1.5 -p .t one.jsonl >actual &&
	test_cmp expect actual &&
	valid CreateChatCompletionRequest actual &&
	echo "Be brief." >sys.txt &&
	bt-format --provider openai -m m --system-file sys.txt --max-tokens 50 --temperature 1.5 -p .t one.jsonl >actual &&
	test_cmp expect actual &&
	test_expect_code 2 bt-format --provider openai -m m --temperature 2.5 -p .t one.jsonl 2>err &&
	test_grep "temperature: 2.5 is out of range" err
'

test_expect_success '--schema: response_format json_schema, strict, named after the file' '
	echo "$CHAT{\"model\":\"m\",\"response_format\":{\"type\":\"json_schema\",\"json_schema\":{\"name\":\"person\",\"schema\":$S,\"strict\":true}},\"messages\":[$USER]}}" >expect &&
	bt-format --provider openai -m m -p .t --schema person.json one.jsonl >actual 2>err &&
	test_cmp expect actual &&
	test_must_be_empty err &&
	valid CreateChatCompletionRequest actual &&
	cp person.json "my person.json" &&
	bt-format --provider openai -m m -p .t --schema "my person.json" one.jsonl >actual &&
	jq -r .body.response_format.json_schema.name actual >name &&
	echo answer >expect &&
	test_cmp expect name
'

test_expect_success '--schema unfit for strict mode: strict false, said once on stderr' '
	echo "{\"type\":\"object\",\"properties\":{\"a\":{\"type\":\"string\"}}}" >top.json &&
	bt-format --provider openai -m m -p .t --schema top.json one.jsonl >actual 2>err &&
	echo "bt-format: --schema: top.json: not fit for strict mode (the top object has no \"additionalProperties\": false): sent with strict false, so answers may not follow it" >expect &&
	test_cmp expect err &&
	echo "{\"type\":\"object\",\"properties\":{\"a\":{\"type\":\"object\",\"properties\":{\"b\":{\"type\":\"string\"}},\"additionalProperties\":false}},\"required\":[\"a\"],\"additionalProperties\":false}" >loose.json &&
	{ cat one.jsonl && cat one.jsonl; } >two.jsonl &&
	bt-format --provider openai -m m -p .t --schema loose.json two.jsonl >actual 2>err &&
	echo "bt-format: --schema: loose.json: not fit for strict mode (properties.a does not require \"b\"): sent with strict false, so answers may not follow it" >expect &&
	test_cmp expect err &&
	jq -c .body.response_format.json_schema.strict actual >strict &&
	printf "false\nfalse\n" >expect &&
	test_cmp expect strict &&
	valid CreateChatCompletionRequest actual
'

test_expect_success '--tool NAME: a forced function whose parameters are the schema' '
	echo "$CHAT{\"model\":\"m\",\"tools\":[{\"type\":\"function\",\"function\":{\"name\":\"person\",\"description\":\"Record the answer: its input is the answer, as the schema says.\",\"parameters\":$S,\"strict\":true}}],\"tool_choice\":{\"type\":\"function\",\"function\":{\"name\":\"person\"}},\"messages\":[$USER]}}" >expect &&
	bt-format --provider openai -m m -p .t --schema person.json --tool person one.jsonl >actual &&
	test_cmp expect actual &&
	valid CreateChatCompletionRequest actual
'

test_expect_success '--image: an image_url part with a data: URL, or the URL given' '
	echo "{\"t\":\"describe\",\"i\":[\"a.png\",\"https://example.com/b.jpg\"]}" >img.jsonl &&
	echo "{\"custom_id\":\"1-75c44bdd\",\"method\":\"POST\",\"url\":\"/v1/chat/completions\",\"body\":{\"model\":\"m\",\"messages\":[{\"role\":\"user\",\"content\":[{\"type\":\"image_url\",\"image_url\":{\"url\":\"data:image/png;base64,$(b64 a.png)\"}},{\"type\":\"image_url\",\"image_url\":{\"url\":\"https://example.com/b.jpg\"}},{\"type\":\"text\",\"text\":\"describe\"}]}]}}" >expect &&
	bt-format --provider openai -m m -p .t --image .i img.jsonl >actual &&
	test_cmp expect actual &&
	valid CreateChatCompletionRequest actual
'

test_expect_success '--document: a file part with the PDF as file_data; a URL is refused' '
	echo "{\"t\":\"sum up\",\"d\":\"a.pdf\"}" >doc.jsonl &&
	bt-format --provider openai -m m -p .t --document .d doc.jsonl >actual &&
	jq -c .body.messages[0].content actual >content &&
	echo "[{\"type\":\"file\",\"file\":{\"filename\":\"a.pdf\",\"file_data\":\"data:application/pdf;base64,$(b64 a.pdf)\"}},{\"type\":\"text\",\"text\":\"sum up\"}]" >expect &&
	test_cmp expect content &&
	valid CreateChatCompletionRequest actual &&
	echo "{\"t\":\"sum up\",\"d\":\"https://example.com/a.pdf\"}" >url.jsonl &&
	test_expect_code 2 bt-format --provider openai -m m -p .t --document .d url.jsonl >out 2>err &&
	test_must_be_empty out &&
	echo "bt-format: url.jsonl:1: --document: https://example.com/a.pdf: OpenAI takes a PDF as file data, not by URL" >expect &&
	test_cmp expect err
'

test_expect_success '--params has the last word; $params is the body the options built' '
	bt-format --provider openai -m m -s Sys -p .t --params "\$params | .seed = 7 | .messages[0].content = \"S2\"" one.jsonl >actual &&
	echo "$CHAT{\"model\":\"m\",\"messages\":[{\"role\":\"system\",\"content\":\"S2\"},$USER],\"seed\":7}}" >expect &&
	test_cmp expect actual &&
	valid CreateChatCompletionRequest actual &&
	test_expect_code 2 bt-format --provider openai -m m -p .t --params "\$params | del(.messages)" one.jsonl >out 2>err &&
	echo "bt-format: one.jsonl:1: body: no messages (a non-empty array)" >expect &&
	test_cmp expect err &&
	test_must_be_empty out
'

test_expect_success '--embed: an embeddings line, the prompt as input; --params adds to it' '
	echo "{\"custom_id\":\"$ID\",\"method\":\"POST\",\"url\":\"/v1/embeddings\",\"body\":{\"model\":\"m\",\"input\":\"Ann, 31\"}}" >expect &&
	bt-format --provider openai --embed -m m -p .t one.jsonl >actual &&
	test_cmp expect actual &&
	valid CreateEmbeddingRequest actual &&
	bt-format --provider openai --embed -m m -p .t --params "\$params | .dimensions = 8" one.jsonl >actual &&
	jq -c .body actual >body &&
	echo "{\"model\":\"m\",\"input\":\"Ann, 31\",\"dimensions\":8}" >expect &&
	test_cmp expect body &&
	valid CreateEmbeddingRequest actual
'

test_expect_success '--embed: a prompt that is not a string is a bad record' '
	echo "{\"t\":[{\"type\":\"text\",\"text\":\"x\"}]}" >arr.jsonl &&
	test_expect_code 2 bt-format --provider openai --embed -m m -p .t arr.jsonl >out 2>err &&
	echo "bt-format: arr.jsonl:1: -p: --embed takes the text to embed, a string" >expect &&
	test_cmp expect err &&
	test_must_be_empty out
'

# refused MESSAGE ARGS...: bt-format ARGS exits 2 with MESSAGE, writing nothing
refused() {
	_m=$1 && shift &&
	test_expect_code 2 bt-format "$@" one.jsonl >out 2>err &&
	test_must_be_empty out &&
	echo "bt-format: $_m" >expect &&
	test_cmp expect err
}

test_expect_success 'cache marks mean nothing to OpenAI: exit 2 saying so' '
	m="OpenAI has no cache marks (it caches a repeated prompt prefix by itself)" &&
	refused "--cache-system: $m" --provider openai -m m -s S --cache-system -p .t &&
	refused "--cache-tools: $m" --provider openai -m m --schema person.json --tool p --cache-tools -p .t &&
	refused "--cache-attachments: $m" --provider openai -m m --image .i --cache-attachments -p .t &&
	refused "--cache-ttl: $m" --provider openai -m m --cache-ttl 1h -p .t
'

test_expect_success '--embed: Anthropic has none; and options an embeddings body cannot take' '
	refused "--embed: Anthropic has no embeddings (give --provider openai)" --embed -m m -p .t &&
	m="an embeddings request (--embed) has only a model and input" &&
	refused "-s: $m" --provider openai --embed -m m -s S -p .t &&
	refused "--system-file: $m" --provider openai --embed -m m --system-file one.jsonl -p .t &&
	refused "--max-tokens: $m" --provider openai --embed -m m --max-tokens 5 -p .t &&
	refused "--temperature: $m" --provider openai --embed -m m --temperature 0.5 -p .t &&
	refused "--schema: $m" --provider openai --embed -m m --schema person.json -p .t &&
	refused "--image: $m" --provider openai --embed -m m --image .i -p .t &&
	refused "--document: $m" --provider openai --embed -m m --document .d -p .t
'

test_expect_success 'BT_PROVIDER chooses when --provider is not given; --provider wins' '
	BT_PROVIDER=openai bt-format -m m -p .t one.jsonl >actual &&
	echo "$CHAT{\"model\":\"m\",\"messages\":[$USER]}}" >expect &&
	test_cmp expect actual &&
	BT_PROVIDER=openai bt-format --provider anthropic -m m -p .t one.jsonl >actual &&
	bt-format -m m -p .t one.jsonl >expect &&
	test_cmp expect actual &&
	BT_PROVIDER= bt-format -m m -p .t one.jsonl >actual &&
	test_cmp expect actual &&
	jq -c "keys" actual >keys &&
	echo "[\"custom_id\",\"params\"]" >expect &&
	test_cmp expect keys
'

test_expect_success 'an unknown provider, by option or environment: exit 2 naming it' '
	refused "--provider: unknown provider \"gemini\": give anthropic or openai" --provider gemini -m m -p .t &&
	BT_PROVIDER=OpenAI test_expect_code 2 bt-format -m m -p .t one.jsonl >out 2>err &&
	test_must_be_empty out &&
	echo "bt-format: BT_PROVIDER: unknown provider \"OpenAI\": give anthropic or openai" >expect &&
	test_cmp expect err
'

test_expect_success 'a model with no price is still said (not refused)' '
	bt-format --provider openai -m no-such-model -p .t one.jsonl >out 2>err &&
	echo "bt-format: unknown model no-such-model: a typo? (bt-cost has no price for it)" >expect &&
	test_cmp expect err &&
	test_lines 1 out
'

test_expect_success 'bt-format --provider openai | bt-split: one chunk, the lines as they were' '
	perl -e "printf qq({\"id\":\"r%d\",\"t\":\"text %d\"}\n), \$_, \$_ for 1..20" >recs.jsonl &&
	bt-format --provider openai --embed -m m --id .id -p .t recs.jsonl >reqs.jsonl &&
	bt-split reqs.jsonl >chunks &&
	echo chunk.0001.jsonl >expect &&
	test_cmp expect chunks &&
	test_cmp reqs.jsonl chunk.0001.jsonl &&
	valid CreateEmbeddingRequest reqs.jsonl
'

test_done
