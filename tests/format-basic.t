#!/bin/sh
# bt-format: records in, requests out — the options.
. "${0%/*}/lib.sh"

cat >records.jsonl <<\EOF_
{"id":"t1","text":"My order is late","lang":"en"}
{"id":"t2","text":"Rückerstattung bitte \"sofort\"\n\ttab é 中文 😀","lang":"de"}

{"id":3,"text":"escape \\ back\/slash \u0001 \u007f","lang":"en"}
EOF_

test_expect_success 'a prompt template and --id, byte for byte' '
	cat >expect <<-\EXP &&
	{"custom_id":"t1","params":{"model":"claude-haiku-4-5","max_tokens":1024,"messages":[{"role":"user","content":"Classify:\nMy order is late"}]}}
	{"custom_id":"t2","params":{"model":"claude-haiku-4-5","max_tokens":1024,"messages":[{"role":"user","content":"Classify:\nRückerstattung bitte \"sofort\"\n\ttab é 中文 😀"}]}}
	{"custom_id":"3","params":{"model":"claude-haiku-4-5","max_tokens":1024,"messages":[{"role":"user","content":"Classify:\nescape \\ back/slash \u0001 \u007f"}]}}
	EXP
	bt-format -m claude-haiku-4-5 --id .id -p "\"Classify:\\n\\(.text)\"" records.jsonl >actual &&
	test_cmp expect actual
'

test_expect_success 'the same bytes as the equivalent jq program' '
	jq -c "{custom_id: (.id|tostring), params: {model: \"m\", max_tokens: 1024, messages: [{role: \"user\", content: .text}]}}" records.jsonl >expect &&
	bt-format -m m --id .id -p .text records.jsonl >actual &&
	test_cmp expect actual
'

# fp LINE: the fingerprint of a record without --id, 8 hex digits
fp() { printf "%s" "$1" | sha256sum | cut -c1-8; }

test_expect_success 'without --id, the record number and a fingerprint of its line (blank lines are not records)' '
	bt-format -m m -p .text records.jsonl | jq -r .custom_id >actual &&
	grep -v "^\$" records.jsonl >nonblank &&
	{ n=0; while IFS= read -r l; do n=$((n + 1)); echo "$n-$(fp "$l")"; done <nonblank; } >expect &&
	test_lines 3 expect &&
	test_cmp expect actual
'

test_expect_success 'record numbers run on across files, and stdin' '
	head -n 1 records.jsonl >one.jsonl &&
	bt-format -m m -p .text one.jsonl records.jsonl | jq -r .custom_id >actual &&
	{ n=0; while IFS= read -r l; do n=$((n + 1)); echo "$n-$(fp "$l")"; done <nonblank; } >expect2 &&
	{ echo "1-$(fp "$(head -n 1 records.jsonl)")"; n=1; while IFS= read -r l; do n=$((n + 1)); echo "$n-$(fp "$l")"; done <nonblank; } >expect &&
	test_cmp expect actual &&
	bt-format -m m -p .text <records.jsonl | jq -r .custom_id >actual2 &&
	test_cmp expect2 actual2
'

test_expect_success 'the fingerprint is of the line as read: no CR, no byte order mark; with -R the raw line' '
	printf "\357\273\277a b\r\n c\n" >crlf.txt &&
	printf "a b\n c\n" >plain.txt &&
	bt-format -R -m m -p . crlf.txt | jq -r .custom_id >actual &&
	printf "1-%s\n2-%s\n" "$(fp "a b")" "$(fp " c")" >expect &&
	test_cmp expect actual &&
	bt-format -R -m m -p . plain.txt | jq -r .custom_id >actual2 &&
	test_cmp expect actual2
'

test_expect_success 'an edited record gets another id; the others keep theirs' '
	bt-format -m m -p .text records.jsonl | jq -r .custom_id >before &&
	sed "s/late/lost/" records.jsonl >edited.jsonl &&
	bt-format -m m -p .text edited.jsonl | jq -r .custom_id >after &&
	! cmp -s before after &&
	sed 1d before >b && sed 1d after >a && test_cmp b a &&
	test "$(head -n 1 after)" = "1-$(fp "$(head -n 1 edited.jsonl)")"
'

test_expect_success 'an id that is not a valid custom_id is made safe by the rule' '
	echo "{\"id\":\"order 17/b\",\"text\":\"x\"}" >odd.jsonl &&
	hash=$(printf "%s" "order 17/b" | sha256sum | cut -c1-16) &&
	echo "order_17_b-$hash" >expect &&
	bt-format -m m --id .id -p .text odd.jsonl | jq -r .custom_id >actual &&
	test_cmp expect actual
'

test_expect_success 'BT_MODEL gives the model; -m wins over it' '
	BT_MODEL=from-env bt-format -p .text one.jsonl | jq -r .params.model >actual &&
	BT_MODEL=from-env bt-format -m from-opt -p .text one.jsonl | jq -r .params.model >>actual &&
	printf "from-env\nfrom-opt\n" >expect &&
	test_cmp expect actual
'

test_expect_success '-s, --max-tokens and --temperature, in a fixed key order' '
	echo "{\"custom_id\":\"1-5bd50332\",\"params\":{\"model\":\"m\",\"max_tokens\":50,\"temperature\":0.2,\"system\":\"Be brief.\",\"messages\":[{\"role\":\"user\",\"content\":\"My order is late\"}]}}" >expect &&
	bt-format -m m -s "Be brief." --max-tokens 50 --temperature 0.2 -p .text one.jsonl >actual &&
	test_cmp expect actual
'

test_expect_success '--system-file and --cache-system mark the system prompt ephemeral' '
	printf "You classify tickets.\nAnswer with one word.\n\n" >system.txt &&
	printf "%s\n" "{\"custom_id\":\"1-5bd50332\",\"params\":{\"model\":\"m\",\"max_tokens\":1024,\"system\":[{\"type\":\"text\",\"text\":\"You classify tickets.\\nAnswer with one word.\",\"cache_control\":{\"type\":\"ephemeral\"}}],\"messages\":[{\"role\":\"user\",\"content\":\"My order is late\"}]}}" >expect &&
	bt-format -m m --system-file system.txt --cache-system -p .text one.jsonl >actual &&
	test_cmp expect actual
'

test_expect_success 'a prompt may be an array of content blocks' '
	echo "{\"custom_id\":\"1-5bd50332\",\"params\":{\"model\":\"m\",\"max_tokens\":1024,\"messages\":[{\"role\":\"user\",\"content\":[{\"type\":\"text\",\"text\":\"My order is late\"},{\"type\":\"text\",\"text\":\"en\"}]}]}}" >expect &&
	bt-format -m m -p "[{type:\"text\",text:.text},{type:\"text\",text:.lang}]" one.jsonl >actual &&
	test_cmp expect actual
'

test_expect_success '--params amends the params with $params and the record' '
	echo "{\"custom_id\":\"1-5bd50332\",\"params\":{\"model\":\"m\",\"max_tokens\":1024,\"messages\":[{\"role\":\"user\",\"content\":\"My order is late\"}],\"tools\":[{\"name\":\"label\",\"input_schema\":{\"type\":\"object\"}}],\"tool_choice\":{\"type\":\"tool\",\"name\":\"label\"},\"metadata\":{\"user_id\":\"en\"}}}" >expect &&
	bt-format -m m -p .text --params "\$params + {tools:[{name:\"label\",input_schema:{type:\"object\"}}], tool_choice:{type:\"tool\",name:\"label\"}, metadata:{user_id:.lang}}" one.jsonl >actual &&
	test_cmp expect actual
'

test_expect_success '--params can build the whole params; -f reads it from a file' '
	cat >params.jq <<-\JQ &&
	# a multi-turn conversation
	{model: "m2", max_tokens: 7,
	 messages: [{role: "user", content: "Hi"}, {role: "assistant", content: "Hello"},
	            {role: "user", content: .text}]}
	JQ
	echo "{\"custom_id\":\"1-5bd50332\",\"params\":{\"model\":\"m2\",\"max_tokens\":7,\"messages\":[{\"role\":\"user\",\"content\":\"Hi\"},{\"role\":\"assistant\",\"content\":\"Hello\"},{\"role\":\"user\",\"content\":\"My order is late\"}]}}" >expect &&
	bt-format -f params.jq one.jsonl >actual &&
	test_cmp expect actual &&
	bt-format --params "$(cat params.jq)" one.jsonl >actual2 &&
	test_cmp expect actual2
'

test_expect_success '--arg, --argjson and --rawfile bind jq variables' '
	printf "raw\ntext" >raw.txt &&
	bt-format -m m --arg who "Ann" --argjson n "[1,2]" --rawfile r raw.txt \
		-p "\"\\(\$who) \\(\$n|length) \\(\$r)\"" one.jsonl | jq -r ".params.messages[0].content" >actual &&
	printf "Ann 2 raw\ntext\n" >expect &&
	test_cmp expect actual
'

test_expect_success 'long forms: --prompt, --model, --system, --raw-input' '
	bt-format -m m -s S -p .text one.jsonl >expect &&
	bt-format --model m --system S --prompt .text one.jsonl >actual &&
	test_cmp expect actual &&
	bt-format --raw-input --model m --prompt . one.jsonl >raw &&
	bt-format -R -m m -p . one.jsonl >raw2 && test_cmp raw raw2
'

test_expect_success 'options may come after the files' '
	bt-format one.jsonl -m m -p .text --arg x y >actual &&
	bt-format -m m -p .text one.jsonl >expect &&
	test_cmp expect actual
'

test_expect_success '-R reads raw text lines as strings' '
	printf "first line\n\nsecond \"line\"\r\n" >lines.txt &&
	printf "%s\n" "{\"custom_id\":\"1-1de24ae7\",\"params\":{\"model\":\"m\",\"max_tokens\":1024,\"messages\":[{\"role\":\"user\",\"content\":\"Say: first line\"}]}}" \
		"{\"custom_id\":\"2-17922702\",\"params\":{\"model\":\"m\",\"max_tokens\":1024,\"messages\":[{\"role\":\"user\",\"content\":\"Say: second \\\"line\\\"\"}]}}" >expect &&
	bt-format -R -m m -p "\"Say: \\(.)\"" lines.txt >actual &&
	test_cmp expect actual
'

test_expect_success 'the same input always gives the same bytes' '
	bt-format -m m --id .id -p .text records.jsonl >a &&
	bt-format -m m --id .id -p .text records.jsonl >b &&
	test_cmp a b
'

test_expect_success 'a 10 MB record comes through whole' '
	perl -e "print q({\"id\":\"big\",\"text\":\"), q(abc\\\\n\\\\u00e9 ) x 1200000, qq(\"}\n)" >big.jsonl &&
	test $(wc -c <big.jsonl) -gt 10000000 &&
	jq -c "{custom_id: .id, params: {model: \"m\", max_tokens: 1024, messages: [{role: \"user\", content: .text}]}}" big.jsonl >expect &&
	bt-format -m m --id .id -p .text big.jsonl >actual &&
	test_cmp expect actual
'

test_expect_success 'empty input: no output, said on stderr, exit 0' '
	bt-format -m m -p .t </dev/null >out 2>err &&
	test_must_be_empty out &&
	echo "bt-format: no records in stdin" >expect &&
	test_cmp expect err &&
	printf "\n\n" >blank.jsonl && : >empty.jsonl &&
	bt-format -m m -p .t blank.jsonl empty.jsonl >out 2>err &&
	test_must_be_empty out &&
	echo "bt-format: no records in blank.jsonl, empty.jsonl" >expect &&
	test_cmp expect err
'

test_expect_success 'a closed pipe ends it quietly' '
	perl -e "print qq({\"t\":\"x\$_\"}\n) for 1..200000" >many.jsonl &&
	{ bt-format -m m -p .t many.jsonl 2>err; echo $? >status; } | head -n 1 >/dev/null &&
	echo 141 >expect &&
	test_cmp expect status &&
	test_must_be_empty err
'

test_expect_success '-h prints the usage and succeeds; a bad option is a usage error' '
	bt-format -h >out &&
	test_grep "^usage: bt-format" out &&
	test_expect_code 2 bt-format --bogus 2>err &&
	test_grep "usage: bt-format" err
'

test_expect_success 'a full disk: exit 1, said' '
	test_expect_code 1 bt-format -m m -p .text records.jsonl >/dev/full 2>err &&
	echo "bt-format: write error on standard output: No space left on device" >expect &&
	test_cmp expect err
'

test_done
