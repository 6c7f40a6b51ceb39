#!/bin/sh
# bt-wait: batches in, ended batches out, each the moment it ends.
. "${0%/*}/lib.sh"

# create [N]: make a batch of N requests (default 1); the object on stdout
create() {
	perl -e 'print "{\"requests\":[", join(",", map {
		"{\"custom_id\":\"r$_\",\"params\":{\"model\":\"m\",\"max_tokens\":5,\"messages\":[{\"role\":\"user\",\"content\":\"hi $_\"}]}}"
		} 1..$ARGV[0]), "]}"' "${1:-1}" >.body &&
	api POST /v1/messages/batches --data-binary @.body -f
}
now() { date +%s.%N; }
# took MIN MAX START END: MIN <= END - START <= MAX seconds
took() {
	perl -e 'my $d = $ARGV[3] - $ARGV[2]; exit 0 if $d >= $ARGV[0] && $d <= $ARGV[1];
		print "took ${d}s, wanted $ARGV[0] to $ARGV[1]\n"; exit 1' "$@"
}

mock_start --processing-time 1 || exit 1

test_expect_success 'a batch is printed when it ends, and not before' '
	create 3 >b && jq -r .id b >expect &&
	start=$(now) && bt-wait "$(cat expect)" >out 2>err && end=$(now) &&
	jq -r .id out >actual && test_cmp expect actual &&
	took 0.8 3.5 "$start" "$end" &&
	test_must_be_empty err
'

test_expect_success 'the fresh object: ended, counts published, results_url' '
	jq -c "[.processing_status, .request_counts, (.results_url != null)]" out >actual &&
	echo "[\"ended\",{\"processing\":0,\"succeeded\":3,\"errored\":0,\"canceled\":0,\"expired\":0},true]" >expect &&
	test_cmp expect actual &&
	api GET "/v1/messages/batches/$(jq -r .id b)" >fresh && echo >>fresh &&
	test_cmp fresh out
'

test_expect_success 'objects and bare ids on stdin, both accepted' '
	create >b1 && create >b2 &&
	{ cat b1; echo; jq -r .id b2; } >in &&
	bt-wait <in >out &&
	jq -r .id out | sort >actual && jq -r .id b1 b2 | sort >expect &&
	test_cmp expect actual &&
	jq -r .processing_status out >actual && printf "ended\nended\n" >expect &&
	test_cmp expect actual
'

test_expect_success 'an ended object on input is fetched again: the fresh one is printed' '
	jq -c ".request_counts.succeeded = 99 | .processing_status = \"ended\"" b1 >stale &&
	bt-wait <stale >out &&
	jq -c .request_counts.succeeded out >actual && echo 1 >expect &&
	test_cmp expect actual
'

test_expect_success 'a duplicated batch is waited for once and printed once' '
	id=$(jq -r .id b1) &&
	{ echo "$id"; cat b1; echo; echo "  $id  "; } >in &&
	bt-wait <in >out &&
	test_lines 1 out && test "$(jq -r .id out)" = "$id"
'

if [ "${BT_VALGRIND:-}" = 1 ]; then
	test_skip 'stdin is streamed: a batch is printed before the next line is read' 'timing, distorted by valgrind'
else
test_expect_success 'stdin is streamed: a batch is printed before the next line is read' '
	create >s1 && sleep 1.2 && create >s2 &&
	{ jq -r .id s1; sleep 2; now >t2; jq -r .id s2; } |
	bt-wait --interval 0.2 | while read -r line; do echo "$(now) $line"; done >out &&
	test_lines 2 out &&
	cut -d" " -f2- out | jq -r .id >actual && jq -r .id s1 s2 >expect &&
	test_cmp expect actual &&
	first=$(head -n 1 out | cut -d" " -f1) &&
	took 0.5 100 "$first" "$(cat t2)"
'
fi

test_expect_success 'progress: quiet without --progress; one line per change with it' '
	create 2 >p1 && create >p2 &&
	jq -r .id p1 p2 >in &&
	bt-wait <in >out 2>err && test_lines 2 out &&
	test_must_be_empty err &&
	bt-wait --progress <in >out 2>err &&
	test_grep "^bt-wait: 2/2 batches ended; requests: 0 processing, 3 succeeded, 0 errored, 0 canceled, 0 expired; [0-9]+s$" err &&
	test_must_fail grep -E -v "^bt-wait: [0-2]/2 batches ended; requests: [0-9]+ processing, [0-9]+ succeeded, 0 errored, 0 canceled, 0 expired; [0-9]+s$" err &&
	test "$(sort err | uniq -d | wc -l)" -eq 0
'

if [ "${BT_VALGRIND:-}" = 1 ]; then
	test_skip 'progress while waiting: processing counts, then the end' 'timing, distorted by valgrind'
else
test_expect_success 'progress while waiting: processing counts, then the end' '
	create 4 >q && jq -r .id q >in &&
	bt-wait --progress --interval 0.2 <in >out 2>err &&
	test_grep "^bt-wait: 0/1 batches ended; requests: 4 processing, 0 succeeded" err &&
	tail -n 1 err | test_grep "^bt-wait: 1/1 batches ended; requests: 0 processing, 4 succeeded" -
'
fi

test_expect_success 'killed and started again on the same input: the same batches' '
	for i in 1 2 3; do create || exit 1; done | jq -r .id >in &&
	{ bt-wait <in >out1 & pid=$!; } &&
	sleep 0.3 && kill $pid && { wait $pid; true; } && test_must_be_empty out1 &&
	bt-wait <in >out2 && jq -r .id out2 | sort >actual &&
	sort in >expect && test_cmp expect actual &&
	bt-wait <in >out3 && jq -r .id out3 | sort >actual && test_cmp expect actual
'

# batches of 8 s made 1 s apart: they end 1 s apart, after the last is
# made, however slow the machine (0.4 s apart, of 3 s, were not beside
# another make check)
mock_stop
mock_start --processing-time 8 || exit 1

if [ "${BT_VALGRIND:-}" = 1 ]; then
	test_skip 'several batches at once, printed in the order they end' 'timing, distorted by valgrind'
else
test_expect_success 'several batches at once, printed in the order they end' '
	for i in 1 2 3 4 5; do create >c$i && sleep 1 || exit 1; done &&
	for i in 5 4 3 2 1; do jq -r .id c$i; done >in &&
	start=$(now) && bt-wait --interval 0.2 <in >out && end=$(now) &&
	jq -r .id out >actual && tac in >expect && test_cmp expect actual &&
	took 0.5 10 "$start" "$end"
'
fi

mock_start --processing-time 3 || exit 1

test_expect_success 'no busy loop: a handful of GETs while waiting' '
	create >l && before=$(mock_stat http) &&
	bt-wait "$(jq -r .id l)" >out &&
	test_lines 1 out &&
	n=$(( $(mock_stat http) - before )) &&
	test $n -ge 2 && test $n -le 5
'

if [ "${BT_VALGRIND:-}" = 1 ]; then
	test_skip 'no busy loop: little CPU time while waiting' 'valgrind'
else
test_expect_success 'no busy loop: little CPU time while waiting' '
	create >l &&
	perl -e "system(@ARGV) == 0 or exit 1; my @t = times; print \$t[2] + \$t[3], qq(\n)" \
		bt-wait "$(jq -r .id l)" >cpu 2>/dev/null &&
	perl -ne "exit(\$_ < 0.2 ? 0 : 1)" cpu
'
fi

test_expect_success 'a closed pipe ends it quietly' '
	for i in 1 2; do create || exit 1; done | jq -r .id >in &&
	{ bt-wait <in 2>err; echo $? >st; } | head -n 1 >out &&
	test_lines 1 out && test_must_be_empty err
'

if command -v script >/dev/null 2>&1; then
test_expect_success 'progress on a terminal: one line redrawn in place, ended by a newline' '
	create >t && id=$(jq -r .id t) &&
	script -qec "bt-wait $id >out" /dev/null >tty &&
	test_lines 1 out &&
	tr "\r" "\n" <tty | test_grep "^bt-wait: 0/1 batches ended; requests: 1 processing, 0 succeeded, 0 errored, 0 canceled, 0 expired; [0-9]s" - &&
	tr "\r" "\n" <tty | test_grep "^bt-wait: 1/1 batches ended; requests: 0 processing, 1 succeeded" - &&
	test "$(tr -cd "\n" <tty | wc -c)" -eq 1 &&
	test "$(tr -cd "\r" <tty | wc -c)" -ge 3
'
else
	test_skip 'progress on a terminal' 'no script(1)'
fi

test_done
