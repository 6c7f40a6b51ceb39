#!/bin/sh
# bt-mock: answers that follow a schema (a forced tool's input_schema, or
# output_config.format's json_schema), in a batch and on /v1/messages,
# each validated by tests/answer-check.py (python3-jsonschema); cut at
# max_tokens; output_config checked as the API checks it.
. "${0%/*}/lib.sh"
schema_serve || exit 1

# run_sync FILE-OF-REQUEST-LINES: each params to /v1/messages, its
# Message (or error) as a results line, to "sync", the last answer in
# answer.json (jq three times a file, not
# three times a line: jq costs 30 ms of CPU a start)
run_sync() {
	rm -rf .sync && mkdir .sync &&
	jq -r .custom_id "$1" >.sync/ids &&
	jq -c .params "$1" >.sync/params &&
	_n=10000 &&
	while read -r _cid <&3 && read -r _params <&4; do
		_n=$((_n + 1)) &&
		_code=$(printf '%s\n' "$_params" | api POST /v1/messages --data-binary @- \
			-o .sync/a.$_n -w "%{http_code}") &&
		echo "$_cid $_code" >>.sync/meta || return 1
	done 3<.sync/ids 4<.sync/params &&
	cp .sync/a.$_n answer.json &&
	jq -c -n --rawfile meta .sync/meta '[inputs] as $a
		| [$meta | split("\n")[] | select(. != "") | split(" ")] as $m
		| range(0; $a | length) as $i
		| {custom_id: $m[$i][0], result: (if $m[$i][1] == "200"
			then {type: "succeeded", message: $a[$i]}
			else {type: "errored", error: $a[$i]} end)}' .sync/a.* >sync
}
check_answers() { # CASES RESULTS
	"$TESTS/answer-check.py" "$@"
}

# One schema a line: its name, whether a string of it may carry the
# whole prompt (so that the answer shows its record), the schema.
cat >schemas.jsonl <<-\EOF
{"name":"flat","echo":true,"schema":{"type":"object","properties":{"name":{"type":"string"},"age":{"type":"integer"},"height":{"type":"number"},"member":{"type":"boolean"},"nothing":{"type":"null"}},"required":["name","age","height","member","nothing"],"additionalProperties":false}}
{"name":"nested","echo":true,"schema":{"type":"object","properties":{"person":{"type":"object","properties":{"name":{"type":"string"},"address":{"type":"object","properties":{"city":{"type":"string"},"zip":{"type":"string","minLength":5,"maxLength":5}},"required":["city","zip"],"additionalProperties":false}},"required":["name","address"],"additionalProperties":false},"orders":{"type":"array","minItems":2,"maxItems":3,"items":{"type":"object","properties":{"sku":{"type":"string"},"qty":{"type":"integer","minimum":1}},"required":["sku","qty"],"additionalProperties":false}}},"required":["person","orders"],"additionalProperties":false}}
{"name":"enums","echo":true,"schema":{"type":"object","properties":{"sentiment":{"type":"string","enum":["positive","negative","neutral"]},"stars":{"type":"integer","enum":[1,2,3,4,5]},"version":{"const":"v2"},"labels":{"type":"array","items":{"enum":["bug","feature","question"]},"minItems":3,"uniqueItems":true},"summary":{"type":"string"}},"required":["sentiment","stars","version","labels","summary"],"additionalProperties":false}}
{"name":"formats","echo":true,"schema":{"type":"object","properties":{"when":{"type":"string","format":"date-time"},"day":{"type":"string","format":"date"},"contact":{"type":"string","format":"email"},"site":{"type":"string","format":"uri"},"id":{"type":"string","format":"uuid"},"ip":{"type":"string","format":"ipv4"},"ip6":{"type":"string","format":"ipv6"},"host":{"type":"string","format":"hostname"},"note":{"type":"string"}},"required":["when","day","contact","site","id","ip","ip6","host","note"],"additionalProperties":false}}
{"name":"bounds","echo":true,"schema":{"type":"object","properties":{"score":{"type":"number","minimum":0,"maximum":1},"ratio":{"type":"number","exclusiveMinimum":0,"exclusiveMaximum":0.5},"year":{"type":"integer","minimum":1900,"maximum":2100},"week":{"type":"integer","multipleOf":7,"minimum":10},"neg":{"type":"integer","maximum":-5},"code":{"type":"string","minLength":12,"maxLength":12},"title":{"type":"string","maxLength":10},"body":{"type":"string","minLength":3}},"required":["score","ratio","year","week","neg","code","title","body"],"additionalProperties":false}}
{"name":"unions","echo":true,"schema":{"type":"object","properties":{"middle":{"type":["string","null"]},"maybe":{"anyOf":[{"type":"null"},{"type":"integer"}]},"either":{"oneOf":[{"type":"string","maxLength":3},{"type":"integer"}]},"whatever":{},"tags":{"type":"array"}},"required":["middle","maybe","either","whatever","tags"]}}
{"name":"refs","echo":true,"schema":{"$defs":{"addr":{"type":"object","properties":{"street":{"type":"string"},"city":{"type":"string"}},"required":["street","city"],"additionalProperties":false},"node":{"type":"object","properties":{"label":{"type":"string"},"children":{"type":"array","items":{"$ref":"#/$defs/node"}}},"required":["label","children"],"additionalProperties":false}},"type":"object","properties":{"home":{"$ref":"#/$defs/addr"},"work":{"$ref":"#/$defs/addr"},"tree":{"$ref":"#/$defs/node"}},"required":["home","work","tree"],"additionalProperties":false}}
{"name":"allof","echo":true,"schema":{"type":"object","definitions":{"base":{"type":"object","properties":{"id":{"type":"integer"}},"required":["id"]}},"allOf":[{"$ref":"#/definitions/base"},{"properties":{"text":{"type":"string"}},"required":["text"]}]}}
{"name":"extra","echo":true,"schema":{"type":"object","properties":{"a":{"type":"string"}},"required":["a","b"],"minProperties":4}}
{"name":"tuple","echo":true,"schema":{"type":"object","properties":{"point":{"type":"array","prefixItems":[{"type":"number"},{"type":"string","format":"date"}],"items":false},"text":{"type":"string"}},"required":["point","text"]}}
{"name":"closed","echo":false,"schema":{"type":"object","properties":{"ok":{"type":"boolean"},"kind":{"enum":["x","y"]}},"required":["ok","kind"],"additionalProperties":false}}
EOF

# The cases: each schema through a forced tool and through output_config,
# plus a tool forced by "any", a forced tool that wins over output_config,
# and output_config with tools the model may leave (tool_choice auto).
jq -c '
	def prompt($id): "Record \($id): extract the fields of this ticket, please";
	def base($id): {model: "claude-haiku-4-5", max_tokens: 2000,
	                messages: [{role: "user", content: prompt($id)}]};
	(.name + "-tool") as $t | (.name + "-format") as $f |
	{case: {custom_id: $t, via: "tool", schema: .schema, word: (if .echo then $t else null end)},
	 req: {custom_id: $t, params: (base($t) + {tools: [{name: "other", input_schema: {type: "object"}},
	        {name: "extract", input_schema: .schema}], tool_choice: {type: "tool", name: "extract"}})}},
	{case: {custom_id: $f, via: "format", schema: .schema, word: (if .echo then $f else null end)},
	 req: {custom_id: $f, params: (base($f) + {output_config: {format: {type: "json_schema", schema: .schema}}})}},
	if .name == "nested" then
		{case: {custom_id: "any", via: "tool", schema: .schema, word: "any"},
		 req: {custom_id: "any", params: (base("any") + {tools: [{name: "extract", input_schema: .schema}],
		       tool_choice: {type: "any"}})}},
		{case: {custom_id: "both", via: "tool", schema: .schema, word: "both"},
		 req: {custom_id: "both", params: (base("both") + {tools: [{name: "extract", input_schema: .schema}],
		       tool_choice: {type: "tool", name: "extract"},
		       output_config: {format: {type: "json_schema", schema: {type: "object", properties: {x: {const: 1}}, required: ["x"]}}}})}},
		{case: {custom_id: "auto", via: "format", schema: .schema, word: "auto"},
		 req: {custom_id: "auto", params: (base("auto") + {tools: [{name: "other", input_schema: {type: "object", properties: {x: {type: "integer"}}}}],
		       tool_choice: {type: "auto"}, output_config: {effort: "low", format: {type: "json_schema", schema: .schema}}})}}
	else empty end' schemas.jsonl >all.jsonl
jq -c .case all.jsonl >cases.jsonl
jq -c .req all.jsonl >reqs.jsonl

mock_start --processing-time 0.1 --ordered

test_expect_success 'the checker runs (python3-jsonschema) and tells good answers from bad' '
	if ! /usr/bin/python3 -c "import jsonschema" 2>err; then
		echo "python3-jsonschema is missing: run make deps as root, or apt-get install python3-jsonschema"
		cat err; exit 1
	fi &&
	echo "{\"custom_id\":\"a\",\"via\":\"tool\",\"word\":\"rec-a\",\"schema\":{\"type\":\"object\",\"properties\":{\"n\":{\"type\":\"integer\"},\"d\":{\"type\":\"string\",\"format\":\"date\"}},\"required\":[\"n\",\"d\"]}}" >c &&
	ok="{\"custom_id\":\"a\",\"result\":{\"type\":\"succeeded\",\"message\":{\"stop_reason\":\"tool_use\",\"content\":[{\"type\":\"tool_use\",\"input\":{\"n\":1,\"d\":\"2026-01-02\",\"x\":\"rec-a\"}}]}}}" &&
	echo "$ok" >r && check_answers c r >out && echo "1 answers valid" >expect && test_cmp expect out &&
	echo "$ok" | sed "s/\"n\":1/\"n\":1.5/; s/01-02/01-32/; s/rec-a/rec-b/" >r &&
	test_expect_code 1 check_answers c r 2>err &&
	test_grep "^a: n: 1.5 is not of type .integer.$" err &&
	test_grep "^a: d: .2026-01-32. is not a .date.$" err &&
	test_grep "^a: the answer does not contain .rec-a." err &&
	{ echo "$ok"; echo "$ok"; } >r && test_expect_code 1 check_answers c r 2>err &&
	test_grep "^a: answered 2 times, wanted once$" err
'

test_expect_success 'the requests are valid by the API spec (output_config included)' '
	schema_check MessageBatchIndividualRequestParams reqs.jsonl
'

test_expect_success 'a batch: every answer follows its schema, and is its own request'"'"'s' '
	run_batch reqs.jsonl && cp results main.results &&
	check_answers cases.jsonl results >out &&
	echo "$(wc -l <cases.jsonl) answers valid" >expect && test_cmp expect out &&
	schema_check MessageBatchIndividualResponse results
'

test_expect_success '/v1/messages: the same answers, valid the same way' '
	run_sync reqs.jsonl &&
	check_answers cases.jsonl sync >out &&
	echo "$(wc -l <cases.jsonl) answers valid" >expect && test_cmp expect out &&
	jq -c "[.custom_id, .result.message.content[0] | .input // .text]" main.results | sort >batch.answers &&
	jq -c "[.custom_id, .result.message.content[0] | .input // .text]" sync | sort >sync.answers &&
	test_cmp batch.answers sync.answers
'

test_expect_success 'answers are deterministic; strings carry the property name and the prompt' '
	run_sync reqs.jsonl && mv sync sync.1 && run_sync reqs.jsonl &&
	mask sync.1 >expect && mask sync >actual && test_cmp expect actual &&
	jq -c "select(.custom_id == \"flat-tool\") | .result.message.content[0].input" sync >actual &&
	echo "{\"name\":\"name: Record flat-tool: extract the fields of this ticket, please\",\"age\":9,\"height\":9,\"member\":true,\"nothing\":null}" >expect &&
	test_cmp expect actual &&
	jq -r "select(.custom_id == \"nested-format\") | .result.message.content[0].text" sync >actual &&
	echo "{\"person\":{\"name\":\"name: Record nested-format: extract the fields of this ticket, please\",\"address\":{\"city\":\"city: Record nested-format: extract the fields of this ticket,\",\"zip\":\"zip: \"}},\"orders\":[{\"sku\":\"sku: Record nested-format: extract the fields of this ticket,\",\"qty\":9},{\"sku\":\"sku: Record nested-format: extract the fields of this ticket,\",\"qty\":9}]}" >expect &&
	test_cmp expect actual
'

test_expect_success 'a long prompt: the first string holds all of it, the others 80 bytes of it' '
	long=$(printf "%0300d" 7) &&
	jq -c --arg t "Long $long" "select(.custom_id == \"nested-tool\") | .custom_id = \"long\" |
		.params.messages[0].content = \$t" reqs.jsonl >long.jsonl &&
	run_sync long.jsonl &&
	jq -r ".result.message.content[0].input | .person.name, .person.address.city" sync >actual &&
	{ echo "name: Long $long"; echo "city: Long $long" | cut -c1-86; } >expect &&
	test_cmp expect actual
'

test_expect_success 'output tokens count the answer (bytes / 4)' '
	jq -r "select(.custom_id == \"flat-tool\" or .custom_id == \"flat-format\") |
		[.custom_id, .result.message.usage.output_tokens,
		 (.result.message.content[0] | if .type == \"tool_use\" then .input | tojson else .text end | length)] | @tsv" main.results |
	while read -r id out n; do
		test "$out" = $(( (n + 3) / 4 )) || { echo "$id: $out tokens for $n bytes"; exit 1; }
	done
'

cut_reqs() { # max_tokens
	jq -c --argjson m "$1" "select(.custom_id == \"nested-tool\" or .custom_id == \"nested-format\") |
		.params.max_tokens = \$m | .custom_id += \"-cut\"" reqs.jsonl
}

test_expect_success 'too small a max_tokens: the JSON text is cut (invalid JSON), stop_reason max_tokens' '
	cut_reqs 30 >cut.jsonl &&
	run_batch cut.jsonl && mv results cut.batch &&
	run_sync cut.jsonl &&
	for f in cut.batch sync; do
		jq -r "select(.custom_id == \"nested-format-cut\") | .result.message |
			[.stop_reason, .usage.output_tokens] | @tsv" $f >actual &&
		printf "max_tokens\t30\n" >expect && test_cmp expect actual &&
		jq -r "select(.custom_id == \"nested-format-cut\") | .result.message.content[0].text" $f >text &&
		test $(wc -c <text) = 121 &&
		test_must_fail jq . text >/dev/null 2>&1 &&
		jq -r "select(.custom_id == \"nested-format\") | .result.message.content[0].text" main.results >full &&
		test "$(head -c 120 full)" = "$(head -c 120 text)" || exit 1
	done
'

test_expect_success 'a cut tool_use keeps the members it finished; none finished: {}' '
	jq -c "select(.custom_id == \"nested-tool-cut\") | .result.message |
		[.stop_reason, .usage.output_tokens, .content[0].input]" cut.batch >actual &&
	echo "[\"max_tokens\",30,{}]" >expect && test_cmp expect actual &&
	cut_reqs 50 >cut.jsonl && run_sync cut.jsonl &&
	jq -c "select(.custom_id == \"nested-tool-cut\") | .result.message |
		[.stop_reason, .usage.output_tokens, (.content[0].input | keys)]" sync >actual &&
	echo "[\"max_tokens\",50,[\"person\"]]" >expect && test_cmp expect actual &&
	jq -c "select(.custom_id == \"nested-tool-cut\") | .result.message.content[0].input.person" sync >cut.person &&
	jq -c "select(.custom_id == \"nested-tool\") | .result.message.content[0].input.person" main.results >full.person &&
	test_cmp full.person cut.person
'

test_expect_success 'output_config without a format, or a null one, leaves the echo' '
	printf "%s\n" \
		"{\"custom_id\":\"effort\",\"params\":{\"model\":\"m\",\"max_tokens\":50,\"output_config\":{\"effort\":\"high\"},\"messages\":[{\"role\":\"user\",\"content\":\"just text\"}]}}" \
		"{\"custom_id\":\"null\",\"params\":{\"model\":\"m\",\"max_tokens\":50,\"output_config\":{\"format\":null,\"effort\":null},\"messages\":[{\"role\":\"user\",\"content\":\"just text\"}]}}" \
		"{\"custom_id\":\"open\",\"params\":{\"model\":\"m\",\"max_tokens\":50,\"output_config\":{\"format\":{\"type\":\"json_schema\",\"schema\":{\"type\":\"object\"}}},\"messages\":[{\"role\":\"user\",\"content\":\"just text\"}]}}" >plain.jsonl &&
	run_sync plain.jsonl &&
	jq -c "[.custom_id, .result.message.stop_reason, .result.message.content[0].text]" sync >actual &&
	cat >expect <<-\EOF &&
	["effort","end_turn","just text"]
	["null","end_turn","just text"]
	["open","end_turn","{\"text\":\"just text\"}"]
	EOF
	test_cmp expect actual
'

# Malformed output_config, as the API refuses it; and schemas bt-mock
# cannot follow (bt-mock(1), STRUCTURED ANSWERS).
bad() { # custom_id params-members-after-messages
	printf '{"custom_id":"%s","params":{"model":"m","max_tokens":50,"messages":[{"role":"user","content":"x"}],%s}}\n' "$1" "$2"
}
{
	bad not-object '"output_config":"json"'
	bad extra-key '"output_config":{"format":null,"schema":{}}'
	bad effort '"output_config":{"effort":"extreme"}'
	bad format-list '"output_config":{"format":[]}'
	bad no-type '"output_config":{"format":{"schema":{"type":"object"}}}'
	bad wrong-type '"output_config":{"format":{"type":"json_object","schema":{"type":"object"}}}'
	bad no-schema '"output_config":{"format":{"type":"json_schema"}}'
	bad schema-string '"output_config":{"format":{"type":"json_schema","schema":"{\"type\":\"object\"}"}}'
	bad format-extra '"output_config":{"format":{"type":"json_schema","schema":{},"strict":true}}'
} >spec-bad.jsonl
{
	bad remote-ref '"output_config":{"format":{"type":"json_schema","schema":{"type":"object","properties":{"a":{"$ref":"https://example.com/a.json"}}}}}'
	bad lost-ref '"output_config":{"format":{"type":"json_schema","schema":{"type":"object","properties":{"a":{"$ref":"#/$defs/none"}}}}}'
	bad endless '"output_config":{"format":{"type":"json_schema","schema":{"type":"object","properties":{"a":{"$ref":"#"}},"required":["a"]}}}'
	bad false '"output_config":{"format":{"type":"json_schema","schema":{"type":"object","properties":{"a":false},"required":["a"]}}}'
	bad no-such-type '"output_config":{"format":{"type":"json_schema","schema":{"type":"object","properties":{"a":{"type":"text"}}}}}'
	bad huge '"output_config":{"format":{"type":"json_schema","schema":{"type":"object","properties":{"a":{"type":"array","minItems":1000,"items":{"type":"array","minItems":1000,"items":{"type":"integer"}}}}}}}'
	bad long '"output_config":{"format":{"type":"json_schema","schema":{"type":"object","properties":{"a":{"type":"string","minLength":1e9}}}}}'
	bad many '"output_config":{"format":{"type":"json_schema","schema":{"type":"object","properties":{"a":{"type":"array","minItems":5000}}}}}'
	bad tool-string '"tools":[{"name":"t","input_schema":{"type":"string"}}],"tool_choice":{"type":"tool","name":"t"}'
	bad tool-bounds '"tools":[{"name":"u","input_schema":{"type":"object"}},{"name":"t","input_schema":{"type":"object","properties":{"n":{"type":"integer","minimum":3,"maximum":2}}}}],"tool_choice":{"type":"tool","name":"t"}'
} >mock-bad.jsonl

cat >bad.expect <<-\EOF
["not-object","output_config: Input should be a valid dictionary"]
["extra-key","output_config.schema: Extra inputs are not permitted"]
["effort","output_config.effort: Input should be 'low', 'medium', 'high', 'xhigh' or 'max'"]
["format-list","output_config.format: Input should be a valid dictionary"]
["no-type","output_config.format.type: Field required"]
["wrong-type","output_config.format.type: Input should be 'json_schema'"]
["no-schema","output_config.format.schema: Field required"]
["schema-string","output_config.format.schema: Input should be a valid dictionary"]
["format-extra","output_config.format.strict: Extra inputs are not permitted"]
["remote-ref","output_config.format.schema: bt-mock cannot follow the schema at #/properties/a: only local $ref (\"#/...\") are followed"]
["lost-ref","output_config.format.schema: bt-mock cannot follow the schema at #/properties/a: $ref does not resolve: #/$defs/none"]
["endless","output_config.format.schema: bt-mock cannot follow the schema at #/properties/a/$ref/properties/a/$ref/properties/a/$ref/properties/a/$ref/properties/a/$ref/propertie: it nests deeper than 32 levels (a $ref that never ends?)"]
["false","output_config.format.schema: bt-mock cannot follow the schema at #/properties/a: false admits no value"]
["no-such-type","output_config.format.schema: bt-mock cannot follow the schema at #/properties/a: an unknown type: text"]
["huge","output_config.format.schema: bt-mock cannot follow the schema at #/properties/a/items/items: the answer would hold more than 100000 values"]
["long","output_config.format.schema: bt-mock cannot follow the schema at #/properties/a: minLength is above 100000"]
["many","output_config.format.schema: bt-mock cannot follow the schema at #/properties/a: minItems is above 1000"]
["tool-string","tools.0.input_schema: a tool's input is an object: give it \"type\": \"object\""]
["tool-bounds","tools.1.input_schema: bt-mock cannot follow the schema at #/properties/n: no number lies between minimum and maximum"]
EOF

test_expect_success 'a malformed output_config is one the API spec refuses too' '
	while read -r line; do
		echo "$line" >one &&
		test_expect_code 1 schema_check MessageBatchIndividualRequestParams one 2>/dev/null ||
		{ echo "the spec takes: $line"; exit 1; }
	done <spec-bad.jsonl
'

test_expect_success 'in a batch: each bad one is an errored result, invalid_request_error' '
	cat spec-bad.jsonl mock-bad.jsonl >bad.jsonl &&
	run_batch bad.jsonl &&
	jq -c "[.custom_id, .result.type, .result.error.error.type] | select(.[1:] != [\"errored\", \"invalid_request_error\"])" results >odd &&
	test_must_be_empty odd &&
	jq -c "[.custom_id, .result.error.error.message]" results >actual &&
	test_cmp bad.expect actual
'

test_expect_success 'on /v1/messages: each bad one is a 400, the same message' '
	run_sync bad.jsonl &&
	jq -c "[.custom_id, .result.error.error.message]" sync >actual &&
	test_cmp bad.expect actual &&
	schema_check ErrorResponse answer.json
'

test_done
