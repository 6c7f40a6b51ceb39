#!/bin/sh
# bt-split with OpenAI requests: chunks within OpenAI's limits (50,000
# lines, 200 MB), one model and one url a chunk, and a stream of one
# provider.
. "${0%/*}/lib.sh"
unset BT_PROVIDER

# oreqs FIRST LAST [MODEL [URL]]: OpenAI requests o<N>
oreqs() {
	perl -e 'my ($a, $b, $m, $u) = @ARGV;
		printf qq({"custom_id":"o%d","method":"POST","url":"%s","body":{"model":"%s","messages":[{"role":"user","content":"%d"}]}}\n),
			$_, $u, $m, $_ for $a .. $b' "$1" "$2" "${3:-gpt-4.1-mini}" "${4:-/v1/chat/completions}"
}
# emb FIRST LAST [MODEL]: OpenAI embedding requests e<N>
emb() {
	perl -e 'my ($a, $b, $m) = @ARGV;
		printf qq({"custom_id":"e%d","method":"POST","url":"/v1/embeddings","body":{"model":"%s","input":"text %d"}}\n),
			$_, $m, $_ for $a .. $b' "$1" "$2" "${3:-text-embedding-3-small}"
}

test_expect_success 'one model and url: one chunk, byte for byte; -n cuts it as for Anthropic' '
	mkdir one && cd one &&
	oreqs 1 5 >in.jsonl &&
	bt-split in.jsonl >out &&
	echo chunk.0001.jsonl >expect &&
	test_cmp expect out &&
	test_cmp in.jsonl chunk.0001.jsonl &&
	rm chunk.0001.jsonl &&
	bt-split -n 2 in.jsonl >out &&
	printf "chunk.%s.jsonl\n" 0001 0002 0003 >expect &&
	test_cmp expect out &&
	sed -n 1,2p in.jsonl >expect.1 && test_cmp expect.1 chunk.0001.jsonl &&
	sed -n 5p in.jsonl >expect.3 && test_cmp expect.3 chunk.0003.jsonl
'

test_expect_success 'each line is a BatchRequestInput of the official schema' '
	oreqs 1 3 >schema.jsonl && emb 1 2 >>schema.jsonl &&
	"$TESTS/schema-check.py" --spec "$TESTS/api/openai-openapi-subset.json" BatchRequestInput schema.jsonl
'

test_expect_success '50,001 lines: a chunk of 50,000 (OpenAI limit), then one of 1; -n 100000 does not raise it' '
	mkdir lim && cd lim &&
	emb 1 50001 >in.jsonl &&
	bt-split -n 100000 in.jsonl >out &&
	printf "chunk.%s.jsonl\n" 0001 0002 >expect &&
	test_cmp expect out &&
	test_lines 50000 chunk.0001.jsonl &&
	sed -n 50001p in.jsonl >expect.2 &&
	test_cmp expect.2 chunk.0002.jsonl
'

test_expect_success '-b cuts OpenAI chunks by their bytes, newlines counted' '
	mkdir bytes && cd bytes &&
	emb 1 4 >in.jsonl &&
	n=$(head -n 1 in.jsonl | wc -c) &&
	bt-split -b $((2 * n)) in.jsonl >out &&
	printf "chunk.%s.jsonl\n" 0001 0002 >expect &&
	test_cmp expect out &&
	sed -n 1,2p in.jsonl >expect.1 && test_cmp expect.1 chunk.0001.jsonl
'

test_expect_success 'an OpenAI request bigger than a chunk: exit 2 naming it, nothing left' '
	mkdir big && cd big &&
	emb 1 1 >in.jsonl &&
	n=$(wc -c <in.jsonl) &&
	test_expect_code 2 bt-split -b $((n - 1)) -d d in.jsonl >out 2>err &&
	echo "bt-split: in.jsonl:1: request is $n bytes with its newline, more than the chunk limit of $((n - 1)) bytes" >expect &&
	test_cmp expect err &&
	test_must_be_empty out &&
	ls -A d >files &&
	test_must_be_empty files
'

test_expect_success 'a new model or url starts a new chunk; input order is kept' '
	mkdir models && cd models &&
	{ oreqs 1 2 gpt-4.1-mini && oreqs 3 3 gpt-4.1 && emb 4 5 &&
	  emb 6 6 text-embedding-3-large && oreqs 7 8 gpt-4.1-mini; } >in.jsonl &&
	bt-split in.jsonl >out &&
	printf "chunk.%s.jsonl\n" 0001 0002 0003 0004 0005 >expect &&
	test_cmp expect out &&
	sed -n 1,2p in.jsonl >e && test_cmp e chunk.0001.jsonl &&
	sed -n 3p in.jsonl >e && test_cmp e chunk.0002.jsonl &&
	sed -n 4,5p in.jsonl >e && test_cmp e chunk.0003.jsonl &&
	sed -n 6p in.jsonl >e && test_cmp e chunk.0004.jsonl &&
	sed -n 7,8p in.jsonl >e && test_cmp e chunk.0005.jsonl &&
	cat chunk.*.jsonl >all && test_cmp in.jsonl all
'

test_expect_success 'the same url with another model (same endpoint): a new chunk; a model written with an escape is the same model' '
	mkdir esc && cd esc &&
	oreqs 1 1 gpt-4.1 >in.jsonl &&
	echo "{\"custom_id\":\"o2\",\"method\":\"POST\",\"url\":\"/v1/chat/completions\",\"body\":{\"model\":\"gpt\\u002d4.1\",\"messages\":[]}}" >>in.jsonl &&
	oreqs 3 3 gpt-4.1-nano >>in.jsonl &&
	bt-split in.jsonl >out &&
	printf "chunk.%s.jsonl\n" 0001 0002 >expect &&
	test_cmp expect out &&
	sed -n 1,2p in.jsonl >e && test_cmp e chunk.0001.jsonl
'

test_expect_success 'an Anthropic line in an OpenAI stream: exit 2 naming both lines; chunks before it stay whole' '
	mkdir mix1 && cd mix1 &&
	{ oreqs 1 2 && echo "{\"custom_id\":\"a\",\"params\":{\"model\":\"m\"}}"; } >in.jsonl &&
	test_expect_code 2 bt-split -n 1 in.jsonl >out 2>err &&
	echo "bt-split: in.jsonl:3: an Anthropic request in a stream of OpenAI requests (line 1): a stream is one provider'"'"'s" >expect &&
	test_cmp expect err &&
	printf "chunk.%s.jsonl\n" 0001 0002 >expect &&
	test_cmp expect out &&
	ls -A >files &&
	printf "%s\n" chunk.0001.jsonl chunk.0002.jsonl err expect files in.jsonl out >expect &&
	test_cmp expect files
'

test_expect_success 'an OpenAI line in an Anthropic stream: exit 2, nothing left' '
	mkdir mix2 && cd mix2 &&
	{ echo && echo "{\"custom_id\":\"a\",\"params\":{\"model\":\"m\"}}" && oreqs 1 1; } >in.jsonl &&
	test_expect_code 2 bt-split in.jsonl >out 2>err &&
	echo "bt-split: in.jsonl:3: an OpenAI request in a stream of Anthropic requests (line 2): a stream is one provider'"'"'s" >expect &&
	test_cmp expect err &&
	test_must_be_empty out &&
	ls -A >files &&
	printf "%s\n" err expect files in.jsonl out >expect &&
	test_cmp expect files
'

# obad NAME LINE MESSAGE: LINE after an OpenAI request: exit 2, the message
obad() {
	{ oreqs 1 1 && printf "%s\n" "$2"; } >"$1.jsonl" &&
	test_expect_code 2 bt-split -d "$1" "$1.jsonl" >"$1.out" 2>"$1.err" &&
	echo "bt-split: $1.jsonl:2: $3" >"$1.expect" &&
	test_cmp "$1.expect" "$1.err" &&
	test_must_be_empty "$1.out"
}

test_expect_success 'bad OpenAI lines: named by line, exit 2' '
	u="\"url\":\"/v1/embeddings\"" &&
	obad nomethod "{\"custom_id\":\"x\",$u,\"body\":{\"model\":\"m\"}}" "missing method" &&
	obad get "{\"custom_id\":\"x\",\"method\":\"GET\",$u,\"body\":{\"model\":\"m\"}}" \
		"method is \"GET\", not \"POST\"" &&
	obad nourl "{\"custom_id\":\"x\",\"method\":\"POST\",\"body\":{\"model\":\"m\"}}" "missing url" &&
	obad badurl "{\"custom_id\":\"x\",\"method\":\"POST\",\"url\":\"/v1/messages\",\"body\":{}}" \
		"url \"/v1/messages\" is not an endpoint of the Batch API (/v1/chat/completions, /v1/embeddings, /v1/responses, /v1/completions, /v1/moderations)" &&
	obad nobody "{\"custom_id\":\"x\",\"method\":\"POST\",$u}" "missing body" &&
	obad arrbody "{\"custom_id\":\"x\",\"method\":\"POST\",$u,\"body\":[]}" "body is an array, not an object" &&
	obad nomodel "{\"custom_id\":\"x\",\"method\":\"POST\",$u,\"body\":{\"input\":\"t\"}}" \
		"body.model: a non-empty string of at most 256 bytes is required" &&
	obad extra "{\"custom_id\":\"x\",\"method\":\"POST\",$u,\"body\":{\"model\":\"m\"},\"params\":{}}" \
		"an Anthropic request in a stream of OpenAI requests (line 1): a stream is one provider'"'"'s" &&
	obad unk "{\"custom_id\":\"x\",\"method\":\"POST\",$u,\"body\":{\"model\":\"m\"},\"x\":1}" \
		"unknown member \"x\" (an OpenAI request has only custom_id, method, url and body)" &&
	obad badid "{\"custom_id\":\"a b\",\"method\":\"POST\",$u,\"body\":{\"model\":\"m\"}}" \
		"invalid custom_id \"a b\": it must match ^[a-zA-Z0-9_-]{1,64}\$" &&
	obad dup "{\"custom_id\":\"o1\",\"method\":\"POST\",$u,\"body\":{\"model\":\"m\"}}" \
		"duplicate custom_id \"o1\" (first on line 1)"
'

test_done
