#!/bin/sh
# bt-wait polls so that an ended batch is seen a small part of the time
# waited late: a tenth of it, at least a second apart (or --interval).
. "${0%/*}/lib.sh"

if [ "${BT_VALGRIND:-}" = 1 ]; then
	test_skip 'the lag and the polls' 'timing, under valgrind'
	test_done
fi
mock_start --processing-time 4 || exit 1
now() { date +%s.%N; }

test_expect_success 'a batch that ends at 4 s is seen within about a second (2.5 s allowed; 1, 2, 4 s polling took 3)' '
	printf "{\"custom_id\":\"a\",\"params\":{\"model\":\"m\",\"max_tokens\":5,\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}]}}\n" |
		bt-submit >batch &&
	bt-wait <batch >ended && seen=$(now) &&
	ended=$(jq -r ".ended_at | sub(\"\\\\.[0-9]+Z\$\"; \"Z\") | fromdate" ended) &&
	frac=$(jq -r ".ended_at | capture(\"(?<f>\\\\.[0-9]+)Z\$\").f" ended) &&
	perl -e "my \$lag = $seen - ($ended + $frac); print qq(lag \$lag\n); exit !(\$lag < 2.5)"
'

test_expect_success 'polls come a second apart while the batch is young, not 1, 2, 4 s' '
	before=$(curl -sS "$MOCK_URL/_mock/stats" | jq .http) &&
	printf "{\"custom_id\":\"b\",\"params\":{\"model\":\"m\",\"max_tokens\":5,\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}]}}\n" |
		bt-submit >batch2 &&
	bt-wait <batch2 >/dev/null &&
	after=$(curl -sS "$MOCK_URL/_mock/stats" | jq .http) &&
	polls=$((after - before - 2)) &&
	echo "polls $polls" && test $polls -ge 5 && test $polls -le 7
'

test_done
