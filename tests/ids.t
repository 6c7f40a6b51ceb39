#!/bin/sh
# Numbered ids carry a fingerprint of their record, so an edited records
# file never joins a record to another's answer; results from before
# still join; results that match no record are a loud exit 3; and every
# reader gives a result line one verdict (issue 17 §2, §5).
. "${0%/*}/lib.sh"

mock_start || exit 1
perl -e 'print qq({"text":"record $_"}\n) for 1..10' >ten.jsonl

test_expect_success 'a line deleted between bt-format and bt-join: the records after it come out missing, never with another'"'"'s answer' '
	bt-format -m claude-haiku-4-5 -p .text ten.jsonl | bt-send >res &&
	sed 3d ten.jsonl >e.jsonl &&
	test_expect_code 3 bt-join e.jsonl <res >out 2>err &&
	jq -r "[.text, .status, (.response // \"-\")] | @tsv" out >actual &&
	cat >expect <<-\EXP &&
	record 1	succeeded	record 1
	record 2	succeeded	record 2
	record 4	missing	-
	record 5	missing	-
	record 6	missing	-
	record 7	missing	-
	record 8	missing	-
	record 9	missing	-
	record 10	missing	-
	EXP
	test_cmp expect actual &&
	test_grep "8 of 10 results match no record" err
'

test_expect_success 'a record edited in place: missing, not the old answer' '
	sed "s/record 5/record five/" ten.jsonl >f.jsonl &&
	bt-join f.jsonl <res >out 2>err &&
	jq -r "select(.status != \"succeeded\") | [.text, .status] | @tsv" out >actual &&
	printf "record five\tmissing\n" >expect &&
	test_cmp expect actual
'

test_expect_success 'results made before fingerprints (bare numbers) still join, with a warning' '
	jq -c ".custom_id |= sub(\"-[0-9a-f]{8}$\"; \"\")" res >old.res &&
	jq -r .custom_id old.res | sort -n | head -n 3 >ids && printf "1\n2\n3\n" >expect && test_cmp expect ids &&
	bt-join ten.jsonl <old.res >out 2>err &&
	jq -r "select(.response != .text) | .text" out >wrong && test_must_be_empty wrong &&
	test_lines 10 out &&
	test_grep "10 records joined by a bare number: results made before ids carried a fingerprint" err
'

test_expect_success 'a records file with a UTF-8 byte order mark: read, and the same ids' '
	printf "\357\273\277" >bom.jsonl && cat ten.jsonl >>bom.jsonl &&
	bt-join bom.jsonl <res >out 2>err &&
	test_lines 10 out &&
	jq -r "select(.status != \"succeeded\") | .text" out >bad && test_must_be_empty bad
'

test_expect_success '--id forgotten at bt-join: exit 3, and what is likely wrong' '
	perl -e "print qq({\"id\":\"k\$_\",\"text\":\"t \$_\"}\n) for 1..4" >k.jsonl &&
	bt-format -m claude-haiku-4-5 --id .id -p .text k.jsonl | bt-send >kres &&
	test_expect_code 3 bt-join k.jsonl <kres >out 2>err &&
	test_grep "^bt-join: 4 of 4 results match no record: are these the records they were made from, and were they made without --id\\?$" err &&
	bt-join --id .id k.jsonl <kres >out 2>err &&
	test_must_be_empty err
'

test_expect_success 'an escaped custom_id ("a\u0062"): one verdict in bt-join, bt-retry and bt-cost' '
	echo "{\"custom_id\":\"ab\",\"params\":{\"model\":\"claude-haiku-4-5\",\"max_tokens\":5,\"messages\":[{\"role\":\"user\",\"content\":\"x\"}]}}" >ab.req &&
	echo "{\"id\":\"ab\",\"text\":\"x\"}" >ab.jsonl &&
	bt-send <ab.req | sed "s/\"custom_id\":\"ab\"/\"custom_id\":\"a\\\\u0062\"/" >ab.res &&
	grep -F "a\\u0062" ab.res &&
	bt-join --id .id ab.jsonl <ab.res >out &&
	test "$(jq -r .status out)" = succeeded &&
	bt-retry ab.req <ab.res >again && test_must_be_empty again &&
	bt-cost <ab.res >cost && test -s cost
'

test_done
