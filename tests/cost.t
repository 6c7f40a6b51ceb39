#!/bin/sh
# bt-cost: what a job cost, or will cost at most; bt-submit --max-cost.
. "${0%/*}/lib.sh"

# ok ID MODEL IN OUT CACHE_WRITE CACHE_READ: a succeeded result line
ok() {
	printf '{"custom_id":"%s","result":{"type":"succeeded","message":{"id":"msg_%s","type":"message","role":"assistant","model":"%s","content":[{"type":"text","text":"hi"}],"stop_reason":"end_turn","stop_sequence":null,"usage":{"input_tokens":%s,"output_tokens":%s,"cache_creation_input_tokens":%s,"cache_read_input_tokens":%s}}}}\n' \
		"$1" "$1" "$2" "$3" "$4" "$5" "$6"
}
errored() { printf '{"custom_id":"%s","result":{"type":"errored","error":{"type":"error","error":{"type":"invalid_request_error","message":"bad"}}}}\n' "$1"; }
canceled() { printf '{"custom_id":"%s","result":{"type":"canceled"}}\n' "$1"; }
expired() { printf '{"custom_id":"%s","result":{"type":"expired"}}\n' "$1"; }
# req ID MODEL MAX_TOKENS PARAMS_REST: a request line; PARAMS_REST is the
# rest of params (JSON members, after model and max_tokens)
req() { printf '{"custom_id":"%s","params":{"model":"%s","max_tokens":%s,%s}}\n' "$1" "$2" "$3" "$4"; }

mock_start --processing-time 0.3 || exit 1

# Prices per million tokens, standard: opus-4-5 $5/$25, haiku-4-5 $1/$5,
# 3-5-haiku $0.80/$4, 3-haiku $0.25/$1.25.  Cache write 1.25x input, cache
# read 0.1x input; batch half of all.  In micro-dollars (u$), standard:
#   claude-opus-4-5:  in 1000*5=5000, out 2000*25=50000,
#       write 4000*5*1.25=25000, read 10000*5*0.1=5000: 85000 -> 0.085000,
#       batch 42500 -> 0.042500
#   claude-haiku-4-5-20251001 (dated: haiku-4-5's prices), two results:
#       in 123457+543=124000, out 6789+211=7000, write 0+1000, read 300+0:
#       124000 + 7000*5=35000 + 1000*1.25=1250 + 300*0.1=30 = 160280,
#       batch 80140
#   claude-3-5-haiku-20241022: in 3*0.8=2.4, out 7*4=28, write 11*0.8*1.25=11,
#       read 13*0.8*0.1=1.04: 42.44 -> 0.000042; batch 21.22 -> 0.000021
#   claude-3-haiku: in 6*0.25=1.5 -> 0.000002 (half up); batch 0.75 -> 0.000001
#   total standard 85000+160280+42.44+1.5 = 245323.94 -> 0.245324,
#         batch 122661.97 -> 0.122662, saving the same
test_expect_success 'results: exact costs per model, cache tokens priced, sorted by model' '
	{
		ok a1 claude-opus-4-5 1000 2000 4000 10000 &&
		errored e1 &&
		ok a2 claude-haiku-4-5-20251001 123457 6789 0 300 &&
		canceled c1 &&
		ok a3 claude-3-5-haiku-20241022 3 7 11 13 &&
		expired x1 &&
		ok a4 claude-haiku-4-5-20251001 543 211 1000 0 &&
		errored e2 &&
		ok a5 claude-3-haiku 6 0 0 0
	} >results.jsonl &&
	bt-cost results.jsonl >out &&
	cat >expect <<-\EOF &&
	{"kind":"results","models":[{"model":"claude-3-5-haiku-20241022","tier":"batch","requests":1,"input_tokens":3,"output_tokens":7,"cache_write_tokens":11,"cache_read_tokens":13,"cache_write_1h_tokens":0,"batch_usd":0.000021,"standard_usd":0.000042,"saving_usd":0.000021,"cost_usd":0.000021},{"model":"claude-3-haiku","tier":"batch","requests":1,"input_tokens":6,"output_tokens":0,"cache_write_tokens":0,"cache_read_tokens":0,"cache_write_1h_tokens":0,"batch_usd":0.000001,"standard_usd":0.000002,"saving_usd":0.000001,"cost_usd":0.000001},{"model":"claude-haiku-4-5-20251001","tier":"batch","requests":2,"input_tokens":124000,"output_tokens":7000,"cache_write_tokens":1000,"cache_read_tokens":300,"cache_write_1h_tokens":0,"batch_usd":0.080140,"standard_usd":0.160280,"saving_usd":0.080140,"cost_usd":0.080140},{"model":"claude-opus-4-5","tier":"batch","requests":1,"input_tokens":1000,"output_tokens":2000,"cache_write_tokens":4000,"cache_read_tokens":10000,"cache_write_1h_tokens":0,"batch_usd":0.042500,"standard_usd":0.085000,"saving_usd":0.042500,"cost_usd":0.042500}],"total":{"requests":5,"input_tokens":125009,"output_tokens":9007,"cache_write_tokens":5011,"cache_read_tokens":10313,"cache_write_1h_tokens":0,"batch_usd":0.122662,"standard_usd":0.245324,"saving_usd":0.122662,"cost_usd":0.122662},"not_billed":{"errored":2,"canceled":1,"expired":1},"cached":{"requests":0,"saved_usd":0.000000}}
	EOF
	test_cmp expect out &&
	bt-cost <results.jsonl >stdin.out &&
	test_cmp expect stdin.out
'

test_expect_success 'errored, canceled and expired cost nothing and are counted apart' '
	{ errored e1; canceled c1; canceled c2; expired x1; expired x2; expired x3; } >unbilled.jsonl &&
	bt-cost unbilled.jsonl >out &&
	cat >expect <<-\EOF &&
	{"kind":"results","models":[],"total":{"requests":0,"input_tokens":0,"output_tokens":0,"cache_write_tokens":0,"cache_read_tokens":0,"cache_write_1h_tokens":0,"batch_usd":0.000000,"standard_usd":0.000000,"saving_usd":0.000000,"cost_usd":0.000000},"not_billed":{"errored":1,"canceled":2,"expired":3},"cached":{"requests":0,"saved_usd":0.000000}}
	EOF
	test_cmp expect out
'

# claude-opus-4-1 $15/$75: in 3e9*15 = $45000, out 1000000001*75 u$ =
# $75000.000075: standard $120000.000075, batch $60000.0000375 -> .000038
test_expect_success 'large counts stay exact to the micro-dollar, halves rounded up' '
	ok b1 claude-opus-4-1 3000000000 1000000001 0 0 >big.jsonl &&
	bt-cost big.jsonl >out &&
	test_grep "\"total\":\\{\"requests\":1,\"input_tokens\":3000000000,\"output_tokens\":1000000001,\"cache_write_tokens\":0,\"cache_read_tokens\":0,\"cache_write_1h_tokens\":0,\"batch_usd\":60000.000038,\"standard_usd\":120000.000075,\"saving_usd\":60000.000038,\"cost_usd\":60000.000038\\}" out
'

# cache_creation by lifetime: haiku-4-5 ($1 input), 1000000 tokens written
# for 5 minutes (1.25x: $1.25) and 1000000 for an hour (2x: $2), standard
# $3.25, batch $1.625.  Without cache_creation, cache_creation_input_tokens
# at 1.25x: 1000000 -> $1.25, batch $0.625.
test_expect_success 'results: 1-hour cache writes at 2x input, 5-minute at 1.25x' '
	printf "%s\n" "{\"custom_id\":\"h\",\"result\":{\"type\":\"succeeded\",\"message\":{\"id\":\"msg_h\",\"type\":\"message\",\"role\":\"assistant\",\"model\":\"claude-haiku-4-5\",\"content\":[],\"stop_reason\":\"end_turn\",\"stop_sequence\":null,\"usage\":{\"input_tokens\":0,\"output_tokens\":0,\"cache_creation_input_tokens\":2000000,\"cache_read_input_tokens\":0,\"cache_creation\":{\"ephemeral_5m_input_tokens\":1000000,\"ephemeral_1h_input_tokens\":1000000}}}}}" >ttl.jsonl &&
	bt-cost ttl.jsonl | jq -c ".total | [.cache_write_tokens, .cache_write_1h_tokens, .standard_usd, .batch_usd]" >actual &&
	echo "[2000000,1000000,3.25,1.625]" >expect &&
	test_cmp expect actual &&
	ok f claude-haiku-4-5 0 0 1000000 0 >fallback.jsonl &&
	bt-cost fallback.jsonl | jq -c ".total | [.cache_write_tokens, .cache_write_1h_tokens, .standard_usd, .batch_usd]" >actual &&
	echo "[1000000,0,1.25,0.625]" >expect &&
	test_cmp expect actual
'

test_expect_success 'several files are one job' '
	head -n 4 results.jsonl >part1 && tail -n +5 results.jsonl >part2 &&
	bt-cost part1 part2 >out &&
	bt-cost results.jsonl >expect &&
	test_cmp expect out
'

# The estimate rule: ceil(bytes/4) of the text, at least 1; input and
# cache writes together.
#   e1 string content "abcdefghi": 9 bytes -> 3
#   e2 text blocks "abcd" + "efghij": 10 -> 3, and an image by URL, of
#      unknown size: the most an image counts, 1600
#   e3 system string "12345" + content "abc": 8 -> 2
#   e4 system blocks "system" + "prompt" (cache_control: a cache write of
#      12 -> 3) + content "xyz" (3 -> 1): 4
#   e5 tools, compact: [{"name":"t","input_schema":{"type":"object"}}] is
#      47 bytes, + content "hi": 49 -> 13
#   e6 "q" 1 + tool_use input {"a":1} 7 + tool_result content "ok" as JSON
#      ("\"ok\"") 4: 12 -> 3
#   e7 empty content: 0 -> at least 1
#   e8 "ééé": 6 bytes of UTF-8 -> 2
test_expect_success 'the estimate rule on fixed inputs' '
	{
		req e1 claude-haiku-4-5 10 "\"messages\":[{\"role\":\"user\",\"content\":\"abcdefghi\"}]" &&
		req e2 claude-haiku-4-5 10 "\"messages\":[{\"role\":\"user\",\"content\":[{\"type\":\"text\",\"text\":\"abcd\"},{\"type\":\"image\",\"source\":{\"type\":\"url\",\"url\":\"http://x/y.png\"}},{\"type\":\"text\",\"text\":\"efghij\"}]}]" &&
		req e3 claude-haiku-4-5 10 "\"system\":\"12345\",\"messages\":[{\"role\":\"user\",\"content\":\"abc\"}]" &&
		req e4 claude-haiku-4-5 10 "\"system\":[{\"type\":\"text\",\"text\":\"system\"},{\"type\":\"text\",\"text\":\"prompt\",\"cache_control\":{\"type\":\"ephemeral\"}}],\"messages\":[{\"role\":\"user\",\"content\":\"xyz\"}]" &&
		req e5 claude-haiku-4-5 10 "\"tools\": [ {\"name\": \"t\", \"input_schema\": {\"type\": \"object\"}} ],\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}]" &&
		req e6 claude-haiku-4-5 10 "\"messages\":[{\"role\":\"user\",\"content\":\"q\"},{\"role\":\"assistant\",\"content\":[{\"type\":\"tool_use\",\"id\":\"tu\",\"name\":\"t\",\"input\":{\"a\":1}}]},{\"role\":\"user\",\"content\":[{\"type\":\"tool_result\",\"tool_use_id\":\"tu\",\"content\":\"ok\"}]}]" &&
		req e7 claude-haiku-4-5 10 "\"messages\":[{\"role\":\"user\",\"content\":\"\"}]" &&
		req e8 claude-haiku-4-5 10 "\"messages\":[{\"role\":\"user\",\"content\":\"ééé\"}]"
	} >est.jsonl &&
	while read -r line; do
		printf "%s\n" "$line" | bt-cost |
		jq -r ".total.input_tokens + .total.cache_write_tokens" || echo failed
	done <est.jsonl >actual &&
	printf "%s\n" 3 1603 2 4 13 3 1 2 >expect &&
	test_cmp expect actual
'

# Two requests to claude-sonnet-4-5 ($3/$15), 400 bytes each -> 100 tokens,
# max_tokens 1000 each.  Standard upper bound: 200*3 + 2000*15 = 30600 u$;
# batch 15300 u$; the input alone at batch prices 200*1.5 = 300 u$.
test_expect_success 'requests: an estimate, labelled, with its upper bound' '
	text=$(perl -e "print q(x) x 400") &&
	req s1 claude-sonnet-4-5 1000 "\"messages\":[{\"role\":\"user\",\"content\":\"$text\"}]" >two.jsonl &&
	req s2 claude-sonnet-4-5 1000 "\"messages\":[{\"role\":\"user\",\"content\":\"$text\"}]" >>two.jsonl &&
	bt-cost two.jsonl >out &&
	cat >expect <<-\EOF &&
	{"kind":"estimate","estimate":true,"exact_input":false,"tier":"batch","models":[{"model":"claude-sonnet-4-5","requests":2,"input_tokens":200,"output_tokens":2000,"cache_write_tokens":0,"cache_read_tokens":0,"cache_write_1h_tokens":0,"batch_usd":0.015300,"standard_usd":0.030600,"saving_usd":0.015300,"input_usd":0.000300,"upper_bound_usd":0.015300}],"total":{"requests":2,"input_tokens":200,"output_tokens":2000,"cache_write_tokens":0,"cache_read_tokens":0,"cache_write_1h_tokens":0,"batch_usd":0.015300,"standard_usd":0.030600,"saving_usd":0.015300,"input_usd":0.000300,"upper_bound_usd":0.015300}}
	EOF
	test_cmp expect out
'

test_expect_success '--exact asks count_tokens, once per request' '
	before=$(mock_stat http) &&
	bt-cost --exact est.jsonl >out &&
	test $(mock_stat http) -eq $((before + 8)) &&
	jq -c "[.kind, .exact_input, .total.input_tokens + .total.cache_write_tokens, .total.requests]" out >actual &&
	echo "[\"estimate\",true,1631,8]" >expect &&
	test_cmp expect actual
'

test_expect_success '--exact: an API failure exits 1 naming the line; no key exits 2' '
	mock_fault "count_tokens:400" &&
	test_expect_code 1 bt-cost --exact two.jsonl >out 2>err &&
	test_grep "^bt-cost: two.jsonl:1: count_tokens: invalid_request_error" err &&
	test_must_be_empty out &&
	(unset ANTHROPIC_API_KEY; test_expect_code 2 bt-cost --exact two.jsonl 2>err) &&
	echo "bt-cost: no API key: set ANTHROPIC_API_KEY or use --api-key-file FILE" >expect &&
	test_cmp expect err &&
	test_expect_code 2 bt-cost --exact results.jsonl 2>err &&
	test_grep "results.jsonl:1: --exact counts the input of requests" err
'

# Overrides, standard prices: claude-haiku-4-5 $2/$10, my-model $0.50/$1.50.
#   claude-haiku-4-5-20251001: 1000*2 + 100*10 = 3000 u$; batch 1500
#   my-model: 1000*0.5 + 1000*1.5 + read 1000*0.5*0.1 = 2050 u$; batch 1025
#   and the haiku row of results.jsonl: 124000*2 + 7000*10 + 1000*2*1.25 +
#   300*2*0.1 = 320560 u$; batch 160280; opus-4-5 untouched: batch 42500
test_expect_success '--prices FILE and BT_PRICES add to and replace the table' '
	cat >prices.json <<-\EOF &&
	{"claude-haiku-4-5": {"input": 2, "output": 10},
	 "my-model": {"input": 0.5, "output": 1.5}}
	EOF
	{ ok p1 claude-haiku-4-5-20251001 1000 100 0 0; ok p2 my-model 1000 1000 0 1000; } >p.jsonl &&
	echo "[[\"claude-haiku-4-5-20251001\",0.0015,0.003],[\"my-model\",0.001025,0.00205]]" >expect &&
	bt-cost --prices prices.json p.jsonl | jq -c "[.models[] | [.model, .batch_usd, .standard_usd]]" >actual &&
	test_cmp expect actual &&
	BT_PRICES=prices.json bt-cost p.jsonl | jq -c "[.models[] | [.model, .batch_usd, .standard_usd]]" >actual &&
	test_cmp expect actual &&
	BT_PRICES="$(cat prices.json)" bt-cost p.jsonl | jq -c "[.models[] | [.model, .batch_usd, .standard_usd]]" >actual &&
	test_cmp expect actual &&
	echo "{\"claude-haiku-4-5\":{\"input\":100,\"output\":100}}" >other.json &&
	BT_PRICES=other.json bt-cost --prices prices.json p.jsonl | jq -c "[.models[] | [.model, .batch_usd, .standard_usd]]" >actual &&
	test_cmp expect actual &&
	echo "[[\"claude-haiku-4-5-20251001\",0.16028],[\"claude-opus-4-5\",0.0425]]" >expect &&
	bt-cost --prices prices.json results.jsonl | jq -c "[.models[] | select(.model | test(\"haiku-4|opus\")) | [.model, .batch_usd]]" >actual &&
	test_cmp expect actual
'

test_expect_success 'bad prices exit 2, named' '
	echo "{\"x\":{\"input\":\"1\",\"output\":2}}" >bad.json &&
	test_expect_code 2 bt-cost --prices bad.json results.jsonl 2>err &&
	echo "bt-cost: bad.json: \"x\": .input must be a number of dollars per million tokens, 0 to 1000" >expect &&
	test_cmp expect err &&
	test_expect_code 2 env BT_PRICES="{\"x\":{\"input\":1,\"output\":2,\"cache\":3}}" bt-cost results.jsonl 2>err &&
	echo "bt-cost: BT_PRICES: \"x\": unknown field \"cache\" (only input, output, cached, image_px, image_tokens)" >expect &&
	test_cmp expect err &&
	test_expect_code 2 bt-cost --prices nosuch.json results.jsonl 2>err &&
	echo "bt-cost: nosuch.json: No such file or directory" >expect &&
	test_cmp expect err
'

test_expect_success 'an unknown model exits 2 naming it and the line, never a silent zero' '
	{ ok u1 claude-haiku-4-5 1 1 0 0; ok u2 claude-opus-4-6 1 1 0 0; } >unknown.jsonl &&
	test_expect_code 2 bt-cost unknown.jsonl >out 2>err &&
	echo "bt-cost: unknown.jsonl:2: unknown model \"claude-opus-4-6\": no price known for it (give its prices with --prices FILE or BT_PRICES)" >expect &&
	test_cmp expect err &&
	test_must_be_empty out &&
	req r1 gpt-9 10 "\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}]" >unknown-req.jsonl &&
	test_expect_code 2 bt-cost <unknown-req.jsonl 2>err &&
	test_grep "^bt-cost: stdin:1: unknown model \"gpt-9\"" err
'

test_expect_success 'requests with bad UTF-8: exit 2 naming line and column; results are read as jq reads them' '
	req r1 claude-haiku-4-5 10 "\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}]" >u.jsonl &&
	printf "{\"custom_id\":\"r2\",\"params\":{\"model\":\"claude-haiku-4-5\",\"max_tokens\":10,\"system\":\"caf\351\"}}\n" >>u.jsonl &&
	test_expect_code 2 bt-cost u.jsonl >out 2>err &&
	echo "bt-cost: u.jsonl:2: invalid UTF-8 at column 85" >expect &&
	test_cmp expect err &&
	test_must_be_empty out &&
	test_expect_code 2 bt-submit --dry-run --max-cost 10 <u.jsonl >out 2>err &&
	echo "bt-submit: stdin:2: invalid UTF-8 at column 85" >expect &&
	test_cmp expect err &&
	ok g1 claude-haiku-4-5 1000000 0 0 0 | sed "s/\"hi\"/\"h$(printf "\351")\"/" >ur.jsonl &&
	bt-cost ur.jsonl | jq -r .total.standard_usd >actual &&
	echo 1 >expect && test_cmp expect actual
'

test_expect_success 'a model name at length or with a control character: quoted cut and shown' '
	m=$(head -c 100000 /dev/zero | tr "\0" m) &&
	req r1 "$m" 10 "\"messages\":[]" >long-req.jsonl &&
	test_expect_code 2 bt-cost long-req.jsonl 2>err &&
	echo "bt-cost: long-req.jsonl:1: unknown model \"$(printf "m%.0s" $(seq 1 40))...\": no price known for it (give its prices with --prices FILE or BT_PRICES)" >expect &&
	test_cmp expect err &&
	ok u1 "gpt\\u001b[2J" 1 1 0 0 >esc.jsonl &&
	test_expect_code 2 bt-cost esc.jsonl 2>err &&
	echo "bt-cost: esc.jsonl:1: unknown model \"gpt\\x1b[2J\": no price known for it (give its prices with --prices FILE or BT_PRICES)" >expect &&
	test_cmp expect err &&
	req r1 "claude-haiku-4-5\\u0000x" 10 "\"messages\":[]" >nul-req.jsonl &&
	test_expect_code 2 bt-cost nul-req.jsonl 2>err &&
	echo "bt-cost: nul-req.jsonl:1: params.model: not a model name" >expect &&
	test_cmp expect err &&
	test_expect_code 2 bt-submit --dry-run --max-cost 10 <long-req.jsonl >out 2>err &&
	echo "bt-submit: stdin:1: unknown model \"$(printf "m%.0s" $(seq 1 40))...\": no price known for it (give its prices in BT_PRICES)" >expect &&
	test_cmp expect err
'

test_expect_success 'dated and -latest names take their model prices; others do not' '
	for m in claude-3-5-haiku-20241022 claude-3-5-haiku-latest claude-3-5-haiku; do
		ok d1 $m 1000000 0 0 0 | bt-cost | jq -r .total.standard_usd || echo failed
	done >actual &&
	printf "%s\n" 0.8 0.8 0.8 >expect &&
	test_cmp expect actual &&
	ok d2 claude-3-5-haiku-2024 1 1 0 0 >odd.jsonl &&
	test_expect_code 2 bt-cost odd.jsonl 2>err &&
	test_grep "unknown model \"claude-3-5-haiku-2024\"" err
'

test_expect_success 'requests and results mixed: exit 2 naming the line' '
	{ head -n 1 two.jsonl; head -n 1 results.jsonl; } >mixed.jsonl &&
	test_expect_code 2 bt-cost mixed.jsonl >out 2>err &&
	echo "bt-cost: mixed.jsonl:2: a result among requests (mixed.jsonl:1 was a request): give requests or results, not both" >expect &&
	test_cmp expect err &&
	test_must_be_empty out &&
	test_expect_code 2 bt-cost results.jsonl two.jsonl 2>err &&
	echo "bt-cost: two.jsonl:1: a request among results (results.jsonl:1 was a result): give requests or results, not both" >expect &&
	test_cmp expect err
'

test_expect_success 'bad input names file and line, exit 2' '
	{ ok g1 claude-haiku-4-5 1 1 0 0; echo "{\"custom_id\":\"g2\",\"result\":"; } >broken.jsonl &&
	test_expect_code 2 bt-cost broken.jsonl 2>err &&
	test_grep "^bt-cost: broken.jsonl:2: invalid JSON" err &&
	echo "{\"custom_id\":\"n1\",\"other\":1}" >neither.jsonl &&
	test_expect_code 2 bt-cost neither.jsonl 2>err &&
	echo "bt-cost: neither.jsonl:1: neither a request (no \"params\") nor a result (no \"result\")" >expect &&
	test_cmp expect err &&
	req m1 claude-haiku-4-5 0 "\"messages\":[]" >maxt.jsonl &&
	test_expect_code 2 bt-cost maxt.jsonl 2>err &&
	echo "bt-cost: maxt.jsonl:1: params.max_tokens: not a whole number 1 or more" >expect &&
	test_cmp expect err &&
	printf "%s\n" "{\"custom_id\":\"n2\",\"result\":{\"type\":\"succeeded\",\"message\":{\"model\":\"claude-haiku-4-5\",\"usage\":{\"input_tokens\":-1,\"output_tokens\":1}}}}" >neg.jsonl &&
	test_expect_code 2 bt-cost neg.jsonl 2>err &&
	echo "bt-cost: neg.jsonl:1: result.message.usage.input_tokens: not a whole number 0 or more" >expect &&
	test_cmp expect err &&
	test_expect_code 2 bt-cost --bogus 2>err &&
	test_grep "^usage: bt-cost" err
'

# Cents, half up: opus 4.25c -> $0.04, 8.5c -> $0.09; haiku 8.014c -> $0.08,
# 16.028c -> $0.16; total 12.2662c -> $0.12, 24.5324c -> $0.25.
test_expect_success 'each result priced by its service_tier: batch and standard apart' '
	{ ok t1 claude-haiku-4-5 1000000 0 0 0 | sed "s/\"usage\":{/\"usage\":{\"service_tier\":\"batch\",/" &&
	  ok t2 claude-haiku-4-5 1000000 0 0 0 | sed "s/\"usage\":{/\"usage\":{\"service_tier\":\"standard\",/" &&
	  ok t3 claude-haiku-4-5 1000000 0 0 0; } >tiers.jsonl &&
	bt-cost tiers.jsonl | jq -c "[.models[] | [.model, .tier, .requests, .cost_usd]], .total.cost_usd" >actual &&
	printf "[[\"claude-haiku-4-5\",\"batch\",2,1],[\"claude-haiku-4-5\",\"standard\",1,1]]\n2\n" >expect &&
	test_cmp expect actual &&
	bt-cost -H tiers.jsonl | cut -c1-40 >table &&
	test_grep "^claude-haiku-4-5  standard" table &&
	test_grep "^claude-haiku-4-5  batch  " table
'

# tiers.jsonl: two results at batch prices, one at the standard price.  The
# standard row saved nothing; the total saved $3 at standard less $2 paid.
test_expect_success '-H: no saving on a row billed at the standard price' '
	bt-cost -H tiers.jsonl >out &&
	cat >expect <<-\EOF &&
	model             tier      requests    input  output  cache write  cache read   cost  at batch  at standard  saving
	claude-haiku-4-5  batch            2  2000000       0            0           0  $1.00     $1.00        $2.00   $1.00
	claude-haiku-4-5  standard         1  1000000       0            0           0  $1.00     $0.50        $1.00       -
	total                              3  3000000       0            0           0  $2.00     $1.50        $3.00   $1.00
	not billed: 0 errored, 0 canceled, 0 expired
	EOF
	test_cmp expect out &&
	bt-cost tiers.jsonl | jq -c "[.models[].saving_usd, .total.saving_usd]" >actual &&
	echo "[1,0,1]" >expect && test_cmp expect actual
'

test_expect_success '--sync: an estimate at standard prices' '
	bt-cost --sync two.jsonl | jq -c "[.tier, .total.upper_bound_usd, .total.standard_usd]" >actual &&
	echo "[\"standard\",0.0306,0.0306]" >expect && test_cmp expect actual &&
	bt-cost --sync -H two.jsonl | head -n 1 >head &&
	test_grep "upper bounds, but for the text \(a rough count\) \(--sync: the standard one\)" head
'

test_expect_success '-H: a table for people, cents rounded half up' '
	bt-cost -H results.jsonl >out &&
	cat >expect <<-\EOF &&
	model                      tier   requests   input  output  cache write  cache read   cost  at batch  at standard  saving
	claude-3-5-haiku-20241022  batch         1       3       7           11          13  $0.00     $0.00        $0.00   $0.00
	claude-3-haiku             batch         1       6       0            0           0  $0.00     $0.00        $0.00   $0.00
	claude-haiku-4-5-20251001  batch         2  124000    7000         1000         300  $0.08     $0.08        $0.16   $0.08
	claude-opus-4-5            batch         1    1000    2000         4000       10000  $0.04     $0.04        $0.09   $0.04
	total                                    5  125009    9007         5011       10313  $0.12     $0.12        $0.25   $0.12
	not billed: 2 errored, 1 canceled, 1 expired
	EOF
	test_cmp expect out
'

test_expect_success '-H for an estimate says so' '
	bt-cost -H two.jsonl >out &&
	cat >expect <<-\EOF &&
	estimate: input estimated as ceil(bytes/4) of the text, images and PDFs at their most, cached prefixes as cache writes, output at most max_tokens; the costs are upper bounds, but for the text (a rough count)
	model              requests  input  max output  batch  standard  saving
	claude-sonnet-4-5         2    200        2000  $0.02     $0.03   $0.02
	total                     2    200        2000  $0.02     $0.03   $0.02
	the input alone: $0.00 at batch prices
	EOF
	test_cmp expect out
'

# bt-submit --max-cost.  Three requests to claude-opus-4-1 ($15/$75),
# content "hello" (5 bytes -> 2 tokens), max_tokens 100000 each; at batch
# prices, each (2*15 + 100000*75)/2 = 3750015 u$: the job 11250045 u$,
# $11.250045, $11.25 to the cent.
test_expect_success 'bt-submit --max-cost: over the cap, nothing sent, exit 2, the figure named' '
	for i in 1 2 3; do
		req o$i claude-opus-4-1 100000 "\"messages\":[{\"role\":\"user\",\"content\":\"hello\"}]"
	done >opus.jsonl &&
	before=$(mock_stat creates) &&
	test_expect_code 2 bt-submit --max-cost 10.00 <opus.jsonl >out 2>err &&
	echo "bt-submit: the upper bound of this job is \$11.25 (batch prices), over --max-cost 10.00: nothing sent" >expect &&
	test_cmp expect err &&
	test_must_be_empty out &&
	test $(mock_stat creates) -eq $before &&
	test_expect_code 2 bt-submit --max-cost 11.25 <opus.jsonl 2>err &&
	echo "bt-submit: the upper bound of this job is \$11.250045 (batch prices), over --max-cost 11.25: nothing sent" >expect &&
	test_cmp expect err &&
	test $(mock_stat creates) -eq $before &&
	ls -a .bt/spool >spool &&
	test_must_fail grep max-cost spool
'

# An image by URL counts 1600 tokens (the most an image counts): 1000
# requests of claude-opus-4-1 ($15 input) are 1601000 tokens, $12.0075 at
# batch prices, with max_tokens 1 (1000 tokens at $75: $0.0375) $12.045:
# over $12, where counting the image as 0 would make it $0.045.
test_expect_success 'bt-submit --max-cost counts images: an image job is not free' '
	for i in $(seq 1000); do
		req i$i claude-opus-4-1 1 "\"messages\":[{\"role\":\"user\",\"content\":[{\"type\":\"image\",\"source\":{\"type\":\"url\",\"url\":\"https://example.com/$i.png\"}},{\"type\":\"text\",\"text\":\"x\"}]}]"
	done >img.jsonl &&
	test_expect_code 2 bt-submit --dry-run --max-cost 12 <img.jsonl >out 2>err &&
	echo "bt-submit: the upper bound of this job is \$12.05 (batch prices), over --max-cost 12: nothing sent" >expect &&
	test_cmp expect err
'

test_expect_success 'bt-submit --max-cost: within the cap, the batch is made from the same lines' '
	before=$(mock_stat creates) &&
	bt-submit -v --max-cost 11.260 <opus.jsonl >out 2>err &&
	test_lines 1 out &&
	test $(mock_stat creates) -eq $((before + 1)) &&
	echo "bt-submit: the upper bound of this job is \$11.25 (batch prices), within --max-cost 11.260" >expect &&
	test_cmp expect err &&
	jq -r .request_counts.processing out >n && echo 3 >expect && test_cmp expect n &&
	bt-submit <opus.jsonl >again &&
	test_cmp out again
'

test_expect_success 'bt-submit --max-cost: chunk files and chunk lists are costed whole first' '
	bt-split -n 2 -d chunks <opus.jsonl >list &&
	before=$(mock_stat creates) &&
	test_expect_code 2 bt-submit --max-cost 10 <list 2>err &&
	test_grep "upper bound of this job is \\\$11.25 .*over --max-cost 10:" err &&
	test_expect_code 2 bt-submit --max-cost 10 chunks/chunk.0001.jsonl chunks/chunk.0002.jsonl 2>err &&
	test_grep "upper bound of this job is \\\$11.25 " err &&
	test $(mock_stat creates) -eq $before &&
	bt-submit --max-cost 7.51 chunks/chunk.0001.jsonl >out &&
	test_lines 1 out &&
	test $(mock_stat creates) -eq $((before + 1)) &&
	bt-submit --max-cost 12 <list >out &&
	test_lines 2 out &&
	test $(mock_stat creates) -eq $((before + 2))
'

test_expect_success 'bt-submit --max-cost: bad input and line numbers as without it' '
	{ echo; head -n 2 opus.jsonl; head -n 1 opus.jsonl; } >dup.jsonl &&
	test_expect_code 2 bt-submit --max-cost 100 <dup.jsonl 2>err &&
	echo "bt-submit: stdin:4: duplicate custom_id \"o1\" (first on line 2)" >expect &&
	test_cmp expect err &&
	req z1 claude-opus-9 10 "\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}]" >z.jsonl &&
	test_expect_code 2 bt-submit --max-cost 100 <z.jsonl 2>err &&
	test_grep "^bt-submit: stdin:1: unknown model \"claude-opus-9\"" err &&
	test_expect_code 2 bt-submit --max-cost ten <z.jsonl 2>err &&
	echo "bt-submit: --max-cost: not an amount of dollars: '"'"'ten'"'"'" >expect &&
	test_cmp expect err &&
	BT_PRICES="{\"claude-opus-9\":{\"input\":1,\"output\":1}}" bt-submit --max-cost 1 <z.jsonl >out &&
	test_lines 1 out
'

test_expect_success 'a full disk: exit 1, said' '
	echo "{\"custom_id\":\"a\",\"params\":{\"model\":\"claude-haiku-4-5\",\"max_tokens\":5,\"messages\":[{\"role\":\"user\",\"content\":\"x\"}]}}" >full.jsonl &&
	test_expect_code 1 bt-cost full.jsonl >/dev/full 2>err &&
	echo "bt-cost: write error on standard output: No space left on device" >expect &&
	test_cmp expect err
'

test_done
