#!/bin/sh
# bt-format --schema, --tool and the cache marks: extraction requests.
. "${0%/*}/lib.sh"

echo "{\"t\":\"Ann, 31\"}" >one.jsonl
cat >person.json <<\EOF_
{
  "type": "object",
  "properties": {"name": {"type": "string"}, "age": {"type": "integer"}},
  "required": ["name", "age"]
}
EOF_
S='{"type":"object","properties":{"name":{"type":"string"},"age":{"type":"integer"}},"required":["name","age"]}'

test_expect_success '--schema: output_config.format, byte for byte' '
	echo "{\"custom_id\":\"1-e2971fc4\",\"params\":{\"model\":\"m\",\"max_tokens\":1024,\"output_config\":{\"format\":{\"type\":\"json_schema\",\"schema\":$S}},\"messages\":[{\"role\":\"user\",\"content\":\"Ann, 31\"}]}}" >expect &&
	bt-format -m m -p .t --schema person.json one.jsonl >actual &&
	test_cmp expect actual
'

test_expect_success '--tool NAME: a forced tool with the schema as its input_schema' '
	echo "{\"custom_id\":\"1-e2971fc4\",\"params\":{\"model\":\"m\",\"max_tokens\":1024,\"tools\":[{\"name\":\"person\",\"description\":\"Record the answer: its input is the answer, as the schema says.\",\"input_schema\":$S}],\"tool_choice\":{\"type\":\"tool\",\"name\":\"person\"},\"messages\":[{\"role\":\"user\",\"content\":\"Ann, 31\"}]}}" >expect &&
	bt-format -m m -p .t --schema person.json --tool person one.jsonl >actual &&
	test_cmp expect actual
'

test_expect_success '--params sees them in $params and has the last word' '
	bt-format -m m -p .t --schema person.json --params "\$params | del(.output_config) | .metadata = {user_id: \"u\"}" one.jsonl >out &&
	jq -c "[.params.output_config, .params.metadata.user_id]" out >actual &&
	echo "[null,\"u\"]" >expect &&
	test_cmp expect actual
'

test_expect_success 'a schema that is not a JSON object of type object: exit 2 naming the file, nothing written' '
	echo "[1]" >arr.json &&
	echo "{\"type\":\"array\"}" >array-type.json &&
	echo "{\"type\":" >broken.json &&
	for f in arr.json array-type.json; do
		test_expect_code 2 bt-format -m m -p .t --schema $f one.jsonl >out 2>err &&
		test_must_be_empty out &&
		echo "bt-format: --schema: $f: not a JSON schema of an object (a JSON object with \"type\":\"object\" at the top)" >expect &&
		test_cmp expect err || return 1
	done &&
	test_expect_code 2 bt-format -m m -p .t --schema broken.json one.jsonl >out 2>err &&
	test_must_be_empty out &&
	test_grep "^bt-format: --schema: broken.json: invalid JSON: " err &&
	test_expect_code 2 bt-format -m m -p .t --schema nosuch.json one.jsonl >out 2>err &&
	echo "bt-format: --schema: nosuch.json: No such file or directory" >expect &&
	test_cmp expect err
'

test_expect_success '--tool: needs --schema, and a name the API takes' '
	test_expect_code 2 bt-format -m m -p .t --tool person one.jsonl 2>err &&
	echo "bt-format: --tool: give the tool'"'"'s input schema with --schema FILE" >expect &&
	test_cmp expect err &&
	test_expect_code 2 bt-format -m m -p .t --schema person.json --tool "a b" one.jsonl 2>err &&
	echo "bt-format: --tool: \"a b\": a tool name is 1 to 128 letters, digits, _ or -" >expect &&
	test_cmp expect err
'

test_expect_success '--cache-tools and --cache-system with --cache-ttl 1h; 5m is the default, unsaid' '
	bt-format -m m -s Sys -p .t --schema person.json --tool person --cache-tools --cache-system --cache-ttl 1h one.jsonl >out &&
	jq -c "[.params.tools[0].cache_control, .params.system[0].cache_control]" out >actual &&
	echo "[{\"type\":\"ephemeral\",\"ttl\":\"1h\"},{\"type\":\"ephemeral\",\"ttl\":\"1h\"}]" >expect &&
	test_cmp expect actual &&
	bt-format -m m -s Sys -p .t --cache-system --cache-ttl 5m one.jsonl >a &&
	bt-format -m m -s Sys -p .t --cache-system one.jsonl >b &&
	test_cmp a b &&
	jq -c .params.system[0].cache_control a >actual &&
	echo "{\"type\":\"ephemeral\"}" >expect &&
	test_cmp expect actual
'

test_expect_success 'cache options that mark nothing, or a bad ttl: exit 2' '
	test_expect_code 2 bt-format -m m -p .t --cache-tools one.jsonl 2>err &&
	echo "bt-format: --cache-tools: there is no tool (--tool NAME)" >expect &&
	test_cmp expect err &&
	test_expect_code 2 bt-format -m m -p .t --cache-ttl 1h one.jsonl 2>err &&
	echo "bt-format: --cache-ttl: nothing is cached (--cache-system, --cache-tools or --cache-attachments)" >expect &&
	test_cmp expect err &&
	test_expect_code 2 bt-format -m m -s S -p .t --cache-system --cache-ttl 2h one.jsonl 2>err &&
	echo "bt-format: --cache-ttl: \"2h\": give 5m or 1h" >expect &&
	test_cmp expect err
'

# 1h marks: the prefix (tools and system) is an hour's write at 2x input.
# tools compact JSON + "Sys" system, then "Ann, 31" as input.
test_expect_success 'the estimate counts a marked prefix as cache writes, 1h apart' '
	bt-format -m claude-haiku-4-5 -s Sys -p .t --schema person.json --tool person --cache-tools --cache-system --cache-ttl 1h one.jsonl >req1h &&
	tools=$(jq -c .params.tools req1h | tr -d "\n" | wc -c) &&
	bt-cost req1h >out &&
	jq -c "[.total.input_tokens, .total.cache_write_tokens, .total.cache_write_1h_tokens]" out >actual &&
	echo "[2,$(( (tools + 3 + 3) / 4 )),$(( (tools + 3 + 3) / 4 ))]" >expect &&
	test_cmp expect actual
'

test_done
