#!/bin/sh
# bt-mock's OpenAI side with curl: files, batches from upload to output
# file, validation failures with their lines, metadata, pages, 404s,
# auth, faults, and the synchronous chat completions and embeddings
# (tests/mock-openai-limits.t: what the options make happen).  Every body and line is checked against
# tests/api/openai-openapi-subset.json (tests/schema-check.py).
. "${0%/*}/lib.sh"
. "$TESTS/openai-lib.sh"
schema_serve || exit 1

mock_start --processing-time 0.3 --ordered --key "$KEY" $MODELS

test_expect_success 'upload: an OpenAIFile; get it again; expires_after; bad forms are 400' '
	{ line a "ticket one"; line b "ticket two"; } >two.jsonl &&
	id=$(upload two.jsonl) &&
	ocall 200 got.jsonl GET "/files/$id" &&
	tail -n 1 files.jsonl >expect && test_cmp expect got.jsonl &&
	jq -c "[.object, .bytes, .filename, .purpose, .expires_at - .created_at]" got.jsonl >actual &&
	echo "[\"file\",$(wc -c <two.jsonl),\"two.jsonl\",\"batch\",2592000]" >expect &&
	test_cmp expect actual &&
	ocall 200 exp.jsonl POST /files -F file=@two.jsonl -F purpose=batch \
		-F "expires_after[anchor]=created_at" -F "expires_after[seconds]=3600" &&
	test "$(jq ".expires_at - .created_at" exp.jsonl)" = 3600 &&
	ocheck OpenAIFile files.jsonl got.jsonl exp.jsonl &&
	ocall 400 bad.jsonl POST /files -F file=@two.jsonl &&
	ocall 400 bad.jsonl POST /files -F purpose=batch &&
	ocall 400 bad.jsonl POST /files -F file=@two.jsonl -F purpose=nothing &&
	ocall 400 bad.jsonl POST /files -F file=@two.jsonl -F purpose=batch \
		-F "expires_after[anchor]=created_at" -F "expires_after[seconds]=60" &&
	ocall 400 bad.jsonl POST /files --data-binary @two.jsonl &&
	jq -r .error.param bad.jsonl >actual &&
	printf "%s\n" purpose file purpose expires_after.seconds null >expect &&
	test_cmp expect actual &&
	ocheck ErrorResponse bad.jsonl
'

test_expect_success 'a batch: validating, then completed; its output file in request order' '
	{
		line plain "my order is late"
		line cut "a long answer cut short" ",\"max_completion_tokens\":2"
		line cut-old "cut by max_tokens too" ",\"max_tokens\":1"
		line format "the app crashes" "$fmt"
		line tool "how do I log in" "$tool"
	} >in.jsonl &&
	ocheck BatchRequestInput in.jsonl &&
	jq -c .body in.jsonl | ocheck CreateChatCompletionRequest &&
	: >batches.jsonl &&
	id=$(create in.jsonl) &&
	test "$(jq -r "[.status, .request_counts.total, .output_file_id] | @tsv" batches.jsonl)" = "$(printf "validating\t5\t")" &&
	wait_for status_is "$id" completed &&
	ocall 200 done.jsonl GET "/batches/$id" &&
	jq -c "[.request_counts, .error_file_id, .completed_at >= .created_at, .finalizing_at != null, .in_progress_at != null, .model]" done.jsonl >actual &&
	echo "[{\"total\":5,\"completed\":5,\"failed\":0},null,true,true,true,\"gpt-4.1-mini\"]" >expect &&
	test_cmp expect actual &&
	ocheck Batch batches.jsonl done.jsonl &&
	oapi GET "/files/$(jq -r .output_file_id done.jsonl)/content" >out.jsonl &&
	ocheck BatchRequestOutput out.jsonl &&
	jq -c ".response.body" out.jsonl | ocheck CreateChatCompletionResponse &&
	jq -c "[.custom_id, .response.status_code, .error, .response.body.choices[0].finish_reason, .response.body.choices[0].message.content]" out.jsonl >actual &&
	cat >expect <<-\EOF &&
	["plain",200,null,"stop","my order is late"]
	["cut",200,null,"length","a long a"]
	["cut-old",200,null,"length","cut "]
	["format",200,null,"stop",null]
	["tool",200,null,"tool_calls",null]
	EOF
	jq -c "if .[0] == \"format\" then .[4] = null else . end" actual >masked &&
	test_cmp expect masked
'

test_expect_success 'answers: json_schema text and forced function arguments validate, and show their request' '
	echo "$schema" >schema.json &&
	jq -c "select(.custom_id == \"format\") | .response.body.choices[0].message.content" out.jsonl >answers &&
	jq -c "select(.custom_id == \"tool\") | .response.body.choices[0].message.tool_calls[0].function.arguments" out.jsonl >>answers &&
	test_lines 2 answers &&
	valid schema.json answers &&
	test_grep "crashes" answers &&
	test_grep "log in" answers &&
	jq -r "select(.custom_id == \"tool\") | .response.body.choices[0].message.tool_calls[0] | [.type, .function.name, (.id | test(\"^call_\"))] | @tsv" out.jsonl >actual &&
	printf "function\tlabel\ttrue\n" >expect &&
	test_cmp expect actual &&
	jq -r ".id, .response.request_id, .response.body.id" out.jsonl | sed -E "s/[A-Za-z0-9]{24}$//" | sort | uniq -c | sed "s/^ *//" >actual &&
	printf "%s\n" "5 batch_req_" "5 chatcmpl-" "5 req_" >expect &&
	test_cmp expect actual
'

test_expect_success 'validation fails the batch whole: failed, errors.data with 1-based lines' '
	{
		line ok-1 "fine"
		echo "{not json"
		printf "%s\n" "{\"custom_id\":\"url\",\"method\":\"POST\",\"url\":\"/v1/embeddings\",\"body\":{\"model\":\"gpt-4.1-mini\",\"messages\":[]}}"
		line ok-1 "the same custom_id again"
		echo
		printf "%s\n" "{\"custom_id\":\"model\",\"method\":\"POST\",\"url\":\"/v1/chat/completions\",\"body\":{\"model\":\"gpt-4.1\",\"messages\":[]}}"
		printf "%s\n" "{\"method\":\"POST\",\"url\":\"/v1/chat/completions\",\"body\":{\"model\":\"gpt-4.1-mini\"}}"
		printf "%s\n" "{\"custom_id\":\"nobody\",\"method\":\"POST\",\"url\":\"/v1/chat/completions\"}"
		line ok-2 "fine too"
	} >invalid.jsonl &&
	: >batches.jsonl &&
	id=$(create invalid.jsonl) &&
	test "$(jq -r .status batches.jsonl)" = validating &&
	wait_for status_is "$id" failed &&
	ocall 200 failed.jsonl GET "/batches/$id" &&
	jq -c ".errors.data[] | [.line, .code, .param]" failed.jsonl >actual &&
	cat >expect <<-\EOF &&
	[2,"invalid_json_line",null]
	[3,"invalid_url","url"]
	[4,"duplicate_custom_id","custom_id"]
	[6,"mismatched_model","body.model"]
	[7,"missing_required_parameter","custom_id"]
	[8,"missing_required_parameter","body"]
	EOF
	test_cmp expect actual &&
	jq -c "[.errors.object, .request_counts, .output_file_id, .error_file_id, .failed_at != null, .completed_at]" failed.jsonl >actual &&
	echo "[\"list\",{\"total\":0,\"completed\":0,\"failed\":0},null,null,true,null]" >expect &&
	test_cmp expect actual &&
	ocheck Batch batches.jsonl failed.jsonl &&
	ocall 400 late.jsonl POST "/batches/$id/cancel" &&
	ocheck ErrorResponse late.jsonl
'

test_expect_success 'create: bad bodies are 400, an unknown file 404, a file of another purpose 400' '
	f=$(jq -r .id got.jsonl) &&
	ocall 400 cbad.jsonl POST /batches -d "{\"endpoint\":\"/v1/chat/completions\",\"completion_window\":\"24h\"}" &&
	ocall 400 cbad.jsonl POST /batches -d "{\"input_file_id\":\"$f\",\"endpoint\":\"/v1/completions\",\"completion_window\":\"24h\"}" &&
	ocall 400 cbad.jsonl POST /batches -d "{\"input_file_id\":\"$f\",\"endpoint\":\"/v1/chat/completions\",\"completion_window\":\"48h\"}" &&
	ocall 400 cbad.jsonl POST /batches -d "{\"input_file_id\":\"$f\",\"endpoint\":\"/v1/chat/completions\",\"completion_window\":\"24h\",\"metadata\":{\"k\":1}}" &&
	ocall 400 cbad.jsonl POST /batches -d "not json" &&
	ocall 200 vision.jsonl POST /files -F file=@two.jsonl -F purpose=vision &&
	ocall 400 cbad.jsonl POST /batches -d "{\"input_file_id\":\"$(jq -r .id vision.jsonl)\",\"endpoint\":\"/v1/chat/completions\",\"completion_window\":\"24h\"}" &&
	jq -r .error.param cbad.jsonl >actual &&
	printf "%s\n" input_file_id endpoint completion_window metadata null input_file_id >expect &&
	test_cmp expect actual &&
	ocall 404 c404.jsonl POST /batches -d "{\"input_file_id\":\"file-nope\",\"endpoint\":\"/v1/chat/completions\",\"completion_window\":\"24h\"}" &&
	ocheck ErrorResponse cbad.jsonl c404.jsonl
'

test_expect_success 'metadata: kept and listed; 17 pairs are too many' '
	f=$(jq -r .id got.jsonl) &&
	ocall 200 meta.jsonl POST /batches -d "{\"input_file_id\":\"$f\",\"endpoint\":\"/v1/chat/completions\",\"completion_window\":\"24h\",\"metadata\":{\"bt_attempt\":\"a1b2\"}}" &&
	id=$(jq -r .id meta.jsonl) &&
	oapi GET "/batches?limit=100" | jq -c ".data[] | select(.id == \"$id\") | .metadata" >actual &&
	echo "{\"bt_attempt\":\"a1b2\"}" >expect &&
	test_cmp expect actual &&
	m=$(seq 17 | jq -R . | jq -sc "map({key: (\"k\" + .), value: \"v\"}) | from_entries") &&
	ocall 400 m17.jsonl POST /batches -d "{\"input_file_id\":\"$f\",\"endpoint\":\"/v1/chat/completions\",\"completion_window\":\"24h\",\"metadata\":$m}"
'

test_expect_success 'list: newest first, pages by after and limit; the SDK shape' '
	oapi GET "/batches?limit=100" | jq -r ".data[].id" >all &&
	test_lines 3 all &&
	ocall 200 pages.jsonl GET "/batches?limit=2" &&
	ocall 200 pages.jsonl GET "/batches?limit=2&after=$(jq -r .last_id pages.jsonl)" &&
	jq -r ".data[].id" pages.jsonl >paged &&
	test_cmp all paged &&
	jq -c "[.object, (.data | length), .has_more, .first_id == .data[0].id, .last_id == .data[-1].id]" pages.jsonl >actual &&
	printf "%s\n" "[\"list\",2,true,true,true]" "[\"list\",1,false,true,true]" >expect &&
	test_cmp expect actual &&
	jq -r ".data[].created_at" pages.jsonl >times && sort -rn times >sorted && test_cmp sorted times &&
	ocheck ListBatchesResponse pages.jsonl &&
	ocall 400 lbad.jsonl GET "/batches?limit=101" &&
	ocall 400 lbad.jsonl GET "/batches?after=batch_nope" &&
	ocall 200 flist.jsonl GET "/files?purpose=batch&limit=2" &&
	ocall 200 flist.jsonl GET "/files?purpose=batch&limit=2&after=$(jq -r .last_id flist.jsonl)" &&
	jq -c "[(.data | length), .has_more, ([.data[].purpose] | unique)]" flist.jsonl >actual &&
	printf "%s\n" "[2,true,[\"batch\"]]" "[2,false,[\"batch\"]]" >expect &&
	test_cmp expect actual &&
	ocheck ListFilesResponse flist.jsonl
'

test_expect_success 'delete a file: DeleteFileResponse, then 404; a batch made from it still runs' '
	{ line d1 "one"; line d2 "two"; } >del.jsonl &&
	: >batches.jsonl &&
	id=$(create del.jsonl) &&
	f=$(jq -r .input_file_id batches.jsonl) &&
	ocall 200 deleted.jsonl DELETE "/files/$f" &&
	ocheck DeleteFileResponse deleted.jsonl &&
	test "$(jq -c "[.id == \"$f\", .deleted]" deleted.jsonl)" = "[true,true]" &&
	ocall 404 gone.jsonl GET "/files/$f" &&
	ocall 404 gone.jsonl GET "/files/$f/content" &&
	ocall 404 gone.jsonl DELETE "/files/$f" &&
	wait_for status_is "$id" completed &&
	oapi GET "/files/$(oapi GET "/batches/$id" | jq -r .output_file_id)/content" | jq -r .custom_id >actual &&
	printf "%s\n" d1 d2 >expect &&
	test_cmp expect actual
'

test_expect_success '404s: unknown batch and file ids, in the error envelope' '
	ocall 404 nf.jsonl GET /batches/batch_nope &&
	ocall 404 nf.jsonl POST /batches/batch_nope/cancel &&
	ocall 404 nf.jsonl GET /files/file-nope &&
	ocall 404 nf.jsonl GET /files/file-nope/content &&
	ocall 404 nf.jsonl DELETE /files/file-nope &&
	ocheck ErrorResponse nf.jsonl &&
	jq -r .error.type nf.jsonl | sort -u >actual &&
	echo invalid_request_error >expect &&
	test_cmp expect actual
'

test_expect_success 'auth: no key, a wrong key, x-api-key alone: 401, and the key is never echoed' '
	for h in "X-Nothing: 1" "Authorization: Bearer sk-wrong-key" "x-api-key: $KEY"; do
		code=$(curl -sS -H "$h" -o body -w "%{http_code}" "$MOCK_URL/v1/batches") &&
		test "$code" = 401 && cat body >>a401.jsonl && echo >>a401.jsonl || exit 1
	done &&
	ocheck ErrorResponse a401.jsonl &&
	jq -c .error.code a401.jsonl >actual &&
	printf "%s\n" null "\"invalid_api_key\"" null >expect &&
	test_cmp expect actual &&
	! grep -e sk-wrong-key -e "$KEY" a401.jsonl mock.log
'

test_expect_success 'sync chat: a chat.completion of the request; schema and forced function validate' '
	jq -c .body in.jsonl >bodies &&
	while IFS= read -r b; do
		ocall 200 chat.jsonl POST /chat/completions -d "$b" || exit 1
	done <bodies &&
	ocheck CreateChatCompletionResponse chat.jsonl &&
	jq -c "[.object, .choices[0].finish_reason, .usage.total_tokens == .usage.prompt_tokens + .usage.completion_tokens, .usage.prompt_tokens_details.cached_tokens, .usage.completion_tokens_details.reasoning_tokens]" chat.jsonl >actual &&
	cat >expect <<-\EOF &&
	["chat.completion","stop",true,0,0]
	["chat.completion","length",true,0,0]
	["chat.completion","length",true,0,0]
	["chat.completion","stop",true,0,0]
	["chat.completion","tool_calls",true,0,0]
	EOF
	test_cmp expect actual &&
	sed -n 4p chat.jsonl | jq -c ".choices[0].message.content" >answers &&
	sed -n 5p chat.jsonl | jq -c ".choices[0].message.tool_calls[0].function.arguments" >>answers &&
	valid schema.json answers &&
	ocall 400 cbad2.jsonl POST /chat/completions -d "{\"model\":\"gpt-4.1-mini\",\"messages\":[]}" &&
	ocall 400 cbad2.jsonl POST /chat/completions -d "{\"messages\":[{\"role\":\"user\",\"content\":\"x\"}]}" &&
	ocall 400 cbad2.jsonl POST /chat/completions -d "{\"model\":\"gpt-4.1-mini\",\"max_completion_tokens\":0,\"messages\":[{\"role\":\"user\",\"content\":\"x\"}]}" &&
	jq -r .error.param cbad2.jsonl >actual &&
	printf "%s\n" messages model max_completion_tokens >expect &&
	test_cmp expect actual &&
	ocall 404 m404.jsonl POST /chat/completions -d "{\"model\":\"gpt-9\",\"messages\":[{\"role\":\"user\",\"content\":\"x\"}]}" &&
	test "$(jq -r .error.code m404.jsonl)" = model_not_found &&
	ocheck ErrorResponse cbad2.jsonl m404.jsonl
'

test_expect_success 'sync embeddings: the same text the same vector, another text another; dimensions; base64' '
	ocall 200 emb.jsonl POST /embeddings -d "{\"model\":\"text-embedding-3-small\",\"input\":[\"a cat\",\"a dog\",\"a cat\"]}" &&
	ocall 200 emb.jsonl POST /embeddings -d "{\"model\":\"text-embedding-3-small\",\"input\":\"a cat\"}" &&
	ocall 200 emb.jsonl POST /embeddings -d "{\"model\":\"text-embedding-3-small\",\"input\":\"a cat\",\"dimensions\":3}" &&
	ocall 200 b64.jsonl POST /embeddings -d "{\"model\":\"text-embedding-3-small\",\"input\":\"a cat\",\"encoding_format\":\"base64\"}" &&
	ocheck CreateEmbeddingResponse emb.jsonl &&
	sed -n 1p emb.jsonl | jq -c "[.data[].index], (.data[0].embedding == .data[2].embedding), (.data[0].embedding == .data[1].embedding), (.data[0].embedding | length), .usage" >actual &&
	printf "%s\n" "[0,1,2]" true false 8 "{\"prompt_tokens\":6,\"total_tokens\":6}" >expect &&
	test_cmp expect actual &&
	test "$(sed -n 1p emb.jsonl | jq -c .data[0].embedding)" = "$(sed -n 2p emb.jsonl | jq -c .data[0].embedding)" &&
	test "$(sed -n 3p emb.jsonl | jq ".data[0].embedding | length")" = 3 &&
	test "$(sed -n 1p emb.jsonl | jq "[.data[0].embedding[] | . * .] | add | . * 1000 | round")" = 1000 &&
	jq -r ".data[0].embedding" b64.jsonl | base64 -d | od -An -f -v | tr -s " " "\n" | sed "/^$/d" >floats &&
	test_lines 8 floats &&
	ocall 400 ebad.jsonl POST /embeddings -d "{\"model\":\"text-embedding-3-small\",\"input\":[1,2]}" &&
	ocall 400 ebad.jsonl POST /embeddings -d "{\"model\":\"text-embedding-3-small\",\"input\":\"x\",\"dimensions\":0}" &&
	ocheck ErrorResponse ebad.jsonl
'

test_expect_success 'an embeddings batch: a vector a line' '
	for i in 1 2 3; do
		printf "{\"custom_id\":\"e-%s\",\"method\":\"POST\",\"url\":\"/v1/embeddings\",\"body\":{\"model\":\"text-embedding-3-small\",\"input\":\"text %s\"}}\n" $i $i || exit 1
	done >emb-in.jsonl &&
	: >batches.jsonl &&
	id=$(create emb-in.jsonl /v1/embeddings) &&
	wait_for status_is "$id" completed &&
	oapi GET "/files/$(oapi GET "/batches/$id" | jq -r .output_file_id)/content" >emb-out.jsonl &&
	ocheck BatchRequestOutput emb-out.jsonl &&
	jq -c .response.body emb-out.jsonl | ocheck CreateEmbeddingResponse &&
	jq -c "[.custom_id, (.response.body.data[0].embedding | length)]" emb-out.jsonl >actual &&
	printf "%s\n" "[\"e-1\",8]" "[\"e-2\",8]" "[\"e-3\",8]" >expect &&
	test_cmp expect actual
'

test_expect_success 'faults: taken500 and drop on ocreate create the batch; cut on ocontent cuts the download; a status on chat' '
	before=$(mock_stat creates) &&
	f=$(jq -r .id got.jsonl) &&
	mock_fault "ocreate:taken500" &&
	ocall 500 t500.jsonl POST /batches -d "{\"input_file_id\":\"$f\",\"endpoint\":\"/v1/chat/completions\",\"completion_window\":\"24h\",\"metadata\":{\"tag\":\"ambiguous\"}}" &&
	ocheck ErrorResponse t500.jsonl &&
	test "$(mock_stat creates)" = $((before + 1)) &&
	oapi GET "/batches?limit=1" | jq -r ".data[0].metadata.tag" >actual &&
	echo ambiguous >expect && test_cmp expect actual &&
	mock_fault "ocreate:drop" &&
	test_expect_code 52 oapi POST /batches -d "{\"input_file_id\":\"$f\",\"endpoint\":\"/v1/chat/completions\",\"completion_window\":\"24h\",\"metadata\":{\"tag\":\"dropped\"}}" 2>err &&
	test "$(mock_stat creates)" = $((before + 2)) &&
	oapi GET "/batches?limit=1" | jq -r ".data[0].metadata.tag" >actual &&
	echo dropped >expect && test_cmp expect actual &&
	out=$(jq -r .output_file_id done.jsonl) &&
	oapi GET "/files/$out/content" >whole &&
	mock_fault "ocontent:cut:100" &&
	test_expect_code 18 oapi GET "/files/$out/content" -o part 2>err &&
	test "$(wc -c <part)" = 100 &&
	mock_fault "chat:429:3" &&
	code=$(oapi POST /chat/completions -d "$(sed -n 1p bodies)" -D hdr -o body -w "%{http_code}") &&
	test "$code" = 429 &&
	test_grep "^retry-after: 3" hdr &&
	echo >>body && ocheck ErrorResponse body
'

test_done
