#!/bin/sh
# Waiting costs no CPU (issue 18 §1): a bt-wait of several seconds on a
# batch still processing, and a bt-send held back by --rpm, use under 2%
# of their wall time in user and system CPU.  Before the engine slept
# while nothing was in flight, both spun a whole core.
. "${0%/*}/lib.sh"

if [ "${BT_VALGRIND:-}" = 1 ] || [ "${BT_ASAN:-}" = 1 ]; then
	test_skip 'waiting costs no CPU' 'valgrind or ASan itself costs the CPU measured'
	test_done
fi

# cpu FILE CMD...: run CMD; FILE gets "WALL CPU" in seconds (CPU: user +
# system of CMD and its children, by times(2)); CMD's exit status.
cpu() {
	_f=$1
	shift
	perl -MTime::HiRes=time -e '
		my $f = shift; my $t0 = time; system(@ARGV); my $st = $?;
		my $w = time - $t0; my @t = times;
		open my $o, ">", $f or die "$f: $!";
		printf $o "%.3f %.3f\n", $w, $t[2] + $t[3];
		exit($st == -1 || $st & 127 ? 126 : $st >> 8)' "$_f" "$@"
}
# under FILE PERCENT: the CPU in FILE is under PERCENT of its wall time
under() {
	perl -e 'open my $i, "<", $ARGV[0] or die; my ($w, $c) = split " ", <$i>;
		printf "wall %.2fs, cpu %.3fs (%.2f%%)\n", $w, $c, 100 * $c / $w;
		exit !($c < $ARGV[1] / 100 * $w)' "$@"
}

mock_start --processing-time 10 || exit 1

test_expect_success 'a bt-wait and a paced bt-send, side by side' '
	api POST /v1/messages/batches -f --data-binary \
		"{\"requests\":[{\"custom_id\":\"a\",\"params\":{\"model\":\"claude-haiku-4-5\",\"max_tokens\":5,\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}]}}]}" >batch &&
	perl -e "print qq({\"custom_id\":\"r\$_\",\"params\":{\"model\":\"claude-haiku-4-5\",\"max_tokens\":5,\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}]}}\n) for 1..13" >req.jsonl &&
	# --rpm 12: twelve go at once, the thirteenth 5 s later
	{ cpu send.cpu bt-send --rpm 12 req.jsonl >sent 2>send.err & } &&
	cpu wait.cpu bt-wait "$(jq -r .id batch)" >ended 2>wait.err &&
	wait $! &&
	test_lines 1 ended && test_lines 13 sent &&
	test_must_be_empty wait.err && test_must_be_empty send.err
'

test_expect_success 'bt-wait: under 2% of its wall time in CPU' '
	perl -e "exit !((split q( ), <STDIN>)[0] >= 5)" <wait.cpu &&
	under wait.cpu 2
'

test_expect_success 'bt-send --rpm: under 2% of its wall time in CPU' '
	perl -e "exit !((split q( ), <STDIN>)[0] >= 4)" <send.cpu &&
	under send.cpu 2
'

test_done
