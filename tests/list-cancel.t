#!/bin/sh
# bt-list: the workspace's batches, newest first, every page.
# bt-cancel: cancel batches, or delete ended ones.
. "${0%/*}/lib.sh"

create() {
	api POST /v1/messages/batches -f --data-binary \
		'{"requests":[{"custom_id":"a","params":{"model":"m","max_tokens":5,"messages":[{"role":"user","content":"hi"}]}},{"custom_id":"b","params":{"model":"m","max_tokens":5,"messages":[{"role":"user","content":"ho"}]}}]}'
}

mock_start --processing-time 60 --cancel-time 4 || exit 1

test_expect_success 'bt-list: an empty workspace: no output, exit 0' '
	bt-list >out 2>err &&
	test_must_be_empty out && test_must_be_empty err
'

for i in 1 2 3 4 5; do create >b$i || exit 1; done
for i in 5 4 3 2 1; do jq -r .id b$i; done >newest

test_expect_success 'bt-list: newest first, the API objects' '
	bt-list >out &&
	jq -r .id out >actual && test_cmp newest actual &&
	api GET "/v1/messages/batches/$(jq -r .id b5)" >first && echo >>first &&
	head -n 1 out >actual && test_cmp first actual
'

test_expect_success 'bt-list: one GET when one page holds them all' '
	before=$(mock_stat http) && bt-list >out && test $(( $(mock_stat http) - before )) -eq 1
'

test_expect_success 'bt-list --page-size 2: follows the cursor over three pages' '
	before=$(mock_stat http) &&
	bt-list --page-size 2 >out &&
	test $(( $(mock_stat http) - before )) -eq 3 &&
	jq -r .id out >actual && test_cmp newest actual
'

test_expect_success 'bt-list -n: the newest N, fetching no more than needed' '
	before=$(mock_stat http) &&
	bt-list -n 2 >out &&
	test $(( $(mock_stat http) - before )) -eq 1 &&
	jq -r .id out >actual && head -n 2 newest >expect && test_cmp expect actual &&
	bt-list -n 3 --page-size 2 >out &&
	jq -r .id out >actual && head -n 3 newest >expect && test_cmp expect actual &&
	bt-list -n 99 >out && jq -r .id out >actual && test_cmp newest actual
'

test_expect_success 'bt-list: a transient error on a page is retried' '
	mock_fault "list:529*1" &&
	bt-list --page-size 2 >out &&
	jq -r .id out >actual && test_cmp newest actual
'

test_expect_success 'bt-list: an API error: exit 1 with its message' '
	mock_fault "list:403*1" &&
	test_expect_code 1 bt-list >out 2>err &&
	test_must_be_empty out &&
	test_grep "^bt-list: permission_error: .*\\(request-id req_[A-Za-z0-9]+\\)$" err
'

test_expect_success 'bt-list: bad options: exit 2' '
	test_expect_code 2 bt-list --status done 2>err &&
	test_grep "^bt-list: --status: .done. is not in_progress, canceling or ended$" err &&
	test_expect_code 2 bt-list -n 0 2>err &&
	test_expect_code 2 bt-list --page-size 1001 2>err &&
	test_expect_code 2 bt-list extra 2>err &&
	(unset ANTHROPIC_API_KEY; test_expect_code 2 bt-list 2>err) &&
	test_grep "no API key" err
'

test_expect_success 'bt-cancel: cancel gives the canceling batch' '
	jq -r .id b1 >id1 && jq -r .id b2 >id2 &&
	bt-cancel "$(cat id1)" >out &&
	jq -c "[.id, .processing_status, (.cancel_initiated_at != null)]" out >actual &&
	echo "[\"$(cat id1)\",\"canceling\",true]" >expect && test_cmp expect actual
'

test_expect_success 'bt-list --status canceling and in_progress' '
	bt-list --status canceling >out && jq -r .id out >actual && test_cmp id1 actual &&
	bt-list --status in_progress >out && jq -r .id out >actual &&
	grep -v "$(cat id1)" newest >expect && test_cmp expect actual &&
	bt-list --status in_progress -n 2 --page-size 1 >out && test_lines 2 out
'

test_expect_success 'bt-cancel from stdin (objects and ids); bt-wait sees it end canceled' '
	{ cat b2; echo; } | bt-cancel >out &&
	test "$(jq -r .processing_status out)" = canceling &&
	bt-wait --interval 0.2 "$(cat id1)" "$(cat id2)" >out &&
	jq -c "[.processing_status, .request_counts.canceled]" out >actual &&
	printf "%s\n" "[\"ended\",2]" "[\"ended\",2]" >expect && test_cmp expect actual &&
	bt-list --status ended >out && jq -r .id out | sort >actual &&
	sort id1 id2 >expect && test_cmp expect actual
'

test_expect_success 'bt-cancel of an ended batch: exit 1 with the API message' '
	test_expect_code 1 bt-cancel "$(cat id1)" >out 2>err &&
	test_must_be_empty out &&
	test_grep "^bt-cancel: $(cat id1): invalid_request_error: .*\\(request-id req_" err
'

test_expect_success 'bt-cancel --delete of an in_progress batch: exit 1, the others done' '
	id3=$(jq -r .id b3) &&
	test_expect_code 1 bt-cancel --delete "$id3" "$(cat id1)" >out 2>err &&
	test_lines 1 err &&
	test_grep "^bt-cancel: $id3: invalid_request_error: .*\\(request-id req_" err &&
	jq -c . out >actual &&
	echo "{\"id\":\"$(cat id1)\",\"type\":\"message_batch_deleted\"}" >expect &&
	test_cmp expect actual &&
	api GET "/v1/messages/batches/$(cat id1)" -o body -w "%{http_code}\n" >code &&
	echo 404 >expect && test_cmp expect code
'

test_expect_success 'bt-cancel of an unknown id: exit 1 with not_found_error' '
	test_expect_code 1 bt-cancel msgbatch_nosuch >out 2>err &&
	test_must_be_empty out &&
	test_grep "^bt-cancel: msgbatch_nosuch: not_found_error: " err
'

test_expect_success 'bt-cancel: a bad line on stdin ends the input: exit 2 naming stdin:LINE, the lines before it done' '
	{ echo; cat id2; echo "bad id"; cat id1; } | test_expect_code 2 bt-cancel --delete >out 2>err &&
	echo "bt-cancel: stdin:3: not a batch id or a batch object: '"'"'bad id'"'"'" >expect &&
	test_cmp expect err &&
	test "$(jq -r .type out)" = message_batch_deleted &&
	test "$(jq -r .id out)" = "$(cat id2)"
'

test_expect_success 'bt-cancel: a bad argument: exit 2, nothing sent' '
	before=$(mock_stat http) &&
	test_expect_code 2 bt-cancel "$(jq -r .id b4)" "{}" >out 2>err &&
	test_must_be_empty out &&
	test $(mock_stat http) -eq $before &&
	(unset ANTHROPIC_API_KEY; test_expect_code 2 bt-cancel x 2>err) &&
	test_grep "no API key" err
'

test_done
