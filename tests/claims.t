#!/bin/sh
# Every batch bt-submit makes is claimed, and bt-fetch lets out its results
# only when they are its chunk's: the tag of the first request read back,
# and every custom_id the chunk's (bt.7, RECONCILIATION).
. "${0%/*}/lib.sh"

mock_start --processing-time 0.2 || exit 1
req() { perl -e 'print qq({"custom_id":"'$1'$_","params":{"model":"claude-haiku-4-5","max_tokens":20,"messages":[{"role":"user","content":"say '$1' $_"}]}}\n) for 1..'$2; }

test_expect_success 'the first request goes under a tag; bt-fetch writes it back under its own custom_id' '
	req a 3 >a.req &&
	bt-submit <a.req >b &&
	id=$(jq -r .id b) &&
	bt-wait <b >ended &&
	api GET /v1/messages/batches/$id/results >raw &&
	jq -r .custom_id raw | sort >raw.ids &&
	grep -E "^a1-bt[0-9a-f]{16}$" raw.ids &&
	bt-fetch <ended >res &&
	jq -r .custom_id res | sort >got && printf "a1\na2\na3\n" >want && test_cmp want got &&
	jq -r "select(.custom_id == \"a1\") | .result.message.content[0].text" res >t &&
	echo "say a 1" >want && test_cmp want t &&
	ls "$XDG_STATE_HOME/bt/claims/$id"/*.json >/dev/null
'

test_expect_success 'a made batch whose results are not its chunk'"'"'s (a server that reused an id): exit 1, nothing written' '
	req c 2 >c.req &&
	bt-submit <c.req >b &&
	id=$(jq -r .id b) &&
	f=$(ls "$XDG_STATE_HOME/bt/claims/$id"/*.ids) &&
	printf "x1\nx2\n" >"$f" &&
	bt-wait <b >ended &&
	test_expect_code 1 bt-fetch <ended >res 2>err &&
	test_must_be_empty res &&
	test_grep "result line 1: custom_id \"c[12](-bt[0-9a-f]{16})?\" is not one of its chunk.s \(is this the server it was sent to\?\): none after it is written" err
'

test_expect_success 'a made batch whose results repeat a line: each written once, exit 1, said' '
	req e 4 >e.req &&
	bt-submit <e.req >b &&
	bt-wait <b >ended &&
	mock_fault "results:twice*1" &&
	test_expect_code 1 bt-fetch <ended >res 2>err &&
	jq -r .custom_id res | sort >got && printf "e1\ne2\ne3\ne4\n" >want && test_cmp want got &&
	test_grep "the results repeat 1 custom_id \(each was written once\)" err &&
	test "$(mock_stat faults)" = 0
'

test_expect_success 'a made batch whose download is cut after its tagged first line: taken again, each line once, the first under its own custom_id' '
	req f 40 >f.req &&
	bt-submit <f.req >b &&
	bt-wait <b >ended &&
	id=$(jq -r .id b) &&
	api GET /v1/messages/batches/$id/results >raw &&
	at=$(grep -n "\"custom_id\":\"f1-bt" raw | cut -d: -f1) &&
	test -n "$at" &&
	cut=$(( $(head -n "$at" raw | wc -c) + 10 )) &&
	total=$(wc -c <raw) &&
	{ [ "$cut" -lt "$total" ] || cut=$((total - 10)); } &&
	mock_fault "results:cut:$cut*1" &&
	bt-fetch <ended >res 2>err &&
	test "$(mock_stat faults)" = 0 &&
	test_grep "retrying" err &&
	jq -r .custom_id res | sort >got &&
	perl -e "print qq(f\$_\n) for 1..40" | sort >want && test_cmp want got
'

test_expect_success 'a batch nobody claims (another tool'"'"'s): its results as they are' '
	req d 2 | perl -e '"'"'print q({"requests":[), join(",", map { chomp; $_ } <STDIN>), q(]})'"'"' >d.json &&
	api POST /v1/messages/batches -H "content-type: application/json" --data-binary @d.json >b &&
	bt-wait <b | bt-fetch >res &&
	jq -r .custom_id res | sort >got && printf "d1\nd2\n" >want && test_cmp want got
'

test_done
